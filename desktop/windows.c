/*
 * windows.c - list and focus top-level windows. See windows.h.
 *
 * Windows can vanish between two requests about them: every query runs
 * under the display's error trap and a window that errors is skipped.
 * Activation is the EWMH client message, written here rather than taken
 * from libxdo: xdo_new leaks an XKB keymap, calls setlocale, and searches
 * titles by regular expression, where a title like "Report (1)" is not a
 * plain substring.
 * Owns nothing beyond the lists it returns. No global state.
 */
#include "windows.h"

#include <X11/Xatom.h>
#include <X11/Xutil.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A whole property, or NULL. The caller XFrees it. */
static unsigned char *windows_prop(Display *dpy, Window w, const char *name,
				   Atom type, unsigned long *n)
{
	Atom actual, a = XInternAtom(dpy, name, True);
	unsigned long after;
	unsigned char *data = NULL;
	int fmt;

	*n = 0;
	if (a == None ||
	    XGetWindowProperty(dpy, w, a, 0, 1 << 20, False, type, &actual, &fmt,
			       n, &after, &data) != Success)
		return NULL;
	if (actual != type && data) {
		XFree(data);
		data = NULL;
		*n = 0;
	}
	return data;
}

/* Latin-1 bytes to a new UTF-8 string. */
static char *windows_latin1(const unsigned char *s, size_t n)
{
	char *r = malloc(n * 2 + 1), *p = r;

	if (!r)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < 0x80) {
			*p++ = (char)s[i];
		} else {
			*p++ = (char)(0xc0 | s[i] >> 6);
			*p++ = (char)(0x80 | (s[i] & 0x3f));
		}
	}
	*p = 0;
	return r;
}

static char *windows_title(Display *dpy, Window w)
{
	Atom utf8 = XInternAtom(dpy, "UTF8_STRING", False);
	unsigned long n;
	unsigned char *s = windows_prop(dpy, w, "_NET_WM_NAME", utf8, &n);
	XTextProperty tp;
	char *r = NULL, **list;
	int count;

	if (s) {
		r = strndup((char *)s, n);
		XFree(s);
		return r;
	}
	if (!XGetWMName(dpy, w, &tp) || !tp.value)
		return strdup("");
	if (tp.encoding == XA_STRING) {
		r = windows_latin1(tp.value, tp.nitems);
	} else if (tp.encoding == utf8) {
		r = strndup((char *)tp.value, tp.nitems);
	} else if (Xutf8TextPropertyToTextList(dpy, &tp, &list, &count) >= Success &&
		   count > 0) {
		r = strdup(list[0]);
		XFreeStringList(list);
	}
	XFree(tp.value);
	return r ? r : strdup("");
}

/*
 * The child of the root that holds w (its frame under a reparenting WM), or
 * None for None, PointerRoot, the root itself, a window that errors, or one
 * nested deeper than any real toolkit nests (the bound keeps a hostile or
 * racing client from costing more than that many round trips).
 */
static Window windows_frame(Display *dpy, Window root, Window w)
{
	Window r, parent, *kids;
	unsigned nk;

	for (int depth = 0; depth < 32; depth++) {
		if (w == None || w == PointerRoot || w == root)
			return None;
		if (!XQueryTree(dpy, w, &r, &parent, &kids, &nk))
			return None;
		if (kids)
			XFree(kids);
		if (parent == root)
			return w;
		w = parent;
	}
	return None;
}

/* The top-level window that holds the focus, via the WM or X's focus. */
static Window windows_focused(Display *dpy, Window root)
{
	unsigned long n;
	unsigned char *p = windows_prop(dpy, root, "_NET_ACTIVE_WINDOW", XA_WINDOW, &n);
	Window f = None, r;
	int rev;

	if (p) {
		if (n)
			f = (Window)((unsigned long *)p)[0];
		XFree(p);
		return f;
	}
	XGetInputFocus(dpy, &f, &rev);
	if (f == PointerRoot) {   /* keys go to the window under the pointer */
		int rx, ry, wx, wy;
		unsigned mask;

		if (!XQueryPointer(dpy, root, &r, &f, &rx, &ry, &wx, &wy, &mask))
			return None;
	}
	return windows_frame(dpy, root, f);
}

