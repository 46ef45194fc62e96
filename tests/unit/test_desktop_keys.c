/*
 * test_desktop_keys.c - cmocka tests of desktop/keys.c: key names and
 * aliases (case-insensitive), chord parsing with its edge cases ("ctrl++",
 * "+", "ctrl+"), xdotool-style sequences, UTF-8 decoding of valid and
 * invalid bytes, and code points to keysyms. Links libX11 for its keysym
 * name table only; no display is opened.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <X11/keysym.h>

#include "../../desktop/keys.h"

static unsigned long name(const char *s)
{
	return keys_from_name(s, strlen(s));
}

static void test_aliases_case_insensitive(void **state)
{
	static const struct {
		const char *n;
		unsigned long ks;
	} t[] = {
		{"Enter", XK_Return}, {"RETURN", XK_Return}, {"return", XK_Return},
		{"Return", XK_Return}, {"esc", XK_Escape}, {"Escape", XK_Escape},
		{"BackSpace", XK_BackSpace}, {"backspace", XK_BackSpace},
		{"Tab", XK_Tab}, {"cmd", XK_Super_L}, {"Super", XK_Super_L},
		{"WIN", XK_Super_L}, {"meta", XK_Super_L}, {"Ctrl", XK_Control_L},
		{"control", XK_Control_L}, {"CTRL", XK_Control_L}, {"Alt", XK_Alt_L},
		{"option", XK_Alt_L}, {"SHIFT", XK_Shift_L}, {"PageUp", XK_Prior},
		{"Prior", XK_Prior}, {"page_down", XK_Next}, {"Next", XK_Next},
		{"Home", XK_Home}, {"end", XK_End}, {"ArrowLeft", XK_Left},
		{"left", XK_Left}, {"ARROWUP", XK_Up}, {"Down", XK_Down},
		{"Right", XK_Right}, {"space", XK_space}, {"Space", XK_space},
		{"Delete", XK_Delete}, {"del", XK_Delete}, {"Insert", XK_Insert},
		{"CapsLock", XK_Caps_Lock}, {"Caps_Lock", XK_Caps_Lock},
		{"KP_Enter", XK_KP_Enter}, {"kp_enter", XK_KP_Enter},
		{"F1", XK_F1}, {"f12", XK_F12}, {"F24", XK_F24},
		{"plus", XK_plus}, {"minus", XK_minus},
		/* X names, exact and case-insensitive. */
		{"KP_Add", XK_KP_Add}, {"kp_add", XK_KP_Add}, {"Num_Lock", XK_Num_Lock},
		{"ISO_Left_Tab", XK_ISO_Left_Tab}, {"iso_left_tab", XK_ISO_Left_Tab},
		{"XF86AudioMute", 0x1008ff12}, {"xf86audiomute", 0x1008ff12},
		{"aacute", XK_aacute}, {"Cyrillic_a", XK_Cyrillic_a},
		{"0x41", 0x41},
	};

	for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
		unsigned long ks = name(t[i].n);

		if (ks != t[i].ks)
			fail_msg("%s: got 0x%lx, want 0x%lx", t[i].n, ks, t[i].ks);
	}
}

static void test_single_characters(void **state)
{
	assert_int_equal(name("a"), 'a');
	assert_int_equal(name("A"), 'A');   /* case kept for one character */
	assert_int_equal(name("+"), XK_plus);
	assert_int_equal(name("/"), XK_slash);
	assert_int_equal(name(" "), XK_space);
	assert_int_equal(name("é"), XK_eacute);
	assert_int_equal(name("世"), 0x1000000 + 0x4e16);
	assert_int_equal(name("🙂"), 0x1000000 + 0x1f642);
}

