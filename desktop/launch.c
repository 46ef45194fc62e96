/*
 * launch.c - applications by name (see launch.h).
 *
 * Applications are the .desktop files in ~/.local/share/applications (the
 * user's, first), /usr/local/share/applications and /usr/share/applications;
 * their bytes are parsed by common/desktopentry.c, which treats them as
 * untrusted. A launched app runs as a child of the agent, as the --app
 * commands do: as the sandbox user, in the jail, in its own process group,
 * with DISPLAY and the sandbox's environment, its stdout and stderr in
 * ~/.cache/deskbox/ID.log. It dies with the desktop (parent-death signal).
 *
 * "Its first window": a client window (the window manager's client list,
 * else the root's mapped children) that was not there at launch and whose
 * _NET_WM_PID is the app or one of its descendants, or, for windows that
 * set no pid, whose WM_CLASS is the entry's StartupWMClass or the program's
 * name. An app that hands its work to a running instance (a second Firefox)
 * exits at once with status 0: its answer is then that instance's window,
 * by WM_CLASS. Pending launches are checked from the loop every
 * LAUNCH_POLL_MS; nothing here blocks.
 *
 * Owns the pending launches (their request ids) and the launched pids.
 * Loop thread only. No global state.
 */
#include "launch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <X11/Xutil.h>

#include "agent.h"
#include "log.h"
#include "desktopentry.h"
#include "input.h"
#include "jget.h"
#include "session.h"
#include "spawn.h"
#include "windows.h"

#define LAUNCH_POLL_MS  40
#define LAUNCH_PENDING  16           /* launches waiting for a window at once */
#define LAUNCH_KIDS     256          /* launched pids remembered for reaping */
#define LAUNCH_BEFORE   256          /* windows remembered as "already there" */
#define LAUNCH_MAX_APPS 1024         /* entries listed at most */

static const char *const launch_dirs[] = {
	NULL,   /* ~/.local/share/applications, filled from HOME */
	"/usr/local/share/applications",
	"/usr/share/applications",
};

struct pending {
	json_t *id;                  /* the request; NULL: slot free */
	pid_t pid;
	int64_t started, deadline;
	int exited, status;
	char app[DESKTOPENTRY_MAX_ID + 1];
	char cls[128];               /* WM_CLASS to match when no pid is set */
	json_t *extra;               /* fields added to the answer (open's) */
	Window before[LAUNCH_BEFORE];
	int nbefore;
};

struct kid {
	pid_t pid;
	int exited, status;
};

struct launch {
	struct agent *a;
	struct pending p[LAUNCH_PENDING];
	struct kid kids[LAUNCH_KIDS];
	int nkids;
	int64_t next_check;          /* launch_run looks at windows from then */
};

struct launch *launch_create(struct agent *a)
{
	struct launch *l = calloc(1, sizeof *l);

	if (l)
		l->a = a;
	return l;
}

static void pending_end(struct pending *p)
{
	json_decref(p->id);
	json_decref(p->extra);
	p->id = p->extra = NULL;
}

void launch_destroy(struct launch *l)
{
	if (!l)
		return;
	for (int i = 0; i < LAUNCH_PENDING; i++)
		if (l->p[i].id) {
			chan_reply_error(&l->a->chan, l->p[i].id, "desktop_not_running",
					 "the desktop stopped before the app showed a window", -1);
			pending_end(&l->p[i]);
		}
	free(l);
}

static const char *launch_dir(int i, char *buf, size_t len)
{
	const char *home = getenv("HOME");

	if (launch_dirs[i])
		return launch_dirs[i];
	if (!home || !*home)
		return NULL;
	snprintf(buf, len, "%s/.local/share/applications", home);
	return buf;
}

/* Read and parse one .desktop file. Returns 0, 1 when there is no such
 * file, -1 with err when it is unreadable or malformed. */
static int launch_load(const char *path, struct desktopentry *e, char *err, size_t errlen)
{
	char *buf = NULL;
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), r = -1;

	if (fd < 0) {
		/* A directory the agent (a uid of its own) may not read is
		 * skipped like a missing one. */
		if (errno == ENOENT || errno == EACCES)
			return 1;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > DESKTOPENTRY_MAX_FILE) {
		snprintf(err, errlen, "%s: not a regular file of at most %d bytes", path,
			 DESKTOPENTRY_MAX_FILE);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	n = read(fd, buf, (size_t)st.st_size);
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (desktopentry_parse(buf, (size_t)n, e, err, errlen) == 0)
		r = 0;
out:
	free(buf);
	close(fd);
	return r;
}

