/*
 * display.c - X connection, extensions, RandR resizing, damage counting.
 *
 * Global state: Xlib's error handler has no user pointer, so the error
 * trap keeps the last error code in one static (display_trap_code); the
 * agent has one connection and one thread, so that is enough. Owns the
 * Display, the Damage object, the RandR mode it adds and, while damage is
 * tracked, the two XFixes regions it gathers damage in. Never blocks
 * except on round trips to the local X server.
 */
#include "display.h"

#include <X11/Xlibint.h>
#include <X11/extensions/XInput2.h>
#include <X11/extensions/XShm.h>
#include <X11/extensions/XTest.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int display_trap_code;

static int display_trap_handler(Display *dpy, XErrorEvent *e)
{
	if (!display_trap_code)
		display_trap_code = e->error_code;
	return 0;
}

void display_trap_begin(struct display *d)
{
	XSync(d->dpy, False);
	display_trap_code = 0;
}

int display_trap_end(struct display *d)
{
	int code;

	XSync(d->dpy, False);
	code = display_trap_code;
	display_trap_code = 0;
	return code;
}

static int64_t display_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The screen changed (drawing or a resize). */
static void display_changed(struct display *d)
{
	d->damage++;
	d->changed_ms = display_now_ms();
}

static int display_extensions(struct display *d, char *err, size_t errlen)
{
	int ev, er, maj, min;
	const char *missing = NULL;

	/* Presence only (one round trip): capture.c uses MIT-SHM 1.0. */
	if (!XShmQueryExtension(d->dpy))
		missing = "MIT-SHM";
	else if (!XDamageQueryExtension(d->dpy, &d->damage_event, &er))
		missing = "DAMAGE";
	else if (!XFixesQueryExtension(d->dpy, &d->fixes_event, &er))
		missing = "XFIXES";
	else if (!XTestQueryExtension(d->dpy, &ev, &er, &maj, &min))
		missing = "XTEST";
	else if (!XRRQueryExtension(d->dpy, &d->randr_event, &er))
		missing = "RANDR";
	if (missing) {
		snprintf(err, errlen, "X server lacks the %s extension", missing);
		return -1;
	}
	XFixesQueryVersion(d->dpy, &maj, &min);
	XDamageQueryVersion(d->dpy, &maj, &min);
	XRRQueryVersion(d->dpy, &maj, &min);
	return 0;
}

static int display_randr_init(struct display *d, char *err, size_t errlen)
{
	XRRScreenResources *res = XRRGetScreenResourcesCurrent(d->dpy, d->root);

	if (!res || res->noutput < 1 || res->ncrtc < 1) {
		snprintf(err, errlen, "RandR: no output or CRTC");
		if (res)
			XRRFreeScreenResources(res);
		return -1;
	}
	d->output = res->outputs[0];
	d->crtc = res->crtcs[0];
	XRRFreeScreenResources(res);
	return 0;
}

/* XInput2 is optional: without it pointer moves are not counted. Asked
 * for at the first watcher (a VNC viewer, a recording), not at start-up,
 * where its two round trips held every create back. */
static void display_xi_init(struct display *d)
{
	int ev, er, major = 2, minor = 0;

	if (d->xi_asked)
		return;
	d->xi_asked = 1;
	if (XQueryExtension(d->dpy, "XInputExtension", &d->xi_opcode, &ev, &er) &&
	    XIQueryVersion(d->dpy, &major, &minor) == Success)
		return;
	d->xi_opcode = 0;
}

