/*
 * httpparts.h - the parts of an HTTP request deskboxd parses itself (lws
 * splits the request line and headers): query parameters typed by an
 * operation's schema, the bearer token, the Host header it echoes in URLs,
 * If-None-Match, and a body turned into an operation's params. Pure (no
 * I/O, no globals): server/rest.c feeds it what lws hands over, and a fuzz
 * target feeds it anything.
 */
#ifndef DESKBOX_HTTPPARTS_H
#define DESKBOX_HTTPPARTS_H

#include <stddef.h>

#include <jansson.h>

#include "operr.h"

/* How a route's body becomes params. */
enum httpparts_body {
	HTTPPARTS_JSON,      /* a JSON object (empty: {}) merged into params */
	HTTPPARTS_ACTIONS,   /* a JSON action, an array of them, or {"actions": …} */
	HTTPPARTS_TEXT,      /* {"text": …} or the raw text (repaired to UTF-8) */
};

/*
 * One query fragment as lws decodes it ("name=value", n bytes, NUL-
 * terminated at n; a decoded %00 makes strlen shorter) into params, the
 * value typed by props[name].type (integer, number, boolean, else string).
 * An empty name and "token" (auth's) are skipped; a name already in params
 * is refused ("given twice"); unknown names are left for the operation's
 * unknown-field check. Returns 0, or -1 with err.
 * frag is modified.
 */
int httpparts_query(char *frag, size_t n, const json_t *props, json_t *params, char *err, size_t cap);

/* The token of an "Authorization: Bearer TOKEN" value (n bytes): 0 with
 * *tok, *len pointing into h, or -1 when it is not a bearer token. */
int httpparts_bearer(const char *h, size_t n, const char **tok, size_t *len);

/* 1 when a Host value (n bytes, NUL-terminated) is plain enough to put in URLs we hand
 * out (letters, digits, . - : [ ]). */
int httpparts_host_ok(const char *host, size_t n);

/* The entity tag of an If-None-Match value, W/ and quotes taken off (v is
 * cut at the closing quote; the result points into it). */
const char *httpparts_etag(char *v);

/* The body (len bytes) into params as kind says. Returns OPERR_OK, or the
 * error with err set. */
enum operr httpparts_body(enum httpparts_body kind, const char *body, size_t len, json_t *params,
			  char *err, size_t cap);

/*
 * A terminal WebSocket's text (control) message: {"type": "resize",
 * "cols": C, "rows": R} with 1 <= C, R <= 1000. Returns 1 with *cols, *rows
 * set; 0 for anything else (ignored, as the terminal ignores it).
 */
int httpparts_pty_resize(const char *msg, size_t len, unsigned short *cols, unsigned short *rows);

/*
 * The request line at the start of a new connection's bytes (len of them):
 * 0 while its end ('\n') has not come; -1 with err when its target holds
 * a %-escape that is not two hex digits, or one that decodes to NUL (%00);
 * 1 otherwise (anything else about the line is left to lws). libwebsockets
 * 4.1 closes the connection on such a target without a status (%00) or
 * answers with its own HTML 403, before any callback of ours runs.
 */
int httpparts_target(const char *buf, size_t len, char *err, size_t cap);

#endif
