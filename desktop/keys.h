/*
 * keys.h - key names, chords and characters to X keysyms (pure).
 *
 * Turns what a computer-use model writes ("ctrl+shift+t", "Return",
 * "KP_Enter", "ctrl++", a line of Unicode text) into X keysyms. No I/O, no
 * globals: the only outside call is Xlib's static keysym name table
 * (XStringToKeysym / XKeysymToString), which reads no files for the names
 * used here. Which keycode a keysym lands on is input.c's business.
 */
#ifndef DESKTOP_KEYS_H
#define DESKTOP_KEYS_H

#include <stddef.h>
#include <stdint.h>

/* Most keys pressed together in one chord. */
#define KEYS_MAX_CHORD 8

/* Keys pressed in this order and released in the reverse order. */
struct keys_chord {
	unsigned long sym[KEYS_MAX_CHORD];
	int n;
};

/*
 * One key name to a keysym: an alias (case-insensitive: "enter", "ctrl",
 * "cmd", "pageup", "arrowleft", "f13"...), an X keysym name (exact, then
 * case-insensitive among the function/keypad/modifier and XF86 keysyms), or
 * a single character (case kept: "A" is the keysym A). Returns 0 when the
 * name means nothing.
 */
unsigned long keys_from_name(const char *name, size_t len);

/*
 * Parse one chord, "ctrl+shift+t": names joined by '+', spaces around
 * names ignored. A '+' where a name should start is the plus key itself, so
 * "ctrl++" and "+" work ("ctrl+plus" too). When a chord has more than one
 * key, ASCII letters are folded to lower case: "ctrl+T" is ctrl and the t
 * key; a capital needs an explicit shift. Returns 0, or -1 with a reason in
 * err (errlen bytes).
 */
int keys_parse_chord(const char *s, size_t len, struct keys_chord *c,
		     char *err, size_t errlen);

/*
 * Append one key name to c (as keys_from_name; a name holding '+' inside,
 * like "ctrl+c", appends its whole chord). Returns 0, or -1 with err.
 */
int keys_chord_add(struct keys_chord *c, const char *name, size_t len,
		   char *err, size_t errlen);

/* Finish a chord built with keys_chord_add: with more than one key, fold
 * ASCII capitals to lower case (see keys_parse_chord). */
void keys_chord_finish(struct keys_chord *c);

/*
 * Parse a whitespace-separated sequence of chords ("ctrl+a Delete"), as
 * xdotool's key command takes it. A text that is one character (" " too)
 * is that key. Fills out[0..max), sets *n. Returns 0, or -1 with err.
 */
int keys_parse_sequence(const char *s, struct keys_chord *out, int max,
			int *n, char *err, size_t errlen);

/*
 * Decode the UTF-8 sequence at s (len > 0 bytes available). Returns its
 * length (1-4) and sets *cp, or -1 for an invalid, overlong, truncated or
 * surrogate sequence or a code point past U+10FFFF.
 */
int keys_utf8_next(const char *s, size_t len, uint32_t *cp);

/*
 * The keysym that types code point cp: Latin-1 keysyms for U+0020-U+007E
 * and U+00A0-U+00FF, Return for '\n' and '\r', Tab for '\t', and the
 * Unicode keysym 0x1000000+cp above U+00FF. Returns 0 for other control
 * characters, which have no key.
 */
unsigned long keys_from_codepoint(uint32_t cp);

/* Nonzero when ks is a modifier key (Shift, Control, Alt, Super...). */
int keys_is_modifier(unsigned long ks);

#endif
