/*
 * adapt_bash.c - Anthropic's bash tool (bash_20250124): one persistent
 * /bin/bash per sandbox, so cwd, variables and functions carry over from
 * one command to the next, as in the reference implementation.
 *
 * Each shell is a client of the operation table like any other: it is
 * started with process.spawn (kill_on_close) on a connection of its own
 * (struct bash_shell's op_conn), fed with process.write, and hears its
 * output as the process.output notifications that connection takes. A
 * command is written followed by an echo of a fresh sentinel to stdout and
 * to stderr; the command's output is what came before the sentinels. A
 * command that does not come back within the timeout leaves the shell
 * unusable until `restart`, as the reference's does; output is clipped as
 * the reference clips long answers.
 *
 * Owns the shells: a module list (the one global here), one entry per
 * sandbox that used the tool, each ended by closing its connection (which
 * kills the shell) on restart, when the shell is found dead, or at exit.
 * Loop thread only.
 */
#include "adapt_bash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "adapt_anthropic.h"
#include "adapt_sub.h"
#include "ev.h"
#include "sandbox.h"
#include "toolcall.h"
#include "util.h"

#define BASH_TIMEOUT_MS 120000

enum bash_state { BASH_STARTING, BASH_READY, BASH_BUSY, BASH_DEAD, BASH_TIMED_OUT };

struct bash_shell {
	struct op_conn conn;       /* first: the spawned process sees it */
	struct op_auth auth;
	struct srv *srv;
	char sandbox[ID_LEN + 1];
	enum bash_state state;
	long pid;
	int exit_code;
	struct op_call *call;      /* the tool call waiting for output */
	char sentinel[40];
	struct toolcall_out out, err;  /* cut at the sentinel */
	int64_t timeout_ms;
	lws_sorted_usec_list_t timer;
	struct bash_shell *next;
};

/* Every shell of every sandbox (see the top of the file). */
static struct bash_shell *bash_shells;

static void bash_clear(struct bash_shell *sh)
{
	toolcall_out_clear(&sh->out);
	toolcall_out_clear(&sh->err);
}

/* End sh: its connection closes (which kills the shell), a waiting call
 * is told why. */
static void bash_destroy(struct bash_shell *sh, const char *why)
{
	struct op_call *c = sh->call;

	for (struct bash_shell **pp = &bash_shells; *pp; pp = &(*pp)->next)
		if (*pp == sh) {
			*pp = sh->next;
			break;
		}
	ev_timer_cancel(&sh->timer);
	sh->call = NULL;
	while (sh->conn.hooks) {
		struct op_conn_hook *h = sh->conn.hooks;

		sh->conn.hooks = h->next;
		if (h->closed)
			h->closed(h);
	}
	bash_clear(sh);
	free(sh);
	if (c) {
		op_clear_job(c);
		adapt_anthropic_error(c, why);
	}
}

void adapt_bash_destroy_all(struct srv *srv)
{
	while (bash_shells)
		bash_destroy(bash_shells, "the server is stopping");
}

static void bash_answer(struct bash_shell *sh)
{
	struct op_call *c = sh->call;
	char *out = toolcall_out_take(&sh->out), *err = toolcall_out_take(&sh->err);
	json_t *content = json_array();

	sh->call = NULL;
	sh->state = BASH_READY;
	ev_timer_cancel(&sh->timer);
	if (out && out[0])
		json_array_append_new(content, json_pack("{s:s,s:s}", "type", "text", "text", out));
	if (err && err[0])
		json_array_append_new(content, json_pack("{s:s,s:s}", "type", "text", "text", err));
	free(out);
	free(err);
	bash_clear(sh);
	if (c) {
		op_clear_job(c);
		op_ok(c, adapt_anthropic_result(c, content, 0));
	} else {
		json_decref(content);
	}
}

static int bash_notify(struct op_conn *conn, const char *method, json_t *params)
{
	struct bash_shell *sh = (struct bash_shell *)conn;
	long pid = (long)json_integer_value(json_object_get(params, "pid"));

	if (pid != sh->pid) {
		json_decref(params);
		return 0;
	}
	if (!strcmp(method, "process.output")) {
		const char *stream = json_string_value(json_object_get(params, "stream"));
		json_t *data = json_object_get(params, "data");
		struct toolcall_out *b = stream && !strcmp(stream, "stderr") ? &sh->err : &sh->out;

		if (sh->state == BASH_BUSY) {
			toolcall_out_append(b, sh->sentinel, json_string_value(data), json_string_length(data));
			if (sh->out.done && sh->err.done)
				bash_answer(sh);
		}
	} else if (!strcmp(method, "process.exit")) {
		struct op_call *c = sh->call;
		char why[160];

		sh->exit_code = (int)json_integer_value(json_object_get(params, "exit_code"));
		sh->state = BASH_DEAD;
		sh->call = NULL;
		ev_timer_cancel(&sh->timer);
		if (c) {
			snprintf(why, sizeof(why), "bash has exited with returncode %d; the tool must be restarted",
				 sh->exit_code);
			op_clear_job(c);
			adapt_anthropic_error(c, why);
		}
	}
	json_decref(params);
	return 0;
}

static size_t bash_backlog(const struct op_conn *conn)
{
	return 0;   /* output is consumed as it comes */
}

static void bash_on_timeout(lws_sorted_usec_list_t *sul)
{
	struct bash_shell *sh = lws_container_of(sul, struct bash_shell, timer);
	struct op_call *c = sh->call;
	char why[160];

	sh->state = BASH_TIMED_OUT;
	sh->call = NULL;
	bash_clear(sh);
	if (c) {
		snprintf(why, sizeof(why), "timed out: bash has not returned in %lld seconds and must be restarted",
			 (long long)(sh->timeout_ms / 1000));
		op_clear_job(c);
		adapt_anthropic_error(c, why);
	}
}

