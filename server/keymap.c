/*
 * keymap.c - Xvfb's default keymap, compiled once on the host at start-up.
 *
 * Every Xvfb start runs `sh -c xkbcomp ...` to compile the same default
 * keymap (Debian 12's xserver caches nothing: xkb/ddxLoad.c), ~10 ms of
 * its 30-40 ms here and the one part of a cold create that does the same
 * work every time. deskboxd runs the host's xkbcomp once on that text,
 * with the -R Xvfb passes, and keeps the .xkm in memory; the jail writes
 * both into each host-mode sandbox's own root (read-only there), where
 * deskbox-xkbcomp (desktop/xkbstub.c), bound over /usr/bin/xkbcomp, serves
 * it when Xvfb asks for exactly that text and runs the real xkbcomp
 * otherwise. No file is shared between sandboxes, so none can change what
 * another one loads. An image sandbox has its own /usr and xkb data: it
 * keeps its own xkbcomp.
 *
 * Runs once from main before the loop (it waits for its child); owns the
 * .xkm buffer. Must never make the fast path differ from the real compile:
 * the text below is what Xvfb 21.1 sends for its defaults (rules evdev,
 * model pc105, layout us), and a different one simply misses.
 */
#include "keymap.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "keymapdir.h"
#include "log.h"

/* A compiled keymap is ~12 KiB; anything past this is not one. */
#define KEYMAP_MAX_XKM (1 << 20)

/* What Xvfb writes on xkbcomp's stdin for its default RMLVO (captured with
 * a stand-in on Debian 12's xvfb 2:21.1.7; XkbWriteXKBKeymapForNames). */
static const char keymap_default_text[] =
	"xkb_keymap \"default\" {\n"
	"    xkb_keycodes             { include \"evdev+aliases(qwerty)\" };\n"
	"    xkb_types                { include \"complete\" };\n"
	"    xkb_compatibility        { include \"complete\" };\n"
	"    xkb_symbols              { include \"pc+us+inet(evdev)\" };\n"
	"    xkb_geometry             { include \"pc(pc105)\" };\n"
	"};\n";

extern char **environ;

/* Run xkbcomp on text; the .xkm it writes to stdout into *out. */
static int keymap_compile(const char *text, unsigned char **out, size_t *outlen)
{
	char *argv[] = { KEYMAP_XKBCOMP, "-w", "1", "-R" KEYMAP_XKB_BASE, "-xkm", "-", "-", NULL };
	int in[2] = { -1, -1 }, res[2] = { -1, -1 }, st, r = -1;
	posix_spawn_file_actions_t fa;
	unsigned char *buf = NULL;
	size_t len = 0, n = strlen(text);
	pid_t pid = -1, got_pid;

	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(res, O_CLOEXEC) < 0)
		goto out;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, res[1], 1);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	errno = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (errno) {
		pid = -1;
		goto out;
	}
	close(in[0]);
	close(res[1]);
	in[0] = res[1] = -1;
	/* The text is far below a pipe's buffer: no deadlock with the reads. */
	if (write(in[1], text, n) != (ssize_t)n)
		goto out;
	close(in[1]);
	in[1] = -1;
	buf = malloc(KEYMAP_MAX_XKM);
	if (!buf)
		goto out;
	for (;;) {
		ssize_t got = read(res[0], buf + len, KEYMAP_MAX_XKM - len);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			goto out;
		if (got == 0)
			break;
		len += (size_t)got;
		if (len == KEYMAP_MAX_XKM) {
			errno = EFBIG;
			goto out;
		}
	}
	while ((got_pid = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	pid = -1;
	if (got_pid < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 || len == 0) {
		errno = EINVAL;
		goto out;
	}
	*out = buf;
	*outlen = len;
	buf = NULL;
	r = 0;
out:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (res[i] >= 0)
			close(res[i]);
	}
	if (pid > 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	free(buf);
	return r;
}

void keymap_prepare(struct keymap *km, const char *exe_dir)
{
	memset(km, 0, sizeof(*km));
	km->text = keymap_default_text;
	snprintf(km->stub, sizeof(km->stub), "%s/deskbox-xkbcomp", exe_dir);
	if (access(km->stub, X_OK) < 0) {
		log_event(NULL, "no %s: Xvfb compiles its keymap on every start", km->stub);
		return;
	}
	if (access(KEYMAP_XKBCOMP, X_OK) < 0)
		return;   /* no xkbcomp, no Xvfb: nothing to speed up */
	if (keymap_compile(km->text, &km->xkm, &km->xkm_len) < 0)
		log_event(NULL, "cannot precompile the keymap (%s): Xvfb compiles it on every start",
			  strerror(errno));
}

void keymap_free(struct keymap *km)
{
	free(km->xkm);
	km->xkm = NULL;
}
