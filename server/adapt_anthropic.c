/*
 * adapt_anthropic.c - Anthropic's tool calls, as the Messages API emits
 * them, run against a sandbox: the rows anthropic.tool_use (a tool_use
 * block in, the tool_result block the next request needs out) and
 * anthropic.tools (the tools array to send, the display size filled in).
 *
 * Tools: computer (computer_20250124, computer_20251124 with zoom, and the
 * computer_toolset_20260801 shape where each action is its own call named
 * after it, "toolset_name": "computer" beside it), bash (bash_20250124, one
 * persistent shell per sandbox: adapt_bash.c), and str_replace_based_edit_tool
 * (text_editor_20250728: view, create, str_replace, insert, with the
 * reference implementation's messages). Coordinates and screenshots are
 * scaled between the screen and the size the model was told
 * (display_width_px/display_height_px given with the call, else the screen
 * fitted within 1280x800). Everything runs as sub-calls of other rows
 * (adapt_sub.h); a mistake in the model's input is an is_error result, a
 * mistake of the caller's an error. Loop thread only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adapt_anthropic.h"
#include "adapt_bash.h"
#include "adapt_sub.h"
#include "op.h"
#include "sandbox.h"
#include "textedit.h"
#include "toolcall.h"
#include "util.h"

static json_t *anth_text(const char *s)
{
	return json_pack("{s:s,s:s}", "type", "text", "text", s);
}

json_t *adapt_anthropic_result(struct op_call *c, json_t *content, int is_error)
{
	const char *id = json_string_value(json_object_get(c->params, "id"));

	return json_pack("{s:s,s:s,s:o,s:b}", "type", "tool_result", "tool_use_id", id ? id : "", "content",
			 content, "is_error", is_error);
}

void adapt_anthropic_error(struct op_call *c, const char *msg)
{
	op_ok(c, adapt_anthropic_result(c, json_pack("[o]", anth_text(msg)), 1));
}

/* ---- computer ---- */

static void anth_computer_done(struct op_call *c, struct op_call *sub, void *arg)
{
	json_t *content = json_array(), *one;
	size_t i;

	if (sub->err != OPERR_OK) {
		json_decref(content);
		return adapt_anthropic_error(c, sub->msg);
	}
	json_array_foreach(json_object_get(sub->result, "results"), i, one) {
		json_t *img = json_object_get(one, "image");

		if (json_object_get(one, "x") && json_object_get(one, "y") && !img) {
			char xy[64];

			snprintf(xy, sizeof(xy), "X=%lld,Y=%lld",
				 (long long)json_integer_value(json_object_get(one, "x")),
				 (long long)json_integer_value(json_object_get(one, "y")));
			json_array_append_new(content, anth_text(xy));
		}
		if (img)
			json_array_append_new(content, json_pack("{s:s,s:{s:s,s:O,s:O}}", "type", "image", "source",
								 "type", "base64", "media_type",
								 json_object_get(img, "media_type"), "data",
								 json_object_get(img, "data")));
	}
	op_ok(c, adapt_anthropic_result(c, content, 0));
}

static void anth_computer(struct op_call *c, const json_t *action)
{
	json_t *actions, *params;
	int sw, sh, mw, mh, after = 1;
	long w = 0, h = 0;

	if (op_param_int(c, "display_width_px", 1, 16384, &w) < 0 ||
	    op_param_int(c, "display_height_px", 1, 16384, &h) < 0 || op_param_bool(c, "screenshot_after", &after) < 0)
		return;
	if (adapt_sub_screen(c, &sw, &sh) < 0)
		return op_fail(c, OPERR_NO_DESKTOP, "the sandbox has no desktop for the computer tool");
	adapt_sub_size(c, sw, sh, w, h, &mw, &mh);
	actions = toolcall_anthropic_actions(action, after);
	if (!actions)
		return op_fail(c, OPERR_INTERNAL, "out of memory");
	params = json_pack("{s:o}", "actions", actions);
	if (mw != sw || mh != sh)
		json_object_set_new(params, "scale_to", json_pack("{s:i,s:i}", "width", mw, "height", mh));
	adapt_sub_start(c, "desktop.actions", params, NULL, 0, anth_computer_done, NULL, NULL);
}

