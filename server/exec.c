/*
 * exec.c - commands run for the exec API.
 *
 * A job owns the read ends of the command's stdout and stderr pipes (watched
 * in the loop, drained as they fill so the command never blocks on a full
 * pipe), its output buffers (capped; the rest is read and dropped), and a
 * timeout timer. The command itself runs under init's shim, which kills the
 * whole process tree on PROTO_KILL. The answer goes out when init reports
 * the exit: by then everything the command wrote is in the pipes, so a last
 * drain collects it; background children that keep the pipes open do not
 * hold the answer back.
 */
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ev.h"
#include "log.h"
#include "util.h"

struct stream {
	struct exec_job *job;
	int fd;
	char *buf;
	size_t len, size;
};

struct exec_job {
	struct sandbox *sb;
	struct srv *srv;
	struct op_call *call;
	uint32_t op;
	struct stream out[2];
	size_t cap;
	int truncated, exited, status, timed_out, spawn_errno;
	int64_t start_us;
	lws_sorted_usec_list_t timer;
};

static void stream_close(struct exec_job *job, struct stream *s)
{
	if (s->fd < 0)
		return;
	ev_del(job->srv, s->fd);
	close(s->fd);
	s->fd = -1;
}

/* Grow s->buf (doubling, at most cap) to hold need bytes. Most commands
 * print little, so nothing is allocated up front. */
static int stream_room(struct stream *s, size_t need, size_t cap)
{
	size_t n = s->size ? s->size : 4096;
	char *nb;

	if (need <= s->size)
		return 0;
	while (n < need)
		n *= 2;
	if (n > cap)
		n = cap;
	nb = realloc(s->buf, n);
	if (!nb)
		return -1;
	s->buf = nb;
	s->size = n;
	return 0;
}

/* Read what is there now (bounded rounds, so one chatty command cannot
 * starve the loop; level-triggered polling brings us back). */
static void stream_drain(struct exec_job *job, struct stream *s, int rounds)
{
	char tmp[65536];

	while (s->fd >= 0 && rounds-- > 0) {
		ssize_t n = read(s->fd, tmp, sizeof(tmp));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			stream_close(job, s);
			return;
		}
		size_t keep = s->len < job->cap ? job->cap - s->len : 0;

		if ((size_t)n > keep)
			job->truncated = 1;
		if (keep > (size_t)n)
			keep = (size_t)n;
		if (keep && stream_room(s, s->len + keep, job->cap) < 0) {
			job->truncated = 1;
			keep = 0;
		}
		if (keep) {
			memcpy(s->buf + s->len, tmp, keep);
			s->len += keep;
		}
	}
}

static void on_stream(void *ctx, uint32_t events)
{
	struct stream *s = ctx;

	stream_drain(s->job, s, 16);
}

static void job_free(struct exec_job *job)
{
	ev_timer_cancel(&job->timer);
	for (int i = 0; i < 2; i++) {
		stream_close(job, &job->out[i]);
		free(job->out[i].buf);
	}
	if (job->call)
		op_clear_job(job->call);
	free(job);
}

static json_t *text(const struct stream *s)
{
	char *clean = malloc(s->len * 3 + 4);

	/* s->buf may be NULL (no output) with len 0: utf8_repair reads nothing. */
	json_t *j;

	if (!clean)
		return json_string("");
	j = json_stringn(clean, utf8_repair(s->buf, s->len, clean, s->len * 3 + 4));
	free(clean);
	return j;
}

static void job_answer(struct exec_job *job)
{
	struct op_call *c = job->call;
	json_t *j;

	if (!c)
		return;
	job->call = NULL;
	if (job->spawn_errno) {
		op_fail(c, job->spawn_errno == EAGAIN ? OPERR_TOO_BUSY : OPERR_INTERNAL,
			"cannot start the command: %s", strerror(job->spawn_errno));
		return;
	}
	j = json_pack("{s:o,s:o,s:o,s:o,s:b,s:b,s:f}",
		      "exit_code", WIFEXITED(job->status) ? json_integer(WEXITSTATUS(job->status)) : json_null(),
		      "signal", WIFSIGNALED(job->status) ? json_integer(WTERMSIG(job->status)) : json_null(),
		      "stdout", text(&job->out[0]),
		      "stderr", text(&job->out[1]),
		      "timed_out", job->timed_out,
		      "truncated", job->truncated,
		      "duration_ms", (double)(srv_mono_us() - job->start_us) / 1000.0);
	op_ok(c, j);
}

static int on_reply(void *ctx, const struct proto_hdr *h, int *fds, int nfds)
{
	struct exec_job *job = ctx;

	if (!h) {
		if (job->call) {
			struct op_call *c = job->call;

			job->call = NULL;
			op_fail(c, OPERR_SANDBOX_NOT_RUNNING, "the sandbox stopped while the command ran");
		}
		job_free(job);
		return 1;
	}
	switch (h->type) {
	case PROTO_SPAWNED:
		return 0;
	case PROTO_SPAWN_FAIL:
		job->spawn_errno = h->arg ? h->arg : EIO;
		break;
	case PROTO_EXITED:
		job->exited = 1;
		job->status = h->arg;
		for (int i = 0; i < 2; i++)
			stream_drain(job, &job->out[i], 1 << 20);
		break;
	default:
		return 0;
	}
	job_answer(job);
	job_free(job);
	return 1;
}

