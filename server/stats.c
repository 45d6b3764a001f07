/* stats.c -- flagserver's counters and their JSON form; see stats.h. */
#include "stats.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void stats_init(struct stats *s)
{
    memset(s, 0, sizeof(*s));
}

void stats_request_begin(struct stats *s)
{
    s->requests++;
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

void stats_conn_open(struct stats *s)
{
    s->connections++;
    if (s->connections > s->peak_connections)
        s->peak_connections = s->connections;
}

void stats_conn_close(struct stats *s)
{
    if (s->connections > 0)
        s->connections--;
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

int stats_json(const struct stats *s, char *buf, size_t size)
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
        rc = append(buf, size, &pos,
                    "},\"errors_injected\":%" PRIu64 ",\"accept_errors\":%" PRIu64 "}",
                    s->errors_injected, s->accept_errors);
    return rc ? rc : (int)pos;
}
