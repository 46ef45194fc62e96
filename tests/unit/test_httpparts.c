/*
 * test_httpparts.c - the HTTP parts deskboxd parses itself: query values
 * typed by the schema, refused NULs and non-UTF-8 names, the bearer token,
 * Host and If-None-Match, and bodies shaped per route.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "httpparts.h"

static json_t *props(void)
{
	json_t *p = json_loads("{\"quality\":{\"type\":\"integer\"},\"cpu\":{\"type\":\"number\"},"
			       "\"cursor\":{\"type\":\"boolean\"},\"path\":{\"type\":\"string\"}}", 0, NULL);

	assert_non_null(p);
	return p;
}

/* httpparts_query on a copy of frag (n bytes); params kept. */
static int query(json_t *pr, json_t *params, const char *frag, size_t n, char *err)
{
	char buf[256];

	memcpy(buf, frag, n);
	buf[n] = '\0';
	return httpparts_query(buf, n, pr, params, err, 256);
}

static void test_query_typed(void **state)
{
	json_t *pr = props(), *params = json_object(), *want;
	char err[256];

	assert_int_equal(query(pr, params, "quality=50", 10, err), 0);
	assert_int_equal(query(pr, params, "cpu=1.5", 7, err), 0);
	assert_int_equal(query(pr, params, "cursor=true", 11, err), 0);
	assert_int_equal(query(pr, params, "path=/a b", 9, err), 0);
	assert_int_equal(query(pr, params, "other", 5, err), 0);
	assert_int_equal(query(pr, params, "token=secret", 12, err), 0);
	assert_int_equal(query(pr, params, "=x", 2, err), 0);
	want = json_loads("{\"quality\":50,\"cpu\":1.5,\"cursor\":true,\"path\":\"/a b\",\"other\":\"\"}", 0, NULL);
	assert_true(json_equal(params, want));
	json_decref(want);
	json_decref(params);
	params = json_object();   /* the errors below are of a first mention */
	assert_int_equal(query(pr, params, "quality=5x", 10, err), -1);
	assert_string_equal(err, "quality must be a whole number");
	assert_int_equal(query(pr, params, "cursor=yes", 10, err), -1);
	assert_int_equal(query(pr, params, "cpu=", 4, err), -1);
	/* a decoded %00 */
	assert_int_equal(query(pr, params, "path=/a\0b", 9, err), -1);
	assert_string_equal(err, "a query parameter holds a NUL byte");
	/* a value, and a name, that are not UTF-8 */
	assert_int_equal(query(pr, params, "path=\xff", 6, err), -1);
	assert_string_equal(err, "path is not UTF-8");
	assert_int_equal(query(pr, params, "\xff=1", 3, err), -1);
	assert_string_equal(err, "a query parameter's name is not UTF-8");
	json_decref(params);
	json_decref(pr);
}

/* Edge cases of one query: empty fragments, a name given twice, a '='
 * in a value, and a name-only fragment. Each error names the field. */
static void test_query_edges(void **state)
{
	json_t *pr = props(), *params = json_object(), *want;
	char err[256];

	/* "?", "?&", "?a=1&": empty fragments are no parameters */
	assert_int_equal(query(pr, params, "", 0, err), 0);
	assert_int_equal(query(pr, params, "=", 1, err), 0);
	assert_int_equal(query(pr, params, "==", 2, err), 0);
	assert_int_equal(json_object_size(params), 0);
	/* a value may hold '=' */
	assert_int_equal(query(pr, params, "path=a=b", 8, err), 0);
	/* a name alone is the empty string, typed like any value */
	assert_int_equal(query(pr, params, "flag", 4, err), 0);
	assert_int_equal(query(pr, params, "cursor", 6, err), -1);
	assert_string_equal(err, "cursor must be 1, 0, true or false");
	want = json_loads("{\"path\":\"a=b\",\"flag\":\"\"}", 0, NULL);
	assert_true(json_equal(params, want));
	json_decref(want);
	/* given twice: refused whatever the values, known field or not */
	assert_int_equal(query(pr, params, "path=c", 6, err), -1);
	assert_string_equal(err, "path is given twice");
	assert_int_equal(query(pr, params, "flag=", 5, err), -1);
	assert_string_equal(err, "flag is given twice");
	/* "token" is auth's, however often it comes */
	assert_int_equal(query(pr, params, "token=a", 7, err), 0);
	assert_int_equal(query(pr, params, "token=b", 7, err), 0);
	assert_null(json_object_get(params, "token"));
	/* a decoded %00 in the name */
	assert_int_equal(query(pr, params, "a\0b=1", 5, err), -1);
	assert_string_equal(err, "a query parameter holds a NUL byte");
	json_decref(params);
	json_decref(pr);
}

