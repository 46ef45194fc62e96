/*
 * egress.c - deskbox-egress, the process that carries sandboxes' network
 * connections out, by policy.
 *
 * Why a process of its own: everything it reads (CONNECT lines, SOCKS
 * requests, DNS answers) comes from sandboxes or the network, so it runs
 * away from the root daemon: started by deskboxd, dropped to an
 * unprivileged uid with no capabilities, no_new_privs, the sandbox seccomp
 * filter plus no exec. A bug here gives a sandbox at most this process's
 * reach (the host network it already mediates), never deskboxd's.
 *
 * Each sandbox has two listening sockets bound to 127.0.0.1 inside its own
 * network namespace (an HTTP proxy on 3128, SOCKS5 on 1080), made during
 * jail setup; deskboxd passes them here with the sandbox's policy. The
 * sandbox holds no fd of them: only this process accepts. Per connection:
 * parse the request with tight bounds, decide the name, resolve it with
 * c-ares (or the --hosts map), decide the address actually connected to,
 * connect, then move bytes with splice(2) through a pipe each way.
 *
 * One thread, one epoll loop; nothing blocks. A connection closed during a
 * round is freed after it (its epoll refs may still be in the batch).
 * Records (allowed, denied, closed) go back to deskboxd over the channel
 * (fd 3, SOCK_SEQPACKET, proto.h framing); deskboxd keeps the log.
 *
 * State: one `struct eg` owned by main, as main.c owns deskboxd's srv.
 */
#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <ifaddrs.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../server/log.h"
#include "netpolicy.h"
#include "proto.h"
#include "proxyparse.h"
#include "../server/seccomp.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

#define CHAN_FD 3
#define MAX_TOTAL_CONNS 8192        /* all sandboxes together */
#define SETUP_TIMEOUT_US 10000000   /* request head, resolution, connect */
#define LINGER_US 2000000           /* after an error answer: drain, then close */
#define MAX_ADDRS 16
#define PIPE_BYTES (256 * 1024)
#define ROUND_BYTES (1024 * 1024)   /* per direction per wakeup: fairness */
#define LOG_BURST 20                /* denial log lines per sandbox per second */

enum tag { T_CHAN, T_LISTEN_HTTP, T_LISTEN_SOCKS, T_CLIENT, T_UPSTREAM, T_ARES };

struct eref {
	enum tag tag;
	int fd;
	void *obj;
};

enum cstate { C_HEAD, C_GREET, C_SOCKS, C_RESOLVE, C_CONNECT, C_RELAY, C_LINGER };

struct esbx;

struct eg;

/* An ares query outlives a connection closed meanwhile: the query owns this
 * and the connection only points at it. */
struct lookup {
	struct eg *g;
	struct econn *c;        /* NULL once the connection is gone */
};

struct econn {
	struct esbx *sb;
	struct econn *prev, *next, *dead_next;
	enum cstate state;
	int socks;
	const char *proto;      /* "http", "connect", "socks5" */
	int cfd, ufd;
	struct eref rc, ru;
	uint32_t cmask, umask;
	char *buf;              /* the request as read so far */
	size_t blen;
	char host[PROXYPARSE_MAX_HOST + 1];
	char name[NETPOLICY_MAX_NAME + 1];   /* normalized; "" for a literal */
	int port;
	struct netaddr addrs[MAX_ADDRS], addr;
	size_t naddrs, next_addr;
	int reach, connected;
	struct netpolicy_verdict v, denied;  /* allowing verdict; first denial */
	struct lookup *lk;
	char *pend[2];          /* bytes owed to each direction's destination */
	size_t pendlen[2], pendoff[2];
	int pipe[2][2];
	size_t inpipe[2];
	int eof[2], shut[2], full[2];
	uint64_t bytes[2];      /* 0: sandbox → outside, 1: outside → sandbox */
	int64_t start_us, deadline_us;
};

struct esbx {
	uint32_t key;
	char id[64];
	struct netpolicy pol;
	int lfd[2];
	struct eref lref[2];
	struct econn *conns;
	long nconns;
	long refused;           /* over the limit since the last report */
	int64_t tokens[2];      /* bandwidth cap: bytes each direction may move */
	/* Log lines are bounded per sandbox (a sandbox can make denials as
	 * fast as it can connect): LOG_BURST a second, then a count. */
	int64_t log_window_us;
	long logged, unlogged, lost;
	struct esbx *next;
};

struct aresfd {
	struct eref ref;
	struct aresfd *next;
};

struct eg {
	int ep, chan;
	ares_channel ares;
	struct aresfd *afds;
	struct netpolicy_hosts hosts;
	struct netaddr own[64];
	size_t nown;
	struct esbx *sbxs;
	struct econn *dead;
	struct esbx *dead_sbx;  /* removed this round; freed after it */
	long nconns, max_total;
	int64_t last_tick_us, last_refill_us, last_own_us;
	struct eref chanref;
};

static void conn_close(struct eg *g, struct econn *c);
static void conn_pump(struct eg *g, struct econn *c);
static void try_connect(struct eg *g, struct econn *c);

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void iso_now(char *out, size_t cap)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

static int watch(struct eg *g, struct eref *r, uint32_t *cur, uint32_t want)
{
	struct epoll_event e = { .events = want, .data.ptr = r };

	if (cur && *cur == want)
		return 0;
	if (cur && !want) {
		/* Removed rather than kept with no events: a hung-up socket
		 * would still report EPOLLHUP, level-triggered, forever. */
		epoll_ctl(g->ep, EPOLL_CTL_DEL, r->fd, NULL);
		*cur = 0;
		return 0;
	}
	if (epoll_ctl(g->ep, cur && *cur ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, r->fd, &e) < 0 &&
	    !(errno == EEXIST && epoll_ctl(g->ep, EPOLL_CTL_MOD, r->fd, &e) == 0))
		return -1;
	if (cur)
		*cur = want;
	return 0;
}

