/*
 * b64enc.c - base64 encoding (pure): three bytes in, four characters out,
 * '=' padding at the end. No I/O, no globals besides the constant alphabet.
 */
#include "b64enc.h"

static const char b64enc_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t b64enc_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

void b64enc(const uint8_t *in, size_t n, char *out)
{
	size_t i = 0;

	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		*out++ = b64enc_alphabet[v >> 18];
		*out++ = b64enc_alphabet[(v >> 12) & 63];
		*out++ = b64enc_alphabet[(v >> 6) & 63];
		*out++ = b64enc_alphabet[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;

		*out++ = b64enc_alphabet[v >> 18];
		*out++ = b64enc_alphabet[(v >> 12) & 63];
		*out++ = '=';
		*out++ = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;

		*out++ = b64enc_alphabet[v >> 18];
		*out++ = b64enc_alphabet[(v >> 12) & 63];
		*out++ = b64enc_alphabet[(v >> 6) & 63];
		*out++ = '=';
	}
	*out = 0;
}
