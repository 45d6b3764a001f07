/* ptrmap.c -- a hash map from pointers to pointers; see ptrmap.h. */
#include "ptrmap.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#define PTRMAP_MIN_CAP 64

static size_t slot_of(const struct ptrmap *m, const void *key)
{
    /* Fibonacci hashing; the low bits of heap addresses are always zero. */
    uint64_t h = (uint64_t)(uintptr_t)key * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h >> 32) & (m->cap - 1);
}

int ptrmap_init(struct ptrmap *m)
{
    m->slots = calloc(PTRMAP_MIN_CAP, sizeof(*m->slots));
    if (m->slots == NULL)
        return -ENOMEM;
    m->cap = PTRMAP_MIN_CAP;
    m->len = 0;
    return 0;
}

void ptrmap_free(struct ptrmap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->len = 0;
}

static struct ptrmap_slot *find(const struct ptrmap *m, const void *key)
{
    for (size_t i = slot_of(m, key);; i = (i + 1) & (m->cap - 1)) {
        struct ptrmap_slot *s = &m->slots[i];
        /* The table is never full, so an empty slot ends every probe. */
        if (s->key == key || s->key == NULL)
            return s;
    }
}

void *ptrmap_get(const struct ptrmap *m, const void *key)
{
    if (key == NULL)
        return NULL;
    return find(m, key)->value;
}

static int grow(struct ptrmap *m)
{
    struct ptrmap old = *m;

    m->slots = calloc(old.cap * 2, sizeof(*m->slots));
    if (m->slots == NULL) {
        *m = old;
        return -ENOMEM;
    }
    m->cap = old.cap * 2;
    for (size_t i = 0; i < old.cap; i++) {
        if (old.slots[i].key != NULL)
            *find(m, old.slots[i].key) = old.slots[i];
    }
    free(old.slots);
    return 0;
}

int ptrmap_put(struct ptrmap *m, const void *key, void *value)
{
    struct ptrmap_slot *s;

    if (key == NULL)
        return -EINVAL;
    if (find(m, key)->key != NULL)
        return -EEXIST;
    if ((m->len + 1) * 4 > m->cap * 3) {
        int rc = grow(m);
        if (rc)
            return rc;
    }
    s = find(m, key);
    s->key = key;
    s->value = value;
    m->len++;
    return 0;
}

void *ptrmap_del(struct ptrmap *m, const void *key)
{
    struct ptrmap_slot *s;
    size_t hole, i;
    void *value;

    if (key == NULL)
        return NULL;
    s = find(m, key);
    if (s->key == NULL)
        return NULL;
    value = s->value;
    hole = (size_t)(s - m->slots);
    /* Backward-shift: move later members of the probe run into the hole
     * unless that would put them before their home slot. */
    for (i = (hole + 1) & (m->cap - 1); m->slots[i].key != NULL; i = (i + 1) & (m->cap - 1)) {
        size_t home = slot_of(m, m->slots[i].key);
        size_t dist_i = (i - home) & (m->cap - 1);
        size_t dist_hole = (hole - home) & (m->cap - 1);
        if (dist_hole <= dist_i) {
            m->slots[hole] = m->slots[i];
            hole = i;
        }
    }
    m->slots[hole].key = NULL;
    m->slots[hole].value = NULL;
    m->len--;
    return value;
}
