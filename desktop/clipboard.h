/*
 * clipboard.h - the CLIPBOARD selection as UTF-8 text.
 *
 * clipboard_set makes the agent the selection owner; from then on the
 * agent's loop answers other clients' SelectionRequests (UTF8_STRING,
 * STRING, TEXT, TARGETS, TIMESTAMP) through clipboard_handle, until
 * another client takes the selection. clipboard_get asks the current owner
 * for UTF8_STRING (falling back to STRING), following INCR transfers, and
 * waits at most CLIPBOARD_TIMEOUT_MS for it. Loop thread only.
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
 * The clipboard's text as UTF-8 (invalid bytes become U+FFFD), malloc'd
 * into *text (the caller frees), "" when nobody owns it. Returns 0; -1
 * with err when the owner does not answer in time, or with *notext set
 * when it has no text to give.
 */
int clipboard_get(struct clipboard *c, char **text, size_t *len, int *notext,
		  char *err, size_t errlen);

/* Handle ev if it concerns the selection we own. Returns 1 if it did. */
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
