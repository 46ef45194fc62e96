/*
 * clipboard.c - CLIPBOARD owner and requestor. See clipboard.h.
 *
 * Owns an unmapped 1x1 window (the selection owner and the property
 * target of our own requests) and the text we offer. Reading blocks the
 * loop for at most CLIPBOARD_TIMEOUT_MS on an owner that does not answer.
 * No global state.
 */
#include "clipboard.h"

#include <X11/Xatom.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "keys.h"

struct clipboard {
	struct display *d;
	Window win;
	Atom clipboard, utf8, targets, text, incr, timestamp, prop, probe;
	char *data;          /* what we offer, UTF-8 */
	size_t len;
	int owned;
	Time owned_at;
};

struct clipboard *clipboard_create(struct display *d, char *err, size_t errlen)
{
	struct clipboard *c = calloc(1, sizeof *c);
	Display *dpy = d->dpy;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->d = d;
	c->win = XCreateSimpleWindow(dpy, d->root, -10, -10, 1, 1, 0, 0, 0);
	XSelectInput(dpy, c->win, PropertyChangeMask);
	XStoreName(dpy, c->win, "deskbox-desktop clipboard");
	c->clipboard = XInternAtom(dpy, "CLIPBOARD", False);
	c->utf8 = XInternAtom(dpy, "UTF8_STRING", False);
	c->targets = XInternAtom(dpy, "TARGETS", False);
	c->text = XInternAtom(dpy, "TEXT", False);
	c->incr = XInternAtom(dpy, "INCR", False);
	c->timestamp = XInternAtom(dpy, "TIMESTAMP", False);
	c->prop = XInternAtom(dpy, "DESKBOX_SELECTION", False);
	c->probe = XInternAtom(dpy, "DESKBOX_TIMESTAMP", False);
	return c;
}

void clipboard_destroy(struct clipboard *c)
{
	if (!c)
		return;
	free(c->data);
	free(c);
}

static Bool clipboard_is_probe(Display *dpy, XEvent *ev, XPointer arg)
{
	const struct clipboard *c = (const struct clipboard *)arg;

	return ev->type == PropertyNotify && ev->xproperty.window == c->win &&
	       ev->xproperty.atom == c->probe;
}

/* A server timestamp (ICCCM: never CurrentTime for ownership): touch a
 * property of our own, read the time off its PropertyNotify. */
static Time clipboard_now(struct clipboard *c)
{
	XEvent ev;

	XChangeProperty(c->d->dpy, c->win, c->probe, XA_STRING, 8, PropModeAppend,
			(const unsigned char *)"", 0);
	XIfEvent(c->d->dpy, &ev, clipboard_is_probe, (XPointer)c);
	return ev.xproperty.time;
}

int clipboard_set(struct clipboard *c, const char *text, size_t len,
		  char *err, size_t errlen)
{
	Display *dpy = c->d->dpy;
	long max = XExtendedMaxRequestSize(dpy);
	char *copy;

	if (!max)
		max = XMaxRequestSize(dpy);
	if ((long)len > max * 4 - 1024) {
		snprintf(err, errlen, "text is over %ld bytes", max * 4 - 1024);
		return -1;
	}
	copy = malloc(len + 1);
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(copy, text, len);
	copy[len] = 0;
	c->owned_at = clipboard_now(c);
	XSetSelectionOwner(dpy, c->clipboard, c->win, c->owned_at);
	if (XGetSelectionOwner(dpy, c->clipboard) != c->win) {
		free(copy);
		snprintf(err, errlen, "could not take the CLIPBOARD selection");
		return -1;
	}
	free(c->data);
	c->data = copy;
	c->len = len;
	c->owned = 1;
	return 0;
}

/* Our UTF-8 as Latin-1 for STRING requests; '?' for what it lacks. */
char *clipboard_latin1(const char *s, size_t len, size_t *out)
{
	char *r = malloc(len + 1);
	size_t i = 0, n = 0;
	uint32_t cp;

	if (!r)
		return NULL;
	while (i < len) {
		int k = keys_utf8_next(s + i, len - i, &cp);

		if (k < 0) {
			k = 1;
			cp = '?';
		}
		r[n++] = cp < 0x100 ? (char)cp : '?';
		i += (size_t)k;
	}
	r[n] = 0;
	*out = n;
	return r;
}

