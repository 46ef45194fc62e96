/*
 * op_events.c - events.subscribe and events.unsubscribe: a control-channel
 * connection hears what happens in a sandbox (bus.h's topics) as
 * notifications whose method is the topic and whose params carry
 * "sandbox" and the event's fields.
 *
 * One bus subscription per (connection, sandbox); the connection's peer
 * pointer is the subscription's ctx, so closing the connection drops them
 * all (rpc_peer_close). screen.changed is coalesced per subscription: at
 * most one per min_interval_ms, rectangles of the ones held back merged
 * into the next. Loop thread only.
 */
#include <stdlib.h>
#include <string.h>

#include "bus.h"
#include "ev.h"
#include "op.h"
#include "sandbox.h"

#define EV_MAX_RECTS 64

/* Coalescing state of one connection's screen.changed for one sandbox. */
struct ev_screen {
	struct op_conn_hook hook;       /* first: closed frees it */
	struct op_conn *conn;
	struct srv *srv;
	char sandbox[ID_LEN + 1];
	int min_interval_ms;
	int64_t last_us;
	json_t *held;                   /* rects waiting for the interval, or NULL */
	json_int_t frame;
	lws_sorted_usec_list_t timer;
	struct ev_screen *next;
};

static struct ev_screen *ev_screens;  /* every connection's, few */

static void ev_send_screen(struct ev_screen *e)
{
	json_t *p = json_pack("{s:s,s:o,s:I}", "sandbox", e->sandbox, "rects", e->held, "frame", e->frame);

	e->held = NULL;
	e->last_us = srv_mono_us();
	e->conn->notify(e->conn, bus_topic_name(BUS_SCREEN_CHANGED), p);
}

static void ev_on_timer(lws_sorted_usec_list_t *sul)
{
	struct ev_screen *e = lws_container_of(sul, struct ev_screen, timer);

	if (e->held)
		ev_send_screen(e);
}

