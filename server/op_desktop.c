/*
 * op_desktop.c - the operations of a sandbox's desktop: screenshot,
 * actions, wait (for a still screen), display, clipboard, windows,
 * restart, applications (list, launch, open), and the VNC and terminal
 * WebSocket endpoints (rows here so auth and docs treat them the same).
 *
 * Each run validates what it can cheaply, makes one call to the desktop
 * agent (desktop.c) and answers from its reply. A call job lives from the
 * call to its reply; if the client leaves first the agent call is
 * forgotten at once. Loop thread only.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentmsg.h"
#include "agentproto.h"
#include "desktop.h"
#include "desktopentry.h"
#include "log.h"
#include "op.h"
#include "shotparams.h"
#include "sandbox.h"

struct call_job;
typedef void (*result_fn)(struct call_job *job, json_t *result, int fd);

struct call_job {
	struct sandbox *sb;
	struct op_call *c;
	uint32_t id;
	result_fn on_result;
	int *fds, nfds;   /* what came beside the reply (an actions batch's images) */
};

static void job_cancel(void *ctx)
{
	struct call_job *job = ctx;

	desk_call_cancel(job->sb, job->id);
	free(job);
}

static void on_reply(void *ctx, json_t *reply, int *fds, int nfds)
{
	struct call_job *job = ctx;
	struct op_call *c = job->c;
	json_t *err, *result;
	/* One file at most, except for actions (the method's rule). */
	int fd = nfds > 0 ? fds[0] : -1;

	job->fds = fds;
	job->nfds = nfds;

	op_clear_job(c);
	if (!reply) {
		op_fail(c, OPERR_DESKTOP_NOT_RUNNING, "the desktop went away before answering");
		goto out;
	}
	err = json_object_get(reply, "error");
	result = json_object_get(reply, "result");
	if (err) {
		const char *code = json_string_value(json_object_get(err, "code"));
		const char *msg = json_string_value(json_object_get(err, "message"));
		json_t *index = json_object_get(err, "index");

		if (json_is_integer(index))
			c->index = (int)json_integer_value(index);
		op_fail(c, operr_from_code(code), "%s", msg ? msg : "the desktop failed");
		goto out;
	}
	if (!json_is_object(result)) {
		op_fail(c, OPERR_INTERNAL, "the desktop sent a malformed reply");
		goto out;
	}
	job->on_result(job, result, fd);
	nfds = 0;
out:
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	free(job);
}

static void call(struct op_call *c, const char *method, json_t *params, result_fn on_result)
{
	struct call_job *job = calloc(1, sizeof(*job));

	if (!job) {
		json_decref(params);
		return op_fail(c, OPERR_INTERNAL, "out of memory");
	}
	job->sb = c->sb;
	job->c = c;
	job->on_result = on_result;
	job->id = desk_call(c->sb, method, params, -1, on_reply, job);
	if (!job->id) {
		if (errno == EMSGSIZE)
			op_fail(c, OPERR_TOO_LARGE, "the request is over the desktop's limit of %d MiB",
				AGENTPROTO_MAX_REQUEST >> 20);
		else
			op_fail(c, OPERR_DESKTOP_NOT_RUNNING, "cannot reach the desktop: %s", strerror(errno));
		free(job);
		return;
	}
	op_set_job(c, job, job_cancel);
}

static void result_json(struct call_job *job, json_t *result, int fd)
{
	if (fd >= 0)
		close(fd);
	op_ok(job->c, json_incref(result));
}

/* --- screenshot --- */

/* What a screenshot answer says beside its bytes (checked fields only). */
static json_t *shot_meta(const json_t *result, const char *mt, const char *etag)
{
	const json_t *w = json_object_get(result, "width"), *h = json_object_get(result, "height");
	json_t *meta = json_pack("{s:s,s:I,s:I,s:s}", "media_type", mt, "width",
				 json_is_integer(w) ? json_integer_value(w) : 0, "height",
				 json_is_integer(h) ? json_integer_value(h) : 0, "etag", etag);

	const json_t *win = json_object_get(result, "window");

	if (meta && json_object_get(result, "settled"))
		agentmsg_settle(result, meta);
	/* A window's image: whether covered parts are its own pixels. */
	if (meta && json_is_boolean(json_object_get(win, "composited")))
		json_object_set_new(meta, "composited",
				    json_boolean(json_is_true(json_object_get(win, "composited"))));
	return meta;
}