/* A field the query already gave may not come again in the body. */
static void test_query_then_body(void **state)
{
	json_t *params = json_pack("{s:s}", "format", "png");
	char err[256] = "";

	assert_int_equal(httpparts_body(HTTPPARTS_JSON, "{\"format\":\"jpeg\"}", 17, params, err,
					sizeof(err)), OPERR_BAD_REQUEST);
	assert_string_equal(err, "format is given in both the query and the body");
	assert_string_equal(json_string_value(json_object_get(params, "format")), "png");
	assert_int_equal(httpparts_body(HTTPPARTS_JSON, "{\"other\":1}", 11, params, err,
					sizeof(err)), OPERR_OK);
	json_object_set_new(params, "text", json_string("q"));
	assert_int_equal(httpparts_body(HTTPPARTS_TEXT, "raw", 3, params, err, sizeof(err)),
			 OPERR_BAD_REQUEST);
	assert_string_equal(err, "text is given in both the query and the body");
	assert_int_equal(httpparts_body(HTTPPARTS_TEXT, "{\"text\":\"b\"}", 12, params, err,
					sizeof(err)), OPERR_BAD_REQUEST);
	assert_string_equal(err, "text is given in both the query and the body");
	json_decref(params);
}

static void test_headers(void **state)
{
	const char *tok;
	size_t len;
	char etag[64];

	assert_int_equal(httpparts_bearer("Bearer abc", 10, &tok, &len), 0);
	assert_int_equal(len, 3);
	assert_memory_equal(tok, "abc", 3);
	assert_int_equal(httpparts_bearer("bearer x", 8, &tok, &len), 0);
	assert_int_equal(httpparts_bearer("Bearer ", 7, &tok, &len), -1);
	assert_int_equal(httpparts_bearer("Basic abcd", 10, &tok, &len), -1);
	assert_true(httpparts_host_ok("example.com:8080", 16));
	assert_true(httpparts_host_ok("[::1]:80", 8));
	assert_false(httpparts_host_ok("a.com/evil", 10));
	assert_false(httpparts_host_ok("a\"b", 3));
	assert_false(httpparts_host_ok("", 0));
	strcpy(etag, "W/\"abc-1\"");
	assert_string_equal(httpparts_etag(etag), "abc-1");
	strcpy(etag, "\"x\", \"y\"");
	assert_string_equal(httpparts_etag(etag), "x");
	strcpy(etag, "plain");
	assert_string_equal(httpparts_etag(etag), "plain");
}

static void body(enum httpparts_body kind, const char *text, enum operr want, const char *want_params)
{
	json_t *params = json_object();
	char err[256] = "";

	assert_int_equal(httpparts_body(kind, text, strlen(text), params, err, sizeof(err)), want);
	if (want == OPERR_OK) {
		json_t *w = json_loads(want_params, 0, NULL);

		assert_true(json_equal(params, w));
		json_decref(w);
	} else {
		assert_true(err[0]);
	}
	json_decref(params);
}

static void test_bodies(void **state)
{
	body(HTTPPARTS_JSON, "", OPERR_OK, "{}");
	body(HTTPPARTS_JSON, "{\"a\":1}", OPERR_OK, "{\"a\":1}");
	body(HTTPPARTS_JSON, "[1]", OPERR_BAD_JSON, NULL);
	body(HTTPPARTS_JSON, "{\"a\":1,\"a\":2}", OPERR_BAD_JSON, NULL);
	body(HTTPPARTS_JSON, "{\"a\":\"\xff\"}", OPERR_BAD_JSON, NULL);
	body(HTTPPARTS_ACTIONS, "", OPERR_BAD_JSON, NULL);
	body(HTTPPARTS_ACTIONS, "{\"action\":\"screenshot\"}", OPERR_OK,
	     "{\"actions\":[{\"action\":\"screenshot\"}]}");
	body(HTTPPARTS_ACTIONS, "[{\"type\":\"wait\"}]", OPERR_OK, "{\"actions\":[{\"type\":\"wait\"}]}");
	body(HTTPPARTS_ACTIONS, "{\"actions\":[],\"format\":\"png\"}", OPERR_OK,
	     "{\"actions\":[],\"format\":\"png\"}");
	body(HTTPPARTS_TEXT, "hello", OPERR_OK, "{\"text\":\"hello\"}");
	body(HTTPPARTS_TEXT, "{\"text\":\"hi\"}", OPERR_OK, "{\"text\":\"hi\"}");
	body(HTTPPARTS_TEXT, "", OPERR_OK, "{}");
}

