/* decide.h -- flagserver's one protocol-free decision per request: what to
 * answer, after what delay, with which fault. The HTTP/1.1 front end
 * (flagserver.c, evhttp) and the HTTP/2 one (h2.c, nghttp2) both ask it, so a
 * flag request means the same over either protocol, and one --seed gives one
 * sequence of delays and errors in request order whatever the protocol.
 */
#ifndef FLAGSERVER_DECIDE_H
#define FLAGSERVER_DECIDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "stats.h"
#include "store.h"

/* What the front ends share: the settings, the flags, the counters and the
 * delay/error generator. Owned by main; the pointers are not owned. */
struct fsrv_site {
    const struct fsrv_config *cfg;
    const struct store *store;
    struct stats *stats;
    uint64_t rng;        /* splitmix64 state, seeded with cfg->seed */
    unsigned bound_port; /* cfg->port, or the kernel's choice for 0 */
    bool tls;            /* the listener speaks TLS */
};

enum fsrv_method { FSRV_METHOD_GET, FSRV_METHOD_HEAD, FSRV_METHOD_OTHER };

/* The answer to one flag request. BODY is never owned (the store or a
 * literal); a HEAD gets the headers of it without the bytes. */
struct fsrv_answer {
    int status;
    enum fsrv_fault fault; /* FSRV_FAULT_NONE, or how to break the response */
    const unsigned char *body;
    size_t body_len;
    const char *type;  /* Content-Type */
    bool allow;        /* a 405: add "Allow: GET, HEAD" */
    unsigned delay_ms; /* hold the response this long first */
};

/* Returns whether PATH (LEN bytes, the target's path without the query) is
 * the /stats route, which is answered at once and never counted. */
bool fsrv_is_stats(const char *path, size_t len);

/* Decides the answer to a flag request with METHOD for PATH (LEN bytes, raw,
 * without the query; NULL for none). MALFORMED (a target not in origin-form,
 * ambiguous framing) is a 400 whatever the method. Draws the error and the
 * delay from SITE->rng and counts an injected error; the caller counts the
 * request itself. */
void fsrv_decide(struct fsrv_site *site, enum fsrv_method method, const char *path, size_t len,
                 bool malformed, struct fsrv_answer *a);

/* Writes the /stats JSON for SITE, with a newline, into BUF of SIZE bytes,
 * first zeroing the counters when QUERY (NULL for none) has the item
 * "reset=1" among its '&'-separated items. Returns the length or -ENOSPC. */
int fsrv_stats_page(struct fsrv_site *site, const char *query, size_t query_len, char *buf,
                    size_t size);

#endif /* FLAGSERVER_DECIDE_H */
