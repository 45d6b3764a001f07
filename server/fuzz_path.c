/* fuzz_path.c -- libFuzzer target for path_parse_flag().
 *
 * Beyond "no crash, no out-of-bounds access" (ASan/UBSan), it checks the
 * property that matters with an independent oracle: whatever bytes come in,
 * an accepted path percent-decodes to exactly /flags/{cc}/{cc}.gif, the code
 * written to CC, and nothing else. Any violation aborts, which libFuzzer
 * reports with the input.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "path.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int unhex(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (uint8_t)(c | 0x20);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char cc[PATH_CC_LEN + 1] = "??", want[64], got[PATH_MAX_LEN + 1];
    size_t n = 0;
    int rc = path_parse_flag((const char *)data, size, cc);

    if (rc != 0 && rc != -EINVAL && rc != -ENOENT)
        abort();
    if (rc != 0)
        return 0;
    if (!path_cc_valid(cc) || size > PATH_MAX_LEN)
        abort();
    for (size_t i = 0; i < size; i++) {
        int hi, lo;
        if (data[i] == '%' && i + 2 < size && (hi = unhex(data[i + 1])) >= 0 &&
            (lo = unhex(data[i + 2])) >= 0) {
            got[n++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            got[n++] = (char)data[i];
        }
    }
    got[n] = '\0';
    snprintf(want, sizeof(want), "/flags/%s/%s.gif", cc, cc);
    if (strlen(want) != n || memcmp(got, want, n) != 0)
        abort();
    return 0;
}
