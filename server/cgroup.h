/*
 * cgroup.h - per-sandbox cgroups on cgroup v2, v1, or both (hybrid hosts).
 *
 * At start deskboxd finds, per controller (memory, pids, cpu), which
 * hierarchy holds it, and makes one directory per hierarchy for its instance:
 * `<root>/deskbox-<instance>` as root, `<own cgroup>/deskbox-<instance>` when
 * rootless (only where the host delegated it). A sandbox is one child
 * directory named by its id in each of those. A v2 tree without controllers
 * (hybrid) still serves for membership and cgroup.kill.
 */
#ifndef DESKBOX_CGROUP_H
#define DESKBOX_CGROUP_H

#include <limits.h>
#include <sys/types.h>

#include "sblimits.h"

#define CG_MEMORY 1u
#define CG_PIDS   2u
#define CG_CPU    4u
#define CG_CPUACCT 8u   /* v1 only, where it is not beside cpu: usage, no limit */
#define CG_MAX_HIER 5

struct cg_hier {
	char base[PATH_MAX];  /* this instance's directory in the hierarchy */
	int v2;
	unsigned ctrls;       /* CG_* this hierarchy enforces for us */
};

struct cgroup_host {
	struct cg_hier h[CG_MAX_HIER];
	int n;
	unsigned enforced;    /* union of ctrls */
	const char *mode;     /* "v2", "v1", "hybrid" or "none" */
};

/* Find the hierarchies, create the instance directories and remove what a
 * crashed earlier run of the same instance left (killing its processes).
 * Never fails: what cannot be used is left out of `enforced`, and logged. */
void cgroup_host_init(struct cgroup_host *cg, const char *instance, int rootless);

/* Kill and remove every sandbox cgroup of this instance, then the instance
 * directories themselves. */
void cgroup_host_cleanup(struct cgroup_host *cg);

/* Create the sandbox's directories and write its limits; with v1_made, its
 * cgroup v1 directories are there already (cgroup_spare_take). Returns the
 * CG_* set actually enforced (0 is not an error), or -1 if a directory
 * could not be made. */
int cgroup_create(const struct cgroup_host *cg, const char *id, const struct limits *l,
		  int v1_made);

/* How many cgroup v1 hierarchies sandboxes are in (hybrid or v1 hosts). */
int cgroup_v1_count(const struct cgroup_host *cg);

/*
 * The spare (cloner.c): a set of cgroup v1 directories named `name` that
 * one thread of deskboxd (tid) waits in, so that what it clones is born in
 * them. enter makes them and moves the thread in (0, or -1 with errno and
 * nothing left behind); take renames them to the sandbox's id (1), or
 * leaves them as they were (0, logged); leave moves the thread back to
 * deskboxd's own cgroups and removes what is left of the spare. enter and
 * leave make system calls only (they run beside the loop thread's clones).
 */
int cgroup_spare_enter(const struct cgroup_host *cg, const char *name, pid_t tid);
int cgroup_spare_take(const struct cgroup_host *cg, const char *name, const char *id);
void cgroup_spare_leave(const struct cgroup_host *cg, const char *name, pid_t tid);

/* How much CPU the sandbox has had: *usage_us its CPU time in µs (v2
 * cpu.stat, v1 cpuacct.usage), else -1; *throttled how many periods its
 * quota stopped it in, else -1. */
void cgroup_cpu_sample(const struct cgroup_host *cg, const char *id, long long *usage_us,
		       long long *throttled);

/* How many of the sandbox's threads are running or waiting for a CPU right
 * now (state R), counting at most the first `cap` threads; -1 if unknown. */
int cgroup_cpu_runnable(const struct cgroup_host *cg, const char *id, int cap);

/* The sandbox's CPU weight against its neighbours: the default, or an
 * eighth of it (low) for one that is CPU-bound (cpufair.c). 0, or -1. */
int cgroup_cpu_weight(const struct cgroup_host *cg, const char *id, int low);

/* Move pid into the sandbox's cgroups but those it was born in: the v2 one
 * with v2_done (clone3 put it there: cgroup_clone_fd), the v1 ones with
 * v1_done (cloned from the spare). Returns 0, or -1. */
int cgroup_attach(const struct cgroup_host *cg, const char *id, pid_t pid, int v2_done,
		  int v1_done);

/* An fd of the sandbox's directory in the cgroup v2 hierarchy, for
 * clone3's CLONE_INTO_CGROUP (the caller closes it), or -1 when there is
 * none. A cgroup v1 hierarchy still takes a cgroup_attach. */
int cgroup_clone_fd(const struct cgroup_host *cg, const char *id);

/* SIGKILL every process in the sandbox's cgroups. */
void cgroup_kill(const struct cgroup_host *cg, const char *id);

/* Kill what is left in the sandbox's directories and remove them. With wait,
 * retry (sleeping, up to about a second) while the kernel reaps: for start-up,
 * shutdown and failed creates only. Without, one try: 1 means some are still
 * busy and the caller should try again later. Returns 0, 1, or -1 (logged). */
int cgroup_destroy(const struct cgroup_host *cg, const char *id, int wait);

/* What the sandbox's cgroups have used: memory charged now (bytes) and CPU
 * time so far (µs); -1 for what no hierarchy here tells (v1 CPU time needs
 * cpuacct mounted with cpu). */
void cgroup_usage(const struct cgroup_host *cg, const char *id, long long *mem, long long *cpu_us);

/* Number of processes in the sandbox's cgroups (first hierarchy), or -1. */
int cgroup_nprocs(const struct cgroup_host *cg, const char *id);

#endif
