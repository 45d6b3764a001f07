/* loop.h -- libcurl's multi socket API driven by a libevent event_base.
 *
 * The glue of curl's docs/examples/multi-event.c and ephiperfifo.c, with every
 * return code checked. libcurl tells the loop which sockets to watch
 * (CURLMOPT_SOCKETFUNCTION: one struct event per socket, attached to the
 * socket with curl_multi_assign) and when to wake up (CURLMOPT_TIMERFUNCTION:
 * one one-shot timer); the loop calls curl_multi_socket_action when a socket
 * is ready or the timer fires, and after EVERY socket_action drains
 * curl_multi_info_read, handing each finished transfer to the done callback.
 *
 * Re-entrancy: done runs after socket_action has returned, outside every
 * libcurl callback, so it may call loop_add()/loop_remove() (libcurl refuses
 * curl_multi_add_handle from inside its own callbacks). The socket and timer
 * callbacks never call back into libcurl; a zero timeout is served by the
 * timer event on the next loop iteration.
 *
 * Several multi handles (loop_init's nmulti > 1, flags_asyncloop --multis)
 * share the one event base, each with its own socket and timer callbacks and
 * its own connection cache; a transfer joins handle `which % nmulti`. libcurl
 * looks for a reusable connection by walking every connection to the host in
 * the handle's cache, so n handles make that walk n times shorter
 * (docs/asyncloop.md, "10,000 in flight").
 *
 * Not thread-safe: a loop and its handles belong to the thread running it.
 */
#ifndef FLAGS_LOOP_H
#define FLAGS_LOOP_H

#include <stdbool.h>

#include <curl/curl.h>
#include <event2/event.h>

/* A finished transfer: easy has already been removed from the multi handle;
 * rc is its CURLcode. */
typedef void (*loop_done_fn)(CURL *easy, CURLcode rc, void *arg);

/* An HTTP/2 warm-up transfer: it opens a connection of its own. */
struct loop_opener {
    struct loop_multi *lm;
    CURL *easy;
    bool ready; /* connected (its PREREQFUNCTION ran) or ended */
};

/* One multi handle of a loop and its one timeout. */
struct loop_multi {
    CURLM *multi;        /* owned */
    struct event *timer; /* owned; this handle's timeout */
    struct loop *loop;   /* the loop it belongs to */
    bool h2_kick;        /* kick idle sockets (loop_h2_kick_needed) */
    /* The HTTP/2 warm-up (loop_set_http2): the handle's first `cap`
     * transfers open its connections side by side; the ones after them are
     * held here until every opener has connected or ended. */
    bool h2;                /* --http2: PIPEWAIT and PREREQFUNCTION set on each add */
    bool gate;              /* warming up */
    long openers_left;      /* openers still to add */
    struct loop_opener *op; /* owned; the openers added, nop of them */
    long nop;
    long unready; /* openers added, neither connected nor ended */
    CURL **held;  /* owned; a ring of held_cap: nheld held, from held_head */
    long held_head, nheld, held_cap;
};

struct loop {
    struct event_base *base;   /* owned */
    struct loop_multi *multis; /* owned, nmulti of them */
    unsigned nmulti;           /* at least 1 after a successful init */
    loop_done_fn done;
    void *arg;
    int err;       /* first fatal error, negative errno-style; 0 if none */
    char msg[128]; /* err explained in one line */
};

/* Creates l's event base and nmulti multi handles (0 counts as 1) and wires
 * the callbacks. done(arg) is called for each finished transfer. Returns 0,
 * -ENOMEM, or -EINVAL if libcurl refused an option. On error l holds nothing
 * that needs freeing. */
int loop_init(struct loop *l, unsigned nmulti, loop_done_fn done, void *arg);

/* Sets CURLMOPT_MAXCONNECTS so that the handles' caches hold total
 * connections between them, dealt out as the transfers are (handle k keeps
 * as many as the `which` values k, k + nmulti, ... below total). Returns 0
 * or -EINVAL if libcurl refused it. */
int loop_set_maxconnects(struct loop *l, long total);

/* The streams libcurl opens on one HTTP/2 connection at most
 * (CURLMOPT_MAX_CONCURRENT_STREAMS; libcurl's default, and the
 * SETTINGS_MAX_CONCURRENT_STREAMS of nginx, nghttpd and most servers, the
 * least RFC 9113 recommends). A server that allows fewer is obeyed. */
#define LOOP_H2_STREAMS 100L

/* The connections a multi handle with `transfers` in flight at most may open
 * over HTTP/2 when each carries `streams`: ceil(transfers / streams), at least
 * 1. */
long loop_h2_connections(long transfers, long streams);

/* The idle kick of loop_h2_kick_needed: a socket libcurl reads from that has
 * had no event for LOOP_H2_KICK_MS is handed to libcurl as readable; while it
 * stays idle the delay doubles up to LOOP_H2_KICK_MAX_MS. */
#define LOOP_H2_KICK_MS     20L
#define LOOP_H2_KICK_MAX_MS 1000L

/* Whether the libcurl of version_num (curl_version_info's) can leave HTTP/2
 * frames it has read unprocessed until the socket is readable again:
 * 7.88.0 to 8.0.1 (docs/http2.md, "The 30 s stall"). With it, loop_set_http2
 * makes the loop kick idle sockets. */
bool loop_h2_kick_needed(unsigned version_num);

/* --http2: makes every multi handle multiplex (CURLPIPE_MULTIPLEX, up to
 * `streams` per connection) and caps the connections to the one host that
 * handle k opens at loop_h2_connections(its share of total, streams), the
 * share dealt out as in loop_set_maxconnects. Without the cap libcurl 7.88
 * opens a new connection for every transfer that finds the others full
 * (docs/asyncloop.md, "HTTP/2"). Each handle warms up: its first cap
 * transfers open the connections side by side, and the ones after them are
 * held until those have connected or ended (loop.c, "The HTTP/2 warm-up").
 * With a libcurl loop_h2_kick_needed names, also turns on the idle kick.
 * Returns 0, -ENOMEM, or -EINVAL if libcurl refused an option. */
int loop_set_http2(struct loop *l, long total, long streams);

/* Adds easy to multi handle which % nmulti; it starts on the next loop
 * iteration, or, held by the HTTP/2 warm-up, once the handle's openers have
 * connected. Returns 0, or -EINVAL (-EOVERFLOW: more held than the handle's
 * share) with l->msg set. Must not be called from a libcurl callback. */
int loop_add(struct loop *l, CURL *easy, unsigned which);

/* Removes a running or held transfer (e.g. on cancellation) from handle
 * which % nmulti, the one loop_add put it in, without calling done. Returns
 * 0, or -EINVAL with l->msg set. */
int loop_remove(struct loop *l, CURL *easy, unsigned which);

/* Runs the loop until loop_stop() or a fatal error. Returns 0 or l->err. */
int loop_run(struct loop *l);

/* Makes loop_run() return after the current callback. */
void loop_stop(struct loop *l);

/* Frees what l owns, closing the cached connections. Transfers still added
 * should have been removed first (libcurl detaches them; their easy handles
 * stay the caller's). Safe on a failed init and twice. */
void loop_free(struct loop *l);

#endif /* FLAGS_LOOP_H */
