/*
 * test_textedit.c - cmocka tests of common/textedit.c: the line arithmetic
 * behind the text editor adapter, against what the reference tool (Python,
 * str.split("\n") and "\n".join) produces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "textedit.h"

#define S(x) x, sizeof(x) - 1

static void test_nlines(void **state)
{
	(void)state;
	assert_int_equal(textedit_nlines(S("")), 1);
	assert_int_equal(textedit_nlines(S("a")), 1);
	assert_int_equal(textedit_nlines(S("a\n")), 2);
	assert_int_equal(textedit_nlines(S("a\nb\nc")), 3);
}

static void test_range(void **state)
{
	const char t[] = "one\ntwo\nthree\n";
	size_t off, n;

	(void)state;
	textedit_range(S(t), 2, 3, &off, &n);
	assert_int_equal(off, 4);
	assert_int_equal(n, 9);   /* "two\nthree" */
	textedit_range(S(t), 3, -1, &off, &n);
	assert_memory_equal(t + off, "three\n", n);
	textedit_range(S(t), 1, 1, &off, &n);
	assert_int_equal(off, 0);
	assert_int_equal(n, 3);
	textedit_range(S(t), 4, 4, &off, &n);   /* the empty last line */
	assert_int_equal(n, 0);
}

static void test_numbered(void **state)
{
	char *s = textedit_numbered(S("a\n\tb\n"), 7);

	(void)state;
	assert_string_equal(s, "     7\ta\n     8\t\tb\n     9\t");
	free(s);
	s = textedit_numbered(S(""), 1);
	assert_string_equal(s, "     1\t");
	free(s);
}

static void test_numbered_clips(void **state)
{
	size_t n = TEXTEDIT_MAX_RESPONSE + 500;
	char *big = malloc(n), *s;

	(void)state;
	memset(big, 'x', n);
	s = textedit_numbered(big, n, 1);
	assert_non_null(strstr(s, "<response clipped><NOTE>"));
	assert_int_equal(strspn(s + 7, "x"), TEXTEDIT_MAX_RESPONSE);
	free(s);
	free(big);
}

static void test_count_and_lines(void **state)
{
	const char t[] = "ab\nxab\nc\nab";
	size_t at;
	char *lines;

	(void)state;
	assert_int_equal(textedit_count(S(t), S("ab"), &at, 10), 3);
	assert_int_equal(at, 0);
	assert_int_equal(textedit_count(S(t), S("ab"), &at, 2), 2);
	assert_int_equal(textedit_count(S(t), S("zz"), &at, 2), 0);
	assert_int_equal(textedit_count(S(t), S("c\na"), &at, 2), 1);
	assert_int_equal(at, 7);
	lines = textedit_lines_with(S(t), S("ab"));
	assert_string_equal(lines, "[1, 2, 4]");
	free(lines);
	lines = textedit_lines_with(S(t), S("q"));
	assert_string_equal(lines, "[]");
	free(lines);
}

static void test_splice_and_line_end(void **state)
{
	size_t n;
	char *s = textedit_splice(S("hello world"), 6, 5, S("there"), &n);

	(void)state;
	assert_string_equal(s, "hello there");
	assert_int_equal(n, 11);
	free(s);
	assert_int_equal(textedit_line_end(S("a\nb\n"), 0), 0);
	assert_int_equal(textedit_line_end(S("a\nb\n"), 1), 2);
	assert_int_equal(textedit_line_end(S("a\nb\n"), 2), 4);
	assert_int_equal(textedit_line_end(S("a\nb\n"), 3), 4);
	assert_int_equal(textedit_line_end(S("a\nb\n"), 4), -1);
	assert_int_equal(textedit_line_end(S("a\nb"), 2), 3);
	assert_int_equal(textedit_line_end(S(""), 1), 0);
	assert_int_equal(textedit_line_end(S("a"), -1), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nlines),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_numbered),
		cmocka_unit_test(test_numbered_clips),
		cmocka_unit_test(test_count_and_lines),
		cmocka_unit_test(test_splice_and_line_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
