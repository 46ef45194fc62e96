/*
 * methods.c - the request table: screenshot, actions, clipboard.get/set,
 * display.get/set, windows, window.op, vnc.attach, vnc.stats,
 * events.watch, wait.settled, record.*. Each handler fills a
 * struct reply; one place sends it, so every reply and every error has the
 * same shape. Owns nothing but, for the length of one request, the
 * descriptor that came with it. Loop thread only.
 */
#include "methods.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actions.h"
#include "jget.h"
#include "record.h"
#include "launch.h"
#include "shot.h"
#include "watch.h"
#include "windows.h"
#include "winops.h"

struct reply {
	json_t *result;     /* success (owned) */
	int fd;             /* passed beside the result, or -1 (owned) */
	const char *code;   /* error */
	char msg[320];
	int index;          /* error: failing action, or -1 */
	int deferred;       /* the reply is sent later */
	int in_fd;          /* came with the request, or -1; a method that
			       keeps it sets it to -1 */
};

typedef void (*method_fn)(struct agent *a, json_t *id, json_t *params,
			  struct reply *r);

static void reply_error(struct reply *r, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof r->msg, fmt, ap);
	va_end(ap);
	r->code = code;
}

/* Keep img as the cached shot of etag, unless the pointer moved while it
 * was taken (then the cursor drawn in it may not be the one etag names).
 * Best effort: without memory the next shot is encoded again. */
static void shot_cache_put(struct agent *a, const struct shot_req *req, const char *etag,
			   const struct encode_image *img)
{
	struct agent_shot_cache *c = &a->shot_cache;
	char now[SHOT_ETAG_LEN];
	uint8_t *p;

	c->etag[0] = '\0';
	if (req->cursor) {
		shot_etag(req, a->nonce, a->disp->damage, capture_cursor_key(a->cap), now);
		if (strcmp(now, etag) != 0)
			return;
	}
	if (img->len > c->cap) {
		p = realloc(c->data, img->len);
		if (!p)
			return;
		c->data = p;
		c->cap = img->len;
	}
	memcpy(c->data, img->data, img->len);
	c->len = img->len;
	c->width = img->width;
	c->height = img->height;
	snprintf(c->etag, sizeof c->etag, "%s", etag);
}

/* The encoded image into a memfd and its description. */
static int methods_shot_reply(const struct encode_image *img, enum shot_format f,
			      const char *etag, json_t **result, int *fd, char *err,
			      size_t errlen)
{
	*fd = chan_memfd("screenshot", img->data, img->len);
	if (*fd < 0) {
		snprintf(err, errlen, "memfd: %m");
		return -1;
	}
	*result = json_pack("{sssisisssI}", "media_type", shot_media_type(f), "width",
			    img->width, "height", img->height, "etag", etag, "size",
			    (json_int_t)img->len);
	return 0;
}

/*
 * A screenshot of one window's frame: the params' region is within the
 * frame, their width/height scale it. The etag covers the window and its
 * frame's place, since the damage counter is the whole screen's.
 */
static int methods_window_shot(struct agent *a, const json_t *params, json_t **result,
			       int *fd, const char **code, char *err, size_t errlen)
{
	struct encode_image img;
	struct shot_req req;
	char etag[SHOT_ETAG_LEN];
	uint8_t *pix;
	size_t stride;
	long id;
	int wd, ht, sx, sy, own;

	if (jget_int(params, "window", 1, 0xffffffffL, 0, &id, err, errlen) < 0)
		return -1;
	display_refresh(a->disp);
	if (winops_grab(a->wops, (Window)id, &pix, &stride, &wd, &ht, &sx, &sy, &own, code,
			err, errlen) < 0)
		return -1;
	*code = "bad_request";
	if (shot_parse(params, wd, ht, &req, err, errlen) < 0)
		return -1;
	*code = "internal";
	req.window = (uint64_t)id;
	req.origin_x = sx;
	req.origin_y = sy;
	shot_etag(&req, a->nonce, a->disp->damage,
		  req.cursor ? capture_cursor_key(a->cap) : 0, etag);
	if (req.if_none_match && strcmp(req.if_none_match, etag) == 0) {
		*result = json_pack("{sbss}", "not_modified", 1, "etag", etag);
		return 0;
	}
	pix += (size_t)req.region.y * stride + (size_t)req.region.x * 4;
	if (req.cursor)
		capture_draw_cursor(a->cap, pix, stride, sx + req.region.x, sy + req.region.y,
				    req.region.w, req.region.h);
	if (encode_captured(a->enc, pix, stride, &req, &img, err, errlen) < 0 ||
	    methods_shot_reply(&img, req.format, etag, result, fd, err, errlen) < 0)
		return -1;
	json_object_set_new(*result, "window", json_pack("{sIsisisisisb}", "id", (json_int_t)id,
							 "x", sx, "y", sy, "width", wd,
							 "height", ht, "composited", own));
	return 0;
}

