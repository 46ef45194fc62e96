/*
 * operr.h - the one list of errors an operation can answer with, and for
 * each its stable code string, HTTP status and JSON-RPC error code. Every
 * face (REST, JSON-RPC, MCP, the adapters) maps errors through this table;
 * no call site types a status number. Pure: constant data only.
 */
#ifndef DESKBOX_OPERR_H
#define DESKBOX_OPERR_H

enum operr {
	OPERR_OK = 0,
	OPERR_BAD_JSON,             /* 400: not JSON, or not the JSON shape asked for */
	OPERR_BAD_REQUEST,          /* 400: a field is wrong (the message names it) */
	OPERR_UNAUTHORIZED,         /* 401: no token, or a wrong one */
	OPERR_FORBIDDEN,            /* 403: the token's scope does not allow it;
				     * or (files) the sandbox user may not */
	OPERR_NOT_FOUND,            /* 404: no such route, sandbox, file, method */
	OPERR_METHOD_NOT_ALLOWED,   /* 405: known route, other method */
	OPERR_SANDBOX_NOT_RUNNING,  /* 409 */
	OPERR_NO_DESKTOP,           /* 409: created without one */
	OPERR_DESKTOP_NOT_RUNNING,  /* 409: failed or restarting */
	OPERR_BUSY,                 /* 409: already under way */
	OPERR_WINDOW_STATE,         /* 409: the window cannot do that now (minimized,
				       takes no WM_DELETE_WINDOW) */
	OPERR_TOO_LARGE,            /* 413 */
	OPERR_TOO_MANY_SANDBOXES,   /* 429: --max-sandboxes reached */
	OPERR_TOO_BUSY,             /* 429: a per-sandbox limit (processes) */
	OPERR_INTERNAL,             /* 500 */
	OPERR_DESKTOP_FAILED,       /* 500: the desktop did not (re)start */
	OPERR_UNAVAILABLE,          /* 503: shutting down */
	OPERR_TIMEOUT,              /* 504: the sandbox did not answer in time */
	OPERR_NO_SPACE,             /* 507: the sandbox's disk is full */
	OPERR_COUNT
};

/* The stable code string ("sandbox_not_running"). */
const char *operr_code(enum operr e);
/* The HTTP status. */
int operr_http(enum operr e);
/* The JSON-RPC error code: -32602 for bad params, application codes
 * (status * 10 + n, outside -32768..-32000) for the rest. */
int operr_rpc(enum operr e);
/* The error whose code string is code; OPERR_INTERNAL when none is (an
 * untrusted peer's word is mapped, never trusted as a status). */
enum operr operr_from_code(const char *code);

#endif
