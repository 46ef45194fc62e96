/*
 * test_proto.c - cmocka tests of common/proto.c: the SPAWN and OPEN payload
 * codecs, and proto_send/proto_recv over a real AF_UNIX SOCK_SEQPACKET
 * socketpair, fds and all.
 *
 * The sandbox side of the channel is hostile, so the receive tests also
 * hand-craft datagrams with raw sendmsg: lying lengths, short headers, too
 * many fds, empty datagrams. Every socket test checks that no fd leaked.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "proto.h"

/* A copy of n bytes in a heap block of exactly n bytes (ASan bounds). */
static char *exact_copy(const void *p, size_t n)
{
	char *c = malloc(n ? n : 1);

	assert_non_null(c);
	memcpy(c, p, n);
	return c;
}

static void put_u32(char *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* ---- SPAWN payload ---- */

/*
 * Decode from an exact-size copy with arrays of exactly max + 1 entries.
 * The strings point into the copy: free it with spawn_free.
 */
struct decoded {
	char *buf;
	char **argv, **envp;
};

static int unpack_spawn(const char *buf, size_t len, struct proto_spawn *sp,
			size_t max, struct decoded *d)
{
	int r;

	d->buf = exact_copy(buf, len);
	d->argv = calloc(max + 1, sizeof(char *));
	d->envp = calloc(max + 1, sizeof(char *));
	assert_non_null(d->argv);
	assert_non_null(d->envp);
	r = proto_unpack_spawn(d->buf, len, sp, d->argv, d->envp, max);
	if (r == 0) {
		assert_ptr_equal(sp->argv, d->argv);
		assert_ptr_equal(sp->envp, d->envp);
	}
	return r;
}

static void spawn_free(struct decoded *d)
{
	free(d->buf);
	free(d->argv);
	free(d->envp);
}

/* A decode that must fail. */
static void unpack_spawn_fails(const char *buf, size_t len, size_t max)
{
	struct proto_spawn sp;
	struct decoded d;

	if (unpack_spawn(buf, len, &sp, max, &d) != -1)
		fail_msg("a %zu-byte SPAWN payload decoded", len);
	spawn_free(&d);
}

static void test_spawn_roundtrip(void **state)
{
	char *argv[] = { "/bin/ls", "-l", "", "a b", NULL };
	char *envp[] = { "PATH=/usr/bin", "EMPTY=", NULL };
	char buf[256];
	ssize_t n = proto_pack_spawn(buf, sizeof(buf), argv, envp, "/home/user");
	struct proto_spawn sp;
	struct decoded d;

	assert_true(n > 0);
	assert_int_equal(unpack_spawn(buf, (size_t)n, &sp, 8, &d), 0);
	assert_int_equal(sp.argc, 4);
	assert_int_equal(sp.envc, 2);
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(sp.argv[i], argv[i]);
	assert_null(sp.argv[4]);
	assert_string_equal(sp.envp[0], "PATH=/usr/bin");
	assert_string_equal(sp.envp[1], "EMPTY=");
	assert_null(sp.envp[2]);
	spawn_free(&d);
}

static void test_spawn_layout(void **state)
{
	char *argv[] = { "sh", NULL };
	char *envp[] = { "A=1", NULL };
	char buf[64], want[] = "argcenvcsh\0A=1\0/\0";
	ssize_t n = proto_pack_spawn(buf, sizeof(buf), argv, envp, "/");

	/* The counts are host-endian u32s (both ends run on one host). */
	put_u32(want, 1);
	put_u32(want + 4, 1);
	assert_int_equal(n, sizeof(want) - 1);
	assert_memory_equal(buf, want, (size_t)n);
}

static void test_spawn_no_env(void **state)
{
	char *argv[] = { "true", NULL };
	char *empty[] = { NULL };
	char buf[64];
	struct proto_spawn sp;
	struct decoded d;
	ssize_t n;

	n = proto_pack_spawn(buf, sizeof(buf), argv, NULL, "/");
	assert_int_equal(n, 8 + 5 + 2);
	assert_int_equal(unpack_spawn(buf, (size_t)n, &sp, 1, &d), 0);
	assert_int_equal(sp.envc, 0);
	assert_null(sp.envp[0]);
	assert_string_equal(sp.cwd, "/");
	spawn_free(&d);
	assert_int_equal(proto_pack_spawn(buf, sizeof(buf), argv, empty, "/"), n);
}

static void test_spawn_pack_rejects(void **state)
{
	char *argv[] = { "x", NULL };
	char *empty[] = { NULL };
	char buf[64];

	assert_int_equal(proto_pack_spawn(buf, sizeof(buf), NULL, NULL, "/"), -1);
	assert_int_equal(proto_pack_spawn(buf, sizeof(buf), empty, NULL, "/"), -1);
	assert_int_equal(proto_pack_spawn(buf, sizeof(buf), argv, NULL, NULL), -1);
}

static void test_spawn_pack_cap(void **state)
{
	char *argv[] = { "/usr/bin/env", "-i", NULL };
	char *envp[] = { "HOME=/home/user", NULL };
	char big[128];
	ssize_t need = proto_pack_spawn(big, sizeof(big), argv, envp, "/tmp");

	assert_true(need > 0);
	/* Every cap short of the need fails without writing past it. */
	for (size_t cap = 0; cap <= (size_t)need; cap++) {
		char *buf = malloc(cap ? cap : 1);
		ssize_t n;

		assert_non_null(buf);
		n = proto_pack_spawn(buf, cap, argv, envp, "/tmp");
		if (cap < (size_t)need) {
			assert_int_equal(n, -1);
		} else {
			assert_int_equal(n, need);
			assert_memory_equal(buf, big, cap);
		}
		free(buf);
	}
}

static void test_spawn_pack_max_msg(void **state)
{
	/* A spawn that fills a whole message still fits; one byte more not. */
	size_t arglen = PROTO_MAX_MSG - 8 - 2 - 1;
	char *arg = malloc(arglen + 1), *buf = malloc(PROTO_MAX_MSG);
	char *argv[] = { arg, NULL };

	assert_non_null(arg);
	assert_non_null(buf);
	memset(arg, 'a', arglen);
	arg[arglen] = '\0';
	assert_int_equal(proto_pack_spawn(buf, PROTO_MAX_MSG, argv, NULL, "/"),
			 PROTO_MAX_MSG);
	assert_int_equal(proto_pack_spawn(buf, PROTO_MAX_MSG, argv, NULL, "/x"), -1);
	free(arg);
	free(buf);
}

static void test_spawn_unpack_short(void **state)
{
	static const char zeros[8] = { 0 };

	for (size_t len = 0; len < 8; len++)
		unpack_spawn_fails(zeros, len, 4);
}

/* A payload with the given counts and n strings "s0", "s1", ... */
static size_t spawn_payload(char *buf, uint32_t argc, uint32_t envc, size_t n)
{
	size_t off = 8;

	put_u32(buf, argc);
	put_u32(buf + 4, envc);
	for (size_t i = 0; i < n; i++) {
		buf[off++] = 's';
		buf[off++] = (char)('0' + i % 10);
		buf[off++] = '\0';
	}
	return off;
}

static void test_spawn_unpack_counts(void **state)
{
	char buf[256];
	struct proto_spawn sp;
	struct decoded d;
	size_t len;

	/* argc 0 is refused. */
	len = spawn_payload(buf, 0, 0, 1);
	unpack_spawn_fails(buf, len, 4);
	/* Exactly max_strings of each is fine... */
	len = spawn_payload(buf, 4, 4, 9);
	assert_int_equal(unpack_spawn(buf, len, &sp, 4, &d), 0);
	assert_int_equal(sp.argc, 4);
	assert_int_equal(sp.envc, 4);
	assert_string_equal(sp.argv[3], "s3");
	assert_string_equal(sp.envp[3], "s7");
	assert_string_equal(sp.cwd, "s8");
	spawn_free(&d);
	/* ...one more of either is not, even with the strings there. */
	len = spawn_payload(buf, 5, 4, 10);
	unpack_spawn_fails(buf, len, 4);
	len = spawn_payload(buf, 4, 5, 10);
	unpack_spawn_fails(buf, len, 4);
	/* max_strings 0 leaves no room for argv[0]. */
	len = spawn_payload(buf, 1, 0, 2);
	unpack_spawn_fails(buf, len, 0);
}

static void test_spawn_unpack_huge_counts(void **state)
{
	static const uint32_t counts[][2] = {
		{ UINT32_MAX, 0 }, { 1, UINT32_MAX }, { UINT32_MAX, UINT32_MAX },
		{ 0x80000000u, 0x80000000u }, { 100000, 100000 }, { 1, 99999 },
	};
	char buf[64];

	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		size_t len = spawn_payload(buf, counts[i][0], counts[i][1], 3);

		/* Counts within max_strings but far beyond the strings present:
		 * the decoder runs out of bytes, not out of array. */
		unpack_spawn_fails(buf, len, 100000);
		/* And against a small max, refused up front. */
		unpack_spawn_fails(buf, len, 2);
	}
}

