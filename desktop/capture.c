/*
 * capture.c - XShm screen capture and cursor compositing.
 *
 * Owns the SysV shared-memory segment (removed right after both sides
 * attach, so it cannot leak past the agent) and nothing else. The segment
 * needs the X server in the same IPC namespace, which is why the agent
 * lives inside the sandbox. Loop thread only; no global state.
 */
#include "capture.h"

#include <X11/Xutil.h>
#include <X11/extensions/XShm.h>
#include <X11/extensions/Xfixes.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

struct capture {
	struct display *d;
	XShmSegmentInfo shm;
	int attached;
	Visual *visual;
	size_t mapped;      /* bytes from the segment's start in our page tables */
};

struct capture *capture_create(struct display *d, char *err, size_t errlen)
{
	struct capture *c = calloc(1, sizeof *c);
	size_t size = (size_t)d->max_w * (size_t)d->max_h * 4;
	Visual *v = DefaultVisual(d->dpy, d->screen);

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->d = d;
	c->visual = v;
	c->shm.shmid = -1;
	c->shm.shmaddr = (char *)-1;
	if (v->red_mask != 0xff0000 || v->green_mask != 0xff00 || v->blue_mask != 0xff) {
		snprintf(err, errlen, "visual is not 24-bit RGB");
		goto fail;
	}
	/* Group-readable and writable: the agent may run as a uid of its own
	 * with the user's group, and Xvfb, the user's, must attach it. The
	 * user can reach it too; it holds nothing but pixels of a screen
	 * the user can read and draw on anyway. */
	c->shm.shmid = shmget(IPC_PRIVATE, size, IPC_CREAT | 0660);
	if (c->shm.shmid < 0) {
		snprintf(err, errlen, "shmget %zu bytes: %s", size, strerror(errno));
		goto fail;
	}
	c->shm.shmaddr = shmat(c->shm.shmid, NULL, 0);
	if (c->shm.shmaddr == (char *)-1) {
		snprintf(err, errlen, "shmat: %s", strerror(errno));
		goto fail;
	}
	c->shm.readOnly = False;
	display_trap_begin(d);
	XShmAttach(d->dpy, &c->shm);
	if (display_trap_end(d)) {
		snprintf(err, errlen, "XShmAttach failed (is the X server in another IPC namespace?)");
		goto fail;
	}
	c->attached = 1;
	shmctl(c->shm.shmid, IPC_RMID, NULL);
	return c;
fail:
	capture_destroy(c);
	return NULL;
}

void capture_destroy(struct capture *c)
{
	if (!c)
		return;
	if (c->attached) {
		XShmDetach(c->d->dpy, &c->shm);
		XSync(c->d->dpy, False);
	}
	if (c->shm.shmaddr != (char *)-1)
		shmdt(c->shm.shmaddr);
	if (c->shm.shmid >= 0)
		shmctl(c->shm.shmid, IPC_RMID, NULL);
	free(c);
}

/*
 * Map the first len bytes of the segment into our page tables in one call.
 * A SysV segment's pages fault in one by one (no fault-around), and the
 * first screenshot's reading of a fresh segment took a page fault per 4 KiB,
 * 1-2 ms of it. Only pages the X server has just written are asked for, so
 * this charges no memory; without MADV_POPULATE_READ (Linux < 5.14) the
 * pages fault in as before.
 */
static void capture_map(struct capture *c, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), from = c->mapped & ~(page - 1);

	if (len <= c->mapped)
		return;
	if (madvise(c->shm.shmaddr + from, len - from, MADV_POPULATE_READ) == 0)
		c->mapped = len;
	else
		c->mapped = (size_t)-1;   /* not supported: do not ask again */
}

