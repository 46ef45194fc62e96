/*
 * toolcall.c - a model's tool calls checked and mapped onto action batches,
 * and the bash tool's output cut at its sentinel (see toolcall.h). Pure:
 * no I/O, no globals; the adapters in server/ run what this returns.
 */
#include "toolcall.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textedit.h"

/* The computer tool's actions that answer an image themselves. */
static int toolcall_shows(const char *action)
{
	return !strcmp(action, "screenshot") || !strcmp(action, "zoom") || !strcmp(action, "wait") ||
	       !strcmp(action, "cursor_position");
}

int toolcall_anthropic(const json_t *block, struct toolcall_anthropic *out, char *err, size_t cap)
{
	const char *type = json_string_value(json_object_get(block, "type"));
	const char *name = json_string_value(json_object_get(block, "name"));
	const char *toolset = json_string_value(json_object_get(block, "toolset_name"));
	json_t *in = json_object_get(block, "input");

	memset(out, 0, sizeof(*out));
	if (!type || strcmp(type, "tool_use")) {
		snprintf(err, cap, "type must be \"tool_use\" (send the block as the API returned it)");
		return TOOLCALL_CALLER;
	}
	if (!json_is_string(json_object_get(block, "id")) || !name) {
		snprintf(err, cap, "a tool_use block has a string id and name");
		return TOOLCALL_CALLER;
	}
	if (!json_is_object(in)) {
		snprintf(err, cap, "input must be an object");
		return TOOLCALL_CALLER;
	}
	out->input = in;
	if (toolset) {
		if (strcmp(toolset, "computer")) {
			snprintf(err, cap, "unknown toolset %.100s (this adapter runs the computer toolset)",
				 toolset);
			return TOOLCALL_CALLER;
		}
		if (json_object_get(in, "action")) {
			snprintf(err, cap, "a toolset member's input has no action: the member's name is the "
				 "action");
			return TOOLCALL_MODEL;
		}
		/* A member is named after its action: the action object is its
		 * input with that name added. */
		out->action = json_deep_copy(in);
		if (!out->action || json_object_set_new(out->action, "action", json_string(name)) < 0) {
			json_decref(out->action);
			out->action = NULL;
			snprintf(err, cap, "out of memory");
			return TOOLCALL_CALLER;
		}
		out->tool = TOOLCALL_COMPUTER;
		return 0;
	}
	if (!strcmp(name, "computer")) {
		if (!json_is_string(json_object_get(in, "action"))) {
			snprintf(err, cap, "Parameter `action` is required");
			return TOOLCALL_MODEL;
		}
		out->tool = TOOLCALL_COMPUTER;
		out->action = json_incref(in);
		return 0;
	}
	if (!strcmp(name, "str_replace_based_edit_tool") || !strcmp(name, "str_replace_editor")) {
		out->tool = TOOLCALL_EDITOR;
		return 0;
	}
	if (!strcmp(name, "bash")) {
		out->tool = TOOLCALL_BASH;
		return 0;
	}
	snprintf(err, cap, "unknown tool %.100s (this adapter runs computer, bash and "
		 "str_replace_based_edit_tool)", name);
	return TOOLCALL_CALLER;
}

