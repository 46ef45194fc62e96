/*
 * test_util.c - cmocka tests of common/util.c: ids, token comparison, path
 * normalization, UTF-8 repair, JSON string escaping, base64 and route
 * matching.
 *
 * Outputs go to heap buffers of exactly the documented size, so ASan (make
 * SANITIZE=1 unit) catches any write or read past a contract's bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "util.h"
#include "utf8_check.h"

#define FFFD "\xef\xbf\xbd"

/* A copy of n bytes in a heap block of exactly n bytes. */
static char *exact_copy(const void *p, size_t n)
{
	char *c = malloc(n ? n : 1);

	assert_non_null(c);
	memcpy(c, p, n);
	return c;
}

/* Tiny deterministic generator for the property tests. */
static uint32_t rng_next(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

/* ---- ids and tokens ---- */

static void test_id_format(void **state)
{
	const uint8_t b[] = { 0x00, 0x01, 0xab, 0xff, 0x10 };
	char out[2 * sizeof(b) + 1];

	id_format(b, sizeof(b), out);
	assert_string_equal(out, "0001abff10");
	id_format(b, 0, out);
	assert_string_equal(out, "");
}

static void test_id_format_then_valid(void **state)
{
	uint8_t b[ID_BYTES];
	uint32_t s = 7;
	char *out = malloc(ID_LEN + 1);

	assert_non_null(out);
	for (int round = 0; round < 100; round++) {
		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = (uint8_t)rng_next(&s);
		id_format(b, sizeof(b), out);
		assert_int_equal(strlen(out), ID_LEN);
		assert_true(id_valid(out));
	}
	free(out);
}

static void test_id_valid(void **state)
{
	assert_true(id_valid("0123456789abcdef0123456789abcdef"));
	assert_false(id_valid(""));
	assert_false(id_valid("0123456789abcdef0123456789abcde"));    /* 31 */
	assert_false(id_valid("0123456789abcdef0123456789abcdef0"));  /* 33 */
	assert_false(id_valid("0123456789ABCDEF0123456789abcdef"));   /* upper */
	assert_false(id_valid("0123456789abcdef0123456789abcdeg"));
	assert_false(id_valid("0123456789abcdef0123456789abcdef\n"));
	assert_false(id_valid("0123456789abcdef/123456789abcdef"));
	assert_false(id_valid("../../../../../../../../../../.."));
	assert_false(id_valid(" 123456789abcdef0123456789abcdef"));
}

static void test_token_equal(void **state)
{
	assert_true(token_equal("secret", 6, "secret"));
	assert_false(token_equal("secreT", 6, "secret"));
	assert_false(token_equal("Secret", 6, "secret"));
	assert_false(token_equal("secre", 5, "secret"));
	assert_false(token_equal("secrets", 7, "secret"));
	assert_false(token_equal("", 0, "secret"));
	/* An empty real token never matches, not even an empty one. */
	assert_false(token_equal("", 0, ""));
	assert_false(token_equal("x", 1, ""));
	/* plen counts, not the NUL: a NUL inside the presented bytes differs. */
	assert_false(token_equal("secret\0", 7, "secret"));
	assert_false(token_equal("sec\0et", 6, "secret"));
	/* Presented as a prefix of the real one but with the right length. */
	assert_false(token_equal("secre\0", 6, "secret"));
}

static void test_token_equal_reads_only_plen(void **state)
{
	/* The presented bytes are not NUL-terminated (they come from a
	 * header); ASan checks nothing past plen is read. */
	char *p = exact_copy("abc", 3);

	assert_false(token_equal(p, 3, "abcdef"));
	assert_false(token_equal(p, 2, "ab_"));
	assert_true(token_equal(p, 3, "abc"));
	assert_false(token_equal(p, 0, "abc"));
	free(p);
}

/* ---- path_normalize ---- */

struct path_case {
	const char *base, *in, *want; /* want NULL = -1 */
};

static void check_paths(const struct path_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char out[4096];
		int r = path_normalize(c[i].base, c[i].in, out, sizeof(out));

		if (!c[i].want) {
			if (r != -1)
				fail_msg("path_normalize(\"%s\", \"%s\") = \"%s\", want -1",
					 c[i].base, c[i].in, out);
			continue;
		}
		if (r != 0 || strcmp(out, c[i].want))
			fail_msg("path_normalize(\"%s\", \"%s\") = %d \"%s\", want \"%s\"",
				 c[i].base, c[i].in, r, r ? "" : out, c[i].want);
	}
}

