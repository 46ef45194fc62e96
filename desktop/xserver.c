/*
 * xserver.c - start and stop the sandbox's Xvfb.
 *
 * The cookie is 16 bytes from getrandom, written as one FamilyWild entry
 * (any host name, this display number) so clients match it whatever the
 * sandbox's hostname is; Xvfb reads the same file with -auth. Readiness
 * comes from -displayfd: Xvfb writes its display number once it listens,
 * so there is no polling for the socket. Xvfb gets PDEATHSIG SIGKILL: it
 * never outlives the agent. Owns the Xvfb process and its pidfd; touched
 * only from the agent's loop (start-up, child reaping, shutdown).
 */
#include "xserver.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"
#include "spawn.h"

#define XSERVER_BIN "/usr/bin/Xvfb"
#define XSERVER_READY_MS 15000
#define XSERVER_STOP_MS 2000
#define XSERVER_FAMILY_WILD 0xffff
#define XSERVER_AUTH_NAME "MIT-MAGIC-COOKIE-1"

static int xserver_socket_dir(char *err, size_t errlen)
{
	const char *dir = "/tmp/.X11-unix";

	if (mkdir(dir, 01777) == 0) {
		if (chmod(dir, 01777) == 0)   /* the umask took bits off */
			return 0;
	} else if (errno == EEXIST) {
		return 0;
	}
	snprintf(err, errlen, "%s: %s", dir, strerror(errno));
	return -1;
}

static uint8_t *xserver_put(uint8_t *p, const void *data, size_t len)
{
	*p++ = (uint8_t)(len >> 8);
	*p++ = (uint8_t)len;
	memcpy(p, data, len);
	return p + len;
}

/* One Xauthority entry: family, address, number, name, data; each a
 * big-endian 16-bit length and bytes (the family is just the 16 bits). */
static int xserver_write_xauth(const char *path, int display,
			       const uint8_t cookie[16], char *err, size_t errlen)
{
	uint8_t buf[128], *p = buf;
	char num[16], tmp[4096];
	int fd = -1, n = snprintf(num, sizeof num, "%d", display);

	*p++ = XSERVER_FAMILY_WILD >> 8;
	*p++ = XSERVER_FAMILY_WILD & 0xff;
	p = xserver_put(p, "", 0);
	p = xserver_put(p, num, (size_t)n);
	p = xserver_put(p, XSERVER_AUTH_NAME, strlen(XSERVER_AUTH_NAME));
	p = xserver_put(p, cookie, 16);
	if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp) {
		snprintf(err, errlen, "xauth path too long");
		return -1;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		goto fail;
	if (write(fd, buf, (size_t)(p - buf)) != p - buf || close(fd) < 0) {
		fd = -1;
		unlink(tmp);
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		unlink(tmp);
		goto fail;
	}
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", path, strerror(errno));
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	return -1;
}

