/* test_loop.c -- asyncloop_download_many end to end, without the common main.
 *
 * A small evhttp server runs on 127.0.0.1 (a free port) in a child process and
 * serves /flags/cc/cc.gif with a body unique to the code (404 for "ZZ"),
 * after an optional delay, counting the requests in flight and their peak.
 * The backend runs on the main thread, as the common main would run it. The
 * checks: every index reported exactly once, on the calling thread; files
 * byte-identical; 404 and transport errors classified; the cap is exact (peak
 * in flight == concur_req); connections are reused (connects <= concur_req);
 * a per-request timeout; and SIGINT cancels queued and running requests.
 *
 * Run as `test_asyncloop_loop [LOOPS SAVE_THREADS [MULTIS]]`, every case runs
 * with --loops LOOPS, --save-threads SAVE_THREADS and --multis MULTIS (with
 * MULTIS > 1, "connects <= concur_req" checks that each slot keeps to its own
 * multi handle's connection cache): with LOOPS > 1 the exact cap
 * checks the permits the loops share (their shares must sum to m, none
 * exceeded) and "exactly once" checks the shared counter; with SAVE_THREADS
 * > 0 every OK result must find its file already saved (the saver handoff
 * reports a request only after its save) and no temporary file behind.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "cancel.h"
#include "check.h"
#include "download.h"
#include "loop.h"
#include "flags.h"
#include "save.h"

/* ---- the server (its own process and event base) ----
 *
 * A child process, not a thread: TSan models file descriptors as memory, and a
 * server thread's epoll_ctl on fd 22 "races" with the client's close of a
 * later file that reused the number (no shared memory, only atomics). Its
 * counters live in a MAP_SHARED page, lock-free atomics work across the two
 * processes. */

static struct srv_state {
    struct event_base *base;
    struct evhttp *http;
    struct event *ticker;
    int port;
    atomic_int delay_ms;
    atomic_int in_flight, peak, served;
    atomic_int sigint_after; /* > 0: raise SIGINT once this many requests arrived */
    atomic_bool quit;
} * srvp;
#define srv (*srvp)
static pid_t server_pid;

static size_t body_for(const char *cc, char *buf, size_t cap)
{
    /* Distinct per code, and of a different length per code. */
    size_t n = 300 + (size_t)((cc[0] * 31 + cc[1]) % 700);
    if (n > cap)
        n = cap;
    memcpy(buf, "GIF89a", 6);
    for (size_t i = 6; i < n; i++)
        buf[i] = (char)(cc[i % 2] + (int)(i % 7));
    return n;
}

static void reply(evutil_socket_t fd, short what, void *arg)
{
    struct evhttp_request *req = arg;
    const char *uri = evhttp_request_get_uri(req);
    char cc[3] = {0};
    char body[1024];
    (void)fd, (void)what;

    /* /flags/xx/xx.gif */
    const char *p = strrchr(uri, '/');
    if (p && strlen(p) == 7 && strcmp(p + 3, ".gif") == 0) {
        cc[0] = (char)(p[1] & ~0x20);
        cc[1] = (char)(p[2] & ~0x20);
    }
    atomic_fetch_sub(&srv.in_flight, 1);
    if (cc[0] == 0 || strcmp(cc, "ZZ") == 0) {
        evhttp_send_error(req, 404, "Not Found");
        return;
    }
    struct evbuffer *out = evbuffer_new();
    if (!out || evbuffer_add(out, body, body_for(cc, body, sizeof(body))) != 0) {
        evhttp_send_error(req, 500, "Internal Server Error");
    } else {
        evhttp_send_reply(req, 200, "OK", out);
    }
    if (out)
        evbuffer_free(out);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    (void)arg;
    int now = atomic_fetch_add(&srv.in_flight, 1) + 1;
    int peak = atomic_load(&srv.peak);
    while (now > peak && !atomic_compare_exchange_weak(&srv.peak, &peak, now))
        ;
    int n = atomic_fetch_add(&srv.served, 1) + 1;
    int sig_at = atomic_load(&srv.sigint_after);
    if (sig_at > 0 && n == sig_at)
        kill(getppid(), SIGINT); /* the client */
    int d = atomic_load(&srv.delay_ms);
    struct timeval tv = {.tv_sec = d / 1000, .tv_usec = (d % 1000) * 1000};
    if (event_base_once(srv.base, -1, EV_TIMEOUT, reply, req, &tv) != 0)
        evhttp_send_error(req, 500, "Internal Server Error");
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    if (atomic_load(&srv.quit))
        event_base_loopbreak(srv.base);
}

