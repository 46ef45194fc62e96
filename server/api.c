/*
 * api.c - the REST routes: one table row per route, one handler each.
 *
 * Every row gets the same treatment from http.c (auth, body limit, errors);
 * handlers parse with req.c, act through sandbox.c, exec.c and files.c, and
 * answer through http.c. Runs on the loop thread; handlers never block.
 */
#include "api.h"

#include <stdio.h>
#include <string.h>

#include "desktop.h"
#include "exec.h"
#include "files.h"
#include "log.h"
#include "req.h"
#include "sandbox.h"
#include "util.h"

struct api_route {
	enum http_method method;
	const char *pattern;           /* '*' = the sandbox id */
	void (*handler)(struct http_req *r, struct sandbox *sb);
	int auth;                      /* needs the API token */
	int sandbox;                   /* '*' must name an existing sandbox */
	int file_body;                 /* body limit is --max-file */
};

static void health(struct http_req *r, struct sandbox *sb)
{
	http_respond_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

static void list(struct http_req *r, struct sandbox *sb)
{
	json_t *arr = json_array();

	for (struct sandbox *s = r->srv->sandboxes; s; s = s->next)
		if (s->state != SBX_STARTING)
			json_array_append_new(arr, sbx_json(s));
	http_respond_json(r, 200, json_pack("{s:o}", "sandboxes", arr));
}

/* Map a req_* parse result to the answer; returns 1 if it answered. */
static int parse_failed(struct http_req *r, enum req_result res, const char *err)
{
	if (res == REQ_OK)
		return 0;
	http_error(r, 400, res == REQ_BAD_JSON ? "bad_json" : "bad_request", "%s", err);
	return 1;
}

static void create(struct http_req *r, struct sandbox *sb)
{
	struct req_create spec;
	char err[512];
	enum req_result res = req_parse_create(r->body, r->body_len, &r->srv->cfg.limits,
					       r->srv->cfg.timeout_s, &spec, err, sizeof(err));

	if (parse_failed(r, res, err))
		return;
	/* Without the agent installed, sandboxes default to shell-only. */
	if (spec.desktop < 0)
		spec.desktop = r->srv->desktop_fd >= 0;
	if (spec.vnc_port >= 0 && !spec.desktop) {
		http_error(r, 400, "bad_request", "a VNC port needs a desktop");
		req_create_free(&spec);
		return;
	}
	if (spec.desktop && (spec.width > r->srv->cfg.max_width || spec.height > r->srv->cfg.max_height)) {
		http_error(r, 400, "bad_request", "the desktop can be at most %dx%d",
			   r->srv->cfg.max_width, r->srv->cfg.max_height);
		req_create_free(&spec);
		return;
	}
	sbx_create(r->srv, &spec, r);
}

static void get(struct http_req *r, struct sandbox *sb)
{
	http_respond_json(r, 200, sbx_json(sb));
}

static void destroy(struct http_req *r, struct sandbox *sb)
{
	log_event(sb->id, "delete requested");
	sbx_remove(sb, r);
}

static void timeout(struct http_req *r, struct sandbox *sb)
{
	char err[512];
	long t;

	if (parse_failed(r, req_parse_timeout(r->body, r->body_len, &t, err, sizeof(err)), err))
		return;
	if (sb->state != SBX_RUNNING) {
		http_error(r, 409, "sandbox_not_running", "the sandbox is %s",
			   sb->state == SBX_FAILED ? "failed" : "stopping");
		return;
	}
	sbx_set_timeout(sb, t);
	http_respond_json(r, 200, sbx_json(sb));
}

static int running(struct http_req *r, struct sandbox *sb)
{
	if (sb->state == SBX_RUNNING)
		return 1;
	http_error(r, 409, "sandbox_not_running", "the sandbox is %s%s%s",
		   sb->state == SBX_FAILED ? "failed" : "stopping",
		   sb->error[0] ? ": " : "", sb->error);
	return 0;
}

static void exec(struct http_req *r, struct sandbox *sb)
{
	struct req_exec x;
	char err[512];

	if (parse_failed(r, req_parse_exec(r->body, r->body_len, r->srv->cfg.exec_timeout_ms,
					   &x, err, sizeof(err)), err))
		return;
	if (running(r, sb))
		exec_start(sb, &x, r);
	req_exec_free(&x);
}

static int file_path(struct http_req *r, char *path, int cap)
{
	if (http_query(r, "path", path, cap) <= 0) {
		http_error(r, 400, "bad_request", "the query parameter path=... is required");
		return -1;
	}
	return 0;
}

static void file_put(struct http_req *r, struct sandbox *sb)
{
	char path[4096];

	if (file_path(r, path, sizeof(path)) == 0 && running(r, sb))
		files_put(sb, r, path);
}

static void file_get(struct http_req *r, struct sandbox *sb)
{
	char path[4096];

	if (file_path(r, path, sizeof(path)) == 0 && running(r, sb))
		files_get(sb, r, path);
}

static void viewer_token(struct http_req *r, struct sandbox *sb)
{
	json_t *body = r->body_len ? json_loadb(r->body, r->body_len, 0, NULL) : json_object();
	json_t *vo = json_object_get(body, "view_only"), *ttl = json_object_get(body, "ttl_s");
	const struct viewer_token *v;
	char host[256], url[512], exp[40];
	long ttl_s = 3600;
	int n;

	if (!json_is_object(body)) {
		json_decref(body);
		http_error(r, 400, "bad_json", "the body must be a JSON object");
		return;
	}
	if ((vo && !json_is_boolean(vo)) ||
	    (ttl && (!json_is_integer(ttl) || json_integer_value(ttl) < 1 ||
		     json_integer_value(ttl) > 7 * 86400))) {
		json_decref(body);
		http_error(r, 400, "bad_request", "view_only must be true or false, ttl_s from 1 to 604800");
		return;
	}
	if (ttl)
		ttl_s = (long)json_integer_value(ttl);
	if (!running(r, sb)) {
		json_decref(body);
		return;
	}
	/* View-only unless asked otherwise: the safer link to hand out. */
	v = sbx_viewer_add(sb, vo ? json_is_true(vo) : 1, ttl_s);
	json_decref(body);
	if (!v) {
		http_error(r, 500, "internal", "cannot make a token");
		return;
	}
	n = lws_hdr_copy(r->wsi, host, sizeof(host), WSI_TOKEN_HOST);
	if (n <= 0 || strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") != (size_t)n)
		snprintf(host, sizeof(host), "%s:%d", r->srv->cfg.listen_host, r->srv->cfg.listen_port);
	snprintf(url, sizeof(url), "http://%s/viewer.html?id=%s&token=%s%s", host, sb->id, v->token,
		 v->view_only ? "&view_only=1" : "");
	sbx_iso_time(v->expires_us, exp, sizeof(exp));
	http_respond_json(r, 201, json_pack("{s:s,s:b,s:s,s:s}", "token", v->token, "view_only",
					    v->view_only, "expires_at", exp, "url", url));
}

static const struct api_route routes[] = {
	{ HM_GET, "/healthz", health, 0, 0, 0 },
	{ HM_GET, "/v1/sandboxes", list, 1, 0, 0 },
	{ HM_POST, "/v1/sandboxes", create, 1, 0, 0 },
	{ HM_GET, "/v1/sandboxes/*", get, 1, 1, 0 },
	{ HM_DELETE, "/v1/sandboxes/*", destroy, 1, 1, 0 },
	{ HM_POST, "/v1/sandboxes/*/timeout", timeout, 1, 1, 0 },
	{ HM_POST, "/v1/sandboxes/*/exec", exec, 1, 1, 0 },
	{ HM_PUT, "/v1/sandboxes/*/files", file_put, 1, 1, 1 },
	{ HM_GET, "/v1/sandboxes/*/files", file_get, 1, 1, 0 },
	{ HM_GET, "/v1/sandboxes/*/screenshot", desk_api_screenshot, 1, 1, 0 },
	{ HM_POST, "/v1/sandboxes/*/actions", desk_api_actions, 1, 1, 0 },
	{ HM_GET, "/v1/sandboxes/*/display", desk_api_display_get, 1, 1, 0 },
	{ HM_PUT, "/v1/sandboxes/*/display", desk_api_display_put, 1, 1, 0 },
	{ HM_GET, "/v1/sandboxes/*/clipboard", desk_api_clipboard_get, 1, 1, 0 },
	{ HM_PUT, "/v1/sandboxes/*/clipboard", desk_api_clipboard_put, 1, 1, 0 },
	{ HM_GET, "/v1/sandboxes/*/windows", desk_api_windows, 1, 1, 0 },
	{ HM_POST, "/v1/sandboxes/*/desktop/restart", desk_api_restart, 1, 1, 0 },
	{ HM_POST, "/v1/sandboxes/*/viewer-tokens", viewer_token, 1, 1, 0 },
};

int api_route(const char *path, enum http_method m, const struct api_route **route,
	      char *id, size_t idlen)
{
	int path_known = 0;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!route_match(routes[i].pattern, path, id, idlen))
			continue;
		path_known = 1;
		if (routes[i].method == m || (m == HM_HEAD && routes[i].method == HM_GET)) {
			*route = &routes[i];
			return 0;
		}
	}
	*route = NULL;
	return path_known ? 405 : 404;
}

int api_route_auth(const struct api_route *route)
{
	return route->auth;
}

int api_route_file_body(const struct api_route *route)
{
	return route->file_body;
}

void api_handle(struct http_req *r)
{
	struct sandbox *sb = NULL;

	if (r->route->sandbox) {
		sb = id_valid(r->id) ? sbx_find(r->srv, r->id) : NULL;
		if (!sb || sb->state == SBX_STARTING) {
			http_error(r, 404, "not_found", "no sandbox with id %s", r->id);
			return;
		}
	}
	r->route->handler(r, sb);
}
