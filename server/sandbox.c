/*
 * sandbox.c - the registry of sandboxes and their lifecycle.
 *
 * Owns every `struct sandbox`, its channel, pidfd and setup-error pipe, and
 * the ops waiting for replies from its init. Runs on the event-loop thread;
 * nothing here waits for a sandbox except sbx_destroy_all at shutdown.
 *
 * Lifecycle: STARTING (jail being built) → RUNNING (init sent READY) →
 * STOPPING (killed: by DELETE, expiry, shutdown, or because its init died) →
 * freed (removed) or FAILED (died on its own; kept so clients can see why,
 * until DELETE or expiry).
 */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bus.h"
#include "cloner.h"
#include "desktop.h"
#include "drain.h"
#include "egress.h"
#include "ev.h"
#include "vncport.h"
#include "ws.h"
#include "jail.h"
#include "log.h"
#include "pool.h"
#include "recording.h"
#include "single.h"

static const char *const state_names[] = {
	[SBX_STARTING] = "starting",
	[SBX_RUNNING] = "running",
	[SBX_STOPPING] = "stopping",
	[SBX_FAILED] = "failed",
};

static void teardown(struct sandbox *sb);

/* Move sb to state and tell subscribers (sandbox.state). */
static void set_state(struct sandbox *sb, enum sbx_state state)
{
	sb->state = state;
	bus_emit(sb->srv, sb->id, BUS_SANDBOX_STATE,
		 sb->error[0] && state == SBX_FAILED
			 ? json_pack("{s:s,s:s}", "state", state_names[state], "error", sb->error)
			 : json_pack("{s:s}", "state", state_names[state]));
}

struct sandbox *sbx_find(struct srv *srv, const char *id)
{
	/* Pool members are nobody's yet: not found by id. */
	for (struct sandbox *sb = srv->sandboxes; sb; sb = sb->next)
		if (!strcmp(sb->id, id))
			return sb->pooled ? NULL : sb;
	return NULL;
}

void sbx_iso_time(int64_t us, char *out, size_t cap)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)((us / 1000) % 1000));
}

json_t *sbx_json(const struct sandbox *sb)
{
	char created[40], expires[40];
	json_t *j, *enforced = json_array();
	const struct limits *l = &sb->spec.limits;

	sbx_iso_time(sb->created_us, created, sizeof(created));
	if (sb->expires_us)
		sbx_iso_time(sb->expires_us, expires, sizeof(expires));
	if (sb->enforced & CG_MEMORY)
		json_array_append_new(enforced, json_string("memory"));
	if (sb->enforced & CG_PIDS)
		json_array_append_new(enforced, json_string("pids"));
	if (sb->enforced & CG_CPU)
		json_array_append_new(enforced, json_string("cpu"));
	j = json_pack("{s:s,s:s,s:s,s:o,s:I,s:{s:I,s:I,s:f,s:I,s:I},s:s,s:{s:s,s:o},s:{s:I,s:I,s:b},s:i}",
		      "id", sb->id,
		      "state", state_names[sb->state],
		      "created_at", created,
		      "expires_at", sb->expires_us ? json_string(expires) : json_null(),
		      "timeout_s", (json_int_t)sb->spec.timeout_s,
		      "limits", "memory_mb", (json_int_t)l->memory_mb, "pids", (json_int_t)l->pids,
		      "cpu", l->cpu, "disk_mb", (json_int_t)l->disk_mb, "nofile", (json_int_t)l->nofile,
		      "rootfs", sb->spec.rootfs,
		      "cgroup", "version", sb->srv->cg.mode, "enforced", enforced,
		      "userns", "host_uid", (json_int_t)sb->host_id, "ids", (json_int_t)sb->nids,
		      "own_range", sb->uid_slot >= 0,
		      "pid", (int)sb->pid);
	if (j && sb->error[0])
		json_object_set_new(j, "error", json_string(sb->error));
	if (j && sb->desk) {
		json_t *d = desk_json(sb);

		json_object_set(j, "display", json_object_get(d, "display"));
		json_object_set_new(j, "desktop", d);
	} else if (j) {
		json_object_set_new(j, "display", json_null());
		json_object_set_new(j, "desktop", json_false());
	}
	if (j) {
		json_object_set_new(j, "vnc", sb->vnc ? vncport_json(sb->vnc) : json_null());
		json_object_set_new(j, "network", egress_json(sb));
		/* Where follow-up calls go when several servers share a name. */
		json_object_set_new(j, "endpoint", json_string(sb->srv->cfg.advertise_url));
		json_object_set_new(j, "model_display", sb->spec.model_w
				    ? json_pack("{s:i,s:i}", "width", sb->spec.model_w, "height", sb->spec.model_h)
				    : json_null());
	}
	return j;
}

