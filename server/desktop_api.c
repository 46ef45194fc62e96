/*
 * desktop_api.c - the REST routes of a sandbox's desktop: screenshot,
 * actions, display, clipboard, windows, restart.
 *
 * Each handler validates what it can cheaply, turns the request into one call
 * to the desktop agent and answers from its reply. A call job lives from the
 * call to its reply; if the client leaves first the call is forgotten. Runs on
 * the loop thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "desktop.h"
#include "log.h"
#include "sandbox.h"
#include "util.h"

struct call_job;
typedef void (*result_fn)(struct call_job *job, json_t *result, int fd);

struct call_job {
	struct sandbox *sb;
	struct http_req *req;
	uint32_t id;
	result_fn on_result;
};

static void job_cancel(void *ctx)
{
	struct call_job *job = ctx;

	desk_call_cancel(job->sb, job->id);
	free(job);
}

static int status_of(const char *code)
{
	if (!code)
		return 500;
	if (!strcmp(code, "bad_request") || !strcmp(code, "unsupported"))
		return 400;
	if (!strcmp(code, "not_found"))
		return 404;
	return 500;
}

static void on_reply(void *ctx, json_t *reply, int fd)
{
	struct call_job *job = ctx;
	struct http_req *r = job->req;
	json_t *err, *result;

	http_clear_job(r);
	if (!reply) {
		http_error(r, 409, "desktop_not_running", "the desktop went away before answering");
		goto out;
	}
	err = json_object_get(reply, "error");
	result = json_object_get(reply, "result");
	if (err) {
		const char *code = json_string_value(json_object_get(err, "code"));
		const char *msg = json_string_value(json_object_get(err, "message"));
		json_t *index = json_object_get(err, "index");
		json_t *body = json_pack("{s:{s:s,s:s}}", "error", "code",
					 code ? code : "internal", "message", msg ? msg : "the desktop failed");

		if (json_is_integer(index))
			json_object_set(json_object_get(body, "error"), "index", index);
		http_respond_json(r, status_of(code), body);
		goto out;
	}
	if (!json_is_object(result)) {
		http_error(r, 500, "internal", "the desktop sent a malformed reply");
		goto out;
	}
	job->on_result(job, result, fd);
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	free(job);
}

static int desktop_ready(struct http_req *r, struct sandbox *sb)
{
	const char *name, *error;

	if (sb->state != SBX_RUNNING) {
		http_error(r, 409, "sandbox_not_running", "the sandbox is not running");
		return 0;
	}
	if (!sb->desk) {
		http_error(r, 409, "no_desktop", "this sandbox was created without a desktop");
		return 0;
	}
	if (desk_state(sb, &name, &error) != DESK_READY) {
		http_error(r, 409, "desktop_not_running", "the desktop is %s%s%s (POST .../desktop/restart)",
			   name, error[0] ? ": " : "", error);
		return 0;
	}
	return 1;
}

static void call(struct http_req *r, struct sandbox *sb, const char *method, json_t *params,
		 result_fn on_result)
{
	struct call_job *job = calloc(1, sizeof(*job));

	if (!job) {
		json_decref(params);
		http_error(r, 500, "internal", "out of memory");
		return;
	}
	job->sb = sb;
	job->req = r;
	job->on_result = on_result;
	job->id = desk_call(sb, method, params, -1, on_reply, job);
	if (!job->id) {
		http_error(r, errno == EMSGSIZE ? 413 : 409, errno == EMSGSIZE ? "too_large" : "desktop_not_running",
			   "cannot reach the desktop: %s", strerror(errno));
		free(job);
		return;
	}
	http_set_job(r, job, job_cancel);
}

static void result_json(struct call_job *job, json_t *result, int fd)
{
	if (fd >= 0)
		close(fd);
	http_respond_json(job->req, 200, json_incref(result));
}

/* --- screenshot --- */