struct display *display_open(const char *name, const uint8_t cookie[16],
			     int max_w, int max_h, char *err, size_t errlen)
{
	struct display *d = calloc(1, sizeof *d);

	if (!d) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	XSetAuthorization("MIT-MAGIC-COOKIE-1", 18, (char *)cookie, 16);
	d->dpy = XOpenDisplay(name);
	if (!d->dpy) {
		snprintf(err, errlen, "cannot open display %s", name);
		goto fail;
	}
	XSetErrorHandler(display_trap_handler);
	d->screen = DefaultScreen(d->dpy);
	d->root = RootWindow(d->dpy, d->screen);
	d->width = DisplayWidth(d->dpy, d->screen);
	d->height = DisplayHeight(d->dpy, d->screen);
	d->max_w = max_w;
	d->max_h = max_h;
	if (DefaultDepth(d->dpy, d->screen) != 24) {
		snprintf(err, errlen, "screen depth is %d, not 24",
			 DefaultDepth(d->dpy, d->screen));
		goto fail;
	}
	if (display_extensions(d, err, errlen) < 0 ||
	    display_randr_init(d, err, errlen) < 0)
		goto fail;
	d->dmg = XDamageCreate(d->dpy, d->root, XDamageReportNonEmpty);
	XFixesSelectCursorInput(d->dpy, d->root, XFixesDisplayCursorNotifyMask);
	XRRSelectInput(d->dpy, d->root, RRScreenChangeNotifyMask);
	XSync(d->dpy, False);
	return d;
fail:
	display_close(d);
	return NULL;
}

void display_close(struct display *d)
{
	if (!d)
		return;
	if (d->dpy && d->dirty != None)
		display_track_damage(d, 0);
	if (d->dpy && d->watch_dirty != None)
		display_watch_damage(d, 0);
	if (d->dpy)
		XCloseDisplay(d->dpy);
	free(d);
}

static RRMode display_find_mode(XRRScreenResources *res, int w, int h)
{
	for (int i = 0; i < res->nmode; i++)
		if ((int)res->modes[i].width == w && (int)res->modes[i].height == h &&
		    !(res->modes[i].modeFlags & RR_Interlace))
			return res->modes[i].id;
	return None;
}

/* A mode for w x h on our output, added if the server has none. */
static RRMode display_mode(struct display *d, XRRScreenResources *res,
			   int w, int h, int *added)
{
	XRRModeInfo info;
	char name[32];
	RRMode m = display_find_mode(res, w, h);

	*added = 0;
	if (m != None) {
		XRROutputInfo *oi = XRRGetOutputInfo(d->dpy, res, d->output);
		int on_output = 0;

		for (int i = 0; oi && i < oi->nmode; i++)
			on_output |= oi->modes[i] == m;
		if (oi)
			XRRFreeOutputInfo(oi);
		if (!on_output)
			XRRAddOutputMode(d->dpy, d->output, m);
		return m;
	}
	memset(&info, 0, sizeof info);
	snprintf(name, sizeof name, "%dx%d", w, h);
	info.width = (unsigned)w;
	info.height = (unsigned)h;
	info.name = name;
	info.nameLength = (unsigned)strlen(name);
	info.dotClock = (unsigned long)w * (unsigned long)h * 60;
	info.hTotal = (unsigned)w;
	info.vTotal = (unsigned)h;
	m = XRRCreateMode(d->dpy, d->root, &info);
	if (m != None) {
		XRRAddOutputMode(d->dpy, d->output, m);
		*added = 1;
	}
	return m;
}

/* Physical size for 96 dpi, which is what Xvfb reports by default. */
static int display_mm(int px)
{
	return (int)((px * 254L + 480) / 960);
}

/* The mode this agent added earlier is dropped once nothing uses it. */
static void display_drop_mode(struct display *d, RRMode keep)
{
	if (d->own_mode == None || d->own_mode == keep)
		return;
	XRRDeleteOutputMode(d->dpy, d->output, d->own_mode);
	XRRDestroyMode(d->dpy, d->own_mode);
	d->own_mode = None;
}

