/* flags.h -- the contract between the common main and a download backend.
 *
 * A backend is one function, flags_download_many_fn. The common main parses the
 * command line, builds a struct flags_job and calls it; the backend schedules the
 * transfers (a thread pool, an event loop, ...) using the per-transfer helpers of
 * xfer.h, and hands every finished download back as one struct flags_result to
 * the done callback, ON THE THREAD THAT CALLED download_many (the book's
 * as_completed loop). Everything else -- URLs, easy-handle options, classifying
 * a response, saving the file, counting, printing -- is common code, so two
 * backends differ only in how they schedule transfers.
 */
#ifndef FLAGS_H
#define FLAGS_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

/* How one requested download ended. Every request ends in exactly one. */
enum flags_status {
    FLAGS_OK = 0,        /* HTTP 200 and the file was saved */
    FLAGS_NOT_FOUND = 1, /* HTTP 404 */
    FLAGS_ERROR = 2,     /* anything else: other status, transport error, save failed */
    FLAGS_CANCELLED = 3, /* interrupted (SIGINT/SIGTERM) before or during the transfer */
};

struct flags_saver; /* save.h */

/* The work, read-only for the backend. Request i downloads codes[i % ncodes]. */
struct flags_job {
    const char (*codes)[3]; /* ncodes upper-case, NUL-terminated two-letter codes */
    size_t ncodes;
    size_t requests;       /* ncodes x --repeat; results are indexed 0..requests-1 */
    const char *base_url;  /* no trailing slash, e.g. "http://127.0.0.1:8000/flags" */
    int outdir_fd;         /* open directory the files are saved into */
    unsigned concur_req;   /* transfers in flight at most; 1 <= concur_req <= requests */
    long timeout_ms;       /* whole-transfer timeout per request */
    bool fresh_connect;    /* a new connection per request instead of keep-alive */
    long long max_size;    /* --max-size: largest body accepted, bytes; 0: the default */
    unsigned loops;        /* --loops: event loops (asyncloop); 0 or 1: one, on the caller */
    unsigned save_threads; /* --save-threads: saver threads (asyncloop); 0: save on the loop */
    unsigned multis;       /* --multis: libcurl multi handles per loop (asyncloop); 0 or 1: one */
    bool save_uring;       /* --save-uring: saves through io_uring (asyncloop) */
    const char *cacert;    /* --cacert: CA certificates (PEM) for https, or NULL: the system's */
    bool http2;            /* --http2: h2 for https:// (ALPN), h2c with prior knowledge for
                              http:// (the common main refuses h2c before libcurl 8.0) */

    /* Atomic saves into outdir_fd (save.h); NULL: a new file renamed over. */
    struct flags_saver *saver;
};

/* --max-size's default: the largest flag is under 100 KB (docs/client.md). */
#define FLAGS_MAX_SIZE_DEFAULT (1024LL * 1024LL)

/* One finished download. Only valid during the done callback. */
struct flags_result {
    size_t index;             /* request index, 0..job->requests-1 */
    enum flags_status status; /* how it ended */
    long http_status;         /* last HTTP status seen, 0 if none */
    double latency_s;         /* transfer time (CURLINFO_TOTAL_TIME_T), 0 if never started */
    size_t bytes;             /* body bytes received */
    long connects;            /* new connections this transfer opened */
    long http_version;        /* CURLINFO_HTTP_VERSION: CURL_HTTP_VERSION_1_1, _2_0...; 0 none */
    long local_port;          /* CURLINFO_LOCAL_PORT of its connection; 0 if none was made */
    double sent_s, end_s;     /* flags_now() when its request went out and when it ended;
                                 0 if none went out: streams per connection (record.h) */
    char msg[256];            /* FLAGS_ERROR: the reason, one line; else empty */
};

/* Called once per request, on the thread that called download_many. */
typedef void (*flags_done_fn)(const struct flags_result *res, void *arg);

/* A backend. Runs every request of job and calls done exactly once for each
 * index in 0..job->requests-1 (FLAGS_CANCELLED for requests it never started
 * after flags_cancelled() became true), then returns. Returns 0, or a negative
 * errno-style code when it could not run at all (e.g. -ENOMEM, -EAGAIN from
 * pthread_create); in that case it has still called done for every index, so
 * the accounting holds. */
typedef int (*flags_download_many_fn)(const struct flags_job *job, flags_done_fn done, void *arg);

/* What a backend tells the common main about itself. */
struct flags_backend {
    const char *name;                     /* "threadpool", "asyncloop": the JSON record */
    flags_download_many_fn download_many; /* the scheduler */
    unsigned default_concur_req;          /* -m's default (the book's) */
    unsigned max_concur_req;              /* -m is clamped to this */
    unsigned fds_per_transfer;            /* descriptors each transfer in flight holds */
    bool multi_per_transfer; /* ... plus a multi handle's wakeup each (curl_easy_perform's own),
                                counted at start-up for the libcurl loaded */
    bool variants;           /* accepts --loops, --save-threads, --multis, --save-uring */
    /* Optional: checks what job needs of this machine before the run (e.g.
     * io_uring for --save-uring). Returns 0, or a negative errno-style code
     * with one line in err: the common main prints it and exits 2. */
    int (*check)(const struct flags_job *job, char *err, size_t errlen);
    /* Optional, called after check: how the io_uring saves were set up, for
     * the --json record's "uring_setup" (NULL: no io_uring in this run). */
    const char *(*uring_setup)(const struct flags_job *job);
};

/* The common main (the book's main(download_many, DEFAULT_CONCUR_REQ,
 * MAX_CONCUR_REQ)). Before running, makes sure RLIMIT_NOFILE allows
 * backend->fds_per_transfer descriptors per transfer in flight. Returns the
 * process exit status: 0 all downloaded or not found, 1 any error, 2 usage
 * error or too few file descriptors, 130 interrupted. */
int flags_main(int argc, char **argv, const struct flags_backend *backend);

/* True once SIGINT or SIGTERM arrived. Async-signal-safe, callable from any
 * thread; backends poll it to stop starting new transfers. */
bool flags_cancelled(void);

#endif /* FLAGS_H */
