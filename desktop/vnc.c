/*
 * vnc.c - libvncserver in the agent's loop. See vnc.h.
 *
 * libvncserver runs without its threads: vnc_run calls rfbProcessEvents
 * with a zero timeout, the loop polls the viewers' sockets, and nothing
 * runs on a timer, so a desktop whose screen does not change costs no CPU
 * even with viewers attached. Updates go out as soon as a viewer has asked
 * for one and something changed (deferUpdateTime 0): the viewer's own
 * request rate is the flow control.
 *
 * libvncserver is not linked: the first vnc_attach loads it
 * (dlopen("libvncserver.so.1"), the functions it calls through one table,
 * struct vnc_lib) and only then makes the rfbScreen, the input queue and
 * the stall guard's thread. Linked, it and the 13 libraries it pulls in
 * (gnutls, gcrypt, gpg-error, nettle, hogweed, gmp, tasn1, p11-kit, idn2,
 * unistring, ffi, lzo2, libjpeg: 14 of the agent's 34) cost about 3 ms of
 * dynamic loading and constructors at every agent start, on the cold path of
 * every create (create -> first screenshot), and their memory in every
 * sandbox, though most desktops never get a viewer. Until the first
 * viewer vnc_run, vnc_pollfds, vnc_timeout_ms and vnc_stats return at
 * once; what a viewer is shown (screen size, cursor, pointer) is read
 * from the display when it comes, so nothing is lost before. The screen
 * then stays until vnc_destroy, the library until the agent ends.
 * Security: it is found exactly as the dynamic loader found it at exec
 * when it was linked, by soname through the sandbox root's read-only
 * /etc/ld.so.cache and /usr/lib, with the environment deskboxd gave the
 * agent; loading it later, after the sandbox's own processes ran, puts
 * nothing they can write on that path. If it is missing (an image whose
 * root lacks it) the attach fails with an error naming it, and the agent
 * serves everything else as before.
 *
 * Owns the rfbScreen, the framebuffer (only while viewers exist), each
 * viewer's struct vnc_client (cl->clientData), the cursor given to
 * libvncserver, input events waiting for a spare keycode, and the loaded
 * library.
 *
 * What libvncserver 0.9.14 gets wrong and how it is worked around here:
 * - rfbNewClient peeks up to 100 ms for a WebSocket handshake, and RFB
 *   clients send nothing first, so every attach would hold the loop for
 *   100 ms. vnc_attach lets it peek at a socketpair holding "RFB " and
 *   then moves the viewer's socket onto that descriptor number (dup3), so
 *   the peek answers at once; the protocol version it wrote to the pair is
 *   written again to the viewer.
 * - A write to a viewer that stopped reading waits in select() for 5 s
 *   per try whatever maxClientWait says. The stall guard (below) bounds
 *   that: while libvncserver may write, a thread of its own looks at the
 *   viewers' sockets every VNC_TICK_MS, and a viewer whose socket stayed
 *   full with no progress for VNC_CLIENT_WAIT_MS, or that is full once
 *   the loop has been held for VNC_STALL_MAX_MS, is shut down and the
 *   loop's thread interrupted (SIGUSR1): the select() ends with EINTR,
 *   the write with EPIPE, and libvncserver drops the viewer. The ticks
 *   themselves interrupt nothing: libvncserver takes EINTR in a read as
 *   an error, so a periodic signal (an interval timer, as this was) also
 *   dropped any viewer whose message came in two pieces a tick apart.
 * - cl->wsctx is never freed (about 46 KB per WebSocket client): freed in
 *   the client-gone hook.
 * - rfbSendServerCutTextUTF8 leaves a client's send mutex locked (the
 *   next call deadlocks) when no Latin-1 fallback is given and the client
 *   has no extended clipboard, and with a fallback it sends the UTF-8
 *   length with the Latin-1 text; rfbSendServerCutText writes to clients
 *   still in their handshake. So clipboard text for viewers is written
 *   here (vnc_send_cut), only to viewers past the handshake.
 * - Its extended clipboard capabilities lack Notify, and noVNC sends UTF-8
 *   only to a server that has it (Latin-1 otherwise: "✓" becomes "?"); it
 *   also drops a viewer's Notify unanswered. So after libvncserver's caps
 *   the agent sends its own (vnc_send_caps), and it answers a Notify with
 *   a Request (vnc_peek, vnc_answer): libvncserver reads one message per
 *   viewer per rfbProcessEvents straight from the socket, so a peek at the
 *   socket beforehand shows the message it is about to read.
 * - screen->cursorX/Y, where viewers see the pointer, only ever follows
 *   VNC pointer events: a viewer without cursor shapes got the cursor
 *   painted at 0,0 or where a viewer last pointed, and PointerPos was
 *   never sent. vnc_sync_pointer makes it the X pointer's position, read
 *   whenever the pointer moved (XInput2 raw motion, display.c), whoever
 *   moved it.
 * - rfbMakeMaskFromAlphaSource never sets the first pixel of a byte: the
 *   cursor mask is made here.
 * - rfbNewFramebuffer resets the pixel format to its own RGB default and
 *   rebuilds every viewer's translation for that; vnc_resize_fb hides the
 *   change from it and puts the X server's BGRX back.
 *
 * Threads: the loop's, and the stall guard's, which touches nothing but
 * struct vnc_guard (under its mutex) and the viewers' sockets (poll,
 * ioctl, shutdown).
 */
#include "vnc.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <rfb/rfb.h>
#include <rfb/rfbregion.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "agent.h"
#include "log.h"

/* Every viewer's socket leads to deskboxd, which takes a whole frame off
 * it at once (server/ws.c) and never blocks: a socket that stays full means
 * deskboxd's viewer is more than a frame behind, or deskboxd was not
 * scheduled. On a loaded machine the latter lasted past 200 ms and
 * dropped viewers mid-frame, so the bounds leave room for it. */
#define VNC_CLIENT_WAIT_MS 1000    /* a viewer may block us this long */
#define VNC_STALL_MAX_MS 3000      /* the loop may be held this long in all */
#define VNC_READ_WAIT_MS 200       /* for the rest of a viewer's message */
#define VNC_TICK_MS 50             /* stall guard period */
#define VNC_CURSOR_MAX 64          /* cursor images are cut to this size */
#define VNC_MAX_RECTS 16           /* more damage rectangles: take the bounds */
#define VNC_MAX_HELD 16            /* keys one viewer can hold down */
#define VNC_QUEUE 4096             /* input events waiting for a keycode */
#define VNC_MAX_CUT (1 << 20)      /* clipboard text sent to viewers */

#define VNC_LIB "libvncserver.so.1"   /* the ABI of the headers we compile with */

/* Everything vnc.c takes from libvncserver (the headers' macros aside):
 * its functions, and rfbLog and rfbErr, which are variables. */
