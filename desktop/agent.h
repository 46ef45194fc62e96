/*
 * agent.h - the desktop agent's parts, owned by main.c and lent to the
 * request handlers (methods.c) and the action runner (actions.c). One
 * agent per process, one thread: everything here is touched only from
 * the poll loop in main.c.
 */
#ifndef DESKTOP_AGENT_H
#define DESKTOP_AGENT_H

#include <stdint.h>
#include <sys/types.h>

#include "capture.h"
#include "chan.h"
#include "clipboard.h"
#include "display.h"
#include "encode.h"
#include "input.h"
#include "vnc.h"
#include "xserver.h"

#define AGENT_MAX_APPS 16

struct actions;
struct watch;

struct agent {
	struct chan chan;           /* fd 3, to deskboxd */
	struct xserver xs;          /* our Xvfb */
	struct display *disp;
	struct capture *cap;
	struct encode *enc;
	struct input *in;
	struct clipboard *clip;
	struct actions *acts;       /* queued "actions" requests */
	struct vnc *vnc;            /* VNC viewers */
	struct watch *watch;        /* events and settle waits */
	uint64_t nonce;             /* random per start, in every etag */
	const char *xauth;          /* Xauthority path */
	pid_t apps[AGENT_MAX_APPS]; /* --app process groups */
	int napps;
	int shown_w, shown_h;       /* size last announced to deskboxd */
};

#endif
