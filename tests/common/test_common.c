/* test_common.c -- unit tests of common/: codes, CLI, URLs, report text,
 * percentiles, JSON, fd limit planning. */
#include <errno.h>
#include <iconv.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "cli.h"
#include "codes.h"
#include "fdlimit.h"
#include "record.h"
#include "report.h"
#include "stats.h"
#include "xfer.h"

static char codes[FLAGS_CODES_MAX][3];

static void test_codes(void)
{
    const char *one[] = {"b"};
    const char *mix[] = {"zz", "BR", "br", "Ab", "c"};
    const char *bad3[] = {"BRA"};
    const char *bad_digit[] = {"B1"};
    const char *bad_empty[] = {""};
    const char *bad_utf8[] = {"\xc3\xa9"};
    int n;

    CHECK_EQ_LONG(flags_country_codes_len, 194);
    CHECK_EQ_STR(flags_country_codes[0], "AD");
    CHECK_EQ_STR(flags_country_codes[193], "ZW");

    n = flags_codes_expand(codes, false, false, one, 1, SIZE_MAX);
    CHECK_EQ_LONG(n, 26);
    CHECK_EQ_STR(codes[0], "BA");
    CHECK_EQ_STR(codes[25], "BZ");

    /* dedupe, case-insensitive, sorted */
    n = flags_codes_expand(codes, false, false, mix, 5, SIZE_MAX);
    CHECK_EQ_LONG(n, 2 + 1 + 26);
    CHECK_EQ_STR(codes[0], "AB");
    CHECK_EQ_STR(codes[1], "BR");
    CHECK_EQ_STR(codes[2], "CA");
    CHECK_EQ_STR(codes[28], "ZZ");

    n = flags_codes_expand(codes, false, false, mix, 5, 3);
    CHECK_EQ_LONG(n, 3);
    CHECK_EQ_STR(codes[2], "CA");

    CHECK_EQ_LONG(flags_codes_expand(codes, false, false, bad3, 1, SIZE_MAX), -EINVAL);
    CHECK_EQ_LONG(flags_codes_expand(codes, false, false, bad_digit, 1, SIZE_MAX), -EINVAL);
    CHECK_EQ_LONG(flags_codes_expand(codes, false, false, bad_empty, 1, SIZE_MAX), -EINVAL);
    CHECK_EQ_LONG(flags_codes_expand(codes, false, false, bad_utf8, 1, SIZE_MAX), -EINVAL);

    /* no args: the 20 most populous, sorted */
    n = flags_codes_expand(codes, false, false, NULL, 0, SIZE_MAX);
    CHECK_EQ_LONG(n, 20);
    CHECK_EQ_STR(codes[0], "BD");
    CHECK_EQ_STR(codes[19], "VN");

    /* -e wins over -a wins over args */
    CHECK_EQ_LONG(flags_codes_expand(codes, true, true, one, 1, SIZE_MAX), 676);
    CHECK_EQ_STR(codes[0], "AA");
    CHECK_EQ_STR(codes[675], "ZZ");
    CHECK_EQ_LONG(flags_codes_expand(codes, false, true, one, 1, SIZE_MAX), 194);
    CHECK_EQ_LONG(flags_codes_expand(codes, false, true, bad3, 1, 10), 10);
}

/* Parses a NULL-terminated argument list; returns flags_cli_parse's result. */
static int parse(struct flags_opts *o, char *err, const char **args)
{
    char *argv[32];
    int argc = 0;

    argv[argc++] = "flags_test";
    for (; *args; args++)
        argv[argc++] = (char *)*args;
    argv[argc] = NULL;
    flags_opts_free(o);
    return flags_cli_parse(o, argc, argv, 30, err, 256);
}

#define EXPECT_USAGE(msg, ...)                                                                     \
    do {                                                                                           \
        const char *args_[] = {__VA_ARGS__, NULL};                                                 \
        CHECK_EQ_LONG(parse(o, err, args_), -EINVAL);                                              \
        CHECK_EQ_STR(err, msg);                                                                    \
    } while (0)

