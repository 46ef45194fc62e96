/*
 * ws.c - WebSocket endpoints: VNC and a terminal, bridged to an fd.
 *
 * /v1/sandboxes/{id}/vnc: deskboxd makes a stream socketpair and hands one
 * end to the sandbox's desktop agent (vnc.attach), which serves RFB on it;
 * the other end is bridged to the WebSocket's binary messages. One port, one
 * auth check, and the agent never listens on anything.
 * /v1/sandboxes/{id}/pty: the sandbox's init starts a login shell on a new
 * pty and passes the master here; binary messages carry terminal bytes both
 * ways, a text message {"type":"resize","cols":C,"rows":R} sets the size.
 *
 * Owns each connection's fd and its two bounded buffers. Backpressure both
 * ways: when the browser is slow the fd is not read; when the fd is full the
 * browser is not read (lws rx flow control). A VNC viewer whose browser
 * takes nothing for WS_STALL_MS while bytes wait for it is dropped (the
 * agent, on the other side, waits for us far less: see desktop/vnc.c).
 * So a VNC connection's fd → browser buffer grows past WS_BUF, up to one
 * full frame more (ws_grow), before the agent's socket is left unread: a
 * viewer asks for one update at a time, and one that takes a frame slowly
 * (a slow link, a loaded machine) must cost the agent nothing, or the
 * agent's stall guard drops it mid-frame. The buffer shrinks back once
 * the browser has taken everything.
 * Runs on the loop thread.
 */
#include "ws.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/sockios.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "desktop.h"
#include "ev.h"
#include "http.h"
#include "httpparts.h"
#include "log.h"
#include "rest.h"
#include "sandbox.h"
#include "util.h"

#define WS_BUF (512 * 1024)   /* per direction */
#define WS_CHUNK 65536
#define WS_STALL_MS 10000     /* a VNC viewer may read nothing this long */
#define WS_STALL_TICK_MS 1000

/* The sandbox and endpoint a WebSocket path names (the REST route table
 * has the rows), or NULL. */
static struct sandbox *sandbox_of(struct srv *srv, const char *path, enum ws_kind *kind,
				  const struct op **op)
{
	const struct rest_route *route;
	char id[64];

	*kind = WS_NONE;
	*op = NULL;
	if (rest_route(path, HM_GET, &route, id, sizeof(id)) != OPERR_OK || !rest_route_ws(route))
		return NULL;
	*op = rest_route_op(route);
	*kind = strcmp((*op)->name, "desktop.vnc") ? WS_PTY : WS_VNC;
	return id_valid(id) ? sbx_find(srv, id) : NULL;
}

static void uri_of(struct lws *wsi, char *uri, size_t cap)
{
	int n = lws_hdr_copy(wsi, uri, (int)cap, WSI_TOKEN_GET_URI);

	if (n < 0 || strlen(uri) != (size_t)n)
		uri[0] = '\0';
}

enum operr ws_authorize(struct srv *srv, struct lws *wsi, const char *path, int *view_only)
{
	struct http_req probe = { .srv = srv, .wsi = wsi };
	const struct op *op;
	struct op_auth auth;
	enum ws_kind kind;
	struct sandbox *sb = sandbox_of(srv, path, &kind, &op);

	*view_only = 0;
	if (!op)
		return OPERR_NOT_FOUND;
	rest_auth(&probe, &auth);
	if (auth.scope == OPS_NONE)
		return OPERR_UNAUTHORIZED;
	if (!sb || sb->state == SBX_STARTING)
		return OPERR_NOT_FOUND;
	/* The scope check is the operation table's, as for every call. */
	if (!op_allowed(op, &auth, sb->id))
		return OPERR_FORBIDDEN;
	if (sb->state != SBX_RUNNING)
		return OPERR_SANDBOX_NOT_RUNNING;
	*view_only = auth.scope == OPS_VIEW;
	return OPERR_OK;
}

static void watch(struct ws_conn *c)
{
	uint32_t ev = (c->fd_paused ? 0 : EPOLLIN) | (c->in_len ? EPOLLOUT : 0);

	if (!c->fd_hup)   /* see on_fd */
		ev_mod(c->sb->srv, c->fd, ev);
}

static void start_close(struct ws_conn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	lws_callback_on_writable(c->wsi);
}

static void flush_in(struct ws_conn *c)
{
	while (c->in_len) {
		ssize_t n = write(c->fd, c->in, c->in_len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			start_close(c);
			return;
		}
		memmove(c->in, c->in + n, c->in_len - (size_t)n);
		c->in_len -= (size_t)n;
	}
	if (c->rx_paused && c->in_len < WS_BUF / 2) {
		c->rx_paused = 0;
		lws_rx_flow_control(c->wsi, 1);
	}
}

