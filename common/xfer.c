/* xfer.c -- one transfer: easy-handle options, framing checks, the body on
 * its way to the temporary file, classification, saving. */
#define _GNU_SOURCE /* strcasestr */
#include "xfer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include "cancel.h"
#include "report.h"
#include "save.h"

#define MAX_REDIRS 5
#define URL_SUFFIX sizeof("/xx/xx.gif")
/* How many taken temporary file names part_create skips (EEXIST). */
#define PART_NAME_TRIES 1000u

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The temporary file of the current transfer, DIR/.CC.gif.PID.INDEX.part, is
 * made by part_create, grown by part_append, and ends in part_commit (renamed
 * to CC.gif) or part_remove (unlinked): no other code touches it. Its name is
 * unique to this process and request, so nothing else of ours writes it.
 *
 * The body is written only through the descriptor part_create opened, held
 * until the transfer ends, and never through the name: anyone who can write
 * to the output folder may replace the name with a symlink or another file
 * between two callbacks, and a reopen by name would follow it anywhere the
 * client can write (issue 19, case 1). The name is used twice more, to rename
 * and to unlink, and both check first that it still is the inode we wrote. */

/* True if DIR/name is the inode of x's temporary file (never following a
 * symlink). */
static bool part_is_ours(const struct flags_xfer *x, const char *name)
{
    struct stat st;

    return fstatat(x->job->outdir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
           st.st_dev == x->part_dev && st.st_ino == x->part_ino;
}

/* Creates the temporary file; the only place one is born. Its descriptor
 * (write-only) is kept in x->part_fd until part_close. Returns 0 or -errno. */
static int part_create(struct flags_xfer *x)
{
    struct stat st;
    int fd;

    /* A run killed by SIGKILL with this pid (pids repeat, in containers at
     * once) may have left this name: not ours to touch, so the next of
     * .CC.gif.PID.INDEX.K.part is taken. */
    for (unsigned k = 1;; k++) {
        fd = flags_tmp_openat(x->job->outdir_fd, x->part_name,
                              O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd >= 0)
            break;
        if (errno != EEXIST || k > PART_NAME_TRIES)
            return -errno;
        snprintf(x->part_name, sizeof(x->part_name), ".%s.gif.%ld.%zu.%u.part",
                 x->job->codes[x->index % x->job->ncodes], x->pid, x->index, k);
    }
    if (fstat(fd, &st) != 0) {
        int rc = -errno;
        (void)unlinkat(x->job->outdir_fd, x->part_name, 0); /* O_EXCL: it is ours */
        close(fd);
        return rc;
    }
    x->part_fd = fd;
    x->part_dev = st.st_dev;
    x->part_ino = st.st_ino;
    x->part_exists = true;
    return 0;
}

/* Closes the temporary file's descriptor, if open. Returns 0 or -errno. */
static int part_close(struct flags_xfer *x)
{
    int rc = 0;

    if (x->part_exists && x->part_fd >= 0) {
        if (close(x->part_fd) != 0)
            rc = -errno;
        x->part_fd = -1;
    }
    return rc;
}

/* Appends the buffered bytes, then data[0..n), to the temporary file (created
 * on the first call) and empties the buffer. Returns 0 or -errno. */
static int part_append(struct flags_xfer *x, const char *data, size_t n)
{
    int rc;

    if (!x->part_exists && (rc = part_create(x)) != 0)
        return rc;
    if (x->part_fd < 0)
        return -EBADF; /* closed: the body was already committed or failed */
    rc = write_all(x->part_fd, x->buf, x->buf_len);
    if (rc == 0)
        rc = write_all(x->part_fd, data, n);
    x->buf_len = 0;
    return rc;
}

/* Removes the temporary file, if there is one and its name is still ours
 * (best effort): whatever else took the name is not ours to delete. */
static void part_remove(struct flags_xfer *x)
{
    if (x->part_exists) {
        (void)part_close(x);
        if (part_is_ours(x, x->part_name))
            (void)unlinkat(x->job->outdir_fd, x->part_name, 0);
        x->part_exists = false;
    }
}

/* Saves the complete body as CC.gif: a buffered body through the job's saver
 * (save.h), else the buffered rest goes to the temporary file, which is then
 * renamed over the final name, so a reader sees either the old file or the
 * whole new one, never a partial one. The rename swaps in exactly the inode
 * written through part_fd or the save fails (-EXDEV, "Invalid cross-device
 * link": the name was replaced under us): the name is checked before the
 * rename, and CC.gif after it. On error the temporary file is removed (if it
 * is still ours). Returns 0 or -errno. */
static int part_commit(struct flags_xfer *x, const char *cc)
{
    char final[16];
    int rc, crc;

    snprintf(final, sizeof(final), "%s.gif", cc);
    /* A body that fit in the buffer (every flag does) goes through the
     * recycling saver; a longer one was streamed to the temporary file. */
    if (!x->part_exists && x->job->saver)
        return flags_saver_save(x->job->saver, final, x->buf, x->buf_len);
    rc = part_append(x, NULL, 0);
    if ((crc = part_close(x)) != 0 && rc == 0)
        rc = crc;
    if (rc == 0 && x->job->saver) {
        rc = flags_saver_rename(x->job->saver, x->part_name, final, x->part_dev, x->part_ino);
    } else if (rc == 0) { /* no saver (unit tests): the same checks, unserialised */
        if (!part_is_ours(x, x->part_name))
            rc = -EXDEV;
        else if (renameat(x->job->outdir_fd, x->part_name, x->job->outdir_fd, final) != 0)
            rc = -errno;
        else if (!part_is_ours(x, final))
            rc = -EXDEV;
    }
    /* After a rename the name is no longer ours, so this unlinks nothing. */
    part_remove(x);
    return rc;
}

/* The write-behind buffer lives only while a 200 body arrives and is saved:
 * made at its first byte, as large as its Content-Length when that is known
 * and fits (FLAGS_XFER_BUF otherwise), and freed when the transfer ends. A
 * transfer waiting for its response holds none, so 10,000 in flight do not
 * keep 10,000 buffers (docs/asyncloop.md, "Memory at 10,000"). Returns 0 or
 * -ENOMEM. */
static int body_buf_get(struct flags_xfer *x)
{
    size_t cap = FLAGS_XFER_BUF;

    if (x->buf)
        return 0;
    if (x->have_cl && x->content_length > 0 && x->content_length < (curl_off_t)FLAGS_XFER_BUF)
        cap = (size_t)x->content_length;
    if (!(x->buf = malloc(cap)))
        return -ENOMEM;
    x->buf_cap = cap;
    return 0;
}

static void body_buf_release(struct flags_xfer *x)
{
    free(x->buf);
    x->buf = NULL;
    x->buf_cap = 0;
    x->buf_len = 0;
}

/* The body of the current response, as it arrives. Only a 200 body is kept:
 * in the buffer while it fits, then in the temporary file. Every body counts
 * against max_size, so an endless one ends too. Returning anything but n makes
 * libcurl end the transfer with CURLE_WRITE_ERROR; x->stop says why. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    struct flags_xfer *x = userp;
    size_t n = size * nmemb;
    long status = 0;
    int rc;

    /* received <= max_size always holds, so the difference is >= 0. */
    if ((unsigned long long)n > (unsigned long long)(x->max_size - x->received)) {
        x->stop = FLAGS_XFER_TOO_BIG;
        return 0;
    }
    x->received += (curl_off_t)n;
    (void)curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200)
        return n; /* counted, not kept */
    if ((rc = body_buf_get(x)) != 0)
        goto fail;
    if (n <= x->buf_cap - x->buf_len) {
        memcpy(x->buf + x->buf_len, data, n);
        x->buf_len += n;
        return n;
    }
    if ((rc = part_append(x, data, n)) == 0)
        return n;
