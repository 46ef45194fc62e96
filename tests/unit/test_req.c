/*
 * test_req.c - cmocka tests of common/req.c: the REST body parsers. Bodies are
 * untrusted, so besides the documented shapes every field gets the wrong JSON
 * types, out-of-range numbers and malformed JSON. Failed parses must free
 * what they built (LeakSanitizer checks under make SANITIZE=1 unit).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "req.h"

static const struct limits defaults = { 1000, 500, 1.5, 2000, 3000 };

/* Bodies are copied into an exact-size heap block: no NUL after them, so
 * ASan catches a parser reading past len. */
static enum req_result create_n(const char *body, size_t len, struct req_create *out,
				char *err, size_t errlen)
{
	char *copy = malloc(len ? len : 1);
	enum req_result r;

	assert_non_null(copy);
	memcpy(copy, body, len);
	r = req_parse_create(copy, len, &defaults, 3600, out, err, errlen);
	free(copy);
	return r;
}

static enum req_result create(const char *body, struct req_create *out, char *err,
			      size_t errlen)
{
	return create_n(body, strlen(body), out, err, errlen);
}

static enum req_result exec_n(const char *body, size_t len, struct req_exec *out,
			      char *err, size_t errlen)
{
	char *copy = malloc(len ? len : 1);
	enum req_result r;

	assert_non_null(copy);
	memcpy(copy, body, len);
	r = req_parse_exec(copy, len, 60000, out, err, errlen);
	free(copy);
	return r;
}

static enum req_result exec(const char *body, struct req_exec *out, char *err,
			    size_t errlen)
{
	return exec_n(body, strlen(body), out, err, errlen);
}

/* A parse that must fail with result want and an error naming needle. */
static void create_fails(const char *body, enum req_result want, const char *needle)
{
	struct req_create c;
	char err[512] = "";
	enum req_result r = create(body, &c, err, sizeof(err));

	if (r != want)
		fail_msg("create %s: result %d (%s), want %d", body, r, err, want);
	if (needle && !strstr(err, needle))
		fail_msg("create %s: \"%s\" lacks \"%s\"", body, err, needle);
	if (!needle && !err[0])
		fail_msg("create %s: no error message", body);
	/* The output was freed; freeing again is harmless. */
	assert_null(c.env.v);
	assert_null(c.apps);
	req_create_free(&c);
}

static void exec_fails(const char *body, enum req_result want, const char *needle)
{
	struct req_exec x;
	char err[512] = "";
	enum req_result r = exec(body, &x, err, sizeof(err));

	if (r != want)
		fail_msg("exec %s: result %d (%s), want %d", body, r, err, want);
	if (needle && !strstr(err, needle))
		fail_msg("exec %s: \"%s\" lacks \"%s\"", body, err, needle);
	if (!needle && !err[0])
		fail_msg("exec %s: no error message", body);
	assert_null(x.argv);
	assert_null(x.env.v);
	assert_null(x.cwd);
	assert_null(x.stdin_data);
	req_exec_free(&x);
}

static void assert_create_defaults(const struct req_create *c)
{
	assert_int_equal(c->timeout_s, 3600);
	assert_memory_equal(&c->limits, &defaults, sizeof(defaults));
	assert_null(c->env.v);
	assert_int_equal(c->env.n, 0);
	assert_string_equal(c->rootfs, "host");
	assert_int_equal(c->desktop, -1);
	assert_int_equal(c->width, 1280);
	assert_int_equal(c->height, 800);
	assert_int_equal(c->gl, 0);
	assert_null(c->apps);
}

/* ---- POST /v1/sandboxes ---- */

static void test_create_defaults(void **state)
{
	static const char *bodies[] = {
		"", "{}", " { } ",
		("{\"timeout_s\":null,\"limits\":null,\"env\":null,"
		 "\"rootfs\":null,\"desktop\":null,\"apps\":null}"),
		"{\"limits\":{}}", "{\"wm\":null}", "{\"wm\":true}",
	};

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct req_create c;
		char err[256] = "";

		if (create(bodies[i], &c, err, sizeof(err)) != REQ_OK)
			fail_msg("create %s: %s", bodies[i], err);
		assert_create_defaults(&c);
		req_create_free(&c);
	}
}

static void test_create_full(void **state)
{
	struct req_create c;
	char err[256] = "";
	const char *body =
		"{\"timeout_s\": 60,"
		" \"limits\": {\"memory_mb\": 256, \"pids\": 64, \"cpu\": 0.5,"
		"  \"disk_mb\": 100, \"nofile\": 256},"
		" \"env\": {\"FOO\": \"bar\", \"EMPTY\": \"\", \"EQ\": \"a=b\","
		"  \"U\": \"\\u00e9\\ud83d\\ude00\"},"
		" \"rootfs\": \"debian-12_x.img\","
		" \"desktop\": {\"width\": 1024, \"height\": 768, \"gl\": true},"
		" \"apps\": [\"xterm\", \"firefox --new-window\"]}";

	assert_int_equal(create(body, &c, err, sizeof(err)), REQ_OK);
	assert_int_equal(c.timeout_s, 60);
	assert_int_equal(c.limits.memory_mb, 256);
	assert_int_equal(c.limits.pids, 64);
	assert_true(c.limits.cpu == 0.5);
	assert_int_equal(c.limits.disk_mb, 100);
	assert_int_equal(c.limits.nofile, 256);
	assert_int_equal(c.env.n, 4);
	assert_string_equal(c.env.v[0], "FOO=bar");
	assert_string_equal(c.env.v[1], "EMPTY=");
	assert_string_equal(c.env.v[2], "EQ=a=b");
	assert_string_equal(c.env.v[3], "U=\xc3\xa9\xf0\x9f\x98\x80");
	assert_null(c.env.v[4]);
	assert_string_equal(c.rootfs, "debian-12_x.img");
	assert_int_equal(c.desktop, 1);
	assert_int_equal(c.width, 1024);
	assert_int_equal(c.height, 768);
	assert_int_equal(c.gl, 1);
	assert_non_null(c.apps);
	assert_string_equal(c.apps[0], "xterm");
	assert_string_equal(c.apps[1], "firefox --new-window");
	assert_null(c.apps[2]);
	req_create_free(&c);
	/* Free is idempotent. */
	req_create_free(&c);
}

