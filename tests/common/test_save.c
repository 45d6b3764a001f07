/* test_save.c -- unit tests of common/save.c, the recycling atomic save.
 *
 * Usage: test_save DIR...  Each DIR (on the file system under test: ext4,
 * tmpfs) gets a fresh subfolder. What is checked: a save replaces the file
 * and recycles the swapped-out one; a hard link to the old file, a reader
 * holding it open and an mmap of it all keep the OLD content; a concurrent
 * reader never sees a partial file, and one that reaches a spare being
 * rewritten waits for the rewrite's close; a failed save leaves the old file and no
 * temporary file; a directory in the way stays; flags_saver_free leaves no
 * spare file; without RENAME_EXCHANGE or leases a save is temp + rename.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "save.h"

#define BIG 20000

static int dirfd_;

/* The content of file name, NUL-terminated, into buf (cap bytes); returns
 * its length or -1. */
static ssize_t slurp(const char *name, char *buf, size_t cap)
{
    int fd = openat(dirfd_, name, O_RDONLY | O_CLOEXEC);
    ssize_t n, len = 0;

    if (fd < 0)
        return -1;
    while ((size_t)len < cap - 1 && (n = read(fd, buf + len, cap - 1 - (size_t)len)) > 0)
        len += n;
    close(fd);
    buf[len] = '\0';
    return len;
}

static bool content_is(const char *name, const char *want)
{
    static char buf[BIG * 2];
    ssize_t n = slurp(name, buf, sizeof(buf));
    return n >= 0 && strcmp(buf, want) == 0;
}

static ino_t inode_of(const char *name)
{
    struct stat st;
    return fstatat(dirfd_, name, &st, 0) == 0 ? st.st_ino : 0;
}

static int save_str(struct flags_saver *s, const char *name, const char *text)
{
    return flags_saver_save(s, name, text, strlen(text));
}

/* Files in the test folder whose name starts with '.' (every temporary and
 * spare file does), "." and ".." aside. */
static int dot_files(void)
{
    int fd = openat(dirfd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), n = 0;
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *e;

    if (!d)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] == '.' && strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

/* Replacing works, and recycles: the file swapped out of X.gif is the one
 * the next save rewrites. Without this, the guard tests below could pass
 * because nothing is ever recycled. */
static void test_recycles(struct flags_saver *s)
{
    CHECK_EQ_LONG(save_str(s, "X.gif", "first"), 0);
    CHECK(content_is("X.gif", "first"));
    CHECK_EQ_LONG(dot_files(), 0); /* a first save consumes its spare */
    ino_t old = inode_of("X.gif");
    CHECK_EQ_LONG(save_str(s, "X.gif", "second, longer"), 0);
    CHECK(content_is("X.gif", "second, longer"));
    CHECK_EQ_LONG(dot_files(), 1); /* the old file, now the spare */
    unsigned long before = atomic_load(&s->recycled);
    CHECK_EQ_LONG(save_str(s, "Y.gif", "y"), 0); /* shorter: cut to length */
    CHECK(content_is("Y.gif", "y"));
    CHECK_EQ_LONG(inode_of("Y.gif"), old);
    CHECK_EQ_LONG(atomic_load(&s->recycled), before + 1);
    CHECK(content_is("X.gif", "second, longer"));
}

/* A hard link to the old file keeps the old content. */
static void test_hard_link(struct flags_saver *s)
{
    CHECK_EQ_LONG(save_str(s, "L.gif", "linked old content"), 0);
    CHECK_EQ_LONG(linkat(dirfd_, "L.gif", dirfd_, "link-to-old", 0), 0);
    CHECK_EQ_LONG(save_str(s, "L.gif", "new"), 0);
    CHECK_EQ_LONG(save_str(s, "Z.gif", "would overwrite the old inode"), 0);
    CHECK(content_is("link-to-old", "linked old content"));
    CHECK(content_is("L.gif", "new"));
    CHECK(content_is("Z.gif", "would overwrite the old inode"));
    unlinkat(dirfd_, "link-to-old", 0);
}

/* A reader that opened the old file before the swap reads the old content,
 * as does an mmap of it whose descriptor was closed. */
