/* test_delayline.c -- the delayer's timer queue (netlab/delayline.c): delays
 * within their bounds and their mean at the setting under load too, release
 * times never out of arrival order (jitter never reorders), a bounded line,
 * the ring's wrap-around. */
#include "check.h"
#include "delayline.h"

#include <errno.h>

#define MS 1000000ull

static void test_fixed_delay(void)
{
    struct dl_line line;
    const struct dl_packet *p;

    CHECK_EQ_LONG(dl_line_init(&line, 4, 25 * MS, 0, 1), 0);
    CHECK(dl_line_peek(&line) == NULL);
    CHECK_EQ_LONG(dl_line_push(&line, 7, 1000 * MS), 0);
    CHECK_EQ_LONG(dl_line_push(&line, 8, 1001 * MS), 0);
    p = dl_line_peek(&line);
    CHECK(p != NULL && p->id == 7 && p->release_ns == 1025 * MS);
    dl_line_pop(&line);
    p = dl_line_peek(&line);
    CHECK(p != NULL && p->id == 8 && p->release_ns == 1026 * MS);
    dl_line_pop(&line);
    CHECK(dl_line_peek(&line) == NULL);
    dl_line_pop(&line); /* popping an empty line is harmless */
    CHECK_EQ_LONG(line.count, 0);
    dl_line_free(&line);
}

/* Packets 0.1 ms apart with +-5 ms of jitter for 10 s: released in arrival
 * order without any being held past its own delay (the delay never falls
 * faster than time passes), each delay within [d - j, d + j], consecutive
 * delays at most 0.1 ms / DL_WANDER_DIV apart, the range really covered, and
 * the mean at d: under load the delay is what was set, not d + j (the old
 * per-packet draws, held behind their predecessors, averaged 28.8 ms here). */
static void test_jitter_never_reorders(void)
{
    struct dl_line line;
    const struct dl_packet *p;
    uint64_t prev = 0, prev_delay = 0, t, min_delay = UINT64_MAX, max_delay = 0, sum = 0;
    uint64_t raised = 0, max_step = 0;
    uint32_t i, expect_id = 0;

    CHECK_EQ_LONG(dl_line_init(&line, 1000, 25 * MS, 5 * MS, 42), 0);
    for (i = 0; i < 100000; i++) {
        t = 1000 * MS + (uint64_t)i * (MS / 10);
        CHECK_EQ_LONG(dl_line_push(&line, i, t), 0);
        if (line.count == line.capacity || i == 99999) {
            while ((p = dl_line_peek(&line)) != NULL) {
                uint64_t arrival = 1000 * MS + (uint64_t)p->id * (MS / 10);
                uint64_t delay = p->release_ns - arrival;
                if (p->release_ns < prev || p->id != expect_id)
                    CHECK(!"released out of order");
                if (p->release_ns == prev)
                    raised++;
                if (expect_id > 0) {
                    uint64_t step = delay > prev_delay ? delay - prev_delay : prev_delay - delay;
                    if (step > max_step)
                        max_step = step;
                }
                prev = p->release_ns;
                prev_delay = delay;
                sum += delay;
                if (delay < min_delay)
                    min_delay = delay;
                if (delay > max_delay)
                    max_delay = delay;
                expect_id++;
                dl_line_pop(&line);
            }
        }
    }
    CHECK_EQ_LONG(expect_id, 100000);
    CHECK_EQ_LONG(raised, 0);
    CHECK(max_step <= MS / 10 / DL_WANDER_DIV);
    CHECK(min_delay >= 20 * MS && min_delay < 21 * MS);
    CHECK(max_delay <= 30 * MS && max_delay > 29 * MS);
    /* 10 s is about 150 legs of ~3.3 ms at 1 ms per 10 ms. */
    CHECK(sum / 100000 > 25 * MS - MS / 2 && sum / 100000 < 25 * MS + MS / 2);
    dl_line_free(&line);
}

/* Packets 100 ms apart over 2,000 s: delays spread over [d - j, d + j] with
 * their mean at d. */
static void test_jitter_spread(void)
{
    struct dl_line line;
    uint64_t t, delay, min_delay = UINT64_MAX, max_delay = 0, sum = 0;
    uint32_t i;

    CHECK_EQ_LONG(dl_line_init(&line, 4, 25 * MS, 5 * MS, 7), 0);
    for (i = 0; i < 20000; i++) {
        t = 1000 * MS + (uint64_t)i * 100 * MS;
        dl_line_push(&line, i, t);
        delay = dl_line_peek(&line)->release_ns - t;
        dl_line_pop(&line);
        sum += delay;
        if (delay < min_delay)
            min_delay = delay;
        if (delay > max_delay)
            max_delay = delay;
    }
    CHECK(min_delay >= 20 * MS && min_delay < 20 * MS + MS / 2);
    CHECK(max_delay <= 30 * MS && max_delay > 30 * MS - MS / 2);
    /* The offset's sd is about 2.2 ms, samples 100 ms apart nearly
     * independent: the sd of the mean is about 0.02 ms. */
    CHECK(sum / 20000 > 25 * MS - MS / 10 && sum / 20000 < 25 * MS + MS / 10);
    dl_line_free(&line);
}

/* Jitter larger than the delay: never a release before the arrival. */
static void test_jitter_not_below_zero(void)
{
    struct dl_line line;
    uint32_t i;
    int ok = 1;

    CHECK_EQ_LONG(dl_line_init(&line, 8, 1 * MS, 10 * MS, 3), 0);
    for (i = 0; i < 10000; i++) {
        uint64_t t = 5000 * MS + (uint64_t)i * 100 * MS;
        dl_line_push(&line, i, t);
        if (dl_line_peek(&line)->release_ns < t)
            ok = 0;
        dl_line_pop(&line);
    }
    CHECK(ok);
    dl_line_free(&line);
}

static void test_bounded_and_wraps(void)
{
    struct dl_line line;
    uint32_t i, round;
    int ok = 1;

    CHECK_EQ_LONG(dl_line_init(&line, 0, MS, 0, 1), -EINVAL);
    CHECK_EQ_LONG(dl_line_init(&line, 3, MS, 0, 1), 0);
    CHECK_EQ_LONG(dl_line_push(&line, 1, 0), 0);
    CHECK_EQ_LONG(dl_line_push(&line, 2, 0), 0);
    CHECK_EQ_LONG(dl_line_push(&line, 3, 0), 0);
    CHECK_EQ_LONG(dl_line_push(&line, 4, 0), -ENOBUFS);
    CHECK_EQ_LONG(line.count, 3);
    /* Push two, pop two, many times over: the ring wraps and keeps order. */
    for (round = 0; round < 100; round++) {
        dl_line_pop(&line);
        dl_line_pop(&line);
        for (i = 0; i < 2; i++)
            if (dl_line_push(&line, 5 + round * 2 + i, round) != 0)
                ok = 0;
        if (dl_line_peek(&line)->id != (round == 0 ? 3 : 4 + round * 2))
            ok = 0;
    }
    CHECK(ok);
    dl_line_free(&line);
    CHECK(line.ring == NULL);
}

int main(void)
{
    test_fixed_delay();
    test_jitter_never_reorders();
    test_jitter_spread();
    test_jitter_not_below_zero();
    test_bounded_and_wraps();
    return CHECK_DONE();
}
