/*
 * desktop.c - the desktop agent of a sandbox, seen from deskboxd.
 *
 * Owns `struct desk`: the server end of the agent's SOCK_SEQPACKET channel,
 * the read end of its stderr (logged line by line), and the calls waiting
 * for a reply. The agent is spawned by the sandbox's init like any command
 * (so it lives in the jail as the sandbox user) with the channel as its fd 3.
 * Everything from the agent is untrusted: a reply is read only for a call
 * that waits for it, its memfd body only if that call's method answers
 * with one and within the method's cap, files beside it only if the
 * method answers with them, as many and as large as its rule says, and
 * only sealed (common/agentmsg.c has the rules; an actions batch's images
 * are such files, checked by fstat and seals, never read here); media types are checked against a list; its events become bus
 * events only through common/agentev.c, each field checked and copied into
 * a fresh object, never relayed as sent. A wake-up reads at most
 * DESK_TURN_MSGS messages and DESK_TURN_BYTES bytes from one agent, so one
 * sandbox cannot starve the others; the rest waits for the next turn.
 * What the agent reports is what the bus's subscribers watch for its
 * sandbox (bus_watching): the watch hook sends it "events.watch" whenever
 * that changes and whenever a desktop becomes ready.
 * Runs on the event-loop thread; the agent does the slow work (capture,
 * encoding, input) in its own process.
 */
#include "desktop.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agentev.h"
#include "agentmsg.h"
#include "agentproto.h"
#include "bus.h"
#include "ev.h"
#include "log.h"
#include "proto.h"
#include "recording.h"
#include "sandbox.h"

#define DESK_XAUTH "/home/user/.Xauthority"
/* Most messages and bytes (datagrams and bodies) read from one agent per
 * wake-up. */
#define DESK_TURN_MSGS  8
#define DESK_TURN_BYTES (1 << 20)

struct desk_call {
	uint32_t id;
	const struct agentmsg_rule *rule;   /* how its reply may come */
	desk_cb cb;
	void *ctx;
	struct desk *d;
	lws_sorted_usec_list_t deadline;
	struct desk_call *next;
};

struct desk {
	struct sandbox *sb;
	enum desk_state state;
	char error[256];
	int chan;                 /* our end of the agent channel, or -1 */
	int logfd;                /* the agent's stdout+stderr, or -1 */
	uint32_t spawn_op;        /* init's op id of the agent process */
	uint32_t next_id;
	struct desk_call *calls;
	struct op_call *restart_call;
	int killing;              /* waiting for the old agent to exit (restart) */
	int width, height;
	unsigned watched;         /* bus topics the agent was last told; ~0u: unknown */
	char logbuf[1024];
	size_t loglen;
	json_t *apps;             /* the agent's last "apps" report, checked */
};

/* MOZ_LEGACY_PROFILES: Firefox takes the profile the full session writes
 * (profiles.ini's default) instead of making one per installation. The
 * session bus (full sessions run one) lets a second Firefox, mousepad or
 * pcmanfm hand its work to the running one; without a bus Firefox shows
 * "already running". Where there is none, clients just find no bus. */
static const char *const desk_env_vars[] = { "DISPLAY=:0", "XAUTHORITY=" DESK_XAUTH,
					     "MOZ_LEGACY_PROFILES=1",
					     "DBUS_SESSION_BUS_ADDRESS=" AGENTPROTO_SESSION_BUS, NULL };

static void fail_calls(struct desk *d)
{
	while (d->calls) {
		struct desk_call *c = d->calls;

		d->calls = c->next;
		ev_timer_cancel(&c->deadline);
		if (c->cb)
			c->cb(c->ctx, NULL, NULL, 0);
		free(c);
	}
}

/* Take call id out of the list (NULL if it is not there). */
static struct desk_call *unlink_call(struct desk *d, uint32_t id)
{
	for (struct desk_call **pp = &d->calls; *pp; pp = &(*pp)->next) {
		struct desk_call *c = *pp;

		if (c->id == id) {
			*pp = c->next;
			ev_timer_cancel(&c->deadline);
			return c;
		}
	}
	return NULL;
}

static void close_chan(struct desk *d)
{
	struct srv *srv = d->sb->srv;

	if (d->chan >= 0) {
		ev_del(srv, d->chan);
		close(d->chan);
		d->chan = -1;
	}
	fail_calls(d);
}