fail:
    x->stop = FLAGS_XFER_SAVE_FAILED;
    x->save_err = rc;
    return 0;
}

/* True if the header line [p, end) is the field `name` (which ends in ':'). */
static bool header_is(const char *p, const char *end, const char *name)
{
    size_t len = strlen(name);
    return (size_t)(end - p) >= len && strncasecmp(p, name, len) == 0;
}

/* Takes a Content-Length value [p, end): one decimal number, or a list of
 * equal ones ("42, 42", which RFC 9110 section 8.6 lets a recipient accept).
 * Returns false, with x->stop set, if it is not a number or differs from a
 * length this response already gave. */
static bool take_content_length(struct flags_xfer *x, const char *p, const char *end)
{
    for (;;) {
        curl_off_t v = 0;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p == end || *p < '0' || *p > '9') {
            x->stop = FLAGS_XFER_CL_INVALID;
            return false;
        }
        for (; p < end && *p >= '0' && *p <= '9'; p++) {
            if (v > ((curl_off_t)1 << 58)) { /* no real length is near 2^63 */
                x->stop = FLAGS_XFER_CL_INVALID;
                return false;
            }
            v = v * 10 + (*p - '0');
        }
        if (x->have_cl && v != x->content_length) {
            x->stop = FLAGS_XFER_CL_CONFLICT;
            return false;
        }
        x->have_cl = true;
        x->content_length = v;
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        if (p == end)
            return true;
        if (*p++ != ',') {
            x->stop = FLAGS_XFER_CL_INVALID;
            return false;
        }
    }
}

