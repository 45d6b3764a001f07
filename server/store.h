/* store.h -- every flag of a directory, read into memory once.
 *
 * store_load() reads DIR/flags/{cc}/{cc}.gif for every code directory at
 * start; afterwards serving is a table lookup and never touches the disk.
 * A file whose real path (symlinks resolved) lies outside DIR is refused.
 */
#ifndef FLAGSERVER_STORE_H
#define FLAGSERVER_STORE_H

#include <stddef.h>
#include <stdio.h>

#include "path.h"

#define STORE_MAX_FILE (16u * 1024 * 1024) /* larger files are refused */

struct store_entry {
    unsigned char *data; /* NULL when the code has no file */
    size_t len;
};

struct store {
    struct store_entry table[26 * 26]; /* indexed by the two letters */
    size_t count;                      /* entries with data */
};

/* Loads every DIR/flags/{cc}/{cc}.gif into ST (caller-allocated, need not be
 * initialised). Entries that are not code directories, lack the file, are not
 * regular files, are larger than STORE_MAX_FILE or resolve outside DIR are
 * skipped, with one line on LOG each (LOG may be NULL for silence).
 * Returns 0, or a negative errno code when DIR or DIR/flags cannot be opened
 * or read, or memory runs out; ST then holds nothing and needs no store_free.
 * On success the caller owns ST's memory and releases it with store_free(). */
int store_load(struct store *st, const char *dir, FILE *log);

/* Returns the entry for CC (PATH_CC_LEN lowercase letters), or NULL if the
 * store has no such flag. The entry belongs to ST. */
const struct store_entry *store_get(const struct store *st, const char *cc);

/* Releases everything store_load() allocated. Safe on a zeroed store. */
void store_free(struct store *st);

#endif /* FLAGSERVER_STORE_H */
