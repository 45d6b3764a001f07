/* store.c -- every flag of a directory, read into memory once; see store.h. */
/* realpath() is XSI; the build defines only _POSIX_C_SOURCE. */
#define _XOPEN_SOURCE 700

#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static size_t cc_index(const char *cc)
{
    return (size_t)(cc[0] - 'a') * 26 + (size_t)(cc[1] - 'a');
}

static void warn(FILE *log, const char *path, const char *why)
{
    if (log != NULL)
        fprintf(log, "flagserver: skipping %s: %s\n", path, why);
}

/* Reads the regular file at PATH (already resolved) into a new buffer.
 * Returns 0 and sets *DATA and *LEN (the caller frees *DATA), or a negative
 * errno code. */
static int read_file(const char *path, unsigned char **data, size_t *len)
{
    struct stat sb;
    unsigned char *buf = NULL;
    size_t size, got = 0;
    int fd, rc = 0;

    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &sb) != 0) {
        rc = -errno;
        goto out;
    }
    if (!S_ISREG(sb.st_mode)) {
        rc = -EINVAL;
        goto out;
    }
    if (sb.st_size > (off_t)STORE_MAX_FILE) {
        rc = -EFBIG;
        goto out;
    }
    size = (size_t)sb.st_size;
    buf = malloc(size > 0 ? size : 1);
    if (buf == NULL) {
        rc = -ENOMEM;
        goto out;
    }
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            goto out;
        }
        if (n == 0) {
            rc = -EIO; /* the file shrank under us */
            goto out;
        }
        got += (size_t)n;
    }
    *data = buf;
    *len = size;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return rc;
}

/* Loads ROOT/flags/CC/CC.gif into its slot of ST. ROOT is the real path of
 * the served directory. Returns 0 when loaded or skipped (with a warning), or
 * -ENOMEM, the only error that aborts the whole load. */
static int load_one(struct store *st, const char *root, const char *cc, FILE *log)
{
    char path[PATH_MAX], real[PATH_MAX];
    size_t rootlen = strlen(root);
    struct store_entry *e = &st->table[cc_index(cc)];
    int n, rc;

    n = snprintf(path, sizeof(path), "%s/flags/%s/%s.gif", root, cc, cc);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        warn(log, cc, "path too long");
        return 0;
    }
    if (realpath(path, real) == NULL) {
        warn(log, path, strerror(errno));
        return 0;
    }
    /* The invariant that makes traversal impossible: whatever symlinks lie
     * on the way, the bytes served come from inside ROOT. */
    if (strncmp(real, root, rootlen) != 0 || real[rootlen] != '/') {
        warn(log, path, "resolves outside the served directory");
        return 0;
    }
    rc = read_file(real, &e->data, &e->len);
    if (rc == -ENOMEM)
        return rc;
    if (rc) {
        warn(log, path, rc == -EINVAL ? "not a regular file" : strerror(-rc));
        return 0;
    }
    st->count++;
    return 0;
}

int store_load(struct store *st, const char *dir, FILE *log)
{
    char root[PATH_MAX], flags[PATH_MAX];
    DIR *d = NULL;
    struct dirent *de;
    int n, rc = 0;

    memset(st, 0, sizeof(*st));
    if (realpath(dir, root) == NULL)
        return -errno;
    n = snprintf(flags, sizeof(flags), "%s/flags", root);
    if (n < 0 || (size_t)n >= sizeof(flags))
        return -ENAMETOOLONG;
    d = opendir(flags);
    if (d == NULL)
        return -errno;
    for (;;) {
        errno = 0;
        de = readdir(d);
        if (de == NULL) {
            rc = -errno; /* 0 at the end of the directory */
            break;
        }
        if (!path_cc_valid(de->d_name))
            continue;
        rc = load_one(st, root, de->d_name, log);
        if (rc)
            break;
    }
    closedir(d);
    if (rc)
        store_free(st);
    return rc;
}

const struct store_entry *store_get(const struct store *st, const char *cc)
{
    const struct store_entry *e;

    if (!path_cc_valid(cc))
        return NULL;
    e = &st->table[cc_index(cc)];
    return e->data != NULL ? e : NULL;
}

void store_free(struct store *st)
{
    for (size_t i = 0; i < sizeof(st->table) / sizeof(st->table[0]); i++)
        free(st->table[i].data);
    memset(st, 0, sizeof(*st));
}
