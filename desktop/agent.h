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
#include "shot.h"
#include "shotprep.h"
#include "vnc.h"
#include "xserver.h"

/* apps.launch and open calls held while the window manager starts. */
#define AGENT_MAX_HELD 16
#define AGENT_MAX_APPS 16
#define AGENT_APP_TAIL 1024          /* bytes of an app's stderr kept */

struct actions;
struct record;
struct launch;
struct watch;
struct winops;

/* One --app command (or the window manager) and what became of it. */
struct agent_app {
	const char *command;
	pid_t pid;                  /* process group leader, or -1: never started */
	int errfd;                  /* read end of its stderr, or -1 */
	int exited;                 /* status is its wait status */
	int status;
	int start_errno;            /* fork failed */
	char tail[AGENT_APP_TAIL];  /* the last bytes of its stderr */
	size_t tail_len;
};

/* The last screenshot's bytes, under its etag: the etag names the image
 * exactly (damage count, cursor, size, format), so a request with the same
 * etag is answered from here without capture or encoding. Agents are asked
 * for shots of an unchanged screen all the time (pollers, agent loops). */
struct agent_shot_cache {
	char etag[SHOT_ETAG_LEN];   /* "" when empty */
	uint8_t *data;              /* malloc'd copy, room for cap bytes */
	size_t len, cap;
	int width, height;
};

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
	struct record *rec;         /* screen recordings */
	struct shotprep prep;       /* preparing the default screenshot (pool) */
	struct winops *wops;        /* window requests held until they show */
	uint64_t nonce;             /* random per start, in every etag */
	const char *xauth;          /* Xauthority path */
	struct agent_app apps[AGENT_MAX_APPS]; /* --app commands */
	int napps;
	pid_t wm;                   /* the window manager's group, or -1 */
	int wm_due;                 /* a window manager is still to start */
	int wm_wanted;              /* ...and a launch asks for it now */
	int64_t wm_started_at;      /* when it was started (ms), or 0 */
	struct agent_held {         /* launches held until it manages */
		json_t *id, *params;
		int open;           /* open, not apps.launch */
	} held[AGENT_MAX_HELD];
	int nheld;
	int shots;                  /* screenshots answered (starts the wm) */
	pid_t panel;                /* the full session's panel, or -1 */
	pid_t bus;                  /* the full session's D-Bus daemon, or -1 */
	struct launch *launch;      /* apps launched by name (launch.c) */
	int shown_w, shown_h;       /* size last announced to deskboxd */
	struct agent_shot_cache shot_cache;
	int blank;                  /* blank_damage is set (methods_blank) */
	uint64_t blank_damage;      /* damage counter while nothing has drawn */
	int64_t exec_us, open_us;   /* monotonic: main() entered, X set up */
};

#endif
