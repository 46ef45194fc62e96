/*
 * toolcall.h - the pure part of the computer-use adapters
 * (server/adapt_anthropic.c, adapt_openai.c, adapt_bash.c): what a model's
 * tool call says, checked and mapped onto desktop.actions batches, the
 * model size coordinates are scaled to, and the bash tool's output
 * streams cut at their sentinel. No I/O, no globals, no server state, so
 * unit tests and a fuzz target call them directly.
 *
 * Two kinds of refusal, as the adapters answer them: the caller's mistake
 * (the block is not what the API emits: an error answer, 400) and the
 * model's (a bad input object: an is_error tool_result the model reads).
 */
#ifndef DESKBOX_TOOLCALL_H
#define DESKBOX_TOOLCALL_H

#include <stddef.h>

#include <jansson.h>

#define TOOLCALL_CALLER (-1)   /* the caller's mistake: err says what */
#define TOOLCALL_MODEL  (-2)   /* the model's mistake: err is its is_error text */

enum toolcall_tool { TOOLCALL_COMPUTER, TOOLCALL_EDITOR, TOOLCALL_BASH };

/* An Anthropic tool_use block, classified. */
struct toolcall_anthropic {
	enum toolcall_tool tool;
	json_t *action;       /* computer: the action object (a reference of ours) */
	const json_t *input;  /* the block's input (borrowed) */
};

/*
 * Check a tool_use block {"type": "tool_use", "id", "name", "input",
 * "toolset_name"?}: computer (an action in input, or a toolset member
 * named after its action), str_replace_based_edit_tool (or
 * str_replace_editor), bash. Returns 0 with *out filled (json_decref
 * out->action after), or TOOLCALL_CALLER/TOOLCALL_MODEL with err set and
 * nothing held.
 */
int toolcall_anthropic(const json_t *block, struct toolcall_anthropic *out, char *err, size_t cap);

/*
 * The text editor's input {"command", "path", ...} checked as the
 * reference tool checks it; cmd and path copied out (path < 1024 bytes).
 * Returns 0, or TOOLCALL_MODEL with the reference's message in err.
 */
int toolcall_editor(const json_t *in, char cmd[16], char path[1024], char *err, size_t cap);

/* The computer action's batch: [action], and a screenshot after it when
 * after is set and the action shows nothing itself. NULL: out of memory. */
json_t *toolcall_anthropic_actions(const json_t *action, int after);

/*
 * An OpenAI computer_call item: type, call_id, exactly one of action
 * (preview) and actions (GA). Returns 0 or TOOLCALL_CALLER with err set.
 */
int toolcall_openai(const json_t *item, char *err, size_t cap);

/* 0 when every pending_safety_checks entry has an acknowledged_safety_checks
 * entry with its id; else TOOLCALL_CALLER with the unacknowledged ones in err. */
int toolcall_openai_acked(const json_t *item, char *err, size_t cap);

/* A checked item's batch: its actions, and a screenshot after them unless
 * the last one is one. NULL: out of memory. */
json_t *toolcall_openai_actions(const json_t *item);

/* The size the model sees for a sw x sh screen: w x h when both are given
 * (> 0), else the screen fitted within 1280x800. */
void toolcall_model_size(int sw, int sh, long w, long h, int *mw, int *mh);

/* One output stream of the bash tool until its sentinel. */
#define TOOLCALL_OUT_MAX (4u << 20)   /* buffered; past it the middle is dropped */

struct toolcall_out {
	char *data;           /* malloc'd, NUL-terminated, or NULL */
	size_t len;
	size_t cap;           /* data's size (grown by doubling) */
	int done;             /* the sentinel came: data is what preceded it */
};

/* Append n bytes of output; 1 once the sentinel came (data cut there),
 * 0 otherwise (also when out of memory: the bytes are lost). */
int toolcall_out_append(struct toolcall_out *b, const char *sentinel, const char *data, size_t n);

/* The stream's text before its sentinel, the trailing newline dropped,
 * clipped as the reference clips answers (malloc'd; NULL: out of memory). */
char *toolcall_out_take(const struct toolcall_out *b);

/* Free b's data and empty it. */
void toolcall_out_clear(struct toolcall_out *b);

#endif
