/*
 * httpparts.c - query parameters, bearer tokens, Host, If-None-Match and
 * bodies of HTTP requests (pure). See httpparts.h.
 */
#include "httpparts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

/* A query value as the schema types it. Returns NULL with err set. */
static json_t *httpparts_typed(const json_t *prop, const char *name, const char *v, char *err, size_t cap)
{
	const char *type = json_string_value(json_object_get(prop, "type"));
	char *end;

	if (type && !strcmp(type, "integer")) {
		long long n = strtoll(v, &end, 10);

		if (end != v && !*end)
			return json_integer(n);
		snprintf(err, cap, "%s must be a whole number", name);
		return NULL;
	}
	if (type && !strcmp(type, "number")) {
		double d = strtod(v, &end);

		if (end != v && !*end)
			return json_real(d);
		snprintf(err, cap, "%s must be a number", name);
		return NULL;
	}
	if (type && !strcmp(type, "boolean")) {
		if (!strcmp(v, "1") || !strcasecmp(v, "true"))
			return json_true();
		if (!strcmp(v, "0") || !strcasecmp(v, "false"))
			return json_false();
		snprintf(err, cap, "%s must be 1, 0, true or false", name);
		return NULL;
	}
	json_t *s = json_string(v);   /* NULL when v is not UTF-8 */

	if (!s)
		snprintf(err, cap, "%s is not UTF-8", name);
	return s;
}

int httpparts_query(char *frag, size_t n, const json_t *props, json_t *params, char *err, size_t cap)
{
	char *eq;
	json_t *v;

	if (n != strlen(frag)) {
		snprintf(err, cap, "a query parameter holds a NUL byte");
		return -1;
	}
	eq = strchr(frag, '=');
	if (eq)
		*eq++ = '\0';
	if (!frag[0] || !strcmp(frag, "token"))
		return 0;
	/* Last-one-wins would silently drop what the client meant. */
	if (json_object_get(params, frag)) {
		snprintf(err, cap, "%.200s is given twice", frag);
		return -1;
	}
	v = httpparts_typed(json_object_get(props, frag), frag, eq ? eq : "", err, cap);
	if (!v)
		return -1;
	/* A name that is not UTF-8 cannot be a key; the unknown-field
	 * check would never see it, so refuse it here. */
	if (json_object_set_new(params, frag, v) < 0) {
		snprintf(err, cap, "a query parameter's name is not UTF-8");
		return -1;
	}
	return 0;
}

int httpparts_bearer(const char *h, size_t n, const char **tok, size_t *len)
{
	if (n <= 7 || strncasecmp(h, "Bearer ", 7))
		return -1;
	*tok = h + 7;
	*len = n - 7;
	return 0;
}

int httpparts_host_ok(const char *host, size_t n)
{
	return n > 0 && strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") == n;
}

const char *httpparts_etag(char *v)
{
	char *p = v;

	if (!strncmp(p, "W/", 2))
		p += 2;
	if (*p == '"')
		p++;
	p[strcspn(p, "\"")] = '\0';
	return p;
}

static json_t *httpparts_json(const char *body, size_t len, char *err, size_t cap)
{
	json_error_t je;
	json_t *j;

	if (len == 0)
		return json_object();
	j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		snprintf(err, cap, "invalid JSON at line %d column %d: %s", je.line, je.column, je.text);
	return j;
}

/* -1 (err naming it) when a field of body is already in params (from the
 * query): which one the client meant is anybody's guess. */
static int httpparts_twice(json_t *body, const json_t *params, char *err, size_t cap)
{
	const char *key;
	json_t *val;

	json_object_foreach(body, key, val) {
		if (json_object_get(params, key)) {
			snprintf(err, cap, "%.200s is given in both the query and the body", key);
			return -1;
		}
	}
	return 0;
}

