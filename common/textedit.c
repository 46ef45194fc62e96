/*
 * textedit.c - line arithmetic for the text editor adapter (see textedit.h).
 * Pure: no I/O, no globals.
 */
#include "textedit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXTEDIT_CLIPPED \
	"<response clipped><NOTE>To save on context only part of this file has been shown to you. " \
	"You should retry this tool after you have searched inside the file with `grep -n` in order " \
	"to find the line numbers of what you are looking for.</NOTE>"

long textedit_nlines(const char *text, size_t len)
{
	long n = 1;

	for (size_t i = 0; i < len; i++)
		n += text[i] == '\n';
	return n;
}

void textedit_range(const char *text, size_t len, long first, long last, size_t *off, size_t *n)
{
	size_t i = 0, start;
	long line = 1;

	while (line < first && i < len) {
		if (text[i++] == '\n')
			line++;
	}
	start = i;
	while (i < len && (last < 0 || line <= last)) {
		if (text[i] == '\n' && (last >= 0 && line == last))
			break;
		if (text[i] == '\n')
			line++;
		i++;
	}
	*off = start;
	*n = i - start;
}

char *textedit_numbered(const char *text, size_t len, long first)
{
	size_t clip = len > TEXTEDIT_MAX_RESPONSE ? TEXTEDIT_MAX_RESPONSE : len;
	size_t extra = clip < len ? sizeof(TEXTEDIT_CLIPPED) : 0;
	long lines = textedit_nlines(text, clip) + (extra ? textedit_nlines(TEXTEDIT_CLIPPED,
									  sizeof(TEXTEDIT_CLIPPED) - 1) : 0);
	/* Each line gains a number of up to 20 digits and a tab. */
	char *out = malloc(clip + extra + (size_t)lines * 22 + 1), *o = out;
	const char *p = text, *end = text + clip;
	long n = first;

	if (!out)
		return NULL;
	for (;;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);

		o += sprintf(o, "%6ld\t", n++);
		memcpy(o, p, l);
		o += l;
		if (!nl)
			break;
		*o++ = '\n';
		p = nl + 1;
	}
	if (extra) {
		/* The note goes on the clipped line, as the reference's does. */
		memcpy(o, TEXTEDIT_CLIPPED, sizeof(TEXTEDIT_CLIPPED) - 1);
		o += sizeof(TEXTEDIT_CLIPPED) - 1;
	}
	*o = '\0';
	return out;
}

long textedit_count(const char *text, size_t len, const char *needle, size_t m, size_t *at, long cap)
{
	const char *p = text, *end = text + len, *hit;
	long n = 0;

	*at = 0;
	while (m && n < cap && (hit = memmem(p, (size_t)(end - p), needle, m))) {
		if (n++ == 0)
			*at = (size_t)(hit - text);
		p = hit + m;
	}
	return n;
}

char *textedit_lines_with(const char *text, size_t len, const char *needle, size_t m)
{
	size_t cap = 64, used = 0;
	char *out = malloc(cap), *tmp;
	const char *p = text, *end = text + len;
	long line = 1;

	if (!out)
		return NULL;
	out[used++] = '[';
	while (p <= end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (m && l >= m && memmem(p, l, needle, m)) {
			if (used + 24 > cap) {
				tmp = realloc(out, cap *= 2);
				if (!tmp) {
					free(out);
					return NULL;
				}
				out = tmp;
			}
			used += (size_t)sprintf(out + used, "%s%ld", out[used - 1] == '[' ? "" : ", ", line);
		}
		if (!nl)
			break;
		p = nl + 1;
		line++;
	}
	out[used++] = ']';
	out[used] = '\0';
	return out;
}

char *textedit_splice(const char *text, size_t len, size_t off, size_t n, const char *rep, size_t r,
		      size_t *outlen)
{
	char *out = malloc(len - n + r + 1);

	if (!out)
		return NULL;
	memcpy(out, text, off);
	memcpy(out + off, rep, r);
	memcpy(out + off + r, text + off + n, len - off - n);
	*outlen = len - n + r;
	out[*outlen] = '\0';
	return out;
}

long textedit_line_end(const char *text, size_t len, long after)
{
	long line = 0;

	if (after < 0 || after > textedit_nlines(text, len))
		return -1;
	if (after == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (text[i] == '\n' && ++line == after)
			return (long)i + 1;
	return (long)len;
}
