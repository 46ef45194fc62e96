/*
 * winops.c - window requests held until they show, and window pixels.
 * See winops.h.
 *
 * Owns the held requests (their ids and the window's state before) and
 * whether top-level windows are redirected. "Shows" is judged from what
 * the X server reports, not from what was asked: a WM may round a size to
 * the client's resize increments (xterm's character cells) or keep a
 * window on the screen, so a move or resize counts as applied once the
 * geometry changed at all. Held requests never block: the loop's poll
 * timeout runs the checks. The one wait is winops_redirect's, once per
 * agent, bounded by WINOPS_PAINT_MS.
 */
#include "winops.h"

#include <X11/extensions/Xcomposite.h>
#include <X11/extensions/Xdamage.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jget.h"
#include "watch.h"

struct held {
	struct held *next;
	json_t *id;
	enum windows_op op;
	int a, b;
	struct windows_info before;
	int64_t start, deadline;
	int last[11];               /* the window's geometry and state last seen */
	int64_t still_since;        /* since when it has been that */
	int changed;                /* it differed from before at some point */
};

struct winops {
	struct agent *a;
	int can_composite;          /* the X server has Composite >= 0.2 */
	int composite;              /* top-level windows are redirected */
	XID probe;                  /* winops_redirect's Damage, or None */
	struct held *held;
	int nheld;
};

static const struct {
	const char *name;
	enum windows_op op;
} winops_names[] = {
	{"activate", WINDOWS_ACTIVATE}, {"move", WINDOWS_MOVE},
	{"resize", WINDOWS_RESIZE},     {"minimize", WINDOWS_MINIMIZE},
	{"maximize", WINDOWS_MAXIMIZE}, {"restore", WINDOWS_RESTORE},
	{"close", WINDOWS_CLOSE},
};

struct winops *winops_create(struct agent *a)
{
	struct winops *w = calloc(1, sizeof *w);
	struct display *d = a->disp;
	int ev, er, maj = 0, min = 2;

	if (!w)
		return NULL;
	w->a = a;
	/* Automatic redirection needs Composite 0.2 (NameWindowPixmap is
	 * not used: a redirected window's own GetImage reads its pixmap). */
	w->can_composite = XCompositeQueryExtension(d->dpy, &ev, &er) &&
			   XCompositeQueryVersion(d->dpy, &maj, &min) && (maj > 0 || min >= 2);
	return w;
}

static void held_free(struct held *h)
{
	json_decref(h->id);
	windows_info_free(&h->before);
	free(h);
}

void winops_destroy(struct winops *w)
{
	if (!w)
		return;
	while (w->held) {
		struct held *h = w->held;

		w->held = h->next;
		held_free(h);
	}
	free(w);
}

json_t *winops_window_json(const struct windows_info *wi)
{
	json_t *o = json_pack(
		"{sIsssssssIsisisisisbs{sisisisi}s{sbsbsbsb}}",
		"id", (json_int_t)wi->id, "title", wi->title, "class", wi->class,
		"instance", wi->instance, "pid", (json_int_t)wi->pid,
		"x", wi->x, "y", wi->y, "width", wi->width, "height", wi->height,
		"focused", wi->focused,
		"frame", "x", wi->fx, "y", wi->fy, "width", wi->fwidth, "height", wi->fheight,
		"state", "minimized", !!(wi->state & WINDOWS_MINIMIZED),
		"maximized", !!(wi->state & WINDOWS_MAXIMIZED),
		"fullscreen", !!(wi->state & WINDOWS_FULLSCREEN),
		"above", !!(wi->state & WINDOWS_ABOVE));

	if (!o)
		return NULL;
	json_object_set_new(o, "workspace", wi->workspace == -2 ? json_null() :
			    json_integer(wi->workspace));
	json_object_set_new(o, "transient_for", wi->transient_for ?
			    json_integer((json_int_t)wi->transient_for) : json_null());
	return o;
}

/* The window id in params, checked. */
static int winops_id(const json_t *params, Window *id, char *err, size_t errlen)
{
	long v;

	if (!json_object_get(params, "window")) {
		snprintf(err, errlen, "window is required (an id from windows.list)");
		return -1;
	}
	if (jget_int(params, "window", 1, 0xffffffffL, 0, &v, err, errlen) < 0)
		return -1;
	*id = (Window)v;
	return 0;
}

/* Only the fields op takes; any other is an error. */
static int winops_fields(const json_t *params, enum windows_op op, char *err, size_t errlen)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)params, key, v) {
		int ok = !strcmp(key, "window") || !strcmp(key, "op") ||
			 (op == WINDOWS_MOVE && (!strcmp(key, "x") || !strcmp(key, "y"))) ||
			 (op == WINDOWS_RESIZE && (!strcmp(key, "width") || !strcmp(key, "height"))) ||
			 (op == WINDOWS_CLOSE && !strcmp(key, "force"));

		if (!ok) {
			snprintf(err, errlen, "%.64s is not a parameter of this window operation", key);
			return -1;
		}
	}
	return 0;
}

