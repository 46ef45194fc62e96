/*
 * agentmsg.h - what deskboxd accepts from a desktop agent besides the
 * bus events (agentev.h): the per-method rules for replies (how big a
 * memfd body may be, whether a file may ride along), and the checked
 * copies of the fields it reads from replies and events. The agent runs
 * inside the sandbox: everything here treats its bytes as hostile, and
 * what goes on is rebuilt from checked fields, never relayed as sent.
 * Pure: no I/O, no globals (server/desktop.c and op_desktop.c do the I/O).
 */
#ifndef DESKBOX_AGENTMSG_H
#define DESKBOX_AGENTMSG_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* How deskboxd reads the reply to a call of one method. */
#define AGENTMSG_FD_FILE 2

struct agentmsg_rule {
	const char *method;
	size_t max_body;   /* largest {"body_fd": true} reply read; 0: inline only */
	int fd;            /* the reply may carry sealed memfds (images): 1; or
			      AGENTMSG_FD_FILE: a regular file, unsealed (a
			      recording: its reader copes with a file that shrinks) */
	int max_fds;       /* how many files beside one reply (0 without fd) */
	uint64_t max_fd_bytes; /* their bytes together; 0: streamed, no cap */
};

/* The rule for method; a method outside the table answers inline only,
 * without a file. Never NULL. */
const struct agentmsg_rule *agentmsg_rule(const char *method);

/* 1 when an F_GET_SEALS value says the memfd can no longer change size
 * or contents (so its size, checked once, holds while it is read). */
int agentmsg_sealed(int seals);

/* A new array of the "apps" report's entries, rebuilt field by field;
 * NULL when it is malformed (too many, wrong types, oversized strings). */
json_t *agentmsg_apps(const json_t *in);

/* The width and height of a "ready" (its "display") or "display" event.
 * Returns 0, or -1 when either is missing or outside 1..16384. */
int agentmsg_display(const json_t *display, int *width, int *height);

/* 1 when e is an etag deskboxd may echo in a header (short, plain). */
int agentmsg_etag_ok(const char *e);

/*
 * The result of an actions reply ({results: [...], settled?}) rebuilt
 * from its documented fields, each checked: every result {ok: true} plus
 * x, y, window, width, height, image; settled {settled, waited_ms, frame,
 * width, height, image | error}. An image is {media_type, fd: K}, K the
 * place of its memfd among the nfds that came beside the reply; every one
 * of them is named exactly once, and images[K] is set to its (new) image
 * object, which the caller fills with the bytes. A new object, or NULL
 * when anything is malformed, unknown or out of range.
 */
json_t *agentmsg_actions(const json_t *result, int nfds, json_t **images);

/* The settle outcome of a wait.settled reply ("settled", "waited_ms"),
 * checked, set into out. Returns 0, or -1 when malformed. */
int agentmsg_settle(const json_t *result, json_t *out);

#endif
