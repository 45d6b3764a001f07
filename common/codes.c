/* codes.c -- the book's expand_cc_args. */
#include "codes.h"

#include <errno.h>
#include <string.h>

const char flags_pop20_codes[20][3] = {"CN", "IN", "US", "ID", "BR", "PK", "NG", "BD", "RU", "JP",
                                       "MX", "PH", "VN", "ET", "EG", "DE", "IR", "TR", "CD", "FR"};

/* Upper-case letter index 0..25, or -1 for anything else (locale-free). */
static int letter(char c)
{
    if (c >= 'a' && c <= 'z')
        return c - 'a';
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    return -1;
}

static void mark(bool seen[FLAGS_CODES_MAX], const char *cc)
{
    seen[letter(cc[0]) * 26 + letter(cc[1])] = true;
}

int flags_codes_expand(char out[][3], bool every, bool all, const char *const *args, size_t nargs,
                       size_t limit)
{
    bool seen[FLAGS_CODES_MAX] = {false};
    size_t i, n = 0;

    if (every) {
        memset(seen, 1, sizeof(seen));
    } else if (all) {
        for (i = 0; i < flags_country_codes_len; i++)
            mark(seen, flags_country_codes[i]);
    } else if (nargs == 0) {
        for (i = 0; i < 20; i++)
            mark(seen, flags_pop20_codes[i]);
    } else {
        for (i = 0; i < nargs; i++) {
            const char *a = args[i];
            int l0 = letter(a[0]);
            if (l0 < 0)
                return -EINVAL;
            if (a[1] == '\0') {
                for (int l1 = 0; l1 < 26; l1++)
                    seen[l0 * 26 + l1] = true;
                continue;
            }
            int l1 = letter(a[1]);
            if (l1 < 0 || a[2] != '\0')
                return -EINVAL;
            seen[l0 * 26 + l1] = true;
        }
    }

    /* Walking the bitmap in index order yields the codes sorted. */
    for (i = 0; i < FLAGS_CODES_MAX && n < limit; i++) {
        if (!seen[i])
            continue;
        out[n][0] = (char)('A' + i / 26);
        out[n][1] = (char)('A' + i % 26);
        out[n][2] = '\0';
        n++;
    }
    return (int)n;
}
