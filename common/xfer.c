/* xfer.c -- one transfer: easy-handle options, classification, saving. */
#include "xfer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cancel.h"

#define MAX_REDIRS 5
#define BODY_START (32u * 1024u) /* a 320x240 flag GIF is a few KiB to ~20 KiB */
#define URL_SUFFIX sizeof("/xx/xx.gif")

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    struct flags_xfer *x = userp;
    size_t n = size * nmemb;

    if (n > FLAGS_XFER_MAX_BODY - x->body_len) {
        x->body_overflow = true;
        return 0; /* CURLE_WRITE_ERROR */
    }
    if (x->body_len + n > x->body_cap) {
        size_t cap = x->body_cap ? x->body_cap : BODY_START;
        while (cap < x->body_len + n)
            cap *= 2;
        char *p = realloc(x->body, cap);
        if (!p)
            return 0; /* CURLE_WRITE_ERROR; finish() reports it */
        x->body = p;
        x->body_cap = cap;
    }
    memcpy(x->body + x->body_len, data, n);
    x->body_len += n;
    return n;
}

/* Aborts a running transfer once the user interrupted the program. */
static int on_progress(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)clientp, (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
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

int flags_xfer_init(struct flags_xfer *x, const struct flags_job *job)
{
    CURLcode rc = CURLE_OK;

    memset(x, 0, sizeof(*x));
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
    SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_FOLLOWLOCATION, 1L);
    SET(CURLOPT_MAXREDIRS, (long)MAX_REDIRS);
    SET(CURLOPT_TIMEOUT_MS, job->timeout_ms);
    SET(CURLOPT_USERAGENT, "flagbench/0.1");
    SET(CURLOPT_ERRORBUFFER, x->errbuf);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, x);
    SET(CURLOPT_XFERINFOFUNCTION, on_progress);
    SET(CURLOPT_NOPROGRESS, 0L);
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

int flags_xfer_start(struct flags_xfer *x, const struct flags_job *job, size_t index)
{
    /* The buffer was sized for this job's base URL in init. */
    if (flags_url(x->url, strlen(job->base_url) + URL_SUFFIX, job, index) < 0)
        return -EINVAL;
    if (curl_easy_setopt(x->easy, CURLOPT_URL, x->url) != CURLE_OK)
        return -EINVAL;
    x->index = index;
    x->body_len = 0;
    x->body_overflow = false;
    x->errbuf[0] = '\0';
    return 0;
}

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

/* Saves the body as CC.gif in the output directory: written to a name unique
 * to this process and request, then renamed over the final name, so a reader
 * sees either the old file or the whole new one, never a partial one. */
static int save_flag(const struct flags_xfer *x, const struct flags_job *job, const char *cc)
{
    char tmp[64], final[16];
    int rc;

    snprintf(final, sizeof(final), "%s.gif", cc);
    snprintf(tmp, sizeof(tmp), ".%s.gif.%ld.%zu.part", cc, x->pid, x->index);

    int fd = flags_tmp_openat(job->outdir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    rc = write_all(fd, x->body, x->body_len);
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && renameat(job->outdir_fd, tmp, job->outdir_fd, final) != 0)
        rc = -errno;
    if (rc != 0)
        unlinkat(job->outdir_fd, tmp, 0); /* best effort: it may not exist */
    return rc;
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

void flags_xfer_finish(struct flags_xfer *x, const struct flags_job *job, CURLcode rc,
                       struct flags_result *res)
{
    const char *cc = job->codes[x->index % job->ncodes];
    curl_off_t total_us = 0;
    long status = 0, connects = 0;

    memset(res, 0, sizeof(*res));
    res->index = x->index;
    res->bytes = x->body_len;
    /* Info getters only fail for unknown options; zeros are the fallback. */
    (void)curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    (void)curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &connects);
    (void)curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME_T, &total_us);
    res->http_status = status;
    res->connects = connects;
    res->latency_s = (double)total_us / 1e6;

    if (rc == CURLE_ABORTED_BY_CALLBACK && flags_cancelled()) {
        res->status = FLAGS_CANCELLED;
        snprintf(res->msg, sizeof(res->msg), "interrupted");
    } else if (rc != CURLE_OK) {
        res->status = FLAGS_ERROR;
        if (x->body_overflow)
            snprintf(res->msg, sizeof(res->msg), "body larger than %u bytes", FLAGS_XFER_MAX_BODY);
        else if (rc == CURLE_WRITE_ERROR)
            snprintf(res->msg, sizeof(res->msg), "out of memory for the body");
        else
            snprintf(res->msg, sizeof(res->msg), "%s",
                     x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
    } else if (status == 200) {
        int err = save_flag(x, job, cc);
        if (err == 0) {
            res->status = FLAGS_OK;
        } else {
            res->status = FLAGS_ERROR;
            snprintf(res->msg, sizeof(res->msg), "cannot save %s.gif: %s", cc, strerror(-err));
        }
    } else if (status == 404) {
        res->status = FLAGS_NOT_FOUND;
    } else {
        res->status = FLAGS_ERROR;
        snprintf(res->msg, sizeof(res->msg), "HTTP error %ld - %s", status, http_reason(status));
    }
}

void flags_xfer_free(struct flags_xfer *x)
{
    if (x->easy)
        curl_easy_cleanup(x->easy);
    free(x->url);
    free(x->body);
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
