/* delayer.c -- netlab-delayer: holds every packet of one NFQUEUE queue for a
 * set one-way delay (plus jitter that never reorders), then lets it go.
 *
 * netlab.sh runs one per direction, inside the namespace whose outgoing
 * packets it delays, behind an iptables rule
 *     -t mangle -A OUTPUT -o <veth> -j NFQUEUE --queue-num N --queue-bypass
 * so that when the delayer is gone the kernel passes packets instead of
 * holding them. It asks the kernel for metadata only (no payload copies) and
 * leaves GSO off, so the kernel hands it single segments: the loss rule behind
 * it (filter table) then drops segments, not 64 KB super-packets.
 *
 * Usage: netlab-delayer --queue N [--delay-ms MS] [--jitter-ms MS] [--limit PKTS] [--seed S]
 * SIGUSR1 prints a stats line (key=value) on stdout; SIGTERM or SIGINT lets
 * every held packet go, prints the stats line and exits 0.
 * Exit status: 0 stopped by a signal; 1 the queue could not be bound or
 * served (not root, queue taken); 2 usage error.
 */
#define _GNU_SOURCE /* ppoll */
#include "delayline.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#define MAX_DELAY_MS 60000.0 /* a minute: anything longer is a typo */

struct delayer_config {
    unsigned queue;
    double delay_ms;
    double jitter_ms;
    uint32_t limit; /* packets held at most; the kernel queue gets the same */
    uint64_t seed;
};

struct delayer {
    struct nfq_q_handle *qh;
    struct dl_line line;
    uint64_t packets;     /* pushed into the line */
    uint64_t dropped;     /* the line was full */
    uint64_t overruns;    /* ENOBUFS from netlink: the kernel dropped messages */
    uint64_t released;    /* let go at or after their time (not by a flush) */
    uint64_t late_ns_sum; /* how late those were, in total and at most */
    uint64_t late_ns_max;
    int err; /* first error of a callback */
};

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t stats_requested;

static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        stats_requested = 1;
    else
        stop_requested = 1;
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void usage(FILE *out)
{
    fputs("usage: netlab-delayer --queue N [--delay-ms MS] [--jitter-ms MS] [--limit PKTS]"
          " [--seed S]\n",
          out);
}

static int parse_number(const char *s, double max, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < 0 || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

/* Returns 0, 1 for --help, or -EINVAL after printing one line on stderr. */
static int parse_args(struct delayer_config *cfg, int argc, char **argv)
{
    static const struct option opts[] = {
        {"queue", required_argument, NULL, 'q'},
        {"delay-ms", required_argument, NULL, 'd'},
        {"jitter-ms", required_argument, NULL, 'j'},
        {"limit", required_argument, NULL, 'l'},
        {"seed", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    double v;
    int c, li = 0, have_queue = 0;

    *cfg = (struct delayer_config){.limit = 10000, .seed = 1};
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, &li)) != -1) {
        switch (c) {
        case 'q':
            if (parse_number(optarg, 65535, &v) < 0 || v != floor(v))
                goto bad_value;
            cfg->queue = (unsigned)v;
            have_queue = 1;
            break;
        case 'd':
            if (parse_number(optarg, MAX_DELAY_MS, &cfg->delay_ms) < 0)
                goto bad_value;
            break;
        case 'j':
            if (parse_number(optarg, MAX_DELAY_MS, &cfg->jitter_ms) < 0)
                goto bad_value;
            break;
        case 'l':
            if (parse_number(optarg, 1000000, &v) < 0 || v < 1 || v != floor(v))
                goto bad_value;
            cfg->limit = (uint32_t)v;
            break;
        case 's':
            if (parse_number(optarg, 1e18, &v) < 0 || v != floor(v))
                goto bad_value;
            cfg->seed = (uint64_t)v;
            break;
        case 'h':
            return 1;
        default:
            fprintf(stderr, "netlab-delayer: unknown option or missing value: %s\n",
                    argv[optind - 1]);
            return -EINVAL;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "netlab-delayer: unexpected argument: %s\n", argv[optind]);
        return -EINVAL;
    }
    if (!have_queue) {
        fprintf(stderr, "netlab-delayer: --queue is required\n");
        return -EINVAL;
    }
    return 0;
bad_value:
    fprintf(stderr, "netlab-delayer: bad value for --%s: %s\n", opts[li].name, optarg);
    return -EINVAL;
}

static void print_stats(const struct delayer *d)
{
    struct rusage ru;
    double cpu_s = 0;

    if (getrusage(RUSAGE_SELF, &ru) == 0)
        cpu_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    printf("packets=%" PRIu64 " dropped=%" PRIu64 " overruns=%" PRIu64
           " held=%u cpu_s=%.3f cpu_ns_per_packet=%.0f late_us_mean=%.1f late_us_max=%.1f\n",
           d->packets, d->dropped, d->overruns, d->line.count, cpu_s,
           d->packets > 0 ? cpu_s * 1e9 / (double)d->packets : 0.0,
           d->released > 0 ? (double)d->late_ns_sum / (double)d->released / 1e3 : 0.0,
           (double)d->late_ns_max / 1e3);
    fflush(stdout);
}

