/*
 * keys.c - key names, chords and UTF-8 text to X keysyms (pure).
 *
 * Owns nothing: every function works on its arguments only. The names a
 * model uses are a mix of xdotool's, Playwright's and X's own, so a small
 * alias table comes first and X's keysym table after it. Must never depend
 * on a display connection: this file is unit-tested without an X server.
 */
#include "keys.h"

#include <X11/Xlib.h>
#include <X11/keysym.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Longest key name looked up (XF86 names are the long ones). */
#define KEYS_MAX_NAME 64

struct keys_alias {
	const char *name;   /* lower case */
	unsigned long sym;
};

static const struct keys_alias keys_aliases[] = {
	{"enter", XK_Return}, {"return", XK_Return},
	{"esc", XK_Escape}, {"escape", XK_Escape},
	{"backspace", XK_BackSpace}, {"back_space", XK_BackSpace},
	{"tab", XK_Tab},
	{"cmd", XK_Super_L}, {"command", XK_Super_L}, {"super", XK_Super_L},
	{"win", XK_Super_L}, {"windows", XK_Super_L}, {"meta", XK_Super_L},
	{"super_l", XK_Super_L}, {"super_r", XK_Super_R},
	{"ctrl", XK_Control_L}, {"control", XK_Control_L},
	{"ctrl_l", XK_Control_L}, {"control_l", XK_Control_L},
	{"ctrl_r", XK_Control_R}, {"control_r", XK_Control_R},
	{"alt", XK_Alt_L}, {"option", XK_Alt_L}, {"opt", XK_Alt_L},
	{"alt_l", XK_Alt_L}, {"alt_r", XK_Alt_R},
	{"altgr", XK_ISO_Level3_Shift},
	{"shift", XK_Shift_L}, {"shift_l", XK_Shift_L}, {"shift_r", XK_Shift_R},
	{"pageup", XK_Prior}, {"page_up", XK_Prior}, {"pgup", XK_Prior},
	{"prior", XK_Prior},
	{"pagedown", XK_Next}, {"page_down", XK_Next}, {"pgdn", XK_Next},
	{"next", XK_Next},
	{"home", XK_Home}, {"end", XK_End},
	{"left", XK_Left}, {"arrowleft", XK_Left},
	{"right", XK_Right}, {"arrowright", XK_Right},
	{"up", XK_Up}, {"arrowup", XK_Up},
	{"down", XK_Down}, {"arrowdown", XK_Down},
	{"space", XK_space},
	{"delete", XK_Delete}, {"del", XK_Delete},
	{"insert", XK_Insert}, {"ins", XK_Insert},
	{"capslock", XK_Caps_Lock}, {"caps_lock", XK_Caps_Lock},
	{"numlock", XK_Num_Lock}, {"num_lock", XK_Num_Lock},
	{"scrolllock", XK_Scroll_Lock}, {"scroll_lock", XK_Scroll_Lock},
	{"printscreen", XK_Print}, {"print", XK_Print}, {"prtsc", XK_Print},
	{"pause", XK_Pause}, {"break", XK_Break},
	{"menu", XK_Menu}, {"contextmenu", XK_Menu},
	{"kp_enter", XK_KP_Enter},
	{"plus", XK_plus}, {"minus", XK_minus},
};

/* Keysym ranges searched case-insensitively by name: TTY, cursor, keypad,
 * function and modifier keys, ISO keys, and the XF86 media keys. */
static const struct { unsigned long lo, hi; } keys_scan_ranges[] = {
	{0xfe00, 0xffff},
	{0x1008ff00, 0x1008ffff},
};

static unsigned long keys_fkey(const char *name)
{
	char *end;
	unsigned long n;

	if ((name[0] != 'f' && name[0] != 'F') || !isdigit((unsigned char)name[1]))
		return 0;
	n = strtoul(name + 1, &end, 10);
	if (*end || n < 1 || n > 35)
		return 0;
	return XK_F1 + n - 1;
}

static unsigned long keys_scan(const char *name)
{
	for (size_t r = 0; r < sizeof keys_scan_ranges / sizeof *keys_scan_ranges; r++) {
		for (unsigned long ks = keys_scan_ranges[r].lo;
		     ks <= keys_scan_ranges[r].hi; ks++) {
			const char *s = XKeysymToString(ks);
			if (s && strcasecmp(s, name) == 0)
				return ks;
		}
	}
	return 0;
}

unsigned long keys_from_name(const char *name, size_t len)
{
	char buf[KEYS_MAX_NAME];
	uint32_t cp;
	unsigned long ks;

	if (len == 0 || len >= sizeof buf || memchr(name, 0, len))
		return 0;
	if (keys_utf8_next(name, len, &cp) == (int)len)
		return keys_from_codepoint(cp);
	memcpy(buf, name, len);
	buf[len] = 0;
	if ((ks = keys_fkey(buf)))
		return ks;
	for (size_t i = 0; i < sizeof keys_aliases / sizeof *keys_aliases; i++)
		if (strcasecmp(keys_aliases[i].name, buf) == 0)
			return keys_aliases[i].sym;
	ks = XStringToKeysym(buf);
	if (ks != NoSymbol)
		return ks;
	return keys_scan(buf);
}

