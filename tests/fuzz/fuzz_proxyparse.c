/*
 * fuzz_proxyparse.c - libFuzzer target for common/proxyparse.c.
 *
 * One input is what a sandbox sends to its proxy: parsed as an HTTP head
 * and as a SOCKS5 greeting + request. Whatever is accepted must respect the
 * bounds the egress helper relies on: a head within PROXYPARSE_MAX_HEAD and
 * the input, a port in 1..65535, a rewrite that fits its buffer and starts
 * with an origin-form request line.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxyparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static char out[PROXYPARSE_MAX_HEAD + 128];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxyparse_http h;
	struct proxyparse_socks s;
	size_t ol = 0, used;
	int noauth;
	enum proxyparse_result r = proxyparse_http((const char *)data, size, &h, out, sizeof(out), &ol);

	if (r == PROXYPARSE_OK) {
		CHECK(h.head_len <= size && h.head_len <= PROXYPARSE_MAX_HEAD);
		CHECK(h.port >= 1 && h.port <= 65535 && h.host[0]);
		CHECK(h.connect || (ol <= sizeof(out) && ol > 4 && memchr(out, ' ', ol)));
		CHECK(h.connect || strstr(out, " /") || memchr(out, '/', ol));
	} else if (r == PROXYPARSE_ERROR) {
		CHECK(h.status >= 400 && h.why[0]);
	} else {
		CHECK(size < PROXYPARSE_MAX_HEAD);
	}
	if (proxyparse_socks_greeting(data, size, &used, &noauth) == PROXYPARSE_OK) {
		CHECK(used <= size);
		if (proxyparse_socks_request(data + used, size - used, &s) == PROXYPARSE_OK) {
			CHECK(s.used <= size - used);
			CHECK(s.port >= 1 && s.port <= 65535 && s.host[0]);
		}
	}
	return 0;
}
