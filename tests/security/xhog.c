/*
 * xhog.c - an X client that takes the CLIPBOARD selection and then never
 * answers a request for it (it reads no events at all). Run inside a
 * sandbox by test_escape.py; prints "owner" once it holds the selection.
 */
#include <X11/Xlib.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	Display *d = XOpenDisplay(NULL);
	Window w;
	Atom clip;

	if (!d)
		return 1;
	w = XCreateSimpleWindow(d, DefaultRootWindow(d), 0, 0, 1, 1, 0, 0, 0);
	clip = XInternAtom(d, "CLIPBOARD", False);
	XSetSelectionOwner(d, clip, w, CurrentTime);
	XSync(d, False);
	if (XGetSelectionOwner(d, clip) != w)
		return 1;
	puts("owner");
	fflush(stdout);
	for (;;)
		pause();
}
