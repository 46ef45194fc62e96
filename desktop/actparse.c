/*
 * actparse.c - Anthropic and OpenAI computer-use actions to struct act
 * (pure). See actparse.h.
 *
 * One table per vocabulary maps an action name to its parser and to the
 * primitive it becomes; a new action is a row. The key that names the
 * action ("action" for Anthropic, "type" for OpenAI) picks the table.
 */
#include "actparse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"
#include "jget.h"

#define ERRLEN 256

/* A NULL-terminated list of the keys an object may have. A key outside
 * its list is refused by name: a typo ("cordinate") must not run a
 * different action than the one meant. */
#define F(...) ((const char *const[]){__VA_ARGS__, NULL})

struct act_vocab;
typedef int (*act_parse_fn)(const json_t *o, const struct act_vocab *row,
			    struct act *a, char *err);

struct act_vocab {
	const char *name;
	act_parse_fn parse;
	enum act_kind kind;
	int button;     /* click-like rows: X button */
	int clicks;     /* ACT_CLICK: count; ACT_BUTTON: 1 down, 0 up */
	const char *const *fields;   /* every key the action may have */
};

static int act_coordinate(const json_t *o, const char *key, int required,
			  struct act_point *p, int *has, char *err)
{
	const json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v)) {
		if (required) {
			snprintf(err, ERRLEN, "%s is required", key);
			return -1;
		}
		if (has)
			*has = 0;
		return 0;
	}
	if (jget_point(v, key, &p->x, &p->y, err, ERRLEN) < 0)
		return -1;
	if (has)
		*has = 1;
	return 0;
}

static int act_xy(const json_t *o, struct act *a, char *err)
{
	const json_t *x = json_object_get(o, "x"), *y = json_object_get(o, "y");

	if (!x || !y) {
		snprintf(err, ERRLEN, "x and y are required");
		return -1;
	}
	if (jget_number(x, "x", 0, 1L << 20, &a->pos.x, err, ERRLEN) < 0 ||
	    jget_number(y, "y", 0, 1L << 20, &a->pos.y, err, ERRLEN) < 0)
		return -1;
	a->has_pos = 1;
	return 0;
}

/*
 * Anthropic: modifiers held during a click, scroll or drag. The API docs of
 * computer_20250124 give them as "text": "shift" (scroll's modifier); the
 * reference loop (anthropic-quickstarts computer-use-demo,
 * tools/computer.py, ComputerTool20250124) reads "key" for clicks, and
 * models emit both. Either is honoured; both at once is ambiguous.
 */
static int act_text_mods(const json_t *o, struct act *a, char *err)
{
	const char *s, *k;
	size_t len, klen;

	if (jget_string(o, "text", 0, &s, &len, err, ERRLEN) < 0 ||
	    jget_string(o, "key", 0, &k, &klen, err, ERRLEN) < 0)
		return -1;
	if (s && len && k && klen) {
		snprintf(err, ERRLEN, "give the held modifier as text or key, not both");
		return -1;
	}
	if (k && klen) {
		s = k;
		len = klen;
	}
	if (!s || len == 0)
		return 0;
	return keys_parse_chord(s, len, &a->mods, err, ERRLEN);
}

/* OpenAI: "keys": ["CTRL", "SHIFT"] held during the action, or a chord. */
static int act_keys_array(const json_t *o, int required, struct keys_chord *c,
			  char *err)
{
	const json_t *v = json_object_get(o, "keys");
	size_t i;
	json_t *k;

	c->n = 0;
	if (!v || json_is_null(v)) {
		if (!required)
			return 0;
		snprintf(err, ERRLEN, "keys is required");
		return -1;
	}
	if (!json_is_array(v) || (required && json_array_size(v) == 0)) {
		snprintf(err, ERRLEN, "keys must be an array of key names");
		return -1;
	}
	json_array_foreach(v, i, k) {
		if (!json_is_string(k)) {
			snprintf(err, ERRLEN, "keys must be an array of key names");
			return -1;
		}
		if (keys_chord_add(c, json_string_value(k), json_string_length(k),
				   err, ERRLEN) < 0)
			return -1;
	}
	keys_chord_finish(c);
	return 0;
}

