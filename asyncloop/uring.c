/* uring.c -- the loop's saves through io_uring; see uring.h. */
#define _GNU_SOURCE /* AT_EMPTY_PATH, RENAME_EXCHANGE, F_SETLEASE, F_SETSIG */
#include "uring.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "cancel.h"
#include "fdorder.h"
#include "save.h"
#include "xfer.h"

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

/* A completion's user_data: the save's address with the operation in the low
 * bits (a struct uring_save is at least 8-aligned). */
enum uring_op { OP_OPEN = 0, OP_OWN, OP_WRITE, OP_CLOSE, OP_RENAME, OP_STATX, OP_OLD, OP_DISCARD };
#define OP_MASK 7u

/* The operations of a commit, submitted together: at most six in a row. */
#define CHAIN 6

/* How many taken temporary file names a save skips (EEXIST), as xfer.c does. */
#define URING_NAME_TRIES 1000u

static uint64_t tag(struct uring_save *s, enum uring_op op)
{
    return (uint64_t)(uintptr_t)s | (uint64_t)op;
}

static unsigned code_bucket(const char *cc)
{
    if (cc[0] >= 'A' && cc[0] <= 'Z' && cc[1] >= 'A' && cc[1] <= 'Z' && cc[2] == '\0')
        return (unsigned)(cc[0] - 'A') * 26u + (unsigned)(cc[1] - 'A');
    return URING_CODES - 1;
}

/* The rings' setup flags, chosen by uring_probe before any loop starts.
 * COOP_TASKRUN: a completion from an io-wq worker does not interrupt the loop
 * thread (an IPI and a task-work run each) but waits for its next entry into
 * the kernel, which the loop makes anyway (epoll_wait, io_uring_enter); a
 * sleeping loop is still woken. TASKRUN_FLAG marks such pending work in the
 * ring. Measured here: 0.85-0.92x the time of rings without them
 * (docs/asyncloop.md). Kernels before 5.19 refuse them with EINVAL: the
 * rings then go without, and the --json record says which ("uring_setup"). */
#define COOP_FLAGS (IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG)
static unsigned setup_flags;

const char *uring_setup_name(void)
{
    return setup_flags & IORING_SETUP_COOP_TASKRUN ? "coop_taskrun" : "default";
}

int uring_probe(char *msg, size_t cap)
{
    static const struct {
        int op;
        const char *name;
    } needed[] = {{IORING_OP_OPENAT, "openat"},
                  {IORING_OP_WRITE, "write"},
                  {IORING_OP_CLOSE, "close"},
                  {IORING_OP_RENAMEAT, "renameat"},
                  {IORING_OP_STATX, "statx"}};
    struct io_uring ring;
    int rc = io_uring_queue_init_params(2, &ring, &(struct io_uring_params){.flags = COOP_FLAGS});

    setup_flags = COOP_FLAGS;
    if (rc == -EINVAL) { /* before 5.19: the flags, not io_uring */
        setup_flags = 0;
        rc = io_uring_queue_init(2, &ring, 0);
    }
    if (rc < 0) {
        snprintf(msg, cap, "--save-uring: io_uring is not available here: %s", strerror(-rc));
        return rc;
    }
    struct io_uring_probe *p = io_uring_get_probe_ring(&ring);
    rc = 0;
    for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]) && rc == 0; i++) {
        if (!p || !io_uring_opcode_supported(p, needed[i].op)) {
            snprintf(msg, cap, "--save-uring: this kernel's io_uring has no %s operation",
                     needed[i].name);
            rc = -EOPNOTSUPP;
        }
    }
    if (p)
        io_uring_free_probe(p);
    io_uring_queue_exit(&ring);
    return rc;
}

