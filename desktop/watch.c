/*
 * watch.c - events for deskboxd and waits for a still screen. See watch.h.
 *
 * Owns what is watched, the last screen event sent, a snapshot of the
 * top-level windows (to tell opened, closed, focused and changed --
 * moved, resized, minimized, maximized... -- apart by difference, whatever mix of window manager properties and plain
 * map/unmap produced the change), and the queued waits with their request
 * ids and results. Loop thread only; never sleeps: a wait is a deadline
 * the loop's poll timeout honours.
 *
 * "Settled" means: no damage for quiet_ms, counted from the later of the
 * last damage and the start of the wait. Counting from the start matters
 * after input: a click's drawing comes a few ms later, and a screen that
 * was idle before it must not count as settled at once.
 */
#include "watch.h"

#include <X11/Xatom.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actions.h"
#include "jget.h"
#include "methods.h"
#include "windows.h"

#define WATCH_SCREEN    1u
#define WATCH_WINDOWS   2u
#define WATCH_CLIPBOARD 4u
#define WATCH_MAX_WINDOWS 512

struct waiter {
	struct waiter *next;
	json_t *id;
	int64_t start, deadline;
	int quiet;
	json_t *shot;                 /* wait.settled: screenshot params, or NULL */
	json_t *reply;                /* actions: the batch's reply, or NULL */
	struct act_images imgs;       /* actions: the images it names */
	int scale_w, scale_h;         /* actions: its image's size (0: real) */
	enum shot_format format;
	int quality;
};

struct watch {
	struct agent *a;
	unsigned on;                  /* WATCH_* */
	int interval, quiet;          /* screen events: coalescing, settled */
	int64_t sent_ms;              /* last screen.changed */
	uint64_t sent_frame;          /* damage counter it reported */
	int settle_pending;           /* screen.changed sent, settled not yet */
	struct watch_win {
		Window id;
		int x, y, width, height;
		unsigned state;
	} wins[WATCH_MAX_WINDOWS];
	int nwins;
	Window focused;
	int windows_dirty;
	Atom client_list, active_window, clipboard, net_wm_state, wm_state;
	uint64_t clip_seen;
	struct waiter *waiters;
	int nwaiters;
};

struct watch *watch_create(struct agent *a)
{
	static const char *const names[] = {
		"_NET_CLIENT_LIST", "_NET_ACTIVE_WINDOW", "CLIPBOARD", "_NET_WM_STATE", "WM_STATE",
	};
	struct watch *w = calloc(1, sizeof *w);
	Atom atoms[sizeof names / sizeof *names];

	if (!w)
		return NULL;
	w->a = a;
	w->interval = WATCH_DEFAULT_INTERVAL_MS;
	w->quiet = WATCH_DEFAULT_QUIET_MS;
	/* One round trip for all (a create waits for this). */
	if (!XInternAtoms(a->disp->dpy, (char **)names, (int)(sizeof names / sizeof *names),
			  False, atoms)) {
		free(w);
		return NULL;
	}
	w->client_list = atoms[0];
	w->active_window = atoms[1];
	w->clipboard = atoms[2];
	w->net_wm_state = atoms[3];
	w->wm_state = atoms[4];
	return w;
}

static void waiter_free(struct waiter *q)
{
	json_decref(q->id);
	json_decref(q->shot);
	json_decref(q->reply);
	actions_images_close(&q->imgs);
	free(q);
}

void watch_destroy(struct watch *w)
{
	if (!w)
		return;
	while (w->waiters) {
		struct waiter *q = w->waiters;

		w->waiters = q->next;
		waiter_free(q);
	}
	free(w);
}

/* --- what is watched --- */

static const struct watch_win *had_window(const struct watch *w, Window id)
{
	for (int i = 0; i < w->nwins; i++)
		if (w->wins[i].id == id)
			return &w->wins[i];
	return NULL;
}

/* Ask for a window's own changes, or stop asking. The root's
 * SubstructureNotify only tells of the root's children: under a window
 * manager those are frames, and a WM resizes the frame and the client
 * inside it in two requests. A listing between the two sees the old
 * size, and the client's own ConfigureNotify (like a _NET_WM_STATE change,
 * a property of the client) never reaches the root. A window gone by now
 * only costs a BadWindow, which display.c's handler absorbs. */
