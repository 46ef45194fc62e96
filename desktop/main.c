/*
 * main.c - deskbox-desktop, the desktop agent of one sandbox.
 *
 * Starts Xvfb, connects to it, starts the --app commands, tells deskboxd
 * "ready" on fd 3 and then serves its requests from one poll loop over
 * fd 3, the X connection, a signalfd (SIGCHLD, SIGTERM, SIGINT, SIGHUP)
 * and the VNC viewers' sockets, with the action runner's and the VNC input
 * queue's wake-ups as the poll timeout. It ends when fd 3
 * closes or a signal asks (exit 0) or when the X server goes away (event
 * "display_lost", exit 1), taking Xvfb and the apps with it.
 *
 * Global state: the agent (the Xlib I/O error handler has no user pointer
 * and must reach the channel to say the display is lost). Only start-up
 * code and the two exit paths end the process.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "actions.h"
#include "agent.h"
#include "log.h"
#include "launch.h"
#include "methods.h"
#include "record.h"
#include "session.h"
#include "spawn.h"
#include "util.h"
#include "watch.h"
#include "winops.h"

#define CHAN_FD 3
#define MAX_SIDE 16384

struct opts {
	int width, height, max_w, max_h, gl, display, no_wm;
	int full, dpi;          /* --session full (1) or bare (0); --dpi */
	const char *xauth;
	const char *apps[AGENT_MAX_APPS];
	int napps;
};

static struct agent agent;

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void agent_log(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n = snprintf(line, sizeof(line), "deskbox-desktop: ");

	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(2, line, (size_t)n) < 0) {
		/* nowhere left to say it */
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: deskbox-desktop [--width W --height H] [--max-width MW --max-height MH]\n"
		"                       [--gl] [--no-wm] [--app CMD]... [--display N] [--xauth PATH]\n"
		"                       [--session full|bare] [--dpi N]\n"
		"Serves deskboxd on fd 3 (AF_UNIX SOCK_SEQPACKET). Defaults: 1280x800,\n"
		"max 1920x1080, display 0, xauth $HOME/.Xauthority, session bare, dpi 96.\n");
	exit(2);
}

static int parse_int(const char *s, int lo, int hi, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < lo || v > hi) {
		fprintf(stderr, "deskbox-desktop: %s must be from %d to %d\n", what, lo, hi);
		exit(2);
	}
	return (int)v;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{"width", required_argument, NULL, 'w'},
		{"height", required_argument, NULL, 'h'},
		{"max-width", required_argument, NULL, 'W'},
		{"max-height", required_argument, NULL, 'H'},
		{"gl", no_argument, NULL, 'g'},
		{"no-wm", no_argument, NULL, 'n'},
		{"app", required_argument, NULL, 'a'},
		{"display", required_argument, NULL, 'd'},
		{"xauth", required_argument, NULL, 'x'},
		{"session", required_argument, NULL, 's'},
		{"dpi", required_argument, NULL, 'D'},
		{"help", no_argument, NULL, '?'},
		{NULL, 0, NULL, 0},
	};
	static char xauth[4096];
	const char *home;
	int c;

	*o = (struct opts){.width = 1280, .height = 800, .max_w = 1920, .max_h = 1080, .dpi = 96};
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'w': o->width = parse_int(optarg, 1, MAX_SIDE, "--width"); break;
		case 'h': o->height = parse_int(optarg, 1, MAX_SIDE, "--height"); break;
		case 'W': o->max_w = parse_int(optarg, 1, MAX_SIDE, "--max-width"); break;
		case 'H': o->max_h = parse_int(optarg, 1, MAX_SIDE, "--max-height"); break;
		case 'g': o->gl = 1; break;
		case 'n': o->no_wm = 1; break;
		case 'd': o->display = parse_int(optarg, 0, 65535, "--display"); break;
		case 'x': o->xauth = optarg; break;
		case 'D': o->dpi = parse_int(optarg, 24, 960, "--dpi"); break;
		case 's':
			if (strcmp(optarg, "full") && strcmp(optarg, "bare")) {
				fprintf(stderr, "deskbox-desktop: --session must be full or bare\n");
				exit(2);
			}
			o->full = !strcmp(optarg, "full");
			break;
		case 'a':
			if (o->napps == AGENT_MAX_APPS) {
				fprintf(stderr, "deskbox-desktop: at most %d --app\n", AGENT_MAX_APPS);
				exit(2);
			}
			o->apps[o->napps++] = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (o->width > o->max_w || o->height > o->max_h) {
		fprintf(stderr, "deskbox-desktop: %dx%d is larger than the maximum %dx%d\n",
			o->width, o->height, o->max_w, o->max_h);
		exit(2);
	}
	if (!o->xauth) {
		home = getenv("HOME");
		if (!home || !*home) {
			fprintf(stderr, "deskbox-desktop: HOME is not set; give --xauth\n");
			exit(2);
		}
		snprintf(xauth, sizeof xauth, "%s/.Xauthority", home);
		o->xauth = xauth;
	}
}

