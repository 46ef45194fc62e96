/*
 * sandbox.h - the sandbox registry and lifecycle, and requests to a
 * sandbox's init over its private channel.
 */
#ifndef DESKBOX_SANDBOX_H
#define DESKBOX_SANDBOX_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

#include "cpufair.h"
#include "op.h"
#include "proto.h"
#include "req.h"
#include "srv.h"
#include "util.h"

enum sbx_state { SBX_STARTING, SBX_RUNNING, SBX_STOPPING, SBX_FAILED };

/*
 * The steps of one create, for the debug log's timeline (sbx_mark): each
 * is a monotonic time, 0 until it happened. The agent's steps come from
 * its "ready" event (CLOCK_MONOTONIC is one clock for the host and every
 * jail: there is no time namespace).
 */
enum sbx_step {
	SBX_T_CGROUP,       /* its cgroups made, limits written */
	SBX_T_CLONE,        /* clone3 returned, maps written, released */
	SBX_T_RUNNING,      /* the jail built (mounts, pivot_root, seccomp), init
			       exec'd and its READY read by deskboxd */
	SBX_T_AGENT_SPAWN,  /* the agent's spawn sent to init */
	SBX_T_AGENT_EXEC,   /* the agent runs */
	SBX_T_XVFB_EXEC,    /* Xvfb forked */
	SBX_T_X_READY,      /* Xvfb's -displayfd answer */
	SBX_T_X_OPEN,       /* the agent connected and set up (XShm, RandR, ...) */
	SBX_T_AGENT_READY,  /* the agent sent "ready" */
	SBX_T_DESK_READY,   /* deskboxd read it */
	SBX_T_ANSWERED,     /* the create answered (201) */
	SBX_T_APPS,         /* the apps started */
	SBX_T_FIRST_SHOT,   /* the first screenshot answered */
	SBX_T_N
};

/*
 * A reply from init to a request sent with sbx_send. h is NULL when the
 * sandbox is going away (the op is then forgotten whatever is returned).
 * The callback may take fds (setting fds[i] = -1); the rest are closed.
 * Returns 1 when the op is complete, 0 to keep receiving replies.
 */
typedef int (*sbx_reply_cb)(void *ctx, const struct proto_hdr *h, int *fds, int nfds);

struct sbx_op {
	uint32_t id;
	sbx_reply_cb cb;
	void *ctx;
	struct sbx_op *next;
};

struct sbx_waiter {
	struct op_call *call;
	struct sbx_waiter *next;
};

struct viewer_token {
	char token[ID_LEN + 1];
	int view_only;
	int64_t expires_us;       /* wall clock */
	struct viewer_token *next;
};

struct sandbox {
	struct sandbox *next;
	struct srv *srv;
	char id[ID_LEN + 1];
	enum sbx_state state;
	char error[512];
	struct req_create spec;
	int64_t created_us, expires_us;   /* wall clock; expires 0 = never */
	int64_t start_mono_us;            /* the create's request came in */
	int64_t steps[SBX_T_N];           /* monotonic us, 0: not (yet) */
	unsigned enforced;                /* CG_* */
	pid_t pid;
	int uid_slot;                     /* uidrange.c slot, or -1 (rootless) */
	uint32_t host_id;                 /* first host uid of its ids */
	unsigned nids;                    /* how many ids map (1: rootless) */
	int pidfd, chan, errfd;
	int reaped;
	int removing;                     /* free once torn down */
	uint32_t next_op;
	struct sbx_op *ops;
	struct op_call *create_call;      /* answered at PROTO_READY */
	struct sbx_waiter *waiters;       /* DELETEs waiting for the teardown */
	lws_sorted_usec_list_t expiry;
	lws_sorted_usec_list_t cg_retry;  /* cgroups still busy after the kill */
	int cg_tries;
	size_t errlen;
	struct desk *desk;                /* desktop.c; NULL without a desktop */
	struct viewer_token *viewers;     /* tokens for the VNC viewer */
	struct ws_conn *ws_conns;         /* ws.c: open WebSockets on this sandbox */
	struct vnc_port *vnc;             /* vncport.c: the raw VNC port, or NULL */
	struct egress_sbx *egress;        /* egress.c: policy, proxies, connection log */
	struct recording *recordings;     /* recording.c: screen recordings, oldest first */
	int pooled;                       /* pool.c: a warm pool member (hidden) */
	int pool_ready;                   /* ... booted, waiting to be taken */
	int pool_shape, pool_leaving;
	struct cpufair cpufair;           /* cpufair.c: its CPU weight */
};