static void test_create_bad_json(void **state)
{
	static const char *bodies[] = {
		"{", "}", "[]", "[{}]", "\"str\"", "1", "null", "true", "nul",
		"{\"a\":\"abc", "{\"a\":\"abc}", "{\"a\"}", "{\"a\":}", "{a:1}",
		"{'a':1}", "{\"a\":1,}", "{} {}", "{}x", "{\"a\":01}", "{\"a\":.5}",
		"{\"a\":1e400}", "{\"timeout_s\":99999999999999999999}",
		"{\"a\":NaN}", "{\"a\":Infinity}", "{\"a\":\"\\x41\"}",
		"{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\\ud800\"}", "{\"a\":\"\xff\"}",
		"{\"a\":\"\xc0\xaf\"}", "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\x01\"}",
		"\xef\xbb\xbf{}", "{\"a\":\"tab\there\"}",
	};

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		create_fails(bodies[i], REQ_BAD_JSON, NULL);
}

static void test_create_duplicate_keys(void **state)
{
	create_fails("{\"timeout_s\":1,\"timeout_s\":2}", REQ_BAD_JSON, "duplicate");
	create_fails("{\"limits\":{\"pids\":10,\"pids\":10}}", REQ_BAD_JSON, "duplicate");
	create_fails("{\"env\":{\"A\":\"1\",\"A\":\"2\"}}", REQ_BAD_JSON, "duplicate");
	/* Same key spelled with an escape is still the same key. */
	create_fails("{\"rootfs\":\"a\",\"\\u0072ootfs\":\"b\"}", REQ_BAD_JSON, "duplicate");
}

static void test_create_nul(void **state)
{
	struct req_create c;
	char err[256];

	/* \u0000 would cut strings short in C: rejected by the JSON parser. */
	create_fails("{\"env\":{\"A\":\"x\\u0000y\"}}", REQ_BAD_JSON, NULL);
	create_fails("{\"env\":{\"A\\u0000B\":\"x\"}}", REQ_BAD_JSON, NULL);
	create_fails("{\"rootfs\":\"host\\u0000/../x\"}", REQ_BAD_JSON, NULL);
	create_fails("{\"apps\":[\"xterm\\u0000rm\"]}", REQ_BAD_JSON, NULL);
	/* A raw NUL byte inside len, in and after the object. */
	assert_int_equal(create_n("{\"a\":\"\0\"}", 8, &c, err, sizeof(err)), REQ_BAD_JSON);
	assert_int_equal(create_n("{}\0", 3, &c, err, sizeof(err)), REQ_BAD_JSON);
	assert_int_equal(create_n("\0{}", 3, &c, err, sizeof(err)), REQ_BAD_JSON);
}

static void test_create_deep_nesting(void **state)
{
	size_t depth = 100000;
	char *body = malloc(2 * depth + 16);
	struct req_create c;
	char err[256];

	assert_non_null(body);
	strcpy(body, "{\"x\":");
	memset(body + 5, '[', depth);
	memset(body + 5 + depth, ']', depth);
	strcpy(body + 5 + 2 * depth, "}");
	assert_int_equal(create(body, &c, err, sizeof(err)), REQ_BAD_JSON);
	free(body);
}

static void test_create_timeout(void **state)
{
	static const struct {
		const char *body;
		long want;
	} ok[] = {
		{ "{\"timeout_s\":0}", 0 },
		{ "{\"timeout_s\":31536000}", 31536000 },
		{ "{\"timeout_s\":3e2}", 300 },
		{ "{\"timeout_s\":300.0}", 300 },
		{ "{\"timeout_s\":-0}", 0 },
		{ "{\"timeout_s\":-0.0}", 0 },
		{ "{\"timeout_s\":3.1536E7}", 31536000 },
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct req_create c;
		char err[256] = "";

		if (create(ok[i].body, &c, err, sizeof(err)) != REQ_OK)
			fail_msg("create %s: %s", ok[i].body, err);
		assert_int_equal(c.timeout_s, ok[i].want);
		req_create_free(&c);
	}
}

static void test_create_timeout_bad(void **state)
{
	static const char *bodies[] = {
		"{\"timeout_s\":-1}", "{\"timeout_s\":31536001}", "{\"timeout_s\":0.5}",
		"{\"timeout_s\":-0.5}", "{\"timeout_s\":\"60\"}", "{\"timeout_s\":true}",
		"{\"timeout_s\":false}", "{\"timeout_s\":[]}", "{\"timeout_s\":{}}",
		"{\"timeout_s\":[60]}", "{\"timeout_s\":9223372036854775807}",
		"{\"timeout_s\":-9223372036854775808}",
		/* Reals beyond any integer type: no undefined conversion. */
		"{\"timeout_s\":1e300}", "{\"timeout_s\":-1e300}",
		"{\"timeout_s\":1.7976931348623157e308}", "{\"timeout_s\":9.3e18}",
		"{\"timeout_s\":-9.3e18}", "{\"timeout_s\":1e19}",
		"{\"timeout_s\":31536000.5}", "{\"timeout_s\":4.9e-324}",
	};

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
		create_fails(bodies[i], REQ_BAD_FIELD, "timeout_s");
}

