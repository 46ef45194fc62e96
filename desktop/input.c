/*
 * input.c - XTest key and button events, keymap cache, spare keycodes.
 * See input.h for the binding rules.
 *
 * Owns the keymap cache (an open-addressing table keysym -> keycode and
 * level), the spare-keycode slots and the record of what it holds down.
 * No global state; loop thread only.
 */
#include "input.h"
#include "log.h"

#include <X11/XKBlib.h>
#include <X11/extensions/XTest.h>
#include <X11/Xutil.h>
#include <X11/keysym.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define INPUT_MAP_SIZE 2048     /* power of two, > 2 x 248 keycodes */
#define INPUT_MAX_SLOTS 128      /* two per spare keycode */

struct input_map {
	KeySym sym;                 /* 0: empty */
	KeyCode kc;
	uint8_t level;              /* 0 plain, 1 with Shift */
};

/* A keysym binding on a spare keycode: each spare keycode carries two,
 * one plain (level 0) and one with Shift (level 1). */
struct input_slot {
	KeyCode kc;
	uint8_t level;
	KeySym sym;                 /* bound keysym, or NoSymbol */
	int64_t used_ms;            /* last press, 0 never */
};

struct input {
	Display *dpy;
	int screen;
	int min_kc, max_kc;
	KeyCode shift_kc, shift_r_kc;
	struct input_map map[INPUT_MAP_SIZE];
	struct input_slot slot[INPUT_MAX_SLOTS];
	int nslots;
	int shift_down;             /* typing's own Shift is down */
	uint8_t down[256];          /* keycodes we hold down */
	unsigned buttons;           /* buttons we hold down, bit b-1 */
	int block_lo, block_hi;     /* the contiguous spare block, or 0 */
	unsigned numlock;           /* NumLock's modifier mask, 0 if none */
};

int64_t input_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t input_hash(KeySym ks)
{
	return (size_t)((ks * 2654435761u) >> 7) & (INPUT_MAP_SIZE - 1);
}

static void input_map_put(struct input *in, KeySym ks, KeyCode kc, int level)
{
	size_t i = input_hash(ks);

	while (in->map[i].sym && in->map[i].sym != ks)
		i = (i + 1) & (INPUT_MAP_SIZE - 1);
	if (in->map[i].sym)
		return;   /* first (lowest level, lowest keycode) wins */
	in->map[i].sym = ks;
	in->map[i].kc = kc;
	in->map[i].level = (uint8_t)level;
}

static const struct input_map *input_map_get(const struct input *in, KeySym ks)
{
	size_t i = input_hash(ks);

	while (in->map[i].sym) {
		if (in->map[i].sym == ks)
			return &in->map[i];
		i = (i + 1) & (INPUT_MAP_SIZE - 1);
	}
	return NULL;
}

/* The slot on (kc, level) in a slot table, or NULL. */
static struct input_slot *input_slot_at(struct input_slot *slots, int n,
					int kc, int level)
{
	for (int i = 0; i < n; i++)
		if (slots[i].kc == kc && slots[i].level == level)
			return &slots[i];
	return NULL;
}

/*
 * A keycode is a spare one if it has no symbols and no modifier, or if it
 * holds only what we bound there (reloads happen after a whole-keymap
 * MappingNotify, which our own bindings can cause).
 */
static int input_spare(const KeySym *syms, int per, int is_mod,
		       const struct input_slot *was0, const struct input_slot *was1)
{
	if (is_mod)
		return 0;
	for (int j = 0; j < per; j++)
		if (syms[j] != NoSymbol && !(was0 && syms[j] == was0->sym) &&
		    !(was1 && syms[j] == was1->sym))
			return 0;
	return 1;
}

