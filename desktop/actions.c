/*
 * actions.c - the computer-use action runner. See actions.h.
 *
 * One table maps each primitive (enum act_kind) to its runner; a runner
 * either finishes its action, asks to be woken later (the job keeps its
 * place: action index, phase, byte offset into text, held keys), or fails
 * with a code. Coordinates are checked and mapped to the real screen when
 * an action runs, since the screen may be resized between two requests.
 * Owns the job queue. Loop thread only.
 */
#include "actions.h"

#include <X11/Xlib.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "scale.h"
#include "watch.h"
#include "windows.h"

struct job {
	struct job *next;
	json_t *id;
	json_t *params;             /* the act_list borrows strings from it */
	struct act_list list;
	json_t *results;
	json_t *cur;                /* result of the running action */
	int i;                      /* running action */
	int phase;                  /* runner-defined, 0 at start */
	size_t pos;                 /* ACT_TYPE: next byte of text */
	size_t ready;               /* ACT_TYPE: text before this is bound */
	struct input_held held;     /* ACT_HOLD: keys down */
	int64_t wake;               /* monotonic ms; 0: now */
	struct act_images imgs;     /* the results' images, sent beside the reply */
};

struct actions {
	struct agent *a;
	int64_t released;           /* last button release, monotonic ms */
	int px, py;                 /* where the runner last put the pointer */
	struct job *head, *tail;
	int n;
};

enum step_rc {
	STEP_DONE,
	STEP_SLEEP,                 /* job->wake set */
	STEP_FAIL,                  /* code and msg set */
};

struct step {
	struct agent *a;
	struct job *j;
	struct act *act;
	json_t *res;
	struct scale sc;            /* model (scale_to) and real screen */
	const char *code;
	char msg[256];
};

typedef enum step_rc (*run_fn)(struct step *s);

static enum step_rc fail(struct step *s, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->msg, sizeof s->msg, fmt, ap);
	va_end(ap);
	s->code = code;
	return STEP_FAIL;
}

static enum step_rc sleep_until(struct step *s, int64_t when)
{
	s->j->wake = when;
	XSync(s->a->disp->dpy, False);
	return STEP_SLEEP;
}

static int to_real(struct step *s, const struct act_point *p, int *x, int *y)
{
	if (scale_to_real(&s->sc, p->x, p->y, x, y) == 0)
		return 0;
	fail(s, "bad_request", "coordinate (%ld, %ld) is outside the %dx%d screen",
	     p->x, p->y, s->sc.model_w, s->sc.model_h);
	return -1;
}

/* Move to the action's position, if it has one. */
static int move_first(struct step *s)
{
	int x, y;

	if (!s->act->has_pos)
		return 0;
	if (to_real(s, &s->act->pos, &x, &y) < 0)
		return -1;
	input_move(s->a->in, x, y);
	s->a->acts->px = x;
	s->a->acts->py = y;
	return 0;
}

static int mods_press(struct step *s, struct input_held *h)
{
	h->n = 0;
	h->numlock = 0;
	if (!s->act->mods.n ||
	    input_chord_press(s->a->in, &s->act->mods, h) == INPUT_OK)
		return 0;
	fail(s, "internal", "no keycode is free for a modifier key");
	return -1;
}

void actions_images_close(struct act_images *im)
{
	for (int i = 0; i < im->n; i++)
		close(im->fd[i]);
	im->n = 0;
}

int actions_image(struct agent *a, const struct shot_req *r, json_t *res,
		  struct act_images *im, char *err, size_t errlen)
{
	struct encode_image img;
	int fd;

	if (im->n >= AGENTPROTO_MAX_IMAGES) {
		snprintf(err, errlen, "more than %d images in one reply", AGENTPROTO_MAX_IMAGES);
		return -1;
	}
	if (encode_shot(a->enc, a->cap, r, &img, err, errlen) < 0)
		return -1;
	fd = chan_memfd("image", img.data, img.len);
	if (fd < 0) {
		snprintf(err, errlen, "memfd: %s", strerror(errno));
		return -1;
	}
	im->fd[im->n] = fd;
	json_object_set_new(res, "image", json_pack("{sssi}", "media_type", shot_media_type(r->format),
						    "fd", im->n));
	im->n++;
	json_object_set_new(res, "width", json_integer(img.width));
	json_object_set_new(res, "height", json_integer(img.height));
	return 0;
}

/* Take the screenshot r and put it in the result (a memfd beside it). */
static enum step_rc image_result(struct step *s, const struct shot_req *r)
{
	char err[256];