/* Find application id: its entry and the file's path. Returns 0, 1 when
 * none is installed, -1 with err. */
static int launch_find(const char *id, struct desktopentry *e, char *path, size_t pathlen,
		       char *err, size_t errlen)
{
	char dir[512];

	for (size_t i = 0; i < sizeof launch_dirs / sizeof *launch_dirs; i++) {
		const char *d = launch_dir((int)i, dir, sizeof dir);
		int r;

		if (!d)
			continue;
		snprintf(path, pathlen, "%s/%s.desktop", d, id);
		r = launch_load(path, e, err, errlen);
		if (r <= 0)
			return r;
	}
	return 1;
}

static int by_id(const void *x, const void *y)
{
	return strcmp(json_string_value(json_object_get(*(json_t *const *)x, "id")),
		      json_string_value(json_object_get(*(json_t *const *)y, "id")));
}

json_t *launch_list(struct launch *l, char *err, size_t errlen)
{
	json_t *seen = json_object(), *list = json_array(), **sorted = NULL;
	char dir[512], path[1024], why[256];
	size_t n = 0;

	if (!seen || !list)
		goto oom;
	for (size_t i = 0; i < sizeof launch_dirs / sizeof *launch_dirs; i++) {
		const char *d = launch_dir((int)i, dir, sizeof dir);
		DIR *dh = d ? opendir(d) : NULL;
		struct dirent *de;

		while (dh && (de = readdir(dh)) && json_object_size(seen) < LAUNCH_MAX_APPS) {
			size_t len = strlen(de->d_name);
			struct desktopentry e;
			char id[DESKTOPENTRY_MAX_ID + 1];
			json_t *cats, *o;

			if (len <= 8 || len - 8 > DESKTOPENTRY_MAX_ID || strcmp(de->d_name + len - 8, ".desktop"))
				continue;
			memcpy(id, de->d_name, len - 8);
			id[len - 8] = 0;
			/* The first directory that has an id decides, even
			 * if it hides it (Hidden=true masks the system's). */
			if (!desktopentry_id_ok(id) || json_object_get(seen, id))
				continue;
			snprintf(path, sizeof path, "%s/%s", d, de->d_name);
			if (launch_load(path, &e, why, sizeof why) != 0)
				continue;
			json_object_set_new(seen, id, json_true());
			if (!desktopentry_listed(&e)) {
				desktopentry_free(&e);
				continue;
			}
			cats = json_array();
			for (size_t k = 0; e.categories[k]; k++)
				json_array_append_new(cats, json_string(e.categories[k]));
			o = json_pack("{ss ss so ss sb sb}", "id", id, "name", e.name, "categories", cats,
				      "exec", e.exec, "terminal", e.terminal, "no_display", e.no_display);
			desktopentry_free(&e);
			/* Names and Exec lines that are not UTF-8 make no entry. */
			if (o)
				json_array_append_new(list, o);
		}
		if (dh)
			closedir(dh);
	}
	n = json_array_size(list);
	sorted = calloc(n ? n : 1, sizeof *sorted);
	if (!sorted)
		goto oom;
	for (size_t i = 0; i < n; i++)
		sorted[i] = json_incref(json_array_get(list, i));
	qsort(sorted, n, sizeof *sorted, by_id);
	json_array_clear(list);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, sorted[i]);
	free(sorted);
	json_decref(seen);
	return json_pack("{so}", "apps", list);
oom:
	json_decref(seen);
	json_decref(list);
	snprintf(err, errlen, "out of memory");
	return NULL;
}

/* argv[0] as a path: as is when it has a '/', else searched in PATH. */
static int launch_which(const char *prog, char *out, size_t outlen)
{
	const char *path = getenv("PATH");

	if (strchr(prog, '/')) {
		snprintf(out, outlen, "%s", prog);
		return access(out, X_OK);
	}
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");

		if (n > 0 && (size_t)snprintf(out, outlen, "%.*s/%s", (int)n, path, prog) < outlen &&
		    access(out, X_OK) == 0)
			return 0;
		path += n + (path[n] == ':');
	}
	return -1;
}

