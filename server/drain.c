/*
 * drain.c - draining (see drain.h).
 *
 * A drain refuses creates (503 with Retry-After; sandbox.create checks
 * drain_refusing) and makes /readyz fail, so a load balancer stops sending
 * new work, while every held sandbox keeps being served: its REST calls,
 * its WebSockets, its expiry. POST /v1/admin/drain and SIGUSR1 drain and
 * stay up (an operator or a preStop hook moves traffic away first);
 * SIGTERM drains and then stops the loop once no sandbox is left or the
 * grace has passed, after which main.c destroys what is left and exits 0.
 *
 * State lives in srv->drain; loop thread only. Never blocks: the grace is a
 * timer, and "no sandbox left" is noticed when the last one goes.
 */
#include "drain.h"

#include <stdio.h>

#include "ev.h"
#include "log.h"
#include "pool.h"

/* How long the last answers get to go out before the loop stops. */
#define DRAIN_LINGER_MS 200

static void stop_now(struct srv *srv, const char *why)
{
	if (srv->stopping)
		return;
	log_event(NULL, "drain: %s; stopping", why);
	srv->stopping = 1;
	lws_cancel_service(srv->ctx);
}

static void on_grace(lws_sorted_usec_list_t *sul)
{
	struct srv *srv = lws_container_of(sul, struct srv, drain.timer);
	char why[96];

	snprintf(why, sizeof(why), "grace of %ld s passed with %d sandbox(es) left",
		 srv->cfg.drain_grace_s, srv->nsandboxes);
	stop_now(srv, why);
}

void drain_begin(struct srv *srv, int then_exit, const char *why)
{
	if (!srv->drain.on) {
		srv->drain.on = 1;
		srv->drain.since_us = srv_mono_us();
		log_event(NULL, "drain: %s; refusing creates, serving %d sandbox(es)", why,
			  srv->nsandboxes - srv->pool_size);
		pool_drain(srv);
	}
	if (!then_exit || srv->drain.exit)
		return;
	srv->drain.exit = 1;
	if (srv->nsandboxes == 0)
		return stop_now(srv, "no sandbox left");
	ev_timer(srv, &srv->drain.timer, on_grace, srv->cfg.drain_grace_s * 1000);
}

static void on_empty(lws_sorted_usec_list_t *sul)
{
	struct srv *srv = lws_container_of(sul, struct srv, drain.timer);

	stop_now(srv, srv->nsandboxes ? "grace passed" : "no sandbox left");
}

void drain_sandbox_gone(struct srv *srv)
{
	/* Not at once: the call that removed the last sandbox (a DELETE) is
	 * still to be answered, and so may others in flight. */
	if (srv->drain.exit && srv->nsandboxes == 0)
		ev_timer(srv, &srv->drain.timer, on_empty, DRAIN_LINGER_MS);
}

int drain_refusing(const struct srv *srv)
{
	return srv->drain.on || srv->stopping;
}

int drain_ready(const struct srv *srv, char *why, size_t cap)
{
	if (drain_refusing(srv)) {
		snprintf(why, cap, "draining");
		return 0;
	}
	/* Pool members count toward the limit but make way for a create. */
	if (srv->nsandboxes - srv->pool_size >= srv->cfg.max_sandboxes) {
		snprintf(why, cap, "full: %d of %d sandboxes", srv->nsandboxes - srv->pool_size,
			 srv->cfg.max_sandboxes);
		return 0;
	}
	return 1;
}