static void flush_log(struct desk *d, int all)
{
	char *nl;

	while ((nl = memchr(d->logbuf, '\n', d->loglen)) || (all && d->loglen)) {
		size_t n = nl ? (size_t)(nl - d->logbuf) : d->loglen;

		log_event(d->sb->id, "desktop: %.*s", (int)n, d->logbuf);
		n += nl ? 1 : 0;
		memmove(d->logbuf, d->logbuf + n, d->loglen - n);
		d->loglen -= n;
	}
}

static void on_log(void *ctx, uint32_t events)
{
	struct desk *d = ctx;
	ssize_t n = read(d->logfd, d->logbuf + d->loglen, sizeof(d->logbuf) - 1 - d->loglen);

	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		flush_log(d, 1);
		ev_del(d->sb->srv, d->logfd);
		close(d->logfd);
		d->logfd = -1;
		return;
	}
	d->loglen += (size_t)n;
	flush_log(d, d->loglen == sizeof(d->logbuf) - 1);
}

/* Tell subscribers the desktop's state (desktop.state). */
static void emit_state(struct desk *d)
{
	const char *name, *error;

	desk_state(d->sb, &name, &error);
	/* A new agent knows nothing of the old one's recording. */
	if (d->state != DESK_READY)
		recording_desktop_lost(d->sb);
	bus_emit(d->sb->srv, d->sb->id, BUS_DESKTOP_STATE,
		 error[0] ? json_pack("{s:s,s:s}", "state", name, "error", error)
			  : json_pack("{s:s}", "state", name));
}

static void set_failed(struct desk *d, const char *why)
{
	struct sandbox *sb = d->sb;
	int starting = d->state == DESK_STARTING;

	d->state = DESK_FAILED;
	snprintf(d->error, sizeof(d->error), "%s", why);
	emit_state(d);
	log_event(sb->id, "desktop failed: %s", why);
	close_chan(d);
	if (d->restart_call) {
		struct op_call *r = d->restart_call;

		d->restart_call = NULL;
		op_fail(r, OPERR_DESKTOP_FAILED, "the desktop did not restart: %s", why);
	}
	if (starting)
		sbx_desktop_failed(sb, why);
}

/* A bus event from the agent (agentev.h checks it). Returns 1 if ev was
 * one (emitted or dropped). */
static int bus_event(struct desk *d, const char *ev, const json_t *msg)
{
	json_t *fields;
	int r = agentev_check(ev, msg, &fields);

	if (r < 0)
		log_event(d->sb->id, "desktop: dropped a malformed %s event", ev);
	else if (r > 0)
		bus_emit(d->sb->srv, d->sb->id, (enum bus_topic)bus_topic_of(ev), fields);
	return r != 0;
}

/* What the agent should report for these watched bus topics. */
static json_t *watch_params(unsigned topics)
{
	return json_pack("{s:b,s:i,s:b,s:b}", "screen", !!(topics & BUS_SCREEN_TOPICS),
			 "min_interval_ms", 50, "windows",
			 !!(topics & (BUS_BIT(BUS_WINDOW_OPENED) | BUS_BIT(BUS_WINDOW_CLOSED) |
				      BUS_BIT(BUS_WINDOW_FOCUSED) | BUS_BIT(BUS_WINDOW_CHANGED))),
			 "clipboard", !!(topics & BUS_BIT(BUS_CLIPBOARD_CHANGED)));
}

/* Tell a ready agent what is watched now, if that changed. */
static void send_watch(struct desk *d)
{
	unsigned topics = bus_watching(d->sb->srv, d->sb->id);

	if (d->state != DESK_READY || d->chan < 0 || topics == d->watched)
		return;
	if (desk_call(d->sb, AGENT_M_EVENTS_WATCH, watch_params(topics), -1, NULL, NULL))
		d->watched = topics;
}

static void desk_watch_changed(struct srv *srv, const char *sandbox)
{
	if (sandbox) {
		struct sandbox *sb = sbx_find(srv, sandbox);

		if (sb && sb->desk)
			send_watch(sb->desk);
		return;
	}
	for (struct sandbox *sb = srv->sandboxes; sb; sb = sb->next)
		if (sb->desk)
			send_watch(sb->desk);
}

/* The agent's start-up times (monotonic us) into the create's timeline;
 * sbx_mark keeps only the ones that fit. */