/* Bytes the kernel holds for the browser, not taken yet. */
static int unread(struct ws_conn *c)
{
	int q = 0;

	if (ioctl(lws_get_socket_fd(c->wsi), SIOCOUTQ, &q) < 0)
		return 0;
	return q;
}

static int waiting(struct ws_conn *c)
{
	return c->out_len > c->out_off || lws_partial_buffered(c->wsi) || unread(c) > 0;
}

/* Every WS_STALL_TICK_MS while bytes wait for the browser: it took some
 * when the kernel's queue shrank or lws asked for more (stall_watch). */
static void stall_tick(lws_sorted_usec_list_t *sul)
{
	struct ws_conn *c = lws_container_of(sul, struct ws_conn, stall);
	struct linger off = { .l_onoff = 1, .l_linger = 0 };
	int q = unread(c);

	c->stall_armed = 0;
	if (!waiting(c))
		return;
	c->stall_ms = q < c->stall_q ? 0 : c->stall_ms + WS_STALL_TICK_MS;
	c->stall_q = q;
	if (c->stall_ms < WS_STALL_MS) {
		ev_timer(srv_of(c->wsi), &c->stall, stall_tick, WS_STALL_TICK_MS);
		c->stall_armed = 1;
		return;
	}
	log_event(c->sb ? c->sb->id : NULL, "vnc: the viewer read nothing for %d s: dropped",
		  WS_STALL_MS / 1000);
	/* Reset, not a FIN behind what it will never read: the kernel would
	 * keep probing its closed window for minutes. */
	setsockopt(lws_get_socket_fd(c->wsi), SOL_SOCKET, SO_LINGER, &off, sizeof off);
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

/* Bytes were read for the browser, or it took some (progress: lws calls
 * WRITEABLE only once what it was given before is all gone). */
static void stall_watch(struct ws_conn *c, int progress)
{
	if (c->kind != WS_VNC)
		return;
	if (progress)
		c->stall_ms = 0;
	if (!c->stall_armed && waiting(c)) {
		c->stall_q = unread(c);
		ev_timer(srv_of(c->wsi), &c->stall, stall_tick, WS_STALL_TICK_MS);
		c->stall_armed = 1;
	}
}

/* Room for more of the agent's bytes in c->out: compacted, or (VNC) grown
 * up to WS_BUF plus a full frame of the screen. Returns 0, or -1 when full. */
static int ws_grow(struct ws_conn *c)
{
	size_t limit = WS_BUF, cap;
	char *nb;

	if (c->out_off) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
		return 0;
	}
	if (c->kind == WS_VNC && c->sb)
		limit += desk_frame_bytes(c->sb);
	if (c->out_cap >= limit)
		return -1;
	cap = c->out_cap * 2 < limit ? c->out_cap * 2 : limit;
	nb = realloc(c->out, cap);
	if (!nb)
		return -1;
	c->out = nb;
	c->out_cap = cap;
	return 0;
}

/* Back to WS_BUF once the browser took everything. */
static void ws_shrink(struct ws_conn *c)
{
	char *nb;

	if (c->out_cap <= WS_BUF || c->out_len)
		return;
	nb = realloc(c->out, WS_BUF);
	if (nb) {
		c->out = nb;
		c->out_cap = WS_BUF;
	}
}

static void on_fd(void *ctx, uint32_t events)
{
	struct ws_conn *c = ctx;

	if (events & EPOLLOUT)
		flush_in(c);
	if ((events & (EPOLLHUP | EPOLLERR)) && c->fd_paused && !c->fd_hup) {
		/* epoll reports a hangup whatever it is asked for, which would
		 * spin the loop until the browser catches up: stop watching,
		 * and read the rest then (writeable). */
		c->fd_hup = 1;
		ev_del(c->sb->srv, c->fd);
		return;
	}
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c->fd_paused) {
		if (c->out_off == c->out_len)
			c->out_off = c->out_len = 0;
		while (c->out_len < c->out_cap || ws_grow(c) == 0) {
			ssize_t n = read(c->fd, c->out + c->out_len, c->out_cap - c->out_len);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == EAGAIN) {
				if (c->fd_hup)   /* read after the hangup: no more */
					start_close(c);
				break;
			}
			if (n <= 0) {
				/* The agent dropped the client, or the shell ended
				 * (EIO on a pty master): say what we have, then close. */
				c->fd_paused = 1;
				start_close(c);
				break;
			}
			c->out_len += (size_t)n;
		}
		if (c->out_len == c->out_cap)
			c->fd_paused = 1;
		if (c->out_len > c->out_off)
			lws_callback_on_writable(c->wsi);
	}
	if (c->fd >= 0)
		watch(c);
	stall_watch(c, 0);
}

