/* uring.h -- the loop's saves through io_uring (flags_asyncloop --save-uring).
 *
 * A completion-based save: the loop thread prepares the file operations of
 * each save as io_uring submissions and takes their completions like any other
 * event, so it never waits for the file system. The ring is driven from
 * libevent through an eventfd registered with io_uring_register_eventfd and
 * watched as an ordinary read event; one notification may stand for many
 * completions, so each wake-up drains the completion queue to empty.
 * Submissions made during a loop iteration are batched into one
 * io_uring_enter by a libevent event activated once per iteration.
 *
 * One save of a body held in memory (every flag) is two steps:
 *
 *   1. a file to write: the code's spare, the file its last save replaced,
 *      when it may be rewritten (below); else a new one,
 *      openat(DIR, ".CC.gif.PID.N.part", O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW)
 *      through the ring;
 *   2. statx(fd, AT_EMPTY_PATH) -> write -> close ->
 *      renameat(".CC.gif.PID.N.part", "CC.gif", RENAME_EXCHANGE) ->
 *      statx("CC.gif") -> statx(".CC.gif.PID.N.part"), linked. A failed
 *      (or short) write or close cancels the operations after it; a failed
 *      renameat or statx does not (the kernel fails a link on some
 *      operations' errors only: measured on 6.18, docs/asyncloop.md), so the
 *      statx of the names still run after a failed rename, harmlessly, and
 *      committed() reads every result in chain order. After a failure that
 *      cancelled the close, a close alone follows; where CC.gif does not
 *      exist yet (or the file system has no RENAME_EXCHANGE), a plain
 *      renameat and its statx.
 *
 * The exchange leaves the replaced CC.gif at the temporary name: it becomes
 * the code's spare, rewritten by the code's next save instead of a new file
 * (on ext4 a new inode per save, and the old one's eviction with its blocks,
 * cost 3 times the rest of the save: docs/asyncloop.md). A spare is rewritten
 * under save.h's rules: opened on the loop thread (the write lease has no
 * io_uring operation; F_SETLEASE never waits), rewritten only if it is a
 * regular file with one link, our owner and mode, and no other descriptor or
 * mapping (a write lease is granted); else its name is unlinked and a new
 * file made. From offset 0, cut to the new length only if it was longer.
 *
 * The body is written only through the descriptor the save opened, and the
 * save is OK only when statx finds exactly that inode at CC.gif: a temporary
 * name swapped for something else between the steps is an error in xfer.c's
 * words ("its temporary file was replaced during the transfer"), never a
 * file reported as saved. A complete file or the old one, never a partial:
 * the rename replaces CC.gif in one step, a directory at CC.gif is exchanged
 * back (the save fails as rename(2) would, EISDIR), and a failed save unlinks
 * its temporary file. Saves of one code never overlap, across every loop of
 * the run, so neither the statx checks nor a code's spare can be confused by
 * a save of our own. A body too large for the buffer was streamed to its
 * temporary file during the transfer and is committed by flags_xfer_save on
 * the loop.
 *
 * Creations in flight are counted with cancel.h's flags_tmp_async_begin, so a
 * second signal removes the temporary files of operations still in the ring.
 *
 * Threads: a struct uring belongs to the thread of its loop; the struct
 * uring_shared of a run is shared by its loops.
 */
#ifndef FLAGS_URING_H
#define FLAGS_URING_H

#include <event2/event.h>
#include <linux/stat.h> /* struct statx, whatever the feature macros */
#include <liburing.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "flags.h"

struct flags_xfer;

/* Two-letter codes A-Z x A-Z, plus one bucket for anything else. */
#define URING_CODES (26 * 26 + 1)

/* A code's spare: the file its last save replaced, at a temporary name. */
struct uring_spare {
    bool exists;
    char name[64]; /* ".CC.gif.PID.N.part" */
};

/* What the loops of one run share: which codes have a save in a ring, their
 * spares, and the eventfds that wake each loop. Owned by the caller of the
 * loops. */
struct uring_shared {
    atomic_bool busy[URING_CODES]; /* a save of this code is in some ring */
    atomic_uint deferred;          /* saves waiting for a busy code, all loops */
    atomic_bool no_exchange;       /* RENAME_EXCHANGE unsupported: plain renames */
    atomic_bool no_lease;          /* leases unsupported: nothing is rewritten */
    struct uring_spare *spares;    /* owned: URING_CODES, each touched only by
                                      the holder of its busy flag */
    int dirfd;                     /* the output folder: not owned */
    mode_t mode;                   /* a file we create: 0644 & ~umask */
    uid_t uid;                     /* ... and its owner */
    bool recycle;                  /* the job has a saver: its mode and uid */
    int *efds;                     /* owned: nloops eventfds, one per loop */
    unsigned nloops;
};

