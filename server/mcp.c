/*
 * mcp.c - MCP over Streamable HTTP at POST /mcp, bound to the operation
 * table (see mcp.h).
 *
 * Each POST carries one JSON-RPC message and gets one application/json
 * answer: a tool call becomes an operation call (the request's own
 * op_call, so a client that leaves cancels it like any REST call) and its
 * outcome becomes MCP content: images as image content, operation errors
 * as isError results with the stable code in the text. Protocol errors are
 * JSON-RPC errors.
 *
 * Which revision a message speaks is read off it: `initialize` or an
 * Mcp-Session-Id header is the session era (2025-11-25 and before);
 * MCP-Protocol-Version 2026-07-28 (or any modern marker) is the stateless
 * era, whose mirrored headers must match the body.
 *
 * Owns the session table (srv->mcp): ids drawn from getrandom, the oldest
 * dropped past MCP_MAX_SESSIONS. Sessions hold no sandbox state (tools
 * name their sandbox), so forgetting one costs the client a new
 * initialize, nothing more. Loop thread only; never blocks (screenshot and
 * file bytes are read from the memfd the operation answered with).
 */
#include "mcp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "log.h"
#include "mcpparse.h"
#include "rest.h"
#include "rpc.h"
#include "util.h"

#define MCP_MODERN          MCPPARSE_MODERN
#define MCP_MAX_SESSIONS    1024

/* The session-era SDKs' "session not found" (legacy sub-range). */
#define MCP_SESSION_NOT_FOUND      -32001
#define RPC_INTERNAL_ERROR         -32603

/* Statuses the transport spec names that are not errors of ours. */
#define MCP_HTTP_OK          200
#define MCP_HTTP_ACCEPTED    202
#define MCP_HTTP_UNSUPPORTED 415
#define MCP_HTTP_NOT_ACCEPTABLE 406

struct mcp_session {
	char id[2 * ID_LEN + 1];
	char version[16];
	int64_t used_us;
};

struct mcp {
	struct mcp_session s[MCP_MAX_SESSIONS];
	size_t n;
};

struct mcp_tool {
	const char *name;
	const char *op;
	enum mcpparse_shape shape;
	const char *note;        /* appended to the row's summary */
	const char *drop;        /* params of the row not offered, " a b " */
	const char *extra;       /* more properties (a JSON object), or NULL */
	const char *extra_req;   /* which of them are required (a JSON array) */
};

#define XY "{\"type\":\"array\",\"items\":{\"type\":\"integer\"},\"minItems\":2,\"maxItems\":2}"

