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
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actions.h"
#include "agent.h"
#include "log.h"
#include "methods.h"
#include "spawn.h"
#include "watch.h"

#define CHAN_FD 3
#define MAX_SIDE 16384

struct opts {
	int width, height, max_w, max_h, gl, display;
	const char *xauth;
	const char *apps[AGENT_MAX_APPS];
	int napps;
};

static struct agent agent;

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
		"                       [--gl] [--app CMD]... [--display N] [--xauth PATH]\n"
		"Serves deskboxd on fd 3 (AF_UNIX SOCK_SEQPACKET). Defaults: 1280x800,\n"
		"max 1920x1080, display 0, xauth $HOME/.Xauthority.\n");
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
		{"app", required_argument, NULL, 'a'},
		{"display", required_argument, NULL, 'd'},
		{"xauth", required_argument, NULL, 'x'},
		{"help", no_argument, NULL, '?'},
		{NULL, 0, NULL, 0},
	};
	static char xauth[4096];
	const char *home;
	int c;

	*o = (struct opts){.width = 1280, .height = 800, .max_w = 1920, .max_h = 1080};
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'w': o->width = parse_int(optarg, 1, MAX_SIDE, "--width"); break;
		case 'h': o->height = parse_int(optarg, 1, MAX_SIDE, "--height"); break;
		case 'W': o->max_w = parse_int(optarg, 1, MAX_SIDE, "--max-width"); break;
		case 'H': o->max_h = parse_int(optarg, 1, MAX_SIDE, "--max-height"); break;
		case 'g': o->gl = 1; break;
		case 'd': o->display = parse_int(optarg, 0, 65535, "--display"); break;
		case 'x': o->xauth = optarg; break;
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
		spawn_kill_group(a->apps[i], SIGTERM);
	if (a->disp) {
		display_close(a->disp);
		a->disp = NULL;
	}
	xserver_stop(&a->xs);
	for (int i = 0; i < a->napps; i++)
		spawn_kill_group(a->apps[i], SIGKILL);
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

static void start_apps(struct agent *a, const struct opts *o)
{
	for (int i = 0; i < o->napps; i++) {
		char *argv[] = {"sh", "-c", (char *)o->apps[i], NULL};
		pid_t pid = spawn_exec("/bin/sh", argv, -1, SIGTERM);

		if (pid < 0) {
			agent_log("app '%s': %s", o->apps[i], strerror(errno));
			continue;
		}
		agent_log("app pid %d: %s", (int)pid, o->apps[i]);
		a->apps[a->napps++] = pid;
	}
}

static int start(struct agent *a, const struct opts *o, char *err, size_t errlen)
{
	struct xserver_opts xo = {
		.display = o->display, .xauth = o->xauth,
		.max_w = o->max_w, .max_h = o->max_h, .gl = o->gl,
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
	if (!(a->watch = watch_create(a))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (setenv("DISPLAY", a->xs.name, 1) < 0 || setenv("XAUTHORITY", o->xauth, 1) < 0) {
		snprintf(err, errlen, "setenv: %s", strerror(errno));
		return -1;
	}
	start_apps(a, o);
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
	int st, stop = 0;
	pid_t pid;

	while (read(sfd, &si, sizeof si) == sizeof si)
		if (si.ssi_signo != SIGCHLD) {
			agent_log("%s: stopping", strsignal((int)si.ssi_signo));
			stop = 1;
		}
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (xserver_reaped(&a->xs, pid, st))
			agent_log("Xvfb (pid %d) ended, status 0x%x", (int)pid, st);
		else if (WIFSIGNALED(st))
			agent_log("pid %d killed by signal %d", (int)pid, WTERMSIG(st));
		else
			agent_log("pid %d exited with status %d", (int)pid, WEXITSTATUS(st));
	}
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

static int serve(struct agent *a, int sfd)
{
	struct pollfd p[3 + VNC_MAX_CLIENTS];
	char bad[256];
	json_t *msg;
	int fd;

	for (;;) {
		int rc, n, timeout;

		x_dispatch(a);
		vnc_run(a->vnc);
		watch_run(a->watch);
		p[0] = (struct pollfd){.fd = a->chan.fd, .events = POLLIN};
		p[1] = (struct pollfd){.fd = ConnectionNumber(a->disp->dpy), .events = POLLIN};
		p[2] = (struct pollfd){.fd = sfd, .events = POLLIN};
		n = 3 + vnc_pollfds(a->vnc, p + 3, VNC_MAX_CLIENTS);
		clipboard_expire(a->clip);
		timeout = earlier(actions_timeout_ms(a->acts), vnc_timeout_ms(a->vnc));
		timeout = earlier(timeout, clipboard_timeout_ms(a->clip));
		timeout = earlier(timeout, watch_timeout_ms(a->watch));
		/* VNC's round trips may have queued X events the socket no
		 * longer shows. */
		if (XQLength(a->disp->dpy))
			timeout = 0;
		if (poll(p, (nfds_t)n, timeout) < 0 && errno != EINTR) {
			agent_log("poll: %s", strerror(errno));
			return 1;
		}
		if ((p[2].revents & POLLIN) && on_signal(a, sfd))
			return 0;
		if (p[0].revents) {
			rc = chan_recv(&a->chan, &msg, &fd, bad, sizeof bad);
			if (rc == 0) {
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
	/* Exec'd from a memfd, our name would be "memfd:deskbox-d". */
	prctl(PR_SET_NAME, "deskbox-desktop");
	parse_args(argc, argv, &o);
	a->xs.pid = -1;
	a->xs.pidfd = -1;
	a->xs.status = -1;
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
	chan_event(&a->chan, "ready", json_pack("{s{sisi}ssss}", "display", "width",
						a->disp->width, "height", a->disp->height,
						"display_name", a->xs.name,
						"xauthority", a->xauth));
	rc = serve(a, sfd);
	vnc_destroy(a->vnc);
	stop_children(a);
	actions_destroy(a->acts);
	watch_destroy(a->watch);
	clipboard_destroy(a->clip);
	input_destroy(a->in);
	encode_destroy(a->enc);
	chan_close(&a->chan);
	return rc;
}
