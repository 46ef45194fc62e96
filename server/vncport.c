/*
 * vncport.c - an optional raw VNC TCP port per sandbox, for native viewers
 * (TigerVNC's vncviewer and the like), bound to 127.0.0.1 only.
 *
 * deskboxd speaks the start of RFB itself: version, the VNC password
 * challenge (DES through libvncserver's rfbEncryptBytes, the one VNC uses)
 * with the sandbox's random password. Only a client that passed gets a
 * stream socket to the desktop agent (vnc.attach, security None there, as
 * for the WebSocket viewers); deskboxd plays the client's part of that
 * second handshake and then copies bytes both ways. VNC's DES auth is weak
 * (8 characters): that is why the port stays on loopback.
 *
 * Owns the listening socket and every peer's two fds and buffers. Runs on the
 * loop thread; every socket is non-blocking.
 */
#include "vncport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <rfb/rfbproto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "desktop.h"
#include "ev.h"
#include "log.h"
#include "sandbox.h"

#define VP_BUF (256 * 1024)
#define VP_MAX_PEERS 16

enum stage {
	VP_CLIENT_VERSION, VP_CLIENT_SECTYPE, VP_CLIENT_RESPONSE,
	VP_AGENT_VERSION, VP_AGENT_SECTYPES, VP_AGENT_SECTYPE_LIST, VP_AGENT_RESULT, VP_SPLICE,
};

struct vp_peer {
	struct vnc_port *vp;
	enum stage stage;
	int cfd, afd;              /* client, agent */
	int minor;                 /* RFB 3.minor the client speaks */
	uint8_t challenge[16];
	uint8_t ntypes;            /* length of the agent's security-type list */
	char hs[256];              /* handshake bytes being collected */
	size_t hs_len;
	char *c2a, *a2c;           /* splice buffers */
	size_t c2a_len, a2c_len;
	size_t c2a_off, a2c_off;   /* sent up to here */
	size_t c2a_cap, a2c_cap;   /* VP_BUF; a2c up to a frame more (vp_limit) */
	uint32_t call;
	struct vp_peer *next;
};

struct vnc_port {
	struct sandbox *sb;
	int fd;
	int port;
	char password[9];
	int npeers;
	struct vp_peer *peers;
};