/* Both of two required integers in [lo, hi]. */
static int winops_pair(const json_t *params, const char *k1, const char *k2, long lo, long hi,
		       int *a, int *b, char *err, size_t errlen)
{
	long v1, v2;

	if (!json_object_get(params, k1) || !json_object_get(params, k2)) {
		snprintf(err, errlen, "%s and %s are required", k1, k2);
		return -1;
	}
	if (jget_int(params, k1, lo, hi, 0, &v1, err, errlen) < 0 ||
	    jget_int(params, k2, lo, hi, 0, &v2, err, errlen) < 0)
		return -1;
	*a = (int)v1;
	*b = (int)v2;
	return 0;
}

int winops_submit(struct winops *w, json_t *id, const json_t *params,
		  const char **code, char *err, size_t errlen)
{
	struct display *d = w->a->disp;
	const char *name;
	struct held *h;
	enum windows_op op = WINDOWS_ACTIVATE;
	int a = 0, b = 0, found = 0, notfound = 0, conflict = 0;
	Window win;

	*code = "bad_request";
	if (!json_is_object(params)) {
		snprintf(err, errlen, "params must be {window, op, ...}");
		return -1;
	}
	if (jget_string(params, "op", 1, &name, NULL, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < sizeof winops_names / sizeof *winops_names; i++)
		if (!strcmp(winops_names[i].name, name)) {
			op = winops_names[i].op;
			found = 1;
		}
	if (!found) {
		snprintf(err, errlen, "op must be activate, move, resize, minimize, maximize, "
			 "restore or close");
		return -1;
	}
	if (winops_fields(params, op, err, errlen) < 0 || winops_id(params, &win, err, errlen) < 0)
		return -1;
	if (op == WINDOWS_MOVE &&
	    winops_pair(params, "x", "y", -WINOPS_MAX_COORD, WINOPS_MAX_COORD, &a, &b, err,
			errlen) < 0)
		return -1;
	if (op == WINDOWS_RESIZE &&
	    winops_pair(params, "width", "height", 1, WINOPS_MAX_COORD, &a, &b, err, errlen) < 0)
		return -1;
	if (op == WINDOWS_CLOSE && jget_bool(params, "force", 0, &a, err, errlen) < 0)
		return -1;
	if (w->nheld >= WINOPS_MAX_PENDING) {
		snprintf(err, errlen, "more than %d window operations at once", WINOPS_MAX_PENDING);
		return -1;
	}
	if (!(h = calloc(1, sizeof *h))) {
		*code = "internal";
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (windows_get(d, win, &h->before, &notfound, err, errlen) < 0 ||
	    windows_request(d, &h->before, op, a, b, &conflict, err, errlen) < 0) {
		*code = notfound ? "not_found" : conflict ? "window_state" : "internal";
		held_free(h);
		return -1;
	}
	h->id = json_incref(id);
	h->op = op;
	h->a = a;
	h->b = b;
	h->start = input_now_ms();
	h->deadline = h->start + WINOPS_WAIT_MS;
	h->next = w->held;
	w->held = h;
	w->nheld++;
	return 0;
}

/* Whether n is at rest: no change since WINOPS_STILL_MS, and a shown
 * client inside its frame (a WM has finished configuring both). */
static int winops_still(struct held *h, const struct windows_info *n, int64_t now)
{
	const struct windows_info *o = &h->before;
	int cur[11] = { n->x, n->y, n->width, n->height, n->fx, n->fy, n->fwidth, n->fheight,
			(int)n->state, n->viewable, n->frame_viewable };
	int was[11] = { o->x, o->y, o->width, o->height, o->fx, o->fy, o->fwidth, o->fheight,
			(int)o->state, o->viewable, o->frame_viewable };

	h->changed |= memcmp(cur, was, sizeof cur) != 0 || n->focused != o->focused;
	if (memcmp(cur, h->last, sizeof cur) || !h->still_since) {
		memcpy(h->last, cur, sizeof cur);
		h->still_since = now;
	}
	if (n->viewable && (n->x < n->fx || n->y < n->fy ||
			    n->x + n->width > n->fx + n->fwidth ||
			    n->y + n->height > n->fy + n->fheight))
		return 0;
	return now - h->still_since >= WINOPS_STILL_MS;
}

/* Whether the change h asked for shows in n. */
static int winops_shows(const struct held *h, const struct windows_info *n)
{
	const struct windows_info *o = &h->before;
	int moved = n->x != o->x || n->y != o->y;
	int sized = n->width != o->width || n->height != o->height;
	unsigned big = WINDOWS_MAXIMIZED | WINDOWS_FULLSCREEN;

	switch (h->op) {
	case WINDOWS_ACTIVATE:
		return n->focused && n->viewable && !(n->state & WINDOWS_MINIMIZED);
	case WINDOWS_MOVE:
		return moved || (n->x == h->a && n->y == h->b);
	case WINDOWS_RESIZE:
		return sized || (n->width == h->a && n->height == h->b);
	case WINDOWS_MINIMIZE:
		return (n->state & WINDOWS_MINIMIZED) && !n->viewable && !n->frame_viewable;
	case WINDOWS_MAXIMIZE:
		return (n->state & WINDOWS_MAXIMIZED) && n->viewable &&
		       (moved || sized || (o->state & WINDOWS_MAXIMIZED));
	case WINDOWS_RESTORE:
		return !(n->state & (big | WINDOWS_MINIMIZED)) && n->viewable &&
		       (moved || sized || !(o->state & big));
	case WINDOWS_CLOSE:
		return 0;   /* only its going away shows */
	}
	return 0;
}

/* A window that a graceful close made: one transient for the closing
 * window that was not there before. */
static Window winops_dialog(struct display *d, Window closing)
{
	struct windows_info *v;
	char err[200];
	Window dlg = None;
	int n;

	if (windows_list(d, &v, &n, err, sizeof err) < 0)
		return None;
	for (int i = 0; i < n && dlg == None; i++)
		if (v[i].transient_for == closing && v[i].viewable)
			dlg = v[i].id;
	windows_free(v, n);
	return dlg;
}

/* Reply to h if it is done (or out of time). Returns 1 when it was. */
static int winops_check(struct winops *w, struct held *h, int64_t now)
{
	struct display *d = w->a->disp;
	struct windows_info n;
	char err[256];
	int notfound, done;
	json_t *res;
	Window dlg = None;

	if (windows_get(d, h->before.id, &n, &notfound, err, sizeof err) < 0) {
		if (!notfound) {
			chan_reply_error(&w->a->chan, h->id, "internal", err, -1);
		} else if (h->op == WINDOWS_CLOSE) {
			chan_reply(&w->a->chan, h->id,
				   json_pack("{sIsbsI}", "window", (json_int_t)h->before.id,
					     "closed", 1, "waited_ms", (json_int_t)(now - h->start)),
				   -1);
		} else {
			chan_reply_error(&w->a->chan, h->id, "not_found",
					 "the window closed before the operation showed", -1);
		}
		return 1;
	}
	if (h->op == WINDOWS_CLOSE && !h->a)
		dlg = winops_dialog(d, h->before.id);
	/* winops_still first: it keeps the record of changes. */
	done = winops_still(h, &n, now) &&
	       (h->op == WINDOWS_CLOSE ? dlg != None : winops_shows(h, &n));
	/* Nothing happened at all: no use waiting out the deadline (a close
	 * does wait: an application may take its time to ask). */
	if (!done && h->op != WINDOWS_CLOSE && !h->changed && now - h->start >= WINOPS_IDLE_MS)
		h->deadline = now;
	if (!done && now < h->deadline) {
		windows_info_free(&n);
		return 0;
	}
	res = json_pack("{sosIsb}", "window", winops_window_json(&n), "waited_ms",
			(json_int_t)(now - h->start), "applied", done);
	if (res && h->op == WINDOWS_CLOSE) {
		json_object_set_new(res, "closed", json_false());
		json_object_set_new(res, "dialog", dlg ? json_integer((json_int_t)dlg) : json_null());
		json_object_del(res, "applied");
	}
	windows_info_free(&n);
	if (!res)
		chan_reply_error(&w->a->chan, h->id, "internal", "out of memory", -1);
	else
		chan_reply(&w->a->chan, h->id, res, -1);
	return 1;
}

void winops_run(struct winops *w)
{
	int64_t now;
	int any = 0;

	if (!w->held)
		return;
	now = input_now_ms();
	for (struct held **pp = &w->held; *pp;) {
		struct held *h = *pp;

		if (!winops_check(w, h, now)) {
			pp = &h->next;
			continue;
		}
		*pp = h->next;
		w->nheld--;
		held_free(h);
		any = 1;
	}
	/* A change nothing on the root announces (above, say) still
	 * becomes a window event. */
	if (any)
		watch_windows_touched(w->a->watch);
}

int winops_timeout_ms(const struct winops *w)
{
	return w->held ? WINOPS_POLL_MS : -1;
}

/* The listed window id, viewable; its info into *wi. */
static int winops_viewable(struct winops *w, Window id, struct windows_info *wi,
			   const char **code, char *err, size_t errlen)
{
	int notfound;

	if (windows_get(w->a->disp, id, wi, &notfound, err, errlen) < 0) {
		*code = notfound ? "not_found" : "internal";
		return -1;
	}
	if (!wi->viewable || (wi->state & WINDOWS_MINIMIZED)) {
		*code = "window_state";
		snprintf(err, errlen, "window %lu is %s: nothing of it is drawn (restore or "
			 "activate it first)", id,
			 wi->state & WINDOWS_MINIMIZED ? "minimized" : "not mapped");
		windows_info_free(wi);
		return -1;
	}
	return 0;
}

/* Our Damage object's events (winops_redirect), and no one else's. */
static Bool winops_is_damage(Display *dpy, XEvent *ev, XPointer arg)
{
	const struct winops *w = (const struct winops *)arg;

	return ev->type == w->a->disp->damage_event + XDamageNotify &&
	       ((XDamageNotifyEvent *)ev)->damage == (Damage)w->probe;
}

/*
 * Redirect every top-level window, once: the first window screenshot
 * pays for it, the desktops that never take one are left as they were.
 * The server redraws nothing itself: each window is exposed and its
 * application repaints it into its new pixmap. Wait for frame's repaint
 * (damage, then WINOPS_STILL_MS without; at most WINOPS_PAINT_MS) so the
 * first image is not empty where the window is covered.
 */
static void winops_redirect(struct winops *w, Window frame)
{
	struct display *d = w->a->disp;
	int64_t start, last = 0, now;
	XEvent ev;

	display_trap_begin(d);
	XCompositeRedirectSubwindows(d->dpy, d->root, CompositeRedirectAutomatic);
	w->probe = XDamageCreate(d->dpy, frame, XDamageReportNonEmpty);
	if (display_trap_end(d)) {
		w->can_composite = 0;   /* another client redirects: no use */
		return;
	}
	w->composite = 1;
	start = now = input_now_ms();
	while (now - start < WINOPS_PAINT_MS &&
	       (!last || now - last < WINOPS_STILL_MS)) {
		struct pollfd p = { .fd = ConnectionNumber(d->dpy), .events = POLLIN };

		if (!XPending(d->dpy))
			poll(&p, 1, WINOPS_POLL_MS);
		while (XCheckIfEvent(d->dpy, &ev, winops_is_damage, (XPointer)w)) {
			last = input_now_ms();
			XDamageSubtract(d->dpy, (Damage)w->probe, None, None);
		}
		now = input_now_ms();
	}
	display_trap_begin(d);
	XDamageDestroy(d->dpy, (Damage)w->probe);
	display_trap_end(d);
	while (XCheckIfEvent(d->dpy, &ev, winops_is_damage, (XPointer)w))
		;
	w->probe = None;
}

int winops_grab(struct winops *w, Window id, uint8_t **pix, size_t *stride,
		int *wd, int *ht, int *sx, int *sy, int *covered_ok,
		const char **code, char *err, size_t errlen)
{
	struct display *d = w->a->disp;
	struct windows_info wi;
	XWindowAttributes fa;
	int rc, depth_ok;

	if (winops_viewable(w, id, &wi, code, err, errlen) < 0)
		return -1;
	*code = "internal";
	*wd = wi.fwidth;
	*ht = wi.fheight;
	*sx = wi.fx;
	*sy = wi.fy;
	display_trap_begin(d);
	depth_ok = XGetWindowAttributes(d->dpy, wi.frame, &fa) &&
		   fa.depth == DefaultDepth(d->dpy, d->screen) && fa.border_width == 0;
	display_trap_end(d);
	if (w->can_composite && !w->composite && depth_ok)
		winops_redirect(w, wi.frame);
	*covered_ok = w->composite && depth_ok;
	if (*covered_ok) {
		rc = capture_grab_window(w->a->cap, wi.frame, 0, 0, *wd, *ht, pix, stride,
					 err, errlen);
	} else {
		/* What the screen shows of it: clipped to the screen. */
		int x0 = wi.fx < 0 ? 0 : wi.fx, y0 = wi.fy < 0 ? 0 : wi.fy;
		int x1 = wi.fx + wi.fwidth, y1 = wi.fy + wi.fheight;

		x1 = x1 > d->width ? d->width : x1;
		y1 = y1 > d->height ? d->height : y1;
		if (x1 <= x0 || y1 <= y0) {
			*code = "window_state";
			snprintf(err, errlen, "window %lu is off the screen", id);
			rc = -1;
		} else {
			*sx = x0;
			*sy = y0;
			*wd = x1 - x0;
			*ht = y1 - y0;
			rc = capture_grab(w->a->cap, x0, y0, *wd, *ht, pix, stride, err, errlen);
		}
	}
	windows_info_free(&wi);
	return rc;
}
