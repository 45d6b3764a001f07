/* loop.c -- libcurl multi socket API on a libevent event_base. */
#include "loop.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event_struct.h>

/* One per socket libcurl asked us to watch; attached to the socket with
 * curl_multi_assign, so libcurl hands it back on every later call. */
struct loop_sock {
    struct event ev;       /* its callback gets this struct */
    struct event kick;     /* h2_kick only: the idle kick (see on_kick) */
    struct loop_multi *lm; /* the handle the socket belongs to */
    curl_socket_t fd;
    long kick_ms; /* the next kick's delay */
};

/* The share of total that multi handle k of n gets: the shares sum to total,
 * as the slots dealt out round-robin (slot i joins handle i % n). */
static long share_of(long total, unsigned k, unsigned n)
{
    return total / n + ((unsigned long)k < (unsigned long)(total % n) ? 1 : 0);
}

static void fail(struct loop *l, int err, const char *what, const char *why)
{
    if (l->err == 0) {
        l->err = err;
        snprintf(l->msg, sizeof(l->msg), "%s: %s", what, why);
    }
    loop_stop(l);
}

/* The HTTP/2 warm-up. With PIPEWAIT every transfer waits for a connection
 * that is still connecting, so libcurl opens the capped connections one after
 * another, and the transfers waiting meanwhile sit in its pending set, which
 * 8.14.0 to 8.15.0 walk whole each time a transfer ends (curl issue #18017):
 * past about 5,000 a handle the loop's thread does little else. So the first
 * cap transfers of a handle are openers: PIPEWAIT off, each opens a
 * connection of its own, side by side. Later transfers are held, in order,
 * until every opener has connected (its PREREQFUNCTION) or ended; then they
 * join with PIPEWAIT on and fill the open connections, with nothing left to
 * wait in libcurl. The permits are taken before, so the cap stays exact.
 * docs/asyncloop.md, "The warm-up". */

/* Opener `easy` has connected or ended. */
static void gate_ready(struct loop_multi *lm, CURL *easy)
{
    for (long i = 0; i < lm->nop; i++)
        if (lm->op[i].easy == easy && !lm->op[i].ready) {
            lm->op[i].ready = true;
            lm->unready--;
            return;
        }
}

/* libcurl: an opener's connection is up (it runs before the request). */
static int on_prereq(void *clientp, char *primary_ip, char *local_ip, int primary_port,
                     int local_port)
{
    struct loop_opener *o = clientp;
    (void)primary_ip, (void)local_ip, (void)primary_port, (void)local_port;
    if (!o->ready) {
        o->ready = true;
        o->lm->unready--;
    }
    return CURL_PREREQFUNC_OK;
}

/* Adds easy to lm's multi handle; over HTTP/2 with PIPEWAIT on and no
 * PREREQFUNCTION (the handle may have been an opener's). */
static int add_now(struct loop_multi *lm, CURL *easy)
{
    if (lm->h2 && (curl_easy_setopt(easy, CURLOPT_PIPEWAIT, 1L) != CURLE_OK ||
                   curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, NULL) != CURLE_OK)) {
        snprintf(lm->loop->msg, sizeof(lm->loop->msg), "libcurl refused PIPEWAIT");
        return -EINVAL;
    }
    CURLMcode mc = curl_multi_add_handle(lm->multi, easy);
    if (mc != CURLM_OK) {
        snprintf(lm->loop->msg, sizeof(lm->loop->msg), "curl_multi_add_handle: %s",
                 curl_multi_strerror(mc));
        return -EINVAL;
    }
    return 0;
}

/* Ends the warm-up once every opener is added and none is still connecting:
 * the held transfers join the multi handle in the order they came. */
static void gate_open(struct loop_multi *lm)
{
    if (!lm->gate || lm->openers_left > 0 || lm->unready > 0)
        return;
    lm->gate = false;
    while (lm->nheld > 0) {
        CURL *easy = lm->held[lm->held_head];
        lm->held_head = (lm->held_head + 1) % lm->held_cap;
        lm->nheld--;
        if (add_now(lm, easy) != 0) {
            /* It stays busy in its slot: the stop reports it. */
            char why[96];
            snprintf(why, sizeof(why), "%.95s", lm->loop->msg);
            fail(lm->loop, -EINVAL, "a held transfer", why);
            return;
        }
    }
}

/* Hands every finished transfer to done. Called after each socket_action,
 * so no libcurl callback is on the stack and done may add new handles (they
 * start on a later socket_action, never inside this drain). */
