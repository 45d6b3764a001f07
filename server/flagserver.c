/* flagserver.c -- the local flag server: LOCAL, DELAY and ERROR in one program.
 *
 * The command line is config.h's. One thread, one event_base, evhttp for
 * HTTP. Every flag is in memory (see store.h); a request is validated
 * (path.h), held for its delay on an event timer, then answered, or given an
 * injected error. /stats reports what the server saw (stats.h), above all
 * the peak number of requests in flight, which is what proves a client's
 * concurrency cap, and the server's own settings.
 *
 * Ownership of a request: evhttp owns every evhttp_request. Ours is the
 * struct conn of its connection, one per client connection that has sent a
 * request, found through a ptrmap keyed by the evhttp_connection and freed
 * from the connection's close callback. evhttp 2.1 reads a connection's next
 * request only after the current response is finished, so a connection has
 * at most one request in flight and that request's state lives in its conn.
 *
 * HTTPS (--tls-cert/--tls-key) changes only the bufferevent evhttp reads
 * and writes through: tls.h makes an OpenSSL one for every accepted
 * connection, and counts its handshake. Everything above it is the same.
 */
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "config.h"
#include "decide.h"
#include "h2.h"
#include "path.h"
#include "ptrmap.h"
#include "stats.h"
#include "store.h"
#include "tls.h"

#define FS_EXIT_USAGE      2
#define FS_IDLE_TIMEOUT_S  30    /* evhttp read/write timeout; also ends stalls */
#define FS_MAX_HEADERS     8192  /* bytes of request line + headers */
#define FS_MAX_BODY        4096  /* a GET has no business sending more */
#define FS_BACKLOG         65535 /* the kernel caps it at somaxconn */
#define FS_ACCEPT_RETRY_MS 100   /* pause after accept() runs out of fds */
#define FS_FD_PRESSURE_MS  1000  /* ... and close connections after responses this long */

struct server {
    struct fsrv_config cfg;
    struct event_base *base;
    struct evhttp *http;
    struct evconnlistener *listener; /* owned by http once bound */
    struct event *sigint, *sigterm, *accept_retry;
    int accept_paused;              /* the listener is disabled after an accept() error */
    uint64_t short_of_fds_until_ms; /* FS_FD_PRESSURE_MS after the last EMFILE */
    struct store store;
    struct stats stats;
    struct ptrmap conns;   /* evhttp_connection -> struct conn */
    struct fsrv_tls tls;   /* tls.ctx NULL: plain HTTP */
    struct fsrv_site site; /* what the front ends share; bound_port set once bound */
    struct fsrv_h2 h2;     /* --http2: the front end instead of evhttp */
};

/* One client connection that has sent at least one request. */
struct conn {
    struct server *srv;
    struct evhttp_connection *evcon;
    struct event *timer;        /* the delay of the request in flight */
    struct evhttp_request *req; /* the request in flight, or NULL */
    struct fsrv_answer ans;     /* what req is answered with */
    bool close_after;           /* the request's framing was ambiguous: close once answered */
};

