/*
 * clipboard.c - CLIPBOARD owner and requestor. See clipboard.h.
 *
 * Owns an unmapped 1x1 window (the selection owner and the property
 * target of our own requests), the text we offer, and the read in flight:
 * a small state machine (asked for UTF8_STRING → asked for STRING →
 * receiving INCR chunks) driven by the events the agent's loop hands to
 * clipboard_handle, with a deadline the loop polls for, and the list of
 * callers waiting for its answer. Nothing here waits for another client.
 * No global state.
 */
#include "clipboard.h"

#include <X11/Xatom.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "input.h"
#include "keys.h"

struct clipboard_waiter {
	clipboard_cb cb;
	void *ctx, *arg;
	void (*free_arg)(void *arg);
	struct clipboard_waiter *next;
};

struct clipboard_buf {
	char *p;
	size_t len;
	Atom type;
};

enum clipboard_phase { CB_IDLE, CB_ASKED, CB_INCR };

#define CLIPBOARD_NATOMS 8

struct clipboard {
	struct display *d;
	Window win;
	Atom clipboard, utf8, targets, text, incr, timestamp, prop, probe;
	char *data;          /* what we offer, UTF-8 */
	size_t len;
	int owned;
	Time owned_at;
	/* the read in flight */
	enum clipboard_phase phase;
	Atom target;         /* asked for: utf8, then XA_STRING */
	Time asked_at;       /* the request's time, echoed in its answer */
	int64_t deadline;    /* ms, input_now_ms() clock */
	struct clipboard_buf buf;
	struct clipboard_waiter *waiters;
};

struct clipboard *clipboard_create(struct display *d, char *err, size_t errlen)
{
	static const char *const names[CLIPBOARD_NATOMS] = {
		"CLIPBOARD", "UTF8_STRING", "TARGETS", "TEXT", "INCR", "TIMESTAMP",
		"DESKBOX_SELECTION", "DESKBOX_TIMESTAMP",
	};
	struct clipboard *c = calloc(1, sizeof *c);
	Display *dpy = d->dpy;
	Atom atoms[CLIPBOARD_NATOMS];

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->d = d;
	c->win = XCreateSimpleWindow(dpy, d->root, -10, -10, 1, 1, 0, 0, 0);
	XSelectInput(dpy, c->win, PropertyChangeMask);
	XStoreName(dpy, c->win, "deskbox-desktop clipboard");
	/* One round trip for all of them (one each is most of a
	 * millisecond of a create). */
	if (!XInternAtoms(dpy, (char **)names, CLIPBOARD_NATOMS, False, atoms)) {
		snprintf(err, errlen, "cannot intern the clipboard's atoms");
		XDestroyWindow(dpy, c->win);
		free(c);
		return NULL;
	}
	c->clipboard = atoms[0];
	c->utf8 = atoms[1];
	c->targets = atoms[2];
	c->text = atoms[3];
	c->incr = atoms[4];
	c->timestamp = atoms[5];
	c->prop = atoms[6];
	c->probe = atoms[7];
	return c;
}