/* One record of the connection log, to deskboxd. */
static void report(struct eg *g, struct econn *c, int allowed, const char *rule, const char *why,
		   const char *closed)
{
	char t[40], a[64] = "";
	json_t *j;
	char *s;

	iso_now(t, sizeof(t));
	if (c->connected || (!allowed && c->addr.family))
		netpolicy_addr_format(&c->addr, a, sizeof(a));
	j = json_pack("{s:s,s:s,s:s,s:i,s:s?,s:b,s:s?,s:s?,s:I,s:I,s:I,s:s?}",
		      "time", t, "proto", c->proto, "host", c->host, "port", c->port,
		      "address", a[0] ? a : NULL, "allowed", allowed,
		      "rule", rule && rule[0] ? rule : NULL, "reason", why,
		      "bytes_out", (json_int_t)c->bytes[0], "bytes_in", (json_int_t)c->bytes[1],
		      "duration_ms", (json_int_t)((now_us() - c->start_us) / 1000),
		      "closed", closed);
	s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	/* deskboxd reads as fast as its loop allows; a full channel loses
	 * the record (counted and reported by tick) rather than block. */
	if (!s || proto_send(g->chan, PROTO_EG_LOG, c->sb->key, allowed, s, strlen(s), NULL, 0) < 0)
		c->sb->lost++;
	free(s);
	json_decref(j);
}

/* Answer an error to the client in its protocol, then drain and close. */
static void answer_error(struct eg *g, struct econn *c, int status, int socks_reply,
			 const char *why)
{
	char msg[1024], body[700];
	const char *text = status == 403 ? "Forbidden" : status == 431 ?
		"Request Header Fields Too Large" : status == 502 ? "Bad Gateway" :
		status == 503 ? "Service Unavailable" : status == 504 ? "Gateway Timeout" : "Bad Request";
	int n;

	if (c->socks) {
		uint8_t r[10] = { 5, (uint8_t)socks_reply, 0, 1 };

		n = c->state == C_GREET ? 0 : (int)sizeof(r);
		if (n && write(c->cfd, r, (size_t)n) < 0) {
			/* the client is gone; the close below is all there is */
		}
	} else {
		int bl = snprintf(body, sizeof(body), "deskbox egress: %s%s%s%d %s\n",
				  c->host[0] ? c->host : "", c->host[0] ? ":" : "",
				  c->host[0] ? "" : "request ", c->host[0] ? c->port : status, why);

		if (bl >= (int)sizeof(body))
			bl = (int)sizeof(body) - 1;
		n = snprintf(msg, sizeof(msg), "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n"
			     "Connection: close\r\nX-Deskbox-Egress: %s\r\nContent-Length: %d\r\n\r\n%s",
			     status, text, status == 403 ? "denied" : "error", bl, body);
		if (n > (int)sizeof(msg) - 1)
			n = (int)sizeof(msg) - 1;
		if (write(c->cfd, msg, (size_t)n) < 0) {
			/* as above */
		}
	}
	shutdown(c->cfd, SHUT_WR);
	if (c->ufd >= 0) {
		epoll_ctl(g->ep, EPOLL_CTL_DEL, c->ufd, NULL);
		close(c->ufd);
		c->ufd = -1;
		c->umask = 0;
	}
	c->state = C_LINGER;
	c->deadline_us = now_us() + LINGER_US;
	watch(g, &c->rc, &c->cmask, EPOLLIN);
}

static void deny(struct eg *g, struct econn *c, const struct netpolicy_verdict *v)
{
	char why[512];

	snprintf(why, sizeof(why), "denied: %s%s%s", v->why ? v->why : "by policy",
		 v->rule[0] ? " " : "", v->rule[0] ? v->rule : "");
	if (c->sb->logged++ < LOG_BURST)
		log_event(c->sb->id, "egress: %s %s:%d %s", c->proto, c->host, c->port, why);
	else
		c->sb->unlogged++;
	report(g, c, 0, v->rule, v->why ? v->why : "by policy", NULL);
	answer_error(g, c, 403, PROXYPARSE_SOCKS_NOT_ALLOWED, why);
}

static void fail_conn(struct eg *g, struct econn *c, int status, int socks_reply, const char *why)
{
	report(g, c, 0, NULL, why, NULL);
	answer_error(g, c, status, socks_reply, why);
}

/* Resolution finished: keep the addresses and try them in order. */
static void on_resolved(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct lookup *lk = arg;
	struct econn *c = lk->c;
	struct eg *g = lk->g;

	free(lk);
	if (!c) {
		ares_freeaddrinfo(res);
		return;
	}
	c->lk = NULL;
	for (struct ares_addrinfo_node *n = res ? res->nodes : NULL; n && c->naddrs < MAX_ADDRS;
	     n = n->ai_next) {
		struct netaddr *a = &c->addrs[c->naddrs];

		memset(a, 0, sizeof(*a));
		if (n->ai_family == AF_INET) {
			a->family = AF_INET;
			memcpy(a->a, &((struct sockaddr_in *)(void *)n->ai_addr)->sin_addr, 4);
		} else if (n->ai_family == AF_INET6) {
			a->family = AF_INET6;
			memcpy(a->a, &((struct sockaddr_in6 *)(void *)n->ai_addr)->sin6_addr, 16);
		} else {
			continue;
		}
		c->naddrs++;
	}
	ares_freeaddrinfo(res);
	if (status != ARES_SUCCESS || c->naddrs == 0) {
		char why[400];

		snprintf(why, sizeof(why), "cannot resolve %s: %s", c->name,
			 status == ARES_SUCCESS ? "no addresses" : ares_strerror(status));
		fail_conn(g, c, 502, PROXYPARSE_SOCKS_HOST_UNREACHABLE, why);
		return;
	}
	try_connect(g, c);
}

