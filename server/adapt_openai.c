/*
 * adapt_openai.c - OpenAI's computer-use tool calls, as the Responses API
 * emits them, run against a sandbox: the rows openai.computer_call (a
 * computer_call item in, the computer_call_output item the next request
 * needs out) and openai.tools (the tool definition to send).
 *
 * Both shapes in use: the GA `computer` tool's batched `actions` and the
 * preview tool's single `action`. The batch runs as one desktop.actions
 * call ending in a screenshot, scaled to the size the model sees (the
 * preview tool's display_width/display_height given with the call, else
 * the screen fitted within 1280x800) with coordinates mapped back. Pending
 * safety checks are never acknowledged here: a call that carries any runs
 * only when the caller passes them back in acknowledged_safety_checks (its
 * user said yes), and the output item carries that acknowledgement on.
 * Loop thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapt_sub.h"
#include "op.h"
#include "toolcall.h"
#include "util.h"

static void oai_done(struct op_call *c, struct op_call *sub, void *arg)
{
	json_t *results = json_object_get(sub->result, "results"), *img = NULL, *out, *acks;
	const char *mt, *data;
	char *url;
	size_t i;
	json_t *one;

	if (sub->err != OPERR_OK) {
		c->index = sub->index;
		return op_fail(c, sub->err, "%s", sub->msg);
	}
	json_array_foreach(results, i, one)
		if (json_object_get(one, "image"))
			img = json_object_get(one, "image");
	mt = json_string_value(json_object_get(img, "media_type"));
	data = json_string_value(json_object_get(img, "data"));
	if (!mt || !data)
		return op_fail(c, OPERR_INTERNAL, "the batch answered no screenshot");
	if (asprintf(&url, "data:%s;base64,%s", mt, data) < 0)
		return op_fail(c, OPERR_INTERNAL, "out of memory");
	out = json_pack("{s:s,s:O,s:{s:s,s:s}}", "type", "computer_call_output", "call_id",
			json_object_get(c->params, "call_id"), "output", "type", "computer_screenshot", "image_url", url);
	free(url);
	acks = json_object_get(c->params, "acknowledged_safety_checks");
	if (json_array_size(acks))
		json_object_set(out, "acknowledged_safety_checks", acks);
	op_ok(c, out);
}

static void run_computer_call(struct op_call *c)
{
	json_t *actions, *params;
	int sw, sh, mw, mh;
	long w = 0, h = 0;
	char err[1300];

	if (toolcall_openai(c->params, err, sizeof(err)) < 0)
		return op_fail(c, OPERR_BAD_REQUEST, "%s", err);
	if (op_param_int(c, "display_width", 1, 16384, &w) < 0 || op_param_int(c, "display_height", 1, 16384, &h) < 0)
		return;
	if (toolcall_openai_acked(c->params, err, sizeof(err)) < 0)
		return op_fail(c, OPERR_BAD_REQUEST, "%s", err);
	if (adapt_sub_screen(c, &sw, &sh) < 0)
		return op_fail(c, OPERR_NO_DESKTOP, "the sandbox has no desktop for the computer tool");
	adapt_sub_size(c, sw, sh, w, h, &mw, &mh);
	actions = toolcall_openai_actions(c->params);
	if (!actions)
		return op_fail(c, OPERR_INTERNAL, "out of memory");
	params = json_pack("{s:o}", "actions", actions);
	if (mw != sw || mh != sh)
		json_object_set_new(params, "scale_to", json_pack("{s:i,s:i}", "width", mw, "height", mh));
	adapt_sub_start(c, "desktop.actions", params, NULL, 0, oai_done, NULL, NULL);
}

static void run_tools(struct op_call *c)
{
	const char *version = NULL;
	int sw, sh, mw, mh;
	long w = 0, h = 0;

	if (op_param_str(c, "version", 0, &version) < 0 || op_param_int(c, "display_width", 1, 16384, &w) < 0 ||
	    op_param_int(c, "display_height", 1, 16384, &h) < 0)
		return;
	if (!version || !strcmp(version, "computer"))
		return op_ok(c, json_pack("{s:[{s:s}]}", "tools", "type", "computer"));
	if (strcmp(version, "computer_use_preview"))
		return op_fail(c, OPERR_BAD_REQUEST, "version must be computer or computer_use_preview");
	if (adapt_sub_screen(c, &sw, &sh) < 0)
		return op_fail(c, OPERR_NO_DESKTOP, "the sandbox has no desktop for the computer tool");
	adapt_sub_size(c, sw, sh, w, h, &mw, &mh);
	op_ok(c, json_pack("{s:[{s:s,s:i,s:i,s:s}]}", "tools", "type", "computer_use_preview", "display_width", mw,
			   "display_height", mh, "environment", "linux"));
}

#define SIZE_PROPS \
	"\"display_width\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"the width the model was " \
	"told (default: the screen fitted within 1280x800)\"}," \
	"\"display_height\":{\"type\":\"integer\",\"minimum\":1}"

const struct op adapt_openai_rows[] = {
	{ "openai.computer_call", "Run an OpenAI computer_call item (GA actions[] or preview action); answers its "
	  "computer_call_output item.",
	  "{\"type\":\"object\",\"required\":[\"sandbox\",\"type\",\"call_id\"],\"additionalProperties\":false,"
	  "\"properties\":{\"sandbox\":{\"type\":\"string\"},\"type\":{\"const\":\"computer_call\"},"
	  "\"id\":{\"type\":\"string\"},\"call_id\":{\"type\":\"string\"},\"action\":{\"type\":\"object\"},"
	  "\"actions\":{\"type\":\"array\",\"items\":{\"type\":\"object\"}},\"status\":{\"type\":\"string\"},"
	  "\"pending_safety_checks\":{\"type\":\"array\",\"items\":{\"type\":\"object\"}},"
	  "\"acknowledged_safety_checks\":{\"type\":\"array\",\"items\":{\"type\":\"object\"},\"description\":"
	  "\"the pending checks your user agreed to; without them such a call does not run\"}," SIZE_PROPS "}}",
	  OPF_SANDBOX | OPF_RUNNING | OPF_CONTROL, run_computer_call },
	{ "openai.tools", "The computer tool definition to send to the Responses API for this sandbox.",
	  "{\"type\":\"object\",\"required\":[\"sandbox\"],\"additionalProperties\":false,"
	  "\"properties\":{\"sandbox\":{\"type\":\"string\"},\"version\":{\"enum\":[\"computer\","
	  "\"computer_use_preview\"],\"default\":\"computer\"}," SIZE_PROPS "}}",
	  OPF_SANDBOX | OPF_RUNNING | OPF_CONTROL, run_tools },
	{ NULL, NULL, NULL, 0, NULL },
};
