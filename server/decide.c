/* decide.c -- the protocol-free decision per request; see decide.h. */
#include "decide.h"

#include <errno.h>
#include <string.h>

#include "path.h"

static const char body_400[] = "bad request\n";
static const char body_404[] = "not found\n";
static const char body_405[] = "method not allowed\n";
static const char body_500[] = "injected error\n";

/* splitmix64: small, fast, and the same sequence for the same --seed. */
static uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* A double uniform in [0, 1). */
static double rng_unit(uint64_t *state)
{
    return (double)(rng_next(state) >> 11) * 0x1.0p-53;
}

static void set_text(struct fsrv_answer *a, int status, const char *text, size_t len)
{
    a->status = status;
    a->body = (const unsigned char *)text;
    a->body_len = len;
    a->type = "text/plain";
}

bool fsrv_is_stats(const char *path, size_t len)
{
    return path != NULL && len == 6 && memcmp(path, "/stats", 6) == 0;
}

void fsrv_decide(struct fsrv_site *site, enum fsrv_method method, const char *path, size_t len,
                 bool malformed, struct fsrv_answer *a)
{
    const struct fsrv_config *cfg = site->cfg;
    const struct store_entry *e;
    char cc[PATH_CC_LEN + 1];
    int rc;

    *a = (struct fsrv_answer){.fault = FSRV_FAULT_NONE};
    if (malformed) {
        set_text(a, 400, body_400, sizeof(body_400) - 1);
    } else if (method == FSRV_METHOD_OTHER) {
        set_text(a, 405, body_405, sizeof(body_405) - 1);
        a->allow = true;
    } else {
        rc = path_parse_flag(path, path != NULL ? len : 0, cc);
        e = rc == 0 ? store_get(site->store, cc) : NULL;
        if (e != NULL) {
            a->status = 200;
            a->body = e->data;
            a->body_len = e->len;
            a->type = "image/gif";
        } else if (rc == -EINVAL) {
            set_text(a, 400, body_400, sizeof(body_400) - 1);
        } else {
            set_text(a, 404, body_404, sizeof(body_404) - 1);
        }

        /* Errors are drawn for GETs only: a HEAD has no body to cut short. */
        if (method == FSRV_METHOD_GET && cfg->error_rate > 0.0 &&
            rng_unit(&site->rng) < cfg->error_rate) {
            stats_error_injected(site->stats);
            a->fault = cfg->error_kind;
            /* With fewer than two body bytes there is no "part of the body". */
            if (a->fault != FSRV_FAULT_STATUS && a->body_len < 2)
                a->fault = FSRV_FAULT_STATUS;
            if (a->fault == FSRV_FAULT_STATUS)
                set_text(a, (rng_next(&site->rng) & 1) ? 503 : 500, body_500, sizeof(body_500) - 1);
        }
    }

    a->delay_ms = cfg->delay_min_ms;
    if (cfg->delay_max_ms > cfg->delay_min_ms)
        a->delay_ms +=
            (unsigned)(rng_next(&site->rng) % (cfg->delay_max_ms - cfg->delay_min_ms + 1));
}

/* Returns whether QUERY (LEN bytes) has the item "reset=1". */
static bool wants_reset(const char *query, size_t len)
{
    const char *p = query, *end = query + len;

    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp != NULL ? amp : end;
        if (stop - p == 7 && memcmp(p, "reset=1", 7) == 0)
            return true;
        p = stop + 1;
    }
    return false;
}

int fsrv_stats_page(struct fsrv_site *site, const char *query, size_t query_len, char *buf,
                    size_t size)
{
    const struct fsrv_config *cfg = site->cfg;
    const struct stats_settings set = {.bind = cfg->bind,
                                       .port = site->bound_port,
                                       .delay_min_ms = cfg->delay_min_ms,
                                       .delay_max_ms = cfg->delay_max_ms,
                                       .error_rate = cfg->error_rate,
                                       .error_kind = fsrv_config_kind_name(cfg->error_kind),
                                       .seed = cfg->seed,
                                       .preset = cfg->preset,
                                       .tls = site->tls,
                                       .tls_resume = site->tls && cfg->tls_resume,
                                       .http2 = cfg->http2,
                                       .h2_max_streams = cfg->h2_max_streams,
                                       .h2_timeout_s = cfg->h2_timeout_s};
    int n;

    if (query != NULL && wants_reset(query, query_len))
        stats_reset(site->stats);
    n = stats_json(site->stats, &set, buf, size);
    if (n < 0 || (size_t)n + 1 >= size)
        return -ENOSPC;
    buf[n] = '\n';
    buf[n + 1] = '\0';
    return n + 1;
}