static void test_cli(void)
{
    static struct flags_opts opts;
    struct flags_opts *o = &opts;
    char err[256];

    {
        const char *a[] = {NULL};
        CHECK_EQ_LONG(parse(o, err, a), FLAGS_CLI_RUN);
        CHECK_EQ_LONG(o->ncodes, 20);
        CHECK_EQ_LONG(o->max_req, 30);
        CHECK_EQ_LONG(o->multis, 1);
        CHECK_EQ_STR(o->server_label, "LOCAL");
        CHECK_EQ_STR(o->base_url, "http://localhost:8000/flags");
        CHECK_EQ_STR(o->output_dir, "downloaded");
        CHECK_EQ_LONG(o->timeout_ms, 3100);
        CHECK_EQ_LONG(o->repeat, 1);
        CHECK(!o->verbose && !o->quiet && !o->fresh_connect && o->json_path == NULL);
        CHECK(o->latencies_path == NULL);
        CHECK(!o->http2);
    }
    {
        const char *a[] = {"--http2", "-s", "https://h/flags", "BR", NULL};
        CHECK_EQ_LONG(parse(o, err, a), FLAGS_CLI_RUN);
        CHECK(o->http2);
        CHECK_EQ_STR(o->base_url, "https://h/flags");
    }
    EXPECT_USAGE("*** Usage error: option '--http2=1' doesn't allow an argument", "--http2=1");
    {
        const char *a[] = {
            "-v",          "-s",      "remote",    "-m",       "7",        "b",
            "-l",          "3",       "--timeout", "0.5",      "--repeat", "4",
            "--quiet",     "--json",  "r.json",    "--output", "out/x",    "--fresh-connect",
            "--latencies", "lat.txt", NULL};
        CHECK_EQ_LONG(parse(o, err, a), FLAGS_CLI_RUN);
        CHECK(o->verbose && o->quiet && o->fresh_connect);
        CHECK_EQ_STR(o->server_label, "REMOTE");
        CHECK_EQ_STR(o->base_url, "https://www.fluentpython.com/data/flags");
        CHECK_EQ_LONG(o->max_req, 7);
        CHECK_EQ_LONG(o->ncodes, 3);
        CHECK_EQ_STR(o->codes[2], "BC");
        CHECK_EQ_LONG(o->timeout_ms, 500);
        CHECK_EQ_LONG(o->repeat, 4);
        CHECK_EQ_STR(o->json_path, "r.json");
        CHECK_EQ_STR(o->latencies_path, "lat.txt");
        CHECK_EQ_STR(o->output_dir, "out/x");
    }
    {
        const char *a[] = {"--server", "HTTP://127.0.0.1:8080/x/flags//", "--max_req=2", NULL};
        CHECK_EQ_LONG(parse(o, err, a), FLAGS_CLI_RUN);
        CHECK_EQ_STR(o->server_label, "CUSTOM");
        CHECK_EQ_STR(o->base_url, "HTTP://127.0.0.1:8080/x/flags");
        CHECK_EQ_LONG(o->max_req, 2);
    }
    {
        const char *a[] = {"-h", NULL};
        CHECK_EQ_LONG(parse(o, err, a), FLAGS_CLI_HELP);
    }
    {
        const char *a[] = {"-a", "-e", NULL};
        CHECK_EQ_LONG(parse(o, err, a), FLAGS_CLI_RUN);
        CHECK_EQ_LONG(o->ncodes, 676);
    }

    /* The book's messages. */
    EXPECT_USAGE("*** Usage error: --max_req CONCURRENT must be >= 1", "-m", "0");
    EXPECT_USAGE("*** Usage error: --max_req CONCURRENT must be >= 1", "-m", "-3");
    EXPECT_USAGE("*** Usage error: --limit N must be >= 1", "-l", "0");
    EXPECT_USAGE("*** Usage error: --server LABEL must be one of DELAY, ERROR, LOCAL, REMOTE", "-s",
                 "nowhere");
    EXPECT_USAGE("*** Usage error: each CC argument must be A to Z or AA to ZZ.", "BRA");
    EXPECT_USAGE("*** Usage error: each CC argument must be A to Z or AA to ZZ.", "B", "1");
    /* -m is checked before -l, as in the book */
    EXPECT_USAGE("*** Usage error: --max_req CONCURRENT must be >= 1", "-l", "0", "-m", "0");
    /* Numbers. */
    EXPECT_USAGE("*** Usage error: --max_req CONCURRENT must be an integer, not 'abc'", "-m",
                 "abc");
    EXPECT_USAGE("*** Usage error: --max_req CONCURRENT must be an integer, not '10x'", "-m",
                 "10x");
    EXPECT_USAGE("*** Usage error: --max_req CONCURRENT must be an integer, not ''", "-m", "");
    EXPECT_USAGE("*** Usage error: --max_req CONCURRENT must be an integer, not ' 5'", "-m", " 5");
    EXPECT_USAGE("*** Usage error: --max_req CONCURRENT is out of range: "
                 "'99999999999999999999999'",
                 "-m", "99999999999999999999999");
    EXPECT_USAGE("*** Usage error: --limit N must be an integer, not '1.5'", "-l", "1.5");
    EXPECT_USAGE("*** Usage error: --repeat K must be >= 1", "--repeat", "0");
    EXPECT_USAGE("*** Usage error: --repeat K must be <= 10000000", "--repeat", "10000001");
    EXPECT_USAGE("*** Usage error: 676 codes x --repeat 100000 is more than 10000000 requests",
                 "-e", "--repeat", "100000");
    EXPECT_USAGE("*** Usage error: --timeout SECONDS must be a number > 0 and <= 86400, not '0'",
                 "--timeout", "0");
    EXPECT_USAGE("*** Usage error: --timeout SECONDS must be a number > 0 and <= 86400, not "
                 "'nan'",
                 "--timeout", "nan");
    EXPECT_USAGE("*** Usage error: --timeout SECONDS must be a number > 0 and <= 86400, not "
                 "'1e9'",
                 "--timeout", "1e9");
    /* Options. */
    EXPECT_USAGE("*** Usage error: unrecognized option '--bogus'", "--bogus");
    EXPECT_USAGE("*** Usage error: unrecognized option '-x'", "-x");
    EXPECT_USAGE("*** Usage error: option '-m' needs an argument", "-m");
    EXPECT_USAGE("*** Usage error: option '--json' needs an argument", "--json");
    EXPECT_USAGE("*** Usage error: option '--latencies' needs an argument", "--latencies");
    EXPECT_USAGE("*** Usage error: --latencies FILE must not be empty", "--latencies", "");
    EXPECT_USAGE("*** Usage error: --output DIR must not be empty", "--output", "");
    /* URLs. */
    EXPECT_USAGE("*** Usage error: --server URL must start with http:// or https://: "
                 "'localhost:8000/flags'",
                 "-s", "localhost:8000/flags");
    EXPECT_USAGE("*** Usage error: --server URL must start with http:// or https://: "
                 "'ftp://x/flags'",
                 "-s", "ftp://x/flags");
    EXPECT_USAGE("*** Usage error: --server URL must have a host and no blanks: 'http://'", "-s",
                 "http://");
    EXPECT_USAGE("*** Usage error: --server URL must have a host and no blanks: 'http:///flags'",
                 "-s", "http:///flags");
    EXPECT_USAGE("*** Usage error: --server URL must have a host and no blanks: "
                 "'http://a b/flags'",
                 "-s", "http://a b/flags");
    /* Issue 19, case 8: a base URL means one thing, or it is refused. */
    EXPECT_USAGE("*** Usage error: --server URL must not have a query or a fragment: "
                 "'http://127.0.0.1:8000/flags?x=1'",
                 "-s", "http://127.0.0.1:8000/flags?x=1");
    EXPECT_USAGE("*** Usage error: --server URL must not have a query or a fragment: "
                 "'http://h/flags#top'",
                 "-s", "http://h/flags#top");
    EXPECT_USAGE("*** Usage error: --server URL must not have a query or a fragment: "
                 "'http://h?x'",
                 "-s", "http://h?x");
    EXPECT_USAGE("*** Usage error: --server URL must have a port from 1 to 65535: "
                 "'https://bob:pw@h:x/flags'",
                 "-s", "https://bob:pw@h:x/flags");
    EXPECT_USAGE("*** Usage error: --server URL must have a port from 1 to 65535: "
                 "'http://h:0/flags'",
                 "-s", "http://h:0/flags");
    EXPECT_USAGE("*** Usage error: --server URL must have a port from 1 to 65535: "
                 "'http://h:65536/flags'",
                 "-s", "http://h:65536/flags");
    EXPECT_USAGE("*** Usage error: --server URL must have a port from 1 to 65535: "
                 "'http://h:/flags'",
                 "-s", "http://h:/flags");
    EXPECT_USAGE("*** Usage error: --server URL must have a port from 1 to 65535: "
                 "'http://h:80x'",
                 "-s", "http://h:80x");
    EXPECT_USAGE("*** Usage error: --server URL must have a port from 1 to 65535: "
                 "'http://[::1]x/flags'",
                 "-s", "http://[::1]x/flags");
    EXPECT_USAGE("*** Usage error: --server URL must have a host and no blanks: "
                 "'http://[::1/flags'",
                 "-s", "http://[::1/flags");
    {
        const char *ok[] = {"http://[::1]:8000/flags", "HTTPS://h:65535", "http://h:1/a/b/",
                            "http://u:p@h:80/flags", "http://u@[::1]/flags"};
        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
            const char *a[] = {"-s", ok[i], NULL};
            CHECK_EQ_LONG(parse(o, err, a), 0);
        }
    }

    CHECK_EQ_LONG(flags_check_url("https://h"), 0);
    CHECK_EQ_LONG(flags_check_url("http://u:p@h:1/x"), 0);
    CHECK_EQ_LONG(flags_check_url("http://:80/x"), -EINVAL);
    CHECK_EQ_LONG(flags_check_url("http://u@/x"), -EINVAL);
    CHECK_EQ_LONG(flags_check_url("http:/h/x"), -EINVAL);

    long v = 0;
    CHECK_EQ_LONG(flags_parse_long("42", 1, 100, &v), 0);
    CHECK_EQ_LONG(v, 42);
    CHECK_EQ_LONG(flags_parse_long("101", 1, 100, &v), -ERANGE);
    CHECK_EQ_LONG(flags_parse_long("4 2", 1, 100, &v), -EINVAL);
    CHECK_EQ_LONG(flags_parse_long("-", 0, 100, &v), -EINVAL);
    flags_opts_free(o);
}

