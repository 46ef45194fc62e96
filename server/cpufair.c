/*
 * cpufair.c - CPU-bound sandboxes yield to interactive neighbours.
 *
 * Every sandbox has the same CPU weight, so under contention the kernel
 * splits the CPU evenly: a sandbox running four busy loops (within its
 * --cpu quota) halves what a neighbour gets while it serves a screenshot,
 * and that neighbour's latency doubled or tripled here (2-core host,
 * p50 7.5 -> 18 ms). Giving the busy one an eighth of the weight while it
 * is CPU-bound brought the neighbour back to 1.1-1.5x its quiet p50
 * (docs/operating.md has the figures). The weight matters only under
 * contention: alone on the host the busy sandbox still gets its whole
 * quota.
 *
 * Every CPUFAIR_TICK_MS the sandboxes' cpu cgroups are sampled: one that
 * used at least CPUFAIR_BUSY of its --cpu limit in the interval (usage:
 * v2 cpu.stat, v1 cpuacct, which deskboxd also creates per sandbox where
 * it is a hierarchy of its own, as on hybrid hosts) or that its quota
 * throttled counts as CPU-bound and gets the low weight; it gets the
 * default back after CPUFAIR_CALM samples in a row that were not (a lowered
 * one is also still CPU-bound while any of its threads is runnable: its
 * usage alone would fall with its weight and flip it back and forth). Runs
 * on the loop thread from a timer; each sample is two reads of cgroup files
 * per sandbox, plus one /proc read per thread of a lowered one; no waiting.
 */
#include "cpufair.h"

#include "cgroup.h"
#include "desktop.h"
#include "ev.h"
#include "sandbox.h"
#include "srv.h"

#define CPUFAIR_TICK_MS 500
#define CPUFAIR_CALM 2
/* Share of its --cpu a sandbox used in a tick that makes it CPU-bound: low
 * enough to catch one on a host so loaded that it never reaches its quota,
 * above what a desktop serving screenshots back to back takes here. */
#define CPUFAIR_BUSY 0.3
/* Threads of a lowered sandbox looked at for one still wanting the CPU. */
#define CPUFAIR_MAX_THREADS 256

static void cpufair_sample(struct srv *srv, struct sandbox *sb)
{
	struct cpufair *f = &sb->cpufair;
	long long usage, thr;
	int busy = 0;

	cgroup_cpu_sample(&srv->cg, sb->id, &usage, &thr);
	if (!f->sampled)
		f->usage_us = f->throttled = -1;
	f->sampled = 1;
	if (usage >= 0 && f->usage_us >= 0)
		busy = (double)(usage - f->usage_us) >=
		       CPUFAIR_BUSY * sb->spec.limits.cpu * CPUFAIR_TICK_MS * 1000.0;
	if (thr >= 0 && f->throttled >= 0 && thr > f->throttled)
		busy = 1;
	/* Lowered, it may get too little CPU to look busy by its usage while
	 * it still wants all it can: it stays low while any of its threads
	 * is waiting to run. */
	if (f->low && !busy)
		busy = cgroup_cpu_runnable(&srv->cg, sb->id, CPUFAIR_MAX_THREADS) > 0;
	f->usage_us = usage;
	f->throttled = thr;
	f->calm = busy ? 0 : f->calm + 1;
	if (busy && !f->low) {
		if (cgroup_cpu_weight(&srv->cg, sb->id, 1) == 0)
			f->low = 1;
	} else if (f->low && f->calm >= CPUFAIR_CALM) {
		if (cgroup_cpu_weight(&srv->cg, sb->id, 0) == 0)
			f->low = 0;
	}
}

static void cpufair_tick(lws_sorted_usec_list_t *sul)
{
	struct srv *srv = lws_container_of(sul, struct srv, cpufair_tick);

	const char *name, *error;

	for (struct sandbox *sb = srv->sandboxes; sb; sb = sb->next) {
		if (sb->state != SBX_RUNNING || !(sb->enforced & CG_CPU))
			continue;
		/* A desktop coming up (Xvfb, the window manager, the apps) is
		 * busy for a moment by design: not judged until it is ready, so
		 * many starting at once on a loaded host are not slowed further. */
		if (sb->desk && desk_state(sb, &name, &error) != DESK_READY) {
			sb->cpufair.sampled = 0;
			continue;
		}
		cpufair_sample(srv, sb);
	}
	ev_timer(srv, &srv->cpufair_tick, cpufair_tick, CPUFAIR_TICK_MS);
}

void cpufair_start(struct srv *srv)
{
	if (!(srv->cg.enforced & CG_CPU))
		return;
	ev_timer(srv, &srv->cpufair_tick, cpufair_tick, CPUFAIR_TICK_MS);
}

void cpufair_stop(struct srv *srv)
{
	ev_timer_cancel(&srv->cpufair_tick);
}
