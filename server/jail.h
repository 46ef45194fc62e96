/*
 * jail.h - start a sandbox's init inside a fresh set of namespaces.
 */
#ifndef DESKBOX_JAIL_H
#define DESKBOX_JAIL_H

#include <linux/filter.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup.h"
#include "sblimits.h"

#define JAIL_UID 1000
#define JAIL_GID 1000

struct cloner;

struct jail_spec {
	const char *id;                   /* hostname and cgroup name */
	const struct limits *limits;
	const char *mnt_dir;              /* an empty directory to build the root on */
	const char *image_dir;            /* NULL: host mode; else overlay lower dir */
	uint32_t host_id;                 /* first host uid/gid of the sandbox's ids */
	unsigned nids;                    /* > 1: ids 0..nids-1 map to host_id...
					     (root: a range of its own); 1: only
					     JAIL_UID maps, to host_id (rootless) */
	const struct cgroup_host *cg;     /* attach the init here before it runs */
	struct cloner *cloner;            /* non-NULL: the sandbox's cgroup v1
					     directories are the cloner's spare,
					     and it clones the init there */
	int init_fd;                      /* deskbox-init, opened O_PATH */
	int chan_fd;                      /* the sandbox's end of the channel */
	const struct sock_fprog *seccomp;
	int egress;                       /* make the egress proxy listeners */
	const struct keymap *keymap;      /* host mode, a desktop: serve Xvfb
					     this precompiled keymap; or NULL */
};

struct jail_proc {
	pid_t pid;     /* host pid of the sandbox's init */
	int pidfd;     /* readable once it has exited */
	int errfd;     /* the setup's error text, then EOF; EOF alone = init runs */
};

/*
 * Clone the init into new pid, mount, net, ipc, uts and cgroup namespaces
 * (and the user namespace, rootless), attach it to its cgroups, then let it
 * build the jail, enter its user namespace (as root: one owned by the
 * sandbox's host id range) and exec deskbox-init. Does not wait for the setup: its
 * outcome arrives on errfd and, on success, as PROTO_READY on the channel.
 * Returns 0, or -1 with a message in err.
 */
int jail_spawn(const struct jail_spec *s, struct jail_proc *out, char *err, size_t errlen);

#endif
