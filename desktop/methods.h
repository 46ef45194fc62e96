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

/*
 * Take the screenshot params ask for (now): *result its description
 * {media_type, width, height, etag, size} or {not_modified, etag}, *fd a
 * memfd with the bytes (or -1; the caller closes it). Returns 0, or -1
 * with *code (a stable error code) and err.
 */
int methods_shot(struct agent *a, const json_t *params, json_t **result, int *fd,
		 const char **code, char *err, size_t errlen);

/* Send {"event": "display", "width", "height"} if the screen size
 * differs from the one last announced. */
void methods_announce_size(struct agent *a);

/*
 * Start the apps.launch and open calls held while the window manager
 * started, once it manages (or anyway: it is taking too long).
 */
void methods_run_held(struct agent *a, int anyway);

#endif