static void mark_agent_steps(struct sandbox *sb, const json_t *t)
{
	static const struct { const char *key; enum sbx_step step; } keys[] = {
		{ "exec", SBX_T_AGENT_EXEC }, { "xvfb_exec", SBX_T_XVFB_EXEC },
		{ "x_ready", SBX_T_X_READY }, { "x_open", SBX_T_X_OPEN },
		{ "ready", SBX_T_AGENT_READY },
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const json_t *v = json_object_get(t, keys[i].key);

		if (json_is_integer(v) && json_integer_value(v) > 0)
			sbx_mark(sb, keys[i].step, (int64_t)json_integer_value(v));
	}
}

static void on_event(struct desk *d, json_t *msg)
{
	const char *ev = json_string_value(json_object_get(msg, "event"));
	json_t *disp;

	if (!ev || bus_event(d, ev, msg))
		return;
	if (!strcmp(ev, "ready")) {
		mark_agent_steps(d->sb, json_object_get(msg, "timeline"));
		sbx_mark(d->sb, SBX_T_DESK_READY, 0);
		disp = json_object_get(msg, "display");
		if (agentmsg_display(disp, &d->width, &d->height) < 0)
			log_event(d->sb->id, "desktop: a malformed display size in ready");
		if (d->state == DESK_STARTING || d->state == DESK_RESTARTING) {
			int was_restart = d->state == DESK_RESTARTING;

			d->state = DESK_READY;
			d->error[0] = '\0';
			emit_state(d);
			log_event(d->sb->id, "desktop ready (%dx%d)", d->width, d->height);
			if (d->restart_call) {
				struct op_call *r = d->restart_call;

				d->restart_call = NULL;
				op_ok(r, sbx_json(d->sb));
			}
			if (!was_restart)
				sbx_desktop_ready(d->sb);
			/* A new agent watches nothing yet. */
			d->watched = 0;
			send_watch(d);
		}
	} else if (!strcmp(ev, "display")) {
		if (agentmsg_display(msg, &d->width, &d->height) < 0) {
			log_event(d->sb->id, "desktop: dropped a malformed display event");
			return;
		}
		bus_emit(d->sb->srv, d->sb->id, BUS_DISPLAY_RESIZED,
			 json_pack("{s:i,s:i}", "width", d->width, "height", d->height));
	} else if (!strcmp(ev, "apps")) {
		json_t *apps = agentmsg_apps(json_object_get(msg, "apps"));

		if (!apps) {
			log_event(d->sb->id, "desktop: dropped a malformed apps report");
			return;
		}
		json_decref(d->apps);
		d->apps = apps;
		sbx_mark(d->sb, SBX_T_APPS, 0);
	} else if (!strcmp(ev, AGENT_E_RECORD_ENDED)) {
		recording_agent_event(d->sb, msg);
	} else if (!strcmp(ev, "display_lost")) {
		const char *e = json_string_value(json_object_get(msg, "error"));

		set_failed(d, e ? e : "the X server went away");
	}
}

/* 1 when fd is a sealed memfd (or other regular file that can no longer
 * change), so its size holds while it is read or streamed. */
static int sealed_file(int fd, struct stat *st)
{
	return fstat(fd, st) == 0 && S_ISREG(st->st_mode) && agentmsg_sealed(fcntl(fd, F_GET_SEALS));
}

/* The whole reply that came as {"id":N,"body_fd":true} + memfd, within
 * cap bytes (*size: what was read). NULL with why set if unfit. */
static json_t *read_body_fd(int fd, size_t cap, size_t *size, const char **why)
{
	struct stat st;
	char *buf;
	json_t *j = NULL;

	*why = "the desktop sent a malformed reply";
	if (!sealed_file(fd, &st) || st.st_size <= 0)
		return NULL;
	if ((uint64_t)st.st_size > cap) {
		*why = "the desktop's reply is over its size limit";
		return NULL;
	}
	buf = malloc((size_t)st.st_size);
	if (buf && pread(fd, buf, (size_t)st.st_size, 0) == st.st_size) {
		*size = (size_t)st.st_size;
		j = json_loadb(buf, (size_t)st.st_size, 0, NULL);
	}
	free(buf);
	return j;
}

/* The reply that stands for a bad one, to the call that waits for it. */
static json_t *reply_error(const char *why)
{
	return json_pack("{s:{s:s,s:s}}", "error", "code", "internal", "message", why);
}