static void env_free(char **env);

/* The environment of commands in sb, "K=V" strings in a NULL-terminated
 * vector (free with env_free); extra (may be NULL) overrides. */
static char **env_make(const struct sandbox *sb, char *const *extra, size_t nextra)
{
	static const char *const base[] = {
		"PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin",
		"HOME=/home/user", "USER=user", "LOGNAME=user", "SHELL=/bin/bash",
		"LANG=C.UTF-8", "LC_ALL=C.UTF-8", "TERM=xterm-256color",
		"XDG_RUNTIME_DIR=/run/user/1000", "TMPDIR=/tmp",
	};
	size_t nb = sizeof(base) / sizeof(base[0]), n = 0;
	char **env = calloc(nb + sb->spec.env.n + nextra + 16, sizeof(char *));
	const char *const *dv = desk_env(sb), *const *pv = egress_env(sb);
	char host[ID_LEN + 16];

	if (!env)
		return NULL;
	/* Later entries override earlier ones with the same name. */
	const char *const *lists[3] = { (const char *const *)base,
					(const char *const *)sb->spec.env.v,
					(const char *const *)extra };
	size_t counts[3] = { nb, sb->spec.env.n, nextra };

	snprintf(host, sizeof(host), "HOSTNAME=%s", sb->id);
	env[n++] = strdup(host);
	for (size_t i = 0; dv && dv[i]; i++)
		env[n++] = strdup(dv[i]);
	for (size_t i = 0; pv && pv[i]; i++)
		env[n++] = strdup(pv[i]);
	for (int k = 0; k < 3; k++) {
		for (size_t i = 0; i < counts[k]; i++) {
			const char *kv = lists[k][i];
			size_t nl = strcspn(kv, "=");
			size_t j;

			for (j = 0; j < n; j++)
				if (env[j] && !strncmp(env[j], kv, nl) && env[j][nl] == '=')
					break;
			if (j < n) {
				free(env[j]);
				env[j] = strdup(kv);
			} else {
				env[n++] = strdup(kv);
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!env[i]) {
			env_free(env);
			return NULL;
		}
	return env;
}

static void env_free(char **env)
{
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}

uint32_t sbx_send(struct sandbox *sb, uint32_t type, int32_t arg, const void *payload,
		  size_t len, const int *fds, int nfds, sbx_reply_cb cb, void *ctx)
{
	uint32_t id;
	struct sbx_op *op = NULL;

	if (sb->state != SBX_RUNNING || sb->chan < 0) {
		errno = ESRCH;
		return 0;
	}
	if (++sb->next_op == 0)
		sb->next_op = 1;
	id = sb->next_op;
	if (cb) {
		op = calloc(1, sizeof(*op));
		if (!op)
			return 0;
		op->id = id;
		op->cb = cb;
		op->ctx = ctx;
	}
	if (proto_send(sb->chan, type, id, arg, payload, len, fds, nfds) < 0) {
		int e = errno;

		free(op);
		errno = e;
		return 0;
	}
	if (op) {
		op->next = sb->ops;
		sb->ops = op;
	}
	return id;
}

uint32_t sbx_spawn(struct sandbox *sb, char *const argv[], char *const *extra_env,
		   size_t nextra, const char *cwd, int32_t flags, const int *fds, int nfds,
		   sbx_reply_cb cb, void *ctx)
{
	/* Loop thread only: one payload buffer serves every spawn. */
	static char payload[PROTO_MAX_MSG];
	char **env = env_make(sb, extra_env, nextra);
	ssize_t len;
	uint32_t op;

	if (!env) {
		errno = ENOMEM;
		return 0;
	}
	len = proto_pack_spawn(payload, sizeof(payload), argv, env, cwd);
	env_free(env);
	if (len < 0) {
		errno = EMSGSIZE;
		return 0;
	}
	op = sbx_send(sb, PROTO_SPAWN, flags, payload, (size_t)len, fds, nfds, cb, ctx);
	return op;
}

int sbx_notify(struct sandbox *sb, uint32_t type, uint32_t id, int32_t arg)
{
	if (sb->chan < 0) {
		errno = ESRCH;
		return -1;
	}
	return proto_send(sb->chan, type, id, arg, NULL, 0, NULL, 0);
}

void sbx_forget(struct sandbox *sb, uint32_t id)
{
	for (struct sbx_op **pp = &sb->ops; *pp; pp = &(*pp)->next) {
		if ((*pp)->id == id) {
			struct sbx_op *op = *pp;

			*pp = op->next;
			free(op);
			return;
		}
	}
}

static void fail_ops(struct sandbox *sb)
{
	while (sb->ops) {
		struct sbx_op *op = sb->ops;

		sb->ops = op->next;
		op->cb(op->ctx, NULL, NULL, 0);
		free(op);
	}
}

static void dispatch(struct sandbox *sb, const struct proto_hdr *h, int *fds, int nfds)
{
	if (h->type == PROTO_LISTENERS) {
		egress_sandbox_listeners(sb, fds, nfds);
		return;
	}
	if (h->type == PROTO_READY) {
		if (sb->state == SBX_STARTING) {
			sbx_mark(sb, SBX_T_RUNNING, 0);
			set_state(sb, SBX_RUNNING);
			log_event(sb->id, "running (pid %d, %.1f ms)", (int)sb->pid,
				  (double)(srv_mono_us() - sb->start_mono_us) / 1000.0);
			if (sb->spec.desktop) {
				if (desk_start(sb) < 0)
					sbx_desktop_failed(sb, sb->error);
				return;
			}
			if (sb->create_call) {
				struct op_call *c = sb->create_call;

				sb->create_call = NULL;
				sbx_mark(sb, SBX_T_ANSWERED, 0);
				op_ok(c, sbx_json(sb));
			}
		}
		return;
	}
	for (struct sbx_op **pp = &sb->ops; *pp; pp = &(*pp)->next) {
		struct sbx_op *op = *pp;

		if (op->id != h->id)
			continue;
		if (op->cb(op->ctx, h, fds, nfds)) {
			/* the callback may have forgotten other ops: search again */
			sbx_forget(sb, h->id);
		}
		return;
	}
}

static const char *const step_names[SBX_T_N] = {
	[SBX_T_CGROUP] = "cgroups", [SBX_T_CLONE] = "clone",
	[SBX_T_RUNNING] = "init ready", [SBX_T_AGENT_SPAWN] = "agent spawn",
	[SBX_T_AGENT_EXEC] = "agent exec", [SBX_T_XVFB_EXEC] = "Xvfb exec",
	[SBX_T_X_READY] = "X ready", [SBX_T_X_OPEN] = "X connected",
	[SBX_T_AGENT_READY] = "agent ready", [SBX_T_DESK_READY] = "ready read",
	[SBX_T_ANSWERED] = "answered", [SBX_T_APPS] = "apps started",
	[SBX_T_FIRST_SHOT] = "first screenshot",
};

static void log_timeline(struct sandbox *sb)
{
	char line[1024];
	size_t n = 0;

	for (int s = 0; s <= SBX_T_ANSWERED; s++) {
		if (!sb->steps[s])
			continue;
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s +%.1f", n ? "," : "",
				      (double)(sb->steps[s] - sb->start_mono_us) / 1000.0);
		if (n >= sizeof(line))
			break;
		n += (size_t)snprintf(line + n, sizeof(line) - n, " %s", step_names[s]);
		if (n >= sizeof(line))
			break;
	}
	log_event(sb->id, "timeline (ms since the request):%s", line);
}

void sbx_mark(struct sandbox *sb, enum sbx_step s, int64_t at_us)
{
	int64_t now = srv_mono_us();

	if (sb->steps[s])
		return;
	/* The agent's times are its word: only ones that fit are kept. */
	if (at_us && (at_us < sb->start_mono_us || at_us > now))
		return;
	sb->steps[s] = at_us ? at_us : now;
	if (!sb->srv->cfg.log_debug)
		return;
	if (s == SBX_T_ANSWERED)
		log_timeline(sb);
	else if (s > SBX_T_ANSWERED)
		log_event(sb->id, "timeline: +%.1f ms %s", (double)(sb->steps[s] - sb->start_mono_us) / 1000.0,
			  step_names[s]);
}

void sbx_desktop_ready(struct sandbox *sb)
{
	struct op_call *c = sb->create_call;

	if (sb->spec.vnc_port >= 0 && !sb->vnc) {
		sb->vnc = vncport_open(sb, sb->spec.vnc_port);
		if (!sb->vnc && c) {
			sb->create_call = NULL;
			op_fail(c, OPERR_INTERNAL, "cannot open the VNC port %d", sb->spec.vnc_port);
			sbx_remove(sb, NULL);
			return;
		}
	}
	if (!c)
		return;
	log_event(sb->id, "desktop up %.1f ms after create",
		  (double)(srv_mono_us() - sb->start_mono_us) / 1000.0);
	sb->create_call = NULL;
	sbx_mark(sb, SBX_T_ANSWERED, 0);
	op_ok(c, sbx_json(sb));
}

void sbx_desktop_failed(struct sandbox *sb, const char *why)
{
	struct op_call *c = sb->create_call;
	char msg[512];

	if (!c)
		return;
	/* A sandbox asked for with a desktop is no use without one. */
	snprintf(msg, sizeof(msg), "%s", why);
	sb->create_call = NULL;
	op_fail(c, OPERR_DESKTOP_FAILED, "the desktop failed to start: %s", msg);
	sbx_remove(sb, NULL);
}

static void on_chan(void *ctx, uint32_t events)
{
	struct sandbox *sb = ctx;
	static char buf[PROTO_MAX_MSG];

	for (int i = 0; i < 64; i++) {
		struct proto_hdr h;
		int fds[PROTO_MAX_FDS], nfds;
		ssize_t n = proto_recv(sb->chan, &h, buf, sizeof(buf), fds, &nfds);

		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0 && errno == EBADMSG) {
			log_event(sb->id, "dropped a malformed message from the sandbox");
			continue;
		}
		if (n < 0 || (n == 0 && h.type == 0)) {
			/* init is gone; the pidfd tells us when it is reaped. */
			ev_del(sb->srv, sb->chan);
			close(sb->chan);
			sb->chan = -1;
			if (sb->state == SBX_RUNNING || sb->state == SBX_STARTING)
				teardown(sb);
			return;
		}
		dispatch(sb, &h, fds, nfds);
		for (int k = 0; k < nfds; k++)
			if (fds[k] >= 0)
				close(fds[k]);
		if (sb->chan < 0)
			return;
	}
}