static void start_relay(struct eg *g, struct econn *c);

/* Connect to the next address the policy allows; deny if none is. */
static void try_connect(struct eg *g, struct econn *c)
{
	int last_err = 0;

	c->state = C_CONNECT;
	while (c->next_addr < c->naddrs) {
		struct netpolicy_verdict v;
		struct sockaddr_storage ss;
		socklen_t sl;

		c->addr = c->addrs[c->next_addr++];
		netpolicy_check_addr(&c->sb->pol, c->name[0] ? c->name : NULL, c->port, &c->addr,
				     c->reach, g->own, g->nown, &v);
		if (!v.allow) {
			if (!c->denied.why)
				c->denied = v;
			continue;
		}
		memset(&ss, 0, sizeof(ss));
		if (c->addr.family == AF_INET) {
			struct sockaddr_in *in = (struct sockaddr_in *)&ss;

			in->sin_family = AF_INET;
			in->sin_port = htons((uint16_t)c->port);
			memcpy(&in->sin_addr, c->addr.a, 4);
			sl = sizeof(*in);
		} else {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

			in6->sin6_family = AF_INET6;
			in6->sin6_port = htons((uint16_t)c->port);
			memcpy(&in6->sin6_addr, c->addr.a, 16);
			sl = sizeof(*in6);
		}
		c->ufd = socket(c->addr.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (c->ufd < 0) {
			last_err = errno;
			break;
		}
		c->ru = (struct eref){ T_UPSTREAM, c->ufd, c };
		c->umask = 0;
		c->v = v;
		if (connect(c->ufd, (struct sockaddr *)&ss, sl) == 0) {
			start_relay(g, c);
			return;
		}
		if (errno == EINPROGRESS) {
			watch(g, &c->ru, &c->umask, EPOLLOUT);
			return;
		}
		last_err = errno;
		close(c->ufd);
		c->ufd = -1;
	}
	if (c->denied.why && !last_err) {
		deny(g, c, &c->denied);
	} else {
		char why[300];

		snprintf(why, sizeof(why), "cannot connect: %s", strerror(last_err ? last_err : ECONNREFUSED));
		fail_conn(g, c, 502, PROXYPARSE_SOCKS_REFUSED, why);
	}
}

static void on_connected(struct eg *g, struct econn *c)
{
	int err = 0;
	socklen_t el = sizeof(err);

	if (getsockopt(c->ufd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
		err = errno;
	if (err == 0) {
		start_relay(g, c);
		return;
	}
	epoll_ctl(g->ep, EPOLL_CTL_DEL, c->ufd, NULL);
	close(c->ufd);
	c->ufd = -1;
	c->umask = 0;
	if (c->next_addr < c->naddrs) {
		try_connect(g, c);
	} else {
		char why[300];

		snprintf(why, sizeof(why), "cannot connect: %s", strerror(err));
		fail_conn(g, c, 502, PROXYPARSE_SOCKS_REFUSED, why);
	}
}

/* The request is parsed: host and port are set. Decide the name, then find
 * its addresses without blocking. */
static void decide(struct eg *g, struct econn *c)
{
	struct netpolicy_verdict v;
	struct netaddr lit;

	c->deadline_us = now_us() + SETUP_TIMEOUT_US;
	if (netpolicy_addr_parse(c->host, &lit) == 0) {
		c->addrs[0] = lit;
		c->naddrs = 1;
		try_connect(g, c);
		return;
	}
	if (netpolicy_name_norm(c->host, strlen(c->host), c->name)) {
		fail_conn(g, c, 400, PROXYPARSE_SOCKS_HOST_UNREACHABLE, "not a valid host name");
		return;
	}
	netpolicy_check_name(&c->sb->pol, c->name, c->port, &v);
	if (!v.allow) {
		deny(g, c, &v);
		return;
	}
	c->naddrs = netpolicy_hosts_lookup(&g->hosts, c->name, c->addrs, MAX_ADDRS);
	if (c->naddrs) {
		c->reach = 1;
		try_connect(g, c);
		return;
	}
	{
		struct ares_addrinfo_hints hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
		struct lookup *lk = calloc(1, sizeof(*lk));

		if (!lk) {
			fail_conn(g, c, 502, PROXYPARSE_SOCKS_FAIL, "out of memory");
			return;
		}
		lk->g = g;
		lk->c = c;
		c->lk = lk;
		c->state = C_RESOLVE;
		/* The callback may run (and close c) before this returns. */
		ares_getaddrinfo(g->ares, c->name, NULL, &hints, on_resolved, lk);
	}
}

static int owe(struct econn *c, int d, const void *p, size_t n)
{
	char *nb;

	if (!n)
		return 0;
	nb = realloc(c->pend[d], c->pendlen[d] + n);
	if (!nb)
		return -1;
	memcpy(nb + c->pendlen[d], p, n);
	c->pend[d] = nb;
	c->pendlen[d] += n;
	return 0;
}

static void start_relay(struct eg *g, struct econn *c)
{
	static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
	char head[PROXYPARSE_MAX_HEAD + 128];
	size_t hl = 0, used = 0;
	int one = 1;

	c->connected = 1;
	c->state = C_RELAY;
	proto_send(g->chan, PROTO_EG_OPENED, c->sb->key, 0, NULL, 0, NULL, 0);
	c->deadline_us = 0;
	setsockopt(c->ufd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (!strcmp(c->proto, "connect")) {
		struct proxyparse_http h;

		proxyparse_http(c->buf, c->blen, &h, head, sizeof(head), &hl);
		used = h.head_len;
		if (owe(c, 1, ok, sizeof(ok) - 1))
			goto oom;
	} else if (!strcmp(c->proto, "http")) {
		struct proxyparse_http h;

		proxyparse_http(c->buf, c->blen, &h, head, sizeof(head), &hl);
		used = h.head_len;
		if (owe(c, 0, head, hl))
			goto oom;
	} else {
		uint8_t r[10] = { 5, 0, 0, 1 };

		used = 0;   /* the request was taken off buf as it was parsed */
		if (owe(c, 1, r, sizeof(r)))
			goto oom;
	}
	if (c->blen > used && owe(c, 0, c->buf + used, c->blen - used))
		goto oom;
	free(c->buf);
	c->buf = NULL;
	c->blen = 0;
	for (int d = 0; d < 2; d++) {
		if (pipe2(c->pipe[d], O_NONBLOCK | O_CLOEXEC) < 0) {
			c->pipe[d][0] = c->pipe[d][1] = -1;
			fail_conn(g, c, 502, PROXYPARSE_SOCKS_FAIL, "out of pipes");
			return;
		}
		fcntl(c->pipe[d][1], F_SETPIPE_SZ, PIPE_BYTES);
	}
	conn_pump(g, c);
	return;
oom:
	fail_conn(g, c, 502, PROXYPARSE_SOCKS_FAIL, "out of memory");
}

/* Move what can move in direction d (0: client → upstream). Returns -1 if
 * the connection broke. */
static int pump_dir(struct esbx *sb, struct econn *c, int d)
{
	int src = d ? c->ufd : c->cfd, dst = d ? c->cfd : c->ufd;
	size_t moved = 0;

	while (c->pendoff[d] < c->pendlen[d]) {
		ssize_t n = write(dst, c->pend[d] + c->pendoff[d], c->pendlen[d] - c->pendoff[d]);

		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		c->pendoff[d] += (size_t)n;
		/* The client's own bytes count; our "200 Connection
		 * established" or SOCKS reply does not. */
		if (d == 0)
			c->bytes[0] += (uint64_t)n;
	}
	if (c->pend[d]) {
		free(c->pend[d]);
		c->pend[d] = NULL;
		c->pendlen[d] = c->pendoff[d] = 0;
	}
	while (moved < ROUND_BYTES) {
		int progress = 0;

		if (!c->eof[d] && c->inpipe[d] < PIPE_BYTES &&
		    (!sb->pol.bandwidth || sb->tokens[d] > 0)) {
			size_t want = PIPE_BYTES - c->inpipe[d];
			ssize_t n;

			if (sb->pol.bandwidth && (int64_t)want > sb->tokens[d])
				want = (size_t)sb->tokens[d];
			n = splice(src, NULL, c->pipe[d][1], NULL, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
			if (n > 0) {
				c->inpipe[d] += (size_t)n;
				if (sb->pol.bandwidth)
					sb->tokens[d] -= n;
				progress = 1;
			} else if (n == 0) {
				c->eof[d] = 1;
			} else if (errno == EAGAIN) {
				/* Source empty, or the pipe's slots full of small
				 * packets: only a drain tells which. */
				c->full[d] = c->inpipe[d] > 0;
			} else {
				return -1;
			}
		}
		if (c->inpipe[d]) {
			ssize_t m = splice(c->pipe[d][0], NULL, dst, NULL, c->inpipe[d],
					   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);

			if (m > 0) {
				c->inpipe[d] -= (size_t)m;
				c->bytes[d] += (uint64_t)m;
				moved += (size_t)m;
				c->full[d] = 0;
				progress = 1;
			} else if (m < 0 && errno != EAGAIN) {
				return -1;
			}
		}
		if (!progress)
			break;
	}
	if (c->eof[d] && !c->inpipe[d] && !c->shut[d]) {
		shutdown(dst, SHUT_WR);
		c->shut[d] = 1;
	}
	return 0;
}

static void conn_pump(struct eg *g, struct econn *c)
{
	struct esbx *sb = c->sb;
	uint32_t cm = 0, um = 0;

	if (pump_dir(sb, c, 0) < 0 || pump_dir(sb, c, 1) < 0) {
		report(g, c, 1, c->v.rule, NULL, "reset");
		conn_close(g, c);
		return;
	}
	if (c->shut[0] && c->shut[1]) {
		report(g, c, 1, c->v.rule, NULL, "done");
		conn_close(g, c);
		return;
	}
	/* Interest: read where the pipe has room (and the cap allows), write
	 * where bytes wait. Level-triggered, so never ask for what we cannot
	 * take (a full pipe would spin). */
	for (int d = 0; d < 2; d++) {
		int can_read = !c->eof[d] && c->inpipe[d] < PIPE_BYTES && !c->full[d] &&
			       (!sb->pol.bandwidth || sb->tokens[d] > 0);
		int must_write = c->inpipe[d] > 0 || c->pendoff[d] < c->pendlen[d];

		if (can_read)
			*(d ? &um : &cm) |= EPOLLIN;
		if (must_write)
			*(d ? &cm : &um) |= EPOLLOUT;
	}
	if (watch(g, &c->rc, &c->cmask, cm) < 0 || watch(g, &c->ru, &c->umask, um) < 0) {
		report(g, c, 1, c->v.rule, NULL, "error");
		conn_close(g, c);
	}
}

static void conn_close(struct eg *g, struct econn *c)
{
	struct esbx *sb = c->sb;

	if (c->lk)
		c->lk->c = NULL;
	if (c->cfd >= 0) {
		epoll_ctl(g->ep, EPOLL_CTL_DEL, c->cfd, NULL);
		close(c->cfd);
	}
	if (c->ufd >= 0) {
		epoll_ctl(g->ep, EPOLL_CTL_DEL, c->ufd, NULL);
		close(c->ufd);
	}
	for (int d = 0; d < 2; d++) {
		for (int k = 0; k < 2; k++)
			if (c->pipe[d][k] >= 0)
				close(c->pipe[d][k]);
		free(c->pend[d]);
	}
	free(c->buf);
	if (c->prev)
		c->prev->next = c->next;
	else
		sb->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	sb->nconns--;
	g->nconns--;
	/* Freed after this round: events for its fds may still be queued. */
	c->cfd = c->ufd = -1;
	c->state = C_LINGER;
	c->sb = NULL;
	c->dead_next = g->dead;
	g->dead = c;
}

static void on_client_read(struct eg *g, struct econn *c)
{
	ssize_t n;

	if (c->state == C_LINGER) {
		char sink[16384];

		n = read(c->cfd, sink, sizeof(sink));
		if (n == 0 || (n < 0 && errno != EAGAIN))
			conn_close(g, c);
		return;
	}
	if (c->state != C_HEAD && c->state != C_GREET && c->state != C_SOCKS) {
		/* Resolving or connecting: the client's early bytes wait in
		 * the kernel; stop polling until we relay. */
		watch(g, &c->rc, &c->cmask, 0);
		return;
	}
	n = read(c->cfd, c->buf + c->blen, PROXYPARSE_MAX_HEAD - c->blen);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		conn_close(g, c);
		return;
	}
	if (c->blen == 0 && (c->state == C_HEAD || c->state == C_GREET)) {
		/* Either port speaks either protocol, told apart by the first
		 * byte (SOCKS5 starts with 5, HTTP with a letter): clients
		 * disagree on what ALL_PROXY=socks5h:// means (Chromium does
		 * not know "socks5h"), and each lands somewhere that works. */
		c->socks = c->buf[0] == 5;
		c->state = c->socks ? C_GREET : C_HEAD;
		c->proto = c->socks ? "socks5" : "http";
	}
	c->blen += (size_t)n;
	if (!c->socks) {
		struct proxyparse_http h;
		char out[PROXYPARSE_MAX_HEAD + 128];
		size_t ol;
		enum proxyparse_result r = proxyparse_http(c->buf, c->blen, &h, out, sizeof(out), &ol);

		if (r == PROXYPARSE_MORE)
			return;
		if (r == PROXYPARSE_ERROR) {
			fail_conn(g, c, h.status, 0, h.why);
			return;
		}
		snprintf(c->host, sizeof(c->host), "%s", h.host);
		c->port = h.port;
		c->proto = h.connect ? "connect" : "http";
		watch(g, &c->rc, &c->cmask, 0);
		decide(g, c);
		return;
	}
	if (c->state == C_GREET) {
		size_t used;
		int noauth;
		enum proxyparse_result r = proxyparse_socks_greeting((uint8_t *)c->buf, c->blen, &used, &noauth);

		if (r == PROXYPARSE_MORE)
			return;
		if (r == PROXYPARSE_ERROR || !noauth) {
			static const uint8_t no[2] = { 5, 0xff };

			if (r == PROXYPARSE_OK && write(c->cfd, no, 2) < 0) {
				/* closing anyway */
			}
			fail_conn(g, c, 400, PROXYPARSE_SOCKS_FAIL, r == PROXYPARSE_OK ?
				  "SOCKS5 without authentication only" : "not a SOCKS5 greeting");
			return;
		}
		if (write(c->cfd, "\x05\x00", 2) != 2) {
			conn_close(g, c);
			return;
		}
		memmove(c->buf, c->buf + used, c->blen - used);
		c->blen -= used;
		c->state = C_SOCKS;
	}
	{
		struct proxyparse_socks s;
		enum proxyparse_result r = proxyparse_socks_request((uint8_t *)c->buf, c->blen, &s);

		if (r == PROXYPARSE_MORE)
			return;
		if (r == PROXYPARSE_ERROR) {
			fail_conn(g, c, 400, s.reply, "a malformed SOCKS5 request");
			return;
		}
		snprintf(c->host, sizeof(c->host), "%s", s.host);
		/* A SOCKS name is any bytes: keep the log and its JSON to
		 * printable ASCII (the name check refuses the rest anyway). */
		for (char *p = c->host; *p; p++)
			if (*p < 0x21 || *p > 0x7e)
				*p = '?';
		c->port = s.port;
		memmove(c->buf, c->buf + s.used, c->blen - s.used);
		c->blen -= s.used;
		watch(g, &c->rc, &c->cmask, 0);
		decide(g, c);
	}
}

static void on_accept(struct eg *g, struct esbx *sb, int socks)
{
	for (int i = 0; i < 64; i++) {
		int fd = accept4(sb->lfd[socks], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct econn *c;

		if (fd < 0)
			return;
		if (sb->nconns >= sb->pol.max_conns || g->nconns >= g->max_total) {
			/* Over the limit: a clear answer, no state kept. */
			static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n"
				"Content-Length: 55\r\n\r\ndeskbox egress: too many connections from this sandbox\n";

			if (!socks && write(fd, busy, sizeof(busy) - 1) < 0) {
				/* closing anyway */
			}
			close(fd);
			sb->refused++;
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (c)
			c->buf = malloc(PROXYPARSE_MAX_HEAD);
		if (!c || !c->buf) {
			if (c)
				free(c);
			close(fd);
			sb->refused++;
			continue;
		}
		c->sb = sb;
		c->socks = socks;
		c->proto = socks ? "socks5" : "http";
		c->cfd = fd;
		c->ufd = -1;
		c->pipe[0][0] = c->pipe[0][1] = c->pipe[1][0] = c->pipe[1][1] = -1;
		c->state = socks ? C_GREET : C_HEAD;
		c->start_us = now_us();
		c->deadline_us = c->start_us + SETUP_TIMEOUT_US;
		c->rc = (struct eref){ T_CLIENT, fd, c };
		c->ru = (struct eref){ T_UPSTREAM, -1, c };
		c->next = sb->conns;
		if (sb->conns)
			sb->conns->prev = c;
		sb->conns = c;
		sb->nconns++;
		g->nconns++;
		if (watch(g, &c->rc, &c->cmask, EPOLLIN) < 0)
			conn_close(g, c);
	}
}

/* The policy changed: cut what it no longer allows. */
static void recheck(struct eg *g, struct esbx *sb)
{
	struct econn *next;

	for (struct econn *c = sb->conns; c; c = next) {
		struct netpolicy_verdict v = { 1, "", NULL };

		next = c->next;
		if (c->state != C_CONNECT && c->state != C_RELAY)
			continue;
		if (c->name[0])
			netpolicy_check_name(&sb->pol, c->name, c->port, &v);
		if (v.allow)
			netpolicy_check_addr(&sb->pol, c->name[0] ? c->name : NULL, c->port, &c->addr,
					     c->reach, g->own, g->nown, &v);
		if (v.allow) {
			c->v = v;
			continue;
		}
		log_event(sb->id, "egress: closing %s:%d: the new policy denies it (%s%s%s)", c->host,
			  c->port, v.why, v.rule[0] ? " " : "", v.rule);
		report(g, c, 0, v.rule, v.why, "policy changed");
		conn_close(g, c);
	}
}

static struct esbx *find_sbx(struct eg *g, uint32_t key)
{
	for (struct esbx *sb = g->sbxs; sb; sb = sb->next)
		if (sb->key == key)
			return sb;
	return NULL;
}

static void sbx_remove(struct eg *g, struct esbx *sb)
{
	for (struct esbx **pp = &g->sbxs; *pp; pp = &(*pp)->next)
		if (*pp == sb) {
			*pp = sb->next;
			break;
		}
	while (sb->conns)
		conn_close(g, sb->conns);
	for (int i = 0; i < 2; i++)
		if (sb->lfd[i] >= 0) {
			epoll_ctl(g->ep, EPOLL_CTL_DEL, sb->lfd[i], NULL);
			close(sb->lfd[i]);
		}
	sb->lfd[0] = sb->lfd[1] = -1;
	netpolicy_free(&sb->pol);
	sb->next = g->dead_sbx;
	g->dead_sbx = sb;
}

/* PROTO_EG_ADD: payload {"sandbox": id, "policy": {...}}, two listeners. */
static void msg_add(struct eg *g, const struct proto_hdr *h, const char *p, size_t len,
		    int *fds, int nfds)
{
	json_t *j = json_loadb(p, len, 0, NULL);
	const char *id = json_string_value(json_object_get(j, "sandbox"));
	struct esbx *sb = calloc(1, sizeof(*sb));
	char err[512];

	if (!sb || !id || nfds != 2 || find_sbx(g, h->id) ||
	    netpolicy_parse(json_object_get(j, "policy"), &sb->pol, err, sizeof(err))) {
		log_event(id, "egress: a bad ADD from deskboxd");
		free(sb);
		json_decref(j);
		return;
	}
	sb->key = h->id;
	snprintf(sb->id, sizeof(sb->id), "%s", id);
	json_decref(j);
	for (int i = 0; i < 2; i++) {
		sb->lfd[i] = fds[i];
		fds[i] = -1;
		fcntl(sb->lfd[i], F_SETFL, O_NONBLOCK);
		sb->lref[i] = (struct eref){ i ? T_LISTEN_SOCKS : T_LISTEN_HTTP, sb->lfd[i], sb };
		watch(g, &sb->lref[i], NULL, EPOLLIN);
	}
	sb->tokens[0] = sb->tokens[1] = sb->pol.bandwidth;
	sb->next = g->sbxs;
	g->sbxs = sb;
}

static void msg_policy(struct eg *g, struct esbx *sb, const char *p, size_t len)
{
	json_t *j = json_loadb(p, len, 0, NULL);
	struct netpolicy np;
	char err[512];

	if (netpolicy_parse(j, &np, err, sizeof(err))) {
		log_event(sb->id, "egress: a bad policy from deskboxd: %s", err);
		json_decref(j);
		return;
	}
	json_decref(j);
	netpolicy_free(&sb->pol);
	sb->pol = np;
	if (!np.bandwidth)
		sb->tokens[0] = sb->tokens[1] = 0;
	recheck(g, sb);
	/* A lifted cap or a raised limit: let throttled connections move. */
	for (struct econn *c = sb->conns; c; c = c->next)
		if (c->state == C_RELAY)
			conn_pump(g, c);
}

/* Returns -1 when deskboxd is gone. */
static int on_chan(struct eg *g)
{
	static char buf[PROTO_MAX_MSG];

	for (int i = 0; i < 64; i++) {
		struct proto_hdr h;
		int fds[PROTO_MAX_FDS], nfds = 0;
		ssize_t n = proto_recv(g->chan, &h, buf, sizeof(buf), fds, &nfds);
		struct esbx *sb;

		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0 && errno == EBADMSG)
			continue;
		if (n < 0 || (n == 0 && h.type == 0))
			return -1;
		sb = find_sbx(g, h.id);
		if (h.type == PROTO_EG_ADD)
			msg_add(g, &h, buf, (size_t)n, fds, nfds);
		else if (h.type == PROTO_EG_POLICY && sb)
			msg_policy(g, sb, buf, (size_t)n);
		else if (h.type == PROTO_EG_REMOVE && sb)
			sbx_remove(g, sb);
		for (int k = 0; k < nfds; k++)
			if (fds[k] >= 0)
				close(fds[k]);
	}
	return 0;
}

static void ares_sock(void *data, ares_socket_t fd, int readable, int writable)
{
	struct eg *g = data;
	struct aresfd **pp = &g->afds, *a;

	while (*pp && (*pp)->ref.fd != fd)
		pp = &(*pp)->next;
	a = *pp;
	if (!readable && !writable) {
		if (a) {
			epoll_ctl(g->ep, EPOLL_CTL_DEL, fd, NULL);
			*pp = a->next;
			free(a);
		}
		return;
	}
	if (!a) {
		a = calloc(1, sizeof(*a));
		if (!a)
			return;
		a->ref = (struct eref){ T_ARES, fd, NULL };
		a->next = g->afds;
		g->afds = a;
	}
	watch(g, &a->ref, NULL, (readable ? EPOLLIN : 0) | (writable ? EPOLLOUT : 0));
}

/* The host's own addresses: never reached through a name. */
static void refresh_own(struct eg *g)
{
	struct ifaddrs *ifa, *i;

	if (getifaddrs(&ifa) < 0)
		return;
	g->nown = 0;
	for (i = ifa; i && g->nown < sizeof(g->own) / sizeof(g->own[0]); i = i->ifa_next) {
		struct netaddr *a = &g->own[g->nown];

		if (!i->ifa_addr)
			continue;
		memset(a, 0, sizeof(*a));
		if (i->ifa_addr->sa_family == AF_INET) {
			a->family = AF_INET;
			memcpy(a->a, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, 4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			a->family = AF_INET6;
			memcpy(a->a, &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr, 16);
		} else {
			continue;
		}
		g->nown++;
	}
	freeifaddrs(ifa);
}

/* Timers: setup deadlines, lingering closes, bandwidth refill, limit
 * reports, the host's addresses. */
static void tick(struct eg *g)
{
	int64_t now = now_us();

	if (now - g->last_refill_us >= 20000) {
		double dt = (double)(now - g->last_refill_us) / 1e6;

		g->last_refill_us = now;
		for (struct esbx *sb = g->sbxs; sb; sb = sb->next) {
			int starved = 0;

			if (!sb->pol.bandwidth)
				continue;
			for (int d = 0; d < 2; d++) {
				starved |= sb->tokens[d] <= 0;
				sb->tokens[d] += (int64_t)((double)sb->pol.bandwidth * dt);
				/* A burst of at most 1/10 s of the cap. */
				if (sb->tokens[d] > sb->pol.bandwidth / 10 + 1)
					sb->tokens[d] = sb->pol.bandwidth / 10 + 1;
			}
			if (starved)
				for (struct econn *c = sb->conns, *n; c; c = n) {
					n = c->next;
					if (c->state == C_RELAY)
						conn_pump(g, c);
				}
		}
	}
	if (now - g->last_tick_us < 250000)
		return;
	g->last_tick_us = now;
	for (struct esbx *sb = g->sbxs; sb; sb = sb->next) {
		struct econn *next;

		for (struct econn *c = sb->conns; c; c = next) {
			next = c->next;
			if (!c->deadline_us || c->deadline_us > now)
				continue;
			if (c->state == C_LINGER)
				conn_close(g, c);
			else
				fail_conn(g, c, 504, PROXYPARSE_SOCKS_FAIL, c->state == C_HEAD ||
					  c->state == C_GREET || c->state == C_SOCKS ?
					  "the request did not arrive in time" :
					  "the destination did not answer in time");
		}
		if (now - sb->log_window_us >= 1000000) {
			if (sb->unlogged)
				log_event(sb->id, "egress: %ld more denials in the last second (see the "
					  "connection log)", sb->unlogged);
			if (sb->lost)
				log_event(sb->id, "egress: %ld connection records lost (deskboxd "
					  "did not keep up)", sb->lost);
			sb->log_window_us = now;
			sb->logged = sb->unlogged = sb->lost = 0;
		}
		if (sb->refused) {
			log_event(sb->id, "egress: refused %ld connections over the limit of %ld",
				  sb->refused, sb->pol.max_conns);
			proto_send(g->chan, PROTO_EG_REFUSED, sb->key, (int32_t)(sb->refused > 1 << 30 ?
				   1 << 30 : sb->refused), NULL, 0, NULL, 0);
			sb->refused = 0;
		}
	}
	if (now - g->last_own_us > 30000000) {
		g->last_own_us = now;
		refresh_own(g);
	}
}

static void dispatch(struct eg *g, struct eref *r, uint32_t ev)
{
	struct econn *c = r->obj;

	switch (r->tag) {
	case T_LISTEN_HTTP:
	case T_LISTEN_SOCKS:
		if (((struct esbx *)r->obj)->lfd[0] >= 0)
			on_accept(g, r->obj, r->tag == T_LISTEN_SOCKS);
		break;
	case T_ARES:
		ares_process_fd(g->ares, ev & (EPOLLIN | EPOLLERR | EPOLLHUP) ? r->fd : ARES_SOCKET_BAD,
				ev & EPOLLOUT ? r->fd : ARES_SOCKET_BAD);
		break;
	case T_CLIENT:
	case T_UPSTREAM:
		if (!c->sb)
			break;     /* closed earlier in this round */
		if (c->state == C_RELAY)
			conn_pump(g, c);
		else if (r->tag == T_UPSTREAM && c->state == C_CONNECT)
			on_connected(g, c);
		else if (r->tag == T_CLIENT)
			on_client_read(g, c);
		break;
	default:
		break;
	}
}

static void drop_privileges(struct eg *g)
{
	struct rlimit nofile;
	scmp_filter_ctx ctx;
	struct sock_fprog *prog;

	/* Room for every connection's six fds, while we may still raise it. */
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
		nofile.rlim_cur = nofile.rlim_max = geteuid() == 0 ? 65536 : nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	/* Six fds a connection (two sockets, two pipes): stay under the limit
	 * so accept never fails with EMFILE (a readable listener we cannot
	 * drain would spin the loop). */
	g->max_total = MAX_TOTAL_CONNS;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && (long)(nofile.rlim_cur / 8) < g->max_total)
		g->max_total = (long)(nofile.rlim_cur / 8);
	if (geteuid() == 0) {
		/* nobody: owns no file, and no sandbox runs as it. */
		if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
		    setresuid(65534, 65534, 65534) < 0) {
			log_event(NULL, "egress: cannot drop to nobody: %s", strerror(errno));
			exit(1);
		}
	}
	for (int cap = 0; cap <= 63; cap++)
		prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		log_event(NULL, "egress: no_new_privs: %s", strerror(errno));
		exit(1);
	}
	/* No exec, and no new processes: clone only for threads (glibc's
	 * fork is a clone without CLONE_THREAD). */
	ctx = seccomp_init(SCMP_ACT_ALLOW);
	if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(execve), 0) ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(execveat), 0) ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(fork), 0) ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(vfork), 0) ||
	    (!SANITIZED && seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
					    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0))) ||
	    seccomp_load(ctx)) {
		log_event(NULL, "egress: cannot load the seccomp filter");
		exit(1);
	}
	seccomp_release(ctx);
	if (SANITIZED)
		return;
	/* Not in sanitizer builds: LeakSanitizer stops the process's threads
	 * from a cloned tracer with ptrace, which this refuses. */
	prctl(PR_SET_DUMPABLE, 0);
	prog = seccomp_prog_build();
	if (!prog || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog) < 0) {
		log_event(NULL, "egress: cannot load the sandbox seccomp filter");
		exit(1);
	}
	seccomp_prog_free(prog);
}

