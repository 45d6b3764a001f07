/* xfer.h -- one transfer, as every backend runs it.
 *
 * A struct flags_xfer owns one libcurl easy handle and a small write-behind
 * buffer for its body. A backend keeps a few of them (one per pool worker, or
 * a free list in the event loop) and reuses them: start() points the handle at
 * a request, the backend runs the handle however it schedules
 * (curl_easy_perform, or a multi handle), then finish() classifies the
 * outcome, saves the file on HTTP 200 and fills a struct flags_result. Because
 * the options, the classification and the saving live here, both backends do
 * exactly the same work per request.
 *
 * Memory per transfer is bounded whatever the server sends: a 200 body
 * collects in the FLAGS_XFER_BUF-byte buffer, and whatever does not fit goes
 * on to the request's temporary file in the output directory as it arrives;
 * the file is renamed to CC.gif only when the response is complete and well
 * framed, and removed on any failure. Other bodies (404, 5xx) are counted and
 * dropped. A body longer than job->max_size ends the transfer as an error.
 *
 * Threads: distinct xfers may be used concurrently from distinct threads; one
 * xfer must not. curl_global_init must have run before flags_xfer_init.
 */
#ifndef FLAGS_XFER_H
#define FLAGS_XFER_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "flags.h"

/* The write-behind buffer's largest size: a flag (a few KiB to ~25 KiB) fits,
 * so it is saved from memory by the job's saver (save.h: one open, one write,
 * one exchange). It exists only from a 200 body's first byte to the end of
 * its transfer, sized to its Content-Length when known. */
#define FLAGS_XFER_BUF (32u * 1024u)

/* libcurl's receive buffer (CURLOPT_BUFFERSIZE): libcurl 7.88 mallocs one per
 * easy handle and keeps it as long as the handle (8.7 and later lend one
 * buffer per multi handle to the transfer that is reading), so at 10,000 in
 * flight 7.88's default 16 KiB buffers alone hold 160 MiB. The size is
 * libcurl's default up to 2,560 transfers in flight, then shrinks so that the
 * buffers hold 40 MiB between them, about 4 KiB at 10,000: every backend
 * the same, and LOCAL, DELAY and ERROR (m <= 676) keep the default. */
#define FLAGS_RECV_BUF_MAX   (16u * 1024u) /* CURL_MAX_WRITE_SIZE, libcurl's default */
#define FLAGS_RECV_BUF_MIN   (4u * 1024u)
#define FLAGS_RECV_BUF_TOTAL (40u * 1024u * 1024u)

/* The receive buffer size for concur_req transfers in flight (above). */
size_t flags_recv_buf_size(unsigned concur_req);

/* Why a callback of ours stopped the current transfer (it returned an error
 * to libcurl, which then reports CURLE_WRITE_ERROR). */
enum flags_xfer_stop {
    FLAGS_XFER_RUNNING = 0,
    FLAGS_XFER_TOO_BIG,     /* the body passed max_size */
    FLAGS_XFER_CL_CONFLICT, /* two different Content-Length values */
    FLAGS_XFER_CL_INVALID,  /* a Content-Length that is not a number */
    FLAGS_XFER_CL_AND_TE,   /* Content-Length and Transfer-Encoding together */
    FLAGS_XFER_SAVE_FAILED, /* writing the temporary file failed; see save_err */
};

struct flags_xfer {
    CURL *easy;                  /* owned; CURLOPT_PRIVATE points back to this xfer */
    const struct flags_job *job; /* of the current transfer */
    size_t index;                /* request index of the current transfer */
    char *url;                   /* owned buffer for the current URL */
    char *buf;                   /* owned write-behind buffer, buf_cap bytes, or NULL */
    size_t buf_cap;              /* its size: <= FLAGS_XFER_BUF; 0 while there is none */
    size_t buf_len;              /* bytes of the current body held in buf */
    curl_off_t max_size;         /* job->max_size, or its default when that is 0 */
    curl_off_t received;         /* body bytes of the current response */
    curl_off_t content_length;   /* its Content-Length, if have_cl */
    bool have_cl;                /* the current response has a Content-Length */
    bool have_te;                /* ... a Transfer-Encoding */
    bool close_notify;           /* the TLS connection received the server's close_notify */
    bool part_exists;            /* the temporary file part_name exists */
    int part_fd;                 /* if part_exists: its descriptor, or -1 once closed */
    dev_t part_dev;              /* if part_exists: its device and inode, to check the */
    ino_t part_ino;              /* name is still the file we write before using it */
    enum flags_xfer_stop stop;   /* why our callback ended the transfer */
    int save_err;                /* FLAGS_XFER_SAVE_FAILED: the negative errno */
    char part_name[64];          /* ".CC.gif.PID.INDEX.part" in job->outdir_fd */
    char errbuf[CURL_ERROR_SIZE];
    long pid;       /* this process, for temporary file names (no getpid per save) */
    void *backend;  /* free for the backend's use (list links, owner) */
    double t_start; /* flags_now() at flags_xfer_start: libcurl's times count from about here */
};

/* Creates x's easy handle and sets every option common to all backends:
 * HTTP/1.1 (--http2: HTTP/2 and PIPEWAIT), NOSIGNAL, the timeout, bounded redirects, http/https
 * only, the size cap, the header, write and cancel callbacks, keep-alive unless job->fresh_connect,
 * and job->cacert as the only CAs (CURLOPT_CAINFO). TLS sessions are cached per easy handle
 * (libcurl's default). Returns 0, -ENOMEM, or -EINVAL if libcurl refused an option. On error x
 * holds nothing that needs freeing. */