static void test_path_normalize_documented(void **state)
{
	static const struct path_case c[] = {
		{ "/home/user", "foo", "/home/user/foo" },
		{ "/home/user", "foo/bar.txt", "/home/user/foo/bar.txt" },
		{ "/home/user", "/etc/hosts", "/etc/hosts" },
		{ "/home/user", "/", "/" },
		{ "/home/user", ".", "/home/user" },
		{ "/home/user", "./", "/home/user" },
		{ "/home/user", "..", "/home" },
		{ "/home/user", "../..", "/" },
		{ "/home/user", "a//b///c/", "/home/user/a/b/c" },
		{ "/home/user", "./a/./b/.", "/home/user/a/b" },
		{ "/home/user", "a/../b", "/home/user/b" },
		{ "/home/user", "/tmp/", "/tmp" },
		{ "/home/user", "//tmp//x//", "/tmp/x" },
		{ "/", "x", "/x" },
		{ "/", ".", "/" },
		{ "/home/user/", "x", "/home/user/x" },
		{ "//home//./user/../user", "x", "/home/user/x" },
	};

	check_paths(c, sizeof(c) / sizeof(c[0]));
}

static void test_path_normalize_dotdot_past_root(void **state)
{
	static const struct path_case c[] = {
		{ "/home/user", "../../..", "/" },
		{ "/home/user", "../../../../../../../../etc/passwd", "/etc/passwd" },
		{ "/home/user", "/..", "/" },
		{ "/home/user", "/../../etc/shadow", "/etc/shadow" },
		{ "/home/user", "/a/b/../../..", "/" },
		{ "/home/user", "/a/b/../../../c", "/c" },
		{ "/home/user", "a/../../../../x/../y", "/y" },
		{ "/", "..", "/" },
		{ "/", "../..//../.", "/" },
	};

	check_paths(c, sizeof(c) / sizeof(c[0]));
}

static void test_path_normalize_dot_names(void **state)
{
	/* Only "." and ".." are special; other dotted names are names. */
	static const struct path_case c[] = {
		{ "/home/user", "...", "/home/user/..." },
		{ "/home/user", "..a", "/home/user/..a" },
		{ "/home/user", "a..", "/home/user/a.." },
		{ "/home/user", ".a", "/home/user/.a" },
		{ "/home/user", "./.../..", "/home/user" },
		{ "/home/user", ". /x", "/home/user/. /x" },
		{ "/home/user", "/tmp/\xc3\xa9t\xc3\xa9", "/tmp/\xc3\xa9t\xc3\xa9" },
		/* High bytes are not control bytes, even when not UTF-8. */
		{ "/home/user", "/tmp/\xff\x80", "/tmp/\xff\x80" },
	};

	check_paths(c, sizeof(c) / sizeof(c[0]));
}

static void test_path_normalize_rejects(void **state)
{
	static const struct path_case c[] = {
		{ "/home/user", "", NULL },
		{ "/home/user", "a\nb", NULL },
		{ "/home/user", "a\rb", NULL },
		{ "/home/user", "\t", NULL },
		{ "/home/user", "/tmp/\x01", NULL },
		{ "/home/user", "/tmp/\x1b[31mred", NULL },
		{ "/home/user", "/tmp/\x1f", NULL },
		{ "/home/user", "/tmp/\x7f", NULL },
		/* Rejected even where ".." would drop the bad segment. */
		{ "/home/user", "/tmp/\x01/..", NULL },
	};

	check_paths(c, sizeof(c) / sizeof(c[0]));
}