/* WM_STATE's state (ICCCM: 0 Withdrawn, 1 Normal, 3 Iconic), or -1. */
static long windows_wm_state(Display *dpy, Window w)
{
	Atom a = XInternAtom(dpy, "WM_STATE", False);
	unsigned long n;
	unsigned char *p = windows_prop(dpy, w, "WM_STATE", a, &n);
	long st = p && n ? (long)((unsigned long *)p)[0] : -1;

	if (p)
		XFree(p);
	return st;
}

/* Candidate windows: the WM's client list, or the root's children that
 * are mapped or that we minimized (windows_request without a WM). A WM's
 * empty list is still its answer: a window it has not adopted yet is a
 * mapped child of the root for a moment, and the WM's reparenting takes
 * it away at once (a window.* call on it then said it had closed). */
static Window *windows_candidates(struct display *d, unsigned long *n, int *xfree)
{
	Window r, parent, *kids = NULL, *out;
	unsigned nk, k = 0;
	unsigned char *p = windows_prop(d->dpy, d->root, "_NET_CLIENT_LIST",
					XA_WINDOW, n);

	if (p) {
		*xfree = 1;
		return (Window *)p;   /* format 32 arrives as longs: Window-sized */
	}
	*xfree = 0;
	*n = 0;
	if (!XQueryTree(d->dpy, d->root, &r, &parent, &kids, &nk))
		return NULL;
	out = calloc(nk ? nk : 1, sizeof *out);
	for (unsigned i = 0; out && i < nk; i++) {
		XWindowAttributes wa;

		if (XGetWindowAttributes(d->dpy, kids[i], &wa) &&
		    !wa.override_redirect && wa.class == InputOutput &&
		    (wa.map_state == IsViewable ||
		     windows_wm_state(d->dpy, kids[i]) == IconicState))
			out[k++] = kids[i];
	}
	if (kids)
		XFree(kids);
	*n = k;
	return out;
}

static void windows_class(Display *dpy, Window w, struct windows_info *wi)
{
	XClassHint ch = {0};

	if (XGetClassHint(dpy, w, &ch)) {
		wi->instance = strdup(ch.res_name ? ch.res_name : "");
		wi->class = strdup(ch.res_class ? ch.res_class : "");
		if (ch.res_name)
			XFree(ch.res_name);
		if (ch.res_class)
			XFree(ch.res_class);
	} else {
		wi->instance = strdup("");
		wi->class = strdup("");
	}
}

/* The _NET_WM_STATE atoms we report and ask for, in this order. */
static const char *const windows_state_names[] = {
	"_NET_WM_STATE_HIDDEN", "_NET_WM_STATE_MAXIMIZED_VERT",
	"_NET_WM_STATE_MAXIMIZED_HORZ", "_NET_WM_STATE_FULLSCREEN",
	"_NET_WM_STATE_ABOVE",
};
#define WINDOWS_NSTATES 5

/* _NET_WM_STATE's flags we report, and WM_STATE Iconic as minimized. */
static unsigned windows_state(Display *dpy, Window w)
{
	Atom atoms[WINDOWS_NSTATES];
	unsigned long n;
	unsigned char *p = windows_prop(dpy, w, "_NET_WM_STATE", XA_ATOM, &n);
	unsigned st = 0, seen = 0;

	for (int i = 0; i < WINDOWS_NSTATES; i++)
		atoms[i] = XInternAtom(dpy, windows_state_names[i], False);
	for (unsigned long i = 0; p && i < n; i++)
		for (int k = 0; k < WINDOWS_NSTATES; k++)
			if (((unsigned long *)p)[i] == atoms[k])
				seen |= 1u << k;
	if (p)
		XFree(p);
	if (seen & 1u)
		st |= WINDOWS_MINIMIZED;
	if ((seen & 6u) == 6u)
		st |= WINDOWS_MAXIMIZED;
	if (seen & 8u)
		st |= WINDOWS_FULLSCREEN;
	if (seen & 16u)
		st |= WINDOWS_ABOVE;
	if (windows_wm_state(dpy, w) == IconicState)
		st |= WINDOWS_MINIMIZED;
	return st;
}

static int windows_one(struct display *d, Window w, Window focus,
		       struct windows_info *wi)
{
	XWindowAttributes wa, fa;
	Window child, tf = None;
	unsigned long n;
	unsigned char *p;

