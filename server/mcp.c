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
#include "rest.h"
#include "rpc.h"
#include "util.h"

#define MCP_MODERN          "2026-07-28"
#define MCP_LEGACY_LATEST   "2025-11-25"
#define MCP_MAX_SESSIONS    1024

/* MCP's own JSON-RPC errors (2026-07-28 basic/index "Error Codes"). */
#define MCP_HEADER_MISMATCH        -32020
#define MCP_UNSUPPORTED_VERSION    -32022
/* The session-era SDKs' "session not found" (legacy sub-range). */
#define MCP_SESSION_NOT_FOUND      -32001
#define RPC_INTERNAL_ERROR         -32603

/* Statuses the transport spec names that are not errors of ours. */
#define MCP_HTTP_OK          200
#define MCP_HTTP_ACCEPTED    202
#define MCP_HTTP_UNSUPPORTED 415
#define MCP_HTTP_NOT_ACCEPTABLE 406

static const char *const mcp_legacy_versions[] = { "2025-11-25", "2025-06-18", "2025-03-26", NULL };

struct mcp_session {
	char id[2 * ID_LEN + 1];
	char version[16];
	int64_t used_us;
};

struct mcp {
	struct mcp_session s[MCP_MAX_SESSIONS];
	size_t n;
};

/* How a tool's arguments and answer map onto its operation. */
enum mcp_shape {
	MT_JSON,      /* arguments are params; the result is JSON */
	MT_IMAGE,     /* the answer's bytes are an image */
	MT_ACTION,    /* one computer action: its fields form actions[0] */
	MT_FILE,      /* the answer's bytes are a file: text, or a blob */
	MT_WRITE,     /* "content" (text or base64) is the body */
};

struct mcp_tool {
	const char *name;
	const char *op;
	enum mcp_shape shape;
	const char *note;        /* appended to the row's summary */
	const char *drop;        /* params of the row not offered, " a b " */
	const char *extra;       /* more properties (a JSON object), or NULL */
	const char *extra_req;   /* which of them are required (a JSON array) */
};

#define XY "{\"type\":\"array\",\"items\":{\"type\":\"integer\"},\"minItems\":2,\"maxItems\":2}"

