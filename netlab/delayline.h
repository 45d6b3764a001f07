/* delayline.h -- the delayer's timer queue: packets held until their release
 * time, released in arrival order.
 *
 * Each packet's one-way delay is DELAY plus a jitter drawn uniformly from
 * [-JITTER, +JITTER] (never below zero). A packet is never released before the
 * one that arrived ahead of it: its release time is raised to its
 * predecessor's when the draw would put it earlier. Release times are thus
 * non-decreasing in arrival order, so a ring buffer in arrival order is also
 * ordered by release time, and every operation is O(1). Jitter never
 * reorders; the price is that the mean delay grows a little with the jitter
 * (docs/netlab.md gives the figures).
 *
 * Pure: no I/O, no clock; the caller passes the times. Not thread-safe.
 */
#ifndef NETLAB_DELAYLINE_H
#define NETLAB_DELAYLINE_H

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
};

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