/*
 * A full-screen PNG of a screen nothing has drawn on since start-up (the
 * damage counter still where start() left it): Xvfb's root background, one
 * colour everywhere, so it is written from one pixel's colour without
 * capturing the rest (a cold create's first screenshot: Xvfb's first write
 * into a fresh capture segment is a page fault per 4 KiB, ~3 ms of 1280x800,
 * and the check that it is one colour reads all of it). The bytes are those
 * encode_shot would give. Returns 1 with *img, 0 when it does not apply, -1
 * with err.
 */
static int methods_blank(struct agent *a, const struct shot_req *req, struct encode_image *img,
			 char *err, size_t errlen)
{
	const struct display *d = a->disp;
	uint8_t *pix, rgb[3];
	size_t stride;

	if (!a->blank || d->damage != a->blank_damage || req->format != SHOT_PNG ||
	    req->cursor || req->region.x || req->region.y || req->region.w != d->width ||
	    req->region.h != d->height || req->out_w != d->width || req->out_h != d->height)
		return 0;
	if (capture_grab(a->cap, 0, 0, 1, 1, &pix, &stride, err, errlen) < 0)
		return -1;
	rgb[0] = pix[2];
	rgb[1] = pix[1];
	rgb[2] = pix[0];
	return encode_solid(a->enc, d->width, d->height, rgb, img, err, errlen) < 0 ? -1 : 1;
}

int methods_shot(struct agent *a, const json_t *params, json_t **result, int *fd,
		 const char **code, char *err, size_t errlen)
{
	struct agent_shot_cache *c = &a->shot_cache;
	struct encode_image img;
	struct shot_req req;
	char etag[SHOT_ETAG_LEN];
	int cached;

	*result = NULL;
	*fd = -1;
	*code = "bad_request";
	if (json_is_object(params) && json_object_get(params, "window"))
		return methods_window_shot(a, params, result, fd, code, err, errlen);
	if (shot_parse(params, a->disp->width, a->disp->height, &req, err, errlen) < 0)
		return -1;
	*code = "internal";
	display_refresh(a->disp);
	shot_etag(&req, a->nonce, a->disp->damage,
		  req.cursor ? capture_cursor_key(a->cap) : 0, etag);
	if (req.if_none_match && strcmp(req.if_none_match, etag) == 0) {
		*result = json_pack("{sbss}", "not_modified", 1, "etag", etag);
		return 0;
	}
	cached = c->etag[0] && strcmp(c->etag, etag) == 0;
	if (cached) {
		img = (struct encode_image){ c->data, c->len, c->width, c->height };
	} else {
		int blank = methods_blank(a, &req, &img, err, errlen);

		if (blank < 0 || (!blank && encode_shot(a->enc, a->cap, &req, &img, err, errlen) < 0))
			return -1;
		shot_cache_put(a, &req, etag, &img);
	}
	*fd = chan_memfd("screenshot", img.data, img.len);
	if (*fd < 0) {
		snprintf(err, errlen, "memfd: %m");
		return -1;
	}
	a->shots++;
	*result = json_pack("{sssisisssIsb}", "media_type",
			    shot_media_type(req.format), "width", img.width,
			    "height", img.height, "etag", etag, "size",
			    (json_int_t)img.len, "cached", cached);
	return 0;
}

static void m_screenshot(struct agent *a, json_t *id, json_t *params,
			 struct reply *r)
{
	char err[256];
	const char *code;

	if (methods_shot(a, params, &r->result, &r->fd, &code, err, sizeof err) < 0)
		return reply_error(r, code, "%s", err);
}

/* {"keep": bool}: prepare the default screenshot whenever the screen
 * settles (deskboxd asks this of a pool member until it is taken). */
static void m_shot_prepare(struct agent *a, json_t *id, json_t *params,
			   struct reply *r)
{
	char err[256];
	int keep = 0;

	if (jget_bool(params, "keep", 0, &keep, err, sizeof err) < 0)
		return reply_error(r, "bad_request", "%s", err);
	shotprep_keep(&a->prep, keep);
	r->result = json_pack("{sb}", "ok", 1);
}