static void test_create_limits(void **state)
{
	struct req_create c;
	char err[256] = "";

	/* Given limits override, the others keep the defaults. */
	assert_int_equal(create("{\"limits\":{\"pids\":8,\"cpu\":4096}}", &c, err,
				sizeof(err)), REQ_OK);
	assert_int_equal(c.limits.pids, 8);
	assert_true(c.limits.cpu == 4096);
	assert_int_equal(c.limits.memory_mb, defaults.memory_mb);
	assert_int_equal(c.limits.disk_mb, defaults.disk_mb);
	assert_int_equal(c.limits.nofile, defaults.nofile);
	req_create_free(&c);
	/* Integers are numbers for cpu; null keeps the default. */
	assert_int_equal(create("{\"limits\":{\"cpu\":2,\"memory_mb\":null}}", &c, err,
				sizeof(err)), REQ_OK);
	assert_true(c.limits.cpu == 2);
	assert_int_equal(c.limits.memory_mb, defaults.memory_mb);
	req_create_free(&c);
	assert_int_equal(create("{\"limits\":{\"memory_mb\":16,\"pids\":4194304,"
				"\"disk_mb\":16777216,\"nofile\":1048576,\"cpu\":0.01}}",
				&c, err, sizeof(err)), REQ_OK);
	assert_int_equal(c.limits.memory_mb, 16);
	assert_int_equal(c.limits.pids, 4194304);
	assert_int_equal(c.limits.disk_mb, 16777216);
	assert_int_equal(c.limits.nofile, 1048576);
	assert_true(c.limits.cpu == 0.01);
	req_create_free(&c);
}

