/* tls.h -- flagserver's HTTPS: one SSL_CTX, and an evhttp bufferevent
 * callback that wraps every accepted connection in a libevent OpenSSL
 * bufferevent.
 *
 * Handshakes are counted in a struct stats: tls_handshakes (complete, full
 * or resumed), tls_resumed (of those, resumed), tls_failed (a connection
 * whose handshake never completed: garbage, plain HTTP, a reset, or a
 * client that stalled past FSRV_TLS_HANDSHAKE_TIMEOUT_S, after which the
 * server closes it). A failure is counted when its connection is freed.
 */
#ifndef FLAGSERVER_TLS_H
#define FLAGSERVER_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "stats.h"

#define FSRV_TLS_HANDSHAKE_TIMEOUT_S 10 /* accepted, handshake not done: closed */

struct fsrv_tls {
    SSL_CTX *ctx;
    struct event_base *base; /* not owned */
    struct stats *stats;     /* not owned */
};

/* Makes TLS->ctx for a server with the PEM certificate chain CERT and the
 * PEM private key KEY: TLS 1.2 and 1.3, no renegotiation, and, when RESUME,
 * session tickets and a server-side session cache (neither without it).
 * Returns 0, or -EINVAL with one line in ERR (ERRLEN bytes) naming the option
 * and file at fault (unreadable file, not PEM, key not matching the
 * certificate), or -ENOMEM. Call fsrv_tls_free in every case. There is one
 * fsrv_tls per process. */
int fsrv_tls_init(struct fsrv_tls *tls, struct event_base *base, struct stats *stats,
                  const char *cert, const char *key, bool resume, char *err, size_t errlen);

/* Makes TLS->ctx (initialised) select "h2" by ALPN, and refuse with a fatal
 * alert a client whose ALPN list lacks it (--http2). A client sending no ALPN
 * extension is let through and must speak HTTP/2 with prior knowledge. */
void fsrv_tls_alpn_h2(struct fsrv_tls *tls);

/* Releases TLS->ctx (connections still open keep their own reference). */
void fsrv_tls_free(struct fsrv_tls *tls);

/* evhttp_set_bevcb callback, ARG a struct fsrv_tls: a new OpenSSL
 * bufferevent in the accepting state, without a socket yet (evhttp sets
 * it), which closes the socket and frees the SSL when it is freed. Returns
 * NULL when out of memory. */
struct bufferevent *fsrv_tls_bevcb(struct event_base *base, void *arg);

/* Sends a TLS close_notify on BEV, best effort, if BEV is an OpenSSL
 * bufferevent whose handshake completed; call it just before the server
 * closes a connection cleanly. Without it a TLS 1.2 client must treat the
 * close as a truncation attack and may not resume the session. Anything
 * else is left alone. */
void fsrv_tls_close_notify(struct bufferevent *bev);

#endif /* FLAGSERVER_TLS_H */
