/*
 * drain.h - taking a server out of service without failing a call: stop
 * taking sandboxes, keep serving the ones held, and (on SIGTERM) exit once
 * they are gone or a grace period has passed.
 */
#ifndef DESKBOX_DRAIN_H
#define DESKBOX_DRAIN_H

#include "srv.h"

/* Start draining (idempotent). then_exit: stop the server once no sandbox
 * is left, or --drain-grace seconds from the first call with then_exit. */
void drain_begin(struct srv *srv, int then_exit, const char *why);

/* A sandbox is gone: the drain may be over. */
void drain_sandbox_gone(struct srv *srv);

/* Whether creates are refused now. */
int drain_refusing(const struct srv *srv);

/* Whether the server can take a new sandbox now (/readyz): 1, or 0 with
 * why (a short phrase) in why. */
int drain_ready(const struct srv *srv, char *why, size_t cap);

#endif