static int target(const char *line)
{
	char err[200] = "";

	return httpparts_target(line, strlen(line), err, sizeof(err));
}

static void test_request_target(void **state)
{
	const char *nul = "GET /v1/sandboxes?x=%00 HTTP/1.1\r\n";
	char err[200] = "";

	(void)state;
	/* Not a whole line yet. */
	assert_int_equal(target("GET /v1/sandboxes?a=%00"), 0);
	assert_int_equal(target(""), 0);
	/* Fine. */
	assert_int_equal(target("GET /v1/sandboxes HTTP/1.1\r\n"), 1);
	assert_int_equal(target("GET /v1/s?path=%2Ftmp%20a HTTP/1.1\r\nHost: x\r\n"), 1);
	assert_int_equal(target("GET /%ff%0a HTTP/1.1\n"), 1);
	assert_int_equal(target("garbage\n"), 1);          /* lws judges the rest */
	assert_int_equal(target("GET /a%zz\n"), -1);       /* no version: target to the end */
	/* Refused, with where. */
	assert_int_equal(httpparts_target(nul, strlen(nul), err, sizeof(err)), -1);
	assert_string_equal(err, "the query field x has %00, a NUL byte (at byte 16 of the URL)");
	assert_int_equal(httpparts_target("GET /a%zz/b\n", 12, err, sizeof(err)), -1);
	assert_string_equal(err, "the URL's path has a % not followed by two hex digits "
			    "(at byte 2 of the URL)");
	assert_int_equal(httpparts_target("GET /a?b=1&c%00=2\n", 18, err, sizeof(err)), -1);
	assert_string_equal(err, "a query field's name has %00, a NUL byte (at byte 8 of the URL)");
	assert_int_equal(httpparts_target("GET /a?b=1&path=%0 HTTP/1.1\n", 28, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "the query field path has a % not followed by two hex digits "
			    "(at byte 12 of the URL)");
	assert_int_equal(target("GET /a%0 HTTP/1.1\r\n"), -1);
	assert_int_equal(target("GET /a% HTTP/1.1\r\n"), -1);
	assert_int_equal(target("GET /a%g1 HTTP/1.1\r\n"), -1);
	assert_int_equal(target("GET /%00 HTTP/1.1\r\n"), -1);
	assert_int_equal(httpparts_target("GET /a?\xff\"=%00\n", 14, err, sizeof(err)), -1);
	assert_string_equal(err, "a query field has %00, a NUL byte (at byte 6 of the URL)");
	/* Only the first line counts: a %00 in a header is lws's to judge. */
	assert_int_equal(target("GET / HTTP/1.1\r\nX: %00\r\n"), 1);
}

static void test_pty_resize(void **state)
{
	unsigned short c = 0, r = 0;
	const char *ok = "{\"type\":\"resize\",\"cols\":132,\"rows\":43}";
	const char *big = "{\"type\":\"resize\",\"cols\":1001,\"rows\":43}";
	const char *neg = "{\"type\":\"resize\",\"cols\":-80,\"rows\":24}";

	(void)state;
	assert_int_equal(httpparts_pty_resize(ok, strlen(ok), &c, &r), 1);
	assert_int_equal(c, 132);
	assert_int_equal(r, 43);
	c = r = 7;
	assert_int_equal(httpparts_pty_resize(big, strlen(big), &c, &r), 0);
	assert_int_equal(httpparts_pty_resize(neg, strlen(neg), &c, &r), 0);
	assert_int_equal(httpparts_pty_resize("{\"type\":\"resize\"", 18, &c, &r), 0);
	assert_int_equal(c, 7);   /* untouched */
	assert_int_equal(r, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query_typed),
		cmocka_unit_test(test_query_edges),
		cmocka_unit_test(test_query_then_body),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_pty_resize),
		cmocka_unit_test(test_request_target),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
