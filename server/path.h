/* path.h -- request path validation for flagserver.
 *
 * The only paths flagserver serves are /flags/{cc}/{cc}.gif with cc two
 * lowercase ASCII letters. Everything else is refused before any lookup, so
 * no request path ever reaches the file system (the store is loaded at start).
 * Pure functions, no allocation: this is the libFuzzer target.
 */
#ifndef FLAGSERVER_PATH_H
#define FLAGSERVER_PATH_H

#include <stddef.h>

#define PATH_CC_LEN  2   /* letters in a country code */
#define PATH_MAX_LEN 256 /* longest raw request path considered */

/* Validates the raw (still percent-encoded) path of a request URI, LEN bytes
 * at RAW, which need not be NUL-terminated and may contain NUL bytes.
 *
 * Returns 0 and writes the code, NUL-terminated, to CC (PATH_CC_LEN + 1
 * bytes) when the decoded path is exactly /flags/{cc}/{cc}.gif. Returns
 * -EINVAL for a path that is malformed or tries to leave the served tree:
 * empty or longer than PATH_MAX_LEN, not starting with '/', a bad or NUL
 * percent escape, an encoded '/' or '\', a control byte, a backslash, an empty
 * segment ("//"), a "." or ".." segment, encoded or not. Returns -ENOENT for a
 * well-formed path that is simply not a flag (an HTTP 404). CC is written only
 * on success. */
int path_parse_flag(const char *raw, size_t len, char *cc);

/* Returns 1 if NAME (NUL-terminated) is a valid code directory name: exactly
 * PATH_CC_LEN lowercase ASCII letters. Returns 0 otherwise. */
int path_cc_valid(const char *name);

#endif /* FLAGSERVER_PATH_H */
