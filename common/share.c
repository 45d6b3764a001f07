/* share.c -- the run's CURLSH: TLS sessions shared across easy handles. */
#include "share.h"

#include <errno.h>
#include <string.h>

static void on_lock(CURL *easy, curl_lock_data data, curl_lock_access access, void *userp)
{
    struct flags_share *s = userp;
    (void)easy, (void)access;
    /* Shared and single access alike take the mutex: the session cache is
     * small and each use is short. */
    if ((int)data >= 0 && (int)data < s->nlocks)
        pthread_mutex_lock(&s->locks[data]);
}

static void on_unlock(CURL *easy, curl_lock_data data, void *userp)
{
    struct flags_share *s = userp;
    (void)easy;
    if ((int)data >= 0 && (int)data < s->nlocks)
        pthread_mutex_unlock(&s->locks[data]);
}

int flags_share_init(struct flags_share *s)
{
    memset(s, 0, sizeof(*s));
    for (; s->nlocks < CURL_LOCK_DATA_LAST; s->nlocks++) {
        if (pthread_mutex_init(&s->locks[s->nlocks], NULL) != 0) {
            flags_share_free(s);
            return -ENOMEM;
        }
    }
    if (!(s->sh = curl_share_init())) {
        flags_share_free(s);
        return -ENOMEM;
    }
    if (curl_share_setopt(s->sh, CURLSHOPT_LOCKFUNC, on_lock) != CURLSHE_OK ||
        curl_share_setopt(s->sh, CURLSHOPT_UNLOCKFUNC, on_unlock) != CURLSHE_OK ||
        curl_share_setopt(s->sh, CURLSHOPT_USERDATA, s) != CURLSHE_OK ||
        curl_share_setopt(s->sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK) {
        flags_share_free(s);
        return -EINVAL;
    }
    return 0;
}

int flags_share_free(struct flags_share *s)
{
    if (s->sh) {
        if (curl_share_cleanup(s->sh) == CURLSHE_IN_USE)
            return -EBUSY;
        s->sh = NULL;
    }
    for (int i = 0; i < s->nlocks; i++)
        pthread_mutex_destroy(&s->locks[i]);
    s->nlocks = 0;
    return 0;
}
