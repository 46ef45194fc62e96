/*
 * rest.h - REST, one binding of the operation table: route rows name an
 * operation; the query, the path's id and the body become its params; its
 * outcome becomes an HTTP answer (status from common/operr.h's table).
 */
#ifndef DESKBOX_REST_H
#define DESKBOX_REST_H

#include <stddef.h>

#include "http.h"
#include "op.h"

struct rest_route;

/* Find the route of (path, method). Returns 0 and sets *route (and id to
 * the {id} segment, if the route has one), else the error: OPERR_NOT_FOUND
 * or OPERR_METHOD_NOT_ALLOWED. */
enum operr rest_route(const char *path, enum http_method m, const struct rest_route **route,
		      char *id, size_t idlen);
/* The operation a route names. */
const struct op *rest_route_op(const struct rest_route *route);
/* Whether auth may use route (on sandbox id, or NULL). */
int rest_route_allowed(const struct rest_route *route, const struct op_auth *auth, const char *id);
/* The route takes a file body (its limit is --max-file, not --max-body). */
int rest_route_file_body(const struct rest_route *route);
/* The route is a WebSocket endpoint (vnc, pty). */
int rest_route_ws(const struct rest_route *route);

/* Who r's request is from: its Authorization: Bearer token, or (for
 * WebSocket upgrades and viewer links) ?token=. */
void rest_auth(struct http_req *r, struct op_auth *out);

/* The Host r was sent to, if it is plain (it goes into URLs), else "". */
void rest_host(struct http_req *r, char *host, size_t cap);

/* Build the call of r (route set, body buffered) and dispatch it. */
void rest_handle(struct http_req *r);

/* For docs: the REST form of op ("GET /v1/sandboxes/{id}"), or NULL. */
const char *rest_describe(const struct op *op, char *buf, size_t cap);

#endif