#define VNC_SYMS(X) \
	X(rfbGetScreen) X(rfbInitServer) X(rfbShutdownServer) X(rfbScreenCleanup) \
	X(rfbNewClient) X(rfbCloseClient) X(rfbWriteExact) X(rfbProcessEvents) \
	X(rfbGetClientIterator) X(rfbClientIteratorNext) X(rfbReleaseClientIterator) \
	X(rfbNewFramebuffer) X(rfbMarkRectAsModified) X(rfbSetCursor) X(rfbFreeCursor) \
	X(rfbUpdateClient) X(sraRgnEmpty) \
	X(rfbStatGetMessageCountRcvd) X(rfbStatGetMessageCountSent) \
	X(rfbStatGetRcvdBytes) X(rfbStatGetSentBytes) \
	X(rfbLog) X(rfbErr)

/* The loaded library: each member has its symbol's name and points at it. */
struct vnc_lib {
	void *handle;   /* NULL: not loaded */
#define VNC_MEMBER(name) __typeof__(name) *name;
	VNC_SYMS(VNC_MEMBER)
#undef VNC_MEMBER
};

struct vnc_client {
	struct vnc *v;
	int id;
	int view_only;
	unsigned long held[VNC_MAX_HELD];   /* keysyms down, to release at exit */
	int nheld;
	unsigned buttons;                   /* buttons down */
	uint32_t seen_bytes, seen_updates;  /* libvncserver's counters, last read */
	int seen_encodings, seen_cuts;      /* SetEncodings, ClientCutText read */
	int seen_rcvd;                      /* bytes read from it */
	uint32_t notify;                    /* the clipboard Notify it reads next */
	int cut_partial;                    /* ... or cut text not all there yet */
	int got_text;                       /* a text of its reached X meanwhile */
};

/* An input event that must wait: a keysym for which every spare keycode
 * is still settling, or anything queued behind one. */
struct vnc_input {
	int is_key;
	unsigned long ks;
	int down;
	int x, y;
	unsigned mask;
};

struct vnc_guard_fd {
	int fd;         /* -1: shut down by the guard; -2: closed */
	int outq;       /* bytes queued at the last look */
	int64_t since;  /* last progress (or the arming), monotonic ms */
	int id;
};

/* See the top of the file. Under mu but for thread and loop. */
struct vnc_guard {
	pthread_t thread, loop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int started, quit, armed, n;
	int64_t armed_at;
	struct vnc_guard_fd fds[VNC_MAX_CLIENTS];
};

struct vnc {
	struct agent *a;
	struct vnc_lib lib;
	struct vnc_guard guard;
	rfbScreenInfoPtr screen;      /* NULL until the first viewer */
	rfbPixelFormat default_fmt;   /* what rfbNewFramebuffer resets to */
	uint8_t *fb;                  /* max_w x max_h BGRX while viewers exist (mapped) */
	size_t fb_len;
	int nclients;
	int next_id;
	int attach_view_only;         /* for the new-client hook */
	int closing;
	unsigned long cursor_serial;  /* d->cursor_serial the cursor was made at */
	int have_cursor;
	uint64_t clip_seen;           /* d->clipboard_owners already sent */
	uint64_t pointer_seen;        /* d->pointer_moves already sent */
	int pointer_known;
	Atom clipboard;
	uint64_t bytes_sent, updates_sent;
	struct vnc_input *q;          /* ring of VNC_QUEUE */
	int qhead, qlen;
	int64_t q_wake;               /* monotonic ms to retry the queue */
	int q_dropped;
};

/* ------------------------------------------------------------ logging */

/* Every VNC line says so. */
#define vnc_log(...) agent_log("vnc: " __VA_ARGS__)

/* libvncserver's chatter (a few lines per connection) is dropped. */
static void vnc_lib_log(const char *fmt, ...)
{
}

/* Its errors are kept, one line each, but for the TCP_NODELAY failure it
 * reports for every viewer that comes over a Unix socket. */
static void vnc_lib_err(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (strstr(line, "TCP_NODELAY"))
		return;
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = 0;
	vnc_log("libvncserver: %s", line);
}

/* ------------------------------------------------------- stall guard */

static int64_t vnc_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int vnc_outq(int fd)
{
	int q = 0;

	if (ioctl(fd, SIOCOUTQ, &q) < 0)
		return 0;
	return q;
}

/* One look at the viewers' sockets (guard thread, mutex held). */
static void vnc_guard_tick(struct vnc_guard *g)
{
	int64_t now = vnc_now_ms();
	int kick = 0;

	for (int i = 0; i < g->n; i++) {
		struct vnc_guard_fd *f = &g->fds[i];
		struct pollfd p = {.fd = f->fd, .events = POLLOUT};
		int q;

		if (f->fd < 0)
			continue;
		if (poll(&p, 1, 0) == 1 && (p.revents & POLLNVAL)) {   /* closed meanwhile */
			f->fd = -2;
			continue;
		}
		if (p.revents & POLLOUT) {
			f->since = now;
			continue;
		}
		q = vnc_outq(f->fd);
		if (q < f->outq)
			f->since = now;
		f->outq = q;
		if (now - f->since >= VNC_CLIENT_WAIT_MS || now - g->armed_at >= VNC_STALL_MAX_MS) {
			shutdown(f->fd, SHUT_RDWR);
			f->fd = -1;
			kick = 1;
		}
	}
	if (kick)
		pthread_kill(g->loop, SIGUSR1);
}

