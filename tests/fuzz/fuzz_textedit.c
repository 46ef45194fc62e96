/*
 * fuzz_textedit.c - libFuzzer target for the text editor tool's text work
 * (common/textedit.c): the file it edits comes out of the sandbox, so its
 * bytes are hostile, and the needle, replacement and line numbers come
 * from a model's tool call.
 *
 * Input: two bytes of line numbers, then the file text, a NUL, the needle,
 * a NUL, the replacement. Ranges stay inside the text; a splice has the
 * length it should; counts and line lists agree; a line end is a real
 * line boundary.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "textedit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text, *needle, *rep, *z;
	size_t len, m, r, off, n, at = 0, outlen;
	long first, last, nl, count, end;
	char *heap, *s;

	if (size < 2)
		return 0;
	first = (long)(data[0] % 64) - 2;
	last = (long)(data[1] % 64) - 2;
	/* the three parts on the heap at their exact sizes */
	heap = malloc(size - 2 ? size - 2 : 1);
	CHECK(heap);
	memcpy(heap, data + 2, size - 2);
	text = heap;
	z = memchr(text, 0, size - 2);
	len = z ? (size_t)(z - text) : size - 2;
	needle = z ? z + 1 : text + len;
	z = memchr(needle, 0, (size_t)(heap + size - 2 - needle));
	m = z ? (size_t)(z - needle) : (size_t)(heap + size - 2 - needle);
	rep = z ? z + 1 : needle + m;
	r = (size_t)(heap + size - 2 - rep);

	nl = textedit_nlines(text, len);
	CHECK(nl >= 1 && (size_t)nl <= len + 1);
	if (first >= 1 && (last == -1 || last >= first)) {
		textedit_range(text, len, first, last, &off, &n);
		CHECK(off <= len && n <= len - off);
	}
	s = textedit_numbered(text, len, first < 1 ? 1 : first);
	CHECK(s);
	free(s);
	if (m > 0) {
		count = textedit_count(text, len, needle, m, &at, 2);
		CHECK(count >= 0 && count <= 2);
		if (count > 0) {
			CHECK(at + m <= len && !memcmp(text + at, needle, m));
			s = textedit_lines_with(text, len, needle, m);
			CHECK(s && s[0] == '[');
			free(s);
			s = textedit_splice(text, len, at, m, rep, r, &outlen);
			CHECK(s && outlen == len - m + r && !memcmp(s + at, rep, r));
			CHECK(s[outlen] == '\0');
			free(s);
		}
	}
	end = textedit_line_end(text, len, first);
	if (first < 0 || first > nl)
		CHECK(end == -1);
	else
		CHECK(end >= 0 && (size_t)end <= len && (end == 0 || (size_t)end == len || text[end] == '\n' ||
							  text[end - 1] == '\n'));
	free(heap);
	return 0;
}