int toolcall_editor(const json_t *in, char cmd[16], char path[1024], char *err, size_t cap)
{
	const char *c = json_string_value(json_object_get(in, "command"));
	const char *p = json_string_value(json_object_get(in, "path"));

	if (!c) {
		snprintf(err, cap, "Parameter `command` is required");
		return TOOLCALL_MODEL;
	}
	if (strcmp(c, "view") && strcmp(c, "create") && strcmp(c, "str_replace") && strcmp(c, "insert")) {
		snprintf(err, cap, "Unrecognized command %.100s. The allowed commands for the "
			 "str_replace_based_edit_tool tool are: view, create, str_replace, insert", c);
		return TOOLCALL_MODEL;
	}
	if (!p || strlen(p) >= 1024) {
		snprintf(err, cap, "Parameter `path` is required (an absolute path)");
		return TOOLCALL_MODEL;
	}
	if (p[0] != '/') {
		snprintf(err, cap, "The path %s is not an absolute path, it should start with `/`. "
			 "Maybe you meant /%s?", p, p);
		return TOOLCALL_MODEL;
	}
	if (!strcmp(c, "create") && !json_is_string(json_object_get(in, "file_text"))) {
		snprintf(err, cap, "Parameter `file_text` is required for command: create");
		return TOOLCALL_MODEL;
	}
	if (!strcmp(c, "str_replace") && !json_is_string(json_object_get(in, "old_str"))) {
		snprintf(err, cap, "Parameter `old_str` is required for command: str_replace");
		return TOOLCALL_MODEL;
	}
	if (!strcmp(c, "str_replace") && !json_string_length(json_object_get(in, "old_str"))) {
		snprintf(err, cap, "Parameter `old_str` must not be empty for command: str_replace");
		return TOOLCALL_MODEL;
	}
	if (!strcmp(c, "insert") && !json_is_integer(json_object_get(in, "insert_line"))) {
		snprintf(err, cap, "Parameter `insert_line` is required for command: insert");
		return TOOLCALL_MODEL;
	}
	if (!strcmp(c, "insert") && !json_is_string(json_object_get(in, "insert_text")) &&
	    !json_is_string(json_object_get(in, "new_str"))) {
		snprintf(err, cap, "Parameter `insert_text` is required for command: insert");
		return TOOLCALL_MODEL;
	}
	snprintf(cmd, 16, "%s", c);
	snprintf(path, 1024, "%s", p);
	return 0;
}

json_t *toolcall_anthropic_actions(const json_t *action, int after)
{
	const char *name = json_string_value(json_object_get(action, "action"));
	json_t *actions = json_pack("[O]", action);

	/* As the reference tool does: after an action, show its effect. */
	if (actions && after && name && !toolcall_shows(name) &&
	    json_array_append_new(actions, json_pack("{s:s}", "action", "screenshot")) < 0) {
		json_decref(actions);
		return NULL;
	}
	return actions;
}

int toolcall_openai(const json_t *item, char *err, size_t cap)
{
	const char *type = json_string_value(json_object_get(item, "type"));
	const json_t *action = json_object_get(item, "action"), *batch = json_object_get(item, "actions");

	if (!type || strcmp(type, "computer_call")) {
		snprintf(err, cap, "type must be \"computer_call\" (send the item as the API returned it)");
		return TOOLCALL_CALLER;
	}
	if (!json_is_string(json_object_get(item, "call_id"))) {
		snprintf(err, cap, "call_id is required");
		return TOOLCALL_CALLER;
	}
	if (!!action == !!batch) {
		snprintf(err, cap, "a computer_call has either action (preview) or actions (GA)");
		return TOOLCALL_CALLER;
	}
	if ((action && !json_is_object(action)) || (batch && !json_is_array(batch))) {
		snprintf(err, cap, "action must be an object, actions an array");
		return TOOLCALL_CALLER;
	}
	return 0;
}

int toolcall_openai_acked(const json_t *item, char *err, size_t cap)
{
	const json_t *pending = json_object_get(item, "pending_safety_checks");
	const json_t *acks = json_object_get(item, "acknowledged_safety_checks"), *p, *a;
	char msg[1000] = "";
	size_t i, j, used = 0;

	json_array_foreach(pending, i, p) {
		const char *id = json_string_value(json_object_get(p, "id"));
		int ok = 0;

		json_array_foreach(acks, j, a) {
			const char *aid = json_string_value(json_object_get(a, "id"));

			ok |= id && aid && !strcmp(id, aid);
		}
		/* Past the buffer's end the rest is left out (snprintf says how
		 * much it would have written, so used may pass sizeof(msg)). */
		if (!ok && used < sizeof(msg))
			used += (size_t)snprintf(msg + used, sizeof(msg) - used, "%s%s (%s): %s", used ? "; " : "",
						 json_string_value(json_object_get(p, "code")) ?: "check", id ? id : "?",
						 json_string_value(json_object_get(p, "message")) ?: "");
	}
	if (!used)
		return 0;
	snprintf(err, cap, "pending safety checks need your user's acknowledgement before this call runs: %s. "
		 "Pass them back in acknowledged_safety_checks once they agree", msg);
	return TOOLCALL_CALLER;
}

