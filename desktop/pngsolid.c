/*
 * pngsolid.c - a one-colour screen as a PNG. See pngsolid.h.
 *
 * The image data is unfiltered, as encode.c writes every PNG (and as
 * simple readers of ours expect): each row is [0, r, g, b, r, g, b, ...].
 * The deflate stream is one final block with the fixed Huffman codes (RFC
 * 1951 3.2.6): per row, the filter byte and the first pixel as literals,
 * then the rest as copies of distance 3. The Adler-32 is one row's,
 * combined h times.
 */
#include "pngsolid.h"

#include <string.h>
#include <zlib.h>

struct pngsolid_out {
	uint8_t *p;
	size_t len, cap;
	uint64_t bits;       /* pending bits, LSB first */
	int nbits;
	int full;
};

int pngsolid_colour(const uint8_t *pix, int w, int h, size_t stride, uint8_t rgb[3])
{
	size_t rowlen = (size_t)w * 4;

	if (w <= 0 || h <= 0)
		return 0;
	for (int x = 1; x < w; x++)
		if (memcmp(pix + (size_t)x * 4, pix, 3) != 0)
			return 0;
	/* A byte compare of whole rows: a row whose padding bytes differ
	 * only loses the short cut, never the truth. */
	for (int y = 1; y < h; y++)
		if (memcmp(pix + (size_t)y * stride, pix, rowlen) != 0)
			return 0;
	rgb[0] = pix[2];
	rgb[1] = pix[1];
	rgb[2] = pix[0];
	return 1;
}

/* Per row at most: 5 literals of <= 9 bits, then a copy of <= 18 bits per
 * 258 bytes and one for the rest (or its <= 2 literals); plus the fixed
 * parts. */
size_t pngsolid_bound(int w, int h)
{
	if (w <= 0 || h <= 0)
		return 0;
	return 128 + (size_t)h * (((size_t)w * 3 / 258 + 2) * 18 + 5 * 9 + 7) / 8 + (size_t)h;
}

static void pngsolid_bytes(struct pngsolid_out *o, const void *src, size_t n)
{
	if (o->len + n > o->cap) {
		o->full = 1;
		return;
	}
	memcpy(o->p + o->len, src, n);
	o->len += n;
}

static void pngsolid_be32(struct pngsolid_out *o, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};

	pngsolid_bytes(o, b, 4);
}

static void pngsolid_bits(struct pngsolid_out *o, uint32_t v, int n)
{
	o->bits |= (uint64_t)v << o->nbits;
	o->nbits += n;
	while (o->nbits >= 8) {
		uint8_t byte = (uint8_t)o->bits;

		pngsolid_bytes(o, &byte, 1);
		o->bits >>= 8;
		o->nbits -= 8;
	}
}

/* A Huffman code goes out most significant bit first. */
static void pngsolid_code(struct pngsolid_out *o, uint32_t code, int n)
{
	uint32_t rev = 0;

	for (int i = 0; i < n; i++)
		rev |= ((code >> i) & 1u) << (n - 1 - i);
	pngsolid_bits(o, rev, n);
}

/* Literal/length symbol sym in the fixed code. */
static void pngsolid_sym(struct pngsolid_out *o, int sym)
{
	if (sym < 144)
		pngsolid_code(o, 0x30u + (uint32_t)sym, 8);
	else if (sym < 256)
		pngsolid_code(o, 0x190u + (uint32_t)(sym - 144), 9);
	else if (sym < 280)
		pngsolid_code(o, (uint32_t)(sym - 256), 7);
	else
		pngsolid_code(o, 0xc0u + (uint32_t)(sym - 280), 8);
}

/* A copy of len (3..258) bytes from distance 3 (one pixel back): length
 * symbol and extra bits, then distance code 2 (5 bits, no extra). */
