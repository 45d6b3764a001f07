/* savebench.c -- what an atomic save costs, per file system (issue 12).
 *
 * Saves NFILES flag-sized files (1-20 KiB, a fixed pseudo-random mix) into
 * DIR, one after another on one thread, the way a client saves what it
 * downloads, with each of these methods, and prints the median wall time of
 * ROUNDS rounds per method:
 *
 *   inplace   open(O_TRUNC), write, close: curl's way. NO guarantee: a reader
 *             (or a failed download) sees a partial file. The reference.
 *   rename    write DIR/.name.part, rename over name: flagbench today.
 *   unlink    write .part, unlink name, rename .part to name: a reader may
 *             find no file for a moment; never a partial one.
 *   exchange  write .part, renameat2(RENAME_EXCHANGE) with name, unlink the
 *             .part (which now holds the old file); plain rename when name
 *             does not exist yet.
 *   tmpfile   open(O_TMPFILE) (no name while written), write, linkat to a
 *             .part name, RENAME_EXCHANGE with name, unlink the old one.
 *   tmpunlink open(O_TMPFILE), write, unlink name, linkat to name.
 *   recycle   like exchange, but the old file swapped out under the .part
 *             name is kept and truncated to be the next save's .part: no
 *             inode is created or freed. The names keep the guarantee, but
 *             the OLD INODE IS REWRITTEN: a reader that opened the old file
 *             before the swap, or another hard link to it, sees it change.
 *   guarded   recycle, but the swapped-out file is reused only if it has one
 *             link and a write lease can be taken on it (F_SETLEASE F_WRLCK
 *             fails while anyone else has it open); else it is unlinked and
 *             a new .part is made. After the swap it can only be opened by
 *             its .part name, so the check holds until it is rewritten.
 *   overwrite guarded, but the reused file is not truncated to 0: the body is
 *             written over it from offset 0 and the file cut to its length.
 *             common/save.c's save (one spare here, up to 64 there; save.c
 *             also sets F_SETSIG and fstatat()s the swapped-out file, two
 *             calls of about a microsecond each).
 *
 * Every method but inplace keeps flagbench's guarantee: a failed download
 * (which never reaches the rename/link step) leaves the old file as it was,
 * and no reader ever sees a partial file. Each round starts from NFILES
 * existing files (the benchmark overwrites its output every run), written and
 * synced beforehand, so the time is the replacing only; "first" rounds save
 * into an empty directory. No fsync anywhere, as in the clients.
 *
 * Build and run (not part of ctest; it measures the disk, not the code):
 *   cc -O2 -o /tmp/savebench bench/savebench.c
 *   /tmp/savebench DIR [NFILES [ROUNDS]]     (DIR must exist; it is emptied)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

enum method {
    INPLACE,
    RENAME,
    UNLINK,
    EXCHANGE,
    TMPFILE,
    TMPUNLINK,
    RECYCLE,
    GUARDED,
    OVERWRITE,
    NMETHODS
};
static const char *const names[NMETHODS] = {"inplace",  "rename",  "unlink",
                                            "exchange", "tmpfile", "tmpunlink",
                                            "recycle",  "guarded", "overwrite"};

static char body[20 * 1024];
static unsigned long reused[NMETHODS]; /* saves that reused the swapped-out inode */
static int dirfd_;

