/*
 * test_desktop_scale.c - cmocka tests of the agent's pixel math:
 * desktop/scale.c (model <-> real coordinates, rounding so a click lands on
 * the pixel aimed at, regions, fit-inside sizes) and desktop/resample.c
 * (area-averaging resize of BGRX images).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../desktop/resample.h"
#include "../../desktop/scale.h"

static void test_identity(void **state)
{
	struct scale s = {1280, 800, 1280, 800};
	int x, y, xm, ym;

	for (int v = 0; v < 1280; v += 7) {
		assert_int_equal(scale_to_real(&s, v, v % 800, &x, &y), 0);
		assert_int_equal(x, v);
		assert_int_equal(y, v % 800);
		scale_to_model(&s, x, y, &xm, &ym);
		assert_int_equal(xm, v);
	}
	assert_int_equal(scale_to_real(&s, 1279, 799, &x, &y), 0);
	assert_int_equal(scale_to_real(&s, 1280, 0, &x, &y), -1);
	assert_int_equal(scale_to_real(&s, 0, 800, &x, &y), -1);
	assert_int_equal(scale_to_real(&s, -1, 0, &x, &y), -1);
}

static void test_half_size_model(void **state)
{
	/* Model pixel v covers real [2v, 2v+2); it maps to v * 2, as agents'
	 * own reference scaling does. */
	struct scale s = {1280, 800, 640, 400};
	int x, y, xm, ym;

	assert_int_equal(scale_to_real(&s, 0, 0, &x, &y), 0);
	assert_int_equal(x, 0);
	assert_int_equal(y, 0);
	assert_int_equal(scale_to_real(&s, 100, 50, &x, &y), 0);
	assert_int_equal(x, 200);
	assert_int_equal(y, 100);
	assert_int_equal(scale_to_real(&s, 639, 399, &x, &y), 0);
	assert_int_equal(x, 1278);
	assert_int_equal(y, 798);
	scale_to_model(&s, 200, 201, &xm, &ym);
	assert_int_equal(xm, 100);
	assert_int_equal(ym, 100);
	scale_to_model(&s, 5000, -3, &xm, &ym);   /* clamped */
	assert_int_equal(xm, 639);
	assert_int_equal(ym, 0);
}

/* Every model pixel maps to a real pixel under the area it shows, for any
 * ratio up or down; when the model is not
 * larger than the screen, that real pixel maps back to the same model pixel. */
static void test_round_trip_property(void **state)
{
	static const int sizes[][4] = {
		{1280, 800, 1024, 640}, {1280, 800, 1366, 768}, {1920, 1080, 1280, 720},
		{1280, 800, 333, 211}, {7, 5, 3, 2}, {800, 600, 1600, 1200},
		{1024, 768, 1024, 767},
	};

	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		struct scale s = {sizes[i][0], sizes[i][1], sizes[i][2], sizes[i][3]};

		for (int v = 0; v < s.model_w; v++) {
			int x, y, xm, ym;
			double lo = (double)v * s.real_w / s.model_w;
			double hi = (double)(v + 1) * s.real_w / s.model_w;

			assert_int_equal(scale_to_real(&s, v, 0, &x, &y), 0);
			if (x + 1 <= lo || x >= hi)   /* must overlap what the model saw */
				fail_msg("%dx%d->%dx%d: model %d -> real %d outside [%g,%g)",
					 s.real_w, s.real_h, s.model_w, s.model_h, v, x, lo, hi);
			if (s.model_w <= s.real_w) {
				scale_to_model(&s, x, y, &xm, &ym);
				assert_int_equal(xm, v);
			}
		}
	}
}

static void test_regions(void **state)
{
	struct scale s = {1280, 800, 640, 400};
	struct scale id = {1280, 800, 1280, 800};
	struct scale_rect r;

	assert_int_equal(scale_region_to_real(&s, 0, 0, 320, 200, &r), 0);
	assert_int_equal(r.x, 0);
	assert_int_equal(r.w, 640);
	assert_int_equal(r.h, 400);
	assert_int_equal(scale_region_to_real(&s, 10, 20, 11, 21, &r), 0);
	assert_int_equal(r.x, 20);
	assert_int_equal(r.y, 40);
	assert_int_equal(r.w, 2);
	assert_int_equal(scale_region_to_real(&id, 5, 6, 105, 56, &r), 0);
	assert_int_equal(r.w, 100);
	assert_int_equal(r.h, 50);
	assert_int_equal(scale_region_to_real(&s, 0, 0, 641, 10, &r), -1);
	assert_int_equal(scale_region_to_real(&s, 5, 5, 5, 10, &r), -1);
	assert_int_equal(scale_region_to_real(&s, -1, 0, 5, 10, &r), -1);
	/* A ragged ratio: the region is widened to whole real pixels. */
	struct scale odd = {1280, 800, 333, 211};

	assert_int_equal(scale_region_to_real(&odd, 1, 1, 2, 2, &r), 0);
	assert_int_equal(r.x, 3);   /* floor(1280/333) */
	assert_int_equal(r.w, 5);   /* to ceil(2*1280/333) = 8 */
	assert_true(r.x + r.w <= 1280);
}

