/* record.c -- the JSON record. */
#include "record.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int flags_record_usage(struct flags_record *r)
{
    struct rusage ru;

    r->cpu_user_s = r->cpu_sys_s = 0;
    r->max_rss_kb = 0;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -errno;
    r->cpu_user_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
    r->cpu_sys_s = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    r->max_rss_kb = ru.ru_maxrss; /* kilobytes on Linux */
    return 0;
}

/* Length of the well-formed UTF-8 sequence at s (1..4), or 0 if there is
 * none: no overlong forms, no surrogates, nothing above U+10FFFF. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned char c = s[0];
    size_t n;
    unsigned cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, cp = c & 0x07;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) /* also stops at the NUL */
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

void flags_json_string(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");

    fputc('"', f);
    while (*p) {
        unsigned char c = *p;
        size_t n;
        switch (c) {
        case '"':
            fputs("\\\"", f);
            p++;
            continue;
        case '\\':
            fputs("\\\\", f);
            p++;
            continue;
        case '\n':
            fputs("\\n", f);
            p++;
            continue;
        case '\r':
            fputs("\\r", f);
            p++;
            continue;
        case '\t':
            fputs("\\t", f);
            p++;
            continue;
        }
        if (c < 0x20 || c == 0x7f) {
            fprintf(f, "\\u%04x", c);
            p++;
        } else if ((n = utf8_len(p)) == 0) {
            fputs("\\ufffd", f); /* one replacement per invalid byte */
            p++;
        } else {
            fwrite(p, 1, n, f);
            p += n;
        }
    }
    fputc('"', f);
}

int flags_record_write(FILE *f, const struct flags_record *r)
{
    fputs("{\"backend\":", f);
    flags_json_string(f, r->backend);
    fprintf(f,
            ",\"concur_req\":%u,\"requests\":%zu,\"ok\":%zu,\"not_found\":%zu,\"errors\":%zu,"
            "\"cancelled\":%zu,\"elapsed_s\":%.6f,\"bytes\":%llu,\"flags_per_s\":%.3f,"
            "\"latency_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f},"
            "\"cpu_user_s\":%.6f,\"cpu_sys_s\":%.6f,\"max_rss_kb\":%ld,\"connections\":%ld,"
            "\"server\":",
            r->concur_req, r->requests, r->ok, r->not_found, r->errors, r->cancelled, r->elapsed_s,
            r->bytes, r->flags_per_s, r->latency_ms.p50, r->latency_ms.p90, r->latency_ms.p99,
            r->latency_ms.max, r->cpu_user_s, r->cpu_sys_s, r->max_rss_kb, r->connections);
    flags_json_string(f, r->server);
    fputs(",\"url\":", f);
    flags_json_string(f, r->url);
    fputs(",\"libcurl\":", f);
    flags_json_string(f, r->libcurl);
    fprintf(f, ",\"timeout_s\":%.3f,\"fresh_connect\":%s,\"loops\":%u,\"save_threads\":%u",
            r->timeout_s, r->fresh_connect ? "true" : "false", r->loops, r->save_threads);
    fprintf(f, ",\"multis\":%u,\"fds_per_transfer\":%u", r->multis ? r->multis : 1, r->fd_cost);
    fputs(",\"proxy_env\":", f);
    if (r->proxy_env && *r->proxy_env)
        flags_json_string(f, r->proxy_env);
    else
        fputs("null", f);
    fprintf(f, ",\"http2\":%s,\"protocol\":", r->http2 ? "true" : "false");
    if (r->protocol)
        flags_json_string(f, r->protocol);
    else
        fputs("null", f);
    fprintf(f, ",\"streams\":%ld,\"uring_setup\":", r->streams);
    if (r->uring_setup)
        flags_json_string(f, r->uring_setup);
    else
        fputs("null", f);
    fputs("}\n", f);
    return ferror(f) ? -EIO : 0;
}

static int span_cmp(const void *a, const void *b)
{
    const struct flags_stream_span *x = a, *y = b;

    if (x->port != y->port)
        return x->port < y->port ? -1 : 1;
    if (x->sent_s != y->sent_s)
        return x->sent_s < y->sent_s ? -1 : 1;
    return 0;
}

static int double_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

long flags_streams_peak(struct flags_stream_span *spans, size_t n)
{
    long peak = 0;
    size_t i = 0;

    if (n == 0)
        return 0;
    qsort(spans, n, sizeof(*spans), span_cmp);
    while (i < n) { /* the spans of one port: spans[i..j) */
        size_t j = i;
        while (j < n && spans[j].port == spans[i].port)
            j++;
        /* The ends of this port's spans, sorted; two pointers walk starts and
         * ends together: at each start, the spans open are those started
         * before minus those ended at or before it. */
        double *ends = malloc((j - i) * sizeof(*ends));
        if (!ends)
            return -1;
        for (size_t k = i; k < j; k++)
            ends[k - i] = spans[k].end_s;
        qsort(ends, j - i, sizeof(*ends), double_cmp);
        size_t closed = 0;
        for (size_t k = i; k < j; k++) {
            while (closed < j - i && ends[closed] <= spans[k].sent_s)
                closed++;
            long open = (long)(k - i + 1 - closed);
            if (open > peak)
                peak = open;
        }
        free(ends);
        i = j;
    }
    return peak;
}

int flags_record_open(const char *path)
{
    /* O_NONBLOCK: opening a FIFO without a reader fails (ENXIO) instead of
     * waiting for one, and a write that would block fails (EAGAIN) instead of
     * hanging the run; regular files ignore it. */
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NONBLOCK, 0644);
    return fd < 0 ? -errno : fd;
}

const char *flags_record_strerror(int err)
{
    if (err == -ENXIO)
        return "no process is reading this FIFO";
    if (err == -EAGAIN)
        return "its reader takes nothing (full FIFO or socket)";
    return strerror(-err);
}

int flags_record_append_fd(int fd, const struct flags_record *r)
{
    char *line = NULL;
    size_t len = 0;
    int rc;
    FILE *mem = open_memstream(&line, &len);

    if (!mem)
        return -errno;
    rc = flags_record_write(mem, r);
    if (fclose(mem) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0) {
        ssize_t w = write(fd, line, len);
        if (w < 0)
            rc = -errno;
        else if ((size_t)w != len)
            rc = -EIO; /* a short append: the disk is full */
    }
    free(line);
    return rc;
}

int flags_record_append(const char *path, const struct flags_record *r)
{
    int fd = flags_record_open(path), rc;

    if (fd < 0)
        return fd;
    rc = flags_record_append_fd(fd, r);
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    return rc;
}
