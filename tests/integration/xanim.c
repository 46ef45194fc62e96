/*
 * xanim.c - a tiny X client for the settle tests and bench, compiled by
 * them (cc xanim.c -lX11).
 *
 *   xanim anim MS MARK    map a 200x200 window, then animate it (a bar
 *                         that moves every 20 ms) for MS milliseconds;
 *                         writes MARK.started once the first frame is
 *                         drawn and MARK.ended once the last one is (both
 *                         after XSync: the server has drawn them), then
 *                         stays still until killed.
 *   xanim popup MARK      map a 200x200 window titled "xanim"; each
 *                         button press on it maps a new 300x200 window
 *                         titled "popup N", drawn at once; writes
 *                         MARK.ready when the first window is mapped.
 *
 * Every mode exits after 120 s on its own, so nothing outlives a test.
 */
#include <X11/Xatom.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void mark(const char *prefix, const char *what)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s.%s", prefix, what);
	f = fopen(path, "w");
	if (f)
		fclose(f);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static Window make_window(Display *d, int x, int y, int w, int h, const char *title)
{
	int s = DefaultScreen(d);
	Window win = XCreateSimpleWindow(d, RootWindow(d, s), x, y, (unsigned)w, (unsigned)h, 0,
					 BlackPixel(d, s), WhitePixel(d, s));
	XEvent ev;

	long pid = getpid();

	XStoreName(d, win, title);
	/* What window managers (and the agent's window events) read. */
	XChangeProperty(d, win, XInternAtom(d, "_NET_WM_PID", False), XA_CARDINAL, 32,
			PropModeReplace, (unsigned char *)&pid, 1);
	XSelectInput(d, win, StructureNotifyMask | ButtonPressMask);
	XMapRaised(d, win);
	do
		XNextEvent(d, &ev);
	while (ev.type != MapNotify || ev.xmap.window != win);
	return win;
}

static int anim(Display *d, long ms, const char *prefix)
{
	Window w = make_window(d, 400, 300, 200, 200, "xanim");
	GC gc = XCreateGC(d, w, 0, NULL);
	int64_t end;
	int i = 0;

	XSync(d, False);
	usleep(200000);   /* let the map's own drawing pass */
	end = now_ms() + ms;
	while (now_ms() < end) {
		XClearWindow(d, w);
		XFillRectangle(d, w, gc, (i * 7) % 180, 0, 20, 200);
		XSync(d, False);
		if (i++ == 0)
			mark(prefix, "started");
		usleep(20000);
	}
	mark(prefix, "ended");
	for (;;)
		pause();
	return 0;
}

static int popup(Display *d, const char *prefix)
{
	Window w = make_window(d, 0, 0, 200, 200, "xanim");
	int n = 0;
	XEvent ev;

	XSync(d, False);
	mark(prefix, "ready");
	for (;;) {
		XNextEvent(d, &ev);
		if (ev.type == ButtonPress && ev.xbutton.window == w) {
			char title[32];
			Window p;
			GC gc;

			snprintf(title, sizeof title, "popup %d", ++n);
			p = make_window(d, 250 + 10 * (n % 20), 100 + 10 * (n % 20), 300, 200, title);
			gc = XCreateGC(d, p, 0, NULL);
			XFillRectangle(d, p, gc, 20, 20, 260, 40);
			XFreeGC(d, gc);
			XSync(d, False);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	Display *d;

	alarm(120);
	d = XOpenDisplay(NULL);
	if (!d) {
		fprintf(stderr, "xanim: cannot open display\n");
		return 1;
	}
	if (argc == 4 && !strcmp(argv[1], "anim"))
		return anim(d, atol(argv[2]), argv[3]);
	if (argc == 3 && !strcmp(argv[1], "popup"))
		return popup(d, argv[2]);
	fprintf(stderr, "usage: xanim anim MS MARK | xanim popup MARK\n");
	return 2;
}
