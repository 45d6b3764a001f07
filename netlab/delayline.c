/* delayline.c -- see delayline.h. */
#include "delayline.h"

#include <errno.h>
#include <stdlib.h>

int dl_line_init(struct dl_line *line, uint32_t capacity, uint64_t delay_ns, uint64_t jitter_ns,
                 uint64_t seed)
{
    *line = (struct dl_line){0};
    if (capacity == 0)
        return -EINVAL;
    line->ring = calloc(capacity, sizeof(*line->ring));
    if (line->ring == NULL)
        return -ENOMEM;
    line->capacity = capacity;
    line->delay_ns = delay_ns;
    line->jitter_ns = jitter_ns;
    line->rng = seed != 0 ? seed : 0x9e3779b97f4a7c15ull;
    return 0;
}

void dl_line_free(struct dl_line *line)
{
    free(line->ring);
    *line = (struct dl_line){0};
}

/* xorshift64* (Vigna): fast, good enough for jitter, reproducible by seed. */
static uint64_t next_random(struct dl_line *line)
{
    line->rng ^= line->rng >> 12;
    line->rng ^= line->rng << 25;
    line->rng ^= line->rng >> 27;
    return line->rng * 0x2545f4914f6cdd1dull;
}

/* A point uniform in [-JITTER, +JITTER]. */
static int64_t draw_offset(struct dl_line *line)
{
    uint64_t span = 2 * line->jitter_ns + 1;
    /* modulo bias is < 2^-40 for spans in seconds */
    return (int64_t)(next_random(line) % span) - (int64_t)line->jitter_ns;
}

/* The delay at NOW: DELAY + the wandering offset, moved on from where it was
 * at the previous packet by (NOW - then) / DL_WANDER_DIV toward its target
 * (a new target drawn at each one reached), not below zero. */
static uint64_t delay_at(struct dl_line *line, uint64_t now_ns)
{
    int64_t delay;

    if (line->jitter_ns == 0)
        return line->delay_ns;
    if (!line->wandering || (now_ns > line->moved_ns &&
                             now_ns - line->moved_ns > 4 * DL_WANDER_DIV * line->jitter_ns)) {
        /* The first packet, or idle for several legs: from anywhere. */
        line->offset_ns = draw_offset(line);
        line->target_ns = draw_offset(line);
        line->wandering = true;
    } else if (now_ns > line->moved_ns) {
        uint64_t step = (now_ns - line->moved_ns) / DL_WANDER_DIV;
        while (step > 0) {
            int64_t gap = line->target_ns - line->offset_ns;
            uint64_t dist = (uint64_t)(gap < 0 ? -gap : gap);
            if (step < dist) {
                line->offset_ns += gap < 0 ? -(int64_t)step : (int64_t)step;
                break;
            }
            line->offset_ns = line->target_ns;
            step -= dist;
            line->target_ns = draw_offset(line);
        }
    }
    if (now_ns > line->moved_ns)
        line->moved_ns = now_ns;
    delay = (int64_t)line->delay_ns + line->offset_ns;
    return delay < 0 ? 0 : (uint64_t)delay;
}

int dl_line_push(struct dl_line *line, uint32_t id, uint64_t now_ns)
{
    uint64_t release;
    uint32_t tail;

    if (line->count == line->capacity)
        return -ENOBUFS;
    release = now_ns + delay_at(line, now_ns);
    if (release < line->last_release_ns)
        release = line->last_release_ns; /* arrivals out of order in time: kept in line */
    line->last_release_ns = release;
    tail = (line->head + line->count) % line->capacity;
    line->ring[tail] = (struct dl_packet){.id = id, .release_ns = release};
    line->count++;
    return 0;
}

const struct dl_packet *dl_line_peek(const struct dl_line *line)
{
    return line->count == 0 ? NULL : &line->ring[line->head];
}

void dl_line_pop(struct dl_line *line)
{
    if (line->count == 0)
        return;
    line->head = (line->head + 1) % line->capacity;
    line->count--;
}