static void test_spawn_unpack_every_truncation(void **state)
{
	char *argv[] = { "prog", "arg", NULL };
	char *envp[] = { "K=V", NULL };
	char buf[128];
	ssize_t n = proto_pack_spawn(buf, sizeof(buf), argv, envp, "/cwd");

	assert_true(n > 0);
	for (size_t len = 0; len < (size_t)n; len++)
		unpack_spawn_fails(buf, len, 8);
}

static void test_spawn_unpack_malformed(void **state)
{
	char buf[64];
	size_t len;

	/* The cwd is missing. */
	len = spawn_payload(buf, 1, 1, 2);
	unpack_spawn_fails(buf, len, 4);
	/* Bytes after the cwd, even a lone NUL. */
	len = spawn_payload(buf, 1, 0, 2);
	buf[len] = '\0';
	unpack_spawn_fails(buf, len + 1, 4);
	buf[len] = 'x';
	unpack_spawn_fails(buf, len + 1, 4);
	/* The last string is not terminated. */
	len = spawn_payload(buf, 1, 0, 2);
	buf[len - 1] = 'z';
	unpack_spawn_fails(buf, len, 4);
	/* No strings at all. */
	len = spawn_payload(buf, 1, 0, 0);
	unpack_spawn_fails(buf, len, 4);
}

