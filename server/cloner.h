/*
 * cloner.h - a thread that starts sandboxes inside their cgroup v1 cgroups.
 *
 * On cgroup v1 (hybrid hosts) a sandbox's first process used to be moved
 * into its cgroups after the clone; the move waits for an RCU grace period
 * (why and how this avoids it: cloner.c). The cloner thread waits in a
 * spare set of v1 directories instead; a create renames them to its
 * sandbox's id (cloner_take) and has the thread clone the sandbox's first
 * process there (cloner_clone), born in them as on v2 with
 * CLONE_INTO_CGROUP. A create that finds no spare ready (the thread is
 * still moving into the next one) makes its directories and moves its
 * process as before.
 *
 * Everything here is called from deskboxd's loop thread.
 */
#ifndef DESKBOX_CLONER_H
#define DESKBOX_CLONER_H

#include <linux/sched.h>
#include <sys/types.h>

#include "cgroup.h"

struct cloner;

/* Start the thread, which then makes the first spare. NULL (nothing to do
 * or it could not start, logged) when the host has no cgroup v1 hierarchy
 * or sandboxes are not in cgroups at all. */
struct cloner *cloner_start(const struct cgroup_host *cg);

/* Give the spare to sandbox id: 1 when its v1 directories are now id's
 * (cgroup_create(..., v1_made = 1)), 0 when no spare is ready. After a 1
 * the next call must be cloner_clone or cloner_release. NULL-safe. */
int cloner_take(struct cloner *cl, const char *id);

/* clone3(ca) on the cloner thread; the child runs child(arg), which must
 * not return. Returns the child's pid, or -1 with errno. The thread then
 * moves on to a new spare. */
pid_t cloner_clone(struct cloner *cl, struct clone_args *ca, void (*child)(void *), void *arg);

/* A taken spare that will not be cloned from (the create failed first):
 * the thread moves on. A no-op unless cloner_take answered 1. NULL-safe. */
void cloner_release(struct cloner *cl);

/* Once every sandbox is gone: the thread leaves its spare, removes it and
 * ends. A child's parent-death signal follows the thread that cloned it,
 * so the thread must outlive every sandbox it started. NULL-safe. */
void cloner_stop(struct cloner *cl);

#endif