int flags_xfer_init(struct flags_xfer *x, const struct flags_job *job);

/* CURLOPT_HTTP_VERSION for job: HTTP/1.1, or with job->http2
 * CURL_HTTP_VERSION_2TLS for https:// (h2 through ALPN) and
 * CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE for http:// (h2c). */
long flags_xfer_http_version(const struct flags_job *job);

/* Whether --http2 must be refused for base_url with the libcurl v describes
 * (curl_version_info at run time): one without HTTP/2, or h2c (http://)
 * before libcurl 8.0, whose h2c with prior knowledge fails every stream
 * after the first (curl issue #10634). Returns true with the one-line usage
 * error in msg, or false. Pure: unit-tested. */
bool flags_http2_refusal(const char *base_url, const curl_version_info_data *v, char *msg,
                         size_t cap);

/* Copies libcurl's error text into msg (of size cap) without what would
 * tell the schedulers apart: an HTTP/2 stream's number ("stream 7 was not
 * closed cleanly" reads "stream was not closed cleanly") and a trailing
 * " (err N)" after the error's name. Other text is copied as it is,
 * truncated to fit. Pure: unit-tested. */
void flags_h2_words(const char *text, char *msg, size_t cap);

/* Prepares x for request index of job: sets the URL, empties the body.
 * Returns 0 or -EINVAL if libcurl refused the URL. */
int flags_xfer_start(struct flags_xfer *x, const struct flags_job *job, size_t index);

/* Ends the current transfer of x, which libcurl finished with rc: classifies
 * it, saves DIR/CC.gif on HTTP 200 (written under a temporary name and renamed
 * only when complete; nothing is left on failure), and fills *res. A response
 * with ambiguous framing (conflicting or invalid Content-Length, or one with
 * Transfer-Encoding), a body shorter or longer than its Content-Length, or a
 * body over job->max_size (0: FLAGS_MAX_SIZE_DEFAULT) is an error, and saves
 * nothing. */
void flags_xfer_finish(struct flags_xfer *x, const struct flags_job *job, CURLcode rc,
                       struct flags_result *res);

/* The first half of flags_xfer_finish: classifies the transfer into *res and,
 * unless the body must still be saved, removes its temporary file. Returns
 * true when it is a complete, well-framed HTTP 200 (res->status FLAGS_OK for
 * now): then flags_xfer_save must follow, on any one thread, before x is
 * started again. The async loop's --save-threads hands that to a saver. */
bool flags_xfer_classify(struct flags_xfer *x, const struct flags_job *job, CURLcode rc,
                         struct flags_result *res);

/* The second half: saves DIR/CC.gif (the rest of the body, then the rename)
 * and turns *res into an error with the reason if that fails, leaving no
 * temporary file. Touches only x, the output directory and *res, so it may run
 * on another thread than the transfer did. */
void flags_xfer_save(struct flags_xfer *x, const struct flags_job *job, struct flags_result *res);

/* The end of a save made elsewhere from x's buffer (flags_asyncloop
 * --save-uring writes it through io_uring): err is 0 or the save's negative
 * errno-style code, which turns *res into an error in flags_xfer_save's
 * words (-EXDEV: the temporary file was replaced). Frees the body buffer, as
 * flags_xfer_save does. */
void flags_xfer_saved(struct flags_xfer *x, const struct flags_job *job, int err,
                      struct flags_result *res);

/* THE per-request entry of every backend: if the run was interrupted, or x
 * cannot be set up (created lazily, on its first request) or pointed at
 * request index, fills *res (FLAGS_CANCELLED "interrupted", or FLAGS_ERROR
 * with the one wording every backend shares) and returns 1: report it. Else
 * returns 0 and x->easy is ready for the backend to run. */
int flags_request_begin(struct flags_xfer *x, const struct flags_job *job, size_t index,
                        struct flags_result *res);

/* The words for an HTTPS body that only the connection's close could end
 * (no Content-Length, not chunked) when the connection closed without the
 * server's TLS close_notify: it may have been cut anywhere, so it is an error
 * and nothing is saved. peers/python/flags2_common.py says the same. */
#define FLAGS_MSG_TLS_TRUNCATED                                                                    \
    "response body cut short: the TLS connection closed without close_notify"

/* What flags_tls_reason needs to know about a failed transfer. */
struct flags_tls_failure {
    CURLcode rc;        /* what libcurl returned */
    long verify;        /* CURLINFO_SSL_VERIFYRESULT: an X509_V_ERR_* value, 0 if none */
    long os_errno;      /* CURLINFO_OS_ERRNO */
    const char *errbuf; /* CURLOPT_ERRORBUFFER's text, may be empty */
    bool https;         /* the URL that failed is https:// */
    bool tcp_up;        /* the TCP connection was made (CURLINFO_LOCAL_PORT > 0) */
    bool tls_done;      /* the TLS handshake finished (CURLINFO_APPCONNECT_TIME_T > 0) */
    long timeout_ms;    /* --timeout */
};

/* The words for a TLS failure, the same in every backend (docs/client.md,
 * and peers/python/flags2_common.py says them too): writes one line into msg
 * and returns true when f is a failed certificate check or a handshake that
 * stalled, was reset or closed, or met a server that does not speak TLS.
 * Returns false (msg untouched) for anything else. Pure: unit-tested. */
bool flags_tls_reason(const struct flags_tls_failure *f, char *msg, size_t cap);

/* Reports every request from index `from` to job->requests - 1 as never run
 * (status, reason msg) through done: the "nothing could start" path of every
 * backend. */
void flags_fail_all(const struct flags_job *job, size_t from, enum flags_status status,
                    const char *msg, flags_done_fn done, void *arg);

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
