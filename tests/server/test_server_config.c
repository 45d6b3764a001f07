/* test_server_config.c -- unit tests for flagserver's command line
 * (server/config.c): defaults, every option in both forms, presets and
 * explicit options overriding them in any order, and every usage error with
 * its one-line message. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "config.h"

#define MAX_ARGS 32

static char err[512];

/* Parses the NULL-terminated argument list (after the program name). */
static int parse(struct fsrv_config *cfg, ...)
{
    char *argv[MAX_ARGS + 2] = {"flagserver"};
    int argc = 1;
    va_list ap;
    char *a;

    va_start(ap, cfg);
    while ((a = va_arg(ap, char *)) != NULL && argc <= MAX_ARGS)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    return fsrv_config_parse(cfg, argc, argv, err, sizeof(err));
}

/* Expects a usage error whose message is exactly WANT. */
#define BAD(want, ...)                                                                             \
    do {                                                                                           \
        struct fsrv_config c_;                                                                     \
        CHECK_EQ_LONG(parse(&c_, __VA_ARGS__, (char *)NULL), -EINVAL);                             \
        CHECK_EQ_STR(err, want);                                                                   \
    } while (0)

static void test_defaults(void)
{
    struct fsrv_config c;

    CHECK_EQ_LONG(parse(&c, (char *)NULL), FSRV_CONFIG_RUN);
    CHECK_EQ_STR(c.bind, "127.0.0.1");
    CHECK_EQ_LONG(c.port, 8000);
    CHECK_EQ_STR(c.dir, ".");
    CHECK_EQ_LONG(c.delay_min_ms, 0);
    CHECK_EQ_LONG(c.delay_max_ms, 0);
    CHECK(c.error_rate == 0.0);
    CHECK_EQ_LONG(c.error_kind, FSRV_FAULT_STATUS);
    CHECK(c.seed == 1);
    CHECK(c.preset == NULL);
    CHECK(!c.quiet);
    CHECK(c.tls_cert == NULL && c.tls_key == NULL && c.tls_resume);
    CHECK_EQ_STR(err, "");
}

static void test_options(void)
{
    struct fsrv_config c;

    CHECK_EQ_LONG(parse(&c, "--bind", "::1", "--port", "0", "--dir", "/srv", "--delay", "50:150",
                        "--error-rate", "0.5", "--error-kind", "stall", "--seed",
                        "18446744073709551615", "--quiet", (char *)NULL),
                  FSRV_CONFIG_RUN);
    CHECK_EQ_STR(c.bind, "::1");
    CHECK_EQ_LONG(c.port, 0);
    CHECK_EQ_STR(c.dir, "/srv");
    CHECK_EQ_LONG(c.delay_min_ms, 50);
    CHECK_EQ_LONG(c.delay_max_ms, 150);
    CHECK(c.error_rate == 0.5);
    CHECK_EQ_LONG(c.error_kind, FSRV_FAULT_STALL);
    CHECK(c.seed == UINT64_MAX);
    CHECK(c.quiet);
    CHECK(c.preset == NULL);
    /* The --opt=VALUE form, and the last of a repeated option wins. */
    CHECK_EQ_LONG(parse(&c, "--port=65535", "--delay=7", "--error-kind=reset", "--bind=10.0.0.1",
                        "--delay=3600000", (char *)NULL),
                  FSRV_CONFIG_RUN);
    CHECK_EQ_LONG(c.port, 65535);
    CHECK_EQ_LONG(c.delay_min_ms, 3600000);
    CHECK_EQ_LONG(c.delay_max_ms, 3600000);
    CHECK_EQ_LONG(c.error_kind, FSRV_FAULT_RESET);
    CHECK_EQ_STR(c.bind, "10.0.0.1");
    CHECK_EQ_LONG(parse(&c, "--error-rate", "1", "--delay", "5:5", (char *)NULL), FSRV_CONFIG_RUN);
    CHECK(c.error_rate == 1.0);
    CHECK_EQ_LONG(c.delay_min_ms, 5);
    CHECK_EQ_LONG(c.delay_max_ms, 5);
    CHECK_EQ_LONG(parse(&c, "--help", (char *)NULL), FSRV_CONFIG_HELP);
    CHECK_EQ_LONG(parse(&c, "-h", (char *)NULL), FSRV_CONFIG_HELP);
    /* --help wins over values checked after the options are read. */
    CHECK_EQ_LONG(parse(&c, "--port", "99999", "--help", (char *)NULL), FSRV_CONFIG_HELP);
}

