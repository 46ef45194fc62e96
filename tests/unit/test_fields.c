/*
 * test_fields.c - cmocka tests of common/fields.c: unknown keys of request
 * objects are refused by path, with a did-you-mean hint only when a known
 * name is plausibly what the client meant.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fields.h"

static const char *const create_keys[] = {
	"timeout_s", "limits", "env", "rootfs", "desktop", "apps", "gl", "vnc", "wm", NULL,
};
static const char *const size_keys[] = { "width", "height", "gl", "wm", NULL };

/* Check body's object at path; want is NULL for "accepted" or the exact message. */
static void check(const char *body, const char *path, const char *const *known,
		  const char *want)
{
	json_error_t je;
	json_t *obj = json_loads(body, JSON_DECODE_ANY, &je);
	char err[256] = "";
	int r;

	if (!obj)
		fail_msg("bad test JSON %s: %s", body, je.text);
	r = fields_check(obj, path, known, err, sizeof(err));
	json_decref(obj);
	if (!want) {
		if (r != 0)
			fail_msg("%s: refused with \"%s\"", body, err);
		return;
	}
	if (r != -1)
		fail_msg("%s: accepted, want \"%s\"", body, want);
	if (strcmp(err, want))
		fail_msg("%s: \"%s\", want \"%s\"", body, err, want);
}

static void test_known_keys_pass(void **state)
{
	check("{}", "", create_keys, NULL);
	check("{\"timeout_s\":1,\"apps\":[],\"wm\":false}", "", create_keys, NULL);
	check("{\"width\":1,\"height\":2}", "desktop", size_keys, NULL);
	/* Not an object: nothing to check (the caller reports the type). */
	check("[1,2]", "", create_keys, NULL);
	check("\"x\"", "", create_keys, NULL);
}

static void test_unknown_with_hint(void **state)
{
	check("{\"appz\":[\"xterm\"]}", "", create_keys,
	      "unknown field appz (did you mean apps?)");
	check("{\"w\":800,\"h\":600}", "desktop", size_keys,
	      "unknown field desktop.w (did you mean desktop.width?)");
	check("{\"timeout\":60}", "", create_keys,
	      "unknown field timeout (did you mean timeout_s?)");
	check("{\"Rootfs\":\"host\"}", "", create_keys,
	      "unknown field Rootfs (did you mean rootfs?)");
	check("{\"lmiits\":{}}", "", create_keys,
	      "unknown field lmiits (did you mean limits?)");
	check("{\"hieght\":1}", "desktop", size_keys,
	      "unknown field desktop.hieght (did you mean desktop.height?)");
}

static void test_unknown_without_hint(void **state)
{
	check("{\"foo\":1}", "", create_keys, "unknown field foo");
	check("{\"apps\":[],\"memory\":512}", "", create_keys, "unknown field memory");
	check("{\"x\":1}", "actions[3]", size_keys, "unknown field actions[3].x");
	/* No list at all: every key is unknown. */
	check("{\"a\":1}", "", NULL, "unknown field a");
	const char *const none[] = { NULL };

	check("{\"a\":1}", "p", none, "unknown field p.a");
}

static void test_hostile_keys(void **state)
{
	/* Control bytes are not echoed raw. */
	check("{\"a\\u0001b\":1}", "", create_keys, "unknown field a?b");
	/* (jansson refuses a NUL inside a key before we see it.) */

	/* A very long key is shown cut, at a UTF-8 character boundary. */
	char body[2048], want[256];
	size_t n = 0;

	n += (size_t)snprintf(body + n, sizeof(body) - n, "{\"");
	for (int i = 0; i < 63; i++)
		body[n++] = 'k';
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "\xc3\xa9");
	snprintf(body + n, sizeof(body) - n, "\":1}");
	snprintf(want, sizeof(want), "unknown field %.63s...",
		 "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk");
	check(body, "", create_keys, want);

	/* Small error buffers truncate, never overflow. */
	json_t *obj = json_loads("{\"appz\":1}", 0, NULL);
	char err[8];

	assert_int_equal(fields_check(obj, "", create_keys, err, sizeof(err)), -1);
	assert_string_equal(err, "unknown");
	json_decref(obj);
}

static void test_closest(void **state)
{
	const char *const k[] = { "coordinate", "start_coordinate", "text", "scroll_x", "scroll_y",
				  "duration", "type", "action", NULL };

	assert_string_equal(fields_closest("cordinate", k), "coordinate");
	assert_string_equal(fields_closest("coord", k), "coordinate");
	assert_string_equal(fields_closest("TEXT", k), "text");
	assert_string_equal(fields_closest("scroll_z", k), "scroll_x");
	assert_string_equal(fields_closest("acton", k), "action");
	assert_null(fields_closest("foo", k));
	assert_null(fields_closest("", k));
	assert_null(fields_closest("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", k));
	assert_null(fields_closest("text", NULL));
	/* A known name with something added. */
	const char *const e[] = { "cmd", "argv", "cwd", "env", NULL };

	assert_string_equal(fields_closest("cwdir", e), "cwd");
	assert_string_equal(fields_closest("envs", e), "env");
	/* One or two letters: only as the start of a name. */
	const char *const xy[] = { "x", "y", "width", NULL };

	assert_null(fields_closest("z", xy));
	assert_null(fields_closest("xx", xy));
	assert_string_equal(fields_closest("w", xy), "width");
	assert_string_equal(fields_closest("wi", xy), "width");
}

static void test_path(void **state)
{
	char out[16];

	fields_path(out, sizeof(out), "", "k");
	assert_string_equal(out, "k");
	fields_path(out, sizeof(out), NULL, "k");
	assert_string_equal(out, "k");
	fields_path(out, sizeof(out), "a[1]", "k");
	assert_string_equal(out, "a[1].k");
	fields_path(out, 4, "abc", "def");
	assert_string_equal(out, "abc");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_keys_pass),
		cmocka_unit_test(test_unknown_with_hint),
		cmocka_unit_test(test_unknown_without_hint),
		cmocka_unit_test(test_hostile_keys),
		cmocka_unit_test(test_closest),
		cmocka_unit_test(test_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