int display_resize(struct display *d, int w, int h, char *err, size_t errlen)
{
	XRRScreenResources *res;
	RRMode mode;
	int added, code, bw, bh;

	if (w < 1 || h < 1 || w > d->max_w || h > d->max_h) {
		snprintf(err, errlen, "size %dx%d is outside 1x1 to %dx%d",
			 w, h, d->max_w, d->max_h);
		return -1;
	}
	display_trap_begin(d);
	res = XRRGetScreenResourcesCurrent(d->dpy, d->root);
	if (!res) {
		display_trap_end(d);
		snprintf(err, errlen, "RandR: cannot read screen resources");
		return -1;
	}
	mode = display_mode(d, res, w, h, &added);
	/* The screen must hold the CRTC at every step: grow the screen to
	 * the union, switch the CRTC, then shrink the screen to fit. */
	bw = w > d->width ? w : d->width;
	bh = h > d->height ? h : d->height;
	if (bw != d->width || bh != d->height)
		XRRSetScreenSize(d->dpy, d->root, bw, bh, display_mm(bw), display_mm(bh));
	if (mode != None)
		XRRSetCrtcConfig(d->dpy, res, d->crtc, CurrentTime, 0, 0, mode,
				 RR_Rotate_0, &d->output, 1);
	if (bw != w || bh != h)
		XRRSetScreenSize(d->dpy, d->root, w, h, display_mm(w), display_mm(h));
	XRRFreeScreenResources(res);
	code = display_trap_end(d);
	if (mode == None || code) {
		char msg[64] = "no mode";

		if (code)
			XGetErrorText(d->dpy, code, msg, sizeof msg);
		snprintf(err, errlen, "RandR resize to %dx%d failed: %s", w, h, msg);
		return -1;
	}
	display_drop_mode(d, mode);
	if (added)
		d->own_mode = mode;
	d->width = w;
	d->height = h;
	display_changed(d);
	return 0;
}

/* One damage notification: count it, and gather the area if tracking. */
static void display_damaged(struct display *d)
{
	display_changed(d);
	if (d->dirty == None && d->watch_dirty == None) {
		XDamageSubtract(d->dpy, d->dmg, None, None);
		return;
	}
	XDamageSubtract(d->dpy, d->dmg, None, d->part);
	if (d->dirty != None)
		XFixesUnionRegion(d->dpy, d->dirty, d->dirty, d->part);
	if (d->watch_dirty != None)
		XFixesUnionRegion(d->dpy, d->watch_dirty, d->watch_dirty, d->part);
}

/* Start or stop gathering into *region; the scratch region `part` lives
 * while either region does. */
static int display_gather(struct display *d, XserverRegion *region, int on)
{
	if (!on) {
		if (*region != None)
			XFixesDestroyRegion(d->dpy, *region);
		*region = None;
		if (d->dirty == None && d->watch_dirty == None && d->part != None) {
			XFixesDestroyRegion(d->dpy, d->part);
			d->part = None;
		}
		return 0;
	}
	if (*region == None)
		*region = XFixesCreateRegion(d->dpy, NULL, 0);
	if (d->part == None)
		d->part = XFixesCreateRegion(d->dpy, NULL, 0);
	XFixesSetRegion(d->dpy, *region, NULL, 0);
	return *region != None && d->part != None ? 0 : -1;
}

int display_track_damage(struct display *d, int on)
{
	return display_gather(d, &d->dirty, on);
}

int display_watch_damage(struct display *d, int on)
{
	return display_gather(d, &d->watch_dirty, on);
}

static XRectangle *display_take(struct display *d, XserverRegion region, int *n)
{
	XRectangle *r, *out;
	XRectangle bounds;
	int k = 0;

	*n = 0;
	if (region == None)
		return NULL;
	r = XFixesFetchRegionAndBounds(d->dpy, region, n, &bounds);
	if (!r || !*n) {
		if (r)
			XFree(r);
		*n = 0;
		return NULL;
	}
	XFixesSetRegion(d->dpy, region, NULL, 0);
	/* Clip to the screen: damage from before a shrink may lie outside. */
	for (int i = 0; i < *n; i++) {
		int x0 = r[i].x < 0 ? 0 : r[i].x, y0 = r[i].y < 0 ? 0 : r[i].y;
		int x1 = r[i].x + r[i].width, y1 = r[i].y + r[i].height;

		if (x1 > d->width)
			x1 = d->width;
		if (y1 > d->height)
			y1 = d->height;
		if (x1 <= x0 || y1 <= y0)
			continue;
		r[k++] = (XRectangle){(short)x0, (short)y0, (unsigned short)(x1 - x0),
				      (unsigned short)(y1 - y0)};
	}
	out = r;
	*n = k;
	if (!k) {
		XFree(r);
		out = NULL;
	}
	return out;
}

