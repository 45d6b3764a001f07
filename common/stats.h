/* stats.h -- latency percentiles, pure functions. */
#ifndef FLAGS_STATS_H
#define FLAGS_STATS_H

#include <stddef.h>

struct flags_latency {
    double p50, p90, p99, max; /* same unit as the samples */
};

/* The pct-th percentile (0..100) of n ascending samples by the nearest-rank
 * method: the smallest sample such that at least pct% of the samples are <=
 * it, i.e. sorted[ceil(pct/100 * n) - 1] (sorted[0] for pct 0), computed in
 * integers so no rounding moves the rank. Returns 0 when n is 0. */
double flags_percentile(const double *sorted, size_t n, unsigned pct);

/* Sorts the n samples in place and returns p50, p90, p99 and max (all 0 when
 * n is 0). */
struct flags_latency flags_latency_summary(double *samples, size_t n);

#endif /* FLAGS_STATS_H */
