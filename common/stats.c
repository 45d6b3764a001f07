/* stats.c -- nearest-rank percentiles. */
#include "stats.h"

#include <stdlib.h>

double flags_percentile(const double *sorted, size_t n, unsigned pct)
{
    size_t rank;

    if (n == 0)
        return 0;
    if (pct > 100)
        pct = 100;
    /* ceil(pct * n / 100) without floating point. */
    rank = (n / 100) * pct + ((n % 100) * pct + 99) / 100;
    return sorted[rank == 0 ? 0 : rank - 1];
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct flags_latency flags_latency_summary(double *samples, size_t n)
{
    struct flags_latency l = {0, 0, 0, 0};

    if (n == 0)
        return l;
    qsort(samples, n, sizeof(*samples), cmp_double);
    l.p50 = flags_percentile(samples, n, 50);
    l.p90 = flags_percentile(samples, n, 90);
    l.p99 = flags_percentile(samples, n, 99);
    l.max = samples[n - 1];
    return l;
}