static void close_fds(int *fds, int nfds)
{
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
}

/* What is wrong with the files beside a reply to a call of rule's method
 * (NULL: nothing). Cheap: fstat and the seals, never the bytes; an image
 * is sealed, so the size checked here holds while a face reads it. */
static const char *check_files(const struct agentmsg_rule *rule, int *fds, int nfds)
{
	uint64_t total = 0;
	struct stat st;

	if (!rule->fd)
		return "the desktop sent a file it should not";
	if (nfds > rule->max_fds)
		return "the desktop sent too many files";
	for (int i = 0; i < nfds; i++) {
		if (rule->fd == AGENTMSG_FD_FILE) {
			if (fstat(fds[i], &st) < 0 || !S_ISREG(st.st_mode))
				return "the desktop sent an unsealed file";
			continue;
		}
		if (!sealed_file(fds[i], &st))
			return "the desktop sent an unsealed file";
		if (st.st_size <= 0)
			return "the desktop sent an empty file";
		total += (uint64_t)st.st_size;
	}
	if (rule->max_fd_bytes && total > rule->max_fd_bytes)
		return "the desktop's files are over their size limit";
	return NULL;
}

/*
 * A reply (msg has an id): only an open call's, else it is dropped unread;
 * a memfd body only where the call's method answers with one, files beside
 * it only where the method answers with them, as many and as large as its
 * rule says, and only sealed ones (check_files). Returns the body bytes read.
 */
static size_t on_reply(struct desk *d, json_t *msg, int *fds, int nfds)
{
	json_t *id = json_object_get(msg, "id");
	struct desk_call *c = json_is_integer(id) ? unlink_call(d, (uint32_t)json_integer_value(id)) : NULL;
	json_t *whole = NULL;
	const char *why = NULL;
	size_t size = 0;

	if (!c) {
		close_fds(fds, nfds);
		return 0;
	}
	if (json_is_true(json_object_get(msg, "body_fd"))) {
		if (!c->rule->max_body)
			why = "the desktop sent a body for a reply that has none";
		else if (nfds != 1)
			why = "the desktop sent a malformed reply";
		else {
			/* Not inside json_is_object(): jansson's macro evaluates
			 * its argument twice (the body was read and parsed twice,
			 * and the first parse leaked). */
			whole = read_body_fd(fds[0], c->rule->max_body, &size, &why);
			if (json_is_object(whole))
				why = NULL;
		}
		close_fds(fds, nfds);
		nfds = 0;
	} else if (nfds > 0 && (why = check_files(c->rule, fds, nfds))) {
		close_fds(fds, nfds);
		nfds = 0;
	}
	if (why) {
		log_event(d->sb->id, "desktop: call %u: %s", c->id, why);
		json_decref(whole);
		whole = reply_error(why);
	}
	if (whole)
		msg = whole;
	if (c->cb)
		c->cb(c->ctx, msg, fds, nfds);
	else
		close_fds(fds, nfds);
	json_decref(whole);
	free(c);
	return size;
}

static void on_chan(void *ctx, uint32_t events)
{
	struct desk *d = ctx;
	static char buf[AGENTPROTO_MAX_MSG];
	size_t spent = 0;

	/* A bounded amount per wake-up, so one desktop cannot starve others;
	 * the channel stays readable (epoll is level-triggered) for the rest. */
	for (int round = 0; round < DESK_TURN_MSGS && spent < DESK_TURN_BYTES && d->chan >= 0; round++) {
		int fds[PROTO_MAX_RAW_FDS], nfds;
		ssize_t n = proto_recv_raw(d->chan, buf, sizeof(buf), fds, &nfds);
		json_t *msg;

		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0 && errno == EBADMSG)
			continue;
		if (n <= 0) {
			/* The agent is gone; init's EXITED says how. */
			close_chan(d);
			return;
		}
		spent += (size_t)n;
		msg = json_loadb(buf, (size_t)n, 0, NULL);
		if (!json_is_object(msg)) {
			log_event(d->sb->id, "desktop: dropped a malformed message");
			close_fds(fds, nfds);
		} else if (json_object_get(msg, "event")) {
			close_fds(fds, nfds);
			on_event(d, msg);
		} else {
			spent += on_reply(d, msg, fds, nfds);
		}
		json_decref(msg);
	}
}