static void result_screenshot(struct call_job *job, json_t *result, int fd)
{
	struct op_call *c = job->c;
	const char *etag = json_string_value(json_object_get(result, "etag"));
	const char *mt = json_string_value(json_object_get(result, "media_type"));
	struct stat st;

	if (agentmsg_etag_ok(etag))
		snprintf(c->etag, sizeof(c->etag), "%s", etag);
	if (json_is_true(json_object_get(result, "not_modified"))) {
		if (fd >= 0)
			close(fd);
		c->not_modified = 1;
		json_t *nm = json_pack("{s:b,s:s}", "not_modified", 1, "etag", c->etag);

		if (nm && json_object_get(result, "settled"))
			agentmsg_settle(result, nm);
		return op_ok(c, nm);
	}
	if (fd < 0 || fstat(fd, &st) < 0 || !mt) {
		if (fd >= 0)
			close(fd);
		return op_fail(c, OPERR_INTERNAL, "the desktop sent no image");
	}
	mt = !strcmp(mt, "image/jpeg") ? "image/jpeg" : "image/png";
	sbx_mark(job->sb, SBX_T_FIRST_SHOT, 0);
	if (json_is_true(json_object_get(result, "cached")))
		c->srv->metrics.shots_cached++;
	op_ok_fd(c, mt, fd, (uint64_t)st.st_size, shot_meta(result, mt, c->etag));
}

/* The agent's screenshot params from params (the op's, or desktop.wait's
 * "screenshot"); NULL with c failed. */
static json_t *screenshot_params(struct op_call *c, const json_t *params)
{
	char err[256];
	json_t *p = shotparams_agent(params, err, sizeof(err));

	if (!p)
		op_fail(c, OPERR_BAD_REQUEST, "%s", err);
	return p;
}

/* quiet (under quiet_key) and timeout_ms from c's params; quiet stays 0
 * when not given. Returns 0, or -1 with c failed. */
static int settle_params(struct op_call *c, const char *quiet_key, long *quiet, long *timeout)
{
	*quiet = 0;
	*timeout = 3000;
	return op_param_int(c, quiet_key, 1, AGENTPROTO_MAX_QUIET_MS, quiet) < 0 ||
	       op_param_int(c, "timeout_ms", 0, AGENTPROTO_MAX_WAIT_MS, timeout) < 0 ? -1 : 0;
}

static json_t *wait_params(long quiet, long timeout, json_t *shot)
{
	json_t *p = json_pack("{s:I,s:I}", "quiet_ms", (json_int_t)quiet, "timeout_ms", (json_int_t)timeout);

	if (p && shot)
		json_object_set_new(p, "screenshot", shot);
	else
		json_decref(shot);
	return p;
}

static void run_screenshot(struct op_call *c)
{
	long quiet, timeout;
	json_t *params;

	if (settle_params(c, "settle_ms", &quiet, &timeout) < 0)
		return;
	if (!quiet && json_object_get(c->params, "timeout_ms"))
		return op_fail(c, OPERR_BAD_REQUEST, "timeout_ms goes with settle_ms");
	params = screenshot_params(c, c->params);
	if (!params)
		return;
	if (!quiet)
		return call(c, AGENT_M_SCREENSHOT, params, result_screenshot);
	call(c, AGENT_M_WAIT_SETTLED, wait_params(quiet, timeout, params), result_screenshot);
}

/* --- wait --- */

static void result_wait(struct call_job *job, json_t *result, int fd)
{
	struct op_call *c = job->c;
	json_t *out;

	if (json_object_get(result, "media_type") || json_object_get(result, "not_modified"))
		return result_screenshot(job, result, fd);
	if (fd >= 0)
		close(fd);
	out = json_object();
	if (agentmsg_settle(result, out) < 0) {
		json_decref(out);
		return op_fail(c, OPERR_INTERNAL, "the desktop sent a malformed reply");
	}
	op_ok(c, out);
}