	if (actions_image(s->a, r, s->res, &s->j->imgs, err, sizeof err) < 0)
		return fail(s, "internal", "%s", err);
	return STEP_DONE;
}

static enum step_rc run_screenshot(struct step *s)
{
	struct shot_req r;

	shot_default(&r, s->sc.real_w, s->sc.real_h);
	r.format = s->j->list.format;
	r.quality = s->j->list.quality;
	r.out_w = s->sc.model_w;
	r.out_h = s->sc.model_h;
	return image_result(s, &r);
}

static enum step_rc run_cursor(struct step *s)
{
	int x, y, xm, ym;

	if (display_pointer(s->a->disp, &x, &y) < 0)
		return fail(s, "internal", "cannot read the pointer position");
	scale_to_model(&s->sc, x, y, &xm, &ym);
	json_object_set_new(s->res, "x", json_integer(xm));
	json_object_set_new(s->res, "y", json_integer(ym));
	return STEP_DONE;
}

/*
 * The clicks of a double or triple click come CLICK_GAP_MS apart, as from a
 * real pointer: Chromium takes presses with no time between them for
 * separate single clicks (no dblclick, detail stays 1), while 500 ms is
 * the usual toolkit double-click time (GTK, Qt, Chromium's X11 default).
 * The same gap separates a button release from a pointer action
 * somewhere else: Chromium reports a press that follows a release at once
 * at the position after it (and, still answering a right click's
 * contextmenu, delivers that mouseup late and drops a drag that follows).
 * Clicks again at the same spot need no gap: in any toolkit they are a
 * multi-click anyway. The runner sleeps for these gaps, so the loop keeps
 * serving.
 */
#define CLICK_GAP_MS 40

/* A pointer action that starts elsewhere waits until CLICK_GAP_MS after
 * the last release. Returns 1 when it must sleep first (wake-up set). */
static int pointer_paced(struct step *s)
{
	struct actions *as = s->a->acts;
	const struct act *a = s->act;
	const struct act_point *p = a->kind == ACT_DRAG ? (a->from_pointer ? NULL : &a->path[0]) :
				    a->has_pos ? &a->pos : NULL;
	int64_t at = as->released + CLICK_GAP_MS;
	int x, y;

	if (!as->released || input_now_ms() >= at)
		return 0;
	if (!p || scale_to_real(&s->sc, p->x, p->y, &x, &y) < 0 || (x == as->px && y == as->py))
		return 0;   /* here (a bad point fails when the action runs) */
	sleep_until(s, at);
	return 1;
}

static void released(struct step *s, int button)
{
	s->a->acts->released = input_now_ms();
}

static enum step_rc run_move(struct step *s)
{
	if (pointer_paced(s))
		return STEP_SLEEP;
	return move_first(s) < 0 ? STEP_FAIL : STEP_DONE;
}

static enum step_rc run_click(struct step *s)
{
	struct job *j = s->j;

	if (j->phase == 0 && pointer_paced(s))
		return STEP_SLEEP;
	if (j->phase == 0 && (move_first(s) < 0 || mods_press(s, &j->held) < 0))
		return STEP_FAIL;
	input_button(s->a->in, s->act->button, 1);
	input_button(s->a->in, s->act->button, 0);
	released(s, s->act->button);
	if (++j->phase < s->act->clicks)
		return sleep_until(s, input_now_ms() + CLICK_GAP_MS);
	input_chord_release(s->a->in, &j->held);
	return STEP_DONE;
}

/*
 * A drag is pressed, moved point by point and released with DRAG_STEP_MS
 * between the steps, as a hand would: a browser that gets the press, the
 * moves and the release in one instant coalesces them (the press lands at
 * the end point, no mousemove with the button down, no drag). The runner
 * sleeps between steps; the modifiers stay held in j->held meanwhile. A
 * long path gets shorter steps, about two seconds in all.
 * Phase p: 0 = press at the start, 1..npath-1 = move to path[p], npath =
 * release.
 */
#define DRAG_STEP_MS 16

static enum step_rc run_drag(struct step *s)
{
	struct act *a = s->act;
	struct job *j = s->j;
	int x, y;

