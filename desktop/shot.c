/*
 * shot.c - screenshot request parsing and etags (pure). See shot.h.
 */
#include "shot.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "jget.h"

void shot_default(struct shot_req *r, int screen_w, int screen_h)
{
	memset(r, 0, sizeof *r);
	r->format = SHOT_PNG;
	r->quality = 75;
	r->region.w = r->out_w = screen_w;
	r->region.h = r->out_h = screen_h;
}

static int shot_region(const json_t *v, int sw, int sh, struct scale_rect *rg,
		       char *err, size_t errlen)
{
	long x, y, w, h;

	if (!json_is_object(v)) {
		snprintf(err, errlen, "region must be {x, y, w, h}");
		return -1;
	}
	if (jget_int(v, "x", 0, sw - 1, 0, &x, err, errlen) < 0 ||
	    jget_int(v, "y", 0, sh - 1, 0, &y, err, errlen) < 0 ||
	    jget_int(v, "w", 1, sw, sw - x, &w, err, errlen) < 0 ||
	    jget_int(v, "h", 1, sh, sh - y, &h, err, errlen) < 0)
		return -1;
	if (x + w > sw || y + h > sh) {
		snprintf(err, errlen, "region %ldx%ld+%ld+%ld is outside the %dx%d screen",
			 w, h, x, y, sw, sh);
		return -1;
	}
	rg->x = (int)x;
	rg->y = (int)y;
	rg->w = (int)w;
	rg->h = (int)h;
	return 0;
}

int shot_parse(const json_t *params, int screen_w, int screen_h,
	       struct shot_req *r, char *err, size_t errlen)
{
	const char *fmt;
	const json_t *rg;
	long q, tw, th;

	shot_default(r, screen_w, screen_h);
	if (!params || json_is_null(params))
		return 0;
	if (!json_is_object(params)) {
		snprintf(err, errlen, "params must be an object");
		return -1;
	}
	if (jget_string(params, "format", 0, &fmt, NULL, err, errlen) < 0)
		return -1;
	if (!fmt || strcmp(fmt, "png") == 0) {
		r->format = SHOT_PNG;
	} else if (strcmp(fmt, "jpeg") == 0 || strcmp(fmt, "jpg") == 0) {
		r->format = SHOT_JPEG;
	} else {
		snprintf(err, errlen, "format must be \"png\" or \"jpeg\"");
		return -1;
	}
	if (jget_int(params, "quality", 1, 100, 75, &q, err, errlen) < 0)
		return -1;
	r->quality = (int)q;
	rg = json_object_get(params, "region");
	if (rg && !json_is_null(rg) &&
	    shot_region(rg, screen_w, screen_h, &r->region, err, errlen) < 0)
		return -1;
	if (jget_int(params, "width", 1, SHOT_MAX_SIDE, 0, &tw, err, errlen) < 0 ||
	    jget_int(params, "height", 1, SHOT_MAX_SIDE, 0, &th, err, errlen) < 0)
		return -1;
	scale_fit(r->region.w, r->region.h, (int)tw, (int)th, &r->out_w, &r->out_h);
	if (jget_bool(params, "cursor", 0, &r->cursor, err, errlen) < 0)
		return -1;
	if (jget_string(params, "if_none_match", 0, &r->if_none_match, NULL,
			err, errlen) < 0)
		return -1;
	return 0;
}

static uint64_t shot_fnv(uint64_t h, int64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8) {
		h ^= (uint8_t)v;
		h *= 0x100000001b3ULL;
	}
	return h;
}

void shot_etag(const struct shot_req *r, uint64_t nonce, uint64_t damage,
	       uint64_t cursor_key, char out[SHOT_ETAG_LEN])
{
	const int64_t f[] = {
		r->format, r->format == SHOT_JPEG ? r->quality : 0,
		r->region.x, r->region.y, r->region.w, r->region.h,
		r->out_w, r->out_h, r->cursor, r->cursor ? (int64_t)cursor_key : 0,
		(int64_t)r->window, r->origin_x, r->origin_y,
	};
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < sizeof f / sizeof *f; i++)
		h = shot_fnv(h, f[i]);
	snprintf(out, SHOT_ETAG_LEN, "%016" PRIx64 "-%" PRIx64 "-%016" PRIx64,
		 nonce, damage, h);
}

const char *shot_media_type(enum shot_format f)
{
	return f == SHOT_JPEG ? "image/jpeg" : "image/png";
}