__attribute__((format(printf, 2, 3))) static void logmsg(const struct server *srv, const char *fmt,
                                                         ...)
{
    va_list ap;

    if (srv->cfg.quiet)
        return;
    fputs("flagserver: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---- connections and requests ---------------------------------------- */

static void on_delay_done(evutil_socket_t fd, short what, void *arg);
static void accept_resume(struct server *srv);

/* Ends the request in flight on CONN, if any, without answering it. */
static void conn_drop_request(struct conn *conn)
{
    if (conn->req == NULL)
        return;
    event_del(conn->timer);
    stats_request_end(&conn->srv->stats);
    /* A request evhttp detached from its dying connection is ours to free;
     * one still attached is freed by evhttp_connection_free. */
    if (evhttp_request_get_connection(conn->req) == NULL)
        evhttp_request_free(conn->req);
    conn->req = NULL;
}

static void conn_destroy(struct conn *conn)
{
    conn_drop_request(conn);
    stats_conn_close(&conn->srv->stats);
    event_free(conn->timer);
    free(conn);
}

/* evhttp is freeing the connection: called once, before it frees the
 * connection's requests. */
static void on_conn_close(struct evhttp_connection *evcon, void *arg)
{
    struct conn *conn = arg;
    struct server *srv = conn->srv;

    /* A clean close (not the reset fault's abort) ends TLS with close_notify. */
    if (conn->ans.fault != FSRV_FAULT_RESET)
        fsrv_tls_close_notify(evhttp_connection_get_bufferevent(evcon));
    ptrmap_del(&conn->srv->conns, evcon);
    conn_destroy(conn);
    /* The socket is closed after this callback, by evhttp or by libevent's
     * bufferevent finalizer, which runs before the loop polls again; so a
     * resumed listener finds the descriptor free (if not, accept() fails
     * again and the retry timer takes over). */
    accept_resume(srv);
}

/* A response is written in pieces (headers, then the body in several
 * segments); with Nagle's algorithm the last piece waits for the client's
 * delayed ACK, 40 ms on Linux. Best effort: a failure costs latency only. */
static void set_nodelay(const struct server *srv, struct evhttp_connection *evcon)
{
    evutil_socket_t fd = bufferevent_getfd(evhttp_connection_get_bufferevent(evcon));
    int one = 1;

    if (fd >= 0 && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
        logmsg(srv, "TCP_NODELAY: %s", strerror(errno));
}

/* Returns the conn of EVCON, creating it on its first request, or NULL when
 * memory runs out. */
static struct conn *conn_get(struct server *srv, struct evhttp_connection *evcon)
{
    struct conn *conn = ptrmap_get(&srv->conns, evcon);

    if (conn != NULL)
        return conn;
    conn = calloc(1, sizeof(*conn));
    if (conn == NULL)
        return NULL;
    conn->srv = srv;
    conn->evcon = evcon;
    conn->timer = evtimer_new(srv->base, on_delay_done, conn);
    if (conn->timer == NULL) {
        free(conn);
        return NULL;
    }
    if (ptrmap_put(&srv->conns, evcon, conn) != 0) {
        event_free(conn->timer);
        free(conn);
        return NULL;
    }
    stats_conn_open(&srv->stats, STATS_PROTO_HTTP1);
    evhttp_connection_set_closecb(evcon, on_conn_close, conn);
    set_nodelay(srv, evcon);
    return conn;
}

/* The response was written in full; evhttp frees the request after this. */
static void on_complete(struct evhttp_request *req, void *arg)
{
    struct conn *conn = arg;

    (void)req;
    stats_request_end(&conn->srv->stats);
    conn->req = NULL;
}

/* Call after handing evhttp a response (or a part of one) for EVCON.
 *
 * While it writes, evhttp turns reading back on to notice a client closing,
 * and takes an EOF on read for the connection's end: it frees the connection
 * and drops whatever output is still unsent (libevent 2.1.12 http.c,
 * evhttp_write_buffer and evhttp_error_cb). A client that half-closes after
 * its request (shutdown(SHUT_WR), then reads to EOF) lost everything past the
 * first write, 16 KiB with the headers. So reading stays off until the
 * response is out; evhttp turns it on again for the next request, and the
 * EOF then ends the connection cleanly. A client that really left is noticed
 * by the failing write instead, or by the 30 s write timeout. */
static void hold_reading(struct evhttp_connection *evcon)
{
    struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);

    if (bev != NULL)
        (void)bufferevent_disable(bev, EV_READ); /* cannot fail for a socket */
}

/* The event loop's cached wall-clock time in milliseconds (0 on failure). */
static uint64_t now_ms(const struct server *srv)
{
    struct timeval now;

    if (event_base_gettimeofday_cached(srv->base, &now) != 0)
        return 0;
    return (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_usec / 1000u;
}

/* Returns whether accept() ran out of descriptors in the last
 * FS_FD_PRESSURE_MS. */
static int short_of_fds(const struct server *srv)
{
    return now_ms(srv) < srv->short_of_fds_until_ms;
}

/* Sets Content-Type and Content-Length for a body of LEN bytes. When short
 * of descriptors, also "Connection: close" (evhttp then closes once the
 * response is out): otherwise busy keep-alive connections would hold every
 * descriptor and the connections waiting in the listen queue would starve
 * until their clients time out. This way each answered request frees a
 * descriptor for a connection waiting in line. */
static int add_headers(const struct server *srv, struct evhttp_request *req, const char *type,
                       size_t len)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    char num[32];

    snprintf(num, sizeof(num), "%zu", len);
    if (evhttp_add_header(h, "Content-Type", type) != 0 ||
        evhttp_add_header(h, "Content-Length", num) != 0)
        return -ENOMEM;
    if (short_of_fds(srv) && evhttp_add_header(h, "Connection", "close") != 0)
        return -ENOMEM;
    return 0;
}

/* Returns whether the Content-Length headers of REQ disagree: two of them
 * with different values, or one that is not a plain decimal number. evhttp
 * frames the body by the first one only, so the rest of the stream could be
 * read as a smuggled request; the clients refuse the same in a response
 * (common/xfer.c). Equal repeated values are one length (RFC 9110 8.6). */
static bool content_length_conflict(struct evhttp_request *req)
{
    const struct evkeyvalq *h = evhttp_request_get_input_headers(req);
    const struct evkeyval *kv;
    const char *first = NULL;

    TAILQ_FOREACH(kv, h, next)
    {
        if (evutil_ascii_strcasecmp(kv->key, "Content-Length") != 0)
            continue;
        if (kv->value[0] == '\0' || strspn(kv->value, "0123456789") != strlen(kv->value))
            return true;
        if (first == NULL) {
            first = kv->value;
            continue;
        }
        /* Compared as numbers: "007" and "7" are one length. */
        while (*first == '0' && first[1] != '\0')
            first++;
        const char *v = kv->value;
        while (*v == '0' && v[1] != '\0')
            v++;
        if (strcmp(first, v) != 0)
            return true;
    }
    return false;
}

/* reset: the partial body is on the wire; abort so the client sees a
 * connection reset (SO_LINGER 0) or at least a body shorter than promised. */
static void on_reset_flushed(struct evhttp_connection *evcon, void *arg)
{
    struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    evutil_socket_t fd = bufferevent_getfd(bev);

    (void)arg;
    if (fd >= 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)); /* best effort */
    evhttp_connection_free(evcon);                                    /* runs on_conn_close */
}

/* stall: the connection is ours now; input is discarded so a client cannot
 * grow our memory, and the client leaving (or FS_IDLE_TIMEOUT_S, the read
 * timeout evhttp set on this bufferevent) ends it. */
static void on_stall_read(struct bufferevent *bev, void *arg)
{
    struct evbuffer *in = bufferevent_get_input(bev);

    (void)arg;
    evbuffer_drain(in, evbuffer_get_length(in));
}

static void on_stall_event(struct bufferevent *bev, short what, void *arg)
{
    struct conn *conn = arg;

    (void)bev;
    (void)what;                          /* EOF, error or timeout: all end the stall */
    evhttp_connection_free(conn->evcon); /* runs on_conn_close */
}

/* Sends the first half of the body after full-length headers, then hands the
 * connection to the fault: reset aborts it once that half is written, stall
 * keeps it open with the body unfinished. */
static int send_partial(struct conn *conn)
{
    struct evhttp_request *req = conn->req;
    struct evbuffer *half = evbuffer_new();
    int rc = 0;

    if (half == NULL)
        return -ENOMEM;
    if (evbuffer_add_reference(half, conn->ans.body, conn->ans.body_len / 2, NULL, NULL) != 0) {
        rc = -ENOMEM;
        goto out;
    }
    evhttp_send_reply_start(req, conn->ans.status, NULL);
    if (conn->ans.fault == FSRV_FAULT_RESET) {
        evhttp_send_reply_chunk_with_cb(req, half, on_reset_flushed, conn);
        hold_reading(conn->evcon);
    } else {
        struct bufferevent *bev;

        evhttp_send_reply_chunk(req, half);
        bev = evhttp_connection_get_bufferevent(conn->evcon);
        /* Replaces evhttp's callbacks: the request is never finished, and
         * evhttp must not parse what the client may still send. */
        bufferevent_setcb(bev, on_stall_read, NULL, on_stall_event, conn);
        if (bufferevent_enable(bev, EV_READ) != 0)
            evhttp_connection_free(conn->evcon);
    }
out:
    evbuffer_free(half);
    return rc;
}

/* Answers the request in flight on CONN as decided in on_request. */
static void respond(struct conn *conn)
{
    struct evhttp_request *req = conn->req;
    int head = evhttp_request_get_command(req) == EVHTTP_REQ_HEAD;
    const char *type = conn->ans.type;

    stats_request_status(&conn->srv->stats, conn->ans.status);
    if (add_headers(conn->srv, req, type, conn->ans.body_len) != 0)
        goto fail;
    if (conn->close_after &&
        evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close") != 0)
        goto fail;
    if (conn->ans.allow &&
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD") != 0)
        goto fail;
    if (conn->ans.fault == FSRV_FAULT_RESET || conn->ans.fault == FSRV_FAULT_STALL) {
        if (send_partial(conn) != 0)
            goto fail;
        return;
    }
    if (!head && evbuffer_add_reference(evhttp_request_get_output_buffer(req), conn->ans.body,
                                        conn->ans.body_len, NULL, NULL) != 0)
        goto fail;
    evhttp_send_reply(req, conn->ans.status, NULL, NULL);
    hold_reading(conn->evcon);
    return;
fail:
    logmsg(conn->srv, "out of memory answering a request; closing its connection");
    evhttp_connection_free(conn->evcon); /* runs on_conn_close */
}

static void on_delay_done(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    respond(arg);
}

/* GET /stats (any method, in fact): answered at once, never counted. */
static void serve_stats(struct server *srv, struct evhttp_request *req,
                        const struct evhttp_uri *uri)
{
    const char *query = evhttp_uri_get_query(uri);
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    char json[16384];
    int n;

    n = fsrv_stats_page(&srv->site, query, query != NULL ? strlen(query) : 0, json, sizeof(json));
    if (n < 0 || evbuffer_add(out, json, (size_t)n) != 0 ||
        add_headers(srv, req, "application/json", (size_t)n) != 0) {
        evhttp_send_error(req, 500, NULL);
        return;
    }
    evhttp_send_reply(req, 200, NULL, NULL);
    if (evcon != NULL)
        hold_reading(evcon);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct server *srv = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *target = evhttp_request_get_uri(req);
    const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
    bool malformed = target == NULL || target[0] != '/' || content_length_conflict(req);
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    enum fsrv_method method = cmd == EVHTTP_REQ_GET    ? FSRV_METHOD_GET
                              : cmd == EVHTTP_REQ_HEAD ? FSRV_METHOD_HEAD
                                                       : FSRV_METHOD_OTHER;
    struct conn *conn;
    unsigned delay;

    /* Only an origin-form target ("/path?query") names one of our routes.
     * An absolute-form one ("http://evil/stats?reset=1") is a 400 whatever
     * its authority: flagserver is no proxy, and which names are "ours"
     * (an address, localhost, a name on another host) is not its to guess;
     * no client sends it to an origin server. So is "*" (asterisk-form). */
    if (!malformed && path != NULL && fsrv_is_stats(path, strlen(path))) {
        serve_stats(srv, req, uri);
        return;
    }
    conn = conn_get(srv, evhttp_request_get_connection(req));
    if (conn == NULL) {
        logmsg(srv, "out of memory accepting a request");
        evhttp_send_error(req, 503, NULL);
        return;
    }
    conn->req = req;
    conn->close_after = malformed;
    stats_request_begin(&srv->stats, STATS_PROTO_HTTP1);
    evhttp_request_set_on_complete_cb(req, on_complete, conn);
    fsrv_decide(&srv->site, method, path, path != NULL ? strlen(path) : 0, malformed, &conn->ans);

    delay = conn->ans.delay_ms;
    if (delay > 0) {
        struct timeval tv = {.tv_sec = delay / 1000, .tv_usec = (delay % 1000) * 1000};
        if (evtimer_add(conn->timer, &tv) == 0)
            return;
        logmsg(srv, "cannot arm a delay timer; answering at once");
    }
    respond(conn);
}

/* ---- listening, signals, main ---------------------------------------- */

/* The server whose listener is bound. libevent passes a listener's error
 * callback the listener's user data, and evhttp_bind_listener sets that to
 * its struct evhttp, not to anything of ours; so the error callback finds the
 * server here. There is one server per process. */
static struct server *listening_server;

static void accept_resume(struct server *srv);

/* fsrv_h2 hooks: a connection closed; are we short of descriptors? */
static void h2_closed(void *arg)
{
    accept_resume(arg);
}

static bool h2_short_of_fds(void *arg)
{
    return short_of_fds(arg);
}

/* Resumes accepting after a pause. */
static void accept_resume(struct server *srv)
{
    if (!srv->accept_paused || srv->listener == NULL)
        return;
    if (evconnlistener_enable(srv->listener) != 0) {
        logmsg(srv, "cannot re-enable the listener");
        return;
    }
    srv->accept_paused = 0;
}

static void on_accept_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    accept_resume(arg);
}

/* accept() failed (libevent retries EINTR, EAGAIN and ECONNABORTED itself).
 * Out of descriptors the listening socket stays readable, so accepting again
 * at once would spin: accepting pauses until a connection closes (a
 * descriptor is free again) or FS_ACCEPT_RETRY_MS pass, and the connections
 * we have keep being served. Any other error pauses the same way. */
static void on_accept_error(struct evconnlistener *listener, void *arg)
{
    struct server *srv = listening_server;
    int err = EVUTIL_SOCKET_ERROR();
    struct timeval tv = {.tv_sec = 0, .tv_usec = FS_ACCEPT_RETRY_MS * 1000};

    (void)arg; /* evhttp's struct evhttp, see listening_server */
    stats_accept_error(&srv->stats);
    if (err == EMFILE || err == ENFILE)
        srv->short_of_fds_until_ms = now_ms(srv) + FS_FD_PRESSURE_MS;
    /* At most one line per FS_ACCEPT_RETRY_MS, however many errors. */
    if (!evtimer_pending(srv->accept_retry, NULL))
        logmsg(srv, "accept: %s; pausing up to %d ms", evutil_socket_error_to_string(err),
               FS_ACCEPT_RETRY_MS);
    if (evconnlistener_disable(listener) != 0 || evtimer_add(srv->accept_retry, &tv) != 0) {
        logmsg(srv, "cannot pause the listener");
        return;
    }
    srv->accept_paused = 1;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct server *srv = arg;

    (void)what;
    logmsg(srv, "%s: shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    event_base_loopexit(srv->base, NULL);
}

/* Raises the soft descriptor limit to the hard one: each connection in
 * flight needs a descriptor, and 10,000 of them must fit. */
static void raise_nofile(struct server *srv)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        logmsg(srv, "getrlimit: %s", strerror(errno));
        return;
    }
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            logmsg(srv, "setrlimit: %s", strerror(errno));
    }
}