static int p_plain(const json_t *o, const struct act_vocab *row, struct act *a,
		   char *err)
{
	return 0;
}

static int p_a_move(const json_t *o, const struct act_vocab *row, struct act *a,
		    char *err)
{
	return act_coordinate(o, "coordinate", 1, &a->pos, &a->has_pos, err);
}

static int p_a_click(const json_t *o, const struct act_vocab *row,
		     struct act *a, char *err)
{
	a->button = row->button;
	a->clicks = row->clicks;
	if (act_coordinate(o, "coordinate", 0, &a->pos, &a->has_pos, err) < 0)
		return -1;
	return act_text_mods(o, a, err);
}

static int act_path_alloc(struct act *a, int n, char *err)
{
	a->path = calloc((size_t)n, sizeof *a->path);
	if (!a->path) {
		snprintf(err, ERRLEN, "out of memory");
		return -1;
	}
	a->npath = n;
	a->button = 1;
	return 0;
}

/*
 * left_click_drag: from start_coordinate, or, without it, from wherever the
 * pointer is, as the computer_20241022 reference loop does it (xdotool
 * mousedown 1 mousemove X Y mouseup 1; anthropic-quickstarts
 * computer-use-demo, tools/computer.py) and models trained on it still emit.
 * A path whose first point is "here" has from_pointer set.
 */
static int p_a_drag(const json_t *o, const struct act_vocab *row,
		    struct act *a, char *err)
{
	int has_start = 0;

	if (act_path_alloc(a, 2, err) < 0)
		return -1;
	if (act_coordinate(o, "start_coordinate", 0, &a->path[0], &has_start, err) < 0 ||
	    act_coordinate(o, "coordinate", 1, &a->path[1], NULL, err) < 0)
		return -1;
	a->from_pointer = !has_start;
	return act_text_mods(o, a, err);
}

static int p_a_button(const json_t *o, const struct act_vocab *row,
		      struct act *a, char *err)
{
	a->button = row->button;
	a->down = row->clicks;
	return act_coordinate(o, "coordinate", 0, &a->pos, &a->has_pos, err);
}

static const struct {
	const char *name;
	int dx, dy;
} act_directions[] = {
	{"up", 0, -1}, {"down", 0, 1}, {"left", -1, 0}, {"right", 1, 0},
};

static int p_a_scroll(const json_t *o, const struct act_vocab *row,
		      struct act *a, char *err)
{
	const char *dir;
	long amount;
	size_t i;

	if (act_coordinate(o, "coordinate", 0, &a->pos, &a->has_pos, err) < 0 ||
	    jget_string(o, "scroll_direction", 1, &dir, NULL, err, ERRLEN) < 0 ||
	    jget_int(o, "scroll_amount", 0, ACT_MAX_SCROLL, 3, &amount, err, ERRLEN) < 0)
		return -1;
	for (i = 0; i < sizeof act_directions / sizeof *act_directions; i++)
		if (strcmp(dir, act_directions[i].name) == 0)
			break;
	if (i == sizeof act_directions / sizeof *act_directions) {
		snprintf(err, ERRLEN, "scroll_direction must be up, down, left or right");
		return -1;
	}
	a->scroll_x = act_directions[i].dx * (int)amount;
	a->scroll_y = act_directions[i].dy * (int)amount;
	return act_text_mods(o, a, err);
}

/* Every character must have a key: reject other control characters here,
 * before anything is typed. */