static void test_unknown_names(void **state)
{
	assert_int_equal(name("nosuchkey"), 0);
	assert_int_equal(name("F0"), 0);
	assert_int_equal(name("F36"), 0);
	assert_int_equal(name(""), 0);
	assert_int_equal(keys_from_name("a\0b", 3), 0);
	char longname[200];

	memset(longname, 'x', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	assert_int_equal(name(longname), 0);
}

static int chord(const char *s, struct keys_chord *c, char *err)
{
	return keys_parse_chord(s, strlen(s), c, err, 128);
}

static void test_chords(void **state)
{
	struct keys_chord c;
	char err[128];

	assert_int_equal(chord("ctrl+shift+t", &c, err), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.sym[0], XK_Control_L);
	assert_int_equal(c.sym[1], XK_Shift_L);
	assert_int_equal(c.sym[2], 't');

	assert_int_equal(chord("ctrl++", &c, err), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.sym[1], XK_plus);

	assert_int_equal(chord("ctrl+plus", &c, err), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.sym[1], XK_plus);

	assert_int_equal(chord("+", &c, err), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.sym[0], XK_plus);

	assert_int_equal(chord("shift++", &c, err), 0);
	assert_int_equal(c.sym[1], XK_plus);

	assert_int_equal(chord(" ctrl + a ", &c, err), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.sym[1], 'a');

	/* Capitals fold in a chord; alone they stay. */
	assert_int_equal(chord("ctrl+T", &c, err), 0);
	assert_int_equal(c.sym[1], 't');
	assert_int_equal(chord("T", &c, err), 0);
	assert_int_equal(c.sym[0], 'T');

	assert_int_equal(chord("CTRL+ALT+Delete", &c, err), 0);
	assert_int_equal(c.sym[0], XK_Control_L);
	assert_int_equal(c.sym[1], XK_Alt_L);
	assert_int_equal(c.sym[2], XK_Delete);
}

static void test_chord_errors(void **state)
{
	struct keys_chord c;
	char err[128];

	assert_int_equal(chord("ctrl+", &c, err), -1);
	assert_non_null(strstr(err, "ends with '+'"));
	assert_int_equal(chord("++", &c, err), -1);
	assert_int_equal(chord("", &c, err), -1);
	assert_int_equal(chord("ctrl+nosuch", &c, err), -1);
	assert_string_equal(err, "unknown key 'nosuch'");
	assert_int_equal(chord("+a", &c, err), -1);
	assert_int_equal(chord("a+b+c+d+e+f+g+h+i", &c, err), -1);
	assert_non_null(strstr(err, "more than 8"));
	assert_int_equal(chord("a+b+c+d+e+f+g+h", &c, err), 0);
	assert_int_equal(c.n, 8);
}

static void test_chord_add(void **state)
{
	struct keys_chord c = {0};
	char err[128];

	assert_int_equal(keys_chord_add(&c, "CTRL", 4, err, sizeof err), 0);
	assert_int_equal(keys_chord_add(&c, "A", 1, err, sizeof err), 0);
	keys_chord_finish(&c);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.sym[1], 'a');
	c.n = 0;
	assert_int_equal(keys_chord_add(&c, "ctrl+c", 6, err, sizeof err), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(keys_chord_add(&c, "+", 1, err, sizeof err), 0);
	assert_int_equal(c.sym[2], XK_plus);
	assert_int_equal(keys_chord_add(&c, "bogus", 5, err, sizeof err), -1);
}

static void test_sequences(void **state)
{
	struct keys_chord c[4];
	char err[128];
	int n;

	assert_int_equal(keys_parse_sequence("ctrl+a Delete", c, 4, &n, err, sizeof err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(c[0].n, 2);
	assert_int_equal(c[1].sym[0], XK_Delete);
	assert_int_equal(keys_parse_sequence(" ", c, 4, &n, err, sizeof err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(c[0].sym[0], XK_space);
	assert_int_equal(keys_parse_sequence("\t", c, 4, &n, err, sizeof err), 0);
	assert_int_equal(c[0].sym[0], XK_Tab);
	assert_int_equal(keys_parse_sequence("+", c, 4, &n, err, sizeof err), 0);
	assert_int_equal(c[0].sym[0], XK_plus);
	assert_int_equal(keys_parse_sequence("a b c d e", c, 4, &n, err, sizeof err), -1);
	assert_int_equal(keys_parse_sequence("   ", c, 4, &n, err, sizeof err), -1);
	assert_int_equal(keys_parse_sequence("", c, 4, &n, err, sizeof err), -1);
	assert_int_equal(keys_parse_sequence("\x07", c, 4, &n, err, sizeof err), -1);
}

static void test_utf8_valid(void **state)
{
	uint32_t cp;

	assert_int_equal(keys_utf8_next("A", 1, &cp), 1);
	assert_int_equal(cp, 'A');
	assert_int_equal(keys_utf8_next("\xc3\xa9", 2, &cp), 2);
	assert_int_equal(cp, 0xe9);
	assert_int_equal(keys_utf8_next("\xe4\xb8\x96", 3, &cp), 3);
	assert_int_equal(cp, 0x4e16);
	assert_int_equal(keys_utf8_next("\xf0\x9f\x99\x82", 4, &cp), 4);
	assert_int_equal(cp, 0x1f642);
	assert_int_equal(keys_utf8_next("\xf4\x8f\xbf\xbf", 4, &cp), 4);
	assert_int_equal(cp, 0x10ffff);
	assert_int_equal(keys_utf8_next("\xed\x9f\xbf", 3, &cp), 3);   /* U+D7FF */
	assert_int_equal(keys_utf8_next("\0", 1, &cp), 1);
	assert_int_equal(cp, 0);
}

static void test_utf8_invalid(void **state)
{
	static const char *const bad[] = {
		"\x80",                 /* lone continuation */
		"\xbf",
		"\xc0\xaf",             /* overlong '/' */
		"\xc1\xbf",
		"\xe0\x80\xaf",         /* overlong, 3 bytes */
		"\xf0\x80\x80\xaf",     /* overlong, 4 bytes */
		"\xed\xa0\x80",         /* surrogate U+D800 */
		"\xed\xbf\xbf",         /* surrogate U+DFFF */
		"\xf4\x90\x80\x80",     /* U+110000 */
		"\xf8\x88\x80\x80\x80", /* 5-byte form */
		"\xff",
		"\xc3\x28",             /* bad continuation */
		"\xe4\xb8\x28",
	};
	uint32_t cp;

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (keys_utf8_next(bad[i], strlen(bad[i]), &cp) != -1)
			fail_msg("sequence %zu accepted", i);
	/* Truncated sequences: the bytes are fine, there are not enough. */
	assert_int_equal(keys_utf8_next("\xe4\xb8", 2, &cp), -1);
	assert_int_equal(keys_utf8_next("\xf0\x9f\x99", 3, &cp), -1);
	assert_int_equal(keys_utf8_next("\xc3", 1, &cp), -1);
	assert_int_equal(keys_utf8_next("", 0, &cp), -1);
}

static void test_codepoints(void **state)
{
	assert_int_equal(keys_from_codepoint('\n'), XK_Return);
	assert_int_equal(keys_from_codepoint('\r'), XK_Return);
	assert_int_equal(keys_from_codepoint('\t'), XK_Tab);
	assert_int_equal(keys_from_codepoint(' '), XK_space);
	assert_int_equal(keys_from_codepoint('-'), XK_minus);
	assert_int_equal(keys_from_codepoint('~'), XK_asciitilde);
	assert_int_equal(keys_from_codepoint(0xa0), XK_nobreakspace);
	assert_int_equal(keys_from_codepoint(0xff), XK_ydiaeresis);
	assert_int_equal(keys_from_codepoint(0x20ac), 0x10020ac);
	assert_int_equal(keys_from_codepoint(0x1f642), 0x101f642);
	assert_int_equal(keys_from_codepoint(0), 0);
	assert_int_equal(keys_from_codepoint(0x07), 0);
	assert_int_equal(keys_from_codepoint(0x1b), 0);
	assert_int_equal(keys_from_codepoint(0x7f), 0);
	assert_int_equal(keys_from_codepoint(0x85), 0);
	assert_int_equal(keys_from_codepoint(0x110000), 0);
}

static void test_modifiers(void **state)
{
	assert_true(keys_is_modifier(XK_Shift_L));
	assert_true(keys_is_modifier(XK_Control_R));
	assert_true(keys_is_modifier(XK_Super_L));
	assert_true(keys_is_modifier(XK_ISO_Level3_Shift));
	assert_false(keys_is_modifier('a'));
	assert_false(keys_is_modifier(XK_Return));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aliases_case_insensitive),
		cmocka_unit_test(test_single_characters),
		cmocka_unit_test(test_unknown_names),
		cmocka_unit_test(test_chords),
		cmocka_unit_test(test_chord_errors),
		cmocka_unit_test(test_chord_add),
		cmocka_unit_test(test_sequences),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_utf8_invalid),
		cmocka_unit_test(test_codepoints),
		cmocka_unit_test(test_modifiers),
	};

	return cmocka_run_group_tests_name("desktop_keys", tests, NULL, NULL);
}
