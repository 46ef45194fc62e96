/*
 * shot.h - what a screenshot request asks for, and its etag (pure).
 *
 * shot_parse turns the untrusted "screenshot" params into a checked
 * struct shot_req against the current screen size; shot_etag names the
 * image that request would produce, from the boot nonce, the damage counter
 * and the request itself, so an unchanged screen is answered without a
 * capture. No I/O, no globals.
 */
#ifndef DESKTOP_SHOT_H
#define DESKTOP_SHOT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "scale.h"

enum shot_format {
	SHOT_PNG,
	SHOT_JPEG,
};

#define SHOT_MAX_SIDE 16384   /* largest requested output side */
#define SHOT_MAX_PIXELS (1L << 24)   /* largest output area (64 MiB BGRX) */
#define SHOT_ETAG_LEN 64      /* room for an etag and its NUL */

struct shot_req {
	enum shot_format format;
	int quality;                /* JPEG quality, 1-100 */
	struct scale_rect region;   /* real pixels to capture */
	int out_w, out_h;           /* output size (region size: no scaling) */
	int cursor;                 /* draw the pointer into the image */
	const char *if_none_match;  /* borrowed from the params, or NULL */
	uint64_t window;            /* a window's own image (0: the screen) */
	int origin_x, origin_y;     /* where that window's frame is */
};

/* A whole-screen PNG request of screen_w x screen_h, nothing scaled. */
void shot_default(struct shot_req *r, int screen_w, int screen_h);

/*
 * Fill r from params (an object, or NULL for all defaults) for a screen of
 * screen_w x screen_h. Returns 0, or -1 with a reason in err.
 */
int shot_parse(const json_t *params, int screen_w, int screen_h,
	       struct shot_req *r, char *err, size_t errlen);

/*
 * The etag of the image r would give now: nonce (random per agent start),
 * damage (bumped on every screen change and resize) and cursor_key (cursor
 * shape serial and position; only used when r->cursor). Writes at most
 * SHOT_ETAG_LEN bytes.
 */
void shot_etag(const struct shot_req *r, uint64_t nonce, uint64_t damage,
	       uint64_t cursor_key, char out[SHOT_ETAG_LEN]);

/* "image/png" or "image/jpeg". */
const char *shot_media_type(enum shot_format f);

#endif