static void on_setup_error(void *ctx, uint32_t events)
{
	struct sandbox *sb = ctx;
	ssize_t n = read(sb->errfd, sb->error + sb->errlen, sizeof(sb->error) - 1 - sb->errlen);

	if (n > 0) {
		sb->errlen += (size_t)n;
		sb->error[sb->errlen] = '\0';
		return;
	}
	if (n < 0 && errno == EAGAIN)
		return;
	ev_del(sb->srv, sb->errfd);
	close(sb->errfd);
	sb->errfd = -1;
	if (sb->errlen)
		log_event(sb->id, "jail setup failed: %s", sb->error);
}

static void unlink_sandbox(struct sandbox *sb)
{
	struct srv *srv = sb->srv;

	for (struct sandbox **pp = &srv->sandboxes; *pp; pp = &(*pp)->next) {
		if (*pp == sb) {
			*pp = sb->next;
			srv->nsandboxes--;
			if (!sb->pooled)
				srv->metrics.destroys++;
			pool_sandbox_gone(srv, sb);
			single_sandbox_gone(srv, sb->id);
			drain_sandbox_gone(srv);
			break;
		}
	}
}

static void answer_waiters(struct sandbox *sb)
{
	while (sb->waiters) {
		struct sbx_waiter *w = sb->waiters;

		sb->waiters = w->next;
		if (w->call)
			op_ok(w->call, NULL);
		free(w);
	}
}