static void m_actions(struct agent *a, json_t *id, json_t *params,
		      struct reply *r)
{
	struct act_error e;

	if (watch_actions_check(params, e.msg, sizeof e.msg) < 0)
		return reply_error(r, "bad_request", "%s", e.msg);
	if (actions_submit(a->acts, id, params, &e) < 0) {
		r->index = e.index;
		return reply_error(r, "bad_request", "%s", e.msg);
	}
	r->deferred = 1;
	actions_run(a->acts);
}

static json_t *display_json(struct agent *a)
{
	struct vnc_stats st;
	int x = 0, y = 0;

	display_pointer(a->disp, &x, &y);
	vnc_stats(a->vnc, &st);
	return json_pack("{sisisisis{sisi}si}", "width", a->disp->width,
			 "height", a->disp->height, "max_width", a->disp->max_w,
			 "max_height", a->disp->max_h, "cursor", "x", x, "y", y,
			 "vnc_clients", st.clients);
}

static void m_display_get(struct agent *a, json_t *id, json_t *params,
			  struct reply *r)
{
	r->result = display_json(a);
}

static void m_display_set(struct agent *a, json_t *id, json_t *params,
			  struct reply *r)
{
	char err[256];
	long w, h;

	if (!json_is_object(params) || !json_object_get(params, "width") ||
	    !json_object_get(params, "height"))
		return reply_error(r, "bad_request", "params must be {width, height}");
	if (jget_int(params, "width", 1, a->disp->max_w, 0, &w, err, sizeof err) < 0 ||
	    jget_int(params, "height", 1, a->disp->max_h, 0, &h, err, sizeof err) < 0)
		return reply_error(r, "bad_request", "%s (the maximum is %dx%d)", err,
				   a->disp->max_w, a->disp->max_h);
	if (display_resize(a->disp, (int)w, (int)h, err, sizeof err) < 0)
		return reply_error(r, "internal", "%s", err);
	r->result = display_json(a);
}

/* A clipboard read is over: answer request id (ours, released here). */
static void clipboard_got(void *ctx, void *arg, char *text, size_t len,
			  int notext, const char *err)
{
	struct agent *a = ctx;
	json_t *id = arg, *res;

	if (!text) {
		chan_reply_error(&a->chan, id, notext ? "not_found" : "internal", err, -1);
	} else if (!(res = json_pack("{ss%}", "text", text, len))) {
		chan_reply_error(&a->chan, id, "internal", "out of memory", -1);
	} else {
		chan_reply(&a->chan, id, res, -1);
	}
	free(text);
	json_decref(id);
}

static void clipboard_drop_id(void *arg)
{
	json_decref(arg);
}

/* Answered later: an owner that is slow to answer must not hold up the
 * loop, nor screenshots and input with it. */
static void m_clipboard_get(struct agent *a, json_t *id, json_t *params,
			    struct reply *r)
{
	if (clipboard_get(a->clip, clipboard_got, a, json_incref(id), clipboard_drop_id) < 0) {
		json_decref(id);
		return reply_error(r, "internal", "out of memory");
	}
	r->deferred = 1;
}

static void m_clipboard_set(struct agent *a, json_t *id, json_t *params,
			    struct reply *r)
{
	const char *text;
	char err[256];
	size_t len;

	if (!json_is_object(params))
		return reply_error(r, "bad_request", "params must be {text}");
	if (jget_string(params, "text", 1, &text, &len, err, sizeof err) < 0)
		return reply_error(r, "bad_request", "%s", err);
	if (clipboard_set(a->clip, text, len, err, sizeof err) < 0)
		return reply_error(r, "internal", "%s", err);
	r->result = json_pack("{sb}", "ok", 1);
}

static void m_windows(struct agent *a, json_t *id, json_t *params,
		      struct reply *r)
{
	struct windows_info *w;
	char err[256];
	json_t *list;
	int n;

	if (windows_list(a->disp, &w, &n, err, sizeof err) < 0)
		return reply_error(r, "internal", "%s", err);
	list = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(list, winops_window_json(&w[i]));
	windows_free(w, n);
	r->result = json_pack("{so}", "windows", list);
}

/* Answered once the change shows (winops.c), or now when refused. */
static void m_window_op(struct agent *a, json_t *id, json_t *params,
			struct reply *r)
{
	const char *code;
	char err[256];

