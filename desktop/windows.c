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

/* The top-level window that holds the focus, via the WM or X's focus. */
static Window windows_focused(Display *dpy, Window root)
{
	unsigned long n;
	unsigned char *p = windows_prop(dpy, root, "_NET_ACTIVE_WINDOW", XA_WINDOW, &n);
	Window f = None, parent, r, *kids;
	unsigned nk;
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
	/* Climb to the child of the root. */
	while (f != None && f != PointerRoot && f != root) {
		if (!XQueryTree(dpy, f, &r, &parent, &kids, &nk))
			return None;
		if (kids)
			XFree(kids);
		if (parent == root)
			return f;
		f = parent;
	}
	return None;
}

/* Candidate windows: the WM's client list, or the root's mapped children. */
static Window *windows_candidates(struct display *d, unsigned long *n, int *xfree)
{
	Window r, parent, *kids = NULL, *out;
	unsigned nk, k = 0;
	unsigned char *p = windows_prop(d->dpy, d->root, "_NET_CLIENT_LIST",
					XA_WINDOW, n);

	if (p && *n) {
		*xfree = 1;
		return (Window *)p;   /* format 32 arrives as longs: Window-sized */
	}
	if (p)
		XFree(p);
	*xfree = 0;
	*n = 0;
	if (!XQueryTree(d->dpy, d->root, &r, &parent, &kids, &nk))
		return NULL;
	out = calloc(nk ? nk : 1, sizeof *out);
	for (unsigned i = 0; out && i < nk; i++) {
		XWindowAttributes wa;

		if (XGetWindowAttributes(d->dpy, kids[i], &wa) &&
		    wa.map_state == IsViewable && !wa.override_redirect &&
		    wa.class == InputOutput)
			out[k++] = kids[i];
	}
	if (kids)
		XFree(kids);
	*n = k;
	return out;
}

static int windows_one(struct display *d, Window w, Window focus,
		       struct windows_info *wi)
{
	XWindowAttributes wa;
	Window child;
	unsigned long n;
	unsigned char *pid;

	if (!XGetWindowAttributes(d->dpy, w, &wa) ||
	    !XTranslateCoordinates(d->dpy, w, d->root, 0, 0, &wi->x, &wi->y, &child))
		return -1;
	wi->id = w;
	wi->width = wa.width;
	wi->height = wa.height;
	wi->focused = w == focus;
	pid = windows_prop(d->dpy, w, "_NET_WM_PID", XA_CARDINAL, &n);
	wi->pid = pid && n ? (long)((unsigned long *)pid)[0] : 0;
	if (pid)
		XFree(pid);
	wi->title = windows_title(d->dpy, w);
	return wi->title ? 0 : -1;
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
			free((*out)[k].title);
			memset(&(*out)[k], 0, sizeof **out);
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

void windows_free(struct windows_info *w, int n)
{
	for (int i = 0; w && i < n; i++)
		free(w[i].title);
	free(w);
}

static int windows_wm_activates(struct display *d)
{
	Atom want = XInternAtom(d->dpy, "_NET_ACTIVE_WINDOW", False);
	unsigned long n;
	unsigned char *p = windows_prop(d->dpy, d->root, "_NET_SUPPORTED", XA_ATOM, &n);
	int yes = 0;

	for (unsigned long i = 0; p && i < n; i++)
		yes |= ((unsigned long *)p)[i] == want;
	if (p)
		XFree(p);
	return yes;
}

static void windows_client_message(struct display *d, Window w, const char *type,
				   long l0, long l1)
{
	XEvent ev;

	memset(&ev, 0, sizeof ev);
	ev.xclient.type = ClientMessage;
	ev.xclient.window = w;
	ev.xclient.message_type = XInternAtom(d->dpy, type, False);
	ev.xclient.format = 32;
	ev.xclient.data.l[0] = l0;
	ev.xclient.data.l[1] = l1;
	XSendEvent(d->dpy, d->root, False,
		   SubstructureNotifyMask | SubstructureRedirectMask, &ev);
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
	if (windows_wm_activates(d)) {
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
