/*
 * xevlog.c - a tiny X client for the desktop agent's integration test,
 * compiled by the test itself (cc xevlog.c -lX11).
 *
 *   xevlog LOG             map a window over the whole screen, take the
 *                          focus, log every key press/release (keysym at
 *                          level 0 and modifier state) and button press
 *                          (root position) to LOG; each press paints a
 *                          5x5 red square at the pointer, so the screen
 *                          changes where a click landed.
 *   xevlog --own TEXT LOG  own CLIPBOARD with TEXT (UTF8_STRING), answer
 *                          requests, write "owned" to LOG once it owns it.
 *   xevlog --get LOG       read CLIPBOARD as UTF8_STRING into LOG
 *                          ("none" when refused), then exit.
 *
 * Every mode exits after 60 s on its own, so nothing outlives the test.
 */
#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <X11/Xproto.h>
#include <X11/Xutil.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static FILE *out;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(out, fmt, ap);
	va_end(ap);
	fputc('\n', out);
	fflush(out);
}

static int focus_refused;

/* Under a window manager (a sandbox's openbox) the window is mapped inside
 * a frame that is mapped after it, and a window mapped before the manager
 * started is taken into a frame: focusing it while it is not viewable is
 * BadMatch, which would end the client. That one is noted and the focus
 * tried again at the next MapNotify or Expose; any other error ends it. */
static int on_x_error(Display *d, XErrorEvent *e)
{
	char text[128];

	if (e->request_code == X_SetInputFocus && e->error_code == BadMatch) {
		focus_refused = 1;
		return 0;
	}
	XGetErrorText(d, e->error_code, text, sizeof(text));
	fprintf(stderr, "xevlog: X error %s (request %d)\n", text, e->request_code);
	exit(1);
}

static int viewable(Display *d, Window w)
{
	XWindowAttributes a;

	return XGetWindowAttributes(d, w, &a) && a.map_state == IsViewable;
}

static int logger(Display *d)
{
	int s = DefaultScreen(d);
	Window w = XCreateSimpleWindow(d, RootWindow(d, s), 0, 0, DisplayWidth(d, s),
				       DisplayHeight(d, s), 0, 0, WhitePixel(d, s));
	XColor red = {.red = 0xffff}, exact;
	GC gc = XCreateGC(d, w, 0, NULL);
	XEvent ev;
	int ready = 0;

	XAllocNamedColor(d, DefaultColormap(d, s), "red", &red, &exact);
	XSetForeground(d, gc, red.pixel);
	XStoreName(d, w, "xevlog");
	XSelectInput(d, w, KeyPressMask | KeyReleaseMask | ButtonPressMask |
		     ButtonReleaseMask | ExposureMask | StructureNotifyMask);
	XMapRaised(d, w);
	for (;;) {
		XNextEvent(d, &ev);
		switch (ev.type) {
		case MappingNotify:   /* what every client must do (Xlib manual) */
			XRefreshKeyboardMapping(&ev.xmapping);
			break;
		case MapNotify:
		case Expose:
			/* Ready once it holds the focus (see on_x_error). */
			if (!ready && viewable(d, w)) {
				focus_refused = 0;
				XSetInputFocus(d, w, RevertToParent, CurrentTime);
				XSync(d, False);
				if (!focus_refused) {
					ready = 1;
					say("mapped");
				}
			}
			break;
		case KeyPress:
		case KeyRelease: {
			const char *n = XKeysymToString(XLookupKeysym(&ev.xkey, 0));

			say("key %s %s state=%u", ev.type == KeyPress ? "press" : "release",
			    n ? n : "NoSymbol", ev.xkey.state);
			break;
		}
		case ButtonPress:
			say("button %u %d %d", ev.xbutton.button, ev.xbutton.x_root,
			    ev.xbutton.y_root);
			if (ev.xbutton.button <= 3) {
				XFillRectangle(d, w, gc, ev.xbutton.x - 2, ev.xbutton.y - 2, 5, 5);
				XSync(d, False);
				say("painted");
			}
			break;
		}
	}
	return 0;
}

static int owner(Display *d, const char *text)
{
	Window w = XCreateSimpleWindow(d, DefaultRootWindow(d), 0, 0, 1, 1, 0, 0, 0);
	Atom clip = XInternAtom(d, "CLIPBOARD", False);
	Atom utf8 = XInternAtom(d, "UTF8_STRING", False);
	Atom targets = XInternAtom(d, "TARGETS", False);
	XEvent ev;

	XSetSelectionOwner(d, clip, w, CurrentTime);
	if (XGetSelectionOwner(d, clip) != w)
		return 1;
	say("owned");
	for (;;) {
		XNextEvent(d, &ev);
		if (ev.type == SelectionRequest) {
			XSelectionRequestEvent *rq = &ev.xselectionrequest;
			XSelectionEvent re = {.type = SelectionNotify, .requestor = rq->requestor,
					      .selection = rq->selection, .target = rq->target,
					      .property = rq->property, .time = rq->time};

			if (rq->target == utf8) {
				XChangeProperty(d, rq->requestor, rq->property, utf8, 8,
						PropModeReplace, (const unsigned char *)text,
						(int)strlen(text));
			} else if (rq->target == targets) {
				Atom t[] = {targets, utf8};

				XChangeProperty(d, rq->requestor, rq->property, XA_ATOM, 32,
						PropModeReplace, (unsigned char *)t, 2);
			} else {
				re.property = None;
			}
			XSendEvent(d, rq->requestor, False, 0, (XEvent *)&re);
			XFlush(d);
			say("served");
		} else if (ev.type == SelectionClear) {
			say("lost");
		}
	}
	return 0;
}

static int getter(Display *d)
{
	Window w = XCreateSimpleWindow(d, DefaultRootWindow(d), 0, 0, 1, 1, 0, 0, 0);
	Atom clip = XInternAtom(d, "CLIPBOARD", False);
	Atom utf8 = XInternAtom(d, "UTF8_STRING", False);
	Atom prop = XInternAtom(d, "XEVLOG", False), type;
	unsigned long n, after;
	unsigned char *data;
	int fmt;
	XEvent ev;

	XConvertSelection(d, clip, utf8, prop, w, CurrentTime);
	do
		XNextEvent(d, &ev);
	while (ev.type != SelectionNotify);
	if (ev.xselection.property == None) {
		say("none");
		return 0;
	}
	XGetWindowProperty(d, w, prop, 0, 1 << 24, True, AnyPropertyType, &type, &fmt,
			   &n, &after, &data);
	fwrite(data, 1, n, out);
	fflush(out);
	return 0;
}

int main(int argc, char **argv)
{
	Display *d;
	const char *log = argv[argc - 1];

	if (argc < 2)
		return 2;
	alarm(60);
	out = fopen(log, "a");
	d = XOpenDisplay(NULL);
	if (!out || !d)
		return 1;
	if (argc == 4 && strcmp(argv[1], "--own") == 0)
		return owner(d, argv[2]);
	if (argc == 3 && strcmp(argv[1], "--get") == 0)
		return getter(d);
	XSetErrorHandler(on_x_error);
	return logger(d);
}