static void cancel_waiter(void *job)
{
	struct sbx_waiter *w = job;

	w->call = NULL;
}

/* Give the host id range back: only once nothing runs with its ids. */
static void release_ids(struct sandbox *sb)
{
	uidrange_give(&sb->srv->uids, sb->uid_slot);
	sb->uid_slot = -1;
}

static void sbx_free(struct sandbox *sb)
{
	release_ids(sb);
	while (sb->viewers) {
		struct viewer_token *v = sb->viewers;

		sb->viewers = v->next;
		explicit_bzero(v->token, sizeof(v->token));
		free(v);
	}
	egress_sandbox_free(sb);
	recording_free_all(sb);
	req_create_free(&sb->spec);
	free(sb);
}

const struct viewer_token *sbx_viewer_add(struct sandbox *sb, int view_only, long ttl_s)
{
	struct viewer_token *v = calloc(1, sizeof(*v));
	uint8_t rnd[ID_BYTES];

	if (!v || getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		free(v);
		return NULL;
	}
	id_format(rnd, sizeof(rnd), v->token);
	v->view_only = view_only;
	v->expires_us = srv_wall_us() + (int64_t)ttl_s * 1000000;
	if (sb->expires_us && v->expires_us > sb->expires_us)
		v->expires_us = sb->expires_us;
	v->next = sb->viewers;
	sb->viewers = v;
	return v;
}

