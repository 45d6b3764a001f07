/* report.c -- the book's output formats. */
#include "report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BAR_CELLS 40u

void flags_report_header(FILE *f, const char *label, const char *url, const char (*codes)[3],
                         size_t ncodes, unsigned long repeat, unsigned concur_req)
{
    size_t i;

    fprintf(f, "%s site: %s\n", label, url);
    fprintf(f, "Searching for %zu flag%s: ", ncodes, ncodes == 1 ? "" : "s");
    if (ncodes <= 10) {
        for (i = 0; i < ncodes; i++)
            fprintf(f, "%s%s", i ? ", " : "", codes[i]);
    } else {
        fprintf(f, "from %s to %s", codes[0], codes[ncodes - 1]);
    }
    fputc('\n', f);
    if (repeat > 1)
        fprintf(f, "Each %lu times over: %zu requests.\n", repeat, ncodes * repeat);
    if (concur_req == 1)
        fprintf(f, "1 connection will be used.\n");
    else
        fprintf(f, "%u concurrent connections will be used.\n", concur_req);
}

void flags_report_result(FILE *f, const char *cc, const struct flags_result *res, const char *url)
{
    switch (res->status) {
    case FLAGS_OK:
        fprintf(f, "%s OK\n", cc);
        break;
    case FLAGS_NOT_FOUND:
        fprintf(f, "%s not found: %s\n", cc, url);
        break;
    case FLAGS_ERROR:
        fprintf(f, "%s error: %s\n", cc, res->msg);
        break;
    case FLAGS_CANCELLED:
        fprintf(f, "%s cancelled\n", cc);
        break;
    }
}

void flags_report_summary(FILE *f, const struct flags_counts *c, double elapsed_s)
{
    fprintf(f, "--------------------\n");
    fprintf(f, "%3zu flag%s downloaded.\n", c->ok, c->ok == 1 ? "" : "s");
    if (c->not_found)
        fprintf(f, "%3zu not found.\n", c->not_found);
    if (c->errors)
        fprintf(f, "%3zu error%s.\n", c->errors, c->errors == 1 ? "" : "s");
    if (c->cancelled)
        fprintf(f, "%3zu cancelled.\n", c->cancelled);
    fprintf(f, "Elapsed time: %.2fs\n", elapsed_s);
}

double flags_now(void)
{
    struct timespec ts;

    /* CLOCK_MONOTONIC cannot fail on Linux; a zero would only blur a timing. */
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        return 0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void flags_progress_init(struct flags_progress *p, FILE *f, bool enabled, size_t total)
{
    p->f = enabled ? f : NULL;
    p->total = total;
    p->done = 0;
    p->open = false;
    p->last_s = 0;
}

static void draw(struct flags_progress *p)
{
    unsigned cells = p->total ? (unsigned)((double)p->done / (double)p->total * BAR_CELLS) : 0;

    fprintf(p->f, "\r%3u%% |", p->total ? (unsigned)(p->done * 100 / p->total) : 100u);
    for (unsigned i = 0; i < BAR_CELLS; i++)
        fputc(i < cells ? '#' : ' ', p->f);
    fprintf(p->f, "| %zu/%zu", p->done, p->total);
    fflush(p->f);
    p->open = true;
}

void flags_progress_step(struct flags_progress *p)
{
    double now;

    p->done++;
    if (!p->f)
        return;
    now = flags_now();
    if (p->done == p->total || !p->open || now - p->last_s >= 0.05) {
        draw(p);
        p->last_s = now;
    }
}

void flags_progress_end(struct flags_progress *p)
{
    if (p->f && p->open) {
        fputc('\n', p->f);
        fflush(p->f);
    }
    p->open = false;
}

int flags_redact_url(char *buf, size_t cap, const char *url)
{
    const char *start = strstr(url, "://");
    const char *end, *at = NULL;
    int n;

    start = start ? start + 3 : url;
    end = start + strcspn(start, "/?#");
    for (const char *p = start; p < end; p++) {
        if (*p == '@')
            at = p; /* the last one: a password may hold an '@' */
    }
    if (at)
        n = snprintf(buf, cap, "%.*s***%s", (int)(start - url), url, at);
    else
        n = snprintf(buf, cap, "%s", url);
    if (n < 0 || (size_t)n >= cap)
        return -ENOSPC;
    /* A control byte would forge or break an output line. */
    for (char *p = buf; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    }
    return n;
}

/* The variables libcurl reads to pick a proxy for http:// and https:// URLs
 * (it ignores an upper-case HTTP_PROXY, see curl's CURLOPT_PROXY). */
static const char *const proxy_vars[] = {
    "http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY",
};

int flags_proxy_env(char *buf, size_t cap)
{
    size_t len = 0;

    if (cap == 0)
        return -ENOSPC;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(proxy_vars) / sizeof(proxy_vars[0]); i++) {
        const char *v = getenv(proxy_vars[i]);
        char shown[512];
        if (!v || !*v)
            continue;
        if (flags_redact_url(shown, sizeof(shown), v) < 0)
            snprintf(shown, sizeof(shown), "(too long to show)");
        int n = snprintf(buf + len, cap - len, "%s%s=%s", len ? " " : "", proxy_vars[i], shown);
        if (n < 0 || (size_t)n >= cap - len)
            return -ENOSPC;
        len += (size_t)n;
    }
    return (int)len;
}
