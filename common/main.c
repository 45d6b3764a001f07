/* main.c -- flags_main, the book's flags2_common.main shared by every backend:
 * parse, report, run the backend, count what comes back, summarise, record. */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cancel.h"
#include "save.h"
#include "cli.h"
#include "fdlimit.h"
#include "flags.h"
#include "output.h"
#include "record.h"
#include "report.h"
#include "stats.h"
#include "xfer.h"

#define EXIT_USAGE       2
#define EXIT_INTERRUPTED FLAGS_EXIT_INTERRUPTED
#define BOOK_TIMEOUT_MS  3100L /* --timeout's default (cli.c) */

/* What the done callback accumulates; main-thread only. */
struct run {
    const struct flags_job *job;
    const struct flags_opts *opts;
    struct flags_counts counts;
    size_t received;      /* results so far */
    unsigned char *seen;  /* per request index: its result arrived */
    double *latencies_ms; /* of requests that ended OK or not found */
    size_t nlatencies;
    unsigned long long bytes;
    long connections;
    size_t by_version[3];            /* responses over HTTP/1.x, HTTP/2, anything else */
    struct flags_stream_span *spans; /* --json: a request's time on its connection */
    size_t nspans;
    struct flags_progress progress;
    FILE *out;                     /* stdout through its writer (output.h) */
    const struct flags_job *shown; /* the job with the redacted base URL, for -v */
};

static void on_done(const struct flags_result *res, void *arg)
{
    struct run *run = arg;
    const struct flags_job *job = run->job;

    /* The backend contract: each index exactly once. Breaking it is a bug in
     * the backend; counting on would print a wrong summary. */
    if (res->index >= job->requests || run->seen[res->index]) {
        fprintf(stderr, "*** bug: result for request %zu %s\n", res->index,
                res->index >= job->requests ? "out of range" : "delivered twice");
        abort();
    }
    run->seen[res->index] = 1;
    run->received++;

    switch (res->status) {
    case FLAGS_OK:
        run->counts.ok++;
        break;
    case FLAGS_NOT_FOUND:
        run->counts.not_found++;
        break;
    case FLAGS_ERROR:
        run->counts.errors++;
        break;
    case FLAGS_CANCELLED:
        run->counts.cancelled++;
        break;
    default:
        fprintf(stderr, "*** bug: result %zu has status %d\n", res->index, (int)res->status);
        abort();
    }
    if (res->status == FLAGS_OK || res->status == FLAGS_NOT_FOUND)
        run->latencies_ms[run->nlatencies++] = res->latency_s * 1000.0;
    run->bytes += res->bytes;
    run->connections += res->connects;
    if (res->http_version == CURL_HTTP_VERSION_2_0)
        run->by_version[1]++;
    else if (res->http_version == CURL_HTTP_VERSION_1_1 ||
             res->http_version == CURL_HTTP_VERSION_1_0)
        run->by_version[0]++;
    else if (res->http_version != 0)
        run->by_version[2]++;
    if (run->spans && res->end_s > 0)
        run->spans[run->nspans++] = (struct flags_stream_span){
            .sent_s = res->sent_s, .end_s = res->end_s, .port = res->local_port};

    if (run->opts->verbose && !run->opts->quiet) {
        char url[PATH_MAX];
        if (flags_url(url, sizeof(url), run->shown, res->index) < 0)
            snprintf(url, sizeof(url), "(URL too long)");
        flags_report_result(run->out, job->codes[res->index % job->ncodes], res, url);
        fflush(run->out); /* to the writer's queue: never blocks */
    }
    flags_progress_step(&run->progress);
}

/* mkdir -p: creates path and its missing parents (mode 0755). Returns 0 or
 * -errno. */
static int make_dirs(const char *path)
{
    size_t len = strlen(path);
    char *p = malloc(len + 1);
    int rc = 0;

    if (!p)
        return -ENOMEM;
    memcpy(p, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char saved = p[i];
        p[i] = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            rc = -errno;
            break;
        }
        p[i] = saved;
    }
    free(p);
    return rc;
}

