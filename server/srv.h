/*
 * srv.h - the one deskboxd state object and the types its modules share.
 *
 * main.c owns the single `struct srv`; every module reaches it through the
 * lws context's user pointer or the objects that point back to it. All of it
 * lives on the one event-loop thread.
 */
#ifndef DESKBOX_SRV_H
#define DESKBOX_SRV_H

#include <libwebsockets.h>
#include <linux/filter.h>
#include <stdint.h>

#include "cgroup.h"
#include "config.h"
#include "uidrange.h"

struct sandbox;
struct ev;
struct bus;
struct egress;
struct mcp;

struct srv {
	struct config cfg;
	struct lws_context *ctx;
	struct lws_vhost *vh;
	char token[256];
	char instance[32];        /* "deskbox-<8 hex of the state dir>" */
	char mnt_dir[PATH_MAX];   /* where each jail builds its root (own mount ns) */
	char images_dir[PATH_MAX];
	int rootless;
	struct uidrange uids;     /* as root: each sandbox's host id range */
	struct cgroup_host cg;
	struct sock_fprog *seccomp;
	int init_fd;              /* deskbox-init, O_PATH */
	int desktop_fd;           /* deskbox-desktop, O_PATH, or -1 */
	int null_fd;              /* /dev/null, for stdin nobody writes */
	struct ev *ev;            /* fd watcher (ev.c) */
	struct bus *bus;          /* event subscriptions (bus.c) */
	struct egress *egress;    /* egress.c: the helper; NULL if it could not start */
	struct mcp *mcp;          /* mcp.c: MCP sessions; NULL until the first */
	struct sandbox *sandboxes;
	int nsandboxes;
	int stopping;
	int signal_fd;
};

/* The srv a connection belongs to (the lws context's user pointer). */
static inline struct srv *srv_of(struct lws *wsi)
{
	return lws_context_user(lws_get_context(wsi));
}

/* Microseconds on the monotonic and the wall clock. */
int64_t srv_mono_us(void);
int64_t srv_wall_us(void);

#endif
