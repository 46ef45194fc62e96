/*
 * metrics.c - counters and the Prometheus exposition (see metrics.h).
 *
 * Rendering walks the sandbox list once and reads two small cgroup files
 * per sandbox (memory, CPU): about 20 µs each, so a scrape of 1000
 * sandboxes costs some 20 ms of the loop. Nothing here blocks otherwise.
 * Owns nothing but the text it returns.
 */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "desktop.h"
#include "op.h"
#include "sandbox.h"
#include "srv.h"
#include "ws.h"

static const double bounds[METRICS_NBUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
};

void metrics_observe(struct metrics_hist *h, double s)
{
	int i = 0;

	while (i < METRICS_NBUCKETS && s > bounds[i])
		i++;
	if (i < METRICS_NBUCKETS)
		h->buckets[i]++;
	h->count++;
	h->sum += s;
}

void metrics_op_done(struct srv *srv, const struct op *op, enum operr err, double s)
{
	const struct op *const *t = op_table();
	struct metrics *m = &srv->metrics;
	int ok = err == OPERR_OK;

	/* The few operations with series of their own. */
	if (!strcmp(op->name, "sandbox.create")) {
		if (ok) {
			m->creates++;
			metrics_observe(&m->create_ready, s);
		} else if (err == OPERR_INTERNAL || err == OPERR_DESKTOP_FAILED) {
			m->create_failures++;
		}
	} else if (ok && !strcmp(op->name, "process.exec")) {
		m->execs++;
	} else if (ok && !strcmp(op->name, "desktop.screenshot")) {
		metrics_observe(&m->screenshot, s);
	}

	for (int i = 0; t[i] && i < METRICS_MAX_OPS; i++) {
		if (t[i] != op)
			continue;
		if (ok)
			m->op_ok[i]++;
		else
			m->op_err[i]++;
		metrics_observe(&m->op_latency[i], s);
		return;
	}
}

/* A growing text buffer; on allocation failure it stops growing and the
 * render fails as a whole. */
struct buf {
	char *p;
	size_t len, cap;
	int oom;
};

__attribute__((format(printf, 2, 3)))
static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		if (b->oom)
			return;
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t ncap = b->cap * 2 + (size_t)(n > 0 ? n : 0);
		char *np = realloc(b->p, ncap);

		if (!np) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
}