static Atom clipboard_answer(struct clipboard *c, XSelectionRequestEvent *rq,
			     Atom prop)
{
	Display *dpy = c->d->dpy;

	if (rq->target == c->targets) {
		Atom t[] = {c->targets, c->utf8, XA_STRING, c->text, c->timestamp};

		XChangeProperty(dpy, rq->requestor, prop, XA_ATOM, 32, PropModeReplace,
				(unsigned char *)t, (int)(sizeof t / sizeof *t));
	} else if (rq->target == c->timestamp) {
		long t = (long)c->owned_at;

		XChangeProperty(dpy, rq->requestor, prop, XA_INTEGER, 32,
				PropModeReplace, (unsigned char *)&t, 1);
	} else if (rq->target == c->utf8 || rq->target == c->text) {
		XChangeProperty(dpy, rq->requestor, prop, c->utf8, 8, PropModeReplace,
				(unsigned char *)c->data, (int)c->len);
	} else if (rq->target == XA_STRING) {
		size_t n;
		char *l1 = clipboard_latin1(c->data, c->len, &n);

		if (!l1)
			return None;
		XChangeProperty(dpy, rq->requestor, prop, XA_STRING, 8, PropModeReplace,
				(unsigned char *)l1, (int)n);
		free(l1);
	} else {
		return None;
	}
	return prop;
}

int clipboard_handle(struct clipboard *c, XEvent *ev)
{
	if (ev->type == SelectionClear) {
		if (ev->xselectionclear.window != c->win ||
		    ev->xselectionclear.selection != c->clipboard)
			return 0;
		c->owned = 0;
		free(c->data);
		c->data = NULL;
		c->len = 0;
		return 1;
	}
	if (ev->type == SelectionRequest) {
		XSelectionRequestEvent *rq = &ev->xselectionrequest;
		XSelectionEvent re = {
			.type = SelectionNotify, .display = rq->display,
			.requestor = rq->requestor, .selection = rq->selection,
			.target = rq->target, .property = None, .time = rq->time,
		};
		/* Obsolete clients leave the property None: use the target. */
		Atom prop = rq->property != None ? rq->property : rq->target;

		if (rq->owner != c->win)
			return 0;
		display_trap_begin(c->d);
		if (c->owned && rq->selection == c->clipboard &&
		    (rq->time == CurrentTime || rq->time >= c->owned_at))
			re.property = clipboard_answer(c, rq, prop);
		XSendEvent(c->d->dpy, rq->requestor, False, 0, (XEvent *)&re);
		display_trap_end(c->d);   /* the requestor may be gone */
		return 1;
	}
	return ev->type == PropertyNotify && ev->xproperty.window == c->win;
}

/* Wait for an event of type on our window (and, for PropertyNotify, a
 * new value of our property) until deadline. Returns 0, or -1 on timeout. */
static int clipboard_wait(struct clipboard *c, int type, int64_t deadline,
			  XEvent *ev)
{
	Display *dpy = c->d->dpy;

	for (;;) {
		while (XCheckTypedWindowEvent(dpy, c->win, type, ev))
			if (type != PropertyNotify ||
			    (ev->xproperty.atom == c->prop &&
			     ev->xproperty.state == PropertyNewValue))
				return 0;
		int64_t left = deadline - input_now_ms();
		struct pollfd pfd = {.fd = ConnectionNumber(dpy), .events = POLLIN};

		if (left <= 0)
			return -1;
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			return -1;
	}
}

struct clipboard_buf {
	char *p;
	size_t len;
	Atom type;
};

/* Read and delete our property, appending its bytes to b. Returns the
 * number of bytes read, or -1. Sets b->type; *is_incr for an INCR start. */
static long clipboard_take(struct clipboard *c, struct clipboard_buf *b,
			   int *is_incr)
{
	unsigned char *data = NULL;
	unsigned long n, after;
	Atom type;
	int fmt;
	char *p;

	*is_incr = 0;
	if (XGetWindowProperty(c->d->dpy, c->win, c->prop, 0, CLIPBOARD_MAX / 4,
			       True, AnyPropertyType, &type, &fmt, &n, &after,
			       &data) != Success)
		return -1;
	if (type == c->incr) {
		XFree(data);
		*is_incr = 1;
		return 0;
	}
	if (type != None)
		b->type = type;
	if (fmt != 8 || after) {
		if (data)
			XFree(data);
		return n ? -1 : 0;
	}
	if (b->len + n > CLIPBOARD_MAX || !(p = realloc(b->p, b->len + n + 1))) {
		XFree(data);
		return -1;
	}
	memcpy(p + b->len, data, n);
	b->p = p;
	b->len += n;
	b->p[b->len] = 0;
	XFree(data);
	return (long)n;
}