static int input_load(struct input *in, char *err, size_t errlen)
{
	XModifierKeymap *mods = XGetModifierMapping(in->dpy);
	struct input_slot old[INPUT_MAX_SLOTS];
	int nold = in->nslots, nspare = 0;
	uint8_t is_mod[256] = {0}, spare[256] = {0};
	KeyCode spare_kc[INPUT_MAX_SLOTS / 2];
	KeySym *syms;
	int per, n;

	memcpy(old, in->slot, sizeof old);
	XDisplayKeycodes(in->dpy, &in->min_kc, &in->max_kc);
	n = in->max_kc - in->min_kc + 1;
	syms = XGetKeyboardMapping(in->dpy, (KeyCode)in->min_kc, n, &per);
	if (!syms || !mods) {
		snprintf(err, errlen, "cannot read the keymap");
		goto fail;
	}
	for (int i = 0; i < 8 * mods->max_keypermod; i++)
		is_mod[mods->modifiermap[i]] = 1;
	memset(in->map, 0, sizeof in->map);
	/* Keycode 8 (the lowest) is skipped: some clients ignore it. */
	for (int k = 1; k < n && nspare < INPUT_MAX_SLOTS / 2; k++) {
		int kc = in->min_kc + k;

		if (!input_spare(syms + k * per, per, is_mod[kc],
				 input_slot_at(old, nold, kc, 0),
				 input_slot_at(old, nold, kc, 1)))
			continue;
		spare[kc] = 1;
		spare_kc[nspare++] = (KeyCode)kc;
	}
	/* All plain slots first: least-recently-used order then fills the
	 * plain level of every spare keycode before any Shift level. */
	in->nslots = 0;
	for (int level = 0; level < 2; level++)
		for (int i = 0; i < nspare; i++) {
			struct input_slot *was = input_slot_at(old, nold, spare_kc[i], level);

			in->slot[in->nslots++] = was ? *was : (struct input_slot){
				.kc = spare_kc[i], .level = (uint8_t)level};
		}
	for (int level = 0; level < 2 && level < per; level++)
		for (int k = 0; k < n; k++)
			if (syms[k * per + level] != NoSymbol && !spare[in->min_kc + k])
				input_map_put(in, syms[k * per + level],
					      (KeyCode)(in->min_kc + k), level);
	in->numlock = XkbKeysymToModifiers(in->dpy, XK_Num_Lock);
	in->shift_kc = XKeysymToKeycode(in->dpy, XK_Shift_L);
	in->shift_r_kc = XKeysymToKeycode(in->dpy, XK_Shift_R);
	XFree(syms);
	XFreeModifiermap(mods);
	if (!in->shift_kc) {
		snprintf(err, errlen, "the keymap has no Shift_L");
		return -1;
	}
	return 0;
fail:
	if (syms)
		XFree(syms);
	if (mods)
		XFreeModifiermap(mods);
	return -1;
}

/* Keysyms of multimedia and launcher keys (XF86AudioPlay, XF86Launch1...):
 * what a model or viewer rarely presses, and binds on demand when it does. */
static int input_is_xf86(KeySym ks)
{
	return ks >= 0x1008ff00 && ks <= 0x1008ffff;
}

/*
 * Make the top of the keycode range one contiguous block of spare
 * keycodes, once, before any client connects: the keycodes there that
 * carry only XF86 launcher/media keysyms are cleared (those keysyms are
 * bound on demand like any other). Bindings for a whole text then fit in
 * one XChangeKeyboardMapping over the block, so clients get one
 * MappingNotify per text instead of one per keycode.
 */
static void input_make_block(struct input *in)
{
	XModifierKeymap *mods = XGetModifierMapping(in->dpy);
	uint8_t is_mod[256] = {0};
	KeySym *syms, *none;
	int per, lo, hi, n;

	XDisplayKeycodes(in->dpy, &lo, &hi);
	n = hi - lo + 1;
	syms = XGetKeyboardMapping(in->dpy, (KeyCode)lo, n, &per);
	if (!syms || !mods)
		goto done;
	for (int i = 0; i < 8 * mods->max_keypermod; i++)
		is_mod[mods->modifiermap[i]] = 1;
	int first = hi + 1;

	for (int kc = hi; kc > lo + 1 && hi - kc < INPUT_MAX_SLOTS / 2; kc--) {
		const KeySym *k = syms + (kc - lo) * per;
		int ok = !is_mod[kc];

		for (int j = 0; ok && j < per; j++)
			ok = k[j] == NoSymbol || input_is_xf86(k[j]);
		if (!ok)
			break;
		first = kc;
	}
	if (hi - first + 1 < 8)
		goto done;   /* not worth it: keep the keymap as it is */
	none = calloc((size_t)(hi - first + 1) * 2, sizeof *none);
	if (!none)
		goto done;
	XChangeKeyboardMapping(in->dpy, first, 2, none, hi - first + 1);
	free(none);
	XSync(in->dpy, False);
	in->block_lo = first;
	in->block_hi = hi;
done:
	if (syms)
		XFree(syms);
	if (mods)
		XFreeModifiermap(mods);
}

