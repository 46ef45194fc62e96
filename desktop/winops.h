/*
 * winops.h - deskboxd's window requests (window.op: activate, move,
 * resize, minimize, maximize, restore, close) answered once the change
 * shows, and the pixels of one window for a screenshot.
 *
 * A request is checked (the id must be a listed top-level window), sent
 * (windows_request) and then held until the window's state says it took
 * effect, or WINOPS_WAIT_MS passed (then answered with "applied": false
 * and what the window looks like now). While a request is held the loop
 * looks again every WINOPS_POLL_MS; with none held nothing here runs.
 *
 * At the first window screenshot, when the X server has Composite, every
 * top-level window is redirected (automatic: the server still draws the
 * screen itself), so each keeps its own pixels even where others cover
 * it: that is what a window screenshot reads. That first one waits (up to
 * WINOPS_PAINT_MS, in the loop: the only place here that blocks) for the
 * window to be repainted. Loop thread only.
 */
#ifndef DESKTOP_WINOPS_H
#define DESKTOP_WINOPS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "agentproto.h"
#include "windows.h"

#define WINOPS_WAIT_MS AGENTPROTO_WINDOW_WAIT_MS
#define WINOPS_POLL_MS 10
/* How long the window must hold still before a change counts as shown:
 * a WM may animate (openbox's iconify shrinks the frame in steps) or
 * configure the client before its frame. */
#define WINOPS_STILL_MS 40
/* A request after which nothing about the window changed for this long
 * is answered "applied": false at once (a move to where it is after the
 * WM's adjustments, a size that rounds to the current one, a refusal). */
#define WINOPS_IDLE_MS 250
/* The first window screenshot waits at most this long for the window to
 * be repainted into its own pixmap (winops.c: winops_redirect). */
#define WINOPS_PAINT_MS 300
#define WINOPS_MAX_PENDING 64
/* Bounds of move and resize (X's coordinates are 16-bit). */
#define WINOPS_MAX_COORD 32767

struct winops *winops_create(struct agent *a);
void winops_destroy(struct winops *w);

/*
 * window.op: params {window, op, x, y, width, height, force}. Returns 0
 * with the reply to id deferred (winops_run sends it), or -1 with *code
 * ("bad_request", "not_found", "window_state", "internal") and err: reply now.
 */
int winops_submit(struct winops *w, json_t *id, const json_t *params,
		  const char **code, char *err, size_t errlen);

/* Answer the held requests whose change shows or whose time ran out. */
void winops_run(struct winops *w);

/* Milliseconds until winops_run has something to do; -1: nothing held. */
int winops_timeout_ms(const struct winops *w);

/* A listed window as windows.list reports it. */
json_t *winops_window_json(const struct windows_info *wi);

/*
 * The pixels of window id's frame (decorations included), BGRX in *pix
 * (valid until the next capture) with *stride; *wd, *ht its size; *sx, *sy
 * where it is on the screen; *covered_ok whether covered parts are the
 * window's own (Composite) rather than whatever is on top. -1 with *code
 * ("not_found", "window_state" when it is minimized or unmapped, "internal")
 * and err.
 */
int winops_grab(struct winops *w, Window id, uint8_t **pix, size_t *stride,
		int *wd, int *ht, int *sx, int *sy, int *covered_ok,
		const char **code, char *err, size_t errlen);

#endif
