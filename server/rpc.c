/*
 * rpc.c - JSON-RPC 2.0 requests to operation calls and back (see rpc.h).
 *
 * Owns each request in flight (a struct rpc_req around its op_call) and
 * each batch's answer array. A request ends in rpc_done, whichever way
 * it went; a peer that closes cancels what is left (op_cancel), so no
 * operation ever answers into a dead connection. Loop thread only.
 */
#include "rpc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus.h"
#include "log.h"
#include "rpcparse.h"
#include "util.h"

struct rpc_batch {
	json_t *answers;            /* array, in the order answers came */
	int pending;                /* requests not yet answered */
};

struct rpc_req {
	struct op_call c;
	struct rpc_peer *p;
	json_t *id;                 /* NULL: a notification (no answer) */
	int b64;                    /* binary result inline as base64 */
	int want_bin;               /* waits for the next binary message */
	struct rpc_batch *batch;
	char *bin;                  /* binary input (owned) */
	struct rpc_req *next;
};

void rpc_peer_init(struct rpc_peer *p, struct srv *srv, const struct op_auth *auth, const char *host)
{
	memset(p, 0, sizeof(*p));
	p->srv = srv;
	p->auth = *auth;
	p->conn.auth = &p->auth;
	snprintf(p->host, sizeof(p->host), "%s", host ? host : "");
}

static json_t *rpc_error_obj(const json_t *id, int code, const char *msg, enum operr e, int index)
{
	json_t *err = json_pack("{s:i,s:s}", "code", code, "message", msg);

	if (e != OPERR_OK) {
		json_t *data = json_pack("{s:s}", "code", operr_code(e));

		if (index >= 0)
			json_object_set_new(data, "index", json_integer(index));
		json_object_set_new(err, "data", data);
	}
	return json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id", id ? id : json_null(), "error", err);
}

void rpc_send_error(struct rpc_peer *p, const json_t *id, int code, const char *msg, enum operr e)
{
	p->send(p, rpc_error_obj(id, code, msg, e, -1));
}

static void rpc_unlink(struct rpc_req *r)
{
	for (struct rpc_req **pp = &r->p->reqs; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			r->p->nreqs--;
			return;
		}
}

static void rpc_free(struct rpc_req *r)
{
	op_call_release(&r->c);
	json_decref(r->id);
	free(r->bin);
	free(r);
}

/* One answer: to the batch, or sent. */
static void rpc_answer(struct rpc_peer *p, struct rpc_batch *b, json_t *msg)
{
	if (!b) {
		p->send(p, msg);
		return;
	}
	json_array_append_new(b->answers, msg);
}

static void rpc_batch_done(struct rpc_peer *p, struct rpc_batch *b)
{
	if (!b || --b->pending > 0)
		return;
	if (json_array_size(b->answers))
		p->send(p, json_incref(b->answers));
	json_decref(b->answers);
	free(b);
}

/* The bytes of fd (len of them) as base64 in result["data"]. */
static int rpc_inline(json_t *result, int fd, uint64_t len, size_t cap)
{
	uint8_t *buf;
	char *b64;
	int rc = -1;

	if (len > cap)
		return -1;
	buf = malloc(len ? len : 1);
	b64 = malloc(4 * ((len + 2) / 3) + 1);
	if (buf && b64 && pread(fd, buf, len, 0) == (ssize_t)len) {
		size_t n = base64_encode(buf, len, b64);

		json_object_set_new(result, "data", json_stringn_nocheck(b64, n));
		json_object_set_new(result, "encoding", json_string("base64"));
		rc = 0;
	}
	free(buf);
	free(b64);
	return rc;
}

/*
 * An actions result's images (still in c's memfds: not inlined) as binary
 * frames after the result: each image object gets "bytes" and
 * "binary_frame" (its position among the frames), the result
 * "binary_frames" (how many follow). Returns that count.
 */
static int rpc_announce_images(struct op_call *c, json_t *result)
{
	if (!result || !c->nimgs)
		return 0;
	for (int i = 0; i < c->nimgs; i++) {
		json_object_set_new(c->imgs[i].obj, "bytes", json_integer((json_int_t)c->imgs[i].len));
		json_object_set_new(c->imgs[i].obj, "binary_frame", json_integer(i));
	}
	json_object_set_new(result, "binary_frames", json_integer(c->nimgs));
	return c->nimgs;
}

