/*
 * single.h - single-sandbox mode (--single JSON): deskboxd boots one
 * sandbox at start and lives for it, the shape of one desktop per pod
 * (kubernetes-sigs/agent-sandbox). The server is ready when that sandbox
 * runs (its desktop up); other creates are refused; when it ends the
 * server stops. With --activity-url, a watched desktop (an open VNC or
 * terminal WebSocket) sends a request through agent-sandbox's router at
 * each --activity-interval, since that router counts only HTTP requests as
 * activity and an open WebSocket alone would look idle.
 */
#ifndef DESKBOX_SINGLE_H
#define DESKBOX_SINGLE_H

#include <stddef.h>

#include "srv.h"

/* Start-up: boot the sandbox (answered later) and resolve the activity URL.
 * Returns 0 (also when not in single mode), or -1 with a message in err. */
int single_start(struct srv *srv, char *err, size_t cap);

/* 1 when not in single mode or its sandbox is running; else 0 and why. */
int single_ready(const struct srv *srv, char *why, size_t cap);

/* 1 when creates must be refused because this server holds its one sandbox. */
int single_refusing(const struct srv *srv);

/* A sandbox is gone (from sandbox.c): if it was ours, stop the server. */
void single_sandbox_gone(struct srv *srv, const char *id);

/* Shutdown, after the sandboxes are gone: timers, the keep-alive in flight,
 * a create never answered. */
void single_stop(struct srv *srv);

#endif