/* ---- str_replace_based_edit_tool ---- */

#define ANTH_SNIPPET 4

struct anth_edit {
	char cmd[16];
	char path[1024];
	char *text;             /* the file's bytes, or the new ones */
	size_t len;
	char *reply;            /* the answer once written */
};

static void anth_edit_free(void *p)
{
	struct anth_edit *e = p;

	if (!e)
		return;
	free(e->text);
	free(e->reply);
	free(e);
}

static void anth_edit_fail(struct op_call *c, struct anth_edit *e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void anth_edit_fail(struct op_call *c, struct anth_edit *e, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	anth_edit_free(e);
	adapt_anthropic_error(c, msg);
}

/* "Here's the result of running `cat -n` on WHAT:\n" and the lines. */
static char *anth_cat_n(const char *text, size_t len, const char *what, long first)
{
	char *num = textedit_numbered(text, len, first), *out = NULL;

	if (num && asprintf(&out, "Here's the result of running `cat -n` on %s:\n%s\n", what, num) < 0)
		out = NULL;
	free(num);
	return out;
}

static void anth_edit_answer(struct op_call *c, struct anth_edit *e)
{
	json_t *content = json_pack("[o]", anth_text(e->reply ? e->reply : ""));

	anth_edit_free(e);
	op_ok(c, adapt_anthropic_result(c, content, 0));
}

static void anth_edit_written(struct op_call *c, struct op_call *sub, void *arg)
{
	struct anth_edit *e = arg;

	if (sub->err != OPERR_OK)
		return anth_edit_fail(c, e, "Ran into %s while trying to write to %s", sub->msg, e->path);
	anth_edit_answer(c, e);
}

static void anth_edit_write(struct op_call *c, struct anth_edit *e)
{
	adapt_sub_start(c, "files.write", json_pack("{s:s}", "path", e->path), e->text, e->len,
			anth_edit_written, e, anth_edit_free);
}

/* view of a file, with the optional view_range. */
static void anth_edit_view(struct op_call *c, struct anth_edit *e, const json_t *range)
{
	long nl = textedit_nlines(e->text, e->len), first = 1, last = -1;
	size_t off = 0, n = e->len;

	if (range) {
		if (!json_is_array(range) || json_array_size(range) != 2 ||
		    !json_is_integer(json_array_get(range, 0)) || !json_is_integer(json_array_get(range, 1)))
			return anth_edit_fail(c, e, "Invalid `view_range`. It should be a list of two integers.");
		first = (long)json_integer_value(json_array_get(range, 0));
		last = (long)json_integer_value(json_array_get(range, 1));
		if (first < 1 || first > nl)
			return anth_edit_fail(c, e, "Invalid `view_range`: [%ld, %ld]. Its first element `%ld` "
					      "should be within the range of lines of the file: [1, %ld]",
					      first, last, first, nl);
		if (last > nl)
			return anth_edit_fail(c, e, "Invalid `view_range`: [%ld, %ld]. Its second element `%ld` "
					      "should be smaller than the number of lines in the file: `%ld`",
					      first, last, last, nl);
		if (last != -1 && last < first)
			return anth_edit_fail(c, e, "Invalid `view_range`: [%ld, %ld]. Its second element `%ld` "
					      "should be larger or equal than its first `%ld`", first, last, last,
					      first);
		textedit_range(e->text, e->len, first, last, &off, &n);
	}
	e->reply = anth_cat_n(e->text + off, n, e->path, first);
	anth_edit_answer(c, e);
}

static void anth_edit_replace(struct op_call *c, struct anth_edit *e, const char *old, size_t olen,
			      const char *rep, size_t rlen)
{
	size_t at, newlen, off, n;
	long count = textedit_count(e->text, e->len, old, olen, &at, 2), line, first, last;
	char *text, *cat;

	if (count == 0)
		return anth_edit_fail(c, e, "No replacement was performed, old_str `%.*s` did not appear "
				      "verbatim in %s.", (int)(olen > 1500 ? 1500 : olen), old, e->path);
	if (count > 1) {
		char *lines = textedit_lines_with(e->text, e->len, old, olen);

		anth_edit_fail(c, e, "No replacement was performed. Multiple occurrences of old_str `%.*s` "
			       "in lines %s. Please ensure it is unique", (int)(olen > 1000 ? 1000 : olen), old,
			       lines ? lines : "[]");
		free(lines);
		return;
	}
	text = textedit_splice(e->text, e->len, at, olen, rep, rlen, &newlen);
	if (!text)
		return anth_edit_fail(c, e, "out of memory");
	line = textedit_nlines(e->text, at) - 1;   /* 0-based line of the change */
	first = line > ANTH_SNIPPET ? line - ANTH_SNIPPET : 0;
	last = line + ANTH_SNIPPET + textedit_nlines(rep, rlen) - 1;
	textedit_range(text, newlen, first + 1, last + 1, &off, &n);
	{
		char what[1100];

		snprintf(what, sizeof(what), "a snippet of %s", e->path);
		cat = anth_cat_n(text + off, n, what, first + 1);
	}
	free(e->text);
	e->text = text;
	e->len = newlen;
	if (cat && asprintf(&e->reply, "The file %s has been edited. %sReview the changes and make sure they "
			    "are as expected. Edit the file again if necessary.", e->path, cat) < 0)
		e->reply = NULL;
	free(cat);
	anth_edit_write(c, e);
}

static void anth_edit_insert(struct op_call *c, struct anth_edit *e, long after, const char *ins, size_t ilen)
{
	long nl = textedit_nlines(e->text, e->len), at = textedit_line_end(e->text, e->len, after), first;
	size_t newlen, off, n;
	char *text, *join, *cat;
	int at_end;

	if (at < 0)
		return anth_edit_fail(c, e, "Invalid `insert_line` parameter: %ld. It should be within the "
				      "range of lines of the file: [0, %ld]", after, nl);
	/* The new lines join the old ones with newlines (Python's join). */
	at_end = after > 0 && (size_t)at == e->len && (e->len == 0 || e->text[e->len - 1] != '\n');
	join = malloc(ilen + 2);
	if (!join)
		return anth_edit_fail(c, e, "out of memory");
	if (at_end) {
		join[0] = '\n';
		memcpy(join + 1, ins, ilen);
	} else {
		memcpy(join, ins, ilen);
		join[ilen] = '\n';
	}
	text = textedit_splice(e->text, e->len, (size_t)at, 0, join, ilen + 1, &newlen);
	free(join);
	if (!text)
		return anth_edit_fail(c, e, "out of memory");
	first = after - ANTH_SNIPPET > 0 ? after - ANTH_SNIPPET : 0;
	textedit_range(text, newlen, first + 1, after + textedit_nlines(ins, ilen) + ANTH_SNIPPET, &off, &n);
	cat = anth_cat_n(text + off, n, "a snippet of the edited file", first + 1);
	free(e->text);
	e->text = text;
	e->len = newlen;
	if (cat && asprintf(&e->reply, "The file %s has been edited. %sReview the changes and make sure they "
			    "are as expected (correct indentation, no duplicate lines, etc). Edit the file "
			    "again if necessary.", e->path, cat) < 0)
		e->reply = NULL;
	free(cat);
	anth_edit_write(c, e);
}

static void anth_edit_read(struct op_call *c, struct op_call *sub, void *arg)
{
	struct anth_edit *e = arg;
	const json_t *in = json_object_get(c->params, "input");
	ssize_t got;

	if (sub->err != OPERR_OK)
		return anth_edit_fail(c, e, "Ran into %s while trying to read %s", sub->msg, e->path);
	e->text = malloc(sub->out_len + 1);
	got = e->text ? pread(sub->out_fd, e->text, sub->out_len, 0) : -1;
	if (got != (ssize_t)sub->out_len)
		return anth_edit_fail(c, e, "Ran into an error while trying to read %s", e->path);
	e->len = sub->out_len;
	e->text[e->len] = '\0';
	if (!strcmp(e->cmd, "view"))
		return anth_edit_view(c, e, json_object_get(in, "view_range"));
	if (!strcmp(e->cmd, "str_replace")) {
		const json_t *o = json_object_get(in, "old_str"), *n = json_object_get(in, "new_str");

		return anth_edit_replace(c, e, json_string_value(o), json_string_length(o),
					 json_is_string(n) ? json_string_value(n) : "", json_string_length(n));
	}
	{
		const json_t *t = json_object_get(in, "insert_text");

		if (!t)
			t = json_object_get(in, "new_str");
		anth_edit_insert(c, e, (long)json_integer_value(json_object_get(in, "insert_line")),
				 json_string_value(t), json_string_length(t));
	}
}

/* What the path is, found by the probe: a directory's listing comes with it. */
static void anth_edit_probed(struct op_call *c, struct op_call *sub, void *arg)
{
	struct anth_edit *e = arg;
	const json_t *in = json_object_get(c->params, "input");
	const char *out = json_string_value(json_object_get(sub->result, "stdout"));
	long code = (long)json_integer_value(json_object_get(sub->result, "exit_code"));

	if (sub->err != OPERR_OK)
		return anth_edit_fail(c, e, "Ran into %s while looking at %s", sub->msg, e->path);
	if (!strcmp(e->cmd, "create")) {
		const json_t *t = json_object_get(in, "file_text");

		if (code != 2)
			return anth_edit_fail(c, e, "File already exists at: %s. Cannot overwrite files using "
					      "command `create`.", e->path);
		e->len = json_string_length(t);
		e->text = malloc(e->len + 1);
		if (!e->text)
			return anth_edit_fail(c, e, "out of memory");
		memcpy(e->text, json_string_value(t), e->len);
		if (asprintf(&e->reply, "File created successfully at: %s", e->path) < 0)
			e->reply = NULL;
		return anth_edit_write(c, e);
	}
	if (code == 2)
		return anth_edit_fail(c, e, "The path %s does not exist. Please provide a valid path.", e->path);
	if (code == 0) {   /* a directory */
		if (strcmp(e->cmd, "view"))
			return anth_edit_fail(c, e, "The path %s is a directory and only the `view` command can "
					      "be used on directories", e->path);
		if (json_object_get(in, "view_range"))
			return anth_edit_fail(c, e, "The `view_range` parameter is not allowed when `path` points "
					      "to a directory.");
		if (asprintf(&e->reply, "Here's the files and directories up to 2 levels deep in %s, excluding "
			     "hidden items:\n%s\n", e->path, out ? out : "") < 0)
			e->reply = NULL;
		return anth_edit_answer(c, e);
	}
	adapt_sub_start(c, "files.read", json_pack("{s:s}", "path", e->path), NULL, 0, anth_edit_read, e,
			anth_edit_free);
}

#define ANTH_PROBE \
	"if [ -d \"$1\" ]; then find \"$1\" -maxdepth 2 -not -path '*/.*'; exit 0; " \
	"elif [ -e \"$1\" ]; then exit 1; else exit 2; fi"

static void anth_editor(struct op_call *c, const json_t *in)
{
	char cmd[16], path[1024], err[1200];
	struct anth_edit *e;

	if (toolcall_editor(in, cmd, path, err, sizeof(err)) < 0)
		return adapt_anthropic_error(c, err);
	e = calloc(1, sizeof(*e));
	if (!e)
		return op_fail(c, OPERR_INTERNAL, "out of memory");
	snprintf(e->cmd, sizeof(e->cmd), "%s", cmd);
	snprintf(e->path, sizeof(e->path), "%s", path);
	adapt_sub_start(c, "process.exec", json_pack("{s:[s,s,s,s,s],s:i}", "argv", "sh", "-c", ANTH_PROBE,
						     "sh", path, "timeout_ms", 30000),
			NULL, 0, anth_edit_probed, e, anth_edit_free);
}

/* ---- the rows ---- */

static void run_tool_use(struct op_call *c)
{
	struct toolcall_anthropic t;
	char err[300];
	int r = toolcall_anthropic(c->params, &t, err, sizeof(err));

	if (r == TOOLCALL_CALLER)
		return op_fail(c, OPERR_BAD_REQUEST, "%s", err);
	if (r < 0)
		return adapt_anthropic_error(c, err);
	switch (t.tool) {
	case TOOLCALL_COMPUTER:
		anth_computer(c, t.action);
		json_decref(t.action);
		return;
	case TOOLCALL_EDITOR:
		return anth_editor(c, t.input);
	case TOOLCALL_BASH:
		return adapt_bash_run(c, t.input);
	}
}

static void run_tools(struct op_call *c)
{
	const char *version = NULL;
	int sw, sh, mw, mh;
	long w = 0, h = 0;
	json_t *computer, *tools;

	if (op_param_str(c, "version", 0, &version) < 0 || op_param_int(c, "display_width_px", 1, 16384, &w) < 0 ||
	    op_param_int(c, "display_height_px", 1, 16384, &h) < 0)
		return;
	if (!version)
		version = "computer_20251124";
	if (strcmp(version, "computer_20250124") && strcmp(version, "computer_20251124") &&
	    strcmp(version, "computer_toolset_20260801"))
		return op_fail(c, OPERR_BAD_REQUEST, "version must be computer_20250124, computer_20251124 or "
			       "computer_toolset_20260801");
	if (!strcmp(version, "computer_toolset_20260801")) {
		/* The toolset's entry carries no size: screenshots show it. */
		computer = json_pack("{s:s}", "type", version);
	} else if (adapt_sub_screen(c, &sw, &sh) < 0) {
		computer = NULL;
	} else {
		adapt_sub_size(c, sw, sh, w, h, &mw, &mh);
		computer = json_pack("{s:s,s:s,s:i,s:i}", "type", version, "name", "computer", "display_width_px",
				     mw, "display_height_px", mh);
		if (!strcmp(version, "computer_20251124"))
			json_object_set_new(computer, "enable_zoom", json_true());
	}
	tools = json_array();
	if (computer)
		json_array_append_new(tools, computer);
	json_array_append_new(tools, json_pack("{s:s,s:s}", "type", "bash_20250124", "name", "bash"));
	json_array_append_new(tools, json_pack("{s:s,s:s}", "type", "text_editor_20250728", "name",
					       "str_replace_based_edit_tool"));
	op_ok(c, json_pack("{s:o}", "tools", tools));
}

#define SIZE_PROPS \
	"\"display_width_px\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"the width the model " \
	"was told (default: the screen fitted within 1280x800)\"}," \
	"\"display_height_px\":{\"type\":\"integer\",\"minimum\":1}"

const struct op adapt_anthropic_rows[] = {
	{ "anthropic.tool_use", "Run an Anthropic tool_use block (computer, bash, str_replace_based_edit_tool); "
	  "answers its tool_result block.",
	  "{\"type\":\"object\",\"required\":[\"sandbox\",\"type\",\"id\",\"name\",\"input\"],"
	  "\"additionalProperties\":false,\"properties\":{\"sandbox\":{\"type\":\"string\"},"
	  "\"type\":{\"const\":\"tool_use\"},\"id\":{\"type\":\"string\"},\"name\":{\"type\":\"string\"},"
	  "\"input\":{\"type\":\"object\"},\"toolset_name\":{\"type\":\"string\"},"
	  "\"cache_control\":{\"type\":\"object\"},\"caller\":{\"type\":\"object\"},"
	  "\"screenshot_after\":{\"type\":\"boolean\",\"default\":true,\"description\":\"computer: answer a "
	  "screenshot after actions that show nothing themselves\"},"
	  "\"timeout_s\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":86400,\"default\":120,"
	  "\"description\":\"bash: how long a command may take before the shell must be restarted\"},"
	  SIZE_PROPS "}}",
	  OPF_SANDBOX | OPF_RUNNING | OPF_CONTROL, run_tool_use },
	{ "anthropic.tools", "The tools array to send to the Messages API for this sandbox (its display size filled in).",
	  "{\"type\":\"object\",\"required\":[\"sandbox\"],\"additionalProperties\":false,"
	  "\"properties\":{\"sandbox\":{\"type\":\"string\"},\"version\":{\"enum\":[\"computer_20250124\","
	  "\"computer_20251124\",\"computer_toolset_20260801\"],\"default\":\"computer_20251124\"}," SIZE_PROPS "}}",
	  OPF_SANDBOX | OPF_RUNNING | OPF_CONTROL, run_tools },
	{ NULL, NULL, NULL, 0, NULL },
};