int sbx_viewer_check(struct sandbox *sb, const char *token, int *view_only)
{
	int64_t now = srv_wall_us();

	for (struct viewer_token **pp = &sb->viewers; *pp; ) {
		struct viewer_token *v = *pp;

		if (v->expires_us <= now) {
			*pp = v->next;
			free(v);
			continue;
		}
		if (token_equal(token, strlen(token), v->token)) {
			*view_only = v->view_only;
			return 0;
		}
		pp = &v->next;
	}
	return -1;
}

/* Last step, once init is reaped: cgroups go, then the object or its state. */
static void finish(struct sandbox *sb);

static void on_cg_retry(lws_sorted_usec_list_t *sul)
{
	finish(lws_container_of(sul, struct sandbox, cg_retry));
}

static void finish(struct sandbox *sb)
{
	struct srv *srv = sb->srv;

	/* The kernel may still be tearing down the killed tasks: try again
	 * from a timer rather than wait in the loop (a second at most). */
	if (cgroup_destroy(&srv->cg, sb->id, 0) > 0) {
		if (++sb->cg_tries < 200) {
			ev_timer(srv, &sb->cg_retry, on_cg_retry, 5);
			return;
		}
		log_event(sb->id, "its cgroups are still busy; the next start removes them");
		/* Something may still run on its host ids: keep them reserved. */
		sb->uid_slot = -1;
	}
	/* Init reaped = its pid namespace is empty, and the cgroups too. */
	release_ids(sb);
	sb->cg_tries = 0;
	if (sb->create_call) {
		struct op_call *c = sb->create_call;

		sb->create_call = NULL;
		op_fail(c, OPERR_INTERNAL, "the sandbox failed to start: %s",
			sb->error[0] ? sb->error : "its init exited");
		sb->removing = 1;
	}
	if (!sb->removing) {
		if (!sb->error[0])
			snprintf(sb->error, sizeof(sb->error), "the sandbox's init exited");
		set_state(sb, SBX_FAILED);
		log_event(sb->id, "failed: %s", sb->error);
		return;
	}
	log_event(sb->id, "destroyed");
	bus_emit(sb->srv, sb->id, BUS_SANDBOX_STATE, json_pack("{s:s}", "state", "destroyed"));
	answer_waiters(sb);
	ev_timer_cancel(&sb->expiry);
	unlink_sandbox(sb);
	sbx_free(sb);
}

static void on_pidfd(void *ctx, uint32_t events)
{
	struct sandbox *sb = ctx;
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PIDFD, (id_t)sb->pidfd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
		return;
	sb->reaped = 1;
	ev_del(sb->srv, sb->pidfd);
	close(sb->pidfd);
	sb->pidfd = -1;
	if (sb->errfd >= 0)
		on_setup_error(sb, EPOLLIN); /* collect the last words, if any */
	/* Init ending on its own (not removed: its channel's end may have
	 * started the teardown already) is the sandbox failing: say how it
	 * ended, so the state shows a kill -9 apart from a crash or an exit. */
	if (!sb->removing && !sb->error[0]) {
		if (si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED)
			snprintf(sb->error, sizeof(sb->error), "the sandbox's init was killed by signal %d (%s)",
				 si.si_status, strsignal(si.si_status));
		else
			snprintf(sb->error, sizeof(sb->error), "the sandbox's init exited with status %d",
				 si.si_status);
	}
	if (sb->state != SBX_STOPPING)
		teardown(sb);
	else
		finish(sb);
}