/* Every header line of every response (1xx, redirects, the final one, and
 * chunked trailers), one at a time. libcurl 7.88 resolves an ambiguous framing
 * silently -- the last of two different Content-Lengths wins, and chunked
 * wins over Content-Length -- so a truncated or padded body would be saved as
 * complete. Here either one ends the transfer. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *userp)
{
    struct flags_xfer *x = userp;
    size_t n = size * nmemb;
    const char *end = data + n;

    while (end > data && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (header_is(data, end, "HTTP/")) {
        /* A new response: framing and body are per response. A redirect's
         * body never reaches on_body, so nothing of it is buffered. */
        x->have_cl = x->have_te = false;
        x->received = 0;
        x->close_notify = false;
        body_buf_release(x); /* sized for the next 200 body, if any */
        part_remove(x);
        return n;
    }
    if (header_is(data, end, "Content-Length:")) {
        if (!take_content_length(x, data + strlen("Content-Length:"), end))
            return 0;
    } else if (header_is(data, end, "Transfer-Encoding:")) {
        x->have_te = true;
    }
    if (x->have_cl && x->have_te) {
        x->stop = FLAGS_XFER_CL_AND_TE;
        return 0;
    }
    return n;
}

/* True while the current response is a body that only the connection's
 * close can end: no Content-Length and no Transfer-Encoding (chunked). */
static bool close_delimited(const struct flags_xfer *x)
{
    return !x->have_cl && !x->have_te;
}

/* Notes whether the TLS connection of x (if it is one) has received the server's
 * close_notify. libcurl 7.88 with OpenSSL 3 takes a TCP close without one
 * for the end of a close-delimited body (its BIO reports no EOF, so OpenSSL
 * says SSL_ERROR_SYSCALL with no error, which libcurl reads as the end), so
 * a body cut short by anyone on the path would be complete (issue 19, case
 * 3). libcurl runs the progress callback after every read, the last one
 * included, while the connection still exists. */
static void note_close_notify(struct flags_xfer *x)
{
    struct curl_tlssessioninfo *ti = NULL;

    if (curl_easy_getinfo(x->easy, CURLINFO_TLS_SSL_PTR, &ti) != CURLE_OK || !ti ||
        ti->backend != CURLSSLBACKEND_OPENSSL || !ti->internals)
        return;
    if (SSL_get_shutdown((const SSL *)ti->internals) & SSL_RECEIVED_SHUTDOWN)
        x->close_notify = true;
}

/* Aborts a running transfer once the user interrupted the program; watches
 * for the close_notify that alone ends a close-delimited body over TLS. */
static int on_progress(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    struct flags_xfer *x = clientp;

    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    if (x->received > 0 && close_delimited(x) && !x->close_notify)
        note_close_notify(x);
    return flags_cancelled() ? 1 : 0;
}

int flags_url(char *buf, size_t cap, const struct flags_job *job, size_t index)
{
    const char *cc = job->codes[index % job->ncodes];
    char lc[3] = {(char)(cc[0] | 0x20), (char)(cc[1] | 0x20), '\0'};
    int n = snprintf(buf, cap, "%s/%s/%s.gif", job->base_url, lc, lc);
    if (n < 0 || (size_t)n >= cap)
        return -ENOSPC;
    return n;
}

size_t flags_recv_buf_size(unsigned concur_req)
{
    size_t size = FLAGS_RECV_BUF_MAX;

    if (concur_req > 0 && FLAGS_RECV_BUF_TOTAL / concur_req < size)
        size = FLAGS_RECV_BUF_TOTAL / concur_req;
    return size < FLAGS_RECV_BUF_MIN ? FLAGS_RECV_BUF_MIN : size;
}

