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

/* DELAY + uniform [-JITTER, +JITTER], not below zero. */
static uint64_t draw_delay(struct dl_line *line)
{
    uint64_t span, offset;

    if (line->jitter_ns == 0)
        return line->delay_ns;
    span = 2 * line->jitter_ns + 1;
    offset = next_random(line) % span; /* modulo bias is < 2^-40 for spans in seconds */
    if (line->delay_ns + offset < line->jitter_ns)
        return 0;
    return line->delay_ns + offset - line->jitter_ns;
}

int dl_line_push(struct dl_line *line, uint32_t id, uint64_t now_ns)
{
    uint64_t release;
    uint32_t tail;

    if (line->count == line->capacity)
        return -ENOBUFS;
    release = now_ns + draw_delay(line);
    if (release < line->last_release_ns)
        release = line->last_release_ns; /* never ahead of its predecessor */
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
