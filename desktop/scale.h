/*
 * scale.h - coordinates between the screen a model sees and the real one
 * (pure).
 *
 * With "scale_to" a model looks at screenshots of model_w x model_h while
 * the screen is real_w x real_h. A model pixel covers a rectangle of real
 * pixels; a point aimed at a model pixel goes to the real pixel under that
 * rectangle's centre, so a click lands where the model looked. No I/O, no
 * globals.
 */
#ifndef DESKTOP_SCALE_H
#define DESKTOP_SCALE_H

struct scale {
	int real_w, real_h;
	int model_w, model_h;   /* equal to real_* when nothing is scaled */
};

struct scale_rect {
	int x, y, w, h;
};

/* Model point to real pixel. Returns 0, or -1 when (xm, ym) is outside the
 * model screen. */
int scale_to_real(const struct scale *s, long xm, long ym, int *x, int *y);

/* Real pixel to the model pixel that shows it (clamped inside). */
void scale_to_model(const struct scale *s, int x, int y, int *xm, int *ym);

/* Model rectangle [x0,x1) x [y0,y1) to the real pixels it covers. Returns
 * 0, or -1 when it is empty or leaves the model screen. */
int scale_region_to_real(const struct scale *s, long x0, long y0, long x1,
			 long y1, struct scale_rect *r);

/* Largest size fitting inside tw x th with the aspect of sw x sh, never
 * larger than sw x sh, at least 1x1. tw or th 0 means no bound on it. */
void scale_fit(int sw, int sh, int tw, int th, int *ow, int *oh);

#endif