static void drain(struct loop_multi *lm)
{
    struct loop *l = lm->loop;
    CURLMsg *m;
    int left;

    while ((m = curl_multi_info_read(lm->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
            continue;
        /* m is invalid once the handle is removed: copy what we need. */
        CURL *easy = m->easy_handle;
        CURLcode rc = m->data.result;
        CURLMcode mc = curl_multi_remove_handle(lm->multi, easy);
        if (mc != CURLM_OK) {
            fail(l, -EINVAL, "curl_multi_remove_handle", curl_multi_strerror(mc));
            return;
        }
        if (lm->gate)
            gate_ready(lm, easy);
        l->done(easy, rc, l->arg);
    }
    gate_open(lm);
}

static void socket_action(struct loop_multi *lm, curl_socket_t s, int ev_bitmask)
{
    int running;
    CURLMcode mc = curl_multi_socket_action(lm->multi, s, ev_bitmask, &running);
    if (mc != CURLM_OK) {
        fail(lm->loop, mc == CURLM_OUT_OF_MEMORY ? -ENOMEM : -EIO, "curl_multi_socket_action",
             curl_multi_strerror(mc));
        return;
    }
    drain(lm);
}

/* Arms ls's idle kick delay_ms from now. */
static void kick_arm(struct loop_sock *ls, long delay_ms)
{
    struct timeval tv = {.tv_sec = delay_ms / 1000, .tv_usec = (delay_ms % 1000) * 1000};
    if (evtimer_add(&ls->kick, &tv) != 0) /* re-adding reschedules it */
        fail(ls->lm->loop, -EIO, "evtimer_add", "failed");
}

/* libevent: watched socket arg is ready. */
static void on_event(evutil_socket_t fd, short what, void *arg)
{
    struct loop_sock *ls = arg;
    struct loop_multi *lm = ls->lm;
    int bits =
        ((what & EV_READ) ? CURL_CSELECT_IN : 0) | ((what & EV_WRITE) ? CURL_CSELECT_OUT : 0);

    /* The connection is active: its next kick is a full idle period away.
     * Before socket_action, which may free ls (CURL_POLL_REMOVE). */
    if (lm->h2_kick && evtimer_pending(&ls->kick, NULL)) {
        ls->kick_ms = LOOP_H2_KICK_MS;
        kick_arm(ls, ls->kick_ms);
    }
    socket_action(lm, fd, bits);
}

/* libevent: watched socket arg, which libcurl reads from, has been idle for
 * ls->kick_ms (h2_kick only). libcurl 7.88.0 to 8.0.1 can leave HTTP/2 input
 * it has already read from the socket unprocessed: when a stream's buffer is
 * full it pauses nghttp2 (NGHTTP2_ERR_PAUSE) with the rest of its input
 * buffer unparsed, and once that stream has taken its data nothing parses
 * the rest, because cf_h2_data_pending() tests nread_inbuf > inbuflen, which
 * never holds. The frames left there (often the last response's end) then
 * wait for the socket to become readable again: at the end of a run, for the
 * server's idle timeout (docs/http2.md, "The 30 s stall"). Telling libcurl
 * the socket is readable makes the first transfer with nothing buffered
 * parse them. curl 8.1.0 removed the pause (curl commit 744dcf22fa, PR
 * #10771). The kicks back off while the connection stays idle. */
static void on_kick(evutil_socket_t fd, short what, void *arg)
{
    struct loop_sock *ls = arg;
    struct loop_multi *lm = ls->lm;
    curl_socket_t s = ls->fd;
    (void)fd, (void)what;

    ls->kick_ms = ls->kick_ms * 2 > LOOP_H2_KICK_MAX_MS ? LOOP_H2_KICK_MAX_MS : ls->kick_ms * 2;
    kick_arm(ls, ls->kick_ms); /* before socket_action, which may free ls */
    socket_action(lm, s, CURL_CSELECT_IN);
}

/* libevent: the timeout of multi handle arg expired. */
static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    socket_action(arg, CURL_SOCKET_TIMEOUT, 0);
}

/* libcurl: watch s for what (CURL_POLL_IN/OUT/INOUT), or stop (REMOVE).
 * Returns 0, or -1 to make libcurl fail the multi handle (it then returns
 * CURLM_ABORTED_BY_CALLBACK from socket_action, which ends the loop). */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    struct loop_multi *lm = userp;
    struct loop *l = lm->loop;
    struct loop_sock *ls = socketp;
    (void)easy;

    if (what == CURL_POLL_REMOVE) {
        /* libcurl forgets the socket (and our pointer) after this call. */
        if (ls) {
            /* Fails only if ev was never assigned (a failed watch): nothing to undo. */
            (void)event_del(&ls->ev);
            if (lm->h2_kick)
                (void)evtimer_del(&ls->kick); /* assigned with ls: cannot fail */
            free(ls);
        }
        return 0;
    }

    if (!ls) {
        ls = calloc(1, sizeof(*ls));
        if (!ls) {
            fail(l, -ENOMEM, "socket context", strerror(ENOMEM));
            return -1;
        }
        ls->lm = lm;
        ls->fd = s;
        if (lm->h2_kick && evtimer_assign(&ls->kick, l->base, on_kick, ls) != 0) {
            free(ls);
            fail(l, -EIO, "evtimer_assign", "failed");
            return -1;
        }
        CURLMcode mc = curl_multi_assign(lm->multi, s, ls);
        if (mc != CURLM_OK) {
            free(ls);
            fail(l, -EINVAL, "curl_multi_assign", curl_multi_strerror(mc));
            return -1;
        }
    } else if (event_del(&ls->ev) != 0) {
        fail(l, -EIO, "event_del", "failed");
        return -1;
    }

    /* ls->ev is not pending here (new, or just deleted): it may be reassigned. */
    short kind = EV_PERSIST;
    if (what & CURL_POLL_IN)
        kind |= EV_READ;
    if (what & CURL_POLL_OUT)
        kind |= EV_WRITE;
    if (event_assign(&ls->ev, l->base, s, kind, on_event, ls) != 0 ||
        event_add(&ls->ev, NULL) != 0) {
        /* The context stays assigned; REMOVE frees it. */
        fail(l, -EIO, "event_add", "cannot watch a socket");
        return -1;
    }
    if (lm->h2_kick) {
        if (!(what & CURL_POLL_IN)) {
            (void)evtimer_del(&ls->kick); /* assigned with ls: cannot fail */
        } else if (!evtimer_pending(&ls->kick, NULL)) {
            ls->kick_ms = LOOP_H2_KICK_MS;
            kick_arm(ls, ls->kick_ms);
        }
    }
    return 0;
}

