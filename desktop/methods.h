/*
 * methods.h - deskboxd's requests to the agent: {"id", "method",
 * "params"} in, one reply out (now, or later for "actions").
 */
#ifndef DESKTOP_METHODS_H
#define DESKTOP_METHODS_H

#include <jansson.h>

#include "agent.h"

/* Answer one request. msg is NULL when the datagram was unusable, with
 * the reason in bad. fd is the descriptor that came with it, or -1; it is
 * taken (kept by the method that uses it, else closed). */
void methods_dispatch(struct agent *a, json_t *msg, int fd, const char *bad);

/* Send {"event": "display", "width", "height"} if the screen size
 * differs from the one last announced. */
void methods_announce_size(struct agent *a);

#endif
