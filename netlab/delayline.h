/* delayline.h -- the delayer's timer queue: packets held until their release
 * time, released in arrival order.
 *
 * Each packet's one-way delay is DELAY plus an offset in [-JITTER, +JITTER]
 * (the sum never below zero). The offset wanders: it moves toward a target
 * drawn uniformly from that range, at 1 ns per DL_WANDER_DIV ns of time, and
 * on to a new target when it gets there, so the delay varies as a queue's
 * does, over tens of milliseconds, and its mean over time is DELAY. Because
 * the delay never falls faster than time passes, a packet is never due
 * before the one that arrived ahead of it: jitter never reorders, release
 * times are non-decreasing in arrival order, a ring buffer in arrival order is
 * also ordered by release time, and every operation is O(1).
 *
 * (Until December 2026 each packet drew its own offset and was held behind its
 * predecessor when the draw would put it earlier. Under load that kept each
 * packet for the largest of many draws -- about DELAY + JITTER, not DELAY:
 * the WAN scenario's 50 ms +-5 ms link ran at nearly 60 ms once busy.)
 *
 * Pure: no I/O, no clock; the caller passes the times. Not thread-safe.
 */
#ifndef NETLAB_DELAYLINE_H
#define NETLAB_DELAYLINE_H

#include <stdbool.h>
#include <stdint.h>

struct dl_packet {
    uint32_t id;         /* the kernel's packet id (nfqueue) */
    uint64_t release_ns; /* CLOCK_MONOTONIC time it may leave */
};

struct dl_line {
    struct dl_packet *ring; /* capacity slots */
    uint32_t capacity;
    uint32_t head;  /* index of the oldest held packet */
    uint32_t count; /* packets held */
    uint64_t delay_ns;
    uint64_t jitter_ns;
    uint64_t last_release_ns; /* of the newest packet pushed, for the order */
    uint64_t rng;             /* xorshift64* state, never 0 */
    bool wandering;           /* offset_ns and target_ns are set */
    int64_t offset_ns;        /* the jitter now, in [-jitter_ns, +jitter_ns] */
    int64_t target_ns;        /* where it is heading */
    uint64_t moved_ns;        /* the time offset_ns was computed for */
};

/* The offset moves 1 ns per DL_WANDER_DIV ns: +-5 ms of jitter swings from
 * one end to the other in 100 ms. Above 1, so the delay never falls faster
 * than time passes. */
#define DL_WANDER_DIV 10

/* Initialises *LINE to hold up to CAPACITY packets (1 or more) with the given
 * delay and jitter, its random draws seeded by SEED. Returns 0, -EINVAL for a
 * zero capacity, or -ENOMEM. dl_line_free releases what it allocated. */
int dl_line_init(struct dl_line *line, uint32_t capacity, uint64_t delay_ns, uint64_t jitter_ns,
                 uint64_t seed);

/* Frees the ring; *LINE may be initialised again afterwards. */
void dl_line_free(struct dl_line *line);

/* Holds packet ID that arrived at NOW_NS: computes its release time and
 * appends it. Returns 0, or -ENOBUFS when the line is full (the caller drops
 * the packet, as a full queue on a real link would). */
int dl_line_push(struct dl_line *line, uint32_t id, uint64_t now_ns);

/* The oldest held packet, or NULL when the line is empty. Its release_ns is
 * the earliest of all held packets. */
const struct dl_packet *dl_line_peek(const struct dl_line *line);

/* Removes the oldest held packet (the one dl_line_peek returned). */
void dl_line_pop(struct dl_line *line);

#endif /* NETLAB_DELAYLINE_H */
