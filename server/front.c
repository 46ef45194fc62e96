/*
 * front.c - the listening socket (see front.h).
 *
 * Why deskboxd accepts connections itself instead of letting lws listen:
 * libwebsockets 4.1 decodes the URL while it parses, and a %00 in it (or a
 * % not followed by two hex digits) ends the connection inside that parser
 * (without any status for %00; with an HTML 403 of its own otherwise),
 * before any callback of ours runs, and it has no option to change that.
 * So each new connection's first request line is looked at here first,
 * with MSG_PEEK: a bad one gets our JSON 400, every other connection goes
 * to lws (lws_adopt_socket_vhost) with its bytes still unread, exactly as if
 * lws had accepted it. Peeking, not reading, because lws 4.1's way of taking
 * bytes already read (lws_adopt_socket_vhost_readbuf) parses them as the
 * headers and then again as the body.
 * A later request on a kept-alive connection is lws's alone: this covers
 * the request that opens a connection, which is every request of clients
 * that do not reuse connections (curl, most one-off scripts).
 *
 * Owns the listening fd and the connections not yet handed on, each with
 * a deadline (a client that sends nothing is closed, as lws's own idle
 * timeout would). Those are watched edge-triggered: the peeked bytes stay
 * in the socket, so level-triggered would wake the loop until the line is
 * whole. Loop thread only; nothing here blocks: every socket is
 * non-blocking and the 400 is small enough for an empty socket buffer.
 */
#include "front.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

#include "ev.h"
#include "httpparts.h"
#include "log.h"

#define FRONT_LINE_MAX 8192      /* what lws takes as header data at most */
#define FRONT_MAX_PENDING 1024   /* past this, connections go to lws unread */
#define FRONT_ACCEPT_BATCH 64    /* accepts per wake-up, so others get a turn */
#define FRONT_IDLE_MS 30000      /* lws's own timeout_secs */
#define FRONT_LINGER_MS 2000     /* after a 400, reading what the client still sends */

struct front_conn {
	struct front *f;
	int fd;
	int refused;                 /* the 400 is sent; draining until EOF */
	lws_sorted_usec_list_t timer;
	struct front_conn *next;
};

struct front {
	struct srv *srv;
	int lfd;
	int npending;
	struct front_conn *conns;
};

static void conn_close(struct front_conn *c)
{
	struct front *f = c->f;

	for (struct front_conn **pp = &f->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	f->npending--;
	ev_timer_cancel(&c->timer);
	if (c->fd >= 0) {
		ev_del(f->srv, c->fd);
		close(c->fd);
	}
	free(c);
}

static void on_timeout(lws_sorted_usec_list_t *sul)
{
	conn_close(lws_container_of(sul, struct front_conn, timer));
}

/* Give the connection, its bytes still unread, to lws. */
static void conn_hand_on(struct front_conn *c)
{
	struct srv *srv = c->f->srv;
	int fd = c->fd;

	ev_del(srv, fd);
	c->fd = -1;
	/* lws closes the fd itself if it cannot take it. */
	if (!lws_adopt_socket_vhost(srv->vh, fd))
		log_event(NULL, "a connection could not be handed to libwebsockets");
	conn_close(c);
}

/* After the 400: read and drop what the client sends until it closes
 * (edge-triggered, so until the socket is empty each time). */
static void conn_drain(struct front_conn *c)
{
	char sink[4096];

	for (;;) {
		ssize_t n = read(c->fd, sink, sizeof(sink));

		if (n > 0 || (n < 0 && errno == EINTR))
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		conn_close(c);
		return;
	}
}

/* Answer 400 with our error body; then read until the client closes (or a
 * short deadline), so the close does not reset the answer away. */
static void conn_refuse(struct front_conn *c, const char *why)
{
	json_t *j = json_pack("{s:{s:s,s:s}}", "error", "code", "bad_request", "message", why);
	char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	char head[256];
	int n;

	json_decref(j);
	if (!body) {
		conn_close(c);
		return;
	}
	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\n"
		     "content-length: %zu\r\nconnection: close\r\n\r\n", strlen(body) + 1);
	if (send(c->fd, head, (size_t)n, MSG_NOSIGNAL) != n ||
	    send(c->fd, body, strlen(body), MSG_NOSIGNAL) < 0 ||
	    send(c->fd, "\n", 1, MSG_NOSIGNAL) < 0) {
		free(body);
		conn_close(c);
		return;
	}
	free(body);
	shutdown(c->fd, SHUT_WR);
	c->refused = 1;
	ev_timer(c->f->srv, &c->timer, on_timeout, FRONT_LINGER_MS);
	conn_drain(c);
}

