/*
 * test_desktopentry.c - cmocka tests of common/desktopentry.c: real
 * Debian .desktop files, the specification's escapes and Exec quoting,
 * field codes, and bytes a sandbox user could write to break it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "desktopentry.h"

#define S(x) x, sizeof(x) - 1

static const char firefox[] =
	"[Desktop Entry]\n"
	"Name=Firefox ESR\n"
	"Name[de]=Firefox ESR (de)\n"
	"Comment=Browse the World Wide Web\n"
	"Exec=/usr/lib/firefox-esr/firefox-esr %u\n"
	"Terminal=false\n"
	"Type=Application\n"
	"Icon=firefox-esr\n"
	"Categories=Network;WebBrowser;\n"
	"MimeType=text/html;text/xml;x-scheme-handler/http;x-scheme-handler/https;\n"
	"StartupWMClass=firefox-esr\n"
	"\n"
	"[Desktop Action new-window]\n"
	"Name=New Window\n"
	"Exec=/usr/lib/firefox-esr/firefox-esr --new-window %u\n";

static char **argv_of(const char *exec, const char *uri, const char *const *args)
{
	struct desktopentry e = {.exec = (char *)exec, .name = (char *)"App", .icon = (char *)"ico"};
	char err[128];

	return desktopentry_argv(&e, uri, args, "/usr/share/applications/app.desktop", err, sizeof err);
}

static void test_parse_firefox(void **state)
{
	struct desktopentry e;
	char err[128];

	(void)state;
	assert_int_equal(desktopentry_parse(S(firefox), &e, err, sizeof err), 0);
	assert_string_equal(e.name, "Firefox ESR");
	assert_string_equal(e.type, "Application");
	/* the action group's Exec does not replace the entry's */
	assert_string_equal(e.exec, "/usr/lib/firefox-esr/firefox-esr %u");
	assert_string_equal(e.wm_class, "firefox-esr");
	assert_string_equal(e.categories[0], "Network");
	assert_string_equal(e.categories[1], "WebBrowser");
	assert_null(e.categories[2]);
	assert_true(desktopentry_handles(&e, "x-scheme-handler/https"));
	assert_true(desktopentry_handles(&e, "TEXT/HTML"));
	assert_false(desktopentry_handles(&e, "application/pdf"));
	assert_true(desktopentry_listed(&e));
	assert_false(e.terminal);
	desktopentry_free(&e);
}

static void test_parse_escapes_and_flags(void **state)
{
	struct desktopentry e;
	char err[128];

	(void)state;
	assert_int_equal(desktopentry_parse(S(
		"# comment\n\n[Desktop Entry]\r\n"
		"  Type = Application  \r\n"
		"Name=Tab\\there\\sand\\\\slash\n"
		"Exec=app\n"
		"Categories=A\\;B;C;;\n"
		"NoDisplay=true\n"
		"Hidden=false\n"), &e, err, sizeof err), 0);
	assert_string_equal(e.type, "Application");
	assert_string_equal(e.name, "Tab\there and\\slash");
	assert_string_equal(e.categories[0], "A;B");
	assert_string_equal(e.categories[1], "C");
	assert_null(e.categories[2]);
	assert_non_null(e.mime);
	assert_null(e.mime[0]);
	assert_true(e.no_display);
	assert_true(desktopentry_listed(&e));   /* NoDisplay: not in menus, still an app */
	desktopentry_free(&e);
	assert_int_equal(desktopentry_parse(S("[Desktop Entry]\nType=Application\nName=x\nExec=x\n"
					      "Hidden=true\n"), &e, err, sizeof err), 0);
	assert_false(desktopentry_listed(&e));
	desktopentry_free(&e);
}

static void test_parse_rejects(void **state)
{
	struct desktopentry e;
	char err[128];
	char *big;

	(void)state;
	assert_int_equal(desktopentry_parse(S(""), &e, err, sizeof err), -1);
	assert_int_equal(desktopentry_parse(S("Name=x\n"), &e, err, sizeof err), -1);
	assert_int_equal(desktopentry_parse(S("[Other]\nName=x\n"), &e, err, sizeof err), -1);
	assert_int_equal(desktopentry_parse(S("[Desktop Entry\nName=x\n"), &e, err, sizeof err), -1);
	assert_int_equal(desktopentry_parse(S("[Desktop Entry]\njunk\n"), &e, err, sizeof err), -1);
	assert_non_null(strstr(err, "line 2"));
	assert_int_equal(desktopentry_parse(S("[Desktop Entry]\n=x\n"), &e, err, sizeof err), -1);
	assert_int_equal(desktopentry_parse(S("[Desktop Entry]\nName=a\0b\n"), &e, err, sizeof err), -1);
	assert_non_null(strstr(err, "NUL"));
	big = malloc(DESKTOPENTRY_MAX_FILE + 1);
	assert_non_null(big);
	memset(big, '#', DESKTOPENTRY_MAX_FILE + 1);
	assert_int_equal(desktopentry_parse(big, DESKTOPENTRY_MAX_FILE + 1, &e, err, sizeof err), -1);
	/* a value over the limit */
	memcpy(big, "[Desktop Entry]\nName=", 21);
	memset(big + 21, 'x', DESKTOPENTRY_MAX_VALUE + 10);
	assert_int_equal(desktopentry_parse(big, 21 + DESKTOPENTRY_MAX_VALUE + 10, &e, err, sizeof err), -1);
	free(big);
}

