/*
 * adapt_bash.h - the bash tool (bash_20250124): one persistent shell per
 * sandbox, driven through process.spawn / process.write (see adapt_bash.c).
 */
#ifndef DESKBOX_ADAPT_BASH_H
#define DESKBOX_ADAPT_BASH_H

#include <jansson.h>

#include "op.h"
#include "srv.h"

/* Run the bash tool's input ({command} or {restart: true}) for c, a call
 * of anthropic.tool_use; answers c with a tool_result. */
void adapt_bash_run(struct op_call *c, const json_t *input);

/* End every shell (at exit). */
void adapt_bash_destroy_all(struct srv *srv);

#endif
