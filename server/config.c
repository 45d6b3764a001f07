/* config.c -- flagserver's command line; see config.h. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

struct preset {
    const char *name;
    unsigned port;
    unsigned delay_ms;
    double error_rate;
};

/* The book's three servers. DELAY's 100 ms (the book's slow server waits
 * 0.5-5 s) keeps a 194-flag sequential run near 20 s while still dwarfing
 * the ~0.1 ms a loopback request costs; docs/flagserver.md has the reasons. */
static const struct preset presets[] = {
    {"LOCAL", 8000, 0, 0.0},
    {"DELAY", 8001, 100, 0.0},
    {"ERROR", 8002, 100, 0.25},
};

void fsrv_config_usage(FILE *out)
{
    fputs("usage: flagserver [--bind ADDR] [--port N] [--dir DIR] [--delay MS | --delay MIN:MAX]\n"
          "                  [--error-rate P] [--error-kind status|reset|stall] [--seed N]\n"
          "                  [--preset LOCAL|DELAY|ERROR] [--tls-cert FILE --tls-key FILE\n"
          "                  [--no-tls-resume]] [--http2 [--h2-max-streams N]\n"
          "                  [--h2-timeout S]] [--quiet] [--help]\n"
          "\n"
          "Serves DIR/flags/{cc}/{cc}.gif over HTTP(S) from memory, plus GET /stats (JSON).\n"
          "  --bind ADDR        numeric IPv4 or IPv6 address (default 127.0.0.1)\n"
          "  --port N           0-65535, 0 = any free port (default 8000)\n"
          "  --dir DIR          directory holding flags/ (default .)\n"
          "  --delay MS         hold every response MS milliseconds (default 0)\n"
          "  --delay MIN:MAX    ... a uniform random time in [MIN, MAX]\n"
          "  --error-rate P     probability in [0, 1] that a GET gets an error (default 0)\n"
          "  --error-kind KIND  status (500 or 503), reset (connection reset mid-body)\n"
          "                     or stall (headers, then the body never ends); default status\n"
          "  --seed N           seed of the delay and error generator (default 1)\n"
          "  --preset NAME      LOCAL (port 8000), DELAY (8001, --delay 100),\n"
          "                     ERROR (8002, --delay 100 --error-rate 0.25);\n"
          "                     explicit options override the preset's values\n"
          "  --tls-cert FILE    serve HTTPS (TLS 1.2 and 1.3) with this PEM certificate\n"
          "                     chain; needs --tls-key\n"
          "  --tls-key FILE     the PEM private key of --tls-cert\n"
          "  --no-tls-resume    no session resumption (no tickets, no session cache)\n"
          "  --http2            speak HTTP/2 only: h2 (ALPN) with --tls-cert, else h2c\n"
          "                     with prior knowledge\n"
          "  --h2-max-streams N streams one connection may have open, 1-100000 (default 100)\n"
          "  --h2-timeout S     reset a stream whose request or response makes no\n"
          "                     progress for S seconds, 1-3600 (default 30)\n"
          "  --quiet            no log lines on stderr\n"
          "Prints one line, 'flagserver listening on http[s]://ADDR:PORT/flags', once ready.\n",
          out);
}

const char *fsrv_config_kind_name(enum fsrv_fault kind)
{
    switch (kind) {
    case FSRV_FAULT_STATUS:
        return "status";
    case FSRV_FAULT_RESET:
        return "reset";
    case FSRV_FAULT_STALL:
        return "stall";
    case FSRV_FAULT_NONE:
    default:
        return "none";
    }
}

