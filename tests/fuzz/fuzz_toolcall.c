/*
 * fuzz_toolcall.c - libFuzzer target for the computer-use adapters' parsing
 * of tool calls (common/toolcall.c, as server/adapt_anthropic.c and
 * adapt_openai.c use it) and, through the batches it makes, the agent's
 * action parser (desktop/actparse.c) those batches reach.
 *
 * One input is one tool call as a model's API emits it: an Anthropic
 * tool_use block or an OpenAI computer_call item (the seeds are the recorded
 * ones in tests/fixtures/). It goes through both adapters' checks; an
 * accepted computer call's batch is parsed as desktop.actions parses it. A
 * refusal says why; the batch holds the call's actions and its trailing
 * screenshot; the model size stays within the screen and 1280x800 and
 * never reaches 0. (The bash tool's output stream: fuzz_bashout.)
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actparse.h"
#include "toolcall.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static void run_batch(json_t *actions)
{
	json_t *params = json_pack("{s:O}", "actions", actions);
	struct act_list l;
	struct act_error e;

	CHECK(params);
	e.msg[0] = '\0';
	if (actparse(params, &l, &e) == 0)
		actparse_free(&l);
	else
		CHECK(e.msg[0]);
	json_decref(params);
}

static void model_size(const json_t *j)
{
	long w = (long)json_integer_value(json_object_get(j, "display_width_px"));
	long h = (long)json_integer_value(json_object_get(j, "display_height_px"));
	int sw = 1 + (int)((unsigned long)w % 16384), sh = 1 + (int)((unsigned long)h % 16384), mw, mh;

	/* A screen of any size the server allows, fitted. */
	toolcall_model_size(sw, sh, 0, 0, &mw, &mh);
	CHECK(mw >= 1 && mh >= 1 && mw <= sw && mh <= sh && mw <= 1280 && mh <= 800);
	/* The size given wins. */
	if (w >= 1 && w <= 16384 && h >= 1 && h <= 16384) {
		toolcall_model_size(sw, sh, w, h, &mw, &mh);
		CHECK(mw == w && mh == h);
	}
}

static void anthropic(const json_t *j)
{
	struct toolcall_anthropic t;
	char err[300] = "", cmd[16], path[1024], eerr[1200] = "";
	int r = toolcall_anthropic(j, &t, err, sizeof(err));

	if (r < 0) {
		CHECK((r == TOOLCALL_CALLER || r == TOOLCALL_MODEL) && err[0] && !t.action);
		return;
	}
	CHECK(json_is_object(t.input));
	switch (t.tool) {
	case TOOLCALL_COMPUTER:
		CHECK(json_is_string(json_object_get(t.action, "action")));
		for (int after = 0; after < 2; after++) {
			json_t *a = toolcall_anthropic_actions(t.action, after);
			size_t n = json_array_size(a);

			CHECK(a && n >= 1 && n <= 2 && json_array_get(a, 0) == t.action);
			CHECK(after || n == 1);
			run_batch(a);
			json_decref(a);
		}
		json_decref(t.action);
		break;
	case TOOLCALL_EDITOR:
		CHECK(!t.action);
		if (toolcall_editor(t.input, cmd, path, eerr, sizeof(eerr)) == 0)
			CHECK(path[0] == '/' && strlen(path) < 1024 && cmd[0]);
		else
			CHECK(eerr[0]);
		break;
	case TOOLCALL_BASH:
		CHECK(!t.action);
		break;
	default:
		CHECK(0);
	}
}

static void openai(const json_t *j)
{
	char err[1300] = "";
	json_t *a, *src;
	size_t n, m;

	if (toolcall_openai(j, err, sizeof(err)) < 0) {
		CHECK(err[0]);
		return;
	}
	if (toolcall_openai_acked(j, err, sizeof(err)) < 0)
		CHECK(err[0]);
	a = toolcall_openai_actions(j);
	CHECK(json_is_array(a));
	src = json_object_get(j, "actions");
	m = src ? json_array_size(src) : 1;
	n = json_array_size(a);
	CHECK(n == m || n == m + 1);
	CHECK(!strcmp(json_string_value(json_object_get(json_array_get(a, n - 1), "type")) ?: "", "screenshot"));
	run_batch(a);
	json_decref(a);
}

static void calls(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);

	if (!j)
		return;
	anthropic(j);
	openai(j);
	model_size(j);
	json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	calls(data, size);
	return 0;
}