	if (!XGetWindowAttributes(d->dpy, w, &wa) ||
	    !XTranslateCoordinates(d->dpy, w, d->root, 0, 0, &wi->x, &wi->y, &child))
		return -1;
	wi->id = w;
	wi->width = wa.width;
	wi->height = wa.height;
	wi->viewable = wa.map_state == IsViewable;
	wi->focused = w == focus;
	wi->frame = windows_frame(d->dpy, d->root, w);
	if (wi->frame == None || !XGetWindowAttributes(d->dpy, wi->frame, &fa))
		return -1;
	wi->frame_viewable = fa.map_state == IsViewable;
	wi->fx = fa.x;
	wi->fy = fa.y;
	wi->fwidth = fa.width + 2 * fa.border_width;
	wi->fheight = fa.height + 2 * fa.border_width;
	p = windows_prop(d->dpy, w, "_NET_WM_PID", XA_CARDINAL, &n);
	wi->pid = p && n ? (long)((unsigned long *)p)[0] : 0;
	if (p)
		XFree(p);
	p = windows_prop(d->dpy, w, "_NET_WM_DESKTOP", XA_CARDINAL, &n);
	wi->workspace = !p || !n ? -2 : ((unsigned long *)p)[0] == 0xffffffffUL ? -1 :
		(long)(((unsigned long *)p)[0] & 0xffffffffUL);
	if (p)
		XFree(p);
	wi->state = windows_state(d->dpy, w);
	if (XGetTransientForHint(d->dpy, w, &tf))
		wi->transient_for = tf;
	windows_class(d->dpy, w, wi);
	wi->title = windows_title(d->dpy, w);
	return wi->title && wi->class && wi->instance ? 0 : -1;
}

int windows_list(struct display *d, struct windows_info **out, int *n,
		 char *err, size_t errlen)
{
	unsigned long nc = 0;
	int xfree = 0, k = 0;
	Window *cand, focus;

	display_trap_begin(d);
	focus = windows_focused(d->dpy, d->root);
	cand = windows_candidates(d, &nc, &xfree);
	display_trap_end(d);
	*out = calloc(nc ? nc : 1, sizeof **out);
	if (!*out) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (unsigned long i = 0; i < nc; i++) {
		int bad;

		display_trap_begin(d);
		bad = windows_one(d, cand[i], focus, &(*out)[k]) < 0;
		if (display_trap_end(d) || bad) {
			windows_info_free(&(*out)[k]);
		} else {
			k++;
		}
	}
	*n = k;
	if (xfree)
		XFree(cand);
	else
		free(cand);
	return 0;
fail:
	if (cand && xfree)
		XFree(cand);
	else
		free(cand);
	return -1;
}

void windows_info_free(struct windows_info *w)
{
	free(w->title);
	free(w->class);
	free(w->instance);
	memset(w, 0, sizeof *w);
}

void windows_free(struct windows_info *w, int n)
{
	for (int i = 0; w && i < n; i++)
		windows_info_free(&w[i]);
	free(w);
}

/* Whether the window manager supports the _NET atom name. */
static int windows_wm_supports(struct display *d, const char *name)
{
	Atom want = XInternAtom(d->dpy, name, False);
	unsigned long n;
	unsigned char *p = windows_prop(d->dpy, d->root, "_NET_SUPPORTED", XA_ATOM, &n);
	int yes = 0;

	for (unsigned long i = 0; p && i < n; i++)
		yes |= ((unsigned long *)p)[i] == want;
	if (p)
		XFree(p);
	return yes;
}

/* A client message about w to the window manager (sent to the root). */
static void windows_message5(struct display *d, Window w, const char *type,
			     long l0, long l1, long l2, long l3, long l4)
{
	XEvent ev;

	memset(&ev, 0, sizeof ev);
	ev.xclient.type = ClientMessage;
	ev.xclient.window = w;
	ev.xclient.message_type = XInternAtom(d->dpy, type, False);
	ev.xclient.format = 32;
	ev.xclient.data.l[0] = l0;
	ev.xclient.data.l[1] = l1;
	ev.xclient.data.l[2] = l2;
	ev.xclient.data.l[3] = l3;
	ev.xclient.data.l[4] = l4;
	XSendEvent(d->dpy, d->root, False,
		   SubstructureNotifyMask | SubstructureRedirectMask, &ev);
}

