/*
 * proto.c - framing of the deskboxd <-> sandbox init channel (see proto.h).
 *
 * The pack/unpack half is pure; proto_send/proto_recv are thin wrappers over
 * sendmsg/recvmsg that move fds. Both sides of the channel link this file,
 * the init statically. Nothing here keeps state.
 */
#include "proto.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int put_u32(char *buf, size_t cap, size_t *off, uint32_t v)
{
	if (cap - *off < sizeof(v))
		return -1;
	memcpy(buf + *off, &v, sizeof(v));
	*off += sizeof(v);
	return 0;
}

static int put_str(char *buf, size_t cap, size_t *off, const char *s)
{
	size_t n = strlen(s) + 1;

	if (cap - *off < n)
		return -1;
	memcpy(buf + *off, s, n);
	*off += n;
	return 0;
}

static size_t count_strings(char *const v[])
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

ssize_t proto_pack_spawn(char *buf, size_t cap, char *const argv[],
			 char *const envp[], const char *cwd)
{
	size_t off = 0, argc = count_strings(argv), envc = count_strings(envp);

	if (argc == 0 || !cwd)
		return -1;
	if (put_u32(buf, cap, &off, (uint32_t)argc) ||
	    put_u32(buf, cap, &off, (uint32_t)envc))
		return -1;
	for (size_t i = 0; i < argc; i++)
		if (put_str(buf, cap, &off, argv[i]))
			return -1;
	for (size_t i = 0; i < envc; i++)
		if (put_str(buf, cap, &off, envp[i]))
			return -1;
	if (put_str(buf, cap, &off, cwd))
		return -1;
	return (ssize_t)off;
}

/* Take the next NUL-terminated string at *off; -1 if none is complete. */
static int take_str(const char *buf, size_t len, size_t *off, const char **out)
{
	const char *end;

	if (*off >= len)
		return -1;
	end = memchr(buf + *off, '\0', len - *off);
	if (!end)
		return -1;
	*out = buf + *off;
	*off = (size_t)(end - buf) + 1;
	return 0;
}

int proto_unpack_spawn(const char *buf, size_t len, struct proto_spawn *sp,
		       char **argv, char **envp, size_t max_strings)
{
	uint32_t argc, envc;
	size_t off = 2 * sizeof(uint32_t);
	const char *s;

	if (len < off)
		return -1;
	memcpy(&argc, buf, sizeof(argc));
	memcpy(&envc, buf + sizeof(argc), sizeof(envc));
	if (argc == 0 || argc > max_strings || envc > max_strings)
		return -1;
	for (uint32_t i = 0; i < argc; i++) {
		if (take_str(buf, len, &off, &s))
			return -1;
		argv[i] = (char *)s;
	}
	argv[argc] = NULL;
	for (uint32_t i = 0; i < envc; i++) {
		if (take_str(buf, len, &off, &s))
			return -1;
		envp[i] = (char *)s;
	}
	envp[envc] = NULL;
	if (take_str(buf, len, &off, &sp->cwd) || off != len)
		return -1;
	sp->argv = argv;
	sp->envp = envp;
	sp->argc = argc;
	sp->envc = envc;
	return 0;
}

ssize_t proto_pack_open(char *buf, size_t cap, uint32_t mode, const char *path)
{
	size_t off = 0;

	if (put_u32(buf, cap, &off, mode) || put_str(buf, cap, &off, path))
		return -1;
	return (ssize_t)off;
}

int proto_unpack_open(const char *buf, size_t len, uint32_t *mode,
		      const char **path)
{
	size_t off = sizeof(uint32_t);

	if (len < off)
		return -1;
	memcpy(mode, buf, sizeof(*mode));
	if (take_str(buf, len, &off, path) || off != len || (*path)[0] == '\0')
		return -1;
	return 0;
}

/* sendmsg of iov with fds beside it; -1 with errno unless all was sent. */
static int send_iov(int sock, struct iovec *iov, int niov, size_t total,
		    const int *fds, int nfds, int maxfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * PROTO_MAX_RAW_FDS)];
		struct cmsghdr align;
	} ctl;
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t)niov };
	ssize_t n;

	if (nfds < 0 || nfds > maxfds) {
		errno = EMSGSIZE;
		return -1;
	}
	if (nfds > 0) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * (size_t)nfds);
	}
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if ((size_t)n != total) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

int proto_send(int sock, uint32_t type, uint32_t id, int32_t arg,
	       const void *payload, size_t len, const int *fds, int nfds)
{
	struct proto_hdr hdr = { type, id, arg, (uint32_t)len };
	struct iovec iov[2] = {
		{ &hdr, sizeof(hdr) },
		{ (void *)payload, len },
	};

	if (len > PROTO_MAX_MSG) {
		errno = EMSGSIZE;
		return -1;
	}
	return send_iov(sock, iov, len ? 2 : 1, sizeof(hdr) + len, fds, nfds, PROTO_MAX_FDS);
}

int proto_send_raw(int sock, const void *buf, size_t len, const int *fds, int nfds)
{
	struct iovec iov = { (void *)buf, len };

	return send_iov(sock, &iov, 1, len, fds, nfds, PROTO_MAX_RAW_FDS);
}

static void close_fds(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

/* recvmsg with fds collected into fds[]; returns the byte count or -1. */
static ssize_t recv_fds(int sock, struct msghdr *msg, int *fds, int *nfds, int maxfds)
{
	ssize_t n;

	*nfds = 0;
	do
		n = recvmsg(sock, msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));

		for (int i = 0; i < k; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + (size_t)i * sizeof(int), sizeof(int));
			if (*nfds < maxfds)
				fds[(*nfds)++] = fd;
			else
				close(fd);
		}
	}
	return n;
}

ssize_t proto_recv_raw(int sock, void *buf, size_t cap, int *fds, int *nfds)
{
	struct iovec iov = { buf, cap };
	union {
		char buf[CMSG_SPACE(sizeof(int) * PROTO_MAX_RAW_FDS)];
		struct cmsghdr align;
	} ctl;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	ssize_t n = recv_fds(sock, &msg, fds, nfds, PROTO_MAX_RAW_FDS);

	if (n == 0) {
		/* Callers take 0 for EOF; an empty datagram's fds must not leak. */
		close_fds(fds, *nfds);
		*nfds = 0;
	} else if (n > 0 && (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		close_fds(fds, *nfds);
		*nfds = 0;
		errno = EBADMSG;
		return -1;
	}
	return n;
}

ssize_t proto_recv(int sock, struct proto_hdr *hdr, void *buf, size_t cap,
		   int *fds, int *nfds)
{
	struct iovec iov[2] = {
		{ hdr, sizeof(*hdr) },
		{ buf, cap },
	};
	union {
		char buf[CMSG_SPACE(sizeof(int) * PROTO_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct msghdr msg = {
		.msg_iov = iov, .msg_iovlen = 2,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	ssize_t n = recv_fds(sock, &msg, fds, nfds, PROTO_MAX_FDS);

	if (n < 0)
		return -1;
	if (n == 0) {
		memset(hdr, 0, sizeof(*hdr));
		close_fds(fds, *nfds);
		*nfds = 0;
		return 0;
	}
	if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
	    (size_t)n < sizeof(*hdr) || hdr->len != (size_t)n - sizeof(*hdr)) {
		close_fds(fds, *nfds);
		*nfds = 0;
		errno = EBADMSG;
		return -1;
	}
	return (ssize_t)hdr->len;
}

void proto_size_buffers(int sock, int max)
{
	int size = 2 * max + 4096;

	if (setsockopt(sock, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	if (setsockopt(sock, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}