static int p_type(const json_t *o, const struct act_vocab *row, struct act *a,
		  char *err)
{
	size_t off = 0;
	uint32_t cp;
	int n;

	if (jget_string(o, "text", 1, &a->text, &a->text_len, err, ERRLEN) < 0 ||
	    jget_int(o, "delay_ms", 0, ACT_MAX_DELAY_MS, 0, &a->delay_ms, err, ERRLEN) < 0)
		return -1;
	while (off < a->text_len) {
		n = keys_utf8_next(a->text + off, a->text_len - off, &cp);
		if (n < 0) {
			snprintf(err, ERRLEN, "text is not UTF-8 at byte %zu", off);
			return -1;
		}
		if (!keys_from_codepoint(cp)) {
			snprintf(err, ERRLEN, "text has control character U+%04X at byte %zu",
				 cp, off);
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

static int act_chords_alloc(struct act *a, int n, char *err)
{
	a->chords = calloc((size_t)n, sizeof *a->chords);
	if (!a->chords) {
		snprintf(err, ERRLEN, "out of memory");
		return -1;
	}
	return 0;
}

/* The whitespace-separated words in s, at least 1 and at most max. */
static int act_words(const char *s, int max)
{
	int n = 0;

	for (; *s && n < max; n++) {
		s += strspn(s, " \t\n\v\f\r");
		if (!*s)
			break;
		s += strcspn(s, " \t\n\v\f\r");
	}
	return n ? n : 1;
}

static int p_a_key(const json_t *o, const struct act_vocab *row, struct act *a,
		   char *err)
{
	const char *s;
	long rep;
	int n;

	if (jget_string(o, "text", 1, &s, NULL, err, ERRLEN) < 0 ||
	    jget_int(o, "repeat", 1, ACT_MAX_REPEAT, 1, &rep, err, ERRLEN) < 0)
		return -1;
	a->repeat = (int)rep;
	/* Room for the chords the text holds, not for the most it may: a
	 * request of 1000 one-letter keys must not cost 1000 x 256 chords. */
	n = act_words(s, ACT_MAX_CHORDS);
	if (act_chords_alloc(a, n, err) < 0)
		return -1;
	return keys_parse_sequence(s, a->chords, n, &a->nchords, err, ERRLEN);
}

static int act_duration(const json_t *o, int required, double dflt,
			long *ms, char *err)
{
	double s;

	if (required && !json_object_get(o, "duration")) {
		snprintf(err, ERRLEN, "duration is required");
		return -1;
	}
	if (jget_real(o, "duration", 0, ACT_MAX_WAIT_MS / 1000.0, dflt, &s,
		      err, ERRLEN) < 0)
		return -1;
	*ms = (long)(s * 1000.0 + 0.5);
	return 0;
}

static int p_a_hold(const json_t *o, const struct act_vocab *row,
		    struct act *a, char *err)
{
	const char *s;
	size_t len;

	if (jget_string(o, "text", 1, &s, &len, err, ERRLEN) < 0 ||
	    act_duration(o, 1, 0, &a->duration_ms, err) < 0 ||
	    act_chords_alloc(a, 1, err) < 0)
		return -1;
	a->nchords = 1;
	return keys_parse_chord(s, len, &a->chords[0], err, ERRLEN);
}

static int p_wait(const json_t *o, const struct act_vocab *row, struct act *a,
		  char *err)
{
	return act_duration(o, 0, 1.0, &a->duration_ms, err);
}

static int p_a_zoom(const json_t *o, const struct act_vocab *row,
		    struct act *a, char *err)
{
	const json_t *v = json_object_get(o, "region");

	if (!json_is_array(v) || json_array_size(v) != 4) {
		snprintf(err, ERRLEN, "region must be [x0, y0, x1, y1]");
		return -1;
	}
	for (int i = 0; i < 4; i++)
		if (jget_number(json_array_get(v, (size_t)i), "region", 0, 1L << 20,
				&a->region[i], err, ERRLEN) < 0)
			return -1;
	if (a->region[0] >= a->region[2] || a->region[1] >= a->region[3]) {
		snprintf(err, ERRLEN, "region must have x0 < x1 and y0 < y1");
		return -1;
	}
	return 0;
}

static int p_focus(const json_t *o, const struct act_vocab *row, struct act *a,
		   char *err)
{
	const json_t *w = json_object_get(o, "window");
	long id;

	if (w && !json_is_null(w)) {
		if (jget_number(w, "window", 1, 0xffffffffL, &id, err, ERRLEN) < 0)
			return -1;
		a->window = (unsigned long)id;
		return 0;
	}
	if (jget_string(o, "title", 0, &a->title, NULL, err, ERRLEN) < 0)
		return -1;
	if (!a->title || !*a->title) {
		snprintf(err, ERRLEN, "window (an id) or title is required");
		return -1;
	}
	return 0;
}

static const struct {
	const char *name;
	int button;
} act_buttons[] = {
	{"left", 1}, {"wheel", 2}, {"middle", 2}, {"right", 3},
	{"back", 8}, {"forward", 9},
};

static int p_o_click(const json_t *o, const struct act_vocab *row,
		     struct act *a, char *err)
{
	const char *b;
	size_t i;

	a->clicks = row->clicks;
	a->button = row->button;
	if (act_xy(o, a, err) < 0 ||
	    jget_string(o, "button", 0, &b, NULL, err, ERRLEN) < 0 ||
	    act_keys_array(o, 0, &a->mods, err) < 0)
		return -1;
	if (!b)
		return 0;
	for (i = 0; i < sizeof act_buttons / sizeof *act_buttons; i++)
		if (strcmp(b, act_buttons[i].name) == 0)
			break;
	if (i == sizeof act_buttons / sizeof *act_buttons) {
		snprintf(err, ERRLEN, "button must be left, right, wheel, back or forward");
		return -1;
	}
	a->button = act_buttons[i].button;
	return 0;
}

static int p_o_move(const json_t *o, const struct act_vocab *row,
		    struct act *a, char *err)
{
	if (act_xy(o, a, err) < 0)
		return -1;
	return act_keys_array(o, 0, &a->mods, err);
}

static int p_o_drag(const json_t *o, const struct act_vocab *row,
		    struct act *a, char *err)
{
	const json_t *v = json_object_get(o, "path"), *p;
	size_t i;

	if (!json_is_array(v) || json_array_size(v) < 2 ||
	    json_array_size(v) > ACT_MAX_PATH) {
		snprintf(err, ERRLEN, "path must be an array of 2 to %d {x, y} points",
			 ACT_MAX_PATH);
		return -1;
	}
	if (act_path_alloc(a, (int)json_array_size(v), err) < 0)
		return -1;
	json_array_foreach(v, i, p) {
		const json_t *x = json_object_get(p, "x"), *y = json_object_get(p, "y");

		char at[32];

		if (!json_is_object(p) || !x || !y) {
			snprintf(err, ERRLEN, "path[%zu] must be {x, y}", i);
			return -1;
		}
		snprintf(at, sizeof at, "path[%zu]", i);
		if (fields_check((json_t *)p, at, F("x", "y"), err, ERRLEN) < 0)
			return -1;
		if (jget_number(x, "path x", 0, 1L << 20, &a->path[i].x, err, ERRLEN) < 0 ||
		    jget_number(y, "path y", 0, 1L << 20, &a->path[i].y, err, ERRLEN) < 0)
			return -1;
	}
	return act_keys_array(o, 0, &a->mods, err);
}

/* Pixels to wheel clicks: one per 100 px, at least one when nonzero. */
static int act_wheel_clicks(long px)
{
	long n = (labs(px) + 50) / 100;

	if (px && !n)
		n = 1;
	if (n > ACT_MAX_SCROLL)
		n = ACT_MAX_SCROLL;
	return (int)(px < 0 ? -n : n);
}

static int p_o_scroll(const json_t *o, const struct act_vocab *row,
		      struct act *a, char *err)
{
	long sx, sy;

	if (act_xy(o, a, err) < 0 ||
	    jget_int(o, "scroll_x", -1000000, 1000000, 0, &sx, err, ERRLEN) < 0 ||
	    jget_int(o, "scroll_y", -1000000, 1000000, 0, &sy, err, ERRLEN) < 0)
		return -1;
	a->scroll_x = act_wheel_clicks(sx);
	a->scroll_y = act_wheel_clicks(sy);
	return act_keys_array(o, 0, &a->mods, err);
}

static int p_o_keypress(const json_t *o, const struct act_vocab *row,
			struct act *a, char *err)
{
	if (act_chords_alloc(a, 1, err) < 0)
		return -1;
	a->nchords = 1;
	a->repeat = 1;
	return act_keys_array(o, 1, &a->chords[0], err);
}

#define A_NONE F("action")
#define A_CLICK F("action", "coordinate", "text", "key")
#define O_CLICK F("type", "x", "y", "button", "keys")

static const struct act_vocab act_anthropic[] = {
	{"screenshot", p_plain, ACT_SCREENSHOT, 0, 0, A_NONE},
	{"cursor_position", p_plain, ACT_CURSOR, 0, 0, A_NONE},
	{"mouse_move", p_a_move, ACT_MOVE, 0, 0, F("action", "coordinate")},
	{"left_click", p_a_click, ACT_CLICK, 1, 1, A_CLICK},
	{"right_click", p_a_click, ACT_CLICK, 3, 1, A_CLICK},
	{"middle_click", p_a_click, ACT_CLICK, 2, 1, A_CLICK},
	{"double_click", p_a_click, ACT_CLICK, 1, 2, A_CLICK},
	{"triple_click", p_a_click, ACT_CLICK, 1, 3, A_CLICK},
	{"left_click_drag", p_a_drag, ACT_DRAG, 1, 0,
	 F("action", "start_coordinate", "coordinate", "text", "key")},
	{"left_mouse_down", p_a_button, ACT_BUTTON, 1, 1, F("action", "coordinate")},
	{"left_mouse_up", p_a_button, ACT_BUTTON, 1, 0, F("action", "coordinate")},
	{"scroll", p_a_scroll, ACT_SCROLL, 0, 0,
	 F("action", "coordinate", "scroll_direction", "scroll_amount", "text", "key")},
	{"type", p_type, ACT_TYPE, 0, 0, F("action", "text", "delay_ms")},
	{"key", p_a_key, ACT_KEY, 0, 0, F("action", "text", "repeat")},
	{"hold_key", p_a_hold, ACT_HOLD, 0, 0, F("action", "text", "duration")},
	{"wait", p_wait, ACT_WAIT, 0, 0, F("action", "duration")},
	{"zoom", p_a_zoom, ACT_ZOOM, 0, 0, F("action", "region")},
	{"focus_window", p_focus, ACT_FOCUS, 0, 0, F("action", "window", "title")},
	{NULL, NULL, 0, 0, 0, NULL},
};

static const struct act_vocab act_openai[] = {
	{"screenshot", p_plain, ACT_SCREENSHOT, 0, 0, F("type")},
	{"click", p_o_click, ACT_CLICK, 1, 1, O_CLICK},
	{"double_click", p_o_click, ACT_CLICK, 1, 2, O_CLICK},
	{"move", p_o_move, ACT_MOVE, 0, 0, F("type", "x", "y", "keys")},
	{"drag", p_o_drag, ACT_DRAG, 1, 0, F("type", "path", "keys")},
	{"scroll", p_o_scroll, ACT_SCROLL, 0, 0,
	 F("type", "x", "y", "scroll_x", "scroll_y", "keys")},
	{"type", p_type, ACT_TYPE, 0, 0, F("type", "text", "delay_ms")},
	{"keypress", p_o_keypress, ACT_KEY, 0, 0, F("type", "keys")},
	{"wait", p_wait, ACT_WAIT, 0, 0, F("type", "duration")},
	{"focus_window", p_focus, ACT_FOCUS, 0, 0, F("type", "window", "title")},
	{NULL, NULL, 0, 0, 0, NULL},
};

void actparse_error(struct act_error *e, int i, const char *name,
		    const char *reason)
{
	e->index = i;
	if (i < 0)
		snprintf(e->msg, sizeof e->msg, "%s", reason);
	else if (name)
		snprintf(e->msg, sizeof e->msg, "action %d (%.40s): %s", i, name, reason);
	else
		snprintf(e->msg, sizeof e->msg, "action %d: %s", i, reason);
}

static void act_free_one(struct act *a)
{
	free(a->path);
	free(a->chords);
	a->path = NULL;
	a->chords = NULL;
}

/* The request-level keys, also allowed beside a lone action. */
static const char *const act_wrapper_fields[] = {
	"actions", "scale_to", "format", "quality",
	"settle_ms", "settle_timeout_ms",   /* read by watch.c */
	NULL,
};

/*
 * Parse action i. path names it in the body ("actions[2]", "[2]", or ""
 * for a lone action object, which may also carry the wrapper's keys).
 */
static int act_parse_one(const json_t *o, struct act *a, int i, const char *path,
			 struct act_error *e)
{
	const struct act_vocab *tab = act_anthropic, *row;
	const json_t *name;
	char err[ERRLEN] = "";

	memset(a, 0, sizeof *a);
	if (!json_is_object(o)) {
		actparse_error(e, i, NULL, "an action must be an object");
		return -1;
	}
	name = json_object_get(o, "action");
	if (name && json_object_get(o, "type")) {
		/* Anthropic's and OpenAI's shapes mixed: which one the model
		 * meant is a guess, and a wrong guess runs the wrong input. */
		actparse_error(e, i, NULL,
			       "an action has both \"action\" (Anthropic) and \"type\" (OpenAI): give one");
		return -1;
	}
	if (!name) {
		name = json_object_get(o, "type");
		tab = act_openai;
	}
	if (!json_is_string(name)) {
		actparse_error(e, i, NULL,
			       "\"action\" (Anthropic) or \"type\" (OpenAI) must name the action");
		return -1;
	}
	for (row = tab; row->name; row++)
		if (strcmp(row->name, json_string_value(name)) == 0)
			break;
	if (!row->name) {
		snprintf(err, sizeof err, "unknown action");
		actparse_error(e, i, json_string_value(name), err);
		return -1;
	}
	if (!path[0]) {
		const char *known[24];
		size_t n = 0;

		for (size_t k = 0; row->fields[k] && n < 18; k++)
			known[n++] = row->fields[k];
		for (size_t k = 0; act_wrapper_fields[k]; k++)
			known[n++] = act_wrapper_fields[k];
		known[n] = NULL;
		if (fields_check((json_t *)o, path, known, err, sizeof err) < 0) {
			actparse_error(e, i, row->name, err);
			return -1;
		}
	} else if (fields_check((json_t *)o, path, row->fields, err, sizeof err) < 0) {
		actparse_error(e, i, row->name, err);
		return -1;
	}
	a->kind = row->kind;
	a->name = row->name;
	a->clicks = 1;
	a->repeat = 1;
	if (row->parse(o, row, a, err) < 0) {
		actparse_error(e, i, row->name, err);
		act_free_one(a);
		return -1;
	}
	return 0;
}

static int act_wrapper(const json_t *params, struct act_list *l,
		       struct act_error *e)
{
	const json_t *st = json_object_get(params, "scale_to");
	char err[ERRLEN];
	const char *fmt;
	long w, h, q;

	if (st && !json_is_null(st)) {
		if (!json_is_object(st) ||
		    !json_object_get(st, "width") || !json_object_get(st, "height")) {
			actparse_error(e, -1, NULL, "scale_to must be {width, height}");
			return -1;
		}
		if (fields_check((json_t *)st, "scale_to", F("width", "height"), err, sizeof err) < 0)
			goto fail;
		if (jget_int(st, "width", 1, SHOT_MAX_SIDE, 0, &w, err, sizeof err) < 0 ||
		    jget_int(st, "height", 1, SHOT_MAX_SIDE, 0, &h, err, sizeof err) < 0)
			goto fail;
		if (w * h > SHOT_MAX_PIXELS) {
			snprintf(err, sizeof err, "scale_to is over %ld pixels", SHOT_MAX_PIXELS);
			goto fail;
		}
		l->scale_w = (int)w;
		l->scale_h = (int)h;
	}
	if (jget_string(params, "format", 0, &fmt, NULL, err, sizeof err) < 0 ||
	    jget_int(params, "quality", 1, 100, 75, &q, err, sizeof err) < 0)
		goto fail;
	l->quality = (int)q;
	if (fmt && strcmp(fmt, "jpeg") == 0)
		l->format = SHOT_JPEG;
	else if (fmt && strcmp(fmt, "png") != 0) {
		snprintf(err, sizeof err, "format must be \"png\" or \"jpeg\"");
		goto fail;
	}
	return 0;
fail:
	actparse_error(e, -1, NULL, err);
	return -1;
}

int actparse(const json_t *params, struct act_list *l, struct act_error *e)
{
	const json_t *list;
	size_t n, i;
	int images = 0;

	memset(l, 0, sizeof *l);
	l->format = SHOT_PNG;
	l->quality = 75;
	if (json_is_array(params)) {
		list = params;
	} else if (json_is_object(params)) {
		if (act_wrapper(params, l, e) < 0)
			return -1;
		list = json_object_get(params, "actions");
		if (!list) {
			list = params;   /* one action, perhaps with scale_to */
		} else if (!json_is_array(list)) {
			actparse_error(e, -1, NULL, "actions must be an array");
			return -1;
		} else {
			char err[ERRLEN];

			if (fields_check((json_t *)params, "", act_wrapper_fields, err, sizeof err) < 0) {
				actparse_error(e, -1, NULL, err);
				return -1;
			}
		}
	} else {
		actparse_error(e, -1, NULL,
			       "params must be an action, an array of actions or {\"actions\": [...]}");
		return -1;
	}
	n = json_is_array(list) ? json_array_size(list) : 1;
	if (n == 0 || n > ACT_MAX_ACTIONS) {
		char err[64];

		snprintf(err, sizeof err, "give 1 to %d actions", ACT_MAX_ACTIONS);
		actparse_error(e, -1, NULL, err);
		return -1;
	}
	l->v = calloc(n, sizeof *l->v);
	if (!l->v) {
		actparse_error(e, -1, NULL, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		const json_t *o = json_is_array(list) ? json_array_get(list, i) : list;
		enum act_kind k;
		char path[32] = "";

		if (json_is_array(list))
			snprintf(path, sizeof path, "%s[%zu]", list == params ? "" : "actions", i);
		if (act_parse_one(o, &l->v[i], (int)i, path, e) < 0)
			goto fail;
		l->n = (int)i + 1;
		k = l->v[i].kind;
		/* Each image is up to megabytes of base64 in one reply. */
		if ((k == ACT_SCREENSHOT || k == ACT_ZOOM || k == ACT_WAIT) &&
		    ++images > ACT_MAX_IMAGES) {
			char err[64];

			snprintf(err, sizeof err, "more than %d images in one request",
				 ACT_MAX_IMAGES);
			actparse_error(e, (int)i, l->v[i].name, err);
			goto fail;
		}
	}
	return 0;
fail:
	actparse_free(l);
	return -1;
}

void actparse_free(struct act_list *l)
{
	for (int i = 0; i < l->n; i++)
		act_free_one(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
