/*
 * xserver.h - the sandbox's Xvfb: its cookie, its Xauthority file, its
 * process. The agent starts it as a child and it dies with the agent.
 */
#ifndef DESKTOP_XSERVER_H
#define DESKTOP_XSERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct xserver_opts {
	int display;            /* N of :N */
	const char *xauth;      /* Xauthority file to write */
	int max_w, max_h;       /* -screen size: RandR can only shrink from it */
	int gl;                 /* keep the GLX extension */
	int dpi;                /* -dpi, or 0: Xvfb's default */
};

struct xserver {
	pid_t pid;              /* Xvfb, or -1 */
	int pidfd;              /* to wait for its exit, or -1 */
	int status;             /* wait status once reaped, else -1 */
	char name[16];          /* ":N" */
	uint8_t cookie[16];     /* MIT-MAGIC-COOKIE-1 */
	int64_t exec_us, ready_us; /* monotonic: forked, answered on -displayfd */
};

/*
 * Create /tmp/.X11-unix if missing, write a fresh cookie to o->xauth,
 * start Xvfb and wait (on -displayfd, up to 15 s) until it accepts
 * clients. Returns 0, or -1 with err (nothing left running).
 */
int xserver_start(struct xserver *xs, const struct xserver_opts *o,
		  char *err, size_t errlen);

/* Note a reaped child: returns 1 (and keeps status) when pid was Xvfb. */
int xserver_reaped(struct xserver *xs, pid_t pid, int status);

/* Describe how Xvfb ended, waiting up to wait_ms for it to end. */
void xserver_describe_exit(struct xserver *xs, int wait_ms, char *out,
			   size_t outlen);

/* Stop Xvfb: SIGTERM, then SIGKILL after 2 s. Safe to call twice. */
void xserver_stop(struct xserver *xs);

#endif
