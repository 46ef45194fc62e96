/*
 * test_mcpparse.c - cmocka tests of common/mcpparse.c: an MCP POST's body
 * and headers read into one era or refused with the status and JSON-RPC
 * code the endpoint answers, the Origin/Accept rules, the Mcp-Name
 * encoding, and tool arguments mapped onto operation params.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mcpparse.h"

static const struct mcpparse_hdrs NONE = { "", 0, "", -1, "", -1 };

/* Parse body with h: 0 or -1; on -1, *e is kept (data freed). */
static int parse(const char *body, const struct mcpparse_hdrs *h, struct mcpparse_msg *m,
		 struct mcpparse_err *e)
{
	int r = mcpparse_message(body, strlen(body), h, m, e);

	if (r < 0) {
		json_decref(e->data);
		e->data = NULL;
	}
	return r;
}

static void test_envelope(void **state)
{
	struct mcpparse_msg m;
	struct mcpparse_err e;

	(void)state;
	assert_int_equal(parse("{not json", &NONE, &m, &e), -1);
	assert_int_equal(e.status, 400);
	assert_int_equal(e.code, -32700);
	assert_null(m.msg);
	assert_int_equal(parse("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]", &NONE, &m, &e), -1);
	assert_non_null(strstr(e.msg, "no batches"));
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}", &NONE, &m, &e), -1);
	assert_non_null(strstr(e.msg, "never sent"));
	assert_int_equal(parse("{\"jsonrpc\":\"1.0\",\"id\":\"a\",\"method\":\"ping\"}", &NONE, &m, &e), -1);
	assert_int_equal(e.code, -32600);
	assert_string_equal(json_string_value(e.id), "a");   /* echoed */
	json_decref(m.msg);
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":[1],\"method\":\"ping\"}", &NONE, &m, &e), -1);
	assert_null(e.id);
	json_decref(m.msg);
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"method\":\"initialize\"}", &NONE, &m, &e), -1);
	assert_non_null(strstr(e.msg, "give it an id"));
	json_decref(m.msg);
}

static void test_eras(void **state)
{
	struct mcpparse_hdrs h = NONE;
	struct mcpparse_msg m;
	struct mcpparse_err e;

	(void)state;
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}", &h, &m, &e),
			 0);
	assert_true(m.initialize);
	json_decref(m.msg);
	/* No session, no version: told to initialize. */
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", &h, &m, &e), -1);
	assert_non_null(strstr(e.msg, "no session"));
	json_decref(m.msg);
	/* A session id: the server looks it up, then checks the version. */
	h.has_sid = 1;
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", &h, &m, &e), 0);
	assert_true(m.session);
	assert_int_equal(mcpparse_session_version("2025-06-18", m.id, &e), 0);
	assert_int_equal(mcpparse_session_version("", m.id, &e), 0);
	assert_int_equal(mcpparse_session_version("2024-01-01", m.id, &e), -1);
	json_decref(m.msg);
	/* A session revision without a session. */
	h = NONE;
	h.version = "2025-11-25";
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", &h, &m, &e), -1);
	assert_non_null(strstr(e.msg, "needs an Mcp-Session-Id"));
	json_decref(m.msg);
	assert_string_equal(mcpparse_initialize_version("2025-03-26"), "2025-03-26");
	assert_string_equal(mcpparse_initialize_version("1999-01-01"), MCPPARSE_LEGACY_LATEST);
	assert_string_equal(mcpparse_initialize_version(NULL), MCPPARSE_LEGACY_LATEST);
}

#define META "\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}"

static void test_modern(void **state)
{
	struct mcpparse_hdrs h = { MCPPARSE_MODERN, 0, "tools/call", 10, "exec", 4 };
	struct mcpparse_msg m;
	struct mcpparse_err e;
	const char *call = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"exec\","
			   META "}}";

	(void)state;
	assert_int_equal(parse(call, &h, &m, &e), 0);
	assert_true(m.modern);
	json_decref(m.msg);
	h.name = "=?base64?ZXhlYw==?=";   /* "exec" */
	h.name_n = (int)strlen(h.name);
	assert_int_equal(parse(call, &h, &m, &e), 0);
	json_decref(m.msg);
	h.name = "files_read";
	assert_int_equal(parse(call, &h, &m, &e), -1);
	assert_int_equal(e.code, MCPPARSE_HEADER_MISMATCH);
	assert_non_null(strstr(e.msg, "Mcp-Name header value 'files_read'"));
	json_decref(m.msg);
	h.name_n = -1;
	assert_int_equal(parse(call, &h, &m, &e), -1);
	assert_non_null(strstr(e.msg, "Mcp-Name header is missing"));
	json_decref(m.msg);
	h.method = "tools/list";
	assert_int_equal(parse(call, &h, &m, &e), -1);
	assert_non_null(strstr(e.msg, "Mcp-Method header value 'tools/list'"));
	json_decref(m.msg);
	h.version = "2030-01-01";
	assert_int_equal(mcpparse_message(call, strlen(call), &h, &m, &e), -1);
	assert_int_equal(e.code, MCPPARSE_UNSUPPORTED_VERSION);
	assert_string_equal(json_string_value(json_object_get(e.data, "requested")), "2030-01-01");
	json_decref(e.data);
	json_decref(m.msg);
	/* _meta missing from a request of the modern era. */
	h = (struct mcpparse_hdrs){ MCPPARSE_MODERN, 0, "ping", 4, "", -1 };
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}", &h, &m, &e), -1);
	assert_int_equal(e.code, -32602);
	assert_string_equal(e.msg, "params._meta must carry io.modelcontextprotocol/protocolVersion");
	json_decref(m.msg);
}

