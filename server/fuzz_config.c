/* fuzz_config.c -- libFuzzer target for fsrv_config_parse().
 *
 * The input is split at NUL bytes into an argv (at most 64 arguments). The
 * parser must return one of its documented results; a usage error must come
 * with one non-empty line; an accepted configuration must hold only valid
 * values (port in range, MIN <= MAX <= the cap, a probability, a known error
 * kind and preset, a numeric bind address, both TLS files or neither). Any
 * violation aborts, which libFuzzer reports with the input.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "config.h"

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int valid(const struct fsrv_config *c)
{
    unsigned char addr[sizeof(struct in6_addr)];

    if (c->bind == NULL || c->dir == NULL || c->port > 65535 || c->delay_min_ms > c->delay_max_ms ||
        c->delay_max_ms > FSRV_MAX_DELAY_MS || !(c->error_rate >= 0.0 && c->error_rate <= 1.0))
        return 0;
    if (c->error_kind != FSRV_FAULT_STATUS && c->error_kind != FSRV_FAULT_RESET &&
        c->error_kind != FSRV_FAULT_STALL)
        return 0;
    if (c->preset != NULL && strcmp(c->preset, "LOCAL") != 0 && strcmp(c->preset, "DELAY") != 0 &&
        strcmp(c->preset, "ERROR") != 0)
        return 0;
    /* TLS: both files or neither, never an empty name; no --no-tls-resume alone. */
    if ((c->tls_cert == NULL) != (c->tls_key == NULL) || (c->tls_cert == NULL && !c->tls_resume))
        return 0;
    if (c->tls_cert != NULL && (c->tls_cert[0] == '\0' || c->tls_key[0] == '\0'))
        return 0;
    /* HTTP/2: the limits in range (their defaults when --http2 is absent). */
    if (c->h2_max_streams < 1 || c->h2_max_streams > FSRV_H2_MAX_STREAMS_MAX ||
        c->h2_timeout_s < 1 || c->h2_timeout_s > FSRV_H2_TIMEOUT_MAX_S)
        return 0;
    if (!c->http2 && (c->h2_max_streams != FSRV_H2_MAX_STREAMS_DEFAULT ||
                      c->h2_timeout_s != FSRV_H2_TIMEOUT_DEFAULT_S))
        return 0;
    return inet_pton(AF_INET, c->bind, addr) == 1 || inet_pton(AF_INET6, c->bind, addr) == 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fsrv_config cfg;
    char *buf = malloc(size + 1);
    char *argv[MAX_ARGS + 2];
    char err[512];
    int argc = 0, rc;

    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    argv[argc++] = "flagserver";
    for (char *p = buf; p <= buf + size && argc <= MAX_ARGS; p += strlen(p) + 1)
        argv[argc++] = p;
    argv[argc] = NULL;

    rc = fsrv_config_parse(&cfg, argc, argv, err, sizeof(err));
    if (rc == FSRV_CONFIG_RUN) {
        if (!valid(&cfg))
            abort();
    } else if (rc == -EINVAL) {
        /* One line: the caller prints it after "flagserver: ". An argument
         * holding a newline is echoed as is, so only the fixed text counts. */
        if (err[0] == '\0' || strlen(err) >= sizeof(err))
            abort();
    } else if (rc != FSRV_CONFIG_HELP) {
        abort();
    }
    free(buf);
    return 0;
}
