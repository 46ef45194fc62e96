/*
 * mcpparse.c - an MCP POST's message, headers and tool arguments read
 * without a connection or a session (see mcpparse.h). Pure: no I/O, no
 * globals.
 */
#include "mcpparse.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "operr.h"
#include "util.h"

/* JSON-RPC's own errors (as server/rpc.h names them). */
#define MCPPARSE_PARSE_ERROR     -32700
#define MCPPARSE_INVALID_REQUEST -32600
#define MCPPARSE_INVALID_PARAMS  -32602

static const char *const mcpparse_legacy[] = { "2025-11-25", "2025-06-18", "2025-03-26", NULL };

static int mcpparse_fail(struct mcpparse_err *e, int status, json_t *id, int code, json_t *data,
			 const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int mcpparse_fail(struct mcpparse_err *e, int status, json_t *id, int code, json_t *data,
			 const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	e->code = code;
	e->id = id;
	e->data = data;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int mcpparse_is_legacy(const char *v)
{
	for (int i = 0; v && mcpparse_legacy[i]; i++)
		if (!strcmp(v, mcpparse_legacy[i]))
			return 1;
	return 0;
}

const char *mcpparse_initialize_version(const char *want)
{
	return want && mcpparse_is_legacy(want) ? want : MCPPARSE_LEGACY_LATEST;
}

int mcpparse_name_value(const char *v, char *out, size_t cap)
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

int mcpparse_origin_ok(const char *origin, const char *host)
{
	const char *a, *end;
	size_t n;

	if (!origin || !origin[0])
		return 1;   /* not a browser's cross-origin request */
	a = strstr(origin, "://");
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
	n = host ? strlen(host) : 0;
	return n > 0 && !strcmp(a, host) && (host[0] == '[' || strspn(host, "0123456789.:") == n);
}

int mcpparse_accepts_json(const char *accept)
{
	return !accept || !accept[0] || strstr(accept, "application/json") || strstr(accept, "*/*") ||
	       strstr(accept, "application/*");
}

int mcpparse_session_version(const char *version, json_t *id, struct mcpparse_err *e)
{
	if (version[0] && !mcpparse_is_legacy(version))
		return mcpparse_fail(e, operr_http(OPERR_BAD_REQUEST), id, MCPPARSE_INVALID_REQUEST, NULL,
				     "MCP-Protocol-Version %.20s is not a session revision (%s, %s, %s)",
				     version, mcpparse_legacy[0], mcpparse_legacy[1], mcpparse_legacy[2]);
	return 0;
}

/* The stateless era's checks: the mirrored headers match the body. */
static int mcpparse_modern(const json_t *msg, const struct mcpparse_hdrs *h, json_t *id, struct mcpparse_err *e)
{
	const json_t *params = json_object_get(msg, "params");
	const char *method = json_string_value(json_object_get(msg, "method"));
	const char *meta_v = json_string_value(json_object_get(json_object_get(params, "_meta"),
							       "io.modelcontextprotocol/protocolVersion"));
	const char *hm = h->method_n >= 0 && h->method ? h->method : "";
	const char *body;
	char name[512];

	if (!h->version[0])
		return mcpparse_fail(e, operr_http(OPERR_BAD_REQUEST), id, MCPPARSE_HEADER_MISMATCH, NULL,
				     "Header mismatch: the MCP-Protocol-Version header is missing");
	if (strcmp(h->version, MCPPARSE_MODERN))
		return mcpparse_fail(e, operr_http(OPERR_BAD_REQUEST), id, MCPPARSE_UNSUPPORTED_VERSION,
				     json_pack("{s:[s,s,s,s],s:s}", "supported", MCPPARSE_MODERN, mcpparse_legacy[0],
					       mcpparse_legacy[1], mcpparse_legacy[2], "requested", h->version),
				     "Unsupported protocol version");
	if (id && (!meta_v || strcmp(meta_v, h->version))) {
		if (meta_v)
			return mcpparse_fail(e, operr_http(OPERR_BAD_REQUEST), id, MCPPARSE_HEADER_MISMATCH, NULL,
					     "Header mismatch: MCP-Protocol-Version header value '%.20s' does "
					     "not match params._meta's '%.40s'", h->version, meta_v);
		return mcpparse_fail(e, operr_http(OPERR_BAD_REQUEST), id, MCPPARSE_INVALID_PARAMS, NULL,
				     "params._meta must carry io.modelcontextprotocol/protocolVersion");
	}
	if (h->method_n < 0 || strcmp(hm, method))
		return mcpparse_fail(e, operr_http(OPERR_BAD_REQUEST), id, MCPPARSE_HEADER_MISMATCH, NULL,
				     h->method_n < 0 ? "Header mismatch: the Mcp-Method header is missing%.0s%.0s" :
				     "Header mismatch: Mcp-Method header value '%.100s' does not match body "
				     "value '%.100s'", hm, method);
	if (strcmp(method, "tools/call") && strcmp(method, "resources/read") && strcmp(method, "prompts/get"))
		return 0;
	body = json_string_value(json_object_get(params, !strcmp(method, "resources/read") ? "uri" : "name"));
	name[0] = '\0';
	if (h->name_n < 0 || mcpparse_name_value(h->name ? h->name : "", name, sizeof(name)) < 0 || !body ||
	    strcmp(name, body))
		return mcpparse_fail(e, operr_http(OPERR_BAD_REQUEST), id, MCPPARSE_HEADER_MISMATCH, NULL,
				     h->name_n < 0 ? "Header mismatch: the Mcp-Name header is missing%.0s%.0s" :
				     "Header mismatch: Mcp-Name header value '%.100s' does not match body value "
				     "'%.100s'", name, body ? body : "");
	return 0;
}

int mcpparse_message(const char *body, size_t len, const struct mcpparse_hdrs *h, struct mcpparse_msg *out,
		     struct mcpparse_err *e)
{
	json_error_t je;
	json_t *msg, *id, *params;
	const char *method, *ver;

	memset(out, 0, sizeof(*out));
	memset(e, 0, sizeof(*e));
	msg = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &je);
	if (!msg)
		return mcpparse_fail(e, operr_http(OPERR_BAD_REQUEST), NULL, MCPPARSE_PARSE_ERROR, NULL,
				     "Parse error at line %d column %d: %s", je.line, je.column, je.text);
	if (!json_is_object(msg)) {
		json_decref(msg);
		return mcpparse_fail(e, operr_http(OPERR_BAD_REQUEST), NULL, MCPPARSE_INVALID_REQUEST, NULL,
				     "one JSON-RPC request or notification per POST (MCP has no batches)");
	}
	if (json_object_get(msg, "result") || json_object_get(msg, "error")) {
		json_decref(msg);
		/* We never send requests, so no response can be owed to us. */
		return mcpparse_fail(e, operr_http(OPERR_BAD_REQUEST), NULL, MCPPARSE_INVALID_REQUEST, NULL,
				     "a response to a request this server never sent");
	}
	out->msg = msg;
	method = json_string_value(json_object_get(msg, "method"));
	ver = json_string_value(json_object_get(msg, "jsonrpc"));
	id = json_object_get(msg, "id");
	params = json_object_get(msg, "params");
	if (!ver || strcmp(ver, "2.0") || !method || (id && !json_is_string(id) && !json_is_integer(id)) ||
	    (params && !json_is_object(params)))
		return mcpparse_fail(e, operr_http(OPERR_BAD_REQUEST),
				     json_is_string(id) || json_is_integer(id) ? id : NULL, MCPPARSE_INVALID_REQUEST,
				     NULL, "a request is {\"jsonrpc\": \"2.0\", \"id\": ID, \"method\": NAME, "
				     "\"params\": {...}} (one per POST: no batches, no responses)");
	out->method = method;
	out->id = id;
	out->params = params;
	if (!strcmp(method, "initialize") && !id)
		return mcpparse_fail(e, operr_http(OPERR_BAD_REQUEST), NULL, MCPPARSE_INVALID_REQUEST, NULL,
				     "initialize is a request: give it an id");
	if (!strcmp(method, "initialize")) {
		out->initialize = 1;
		return 0;
	}
	if (h->has_sid && strcmp(h->version, MCPPARSE_MODERN)) {
		out->session = 1;
		return 0;
	}
	if (h->version[0] && mcpparse_is_legacy(h->version))
		return mcpparse_fail(e, operr_http(OPERR_BAD_REQUEST), id, MCPPARSE_INVALID_REQUEST, NULL,
				     "Bad Request: protocol %.20s needs an Mcp-Session-Id (send initialize first)",
				     h->version);
	if (!h->version[0] && h->method_n == -1 &&
	    !json_object_get(json_object_get(params, "_meta"), "io.modelcontextprotocol/protocolVersion"))
		return mcpparse_fail(e, operr_http(OPERR_BAD_REQUEST), id, MCPPARSE_INVALID_REQUEST, NULL,
				     "Bad Request: no session. Send initialize first (2025-11-25), or speak %s "
				     "with an MCP-Protocol-Version header", MCPPARSE_MODERN);
	out->modern = 1;
	return mcpparse_modern(msg, h, id, e);
}

int mcpparse_dropped(const char *drop, const char *key)
{
	char k[80];

	snprintf(k, sizeof(k), " %s ", key);
	return drop && strstr(drop, k);
}

int mcpparse_args(enum mcpparse_shape shape, const char *drop, const json_t *props, const json_t *args,
		  json_t **params, char **bin, size_t *bin_len, char *err, size_t cap)
{
	json_t *p = json_object(), *action = NULL, *v;
	char *b = NULL;
	const char *key;

	*params = NULL;
	*bin = NULL;
	*bin_len = 0;
	snprintf(err, cap, "out of memory");
	if (!p || (shape == MCPPARSE_ACTION && !(action = json_object())))
		goto fail;
	json_object_foreach((json_t *)args, key, v) {
		if (!strcmp(key, "sandbox") || mcpparse_dropped(drop, key)) {
			snprintf(err, cap, "unknown field %.200s", key);
			goto fail;
		}
		if (!strcmp(key, "sandbox_id"))
			json_object_set(p, "sandbox", v);
		else if (shape == MCPPARSE_WRITE && (!strcmp(key, "content") || !strcmp(key, "encoding")))
			continue;
		else if (action && !json_object_get(props, key))
			json_object_set(action, key, v);
		else
			json_object_set(p, key, v);
	}
	if (action) {
		json_object_set_new(p, "actions", json_pack("[o]", action));
		action = NULL;
	}
	if (shape == MCPPARSE_WRITE) {
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
		b = malloc(n + 3);
		if (!b) {
			snprintf(err, cap, "out of memory");
			goto fail;
		}
		if (enc && !strcmp(enc, "base64")) {
			ssize_t got = base64_decode(json_string_value(content), n, (uint8_t *)b);

			if (got < 0) {
				snprintf(err, cap, "content is not base64");
				goto fail;
			}
			n = (size_t)got;
		} else {
			memcpy(b, json_string_value(content), n);
		}
		*bin = b;
		*bin_len = n;
	}
	*params = p;
	return 0;
fail:
	free(b);
	json_decref(action);
	json_decref(p);
	return -1;
}