	if (j->phase == 0) {
		if (pointer_paced(s))
			return STEP_SLEEP;
		/* from_pointer: the first point is wherever the pointer is. */
		for (int i = a->from_pointer; i < a->npath; i++)   /* all or nothing */
			if (to_real(s, &a->path[i], &x, &y) < 0)
				return STEP_FAIL;
		if (mods_press(s, &j->held) < 0)
			return STEP_FAIL;
		if (!a->from_pointer) {
			to_real(s, &a->path[0], &x, &y);
			input_move(s->a->in, x, y);
			s->a->acts->px = x;
			s->a->acts->py = y;
		}
		input_button(s->a->in, a->button, 1);
	} else if (j->phase < a->npath) {
		/* The screen may have changed size while we slept. */
		if (to_real(s, &a->path[j->phase], &x, &y) < 0) {
			input_button(s->a->in, a->button, 0);
			return STEP_FAIL;
		}
		input_move(s->a->in, x, y);
		s->a->acts->px = x;
		s->a->acts->py = y;
	} else {
		input_button(s->a->in, a->button, 0);
		released(s, a->button);
		input_chord_release(s->a->in, &j->held);
		return STEP_DONE;
	}
	j->phase++;
	/* A long path keeps to about two seconds in all. */
	return sleep_until(s, input_now_ms() +
			   (a->npath > 2000 / DRAG_STEP_MS ? 2000 / a->npath : DRAG_STEP_MS));
}

static enum step_rc run_button(struct step *s)
{
	if (pointer_paced(s))
		return STEP_SLEEP;
	if (move_first(s) < 0)
		return STEP_FAIL;
	input_button(s->a->in, s->act->button, s->act->down);
	if (!s->act->down)
		released(s, s->act->button);
	return STEP_DONE;
}

static void wheel(struct input *in, int clicks, int neg_button, int pos_button)
{
	int b = clicks < 0 ? neg_button : pos_button;

	for (int i = 0; i < abs(clicks); i++) {
		input_button(in, b, 1);
		input_button(in, b, 0);
	}
}

static enum step_rc run_scroll(struct step *s)
{
	struct input_held h;

	if (pointer_paced(s))
		return STEP_SLEEP;
	if (move_first(s) < 0 || mods_press(s, &h) < 0)
		return STEP_FAIL;
	wheel(s->a->in, s->act->scroll_y, 4, 5);
	wheel(s->a->in, s->act->scroll_x, 6, 7);
	input_chord_release(s->a->in, &h);
	return STEP_DONE;
}

/* Characters typed before the runner lets the loop serve other requests:
 * a 160 KiB text is seconds of X events. */
#define TYPE_SLICE 4096

/* Characters looked ahead per keymap preparation. */
#define TYPE_PREPARE 256

/*
 * Bind what the text from j->pos on needs, in one keymap change, before
 * typing any of it; j->ready marks how far the bindings reach. STEP_DONE
 * when typing may go on now, STEP_SLEEP to let clients apply a change (or
 * to wait for a slot to settle).
 */
static enum step_rc type_prepare(struct step *s)
{
	struct act *a = s->act;
	struct job *j = s->j;
	unsigned long syms[TYPE_PREPARE];
	size_t ends[TYPE_PREPARE], off = j->pos;
	int n = 0, ready, changed;
	enum input_res r;
	uint32_t cp;

	while (off < a->text_len && n < TYPE_PREPARE) {
		int len = keys_utf8_next(a->text + off, a->text_len - off, &cp);

		if (len < 0)
			return fail(s, "bad_request", "text is not UTF-8");
		syms[n] = keys_from_codepoint(cp);
		off += (size_t)len;
		ends[n++] = off;
	}
	r = input_prepare(s->a->in, syms, n, &ready, &changed);
	if (r == INPUT_BUSY)
		return sleep_until(s, input_busy_until(s->a->in));
	if (r != INPUT_OK)
		return fail(s, "internal", "no keycode can type the text");
	j->ready = ends[ready - 1];
	if (changed)
		return sleep_until(s, input_now_ms() + INPUT_APPLY_MS);
	return STEP_DONE;
}

static enum step_rc run_type(struct step *s)
{
	struct act *a = s->act;
	struct job *j = s->j;
	struct input *in = s->a->in;
	int slice = 0;
	uint32_t cp;

