/* record.c -- the JSON record. */
#include "record.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
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

void flags_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        default:
            if (c < 0x20 || c == 0x7f)
                fprintf(f, "\\u%04x", c);
            else
                fputc(c, f);
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
    fputs("}\n", f);
    return ferror(f) ? -EIO : 0;
}

int flags_record_append(const char *path, const struct flags_record *r)
{
    char *line = NULL;
    size_t len = 0;
    int fd = -1, rc;
    FILE *mem = open_memstream(&line, &len);

    if (!mem)
        return -errno;
    rc = flags_record_write(mem, r);
    if (fclose(mem) != 0 && rc == 0)
        rc = -errno;
    if (rc != 0)
        goto out;

    fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    ssize_t w = write(fd, line, len);
    if (w < 0)
        rc = -errno;
    else if ((size_t)w != len)
        rc = -EIO; /* a short append: the disk is full */
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
out:
    free(line);
    return rc;
}
