/*
 * textedit.h - the text work of Anthropic's text editor tool
 * (str_replace_based_edit_tool), pure: numbering lines as `cat -n` does,
 * clipping long answers, finding and replacing an exact string, inserting
 * lines. The adapter (server/adapt_anthropic.c) does the file I/O through
 * the operation table; this file has no I/O and no globals.
 *
 * Texts are byte strings with lengths; lines are what Python's
 * str.split("\n") makes of them (the reference tool's rule), so "a\n" is two
 * lines, the second empty. Every char * returned is malloc'd,
 * NUL-terminated, and the caller's; NULL means out of memory.
 */
#ifndef DESKBOX_TEXTEDIT_H
#define DESKBOX_TEXTEDIT_H

#include <stddef.h>

/* Answers longer than this are clipped (the reference's MAX_RESPONSE_LEN). */
#define TEXTEDIT_MAX_RESPONSE 16000

/* Lines in text (newlines + 1). */
long textedit_nlines(const char *text, size_t len);

/* Lines first..last (1-based, inclusive; last -1 = to the end) of text:
 * where they start and how long they are (the final newline excluded). */
void textedit_range(const char *text, size_t len, long first, long last, size_t *off, size_t *n);

/* text clipped to TEXTEDIT_MAX_RESPONSE, with the reference's note when it
 * was, then each line numbered from first as "%6ld\t". */
char *textedit_numbered(const char *text, size_t len, long first);

/* Occurrences of needle (m > 0 bytes) in text; *at gets the first's offset.
 * At most cap are counted. */
long textedit_count(const char *text, size_t len, const char *needle, size_t m, size_t *at, long cap);

/* The 1-based numbers of the lines holding needle, as "[3, 7]". */
char *textedit_lines_with(const char *text, size_t len, const char *needle, size_t m);

/* text with n bytes at off replaced by rep (r bytes); *outlen its length. */
char *textedit_splice(const char *text, size_t len, size_t off, size_t n, const char *rep, size_t r,
		      size_t *outlen);

/* Byte offset where line `after` ends (0: the start; nlines: the end), to
 * insert after it. -1 if after is out of 0..nlines. */
long textedit_line_end(const char *text, size_t len, long after);

#endif
