/*
 * adapt_anthropic.h - Anthropic's tool_use blocks run against a sandbox
 * (the rows anthropic.tool_use and anthropic.tools; see adapt_anthropic.c).
 */
#ifndef DESKBOX_ADAPT_ANTHROPIC_H
#define DESKBOX_ADAPT_ANTHROPIC_H

#include <jansson.h>

#include "op.h"

/* The tool_result block answering c's tool_use (content stolen). */
json_t *adapt_anthropic_result(struct op_call *c, json_t *content, int is_error);
/* Answer c with an is_error tool_result saying msg. */
void adapt_anthropic_error(struct op_call *c, const char *msg);

#endif
