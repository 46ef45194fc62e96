/*
 * rest.c - the REST face of the operation table.
 *
 * One row per route: method, path pattern ('*' is the sandbox id, a
 * '{name}' segment becomes the param name), the
 * operation it names, the status of a success, and how the body becomes
 * params. Everything else comes from the operation's row: which query
 * parameters exist and their types (its schema), auth scope, checks. So a
 * route gets auth, unknown-field refusal and the error table the same way
 * as every JSON-RPC method. Runs on the loop thread.
 */
#include "rest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpparts.h"
#include "log.h"
#include "mcp.h"
#include "util.h"

enum rest_body {
	RB_NONE = 0,     /* a body is ignored */
	RB_JSON,         /* a JSON object (empty: {}) merged into params */
	RB_ACTIONS,      /* a JSON action, array of them, or {"actions": …} */
	RB_TEXT,         /* {"text": …} or the raw UTF-8 text */
	RB_BINARY,       /* raw bytes: the call's bin; limit --max-file */
	RB_WS,           /* a WebSocket endpoint: no plain request */
	RB_MCP,          /* the MCP endpoint: mcp.c binds the whole table (no op) */
};

struct rest_route {
	enum http_method method;
	const char *pattern;
	const char *op;
	int ok_status;
	enum rest_body body;
};

static const struct rest_route rest_routes[] = {
	{ HM_GET, "/healthz", "server.health", 200, RB_NONE },
	{ HM_GET, "/readyz", "server.ready", 200, RB_NONE },
	{ HM_GET, "/metrics", "server.metrics", 200, RB_NONE },
	{ HM_POST, "/v1/admin/drain", "server.drain", 200, RB_JSON },
	{ HM_GET, "/v1/sandboxes", "sandbox.list", 200, RB_NONE },
	{ HM_POST, "/v1/sandboxes", "sandbox.create", 201, RB_JSON },
	{ HM_GET, "/v1/sandboxes/*", "sandbox.get", 200, RB_NONE },
	{ HM_DELETE, "/v1/sandboxes/*", "sandbox.delete", 204, RB_NONE },
	{ HM_POST, "/v1/sandboxes/*/timeout", "sandbox.set_timeout", 200, RB_JSON },
	{ HM_POST, "/v1/sandboxes/*/exec", "process.exec", 200, RB_JSON },
	{ HM_PUT, "/v1/sandboxes/*/files", "files.write", 201, RB_BINARY },
	{ HM_GET, "/v1/sandboxes/*/files", "files.read", 200, RB_NONE },
	{ HM_GET, "/v1/sandboxes/*/screenshot", "desktop.screenshot", 200, RB_NONE },
	{ HM_POST, "/v1/sandboxes/*/actions", "desktop.actions", 200, RB_ACTIONS },
	{ HM_POST, "/v1/sandboxes/*/desktop/wait", "desktop.wait", 200, RB_JSON },
	{ HM_GET, "/v1/sandboxes/*/display", "display.get", 200, RB_NONE },
	{ HM_PUT, "/v1/sandboxes/*/display", "display.set", 200, RB_JSON },
	{ HM_GET, "/v1/sandboxes/*/clipboard", "clipboard.get", 200, RB_NONE },
	{ HM_PUT, "/v1/sandboxes/*/clipboard", "clipboard.set", 200, RB_TEXT },
	{ HM_GET, "/v1/sandboxes/*/windows", "windows.list", 200, RB_NONE },
	{ HM_POST, "/v1/sandboxes/*/recordings", "recordings.start", 201, RB_JSON },
	{ HM_GET, "/v1/sandboxes/*/recordings", "recordings.list", 200, RB_NONE },
	{ HM_GET, "/v1/sandboxes/*/recordings/{recording}", "recordings.get", 200, RB_NONE },
	{ HM_DELETE, "/v1/sandboxes/*/recordings/{recording}", "recordings.delete", 204, RB_NONE },
	{ HM_POST, "/v1/sandboxes/*/recordings/{recording}/stop", "recordings.stop", 200, RB_JSON },
	{ HM_GET, "/v1/sandboxes/*/recordings/{recording}/actions", "recordings.actions", 200, RB_NONE },
	{ HM_POST, "/v1/sandboxes/*/windows/{window}/activate", "window.activate", 200, RB_JSON },
	{ HM_POST, "/v1/sandboxes/*/windows/{window}/move", "window.move", 200, RB_JSON },
	{ HM_POST, "/v1/sandboxes/*/windows/{window}/resize", "window.resize", 200, RB_JSON },
	{ HM_POST, "/v1/sandboxes/*/windows/{window}/minimize", "window.minimize", 200, RB_JSON },
	{ HM_POST, "/v1/sandboxes/*/windows/{window}/maximize", "window.maximize", 200, RB_JSON },
	{ HM_POST, "/v1/sandboxes/*/windows/{window}/restore", "window.restore", 200, RB_JSON },
	{ HM_POST, "/v1/sandboxes/*/windows/{window}/close", "window.close", 200, RB_JSON },
	{ HM_GET, "/v1/sandboxes/*/apps", "apps.list", 200, RB_NONE },
	{ HM_POST, "/v1/sandboxes/*/apps/launch", "apps.launch", 200, RB_JSON },
	{ HM_POST, "/v1/sandboxes/*/open", "apps.open", 200, RB_JSON },
	{ HM_POST, "/v1/sandboxes/*/desktop/restart", "desktop.restart", 200, RB_NONE },
	{ HM_POST, "/v1/sandboxes/*/viewer-tokens", "viewer.create_token", 201, RB_JSON },
	{ HM_GET, "/v1/sandboxes/*/vnc", "desktop.vnc", 101, RB_WS },
	{ HM_GET, "/v1/sandboxes/*/pty", "terminal.open", 101, RB_WS },
	{ HM_GET, "/v1/sandboxes/*/network", "network.get", 200, RB_NONE },
	{ HM_PUT, "/v1/sandboxes/*/network", "network.set", 200, RB_JSON },
	{ HM_GET, "/v1/sandboxes/*/network/log", "network.log", 200, RB_NONE },
	{ HM_POST, "/v1/sandboxes/*/tools/anthropic", "anthropic.tool_use", 200, RB_JSON },
	{ HM_GET, "/v1/sandboxes/*/tools/anthropic", "anthropic.tools", 200, RB_NONE },
	{ HM_POST, "/v1/sandboxes/*/tools/openai", "openai.computer_call", 200, RB_JSON },
	{ HM_GET, "/v1/sandboxes/*/tools/openai", "openai.tools", 200, RB_NONE },
	{ HM_POST, "/mcp", NULL, 200, RB_MCP },
	{ HM_DELETE, "/mcp", NULL, 200, RB_MCP },
};

