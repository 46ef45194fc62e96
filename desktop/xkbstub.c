/*
 * xkbstub.c - deskbox-xkbcomp, bound over /usr/bin/xkbcomp inside a
 * host-mode sandbox: serves Xvfb its keymap precompiled.
 *
 * Xvfb compiles its keymap on every start: it runs `sh -c "/usr/bin/xkbcomp
 * -w 1 -R<xkb dir> -xkm - -em1 .. -emp .. -eml .. <out>.xkm"`, writes the
 * keymap's text on xkbcomp's stdin and loads <out>.xkm (xkb/ddxLoad.c;
 * Debian 12's xserver keeps no cache: <out> is server-<display> in
 * /var/lib/xkb or /tmp, removed once loaded). Parsing the rules and
 * symbols is about 10 ms of Xvfb's 30-40 ms start here, on every create.
 * deskboxd compiles the default keymap once, on the host, at start-up
 * (server/keymap.c), and writes the text and the .xkm into each sandbox's
 * own root (read-only) under KEYMAP_DIR, beside the real xkbcomp.
 *
 * When the request is exactly that one (the same xkb directory and, byte
 * for byte, the same text), this copies the .xkm to <out>; anything else is
 * handed to the real xkbcomp unchanged, the text on a memfd as its stdin.
 * It runs as Xvfb's uid (the user's) and trusts nothing it reads: the
 * files it serves are the sandbox's own, which no other sandbox sees.
 * Static, like deskbox-init: nothing to load, about a millisecond.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "keymapdir.h"

/* The keymap text is a few hundred bytes; more is not the one we have. */
#define XKBSTUB_MAX_TEXT 65536

/* Read all of fd into buf (at most cap bytes). Returns the length, or -1
 * on an error or when there is more than cap. */
static ssize_t xkbstub_read_all(int fd, char *buf, size_t cap)
{
	size_t got = 0;

	for (;;) {
		ssize_t n = read(fd, buf + got, cap - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return (ssize_t)got;
		got += (size_t)n;
		if (got == cap) {
			char extra;

			while ((n = read(fd, &extra, 1)) < 0 && errno == EINTR)
				;
			return n == 0 ? (ssize_t)got : -1;
		}
	}
}

static int xkbstub_write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Xvfb's own argument shape (ddxLoad.c): only -R and the text decide what
 * the .xkm holds; -w and the message prefixes change stderr only. */
static int xkbstub_is_xvfb_request(int argc, char **argv)
{
	size_t n;

	if (argc != 13)
		return 0;
	n = strlen(argv[12]);
	return !strcmp(argv[1], "-w") && !strcmp(argv[3], "-R" KEYMAP_XKB_BASE) &&
	       !strcmp(argv[4], "-xkm") && !strcmp(argv[5], "-") &&
	       !strcmp(argv[6], "-em1") && !strcmp(argv[8], "-emp") &&
	       !strcmp(argv[10], "-eml") && argv[12][0] == '/' && n > 4 &&
	       !strcmp(argv[12] + n - 4, ".xkm");
}

/* The file at path equals text[0..len). */
static int xkbstub_same_text(const char *path, const char *text, size_t len)
{
	static char want[XKBSTUB_MAX_TEXT];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = xkbstub_read_all(fd, want, sizeof want);
	close(fd);
	return n == (ssize_t)len && !memcmp(want, text, len);
}

/* Copy the precompiled .xkm to out. Returns 0, or -1 (nothing left at out). */
static int xkbstub_serve(const char *out)
{
	static char xkm[1 << 20];
	int in = open(KEYMAP_DIR "/" KEYMAP_XKM, O_RDONLY | O_CLOEXEC), fd;
	ssize_t n;

	if (in < 0)
		return -1;
	n = xkbstub_read_all(in, xkm, sizeof xkm);
	close(in);
	if (n <= 0)
		return -1;
	/* Xvfb names a fresh file; one left by an Xvfb killed before it
	 * removed it is replaced, never followed. */
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (xkbstub_write_all(fd, xkm, (size_t)n) < 0 || close(fd) < 0) {
		unlink(out);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static char text[XKBSTUB_MAX_TEXT];
	ssize_t len;
	int fd;

	/* Not Xvfb's request (a user's own xkbcomp run, which may read a
	 * terminal or nothing): the real compiler, untouched. */
	if (!xkbstub_is_xvfb_request(argc, argv))
		goto real;
	len = xkbstub_read_all(0, text, sizeof text);
	if (len < 0) {
		fprintf(stderr, "xkbcomp: cannot read the keymap on stdin\n");
		return 1;
	}
	if (xkbstub_same_text(KEYMAP_DIR "/" KEYMAP_TEXT, text, (size_t)len) &&
	    xkbstub_serve(argv[12]) == 0)
		return 0;
	/* Another keymap: the real compiler, with the stdin it would have had. */
	fd = memfd_create("xkbcomp-stdin", MFD_CLOEXEC);
	if (fd < 0 || xkbstub_write_all(fd, text, (size_t)len) < 0 ||
	    lseek(fd, 0, SEEK_SET) < 0 || dup2(fd, 0) < 0) {
		fprintf(stderr, "xkbcomp: %s\n", strerror(errno));
		return 1;
	}
real:
	argv[0] = "/usr/bin/xkbcomp";
	execv(KEYMAP_DIR "/" KEYMAP_REAL, argv);
	fprintf(stderr, "xkbcomp: %s: %s\n", KEYMAP_DIR "/" KEYMAP_REAL, strerror(errno));
	return 1;
}