static void test_headers(void **state)
{
	char out[64];

	(void)state;
	assert_true(mcpparse_origin_ok(NULL, "x"));
	assert_true(mcpparse_origin_ok("http://localhost:3000", "example.com"));
	assert_true(mcpparse_origin_ok("http://127.0.0.1:9", NULL));
	assert_true(mcpparse_origin_ok("http://[::1]:9", NULL));
	assert_false(mcpparse_origin_ok("http://localhost.evil.com", "127.0.0.1:8080"));
	assert_false(mcpparse_origin_ok("https://evil.com", "evil.com"));   /* a name could be rebound */
	assert_true(mcpparse_origin_ok("http://10.0.0.5:8080", "10.0.0.5:8080"));
	assert_false(mcpparse_origin_ok("nonsense", "x"));
	assert_false(mcpparse_origin_ok("http://[::1", "x"));
	assert_true(mcpparse_accepts_json(NULL));
	assert_true(mcpparse_accepts_json("application/json, text/event-stream"));
	assert_true(mcpparse_accepts_json("*/*"));
	assert_false(mcpparse_accepts_json("text/event-stream"));
	assert_int_equal(mcpparse_name_value("=?base64?aGk=?=", out, sizeof(out)), 0);
	assert_string_equal(out, "hi");
	assert_int_equal(mcpparse_name_value("=?base64?AGk=?=", out, sizeof(out)), -1);   /* a NUL */
	assert_int_equal(mcpparse_name_value("=?base64?!!!!?=", out, sizeof(out)), -1);
	assert_int_equal(mcpparse_name_value("plain", out, sizeof(out)), 0);
	assert_string_equal(out, "plain");
}

static void test_args(void **state)
{
	json_t *props = json_loads("{\"sandbox\":{},\"actions\":{},\"scale_to\":{}}", 0, NULL), *args, *p;
	char *bin, err[300];
	size_t n;

	(void)state;
	args = json_loads("{\"sandbox_id\":\"s1\",\"action\":\"left_click\",\"coordinate\":[1,2],\"scale_to\":{}}",
			  0, NULL);
	assert_int_equal(mcpparse_args(MCPPARSE_ACTION, " actions ", props, args, &p, &bin, &n, err, sizeof(err)), 0);
	assert_string_equal(json_string_value(json_object_get(p, "sandbox")), "s1");
	assert_non_null(json_object_get(p, "scale_to"));
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(p, "actions"), 0),
							     "action")), "left_click");
	assert_null(bin);
	json_decref(p);
	json_decref(args);
	args = json_loads("{\"actions\":[]}", 0, NULL);
	assert_int_equal(mcpparse_args(MCPPARSE_ACTION, " actions ", props, args, &p, &bin, &n, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "unknown field actions");
	json_decref(args);
	args = json_loads("{\"sandbox\":\"s\"}", 0, NULL);
	assert_int_equal(mcpparse_args(MCPPARSE_JSON, NULL, props, args, &p, &bin, &n, err, sizeof(err)), -1);
	json_decref(args);
	args = json_loads("{\"path\":\"/a\",\"content\":\"aGk=\",\"encoding\":\"base64\"}", 0, NULL);
	assert_int_equal(mcpparse_args(MCPPARSE_WRITE, NULL, props, args, &p, &bin, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(bin, "hi", 2);
	assert_null(json_object_get(p, "content"));
	free(bin);
	json_decref(p);
	json_decref(args);
	args = json_loads("{\"content\":\"x\",\"encoding\":\"latin1\"}", 0, NULL);
	assert_int_equal(mcpparse_args(MCPPARSE_WRITE, NULL, props, args, &p, &bin, &n, err, sizeof(err)), -1);
	assert_null(bin);
	json_decref(args);
	assert_int_equal(mcpparse_args(MCPPARSE_WRITE, NULL, props, NULL, &p, &bin, &n, err, sizeof(err)), -1);
	assert_string_equal(err, "content must be a string");
	json_decref(props);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_eras),
		cmocka_unit_test(test_modern),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
