/*
 * cgroup.c - per-sandbox cgroups (see cgroup.h).
 *
 * Runs in deskboxd's loop thread, but for the spare's enter and leave,
 * which the cloner thread runs (cloner.c). All of it is small writes to cgroupfs,
 * which does not block; the only waits are the bounded retries of rmdir
 * while the kernel finishes tearing down killed tasks.
 */
#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int write_file(const char *dir, const char *name, const char *val)
{
	char path[PATH_MAX];
	int fd, r = 0;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -1;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, val, strlen(val)) < 0)
		r = -1;
	close(fd);
	return r;
}

static int read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

static int has_word(const char *list, const char *word, const char *seps)
{
	size_t wl = strlen(word);

	for (const char *p = list; *p; ) {
		size_t n = strcspn(p, seps);

		if (n == wl && !strncmp(p, word, wl))
			return 1;
		p += n;
		p += strspn(p, seps);
	}
	return 0;
}

static unsigned ctrl_bits(const char *list, const char *seps)
{
	return (has_word(list, "memory", seps) ? CG_MEMORY : 0) |
	       (has_word(list, "pids", seps) ? CG_PIDS : 0) |
	       (has_word(list, "cpu", seps) ? CG_CPU : 0) |
	       (has_word(list, "cpuacct", seps) ? CG_CPUACCT : 0);
}

/* Our own path in the hierarchy whose /proc/self/cgroup controller field
 * is `field` ("" for v2). */
static int own_path(const char *field, int v2, char *out, size_t cap)
{
	char line[1024];
	FILE *f = fopen("/proc/self/cgroup", "re");
	int found = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (!c2)
			continue;
		*c1 = '\0';
		*c2 = '\0';
		c2[1 + strcspn(c2 + 1, "\n")] = '\0';
		/* "ID:CONTROLLERS:PATH"; v2 is "0::PATH" */
		if (v2 ? (c1[1] == '\0' && !strcmp(line, "0")) : has_word(c1 + 1, field, ",")) {
			snprintf(out, cap, "%s", c2 + 1);
			found = 0;
			break;
		}
	}
	fclose(f);
	return found;
}

static void kill_procs(const char *dir)
{
	char path[PATH_MAX], buf[65536];

	if (snprintf(path, sizeof(path), "%s/cgroup.procs", dir) >= (int)sizeof(path))
		return;
	if (read_file(path, buf, sizeof(buf)))
		return;
	for (char *p = buf, *end; *p; p = end) {
		long pid = strtol(p, &end, 10);

		if (end == p)
			break;
		/* A v1 cgroup lists the process of any thread in it: the
		 * cloner thread (cloner.c) can be in a new sandbox's for a
		 * moment, and deskboxd is not the sandbox's to kill. */
		if (pid > 1 && pid != getpid())
			kill((pid_t)pid, SIGKILL);
	}
}

static int nprocs(const char *dir)
{
	char path[PATH_MAX], buf[65536];
	int n = 0;

	if (snprintf(path, sizeof(path), "%s/cgroup.procs", dir) >= (int)sizeof(path) ||
	    read_file(path, buf, sizeof(buf)))
		return -1;
	for (char *p = buf; *p; p++)
		n += *p == '\n';
	return n;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { 0, (long)ms * 1000000L };

	nanosleep(&ts, NULL);
}

/* Kill what is in dir, then rmdir it, retrying while the kernel reaps. */
static int kill_and_remove(const char *dir, int v2)
{
	for (int i = 0; i < 200; i++) {
		if (v2)
			write_file(dir, "cgroup.kill", "1");
		kill_procs(dir);
		if (rmdir(dir) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -1;
		sleep_ms(i < 10 ? 1 : 5);
	}
	return -1;
}

static void sandbox_path(const struct cg_hier *h, const char *id, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", h->base, id);
}

static void cleanup_leftovers(const struct cg_hier *h)
{
	DIR *d = opendir(h->base);
	struct dirent *e;
	char path[PATH_MAX];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_type != DT_DIR || e->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", h->base, e->d_name) >= (int)sizeof(path))
			continue;
		log_event(NULL, "removing cgroup %s left by an earlier run", path);
		if (kill_and_remove(path, h->v2))
			log_event(NULL, "cannot remove %s: %s", path, strerror(errno));
	}
	closedir(d);
}

