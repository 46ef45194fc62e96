/*
 * pool.c - warm pools (see pool.h).
 *
 * Owns srv->pool (the shapes and their counts). A member is an ordinary
 * sandbox with sb->pooled set: sbx_find and the list skip it. Boots go
 * through sbx_create with a call object of our own (no transport, not
 * counted as a user's create); at most POOL_PARALLEL boot at once so a
 * refill never competes much with the creates users wait for. Loop thread
 * only; nothing here blocks.
 */
#include "pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentproto.h"
#include "desktop.h"
#include "drain.h"
#include "ev.h"
#include "log.h"
#include "op.h"
#include "sandbox.h"

#define POOL_MAX_SHAPES 8
#define POOL_PARALLEL 2          /* boots at once, over every shape */
#define POOL_RETRY_MS 5000       /* after a boot failed */
#define POOL_TAKE_DELAY_MS 250   /* refill this long after a take */

struct pool_shape {
	char *body;                  /* the create body, JSON */
	struct req_create spec;      /* parsed, for matching */
	int size, ready, booting;
	int64_t retry_after_us;      /* monotonic; boots wait after a failure */
};

struct pool_boot {
	struct op_call call;
	struct pool_boot *next;
};

struct pool {
	struct srv *srv;
	struct pool_boot *boots;     /* in flight, owned here */
	struct pool_shape shape[POOL_MAX_SHAPES];
	int n, booting, leaving, stopped;
	lws_sorted_usec_list_t timer;
};

static int same_strv(char **a, char **b)
{
	size_t i = 0;

	if (!a || !b)
		return !a == !b;
	for (; a[i] && b[i]; i++)
		if (strcmp(a[i], b[i]))
			return 0;
	return !a[i] && !b[i];
}

int pool_same_shape(const struct req_create *a, const struct req_create *b)
{
	const struct limits *x = &a->limits, *y = &b->limits;

	return !strcmp(a->rootfs, b->rootfs) && a->desktop == b->desktop &&
	       a->width == b->width && a->height == b->height && a->gl == b->gl &&
	       a->session == b->session && a->dpi == b->dpi && a->wm == b->wm &&
	       a->vnc_port == b->vnc_port && same_strv(a->apps, b->apps) &&
	       !a->network == !b->network && (!a->network || !strcmp(a->network, b->network)) &&
	       x->memory_mb == y->memory_mb && x->pids == y->pids && x->cpu == y->cpu &&
	       x->disk_mb == y->disk_mb && x->nofile == y->nofile;
}

static void refill_soon(struct srv *srv);
static void prepare_shots(struct sandbox *sb, int keep);
static int evict_one(struct srv *srv, const char *why);

static struct sandbox *find_member(struct srv *srv, const char *id)
{
	for (struct sandbox *sb = srv->sandboxes; sb; sb = sb->next)
		if (!strcmp(sb->id, id))
			return sb;
	return NULL;
}

static void boot_free(struct pool *p, struct pool_boot *b)
{
	for (struct pool_boot **pp = &p->boots; *pp; pp = &(*pp)->next)
		if (*pp == b) {
			*pp = b->next;
			break;
		}
	op_call_release(&b->call);
	free(b);
}

static void on_booted(struct op_call *c)
{
	struct srv *srv = c->srv;
	struct pool *p = srv->pool;
	struct pool_shape *s = c->tctx;

	s->booting--;
	p->booting--;
	if (c->err == OPERR_OK) {
		const char *id = json_string_value(json_object_get(c->result, "id"));
		struct sandbox *sb = id ? find_member(srv, id) : NULL;

		if (sb) {
			sb->pool_ready = 1;
			prepare_shots(sb, 1);
			s->ready++;
			srv->pool_size++;
			log_event(sb->id, "pool: ready (%d of %d)", s->ready, s->size);
			if (p->stopped)
				evict_one(srv, "the server drains");
		}
	} else {
		log_event(NULL, "pool: a boot failed: %s", c->msg);
		s->retry_after_us = srv_mono_us() + POOL_RETRY_MS * 1000LL;
	}
	boot_free(p, lws_container_of(c, struct pool_boot, call));
	refill_soon(srv);
}

