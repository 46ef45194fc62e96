/*
 * chan.h - the agent's channel to deskboxd: JSON messages over the
 * AF_UNIX SOCK_SEQPACKET socket on fd 3, one datagram per message, with
 * file descriptors (memfds) passed beside a datagram as SCM_RIGHTS.
 *
 * Replies whose JSON is over CHAN_MAX_INLINE bytes travel as the datagram
 * {"id": N, "body_fd": true} with a memfd holding the whole reply. Every
 * error a client sees goes through chan_reply_error, so codes stay stable.
 * Touched only by the agent's single loop.
 */
#ifndef DESKTOP_CHAN_H
#define DESKTOP_CHAN_H

#include <jansson.h>
#include <stddef.h>

#include "agentproto.h"

#define CHAN_MAX_REQUEST AGENTPROTO_MAX_MSG     /* largest datagram accepted */
#define CHAN_MAX_INLINE  AGENTPROTO_MAX_INLINE  /* largest reply sent inline */

struct chan {
	int fd;
	char *buf;   /* CHAN_MAX_REQUEST + 1 bytes */
};

/* Take fd (a SOCK_SEQPACKET socket): CLOEXEC, a send timeout, buffers.
 * Returns 0, or -1 with err when fd is not such a socket. */
int chan_open(struct chan *c, int fd, char *err, size_t errlen);

/* Close the socket and free the buffer. */
void chan_close(struct chan *c);

/*
 * Receive one request: a datagram, or (over AGENTPROTO_MAX_INLINE) a
 * datagram {"id", "method", "body_fd": true} and a memfd holding the whole
 * request, up to AGENTPROTO_MAX_REQUEST. Returns 1 with *msg (a new
 * reference) or, for one that is too large or not a JSON object, 1 with
 * *msg NULL and a reason in err; 0 when the peer closed; -1 with errno on a socket error.
 * The first file descriptor that came along is handed over in *fd (the
 * caller owns it; -1 when none came, CLOEXEC), any others are closed.
 */
int chan_recv(struct chan *c, json_t **msg, int *fd, char *err, size_t errlen);

/* Send {"id": id, "result": result} (result is stolen), with fd (or -1)
 * beside it. Returns 0, or -1 with errno. */
int chan_reply(struct chan *c, json_t *id, json_t *result, int fd);

/* The same with nfds files beside it (fewer than PROTO_MAX_RAW_FDS; an
 * actions batch's images), in that order. They stay the caller's. */
int chan_reply_fds(struct chan *c, json_t *id, json_t *result, const int *fds, int nfds);

/* Send {"id": id, "error": {"code", "message"[, "index"]}}; index < 0
 * leaves "index" out. Returns 0, or -1. */
int chan_reply_error(struct chan *c, json_t *id, const char *code,
		     const char *message, int index);

/* Send {"event": name, ...fields} (fields is stolen; may be NULL). */
int chan_event(struct chan *c, const char *name, json_t *fields);

/* A memfd holding len bytes of data, sealed, offset 0. Returns the fd, or
 * -1 with errno. The caller closes it. */
int chan_memfd(const char *name, const void *data, size_t len);

#endif
