/*
 * shotparams.c - a screenshot's params from a client's (pure). See
 * shotparams.h.
 */
#include "shotparams.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "opparam.h"

/* The region in params ("x,y,w,h", {x,y,w,h}, or x, y, w, h members) into
 * r (all -1 when none is given). Returns 0, or -1 with err. */
static int shotparams_region(const json_t *params, long r[4], char *err, size_t cap)
{
	static const char *const k[4] = { "x", "y", "w", "h" };
	const json_t *region = json_object_get(params, "region");

	r[0] = r[1] = r[2] = r[3] = -1;
	if (json_is_string(region)) {
		if (sscanf(json_string_value(region), "%ld,%ld,%ld,%ld", &r[0], &r[1], &r[2], &r[3]) != 4) {
			snprintf(err, cap, "region must be x,y,w,h (w and h > 0)");
			return -1;
		}
	} else if (json_is_object(region)) {
		for (int i = 0; i < 4; i++) {
			const json_t *n = json_object_get(region, k[i]);

			if (!json_is_integer(n)) {
				snprintf(err, cap, "region must be {x, y, w, h} (whole numbers)");
				return -1;
			}
			r[i] = (long)json_integer_value(n);
		}
	} else if (region && !json_is_null(region)) {
		snprintf(err, cap, "region must be \"x,y,w,h\" or {x, y, w, h}");
		return -1;
	} else {
		int given = 0;

		for (int i = 0; i < 4; i++) {
			if (opparam_int(params, k[i], i < 2 ? 0 : 1, 16384, &r[i], err, cap) < 0)
				return -1;
			given += r[i] >= 0;
		}
		if (given && given < 4) {
			snprintf(err, cap, "a region needs all of x, y, w and h");
			return -1;
		}
	}
	if ((r[0] >= 0 || r[1] >= 0 || r[2] >= 0 || r[3] >= 0) &&
	    (r[0] < 0 || r[1] < 0 || r[2] <= 0 || r[3] <= 0 || r[0] > 16384 || r[1] > 16384 ||
	     r[2] > 16384 || r[3] > 16384)) {
		snprintf(err, cap, "region must be x,y,w,h (w and h > 0)");
		return -1;
	}
	return 0;
}

json_t *shotparams_agent(const json_t *params, char *err, size_t cap)
{
	json_t *p = json_object();
	const char *fmt;
	long v, r[4];
	int cursor = 0;

	if (!p) {
		snprintf(err, cap, "out of memory");
		return NULL;
	}
	if (opparam_str(params, "format", 0, &fmt, err, cap) < 0)
		goto fail;
	if (fmt) {
		if (strcasecmp(fmt, "jpg") && strcasecmp(fmt, "jpeg") && strcasecmp(fmt, "png")) {
			snprintf(err, cap, "format must be png or jpeg");
			goto fail;
		}
		json_object_set_new(p, "format", json_string(strcasecmp(fmt, "png") ? "jpeg" : "png"));
	}
	v = -1;
	if (opparam_int(params, "quality", 1, 100, &v, err, cap) < 0)
		goto fail;
	if (v > 0)
		json_object_set_new(p, "quality", json_integer(v));
	for (int i = 0; i < 2; i++) {
		v = -1;
		if (opparam_int(params, i ? "height" : "width", 1, 16384, &v, err, cap) < 0)
			goto fail;
		if (v > 0)
			json_object_set_new(p, i ? "height" : "width", json_integer(v));
	}
	if (shotparams_region(params, r, err, cap) < 0)
		goto fail;
	if (r[0] >= 0)
		json_object_set_new(p, "region", json_pack("{s:I,s:I,s:I,s:I}", "x", (json_int_t)r[0], "y",
							   (json_int_t)r[1], "w", (json_int_t)r[2], "h",
							   (json_int_t)r[3]));
	if (opparam_bool(params, "cursor", &cursor, err, cap) < 0)
		goto fail;
	if (cursor)
		json_object_set_new(p, "cursor", json_true());
	v = 0;
	if (opparam_int(params, "window", 1, 4294967295L, &v, err, cap) < 0)
		goto fail;
	if (v > 0)
		json_object_set_new(p, "window", json_integer(v));
	if (opparam_str(params, "if_none_match", 0, &fmt, err, cap) < 0)
		goto fail;
	if (fmt)
		json_object_set_new(p, "if_none_match", json_string(fmt));
	return p;
fail:
	json_decref(p);
	return NULL;
}
