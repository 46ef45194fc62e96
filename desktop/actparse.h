/*
 * actparse.h - computer-use actions, as posted, into a checked list (pure).
 *
 * Accepts what a model's harness POSTs, unchanged: one action object, an
 * array of them, or {"actions": [...], "scale_to": {...}}. Each object is
 * either Anthropic's computer tool ("action": "left_click", "coordinate":
 * [x, y], ...) or OpenAI's computer actions ("type": "click", "x", "y",
 * ...). Both come down to the same few primitives (struct act), which
 * actions.c runs. Every field is type- and range-checked here; what depends
 * on the live screen (coordinates inside it) is checked when run.
 * No I/O, no globals: the vocabulary tables are constant.
 */
#ifndef DESKTOP_ACTPARSE_H
#define DESKTOP_ACTPARSE_H

#include <jansson.h>
#include <stddef.h>

#include "agentproto.h"
#include "keys.h"
#include "shot.h"

#define ACT_MAX_ACTIONS AGENTPROTO_MAX_ACTIONS   /* actions in one request */
#define ACT_MAX_PATH    1000   /* points in a drag path */
#define ACT_MAX_CHORDS  256    /* chords in one key action */
#define ACT_MAX_WAIT_MS 60000  /* wait and hold_key durations */
#define ACT_MAX_DELAY_MS 1000  /* per-character typing delay */
#define ACT_MAX_SCROLL  1000   /* wheel clicks in one scroll */
#define ACT_MAX_REPEAT  100    /* repeats of one key action */
#define ACT_MAX_IMAGES  AGENTPROTO_MAX_ACTION_IMAGES  /* screenshot, zoom and wait actions in one request */

enum act_kind {
	ACT_SCREENSHOT,   /* image of the (model) screen */
	ACT_CURSOR,       /* pointer position, in model coordinates */
	ACT_MOVE,         /* pointer to pos */
	ACT_CLICK,        /* [move], press+release button `clicks` times */
	ACT_DRAG,         /* press at path[0], move along, release at the end */
	ACT_BUTTON,       /* [move], press (down) or release a button */
	ACT_SCROLL,       /* [move], wheel clicks */
	ACT_TYPE,         /* text, as characters */
	ACT_KEY,          /* chords one after another, `repeat` times */
	ACT_HOLD,         /* chord held for duration_ms */
	ACT_WAIT,         /* duration_ms, then a screenshot */
	ACT_ZOOM,         /* a region at full resolution */
	ACT_FOCUS,        /* raise and focus a window */
	ACT_KIND_COUNT
};

struct act_point {
	long x, y;
};

struct act {
	enum act_kind kind;
	const char *name;            /* the action's name, for messages */
	int has_pos;                 /* move to pos first */
	struct act_point pos;        /* model coordinates */
	struct keys_chord mods;      /* held during clicks, drags, scrolls */
	int button;                  /* X button: 1 left, 2 middle, 3 right, 8/9 */
	int clicks;                  /* ACT_CLICK: 1-3 */
	int down;                    /* ACT_BUTTON: 1 press, 0 release */
	struct act_point *path;      /* ACT_DRAG: npath >= 2 points (owned) */
	int from_pointer;            /* ACT_DRAG: path[0] is wherever the pointer is */
	int npath;
	int scroll_x, scroll_y;      /* wheel clicks: + right, + down */
	const char *text;            /* ACT_TYPE: borrowed from the request */
	size_t text_len;
	struct keys_chord *chords;   /* ACT_KEY, ACT_HOLD (owned) */
	int nchords;
	int repeat;                  /* ACT_KEY */
	long duration_ms;            /* ACT_HOLD, ACT_WAIT */
	long delay_ms;               /* ACT_TYPE, per character */
	long region[4];              /* ACT_ZOOM: x0, y0, x1, y1 (model) */
	unsigned long window;        /* ACT_FOCUS by X window id, or 0 */
	const char *title;           /* ACT_FOCUS by title substring (borrowed) */
};

struct act_list {
	struct act *v;               /* n actions (owned) */
	int n;
	int scale_w, scale_h;        /* "scale_to", or 0 x 0 */
	enum shot_format format;     /* images in results: "format" beside */
	int quality;                 /*   "actions", default PNG / 75 */
};

struct act_error {
	int index;                   /* failing action, -1 for the request */
	char msg[320];               /* "action 2 (left_click): ..." */
};

/*
 * Parse params into l. Strings in l borrow from params: keep params alive
 * as long as l. Returns 0, or -1 with e filled (nothing to free then).
 */
int actparse(const json_t *params, struct act_list *l, struct act_error *e);

/* Free what actparse allocated; l may be zeroed or already freed. */
void actparse_free(struct act_list *l);

/* Fill e for action i (name may be NULL) from a reason. */
void actparse_error(struct act_error *e, int i, const char *name,
		    const char *reason);

#endif