static void ev_screen_free(struct ev_screen *e)
{
	for (struct ev_screen **pp = &ev_screens; *pp; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	ev_timer_cancel(&e->timer);
	json_decref(e->held);
	free(e);
}

static void ev_screen_closed(struct op_conn_hook *h)
{
	ev_screen_free((struct ev_screen *)h);
}

static struct ev_screen *ev_screen_of(struct op_conn *conn, const char *sandbox, int create)
{
	struct ev_screen *e;

	for (e = ev_screens; e; e = e->next)
		if (e->conn == conn && !strcmp(e->sandbox, sandbox))
			return e;
	if (!create || !(e = calloc(1, sizeof(*e))))
		return NULL;
	e->conn = conn;
	snprintf(e->sandbox, sizeof(e->sandbox), "%s", sandbox);
	e->hook.closed = ev_screen_closed;
	op_conn_hook_add(conn, &e->hook);
	e->next = ev_screens;
	ev_screens = e;
	return e;
}

static void ev_screen_changed(struct ev_screen *e, const json_t *fields)
{
	const json_t *rects = json_object_get(fields, "rects");
	int64_t now = srv_mono_us();
	size_t i;
	json_t *r;

	if (!e->held)
		e->held = json_array();
	json_array_foreach(rects, i, r)
		if (json_array_size(e->held) < EV_MAX_RECTS)
			json_array_append(e->held, r);
	e->frame = json_integer_value(json_object_get(fields, "frame"));
	if (now - e->last_us >= (int64_t)e->min_interval_ms * 1000) {
		ev_send_screen(e);
		return;
	}
	/* Held back: the timer sends what gathered at the interval's end. */
	ev_timer(e->srv, &e->timer, ev_on_timer, e->min_interval_ms - (now - e->last_us) / 1000);
}

static void ev_deliver(void *ctx, enum bus_topic t, const char *sandbox, const json_t *fields)
{
	struct op_conn *conn = ctx;
	json_t *p;

	if (t == BUS_SCREEN_CHANGED) {
		struct ev_screen *e = ev_screen_of(conn, sandbox, 0);

		if (e) {
			ev_screen_changed(e, fields);
			return;
		}
	}
	p = json_deep_copy(fields);
	json_object_set_new(p, "sandbox", json_string(sandbox));
	conn->notify(conn, bus_topic_name(t), p);
}

/* The topics array as a mask; -1 with c failed. */
static long ev_topics(struct op_call *c)
{
	json_t *topics = json_object_get(c->params, "topics"), *t;
	unsigned mask = 0;
	size_t i;

	if (!json_is_array(topics) || !json_array_size(topics)) {
		op_fail(c, OPERR_BAD_REQUEST, "topics must be a non-empty array of topic names");
		return -1;
	}
	json_array_foreach(topics, i, t) {
		int b = bus_topic_of(json_string_value(t));

		if (b < 0) {
			char known[400] = "";
			size_t n = 0;

			for (int k = 0; k < BUS_TOPIC_COUNT && n < sizeof(known); k++)
				n += (size_t)snprintf(known + n, sizeof(known) - n, "%s%s", k ? ", " : "",
						      bus_topic_name((enum bus_topic)k));
			if (json_is_string(t))
				op_fail(c, OPERR_BAD_REQUEST, "topics[%zu] (%.64s) is not a topic; topics are %s", i,
					json_string_value(t), known);
			else
				op_fail(c, OPERR_BAD_REQUEST, "topics[%zu] must be a topic name; topics are %s", i, known);
			return -1;
		}
		mask |= BUS_BIT(b);
	}
	return mask;
}

static void run_subscribe(struct op_call *c)
{
	struct bus_sub *sub = bus_find(c->srv, c->conn, c->sb->id);
	long mask = ev_topics(c), interval = 50;
	struct ev_screen *e;

	if (mask < 0 || op_param_int(c, "min_interval_ms", 0, 60000, &interval) < 0)
		return;
	mask |= sub ? bus_topics(sub) : 0;
	if (mask & BUS_BIT(BUS_SCREEN_CHANGED)) {
		e = ev_screen_of(c->conn, c->sb->id, 1);
		if (!e)
			return op_fail(c, OPERR_INTERNAL, "out of memory");
		e->srv = c->srv;
		e->min_interval_ms = (int)interval;
	}
	if (sub)
		bus_set_topics(c->srv, sub, (unsigned)mask);
	else if (!bus_subscribe(c->srv, c->sb->id, (unsigned)mask, ev_deliver, c->conn))
		return op_fail(c, OPERR_INTERNAL, "out of memory");
	op_ok(c, json_pack("{s:o}", "topics", json_deep_copy(json_object_get(c->params, "topics"))));
}

static void run_unsubscribe(struct op_call *c)
{
	struct bus_sub *sub = bus_find(c->srv, c->conn, c->sb->id);
	long mask = ev_topics(c);

	if (mask < 0)
		return;
	if (sub)
		bus_set_topics(c->srv, sub, bus_topics(sub) & ~(unsigned)mask);
	op_ok(c, NULL);
}

#define TOPICS "\"topics\":{\"type\":\"array\",\"minItems\":1,\"items\":{\"enum\":[" \
	"\"sandbox.state\",\"desktop.state\",\"display.resized\",\"screen.changed\",\"screen.settled\"," \
	"\"clipboard.changed\",\"window.opened\",\"window.closed\",\"window.focused\",\"window.changed\",\"process.exit\"," \
	"\"network.denied\"]}}"

const struct op op_events_rows[] = {
	{ "events.subscribe", "Hear a sandbox's events as notifications named by topic (control channel).",
	  "{\"type\":\"object\",\"required\":[\"sandbox\",\"topics\"],\"additionalProperties\":false,"
	  "\"properties\":{\"sandbox\":{\"type\":\"string\"}," TOPICS ","
	  "\"min_interval_ms\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":60000,\"default\":50,"
	  "\"description\":\"screen.changed at most once per interval\"}}}",
	  OPF_SANDBOX | OPF_VIEW | OPF_CONN, run_subscribe },
	{ "events.unsubscribe", "Stop hearing some topics of a sandbox.",
	  "{\"type\":\"object\",\"required\":[\"sandbox\",\"topics\"],\"additionalProperties\":false,"
	  "\"properties\":{\"sandbox\":{\"type\":\"string\"}," TOPICS "}}",
	  OPF_SANDBOX | OPF_VIEW | OPF_CONN, run_unsubscribe },
	{ NULL, NULL, NULL, 0, NULL },
};