static void test_spawn_unpack_empty_strings(void **state)
{
	/* Framing allows empty strings (the init's exec then fails). */
	char buf[] = "argcenvc\0\0\0";
	struct proto_spawn sp;
	struct decoded d;

	put_u32(buf, 1);
	put_u32(buf + 4, 1);
	assert_int_equal(unpack_spawn(buf, sizeof(buf) - 1, &sp, 1, &d), 0);
	assert_string_equal(sp.argv[0], "");
	assert_string_equal(sp.envp[0], "");
	assert_string_equal(sp.cwd, "");
	spawn_free(&d);
}

static void test_spawn_unpack_points_into_buf(void **state)
{
	char *argv[] = { "a", NULL };
	char buf[64];
	ssize_t n = proto_pack_spawn(buf, sizeof(buf), argv, NULL, "/");
	char *av[2], *ev[2];
	struct proto_spawn sp;

	assert_int_equal(proto_unpack_spawn(buf, (size_t)n, &sp, av, ev, 1), 0);
	assert_ptr_equal(sp.argv[0], buf + 8);
	assert_ptr_equal(sp.cwd, buf + 10);
}

/* ---- OPEN payload ---- */

static void test_open_roundtrip(void **state)
{
	static const uint32_t modes[] = { 0, 0644, 0777, UINT32_MAX };
	char buf[64];

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		ssize_t n = proto_pack_open(buf, sizeof(buf), modes[i], "/home/user/f");
		char *copy;
		const char *path;
		uint32_t mode = 1;

		assert_int_equal(n, 4 + 13);
		copy = exact_copy(buf, (size_t)n);
		assert_int_equal(proto_unpack_open(copy, (size_t)n, &mode, &path), 0);
		assert_int_equal(mode, modes[i]);
		assert_string_equal(path, "/home/user/f");
		assert_ptr_equal(path, copy + 4);
		free(copy);
	}
}

static void test_open_pack_cap(void **state)
{
	for (size_t cap = 0; cap <= 8; cap++) {
		char *buf = malloc(cap ? cap : 1);

		assert_non_null(buf);
		assert_int_equal(proto_pack_open(buf, cap, 0600, "/ab"), cap < 8 ? -1 : 8);
		free(buf);
	}
}

static void test_open_unpack_malformed(void **state)
{
	static const struct {
		const char *bytes;
		size_t len;
	} bad[] = {
		{ "", 0 },
		{ "\0", 1 },
		{ "\0\0\0", 3 },
		{ "\0\0\0\0", 4 },            /* no path */
		{ "\0\0\0\0\0", 5 },          /* empty path */
		{ "\0\0\0\0/x", 6 },          /* not terminated */
		{ "\0\0\0\0/x\0\0", 8 },      /* trailing NUL */
		{ "\0\0\0\0/x\0y", 8 },       /* trailing byte */
		{ "\0\0\0\0/x\0/y\0", 10 },   /* two paths */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *copy = exact_copy(bad[i].bytes, bad[i].len);
		const char *path;
		uint32_t mode;

		if (proto_unpack_open(copy, bad[i].len, &mode, &path) != -1)
			fail_msg("OPEN payload %zu decoded", i);
		free(copy);
	}
}