static int server_start(void)
{
    srvp = mmap(NULL, sizeof(*srvp), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (srvp == MAP_FAILED)
        return -errno;
    srv.base = event_base_new();
    if (!srv.base)
        return -ENOMEM;
    srv.http = evhttp_new(srv.base);
    if (!srv.http)
        return -ENOMEM;
    evhttp_set_gencb(srv.http, on_request, NULL);
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(srv.http, "127.0.0.1", 0);
    if (!bs)
        return -EADDRINUSE;
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sa, &len) != 0)
        return -errno;
    srv.port = ntohs(sa.sin_port);
    /* The loop is only touched from its own thread; quit is polled. */
    srv.ticker = event_new(srv.base, -1, EV_PERSIST, on_tick, NULL);
    struct timeval tv = {0, 20000};
    if (!srv.ticker || event_add(srv.ticker, &tv) != 0)
        return -ENOMEM;
    /* Forked before the client starts any thread; the loop is the child's. */
    server_pid = fork();
    if (server_pid < 0)
        return -errno;
    if (server_pid == 0) {
        if (event_reinit(srv.base) == 0)
            event_base_dispatch(srv.base);
        _exit(0);
    }
    return 0;
}

static void server_stop(void)
{
    atomic_store(&srv.quit, true);
    (void)waitpid(server_pid, NULL, 0);
    /* The parent's copies, made before the fork (its descriptors too). */
    evhttp_free(srv.http);
    event_free(srv.ticker);
    event_base_free(srv.base);
}

static void server_reset(int delay_ms)
{
    atomic_store(&srv.delay_ms, delay_ms);
    atomic_store(&srv.peak, 0);
    atomic_store(&srv.served, 0);
}

/* ---- the client side ---- */

#define MAXREQ 400

struct tally {
    pthread_t caller;
    const char (*cc)[3];
    size_t ncodes;
    int calls[MAXREQ];
    int by_status[4];
    long connects;
    int wrong_thread;
    int unsaved; /* OK results whose file did not exist yet when reported */
    char first_msg[256];
};

static unsigned mode_loops = 1, mode_save = 0; /* argv: the variant under test */
static unsigned mode_multis = 1;               /* argv[3], optional: --multis */
static int outdir_fd = -1;
/* The programs' saver (common/main.c makes one per run): the tests measure the
 * save path the programs take, serialised renames included. */
static struct flags_saver saver;

static void on_done(const struct flags_result *res, void *arg)
{
    struct tally *t = arg;
    if (!pthread_equal(pthread_self(), t->caller))
        t->wrong_thread++;
    if (res->index < MAXREQ)
        t->calls[res->index]++;
    if ((unsigned)res->status < 4)
        t->by_status[res->status]++;
    if (res->status == FLAGS_OK && res->index < MAXREQ) {
        /* The run's codes are the test's own: the file must be there now. */
        char name[16];
        snprintf(name, sizeof(name), "%s.gif", t->cc[res->index % t->ncodes]);
        if (faccessat(outdir_fd, name, F_OK, 0) != 0)
            t->unsaved++;
    }
    t->connects += res->connects;
    if (res->msg[0] && !t->first_msg[0])
        snprintf(t->first_msg, sizeof(t->first_msg), "%s", res->msg);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char outdir[] = "/tmp/flagbench-asyncloop.XXXXXX";

static const char codes[][3] = {"AR", "BD", "BR", "CD", "CN", "DE", "EG", "ET", "FR", "ID",
                                "IN", "IR", "JP", "MX", "NG", "PH", "PK", "RU", "TR", "US"};
#define NCODES (sizeof(codes) / sizeof(codes[0]))

/* True if the output directory holds no temporary file; with spares_too 0
 * the saver's idle spares (".spare.*.part", old files kept for reuse until
 * flags_saver_free) do not count. */
static int no_debris_but(int spares_too)
{
    int fd = dup(outdir_fd), clean = 1;
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *e;
    if (!d)
        return 0;
    rewinddir(d);
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".part") && (spares_too || strncmp(e->d_name, ".spare.", 7) != 0))
            clean = 0;
    closedir(d);
    return clean;
}

static int no_debris(void)
{
    return no_debris_but(0);
}