__attribute__((format(printf, 3, 4))) static int usage_error(char *err, size_t errlen,
                                                             const char *fmt, ...)
{
    va_list ap;

    if (errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* Parses all of S as a decimal number in [0, MAX]. Returns 0 or -EINVAL. */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (*s == '\0')
        return -EINVAL;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9')
            return -EINVAL;
        if (v > (max - (uint64_t)(*s - '0')) / 10)
            return -EINVAL;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}

static int parse_delay(const char *s, unsigned *min, unsigned *max, char *err, size_t errlen)
{
    char buf[64];
    const char *colon = strchr(s, ':');
    uint64_t lo, hi;

    if (colon == NULL) {
        if (parse_u64(s, FSRV_MAX_DELAY_MS, &lo))
            return usage_error(err, errlen, "--delay: '%s' is not a number of milliseconds in 0-%u",
                               s, FSRV_MAX_DELAY_MS);
        *min = *max = (unsigned)lo;
        return 0;
    }
    if ((size_t)(colon - s) >= sizeof(buf))
        return usage_error(err, errlen, "--delay: '%s' is not MIN:MAX", s);
    memcpy(buf, s, (size_t)(colon - s));
    buf[colon - s] = '\0';
    if (parse_u64(buf, FSRV_MAX_DELAY_MS, &lo) || parse_u64(colon + 1, FSRV_MAX_DELAY_MS, &hi))
        return usage_error(err, errlen, "--delay: '%s' is not MIN:MAX in milliseconds, each 0-%u",
                           s, FSRV_MAX_DELAY_MS);
    if (lo > hi)
        return usage_error(err, errlen, "--delay: MIN %" PRIu64 " is greater than MAX %" PRIu64, lo,
                           hi);
    *min = (unsigned)lo;
    *max = (unsigned)hi;
    return 0;
}

static int parse_rate(const char *s, double *out, char *err, size_t errlen)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || errno != 0 || !isfinite(v) || v < 0.0 || v > 1.0)
        return usage_error(err, errlen, "--error-rate: '%s' is not a probability in [0, 1]", s);
    *out = v;
    return 0;
}

static int parse_kind(const char *s, enum fsrv_fault *out, char *err, size_t errlen)
{
    if (strcmp(s, "status") == 0)
        *out = FSRV_FAULT_STATUS;
    else if (strcmp(s, "reset") == 0)
        *out = FSRV_FAULT_RESET;
    else if (strcmp(s, "stall") == 0)
        *out = FSRV_FAULT_STALL;
    else
        return usage_error(err, errlen, "--error-kind: '%s' is not status, reset or stall", s);
    return 0;
}

static const struct preset *find_preset(const char *name)
{
    for (size_t p = 0; p < sizeof(presets) / sizeof(presets[0]); p++) {
        if (strcmp(name, presets[p].name) == 0)
            return &presets[p];
    }
    return NULL;
}

enum {
    OPT_BIND = 256,
    OPT_PORT,
    OPT_DIR,
    OPT_DELAY,
    OPT_RATE,
    OPT_KIND,
    OPT_SEED,
    OPT_PRESET,
    OPT_QUIET,
    OPT_TLS_CERT,
    OPT_TLS_KEY,
    OPT_NO_TLS_RESUME,
    OPT_HTTP2,
    OPT_H2_MAX_STREAMS,
    OPT_H2_TIMEOUT
};