static void head(struct buf *b, const char *name, const char *type, const char *help)
{
	put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void counter(struct buf *b, const char *name, const char *help, uint64_t v)
{
	head(b, name, "counter", help);
	put(b, "%s %llu\n", name, (unsigned long long)v);
}

static void gauge(struct buf *b, const char *name, const char *help, double v)
{
	head(b, name, "gauge", help);
	put(b, "%s %.17g\n", name, v);
}

/* One histogram's series; labels is "" or `op="x"` (no braces). */
static void hist(struct buf *b, const char *name, const char *labels, const struct metrics_hist *h)
{
	uint64_t cum = 0;
	const char *sep = labels[0] ? "," : "";

	for (int i = 0; i < METRICS_NBUCKETS; i++) {
		cum += h->buckets[i];
		put(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, bounds[i],
		    (unsigned long long)cum);
	}
	put(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep, (unsigned long long)h->count);
	if (labels[0]) {
		put(b, "%s_sum{%s} %.9g\n", name, labels, h->sum);
		put(b, "%s_count{%s} %llu\n", name, labels, (unsigned long long)h->count);
	} else {
		put(b, "%s_sum %.9g\n", name, h->sum);
		put(b, "%s_count %llu\n", name, (unsigned long long)h->count);
	}
}

struct usage {
	const struct sandbox *sb;
	long long mem, cpu_us;
};

static int by_mem_desc(const void *a, const void *b)
{
	const struct usage *x = a, *y = b;

	return (x->mem < y->mem) - (x->mem > y->mem);
}

static void sandboxes(struct buf *b, struct srv *srv)
{
	static const char *const states[] = { "starting", "running", "stopping", "failed" };
	int by_state[4] = { 0 }, desk_ready = 0, ws_vnc = 0, ws_pty = 0, n = 0, nmem = 0, ncpu = 0;
	long long mem_total = 0, cpu_total = 0;
	struct usage *u = calloc((size_t)srv->nsandboxes + 1, sizeof(*u));

	for (struct sandbox *s = srv->sandboxes; s; s = s->next) {
		if (s->pooled)
			continue;
		if (s->state <= SBX_FAILED)
			by_state[s->state]++;
		if (s->desk) {
			const char *name, *error;

			desk_ready += desk_state(s, &name, &error) == DESK_READY;
		}
		for (struct ws_conn *w = s->ws_conns; w; w = w->next) {
			ws_vnc += w->kind == WS_VNC;
			ws_pty += w->kind == WS_PTY;
		}
		if (u && n <= srv->nsandboxes && s->state == SBX_RUNNING) {
			u[n].sb = s;
			cgroup_usage(&srv->cg, s->id, &u[n].mem, &u[n].cpu_us);
			if (u[n].mem >= 0) {
				mem_total += u[n].mem;
				nmem++;
			}
			if (u[n].cpu_us >= 0) {
				cpu_total += u[n].cpu_us;
				ncpu++;
			}
			n++;
		}
	}
	head(b, "deskbox_sandboxes", "gauge", "Sandboxes held, by state (pool members excluded).");
	for (int i = 0; i < 4; i++)
		put(b, "deskbox_sandboxes{state=\"%s\"} %d\n", states[i], by_state[i]);
	gauge(b, "deskbox_sandboxes_max", "The most sandboxes this server holds (--max-sandboxes).",
	      srv->cfg.max_sandboxes);
	gauge(b, "deskbox_desktops_ready", "Sandboxes whose desktop is up.", desk_ready);
	head(b, "deskbox_websockets", "gauge",
	     "Open WebSockets by kind (vnc: viewers; terminal; control: JSON-RPC channels).");
	put(b, "deskbox_websockets{kind=\"vnc\"} %d\n", ws_vnc);
	put(b, "deskbox_websockets{kind=\"terminal\"} %d\n", ws_pty);
	put(b, "deskbox_websockets{kind=\"control\"} %d\n", srv->metrics.control_conns);
	if (nmem)
		gauge(b, "deskbox_sandboxes_memory_bytes",
		      "Memory charged to all running sandboxes' cgroups.", (double)mem_total);
	if (ncpu) {
		head(b, "deskbox_sandbox_cpu_seconds_all_total", "counter",
		     "CPU time used by all running sandboxes' cgroups.");
		put(b, "deskbox_sandbox_cpu_seconds_all_total %.6f\n", (double)cpu_total / 1e6);
	}
	if (!u)
		return;
	/* Per sandbox: only the largest few, so the series stay bounded. */
	qsort(u, (size_t)n, sizeof(*u), by_mem_desc);
	if (n > METRICS_TOP_SANDBOXES)
		n = METRICS_TOP_SANDBOXES;
	if (nmem) {
		head(b, "deskbox_sandbox_memory_bytes", "gauge",
		     "Memory charged to a sandbox's cgroup (the largest 10 only).");
		for (int i = 0; i < n; i++)
			if (u[i].mem >= 0)
				put(b, "deskbox_sandbox_memory_bytes{sandbox=\"%s\"} %lld\n", u[i].sb->id, u[i].mem);
	}
	if (ncpu) {
		head(b, "deskbox_sandbox_cpu_seconds_total", "counter",
		     "CPU time used by a sandbox's cgroup (the 10 largest by memory only).");
		for (int i = 0; i < n; i++)
			if (u[i].cpu_us >= 0)
				put(b, "deskbox_sandbox_cpu_seconds_total{sandbox=\"%s\"} %.6f\n", u[i].sb->id,
				    (double)u[i].cpu_us / 1e6);
	}
	free(u);
}

char *metrics_render(struct srv *srv, size_t *len)
{
	const struct metrics *m = &srv->metrics;
	const struct op *const *t = op_table();
	struct buf b = { malloc(16384), 0, 16384, 0 };

	if (!b.p)
		return NULL;
	b.p[0] = '\0';
	sandboxes(&b, srv);
	gauge(&b, "deskbox_draining", "1 while the server drains (refuses creates).", srv->drain.on);
	counter(&b, "deskbox_sandbox_creates_total", "Sandboxes that started.", m->creates);
	counter(&b, "deskbox_sandbox_create_failures_total", "Creates that failed to start a sandbox.",
		m->create_failures);
	counter(&b, "deskbox_sandbox_destroys_total", "Sandboxes torn down (deleted, expired, ended).",
		m->destroys);
	counter(&b, "deskbox_sandbox_expirations_total", "Sandboxes ended by their timeout.",
		m->expirations);
	gauge(&b, "deskbox_pool_size", "Booted desktops waiting in the warm pool.", srv->pool_size);
	gauge(&b, "deskbox_pool_target", "The warm pool's target size (--pool).", srv->cfg.pool);
	counter(&b, "deskbox_pool_hits_total", "Creates served from the warm pool.", m->pool_hits);
	counter(&b, "deskbox_screenshots_cached_total",
		"Screenshots answered with bytes already encoded (nothing drew since, or prepared in the pool).",
		m->shots_cached);
	counter(&b, "deskbox_pool_misses_total", "Creates that matched no ready pool member.",
		m->pool_misses);
	counter(&b, "deskbox_execs_total", "Commands run through exec.", m->execs);
	counter(&b, "deskbox_viewer_bytes_total", "Bytes sent to VNC and terminal WebSockets.",
		m->viewer_bytes);
	head(&b, "deskbox_egress_connections_total", "counter",
	     "Sandbox connections through the egress proxies, by the policy's verdict.");
	put(&b, "deskbox_egress_connections_total{verdict=\"allowed\"} %llu\n",
	    (unsigned long long)m->egress_allowed);
	put(&b, "deskbox_egress_connections_total{verdict=\"denied\"} %llu\n",
	    (unsigned long long)m->egress_denied);
	head(&b, "deskbox_screenshot_seconds", "histogram",
	     "Screenshot calls, request to image (capture and encode in the sandbox).");
	hist(&b, "deskbox_screenshot_seconds", "", &m->screenshot);
	head(&b, "deskbox_sandbox_ready_seconds", "histogram",
	     "Create to running (desktop up, if it has one), cold and pooled alike.");
	hist(&b, "deskbox_sandbox_ready_seconds", "", &m->create_ready);

	head(&b, "deskbox_operations_total", "counter", "Operation calls by operation and outcome.");
	for (int i = 0; t[i] && i < METRICS_MAX_OPS; i++) {
		put(&b, "deskbox_operations_total{op=\"%s\",outcome=\"ok\"} %llu\n", t[i]->name,
		    (unsigned long long)m->op_ok[i]);
		put(&b, "deskbox_operations_total{op=\"%s\",outcome=\"error\"} %llu\n", t[i]->name,
		    (unsigned long long)m->op_err[i]);
	}
	head(&b, "deskbox_operation_seconds", "histogram", "Operation latency, call to answer.");
	for (int i = 0; t[i] && i < METRICS_MAX_OPS; i++) {
		char labels[96];

		snprintf(labels, sizeof(labels), "op=\"%s\"", t[i]->name);
		hist(&b, "deskbox_operation_seconds", labels, &m->op_latency[i]);
	}
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	*len = b.len;
	return b.p;
}