/* Make h->base under parent (a directory of the hierarchy) and, on v2,
 * enable the controllers we want in it. Returns 0, or -1 (logged). */
static int make_base(struct cg_hier *h, const char *parent, const char *instance)
{
	static const char *const names[] = { "+memory", "+pids", "+cpu" };
	char buf[PATH_MAX + 32], list[256];

	if (snprintf(h->base, sizeof(h->base), "%s/%s", parent, instance) >= (int)sizeof(h->base))
		return -1;
	if (mkdir(h->base, 0755) < 0 && errno != EEXIST) {
		log_event(NULL, "cgroup %s unusable (%s): its limits are not enforced",
			  h->base, strerror(errno));
		return -1;
	}
	if (!h->v2)
		return 0;
	/* Enable what the parent offers, then read back what we got. */
	for (int i = 0; i < 3; i++) {
		write_file(parent, "cgroup.subtree_control", names[i]);
		write_file(h->base, "cgroup.subtree_control", names[i]);
	}
	h->ctrls = 0;
	snprintf(buf, sizeof(buf), "%s/cgroup.subtree_control", h->base);
	if (read_file(buf, list, sizeof(list)) == 0)
		h->ctrls = ctrl_bits(list, " \n");
	return 0;
}

/* v2 controllers the hierarchy's root offers. */
static unsigned root_ctrls(const char *mnt)
{
	char buf[PATH_MAX + 32], list[256];

	snprintf(buf, sizeof(buf), "%s/cgroup.controllers", mnt);
	return read_file(buf, list, sizeof(list)) == 0 ? ctrl_bits(list, " \n") : 0;
}

/*
 * Sandboxes nest under deskboxd's own cgroup, so whatever limits the daemon
 * (a systemd slice, a CI job) limits them too. On v2 a cgroup with
 * processes cannot hand controllers to children ("no internal processes"):
 * if that keeps us from enforcing what the hierarchy offers and we are root,
 * the instance directory goes to the hierarchy's root instead.
 */
static void add_hier(struct cgroup_host *cg, const char *mnt, const char *field,
		     int v2, unsigned ctrls, const char *instance, int rootless)
{
	struct cg_hier *h;
	char own[PATH_MAX] = "/", parent[PATH_MAX];

	if (cg->n >= CG_MAX_HIER)
		return;
	if (own_path(field, v2, own, sizeof(own)) && rootless)
		return;
	h = &cg->h[cg->n];
	h->v2 = v2;
	h->ctrls = ctrls;
	snprintf(parent, sizeof(parent), "%s%s", mnt, strcmp(own, "/") ? own : "");
	if (make_base(h, parent, instance))
		return;
	if (v2 && !rootless && strcmp(own, "/") && (root_ctrls(mnt) & ~h->ctrls &
						  (CG_MEMORY | CG_PIDS | CG_CPU))) {
		rmdir(h->base);
		log_event(NULL, "cgroup %s cannot delegate controllers; using the root of %s",
			  parent, mnt);
		if (make_base(h, mnt, instance))
			return;
	}
	cleanup_leftovers(h);
	cg->enforced |= h->ctrls;
	cg->n++;
}

void cgroup_host_init(struct cgroup_host *cg, const char *instance, int rootless)
{
	char line[4096];
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int v1 = 0, v2 = 0;

	memset(cg, 0, sizeof(*cg));
	cg->mode = "none";
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		/* id parent maj:min root mountpoint opts... - fstype source superopts */
		char *fields[5], *dash = strstr(line, " - "), *p = line, fstype[32], src[256], opts[1024];
		int i;

		for (i = 0; i < 5 && p; i++) {
			fields[i] = p;
			p = strchr(p, ' ');
			if (p)
				*p++ = '\0';
		}
		if (i < 5 || !dash || sscanf(dash + 3, "%31s %255s %1023s", fstype, src, opts) != 3)
			continue;
		if (!strcmp(fstype, "cgroup2")) {
			add_hier(cg, fields[4], "", 1, 0, instance, rootless);
			v2 = 1;
		} else if (!strcmp(fstype, "cgroup")) {
			unsigned bits = ctrl_bits(opts, ",");
			const char *field = (bits & CG_MEMORY) ? "memory" :
					    (bits & CG_PIDS) ? "pids" :
					    (bits & CG_CPU) ? "cpu" : "cpuacct";

			if (!bits || (bits & cg->enforced))
				continue;
			add_hier(cg, fields[4], field, 0, bits, instance, rootless);
			v1 = 1;
		}
	}
	fclose(f);
	cg->mode = v1 && v2 ? "hybrid" : v1 ? "v1" : v2 ? "v2" : "none";
}

