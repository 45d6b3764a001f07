/* config.h -- flagserver's command line, parsed into a struct by a pure
 * function (getopt_long), so that it has unit tests and a fuzzer.
 *
 * fsrv_config_parse applies a --preset first and the explicit options after
 * it, whatever their order. A usage error comes back as one line (without the
 * "flagserver: " prefix and the " (see --help)" suffix, which the caller adds)
 * and the caller exits 2.
 */
#ifndef FLAGSERVER_CONFIG_H
#define FLAGSERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* fsrv_config_parse results besides negative errors. */
#define FSRV_CONFIG_RUN  0
#define FSRV_CONFIG_HELP 1

#define FSRV_MAX_DELAY_MS 3600000u /* one hour: anything longer is a typo */

#define FSRV_H2_MAX_STREAMS_DEFAULT 100u /* RFC 9113 5.1.2 minimum; libcurl, nghttpd, Apache */
#define FSRV_H2_MAX_STREAMS_MAX     100000u
#define FSRV_H2_TIMEOUT_DEFAULT_S   30u /* as evhttp's write timeout for HTTP/1.1 */
#define FSRV_H2_TIMEOUT_MAX_S       3600u

/* What a request is answered with; the error kinds are --error-kind's. */
enum fsrv_fault { FSRV_FAULT_NONE, FSRV_FAULT_STATUS, FSRV_FAULT_RESET, FSRV_FAULT_STALL };

struct fsrv_config {
    const char *bind;           /* numeric IPv4 or IPv6 address (argv or static) */
    unsigned port;              /* 0-65535; 0 = any free port */
    const char *dir;            /* holds flags/ (argv or static) */
    unsigned delay_min_ms;      /* every response is held a time uniform in */
    unsigned delay_max_ms;      /* [delay_min_ms, delay_max_ms] */
    double error_rate;          /* [0, 1] */
    enum fsrv_fault error_kind; /* FSRV_FAULT_STATUS, _RESET or _STALL */
    uint64_t seed;              /* of the delay and error generator */
    const char *preset;         /* "LOCAL", "DELAY", "ERROR", or NULL if none given */
    bool quiet;                 /* no log lines on stderr */
    const char *tls_cert;       /* PEM certificate chain, or NULL for plain HTTP */
    const char *tls_key;        /* PEM private key; set exactly when tls_cert is */
    bool tls_resume;            /* session tickets and cache; false by --no-tls-resume */
    bool http2;                 /* --http2: every connection speaks HTTP/2 (h2 or h2c) */
    unsigned h2_max_streams;    /* SETTINGS_MAX_CONCURRENT_STREAMS */
    unsigned h2_timeout_s;      /* a stream without progress this long is reset */
};

/* Parses ARGV into *CFG, which it initialises with the defaults first.
 * Returns FSRV_CONFIG_RUN, FSRV_CONFIG_HELP for -h/--help, or -EINVAL with a
 * one-line message in ERR (ERRLEN bytes, NUL-terminated, may be cut short).
 * Pure but for getopt's globals: it resets optind, permutes ARGV and is not
 * thread-safe. The strings in *CFG point into ARGV or are static. */
int fsrv_config_parse(struct fsrv_config *cfg, int argc, char **argv, char *err, size_t errlen);

/* Prints the usage and the option descriptions (--help) to OUT. */
void fsrv_config_usage(FILE *out);

/* The --error-kind name of KIND ("status", "reset", "stall"), "none" for
 * FSRV_FAULT_NONE. */
const char *fsrv_config_kind_name(enum fsrv_fault kind);

#endif /* FLAGSERVER_CONFIG_H */
