/*
 * fuzz_shot.c - libFuzzer target for the desktop agent's screenshot
 * params (desktop/shot.c, desktop/scale.c): what "screenshot", a settle
 * wait's "screenshot" and an action's zoom region become.
 *
 * The first four bytes give the screen size (1..16384 each), the rest is
 * the params JSON. What parses must capture a region inside the screen
 * and produce an image no bigger than that region, never empty.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scale.h"
#include "shot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

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
	json_decref(j);
	return 0;
}
