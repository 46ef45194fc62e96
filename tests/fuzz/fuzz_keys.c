/*
 * fuzz_keys.c - libFuzzer target for the desktop agent's key names and
 * chords (desktop/keys.c): what a client's "key" and "hold_key" text and
 * "keypress" names become.
 *
 * The input is one string (it may hold NULs: the length is what counts),
 * parsed as a chord, as a sequence of chords, and walked as UTF-8. Every
 * chord has 1 to KEYS_MAX_CHORD known keysyms; refusals say why; the
 * UTF-8 walk only ever moves forward within the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)
#define MAX_SEQ 16

static void check_chord(const struct keys_chord *c)
{
	CHECK(c->n >= 1 && c->n <= KEYS_MAX_CHORD);
	for (int i = 0; i < c->n; i++)
		CHECK(c->sym[i] != 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char *z = malloc(size + 1), err[256];
	struct keys_chord c, *seq = malloc(MAX_SEQ * sizeof(*seq));
	size_t off = 0;
	uint32_t cp;
	int n;

	CHECK(z && seq);
	memcpy(z, data, size);
	z[size] = '\0';
	err[0] = '\0';
	if (keys_parse_chord(s, size, &c, err, sizeof(err)) == 0)
		check_chord(&c);
	else
		CHECK(err[0]);
	err[0] = '\0';
	if (keys_parse_sequence(z, seq, MAX_SEQ, &n, err, sizeof(err)) == 0) {
		CHECK(n >= 1 && n <= MAX_SEQ);
		for (int i = 0; i < n; i++)
			check_chord(&seq[i]);
	} else {
		CHECK(err[0]);
	}
	/* A chord built key by key, one name per line. */
	memset(&c, 0, sizeof(c));
	for (const char *p = z; c.n < KEYS_MAX_CHORD; p += strcspn(p, "\n") + 1) {
		if (keys_chord_add(&c, p, strcspn(p, "\n"), err, sizeof(err)) < 0 || !p[strcspn(p, "\n")])
			break;
	}
	if (c.n) {
		keys_chord_finish(&c);
		check_chord(&c);
	}
	keys_from_name(s, size);
	while (off < size) {
		int k = keys_utf8_next(s + off, size - off, &cp);

		if (k <= 0)
			break;
		CHECK((size_t)k <= size - off && k <= 4 && cp <= 0x10ffff);
		keys_from_codepoint(cp);
		keys_is_modifier(keys_from_codepoint(cp));
		off += (size_t)k;
	}
	free(z);
	free(seq);
	return 0;
}