/* ---- proto_send / proto_recv ---- */

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

struct chan {
	int sv[2];
	int fds_before;
};

static int chan_setup(void **state)
{
	struct chan *c = malloc(sizeof(*c));

	if (!c)
		return -1;
	c->fds_before = count_fds();
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c->sv) < 0) {
		free(c);
		return -1;
	}
	*state = c;
	return 0;
}

/* Closes the pair and fails the test if any other fd was left open. */
static int chan_teardown(void **state)
{
	struct chan *c = *state;
	int before = c->fds_before;

	if (c->sv[0] >= 0)
		close(c->sv[0]);
	if (c->sv[1] >= 0)
		close(c->sv[1]);
	free(c);
	if (count_fds() != before) {
		print_error("leaked %d fds\n", count_fds() - before);
		return -1;
	}
	return 0;
}

static void test_send_recv_basic(void **state)
{
	struct chan *c = *state;
	struct proto_hdr h;
	char buf[64];
	int fds[PROTO_MAX_FDS], nfds = -1;

	assert_int_equal(proto_send(c->sv[0], PROTO_SPAWNED, 7, 1234, "hello", 5, NULL, 0), 0);
	assert_int_equal(proto_recv(c->sv[1], &h, buf, sizeof(buf), fds, &nfds), 5);
	assert_int_equal(h.type, PROTO_SPAWNED);
	assert_int_equal(h.id, 7);
	assert_int_equal(h.arg, 1234);
	assert_int_equal(h.len, 5);
	assert_memory_equal(buf, "hello", 5);
	assert_int_equal(nfds, 0);
	/* The other direction, and extreme header values. */
	assert_int_equal(proto_send(c->sv[1], UINT32_MAX, UINT32_MAX, INT32_MIN, "x", 1,
				    NULL, 0), 0);
	assert_int_equal(proto_recv(c->sv[0], &h, buf, sizeof(buf), fds, &nfds), 1);
	assert_int_equal(h.type, UINT32_MAX);
	assert_int_equal(h.id, UINT32_MAX);
	assert_int_equal(h.arg, INT32_MIN);
}

static void test_send_recv_empty_payload(void **state)
{
	struct chan *c = *state;
	struct proto_hdr h;
	char buf[16];
	int fds[PROTO_MAX_FDS], nfds;

	/* A header-only message also returns 0; hdr.type tells it from EOF. */
	assert_int_equal(proto_send(c->sv[0], PROTO_READY, 0, -1, NULL, 0, NULL, 0), 0);
	memset(&h, 0xff, sizeof(h));
	assert_int_equal(proto_recv(c->sv[1], &h, buf, sizeof(buf), fds, &nfds), 0);
	assert_int_equal(h.type, PROTO_READY);
	assert_int_equal(h.arg, -1);
	assert_int_equal(h.len, 0);
	/* A zero-capacity buffer takes header-only messages. */
	assert_int_equal(proto_send(c->sv[0], PROTO_KILL, 3, 9, "", 0, NULL, 0), 0);
	assert_int_equal(proto_recv(c->sv[1], &h, NULL, 0, fds, &nfds), 0);
	assert_int_equal(h.type, PROTO_KILL);
}

static void test_send_recv_max_msg(void **state)
{
	struct chan *c = *state;
	struct proto_hdr h;
	char *out = malloc(PROTO_MAX_MSG + 1), *in = malloc(PROTO_MAX_MSG);
	int fds[PROTO_MAX_FDS], nfds;

	assert_non_null(out);
	assert_non_null(in);
	for (size_t i = 0; i < PROTO_MAX_MSG + 1; i++)
		out[i] = (char)(i * 7);
	assert_int_equal(proto_send(c->sv[0], PROTO_SPAWN, 1, 0, out, PROTO_MAX_MSG, NULL,
				    0), 0);
	assert_int_equal(proto_recv(c->sv[1], &h, in, PROTO_MAX_MSG, fds, &nfds),
			 PROTO_MAX_MSG);
	assert_memory_equal(in, out, PROTO_MAX_MSG);
	/* One byte more is refused before anything is sent. */
	errno = 0;
	assert_int_equal(proto_send(c->sv[0], PROTO_SPAWN, 1, 0, out, PROTO_MAX_MSG + 1,
				    NULL, 0), -1);
	assert_int_equal(errno, EMSGSIZE);
	free(out);
	free(in);
}