static void free_dead(struct eg *g)
{
	while (g->dead) {
		struct econn *c = g->dead;

		g->dead = c->dead_next;
		free(c);
	}
	while (g->dead_sbx) {
		struct esbx *sb = g->dead_sbx;

		g->dead_sbx = sb->next;
		free(sb);
	}
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	size_t n = 0, cap = 0;

	if (!f)
		return NULL;
	for (;;) {
		char *nt;

		if (n + 4096 + 1 > cap) {
			if (cap > (16u << 20)) {
				free(text);
				text = NULL;
				break;
			}
			cap = cap ? cap * 2 : 8192;
			nt = realloc(text, cap);
			if (!nt) {
				free(text);
				text = NULL;
				break;
			}
			text = nt;
		}
		size_t r = fread(text + n, 1, 4096, f);

		n += r;
		if (r < 4096)
			break;
	}
	fclose(f);
	if (text)
		text[n] = '\0';
	return text;
}

int main(int argc, char **argv)
{
	struct eg g;
	struct ares_options ao;
	struct epoll_event evs[256];

	memset(&g, 0, sizeof(g));
	g.chan = CHAN_FD;
	signal(SIGPIPE, SIG_IGN);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--hosts") && i + 1 < argc) {
			char *text = read_file(argv[++i]), err[512];

			if (!text || netpolicy_hosts_parse(text, &g.hosts, err, sizeof(err))) {
				log_event(NULL, "egress: --egress-hosts %s: %s", argv[i],
					  text ? err : strerror(errno));
				free(text);
				return 1;
			}
			free(text);
		} else {
			log_event(NULL, "egress: unknown argument %s", argv[i]);
			return 2;
		}
	}
	fcntl(g.chan, F_SETFL, O_NONBLOCK);
	fcntl(g.chan, F_SETFD, FD_CLOEXEC);
	g.ep = epoll_create1(EPOLL_CLOEXEC);
	memset(&ao, 0, sizeof(ao));
	ao.sock_state_cb = ares_sock;
	ao.sock_state_cb_data = &g;
	ao.timeout = 2000;
	ao.tries = 2;
	/* c-ares reads resolv.conf and hosts now, before the filter. */
	if (g.ep < 0 || ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS ||
	    ares_init_options(&g.ares, &ao, ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS |
			      ARES_OPT_TRIES) != ARES_SUCCESS) {
		log_event(NULL, "egress: cannot set up the resolver");
		return 1;
	}
	refresh_own(&g);
	g.last_own_us = g.last_tick_us = g.last_refill_us = now_us();
	drop_privileges(&g);
	g.chanref = (struct eref){ T_CHAN, g.chan, NULL };
	if (watch(&g, &g.chanref, NULL, EPOLLIN) < 0) {
		log_event(NULL, "egress: epoll: %s", strerror(errno));
		return 1;
	}
	for (;;) {
		struct timeval tv, maxtv = { 0, 250000 }, *t;
		int timeout, n;
		int throttled = 0;

		for (struct esbx *sb = g.sbxs; sb && !throttled; sb = sb->next)
			throttled = sb->pol.bandwidth && sb->nconns;
		t = ares_timeout(g.ares, &maxtv, &tv);
		timeout = (int)(t->tv_sec * 1000 + t->tv_usec / 1000);
		if (throttled && timeout > 20)
			timeout = 20;
		n = epoll_wait(g.ep, evs, 256, timeout);
		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			struct eref *r = evs[i].data.ptr;

			if (r->tag == T_CHAN) {
				if (on_chan(&g) < 0)
					goto out;
				continue;
			}
			dispatch(&g, r, evs[i].events);
		}
		ares_process_fd(g.ares, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
		tick(&g);
		free_dead(&g);
	}
out:
	/* deskboxd is gone (or stopping): nothing to carry out any more. */
	while (g.sbxs)
		sbx_remove(&g, g.sbxs);
	free_dead(&g);
	ares_destroy(g.ares);
	ares_library_cleanup();
	netpolicy_hosts_free(&g.hosts);
	while (g.afds) {
		struct aresfd *a = g.afds;

		g.afds = a->next;
		free(a);
	}
	close(g.ep);
	return 0;
}