/* The terminal size the browser asked for, once the pty exists. */
static void apply_size(struct ws_conn *c)
{
	struct winsize ws = { .ws_row = c->rows, .ws_col = c->cols };

	if (c->kind == WS_PTY && c->fd >= 0 && c->cols && c->rows)
		ioctl(c->fd, TIOCSWINSZ, &ws);
}

static int attach_fd(struct ws_conn *c, int fd)
{
	fcntl(fd, F_SETFL, O_NONBLOCK);
	c->fd = fd;
	apply_size(c);
	if (ev_add(c->sb->srv, fd, EPOLLIN | (c->in_len ? EPOLLOUT : 0), on_fd, c) < 0)
		return -1;
	if (c->in_len)
		flush_in(c);
	return 0;
}

static int on_pty(void *ctx, const struct proto_hdr *h, int *fds, int nfds)
{
	struct ws_conn *c = ctx;

	if (!h) {
		c->op = 0;
		return 1;
	}
	if (h->type == PROTO_SPAWNED) {
		if (nfds != 1 || attach_fd(c, fds[0]) < 0) {
			start_close(c);
			return 0;
		}
		fds[0] = -1;
		return 0;
	}
	/* SPAWN_FAIL or EXITED: the shell is done. */
	c->op = 0;
	if (h->type == PROTO_SPAWN_FAIL)
		log_event(c->sb->id, "terminal: cannot start a shell: %s", strerror(h->arg));
	if (c->fd < 0)
		start_close(c);
	return 1;
}

static int start_pty(struct ws_conn *c)
{
	char *argv[] = { "/bin/bash", "-l", NULL };

	c->op = sbx_spawn(c->sb, argv, NULL, 0, "/home/user", PROTO_SPAWN_PTY, NULL, 0, on_pty, c);
	return c->op ? 0 : -1;
}

static void on_attached(void *ctx, json_t *reply, int *fds, int nfds)
{
	int fd = nfds > 0 ? fds[0] : -1;   /* vnc.attach answers with none */
	struct ws_conn *c = ctx;

	if (fd >= 0)
		close(fd);
	c->op = 0;
	if (!reply || json_object_get(reply, "error")) {
		const char *m = reply ? json_string_value(json_object_get(json_object_get(reply, "error"),
									  "message")) : NULL;

		log_event(c->sb->id, "vnc: the desktop refused the viewer: %s", m ? m : "it went away");
		start_close(c);
	}
}

static int start_vnc(struct ws_conn *c)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	c->op = desk_call(c->sb, "vnc.attach", json_pack("{s:b}", "view_only", c->view_only), sv[1],
			  on_attached, c);
	close(sv[1]);
	if (!c->op || attach_fd(c, sv[0]) < 0) {
		if (c->fd < 0)
			close(sv[0]);
		return -1;
	}
	return 0;
}

static void closed(struct ws_conn *c);

static int established(struct lws *wsi, struct http_req *r)
{
	struct srv *srv = srv_of(wsi);
	struct ws_conn *c = &r->ws;
	const struct op *op;
	char uri[1024];
	enum ws_kind kind;

	memset(r, 0, sizeof(*r));
	r->stream_fd = -1;
	c->fd = -1;
	c->wsi = wsi;
	uri_of(wsi, uri, sizeof(uri));
	c->sb = sandbox_of(srv, uri, &kind, &op);
	if (!c->sb || ws_authorize(srv, wsi, uri, &c->view_only) != OPERR_OK)
		return -1;
	c->kind = kind;
	c->out = malloc(WS_BUF);
	c->out_cap = WS_BUF;
	c->in = malloc(WS_BUF);
	c->next = c->sb->ws_conns;
	c->sb->ws_conns = c;
	if (!c->out || !c->in || (kind == WS_VNC ? start_vnc(c) : start_pty(c)) < 0) {
		log_event(c->sb->id, "%s: cannot start: %s", kind == WS_VNC ? "vnc" : "terminal",
			  strerror(errno));
		closed(c);
		return -1;
	}
	log_event(c->sb->id, "%s: viewer connected%s", kind == WS_VNC ? "vnc" : "terminal",
		  c->view_only ? " (view only)" : "");
	return 0;
}