	if (winops_submit(a->wops, id, params, &code, err, sizeof err) < 0)
		return reply_error(r, code, "%s", err);
	r->deferred = 1;
}

static void m_vnc_attach(struct agent *a, json_t *id, json_t *params,
			 struct reply *r)
{
	json_t *vo = json_is_object(params) ? json_object_get(params, "view_only") : NULL;
	char err[256];
	int vid, bad;

	if (params && !json_is_null(params) && !json_is_object(params))
		return reply_error(r, "bad_request", "params must be {view_only}");
	if (vo && !json_is_boolean(vo))
		return reply_error(r, "bad_request", "view_only must be a boolean");
	if (r->in_fd < 0)
		return reply_error(r, "bad_request", "vnc.attach needs a socket passed with the request");
	if (vnc_attach(a->vnc, r->in_fd, vo && json_is_true(vo), &vid, &bad, err,
		       sizeof err) < 0) {
		r->in_fd = -1;   /* vnc_attach closed it */
		return reply_error(r, bad ? "bad_request" : "internal", "%s", err);
	}
	r->in_fd = -1;
	r->result = json_pack("{si}", "client", vid);
}

static void m_vnc_stats(struct agent *a, json_t *id, json_t *params,
			struct reply *r)
{
	struct vnc_stats st;

	vnc_stats(a->vnc, &st);
	r->result = json_pack("{sisIsI}", "clients", st.clients, "bytes_sent",
			      (json_int_t)st.bytes_sent, "updates_sent",
			      (json_int_t)st.updates_sent);
}

static void m_events_watch(struct agent *a, json_t *id, json_t *params,
			   struct reply *r)
{
	char err[256];

	if (watch_set(a->watch, params, err, sizeof err) < 0)
		return reply_error(r, "bad_request", "%s", err);
	r->result = json_pack("{sb}", "ok", 1);
}

static void m_wait_settled(struct agent *a, json_t *id, json_t *params,
			   struct reply *r)
{
	char err[256];

	if (watch_wait(a->watch, id, params, err, sizeof err) < 0)
		return reply_error(r, "bad_request", "%s", err);
	r->deferred = 1;
}

static void m_record_start(struct agent *a, json_t *id, json_t *params,
			   struct reply *r)
{
	const char *code;

	r->result = record_start(a->rec, params, &code, r->msg, sizeof r->msg);
	if (!r->result)
		r->code = code;
}

static void m_record_stop(struct agent *a, json_t *id, json_t *params,
			  struct reply *r)
{
	const char *code;

	if (record_stop(a->rec, id, params, &code, r->msg, sizeof r->msg) < 0)
		r->code = code;
	else
		r->deferred = 1;
}

static void m_record_status(struct agent *a, json_t *id, json_t *params,
			    struct reply *r)
{
	const char *code;

	r->result = record_status(a->rec, params, &code, r->msg, sizeof r->msg);
	if (!r->result)
		r->code = code;
}

static void m_record_open(struct agent *a, json_t *id, json_t *params,
			  struct reply *r)
{
	const char *code;

	r->result = record_open(a->rec, params, &r->fd, &code, r->msg, sizeof r->msg);
	if (!r->result)
		r->code = code;
}

static void m_record_delete(struct agent *a, json_t *id, json_t *params,
			    struct reply *r)
{
	const char *code;

	r->result = record_delete(a->rec, params, &code, r->msg, sizeof r->msg);
	if (!r->result)
		r->code = code;
}

static void m_apps_list(struct agent *a, json_t *id, json_t *params, struct reply *r)
{
	char err[256];

	if (!(r->result = launch_list(a->launch, err, sizeof err)))
		return reply_error(r, "internal", "%s", err);
}

static int launch_now(struct agent *a, json_t *id, json_t *params, int open,
		      const char **code, char *err, size_t errlen)
{
	return open ? launch_open(a->launch, id, params, code, err, errlen)
		    : launch_start(a->launch, id, params, code, err, errlen);
}

/* apps.launch and open answer once the app's first window maps. */
static void launch_or_hold(struct agent *a, json_t *id, json_t *params, struct reply *r, int open)
{
	const char *code;
	char err[300];

	if (launch_wm_settling(a)) {
		if (a->nheld == AGENT_MAX_HELD)
			return reply_error(r, "busy", "more than %d launches wait for the window manager",
					   AGENT_MAX_HELD);
		a->held[a->nheld++] = (struct agent_held){json_incref(id), json_incref(params), open};
		a->wm_wanted = 1;
		r->deferred = 1;
		return;
	}
	if (launch_now(a, id, params, open, &code, err, sizeof err) < 0)
		return reply_error(r, code, "%s", err);
	r->deferred = 1;
}

