/*
 * exec.h - POST /v1/sandboxes/{id}/exec: run a command, collect its output.
 */
#ifndef DESKBOX_EXEC_H
#define DESKBOX_EXEC_H

#include "http.h"
#include "req.h"
#include "sandbox.h"

/* Run x in sb and answer req when it ends (x's strings are only borrowed). */
void exec_start(struct sandbox *sb, const struct req_exec *x, struct http_req *req);

#endif
