/*
 * vnc.h - the desktop served to VNC viewers (libvncserver), inside the
 * agent's one loop.
 *
 * Viewers never connect to the agent: deskboxd hands each one over as an
 * already-connected stream socket (vnc.attach), authenticated on its side;
 * here they get plain RFB with security type None. The agent listens on
 * nothing.
 *
 * While at least one viewer is attached the agent keeps a framebuffer of
 * its own, fed from XShm captures of the areas XDamage reports (never the
 * other way round: screenshots keep coming from capture.c), follows the
 * cursor shape (XFixes, sent as a rich cursor), the CLIPBOARD owner and
 * the screen size, and turns viewers' keys, pointer and clipboard into X
 * input through input.c and clipboard.c. With no viewer none of that
 * runs: no framebuffer, no damage regions, no clipboard watch. Before the
 * first viewer libvncserver is not even loaded (see vnc.c).
 *
 * Loop thread only. Call vnc_run once per loop turn, poll the descriptors
 * of vnc_pollfds, and wake up after vnc_timeout_ms.
 */
#ifndef DESKTOP_VNC_H
#define DESKTOP_VNC_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#define VNC_MAX_CLIENTS 32

struct agent;
struct vnc;

struct vnc_stats {
	int clients;
	uint64_t bytes_sent;       /* to every viewer since start, as libvncserver counts */
	uint64_t updates_sent;     /* framebuffer updates since start */
};

/* The server side, with no viewer yet: no libvncserver work until the
 * first vnc_attach. NULL with err on failure. */
struct vnc *vnc_create(struct agent *a, char *err, size_t errlen);

/* Disconnect every viewer and free everything. Call while the X
 * connection is still open. */
void vnc_destroy(struct vnc *v);

/*
 * Serve a viewer on fd, a connected stream socket (ownership moves here,
 * also on failure). Returns 0 with the viewer's number in *id, or -1 with
 * err: fd is not a stream socket (*bad set), or too many viewers, or
 * libvncserver.so.1 cannot be loaded (err names it), or out of resources.
 */
int vnc_attach(struct vnc *v, int fd, int view_only, int *id, int *bad,
	       char *err, size_t errlen);

/* Bring viewers up to date with the screen (damage, cursor, size,
 * clipboard), serve what they sent, and send them updates. */
void vnc_run(struct vnc *v);

/* Fill p (room for max entries) with the viewers' sockets. Returns how
 * many. */
int vnc_pollfds(struct vnc *v, struct pollfd *p, int max);

/* Milliseconds until vnc_run has something due; -1 for nothing. */
int vnc_timeout_ms(const struct vnc *v);

void vnc_stats(struct vnc *v, struct vnc_stats *st);

#endif