/* Bytes to UTF-8: Latin-1 for STRING, else checked UTF-8 with U+FFFD. */
char *clipboard_to_utf8(const char *s, size_t len, int latin1, size_t *out)
{
	char *r = malloc(len * 3 + 1);
	size_t n = 0;
	uint32_t cp;

	if (!r)
		return NULL;
	for (size_t i = 0; i < len;) {
		int k = latin1 ? 1 : keys_utf8_next(s + i, len - i, &cp);

		if (latin1)
			cp = (unsigned char)s[i];
		if (k < 0 || (!latin1 && cp == 0)) {
			memcpy(r + n, "\xef\xbf\xbd", 3);
			n += 3;
			i++;
			continue;
		}
		if (!latin1) {
			memcpy(r + n, s + i, (size_t)k);
			n += (size_t)k;
		} else if (cp < 0x80) {
			r[n++] = (char)(cp ? cp : '?');
		} else {
			r[n++] = (char)(0xc0 | cp >> 6);
			r[n++] = (char)(0x80 | (cp & 0x3f));
		}
		i += (size_t)k;
	}
	r[n] = 0;
	*out = n;
	return r;
}

/* Ask the owner for target; fill b. 0 ok, 1 refused, -1 error. */
static int clipboard_convert(struct clipboard *c, Atom target,
			     struct clipboard_buf *b, char *err, size_t errlen)
{
	int64_t deadline = input_now_ms() + CLIPBOARD_TIMEOUT_MS;
	XEvent ev;
	int incr;
	long n;

	XDeleteProperty(c->d->dpy, c->win, c->prop);
	XConvertSelection(c->d->dpy, c->clipboard, target, c->prop, c->win, CurrentTime);
	if (clipboard_wait(c, SelectionNotify, deadline, &ev) < 0)
		goto timeout;
	if (ev.xselection.property == None)
		return 1;
	n = clipboard_take(c, b, &incr);
	if (n < 0)
		goto unreadable;
	if (!incr)
		return 0;
	/* INCR: chunks follow, each announced by a new value of the
	 * property; notices queued before the transfer started are stale
	 * (clipboard_take's round trip has brought them all in). */
	while (XCheckTypedWindowEvent(c->d->dpy, c->win, PropertyNotify, &ev))
		;
	for (;;) {
		if (clipboard_wait(c, PropertyNotify, deadline, &ev) < 0)
			goto timeout;
		n = clipboard_take(c, b, &incr);
		if (n < 0)
			goto unreadable;
		if (n == 0)
			return 0;   /* the empty chunk ends the transfer */
	}
unreadable:
	snprintf(err, errlen, "clipboard text is unreadable or over %d bytes",
		 CLIPBOARD_MAX);
	return -1;
timeout:
	snprintf(err, errlen, "the clipboard owner did not answer in %d ms",
		 CLIPBOARD_TIMEOUT_MS);
	return -1;
}

int clipboard_get(struct clipboard *c, char **text, size_t *len, int *notext,
		  char *err, size_t errlen)
{
	struct clipboard_buf b = {0};
	int rc;

	*notext = 0;
	if (c->owned) {
		*text = clipboard_to_utf8(c->data, c->len, 0, len);
		goto done;
	}
	if (XGetSelectionOwner(c->d->dpy, c->clipboard) == None) {
		*text = strdup("");
		*len = 0;
		goto done;
	}
	rc = clipboard_convert(c, c->utf8, &b, err, errlen);
	if (rc == 1) {
		free(b.p);
		b = (struct clipboard_buf){0};
		rc = clipboard_convert(c, XA_STRING, &b, err, errlen);
	}
	if (rc == 1) {
		*notext = 1;
		snprintf(err, errlen, "the clipboard holds no text");
	}
	if (rc) {
		free(b.p);
		return -1;
	}
	*text = clipboard_to_utf8(b.p, b.len, b.type == XA_STRING, len);
	free(b.p);
done:
	if (!*text) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}
