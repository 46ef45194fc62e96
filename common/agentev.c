/*
 * agentev.c - checking the agent's relayed events. See agentev.h.
 *
 * One row per event: its name and a checker that builds the fields from
 * msg or gives up. No I/O, no globals beyond the constant table.
 */
#include "agentev.h"

#include <stdint.h>
#include <string.h>

#include "agentproto.h"

/* An integer field within [lo, hi], or -1. */
static json_int_t agentev_int(const json_t *msg, const char *key, json_int_t lo, json_int_t hi)
{
	const json_t *v = json_object_get(msg, key);
	json_int_t n;

	if (!json_is_integer(v))
		return -1;
	n = json_integer_value(v);
	return n < lo || n > hi ? -1 : n;
}

/* [x, y, w, h] of whole numbers in 0..65535, copied; NULL if not. */
static json_t *agentev_rect(const json_t *r)
{
	json_t *v;

	if (!json_is_array(r) || json_array_size(r) != 4)
		return NULL;
	v = json_array();
	for (size_t k = 0; v && k < 4; k++) {
		const json_t *n = json_array_get(r, k);

		if (!json_is_integer(n) || json_integer_value(n) < 0 || json_integer_value(n) > 65535 ||
		    (k >= 2 && json_integer_value(n) == 0)) {
			json_decref(v);
			return NULL;
		}
		json_array_append_new(v, json_integer(json_integer_value(n)));
	}
	return v;
}

/* screen.changed: {rects: 1..AGENTPROTO_MAX_RECTS of [x,y,w,h], frame}. */
static json_t *agentev_screen_changed(const json_t *msg)
{
	const json_t *rects = json_object_get(msg, "rects");
	json_int_t frame = agentev_int(msg, "frame", 0, INT64_MAX);
	json_t *out, *r;
	size_t i, n = json_array_size(rects);

	if (frame < 0 || !json_is_array(rects) || n < 1 || n > AGENTPROTO_MAX_RECTS)
		return NULL;
	out = json_array();
	for (i = 0; out && i < n; i++) {
		r = agentev_rect(json_array_get(rects, i));
		if (!r) {
			json_decref(out);
			return NULL;
		}
		json_array_append_new(out, r);
	}
	return out ? json_pack("{s:o,s:I}", "rects", out, "frame", frame) : NULL;
}

static json_t *agentev_screen_settled(const json_t *msg)
{
	json_int_t frame = agentev_int(msg, "frame", 0, INT64_MAX);
	json_int_t quiet = agentev_int(msg, "quiet_ms", 1, AGENTPROTO_MAX_QUIET_MS);

	return frame < 0 || quiet < 0 ? NULL : json_pack("{s:I,s:I}", "frame", frame, "quiet_ms", quiet);
}

/* {window[, title][, pid]}: an X id, a title of at most AGENTPROTO_MAX_TITLE
 * bytes (jansson has checked it is UTF-8), a pid. */
static json_t *agentev_window(const json_t *msg, int with_title, int with_pid)
{
	json_int_t win = agentev_int(msg, "window", 1, UINT32_MAX);
	json_int_t pid = with_pid ? agentev_int(msg, "pid", 0, INT32_MAX) : 0;
	const json_t *title = json_object_get(msg, "title");
	json_t *out;

	if (win < 0 || pid < 0)
		return NULL;
	if (with_title && (!json_is_string(title) || json_string_length(title) > AGENTPROTO_MAX_TITLE))
		return NULL;
	out = json_pack("{s:I}", "window", win);
	if (out && with_title)
		json_object_set_new(out, "title", json_stringn(json_string_value(title),
							      json_string_length(title)));
	if (out && with_pid)
		json_object_set_new(out, "pid", json_integer(pid));
	return out;
}

static json_t *agentev_window_opened(const json_t *msg)
{
	return agentev_window(msg, 1, 1);
}

static json_t *agentev_window_closed(const json_t *msg)
{
	return agentev_window(msg, 0, 0);
}

static json_t *agentev_window_focused(const json_t *msg)
{
	return agentev_window(msg, 1, 0);
}

/* window.changed: {window, x, y, width, height, state: {minimized,
 * maximized, fullscreen, above}}; x and y may be negative (off screen). */
static json_t *agentev_window_changed(const json_t *msg)
{
	static const char *const flags[] = { "minimized", "maximized", "fullscreen", "above" };
	json_int_t win = agentev_int(msg, "window", 1, UINT32_MAX);
	json_int_t w = agentev_int(msg, "width", 1, 65535), h = agentev_int(msg, "height", 1, 65535);
	const json_t *jx = json_object_get(msg, "x"), *jy = json_object_get(msg, "y");
	const json_t *st = json_object_get(msg, "state");
	json_int_t x = json_is_integer(jx) ? json_integer_value(jx) : INT32_MIN;
	json_int_t y = json_is_integer(jy) ? json_integer_value(jy) : INT32_MIN;
	json_t *state;

	if (win < 0 || w < 0 || h < 0 || x < -65536 || x > 65535 || y < -65536 || y > 65535 ||
	    !json_is_object(st) || !(state = json_object()))
		return NULL;
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		const json_t *b = json_object_get(st, flags[i]);

		if (!json_is_boolean(b)) {
			json_decref(state);
			return NULL;
		}
		json_object_set_new(state, flags[i], json_boolean(json_is_true(b)));
	}
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:o}", "window", win, "x", x, "y", y, "width", w,
			 "height", h, "state", state);
}

static json_t *agentev_clipboard_changed(const json_t *msg)
{
	return json_object();
}

static const struct {
	const char *name;
	json_t *(*check)(const json_t *msg);
} agentev_rows[] = {
	{ AGENT_E_SCREEN_CHANGED, agentev_screen_changed },
	{ AGENT_E_SCREEN_SETTLED, agentev_screen_settled },
	{ AGENT_E_WINDOW_OPENED, agentev_window_opened },
	{ AGENT_E_WINDOW_CLOSED, agentev_window_closed },
	{ AGENT_E_WINDOW_FOCUSED, agentev_window_focused },
	{ AGENT_E_WINDOW_CHANGED, agentev_window_changed },
	{ AGENT_E_CLIPBOARD_CHANGED, agentev_clipboard_changed },
};

int agentev_check(const char *name, const json_t *msg, json_t **fields)
{
	*fields = NULL;
	for (size_t i = 0; name && i < sizeof(agentev_rows) / sizeof(agentev_rows[0]); i++) {
		if (strcmp(name, agentev_rows[i].name))
			continue;
		*fields = json_is_object(msg) ? agentev_rows[i].check(msg) : NULL;
		return *fields ? 1 : -1;
	}
	return 0;
}