static void test_path_normalize_cap(void **state)
{
	char *out;

	/* "/ab" needs 4 bytes: 4 fits, 3 does not. */
	out = malloc(4);
	assert_non_null(out);
	assert_int_equal(path_normalize("/home/user", "/ab", out, 4), 0);
	assert_string_equal(out, "/ab");
	assert_int_equal(path_normalize("/home/user", "/ab", out, 3), -1);
	assert_int_equal(path_normalize("/home/user", "/abc", out, 4), -1);
	free(out);

	/* The root needs 2. */
	out = malloc(2);
	assert_non_null(out);
	assert_int_equal(path_normalize("/home/user", "/", out, 2), 0);
	assert_string_equal(out, "/");
	assert_int_equal(path_normalize("/home/user", "/.././/..", out, 2), 0);
	assert_string_equal(out, "/");
	assert_int_equal(path_normalize("/home/user", "/", out, 1), -1);
	assert_int_equal(path_normalize("/home/user", "/", out, 0), -1);
	free(out);

	/* The base counts towards the result. */
	out = malloc(11);
	assert_non_null(out);
	assert_int_equal(path_normalize("/home/user", ".", out, 11), 0);
	assert_string_equal(out, "/home/user");
	assert_int_equal(path_normalize("/home/user", "x", out, 11), -1);
	free(out);
}

static void test_path_normalize_long(void **state)
{
	size_t n = 100000;
	char *in = malloc(n + 1), *out = malloc(4096);

	assert_non_null(in);
	assert_non_null(out);
	memset(in, 'a', n);
	in[n] = '\0';
	assert_int_equal(path_normalize("/home/user", in, out, 4096), -1);
	/* Many short segments and ".."s stay within the cap. */
	for (size_t i = 0; i + 3 <= n; i += 3)
		memcpy(in + i, i % 2 ? "../" : "ab/", 3);
	in[n - n % 3] = '\0';
	assert_int_equal(path_normalize("/home/user", in, out, 4096), 0);
	assert_true(out[0] == '/');
	free(in);
	free(out);
}

/* What a normalized path looks like, checked independently. */
static void assert_normal_form(const char *p)
{
	size_t n = strlen(p);

	assert_true(n >= 1);
	assert_true(p[0] == '/');
	if (n > 1)
		assert_true(p[n - 1] != '/');
	assert_null(strstr(p, "//"));
	assert_null(strstr(p, "/./"));
	assert_null(strstr(p, "/../"));
	assert_false(n >= 2 && !strcmp(p + n - 2, "/."));
	assert_false(n >= 3 && !strcmp(p + n - 3, "/.."));
	for (const char *c = p; *c; c++)
		assert_true((unsigned char)*c >= 0x20 && *c != 0x7f);
}

static void test_path_normalize_properties(void **state)
{
	static const char alphabet[] = "a./";
	uint32_t s = 1;

	for (int round = 0; round < 20000; round++) {
		char in[24], out[256], again[256];
		size_t n = 1 + rng_next(&s) % (sizeof(in) - 1);

		for (size_t i = 0; i < n; i++)
			in[i] = alphabet[rng_next(&s) % 3];
		in[n] = '\0';
		assert_int_equal(path_normalize("/home/user", in, out, sizeof(out)), 0);
		assert_normal_form(out);
		/* Idempotent, and the base no longer matters. */
		assert_int_equal(path_normalize("/elsewhere", out, again, sizeof(again)), 0);
		assert_string_equal(out, again);
	}
}

/* ---- utf8_repair ---- */

/* Repair n bytes into a buffer of exactly the contract's 3n + 1 bytes. */
static char *repair(const char *s, size_t n, size_t *outlen)
{
	char *src = exact_copy(s, n), *dst = malloc(3 * n + 1);
	size_t r;

	assert_non_null(dst);
	r = utf8_repair(src, n, dst, 3 * n + 1);
	assert_true(r <= 3 * n);
	assert_int_equal(dst[r], '\0');
	free(src);
	if (outlen)
		*outlen = r;
	return dst;
}

/* in and want are string literals; either may hold NULs. */
#define REPAIRS_TO(in, want)                                                   \
	do {                                                                   \
		size_t len_;                                                   \
		char *got_ = repair(in, sizeof(in) - 1, &len_);                \
		assert_int_equal(len_, sizeof(want) - 1);                      \
		assert_memory_equal(got_, want, len_);                         \
		free(got_);                                                    \
	} while (0)

