/*
 * cli_net.h - the deskbox CLI's wire: plain HTTP/1.1 requests and a
 * WebSocket client (RFC 6455, client side) to one deskboxd, blocking, over
 * TCP. Only what talking to deskboxd needs: http:// URLs, Connection:
 * close requests, whole messages.
 */
#ifndef DESKBOX_CLI_NET_H
#define DESKBOX_CLI_NET_H

#include <stddef.h>

struct cli_net_url {
	char host[256];
	char port[8];
};

struct cli_net_resp {
	int status;
	char ctype[128];
	char session[160];       /* Mcp-Session-Id, if any */
	char *body;              /* malloc'd, NUL-terminated */
	size_t len;
};

/* Parse "http://HOST[:PORT][/]". 0, or -1 (why in err). */
int cli_net_parse_url(const char *s, struct cli_net_url *u, char *err, size_t cap);

/* One request; hdrs are extra header lines ("Name: value\r\n"…) or NULL.
 * 0 with *out filled (free out->body), or -1 (why in err). */
int cli_net_http(const struct cli_net_url *u, const char *token, const char *method, const char *path,
		 const char *hdrs, const char *body, size_t len, struct cli_net_resp *out, char *err,
		 size_t cap);

/* Open a WebSocket to path with subprotocol proto: the socket, or -1. */
int cli_net_ws_open(const struct cli_net_url *u, const char *token, const char *path, const char *proto,
		    char *err, size_t cap);
/* Send one message (text: opcode 1, binary: 2). 0 or -1. */
int cli_net_ws_send(int fd, int opcode, const char *data, size_t len);
/* Receive one whole message: its opcode (1/2) with *data malloc'd, 0 when
 * the peer closed, -1 on error. Pings are answered on the way. */
int cli_net_ws_recv(int fd, char **data, size_t *len);

/* Percent-encode s for a query value into out. */
void cli_net_escape(const char *s, char *out, size_t cap);

#endif