/* Appends one line per sample, "%.3f\n" milliseconds in the given (completion)
 * order, to fd (from flags_record_open) with a single write, as
 * flags_record_append_fd does for --json, so concurrent runs never interleave.
 * Returns 0 or -errno (-EIO for a short write: the disk is full; -EAGAIN: a
 * FIFO whose reader takes nothing). */
static int append_latencies(int fd, const double *ms, size_t n)
{
    char *text = NULL;
    size_t len = 0;
    int rc = 0;
    FILE *mem = open_memstream(&text, &len);

    if (!mem)
        return -errno;
    for (size_t i = 0; i < n; i++)
        fprintf(mem, "%.3f\n", ms[i]);
    if (ferror(mem))
        rc = -EIO;
    if (fclose(mem) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && len > 0) {
        ssize_t w = write(fd, text, len);
        if (w < 0)
            rc = -errno;
        else if ((size_t)w != len)
            rc = -EIO;
    }
    free(text);
    return rc;
}

/* The protocol the responses came over, for the record: one name when they
 * all used one, "mixed" when not, NULL when there was no response. */
static const char *measured_protocol(const struct run *run, const char *base_url)
{
    const size_t *v = run->by_version;

    if (v[0] + v[1] + v[2] == 0)
        return NULL;
    if (v[0] && !v[1] && !v[2])
        return "http/1.1";
    if (v[1] && !v[0] && !v[2])
        return strncasecmp(base_url, "https://", 8) == 0 ? "h2" : "h2c";
    return "mixed";
}

static const char *prog_name(const char *argv0)
{
    const char *slash = argv0 ? strrchr(argv0, '/') : NULL;
    return slash ? slash + 1 : argv0 ? argv0 : "flags";
}

static unsigned concur_in_use(long max_req, unsigned max_concur_req, size_t requests)
{
    unsigned long m = (unsigned long)max_req; /* >= 1 after parsing */
    if (m > max_concur_req)
        m = max_concur_req;
    if (m > requests)
        m = (unsigned long)requests;
    return (unsigned)m;
}

/* Ends the output of a run: drains stdout, then stderr, through their
 * writers. Returns 0, or 1 when stdout could not be written (said on
 * stderr); abandoned output after a signal is said, not an error. */
static int finish_output(const char *prog, struct flags_output *out, struct flags_output *err)
{
    int status = 0;

    if (out) {
        int rc = flags_output_drain(out, FLAGS_OUTPUT_GRACE_S);
        FILE *e = err ? flags_output_stream(err) : stderr;
        if (rc == -ETIMEDOUT) {
            fprintf(e, "%s: output abandoned: stdout was not being read after the signal\n", prog);
        } else if (rc != 0) {
            fprintf(e, "%s: cannot write to stdout: %s\n", prog, strerror(-rc));
            status = 1;
        }
        flags_output_close(out);
    }
    flags_output_close(err); /* its own failure cannot be reported anywhere */
    return status;
}

