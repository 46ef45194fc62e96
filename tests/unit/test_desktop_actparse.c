/*
 * test_desktop_actparse.c - cmocka tests of the agent's request parsing:
 * desktop/actparse.c (Anthropic and OpenAI computer-use actions, the three
 * request shapes, scale_to, and the error for each bad field with its
 * action index), desktop/shot.c (screenshot params and etags),
 * desktop/jget.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <X11/keysym.h>

#include "../../desktop/actparse.h"
#include "../../desktop/jget.h"
#include "../../desktop/shot.h"

static json_t *js(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &e);

	if (!j)
		fail_msg("bad test JSON: %s: %s", text, e.text);
	return j;
}

/* Parse text; on success keep the list in *l and return the JSON (to free
 * after). */
static json_t *parse_ok(const char *text, struct act_list *l)
{
	struct act_error e;
	json_t *j = js(text);

	if (actparse(j, l, &e) < 0)
		fail_msg("%s: %s", text, e.msg);
	return j;
}

static void parse_bad(const char *text, int index, const char *msg_part)
{
	struct act_error e;
	struct act_list l;
	json_t *j = js(text);

	if (actparse(j, &l, &e) == 0)
		fail_msg("accepted: %s", text);
	if (e.index != index)
		fail_msg("%s: index %d, want %d (%s)", text, e.index, index, e.msg);
	if (!strstr(e.msg, msg_part))
		fail_msg("%s: message '%s' lacks '%s'", text, e.msg, msg_part);
	json_decref(j);
}

static void test_shapes(void **state)
{
	struct act_list l;
	json_t *j;

	j = parse_ok("{\"action\":\"left_click\",\"coordinate\":[10,20]}", &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.v[0].kind, ACT_CLICK);
	assert_int_equal(l.v[0].button, 1);
	assert_int_equal(l.v[0].clicks, 1);
	assert_true(l.v[0].has_pos);
	assert_int_equal(l.v[0].pos.x, 10);
	assert_int_equal(l.v[0].pos.y, 20);
	assert_int_equal(l.scale_w, 0);
	actparse_free(&l);
	json_decref(j);

	j = parse_ok("[{\"action\":\"screenshot\"},{\"type\":\"screenshot\"}]", &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.v[1].kind, ACT_SCREENSHOT);
	actparse_free(&l);
	json_decref(j);

	j = parse_ok("{\"actions\":[{\"action\":\"cursor_position\"}],"
		     "\"scale_to\":{\"width\":1024,\"height\":640},\"format\":\"jpeg\",\"quality\":50}", &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.scale_w, 1024);
	assert_int_equal(l.scale_h, 640);
	assert_int_equal(l.format, SHOT_JPEG);
	assert_int_equal(l.quality, 50);
	actparse_free(&l);
	json_decref(j);

	/* scale_to beside a single action. */
	j = parse_ok("{\"action\":\"mouse_move\",\"coordinate\":[1,2],"
		     "\"scale_to\":{\"width\":640,\"height\":400}}", &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.scale_w, 640);
	assert_int_equal(l.format, SHOT_PNG);
	actparse_free(&l);
	json_decref(j);
}

