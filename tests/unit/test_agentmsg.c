/*
 * test_agentmsg.c - deskboxd's rules for the desktop agent's replies and
 * its checks of non-bus events: only the methods that answer with a body
 * or a file may send one, within caps; a memfd counts as sealed only with
 * all three seals; reports are rebuilt from their documented fields and
 * sizes are bounded.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agentmsg.h"
#include "agentproto.h"

static void test_rules(void **state)
{
	const struct agentmsg_rule *r = agentmsg_rule(AGENT_M_SCREENSHOT);

	assert_int_equal(r->max_body, 0);
	assert_true(r->fd);
	r = agentmsg_rule(AGENT_M_WAIT_SETTLED);
	assert_int_equal(r->max_body, 0);
	assert_true(r->fd);
	assert_int_equal(r->max_fds, 1);
	/* actions: inline JSON, its images as sealed memfds beside it */
	r = agentmsg_rule(AGENT_M_ACTIONS);
	assert_int_equal(r->max_body, 0);
	assert_int_equal(r->fd, 1);
	assert_int_equal(r->max_fds, AGENTPROTO_MAX_IMAGES);
	assert_int_equal(r->max_fd_bytes, AGENTPROTO_MAX_IMAGE_BYTES);
	r = agentmsg_rule(AGENT_M_CLIPBOARD_GET);
	assert_true(r->max_body >= 2 * (16 << 20) && r->max_body < AGENTPROTO_MAX_REPLY);
	r = agentmsg_rule(AGENT_M_WINDOWS);
	assert_int_equal(r->max_body, AGENTPROTO_MAX_REPLY_WINDOWS);
	/* small answers come inline, and a method deskboxd never calls
	 * gets nothing but an inline answer */
	for (const char *const *m = (const char *const[]){ AGENT_M_DISPLAY_GET, AGENT_M_DISPLAY_SET,
		AGENT_M_CLIPBOARD_SET, AGENT_M_VNC_ATTACH, AGENT_M_VNC_STATS, AGENT_M_EVENTS_WATCH,
		"no.such", NULL }; *m; m++) {
		r = agentmsg_rule(*m);
		assert_int_equal(r->max_body, 0);
		assert_false(r->fd);
		assert_int_equal(r->max_fds, 0);
	}
	assert_int_equal(agentmsg_rule(NULL)->max_body, 0);
}

static void test_sealed(void **state)
{
	assert_true(agentmsg_sealed(F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE));
	assert_true(agentmsg_sealed(F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL));
	assert_false(agentmsg_sealed(F_SEAL_SHRINK | F_SEAL_GROW));
	assert_false(agentmsg_sealed(F_SEAL_WRITE | F_SEAL_SEAL));
	assert_false(agentmsg_sealed(0));
	assert_false(agentmsg_sealed(-1));
}

static json_t *load(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);

	assert_non_null(j);
	return j;
}

static void test_display(void **state)
{
	json_t *j = load("{\"width\":1024,\"height\":768}");
	int w = 0, h = 0;

	assert_int_equal(agentmsg_display(j, &w, &h), 0);
	assert_int_equal(w, 1024);
	assert_int_equal(h, 768);
	json_decref(j);
	for (const char *const *bad = (const char *const[]){ "{\"width\":0,\"height\":5}",
		"{\"width\":16385,\"height\":5}", "{\"width\":4294967360,\"height\":5}",
		"{\"width\":-1,\"height\":5}", "{\"width\":5}", "{\"width\":5.0,\"height\":5}",
		"{\"width\":\"5\",\"height\":5}", NULL }; *bad; bad++) {
		j = load(*bad);
		w = h = 7;
		assert_int_equal(agentmsg_display(j, &w, &h), -1);
		assert_int_equal(w, 7);
		json_decref(j);
	}
	assert_int_equal(agentmsg_display(NULL, &w, &h), -1);
}

