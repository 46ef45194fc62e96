/*
 * rpc_ws.c - the control channel: JSON-RPC 2.0 over a WebSocket at
 * GET /v1/rpc, subprotocol "deskbox.rpc.v1".
 *
 * Its own lws protocol and per-connection state (struct rpc_ws, heap,
 * pointed to by the per-session data): the inbound message being
 * assembled (bounded: a message over the limit is refused with an error
 * and the connection stays usable), and the outbound queue of messages
 * (text, or the bytes of an fd streamed in fragments). A client that stops
 * reading is closed once its queue passes RPC_WS_MAX_QUEUE, without
 * stalling anyone; streaming operations pause at OP_CONN_HIGH_WATER and
 * resume when the queue drains below half of it. Loop thread only; never
 * blocks.
 */
#include "rpc_ws.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "rest.h"
#include "rpc.h"

#define RPC_WS_CHUNK (64 * 1024)
/* A client whose unsent answers pass this is dropped. */
#define RPC_WS_MAX_QUEUE (64u << 20)

struct rpc_frame {
	struct rpc_frame *next;
	int binary;
	char *data;                 /* text/binary bytes, or NULL with fd */
	int fd;
	uint64_t len, off;
};

struct rpc_ws {
	struct rpc_peer peer;       /* first */
	struct lws *wsi;
	char *in;                   /* the message being assembled */
	size_t in_len, in_cap;
	int in_over, in_binary;
	struct rpc_frame *out, *out_tail;
	size_t queued;
	int closing, paused_low;
};

struct rpc_ws_pss {
	struct rpc_ws *c;
};

static void rpc_ws_enqueue(struct rpc_ws *c, struct rpc_frame *f)
{
	if (c->closing) {
		if (f->fd >= 0)
			close(f->fd);
		free(f->data);
		free(f);
		return;
	}
	if (c->out_tail)
		c->out_tail->next = f;
	else
		c->out = f;
	c->out_tail = f;
	c->queued += (size_t)f->len;
	if (c->queued > RPC_WS_MAX_QUEUE) {
		log_event(NULL, "rpc: a client stopped reading (%zu bytes queued): closing it", c->queued);
		c->closing = 1;
		/* Not from WRITEABLE: a client that reads nothing never makes
		 * its socket writable again, and would be held for ever. */
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_KILLED_BY_PARENT, LWS_TO_KILL_ASYNC);
		return;
	}
	lws_callback_on_writable(c->wsi);
}

static void rpc_ws_send(struct rpc_peer *p, json_t *msg)
{
	struct rpc_ws *c = (struct rpc_ws *)p;
	char *s = json_dumps(msg, JSON_COMPACT | JSON_REAL_PRECISION(7));
	struct rpc_frame *f = s ? calloc(1, sizeof(*f)) : NULL;

	json_decref(msg);
	if (!f) {
		free(s);
		return;
	}
	f->data = s;
	f->fd = -1;
	f->len = strlen(s);
	rpc_ws_enqueue(c, f);
}

static void rpc_ws_send_fd(struct rpc_peer *p, int fd, uint64_t len)
{
	struct rpc_ws *c = (struct rpc_ws *)p;
	struct rpc_frame *f = calloc(1, sizeof(*f));

	if (!f) {
		close(fd);
		return;
	}
	f->binary = 1;
	f->fd = fd;
	f->len = len;
	rpc_ws_enqueue(c, f);
}

static int rpc_ws_notify(struct op_conn *conn, const char *method, json_t *params)
{
	struct rpc_ws *c = (struct rpc_ws *)conn;

	if (c->closing) {
		json_decref(params);
		return -1;
	}
	rpc_ws_send(&c->peer, json_pack("{s:s,s:s,s:o}", "jsonrpc", "2.0", "method", method, "params",
					params ? params : json_object()));
	return 0;
}

static int rpc_ws_notify_text(struct op_conn *conn, char *text, size_t len)
{
	struct rpc_ws *c = (struct rpc_ws *)conn;
	struct rpc_frame *f = c->closing ? NULL : calloc(1, sizeof(*f));

	if (!f) {
		free(text);
		return -1;
	}
	f->data = text;
	f->fd = -1;
	f->len = len;
	rpc_ws_enqueue(c, f);
	return 0;
}

static size_t rpc_ws_backlog(const struct op_conn *conn)
{
	return ((const struct rpc_ws *)conn)->queued;
}

/* Who may open the channel: any valid token (a viewer token limits every
 * call to its sandbox and scope, as op_allowed decides per call). Refusals
 * are answered with an HTTP status and the JSON error. */
int rpc_ws_authorize(struct srv *srv, struct lws *wsi)
{
	struct http_req probe = { .srv = srv, .wsi = wsi };
	struct op_auth auth;
	char uri[256];
	int n = lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI);

	if (n <= 0 || strcmp(uri, "/v1/rpc"))
		return http_refuse_upgrade(wsi, OPERR_NOT_FOUND, "the control channel is at /v1/rpc");
	if (srv->stopping)
		return http_refuse_upgrade(wsi, OPERR_UNAVAILABLE, "the server is shutting down");
	rest_auth(&probe, &auth);
	return auth.scope == OPS_NONE ? http_refuse_upgrade(wsi, OPERR_UNAUTHORIZED, "cannot open the "
							    "control channel") : 0;
}

