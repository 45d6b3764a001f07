/* membudget.c -- what one transfer in flight costs in memory, measured
 * (issue 12, docs/asyncloop.md "Memory at 10,000").
 *
 * Runs N transfers at once against URL (a flagserver started with
 * --delay 1000, so every connection stays open for a second) the way
 * flags_asyncloop does -- one multi handle, options as common/xfer.c sets
 * them -- and reads the process's resident set (VmRSS, /proc/self/status)
 * after each step, printing the growth per transfer:
 *
 *   easy handle    curl_easy_init + the options, before any transfer
 *   connection     added to the multi handle, connected, request sent
 *                  (libcurl's connection struct, its transfer state; 7.88
 *                  also mallocs its CURLOPT_BUFFERSIZE receive buffer here,
 *                  untouched until data arrives)
 *   event          one libevent event per socket (flags_asyncloop's
 *                  struct loop_sock and libevent's fd map)
 *   received       the responses arrived (7.88: each easy handle's 16 KiB
 *                  receive buffer is now touched; 8.7+: one shared buffer)
 *   body buffer    with BODYBUF set: each transfer keeps a 32 KiB buffer
 *                  with its body in it (flagbench before issue 12)
 *
 * Build by hand (not part of the build; no test runs it):
 *   cc -O2 -o /tmp/membudget bench/membudget.c -lcurl -levent
 * Run: ulimit -n 20000; /tmp/membudget 10000 http://127.0.0.1:PORT/flags/br/br.gif
 *      (BODYBUF=1 to keep bodies; LD_LIBRARY_PATH=build/libcurl8/... for 8.14)
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_BUF (32u * 1024u)

struct xfer {
    CURL *easy;
    char *buf;
    size_t len;
};

static int keep_body;

static long rss_kb(void)
{
    char line[256];
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    struct xfer *x = userp;
    size_t n = size * nmemb;
    if (!keep_body)
        return n;
    if (!x->buf && !(x->buf = malloc(BODY_BUF)))
        return 0;
    if (n > BODY_BUF - x->len)
        n = BODY_BUF - x->len; /* flags are under 32 KiB; keep what fits */
    memcpy(x->buf + x->len, data, n);
    x->len += n;
    return size * nmemb;
}

static void on_ev(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
}

/* Drives the multi handle until `until` transfers have ended, or for ms
 * milliseconds when until is 0. */
static void drive(CURLM *multi, int until, int ms)
{
    int running = 1, ended = 0, left;
    long spent = 0;
    while (running) {
        curl_multi_perform(multi, &running);
        CURLMsg *m;
        while ((m = curl_multi_info_read(multi, &left)))
            if (m->msg == CURLMSG_DONE)
                ended++;
        if (until && ended >= until)
            break;
        if (!until && spent >= ms)
            break;
        curl_multi_poll(multi, NULL, 0, 50, NULL);
        spent += 50; /* an upper bound of the time waited: fine for "about ms" */
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s N URL\n", argv[0]);
        return 2;
    }
    int n = atoi(argv[1]);
    keep_body = getenv("BODYBUF") != NULL;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)n);
    struct event_base *base = event_base_new();
    struct xfer *xs = calloc((size_t)n, sizeof(*xs));
    struct event **evs = calloc((size_t)n, sizeof(*evs));
    char errbuf[CURL_ERROR_SIZE];

    long r0 = rss_kb();
    for (int i = 0; i < n; i++) {
        CURL *e = xs[i].easy = curl_easy_init();
        curl_easy_setopt(e, CURLOPT_URL, argv[2]);
        curl_easy_setopt(e, CURLOPT_PRIVATE, &xs[i]);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 60000L);
        curl_easy_setopt(e, CURLOPT_USERAGENT, "flagbench/0.1");
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, &xs[i]);
    }
    long r1 = rss_kb();
    for (int i = 0; i < n; i++)
        curl_multi_add_handle(multi, xs[i].easy);
    drive(multi, 0, 600); /* connected, requests sent; the server waits 1 s */
    long r2 = rss_kb();
    for (int i = 0; i < n; i++) {
        curl_socket_t s = CURL_SOCKET_BAD;
        curl_easy_getinfo(xs[i].easy, CURLINFO_ACTIVESOCKET, &s);
        if (s == CURL_SOCKET_BAD)
            continue;
        evs[i] = event_new(base, s, EV_READ | EV_PERSIST, on_ev, NULL);
        event_add(evs[i], NULL);
    }
    long r3 = rss_kb();
    for (int i = 0; i < n; i++)
        if (evs[i])
            event_free(evs[i]);
    drive(multi, n, 0);
    long r4 = rss_kb();

    printf("libcurl %s, %d transfers, body buffer %s; KiB per transfer:\n",
           curl_version_info(CURLVERSION_NOW)->version, n, keep_body ? "kept" : "none");
    printf("easy handle   %6.2f\n", (double)(r1 - r0) / n);
    printf("connection    %6.2f\n", (double)(r2 - r1) / n);
    printf("event         %6.2f\n", (double)(r3 - r2) / n);
    printf("received      %6.2f%s\n", (double)(r4 - r3) / n,
           keep_body ? " (with the body buffer)" : "");
    printf("total         %6.2f (VmRSS %ld -> %ld KiB)\n", (double)(r4 - r0) / n, r0, r4);
    return 0;
}
