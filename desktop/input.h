/*
 * input.h - keyboard and pointer through XTest, in terms of keysyms and
 * pointer events, so the action runner and (later) VNC's keyboard and
 * pointer callbacks share it.
 *
 * Keysyms map to keycodes through a cached copy of the server's keymap
 * (levels 1 and 2 of group 1: plain and Shift). A keysym the keymap lacks
 * is bound to a slot: the plain or the Shift level of a spare keycode (one
 * with no symbols). At start the agent also clears a contiguous block at
 * the top of the keycode range (keys with only XF86 media/launcher
 * keysyms), so Xvfb gives 18 + 24 spare keycodes, 84 slots, and a text's
 * bindings go out in one keymap change over the block (input_prepare).
 * Keypad digits are pressed under a locked NumLock, not Shift. Bindings
 * are kept for reuse and recycled least recently used first, never within
 * INPUT_SETTLE_MS of their last press: an X client translates a keycode
 * with the keymap it fetches when it reads the event, so a rebinding must
 * not overtake presses still queued at a client, and a busy client (an
 * xterm looking for a font for a new glyph) lags by tens of milliseconds;
 * 50 ms was measured too short for that, 200 ms enough in over 10,000
 * characters on an idle machine; on one loaded ten times past its cores
 * an xterm was seen lagging more (24 CJK characters garbled), and 500 ms
 * did not always do either while doubling CJK typing time, so 250 ms it
 * is. When every slot is
 * that fresh the call answers INPUT_BUSY and the caller flushes, waits
 * until input_busy_until(), and tries again.
 *
 * Nothing here syncs with the server: callers XSync once per burst.
 * Loop thread only.
 */
#ifndef DESKTOP_INPUT_H
#define DESKTOP_INPUT_H

#include <X11/Xlib.h>
#include <stddef.h>
#include <stdint.h>

#include "keys.h"

#define INPUT_SETTLE_MS 250
/* Time clients get to apply a keymap change before its keys arrive:
 * Chromium fetches the new keymap asynchronously after MappingNotify. */
#define INPUT_APPLY_MS 100

enum input_res {
	INPUT_OK,
	INPUT_BUSY,    /* no spare keycode is free yet: see input_busy_until */
	INPUT_ERR,     /* no keycode at all can carry this keysym */
};

/* Keycodes one chord pressed, in order, to release in reverse. */
struct input_held {
	KeyCode kc[2 * KEYS_MAX_CHORD];
	int n;
	unsigned numlock;   /* NumLock mask the chord locked, to unlock */
};

struct input;

/* Read the keymap and find the spare keycodes. NULL with err on failure. */
struct input *input_create(Display *dpy, char *err, size_t errlen);
void input_destroy(struct input *in);

/* A MappingNotify arrived: re-read the keymap unless it was our own
 * binding of a spare keycode. */
void input_mapping_changed(struct input *in, XMappingEvent *ev);

/* Type one code point (keys_from_codepoint must know it): Shift pressed
 * or released as its level needs, then press and release. */
enum input_res input_type_char(struct input *in, uint32_t cp);

/* End of a typing burst: release the Shift typing pressed. */
void input_type_end(struct input *in);

/* Press a chord's keys in order (adding Shift for a key that needs it
 * unless the chord has it); h records what to release. On failure nothing
 * stays pressed. */
enum input_res input_chord_press(struct input *in, const struct keys_chord *c,
				 struct input_held *h);
void input_chord_release(struct input *in, struct input_held *h);

/* One keysym down or up, as a VNC client sends it (no Shift added, so
 * only plain-level slots are used). */
enum input_res input_keysym(struct input *in, unsigned long ks, int down);

/*
 * Make the n keysyms syms[] typable before any is pressed: bind the ones
 * the keymap lacks to slots, all in one keymap change when the slots allow
 * (the agent keeps a contiguous block of spare keycodes for that). *ready
 * gets how many leading keysyms are now typable (fewer than n when the
 * slots ran out: type those, then prepare the rest). *changed is set when
 * the keymap changed: the caller flushes and lets clients apply it
 * (INPUT_APPLY_MS) before pressing, since a client reads a key event with
 * the keymap it has, not the server's. INPUT_BUSY when not even the first
 * can be bound yet (see input_busy_until).
 */
enum input_res input_prepare(struct input *in, const unsigned long *syms, int n,
			     int *ready, int *changed);

/* Monotonic ms at which a spare keycode will be free again. */
int64_t input_busy_until(const struct input *in);

/* Pointer: absolute motion, one button (1-9) down or up. */
void input_move(struct input *in, int x, int y);
void input_button(struct input *in, int button, int down);

/* VNC-style pointer event: move if needed, then press/release the buttons
 * whose bit (bit 0 = button 1) changed from the last mask. */
void input_pointer_mask(struct input *in, int x, int y, unsigned mask);

/* Monotonic clock in ms, the clock of input_busy_until. */
int64_t input_now_ms(void);

#endif