void cgroup_host_cleanup(struct cgroup_host *cg)
{
	for (int i = 0; i < cg->n; i++) {
		cleanup_leftovers(&cg->h[i]);
		rmdir(cg->h[i].base);
	}
}

int cgroup_create(const struct cgroup_host *cg, const char *id, const struct limits *l,
		  int v1_made)
{
	char dir[PATH_MAX], val[64];
	unsigned got = 0;
	long long mem = (long long)l->memory_mb << 20;
	long quota = (long)(l->cpu * 100000.0);

	if (quota < 1000)
		quota = 1000;
	for (int i = 0; i < cg->n; i++) {
		const struct cg_hier *h = &cg->h[i];

		sandbox_path(h, id, dir, sizeof(dir));
		if (!(v1_made && !h->v2) && mkdir(dir, 0755) < 0) {
			log_event(id, "cgroup mkdir %s: %s", dir, strerror(errno));
			return -1;
		}
		if (h->ctrls & CG_MEMORY) {
			snprintf(val, sizeof(val), "%lld", mem);
			if (h->v2) {
				if (!write_file(dir, "memory.max", val))
					got |= CG_MEMORY;
				write_file(dir, "memory.swap.max", "0");
			} else {
				if (!write_file(dir, "memory.limit_in_bytes", val))
					got |= CG_MEMORY;
				write_file(dir, "memory.memsw.limit_in_bytes", val);
			}
		}
		if (h->ctrls & CG_PIDS) {
			snprintf(val, sizeof(val), "%ld", l->pids);
			if (!write_file(dir, "pids.max", val))
				got |= CG_PIDS;
		}
		if (h->ctrls & CG_CPU) {
			if (h->v2) {
				snprintf(val, sizeof(val), "%ld 100000", quota);
				if (!write_file(dir, "cpu.max", val))
					got |= CG_CPU;
			} else {
				snprintf(val, sizeof(val), "%ld", quota);
				if (!write_file(dir, "cpu.cfs_period_us", "100000") &&
				    !write_file(dir, "cpu.cfs_quota_us", val))
					got |= CG_CPU;
			}
		}
	}
	return (int)got;
}

int cgroup_attach(const struct cgroup_host *cg, const char *id, pid_t pid, int v2_done,
		  int v1_done)
{
	char dir[PATH_MAX], val[32];
	int r = 0;

	snprintf(val, sizeof(val), "%d", (int)pid);
	for (int i = 0; i < cg->n; i++) {
		if (cg->h[i].v2 ? v2_done : v1_done)
			continue;
		sandbox_path(&cg->h[i], id, dir, sizeof(dir));
		if (write_file(dir, "cgroup.procs", val)) {
			log_event(id, "cgroup attach %s: %s", dir, strerror(errno));
			r = -1;
		}
	}
	return r;
}

int cgroup_v1_count(const struct cgroup_host *cg)
{
	int n = 0;

	for (int i = 0; i < cg->n; i++)
		n += !cg->h[i].v2;
	return n;
}

/* The spare's functions run on the cloner thread while the loop thread may
 * clone: system calls and snprintf only, no stdio, malloc or log (see
 * cloner.c). */
static int enter_dir(const char *dir, pid_t tid)
{
	char val[16];

	snprintf(val, sizeof(val), "%d", (int)tid);
	/* v1's "tasks" moves one thread; "cgroup.procs" would move all. */
	return write_file(dir, "tasks", val);
}