static void test_anthropic_vocabulary(void **state)
{
	struct act_list l;
	json_t *j = parse_ok("["
		"{\"action\":\"right_click\"},"
		"{\"action\":\"middle_click\",\"coordinate\":[1,1]},"
		"{\"action\":\"double_click\",\"coordinate\":[2,2],\"text\":\"shift\"},"
		"{\"action\":\"triple_click\",\"coordinate\":[3,3]},"
		"{\"action\":\"left_click_drag\",\"start_coordinate\":[1,2],\"coordinate\":[30,40]},"
		"{\"action\":\"left_mouse_down\"},"
		"{\"action\":\"left_mouse_up\",\"coordinate\":[5,5]},"
		"{\"action\":\"scroll\",\"coordinate\":[5,5],\"scroll_direction\":\"left\",\"scroll_amount\":4},"
		"{\"action\":\"type\",\"text\":\"--héllo\\n\",\"delay_ms\":12},"
		"{\"action\":\"key\",\"text\":\"ctrl+a Delete\",\"repeat\":2},"
		"{\"action\":\"hold_key\",\"text\":\"shift\",\"duration\":0.5},"
		"{\"action\":\"wait\",\"duration\":1.25},"
		"{\"action\":\"zoom\",\"region\":[0,0,100,50]},"
		"{\"action\":\"focus_window\",\"title\":\"Firefox\"},"
		"{\"action\":\"focus_window\",\"window\":4194316},"
		"{\"action\":\"wait\"}"
		"]", &l);

	assert_int_equal(l.n, 16);
	assert_int_equal(l.v[0].button, 3);
	assert_false(l.v[0].has_pos);
	assert_int_equal(l.v[1].button, 2);
	assert_int_equal(l.v[2].clicks, 2);
	assert_int_equal(l.v[2].mods.n, 1);
	assert_int_equal(l.v[2].mods.sym[0], XK_Shift_L);
	assert_int_equal(l.v[3].clicks, 3);
	assert_int_equal(l.v[4].kind, ACT_DRAG);
	assert_int_equal(l.v[4].npath, 2);
	assert_int_equal(l.v[4].path[1].x, 30);
	assert_int_equal(l.v[5].kind, ACT_BUTTON);
	assert_int_equal(l.v[5].down, 1);
	assert_int_equal(l.v[6].down, 0);
	assert_true(l.v[6].has_pos);
	assert_int_equal(l.v[7].scroll_x, -4);
	assert_int_equal(l.v[7].scroll_y, 0);
	assert_int_equal(l.v[8].text_len, strlen("--héllo\n"));
	assert_int_equal(l.v[8].delay_ms, 12);
	assert_int_equal(l.v[9].nchords, 2);
	assert_int_equal(l.v[9].repeat, 2);
	assert_int_equal(l.v[9].chords[1].sym[0], XK_Delete);
	assert_int_equal(l.v[10].duration_ms, 500);
	assert_int_equal(l.v[11].duration_ms, 1250);
	assert_int_equal(l.v[12].region[2], 100);
	assert_string_equal(l.v[13].title, "Firefox");
	assert_int_equal(l.v[14].window, 4194316);
	assert_int_equal(l.v[15].duration_ms, 1000);
	actparse_free(&l);
	json_decref(j);
}

static void test_openai_vocabulary(void **state)
{
	struct act_list l;
	json_t *j = parse_ok("["
		"{\"type\":\"click\",\"x\":5,\"y\":6,\"button\":\"wheel\",\"keys\":[\"CTRL\"]},"
		"{\"type\":\"click\",\"x\":5,\"y\":6,\"button\":\"forward\"},"
		"{\"type\":\"double_click\",\"x\":7.4,\"y\":8.6},"
		"{\"type\":\"move\",\"x\":1,\"y\":2},"
		"{\"type\":\"drag\",\"path\":[{\"x\":1,\"y\":2},{\"x\":3,\"y\":4},{\"x\":5,\"y\":6}]},"
		"{\"type\":\"scroll\",\"x\":1,\"y\":2,\"scroll_x\":-30,\"scroll_y\":250},"
		"{\"type\":\"type\",\"text\":\"hi\"},"
		"{\"type\":\"keypress\",\"keys\":[\"CTRL\",\"SHIFT\",\"T\"]},"
		"{\"type\":\"keypress\",\"keys\":[\"ctrl+c\"]},"
		"{\"type\":\"wait\"},"
		"{\"type\":\"screenshot\"}"
		"]", &l);

	assert_int_equal(l.n, 11);
	assert_int_equal(l.v[0].button, 2);
	assert_int_equal(l.v[0].mods.n, 1);
	assert_int_equal(l.v[1].button, 9);
	assert_int_equal(l.v[2].clicks, 2);
	assert_int_equal(l.v[2].pos.x, 7);    /* reals are rounded */
	assert_int_equal(l.v[2].pos.y, 9);
	assert_int_equal(l.v[3].kind, ACT_MOVE);
	assert_int_equal(l.v[4].npath, 3);
	assert_int_equal(l.v[5].scroll_x, -1);   /* at least one click */
	assert_int_equal(l.v[5].scroll_y, 3);    /* 250 px: 3 clicks */
	assert_int_equal(l.v[7].kind, ACT_KEY);
	assert_int_equal(l.v[7].nchords, 1);
	assert_int_equal(l.v[7].chords[0].n, 3);
	assert_int_equal(l.v[7].chords[0].sym[2], 't');   /* folded */
	assert_int_equal(l.v[8].chords[0].n, 2);
	assert_int_equal(l.v[9].duration_ms, 1000);
	actparse_free(&l);
	json_decref(j);
}