static int boot(struct srv *srv, struct pool_shape *s)
{
	struct op_auth auth = { .scope = OPS_FULL };
	struct req_create spec;
	char err[512];
	struct pool_boot *b;
	struct op_call *c;

	if (req_parse_create(s->body, strlen(s->body), &srv->cfg.limits, 0, &spec, err,
			     sizeof(err)) != REQ_OK)
		return -1;
	if (spec.desktop < 0)
		spec.desktop = srv->desktop_fd >= 0;
	if (!spec.session)
		spec.session = srv->cfg.desktop_session;
	spec.timeout_s = 0;      /* members wait as long as it takes */
	b = calloc(1, sizeof(*b));
	if (!b) {
		req_create_free(&spec);
		return -1;
	}
	b->next = srv->pool->boots;
	srv->pool->boots = b;
	c = &b->call;
	/* No op row: a boot is not a user's create in the metrics. */
	op_call_init(c, srv, NULL, &auth, NULL, NULL);
	c->on_done = on_booted;
	c->tctx = s;
	s->booting++;
	srv->pool->booting++;
	sbx_create(srv, &spec, c);
	/* Hidden from the start: a booting member is nobody's either. */
	if (srv->sandboxes && srv->sandboxes->create_call == c) {
		srv->sandboxes->pooled = 1;
		srv->sandboxes->pool_shape = (int)(s - srv->pool->shape);
	}
	return 0;
}

static void on_refill(lws_sorted_usec_list_t *sul)
{
	struct pool *p = lws_container_of(sul, struct pool, timer);
	struct srv *srv = p->srv;
	int64_t now = srv_mono_us(), wait_us = 0;

	if (p->stopped || drain_refusing(srv))
		return;
	for (int i = 0; i < p->n && p->booting < POOL_PARALLEL; i++) {
		struct pool_shape *s = &p->shape[i];

		while (p->booting < POOL_PARALLEL && s->ready + s->booting < s->size &&
		       pool_live_count(srv) < srv->cfg.max_sandboxes) {
			if (s->retry_after_us > now) {
				wait_us = s->retry_after_us - now;
				break;
			}
			if (boot(srv, s) < 0)
				break;
		}
	}
	if (wait_us)
		ev_timer(srv, &p->timer, on_refill, wait_us / 1000 + 1);
}

static void refill_after(struct srv *srv, int ms)
{
	if (srv->pool && !srv->pool->stopped)
		ev_timer(srv, &srv->pool->timer, on_refill, ms);
}

static void refill_soon(struct srv *srv)
{
	refill_after(srv, 0);
}

static int add_shape(struct srv *srv, int size, const char *body, char *err, size_t cap)
{
	struct pool *p = srv->pool;
	struct pool_shape *s;

	if (p->n == POOL_MAX_SHAPES) {
		snprintf(err, cap, "pool: at most %d shapes", POOL_MAX_SHAPES);
		return -1;
	}
	s = &p->shape[p->n];
	if (req_parse_create(body, strlen(body), &srv->cfg.limits, 0, &s->spec, err, cap) != REQ_OK)
		return -1;
	if (s->spec.desktop < 0)
		s->spec.desktop = srv->desktop_fd >= 0;
	if (!s->spec.session)
		s->spec.session = srv->cfg.desktop_session;
	if (s->spec.vnc_port >= 0) {
		req_create_free(&s->spec);
		snprintf(err, cap, "pool: a shape cannot have a VNC port");
		return -1;
	}
	s->body = strdup(body);
	s->size = size;
	p->n++;
	return s->body ? 0 : -1;
}

int pool_start(struct srv *srv, char *err, size_t cap)
{
	json_t *shapes = NULL, *v;
	json_error_t je;
	size_t i;

	if (!srv->cfg.pool && !srv->cfg.pool_shapes[0])
		return 0;
	srv->pool = calloc(1, sizeof(*srv->pool));
	if (!srv->pool) {
		snprintf(err, cap, "out of memory");
		return -1;
	}
	srv->pool->srv = srv;
	if (srv->cfg.pool && add_shape(srv, srv->cfg.pool, "{}", err, cap) < 0)
		return -1;
	if (srv->cfg.pool_shapes[0]) {
		shapes = json_loads(srv->cfg.pool_shapes, 0, &je);
		if (!json_is_array(shapes)) {
			snprintf(err, cap, "pool-shapes: want a JSON array of {\"size\": N, \"spec\": {...}}");
			goto fail;
		}
		json_array_foreach(shapes, i, v) {
			json_t *size = json_object_get(v, "size"), *spec = json_object_get(v, "spec");
			char *body;
			int r;

			if (!json_is_object(v) || json_object_size(v) != 2 || !json_is_integer(size) ||
			    json_integer_value(size) < 1 || json_integer_value(size) > 10000 ||
			    !json_is_object(spec)) {
				snprintf(err, cap, "pool-shapes[%zu]: want {\"size\": 1..10000, \"spec\": {...}}", i);
				goto fail;
			}
			body = json_dumps(spec, JSON_COMPACT);
			r = body ? add_shape(srv, (int)json_integer_value(size), body, err, cap) : -1;
			free(body);
			if (r < 0)
				goto fail;
		}
		json_decref(shapes);
	}
	log_event(NULL, "pool: %d shape(s), filling", srv->pool->n);
	refill_soon(srv);
	return 0;
fail:
	json_decref(shapes);
	return -1;
}