static void windows_client_message(struct display *d, Window w, const char *type,
				   long l0, long l1)
{
	windows_message5(d, w, type, l0, l1, 0, 0, 0);
}

/* Ask the window manager to show and activate w (source 2: a pager, which
 * WMs obey without focus-stealing checks). */
static void windows_activate(struct display *d, Window w)
{
	unsigned long n;
	unsigned char *p = windows_prop(d->dpy, w, "_NET_WM_DESKTOP", XA_CARDINAL, &n);

	if (p && n && ((unsigned long *)p)[0] != 0xffffffffUL)
		windows_client_message(d, d->root, "_NET_CURRENT_DESKTOP",
				       (long)((unsigned long *)p)[0], CurrentTime);
	if (p)
		XFree(p);
	windows_client_message(d, w, "_NET_ACTIVE_WINDOW", 2, CurrentTime);
}

/* Case-insensitive (ASCII) substring search. */
static int windows_match(const char *hay, const char *needle)
{
	return strcasestr(hay, needle) != NULL;
}

int windows_focus(struct display *d, Window id, const char *title,
		  Window *found, int *notfound, char *err, size_t errlen)
{
	struct windows_info *wl;
	Window w = None;
	int n, code;

	*notfound = 0;
	if (windows_list(d, &wl, &n, err, errlen) < 0)
		return -1;
	for (int i = 0; i < n && w == None; i++)
		if (id ? wl[i].id == id : windows_match(wl[i].title, title))
			w = wl[i].id;
	windows_free(wl, n);
	if (w == None) {
		*notfound = 1;
		if (id)
			snprintf(err, errlen, "no top-level window 0x%lx", id);
		else
			snprintf(err, errlen, "no window title contains '%.80s'", title);
		return -1;
	}
	display_trap_begin(d);
	if (windows_wm_supports(d, "_NET_ACTIVE_WINDOW")) {
		windows_activate(d, w);
	} else {
		XRaiseWindow(d->dpy, w);
		XSetInputFocus(d->dpy, w, RevertToParent, CurrentTime);
	}
	code = display_trap_end(d);
	if (code) {
		snprintf(err, errlen, "focusing window 0x%lx failed (X error %d)", w, code);
		return -1;
	}
	*found = w;
	return 0;
}

int windows_get(struct display *d, Window id, struct windows_info *out,
		int *notfound, char *err, size_t errlen)
{
	struct windows_info *wl;
	int n, found = -1;

	*notfound = 0;
	memset(out, 0, sizeof *out);
	if (windows_list(d, &wl, &n, err, errlen) < 0)
		return -1;
	for (int i = 0; i < n && found < 0; i++)
		if (wl[i].id == id)
			found = i;
	if (found < 0) {
		windows_free(wl, n);
		*notfound = 1;
		snprintf(err, errlen, "no top-level window %lu (0x%lx) on this desktop", id, id);
		return -1;
	}
	*out = wl[found];
	memset(&wl[found], 0, sizeof wl[found]);
	windows_free(wl, n);
	return 0;
}

int windows_wm_lists(struct display *d)
{
	unsigned long n;
	unsigned char *p = windows_prop(d->dpy, d->root, "_NET_CLIENT_LIST", XA_WINDOW, &n);

	if (p)
		XFree(p);
	return p != NULL;
}

int windows_have_wm(struct display *d)
{
	unsigned long n;
	unsigned char *p = windows_prop(d->dpy, d->root, "_NET_SUPPORTING_WM_CHECK",
					XA_WINDOW, &n);
	int yes = p && n;

	if (p)
		XFree(p);
	return yes;
}

/* Whether w lists WM_DELETE_WINDOW in WM_PROTOCOLS. */
static int windows_takes_delete(struct display *d, Window w)
{
	Atom del = XInternAtom(d->dpy, "WM_DELETE_WINDOW", False), *protos = NULL;
	int n = 0, yes = 0;

	if (XGetWMProtocols(d->dpy, w, &protos, &n)) {
		for (int i = 0; i < n; i++)
			yes |= protos[i] == del;
		XFree(protos);
	}
	return yes;
}