static void test_errors_name_the_action(void **state)
{
	parse_bad("[{\"action\":\"screenshot\"},{\"action\":\"left_click\",\"coordinate\":[5]}]",
		  1, "action 1 (left_click): coordinate must be [x, y]");
	parse_bad("[{\"action\":\"mouse_move\"}]", 0, "action 0 (mouse_move): coordinate is required");
	parse_bad("[{\"action\":\"mouse_move\",\"coordinate\":[-1,5]}]", 0, "coordinate must be from 0");
	parse_bad("[{\"action\":\"mouse_move\",\"coordinate\":[\"1\",5]}]", 0, "must be a number");
	parse_bad("[{\"action\":\"fly\"}]", 0, "action 0 (fly): unknown action");
	parse_bad("[{\"type\":\"left_click\"}]", 0, "unknown action");   /* wrong vocabulary */
	parse_bad("[{\"coordinate\":[1,2]}]", 0, "must name the action");
	parse_bad("[{\"action\":5}]", 0, "must name the action");
	parse_bad("[5]", 0, "an action must be an object");
	parse_bad("[{\"action\":\"type\"}]", 0, "text is required");
	parse_bad("[{\"action\":\"type\",\"text\":\"a\\u0007b\"}]", 0, "control character U+0007 at byte 1");
	parse_bad("[{\"action\":\"type\",\"text\":\"x\",\"delay_ms\":5000}]", 0, "delay_ms must be from 0 to 1000");
	parse_bad("[{\"action\":\"key\",\"text\":\"ctrl+\"}]", 0, "ends with '+'");
	parse_bad("[{\"action\":\"key\",\"text\":\"ctrl+bogus\"}]", 0, "unknown key 'bogus'");
	parse_bad("[{\"action\":\"key\",\"text\":\"a\",\"repeat\":0}]", 0, "repeat must be from 1");
	parse_bad("[{\"action\":\"hold_key\",\"text\":\"shift\"}]", 0, "duration is required");
	parse_bad("[{\"action\":\"wait\",\"duration\":61}]", 0, "duration must be from 0 to 60");
	parse_bad("[{\"action\":\"wait\",\"duration\":\"1\"}]", 0, "duration must be a number");
	parse_bad("[{\"action\":\"scroll\",\"scroll_direction\":\"in\"}]", 0, "scroll_direction must be");
	parse_bad("[{\"action\":\"scroll\"}]", 0, "scroll_direction is required");
	parse_bad("[{\"action\":\"zoom\",\"region\":[1,2,3]}]", 0, "region must be [x0, y0, x1, y1]");
	parse_bad("[{\"action\":\"zoom\",\"region\":[5,2,5,9]}]", 0, "x0 < x1");
	parse_bad("[{\"action\":\"left_click_drag\",\"start_coordinate\":[1,2]}]", 0, "coordinate is required");
	parse_bad("[{\"action\":\"focus_window\"}]", 0, "window (an id) or title is required");
	parse_bad("[{\"action\":\"focus_window\",\"window\":0}]", 0, "window must be from 1");
	parse_bad("[{\"type\":\"click\",\"x\":1}]", 0, "x and y are required");
	parse_bad("[{\"type\":\"click\",\"x\":1,\"y\":1,\"button\":\"huge\"}]", 0, "button must be");
	parse_bad("[{\"type\":\"drag\",\"path\":[{\"x\":1,\"y\":2}]}]", 0, "path must be an array of 2");
	parse_bad("[{\"type\":\"drag\",\"path\":[{\"x\":1,\"y\":2},5]}]", 0, "path[1] must be {x, y}");
	parse_bad("[{\"type\":\"keypress\",\"keys\":[]}]", 0, "keys must be an array");
	parse_bad("[{\"type\":\"keypress\",\"keys\":[1]}]", 0, "keys must be an array");
	parse_bad("[{\"type\":\"keypress\"}]", 0, "keys is required");
	parse_bad("[{\"type\":\"scroll\",\"x\":1,\"y\":1,\"scroll_y\":1e9}]", 0, "scroll_y must be from");
	/* Request-level errors have no index. */
	parse_bad("[]", -1, "give 1 to 1000 actions");
	parse_bad("{\"actions\":[]}", -1, "give 1 to 1000 actions");
	parse_bad("{\"actions\":5}", -1, "actions must be an array");
	parse_bad("\"click\"", -1, "params must be");
	parse_bad("{\"actions\":[{\"action\":\"screenshot\"}],\"scale_to\":{\"width\":10}}", -1,
		  "scale_to must be {width, height}");
	parse_bad("{\"actions\":[{\"action\":\"screenshot\"}],\"scale_to\":{\"width\":0,\"height\":10}}", -1,
		  "width must be from 1");
	parse_bad("{\"actions\":[{\"action\":\"screenshot\"}],\"scale_to\":{\"width\":16384,\"height\":16384}}", -1,
		  "scale_to is over");
	parse_bad("{\"actions\":[{\"action\":\"screenshot\"}],\"format\":\"bmp\"}", -1, "format must be");
}

