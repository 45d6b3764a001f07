/* stats.h -- flagserver's counters and their JSON form (GET /stats).
 *
 * Counters count flag requests only: /stats requests are never counted.
 * Gauges (in_flight, connections) are live values; their peaks are the
 * largest values seen since start or the last stats_reset().
 */
#ifndef FLAGSERVER_STATS_H
#define FLAGSERVER_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATS_STATUS_MIN 100
#define STATS_STATUS_MAX 599

/* The protocol a connection speaks (HTTP/2 over TLS is "h2", in clear
 * "h2c", as their ALPN and upgrade tokens). */
enum stats_proto { STATS_PROTO_HTTP1, STATS_PROTO_H2, STATS_PROTO_H2C, STATS_PROTO_COUNT };

/* Why the HTTP/2 front end cut a stream or a connection short: its defences
 * (docs/flagserver.md, "HTTP/2"). */
enum stats_h2_defence {
    STATS_H2_RAPID_RESET,    /* RST_STREAMs over the rate: GOAWAY */
    STATS_H2_FLOOD,          /* control frames queued past the bound (SETTINGS/PING) */
    STATS_H2_HEADER_LIMIT,   /* a header block over the list size: the stream is reset */
    STATS_H2_STREAM_TIMEOUT, /* a response without progress for --h2-timeout: reset */
    STATS_H2_IDLE_TIMEOUT,   /* a connection without streams for the idle timeout */
    STATS_H2_PROTOCOL_ERROR, /* the client broke the protocol: GOAWAY from nghttp2 */
    STATS_H2_DEFENCE_COUNT
};

struct stats {
    uint64_t requests; /* flag requests received */
    uint64_t requests_by_proto[STATS_PROTO_COUNT];
    uint64_t connections_by_proto[STATS_PROTO_COUNT]; /* opened (at their first request) */
    uint64_t streams;                     /* HTTP/2 streams a client opened, /stats included */
    uint64_t peak_streams_per_connection; /* most streams open at once on one connection */
    uint64_t h2_defences[STATS_H2_DEFENCE_COUNT];
    uint64_t errors_injected; /* requests given an injected error */
    uint64_t accept_errors;   /* accept() failures (e.g. out of descriptors) */
    uint64_t tls_handshakes;  /* TLS handshakes completed, full or resumed */
    uint64_t tls_resumed;     /* ... of which resumed a session */
    uint64_t tls_failed;      /* TLS connections closed before their handshake completed */
    uint64_t in_flight;       /* received, response not finished */
    uint64_t peak_in_flight;
    uint64_t connections; /* open connections that sent a request */
    uint64_t peak_connections;
    uint64_t by_status[STATS_STATUS_MAX - STATS_STATUS_MIN + 1];
};

/* The server's settings as /stats reports them, so that a client on another
 * host can check the delay and error settings it benchmarks against. */
struct stats_settings {
    const char *bind;       /* the numeric address given (or the default) */
    unsigned port;          /* the port bound (the kernel's choice for 0) */
    unsigned delay_min_ms;  /* both 0: no delay */
    unsigned delay_max_ms;  /* equal to delay_min_ms: a fixed delay */
    double error_rate;      /* 0: no injected errors */
    const char *error_kind; /* "status", "reset" or "stall" */
    uint64_t seed;          /* of the delay and error generator */
    const char *preset;     /* "LOCAL", "DELAY", "ERROR", or NULL if none given */
    bool tls;               /* HTTPS */
    bool tls_resume;        /* HTTPS with session resumption (tickets, cache) */
    bool http2;             /* --http2 */
    unsigned h2_max_streams;
    unsigned h2_timeout_s;
};

/* Zeroes every counter and gauge of S. */
void stats_init(struct stats *s);

/* A flag request was received over PROTO and handed to the server's handler. */
void stats_request_begin(struct stats *s, enum stats_proto proto);

/* The response of a flag request carries STATUS (its headers are being sent).
 * Statuses outside [STATS_STATUS_MIN, STATS_STATUS_MAX] are not counted. */
void stats_request_status(struct stats *s, int status);

/* A flag request finished: its response was sent or its connection died. */
void stats_request_end(struct stats *s);

/* A request was given an injected error. */
void stats_error_injected(struct stats *s);

/* accept() failed; the server pauses accepting. */
void stats_accept_error(struct stats *s);

/* A TLS handshake completed; RESUMED if it resumed a session. */
void stats_tls_handshake(struct stats *s, bool resumed);

/* A TLS connection closed before its handshake completed. */
void stats_tls_failed(struct stats *s);

/* A client connection speaking PROTO opened (sent its first request) /
 * closed. */
void stats_conn_open(struct stats *s, enum stats_proto proto);
void stats_conn_close(struct stats *s);

/* An HTTP/2 client opened a stream; OPEN_ON_CONN streams are now open on its
 * connection. */
void stats_stream_open(struct stats *s, uint64_t open_on_conn);

/* The HTTP/2 front end applied defence D. */
void stats_h2_defence(struct stats *s, enum stats_h2_defence d);

/* Zeroes the counters; the peaks restart from the live gauges, which are
 * kept (requests still in flight will finish and be subtracted). */
void stats_reset(struct stats *s);

/* Writes S as one JSON object, NUL-terminated, into BUF of SIZE bytes:
 * {"requests":n,"in_flight":n,"peak_in_flight":n,"connections":n,
 *  "peak_connections":n,"by_status":{"200":n,...},"errors_injected":n,
 *  "accept_errors":n,"tls_handshakes":n,"tls_resumed":n,"tls_failed":n,
 *  "requests_by_protocol":{"http/1.1":n,"h2":n,"h2c":n},
 *  "connections_by_protocol":{"http/1.1":n,"h2":n,"h2c":n},
 *  "streams":n,"peak_streams_per_connection":n,
 *  "h2_defences":{"rapid_reset":n,"flood":n,"header_limit":n,"stream_timeout":n,
 *                 "idle_timeout":n,"protocol_error":n},
 *  "settings":{...}}
 * with only the statuses seen in by_status, and "settings" only when SET is
 * not NULL:
 *   "settings":{"bind":"127.0.0.1","port":8001,"delay_ms":{"min":100,"max":100},
 *               "error_rate":0.25,"error_kind":"status","seed":42,"preset":"DELAY",
 *               "tls":true,"tls_resume":true,"http2":false,"h2_max_streams":100,
 *               "h2_timeout_s":30}
 * (error_rate in the shortest form that reads back as the same double;
 * preset null when SET->preset is NULL). Returns the length written
 * (without the NUL), or -ENOSPC if BUF is too small. */
int stats_json(const struct stats *s, const struct stats_settings *set, char *buf, size_t size);

#endif /* FLAGSERVER_STATS_H */