int flags_xfer_init(struct flags_xfer *x, const struct flags_job *job)
{
    CURLcode rc = CURLE_OK;

    memset(x, 0, sizeof(*x));
    x->job = job;
    x->max_size = job->max_size > 0 ? (curl_off_t)job->max_size : FLAGS_MAX_SIZE_DEFAULT;
    x->pid = (long)getpid();
    x->url = malloc(strlen(job->base_url) + URL_SUFFIX);
    x->easy = curl_easy_init();
    if (!x->url || !x->easy) {
        flags_xfer_free(x);
        return -ENOMEM;
    }

    CURL *e = x->easy;
    /* Every option below is the same for every backend: the benchmark compares
     * scheduling only. */
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if ((rc = curl_easy_setopt(e, opt, val)) != CURLE_OK)                                      \
            goto fail;                                                                             \
    } while (0)
    SET(CURLOPT_PRIVATE, x);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_HTTP_VERSION, flags_xfer_http_version(job));
    /* --http2: a transfer waits for a connection it can multiplex on rather
     * than opening one of its own (a multi handle's; curl_easy_perform has
     * one transfer per handle, so nothing waits). */
    if (job->http2)
        SET(CURLOPT_PIPEWAIT, 1L);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 1L);
    SET(CURLOPT_MAXREDIRS, (long)MAX_REDIRS);
    SET(CURLOPT_TIMEOUT_MS, job->timeout_ms);
    SET(CURLOPT_USERAGENT, "flagbench/0.1");
    SET(CURLOPT_BUFFERSIZE, (long)flags_recv_buf_size(job->concur_req));
    SET(CURLOPT_ERRORBUFFER, x->errbuf);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, x);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, x);
    /* Refuses a body whose Content-Length is over the cap before it arrives;
     * on_body enforces the cap on bodies of unknown length. */
    SET(CURLOPT_MAXFILESIZE_LARGE, x->max_size);
    SET(CURLOPT_XFERINFOFUNCTION, on_progress);
    SET(CURLOPT_XFERINFODATA, x);
    SET(CURLOPT_NOPROGRESS, 0L);
    /* https: verification stays on (VERIFYPEER and VERIFYHOST are libcurl's
     * defaults and never turned off). --cacert replaces the system's CAs
     * entirely, as the Python peers' cafile does. */
    if (job->cacert) {
        SET(CURLOPT_CAINFO, job->cacert);
        SET(CURLOPT_CAPATH, (char *)NULL);
    }
    /* TLS sessions stay in each easy handle's own cache (libcurl's default):
     * a CURLSH sharing CURL_LOCK_DATA_SSL_SESSION across threads hands one
     * OpenSSL SSL_SESSION to handshakes on several threads, which libcurl
     * 7.88 + OpenSSL 3 race on (docs/client.md, "HTTPS"). */
    if (job->fresh_connect) {
        SET(CURLOPT_FRESH_CONNECT, 1L);
        SET(CURLOPT_FORBID_REUSE, 1L);
    }
#undef SET
    return 0;

fail:
    flags_xfer_free(x);
    return -EINVAL;
}