/* --max-size: the default, suffixes, bounds, and the one-line usage error. */
static void test_max_size(void)
{
    static struct flags_opts opts;
    struct flags_opts *o = &opts;
    char err[256];
    long long v = 0;

    {
        const char *a[] = {NULL};
        CHECK_EQ_LONG(parse(o, err, a), FLAGS_CLI_RUN);
        CHECK_EQ_LONG(o->max_size, 1048576); /* FLAGS_MAX_SIZE_DEFAULT, docs/client.md */
    }
    {
        const char *a[] = {"--max-size", "64K", NULL};
        CHECK_EQ_LONG(parse(o, err, a), FLAGS_CLI_RUN);
        CHECK_EQ_LONG(o->max_size, 65536);
    }
    {
        const char *a[] = {"--max-size=1", NULL};
        CHECK_EQ_LONG(parse(o, err, a), FLAGS_CLI_RUN);
        CHECK_EQ_LONG(o->max_size, 1);
    }
    {
        const char *a[] = {"--max-size", "0", NULL};
        CHECK_EQ_LONG(parse(o, err, a), -EINVAL);
        CHECK_EQ_STR(err, "*** Usage error: --max-size BYTES must be 1 to 1099511627776, with an "
                          "optional K, M or G suffix, not '0'");
    }
    CHECK_EQ_LONG(flags_parse_size("17825792", &v), 0);
    CHECK_EQ_LONG(v, 17825792);
    CHECK_EQ_LONG(flags_parse_size("16m", &v), 0);
    CHECK_EQ_LONG(v, 16LL << 20);
    CHECK_EQ_LONG(flags_parse_size("1G", &v), 0);
    CHECK_EQ_LONG(v, 1LL << 30);
    CHECK_EQ_LONG(flags_parse_size("1024G", &v), 0); /* the maximum, 1 TiB */
    CHECK_EQ_LONG(v, 1LL << 40);
    CHECK_EQ_LONG(flags_parse_size("1025G", &v), -EINVAL);
    CHECK_EQ_LONG(flags_parse_size("1099511627777", &v), -EINVAL);
    CHECK_EQ_LONG(flags_parse_size("99999999999999999999999", &v), -EINVAL);
    CHECK_EQ_LONG(flags_parse_size("0K", &v), -EINVAL);
    CHECK_EQ_LONG(flags_parse_size("-1", &v), -EINVAL);
    CHECK_EQ_LONG(flags_parse_size(" 1", &v), -EINVAL);
    CHECK_EQ_LONG(flags_parse_size("1 ", &v), -EINVAL);
    CHECK_EQ_LONG(flags_parse_size("1KB", &v), -EINVAL);
    CHECK_EQ_LONG(flags_parse_size("1T", &v), -EINVAL);
    CHECK_EQ_LONG(flags_parse_size("K", &v), -EINVAL);
    CHECK_EQ_LONG(flags_parse_size("", &v), -EINVAL);
    flags_opts_free(o);
}

