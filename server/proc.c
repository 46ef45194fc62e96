/*
 * proc.c - processes that stream: process.spawn and what follows it on the
 * control channel (process.write, close_stdin, signal, list), with output
 * as process.output notifications and the end as process.exit.
 *
 * Owns each spawned process's record (struct proc, kept in a module list
 * so process.* calls can find it by sandbox and pid): the read ends of its
 * stdout and stderr (or its pty master), the write end of its stdin and
 * what waits to be written there, and a timeout. Output is read only while
 * the client keeps up: past OP_CONN_HIGH_WATER queued on the connection the
 * pipes are no longer read, so the command blocks on a full pipe instead
 * of deskboxd's memory growing; the connection's drained hook resumes.
 * When the client goes, the process keeps running (its output is read and
 * dropped) unless it was spawned with kill_on_close. Loop thread only.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bus.h"
#include "ev.h"
#include "exec.h"
#include "log.h"
#include "op.h"
#include "req.h"
#include "sandbox.h"
#include "util.h"

#define PROC_CHUNK 65536
#define PROC_MAX_STDIN (1u << 20)   /* unwritten stdin held per process */

struct proc;

struct proc_out {
	struct proc *p;
	int fd;                    /* -1 once at EOF */
	const char *name;          /* "stdout" / "stderr" */
	char carry[4];             /* a UTF-8 sequence cut by the read */
	int ncarry;
};

struct proc {
	struct op_conn_hook hook;  /* first: the connection's hooks */
	struct srv *srv;
	struct sandbox *sb;        /* NULL once the sandbox is gone */
	char sandbox[ID_LEN + 1];
	struct op_conn *conn;      /* NULL once the client left */
	struct op_call *call;      /* the spawn call, until SPAWNED */
	uint32_t op;
	int pid;                   /* in the sandbox; 0 until SPAWNED */
	char command[200];
	struct proc_out out[2];
	int in_fd;                 /* stdin (or a dup of the pty master), or -1 */
	char *in_buf;
	size_t in_len;
	int close_in;              /* close stdin once in_buf is written */
	int paused, exited, status, timed_out, kill_on_close, pty, raw;
	int64_t timeout_ms;
	lws_sorted_usec_list_t timer;
	struct proc *next;
};

static struct proc *procs;   /* every streaming process, all sandboxes */

static void proc_watch(struct proc *p)
{
	for (int i = 0; i < 2; i++)
		if (p->out[i].fd >= 0)
			ev_mod(p->srv, p->out[i].fd, p->paused ? 0 : EPOLLIN);
}

static void proc_close_out(struct proc *p, struct proc_out *o)
{
	if (o->fd < 0)
		return;
	ev_del(p->srv, o->fd);
	close(o->fd);
	o->fd = -1;
}

static void proc_close_in(struct proc *p)
{
	if (p->in_fd < 0)
		return;
	ev_del(p->srv, p->in_fd);
	close(p->in_fd);
	p->in_fd = -1;
	free(p->in_buf);
	p->in_buf = NULL;
	p->in_len = 0;
}

