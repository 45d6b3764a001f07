/* h2.h -- flagserver's HTTP/2 front end: nghttp2 sessions on the libevent
 * loop, one per accepted connection, h2 over TLS (ALPN) or h2c with prior
 * knowledge in clear text (--http2).
 *
 * Every stream is one request, answered as decide.h says (status, body,
 * fault, delay): delays are per stream, `status` is a 500/503, `reset` sends
 * half the body then RST_STREAM, `stall` sends half the body and then nothing.
 * Streams count in stats.h's in_flight like HTTP/1.1 requests.
 *
 * Defences, each counted in stats' h2_defences (docs/flagserver.md):
 * rapid reset (a token bucket of RST_STREAMs per connection, then GOAWAY
 * ENHANCE_YOUR_CALM), SETTINGS/PING floods (nghttp2's bound on queued ACKs),
 * HPACK (a header list cap, a bounded deflate table, CONTINUATION cap), a
 * response without progress (window held at zero, client not reading) reset
 * after --h2-timeout, idle connections closed.
 */
#ifndef FLAGSERVER_H2_H
#define FLAGSERVER_H2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <nghttp2/nghttp2.h>

#include "decide.h"
#include "tls.h"

#define FSRV_H2_MAX_HEADER_LIST   8192 /* as HTTP/1.1's header cap (bytes, RFC 9113 6.5.2) */
#define FSRV_H2_DEFLATE_TABLE     4096 /* our HPACK encoder's table, whatever the client allows */
#define FSRV_H2_RESET_BURST       1000 /* RST_STREAMs a connection may send at once ... */
#define FSRV_H2_RESET_RATE        33   /* ... and per second after that (nghttp2's values) */
#define FSRV_H2_MAX_ACKS          1000 /* SETTINGS/PING ACKs queued before a flood is declared */
#define FSRV_H2_MAX_SETTINGS      32   /* entries in one SETTINGS frame */
#define FSRV_H2_MAX_CONTINUATIONS 8    /* CONTINUATION frames after one HEADERS */
#define FSRV_H2_IDLE_S            30   /* a connection without streams this long is closed */
#define FSRV_H2_OUTBUF_HIGH       (64 * 1024) /* stop serialising frames above this output */

struct h2_conn;

struct fsrv_h2 {
    struct event_base *base; /* not owned */
    struct fsrv_site *site;  /* not owned */
    struct fsrv_tls *tls;    /* not owned; NULL: h2c */
    nghttp2_session_callbacks *callbacks;
    nghttp2_option *option;
    struct h2_conn *conns; /* every open connection, for fsrv_h2_free */
    /* Called after a connection was freed (a descriptor is free again). */
    void (*on_close)(void *arg);
    /* Returns whether accept() ran out of descriptors lately: connections
     * then end (GOAWAY) once they have no streams left. */
    bool (*short_of_fds)(void *arg);
    void *arg;
};

/* Prepares H2 for a server on BASE answering from SITE, over TLS when TLS is
 * not NULL (its ctx then selects "h2" by ALPN; see fsrv_tls_alpn_h2). ON_CLOSE
 * and SHORT_OF_FDS (may be NULL) get ARG. Returns 0 or -ENOMEM; call
 * fsrv_h2_free in every case. */
int fsrv_h2_init(struct fsrv_h2 *h2, struct event_base *base, struct fsrv_site *site,
                 struct fsrv_tls *tls, void (*on_close)(void *), bool (*short_of_fds)(void *),
                 void *arg);

/* Closes every connection (without a GOAWAY: the server is going away) and
 * releases what fsrv_h2_init made. */
void fsrv_h2_free(struct fsrv_h2 *h2);

/* The evconnlistener callback, ARG a struct fsrv_h2: takes FD (closing it
 * if the connection cannot be set up, with a log line). */
void fsrv_h2_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *addr,
                    int addrlen, void *arg);

/* For the fuzz target: runs DATA (LEN bytes, as a client would send them on
 * an h2c connection) through a server session with no socket, then any
 * timers due at once, and frees it. Returns 0, or the nghttp2 error that
 * ended the session (negative). */
int fsrv_h2_feed(struct fsrv_h2 *h2, const uint8_t *data, size_t len);

#endif /* FLAGSERVER_H2_H */