/* Writes a file of pad filler bytes, then text; returns 0 or -1. */
static int write_file(const char *path, size_t pad, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    for (size_t i = 0; i < pad; i++)
        fputc('x', f);
    fputs(text, f);
    return fclose(f) == 0 ? 0 : -1;
}

/* --cacert FILE: kept when it is a readable file holding a PEM certificate;
 * missing, empty, a directory, a device or no certificate in it is a one-line
 * usage error. (An unreadable file cannot be made as root; the open(2) that
 * catches it is the one that catches a missing file.) */
static void test_cacert(void)
{
    static struct flags_opts opts;
    struct flags_opts *o = &opts;
    char err[256], path[] = "/tmp/flagbench-cacert.XXXXXX";
    int fd = mkstemp(path);

    CHECK(fd >= 0);
    close(fd);
    {
        const char *a[] = {NULL};
        CHECK_EQ_LONG(parse(o, err, a), FLAGS_CLI_RUN);
        CHECK(o->cacert == NULL);
    }
    char want[256];
    const char *a[] = {"--cacert", path, "-s", "https://127.0.0.1:8443/flags", NULL};
    /* Empty, then only something else. */
    snprintf(want, sizeof(want), "*** Usage error: --cacert FILE holds no PEM certificate: '%s'",
             path);
    CHECK_EQ_LONG(parse(o, err, a), -EINVAL);
    CHECK_EQ_STR(err, want);
    CHECK_EQ_LONG(write_file(path, 10000, "-----BEGIN PRIVATE KEY-----\n"), 0);
    CHECK_EQ_LONG(parse(o, err, a), -EINVAL);
    CHECK_EQ_STR(err, want);
    /* A certificate: first, after other text, and across the 4 KiB reads. */
    for (size_t pad = 0; pad < 8300; pad += pad < 4070 ? 4070 - pad : 7) {
        CHECK_EQ_LONG(write_file(path, pad, "-----BEGIN CERTIFICATE-----\nMIIB\n"), 0);
        CHECK_EQ_LONG(parse(o, err, a), FLAGS_CLI_RUN);
        CHECK_EQ_STR(o->cacert, path);
    }
    EXPECT_USAGE("*** Usage error: --cacert FILE cannot be read: '/nonexistent/ca.pem': No such "
                 "file or directory",
                 "--cacert", "/nonexistent/ca.pem");
    EXPECT_USAGE("*** Usage error: --cacert FILE cannot be read: '/': Is a directory", "--cacert",
                 "/");
    EXPECT_USAGE("*** Usage error: --cacert FILE is not a regular file: '/dev/null'", "--cacert",
                 "/dev/null");
    EXPECT_USAGE("*** Usage error: --cacert FILE must not be empty", "--cacert", "");
    EXPECT_USAGE("*** Usage error: option '--cacert' needs an argument", "--cacert");
    unlink(path);
    flags_opts_free(o);
}

/* The TLS words: one per reason, whatever libcurl's own text. */
static void test_tls_reason(void)
{
    char msg[256];
    struct flags_tls_failure f = {.rc = CURLE_PEER_FAILED_VERIFICATION,
                                  .verify = 20,
                                  .errbuf = "SSL certificate problem: unable to get local issuer",
                                  .https = true,
                                  .tcp_up = true,
                                  .timeout_ms = 1000};

    CHECK(flags_tls_reason(&f, msg, sizeof(msg)));
    CHECK_EQ_STR(msg, "TLS handshake failed: certificate signed by an unknown CA");
    f.verify = 18; /* self-signed */
    CHECK(flags_tls_reason(&f, msg, sizeof(msg)));
    CHECK_EQ_STR(msg, "TLS handshake failed: certificate signed by an unknown CA");
    f.verify = 10;
    CHECK(flags_tls_reason(&f, msg, sizeof(msg)));
    CHECK_EQ_STR(msg, "TLS handshake failed: certificate expired");
    f.verify = 1; /* libcurl 7.88's value when it checked the name itself */
    f.errbuf = "SSL: no alternative certificate subject name matches target host name "
               "'127.0.0.1'";
    CHECK(flags_tls_reason(&f, msg, sizeof(msg)));
    CHECK_EQ_STR(msg, "TLS handshake failed: certificate does not match the host name");
    f.verify = 64; /* X509_V_ERR_IP_ADDRESS_MISMATCH */
    f.errbuf = "";
    CHECK(flags_tls_reason(&f, msg, sizeof(msg)));
    CHECK_EQ_STR(msg, "TLS handshake failed: certificate does not match the host name");
    f.verify = 1;
    f.errbuf = "SSL certificate problem: something else";
    CHECK(flags_tls_reason(&f, msg, sizeof(msg)));
    CHECK_EQ_STR(msg, "TLS handshake failed: certificate rejected (X509 error 1)");

    /* A stale verify result of an earlier handshake names nothing. */
    f.rc = CURLE_RECV_ERROR;
    f.verify = 20;
    f.tls_done = true;
    f.errbuf = "Recv failure: Connection reset by peer";
    CHECK(!flags_tls_reason(&f, msg, sizeof(msg)));
    f.tls_done = false;
    f.verify = 1;

    f.rc = CURLE_OPERATION_TIMEDOUT;
    f.errbuf = "Connection timed out after 1001 milliseconds";
    CHECK(flags_tls_reason(&f, msg, sizeof(msg)));
    CHECK_EQ_STR(msg, "TLS handshake timed out after 1000 milliseconds");
    f.tls_done = true; /* a body that stalls: libcurl's words */
    CHECK(!flags_tls_reason(&f, msg, sizeof(msg)));
    f.tls_done = false;
    f.https = false;
    CHECK(!flags_tls_reason(&f, msg, sizeof(msg)));
    f.https = true;
    f.tcp_up = false; /* a connect that stalls is no handshake */
    CHECK(!flags_tls_reason(&f, msg, sizeof(msg)));
    f.tcp_up = true;

    f.rc = CURLE_SSL_CONNECT_ERROR;
    f.os_errno = ECONNRESET;
    f.errbuf = "Recv failure: Connection reset by peer";
    CHECK(flags_tls_reason(&f, msg, sizeof(msg)));
    CHECK_EQ_STR(msg, "TLS handshake failed: connection reset by the server");
    f.os_errno = 0;
    f.errbuf = "OpenSSL/3.0.19: error:0A00010B:SSL routines::wrong version number";
    CHECK(flags_tls_reason(&f, msg, sizeof(msg)));
    CHECK_EQ_STR(msg, "TLS handshake failed: the server does not speak TLS");
    f.errbuf = "OpenSSL SSL_connect: SSL_ERROR_SYSCALL in connection to 127.0.0.1:8443";
    CHECK(flags_tls_reason(&f, msg, sizeof(msg)));
    CHECK_EQ_STR(msg, "TLS handshake failed: connection closed by the server");

    f.rc = CURLE_COULDNT_CONNECT; /* refused: before any TLS */
    f.tcp_up = false;
    f.errbuf = "Failed to connect";
    CHECK(!flags_tls_reason(&f, msg, sizeof(msg)));
}

