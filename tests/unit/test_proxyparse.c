/*
 * test_proxyparse.c - cmocka tests of common/proxyparse.c: CONNECT and
 * absolute-URI heads (the rewrite the origin sees), their bounds and the
 * ambiguities refused, and SOCKS5 greetings and requests fed byte by byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proxyparse.h"

static char out[PROXYPARSE_MAX_HEAD + 128];

static enum proxyparse_result parse(const char *head, struct proxyparse_http *h, size_t *ol)
{
	return proxyparse_http(head, strlen(head), h, out, sizeof(out), ol);
}

static void test_connect(void **state)
{
	struct proxyparse_http h;
	size_t ol;
	const char *head = "CONNECT files.pypi.org:443 HTTP/1.1\r\nHost: files.pypi.org:443\r\n"
			   "User-Agent: pip\r\n\r\n\x16\x03\x01";

	assert_int_equal(parse(head, &h, &ol), PROXYPARSE_OK);
	assert_true(h.connect);
	assert_string_equal(h.host, "files.pypi.org");
	assert_int_equal(h.port, 443);
	assert_int_equal(h.head_len, strlen(head) - 3);   /* the TLS bytes are not the head */
	assert_int_equal(parse("CONNECT [2001:db8::1]:8443 HTTP/1.0\n\n", &h, &ol), PROXYPARSE_OK);
	assert_string_equal(h.host, "2001:db8::1");
	assert_int_equal(h.port, 8443);
}

static void test_plain_request_is_rewritten(void **state)
{
	struct proxyparse_http h;
	size_t ol;

	assert_int_equal(parse("GET http://Example.com:8080/a/b?q=1 HTTP/1.1\r\n"
			       "Host: evil.example\r\nProxy-Connection: keep-alive\r\n"
			       "Proxy-Authorization: Basic eA==\r\nAccept: */*\r\n"
			       "Connection: keep-alive\r\n\r\nBODY", &h, &ol), PROXYPARSE_OK);
	assert_false(h.connect);
	assert_string_equal(h.host, "Example.com");
	assert_int_equal(h.port, 8080);
	out[ol] = '\0';
	/* origin-form, Host from the URI that was checked, no proxy headers */
	assert_string_equal(out, "GET /a/b?q=1 HTTP/1.1\r\nHost: Example.com:8080\r\n"
			    "Accept: */*\r\nConnection: close\r\n\r\n");
	assert_int_equal(parse("POST http://a.com HTTP/1.0\r\nContent-Length: 0\r\n\r\n", &h, &ol),
			 PROXYPARSE_OK);
	out[ol] = '\0';
	assert_string_equal(out, "POST / HTTP/1.0\r\nHost: a.com\r\nContent-Length: 0\r\n"
			    "Connection: close\r\n\r\n");
	assert_int_equal(h.port, 80);
	assert_int_equal(parse("GET http://a.com?x HTTP/1.1\r\n\r\n", &h, &ol), PROXYPARSE_OK);
	out[ol] = '\0';
	assert_non_null(strstr(out, "GET /?x HTTP/1.1\r\n"));
}

static void bad(const char *head, int status, const char *why)
{
	struct proxyparse_http h;
	size_t ol;

	if (proxyparse_http(head, strlen(head), &h, out, sizeof(out), &ol) != PROXYPARSE_ERROR)
		fail_msg("accepted: %s", head);
	assert_int_equal(h.status, status);
	if (!strstr(h.why, why))
		fail_msg("'%s': '%s' does not say '%s'", head, h.why, why);
}

static void test_refused_heads(void **state)
{
	bad("CONNECT a.com HTTP/1.1\r\n\r\n", 400, "host:port");
	bad("CONNECT a.com:0 HTTP/1.1\r\n\r\n", 400, "host:port");
	bad("CONNECT a.com:99999 HTTP/1.1\r\n\r\n", 400, "host:port");
	bad("CONNECT user@a.com:443 HTTP/1.1\r\n\r\n", 400, "host:port");
	bad("CONNECT a.com:443 HTTP/2.0\r\n\r\n", 400, "HTTP/1.x");
	bad("GET /relative HTTP/1.1\r\n\r\n", 400, "absolute http://");
	bad("GET https://a.com/ HTTP/1.1\r\n\r\n", 400, "use CONNECT");
	bad("GET http://u:p@a.com/ HTTP/1.1\r\n\r\n", 400, "host in the URI");
	bad("get http://a.com/ HTTP/1.1\r\n\r\n", 400, "method");
	bad("GET http://a.com/ HTTP/1.1\r\nX: a\r\n folded\r\n\r\n", 400, "folded");
	bad("GET http://a.com/ HTTP/1.1\r\nX: a\rb\r\n\r\n", 400, "bare CR");
	bad("GET http://a.com/ HTTP/1.1\r\nnocolon\r\n\r\n", 400, "without ':'");
	{
		const char head[] = "GET http://a.com/ HTTP/1.1\r\nX: a\0b\r\n\r\n";
		struct proxyparse_http h;
		size_t ol;

		assert_int_equal(proxyparse_http(head, sizeof(head) - 1, &h, out, sizeof(out), &ol),
				 PROXYPARSE_ERROR);
		assert_non_null(strstr(h.why, "NUL"));
	}
}