/* Binds the listener and prints the one "listening" line. Returns 0 or a
 * negative errno code, with a message on stderr. */
static int listen_and_announce(struct server *srv)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    char port[8], host[INET6_ADDRSTRLEN];
    const char *scheme = srv->tls.ctx != NULL ? "https" : "http";
    int rc = 0, gai;

    snprintf(port, sizeof(port), "%u", srv->cfg.port);
    gai = getaddrinfo(srv->cfg.bind, port, &hints, &ai);
    if (gai != 0) {
        fprintf(stderr, "flagserver: --bind '%s': %s\n", srv->cfg.bind, gai_strerror(gai));
        return -EINVAL;
    }
    srv->listener = evconnlistener_new_bind(
        srv->base, NULL, NULL, LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
        FS_BACKLOG, ai->ai_addr, (int)ai->ai_addrlen);
    if (srv->listener == NULL) {
        rc = errno ? -errno : -EADDRNOTAVAIL;
        fprintf(stderr, "flagserver: cannot listen on %s port %s: %s\n", srv->cfg.bind, port,
                strerror(-rc));
        goto out;
    }
    if (srv->cfg.http2) {
        /* HTTP/2 only: the listener is ours, and every connection goes to
         * h2.c (evhttp never sees one). */
        evconnlistener_set_cb(srv->listener, fsrv_h2_accept, &srv->h2);
    } else if (evhttp_bind_listener(srv->http, srv->listener) == NULL) {
        evconnlistener_free(srv->listener);
        srv->listener = NULL;
        rc = -ENOMEM;
        fprintf(stderr, "flagserver: cannot attach the listener to evhttp\n");
        goto out;
    }
    listening_server = srv;
    evconnlistener_set_error_cb(srv->listener, on_accept_error);
    if (getsockname(evconnlistener_get_fd(srv->listener), (struct sockaddr *)&ss, &sslen) != 0) {
        rc = -errno;
        fprintf(stderr, "flagserver: getsockname: %s\n", strerror(errno));
        goto out;
    }
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
        srv->site.bound_port = ntohs(sin6->sin6_port);
        printf("flagserver listening on %s://[%s]:%u/flags\n", scheme, host, srv->site.bound_port);
    } else {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
        srv->site.bound_port = ntohs(sin->sin_port);
        printf("flagserver listening on %s://%s:%u/flags\n", scheme, host, srv->site.bound_port);
    }
    if (fflush(stdout) != 0) {
        rc = -errno;
        fprintf(stderr, "flagserver: stdout: %s\n", strerror(errno));
    }
