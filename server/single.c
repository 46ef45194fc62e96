/*
 * single.c - single-sandbox mode and the activity keep-alive (see single.h).
 *
 * The sandbox is created through sbx_create with a call object of our own
 * (no transport): its on_done learns the outcome. The keep-alive is a plain
 * non-blocking TCP exchange watched by ev.c: connect, write one GET, read
 * until the peer closes, close; an exchange still open at the next tick is
 * dropped. The router's address is resolved once at start (a Service's
 * ClusterIP does not change while it exists): getaddrinfo blocks, so never
 * in the loop. State in srv->single; loop thread only.
 */
#include "single.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ev.h"
#include "log.h"
#include "op.h"
#include "req.h"
#include "sandbox.h"

static void on_created(struct op_call *c)
{
	struct srv *srv = c->srv;
	struct single *s = &srv->single;

	if (c->err == OPERR_OK) {
		const char *id = json_string_value(json_object_get(c->result, "id"));

		snprintf(s->id, sizeof(s->id), "%s", id ? id : "");
		s->running = 1;
		log_event(s->id, "single-sandbox mode: the sandbox is up; ready");
	} else {
		log_event(NULL, "single-sandbox mode: the sandbox did not start: %s", c->msg);
		srv->exit_code = 1;
		srv->stopping = 1;
		lws_cancel_service(srv->ctx);
	}
	op_call_release(c);
	free(c);
	s->call = NULL;
}

/* ---- activity keep-alive */

static void ping_close(struct srv *srv)
{
	struct single *s = &srv->single;

	if (s->ping_fd < 0)
		return;
	ev_del(srv, s->ping_fd);
	close(s->ping_fd);
	s->ping_fd = -1;
}