static const struct mcp_tool mcp_tool_rows[] = {
	{ "sandbox_create", "sandbox.create", MCPPARSE_JSON,
	  " The answer's id is the sandbox_id the other tools take. A desktop is on unless desktop is "
	  "false (a full session: panel, browser, editor, terminal; {\"session\": \"bare\"} for a "
	  "plain screen); apps start on it (e.g. [\"xterm\"]).", NULL, NULL, NULL },
	{ "sandbox_list", "sandbox.list", MCPPARSE_JSON, NULL, NULL, NULL, NULL },
	{ "sandbox_delete", "sandbox.delete", MCPPARSE_JSON, NULL, NULL, NULL, NULL },
	{ "computer", "desktop.actions", MCPPARSE_ACTION,
	  " One action per call, in Anthropic's computer-use vocabulary: screenshot, cursor_position, "
	  "mouse_move, left_click, right_click, middle_click, double_click, triple_click, "
	  "left_click_drag, left_mouse_down, left_mouse_up, scroll, type, key, hold_key, wait, zoom. "
	  "Screenshots (and zoom, wait) answer as images; with scale_to, coordinates are in that size.",
	  " actions ",
	  "{\"action\":{\"enum\":[\"screenshot\",\"cursor_position\",\"mouse_move\",\"left_click\","
	  "\"right_click\",\"middle_click\",\"double_click\",\"triple_click\",\"left_click_drag\","
	  "\"left_mouse_down\",\"left_mouse_up\",\"scroll\",\"type\",\"key\",\"hold_key\",\"wait\",\"zoom\"]},"
	  "\"coordinate\":" XY ",\"start_coordinate\":" XY ","
	  "\"text\":{\"type\":\"string\",\"description\":\"text to type, a key chord (ctrl+s), or "
	  "modifiers held during a click\"},"
	  "\"scroll_direction\":{\"enum\":[\"up\",\"down\",\"left\",\"right\"]},"
	  "\"scroll_amount\":{\"type\":\"integer\",\"minimum\":0},"
	  "\"duration\":{\"type\":\"number\",\"minimum\":0,\"description\":\"seconds (wait, hold_key)\"},"
	  "\"repeat\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"key: times\"},"
	  "\"region\":{\"type\":\"array\",\"items\":{\"type\":\"integer\"},\"minItems\":4,\"maxItems\":4,"
	  "\"description\":\"zoom: [x0, y0, x1, y1]\"}}",
	  "[\"action\"]" },
	{ "screenshot", "desktop.screenshot", MCPPARSE_IMAGE, " Answers image content.", " if_none_match ",
	  NULL, NULL },
	{ "exec", "process.exec", MCPPARSE_JSON, NULL, NULL, NULL, NULL },
	{ "files_read", "files.read", MCPPARSE_FILE, " Text files answer as text, others as a base64 blob.",
	  NULL, NULL, NULL },
	{ "files_write", "files.write", MCPPARSE_WRITE, NULL, NULL,
	  "{\"content\":{\"type\":\"string\",\"description\":\"the file's text (or base64 bytes)\"},"
	  "\"encoding\":{\"enum\":[\"utf-8\",\"base64\"],\"default\":\"utf-8\"}}",
	  "[\"content\"]" },
	{ "clipboard_get", "clipboard.get", MCPPARSE_JSON, NULL, NULL, NULL, NULL },
	{ "clipboard_set", "clipboard.set", MCPPARSE_JSON, NULL, NULL, NULL, NULL },
	{ "windows_list", "windows.list", MCPPARSE_JSON, NULL, NULL, NULL, NULL },
	{ "window_activate", "window.activate", MCPPARSE_JSON, NULL, NULL, NULL, NULL },
	{ "window_move", "window.move", MCPPARSE_JSON, NULL, NULL, NULL, NULL },
	{ "window_resize", "window.resize", MCPPARSE_JSON, NULL, NULL, NULL, NULL },
	{ "window_minimize", "window.minimize", MCPPARSE_JSON, NULL, NULL, NULL, NULL },
	{ "window_maximize", "window.maximize", MCPPARSE_JSON, NULL, NULL, NULL, NULL },
	{ "window_restore", "window.restore", MCPPARSE_JSON, NULL, NULL, NULL, NULL },
	{ "window_close", "window.close", MCPPARSE_JSON, NULL, NULL, NULL, NULL },
	{ "apps_list", "apps.list", MCPPARSE_JSON, NULL, NULL, NULL, NULL },
	{ "apps_launch", "apps.launch", MCPPARSE_JSON, NULL, NULL, NULL, NULL },
	{ "apps_open", "apps.open", MCPPARSE_JSON, NULL, NULL, NULL, NULL },
};

#define MCP_NTOOLS (sizeof(mcp_tool_rows) / sizeof(mcp_tool_rows[0]))

/* One POST under way (r->ext). */
struct mcp_req {
	struct http_req *r;
	const struct mcp_tool *tool;
	json_t *id;
	int modern;
	char *bin;               /* files_write's bytes */
	char path[1024];         /* files_read's path, for the blob's uri */
};

static void mcp_req_free(void *p)
{
	struct mcp_req *q = p;

	json_decref(q->id);
	free(q->bin);
	free(q);
}

void mcp_destroy(struct srv *srv)
{
	free(srv->mcp);
	srv->mcp = NULL;
}

/* ---- the tools, from the table ---- */

static const struct mcp_tool *mcp_tool_find(const char *name)
{
	for (size_t i = 0; name && i < MCP_NTOOLS; i++)
		if (!strcmp(mcp_tool_rows[i].name, name))
			return &mcp_tool_rows[i];
	return NULL;
}

static int mcp_dropped(const struct mcp_tool *t, const char *key)
{
	return mcpparse_dropped(t->drop, key);
}

