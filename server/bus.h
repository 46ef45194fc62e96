/*
 * bus.h - events: what happens in sandboxes (state changes, the screen,
 * windows, the clipboard, processes), delivered to whoever subscribed.
 *
 * A subscription names a sandbox (or all) and a set of topics; bus_emit
 * calls each matching subscriber's function synchronously with the event's
 * fields (borrowed for the call). Subscribers are the control channel's
 * connections (rpc_ws.c); sources are sandbox.c, desktop.c and exec.c.
 * bus_watching tells a source whether anyone listens, so the desktop agent
 * reports screen changes only while someone wants them. Loop thread only.
 */
#ifndef DESKBOX_BUS_H
#define DESKBOX_BUS_H

#include <jansson.h>

#include "srv.h"

enum bus_topic {
	BUS_SANDBOX_STATE,     /* {state, error?} */
	BUS_DESKTOP_STATE,     /* {state, error?} */
	BUS_DISPLAY_RESIZED,   /* {width, height} */
	BUS_SCREEN_CHANGED,    /* {rects: [[x,y,w,h]...], frame} */
	BUS_SCREEN_SETTLED,    /* {frame, quiet_ms} */
	BUS_CLIPBOARD_CHANGED, /* {} */
	BUS_WINDOW_OPENED,     /* {window, title, pid} */
	BUS_WINDOW_CLOSED,     /* {window} */
	BUS_WINDOW_FOCUSED,    /* {window, title} */
	BUS_WINDOW_CHANGED,    /* {window, x, y, width, height, state} */
	BUS_PROCESS_EXIT,      /* {pid, exit_code, signal, timed_out} */
	BUS_NETWORK_DENIED,    /* {host, port, reason} */
	BUS_TOPIC_COUNT
};

#define BUS_BIT(t) (1u << (t))
#define BUS_SCREEN_TOPICS (BUS_BIT(BUS_SCREEN_CHANGED) | BUS_BIT(BUS_SCREEN_SETTLED))

/* The topic's wire name ("screen.changed"), or NULL. */
const char *bus_topic_name(enum bus_topic t);
/* The topic named name, or -1. */
int bus_topic_of(const char *name);

/* fields is borrowed for the call; sandbox is the event's sandbox id. */
typedef void (*bus_fn)(void *ctx, enum bus_topic t, const char *sandbox, const json_t *fields);

struct bus_sub;

/* Subscribe fn to the topics (a BUS_BIT mask) of sandbox id (NULL: every
 * sandbox). Returns the subscription, or NULL (out of memory). */
struct bus_sub *bus_subscribe(struct srv *srv, const char *sandbox, unsigned topics, bus_fn fn,
			      void *ctx);
/* ctx's subscription to sandbox (NULL: to every sandbox), or NULL. */
struct bus_sub *bus_find(struct srv *srv, void *ctx, const char *sandbox);
/* Change the topics of sub; 0 removes it (and frees it). */
void bus_set_topics(struct srv *srv, struct bus_sub *sub, unsigned topics);
/* The subscriber's topic mask. */
unsigned bus_topics(const struct bus_sub *sub);
/* Remove every subscription with this ctx (a connection closing). */
void bus_unsubscribe_ctx(struct srv *srv, void *ctx);

/* Deliver an event (fields stolen; NULL = {}). */
void bus_emit(struct srv *srv, const char *sandbox, enum bus_topic t, json_t *fields);

/* The topics anyone subscribes to for sandbox (subscriptions to every
 * sandbox included). */
unsigned bus_watching(const struct srv *srv, const char *sandbox);

/* Called when the topics watched for a sandbox may have changed. */
typedef void (*bus_watch_fn)(struct srv *srv, const char *sandbox);
void bus_on_watch_change(bus_watch_fn fn);

/* Free every subscription (shutdown). */
void bus_destroy(struct srv *srv);

#endif