static void test_apps(void **state)
{
	json_t *in = load("[{\"command\":\"xterm\",\"pid\":5,\"state\":\"running\",\"exit_code\":null,"
			  "\"signal\":null,\"stderr_tail\":\"\",\"extra\":1}]");
	json_t *out = agentmsg_apps(in), *want = load("[{\"command\":\"xterm\",\"pid\":5,\"state\":"
			  "\"running\",\"exit_code\":null,\"signal\":null,\"stderr_tail\":\"\"}]");

	assert_non_null(out);
	assert_true(json_equal(out, want));
	/* a copy: nothing of the agent's objects is kept */
	assert_ptr_not_equal(json_object_get(json_array_get(out, 0), "command"),
			     json_object_get(json_array_get(in, 0), "command"));
	json_decref(out);
	json_decref(want);
	json_object_set_new(json_array_get(in, 0), "state", json_string("zombie"));
	assert_null(agentmsg_apps(in));
	json_decref(in);
	in = json_array();
	for (int i = 0; i < 65; i++)
		json_array_append_new(in, load("{\"command\":\"x\",\"pid\":1,\"state\":\"exited\","
					       "\"exit_code\":0,\"signal\":null,\"stderr_tail\":\"\"}"));
	assert_null(agentmsg_apps(in));
	json_array_remove(in, 0);
	out = agentmsg_apps(in);
	assert_int_equal(json_array_size(out), 64);
	json_decref(out);
	json_decref(in);
	assert_null(agentmsg_apps(NULL));
}

static void test_etag_and_settle(void **state)
{
	json_t *out = json_object(), *r = load("{\"settled\":true,\"waited_ms\":150,\"x\":1}");

	assert_true(agentmsg_etag_ok("a1-b2:c.d_e"));
	assert_false(agentmsg_etag_ok("a\r\nSet-Cookie: x"));
	assert_false(agentmsg_etag_ok(""));
	assert_false(agentmsg_etag_ok(NULL));
	assert_int_equal(agentmsg_settle(r, out), 0);
	assert_int_equal(json_object_size(out), 2);
	json_decref(r);
	r = load("{\"settled\":1,\"waited_ms\":150}");
	assert_int_equal(agentmsg_settle(r, out), -1);
	json_decref(r);
	r = load("{\"settled\":false,\"waited_ms\":-1}");
	assert_int_equal(agentmsg_settle(r, out), -1);
	json_decref(r);
	json_decref(out);
}

/* agentmsg_actions on text with nfds files; NULL or the rebuilt object. */
static json_t *actions(const char *text, int nfds, json_t **images)
{
	json_t *in = load(text), *out = agentmsg_actions(in, nfds, images);

	json_decref(in);
	return out;
}

