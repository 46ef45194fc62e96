/*
 * test_operr.c - the error table: every error has a distinct code string,
 * a 4xx/5xx status, a JSON-RPC code outside the reserved range (bad params
 * excepted), and its code string maps back to it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "operr.h"

static void test_codes_distinct_and_round_trip(void **state)
{
	for (int e = OPERR_BAD_JSON; e < OPERR_COUNT; e++) {
		assert_non_null(operr_code(e));
		assert_int_equal(operr_from_code(operr_code(e)), e);
		for (int f = e + 1; f < OPERR_COUNT; f++)
			assert_string_not_equal(operr_code(e), operr_code(f));
	}
}

static void test_statuses(void **state)
{
	for (int e = OPERR_BAD_JSON; e < OPERR_COUNT; e++) {
		int h = operr_http(e), r = operr_rpc(e);

		assert_true(h >= 400 && h <= 599);
		if (h == 400)
			assert_int_equal(r, -32602);
		else
			assert_true(r < -32768 || r > -32000);
	}
	assert_int_equal(operr_http(OPERR_SANDBOX_NOT_RUNNING), 409);
	assert_int_equal(operr_http(OPERR_TOO_LARGE), 413);
}

static void test_untrusted_codes(void **state)
{
	/* A peer's unknown or missing code is an internal error, never a 2xx. */
	assert_int_equal(operr_from_code("no_such_code"), OPERR_INTERNAL);
	assert_int_equal(operr_from_code(NULL), OPERR_INTERNAL);
	assert_int_equal(operr_from_code("ok"), OPERR_INTERNAL);
	assert_int_equal(operr_http((enum operr)1000), 500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codes_distinct_and_round_trip),
		cmocka_unit_test(test_statuses),
		cmocka_unit_test(test_untrusted_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