void cgroup_spare_leave(const struct cgroup_host *cg, const char *name, pid_t tid)
{
	char dir[PATH_MAX];

	for (int i = 0; i < cg->n; i++) {
		const struct cg_hier *h = &cg->h[i];
		char *slash;

		if (h->v2)
			continue;
		/* A v1 base is <deskboxd's own cgroup>/<instance>. */
		snprintf(dir, sizeof(dir), "%s", h->base);
		slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		enter_dir(dir, tid);
		sandbox_path(h, name, dir, sizeof(dir));
		rmdir(dir);
	}
}

int cgroup_spare_enter(const struct cgroup_host *cg, const char *name, pid_t tid)
{
	char dir[PATH_MAX];

	for (int i = 0; i < cg->n; i++) {
		if (cg->h[i].v2)
			continue;
		sandbox_path(&cg->h[i], name, dir, sizeof(dir));
		if ((mkdir(dir, 0755) < 0 && errno != EEXIST) || enter_dir(dir, tid) < 0) {
			int e = errno;

			cgroup_spare_leave(cg, name, tid);
			errno = e;
			return -1;
		}
	}
	return 0;
}

int cgroup_spare_take(const struct cgroup_host *cg, const char *name, const char *id)
{
	char from[PATH_MAX], to[PATH_MAX];

	for (int i = 0; i < cg->n; i++) {
		if (cg->h[i].v2)
			continue;
		sandbox_path(&cg->h[i], name, from, sizeof(from));
		sandbox_path(&cg->h[i], id, to, sizeof(to));
		if (rename(from, to) == 0)
			continue;
		log_event(id, "cgroup rename %s: %s", from, strerror(errno));
		/* Undo, so the spare stays whole and the create makes its own. */
		while (--i >= 0) {
			if (cg->h[i].v2)
				continue;
			sandbox_path(&cg->h[i], name, from, sizeof(from));
			sandbox_path(&cg->h[i], id, to, sizeof(to));
			rename(to, from);
		}
		return 0;
	}
	return 1;
}

int cgroup_clone_fd(const struct cgroup_host *cg, const char *id)
{
	char dir[PATH_MAX];

	for (int i = 0; i < cg->n; i++) {
		if (!cg->h[i].v2)
			continue;
		sandbox_path(&cg->h[i], id, dir, sizeof(dir));
		return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	return -1;
}

void cgroup_kill(const struct cgroup_host *cg, const char *id)
{
	char dir[PATH_MAX];

	for (int i = 0; i < cg->n; i++) {
		sandbox_path(&cg->h[i], id, dir, sizeof(dir));
		if (cg->h[i].v2)
			write_file(dir, "cgroup.kill", "1");
		kill_procs(dir);
	}
}

int cgroup_destroy(const struct cgroup_host *cg, const char *id, int wait)
{
	char dir[PATH_MAX];
	int r = 0;

	for (int i = 0; i < cg->n; i++) {
		sandbox_path(&cg->h[i], id, dir, sizeof(dir));
		if (wait) {
			if (kill_and_remove(dir, cg->h[i].v2)) {
				log_event(id, "cannot remove cgroup %s: %s", dir, strerror(errno));
				r = -1;
			}
			continue;
		}
		if (cg->h[i].v2)
			write_file(dir, "cgroup.kill", "1");
		kill_procs(dir);
		if (rmdir(dir) == 0 || errno == ENOENT)
			continue;
		if (errno == EBUSY) {
			r = r < 0 ? r : 1;
		} else {
			log_event(id, "cannot remove cgroup %s: %s", dir, strerror(errno));
			r = -1;
		}
	}
	return r;
}

int cgroup_nprocs(const struct cgroup_host *cg, const char *id)
{
	char dir[PATH_MAX];

	if (cg->n == 0)
		return -1;
	sandbox_path(&cg->h[0], id, dir, sizeof(dir));
	return nprocs(dir);
}

/* The number after key (a "key value" line) in the file at dir/name, or -1;
 * key NULL: the file's first number. */
static long long read_number(const char *dir, const char *name, const char *key)
{
	char path[PATH_MAX], buf[4096], *p = buf;
	size_t kl = key ? strlen(key) : 0;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path) ||
	    read_file(path, buf, sizeof(buf)))
		return -1;
	while (key && p) {
		if (!strncmp(p, key, kl) && p[kl] == ' ') {
			p += kl + 1;
			break;
		}
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return p ? strtoll(p, NULL, 10) : -1;
}