long flags_xfer_http_version(const struct flags_job *job)
{
    if (!job->http2)
        return (long)CURL_HTTP_VERSION_1_1;
    if (strncasecmp(job->base_url, "https://", 8) == 0)
        return (long)CURL_HTTP_VERSION_2TLS;          /* h2 if ALPN agrees; the record says */
    return (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE; /* h2c, no Upgrade round trip */
}

bool flags_http2_refusal(const char *base_url, const curl_version_info_data *v, char *msg,
                         size_t cap)
{
    if (!(v->features & CURL_VERSION_HTTP2)) {
        snprintf(msg, cap,
                 "*** Usage error: --http2 needs a libcurl with HTTP/2; libcurl %s was built "
                 "without it",
                 v->version);
        return true;
    }
    if (strncasecmp(base_url, "https://", 8) != 0 && v->version_num < 0x080000) {
        snprintf(msg, cap,
                 "*** Usage error: --http2 with an http:// URL (h2c) needs libcurl 8.0 or "
                 "later: libcurl %s breaks every h2c stream after the first (curl issue #10634)",
                 v->version);
        return true;
    }
    return false;
}

#define FLAGS_H2_CUT_OFF "HTTP/2 stream was not closed cleanly before end of the underlying stream"

/* The length of the run of decimal digits at p. */
static size_t digits(const char *p)
{
    size_t k = 0;
    while (p[k] >= '0' && p[k] <= '9')
        k++;
    return k;
}

void flags_h2_words(const char *text, char *msg, size_t cap)
{
    const char *p = text;
    size_t n = 0, k;

    if (cap == 0)
        return;
    /* libcurl names the stream ("HTTP/2 stream 7 was not closed cleanly:
     * INTERNAL_ERROR (err 2)"): its number says how the requests were laid
     * out on connections, which differs by scheduler. Dropped, with the
     * error's number (its name stays). */
    while (*p && n + 1 < cap) {
        if (strncmp(p, "stream ", 7) == 0 && (k = digits(p + 7)) > 0 &&
            (p[7 + k] == ' ' || p[7 + k] == '\0')) {
            for (const char *w = "stream"; *w && n + 1 < cap; w++)
                msg[n++] = *w;
            p += 7 + k; /* on to the blank after the number, or the end */
            continue;
        }
        if (strncmp(p, " (err ", 6) == 0 && (k = digits(p + 6)) > 0 && strcmp(p + 6 + k, ")") == 0)
            break;
        msg[n++] = *p++;
    }
    msg[n] = '\0';
}

/* Fills the HTTP/2 accounting of *res from x's finished transfer: the
 * protocol used, and when its request went out and ended on which local
 * port, from which the record counts the streams in flight on one connection
 * (record.h, flags_streams_peak). Only a transfer that sent its request has a
 * span. */
static void stream_span(struct flags_xfer *x, struct flags_result *res)
{
    curl_off_t pre_us = 0, total_us = 0;
    long version = 0, port = 0;

    (void)curl_easy_getinfo(x->easy, CURLINFO_HTTP_VERSION, &version);
    (void)curl_easy_getinfo(x->easy, CURLINFO_LOCAL_PORT, &port);
    (void)curl_easy_getinfo(x->easy, CURLINFO_PRETRANSFER_TIME_T, &pre_us);
    (void)curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME_T, &total_us);
    res->http_version = version;
    res->local_port = port;
    /* Both ends from the one start, so a result handled late (a busy loop,
     * a saver) does not stretch its span. */
    if (port > 0 && pre_us > 0 && total_us >= pre_us) {
        res->sent_s = x->t_start + (double)pre_us / 1e6;
        res->end_s = x->t_start + (double)total_us / 1e6;
    }
}

int flags_xfer_start(struct flags_xfer *x, const struct flags_job *job, size_t index)
{
    /* The buffer was sized for this job's base URL in init. */
    if (flags_url(x->url, strlen(job->base_url) + URL_SUFFIX, job, index) < 0)
        return -EINVAL;
    if (curl_easy_setopt(x->easy, CURLOPT_URL, x->url) != CURLE_OK)
        return -EINVAL;
    const char *cc = job->codes[index % job->ncodes];
    x->job = job;
    x->index = index;
    x->buf_len = 0;
    x->received = 0;
    x->have_cl = x->have_te = false;
    x->part_exists = false;
    x->part_fd = -1;
    x->close_notify = false;
    x->stop = FLAGS_XFER_RUNNING;
    x->save_err = 0;
    snprintf(x->part_name, sizeof(x->part_name), ".%s.gif.%ld.%zu.part", cc, x->pid, index);
    x->errbuf[0] = '\0';
    x->t_start = flags_now();
    return 0;
}

static const char *http_reason(long status)
{
    switch (status) {
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 418:
        return "I'm a Teapot";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return status >= 500 ? "Server Error" : status >= 400 ? "Client Error" : "Unexpected";
    }
}

/* OpenSSL's X509_V_ERR_* values (openssl/x509_vfy.h), which
 * CURLINFO_SSL_VERIFYRESULT returns; named here so the client need not link
 * OpenSSL itself. */
enum {
    X509_UNABLE_TO_GET_ISSUER_CERT = 2,
    X509_CERT_NOT_YET_VALID = 9,
    X509_CERT_HAS_EXPIRED = 10,
    X509_DEPTH_ZERO_SELF_SIGNED_CERT = 18,
    X509_SELF_SIGNED_CERT_IN_CHAIN = 19,
    X509_UNABLE_TO_GET_ISSUER_CERT_LOCALLY = 20,
    X509_UNABLE_TO_VERIFY_LEAF_SIGNATURE = 21,
    X509_CERT_UNTRUSTED = 27,
    X509_HOSTNAME_MISMATCH = 62,
    X509_IP_ADDRESS_MISMATCH = 64,
};

#define TLS_FAILED "TLS handshake failed: "

static bool has(const char *text, const char *what)
{
    return text && strcasestr(text, what) != NULL;
}