struct input *input_create(Display *dpy, char *err, size_t errlen)
{
	struct input *in = calloc(1, sizeof *in);

	if (!in) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	in->dpy = dpy;
	in->screen = DefaultScreen(dpy);
	input_make_block(in);
	if (input_load(in, err, errlen) < 0) {
		free(in);
		return NULL;
	}
	XTestGrabControl(dpy, True);   /* keep working under a client's grab */
	return in;
}

void input_destroy(struct input *in)
{
	free(in);
}

static int input_is_slot_kc(const struct input *in, int kc)
{
	for (int i = 0; i < in->nslots; i++)
		if (in->slot[i].kc == kc)
			return 1;
	return 0;
}

void input_mapping_changed(struct input *in, XMappingEvent *ev)
{
	char err[128];

	XRefreshKeyboardMapping(ev);
	if (ev->request == MappingPointer)
		return;
	if (ev->request == MappingKeyboard) {
		int ours = 1;

		for (int k = ev->first_keycode; ours && k < ev->first_keycode + ev->count; k++)
			ours = input_is_slot_kc(in, k);
		if (ours)
			return;   /* our own binding, already in the cache */
	}
	if (input_load(in, err, sizeof err) < 0)
		agent_log("keymap reload: %s", err);
}

/* Write both levels of a spare keycode (one changed, the other as is). */
static void input_bind(struct input *in, struct input_slot *sl, KeySym ks)
{
	struct input_slot *other = input_slot_at(in->slot, in->nslots, sl->kc,
						 !sl->level);
	KeySym pair[2];

	sl->sym = ks;
	pair[sl->level] = ks;
	/* A lone Shift-level symbol would also answer the plain level: keep
	 * the plain level defined. */
	pair[!sl->level] = other && other->sym != NoSymbol ? other->sym : ks;
	XChangeKeyboardMapping(in->dpy, sl->kc, 2, pair, 1);
}

/*
 * A keycode and level for ks: the keymap's, else a slot bound to it (only
 * plain-level slots when shifted is 0, for callers that cannot add Shift).
 */
static enum input_res input_lookup(struct input *in, KeySym ks, int shifted,
				   KeyCode *kc, int *level,
				   struct input_slot **slot)
{
	const struct input_map *m = input_map_get(in, ks);
	struct input_slot *lru = NULL;
	int waiting = 0;
	int64_t now;

	*slot = NULL;
	if (m) {
		*kc = m->kc;
		*level = m->level;
		return INPUT_OK;
	}
	for (int i = 0; i < in->nslots; i++) {
		struct input_slot *s = &in->slot[i];

		if (s->sym == ks && (shifted || !s->level)) {
			*slot = s;
			*kc = s->kc;
			*level = s->level;
			return INPUT_OK;
		}
	}
	now = input_now_ms();
	for (int i = 0; i < in->nslots; i++) {
		struct input_slot *s = &in->slot[i];

		if (in->down[s->kc] || (s->level && !shifted))
			continue;
		waiting = 1;
		if (s->used_ms && now - s->used_ms < INPUT_SETTLE_MS)
			continue;
		if (!lru || s->used_ms < lru->used_ms)
			lru = s;
	}
	if (!lru)
		return waiting ? INPUT_BUSY : INPUT_ERR;   /* none, or all held down */
	input_bind(in, lru, ks);
	*slot = lru;
	*kc = lru->kc;
	*level = lru->level;
	return INPUT_OK;
}

/* The keysym a keycode's level shows, from the slots bound on it: an
 * unbound level repeats the other (see input_bind). */
static KeySym input_slot_level(struct input *in, int kc, int level)
{
	struct input_slot *me = input_slot_at(in->slot, in->nslots, kc, level);
	struct input_slot *other = input_slot_at(in->slot, in->nslots, kc, !level);

	if (me && me->sym != NoSymbol)
		return me->sym;
	return other ? other->sym : NoSymbol;
}

/* Write the slot keycodes in [lo, hi] (all of them slots) in one request. */
static void input_write_range(struct input *in, int lo, int hi)
{
	KeySym pairs[2 * 256];

	for (int kc = lo; kc <= hi; kc++) {
		pairs[2 * (kc - lo)] = input_slot_level(in, kc, 0);
		pairs[2 * (kc - lo) + 1] = input_slot_level(in, kc, 1);
	}
	XChangeKeyboardMapping(in->dpy, lo, 2, pairs, hi - lo + 1);
}

