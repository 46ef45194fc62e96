/*
 * adapt_sub.c - sub-calls and model sizes for the agent adapters (see
 * adapt_sub.h).
 *
 * Owns each sub-call in flight (struct adapt_sub: the sub's op_call and
 * who to tell), until the loop turn after it answered. The parent's job
 * points at it, so a parent cancelled by its client cancels the sub, which
 * then never calls back. Loop thread only.
 */
#include "adapt_sub.h"

#include <stdio.h>
#include <stdlib.h>

#include "desktop.h"
#include "ev.h"
#include "sandbox.h"
#include "toolcall.h"

struct adapt_sub {
	struct op_call c;
	struct op_call *parent;
	adapt_sub_fn done;
	void *arg;
	void (*arg_free)(void *arg);
	lws_sorted_usec_list_t reap;
};

static void adapt_sub_cancel(void *job)
{
	struct adapt_sub *s = job;

	op_cancel(&s->c);
	op_call_release(&s->c);
	if (s->arg_free)
		s->arg_free(s->arg);
	free(s);
}

static void adapt_sub_reap(lws_sorted_usec_list_t *sul)
{
	struct adapt_sub *s = lws_container_of(sul, struct adapt_sub, reap);

	op_call_release(&s->c);
	free(s);
}

static void adapt_sub_done(struct op_call *c)
{
	struct adapt_sub *s = c->tctx;

	op_clear_job(s->parent);
	/* The adapters answer in JSON: an actions batch's images become
	 * base64 there, encoded once from their memfds. */
	if (c->err == OPERR_OK && c->nimgs && op_images_inline(c) < 0) {
		c->err = OPERR_INTERNAL;
		snprintf(c->msg, sizeof(c->msg), "cannot read the result's images");
	}
	s->done(s->parent, c, s->arg);
	/* Freed on the next turn of the loop: an operation may still tidy its
	 * job on the call right after answering it (files.c does). */
	ev_timer(c->srv, &s->reap, adapt_sub_reap, 0);
}

void adapt_sub_start(struct op_call *parent, const char *op_name, json_t *params, const char *bin,
		     size_t bin_len, adapt_sub_fn done, void *arg, void (*arg_free)(void *arg))
{
	adapt_sub_start_on(parent, parent->conn, op_name, params, bin, bin_len, done, arg, arg_free);
}

void adapt_sub_start_on(struct op_call *parent, struct op_conn *conn, const char *op_name, json_t *params,
			const char *bin, size_t bin_len, adapt_sub_fn done, void *arg,
			void (*arg_free)(void *arg))
{
	const struct op *op = op_find(op_name);
	struct adapt_sub *s = op ? calloc(1, sizeof(*s)) : NULL;

	if (!s) {
		json_decref(params);
		if (arg_free)
			arg_free(arg);
		return op_fail(parent, OPERR_INTERNAL, "cannot call %s", op_name);
	}
	if (parent->sb)
		json_object_set_new(params, "sandbox", json_string(parent->sb->id));
	op_call_init(&s->c, parent->srv, op, &parent->auth, params, parent->host);
	s->c.conn = conn;
	s->c.bin = bin;
	s->c.bin_len = bin_len;
	s->c.on_done = adapt_sub_done;
	s->c.tctx = s;
	s->parent = parent;
	s->done = done;
	s->arg = arg;
	s->arg_free = arg_free;
	op_set_job(parent, s, adapt_sub_cancel);
	op_dispatch(&s->c);   /* may finish, and free s, at once */
}

void adapt_sub_size(const struct op_call *c, int sw, int sh, long w, long h, int *mw, int *mh)
{
	/* The call's own size, else the one set for the sandbox at create. */
	if (!(w > 0 && h > 0) && c->sb && c->sb->spec.model_w > 0) {
		w = c->sb->spec.model_w;
		h = c->sb->spec.model_h;
	}
	toolcall_model_size(sw, sh, w, h, mw, mh);
}

int adapt_sub_screen(struct op_call *c, int *w, int *h)
{
	json_t *j = c->sb ? desk_json(c->sb) : NULL;
	json_t *d = json_object_get(j, "display");

	if (!d) {
		json_decref(j);
		return -1;
	}
	*w = (int)json_integer_value(json_object_get(d, "width"));
	*h = (int)json_integer_value(json_object_get(d, "height"));
	json_decref(j);
	return 0;
}