/* The "screenshot" object of desktop.wait as the agent's screenshot
 * params: checked against desktop.screenshot's own schema and parser. */
static json_t *wait_screenshot(struct op_call *c, const json_t *shot)
{
	const json_t *props = json_object_get(op_schema(op_find("desktop.screenshot")), "properties");
	const char *key;
	json_t *v;

	if (!json_is_object(shot)) {
		op_fail(c, OPERR_BAD_REQUEST, "screenshot must be an object of screenshot parameters");
		return NULL;
	}
	json_object_foreach((json_t *)shot, key, v) {
		if (!json_object_get(props, key) || !strcmp(key, "sandbox") || !strcmp(key, "settle_ms") ||
		    !strcmp(key, "timeout_ms")) {
			op_fail(c, OPERR_BAD_REQUEST, "screenshot.%s is not a screenshot parameter", key);
			return NULL;
		}
	}
	return screenshot_params(c, shot);
}

static void run_wait(struct op_call *c)
{
	const json_t *shot_in = json_object_get(c->params, "screenshot");
	json_t *shot = NULL;
	const char *until;
	long quiet, timeout;

	if (op_param_str(c, "until", 0, &until) < 0 || settle_params(c, "quiet_ms", &quiet, &timeout) < 0)
		return;
	if (until && strcmp(until, "settled"))
		return op_fail(c, OPERR_BAD_REQUEST, "until must be \"settled\"");
	if (shot_in && !json_is_null(shot_in) && !(shot = wait_screenshot(c, shot_in)))
		return;
	call(c, AGENT_M_WAIT_SETTLED, wait_params(quiet ? quiet : 150, timeout, shot), result_wait);
}

/* --- actions, display, clipboard, windows, restart --- */

/* A batch's results, rebuilt from checked fields; its images stay in the
 * memfds desktop.c checked (sealed, sizes within the rule): each face
 * encodes them from there, nothing here reads them. */
static void result_actions(struct call_job *job, json_t *result, int fd)
{
	json_t *objs[AGENTPROTO_MAX_IMAGES];
	uint64_t lens[AGENTPROTO_MAX_IMAGES];
	json_t *out = agentmsg_actions(result, job->nfds, objs);
	struct stat st;

	for (int i = 0; out && i < job->nfds; i++) {
		if (fstat(job->fds[i], &st) < 0) {
			json_decref(out);
			out = NULL;
		} else {
			lens[i] = (uint64_t)st.st_size;
		}
	}
	if (!out) {
		for (int i = 0; i < job->nfds; i++)
			close(job->fds[i]);
		log_event(job->sb->id, "desktop: a malformed actions result");
		return op_fail(job->c, OPERR_INTERNAL, "the desktop sent a malformed reply");
	}
	op_ok_images(job->c, out, job->fds, lens, objs, job->nfds);
}

static void run_actions(struct op_call *c)
{
	json_t *actions = json_object_get(c->params, "actions");

	long v = 0;

	if (!json_is_array(actions))
		return op_fail(c, OPERR_BAD_REQUEST, "actions must be an array of actions");
	if (op_param_int(c, "settle_ms", 1, AGENTPROTO_MAX_QUIET_MS, &v) < 0 ||
	    op_param_int(c, "settle_timeout_ms", 0, AGENTPROTO_MAX_WAIT_MS, &v) < 0)
		return;
	if (!json_object_get(c->params, "settle_ms") && json_object_get(c->params, "settle_timeout_ms"))
		return op_fail(c, OPERR_BAD_REQUEST, "settle_timeout_ms goes with settle_ms");
	call(c, AGENT_M_ACTIONS, json_incref(c->params), result_actions);
}

static void run_display_get(struct op_call *c)
{
	call(c, AGENT_M_DISPLAY_GET, NULL, result_json);
}