/* Lets every held packet whose time has come go (all of them if FLUSH). */
static int release_due(struct delayer *d, int flush)
{
    const struct dl_packet *p;
    uint64_t now = now_ns();

    while ((p = dl_line_peek(&d->line)) != NULL && (flush || p->release_ns <= now)) {
        if (nfq_set_verdict(d->qh, p->id, NF_ACCEPT, 0, NULL) < 0)
            return -errno;
        if (p->release_ns <= now) {
            uint64_t late = now - p->release_ns;
            d->released++;
            d->late_ns_sum += late;
            if (late > d->late_ns_max)
                d->late_ns_max = late;
        }
        dl_line_pop(&d->line);
    }
    return 0;
}

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa,
                     void *data)
{
    struct delayer *d = data;
    struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
    uint32_t id;

    (void)msg;
    if (ph == NULL)
        return 0;
    id = ntohl(ph->packet_id);
    if (dl_line_push(&d->line, id, now_ns()) < 0) {
        d->dropped++;
        if (nfq_set_verdict(qh, id, NF_DROP, 0, NULL) < 0 && d->err == 0)
            d->err = -errno;
        return 0;
    }
    d->packets++;
    return 0;
}

/* Serves the queue until a stop signal. Returns 0 or a negative errno. */
static int serve(struct delayer *d, struct nfq_handle *h, const sigset_t *unblocked)
{
    char buf[65536] __attribute__((aligned));
    struct pollfd pfd = {.fd = nfq_fd(h), .events = POLLIN};
    const struct dl_packet *p;
    struct timespec timeout, *tp;
    uint64_t now;
    ssize_t n;
    int rc;

    while (!stop_requested) {
        if (stats_requested) {
            stats_requested = 0;
            print_stats(d);
        }
        tp = NULL;
        if ((p = dl_line_peek(&d->line)) != NULL) {
            now = now_ns();
            uint64_t wait = p->release_ns > now ? p->release_ns - now : 0;
            timeout.tv_sec = (time_t)(wait / 1000000000u);
            timeout.tv_nsec = (long)(wait % 1000000000u);
            tp = &timeout;
        }
        rc = ppoll(&pfd, 1, tp, unblocked);
        if (rc < 0 && errno != EINTR)
            return -errno;
        if (rc > 0) {
            /* Drain what is there: packets arrive in bursts. */
            for (;;) {
                n = recv(pfd.fd, buf, sizeof(buf), MSG_DONTWAIT);
                if (n < 0) {
                    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                        break;
                    if (errno == ENOBUFS) {
                        d->overruns++;
                        continue;
                    }
                    return -errno;
                }
                nfq_handle_packet(h, buf, (int)n);
                if (d->err < 0)
                    return d->err;
            }
        }
        if ((rc = release_due(d, 0)) < 0)
            return rc;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct delayer_config cfg;
    struct delayer d = {0};
    struct nfq_handle *h = NULL;
    struct sigaction sa = {0};
    sigset_t blocked, unblocked;
    int rc, status = 1;

    rc = parse_args(&cfg, argc, argv);
    if (rc == 1) {
        usage(stdout);
        return 0;
    }
    if (rc < 0) {
        usage(stderr);
        return 2;
    }

    /* Signals are blocked except inside ppoll, so none is lost between the
     * check of the flags and the wait. */
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGTERM);
    sigaddset(&blocked, SIGINT);
    sigaddset(&blocked, SIGUSR1);
    sigprocmask(SIG_BLOCK, &blocked, &unblocked);
    sigdelset(&unblocked, SIGTERM);
    sigdelset(&unblocked, SIGINT);
    sigdelset(&unblocked, SIGUSR1);

    rc = dl_line_init(&d.line, cfg.limit, (uint64_t)llround(cfg.delay_ms * 1e6),
                      (uint64_t)llround(cfg.jitter_ms * 1e6), cfg.seed);
    if (rc < 0) {
        fprintf(stderr, "netlab-delayer: %s\n", strerror(-rc));
        goto out;
    }
    h = nfq_open();
    if (h == NULL) {
        fprintf(stderr, "netlab-delayer: cannot open nfqueue: %s (needs root)\n", strerror(errno));
        goto out;
    }
    d.qh = nfq_create_queue(h, (uint16_t)cfg.queue, on_packet, &d);
    if (d.qh == NULL) {
        fprintf(stderr, "netlab-delayer: cannot bind queue %u: %s (needs root; queue taken?)\n",
                cfg.queue, strerror(errno));
        goto out;
    }
    if (nfq_set_mode(d.qh, NFQNL_COPY_META, 0) < 0 || nfq_set_queue_maxlen(d.qh, cfg.limit) < 0) {
        fprintf(stderr, "netlab-delayer: cannot configure queue %u: %s\n", cfg.queue,
                strerror(errno));
        goto out;
    }
    /* Wake up on time: the default slack of 50 us would be added to every
     * release. */
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
    /* A deep socket buffer: at 100 Mbit/s a 10 ms stall is ~1,000 messages. */
    nfnl_rcvbufsiz(nfq_nfnlh(h), 8u << 20);
    printf("ready queue=%u delay_ms=%g jitter_ms=%g limit=%" PRIu32 "\n", cfg.queue, cfg.delay_ms,
           cfg.jitter_ms, cfg.limit);
    fflush(stdout);

    rc = serve(&d, h, &unblocked);
    if (rc < 0)
        fprintf(stderr, "netlab-delayer: queue %u: %s\n", cfg.queue, strerror(-rc));
    else
        status = 0;
    /* Held packets go now rather than being lost with the queue. */
    release_due(&d, 1);
    print_stats(&d);
out:
    if (d.qh != NULL)
        nfq_destroy_queue(d.qh);
    if (h != NULL)
        nfq_close(h);
    dl_line_free(&d.line);
    return status;
}