static void test_send_bad_nfds(void **state)
{
	struct chan *c = *state;
	int fds[PROTO_MAX_FDS + 1] = { 0, 0, 0, 0, 0, 0 };
	struct proto_hdr h;
	int rfds[PROTO_MAX_FDS], nfds;

	errno = 0;
	assert_int_equal(proto_send(c->sv[0], 1, 1, 0, NULL, 0, fds, PROTO_MAX_FDS + 1), -1);
	assert_int_equal(errno, EMSGSIZE);
	errno = 0;
	assert_int_equal(proto_send(c->sv[0], 1, 1, 0, NULL, 0, fds, -1), -1);
	assert_int_equal(errno, EMSGSIZE);
	/* Nothing was sent. */
	assert_int_equal(fcntl(c->sv[1], F_SETFL, O_NONBLOCK), 0);
	errno = 0;
	assert_int_equal(proto_recv(c->sv[1], &h, NULL, 0, rfds, &nfds), -1);
	assert_int_equal(errno, EAGAIN);
}

static void test_send_bad_fd(void **state)
{
	struct chan *c = *state;
	int fds[1] = { 1000000 };

	errno = 0;
	assert_int_equal(proto_send(c->sv[0], 1, 1, 0, NULL, 0, fds, 1), -1);
	assert_int_equal(errno, EBADF);
}

/* True if fd's write end reaches the pipe whose read end is rd. */
static int pipe_connected(int wr, int rd)
{
	char b = 0;

	return write(wr, "!", 1) == 1 && read(rd, &b, 1) == 1 && b == '!';
}

static void test_send_recv_fds(void **state)
{
	struct chan *c = *state;
	int p[PROTO_MAX_FDS][2], out[PROTO_MAX_FDS], fds[PROTO_MAX_FDS], nfds = -1;
	struct proto_hdr h;
	char buf[16];

	for (int i = 0; i < PROTO_MAX_FDS; i++) {
		assert_int_equal(pipe(p[i]), 0);
		out[i] = p[i][1];
	}
	for (int k = 1; k <= PROTO_MAX_FDS; k++) {
		assert_int_equal(proto_send(c->sv[0], PROTO_SPAWN, (uint32_t)k,
					    PROTO_SPAWN_EXECFD, "p", 1, out, k), 0);
		memset(fds, -1, sizeof(fds));
		assert_int_equal(proto_recv(c->sv[1], &h, buf, sizeof(buf), fds, &nfds), 1);
		assert_int_equal(h.id, k);
		assert_int_equal(nfds, k);
		for (int i = 0; i < k; i++) {
			/* New descriptors for the same pipes, close-on-exec. */
			assert_true(fds[i] >= 0);
			assert_int_not_equal(fds[i], out[i]);
			assert_true(fcntl(fds[i], F_GETFD) & FD_CLOEXEC);
			assert_true(pipe_connected(fds[i], p[i][0]));
			close(fds[i]);
		}
	}
	for (int i = 0; i < PROTO_MAX_FDS; i++) {
		close(p[i][0]);
		close(p[i][1]);
	}
}

static void test_send_recv_fds_no_payload(void **state)
{
	struct chan *c = *state;
	int p[2], fds[PROTO_MAX_FDS], nfds;
	struct proto_hdr h;

	assert_int_equal(pipe(p), 0);
	assert_int_equal(proto_send(c->sv[0], PROTO_OPENED, 5, 0, NULL, 0, &p[1], 1), 0);
	assert_int_equal(proto_recv(c->sv[1], &h, NULL, 0, fds, &nfds), 0);
	assert_int_equal(h.type, PROTO_OPENED);
	assert_int_equal(nfds, 1);
	assert_true(pipe_connected(fds[0], p[0]));
	close(fds[0]);
	close(p[0]);
	close(p[1]);
}

