/* h2.c -- flagserver's HTTP/2 front end; see h2.h.
 *
 * Ownership: a struct h2_conn owns its bufferevent (and through it the
 * socket and, over TLS, the SSL), its nghttp2 session and its streams. A
 * struct h2_stream lives from the client's first HEADERS frame until nghttp2
 * closes the stream (on_stream_close) or the connection is freed, whichever
 * comes first; nghttp2_session_del does not report the streams it drops, so
 * conn_free frees what is left itself.
 *
 * Output: frames are serialised with nghttp2_session_mem_send into the
 * bufferevent's output while it holds less than FSRV_H2_OUTBUF_HIGH bytes;
 * the write callback asks for more once it drains. A client that stops
 * reading therefore stops nghttp2 from producing DATA, and what it cannot
 * send (ACKs of its own PINGs and SETTINGS) piles up inside nghttp2 until
 * its outbound-ACK bound declares a flood.
 *
 * Freeing: conn_update() is the one place a connection is freed on its own
 * (the session wants neither to read nor to write and its output is out);
 * every callback that may end a connection calls it last and touches
 * nothing after.
 */
#include "h2.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#define H2_PATH_MAX 1024 /* :path bytes kept; a longer one is a 400 */

struct h2_stream {
    struct h2_conn *conn;
    struct h2_stream *prev, *next;
    int32_t id;
    enum fsrv_method method;
    bool have_method, have_path;
    bool malformed;      /* :path too long or not in origin-form */
    bool handled;        /* the request was complete and is being answered */
    bool in_flight;      /* counted in stats' in_flight */
    bool responded;      /* the response was submitted */
    size_t header_bytes; /* RFC 9113 6.5.2 size of the header list so far */
    size_t path_len;
    char path[H2_PATH_MAX]; /* not NUL-terminated */
    struct fsrv_answer ans;
    char *page; /* /stats: the JSON, owned */
    size_t page_len;
    size_t limit;        /* body bytes to send: all, or half for reset/stall */
    size_t sent;         /* body bytes handed to nghttp2 */
    size_t mark;         /* sent at the last progress check */
    struct event *timer; /* the delay, then the progress check */
};

struct h2_conn {
    struct fsrv_h2 *h2;
    struct h2_conn *prev, *next;
    struct bufferevent *bev; /* NULL when fed by fsrv_h2_feed */
    nghttp2_session *session;
    enum stats_proto proto;
    struct h2_stream *streams;
    uint64_t open_streams;
    bool counted;    /* in stats' connections (from the first flag request) */
    bool defended;   /* a defence or a protocol error was counted: once per connection */
    bool our_goaway; /* the GOAWAY being sent is ours (counted already) */
    double reset_tokens;
    uint64_t reset_refill_ms;
    struct event *idle; /* no streams for FSRV_H2_IDLE_S */
};

static void conn_update(struct h2_conn *c);