enum operr httpparts_body(enum httpparts_body kind, const char *body, size_t len, json_t *params,
			  char *err, size_t cap)
{
	json_t *j;

	if (kind == HTTPPARTS_TEXT && len && body[0] != '{') {
		size_t room = len * 3 + 4;
		char *clean;

		if (json_object_get(params, "text")) {
			snprintf(err, cap, "text is given in both the query and the body");
			return OPERR_BAD_REQUEST;
		}
		clean = malloc(room);
		if (!clean) {
			snprintf(err, cap, "out of memory");
			return OPERR_INTERNAL;
		}
		json_object_set_new(params, "text", json_stringn(clean, utf8_repair(body, len, clean, room)));
		free(clean);
		return OPERR_OK;
	}
	/* JSON, actions, or text as {"text": …} */
	j = httpparts_json(body, len, err, cap);
	if (!j)
		return OPERR_BAD_JSON;
	if (kind == HTTPPARTS_ACTIONS && len == 0) {
		json_decref(j);
		snprintf(err, cap, "a JSON body is required: an action, an array of them, "
			 "or {\"actions\": [...]}");
		return OPERR_BAD_JSON;
	}
	if (kind == HTTPPARTS_ACTIONS &&
	    (json_is_array(j) || (json_is_object(j) && !json_object_get(j, "actions")))) {
		json_t *wrapped = json_array();

		if (json_is_array(j))
			json_array_extend(wrapped, j);
		else
			json_array_append(wrapped, j);
		json_decref(j);
		j = json_pack("{s:o}", "actions", wrapped);
	}
	if (!json_is_object(j)) {
		json_decref(j);
		snprintf(err, cap, "the body must be a JSON object");
		return OPERR_BAD_JSON;
	}
	if (httpparts_twice(j, params, err, cap) < 0) {
		json_decref(j);
		return OPERR_BAD_REQUEST;
	}
	json_object_update(params, j);
	json_decref(j);
	return OPERR_OK;
}

int httpparts_pty_resize(const char *msg, size_t len, unsigned short *cols, unsigned short *rows)
{
	json_t *j = json_loadb(msg, len, 0, NULL);
	const char *type = json_string_value(json_object_get(j, "type"));
	json_int_t c = json_integer_value(json_object_get(j, "cols"));
	json_int_t r = json_integer_value(json_object_get(j, "rows"));
	int ok = type && !strcmp(type, "resize") && c > 0 && r > 0 && c <= 1000 && r <= 1000;

	if (ok) {
		*cols = (unsigned short)c;
		*rows = (unsigned short)r;
	}
	json_decref(j);
	return ok;
}

/* "the query field NAME" when p is in the query, else "the URL's path". */
static void httpparts_where(const char *t, const char *p, char *out, size_t cap)
{
	const char *q = memchr(t, '?', (size_t)(p - t)), *f, *eq;

	if (!q) {
		snprintf(out, cap, "the URL's path");
		return;
	}
	f = q + 1;
	for (const char *c = f; c < p; c++)
		if (*c == '&')
			f = c + 1;
	eq = memchr(f, '=', (size_t)(p - f));
	if (!eq || eq == f) {
		snprintf(out, cap, "a query field's name");
		return;
	}
	/* Quoted only when plain: the message goes into a JSON string. */
	for (const char *c = f; c < eq; c++) {
		if (*c < 0x21 || *c > 0x7e || *c == '"' || *c == '\\') {
			snprintf(out, cap, "a query field");
			return;
		}
	}
	/* The name as sent (it has no escape before p: an earlier bad one
	 * would have been reported), cut to keep the message short. */
	snprintf(out, cap, "the query field %.*s", (int)((eq - f) > 64 ? 64 : eq - f), f);
}

int httpparts_target(const char *buf, size_t len, char *err, size_t cap)
{
	const char *eol = memchr(buf, '\n', len);
	const char *t, *end;
	char where[100];

	if (!eol)
		return 0;
	/* METHOD SP target SP version: the target runs from the first space
	 * to the next one (or the end of the line). */
	t = memchr(buf, ' ', (size_t)(eol - buf));
	if (!t)
		return 1;
	t++;
	end = memchr(t, ' ', (size_t)(eol - t));
	if (!end)
		end = eol;
	for (const char *p = t; p < end; p++) {
		int hi, lo;

		if (*p != '%')
			continue;
		hi = p + 1 < end ? hex_digit(p[1]) : -1;
		lo = p + 2 < end ? hex_digit(p[2]) : -1;
		if (hi >= 0 && lo >= 0 && (hi || lo)) {
			p += 2;
			continue;
		}
		httpparts_where(t, p, where, sizeof(where));
		snprintf(err, cap, "%s has %s (at byte %zu of the URL)", where,
			 hi < 0 || lo < 0 ? "a % not followed by two hex digits" : "%00, a NUL byte",
			 (size_t)(p - t));
		return -1;
	}
	return 1;
}
