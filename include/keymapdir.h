/*
 * keymapdir.h - where a host-mode sandbox finds its precompiled keymap.
 *
 * deskboxd (server/keymap.c) compiles Xvfb's default keymap once on the
 * host; the jail (server/jail.c) writes the text and the .xkm into the
 * sandbox's own root under KEYMAP_DIR (read-only once built), binds the
 * real xkbcomp there as KEYMAP_REAL and deskbox-xkbcomp (desktop/xkbstub.c)
 * over /usr/bin/xkbcomp. Shared by the three; names only.
 */
#ifndef DESKBOX_KEYMAPDIR_H
#define DESKBOX_KEYMAPDIR_H

#define KEYMAP_DIR "/var/lib/deskbox/xkb"
#define KEYMAP_TEXT "keymap.xkb"
#define KEYMAP_XKM "keymap.xkm"
#define KEYMAP_REAL "xkbcomp"
/* The compiler Xvfb runs (its compile-time XkbBinDirectory) and the xkb
 * data directory it passes as -R. */
#define KEYMAP_XKBCOMP "/usr/bin/xkbcomp"
#define KEYMAP_XKB_BASE "/usr/share/X11/xkb"

#endif