out:
    freeaddrinfo(ai);
    return rc;
}

/* Creates the event base, evhttp, signal and retry events. Returns 0 or
 * -ENOMEM; whatever was created is released by server_free. */
static int server_setup(struct server *srv)
{
    srv->base = event_base_new();
    if (srv->base == NULL)
        return -ENOMEM;
    srv->http = evhttp_new(srv->base);
    srv->sigint = evsignal_new(srv->base, SIGINT, on_signal, srv);
    srv->sigterm = evsignal_new(srv->base, SIGTERM, on_signal, srv);
    srv->accept_retry = evtimer_new(srv->base, on_accept_retry, srv);
    if (srv->http == NULL || srv->sigint == NULL || srv->sigterm == NULL ||
        srv->accept_retry == NULL)
        return -ENOMEM;
    if (evsignal_add(srv->sigint, NULL) != 0 || evsignal_add(srv->sigterm, NULL) != 0)
        return -EINVAL;
    /* Every method reaches on_request, so anything but GET/HEAD gets our
     * 405 rather than evhttp's 501. */
    evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
                                              EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                              EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                              EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    evhttp_set_timeout(srv->http, FS_IDLE_TIMEOUT_S);
    evhttp_set_max_headers_size(srv->http, FS_MAX_HEADERS);
    evhttp_set_max_body_size(srv->http, FS_MAX_BODY);
    evhttp_set_gencb(srv->http, on_request, srv);
    return 0;
}

