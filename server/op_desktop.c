/*
 * op_desktop.c - the operations of a sandbox's desktop: screenshot,
 * actions, display, clipboard, windows, restart, and the VNC and terminal
 * WebSocket endpoints (rows here so auth and docs treat them the same).
 *
 * Each run validates what it can cheaply, makes one call to the desktop
 * agent (desktop.c) and answers from its reply. A call job lives from the
 * call to its reply; if the client leaves first the agent call is
 * forgotten at once. Loop thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentproto.h"
#include "desktop.h"
#include "log.h"
#include "op.h"
#include "sandbox.h"

struct call_job;
typedef void (*result_fn)(struct call_job *job, json_t *result, int fd);

struct call_job {
	struct sandbox *sb;
	struct op_call *c;
	uint32_t id;
	result_fn on_result;
};

static void job_cancel(void *ctx)
{
	struct call_job *job = ctx;

	desk_call_cancel(job->sb, job->id);
	free(job);
}

static void on_reply(void *ctx, json_t *reply, int fd)
{
	struct call_job *job = ctx;
	struct op_call *c = job->c;
	json_t *err, *result;

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
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
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

static int etag_ok(const char *e)
{
	size_t n = e ? strlen(e) : 0;

	return n > 0 && n < 100 &&
	       strspn(e, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:") == n;
}

static void result_screenshot(struct call_job *job, json_t *result, int fd)
{
	struct op_call *c = job->c;
	const char *etag = json_string_value(json_object_get(result, "etag"));
	const char *mt = json_string_value(json_object_get(result, "media_type"));
	struct stat st;

	if (etag_ok(etag))
		snprintf(c->etag, sizeof(c->etag), "%s", etag);
	if (json_is_true(json_object_get(result, "not_modified"))) {
		if (fd >= 0)
			close(fd);
		c->not_modified = 1;
		return op_ok(c, json_pack("{s:b,s:s}", "not_modified", 1, "etag", c->etag));
	}
	if (fd < 0 || fstat(fd, &st) < 0 || !mt) {
		if (fd >= 0)
			close(fd);
		return op_fail(c, OPERR_INTERNAL, "the desktop sent no image");
	}
	mt = !strcmp(mt, "image/jpeg") ? "image/jpeg" : "image/png";
	op_ok_fd(c, mt, fd, (uint64_t)st.st_size,
		 json_pack("{s:s,s:O,s:O,s:s}", "media_type", mt, "width",
			   json_object_get(result, "width"), "height", json_object_get(result, "height"),
			   "etag", c->etag));
}

/* The screenshot's params for the agent, from the op's. */
static json_t *screenshot_params(struct op_call *c)
{
	json_t *p = json_object(), *region;
	const char *fmt;
	long v, x = -1, y = -1, w = -1, h = -1;
	int cursor = 0;

	if (op_param_str(c, "format", 0, &fmt) < 0)
		goto fail;
	if (fmt) {
		if (strcasecmp(fmt, "jpg") && strcasecmp(fmt, "jpeg") && strcasecmp(fmt, "png")) {
			op_fail(c, OPERR_BAD_REQUEST, "format must be png or jpeg");
			goto fail;
		}
		json_object_set_new(p, "format", json_string(strcasecmp(fmt, "png") ? "jpeg" : "png"));
	}
	v = -1;
	if (op_param_int(c, "quality", 1, 100, &v) < 0)
		goto fail;
	if (v > 0)
		json_object_set_new(p, "quality", json_integer(v));
	for (int i = 0; i < 2; i++) {
		v = -1;
		if (op_param_int(c, i ? "height" : "width", 1, 16384, &v) < 0)
			goto fail;
		if (v > 0)
			json_object_set_new(p, i ? "height" : "width", json_integer(v));
	}
	region = json_object_get(c->params, "region");
	if (json_is_string(region)) {
		if (sscanf(json_string_value(region), "%ld,%ld,%ld,%ld", &x, &y, &w, &h) != 4) {
			op_fail(c, OPERR_BAD_REQUEST, "region must be x,y,w,h (w and h > 0)");
			goto fail;
		}
	} else if (json_is_object(region)) {
		const char *k[4] = { "x", "y", "w", "h" };
		long *dst[4] = { &x, &y, &w, &h };

		for (int i = 0; i < 4; i++) {
			json_t *n = json_object_get(region, k[i]);

			if (!json_is_integer(n)) {
				op_fail(c, OPERR_BAD_REQUEST, "region must be {x, y, w, h} (whole numbers)");
				goto fail;
			}
			*dst[i] = (long)json_integer_value(n);
		}
	} else if (region && !json_is_null(region)) {
		op_fail(c, OPERR_BAD_REQUEST, "region must be \"x,y,w,h\" or {x, y, w, h}");
		goto fail;
	} else {
		if (op_param_int(c, "x", 0, 16384, &x) < 0 || op_param_int(c, "y", 0, 16384, &y) < 0 ||
		    op_param_int(c, "w", 1, 16384, &w) < 0 || op_param_int(c, "h", 1, 16384, &h) < 0)
			goto fail;
		int given = (x >= 0) + (y >= 0) + (w >= 0) + (h >= 0);

		if (given && given < 4) {
			op_fail(c, OPERR_BAD_REQUEST, "a region needs all of x, y, w and h");
			goto fail;
		}
	}
	if (x >= 0 || y >= 0 || w >= 0 || h >= 0) {
		if (x < 0 || y < 0 || w <= 0 || h <= 0 || x > 16384 || y > 16384 || w > 16384 || h > 16384) {
			op_fail(c, OPERR_BAD_REQUEST, "region must be x,y,w,h (w and h > 0)");
			goto fail;
		}
		json_object_set_new(p, "region", json_pack("{s:I,s:I,s:I,s:I}", "x", (json_int_t)x, "y",
							   (json_int_t)y, "w", (json_int_t)w, "h", (json_int_t)h));
	}
	if (op_param_bool(c, "cursor", &cursor) < 0)
		goto fail;
	if (cursor)
		json_object_set_new(p, "cursor", json_true());
	if (op_param_str(c, "if_none_match", 0, &fmt) < 0)
		goto fail;
	if (fmt)
		json_object_set_new(p, "if_none_match", json_string(fmt));
	return p;
fail:
	json_decref(p);
	return NULL;
}