static void pngsolid_copy(struct pngsolid_out *o, int len)
{
	static const int base[] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
				   35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
	int i = (int)(sizeof base / sizeof *base) - 1;
	int extra;

	while (base[i] > len)
		i--;
	extra = i < 8 || i == 28 ? 0 : (i - 4) / 4;
	pngsolid_sym(o, 257 + i);
	if (extra)
		pngsolid_bits(o, (uint32_t)(len - base[i]), extra);
	pngsolid_code(o, 2, 5);
}

/* The rest of a row after its first pixel: n bytes, byte i being
 * rgb[i % 3], as copies of the pixel before and at most 2 literals. */
static void pngsolid_repeat(struct pngsolid_out *o, const uint8_t rgb[3], size_t n)
{
	size_t i = 0;

	for (; n - i >= 258; i += 258)
		pngsolid_copy(o, 258);
	if (n - i >= 3) {
		pngsolid_copy(o, (int)(n - i));
		i = n;
	}
	for (; i < n; i++)
		pngsolid_sym(o, rgb[i % 3]);
}

/* Adler-32 of the image data: one row's, then that row h times over. */
static uint32_t pngsolid_adler(const uint8_t rgb[3], int w, int h)
{
	uint32_t a = 1, b = 0, row, all;

	b = (b + a) % 65521u;          /* the filter byte, 0 */
	for (int x = 0; x < w; x++)
		for (int c = 0; c < 3; c++) {
			a = (a + rgb[c]) % 65521u;
			b = (b + a) % 65521u;
		}
	row = all = b << 16 | a;
	for (int y = 1; y < h; y++)
		all = (uint32_t)adler32_combine(all, row, (z_off_t)w * 3 + 1);
	return all;
}

/* A chunk whose data is o->p[start + 8 ..]: its length and CRC. */
static void pngsolid_chunk_end(struct pngsolid_out *o, size_t start)
{
	uint32_t len = (uint32_t)(o->len - start - 8);

	if (o->full)
		return;
	o->p[start] = (uint8_t)(len >> 24);
	o->p[start + 1] = (uint8_t)(len >> 16);
	o->p[start + 2] = (uint8_t)(len >> 8);
	o->p[start + 3] = (uint8_t)len;
	pngsolid_be32(o, (uint32_t)crc32(0, o->p + start + 4, len + 4));
}

size_t pngsolid_encode(int w, int h, const uint8_t rgb[3], uint8_t *out, size_t cap)
{
	static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	static const uint8_t ihdr_tail[5] = {8, 2, 0, 0, 0}; /* 8-bit RGB */
	struct pngsolid_out o = {.p = out, .cap = cap};
	size_t start, rowlen = (size_t)w * 3;

	if (w <= 0 || h <= 0)
		return 0;
	pngsolid_bytes(&o, sig, sizeof sig);
	start = o.len;
	pngsolid_bytes(&o, "\0\0\0\0IHDR", 8);
	pngsolid_be32(&o, (uint32_t)w);
	pngsolid_be32(&o, (uint32_t)h);
	pngsolid_bytes(&o, ihdr_tail, sizeof ihdr_tail);
	pngsolid_chunk_end(&o, start);

	start = o.len;
	pngsolid_bytes(&o, "\0\0\0\0IDAT\x78\x01", 10);
	pngsolid_bits(&o, 1, 1);    /* BFINAL */
	pngsolid_bits(&o, 1, 2);    /* fixed Huffman codes */
	for (int y = 0; y < h; y++) {
		pngsolid_sym(&o, 0);    /* filter: none */
		for (int i = 0; i < 3; i++)
			pngsolid_sym(&o, rgb[i]);
		pngsolid_repeat(&o, rgb, rowlen - 3);
	}
	pngsolid_sym(&o, 256);
	if (o.nbits)
		pngsolid_bits(&o, 0, 8 - o.nbits);    /* to a byte boundary */
	pngsolid_be32(&o, pngsolid_adler(rgb, w, h));
	pngsolid_chunk_end(&o, start);

	start = o.len;
	pngsolid_bytes(&o, "\0\0\0\0IEND", 8);
	pngsolid_chunk_end(&o, start);
	return o.full ? 0 : o.len;
}
