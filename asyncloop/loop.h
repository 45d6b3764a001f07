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
 * Not thread-safe: a loop and its handles belong to the thread running it.
 */
#ifndef FLAGS_LOOP_H
#define FLAGS_LOOP_H

#include <curl/curl.h>
#include <event2/event.h>

/* A finished transfer: easy has already been removed from the multi handle;
 * rc is its CURLcode. */
typedef void (*loop_done_fn)(CURL *easy, CURLcode rc, void *arg);

struct loop {
    struct event_base *base; /* owned */
    CURLM *multi;            /* owned */
    struct event *timer;     /* owned; libcurl's one timeout */
    loop_done_fn done;
    void *arg;
    int err;       /* first fatal error, negative errno-style; 0 if none */
    char msg[128]; /* err explained in one line */
};

/* Creates l's event base and multi handle and wires the callbacks. done(arg)
 * is called for each finished transfer. Returns 0, -ENOMEM, or -EINVAL if
 * libcurl refused an option. On error l holds nothing that needs freeing. */
int loop_init(struct loop *l, loop_done_fn done, void *arg);

/* Adds easy to the multi handle; it starts on the next loop iteration.
 * Returns 0, or -EINVAL with l->msg set if libcurl refused it. Must not be
 * called from a libcurl callback. */
int loop_add(struct loop *l, CURL *easy);

/* Removes a running transfer (e.g. on cancellation) without calling done.
 * Returns 0, or -EINVAL with l->msg set. */
int loop_remove(struct loop *l, CURL *easy);

/* Runs the loop until loop_stop() or a fatal error. Returns 0 or l->err. */
int loop_run(struct loop *l);

/* Makes loop_run() return after the current callback. */
void loop_stop(struct loop *l);

/* Frees what l owns, closing the cached connections. Transfers still added
 * should have been removed first (libcurl detaches them; their easy handles
 * stay the caller's). Safe on a failed init and twice. */
void loop_free(struct loop *l);

#endif /* FLAGS_LOOP_H */