static void test_url(void)
{
    const char cc[][3] = {"BR", "CN"};
    struct flags_job job = {.codes = cc, .ncodes = 2, .requests = 4, .base_url = "http://h:1/f"};
    char buf[64];

    CHECK_EQ_LONG(flags_url(buf, sizeof(buf), &job, 0), (long)strlen("http://h:1/f/br/br.gif"));
    CHECK_EQ_STR(buf, "http://h:1/f/br/br.gif");
    CHECK_EQ_LONG(flags_url(buf, sizeof(buf), &job, 3), (long)strlen("http://h:1/f/cn/cn.gif"));
    CHECK_EQ_STR(buf, "http://h:1/f/cn/cn.gif");
    CHECK_EQ_LONG(flags_url(buf, 10, &job, 0), -ENOSPC);
}

/* Runs fn into a memory stream and returns the text (caller frees). */
#define CAPTURE(text, call)                                                                        \
    do {                                                                                           \
        size_t len_;                                                                               \
        FILE *f_ = open_memstream(&(text), &len_);                                                 \
        CHECK(f_ != NULL);                                                                         \
        if (!f_)                                                                                   \
            break;                                                                                 \
        call;                                                                                      \
        fclose(f_);                                                                                \
    } while (0)

static void test_report(void)
{
    char *t = NULL;
    const char many[][3] = {"BD", "BR", "CN", "DE", "EG", "ET", "FR", "ID", "IN", "IR", "VN"};
    struct flags_counts c = {.ok = 20, .not_found = 3, .errors = 1};
    struct flags_result res = {.status = FLAGS_OK};

    CAPTURE(t, flags_report_header(f_, "LOCAL", "http://localhost:8000/flags", many, 11, 1, 20));
    CHECK_EQ_STR(t, "LOCAL site: http://localhost:8000/flags\n"
                    "Searching for 11 flags: from BD to VN\n"
                    "20 concurrent connections will be used.\n");
    free(t);
    t = NULL;
    CAPTURE(t, flags_report_header(f_, "DELAY", "http://x/flags", many, 10, 1, 1));
    CHECK_EQ_STR(t, "DELAY site: http://x/flags\n"
                    "Searching for 10 flags: BD, BR, CN, DE, EG, ET, FR, ID, IN, IR\n"
                    "1 connection will be used.\n");
    free(t);
    t = NULL;
    CAPTURE(t, flags_report_header(f_, "LOCAL", "http://x/flags", many, 1, 3, 3));
    CHECK_EQ_STR(t, "LOCAL site: http://x/flags\n"
                    "Searching for 1 flag: BD\n"
                    "Each 3 times over: 3 requests.\n"
                    "3 concurrent connections will be used.\n");
    free(t);
    t = NULL;

    CAPTURE(t, flags_report_summary(f_, &c, 0.0912));
    CHECK_EQ_STR(t, "--------------------\n"
                    " 20 flags downloaded.\n"
                    "  3 not found.\n"
                    "  1 error.\n"
                    "Elapsed time: 0.09s\n");
    free(t);
    t = NULL;
    c = (struct flags_counts){.ok = 1, .errors = 2, .cancelled = 5};
    CAPTURE(t, flags_report_summary(f_, &c, 12.345));
    CHECK_EQ_STR(t, "--------------------\n"
                    "  1 flag downloaded.\n"
                    "  2 errors.\n"
                    "  5 cancelled.\n"
                    "Elapsed time: 12.35s\n");
    free(t);
    t = NULL;
    c = (struct flags_counts){.ok = 0, .not_found = 676};
    CAPTURE(t, flags_report_summary(f_, &c, 1));
    CHECK_EQ_STR(t, "--------------------\n"
                    "  0 flags downloaded.\n"
                    "676 not found.\n"
                    "Elapsed time: 1.00s\n");
    free(t);
    t = NULL;

    CAPTURE(t, flags_report_result(f_, "BR", &res, "http://x/flags/br/br.gif"));
    CHECK_EQ_STR(t, "BR OK\n");
    free(t);
    t = NULL;
    res.status = FLAGS_NOT_FOUND;
    CAPTURE(t, flags_report_result(f_, "XX", &res, "http://x/flags/xx/xx.gif"));
    CHECK_EQ_STR(t, "XX not found: http://x/flags/xx/xx.gif\n");
    free(t);
    t = NULL;
    res.status = FLAGS_ERROR;
    snprintf(res.msg, sizeof(res.msg), "HTTP error 500 - Internal Server Error");
    CAPTURE(t, flags_report_result(f_, "XX", &res, "u"));
    CHECK_EQ_STR(t, "XX error: HTTP error 500 - Internal Server Error\n");
    free(t);
}

