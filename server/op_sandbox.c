/*
 * op_sandbox.c - operations on the server and on sandboxes as a whole:
 * health, list, create, get, delete, timeout, viewer tokens.
 *
 * Rows only: the work is sandbox.c's (registry, lifecycle). Every field a
 * parser accepts must be a property of the row's schema, since dispatch
 * refuses any other key. Loop thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drain.h"
#include "log.h"
#include "op.h"
#include "pool.h"
#include "req.h"
#include "sandbox.h"
#include "single.h"

static void run_health(struct op_call *c)
{
	op_ok(c, json_pack("{s:s}", "status", "ok"));
}

static void run_list(struct op_call *c)
{
	json_t *arr = json_array();

	for (struct sandbox *s = c->srv->sandboxes; s; s = s->next)
		if (s->state != SBX_STARTING && !s->pooled)
			json_array_append_new(arr, sbx_json(s));
	op_ok(c, json_pack("{s:o}", "sandboxes", arr));
}

static void run_create(struct op_call *c)
{
	struct srv *srv = c->srv;
	struct req_create spec;
	char err[512];
	size_t len;
	char *text = op_params_dump(c, &len);
	enum req_result res;

	if (!text)
		return;
	res = req_parse_create(text, len, &srv->cfg.limits, srv->cfg.timeout_s, &spec, err, sizeof(err));
	free(text);
	if (op_req_result(c, res, err) < 0)
		return;
	/* Without the agent installed, sandboxes default to shell-only. */
	if (spec.desktop < 0)
		spec.desktop = srv->desktop_fd >= 0;
	if (!spec.session)
		spec.session = srv->cfg.desktop_session;
	if (spec.vnc_port >= 0 && !spec.desktop) {
		req_create_free(&spec);
		return op_fail(c, OPERR_BAD_REQUEST, "a VNC port needs a desktop");
	}
	if (spec.desktop && (spec.width > srv->cfg.max_width || spec.height > srv->cfg.max_height)) {
		req_create_free(&spec);
		return op_fail(c, OPERR_BAD_REQUEST, "the desktop can be at most %dx%d", srv->cfg.max_width,
			       srv->cfg.max_height);
	}
	if (drain_refusing(srv)) {
		req_create_free(&spec);
		return op_fail(c, OPERR_UNAVAILABLE, "the server is %s; create the sandbox on another one",
			       srv->stopping ? "shutting down" : "draining");
	}
	if (single_refusing(srv)) {
		req_create_free(&spec);
		return op_fail(c, OPERR_FORBIDDEN, "this server runs in single-sandbox mode and holds "
			       "its one sandbox");
	}
	if (pool_take(srv, &spec, c))
		return;
	sbx_create(srv, &spec, c);
}

static void run_get(struct op_call *c)
{
	op_ok(c, sbx_json(c->sb));
}

static void run_delete(struct op_call *c)
{
	log_event(c->sb->id, "delete requested");
	sbx_remove(c->sb, c);
}

static void run_set_timeout(struct op_call *c)
{
	char err[512];
	size_t len;
	char *text = op_params_dump(c, &len);
	enum req_result res;
	long t;

	if (!text)
		return;
	res = req_parse_timeout(text, len, &t, err, sizeof(err));
	free(text);
	if (op_req_result(c, res, err) < 0)
		return;
	sbx_set_timeout(c->sb, t);
	op_ok(c, sbx_json(c->sb));
}

static void run_viewer_token(struct op_call *c)
{
	const struct viewer_token *v;
	struct srv *srv = c->srv;
	char url[512], exp[40];
	long ttl_s = 3600;
	int view_only = 1;   /* the safer link to hand out */

	if (op_param_bool(c, "view_only", &view_only) < 0 ||
	    op_param_int(c, "ttl_s", 1, 7 * 86400, &ttl_s) < 0)
		return;
	v = sbx_viewer_add(c->sb, view_only, ttl_s);
	if (!v)
		return op_fail(c, OPERR_INTERNAL, "cannot make a token");
	if (c->host[0])
		snprintf(url, sizeof(url), "http://%s/viewer.html?id=%s&token=%s%s", c->host, c->sb->id,
			 v->token, v->view_only ? "&view_only=1" : "");
	else
		snprintf(url, sizeof(url), "http://%s:%d/viewer.html?id=%s&token=%s%s", srv->cfg.listen_host,
			 srv->cfg.listen_port, c->sb->id, v->token, v->view_only ? "&view_only=1" : "");
	sbx_iso_time(v->expires_us, exp, sizeof(exp));
	c->created = 1;
	op_ok(c, json_pack("{s:s,s:b,s:s,s:s}", "token", v->token, "view_only", v->view_only,
			   "expires_at", exp, "url", url));
}

#define SANDBOX_PARAM "\"sandbox\":{\"type\":\"string\",\"description\":\"the sandbox's id\"}"

