/* save.c -- atomic saves that recycle the replaced file; see save.h. */
#define _GNU_SOURCE /* renameat2, RENAME_EXCHANGE, F_SETLEASE, F_SETSIG */
#include "save.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cancel.h"
#include "fdorder.h"

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

/* The signal a lease break would send us (the default, SIGIO, is one of the
 * terminating signals cancel.c catches). SIGURG is ignored by default and
 * not caught, so a break -- someone opening a spare while we rewrite it --
 * costs nothing: the opener just waits for our close. */
#define LEASE_SIGNAL SIGURG

/* How many taken spare names a save skips before it gives up (EEXIST). */
#define SPARE_NAME_TRIES 100000u

/* ".spare.PID.ID.part": the shape cancel.c's second-signal cleanup removes. */
static void spare_name(const struct flags_saver *s, unsigned id, char *buf, size_t cap)
{
    snprintf(buf, cap, ".spare.%ld.%u.part", s->pid, id);
}

/* True when renameat2's errno says the kernel or file system lacks
 * RENAME_EXCHANGE, as opposed to this one call failing. */
static bool exchange_unsupported(int err)
{
    return err == EINVAL || err == ENOSYS || err == EOPNOTSUPP;
}

/* The same for F_SETLEASE: leases disabled (fs.leases-enable = 0) or not
 * offered by the file system (EINVAL), or refused for all our files
 * (EACCES, e.g. by a security module). EAGAIN is this file being open. */
static bool lease_unsupported(int err)
{
    return err == EINVAL || err == ENOSYS || err == EOPNOTSUPP || err == EACCES;
}

static int pwrite_all(int fd, const char *p, size_t n)
{
    off_t off = 0;

    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        off += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Takes an idle spare's id into *id. Returns false when there is none. */
static bool take_spare(struct flags_saver *s, unsigned *id)
{
    bool got = false;

    pthread_mutex_lock(&s->lock);
    if (s->nspares > 0) {
        *id = s->spares[--s->nspares];
        got = true;
    }
    pthread_mutex_unlock(&s->lock);
    return got;
}

static unsigned new_id(struct flags_saver *s)
{
    pthread_mutex_lock(&s->lock);
    unsigned id = s->next_id++;
    pthread_mutex_unlock(&s->lock);
    return id;
}

/* Keeps spare id (which exists) for a later save, or unlinks it when enough
 * are idle. */
static void give_back(struct flags_saver *s, unsigned id, const char *name)
{
    bool kept = false;

    pthread_mutex_lock(&s->lock);
    if (s->nspares < FLAGS_SAVER_SPARES) {
        s->spares[s->nspares++] = id;
        kept = true;
    }
    pthread_mutex_unlock(&s->lock);
    if (!kept)
        (void)unlinkat(s->dirfd, name, 0);
}

int flags_spare_open(int dirfd, const char *name, uid_t uid, mode_t mode, atomic_bool *no_lease,
                     struct stat *st)
{
    int fd = openat(dirfd, name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0)
        return -1;
    flags_fd_acquire();
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) || st->st_nlink != 1 || st->st_uid != uid ||
        (st->st_mode & 07777) != mode)
        goto refuse;
    /* The lease is granted only if no one else has the file open, and it
     * stays until our close: an open that looked the old name up before the
     * exchange made the file our spare, and reaches the file only now, waits
     * in the kernel's lease break until the rewrite is complete, instead of
     * reading it half-written. (The kernel counts such a reader before it
     * checks for leases, so it either makes F_SETLEASE fail or waits.)
     * Released at once, the lease let exactly that reader through: common_save's
     * new case shows it; the fresh check's race saw one failure in about 5,000
     * reads, a mixed read or a failed save (that test could not tell which). */
    if (fcntl(fd, F_SETSIG, LEASE_SIGNAL) != 0)
        goto refuse;
    if (fcntl(fd, F_SETLEASE, F_WRLCK) != 0) {
        if (lease_unsupported(errno))
            atomic_store(no_lease, true);
        goto refuse;
    }
    return fd;

refuse:
    close(fd);
    return -1;
}

/* Puts the written spare at name: exchanged with the old name (which becomes
 * the spare, given back for a later save) or, where there was none or
 * exchanges are unsupported, renamed. A directory at name stays there and
 * the save fails as rename(2) over it would (-EISDIR). Called with
 * rename_lock held. Returns 1 (exchanged; spare given back), 0 (renamed), or
 * a negative errno-style code (the spare is still to be removed). */