/* ICCCM's WM_DELETE_WINDOW message, sent to the client itself. */
static void windows_send_delete(struct display *d, Window w)
{
	XEvent ev;

	memset(&ev, 0, sizeof ev);
	ev.xclient.type = ClientMessage;
	ev.xclient.window = w;
	ev.xclient.message_type = XInternAtom(d->dpy, "WM_PROTOCOLS", False);
	ev.xclient.format = 32;
	ev.xclient.data.l[0] = (long)XInternAtom(d->dpy, "WM_DELETE_WINDOW", False);
	ev.xclient.data.l[1] = CurrentTime;
	XSendEvent(d->dpy, w, False, NoEventMask, &ev);
}

/* Without a WM: set or clear _NET_WM_STATE's maximized atoms ourselves so
 * the list reports what we did. */
static void windows_set_max_prop(struct display *d, Window w, int on)
{
	Atom st = XInternAtom(d->dpy, "_NET_WM_STATE", False);
	Atom v = XInternAtom(d->dpy, windows_state_names[1], False);
	Atom h = XInternAtom(d->dpy, windows_state_names[2], False);
	unsigned long n, k = 0;
	unsigned char *p = windows_prop(d->dpy, w, "_NET_WM_STATE", XA_ATOM, &n);
	Atom keep[34];

	for (unsigned long i = 0; p && i < n && k < 32; i++)
		if (((unsigned long *)p)[i] != v && ((unsigned long *)p)[i] != h)
			keep[k++] = ((unsigned long *)p)[i];
	if (p)
		XFree(p);
	if (on) {
		keep[k++] = v;
		keep[k++] = h;
	}
	XChangeProperty(d->dpy, w, st, XA_ATOM, 32, PropModeReplace,
			(unsigned char *)keep, (int)k);
}

/* Without a WM: WM_STATE as a window manager would set it. */
static void windows_set_wm_state(struct display *d, Window w, long state)
{
	Atom a = XInternAtom(d->dpy, "WM_STATE", False);
	long v[2] = { state, None };

	XChangeProperty(d->dpy, w, a, a, 32, PropModeReplace, (unsigned char *)v, 2);
}

/* Where we keep a window's size before we maximized it (no WM only). */
#define WINDOWS_SAVED "_DESKBOX_RESTORE_GEOMETRY"

static void windows_nowm(struct display *d, const struct windows_info *now,
			 enum windows_op op, int a, int b)
{
	Window w = now->id;
	unsigned long n;
	unsigned char *p;

	switch (op) {
	case WINDOWS_ACTIVATE:
		if (now->state & WINDOWS_MINIMIZED)
			windows_set_wm_state(d, w, NormalState);
		XMapRaised(d->dpy, w);
		XSetInputFocus(d->dpy, w, RevertToParent, CurrentTime);
		break;
	case WINDOWS_MOVE:
		/* x, y name the client area, inside the border. */
		XMoveWindow(d->dpy, w, a - (now->x - now->fx), b - (now->y - now->fy));
		break;
	case WINDOWS_RESIZE:
		XResizeWindow(d->dpy, w, (unsigned)a, (unsigned)b);
		break;
	case WINDOWS_MINIMIZE:
		windows_set_wm_state(d, w, IconicState);
		XUnmapWindow(d->dpy, w);
		break;
	case WINDOWS_MAXIMIZE: {
		XWindowAttributes wa;
		long g[4] = { now->x, now->y, now->width, now->height };

		if (now->state & WINDOWS_MAXIMIZED || !XGetWindowAttributes(d->dpy, w, &wa))
			break;
		XChangeProperty(d->dpy, w, XInternAtom(d->dpy, WINDOWS_SAVED, False),
				XA_CARDINAL, 32, PropModeReplace, (unsigned char *)g, 4);
		XMoveResizeWindow(d->dpy, w, 0, 0,
				  (unsigned)(d->width - 2 * wa.border_width),
				  (unsigned)(d->height - 2 * wa.border_width));
		windows_set_max_prop(d, w, 1);
		break;
	}
	case WINDOWS_RESTORE:
		if (now->state & WINDOWS_MINIMIZED) {
			windows_set_wm_state(d, w, NormalState);
			XMapWindow(d->dpy, w);
		}
		p = windows_prop(d->dpy, w, WINDOWS_SAVED, XA_CARDINAL, &n);
		if (p && n == 4) {
			unsigned long *g = (unsigned long *)p;

			XMoveResizeWindow(d->dpy, w, (int)(long)g[0], (int)(long)g[1],
					  (unsigned)g[2] ? (unsigned)g[2] : 1,
					  (unsigned)g[3] ? (unsigned)g[3] : 1);
		}
		if (p)
			XFree(p);
		XDeleteProperty(d->dpy, w, XInternAtom(d->dpy, WINDOWS_SAVED, False));
		if (now->state & WINDOWS_MAXIMIZED)
			windows_set_max_prop(d, w, 0);
		break;
	case WINDOWS_CLOSE:
		break;
	}
}

