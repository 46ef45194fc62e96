/*
 * fuzz_bashout.c - libFuzzer target for the bash tool's output streams
 * (toolcall_out_* in common/toolcall.c, as server/adapt_bash.c feeds them
 * the process.output a sandbox's shell prints).
 *
 * An input is the stream cut into chunks by a little program: 0 = literal
 * bytes (a length byte, then bytes), 1 = a long run of one byte (two length
 * bytes x 32, then the byte; a few reach the 4 MiB clipping), 2 = part of
 * the sentinel (a length byte). What comes back must be what preceded the
 * sentinel's first occurrence (checked against a plain concatenation while
 * no clipping happened), NUL terminated, and within its bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "textedit.h"
#include "toolcall.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

#define SENTINEL "<<exit-0123456789abcdef0123456789abcdef>>"
#define PLAIN_MAX (256u << 10)   /* the reference concatenation's bound */

static void output(const uint8_t *data, size_t size)
{
	static const char sentinel[] = SENTINEL;
	struct toolcall_out b = {0};
	char *plain = malloc(PLAIN_MAX), *chunk = NULL, *got;
	size_t plen = 0, total = 0, i = 0;
	int done = 0;

	CHECK(plain);
	/* Past the clipping once and a half, more bytes find nothing new. */
	while (i < size && !done && total <= TOOLCALL_OUT_MAX + TOOLCALL_OUT_MAX / 2) {
		uint8_t op = data[i++] % 3;
		size_t n = 0;

		free(chunk);
		chunk = NULL;
		if (op == 0 && i < size) {
			n = data[i++];
			n = n > size - i ? size - i : n;
			chunk = malloc(n + 1);
			CHECK(chunk);
			memcpy(chunk, data + i, n);
			i += n;
		} else if (op == 1 && i + 2 < size) {
			n = ((size_t)data[i] << 8 | data[i + 1]) * 32;
			chunk = malloc(n + 1);
			CHECK(chunk);
			memset(chunk, data[i + 2], n);
			i += 3;
		} else if (op == 2 && i < size) {
			n = data[i++] % (sizeof(sentinel) - 1) + 1;
			chunk = malloc(n + 1);
			CHECK(chunk);
			memcpy(chunk, sentinel, n);
		} else {
			break;
		}
		if (plen + n <= PLAIN_MAX) {
			memcpy(plain + plen, chunk, n);
			plen += n;
		}
		total += n;
		done = toolcall_out_append(&b, sentinel, chunk, n);
		CHECK(done == b.done);
		CHECK(b.len <= TOOLCALL_OUT_MAX && (!b.data || b.len < b.cap) && b.cap <= TOOLCALL_OUT_MAX + 1);
		CHECK(!b.data || b.data[b.len] == '\0');
	}
	free(chunk);
	if (b.done)
		CHECK(!memmem(b.data, b.len, sentinel, sizeof(sentinel) - 1));
	if (total <= TOOLCALL_OUT_MAX && total == plen) {
		/* Nothing was clipped: the stream up to the sentinel, exactly. */
		char *hit = memmem(plain, plen, sentinel, sizeof(sentinel) - 1);

		CHECK(!!hit == b.done);
		CHECK(b.len == (hit ? (size_t)(hit - plain) : plen));
		CHECK(!b.len || !memcmp(b.data, plain, b.len));
	}
	got = toolcall_out_take(&b);
	CHECK(got);
	CHECK(strlen(got) <= TEXTEDIT_MAX_RESPONSE + 200);
	free(got);
	toolcall_out_clear(&b);
	CHECK(!b.data && !b.len && !b.done);
	free(plain);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	output(data, size);
	return 0;
}