bool flags_tls_reason(const struct flags_tls_failure *f, char *msg, size_t cap)
{
    /* The verify result is the last handshake's: it names the reason only
     * when this transfer failed in a certificate check. */
    bool cert_failed = f->rc == CURLE_PEER_FAILED_VERIFICATION || f->rc == CURLE_SSL_CONNECT_ERROR;

    switch (cert_failed ? f->verify : 0) {
    case X509_UNABLE_TO_GET_ISSUER_CERT:
    case X509_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_CERT_UNTRUSTED:
        snprintf(msg, cap, TLS_FAILED "certificate signed by an unknown CA");
        return true;
    case X509_CERT_HAS_EXPIRED:
        snprintf(msg, cap, TLS_FAILED "certificate expired");
        return true;
    case X509_CERT_NOT_YET_VALID:
        snprintf(msg, cap, TLS_FAILED "certificate not yet valid");
        return true;
    case X509_HOSTNAME_MISMATCH:
    case X509_IP_ADDRESS_MISMATCH:
        snprintf(msg, cap, TLS_FAILED "certificate does not match the host name");
        return true;
    default:
        break;
    }
    if (f->rc == CURLE_PEER_FAILED_VERIFICATION) {
        /* libcurl checks the name itself, after a chain OpenSSL accepted:
         * "SSL: no alternative certificate subject name matches target host
         * name", "SSL: certificate subject name '...' does not match target
         * host name", with a CURLINFO_SSL_VERIFYRESULT of 0 or 1. */
        if (has(f->errbuf, "host name") || has(f->errbuf, "subject name"))
            snprintf(msg, cap, TLS_FAILED "certificate does not match the host name");
        else
            snprintf(msg, cap, TLS_FAILED "certificate rejected (X509 error %ld)", f->verify);
        return true;
    }
    if (!f->https || !f->tcp_up || f->tls_done)
        return false; /* not during a handshake: libcurl's own words */
    if (f->rc == CURLE_OPERATION_TIMEDOUT) {
        snprintf(msg, cap, "TLS handshake timed out after %ld milliseconds", f->timeout_ms);
        return true;
    }
    if (f->rc != CURLE_SSL_CONNECT_ERROR && f->rc != CURLE_RECV_ERROR &&
        f->rc != CURLE_SEND_ERROR && f->rc != CURLE_GOT_NOTHING)
        return false;
    if (f->os_errno == ECONNRESET || has(f->errbuf, "reset by peer"))
        snprintf(msg, cap, TLS_FAILED "connection reset by the server");
    else if (has(f->errbuf, "wrong version number") || has(f->errbuf, "packet length too long") ||
             has(f->errbuf, "record layer failure") || has(f->errbuf, "http request"))
        snprintf(msg, cap, TLS_FAILED "the server does not speak TLS");
    else if (has(f->errbuf, "unexpected eof") || has(f->errbuf, "SSL_ERROR_SYSCALL") ||
             f->rc == CURLE_GOT_NOTHING)
        snprintf(msg, cap, TLS_FAILED "connection closed by the server");
    else
        snprintf(msg, cap, TLS_FAILED "%s", f->errbuf[0] ? f->errbuf : curl_easy_strerror(f->rc));
    return true;
}

/* True if x's last request (after any redirect) went over https. */
static bool effective_https(struct flags_xfer *x)
{
    const char *url = NULL;

    if (curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &url) != CURLE_OK || !url)
        url = x->url;
    return strncasecmp(url, "https://", 8) == 0;
}

/* Fills what flags_tls_reason needs from x's finished transfer. */
static void tls_failure(struct flags_xfer *x, const struct flags_job *job, CURLcode rc,
                        struct flags_tls_failure *f)
{
    curl_off_t appconnect_us = 0, pretransfer_us = 0;
    long local_port = 0;
    const char *url = NULL;

