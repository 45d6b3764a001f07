/* fuzz_cli.c -- libFuzzer target for the client's argument and code parsing.
 *
 * The input is split at NUL bytes into an argv (at most 64 arguments) and
 * given to flags_cli_parse; it must return one of its documented results,
 * and on success every code must be two upper-case letters, sorted, unique.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct flags_opts opts;
    char *buf = malloc(size + 1);
    char *argv[MAX_ARGS + 2];
    char err[512];
    int argc = 0, rc;

    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    argv[argc++] = "fuzz";
    for (char *p = buf; p <= buf + size && argc <= MAX_ARGS; p += strlen(p) + 1)
        argv[argc++] = p;
    argv[argc] = NULL;

    rc = flags_cli_parse(&opts, argc, argv, 30, err, sizeof(err));
    if (rc == FLAGS_CLI_RUN) {
        if (opts.ncodes == 0 || opts.ncodes > FLAGS_CODES_MAX || opts.max_req < 1 ||
            opts.repeat < 1 || opts.timeout_ms < 1 || !opts.base_url)
            abort();
        for (size_t i = 0; i < opts.ncodes; i++) {
            const char *c = opts.codes[i];
            if (c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' || c[2] != '\0')
                abort();
            if (i > 0 && strcmp(opts.codes[i - 1], c) >= 0)
                abort();
        }
    } else if (rc == -EINVAL) {
        if (strncmp(err, "*** Usage error: ", 17) != 0)
            abort();
    } else if (rc != FLAGS_CLI_HELP && rc != -ENOMEM) {
        abort();
    }
    flags_opts_free(&opts);
    free(buf);
    return 0;
}