#define REST_NROUTES (sizeof(rest_routes) / sizeof(rest_routes[0]))

enum operr rest_route(const char *path, enum http_method m, const struct rest_route **route,
		      char *id, size_t idlen)
{
	int path_known = 0;

	for (size_t i = 0; i < REST_NROUTES; i++) {
		if (!route_match(rest_routes[i].pattern, path, id, idlen))
			continue;
		path_known = 1;
		if (rest_routes[i].method == m || (m == HM_HEAD && rest_routes[i].method == HM_GET)) {
			*route = &rest_routes[i];
			return OPERR_OK;
		}
	}
	*route = NULL;
	return path_known ? OPERR_METHOD_NOT_ALLOWED : OPERR_NOT_FOUND;
}

const struct op *rest_route_op(const struct rest_route *route)
{
	return op_find(route->op);
}

int rest_route_allowed(const struct rest_route *route, const struct op_auth *auth, const char *id)
{
	const struct op *op = rest_route_op(route);

	/* Op-less routes (MCP) reach every operation: the API token only. */
	return op ? op_allowed(op, auth, id) : auth->scope == OPS_FULL;
}

int rest_route_file_body(const struct rest_route *route)
{
	return route->body == RB_BINARY;
}

int rest_route_ws(const struct rest_route *route)
{
	return route->body == RB_WS;
}

const char *rest_describe(const struct op *op, char *buf, size_t cap)
{
	static const char *const names[] = { [HM_GET] = "GET", [HM_POST] = "POST", [HM_PUT] = "PUT",
					     [HM_DELETE] = "DELETE" };

	for (size_t i = 0; i < REST_NROUTES; i++) {
		const char *p = rest_routes[i].pattern, *star = strchr(p, '*');

		if (!rest_routes[i].op || strcmp(rest_routes[i].op, op->name))
			continue;
		if (star)
			snprintf(buf, cap, "%s %.*s{id}%s", names[rest_routes[i].method], (int)(star - p), p,
				 star + 1);
		else
			snprintf(buf, cap, "%s %s", names[rest_routes[i].method], p);
		return buf;
	}
	return NULL;
}

