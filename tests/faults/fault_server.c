/* fault_server.c -- a tiny HTTP/1.1 listener that misbehaves on purpose.
 *
 * flagserver covers the faults a benchmark needs (delays, 5xx, resets, stalls);
 * this listener covers the ones a real network adds and flagserver must never
 * do: closing without a reply, a body shorter than its Content-Length,
 * arbitrary statuses, redirects and redirect loops. The first path segment
 * picks the behaviour; the rest is the flag path the client appended:
 *
 *   /close/...        read the request, close without replying
 *   /short/...        200, Content-Length 1000, 100 bytes, then FIN
 *   /reset/...        200, Content-Length 1000, 100 bytes, then RST
 *   /stall/...        200, Content-Length 1000, 100 bytes, then nothing
 *   /silent/...       read the request, never answer
 *   /status/NNN/...   status NNN with a short body
 *   /moved/cc/cc.gif  301 to TARGET/cc/cc.gif (TARGET from argv[1])
 *   /loop/...         301 to the same URL, forever
 *   /dupcl/...        200 with two different Content-Length headers (100 and 50)
 *   /clte/...         200, Content-Length 100 and Transfer-Encoding: chunked
 *   /big/...          200, Content-Length and a body of BIG_BODY (17 MiB) bytes
 *   /bigclose/...     200, no Content-Length, BIG_BODY bytes, then FIN
 *
 * Two more listeners misbehave before any HTTP, for https clients, which send
 * a TLS ClientHello first:
 *
 *   tls-stall   accept, read whatever comes, never answer (a handshake that
 *               stalls until the client's --timeout)
 *   tls-reset   read the whole ClientHello record, then reset the connection
 *               (SO_LINGER 0): a reset in the middle of the handshake
 *
 * Usage: fault_server [TARGET]. Listens on 127.0.0.1, free ports, and prints
 * "fault_server listening on http://127.0.0.1:PORT", then
 * "fault_server tls-stall on https://127.0.0.1:PORT" and
 * "fault_server tls-reset on https://127.0.0.1:PORT" on stdout. Exits on
 * SIGTERM/SIGINT. Test code: one connection = one request, then close.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_REQUEST 8192
#define BIG_BODY    (17u * 1024u * 1024u) /* just over the old 16 MiB cap */

/* The /big bodies: one zero-filled buffer referenced by every reply, so the
 * server's memory does not grow with the number of connections. */
static char big_body[BIG_BODY];

static const char *target = "";

static const char BODY100[] = "GIF89a"
                              "0123456789012345678901234567890123456789"
                              "0123456789012345678901234567890123456789"
                              "01234567890123";