XRectangle *display_take_damage(struct display *d, int *n)
{
	return display_take(d, d->dirty, n);
}

XRectangle *display_take_watch_damage(struct display *d, int *n)
{
	return display_take(d, d->watch_dirty, n);
}

void display_watch_clipboard(struct display *d, Atom clipboard, int on)
{
	int was = d->clipboard_watchers > 0;

	d->clipboard_watchers += on ? 1 : -1;
	if (d->clipboard_watchers < 0)
		d->clipboard_watchers = 0;
	if (was != (d->clipboard_watchers > 0))
		XFixesSelectSelectionInput(d->dpy, d->root, clipboard,
					   on ? XFixesSetSelectionOwnerNotifyMask : 0);
}

int display_watch_pointer(struct display *d, int on)
{
	unsigned char bits[XIMaskLen(XI_LASTEVENT)] = {0};
	XIEventMask m = {.deviceid = XIAllMasterDevices, .mask_len = sizeof bits, .mask = bits};

	int was = d->pointer_watchers > 0;

	if (on)
		display_xi_init(d);
	if (!d->xi_opcode)
		return -1;
	/* Counted: VNC viewers and a recording each want it. */
	d->pointer_watchers += on ? 1 : -1;
	if (d->pointer_watchers < 0)
		d->pointer_watchers = 0;
	if (was == (d->pointer_watchers > 0))
		return 0;
	/* Raw events reach the root whichever window is under the pointer
	 * and whoever else selects motion. */
	if (d->pointer_watchers)
		XISetMask(bits, XI_RawMotion);
	XISelectEvents(d->dpy, d->root, &m, 1);
	return 0;
}

int display_handle(struct display *d, XEvent *ev, int *resized)
{
	*resized = 0;
	if (ev->type == GenericEvent && d->xi_opcode &&
	    ev->xcookie.extension == d->xi_opcode) {
		if (ev->xcookie.evtype == XI_RawMotion)
			d->pointer_moves++;
		return 1;
	}
	if (ev->type == d->damage_event + XDamageNotify) {
		display_damaged(d);
		return 1;
	}
	if (ev->type == d->fixes_event + XFixesCursorNotify) {
		d->cursor_serial = ((XFixesCursorNotifyEvent *)ev)->cursor_serial;
		return 1;
	}
	if (ev->type == d->fixes_event + XFixesSelectionNotify) {
		d->clipboard_owners++;
		return 1;
	}
	if (ev->type == d->randr_event + RRScreenChangeNotify) {
		Window r;
		int x, y;
		unsigned w, h, bw, depth;

		/* Events trail the steps of a resize: ask for the size now. */
		XRRUpdateConfiguration(ev);
		if (XGetGeometry(d->dpy, d->root, &r, &x, &y, &w, &h, &bw, &depth) &&
		    ((int)w != d->width || (int)h != d->height)) {
			d->width = (int)w;
			d->height = (int)h;
			display_changed(d);
			*resized = 1;
		}
		return 1;
	}
	return 0;
}

void display_drain(struct display *d)
{
	XEvent ev;

	while (XCheckTypedEvent(d->dpy, d->damage_event + XDamageNotify, &ev))
		display_damaged(d);
}

void display_refresh(struct display *d)
{
	XSync(d->dpy, False);
	display_drain(d);
}

int display_pointer(struct display *d, int *x, int *y)
{
	Window r, c;
	int wx, wy;
	unsigned int mask;

	if (!XQueryPointer(d->dpy, d->root, &r, &c, x, y, &wx, &wy, &mask))
		return -1;
	return 0;
}