__attribute__((format(printf, 2, 3))) static void logmsg(const struct fsrv_h2 *h2, const char *fmt,
                                                         ...)
{
    va_list ap;

    if (h2->site->cfg->quiet)
        return;
    fputs("flagserver: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static uint64_t now_ms(const struct fsrv_h2 *h2)
{
    struct timeval now;

    if (event_base_gettimeofday_cached(h2->base, &now) != 0)
        return 0;
    return (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_usec / 1000u;
}

/* Counts defence D for C, once per connection. */
static void defend(struct h2_conn *c, enum stats_h2_defence d)
{
    if (c->defended)
        return;
    c->defended = true;
    stats_h2_defence(c->h2->site->stats, d);
}

/* Ends C with a GOAWAY carrying CODE, counted as defence D. */
static void conn_goaway(struct h2_conn *c, enum stats_h2_defence d, uint32_t code)
{
    defend(c, d);
    c->our_goaway = true;
    (void)nghttp2_session_terminate_session(c->session, code); /* fails only when out of memory */
}

/* ---- streams ---------------------------------------------------------- */

static void stream_free(struct h2_stream *s)
{
    struct h2_conn *c = s->conn;
    struct timeval tv = {.tv_sec = FSRV_H2_IDLE_S, .tv_usec = 0};

    if (s->in_flight)
        stats_request_end(c->h2->site->stats);
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        c->streams = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    c->open_streams--;
    if (c->open_streams == 0 && c->idle != NULL)
        (void)evtimer_add(c->idle, &tv); /* best effort: idle connections cost a descriptor */
    event_free(s->timer);
    free(s->page);
    free(s);
}

/* The progress check, every --h2-timeout: a response that sent nothing
 * since the last check (the client holds its window at zero, or stopped
 * reading) is reset, so within one to two periods of its last DATA. A stall
 * fault's stream is ended the same way, uncounted: it is ours. */
static void on_progress(struct h2_stream *s)
{
    struct h2_conn *c = s->conn;
    struct timeval tv = {.tv_sec = c->h2->site->cfg->h2_timeout_s, .tv_usec = 0};

    if (s->sent != s->mark) {
        s->mark = s->sent;
        (void)evtimer_add(s->timer, &tv); /* cannot fail for a timer once added */
        return;
    }
    if (s->ans.fault != FSRV_FAULT_STALL)
        stats_h2_defence(c->h2->site->stats, STATS_H2_STREAM_TIMEOUT);
    (void)nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_CANCEL);
    conn_update(c);
}

/* nghttp2 data source: the body from the store (or the /stats page), up to
 * the stream's limit; then the end of the stream, or the fault. */
static ssize_t read_body(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
                         uint32_t *data_flags, nghttp2_data_source *source, void *user_data)
{
    struct h2_stream *s = source->ptr;
    const unsigned char *body = s->page != NULL ? (const unsigned char *)s->page : s->ans.body;
    size_t n = s->limit - s->sent;

    (void)session;
    (void)stream_id;
    (void)user_data;
    if (n > length)
        n = length;
    memcpy(buf, body + s->sent, n);
    s->sent += n;
    if (s->sent < s->limit)
        return (ssize_t)n;
    if (s->ans.fault == FSRV_FAULT_RESET) {
        if (n > 0)
            return (ssize_t)n;
        /* The half is out: nghttp2 resets the stream (INTERNAL_ERROR). */
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    if (s->ans.fault == FSRV_FAULT_STALL)
        return n > 0 ? (ssize_t)n : NGHTTP2_ERR_DEFERRED; /* never resumed */
    *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static nghttp2_nv make_nv(const char *name, const char *value)
{
    return (nghttp2_nv){.name = (uint8_t *)name,
                        .value = (uint8_t *)value,
                        .namelen = strlen(name),
                        .valuelen = strlen(value),
                        .flags = NGHTTP2_NV_FLAG_NONE};
}

/* Submits the response of S: headers, and the body unless a HEAD. Returns 0
 * or an nghttp2 error. */
static int stream_respond(struct h2_stream *s)
{
    struct h2_conn *c = s->conn;
    char status[8], length[24];
    nghttp2_data_provider prd = {.source.ptr = s, .read_callback = read_body};
    nghttp2_nv nva[4];
    size_t n = 0, len = s->page != NULL ? s->page_len : s->ans.body_len;
    struct timeval tv = {.tv_sec = c->h2->site->cfg->h2_timeout_s, .tv_usec = 0};
    bool head = s->method == FSRV_METHOD_HEAD && s->page == NULL;

    snprintf(status, sizeof(status), "%d", s->page != NULL ? 200 : s->ans.status);
    snprintf(length, sizeof(length), "%zu", len);
    nva[n++] = make_nv(":status", status);
    nva[n++] = make_nv("content-type", s->page != NULL ? "application/json" : s->ans.type);
    nva[n++] = make_nv("content-length", length);
    if (s->page == NULL && s->ans.allow)
        nva[n++] = make_nv("allow", "GET, HEAD");
    if (s->page == NULL)
        stats_request_status(c->h2->site->stats, s->ans.status);
    s->limit = len;
    if (s->ans.fault == FSRV_FAULT_RESET || s->ans.fault == FSRV_FAULT_STALL)
        s->limit = len / 2;
    s->responded = true;
    if (!head)
        (void)evtimer_add(s->timer, &tv); /* the progress check; best effort */
    return nghttp2_submit_response(c->session, s->id, nva, n, head ? NULL : &prd);
}

static void on_stream_timer(evutil_socket_t fd, short what, void *arg)
{
    struct h2_stream *s = arg;
    struct h2_conn *c = s->conn;

    (void)fd;
    (void)what;
    if (s->responded) {
        on_progress(s);
        return;
    }
    if (!s->handled) {
        /* The request never completed (HEADERS without END_STREAM, then
         * nothing): the slow-request attack HTTP/1.1's read timeout ends. */
        stats_h2_defence(c->h2->site->stats, STATS_H2_STREAM_TIMEOUT);
        (void)nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_CANCEL);
        conn_update(c);
        return;
    }
    /* The delay is over. */
    if (stream_respond(s) != 0)
        (void)nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, s->id,
                                        NGHTTP2_INTERNAL_ERROR);
    conn_update(c);
}

/* The request on S is complete: decide, then answer at once or after the
 * delay. Returns 0 or an nghttp2 error (fatal). */
static int stream_request(struct h2_stream *s)
{
    struct h2_conn *c = s->conn;
    struct fsrv_site *site = c->h2->site;
    const char *q = s->have_path ? memchr(s->path, '?', s->path_len) : NULL;
    size_t plen = q != NULL ? (size_t)(q - s->path) : s->path_len;

    if (s->handled)
        return 0;
    s->handled = true;
    event_del(s->timer); /* the request's own deadline */
    if (!s->have_path || s->path_len == 0 || s->path[0] != '/')
        s->malformed = true; /* nghttp2's own checks refuse these first */
    if (!s->malformed && fsrv_is_stats(s->path, plen)) {
        char json[16384];
        int n = fsrv_stats_page(site, q != NULL ? q + 1 : NULL,
                                q != NULL ? s->path_len - plen - 1 : 0, json, sizeof(json));
        if (n < 0 || (s->page = malloc((size_t)n)) == NULL)
            return nghttp2_submit_rst_stream(c->session, NGHTTP2_FLAG_NONE, s->id,
                                             NGHTTP2_INTERNAL_ERROR);
        memcpy(s->page, json, (size_t)n);
        s->page_len = (size_t)n;
        return stream_respond(s);
    }
    /* As over HTTP/1.1, a connection counts from its first flag request:
     * one that only asks for /stats is not part of a measurement. */
    if (!c->counted) {
        c->counted = true;
        stats_conn_open(site->stats, c->proto);
    }
    stats_request_begin(site->stats, c->proto);
    s->in_flight = true;
    fsrv_decide(site, s->have_method ? s->method : FSRV_METHOD_OTHER, s->path, plen, s->malformed,
                &s->ans);
    if (s->ans.delay_ms > 0) {
        struct timeval tv = {.tv_sec = s->ans.delay_ms / 1000,
                             .tv_usec = (s->ans.delay_ms % 1000) * 1000};
        if (evtimer_add(s->timer, &tv) == 0)
            return 0;
        logmsg(c->h2, "cannot arm a delay timer; answering at once");
    }
    return stream_respond(s);
}

/* ---- nghttp2 callbacks ------------------------------------------------ */

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    struct h2_conn *c = user_data;
    struct timeval tv = {.tv_sec = c->h2->site->cfg->h2_timeout_s, .tv_usec = 0};
    struct h2_stream *s;

    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    s->timer = evtimer_new(c->h2->base, on_stream_timer, s);
    if (s->timer == NULL) {
        free(s);
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    s->conn = c;
    s->id = frame->hd.stream_id;
    /* The whole request (headers, body) must arrive within --h2-timeout. */
    (void)evtimer_add(s->timer, &tv); /* best effort, like the other timers */
    s->next = c->streams;
    if (c->streams != NULL)
        c->streams->prev = s;
    c->streams = s;
    c->open_streams++;
    if (c->idle != NULL)
        event_del(c->idle);
    stats_stream_open(c->h2->site->stats, c->open_streams);
    return nghttp2_session_set_stream_user_data(session, s->id, s);
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *user_data)
{
    struct h2_conn *c = user_data;
    struct h2_stream *s = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);

    (void)flags;
    if (s == NULL || frame->hd.type != NGHTTP2_HEADERS)
        return 0;
    /* The header list size as RFC 9113 6.5.2 counts it, after HPACK
     * decoding: a small block of indexed fields can decode to much more. */
    s->header_bytes += namelen + valuelen + 32;
    if (s->header_bytes > FSRV_H2_MAX_HEADER_LIST) {
        stats_h2_defence(c->h2->site->stats, STATS_H2_HEADER_LIMIT);
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* nghttp2 resets the stream */
    }
    if (namelen == 7 && memcmp(name, ":method", 7) == 0) {
        s->have_method = true;
        if (valuelen == 3 && memcmp(value, "GET", 3) == 0)
            s->method = FSRV_METHOD_GET;
        else if (valuelen == 4 && memcmp(value, "HEAD", 4) == 0)
            s->method = FSRV_METHOD_HEAD;
        else
            s->method = FSRV_METHOD_OTHER;
    } else if (namelen == 5 && memcmp(name, ":path", 5) == 0) {
        s->have_path = true;
        if (valuelen > sizeof(s->path)) {
            s->malformed = true;
            s->path_len = 0;
        } else {
            memcpy(s->path, value, valuelen);
            s->path_len = valuelen;
        }
    }
    return 0;
}

/* RST_STREAM from the client: a token bucket per connection (CVE-2023-44487,
 * "rapid reset": a client opening and cancelling streams makes the server
 * work for requests that never count against the stream limit). */
static void on_reset_received(struct h2_conn *c)
{
    uint64_t now = now_ms(c->h2);

    if (now > c->reset_refill_ms) {
        c->reset_tokens += (double)(now - c->reset_refill_ms) * FSRV_H2_RESET_RATE / 1000.0;
        if (c->reset_tokens > FSRV_H2_RESET_BURST)
            c->reset_tokens = FSRV_H2_RESET_BURST;
        c->reset_refill_ms = now;
    }
    if (c->reset_tokens >= 1.0) {
        c->reset_tokens -= 1.0;
        return;
    }
    logmsg(c->h2, "HTTP/2 client resets streams too fast (rapid reset); GOAWAY");
    conn_goaway(c, STATS_H2_RAPID_RESET, NGHTTP2_ENHANCE_YOUR_CALM);
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    struct h2_conn *c = user_data;
    struct h2_stream *s;

    switch (frame->hd.type) {
    case NGHTTP2_HEADERS:
    case NGHTTP2_DATA:
        if (!(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
            return 0;
        s = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
        return s != NULL ? stream_request(s) : 0;
    case NGHTTP2_RST_STREAM:
        on_reset_received(c);
        return 0;
    default:
        return 0;
    }
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
                           void *user_data)
{
    struct h2_stream *s = nghttp2_session_get_stream_user_data(session, stream_id);
    struct h2_conn *c = user_data;

    (void)error_code;
    if (s == NULL)
        return 0;
    stream_free(s);
    /* Out of descriptors: a connection without streams ends, so one waiting
     * in the listen queue gets its descriptor (HTTP/1.1's Connection: close). */
    if (c->open_streams == 0 && c->h2->short_of_fds != NULL && c->h2->short_of_fds(c->h2->arg)) {
        c->our_goaway = true;
        (void)nghttp2_session_terminate_session(session, NGHTTP2_NO_ERROR);
    }
    return 0;
}

/* A GOAWAY nghttp2 sends on its own is a protocol error of the client (or
 * one of nghttp2's own limits: too many SETTINGS entries, CONTINUATIONs,
 * resets past its backstop bucket). */
static int on_frame_send(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    struct h2_conn *c = user_data;

    (void)session;
    if (frame->hd.type == NGHTTP2_GOAWAY && !c->our_goaway &&
        frame->goaway.error_code != NGHTTP2_NO_ERROR)
        defend(c, STATS_H2_PROTOCOL_ERROR);
    return 0;
}

/* ---- connections ------------------------------------------------------ */

static void conn_free(struct h2_conn *c)
{
    struct fsrv_h2 *h2 = c->h2;

    while (c->streams != NULL)
        stream_free(c->streams);
    if (c->counted)
        stats_conn_close(h2->site->stats);
    nghttp2_session_del(c->session);
    if (c->idle != NULL)
        event_free(c->idle);
    if (c->bev != NULL) {
        fsrv_tls_close_notify(c->bev);
        bufferevent_free(c->bev);
    }
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        h2->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    free(c);
    if (h2->on_close != NULL)
        h2->on_close(h2->arg);
}

/* The session failed with the nghttp2 error RC: count it and close. */
static void conn_fail(struct h2_conn *c, int rc)
{
    if (rc == NGHTTP2_ERR_FLOODED) {
        logmsg(c->h2, "HTTP/2 client floods control frames; closing its connection");
        defend(c, STATS_H2_FLOOD);
    } else if (rc != NGHTTP2_ERR_NOMEM && rc != NGHTTP2_ERR_CALLBACK_FAILURE) {
        defend(c, STATS_H2_PROTOCOL_ERROR);
    }
    conn_free(c);
}

/* Serialises what nghttp2 has to send while the output has room, then frees
 * C if the session is over and everything is out. C may be gone after. */
static void conn_update(struct h2_conn *c)
{
    struct evbuffer *out = c->bev != NULL ? bufferevent_get_output(c->bev) : NULL;

    while (out == NULL || evbuffer_get_length(out) < FSRV_H2_OUTBUF_HIGH) {
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(c->session, &data);
        if (n < 0) {
            conn_fail(c, (int)n);
            return;
        }
        if (n == 0)
            break;
        if (out != NULL && evbuffer_add(out, data, (size_t)n) != 0) {
            conn_fail(c, NGHTTP2_ERR_NOMEM);
            return;
        }
    }
    if (!nghttp2_session_want_read(c->session) && !nghttp2_session_want_write(c->session)) {
        if (out == NULL || evbuffer_get_length(out) == 0) {
            conn_free(c);
            return;
        }
        /* Called again (on_write) once the GOAWAY is out. */
        bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
        (void)bufferevent_disable(c->bev, EV_READ);
    }
}

/* Feeds what arrived to nghttp2. Returns 0 or the fatal nghttp2 error. */
static int conn_recv(struct h2_conn *c, const uint8_t *data, size_t len)
{
    while (len > 0) {
        ssize_t n = nghttp2_session_mem_recv(c->session, data, len);
        if (n < 0)
            return (int)n;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct h2_conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t len;

    while ((len = evbuffer_get_contiguous_space(in)) > 0) {
        int rc = conn_recv(c, evbuffer_pullup(in, (ssize_t)len), len);
        if (rc != 0) {
            conn_fail(c, rc);
            return;
        }
        evbuffer_drain(in, len);
    }
    conn_update(c);
}

static void on_write(struct bufferevent *bev, void *arg)
{
    (void)bev;
    conn_update(arg);
}

/* EOF, an error, or the write timeout (the client stopped reading for
 * --h2-timeout with output pending): the connection is over. */
static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct h2_conn *c = arg;

    (void)bev;
    if (what & BEV_EVENT_CONNECTED)
        return; /* the TLS handshake completed; nghttp2 reads the preface next */
    if (what & BEV_EVENT_TIMEOUT)
        defend(c, STATS_H2_STREAM_TIMEOUT);
    conn_free(c);
}

static void on_idle(evutil_socket_t fd, short what, void *arg)
{
    struct h2_conn *c = arg;

    (void)fd;
    (void)what;
    defend(c, STATS_H2_IDLE_TIMEOUT);
    c->our_goaway = true;
    (void)nghttp2_session_terminate_session(c->session, NGHTTP2_NO_ERROR);
    conn_update(c);
}

/* Makes a connection over BEV (NULL: none, for the fuzz target) and queues
 * the server's SETTINGS. Returns it, or NULL when out of memory (BEV is then
 * the caller's to free). */
static struct h2_conn *conn_new(struct fsrv_h2 *h2, struct bufferevent *bev, enum stats_proto proto)
{
    const struct fsrv_config *cfg = h2->site->cfg;
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, cfg->h2_max_streams},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, FSRV_H2_MAX_HEADER_LIST},
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
    };
    struct timeval idle = {.tv_sec = FSRV_H2_IDLE_S, .tv_usec = 0};
    struct h2_conn *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    c->h2 = h2;
    c->proto = proto;
    c->reset_tokens = FSRV_H2_RESET_BURST;
    c->reset_refill_ms = now_ms(h2);
    if (nghttp2_session_server_new2(&c->session, h2->callbacks, c, h2->option) != 0) {
        free(c);
        return NULL;
    }
    if (nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0])) !=
        0) {
        nghttp2_session_del(c->session);
        free(c);
        return NULL;
    }
    if (bev != NULL) {
        c->idle = evtimer_new(h2->base, on_idle, c);
        if (c->idle == NULL || evtimer_add(c->idle, &idle) != 0) {
            if (c->idle != NULL)
                event_free(c->idle);
            nghttp2_session_del(c->session);
            free(c);
            return NULL;
        }
    }
    c->bev = bev;
    c->next = h2->conns;
    if (h2->conns != NULL)
        h2->conns->prev = c;
    h2->conns = c;
    return c;
}