/* The tool's input schema: its row's, with sandbox named sandbox_id. */
static json_t *mcp_tool_schema(const struct mcp_tool *t, const struct op *op)
{
	json_t *s = json_deep_copy(op_schema(op)), *props, *req, *nreq = json_array(), *v;
	const char *key;
	void *tmp;

	if (!s)
		s = json_pack("{s:s}", "type", "object");
	props = json_object_get(s, "properties");
	if (!props) {
		props = json_object();
		json_object_set_new(s, "properties", props);
	}
	json_object_foreach_safe(props, tmp, key, v)
		if (mcp_dropped(t, key))
			json_object_del(props, key);
	if (json_object_get(props, "sandbox")) {
		json_object_del(props, "sandbox");
		json_object_set_new(props, "sandbox_id",
				    json_pack("{s:s,s:s}", "type", "string", "description",
					      "the sandbox's id (from sandbox_create or sandbox_list)"));
	}
	req = json_object_get(s, "required");
	for (size_t i = 0; i < json_array_size(req); i++) {
		const char *r = json_string_value(json_array_get(req, i));

		if (r && !mcp_dropped(t, r))
			json_array_append_new(nreq, json_string(strcmp(r, "sandbox") ? r : "sandbox_id"));
	}
	if (t->extra) {
		json_t *x = json_loads(t->extra, 0, NULL);

		json_object_update(props, x);
		json_decref(x);
	}
	if (t->extra_req) {
		json_t *x = json_loads(t->extra_req, 0, NULL);

		json_array_extend(nreq, x);
		json_decref(x);
	}
	if (json_array_size(nreq))
		json_object_set_new(s, "required", nreq);
	else {
		json_object_del(s, "required");
		json_decref(nreq);
	}
	return s;
}

json_t *mcp_tools(void)
{
	json_t *tools = json_array();

	for (size_t i = 0; i < MCP_NTOOLS; i++) {
		const struct mcp_tool *t = &mcp_tool_rows[i];
		const struct op *op = op_find(t->op);
		char desc[1024];

		if (!op)
			continue;
		snprintf(desc, sizeof(desc), "%s%s", op->summary, t->note ? t->note : "");
		json_array_append_new(tools, json_pack("{s:s,s:s,s:o}", "name", t->name, "description", desc,
						       "inputSchema", mcp_tool_schema(t, op)));
	}
	return tools;
}

/* ---- answers ---- */

static void mcp_send(struct http_req *r, int status, json_t *msg)
{
	http_respond_json(r, status, msg);
}

static json_t *mcp_error(const json_t *id, int code, const char *msg, json_t *data)
{
	json_t *err = json_pack("{s:i,s:s}", "code", code, "message", msg);

	if (data)
		json_object_set_new(err, "data", data);
	/* No id when it could not be read: MCP's error responses leave it out. */
	if (!id || json_is_null(id))
		return json_pack("{s:s,s:o}", "jsonrpc", "2.0", "error", err);
	return json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id", id, "error", err);
}