static void run_screenshot(struct op_call *c)
{
	json_t *params = screenshot_params(c);

	if (params)
		call(c, AGENT_M_SCREENSHOT, params, result_screenshot);
}

/* --- actions, display, clipboard, windows, restart --- */

static void run_actions(struct op_call *c)
{
	json_t *actions = json_object_get(c->params, "actions");

	if (!json_is_array(actions))
		return op_fail(c, OPERR_BAD_REQUEST, "actions must be an array of actions");
	call(c, AGENT_M_ACTIONS, json_incref(c->params), result_json);
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

static void run_restart(struct op_call *c)
{
	desk_restart(c->sb, c);
}

static void run_ws_only(struct op_call *c)
{
	op_fail(c, OPERR_BAD_REQUEST, "%s is a WebSocket endpoint: send an Upgrade request", c->op->name);
}

#define SB "\"sandbox\":{\"type\":\"string\"}"
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
	  "\"if_none_match\":{\"type\":\"string\",\"description\":\"an etag: not_modified if current\"}}}",
	  OPF_SANDBOX | OPF_DESKTOP | OPF_VIEW | OPF_BIN_OUT, run_screenshot },
	{ "desktop.actions", "Run computer-use actions (Anthropic's or OpenAI's vocabulary) in order.",
	  "{\"type\":\"object\",\"required\":[\"sandbox\",\"actions\"],\"additionalProperties\":false,"
	  "\"properties\":{" SB ",\"actions\":{\"type\":\"array\",\"items\":{\"type\":\"object\"}},"
	  "\"scale_to\":{\"type\":\"object\",\"properties\":{\"width\":{\"type\":\"integer\"},"
	  "\"height\":{\"type\":\"integer\"}}},"
	  "\"format\":{\"enum\":[\"png\",\"jpeg\"],\"description\":\"of images in results\"},"
	  "\"quality\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":100}}}",
	  OPF_SANDBOX | OPF_DESKTOP | OPF_CONTROL, run_actions },
	{ "display.get", "The desktop's size, its maximum, and the pointer position.", NOARGS,
	  OPF_SANDBOX | OPF_DESKTOP | OPF_VIEW, run_display_get },
	{ "display.set", "Resize the running desktop (RandR), up to its maximum.",
	  "{\"type\":\"object\",\"required\":[\"sandbox\",\"width\",\"height\"],\"additionalProperties\":false,"
	  "\"properties\":{" SB ",\"width\":{\"type\":\"integer\",\"minimum\":64},"
	  "\"height\":{\"type\":\"integer\",\"minimum\":64}}}",
	  OPF_SANDBOX | OPF_DESKTOP | OPF_CONTROL, run_display_set },
	{ "clipboard.get", "The desktop's CLIPBOARD text.", NOARGS,
	  OPF_SANDBOX | OPF_DESKTOP | OPF_CONTROL, run_clipboard_get },
	{ "clipboard.set", "Own the desktop's CLIPBOARD with text.",
	  "{\"type\":\"object\",\"required\":[\"sandbox\",\"text\"],\"additionalProperties\":false,"
	  "\"properties\":{" SB ",\"text\":{\"type\":\"string\"}}}",
	  OPF_SANDBOX | OPF_DESKTOP | OPF_CONTROL, run_clipboard_set },
	{ "windows.list", "The desktop's top-level windows.", NOARGS,
	  OPF_SANDBOX | OPF_DESKTOP | OPF_VIEW, run_windows },
	{ "desktop.restart", "Kill and restart the desktop (Xvfb, agent, apps); files and commands stay.",
	  NOARGS, OPF_SANDBOX | OPF_RUNNING, run_restart },
	{ "desktop.vnc", "RFB over a WebSocket (subprotocol binary), as noVNC speaks it.", NOARGS,
	  OPF_SANDBOX | OPF_DESKTOP | OPF_VIEW, run_ws_only },
	{ "terminal.open", "A login shell on a pty over a WebSocket.", NOARGS,
	  OPF_SANDBOX | OPF_RUNNING | OPF_CONTROL, run_ws_only },
	{ NULL, NULL, NULL, 0, NULL },
};