/* One save; embedded in the caller's transfer slot. */
struct uring_save {
    struct flags_xfer *x;
    struct flags_result *res; /* the caller's; an error is written into it */
    struct uring_save *next;  /* the loop's deferred list */
    unsigned code;            /* its bucket in uring_shared.busy */
    int fd;                   /* the temporary file while open, else -1 */
    size_t off;               /* body bytes written so far */
    unsigned pending;         /* completions still due */
    unsigned name_try;        /* taken temporary names skipped (EEXIST) */
    bool creating;            /* its openat is in the ring */
    bool waiting;             /* counted in uring_shared.deferred */
    bool exchange;            /* its rename is (or was) RENAME_EXCHANGE */
    bool plain;               /* its rename is the plain one after an exchange */
    int res_own, res_write, res_close, res_rename, res_statx, res_old;
    int err;          /* the error a discard ends with */
    struct statx own; /* the temporary file, through its descriptor */
    struct statx stx; /* CC.gif after the rename */
    struct statx old; /* the temporary name after an exchange: the old CC.gif */
    char name[16];    /* "CC.gif" */
};

struct uring;

/* A save finished: s->res says how (FLAGS_OK, or FLAGS_ERROR with the
 * reason). Called on the loop thread, outside any libcurl callback. */
typedef void (*uring_done_fn)(struct uring_save *s, void *arg);

struct uring {
    struct io_uring ring;
    bool ring_ready;
    int efd;                 /* sh->efds[k]: not owned */
    struct event *efd_ev;    /* owned; watches efd */
    struct event *flush_ev;  /* owned; submits what this iteration queued */
    bool flush_armed;        /* flush_ev is active */
    unsigned queued;         /* SQEs prepared, not yet submitted */
    struct uring_shared *sh; /* not owned */
    const struct flags_job *job;
    struct uring_save *deferred;       /* saves waiting for their code, oldest first */
    struct uring_save **deferred_tail; /* where the next one is linked */
    unsigned inflight;                 /* saves started and not yet done (deferred too) */
    uring_done_fn done;
    void *arg;
    char msg[128]; /* why init or a submission failed */
};

/* Checks that this process may use io_uring with the operations a save
 * needs (a ring can be made, and the kernel offers openat, write, close,
 * renameat and statx). Returns 0, or a negative errno-style code with one
 * line in msg: the kernel's refusal (io_uring disabled by the sysctl, a
 * seccomp filter, an old kernel), which the caller reports as a usage error. */
int uring_probe(char *msg, size_t cap);

/* How uring_probe set the rings up, for the --json record: "coop_taskrun"
 * (IORING_SETUP_COOP_TASKRUN | TASKRUN_FLAG: completions wait for the loop's
 * next system call instead of interrupting it) or "default" (a kernel before
 * 5.19, or no probe run). */
const char *uring_setup_name(void);

/* Prepares sh for nloops loops saving into job's folder: one eventfd each,
 * no spare yet. Returns 0, -ENOMEM, or the eventfd's error. On error sh holds
 * nothing that needs freeing. */
int uring_shared_init(struct uring_shared *sh, unsigned nloops, const struct flags_job *job);

/* Unlinks the idle spare files and closes sh's eventfds. No loop may use it
 * any more. Safe twice. */
void uring_shared_free(struct uring_shared *sh);

/* Makes loop k's ring (entries submissions deep) on base, with its eventfd
 * sh->efds[k] registered and watched. done(arg) is called for each save that
 * ends. Returns 0 or a negative errno-style code with u->msg set; on error
 * call uring_free. */
int uring_init(struct uring *u, struct event_base *base, struct uring_shared *sh, unsigned k,
               unsigned entries, const struct flags_job *job, uring_done_fn done, void *arg);

/* Saves the body of x, which flags_xfer_classify found complete (a 200), as
 * DIR/CC.gif, into *res. s stays the caller's until done is called for it;
 * done is never called from inside this function: the save starts later in
 * this loop iteration, when its code is free. */
void uring_save(struct uring *u, struct uring_save *s, struct flags_xfer *x,
                struct flags_result *res);

/* Waits until every save of u has ended (their done calls included),
 * blocking the thread: the end of a run, after the loop stopped. */
void uring_wait(struct uring *u);

/* Frees what u owns. No save may be in flight. Safe on a failed init and
 * twice. */
void uring_free(struct uring *u);

#endif /* FLAGS_URING_H */