/* ~/.cache/deskbox/ID.log, truncated, for the app's output; -1 when it
 * cannot be made (the app then writes to /dev/null). */
static int launch_logfile(const char *id)
{
	const char *home = getenv("HOME");
	char path[512];
	int fd;

	if (!home || !*home)
		return -1;
	/* In the user's home, as the user (the agent may be a uid of its own). */
	if (spawn_user_fs(1) < 0) {
		spawn_user_fs(0);
		return -1;
	}
	snprintf(path, sizeof path, "%s/.cache", home);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/.cache/deskbox", home);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/.cache/deskbox/%s.log", home, id);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	spawn_user_fs(0);
	return fd;
}

static int launch_remember(struct launch *l, pid_t pid)
{
	for (int i = 0; i < l->nkids; i++)
		if (l->kids[i].exited) {
			l->kids[i] = (struct kid){.pid = pid};
			return 0;
		}
	if (l->nkids == LAUNCH_KIDS)
		return -1;
	l->kids[l->nkids++] = (struct kid){.pid = pid};
	return 0;
}

int launch_reaped(struct launch *l, pid_t pid, int status)
{
	for (int i = 0; i < l->nkids; i++) {
		if (l->kids[i].pid != pid || l->kids[i].exited)
			continue;
		l->kids[i].exited = 1;
		l->kids[i].status = status;
		l->next_check = 0;   /* answer an early exit at once */
		for (int k = 0; k < LAUNCH_PENDING; k++)
			if (l->p[k].id && l->p[k].pid == pid) {
				l->p[k].exited = 1;
				l->p[k].status = status;
			}
		return 1;
	}
	return 0;
}

/* Start app id with uri/args; on success a pending slot waits for its
 * window (extra is stolen into it). */
static int launch_app(struct launch *l, json_t *id, const char *app, const char *uri,
		      const char *const *args, json_t *extra, const char **code, char *err, size_t errlen)
{
	struct desktopentry e;
	struct pending *p = NULL;
	struct windows_info *w = NULL;
	char path[1024], prog[1024];
	char **argv = NULL, **run = NULL;
	int nw = 0, logfd, r;
	pid_t pid;

	*code = "bad_request";
	for (int i = 0; i < LAUNCH_PENDING && !p; i++)
		if (!l->p[i].id)
			p = &l->p[i];
	if (!p) {
		*code = "busy";
		snprintf(err, errlen, "%d launches are already waiting for their windows", LAUNCH_PENDING);
		goto fail_early;
	}
	if (!desktopentry_id_ok(app)) {
		snprintf(err, errlen, "app must be an application id ([A-Za-z0-9._-], as GET .../apps lists)");
		goto fail_early;
	}
	r = launch_find(app, &e, path, sizeof path, err, errlen);
	if (r == 1) {
		*code = "not_found";
		snprintf(err, errlen, "no application '%s' is installed (GET .../apps lists them)", app);
		goto fail_early;
	}
	if (r < 0) {
		*code = "internal";
		goto fail_early;
	}
	argv = desktopentry_argv(&e, uri, args, path, err, errlen);
	if (!argv) {
		*code = "internal";
		goto fail;
	}
	/* Terminal=true: the app runs in an xterm. */
	if (e.terminal) {
		size_t n = 0;

		while (argv[n])
			n++;
		run = calloc(n + 3, sizeof *run);
		if (!run) {
			*code = "internal";
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		run[0] = "xterm";
		run[1] = "-e";
		memcpy(run + 2, argv, n * sizeof *run);
	}
	if (launch_which((run ? run : argv)[0], prog, sizeof prog) < 0) {
		*code = "internal";
		snprintf(err, errlen, "application '%s': '%s' is not an installed program", app,
			 (run ? run : argv)[0]);
		goto fail;
	}
	snprintf(p->cls, sizeof p->cls, "%s", e.wm_class ? e.wm_class :
		 strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0]);
	if (windows_list(l->a->disp, &w, &nw, err, errlen) < 0) {
		*code = "internal";
		goto fail;
	}
	p->nbefore = 0;
	for (int i = 0; i < nw && p->nbefore < LAUNCH_BEFORE; i++)
		p->before[p->nbefore++] = w[i].id;
	windows_free(w, nw);
	logfd = launch_logfile(app);
	if (logfd < 0)
		logfd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	pid = spawn_exec_logged(prog, run ? run : argv, -1, logfd, SIGTERM);
	if (logfd >= 0)
		close(logfd);
	if (pid < 0 || launch_remember(l, pid) < 0) {
		*code = "internal";
		snprintf(err, errlen, "cannot start '%s': %s", app, pid < 0 ? strerror(errno) :
			 "too many launched apps are running");
		if (pid > 0)
			spawn_kill_group(pid, SIGKILL);
		goto fail;
	}
	agent_log("launched %s: pid %d", app, (int)pid);
	p->id = json_incref(id);
	p->pid = pid;
	p->exited = 0;
	p->started = input_now_ms();
	p->deadline = p->started + (json_is_integer(json_object_get(extra, "timeout_ms")) ?
				    json_integer_value(json_object_get(extra, "timeout_ms")) :
				    LAUNCH_DEFAULT_WAIT_MS);
	json_object_del(extra, "timeout_ms");
	snprintf(p->app, sizeof p->app, "%s", app);
	p->extra = extra;
	free(run);
	desktopentry_argv_free(argv);
	desktopentry_free(&e);
	return 0;
fail:
	free(run);
	desktopentry_argv_free(argv);
	desktopentry_free(&e);
fail_early:
	json_decref(extra);
	return -1;
}