/* Kill everything; finish() runs when init has been reaped. */
static void teardown(struct sandbox *sb)
{
	set_state(sb, SBX_STOPPING);
	ev_timer_cancel(&sb->expiry);
	ws_close_all(sb);
	vncport_close(sb->vnc);
	sb->vnc = NULL;
	desk_destroy(sb);
	egress_sandbox_stop(sb);
	fail_ops(sb);
	if (sb->chan >= 0) {
		ev_del(sb->srv, sb->chan);
		close(sb->chan);
		sb->chan = -1;
	}
	cgroup_kill(&sb->srv->cg, sb->id);
	if (!sb->reaped)
		kill(sb->pid, SIGKILL);
	else
		finish(sb);
}

void sbx_remove(struct sandbox *sb, struct op_call *c)
{
	if (c) {
		struct sbx_waiter *w = calloc(1, sizeof(*w));

		if (!w) {
			op_fail(c, OPERR_INTERNAL, "out of memory");
			return;
		}
		w->call = c;
		w->next = sb->waiters;
		sb->waiters = w;
		op_set_job(c, w, cancel_waiter);
	}
	sb->removing = 1;
	if (sb->state == SBX_FAILED)
		finish(sb);
	else if (sb->state != SBX_STOPPING)
		teardown(sb);
}

static void on_expiry(lws_sorted_usec_list_t *sul)
{
	struct sandbox *sb = lws_container_of(sul, struct sandbox, expiry);
	int64_t left = sb->expires_us - srv_wall_us();

	if (!sb->expires_us)
		return;
	if (left > 1000) {
		/* lws timers are limited in range: re-arm until the real time */
		ev_timer(sb->srv, &sb->expiry, on_expiry, left / 1000);
		return;
	}
	log_event(sb->id, "expired");
	sb->srv->metrics.expirations++;
	sbx_remove(sb, NULL);
}

void sbx_set_timeout(struct sandbox *sb, long timeout_s)
{
	sb->spec.timeout_s = timeout_s;
	ev_timer_cancel(&sb->expiry);
	if (timeout_s == 0) {
		sb->expires_us = 0;
		return;
	}
	sb->expires_us = srv_wall_us() + (int64_t)timeout_s * 1000000;
	/* Arm at most a day ahead; on_expiry re-arms. */
	ev_timer(sb->srv, &sb->expiry, on_expiry,
		 timeout_s > 86400 ? 86400000 : (int64_t)timeout_s * 1000);
}

static void cancel_create(void *job)
{
	struct sandbox *sb = job;

	/* Nobody will learn this sandbox's id: don't let it linger. */
	sb->create_call = NULL;
	log_event(sb->id, "creator went away before the sandbox was ready");
	sbx_remove(sb, NULL);
}

/* The programs the full desktop session runs (desktop/session.c), each
 * with the Debian package that has it (rootfs/session-packages). */
static const struct {
	const char *path, *pkg;
} sbx_session_progs[] = {
	{ "usr/bin/tint2", "tint2" },
	{ "usr/bin/hsetroot", "hsetroot" },
	{ "usr/bin/dbus-daemon", "dbus-daemon" },
};

int sbx_session_missing(const char *root, char *buf, size_t len)
{
	char path[PATH_MAX];
	struct stat st;
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(sbx_session_progs) / sizeof(sbx_session_progs[0]); i++) {
		/* lstat: an image's absolute symlink means its own root, not ours. */
		if (snprintf(path, sizeof(path), "%s/%s", root, sbx_session_progs[i].path) < (int)sizeof(path) &&
		    lstat(path, &st) == 0)
			continue;
		if (n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? ", " : "", sbx_session_progs[i].pkg);
	}
	return n > 0;
}

