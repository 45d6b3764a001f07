/* tls.c -- flagserver's HTTPS; see tls.h.
 *
 * Every SSL we create carries a struct tls_conn in its ex_data: whether its
 * handshake completed, and a deadline timer. The SSL belongs to its
 * bufferevent (BEV_OPT_CLOSE_ON_FREE), which evhttp frees with its
 * connection; the ex_data free callback then frees the tls_conn and counts
 * a handshake that never completed as failed. So every way a connection can
 * end (evhttp closing it on an error, EOF or timeout, our deadline, the
 * server shutting down) is counted exactly once, and nothing here needs to
 * know about evhttp's connection objects.
 */
#include "tls.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/pem.h>

struct tls_conn {
    struct fsrv_tls *tls;
    struct bufferevent *bev; /* owns the SSL, and so this */
    struct event *deadline;  /* FSRV_TLS_HANDSHAKE_TIMEOUT_S after accept */
    bool done;               /* handshake completed (and counted) */
};

/* The ex_data index of struct tls_conn, registered once per process. */
static int conn_index = -1;

static const unsigned char session_id_context[] = "flagserver";

/* The handshake did not complete in time: shutting the socket down makes
 * the bufferevent see EOF, so evhttp frees the connection the usual way
 * (and the free callback counts the failure). */
static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct tls_conn *conn = arg;
    evutil_socket_t sock = bufferevent_getfd(conn->bev);

    (void)fd;
    (void)what;
    if (!conn->done && sock >= 0)
        (void)shutdown(sock, SHUT_RDWR); /* cannot fail on a connected socket */
}

/* SSL_CTX info callback: counts the first completed handshake of an SSL
 * (a TLS 1.3 server may report "done" again after sending tickets). */
static void on_info(const SSL *ssl, int where, int ret)
{
    struct tls_conn *conn;

    (void)ret;
    if (!(where & SSL_CB_HANDSHAKE_DONE))
        return;
    conn = SSL_get_ex_data(ssl, conn_index);
    if (conn == NULL || conn->done)
        return;
    conn->done = true;
    event_del(conn->deadline);
    stats_tls_handshake(conn->tls->stats, SSL_session_reused(ssl) != 0);
}

/* ex_data free callback, run by SSL_free. */
static void on_ssl_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
    struct tls_conn *conn = ptr;

    (void)parent;
    (void)ad;
    (void)idx;
    (void)argl;
    (void)argp;
    if (conn == NULL)
        return;
    if (!conn->done)
        stats_tls_failed(conn->tls->stats);
    event_free(conn->deadline);
    free(conn);
}

struct bufferevent *fsrv_tls_bevcb(struct event_base *base, void *arg)
{
    struct fsrv_tls *tls = arg;
    struct timeval tv = {.tv_sec = FSRV_TLS_HANDSHAKE_TIMEOUT_S, .tv_usec = 0};
    struct tls_conn *conn = NULL;
    struct bufferevent *bev;
    SSL *ssl;

    ssl = SSL_new(tls->ctx);
    if (ssl == NULL)
        return NULL;
    conn = calloc(1, sizeof(*conn));
    if (conn == NULL)
        goto fail;
    conn->tls = tls;
    conn->deadline = evtimer_new(base, on_deadline, conn);
    if (conn->deadline == NULL)
        goto fail;
    if (SSL_set_ex_data(ssl, conn_index, conn) != 1)
        goto fail;
    /* From here SSL_free frees conn. On failure libevent frees the SSL. */
    bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                         BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL)
        return NULL;
    conn->bev = bev;
    /* A client closing without close_notify is an EOF, as for nginx. */
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    if (evtimer_add(conn->deadline, &tv) != 0) {
        bufferevent_free(bev);
        return NULL;
    }
    return bev;
fail:
    if (conn != NULL && conn->deadline != NULL)
        event_free(conn->deadline);
    free(conn);
    (void)SSL_set_ex_data(ssl, conn_index, NULL);
    SSL_free(ssl);
    return NULL;
}

void fsrv_tls_close_notify(struct bufferevent *bev)
{
    SSL *ssl = bev != NULL ? bufferevent_openssl_get_ssl(bev) : NULL;

    /* Non-blocking: writes the alert if the socket takes it, never waits
     * for the peer's; a peer already gone makes it fail, which is fine. */
    if (ssl != NULL && SSL_is_init_finished(ssl) && SSL_shutdown(ssl) < 0)
        ERR_clear_error();
}