static void *vnc_guard_main(void *arg)
{
	struct vnc_guard *g = arg;

	pthread_mutex_lock(&g->mu);
	while (!g->quit) {
		struct timespec t;

		if (!g->armed) {
			pthread_cond_wait(&g->cv, &g->mu);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
		t.tv_nsec += VNC_TICK_MS * 1000000L;
		if (t.tv_nsec >= 1000000000L) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000L;
		}
		if (pthread_cond_timedwait(&g->cv, &g->mu, &t) == ETIMEDOUT && g->armed)
			vnc_guard_tick(g);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

/* Only there to end the loop's select() with EINTR. */
static void vnc_guard_wake(int sig)
{
}

static int vnc_guard_start(struct vnc_guard *g, char *err, size_t errlen)
{
	/* SA_RESTART: select() and poll() end with EINTR all the same. */
	struct sigaction sa = {.sa_handler = vnc_guard_wake, .sa_flags = SA_RESTART};
	pthread_condattr_t ca;
	sigset_t all, old;
	int rc;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) < 0) {
		snprintf(err, errlen, "sigaction SIGUSR1: %s", strerror(errno));
		return -1;
	}
	g->loop = pthread_self();
	pthread_mutex_init(&g->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->cv, &ca);
	pthread_condattr_destroy(&ca);
	/* Signals stay the loop's (signalfd, SIGUSR1). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&g->thread, NULL, vnc_guard_main, g);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		snprintf(err, errlen, "pthread_create: %s", strerror(rc));
		pthread_cond_destroy(&g->cv);
		pthread_mutex_destroy(&g->mu);
		return -1;
	}
	g->started = 1;
	return 0;
}

static void vnc_guard_stop(struct vnc_guard *g)
{
	if (!g->started)
		return;
	pthread_mutex_lock(&g->mu);
	g->quit = 1;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
	pthread_join(g->thread, NULL);
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	g->started = 0;
}

/* Around every libvncserver call that may write to a viewer. */
static void vnc_guard_arm(struct vnc *v)
{
	struct vnc_guard *g = &v->guard;
	rfbClientIteratorPtr i = v->lib.rfbGetClientIterator(v->screen);
	int64_t now = vnc_now_ms();
	rfbClientPtr cl;

	pthread_mutex_lock(&g->mu);
	g->n = 0;
	while ((cl = v->lib.rfbClientIteratorNext(i)) && g->n < VNC_MAX_CLIENTS) {
		struct vnc_client *vc = cl->clientData;

		g->fds[g->n++] = (struct vnc_guard_fd){
			.fd = cl->sock, .outq = vnc_outq(cl->sock), .since = now,
			.id = vc ? vc->id : 0};
	}
	v->lib.rfbReleaseClientIterator(i);
	g->armed_at = now;
	g->armed = g->n > 0;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

static void vnc_guard_disarm(struct vnc *v)
{
	struct vnc_guard *g = &v->guard;
	int dropped[VNC_MAX_CLIENTS], n = 0;

	pthread_mutex_lock(&g->mu);
	g->armed = 0;
	for (int i = 0; i < g->n; i++)
		if (g->fds[i].fd == -1)
			dropped[n++] = g->fds[i].id;
	g->n = 0;
	pthread_mutex_unlock(&g->mu);
	for (int i = 0; i < n; i++)
		vnc_log("viewer %d stopped reading: dropped", dropped[i]);
}

/* ------------------------------------------------------------ helpers */

static Display *vnc_dpy(struct vnc *v)
{
	return v->a->disp->dpy;
}

/* Count what libvncserver sent to cl since the last look. Its counters
 * are ints that wrap; the differences, taken often, do not. */
static void vnc_account(struct vnc *v, struct vnc_client *vc, rfbClientPtr cl)
{
	uint32_t bytes = (uint32_t)v->lib.rfbStatGetSentBytes(cl);
	uint32_t updates = (uint32_t)v->lib.rfbStatGetMessageCountSent(cl, rfbFramebufferUpdate);

	v->bytes_sent += (uint32_t)(bytes - vc->seen_bytes);
	v->updates_sent += (uint32_t)(updates - vc->seen_updates);
	vc->seen_bytes = bytes;
	vc->seen_updates = updates;
}

/* The X server's pixels as they are in memory: BGRX, 32 bits, depth 24. */
static void vnc_set_format(rfbScreenInfoPtr s)
{
	s->serverFormat.bitsPerPixel = 32;
	s->serverFormat.depth = 24;
	s->serverFormat.trueColour = TRUE;
	s->serverFormat.redMax = s->serverFormat.greenMax = s->serverFormat.blueMax = 255;
	s->serverFormat.redShift = 16;
	s->serverFormat.greenShift = 8;
	s->serverFormat.blueShift = 0;
}

/* Point libvncserver at v->fb as a w x h screen, keeping our format and
 * every viewer's translation (see the top of the file). */
static void vnc_resize_fb(struct vnc *v, int w, int h)
{
	rfbPixelFormat ours = v->screen->serverFormat;

	v->screen->serverFormat = v->default_fmt;
	v->lib.rfbNewFramebuffer(v->screen, (char *)v->fb, w, h, 8, 3, 4);
	v->screen->serverFormat = ours;
}

/* Copy the w x h area at (x, y) from the screen into the framebuffer and
 * tell libvncserver about the rows and columns that really changed
 * (X reports drawing, not change: an xterm redraws what it had). */
static void vnc_copy(struct vnc *v, int x, int y, int w, int h)
{
	size_t fstride = (size_t)v->screen->paddedWidthInBytes, stride;
	int x0 = w, x1 = -1, y0 = -1, y1 = -1;
	char err[256];
	uint8_t *pix;

	if (capture_grab(v->a->cap, x, y, w, h, &pix, &stride, err, sizeof err) < 0) {
		vnc_log("%s", err);
		return;
	}
	for (int r = 0; r < h; r++) {
		uint32_t *src = (uint32_t *)(pix + (size_t)r * stride);
		uint32_t *dst = (uint32_t *)(v->fb + (size_t)(y + r) * fstride + (size_t)x * 4);
		int a = 0, b = w - 1;

		if (memcmp(src, dst, (size_t)w * 4) == 0)
			continue;
		while (src[a] == dst[a])
			a++;
		while (src[b] == dst[b])
			b--;
		memcpy(dst + a, src + a, (size_t)(b - a + 1) * 4);
		if (y0 < 0)
			y0 = r;
		y1 = r;
		if (a < x0)
			x0 = a;
		if (b > x1)
			x1 = b;
	}
	if (y0 >= 0)
		v->lib.rfbMarkRectAsModified(v->screen, x + x0, y + y0, x + x1 + 1, y + y1 + 1);
}

/* ------------------------------------------------------ screen → viewers */

static void vnc_sync_size(struct vnc *v)
{
	struct display *d = v->a->disp;
	XRectangle *r;
	int n;

	if (v->screen->width == d->width && v->screen->height == d->height)
		return;
	vnc_resize_fb(v, d->width, d->height);
	r = display_take_damage(d, &n);
	if (r)
		XFree(r);
	/* Everything is marked modified already: copy it all. */
	memset(v->fb, 0, (size_t)d->width * (size_t)d->height * 4);
	vnc_copy(v, 0, 0, d->width, d->height);
}

static void vnc_sync_damage(struct vnc *v)
{
	XRectangle *r, b;
	long area = 0;
	int n;

	r = display_take_damage(v->a->disp, &n);
	if (!r)
		return;
	b = r[0];
	for (int i = 0; i < n; i++) {
		int x1 = b.x + b.width > r[i].x + r[i].width ? b.x + b.width : r[i].x + r[i].width;
		int y1 = b.y + b.height > r[i].y + r[i].height ? b.y + b.height : r[i].y + r[i].height;

		b.x = b.x < r[i].x ? b.x : r[i].x;
		b.y = b.y < r[i].y ? b.y : r[i].y;
		b.width = (unsigned short)(x1 - b.x);
		b.height = (unsigned short)(y1 - b.y);
		area += (long)r[i].width * r[i].height;
	}
	/* One capture of the bounds beats many round trips, unless most of
	 * the bounds did not change. */
	if (n > VNC_MAX_RECTS || area * 2 >= (long)b.width * b.height)
		vnc_copy(v, b.x, b.y, b.width, b.height);
	else
		for (int i = 0; i < n; i++)
			vnc_copy(v, r[i].x, r[i].y, r[i].width, r[i].height);
	XFree(r);
}

/* XFixes' cursor image (premultiplied ARGB) as a rich cursor with an
 * alpha channel, cut to VNC_CURSOR_MAX (libvncserver's update buffer
 * holds about 80x80). NULL on failure. */
static rfbCursorPtr vnc_make_cursor(struct vnc *v)
{
	XFixesCursorImage *ci = XFixesGetCursorImage(vnc_dpy(v));
	rfbCursorPtr c = NULL;
	int w, h, mstride;

	if (!ci)
		return NULL;
	w = ci->width < VNC_CURSOR_MAX ? ci->width : VNC_CURSOR_MAX;
	h = ci->height < VNC_CURSOR_MAX ? ci->height : VNC_CURSOR_MAX;
	mstride = (w + 7) / 8;
	if (w < 1 || h < 1 || !(c = calloc(1, sizeof *c)))
		goto done;
	c->richSource = malloc((size_t)w * h * 4);
	c->alphaSource = malloc((size_t)w * h);
	c->mask = calloc((size_t)mstride, (size_t)h);
	c->cleanup = c->cleanupRichSource = c->cleanupMask = TRUE;
	if (!c->richSource || !c->alphaSource || !c->mask) {
		v->lib.rfbFreeCursor(c);
		c = NULL;
		goto done;
	}
	c->width = (unsigned short)w;
	c->height = (unsigned short)h;
	c->xhot = (unsigned short)(ci->xhot < w ? ci->xhot : w - 1);
	c->yhot = (unsigned short)(ci->yhot < h ? ci->yhot : h - 1);
	c->alphaPreMultiplied = FALSE;
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			unsigned long p = ci->pixels[y * ci->width + x];
			unsigned a = (p >> 24) & 0xff, rgb[3];
			uint32_t px;

			/* Viewers draw the mask's pixels opaque: undo the
			 * premultiplication so shadows do not turn black. */
			for (int k = 0; k < 3; k++) {
				unsigned cv = (p >> (8 * k)) & 0xff;

				rgb[k] = a ? (cv * 255 + a / 2) / a : 0;
				if (rgb[k] > 255)
					rgb[k] = 255;
			}
			px = rgb[2] << 16 | rgb[1] << 8 | rgb[0];
			memcpy(c->richSource + ((size_t)y * w + x) * 4, &px, 4);
			c->alphaSource[y * w + x] = (unsigned char)a;
			if (a >= 128)
				c->mask[y * mstride + x / 8] |= (unsigned char)(0x80 >> (x & 7));
		}
done:
	XFree(ci);
	return c;
}

static void vnc_sync_cursor(struct vnc *v)
{
	rfbCursorPtr c;

	if (v->have_cursor && v->cursor_serial == v->a->disp->cursor_serial)
		return;
	c = vnc_make_cursor(v);
	if (!c)
		return;
	v->lib.rfbSetCursor(v->screen, c);   /* frees the one before */
	v->have_cursor = 1;
	/* Made again at the next XFixes cursor event, not when the image's
	 * serial differs: switching back to a cursor brings an older serial. */
	v->cursor_serial = v->a->disp->cursor_serial;
}

/* See the top of the file. Without XInput2 the pointer is read at every
 * turn of the loop instead. */
static void vnc_sync_pointer(struct vnc *v)
{
	struct display *d = v->a->disp;
	rfbClientIteratorPtr i;
	rfbClientPtr cl;
	int x, y;

	if (v->pointer_known && d->xi_opcode && d->pointer_moves == v->pointer_seen)
		return;
	v->pointer_seen = d->pointer_moves;
	if (display_pointer(d, &x, &y) < 0)
		return;
	v->pointer_known = 1;
	if (x == v->screen->cursorX && y == v->screen->cursorY)
		return;
	v->screen->cursorX = x;
	v->screen->cursorY = y;
	i = v->lib.rfbGetClientIterator(v->screen);
	while ((cl = v->lib.rfbClientIteratorNext(i)))
		if (cl->enableCursorPosUpdates)
			cl->cursorWasMoved = TRUE;
	v->lib.rfbReleaseClientIterator(i);
}

/* The extended clipboard's text has CRLF line ends (classic cut text and
 * X use LF). A copy of text with them, or NULL. */
static char *vnc_crlf(const char *text, size_t len, size_t *out)
{
	char *r = malloc(len * 2 + 1);
	size_t n = 0;

	if (!r)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
			r[n++] = '\r';
		r[n++] = text[i];
	}
	r[n] = 0;
	*out = n;
	return r;
}