enum input_res input_prepare(struct input *in, const unsigned long *syms, int n,
			     int *ready, int *changed)
{
	uint8_t pinned[INPUT_MAX_SLOTS] = {0}, dirty[256] = {0};
	int64_t now = input_now_ms();
	int i, any = 0;

	*changed = 0;
	*ready = 0;
	for (i = 0; i < n; i++) {
		struct input_slot *best = NULL;
		int k, bi = -1;

		if (input_map_get(in, syms[i]))
			continue;
		for (k = 0; k < in->nslots && in->slot[k].sym != syms[i]; k++)
			;
		if (k < in->nslots) {
			pinned[k] = 1;   /* bound already (perhaps in this batch) */
			continue;
		}
		/* A free slot: not needed by this text, not held, and not
		 * pressed within the settle time (its old meaning may still be
		 * queued at a client). The block's slots first, so a batch
		 * that fits in it is one keymap change; then the others
		 * (one more change each) rather than recycling sooner. */
		for (k = 0; k < in->nslots; k++) {
			struct input_slot *sl = &in->slot[k];
			int inb = sl->kc >= in->block_lo && sl->kc <= in->block_hi;
			int best_inb = best && best->kc >= in->block_lo && best->kc <= in->block_hi;

			if (pinned[k] || in->down[sl->kc] ||
			    (sl->used_ms && now - sl->used_ms < INPUT_SETTLE_MS))
				continue;
			if (!best || (inb && !best_inb) ||
			    (inb == best_inb && sl->used_ms < best->used_ms)) {
				best = sl;
				bi = k;
			}
		}
		if (!best)
			break;
		best->sym = syms[i];
		pinned[bi] = 1;
		dirty[best->kc] = 1;
		any = 1;
	}
	*ready = i;
	if (any) {
		/* One request per run of contiguous slot keycodes: with the
		 * block, one for the whole text. */
		for (int kc = 0; kc < 256; kc++) {
			int hi;

			if (!dirty[kc])
				continue;
			for (hi = kc; hi + 1 < 256 && input_is_slot_kc(in, hi + 1); hi++)
				;
			while (!dirty[hi])
				hi--;
			input_write_range(in, kc, hi);
			kc = hi;
		}
		*changed = 1;
	}
	if (i == 0 && n > 0)
		return in->nslots ? INPUT_BUSY : INPUT_ERR;
	return INPUT_OK;
}

int64_t input_busy_until(const struct input *in)
{
	int64_t t = 0;

	for (int i = 0; i < in->nslots; i++)
		if (!in->down[in->slot[i].kc] && (!t || in->slot[i].used_ms < t))
			t = in->slot[i].used_ms;
	return t + INPUT_SETTLE_MS;
}

static void input_key(struct input *in, KeyCode kc, int down)
{
	XTestFakeKeyEvent(in->dpy, kc, down ? True : False, CurrentTime);
	in->down[kc] = (uint8_t)(down != 0);
}

static void input_touch(struct input_slot *s)
{
	if (s)
		s->used_ms = input_now_ms();
}

enum input_res input_type_char(struct input *in, uint32_t cp)
{
	KeySym ks = keys_from_codepoint(cp);
	struct input_slot *slot;
	enum input_res r;
	KeyCode kc;
	int level;

	if (!ks)
		return INPUT_ERR;
	r = input_lookup(in, ks, 1, &kc, &level, &slot);
	if (r != INPUT_OK)
		return r;
	if (level != in->shift_down) {
		input_key(in, in->shift_kc, level);
		in->shift_down = level;
	}
	input_touch(slot);
	input_key(in, kc, 1);
	input_key(in, kc, 0);
	return INPUT_OK;
}

void input_type_end(struct input *in)
{
	if (in->shift_down)
		input_key(in, in->shift_kc, 0);
	in->shift_down = 0;
}

static int input_chord_has_shift(const struct keys_chord *c)
{
	for (int i = 0; i < c->n; i++)
		if (c->sym[i] == XK_Shift_L || c->sym[i] == XK_Shift_R)
			return 1;
	return 0;
}

enum input_res input_chord_press(struct input *in, const struct keys_chord *c,
				 struct input_held *h)
{
	int has_shift = input_chord_has_shift(c);
	struct input_slot *slot;
	enum input_res r;
	KeyCode kc;
	int level;

