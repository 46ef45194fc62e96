/*
 * operr.c - the error table (see operr.h).
 */
#include "operr.h"

#include <string.h>

static const struct {
	const char *code;
	int http, rpc;
} operr_tab[OPERR_COUNT] = {
	[OPERR_OK] = { "ok", 200, 0 },
	[OPERR_BAD_JSON] = { "bad_json", 400, -32602 },
	[OPERR_BAD_REQUEST] = { "bad_request", 400, -32602 },
	[OPERR_UNAUTHORIZED] = { "unauthorized", 401, 4010 },
	[OPERR_FORBIDDEN] = { "forbidden", 403, 4030 },
	[OPERR_NOT_FOUND] = { "not_found", 404, 4040 },
	[OPERR_METHOD_NOT_ALLOWED] = { "method_not_allowed", 405, 4050 },
	[OPERR_SANDBOX_NOT_RUNNING] = { "sandbox_not_running", 409, 4090 },
	[OPERR_NO_DESKTOP] = { "no_desktop", 409, 4091 },
	[OPERR_DESKTOP_NOT_RUNNING] = { "desktop_not_running", 409, 4092 },
	[OPERR_BUSY] = { "busy", 409, 4093 },
	[OPERR_WINDOW_STATE] = { "window_state", 409, 4094 },
	[OPERR_TOO_LARGE] = { "too_large", 413, 4130 },
	[OPERR_TOO_MANY_SANDBOXES] = { "too_many_sandboxes", 429, 4290 },
	[OPERR_TOO_BUSY] = { "too_busy", 429, 4291 },
	[OPERR_INTERNAL] = { "internal", 500, 5000 },
	[OPERR_DESKTOP_FAILED] = { "desktop_failed", 500, 5001 },
	[OPERR_UNAVAILABLE] = { "unavailable", 503, 5030 },
	[OPERR_TIMEOUT] = { "timeout", 504, 5040 },
	[OPERR_NO_SPACE] = { "no_space", 507, 5070 },
};

static enum operr operr_valid(enum operr e)
{
	return (unsigned)e < OPERR_COUNT ? e : OPERR_INTERNAL;
}

const char *operr_code(enum operr e)
{
	return operr_tab[operr_valid(e)].code;
}

int operr_http(enum operr e)
{
	return operr_tab[operr_valid(e)].http;
}

int operr_rpc(enum operr e)
{
	return operr_tab[operr_valid(e)].rpc;
}

enum operr operr_from_code(const char *code)
{
	for (int e = OPERR_BAD_JSON; code && e < OPERR_COUNT; e++)
		if (!strcmp(operr_tab[e].code, code))
			return (enum operr)e;
	return OPERR_INTERNAL;
}