/* Shapes the vendors' reference loops send that are not in the API docs'
 * schema (sources cited in actparse.c). */
static void test_reference_loop_shapes(void **state)
{
	struct act_list l;
	json_t *j;

	/* computer_20241022 loop: left_click_drag with only coordinate drags
	 * from the current pointer. */
	j = parse_ok("{\"action\":\"left_click_drag\",\"coordinate\":[30,40]}", &l);
	assert_int_equal(l.v[0].kind, ACT_DRAG);
	assert_int_equal(l.v[0].npath, 2);
	assert_true(l.v[0].from_pointer);
	assert_int_equal(l.v[0].path[1].x, 30);
	actparse_free(&l);
	json_decref(j);
	j = parse_ok("{\"action\":\"left_click_drag\",\"start_coordinate\":[1,2],\"coordinate\":[3,4]}", &l);
	assert_false(l.v[0].from_pointer);
	actparse_free(&l);
	json_decref(j);

	/* computer_20250124 loop: "key" on a click is the held modifier, like
	 * "text". */
	static const char *const with_mod[] = {
		"{\"action\":\"left_click\",\"coordinate\":[5,5],\"key\":\"shift\"}",
		"{\"action\":\"left_click\",\"coordinate\":[5,5],\"text\":\"shift\"}",
		"{\"action\":\"double_click\",\"key\":\"shift\"}",
		"{\"action\":\"scroll\",\"scroll_direction\":\"down\",\"key\":\"shift\"}",
		"{\"action\":\"left_click_drag\",\"coordinate\":[1,1],\"key\":\"shift\"}",
	};
	for (size_t i = 0; i < sizeof with_mod / sizeof *with_mod; i++) {
		j = parse_ok(with_mod[i], &l);
		assert_int_equal(l.v[0].mods.n, 1);
		assert_int_equal(l.v[0].mods.sym[0], 0xffe1);   /* Shift_L */
		actparse_free(&l);
		json_decref(j);
	}
	j = parse_ok("{\"action\":\"right_click\",\"key\":\"ctrl+alt\"}", &l);
	assert_int_equal(l.v[0].mods.n, 2);
	actparse_free(&l);
	json_decref(j);
	parse_bad("{\"action\":\"left_click\",\"key\":\"shift\",\"text\":\"ctrl\"}", 0, "not both");
	parse_bad("{\"action\":\"left_click\",\"key\":\"nosuchkey\"}", 0, "nosuchkey");
}

