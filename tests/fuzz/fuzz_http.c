/*
 * fuzz_http.c - libFuzzer target for the parts of an HTTP request deskboxd
 * parses itself (common/httpparts.c, as server/rest.c uses it; lws splits
 * the request line and headers, and fuzz_path covers routes and paths).
 *
 * The whole input is also a connection's first bytes, whose request line
 * front.c checks (httpparts_target): a refusal's message is UTF-8.
 *
 * Input: one byte choosing the body kind, then NUL-separated Authorization,
 * Host, If-None-Match and query string (split at '&' and %-decoded as lws
 * does, so a %00 reaches the parser), and the rest is the body. Typed query
 * values have their schema's type; a token points inside its header; an
 * echoed Host is plain; an etag holds no quote; a body that is accepted
 * leaves params an object of UTF-8 keys, with "actions" for the actions
 * route and UTF-8 "text" for the text route.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "httpparts.h"
#include "../unit/utf8_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/* The next NUL-terminated part of *p (the rest when there is no NUL). */
static const char *part(const char **p, const char *end, size_t *n)
{
	const char *s = *p, *z = memchr(s, 0, (size_t)(end - s));

	*n = z ? (size_t)(z - s) : (size_t)(end - s);
	*p = z ? z + 1 : end;
	return s;
}

static int hexval(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void query(const char *q, size_t n, const json_t *props)
{
	json_t *params = json_object();
	char err[256];

	CHECK(params);
	for (size_t i = 0; i <= n;) {
		size_t len = 0, k = i;
		char frag[512];

		while (k < n && q[k] != '&')
			k++;
		/* lws: '+' is a space, %XX a byte (a NUL too) */
		for (size_t j = i; j < k && len < sizeof(frag) - 1; j++) {
			int hi, lo;

			if (q[j] == '%' && j + 2 < k && (hi = hexval(q[j + 1])) >= 0 && (lo = hexval(q[j + 2])) >= 0) {
				frag[len++] = (char)(hi << 4 | lo);
				j += 2;
			} else {
				frag[len++] = q[j] == '+' ? ' ' : q[j];
			}
		}
		frag[len] = '\0';
		err[0] = '\0';
		if (httpparts_query(frag, len, props, params, err, sizeof(err)) < 0) {
			CHECK(err[0]);
			break;
		}
		i = k + 1;
	}
	{
		const char *key;
		json_t *v;

		json_object_foreach(params, key, v) {
			const char *type = json_string_value(json_object_get(json_object_get(props, key), "type"));

			CHECK(valid_utf8((const unsigned char *)key, strlen(key)) && strcmp(key, "token"));
			if (!type || !strcmp(type, "string"))
				CHECK(json_is_string(v));
			else if (!strcmp(type, "integer"))
				CHECK(json_is_integer(v));
			else if (!strcmp(type, "number"))
				CHECK(json_is_real(v));
			else if (!strcmp(type, "boolean"))
				CHECK(json_is_boolean(v));
		}
	}
	json_decref(params);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char schema[] = "{\"sandbox\":{\"type\":\"string\"},\"quality\":{\"type\":\"integer\"},"
		"\"cpu\":{\"type\":\"number\"},\"cursor\":{\"type\":\"boolean\"},\"path\":{\"type\":\"string\"}}";
	const char *p = (const char *)data + 1, *end = (const char *)data + size, *s, *tok;
	char *copy = malloc(size + 1), *body, err[1024];
	json_t *props = json_loads(schema, 0, NULL), *params;
	enum httpparts_body kind;
	size_t n, len;
	enum operr e;

	CHECK(copy && props);
	if (size < 1)
		goto out;
	/* The whole input as a new connection's first bytes (front.c). */
	err[0] = '\0';
	if (httpparts_target((const char *)data, size, err, sizeof(err)) < 0)
		CHECK(err[0] && valid_utf8((const unsigned char *)err, strlen(err)));
	else
		CHECK(!err[0]);
	kind = (enum httpparts_body)(data[0] % 3);
	s = part(&p, end, &n);
	if (httpparts_bearer(s, n, &tok, &len) == 0)
		CHECK(tok == s + 7 && len == n - 7 && len > 0);
	/* lws hands over headers NUL-terminated */
	s = part(&p, end, &n);
	memcpy(copy, s, n);
	copy[n] = '\0';
	if (httpparts_host_ok(copy, n))
		for (size_t i = 0; i < n; i++)
			CHECK(copy[i] && !strchr("/?#@ \"<>\\", copy[i]));
	s = part(&p, end, &n);
	memcpy(copy, s, n);
	copy[n] = '\0';
	CHECK(!strchr(httpparts_etag(copy), '"'));
	s = part(&p, end, &n);
	query(s, n, props);
	/* the body: the rest, on the heap at its exact size */
	n = (size_t)(end - p);
	body = malloc(n ? n : 1);
	CHECK(body);
	memcpy(body, p, n);
	params = json_object();
	err[0] = '\0';
	e = httpparts_body(kind, body, n, params, err, sizeof(err));
	if (e == OPERR_OK) {
		CHECK(json_is_object(params));
		if (kind == HTTPPARTS_ACTIONS)
			CHECK(json_object_get(params, "actions"));
		if (kind == HTTPPARTS_TEXT && n && body[0] != '{') {
			const char *t = json_string_value(json_object_get(params, "text"));

			CHECK(t && valid_utf8((const unsigned char *)t, strlen(t)));
		}
	} else {
		CHECK(err[0] && (e == OPERR_BAD_JSON || e == OPERR_INTERNAL));
	}
	json_decref(params);
	free(body);
out:
	json_decref(props);
	free(copy);
	return 0;
}
