/*
 * cloner.c - a thread that starts sandboxes inside their cgroup v1 cgroups
 * (see cloner.h).
 *
 * Why: a process moves between cgroups by a cgroup.procs write, which takes
 * cgroup_threadgroup_rwsem for writing; the first write after a quiet
 * spell waits for an RCU grace period, 10-20 ms here, and it was the
 * largest step of a cold create on this hybrid host. cgroup v2 avoids it
 * with clone3's CLONE_INTO_CGROUP (jail.c), which v1 hierarchies ignore.
 * A child is born in the cgroups of the thread that forks it, and v1 lets
 * one thread move alone (its "tasks" file). So this thread moves itself
 * ahead of time into a spare set of v1 directories; a create renames them
 * to its sandbox's id and the thread clones the sandbox's first process
 * there, then moves on to a new spare, paying the grace period between
 * creates instead of within one. Memory is charged to a process's owner
 * (deskboxd's main thread), so nothing of deskboxd's is charged to a
 * sandbox while the thread is in its cgroups; cgroup.c's kill skips our
 * own pid for that moment.
 *
 * Threads: the loop thread calls the public functions; the cloner thread
 * runs thread_main. They share `struct cloner` under its mutex. Forks: the
 * child of cloner_clone is a copy of deskboxd with only the cloner thread,
 * made while the loop thread waits on the condition variable holding no
 * libc lock, so jail.c's child side runs there as it does after the loop
 * thread's own clone. The other way round, the loop thread clones itself
 * while no spare is ready, when this thread is making one: that part
 * (cgroup_spare_enter/leave) makes system calls only, so the child inherits
 * no lock held.
 */
#include "cloner.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"

/* Not a sandbox id (those are 32 hex digits): cgroup.c's start-up sweep
 * removes one a crashed run left, as it does leftover sandboxes. */
#define SPARE "spare"

enum cl_state {
	CL_MAKING,    /* the thread is making a spare and moving into it */
	CL_READY,     /* it waits in the spare */
	CL_TAKEN,     /* the spare is a sandbox's; a clone or release follows */
	CL_CLONING,   /* a clone job is posted */
	CL_BROKEN,    /* no spare can be made here: creates move processes */
	CL_STOPPING,
};

struct cloner {
	const struct cgroup_host *cg;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	enum cl_state state;
	int make_errno;       /* why the spare could not be made (CL_BROKEN) */
	int said_broken;
	/* the clone job */
	struct clone_args *ca;
	void (*child)(void *);
	void *arg;
	pid_t pid;
	int clone_errno;
	int done;
};

static void *thread_main(void *p)
{
	struct cloner *cl = p;
	pid_t tid = (pid_t)syscall(SYS_gettid);

	pthread_mutex_lock(&cl->mu);
	for (;;) {
		if (cl->state == CL_STOPPING)
			break;
		if (cl->state == CL_MAKING) {
			int r, e;

			pthread_mutex_unlock(&cl->mu);
			r = cgroup_spare_enter(cl->cg, SPARE, tid);
			e = errno;
			pthread_mutex_lock(&cl->mu);
			if (cl->state == CL_STOPPING)
				break;
			cl->state = r == 0 ? CL_READY : CL_BROKEN;
			cl->make_errno = r == 0 ? 0 : e;
			continue;
		}
		if (cl->state == CL_CLONING && !cl->done) {
			pid_t pid;

			pthread_mutex_unlock(&cl->mu);
			pid = (pid_t)syscall(SYS_clone3, cl->ca, sizeof(*cl->ca));
			if (pid == 0) {
				cl->child(cl->arg);
				_exit(127);
			}
			pthread_mutex_lock(&cl->mu);
			cl->pid = pid;
			cl->clone_errno = pid < 0 ? errno : 0;
			cl->done = 1;
			pthread_cond_broadcast(&cl->cv);
			/* The spare is the sandbox's now; on to a new one. */
			cl->state = CL_MAKING;
			continue;
		}
		pthread_cond_wait(&cl->cv, &cl->mu);
	}
	pthread_mutex_unlock(&cl->mu);
	/* Back to deskboxd's own cgroups; the spare goes. */
	cgroup_spare_leave(cl->cg, SPARE, tid);
	return NULL;
}

struct cloner *cloner_start(const struct cgroup_host *cg)
{
	struct cloner *cl;
	sigset_t all, old;
	int r;

	if (cgroup_v1_count(cg) == 0)
		return NULL;
	cl = calloc(1, sizeof(*cl));
	if (!cl) {
		log_event(NULL, "cloner: out of memory; sandboxes move into their cgroups");
		return NULL;
	}
	cl->cg = cg;
	cl->state = CL_MAKING;
	pthread_mutex_init(&cl->mu, NULL);
	pthread_cond_init(&cl->cv, NULL);
	/* No signal of deskboxd's is for this thread (the loop reads them
	 * from a signalfd). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&cl->thread, NULL, thread_main, cl);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r) {
		log_event(NULL, "cloner: cannot start its thread (%s); sandboxes move into "
			  "their cgroups", strerror(r));
		pthread_cond_destroy(&cl->cv);
		pthread_mutex_destroy(&cl->mu);
		free(cl);
		return NULL;
	}
	return cl;
}

int cloner_take(struct cloner *cl, const char *id)
{
	int r = 0;

	if (!cl)
		return 0;
	pthread_mutex_lock(&cl->mu);
	if (cl->state == CL_BROKEN && !cl->said_broken) {
		cl->said_broken = 1;
		log_event(NULL, "cloner: cannot make a spare cgroup (%s); sandboxes move into "
			  "their cgroups", strerror(cl->make_errno));
	}
	if (cl->state == CL_READY && cgroup_spare_take(cl->cg, SPARE, id)) {
		cl->state = CL_TAKEN;
		r = 1;
	}
	pthread_mutex_unlock(&cl->mu);
	return r;
}

pid_t cloner_clone(struct cloner *cl, struct clone_args *ca, void (*child)(void *), void *arg)
{
	pid_t pid;

	pthread_mutex_lock(&cl->mu);
	if (cl->state != CL_TAKEN) {
		pthread_mutex_unlock(&cl->mu);
		errno = EINVAL;
		return -1;
	}
	cl->ca = ca;
	cl->child = child;
	cl->arg = arg;
	cl->done = 0;
	cl->state = CL_CLONING;
	pthread_cond_broadcast(&cl->cv);
	while (!cl->done)
		pthread_cond_wait(&cl->cv, &cl->mu);
	pid = cl->pid;
	errno = cl->clone_errno;
	pthread_mutex_unlock(&cl->mu);
	return pid;
}

void cloner_release(struct cloner *cl)
{
	if (!cl)
		return;
	pthread_mutex_lock(&cl->mu);
	if (cl->state == CL_TAKEN) {
		cl->state = CL_MAKING;
		pthread_cond_broadcast(&cl->cv);
	}
	pthread_mutex_unlock(&cl->mu);
}

void cloner_stop(struct cloner *cl)
{
	if (!cl)
		return;
	pthread_mutex_lock(&cl->mu);
	cl->state = CL_STOPPING;
	pthread_cond_broadcast(&cl->cv);
	pthread_mutex_unlock(&cl->mu);
	pthread_join(cl->thread, NULL);
	pthread_cond_destroy(&cl->cv);
	pthread_mutex_destroy(&cl->mu);
	free(cl);
}