int flags_main(int argc, char **argv, const struct flags_backend *backend)
{
    const char *prog = prog_name(argc > 0 ? argv[0] : NULL);
    struct flags_opts *opts = NULL;
    struct flags_job job = {0}, shown = {0};
    struct run run = {0};
    struct flags_saver saver = {0};
    struct flags_output *out = NULL, *errout = NULL;
    FILE *efile = stderr; /* stderr's writer once the run starts */
    char err[512], shown_url[PATH_MAX], proxy_env[2048];
    bool curl_ready = false;
    int status = 1, rc, json_fd = -1, lat_fd = -1;
    double t0, elapsed;

    job.outdir_fd = -1;
    /* struct flags_opts holds the 676 possible codes: keep it off the stack. */
    opts = calloc(1, sizeof(*opts));
    if (!opts) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return 1;
    }
    rc = flags_cli_parse(opts, argc, argv, backend->default_concur_req, err, sizeof(err));
    if (rc == FLAGS_CLI_HELP) {
        flags_cli_help(stdout, prog, backend->default_concur_req, backend->max_concur_req);
        status = fflush(stdout) == 0 ? 0 : 1;
        goto out;
    }
    if (rc == -EINVAL) {
        fprintf(stderr, "%s\n", err);
        flags_cli_usage(stderr, prog);
        status = EXIT_USAGE;
        goto out;
    }
    if (rc < 0) {
        fprintf(stderr, "%s: %s\n", prog, strerror(-rc));
        goto out;
    }

    job.codes = (const char(*)[3])opts->codes;
    job.ncodes = opts->ncodes;
    job.requests = opts->ncodes * opts->repeat; /* bounded by the parser */
    job.base_url = opts->base_url;
    job.concur_req = concur_in_use(opts->max_req, backend->max_concur_req, job.requests);
    job.timeout_ms = opts->timeout_ms;
    job.fresh_connect = opts->fresh_connect;
    job.max_size = opts->max_size;
    job.loops = opts->loops;
    job.save_threads = opts->save_threads;
    job.cacert = opts->cacert;
    job.multis = opts->multis;
    job.http2 = opts->http2;
    job.save_uring = opts->save_uring;
    if (!backend->variants &&
        (opts->loops != 1 || opts->save_threads != 0 || opts->multis != 1 || opts->save_uring)) {
        fprintf(stderr, "*** Usage error: --loops, --save-threads, --multis and --save-uring are "
                        "options of flags_asyncloop\n");
        flags_cli_usage(stderr, prog);
        status = EXIT_USAGE;
        goto out;
    }
    /* What the run needs of this machine (io_uring): one line, exit 2, never
     * a silent fallback to another design. */
    if (backend->check && (rc = backend->check(&job, err, sizeof(err))) != 0) {
        fprintf(stderr, "%s\n", err);
        status = EXIT_USAGE;
        goto out;
    }

    /* What is shown and recorded never holds a password (-s URL, proxies). */
    if (flags_redact_url(shown_url, sizeof(shown_url), opts->base_url) < 0 ||
        flags_proxy_env(proxy_env, sizeof(proxy_env)) < 0) {
        fprintf(stderr, "*** Usage error: the -s URL or a proxy variable is too long\n");
        flags_cli_usage(stderr, prog);
        status = EXIT_USAGE;
        goto out;
    }
    shown = job;
    shown.base_url = shown_url;

    /* Before any thread exists: curl_global_init is not thread-safe, and the
     * signal handlers and mask must be in place before backends start threads
     * that inherit them. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "%s: curl_global_init failed\n", prog);
        goto out;
    }
    curl_ready = true;
    /* Decided from the libcurl loaded, not the one built against: the same
     * binary may run with libcurl 8 through LD_LIBRARY_PATH. */
    if (opts->http2 &&
        flags_http2_refusal(opts->base_url, curl_version_info(CURLVERSION_NOW), err, sizeof(err))) {
        fprintf(stderr, "%s\n", err);
        status = EXIT_USAGE;
        goto out;
    }

    /* A multi handle's wakeup descriptors, for the libcurl loaded (2: 7.88's
     * socketpair; 1: an eventfd); 2, the most, if they cannot be counted. */
    int wake = flags_fdlimit_multi_fds();
    if (wake < 0)
        wake = 2;
    unsigned per = (backend->fds_per_transfer ? backend->fds_per_transfer : 1) +
                   (backend->multi_per_transfer ? (unsigned)wake : 0);
    char each[160];
    snprintf(each, sizeof(each), "its connection, libcurl %s's wakeup %s (%d), the file it saves",
             curl_version_info(CURLVERSION_NOW)->version,
             wake == 2   ? "socketpair"
             : wake == 1 ? "eventfd"
                         : "descriptors",
             wake);
    /* --loops, --multis and --save-threads hold descriptors of their own,
     * beyond the common margin: per extra loop an epoll fd, per extra multi
     * handle its wakeup, per loop with savers an eventfd, per saver the file
     * it writes, per loop with --save-uring its ring and eventfd. Counted as that many more
     * transfers' worth. */
    unsigned nmulti = opts->multis > 1 ? opts->multis : 1;
    unsigned extra_fds =
        (opts->loops > 1 || nmulti > 1 ? opts->loops * (1 + nmulti * (unsigned)wake) : 0) +
        (opts->save_threads ? opts->save_threads + opts->loops : 0) +
        (opts->save_uring ? 2 * opts->loops : 0); /* a ring and its eventfd per loop */
    if ((rc = flags_fdlimit_ensure(job.concur_req + (extra_fds + per - 1) / per, per,
                                   backend->multi_per_transfer ? each : NULL, err, sizeof(err))) !=
        0) {
        fprintf(stderr, "%s\n", err);
        status = EXIT_USAGE;
        goto out;
    }

    /* Opened before anything runs, without blocking: a FIFO nobody reads is
     * one clear line now, not a hang after the run. */
    if (opts->json_path && (json_fd = flags_record_open(opts->json_path)) < 0) {
        fprintf(stderr, "%s: cannot append to %s: %s\n", prog, opts->json_path,
                flags_record_strerror(json_fd));
        goto out;
    }
    if (opts->latencies_path && (lat_fd = flags_record_open(opts->latencies_path)) < 0) {
        fprintf(stderr, "%s: cannot append to %s: %s\n", prog, opts->latencies_path,
                flags_record_strerror(lat_fd));
        goto out;
    }

    if ((rc = make_dirs(opts->output_dir)) != 0 ||
        (job.outdir_fd = open(opts->output_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        fprintf(stderr, "%s: cannot use output directory %s: %s\n", prog, opts->output_dir,
                strerror(rc ? -rc : errno));
        goto out;
    }
    shown.outdir_fd = job.outdir_fd;
    if ((rc = flags_saver_init(&saver, job.outdir_fd)) != 0) {
        fprintf(stderr, "%s: cannot set up saving into %s: %s\n", prog, opts->output_dir,
                strerror(-rc));
        goto out;
    }
    job.saver = &saver;

    run.job = &job;
    run.shown = &shown;
    run.opts = opts;
    run.seen = calloc(job.requests, 1);
    run.latencies_ms = malloc(job.requests * sizeof(*run.latencies_ms));
    if (opts->json_path && !(run.spans = malloc(job.requests * sizeof(*run.spans)))) {
        fprintf(stderr, "%s: out of memory\n", prog);
        goto out;
    }
    if (!run.seen || !run.latencies_ms) {
        fprintf(stderr, "%s: out of memory\n", prog);
        goto out;
    }

    flags_cancel_watch_dir(job.outdir_fd);
    if ((rc = flags_cancel_install()) != 0) {
        fprintf(stderr, "%s: cannot install signal handlers: %s\n", prog, strerror(-rc));
        goto out;
    }
    /* From here on, no thread that runs the downloads writes to a descriptor
     * itself: stdout and stderr go through writer threads. */
    if ((rc = flags_output_open(&out, STDOUT_FILENO)) != 0 ||
        (rc = flags_output_open(&errout, STDERR_FILENO)) != 0) {
        fprintf(stderr, "%s: cannot start the output threads: %s\n", prog, strerror(-rc));
        goto out;
    }
    run.out = flags_output_stream(out);
    efile = flags_output_stream(errout);

    if (!opts->quiet) {
        flags_report_header(run.out, opts->server_label, shown_url, job.codes, job.ncodes,
                            opts->repeat, job.concur_req);
        if (proxy_env[0])
            fprintf(run.out, "Proxy from the environment: %s\n", proxy_env);
        /* What changes the numbers is stated when it is not the default. */
        if (opts->timeout_ms != BOOK_TIMEOUT_MS)
            fprintf(run.out, "Timeout: %.3g s per request.\n", (double)opts->timeout_ms / 1000.0);
        if (opts->fresh_connect)
            fprintf(run.out, "A new connection per request (--fresh-connect).\n");
        fflush(run.out);
    }
    flags_progress_init(&run.progress, efile,
                        !opts->verbose && !opts->quiet && isatty(STDERR_FILENO), job.requests);

    t0 = flags_now();
    rc = backend->download_many(&job, on_done, &run);
    elapsed = flags_now() - t0;
    flags_progress_end(&run.progress);

    struct flags_counts *c = &run.counts;
    if (run.received != job.requests ||
        c->ok + c->not_found + c->errors + c->cancelled != job.requests) {
        fprintf(stderr, "*** bug: %s returned %zu results for %zu requests\n", backend->name,
                run.received, job.requests);
        abort();
    }

    flags_report_summary(run.out, c, elapsed);
    fflush(run.out);
    if (rc < 0)
        fprintf(efile, "%s: the %s backend failed: %s\n", prog, backend->name, strerror(-rc));

    /* Before the --json record: its percentiles sort the samples in place. */
    if (lat_fd >= 0) {
        int lrc = append_latencies(lat_fd, run.latencies_ms, run.nlatencies);
        if (close(lat_fd) != 0 && lrc == 0)
            lrc = -errno;
        lat_fd = -1;
        if (lrc != 0) {
            fprintf(efile, "%s: cannot append to %s: %s\n", prog, opts->latencies_path,
                    flags_record_strerror(lrc));
            rc = rc ? rc : lrc;
        }
    }

    if (json_fd >= 0) {
        struct flags_record rec = {
            .backend = backend->name,
            .concur_req = job.concur_req,
            .requests = job.requests,
            .ok = c->ok,
            .not_found = c->not_found,
            .errors = c->errors,
            .cancelled = c->cancelled,
            .elapsed_s = elapsed,
            .bytes = run.bytes,
            .flags_per_s = elapsed > 0 ? (double)c->ok / elapsed : 0,
            .latency_ms = flags_latency_summary(run.latencies_ms, run.nlatencies),
            .connections = run.connections,
            .server = opts->server_label,
            .url = shown_url,
            .libcurl = curl_version_info(CURLVERSION_NOW)->version,
            .proxy_env = proxy_env,
            .timeout_s = (double)opts->timeout_ms / 1000.0,
            .fresh_connect = opts->fresh_connect,
            .loops = job.loops ? job.loops : 1,
            .save_threads = job.save_threads,
            .multis = job.multis ? job.multis : 1,
            .fd_cost = per,
            .http2 = opts->http2,
            .protocol = measured_protocol(&run, opts->base_url),
            .streams = flags_streams_peak(run.spans, run.nspans),
            .uring_setup = backend->uring_setup ? backend->uring_setup(&job) : NULL,
        };
        int urc = flags_record_usage(&rec);
        if (urc != 0)
            fprintf(efile, "%s: getrusage: %s\n", prog, strerror(-urc));
        int jrc = flags_record_append_fd(json_fd, &rec);
        if (close(json_fd) != 0 && jrc == 0)
            jrc = -errno;
        json_fd = -1;
        if (jrc != 0) {
            fprintf(efile, "%s: cannot append to %s: %s\n", prog, opts->json_path,
                    flags_record_strerror(jrc));
            rc = rc ? rc : jrc;
        }
    }

    /* Interrupted wins: the summary so far was printed, or abandoned after
     * the signal. Otherwise a summary or record that could not be written
     * is an error, like a failed download. */
    int ostatus = finish_output(prog, out, errout);
    out = errout = NULL;
    if (flags_cancelled())
        status = EXIT_INTERRUPTED;
    else if (rc < 0 || c->errors > 0 || ostatus != 0)
        status = 1;
    else
        status = 0;

out:
    if (out || errout)
        (void)finish_output(prog, out, errout);
    if (curl_ready)
        curl_global_cleanup();
    flags_saver_free(&saver); /* its idle spare files */
    if (job.outdir_fd >= 0) {
        flags_cancel_watch_dir(-1); /* every transfer is over */
        close(job.outdir_fd);
    }
    if (json_fd >= 0)
        close(json_fd);
    if (lat_fd >= 0)
        close(lat_fd);
    free(run.seen);
    free(run.latencies_ms);
    free(run.spans);
    if (opts)
        flags_opts_free(opts);
    free(opts);
    return status;
}