static const struct option long_opts[] = {
    {"bind", required_argument, NULL, OPT_BIND},
    {"port", required_argument, NULL, OPT_PORT},
    {"dir", required_argument, NULL, OPT_DIR},
    {"delay", required_argument, NULL, OPT_DELAY},
    {"error-rate", required_argument, NULL, OPT_RATE},
    {"error-kind", required_argument, NULL, OPT_KIND},
    {"seed", required_argument, NULL, OPT_SEED},
    {"preset", required_argument, NULL, OPT_PRESET},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"no-tls-resume", no_argument, NULL, OPT_NO_TLS_RESUME},
    {"http2", no_argument, NULL, OPT_HTTP2},
    {"h2-max-streams", required_argument, NULL, OPT_H2_MAX_STREAMS},
    {"h2-timeout", required_argument, NULL, OPT_H2_TIMEOUT},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int fsrv_config_parse(struct fsrv_config *cfg, int argc, char **argv, char *err, size_t errlen)
{
    const struct preset *preset = &presets[0];
    const char *port = NULL, *delay = NULL, *rate = NULL, *kind = NULL, *seed = NULL;
    const char *h2_streams = NULL, *h2_timeout = NULL;
    unsigned char addr[sizeof(struct in6_addr)];
    uint64_t v;
    int c, rc;

    *cfg = (struct fsrv_config){.bind = "127.0.0.1",
                                .dir = ".",
                                .error_kind = FSRV_FAULT_STATUS,
                                .seed = 1,
                                .tls_resume = true,
                                .h2_max_streams = FSRV_H2_MAX_STREAMS_DEFAULT,
                                .h2_timeout_s = FSRV_H2_TIMEOUT_DEFAULT_S};
    if (errlen > 0)
        err[0] = '\0';
    /* optind = 0 makes glibc re-initialise getopt fully, so parsing twice in
     * one process (tests, the fuzzer) starts afresh. Options must be spelt
     * out up to where they are unambiguous; getopt_long takes prefixes. */
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            return FSRV_CONFIG_HELP;
        case OPT_QUIET:
            cfg->quiet = true;
            break;
        case OPT_BIND:
            cfg->bind = optarg;
            break;
        case OPT_PORT:
            port = optarg;
            break;
        case OPT_DIR:
            cfg->dir = optarg;
            break;
        case OPT_DELAY:
            delay = optarg;
            break;
        case OPT_RATE:
            rate = optarg;
            break;
        case OPT_KIND:
            kind = optarg;
            break;
        case OPT_SEED:
            seed = optarg;
            break;
        case OPT_TLS_CERT:
            cfg->tls_cert = optarg;
            break;
        case OPT_TLS_KEY:
            cfg->tls_key = optarg;
            break;
        case OPT_NO_TLS_RESUME:
            cfg->tls_resume = false;
            break;
        case OPT_HTTP2:
            cfg->http2 = true;
            break;
        case OPT_H2_MAX_STREAMS:
            h2_streams = optarg;
            break;
        case OPT_H2_TIMEOUT:
            h2_timeout = optarg;
            break;
        case OPT_PRESET:
            preset = find_preset(optarg);
            if (preset == NULL)
                return usage_error(err, errlen, "--preset: '%s' is not LOCAL, DELAY or ERROR",
                                   optarg);
            cfg->preset = preset->name;
            break;
        case ':':
            return usage_error(err, errlen, "%s needs a value", argv[optind - 1]);
        default:
            /* '?': an unknown short option (optopt is it; -h is never in
             * error); else an unknown or ambiguous long option, or a value
             * given to --quiet or --help, which getopt has stepped over. */
            if (optopt > 0 && optopt < OPT_BIND && optopt != 'h')
                return usage_error(err, errlen, "unknown option '-%c'", optopt);
            return usage_error(err, errlen, "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error(err, errlen, "unexpected argument '%s'", argv[optind]);

    if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL))
        return usage_error(err, errlen, "--tls-cert and --tls-key go together");
    if (cfg->tls_cert != NULL && (cfg->tls_cert[0] == '\0' || cfg->tls_key[0] == '\0'))
        return usage_error(err, errlen, "%s: the file name is empty",
                           cfg->tls_cert[0] == '\0' ? "--tls-cert" : "--tls-key");
    if (!cfg->tls_resume && cfg->tls_cert == NULL)
        return usage_error(err, errlen, "--no-tls-resume needs --tls-cert and --tls-key");
    if (inet_pton(AF_INET, cfg->bind, addr) != 1 && inet_pton(AF_INET6, cfg->bind, addr) != 1)
        return usage_error(err, errlen, "--bind: '%s' is not a numeric IPv4 or IPv6 address",
                           cfg->bind);
    cfg->port = preset->port;
    cfg->delay_min_ms = cfg->delay_max_ms = preset->delay_ms;
    cfg->error_rate = preset->error_rate;
    if (port != NULL) {
        if (parse_u64(port, 65535, &v))
            return usage_error(err, errlen, "--port: '%s' is not a port number in 0-65535", port);
        cfg->port = (unsigned)v;
    }
    if (delay != NULL &&
        (rc = parse_delay(delay, &cfg->delay_min_ms, &cfg->delay_max_ms, err, errlen)) != 0)
        return rc;
    if (rate != NULL && (rc = parse_rate(rate, &cfg->error_rate, err, errlen)) != 0)
        return rc;
    if (kind != NULL && (rc = parse_kind(kind, &cfg->error_kind, err, errlen)) != 0)
        return rc;
    if (seed != NULL && parse_u64(seed, UINT64_MAX, &cfg->seed))
        return usage_error(err, errlen, "--seed: '%s' is not a number in 0-%" PRIu64, seed,
                           UINT64_MAX);
    if ((h2_streams != NULL || h2_timeout != NULL) && !cfg->http2)
        return usage_error(err, errlen, "%s needs --http2",
                           h2_streams != NULL ? "--h2-max-streams" : "--h2-timeout");
    if (h2_streams != NULL) {
        if (parse_u64(h2_streams, FSRV_H2_MAX_STREAMS_MAX, &v) || v == 0)
            return usage_error(err, errlen, "--h2-max-streams: '%s' is not a number in 1-%u",
                               h2_streams, FSRV_H2_MAX_STREAMS_MAX);
        cfg->h2_max_streams = (unsigned)v;
    }
    if (h2_timeout != NULL) {
        if (parse_u64(h2_timeout, FSRV_H2_TIMEOUT_MAX_S, &v) || v == 0)
            return usage_error(err, errlen, "--h2-timeout: '%s' is not a number of seconds in 1-%u",
                               h2_timeout, FSRV_H2_TIMEOUT_MAX_S);
        cfg->h2_timeout_s = (unsigned)v;
    }
    return FSRV_CONFIG_RUN;
}