static void proc_free(struct proc *p)
{
	for (struct proc **pp = &procs; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	if (p->conn)
		op_conn_hook_del(p->conn, &p->hook);
	ev_timer_cancel(&p->timer);
	for (int i = 0; i < 2; i++)
		proc_close_out(p, &p->out[i]);
	proc_close_in(p);
	free(p);
}

/* The process.output notification for data (n bytes) as JSON text, built
 * directly: the sandbox id is hex and the stream name a constant, so only
 * data needs encoding, in one pass (base64, or UTF-8 repaired and
 * escaped). jansson's per-character string encoder held a 100 MB stream
 * to a few MB/s. Returns malloc'd text, or NULL. */
static char *proc_output_text(struct proc *p, struct proc_out *o, const char *data, size_t n,
			      size_t *len)
{
	char head[160], *text;
	int hl = snprintf(head, sizeof(head),
			  "{\"jsonrpc\":\"2.0\",\"method\":\"process.output\",\"params\":"
			  "{\"sandbox\":\"%s\",\"pid\":%d,\"stream\":\"%s\",\"data\":\"",
			  p->sandbox, p->pid, o->name);
	size_t room = p->raw ? 4 * ((n + 2) / 3) + 1 : 6 * n + 1, k;

	if (hl < 0 || (size_t)hl >= sizeof(head) || !(text = malloc((size_t)hl + room + 3)))
		return NULL;
	memcpy(text, head, (size_t)hl);
	k = (size_t)hl + (p->raw ? base64_encode((const uint8_t *)data, n, text + hl)
				 : json_escape_utf8(data, n, text + hl));
	memcpy(text + k, "\"}}", 4);
	*len = k + 3;
	return text;
}

/* Send len bytes of o's output (after any carried partial character). */
static void proc_emit(struct proc *p, struct proc_out *o, const char *buf, size_t len)
{
	char *text, *joined;
	size_t n = o->ncarry + len, keep = 0, tlen;
	json_t *data;

	if (!p->conn)
		return;   /* nobody listens: dropped */
	joined = malloc(n ? n : 1);
	if (!joined)
		return;
	memcpy(joined, o->carry, (size_t)o->ncarry);
	memcpy(joined + o->ncarry, buf, len);
	o->ncarry = 0;
	if (!p->raw) {
		/* Hold back a UTF-8 sequence the read cut in two. */
		for (size_t i = n > 3 ? n - 3 : 0; i < n; i++) {
			unsigned char ch = (unsigned char)joined[i];
			size_t need = ch >= 0xf0 ? 4 : ch >= 0xe0 ? 3 : ch >= 0xc0 ? 2 : 0;

			if (need && i + need > n && len) {
				keep = n - i;
				break;
			}
		}
		memcpy(o->carry, joined + n - keep, keep);
		o->ncarry = (int)keep;
		n -= keep;
	}
	if (n || !p->raw) {
		if (p->conn->notify_text) {
			text = proc_output_text(p, o, joined, n, &tlen);
			if (text)
				p->conn->notify_text(p->conn, text, tlen);
		} else {
			/* A transport that takes json_t (the bash adapter). */
			size_t room = p->raw ? 4 * ((n + 2) / 3) + 1 : n * 3 + 4;

			text = malloc(room);
			data = !text ? NULL : p->raw ? json_stringn_nocheck(text, base64_encode((uint8_t *)joined, n, text))
					 : json_stringn_nocheck(text, utf8_repair(joined, n, text, room));
			if (data)
				p->conn->notify(p->conn, "process.output",
						json_pack("{s:s,s:i,s:s,s:o}", "sandbox", p->sandbox, "pid", p->pid,
							  "stream", o->name, "data", data));
			free(text);
		}
	}
	free(joined);
	if (p->conn && p->conn->backlog(p->conn) > OP_CONN_HIGH_WATER && !p->paused) {
		p->paused = 1;
		proc_watch(p);
	}
}

/* Read what o has (rounds bounded). Returns 1 at EOF. */
static int proc_read(struct proc *p, struct proc_out *o, int rounds)
{
	char buf[PROC_CHUNK];

	while (o->fd >= 0 && rounds-- > 0 && (!p->paused || p->exited)) {
		ssize_t n = read(o->fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0) {
			/* EOF (or EIO: a pty whose last user left). */
			if (o->ncarry)
				proc_emit(p, o, "", 0);
			proc_close_out(p, o);
			return 1;
		}
		proc_emit(p, o, buf, (size_t)n);
	}
	return o->fd < 0;
}

static void proc_end(struct proc *p, const char *error)
{
	struct bus_sub *sub;
	json_t *ev;

	/* Everything the command wrote is in the pipes by now. */
	for (int i = 0; i < 2; i++) {
		proc_read(p, &p->out[i], 64);
		proc_close_out(p, &p->out[i]);
	}
	ev = json_pack("{s:s,s:i,s:o,s:o,s:b}", "sandbox", p->sandbox, "pid", p->pid,
		       "exit_code", !error && WIFEXITED(p->status) ? json_integer(WEXITSTATUS(p->status)) : json_null(),
		       "signal", !error && WIFSIGNALED(p->status) ? json_integer(WTERMSIG(p->status)) : json_null(),
		       "timed_out", p->timed_out);
	if (error)
		json_object_set_new(ev, "error", json_string(error));
	/* The spawner hears it once: from the bus if it listens there. */
	sub = p->conn ? bus_find(p->srv, p->conn, p->sandbox) : NULL;
	if (p->conn && !(sub && (bus_topics(sub) & BUS_BIT(BUS_PROCESS_EXIT))))
		p->conn->notify(p->conn, "process.exit", json_deep_copy(ev));
	if (p->sb)
		bus_emit(p->srv, p->sandbox, BUS_PROCESS_EXIT, ev);
	else
		json_decref(ev);
	proc_free(p);
}

static void on_out(void *ctx, uint32_t events)
{
	struct proc_out *o = ctx;

	proc_read(o->p, o, 4);
}

static void proc_flush_in(struct proc *p)
{
	while (p->in_len && p->in_fd >= 0) {
		ssize_t n = write(p->in_fd, p->in_buf, p->in_len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			proc_close_in(p);   /* the command closed its stdin */
			return;
		}
		memmove(p->in_buf, p->in_buf + n, p->in_len - (size_t)n);
		p->in_len -= (size_t)n;
	}
	if (p->in_fd < 0)
		return;
	if (!p->in_len && p->close_in) {
		proc_close_in(p);
		return;
	}
	ev_mod(p->srv, p->in_fd, p->in_len ? EPOLLOUT : 0);
}

static void on_in(void *ctx, uint32_t events)
{
	proc_flush_in(ctx);
}

static void proc_drained(struct op_conn_hook *h)
{
	struct proc *p = (struct proc *)h;

	if (p->paused) {
		p->paused = 0;
		proc_watch(p);
	}
}

static void proc_conn_closed(struct op_conn_hook *h)
{
	struct proc *p = (struct proc *)h;

	/* The hook list is being taken apart by the connection. */
	p->conn = NULL;
	p->paused = 0;
	if (p->sb && p->op && p->kill_on_close)
		sbx_notify(p->sb, PROTO_KILL, p->op, SIGKILL);
	proc_watch(p);
}

static void on_timeout(lws_sorted_usec_list_t *sul)
{
	struct proc *p = lws_container_of(sul, struct proc, timer);

	p->timed_out = 1;
	if (p->sb)
		sbx_notify(p->sb, PROTO_KILL, p->op, SIGKILL);
}

static int watch_fd(struct proc *p, int fd, uint32_t ev, ev_cb cb, void *ctx)
{
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return ev_add(p->srv, fd, ev, cb, ctx);
}

static int on_reply(void *ctx, const struct proto_hdr *h, int *fds, int nfds)
{
	struct proc *p = ctx;
	struct op_call *c = p->call;

	if (!h) {
		p->sb = NULL;
		if (c) {
			p->call = NULL;
			op_fail(c, OPERR_SANDBOX_NOT_RUNNING, "the sandbox stopped");
			proc_free(p);
			return 1;
		}
		proc_end(p, "the sandbox stopped");
		return 1;
	}
	switch (h->type) {
	case PROTO_SPAWNED:
		p->pid = h->arg;
		if (p->pty && nfds == 1) {
			p->out[0].fd = fds[0];
			fds[0] = -1;
			p->in_fd = fcntl(p->out[0].fd, F_DUPFD_CLOEXEC, 0);
			if (watch_fd(p, p->out[0].fd, EPOLLIN, on_out, &p->out[0]) < 0 ||
			    (p->in_fd >= 0 && watch_fd(p, p->in_fd, 0, on_in, p) < 0))
				log_event(p->sandbox, "process %d: cannot watch its terminal", p->pid);
		}
		proc_flush_in(p);
		if (c) {
			p->call = NULL;
			op_ok(c, json_pack("{s:i}", "pid", p->pid));
		}
		return 0;
	case PROTO_SPAWN_FAIL:
		if (c) {
			p->call = NULL;
			op_fail(c, h->arg == EAGAIN ? OPERR_TOO_BUSY : OPERR_INTERNAL, "cannot start the command: %s",
				strerror(h->arg ? h->arg : EIO));
		}
		proc_free(p);
		return 1;
	case PROTO_EXITED:
		p->exited = 1;
		p->status = h->arg;
		proc_end(p, NULL);
		return 1;
	default:
		return 0;
	}
}

static void cancel_spawn(void *job)
{
	struct proc *p = job;

	p->call = NULL;
}

/* Take a transport-free option out of params. */
static int take_bool(struct op_call *c, const char *name, int *out)
{
	if (op_param_bool(c, name, out) < 0)
		return -1;
	json_object_del(c->params, name);
	return 0;
}

static void run_spawn(struct op_call *c)
{
	struct sandbox *sb = c->sb;
	int fds[3] = { -1, -1, -1 }, pin[2] = { -1, -1 }, pout[2][2] = { { -1, -1 }, { -1, -1 } };
	int pty = 0, kill_on_close = 0, raw = 0, nfds = 0;
	const char *enc = NULL;
	struct req_exec x;
	char cwd[4096];
	struct proc *p;

	if (take_bool(c, "pty", &pty) < 0 || take_bool(c, "kill_on_close", &kill_on_close) < 0 ||
	    op_param_str(c, "output_encoding", 0, &enc) < 0)
		return;
	if (enc && strcmp(enc, "base64") && strcmp(enc, "utf-8"))
		return op_fail(c, OPERR_BAD_REQUEST, "output_encoding must be utf-8 or base64");
	raw = enc && !strcmp(enc, "base64");
	json_object_del(c->params, "output_encoding");
	if (exec_parse(c, &x) < 0)
		return;
	if (path_normalize("/home/user", x.cwd ? x.cwd : "/home/user", cwd, sizeof(cwd))) {
		req_exec_free(&x);
		return op_fail(c, OPERR_BAD_REQUEST, "cwd is not a usable path");
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		goto fail_mem;
	p->srv = c->srv;
	p->sb = sb;
	memcpy(p->sandbox, sb->id, sizeof(p->sandbox));
	p->conn = c->conn;
	p->pty = pty;
	p->raw = raw;
	p->kill_on_close = kill_on_close;
	p->in_fd = -1;
	for (int i = 0; i < 2; i++) {
		p->out[i].p = p;
		p->out[i].fd = -1;
		p->out[i].name = i ? "stderr" : "stdout";
	}
	snprintf(p->command, sizeof(p->command), "%s", x.argv[0] && !strcmp(x.argv[0], "/bin/sh") && x.argv[2]
		 ? x.argv[2] : x.argv[0]);
	if (x.stdin_len) {
		p->in_buf = malloc(x.stdin_len);
		if (!p->in_buf)
			goto fail_mem;
		memcpy(p->in_buf, x.stdin_data, x.stdin_len);
		p->in_len = x.stdin_len;
	}
	if (!pty) {
		if (pipe2(pin, O_CLOEXEC) < 0 || pipe2(pout[0], O_CLOEXEC) < 0 || pipe2(pout[1], O_CLOEXEC) < 0) {
			op_fail(c, OPERR_INTERNAL, "cannot make the command's pipes: %s", strerror(errno));
			goto fail;
		}
		fds[0] = pin[0];
		fds[1] = pout[0][1];
		fds[2] = pout[1][1];
		nfds = 3;
	}
	p->op = sbx_spawn(sb, x.argv, x.env.v, x.env.n, cwd, pty ? PROTO_SPAWN_PTY : 0, fds, nfds, on_reply, p);
	if (!p->op) {
		if (errno == EMSGSIZE)
			op_fail(c, OPERR_TOO_LARGE, "the command, its arguments and environment are too long");
		else
			op_fail(c, OPERR_SANDBOX_NOT_RUNNING, "cannot reach the sandbox: %s", strerror(errno));
		goto fail;
	}
	if (!pty) {
		p->in_fd = pin[1];
		pin[1] = -1;
		p->out[0].fd = pout[0][0];
		p->out[1].fd = pout[1][0];
		pout[0][0] = pout[1][0] = -1;
		if (watch_fd(p, p->in_fd, 0, on_in, p) < 0 ||
		    watch_fd(p, p->out[0].fd, EPOLLIN, on_out, &p->out[0]) < 0 ||
		    watch_fd(p, p->out[1].fd, EPOLLIN, on_out, &p->out[1]) < 0) {
			log_event(sb->id, "cannot watch a command's pipes: %s", strerror(errno));
			sbx_notify(sb, PROTO_KILL, p->op, SIGKILL);
		}
	}
	p->hook.drained = proc_drained;
	p->hook.closed = proc_conn_closed;
	op_conn_hook_add(c->conn, &p->hook);
	p->call = c;
	op_set_job(c, p, cancel_spawn);
	ev_timer(p->srv, &p->timer, on_timeout, x.timeout_ms);
	p->next = procs;
	procs = p;
	p = NULL;
	goto out;
fail_mem:
	op_fail(c, OPERR_INTERNAL, "out of memory");
fail:
	if (p)
		free(p->in_buf);
	free(p);
out:
	for (int i = 0; i < 2; i++) {
		if (pin[i] >= 0)
			close(pin[i]);
		for (int k = 0; k < 2; k++)
			if (pout[k][i] >= 0)
				close(pout[k][i]);
	}
	req_exec_free(&x);
}

/* The process pid of c's sandbox, or NULL with c failed. */
static struct proc *proc_of(struct op_call *c)
{
	long pid = 0;

	if (op_param_int(c, "pid", 1, 1L << 30, &pid) < 0)
		return NULL;
	for (struct proc *p = procs; p; p = p->next)
		if (p->pid == pid && p->sb == c->sb && !p->exited)
			return p;
	op_fail(c, OPERR_NOT_FOUND, "no process %ld spawned in this sandbox is running", pid);
	return NULL;
}

static void run_write(struct op_call *c)
{
	struct proc *p = proc_of(c);
	const char *data, *enc = NULL;
	size_t len;
	char *raw = NULL;

	if (!p || op_param_str(c, "data", 1, &data) < 0 || op_param_str(c, "encoding", 0, &enc) < 0)
		return;
	len = json_string_length(json_object_get(c->params, "data"));
	if (enc && strcmp(enc, "base64") && strcmp(enc, "utf-8"))
		return op_fail(c, OPERR_BAD_REQUEST, "encoding must be utf-8 or base64");
	if (enc && !strcmp(enc, "base64")) {
		ssize_t n;

		raw = malloc(len / 4 * 3 + 3);
		n = raw ? base64_decode(data, len, (uint8_t *)raw) : -1;
		if (n < 0) {
			free(raw);
			return op_fail(c, OPERR_BAD_REQUEST, "data must be base64");
		}
		data = raw;
		len = (size_t)n;
	}
	if (p->in_fd < 0 || p->close_in) {
		free(raw);
		return op_fail(c, OPERR_BAD_REQUEST, "process %d's stdin is closed", p->pid);
	}
	if (p->in_len + len > PROC_MAX_STDIN) {
		free(raw);
		return op_fail(c, OPERR_TOO_BUSY, "process %d is not reading its stdin (%zu bytes wait)", p->pid,
			       p->in_len);
	}
	if (len) {
		char *nb = realloc(p->in_buf, p->in_len + len);

		if (!nb) {
			free(raw);
			return op_fail(c, OPERR_INTERNAL, "out of memory");
		}
		memcpy(nb + p->in_len, data, len);
		p->in_buf = nb;
		p->in_len += len;
	}
	free(raw);
	if (p->pid)
		proc_flush_in(p);
	op_ok(c, json_pack("{s:I}", "queued", (json_int_t)p->in_len));
}

static void run_close_stdin(struct op_call *c)
{
	struct proc *p = proc_of(c);

	if (!p)
		return;
	p->close_in = 1;
	if (p->pty && p->in_fd >= 0) {
		/* A terminal has no stdin to close: send it end-of-file. */
		char eot = 4;

		if (write(p->in_fd, &eot, 1) < 0)
			log_event(p->sandbox, "process %d: cannot send EOF: %s", p->pid, strerror(errno));
		proc_close_in(p);
	} else {
		proc_flush_in(p);
	}
	op_ok(c, NULL);
}

static const struct {
	const char *name;
	int sig;
} proc_signals[] = {
	{ "INT", SIGINT }, { "TERM", SIGTERM }, { "KILL", SIGKILL }, { "HUP", SIGHUP }, { "QUIT", SIGQUIT },
	{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "WINCH", SIGWINCH }, { "CONT", SIGCONT },
	{ "TSTP", SIGTSTP }, { "ALRM", SIGALRM },
};

static void run_signal(struct op_call *c)
{
	struct proc *p = proc_of(c);
	json_t *v;
	const char *name;
	int sig;

	/* proc_of answered (and the transport freed the params) if no p. */
	if (!p)
		return;
	v = json_object_get(c->params, "signal");
	name = json_string_value(v);
	sig = json_is_integer(v) ? (int)json_integer_value(v) : 0;
	if (name && !strncasecmp(name, "SIG", 3))
		name += 3;
	for (size_t i = 0; name && i < sizeof(proc_signals) / sizeof(proc_signals[0]); i++)
		if (!strcasecmp(name, proc_signals[i].name))
			sig = proc_signals[i].sig;
	if (sig != SIGKILL && !PROTO_SIGNAL_OK(sig))
		return op_fail(c, OPERR_BAD_REQUEST,
			       "signal must be one of INT TERM KILL HUP QUIT USR1 USR2 WINCH CONT TSTP ALRM "
			       "(or its number)");
	/* KILL takes the whole tree (what a timeout does); the others go to
	 * the command's process group, as from a terminal. */
	if ((sig == SIGKILL ? sbx_notify(p->sb, PROTO_KILL, p->op, SIGKILL)
			    : sbx_notify(p->sb, PROTO_SIGNAL, p->op, sig)) < 0)
		return op_fail(c, OPERR_SANDBOX_NOT_RUNNING, "cannot reach the sandbox");
	op_ok(c, NULL);
}

static void run_list(struct op_call *c)
{
	json_t *list = json_array();

	for (struct proc *p = procs; p; p = p->next)
		if (p->sb == c->sb && p->pid)
			json_array_append_new(list, json_pack("{s:i,s:s,s:b,s:b}", "pid", p->pid, "command",
							      p->command, "pty", p->pty, "attached", p->conn != NULL));
	op_ok(c, json_pack("{s:o}", "processes", list));
}

#define SB "\"sandbox\":{\"type\":\"string\"}"
#define PID "\"pid\":{\"type\":\"integer\",\"description\":\"as process.spawn answered\"}"

const struct op op_proc_rows[] = {
	{ "process.spawn", "Start a command and answer its pid at once; its output and exit follow as "
	  "notifications (control channel).",
	  "{\"type\":\"object\",\"required\":[\"sandbox\"],\"additionalProperties\":false,\"properties\":{" SB ","
	  "\"cmd\":{\"type\":\"string\"},\"argv\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
	  "\"env\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"}},"
	  "\"cwd\":{\"type\":\"string\"},\"stdin\":{\"type\":\"string\",\"description\":\"written first\"},"
	  "\"timeout_ms\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":86400000,\"default\":60000},"
	  "\"pty\":{\"type\":\"boolean\",\"description\":\"on a terminal (stdout carries both streams)\"},"
	  "\"kill_on_close\":{\"type\":\"boolean\",\"description\":\"kill it when this connection closes\"},"
	  "\"output_encoding\":{\"enum\":[\"utf-8\",\"base64\"],\"default\":\"utf-8\"}}}",
	  OPF_SANDBOX | OPF_RUNNING | OPF_CONN, run_spawn },
	{ "process.write", "Write to a spawned process's stdin.",
	  "{\"type\":\"object\",\"required\":[\"sandbox\",\"pid\",\"data\"],\"additionalProperties\":false,"
	  "\"properties\":{" SB "," PID ",\"data\":{\"type\":\"string\"},"
	  "\"encoding\":{\"enum\":[\"utf-8\",\"base64\"],\"default\":\"utf-8\"}}}",
	  OPF_SANDBOX | OPF_RUNNING, run_write },
	{ "process.close_stdin", "Close a spawned process's stdin (a terminal gets end-of-file).",
	  "{\"type\":\"object\",\"required\":[\"sandbox\",\"pid\"],\"additionalProperties\":false,"
	  "\"properties\":{" SB "," PID "}}",
	  OPF_SANDBOX | OPF_RUNNING, run_close_stdin },
	{ "process.signal", "Send a signal to a spawned process's group (KILL: its whole tree).",
	  "{\"type\":\"object\",\"required\":[\"sandbox\",\"pid\",\"signal\"],\"additionalProperties\":false,"
	  "\"properties\":{" SB "," PID ",\"signal\":{\"oneOf\":[{\"type\":\"string\"},{\"type\":\"integer\"}],"
	  "\"description\":\"INT TERM KILL HUP QUIT USR1 USR2 WINCH CONT TSTP ALRM\"}}}",
	  OPF_SANDBOX | OPF_RUNNING, run_signal },
	{ "process.list", "The spawned processes of a sandbox that still run.",
	  "{\"type\":\"object\",\"required\":[\"sandbox\"],\"additionalProperties\":false,"
	  "\"properties\":{" SB "}}",
	  OPF_SANDBOX, run_list },
	{ NULL, NULL, NULL, 0, NULL },
};