static int spawn_agent(struct desk *d);

static int on_agent_exit(void *ctx, const struct proto_hdr *h, int *fds, int nfds)
{
	struct desk *d = ctx;
	char why[160];

	if (!h)
		return 1; /* the sandbox is going; desk_destroy cleans up */
	if (h->type == PROTO_SPAWNED)
		return 0;
	d->spawn_op = 0;
	if (h->type == PROTO_SPAWN_FAIL)
		snprintf(why, sizeof(why), "cannot start the desktop agent: %s", strerror(h->arg));
	else if (WIFEXITED(h->arg))
		snprintf(why, sizeof(why), "the desktop agent exited with status %d", WEXITSTATUS(h->arg));
	else
		snprintf(why, sizeof(why), "the desktop agent was killed by signal %d", WTERMSIG(h->arg));
	if (d->killing) {
		d->killing = 0;
		if (spawn_agent(d) < 0)
			set_failed(d, d->error);
		return 1;
	}
	if (d->state != DESK_FAILED)
		set_failed(d, why);
	return 1;
}

/* argv of the agent; strings live in `store`. */
static int agent_argv(const struct sandbox *sb, char **argv, size_t cap, char store[][32])
{
	const struct req_create *s = &sb->spec;
	size_t n = 0;

	snprintf(store[0], 32, "%d", s->width);
	snprintf(store[1], 32, "%d", s->height);
	snprintf(store[2], 32, "%d", sb->srv->cfg.max_width);
	snprintf(store[3], 32, "%d", sb->srv->cfg.max_height);
	snprintf(store[4], 32, "%d", s->dpi);
	argv[n++] = "deskbox-desktop";
	argv[n++] = "--width";
	argv[n++] = store[0];
	argv[n++] = "--height";
	argv[n++] = store[1];
	argv[n++] = "--max-width";
	argv[n++] = store[2];
	argv[n++] = "--max-height";
	argv[n++] = store[3];
	argv[n++] = "--xauth";
	argv[n++] = DESK_XAUTH;
	if (s->gl)
		argv[n++] = "--gl";
	if (!s->wm)
		argv[n++] = "--no-wm";
	argv[n++] = "--session";
	argv[n++] = s->session == SESSION_FULL ? "full" : "bare";
	argv[n++] = "--dpi";
	argv[n++] = store[4];
	for (size_t i = 0; s->apps && s->apps[i]; i++) {
		if (n + 3 > cap)
			return -1;
		argv[n++] = "--app";
		argv[n++] = s->apps[i];
	}
	argv[n] = NULL;
	return 0;
}

static int spawn_agent(struct desk *d)
{
	struct sandbox *sb = d->sb;
	struct srv *srv = sb->srv;
	char store[5][32], *argv[160];
	int sv[2] = { -1, -1 }, logp[2] = { -1, -1 }, fds[5], r = -1;

	if (srv->desktop_fd < 0) {
		snprintf(d->error, sizeof(d->error), "deskbox-desktop is not installed beside deskboxd");
		return -1;
	}
	if (agent_argv(sb, argv, sizeof(argv) / sizeof(argv[0]), store) < 0) {
		snprintf(d->error, sizeof(d->error), "too many apps");
		return -1;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0 ||
	    pipe2(logp, O_CLOEXEC) < 0) {
		snprintf(d->error, sizeof(d->error), "cannot set up the desktop agent: %s", strerror(errno));
		goto out;
	}
	proto_size_buffers(sv[0], AGENTPROTO_MAX_MSG);
	proto_size_buffers(sv[1], AGENTPROTO_MAX_MSG);
	fds[0] = srv->null_fd;
	fds[1] = logp[1];
	fds[2] = logp[1];
	fds[3] = srv->desktop_fd;
	fds[4] = sv[1];
	/* With an id range of its own the sandbox runs the agent as a uid of
	 * its own, out of the user's reach (include/caps.h); rootless maps
	 * one uid, and the agent shares it with the user (non-dumpable). */
	d->spawn_op = sbx_spawn(sb, argv, NULL, 0, "/home/user",
				PROTO_SPAWN_EXECFD | PROTO_SPAWN_EXTRAFD |
				(sb->nids > 1 ? PROTO_SPAWN_AGENT : 0),
				fds, 5, on_agent_exit, d);
	if (!d->spawn_op) {
		if (errno == EMSGSIZE)
			snprintf(d->error, sizeof(d->error), "the desktop's apps are too long");
		else
			snprintf(d->error, sizeof(d->error), "cannot reach the sandbox: %s", strerror(errno));
		goto out;
	}
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	fcntl(logp[0], F_SETFL, O_NONBLOCK);
	d->chan = sv[0];
	d->logfd = logp[0];
	sv[0] = logp[0] = -1;
	if (ev_add(srv, d->chan, EPOLLIN, on_chan, d) < 0 ||
	    ev_add(srv, d->logfd, EPOLLIN, on_log, d) < 0) {
		snprintf(d->error, sizeof(d->error), "cannot watch the desktop agent");
		sbx_notify(sb, PROTO_KILL, d->spawn_op, 9);
		goto out;
	}
	r = 0;
out:
	for (int i = 0; i < 2; i++) {
		if (sv[i] >= 0)
			close(sv[i]);
		if (logp[i] >= 0)
			close(logp[i]);
	}
	return r;
}

