/*
 * resample.c - area-averaging resize of BGRX images (pure).
 *
 * Separable: a weight table per axis says which source pixels feed each
 * output pixel and how much (fixed point, summing to exactly 1 << 14). The
 * vertical pass blends the source rows of one output row into a row of
 * 8-bit values; the horizontal pass blends that row into the output. Every
 * source pixel is read about once per output row it touches. Owns only the
 * temporary tables of one call. No I/O, no globals.
 */
#include "resample.h"

#include <stdlib.h>

#define RESAMPLE_ONE (1 << 14)

struct resample_axis {
	int *first;      /* first source index of output i */
	int *count;      /* number of source indices of output i */
	int *offset;     /* index of output i's first weight in w */
	uint16_t *w;     /* weights, RESAMPLE_ONE per output */
};

static void resample_axis_free(struct resample_axis *a)
{
	free(a->first);
	free(a->count);
	free(a->offset);
	free(a->w);
}

/*
 * Output pixel i covers source [i*s/d, (i+1)*s/d). In units of 1/d of a
 * source pixel that is [i*s, (i+1)*s): integers, so coverage is exact and
 * only the final scaling to RESAMPLE_ONE rounds.
 */
static int resample_axis_init(struct resample_axis *a, int s, int d)
{
	size_t nw = (size_t)s + 2 * (size_t)d, k = 0;

	a->first = malloc(sizeof(int) * (size_t)d);
	a->count = malloc(sizeof(int) * (size_t)d);
	a->offset = malloc(sizeof(int) * (size_t)d);
	a->w = malloc(sizeof(uint16_t) * nw);
	if (!a->first || !a->count || !a->offset || !a->w)
		goto fail;
	for (int i = 0; i < d; i++) {
		int64_t lo = (int64_t)i * s, hi = lo + s;   /* in 1/d units */
		int j0 = (int)(lo / d), j1 = (int)((hi + d - 1) / d);
		int sum = 0;

		a->first[i] = j0;
		a->count[i] = j1 - j0;
		a->offset[i] = (int)k;
		for (int j = j0; j < j1; j++) {
			int64_t pl = (int64_t)j * d, ph = pl + d;
			int64_t cov = (ph < hi ? ph : hi) - (pl > lo ? pl : lo);
			int wt = (int)(cov * RESAMPLE_ONE / s);

			if (j == j1 - 1)
				wt = RESAMPLE_ONE - sum;   /* exact total */
			sum += wt;
			a->w[k++] = (uint16_t)wt;
		}
	}
	return 0;
fail:
	return -1;   /* the caller frees what was allocated */
}

static void resample_row_v(const uint8_t *src, size_t sstride, int sw,
			   const struct resample_axis *ay, int i, uint8_t *row)
{
	const uint16_t *w = ay->w + ay->offset[i];
	const uint8_t *s0 = src + (size_t)ay->first[i] * sstride;
	size_t n = (size_t)sw * 4;

	if (ay->count[i] == 1) {
		for (size_t x = 0; x < n; x++)
			row[x] = s0[x];
		return;
	}
	for (size_t x = 0; x < n; x++) {
		uint32_t acc = RESAMPLE_ONE / 2;
		const uint8_t *p = s0 + x;

		for (int j = 0; j < ay->count[i]; j++, p += sstride)
			acc += (uint32_t)w[j] * *p;
		row[x] = (uint8_t)(acc >> 14);
	}
}

static void resample_row_h(const uint8_t *row, const struct resample_axis *ax,
			   int dw, uint8_t *out)
{
	for (int i = 0; i < dw; i++, out += 4) {
		const uint16_t *w = ax->w + ax->offset[i];
		const uint8_t *p = row + (size_t)ax->first[i] * 4;
		uint32_t b = RESAMPLE_ONE / 2, g = b, r = b;

		for (int j = 0; j < ax->count[i]; j++, p += 4) {
			b += (uint32_t)w[j] * p[0];
			g += (uint32_t)w[j] * p[1];
			r += (uint32_t)w[j] * p[2];
		}
		out[0] = (uint8_t)(b >> 14);
		out[1] = (uint8_t)(g >> 14);
		out[2] = (uint8_t)(r >> 14);
		out[3] = 0;
	}
}

int resample_bgrx(const uint8_t *src, int sw, int sh, size_t sstride,
		  uint8_t *dst, int dw, int dh, size_t dstride)
{
	struct resample_axis ax = {0}, ay = {0};
	uint8_t *row = NULL;
	int rc = -1;

	if (sw < 1 || sh < 1 || dw < 1 || dh < 1)
		return -1;
	if (resample_axis_init(&ax, sw, dw) < 0 || resample_axis_init(&ay, sh, dh) < 0)
		goto fail;
	row = malloc((size_t)sw * 4);
	if (!row)
		goto fail;
	for (int i = 0; i < dh; i++) {
		resample_row_v(src, sstride, sw, &ay, i, row);
		resample_row_h(row, &ax, dw, dst + (size_t)i * dstride);
	}
	rc = 0;
fail:
	free(row);
	resample_axis_free(&ax);
	resample_axis_free(&ay);
	return rc;
}
