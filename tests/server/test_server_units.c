/* test_server_units.c -- unit tests for flagserver's pure modules: path
 * validation (every traversal form), the pointer map, the stats counters and
 * JSON, and the store's refusal of symlinks leading out of its directory. */
#define _XOPEN_SOURCE 700 /* mkdtemp, symlink */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "path.h"
#include "ptrmap.h"
#include "stats.h"
#include "store.h"

static int parse(const char *raw, char *cc)
{
    return path_parse_flag(raw, strlen(raw), cc);
}

static void test_path_accepts(void)
{
    char cc[PATH_CC_LEN + 1] = "";

    CHECK_EQ_LONG(parse("/flags/br/br.gif", cc), 0);
    CHECK_EQ_STR(cc, "br");
    CHECK_EQ_LONG(parse("/flags/zz/zz.gif", cc), 0);
    CHECK_EQ_STR(cc, "zz");
    /* Percent-encoded letters are the same path. */
    CHECK_EQ_LONG(parse("/flags/%62r/br%2Egif", cc), 0);
    CHECK_EQ_STR(cc, "br");
}

static void test_path_not_found(void)
{
    static const char *const cases[] = {
        "/",
        "/flags",
        "/flags/",
        "/flags/br/",
        "/flags/br/cn.gif",
        "/flags/BR/BR.gif",
        "/flags/bra/bra.gif",
        "/flags/b/b.gif",
        "/flags/br/br.gif/",
        "/flags/br/br.gifx",
        "/flags/br/br.png",
        "/etc/passwd",
        "/flags/%252e%252e/br.gif",
        "/stats/x",
    };
    char cc[PATH_CC_LEN + 1] = "??";

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = parse(cases[i], cc);
        if (rc != -ENOENT)
            fprintf(stderr, "case %zu: %s\n", i, cases[i]);
        CHECK_EQ_LONG(rc, -ENOENT);
    }
    CHECK_EQ_STR(cc, "??"); /* untouched on failure */
}

static void test_path_refused(void)
{
    static const char *const cases[] = {
        "",
        "flags/br/br.gif",
        "../flags/br/br.gif",
        "/flags/../flags/br/br.gif",
        "/flags/br/../br/br.gif",
        "/flags/./br/br.gif",
        "/..",
        "/.",
        "/flags/..",
        "/flags/%2e%2e/br/br.gif",
        "/flags/%2E%2E/br/br.gif",
        "/flags/.%2e/br/br.gif",
        "/flags/%2e./br/br.gif",
        "/flags/br%2fbr.gif",
        "/flags/br%2Fbr.gif",
        "/flags/br/..%2fbr.gif",
        "%2fetc%2fpasswd",
        "//etc/passwd",
        "/flags//br/br.gif",
        "/flags/br//br.gif",
        "/flags\\br\\br.gif",
        "/flags/br/br.gif%5c",
        "/flags/br/br.gif%00",
        "/flags/br/br%",
        "/flags/br/br%2",
        "/flags/br/br%zz",
        "/flags/br/br.gif%0a",
        "/flags/\x7f/br.gif",
    };
    char cc[PATH_CC_LEN + 1];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = parse(cases[i], cc);
        if (rc != -EINVAL)
            fprintf(stderr, "case %zu: %s\n", i, cases[i]);
        CHECK_EQ_LONG(rc, -EINVAL);
    }
    /* A raw NUL inside the length, and a path too long to consider. */
    CHECK_EQ_LONG(path_parse_flag("/flags/br\0/br.gif", 17, cc), -EINVAL);
    {
        char longp[PATH_MAX_LEN + 2];
        memset(longp, 'a', sizeof(longp));
        longp[0] = '/';
        CHECK_EQ_LONG(path_parse_flag(longp, sizeof(longp), cc), -EINVAL);
    }
    CHECK_EQ_LONG(path_parse_flag(NULL, 0, cc), -EINVAL);
}

static void test_cc_valid(void)
{
    CHECK(path_cc_valid("br"));
    CHECK(!path_cc_valid("b"));
    CHECK(!path_cc_valid("bra"));
    CHECK(!path_cc_valid("BR"));
    CHECK(!path_cc_valid(".."));
    CHECK(!path_cc_valid(""));
}

