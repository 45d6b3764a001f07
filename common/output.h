/* output.h -- stdout and stderr that never block the program.
 *
 * A struct flags_output gives a FILE * whose bytes go to an in-memory queue; a
 * writer thread of its own drains the queue into the descriptor. The thread
 * that formats the output (the event loop's only thread, or the pool's
 * as_completed loop) therefore never waits for a slow or stuck reader: a
 * terminal scrolled back, `| (sleep 5; cat)`, a FIFO nobody reads. The queue
 * holds what was written and not yet drained, so it is bounded by the run's
 * output (one line per request with -v). Both backends use it, so their
 * output stays identical.
 *
 * At the end, flags_output_drain waits until everything was written. If a
 * terminating signal has arrived and the reader still takes nothing, it gives
 * up after a grace period: the rest of the output is abandoned, so a signal
 * ends a run promptly even when stdout blocks.
 */
#ifndef FLAGS_OUTPUT_H
#define FLAGS_OUTPUT_H

#include <stdio.h>

struct flags_output; /* opaque; created by flags_output_open */

/* How long a signalled run waits for a reader that takes nothing. */
#define FLAGS_OUTPUT_GRACE_S 0.5

/* Starts a writer for descriptor fd (not closed by this module) and returns
 * it in *out. The writer thread blocks every asynchronous signal, so handlers
 * run on the program's threads. Returns 0, -ENOMEM, or the error of
 * pthread_create as a negative errno code. */
int flags_output_open(struct flags_output **out, int fd);

/* The stream to write to. Fully buffered: call fflush after each unit (a -v
 * line, a redrawn progress bar) to hand it to the writer. Main-thread use
 * only. */
FILE *flags_output_stream(struct flags_output *o);

/* Flushes the stream and waits until the writer has written everything.
 * Returns 0; the first write error as a negative errno code (then the rest of
 * the output was discarded); or -ETIMEDOUT when a terminating signal arrived
 * and the descriptor accepted nothing for grace_s seconds since (the output
 * is abandoned). */
int flags_output_drain(struct flags_output *o, double grace_s);

/* Drains o (grace FLAGS_OUTPUT_GRACE_S), stops and joins the writer and frees
 * o. An abandoned writer, still blocked in write(2), is detached and left to
 * die with the process instead. Safe with NULL. */
void flags_output_close(struct flags_output *o);

#endif /* FLAGS_OUTPUT_H */
