/* record.h -- the JSON record of one run, one line appended per run to
 * --json FILE; scripts/bench.sh reads these with jq.
 */
#ifndef FLAGS_RECORD_H
#define FLAGS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "stats.h"

struct flags_record {
    const char *backend; /* "threadpool", "asyncloop", ... */
    unsigned concur_req; /* in use: min(-m, maximum, requests) */
    size_t requests;     /* codes x --repeat */
    size_t ok, not_found, errors, cancelled;
    double elapsed_s;                /* download_many's wall time, monotonic */
    unsigned long long bytes;        /* body bytes received, all requests */
    double flags_per_s;              /* ok / elapsed_s */
    struct flags_latency latency_ms; /* over requests that ended OK or not found */
    double cpu_user_s, cpu_sys_s;    /* getrusage(RUSAGE_SELF) */
    long max_rss_kb;
    long connections;        /* new connections opened (CURLINFO_NUM_CONNECTS summed) */
    const char *server;      /* the -s label: LOCAL, DELAY, ... or CUSTOM */
    const char *url;         /* the base URL */
    const char *libcurl;     /* curl_version_info()->version */
    double timeout_s;        /* --timeout */
    bool fresh_connect;      /* --fresh-connect */
    unsigned loops;          /* event loops (--loops; 1 for a pool) */
    unsigned save_threads;   /* saver threads off the loop (--save-threads; 0: none) */
    unsigned multis;         /* libcurl multi handles per loop (--multis; 1 for a pool) */
    unsigned fd_cost;        /* descriptors budgeted per transfer in flight, for the
                                libcurl loaded ("fds_per_transfer"); 0: not known */
    const char *proxy_env;   /* flags_proxy_env(): the proxy settings libcurl took
                                from the environment, redacted; NULL or "": none */
    bool http2;              /* --http2 was asked for */
    const char *protocol;    /* measured over the responses (CURLINFO_HTTP_VERSION):
                                "http/1.1", "h2", "h2c", "mixed"; NULL: no response */
    long streams;            /* the most requests in flight on one connection at once
                                (flags_streams_peak); 0: no request went out; -1:
                                out of memory to count them */
    const char *uring_setup; /* --save-uring: "coop_taskrun" or "default" (the
                                kernel refused COOP_TASKRUN); NULL: no ring */
};

/* One request's time on its connection, for flags_streams_peak: the local
 * port names the connection (two connections to one server never share it at
 * the same time), sent and end bound the request's stream. */
struct flags_stream_span {
    double sent_s, end_s; /* flags_now() when the request went out, and ended */
    long port;            /* CURLINFO_LOCAL_PORT */
};

/* The most spans in flight at one instant on one port: the peak number of
 * streams one connection carried, measured from the client side (docs/client.md,
 * "HTTP/2"). A span ending exactly when another starts does not overlap it.
 * Sorts spans in place. Returns the peak (0 for n == 0), or -1 if its scratch
 * array (a double per span of one port) cannot be allocated. Unit-tested. */
long flags_streams_peak(struct flags_stream_span *spans, size_t n);

/* Fills cpu_user_s, cpu_sys_s and max_rss_kb from getrusage(RUSAGE_SELF).
 * Returns 0 or -errno (the fields are then 0). */
int flags_record_usage(struct flags_record *r);

/* Writes r as one JSON object and a newline to f, strings escaped. Returns 0
 * or -EIO. */
int flags_record_write(FILE *f, const struct flags_record *r);

/* Opens path for appending records (created 0644), without ever blocking: a
 * FIFO that no process reads is -ENXIO at once. Returns the descriptor (the
 * caller closes it) or a negative errno code. */
int flags_record_open(const char *path);

/* The reason for an error of flags_record_open/append_fd, in words: a FIFO
 * without a reader is named as such. */
const char *flags_record_strerror(int err);

/* Appends r as one line to fd (from flags_record_open), with a single write(2)
 * so concurrent runs never interleave their lines. Returns 0 or a negative
 * errno code (-EAGAIN: a FIFO or socket whose reader takes nothing). */
int flags_record_append_fd(int fd, const struct flags_record *r);

/* flags_record_open, flags_record_append_fd and close, for one record. */
int flags_record_append(const char *path, const struct flags_record *r);

/* Writes s to f as a JSON string literal, quotes included: '"', '\\' and
 * control characters escaped; well-formed UTF-8 as it is; every byte that is
 * not part of well-formed UTF-8 becomes U+FFFD, so the result is valid UTF-8
 * JSON whatever s holds. */
void flags_json_string(FILE *f, const char *s);

#endif /* FLAGS_RECORD_H */