static void close_now(struct bufferevent *bev, int reset)
{
    if (reset) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        evutil_socket_t fd = bufferevent_getfd(bev);
        (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    bufferevent_free(bev); /* BEV_OPT_CLOSE_ON_FREE closes the socket */
}

/* After the reply is flushed: close (FIN), or keep the connection open. */
static void on_flushed_close(struct bufferevent *bev, void *arg)
{
    (void)arg;
    if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
        close_now(bev, 0);
}

static void on_flushed_reset(struct bufferevent *bev, void *arg)
{
    (void)arg;
    if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
        close_now(bev, 1);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    (void)arg;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
        close_now(bev, 0);
}

/* Ignores whatever the client sends after its request. */
static void on_read_discard(struct bufferevent *bev, void *arg)
{
    (void)arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    evbuffer_drain(in, evbuffer_get_length(in));
}

static void respond(struct bufferevent *bev, const char *path)
{
    struct evbuffer *out = bufferevent_get_output(bev);
    bufferevent_data_cb after = on_flushed_close;
    static const char close_hdr[] = "Connection: close\r\n\r\n";

    if (strncmp(path, "/close/", 7) == 0) {
        close_now(bev, 0);
        return;
    }
    if (strncmp(path, "/silent/", 8) == 0) {
        bufferevent_setcb(bev, on_read_discard, NULL, on_event, NULL);
        return;
    }
    if (strncmp(path, "/short/", 7) == 0 || strncmp(path, "/reset/", 7) == 0 ||
        strncmp(path, "/stall/", 7) == 0) {
        evbuffer_add_printf(out,
                            "HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\n"
                            "Content-Length: 1000\r\n%s%s",
                            close_hdr, BODY100);
        if (strncmp(path, "/reset/", 7) == 0)
            after = on_flushed_reset;
        else if (strncmp(path, "/stall/", 7) == 0)
            after = NULL; /* hold the connection until the client gives up */
    } else if (strncmp(path, "/dupcl/", 7) == 0) {
        evbuffer_add_printf(out,
                            "HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\n"
                            "Content-Length: 100\r\nContent-Length: 50\r\n%s%s",
                            close_hdr, BODY100);
    } else if (strncmp(path, "/clte/", 6) == 0) {
        evbuffer_add_printf(out,
                            "HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\n"
                            "Content-Length: 100\r\nTransfer-Encoding: chunked\r\n%s"
                            "32\r\n%.50s\r\n0\r\n\r\n",
                            close_hdr, BODY100);
    } else if (strncmp(path, "/big/", 5) == 0 || strncmp(path, "/bigclose/", 10) == 0) {
        if (strncmp(path, "/big/", 5) == 0)
            evbuffer_add_printf(out,
                                "HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\n"
                                "Content-Length: %u\r\n%s",
                                BIG_BODY, close_hdr);
        else
            evbuffer_add_printf(out, "HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\n%s", close_hdr);
        memcpy(big_body, "GIF89a", 6);
        evbuffer_add_reference(out, big_body, sizeof(big_body), NULL, NULL);
    } else if (strncmp(path, "/status/", 8) == 0) {
        evbuffer_add_printf(out,
                            "HTTP/1.1 %.3s Fault\r\nContent-Type: text/plain\r\n"
                            "Content-Length: 6\r\n%sfault\n",
                            path + 8, close_hdr);
    } else if (strncmp(path, "/moved/", 7) == 0) {
        evbuffer_add_printf(out,
                            "HTTP/1.1 301 Moved Permanently\r\nLocation: %s%s\r\n"
                            "Content-Length: 0\r\n%s",
                            target, path + 6, close_hdr);
    } else if (strncmp(path, "/loop/", 6) == 0) {
        evbuffer_add_printf(out,
                            "HTTP/1.1 301 Moved Permanently\r\nLocation: %s\r\n"
                            "Content-Length: 0\r\n%s",
                            path, close_hdr);
    } else {
        evbuffer_add_printf(out, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n%s", close_hdr);
    }
    bufferevent_setcb(bev, on_read_discard, after, on_event, NULL);
}

static void on_request(struct bufferevent *bev, void *arg)
{
    (void)arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
    char line[1024], path[1024];

    if (end.pos < 0) {
        if (evbuffer_get_length(in) > MAX_REQUEST)
            close_now(bev, 0);
        return; /* wait for the whole header block */
    }
    size_t n =
        evbuffer_get_length(in) < sizeof(line) - 1 ? evbuffer_get_length(in) : sizeof(line) - 1;
    evbuffer_copyout(in, line, n);
    line[n] = '\0';
    evbuffer_drain(in, evbuffer_get_length(in));
    if (sscanf(line, "%*s %1023s", path) != 1) {
        close_now(bev, 0);
        return;
    }
    respond(bev, path);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
                      void *arg)
{
    (void)sa, (void)len, (void)arg;
    struct event_base *base = evconnlistener_get_base(l);
    struct bufferevent *bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        close(fd);
        return;
    }
    bufferevent_setcb(bev, on_request, NULL, on_event, NULL);
    if (bufferevent_enable(bev, EV_READ | EV_WRITE) != 0)
        bufferevent_free(bev);
}

/* tls-reset: waits for one whole TLS record (5-byte header, then its length),
 * the ClientHello, and resets the connection instead of answering. */
static void on_hello_reset(struct bufferevent *bev, void *arg)
{
    (void)arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    unsigned char hdr[5];

    if (evbuffer_copyout(in, hdr, sizeof(hdr)) < (ev_ssize_t)sizeof(hdr))
        return;
    size_t record = sizeof(hdr) + ((size_t)hdr[3] << 8 | hdr[4]);
    if (evbuffer_get_length(in) >= record || evbuffer_get_length(in) > MAX_REQUEST)
        close_now(bev, 1);
}

/* tls-stall and tls-reset: the behaviour is the listener's (arg). */
static void on_accept_tls(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                          int len, void *arg)
{
    (void)sa, (void)len;
    struct event_base *base = evconnlistener_get_base(l);
    struct bufferevent *bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!bev) {
        close(fd);
        return;
    }
    bufferevent_setcb(bev, arg ? on_hello_reset : on_read_discard, NULL, on_event, NULL);
    if (bufferevent_enable(bev, EV_READ | EV_WRITE) != 0)
        bufferevent_free(bev);
}

/* Opens a listener on a free port of 127.0.0.1; returns it (NULL on error)
 * and its port in *port. */
static struct evconnlistener *listen_on(struct event_base *base, evconnlistener_cb cb, void *arg,
                                        unsigned *port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = 0};
    socklen_t slen = sizeof(sin);

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct evconnlistener *l =
        evconnlistener_new_bind(base, cb, arg, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 512,
                                (struct sockaddr *)&sin, sizeof(sin));
    if (!l)
        return NULL;
    if (getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&sin, &slen) != 0) {
        evconnlistener_free(l);
        return NULL;
    }
    *port = ntohs(sin.sin_port);
    return l;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig, (void)what;
    event_base_loopexit(arg, NULL);
}

int main(int argc, char **argv)
{
    static int reset_mode = 1; /* on_accept_tls's arg: non-NULL resets */
    unsigned port = 0, stall_port = 0, reset_port = 0;
    int rc = 1;

    if (argc > 1)
        target = argv[1];
    signal(SIGPIPE, SIG_IGN);

    struct event_base *base = event_base_new();
    if (!base)
        return 1;
    struct evconnlistener *l = listen_on(base, on_accept, NULL, &port);
    struct evconnlistener *stall = listen_on(base, on_accept_tls, NULL, &stall_port);
    struct evconnlistener *reset = listen_on(base, on_accept_tls, &reset_mode, &reset_port);
    struct event *sigint = evsignal_new(base, SIGINT, on_signal, base);
    struct event *sigterm = evsignal_new(base, SIGTERM, on_signal, base);
    if (!l || !stall || !reset || !sigint || !sigterm || event_add(sigint, NULL) ||
        event_add(sigterm, NULL)) {
        fprintf(stderr, "fault_server: cannot listen: %s\n", strerror(errno));
        goto out;
    }
    printf("fault_server listening on http://127.0.0.1:%u\n", port);
    printf("fault_server tls-stall on https://127.0.0.1:%u\n", stall_port);
    printf("fault_server tls-reset on https://127.0.0.1:%u\n", reset_port);
    fflush(stdout);
    rc = event_base_dispatch(base) < 0 ? 1 : 0;
out:
    if (sigint)
        event_free(sigint);
    if (sigterm)
        event_free(sigterm);
    if (l)
        evconnlistener_free(l);
    if (stall)
        evconnlistener_free(stall);
    if (reset)
        evconnlistener_free(reset);
    event_base_free(base);
    return rc;
}