static void on_ping(void *ctx, uint32_t events)
{
	struct srv *srv = ctx;
	struct single *s = &srv->single;
	char buf[4096];
	ssize_t n;

	if (!s->ping_sent) {
		int err = 0;
		socklen_t el = sizeof(err);

		if (getsockopt(s->ping_fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
			log_event(s->id, "activity: cannot reach %s: %s", srv->cfg.activity_url,
				  strerror(err ? err : errno));
			return ping_close(srv);
		}
		n = write(s->ping_fd, s->request, strlen(s->request));
		if (n != (ssize_t)strlen(s->request))
			return ping_close(srv);
		s->ping_sent = 1;
		s->pings++;
		ev_mod(srv, s->ping_fd, EPOLLIN);
		return;
	}
	/* The answer does not matter; read it away until the peer closes. */
	n = read(s->ping_fd, buf, sizeof(buf));
	if (n > 0 || (n < 0 && errno == EAGAIN))
		return;
	ping_close(srv);
}

/* A viewer or terminal on the desktop, or a control channel (in this mode
 * every control channel is about the one sandbox). */
static int watched(const struct srv *srv)
{
	const struct sandbox *sb = srv->single.id[0] ? sbx_find((struct srv *)srv, srv->single.id) : NULL;

	return sb && (sb->ws_conns || srv->metrics.control_conns > 0);
}

static void on_tick(lws_sorted_usec_list_t *sul)
{
	struct srv *srv = lws_container_of(sul, struct srv, single.tick);
	struct single *s = &srv->single;

	ev_timer(srv, &s->tick, on_tick, srv->cfg.activity_interval_s * 1000);
	ping_close(srv);   /* one still open after a whole interval is stuck */
	if (!watched(srv))
		return;
	s->ping_fd = socket(s->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->ping_fd < 0)
		return;
	if (connect(s->ping_fd, (struct sockaddr *)&s->addr, s->addrlen) < 0 && errno != EINPROGRESS) {
		close(s->ping_fd);
		s->ping_fd = -1;
		return;
	}
	s->ping_sent = 0;
	if (ev_add(srv, s->ping_fd, EPOLLOUT, on_ping, srv) < 0) {
		close(s->ping_fd);
		s->ping_fd = -1;
	}
}

/* http://HOST[:PORT][/PATH] → addr and the request text. */
static int activity_setup(struct srv *srv, char *err, size_t cap)
{
	struct single *s = &srv->single;
	const char *url = srv->cfg.activity_url, *hp, *path;
	char host[256], port[8] = "80";
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	size_t hl;
	int r;

	if (strncmp(url, "http://", 7)) {
		snprintf(err, cap, "--activity-url: only http:// is supported (the router's in-cluster port)");
		return -1;
	}
	hp = url + 7;
	path = hp + strcspn(hp, "/");
	hl = (size_t)(path - hp);
	if (hl >= sizeof(host)) {
		snprintf(err, cap, "--activity-url: host too long");
		return -1;
	}
	memcpy(host, hp, hl);
	host[hl] = '\0';
	if (host[0] != '[' && strchr(host, ':')) {
		char *colon = strchr(host, ':');

		snprintf(port, sizeof(port), "%.7s", colon + 1);
		*colon = '\0';
	}
	r = getaddrinfo(host, port, &hints, &ai);
	if (r || !ai) {
		snprintf(err, cap, "--activity-url: cannot resolve %s: %s", host, gai_strerror(r));
		return -1;
	}
	memcpy(&s->addr, ai->ai_addr, ai->ai_addrlen);
	s->addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	/* The routing headers of agent-sandbox's router; the port is ours. */
	snprintf(s->request, sizeof(s->request),
		 "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: deskboxd-activity\r\n"
		 "X-Sandbox-ID: %s\r\nX-Sandbox-Namespace: %s\r\nX-Sandbox-Port: %d\r\n"
		 "Connection: close\r\n\r\n",
		 path[0] ? path : "/", hp[0] ? host : "", srv->cfg.activity_id,
		 srv->cfg.activity_namespace[0] ? srv->cfg.activity_namespace : "default",
		 srv->cfg.listen_port);
	ev_timer(srv, &s->tick, on_tick, srv->cfg.activity_interval_s * 1000);
	return 0;
}

int single_start(struct srv *srv, char *err, size_t cap)
{
	struct single *s = &srv->single;
	struct req_create spec;
	enum req_result res;
	struct op_auth auth = { .scope = OPS_FULL };

	s->ping_fd = -1;
	if (!srv->cfg.single[0]) {
		if (srv->cfg.activity_url[0]) {
			snprintf(err, cap, "--activity-url needs --single");
			return -1;
		}
		return 0;
	}
	if (srv->cfg.activity_url[0] && !srv->cfg.activity_id[0]) {
		snprintf(err, cap, "--activity-url needs --activity-id (the sandbox's name for the router)");
		return -1;
	}
	res = req_parse_create(srv->cfg.single, strlen(srv->cfg.single), &srv->cfg.limits, 0, &spec,
			       err, cap);
	if (res != REQ_OK)
		return -1;
	if (spec.desktop < 0)
		spec.desktop = srv->desktop_fd >= 0;
	if (!spec.session)
		spec.session = srv->cfg.desktop_session;
	/* It lives as long as the server (the pod), whatever the body said. */
	spec.timeout_s = 0;
	if (srv->cfg.activity_url[0] && activity_setup(srv, err, cap) < 0) {
		req_create_free(&spec);
		return -1;
	}
	s->call = calloc(1, sizeof(*s->call));
	if (!s->call) {
		req_create_free(&spec);
		snprintf(err, cap, "out of memory");
		return -1;
	}
	s->on = 1;
	op_call_init(s->call, srv, op_find("sandbox.create"), &auth, NULL, NULL);
	s->call->on_done = on_created;
	sbx_create(srv, &spec, s->call);
	return 0;
}

int single_ready(const struct srv *srv, char *why, size_t cap)
{
	if (!srv->single.on || srv->single.running)
		return 1;
	snprintf(why, cap, "the sandbox is starting");
	return 0;
}

int single_refusing(const struct srv *srv)
{
	return srv->single.on;
}

static void on_gone(lws_sorted_usec_list_t *sul)
{
	struct srv *srv = lws_container_of(sul, struct srv, single.gone);

	srv->stopping = 1;
	lws_cancel_service(srv->ctx);
}

void single_sandbox_gone(struct srv *srv, const char *id)
{
	struct single *s = &srv->single;

	if (!s->on || !s->running || strcmp(s->id, id))
		return;
	s->running = 0;
	if (srv->stopping)
		return;
	log_event(id, "single-sandbox mode: the sandbox ended; stopping");
	/* After the answer to the call that ended it (a DELETE) has gone out. */
	ev_timer(srv, &s->gone, on_gone, 200);
}

void single_stop(struct srv *srv)
{
	ev_timer_cancel(&srv->single.tick);
	ev_timer_cancel(&srv->single.gone);
	ping_close(srv);
	/* A create the shutdown cut short was never answered. */
	if (srv->single.call) {
		op_call_release(srv->single.call);
		free(srv->single.call);
		srv->single.call = NULL;
	}
}