static void run_display_set(struct op_call *c)
{
	long w = 0, h = 0;

	if (op_param_int(c, "width", 64, 16384, &w) < 0 || op_param_int(c, "height", 64, 16384, &h) < 0)
		return;
	if (!w || !h)
		return op_fail(c, OPERR_BAD_REQUEST, "width and height must be whole numbers of at least 64");
	call(c, AGENT_M_DISPLAY_SET, json_pack("{s:I,s:I}", "width", (json_int_t)w, "height", (json_int_t)h),
	     result_json);
}

/* --- applications: the agent's answers rebuilt field by field --- */

/* A string field of at most max bytes, or NULL. */
static const char *str_max(const json_t *o, const char *key, size_t max)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) && json_string_length(v) <= max ? json_string_value(v) : NULL;
}

static json_t *app_checked(const json_t *in)
{
	const char *id = str_max(in, "id", DESKTOPENTRY_MAX_ID), *name = str_max(in, "name", 1024);
	const char *exec = str_max(in, "exec", DESKTOPENTRY_MAX_VALUE);
	const json_t *cats = json_object_get(in, "categories"), *cat;
	json_t *out, *oc;
	size_t i;

	if (!id || !desktopentry_id_ok(id) || !name || !exec || !json_is_array(cats) ||
	    json_array_size(cats) > DESKTOPENTRY_MAX_LIST)
		return NULL;
	oc = json_array();
	json_array_foreach(cats, i, cat) {
		if (!json_is_string(cat) || json_string_length(cat) > 256) {
			json_decref(oc);
			return NULL;
		}
		json_array_append_new(oc, json_string(json_string_value(cat)));
	}
	out = json_pack("{s:s,s:s,s:o,s:s,s:b,s:b}", "id", id, "name", name, "categories", oc, "exec", exec,
			"terminal", json_is_true(json_object_get(in, "terminal")),
			"no_display", json_is_true(json_object_get(in, "no_display")));
	return out;
}

static void result_apps(struct call_job *job, json_t *result, int fd)
{
	const json_t *apps = json_object_get(result, "apps"), *a;
	json_t *out = json_array(), *one;
	size_t i;

	if (fd >= 0)
		close(fd);
	if (!json_is_array(apps) || json_array_size(apps) > 1024)
		goto bad;
	json_array_foreach(apps, i, a) {
		if (!(one = app_checked(a)))
			goto bad;
		json_array_append_new(out, one);
	}
	return op_ok(job->c, json_pack("{s:o}", "apps", out));
bad:
	json_decref(out);
	op_fail(job->c, OPERR_INTERNAL, "the desktop sent a malformed application list");
}

static void result_launched(struct call_job *job, json_t *result, int fd)
{
	const json_t *pid = json_object_get(result, "pid"), *win = json_object_get(result, "window");
	const json_t *waited = json_object_get(result, "waited_ms");
	const char *app = str_max(result, "app", DESKTOPENTRY_MAX_ID);
	const char *title = str_max(result, "title", 4 * AGENTPROTO_MAX_TITLE);
	const char *mime = str_max(result, "mime_type", 255);
	json_t *out;

	if (fd >= 0)
		close(fd);
	if (!json_is_integer(pid) || json_integer_value(pid) <= 0 || !json_is_integer(win) ||
	    json_integer_value(win) <= 0 || !app || !title || !json_is_integer(waited) ||
	    json_integer_value(waited) < 0)
		return op_fail(job->c, OPERR_INTERNAL, "the desktop sent a malformed launch answer");
	out = json_pack("{s:I,s:I,s:s,s:s,s:I,s:b}", "pid", json_integer_value(pid), "window",
			json_integer_value(win), "app", app, "title", title, "waited_ms",
			json_integer_value(waited), "handed_off",
			json_is_true(json_object_get(result, "handed_off")));
	if (out && mime)
		json_object_set_new(out, "mime_type", json_string(mime));
	if (out && json_object_get(job->c->params, "target"))
		json_object_set(out, "target", json_object_get(job->c->params, "target"));
	op_ok(job->c, out);
}