static void test_recv_truncated(void **state)
{
	struct chan *c = *state;
	char payload[100], buf[50];
	int p[2], fds[PROTO_MAX_FDS], nfds = -1;
	struct proto_hdr h;

	memset(payload, 'q', sizeof(payload));
	assert_int_equal(pipe(p), 0);
	/* Larger than the receiver's buffer: refused, and the fd that came
	 * with it is closed, not leaked. */
	assert_int_equal(proto_send(c->sv[0], PROTO_SPAWN, 1, 0, payload, sizeof(payload),
				    &p[1], 1), 0);
	close(p[1]);
	errno = 0;
	assert_int_equal(proto_recv(c->sv[1], &h, buf, sizeof(buf), fds, &nfds), -1);
	assert_int_equal(errno, EBADMSG);
	assert_int_equal(nfds, 0);
	/* The pipe has no writer left: the received copy was closed. */
	assert_int_equal(read(p[0], buf, 1), 0);
	close(p[0]);
	/* The oversized datagram was consumed; the next one reads fine. */
	assert_int_equal(proto_send(c->sv[0], PROTO_KILL, 2, 15, payload, 50, NULL, 0), 0);
	assert_int_equal(proto_recv(c->sv[1], &h, buf, sizeof(buf), fds, &nfds), 50);
	assert_int_equal(h.id, 2);
}

/* Send raw bytes with nfds copies of fd, as a hostile peer would. */
static ssize_t raw_send(int sock, const void *data, size_t len, int fd, int nfds)
{
	struct iovec iov = { (void *)data, len };
	union {
		char buf[CMSG_SPACE(sizeof(int) * 32)];
		struct cmsghdr align;
	} ctl;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };

	assert_true(nfds <= 32);
	if (nfds > 0) {
		struct cmsghdr *cm;

		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		for (int i = 0; i < nfds; i++)
			memcpy(CMSG_DATA(cm) + (size_t)i * sizeof(int), &fd, sizeof(int));
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL);
}

static void test_recv_hostile_headers(void **state)
{
	struct chan *c = *state;
	struct proto_hdr lie;
	char dgram[sizeof(lie) + 32], buf[256];
	int p[2], fds[PROTO_MAX_FDS], nfds;
	struct proto_hdr h;
	static const uint32_t lies[] = { 33, 31, 0, 1000, UINT32_MAX, 0x80000000u };

	assert_int_equal(pipe(p), 0);
	memset(dgram, 'd', sizeof(dgram));
	for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
		/* 32 payload bytes, a header claiming otherwise. */
		lie = (struct proto_hdr){ PROTO_SPAWNED, 1, 0, lies[i] };
		memcpy(dgram, &lie, sizeof(lie));
		assert_int_equal(raw_send(c->sv[0], dgram, sizeof(dgram), p[1], 2),
				 sizeof(dgram));
		errno = 0;
		assert_int_equal(proto_recv(c->sv[1], &h, buf, sizeof(buf), fds, &nfds), -1);
		assert_int_equal(errno, EBADMSG);
		assert_int_equal(nfds, 0);
	}
	/* Shorter than a header, with fds. */
	for (size_t len = 1; len < sizeof(lie); len++) {
		assert_int_equal(raw_send(c->sv[0], dgram, len, p[1], 1), (ssize_t)len);
		errno = 0;
		assert_int_equal(proto_recv(c->sv[1], &h, buf, sizeof(buf), fds, &nfds), -1);
		assert_int_equal(errno, EBADMSG);
		assert_int_equal(nfds, 0);
	}
	close(p[0]);
	close(p[1]);
}

static void test_recv_too_many_fds(void **state)
{
	struct chan *c = *state;
	struct proto_hdr hdr = { PROTO_OPENED, 9, 0, 0 }, h;
	int p[2], fds[PROTO_MAX_FDS + 1], nfds;

	assert_int_equal(pipe(p), 0);
	for (int n = PROTO_MAX_FDS + 1; n <= 16; n++) {
		ssize_t r;

		fds[PROTO_MAX_FDS] = -12345;  /* a canary past the contract's room */
		assert_int_equal(raw_send(c->sv[0], &hdr, sizeof(hdr), p[1], n), sizeof(hdr));
		r = proto_recv(c->sv[1], &h, NULL, 0, fds, &nfds);
		assert_int_equal(fds[PROTO_MAX_FDS], -12345);
		/* Either refused whole, or at most PROTO_MAX_FDS kept and the
		 * rest closed; the fd count check in teardown sees leaks. */
		if (r == -1) {
			assert_int_equal(errno, EBADMSG);
			assert_int_equal(nfds, 0);
		} else {
			assert_int_equal(r, 0);
			assert_true(nfds <= PROTO_MAX_FDS);
			for (int i = 0; i < nfds; i++)
				close(fds[i]);
		}
	}
	close(p[1]);
	close(p[0]);
}