static void test_presets(void)
{
    struct fsrv_config c;

    CHECK_EQ_LONG(parse(&c, "--preset", "LOCAL", (char *)NULL), FSRV_CONFIG_RUN);
    CHECK_EQ_STR(c.preset, "LOCAL");
    CHECK_EQ_LONG(c.port, 8000);
    CHECK_EQ_LONG(parse(&c, "--preset", "DELAY", (char *)NULL), FSRV_CONFIG_RUN);
    CHECK_EQ_STR(c.preset, "DELAY");
    CHECK_EQ_LONG(c.port, 8001);
    CHECK_EQ_LONG(c.delay_min_ms, 100);
    CHECK_EQ_LONG(c.delay_max_ms, 100);
    CHECK(c.error_rate == 0.0);
    CHECK_EQ_LONG(parse(&c, "--preset=ERROR", (char *)NULL), FSRV_CONFIG_RUN);
    CHECK_EQ_STR(c.preset, "ERROR");
    CHECK_EQ_LONG(c.port, 8002);
    CHECK_EQ_LONG(c.delay_min_ms, 100);
    CHECK(c.error_rate == 0.25);
    CHECK_EQ_LONG(c.error_kind, FSRV_FAULT_STATUS);
    /* Explicit options win, before or after the preset. */
    CHECK_EQ_LONG(parse(&c, "--delay", "0", "--error-rate", "0", "--preset", "ERROR", "--port", "0",
                        (char *)NULL),
                  FSRV_CONFIG_RUN);
    CHECK_EQ_LONG(c.delay_min_ms, 0);
    CHECK_EQ_LONG(c.delay_max_ms, 0);
    CHECK(c.error_rate == 0.0);
    CHECK_EQ_LONG(c.port, 0);
    /* The last preset given is the one. */
    CHECK_EQ_LONG(parse(&c, "--preset", "ERROR", "--preset", "DELAY", (char *)NULL),
                  FSRV_CONFIG_RUN);
    CHECK_EQ_STR(c.preset, "DELAY");
    CHECK(c.error_rate == 0.0);
}

static void test_errors(void)
{
    BAD("--port: '65536' is not a port number in 0-65535", "--port", "65536");
    BAD("--port: '-1' is not a port number in 0-65535", "--port", "-1");
    BAD("--port: '' is not a port number in 0-65535", "--port=");
    BAD("--port: '99999999999999999999999' is not a port number in 0-65535", "--port",
        "99999999999999999999999");
    BAD("--error-rate: '1.5' is not a probability in [0, 1]", "--error-rate", "1.5");
    BAD("--error-rate: 'nan' is not a probability in [0, 1]", "--error-rate", "nan");
    BAD("--error-rate: '0.5x' is not a probability in [0, 1]", "--error-rate", "0.5x");
    BAD("--delay: MIN 500 is greater than MAX 100", "--delay", "500:100");
    BAD("--delay: 'soon' is not a number of milliseconds in 0-3600000", "--delay", "soon");
    BAD("--delay: '100:' is not MIN:MAX in milliseconds, each 0-3600000", "--delay", "100:");
    BAD("--delay: '3600001' is not a number of milliseconds in 0-3600000", "--delay", "3600001");
    BAD("--error-kind: 'teapot' is not status, reset or stall", "--error-kind", "teapot");
    BAD("--preset: 'FAST' is not LOCAL, DELAY or ERROR", "--preset", "FAST");
    BAD("--preset: 'delay' is not LOCAL, DELAY or ERROR", "--preset", "delay");
    BAD("--seed: '-3' is not a number in 0-18446744073709551615", "--seed", "-3");
    BAD("--seed: '18446744073709551616' is not a number in 0-18446744073709551615", "--seed",
        "18446744073709551616");
    BAD("--bind: 'localhost' is not a numeric IPv4 or IPv6 address", "--bind", "localhost");
    BAD("unknown option '--colour'", "--colour");
    BAD("unknown option '--colour=red'", "--colour=red");
    BAD("unknown option '-x'", "-x");
    BAD("unknown option '--quiet=yes'", "--quiet=yes");
    BAD("unknown option '--help=yes'", "--help=yes");
    BAD("--port needs a value", "--port");
    BAD("--seed needs a value", "--quiet", "--seed");
    BAD("unexpected argument 'extra'", "--quiet", "extra");
    /* The first error in command-line order is the one reported. */
    BAD("unknown option '--nope'", "--nope", "--port", "x");
    BAD("--preset: 'X' is not LOCAL, DELAY or ERROR", "--preset", "X", "--nope");
    /* A short message buffer is cut, never overrun. */
    {
        struct fsrv_config c;
        char small[8];
        char *argv[] = {"flagserver", "--port", "65536", NULL};
        CHECK_EQ_LONG(fsrv_config_parse(&c, 3, argv, small, sizeof(small)), -EINVAL);
        CHECK_EQ_STR(small, "--port:");
        CHECK_EQ_LONG(fsrv_config_parse(&c, 3, argv, NULL, 0), -EINVAL);
    }
}

