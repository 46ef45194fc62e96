/*
 * test_toolcall.c - cmocka tests of common/toolcall.c: vendor tool calls
 * checked and mapped onto action batches as the adapters run them, the
 * model size, and the bash tool's output cut at its sentinel.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "textedit.h"
#include "toolcall.h"

static json_t *J(const char *s)
{
	json_t *j = json_loads(s, 0, NULL);

	assert_non_null(j);
	return j;
}

static int anth(const char *s, struct toolcall_anthropic *t, char *err)
{
	json_t *j = J(s);
	int r = toolcall_anthropic(j, t, err, 300);

	json_decref(j);
	return r;
}

static void test_anthropic_computer(void **state)
{
	struct toolcall_anthropic t;
	char err[300];
	json_t *j = J("{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"computer\","
		      "\"input\":{\"action\":\"left_click\",\"coordinate\":[5,6]}}"), *a;

	(void)state;
	assert_int_equal(toolcall_anthropic(j, &t, err, sizeof(err)), 0);
	assert_int_equal(t.tool, TOOLCALL_COMPUTER);
	a = toolcall_anthropic_actions(t.action, 1);
	assert_int_equal(json_array_size(a), 2);   /* the click, then what it did */
	assert_string_equal(json_string_value(json_object_get(json_array_get(a, 1), "action")), "screenshot");
	json_decref(a);
	a = toolcall_anthropic_actions(t.action, 0);
	assert_int_equal(json_array_size(a), 1);
	json_decref(a);
	json_decref(t.action);
	json_decref(j);

	/* A screenshot (or zoom, wait) shows itself: nothing added. */
	j = J("{\"action\":\"zoom\",\"region\":[0,0,10,10]}");
	a = toolcall_anthropic_actions(j, 1);
	assert_int_equal(json_array_size(a), 1);
	json_decref(a);
	json_decref(j);
}

static void test_anthropic_toolset(void **state)
{
	struct toolcall_anthropic t;
	char err[300];

	(void)state;
	assert_int_equal(anth("{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"mouse_move\",\"toolset_name\":"
			      "\"computer\",\"input\":{\"coordinate\":[1,2]}}", &t, err), 0);
	assert_string_equal(json_string_value(json_object_get(t.action, "action")), "mouse_move");
	assert_non_null(json_object_get(t.action, "coordinate"));
	json_decref(t.action);
	/* The member's name is the action: one in its input is the model's mistake. */
	assert_int_equal(anth("{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"mouse_move\",\"toolset_name\":"
			      "\"computer\",\"input\":{\"action\":\"x\"}}", &t, err), TOOLCALL_MODEL);
	assert_int_equal(anth("{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"a\",\"toolset_name\":\"other\","
			      "\"input\":{}}", &t, err), TOOLCALL_CALLER);
	assert_non_null(strstr(err, "unknown toolset other"));
}

static void test_anthropic_refusals(void **state)
{
	struct toolcall_anthropic t;
	char err[300];

	(void)state;
	assert_int_equal(anth("{\"type\":\"text\",\"id\":\"t\",\"name\":\"bash\",\"input\":{}}", &t, err),
			 TOOLCALL_CALLER);
	assert_non_null(strstr(err, "type must be"));
	assert_int_equal(anth("{\"type\":\"tool_use\",\"id\":1,\"name\":\"bash\",\"input\":{}}", &t, err),
			 TOOLCALL_CALLER);
	assert_int_equal(anth("{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"bash\",\"input\":[]}", &t, err),
			 TOOLCALL_CALLER);
	assert_string_equal(err, "input must be an object");
	assert_int_equal(anth("{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"computer\",\"input\":{}}", &t, err),
			 TOOLCALL_MODEL);
	assert_string_equal(err, "Parameter `action` is required");
	assert_int_equal(anth("{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"web\",\"input\":{}}", &t, err),
			 TOOLCALL_CALLER);
	assert_non_null(strstr(err, "unknown tool web"));
	assert_int_equal(anth("{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"bash\",\"input\":{}}", &t, err), 0);
	assert_int_equal(t.tool, TOOLCALL_BASH);
	assert_int_equal(anth("{\"type\":\"tool_use\",\"id\":\"t\",\"name\":\"str_replace_editor\",\"input\":{}}",
			      &t, err), 0);
	assert_int_equal(t.tool, TOOLCALL_EDITOR);
}

static int editor(const char *s, char *err)
{
	char cmd[16], path[1024];
	json_t *j = J(s);
	int r = toolcall_editor(j, cmd, path, err, 1200);

	json_decref(j);
	return r;
}

static void test_editor(void **state)
{
	char err[1200];

	(void)state;
	assert_int_equal(editor("{\"command\":\"view\",\"path\":\"/etc\"}", err), 0);
	assert_int_equal(editor("{\"path\":\"/etc\"}", err), TOOLCALL_MODEL);
	assert_string_equal(err, "Parameter `command` is required");
	assert_int_equal(editor("{\"command\":\"undo_edit\",\"path\":\"/a\"}", err), TOOLCALL_MODEL);
	assert_non_null(strstr(err, "Unrecognized command undo_edit"));
	assert_int_equal(editor("{\"command\":\"view\",\"path\":\"etc\"}", err), TOOLCALL_MODEL);
	assert_non_null(strstr(err, "Maybe you meant /etc?"));
	assert_int_equal(editor("{\"command\":\"create\",\"path\":\"/a\"}", err), TOOLCALL_MODEL);
	assert_int_equal(editor("{\"command\":\"str_replace\",\"path\":\"/a\",\"old_str\":\"\"}", err),
			 TOOLCALL_MODEL);
	assert_non_null(strstr(err, "must not be empty"));
	assert_int_equal(editor("{\"command\":\"insert\",\"path\":\"/a\",\"insert_line\":1}", err), TOOLCALL_MODEL);
	assert_int_equal(editor("{\"command\":\"insert\",\"path\":\"/a\",\"insert_line\":1,\"new_str\":\"x\"}",
				err), 0);
}