static int place(struct flags_saver *s, unsigned id, const char *spare, const char *name,
                 bool recycle)
{
    if (recycle) {
        if (renameat2(s->dirfd, spare, s->dirfd, name, RENAME_EXCHANGE) == 0) {
            struct stat st;
            /* The old NAME is now the spare. A directory goes back where it
             * was. */
            if (fstatat(s->dirfd, spare, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
                if (renameat2(s->dirfd, spare, s->dirfd, name, RENAME_EXCHANGE) == 0)
                    return -EISDIR;
                return -errno;
            }
            give_back(s, id, spare); /* the next save checks it */
            return 1;
        }
        if (exchange_unsupported(errno))
            atomic_store(&s->no_exchange, true);
        else if (errno != ENOENT)
            return -errno;
    }
    if (renameat(s->dirfd, spare, s->dirfd, name) != 0)
        return -errno;
    return 0;
}

int flags_saver_init(struct flags_saver *s, int dirfd)
{
    mode_t mask = umask(0);
    int rc;

    umask(mask);
    memset(s, 0, sizeof(*s));
    if ((rc = pthread_mutex_init(&s->lock, NULL)) != 0)
        return -rc;
    if ((rc = pthread_mutex_init(&s->rename_lock, NULL)) != 0) {
        pthread_mutex_destroy(&s->lock);
        return -rc;
    }
    s->dirfd = dirfd;
    s->pid = (long)getpid();
    s->mode = 0644 & ~mask;
    s->uid = geteuid();
    atomic_init(&s->no_exchange, false);
    atomic_init(&s->no_lease, false);
    atomic_init(&s->recycled, 0);
    atomic_init(&s->created, 0);
    s->ready = true;
    return 0;
}

int flags_saver_save(struct flags_saver *s, const char *name, const char *data, size_t n)
{
    char spare[64];
    unsigned id;
    bool recycle = !atomic_load(&s->no_lease) && !atomic_load(&s->no_exchange);
    int fd = -1, rc = 0;

    if (recycle && take_spare(s, &id)) {
        spare_name(s, id, spare, sizeof(spare));
        struct stat st;
        if ((fd = flags_spare_open(s->dirfd, spare, s->uid, s->mode, &s->no_lease, &st)) < 0)
            (void)unlinkat(s->dirfd, spare, 0); /* whoever holds it keeps it */
    }
    if (fd < 0) {
        /* A run killed by SIGKILL with this pid (pids repeat, in containers
         * at once) may have left spares of these names: not ours to touch,
         * so the next free name is taken. */
        for (unsigned tries = 0;; tries++) {
            id = new_id(s);
            spare_name(s, id, spare, sizeof(spare));
            fd = flags_tmp_openat(s->dirfd, spare, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
            if (fd >= 0)
                break;
            if (errno != EEXIST || tries == SPARE_NAME_TRIES)
                return -errno;
        }
        atomic_fetch_add(&s->created, 1);
    } else {
        atomic_fetch_add(&s->recycled, 1);
    }
    /* Over the old blocks from offset 0, then cut to the new length: never
     * truncated to 0, which on ext4 (auto_da_alloc) would start writeback. */
    rc = pwrite_all(fd, data, n);
    if (rc == 0 && ftruncate(fd, (off_t)n) != 0)
        rc = -errno;
    if (rc != 0)
        (void)ftruncate(fd, 0);    /* an opener waiting on the lease gets no half */
    if (close(fd) != 0 && rc == 0) /* and the lease goes with it */
        rc = -errno;
    if (rc != 0)
        goto fail;

    /* The swap and its check are one step for every save of this saver:
     * otherwise a save that swapped a directory out and is about to swap it
     * back would, if another save of the same name came in between, put the
     * directory back over that save's file after it was reported saved, and
     * unlink the file with its spare (issue 19, case 2). Renames in one
     * directory take the kernel's directory lock anyway, so little is lost. */
    pthread_mutex_lock(&s->rename_lock);
    rc = place(s, id, spare, name, recycle);
    pthread_mutex_unlock(&s->rename_lock);
    if (rc >= 0)
        return 0; /* 1: the spare now holds the old file, given back */

fail:
    (void)unlinkat(s->dirfd, spare, 0);
    return rc;
}

/* True if DIR/name is the inode (dev, ino), never following a symlink. */
static bool is_inode(int dirfd, const char *name, dev_t dev, ino_t ino)
{
    struct stat st;

    return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == dev &&
           st.st_ino == ino;
}

int flags_saver_rename(struct flags_saver *s, const char *from, const char *name, dev_t dev,
                       ino_t ino)
{
    int rc = 0;

    pthread_mutex_lock(&s->rename_lock);
    if (!is_inode(s->dirfd, from, dev, ino))
        rc = -EXDEV;
    else if (renameat(s->dirfd, from, s->dirfd, name) != 0)
        rc = -errno;
    else if (!is_inode(s->dirfd, name, dev, ino))
        rc = -EXDEV; /* swapped between the check and the rename */
    pthread_mutex_unlock(&s->rename_lock);
    return rc;
}

void flags_saver_free(struct flags_saver *s)
{
    char spare[64];

    if (!s->ready)
        return;
    for (unsigned i = 0; i < s->nspares; i++) {
        spare_name(s, s->spares[i], spare, sizeof(spare));
        (void)unlinkat(s->dirfd, spare, 0);
    }
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->rename_lock);
    memset(s, 0, sizeof(*s));
}