/* ServerCutText as the extended clipboard has it: Provide with the
 * text (zlib, with its NUL), or Notify when the viewer wants to ask for
 * it; libvncserver answers its Request from cl->extClipboardData. */
static int vnc_send_cut_ext(rfbClientPtr cl, const char *text, size_t len)
{
	struct vnc *v = cl->screen->screenData;
	uint32_t flags = rfbExtendedClipboard_Text, hdr[2];
	uLongf zlen = compressBound((uLong)len + 5);
	unsigned char *raw = malloc(len + 5), *z = malloc(zlen + 12);
	int rc = -1;

	free(cl->extClipboardData);
	cl->extClipboardData = malloc(len + 1);
	if (!raw || !z || !cl->extClipboardData)
		goto done;
	memcpy(cl->extClipboardData, text, len);
	cl->extClipboardData[len] = 0;
	cl->extClipboardDataSize = (int)len + 1;
	if ((cl->extClipboardUserCap & rfbExtendedClipboard_Provide) &&
	    len < (size_t)cl->extClipboardMaxUnsolicitedSize) {
		hdr[0] = htonl((uint32_t)len + 1);
		memcpy(raw, hdr, 4);
		memcpy(raw + 4, text, len);
		raw[len + 4] = 0;
		if (compress(z + 12, &zlen, raw, (uLong)len + 5) != Z_OK)
			goto done;
		flags |= rfbExtendedClipboard_Provide;
	} else if (cl->extClipboardUserCap & rfbExtendedClipboard_Notify) {
		zlen = 0;
		flags |= rfbExtendedClipboard_Notify;
	} else {
		rc = 0;
		goto done;
	}
	z[0] = rfbServerCutText;
	z[1] = z[2] = z[3] = 0;
	hdr[0] = htonl((uint32_t)-(int32_t)(zlen + 4));
	hdr[1] = htonl(flags);
	memcpy(z + 4, hdr, 8);
	rc = v->lib.rfbWriteExact(cl, (char *)z, (int)zlen + 12) < 0 ? -1 : (int)zlen + 12;
done:
	if (!cl->extClipboardData)
		cl->extClipboardDataSize = 0;
	free(raw);
	free(z);
	return rc;
}