static void test_bounds(void **state)
{
	struct proxyparse_http h;
	size_t ol, n = PROXYPARSE_MAX_HEAD;
	char *big = malloc(n + 1);

	/* incomplete but under the bound: more */
	assert_int_equal(parse("CONNECT a.com:443 HTTP/1.1\r\nHost: a", &h, &ol), PROXYPARSE_MORE);
	memset(big, 'a', n);
	memcpy(big, "CONNECT ", 8);
	big[n] = '\0';
	assert_int_equal(proxyparse_http(big, n, &h, out, sizeof(out), &ol), PROXYPARSE_ERROR);
	assert_int_equal(h.status, 431);
	assert_int_equal(proxyparse_http(big, n - 1, &h, out, sizeof(out), &ol), PROXYPARSE_MORE);
	/* a head that fits in the bound but whose rewrite does not fit out */
	memcpy(big, "GET http://a.com/", 17);
	memcpy(big + n - 16, " HTTP/1.1\r\n\r\n", 13);
	assert_int_equal(proxyparse_http(big, n - 3, &h, out, 64, &ol), PROXYPARSE_ERROR);
	assert_int_equal(h.status, 431);
	free(big);
}

static void test_socks_greeting(void **state)
{
	size_t used;
	int noauth;
	const uint8_t g[] = { 5, 2, 2, 0, 0xAA };

	assert_int_equal(proxyparse_socks_greeting(g, 1, &used, &noauth), PROXYPARSE_MORE);
	assert_int_equal(proxyparse_socks_greeting(g, 3, &used, &noauth), PROXYPARSE_MORE);
	assert_int_equal(proxyparse_socks_greeting(g, 5, &used, &noauth), PROXYPARSE_OK);
	assert_int_equal(used, 4);
	assert_true(noauth);
	assert_int_equal(proxyparse_socks_greeting((const uint8_t *)"\x05\x01\x02", 3, &used, &noauth),
			 PROXYPARSE_OK);
	assert_false(noauth);
	assert_int_equal(proxyparse_socks_greeting((const uint8_t *)"\x04\x01", 2, &used, &noauth),
			 PROXYPARSE_ERROR);
	assert_int_equal(proxyparse_socks_greeting((const uint8_t *)"\x05\x00", 2, &used, &noauth),
			 PROXYPARSE_ERROR);
}

static void test_socks_request(void **state)
{
	struct proxyparse_socks s;
	uint8_t req[300] = { 5, 1, 0, 3, 11 };
	size_t n;

	memcpy(req + 5, "example.com", 11);
	req[16] = 0x01;
	req[17] = 0xbb;
	n = 18;
	for (size_t i = 0; i < n; i++)   /* every prefix asks for more */
		assert_int_equal(proxyparse_socks_request(req, i, &s), PROXYPARSE_MORE);
	assert_int_equal(proxyparse_socks_request(req, n, &s), PROXYPARSE_OK);
	assert_string_equal(s.host, "example.com");
	assert_int_equal(s.port, 443);
	assert_true(s.is_name);
	assert_int_equal(s.used, n);
	{
		const uint8_t v4[] = { 5, 1, 0, 1, 10, 0, 0, 7, 0, 80 };
		const uint8_t v6[] = { 5, 1, 0, 4, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0,
				       0, 0, 0, 1, 0, 22 };

		assert_int_equal(proxyparse_socks_request(v4, sizeof(v4), &s), PROXYPARSE_OK);
		assert_string_equal(s.host, "10.0.0.7");
		assert_false(s.is_name);
		assert_int_equal(proxyparse_socks_request(v6, sizeof(v6), &s), PROXYPARSE_OK);
		assert_string_equal(s.host, "2001:db8::1");
		assert_int_equal(s.port, 22);
	}
	req[1] = 2;   /* BIND */
	assert_int_equal(proxyparse_socks_request(req, n, &s), PROXYPARSE_ERROR);
	assert_int_equal(s.reply, PROXYPARSE_SOCKS_CMD_UNSUPPORTED);
	req[1] = 1;
	req[3] = 9;
	assert_int_equal(proxyparse_socks_request(req, n, &s), PROXYPARSE_ERROR);
	assert_int_equal(s.reply, PROXYPARSE_SOCKS_ATYP_UNSUPPORTED);
	req[3] = 3;
	req[8] = 0;   /* a NUL in the name */
	assert_int_equal(proxyparse_socks_request(req, n, &s), PROXYPARSE_ERROR);
	req[8] = 'm';
	req[4] = 0;   /* an empty name */
	assert_int_equal(proxyparse_socks_request(req, n, &s), PROXYPARSE_ERROR);
	req[4] = 11;
	req[16] = req[17] = 0;   /* port 0 */
	assert_int_equal(proxyparse_socks_request(req, n, &s), PROXYPARSE_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect),
		cmocka_unit_test(test_plain_request_is_rewritten),
		cmocka_unit_test(test_refused_heads),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_socks_greeting),
		cmocka_unit_test(test_socks_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
