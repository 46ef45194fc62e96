/*
 * exec.h - POST /v1/sandboxes/{id}/exec: run a command, collect its output.
 */
#ifndef DESKBOX_EXEC_H
#define DESKBOX_EXEC_H

#include "op.h"
#include "req.h"
#include "sandbox.h"

/* Run x in sb and answer c when it ends (x's strings are only borrowed). */
void exec_start(struct sandbox *sb, const struct req_exec *x, struct op_call *c);

/* Parse c's params as a command (cmd or argv, env, cwd, stdin, timeout_ms).
 * Returns 0 (free x with req_exec_free), or -1 with c failed. */
int exec_parse(struct op_call *c, struct req_exec *x);

/* The process.* operation rows (op.c's table). */
extern const struct op op_process_rows[];

#endif