/* Make a viewer token for sb valid for ttl_s seconds (capped by the
 * sandbox's own expiry). Returns it, or NULL. */
const struct viewer_token *sbx_viewer_add(struct sandbox *sb, int view_only, long ttl_s);
/* 0 and *view_only if token is a live viewer token of sb, else -1. */
int sbx_viewer_check(struct sandbox *sb, const char *token, int *view_only);

/* Step s of sb's start happened now (at_us: at that monotonic time, or 0
 * for now). Only the first time counts. At SBX_T_ANSWERED the timeline so
 * far goes to the log at debug level; the later steps get a line each. */
void sbx_mark(struct sandbox *sb, enum sbx_step s, int64_t at_us);

/* Called by desktop.c: the desktop came up, or failed to come up. */
void sbx_desktop_ready(struct sandbox *sb);
void sbx_desktop_failed(struct sandbox *sb, const char *why);

/* Start a sandbox for spec (ownership of spec's strings moves in) and answer
 * c once it runs (or failed). Answers errors itself. */
void sbx_create(struct srv *srv, struct req_create *spec, struct op_call *c);
/* 1 with the packages named (", "-separated) in buf when the full desktop
 * session's programs are missing under root ("" for the host's), else 0. */
int sbx_session_missing(const char *root, char *buf, size_t len);

struct sandbox *sbx_find(struct srv *srv, const char *id);

/* Tear down and forget sb; answer c (may be NULL) when done. */
void sbx_remove(struct sandbox *sb, struct op_call *c);

/* Set the lifetime to timeout_s from now (0 = none). */
void sbx_set_timeout(struct sandbox *sb, long timeout_s);

/* us (wall clock) as 2026-11-22T01:02:03.456Z into out. */
void sbx_iso_time(int64_t us, char *out, size_t cap);

/* The sandbox object of the API. */
json_t *sbx_json(const struct sandbox *sb);

/* Send a request to sb's init; cb (may be NULL) gets its replies. Returns the
 * op id (> 0), or 0 with errno if it could not be sent. fds are not closed. */
uint32_t sbx_send(struct sandbox *sb, uint32_t type, int32_t arg, const void *payload,
		  size_t len, const int *fds, int nfds, sbx_reply_cb cb, void *ctx);

/* Send a message about an existing op (PROTO_KILL of an exec). Returns 0 or -1. */
int sbx_notify(struct sandbox *sb, uint32_t type, uint32_t id, int32_t arg);

/* Forget the op (its callback will not run again). */
void sbx_forget(struct sandbox *sb, uint32_t op);

/* Kill every sandbox and wait for them (shutdown). */
void sbx_destroy_all(struct srv *srv);

/*
 * Start argv in sb (argv[0] looked up in PATH, cwd absolute) with the
 * sandbox's environment plus extra_env ("K=V", overriding; may be NULL),
 * passing fds as PROTO_SPAWN expects for flags (PROTO_SPAWN_*). Replies
 * (SPAWNED, SPAWN_FAIL, EXITED) go to cb. Returns the op id, or 0 with errno:
 * EMSGSIZE when argv and the environment are over PROTO_MAX_MSG, ESRCH when
 * the sandbox is not running. fds are not closed.
 */
uint32_t sbx_spawn(struct sandbox *sb, char *const argv[], char *const *extra_env,
		   size_t nextra, const char *cwd, int32_t flags, const int *fds, int nfds,
		   sbx_reply_cb cb, void *ctx);

#endif