static void test_create_limits_bad(void **state)
{
	static const struct {
		const char *body, *needle;
	} bad[] = {
		{ "{\"limits\":1}", "limits must be an object" },
		{ "{\"limits\":\"x\"}", "limits must be an object" },
		{ "{\"limits\":[]}", "limits must be an object" },
		{ "{\"limits\":true}", "limits must be an object" },
		{ "{\"limits\":{\"memory\":1}}",
		  "unknown field limits.memory (did you mean limits.memory_mb?)" },
		{ "{\"limits\":{\"\":1}}", "unknown field limits." },
		{ "{\"limits\":{\"memory_mb\":15}}", "limits.memory_mb must be from" },
		{ "{\"limits\":{\"memory_mb\":4194305}}", "limits.memory_mb" },
		{ "{\"limits\":{\"memory_mb\":\"1024\"}}", "limits.memory_mb must be a whole" },
		{ "{\"limits\":{\"memory_mb\":1e300}}", "limits.memory_mb" },
		{ "{\"limits\":{\"memory_mb\":64.5}}", "limits.memory_mb must be a whole" },
		{ "{\"limits\":{\"pids\":7}}", "limits.pids" },
		{ "{\"limits\":{\"pids\":4194305}}", "limits.pids" },
		{ "{\"limits\":{\"pids\":[]}}", "limits.pids" },
		{ "{\"limits\":{\"disk_mb\":0}}", "limits.disk_mb" },
		{ "{\"limits\":{\"disk_mb\":16777217}}", "limits.disk_mb" },
		{ "{\"limits\":{\"disk_mb\":{}}}", "limits.disk_mb" },
		{ "{\"limits\":{\"nofile\":15}}", "limits.nofile" },
		{ "{\"limits\":{\"nofile\":1048577}}", "limits.nofile" },
		{ "{\"limits\":{\"nofile\":true}}", "limits.nofile" },
		{ "{\"limits\":{\"cpu\":0}}", "limits.cpu" },
		{ "{\"limits\":{\"cpu\":0.009}}", "limits.cpu" },
		{ "{\"limits\":{\"cpu\":-1}}", "limits.cpu" },
		{ "{\"limits\":{\"cpu\":4096.01}}", "limits.cpu" },
		{ "{\"limits\":{\"cpu\":1e300}}", "limits.cpu" },
		{ "{\"limits\":{\"cpu\":\"1\"}}", "limits.cpu" },
		{ "{\"limits\":{\"cpu\":true}}", "limits.cpu" },
		{ "{\"limits\":{\"cpu\":[1]}}", "limits.cpu" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		create_fails(bad[i].body, REQ_BAD_FIELD, bad[i].needle);
}

static void test_create_env_bad(void **state)
{
	static const struct {
		const char *body, *needle;
	} bad[] = {
		{ "{\"env\":[]}", "env must be an object" },
		{ "{\"env\":[\"A=1\"]}", "env must be an object" },
		{ "{\"env\":\"A=1\"}", "env must be an object" },
		{ "{\"env\":1}", "env must be an object" },
		{ "{\"env\":{\"A\":1}}", "env.A must be a string" },
		{ "{\"env\":{\"A\":null}}", "env.A must be a string" },
		{ "{\"env\":{\"A\":true}}", "env.A must be a string" },
		{ "{\"env\":{\"A\":[\"x\"]}}", "env.A must be a string" },
		{ "{\"env\":{\"A\":{}}}", "env.A must be a string" },
		{ "{\"env\":{\"\":\"x\"}}", "invalid name" },
		{ "{\"env\":{\"A=B\":\"x\"}}", "invalid name 'A=B'" },
		{ "{\"env\":{\"=\":\"x\"}}", "invalid name" },
		/* A bad entry after good ones: the good ones are freed (LSan). */
		{ "{\"env\":{\"A\":\"1\",\"B\":\"2\",\"C\":3}}", "env.C" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		create_fails(bad[i].body, REQ_BAD_FIELD, bad[i].needle);
}

/* An "env" object with n variables named V0, V1, ... */
static char *env_body(size_t n, size_t name_len)
{
	size_t cap = 64 + n * (name_len + 32);
	char *b = malloc(cap), *p = b;

	assert_non_null(b);
	p += sprintf(p, "{\"env\":{");
	for (size_t i = 0; i < n; i++) {
		p += sprintf(p, "%s\"V%zu", i ? "," : "", i);
		for (size_t k = 0; k < name_len; k++)
			*p++ = 'x';
		p += sprintf(p, "\":\"%zu\"", i);
	}
	strcpy(p, "}}");
	return b;
}

static void test_create_env_limits(void **state)
{
	struct req_create c;
	char err[256] = "", *b;

	b = env_body(REQ_MAX_ENV, 0);
	assert_int_equal(create(b, &c, err, sizeof(err)), REQ_OK);
	assert_int_equal(c.env.n, REQ_MAX_ENV);
	assert_null(c.env.v[REQ_MAX_ENV]);
	req_create_free(&c);
	free(b);
	b = env_body(REQ_MAX_ENV + 1, 0);
	create_fails(b, REQ_BAD_FIELD, "more than");
	free(b);
	/* Names up to 1023 bytes: "V0" + 1021. */
	b = env_body(1, 1021);
	assert_int_equal(create(b, &c, err, sizeof(err)), REQ_OK);
	assert_int_equal(strlen(c.env.v[0]), 1023 + 2);
	req_create_free(&c);
	free(b);
	b = env_body(1, 1022);
	create_fails(b, REQ_BAD_FIELD, "invalid name");
	free(b);
}

static void test_env_name_ok(void **state)
{
	char name[1100];

	assert_true(req_env_name_ok("A"));
	assert_true(req_env_name_ok("PATH"));
	assert_true(req_env_name_ok("with space"));
	assert_false(req_env_name_ok(""));
	assert_false(req_env_name_ok("A=B"));
	assert_false(req_env_name_ok("="));
	assert_false(req_env_name_ok("A="));
	memset(name, 'N', sizeof(name));
	name[1023] = '\0';
	assert_true(req_env_name_ok(name));
	name[1023] = 'N';
	name[1024] = '\0';
	assert_false(req_env_name_ok(name));
}

static void test_create_desktop(void **state)
{
	static const struct {
		const char *body;
		int desktop, width, height, gl;
	} ok[] = {
		{ "{\"desktop\":false}", 0, 1280, 800, 0 },
		{ "{\"desktop\":true}", 1, 1280, 800, 0 },
		{ "{\"desktop\":null}", -1, 1280, 800, 0 },
		{ "{\"desktop\":{}}", 1, 1280, 800, 0 },
		{ "{\"desktop\":{\"width\":64,\"height\":16384}}", 1, 64, 16384, 0 },
		{ "{\"desktop\":{\"width\":800}}", 1, 800, 800, 0 },
		{ "{\"desktop\":{\"height\":600.0}}", 1, 1280, 600, 0 },
		{ "{\"desktop\":{\"width\":null}}", 1, 1280, 800, 0 },
		{ "{\"gl\":true}", -1, 1280, 800, 1 },
		{ "{\"desktop\":true,\"gl\":true}", 1, 1280, 800, 1 },
		{ "{\"desktop\":{\"gl\":true}}", 1, 1280, 800, 1 },
		{ "{\"desktop\":{\"gl\":false},\"gl\":false}", 1, 1280, 800, 0 },
		{ "{\"gl\":null}", -1, 1280, 800, 0 },
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct req_create c;
		char err[256] = "";

		if (create(ok[i].body, &c, err, sizeof(err)) != REQ_OK)
			fail_msg("create %s: %s", ok[i].body, err);
		if (c.desktop != ok[i].desktop || c.width != ok[i].width ||
		    c.height != ok[i].height || c.gl != ok[i].gl)
			fail_msg("create %s: desktop %d %dx%d gl %d", ok[i].body, c.desktop,
				 c.width, c.height, c.gl);
		req_create_free(&c);
	}
}

static void test_create_desktop_bad(void **state)
{
	static const struct {
		const char *body, *needle;
	} bad[] = {
		{ "{\"desktop\":1}", "desktop must be" },
		{ "{\"desktop\":0}", "desktop must be" },
		{ "{\"desktop\":\"yes\"}", "desktop must be" },
		{ "{\"desktop\":[]}", "desktop must be" },
		{ "{\"desktop\":[1280,800]}", "desktop must be" },
		{ "{\"desktop\":{\"width\":63}}", "desktop.width" },
		{ "{\"desktop\":{\"width\":16385}}", "desktop.width" },
		{ "{\"desktop\":{\"width\":-1280}}", "desktop.width" },
		{ "{\"desktop\":{\"width\":\"1280\"}}", "desktop.width" },
		{ "{\"desktop\":{\"width\":1280.5}}", "desktop.width" },
		{ "{\"desktop\":{\"width\":1e300}}", "desktop.width" },
		{ "{\"desktop\":{\"height\":0}}", "desktop.height" },
		{ "{\"desktop\":{\"height\":true}}", "desktop.height" },
		{ "{\"desktop\":{\"height\":4294968096}}", "desktop.height" },
		{ "{\"gl\":1}", "gl must be true or false" },
		{ "{\"gl\":\"true\"}", "gl must be true or false" },
		{ "{\"desktop\":{\"gl\":\"no\"}}", "desktop.gl must be" },
		{ "{\"desktop\":{\"session\":\"kde\"}}", "desktop.session must be" },
		{ "{\"desktop\":{\"session\":1}}", "desktop.session must be" },
		{ "{\"desktop\":{\"dpi\":23}}", "desktop.dpi" },
		{ "{\"desktop\":{\"dpi\":96.5}}", "desktop.dpi" },
		{ "{\"desktop\":{\"wallpaper\":1}}", "wallpaper" },
		{ "{\"wm\":false,\"desktop\":{\"session\":\"full\"}}", "needs its window manager" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		create_fails(bad[i].body, REQ_BAD_FIELD, bad[i].needle);
}

static void test_create_session(void **state)
{
	struct req_create c;
	char err[256] = "";

	assert_int_equal(create("{}", &c, err, sizeof(err)), REQ_OK);
	assert_int_equal(c.session, SESSION_UNSAID);   /* the server's default decides */
	assert_int_equal(c.dpi, 96);
	req_create_free(&c);
	assert_int_equal(create("{\"desktop\":{\"session\":\"bare\",\"dpi\":144}}", &c, err,
				sizeof(err)), REQ_OK);
	assert_int_equal(c.session, SESSION_BARE);
	assert_int_equal(c.dpi, 144);
	req_create_free(&c);
	assert_int_equal(create("{\"desktop\":{\"session\":\"full\"}}", &c, err, sizeof(err)), REQ_OK);
	assert_int_equal(c.session, SESSION_FULL);
	req_create_free(&c);
	/* "wm": false alone is what it always was: nothing on the screen */
	assert_int_equal(create("{\"wm\":false}", &c, err, sizeof(err)), REQ_OK);
	assert_int_equal(c.session, SESSION_BARE);
	assert_int_equal(c.wm, 0);
	req_create_free(&c);
}

static void test_create_apps(void **state)
{
	struct req_create c;
	char err[256] = "";
	char body[64 * 8 + 32], *p = body;

	p += sprintf(p, "{\"apps\":[");
	for (int i = 0; i < 64; i++)
		p += sprintf(p, "%s\"a%d\"", i ? "," : "", i);
	strcpy(p, "]}");
	assert_int_equal(create(body, &c, err, sizeof(err)), REQ_OK);
	assert_string_equal(c.apps[0], "a0");
	assert_string_equal(c.apps[63], "a63");
	assert_null(c.apps[64]);
	req_create_free(&c);
	strcpy(p, ",\"a64\"]}");
	create_fails(body, REQ_BAD_FIELD, "apps must be an array of 1 to 64");
}

static void test_create_apps_bad(void **state)
{
	static const struct {
		const char *body, *needle;
	} bad[] = {
		{ "{\"apps\":[]}", "apps must be an array" },
		{ "{\"apps\":\"xterm\"}", "apps must be an array" },
		{ "{\"apps\":{\"a\":\"xterm\"}}", "apps must be an array" },
		{ "{\"apps\":1}", "apps must be an array" },
		{ "{\"apps\":true}", "apps must be an array" },
		{ "{\"apps\":[1]}", "apps[0] must be a string" },
		{ "{\"apps\":[null]}", "apps[0] must be a string" },
		{ "{\"apps\":[\"xterm\",[\"x\"]]}", "apps[1] must be a string" },
		{ "{\"apps\":[\"a\",\"b\",{}]}", "apps[2] must be a string" },
		{ "{\"apps\":[\"xterm\",\"\"]}", "apps[1] must not be empty" },
		/* A later field failing frees env and apps built before it (LSan). */
		{ "{\"env\":{\"A\":\"1\"},\"apps\":[\"x\"],\"rootfs\":\"\"}", "rootfs" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		create_fails(bad[i].body, REQ_BAD_FIELD, bad[i].needle);
}

static void test_create_rootfs(void **state)
{
	static const char *ok[] = {
		"host", "debian", "Debian-12.5_amd64", "a", "a..b", "x-",
		"123456789012345678901234567890123456789012345678901234567890123",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct req_create c;
		char body[128], err[256] = "";

		snprintf(body, sizeof(body), "{\"rootfs\":\"%s\"}", ok[i]);
		if (create(body, &c, err, sizeof(err)) != REQ_OK)
			fail_msg("create %s: %s", body, err);
		assert_string_equal(c.rootfs, ok[i]);
		req_create_free(&c);
	}
}

static void test_create_rootfs_bad(void **state)
{
	static const char *bad[] = {
		"\"\"", "\".\"", "\"..\"", "\".hidden\"", "\"../etc\"", "\"a/b\"",
		"\"/\"", "\"/abs\"", "\"a b\"", "\"a\\\\b\"", "\"a\\nb\"", "\"a\\u0001\"",
		"\"caf\\u00e9\"", "\"a*\"", "\"a:b\"", "\"~\"",
		"\"1234567890123456789012345678901234567890123456789012345678901234\"",
		"1", "true", "[]", "{}", "[\"host\"]",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char body[128];

		snprintf(body, sizeof(body), "{\"rootfs\":%s}", bad[i]);
		create_fails(body, REQ_BAD_FIELD, "rootfs must be");
	}
}

static void test_create_err_truncated(void **state)
{
	struct req_create c;
	char *err = malloc(4);

	/* A short error buffer gets a cut message, never an overflow. */
	assert_non_null(err);
	assert_int_equal(create("{\"limits\":{\"nope\":1}}", &c, err, 4), REQ_BAD_FIELD);
	assert_string_equal(err, "unk");
	assert_int_equal(create("{", &c, err, 4), REQ_BAD_JSON);
	assert_int_equal(strlen(err), 3);
	free(err);
}

/* ---- POST /v1/sandboxes/{id}/exec ---- */

static void test_exec_cmd(void **state)
{
	struct req_exec x;
	char err[256] = "";

	assert_int_equal(exec("{\"cmd\":\"echo hi; ls /\"}", &x, err, sizeof(err)), REQ_OK);
	assert_string_equal(x.argv[0], "/bin/sh");
	assert_string_equal(x.argv[1], "-c");
	assert_string_equal(x.argv[2], "echo hi; ls /");
	assert_null(x.argv[3]);
	assert_null(x.env.v);
	assert_null(x.cwd);
	assert_null(x.stdin_data);
	assert_int_equal(x.stdin_len, 0);
	assert_int_equal(x.timeout_ms, 60000);
	req_exec_free(&x);
	req_exec_free(&x);
	/* An empty command is the shell's business. */
	assert_int_equal(exec("{\"cmd\":\"\"}", &x, err, sizeof(err)), REQ_OK);
	assert_string_equal(x.argv[2], "");
	req_exec_free(&x);
}

static void test_exec_argv(void **state)
{
	struct req_exec x;
	char err[256] = "";

	assert_int_equal(exec("{\"argv\":[\"printf\",\"%s\\n\",\"\",\"a b\"],\"cmd\":null}",
			      &x, err, sizeof(err)), REQ_OK);
	assert_string_equal(x.argv[0], "printf");
	assert_string_equal(x.argv[1], "%s\n");
	assert_string_equal(x.argv[2], "");
	assert_string_equal(x.argv[3], "a b");
	assert_null(x.argv[4]);
	req_exec_free(&x);
}

static void test_exec_all_fields(void **state)
{
	struct req_exec x;
	char err[256] = "";

	assert_int_equal(exec("{\"cmd\":\"cat\",\"env\":{\"A\":\"1\"},\"cwd\":\"/tmp\","
			      "\"stdin\":\"line\\n\\u00e9\",\"timeout_ms\":1}",
			      &x, err, sizeof(err)), REQ_OK);
	assert_int_equal(x.env.n, 1);
	assert_string_equal(x.env.v[0], "A=1");
	assert_string_equal(x.cwd, "/tmp");
	assert_int_equal(x.stdin_len, 7);
	assert_memory_equal(x.stdin_data, "line\n\xc3\xa9", 8);
	assert_int_equal(x.timeout_ms, 1);
	req_exec_free(&x);
	/* Relative cwd and an empty stdin are allowed. */
	assert_int_equal(exec("{\"cmd\":\"x\",\"cwd\":\"sub/dir\",\"stdin\":\"\","
			      "\"timeout_ms\":86400000}", &x, err, sizeof(err)), REQ_OK);
	assert_string_equal(x.cwd, "sub/dir");
	assert_non_null(x.stdin_data);
	assert_int_equal(x.stdin_len, 0);
	assert_int_equal(x.timeout_ms, 86400000);
	req_exec_free(&x);
}

static void test_exec_bad_json(void **state)
{
	struct req_exec x;
	char err[256];

	assert_int_equal(exec_n("", 0, &x, err, sizeof(err)), REQ_BAD_JSON);
	assert_null(x.argv);
	exec_fails("[\"ls\"]", REQ_BAD_JSON, "must be a JSON object");
	exec_fails("\"ls\"", REQ_BAD_JSON, NULL);
	exec_fails("{\"cmd\":\"ls\"", REQ_BAD_JSON, NULL);
	exec_fails("{\"cmd\":\"ls}", REQ_BAD_JSON, NULL);
	exec_fails("{\"cmd\":\"ls\",\"cmd\":\"rm -rf /\"}", REQ_BAD_JSON, "duplicate");
	exec_fails("{\"cmd\":\"ls\\u0000; rm -rf /\"}", REQ_BAD_JSON, NULL);
	exec_fails("{\"argv\":[\"ls\\u0000x\"]}", REQ_BAD_JSON, NULL);
	exec_fails("{\"cmd\":\"x\",\"stdin\":\"a\\u0000b\"}", REQ_BAD_JSON, NULL);
	exec_fails("{\"cmd\":\"x\",\"cwd\":\"/tmp\\u0000/etc\"}", REQ_BAD_JSON, NULL);
	exec_fails("{\"cmd\":\"\xff\"}", REQ_BAD_JSON, NULL);
}

static void test_exec_cmd_argv_choice(void **state)
{
	static const char *bad[] = {
		"{}", "{\"cmd\":null}", "{\"argv\":null}", "{\"cmd\":null,\"argv\":null}",
		"{\"cmd\":\"ls\",\"argv\":[\"ls\"]}", "{\"env\":{\"A\":\"1\"}}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		exec_fails(bad[i], REQ_BAD_FIELD, "exactly one of cmd");
}

static void test_exec_bad_fields(void **state)
{
	static const struct {
		const char *body, *needle;
	} bad[] = {
		{ "{\"cmd\":1}", "cmd must be a string" },
		{ "{\"cmd\":true}", "cmd must be a string" },
		{ "{\"cmd\":[\"ls\"]}", "cmd must be a string" },
		{ "{\"cmd\":{}}", "cmd must be a string" },
		{ "{\"argv\":\"ls -l\"}", "argv must be an array" },
		{ "{\"argv\":[]}", "argv must be an array" },
		{ "{\"argv\":{}}", "argv must be an array" },
		{ "{\"argv\":1}", "argv must be an array" },
		{ "{\"argv\":[1]}", "argv[0] must be a string" },
		{ "{\"argv\":[null]}", "argv[0] must be a string" },
		{ "{\"argv\":[\"ls\",false]}", "argv[1] must be a string" },
		{ "{\"argv\":[\"ls\",[\"-l\"]]}", "argv[1] must be a string" },
		{ "{\"argv\":[\"\"]}", "argv[0] must not be empty" },
		{ "{\"argv\":[\"\",\"x\"]}", "argv[0] must not be empty" },
		{ "{\"cmd\":\"x\",\"env\":[]}", "env must be an object" },
		{ "{\"cmd\":\"x\",\"env\":{\"A=\":\"1\"}}", "invalid name" },
		{ "{\"cmd\":\"x\",\"env\":{\"A\":2}}", "env.A must be a string" },
		{ "{\"cmd\":\"x\",\"timeout_ms\":0}", "timeout_ms must be from" },
		{ "{\"cmd\":\"x\",\"timeout_ms\":-1}", "timeout_ms" },
		{ "{\"cmd\":\"x\",\"timeout_ms\":86400001}", "timeout_ms" },
		{ "{\"cmd\":\"x\",\"timeout_ms\":\"100\"}", "timeout_ms must be a whole" },
		{ "{\"cmd\":\"x\",\"timeout_ms\":1.5}", "timeout_ms must be a whole" },
		{ "{\"cmd\":\"x\",\"timeout_ms\":1e300}", "timeout_ms" },
		{ "{\"cmd\":\"x\",\"timeout_ms\":-1e300}", "timeout_ms" },
		{ "{\"cmd\":\"x\",\"timeout_ms\":true}", "timeout_ms" },
		{ "{\"cmd\":\"x\",\"cwd\":\"\"}", "cwd must be" },
		{ "{\"cmd\":\"x\",\"cwd\":1}", "cwd must be" },
		{ "{\"cmd\":\"x\",\"cwd\":[\"/tmp\"]}", "cwd must be" },
		{ "{\"cmd\":\"x\",\"cwd\":true}", "cwd must be" },
		{ "{\"cmd\":\"x\",\"stdin\":1}", "stdin must be a string" },
		{ "{\"cmd\":\"x\",\"stdin\":[\"a\"]}", "stdin must be a string" },
		{ "{\"cmd\":\"x\",\"stdin\":{}}", "stdin must be a string" },
		{ "{\"cmd\":\"x\",\"stdin\":false}", "stdin must be a string" },
		/* A late failure frees argv, env and cwd built before it (LSan). */
		{ "{\"argv\":[\"a\",\"b\"],\"env\":{\"A\":\"1\"},\"cwd\":\"/x\",\"stdin\":7}",
		  "stdin" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		exec_fails(bad[i].body, REQ_BAD_FIELD, bad[i].needle);
}

static void test_exec_cwd_len(void **state)
{
	char *body = malloc(4096 + 64);
	struct req_exec x;
	char err[256] = "";

	assert_non_null(body);
	/* 4095 bytes of path are allowed, 4096 are not. */
	strcpy(body, "{\"cmd\":\"x\",\"cwd\":\"/");
	memset(body + strlen(body), 'c', 4094);
	strcpy(body + 19 + 4094, "\"}");
	assert_int_equal(exec(body, &x, err, sizeof(err)), REQ_OK);
	assert_int_equal(strlen(x.cwd), 4095);
	req_exec_free(&x);
	strcpy(body + 19 + 4094, "c\"}");
	exec_fails(body, REQ_BAD_FIELD, "cwd must be");
	free(body);
}

/* An argv array of n one-letter strings. */
static char *argv_body(size_t n)
{
	char *b = malloc(16 + 4 * n), *p = b;

	assert_non_null(b);
	p += sprintf(p, "{\"argv\":[");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s\"a\"", i ? "," : "");
	strcpy(p, "]}");
	return b;
}

static void test_exec_argv_count(void **state)
{
	struct req_exec x;
	char err[256] = "", *b;

	b = argv_body(REQ_MAX_ARGV);
	assert_int_equal(exec(b, &x, err, sizeof(err)), REQ_OK);
	assert_null(x.argv[REQ_MAX_ARGV]);
	req_exec_free(&x);
	free(b);
	b = argv_body(REQ_MAX_ARGV + 1);
	exec_fails(b, REQ_BAD_FIELD, "argv must be an array of 1 to 4096");
	free(b);
}

static void test_exec_big_stdin(void **state)
{
	size_t n = 1 << 20;
	char *body = malloc(n + 64);
	struct req_exec x;
	char err[256] = "";

	assert_non_null(body);
	strcpy(body, "{\"cmd\":\"wc -c\",\"stdin\":\"");
	memset(body + strlen(body), 'z', n);
	strcpy(body + 24 + n, "\"}");
	assert_int_equal(exec(body, &x, err, sizeof(err)), REQ_OK);
	assert_int_equal(x.stdin_len, n);
	assert_int_equal(x.stdin_data[n], '\0');
	req_exec_free(&x);
	free(body);
}

/* ---- POST /v1/sandboxes/{id}/timeout ---- */

static void test_timeout(void **state)
{
	long t = -7;
	char err[256] = "";

	assert_int_equal(req_parse_timeout("{\"timeout_s\":0}", 15, &t, err, sizeof(err)),
			 REQ_OK);
	assert_int_equal(t, 0);
	assert_int_equal(req_parse_timeout("{\"timeout_s\":31536000}", 22, &t, err,
					   sizeof(err)), REQ_OK);
	assert_int_equal(t, 31536000);
	assert_int_equal(req_parse_timeout("{\"timeout_s\":12.0}", 18, &t, err,
					   sizeof(err)), REQ_OK);
	assert_int_equal(t, 12);
}

/* Every body refuses keys it does not know, by path, with a hint. */
static void test_unknown_fields(void **state)
{
	static const struct {
		const char *body;
		const char *needle;
	} create_bad[] = {
		{ "{\"appz\":[\"xterm\"]}", "unknown field appz (did you mean apps?)" },
		{ "{\"desktop\":{\"w\":800,\"h\":600}}",
		  "unknown field desktop.w (did you mean desktop.width?)" },
		{ "{\"timeout\":60}", "unknown field timeout (did you mean timeout_s?)" },
		{ "{\"unknown_top_level\":[1,2,3]}", "unknown field unknown_top_level" },
		{ "{\"vnc\":{\"prot\":\"auto\"}}", "unknown field vnc.prot (did you mean vnc.port?)" },
		{ "{\"WM\":false}", "unknown field WM (did you mean wm?)" },
		{ "{\"wm\":0}", "wm must be true or false" },
	};

	for (size_t i = 0; i < sizeof(create_bad) / sizeof(create_bad[0]); i++)
		create_fails(create_bad[i].body, REQ_BAD_FIELD, create_bad[i].needle);
	exec_fails("{\"cmd\":\"true\",\"timeout\":5}", REQ_BAD_FIELD,
		   "unknown field timeout (did you mean timeout_ms?)");
	exec_fails("{\"command\":\"true\"}", REQ_BAD_FIELD, "unknown field command");
	exec_fails("{\"argv\":[\"true\"],\"std_in\":\"\"}", REQ_BAD_FIELD,
		   "unknown field std_in (did you mean stdin?)");

	long t = -7;
	char err[256] = "";

	assert_int_equal(req_parse_timeout("{\"timeout_s\":12,\"x\":1}", 22, &t, err, sizeof(err)),
			 REQ_BAD_FIELD);
	assert_string_equal(err, "unknown field x");
	assert_int_equal(req_parse_timeout("{\"timeout\":12}", 14, &t, err, sizeof(err)),
			 REQ_BAD_FIELD);
	assert_string_equal(err, "unknown field timeout (did you mean timeout_s?)");
	assert_int_equal(t, -7);

	struct req_create c;

	assert_int_equal(create("{\"wm\":false}", &c, err, sizeof(err)), REQ_OK);
	assert_int_equal(c.wm, 0);
	req_create_free(&c);
	assert_int_equal(create("{}", &c, err, sizeof(err)), REQ_OK);
	assert_int_equal(c.wm, 1);
	req_create_free(&c);
}

static void test_timeout_bad(void **state)
{
	static const struct {
		const char *body;
		enum req_result want;
		const char *needle;
	} bad[] = {
		{ "", REQ_BAD_FIELD, "timeout_s is required" },
		{ "{}", REQ_BAD_FIELD, "timeout_s is required" },
		{ "{\"timeout_s\":null}", REQ_BAD_FIELD, "timeout_s is required" },
		{ "{\"timeout\":5}", REQ_BAD_FIELD, "unknown field timeout (did you mean timeout_s?)" },
		{ "{\"timeout_s\":-1}", REQ_BAD_FIELD, "timeout_s must be from" },
		{ "{\"timeout_s\":31536001}", REQ_BAD_FIELD, "timeout_s" },
		{ "{\"timeout_s\":\"5\"}", REQ_BAD_FIELD, "timeout_s" },
		{ "{\"timeout_s\":[5]}", REQ_BAD_FIELD, "timeout_s" },
		{ "{\"timeout_s\":true}", REQ_BAD_FIELD, "timeout_s" },
		{ "{\"timeout_s\":0.1}", REQ_BAD_FIELD, "timeout_s" },
		{ "{\"timeout_s\":1e300}", REQ_BAD_FIELD, "timeout_s" },
		{ "{\"timeout_s\":-1e300}", REQ_BAD_FIELD, "timeout_s" },
		{ "{\"timeout_s\":5,\"timeout_s\":6}", REQ_BAD_JSON, "duplicate" },
		{ "[5]", REQ_BAD_JSON, NULL },
		{ "5", REQ_BAD_JSON, NULL },
		{ "{\"timeout_s\":5", REQ_BAD_JSON, NULL },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		long t = -7;
		char err[256] = "";
		enum req_result r = req_parse_timeout(bad[i].body, strlen(bad[i].body), &t,
						      err, sizeof(err));

		if (r != bad[i].want)
			fail_msg("timeout %s: result %d (%s), want %d", bad[i].body, r, err,
				 bad[i].want);
		if (bad[i].needle && !strstr(err, bad[i].needle))
			fail_msg("timeout %s: \"%s\" lacks \"%s\"", bad[i].body, err,
				 bad[i].needle);
		/* A failure leaves the output alone. */
		assert_int_equal(t, -7);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_defaults),
		cmocka_unit_test(test_create_full),
		cmocka_unit_test(test_create_bad_json),
		cmocka_unit_test(test_create_duplicate_keys),
		cmocka_unit_test(test_create_nul),
		cmocka_unit_test(test_create_deep_nesting),
		cmocka_unit_test(test_create_timeout),
		cmocka_unit_test(test_create_timeout_bad),
		cmocka_unit_test(test_create_limits),
		cmocka_unit_test(test_create_limits_bad),
		cmocka_unit_test(test_create_env_bad),
		cmocka_unit_test(test_create_env_limits),
		cmocka_unit_test(test_env_name_ok),
		cmocka_unit_test(test_create_desktop),
		cmocka_unit_test(test_create_desktop_bad),
		cmocka_unit_test(test_create_session),
		cmocka_unit_test(test_create_apps),
		cmocka_unit_test(test_create_apps_bad),
		cmocka_unit_test(test_create_rootfs),
		cmocka_unit_test(test_create_rootfs_bad),
		cmocka_unit_test(test_create_err_truncated),
		cmocka_unit_test(test_exec_cmd),
		cmocka_unit_test(test_exec_argv),
		cmocka_unit_test(test_exec_all_fields),
		cmocka_unit_test(test_exec_bad_json),
		cmocka_unit_test(test_exec_cmd_argv_choice),
		cmocka_unit_test(test_exec_bad_fields),
		cmocka_unit_test(test_exec_cwd_len),
		cmocka_unit_test(test_exec_argv_count),
		cmocka_unit_test(test_exec_big_stdin),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_timeout_bad),
		cmocka_unit_test(test_unknown_fields),
	};

	return cmocka_run_group_tests_name("req", tests, NULL, NULL);
}