static void test_recv_eof(void **state)
{
	struct chan *c = *state;
	struct proto_hdr h;
	char buf[16];
	int fds[PROTO_MAX_FDS], nfds = -1;

	/* Queued messages are still delivered, then EOF. */
	assert_int_equal(proto_send(c->sv[0], PROTO_EXITED, 4, 0, "ab", 2, NULL, 0), 0);
	close(c->sv[0]);
	c->sv[0] = -1;
	assert_int_equal(proto_recv(c->sv[1], &h, buf, sizeof(buf), fds, &nfds), 2);
	assert_int_equal(h.type, PROTO_EXITED);
	memset(&h, 0xff, sizeof(h));
	assert_int_equal(proto_recv(c->sv[1], &h, buf, sizeof(buf), fds, &nfds), 0);
	assert_int_equal(h.type, 0);
	assert_int_equal(h.id, 0);
	assert_int_equal(h.arg, 0);
	assert_int_equal(h.len, 0);
	assert_int_equal(nfds, 0);
	/* EOF stays EOF. */
	assert_int_equal(proto_recv(c->sv[1], &h, buf, sizeof(buf), fds, &nfds), 0);
}

static void test_recv_empty_datagram_with_fds(void **state)
{
	struct chan *c = *state;
	struct proto_hdr h;
	int p[2], fds[PROTO_MAX_FDS], nfds = -1;
	char b;

	/* A hostile peer's empty datagram reads as EOF; its fds are closed. */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(raw_send(c->sv[0], "", 0, p[1], 3), 0);
	close(p[1]);
	assert_int_equal(proto_recv(c->sv[1], &h, NULL, 0, fds, &nfds), 0);
	assert_int_equal(h.type, 0);
	assert_int_equal(nfds, 0);
	assert_int_equal(read(p[0], &b, 1), 0);
	close(p[0]);
}