static const struct mcp_tool mcp_tool_rows[] = {
	{ "sandbox_create", "sandbox.create", MT_JSON,
	  " The answer's id is the sandbox_id the other tools take. A desktop is on unless desktop is "
	  "false (a full session: panel, browser, editor, terminal; {\"session\": \"bare\"} for a "
	  "plain screen); apps start on it (e.g. [\"xterm\"]).", NULL, NULL, NULL },
	{ "sandbox_list", "sandbox.list", MT_JSON, NULL, NULL, NULL, NULL },
	{ "sandbox_delete", "sandbox.delete", MT_JSON, NULL, NULL, NULL, NULL },
	{ "computer", "desktop.actions", MT_ACTION,
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
	{ "screenshot", "desktop.screenshot", MT_IMAGE, " Answers image content.", " if_none_match ",
	  NULL, NULL },
	{ "exec", "process.exec", MT_JSON, NULL, NULL, NULL, NULL },
	{ "files_read", "files.read", MT_FILE, " Text files answer as text, others as a base64 blob.",
	  NULL, NULL, NULL },
	{ "files_write", "files.write", MT_WRITE, NULL, NULL,
	  "{\"content\":{\"type\":\"string\",\"description\":\"the file's text (or base64 bytes)\"},"
	  "\"encoding\":{\"enum\":[\"utf-8\",\"base64\"],\"default\":\"utf-8\"}}",
	  "[\"content\"]" },
	{ "clipboard_get", "clipboard.get", MT_JSON, NULL, NULL, NULL, NULL },
	{ "clipboard_set", "clipboard.set", MT_JSON, NULL, NULL, NULL, NULL },
	{ "windows_list", "windows.list", MT_JSON, NULL, NULL, NULL, NULL },
	{ "window_activate", "window.activate", MT_JSON, NULL, NULL, NULL, NULL },
	{ "window_move", "window.move", MT_JSON, NULL, NULL, NULL, NULL },
	{ "window_resize", "window.resize", MT_JSON, NULL, NULL, NULL, NULL },
	{ "window_minimize", "window.minimize", MT_JSON, NULL, NULL, NULL, NULL },
	{ "window_maximize", "window.maximize", MT_JSON, NULL, NULL, NULL, NULL },
	{ "window_restore", "window.restore", MT_JSON, NULL, NULL, NULL, NULL },
	{ "window_close", "window.close", MT_JSON, NULL, NULL, NULL, NULL },
	{ "apps_list", "apps.list", MT_JSON, NULL, NULL, NULL, NULL },
	{ "apps_launch", "apps.launch", MT_JSON, NULL, NULL, NULL, NULL },
	{ "apps_open", "apps.open", MT_JSON, NULL, NULL, NULL, NULL },
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
	char k[80];

	snprintf(k, sizeof(k), " %s ", key);
	return t->drop && strstr(t->drop, k);
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
	if (c->out_fd >= 0) {
		b64 = mcp_bytes_b64(c, cap, q->tool->shape == MT_FILE ? &raw : NULL);
		if (!b64) {
			json_decref(out);
			return mcp_tool_error(operr_code(OPERR_TOO_LARGE), "the answer's bytes are too large "
					      "for one MCP message");
		}
		if (q->tool->shape == MT_FILE) {
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
	} else if (q->tool->shape == MT_ACTION) {
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
	const json_t *props = json_object_get(op_schema(op), "properties");
	json_t *p = json_object(), *action = NULL, *v;
	const char *key;

	if (t->shape == MT_ACTION)
		action = json_object();
	json_object_foreach(args, key, v) {
		if (!strcmp(key, "sandbox") || mcp_dropped(t, key)) {
			snprintf(err, cap, "unknown field %.200s", key);
			goto fail;
		}
		if (!strcmp(key, "sandbox_id"))
			json_object_set(p, "sandbox", v);
		else if (t->shape == MT_WRITE && (!strcmp(key, "content") || !strcmp(key, "encoding")))
			continue;
		else if (action && !json_object_get(props, key))
			json_object_set(action, key, v);
		else
			json_object_set(p, key, v);
	}
	if (action)
		json_object_set_new(p, "actions", json_pack("[o]", action));
	if (t->shape == MT_WRITE) {
		json_t *content = json_object_get(args, "content");
		const char *enc = json_string_value(json_object_get(args, "encoding"));
		size_t n = json_string_length(content);

		if (!json_is_string(content)) {
			snprintf(err, cap, "content must be a string");
			goto fail;
		}
		if (json_object_get(args, "encoding") && (!enc || (strcmp(enc, "utf-8") && strcmp(enc, "base64")))) {
			snprintf(err, cap, "encoding must be \"utf-8\" or \"base64\"");
			goto fail;
		}
		q->bin = malloc(n + 3);
		if (!q->bin) {
			snprintf(err, cap, "out of memory");
			goto fail;
		}
		if (enc && !strcmp(enc, "base64")) {
			ssize_t got = base64_decode(json_string_value(content), n, (uint8_t *)q->bin);

			if (got < 0) {
				snprintf(err, cap, "content is not base64");
				goto fail;
			}
			n = (size_t)got;
		} else {
			memcpy(q->bin, json_string_value(content), n);
		}
		q->r->call.bin = q->bin;
		q->r->call.bin_len = n;
	}
	if (t->shape == MT_FILE)
		snprintf(q->path, sizeof(q->path), "%s", json_string_value(json_object_get(args, "path")) ?: "");
	*params = p;
	return 0;
fail:
	json_decref(p);
	return -1;
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
 * origin when we are addressed by IP (a name could be rebound). */
static int mcp_origin_ok(struct http_req *r)
{
	char o[300], host[256];
	const char *a, *end;
	int n = lws_hdr_copy(r->wsi, o, sizeof(o), WSI_TOKEN_ORIGIN);

	if (n <= 0)
		return 1;   /* not a browser's cross-origin request */
	a = strstr(o, "://");
	if (!a)
		return 0;
	a += 3;
	end = *a == '[' ? strchr(a, ']') : a + strcspn(a, ":/");
	if (!end)
		return 0;
	if (*a == '[')
		end++;
	if ((end - a == 9 && !strncmp(a, "localhost", 9)) || !strncmp(a, "127.", 4) ||
	    (end - a == 5 && !strncmp(a, "[::1]", 5)))
		return 1;
	n = lws_hdr_copy(r->wsi, host, sizeof(host), WSI_TOKEN_HOST);
	return n > 0 && !strcmp(a, host) && (host[0] == '[' || strspn(host, "0123456789.:") == (size_t)n);
}

/* Mcp-Name's value, decoded from the =?base64?…?= sentinel form, into out.
 * Returns 0, or -1 when malformed. */
static int mcp_name_value(const char *v, char *out, size_t cap)
{
	size_t n = strlen(v);

	if (n >= 11 && !strncmp(v, "=?base64?", 9) && !strcmp(v + n - 2, "?=")) {
		ssize_t got;

		if ((n - 11) / 4 * 3 + 3 > cap)
			return -1;
		got = base64_decode(v + 9, n - 11, (uint8_t *)out);
		if (got < 0)
			return -1;
		out[got] = '\0';
		return strlen(out) == (size_t)got ? 0 : -1;
	}
	snprintf(out, cap, "%s", v);
	return 0;
}

static int mcp_is_legacy(const char *v)
{
	for (int i = 0; mcp_legacy_versions[i]; i++)
		if (!strcmp(v, mcp_legacy_versions[i]))
			return 1;
	return 0;
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
					    mcp_legacy_versions[0], mcp_legacy_versions[1], mcp_legacy_versions[2],
					    "capabilities", "tools", "listChanged", 0, "serverInfo",
					    mcp_server_info(), "instructions", MCP_INSTRUCTIONS), 1);
	mcp_fail(r, q->modern ? operr_http(OPERR_NOT_FOUND) : MCP_HTTP_OK, q->id, RPC_METHOD_NOT_FOUND, NULL,
		 "no such method: %.200s", method);
}

static void mcp_initialize(struct http_req *r, struct mcp_req *q, const json_t *params)
{
	const char *want = json_string_value(json_object_get(params, "protocolVersion"));
	const char *v = want && mcp_is_legacy(want) ? want : MCP_LEGACY_LATEST;
	struct mcp_session *s = mcp_session_new(r->srv, v);

	if (!s)
		return mcp_fail(r, operr_http(OPERR_INTERNAL), q->id, RPC_INTERNAL_ERROR, NULL,
				"cannot start a session");
	http_add_header(r, "mcp-session-id:", s->id);
	mcp_result(r, q->id, json_pack("{s:s,s:{s:{s:b}},s:o,s:s}", "protocolVersion", v, "capabilities",
				       "tools", "listChanged", 0, "serverInfo", mcp_server_info(),
				       "instructions", MCP_INSTRUCTIONS), 0);
}

/* The stateless era's checks: the mirrored headers match the body.
 * Returns 0, or -1 having answered. */
static int mcp_modern_check(struct http_req *r, const json_t *msg, const char *version)
{
	const json_t *id = json_object_get(msg, "id"), *params = json_object_get(msg, "params");
	const char *method = json_string_value(json_object_get(msg, "method"));
	const char *meta_v = json_string_value(json_object_get(json_object_get(params, "_meta"),
							       "io.modelcontextprotocol/protocolVersion"));
	char hm[128], hn[512], name[512];
	int n;

	if (!version[0]) {
		mcp_fail(r, operr_http(OPERR_BAD_REQUEST), id, MCP_HEADER_MISMATCH, NULL,
			 "Header mismatch: the MCP-Protocol-Version header is missing");
		return -1;
	}
	if (strcmp(version, MCP_MODERN)) {
		mcp_fail(r, operr_http(OPERR_BAD_REQUEST), id, MCP_UNSUPPORTED_VERSION,
			 json_pack("{s:[s,s,s,s],s:s}", "supported", MCP_MODERN, mcp_legacy_versions[0],
				   mcp_legacy_versions[1], mcp_legacy_versions[2], "requested", version),
			 "Unsupported protocol version");
		return -1;
	}
	if (json_object_get(msg, "id") && (!meta_v || strcmp(meta_v, version))) {
		mcp_fail(r, operr_http(OPERR_BAD_REQUEST), id, meta_v ? MCP_HEADER_MISMATCH : RPC_INVALID_PARAMS,
			 NULL, meta_v ? "Header mismatch: MCP-Protocol-Version header value '%.20s' does not "
			 "match params._meta's '%.40s'" : "%.20sparams._meta must carry "
			 "io.modelcontextprotocol/protocolVersion", meta_v ? version : "", meta_v ? meta_v : "");
		return -1;
	}
	n = mcp_hdr(r, "mcp-method:", hm, sizeof(hm));
	if (n < 0 || strcmp(hm, method)) {
		mcp_fail(r, operr_http(OPERR_BAD_REQUEST), id, MCP_HEADER_MISMATCH, NULL,
			 n < 0 ? "Header mismatch: the Mcp-Method header is missing" :
			 "Header mismatch: Mcp-Method header value '%.100s' does not match body value '%.100s'",
			 hm, method);
		return -1;
	}
	if (strcmp(method, "tools/call") && strcmp(method, "resources/read") && strcmp(method, "prompts/get"))
		return 0;
	{
		const char *body = json_string_value(json_object_get(params, !strcmp(method, "resources/read")
									      ? "uri" : "name"));

		n = mcp_hdr(r, "mcp-name:", hn, sizeof(hn));
		if (n < 0 || mcp_name_value(hn, name, sizeof(name)) < 0 || !body || strcmp(name, body)) {
			mcp_fail(r, operr_http(OPERR_BAD_REQUEST), id, MCP_HEADER_MISMATCH, NULL,
				 n < 0 ? "Header mismatch: the Mcp-Name header is missing" :
				 "Header mismatch: Mcp-Name header value '%.100s' does not match body value "
				 "'%.100s'", name, body ? body : "");
			return -1;
		}
	}
	return 0;
}

/* Whether the client takes JSON answers (Accept), else answered 406. */
static int mcp_accepts_json(struct http_req *r)
{
	char acc[512];
	int n = lws_hdr_copy(r->wsi, acc, sizeof(acc), WSI_TOKEN_HTTP_ACCEPT);

	if (n <= 0 || strstr(acc, "application/json") || strstr(acc, "*/*") || strstr(acc, "application/*"))
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

static void mcp_message(struct http_req *r, struct mcp_req *q, json_t *msg, const char *version,
			const char *sid, int has_sid)
{
	const char *method = json_string_value(json_object_get(msg, "method"));
	const char *ver = json_string_value(json_object_get(msg, "jsonrpc"));
	json_t *id = json_object_get(msg, "id"), *params = json_object_get(msg, "params");
	char hm[8];
	int notification = !id;

	if (!ver || strcmp(ver, "2.0") || !method || (id && !json_is_string(id) && !json_is_integer(id)) ||
	    (params && !json_is_object(params)))
		return mcp_fail(r, operr_http(OPERR_BAD_REQUEST), json_is_string(id) || json_is_integer(id) ? id : NULL,
				RPC_INVALID_REQUEST, NULL, "a request is {\"jsonrpc\": \"2.0\", \"id\": ID, "
				"\"method\": NAME, \"params\": {...}} (one per POST: no batches, no responses)");
	q->id = json_incref(id ? id : json_null());
	if (!strcmp(method, "initialize") && !id)
		return mcp_fail(r, operr_http(OPERR_BAD_REQUEST), NULL, RPC_INVALID_REQUEST, NULL,
				"initialize is a request: give it an id");
	if (!strcmp(method, "initialize"))
		return mcp_initialize(r, q, params);
	if (has_sid && strcmp(version, MCP_MODERN)) {
		if (!mcp_session_find(r->srv, sid))
			return mcp_fail(r, operr_http(OPERR_NOT_FOUND), id, MCP_SESSION_NOT_FOUND, NULL,
					"Session not found: send initialize again");
		if (version[0] && !mcp_is_legacy(version))
			return mcp_fail(r, operr_http(OPERR_BAD_REQUEST), id, RPC_INVALID_REQUEST, NULL,
					"MCP-Protocol-Version %.20s is not a session revision (%s, %s, %s)",
					version, mcp_legacy_versions[0], mcp_legacy_versions[1],
					mcp_legacy_versions[2]);
	} else if (version[0] && mcp_is_legacy(version)) {
		return mcp_fail(r, operr_http(OPERR_BAD_REQUEST), id, RPC_INVALID_REQUEST, NULL,
				"Bad Request: protocol %.20s needs an Mcp-Session-Id (send initialize first)",
				version);
	} else if (!version[0] && mcp_hdr(r, "mcp-method:", hm, sizeof(hm)) == -1 &&
		   !json_object_get(json_object_get(params, "_meta"), "io.modelcontextprotocol/protocolVersion")) {
		return mcp_fail(r, operr_http(OPERR_BAD_REQUEST), id, RPC_INVALID_REQUEST, NULL,
				"Bad Request: no session. Send initialize first (2025-11-25), or speak %s "
				"with an MCP-Protocol-Version header", MCP_MODERN);
	} else {
		q->modern = 1;
		if (mcp_modern_check(r, msg, version) < 0)
			return;
	}
	if (notification) {
		/* notifications/initialized, notifications/cancelled: nothing to do
		 * (a cancelled call's client closes its POST, which cancels it). */
		http_respond(r, MCP_HTTP_ACCEPTED, "application/json", NULL, 0);
		return;
	}
	mcp_method(r, q, method, params);
}

void mcp_handle(struct http_req *r)
{
	struct op_call *c = &r->call;
	struct mcp_req *q = calloc(1, sizeof(*q));
	struct op_auth auth;
	char host[256], version[32], sid[128], ctype[128];
	json_error_t je;
	json_t *msg;
	int vn, sn;

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
	msg = json_loadb(r->body ? r->body : "", r->body_len, JSON_REJECT_DUPLICATES, &je);
	if (!msg)
		return mcp_fail(r, operr_http(OPERR_BAD_REQUEST), NULL, RPC_PARSE_ERROR, NULL,
				"Parse error at line %d column %d: %s", je.line, je.column, je.text);
	if (!json_is_object(msg)) {
		json_decref(msg);
		return mcp_fail(r, operr_http(OPERR_BAD_REQUEST), NULL, RPC_INVALID_REQUEST, NULL,
				"one JSON-RPC request or notification per POST (MCP has no batches)");
	}
	if (json_object_get(msg, "result") || json_object_get(msg, "error")) {
		json_decref(msg);
		/* We never send requests, so no response can be owed to us. */
		return mcp_fail(r, operr_http(OPERR_BAD_REQUEST), NULL, RPC_INVALID_REQUEST, NULL,
				"a response to a request this server never sent");
	}
	mcp_message(r, q, msg, version, sid, sn >= 0);
	json_decref(msg);
}
