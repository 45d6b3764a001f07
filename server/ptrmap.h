/* ptrmap.h -- a hash map from pointers to pointers.
 *
 * flagserver keeps one record per client connection, found by the
 * connection's address (libevent 2.1's evhttp has no per-connection user
 * data). Open addressing with linear probing and backward-shift deletion;
 * the table doubles when three quarters full. Not thread-safe.
 */
#ifndef FLAGSERVER_PTRMAP_H
#define FLAGSERVER_PTRMAP_H

#include <stddef.h>

struct ptrmap_slot {
    const void *key; /* NULL marks an empty slot */
    void *value;
};

struct ptrmap {
    struct ptrmap_slot *slots;
    size_t cap; /* a power of two */
    size_t len;
};

/* Initialises M, empty. Returns 0 or -ENOMEM. Release with ptrmap_free(). */
int ptrmap_init(struct ptrmap *m);

/* Releases the table (not the values, which the caller owns). */
void ptrmap_free(struct ptrmap *m);

/* Returns the value stored for KEY, or NULL if there is none. */
void *ptrmap_get(const struct ptrmap *m, const void *key);

/* Stores VALUE for KEY (not NULL). Returns 0, -EEXIST if KEY is present
 * (the map is unchanged), -EINVAL for a NULL key or -ENOMEM. */
int ptrmap_put(struct ptrmap *m, const void *key, void *value);

/* Removes KEY and returns its value, or NULL if it was not present. */
void *ptrmap_del(struct ptrmap *m, const void *key);

#endif /* FLAGSERVER_PTRMAP_H */