static void test_nonblocking(void **state)
{
	struct chan *c = *state;
	struct proto_hdr h;
	char payload[4096];
	int fds[PROTO_MAX_FDS], nfds, sent = 0;

	assert_int_equal(fcntl(c->sv[0], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(fcntl(c->sv[1], F_SETFL, O_NONBLOCK), 0);
	errno = 0;
	assert_int_equal(proto_recv(c->sv[1], &h, payload, sizeof(payload), fds, &nfds), -1);
	assert_int_equal(errno, EAGAIN);
	memset(payload, 'f', sizeof(payload));
	for (;;) {
		if (proto_send(c->sv[0], PROTO_SPAWN, (uint32_t)sent, 0, payload,
			       sizeof(payload), NULL, 0) < 0)
			break;
		assert_true(++sent < 100000);
	}
	assert_int_equal(errno, EAGAIN);
	assert_true(sent > 0);
	/* Everything sent arrives, in order, with boundaries kept. */
	for (int i = 0; i < sent; i++) {
		assert_int_equal(proto_recv(c->sv[1], &h, payload, sizeof(payload), fds, &nfds),
				 sizeof(payload));
		assert_int_equal(h.id, i);
	}
	assert_int_equal(proto_recv(c->sv[1], &h, payload, sizeof(payload), fds, &nfds), -1);
	assert_int_equal(errno, EAGAIN);
}

static void test_send_to_closed_peer(void **state)
{
	struct chan *c = *state;

	/* EPIPE, not SIGPIPE: the default action would kill this test. */
	close(c->sv[1]);
	c->sv[1] = -1;
	errno = 0;
	assert_int_equal(proto_send(c->sv[0], PROTO_KILL, 1, 9, NULL, 0, NULL, 0), -1);
	assert_int_equal(errno, EPIPE);
}

static void test_recv_bad_socket(void **state)
{
	struct proto_hdr h;
	int fds[PROTO_MAX_FDS], nfds = -1;

	errno = 0;
	assert_int_equal(proto_recv(-1, &h, NULL, 0, fds, &nfds), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(nfds, 0);
}

/* ---- proto_recv_raw ---- */

static void test_recv_raw(void **state)
{
	struct chan *c = *state;
	char buf[8];
	int p[2], fds[PROTO_MAX_RAW_FDS], nfds = -1;

	assert_int_equal(pipe(p), 0);
	assert_int_equal(raw_send(c->sv[0], "{\"a\":1}", 7, p[1], 1), 7);
	assert_int_equal(proto_recv_raw(c->sv[1], buf, sizeof(buf), fds, &nfds), 7);
	assert_memory_equal(buf, "{\"a\":1}", 7);
	assert_int_equal(nfds, 1);
	assert_true(fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
	close(fds[0]);
	/* Larger than cap: EBADMSG, fds closed. */
	assert_int_equal(raw_send(c->sv[0], "123456789", 9, p[1], 2), 9);
	errno = 0;
	assert_int_equal(proto_recv_raw(c->sv[1], buf, sizeof(buf), fds, &nfds), -1);
	assert_int_equal(errno, EBADMSG);
	assert_int_equal(nfds, 0);
	/* An empty datagram reads like EOF, and its fds are closed too. */
	assert_int_equal(raw_send(c->sv[0], "", 0, p[1], 2), 0);
	assert_int_equal(proto_recv_raw(c->sv[1], buf, sizeof(buf), fds, &nfds), 0);
	assert_int_equal(nfds, 0);
	close(p[1]);
	close(p[0]);
	close(c->sv[0]);
	c->sv[0] = -1;
	assert_int_equal(proto_recv_raw(c->sv[1], buf, sizeof(buf), fds, &nfds), 0);
	assert_int_equal(nfds, 0);
}

/* A raw datagram carries up to PROTO_MAX_RAW_FDS fds (an actions batch's
 * images); more are cut by the kernel, and the whole datagram is refused
 * with every fd that came closed. */
static void test_recv_raw_many_fds(void **state)
{
	struct chan *c = *state;
	char buf[8];
	int p[2], fds[PROTO_MAX_RAW_FDS + 1], nfds = -1;

	assert_int_equal(pipe(p), 0);
	fds[PROTO_MAX_RAW_FDS] = -12345;
	assert_int_equal(raw_send(c->sv[0], "{}", 2, p[1], PROTO_MAX_RAW_FDS), 2);
	assert_int_equal(proto_recv_raw(c->sv[1], buf, sizeof(buf), fds, &nfds), 2);
	assert_int_equal(nfds, PROTO_MAX_RAW_FDS);
	assert_int_equal(fds[PROTO_MAX_RAW_FDS], -12345);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	assert_int_equal(raw_send(c->sv[0], "{}", 2, p[1], PROTO_MAX_RAW_FDS + 1), 2);
	errno = 0;
	assert_int_equal(proto_recv_raw(c->sv[1], buf, sizeof(buf), fds, &nfds), -1);
	assert_int_equal(errno, EBADMSG);
	assert_int_equal(nfds, 0);
	assert_int_equal(fds[PROTO_MAX_RAW_FDS], -12345);
	/* The sender's side keeps the same bound. */
	{
		int many[PROTO_MAX_RAW_FDS + 1];

		for (int i = 0; i <= PROTO_MAX_RAW_FDS; i++)
			many[i] = p[1];
		errno = 0;
		assert_int_equal(proto_send_raw(c->sv[0], "{}", 2, many, PROTO_MAX_RAW_FDS + 1), -1);
		assert_int_equal(errno, EMSGSIZE);
	}
	close(p[1]);
	close(p[0]);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, chan_setup, chan_teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spawn_roundtrip),
		cmocka_unit_test(test_spawn_layout),
		cmocka_unit_test(test_spawn_no_env),
		cmocka_unit_test(test_spawn_pack_rejects),
		cmocka_unit_test(test_spawn_pack_cap),
		cmocka_unit_test(test_spawn_pack_max_msg),
		cmocka_unit_test(test_spawn_unpack_short),
		cmocka_unit_test(test_spawn_unpack_counts),
		cmocka_unit_test(test_spawn_unpack_huge_counts),
		cmocka_unit_test(test_spawn_unpack_every_truncation),
		cmocka_unit_test(test_spawn_unpack_malformed),
		cmocka_unit_test(test_spawn_unpack_empty_strings),
		cmocka_unit_test(test_spawn_unpack_points_into_buf),
		cmocka_unit_test(test_open_roundtrip),
		cmocka_unit_test(test_open_pack_cap),
		cmocka_unit_test(test_open_unpack_malformed),
		T(test_send_recv_basic),
		T(test_send_recv_empty_payload),
		T(test_send_recv_max_msg),
		T(test_send_bad_nfds),
		T(test_send_bad_fd),
		T(test_send_recv_fds),
		T(test_send_recv_fds_no_payload),
		T(test_recv_truncated),
		T(test_recv_hostile_headers),
		T(test_recv_too_many_fds),
		T(test_recv_eof),
		T(test_recv_empty_datagram_with_fds),
		T(test_nonblocking),
		T(test_send_to_closed_peer),
		T(test_recv_bad_socket),
		T(test_recv_raw),
		T(test_recv_raw_many_fds),
	};
#undef T

	return cmocka_run_group_tests_name("proto", tests, NULL, NULL);
}