/* libcurl: call socket_action(TIMEOUT) in timeout_ms, or never (-1). Zero is
 * served by the loop too: socket_action must not be called from here. */
static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    struct loop_multi *lm = userp;
    struct loop *l = lm->loop;
    (void)multi;

    if (timeout_ms < 0) {
        if (evtimer_del(lm->timer) != 0) {
            fail(l, -EIO, "evtimer_del", "failed");
            return -1;
        }
        return 0;
    }
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    if (evtimer_add(lm->timer, &tv) != 0) { /* re-adding reschedules it */
        fail(l, -EIO, "evtimer_add", "failed");
        return -1;
    }
    return 0;
}

int loop_init(struct loop *l, unsigned nmulti, loop_done_fn done, void *arg)
{
    memset(l, 0, sizeof(*l));
    l->done = done;
    l->arg = arg;
    if (nmulti == 0)
        nmulti = 1;
    l->base = event_base_new();
    l->multis = calloc(nmulti, sizeof(*l->multis));
    if (!l->base || !l->multis)
        goto nomem;
    for (unsigned k = 0; k < nmulti; k++) {
        struct loop_multi *lm = &l->multis[k];
        lm->loop = l;
        l->nmulti = k + 1; /* loop_free frees what exists so far */
        if (!(lm->timer = evtimer_new(l->base, on_timeout, lm)))
            goto nomem;
        if (!(lm->multi = curl_multi_init()))
            goto nomem;
        if (curl_multi_setopt(lm->multi, CURLMOPT_SOCKETFUNCTION, on_socket) != CURLM_OK ||
            curl_multi_setopt(lm->multi, CURLMOPT_SOCKETDATA, lm) != CURLM_OK ||
            curl_multi_setopt(lm->multi, CURLMOPT_TIMERFUNCTION, on_timer) != CURLM_OK ||
            curl_multi_setopt(lm->multi, CURLMOPT_TIMERDATA, lm) != CURLM_OK) {
            loop_free(l);
            return -EINVAL;
        }
    }
    return 0;

nomem:
    loop_free(l);
    return -ENOMEM;
}

int loop_set_maxconnects(struct loop *l, long total)
{
    for (unsigned k = 0; k < l->nmulti; k++) {
        long n = share_of(total, k, l->nmulti);
        if (curl_multi_setopt(l->multis[k].multi, CURLMOPT_MAXCONNECTS, n > 0 ? n : 1L) != CURLM_OK)
            return -EINVAL;
    }
    return 0;
}

long loop_h2_connections(long transfers, long streams)
{
    if (transfers < 1)
        return 1;
    return (transfers + streams - 1) / streams;
}

bool loop_h2_kick_needed(unsigned version_num)
{
    return version_num >= 0x075800 && version_num < 0x080100;
}