	h->n = 0;
	h->numlock = 0;
	for (int i = 0; i < c->n; i++) {
		r = input_lookup(in, c->sym[i], 1, &kc, &level, &slot);
		if (r != INPUT_OK) {
			input_chord_release(in, h);
			return r;
		}
		if (level && IsKeypadKey(c->sym[i]) && in->numlock) {
			/* KP_0 is the second level of the KP_Insert key, and
			 * NumLock, not Shift, selects it: Shift would send
			 * Shift+KP_Insert. Lock NumLock for the chord unless it
			 * is locked already. */
			XkbStateRec st = {0};

			if (!h->numlock && XkbGetState(in->dpy, XkbUseCoreKbd, &st) == Success &&
			    !(st.locked_mods & in->numlock)) {
				XkbLockModifiers(in->dpy, XkbUseCoreKbd, in->numlock, in->numlock);
				h->numlock = in->numlock;
			}
			if (h->numlock || (st.locked_mods & in->numlock))
				level = 0;
		}
		if (level && !has_shift) {
			input_key(in, in->shift_kc, 1);
			h->kc[h->n++] = in->shift_kc;
			has_shift = 1;
		}
		input_touch(slot);
		input_key(in, kc, 1);
		h->kc[h->n++] = kc;
	}
	return INPUT_OK;
}

void input_chord_release(struct input *in, struct input_held *h)
{
	while (h->n > 0) {
		KeyCode kc = h->kc[--h->n];

		for (int i = 0; i < in->nslots; i++)
			if (in->slot[i].kc == kc)
				input_touch(&in->slot[i]);
		input_key(in, kc, 0);
	}
	if (h->numlock)
		XkbLockModifiers(in->dpy, XkbUseCoreKbd, h->numlock, 0);
	h->numlock = 0;
}

/* Keysyms that are characters (Latin-1 and Unicode), as opposed to
 * function keys (0xff00..0xffff) whose meaning Shift is part of. */
static int input_is_char(unsigned long ks)
{
	return (ks >= 0x20 && ks < 0xff00) || (ks >= 0x01000000 && ks <= 0x0110ffff);
}

/*
 * A viewer's key. A viewer sends the keysym it means, with or without its
 * own Shift (noVNC on a non-US layout, an on-screen keyboard, a German
 * Shift+7 that means '/'), so a character key is pressed at the level that
 * makes it here: Shift added for the press, or the viewer's Shift lifted
 * for it (what x11vnc calls modtweak). Function keys go as they are, so
 * Shift+Tab and Shift+arrows keep their Shift.
 */
enum input_res input_keysym(struct input *in, unsigned long ks, int down)
{
	struct input_slot *slot;
	enum input_res r;
	KeyCode kc, held[2];
	int level, nheld = 0;

	r = input_lookup(in, ks, 1, &kc, &level, &slot);
	if (r != INPUT_OK)
		return r;
	input_touch(slot);
	if (!down || !input_is_char(ks)) {
		input_key(in, kc, down);
		return INPUT_OK;
	}
	if (in->down[in->shift_kc])
		held[nheld++] = in->shift_kc;
	if (in->shift_r_kc && in->shift_r_kc != in->shift_kc && in->down[in->shift_r_kc])
		held[nheld++] = in->shift_r_kc;
	if (level && !nheld) {
		input_key(in, in->shift_kc, 1);
		input_key(in, kc, 1);
		input_key(in, in->shift_kc, 0);
	} else if (!level && nheld) {
		for (int i = 0; i < nheld; i++)
			input_key(in, held[i], 0);
		input_key(in, kc, 1);
		for (int i = 0; i < nheld; i++)
			input_key(in, held[i], 1);
	} else {
		input_key(in, kc, 1);
	}
	return INPUT_OK;
}

void input_move(struct input *in, int x, int y)
{
	XTestFakeMotionEvent(in->dpy, in->screen, x, y, CurrentTime);
}

void input_button(struct input *in, int button, int down)
{
	if (button < 1 || button > 32)
		return;
	XTestFakeButtonEvent(in->dpy, (unsigned)button, down ? True : False,
			     CurrentTime);
	if (down)
		in->buttons |= 1u << (button - 1);
	else
		in->buttons &= ~(1u << (button - 1));
}

void input_pointer_mask(struct input *in, int x, int y, unsigned mask)
{
	input_move(in, x, y);
	for (int b = 1; b <= 8; b++) {
		unsigned bit = 1u << (b - 1);

		if ((mask ^ in->buttons) & bit)
			input_button(in, b, (mask & bit) != 0);
	}
}