int uring_shared_init(struct uring_shared *sh, unsigned nloops, const struct flags_job *job)
{
    memset(sh, 0, sizeof(*sh));
    for (unsigned c = 0; c < URING_CODES; c++)
        atomic_init(&sh->busy[c], false);
    atomic_init(&sh->deferred, 0);
    atomic_init(&sh->no_exchange, false);
    atomic_init(&sh->no_lease, false);
    sh->dirfd = job->outdir_fd;
    if (job->saver) { /* the mode and owner of the files we create */
        sh->mode = job->saver->mode;
        sh->uid = job->saver->uid;
        sh->recycle = true;
    }
    if (!(sh->spares = calloc(URING_CODES, sizeof(*sh->spares))))
        return -ENOMEM;
    if (!(sh->efds = malloc(nloops * sizeof(*sh->efds)))) {
        uring_shared_free(sh);
        return -ENOMEM;
    }
    for (unsigned k = 0; k < nloops; k++) {
        if ((sh->efds[k] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
            int rc = -errno;
            sh->nloops = k;
            uring_shared_free(sh);
            return rc;
        }
    }
    sh->nloops = nloops;
    return 0;
}

void uring_shared_free(struct uring_shared *sh)
{
    for (unsigned c = 0; sh->spares && c < URING_CODES; c++)
        if (sh->spares[c].exists)
            (void)unlinkat(sh->dirfd, sh->spares[c].name, 0);
    free(sh->spares);
    sh->spares = NULL;
    for (unsigned k = 0; k < sh->nloops; k++)
        close(sh->efds[k]);
    free(sh->efds);
    sh->efds = NULL;
    sh->nloops = 0;
}

/* Hands what this iteration queued to the kernel. A refusal for want of
 * resources (EAGAIN, EBUSY) is retried on the next wake-up; the SQEs stay
 * queued meanwhile. */
static void submit(struct uring *u)
{
    int n;

    flags_fd_release(); /* the SQEs may close descriptors this loop used */
    do
        n = io_uring_submit(&u->ring);
    while (n == -EINTR);
    if (n < 0)
        snprintf(u->msg, sizeof(u->msg), "io_uring_submit: %s", strerror(-n));
}

static void arm_flush(struct uring *u)
{
    if (!u->flush_armed) {
        u->flush_armed = true;
        event_active(u->flush_ev, 0, 0);
    }
}

/* An SQE, with room for `need` in a row (a chain must not be split across
 * two submissions). NULL only if the kernel would take none. */
static struct io_uring_sqe *sqe_get(struct uring *u, unsigned need)
{
    if (io_uring_sq_space_left(&u->ring) < need)
        submit(u);
    if (io_uring_sq_space_left(&u->ring) < need)
        return NULL;
    return io_uring_get_sqe(&u->ring);
}

/* Frees the save's code; wakes the other loops if any waits for one. */
static void release_code(struct uring *u, unsigned code)
{
    struct uring_shared *sh = u->sh;

    atomic_store(&sh->busy[code], false);
    if (u->deferred)
        arm_flush(u); /* one of ours may wait for it */
    if (atomic_load(&sh->deferred) == 0)
        return;
    for (unsigned k = 0; k < sh->nloops; k++) {
        if (sh->efds[k] == u->efd)
            continue; /* this loop looks at its own list after every wake-up */
        uint64_t one = 1;
        ssize_t w = write(sh->efds[k], &one, sizeof(one));
        (void)w; /* fails only on counter overflow: it is read on every wake-up */
    }
}

/* The save is over: err 0 or its first error. */
static void finish(struct uring *u, struct uring_save *s, int err)
{
    release_code(u, s->code);
    flags_xfer_saved(s->x, u->job, err, s->res);
    u->inflight--;
    u->done(s, u->arg);
}

static void unlink_part(struct uring *u, struct uring_save *s)
{
    /* The failure path only: a name of ours, on the loop thread. */
    (void)unlinkat(u->job->outdir_fd, s->x->part_name, 0);
}

/* After a failure that left the temporary file open (its CLOSE cancelled):
 * closes it through the ring too, then unlinks it and ends the save with err.
 * Every descriptor of a save is closed by the kernel (a spare's is opened on
 * the loop, a new file's by the kernel): the loop never closes a number it
 * handed to the ring, which another thread's open could have reused. */
static void discard(struct uring *u, struct uring_save *s, int err)
{
    struct io_uring_sqe *e = sqe_get(u, 1);

    s->err = err;
    /* A recycled spare is still under our write lease (until the close):
     * whoever waits to open it gets an empty file, never half a write. */
    (void)ftruncate(s->fd, 0);
    if (!e) { /* the kernel takes nothing: close here */
        close(s->fd);
        s->fd = -1;
        unlink_part(u, s);
        finish(u, s, err);
        return;
    }
    io_uring_prep_close(e, s->fd);
    io_uring_sqe_set_data64(e, tag(s, OP_DISCARD));
    s->pending = 1;
    arm_flush(u);
}

/* True when renameat2's errno says the kernel or file system lacks
 * RENAME_EXCHANGE, as opposed to this one call failing (save.c's test). */
static bool exchange_unsupported(int err)
{
    return err == EINVAL || err == ENOSYS || err == EOPNOTSUPP;
}

/* Opens the code's spare for rewriting, on the loop thread, if nothing else
 * can see it: flags_spare_open's rules (a regular file with one link, our owner and
 * mode, and a write lease granted: no other descriptor or mapping; the
 * lease lasts until the ring's close, so an opener waits for the rewrite). Longer
 * than the body, it is cut to the body's length first. Returns the descriptor
 * (blocking, for the ring's write), or -1 when it must not be rewritten. None
 * of these calls waits: the lease is refused at once if the file is open. */
static int open_spare(struct uring *u, const char *name, size_t len)
{
    struct uring_shared *sh = u->sh;
    struct stat st;
    int fd = flags_spare_open(sh->dirfd, name, sh->uid, sh->mode, &sh->no_lease, &st);

    if (fd < 0)
        return -1;
    if (fcntl(fd, F_SETFL, 0) != 0)
        goto refuse;
    /* Cut only when longer, never to 0 (ext4's auto_da_alloc would start
     * writeback): flags of one code are mostly the same size. */
    if ((size_t)st.st_size > len && ftruncate(fd, (off_t)len) != 0)
        goto refuse;
    return fd;

refuse:
    close(fd);
    return -1;
}

/* Step 2: which inode the descriptor is, the rest of the body from s->off,
 * close, rename, and which inode CC.gif is now. */
static void commit(struct uring *u, struct uring_save *s)
{
    struct flags_xfer *x = s->x;
    int dirfd = u->job->outdir_fd;
    struct io_uring_sqe *e = sqe_get(u, CHAIN);

    if (!e) {
        discard(u, s, -EAGAIN);
        return;
    }
    s->res_own = s->res_write = s->res_close = s->res_rename = s->res_statx = s->res_old =
        -ECANCELED;
    s->exchange = !atomic_load(&u->sh->no_exchange);
    s->plain = false;
    io_uring_prep_statx(e, s->fd, "", AT_EMPTY_PATH, STATX_INO, &s->own);
    io_uring_sqe_set_data64(e, tag(s, OP_OWN));
    e->flags |= IOSQE_IO_LINK;
    e = io_uring_get_sqe(&u->ring);
    io_uring_prep_write(e, s->fd, x->buf ? x->buf + s->off : NULL, (unsigned)(x->buf_len - s->off),
                        (uint64_t)s->off);
    io_uring_sqe_set_data64(e, tag(s, OP_WRITE));
    e->flags |= IOSQE_IO_LINK;
    e = io_uring_get_sqe(&u->ring);
    io_uring_prep_close(e, s->fd);
    io_uring_sqe_set_data64(e, tag(s, OP_CLOSE));
    e->flags |= IOSQE_IO_LINK;
    e = io_uring_get_sqe(&u->ring);
    io_uring_prep_renameat(e, dirfd, x->part_name, dirfd, s->name,
                           s->exchange ? RENAME_EXCHANGE : 0);
    io_uring_sqe_set_data64(e, tag(s, OP_RENAME));
    e->flags |= IOSQE_IO_LINK;
    e = io_uring_get_sqe(&u->ring);
    io_uring_prep_statx(e, dirfd, s->name, AT_SYMLINK_NOFOLLOW, STATX_INO, &s->stx);
    io_uring_sqe_set_data64(e, tag(s, OP_STATX));
    s->pending = CHAIN - 1;
    if (s->exchange) { /* what the exchange put at the temporary name */
        e->flags |= IOSQE_IO_LINK;
        e = io_uring_get_sqe(&u->ring);
        io_uring_prep_statx(e, dirfd, x->part_name, AT_SYMLINK_NOFOLLOW, STATX_TYPE, &s->old);
        io_uring_sqe_set_data64(e, tag(s, OP_OLD));
        s->pending = CHAIN;
    }
    arm_flush(u);
}

/* An exchange found no CC.gif (or no RENAME_EXCHANGE): the written, closed
 * temporary file is renamed in the plain way, and CC.gif checked. */
static void commit_plain(struct uring *u, struct uring_save *s)
{
    int dirfd = u->job->outdir_fd;
    struct io_uring_sqe *e = sqe_get(u, 2);

    if (!e) {
        unlink_part(u, s);
        finish(u, s, -EAGAIN);
        return;
    }
    s->res_rename = s->res_statx = -ECANCELED;
    s->plain = true;
    io_uring_prep_renameat(e, dirfd, s->x->part_name, dirfd, s->name, 0);
    io_uring_sqe_set_data64(e, tag(s, OP_RENAME));
    e->flags |= IOSQE_IO_LINK;
    e = io_uring_get_sqe(&u->ring);
    io_uring_prep_statx(e, dirfd, s->name, AT_SYMLINK_NOFOLLOW, STATX_INO, &s->stx);
    io_uring_sqe_set_data64(e, tag(s, OP_STATX));
    s->pending = 2;
    arm_flush(u);
}

/* After an exchange that put our file at CC.gif: the file it replaced is at
 * the temporary name. A directory goes back where it was and the save fails
 * as rename(2) over it would; anything else becomes the code's spare, which
 * its next save rewrites only if open_spare allows. Returns 0 or the error. */
static int keep_old(struct uring *u, struct uring_save *s)
{
    int dirfd = u->job->outdir_fd;

    if (s->res_old < 0)
        return 0; /* gone already: someone else's doing, nothing to keep */
    if (S_ISDIR(s->old.stx_mode)) {
        /* Rare, so on the loop thread: our file goes back to the
         * temporary name, which the caller then unlinks. */
        if (renameat2(dirfd, s->x->part_name, dirfd, s->name, RENAME_EXCHANGE) != 0)
            return -errno;
        return -EISDIR;
    }
    struct uring_spare *sp = &u->sh->spares[s->code];
    snprintf(sp->name, sizeof(sp->name), "%s", s->x->part_name);
    sp->exists = true;
    return 0;
}

/* Step 1 is done: the temporary file exists (fd >= 0) or could not be made. */
static void submit_open(struct uring *u, struct uring_save *s);

static void opened(struct uring *u, struct uring_save *s, int fd)
{
    s->creating = false;
    flags_tmp_async_end();
    if (fd == -EEXIST && s->name_try < URING_NAME_TRIES) {
        /* A run killed by SIGKILL with this pid (pids repeat) left this
         * name: not ours to touch, so the next one is taken, named as
         * xfer.c names its own. */
        s->name_try++;
        snprintf(s->x->part_name, sizeof(s->x->part_name), ".%s.gif.%ld.%zu.%u.part",
                 s->x->job->codes[s->x->index % s->x->job->ncodes], s->x->pid, s->x->index,
                 s->name_try);
        submit_open(u, s);
        return;
    }
    if (fd < 0) {
        finish(u, s, fd);
        return;
    }
    flags_fd_acquire(); /* a number the kernel may have freed elsewhere */
    s->fd = fd;
    commit(u, s);
}

static bool same_inode(const struct statx *a, const struct statx *b)
{
    return a->stx_ino == b->stx_ino && a->stx_dev_major == b->stx_dev_major &&
           a->stx_dev_minor == b->stx_dev_minor;
}

/* Every completion of a commit has arrived. A failed or short write, or a
 * failed close, stops the link: the operations after it complete
 * -ECANCELED. A failed rename or statx does not (uring.h): what follows it
 * ran, and is read only as far as the rename's result allows. */
static void committed(struct uring *u, struct uring_save *s)
{
    size_t want = s->x->buf_len - s->off;
    int err = 0;

    if (s->res_own < 0) {
        err = s->res_own;
    } else if (s->res_write >= 0 && (size_t)s->res_write < want) {
        if (s->res_write > 0) { /* short: the rest, then the same chain */
            s->off += (size_t)s->res_write;
            commit(u, s);
            return;
        }
        err = -EIO;
    } else if (s->res_write < 0) {
        err = s->res_write;
    }
    if (s->res_close == -ECANCELED) { /* not run: the file is still open */
        discard(u, s, err);
        return;
    }
    if (s->res_close < 0 && err == 0)
        err = s->res_close; /* the descriptor is gone either way */
    s->fd = -1;
    if (err == 0 && s->res_rename < 0 && s->exchange && !s->plain &&
        (s->res_rename == -ENOENT || exchange_unsupported(-s->res_rename))) {
        if (s->res_rename != -ENOENT) /* ENOENT: no CC.gif yet */
            atomic_store(&u->sh->no_exchange, true);
        commit_plain(u, s);
        return;
    }
    if (s->res_rename < 0) {
        if (err == 0)
            err = s->res_rename;
        unlink_part(u, s);
    } else if (s->res_statx < 0) {
        err = s->res_statx;
    } else if (!same_inode(&s->stx, &s->own)) {
        /* What was renamed, or what is at CC.gif now, is not the file this
         * save wrote: its temporary name was taken over. Not reported OK,
         * in xfer.c's words for it (-EXDEV). An exchange is undone (rare, so
         * on the loop thread): CC.gif gets back the file it had, and what
         * took the temporary name gets its name back; neither is ours to
         * keep as a spare or to delete. */
        err = -EXDEV;
        if (s->exchange && !s->plain)
            (void)renameat2(u->job->outdir_fd, s->x->part_name, u->job->outdir_fd, s->name,
                            RENAME_EXCHANGE);
    } else if (s->exchange && !s->plain && (err = keep_old(u, s)) != 0) {
        unlink_part(u, s);
    }
    finish(u, s, err);
}

static void complete(struct uring *u, uint64_t data, int res)
{
    struct uring_save *s = (struct uring_save *)(uintptr_t)(data & ~(uint64_t)OP_MASK);

    switch ((enum uring_op)(data & OP_MASK)) {
    case OP_OPEN:
        s->pending = 0;
        opened(u, s, res);
        return;
    case OP_DISCARD: /* a close after a failure; its own result changes nothing */
        s->pending = 0;
        s->fd = -1;
        unlink_part(u, s);
        finish(u, s, s->err);
        return;
    case OP_OWN:
        s->res_own = res;
        break;
    case OP_WRITE:
        s->res_write = res;
        break;
    case OP_CLOSE:
        s->res_close = res;
        break;
    case OP_RENAME:
        s->res_rename = res;
        break;
    case OP_STATX:
        s->res_statx = res;
        break;
    case OP_OLD:
        s->res_old = res;
        break;
    }
    if (--s->pending == 0)
        committed(u, s);
}

/* Takes every completion there is; one eventfd count may stand for many. */
static void drain(struct uring *u)
{
    unsigned seen;

    do {
        struct io_uring_cqe *cqe;
        unsigned head;
        seen = 0;
        io_uring_for_each_cqe(&u->ring, head, cqe)
        {
            uint64_t data = cqe->user_data;
            int res = cqe->res;
            /* Consumed before it is handled: handling may queue more. */
            io_uring_cq_advance(&u->ring, 1);
            complete(u, data, res);
            seen++;
        }
    } while (seen > 0);
}

/* Queues the open of s's temporary file (O_EXCL: a new file or none). */
static void submit_open(struct uring *u, struct uring_save *s)
{
    struct io_uring_sqe *e;

    if (flags_tmp_async_begin() != 0) { /* the second signal: create nothing */
        finish(u, s, -EINTR);
        return;
    }
    if (!(e = sqe_get(u, 1))) {
        flags_tmp_async_end();
        finish(u, s, -EAGAIN);
        return;
    }
    s->creating = true;
    s->pending = 1;
    io_uring_prep_openat(e, u->job->outdir_fd, s->x->part_name,
                         O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    io_uring_sqe_set_data64(e, tag(s, OP_OPEN));
    arm_flush(u);
}

/* A save whose code is free starts: the open, or for a body streamed to its
 * temporary file during the transfer, the commit flags_xfer_save does. */
static void start(struct uring *u, struct uring_save *s)
{
    if (s->x->part_exists) {
        flags_xfer_save(s->x, u->job, s->res);
        release_code(u, s->code);
        u->inflight--;
        u->done(s, u->arg);
        return;
    }
    s->name_try = 0;
    struct uring_shared *sh = u->sh;
    struct uring_spare *sp = &sh->spares[s->code];
    if (sp->exists) {
        int fd = -1;
        sp->exists = false;
        if (sh->recycle && !atomic_load(&sh->no_lease) && !atomic_load(&sh->no_exchange))
            fd = open_spare(u, sp->name, s->x->buf_len);
        if (fd >= 0) {
            snprintf(s->x->part_name, sizeof(s->x->part_name), "%s", sp->name);
            s->fd = fd;
            commit(u, s);
            return;
        }
        (void)unlinkat(sh->dirfd, sp->name, 0); /* whoever holds it keeps it */
    }
    submit_open(u, s);
}

/* Starts every waiting save whose code is free, in the order they came. */
static void start_deferred(struct uring *u)
{
    struct uring_save **pp = &u->deferred;

    while (*pp) {
        struct uring_save *s = *pp;
        bool free_code = false;
        if (!atomic_compare_exchange_strong(&u->sh->busy[s->code], &free_code, true)) {
            if (!s->waiting) {
                /* Counted, then tried once more: a loop that freed the code
                 * before it saw the count did not wake us (both seq_cst). */
                s->waiting = true;
                atomic_fetch_add(&u->sh->deferred, 1);
                continue;
            }
            pp = &s->next;
            continue;
        }
        *pp = s->next;
        if (u->deferred_tail == &s->next)
            u->deferred_tail = pp;
        if (s->waiting)
            atomic_fetch_sub(&u->sh->deferred, 1);
        start(u, s);
    }
}

/* Everything a wake-up does: completions, waiting saves, one submission. */
static void process(struct uring *u)
{
    uint64_t count;
    ssize_t n = read(u->efd, &count, sizeof(count));

    (void)n; /* EAGAIN: nothing was signalled; the queues decide */
    u->flush_armed = false;
    drain(u);
    start_deferred(u);
    submit(u);
}

static void on_efd(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    process(arg);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    process(arg);
}

int uring_init(struct uring *u, struct event_base *base, struct uring_shared *sh, unsigned k,
               unsigned entries, const struct flags_job *job, uring_done_fn done, void *arg)
{
    int rc;

    memset(u, 0, sizeof(*u));
    u->sh = sh;
    u->efd = sh->efds[k];
    u->job = job;
    u->done = done;
    u->arg = arg;
    u->deferred_tail = &u->deferred;
    if (entries < 8)
        entries = 8;
    if (entries > 4096)
        entries = 4096;
    if ((rc = io_uring_queue_init_params(entries, &u->ring,
                                         &(struct io_uring_params){.flags = setup_flags})) < 0) {
        snprintf(u->msg, sizeof(u->msg), "cannot create an io_uring: %s", strerror(-rc));
        return rc;
    }
    u->ring_ready = true;
    if ((rc = io_uring_register_eventfd(&u->ring, u->efd)) < 0) {
        snprintf(u->msg, sizeof(u->msg), "cannot register the io_uring eventfd: %s", strerror(-rc));
        return rc;
    }
    u->efd_ev = event_new(base, u->efd, EV_READ | EV_PERSIST, on_efd, u);
    u->flush_ev = event_new(base, -1, 0, on_flush, u);
    if (!u->efd_ev || !u->flush_ev || event_add(u->efd_ev, NULL) != 0) {
        snprintf(u->msg, sizeof(u->msg), "cannot watch the io_uring eventfd");
        return -ENOMEM;
    }
    return 0;
}

void uring_save(struct uring *u, struct uring_save *s, struct flags_xfer *x,
                struct flags_result *res)
{
    const char *cc = u->job->codes[x->index % u->job->ncodes];

    s->x = x;
    s->res = res;
    s->next = NULL;
    s->code = code_bucket(cc);
    s->fd = -1;
    s->off = 0;
    s->pending = 0;
    s->creating = false;
    s->waiting = false;
    snprintf(s->name, sizeof(s->name), "%s.gif", cc);
    *u->deferred_tail = s;
    u->deferred_tail = &s->next;
    u->inflight++;
    arm_flush(u);
}

void uring_wait(struct uring *u)
{
    while (u->inflight > 0) {
        process(u);
        if (u->inflight == 0)
            break;
        /* Completions and the other loops' wake-ups both make efd readable;
         * the timeout retries a submission the kernel refused. */
        struct pollfd p = {.fd = u->efd, .events = POLLIN};
        (void)poll(&p, 1, 10);
    }
}

void uring_free(struct uring *u)
{
    if (u->flush_ev)
        event_free(u->flush_ev);
    if (u->efd_ev)
        event_free(u->efd_ev);
    if (u->ring_ready)
        io_uring_queue_exit(&u->ring);
    u->flush_ev = u->efd_ev = NULL;
    u->ring_ready = false;
}