int pool_live_count(const struct srv *srv)
{
	return srv->nsandboxes - (srv->pool ? srv->pool->leaving : 0);
}

/*
 * While a member waits, its agent keeps the whole-screen PNG encoded
 * whenever the screen settles, so the taker's first screenshot is the
 * bytes already made; once taken it stops (speculative encodes are for
 * nobody's desktop but the pool's). Best effort: without it the first
 * screenshot encodes, as any other.
 */
static void prepare_shots(struct sandbox *sb, int keep)
{
	if (sb->desk)
		desk_call(sb, AGENT_M_SHOT_PREPARE, json_pack("{s:b}", "keep", keep), -1, NULL, NULL);
}

/* Destroy one ready member. */
static int evict_one(struct srv *srv, const char *why)
{
	for (struct sandbox *sb = srv->sandboxes; sb; sb = sb->next) {
		if (!sb->pooled || !sb->pool_ready || sb->pool_leaving)
			continue;
		sb->pool_leaving = 1;
		srv->pool->leaving++;
		log_event(sb->id, "pool: destroyed: %s", why);
		sbx_remove(sb, NULL);
		return 1;
	}
	return 0;
}

int pool_take(struct srv *srv, struct req_create *spec, struct op_call *c)
{
	struct pool *p = srv->pool;
	struct sandbox *sb;

	if (!p)
		return 0;
	for (sb = srv->sandboxes; sb; sb = sb->next)
		if (sb->pooled && sb->pool_ready && !sb->pool_leaving && sb->state == SBX_RUNNING &&
		    pool_same_shape(&p->shape[sb->pool_shape].spec, spec))
			break;
	if (!sb) {
		srv->metrics.pool_misses++;
		if (pool_live_count(srv) >= srv->cfg.max_sandboxes)
			evict_one(srv, "a create needs its room");
		return 0;
	}
	/* The caller's now: its env and lifetime, a fresh start time. */
	sb->pooled = sb->pool_ready = 0;
	p->shape[sb->pool_shape].ready--;
	srv->pool_size--;
	srv->metrics.pool_hits++;
	{
		struct req_env tmp = sb->spec.env;

		sb->spec.env = spec->env;
		spec->env = tmp;
	}
	sb->spec.timeout_s = spec->timeout_s;
	sb->spec.model_w = spec->model_w;
	sb->spec.model_h = spec->model_h;
	req_create_free(spec);
	sb->created_us = srv_wall_us();
	sb->start_mono_us = c->start_us > 0 ? c->start_us : srv_mono_us();
	sbx_set_timeout(sb, sb->spec.timeout_s);
	prepare_shots(sb, 0);
	log_event(sb->id, "pool: taken by a create");
	op_ok(c, sbx_json(sb));
	/* A boot's clone and jail set-up run on this loop and its Xvfb takes a
	 * core: after a take, let the taker's first calls (a screenshot, an
	 * exec) go first. */
	refill_after(srv, POOL_TAKE_DELAY_MS);
	return 1;
}

void pool_sandbox_gone(struct srv *srv, struct sandbox *sb)
{
	struct pool *p = srv->pool;

	if (!p)
		return;
	if (sb->pool_leaving)
		p->leaving--;
	if (sb->pooled && sb->pool_ready) {
		p->shape[sb->pool_shape].ready--;
		srv->pool_size--;
	}
	if (sb->pooled)
		refill_soon(srv);
}

void pool_drain(struct srv *srv)
{
	if (!srv->pool)
		return;
	srv->pool->stopped = 1;
	ev_timer_cancel(&srv->pool->timer);
	while (evict_one(srv, "the server drains"))
		;
}

void pool_stop(struct srv *srv)
{
	struct pool *p = srv->pool;

	if (!p)
		return;
	ev_timer_cancel(&p->timer);
	/* Boots the shutdown cut short were never answered. */
	while (p->boots)
		boot_free(p, p->boots);
	for (int i = 0; i < p->n; i++) {
		req_create_free(&p->shape[i].spec);
		free(p->shape[i].body);
	}
	free(p);
	srv->pool = NULL;
}
