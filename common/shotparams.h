/*
 * shotparams.h - desktop.screenshot's params (and desktop.wait's
 * "screenshot" object) checked and turned into the desktop agent's
 * screenshot params: the part of server/op_desktop.c that reads a client's
 * fields, pure (no I/O, no globals) so a fuzz target reaches it.
 */
#ifndef DESKBOX_SHOTPARAMS_H
#define DESKBOX_SHOTPARAMS_H

#include <stddef.h>

#include <jansson.h>

/* A new object of the agent's screenshot params (format, quality, width,
 * height, region {x,y,w,h}, cursor, if_none_match), or NULL with err. */
json_t *shotparams_agent(const json_t *params, char *err, size_t cap);

#endif
