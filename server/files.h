/*
 * files.h - PUT/GET /v1/sandboxes/{id}/files?path=P.
 */
#ifndef DESKBOX_FILES_H
#define DESKBOX_FILES_H

#include "http.h"
#include "sandbox.h"

/* Write req's body to path in sb (parents created). Answers req. */
void files_put(struct sandbox *sb, struct http_req *req, const char *path);
/* Answer req with the bytes of path in sb. */
void files_get(struct sandbox *sb, struct http_req *req, const char *path);

#endif