void sbx_create(struct srv *srv, struct req_create *spec, struct op_call *req)
{
	char err[512], image[PATH_MAX];
	struct jail_spec js;
	struct jail_proc jp;
	struct sandbox *sb;
	uint8_t rnd[ID_BYTES];
	int sv[2] = { -1, -1 }, cg, taken;

	if (pool_live_count(srv) >= srv->cfg.max_sandboxes) {
		op_fail(req, OPERR_TOO_MANY_SANDBOXES, "%d sandboxes are running, the most allowed",
			srv->nsandboxes);
		goto fail_spec;
	}
	image[0] = '\0';
	if (strcmp(spec->rootfs, "host")) {
		struct stat st;

		if (snprintf(image, sizeof(image), "%s/%s", srv->images_dir, spec->rootfs) >= (int)sizeof(image) ||
		    stat(image, &st) < 0 || !S_ISDIR(st.st_mode)) {
			op_fail(req, OPERR_BAD_REQUEST, "no root filesystem image '%s' in %s",
				spec->rootfs, srv->images_dir);
			goto fail_spec;
		}
	}
	/* A full session without its panel, wallpaper or bus would start and
	 * look broken; say what is missing instead (docs/api.md). */
	if (spec->desktop > 0 && spec->session == SESSION_FULL &&
	    sbx_session_missing(image[0] ? image : "", err, sizeof(err))) {
		op_fail(req, OPERR_DESKTOP_FAILED, "the full desktop session needs the Debian packages "
			"%s, missing from the root filesystem '%s': install them (scripts/deps.sh, "
			"rootfs/build.sh) or create with {\"desktop\":{\"session\":\"bare\"}}",
			err, spec->rootfs);
		goto fail_spec;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		op_fail(req, OPERR_INTERNAL, "no randomness for an id");
		goto fail_spec;
	}
	sb = calloc(1, sizeof(*sb));
	if (!sb) {
		op_fail(req, OPERR_INTERNAL, "out of memory");
		goto fail_spec;
	}
	sb->srv = srv;
	id_format(rnd, sizeof(rnd), sb->id);
	sb->spec = *spec;
	memset(spec, 0, sizeof(*spec));
	sb->pidfd = sb->chan = sb->errfd = -1;
	sb->uid_slot = -1;
	sb->created_us = srv_wall_us();
	if (srv->rootless) {
		/* No range to give: the sandbox's user is deskboxd's own uid,
		 * shared with deskboxd and every other sandbox. */
		sb->host_id = (uint32_t)geteuid();
		sb->nids = 1;
	} else {
		sb->uid_slot = uidrange_take(&srv->uids, &sb->host_id);
		if (sb->uid_slot < 0) {
			op_fail(req, OPERR_TOO_MANY_SANDBOXES,
				"no free host uid range for another sandbox on this host: %s",
				strerror(errno));
			goto fail_sb;
		}
		sb->nids = UIDRANGE_SIZE;
	}
	/* The timeline counts from the request, parsing included. */
	sb->start_mono_us = req->start_us > 0 ? req->start_us : srv_mono_us();

	if (egress_sandbox_new(sb, sb->spec.network) < 0) {
		op_fail(req, OPERR_INTERNAL, "out of memory");
		goto fail_sb;
	}
	/* The cloner's spare, when one is ready, becomes its v1 cgroups. */
	taken = cloner_take(srv->cloner, sb->id);
	cg = cgroup_create(&srv->cg, sb->id, &sb->spec.limits, taken);
	if (cg < 0) {
		cloner_release(srv->cloner);
		cgroup_destroy(&srv->cg, sb->id, 1);
		op_fail(req, OPERR_INTERNAL, "cannot create the sandbox's cgroups");
		goto fail_sb;
	}
	sb->enforced = (unsigned)cg;
	/* Which way this create went (the cloner's spare or a move). */
	if (srv->cfg.log_debug && cgroup_v1_count(&srv->cg))
		log_event(sb->id, "cgroup v1: %s", taken ? "born in the cloner's spare"
			  : "no spare ready: directories made, the init moved in");
	sbx_mark(sb, SBX_T_CGROUP, 0);
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		op_fail(req, OPERR_INTERNAL, "socketpair: %s", strerror(errno));
		goto fail_cg;
	}
	proto_size_buffers(sv[0], PROTO_MAX_MSG);
	proto_size_buffers(sv[1], PROTO_MAX_MSG);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	js = (struct jail_spec){
		.id = sb->id, .limits = &sb->spec.limits, .mnt_dir = srv->mnt_dir,
		.image_dir = image[0] ? image : NULL, .host_id = sb->host_id, .nids = sb->nids,
		.cg = &srv->cg, .cloner = taken ? srv->cloner : NULL,
		.init_fd = srv->init_fd, .chan_fd = sv[1],
		.seccomp = srv->seccomp, .egress = srv->egress != NULL,
		.keymap = sb->spec.desktop && srv->keymap.xkm ? &srv->keymap : NULL,
	};
	if (jail_spawn(&js, &jp, err, sizeof(err)) < 0) {
		log_event(sb->id, "cannot start: %s", err);
		op_fail(req, OPERR_INTERNAL, "cannot start the sandbox: %s", err);
		goto fail_cg;
	}
	close(sv[1]);
	sbx_mark(sb, SBX_T_CLONE, 0);
	sb->chan = sv[0];
	sb->pid = jp.pid;
	sb->pidfd = jp.pidfd;
	sb->errfd = jp.errfd;
	fcntl(sb->errfd, F_SETFL, O_NONBLOCK);
	sb->next = srv->sandboxes;
	srv->sandboxes = sb;
	srv->nsandboxes++;
	if (ev_add(srv, sb->chan, EPOLLIN, on_chan, sb) < 0 ||
	    ev_add(srv, sb->pidfd, EPOLLIN, on_pidfd, sb) < 0 ||
	    ev_add(srv, sb->errfd, EPOLLIN, on_setup_error, sb) < 0) {
		/* Without watches we cannot tell it ran: kill it and answer. */
		log_event(sb->id, "cannot watch the sandbox: %s", strerror(errno));
		op_fail(req, OPERR_INTERNAL, "cannot watch the sandbox");
		kill(sb->pid, SIGKILL);
		waitpid(sb->pid, NULL, 0);
		ev_del(srv, sb->chan);
		ev_del(srv, sb->pidfd);
		ev_del(srv, sb->errfd);
		close(sb->chan);
		close(sb->pidfd);
		close(sb->errfd);
		unlink_sandbox(sb);
		cgroup_destroy(&srv->cg, sb->id, 1);
		release_ids(sb);
		egress_sandbox_free(sb);
		req_create_free(&sb->spec);
		free(sb);
		return;
	}
	sbx_set_timeout(sb, sb->spec.timeout_s);
	sb->create_call = req;
	op_set_job(req, sb, cancel_create);
	log_event(sb->id, "starting (rootfs %s, memory %ld MiB, pids %ld, cpu %.2f)",
		  sb->spec.rootfs, sb->spec.limits.memory_mb, sb->spec.limits.pids,
		  sb->spec.limits.cpu);
	return;
