/*
 * fuzz_path.c - libFuzzer target for the string helpers that see client
 * input (common/util.c): path_normalize, utf8_repair and route_match.
 *
 * Outputs go to heap buffers of exactly the size the contracts promise, so
 * ASan sees any overrun; results are checked against independent
 * definitions of "normalized", "valid UTF-8" and "matched". Build and run
 * with tests/fuzz/run.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "../unit/utf8_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)
#define PATH_CAP 4096

static void normal_form(const char *p)
{
	size_t n = strlen(p);

	CHECK(p[0] == '/' && (n == 1 || p[n - 1] != '/'));
	CHECK(!strstr(p, "//") && !strstr(p, "/./") && !strstr(p, "/../"));
	CHECK(!(n >= 2 && !strcmp(p + n - 2, "/.")));
	CHECK(!(n >= 3 && !strcmp(p + n - 3, "/..")));
	for (const char *c = p; *c; c++)
		CHECK((unsigned char)*c >= 0x20 && *c != 0x7f);
}

/* s is the input up to its first NUL; small_cap comes from the input too. */
static void path(const char *s, size_t small_cap)
{
	char *out = malloc(PATH_CAP), *again = malloc(PATH_CAP), *small = malloc(small_cap);
	int r;

	CHECK(out && again && small);
	r = path_normalize("/home/user", s, out, PATH_CAP);
	if (r == 0) {
		normal_form(out);
		CHECK(path_normalize("/elsewhere", out, again, PATH_CAP) == 0);
		CHECK(!strcmp(out, again));
	}
	/* A smaller buffer gives the same answer or -1, never an overrun. */
	if (path_normalize("/home/user", s, small, small_cap) == 0)
		CHECK(r == 0 && !strcmp(out, small));
	free(out);
	free(again);
	free(small);
}

static void utf8(const uint8_t *data, size_t size)
{
	char *out = malloc(3 * size + 1), *again;
	size_t n, n2;

	CHECK(out);
	n = utf8_repair((const char *)data, size, out, 3 * size + 1);
	CHECK(n <= 3 * size && out[n] == '\0' && valid_utf8((unsigned char *)out, n));
	if (valid_utf8(data, size))
		CHECK(n == size && !memcmp(out, data, size));
	again = malloc(3 * n + 1);
	CHECK(again);
	n2 = utf8_repair(out, n, again, 3 * n + 1);
	CHECK(n2 == n && !memcmp(again, out, n));
	free(again);
	free(out);
}

static void route(const char *s)
{
	static const char *const patterns[] = {
		"/healthz", "/v1/sandboxes", "/v1/sandboxes/*", "/v1/sandboxes/*/exec",
		"/v1/sandboxes/*/files", "/v1/sandboxes/*/desktop/restart", "/a/*/b/*",
	};
	char *id = malloc(ID_LEN + 1);
	const char *nl = strchr(s, '\n');

	CHECK(id);
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		if (!route_match(patterns[i], s, id, ID_LEN + 1) || !strchr(patterns[i], '*'))
			continue;
		CHECK(id[0] && strlen(id) <= ID_LEN && !strpbrk(id, "/?"));
		CHECK(!strncmp(s, patterns[i], strcspn(patterns[i], "*")));
	}
	/* The input as pattern "\n" path, with a tiny id buffer. */
	if (nl) {
		char *pat = strndup(s, (size_t)(nl - s)), *tiny = malloc(4);

		CHECK(pat && tiny);
		if (route_match(pat, nl + 1, tiny, 4) && strchr(pat, '*'))
			CHECK(strlen(tiny) < 4);
		route_match(pat, nl + 1, NULL, 0);
		free(pat);
		free(tiny);
	}
	free(id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	CHECK(s);
	memcpy(s, data, size);
	s[size] = '\0';
	path(s, 1 + (size ? data[0] % 64 : 0));
	utf8(data, size);
	route(s);
	free(s);
	return 0;
}
