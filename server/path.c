/* path.c -- request path validation for flagserver; see path.h. */
#include "path.h"

#include <errno.h>
#include <string.h>

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}

int path_cc_valid(const char *name)
{
    for (size_t i = 0; i < PATH_CC_LEN; i++) {
        if (!is_lower(name[i]))
            return 0;
    }
    return name[PATH_CC_LEN] == '\0';
}

/* Percent-decodes RAW into OUT (at least LEN + 1 bytes) and returns the
 * decoded length, or -EINVAL for anything that must never be decoded: bad
 * escapes, NUL, control bytes, backslashes and encoded separators. */
static int decode(const char *raw, size_t len, char *out)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)raw[i];

        if (c == '%') {
            int hi, lo;

            if (len - i < 3)
                return -EINVAL;
            hi = hex_value(raw[i + 1]);
            lo = hex_value(raw[i + 2]);
            if (hi < 0 || lo < 0)
                return -EINVAL;
            c = (unsigned char)(hi * 16 + lo);
            /* An encoded separator would change the segment structure
             * after validation: never legitimate in a flag path. */
            if (c == '/')
                return -EINVAL;
            i += 2;
        }
        if (c < 0x20 || c == 0x7f || c == '\\')
            return -EINVAL;
        out[n++] = (char)c;
    }
    out[n] = '\0';
    return (int)n;
}

/* Checks the segment structure of the decoded absolute path P (N bytes):
 * no empty segment except a trailing one, no "." or ".." segment. */
static int check_segments(const char *p, size_t n)
{
    size_t start = 1; /* p[0] == '/' */

    while (start <= n) {
        const char *slash = memchr(p + start, '/', n - start);
        size_t end = slash ? (size_t)(slash - p) : n;
        size_t seglen = end - start;

        if (seglen == 0 && slash != NULL)
            return -EINVAL; /* "//" */
        if ((seglen == 1 && p[start] == '.') ||
            (seglen == 2 && p[start] == '.' && p[start + 1] == '.'))
            return -EINVAL;
        start = end + 1;
    }
    return 0;
}

int path_parse_flag(const char *raw, size_t len, char *cc)
{
    static const char prefix[] = "/flags/";
    const size_t plen = sizeof(prefix) - 1;
    /* "/flags/" cc "/" cc ".gif" */
    const size_t flag_len = plen + PATH_CC_LEN + 1 + PATH_CC_LEN + 4;
    char buf[PATH_MAX_LEN + 1];
    const char *p;
    int n, rc;

    if (raw == NULL || len == 0 || len > PATH_MAX_LEN)
        return -EINVAL;
    n = decode(raw, len, buf);
    if (n < 0)
        return n;
    if (buf[0] != '/')
        return -EINVAL;
    rc = check_segments(buf, (size_t)n);
    if (rc)
        return rc;

    /* Well-formed from here on: anything but the one shape is a 404. */
    if ((size_t)n != flag_len || memcmp(buf, prefix, plen) != 0)
        return -ENOENT;
    p = buf + plen;
    for (size_t i = 0; i < PATH_CC_LEN; i++) {
        if (!is_lower(p[i]) || p[PATH_CC_LEN + 1 + i] != p[i])
            return -ENOENT;
    }
    if (p[PATH_CC_LEN] != '/' || memcmp(p + 2 * PATH_CC_LEN + 1, ".gif", 4) != 0)
        return -ENOENT;
    memcpy(cc, p, PATH_CC_LEN);
    cc[PATH_CC_LEN] = '\0';
    return 0;
}