/* An extended clipboard message with no text: flags, and when they
 * announce caps, the largest text we take unasked (libvncserver's limit). */
static int vnc_send_clip_flags(rfbClientPtr cl, uint32_t flags)
{
	struct vnc *v = cl->screen->screenData;
	uint32_t m[4] = {htonl((uint32_t)rfbServerCutText << 24), 0, htonl(flags),
			 htonl(VNC_MAX_CUT)};
	int n = flags & rfbExtendedClipboard_Caps ? 16 : 12;

	m[1] = htonl((uint32_t)-(n - 8));
	return v->lib.rfbWriteExact(cl, (char *)m, n) < 0 ? -1 : n;
}

/* See the top of the file: our caps, with Notify, replace libvncserver's. */
static int vnc_send_caps(rfbClientPtr cl)
{
	return vnc_send_clip_flags(cl, rfbExtendedClipboard_Caps | rfbExtendedClipboard_Request |
				   rfbExtendedClipboard_Peek | rfbExtendedClipboard_Notify |
				   rfbExtendedClipboard_Provide | rfbExtendedClipboard_Text);
}

/* Plain ServerCutText: Latin-1. */
static int vnc_send_cut_latin1(rfbClientPtr cl, const char *l1, size_t n)
{
	struct vnc *v = cl->screen->screenData;
	rfbServerCutTextMsg m = {.type = rfbServerCutText};

	m.length = htonl((uint32_t)n);   /* not Swap32IfLE: that reads a variable of the library's */
	if (v->lib.rfbWriteExact(cl, (char *)&m, sz_rfbServerCutTextMsg) < 0 ||
	    v->lib.rfbWriteExact(cl, l1, (int)n) < 0)
		return -1;
	return sz_rfbServerCutTextMsg + (int)n;
}

/* Clipboard text (UTF-8) to every viewer past its handshake, in the form
 * it understands; see the top of the file. */
static void vnc_send_cut(struct vnc *v, const char *text, size_t len)
{
	rfbClientIteratorPtr i;
	rfbClientPtr cl;
	size_t n, clen;
	char *l1 = clipboard_latin1(text, len, &n), *crlf = vnc_crlf(text, len, &clen);

	if (!l1 || !crlf)
		goto done;
	vnc_guard_arm(v);
	i = v->lib.rfbGetClientIterator(v->screen);
	while ((cl = v->lib.rfbClientIteratorNext(i))) {
		int sent;

		if (cl->state != RFB_NORMAL)
			continue;
		sent = cl->enableExtendedClipboard ? vnc_send_cut_ext(cl, crlf, clen)
						   : vnc_send_cut_latin1(cl, l1, n);
		if (sent < 0)
			v->lib.rfbCloseClient(cl);
		else
			v->bytes_sent += (uint64_t)sent;
	}
	v->lib.rfbReleaseClientIterator(i);
	vnc_guard_disarm(v);
done:
	free(l1);
	free(crlf);
}

/* The clipboard's new text, read for the viewers. */
static void vnc_clipboard_got(void *ctx, void *arg, char *text, size_t len,
			      int notext, const char *err)
{
	struct vnc *v = ctx;

	if (!text) {
		if (!notext)
			vnc_log("clipboard: %s", err);
		return;
	}
	if (len > VNC_MAX_CUT) {
		vnc_log("clipboard: %zu bytes is over the %d viewers take", len, VNC_MAX_CUT);
	} else if (len) {
		vnc_send_cut(v, text, len);
	}
	free(text);
}

static void vnc_sync_clipboard(struct vnc *v)
{
	struct display *d = v->a->disp;

	if (d->clipboard_owners == v->clip_seen)
		return;
	v->clip_seen = d->clipboard_owners;
	/* The answer comes from the loop; the clipboard outlives no vnc
	 * callback: vnc_destroy runs before clipboard_destroy, which then
	 * drops the pending ones without calling them. */
	if (clipboard_get(v->a->clip, vnc_clipboard_got, v, NULL, NULL) < 0)
		vnc_log("clipboard: out of memory");
}

/* ------------------------------------------------------ viewers → X */

static int vnc_apply(struct vnc *v, const struct vnc_input *e)
{
	struct display *d = v->a->disp;

	if (!e->is_key) {
		input_pointer_mask(v->a->in, e->x < d->width ? e->x : d->width - 1,
				   e->y < d->height ? e->y : d->height - 1, e->mask);
		return INPUT_OK;
	}
	return input_keysym(v->a->in, e->ks, e->down);
}

/* Run queued input, oldest first, until one must wait again. */
static void vnc_input_flush(struct vnc *v)
{
	while (v->qlen && input_now_ms() >= v->q_wake) {
		struct vnc_input *e = &v->q[v->qhead];

		if (vnc_apply(v, e) == INPUT_BUSY) {
			v->q_wake = input_busy_until(v->a->in);
			return;
		}
		v->qhead = (v->qhead + 1) % VNC_QUEUE;
		v->qlen--;
	}
}

/* Apply e now, or queue it behind what waits (order is kept). */
static void vnc_input(struct vnc *v, const struct vnc_input *e)
{
	if (!v->qlen && vnc_apply(v, e) != INPUT_BUSY)
		return;
	if (!v->qlen)
		v->q_wake = input_busy_until(v->a->in);
	if (v->qlen == VNC_QUEUE) {
		if (!v->q_dropped++)
			vnc_log("input queue full: events dropped");
		return;
	}
	v->q[(v->qhead + v->qlen) % VNC_QUEUE] = *e;
	v->qlen++;
}

static void vnc_on_key(rfbBool down, rfbKeySym ks, rfbClientPtr cl)
{
	struct vnc_client *vc = cl->clientData;
	struct vnc_input e = {.is_key = 1, .ks = ks, .down = down ? 1 : 0};
	int i;

	if (!vc || vc->view_only || !ks)
		return;
	for (i = 0; i < vc->nheld && vc->held[i] != ks; i++)
		;
	if (down && i == vc->nheld && vc->nheld < VNC_MAX_HELD)
		vc->held[vc->nheld++] = ks;
	else if (!down && i < vc->nheld)
		vc->held[i] = vc->held[--vc->nheld];
	vnc_input(vc->v, &e);
}