/* XShmGetImage of (x, y, w, h) of drawable into the segment. */
static int capture_shm(struct capture *c, Drawable drawable, int x, int y, int w, int h,
		       uint8_t **pix, size_t *stride, char *err, size_t errlen)
{
	struct display *d = c->d;
	XImage *img;
	int code = 0;
	Bool ok;

	img = XShmCreateImage(d->dpy, c->visual, 24, ZPixmap, c->shm.shmaddr,
			      &c->shm, (unsigned)w, (unsigned)h);
	if (!img) {
		snprintf(err, errlen, "XShmCreateImage failed");
		return -1;
	}
	if (img->bits_per_pixel != 32) {
		snprintf(err, errlen, "image has %d bits per pixel", img->bits_per_pixel);
		goto out;
	}
	display_trap_begin(d);
	ok = XShmGetImage(d->dpy, drawable, img, x, y, AllPlanes);
	code = display_trap_end(d);
	if (!ok || code) {
		snprintf(err, errlen, "XShmGetImage of %dx%d+%d+%d failed (error %d)",
			 w, h, x, y, code);
		code = -1;
		goto out;
	}
	*pix = (uint8_t *)c->shm.shmaddr;
	*stride = (size_t)img->bytes_per_line;
	capture_map(c, (size_t)img->bytes_per_line * (size_t)h);
out:
	img->data = NULL;   /* the segment is ours, not the image's */
	XDestroyImage(img);
	return code ? -1 : 0;
}

int capture_grab(struct capture *c, int x, int y, int w, int h,
		 uint8_t **pix, size_t *stride, char *err, size_t errlen)
{
	struct display *d = c->d;

	if (x < 0 || y < 0 || w < 1 || h < 1 || x + w > d->width || y + h > d->height) {
		snprintf(err, errlen, "region %dx%d+%d+%d is outside the %dx%d screen",
			 w, h, x, y, d->width, d->height);
		return -1;
	}
	return capture_shm(c, d->root, x, y, w, h, pix, stride, err, errlen);
}

int capture_grab_window(struct capture *c, Window win, int x, int y, int w, int h,
			uint8_t **pix, size_t *stride, char *err, size_t errlen)
{
	struct display *d = c->d;

	if (x < 0 || y < 0 || w < 1 || h < 1 || w > d->max_w ||
	    (int64_t)w * h > (int64_t)d->max_w * d->max_h) {
		snprintf(err, errlen, "a %dx%d window image is over the %dx%d screen's area",
			 w, h, d->max_w, d->max_h);
		return -1;
	}
	return capture_shm(c, win, x, y, w, h, pix, stride, err, errlen);
}

/* Blend one premultiplied ARGB pixel over a BGRX one. */
static void capture_blend(uint8_t *p, unsigned long argb)
{
	unsigned a = (argb >> 24) & 0xff, inv = 255 - a;

	if (!a)
		return;
	for (int i = 0; i < 3; i++) {
		unsigned v = ((argb >> (8 * i)) & 0xff) + (p[i] * inv + 127) / 255;

		p[i] = (uint8_t)(v > 255 ? 255 : v);
	}
}

int capture_draw_cursor(struct capture *c, uint8_t *pix, size_t stride,
			int x, int y, int w, int h)
{
	XFixesCursorImage *ci = XFixesGetCursorImage(c->d->dpy);
	int ox, oy;

	if (!ci)
		return -1;
	ox = ci->x - ci->xhot - x;
	oy = ci->y - ci->yhot - y;
	for (int cy = 0; cy < ci->height; cy++) {
		int py = oy + cy;

		if (py < 0 || py >= h)
			continue;
		for (int cx = 0; cx < ci->width; cx++) {
			int px = ox + cx;

			if (px < 0 || px >= w)
				continue;
			capture_blend(pix + (size_t)py * stride + (size_t)px * 4,
				      ci->pixels[cy * ci->width + cx]);
		}
	}
	XFree(ci);
	return 0;
}

uint64_t capture_cursor_key(struct capture *c)
{
	int x = 0, y = 0;

	display_pointer(c->d, &x, &y);
	return (uint64_t)c->d->cursor_serial << 40 ^ (uint64_t)(x & 0xfffff) << 20 ^
	       (uint64_t)(y & 0xfffff);
}
