/*
 * metrics.h - deskboxd's counters and GET /metrics in the Prometheus text
 * format (version 0.0.4).
 *
 * Counters are plain fields bumped where things happen (struct metrics in
 * srv->metrics); gauges (sandboxes by state, WebSockets, per-sandbox memory
 * and CPU from their cgroups) are read when scraped. Loop thread only.
 */
#ifndef DESKBOX_METRICS_H
#define DESKBOX_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "operr.h"

struct srv;
struct op;

/* Latency buckets (seconds) shared by every histogram: 0.5 ms to 30 s. */
#define METRICS_NBUCKETS 15

struct metrics_hist {
	uint64_t count;
	uint64_t buckets[METRICS_NBUCKETS];   /* not cumulative; rendered so */
	double sum;
};

/* Operations are counted by their index in the table; 96 is op.c's cap. */
#define METRICS_MAX_OPS 96

struct metrics {
	uint64_t creates, create_failures, destroys, expirations;
	uint64_t pool_hits, pool_misses;
	uint64_t shots_cached;       /* screenshots the agent had already encoded */
	uint64_t execs;
	uint64_t viewer_bytes;                /* WebSocket bytes to viewers */
	int control_conns;                    /* open control channels (rpc_ws.c) */
	uint64_t egress_allowed, egress_denied;   /* connections, egress.c */
	struct metrics_hist screenshot;       /* request to image, seconds */
	struct metrics_hist create_ready;     /* create to running (desktop up) */
	uint64_t op_ok[METRICS_MAX_OPS], op_err[METRICS_MAX_OPS];
	struct metrics_hist op_latency[METRICS_MAX_OPS];
};

/* Add one observation of s seconds. */
void metrics_observe(struct metrics_hist *h, double s);

/* An operation call ended (ok or not) after s seconds. */
void metrics_op_done(struct srv *srv, const struct op *op, enum operr err, double s);

/*
 * The whole exposition as text (malloc'd, NUL-terminated; *len set), or
 * NULL when out of memory. Reads each sandbox's cgroup usage; per-sandbox
 * series are kept to the METRICS_TOP_SANDBOXES largest by memory, so the
 * label set stays bounded however many sandboxes run.
 */
#define METRICS_TOP_SANDBOXES 10
char *metrics_render(struct srv *srv, size_t *len);

#endif
