/*
 * test_desktop_pngsolid.c - cmocka tests of desktop/pngsolid.c: a
 * one-colour image found (and a single differing pixel anywhere not), and
 * its hand-written PNG decoded by libspng (CRCs and zlib's Adler-32
 * checked) back to exactly that colour at every pixel, for sizes whose
 * rows end on and off the 258-byte copies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <spng.h>

#include "../../desktop/pngsolid.h"

static uint8_t *bgrx(int w, int h, size_t stride, const uint8_t rgb[3])
{
	uint8_t *p = malloc(stride * (size_t)h);

	assert_non_null(p);
	memset(p, 0x5a, stride * (size_t)h);   /* padding that must not matter */
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			uint8_t *px = p + (size_t)y * stride + (size_t)x * 4;

			px[0] = rgb[2];
			px[1] = rgb[1];
			px[2] = rgb[0];
			px[3] = 0;
		}
	return p;
}

static void test_colour(void **state)
{
	const uint8_t rgb[3] = {10, 200, 30};
	const int w = 37, h = 11;
	const size_t stride = (size_t)w * 4 + 12;
	uint8_t *p = bgrx(w, h, stride, rgb), got[3];

	(void)state;
	assert_int_equal(pngsolid_colour(p, w, h, stride, got), 1);
	assert_memory_equal(got, rgb, 3);
	for (int y = 0; y < h; y += 5)
		for (int x = 0; x < w; x += 9)
			for (int c = 0; c < 3; c++) {
				uint8_t *b = p + (size_t)y * stride + (size_t)x * 4 + c;

				*b ^= 1;
				assert_int_equal(pngsolid_colour(p, w, h, stride, got), 0);
				*b ^= 1;
			}
	assert_int_equal(pngsolid_colour(p, 0, h, stride, got), 0);
	free(p);
}

static void check_decodes(int w, int h, const uint8_t rgb[3])
{
	size_t cap = pngsolid_bound(w, h), len, outlen;
	uint8_t *png = malloc(cap), *pix;
	struct spng_ihdr ihdr;
	spng_ctx *ctx;

	assert_non_null(png);
	len = pngsolid_encode(w, h, rgb, png, cap);
	assert_true(len > 0 && len <= cap);
	assert_int_equal(pngsolid_encode(w, h, rgb, png, len - 1), 0);
	len = pngsolid_encode(w, h, rgb, png, cap);
	ctx = spng_ctx_new(0);
	assert_non_null(ctx);
	spng_set_crc_action(ctx, SPNG_CRC_ERROR, SPNG_CRC_ERROR);
	assert_int_equal(spng_set_png_buffer(ctx, png, len), 0);
	assert_int_equal(spng_get_ihdr(ctx, &ihdr), 0);
	assert_int_equal(ihdr.width, w);
	assert_int_equal(ihdr.height, h);
	assert_int_equal(ihdr.color_type, SPNG_COLOR_TYPE_TRUECOLOR);
	assert_int_equal(spng_decoded_image_size(ctx, SPNG_FMT_RGB8, &outlen), 0);
	assert_int_equal(outlen, (size_t)w * (size_t)h * 3);
	pix = malloc(outlen);
	assert_non_null(pix);
	assert_int_equal(spng_decode_image(ctx, pix, outlen, SPNG_FMT_RGB8, 0), 0);
	for (size_t i = 0; i < outlen; i += 3)
		if (memcmp(pix + i, rgb, 3) != 0)
			fail_msg("%dx%d: pixel %zu is %d,%d,%d", w, h, i / 3, pix[i], pix[i + 1],
				 pix[i + 2]);
	free(pix);
	spng_ctx_free(ctx);
	free(png);
}

static void test_decodes(void **state)
{
	static const int sizes[][2] = {
		{1, 1}, {1, 7}, {2, 1}, {3, 3}, {86, 2}, {87, 3}, {172, 5},
		{259, 4}, {1280, 800}, {1920, 1080}, {1024, 768},
	};
	static const uint8_t colours[][3] = {{0, 0, 0}, {255, 255, 255}, {1, 2, 3},
					     {0x2e, 0x34, 0x36}, {200, 0, 0}};

	(void)state;
	for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
		for (size_t c = 0; c < sizeof colours / sizeof *colours; c++)
			check_decodes(sizes[s][0], sizes[s][1], colours[c]);
	assert_int_equal(pngsolid_bound(0, 5), 0);
	assert_int_equal(pngsolid_encode(0, 5, colours[0], NULL, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_colour),
		cmocka_unit_test(test_decodes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