static void test_parse_many_categories_capped(void **state)
{
	char buf[8192];
	struct desktopentry e;
	char err[128];
	size_t n = (size_t)snprintf(buf, sizeof buf, "[Desktop Entry]\nCategories=");
	size_t k = 0;

	(void)state;
	for (int i = 0; i < 200; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "c%d;", i);
	assert_int_equal(desktopentry_parse(buf, n, &e, err, sizeof err), 0);
	while (e.categories[k])
		k++;
	assert_int_equal(k, DESKTOPENTRY_MAX_LIST);
	desktopentry_free(&e);
}

static void test_argv_field_codes(void **state)
{
	const char *const extra[] = {"--x", "y z", NULL};
	char **v;

	(void)state;
	v = argv_of("firefox %u", "https://example.com/", NULL);
	assert_string_equal(v[0], "firefox");
	assert_string_equal(v[1], "https://example.com/");
	assert_null(v[2]);
	desktopentry_argv_free(v);
	/* no uri: the code vanishes; args come after */
	v = argv_of("firefox %U", NULL, extra);
	assert_string_equal(v[0], "firefox");
	assert_string_equal(v[1], "--x");
	assert_string_equal(v[2], "y z");
	assert_null(v[3]);
	desktopentry_argv_free(v);
	/* %f gets a path from a file:// URI, percent-decoded */
	v = argv_of("mupdf %f", "file:///home/user/a%20b.pdf", NULL);
	assert_string_equal(v[1], "/home/user/a b.pdf");
	desktopentry_argv_free(v);
	/* no field code: the uri is appended */
	v = argv_of("xterm", "file:///tmp", NULL);
	assert_string_equal(v[1], "file:///tmp");
	assert_null(v[2]);
	desktopentry_argv_free(v);
	/* %i %c %k %% and deprecated codes */
	v = argv_of("app %i --title=%c --from=%k 100%% %d", NULL, NULL);
	assert_string_equal(v[1], "--icon");
	assert_string_equal(v[2], "ico");
	assert_string_equal(v[3], "--title=App");
	assert_string_equal(v[4], "--from=/usr/share/applications/app.desktop");
	assert_string_equal(v[5], "100%");
	assert_string_equal(v[6], "");
	assert_null(v[7]);
	desktopentry_argv_free(v);
}

static void test_argv_quoting(void **state)
{
	char err[128];
	struct desktopentry e = {.exec = (char *)"sh -c \"echo \\\"hi\\\" \\$HOME %u\""};
	char **v;

	(void)state;
	v = desktopentry_argv(&e, "u", NULL, NULL, err, sizeof err);
	assert_non_null(v);
	assert_string_equal(v[0], "sh");
	assert_string_equal(v[1], "-c");
	/* quoted: literal, the %u not expanded; the uri then goes at the end */
	assert_string_equal(v[2], "echo \"hi\" $HOME %u");
	assert_string_equal(v[3], "u");
	assert_null(v[4]);
	desktopentry_argv_free(v);
	e.exec = (char *)"app \"unclosed";
	assert_null(desktopentry_argv(&e, NULL, NULL, NULL, err, sizeof err));
	assert_non_null(strstr(err, "quote"));
	e.exec = (char *)"   ";
	assert_null(desktopentry_argv(&e, NULL, NULL, NULL, err, sizeof err));
	e.exec = NULL;
	assert_null(desktopentry_argv(&e, NULL, NULL, NULL, err, sizeof err));
}

static void test_ids_and_mime(void **state)
{
	char long_id[DESKTOPENTRY_MAX_ID + 2];

	(void)state;
	assert_true(desktopentry_id_ok("firefox-esr"));
	assert_true(desktopentry_id_ok("org.xfce.mousepad"));
	assert_false(desktopentry_id_ok(""));
	assert_false(desktopentry_id_ok(".hidden"));
	assert_false(desktopentry_id_ok("../etc/passwd"));
	assert_false(desktopentry_id_ok("a b"));
	memset(long_id, 'a', sizeof long_id - 1);
	long_id[sizeof long_id - 1] = 0;
	assert_false(desktopentry_id_ok(long_id));

	assert_string_equal(desktopentry_mime_of("http://127.0.0.1:8000/x.pdf", 0), "x-scheme-handler/http");
	assert_string_equal(desktopentry_mime_of("HTTPS://example.com", 0), "x-scheme-handler/https");
	assert_string_equal(desktopentry_mime_of("/home/user/Report.PDF", 0), "application/pdf");
	assert_string_equal(desktopentry_mime_of("file:///home/user/a.html", 0), "text/html");
	assert_string_equal(desktopentry_mime_of("/home/user/notes.txt", 0), "text/plain");
	assert_string_equal(desktopentry_mime_of("/home/user", 1), "inode/directory");
	assert_string_equal(desktopentry_mime_of("/home/user.d/noext", 0), "application/octet-stream");
	assert_string_equal(desktopentry_mime_of("/home/user/trailing.", 0), "application/octet-stream");
}

static void test_file_path(void **state)
{
	char *p;

	(void)state;
	p = desktopentry_file_path("file:///a%2Fb/c%41");
	assert_string_equal(p, "/a/b/cA");
	free(p);
	p = desktopentry_file_path("file://localhost/etc/x");
	assert_string_equal(p, "/etc/x");
	free(p);
	assert_null(desktopentry_file_path("file://otherhost/etc/x"));
	assert_null(desktopentry_file_path("file:///a%00b"));
	assert_null(desktopentry_file_path("http://x/"));
	p = desktopentry_file_path("file:///bad%zz");
	assert_string_equal(p, "/bad%zz");
	free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_firefox),
		cmocka_unit_test(test_parse_escapes_and_flags),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_parse_many_categories_capped),
		cmocka_unit_test(test_argv_field_codes),
		cmocka_unit_test(test_argv_quoting),
		cmocka_unit_test(test_ids_and_mime),
		cmocka_unit_test(test_file_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