static void test_utf8_valid_unchanged(void **state)
{
	REPAIRS_TO("", "");
	REPAIRS_TO("hello, world", "hello, world");
	REPAIRS_TO("\x01\x1f\x7f", "\x01\x1f\x7f");     /* controls are valid */
	REPAIRS_TO("\xc2\x80", "\xc2\x80");             /* U+0080 */
	REPAIRS_TO("\xdf\xbf", "\xdf\xbf");             /* U+07FF */
	REPAIRS_TO("\xe0\xa0\x80", "\xe0\xa0\x80");     /* U+0800 */
	REPAIRS_TO("\xed\x9f\xbf", "\xed\x9f\xbf");     /* U+D7FF */
	REPAIRS_TO("\xee\x80\x80", "\xee\x80\x80");     /* U+E000 */
	REPAIRS_TO("\xef\xbf\xbd", "\xef\xbf\xbd");     /* U+FFFD */
	REPAIRS_TO("\xef\xbf\xbf", "\xef\xbf\xbf");     /* U+FFFF */
	REPAIRS_TO("\xf0\x90\x80\x80", "\xf0\x90\x80\x80"); /* U+10000 */
	REPAIRS_TO("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"); /* U+10FFFF */
	REPAIRS_TO("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
		   "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

static void test_utf8_nul(void **state)
{
	/* NUL is valid UTF-8: kept, so the length, not strlen, is the output. */
	REPAIRS_TO("\0", "\0");
	REPAIRS_TO("a\0b", "a\0b");
	REPAIRS_TO("\0\0\xff", "\0\0" FFFD);
	REPAIRS_TO("\xc0\x80", FFFD FFFD);  /* but not its overlong form */
}

/*
 * Each byte that does not start a valid sequence becomes one U+FFFD, so an
 * invalid n-byte sequence gives n of them; resynchronisation happens at the
 * next byte.
 */
static void test_utf8_overlong(void **state)
{
	REPAIRS_TO("\xc0\x80", FFFD FFFD);              /* NUL, 2 bytes */
	REPAIRS_TO("\xc0\xaf", FFFD FFFD);              /* '/', 2 bytes */
	REPAIRS_TO("\xc1\xbf", FFFD FFFD);
	REPAIRS_TO("\xe0\x80\x80", FFFD FFFD FFFD);     /* NUL, 3 bytes */
	REPAIRS_TO("\xe0\x80\xaf", FFFD FFFD FFFD);     /* '/', 3 bytes */
	REPAIRS_TO("\xe0\x9f\xbf", FFFD FFFD FFFD);     /* U+07FF, 3 bytes */
	REPAIRS_TO("\xf0\x80\x80\x80", FFFD FFFD FFFD FFFD);
	REPAIRS_TO("\xf0\x8f\xbf\xbf", FFFD FFFD FFFD FFFD); /* U+FFFF, 4 */
	REPAIRS_TO("a\xc0\xae\xc0\xae/b", "a" FFFD FFFD FFFD FFFD "/b");
}

static void test_utf8_surrogates(void **state)
{
	REPAIRS_TO("\xed\xa0\x80", FFFD FFFD FFFD);     /* U+D800 */
	REPAIRS_TO("\xed\xaf\xbf", FFFD FFFD FFFD);     /* U+DBFF */
	REPAIRS_TO("\xed\xb0\x80", FFFD FFFD FFFD);     /* U+DC00 */
	REPAIRS_TO("\xed\xbf\xbf", FFFD FFFD FFFD);     /* U+DFFF */
	/* A CESU-8 pair (U+1F600 as two surrogates). */
	REPAIRS_TO("\xed\xa0\xbd\xed\xb8\x80", FFFD FFFD FFFD FFFD FFFD FFFD);
}

static void test_utf8_beyond_max(void **state)
{
	REPAIRS_TO("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD); /* U+110000 */
	REPAIRS_TO("\xf4\xbf\xbf\xbf", FFFD FFFD FFFD FFFD);
	REPAIRS_TO("\xf5\x80\x80\x80", FFFD FFFD FFFD FFFD);
	REPAIRS_TO("\xf7\xbf\xbf\xbf", FFFD FFFD FFFD FFFD);
	REPAIRS_TO("\xf8\x88\x80\x80\x80", FFFD FFFD FFFD FFFD FFFD);
	REPAIRS_TO("\xfc\x84\x80\x80\x80\x80", FFFD FFFD FFFD FFFD FFFD FFFD);
	REPAIRS_TO("\xfe", FFFD);
	REPAIRS_TO("\xff", FFFD);
	REPAIRS_TO("\xfe\xff", FFFD FFFD);
}

static void test_utf8_truncated(void **state)
{
	REPAIRS_TO("\xc3", FFFD);
	REPAIRS_TO("\xe2\x82", FFFD FFFD);
	REPAIRS_TO("\xf0\x9f\x98", FFFD FFFD FFFD);
	REPAIRS_TO("\xe2\x82" "A", FFFD FFFD "A");
	REPAIRS_TO("\xc3" "A", FFFD "A");
	REPAIRS_TO("\xf0\x9f" "\xc3\xa9", FFFD FFFD "\xc3\xa9");
	/* A truncated sequence before a valid one does not eat it. */
	REPAIRS_TO("\xe2\xf0\x9f\x98\x80", FFFD "\xf0\x9f\x98\x80");
}

static void test_utf8_lone_continuation(void **state)
{
	REPAIRS_TO("\x80", FFFD);
	REPAIRS_TO("\xbf", FFFD);
	REPAIRS_TO("a\x80" "b", "a" FFFD "b");
	REPAIRS_TO("\x80\x80\x80\x80", FFFD FFFD FFFD FFFD);
	REPAIRS_TO("\xc3\xa9\xa9", "\xc3\xa9" FFFD);
}

static void test_utf8_worst_case_fills_cap(void **state)
{
	/* Every byte invalid: the output is exactly 3n bytes plus the NUL. */
	size_t n = 1000, got;
	char *in = malloc(n), *out;

	assert_non_null(in);
	memset(in, 0xff, n);
	out = repair(in, n, &got);
	assert_int_equal(got, 3 * n);
	for (size_t i = 0; i < n; i++)
		assert_memory_equal(out + 3 * i, FFFD, 3);
	free(out);
	free(in);
}

static void test_utf8_properties(void **state)
{
	uint32_t s = 3;

	for (int round = 0; round < 20000; round++) {
		unsigned char in[16];
		size_t n = rng_next(&s) % sizeof(in), len, len2;
		char *out, *again;

		/* Bias towards the interesting bytes. */
		for (size_t i = 0; i < n; i++) {
			uint32_t r = rng_next(&s);

			in[i] = r % 4 == 0 ? (unsigned char)(0x80 | (r >> 2 & 0x3f)) :
				r % 4 == 1 ? (unsigned char)(0xc0 | (r >> 2 & 0x3f)) :
				(unsigned char)(r >> 2);
		}
		out = repair((const char *)in, n, &len);
		assert_true(valid_utf8((unsigned char *)out, len));
		/* Valid input passes unchanged; repaired output is a fixpoint. */
		if (valid_utf8(in, n))
			assert_memory_equal(out, in, n);
		again = repair(out, len, &len2);
		assert_int_equal(len, len2);
		assert_memory_equal(out, again, len);
		free(again);
		free(out);
	}
}

/* ---- json_escape_utf8 ---- */

/* Escape n bytes into a buffer of exactly the contract's 6n + 1 bytes. */
static char *escape(const char *s, size_t n, size_t *outlen)
{
	char *src = exact_copy(s, n), *dst = malloc(6 * n + 1);
	size_t r;

	assert_non_null(dst);
	r = json_escape_utf8(src, n, dst);
	assert_true(r <= 6 * n);
	assert_int_equal(dst[r], '\0');
	free(src);
	*outlen = r;
	return dst;
}

#define ESCAPES_TO(in, want)                                                   \
	do {                                                                   \
		size_t len_;                                                   \
		char *got_ = escape(in, sizeof(in) - 1, &len_);                \
		assert_int_equal(len_, sizeof(want) - 1);                      \
		assert_memory_equal(got_, want, len_);                         \
		free(got_);                                                    \
	} while (0)

static void test_json_escape_documented(void **state)
{
	ESCAPES_TO("", "");
	ESCAPES_TO("plain text 123", "plain text 123");
	ESCAPES_TO("y\ny\n", "y\\ny\\n");
	ESCAPES_TO("\"q\" \\ /", "\\\"q\\\" \\\\ /");
	ESCAPES_TO("\t\r\b\f", "\\t\\r\\b\\f");
	ESCAPES_TO("a\0b\x01\x1f\x7f", "a\\u0000b\\u0001\\u001F\x7f");
	ESCAPES_TO("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
	ESCAPES_TO("\xff\xc0\xaf\xed\xa0\x80", FFFD FFFD FFFD FFFD FFFD FFFD);
	ESCAPES_TO("x\xe2\x82", "x" FFFD FFFD);
	/* The worst case fills the contract's room exactly. */
	ESCAPES_TO("\x01\x02", "\\u0001\\u0002");
}

/* The invalid sequences utf8_repair's tests name, through the escaper: one
 * U+FFFD per byte, and the bytes after resynchronise, escaped as usual. */
static void test_json_escape_invalid_utf8(void **state)
{
	ESCAPES_TO("\xc0\x80", FFFD FFFD);                   /* overlong NUL */
	ESCAPES_TO("\xe0\x80\xaf", FFFD FFFD FFFD);          /* overlong '/' */
	ESCAPES_TO("\xf0\x8f\xbf\xbf", FFFD FFFD FFFD FFFD);
	ESCAPES_TO("\xed\xa0\x80", FFFD FFFD FFFD);          /* U+D800 */
	ESCAPES_TO("\xed\xbf\xbf", FFFD FFFD FFFD);          /* U+DFFF */
	ESCAPES_TO("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD); /* U+110000 */
	ESCAPES_TO("\xc3", FFFD);                             /* truncated */
	ESCAPES_TO("\xf0\x9f\x98", FFFD FFFD FFFD);
	ESCAPES_TO("\xe2\x82\"", FFFD FFFD "\\\"");
	ESCAPES_TO("\xc3\n", FFFD "\\n");
	ESCAPES_TO("\xe2\xf0\x9f\x98\x80", FFFD "\xf0\x9f\x98\x80");
	ESCAPES_TO("\x80\xbf", FFFD FFFD);                    /* lone continuations */
	ESCAPES_TO("\xc3\xa9\xa9\x01", "\xc3\xa9" FFFD "\\u0001");
}

/* Whatever the bytes: the same text jansson writes for the repaired
 * string, and it parses back to that string. */
static void test_json_escape_matches_jansson(void **state)
{
	uint32_t s = 7;

	for (int round = 0; round < 20000; round++) {
		unsigned char in[24];
		size_t n = rng_next(&s) % sizeof(in), len, rlen;
		char *out, *fixed, *quoted, *want;
		json_t *j, *back;

		for (size_t i = 0; i < n; i++) {
			uint32_t r = rng_next(&s);

			in[i] = r % 4 == 0 ? (unsigned char)(0x80 | (r >> 2 & 0x3f)) :
				r % 4 == 1 ? (unsigned char)(r >> 2 & 0x3f) :
				r % 4 == 2 ? (unsigned char)(0xc0 | (r >> 2 & 0x3f)) :
				(unsigned char)(r >> 2);
		}
		out = escape((const char *)in, n, &len);
		fixed = repair((const char *)in, n, &rlen);
		j = json_stringn(fixed, rlen);
		assert_non_null(j);
		want = json_dumps(j, JSON_ENCODE_ANY);
		assert_non_null(want);
		quoted = malloc(len + 3);
		assert_non_null(quoted);
		quoted[0] = '"';
		memcpy(quoted + 1, out, len);
		memcpy(quoted + 1 + len, "\"", 2);
		assert_string_equal(quoted, want);
		back = json_loadb(quoted, len + 2, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		assert_non_null(back);
		assert_int_equal(json_string_length(back), rlen);
		assert_memory_equal(json_string_value(back), fixed, rlen);
		json_decref(back);
		json_decref(j);
		free(want);
		free(quoted);
		free(fixed);
		free(out);
	}
}

/* ---- base64 ---- */

static void check_b64(const void *in, size_t n, const char *want)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);

	assert_non_null(out);
	assert_int_equal(base64_encode(in, n, out), strlen(want));
	assert_string_equal(out, want);
	free(out);
}

static void test_base64_rfc4648(void **state)
{
	check_b64("", 0, "");
	check_b64("f", 1, "Zg==");
	check_b64("fo", 2, "Zm8=");
	check_b64("foo", 3, "Zm9v");
	check_b64("foob", 4, "Zm9vYg==");
	check_b64("fooba", 5, "Zm9vYmE=");
	check_b64("foobar", 6, "Zm9vYmFy");
}

static void test_base64_binary(void **state)
{
	static const uint8_t hi[] = { 0xff, 0xfe, 0xfd, 0xfb, 0xef, 0xbe };
	static const uint8_t zero[] = { 0, 0, 0, 0 };

	check_b64(hi, 3, "//79");
	check_b64(hi, 6, "//79++++");
	check_b64(hi, 1, "/w==");
	check_b64(hi, 2, "//4=");
	check_b64(zero, 4, "AAAAAA==");
}

static void test_base64_decode(void **state)
{
	static const char *const good[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy",
					    "Zg", "Zm8", "//79++++" };
	static const char *const bad[] = { "Z", "Zm9vY", "Zh==", "Zm9=", "Zg=", "Z===", "Zg==Zg==", "Zm 9v",
					   "Zm9v\n", "Zm-_", "=Zg=" };
	uint8_t out[64];
	char back[64];

	/* Everything encode makes decodes back (and unpadded input too). */
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ssize_t n = base64_decode(good[i], strlen(good[i]), out);

		assert_true(n >= 0);
		base64_encode(out, (size_t)n, back);
		assert_int_equal(strncmp(back, good[i], strlen(good[i])), 0);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (base64_decode(bad[i], strlen(bad[i]), out) >= 0)
			fail_msg("'%s' decoded", bad[i]);
}

/* ---- route_match ---- */

struct route_case {
	const char *pattern, *path;
	int match;
	const char *id;  /* expected id on a match with '*', else NULL */
};

static void test_route_match_table(void **state)
{
	static const struct route_case c[] = {
		{ "/v1/sandboxes", "/v1/sandboxes", 1, NULL },
		{ "/v1/sandboxes", "/v1/sandboxes/", 1, NULL },
		{ "/v1/sandboxes", "/v1/sandboxes?limit=1", 1, NULL },
		{ "/v1/sandboxes", "/v1/sandboxes/?x", 1, NULL },
		{ "/v1/sandboxes", "/v1/sandboxes//", 0, NULL },
		{ "/v1/sandboxes", "/v1/sandboxesx", 0, NULL },
		{ "/v1/sandboxes", "/v1/sandboxe", 0, NULL },
		{ "/v1/sandboxes", "/V1/sandboxes", 0, NULL },
		{ "/v1/sandboxes", "", 0, NULL },
		{ "/v1/sandboxes", "?/v1/sandboxes", 0, NULL },
		{ "/v1/sandboxes/*", "/v1/sandboxes/abc", 1, "abc" },
		{ "/v1/sandboxes/*", "/v1/sandboxes/abc/", 1, "abc" },
		{ "/v1/sandboxes/*", "/v1/sandboxes/abc?q=/x/y", 1, "abc" },
		{ "/v1/sandboxes/*", "/v1/sandboxes/", 0, NULL },
		{ "/v1/sandboxes/*", "/v1/sandboxes", 0, NULL },
		{ "/v1/sandboxes/*", "/v1/sandboxes/?x", 0, NULL },
		{ "/v1/sandboxes/*", "/v1/sandboxes/abc/exec", 0, NULL },
		{ "/v1/sandboxes/*/exec", "/v1/sandboxes/abc/exec", 1, "abc" },
		{ "/v1/sandboxes/*/exec", "/v1/sandboxes/abc/exec?x", 1, "abc" },
		{ "/v1/sandboxes/*/exec", "/v1/sandboxes//exec", 0, NULL },
		{ "/v1/sandboxes/*/exec", "/v1/sandboxes/abc?/exec", 0, NULL },
		{ "/v1/sandboxes/*/exec", "/v1/sandboxes/abc/execx", 0, NULL },
		{ "/v1/sandboxes/*/exec", "/v1/sandboxes/a/b/exec", 0, NULL },
		/* The segment is any non-empty bytes; validating it is the caller's. */
		{ "/v1/sandboxes/*/exec", "/v1/sandboxes/../exec", 1, ".." },
		{ "/v1/sandboxes/*/exec", "/v1/sandboxes/%2e%2e/exec", 1, "%2e%2e" },
		/* Only the first '*' fills id. */
		{ "/a/*/b/*", "/a/one/b/two", 1, "one" },
		{ "/a/*/b/*", "/a/one/b/", 0, NULL },
		/* A named segment matches like '*' and leaves id alone. */
		{ "/s/*/r/{rec}", "/s/one/r/rec_1", 1, "one" },
		{ "/s/*/r/{rec}/stop", "/s/one/r/rec_1/stop", 1, "one" },
		{ "/s/*/r/{rec}/stop", "/s/one/r//stop", 0, NULL },
		{ "/s/*/r/{rec}", "/s/one/r/", 0, NULL },
		{ "/s/*/r/{rec}", "/s/one/r/a/b", 0, NULL },
		{ "/s/*/r/{rec", "/s/one/r/x", 0, NULL },
		{ "", "", 1, NULL },
		{ "/", "", 0, NULL },
		/* A {name} segment matches one non-empty segment, not the id. */
		{ "/a/*/w/{window}/move", "/a/one/w/42/move", 1, "one" },
		{ "/a/*/w/{window}/move", "/a/one/w//move", 0, NULL },
		{ "/a/*/w/{window}/move", "/a/one/w/42/size", 0, NULL },
		{ "/a/*/w/{window}/move", "/a/one/w/4/2/move", 0, NULL },
		{ "/a/*/w/{window}", "/a/one/w/42?x=1", 1, "one" },
		{ "/a/*/w/{window", "/a/one/w/42", 0, NULL },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char id[64] = "untouched";
		int r = route_match(c[i].pattern, c[i].path, id, sizeof(id));

		if (r != c[i].match)
			fail_msg("route_match(\"%s\", \"%s\") = %d, want %d", c[i].pattern,
				 c[i].path, r, c[i].match);
		if (c[i].id && strcmp(id, c[i].id))
			fail_msg("route_match(\"%s\", \"%s\") id \"%s\", want \"%s\"",
				 c[i].pattern, c[i].path, id, c[i].id);
	}
}

static void test_route_match_id_len(void **state)
{
	char *id = malloc(4);

	assert_non_null(id);
	/* "abc" + NUL fits in 4; "abcd" does not and is no match. */
	assert_int_equal(route_match("/x/*", "/x/abc", id, 4), 1);
	assert_string_equal(id, "abc");
	assert_int_equal(route_match("/x/*", "/x/abcd", id, 4), 0);
	assert_int_equal(route_match("/x/*", "/x/a", id, 0), 0);
	free(id);
	/* A NULL id is allowed: match only. */
	assert_int_equal(route_match("/x/*/y", "/x/abcdefgh/y", NULL, 0), 1);
	assert_int_equal(route_match("/x/*/y", "/x/abcdefgh/z", NULL, 0), 0);
}

static void test_route_match_long_segment(void **state)
{
	size_t n = 100000;
	char *path = malloc(n + 4), id[ID_LEN + 1];

	assert_non_null(path);
	memcpy(path, "/x/", 3);
	memset(path + 3, 'a', n);
	path[n + 3] = '\0';
	assert_int_equal(route_match("/x/*", path, id, sizeof(id)), 0);
	assert_int_equal(route_match("/x/*", path, NULL, 0), 1);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_format),
		cmocka_unit_test(test_id_format_then_valid),
		cmocka_unit_test(test_id_valid),
		cmocka_unit_test(test_token_equal),
		cmocka_unit_test(test_token_equal_reads_only_plen),
		cmocka_unit_test(test_path_normalize_documented),
		cmocka_unit_test(test_path_normalize_dotdot_past_root),
		cmocka_unit_test(test_path_normalize_dot_names),
		cmocka_unit_test(test_path_normalize_rejects),
		cmocka_unit_test(test_path_normalize_cap),
		cmocka_unit_test(test_path_normalize_long),
		cmocka_unit_test(test_path_normalize_properties),
		cmocka_unit_test(test_utf8_valid_unchanged),
		cmocka_unit_test(test_utf8_nul),
		cmocka_unit_test(test_utf8_overlong),
		cmocka_unit_test(test_utf8_surrogates),
		cmocka_unit_test(test_utf8_beyond_max),
		cmocka_unit_test(test_utf8_truncated),
		cmocka_unit_test(test_utf8_lone_continuation),
		cmocka_unit_test(test_utf8_worst_case_fills_cap),
		cmocka_unit_test(test_utf8_properties),
		cmocka_unit_test(test_json_escape_documented),
		cmocka_unit_test(test_json_escape_invalid_utf8),
		cmocka_unit_test(test_json_escape_matches_jansson),
		cmocka_unit_test(test_base64_rfc4648),
		cmocka_unit_test(test_base64_binary),
		cmocka_unit_test(test_base64_decode),
		cmocka_unit_test(test_route_match_table),
		cmocka_unit_test(test_route_match_id_len),
		cmocka_unit_test(test_route_match_long_segment),
	};

	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