void rest_auth(struct http_req *r, struct op_auth *out)
{
	char h[512], tok[256];
	int n = lws_hdr_copy(r->wsi, h, sizeof(h), WSI_TOKEN_HTTP_AUTHORIZATION);
	const char *t = NULL;
	size_t len = 0;

	if (n <= 0 || httpparts_bearer(h, (size_t)n, &t, &len) < 0) {
		t = NULL;
		len = 0;
	}
	if (!t && lws_get_urlarg_by_name(r->wsi, "token=", tok, sizeof(tok))) {
		t = strncmp(tok, "token=", 6) ? tok : tok + 6;
		len = strlen(t);
	}
	op_authenticate(r->srv, t, len, out);
}

void rest_host(struct http_req *r, char *host, size_t cap)
{
	int n = lws_hdr_copy(r->wsi, host, (int)cap, WSI_TOKEN_HOST);

	/* It goes into URLs we hand out (viewer links): plain characters only. */
	if (n <= 0 || !httpparts_host_ok(host, (size_t)n))
		host[0] = '\0';
}

/* Each '{name}' segment of pattern (which path matched) into
 * params[name], typed by the operation's schema (a window id is a
 * number); it wins over the same name in the query or body. Returns 0, or
 * -1 with err (a segment that is not of its type, or not UTF-8). */
static int rest_segments(const struct op *op, const char *pattern, const char *path,
			 json_t *params, char *err, size_t cap)
{
	const json_t *props = json_object_get(op_schema(op), "properties");
	const char *p = pattern, *u = path;

	while (*p && *u && *u != '?') {
		size_t n = strcspn(u, "/?");

		if (*p == '{') {
			size_t k = strcspn(p, "}");
			char name[32];

			if (k < sizeof(name) && p[k] == '}') {
				char frag[300];
				int fl;

				memcpy(name, p + 1, k - 1);
				name[k - 1] = '\0';
				if (n > 255) {
					snprintf(err, cap, "the path's %s is too long", name);
					return -1;
				}
				fl = snprintf(frag, sizeof(frag), "%s=%.*s", name, (int)n, u);
				json_object_del(params, name);   /* the path wins */
				if (httpparts_query(frag, (size_t)fl, props, params, err, cap) < 0)
					return -1;
			}
			p += k + (p[k] == '}');
			u += n;
		} else if (*p == '*') {
			p++;
			u += n;
		} else {
			p++;
			u++;
		}
	}
	return 0;
}

/* Query parameters into params, typed by the schema; unknown names are
 * left for the operation's unknown-field check. Returns 0 or -1 (err). */
static int rest_query(struct http_req *r, const struct op *op, json_t *params, char *err, size_t cap)
{
	const json_t *props = json_object_get(op_schema(op), "properties");
	char frag[4096];

	for (int i = 0;; i++) {
		int n = lws_hdr_copy_fragment(r->wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i);

		if (n < 0)
			break;
		/* lws 4.1 ends a URI whose last fragment is empty ("…?",
		 * "…&") with a '/', which lands in that fragment: an empty
		 * query is no query. */
		if (n == 1 && frag[0] == '/' &&
		    lws_hdr_copy_fragment(r->wsi, frag, sizeof(frag), WSI_TOKEN_HTTP_URI_ARGS, i + 1) < 0)
			break;
		if (httpparts_query(frag, (size_t)n, props, params, err, cap) < 0)
			return -1;
	}
	return 0;
}

/* The body into params as the route takes it. Returns 0, or the error
 * (with err set). */
static enum operr rest_body(struct http_req *r, json_t *params, char *err, size_t cap)
{
	switch (r->route->body) {
	case RB_JSON:
		return httpparts_body(HTTPPARTS_JSON, r->body, r->body_len, params, err, cap);
	case RB_ACTIONS:
		return httpparts_body(HTTPPARTS_ACTIONS, r->body, r->body_len, params, err, cap);
	case RB_TEXT:
		return httpparts_body(HTTPPARTS_TEXT, r->body, r->body_len, params, err, cap);
	default:
		return OPERR_OK;
	}
}

/* What a binary answer's result says besides the bytes (a settle wait's
 * outcome, an image's size) goes in Deskbox-* headers. */