static void run_apps_list(struct op_call *c)
{
	call(c, AGENT_M_APPS_LIST, NULL, result_apps);
}

/* The launch or open params the agent reads, each checked here first. */
static json_t *launch_params(struct op_call *c, int open)
{
	const json_t *args = json_object_get(c->params, "args");
	const char *s, *uri = NULL;
	long ms = 30000;
	json_t *p;
	size_t i;

	if (op_param_str(c, open ? "target" : "app", 1, &s) < 0 ||
	    (!open && op_param_str(c, "uri", 0, &uri) < 0) ||
	    op_param_int(c, "timeout_ms", 1, AGENTPROTO_MAX_LAUNCH_MS, &ms) < 0)
		return NULL;
	if (!open && !desktopentry_id_ok(s)) {
		op_fail(c, OPERR_BAD_REQUEST, "app must be an application id as GET .../apps lists it "
			"([A-Za-z0-9._-], at most %d bytes)", DESKTOPENTRY_MAX_ID);
		return NULL;
	}
	if (open && (strlen(s) == 0 || strlen(s) > 4096 ||
		     !(s[0] == '/' || !strncasecmp(s, "file://", 7) || !strncasecmp(s, "http://", 7) ||
		       !strncasecmp(s, "https://", 8)))) {
		op_fail(c, OPERR_BAD_REQUEST, "target must be an http(s) URL, a file:// URL or an "
			"absolute path (at most 4096 bytes)");
		return NULL;
	}
	if (!open && args && !json_is_null(args)) {
		const json_t *a;

		if (!json_is_array(args) || json_array_size(args) > 256) {
			op_fail(c, OPERR_BAD_REQUEST, "args must be an array of at most 256 strings");
			return NULL;
		}
		json_array_foreach(args, i, a)
			if (!json_is_string(a) || strlen(json_string_value(a)) != json_string_length(a)) {
				op_fail(c, OPERR_BAD_REQUEST, "args[%zu] must be a string without NUL bytes", i);
				return NULL;
			}
	}
	p = json_pack("{s:s,s:I}", open ? "target" : "app", s, "timeout_ms", (json_int_t)ms);
	if (p && uri)
		json_object_set_new(p, "uri", json_string(uri));
	if (p && !open && args && !json_is_null(args))
		json_object_set(p, "args", (json_t *)args);
	if (!p)
		op_fail(c, OPERR_INTERNAL, "out of memory");
	return p;
}

static void run_apps_launch(struct op_call *c)
{
	json_t *p = launch_params(c, 0);

	if (p)
		call(c, AGENT_M_APPS_LAUNCH, p, result_launched);
}

static void run_open(struct op_call *c)
{
	json_t *p = launch_params(c, 1);

	if (p)
		call(c, AGENT_M_OPEN, p, result_launched);
}

static void run_clipboard_get(struct op_call *c)
{
	call(c, AGENT_M_CLIPBOARD_GET, NULL, result_json);
}

static void run_clipboard_set(struct op_call *c)
{
	const char *text;

	if (op_param_str(c, "text", 1, &text) < 0)
		return;
	call(c, AGENT_M_CLIPBOARD_SET, json_pack("{s:O}", "text", json_object_get(c->params, "text")),
	     result_json);
}

static void run_windows(struct op_call *c)
{
	call(c, AGENT_M_WINDOWS, NULL, result_json);
}