static void m_apps_launch(struct agent *a, json_t *id, json_t *params, struct reply *r)
{
	launch_or_hold(a, id, params, r, 0);
}

static void m_open(struct agent *a, json_t *id, json_t *params, struct reply *r)
{
	launch_or_hold(a, id, params, r, 1);
}

void methods_run_held(struct agent *a, int anyway)
{
	if (!a->nheld || (!anyway && launch_wm_settling(a)))
		return;
	for (int i = 0; i < a->nheld; i++) {
		struct agent_held *h = &a->held[i];
		const char *code;
		char err[300];

		if (launch_now(a, h->id, h->params, h->open, &code, err, sizeof err) < 0)
			chan_reply_error(&a->chan, h->id, code, err, -1);
		json_decref(h->id);
		json_decref(h->params);
	}
	a->nheld = 0;
}

static const struct {
	const char *name;
	method_fn fn;
} methods[] = {
	{AGENT_M_SCREENSHOT, m_screenshot},
	{AGENT_M_SHOT_PREPARE, m_shot_prepare},
	{AGENT_M_ACTIONS, m_actions},
	{AGENT_M_DISPLAY_GET, m_display_get},
	{AGENT_M_DISPLAY_SET, m_display_set},
	{AGENT_M_CLIPBOARD_GET, m_clipboard_get},
	{AGENT_M_CLIPBOARD_SET, m_clipboard_set},
	{AGENT_M_WINDOWS, m_windows},
	{AGENT_M_WINDOW_OP, m_window_op},
	{AGENT_M_VNC_ATTACH, m_vnc_attach},
	{AGENT_M_VNC_STATS, m_vnc_stats},
	{AGENT_M_EVENTS_WATCH, m_events_watch},
	{AGENT_M_WAIT_SETTLED, m_wait_settled},
	{AGENT_M_RECORD_START, m_record_start},
	{AGENT_M_RECORD_STOP, m_record_stop},
	{AGENT_M_RECORD_STATUS, m_record_status},
	{AGENT_M_RECORD_OPEN, m_record_open},
	{AGENT_M_RECORD_DELETE, m_record_delete},
	{AGENT_M_APPS_LIST, m_apps_list},
	{AGENT_M_APPS_LAUNCH, m_apps_launch},
	{AGENT_M_OPEN, m_open},
};

void methods_dispatch(struct agent *a, json_t *msg, int fd, const char *bad)
{
	struct reply r = {.fd = -1, .index = -1, .in_fd = fd};
	json_t *id = msg ? json_object_get(msg, "id") : NULL;
	json_t *params = msg ? json_object_get(msg, "params") : NULL;
	const char *name;
	size_t i;

	if (!msg) {
		reply_error(&r, "bad_request", "%s", bad);
		goto send;
	}
	name = json_string_value(json_object_get(msg, "method"));
	if (!name) {
		reply_error(&r, "bad_request", "method must be a string");
		goto send;
	}
	for (i = 0; i < sizeof methods / sizeof *methods; i++)
		if (strcmp(methods[i].name, name) == 0)
			break;
	if (i == sizeof methods / sizeof *methods) {
		reply_error(&r, "not_found", "no method '%.64s'", name);
		goto send;
	}
	methods[i].fn(a, id, params, &r);
	if (r.in_fd >= 0)
		close(r.in_fd);
	r.in_fd = -1;
	if (r.deferred)
		return;
	if (!r.code && !r.result)
		reply_error(&r, "internal", "out of memory");
send:
	if (r.in_fd >= 0)
		close(r.in_fd);
	if (r.code) {
		json_decref(r.result);
		chan_reply_error(&a->chan, id, r.code, r.msg, r.index);
	} else {
		chan_reply(&a->chan, id, r.result, r.fd);
	}
	if (r.fd >= 0)
		close(r.fd);
	methods_announce_size(a);
}

void methods_announce_size(struct agent *a)
{
	if (a->disp->width == a->shown_w && a->disp->height == a->shown_h)
		return;
	a->shown_w = a->disp->width;
	a->shown_h = a->disp->height;
	chan_event(&a->chan, "display", json_pack("{sisi}", "width", a->shown_w,
						  "height", a->shown_h));
}