static void test_stats(void)
{
    double one[] = {7};
    double ten[] = {10, 9, 8, 7, 6, 5, 4, 3, 2, 1};
    double hundred[100], big[1000];
    struct flags_latency l;

    l = flags_latency_summary(one, 0);
    CHECK(l.p50 == 0 && l.max == 0);
    l = flags_latency_summary(one, 1);
    CHECK(l.p50 == 7 && l.p90 == 7 && l.p99 == 7 && l.max == 7);
    /* nearest rank on 1..10: p50 = 5th, p90 = 9th, p99 = 10th */
    l = flags_latency_summary(ten, 10);
    CHECK(ten[0] == 1 && ten[9] == 10); /* sorted in place */
    CHECK(l.p50 == 5 && l.p90 == 9 && l.p99 == 10 && l.max == 10);
    for (int i = 0; i < 100; i++)
        hundred[i] = 100 - i;
    l = flags_latency_summary(hundred, 100);
    CHECK(l.p50 == 50 && l.p90 == 90 && l.p99 == 99 && l.max == 100);
    for (int i = 0; i < 1000; i++)
        big[i] = i + 1;
    CHECK(flags_percentile(big, 1000, 99) == 990);
    CHECK(flags_percentile(big, 1000, 0) == 1);
    CHECK(flags_percentile(big, 1000, 100) == 1000);
    CHECK(flags_percentile(big, 3, 50) == 2);
    CHECK(flags_percentile(big, 2, 50) == 1);
}

static void test_json(void)
{
    char *t = NULL;
    struct flags_record r = {
        .backend = "threadpool",
        .concur_req = 7,
        .requests = 50,
        .ok = 40,
        .not_found = 9,
        .errors = 1,
        .elapsed_s = 0.5,
        .bytes = 1234,
        .flags_per_s = 80,
        .latency_ms = {1, 2, 3, 4},
        .max_rss_kb = 99,
        .connections = 7,
        .server = "CUSTOM",
        .url = "http://h/\"q\"\\\n\x01",
        .libcurl = "7.88.1",
        .loops = 2,
        .save_threads = 3,
        .multis = 4,
        .fd_cost = 3,
    };

    CAPTURE(t, flags_json_string(f_, "a\"b\\c\td\x1f\xc3\xa9"));
    CHECK_EQ_STR(t, "\"a\\\"b\\\\c\\td\\u001f\xc3\xa9\"");
    free(t);
    t = NULL;
    CAPTURE(t, CHECK_EQ_LONG(flags_record_write(f_, &r), 0));
    CHECK_EQ_STR(t, "{\"backend\":\"threadpool\",\"concur_req\":7,\"requests\":50,\"ok\":40,"
                    "\"not_found\":9,\"errors\":1,\"cancelled\":0,\"elapsed_s\":0.500000,"
                    "\"bytes\":1234,\"flags_per_s\":80.000,\"latency_ms\":{\"p50\":1.000,"
                    "\"p90\":2.000,\"p99\":3.000,\"max\":4.000},\"cpu_user_s\":0.000000,"
                    "\"cpu_sys_s\":0.000000,\"max_rss_kb\":99,\"connections\":7,"
                    "\"server\":\"CUSTOM\",\"url\":\"http://h/\\\"q\\\"\\\\\\n\\u0001\","
                    "\"libcurl\":\"7.88.1\",\"timeout_s\":0.000,\"fresh_connect\":false,"
                    "\"loops\":2,\"save_threads\":3,\"multis\":4,\"fds_per_transfer\":3,"
                    "\"proxy_env\":null,\"http2\":false,\"protocol\":null,\"streams\":0,"
                    "\"uring_setup\":null}\n");
    free(t);
    t = NULL;
    r.proxy_env = "http_proxy=http://***@p:3128";
    r.http2 = true;
    r.protocol = "h2";
    r.streams = 100;
    r.uring_setup = "coop_taskrun";
    CAPTURE(t, CHECK_EQ_LONG(flags_record_write(f_, &r), 0));
    CHECK(t && strstr(t, ",\"proxy_env\":\"http_proxy=http://***@p:3128\","
                         "\"http2\":true,\"protocol\":\"h2\",\"streams\":100,"
                         "\"uring_setup\":\"coop_taskrun\"}\n"));
    free(t);
    CHECK_EQ_LONG(flags_record_usage(&r), 0);
    CHECK(r.max_rss_kb > 0);
}

/* True if s is valid UTF-8, by iconv (which refuses overlong forms and
 * surrogates). */
