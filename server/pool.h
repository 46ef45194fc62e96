/*
 * pool.h - warm pools: desktops booted ahead of time and handed to the
 * creates that ask for their shape.
 *
 * --pool N keeps N sandboxes of the default shape ({} : a desktop at the
 * default size) booted; --pool-shapes (a JSON array, usually in the config
 * file) adds shapes: [{"size": 4, "spec": {"apps": ["xterm"]}}, ...]. A
 * create whose body matches a shape in everything but env and timeout_s
 * takes a member: the caller gets it as its own sandbox (its id and
 * hostname were never shown to anyone; the caller's env and timeout are
 * applied; no viewer token exists yet). Members count toward
 * --max-sandboxes, are left out of the list and the API, and show in the
 * metrics as deskbox_pool_size; a cold create that needs their room evicts
 * one. Refills run in the background, a few boots at a time.
 */
#ifndef DESKBOX_POOL_H
#define DESKBOX_POOL_H

#include <stddef.h>

#include "req.h"
#include "srv.h"

struct op_call;
struct sandbox;

/* Start-up: parse the shapes and start filling. Returns 0, or -1 with why
 * in err. */
int pool_start(struct srv *srv, char *err, size_t cap);

/* A create for spec: if a ready member matches, make it the caller's,
 * answer c and return 1 (spec is freed). Else return 0 (spec untouched),
 * after evicting a member if the server is full of them. */
int pool_take(struct srv *srv, struct req_create *spec, struct op_call *c);

/* A sandbox is gone (from sandbox.c): if it was a member, count it out. */
void pool_sandbox_gone(struct srv *srv, struct sandbox *sb);

/* The server drains: destroy the members, boot no more. */
void pool_drain(struct srv *srv);

/* Sandboxes that count against --max-sandboxes for a new create. */
int pool_live_count(const struct srv *srv);

/* Whether two create specs are the same shape (everything but env and
 * timeout_s). Pure. */
int pool_same_shape(const struct req_create *a, const struct req_create *b);

/* Shutdown, after the sandboxes are gone: free the shapes and any boot
 * never answered. */
void pool_stop(struct srv *srv);

#endif
