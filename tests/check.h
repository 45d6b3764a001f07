/* check.h -- a minimal unit-test harness for flagbench's C tests.
 *
 * CHECK(cond) and CHECK_EQ_*(...) count a pass or print the failing line and
 * count a failure; CHECK_DONE() prints "N passed, N failed" and returns the
 * exit status from main (non-zero if anything failed or nothing was checked).
 */
#ifndef FLAGS_TEST_CHECK_H
#define FLAGS_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_pass_, check_fail_;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            check_pass_++;                                                                         \
        } else {                                                                                   \
            check_fail_++;                                                                         \
            fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #cond);                       \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_LONG(actual, expected)                                                            \
    do {                                                                                           \
        long long a_ = (long long)(actual), e_ = (long long)(expected);                            \
        if (a_ == e_) {                                                                            \
            check_pass_++;                                                                         \
        } else {                                                                                   \
            check_fail_++;                                                                         \
            fprintf(stderr, "%s:%d: FAIL: %s == %lld, expected %lld\n", __FILE__, __LINE__,        \
                    #actual, a_, e_);                                                              \
        }                                                                                          \
    } while (0)

#define CHECK_EQ_STR(actual, expected)                                                             \
    do {                                                                                           \
        const char *a_ = (actual), *e_ = (expected);                                               \
        if (a_ && e_ && strcmp(a_, e_) == 0) {                                                     \
            check_pass_++;                                                                         \
        } else {                                                                                   \
            check_fail_++;                                                                         \
            fprintf(stderr, "%s:%d: FAIL: %s\n  actual:   \"%s\"\n  expected: \"%s\"\n", __FILE__, \
                    __LINE__, #actual, a_ ? a_ : "(null)", e_ ? e_ : "(null)");                    \
        }                                                                                          \
    } while (0)

#define CHECK_DONE()                                                                               \
    (printf("%d passed, %d failed\n", check_pass_, check_fail_),                                   \
     (check_fail_ == 0 && check_pass_ > 0) ? 0 : 1)

#endif /* FLAGS_TEST_CHECK_H */
