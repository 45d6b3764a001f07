/* xfer.h -- one transfer, as every backend runs it.
 *
 * A struct flags_xfer owns one libcurl easy handle and the buffer its body is
 * received into. A backend keeps a few of them (one per pool worker, or a free
 * list in the event loop) and reuses them: start() points the handle at a
 * request, the backend runs the handle however it schedules (curl_easy_perform,
 * or a multi handle), then finish() classifies the outcome, saves the file on
 * HTTP 200 and fills a struct flags_result. Because the options, the
 * classification and the saving live here, both backends do exactly the same
 * work per request.
 *
 * Threads: distinct xfers may be used concurrently from distinct threads; one
 * xfer must not. curl_global_init must have run before flags_xfer_init.
 */
#ifndef FLAGS_XFER_H
#define FLAGS_XFER_H

#include <curl/curl.h>
#include <stddef.h>

#include "flags.h"

/* Largest body accepted; a larger one ends the transfer as an error. */
#define FLAGS_XFER_MAX_BODY (16u * 1024u * 1024u)

struct flags_xfer {
    CURL *easy;         /* owned; CURLOPT_PRIVATE points back to this xfer */
    size_t index;       /* request index of the current transfer */
    char *url;          /* owned buffer for the current URL */
    char *body;         /* owned body buffer, grown as needed, reused */
    size_t body_len;    /* bytes received for the current transfer */
    size_t body_cap;    /* allocated size of body */
    bool body_overflow; /* the current body exceeded FLAGS_XFER_MAX_BODY */
    char errbuf[CURL_ERROR_SIZE];
    long pid;      /* this process, for temporary file names (no getpid per save) */
    void *backend; /* free for the backend's use (list links, owner) */
};

/* Creates x's easy handle and sets every option common to all backends:
 * HTTP/1.1, NOSIGNAL, the timeout, bounded redirects, http/https only, the
 * write and cancel callbacks, and keep-alive unless job->fresh_connect.
 * Returns 0, -ENOMEM, or -EINVAL if libcurl refused an option. On error x
 * holds nothing that needs freeing. */
int flags_xfer_init(struct flags_xfer *x, const struct flags_job *job);

/* Prepares x for request index of job: sets the URL, empties the body.
 * Returns 0 or -EINVAL if libcurl refused the URL. */
int flags_xfer_start(struct flags_xfer *x, const struct flags_job *job, size_t index);

/* Ends the current transfer of x, which libcurl finished with rc: classifies
 * it, saves DIR/CC.gif on HTTP 200 (written under a temporary name and renamed
 * only when complete; nothing is left on failure), and fills *res. */
void flags_xfer_finish(struct flags_xfer *x, const struct flags_job *job, CURLcode rc,
                       struct flags_result *res);

/* Frees what x owns. x may be zeroed or failed-to-init; safe to call twice. */
void flags_xfer_free(struct flags_xfer *x);

/* Fills *res for request index that never ran: status FLAGS_CANCELLED or
 * FLAGS_ERROR, with msg (may be NULL) as the reason. */
void flags_result_unstarted(struct flags_result *res, size_t index, enum flags_status status,
                            const char *msg);

/* Writes the URL of request index ("BASE/cc/cc.gif") into buf of size cap.
 * Returns the length, or -ENOSPC if it does not fit. */
int flags_url(char *buf, size_t cap, const struct flags_job *job, size_t index);

#endif /* FLAGS_XFER_H */