static void vnc_on_pointer(int mask, int x, int y, rfbClientPtr cl)
{
	struct vnc_client *vc = cl->clientData;
	struct vnc_input e = {.x = x < 0 ? 0 : x, .y = y < 0 ? 0 : y,
			      .mask = (unsigned)mask & 0xff};

	if (!vc || vc->view_only)
		return;
	vc->buttons = e.mask;
	vnc_input(vc->v, &e);
}

/* What a viewer held down when it went away is released. */
static void vnc_release_held(struct vnc *v, struct vnc_client *vc)
{
	while (vc->nheld > 0) {
		struct vnc_input e = {.is_key = 1, .ks = vc->held[--vc->nheld]};

		vnc_input(v, &e);
	}
	if (vc->buttons) {
		struct vnc_input e = {0};

		display_pointer(v->a->disp, &e.x, &e.y);
		vnc_input(v, &e);
	}
}

static void vnc_set_clipboard(rfbClientPtr cl, const char *s, size_t len, int latin1)
{
	struct vnc_client *vc = cl->clientData;
	char err[256], *text;
	size_t n;

	if (!vc || vc->view_only)
		return;
	vc->got_text = 1;
	while (len && !s[len - 1])   /* the extended clipboard's text ends in NUL */
		len--;
	text = clipboard_to_utf8(s, len, latin1, &n);
	if (!text)
		return;
	if (!latin1) {   /* CRLF, as the extended clipboard has it, to LF */
		size_t k = 0;

		for (size_t j = 0; j < n; j++)
			if (!(text[j] == '\r' && j + 1 < n && text[j + 1] == '\n'))
				text[k++] = text[j];
		n = k;
	}
	if (clipboard_set(vc->v->a->clip, text, n, err, sizeof err) < 0)
		vnc_log("viewer %d clipboard: %s", vc->id, err);
	free(text);
}

static void vnc_on_cut_latin1(char *s, int len, rfbClientPtr cl)
{
	vnc_set_clipboard(cl, s, len > 0 ? (size_t)len : 0, 1);
}

static void vnc_on_cut_utf8(char *s, int len, rfbClientPtr cl)
{
	vnc_set_clipboard(cl, s, len > 0 ? (size_t)len : 0, 0);
}

/* ExtendedDesktopSize from a viewer: resize the X screen; vnc_sync_size
 * tells every viewer afterwards. */
static int vnc_on_set_size(int w, int h, int nscreens, struct rfbExtDesktopScreen *s,
			   rfbClientPtr cl)
{
	struct vnc_client *vc = cl->clientData;
	struct display *d;
	char err[256];

	if (!vc || vc->view_only)
		return rfbExtDesktopSize_ResizeProhibited;
	d = vc->v->a->disp;
	if (w < 1 || h < 1 || w > d->max_w || h > d->max_h)
		return rfbExtDesktopSize_InvalidScreenLayout;
	if (display_resize(d, w, h, err, sizeof err) < 0) {
		vnc_log("viewer %d: %s", vc->id, err);
		return rfbExtDesktopSize_OutOfResources;
	}
	return rfbExtDesktopSize_Success;
}

/* -------------------------------------------------------- viewers */

static void vnc_on_update_sent(rfbClientPtr cl, int result)
{
	if (cl->clientData)
		vnc_account(((struct vnc_client *)cl->clientData)->v, cl->clientData, cl);
}

static void vnc_on_client_gone(rfbClientPtr cl)
{
	struct vnc_client *vc = cl->clientData;
	struct vnc *v;

	if (!vc)
		return;
	v = vc->v;
	vnc_account(v, vc, cl);
	if (!v->closing)
		vnc_release_held(v, vc);
	free(cl->wsctx);   /* 0.9.14 forgets it */
	cl->wsctx = NULL;
	cl->clientData = NULL;
	v->nclients--;
	free(vc);
}

static enum rfbNewClientAction vnc_on_new_client(rfbClientPtr cl)
{
	struct vnc *v = cl->screen->screenData;
	struct vnc_client *vc = calloc(1, sizeof *vc);

	if (!vc)
		return RFB_CLIENT_REFUSE;
	vc->v = v;
	vc->id = ++v->next_id;
	vc->view_only = v->attach_view_only;
	cl->clientData = vc;
	cl->clientGoneHook = vnc_on_client_gone;
	cl->viewOnly = vc->view_only ? TRUE : FALSE;
	v->nclients++;
	return RFB_CLIENT_ACCEPT;
}