static void on_conn(void *ctx, uint32_t events)
{
	struct front_conn *c = ctx;
	char buf[FRONT_LINE_MAX], why[200];
	ssize_t n;
	int r;

	if (c->refused) {
		conn_drain(c);
		return;
	}
	do
		n = recv(c->fd, buf, sizeof(buf), MSG_PEEK);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	r = httpparts_target(buf, (size_t)n, why, sizeof(why));
	if (r < 0) {
		conn_refuse(c, why);
		return;
	}
	/* A whole line, more than lws would take as one, or a client that
	 * sends no more: lws judges it. */
	if (r > 0 || (size_t)n == sizeof(buf) || (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
		conn_hand_on(c);
}

static void accept_one(struct front *f, int fd)
{
	struct front_conn *c;

	if (f->npending >= FRONT_MAX_PENDING || !(c = calloc(1, sizeof(*c)))) {
		/* Nothing is lost: lws reads it as it always did. */
		if (!lws_adopt_socket_vhost(f->srv->vh, fd))
			log_event(NULL, "a connection could not be handed to libwebsockets");
		return;
	}
	c->f = f;
	c->fd = fd;
	if (ev_add(f->srv, fd, EPOLLIN | EPOLLRDHUP | EPOLLET, on_conn, c) < 0) {
		free(c);
		close(fd);
		return;
	}
	c->next = f->conns;
	f->conns = c;
	f->npending++;
	ev_timer(f->srv, &c->timer, on_timeout, FRONT_IDLE_MS);
}

static void on_listen(void *ctx, uint32_t events)
{
	struct front *f = ctx;

	(void)events;
	for (int i = 0; i < FRONT_ACCEPT_BATCH; i++) {
		int one = 1, fd = accept4(f->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			/* EMFILE and the like: the connection waits in the
			 * backlog; the next wake-up tries again. */
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_event(NULL, "accept: %s", strerror(errno));
			return;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		accept_one(f, fd);
	}
}

static int listen_on(const char *host, int port, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	char ps[16];
	int fd = -1, one = 1, rc;

	snprintf(ps, sizeof(ps), "%d", port);
	/* IPv6 only when the host is written as one (lws's rule before). */
	hints.ai_family = strchr(host, ':') ? AF_UNSPEC : AF_INET;
	rc = getaddrinfo(host, ps, &hints, &ai);
	if (rc) {
		snprintf(err, errlen, "cannot listen on %s:%d: %s", host, port, gai_strerror(rc));
		return -1;
	}
	for (struct addrinfo *a = ai; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0)
			break;
		snprintf(err, errlen, "cannot listen on %s:%d: %s", host, port, strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

int front_start(struct srv *srv, char *err, size_t errlen)
{
	struct front *f = calloc(1, sizeof(*f));

	if (!f) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	f->srv = srv;
	snprintf(err, errlen, "cannot listen on %s:%d", srv->cfg.listen_host, srv->cfg.listen_port);
	f->lfd = listen_on(srv->cfg.listen_host, srv->cfg.listen_port, err, errlen);
	if (f->lfd < 0)
		goto fail;
	/* --listen HOST:0: the kernel's choice, for the URLs we hand out. */
	if (!srv->cfg.listen_port) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);

		if (getsockname(f->lfd, (struct sockaddr *)&ss, &sl) == 0)
			srv->cfg.listen_port = ntohs(ss.ss_family == AF_INET6
				? ((struct sockaddr_in6 *)&ss)->sin6_port
				: ((struct sockaddr_in *)&ss)->sin_port);
	}
	if (ev_add(srv, f->lfd, EPOLLIN, on_listen, f) < 0) {
		snprintf(err, errlen, "cannot watch the listening socket: %s", strerror(errno));
		goto fail;
	}
	srv->front = f;
	return 0;
fail:
	if (f->lfd >= 0)
		close(f->lfd);
	free(f);
	return -1;
}

void front_stop(struct srv *srv)
{
	struct front *f = srv->front;

	if (!f)
		return;
	while (f->conns)
		conn_close(f->conns);
	ev_del(srv, f->lfd);
	close(f->lfd);
	free(f);
	srv->front = NULL;
}
