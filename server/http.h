/*
 * http.h - one HTTP request/response on an lws connection.
 *
 * A request is routed and authorized on its headers, its body (if any) is
 * buffered up to the route's limit, then rest.c turns it into an operation
 * call (embedded here) and dispatches it. The operation answers at once or
 * later; if the client goes away first, the call is cancelled (op_cancel)
 * and its job must not touch the request again. Only rest.c answers.
 */
#ifndef DESKBOX_HTTP_H
#define DESKBOX_HTTP_H

#include <jansson.h>
#include <stdint.h>

#include "op.h"
#include "srv.h"
#include "ws.h"

enum http_method { HM_OTHER = 0, HM_GET, HM_POST, HM_PUT, HM_DELETE, HM_PATCH, HM_OPTIONS, HM_HEAD };

struct rest_route;

struct http_req {
	struct srv *srv;
	struct lws *wsi;
	int active;                 /* a request is under way on this connection */
	enum http_method method;
	char path[1024];
	char id[64];                /* the {id} segment of the route */
	const struct rest_route *route;
	char *body;
	size_t body_len, body_cap, body_limit;
	int body_over;              /* the body passed body_limit */
	int handled;                /* the call has been dispatched */
	int call_live;              /* call holds a request (release on reset) */
	struct op_call call;        /* the operation this request runs */
	int resp_ready, headers_sent, close_after;
	int status;
	const char *ctype;
	char *resp;
	size_t resp_len, resp_off;
	int stream_fd;              /* >= 0: body streams from this fd */
	uint64_t stream_len, stream_off;
	char etag[128];
	struct { char name[32]; char value[96]; } xhdr[6];  /* extra response headers */
	int nxhdr;
	void *ext;                  /* a binding's per-request state (mcp.c), or NULL */
	void (*ext_free)(void *ext);
	struct ws_conn ws;          /* when the connection became a WebSocket */
};

/* Answer with body (malloc'd, ownership moves here; may be NULL if len 0). */
void http_respond(struct http_req *r, int status, const char *ctype, char *body, size_t len);
/* Answer with j (reference stolen). */
void http_respond_json(struct http_req *r, int status, json_t *j);
/* Answer {"error":{"code","message"}} with e's code and status. */
__attribute__((format(printf, 3, 4)))
void http_error(struct http_req *r, enum operr e, const char *fmt, ...);
/* Send the header name (with its colon, "mcp-session-id:") with the answer;
 * at most two. Call before the answer. */
void http_add_header(struct http_req *r, const char *name, const char *value);
/* Answer with len bytes read from fd (ownership of fd moves here). */
void http_respond_fd(struct http_req *r, int status, const char *ctype, int fd, uint64_t len);

/* Refuse a WebSocket upgrade on wsi with e's status and JSON error body.
 * Returns 1 (what the filter callback returns to refuse). */
__attribute__((format(printf, 3, 4)))
int http_refuse_upgrade(struct lws *wsi, enum operr e, const char *fmt, ...);

int http_lws_callback(struct lws *wsi, enum lws_callback_reasons reason,
		      void *user, void *in, size_t len);

#endif