static void test_ptrmap(void)
{
    enum { N = 5000 };
    static char objs[N];
    struct ptrmap m;
    uint64_t x = 12345;
    size_t live = 0;
    static int present[N];

    CHECK_EQ_LONG(ptrmap_init(&m), 0);
    CHECK(ptrmap_get(&m, &objs[0]) == NULL);
    CHECK_EQ_LONG(ptrmap_put(&m, NULL, objs), -EINVAL);
    CHECK_EQ_LONG(ptrmap_put(&m, &objs[1], &objs[2]), 0);
    CHECK_EQ_LONG(ptrmap_put(&m, &objs[1], &objs[3]), -EEXIST);
    CHECK(ptrmap_get(&m, &objs[1]) == &objs[2]);
    CHECK(ptrmap_del(&m, &objs[1]) == &objs[2]);
    CHECK(ptrmap_del(&m, &objs[1]) == NULL);

    /* Random puts and deletes against a reference array. */
    int bad = 0;
    for (int step = 0; step < 200000; step++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t k = (size_t)(x % N);
        if (present[k]) {
            bad += ptrmap_del(&m, &objs[k]) != &objs[(k + 1) % N];
            present[k] = 0;
            live--;
        } else {
            bad += ptrmap_put(&m, &objs[k], &objs[(k + 1) % N]) != 0;
            present[k] = 1;
            live++;
        }
    }
    for (size_t k = 0; k < N; k++)
        bad += ptrmap_get(&m, &objs[k]) != (present[k] ? &objs[(k + 1) % N] : NULL);
    CHECK_EQ_LONG(bad, 0);
    CHECK_EQ_LONG(m.len, live);
    ptrmap_free(&m);
}

static void test_stats(void)
{
    struct stats s;
    char buf[2048];
    int n;

    stats_init(&s);
    stats_conn_open(&s, STATS_PROTO_HTTP1);
    stats_request_begin(&s, STATS_PROTO_HTTP1);
    stats_request_begin(&s, STATS_PROTO_H2C);
    stats_stream_open(&s, 1);
    stats_stream_open(&s, 7);
    stats_stream_open(&s, 3);
    stats_h2_defence(&s, STATS_H2_RAPID_RESET);
    stats_h2_defence(&s, STATS_H2_STREAM_TIMEOUT);
    stats_h2_defence(&s, STATS_H2_STREAM_TIMEOUT);
    stats_request_status(&s, 200);
    stats_request_status(&s, 404);
    stats_request_status(&s, 99);  /* ignored */
    stats_request_status(&s, 600); /* ignored */
    stats_error_injected(&s);
    stats_accept_error(&s);
    stats_accept_error(&s);
    stats_tls_handshake(&s, false);
    stats_tls_handshake(&s, true);
    stats_tls_handshake(&s, false);
    stats_tls_failed(&s);
    stats_request_end(&s);
    n = stats_json(&s, NULL, buf, sizeof(buf));
    CHECK(n > 0);
    CHECK_EQ_STR(buf, "{\"requests\":2,\"in_flight\":1,\"peak_in_flight\":2,\"connections\":1,"
                      "\"peak_connections\":1,\"by_status\":{\"200\":1,\"404\":1},"
                      "\"errors_injected\":1,\"accept_errors\":2,\"tls_handshakes\":3,"
                      "\"tls_resumed\":1,\"tls_failed\":1,"
                      "\"requests_by_protocol\":{\"http/1.1\":1,\"h2\":0,\"h2c\":1},"
                      "\"connections_by_protocol\":{\"http/1.1\":1,\"h2\":0,\"h2c\":0},"
                      "\"streams\":3,\"peak_streams_per_connection\":7,"
                      "\"h2_defences\":{\"rapid_reset\":1,\"flood\":0,\"header_limit\":0,"
                      "\"stream_timeout\":2,\"idle_timeout\":0,\"protocol_error\":0}}");
    CHECK_EQ_LONG(n, (long)strlen(buf));
    stats_reset(&s);
    stats_json(&s, NULL, buf, sizeof(buf));
    CHECK_EQ_STR(buf, "{\"requests\":0,\"in_flight\":1,\"peak_in_flight\":1,\"connections\":1,"
                      "\"peak_connections\":1,\"by_status\":{},\"errors_injected\":0,"
                      "\"accept_errors\":0,\"tls_handshakes\":0,\"tls_resumed\":0,\"tls_failed\":0,"
                      "\"requests_by_protocol\":{\"http/1.1\":0,\"h2\":0,\"h2c\":0},"
                      "\"connections_by_protocol\":{\"http/1.1\":0,\"h2\":0,\"h2c\":0},"
                      "\"streams\":0,\"peak_streams_per_connection\":0,"
                      "\"h2_defences\":{\"rapid_reset\":0,\"flood\":0,\"header_limit\":0,"
                      "\"stream_timeout\":0,\"idle_timeout\":0,\"protocol_error\":0}}");
    stats_request_end(&s);
    stats_request_end(&s); /* never below zero */
    CHECK_EQ_LONG(s.in_flight, 0);
    CHECK_EQ_LONG(stats_json(&s, NULL, buf, 10), -ENOSPC);
    CHECK_EQ_LONG(stats_json(&s, NULL, buf, 0), -ENOSPC);
}