static void rest_meta_headers(struct http_req *r, const json_t *result)
{
	static const char *const keys[] = { "settled", "waited_ms", "width", "height", "composited" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const json_t *v = json_object_get(result, keys[i]);
		char name[32], value[32];

		if (!json_is_integer(v) && !json_is_boolean(v))
			continue;
		snprintf(name, sizeof(name), "deskbox-%s:", keys[i]);
		for (char *p = name; *p; p++)
			if (*p == '_')
				*p = '-';
		if (json_is_boolean(v))
			snprintf(value, sizeof(value), "%s", json_is_true(v) ? "true" : "false");
		else
			snprintf(value, sizeof(value), "%lld", (long long)json_integer_value(v));
		http_add_header(r, name, value);
	}
}

static void rest_done(struct op_call *c)
{
	struct http_req *r = c->tctx;

	if (c->err != OPERR_OK) {
		json_t *body = json_pack("{s:{s:s,s:s}}", "error", "code", operr_code(c->err),
					 "message", c->msg);

		if (c->index >= 0)
			json_object_set_new(json_object_get(body, "error"), "index", json_integer(c->index));
		http_respond_json(r, operr_http(c->err), body);
		return;
	}
	if (c->etag[0])
		snprintf(r->etag, sizeof(r->etag), "\"%s\"", c->etag);
	if (c->not_modified) {
		http_respond(r, 304, NULL, NULL, 0);
	} else if (c->out_fd >= 0) {
		rest_meta_headers(r, c->result);
		http_respond_fd(r, 200, c->media_type, c->out_fd, c->out_len);
		c->out_fd = -1;
	} else if (r->route->ok_status == 204) {
		http_respond(r, 204, "application/json", NULL, 0);
	} else if (c->nimgs) {
		/* Images as base64 in the JSON, encoded from their memfds
		 * straight into the body. */
		size_t len;
		char *text = op_result_text(c, &len);

		if (!text)
			http_error(r, OPERR_INTERNAL, "cannot read the result's images");
		else
			http_respond(r, c->created ? 201 : r->route->ok_status, "application/json", text, len);
	} else {
		http_respond_json(r, c->created ? 201 : r->route->ok_status, c->result);
		c->result = NULL;
	}
}

void rest_handle(struct http_req *r)
{
	const struct op *op = rest_route_op(r->route);
	struct op_call *c = &r->call;
	json_t *params = json_object();
	struct op_auth auth;
	char err[1024] = "", host[256] = "", etag[128];
	enum operr e = OPERR_OK;
	int n;

	if (r->route->body == RB_MCP) {
		json_decref(params);
		mcp_handle(r);
		return;
	}
	rest_auth(r, &auth);
	rest_host(r, host, sizeof(host));
	op_call_init(c, r->srv, op, &auth, params, host);
	c->on_done = rest_done;
	c->tctx = r;
	if (!op) {
		op_fail(c, OPERR_INTERNAL, "the route names no operation");
		return;
	}
	if (r->route->body == RB_WS) {
		op_fail(c, OPERR_BAD_REQUEST, "%s is a WebSocket endpoint: send an Upgrade request", r->path);
		return;
	}
	if (rest_query(r, op, params, err, sizeof(err)) < 0)
		e = OPERR_BAD_REQUEST;
	else
		e = rest_body(r, params, err, sizeof(err));
	/* The path names the sandbox; a second name in the query or body
	 * would otherwise silently win over it. */
	if (e == OPERR_OK && r->id[0]) {
		if (json_object_get(params, "sandbox")) {
			snprintf(err, sizeof(err), "sandbox is named by the path; the query or body must not name it too");
			e = OPERR_BAD_REQUEST;
		} else {
			json_object_set_new(params, "sandbox", json_string(r->id));
		}
	}
	if (e == OPERR_OK && rest_segments(op, r->route->pattern, r->path, params, err, sizeof(err)) < 0)
		e = OPERR_BAD_REQUEST;
	if (e != OPERR_OK) {
		op_fail(c, e, "%s", err);
		return;
	}
	if (r->route->body == RB_BINARY) {
		c->bin = r->body ? r->body : "";
		c->bin_len = r->body_len;
	}
	n = lws_hdr_copy(r->wsi, etag, sizeof(etag), WSI_TOKEN_HTTP_IF_NONE_MATCH);
	if (n > 0 && json_object_get(json_object_get(op_schema(op), "properties"), "if_none_match"))
		json_object_set_new(params, "if_none_match", json_string(httpparts_etag(etag)));
	op_dispatch(c);
}
