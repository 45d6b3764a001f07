/* report.h -- what the user reads: the book's header, per-download lines,
 * progress bar and summary (flags2_common.initial_report / final_report).
 *
 * Every function writes to the FILE * it is given, so tests can capture the
 * exact text with open_memstream.
 */
#ifndef FLAGS_REPORT_H
#define FLAGS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "flags.h"

/* How many requests ended each way. */
struct flags_counts {
    size_t ok, not_found, errors, cancelled;
};

/* The header: "LOCAL site: URL", "Searching for 20 flags: from BD to VN" (the
 * codes themselves, comma-separated, when there are at most 10), and "N
 * concurrent connections will be used." ("1 connection will be used.").
 * With repeat > 1, a line saying how many requests that makes. */
void flags_report_header(FILE *f, const char *label, const char *url, const char (*codes)[3],
                         size_t ncodes, unsigned long repeat, unsigned concur_req);

/* The -v line for one result: "BR OK", "XX not found: URL", "XX error: MSG",
 * "XX cancelled". url is the request's URL. */
void flags_report_result(FILE *f, const char *cc, const struct flags_result *res, const char *url);

/* The summary: 20 dashes, " 20 flags downloaded.", "  3 not found." and
 * "  1 error." (only when non-zero; counts right-aligned in 3 columns, as the
 * book), our "  5 cancelled." when interrupted, "Elapsed time: 0.09s". */
void flags_report_summary(FILE *f, const struct flags_counts *c, double elapsed_s);

/* A progress bar redrawn in place ("\r") on a terminal. */
struct flags_progress {
    FILE *f;       /* NULL: disabled */
    size_t total;  /* requests */
    size_t done;   /* results so far */
    bool open;     /* a bar is on screen and its line not yet ended */
    double last_s; /* monotonic time of the last redraw */
};

/* Enables the bar on f for total requests when enabled is true. */
void flags_progress_init(struct flags_progress *p, FILE *f, bool enabled, size_t total);

/* Counts one result and redraws at most every 50 ms (and at the end). */
void flags_progress_step(struct flags_progress *p);

/* Ends the bar's line, if one was drawn. */
void flags_progress_end(struct flags_progress *p);

/* Copies url into buf (of size cap) with its credentials hidden: the userinfo
 * of "scheme://user:password@host/..." (or "user:password@host" without a
 * scheme) becomes "***", and control bytes become '?'. Returns the length, or
 * -ENOSPC if it does not fit. */
int flags_redact_url(char *buf, size_t cap, const char *url);

/* Describes the proxy settings libcurl takes from the environment
 * (http_proxy, https_proxy, HTTPS_PROXY, all_proxy, ALL_PROXY, no_proxy,
 * NO_PROXY; those set and non-empty) as "name=value ..." with every value
 * redacted, into buf; "" when none is set. Returns the length or -ENOSPC. */
int flags_proxy_env(char *buf, size_t cap);

/* Seconds on CLOCK_MONOTONIC. */
double flags_now(void);

#endif /* FLAGS_REPORT_H */