static void test_stats_settings(void)
{
    struct stats s;
    struct stats_settings set = {.bind = "127.0.0.1",
                                 .port = 8001,
                                 .delay_min_ms = 100,
                                 .delay_max_ms = 100,
                                 .error_rate = 0.25,
                                 .error_kind = "status",
                                 .seed = 42,
                                 .preset = "DELAY"};
    char buf[2048];
    int n;

    stats_init(&s);
    n = stats_json(&s, &set, buf, sizeof(buf));
    CHECK_EQ_STR(buf, "{\"requests\":0,\"in_flight\":0,\"peak_in_flight\":0,\"connections\":0,"
                      "\"peak_connections\":0,\"by_status\":{},\"errors_injected\":0,"
                      "\"accept_errors\":0,\"tls_handshakes\":0,\"tls_resumed\":0,\"tls_failed\":0,"
                      "\"requests_by_protocol\":{\"http/1.1\":0,\"h2\":0,\"h2c\":0},"
                      "\"connections_by_protocol\":{\"http/1.1\":0,\"h2\":0,\"h2c\":0},"
                      "\"streams\":0,\"peak_streams_per_connection\":0,"
                      "\"h2_defences\":{\"rapid_reset\":0,\"flood\":0,\"header_limit\":0,"
                      "\"stream_timeout\":0,\"idle_timeout\":0,\"protocol_error\":0},"
                      "\"settings\":{\"bind\":\"127.0.0.1\",\"port\":8001,"
                      "\"delay_ms\":{\"min\":100,\"max\":100},\"error_rate\":0.25,"
                      "\"error_kind\":\"status\",\"seed\":42,\"preset\":\"DELAY\","
                      "\"tls\":false,\"tls_resume\":false,\"http2\":false,"
                      "\"h2_max_streams\":0,\"h2_timeout_s\":0}}");
    CHECK_EQ_LONG(n, (long)strlen(buf));

    /* No preset -> null; the shortest exact rate; the largest seed; a
     * string that needs escaping stays valid JSON. */
    set = (struct stats_settings){.bind = "::1\"\\\n",
                                  .port = 0,
                                  .delay_min_ms = 50,
                                  .delay_max_ms = 150,
                                  .error_rate = 0.1,
                                  .error_kind = "stall",
                                  .seed = UINT64_MAX,
                                  .preset = NULL,
                                  .tls = true,
                                  .tls_resume = true,
                                  .http2 = true,
                                  .h2_max_streams = 100,
                                  .h2_timeout_s = 30};
    stats_json(&s, &set, buf, sizeof(buf));
    CHECK(strstr(buf, ",\"settings\":{\"bind\":\"::1\\\"\\\\\\u000a\",\"port\":0,"
                      "\"delay_ms\":{\"min\":50,\"max\":150},\"error_rate\":0.1,"
                      "\"error_kind\":\"stall\",\"seed\":18446744073709551615,"
                      "\"preset\":null,\"tls\":true,\"tls_resume\":true,\"http2\":true,"
                      "\"h2_max_streams\":100,\"h2_timeout_s\":30}}") != NULL);
    set.error_rate = 0.0;
    stats_json(&s, &set, buf, sizeof(buf));
    CHECK(strstr(buf, "\"error_rate\":0,") != NULL);
    set.error_rate = 1.0;
    stats_json(&s, &set, buf, sizeof(buf));
    CHECK(strstr(buf, "\"error_rate\":1,") != NULL);
    set.error_rate = 1.0 / 3.0;
    stats_json(&s, &set, buf, sizeof(buf));
    CHECK(strstr(buf, "\"error_rate\":0.3333333333333333,") != NULL);
    /* Every prefix length that cannot hold it all is refused. */
    n = stats_json(&s, &set, buf, sizeof(buf));
    for (size_t size = 0; size <= (size_t)n; size++)
        CHECK_EQ_LONG(stats_json(&s, &set, buf, size), -ENOSPC);
    CHECK_EQ_LONG(stats_json(&s, &set, buf, (size_t)n + 1), n);
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static void test_store(void)
{
    char tmpl[] = "/tmp/flagserver-store.XXXXXX", outside[] = "/tmp/flagserver-out.XXXXXX";
    char p[512], q[512];
    struct store st;
    const struct store_entry *e;

    CHECK(mkdtemp(tmpl) != NULL);
    CHECK(mkdtemp(outside) != NULL);
    CHECK_EQ_LONG(store_load(&st, tmpl, NULL), -ENOENT); /* no flags/ */
    snprintf(p, sizeof(p), "%s/flags", tmpl);
    CHECK_EQ_LONG(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/flags/br", tmpl);
    CHECK_EQ_LONG(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/flags/br/br.gif", tmpl);
    CHECK_EQ_LONG(write_file(p, "GIF89a-br"), 0);
    /* A symlink inside the tree is fine; one leading out is refused. */
    snprintf(p, sizeof(p), "%s/flags/cn", tmpl);
    CHECK_EQ_LONG(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/flags/cn/cn.gif", tmpl);
    CHECK_EQ_LONG(symlink("../br/br.gif", p), 0);
    snprintf(q, sizeof(q), "%s/secret", outside);
    CHECK_EQ_LONG(write_file(q, "secret"), 0);
    snprintf(p, sizeof(p), "%s/flags/xx", tmpl);
    CHECK_EQ_LONG(mkdir(p, 0700), 0);
    snprintf(p, sizeof(p), "%s/flags/xx/xx.gif", tmpl);
    CHECK_EQ_LONG(symlink(q, p), 0);
    snprintf(p, sizeof(p), "%s/flags/yy", tmpl);
    CHECK_EQ_LONG(symlink(outside, p), 0); /* a whole directory out */
    snprintf(p, sizeof(p), "%s/yy.gif", outside);
    CHECK_EQ_LONG(write_file(p, "secret"), 0);

    CHECK_EQ_LONG(store_load(&st, tmpl, NULL), 0);
    CHECK_EQ_LONG(st.count, 2);
    e = store_get(&st, "br");
    CHECK(e != NULL && e->len == 9 && memcmp(e->data, "GIF89a-br", 9) == 0);
    CHECK(store_get(&st, "cn") != NULL);
    CHECK(store_get(&st, "xx") == NULL);
    CHECK(store_get(&st, "yy") == NULL);
    CHECK(store_get(&st, "zz") == NULL);
    CHECK(store_get(&st, "..") == NULL);
    store_free(&st);
    CHECK_EQ_LONG(store_load(&st, "/nonexistent/flagserver", NULL), -ENOENT);

    snprintf(p, sizeof(p), "rm -rf '%s' '%s'", tmpl, outside);
    CHECK_EQ_LONG(system(p), 0);
}

int main(void)
{
    test_path_accepts();
    test_path_not_found();
    test_path_refused();
    test_cc_valid();
    test_ptrmap();
    test_stats();
    test_stats_settings();
    test_store();
    return CHECK_DONE();
}