static void die(const char *what, const char *name)
{
    fprintf(stderr, "savebench: %s %s: %s\n", what, name ? name : "", strerror(errno));
    exit(1);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t size_of(unsigned i)
{
    return 1024 + (i * 2654435761u) % (19 * 1024);
}

static void write_fd(int fd, size_t n, const char *name)
{
    if (write(fd, body, n) != (ssize_t)n)
        die("write", name);
    if (close(fd) != 0)
        die("close", name);
}

static void save(enum method m, unsigned i)
{
    char name[32], part[48], proc[64];
    size_t n = size_of(i);
    int fd;

    snprintf(name, sizeof(name), "F%05u.gif", i);
    snprintf(part, sizeof(part), ".F%05u.gif.1.%u.part", i, i);
    switch (m) {
    case INPLACE:
        if ((fd = openat(dirfd_, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
            die("open", name);
        write_fd(fd, n, name);
        return;
    case RENAME:
    case UNLINK:
    case EXCHANGE:
        if ((fd = openat(dirfd_, part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0)
            die("open", part);
        write_fd(fd, n, part);
        break;
    case TMPFILE:
    case TMPUNLINK:
        if ((fd = openat(dirfd_, ".", O_WRONLY | O_TMPFILE | O_CLOEXEC, 0644)) < 0)
            die("open O_TMPFILE in", ".");
        if (write(fd, body, n) != (ssize_t)n)
            die("write", "O_TMPFILE");
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        if (m == TMPUNLINK && unlinkat(dirfd_, name, 0) != 0 && errno != ENOENT)
            die("unlink", name);
        if (linkat(AT_FDCWD, proc, dirfd_, m == TMPUNLINK ? name : part, AT_SYMLINK_FOLLOW) != 0)
            die("linkat", name);
        if (close(fd) != 0)
            die("close", name);
        if (m == TMPUNLINK)
            return;
        break;
    case RECYCLE:
        /* One .part name, reused: it holds the file the last save swapped out. */
        snprintf(part, sizeof(part), ".recycled.part");
        if ((fd = openat(dirfd_, part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
            die("open", part);
        write_fd(fd, n, part);
        if (renameat2(dirfd_, part, dirfd_, name, RENAME_EXCHANGE) == 0)
            return; /* the old file stays under part, for the next save */
        if (errno != ENOENT)
            die("renameat2", name);
        break;
    case OVERWRITE:
    case GUARDED: {
        struct stat st;
        snprintf(part, sizeof(part), ".recycled.part");
        fd = openat(dirfd_, part, O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            if (fstat(fd, &st) == 0 && st.st_nlink == 1 && fcntl(fd, F_SETLEASE, F_WRLCK) == 0 &&
                fcntl(fd, F_SETLEASE, F_UNLCK) == 0 && (m == OVERWRITE || ftruncate(fd, 0) == 0)) {
                reused[m]++;
            } else {
                close(fd);
                (void)unlinkat(dirfd_, part, 0);
                fd = -1;
            }
        }
        if (fd < 0 &&
            (fd = openat(dirfd_, part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0)
            die("open", part);
        if (m == OVERWRITE) {
            /* Over the old blocks from offset 0, then cut to the new length:
             * the file is never truncated to 0 (ext4's auto_da_alloc flush). */
            if (pwrite(fd, body, n, 0) != (ssize_t)n || ftruncate(fd, (off_t)n) != 0)
                die("pwrite", part);
            if (close(fd) != 0)
                die("close", part);
        } else {
            write_fd(fd, n, part);
        }
        if (renameat2(dirfd_, part, dirfd_, name, RENAME_EXCHANGE) == 0)
            return;
        if (errno != ENOENT)
            die("renameat2", name);
        break;
    }
    default:
        return;
    }
    if (m == UNLINK && unlinkat(dirfd_, name, 0) != 0 && errno != ENOENT)
        die("unlink", name);
    if (m == EXCHANGE || m == TMPFILE) {
        if (renameat2(dirfd_, part, dirfd_, name, RENAME_EXCHANGE) == 0) {
            if (unlinkat(dirfd_, part, 0) != 0) /* the old file, now under part */
                die("unlink", part);
            return;
        }
        if (errno != ENOENT)
            die("renameat2", name);
    }
    if (renameat(dirfd_, part, dirfd_, name) != 0)
        die("rename", part);
}

static void empty_dir(void)
{
    int fd = dup(dirfd_);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *e;

    if (!d)
        die("opendir", ".");
    rewinddir(d);
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            (void)unlinkat(dirfd_, e->d_name, 0);
    closedir(d);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    unsigned nfiles = argc > 2 ? (unsigned)atoi(argv[2]) : 3320;
    unsigned rounds = argc > 3 ? (unsigned)atoi(argv[3]) : 5;
    static double t[2][NMETHODS][64];

    if (argc < 2 || nfiles == 0 || rounds == 0 || rounds > 64) {
        fprintf(stderr, "usage: savebench DIR [NFILES [ROUNDS<=64]]\n");
        return 2;
    }
    if ((dirfd_ = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
        die("open", argv[1]);
    memcpy(body, "GIF89a", 6);
    for (size_t i = 6; i < sizeof(body); i++)
        body[i] = (char)(i * 31);

    /* Rounds interleave the methods, so drift in the machine's load spreads
     * over all of them. */
    for (unsigned r = 0; r < rounds; r++) {
        for (int first = 0; first <= 1; first++) {
            for (int m = 0; m < NMETHODS; m++) {
                empty_dir();
                if (!first)
                    for (unsigned i = 0; i < nfiles; i++)
                        save(INPLACE, i);
                sync();
                double t0 = now();
                for (unsigned i = 0; i < nfiles; i++)
                    save((enum method)m, i);
                t[first][m][r] = now() - t0;
                sync(); /* the next method does not pay for this one's writeback */
            }
        }
    }
    empty_dir();

    printf("%s: %u files of 1-20 KiB, median of %u rounds (ms)\n", argv[1], nfiles, rounds);
    printf("%-10s %12s %12s\n", "method", "replace", "first save");
    for (int m = 0; m < NMETHODS; m++) {
        qsort(t[0][m], rounds, sizeof(double), cmp_double);
        qsort(t[1][m], rounds, sizeof(double), cmp_double);
        printf("%-10s %12.1f %12.1f\n", names[m], t[0][m][rounds / 2] * 1e3,
               t[1][m][rounds / 2] * 1e3);
    }
    for (int m = GUARDED; m <= OVERWRITE; m++)
        printf("%s: %lu of %u replacing saves reused the old inode\n", names[m], reused[m] / rounds,
               nfiles);
    return 0;
}
