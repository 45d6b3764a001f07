/* stats.c -- flagserver's counters and their JSON form; see stats.h. */
#include "stats.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void stats_init(struct stats *s)
{
    memset(s, 0, sizeof(*s));
}

static const char *const proto_names[STATS_PROTO_COUNT] = {"http/1.1", "h2", "h2c"};
static const char *const defence_names[STATS_H2_DEFENCE_COUNT] = {
    "rapid_reset", "flood", "header_limit", "stream_timeout", "idle_timeout", "protocol_error"};

void stats_request_begin(struct stats *s, enum stats_proto proto)
{
    s->requests++;
    s->requests_by_proto[proto]++;
    s->in_flight++;
    if (s->in_flight > s->peak_in_flight)
        s->peak_in_flight = s->in_flight;
}

void stats_request_status(struct stats *s, int status)
{
    if (status >= STATS_STATUS_MIN && status <= STATS_STATUS_MAX)
        s->by_status[status - STATS_STATUS_MIN]++;
}

void stats_request_end(struct stats *s)
{
    if (s->in_flight > 0)
        s->in_flight--;
}

void stats_error_injected(struct stats *s)
{
    s->errors_injected++;
}

void stats_accept_error(struct stats *s)
{
    s->accept_errors++;
}

void stats_tls_handshake(struct stats *s, bool resumed)
{
    s->tls_handshakes++;
    if (resumed)
        s->tls_resumed++;
}

void stats_tls_failed(struct stats *s)
{
    s->tls_failed++;
}

void stats_conn_open(struct stats *s, enum stats_proto proto)
{
    s->connections_by_proto[proto]++;
    s->connections++;
    if (s->connections > s->peak_connections)
        s->peak_connections = s->connections;
}

void stats_conn_close(struct stats *s)
{
    if (s->connections > 0)
        s->connections--;
}

void stats_stream_open(struct stats *s, uint64_t open_on_conn)
{
    s->streams++;
    if (open_on_conn > s->peak_streams_per_connection)
        s->peak_streams_per_connection = open_on_conn;
}

void stats_h2_defence(struct stats *s, enum stats_h2_defence d)
{
    s->h2_defences[d]++;
}

void stats_reset(struct stats *s)
{
    uint64_t in_flight = s->in_flight, connections = s->connections;

    stats_init(s);
    s->in_flight = s->peak_in_flight = in_flight;
    s->connections = s->peak_connections = connections;
}

/* Appends to BUF at *POS; returns -ENOSPC (and leaves *POS) when it does
 * not fit. */
__attribute__((format(printf, 4, 5))) static int append(char *buf, size_t size, size_t *pos,
                                                        const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf + *pos, size - *pos, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size - *pos)
        return -ENOSPC;
    *pos += (size_t)n;
    return 0;
}