static void test_fit(void **state)
{
	int w, h;

	scale_fit(1280, 800, 640, 0, &w, &h);
	assert_int_equal(w, 640);
	assert_int_equal(h, 400);
	scale_fit(1280, 800, 0, 200, &w, &h);
	assert_int_equal(w, 320);
	assert_int_equal(h, 200);
	scale_fit(1280, 800, 500, 500, &w, &h);
	assert_int_equal(w, 500);
	assert_int_equal(h, 313);
	scale_fit(1280, 800, 1000, 100, &w, &h);
	assert_int_equal(w, 160);
	assert_int_equal(h, 100);
	scale_fit(1280, 800, 5000, 5000, &w, &h);   /* never enlarged */
	assert_int_equal(w, 1280);
	assert_int_equal(h, 800);
	scale_fit(1280, 800, 0, 0, &w, &h);
	assert_int_equal(w, 1280);
	scale_fit(10000, 1, 10, 0, &w, &h);        /* at least 1x1 */
	assert_int_equal(w, 10);
	assert_int_equal(h, 1);
}

static uint8_t *image(int w, int h, uint32_t (*px)(int x, int y))
{
	uint8_t *p = malloc((size_t)w * h * 4);

	assert_non_null(p);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			uint32_t v = px(x, y);

			memcpy(p + ((size_t)y * w + x) * 4, &v, 4);
		}
	return p;
}

static uint32_t solid(int x, int y)
{
	return 0x00336699;
}

static uint32_t checker(int x, int y)
{
	return ((x + y) & 1) ? 0x00ffffff : 0;
}

static uint32_t ramp(int x, int y)
{
	return (uint32_t)(x * 10) | (uint32_t)(y * 10) << 8;
}

static void test_resample_solid_stays_solid(void **state)
{
	static const int sz[][2] = {{640, 400}, {333, 211}, {1, 1}, {1280, 800}, {2000, 1500}};
	uint8_t *src = image(1280, 800, solid);

	for (size_t i = 0; i < sizeof sz / sizeof *sz; i++) {
		int dw = sz[i][0], dh = sz[i][1];
		uint8_t *dst = malloc((size_t)dw * dh * 4);

		assert_int_equal(resample_bgrx(src, 1280, 800, 1280 * 4, dst, dw, dh, (size_t)dw * 4), 0);
		for (int k = 0; k < dw * dh; k++) {
			if (dst[k * 4] != 0x99 || dst[k * 4 + 1] != 0x66 || dst[k * 4 + 2] != 0x33)
				fail_msg("%dx%d pixel %d is %02x%02x%02x", dw, dh, k, dst[k * 4 + 2],
					 dst[k * 4 + 1], dst[k * 4]);
			assert_int_equal(dst[k * 4 + 3], 0);
		}
		free(dst);
	}
	free(src);
}

static void test_resample_averages_areas(void **state)
{
	uint8_t *src = image(8, 8, checker), dst[4 * 4 * 4];

	/* 2x2 blocks of a checkerboard average to mid grey. */
	assert_int_equal(resample_bgrx(src, 8, 8, 32, dst, 4, 4, 16), 0);
	for (int k = 0; k < 16; k++)
		for (int c = 0; c < 3; c++)
			assert_int_equal(dst[k * 4 + c], 128);
	free(src);

	/* A ramp halved: each output is the mean of its 2x2 block. */
	src = image(8, 8, ramp);
	assert_int_equal(resample_bgrx(src, 8, 8, 32, dst, 4, 4, 16), 0);
	for (int y = 0; y < 4; y++)
		for (int x = 0; x < 4; x++) {
			assert_int_equal(dst[(y * 4 + x) * 4], x * 20 + 5);
			assert_int_equal(dst[(y * 4 + x) * 4 + 1], y * 20 + 5);
		}
	free(src);
}

static void test_resample_stride_and_upscale(void **state)
{
	/* A 2x1 image in rows of 16 bytes, enlarged to 4x2: each source
	 * pixel becomes a 2x2 block. */
	uint8_t src[32] = {10, 20, 30, 0, 50, 60, 70, 0}, dst[4 * 2 * 4];

	memcpy(src + 16, src, 8);
	assert_int_equal(resample_bgrx(src, 2, 1, 16, dst, 4, 2, 16), 0);
	for (int y = 0; y < 2; y++) {
		assert_int_equal(dst[y * 16 + 0], 10);
		assert_int_equal(dst[y * 16 + 4], 10);
		assert_int_equal(dst[y * 16 + 8], 50);
		assert_int_equal(dst[y * 16 + 14], 70);
	}
	assert_int_equal(resample_bgrx(src, 0, 1, 16, dst, 4, 2, 16), -1);
	assert_int_equal(resample_bgrx(src, 2, 1, 16, dst, 0, 2, 16), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_half_size_model),
		cmocka_unit_test(test_round_trip_property),
		cmocka_unit_test(test_regions),
		cmocka_unit_test(test_fit),
		cmocka_unit_test(test_resample_solid_stays_solid),
		cmocka_unit_test(test_resample_averages_areas),
		cmocka_unit_test(test_resample_stride_and_upscale),
	};

	return cmocka_run_group_tests_name("desktop_scale", tests, NULL, NULL);
}