void clipboard_destroy(struct clipboard *c)
{
	if (!c)
		return;
	while (c->waiters) {
		struct clipboard_waiter *w = c->waiters;

		c->waiters = w->next;
		if (w->free_arg)
			w->free_arg(w->arg);
		free(w);
	}
	free(c->buf.p);
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

/* Answer every waiter: text (our buffer as UTF-8) or err. */
static void clipboard_finish(struct clipboard *c, int notext, const char *err)
{
	struct clipboard_waiter *w = c->waiters;
	char *text = NULL;
	size_t len = 0;

	c->waiters = NULL;
	c->phase = CB_IDLE;
	if (!err) {
		text = clipboard_to_utf8(c->buf.p ? c->buf.p : "", c->buf.len,
					 c->buf.type == XA_STRING, &len);
		if (!text)
			err = "out of memory";
	}
	free(c->buf.p);
	c->buf = (struct clipboard_buf){0};
	/* Callbacks may start a new read: the list is ours alone by now. */
	while (w) {
		struct clipboard_waiter *next = w->next;
		char *copy = NULL;

		if (text) {
			copy = w->next ? malloc(len + 1) : text;
			if (copy && copy != text)
				memcpy(copy, text, len + 1);
		}
		if (text && !copy) {
			w->cb(w->ctx, w->arg, NULL, 0, 0, "out of memory");
		} else {
			w->cb(w->ctx, w->arg, copy, len, notext, copy ? NULL : err);
		}
		if (copy == text)
			text = NULL;
		free(w);
		w = next;
	}
	free(text);
}

/* Ask the owner for target, answer awaited in clipboard_handle. */
static void clipboard_ask(struct clipboard *c, Atom target)
{
	c->phase = CB_ASKED;
	c->target = target;
	c->deadline = input_now_ms() + CLIPBOARD_TIMEOUT_MS;
	/* A real time, which the answer echoes: a late answer to an earlier,
	 * timed-out request is not taken for this one's. */
	c->asked_at = clipboard_now(c);
	XDeleteProperty(c->d->dpy, c->win, c->prop);
	XConvertSelection(c->d->dpy, c->clipboard, target, c->prop, c->win, c->asked_at);
	XFlush(c->d->dpy);
}

static void clipboard_unreadable(struct clipboard *c)
{
	char err[128];

	snprintf(err, sizeof err, "clipboard text is unreadable or over %d bytes",
		 CLIPBOARD_MAX);
	clipboard_finish(c, 0, err);
}

/* The owner's SelectionNotify for our request. */
static void clipboard_answered(struct clipboard *c, XSelectionEvent *ev)
{
	XEvent stale;
	int incr;

	if (ev->property == None) {
		if (c->target == c->utf8)
			clipboard_ask(c, XA_STRING);
		else
			clipboard_finish(c, 1, "the clipboard holds no text");
		return;
	}
	if (clipboard_take(c, &c->buf, &incr) < 0)
		return clipboard_unreadable(c);
	if (!incr)
		return clipboard_finish(c, 0, NULL);
	/* INCR: chunks follow, each announced by a new value of the property;
	 * notices queued before the transfer started are stale
	 * (clipboard_take's round trip has brought them all in). */
	while (XCheckTypedWindowEvent(c->d->dpy, c->win, PropertyNotify, &stale))
		;
	c->phase = CB_INCR;
}

/* A new value of our property during an INCR transfer. */
static void clipboard_chunk(struct clipboard *c)
{
	int incr;
	long n = clipboard_take(c, &c->buf, &incr);

	if (n < 0)
		return clipboard_unreadable(c);
	if (n == 0)
		clipboard_finish(c, 0, NULL);   /* the empty chunk ends it */
}

int clipboard_get(struct clipboard *c, clipboard_cb cb, void *ctx, void *arg,
		  void (*free_arg)(void *arg))
{
	struct clipboard_waiter *w;
	size_t len;
	char *text;

	if (c->owned || XGetSelectionOwner(c->d->dpy, c->clipboard) == None) {
		text = c->owned ? clipboard_to_utf8(c->data, c->len, 0, &len) : strdup("");
		if (!text)
			return -1;
		cb(ctx, arg, text, c->owned ? len : 0, 0, NULL);
		return 0;
	}
	w = calloc(1, sizeof *w);
	if (!w)
		return -1;
	*w = (struct clipboard_waiter){cb, ctx, arg, free_arg, c->waiters};
	c->waiters = w;
	if (c->phase == CB_IDLE)
		clipboard_ask(c, c->utf8);
	return 0;
}

int clipboard_timeout_ms(const struct clipboard *c)
{
	int64_t left;

	if (c->phase == CB_IDLE)
		return -1;
	left = c->deadline - input_now_ms();
	return left < 0 ? 0 : left > CLIPBOARD_TIMEOUT_MS ? CLIPBOARD_TIMEOUT_MS : (int)left;
}

void clipboard_expire(struct clipboard *c)
{
	char err[96];

	if (c->phase == CB_IDLE || input_now_ms() < c->deadline)
		return;
	snprintf(err, sizeof err, "the clipboard owner did not answer in %d ms",
		 CLIPBOARD_TIMEOUT_MS);
	clipboard_finish(c, 0, err);
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
	if (ev->type == SelectionNotify) {
		XSelectionEvent *se = &ev->xselection;

		if (se->requestor != c->win)
			return 0;
		/* Only the answer to the request in flight (owners echo its
		 * time; some answer CurrentTime). */
		if (c->phase == CB_ASKED && se->selection == c->clipboard &&
		    se->target == c->target &&
		    (se->time == c->asked_at || se->time == CurrentTime))
			clipboard_answered(c, se);
		return 1;
	}
	if (ev->type != PropertyNotify || ev->xproperty.window != c->win)
		return 0;
	if (c->phase == CB_INCR && ev->xproperty.atom == c->prop &&
	    ev->xproperty.state == PropertyNewValue)
		clipboard_chunk(c);
	return 1;
}
