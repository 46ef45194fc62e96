/*
 * encode.c - capture, cursor, resize, JPEG/PNG. See encode.h.
 *
 * Owns a TurboJPEG handle and three growable buffers (JPEG output, PNG
 * output, resized pixels). Never captures from a VNC framebuffer: that may
 * have a software cursor painted in; the XShm capture is the truth.
 */
#include "encode.h"

#include <spng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "pngsolid.h"
#include "resample.h"

struct encode_buf {
	uint8_t *p;
	size_t len, cap;
};

struct encode {
	tjhandle tj;
	unsigned char *jpeg;      /* tjAlloc'd */
	unsigned long jpeg_cap;
	struct encode_buf png;
	struct encode_buf scaled;
	struct encode_buf row;    /* one RGB row for libspng */
};

static int encode_reserve(struct encode_buf *b, size_t need)
{
	uint8_t *p;

	if (need <= b->cap)
		return 0;
	p = realloc(b->p, need);
	if (!p)
		return -1;
	b->p = p;
	b->cap = need;
	return 0;
}

struct encode *encode_create(char *err, size_t errlen)
{
	struct encode *e = calloc(1, sizeof *e);

	if (!e || !(e->tj = tjInitCompress())) {
		snprintf(err, errlen, "TurboJPEG init failed");
		free(e);
		return NULL;
	}
	return e;
}

void encode_destroy(struct encode *e)
{
	if (!e)
		return;
	tjDestroy(e->tj);
	tjFree(e->jpeg);
	free(e->png.p);
	free(e->scaled.p);
	free(e->row.p);
	free(e);
}

static int encode_jpeg(struct encode *e, const uint8_t *pix, int w, int h,
		       size_t stride, int quality, struct encode_image *out,
		       char *err, size_t errlen)
{
	unsigned long need = tjBufSize(w, h, TJSAMP_420), size;

	if (need > e->jpeg_cap) {
		tjFree(e->jpeg);
		e->jpeg = tjAlloc((int)need);
		e->jpeg_cap = e->jpeg ? need : 0;
		if (!e->jpeg) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	size = e->jpeg_cap;
	if (tjCompress2(e->tj, pix, w, (int)stride, h, TJPF_BGRX, &e->jpeg, &size,
			TJSAMP_420, quality, TJFLAG_NOREALLOC | TJFLAG_FASTDCT) < 0) {
		snprintf(err, errlen, "JPEG: %s", tjGetErrorStr2(e->tj));
		return -1;
	}
	out->data = e->jpeg;
	out->len = size;
	return 0;
}

static int encode_png_write(spng_ctx *ctx, void *user, void *src, size_t len)
{
	struct encode_buf *b = user;

	if (b->len + len > b->cap &&
	    encode_reserve(b, (b->len + len) * 3 / 2 + 4096) < 0)
		return SPNG_IO_ERROR;
	memcpy(b->p + b->len, src, len);
	b->len += len;
	return 0;
}

int encode_solid(struct encode *e, int w, int h, const uint8_t rgb[3],
		 struct encode_image *out, char *err, size_t errlen)
{
	if (encode_reserve(&e->png, pngsolid_bound(w, h)) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	out->width = w;
	out->height = h;
	out->data = e->png.p;
	out->len = e->png.len = pngsolid_encode(w, h, rgb, e->png.p, e->png.cap);
	return 0;
}

static int encode_png(struct encode *e, const uint8_t *pix, int w, int h,
		      size_t stride, struct encode_image *out, char *err,
		      size_t errlen)
{
	struct spng_ihdr ihdr = {
		.width = (uint32_t)w, .height = (uint32_t)h, .bit_depth = 8,
		.color_type = SPNG_COLOR_TYPE_TRUECOLOR,
	};
	spng_ctx *ctx;
	size_t rowlen = (size_t)w * 3;
	int rc = -1, r = 0;
	uint8_t rgb[3];

	/* A fresh bare screen: one colour, written without zlib in well
	 * under a millisecond instead of 5-10. */
	if (pngsolid_colour(pix, w, h, stride, rgb))
		return encode_solid(e, w, h, rgb, out, err, errlen);
	ctx = spng_ctx_new(SPNG_CTX_ENCODER);
	e->png.len = 0;
	if (!ctx || encode_reserve(&e->row, rowlen) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if ((r = spng_set_png_stream(ctx, encode_png_write, &e->png)) ||
	    (r = spng_set_ihdr(ctx, &ihdr)) ||
	    (r = spng_set_option(ctx, SPNG_IMG_COMPRESSION_LEVEL, 1)) ||
	    (r = spng_set_option(ctx, SPNG_FILTER_CHOICE, SPNG_DISABLE_FILTERING)) ||
	    (r = spng_encode_image(ctx, NULL, 0, SPNG_FMT_PNG,
				   SPNG_ENCODE_PROGRESSIVE | SPNG_ENCODE_FINALIZE)))
		goto fail;
	for (int y = 0; y < h; y++) {
		const uint8_t *s = pix + (size_t)y * stride;
		uint8_t *d = e->row.p;

		for (int x = 0; x < w; x++, s += 4, d += 3) {
			d[0] = s[2];
			d[1] = s[1];
			d[2] = s[0];
		}
		r = spng_encode_row(ctx, e->row.p, rowlen);
		if (r && r != SPNG_EOI)
			goto fail;
	}
	out->data = e->png.p;
	out->len = e->png.len;
	rc = 0;
	goto out;
fail:
	snprintf(err, errlen, "PNG: %s", spng_strerror(r));
out:
	spng_ctx_free(ctx);
	return rc;
}

int encode_pixels(struct encode *e, const uint8_t *pix, int w, int h,
		  size_t stride, enum shot_format f, int quality,
		  struct encode_image *out, char *err, size_t errlen)
{
	out->width = w;
	out->height = h;
	if (f == SHOT_JPEG)
		return encode_jpeg(e, pix, w, h, stride, quality, out, err, errlen);
	return encode_png(e, pix, w, h, stride, out, err, errlen);
}

int encode_shot(struct encode *e, struct capture *c, const struct shot_req *r,
		struct encode_image *out, char *err, size_t errlen)
{
	const struct scale_rect *rg = &r->region;
	uint8_t *pix;
	size_t stride;

	if (capture_grab(c, rg->x, rg->y, rg->w, rg->h, &pix, &stride, err, errlen) < 0)
		return -1;
	if (r->cursor)
		capture_draw_cursor(c, pix, stride, rg->x, rg->y, rg->w, rg->h);
	return encode_captured(e, pix, stride, r, out, err, errlen);
}

int encode_captured(struct encode *e, uint8_t *pix, size_t stride, const struct shot_req *r,
		    struct encode_image *out, char *err, size_t errlen)
{
	const struct scale_rect *rg = &r->region;

	if (r->out_w != rg->w || r->out_h != rg->h) {
		size_t ostride = (size_t)r->out_w * 4;

		if (encode_reserve(&e->scaled, ostride * (size_t)r->out_h) < 0 ||
		    resample_bgrx(pix, rg->w, rg->h, stride, e->scaled.p,
				  r->out_w, r->out_h, ostride) < 0) {
			snprintf(err, errlen, "out of memory resizing to %dx%d",
				 r->out_w, r->out_h);
			return -1;
		}
		pix = e->scaled.p;
		stride = ostride;
	}
	return encode_pixels(e, pix, r->out_w, r->out_h, stride, r->format,
			     r->quality, out, err, errlen);
}
