/*
 * actions.h - run "actions" requests: the parsed primitives of
 * actparse.h turned into XTest input, screenshots and window focus.
 *
 * Requests queue and run one at a time, in order. An action that waits
 * (wait, hold_key, typing with delay_ms, or a keymap binding that must
 * settle) suspends its request with a wake-up time instead of sleeping, so
 * the loop keeps serving screenshots and other requests meanwhile.
 */
#ifndef DESKTOP_ACTIONS_H
#define DESKTOP_ACTIONS_H

#include <jansson.h>

#include "actparse.h"
#include "agent.h"

#define ACTIONS_MAX_QUEUED 64

struct actions *actions_create(struct agent *a);
void actions_destroy(struct actions *as);

/*
 * Parse params and queue them under request id (both referenced, not
 * stolen); the reply is sent when the last action ends or one fails.
 * Returns 0, or -1 with e filled (bad request: reply now).
 */
int actions_submit(struct actions *as, json_t *id, json_t *params,
		   struct act_error *e);

/* The images of one actions reply: sealed memfds beside the datagram,
 * named in its JSON by their place here ("fd": K). */
struct act_images {
	int fd[AGENTPROTO_MAX_IMAGES];
	int n;
};

/* Close im's memfds; it is empty after. */
void actions_images_close(struct act_images *im);

/* Take the screenshot r into a sealed memfd appended to im and put {image:
 * {media_type, fd: its place in im}, width, height} into res. Returns 0,
 * or -1 with err. */
int actions_image(struct agent *a, const struct shot_req *r, json_t *res,
		  struct act_images *im, char *err, size_t errlen);

/* Run what is due. */
void actions_run(struct actions *as);

/* Milliseconds until something is due; -1 when nothing is queued. */
int actions_timeout_ms(const struct actions *as);

#endif
