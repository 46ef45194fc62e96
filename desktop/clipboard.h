/*
 * clipboard.h - the CLIPBOARD selection as UTF-8 text.
 *
 * clipboard_set makes the agent the selection owner; from then on the
 * agent's loop answers other clients' SelectionRequests (UTF8_STRING,
 * STRING, TEXT, TARGETS, TIMESTAMP) through clipboard_handle, until
 * another client takes the selection. clipboard_get asks the current owner
 * for UTF8_STRING (falling back to STRING), following INCR transfers, and
 * gives up after CLIPBOARD_TIMEOUT_MS; it never waits: the answer comes
 * through clipboard_handle's events (or clipboard_expire) to a callback, so
 * an owner that never answers costs that read its timeout and nothing else.
 * Loop thread only.
 */
#ifndef DESKTOP_CLIPBOARD_H
#define DESKTOP_CLIPBOARD_H

#include <X11/Xlib.h>
#include <stddef.h>

#include "display.h"

#define CLIPBOARD_TIMEOUT_MS 2000
#define CLIPBOARD_MAX (16 * 1024 * 1024)   /* largest text read */

struct clipboard;

struct clipboard *clipboard_create(struct display *d, char *err, size_t errlen);
void clipboard_destroy(struct clipboard *c);

/* Own CLIPBOARD with a copy of text (len bytes of UTF-8). Returns 0, or -1
 * with err. */
int clipboard_set(struct clipboard *c, const char *text, size_t len,
		  char *err, size_t errlen);

/*
 * The outcome of a read: text is the clipboard as UTF-8 (invalid bytes
 * become U+FFFD; "" when nobody owns it), malloc'd for the callee to free;
 * or NULL with err (notext set when the owner has no text to give).
 */
typedef void (*clipboard_cb)(void *ctx, void *arg, char *text, size_t len,
			     int notext, const char *err);

/*
 * Read the clipboard; cb(ctx, arg, …) runs exactly once: at once when the
 * answer is at hand (we own the selection, or nobody does), else from
 * clipboard_handle or clipboard_expire. Reads that overlap share one
 * request to the owner. If the clipboard is destroyed first, cb never runs
 * and free_arg(arg) does (free_arg may be NULL). Returns 0, or -1 when out
 * of memory (cb will not run).
 */
int clipboard_get(struct clipboard *c, clipboard_cb cb, void *ctx, void *arg,
		  void (*free_arg)(void *arg));

/* Milliseconds until a read in flight times out, or -1 if none. */
int clipboard_timeout_ms(const struct clipboard *c);
/* Fail a read in flight whose time is up. Call once per loop turn. */
void clipboard_expire(struct clipboard *c);

/* Handle ev if it concerns our selection or our reads. Returns 1 if it did. */
int clipboard_handle(struct clipboard *c, XEvent *ev);

/*
 * Conversions for text that comes from or goes to elsewhere (VNC viewers),
 * malloc'd with a NUL after *out bytes (the caller frees; NULL when out
 * of memory). clipboard_latin1: UTF-8 to Latin-1, '?' for what it lacks.
 * clipboard_to_utf8: Latin-1 (latin1 set) or possibly broken UTF-8 to
 * valid UTF-8, U+FFFD for bad bytes and NULs.
 */
char *clipboard_latin1(const char *s, size_t len, size_t *out);
char *clipboard_to_utf8(const char *s, size_t len, int latin1, size_t *out);

#endif