/* window.*: the op's name after "window." is the agent's op. */
static void run_window_op(struct op_call *c)
{
	const char *op = c->op->name + strlen("window.");
	json_t *p;
	long win = 0, a = LONG_MIN, b = LONG_MIN;
	int force = 0;

	if (op_param_int(c, "window", 1, 4294967295L, &win) < 0)
		return;
	if (!win)
		return op_fail(c, OPERR_BAD_REQUEST, "window is required: an id from windows.list");
	p = json_pack("{s:I,s:s}", "window", (json_int_t)win, "op", op);
	if (!strcmp(op, "move")) {
		if (op_param_int(c, "x", -32767, 32767, &a) < 0 || op_param_int(c, "y", -32767, 32767, &b) < 0)
			goto fail;
		if (a == LONG_MIN || b == LONG_MIN) {
			op_fail(c, OPERR_BAD_REQUEST, "x and y are required");
			goto fail;
		}
		json_object_set_new(p, "x", json_integer(a));
		json_object_set_new(p, "y", json_integer(b));
	} else if (!strcmp(op, "resize")) {
		if (op_param_int(c, "width", 1, 32767, &a) < 0 || op_param_int(c, "height", 1, 32767, &b) < 0)
			goto fail;
		if (a == LONG_MIN || b == LONG_MIN) {
			op_fail(c, OPERR_BAD_REQUEST, "width and height are required");
			goto fail;
		}
		json_object_set_new(p, "width", json_integer(a));
		json_object_set_new(p, "height", json_integer(b));
	} else if (!strcmp(op, "close")) {
		if (op_param_bool(c, "force", &force) < 0)
			goto fail;
		json_object_set_new(p, "force", json_boolean(force));
	}
	return call(c, AGENT_M_WINDOW_OP, p, result_json);
fail:
	json_decref(p);
}

static void run_restart(struct op_call *c)
{
	desk_restart(c->sb, c);
}

static void run_ws_only(struct op_call *c)
{
	op_fail(c, OPERR_BAD_REQUEST, "%s is a WebSocket endpoint: send an Upgrade request", c->op->name);
}

#define SB "\"sandbox\":{\"type\":\"string\"}"
/* A quiet period under name, and the timeout_ms that bounds it. */
#define SETTLE(name, what) "\"" name "\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10000," \
	"\"description\":\"" what " (ms)\"}," \
	"\"timeout_ms\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":20000,\"default\":3000," \
	"\"description\":\"give up waiting after this long (ms): settled is false\"}"
/* A window op's params: the sandbox, the window, and more. */
#define WIN_OP(more) "{\"type\":\"object\",\"required\":[\"sandbox\",\"window\"" more "]," \
	"\"additionalProperties\":false,\"properties\":{" SB "," WIN
#define WIN "\"window\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":4294967295," \
	"\"description\":\"a top-level window's id, as windows.list gives it\"}"
#define WIN_ANSWER " Answers {window, applied, waited_ms} once the change shows (applied false: " \
	"it did not within 2 s; window is the window as it is then)."
#define LAUNCH_WAIT "\"timeout_ms\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":120000," \
	"\"default\":30000,\"description\":\"how long to wait for the first window (ms)\"}"
#define NOARGS "{\"type\":\"object\",\"required\":[\"sandbox\"],\"additionalProperties\":false," \
	"\"properties\":{" SB "}}"

