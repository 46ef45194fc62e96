/*
 * keymap.h - Xvfb's default keymap, compiled once on the host (keymap.c).
 */
#ifndef DESKBOX_KEYMAP_H
#define DESKBOX_KEYMAP_H

#include <limits.h>
#include <stddef.h>

struct keymap {
	char stub[PATH_MAX];   /* deskbox-xkbcomp beside deskboxd */
	const char *text;      /* the keymap text Xvfb sends xkbcomp */
	unsigned char *xkm;    /* what xkbcomp made of it; NULL: no fast path */
	size_t xkm_len;
};

/*
 * Compile the keymap with the host's xkbcomp (a child, waited for: ~10 ms
 * at start-up) and find the stand-in in exe_dir. On any failure km->xkm
 * stays NULL and sandboxes run the real xkbcomp as before (logged).
 */
void keymap_prepare(struct keymap *km, const char *exe_dir);

void keymap_free(struct keymap *km);

#endif