static int64_t xserver_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static long xserver_ms_left(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (deadline->tv_sec - now.tv_sec) * 1000 +
	       (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/* Read Xvfb's "N\n" from -displayfd. Returns 0, or -1 with err. */
static int xserver_wait_ready(struct xserver *xs, int fd, int display,
			      char *err, size_t errlen)
{
	struct timespec deadline;
	char buf[32];
	size_t got = 0;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += XSERVER_READY_MS / 1000;
	while (!memchr(buf, '\n', got)) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		long left = xserver_ms_left(&deadline);
		ssize_t n;

		if (left <= 0) {
			snprintf(err, errlen, "Xvfb not ready after %d ms", XSERVER_READY_MS);
			return -1;
		}
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			goto fail;
		n = read(fd, buf + got, sizeof buf - 1 - got);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			goto fail;
		if (n == 0 || (got += (size_t)n) == sizeof buf - 1) {
			char why[96];

			xserver_describe_exit(xs, 1000, why, sizeof why);
			snprintf(err, errlen, "Xvfb did not start: %s", why);
			return -1;
		}
	}
	buf[got] = 0;
	if (atoi(buf) != display) {
		snprintf(err, errlen, "Xvfb reported display %d, not %d", atoi(buf), display);
		return -1;
	}
	return 0;
fail:
	snprintf(err, errlen, "waiting for Xvfb: %s", strerror(errno));
	return -1;
}

int xserver_start(struct xserver *xs, const struct xserver_opts *o,
		  char *err, size_t errlen)
{
	char dfd[16], screen[32], dpi[16];
	int p[2] = {-1, -1};
	char *argv[24];
	int a = 0, r;

	xs->pid = -1;
	xs->pidfd = -1;
	xs->status = -1;
	snprintf(xs->name, sizeof xs->name, ":%d", o->display);
	if (xserver_socket_dir(err, errlen) < 0)
		return -1;
	if (getrandom(xs->cookie, sizeof xs->cookie, 0) != sizeof xs->cookie) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		return -1;
	}
	/* The cookie file is the user's (in their home, read by Xvfb and the
	 * apps). */
	if (spawn_user_fs(1) < 0) {
		spawn_user_fs(0);
		snprintf(err, errlen, "cannot write %s as the user", o->xauth);
		return -1;
	}
	r = xserver_write_xauth(o->xauth, o->display, xs->cookie, err, errlen);
	spawn_user_fs(0);
	if (r < 0)
		return -1;
	if (pipe2(p, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	snprintf(dfd, sizeof dfd, "%d", p[1]);
	snprintf(screen, sizeof screen, "%dx%dx24", o->max_w, o->max_h);
	argv[a++] = XSERVER_BIN;
	argv[a++] = xs->name;
	argv[a++] = "-displayfd";
	argv[a++] = dfd;
	argv[a++] = "-nolisten";
	argv[a++] = "tcp";
	argv[a++] = "-nolisten";
	argv[a++] = "local";
	argv[a++] = "-auth";
	argv[a++] = (char *)o->xauth;
	argv[a++] = "-s";
	argv[a++] = "0";
	argv[a++] = "-dpms";
	argv[a++] = "-noreset";
	if (o->dpi > 0) {
		snprintf(dpi, sizeof dpi, "%d", o->dpi);
		argv[a++] = "-dpi";
		argv[a++] = dpi;
	}
	argv[a++] = "-screen";
	argv[a++] = "0";
	argv[a++] = screen;
	if (!o->gl) {
		argv[a++] = "-extension";
		argv[a++] = "GLX";
	}
	argv[a] = NULL;
	xs->exec_us = xserver_now_us();
	xs->pid = spawn_exec(XSERVER_BIN, argv, p[1], -1, SIGKILL);
	close(p[1]);
	if (xs->pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		goto fail;
	}
	xs->pidfd = (int)syscall(SYS_pidfd_open, xs->pid, 0);
	if (xserver_wait_ready(xs, p[0], o->display, err, errlen) < 0)
		goto fail;
	xs->ready_us = xserver_now_us();
	close(p[0]);
	return 0;
fail:
	close(p[0]);
	xserver_stop(xs);
	return -1;
}

int xserver_reaped(struct xserver *xs, pid_t pid, int status)
{
	if (pid != xs->pid || xs->pid < 0)
		return 0;
	xs->status = status;
	return 1;
}

/* Reap Xvfb if it has ended, waiting up to wait_ms for that. */
static void xserver_try_reap(struct xserver *xs, int wait_ms)
{
	int st;

	if (xs->pid < 0 || xs->status >= 0)
		return;
	if (xs->pidfd >= 0 && wait_ms > 0) {
		struct pollfd pfd = {.fd = xs->pidfd, .events = POLLIN};

		while (poll(&pfd, 1, wait_ms) < 0 && errno == EINTR)
			;
	}
	if (waitpid(xs->pid, &st, WNOHANG) == xs->pid)
		xs->status = st;
}

void xserver_describe_exit(struct xserver *xs, int wait_ms, char *out,
			   size_t outlen)
{
	xserver_try_reap(xs, wait_ms);
	if (xs->status < 0)
		snprintf(out, outlen, "Xvfb is still running");
	else if (WIFSIGNALED(xs->status))
		snprintf(out, outlen, "Xvfb was killed by signal %d (%s)",
			 WTERMSIG(xs->status), strsignal(WTERMSIG(xs->status)));
	else
		snprintf(out, outlen, "Xvfb exited with status %d",
			 WEXITSTATUS(xs->status));
}

void xserver_stop(struct xserver *xs)
{
	if (xs->pid > 0 && xs->status < 0) {
		kill(xs->pid, SIGTERM);
		xserver_try_reap(xs, XSERVER_STOP_MS);
		if (xs->status < 0) {
			kill(xs->pid, SIGKILL);
			if (waitpid(xs->pid, &xs->status, 0) < 0)
				xs->status = 0;
		}
	}
	if (xs->pidfd >= 0)
		close(xs->pidfd);
	xs->pidfd = -1;
	xs->pid = -1;
}
