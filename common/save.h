/* save.h -- atomic saves that recycle the replaced file (issue 12).
 *
 * A save never shows a partial file and never touches an old file the user can
 * still see: DIR/NAME is replaced in one step by a complete file, and a save
 * that fails leaves the old DIR/NAME as it was. On ext4 the classic way, a new
 * temporary file renamed over NAME, creates an inode and frees the replaced
 * one on every save, which costs 2.5 times curl's in-place write. This module
 * keeps the guarantee without that cost:
 *
 *   1. the body is written into a spare file, DIR/.spare.PID.N.part;
 *   2. renameat2(RENAME_EXCHANGE) swaps it with NAME, so NAME is the new file
 *      at once and the OLD file is now the spare (plain rename when NAME does
 *      not exist yet);
 *   3. the old file is kept as a spare for a later save only if it is a
 *      regular file; and when that later save takes it, it is rewritten (from
 *      offset 0, then cut to the new length: never truncated to 0) only if it
 *      still has one link, our owner and mode, and a write lease can be taken
 *      on it -- which the kernel refuses while any other process or descriptor
 *      has it open or mapped. Otherwise it is unlinked and a new spare made.
 *
 * So a hard link to the old file, a reader that opened it before the swap,
 * and an mmap of it all keep the old content; only a process that opens the
 * spare by its dot-name in the microseconds between the lease check and the
 * rewrite could see it change (docs/client.md).
 *
 * Spares are named like the clients' other temporary files, so a second
 * terminating signal removes them (cancel.h); flags_saver_free removes them at
 * a normal end. At most FLAGS_SAVER_SPARES wait idle; the others in use at
 * any moment are one per save in progress. Where RENAME_EXCHANGE or leases
 * are not supported (EINVAL, ENOSYS, EOPNOTSUPP, EACCES), every save falls
 * back to a new file renamed over NAME.
 *
 * Thread-safe: any number of threads may save through one saver at once.
 */
#ifndef FLAGS_SAVE_H
#define FLAGS_SAVE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* The most idle spare files a saver keeps. */
#define FLAGS_SAVER_SPARES 64

struct flags_saver {
    int dirfd;                           /* the output directory, not owned */
    long pid;                            /* for spare names */
    mode_t mode;                         /* a new file's mode: 0644 & ~umask */
    uid_t uid;                           /* a new file's owner: the effective uid */
    pthread_mutex_t lock;                /* guards spares, nspares, next_id */
    pthread_mutex_t rename_lock;         /* makes each save's exchange and check one step */
    unsigned spares[FLAGS_SAVER_SPARES]; /* ids of the idle spare files */
    unsigned nspares;
    unsigned next_id;        /* the id of the next spare made */
    atomic_bool no_exchange; /* RENAME_EXCHANGE unsupported: plain rename */
    atomic_bool no_lease;    /* leases unsupported: never recycle */
    atomic_ulong recycled;   /* saves that rewrote a spare, for tests and -v */
    atomic_ulong created;    /* saves that made a new spare */
    bool ready;              /* initialised: flags_saver_free has work to do */
};

/* Prepares s to save into dirfd (kept open by the caller until after
 * flags_saver_free). Reads the umask, so call it before any thread starts.
 * Returns 0 or a negative errno-style code. */
int flags_saver_init(struct flags_saver *s, int dirfd);

/* Saves data[0..n) as DIR/name, atomically as described above. On error
 * returns a negative errno-style code and DIR/name is as it was; no file of
 * the failed save remains. Thread-safe. */
int flags_saver_save(struct flags_saver *s, const char *name, const char *data, size_t n);

/* Renames DIR/from to DIR/name (renameat) if DIR/from is the inode (dev,
 * ino), and checks that DIR/name is that inode afterwards: a file written
 * elsewhere through its own descriptor (a streamed body) is placed exactly,
 * or not at all. In turn with the saves of s, so such a file is never caught
 * between a save's exchange with a directory at name and its exchange back,
 * and a concurrent save of the same name cannot make the check after the
 * rename fail. Returns 0, -EXDEV if either name was not that inode (from was
 * replaced by someone else), or another negative errno-style code.
 * Thread-safe. */
int flags_saver_rename(struct flags_saver *s, const char *from, const char *name, dev_t dev,
                       ino_t ino);

/* Opens DIR/name (a spare: a file a save exchanged out of its name) for
 * rewriting, if nothing else can see it: a regular file with one link, owner
 * uid and mode `mode`, and no other open descriptor or mapping anywhere (a
 * write lease is granted). The lease is held until the descriptor is closed,
 * so whoever opens the file meanwhile waits for that close: close it as soon
 * as the rewrite is done (or cut to 0, if it failed). Never waits itself: the
 * lease is refused at once when the file is open. Returns the descriptor (O_NONBLOCK
 * still set; *st is the file's stat) or -1 when the file must not be
 * rewritten (the caller unlinks it); sets *no_lease when leases are
 * unsupported here. Used by the saver and by the io_uring saves. */
int flags_spare_open(int dirfd, const char *name, uid_t uid, mode_t mode, atomic_bool *no_lease,
                     struct stat *st);

/* Unlinks the idle spare files and frees s. No save may be in progress.
 * Safe on a zeroed struct and to call twice. */
void flags_saver_free(struct flags_saver *s);

#endif /* FLAGS_SAVE_H */