static void stop_children(struct agent *a)
{
	for (int i = 0; i < a->napps; i++)
		if (!a->apps[i].exited)
			spawn_kill_group(a->apps[i].pid, SIGTERM);
	spawn_kill_group(a->wm, SIGTERM);
	spawn_kill_group(a->panel, SIGTERM);
	spawn_kill_group(a->bus, SIGTERM);
	if (a->disp) {
		display_close(a->disp);
		a->disp = NULL;
	}
	xserver_stop(&a->xs);
	for (int i = 0; i < a->napps; i++) {
		if (!a->apps[i].exited)
			spawn_kill_group(a->apps[i].pid, SIGKILL);
		if (a->apps[i].errfd >= 0)
			close(a->apps[i].errfd);
		a->apps[i].errfd = -1;
	}
	spawn_kill_group(a->wm, SIGKILL);
	spawn_kill_group(a->panel, SIGKILL);
	spawn_kill_group(a->bus, SIGKILL);
}

/* Xlib calls this when the X connection breaks; it must not return. */
static int display_lost(Display *dpy)
{
	struct agent *a = &agent;
	char why[128], msg[200];

	xserver_describe_exit(&a->xs, 500, why, sizeof why);
	snprintf(msg, sizeof msg, "X server connection lost: %s", why);
	agent_log("%s", msg);
	chan_event(&a->chan, "display_lost", json_pack("{ss}", "error", msg));
	a->disp = NULL;   /* Xlib frees the Display itself after this */
	stop_children(a);
	_exit(1);
}

/* Apps wait this long at most for the window manager to take the screen. */
#define WM_WAIT_MS 3000
/*
 * The window manager starts after the first screenshot is answered, or
 * this long after "ready" if none is asked for (a bare session; the full
 * one starts it first, as its panel expects). openbox's start-up is a
 * burst of X requests, and Xvfb serves one client at a time: started with
 * the desktop, it held a create's first screenshot back 25-30 ms (a lower
 * CPU priority did not help). On an empty screen it draws nothing, so the
 * first screenshot is the same; the apps wait for it as before.
 */
#define WM_DEFER_MS 50

/*
 * The window manager: openbox, click to focus. Without one, X gives focus
 * to whatever window is under the pointer, so a mouse_move after a click
 * sends the next typing elsewhere. Not waited for: openbox adopts the
 * windows already mapped when it starts.
 */
/*
 * openbox's configuration: click to focus, new windows focused, one
 * desktop, windows moved by their title bar, and no other key or mouse
 * bindings: Alt+click, Alt+Tab or Ctrl+Alt+arrows belong to the apps the
 * agent drives, not to the window manager (openbox's stock rc.xml takes
 * them). Read from a sealed memfd, so nothing is written to the disk.
 */
static const char wm_config[] =
	"<?xml version=\"1.0\"?>\n"
	"<openbox_config xmlns=\"http://openbox.org/3.4/rc\">\n"
	"<focus><focusNew>yes</focusNew><followMouse>no</followMouse>"
	"<focusLast>yes</focusLast></focus>\n"
	"<desktops><number>1</number></desktops>\n"
	"<keyboard></keyboard>\n"
	"<mouse><dragThreshold>8</dragThreshold><doubleClickTime>500</doubleClickTime>\n"
	"<context name=\"Client\">"
	"<mousebind button=\"Left\" action=\"Press\"><action name=\"Focus\"/><action name=\"Raise\"/></mousebind>"
	"<mousebind button=\"Middle\" action=\"Press\"><action name=\"Focus\"/><action name=\"Raise\"/></mousebind>"
	"<mousebind button=\"Right\" action=\"Press\"><action name=\"Focus\"/><action name=\"Raise\"/></mousebind>"
	"</context>\n"
	"<context name=\"Titlebar\">"
	"<mousebind button=\"Left\" action=\"Press\"><action name=\"Focus\"/><action name=\"Raise\"/></mousebind>"
	"<mousebind button=\"Left\" action=\"Drag\"><action name=\"Move\"/></mousebind>"
	"</context>\n"
	"</mouse>\n"
	"</openbox_config>\n";