/* Never asks for a passphrase: an encrypted key is an error, not a prompt. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen, const char *fmt,
                                                      ...)
{
    va_list ap;

    ERR_clear_error();
    if (errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* Loads CERT and KEY into TLS->ctx. */
static int load_pair(struct fsrv_tls *tls, const char *cert, const char *key, char *err,
                     size_t errlen)
{
    EVP_PKEY *pkey = NULL;
    FILE *f;
    int rc = 0;

    /* Opened first for the errno: OpenSSL's own message is not one line. */
    f = fopen(cert, "r");
    if (f == NULL)
        return fail(err, errlen, "--tls-cert '%s': %s", cert, strerror(errno));
    fclose(f);
    if (SSL_CTX_use_certificate_chain_file(tls->ctx, cert) != 1)
        return fail(err, errlen, "--tls-cert '%s': not a PEM certificate", cert);
    f = fopen(key, "r");
    if (f == NULL)
        return fail(err, errlen, "--tls-key '%s': %s", key, strerror(errno));
    pkey = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
    fclose(f);
    if (pkey == NULL)
        return fail(err, errlen, "--tls-key '%s': not an unencrypted PEM private key", key);
    if (SSL_CTX_use_PrivateKey(tls->ctx, pkey) != 1 || SSL_CTX_check_private_key(tls->ctx) != 1)
        rc = fail(err, errlen, "--tls-key '%s' does not match --tls-cert '%s'", key, cert);
    EVP_PKEY_free(pkey);
    return rc;
}

int fsrv_tls_init(struct fsrv_tls *tls, struct event_base *base, struct stats *stats,
                  const char *cert, const char *key, bool resume, char *err, size_t errlen)
{
    int rc;

    *tls = (struct fsrv_tls){.base = base, .stats = stats};
    if (errlen > 0)
        err[0] = '\0';
    if (conn_index < 0)
        conn_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, on_ssl_free);
    if (conn_index < 0)
        return -ENOMEM;
    tls->ctx = SSL_CTX_new(TLS_server_method());
    if (tls->ctx == NULL)
        return -ENOMEM;
    if (SSL_CTX_set_min_proto_version(tls->ctx, TLS1_2_VERSION) != 1)
        return -EINVAL;
    /* A client closing TCP without close_notify (or half-closing after its
     * request) is an end of input, not an error: without
     * SSL_OP_IGNORE_UNEXPECTED_EOF OpenSSL 3 answers it with a fatal
     * decode_error alert, which spoils a response still being read. */
    SSL_CTX_set_options(tls->ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                      SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_info_callback(tls->ctx, on_info);
    rc = load_pair(tls, cert, key, err, errlen);
    if (rc != 0)
        return rc;
    /* A session is resumable only within this context id. */
    if (SSL_CTX_set_session_id_context(tls->ctx, session_id_context,
                                       sizeof(session_id_context) - 1) != 1)
        return -EINVAL;
    if (resume) {
        /* Tickets (stateless; TLS 1.3 sends two after a full handshake) and
         * the server cache (TLS 1.2 session ids) are OpenSSL's defaults. */
        SSL_CTX_set_session_cache_mode(tls->ctx, SSL_SESS_CACHE_SERVER);
    } else {
        SSL_CTX_set_options(tls->ctx, SSL_OP_NO_TICKET);
        (void)SSL_CTX_set_num_tickets(tls->ctx, 0);
        SSL_CTX_set_session_cache_mode(tls->ctx, SSL_SESS_CACHE_OFF);
    }
    return 0;
}

/* ALPN: "h2" if the client offers it; a client that offers only other
 * protocols gets a fatal no_application_protocol alert (RFC 7301), so an
 * HTTP/1.1-only client fails at the handshake instead of sending HTTP/1.1 to
 * an HTTP/2 server. */
static int on_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                          const unsigned char *in, unsigned int inlen, void *arg)
{
    static const unsigned char h2[] = {2, 'h', '2'};

    (void)ssl;
    (void)arg;
    if (SSL_select_next_proto((unsigned char **)out, outlen, h2, sizeof(h2), in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    return SSL_TLSEXT_ERR_OK;
}

void fsrv_tls_alpn_h2(struct fsrv_tls *tls)
{
    SSL_CTX_set_alpn_select_cb(tls->ctx, on_alpn_select, NULL);
}

void fsrv_tls_free(struct fsrv_tls *tls)
{
    SSL_CTX_free(tls->ctx); /* accepts NULL */
    tls->ctx = NULL;
}