json_t *toolcall_openai_actions(const json_t *item)
{
	json_t *action = json_object_get(item, "action");
	json_t *actions = action ? json_pack("[O]", action) : json_deep_copy(json_object_get(item, "actions"));
	json_t *last = json_array_get(actions, json_array_size(actions) - 1);

	if (!json_is_array(actions)) {
		json_decref(actions);
		return NULL;
	}
	/* The output is a screenshot of the state the actions left. */
	if ((!last || strcmp(json_string_value(json_object_get(last, "type")) ?: "", "screenshot")) &&
	    json_array_append_new(actions, json_pack("{s:s}", "type", "screenshot")) < 0) {
		json_decref(actions);
		return NULL;
	}
	return actions;
}

void toolcall_model_size(int sw, int sh, long w, long h, int *mw, int *mh)
{
	double f = 1.0;

	if (w > 0 && h > 0) {
		*mw = (int)w;
		*mh = (int)h;
		return;
	}
	if (sw > 1280)
		f = 1280.0 / sw;
	if (sh * f > 800)
		f = 800.0 / sh;
	*mw = f < 1.0 ? (int)(sw * f + 0.5) : sw;
	*mh = f < 1.0 ? (int)(sh * f + 0.5) : sh;
	/* A very thin screen would round its short side to 0: scale_to
	 * refuses that, so the tool would never work there. */
	if (*mw < 1)
		*mw = 1;
	if (*mh < 1)
		*mh = 1;
}

int toolcall_out_append(struct toolcall_out *b, const char *sentinel, const char *data, size_t n)
{
	size_t sl = strlen(sentinel), from;
	char *hit, *nb;

	if (b->done)
		return 1;
	if (b->len + n > TOOLCALL_OUT_MAX) {
		/* Keep the head (what is shown) and room to find the sentinel. */
		size_t keep = TEXTEDIT_MAX_RESPONSE + 1;

		if (b->len > keep) {
			size_t tail = sl < b->len - keep ? sl : b->len - keep;

			memmove(b->data + keep, b->data + b->len - tail, tail);
			b->len = keep + tail;
		}
		if (n > TOOLCALL_OUT_MAX / 2) {
			data += n - TOOLCALL_OUT_MAX / 2;
			n = TOOLCALL_OUT_MAX / 2;
		}
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;

		while (cap < b->len + n + 1)
			cap *= 2;
		if (cap > TOOLCALL_OUT_MAX + 1)   /* len + n is at most that */
			cap = TOOLCALL_OUT_MAX + 1 > b->len + n + 1 ? TOOLCALL_OUT_MAX + 1 : b->len + n + 1;
		nb = realloc(b->data, cap);
		if (!nb)
			return 0;
		b->data = nb;
		b->cap = cap;
	}
	/* What was there holds no sentinel: look where the new bytes can
	 * complete one, not through megabytes again for every chunk. */
	from = b->len >= sl ? b->len - sl + 1 : 0;
	memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	hit = memmem(b->data + from, b->len - from, sentinel, sl);
	if (!hit)
		return 0;
	b->len = (size_t)(hit - b->data);
	b->data[b->len] = '\0';
	b->done = 1;
	return 1;
}

char *toolcall_out_take(const struct toolcall_out *b)
{
	static const char note[] = "<response clipped><NOTE>To save on context only part of this output has "
				   "been shown to you.</NOTE>";
	size_t n = b->len, clip;
	char *out;

	if (n && b->data[n - 1] == '\n')
		n--;
	clip = n > TEXTEDIT_MAX_RESPONSE ? TEXTEDIT_MAX_RESPONSE : n;
	out = malloc(clip + sizeof(note));
	if (!out)
		return NULL;
	memcpy(out, b->data ? b->data : "", clip);
	out[clip] = '\0';
	if (clip < n)
		memcpy(out + clip, note, sizeof(note));
	return out;
}

void toolcall_out_clear(struct toolcall_out *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}
