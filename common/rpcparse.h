/*
 * rpcparse.h - the pure part of the JSON-RPC channel (server/rpc.c): a
 * request object's envelope and the transport's own params (binary
 * results as base64, binary input as base64 "data" or a following binary
 * message), checked without touching a connection or an operation, so
 * unit tests and a fuzz target call them directly. No I/O, no globals.
 */
#ifndef DESKBOX_RPCPARSE_H
#define DESKBOX_RPCPARSE_H

#include <stddef.h>

#include <jansson.h>

/* What a request object says (borrowed from it). */
struct rpcparse_req {
	const char *method;
	json_t *id;           /* NULL when absent (a notification) */
	int has_id;
	json_t *params;       /* NULL when absent; else checked by the caller */
};

/*
 * Check one request (a message, or a batch member): {"jsonrpc": "2.0",
 * "method": string, "params"?, "id"?: string|number|null}. Returns 0 with
 * *out filled, or -1 with err set and *answer_id the id an error answer
 * may echo (a string or integer id of an object; NULL otherwise).
 */
int rpcparse_request(json_t *req, struct rpcparse_req *out, json_t **answer_id,
		     char *err, size_t cap);

/* The transport's params, taken out of an operation's params. */
struct rpcparse_transport {
	int b64;              /* a binary result goes inline as base64 */
	int want_bin;         /* the bytes come as the next binary message */
	char *bin;            /* decoded "data" (owned; free()), or NULL */
	size_t bin_len;
};

/*
 * Take "encoding" (when the operation answers with bytes: bin_out) and
 * "data"/"binary" (when it takes bytes: bin_in) out of params, into *t.
 * Returns 0, or -1 with err set and nothing allocated in *t.
 */
int rpcparse_transport(json_t *params, int bin_out, int bin_in, struct rpcparse_transport *t,
		       char *err, size_t cap);

#endif