static void rpc_done(struct op_call *c)
{
	struct rpc_req *r = c->tctx;
	struct rpc_peer *p = r->p;
	struct rpc_batch *b = r->batch;
	json_t *msg = NULL;
	int fd = -1, nframes = 0;

	rpc_unlink(r);
	if (!r->id) {
		/* A notification: nobody hears how it went. */
	} else if (c->err != OPERR_OK) {
		msg = rpc_error_obj(r->id, operr_rpc(c->err), c->msg, c->err, c->index);
	} else if (c->nimgs && (r->b64 || b) && op_images_inline(c) < 0) {
		/* Asked for base64 (or inside a batch, where no frame can
		 * follow): the images go inline, as REST has them. */
		msg = rpc_error_obj(r->id, operr_rpc(OPERR_INTERNAL), "cannot read the result's images",
				    OPERR_INTERNAL, -1);
	} else {
		json_t *result = c->result ? c->result : json_object();

		c->result = NULL;
		if (c->out_fd >= 0) {
			json_object_set_new(result, "media_type", json_string(c->media_type));
			json_object_set_new(result, "bytes", json_integer((json_int_t)c->out_len));
			if (r->b64 || b) {
				if (rpc_inline(result, c->out_fd, c->out_len, p->srv->cfg.max_file) < 0) {
					json_decref(result);
					result = NULL;
					msg = rpc_error_obj(r->id, operr_rpc(OPERR_INTERNAL),
							    "cannot read the result's bytes", OPERR_INTERNAL, -1);
				}
			} else {
				json_object_set_new(result, "binary", json_true());
				fd = c->out_fd;
				c->out_fd = -1;
			}
		}
		nframes = rpc_announce_images(c, result);
		if (result)
			msg = json_pack("{s:s,s:O,s:o}", "jsonrpc", "2.0", "id", r->id, "result", result);
	}
	if (msg)
		rpc_answer(p, b, msg);
	if (fd >= 0)
		p->send_fd(p, fd, c->out_len);
	/* The memfds as the agent sealed them, streamed from the fd: no copy
	 * of the bytes is made on the way (op_call_release closes any left). */
	for (int i = 0; msg && i < nframes; i++)
		p->send_fd(p, c->imgs[i].fd, c->imgs[i].len);
	if (msg && nframes)
		c->nimgs = 0;
	rpc_free(r);
	rpc_batch_done(p, b);
}

/* Take the transport's own params out of r's (rpcparse_transport). */
static int rpc_transport_params(struct rpc_req *r, json_t *params, char *err, size_t cap)
{
	struct rpcparse_transport t;

	if (rpcparse_transport(params, !!(r->c.op->flags & (OPF_BIN_OUT | OPF_IMAGES)),
			       !!(r->c.op->flags & OPF_BIN_IN),
			       &t, err, cap) < 0)
		return -1;
	r->b64 = t.b64;
	r->want_bin = t.want_bin;
	r->bin = t.bin;
	r->c.bin = t.bin;
	r->c.bin_len = t.bin_len;
	return 0;
}

