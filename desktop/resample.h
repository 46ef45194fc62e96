/*
 * resample.h - resize a 32-bit BGRX image by area averaging (pure).
 *
 * Each output pixel is the average of the source area it covers, weighted
 * by coverage, so text shrunk for a model stays legible and does not alias
 * the way nearest-neighbour sampling does. Works for any ratio, up or down,
 * and for different ratios on the two axes. No I/O, no globals.
 */
#ifndef DESKTOP_RESAMPLE_H
#define DESKTOP_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Resize src (sw x sh, sstride bytes per row) into dst (dw x dh, dstride
 * bytes per row); the 4th byte of each output pixel is 0. Returns 0, or -1
 * when a size is not positive or memory runs out.
 */
int resample_bgrx(const uint8_t *src, int sw, int sh, size_t sstride,
		  uint8_t *dst, int dw, int dh, size_t dstride);

#endif
