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
#include <sys/socket.h>

#include "cgroup.h"
#include "config.h"
#include "keymap.h"
#include "uidrange.h"
#include "metrics.h"

struct sandbox;
struct ev;
struct bus;
struct egress;
struct mcp;
struct op_call;
struct pool;
struct front;

/* drain.c: taking the server out of service. */
struct drain_state {
	int on;                   /* creates refused, /readyz failing */
	int exit;                 /* stop once no sandbox is left (SIGTERM) */
	int64_t since_us;         /* monotonic */
	lws_sorted_usec_list_t timer;   /* the grace */
};

/* single.c: single-sandbox mode and its activity keep-alive. */
struct single {
	int on, running;
	char id[40];
	struct op_call *call;     /* the create, while it runs */
	lws_sorted_usec_list_t tick;   /* the activity keep-alive */
	lws_sorted_usec_list_t gone;   /* stop after the sandbox ended */
	int ping_fd, ping_sent;
	uint64_t pings;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char request[1536];
};

struct cloner;

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
	struct cloner *cloner;    /* cloner.c: v1 spare cgroups, or NULL */
	struct sock_fprog *seccomp;
	int init_fd;              /* deskbox-init, O_PATH */
	int desktop_fd;           /* deskbox-desktop, O_PATH, or -1 */
	struct keymap keymap;     /* keymap.c: Xvfb's keymap, precompiled */
	int null_fd;              /* /dev/null, for stdin nobody writes */
	struct ev *ev;            /* fd watcher (ev.c) */
	struct front *front;      /* the listening socket (front.c) */
	struct bus *bus;          /* event subscriptions (bus.c) */
	struct egress *egress;    /* egress.c: the helper; NULL if it could not start */
	struct mcp *mcp;          /* mcp.c: MCP sessions; NULL until the first */
	struct sandbox *sandboxes;
	int nsandboxes;
	int stopping;
	int exit_code;            /* main's, once the loop ends */
	int signal_fd;
	struct drain_state drain;
	struct single single;
	struct pool *pool;        /* pool.c: warm pools, or NULL */
	int pool_size;            /* ready pool members among nsandboxes */
	struct metrics metrics;
	lws_sorted_usec_list_t cpufair_tick;   /* cpufair.c */
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
