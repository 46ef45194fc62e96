/*
 * bus.c - event subscriptions and delivery (see bus.h).
 *
 * Owns the subscriptions (a list in struct srv). Delivery is synchronous
 * and re-entrant-safe: a subscriber may unsubscribe (itself or others)
 * from inside its function; removal marks, and the list is swept after
 * the outermost emit. The watch hook is the one piece of module state:
 * set once at start by desktop.c. Loop thread only.
 */
#include "bus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct bus_sub {
	char sandbox[ID_LEN + 1];   /* "" = every sandbox */
	unsigned topics;            /* 0 = removed, freed at the sweep */
	bus_fn fn;
	void *ctx;
	struct bus_sub *next;
};

struct bus {
	struct bus_sub *subs;
	int depth;                  /* emits under way */
};

static const char *const bus_names[BUS_TOPIC_COUNT] = {
	[BUS_SANDBOX_STATE] = "sandbox.state",
	[BUS_DESKTOP_STATE] = "desktop.state",
	[BUS_DISPLAY_RESIZED] = "display.resized",
	[BUS_SCREEN_CHANGED] = "screen.changed",
	[BUS_SCREEN_SETTLED] = "screen.settled",
	[BUS_CLIPBOARD_CHANGED] = "clipboard.changed",
	[BUS_WINDOW_OPENED] = "window.opened",
	[BUS_WINDOW_CLOSED] = "window.closed",
	[BUS_WINDOW_FOCUSED] = "window.focused",
	[BUS_WINDOW_CHANGED] = "window.changed",
	[BUS_PROCESS_EXIT] = "process.exit",
	[BUS_NETWORK_DENIED] = "network.denied",
};

static bus_watch_fn bus_watch_hook;

const char *bus_topic_name(enum bus_topic t)
{
	return (unsigned)t < BUS_TOPIC_COUNT ? bus_names[t] : NULL;
}

int bus_topic_of(const char *name)
{
	for (int t = 0; name && t < BUS_TOPIC_COUNT; t++)
		if (!strcmp(bus_names[t], name))
			return t;
	return -1;
}

static struct bus *bus_of(struct srv *srv)
{
	if (!srv->bus)
		srv->bus = calloc(1, sizeof(struct bus));
	return srv->bus;
}

static void bus_sweep(struct bus *b)
{
	if (b->depth)
		return;
	for (struct bus_sub **pp = &b->subs; *pp;) {
		struct bus_sub *s = *pp;

		if (s->topics) {
			pp = &s->next;
			continue;
		}
		*pp = s->next;
		free(s);
	}
}

static void bus_watch_changed(struct srv *srv, const char *sandbox)
{
	if (bus_watch_hook)
		bus_watch_hook(srv, sandbox[0] ? sandbox : NULL);
}

void bus_on_watch_change(bus_watch_fn fn)
{
	bus_watch_hook = fn;
}

struct bus_sub *bus_subscribe(struct srv *srv, const char *sandbox, unsigned topics, bus_fn fn,
			      void *ctx)
{
	struct bus *b = bus_of(srv);
	struct bus_sub *s = b && topics ? calloc(1, sizeof(*s)) : NULL;

	if (!s)
		return NULL;
	snprintf(s->sandbox, sizeof(s->sandbox), "%s", sandbox ? sandbox : "");
	s->topics = topics;
	s->fn = fn;
	s->ctx = ctx;
	s->next = b->subs;
	b->subs = s;
	bus_watch_changed(srv, s->sandbox);
	return s;
}

struct bus_sub *bus_find(struct srv *srv, void *ctx, const char *sandbox)
{
	struct bus *b = srv->bus;

	for (struct bus_sub *s = b ? b->subs : NULL; s; s = s->next)
		if (s->ctx == ctx && s->topics && !strcmp(s->sandbox, sandbox ? sandbox : ""))
			return s;
	return NULL;
}

void bus_set_topics(struct srv *srv, struct bus_sub *sub, unsigned topics)
{
	sub->topics = topics;
	bus_watch_changed(srv, sub->sandbox);
	bus_sweep(srv->bus);
}

unsigned bus_topics(const struct bus_sub *sub)
{
	return sub->topics;
}

void bus_unsubscribe_ctx(struct srv *srv, void *ctx)
{
	struct bus *b = srv->bus;

	for (struct bus_sub *s = b ? b->subs : NULL; s; s = s->next) {
		if (s->ctx != ctx || !s->topics)
			continue;
		s->topics = 0;
		bus_watch_changed(srv, s->sandbox);
	}
	if (b)
		bus_sweep(b);
}

void bus_emit(struct srv *srv, const char *sandbox, enum bus_topic t, json_t *fields)
{
	struct bus *b = srv->bus;

	if (!fields)
		fields = json_object();
	if (b && (unsigned)t < BUS_TOPIC_COUNT) {
		b->depth++;
		for (struct bus_sub *s = b->subs; s; s = s->next)
			if ((s->topics & BUS_BIT(t)) && (!s->sandbox[0] || !strcmp(s->sandbox, sandbox)))
				s->fn(s->ctx, t, sandbox, fields);
		b->depth--;
		bus_sweep(b);
	}
	json_decref(fields);
}

unsigned bus_watching(const struct srv *srv, const char *sandbox)
{
	const struct bus *b = srv->bus;
	unsigned m = 0;

	for (const struct bus_sub *s = b ? b->subs : NULL; s; s = s->next)
		if (!s->sandbox[0] || (sandbox && !strcmp(s->sandbox, sandbox)))
			m |= s->topics;
	return m;
}

void bus_destroy(struct srv *srv)
{
	struct bus *b = srv->bus;

	while (b && b->subs) {
		struct bus_sub *s = b->subs;

		b->subs = s->next;
		free(s);
	}
	free(b);
	srv->bus = NULL;
}