/* Runs one job and checks the accounting every job must satisfy. */
static int run(struct tally *t, const char (*cc)[3], size_t ncodes, size_t requests, unsigned m,
               const char *base, long timeout_ms, double *elapsed)
{
    struct flags_job job = {.codes = cc,
                            .ncodes = ncodes,
                            .requests = requests,
                            .base_url = base,
                            .outdir_fd = outdir_fd,
                            .saver = &saver,
                            .concur_req = m,
                            .timeout_ms = timeout_ms,
                            .loops = mode_loops,
                            .save_threads = mode_save,
                            .multis = mode_multis};
    memset(t, 0, sizeof(*t));
    t->caller = pthread_self();
    t->cc = cc;
    t->ncodes = ncodes;
    for (size_t i = 0; i < ncodes; i++) { /* "saved when reported" needs a clean slate */
        char name[16];
        snprintf(name, sizeof(name), "%s.gif", cc[i]);
        (void)unlinkat(outdir_fd, name, 0);
    }
    double t0 = now_s();
    int rc = asyncloop_download_many(&job, on_done, t);
    if (elapsed)
        *elapsed = now_s() - t0;
    int once = 1;
    for (size_t i = 0; i < requests; i++)
        once &= t->calls[i] == 1;
    CHECK(once); /* every index exactly once */
    CHECK_EQ_LONG(t->wrong_thread, 0);
    CHECK_EQ_LONG(t->unsaved, 0);
    CHECK_EQ_LONG(no_debris(), 1);
    CHECK_EQ_LONG(t->by_status[0] + t->by_status[1] + t->by_status[2] + t->by_status[3], requests);
    return rc;
}

static int file_matches(const char *cc)
{
    char name[64], want[1024], got[2048];
    snprintf(name, sizeof(name), "%s.gif", cc);
    int fd = openat(outdir_fd, name, O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, got, sizeof(got));
    close(fd);
    size_t wn = body_for(cc, want, sizeof(want));
    return n >= 0 && (size_t)n == wn && memcmp(got, want, wn) == 0;
}

static char base[64];

/* The idle kick is for exactly the libcurl releases whose HTTP/2 input can
 * stay unparsed: 7.88.0 (the connection filters) to 8.0.1; 8.1.0 removed the
 * pause (docs/http2.md, "The 30 s stall"). */
static void test_h2_kick_range(void)
{
    CHECK_EQ_LONG(loop_h2_kick_needed(0x075700), 0); /* 7.87.0 */
    CHECK_EQ_LONG(loop_h2_kick_needed(0x075800), 1); /* 7.88.0 */
    CHECK_EQ_LONG(loop_h2_kick_needed(0x075801), 1); /* 7.88.1, Debian 12 */
    CHECK_EQ_LONG(loop_h2_kick_needed(0x080001), 1); /* 8.0.1 */
    CHECK_EQ_LONG(loop_h2_kick_needed(0x080100), 0); /* 8.1.0 */
    CHECK_EQ_LONG(loop_h2_kick_needed(0x080e01), 0); /* 8.14.1 */
}

static void test_local(void)
{
    struct tally t;
    server_reset(0);
    CHECK_EQ_LONG(run(&t, codes, NCODES, NCODES, 5, base, 5000, NULL), 0);
    CHECK_EQ_LONG(t.by_status[FLAGS_OK], NCODES);
    int same = 1;
    for (size_t i = 0; i < NCODES; i++)
        same &= file_matches(codes[i]);
    CHECK(same);
    CHECK_EQ_LONG(atomic_load(&srv.peak) <= 5, 1);
    CHECK(t.connects <= 5); /* kept alive and reused */
}

static void test_not_found(void)
{
    static const char mixed[][3] = {"ZZ", "BR", "ZZ", "JP"};
    struct tally t;
    server_reset(0);
    CHECK_EQ_LONG(run(&t, mixed, 4, 12, 3, base, 5000, NULL), 0);
    CHECK_EQ_LONG(t.by_status[FLAGS_OK], 6);
    CHECK_EQ_LONG(t.by_status[FLAGS_NOT_FOUND], 6);
    CHECK_EQ_LONG(t.by_status[FLAGS_ERROR], 0);
}

/* More requests than permits, each held 100 ms: the server sees exactly m at
 * once, never more; m connections serve all of them; the time is near
 * ceil(n/m) x 0.1 s (bounded generously: the machine is shared). */