/* Unknown keys are refused by path, with the closest known name. */
static void test_strict_fields(void **state)
{
	static const struct {
		const char *body;
		int index;
		const char *msg;
	} bad[] = {
		{"{\"action\":\"left_click\",\"coordinate\":[1,1],\"foo\":1}", 0, "unknown field foo"},
		{"{\"action\":\"left_click\",\"cordinate\":[1,1]}", 0,
		 "unknown field cordinate (did you mean coordinate?)"},
		{"[{\"action\":\"screenshot\"},{\"action\":\"type\",\"txt\":\"a\"}]", 1,
		 "unknown field [1].txt (did you mean [1].text?)"},
		{"{\"actions\":[{\"type\":\"click\",\"x\":1,\"y\":1,\"buton\":\"left\"}]}", 0,
		 "unknown field actions[0].buton (did you mean actions[0].button?)"},
		{"{\"actions\":[{\"type\":\"screenshot\"}],\"scale\":{}}", -1,
		 "unknown field scale (did you mean scale_to?)"},
		{"{\"actions\":[{\"type\":\"screenshot\"}],\"scale_to\":{\"width\":10,\"height\":10,\"w\":1}}", -1,
		 "unknown field scale_to.w (did you mean scale_to.width?)"},
		{"{\"type\":\"drag\",\"path\":[{\"x\":1,\"y\":1},{\"x\":2,\"y\":2,\"z\":3}]}", 0,
		 "unknown field path[1].z"},
		{"{\"type\":\"keypress\",\"keys\":[\"a\"],\"key\":\"b\"}", 0,
		 "unknown field key (did you mean keys?)"},
		{"{\"action\":\"screenshot\",\"coordinate\":[1,1]}", 0, "unknown field coordinate"},
		/* Both vocabularies' names in one object: ambiguous. */
		{"{\"action\":\"left_click\",\"type\":\"click\",\"x\":1,\"y\":1}", 0, "both"},
		{"{\"action\":\"type\",\"type\":\"type\",\"text\":\"a\"}", 0, "both"},
	};

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		parse_bad(bad[i].body, bad[i].index, bad[i].msg);

	/* A lone action may carry the request-level keys. */
	struct act_list l;
	json_t *j = parse_ok("{\"action\":\"screenshot\",\"scale_to\":{\"width\":64,\"height\":40},"
			     "\"format\":\"jpeg\",\"quality\":50}", &l);

	assert_int_equal(l.scale_w, 64);
	actparse_free(&l);
	json_decref(j);
}

static void test_too_many_actions(void **state)
{
	json_t *arr = json_array();
	struct act_error e;
	struct act_list l;

	for (int i = 0; i < ACT_MAX_ACTIONS + 1; i++)
		json_array_append_new(arr, json_pack("{ss}", "action", "cursor_position"));
	assert_int_equal(actparse(arr, &l, &e), -1);
	assert_int_equal(e.index, -1);
	json_array_remove(arr, 0);
	assert_int_equal(actparse(arr, &l, &e), 0);
	assert_int_equal(l.n, ACT_MAX_ACTIONS);
	actparse_free(&l);
	json_decref(arr);

	/* Images are capped: each is megabytes of base64 in the reply. */
	arr = json_array();
	for (int i = 0; i < ACT_MAX_IMAGES; i++)
		json_array_append_new(arr, json_pack("{ss}", "action", i % 2 ? "screenshot" : "wait"));
	assert_int_equal(actparse(arr, &l, &e), 0);
	actparse_free(&l);
	json_array_append_new(arr, json_pack("{ss}", "type", "screenshot"));
	assert_int_equal(actparse(arr, &l, &e), -1);
	assert_int_equal(e.index, ACT_MAX_IMAGES);
	assert_non_null(strstr(e.msg, "more than 16 images"));
	json_decref(arr);
}

static void test_shot_parse(void **state)
{
	struct shot_req r;
	char err[256];
	json_t *j;

	assert_int_equal(shot_parse(NULL, 1280, 800, &r, err, sizeof err), 0);
	assert_int_equal(r.format, SHOT_PNG);
	assert_int_equal(r.out_w, 1280);
	assert_int_equal(r.quality, 75);

	j = js("{\"format\":\"jpeg\",\"quality\":90,\"region\":{\"x\":100,\"y\":50,\"w\":640,\"h\":400},"
	       "\"width\":320,\"cursor\":true,\"if_none_match\":\"abc\"}");
	assert_int_equal(shot_parse(j, 1280, 800, &r, err, sizeof err), 0);
	assert_int_equal(r.format, SHOT_JPEG);
	assert_int_equal(r.quality, 90);
	assert_int_equal(r.region.x, 100);
	assert_int_equal(r.region.h, 400);
	assert_int_equal(r.out_w, 320);
	assert_int_equal(r.out_h, 200);
	assert_true(r.cursor);
	assert_string_equal(r.if_none_match, "abc");
	json_decref(j);

	static const char *const bad[] = {
		"{\"format\":\"webp\"}", "{\"quality\":101}", "{\"quality\":\"high\"}",
		"{\"region\":{\"x\":1280,\"y\":0,\"w\":1,\"h\":1}}",
		"{\"region\":{\"x\":1000,\"y\":0,\"w\":281,\"h\":1}}",
		"{\"region\":{\"x\":0,\"y\":0,\"w\":0,\"h\":1}}", "{\"region\":5}",
		"{\"width\":0}", "{\"height\":99999}", "{\"cursor\":1}", "{\"if_none_match\":7}", "[]",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		j = js(bad[i]);
		if (shot_parse(j, 1280, 800, &r, err, sizeof err) == 0)
			fail_msg("accepted %s", bad[i]);
		json_decref(j);
	}
}