/* Read the optional wait into extra.timeout_ms. */
static int launch_wait_param(const json_t *params, json_t *extra, char *err, size_t errlen)
{
	long ms;

	if (jget_int(params, "timeout_ms", 1, LAUNCH_MAX_WAIT_MS, LAUNCH_DEFAULT_WAIT_MS, &ms,
		     err, errlen) < 0)
		return -1;
	json_object_set_new(extra, "timeout_ms", json_integer(ms));
	return 0;
}

int launch_start(struct launch *l, json_t *id, const json_t *params,
		 const char **code, char *err, size_t errlen)
{
	const char *app, *uri, **args = NULL;
	const json_t *jargs = json_object_get(params, "args");
	json_t *extra = json_object();
	size_t len;
	int r = -1;

	*code = "bad_request";
	if (!extra) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!json_is_object(params) ||
	    jget_string(params, "app", 1, &app, &len, err, errlen) < 0 ||
	    jget_string(params, "uri", 0, &uri, &len, err, errlen) < 0 ||
	    launch_wait_param(params, extra, err, errlen) < 0)
		goto out;
	if (jargs && !json_is_null(jargs)) {
		size_t n = json_array_size(jargs);

		if (!json_is_array(jargs) || n > 256) {
			snprintf(err, errlen, "args must be an array of at most 256 strings");
			goto out;
		}
		args = calloc(n + 1, sizeof *args);
		if (!args) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			args[i] = json_string_value(json_array_get(jargs, i));
			if (!args[i] || strlen(args[i]) != json_string_length(json_array_get(jargs, i))) {
				snprintf(err, errlen, "args[%zu] must be a string without NUL bytes", i);
				goto out;
			}
		}
	}
	r = launch_app(l, id, app, uri, args, extra, code, err, errlen);
	extra = NULL;
out:
	json_decref(extra);
	free(args);
	return r;
}

/* path percent-encoded into a file:// URI (malloc'd). */
static char *launch_file_uri(const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = malloc(7 + strlen(path) * 3 + 1), *o = out;

	if (!out)
		return NULL;
	o += sprintf(o, "file://");
	for (const unsigned char *s = (const unsigned char *)path; *s; s++) {
		if (strchr("/-._~", *s) || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9')) {
			*o++ = (char)*s;
		} else {
			*o++ = '%';
			*o++ = hex[*s >> 4];
			*o++ = hex[*s & 15];
		}
	}
	*o = 0;
	return out;
}

/* The application for mime: the session's default when installed, else
 * the first listed application (by id) that declares it. */
