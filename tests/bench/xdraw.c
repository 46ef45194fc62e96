/*
 * xdraw.c - a tiny X client for the VNC bench, compiled by the bench
 * itself (cc xdraw.c -lX11).
 *
 *   xdraw        map a window over the whole screen, then read commands
 *                from stdin, one a line:
 *                  fill X Y W H RRGGBB   fill a rectangle, XSync, print "ok"
 *                Exits at end of input (or after 600 s).
 *
 * The bench times from writing a command to a VNC viewer seeing the
 * pixels, so drawing must be done (XSync) before "ok" is printed.
 */
#include <X11/Xlib.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(void)
{
	Display *d = XOpenDisplay(NULL);
	char line[256];
	Window w;
	GC gc;
	XEvent ev;
	int s;

	if (!d)
		return 1;
	alarm(600);
	s = DefaultScreen(d);
	w = XCreateSimpleWindow(d, RootWindow(d, s), 0, 0, DisplayWidth(d, s),
				DisplayHeight(d, s), 0, 0, BlackPixel(d, s));
	gc = XCreateGC(d, w, 0, NULL);
	XStoreName(d, w, "xdraw");
	XSelectInput(d, w, ExposureMask);
	XMapRaised(d, w);
	do
		XNextEvent(d, &ev);
	while (ev.type != Expose);
	printf("mapped\n");
	fflush(stdout);
	while (fgets(line, sizeof line, stdin)) {
		int x, y, wd, ht;
		unsigned long rgb;

		if (sscanf(line, "fill %d %d %d %d %lx", &x, &y, &wd, &ht, &rgb) != 5)
			continue;
		XSetForeground(d, gc, rgb);   /* TrueColor 24: the pixel is RGB */
		XFillRectangle(d, w, gc, x, y, (unsigned)wd, (unsigned)ht);
		XSync(d, False);
		printf("ok\n");
		fflush(stdout);
	}
	return 0;
}