	while (j->pos < a->text_len) {
		int n;
		enum input_res r;

		if (j->pos >= j->ready) {
			enum step_rc pr = type_prepare(s);

			if (pr != STEP_DONE)
				return pr;
		}
		n = keys_utf8_next(a->text + j->pos, a->text_len - j->pos, &cp);

		if (n < 0)
			return fail(s, "bad_request", "text is not UTF-8");
		if (cp == '\r' && j->pos + 1 < a->text_len && a->text[j->pos + 1] == '\n') {
			j->pos++;   /* CR LF is one newline */
			continue;
		}
		r = input_type_char(in, cp);
		if (r == INPUT_BUSY) {
			input_type_end(in);
			return sleep_until(s, input_busy_until(in));
		}
		if (r != INPUT_OK) {
			input_type_end(in);
			return fail(s, "internal", "no keycode can type U+%04X", cp);
		}
		j->pos += (size_t)n;
		if (j->pos < a->text_len && (a->delay_ms || ++slice == TYPE_SLICE)) {
			input_type_end(in);
			return sleep_until(s, input_now_ms() + a->delay_ms);
		}
	}
	input_type_end(in);
	return STEP_DONE;
}

/* Phase 0 of key and hold_key: bind what the chords need in one keymap
 * change, and give clients INPUT_APPLY_MS to see it (as for typing). */
static enum step_rc chords_prepare(struct step *s)
{
	unsigned long syms[ACT_MAX_CHORDS * KEYS_MAX_CHORD];
	int n = 0, ready, changed;

	s->j->phase = 1;
	for (int c = 0; c < s->act->nchords; c++)
		for (int k = 0; k < s->act->chords[c].n; k++)
			syms[n++] = s->act->chords[c].sym[k];
	/* Too few slots for them all is left to the per-key binding. */
	if (input_prepare(s->a->in, syms, n, &ready, &changed) == INPUT_OK && changed)
		return sleep_until(s, input_now_ms() + INPUT_APPLY_MS);
	return STEP_DONE;
}

static enum step_rc run_key(struct step *s)
{
	struct input_held h;

	if (s->j->phase == 0 && chords_prepare(s) == STEP_SLEEP)
		return STEP_SLEEP;
	for (int r = 0; r < s->act->repeat; r++) {
		for (int c = 0; c < s->act->nchords; c++) {
			if (input_chord_press(s->a->in, &s->act->chords[c], &h) != INPUT_OK)
				return fail(s, "internal", "no keycode is free for chord %d", c);
			input_chord_release(s->a->in, &h);
		}
	}
	return STEP_DONE;
}

static enum step_rc run_hold(struct step *s)
{
	struct job *j = s->j;

	if (j->phase == 0 && chords_prepare(s) == STEP_SLEEP)
		return STEP_SLEEP;
	if (j->phase == 2) {
		input_chord_release(s->a->in, &j->held);
		return STEP_DONE;
	}
	if (input_chord_press(s->a->in, &s->act->chords[0], &j->held) != INPUT_OK)
		return fail(s, "internal", "no keycode is free for the key");
	j->phase = 2;
	return sleep_until(s, input_now_ms() + s->act->duration_ms);
}

static enum step_rc run_wait(struct step *s)
{
	if (s->j->phase == 1)
		return run_screenshot(s);
	s->j->phase = 1;
	return sleep_until(s, input_now_ms() + s->act->duration_ms);
}

static enum step_rc run_zoom(struct step *s)
{
	const long *g = s->act->region;
	struct shot_req r;

	shot_default(&r, s->sc.real_w, s->sc.real_h);
	if (scale_region_to_real(&s->sc, g[0], g[1], g[2], g[3], &r.region) < 0)
		return fail(s, "bad_request", "region [%ld, %ld, %ld, %ld] is outside the %dx%d screen",
			    g[0], g[1], g[2], g[3], s->sc.model_w, s->sc.model_h);
	r.format = s->j->list.format;
	r.quality = s->j->list.quality;
	r.out_w = r.region.w;
	r.out_h = r.region.h;
	return image_result(s, &r);
}

static enum step_rc run_focus(struct step *s)
{
	char err[200];
	Window w;
	int notfound;

	if (windows_focus(s->a->disp, s->act->window, s->act->title,
			  &w, &notfound, err, sizeof err) < 0)
		return fail(s, notfound ? "not_found" : "internal", "%s", err);
	json_object_set_new(s->res, "window", json_integer((json_int_t)w));
	return STEP_DONE;
}

static const run_fn run_tab[ACT_KIND_COUNT] = {
	[ACT_SCREENSHOT] = run_screenshot,
	[ACT_CURSOR] = run_cursor,
	[ACT_MOVE] = run_move,
	[ACT_CLICK] = run_click,
	[ACT_DRAG] = run_drag,
	[ACT_BUTTON] = run_button,
	[ACT_SCROLL] = run_scroll,
	[ACT_TYPE] = run_type,
	[ACT_KEY] = run_key,
	[ACT_HOLD] = run_hold,
	[ACT_WAIT] = run_wait,
	[ACT_ZOOM] = run_zoom,
	[ACT_FOCUS] = run_focus,
};