const struct op op_desktop_rows[] = {
	{ "desktop.screenshot", "An image of the desktop (PNG or JPEG), optionally a region, scaled.",
	  "{\"type\":\"object\",\"required\":[\"sandbox\"],\"additionalProperties\":false,\"properties\":{" SB ","
	  "\"format\":{\"enum\":[\"png\",\"jpeg\",\"jpg\"],\"default\":\"png\"},"
	  "\"quality\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100,\"default\":75},"
	  "\"width\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"scale down to fit\"},"
	  "\"height\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"scale down to fit\"},"
	  "\"region\":{\"description\":\"\\\"x,y,w,h\\\" or {x,y,w,h}\","
	  "\"oneOf\":[{\"type\":\"string\"},{\"type\":\"object\"}]},"
	  "\"x\":{\"type\":\"integer\"},\"y\":{\"type\":\"integer\"},"
	  "\"w\":{\"type\":\"integer\"},\"h\":{\"type\":\"integer\"},"
	  "\"cursor\":{\"type\":\"boolean\",\"description\":\"draw the pointer\"},"
	  "\"window\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":4294967295,\"description\":"
	  "\"only this window (an id from windows.list): its frame, even where covered; region is "
	  "within it; 409 window_state when it is minimized\"},"
	  "\"if_none_match\":{\"type\":\"string\",\"description\":\"an etag: not_modified if current\"},"
	  SETTLE("settle_ms", "first wait until the screen has not changed for this long") "}}",
	  OPF_SANDBOX | OPF_DESKTOP | OPF_VIEW | OPF_BIN_OUT, run_screenshot },
	{ "desktop.wait", "Wait until the screen has been still for quiet_ms (or timeout_ms), then "
	  "optionally take a screenshot.",
	  "{\"type\":\"object\",\"required\":[\"sandbox\"],\"additionalProperties\":false,\"properties\":{" SB ","
	  "\"until\":{\"enum\":[\"settled\"],\"default\":\"settled\"},"
	  SETTLE("quiet_ms", "how long the screen must not change") ","
	  "\"screenshot\":{\"type\":\"object\",\"description\":\"desktop.screenshot's parameters: "
	  "answer with an image of the settled screen\"}}}",
	  OPF_SANDBOX | OPF_DESKTOP | OPF_VIEW | OPF_BIN_OUT, run_wait },
	{ "desktop.actions", "Run computer-use actions (Anthropic's or OpenAI's vocabulary) in order.",
	  "{\"type\":\"object\",\"required\":[\"sandbox\",\"actions\"],\"additionalProperties\":false,"
	  "\"properties\":{" SB ",\"actions\":{\"type\":\"array\",\"items\":{\"type\":\"object\"}},"
	  "\"scale_to\":{\"type\":\"object\",\"properties\":{\"width\":{\"type\":\"integer\"},"
	  "\"height\":{\"type\":\"integer\"}}},"
	  "\"format\":{\"enum\":[\"png\",\"jpeg\"],\"description\":\"of images in results\"},"
	  "\"quality\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100},"
	  "\"settle_ms\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10000,\"description\":"
	  "\"after the last action, wait until the screen has not changed for this long, then add "
	  "\\\"settled\\\": {settled, waited_ms, frame, image, width, height} to the result\"},"
	  "\"settle_timeout_ms\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":20000,\"default\":3000}}}",
	  OPF_SANDBOX | OPF_DESKTOP | OPF_CONTROL | OPF_IMAGES, run_actions },
	{ "display.get", "The desktop's size, its maximum, and the pointer position.", NOARGS,
	  OPF_SANDBOX | OPF_DESKTOP | OPF_VIEW, run_display_get },
	{ "display.set", "Resize the running desktop (RandR), up to its maximum.",
	  "{\"type\":\"object\",\"required\":[\"sandbox\",\"width\",\"height\"],\"additionalProperties\":false,"
	  "\"properties\":{" SB ",\"width\":{\"type\":\"integer\",\"minimum\":64},"
	  "\"height\":{\"type\":\"integer\",\"minimum\":64}}}",
	  OPF_SANDBOX | OPF_DESKTOP | OPF_CONTROL, run_display_set },
	{ "apps.list", "The installed applications (their .desktop files): id, name, categories, exec.",
	  NOARGS, OPF_SANDBOX | OPF_DESKTOP | OPF_VIEW, run_apps_list },
	{ "apps.launch", "Start an application by id (with a URI or arguments); answers {pid, window} "
	  "once its first window maps.",
	  "{\"type\":\"object\",\"required\":[\"sandbox\",\"app\"],\"additionalProperties\":false,"
	  "\"properties\":{" SB ",\"app\":{\"type\":\"string\",\"description\":\"an id from apps.list\"},"
	  "\"uri\":{\"type\":\"string\",\"description\":\"a URL or file:// URI for the app to open\"},"
	  "\"args\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"maxItems\":256,"
	  "\"description\":\"arguments added after the app's own\"}," LAUNCH_WAIT "}}",
	  OPF_SANDBOX | OPF_DESKTOP | OPF_CONTROL, run_apps_launch },
	{ "apps.open", "Open a URL or file with the default application for its type; answers {pid, window} "
	  "once its window maps.",
	  "{\"type\":\"object\",\"required\":[\"sandbox\",\"target\"],\"additionalProperties\":false,"
	  "\"properties\":{" SB ",\"target\":{\"type\":\"string\",\"description\":\"an http(s) URL, "
	  "a file:// URL or an absolute path in the sandbox\"}," LAUNCH_WAIT "}}",
	  OPF_SANDBOX | OPF_DESKTOP | OPF_CONTROL, run_open },
	{ "clipboard.get", "The desktop's CLIPBOARD text.", NOARGS,
	  OPF_SANDBOX | OPF_DESKTOP | OPF_CONTROL, run_clipboard_get },
	{ "clipboard.set", "Own the desktop's CLIPBOARD with text.",
	  "{\"type\":\"object\",\"required\":[\"sandbox\",\"text\"],\"additionalProperties\":false,"
	  "\"properties\":{" SB ",\"text\":{\"type\":\"string\"}}}",
	  OPF_SANDBOX | OPF_DESKTOP | OPF_CONTROL, run_clipboard_set },
	{ "windows.list", "The desktop's top-level windows.", NOARGS,
	  OPF_SANDBOX | OPF_DESKTOP | OPF_VIEW, run_windows },
	{ "window.activate", "Raise and focus a window (un-minimizing it, switching to its workspace)."
	  WIN_ANSWER, WIN_OP("") "}}", OPF_SANDBOX | OPF_DESKTOP | OPF_CONTROL, run_window_op },
	{ "window.move", "Move a window: x, y is where its client area (not the frame) goes, as "
	  "windows.list reports it." WIN_ANSWER,
	  WIN_OP(",\"x\",\"y\"") ",\"x\":{\"type\":\"integer\",\"minimum\":-32767,\"maximum\":32767},"
	  "\"y\":{\"type\":\"integer\",\"minimum\":-32767,\"maximum\":32767}}}",
	  OPF_SANDBOX | OPF_DESKTOP | OPF_CONTROL, run_window_op },
	{ "window.resize", "Resize a window's client area (the application may round it, to "
	  "character cells say)." WIN_ANSWER,
	  WIN_OP(",\"width\",\"height\"") ",\"width\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":32767},"
	  "\"height\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":32767}}}",
	  OPF_SANDBOX | OPF_DESKTOP | OPF_CONTROL, run_window_op },
	{ "window.minimize", "Minimize (iconify) a window." WIN_ANSWER, WIN_OP("") "}}",
	  OPF_SANDBOX | OPF_DESKTOP | OPF_CONTROL, run_window_op },
	{ "window.maximize", "Maximize a window." WIN_ANSWER, WIN_OP("") "}}",
	  OPF_SANDBOX | OPF_DESKTOP | OPF_CONTROL, run_window_op },
	{ "window.restore", "Undo minimize, maximize and fullscreen." WIN_ANSWER, WIN_OP("") "}}",
	  OPF_SANDBOX | OPF_DESKTOP | OPF_CONTROL, run_window_op },
	{ "window.close", "Ask a window to close (WM_DELETE_WINDOW: the application may ask to save "
	  "first), or with force kill its X client. Answers {window, closed: true} once it is gone, "
	  "else {window, closed: false, dialog} (a window it opened, or null) after 2 s at most.",
	  WIN_OP("") ",\"force\":{\"type\":\"boolean\",\"default\":false,\"description\":"
	  "\"kill the window's X client (XKillClient) instead of asking\"}}}",
	  OPF_SANDBOX | OPF_DESKTOP | OPF_CONTROL, run_window_op },
	{ "desktop.restart", "Kill and restart the desktop (Xvfb, agent, apps); files and commands stay.",
	  NOARGS, OPF_SANDBOX | OPF_RUNNING, run_restart },
	{ "desktop.vnc", "RFB over a WebSocket (subprotocol binary), as noVNC speaks it.", NOARGS,
	  OPF_SANDBOX | OPF_DESKTOP | OPF_VIEW, run_ws_only },
	{ "terminal.open", "A login shell on a pty over a WebSocket.", NOARGS,
	  OPF_SANDBOX | OPF_RUNNING | OPF_CONTROL, run_ws_only },
	{ NULL, NULL, NULL, 0, NULL },
};