static void mcp_fail(struct http_req *r, int status, const json_t *id, int code, json_t *data,
		     const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void mcp_fail(struct http_req *r, int status, const json_t *id, int code, json_t *data,
		     const char *fmt, ...)
{
	char msg[512], clean[sizeof(msg) * 3 + 1];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	utf8_repair(msg, strlen(msg), clean, sizeof(clean));
	mcp_send(r, status, mcp_error(id, code, clean, data));
}

static void mcp_result(struct http_req *r, const json_t *id, json_t *result, int modern)
{
	if (modern)
		json_object_set_new(result, "resultType", json_string("complete"));
	mcp_send(r, MCP_HTTP_OK, json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id", id, "result", result));
}

static json_t *mcp_text(const char *text)
{
	return json_pack("{s:s,s:s}", "type", "text", "text", text);
}

static json_t *mcp_tool_error(const char *code, const char *msg)
{
	char text[1400];

	snprintf(text, sizeof(text), "%s: %s", code, msg);
	return json_pack("{s:[o],s:b,s:{s:s,s:s}}", "content", mcp_text(text), "isError", 1,
			 "structuredContent", "code", code, "message", msg);
}

/* The call's bytes (out_fd) as base64, or NULL. *raw gets the bytes too
 * when raw is not NULL (the caller frees both). */
static char *mcp_bytes_b64(struct op_call *c, size_t cap, char **raw)
{
	uint8_t *buf;
	char *b64 = NULL;

	if (c->out_len > cap)
		return NULL;
	buf = malloc(c->out_len ? c->out_len : 1);
	if (buf && pread(c->out_fd, buf, c->out_len, 0) == (ssize_t)c->out_len) {
		b64 = malloc(4 * ((c->out_len + 2) / 3) + 1);
		if (b64)
			b64[base64_encode(buf, c->out_len, b64)] = '\0';
	}
	if (raw && b64) {
		*raw = (char *)buf;
		return b64;
	}
	free(buf);
	return b64;
}

/* actions' results as content: images as image content, the rest as text. */
static json_t *mcp_action_content(json_t *result)
{
	json_t *content = json_array(), *res = json_object_get(result, "results"), *one;
	size_t i;

	json_array_foreach(res, i, one) {
		json_t *img = json_object_get(one, "image"), *rest = json_deep_copy(one);

		if (img)
			json_array_append_new(content, json_pack("{s:s,s:O,s:O}", "type", "image", "data",
								 json_object_get(img, "data"), "mimeType",
								 json_object_get(img, "media_type")));
		json_object_del(rest, "image");
		json_object_del(rest, "ok");
		if (json_object_size(rest)) {
			char *s = json_dumps(rest, JSON_COMPACT);

			json_array_append_new(content, mcp_text(s ? s : "{}"));
			free(s);
		}
		json_decref(rest);
	}
	if (!json_array_size(content))
		json_array_append_new(content, mcp_text("ok"));
	return content;
}

static json_t *mcp_tool_result(struct mcp_req *q, struct op_call *c)
{
	size_t cap = c->srv->cfg.max_file;
	json_t *out = json_object(), *content = NULL;
	char *b64, *raw = NULL;

	if (c->err != OPERR_OK) {
		char msg[1100];

		if (c->index >= 0)
			snprintf(msg, sizeof(msg), "%s (action %d)", c->msg, c->index);
		else
			snprintf(msg, sizeof(msg), "%s", c->msg);
		json_decref(out);
		return mcp_tool_error(operr_code(c->err), msg);
	}
	/* An actions batch's images: MCP image content is base64, encoded
	 * here from their memfds. */
	if (c->nimgs && op_images_inline(c) < 0) {
		json_decref(out);
		return mcp_tool_error(operr_code(OPERR_INTERNAL), "cannot read the result's images");
	}
	if (c->out_fd >= 0) {
		b64 = mcp_bytes_b64(c, cap, q->tool->shape == MCPPARSE_FILE ? &raw : NULL);
		if (!b64) {
			json_decref(out);
			return mcp_tool_error(operr_code(OPERR_TOO_LARGE), "the answer's bytes are too large "
					      "for one MCP message");
		}
		if (q->tool->shape == MCPPARSE_FILE) {
			json_t *text = json_stringn(raw, c->out_len);   /* NULL unless UTF-8 */
			char uri[1100];

			snprintf(uri, sizeof(uri), "file://%s%s", q->path[0] == '/' ? "" : "/home/user/",
				 q->path);
			content = text ? json_pack("[{s:s,s:o}]", "type", "text", "text", text)
				       : json_pack("[{s:s,s:{s:s,s:s,s:s}}]", "type", "resource", "resource",
						   "uri", uri, "mimeType", "application/octet-stream", "blob", b64);
		} else {
			content = json_pack("[{s:s,s:s,s:s}]", "type", "image", "data", b64, "mimeType",
					    c->media_type ? c->media_type : "application/octet-stream");
		}
		free(b64);
		free(raw);
	} else if (q->tool->shape == MCPPARSE_ACTION) {
		content = mcp_action_content(c->result);
	} else {
		char *s = json_dumps(c->result ? c->result : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);

		content = json_pack("[o]", mcp_text(s ? s : "null"));
		free(s);
		if (json_is_object(c->result))
			json_object_set(out, "structuredContent", c->result);
	}
	json_object_set_new(out, "content", content);
	json_object_set_new(out, "isError", json_false());
	return out;
}

static void mcp_done(struct op_call *c)
{
	struct http_req *r = c->tctx;
	struct mcp_req *q = r->ext;

	mcp_result(r, q->id, mcp_tool_result(q, c), q->modern);
}

/* ---- tools/call ---- */

/* The tool's arguments as its operation's params (stolen into *params), or
 * -1 with why in err. */
static int mcp_params(struct mcp_req *q, const struct op *op, json_t *args, json_t **params, char *err,
		      size_t cap)
{
	const struct mcp_tool *t = q->tool;
	size_t n;

	if (mcpparse_args(t->shape, t->drop, json_object_get(op_schema(op), "properties"), args, params, &q->bin,
			  &n, err, cap) < 0)
		return -1;
	if (t->shape == MCPPARSE_WRITE) {
		q->r->call.bin = q->bin;
		q->r->call.bin_len = n;
	}
	if (t->shape == MCPPARSE_FILE)
		snprintf(q->path, sizeof(q->path), "%s", json_string_value(json_object_get(args, "path")) ?: "");
	return 0;
}

static void mcp_call_tool(struct http_req *r, struct mcp_req *q, const json_t *params)
{
	const char *name = json_string_value(json_object_get(params, "name"));
	json_t *args = json_object_get(params, "arguments"), *p = NULL;
	struct op_call *c = &r->call;
	const struct op *op;
	char err[300];

	q->tool = mcp_tool_find(name);
	op = q->tool ? op_find(q->tool->op) : NULL;
	if (!op)
		return mcp_fail(r, MCP_HTTP_OK, q->id, RPC_INVALID_PARAMS, NULL, "unknown tool: %.200s",
				name ? name : "(params.name is not a string)");
	if (args && !json_is_object(args))
		return mcp_fail(r, MCP_HTTP_OK, q->id, RPC_INVALID_PARAMS, NULL,
				"arguments must be an object");
	if (mcp_params(q, op, args, &p, err, sizeof(err)) < 0)
		return mcp_result(r, q->id, mcp_tool_error(operr_code(OPERR_BAD_REQUEST), err), q->modern);
	/* c was readied in mcp_handle; it now names the tool's operation. */
	c->op = op;
	json_decref(c->params);
	c->params = p;
	c->on_done = mcp_done;
	c->tctx = r;
	op_dispatch(c);
}

/* ---- sessions ---- */

static struct mcp_session *mcp_session_find(struct srv *srv, const char *id)
{
	struct mcp *m = srv->mcp;

	for (size_t i = 0; m && i < m->n; i++)
		if (token_equal(id, strlen(id), m->s[i].id)) {
			m->s[i].used_us = srv_mono_us();
			return &m->s[i];
		}
	return NULL;
}

/* A new session speaking version, or NULL. */
static struct mcp_session *mcp_session_new(struct srv *srv, const char *version)
{
	struct mcp *m = srv->mcp;
	struct mcp_session *s;
	uint8_t rnd[ID_LEN];

	if (!m && !(m = srv->mcp = calloc(1, sizeof(*m))))
		return NULL;
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return NULL;
	if (m->n < MCP_MAX_SESSIONS) {
		s = &m->s[m->n++];
	} else {
		s = &m->s[0];   /* the least recently used makes room */
		for (size_t i = 1; i < m->n; i++)
			if (m->s[i].used_us < s->used_us)
				s = &m->s[i];
	}
	id_format(rnd, sizeof(rnd), s->id);
	snprintf(s->version, sizeof(s->version), "%s", version);
	s->used_us = srv_mono_us();
	return s;
}

static void mcp_session_end(struct srv *srv, struct mcp_session *s)
{
	struct mcp *m = srv->mcp;

	*s = m->s[--m->n];
}

/* ---- the request ---- */

/* Custom header name (lowercase, with its colon) into out: its length, -1
 * when absent, -2 when longer than cap allows. */
static int mcp_hdr(struct http_req *r, const char *name, char *out, size_t cap)
{
	int nlen = (int)strlen(name), n = lws_hdr_custom_length(r->wsi, name, nlen);

	out[0] = '\0';
	if (n < 0)
		return -1;
	if ((size_t)n >= cap)
		return -2;
	if (lws_hdr_custom_copy(r->wsi, out, (int)cap, name, nlen) < 0)
		return -1;
	return n;
}

/* A browser page may only reach us from a loopback origin, or the same
 * origin when we are addressed by IP (mcpparse_origin_ok). */
static int mcp_origin_ok(struct http_req *r)
{
	char o[300], host[256];

	if (lws_hdr_copy(r->wsi, o, sizeof(o), WSI_TOKEN_ORIGIN) <= 0)
		o[0] = '\0';
	if (lws_hdr_copy(r->wsi, host, sizeof(host), WSI_TOKEN_HOST) <= 0)
		host[0] = '\0';
	return mcpparse_origin_ok(o, host);
}

static json_t *mcp_server_info(void)
{
	return json_pack("{s:s,s:s,s:s}", "name", "deskbox", "title", "deskbox desktops", "version", "1");
}

#define MCP_INSTRUCTIONS \
	"deskbox hands out isolated Linux desktops. Create one with sandbox_create (apps such as " \
	"[\"xterm\"] start on it), then drive it with computer (one action per call) and " \
	"screenshot, run commands with exec, move files with files_read/files_write; " \
	"sandbox_delete when done."

/* The methods both eras share. */
static void mcp_method(struct http_req *r, struct mcp_req *q, const char *method, const json_t *params)
{
	if (!strcmp(method, "tools/list"))
		return mcp_result(r, q->id, json_pack("{s:o}", "tools", mcp_tools()), q->modern);
	if (!strcmp(method, "tools/call"))
		return mcp_call_tool(r, q, params);
	if (!strcmp(method, "ping"))
		return mcp_result(r, q->id, json_object(), q->modern);
	if (q->modern && !strcmp(method, "server/discover"))
		return mcp_result(r, q->id,
				  json_pack("{s:[s,s,s,s],s:{s:{s:b}},s:o,s:s}", "supportedVersions", MCP_MODERN,
					    "2025-11-25", "2025-06-18", "2025-03-26",
					    "capabilities", "tools", "listChanged", 0, "serverInfo",
					    mcp_server_info(), "instructions", MCP_INSTRUCTIONS), 1);
	mcp_fail(r, q->modern ? operr_http(OPERR_NOT_FOUND) : MCP_HTTP_OK, q->id, RPC_METHOD_NOT_FOUND, NULL,
		 "no such method: %.200s", method);
}

static void mcp_initialize(struct http_req *r, struct mcp_req *q, const json_t *params)
{
	const char *v = mcpparse_initialize_version(json_string_value(json_object_get(params, "protocolVersion")));
	struct mcp_session *s = mcp_session_new(r->srv, v);

	if (!s)
		return mcp_fail(r, operr_http(OPERR_INTERNAL), q->id, RPC_INTERNAL_ERROR, NULL,
				"cannot start a session");
	http_add_header(r, "mcp-session-id:", s->id);
	mcp_result(r, q->id, json_pack("{s:s,s:{s:{s:b}},s:o,s:s}", "protocolVersion", v, "capabilities",
				       "tools", "listChanged", 0, "serverInfo", mcp_server_info(),
				       "instructions", MCP_INSTRUCTIONS), 0);
}

/* Whether the client takes JSON answers (Accept), else answered 406. */
static int mcp_accepts_json(struct http_req *r)
{
	char acc[512];

	if (lws_hdr_copy(r->wsi, acc, sizeof(acc), WSI_TOKEN_HTTP_ACCEPT) <= 0)
		acc[0] = '\0';
	if (mcpparse_accepts_json(acc))
		return 1;
	mcp_fail(r, MCP_HTTP_NOT_ACCEPTABLE, NULL, RPC_INVALID_REQUEST, NULL,
		 "Not Acceptable: the client must accept application/json");
	return 0;
}

static void mcp_delete(struct http_req *r, const char *sid, int has_sid)
{
	struct mcp_session *s = has_sid ? mcp_session_find(r->srv, sid) : NULL;

	if (!has_sid)
		return mcp_fail(r, operr_http(OPERR_METHOD_NOT_ALLOWED), NULL, RPC_INVALID_REQUEST, NULL,
				"DELETE ends a 2025-11-25 session: send its Mcp-Session-Id");
	if (!s)
		return mcp_fail(r, operr_http(OPERR_NOT_FOUND), NULL, MCP_SESSION_NOT_FOUND, NULL,
				"Session not found");
	mcp_session_end(r->srv, s);
	http_respond(r, MCP_HTTP_OK, "application/json", NULL, 0);
}

static void mcp_refuse(struct http_req *r, struct mcpparse_err *e)
{
	mcp_fail(r, e->status, e->id, e->code, e->data, "%s", e->msg);
}

/* The message read (mcpparse_message), its session found, answered. */
static void mcp_message(struct http_req *r, struct mcp_req *q, struct mcpparse_msg *m, const char *sid,
			const char *version)
{
	struct mcpparse_err e;

	q->id = json_incref(m->id ? m->id : json_null());
	if (m->initialize)
		return mcp_initialize(r, q, m->params);
	if (m->session) {
		if (!mcp_session_find(r->srv, sid))
			return mcp_fail(r, operr_http(OPERR_NOT_FOUND), m->id, MCP_SESSION_NOT_FOUND, NULL,
					"Session not found: send initialize again");
		if (mcpparse_session_version(version, m->id, &e) < 0)
			return mcp_refuse(r, &e);
	}
	q->modern = m->modern;
	if (!m->id) {
		/* notifications/initialized, notifications/cancelled: nothing to do
		 * (a cancelled call's client closes its POST, which cancels it). */
		http_respond(r, MCP_HTTP_ACCEPTED, "application/json", NULL, 0);
		return;
	}
	mcp_method(r, q, m->method, m->params);
}

void mcp_handle(struct http_req *r)
{
	struct op_call *c = &r->call;
	struct mcp_req *q = calloc(1, sizeof(*q));
	struct op_auth auth;
	char host[256], version[32], sid[128], ctype[128], hmethod[128], hname[512];
	struct mcpparse_hdrs h;
	struct mcpparse_msg m;
	struct mcpparse_err e;
	int vn, sn, hn, nn;

	rest_auth(r, &auth);
	rest_host(r, host, sizeof(host));
	/* The request's call exists from here on whatever happens (reset
	 * releases it); a tool call fills in its operation. */
	op_call_init(c, r->srv, NULL, &auth, NULL, host);
	if (!q)
		return http_error(r, OPERR_INTERNAL, "out of memory");
	q->r = r;
	r->ext = q;
	r->ext_free = mcp_req_free;
	if (!mcp_origin_ok(r))
		return mcp_fail(r, operr_http(OPERR_FORBIDDEN), NULL, RPC_INVALID_REQUEST, NULL,
				"Forbidden: this Origin may not use the MCP endpoint");
	vn = mcp_hdr(r, "mcp-protocol-version:", version, sizeof(version));
	sn = mcp_hdr(r, "mcp-session-id:", sid, sizeof(sid));
	if (vn == -2 || sn == -2)
		return mcp_fail(r, operr_http(OPERR_BAD_REQUEST), NULL, RPC_INVALID_REQUEST, NULL,
				"an MCP header is too long");
	if (r->method == HM_DELETE)
		return mcp_delete(r, sid, sn >= 0);
	if (lws_hdr_copy(r->wsi, ctype, sizeof(ctype), WSI_TOKEN_HTTP_CONTENT_TYPE) > 0 &&
	    strncasecmp(ctype, "application/json", 16))
		return mcp_fail(r, MCP_HTTP_UNSUPPORTED, NULL, RPC_INVALID_REQUEST, NULL,
				"Unsupported Media Type: send application/json");
	if (!mcp_accepts_json(r))
		return;
	hn = mcp_hdr(r, "mcp-method:", hmethod, sizeof(hmethod));
	nn = mcp_hdr(r, "mcp-name:", hname, sizeof(hname));
	h = (struct mcpparse_hdrs){ .version = version, .has_sid = sn >= 0, .method = hmethod, .method_n = hn,
				    .name = hname, .name_n = nn };
	if (mcpparse_message(r->body, r->body_len, &h, &m, &e) < 0) {
		mcp_refuse(r, &e);
		json_decref(m.msg);
		return;
	}
	mcp_message(r, q, &m, sid, version);
	json_decref(m.msg);
}