fail_cg:
	cloner_release(srv->cloner);   /* no-op unless the spare is still taken */
	if (sv[0] >= 0) {
		close(sv[0]);
		close(sv[1]);
	}
	cgroup_destroy(&srv->cg, sb->id, 1);
fail_sb:
	release_ids(sb);
	egress_sandbox_free(sb);
	req_create_free(&sb->spec);
	free(sb);
	return;
fail_spec:
	req_create_free(spec);
}

void sbx_destroy_all(struct srv *srv)
{
	for (struct sandbox *sb = srv->sandboxes; sb; sb = sb->next) {
		ws_close_all(sb);
		vncport_close(sb->vnc);
		sb->vnc = NULL;
		desk_destroy(sb);
		fail_ops(sb);
		if (!sb->reaped)
			kill(sb->pid, SIGKILL);
		cgroup_kill(&srv->cg, sb->id);
	}
	while (srv->sandboxes) {
		struct sandbox *sb = srv->sandboxes;

		if (!sb->reaped) {
			siginfo_t si;

			waitid(P_PIDFD, (id_t)sb->pidfd, &si, WEXITED);
		}
		if (sb->chan >= 0)
			close(sb->chan);
		if (sb->pidfd >= 0)
			close(sb->pidfd);
		if (sb->errfd >= 0)
			close(sb->errfd);
		if (sb->create_call) {
			op_clear_job(sb->create_call);
			sb->create_call = NULL;
		}
		for (struct sbx_waiter *w = sb->waiters; w; w = w->next)
			if (w->call)
				op_clear_job(w->call);
		while (sb->waiters) {
			struct sbx_waiter *w = sb->waiters;

			sb->waiters = w->next;
			free(w);
		}
		cgroup_destroy(&srv->cg, sb->id, 1);
		log_event(sb->id, "destroyed (shutdown)");
		ev_timer_cancel(&sb->expiry);
		ev_timer_cancel(&sb->cg_retry);
		srv->sandboxes = sb->next;
		srv->nsandboxes--;
		sbx_free(sb);
	}
}