const struct op op_sandbox_rows[] = {
	{ "server.health", "Liveness: answers while the server runs.",
	  "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}",
	  OPF_PUBLIC, run_health },
	{ "sandbox.list", "List the sandboxes (those still starting are left out).",
	  "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}",
	  0, run_list },
	{ "sandbox.create", "Create a sandbox; answers once it runs (with its desktop up, if it has one).",
	  "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
	  "\"timeout_s\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":31536000,"
	  "\"description\":\"wall-clock lifetime in seconds; 0 = none\"},"
	  "\"limits\":{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
	  "\"memory_mb\":{\"type\":\"integer\"},\"pids\":{\"type\":\"integer\"},"
	  "\"cpu\":{\"type\":\"number\"},\"disk_mb\":{\"type\":\"integer\"},"
	  "\"nofile\":{\"type\":\"integer\"}}},"
	  "\"env\":{\"type\":\"object\",\"additionalProperties\":{\"type\":\"string\"}},"
	  "\"rootfs\":{\"type\":\"string\",\"description\":\"host, or an image name\"},"
	  "\"desktop\":{\"description\":\"false, true, or the desktop's settings\","
	  "\"oneOf\":[{\"type\":\"boolean\"},{\"type\":\"object\",\"properties\":{"
	  "\"width\":{\"type\":\"integer\"},\"height\":{\"type\":\"integer\"},"
	  "\"gl\":{\"type\":\"boolean\"},"
	  "\"session\":{\"enum\":[\"full\",\"bare\"],\"description\":\"full (the server's default "
	  "unless --desktop-session says otherwise): window manager, panel, wallpaper, browser, "
	  "terminal, editor, file manager, PDF viewer; bare: the window manager and the apps only\"},"
	  "\"dpi\":{\"type\":\"integer\",\"minimum\":24,\"maximum\":960,\"default\":96}}}]},"
	  "\"apps\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},"
	  "\"description\":\"commands started on the desktop\"},"
	  "\"gl\":{\"type\":\"boolean\"},"
	  "\"model_display\":{\"type\":\"object\",\"description\":\"the screen size the agent adapters "
	  "tell a model (they scale to it both ways); default: the screen fitted within 1280x800\","
	  "\"required\":[\"width\",\"height\"],\"additionalProperties\":false,\"properties\":{"
	  "\"width\":{\"type\":\"integer\",\"minimum\":64},\"height\":{\"type\":\"integer\",\"minimum\":64}}},"
	  "\"wm\":{\"type\":\"boolean\",\"description\":\"a window manager (openbox, click to focus); "
	  "default true; false means a bare session\"},"
	  "\"vnc\":{\"type\":\"object\",\"properties\":{\"port\":{\"oneOf\":["
	  "{\"const\":\"auto\"},{\"type\":\"integer\",\"minimum\":1024,\"maximum\":65535}]}}},"
	  "\"network\":{\"type\":\"object\",\"description\":\"egress policy: allow, deny, "
	  "max_connections, bandwidth_bytes_per_s (see network.set); absent: no egress\"}"
	  "}}",
	  0, run_create },
	{ "sandbox.get", "One sandbox's object.",
	  "{\"type\":\"object\",\"required\":[\"sandbox\"],\"additionalProperties\":false,"
	  "\"properties\":{" SANDBOX_PARAM "}}",
	  OPF_SANDBOX, run_get },
	{ "sandbox.delete", "Destroy a sandbox; answers once every process and cgroup of it is gone.",
	  "{\"type\":\"object\",\"required\":[\"sandbox\"],\"additionalProperties\":false,"
	  "\"properties\":{" SANDBOX_PARAM "}}",
	  OPF_SANDBOX, run_delete },
	{ "sandbox.set_timeout", "Set the sandbox's lifetime to timeout_s from now (0: no expiry).",
	  "{\"type\":\"object\",\"required\":[\"sandbox\",\"timeout_s\"],\"additionalProperties\":false,"
	  "\"properties\":{" SANDBOX_PARAM ",\"timeout_s\":{\"type\":\"integer\",\"minimum\":0,"
	  "\"maximum\":31536000}}}",
	  OPF_SANDBOX | OPF_RUNNING, run_set_timeout },
	{ "viewer.create_token", "Make a viewer token and link for the sandbox's desktop (view-only by default).",
	  "{\"type\":\"object\",\"required\":[\"sandbox\"],\"additionalProperties\":false,"
	  "\"properties\":{" SANDBOX_PARAM ",\"view_only\":{\"type\":\"boolean\",\"default\":true},"
	  "\"ttl_s\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":604800,\"default\":3600}}}",
	  OPF_SANDBOX | OPF_RUNNING, run_viewer_token },
	{ NULL, NULL, NULL, 0, NULL },
};