/* Appends STR as a JSON string, or null when STR is NULL. */
static int append_str(char *buf, size_t size, size_t *pos, const char *str)
{
    int rc;

    if (str == NULL)
        return append(buf, size, pos, "null");
    rc = append(buf, size, pos, "\"");
    for (const unsigned char *p = (const unsigned char *)str; rc == 0 && *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            rc = append(buf, size, pos, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            rc = append(buf, size, pos, "\\u%04x", *p);
        else
            rc = append(buf, size, pos, "%c", *p);
    }
    return rc ? rc : append(buf, size, pos, "\"");
}

/* Appends V (finite) in the shortest %g form that reads back as V. */
static int append_double(char *buf, size_t size, size_t *pos, double v)
{
    char num[32];

    for (int prec = 1; prec <= 17; prec++) {
        snprintf(num, sizeof(num), "%.*g", prec, v);
        if (strtod(num, NULL) == v)
            break;
    }
    return append(buf, size, pos, "%s", num);
}

static int append_settings(char *buf, size_t size, size_t *pos, const struct stats_settings *set)
{
    int rc = append(buf, size, pos, ",\"settings\":{\"bind\":");

    if (rc == 0)
        rc = append_str(buf, size, pos, set->bind);
    if (rc == 0)
        rc = append(buf, size, pos,
                    ",\"port\":%u,\"delay_ms\":{\"min\":%u,\"max\":%u},\"error_rate\":", set->port,
                    set->delay_min_ms, set->delay_max_ms);
    if (rc == 0)
        rc = append_double(buf, size, pos, set->error_rate);
    if (rc == 0)
        rc = append(buf, size, pos, ",\"error_kind\":");
    if (rc == 0)
        rc = append_str(buf, size, pos, set->error_kind);
    if (rc == 0)
        rc = append(buf, size, pos, ",\"seed\":%" PRIu64 ",\"preset\":", set->seed);
    if (rc == 0)
        rc = append_str(buf, size, pos, set->preset);
    if (rc == 0)
        rc = append(buf, size, pos,
                    ",\"tls\":%s,\"tls_resume\":%s,\"http2\":%s,\"h2_max_streams\":%u,"
                    "\"h2_timeout_s\":%u",
                    set->tls ? "true" : "false", set->tls_resume ? "true" : "false",
                    set->http2 ? "true" : "false", set->h2_max_streams, set->h2_timeout_s);
    return rc ? rc : append(buf, size, pos, "}");
}

int stats_json(const struct stats *s, const struct stats_settings *set, char *buf, size_t size)
{
    size_t pos = 0;
    const char *sep = "";
    int rc;

    if (size == 0)
        return -ENOSPC;
    rc = append(buf, size, &pos,
                "{\"requests\":%" PRIu64 ",\"in_flight\":%" PRIu64 ",\"peak_in_flight\":%" PRIu64
                ",\"connections\":%" PRIu64 ",\"peak_connections\":%" PRIu64 ",\"by_status\":{",
                s->requests, s->in_flight, s->peak_in_flight, s->connections, s->peak_connections);
    for (int i = 0; rc == 0 && i <= STATS_STATUS_MAX - STATS_STATUS_MIN; i++) {
        if (s->by_status[i] == 0)
            continue;
        rc = append(buf, size, &pos, "%s\"%d\":%" PRIu64, sep, i + STATS_STATUS_MIN,
                    s->by_status[i]);
        sep = ",";
    }
    if (rc == 0)
        rc = append(
            buf, size, &pos,
            "},\"errors_injected\":%" PRIu64 ",\"accept_errors\":%" PRIu64
            ",\"tls_handshakes\":%" PRIu64 ",\"tls_resumed\":%" PRIu64 ",\"tls_failed\":%" PRIu64,
            s->errors_injected, s->accept_errors, s->tls_handshakes, s->tls_resumed, s->tls_failed);
    for (int table = 0; table < 2 && rc == 0; table++) {
        const uint64_t *v = table == 0 ? s->requests_by_proto : s->connections_by_proto;
        rc = append(buf, size, &pos, ",\"%s_by_protocol\":{",
                    table == 0 ? "requests" : "connections");
        for (int p = 0; rc == 0 && p < STATS_PROTO_COUNT; p++)
            rc = append(buf, size, &pos, "%s\"%s\":%" PRIu64, p ? "," : "", proto_names[p], v[p]);
        if (rc == 0)
            rc = append(buf, size, &pos, "}");
    }
    if (rc == 0)
        rc = append(buf, size, &pos,
                    ",\"streams\":%" PRIu64 ",\"peak_streams_per_connection\":%" PRIu64
                    ",\"h2_defences\":{",
                    s->streams, s->peak_streams_per_connection);
    for (int d = 0; rc == 0 && d < STATS_H2_DEFENCE_COUNT; d++)
        rc = append(buf, size, &pos, "%s\"%s\":%" PRIu64, d ? "," : "", defence_names[d],
                    s->h2_defences[d]);
    if (rc == 0)
        rc = append(buf, size, &pos, "}");
    if (rc == 0 && set != NULL)
        rc = append_settings(buf, size, &pos, set);
    if (rc == 0)
        rc = append(buf, size, &pos, "}");
    return rc ? rc : (int)pos;
}