/* One request object; answers (or queues the answer of) what is wrong. */
static void rpc_request(struct rpc_peer *p, json_t *req, struct rpc_batch *b)
{
	struct rpcparse_req q;
	json_t *id, *params, *answer_id;
	const char *method;
	int has_id;
	const struct op *op;
	struct rpc_req *r;
	enum operr e;
	char err[256];

	if (b)
		b->pending++;
	if (rpcparse_request(req, &q, &answer_id, err, sizeof(err)) < 0) {
		rpc_answer(p, b, rpc_error_obj(answer_id, RPC_INVALID_REQUEST, err, OPERR_OK, -1));
		goto done;
	}
	id = q.id;
	has_id = q.has_id;
	params = q.params;
	method = q.method;
	op = op_find(method);
	if (!op) {
		snprintf(err, sizeof(err), "no such method: %.200s", method);
		if (has_id)
			rpc_answer(p, b, rpc_error_obj(id, RPC_METHOD_NOT_FOUND, err, OPERR_OK, -1));
		goto done;
	}
	if (params && !json_is_object(params)) {
		if (has_id)
			rpc_answer(p, b, rpc_error_obj(id, RPC_INVALID_PARAMS, "params must be an object (by name)",
						       OPERR_OK, -1));
		goto done;
	}
	if (p->nreqs >= RPC_MAX_INFLIGHT) {
		if (has_id)
			rpc_answer(p, b, rpc_error_obj(id, operr_rpc(OPERR_TOO_BUSY),
						       "too many requests in flight on this connection",
						       OPERR_TOO_BUSY, -1));
		goto done;
	}
	/* Scope first: a token that may not call op on that sandbox gets no
	 * further, not even its binary input read and held. */
	if ((e = op_refusal(op, &p->auth, json_string_value(json_object_get(params, "sandbox")),
			    err, sizeof(err))) != OPERR_OK) {
		if (has_id)
			rpc_answer(p, b, rpc_error_obj(id, operr_rpc(e), err, e, -1));
		goto done;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		goto done;
	r->p = p;
	r->id = has_id ? json_incref(id) : NULL;
	r->batch = b;
	op_call_init(&r->c, p->srv, op, &p->auth, params ? json_deep_copy(params) : json_object(), p->host);
	r->c.conn = &p->conn;
	r->c.on_done = rpc_done;
	r->c.tctx = r;
	if (rpc_transport_params(r, r->c.params, err, sizeof(err)) < 0 || (r->want_bin && b)) {
		if (r->want_bin)
			snprintf(err, sizeof(err), "binary messages cannot follow a batch: use base64 data");
		if (has_id)
			rpc_answer(p, b, rpc_error_obj(id, RPC_INVALID_PARAMS, err, OPERR_BAD_REQUEST, -1));
		rpc_free(r);
		goto done;
	}
	r->next = p->reqs;
	p->reqs = r;
	p->nreqs++;
	if (!r->want_bin)
		op_dispatch(&r->c);   /* may answer, and free r, at once */
	return;
done:
	rpc_batch_done(p, b);
}

void rpc_message(struct rpc_peer *p, const char *text, size_t len)
{
	json_error_t je;
	/* Any JSON value parses: a scalar is a valid message but an invalid
	 * request (-32600), not a parse error. */
	json_t *msg = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	struct rpc_batch *b;
	char why[300];

	if (!msg) {
		snprintf(why, sizeof(why), "parse error at line %d column %d: %s", je.line, je.column, je.text);
		rpc_send_error(p, NULL, RPC_PARSE_ERROR, why, OPERR_BAD_JSON);
		return;
	}
	if (!json_is_array(msg)) {
		rpc_request(p, msg, NULL);
		json_decref(msg);
		return;
	}
	if (json_array_size(msg) == 0) {
		rpc_send_error(p, NULL, RPC_INVALID_REQUEST, "an empty batch", OPERR_OK);
		json_decref(msg);
		return;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		json_decref(msg);
		return;
	}
	b->answers = json_array();
	b->pending = 1;   /* held until every member is started */
	for (size_t i = 0; i < json_array_size(msg); i++)
		rpc_request(p, json_array_get(msg, i), b);
	json_decref(msg);
	rpc_batch_done(p, b);
}

void rpc_binary(struct rpc_peer *p, char *data, size_t len)
{
	struct rpc_req *first = NULL;

	/* The oldest request still waiting for its bytes takes them. */
	for (struct rpc_req *r = p->reqs; r; r = r->next)
		if (r->want_bin)
			first = r;
	if (!first) {
		free(data);
		rpc_send_error(p, NULL, RPC_INVALID_REQUEST,
			       "a binary message that no request announced (\"binary\": true)", OPERR_BAD_REQUEST);
		return;
	}
	first->want_bin = 0;
	first->bin = data;
	first->c.bin = data;
	first->c.bin_len = len;
	op_dispatch(&first->c);
}

void rpc_peer_close(struct rpc_peer *p)
{
	while (p->reqs) {
		struct rpc_req *r = p->reqs;

		p->reqs = r->next;
		p->nreqs--;
		op_cancel(&r->c);
		if (r->batch && --r->batch->pending == 0) {
			json_decref(r->batch->answers);
			free(r->batch);
		}
		rpc_free(r);
	}
	while (p->conn.hooks) {
		struct op_conn_hook *h = p->conn.hooks;

		p->conn.hooks = h->next;
		if (h->closed)
			h->closed(h);
	}
	bus_unsubscribe_ctx(p->srv, p);
}

void rpc_peer_drained(struct rpc_peer *p)
{
	struct op_conn_hook *h = p->conn.hooks;

	/* A hook may remove itself (a process that ended): take next first. */
	while (h) {
		struct op_conn_hook *next = h->next;

		if (h->drained)
			h->drained(h);
		h = next;
	}
}
