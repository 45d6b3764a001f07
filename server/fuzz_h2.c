/* fuzz_h2.c -- libFuzzer target for flagserver's HTTP/2 input path.
 *
 * Each input is what a client sends on an h2c connection after the client
 * preface (which is prepended, so the fuzzer spends its time on frames): it
 * goes through nghttp2_session_mem_recv on a server session wired to h2.c's
 * callbacks, with no socket (fsrv_h2_feed), against a small in-memory store.
 * The first byte picks the error kind (none, status, reset, stall) so the
 * fault paths run too; delays are 0, so every complete request is answered
 * within the input. Beyond ASan/UBSan, the oracle is the accounting: once
 * the connection is freed, nothing is in flight and no connection is open.
 * A violation aborts, which libFuzzer reports with the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "config.h"
#include "decide.h"
#include "h2.h"
#include "stats.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

static struct event_base *base;
static struct store store;
static struct stats stats;
static unsigned char flag[600]; /* /flags/br/br.gif: 600 bytes */
static unsigned char tiny[1];   /* /flags/us/us.gif: too short to cut in half */

static void setup(void)
{
    memset(flag, 'G', sizeof(flag));
    store.table[('b' - 'a') * 26 + ('r' - 'a')] = (struct store_entry){flag, sizeof(flag)};
    store.table[('u' - 'a') * 26 + ('s' - 'a')] = (struct store_entry){tiny, sizeof(tiny)};
    store.count = 2;
    base = event_base_new();
    if (base == NULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum fsrv_fault kinds[] = {FSRV_FAULT_NONE, FSRV_FAULT_STATUS, FSRV_FAULT_RESET,
                                            FSRV_FAULT_STALL};
    struct fsrv_config cfg = {.bind = "127.0.0.1",
                              .dir = ".",
                              .seed = 1,
                              .quiet = true,
                              .http2 = true,
                              .h2_max_streams = 4,
                              .h2_timeout_s = 1};
    struct fsrv_site site = {.cfg = &cfg, .store = &store, .stats = &stats, .rng = 1};
    struct fsrv_h2 h2;
    uint8_t *buf;

    if (base == NULL)
        setup();
    if (size == 0)
        return 0;
    cfg.error_kind = kinds[data[0] & 3];
    cfg.error_rate = cfg.error_kind == FSRV_FAULT_NONE ? 0.0 : 0.5;
    if (cfg.error_kind == FSRV_FAULT_NONE)
        cfg.error_kind = FSRV_FAULT_STATUS;
    stats_init(&stats);
    buf = malloc(sizeof(preface) - 1 + size - 1);
    if (buf == NULL || fsrv_h2_init(&h2, base, &site, NULL, NULL, NULL, NULL) != 0)
        abort();
    memcpy(buf, preface, sizeof(preface) - 1);
    memcpy(buf + sizeof(preface) - 1, data + 1, size - 1);
    (void)fsrv_h2_feed(&h2, buf, sizeof(preface) - 1 + size - 1);
    fsrv_h2_free(&h2);
    free(buf);
    if (stats.in_flight != 0 || stats.connections != 0)
        abort();
    return 0;
}