struct actions *actions_create(struct agent *a)
{
	struct actions *as = calloc(1, sizeof *as);

	if (as)
		as->a = a;
	return as;
}

static void job_free(struct job *j)
{
	actparse_free(&j->list);
	json_decref(j->id);
	json_decref(j->params);
	json_decref(j->results);
	json_decref(j->cur);
	actions_images_close(&j->imgs);
	free(j);
}

void actions_destroy(struct actions *as)
{
	if (!as)
		return;
	while (as->head) {
		struct job *j = as->head;

		as->head = j->next;
		job_free(j);
	}
	free(as);
}

int actions_submit(struct actions *as, json_t *id, json_t *params,
		   struct act_error *e)
{
	struct job *j;

	if (as->n >= ACTIONS_MAX_QUEUED) {
		actparse_error(e, -1, NULL, "too many action requests queued");
		return -1;
	}
	j = calloc(1, sizeof *j);
	if (!j) {
		actparse_error(e, -1, NULL, "out of memory");
		return -1;
	}
	if (actparse(params, &j->list, e) < 0) {
		free(j);
		return -1;
	}
	j->id = json_incref(id);
	j->params = json_incref(params);
	j->results = json_array();
	if (as->tail)
		as->tail->next = j;
	else
		as->head = j;
	as->tail = j;
	as->n++;
	return 0;
}

static void job_pop(struct actions *as)
{
	struct job *j = as->head;

	as->head = j->next;
	if (!as->head)
		as->tail = NULL;
	as->n--;
	job_free(j);
}

/* Run the head job until it sleeps, fails or ends. Returns 1 if it left
 * the queue. */
static int job_step(struct actions *as, struct job *j)
{
	struct display *d = as->a->disp;

	/* Scaling is for models that see a smaller screen; a larger one
	 * would stretch screenshots and land clicks between pixels. */
	if (j->i == 0 && j->phase == 0 && (j->list.scale_w > d->width || j->list.scale_h > d->height)) {
		char msg[160];

		snprintf(msg, sizeof msg, "scale_to %dx%d is larger than the %dx%d screen",
			 j->list.scale_w, j->list.scale_h, d->width, d->height);
		chan_reply_error(&as->a->chan, j->id, "bad_request", msg, -1);
		return 1;
	}
	while (j->i < j->list.n) {
		struct step s = {.a = as->a, .j = j, .act = &j->list.v[j->i]};
		enum step_rc r;

		s.sc.real_w = d->width;
		s.sc.real_h = d->height;
		s.sc.model_w = j->list.scale_w ? j->list.scale_w : d->width;
		s.sc.model_h = j->list.scale_h ? j->list.scale_h : d->height;
		if (!j->cur)
			j->cur = json_pack("{sb}", "ok", 1);
		s.res = j->cur;
		r = run_tab[s.act->kind](&s);
		if (r == STEP_SLEEP)
			return 0;
		if (r == STEP_FAIL) {
			char msg[320];

			if (j->held.n)
				input_chord_release(as->a->in, &j->held);
			XSync(d->dpy, False);
			snprintf(msg, sizeof msg, "action %d (%s): %s", j->i, s.act->name, s.msg);
			chan_reply_error(&as->a->chan, j->id, s.code, msg, j->i);
			return 1;
		}
		XSync(d->dpy, False);
		json_array_append_new(j->results, j->cur);
		j->cur = NULL;
		j->i++;
		j->phase = 0;
		j->pos = 0;
		j->ready = 0;
		j->wake = 0;
	}
	/* watch.c sends it, after the screen settles if the request asks. */
	watch_actions_done(as->a->watch, j->id, json_pack("{sO}", "results", j->results),
			   j->params, &j->list, &j->imgs);
	return 1;
}

void actions_run(struct actions *as)
{
	while (as->head && as->head->wake <= input_now_ms()) {
		if (!job_step(as, as->head))
			return;
		job_pop(as);
	}
}

int actions_timeout_ms(const struct actions *as)
{
	int64_t left;

	if (!as->head)
		return -1;
	left = as->head->wake - input_now_ms();
	return left < 0 ? 0 : left > 60000 ? 60000 : (int)left;
}