static void kill_job(struct exec_job *job)
{
	if (sbx_notify(job->sb, PROTO_KILL, job->op, 9) < 0)
		log_event(job->sb->id, "cannot ask to kill command %u: %s", job->op, strerror(errno));
}

static void on_timeout(lws_sorted_usec_list_t *sul)
{
	struct exec_job *job = lws_container_of(sul, struct exec_job, timer);

	job->timed_out = 1;
	kill_job(job);
}

static void on_client_gone(void *ctx)
{
	struct exec_job *job = ctx;

	/* Nobody will read the result: stop the command now. */
	job->call = NULL;
	kill_job(job);
}

static int make_stdin(const struct req_exec *x)
{
	int fd = memfd_create("stdin", MFD_CLOEXEC);
	size_t off = 0;

	if (fd < 0)
		return -1;
	while (off < x->stdin_len) {
		ssize_t n = write(fd, x->stdin_data + off, x->stdin_len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

void exec_start(struct sandbox *sb, const struct req_exec *x, struct op_call *req)
{
	struct srv *srv = sb->srv;
	struct exec_job *job = NULL;
	int p[2][2] = { { -1, -1 }, { -1, -1 } }, in = -1, fds[3];
	char cwd[4096];

	if (path_normalize("/home/user", x->cwd ? x->cwd : "/home/user", cwd, sizeof(cwd))) {
		op_fail(req, OPERR_BAD_REQUEST, "cwd is not a usable path");
		return;
	}
	job = calloc(1, sizeof(*job));
	in = x->stdin_len ? make_stdin(x) : dup(srv->null_fd);
	if (!job || in < 0 || pipe2(p[0], O_CLOEXEC) < 0 || pipe2(p[1], O_CLOEXEC) < 0) {
		op_fail(req, OPERR_INTERNAL, "cannot set up the command's stdio: %s", strerror(errno));
		goto out;
	}
	job->sb = sb;
	job->srv = srv;
	job->call = req;
	job->cap = srv->cfg.max_output;
	job->start_us = srv_mono_us();
	for (int i = 0; i < 2; i++) {
		job->out[i].job = job;
		job->out[i].fd = -1;
	}
	fds[0] = in;
	fds[1] = p[0][1];
	fds[2] = p[1][1];
	/* QUIET: the answer needs the exit, not the pid. */
	job->op = sbx_spawn(sb, x->argv, x->env.v, x->env.n, cwd, PROTO_SPAWN_QUIET, fds, 3, on_reply, job);
	if (!job->op) {
		if (errno == EMSGSIZE)
			op_fail(req, OPERR_TOO_LARGE,
				"the command, its arguments and environment are over %d KiB "
				"(send large scripts as stdin or as a file)", PROTO_MAX_MSG / 1024);
		else
			op_fail(req, errno == ESRCH ? OPERR_SANDBOX_NOT_RUNNING : OPERR_UNAVAILABLE,
				"cannot reach the sandbox: %s", strerror(errno));
		goto out;
	}
	for (int i = 0; i < 2; i++) {
		close(p[i][1]);
		p[i][1] = -1;
		fcntl(p[i][0], F_SETFL, O_NONBLOCK);
		job->out[i].fd = p[i][0];
		p[i][0] = -1;
		if (ev_add(srv, job->out[i].fd, EPOLLIN, on_stream, &job->out[i]) < 0) {
			/* Without a watch a chatty command would block: stop it. */
			log_event(sb->id, "cannot watch command output: %s", strerror(errno));
			kill_job(job);
		}
	}
	op_set_job(req, job, on_client_gone);
	ev_timer(srv, &job->timer, on_timeout, x->timeout_ms);
	job = NULL;
out:
	for (int i = 0; i < 2; i++)
		for (int k = 0; k < 2; k++)
			if (p[i][k] >= 0)
				close(p[i][k]);
	if (in >= 0)
		close(in);
	free(job);
}

int exec_parse(struct op_call *c, struct req_exec *x)
{
	char err[512];
	size_t len;
	char *text = op_params_dump(c, &len);
	enum req_result res;

	if (!text)
		return -1;
	res = req_parse_exec(text, len, c->srv->cfg.exec_timeout_ms, x, err, sizeof(err));
	free(text);
	return op_req_result(c, res, err);
}

static void run_exec(struct op_call *c)
{
	struct req_exec x;

	if (exec_parse(c, &x) < 0)
		return;
	exec_start(c->sb, &x, c);
	req_exec_free(&x);
}

#define EXEC_PROPS \
	"\"sandbox\":{\"type\":\"string\"}," \
	"\"cmd\":{\"type\":\"string\",\"description\":\"run under /bin/sh -c\"}," \
	"\"argv\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"minItems\":1}," \
	"\"env\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"}}," \
	"\"cwd\":{\"type\":\"string\",\"description\":\"default /home/user\"}," \
	"\"stdin\":{\"type\":\"string\"}," \
	"\"timeout_ms\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":86400000,\"default\":60000}"

const struct op op_process_rows[] = {
	{ "process.exec", "Run a command to its end; answers its exit, stdout and stderr.",
	  "{\"type\":\"object\",\"required\":[\"sandbox\"],\"additionalProperties\":false,"
	  "\"properties\":{" EXEC_PROPS "}}",
	  OPF_SANDBOX | OPF_RUNNING, run_exec },
	{ NULL, NULL, NULL, 0, NULL },
};
