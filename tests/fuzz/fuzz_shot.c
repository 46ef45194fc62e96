/*
 * fuzz_shot.c - libFuzzer target for screenshot params on both sides:
 * deskboxd's (common/shotparams.c: a client's desktop.screenshot params to
 * the agent's) and the desktop agent's (desktop/shot.c, desktop/scale.c:
 * what "screenshot" and a settle wait's "screenshot" become).
 *
 * The first four bytes give the screen size (1..16384 each), the rest is
 * the params JSON. What the agent parses must capture a region inside the
 * screen and produce an image no bigger than that region, never empty.
 * What deskboxd passes on, the agent must take when its region is on the
 * screen: the two sides may not disagree about a valid request.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scale.h"
#include "shot.h"
#include "shotparams.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/* deskboxd's side, then the agent's on what it sends. */
static void server_side(const json_t *j, int sw, int sh)
{
	char err[256] = "";
	json_t *p = shotparams_agent(j, err, sizeof(err)), *rg;
	struct shot_req r;
	json_int_t x, y, w, h;

	if (!p) {
		CHECK(err[0]);
		return;
	}
	rg = json_object_get(p, "region");
	x = json_integer_value(json_object_get(rg, "x"));
	y = json_integer_value(json_object_get(rg, "y"));
	w = json_integer_value(json_object_get(rg, "w"));
	h = json_integer_value(json_object_get(rg, "h"));
	CHECK(!rg || (x >= 0 && y >= 0 && w >= 1 && h >= 1 && w <= 16384 && h <= 16384));
	if (!rg || (x + w <= sw && y + h <= sh))
		CHECK(shot_parse(p, sw, sh, &r, err, sizeof(err)) == 0);
	json_decref(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shot_req r;
	struct scale sc;
	struct scale_rect rr;
	char err[256], etag[SHOT_ETAG_LEN];
	int sw, sh, x, y;
	json_t *j;

	if (size < 4)
		return 0;
	sw = 1 + (data[0] << 8 | data[1]) % 16384;
	sh = 1 + (data[2] << 8 | data[3]) % 16384;
	j = json_loadb((const char *)data + 4, size - 4, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
	err[0] = '\0';
	if (shot_parse(j, sw, sh, &r, err, sizeof(err)) == 0) {
		CHECK(r.region.x >= 0 && r.region.y >= 0 && r.region.w >= 1 && r.region.h >= 1);
		CHECK(r.region.x + r.region.w <= sw && r.region.y + r.region.h <= sh);
		CHECK(r.out_w >= 1 && r.out_h >= 1 && r.out_w <= r.region.w && r.out_h <= r.region.h);
		CHECK(r.quality >= 1 && r.quality <= 100);
		shot_etag(&r, 1, 2, 3, etag);
		CHECK(memchr(etag, 0, sizeof(etag)) && etag[0]);
		/* The output as a model screen: its points map back inside. */
		sc.real_w = sw;
		sc.real_h = sh;
		sc.model_w = r.out_w;
		sc.model_h = r.out_h;
		if (scale_to_real(&sc, r.out_w - 1, r.out_h - 1, &x, &y) == 0)
			CHECK(x >= 0 && y >= 0 && x < sw && y < sh);
		scale_to_model(&sc, sw - 1, sh - 1, &x, &y);
		CHECK(x >= 0 && y >= 0 && x < r.out_w && y < r.out_h);
		if (scale_region_to_real(&sc, 0, 0, r.out_w, r.out_h, &rr) == 0)
			CHECK(rr.x >= 0 && rr.y >= 0 && rr.x + rr.w <= sw && rr.y + rr.h <= sh);
	} else {
		CHECK(err[0]);
	}
	server_side(j, sw, sh);
	json_decref(j);
	return 0;
}
