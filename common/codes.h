/* codes.h -- country codes: the compiled-in list and the book's CC expansion.
 *
 * A code is two upper-case ASCII letters and a NUL, stored as char[3]. There
 * are 26 x 26 = 676 possible codes, so a fixed array of FLAGS_CODES_MAX holds
 * any expansion.
 */
#ifndef FLAGS_CODES_H
#define FLAGS_CODES_H

#include <stdbool.h>
#include <stddef.h>

#define FLAGS_CODES_MAX 676

/* The codes of data/country_codes.txt (generated at build time), sorted. */
extern const char flags_country_codes[][3];
extern const size_t flags_country_codes_len;

/* The book's 20 most populous countries, in the book's order. */
extern const char flags_pop20_codes[20][3];

/* Expands the book's CC arguments into out (FLAGS_CODES_MAX entries), sorted
 * and without duplicates, then keeps the first limit. every (-e) means AA..ZZ
 * and wins over all (-a, flags_country_codes), which wins over args; with
 * neither and no args, the 20 most populous. Each arg is one letter (the 26
 * codes starting with it) or two letters, case-insensitive. Returns the number
 * of codes, or -EINVAL if an arg is not A to Z or AA to ZZ (out is then
 * unspecified). Pure: no allocation, no global state. */
int flags_codes_expand(char out[][3], bool every, bool all, const char *const *args, size_t nargs,
                       size_t limit);

#endif /* FLAGS_CODES_H */
