/*
 * watch.h - what the agent tells deskboxd without being asked (events) and
 * the answers that wait for a still screen (wait.settled, and an actions
 * batch's "settle_ms").
 *
 * Everything is driven by what the X server reports: damage (display.c
 * counts it and stamps its time), window map/unmap and the window
 * manager's root properties, CLIPBOARD owner changes. Nothing polls: with
 * nothing watched and nobody waiting, watch_timeout_ms is -1 and the agent
 * sleeps in poll until X or deskboxd speaks. Timers here only run out a
 * coalescing interval or a quiet period that has already begun.
 */
#ifndef DESKTOP_WATCH_H
#define DESKTOP_WATCH_H

#include <X11/Xlib.h>
#include <jansson.h>
#include <stddef.h>

#include "actparse.h"
#include "agent.h"

struct act_images;

#define WATCH_MAX_WAITERS 64
#define WATCH_DEFAULT_QUIET_MS 150
#define WATCH_DEFAULT_INTERVAL_MS 50

struct watch *watch_create(struct agent *a);
void watch_destroy(struct watch *w);

/*
 * events.watch: params {screen, min_interval_ms, quiet_ms, windows,
 * clipboard} (all optional; what is not true is not watched) replaces
 * what is watched. Returns 0, or -1 with err (nothing changed then).
 */
int watch_set(struct watch *w, const json_t *params, char *err, size_t errlen);

/*
 * wait.settled: params {quiet_ms, timeout_ms, screenshot?}. Queues a wait
 * whose reply, {settled, waited_ms, frame} (plus the screenshot's fields
 * and its memfd when asked), goes to request id later. Returns 0, or -1
 * with err (bad params or too many waits: reply now).
 */
int watch_wait(struct watch *w, json_t *id, const json_t *params, char *err,
	       size_t errlen);

/* Check an actions request's "settle_ms" and "settle_timeout_ms" (if
 * any) before it runs. Returns 0, or -1 with err. */
int watch_actions_check(const json_t *params, char *err, size_t errlen);

/*
 * An actions batch ended with reply (an object, stolen) for request id.
 * Without "settle_ms" in params the reply is sent now; with it, once the
 * screen has been still that long (or "settle_timeout_ms" passed), with
 * "settled": {settled, waited_ms, frame, image, width, height} added: an
 * image of the settled screen as the batch's own screenshots are made
 * (scale_to, format, quality of l). The images the reply names (imgs)
 * go beside it; they are taken (imgs is left empty).
 */
void watch_actions_done(struct watch *w, json_t *id, json_t *reply,
			const json_t *params, const struct act_list *l,
			struct act_images *imgs);

/* An X event that display.c did not take (window and root property
 * changes are noted; the rest is ignored). */
void watch_x_event(struct watch *w, const XEvent *ev);

/* Look at the windows again at the next watch_run (a window request
 * finished: some of its changes, "above" say, nothing else announces). */
void watch_windows_touched(struct watch *w);

/* Send what is due: events, finished waits. */
void watch_run(struct watch *w);

/* Milliseconds until something here is due; -1 when nothing is. */
int watch_timeout_ms(const struct watch *w);

#endif
