/*
 * fanout.h - the two halves of phasecast-bench-fanout (not installed).
 *
 * The driver (bench_fanout.c) hosts the server and the bare-nng publisher;
 * the subscribers live in a second process, the same executable started
 * with --subscriber, so clients and server do not share an address space
 * (as they would not in production) and one process's threads cannot
 * starve the other's accounting. The two talk over the child's stdin and
 * stdout, one command or answer per line:
 *
 *   child -> driver  "ready N"           N clients (or raw SUBs) are open
 *   driver -> child  "target S"          wait until every client has seq S
 *   child -> driver  "done D T SUM DIFF REPAIRS SNAPS GAPS MISMATCH"
 *                     D clients reached S, the last at CLOCK_MONOTONIC T
 *                     (ns); SUM is the first client's replica checksum and
 *                     DIFF how many others had a different one
 *   driver -> child  "latency A B"       record commit-to-apply latency of
 *                                        seqs A..B (their patch is {"t":ns})
 *   driver -> child  "lat"  -> "lat N P50 P99 MAX" (ns) over all clients
 *   driver -> child  "expect M" (raw)   -> "rawdone T GOT" when every SUB has
 *                                        M messages or none came for 2 s
 *   driver -> child  "quit"  -> "bye"
 *
 * CLOCK_MONOTONIC is one clock for every process of a machine, so times
 * taken in the two processes can be subtracted.
 */
#ifndef PC_BENCH_FANOUT_H
#define PC_BENCH_FANOUT_H

#include <stdint.h>

/* Room every run uses. */
#define FANOUT_ROOM "bench"

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t fanout_now_ns(void);

/* Raise the open-file limit to its hard maximum (1,000 clients need
 * several thousand descriptors); returns the new soft limit. */
long fanout_raise_nofile(void);

/*
 * fanout_subscriber_main - the child: argv is
 *   clients|raw PUB_URL REQ_URL N THREADS
 * (REQ_URL is ignored for raw). Returns the process exit status.
 */
int fanout_subscriber_main(int argc, char **argv);

#endif