static void test_cap(unsigned m, size_t n)
{
    struct tally t;
    double el;
    server_reset(100);
    CHECK_EQ_LONG(run(&t, codes, NCODES, n, m, base, 10000, &el), 0);
    CHECK_EQ_LONG(t.by_status[FLAGS_OK], n);
    CHECK_EQ_LONG(atomic_load(&srv.peak), m);
    CHECK(t.connects >= 1 && t.connects <= m);
    double ideal = (double)((n + m - 1) / m) * 0.1;
    CHECK(el >= ideal * 0.9);
    CHECK(el < ideal + 2.0);
    printf("# cap m=%u n=%zu: %.3f s (ideal %.1f), peak %d, connects %ld\n", m, n, el, ideal,
           atomic_load(&srv.peak), t.connects);
}

static void test_refused(void)
{
    /* A port nobody listens on: bind, read it, close. */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    CHECK(s >= 0 && bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
          getsockname(s, (struct sockaddr *)&sa, &len) == 0);
    close(s);
    char dead[64];
    snprintf(dead, sizeof(dead), "http://127.0.0.1:%d/flags", ntohs(sa.sin_port));

    struct tally t;
    CHECK_EQ_LONG(run(&t, codes, NCODES, 30, 4, dead, 5000, NULL), 0);
    CHECK_EQ_LONG(t.by_status[FLAGS_ERROR], 30);
    CHECK(strstr(t.first_msg, "onnect") != NULL);
}

static void test_timeout(void)
{
    struct tally t;
    double el;
    server_reset(3000);
    CHECK_EQ_LONG(run(&t, codes, NCODES, 6, 3, base, 300, &el), 0);
    CHECK_EQ_LONG(t.by_status[FLAGS_ERROR], 6);
    CHECK(strstr(t.first_msg, "imeout") != NULL || strstr(t.first_msg, "timed out") != NULL);
    CHECK(el < 2.5); /* two rounds of 0.3 s, not 3 s each */
}

/* SIGINT while 5 transfers run and 35 wait: all 40 end CANCELLED, quickly. */
static void test_cancel(void)
{
    struct tally t;
    double el;
    server_reset(1000);
    atomic_store(&srv.sigint_after, 5);
    CHECK_EQ_LONG(run(&t, codes, NCODES, 40, 5, base, 10000, &el), 0);
    CHECK(flags_cancelled());
    CHECK_EQ_LONG(t.by_status[FLAGS_CANCELLED], 40);
    CHECK(el < 0.9); /* did not wait for the 1 s replies */
    CHECK_EQ_LONG(atomic_load(&srv.served), 5);
    printf("# cancel: %.3f s\n", el);
}

int main(int argc, char **argv)
{

    if (argc >= 3) {
        mode_loops = (unsigned)atoi(argv[1]);
        mode_save = (unsigned)atoi(argv[2]);
    }
    if (argc >= 4)
        mode_multis = (unsigned)atoi(argv[3]);
    printf("# --loops %u --save-threads %u --multis %u\n", mode_loops, mode_save, mode_multis);

    /* Before any thread: the signal handlers and the cancel fd. */
    if (flags_cancel_install() != 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "setup failed\n");
        return 1;
    }
    if (!mkdtemp(outdir) || (outdir_fd = open(outdir, O_RDONLY | O_DIRECTORY)) < 0) {
        perror("outdir");
        return 1;
    }
    if (flags_saver_init(&saver, outdir_fd) != 0) {
        fprintf(stderr, "cannot set up the saver\n");
        return 1;
    }
    if (server_start() != 0) {
        fprintf(stderr, "cannot start the test server\n");
        return 1;
    }
    snprintf(base, sizeof(base), "http://127.0.0.1:%d/flags", srv.port);

    test_h2_kick_range();
    test_local();
    test_not_found();
    test_cap(8, 40);
    test_cap(1, 5);
    test_cap(40, 40);
    test_refused();
    test_timeout();
    test_cancel(); /* last: the cancel flag stays set */

    server_stop();
    for (size_t i = 0; i < NCODES; i++) {
        char name[64];
        snprintf(name, sizeof(name), "%s.gif", codes[i]);
        unlinkat(outdir_fd, name, 0);
    }
    flags_saver_free(&saver);
    CHECK_EQ_LONG(no_debris_but(1), 1); /* the saver removed its spares */
    close(outdir_fd);
    rmdir(outdir);
    curl_global_cleanup();
    return CHECK_DONE();
}