int loop_set_http2(struct loop *l, long total, long streams)
{
    bool kick = loop_h2_kick_needed(curl_version_info(CURLVERSION_NOW)->version_num);

    for (unsigned k = 0; k < l->nmulti; k++) {
        CURLM *m = l->multis[k].multi;
        l->multis[k].h2_kick = kick;
        long share = share_of(total, k, l->nmulti);
        long cap = loop_h2_connections(share, streams);
        struct loop_multi *lm = &l->multis[k];
        /* The warm-up: the first cap transfers open the connections, the
         * rest wait for them (docs/asyncloop.md, "The warm-up"). */
        lm->h2 = true;
        lm->held_cap = share > 0 ? share : 1;
        lm->op = calloc((size_t)cap, sizeof(*lm->op));
        lm->held = calloc((size_t)lm->held_cap, sizeof(*lm->held));
        if (!lm->op || !lm->held)
            return -ENOMEM;
        lm->openers_left = cap;
        lm->gate = true;
        if (curl_multi_setopt(m, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX) != CURLM_OK ||
            curl_multi_setopt(m, CURLMOPT_MAX_CONCURRENT_STREAMS, streams) != CURLM_OK ||
            curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, cap) != CURLM_OK)
            return -EINVAL;
    }
    return 0;
}

int loop_add(struct loop *l, CURL *easy, unsigned which)
{
    struct loop_multi *lm = &l->multis[which % l->nmulti];
    if (lm->gate) {
        if (lm->openers_left > 0) {
            struct loop_opener *o = &lm->op[lm->nop];
            *o = (struct loop_opener){.lm = lm, .easy = easy};
            if (curl_easy_setopt(easy, CURLOPT_PIPEWAIT, 0L) != CURLE_OK ||
                curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, on_prereq) != CURLE_OK ||
                curl_easy_setopt(easy, CURLOPT_PREREQDATA, o) != CURLE_OK) {
                snprintf(l->msg, sizeof(l->msg), "libcurl refused an HTTP/2 opener's options");
                return -EINVAL;
            }
            CURLMcode mc = curl_multi_add_handle(lm->multi, easy);
            if (mc != CURLM_OK) {
                snprintf(l->msg, sizeof(l->msg), "curl_multi_add_handle: %s",
                         curl_multi_strerror(mc));
                return -EINVAL;
            }
            lm->nop++;
            lm->openers_left--;
            lm->unready++;
            return 0;
        }
        if (lm->unready > 0) {
            if (lm->nheld == lm->held_cap) {
                snprintf(l->msg, sizeof(l->msg), "more transfers held than permits");
                return -EOVERFLOW;
            }
            lm->held[(lm->held_head + lm->nheld) % lm->held_cap] = easy;
            lm->nheld++;
            return 0;
        }
        gate_open(lm);
    }
    return add_now(lm, easy);
}

int loop_remove(struct loop *l, CURL *easy, unsigned which)
{
    struct loop_multi *lm = &l->multis[which % l->nmulti];
    for (long i = 0; i < lm->nheld; i++) {
        long at = (lm->held_head + i) % lm->held_cap;
        if (lm->held[at] != easy)
            continue;
        /* Never added: close the gap. */
        for (long j = i; j + 1 < lm->nheld; j++)
            lm->held[(lm->held_head + j) % lm->held_cap] =
                lm->held[(lm->held_head + j + 1) % lm->held_cap];
        lm->nheld--;
        return 0;
    }
    if (lm->gate)
        gate_ready(lm, easy);
    CURLMcode mc = curl_multi_remove_handle(l->multis[which % l->nmulti].multi, easy);
    if (mc != CURLM_OK) {
        snprintf(l->msg, sizeof(l->msg), "curl_multi_remove_handle: %s", curl_multi_strerror(mc));
        return -EINVAL;
    }
    return 0;
}

int loop_run(struct loop *l)
{
    if (l->err == 0 && event_base_dispatch(l->base) < 0)
        fail(l, -EIO, "event_base_dispatch", "failed");
    return l->err;
}

void loop_stop(struct loop *l)
{
    if (l->base)
        (void)event_base_loopbreak(l->base); /* fails only without a base */
}

void loop_free(struct loop *l)
{
    /* The multi handles first: their cleanup closes cached connections and
     * calls on_socket(REMOVE), which needs the event base. */
    for (unsigned k = 0; k < l->nmulti; k++) {
        struct loop_multi *lm = &l->multis[k];
        if (lm->multi)
            (void)curl_multi_cleanup(
                lm->multi); /* fails only for a bad handle or from a callback */
        if (lm->timer)
            event_free(lm->timer);
        free(lm->op);
        free(lm->held);
    }
    free(l->multis);
    if (l->base)
        event_base_free(l->base);
    l->multis = NULL;
    l->nmulti = 0;
    l->base = NULL;
}
