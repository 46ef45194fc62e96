/*
 * chan.c - seqpacket JSON framing with SCM_RIGHTS memfds. See chan.h.
 *
 * Owns the receive buffer and the socket. Sends block, bounded by a send
 * timeout, so a stalled deskboxd cannot hold the agent forever: a reply
 * that cannot be sent in CHAN_SEND_TIMEOUT_S is logged and dropped.
 */
#include "chan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "keys.h"
#include "log.h"
#include "proto.h"

#define CHAN_SEND_TIMEOUT_S 5
#define CHAN_SNDBUF (1024 * 1024)

/* An actions reply: its images and, were it ever over the inline limit, its body. */
_Static_assert(AGENTPROTO_MAX_IMAGES + 1 < PROTO_MAX_RAW_FDS, "an actions reply's fds fit a datagram");

int chan_open(struct chan *c, int fd, char *err, size_t errlen)
{
	struct timeval tv = {.tv_sec = CHAN_SEND_TIMEOUT_S};
	int type = 0, sz = CHAN_SNDBUF;
	socklen_t len = sizeof type;

	c->fd = -1;
	c->buf = NULL;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    type != SOCK_SEQPACKET) {
		snprintf(err, errlen, "fd %d is not a SOCK_SEQPACKET socket", fd);
		return -1;
	}
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0) {
		snprintf(err, errlen, "fd %d: %s", fd, strerror(errno));
		return -1;
	}
	/* Best effort: the kernel caps it at wmem_max, which still fits the
	 * largest inline reply. */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	c->buf = malloc(CHAN_MAX_REQUEST + 1);
	if (!c->buf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	c->fd = fd;
	return 0;
}

void chan_close(struct chan *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	c->fd = -1;
	c->buf = NULL;
}

/* The request whose head *msg said body_fd: the whole of it is in *fd's
 * memfd. The method's own fd, if any, came second; it is not kept. */
static int chan_recv_body(json_t **msg, int *fd, char *err, size_t errlen)
{
	json_t *id = json_incref(json_object_get(*msg, "id"));
	json_error_t jerr;
	struct stat st;
	char *buf = NULL;

	json_decref(*msg);
	*msg = NULL;
	if (*fd < 0 || fstat(*fd, &st) < 0 || st.st_size <= 0 ||
	    st.st_size > AGENTPROTO_MAX_REQUEST) {
		snprintf(err, errlen, "request body missing or over %d MiB", AGENTPROTO_MAX_REQUEST >> 20);
		goto out;
	}
	buf = malloc((size_t)st.st_size);
	if (!buf || pread(*fd, buf, (size_t)st.st_size, 0) != st.st_size) {
		snprintf(err, errlen, "cannot read the request body");
		goto out;
	}
	*msg = json_loadb(buf, (size_t)st.st_size, JSON_REJECT_DUPLICATES, &jerr);
	if (!*msg)
		snprintf(err, errlen, "request is not JSON: %s", jerr.text);
	else if (!json_is_object(*msg) || !json_equal(json_object_get(*msg, "id"), id)) {
		json_decref(*msg);
		*msg = NULL;
		snprintf(err, errlen, "request body is not the object its head announced");
	}
out:
	free(buf);
	json_decref(id);
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	return 1;
}

int chan_recv(struct chan *c, json_t **msg, int *fd, char *err, size_t errlen)
{
	int fds[PROTO_MAX_RAW_FDS], nfds = 0;
	json_error_t jerr;
	ssize_t n;

	*msg = NULL;
	*fd = -1;
	n = proto_recv_raw(c->fd, c->buf, CHAN_MAX_REQUEST + 1, fds, &nfds);
	if (n < 0 && errno == EBADMSG) {
		snprintf(err, errlen, "request is over %d KiB", CHAN_MAX_REQUEST / 1024);
		return 1;
	}
	if (n < 0)
		return -1;
	/* The first fd goes to the method; any others are closed. */
	for (int i = 0; i < nfds; i++) {
		if (n > 0 && *fd < 0)
			*fd = fds[i];
		else
			close(fds[i]);
	}
	if (n == 0)
		return 0;
	if (n > CHAN_MAX_REQUEST) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		snprintf(err, errlen, "request is over %d KiB", CHAN_MAX_REQUEST / 1024);
		return 1;
	}
	*msg = json_loadb(c->buf, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
	if (!*msg) {
		snprintf(err, errlen, "request is not JSON: %s", jerr.text);
		return 1;
	}
	if (json_is_true(json_object_get(*msg, "body_fd")))
		return chan_recv_body(msg, fd, err, errlen);
	if (!json_is_object(*msg)) {
		json_decref(*msg);
		*msg = NULL;
		snprintf(err, errlen, "request is not a JSON object");
	}
	return 1;
}