static void watch_client(struct watch *w, Window id, int on)
{
	XSelectInput(w->a->disp->dpy, id, on ? StructureNotifyMask | PropertyChangeMask
					     : NoEventMask);
}

/* Take a snapshot of the windows without reporting it; windows new to it
 * are watched from now on. */
static void windows_snapshot(struct watch *w, struct windows_info *v, int n)
{
	for (int i = 0; i < n && i < WATCH_MAX_WINDOWS; i++)
		if (!had_window(w, v[i].id))
			watch_client(w, v[i].id, 1);
	w->nwins = 0;
	w->focused = None;
	for (int i = 0; i < n && w->nwins < WATCH_MAX_WINDOWS; i++) {
		w->wins[w->nwins++] = (struct watch_win){v[i].id, v[i].x, v[i].y, v[i].width,
							 v[i].height, v[i].state};
		if (v[i].focused)
			w->focused = v[i].id;
	}
}

static int watch_bool(const json_t *params, const char *key, int *out, char *err,
		      size_t errlen)
{
	const json_t *v = json_object_get(params, key);

	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v)) {
		snprintf(err, errlen, "%s must be true or false", key);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

int watch_set(struct watch *w, const json_t *params, char *err, size_t errlen)
{
	struct display *d = w->a->disp;
	int screen, windows, clip;
	long interval, quiet;
	unsigned on;

	if (params && !json_is_null(params) && !json_is_object(params)) {
		snprintf(err, errlen, "params must be {screen, min_interval_ms, quiet_ms, windows, clipboard}");
		return -1;
	}
	if (watch_bool(params, "screen", &screen, err, errlen) < 0 ||
	    watch_bool(params, "windows", &windows, err, errlen) < 0 ||
	    watch_bool(params, "clipboard", &clip, err, errlen) < 0 ||
	    jget_int(params, "min_interval_ms", 0, AGENTPROTO_MAX_INTERVAL_MS,
		     WATCH_DEFAULT_INTERVAL_MS, &interval, err, errlen) < 0 ||
	    jget_int(params, "quiet_ms", 1, AGENTPROTO_MAX_QUIET_MS,
		     WATCH_DEFAULT_QUIET_MS, &quiet, err, errlen) < 0)
		return -1;
	on = (screen ? WATCH_SCREEN : 0) | (windows ? WATCH_WINDOWS : 0) |
	     (clip ? WATCH_CLIPBOARD : 0);
	w->interval = (int)interval;
	w->quiet = (int)quiet;
	if ((on ^ w->on) & WATCH_SCREEN) {
		/* Report from now on, not the past. */
		display_watch_damage(d, !!(on & WATCH_SCREEN));
		w->sent_frame = d->damage;
		w->sent_ms = 0;
		w->settle_pending = 0;
	}
	if ((on ^ w->on) & WATCH_WINDOWS) {
		XSelectInput(d->dpy, d->root, on & WATCH_WINDOWS ?
			     SubstructureNotifyMask | PropertyChangeMask : NoEventMask);
		for (int i = 0; i < w->nwins; i++)
			watch_client(w, w->wins[i].id, 0);
		w->nwins = 0;
		w->focused = None;
		if (on & WATCH_WINDOWS) {
			struct windows_info *v;
			int n;

			if (windows_list(d, &v, &n, err, errlen) == 0) {
				windows_snapshot(w, v, n);
				windows_free(v, n);
			}
		}
		w->windows_dirty = 0;
	}
	if ((on ^ w->on) & WATCH_CLIPBOARD) {
		display_watch_clipboard(d, w->clipboard, !!(on & WATCH_CLIPBOARD));
		w->clip_seen = d->clipboard_owners;
	}
	w->on = on;
	return 0;
}

void watch_x_event(struct watch *w, const XEvent *ev)
{
	if (!(w->on & WATCH_WINDOWS))
		return;
	switch (ev->type) {
	case MapNotify:
	case UnmapNotify:
	case ConfigureNotify:   /* a top-level window (or its frame) moved or resized */
	case DestroyNotify:
	case ReparentNotify:
		w->windows_dirty = 1;
		break;
	case PropertyNotify:
		if (ev->xproperty.window == w->a->disp->root
			    ? ev->xproperty.atom == w->client_list ||
				      ev->xproperty.atom == w->active_window
			    : ev->xproperty.atom == w->net_wm_state ||
				      ev->xproperty.atom == w->wm_state)
			w->windows_dirty = 1;
		break;
	}
}

/* --- events --- */

static json_t *rect_json(int x, int y, int wd, int ht)
{
	return json_pack("[iiii]", x, y, wd, ht);
}

static void send_screen_changed(struct watch *w, int64_t now)
{
	struct display *d = w->a->disp;
	json_t *rects = json_array();
	XRectangle *r;
	int n;

	r = display_take_watch_damage(d, &n);
	if (n > AGENTPROTO_MAX_RECTS) {
		int x0 = r[0].x, y0 = r[0].y, x1 = r[0].x + r[0].width, y1 = r[0].y + r[0].height;

		for (int i = 1; i < n; i++) {
			x0 = r[i].x < x0 ? r[i].x : x0;
			y0 = r[i].y < y0 ? r[i].y : y0;
			x1 = r[i].x + r[i].width > x1 ? r[i].x + r[i].width : x1;
			y1 = r[i].y + r[i].height > y1 ? r[i].y + r[i].height : y1;
		}
		json_array_append_new(rects, rect_json(x0, y0, x1 - x0, y1 - y0));
	} else if (n > 0) {
		for (int i = 0; i < n; i++)
			json_array_append_new(rects, rect_json(r[i].x, r[i].y, r[i].width,
							       r[i].height));
	} else {
		/* Counted but no area left on screen: a resize. */
		json_array_append_new(rects, rect_json(0, 0, d->width, d->height));
	}
	if (r)
		XFree(r);
	chan_event(&w->a->chan, AGENT_E_SCREEN_CHANGED,
		   json_pack("{sosI}", "rects", rects, "frame", (json_int_t)d->damage));
	w->sent_frame = d->damage;
	w->sent_ms = now;
	w->settle_pending = 1;
}

static void run_screen(struct watch *w, int64_t now)
{
	struct display *d = w->a->disp;

	if (!(w->on & WATCH_SCREEN))
		return;
	if (d->damage != w->sent_frame && now >= w->sent_ms + w->interval)
		send_screen_changed(w, now);
	if (w->settle_pending && d->damage == w->sent_frame &&
	    now >= d->changed_ms + w->quiet) {
		w->settle_pending = 0;
		chan_event(&w->a->chan, AGENT_E_SCREEN_SETTLED,
			   json_pack("{sIsi}", "frame", (json_int_t)d->damage,
				     "quiet_ms", w->quiet));
	}
}

void watch_windows_touched(struct watch *w)
{
	if (w->on & WATCH_WINDOWS)
		w->windows_dirty = 1;
}

static const struct windows_info *find_info(const struct windows_info *v, int n, Window id)
{
	for (int i = 0; i < n; i++)
		if (v[i].id == id)
			return &v[i];
	return NULL;
}

/* A title cut to AGENTPROTO_MAX_TITLE bytes, at a character boundary. */
static json_t *title_json(const char *t)
{
	size_t n = strlen(t);

	if (n > AGENTPROTO_MAX_TITLE) {
		n = AGENTPROTO_MAX_TITLE;
		while (n > 0 && ((unsigned char)t[n] & 0xc0) == 0x80)
			n--;
	}
	return json_stringn(t, n);
}

static void run_windows(struct watch *w)
{
	struct windows_info *v;
	const struct windows_info *f;
	char err[200];
	Window focused = None;
	int n;

	if (!(w->on & WATCH_WINDOWS) || !w->windows_dirty)
		return;
	w->windows_dirty = 0;
	if (windows_list(w->a->disp, &v, &n, err, sizeof err) < 0)
		return;
	for (int i = 0; i < w->nwins; i++)
		if (!find_info(v, n, w->wins[i].id))
			chan_event(&w->a->chan, AGENT_E_WINDOW_CLOSED,
				   json_pack("{sI}", "window", (json_int_t)w->wins[i].id));
	for (int i = 0; i < n; i++) {
		const struct watch_win *was = had_window(w, v[i].id);

		if (v[i].focused)
			focused = v[i].id;
		if (!was)
			chan_event(&w->a->chan, AGENT_E_WINDOW_OPENED,
				   json_pack("{sIsosI}", "window", (json_int_t)v[i].id,
					     "title", title_json(v[i].title),
					     "pid", (json_int_t)v[i].pid));
		else if (was->x != v[i].x || was->y != v[i].y || was->width != v[i].width ||
			 was->height != v[i].height || was->state != v[i].state)
			chan_event(&w->a->chan, AGENT_E_WINDOW_CHANGED, json_pack(
				"{sIsisisisis{sbsbsbsb}}", "window", (json_int_t)v[i].id,
				"x", v[i].x, "y", v[i].y, "width", v[i].width,
				"height", v[i].height, "state",
				"minimized", !!(v[i].state & WINDOWS_MINIMIZED),
				"maximized", !!(v[i].state & WINDOWS_MAXIMIZED),
				"fullscreen", !!(v[i].state & WINDOWS_FULLSCREEN),
				"above", !!(v[i].state & WINDOWS_ABOVE)));
	}
	if (focused != None && focused != w->focused &&
	    (f = find_info(v, n, focused)))
		chan_event(&w->a->chan, AGENT_E_WINDOW_FOCUSED,
			   json_pack("{sIso}", "window", (json_int_t)focused,
				     "title", title_json(f->title)));
	windows_snapshot(w, v, n);
	windows_free(v, n);
}

static void run_clipboard(struct watch *w)
{
	struct display *d = w->a->disp;

	if (!(w->on & WATCH_CLIPBOARD) || d->clipboard_owners == w->clip_seen)
		return;
	w->clip_seen = d->clipboard_owners;
	chan_event(&w->a->chan, AGENT_E_CLIPBOARD_CHANGED, NULL);
}

/* --- waits --- */

/* quiet_ms and timeout_ms under the given names, checked. */
static int settle_params(const json_t *params, const char *quiet_key, const char *timeout_key,
			 long *quiet, long *timeout, char *err, size_t errlen)
{
	if (jget_int(params, quiet_key, 1, AGENTPROTO_MAX_QUIET_MS, WATCH_DEFAULT_QUIET_MS,
		     quiet, err, errlen) < 0 ||
	    jget_int(params, timeout_key, 0, AGENTPROTO_MAX_WAIT_MS, 3000, timeout, err,
		     errlen) < 0)
		return -1;
	return 0;
}

static struct waiter *waiter_add(struct watch *w, json_t *id, long quiet, long timeout)
{
	struct waiter *q;

	if (w->nwaiters >= WATCH_MAX_WAITERS || !(q = calloc(1, sizeof *q)))
		return NULL;
	/* Drawing the server did before now counts as before the wait. */
	display_refresh(w->a->disp);
	q->id = json_incref(id);
	q->start = input_now_ms();
	q->deadline = q->start + timeout;
	q->quiet = (int)quiet;
	q->next = w->waiters;
	w->waiters = q;
	w->nwaiters++;
	return q;
}

int watch_wait(struct watch *w, json_t *id, const json_t *params, char *err,
	       size_t errlen)
{
	const json_t *shot = json_object_get(params, "screenshot");
	struct waiter *q;
	long quiet, timeout;

	if (params && !json_is_null(params) && !json_is_object(params)) {
		snprintf(err, errlen, "params must be {quiet_ms, timeout_ms, screenshot}");
		return -1;
	}
	if (settle_params(params, "quiet_ms", "timeout_ms", &quiet, &timeout, err, errlen) < 0)
		return -1;
	if (shot && !json_is_null(shot) && !json_is_object(shot)) {
		snprintf(err, errlen, "screenshot must be an object of screenshot params");
		return -1;
	}
	if (!(q = waiter_add(w, id, quiet, timeout))) {
		snprintf(err, errlen, "more than %d waits at once", WATCH_MAX_WAITERS);
		return -1;
	}
	if (json_is_object(shot))
		q->shot = json_deep_copy(shot);
	return 0;
}

int watch_actions_check(const json_t *params, char *err, size_t errlen)
{
	long quiet, timeout;

	if (!json_is_object(params) || !json_object_get(params, "settle_ms"))
		return 0;
	return settle_params(params, "settle_ms", "settle_timeout_ms", &quiet, &timeout, err,
			     errlen);
}

void watch_actions_done(struct watch *w, json_t *id, json_t *reply,
			const json_t *params, const struct act_list *l,
			struct act_images *imgs)
{
	struct waiter *q = NULL;
	long quiet, timeout;
	char err[200];

	/* Without a window manager nothing announces a focus change, and
	 * input is what changes it: look again after each batch. */
	if (w->on & WATCH_WINDOWS)
		w->windows_dirty = 1;
	if (json_is_object(params) && json_object_get(params, "settle_ms") &&
	    settle_params(params, "settle_ms", "settle_timeout_ms", &quiet, &timeout, err,
			  sizeof err) == 0)
		q = waiter_add(w, id, quiet, timeout);
	if (!q) {
		chan_reply_fds(&w->a->chan, id, reply, imgs->fd, imgs->n);
		actions_images_close(imgs);
		return;
	}
	q->reply = reply;
	q->imgs = *imgs;
	imgs->n = 0;
	q->scale_w = l->scale_w;
	q->scale_h = l->scale_h;
	q->format = l->format;
	q->quality = l->quality;
}

/* When q is due: its quiet period's end or its deadline. */
static int64_t waiter_due(const struct waiter *q, int64_t changed)
{
	int64_t from = changed > q->start ? changed : q->start;
	int64_t end = from + q->quiet;

	return end < q->deadline ? end : q->deadline;
}

/* Reply to a finished wait.settled. */
static void reply_wait(struct watch *w, struct waiter *q, json_t *res)
{
	struct agent *a = w->a;
	const char *code = NULL;
	json_t *shot = NULL;
	char err[256];
	int fd = -1;

	if (q->shot && methods_shot(a, q->shot, &shot, &fd, &code, err, sizeof err) < 0) {
		json_decref(res);
		chan_reply_error(&a->chan, q->id, code, err, -1);
		return;
	}
	if (shot) {
		json_object_update(shot, res);
		json_decref(res);
		res = shot;
	}
	chan_reply(&a->chan, q->id, res, fd);
	if (fd >= 0)
		close(fd);
}

/* Reply to an actions batch with its settled screen added. */
static void reply_actions(struct watch *w, struct waiter *q, json_t *res)
{
	struct display *d = w->a->disp;
	struct shot_req r;
	char err[256];

	shot_default(&r, d->width, d->height);
	r.format = q->format;
	r.quality = q->quality;
	r.out_w = q->scale_w ? q->scale_w : d->width;
	r.out_h = q->scale_h ? q->scale_h : d->height;
	if (actions_image(w->a, &r, res, &q->imgs, err, sizeof err) < 0)
		json_object_set_new(res, "error", json_string(err));
	json_object_set_new(q->reply, "settled", res);
	chan_reply_fds(&w->a->chan, q->id, q->reply, q->imgs.fd, q->imgs.n);
	q->reply = NULL;
	actions_images_close(&q->imgs);
}

static void run_waiters(struct watch *w, int64_t now)
{
	struct display *d = w->a->disp;

	for (struct waiter **pp = &w->waiters; *pp;) {
		struct waiter *q = *pp;
		int64_t from = d->changed_ms > q->start ? d->changed_ms : q->start;
		int settled = now >= from + q->quiet;
		json_t *res;

		if (!settled && now < q->deadline) {
			pp = &q->next;
			continue;
		}
		*pp = q->next;
		w->nwaiters--;
		res = json_pack("{sbsIsI}", "settled", settled, "waited_ms",
				(json_int_t)(now - q->start), "frame", (json_int_t)d->damage);
		if (q->reply)
			reply_actions(w, q, res);
		else
			reply_wait(w, q, res);
		waiter_free(q);
	}
}

void watch_run(struct watch *w)
{
	int64_t now = input_now_ms();

	run_screen(w, now);
	run_windows(w);
	run_clipboard(w);
	if (w->waiters)
		run_waiters(w, now);
}

int watch_timeout_ms(const struct watch *w)
{
	const struct display *d = w->a->disp;
	int64_t now = input_now_ms(), due = -1, t;

	if ((w->on & WATCH_SCREEN) && d->damage != w->sent_frame)
		due = w->sent_ms + w->interval;
	if ((w->on & WATCH_SCREEN) && w->settle_pending) {
		t = d->changed_ms + w->quiet;
		due = due < 0 || t < due ? t : due;
	}
	for (const struct waiter *q = w->waiters; q; q = q->next) {
		t = waiter_due(q, d->changed_ms);
		due = due < 0 || t < due ? t : due;
	}
	if (due < 0)
		return -1;
	t = due - now;
	return t < 0 ? 0 : t > 60000 ? 60000 : (int)t;
}