static bool valid_utf8(const char *s)
{
    iconv_t cd = iconv_open("UTF-32LE", "UTF-8");
    char out[64];
    char *in = (char *)s, *o = out;
    size_t inleft = s ? strlen(s) : 0, outleft = sizeof(out);
    bool ok =
        cd != (iconv_t)-1 && iconv(cd, &in, &inleft, &o, &outleft) != (size_t)-1 && inleft == 0;
    if (cd != (iconv_t)-1)
        iconv_close(cd);
    return ok;
}

/* Every record is valid UTF-8 JSON whatever bytes it quotes: well-formed
 * UTF-8 (2, 3 and 4 bytes) passes, each byte of anything else -- a stray
 * continuation, a truncated sequence, an overlong form, a surrogate, a code
 * point above U+10FFFF, 0xfe/0xff -- becomes U+FFFD, control bytes \\u00XX. */
static void test_json_utf8(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\""},
        {"a\x80z", "\"a\\ufffdz\""},
        {"\xff\xfe", "\"\\ufffd\\ufffd\""},
        {"\xc3", "\"\\ufffd\""},                                  /* truncated at the end */
        {"\xe2\x82z", "\"\\ufffd\\ufffdz\""},                     /* truncated in the middle */
        {"\xc0\xaf", "\"\\ufffd\\ufffd\""},                       /* overlong '/' */
        {"\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\""},            /* overlong, 3 bytes */
        {"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""},            /* surrogate U+D800 */
        {"\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""}, /* above U+10FFFF */
        {"\x01\x7f\x1b[2J", "\"\\u0001\\u007f\\u001b[2J\""},
        {"", "\"\""},
    };
    char *t = NULL;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CAPTURE(t, flags_json_string(f_, cases[i].in));
        CHECK_EQ_STR(t, cases[i].out);
        free(t);
        t = NULL;
    }
    /* Every one of the 65,280 two-byte strings gives output that glibc's
     * iconv, an independent decoder, accepts as UTF-8. */
    size_t bad = 0;
    for (unsigned a = 1; a < 256; a++) {
        for (unsigned b = 0; b < 256; b++) {
            char in[3] = {(char)a, (char)b, '\0'};
            CAPTURE(t, flags_json_string(f_, in));
            bad += !valid_utf8(t);
            free(t);
            t = NULL;
        }
    }
    CHECK_EQ_LONG(bad, 0);
}

/* Credentials never reach the output. */
static void test_redact(void)
{
    char buf[256];

    CHECK(flags_redact_url(buf, sizeof(buf), "http://u:pw@h:1/flags") > 0);
    CHECK_EQ_STR(buf, "http://***@h:1/flags");
    CHECK(flags_redact_url(buf, sizeof(buf), "https://u:p@w@h/x?a@b") > 0);
    CHECK_EQ_STR(buf, "https://***@h/x?a@b");
    CHECK(flags_redact_url(buf, sizeof(buf), "u:pw@proxy:3128") > 0);
    CHECK_EQ_STR(buf, "***@proxy:3128");
    CHECK(flags_redact_url(buf, sizeof(buf), "http://h/a@b") > 0);
    CHECK_EQ_STR(buf, "http://h/a@b");
    CHECK(flags_redact_url(buf, sizeof(buf), "http://h/\x1b[2J") > 0);
    CHECK_EQ_STR(buf, "http://h/?[2J");
    CHECK_EQ_LONG(flags_redact_url(buf, 8, "http://host/flags"), -ENOSPC);

    CHECK_EQ_LONG(setenv("http_proxy", "http://bob:secret@p:3128", 1), 0);
    CHECK_EQ_LONG(setenv("NO_PROXY", "localhost", 1), 0);
    CHECK_EQ_LONG(setenv("HTTP_PROXY", "http://ignored-by-libcurl:1", 1), 0);
    CHECK(flags_proxy_env(buf, sizeof(buf)) > 0);
    CHECK_EQ_STR(buf, "http_proxy=http://***@p:3128 NO_PROXY=localhost");
    unsetenv("http_proxy");
    unsetenv("NO_PROXY");
    unsetenv("HTTP_PROXY");
    unsetenv("https_proxy");
    unsetenv("HTTPS_PROXY");
    unsetenv("all_proxy");
    unsetenv("ALL_PROXY");
    unsetenv("no_proxy");
    CHECK_EQ_LONG(flags_proxy_env(buf, sizeof(buf)), 0);
    CHECK_EQ_STR(buf, "");
}

