/*
 * test_config.c - cmocka tests of common/config.c: defaults, config_set for
 * every kind of key, the config file parser, the flag parser and
 * config_file_arg. A failed call must leave the config as it was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"

/* Each test gets a fresh default config on the heap (it is ~17 KB). */
static int setup(void **state)
{
	struct config *c = malloc(sizeof(*c));

	if (!c)
		return -1;
	config_defaults(c);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

/* config_set must fail, say why, and change nothing. */
static void set_fails(struct config *c, const char *key, const char *value,
		      const char *needle)
{
	struct config *before = malloc(sizeof(*before));
	char err[256] = "";

	assert_non_null(before);
	memcpy(before, c, sizeof(*c));
	if (config_set(c, key, value, err, sizeof(err)) != -1)
		fail_msg("config_set(%s, \"%s\") succeeded", key, value);
	assert_true(err[0] != '\0');
	if (needle && !strstr(err, needle))
		fail_msg("config_set(%s, \"%s\"): \"%s\" lacks \"%s\"", key, value, err, needle);
	assert_memory_equal(before, c, sizeof(*c));
	free(before);
}

static void set_ok(struct config *c, const char *key, const char *value)
{
	char err[256] = "";

	if (config_set(c, key, value, err, sizeof(err)))
		fail_msg("config_set(%s, \"%s\"): %s", key, value, err);
}

static void test_desktop_session(void **state)
{
	struct config *c = *state;

	assert_int_equal(c->desktop_session, SESSION_FULL);
	set_ok(c, "desktop-session", "bare");
	assert_int_equal(c->desktop_session, SESSION_BARE);
	set_ok(c, "desktop-session", "full");
	assert_int_equal(c->desktop_session, SESSION_FULL);
	set_fails(c, "desktop-session", "Full", "want full or bare");
	set_fails(c, "desktop-session", "", "want full or bare");
}

static void test_defaults(void **state)
{
	struct config *c = *state;

	assert_string_equal(c->listen_host, "127.0.0.1");
	assert_int_equal(c->listen_port, 8080);
	assert_string_equal(c->state_dir, "");
	assert_string_equal(c->token, "");
	assert_string_equal(c->images_dir, "");
	assert_string_equal(c->web_dir, "");
	assert_string_equal(c->config_file, "");
	assert_int_equal(c->max_sandboxes, 64);
	assert_int_equal(c->uid_base, 0x70000000L);
	assert_int_equal(c->timeout_s, 3600);
	assert_int_equal(c->limits.memory_mb, 1024);
	assert_int_equal(c->limits.pids, 512);
	assert_true(c->limits.cpu == 1.0);
	assert_int_equal(c->limits.disk_mb, 1024);
	assert_int_equal(c->limits.nofile, 1024);
	assert_int_equal(c->max_output, 1 << 20);
	assert_int_equal(c->max_body, 8 << 20);
	assert_int_equal(c->max_file, 256UL << 20);
	assert_int_equal(c->exec_timeout_ms, 60000);
	assert_int_equal(c->max_width, 1920);
	assert_int_equal(c->max_height, 1080);
}

/* ---- listen ---- */

static void test_listen(void **state)
{
	struct config *c = *state;

	set_ok(c, "listen", "0.0.0.0:9000");
	assert_string_equal(c->listen_host, "0.0.0.0");
	assert_int_equal(c->listen_port, 9000);
	set_ok(c, "listen", "[::1]:8081");
	assert_string_equal(c->listen_host, "::1");
	assert_int_equal(c->listen_port, 8081);
	set_ok(c, "listen", "localhost:65535");
	assert_string_equal(c->listen_host, "localhost");
	assert_int_equal(c->listen_port, 65535);
	/* The last colon splits, so a bare IPv6 address works too. */
	set_ok(c, "listen", "::1:80");
	assert_string_equal(c->listen_host, "::1");
	assert_int_equal(c->listen_port, 80);
	/* No address: refused rather than guessed (all interfaces?). */
	{
		char err[256];

		assert_int_equal(config_set(c, "listen", ":1234", err, sizeof(err)), -1);
	}
}

static void test_listen_rejects(void **state)
{
	struct config *c = *state;
	char host[80];

	set_fails(c, "listen", "", "listen");
	set_fails(c, "listen", "8080", "ADDR:PORT");
	set_fails(c, "listen", "localhost", "ADDR:PORT");
	set_fails(c, "listen", "host:", "port");
	set_fails(c, "listen", "host:http", "port");
	set_fails(c, "listen", "host:80x", "port");
	set_fails(c, "listen", "host:65536", "port");
	set_fails(c, "listen", "host:-1", "port");
	set_fails(c, "listen", "host:99999999999999999999999", "port");
	set_fails(c, "listen", "[::1]", "port");
	/* 63 bytes of host fit the 64-byte field; 64 do not. */
	memset(host, 'h', 63);
	strcpy(host + 63, ":1");
	set_ok(c, "listen", host);
	assert_int_equal(strlen(c->listen_host), 63);
	memset(host, 'h', 64);
	strcpy(host + 64, ":1");
	set_fails(c, "listen", host, "too long");
}

/* ---- strings ---- */

static void test_strings(void **state)
{
	struct config *c = *state;
	char tok[300];

	set_ok(c, "state-dir", "/var/lib/x");
	assert_string_equal(c->state_dir, "/var/lib/x");
	set_ok(c, "images", "/srv/images");
	assert_string_equal(c->images_dir, "/srv/images");
	set_ok(c, "web", "/srv/web");
	assert_string_equal(c->web_dir, "/srv/web");
	set_ok(c, "config", "/etc/deskbox.conf");
	assert_string_equal(c->config_file, "/etc/deskbox.conf");
	set_ok(c, "token", "s3cret with spaces = and # signs");
	assert_string_equal(c->token, "s3cret with spaces = and # signs");
	set_ok(c, "token", "");
	assert_string_equal(c->token, "");
	/* token[256]: 255 bytes fit, 256 do not. */
	memset(tok, 'x', 255);
	tok[255] = '\0';
	set_ok(c, "token", tok);
	assert_int_equal(strlen(c->token), 255);
	memset(tok, 'y', 256);
	tok[256] = '\0';
	set_fails(c, "token", tok, "too long");
}

static void test_string_path_max(void **state)
{
	struct config *c = *state;
	char *v = malloc(PATH_MAX + 1);

	assert_non_null(v);
	memset(v, 'd', PATH_MAX);
	v[PATH_MAX - 1] = '\0';
	set_ok(c, "state-dir", v);
	assert_int_equal(strlen(c->state_dir), PATH_MAX - 1);
	v[PATH_MAX - 1] = 'd';
	v[PATH_MAX] = '\0';
	set_fails(c, "web", v, "too long");
	free(v);
}

/* ---- numbers ---- */

static void test_numbers(void **state)
{
	struct config *c = *state;

	set_ok(c, "max-sandboxes", "1");
	assert_int_equal(c->max_sandboxes, 1);
	set_ok(c, "uid-base", "65536");
	assert_int_equal(c->uid_base, 65536);
	set_ok(c, "uid-base", "2147287040");
	assert_int_equal(c->uid_base, 0x7FFD0000L);
	set_ok(c, "max-sandboxes", "100000");
	assert_int_equal(c->max_sandboxes, 100000);
	set_ok(c, "timeout", "0");
	assert_int_equal(c->timeout_s, 0);
	set_ok(c, "timeout", "31536000");
	assert_int_equal(c->timeout_s, 31536000);
	set_ok(c, "memory-mb", "16");
	assert_int_equal(c->limits.memory_mb, 16);
	set_ok(c, "memory-mb", "4194304");
	assert_int_equal(c->limits.memory_mb, 4194304);
	set_ok(c, "pids", "8");
	assert_int_equal(c->limits.pids, 8);
	set_ok(c, "disk-mb", "16777216");
	assert_int_equal(c->limits.disk_mb, 16777216);
	set_ok(c, "nofile", "1048576");
	assert_int_equal(c->limits.nofile, 1048576);
	set_ok(c, "exec-timeout-ms", "86400000");
	assert_int_equal(c->exec_timeout_ms, 86400000);
	set_ok(c, "max-output", "0");
	assert_int_equal(c->max_output, 0);
	set_ok(c, "max-body", "1024");
	assert_int_equal(c->max_body, 1024);
	set_ok(c, "max-file", "17179869184");
	assert_int_equal(c->max_file, 1UL << 34);
	set_ok(c, "max-width", "64");
	assert_int_equal(c->max_width, 64);
	set_ok(c, "max-height", "16384");
	assert_int_equal(c->max_height, 16384);
	/* Exponent notation of a whole number is a whole number. */
	set_ok(c, "max-output", "1e6");
	assert_int_equal(c->max_output, 1000000);
	set_ok(c, "timeout", "-0");
	assert_int_equal(c->timeout_s, 0);
}

static void test_cpu(void **state)
{
	struct config *c = *state;

	set_ok(c, "cpu", "0.5");
	assert_true(c->limits.cpu == 0.5);
	set_ok(c, "cpu", "0.01");
	assert_true(c->limits.cpu == 0.01);
	set_ok(c, "cpu", "4096");
	assert_true(c->limits.cpu == 4096);
	set_fails(c, "cpu", "0.009", "cpu");
	set_fails(c, "cpu", "0", "cpu");
	set_fails(c, "cpu", "-1", "cpu");
	set_fails(c, "cpu", "4096.5", "cpu");
	set_fails(c, "cpu", "nan", "cpu");
	set_fails(c, "cpu", "inf", "cpu");
	set_fails(c, "cpu", "1e-400", "cpu");
	set_fails(c, "cpu", "", "cpu");
	set_fails(c, "cpu", "1 core", "cpu");
}

static void test_numbers_reject(void **state)
{
	struct config *c = *state;
	static const struct {
		const char *key, *value;
	} bad[] = {
		{ "max-sandboxes", "0" },
		{ "uid-base", "65535" },
		{ "uid-base", "2147287041" },
		{ "uid-base", "-1" },
		{ "max-sandboxes", "100001" },
		{ "max-sandboxes", "1.5" },
		{ "max-sandboxes", "" },
		{ "max-sandboxes", "ten" },
		{ "max-sandboxes", "10abc" },
		{ "max-sandboxes", "10 " },
		{ "max-sandboxes", "nan" },
		{ "max-sandboxes", "-nan" },
		{ "max-sandboxes", "inf" },
		{ "max-sandboxes", "1e400" },
		{ "max-sandboxes", "99999999999999999999999999" },
		{ "timeout", "-1" },
		{ "timeout", "31536001" },
		{ "timeout", "0.5" },
		{ "timeout", "-inf" },
		{ "memory-mb", "15" },
		{ "memory-mb", "4194305" },
		{ "pids", "7" },
		{ "disk-mb", "0" },
		{ "disk-mb", "16777217" },
		{ "nofile", "15" },
		{ "nofile", "1048577" },
		{ "exec-timeout-ms", "0" },
		{ "exec-timeout-ms", "86400001" },
		{ "max-output", "-1" },
		{ "max-output", "1073741825" },
		{ "max-body", "1023" },
		{ "max-file", "17179869185" },
		{ "max-file", "1e300" },
		{ "max-file", "-1e300" },
		{ "max-width", "63" },
		{ "max-height", "16385" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		set_fails(c, bad[i].key, bad[i].value, bad[i].key);
}

static void test_unknown_key(void **state)
{
	struct config *c = *state;

	set_fails(c, "bogus", "1", "unknown option 'bogus'");
	set_fails(c, "", "1", "unknown option");
	set_fails(c, "Listen", "1.2.3.4:5", "unknown option");
	set_fails(c, "memory_mb", "100", "unknown option");
	set_fails(c, "listen ", "1.2.3.4:5", "unknown option");
}

static void test_small_err_buffer(void **state)
{
	struct config *c = *state;
	char *err = malloc(8);

	/* The message is cut, never overflowing the buffer (ASan checks). */
	assert_non_null(err);
	assert_int_equal(config_set(c, "a-rather-long-unknown-key", "v", err, 8), -1);
	assert_int_equal(strlen(err), 7);
	assert_int_equal(config_set(c, "memory-mb", "x", err, 1), -1);
	assert_string_equal(err, "");
	free(err);
}

/* ---- config_parse_file ---- */

static void test_file(void **state)
{
	struct config *c = *state;
	char err[256] = "";
	const char *text =
		"# deskboxd.conf\n"
		"\n"
		"listen = 0.0.0.0:9999\n"
		"   token    tok-en=1   \n"
		"memory-mb=2048\n"
		"\tpids\t100\r\n"
		"cpu =2.5\n"
		"  # indented comment\n"
		"   \t  \n"
		"timeout 0";

	assert_int_equal(config_parse_file(c, text, err, sizeof(err)), 0);
	assert_string_equal(c->listen_host, "0.0.0.0");
	assert_int_equal(c->listen_port, 9999);
	assert_string_equal(c->token, "tok-en=1");
	assert_int_equal(c->limits.memory_mb, 2048);
	assert_int_equal(c->limits.pids, 100);
	assert_true(c->limits.cpu == 2.5);
	assert_int_equal(c->timeout_s, 0);
}

static void test_file_empty(void **state)
{
	struct config *c = *state;
	char err[64] = "";

	assert_int_equal(config_parse_file(c, "", err, sizeof(err)), 0);
	assert_int_equal(config_parse_file(c, "\n\n\r\n#\n", err, sizeof(err)), 0);
	assert_int_equal(c->listen_port, 8080);
}

static void file_fails(struct config *c, const char *text, const char *want)
{
	char err[512] = "";

	assert_int_equal(config_parse_file(c, text, err, sizeof(err)), -1);
	if (strncmp(err, want, strlen(want)))
		fail_msg("config_parse_file: \"%s\", want it to start \"%s\"", err, want);
}

static void test_file_errors(void **state)
{
	struct config *c = *state;

	file_fails(c, "bogus = 1\n", "line 1: unknown option 'bogus'");
	file_fails(c, "# ok\n\npids = 3\n", "line 3: pids");
	file_fails(c, "pids = 9\nmemory-mb = lots\n", "line 2: memory-mb");
	/* A key with no value is given the empty string. */
	file_fails(c, "listen\n", "line 1: listen");
	file_fails(c, "= 5\n", "line 1: unknown option ''");
	/* '#' only starts a comment at the start of a line. */
	file_fails(c, "pids = 100 # tasks\n", "line 1: pids");
	/* A stray NUL ends the text (it is a C string). */
	file_fails(c, "pids = 9\npids = x\0pids = 10\n", "line 2: pids");
}

static void test_file_long_line(void **state)
{
	struct config *c = *state;
	size_t n = PATH_MAX + 100;
	char *text = malloc(n + 2);

	assert_non_null(text);
	memset(text, ' ', n);
	memcpy(text, "web = /", 7);
	text[n] = '\n';
	text[n + 1] = '\0';
	file_fails(c, text, "line 1: too long");
	/* A long value that still does not fit the field. */
	memset(text, 'w', n);
	memcpy(text, "web = /", 7);
	text[PATH_MAX + 20] = '\0';
	file_fails(c, text, "line 1: web: value too long");
	free(text);
}

static void test_file_stops_at_first_error(void **state)
{
	struct config *c = *state;

	file_fails(c, "pids = 100\nbad\nnofile = 2000\n", "line 2:");
	/* Lines before the error were applied; the ones after were not. */
	assert_int_equal(c->limits.pids, 100);
	assert_int_equal(c->limits.nofile, 1024);
}

/* ---- config_parse_args ---- */

static int args(struct config *c, char *err, size_t errlen, int argc, ...)
{
	char *argv[32];
	va_list ap;

	assert_true(argc < 32);
	argv[0] = "deskboxd";
	va_start(ap, argc);
	for (int i = 1; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	argv[argc] = NULL;
	return config_parse_args(c, argc, argv, err, errlen);
}

static void test_args(void **state)
{
	struct config *c = *state;
	char err[2048] = "";

	assert_int_equal(args(c, err, sizeof(err), 1), 0);
	assert_int_equal(args(c, err, sizeof(err), 8, "--listen", "1.2.3.4:5",
			      "--memory-mb=512", "--token=a=b", "--cpu", "0.25",
			      "--web="), 0);
	assert_string_equal(c->listen_host, "1.2.3.4");
	assert_int_equal(c->listen_port, 5);
	assert_int_equal(c->limits.memory_mb, 512);
	assert_string_equal(c->token, "a=b");
	assert_true(c->limits.cpu == 0.25);
	assert_string_equal(c->web_dir, "");
	/* A value is taken as is, even if it looks like a flag. */
	assert_int_equal(args(c, err, sizeof(err), 3, "--token", "--help"), 0);
	assert_string_equal(c->token, "--help");
	/* Later flags win. */
	assert_int_equal(args(c, err, sizeof(err), 5, "--pids", "10", "--pids", "20"), 0);
	assert_int_equal(c->limits.pids, 20);
}

static void test_args_help_version(void **state)
{
	struct config *c = *state;
	char err[8192] = "";

	assert_int_equal(args(c, err, sizeof(err), 2, "--help"), 1);
	assert_string_equal(err, config_usage);
	err[0] = '\0';
	assert_int_equal(args(c, err, sizeof(err), 2, "-h"), 1);
	assert_string_equal(err, config_usage);
	assert_int_equal(args(c, err, sizeof(err), 2, "--version"), 1);
	assert_non_null(strstr(err, "deskboxd"));
	/* Help wins over a bad flag after it, not over one before it. */
	assert_int_equal(args(c, err, sizeof(err), 3, "--help", "--bogus"), 1);
	assert_int_equal(args(c, err, sizeof(err), 4, "--bogus", "1", "--help"), -1);
}

static void args_fail(struct config *c, int argc, char *a1, char *a2, const char *want)
{
	char err[256] = "";

	assert_int_equal(args(c, err, sizeof(err), argc, a1, a2), -1);
	if (!strstr(err, want))
		fail_msg("config_parse_args: \"%s\" lacks \"%s\"", err, want);
}

static void test_args_errors(void **state)
{
	struct config *c = *state;
	char longkey[200];

	args_fail(c, 2, "stray", NULL, "unexpected argument 'stray'");
	args_fail(c, 2, "-x", NULL, "unexpected argument");
	args_fail(c, 2, "--memory-mb", NULL, "--memory-mb needs a value");
	args_fail(c, 3, "--bogus", "1", "unknown option 'bogus'");
	args_fail(c, 2, "--=1", NULL, "unknown option ''");
	args_fail(c, 3, "--", "1", "unknown option ''");
	args_fail(c, 3, "--pids", "many", "pids");
	args_fail(c, 2, "--pids=", NULL, "pids");
	/* A key longer than any real one is refused whole, not cut. */
	memset(longkey, 'k', sizeof(longkey) - 1);
	memcpy(longkey, "--", 2);
	longkey[sizeof(longkey) - 1] = '\0';
	args_fail(c, 3, longkey, "1", "unknown option");
	strcpy(longkey, "--pids");
	memset(longkey + 6, 'x', 100);
	strcpy(longkey + 106, "=5");
	args_fail(c, 2, longkey, NULL, "unknown option");
	assert_int_equal(c->limits.pids, 512);
}

static void test_config_file_arg(void **state)
{
	char *a1[] = { "deskboxd", "--config", "/etc/a.conf", NULL };
	char *a2[] = { "deskboxd", "--pids", "9", "--config=/etc/b.conf", NULL };
	char *a3[] = { "deskboxd", "--config", NULL };
	char *a4[] = { "deskboxd", "--pids", "9", NULL };
	char *a5[] = { "deskboxd", "--config=x", "--config", "y", NULL };
	char *a6[] = { "deskboxd", "--configure", "y", NULL };
	char *a7[] = { "--config", "argv0", NULL };

	assert_string_equal(config_file_arg(3, a1), "/etc/a.conf");
	assert_string_equal(config_file_arg(4, a2), "/etc/b.conf");
	assert_null(config_file_arg(2, a3));
	assert_null(config_file_arg(3, a4));
	assert_string_equal(config_file_arg(4, a5), "x");
	assert_null(config_file_arg(3, a6));
	assert_null(config_file_arg(2, a7));      /* argv[0] is never a flag */
	assert_null(config_file_arg(0, a1));
}

/* Every option named in the usage text is a key config_set knows. */
static void test_usage_names_real_keys(void **state)
{
	struct config *c = *state;
	const char *p = config_usage;
	int seen = 0;

	while ((p = strstr(p, "--"))) {
		char key[64], err[256];
		size_t n;

		p += 2;
		n = strspn(p, "abcdefghijklmnopqrstuvwxyz-");
		assert_true(n > 0 && n < sizeof(key));
		memcpy(key, p, n);
		key[n] = '\0';
		p += n;
		if (!strcmp(key, "help") || !strcmp(key, "version") || !strcmp(key, "list-ops"))
			continue;
		err[0] = '\0';
		config_set(c, key, "", err, sizeof(err));
		if (strstr(err, "unknown option"))
			fail_msg("usage names --%s, config_set does not know it", key);
		seen++;
	}
	assert_true(seen >= 18);
}

/* The operating keys: drain grace, advertised URL, single mode, activity. */
static void test_operating_keys(void **state)
{
	struct config *c = *state;

	assert_int_equal(c->drain_grace_s, 30);
	assert_int_equal(c->activity_interval_s, 60);
	assert_string_equal(c->advertise_url, "");
	set_ok(c, "drain-grace", "0");
	assert_int_equal(c->drain_grace_s, 0);
	set_fails(c, "drain-grace", "-1", "from 0");
	set_ok(c, "advertise-url", "http://deskbox-0.deskbox-pods.ns.svc:8080");
	assert_string_equal(c->advertise_url, "http://deskbox-0.deskbox-pods.ns.svc:8080");
	set_ok(c, "advertise-url", "https://d.example/base");
	set_ok(c, "activity-url", "http://router:8080/healthz");
	set_fails(c, "advertise-url", "deskbox-0:8080", "http://HOST");
	set_fails(c, "advertise-url", "http://", "http://HOST");
	set_fails(c, "advertise-url", "http:///x", "http://HOST");
	set_fails(c, "advertise-url", "http://a b", "http://HOST");
	set_fails(c, "advertise-url", "http://a\"b", "http://HOST");
	set_fails(c, "activity-url", "ftp://x", "http://HOST");
	set_ok(c, "advertise-url", "");
	assert_string_equal(c->advertise_url, "");
	set_ok(c, "single", "{\"apps\": [\"xterm\"]}");
	assert_string_equal(c->single, "{\"apps\": [\"xterm\"]}");
	set_fails(c, "activity-interval", "0", "from 1");
	assert_int_equal(c->log_debug, 0);
	set_ok(c, "log-level", "debug");
	assert_int_equal(c->log_debug, 1);
	set_ok(c, "log-level", "info");
	assert_int_equal(c->log_debug, 0);
	set_fails(c, "log-level", "verbose", "info or debug");
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_defaults),
		T(test_desktop_session),
		T(test_listen),
		T(test_listen_rejects),
		T(test_strings),
		T(test_string_path_max),
		T(test_numbers),
		T(test_cpu),
		T(test_numbers_reject),
		T(test_unknown_key),
		T(test_small_err_buffer),
		T(test_file),
		T(test_file_empty),
		T(test_file_errors),
		T(test_file_long_line),
		T(test_file_stops_at_first_error),
		T(test_args),
		T(test_args_help_version),
		T(test_args_errors),
		T(test_config_file_arg),
		T(test_usage_names_real_keys),
		T(test_operating_keys),
	};
#undef T

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
