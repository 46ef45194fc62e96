/*
 * rpc_ws.h - the JSON-RPC control channel's lws protocol (GET /v1/rpc,
 * subprotocol "deskbox.rpc.v1").
 */
#ifndef DESKBOX_RPC_WS_H
#define DESKBOX_RPC_WS_H

#include "srv.h"

#define RPC_WS_PROTOCOL "deskbox.rpc.v1"

/* 0 if the upgrade request on wsi may open the channel, else 1 (after
 * answering the refusal). */
int rpc_ws_authorize(struct srv *srv, struct lws *wsi);

int rpc_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);

#endif
