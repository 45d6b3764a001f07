/* cli.h -- the book's command line (flags2_common.process_args) and ours.
 *
 * flags_cli_parse turns argv into a struct flags_opts: validated numbers, the
 * server's base URL and the expanded, sorted list of codes. Usage errors come
 * back as one line in the book's words ("*** Usage error: ..."); the caller
 * prints it with the usage line and exits 2.
 */
#ifndef FLAGS_CLI_H
#define FLAGS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "codes.h"

/* flags_cli_parse results besides negative errors. */
#define FLAGS_CLI_RUN  0
#define FLAGS_CLI_HELP 1

/* Upper bounds that keep every product below overflow. */
#define FLAGS_CLI_MAX_REQUESTS  10000000ul /* codes x --repeat */
#define FLAGS_CLI_MAX_TIMEOUT_S 86400.0
#define FLAGS_CLI_MAX_SIZE      (1LL << 40) /* --max-size: 1 TiB */
#define FLAGS_CLI_MAX_LOOPS     256         /* --loops, --save-threads, --multis */

struct flags_opts {
    bool all;                   /* -a */
    bool every;                 /* -e */
    bool verbose;               /* -v: one line per download, no progress bar */
    bool quiet;                 /* --quiet: the summary only */
    bool fresh_connect;         /* --fresh-connect */
    bool http2;                 /* --http2: h2 (https://) or h2c with prior knowledge (http://) */
    size_t limit;               /* -l N, SIZE_MAX when absent */
    long max_req;               /* -m CONCURRENT, >= 1; clamped later to the backend's maximum */
    const char *server_label;   /* "DELAY", "ERROR", "LOCAL", "REMOTE" or "CUSTOM" */
    char *base_url;             /* owned; no trailing slash */
    const char *output_dir;     /* --output DIR (points into argv or static) */
    const char *json_path;      /* --json FILE, or NULL */
    const char *latencies_path; /* --latencies FILE, or NULL */
    const char *cacert;         /* --cacert FILE (readable when parsed), or NULL */
    long timeout_ms;            /* --timeout SECONDS, in ms, >= 1 */
    unsigned long repeat;       /* --repeat K, >= 1 */
    long long max_size;         /* --max-size BYTES, 1..FLAGS_CLI_MAX_SIZE */
    unsigned loops;             /* --loops N, 1..FLAGS_CLI_MAX_LOOPS (asyncloop) */
    unsigned save_threads;      /* --save-threads K, 0..FLAGS_CLI_MAX_LOOPS (asyncloop) */
    unsigned multis;            /* --multis K, 1..FLAGS_CLI_MAX_LOOPS (asyncloop) */
    bool save_uring;            /* --save-uring (asyncloop); never with --save-threads */
    size_t ncodes;              /* >= 1 after a successful parse */
    char codes[FLAGS_CODES_MAX][3];
};

/* Parses argv into *o (which it initialises; call flags_opts_free after any
 * return). default_concur_req is -m's default. The one look outside argv:
 * --cacert FILE is opened for reading (and closed) so that a missing or
 * unreadable file is a usage error here, not one error per request later.
 * Returns FLAGS_CLI_RUN,
 * FLAGS_CLI_HELP for -h/--help, -EINVAL for a usage error with its one-line
 * message in err, or -ENOMEM. Uses getopt_long (resets optind; permutes argv);
 * not thread-safe. */
int flags_cli_parse(struct flags_opts *o, int argc, char **argv, unsigned default_concur_req,
                    char *err, size_t errlen);

/* Frees what *o owns; safe after any flags_cli_parse return and twice. */
void flags_opts_free(struct flags_opts *o);

/* Prints the usage line(s) for program prog to f. */
void flags_cli_usage(FILE *f, const char *prog);

/* Prints the usage and the option descriptions (-h) to f. */
void flags_cli_help(FILE *f, const char *prog, unsigned default_concur_req,
                    unsigned max_concur_req);

/* Parses a whole decimal integer in [min, max]: no leading blanks, no trailing
 * junk. Returns 0, -EINVAL if s is not an integer, -ERANGE if out of range. */
int flags_parse_long(const char *s, long min, long max, long *out);

/* Parses a size: a whole number of bytes, optionally followed by K, M or G
 * (any case; powers of 1024), in [1, FLAGS_CLI_MAX_SIZE]. Returns 0 or
 * -EINVAL. */
int flags_parse_size(const char *s, long long *out);

/* Checks a base URL: http:// or https:// (any case), a non-empty host, no
 * blanks or control characters. Returns 0 or -EINVAL. */
int flags_check_url(const char *url);

#endif /* FLAGS_CLI_H */