static void test_etag(void **state)
{
	struct shot_req a, b;
	char e1[SHOT_ETAG_LEN], e2[SHOT_ETAG_LEN];

	shot_default(&a, 1280, 800);
	b = a;
	shot_etag(&a, 42, 7, 0, e1);
	shot_etag(&b, 42, 7, 99, e2);   /* cursor key ignored without cursor */
	assert_string_equal(e1, e2);
	shot_etag(&a, 42, 8, 0, e2);
	assert_string_not_equal(e1, e2);
	shot_etag(&a, 43, 7, 0, e2);
	assert_string_not_equal(e1, e2);
	b.format = SHOT_JPEG;
	shot_etag(&b, 42, 7, 0, e2);
	assert_string_not_equal(e1, e2);
	b = a;
	b.out_w = 640;
	shot_etag(&b, 42, 7, 0, e2);
	assert_string_not_equal(e1, e2);
	b = a;
	b.quality = 10;   /* PNG ignores quality */
	shot_etag(&b, 42, 7, 0, e2);
	assert_string_equal(e1, e2);
	b.cursor = 1;
	shot_etag(&b, 42, 7, 1, e1);
	shot_etag(&b, 42, 7, 2, e2);
	assert_string_not_equal(e1, e2);
	assert_true(strlen(e1) < SHOT_ETAG_LEN);
}

static void test_jget(void **state)
{
	json_t *o = js("{\"i\":5,\"r\":2.6,\"neg\":-3,\"s\":\"x\",\"b\":true,\"n\":null,\"big\":1e300}");
	char err[128];
	long v;
	double d;
	int b;
	const char *s;

	assert_int_equal(jget_int(o, "i", 0, 10, 0, &v, err, sizeof err), 0);
	assert_int_equal(v, 5);
	assert_int_equal(jget_int(o, "r", 0, 10, 0, &v, err, sizeof err), 0);
	assert_int_equal(v, 3);
	assert_int_equal(jget_int(o, "missing", 0, 10, 7, &v, err, sizeof err), 0);
	assert_int_equal(v, 7);
	assert_int_equal(jget_int(o, "n", 0, 10, 7, &v, err, sizeof err), 0);
	assert_int_equal(v, 7);
	assert_int_equal(jget_int(o, "neg", 0, 10, 0, &v, err, sizeof err), -1);
	assert_string_equal(err, "neg must be from 0 to 10");
	assert_int_equal(jget_int(o, "big", 0, 10, 0, &v, err, sizeof err), -1);
	assert_int_equal(jget_int(o, "s", 0, 10, 0, &v, err, sizeof err), -1);
	assert_string_equal(err, "s must be a number");
	assert_int_equal(jget_real(o, "r", 0, 3, 0, &d, err, sizeof err), 0);
	assert_true(d > 2.59 && d < 2.61);
	assert_int_equal(jget_bool(o, "b", 0, &b, err, sizeof err), 0);
	assert_true(b);
	assert_int_equal(jget_bool(o, "i", 0, &b, err, sizeof err), -1);
	assert_int_equal(jget_string(o, "s", 1, &s, NULL, err, sizeof err), 0);
	assert_string_equal(s, "x");
	assert_int_equal(jget_string(o, "missing", 1, &s, NULL, err, sizeof err), -1);
	assert_string_equal(err, "missing is required");
	json_decref(o);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_anthropic_vocabulary),
		cmocka_unit_test(test_openai_vocabulary),
		cmocka_unit_test(test_errors_name_the_action),
		cmocka_unit_test(test_reference_loop_shapes),
		cmocka_unit_test(test_strict_fields),
		cmocka_unit_test(test_too_many_actions),
		cmocka_unit_test(test_shot_parse),
		cmocka_unit_test(test_etag),
		cmocka_unit_test(test_jget),
	};

	return cmocka_run_group_tests_name("desktop_actparse", tests, NULL, NULL);
}