static void test_open_reader_and_mmap(struct flags_saver *s)
{
    char buf[64] = {0};
    CHECK_EQ_LONG(save_str(s, "R.gif", "read me whole"), 0);
    int fd = openat(dirfd_, "R.gif", O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    CHECK_EQ_LONG(save_str(s, "R.gif", "new R"), 0);
    CHECK_EQ_LONG(save_str(s, "Q.gif", "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"), 0);
    CHECK_EQ_LONG(pread(fd, buf, sizeof(buf) - 1, 0), 13);
    CHECK_EQ_STR(buf, "read me whole");
    close(fd);

    CHECK_EQ_LONG(save_str(s, "M.gif", "mapped content"), 0);
    fd = openat(dirfd_, "M.gif", O_RDONLY | O_CLOEXEC);
    char *p = mmap(NULL, 14, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(p != MAP_FAILED);
    close(fd);
    CHECK_EQ_LONG(save_str(s, "M.gif", "new M"), 0);
    CHECK_EQ_LONG(save_str(s, "P.gif", "YYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYY"), 0);
    if (p != MAP_FAILED) {
        CHECK(memcmp(p, "mapped content", 14) == 0);
        munmap(p, 14);
    }
}

/* The race test_never_partial can only sample, made certain: a reader whose
 * open reaches a spare while it is being rewritten (it looked the name up
 * before the exchange that made the file a spare) waits until the rewrite is
 * closed, and then reads all of it. With the lease released at once, the
 * open returns at once and reads whatever is there. */
struct late_reader {
    atomic_bool started, opened;
    char buf[64];
};

static void *late_reader_thread(void *arg)
{
    struct late_reader *lr = arg;

    atomic_store(&lr->started, true);
    int fd = openat(dirfd_, "S.spare", O_RDONLY | O_CLOEXEC);
    atomic_store(&lr->opened, true);
    if (fd >= 0) {
        ssize_t n = pread(fd, lr->buf, sizeof(lr->buf) - 1, 0);
        lr->buf[n > 0 ? n : 0] = '\0';
        close(fd);
    }
    return NULL;
}

static void test_lease_held_while_rewriting(struct flags_saver *s)
{
    struct late_reader lr = {.buf = "(not read)"};
    struct stat st;
    atomic_bool no_lease = false;
    pthread_t t;

    int fd = openat(dirfd_, "S.spare", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    CHECK(fd >= 0);
    CHECK_EQ_LONG(write(fd, "old old old old", 15), 15);
    close(fd);
    fd = flags_spare_open(dirfd_, "S.spare", s->uid, s->mode, &no_lease, &st);
    CHECK(fd >= 0);
    CHECK_EQ_LONG(pthread_create(&t, NULL, late_reader_thread, &lr), 0);
    while (!atomic_load(&lr.started))
        usleep(1000);
    usleep(200 * 1000);
    CHECK(!atomic_load(&lr.opened)); /* held off by the lease */
    CHECK_EQ_LONG(pwrite(fd, "new", 3, 0), 3);
    usleep(50 * 1000); /* a reader let through now would read "newold ..." */
    CHECK_EQ_LONG(ftruncate(fd, 3), 0);
    CHECK_EQ_LONG(close(fd), 0);
    pthread_join(t, NULL);
    CHECK_EQ_STR(lr.buf, "new");
    CHECK(!atomic_load(&no_lease));
    unlinkat(dirfd_, "S.spare", 0);
}

/* A save that fails (here: the file size limit) leaves the old file as it
 * was and no file of its own, whether it wrote a new spare or a recycled one. */
static void test_failed_save(struct flags_saver *s)
{
    static char big[BIG];
    struct rlimit old, lim;

    memset(big, 'f', sizeof(big));
    CHECK_EQ_LONG(save_str(s, "F.gif", "old F"), 0);
    CHECK_EQ_LONG(save_str(s, "F.gif", "old F again"), 0); /* a spare is idle */
    int spares = dot_files();
    CHECK_EQ_LONG(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 1000;
    CHECK_EQ_LONG(setrlimit(RLIMIT_FSIZE, &lim), 0);
    CHECK_EQ_LONG(flags_saver_save(s, "F.gif", big, sizeof(big)), -EFBIG); /* recycled spare */
    CHECK_EQ_LONG(flags_saver_save(s, "F.gif", big, sizeof(big)), -EFBIG); /* a new one */
    CHECK_EQ_LONG(setrlimit(RLIMIT_FSIZE, &old), 0);
    CHECK(content_is("F.gif", "old F again"));
    CHECK_EQ_LONG(dot_files(), spares - 1); /* the failed spare went, nothing came */
}

/* A directory where the file should be stays, and the save fails as
 * rename(2) over it would. */
static void test_directory_in_the_way(struct flags_saver *s)
{
    struct stat st;
    CHECK_EQ_LONG(mkdirat(dirfd_, "D.gif", 0755), 0);
    CHECK_EQ_LONG(save_str(s, "D.gif", "not a directory"), -EISDIR);
    CHECK(fstatat(dirfd_, "D.gif", &st, 0) == 0 && S_ISDIR(st.st_mode));
    unlinkat(dirfd_, "D.gif", AT_REMOVEDIR);
}

/* Issue 19, case 2: DIR_SAVERS threads save one name with a directory in the
 * way. Every save must fail with -EISDIR and the directory stay: a save that
 * returned 0 would be a file reported saved that is not at its name. */
#define DIR_SAVERS 8
#define DIR_SAVES  200

struct dir_race {
    struct flags_saver *s;
    atomic_long ok, eisdir, other;
};

static void *dir_saver_thread(void *arg)
{
    struct dir_race *r = arg;

    for (int i = 0; i < DIR_SAVES; i++) {
        int rc = save_str(r->s, "D.gif", "not a directory");
        atomic_fetch_add(rc == 0 ? &r->ok : rc == -EISDIR ? &r->eisdir : &r->other, 1);
    }
    return NULL;
}

static void test_directory_in_the_way_concurrent(struct flags_saver *s)
{
    struct dir_race r = {.s = s};
    pthread_t t[DIR_SAVERS];
    struct stat st;

    CHECK_EQ_LONG(mkdirat(dirfd_, "D.gif", 0755), 0);
    for (int i = 0; i < DIR_SAVERS; i++)
        CHECK_EQ_LONG(pthread_create(&t[i], NULL, dir_saver_thread, &r), 0);
    for (int i = 0; i < DIR_SAVERS; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ_LONG(atomic_load(&r.ok), 0);
    CHECK_EQ_LONG(atomic_load(&r.other), 0);
    CHECK_EQ_LONG(atomic_load(&r.eisdir), DIR_SAVERS * DIR_SAVES);
    CHECK(fstatat(dirfd_, "D.gif", &st, 0) == 0 && S_ISDIR(st.st_mode));
    unlinkat(dirfd_, "D.gif", AT_REMOVEDIR);
}

/* Concurrent savers and a reader: every read of C.gif is one whole body,
 * never a mix or a part. Bodies are BIG or BIG/4 bytes of one letter; the
 * letter says which length is right. */
struct race {
    struct flags_saver *s;
    atomic_bool stop;
    atomic_long reads, bad, failed; /* bad: a read not one whole body; failed: a save's error */
    atomic_int last_error;          /* the last failed save's negative errno */
    int id;
};

static void *saver_thread(void *arg)
{
    struct race *r = arg;
    static char bodies[2][4][BIG];
    char(*b)[BIG] = bodies[r->id];
    const char names[2][8] = {"C.gif", "E.gif"};

    for (int k = 0; k < 4; k++)
        memset(b[k], 'a' + r->id * 4 + k, BIG);
    for (int i = 0; i < 1500; i++) {
        int k = i % 4;
        size_t n = k % 2 ? BIG / 4 : BIG;
        /* C.gif from both threads, E.gif from thread 0 only: spares move
         * between the names. */
        const char *name = r->id == 0 && i % 3 == 0 ? names[1] : names[0];
        int rc = flags_saver_save(r->s, name, b[k], n);
        if (rc != 0) {
            atomic_store(&r->last_error, rc);
            atomic_fetch_add(&r->failed, 1);
        }
    }
    return NULL;
}

static void *reader_thread(void *arg)
{
    struct race *r = arg;
    static char buf[BIG + 16];

    while (!atomic_load(&r->stop)) {
        ssize_t n = slurp("C.gif", buf, sizeof(buf));
        if (n < 0)
            continue;
        int k = (buf[0] - 'a') % 4;
        size_t want = k % 2 ? BIG / 4 : BIG;
        bool whole = n == (ssize_t)want;
        for (ssize_t i = 0; whole && i < n; i++)
            whole = buf[i] == buf[0];
        if (!whole)
            atomic_fetch_add(&r->bad, 1);
        atomic_fetch_add(&r->reads, 1);
    }
    return NULL;
}

static void test_never_partial(struct flags_saver *s)
{
    struct race r[2] = {{.s = s, .id = 0}, {.s = s, .id = 1}};
    pthread_t t[3];

    atomic_init(&r[0].stop, false);
    CHECK_EQ_LONG(save_str(s, "C.gif", "aaaa"), 0); /* 'a', but 4 bytes: never read */
    unsigned long before = atomic_load(&s->recycled);
    CHECK_EQ_LONG(flags_saver_save(s, "C.gif", memset((char[BIG]){0}, 'a', BIG), BIG), 0);
    CHECK_EQ_LONG(pthread_create(&t[2], NULL, reader_thread, &r[0]), 0);
    CHECK_EQ_LONG(pthread_create(&t[0], NULL, saver_thread, &r[0]), 0);
    CHECK_EQ_LONG(pthread_create(&t[1], NULL, saver_thread, &r[1]), 0);
    pthread_join(t[0], NULL);
    pthread_join(t[1], NULL);
    atomic_store(&r[0].stop, true);
    pthread_join(t[2], NULL);
    printf("never partial: %ld reads, %lu of 3,000 saves recycled\n", atomic_load(&r[0].reads),
           atomic_load(&s->recycled) - before);
    /* told apart, so a failure says which guarantee broke */
    CHECK_EQ_LONG(atomic_load(&r[0].bad), 0); /* a reader saw a partial or mixed file */
    for (int i = 0; i < 2; i++)
        if (atomic_load(&r[i].failed))
            printf("saver %d: %ld save(s) failed, the last with %s\n", i, atomic_load(&r[i].failed),
                   strerror(-atomic_load(&r[i].last_error)));
    CHECK_EQ_LONG(atomic_load(&r[0].failed) + atomic_load(&r[1].failed), 0);
    CHECK(atomic_load(&r[0].reads) > 0);
    CHECK(atomic_load(&s->recycled) - before > 0);
}

/* Where RENAME_EXCHANGE or leases are missing, every save is a new file
 * renamed over the name: nothing recycled, no spare kept. (The detection
 * itself needs a kernel or file system without them; here the flags it sets
 * are set by hand.) */
static void test_fallback(int which)
{
    struct flags_saver f;

    CHECK_EQ_LONG(flags_saver_init(&f, dirfd_), 0);
    atomic_store(which ? &f.no_lease : &f.no_exchange, true);
    CHECK_EQ_LONG(save_str(&f, "G.gif", "old G"), 0);
    CHECK_EQ_LONG(linkat(dirfd_, "G.gif", dirfd_, "link-to-G", 0), 0);
    ino_t old = inode_of("G.gif");
    CHECK_EQ_LONG(save_str(&f, "G.gif", "new G"), 0);
    CHECK_EQ_LONG(save_str(&f, "H.gif", "H"), 0);
    CHECK(content_is("G.gif", "new G"));
    CHECK(content_is("H.gif", "H"));
    CHECK(content_is("link-to-G", "old G"));
    CHECK(inode_of("G.gif") != old && inode_of("H.gif") != old);
    /* Without the link, "new G" would be recycled for H.gif. */
    CHECK_EQ_LONG(save_str(&f, "G.gif", "G, third"), 0);
    CHECK_EQ_LONG(dot_files(), 0);
    CHECK_EQ_LONG(save_str(&f, "H.gif", "H, second"), 0);
    CHECK(content_is("G.gif", "G, third"));
    CHECK(content_is("H.gif", "H, second"));
    CHECK_EQ_LONG(atomic_load(&f.recycled), 0);
    CHECK_EQ_LONG(atomic_load(&f.created), 5);
    CHECK_EQ_LONG(dot_files(), 0);
    flags_saver_free(&f);
    unlinkat(dirfd_, "link-to-G", 0);
    unlinkat(dirfd_, "G.gif", 0);
    unlinkat(dirfd_, "H.gif", 0);
}

static void run_in(const char *parent)
{
    char path[4096];
    struct flags_saver s;

    snprintf(path, sizeof(path), "%s/test_save.XXXXXX", parent);
    if (!mkdtemp(path)) {
        fprintf(stderr, "test_save: cannot make a folder in %s: %s\n", parent, strerror(errno));
        CHECK(0);
        return;
    }
    printf("in %s\n", path);
    dirfd_ = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK(dirfd_ >= 0);
    test_fallback(0);
    test_fallback(1);
    CHECK_EQ_LONG(flags_saver_init(&s, dirfd_), 0);
    test_recycles(&s);
    test_hard_link(&s);
    test_open_reader_and_mmap(&s);
    test_lease_held_while_rewriting(&s);
    test_failed_save(&s);
    test_directory_in_the_way(&s);
    test_directory_in_the_way_concurrent(&s);
    test_never_partial(&s);
    CHECK(!atomic_load(&s.no_exchange) && !atomic_load(&s.no_lease)); /* recycling was tested */
    CHECK(dot_files() > 0);                                           /* spares wait ... */
    flags_saver_free(&s);
    CHECK_EQ_LONG(dot_files(), 0); /* ... and are gone */
    flags_saver_free(&s);          /* twice is fine */

    /* Clean up the folder. */
    const char *names[] = {"X.gif", "Y.gif", "Z.gif", "L.gif", "R.gif", "Q.gif",
                           "M.gif", "P.gif", "F.gif", "C.gif", "E.gif"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        unlinkat(dirfd_, names[i], 0);
    close(dirfd_);
    CHECK_EQ_LONG(rmdir(path), 0);
}

int main(int argc, char **argv)
{
    signal(SIGXFSZ, SIG_IGN); /* as the clients: EFBIG, not death */
    if (argc < 2) {
        fprintf(stderr, "usage: test_save DIR...\n");
        return 2;
    }
    for (int i = 1; i < argc; i++)
        run_in(argv[i]);
    return CHECK_DONE();
}
