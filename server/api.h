/*
 * api.h - the REST route table and its handlers.
 */
#ifndef DESKBOX_API_H
#define DESKBOX_API_H

#include <stddef.h>

#include "http.h"

/* Find the route of (path, method). Returns 0 and sets *route (and id to the
 * {id} segment, if the route has one), else the HTTP status: 404 or 405. */
int api_route(const char *path, enum http_method m, const struct api_route **route,
	      char *id, size_t idlen);
int api_route_auth(const struct api_route *route);
int api_route_file_body(const struct api_route *route);

/* Run r's route handler (r->route is set, the body buffered). */
void api_handle(struct http_req *r);

#endif