/* The waiting call's client left: the command runs on, unheard. */
static void bash_cancel(void *job)
{
	struct bash_shell *sh = job;

	sh->call = NULL;
}

/* The client left while its command was being written or the shell
 * started: nobody hears the answer (a shell not yet started goes). */
static void bash_write_cancelled(void *arg)
{
	struct bash_shell *sh = arg;

	sh->call = NULL;
}

static void bash_spawn_cancelled(void *arg)
{
	struct bash_shell *sh = arg;

	sh->call = NULL;
	bash_destroy(sh, "");
}

static void bash_written(struct op_call *c, struct op_call *sub, void *arg)
{
	struct bash_shell *sh = arg;

	if (sub->err != OPERR_OK) {
		sh->call = NULL;
		sh->state = BASH_READY;
		ev_timer_cancel(&sh->timer);
		return adapt_anthropic_error(c, sub->msg);
	}
	/* Now wait for the sentinels (or the timeout). */
	op_set_job(c, sh, bash_cancel);
}

static void bash_send(struct op_call *c, struct bash_shell *sh, const char *command)
{
	uint8_t rnd[8];
	char hex[17], *data;

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return op_fail(c, OPERR_INTERNAL, "getrandom failed");
	id_format(rnd, sizeof(rnd), hex);
	snprintf(sh->sentinel, sizeof(sh->sentinel), "<<exit-%s>>", hex);
	/* On lines of their own, so a trailing comment or `&` cannot eat them. */
	if (asprintf(&data, "%s\necho '%s'; echo '%s' >&2\n", command, sh->sentinel, sh->sentinel) < 0)
		return op_fail(c, OPERR_INTERNAL, "out of memory");
	bash_clear(sh);
	sh->state = BASH_BUSY;
	sh->call = c;
	ev_timer(sh->srv, &sh->timer, bash_on_timeout, sh->timeout_ms);
	adapt_sub_start(c, "process.write", json_pack("{s:I,s:s}", "pid", (json_int_t)sh->pid, "data", data), NULL,
			0, bash_written, sh, bash_write_cancelled);
	free(data);
}

static void bash_spawned(struct op_call *c, struct op_call *sub, void *arg)
{
	struct bash_shell *sh = arg;
	const json_t *in = json_object_get(c->params, "input");

	if (sub->err != OPERR_OK) {
		char why[1100];

		snprintf(why, sizeof(why), "bash did not start: %s", sub->msg);
		sh->call = NULL;
		bash_destroy(sh, why);
		adapt_anthropic_error(c, why);
		return;
	}
	sh->pid = (long)json_integer_value(json_object_get(sub->result, "pid"));
	sh->state = BASH_READY;
	sh->call = NULL;
	if (json_is_true(json_object_get(in, "restart")))
		return op_ok(c, adapt_anthropic_result(c, json_pack("[{s:s,s:s}]", "type", "text", "text",
								  "tool has been restarted."), 0));
	bash_send(c, sh, json_string_value(json_object_get(in, "command")));
}

static struct bash_shell *bash_new(struct op_call *c)
{
	struct bash_shell *sh = calloc(1, sizeof(*sh));

	if (!sh)
		return NULL;
	sh->srv = c->srv;
	sh->auth = c->auth;
	sh->conn.auth = &sh->auth;
	sh->conn.notify = bash_notify;
	sh->conn.backlog = bash_backlog;
	snprintf(sh->sandbox, sizeof(sh->sandbox), "%s", c->sb->id);
	sh->state = BASH_STARTING;
	sh->next = bash_shells;
	bash_shells = sh;
	return sh;
}

void adapt_bash_run(struct op_call *c, const json_t *in)
{
	const json_t *cmd = json_object_get(in, "command");
	int restart = json_is_true(json_object_get(in, "restart"));
	struct bash_shell *sh;
	long timeout_s = BASH_TIMEOUT_MS / 1000;

	if (op_param_int(c, "timeout_s", 1, 86400, &timeout_s) < 0)
		return;
	if (!restart && !json_is_string(cmd))
		return adapt_anthropic_error(c, "no command provided.");
	for (sh = bash_shells; sh; sh = sh->next)
		if (!strcmp(sh->sandbox, c->sb->id))
			break;
	if (sh && (restart || sh->state == BASH_DEAD)) {
		bash_destroy(sh, "bash was restarted");
		sh = NULL;
	}
	if (sh && sh->state == BASH_TIMED_OUT)
		return adapt_anthropic_error(c, "timed out: bash has not returned in time and must be restarted");
	if (sh && (sh->state == BASH_BUSY || sh->state == BASH_STARTING))
		return adapt_anthropic_error(c, "bash is still running an earlier command");
	if (sh) {
		sh->timeout_ms = timeout_s * 1000;
		return bash_send(c, sh, json_string_value(cmd));
	}
	sh = bash_new(c);
	if (!sh)
		return op_fail(c, OPERR_INTERNAL, "out of memory");
	sh->timeout_ms = timeout_s * 1000;
	sh->call = c;
	adapt_sub_start_on(c, &sh->conn, "process.spawn",
			   json_pack("{s:[s,s,s],s:b,s:i,s:{s:s,s:s}}", "argv", "/bin/bash", "--noprofile", "--norc",
				     "kill_on_close", 1, "timeout_ms", 86400000, "env", "PS1", "", "TERM", "dumb"),
			   NULL, 0, bash_spawned, sh, bash_spawn_cancelled);
}