static void unlink_conn(struct ws_conn *c)
{
	if (!c->sb)
		return;
	for (struct ws_conn **pp = &c->sb->ws_conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
}

static void closed(struct ws_conn *c)
{
	ev_timer_cancel(&c->stall);
	c->stall_armed = 0;
	if (c->sb) {
		if (c->fd >= 0)
			ev_del(c->sb->srv, c->fd);
		if (c->op && c->kind == WS_VNC)
			desk_call_cancel(c->sb, c->op);
		if (c->op && c->kind == WS_PTY) {
			/* Hang up on the shell and everything it started. */
			sbx_notify(c->sb, PROTO_KILL, c->op, 9);
			sbx_forget(c->sb, c->op);
		}
		log_event(c->sb->id, "%s: viewer disconnected", c->kind == WS_VNC ? "vnc" : "terminal");
		unlink_conn(c);
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->out);
	free(c->in);
	c->out = c->in = NULL;
	c->sb = NULL;
	c->kind = WS_NONE;
}

static void control_message(struct ws_conn *c)
{
	if (c->kind == WS_PTY && httpparts_pty_resize(c->ctl, c->ctl_len, &c->cols, &c->rows))
		apply_size(c);
}

static void receive(struct ws_conn *c, const char *in, size_t len)
{
	if (!lws_frame_is_binary(c->wsi)) {
		/* Text: a control message (terminal resize), assembled whole. */
		if (c->ctl_len + len <= sizeof(c->ctl)) {
			memcpy(c->ctl + c->ctl_len, in, len);
			c->ctl_len += len;
		} else {
			c->ctl_len = sizeof(c->ctl) + 1; /* too long: dropped */
		}
		if (lws_is_final_fragment(c->wsi)) {
			if (c->ctl_len <= sizeof(c->ctl))
				control_message(c);
			c->ctl_len = 0;
		}
		return;
	}
	if (c->in_len + len > WS_BUF) {
		/* Cannot happen with flow control on, but never overflow. */
		start_close(c);
		return;
	}
	memcpy(c->in + c->in_len, in, len);
	c->in_len += len;
	if (c->fd >= 0) {
		flush_in(c);
		if (c->in_len)
			watch(c);
	}
	if (c->in_len > WS_BUF / 2 && !c->rx_paused) {
		c->rx_paused = 1;
		lws_rx_flow_control(c->wsi, 0);
	}
}

static int writeable(struct ws_conn *c)
{
	unsigned char buf[LWS_PRE + WS_CHUNK];
	size_t n = c->out_len - c->out_off;

	if (n) {
		if (n > WS_CHUNK)
			n = WS_CHUNK;
		memcpy(buf + LWS_PRE, c->out + c->out_off, n);
		if (lws_write(c->wsi, buf + LWS_PRE, n, LWS_WRITE_BINARY) < (int)n)
			return -1;
		srv_of(c->wsi)->metrics.viewer_bytes += n;
		c->out_off += n;
		if (c->out_off == c->out_len) {
			c->out_off = c->out_len = 0;
			ws_shrink(c);
		}
		if (c->fd_paused && !c->closing && c->out_len - c->out_off < WS_BUF / 2) {
			/* Compact and read again. */
			memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
			c->fd_paused = 0;
			if (c->fd >= 0 && c->fd_hup)
				on_fd(c, EPOLLIN);
			else if (c->fd >= 0)
				watch(c);
		}
		if (c->out_len > c->out_off || c->closing)
			lws_callback_on_writable(c->wsi);
		stall_watch(c, 1);
		return 0;
	}
	stall_watch(c, 1);
	if (c->closing) {
		lws_close_reason(c->wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)"bye", 3);
		return -1;
	}
	return 0;
}

int ws_callback(struct lws *wsi, enum lws_callback_reasons reason,
		struct http_req *r, void *in, size_t len)
{
	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		return established(wsi, r);
	case LWS_CALLBACK_RECEIVE:
		if (r->ws.kind != WS_NONE && !r->ws.closing)
			receive(&r->ws, in, len);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return r->ws.kind != WS_NONE ? writeable(&r->ws) : 0;
	case LWS_CALLBACK_CLOSED:
		if (r->ws.kind != WS_NONE || r->ws.out)
			closed(&r->ws);
		return 0;
	default:
		return 0;
	}
}

void ws_close_all(struct sandbox *sb)
{
	while (sb->ws_conns) {
		struct ws_conn *c = sb->ws_conns;

		sb->ws_conns = c->next;
		if (c->fd >= 0) {
			ev_del(sb->srv, c->fd);
			close(c->fd);
			c->fd = -1;
		}
		c->op = 0;
		c->sb = NULL;
		c->closing = 1;
		lws_callback_on_writable(c->wsi);
	}
}
