/*
 * windows.h - the desktop's top-level windows: listing them, focusing one,
 * and asking for one to move, resize, minimize, maximize, restore or close.
 *
 * With an EWMH window manager the list is its _NET_CLIENT_LIST; without
 * one, the non-override-redirect children of the root that are mapped or
 * that we minimized (WM_STATE Iconic). Titles come from _NET_WM_NAME (else
 * WM_NAME), pids from _NET_WM_PID where a client sets it, class from
 * WM_CLASS, state from _NET_WM_STATE and WM_STATE, workspace from
 * _NET_WM_DESKTOP. Requests go to the window manager as EWMH/ICCCM client
 * messages; without one, this module plays the window manager's part with
 * direct X calls. Loop thread only; round trips to the local X server only.
 */
#ifndef DESKTOP_WINDOWS_H
#define DESKTOP_WINDOWS_H

#include <X11/Xlib.h>
#include <stddef.h>

#include "display.h"

#define WINDOWS_MINIMIZED  1u
#define WINDOWS_MAXIMIZED  2u   /* both directions */
#define WINDOWS_FULLSCREEN 4u
#define WINDOWS_ABOVE      8u

struct windows_info {
	Window id;
	char *title;      /* UTF-8, never NULL */
	char *class;      /* WM_CLASS class part, "" when unset; never NULL */
	char *instance;   /* WM_CLASS instance part, "" when unset; never NULL */
	long pid;         /* 0 when unknown */
	int x, y, width, height;       /* the client area, root coordinates */
	Window frame;                  /* the root's child holding it */
	int fx, fy, fwidth, fheight;   /* that frame (decorations included) */
	int focused;
	int viewable;     /* mapped and all its ancestors too */
	int frame_viewable;            /* the frame is (a WM unmaps it late) */
	unsigned state;   /* WINDOWS_* */
	long workspace;   /* _NET_WM_DESKTOP; -1: all of them; -2: unknown */
	Window transient_for;          /* WM_TRANSIENT_FOR, or None */
};

enum windows_op {
	WINDOWS_ACTIVATE,
	WINDOWS_MOVE,       /* a, b: the client area's new x, y */
	WINDOWS_RESIZE,     /* a, b: its new width, height */
	WINDOWS_MINIMIZE,
	WINDOWS_MAXIMIZE,
	WINDOWS_RESTORE,
	WINDOWS_CLOSE,      /* a: 1 to kill its X client (force) */
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

/*
 * The listed window id into *out (windows_info_free it). An id that is
 * not a listed top-level window (the root, a frame, a child, any other
 * XID) is not found. Returns 0; -1 with err, *notfound set when it is not
 * listed.
 */
int windows_get(struct display *d, Window id, struct windows_info *out,
		int *notfound, char *err, size_t errlen);
void windows_info_free(struct windows_info *w);

/* Whether an EWMH window manager runs (_NET_SUPPORTING_WM_CHECK). */
int windows_have_wm(struct display *d);
/* Whether a window manager keeps _NET_CLIENT_LIST (even an empty one):
 * from then on only the windows it manages are listed. */
int windows_wm_lists(struct display *d);

/*
 * Ask for op on the listed window w (checked by the caller with
 * windows_get; now is that answer). Sends the request and returns without
 * waiting for it to take effect. Returns 0, or -1 with err, *conflict set
 * when the window cannot do it (a graceful close of a window that takes
 * no WM_DELETE_WINDOW).
 */
int windows_request(struct display *d, const struct windows_info *now,
		    enum windows_op op, int a, int b, int *conflict, char *err,
		    size_t errlen);

#endif