    memset(f, 0, sizeof(*f));
    f->rc = rc;
    f->errbuf = x->errbuf;
    f->timeout_ms = job->timeout_ms;
    (void)curl_easy_getinfo(x->easy, CURLINFO_SSL_VERIFYRESULT, &f->verify);
    (void)curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &f->os_errno);
    /* CURLINFO_CONNECT_TIME_T stays 0 until the TLS handshake is over too
     * (libcurl 7.88); a local port says the TCP connection was made. */
    (void)curl_easy_getinfo(x->easy, CURLINFO_LOCAL_PORT, &local_port);
    (void)curl_easy_getinfo(x->easy, CURLINFO_APPCONNECT_TIME_T, &appconnect_us);
    /* After a redirect, the URL that failed is the last one. */
    if (curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &url) != CURLE_OK || !url)
        url = x->url;
    f->https = strncasecmp(url, "https://", 8) == 0;
    f->tcp_up = local_port > 0;
    /* A transfer multiplexed onto an HTTP/2 connection made by another one
     * did no handshake of its own (APPCONNECT stays 0): that its request
     * went out says the handshake was over. */
    (void)curl_easy_getinfo(x->easy, CURLINFO_PRETRANSFER_TIME_T, &pretransfer_us);
    f->tls_done = appconnect_us > 0 || pretransfer_us > 0;
}

/* The message for a transfer one of our callbacks ended, into msg. */
static void stop_message(const struct flags_xfer *x, const char *cc, char *msg, size_t cap)
{
    switch (x->stop) {
    case FLAGS_XFER_TOO_BIG:
        snprintf(msg, cap, "response larger than --max-size %lld bytes", (long long)x->max_size);
        break;
    case FLAGS_XFER_CL_CONFLICT:
        snprintf(msg, cap, "ambiguous response framing: two different Content-Length values");
        break;
    case FLAGS_XFER_CL_INVALID:
        snprintf(msg, cap, "ambiguous response framing: a Content-Length that is not a number");
        break;
    case FLAGS_XFER_CL_AND_TE:
        snprintf(msg, cap, "ambiguous response framing: Content-Length with Transfer-Encoding");
        break;
    case FLAGS_XFER_SAVE_FAILED:
        snprintf(msg, cap, "cannot save %s.gif: %s", cc, strerror(-x->save_err));
        break;
    case FLAGS_XFER_RUNNING:
    default:
        snprintf(msg, cap, "internal error: transfer stopped without a reason");
        break;
    }
}

bool flags_xfer_classify(struct flags_xfer *x, const struct flags_job *job, CURLcode rc,
                         struct flags_result *res)
{
    const char *cc = job->codes[x->index % job->ncodes];
    curl_off_t total_us = 0;
    long status = 0, connects = 0;

    memset(res, 0, sizeof(*res));
    res->index = x->index;
    res->bytes = (size_t)x->received;
    /* Info getters only fail for unknown options; zeros are the fallback. */
    (void)curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    (void)curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &connects);
    (void)curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME_T, &total_us);
    res->http_status = status;
    res->connects = connects;
    res->latency_s = (double)total_us / 1e6;
    stream_span(x, res);

    if (rc == CURLE_ABORTED_BY_CALLBACK && flags_cancelled()) {
        res->status = FLAGS_CANCELLED;
        snprintf(res->msg, sizeof(res->msg), "interrupted");
    } else if (x->stop != FLAGS_XFER_RUNNING) {
        res->status = FLAGS_ERROR;
        stop_message(x, cc, res->msg, sizeof(res->msg));
    } else if (rc == CURLE_FILESIZE_EXCEEDED) {
        /* CURLOPT_MAXFILESIZE_LARGE: the Content-Length was over the cap. */
        res->status = FLAGS_ERROR;
        snprintf(res->msg, sizeof(res->msg), "response larger than --max-size %lld bytes",
                 (long long)x->max_size);
    } else if (rc == CURLE_RECV_ERROR && status == 200 && close_delimited(x) &&
               has(x->errbuf, "unexpected eof") && effective_https(x)) {
        /* A libcurl that reports the missing close_notify itself. */
        res->status = FLAGS_ERROR;
        snprintf(res->msg, sizeof(res->msg), FLAGS_MSG_TLS_TRUNCATED);
    } else if (rc != CURLE_OK) {
        struct flags_tls_failure f;
        res->status = FLAGS_ERROR;
        tls_failure(x, job, rc, &f);
        /* A reset HTTP/2 connection (its request had gone out): the one
         * transfer that read the reset says so, the others on it find their
         * stream cut off. Every stream gets the words of the many, so that a
         * pool (a connection per stream) and a loop (many streams on one)
         * say the same. */
        bool h2_reset =
            job->http2 && f.tls_done && rc == CURLE_RECV_ERROR && f.os_errno == ECONNRESET;
        if (flags_tls_reason(&f, res->msg, sizeof(res->msg)))
            ; /* its words are in msg */
        else if (h2_reset)
            snprintf(res->msg, sizeof(res->msg), "%s", FLAGS_H2_CUT_OFF);
        else
            flags_h2_words(x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc), res->msg,
                           sizeof(res->msg));
    } else if (status == 200 && x->have_cl && x->received != x->content_length) {
        /* libcurl reports a short body itself; this also holds if it did not. */
        res->status = FLAGS_ERROR;
        snprintf(res->msg, sizeof(res->msg),
                 "response body of %lld bytes, but its Content-Length is %lld",
                 (long long)x->received, (long long)x->content_length);
    } else if (status == 200 && close_delimited(x) && effective_https(x) && !x->close_notify) {
        res->status = FLAGS_ERROR;
        snprintf(res->msg, sizeof(res->msg), FLAGS_MSG_TLS_TRUNCATED);
    } else if (status == 200) {
        res->status = FLAGS_OK;
        return true; /* flags_xfer_save decides */
    } else if (status == 404) {
        res->status = FLAGS_NOT_FOUND;
    } else {
        res->status = FLAGS_ERROR;
        snprintf(res->msg, sizeof(res->msg), "HTTP error %ld - %s", status, http_reason(status));
    }
    /* Whatever ended the transfer, nothing of it is left but a saved CC.gif. */
    part_remove(x);
    body_buf_release(x);
    return false;
}