static int launch_app_for(struct launch *l, const char *mime, char *out, size_t outlen)
{
	const char *def = session_default_app(mime);
	struct desktopentry e;
	char path[1024], err[256];
	json_t *all;
	size_t i;
	json_t *o;

	if (def && launch_find(def, &e, path, sizeof path, err, sizeof err) == 0) {
		desktopentry_free(&e);
		snprintf(out, outlen, "%s", def);
		return 0;
	}
	all = launch_list(l, err, sizeof err);
	json_array_foreach(json_object_get(all, "apps"), i, o) {
		const char *id = json_string_value(json_object_get(o, "id"));
		int ok = 0;

		if (launch_find(id, &e, path, sizeof path, err, sizeof err) == 0) {
			ok = desktopentry_handles(&e, mime);
			desktopentry_free(&e);
		}
		if (ok) {
			snprintf(out, outlen, "%s", id);
			json_decref(all);
			return 0;
		}
	}
	json_decref(all);
	return -1;
}

int launch_open(struct launch *l, json_t *id, const json_t *params,
		const char **code, char *err, size_t errlen)
{
	const char *target, *mime;
	char *path = NULL, *uri = NULL, app[DESKTOPENTRY_MAX_ID + 1];
	json_t *extra = json_object();
	struct stat st;
	size_t len;
	int web, r = -1;

	*code = "bad_request";
	if (!extra) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!json_is_object(params) ||
	    jget_string(params, "target", 1, &target, &len, err, errlen) < 0 ||
	    launch_wait_param(params, extra, err, errlen) < 0)
		goto out;
	if (strlen(target) != len) {
		snprintf(err, errlen, "target must not contain NUL bytes");
		goto out;
	}
	web = !strncasecmp(target, "http://", 7) || !strncasecmp(target, "https://", 8);
	if (!web) {
		path = !strncasecmp(target, "file://", 7) ? desktopentry_file_path(target) :
		       target[0] == '/' ? strdup(target) : NULL;
		if (!path) {
			snprintf(err, errlen, "target must be an http(s) URL, a file:// URL or an "
				 "absolute path");
			goto out;
		}
		if (stat(path, &st) < 0) {
			*code = "not_found";
			snprintf(err, errlen, "no such file or directory '%.200s'", path);
			goto out;
		}
	}
	mime = desktopentry_mime_of(web ? target : path, !web && S_ISDIR(st.st_mode));
	if (launch_app_for(l, mime, app, sizeof app) < 0) {
		snprintf(err, errlen, "no installed application opens '%.200s' (type %s)", target, mime);
		goto out;
	}
	uri = web ? strdup(target) : launch_file_uri(path);
	if (!uri) {
		*code = "internal";
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	json_object_set_new(extra, "target", json_string(target));
	json_object_set_new(extra, "mime_type", json_string(mime));
	r = launch_app(l, id, app, uri, NULL, extra, code, err, errlen);
	extra = NULL;
out:
	json_decref(extra);
	free(path);
	free(uri);
	return r;
}

/* Whether pid is root or one of its descendants (through /proc). */
static int launch_descends(long pid, pid_t root)
{
	for (int depth = 0; pid > 1 && depth < 64; depth++) {
		char path[64], buf[512], *rp;
		long ppid;
		ssize_t n;
		int fd;

		if (pid == root)
			return 1;
		snprintf(path, sizeof path, "/proc/%ld/stat", pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return 0;
		n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n <= 0)
			return 0;
		buf[n] = 0;
		/* "pid (comm) S ppid": comm may hold ')' and spaces. */
		rp = strrchr(buf, ')');
		if (!rp || sscanf(rp + 1, " %*c %ld", &ppid) != 1)
			return 0;
		pid = ppid;
	}
	return 0;
}

static int launch_class_is(Display *dpy, Window w, const char *cls)
{
	XClassHint h = {0};
	int same = 0;

	if (!XGetClassHint(dpy, w, &h))
		return 0;
	same = (h.res_class && !strcasecmp(h.res_class, cls)) ||
	       (h.res_name && !strcasecmp(h.res_name, cls));
	XFree(h.res_name);
	XFree(h.res_class);
	return same;
}

static int launch_was_there(const struct pending *p, Window w)
{
	for (int i = 0; i < p->nbefore; i++)
		if (p->before[i] == w)
			return 1;
	return 0;
}

