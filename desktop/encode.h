/*
 * encode.h - a screenshot request to image bytes: capture the region,
 * draw the cursor if asked, resize if asked (area averaging), encode as
 * JPEG (libjpeg-turbo, straight from BGRX, 4:2:0) or PNG (libspng, zlib
 * level 1, no filtering: fast, and screens compress well anyway; a
 * one-colour image is written without zlib, desktop/pngsolid.c).
 *
 * The encoder keeps its buffers between calls; the bytes it returns stay
 * valid until the next call. Loop thread only.
 */
#ifndef DESKTOP_ENCODE_H
#define DESKTOP_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "shot.h"

struct encode;

struct encode_image {
	const uint8_t *data;   /* owned by the encoder */
	size_t len;
	int width, height;
};

struct encode *encode_create(char *err, size_t errlen);
void encode_destroy(struct encode *e);

/* Take the screenshot r describes. Returns 0, or -1 with err. */
int encode_shot(struct encode *e, struct capture *c, const struct shot_req *r,
		struct encode_image *out, char *err, size_t errlen);

/* The rest of encode_shot for pixels already captured: pix holds
 * r->region (w x h at stride); resize to r's output size, encode. */
int encode_captured(struct encode *e, uint8_t *pix, size_t stride, const struct shot_req *r,
		    struct encode_image *out, char *err, size_t errlen);

/* A w x h PNG of one colour (rgb: red, green, blue), as encode_pixels
 * writes it for such pixels. */
int encode_solid(struct encode *e, int w, int h, const uint8_t rgb[3],
		 struct encode_image *out, char *err, size_t errlen);

/* Encode BGRX pixels (w x h, stride bytes per row) as JPEG or PNG. */
int encode_pixels(struct encode *e, const uint8_t *pix, int w, int h,
		  size_t stride, enum shot_format f, int quality,
		  struct encode_image *out, char *err, size_t errlen);

#endif