static int keys_add(struct keys_chord *c, const char *name, size_t len,
		    char *err, size_t errlen)
{
	unsigned long ks;

	while (len && isspace((unsigned char)name[len - 1]))
		len--;
	if (len == 0) {
		snprintf(err, errlen, "empty key name");
		return -1;
	}
	ks = keys_from_name(name, len);
	if (!ks) {
		snprintf(err, errlen, "unknown key '%.*s'",
			 (int)(len > KEYS_MAX_NAME ? KEYS_MAX_NAME : len), name);
		return -1;
	}
	if (c->n == KEYS_MAX_CHORD) {
		snprintf(err, errlen, "more than %d keys in one chord", KEYS_MAX_CHORD);
		return -1;
	}
	c->sym[c->n++] = ks;
	return 0;
}

int keys_parse_chord(const char *s, size_t len, struct keys_chord *c,
		     char *err, size_t errlen)
{
	size_t i = 0, start;

	c->n = 0;
	for (;;) {
		while (i < len && isspace((unsigned char)s[i]))
			i++;
		start = i;
		if (i < len && s[i] == '+')
			i++;   /* a '+' where a name starts is the plus key */
		else
			while (i < len && s[i] != '+')
				i++;
		if (keys_add(c, s + start, i - start, err, errlen) < 0)
			return -1;
		while (i < len && isspace((unsigned char)s[i]))
			i++;
		if (i == len)
			break;
		if (s[i] != '+') {
			snprintf(err, errlen, "expected '+' after '+' in '%.*s'",
				 (int)(len > KEYS_MAX_NAME ? KEYS_MAX_NAME : len), s);
			return -1;
		}
		if (++i == len) {
			snprintf(err, errlen, "key chord ends with '+' (use \"plus\")");
			return -1;
		}
	}
	keys_chord_finish(c);
	return 0;
}

int keys_chord_add(struct keys_chord *c, const char *name, size_t len,
		   char *err, size_t errlen)
{
	struct keys_chord sub;

	if (len > 1 && memchr(name, '+', len)) {
		if (keys_parse_chord(name, len, &sub, err, errlen) < 0)
			return -1;
		for (int k = 0; k < sub.n; k++) {
			if (c->n == KEYS_MAX_CHORD) {
				snprintf(err, errlen, "more than %d keys in one chord",
					 KEYS_MAX_CHORD);
				return -1;
			}
			c->sym[c->n++] = sub.sym[k];
		}
		return 0;
	}
	return keys_add(c, name, len, err, errlen);
}

void keys_chord_finish(struct keys_chord *c)
{
	if (c->n > 1)
		for (int k = 0; k < c->n; k++)
			if (c->sym[k] >= 'A' && c->sym[k] <= 'Z')
				c->sym[k] += 'a' - 'A';
}

int keys_parse_sequence(const char *s, struct keys_chord *out, int max,
			int *n, char *err, size_t errlen)
{
	size_t len = strlen(s), i = 0, start;
	uint32_t cp;

	*n = 0;
	if (len && keys_utf8_next(s, len, &cp) == (int)len) {
		if (max < 1 || !(out[0].sym[0] = keys_from_codepoint(cp))) {
			snprintf(err, errlen, "character U+%04X has no key", cp);
			return -1;
		}
		out[0].n = 1;
		*n = 1;
		return 0;
	}
	for (;;) {
		while (i < len && isspace((unsigned char)s[i]))
			i++;
		if (i == len)
			break;
		start = i;
		while (i < len && !isspace((unsigned char)s[i]))
			i++;
		if (*n == max) {
			snprintf(err, errlen, "more than %d key chords", max);
			return -1;
		}
		if (keys_parse_chord(s + start, i - start, &out[*n], err, errlen) < 0)
			return -1;
		(*n)++;
	}
	if (*n == 0) {
		snprintf(err, errlen, "no key given");
		return -1;
	}
	return 0;
}

int keys_utf8_next(const char *s, size_t len, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t c, min;
	int n;

	if (len == 0)
		return -1;
	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	if ((u[0] & 0xe0) == 0xc0) {
		n = 2; c = u[0] & 0x1f; min = 0x80;
	} else if ((u[0] & 0xf0) == 0xe0) {
		n = 3; c = u[0] & 0x0f; min = 0x800;
	} else if ((u[0] & 0xf8) == 0xf0) {
		n = 4; c = u[0] & 0x07; min = 0x10000;
	} else {
		return -1;
	}
	if (len < (size_t)n)
		return -1;
	for (int i = 1; i < n; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return -1;
		c = c << 6 | (u[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*cp = c;
	return n;
}

unsigned long keys_from_codepoint(uint32_t cp)
{
	if (cp == '\n' || cp == '\r')
		return XK_Return;
	if (cp == '\t')
		return XK_Tab;
	if ((cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xff))
		return cp;
	if (cp < 0x100 || cp > 0x10ffff)
		return 0;
	return 0x01000000UL | cp;
}

int keys_is_modifier(unsigned long ks)
{
	return (ks >= XK_Shift_L && ks <= XK_Hyper_R) ||
	       ks == XK_ISO_Level3_Shift || ks == XK_ISO_Level5_Shift ||
	       ks == XK_Mode_switch;
}