int desk_start(struct sandbox *sb)
{
	struct desk *d = calloc(1, sizeof(*d));

	if (!d) {
		snprintf(sb->error, sizeof(sb->error), "out of memory");
		return -1;
	}
	/* The hook is one function for all desktops; setting it again is a
	 * no-op, and here it is set before any desktop can be watched. */
	bus_on_watch_change(desk_watch_changed);
	d->sb = sb;
	d->chan = d->logfd = -1;
	d->state = DESK_STARTING;
	sbx_mark(sb, SBX_T_AGENT_SPAWN, 0);
	d->width = sb->spec.width;
	d->height = sb->spec.height;
	sb->desk = d;
	if (spawn_agent(d) < 0) {
		snprintf(sb->error, sizeof(sb->error), "%s", d->error);
		desk_destroy(sb);
		return -1;
	}
	return 0;
}

void desk_destroy(struct sandbox *sb)
{
	struct desk *d = sb->desk;

	if (!d)
		return;
	if (d->spawn_op)
		sbx_forget(sb, d->spawn_op);
	close_chan(d);
	if (d->logfd >= 0) {
		flush_log(d, 1);
		ev_del(sb->srv, d->logfd);
		close(d->logfd);
	}
	if (d->restart_call)
		op_fail(d->restart_call, OPERR_SANDBOX_NOT_RUNNING, "the sandbox stopped");
	sb->desk = NULL;
	json_decref(d->apps);
	free(d);
}

static void cancel_restart(void *job)
{
	struct desk *d = job;

	d->restart_call = NULL;
}

void desk_restart(struct sandbox *sb, struct op_call *req)
{
	struct desk *d = sb->desk;

	if (!d) {
		op_fail(req, OPERR_NO_DESKTOP, "this sandbox has no desktop");
		return;
	}
	if (d->restart_call || d->state == DESK_STARTING || d->state == DESK_RESTARTING) {
		op_fail(req, OPERR_BUSY, "the desktop is already starting");
		return;
	}
	log_event(sb->id, "desktop restart requested");
	d->restart_call = req;
	op_set_job(req, d, cancel_restart);
	d->state = DESK_RESTARTING;
	emit_state(d);
	close_chan(d);
	if (d->logfd >= 0) {
		flush_log(d, 1);
		ev_del(sb->srv, d->logfd);
		close(d->logfd);
		d->logfd = -1;
	}
	if (d->spawn_op) {
		d->killing = 1;
		if (sbx_notify(sb, PROTO_KILL, d->spawn_op, 9) < 0)
			set_failed(d, "cannot reach the sandbox");
		return;
	}
	if (spawn_agent(d) < 0)
		set_failed(d, d->error);
}

static void on_deadline(lws_sorted_usec_list_t *sul)
{
	struct desk_call *c = lws_container_of(sul, struct desk_call, deadline);
	struct desk *d = c->d;
	json_t *msg;

	unlink_call(d, c->id);
	log_event(d->sb->id, "desktop: call %u got no answer in time", c->id);
	msg = json_pack("{s:{s:s,s:s}}", "error", "code", "timeout", "message",
			"the desktop did not answer in time");
	if (c->cb)
		c->cb(c->ctx, msg, NULL, 0);
	json_decref(msg);
	free(c);
}

/* Send text (len bytes) as one datagram, or as a memfd body behind a head
 * when it is over the inline limit. */