static void server_free(struct server *srv)
{
    /* evhttp_free frees the listener, then closes every connection;
     * on_conn_close frees its conn and must not resume the listener. With
     * --http2 the listener is ours, and h2.c's connections go first. */
    if (srv->cfg.http2 && srv->listener != NULL)
        evconnlistener_free(srv->listener);
    srv->listener = NULL;
    listening_server = NULL;
    fsrv_h2_free(&srv->h2);
    if (srv->http != NULL)
        evhttp_free(srv->http);
    /* After evhttp: freeing a connection frees its SSL, whose ex_data
     * callback frees a timer of the base. */
    fsrv_tls_free(&srv->tls);
    /* Defensive: a conn whose close callback evhttp never ran. */
    for (size_t i = 0; i < srv->conns.cap; i++) {
        if (srv->conns.slots[i].key != NULL)
            conn_destroy(srv->conns.slots[i].value);
    }
    ptrmap_free(&srv->conns);
    if (srv->accept_retry != NULL)
        event_free(srv->accept_retry);
    if (srv->sigterm != NULL)
        event_free(srv->sigterm);
    if (srv->sigint != NULL)
        event_free(srv->sigint);
    if (srv->base != NULL)
        event_base_free(srv->base);
    store_free(&srv->store);
}

int main(int argc, char **argv)
{
    static struct server srv; /* large (the store table); zeroed */
    struct sigaction sa = {.sa_handler = SIG_IGN};
    char err[512];
    int rc, status = EXIT_FAILURE;

    rc = fsrv_config_parse(&srv.cfg, argc, argv, err, sizeof(err));
    if (rc == FSRV_CONFIG_HELP) {
        fsrv_config_usage(stdout);
        return EXIT_SUCCESS;
    }
    if (rc != FSRV_CONFIG_RUN) {
        fprintf(stderr, "flagserver: %s (see --help)\n", err);
        return FS_EXIT_USAGE;
    }
    stats_init(&srv.stats);
    srv.site = (struct fsrv_site){
        .cfg = &srv.cfg, .store = &srv.store, .stats = &srv.stats, .rng = srv.cfg.seed};

    /* A client closing early must cost one response, never the process. */
    if (sigaction(SIGPIPE, &sa, NULL) != 0) {
        fprintf(stderr, "flagserver: sigaction: %s\n", strerror(errno));
        return EXIT_FAILURE;
    }
    raise_nofile(&srv);

    rc = store_load(&srv.store, srv.cfg.dir, srv.cfg.quiet ? NULL : stderr);
    if (rc != 0) {
        fprintf(stderr, "flagserver: --dir '%s': %s%s\n", srv.cfg.dir, strerror(-rc),
                rc == -ENOENT ? " (it must hold a flags/ directory)" : "");
        store_free(&srv.store);
        return FS_EXIT_USAGE;
    }
    logmsg(&srv, "%zu flags loaded from %s", srv.store.count, srv.cfg.dir);

    if (ptrmap_init(&srv.conns) != 0) {
        fprintf(stderr, "flagserver: out of memory\n");
        goto out;
    }
    if (server_setup(&srv) != 0) {
        fprintf(stderr, "flagserver: cannot set up libevent\n");
        goto out;
    }
    if (srv.cfg.tls_cert != NULL) {
        rc = fsrv_tls_init(&srv.tls, srv.base, &srv.stats, srv.cfg.tls_cert, srv.cfg.tls_key,
                           srv.cfg.tls_resume, err, sizeof(err));
        if (rc == -EINVAL) {
            fprintf(stderr, "flagserver: %s\n", err);
            status = FS_EXIT_USAGE;
            goto out;
        }
        if (rc != 0) {
            fprintf(stderr, "flagserver: cannot set up TLS: %s\n", strerror(-rc));
            goto out;
        }
        evhttp_set_bevcb(srv.http, fsrv_tls_bevcb, &srv.tls);
        if (srv.cfg.http2)
            fsrv_tls_alpn_h2(&srv.tls);
        srv.site.tls = true;
        logmsg(&srv, "HTTPS with %s, session resumption %s", srv.cfg.tls_cert,
               srv.cfg.tls_resume ? "on" : "off");
    }
    if (srv.cfg.http2) {
        if (fsrv_h2_init(&srv.h2, srv.base, &srv.site, srv.tls.ctx != NULL ? &srv.tls : NULL,
                         h2_closed, h2_short_of_fds, &srv) != 0) {
            fprintf(stderr, "flagserver: out of memory\n");
            goto out;
        }
        logmsg(&srv, "HTTP/2 only (%s), at most %u streams per connection",
               srv.tls.ctx != NULL ? "h2 by ALPN" : "h2c with prior knowledge",
               srv.cfg.h2_max_streams);
    }
    if (listen_and_announce(&srv) != 0)
        goto out;
    if (event_base_dispatch(srv.base) != 0) {
        fprintf(stderr, "flagserver: event loop failed\n");
        goto out;
    }
    status = EXIT_SUCCESS;
out:
    server_free(&srv);
    return status;
}
