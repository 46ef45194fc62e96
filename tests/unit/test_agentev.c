/*
 * test_agentev.c - the desktop agent's relayed events are checked as
 * hostile input: well-formed ones come out as fresh objects of their known
 * fields only; wrong types, ranges, sizes and counts are refused; names
 * that are not relayed events are left alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agentev.h"
#include "agentproto.h"

/* The result of checking the event text under name; *fields kept. */
static int check(const char *name, const char *text, json_t **fields)
{
	json_t *msg = json_loads(text, 0, NULL);
	int r;

	assert_non_null(msg);
	r = agentev_check(name, msg, fields);
	json_decref(msg);
	return r;
}

static void expect_fields(const char *name, const char *text, const char *want)
{
	json_t *fields, *w = json_loads(want, 0, NULL);

	assert_int_equal(check(name, text, &fields), 1);
	assert_true(json_equal(fields, w));
	json_decref(fields);
	json_decref(w);
}

static void expect_refused(const char *name, const char *text)
{
	json_t *fields = (json_t *)1;

	assert_int_equal(check(name, text, &fields), -1);
	assert_null(fields);
}

static void test_good_events_keep_only_their_fields(void **state)
{
	expect_fields("screen.changed",
		      "{\"event\":\"screen.changed\",\"rects\":[[0,0,10,20],[5,6,7,8]],\"frame\":9,\"x\":1}",
		      "{\"rects\":[[0,0,10,20],[5,6,7,8]],\"frame\":9}");
	expect_fields("screen.settled", "{\"frame\":9,\"quiet_ms\":150,\"extra\":[1]}",
		      "{\"frame\":9,\"quiet_ms\":150}");
	expect_fields("window.opened", "{\"window\":4194317,\"title\":\"xterm\",\"pid\":57,\"x\":0}",
		      "{\"window\":4194317,\"title\":\"xterm\",\"pid\":57}");
	expect_fields("window.closed", "{\"window\":12,\"title\":\"gone\"}", "{\"window\":12}");
	expect_fields("window.focused", "{\"window\":12,\"title\":\"\"}",
		      "{\"window\":12,\"title\":\"\"}");
	expect_fields("window.changed",
		      "{\"window\":12,\"x\":-5,\"y\":19,\"width\":300,\"height\":200,\"title\":\"t\","
		      "\"state\":{\"minimized\":false,\"maximized\":true,\"fullscreen\":false,"
		      "\"above\":false,\"sticky\":true}}",
		      "{\"window\":12,\"x\":-5,\"y\":19,\"width\":300,\"height\":200,"
		      "\"state\":{\"minimized\":false,\"maximized\":true,\"fullscreen\":false,"
		      "\"above\":false}}");
	expect_fields("clipboard.changed", "{\"text\":\"secret\"}", "{}");
}