static int send_request(struct desk *d, uint32_t id, const char *method, const char *text,
			size_t len, int fd)
{
	int fds[2], nfds = 0, body = -1, r;
	char head[256];

	if (len <= AGENTPROTO_MAX_INLINE)
		return proto_send_raw(d->chan, text, len, &fd, fd >= 0);
	body = memfd_create("request", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (body < 0 || write(body, text, len) != (ssize_t)len ||
	    fcntl(body, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
		if (body >= 0)
			close(body);
		return -1;
	}
	snprintf(head, sizeof(head), "{\"id\":%u,\"method\":\"%s\",\"body_fd\":true}", id, method);
	fds[nfds++] = body;
	if (fd >= 0)
		fds[nfds++] = fd;
	r = proto_send_raw(d->chan, head, strlen(head), fds, nfds);
	close(body);
	return r;
}

uint32_t desk_call(struct sandbox *sb, const char *method, json_t *params, int fd,
		   desk_cb cb, void *ctx)
{
	struct desk *d = sb->desk;
	struct desk_call *c;
	json_t *msg;
	char *text;
	size_t len;
	int r;

	if (!d || d->state != DESK_READY || d->chan < 0) {
		json_decref(params);
		errno = ENOTCONN;
		return 0;
	}
	c = calloc(1, sizeof(*c));
	if (++d->next_id == 0)
		d->next_id = 1;
	msg = json_pack("{s:I,s:s,s:o}", "id", (json_int_t)d->next_id, "method", method,
			"params", params ? params : json_object());
	text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
	json_decref(msg);
	if (!c || !text) {
		free(c);
		free(text);
		errno = ENOMEM;
		return 0;
	}
	len = strlen(text);
	if (len > AGENTPROTO_MAX_REQUEST) {
		free(c);
		free(text);
		errno = EMSGSIZE;
		return 0;
	}
	r = send_request(d, d->next_id, method, text, len, fd);
	free(text);
	if (r < 0) {
		free(c);
		return 0;
	}
	c->id = d->next_id;
	c->rule = agentmsg_rule(method);
	c->cb = cb;
	c->ctx = ctx;
	c->d = d;
	c->next = d->calls;
	d->calls = c;
	ev_timer(sb->srv, &c->deadline, on_deadline,
		 !strcmp(method, AGENT_M_ACTIONS) ? AGENTPROTO_DEADLINE_ACTIONS_MS :
		 !strcmp(method, AGENT_M_APPS_LAUNCH) || !strcmp(method, AGENT_M_OPEN) ?
		 AGENTPROTO_DEADLINE_LAUNCH_MS : AGENTPROTO_DEADLINE_MS);
	return c->id;
}

void desk_call_cancel(struct sandbox *sb, uint32_t id)
{
	struct desk *d = sb->desk;

	free(d ? unlink_call(d, id) : NULL);
}

enum desk_state desk_state(const struct sandbox *sb, const char **name, const char **error)
{
	static const char *const names[] = {
		[DESK_STARTING] = "starting", [DESK_READY] = "running",
		[DESK_FAILED] = "failed", [DESK_RESTARTING] = "restarting",
	};
	const struct desk *d = sb->desk;

	*name = names[d->state];
	*error = d->state == DESK_FAILED ? d->error : "";
	return d->state;
}

json_t *desk_json(const struct sandbox *sb)
{
	const struct desk *d = sb->desk;
	const char *name, *error;
	json_t *j;

	if (!d)
		return NULL;
	desk_state(sb, &name, &error);
	j = json_pack("{s:s,s:{s:i,s:i},s:s,s:i}", "state", name, "display",
		      "width", d->width, "height", d->height,
		      "session", sb->spec.session == SESSION_FULL ? "full" : "bare", "dpi", sb->spec.dpi);
	if (j && error[0])
		json_object_set_new(j, "error", json_string(error));
	if (j)
		json_object_set_new(j, "apps", d->apps ? json_deep_copy(d->apps) : json_array());
	return j;
}

size_t desk_frame_bytes(const struct sandbox *sb)
{
	const struct desk *d = sb->desk;

	return d && d->width > 0 && d->height > 0 ? (size_t)d->width * (size_t)d->height * 4 : 0;
}

const char *const *desk_env(const struct sandbox *sb)
{
	return sb->desk ? desk_env_vars : NULL;
}