static int chan_sendmsg(struct chan *c, const char *data, size_t len,
			const int *fds, int nfds)
{
	if (proto_send_raw(c->fd, data, len, fds, nfds) < 0) {
		agent_log("channel send of %zu bytes failed: %s", len, strerror(errno));
		return -1;
	}
	return 0;
}

int chan_memfd(const char *name, const void *data, size_t len)
{
	const char *p = data;
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return -1;
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		p += n;
		len -= (size_t)n;
	}
	if (lseek(fd, 0, SEEK_SET) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
		  F_SEAL_SEAL) < 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

/* Send msg with the files in[] (n of them) beside it; over
 * CHAN_MAX_INLINE, as body_fd (the body's memfd first). */
static int chan_send(struct chan *c, json_t *msg, const int *in, int n)
{
	char *s = json_dumps(msg, JSON_COMPACT);
	int fds[PROTO_MAX_RAW_FDS], nfds = 0, rc = -1, body = -1;
	size_t len;

	if (!s)
		return -1;
	if (n < 0 || n >= PROTO_MAX_RAW_FDS) {
		free(s);
		errno = EMSGSIZE;
		return -1;
	}
	len = strlen(s);
	if (len > CHAN_MAX_INLINE) {
		json_t *head = json_pack("{sOsb}", "id", json_object_get(msg, "id"),
					 "body_fd", 1);
		char *hs = head ? json_dumps(head, JSON_COMPACT) : NULL;

		json_decref(head);
		body = chan_memfd("reply", s, len);
		if (!hs || body < 0) {
			free(hs);
			goto fail;
		}
		free(s);
		s = hs;
		len = strlen(s);
		fds[nfds++] = body;
	}
	for (int i = 0; i < n; i++)
		fds[nfds++] = in[i];
	rc = chan_sendmsg(c, s, len, fds, nfds);
fail:
	if (body >= 0)
		close(body);
	free(s);
	return rc;
}

int chan_reply_fds(struct chan *c, json_t *id, json_t *result, const int *fds, int nfds)
{
	json_t *msg = json_pack("{sOso}", "id", id ? id : json_null(), "result", result);
	int rc;

	if (!msg)
		return -1;
	rc = chan_send(c, msg, fds, nfds);
	json_decref(msg);
	return rc;
}

int chan_reply(struct chan *c, json_t *id, json_t *result, int fd)
{
	return chan_reply_fds(c, id, result, &fd, fd >= 0);
}

/* Messages quote request text cut at a byte count: replace any bytes that
 * are not UTF-8 so the reply is still valid JSON. */
static void chan_utf8_fix(char *s)
{
	size_t len = strlen(s);
	uint32_t cp;

	for (size_t i = 0; i < len;) {
		int n = keys_utf8_next(s + i, len - i, &cp);

		if (n < 0 || cp == 0) {
			s[i++] = '?';
			continue;
		}
		i += (size_t)n;
	}
}

int chan_reply_error(struct chan *c, json_t *id, const char *code,
		     const char *message, int index)
{
	char text[512];
	json_t *e, *msg;
	int rc;

	snprintf(text, sizeof text, "%s", message);
	chan_utf8_fix(text);
	e = json_pack("{ssss}", "code", code, "message", text);

	if (!e)
		return -1;
	if (index >= 0)
		json_object_set_new(e, "index", json_integer(index));
	msg = json_pack("{sOso}", "id", id ? id : json_null(), "error", e);
	if (!msg)
		return -1;
	rc = chan_send(c, msg, NULL, 0);
	json_decref(msg);
	return rc;
}

int chan_event(struct chan *c, const char *name, json_t *fields)
{
	json_t *msg = fields ? fields : json_object();
	int rc;

	if (!msg)
		return -1;
	json_object_set_new(msg, "event", json_string(name));
	rc = chan_send(c, msg, NULL, 0);
	json_decref(msg);
	return rc;
}