/* The first hierarchy whose controllers include v2_ctrl (on v2) or v1_ctrl
 * (on v1), with the sandbox's directory in it; NULL when none has it. */
static const struct cg_hier *hier_with(const struct cgroup_host *cg, unsigned v2_ctrl,
				       unsigned v1_ctrl, const char *id, char *dir, size_t cap)
{
	for (int i = 0; i < cg->n; i++) {
		const struct cg_hier *h = &cg->h[i];

		if (h->ctrls & (h->v2 ? v2_ctrl : v1_ctrl)) {
			sandbox_path(h, id, dir, cap);
			return h;
		}
	}
	return NULL;
}

/* The sandbox's CPU time in µs: v2's cpu.stat or v1's cpuacct.usage
 * (beside cpu or a hierarchy of its own, as on hybrid hosts), else -1. */
static long long cpu_usage_us(const struct cgroup_host *cg, const char *id)
{
	char dir[PATH_MAX];
	const struct cg_hier *h = hier_with(cg, CG_CPU, CG_CPUACCT, id, dir, sizeof(dir));
	long long v;

	if (!h)
		return -1;
	if (h->v2)
		return read_number(dir, "cpu.stat", "usage_usec");
	v = read_number(dir, "cpuacct.usage", NULL);
	return v < 0 ? -1 : v / 1000;
}

void cgroup_usage(const struct cgroup_host *cg, const char *id, long long *mem, long long *cpu_us)
{
	char dir[PATH_MAX];
	const struct cg_hier *h = hier_with(cg, CG_MEMORY, CG_MEMORY, id, dir, sizeof(dir));

	*cpu_us = cpu_usage_us(cg, id);
	*mem = h ? read_number(dir, h->v2 ? "memory.current" : "memory.usage_in_bytes", NULL) : -1;
}

void cgroup_cpu_sample(const struct cgroup_host *cg, const char *id, long long *usage_us,
		       long long *throttled)
{
	char dir[PATH_MAX];

	*usage_us = cpu_usage_us(cg, id);
	*throttled = hier_with(cg, CG_CPU, CG_CPU, id, dir, sizeof(dir))
		? read_number(dir, "cpu.stat", "nr_throttled") : -1;
}

/* Is the thread in state R (running or runnable)? */
static int thread_runnable(long tid)
{
	char path[64], buf[512], *close_paren;

	snprintf(path, sizeof(path), "/proc/%ld/stat", tid);
	if (read_file(path, buf, sizeof(buf)))
		return 0;
	close_paren = strrchr(buf, ')');
	return close_paren && close_paren[1] == ' ' && close_paren[2] == 'R';
}

int cgroup_cpu_runnable(const struct cgroup_host *cg, const char *id, int cap)
{
	char dir[PATH_MAX], path[PATH_MAX + 16], buf[16384];
	const struct cg_hier *h = hier_with(cg, CG_CPU, CG_CPU, id, dir, sizeof(dir));
	int n = 0, seen = 0;

	if (!h)
		return -1;
	/* Threads, not processes: a busy thread of a quiet process counts. */
	snprintf(path, sizeof(path), "%s/%s", dir, h->v2 ? "cgroup.threads" : "tasks");
	if (read_file(path, buf, sizeof(buf)))
		return -1;
	for (char *p = buf, *end; *p && seen < cap; p = end, seen++) {
		long tid = strtol(p, &end, 10);

		if (end == p)
			break;
		n += thread_runnable(tid);
	}
	return n;
}

int cgroup_cpu_weight(const struct cgroup_host *cg, const char *id, int low)
{
	char dir[PATH_MAX];
	const struct cg_hier *h = hier_with(cg, CG_CPU, CG_CPU, id, dir, sizeof(dir));

	if (!h)
		return -1;
	/* v2 cpu.weight 1..10000, default 100; v1 cpu.shares, default 1024. */
	if (h->v2)
		return write_file(dir, "cpu.weight", low ? "12" : "100");
	return write_file(dir, "cpu.shares", low ? "128" : "1024");
}