/* The window that answers p, or 0. */
static Window launch_match(struct launch *l, struct pending *p, struct windows_info *w, int n,
			   int *handed_off, const char **title)
{
	Display *dpy = l->a->disp->dpy;

	/* Pass 0: a new window of the app's own. Once it has handed off
	 * (exited 0): 1, a new window of its class (the instance opened one);
	 * 2, any of its class (the instance opened a tab). */
	for (int pass = 0; pass < 3; pass++) {
		for (int i = 0; i < n; i++) {
			XWindowAttributes wa;
			int ok;

			display_trap_begin(l->a->disp);
			ok = XGetWindowAttributes(dpy, w[i].id, &wa) && wa.map_state == IsViewable &&
			     (pass == 2 || !launch_was_there(p, w[i].id));
			if (ok && pass == 0)
				ok = w[i].pid > 0 ? launch_descends(w[i].pid, p->pid) :
				     launch_class_is(dpy, w[i].id, p->cls);
			else if (ok)
				ok = launch_class_is(dpy, w[i].id, p->cls);
			display_trap_end(l->a->disp);
			if (ok) {
				*handed_off = pass > 0;
				*title = w[i].title;
				return w[i].id;
			}
		}
		if (!p->exited || !WIFEXITED(p->status) || WEXITSTATUS(p->status))
			break;
	}
	return 0;
}

static void launch_answer(struct launch *l, struct pending *p, struct windows_info *w, int n)
{
	int64_t now = input_now_ms();
	int handed_off = 0;
	const char *title = "";
	Window win = launch_match(l, p, w, n, &handed_off, &title);
	char msg[320];
	json_t *res;

	if (win) {
		res = json_pack("{sI sI ss ss% sI}", "pid", (json_int_t)p->pid, "window", (json_int_t)win,
				"app", p->app, "title", title, strlen(title),
				"waited_ms", (json_int_t)(now - p->started));
		if (res && handed_off)
			json_object_set_new(res, "handed_off", json_true());
		if (res && p->extra)
			json_object_update(res, p->extra);
		if (res)
			chan_reply(&l->a->chan, p->id, res, -1);
		else
			chan_reply_error(&l->a->chan, p->id, "internal", "out of memory", -1);
		pending_end(p);
		return;
	}
	if (p->exited && !(WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0)) {
		if (WIFEXITED(p->status))
			snprintf(msg, sizeof msg, "'%s' (pid %d) exited with status %d before it showed "
				 "a window (its output: ~/.cache/deskbox/%s.log)", p->app, (int)p->pid,
				 WEXITSTATUS(p->status), p->app);
		else
			snprintf(msg, sizeof msg, "'%s' (pid %d) was killed by signal %d before it showed "
				 "a window", p->app, (int)p->pid, WTERMSIG(p->status));
		chan_reply_error(&l->a->chan, p->id, "internal", msg, -1);
		pending_end(p);
		return;
	}
	if (now >= p->deadline) {
		snprintf(msg, sizeof msg, "'%s' (pid %d) showed no window within %lld ms; %s", p->app,
			 (int)p->pid, (long long)(p->deadline - p->started),
			 p->exited ? "it exited (status 0) and no window of its class is open" :
			 "it is still running");
		chan_reply_error(&l->a->chan, p->id, "timeout", msg, -1);
		pending_end(p);
	}
}

int launch_wm_settling(struct agent *a)
{
	return a->wm_due || (a->wm >= 0 && !windows_wm_lists(a->disp));
}

void launch_run(struct launch *l)
{
	struct windows_info *w = NULL;
	char err[256];
	int n = 0, any = 0;

	for (int i = 0; i < LAUNCH_PENDING; i++)
		any |= l->p[i].id != NULL;
	if (!any || input_now_ms() < l->next_check)
		return;
	l->next_check = input_now_ms() + LAUNCH_POLL_MS;
	/* A desktop whose window manager is still to start or not managing
	 * yet: no window is answered, since the WM is about to adopt it
	 * (reparent, move, focus) and the window.* call that follows a launch
	 * would find it gone from the root. Checked again at the next poll. */
	if (launch_wm_settling(l->a)) {
		n = 0;
	} else if (windows_list(l->a->disp, &w, &n, err, sizeof err) < 0) {
		w = NULL;
		n = 0;
	}
	for (int i = 0; i < LAUNCH_PENDING; i++)
		if (l->p[i].id)
			launch_answer(l, &l->p[i], w, n);
	if (w)
		windows_free(w, n);
}

int launch_timeout_ms(struct launch *l)
{
	int64_t left = l->next_check - input_now_ms();

	for (int i = 0; i < LAUNCH_PENDING; i++)
		if (l->p[i].id)
			return left < 0 ? 0 : (int)left;
	return -1;
}