static int rpc_ws_established(struct lws *wsi, struct rpc_ws_pss *pss)
{
	struct srv *srv = srv_of(wsi);
	struct http_req probe = { .srv = srv, .wsi = wsi };
	struct rpc_ws *c = calloc(1, sizeof(*c));
	struct op_auth auth;
	char host[256] = "";
	int n;

	if (!c)
		return -1;
	rest_auth(&probe, &auth);
	if (auth.scope == OPS_NONE) {
		free(c);
		return -1;
	}
	n = lws_hdr_copy(wsi, host, sizeof(host), WSI_TOKEN_HOST);
	if (n <= 0 || strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") !=
			      (size_t)n)
		host[0] = '\0';
	rpc_peer_init(&c->peer, srv, &auth, host);
	c->peer.send = rpc_ws_send;
	c->peer.send_fd = rpc_ws_send_fd;
	c->peer.conn.notify = rpc_ws_notify;
	c->peer.conn.notify_text = rpc_ws_notify_text;
	c->peer.conn.backlog = rpc_ws_backlog;
	c->wsi = wsi;
	pss->c = c;
	srv->metrics.control_conns++;
	return 0;
}

static void rpc_ws_closed(struct rpc_ws_pss *pss)
{
	struct rpc_ws *c = pss->c;

	if (!c)
		return;
	pss->c = NULL;
	c->closing = 1;
	c->peer.srv->metrics.control_conns--;
	rpc_peer_close(&c->peer);
	while (c->out) {
		struct rpc_frame *f = c->out;

		c->out = f->next;
		if (f->fd >= 0)
			close(f->fd);
		free(f->data);
		free(f);
	}
	free(c->in);
	free(c);
}

static void rpc_ws_receive(struct rpc_ws *c, const char *in, size_t len)
{
	size_t limit = c->peer.srv->cfg.max_rpc_message;

	if (lws_is_first_fragment(c->wsi)) {
		c->in_len = 0;
		c->in_over = 0;
		c->in_binary = lws_frame_is_binary(c->wsi);
	}
	if (!c->in_over && c->in_len + len > limit) {
		c->in_over = 1;
		free(c->in);
		c->in = NULL;
		c->in_cap = 0;
	}
	if (!c->in_over && c->in_len + len > c->in_cap) {
		size_t cap = c->in_cap ? c->in_cap : 4096;
		char *nb;

		while (cap < c->in_len + len + 1)
			cap *= 2;
		nb = realloc(c->in, cap);
		if (!nb) {
			c->in_over = 1;
		} else {
			c->in = nb;
			c->in_cap = cap;
		}
	}
	if (!c->in_over) {
		memcpy(c->in + c->in_len, in, len);
		c->in_len += len;
	}
	if (!lws_is_final_fragment(c->wsi))
		return;
	if (c->in_over) {
		char msg[128];

		snprintf(msg, sizeof(msg), "the message is over the limit of %zu bytes", limit);
		rpc_send_error(&c->peer, NULL, RPC_INVALID_REQUEST, msg, OPERR_TOO_LARGE);
	} else if (c->in_binary) {
		char *data = c->in;

		/* The buffer moves to the request that takes the bytes. */
		c->in = NULL;
		c->in_cap = 0;
		rpc_binary(&c->peer, data ? data : calloc(1, 1), c->in_len);
	} else {
		rpc_message(&c->peer, c->in ? c->in : "", c->in_len);
	}
	c->in_len = 0;
	c->in_over = 0;
	/* A big message's buffer is not kept for the life of the connection. */
	if (c->in_cap > (1u << 20)) {
		free(c->in);
		c->in = NULL;
		c->in_cap = 0;
	}
}

/* Write the next piece of the queue. Returns -1 to close. */
static int rpc_ws_writeable(struct rpc_ws *c)
{
	unsigned char buf[LWS_PRE + RPC_WS_CHUNK];
	struct rpc_frame *f = c->out;
	size_t n;
	int first, last, flags;

	if (!f)
		return c->closing ? -1 : 0;
	if (c->closing && c->queued > RPC_WS_MAX_QUEUE)
		return -1;
	n = f->len - f->off > RPC_WS_CHUNK ? RPC_WS_CHUNK : (size_t)(f->len - f->off);
	first = f->off == 0;
	if (f->fd >= 0) {
		ssize_t got = n ? pread(f->fd, buf + LWS_PRE, n, (off_t)f->off) : 0;

		if (got < (ssize_t)n)
			return -1;   /* the bytes shrank: we announced a length */
	} else {
		memcpy(buf + LWS_PRE, f->data + f->off, n);
	}
	f->off += n;
	last = f->off == f->len;
	flags = lws_write_ws_flags(f->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT, first, last);
	if (lws_write(c->wsi, buf + LWS_PRE, n, (enum lws_write_protocol)flags) < (int)n)
		return -1;
	c->queued -= n;
	if (last) {
		c->out = f->next;
		if (!c->out)
			c->out_tail = NULL;
		if (f->fd >= 0)
			close(f->fd);
		free(f->data);
		free(f);
	}
	if (c->queued < OP_CONN_HIGH_WATER / 2)
		rpc_peer_drained(&c->peer);
	if (c->out || c->closing)
		lws_callback_on_writable(c->wsi);
	return 0;
}

int rpc_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct rpc_ws_pss *pss = user;

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return rpc_ws_authorize(srv_of(wsi), wsi);
	case LWS_CALLBACK_ESTABLISHED:
		pss->c = NULL;
		return rpc_ws_established(wsi, pss);
	case LWS_CALLBACK_RECEIVE:
		if (pss->c && !pss->c->closing)
			rpc_ws_receive(pss->c, in, len);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return pss->c ? rpc_ws_writeable(pss->c) : 0;
	case LWS_CALLBACK_CLOSED:
		rpc_ws_closed(pss);
		return 0;
	default:
		return 0;
	}
}