/* _NET_WM_STATE's action: 0 remove, 1 add; source 2 (a pager). */
static void windows_net_state(struct display *d, Window w, long action,
			      const char *s1, const char *s2)
{
	windows_message5(d, w, "_NET_WM_STATE", action,
			 (long)XInternAtom(d->dpy, s1, False),
			 s2 ? (long)XInternAtom(d->dpy, s2, False) : 0, 2, 0);
}

static void windows_wm(struct display *d, const struct windows_info *now,
		       enum windows_op op, int a, int b)
{
	Window w = now->id;
	/* _NET_MOVERESIZE_WINDOW with NorthWestGravity (1): x, y place the
	 * frame, so the client area's x, y (what the list reports and the
	 * caller names) less the decorations' offset; source 2. */
	long flags = 1 | 2L << 12;

	switch (op) {
	case WINDOWS_ACTIVATE:
		windows_activate(d, w);
		break;
	case WINDOWS_MOVE:
		windows_message5(d, w, "_NET_MOVERESIZE_WINDOW", flags | 1L << 8 | 1L << 9,
				 a - (now->x - now->fx), b - (now->y - now->fy), 0, 0);
		break;
	case WINDOWS_RESIZE:
		windows_message5(d, w, "_NET_MOVERESIZE_WINDOW", flags | 1L << 10 | 1L << 11,
				 0, 0, a, b);
		break;
	case WINDOWS_MINIMIZE:
		XIconifyWindow(d->dpy, w, d->screen);
		break;
	case WINDOWS_MAXIMIZE:
		if (now->state & WINDOWS_MINIMIZED)
			XMapWindow(d->dpy, w);
		windows_net_state(d, w, 1, windows_state_names[1], windows_state_names[2]);
		break;
	case WINDOWS_RESTORE:
		/* ICCCM: a client leaves the Iconic state by mapping. */
		if (now->state & WINDOWS_MINIMIZED)
			XMapWindow(d->dpy, w);
		if (now->state & WINDOWS_FULLSCREEN)
			windows_net_state(d, w, 0, windows_state_names[3], NULL);
		windows_net_state(d, w, 0, windows_state_names[1], windows_state_names[2]);
		break;
	case WINDOWS_CLOSE:
		break;
	}
}

int windows_request(struct display *d, const struct windows_info *now,
		    enum windows_op op, int a, int b, int *conflict, char *err,
		    size_t errlen)
{
	int code, wm;

	*conflict = 0;
	display_trap_begin(d);
	wm = windows_have_wm(d);
	if (op == WINDOWS_CLOSE && a) {
		/* The X server closes the client's connection; Xlib clients
		 * exit on that. The pid is the client's word: not used. */
		XKillClient(d->dpy, now->id);
	} else if (op == WINDOWS_CLOSE) {
		if (wm && windows_wm_supports(d, "_NET_CLOSE_WINDOW")) {
			windows_message5(d, now->id, "_NET_CLOSE_WINDOW", CurrentTime, 2, 0, 0, 0);
		} else if (windows_takes_delete(d, now->id)) {
			windows_send_delete(d, now->id);
		} else {
			display_trap_end(d);
			*conflict = 1;
			snprintf(err, errlen, "window %lu takes no WM_DELETE_WINDOW, so it cannot "
				 "be asked to close: use force", now->id);
			return -1;
		}
	} else if (wm) {
		windows_wm(d, now, op, a, b);
	} else {
		windows_nowm(d, now, op, a, b);
	}
	XFlush(d->dpy);
	code = display_trap_end(d);
	if (code) {
		snprintf(err, errlen, "window %lu: the request failed (X error %d; it may "
			 "have just closed)", now->id, code);
		return -1;
	}
	return 0;
}
