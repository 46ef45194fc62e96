/*
 * scale.c - model/real coordinate mapping and fit-inside sizes (pure).
 *
 * Integer arithmetic only, in 64 bits: a model pixel maps to the real
 * pixel holding its centre, and when the model is no larger than the
 * screen that real pixel maps back to the same model pixel (what
 * cursor_position relies on). No I/O, no globals.
 */
#include "scale.h"

#include <stdint.h>

/* Centre of model pixel v, in real pixels, floored: (2v+1)*R / 2M. */
static int scale_axis(long v, int model, int real)
{
	int64_t r = ((2 * (int64_t)v + 1) * real) / (2 * (int64_t)model);

	return r >= real ? real - 1 : (int)r;
}

/* Model to real: v * real / model, rounded to the nearest pixel, which is
 * what agents' own reference scaling does (so at 2x, (100,50) is (200,100))
 * and keeps 0 at 0. */
static int scale_point(long v, int model, int real)
{
	int64_t r = (2 * (int64_t)v * real + model) / (2 * (int64_t)model);
	/* ...but never past the model pixel's own area (a model larger than
	 * the screen has areas narrower than a pixel). */
	int64_t last = ((int64_t)(v + 1) * real + model - 1) / model - 1;

	if (r > last)
		r = last;
	return r >= real ? real - 1 : (int)r;
}

int scale_to_real(const struct scale *s, long xm, long ym, int *x, int *y)
{
	if (xm < 0 || ym < 0 || xm >= s->model_w || ym >= s->model_h)
		return -1;
	*x = scale_point(xm, s->model_w, s->real_w);
	*y = scale_point(ym, s->model_h, s->real_h);
	return 0;
}

void scale_to_model(const struct scale *s, int x, int y, int *xm, int *ym)
{
	x = x < 0 ? 0 : x >= s->real_w ? s->real_w - 1 : x;
	y = y < 0 ? 0 : y >= s->real_h ? s->real_h - 1 : y;
	*xm = scale_axis(x, s->real_w, s->model_w);
	*ym = scale_axis(y, s->real_h, s->model_h);
}

/* Model edge to real edge: floor for a start, ceiling for an end. */
static int scale_edge(long v, int model, int real, int up)
{
	int64_t n = (int64_t)v * real;

	return (int)(up ? (n + model - 1) / model : n / model);
}

int scale_region_to_real(const struct scale *s, long x0, long y0, long x1,
			 long y1, struct scale_rect *r)
{
	int rx0, ry0, rx1, ry1;

	if (x0 < 0 || y0 < 0 || x1 > s->model_w || y1 > s->model_h ||
	    x0 >= x1 || y0 >= y1)
		return -1;
	rx0 = scale_edge(x0, s->model_w, s->real_w, 0);
	ry0 = scale_edge(y0, s->model_h, s->real_h, 0);
	rx1 = scale_edge(x1, s->model_w, s->real_w, 1);
	ry1 = scale_edge(y1, s->model_h, s->real_h, 1);
	r->x = rx0;
	r->y = ry0;
	r->w = rx1 > rx0 ? rx1 - rx0 : 1;
	r->h = ry1 > ry0 ? ry1 - ry0 : 1;
	return 0;
}

void scale_fit(int sw, int sh, int tw, int th, int *ow, int *oh)
{
	int64_t w = sw, h = sh;

	if (tw > 0 && w > tw) {
		h = (h * tw + w / 2) / w;
		w = tw;
	}
	if (th > 0 && h > th) {
		w = ((int64_t)sw * th + sh / 2) / sh;
		h = th;
	}
	*ow = w < 1 ? 1 : (int)w;
	*oh = h < 1 ? 1 : (int)h;
}