void fsrv_h2_accept(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *addr,
                    int addrlen, void *arg)
{
    struct fsrv_h2 *h2 = arg;
    struct timeval wt = {.tv_sec = h2->site->cfg->h2_timeout_s, .tv_usec = 0};
    struct bufferevent *bev;
    struct h2_conn *c;
    int one = 1;

    (void)listener;
    (void)addr;
    (void)addrlen;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
        logmsg(h2, "TCP_NODELAY: %s", strerror(errno)); /* costs latency only */
    if (h2->tls != NULL) {
        bev = fsrv_tls_bevcb(h2->base, h2->tls);
        if (bev != NULL && bufferevent_setfd(bev, fd) != 0) {
            bufferevent_free(bev); /* fd not yet its own */
            bev = NULL;
        }
    } else {
        bev = bufferevent_socket_new(h2->base, fd, BEV_OPT_CLOSE_ON_FREE);
    }
    if (bev == NULL) {
        logmsg(h2, "out of memory accepting a connection");
        evutil_closesocket(fd);
        return;
    }
    c = conn_new(h2, bev, h2->tls != NULL ? STATS_PROTO_H2 : STATS_PROTO_H2C);
    if (c == NULL) {
        logmsg(h2, "out of memory accepting a connection");
        bufferevent_free(bev);
        return;
    }
    bufferevent_setcb(bev, on_read, on_write, on_event, c);
    bufferevent_setwatermark(bev, EV_WRITE, FSRV_H2_OUTBUF_HIGH / 2, 0);
    /* No read timeout (streams may wait out long delays; idle connections
     * have their own timer); output that cannot be written for
     * --h2-timeout ends the connection. */
    bufferevent_set_timeouts(bev, NULL, &wt);
    if (bufferevent_enable(bev, EV_READ | EV_WRITE) != 0) {
        conn_free(c);
        return;
    }
    conn_update(c); /* the server preface */
}

