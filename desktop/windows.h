/*
 * windows.h - the desktop's top-level windows, and focusing one.
 *
 * With an EWMH window manager the list is its _NET_CLIENT_LIST; without
 * one, the mapped, non-override-redirect children of the root. Titles come
 * from _NET_WM_NAME (else WM_NAME), pids from _NET_WM_PID where a client
 * sets it. Loop thread only; round trips to the local X server only.
 */
#ifndef DESKTOP_WINDOWS_H
#define DESKTOP_WINDOWS_H

#include <X11/Xlib.h>
#include <stddef.h>

#include "display.h"

struct windows_info {
	Window id;
	char *title;      /* UTF-8, never NULL */
	long pid;         /* 0 when unknown */
	int x, y, width, height;
	int focused;
};

/* List the windows into *out (n entries; windows_free them). Returns 0,
 * or -1 with err. */
int windows_list(struct display *d, struct windows_info **out, int *n,
		 char *err, size_t errlen);
void windows_free(struct windows_info *w, int n);

/*
 * Raise and focus a listed window: by id (when id != 0) or the first
 * whose title contains title (ASCII case-insensitive, a plain substring).
 * Through the window manager (_NET_ACTIVE_WINDOW, after switching to the
 * window's desktop) when it supports that, else with XRaiseWindow and
 * XSetInputFocus.
 * Returns 0 with *found the window; -1 with err, *notfound set when no
 * such window exists.
 */
int windows_focus(struct display *d, Window id, const char *title,
		  Window *found, int *notfound, char *err, size_t errlen);

#endif