static void test_fdlimit(void)
{
    rlim_t s = 0;

    CHECK_EQ_LONG(flags_fdlimit_plan(1024, 4096, 100, &s), 0);
    CHECK_EQ_LONG(s, 1024);
    CHECK_EQ_LONG(flags_fdlimit_plan(1024, 4096, 2000, &s), 0);
    CHECK_EQ_LONG(s, 2000);
    CHECK_EQ_LONG(flags_fdlimit_plan(1024, 4096, 4096, &s), 0);
    CHECK_EQ_LONG(s, 4096);
    CHECK_EQ_LONG(flags_fdlimit_plan(1024, 4096, 4097, &s), -EMFILE);
    CHECK_EQ_LONG(flags_fdlimit_plan(1024, RLIM_INFINITY, 100000, &s), 0);
    CHECK_EQ_LONG(s, 100000);
    CHECK_EQ_LONG(flags_fdlimit_plan(RLIM_INFINITY, RLIM_INFINITY, 100000, &s), 0);
    CHECK(s == RLIM_INFINITY);

    /* The wakeup of the libcurl loaded: 7.88's socketpair or 8.x's eventfd,
     * and nothing left open afterwards. */
    CHECK_EQ_LONG(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
    int before = flags_fd_count();
    int wake = flags_fdlimit_multi_fds();
    CHECK(before > 0);
    CHECK(wake == 1 || wake == 2);
    CHECK_EQ_LONG(flags_fd_count(), before);
    curl_global_cleanup();
}

/* libcurl's receive buffer: the default up to 2,560 in flight, then 40 MiB
 * between them, never under 4 KiB. */
/* The most spans open at once on one port: ends are exclusive, ports apart,
 * input order irrelevant. */
static void test_streams_peak(void)
{
    struct flags_stream_span s[] = {
        {0.0, 1.0, 5000}, {0.5, 2.0, 5000}, {0.9, 1.5, 5000}, /* 3 at 0.9..1.0 */
        {1.0, 3.0, 5000},                                     /* starts as the first ends */
        {0.0, 9.0, 6000}, {0.1, 9.0, 6000},                   /* another connection: 2 */
        {2.0, 2.5, 5000},                                     /* 1.0-3.0 and 0.5-2.0 end... */
    };
    CHECK_EQ_LONG(flags_streams_peak(s, 0), 0);
    CHECK_EQ_LONG(flags_streams_peak(s, 1), 1);
    CHECK_EQ_LONG(flags_streams_peak(s, sizeof(s) / sizeof(s[0])), 3);

    struct flags_stream_span serial[] = {{2, 3, 7}, {0, 1, 7}, {1, 2, 7}, {3, 4, 7}};
    CHECK_EQ_LONG(flags_streams_peak(serial, 4), 1); /* one after another: 1 */

    struct flags_stream_span ports[] = {{0, 5, 1}, {0, 5, 2}, {0, 5, 3}, {0, 5, 4}};
    CHECK_EQ_LONG(flags_streams_peak(ports, 4), 1); /* a connection each */

    enum { MANY = 250 };
    struct flags_stream_span many[MANY];
    for (int i = 0; i < MANY; i++)
        many[i] = (struct flags_stream_span){.sent_s = i * 0.001, .end_s = 10.0, .port = 1 + i % 3};
    CHECK_EQ_LONG(flags_streams_peak(many, MANY), 84); /* 250 over 3 ports: 84, 83, 83 */
}

/* libcurl's HTTP/2 words without the stream's number and the error's. */
static void test_h2_words(void)
{
    char m[128];

    flags_h2_words("HTTP/2 stream 7 was not closed cleanly: INTERNAL_ERROR (err 2)", m, sizeof(m));
    CHECK_EQ_STR(m, "HTTP/2 stream was not closed cleanly: INTERNAL_ERROR");
    flags_h2_words("HTTP/2 stream 12345 was not closed cleanly before end of the underlying stream",
                   m, sizeof(m));
    CHECK_EQ_STR(m, "HTTP/2 stream was not closed cleanly before end of the underlying stream");
    flags_h2_words("Recv failure: Connection reset by peer", m, sizeof(m));
    CHECK_EQ_STR(m, "Recv failure: Connection reset by peer");
    /* Only a number after "stream ", followed by a blank or the end. */
    flags_h2_words("upstream 5xx; stream 3x; stream 9", m, sizeof(m));
    CHECK_EQ_STR(m, "upstream 5xx; stream 3x; stream");
    flags_h2_words("a (err 2) in the middle (err x)", m, sizeof(m));
    CHECK_EQ_STR(m, "a (err 2) in the middle (err x)");
    flags_h2_words("HTTP/2 stream 7 was not closed", m, 10); /* truncated, terminated */
    CHECK_EQ_STR(m, "HTTP/2 st");
    flags_h2_words("stream 1", m, 4);
    CHECK_EQ_STR(m, "str");
}

/* --http2 is refused without HTTP/2 in libcurl, and h2c before 8.0. */
static void test_http2_refusal(void)
{
    curl_version_info_data v = {0};
    char m[256] = "";

    v.version = "7.88.1";
    v.version_num = 0x075801;
    v.features = CURL_VERSION_HTTP2;
    CHECK(!flags_http2_refusal("https://127.0.0.1:8443/flags", &v, m, sizeof(m)));
    CHECK(flags_http2_refusal("http://127.0.0.1:8000/flags", &v, m, sizeof(m)));
    CHECK_EQ_STR(m, "*** Usage error: --http2 with an http:// URL (h2c) needs libcurl 8.0 or "
                    "later: libcurl 7.88.1 breaks every h2c stream after the first (curl issue "
                    "#10634)");
    CHECK(flags_http2_refusal("HTTP://h/flags", &v, m, sizeof(m)));
    v.version = "8.0.0";
    v.version_num = 0x080000;
    CHECK(!flags_http2_refusal("http://127.0.0.1:8000/flags", &v, m, sizeof(m)));
    v.features = 0;
    CHECK(flags_http2_refusal("https://h/flags", &v, m, sizeof(m)));
    CHECK_EQ_STR(m, "*** Usage error: --http2 needs a libcurl with HTTP/2; libcurl 8.0.0 was "
                    "built without it");
}

static void test_recv_buf(void)
{
    CHECK_EQ_LONG(flags_recv_buf_size(0), 16384);
    CHECK_EQ_LONG(flags_recv_buf_size(1), 16384);
    CHECK_EQ_LONG(flags_recv_buf_size(2560), 16384);
    CHECK_EQ_LONG(flags_recv_buf_size(4000), 10485);
    CHECK_EQ_LONG(flags_recv_buf_size(10000), 4194);
    CHECK_EQ_LONG(flags_recv_buf_size(100000), 4096);
}

int main(void)
{
    test_codes();
    test_cli();
    test_max_size();
    test_cacert();
    test_tls_reason();
    test_url();
    test_report();
    test_stats();
    test_json();
    test_json_utf8();
    test_redact();
    test_fdlimit();
    test_recv_buf();
    test_streams_peak();
    test_h2_words();
    test_http2_refusal();
    return CHECK_DONE();
}