static int query_int(struct http_req *r, const char *name, long min, long max, json_t *params,
		     const char *key)
{
	char buf[32], *end;
	long v;

	if (http_query(r, name, buf, sizeof(buf)) < 0)
		return 0;
	v = strtol(buf, &end, 10);
	if (end == buf || *end || v < min || v > max) {
		http_error(r, 400, "bad_request", "%s must be a whole number from %ld to %ld", name, min, max);
		return -1;
	}
	json_object_set_new(params, key, json_integer(v));
	return 0;
}

static int screenshot_params(struct http_req *r, json_t *params)
{
	char buf[64];
	long x, y, w, h;

	if (http_query(r, "format", buf, sizeof(buf)) >= 0) {
		if (!strcasecmp(buf, "jpg") || !strcasecmp(buf, "jpeg"))
			json_object_set_new(params, "format", json_string("jpeg"));
		else if (!strcasecmp(buf, "png"))
			json_object_set_new(params, "format", json_string("png"));
		else {
			http_error(r, 400, "bad_request", "format must be png or jpeg");
			return -1;
		}
	}
	if (query_int(r, "quality", 1, 100, params, "quality") ||
	    query_int(r, "width", 1, 16384, params, "width") ||
	    query_int(r, "height", 1, 16384, params, "height"))
		return -1;
	if (http_query(r, "region", buf, sizeof(buf)) >= 0) {
		if (sscanf(buf, "%ld,%ld,%ld,%ld", &x, &y, &w, &h) != 4 || x < 0 || y < 0 || w <= 0 || h <= 0 ||
		    x > 16384 || y > 16384 || w > 16384 || h > 16384) {
			http_error(r, 400, "bad_request", "region must be x,y,w,h (w and h > 0)");
			return -1;
		}
		json_object_set_new(params, "region", json_pack("{s:I,s:I,s:I,s:I}", "x", (json_int_t)x,
								"y", (json_int_t)y, "w", (json_int_t)w, "h", (json_int_t)h));
	} else {
		json_t *reg = json_object();

		if (query_int(r, "x", 0, 16384, reg, "x") || query_int(r, "y", 0, 16384, reg, "y") ||
		    query_int(r, "w", 1, 16384, reg, "w") || query_int(r, "h", 1, 16384, reg, "h")) {
			json_decref(reg);
			return -1;
		}
		if (json_object_size(reg) == 4) {
			json_object_set_new(params, "region", reg);
		} else if (json_object_size(reg)) {
			json_decref(reg);
			http_error(r, 400, "bad_request", "a region needs all of x, y, w and h");
			return -1;
		} else {
			json_decref(reg);
		}
	}
	if (http_query(r, "cursor", buf, sizeof(buf)) >= 0)
		json_object_set_new(params, "cursor", json_boolean(!strcmp(buf, "1") || !strcasecmp(buf, "true")));
	if (lws_hdr_copy(r->wsi, buf, sizeof(buf), WSI_TOKEN_HTTP_IF_NONE_MATCH) > 0) {
		char *p = buf;
		size_t n;

		if (!strncmp(p, "W/", 2))
			p += 2;
		if (*p == '"')
			p++;
		n = strcspn(p, "\"");
		p[n] = '\0';
		json_object_set_new(params, "if_none_match", json_string(p));
	}
	return 0;
}