int fsrv_h2_feed(struct fsrv_h2 *h2, const uint8_t *data, size_t len)
{
    struct h2_conn *c = conn_new(h2, NULL, STATS_PROTO_H2C);
    int rc;

    if (c == NULL)
        return NGHTTP2_ERR_NOMEM;
    rc = conn_recv(c, data, len);
    if (rc == 0)
        conn_update(c); /* may free c */
    else
        conn_fail(c, rc);
    /* Streams answered at once are done; delayed ones are dropped below. */
    (void)event_base_loop(h2->base, EVLOOP_NONBLOCK);
    while (h2->conns != NULL)
        conn_free(h2->conns);
    return rc;
}

int fsrv_h2_init(struct fsrv_h2 *h2, struct event_base *base, struct fsrv_site *site,
                 struct fsrv_tls *tls, void (*on_close)(void *), bool (*short_of_fds)(void *),
                 void *arg)
{
    nghttp2_session_callbacks *cb;

    *h2 = (struct fsrv_h2){.base = base,
                           .site = site,
                           .tls = tls,
                           .on_close = on_close,
                           .short_of_fds = short_of_fds,
                           .arg = arg};
    if (nghttp2_session_callbacks_new(&h2->callbacks) != 0 || nghttp2_option_new(&h2->option) != 0)
        return -ENOMEM;
    cb = h2->callbacks;
    nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
    nghttp2_session_callbacks_set_on_frame_send_callback(cb, on_frame_send);
    /* Our own bound on the HPACK encoder's table, whatever the client
     * allows; the decoder's is the 4,096 bytes we announce (the default). */
    nghttp2_option_set_max_deflate_dynamic_table_size(h2->option, FSRV_H2_DEFLATE_TABLE);
    nghttp2_option_set_max_outbound_ack(h2->option, FSRV_H2_MAX_ACKS);
    nghttp2_option_set_max_settings(h2->option, FSRV_H2_MAX_SETTINGS);
    nghttp2_option_set_max_continuations(h2->option, FSRV_H2_MAX_CONTINUATIONS);
    /* nghttp2's own rapid-reset bucket stays as a backstop behind ours, at
     * twice its size, so ours (which counts) acts first. */
    nghttp2_option_set_stream_reset_rate_limit(h2->option, 2 * FSRV_H2_RESET_BURST,
                                               2 * FSRV_H2_RESET_RATE);
    nghttp2_option_set_no_closed_streams(h2->option, 1);
    return 0;
}

void fsrv_h2_free(struct fsrv_h2 *h2)
{
    h2->on_close = NULL; /* the listener is gone; nothing to resume */
    while (h2->conns != NULL)
        conn_free(h2->conns);
    if (h2->option != NULL)
        nghttp2_option_del(h2->option);
    if (h2->callbacks != NULL)
        nghttp2_session_callbacks_del(h2->callbacks);
    h2->option = NULL;
    h2->callbacks = NULL;
}