static void start_wm(struct agent *a, const struct opts *o)
{
	char path[64], *argv[] = {"openbox", "--sm-disable", "--config-file", path, NULL};
	int fd;

	a->wm = -1;
	if (o->no_wm)
		return;
	fd = memfd_create("openbox-rc.xml", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0 || write(fd, wm_config, sizeof wm_config - 1) != (ssize_t)(sizeof wm_config - 1) ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0) {
		agent_log("window manager config: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	/* The child keeps fd open at the same number: /proc/self/fd/N is it. */
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	a->wm = spawn_exec("/usr/bin/openbox", argv, fd, -1, SIGTERM);
	a->wm_started_at = input_now_ms();
	if (a->wm < 0)
		agent_log("window manager: %s", strerror(errno));
	close(fd);
}

/* Keep the last AGENT_APP_TAIL bytes of what an app wrote to stderr (and
 * pass it on to the agent's own stderr, deskboxd's log, as before). */
static void app_read(struct agent_app *app)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(app->errfd, buf, sizeof buf)) > 0) {
		size_t k = (size_t)n;

		if (write(2, buf, k) < 0) {
			/* the log is best effort */
		}
		if (k >= AGENT_APP_TAIL) {
			memcpy(app->tail, buf + k - AGENT_APP_TAIL, AGENT_APP_TAIL);
			app->tail_len = AGENT_APP_TAIL;
			continue;
		}
		if (app->tail_len + k > AGENT_APP_TAIL) {
			size_t drop = app->tail_len + k - AGENT_APP_TAIL;

			memmove(app->tail, app->tail + drop, app->tail_len - drop);
			app->tail_len -= drop;
		}
		memcpy(app->tail + app->tail_len, buf, k);
		app->tail_len += k;
	}
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		close(app->errfd);
		app->errfd = -1;
	}
}

/* Tell deskboxd every app's state: at start and whenever one ends. */
static void announce_apps(struct agent *a)
{
	json_t *list = json_array();

	for (int i = 0; i < a->napps; i++) {
		struct agent_app *app = &a->apps[i];
		json_t *o = json_pack("{sssIss}", "command", app->command, "pid",
				      (json_int_t)app->pid,
				      "state", app->exited || app->pid < 0 ? "exited" : "running");

		json_object_set_new(o, "exit_code", app->exited && WIFEXITED(app->status) ?
				    json_integer(WEXITSTATUS(app->status)) :
				    app->pid < 0 ? json_integer(127) : json_null());
		json_object_set_new(o, "signal", app->exited && WIFSIGNALED(app->status) ?
				    json_integer(WTERMSIG(app->status)) : json_null());
		if (app->pid < 0) {
			char why[160];

			snprintf(why, sizeof why, "cannot start: %s", strerror(app->start_errno));
			json_object_set_new(o, "stderr_tail", json_string(why));
		} else {
			/* JSON strings are UTF-8: repair what is not (the
			 * tail may also start inside a character). */
			char fixed[3 * AGENT_APP_TAIL + 1];
			size_t n = utf8_repair(app->tail, app->tail_len, fixed, sizeof fixed);

			json_object_set_new(o, "stderr_tail", json_stringn_nocheck(fixed, n));
		}
		json_array_append_new(list, o);
	}
	chan_event(&a->chan, "apps", json_pack("{so}", "apps", list));
}