/* A failed save's words, the same for every way of saving. */
static void save_failed(struct flags_result *res, const char *cc, int err)
{
    res->status = FLAGS_ERROR;
    if (err == -EXDEV) /* the word for "the temporary file's name was taken
                        * over": rename(2) within one directory never says
                        * EXDEV. */
        snprintf(res->msg, sizeof(res->msg),
                 "cannot save %s.gif: its temporary file was replaced during the transfer", cc);
    else
        snprintf(res->msg, sizeof(res->msg), "cannot save %s.gif: %s", cc, strerror(-err));
}

void flags_xfer_save(struct flags_xfer *x, const struct flags_job *job, struct flags_result *res)
{
    const char *cc = job->codes[x->index % job->ncodes];
    int err = part_commit(x, cc);

    if (err != 0)
        save_failed(res, cc, err);
    part_remove(x); /* a no-op after a commit */
    body_buf_release(x);
}

void flags_xfer_saved(struct flags_xfer *x, const struct flags_job *job, int err,
                      struct flags_result *res)
{
    if (err != 0)
        save_failed(res, job->codes[x->index % job->ncodes], err);
    body_buf_release(x);
}

void flags_xfer_finish(struct flags_xfer *x, const struct flags_job *job, CURLcode rc,
                       struct flags_result *res)
{
    if (flags_xfer_classify(x, job, rc, res))
        flags_xfer_save(x, job, res);
}

int flags_request_begin(struct flags_xfer *x, const struct flags_job *job, size_t index,
                        struct flags_result *res)
{
    char msg[160];
    int rc;

    if (flags_cancelled()) {
        flags_result_unstarted(res, index, FLAGS_CANCELLED, "interrupted");
        return 1;
    }
    if (!x->easy && (rc = flags_xfer_init(x, job)) != 0) {
        snprintf(msg, sizeof(msg), "cannot set up a transfer: %s", strerror(-rc));
        flags_result_unstarted(res, index, FLAGS_ERROR, msg);
        return 1;
    }
    if (flags_xfer_start(x, job, index) != 0) {
        snprintf(msg, sizeof(msg), "cannot set the URL of request %zu", index);
        flags_result_unstarted(res, index, FLAGS_ERROR, msg);
        return 1;
    }
    return 0;
}

void flags_fail_all(const struct flags_job *job, size_t from, enum flags_status status,
                    const char *msg, flags_done_fn done, void *arg)
{
    struct flags_result res;

    for (size_t i = from; i < job->requests; i++) {
        flags_result_unstarted(&res, i, status, msg);
        done(&res, arg);
    }
}

void flags_xfer_free(struct flags_xfer *x)
{
    if (x->job)
        part_remove(x); /* a transfer that was never finished */
    if (x->easy)
        curl_easy_cleanup(x->easy);
    free(x->url);
    free(x->buf);
    memset(x, 0, sizeof(*x));
}

void flags_result_unstarted(struct flags_result *res, size_t index, enum flags_status status,
                            const char *msg)
{
    memset(res, 0, sizeof(*res));
    res->index = index;
    res->status = status;
    if (msg)
        snprintf(res->msg, sizeof(res->msg), "%s", msg);
}