static void test_openai(void **state)
{
	char err[1300];
	json_t *j = J("{\"type\":\"computer_call\",\"call_id\":\"c\",\"actions\":[{\"type\":\"click\",\"x\":1,"
		      "\"y\":2},{\"type\":\"type\",\"text\":\"hi\"}]}"), *a;

	(void)state;
	assert_int_equal(toolcall_openai(j, err, sizeof(err)), 0);
	assert_int_equal(toolcall_openai_acked(j, err, sizeof(err)), 0);
	a = toolcall_openai_actions(j);
	assert_int_equal(json_array_size(a), 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(a, 2), "type")), "screenshot");
	json_decref(a);
	json_decref(j);
	/* A batch ending in a screenshot gets no second one. */
	j = J("{\"type\":\"computer_call\",\"call_id\":\"c\",\"action\":{\"type\":\"screenshot\"}}");
	a = toolcall_openai_actions(j);
	assert_int_equal(json_array_size(a), 1);
	json_decref(a);
	json_decref(j);

	j = J("{\"type\":\"computer_call\",\"call_id\":\"c\",\"action\":{},\"actions\":[]}");
	assert_int_equal(toolcall_openai(j, err, sizeof(err)), TOOLCALL_CALLER);
	assert_non_null(strstr(err, "either action"));
	json_decref(j);
	j = J("{\"type\":\"computer_call\",\"action\":{}}");
	assert_int_equal(toolcall_openai(j, err, sizeof(err)), TOOLCALL_CALLER);
	assert_string_equal(err, "call_id is required");
	json_decref(j);
}

static void test_openai_safety(void **state)
{
	char err[1300];
	json_t *j = J("{\"pending_safety_checks\":[{\"id\":\"sc1\",\"code\":\"malicious_instructions\","
		      "\"message\":\"m\"},{\"id\":\"sc2\"}],\"acknowledged_safety_checks\":[{\"id\":\"sc2\"}]}");

	(void)state;
	assert_int_equal(toolcall_openai_acked(j, err, sizeof(err)), TOOLCALL_CALLER);
	assert_non_null(strstr(err, "malicious_instructions (sc1): m"));
	assert_null(strstr(err, "sc2"));
	json_decref(j);
	j = J("{\"pending_safety_checks\":[{\"id\":\"sc1\"}],\"acknowledged_safety_checks\":[{\"id\":\"sc1\"}]}");
	assert_int_equal(toolcall_openai_acked(j, err, sizeof(err)), 0);
	json_decref(j);
}

static void test_model_size(void **state)
{
	int w, h;

	(void)state;
	toolcall_model_size(1920, 1080, 0, 0, &w, &h);
	assert_int_equal(w, 1280);
	assert_int_equal(h, 720);
	toolcall_model_size(1024, 768, 0, 0, &w, &h);
	assert_int_equal(w, 1024);
	assert_int_equal(h, 768);
	toolcall_model_size(1024, 768, 800, 600, &w, &h);
	assert_int_equal(w, 800);
	assert_int_equal(h, 600);
	/* A screen 1 pixel wide stays at least 1 wide. */
	toolcall_model_size(1, 16384, 0, 0, &w, &h);
	assert_int_equal(w, 1);
	assert_int_equal(h, 800);
}

#define SENT "<<exit-abc>>"

static void test_out_split_sentinel(void **state)
{
	struct toolcall_out b = {0};
	char *s;

	(void)state;
	assert_int_equal(toolcall_out_append(&b, SENT, "hello\n<<ex", 10), 0);
	assert_int_equal(toolcall_out_append(&b, SENT, "it-abc>>\nmore", 13), 1);
	assert_int_equal(b.len, 6);
	s = toolcall_out_take(&b);
	assert_string_equal(s, "hello");   /* its trailing newline dropped */
	free(s);
	/* Done: later bytes are not taken. */
	assert_int_equal(toolcall_out_append(&b, SENT, "x", 1), 1);
	assert_int_equal(b.len, 6);
	toolcall_out_clear(&b);
	assert_null(b.data);
}

static void test_out_clipped(void **state)
{
	struct toolcall_out b = {0};
	size_t big = TOOLCALL_OUT_MAX / 2 + 1000;
	char *chunk = malloc(big), *s;

	(void)state;
	memset(chunk, 'a', big);
	for (int i = 0; i < 3; i++)
		assert_int_equal(toolcall_out_append(&b, SENT, chunk, big), 0);
	assert_true(b.len <= TOOLCALL_OUT_MAX);
	assert_int_equal(toolcall_out_append(&b, SENT, SENT, strlen(SENT)), 1);
	s = toolcall_out_take(&b);
	assert_int_equal(strncmp(s + TEXTEDIT_MAX_RESPONSE, "<response clipped>", 18), 0);
	free(s);
	toolcall_out_clear(&b);
	free(chunk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_anthropic_computer),
		cmocka_unit_test(test_anthropic_toolset),
		cmocka_unit_test(test_anthropic_refusals),
		cmocka_unit_test(test_editor),
		cmocka_unit_test(test_openai),
		cmocka_unit_test(test_openai_safety),
		cmocka_unit_test(test_model_size),
		cmocka_unit_test(test_out_split_sentinel),
		cmocka_unit_test(test_out_clipped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