static void test_malformed_events_are_refused(void **state)
{
	static const char *const bad[][2] = {
		{ "screen.changed", "{\"rects\":[[0,0,10,20]]}" },
		{ "screen.changed", "{\"rects\":[],\"frame\":1}" },
		{ "screen.changed", "{\"rects\":[[0,0,10]],\"frame\":1}" },
		{ "screen.changed", "{\"rects\":[[0,0,10,20,5]],\"frame\":1}" },
		{ "screen.changed", "{\"rects\":[[-1,0,10,20]],\"frame\":1}" },
		{ "screen.changed", "{\"rects\":[[0,0,0,20]],\"frame\":1}" },
		{ "screen.changed", "{\"rects\":[[0,0,70000,20]],\"frame\":1}" },
		{ "screen.changed", "{\"rects\":[[0,0,1.5,20]],\"frame\":1}" },
		{ "screen.changed", "{\"rects\":[[0,0,10,20]],\"frame\":-3}" },
		{ "screen.changed", "{\"rects\":\"all\",\"frame\":1}" },
		{ "screen.settled", "{\"frame\":1,\"quiet_ms\":0}" },
		{ "screen.settled", "{\"frame\":1,\"quiet_ms\":99999999}" },
		{ "screen.settled", "{\"frame\":\"1\",\"quiet_ms\":100}" },
		{ "window.opened", "{\"window\":1,\"title\":\"t\"}" },
		{ "window.opened", "{\"window\":0,\"title\":\"t\",\"pid\":1}" },
		{ "window.opened", "{\"window\":4294967296,\"title\":\"t\",\"pid\":1}" },
		{ "window.opened", "{\"window\":1,\"title\":5,\"pid\":1}" },
		{ "window.opened", "{\"window\":1,\"title\":\"t\",\"pid\":-1}" },
		{ "window.closed", "{\"window\":\"1\"}" },
		{ "window.focused", "{\"window\":1}" },
		{ "window.changed", "{\"window\":1,\"x\":0,\"y\":0,\"width\":1,\"height\":1}" },
		{ "window.changed", "{\"window\":1,\"x\":0,\"y\":0,\"width\":0,\"height\":1,"
				    "\"state\":{\"minimized\":false,\"maximized\":false,"
				    "\"fullscreen\":false,\"above\":false}}" },
		{ "window.changed", "{\"window\":1,\"x\":\"0\",\"y\":0,\"width\":1,\"height\":1,"
				    "\"state\":{\"minimized\":false,\"maximized\":false,"
				    "\"fullscreen\":false,\"above\":false}}" },
		{ "window.changed", "{\"window\":1,\"x\":0,\"y\":99999,\"width\":1,\"height\":1,"
				    "\"state\":{\"minimized\":false,\"maximized\":false,"
				    "\"fullscreen\":false,\"above\":false}}" },
		{ "window.changed", "{\"window\":1,\"x\":0,\"y\":0,\"width\":1,\"height\":1,"
				    "\"state\":{\"minimized\":1,\"maximized\":false,"
				    "\"fullscreen\":false,\"above\":false}}" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_refused(bad[i][0], bad[i][1]);
}

static void test_bounds_from_agentproto(void **state)
{
	char *text = malloc(64 * AGENTPROTO_MAX_RECTS + AGENTPROTO_MAX_TITLE + 128);
	json_t *fields;
	size_t n;

	assert_non_null(text);
	/* AGENTPROTO_MAX_RECTS rectangles pass, one more does not. */
	for (int extra = 0; extra < 2; extra++) {
		n = (size_t)sprintf(text, "{\"frame\":1,\"rects\":[");
		for (int i = 0; i < AGENTPROTO_MAX_RECTS + extra; i++)
			n += (size_t)sprintf(text + n, "%s[%d,0,1,1]", i ? "," : "", i);
		strcpy(text + n, "]}");
		assert_int_equal(check("screen.changed", text, &fields), extra ? -1 : 1);
		json_decref(fields);
	}
	/* A title of AGENTPROTO_MAX_TITLE bytes passes, one more does not. */
	for (int extra = 0; extra < 2; extra++) {
		n = (size_t)sprintf(text, "{\"window\":1,\"title\":\"");
		memset(text + n, 'a', AGENTPROTO_MAX_TITLE + (size_t)extra);
		strcpy(text + n + AGENTPROTO_MAX_TITLE + extra, "\"}");
		assert_int_equal(check("window.focused", text, &fields), extra ? -1 : 1);
		json_decref(fields);
	}
	free(text);
}

static void test_other_names_are_not_ours(void **state)
{
	json_t *fields = (json_t *)1;

	assert_int_equal(check("ready", "{\"display\":{}}", &fields), 0);
	assert_null(fields);
	assert_int_equal(check("display", "{}", &fields), 0);
	assert_int_equal(check("screen.changedX", "{}", &fields), 0);
	assert_int_equal(agentev_check(NULL, NULL, &fields), 0);
	assert_int_equal(agentev_check("clipboard.changed", NULL, &fields), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_events_keep_only_their_fields),
		cmocka_unit_test(test_malformed_events_are_refused),
		cmocka_unit_test(test_bounds_from_agentproto),
		cmocka_unit_test(test_other_names_are_not_ours),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