static void test_actions(void **state)
{
	json_t *images[AGENTPROTO_MAX_IMAGES], *out, *want;

	/* Results and a settled screen, two images named by their places. */
	out = actions("{\"results\":[{\"ok\":true},{\"ok\":true,\"x\":5,\"y\":-3},"
		      "{\"ok\":true,\"window\":4194305},{\"ok\":true,\"image\":{\"media_type\":"
		      "\"image/jpeg\",\"fd\":1},\"width\":640,\"height\":400}],\"settled\":"
		      "{\"settled\":true,\"waited_ms\":163,\"frame\":4211,\"image\":{\"media_type\":"
		      "\"image/png\",\"fd\":0},\"width\":1280,\"height\":800}}", 2, images);
	want = load("{\"results\":[{\"ok\":true},{\"ok\":true,\"x\":5,\"y\":-3},"
		    "{\"ok\":true,\"window\":4194305},{\"ok\":true,\"image\":{\"media_type\":"
		    "\"image/jpeg\"},\"width\":640,\"height\":400}],\"settled\":{\"settled\":true,"
		    "\"waited_ms\":163,\"frame\":4211,\"image\":{\"media_type\":\"image/png\"},"
		    "\"width\":1280,\"height\":800}}");
	assert_non_null(out);
	assert_true(json_equal(out, want));
	/* images[K] is the object that stands for file K */
	assert_ptr_equal(images[0], json_object_get(json_object_get(out, "settled"), "image"));
	assert_ptr_equal(images[1], json_object_get(json_array_get(json_object_get(out, "results"), 3),
						    "image"));
	json_decref(out);
	json_decref(want);
	/* No images, and an error in place of the settled image: printable. */
	out = actions("{\"results\":[],\"settled\":{\"settled\":false,\"waited_ms\":3000,"
		      "\"frame\":1,\"error\":\"bad\\u0001\\nthing\"}}", 0, images);
	assert_non_null(out);
	assert_string_equal(json_string_value(json_object_get(json_object_get(out, "settled"), "error")),
			    "bad??thing");
	json_decref(out);
	/* Refused: a file nobody names, one named twice or out of range, an
	 * unknown field or media type, values out of range, too many. */
	for (const char *const *bad = (const char *const[]){
		"{\"results\":[{\"ok\":true}]}",
		"{\"results\":[{\"ok\":true,\"image\":{\"media_type\":\"image/png\",\"fd\":0}},"
		"{\"ok\":true,\"image\":{\"media_type\":\"image/png\",\"fd\":0}}]}",
		"{\"results\":[{\"ok\":true,\"image\":{\"media_type\":\"image/png\",\"fd\":1}}]}",
		"{\"results\":[{\"ok\":true,\"image\":{\"media_type\":\"image/png\",\"fd\":-1}}]}",
		"{\"results\":[{\"ok\":true,\"image\":{\"media_type\":\"text/html\",\"fd\":0}}]}",
		"{\"results\":[{\"ok\":true,\"image\":{\"media_type\":\"image/png\",\"fd\":0,"
		"\"data\":\"AAAA\"}}]}",
		"{\"results\":[{\"ok\":true,\"image\":{\"media_type\":\"image/png\",\"fd\":0},"
		"\"evil\":1}]}",
		"{\"results\":[{\"ok\":false,\"image\":{\"media_type\":\"image/png\",\"fd\":0}}]}",
		"{\"results\":[{\"ok\":true,\"image\":{\"media_type\":\"image/png\",\"fd\":0},"
		"\"width\":0}]}",
		"{\"results\":[],\"extra\":{},\"settled\":{\"settled\":true,\"image\":"
		"{\"media_type\":\"image/png\",\"fd\":0}}}",
		"{\"results\":[],\"settled\":{\"settled\":1,\"image\":"
		"{\"media_type\":\"image/png\",\"fd\":0}}}",
		"{\"results\":{},\"settled\":{\"settled\":true,\"image\":"
		"{\"media_type\":\"image/png\",\"fd\":0}}}",
		NULL }; *bad; bad++)
		assert_null(actions(*bad, 1, images));
	assert_null(actions("{\"results\":[]}", AGENTPROTO_MAX_IMAGES + 1, images));
	assert_null(actions("{\"results\":[{\"ok\":true,\"x\":2097152}]}", 0, images));
	assert_null(actions("{\"results\":[{\"ok\":true,\"window\":-1}]}", 0, images));
	assert_null(agentmsg_actions(NULL, 0, images));
	/* At most AGENTPROTO_MAX_ACTIONS results. */
	{
		json_t *in = json_pack("{s:[]}", "results");

		for (int i = 0; i < AGENTPROTO_MAX_ACTIONS; i++)
			json_array_append_new(json_object_get(in, "results"), json_pack("{s:b}", "ok", 1));
		out = agentmsg_actions(in, 0, images);
		assert_non_null(out);
		json_decref(out);
		json_array_append_new(json_object_get(in, "results"), json_pack("{s:b}", "ok", 1));
		assert_null(agentmsg_actions(in, 0, images));
		json_decref(in);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_sealed),
		cmocka_unit_test(test_display),
		cmocka_unit_test(test_apps),
		cmocka_unit_test(test_etag_and_settle),
		cmocka_unit_test(test_actions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
