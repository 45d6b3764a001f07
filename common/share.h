/* share.h -- what every easy handle of one run shares: TLS sessions.
 *
 * One CURLSH per run, made by the common main and set as CURLOPT_SHARE on
 * every easy handle (flags_xfer_init), whichever backend and variant runs
 * them. It shares CURL_LOCK_DATA_SSL_SESSION only: a session (ticket) one
 * transfer got from the server is offered by the next handshake of any
 * transfer, so both designs resume TLS sessions alike. Connections are not
 * shared: keep-alive stays per easy handle (pool) or per multi handle (loop),
 * as the designs have it (docs/client.md).
 *
 * The lock callbacks take one pthread mutex per lock_data kind, so the share
 * is safe from the pool's workers and from --loops N loop threads.
 */
#ifndef FLAGS_SHARE_H
#define FLAGS_SHARE_H

#include <curl/curl.h>
#include <pthread.h>

struct flags_share {
    CURLSH *sh;                                 /* owned; NULL before init */
    pthread_mutex_t locks[CURL_LOCK_DATA_LAST]; /* one per curl_lock_data */
    int nlocks;                                 /* how many are initialised */
};

/* Creates the share with its lock callbacks. curl_global_init must have run.
 * Returns 0, -ENOMEM, or -EINVAL if libcurl refused an option; on error s
 * holds nothing that needs freeing. */
int flags_share_init(struct flags_share *s);

/* Frees the share. Every easy handle that used it must have been cleaned up
 * first; returns 0, or -EBUSY if one still uses it (then nothing is freed).
 * Safe on a zeroed or freed s. */
int flags_share_free(struct flags_share *s);

#endif /* FLAGS_SHARE_H */
