/*
 * capture.h - screen pixels through MIT-SHM.
 *
 * One shared-memory segment the size of the largest screen is attached to
 * the X server once; every capture is one XShmGetImage into it, of the
 * whole screen or a region (a screen resize needs no new segment). The
 * pixels are BGRX, 4 bytes each, and stay valid until the next capture;
 * the cursor can be drawn into them. Meant to serve both the screenshot
 * method and, later, the VNC framebuffer updates. Loop thread only.
 */
#ifndef DESKTOP_CAPTURE_H
#define DESKTOP_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

#include "display.h"

struct capture;

/* Attach a segment for d->max_w x d->max_h. Returns NULL with err. */
struct capture *capture_create(struct display *d, char *err, size_t errlen);

/* Detach and free. */
void capture_destroy(struct capture *c);

/*
 * Capture the w x h region at (x, y) of the root window. On success
 * (0) *pix and *stride describe BGRX pixels owned by c. -1 with err when
 * the region is not on the screen (it may have shrunk) or X refused.
 */
int capture_grab(struct capture *c, int x, int y, int w, int h,
		 uint8_t **pix, size_t *stride, char *err, size_t errlen);

/*
 * The same from a window's own pixels (a depth-24 window; a redirected
 * one gives its contents even where it is covered or off the screen):
 * (x, y) within the window, at most the segment's area.
 */
int capture_grab_window(struct capture *c, Window win, int x, int y, int w, int h,
			uint8_t **pix, size_t *stride, char *err, size_t errlen);

/*
 * Draw the current pointer image (XFixes, alpha-blended) over the last
 * capture, which covered (x, y, w, h) of the screen. Returns 0, or -1.
 */
int capture_draw_cursor(struct capture *c, uint8_t *pix, size_t stride,
			int x, int y, int w, int h);

/* A value that changes when the cursor's shape or position changes. */
uint64_t capture_cursor_key(struct capture *c);

#endif
