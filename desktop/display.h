/*
 * display.h - the agent's X connection and what it tracks about the
 * screen: size (RandR), a damage counter (XDamage), the cursor shape serial
 * (XFixes), and a trap for X protocol errors.
 *
 * The damage counter is the screen's version: it goes up on every drawing
 * anywhere on the root window and on every resize, so "same counter" means
 * "same pixels". While someone needs to know where the screen changed
 * (VNC viewers are attached), the damaged area is also gathered into a
 * region, `dirty`; otherwise only the counter is kept. The event watcher
 * (watch.c) gathers its own region, `watch_dirty`, the same way, so the
 * two never take each other's rectangles. `changed_ms` is when the
 * counter last moved, which is all "settled" needs. Touched only from the
 * agent's loop.
 */
#ifndef DESKTOP_DISPLAY_H
#define DESKTOP_DISPLAY_H

#include <X11/Xlib.h>
#include <X11/extensions/Xdamage.h>
#include <X11/extensions/Xfixes.h>
#include <X11/extensions/Xrandr.h>
#include <stddef.h>
#include <stdint.h>

struct display {
	Display *dpy;
	int screen;
	Window root;
	int width, height;          /* current screen size */
	int max_w, max_h;           /* Xvfb's -screen size: RandR's limit */
	uint64_t damage;            /* screen version, see above */
	unsigned long cursor_serial;
	int64_t changed_ms;         /* monotonic ms of the last damage, 0: none yet */
	uint64_t clipboard_owners;  /* CLIPBOARD owner changes seen, while watched */
	uint64_t pointer_moves;     /* pointer motion events seen, while watched */
	int xi_opcode;              /* XInput2's major opcode; 0: none, or not asked yet */
	int xi_asked;               /* XInput2 looked for (at the first pointer watcher) */
	int clipboard_watchers;     /* display_watch_clipboard(on) minus (off) */
	int pointer_watchers;       /* display_watch_pointer(on) minus (off) */
	int damage_event, fixes_event, randr_event;   /* extension bases */
	XserverRegion dirty;        /* damaged area not taken yet, or None */
	XserverRegion watch_dirty;  /* the same for the event watcher, or None */
	XserverRegion part;         /* scratch for XDamageSubtract */
	Damage dmg;
	RROutput output;
	RRCrtc crtc;
	RRMode own_mode;            /* the mode this agent added, or None */
};

/*
 * Connect to display name with the given cookie, check XShm, XDamage,
 * XFixes, XTest and RandR, and start listening for damage, cursor and
 * screen-size changes. Returns the display, or NULL with err.
 */
struct display *display_open(const char *name, const uint8_t cookie[16],
			     int max_w, int max_h, char *err, size_t errlen);

/* Close the connection (if any) and free d. */
void display_close(struct display *d);

/*
 * Set the screen to w x h with RandR (adding a mode if needed), at most
 * max_w x max_h. Returns 0, or -1 with err.
 */
int display_resize(struct display *d, int w, int h, char *err, size_t errlen);

/*
 * Handle ev if it is a damage, cursor or RandR event. Returns 1 when it
 * was (*resized set when the screen size changed), 0 when it is someone
 * else's.
 */
int display_handle(struct display *d, XEvent *ev, int *resized);

/* Round trip to the server, then count every damage event that arrived:
 * afterwards d->damage covers all drawing the server did before. */
void display_refresh(struct display *d);

/* Count the damage events already received, without a round trip:
 * d->damage then covers the drawing done before the last reply read. */
void display_drain(struct display *d);

/*
 * Start (on) or stop gathering damaged areas into d->dirty. Starting
 * empties it. Returns 0, or -1 when the region cannot be made.
 */
int display_track_damage(struct display *d, int on);

/* Take the damaged area gathered so far: its rectangles (clipped to the
 * screen, XFree them) in *rects and *n; d->dirty is emptied. NULL with
 * *n 0 when nothing was damaged or tracking is off. */
XRectangle *display_take_damage(struct display *d, int *n);

/* The same pair for the event watcher's own region (watch_dirty). */
int display_watch_damage(struct display *d, int on);
XRectangle *display_take_watch_damage(struct display *d, int *n);

/* Start or stop counting CLIPBOARD owner changes in d->clipboard_owners.
 * Counted: it stays on until every "on" has had its "off". */
void display_watch_clipboard(struct display *d, Atom clipboard, int on);

/*
 * Start (on) or stop counting pointer motion in d->pointer_moves: every
 * move, whoever made it (XTest from the agent or a viewer, xdotool, a
 * warp by an app), as XInput2 raw motion. Returns 0, or -1 when the
 * server has no XInput2 (nothing is counted then). Counted like the
 * clipboard's: it stays on until every "on" has had its "off".
 */
int display_watch_pointer(struct display *d, int on);

/* Pointer position on the root window. Returns 0, or -1. */
int display_pointer(struct display *d, int *x, int *y);

/*
 * X protocol errors are asynchronous; code that can provoke one (windows
 * that vanish, a racing resize) brackets itself with trap_begin/trap_end.
 * trap_end syncs and returns the error code caught (0 for none).
 */
void display_trap_begin(struct display *d);
int display_trap_end(struct display *d);

#endif
