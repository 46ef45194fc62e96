/*
 * rpc.h - JSON-RPC 2.0 over the operation table, whatever carries it.
 *
 * A peer is one client connection: the transport (rpc_ws.c) feeds it whole
 * messages and gives it two ways to answer, a JSON message and the bytes
 * of an fd as one binary message. Requests and batches run concurrently
 * and are answered by id as they finish. Binary results follow their
 * result as one binary message (the result says {"binary": true, "bytes",
 * "media_type"}), or inline as base64 when params say "encoding":
 * "base64" (always within a batch). files.write takes its bytes as base64
 * "data" or from the next binary message, when params say "binary": true.
 * Loop thread only.
 */
#ifndef DESKBOX_RPC_H
#define DESKBOX_RPC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "op.h"

/* JSON-RPC's own errors. */
#define RPC_PARSE_ERROR      -32700
#define RPC_INVALID_REQUEST  -32600
#define RPC_METHOD_NOT_FOUND -32601
#define RPC_INVALID_PARAMS   -32602

struct rpc_req;

struct rpc_peer {
	struct op_conn conn;        /* first: ops see the peer as their conn */
	struct srv *srv;
	struct op_auth auth;
	char host[256];
	/* Queue one JSON message (stolen). */
	void (*send)(struct rpc_peer *p, json_t *msg);
	/* Queue len bytes of fd as one binary message (fd ownership moves). */
	void (*send_fd)(struct rpc_peer *p, int fd, uint64_t len);
	struct rpc_req *reqs;       /* in flight */
	size_t nreqs;
};

/* Most requests in flight on one peer; past it requests are refused. */
#define RPC_MAX_INFLIGHT 256

/* Ready p (the transport fills send, send_fd, conn.notify, conn.backlog). */
void rpc_peer_init(struct rpc_peer *p, struct srv *srv, const struct op_auth *auth, const char *host);

/* A whole text message arrived. */
void rpc_message(struct rpc_peer *p, const char *text, size_t len);
/* A whole binary message arrived (data malloc'd; ownership moves). */
void rpc_binary(struct rpc_peer *p, char *data, size_t len);
/* Answer an error that belongs to no request (id NULL) or to id. */
void rpc_send_error(struct rpc_peer *p, const json_t *id, int code, const char *msg, enum operr e);

/* The client is gone: cancel every request, run the conn's closed hooks,
 * drop its event subscriptions. p is not used by rpc.c afterwards. */
void rpc_peer_close(struct rpc_peer *p);
/* The client caught up: run the conn's drained hooks. */
void rpc_peer_drained(struct rpc_peer *p);

#endif