static void test_tls(void)
{
    struct fsrv_config c;

    CHECK_EQ_LONG(parse(&c, "--tls-cert", "c.pem", "--tls-key", "k.pem", (char *)NULL),
                  FSRV_CONFIG_RUN);
    CHECK_EQ_STR(c.tls_cert, "c.pem");
    CHECK_EQ_STR(c.tls_key, "k.pem");
    CHECK(c.tls_resume);
    /* Any order, the = form, with a preset and --no-tls-resume. */
    CHECK_EQ_LONG(parse(&c, "--no-tls-resume", "--tls-key=/k", "--preset", "DELAY", "--tls-cert=/c",
                        (char *)NULL),
                  FSRV_CONFIG_RUN);
    CHECK_EQ_STR(c.tls_cert, "/c");
    CHECK_EQ_STR(c.tls_key, "/k");
    CHECK(!c.tls_resume);
    CHECK_EQ_LONG(c.port, 8001);
    /* The parser does not open the files: flagserver does, at start. */
    CHECK_EQ_LONG(
        parse(&c, "--tls-cert", "/nonexistent", "--tls-key", "/nonexistent", (char *)NULL),
        FSRV_CONFIG_RUN);

    BAD("--tls-cert and --tls-key go together", "--tls-cert", "c.pem");
    BAD("--tls-cert and --tls-key go together", "--tls-key", "k.pem", "--no-tls-resume");
    BAD("--tls-cert: the file name is empty", "--tls-cert=", "--tls-key", "k.pem");
    BAD("--tls-key: the file name is empty", "--tls-cert", "c.pem", "--tls-key", "");
    BAD("--no-tls-resume needs --tls-cert and --tls-key", "--no-tls-resume");
    BAD("--tls-cert needs a value", "--tls-key", "k.pem", "--tls-cert");
    BAD("unknown option '--no-tls-resume=1'", "--no-tls-resume=1");
}

static void test_http2(void)
{
    struct fsrv_config c;

    CHECK_EQ_LONG(parse(&c, (char *)NULL), FSRV_CONFIG_RUN);
    CHECK(!c.http2);
    CHECK_EQ_LONG(c.h2_max_streams, 100);
    CHECK_EQ_LONG(c.h2_timeout_s, 30);
    CHECK_EQ_LONG(parse(&c, "--http2", (char *)NULL), FSRV_CONFIG_RUN);
    CHECK(c.http2);
    CHECK_EQ_LONG(c.h2_max_streams, 100);
    CHECK_EQ_LONG(parse(&c, "--h2-max-streams=1", "--h2-timeout", "3600", "--http2", (char *)NULL),
                  FSRV_CONFIG_RUN);
    CHECK_EQ_LONG(c.h2_max_streams, 1);
    CHECK_EQ_LONG(c.h2_timeout_s, 3600);
    CHECK_EQ_LONG(parse(&c, "--http2", "--h2-max-streams", "100000", (char *)NULL),
                  FSRV_CONFIG_RUN);
    CHECK_EQ_LONG(c.h2_max_streams, 100000);

    BAD("--h2-max-streams needs --http2", "--h2-max-streams", "10");
    BAD("--h2-timeout needs --http2", "--h2-timeout", "10");
    BAD("--h2-max-streams: '0' is not a number in 1-100000", "--http2", "--h2-max-streams", "0");
    BAD("--h2-max-streams: '100001' is not a number in 1-100000", "--http2", "--h2-max-streams",
        "100001");
    BAD("--h2-max-streams: 'x' is not a number in 1-100000", "--http2", "--h2-max-streams", "x");
    BAD("--h2-timeout: '0' is not a number of seconds in 1-3600", "--http2", "--h2-timeout", "0");
    BAD("--h2-timeout: '3601' is not a number of seconds in 1-3600", "--http2", "--h2-timeout",
        "3601");
    BAD("unknown option '--http2=1'", "--http2=1");
}

static void test_kind_names(void)
{
    CHECK_EQ_STR(fsrv_config_kind_name(FSRV_FAULT_STATUS), "status");
    CHECK_EQ_STR(fsrv_config_kind_name(FSRV_FAULT_RESET), "reset");
    CHECK_EQ_STR(fsrv_config_kind_name(FSRV_FAULT_STALL), "stall");
    CHECK_EQ_STR(fsrv_config_kind_name(FSRV_FAULT_NONE), "none");
}

int main(void)
{
    test_defaults();
    test_options();
    test_presets();
    test_errors();
    test_tls();
    test_http2();
    test_kind_names();
    return CHECK_DONE();
}
