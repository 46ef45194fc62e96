/*
 * fuzz_wsctl.c - libFuzzer target for the terminal WebSocket's control
 * messages (httpparts_pty_resize in common/httpparts.c, as server/ws.c
 * uses it): one input is one text message as the browser sends it, up to
 * the 1024 bytes ws.c assembles. A size taken is within 1..1000 both ways.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "httpparts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned short cols = 0, rows = 0;

	if (size > 1024)   /* ws.c drops longer messages unread */
		return 0;
	if (httpparts_pty_resize((const char *)data, size, &cols, &rows))
		CHECK(cols >= 1 && cols <= 1000 && rows >= 1 && rows <= 1000);
	else
		CHECK(!cols && !rows);
	return 0;
}