/* The first viewer: framebuffer, damage regions, clipboard watch, cursor. */
static int vnc_start(struct vnc *v, char *err, size_t errlen)
{
	struct display *d = v->a->disp;

	/* Mapped, not malloc'ed: unmapped when the last viewer leaves, its
	 * pages go back at once. A freed malloc block this size raises glibc's
	 * mmap threshold, and the next one comes from the heap and may stay
	 * resident after it is freed (4 MB of a 1280x800 screen kept by an
	 * agent no one watches). */
	v->fb_len = (size_t)d->max_w * (size_t)d->max_h * 4;
	v->fb = mmap(NULL, v->fb_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (v->fb == MAP_FAILED) {
		v->fb = NULL;
		snprintf(err, errlen, "cannot map the framebuffer: %s", strerror(errno));
		return -1;
	}
	if (display_track_damage(d, 1) < 0) {
		munmap(v->fb, v->fb_len);
		v->fb = NULL;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* Tracking first, then the copy: nothing drawn in between is lost. */
	vnc_resize_fb(v, d->width, d->height);
	memset(v->fb, 0, (size_t)d->width * (size_t)d->height * 4);
	vnc_copy(v, 0, 0, d->width, d->height);
	display_watch_clipboard(d, v->clipboard, 1);
	v->clip_seen = d->clipboard_owners;
	v->have_cursor = 0;
	vnc_sync_cursor(v);
	display_watch_pointer(d, 1);
	v->pointer_known = 0;
	vnc_sync_pointer(v);
	return 0;
}

/* The last viewer left: back to costing nothing. */
static void vnc_stop(struct vnc *v)
{
	struct display *d = v->a->disp;

	display_track_damage(d, 0);
	display_watch_clipboard(d, v->clipboard, 0);
	display_watch_pointer(d, 0);
	munmap(v->fb, v->fb_len);
	v->fb = NULL;
	v->screen->frameBuffer = NULL;
}

/* ---------------------------------------------------------- public */

/* Load libvncserver into v->lib (see the top of the file). */
static int vnc_lib_load(struct vnc_lib *l, char *err, size_t errlen)
{
	if (!(l->handle = dlopen(VNC_LIB, RTLD_NOW | RTLD_LOCAL))) {
		snprintf(err, errlen, "VNC needs %s, which cannot be loaded: %s", VNC_LIB, dlerror());
		return -1;
	}
/* The name after macro expansion: rfbInitServer is
 * rfbInitServerWithPthreadsAndZRLE in the library. */
#define VNC_STR(name) #name
#define VNC_LOAD(name) \
	if (!(l->name = (__typeof__(name) *)dlsym(l->handle, VNC_STR(name)))) { \
		snprintf(err, errlen, "%s has no %s", VNC_LIB, VNC_STR(name)); \
		goto fail; \
	}
	VNC_SYMS(VNC_LOAD)
#undef VNC_LOAD
#undef VNC_STR
	*l->rfbLog = vnc_lib_log;
	*l->rfbErr = vnc_lib_err;
	return 0;
fail:
	dlclose(l->handle);
	l->handle = NULL;
	return -1;
}

/* The first viewer is coming: load the library, make the screen (at the
 * display's size now), the input queue and the stall guard. -1 with err,
 * everything but the loading undone. */
static int vnc_open(struct vnc *v, char *err, size_t errlen)
{
	rfbScreenInfoPtr s;

	if (!v->lib.handle && vnc_lib_load(&v->lib, err, errlen) < 0)
		return -1;
	if (!(v->q = calloc(VNC_QUEUE, sizeof *v->q))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	s = v->lib.rfbGetScreen(NULL, NULL, v->a->disp->width, v->a->disp->height, 8, 3, 4);
	if (!s) {
		snprintf(err, errlen, "rfbGetScreen failed");
		goto fail;
	}
	v->default_fmt = s->serverFormat;
	vnc_set_format(s);
	s->screenData = v;
	s->frameBuffer = NULL;
	s->desktopName = "deskbox";
	/* No listening socket of any kind: viewers come through vnc_attach. */
	s->autoPort = FALSE;
	s->port = 0;
	s->ipv6port = 0;
	s->udpPort = 0;
	s->httpPort = 0;
	s->http6Port = 0;
	s->httpDir = NULL;
	s->alwaysShared = TRUE;          /* several viewers at once */
	s->authPasswdData = NULL;        /* security type None: deskboxd authenticated */
	s->maxClientWait = VNC_READ_WAIT_MS;
	s->deferUpdateTime = 0;
	s->deferPtrUpdateTime = 0;
	s->handleEventsEagerly = FALSE;
	s->permitFileTransfer = FALSE;
	s->newClientHook = vnc_on_new_client;
	s->kbdAddEvent = vnc_on_key;
	s->ptrAddEvent = vnc_on_pointer;
	s->setXCutText = vnc_on_cut_latin1;
	s->setXCutTextUTF8 = vnc_on_cut_utf8;
	s->setDesktopSizeHook = vnc_on_set_size;
	s->displayFinishedHook = vnc_on_update_sent;
	v->lib.rfbInitServer(s);
	/* The guard interrupts the thread that starts it: the loop's, where
	 * vnc_attach runs. */
	if (vnc_guard_start(&v->guard, err, errlen) < 0) {
		v->lib.rfbScreenCleanup(s);
		goto fail;
	}
	v->clipboard = XInternAtom(vnc_dpy(v), "CLIPBOARD", False);
	v->screen = s;
	return 0;
fail:
	free(v->q);
	v->q = NULL;
	return -1;
}

struct vnc *vnc_create(struct agent *a, char *err, size_t errlen)
{
	struct vnc *v = calloc(1, sizeof *v);

	if (!v) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	v->a = a;
	return v;
}

void vnc_destroy(struct vnc *v)
{
	if (!v)
		return;
	if (v->screen) {
		v->closing = 1;
		v->lib.rfbShutdownServer(v->screen, TRUE);
		if (v->fb)
			vnc_stop(v);
		v->lib.rfbScreenCleanup(v->screen);
		vnc_guard_stop(&v->guard);
	}
	/* The library stays loaded: the agent ends soon after, and once
	 * unloaded, what gnutls and libgcrypt keep in their globals would look
	 * leaked to LeakSanitizer. */
	free(v->q);
	free(v);
}

int vnc_attach(struct vnc *v, int fd, int view_only, int *id, int *bad,
	       char *err, size_t errlen)
{
	char pv[sz_rfbProtocolVersionMsg + 1];
	int type = 0, one = 1, sp[2] = {-1, -1}, started = 0;
	socklen_t tlen = sizeof type;
	rfbClientPtr cl;

	*bad = 0;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 || type != SOCK_STREAM) {
		*bad = 1;
		snprintf(err, errlen, "the descriptor is not a stream socket");
		goto fail;
	}
	if (v->nclients >= VNC_MAX_CLIENTS) {
		snprintf(err, errlen, "%d viewers are attached already", VNC_MAX_CLIENTS);
		goto fail;
	}
	if (!v->screen && vnc_open(v, err, errlen) < 0)
		goto fail;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		snprintf(err, errlen, "socketpair: %s", strerror(errno));
		goto fail;
	}
	if (sp[0] >= FD_SETSIZE) {   /* libvncserver uses select() */
		snprintf(err, errlen, "descriptor %d is past select()'s limit", sp[0]);
		goto fail;
	}
	if (!v->fb) {
		if (vnc_start(v, err, errlen) < 0)
			goto fail;
		started = 1;
	}
	/* See the top of the file: the WebSocket peek finds "RFB " here. */
	if (write(sp[1], "RFB ", 4) != 4) {
		snprintf(err, errlen, "socketpair write: %s", strerror(errno));
		goto fail;
	}
	v->attach_view_only = view_only;
	cl = v->lib.rfbNewClient(v->screen, sp[0]);   /* takes sp[0], even on failure */
	sp[0] = -1;
	if (!cl) {
		snprintf(err, errlen, "libvncserver refused the viewer");
		goto fail;
	}
	if (dup3(fd, cl->sock, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "dup3: %s", strerror(errno));
		v->lib.rfbCloseClient(cl);
		goto fail;
	}
	close(sp[1]);
	close(fd);
	if (fcntl(cl->sock, F_SETFL, fcntl(cl->sock, F_GETFL) | O_NONBLOCK) < 0) {
		snprintf(err, errlen, "fcntl: %s", strerror(errno));
		v->lib.rfbCloseClient(cl);
		return -1;
	}
	(void)setsockopt(cl->sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	snprintf(pv, sizeof pv, rfbProtocolVersionFormat, v->screen->protocolMajorVersion,
		 v->screen->protocolMinorVersion);
	if (v->lib.rfbWriteExact(cl, pv, sz_rfbProtocolVersionMsg) < 0) {
		snprintf(err, errlen, "write to the viewer: %s", strerror(errno));
		v->lib.rfbCloseClient(cl);
		return -1;
	}
	*id = ((struct vnc_client *)cl->clientData)->id;
	return 0;
fail:
	if (sp[0] >= 0)
		close(sp[0]);
	if (sp[1] >= 0)
		close(sp[1]);
	close(fd);
	if (started && !v->screen->clientHead)
		vnc_stop(v);
	return -1;
}

/*
 * An update that only announces a new size leaves the viewer's request
 * standing, and libvncserver sends the pixels only at its next round,
 * which would wait for some unrelated wake-up: give it that round now.
 */
static void vnc_update_again(struct vnc *v)
{
	rfbClientIteratorPtr i = v->lib.rfbGetClientIterator(v->screen);
	rfbClientPtr cl;

	/* FB_UPDATE_PENDING calls sraRgnEmpty by name: through the table. */
#define sraRgnEmpty(r) v->lib.sraRgnEmpty(r)
	while ((cl = v->lib.rfbClientIteratorNext(i)))
		if (!sraRgnEmpty(cl->requestedRegion) && FB_UPDATE_PENDING(cl))
			v->lib.rfbUpdateClient(cl);
#undef sraRgnEmpty
	v->lib.rfbReleaseClientIterator(i);
}

/* See the top of the file: note, for each viewer, the extended clipboard
 * Notify libvncserver is about to read, and how many messages of the
 * kinds vnc_answer looks at it has read so far. A cut text whose first
 * 12 bytes are not all there yet (libvncserver waits for the rest) is
 * told by its size afterwards: see vnc_answer. */
static void vnc_peek(struct vnc *v)
{
	rfbClientIteratorPtr i = v->lib.rfbGetClientIterator(v->screen);
	rfbClientPtr cl;

	while ((cl = v->lib.rfbClientIteratorNext(i))) {
		struct vnc_client *vc = cl->clientData;
		unsigned char b[12];
		uint32_t flags;
		ssize_t n;

		if (!vc)
			continue;
		vc->notify = 0;
		vc->cut_partial = vc->got_text = 0;
		vc->seen_encodings = v->lib.rfbStatGetMessageCountRcvd(cl, rfbSetEncodings);
		vc->seen_cuts = v->lib.rfbStatGetMessageCountRcvd(cl, rfbClientCutText);
		vc->seen_rcvd = v->lib.rfbStatGetRcvdBytes(cl);
		if (cl->state != RFB_NORMAL || !cl->enableExtendedClipboard)
			continue;
		n = recv(cl->sock, b, sizeof b, MSG_PEEK | MSG_DONTWAIT);
		if (n < 1 || b[0] != rfbClientCutText)
			continue;
		vc->cut_partial = n < (ssize_t)sizeof b;
		if (vc->cut_partial || !(b[4] & 0x80))
			continue;
		memcpy(&flags, b + 8, 4);
		flags = ntohl(flags);
		if ((flags & 0xff000000) == rfbExtendedClipboard_Notify)
			vc->notify = flags;
	}
	v->lib.rfbReleaseClientIterator(i);
}

/* After rfbProcessEvents: our caps to a viewer that just enabled the
 * extended clipboard (libvncserver sent its own), and a Request for the
 * text a viewer's Notify announced. A cut text not whole at the peek was
 * a Notify when it took 12 bytes and brought no text: the other such
 * messages (Request, Peek) libvncserver has answered, and a Request of
 * ours to them costs nothing (a viewer provides only text it announced). */
static void vnc_answer(struct vnc *v)
{
	rfbClientIteratorPtr i = v->lib.rfbGetClientIterator(v->screen);
	rfbClientPtr cl;

	while ((cl = v->lib.rfbClientIteratorNext(i))) {
		struct vnc_client *vc = cl->clientData;
		int n = 0;

		if (!vc || cl->sock < 0 || !cl->enableExtendedClipboard)
			continue;
		if (v->lib.rfbStatGetMessageCountRcvd(cl, rfbSetEncodings) != vc->seen_encodings)
			n = vnc_send_caps(cl);
		if (vc->cut_partial && !vc->got_text &&
		    v->lib.rfbStatGetRcvdBytes(cl) - vc->seen_rcvd == sz_rfbClientCutTextMsg + 4)
			vc->notify = rfbExtendedClipboard_Notify | rfbExtendedClipboard_Text;
		if (n >= 0 && (vc->notify & rfbExtendedClipboard_Text) && !vc->view_only &&
		    v->lib.rfbStatGetMessageCountRcvd(cl, rfbClientCutText) != vc->seen_cuts)
			n = vnc_send_clip_flags(cl, rfbExtendedClipboard_Request |
						rfbExtendedClipboard_Text);
		vc->notify = 0;
		if (n < 0)
			v->lib.rfbCloseClient(cl);
	}
	v->lib.rfbReleaseClientIterator(i);
}

void vnc_run(struct vnc *v)
{
	if (!v->screen || !v->screen->clientHead)
		return;
	if (v->fb) {
		vnc_sync_size(v);
		vnc_sync_damage(v);
		vnc_sync_cursor(v);
		vnc_sync_pointer(v);
		vnc_sync_clipboard(v);
		vnc_input_flush(v);
	}
	vnc_peek(v);
	vnc_guard_arm(v);
	v->lib.rfbProcessEvents(v->screen, 0);
	vnc_answer(v);
	vnc_update_again(v);
	vnc_guard_disarm(v);
	XFlush(vnc_dpy(v));   /* the viewers' input */
	if (!v->nclients && v->fb)
		vnc_stop(v);
}

int vnc_pollfds(struct vnc *v, struct pollfd *p, int max)
{
	rfbClientIteratorPtr i;
	rfbClientPtr cl;
	int n = 0;

	if (!v->screen)
		return 0;
	i = v->lib.rfbGetClientIterator(v->screen);
	while ((cl = v->lib.rfbClientIteratorNext(i)) && n < max)
		p[n++] = (struct pollfd){.fd = cl->sock, .events = POLLIN};
	v->lib.rfbReleaseClientIterator(i);
	return n;
}

int vnc_timeout_ms(const struct vnc *v)
{
	int64_t left;

	if (!v->screen)
		return -1;
	/* A viewer closed outside rfbProcessEvents waits there to be freed. */
	for (rfbClientPtr cl = v->screen->clientHead; cl; cl = cl->next)
		if (cl->sock < 0)
			return 0;
	if (!v->qlen)
		return -1;
	left = v->q_wake - input_now_ms();
	return left < 0 ? 0 : left > 1000 ? 1000 : (int)left;
}

void vnc_stats(struct vnc *v, struct vnc_stats *st)
{
	rfbClientIteratorPtr i;
	rfbClientPtr cl;

	if (v->screen) {
		i = v->lib.rfbGetClientIterator(v->screen);
		while ((cl = v->lib.rfbClientIteratorNext(i)))
			if (cl->clientData)
				vnc_account(v, cl->clientData, cl);
		v->lib.rfbReleaseClientIterator(i);
	}
	st->clients = v->nclients;
	st->bytes_sent = v->bytes_sent;
	st->updates_sent = v->updates_sent;
}
