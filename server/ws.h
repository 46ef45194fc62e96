/*
 * ws.h - the WebSocket endpoints of a sandbox: VNC (RFB over WebSocket,
 * subprotocol "binary", as noVNC speaks it) and a terminal (PTY).
 */
#ifndef DESKBOX_WS_H
#define DESKBOX_WS_H

#include <stddef.h>
#include <stdint.h>

#include "operr.h"
#include "srv.h"

struct sandbox;
struct http_req;

enum ws_kind { WS_NONE = 0, WS_VNC, WS_PTY };

struct ws_conn {
	enum ws_kind kind;
	struct sandbox *sb;        /* NULL once the sandbox is gone */
	struct lws *wsi;
	int fd;                    /* the agent's socket or the pty master; -1 */
	int view_only;
	uint32_t op;               /* init op of the pty shell, or agent call */
	int closing;
	int fd_paused;             /* not reading fd: the browser is behind */
	int rx_paused;             /* not reading the browser: fd is behind */
	int fd_hup;                /* fd hung up while paused: unwatched, see on_fd */
	int stall_armed;           /* stall is scheduled */
	int stall_ms, stall_q;     /* time with nothing taken; kernel queue then */
	lws_sorted_usec_list_t stall; /* drops a VNC viewer that reads nothing */
	char *out;                 /* fd → browser */
	size_t out_len, out_off;
	size_t out_cap;            /* out's size: WS_BUF, or up to a frame more (VNC) */
	char *in;                  /* browser → fd, waiting for fd to take it */
	size_t in_len;
	unsigned short cols, rows; /* terminal size asked for (0: none yet) */
	char ctl[1024];            /* a text (control) message being assembled */
	size_t ctl_len;
	struct ws_conn *next;      /* the sandbox's list */
};

/* Who may open a WebSocket on a sandbox: the API token, or one of the
 * sandbox's viewer tokens with the endpoint's scope. Returns OPERR_OK
 * (allowed; *view_only set) or why not. */
enum operr ws_authorize(struct srv *srv, struct lws *wsi, const char *path, int *view_only);

/* The lws callback for WebSocket reasons of a connection whose per-session
 * data is r. Returns what lws wants (-1 closes). */
int ws_callback(struct lws *wsi, enum lws_callback_reasons reason,
		struct http_req *r, void *in, size_t len);

/* The sandbox is going: close every WebSocket attached to it. */
void ws_close_all(struct sandbox *sb);

#endif
