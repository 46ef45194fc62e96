/*
 * utf8_check.h - an independent UTF-8 validator (Unicode 15, table 3-7) for
 * checking utf8_repair's output, shared by the unit tests and the fuzz
 * target. Written apart from common/util.c on purpose: a check that reused
 * the code under test could not catch its mistakes.
 */
#ifndef DESKBOX_TEST_UTF8_CHECK_H
#define DESKBOX_TEST_UTF8_CHECK_H

#include <stddef.h>

/* 1 if the n bytes at s are valid UTF-8. */
static inline int valid_utf8(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i], lo = 0x80, hi = 0xbf;
		size_t len;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			len = 2;
		else if (c >= 0xe0 && c <= 0xef)
			len = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
		else if (c >= 0xf0 && c <= 0xf4)
			len = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
		else
			return 0;
		if (n - i < len || s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (size_t k = 2; k < len; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
		i += len;
	}
	return 1;
}

#endif