static void peer_free(struct vp_peer *p)
{
	struct vnc_port *vp = p->vp;
	struct srv *srv = vp->sb->srv;

	for (struct vp_peer **pp = &vp->peers; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	vp->npeers--;
	if (p->call)
		desk_call_cancel(vp->sb, p->call);
	if (p->cfd >= 0) {
		ev_del(srv, p->cfd);
		close(p->cfd);
	}
	if (p->afd >= 0) {
		ev_del(srv, p->afd);
		close(p->afd);
	}
	free(p->c2a);
	free(p->a2c);
	free(p);
}

/* Small handshake writes: the socket is fresh, they fit; failure drops. */
static int send_all(int fd, const void *buf, size_t len)
{
	return send(fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* Collect exactly n bytes of handshake from fd. 1 when complete, 0 when
 * more must come, -1 on EOF or error. */
static int collect(struct vp_peer *p, int fd, size_t n)
{
	while (p->hs_len < n) {
		ssize_t r = recv(fd, p->hs + p->hs_len, n - p->hs_len, 0);

		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (r <= 0)
			return -1;
		p->hs_len += (size_t)r;
	}
	p->hs_len = 0;
	return 1;
}

/* How much the agent → client buffer may hold: a full frame more than
 * VP_BUF, so the agent's socket is never left full while a slow viewer
 * takes a frame (the agent drops a viewer whose socket stays full: see
 * server/ws.c, which does the same for the WebSocket viewers). */
static size_t vp_limit(const struct vp_peer *p)
{
	return VP_BUF + desk_frame_bytes(p->vp->sb);
}

static void update_events(struct vp_peer *p)
{
	struct srv *srv = p->vp->sb->srv;
	int c_in = p->c2a_len < p->c2a_cap || p->c2a_off;
	int a_in = p->a2c_len < p->a2c_cap || p->a2c_off || p->a2c_cap < vp_limit(p);

	if (p->stage != VP_SPLICE)
		return;
	ev_mod(srv, p->cfd, (c_in ? EPOLLIN : 0) | (p->a2c_len > p->a2c_off ? EPOLLOUT : 0));
	ev_mod(srv, p->afd, (a_in ? EPOLLIN : 0) | (p->c2a_len > p->c2a_off ? EPOLLOUT : 0));
}

/* Move bytes from `from` into *buf (bytes *off..*len wait; *cap bytes,
 * grown up to limit when full) and from *buf to `to`; back to VP_BUF once
 * empty. Returns -1 when either side is gone. */
static int pump(int from, int to, char **buf, size_t *off, size_t *len, size_t *cap, size_t limit)
{
	if (*len == *cap && *off) {
		memmove(*buf, *buf + *off, *len - *off);
		*len -= *off;
		*off = 0;
	} else if (*len == *cap && *cap < limit) {
		size_t ncap = *cap * 2 < limit ? *cap * 2 : limit;
		char *nb = realloc(*buf, ncap);

		if (nb) {
			*buf = nb;
			*cap = ncap;
		}
	}
	if (*len < *cap) {
		ssize_t r = recv(from, *buf + *len, *cap - *len, 0);

		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
			return -1;
		if (r > 0)
			*len += (size_t)r;
	}
	if (*len > *off) {
		ssize_t w = send(to, *buf + *off, *len - *off, MSG_NOSIGNAL);

		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (w > 0)
			*off += (size_t)w;
	}
	if (*off == *len) {
		*off = *len = 0;
		if (*cap > VP_BUF) {
			char *nb = realloc(*buf, VP_BUF);

			if (nb) {
				*buf = nb;
				*cap = VP_BUF;
			}
		}
	}
	return 0;
}

static void on_attached(void *ctx, json_t *reply, int *fds, int nfds)
{
	int fd = nfds > 0 ? fds[0] : -1;   /* vnc.attach answers with none */
	struct vp_peer *p = ctx;

	if (fd >= 0)
		close(fd);
	p->call = 0;
	if (!reply || json_object_get(reply, "error"))
		peer_free(p);
}

static int start_agent(struct vp_peer *p)
{
	struct sandbox *sb = p->vp->sb;
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
		return -1;
	p->call = desk_call(sb, "vnc.attach", json_pack("{s:b}", "view_only", 0), sv[1], on_attached, p);
	close(sv[1]);
	if (!p->call) {
		close(sv[0]);
		return -1;
	}
	p->afd = sv[0];
	p->stage = VP_AGENT_VERSION;
	/* The client waits (its ClientInit stays in its socket) until the
	 * agent's side of the handshake is done. */
	ev_mod(sb->srv, p->cfd, 0);
	return 0;
}

static void on_peer(void *ctx, uint32_t events);

static int client_step(struct vp_peer *p)
{
	static const char fail[] = "authentication failed";
	uint8_t expect[16], msg[64];
	int r;

	switch (p->stage) {
	case VP_CLIENT_VERSION:
		if ((r = collect(p, p->cfd, 12)) <= 0)
			return r;
		if (memcmp(p->hs, "RFB 003.", 8))
			return -1;
		p->minor = atoi(p->hs + 8) >= 8 ? 8 : atoi(p->hs + 8) == 7 ? 7 : 3;
		if (getrandom(p->challenge, sizeof(p->challenge), 0) != sizeof(p->challenge))
			return -1;
		if (p->minor == 3) {
			uint32_t t = htonl(rfbVncAuth);

			memcpy(msg, &t, 4);
			memcpy(msg + 4, p->challenge, 16);
			p->stage = VP_CLIENT_RESPONSE;
			return send_all(p->cfd, msg, 20) ? -1 : 1;
		}
		msg[0] = 1;
		msg[1] = rfbVncAuth;
		p->stage = VP_CLIENT_SECTYPE;
		return send_all(p->cfd, msg, 2) ? -1 : 1;
	case VP_CLIENT_SECTYPE:
		if ((r = collect(p, p->cfd, 1)) <= 0)
			return r;
		if ((uint8_t)p->hs[0] != rfbVncAuth)
			return -1;
		p->stage = VP_CLIENT_RESPONSE;
		return send_all(p->cfd, p->challenge, 16) ? -1 : 1;
	case VP_CLIENT_RESPONSE:
		if ((r = collect(p, p->cfd, 16)) <= 0)
			return r;
		memcpy(expect, p->challenge, 16);
		rfbEncryptBytes(expect, p->vp->password);
		{
			unsigned char diff = 0;

			for (int i = 0; i < 16; i++)
				diff |= (unsigned char)(expect[i] ^ (uint8_t)p->hs[i]);
			if (diff) {
				uint32_t res = htonl(1), len = htonl(sizeof(fail) - 1);

				log_event(p->vp->sb->id, "vnc port: wrong password");
				memcpy(msg, &res, 4);
				memcpy(msg + 4, &len, 4);
				memcpy(msg + 8, fail, sizeof(fail) - 1);
				send_all(p->cfd, msg, p->minor == 8 ? 8 + sizeof(fail) - 1 : 4);
				return -1;
			}
		}
		{
			uint32_t ok = 0;

			if (send_all(p->cfd, &ok, 4) || start_agent(p) < 0)
				return -1;
			if (ev_add(p->vp->sb->srv, p->afd, EPOLLIN, on_peer, p) < 0)
				return -1;
		}
		return 0;
	default:
		return -1;
	}
}

static int agent_step(struct vp_peer *p)
{
	static const char version[] = "RFB 003.008\n";
	uint8_t none = rfbNoAuth;
	int r;

	switch (p->stage) {
	case VP_AGENT_VERSION:
		if ((r = collect(p, p->afd, 12)) <= 0)
			return r;
		p->stage = VP_AGENT_SECTYPES;
		return send_all(p->afd, version, 12) ? -1 : 1;
	case VP_AGENT_SECTYPES:
		if ((r = collect(p, p->afd, 1)) <= 0)
			return r;
		p->ntypes = (uint8_t)p->hs[0];
		if (p->ntypes == 0)
			return -1;
		p->stage = VP_AGENT_SECTYPE_LIST;
		return 1;
	case VP_AGENT_SECTYPE_LIST:
		if ((r = collect(p, p->afd, p->ntypes)) <= 0)
			return r;
		if (!memchr(p->hs, rfbNoAuth, p->ntypes))
			return -1;
		p->stage = VP_AGENT_RESULT;
		return send_all(p->afd, &none, 1) ? -1 : 1;
	case VP_AGENT_RESULT:
		if ((r = collect(p, p->afd, 4)) <= 0)
			return r;
		if (memcmp(p->hs, "\0\0\0\0", 4))
			return -1;
		p->c2a = malloc(VP_BUF);
		p->a2c = malloc(VP_BUF);
		p->c2a_cap = p->a2c_cap = VP_BUF;
		if (!p->c2a || !p->a2c)
			return -1;
		p->stage = VP_SPLICE;
		update_events(p);
		log_event(p->vp->sb->id, "vnc port: viewer connected");
		return 0;
	default:
		return -1;
	}
}

static void on_peer(void *ctx, uint32_t events)
{
	struct vp_peer *p = ctx;
	int r;

	if (p->stage == VP_SPLICE) {
		if (pump(p->cfd, p->afd, &p->c2a, &p->c2a_off, &p->c2a_len, &p->c2a_cap, VP_BUF) < 0 ||
		    pump(p->afd, p->cfd, &p->a2c, &p->a2c_off, &p->a2c_len, &p->a2c_cap, vp_limit(p)) < 0) {
			log_event(p->vp->sb->id, "vnc port: viewer disconnected");
			peer_free(p);
			return;
		}
		update_events(p);
		return;
	}
	/* Before the splice a hang-up on either side ends the peer (the
	 * client's fd is not read then, so its HUP would fire for ever). */
	if (events & (EPOLLHUP | EPOLLERR)) {
		peer_free(p);
		return;
	}
	do
		r = p->stage < VP_AGENT_VERSION ? client_step(p) : agent_step(p);
	while (r > 0 && p->stage != VP_SPLICE);
	if (r < 0)
		peer_free(p);
}

static void on_accept(void *ctx, uint32_t events)
{
	struct vnc_port *vp = ctx;
	static const char version[] = "RFB 003.008\n";

	for (;;) {
		int fd = accept4(vp->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct vp_peer *p;

		if (fd < 0)
			return;
		if (vp->npeers >= VP_MAX_PEERS || !(p = calloc(1, sizeof(*p)))) {
			close(fd);
			continue;
		}
		p->vp = vp;
		p->cfd = fd;
		p->afd = -1;
		p->next = vp->peers;
		vp->peers = p;
		vp->npeers++;
		if (send_all(fd, version, 12) < 0 || ev_add(vp->sb->srv, fd, EPOLLIN, on_peer, p) < 0)
			peer_free(p);
	}
}

struct vnc_port *vncport_open(struct sandbox *sb, int port)
{
	static const char chars[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	struct vnc_port *vp = calloc(1, sizeof(*vp));
	uint8_t rnd[8];
	int one = 1;

	if (!vp)
		return NULL;
	vp->sb = sb;
	vp->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (vp->fd < 0 || getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		goto fail;
	for (int i = 0; i < 8; i++)
		vp->password[i] = chars[rnd[i] % (sizeof(chars) - 1)];
	setsockopt(vp->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(vp->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(vp->fd, 8) < 0 ||
	    getsockname(vp->fd, (struct sockaddr *)&sa, &sl) < 0)
		goto fail;
	vp->port = ntohs(sa.sin_port);
	if (ev_add(sb->srv, vp->fd, EPOLLIN, on_accept, vp) < 0)
		goto fail;
	log_event(sb->id, "vnc port 127.0.0.1:%d", vp->port);
	return vp;
fail:
	log_event(sb->id, "cannot open a vnc port: %s", strerror(errno));
	if (vp->fd >= 0)
		close(vp->fd);
	free(vp);
	return NULL;
}

void vncport_close(struct vnc_port *vp)
{
	if (!vp)
		return;
	while (vp->peers)
		peer_free(vp->peers);
	ev_del(vp->sb->srv, vp->fd);
	close(vp->fd);
	explicit_bzero(vp->password, sizeof(vp->password));
	free(vp);
}

json_t *vncport_json(const struct vnc_port *vp)
{
	return json_pack("{s:s,s:i,s:s}", "host", "127.0.0.1", "port", vp->port,
			 "password", vp->password);
}
