/*
 * pngsolid.h - a one-colour screen as a PNG, without deflating it (pure).
 *
 * A fresh bare desktop is one colour, and so is the first screenshot a
 * cold create asks for: zlib spends 5-10 ms finding 3 MB of repeats that
 * are known before it starts. Here the unfiltered rows are written
 * straight as one fixed-Huffman deflate block, each row a few literals and
 * copies of the pixel before, with the Adler-32 of one row combined over
 * the rows: the same pixels, any size, in well under a millisecond. No
 * I/O, no globals.
 */
#ifndef DESKTOP_PNGSOLID_H
#define DESKTOP_PNGSOLID_H

#include <stddef.h>
#include <stdint.h>

/* Whether every pixel of the BGRX image (w x h, stride bytes per row;
 * the 4th byte ignored) has one colour: 1 and that colour in rgb[0..2],
 * else 0. Stops at the first pixel that differs. */
int pngsolid_colour(const uint8_t *pix, int w, int h, size_t stride, uint8_t rgb[3]);

/* The most bytes pngsolid_encode writes for a w x h image. */
size_t pngsolid_bound(int w, int h);

/* Writes a w x h 8-bit RGB PNG of colour rgb into out (at least
 * pngsolid_bound(w, h) bytes); returns its length, or 0 when a side is
 * not positive or cap is too small. */
size_t pngsolid_encode(int w, int h, const uint8_t rgb[3], uint8_t *out, size_t cap);

#endif