static int etag_ok(const char *e)
{
	size_t n = e ? strlen(e) : 0;

	return n > 0 && n < 100 &&
	       strspn(e, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:") == n;
}

static void result_screenshot(struct call_job *job, json_t *result, int fd)
{
	struct http_req *r = job->req;
	const char *etag = json_string_value(json_object_get(result, "etag"));
	const char *mt = json_string_value(json_object_get(result, "media_type"));
	struct stat st;

	if (etag_ok(etag))
		snprintf(r->etag, sizeof(r->etag), "\"%s\"", etag);
	if (json_is_true(json_object_get(result, "not_modified"))) {
		if (fd >= 0)
			close(fd);
		http_respond(r, 304, NULL, NULL, 0);
		return;
	}
	if (fd < 0 || fstat(fd, &st) < 0 || !mt) {
		if (fd >= 0)
			close(fd);
		http_error(r, 500, "internal", "the desktop sent no image");
		return;
	}
	http_respond_fd(r, 200, !strcmp(mt, "image/jpeg") ? "image/jpeg" : "image/png", fd,
			(uint64_t)st.st_size);
}

void desk_api_screenshot(struct http_req *r, struct sandbox *sb)
{
	json_t *params;

	if (!desktop_ready(r, sb))
		return;
	params = json_object();
	if (screenshot_params(r, params)) {
		json_decref(params);
		return;
	}
	call(r, sb, "screenshot", params, result_screenshot);
}

/* --- actions, display, clipboard, windows --- */

static json_t *body_json(struct http_req *r, int want_object)
{
	json_error_t je;
	json_t *j;

	if (r->body_len == 0) {
		http_error(r, 400, "bad_json", "a JSON body is required");
		return NULL;
	}
	j = json_loadb(r->body, r->body_len, 0, &je);
	if (!j) {
		http_error(r, 400, "bad_json", "invalid JSON at line %d column %d: %s", je.line, je.column, je.text);
		return NULL;
	}
	if (want_object ? !json_is_object(j) : !(json_is_object(j) || json_is_array(j))) {
		http_error(r, 400, "bad_json", "the body must be a JSON %s", want_object ? "object" : "object or array");
		json_decref(j);
		return NULL;
	}
	return j;
}

void desk_api_actions(struct http_req *r, struct sandbox *sb)
{
	json_t *params;

	if (!desktop_ready(r, sb))
		return;
	params = body_json(r, 0);
	if (params)
		call(r, sb, "actions", params, result_json);
}

void desk_api_display_get(struct http_req *r, struct sandbox *sb)
{
	if (desktop_ready(r, sb))
		call(r, sb, "display.get", NULL, result_json);
}

void desk_api_display_put(struct http_req *r, struct sandbox *sb)
{
	json_t *body, *w, *h;

	if (!desktop_ready(r, sb) || !(body = body_json(r, 1)))
		return;
	w = json_object_get(body, "width");
	h = json_object_get(body, "height");
	if (!json_is_integer(w) || !json_is_integer(h) || json_integer_value(w) < 64 ||
	    json_integer_value(h) < 64) {
		json_decref(body);
		http_error(r, 400, "bad_request", "width and height must be whole numbers of at least 64");
		return;
	}
	call(r, sb, "display.set", json_pack("{s:O,s:O}", "width", w, "height", h), result_json);
	json_decref(body);
}

void desk_api_clipboard_get(struct http_req *r, struct sandbox *sb)
{
	if (desktop_ready(r, sb))
		call(r, sb, "clipboard.get", NULL, result_json);
}

void desk_api_clipboard_put(struct http_req *r, struct sandbox *sb)
{
	json_t *body = NULL, *text;
	char *clean;

	if (!desktop_ready(r, sb))
		return;
	/* {"text": "..."} or the text itself as the raw body. */
	if (r->body_len && r->body[0] == '{')
		body = json_loadb(r->body, r->body_len, 0, NULL);
	text = json_object_get(body, "text");
	if (body && !json_is_string(text)) {
		json_decref(body);
		http_error(r, 400, "bad_request", "text must be a string");
		return;
	}
	if (!body) {
		clean = malloc(r->body_len * 3 + 4);
		if (!clean) {
			http_error(r, 500, "internal", "out of memory");
			return;
		}
		text = json_stringn(clean, utf8_repair(r->body ? r->body : "", r->body_len, clean,
							r->body_len * 3 + 4));
		free(clean);
	} else {
		json_incref(text);
		json_decref(body);
	}
	call(r, sb, "clipboard.set", json_pack("{s:o}", "text", text), result_json);
}

void desk_api_windows(struct http_req *r, struct sandbox *sb)
{
	if (desktop_ready(r, sb))
		call(r, sb, "windows", NULL, result_json);
}

void desk_api_restart(struct http_req *r, struct sandbox *sb)
{
	if (sb->state != SBX_RUNNING) {
		http_error(r, 409, "sandbox_not_running", "the sandbox is not running");
		return;
	}
	desk_restart(sb, r);
}