static void start_apps(struct agent *a, const struct opts *o)
{
	for (int i = 0; i < o->napps; i++) {
		struct agent_app *app = &a->apps[a->napps++];
		char *argv[] = {"sh", "-c", (char *)o->apps[i], NULL};
		int p[2] = {-1, -1};

		*app = (struct agent_app){.command = o->apps[i], .pid = -1, .errfd = -1};
		if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
			app->start_errno = errno;
			agent_log("app '%s': %s", o->apps[i], strerror(errno));
			continue;
		}
		app->pid = spawn_exec("/bin/sh", argv, -1, p[1], SIGTERM);
		close(p[1]);
		if (app->pid < 0) {
			app->start_errno = errno;
			close(p[0]);
			agent_log("app '%s': %s", o->apps[i], strerror(app->start_errno));
			continue;
		}
		app->errfd = p[0];
		agent_log("app pid %d: %s", (int)app->pid, o->apps[i]);
	}
}

static int start(struct agent *a, const struct opts *o, char *err, size_t errlen)
{
	struct xserver_opts xo = {
		.display = o->display, .xauth = o->xauth,
		.max_w = o->max_w, .max_h = o->max_h, .gl = o->gl, .dpi = o->dpi,
	};

	if (getrandom(&a->nonce, sizeof a->nonce, 0) != sizeof a->nonce) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		return -1;
	}
	a->xauth = o->xauth;
	if (xserver_start(&a->xs, &xo, err, errlen) < 0)
		return -1;
	a->disp = display_open(a->xs.name, a->xs.cookie, o->max_w, o->max_h, err, errlen);
	if (!a->disp)
		return -1;
	XSetIOErrorHandler(display_lost);
	if ((o->width != a->disp->width || o->height != a->disp->height) &&
	    display_resize(a->disp, o->width, o->height, err, errlen) < 0)
		return -1;
	a->shown_w = a->disp->width;
	a->shown_h = a->disp->height;
	if (!(a->cap = capture_create(a->disp, err, errlen)) ||
	    !(a->enc = encode_create(err, errlen)) ||
	    !(a->in = input_create(a->disp->dpy, err, errlen)) ||
	    !(a->clip = clipboard_create(a->disp, err, errlen)))
		return -1;
	a->acts = actions_create(a);
	if (!a->acts) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!(a->vnc = vnc_create(a, err, errlen)))
		return -1;
	if (!(a->watch = watch_create(a)) || !(a->rec = record_create(a)) ||
	    !(a->wops = winops_create(a))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (setenv("DISPLAY", a->xs.name, 1) < 0 || setenv("XAUTHORITY", o->xauth, 1) < 0) {
		snprintf(err, errlen, "setenv: %s", strerror(errno));
		return -1;
	}
	/* Nothing but Xvfb has drawn yet (no app has started, and the resize's
	 * repaint was answered before the round trips since): the screen is
	 * its root background until the damage counter moves (methods.c). */
	display_drain(a->disp);
	a->blank_damage = a->disp->damage;
	a->blank = 1;
	a->open_us = now_us();
	/* The full session's panel and apps expect it first (WM_DEFER_MS). */
	if (o->full)
		start_wm(a, o);
	a->panel = session_start(a, o->full, o->dpi);
	if (!(a->launch = launch_create(a))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static void on_x_mapping(struct agent *a, XEvent *ev)
{
	input_mapping_changed(a->in, &ev->xmapping);
}

static void on_x_selection(struct agent *a, XEvent *ev)
{
	clipboard_handle(a->clip, ev);
}

static const struct {
	int type;
	void (*fn)(struct agent *a, XEvent *ev);
} x_events[] = {
	{MappingNotify, on_x_mapping},
	{SelectionRequest, on_x_selection},
	{SelectionClear, on_x_selection},
	{SelectionNotify, on_x_selection},
	{PropertyNotify, on_x_selection},
};

static void x_dispatch(struct agent *a)
{
	XEvent ev;
	int resized;

	while (XPending(a->disp->dpy)) {
		XNextEvent(a->disp->dpy, &ev);
		if (display_handle(a->disp, &ev, &resized))
			continue;
		watch_x_event(a->watch, &ev);
		for (size_t i = 0; i < sizeof x_events / sizeof *x_events; i++)
			if (x_events[i].type == ev.type)
				x_events[i].fn(a, &ev);
	}
	methods_announce_size(a);
}

/* Reap children. Returns 1 when a stop signal arrived. */
static int on_signal(struct agent *a, int sfd)
{
	struct signalfd_siginfo si;
	int st, stop = 0, apps_changed = 0;
	pid_t pid;

	while (read(sfd, &si, sizeof si) == sizeof si)
		if (si.ssi_signo != SIGCHLD) {
			agent_log("%s: stopping", strsignal((int)si.ssi_signo));
			stop = 1;
		}
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		int app = -1;

		for (int i = 0; i < a->napps; i++)
			if (a->apps[i].pid == pid && !a->apps[i].exited)
				app = i;
		if (app >= 0) {
			/* What it wrote last is already in the pipe. */
			if (a->apps[app].errfd >= 0)
				app_read(&a->apps[app]);
			a->apps[app].exited = 1;
			a->apps[app].status = st;
			apps_changed = 1;
		}
		if (pid == a->wm)
			a->wm = -1;
		if (pid == a->panel)
			a->panel = -1;
		if (pid == a->bus)
			a->bus = -1;
		if (a->launch)
			launch_reaped(a->launch, pid, st);
		if (xserver_reaped(&a->xs, pid, st))
			agent_log("Xvfb (pid %d) ended, status 0x%x", (int)pid, st);
		else if (WIFSIGNALED(st))
			agent_log("pid %d killed by signal %d", (int)pid, WTERMSIG(st));
		else
			agent_log("pid %d exited with status %d", (int)pid, WEXITSTATUS(st));
	}
	if (apps_changed)
		announce_apps(a);
	return stop;
}

static int setup_signals(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* The earlier of two poll timeouts (-1: none). */
static int earlier(int t1, int t2)
{
	if (t1 < 0)
		return t2;
	return t2 < 0 || t1 < t2 ? t1 : t2;
}

static int serve(struct agent *a, int sfd, const struct opts *o)
{
	int64_t wm_at = input_now_ms() + WM_DEFER_MS, apps_by = input_now_ms() + WM_WAIT_MS;
	int apps_started = 0, wm_started = o->full || o->no_wm;

	struct pollfd p[4 + VNC_MAX_CLIENTS + AGENT_MAX_APPS];
	int app_at[AGENT_MAX_APPS];
	char bad[256];
	json_t *msg;
	int fd;

	a->wm_due = !wm_started;
	for (;;) {
		int rc, n, timeout;

		x_dispatch(a);
		vnc_run(a->vnc);
		watch_run(a->watch);
		record_run(a->rec);
		shotprep_run(a);
		winops_run(a->wops);
		launch_run(a->launch);
		if (!wm_started && (a->shots || a->wm_wanted || input_now_ms() >= wm_at)) {
			start_wm(a, o);
			wm_started = 1;
			a->wm_due = 0;
			apps_by = input_now_ms() + WM_WAIT_MS;
		}
		methods_run_held(a, a->wm_started_at && input_now_ms() - a->wm_started_at >= WM_WAIT_MS);
		if (!apps_started && wm_started && (!launch_wm_settling(a) || input_now_ms() >= apps_by)) {
			start_apps(a, o);
			announce_apps(a);
			apps_started = 1;
		}
		p[0] = (struct pollfd){.fd = a->chan.fd, .events = POLLIN};
		p[1] = (struct pollfd){.fd = ConnectionNumber(a->disp->dpy), .events = POLLIN};
		p[2] = (struct pollfd){.fd = sfd, .events = POLLIN};
		n = 3 + vnc_pollfds(a->vnc, p + 3, VNC_MAX_CLIENTS);
		for (int i = 0; i < a->napps; i++) {
			app_at[i] = -1;
			if (a->apps[i].errfd >= 0) {
				app_at[i] = n;
				p[n++] = (struct pollfd){.fd = a->apps[i].errfd, .events = POLLIN};
			}
		}
		/* The encoder thread's "done" (record_run reads it). */
		if (record_pollfd(a->rec) >= 0)
			p[n++] = (struct pollfd){.fd = record_pollfd(a->rec), .events = POLLIN};
		clipboard_expire(a->clip);
		timeout = earlier(actions_timeout_ms(a->acts), vnc_timeout_ms(a->vnc));
		timeout = earlier(timeout, clipboard_timeout_ms(a->clip));
		timeout = earlier(timeout, watch_timeout_ms(a->watch));
		timeout = earlier(timeout, record_timeout_ms(a->rec));
		timeout = earlier(timeout, shotprep_timeout_ms(a));
		timeout = earlier(timeout, winops_timeout_ms(a->wops));
		timeout = earlier(timeout, launch_timeout_ms(a->launch));
		if (!apps_started || a->nheld)
			timeout = earlier(timeout, 5);
		/* VNC's round trips may have queued X events the socket no
		 * longer shows. */
		if (XQLength(a->disp->dpy))
			timeout = 0;
		if (poll(p, (nfds_t)n, timeout) < 0 && errno != EINTR) {
			agent_log("poll: %s", strerror(errno));
			return 1;
		}
		for (int i = 0; i < a->napps; i++)
			if (app_at[i] >= 0 && p[app_at[i]].revents && a->apps[i].errfd >= 0)
				app_read(&a->apps[i]);
		if ((p[2].revents & POLLIN) && on_signal(a, sfd))
			return 0;
		if (p[0].revents) {
			rc = chan_recv(&a->chan, &msg, &fd, bad, sizeof bad);
			/* A peer that closes with our messages unread (an
			 * "apps" report, say) shows as a reset: closed too. */
			if (rc == 0 || (rc < 0 && errno == ECONNRESET)) {
				agent_log("channel closed: stopping");
				return 0;
			}
			if (rc < 0) {
				agent_log("channel: %s", strerror(errno));
				return 1;
			}
			methods_dispatch(a, msg, fd, bad);
			json_decref(msg);
		}
		actions_run(a->acts);
	}
}

int main(int argc, char **argv)
{
	struct agent *a = &agent;
	struct opts o;
	char err[512];
	int sfd, rc;

	/* Not the user's process: the same uid must not ptrace it or reach its
	 * memory and fds through /proc (deskboxd also starts it from a file
	 * nobody may read, which makes it so from exec on). */
	if (prctl(PR_SET_DUMPABLE, 0) < 0) {
		agent_log("PR_SET_DUMPABLE: %s", strerror(errno));
		return 1;
	}
	/* On a uid of its own, init hands us CAPS_AGENT as ambient
	 * capabilities; they are for making our children the user's
	 * (spawn.c), never for an exec to inherit. */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	/* Exec'd from a memfd, our name would be "memfd:deskbox-d". */
	prctl(PR_SET_NAME, "deskbox-desktop");
	a->exec_us = now_us();
	parse_args(argc, argv, &o);
	a->xs.pid = -1;
	a->xs.pidfd = -1;
	a->xs.status = -1;
	a->wm = a->panel = a->bus = -1;
	if (chan_open(&a->chan, CHAN_FD, err, sizeof err) < 0) {
		agent_log("%s", err);
		return 1;
	}
	/* Nothing else the agent inherited may reach Xvfb or the apps. */
	syscall(SYS_close_range, CHAN_FD + 1, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */);
	sfd = setup_signals();
	if (sfd < 0) {
		agent_log("signals: %s", strerror(errno));
		return 1;
	}
	if (start(a, &o, err, sizeof err) < 0) {
		agent_log("start: %s", err);
		vnc_destroy(a->vnc);
		stop_children(a);
		return 1;
	}
	agent_log("ready on %s, %dx%d (max %dx%d)", a->xs.name, a->disp->width,
	      a->disp->height, o.max_w, o.max_h);
	/* timeline: when each start-up step ended (monotonic us), for
	 * deskboxd's debug log of the create. */
	chan_event(&a->chan, "ready", json_pack("{s{sisi}sssss{sIsIsIsIsI}}", "display", "width",
						a->disp->width, "height", a->disp->height,
						"display_name", a->xs.name,
						"xauthority", a->xauth, "timeline",
						"exec", (json_int_t)a->exec_us,
						"xvfb_exec", (json_int_t)a->xs.exec_us,
						"x_ready", (json_int_t)a->xs.ready_us,
						"x_open", (json_int_t)a->open_us,
						"ready", (json_int_t)now_us()));
	rc = serve(a, sfd, &o);
	record_destroy(a->rec);
	launch_destroy(a->launch);
	vnc_destroy(a->vnc);
	stop_children(a);
	actions_destroy(a->acts);
	winops_destroy(a->wops);
	watch_destroy(a->watch);
	clipboard_destroy(a->clip);
	input_destroy(a->in);
	encode_destroy(a->enc);
	free(a->shot_cache.data);
	chan_close(&a->chan);
	return rc;
}
