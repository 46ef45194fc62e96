/*
 * main.c - deskboxd: settings, state directory, token, the event loop, and
 * an orderly shutdown.
 *
 * Owns the one `struct srv`. Start-up may exit the process on a fatal error;
 * nothing after the loop starts does. SIGTERM and SIGINT arrive through a
 * signalfd in the loop; every sandbox is destroyed before exit(0).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/sendfile.h>

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U   /* Linux 6.3: executable even under vm.memfd_noexec=1 */
#endif
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bus.h"
#include "cloner.h"
#include "cpufair.h"
#include "drain.h"
#include "mcp.h"
#include "adapt_bash.h"
#include "egress.h"
#include "ev.h"
#include "front.h"
#include "http.h"
#include "log.h"
#include "op.h"
#include "pool.h"
#include "rest.h"
#include "rpc_ws.h"
#include "sandbox.h"
#include "seccomp.h"
#include "single.h"
#include "srv.h"
#include "util.h"

static struct srv srv;

__attribute__((noreturn, format(printf, 1, 2)))
static void fatal(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_event(NULL, "fatal: %s", msg);
	exit(1);
}

static void mkdirs(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		fatal("path too long: %s", path);
	for (char *p = strchr(tmp + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			fatal("mkdir %s: %s", tmp, strerror(errno));
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		fatal("mkdir %s: %s", tmp, strerror(errno));
}

static void load_config(int argc, char **argv)
{
	const char *file = config_file_arg(argc, argv);
	char err[4096];
	int r;

	config_defaults(&srv.cfg);
	if (file) {
		FILE *f = fopen(file, "re");
		char *text;
		long n;

		if (!f)
			fatal("config %s: %s", file, strerror(errno));
		fseek(f, 0, SEEK_END);
		n = ftell(f);
		rewind(f);
		text = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
		if (!text || (n > 0 && fread(text, 1, (size_t)n, f) != (size_t)n))
			fatal("config %s: cannot read", file);
		fclose(f);
		if (config_parse_file(&srv.cfg, text, err, sizeof(err)))
			fatal("config %s: %s", file, err);
		free(text);
	}
	r = config_parse_args(&srv.cfg, argc, argv, err, sizeof(err));
	if (r > 0) {
		fputs(err, stdout);
		exit(0);
	}
	if (r < 0) {
		fprintf(stderr, "deskboxd: %s\n%s", err, config_usage);
		exit(2);
	}
}

static void default_state_dir(void)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

	if (srv.cfg.state_dir[0])
		return;
	if (!srv.rootless)
		snprintf(srv.cfg.state_dir, sizeof(srv.cfg.state_dir), "/var/lib/deskbox");
	else if (xdg && xdg[0] == '/')
		snprintf(srv.cfg.state_dir, sizeof(srv.cfg.state_dir), "%s/deskbox", xdg);
	else if (home && home[0] == '/')
		snprintf(srv.cfg.state_dir, sizeof(srv.cfg.state_dir), "%s/.local/state/deskbox", home);
	else
		fatal("no state directory: give --state-dir");
}

/* --token, else $DESKBOX_TOKEN, else STATE/token, else a new one saved
 * there. Returns 1 if it was generated now. */
static int load_token(void)
{
	char path[PATH_MAX + 16];
	const char *env = getenv("DESKBOX_TOKEN");
	uint8_t rnd[32];
	int fd;
	ssize_t n;

	if (srv.cfg.token[0]) {
		snprintf(srv.token, sizeof(srv.token), "%s", srv.cfg.token);
		return 0;
	}
	if (env && env[0]) {
		snprintf(srv.token, sizeof(srv.token), "%s", env);
		return 0;
	}
	snprintf(path, sizeof(path), "%s/token", srv.cfg.state_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		n = read(fd, srv.token, sizeof(srv.token) - 1);
		close(fd);
		if (n > 0) {
			srv.token[n] = '\0';
			srv.token[strcspn(srv.token, "\r\n")] = '\0';
			if (srv.token[0])
				return 0;
		}
	}
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		fatal("getrandom: %s", strerror(errno));
	id_format(rnd, sizeof(rnd), srv.token);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, srv.token, strlen(srv.token)) < 0 || write(fd, "\n", 1) < 0)
		fatal("save %s: %s", path, strerror(errno));
	close(fd);
	return 1;
}

static void lock_state_dir(void)
{
	char path[PATH_MAX + 16];
	int fd;

	snprintf(path, sizeof(path), "%s/lock", srv.cfg.state_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		fatal("open %s: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		fatal("another deskboxd is using %s", srv.cfg.state_dir);
	/* Held (and so the fd kept open) until exit. */
}

static void set_instance(void)
{
	uint64_t h = 1469598103934665603ULL;

	for (const char *p = srv.cfg.state_dir; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ULL;
	snprintf(srv.instance, sizeof(srv.instance), "deskbox-%08x", (unsigned)(h ^ (h >> 32)));
}

/* Our binaries sit beside deskboxd. */
/*
 * The desktop agent's binary as a sealed memfd that nobody may read, only
 * execute (mode 0111). A process exec'ing a file it cannot read starts
 * non-dumpable, its mm owned by the host's user namespace: from its first
 * instruction, user code of the same uid can neither ptrace it nor open its
 * /proc/<pid>/mem, fd or environ (the agent also calls PR_SET_DUMPABLE, but
 * only once it runs). Returns the fd, or -1 (the caller uses the file).
 */
static int exec_only_copy(int fd)
{
	struct stat st;
	off_t off = 0;
	char path[64];
	int p, m = memfd_create("deskbox-desktop", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);

	/* Before Linux 6.3 there is no MFD_EXEC, and memfds are executable. */
	if (m < 0 && errno == EINVAL)
		m = memfd_create("deskbox-desktop", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (m < 0 || fstat(fd, &st) < 0)
		goto fail;
	while (off < st.st_size)
		if (sendfile(m, fd, &off, (size_t)(st.st_size - off)) <= 0)
			goto fail;
	if (fchmod(m, 0111) < 0 ||
	    fcntl(m, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0)
		goto fail;
	/* Hand out an O_PATH reopen: whoever holds it can exec, not read. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", m);
	p = open(path, O_PATH | O_CLOEXEC);
	if (p < 0)
		goto fail;
	close(m);
	return p;
fail:
	log_event(NULL, "cannot make an exec-only copy of the desktop agent: %s", strerror(errno));
	if (m >= 0)
		close(m);
	return -1;
}

static void open_binaries(char *exe_dir, size_t cap)
{
	char exe[PATH_MAX], path[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n <= 0)
		fatal("readlink /proc/self/exe: %s", strerror(errno));
	exe[n] = '\0';
	snprintf(exe_dir, cap, "%s", dirname(exe));
	snprintf(path, sizeof(path), "%s/deskbox-init", exe_dir);
	srv.init_fd = open(path, O_PATH | O_CLOEXEC);
	if (srv.init_fd < 0)
		fatal("open %s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), "%s/deskbox-desktop", exe_dir);
	srv.desktop_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (srv.desktop_fd < 0) {
		log_event(NULL, "no desktop agent at %s: sandboxes default to shell-only", path);
	} else {
		int m = exec_only_copy(srv.desktop_fd);

		if (m >= 0) {
			close(srv.desktop_fd);
			srv.desktop_fd = m;
		}
	}
}

/* A sandbox's `endpoint`: --advertise-url, else the address we listen on
 * (the host's name when that is every address). */
static void set_endpoint(void)
{
	char host[256];
	const char *h = srv.cfg.listen_host;

	if (srv.cfg.advertise_url[0])
		return;
	if (!strcmp(h, "0.0.0.0") || !strcmp(h, "::")) {
		if (gethostname(host, sizeof(host)) < 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		h = host;
	}
	snprintf(srv.cfg.advertise_url, sizeof(srv.cfg.advertise_url), strchr(h, ':') ? "http://[%s]:%d" : "http://%s:%d",
		 h, srv.cfg.listen_port);
}

static void on_signal(void *ctx, uint32_t events)
{
	struct signalfd_siginfo si;

	while (read(srv.signal_fd, &si, sizeof(si)) == sizeof(si)) {
		/* SIGTERM drains first (what Kubernetes and podman send); SIGINT,
		 * a second SIGTERM or --drain-grace 0 stop at once. */
		if (si.ssi_signo == SIGTERM && srv.cfg.drain_grace_s > 0 && !srv.drain.exit) {
			drain_begin(&srv, 1, "SIGTERM");
		} else if (si.ssi_signo == SIGUSR1) {
			drain_begin(&srv, 0, "SIGUSR1");
		} else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			if (!srv.stopping)
				log_event(NULL, "signal %d: shutting down", (int)si.ssi_signo);
			srv.stopping = 1;
			lws_cancel_service(srv.ctx);
		}
	}
}

static const struct lws_protocols protocols[] = {
	{ "http", http_lws_callback, sizeof(struct http_req), 65536, 0, NULL, 0 },
	/* noVNC asks for the "binary" subprotocol; same handling. */
	{ "binary", http_lws_callback, sizeof(struct http_req), 65536, 0, NULL, 0 },
	{ RPC_WS_PROTOCOL, rpc_ws_callback, sizeof(void *), 65536, 0, NULL, 0 },
	{ "deskbox-ev", ev_lws_callback, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static struct lws_http_mount mounts[5];

/* What lws does not know by itself (it answers 415 for unknown types). */
static const struct lws_protocol_vhost_options mimetypes[] = {
	{ &mimetypes[1], NULL, ".mjs", "text/javascript" },
	{ &mimetypes[2], NULL, ".map", "application/json" },
	{ &mimetypes[3], NULL, ".wasm", "application/wasm" },
	{ &mimetypes[4], NULL, ".svg", "image/svg+xml" },
	{ NULL, NULL, ".woff2", "font/woff2" },
};

static void setup_mounts(const char *web_dir)
{
	/* The paths the operation table answers (rest.c's routes); the rest
	 * of / is the browser UI's files. */
	static const char *const api[] = { "/v1", "/healthz", "/readyz", "/metrics" };
	static char web[PATH_MAX];
	struct stat st;
	size_t n = sizeof(api) / sizeof(api[0]);

	snprintf(web, sizeof(web), "%s", web_dir);
	memset(mounts, 0, sizeof(mounts));
	for (size_t i = 0; i < n; i++) {
		mounts[i].mountpoint = api[i];
		mounts[i].mountpoint_len = (unsigned char)strlen(api[i]);
		mounts[i].origin = "http";
		mounts[i].origin_protocol = LWSMPRO_CALLBACK;
		mounts[i].mount_next = i + 1 < n ? &mounts[i + 1] : NULL;
	}
	if (stat(web, &st) == 0 && S_ISDIR(st.st_mode)) {
		mounts[n - 1].mount_next = &mounts[n];
		mounts[n].mountpoint = "/";
		mounts[n].mountpoint_len = 1;
		mounts[n].origin = web;
		mounts[n].def = "index.html";
		mounts[n].origin_protocol = LWSMPRO_FILE;
		mounts[n].extra_mimetypes = mimetypes;
	}
}

/* Most descriptors deskboxd asks for: ~6 per desktop, so room for
 * thousands, while keeping lws's per-fd tables (sized from the limit) small. */
#define MAIN_NOFILE_WANT 65536

/*
 * A soft open-file limit of 1024 (the usual default, systemd's too) would
 * cap deskboxd near 160 desktops: raise it towards the hard limit, which
 * is the administrator's bound. Sandboxes get their own (--nofile).
 */
static void raise_nofile(void)
{
	struct rlimit rl;
	rlim_t want = MAIN_NOFILE_WANT;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want)
		want = rl.rlim_max;
	rl.rlim_cur = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		log_event(NULL, "cannot raise the open-file limit: %s", strerror(errno));
}

int main(int argc, char **argv)
{
	struct lws_context_creation_info info;
	char exe_dir[PATH_MAX], web[PATH_MAX + 16], real[PATH_MAX], err[1024];
	sigset_t set;
	int generated;

	if (argc == 2 && !strcmp(argv[1], "--list-ops")) {
		/* The operation table, for docs/operations.md and the clients. */
		json_t *ops = op_describe_all(rest_describe);

		json_dumpf(ops, stdout, JSON_INDENT(1) | JSON_SORT_KEYS);
		putchar('\n');
		json_decref(ops);
		return 0;
	}
	load_config(argc, argv);
	raise_nofile();
	srv.rootless = geteuid() != 0;
	srv.init_fd = srv.desktop_fd = srv.signal_fd = -1;
	default_state_dir();
	mkdirs(srv.cfg.state_dir, 0700);
	if (!realpath(srv.cfg.state_dir, real))
		fatal("state dir %s: %s", srv.cfg.state_dir, strerror(errno));
	snprintf(srv.cfg.state_dir, sizeof(srv.cfg.state_dir), "%s", real);
	lock_state_dir();
	generated = load_token();
	set_instance();
	snprintf(srv.mnt_dir, sizeof(srv.mnt_dir), "%s/mnt", srv.cfg.state_dir);
	mkdirs(srv.mnt_dir, 0700);
	if (srv.cfg.images_dir[0])
		snprintf(srv.images_dir, sizeof(srv.images_dir), "%s", srv.cfg.images_dir);
	else
		snprintf(srv.images_dir, sizeof(srv.images_dir), "%s/images", srv.cfg.state_dir);
	open_binaries(exe_dir, sizeof(exe_dir));
	/* Before any signal is blocked: it waits for its xkbcomp child. */
	keymap_prepare(&srv.keymap, exe_dir);
	srv.null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (srv.null_fd < 0)
		fatal("open /dev/null: %s", strerror(errno));
	if (srv.cfg.web_dir[0])
		snprintf(web, sizeof(web), "%s", srv.cfg.web_dir);
	else
		snprintf(web, sizeof(web), "%s/../web", exe_dir);
	if (realpath(web, real))
		snprintf(web, sizeof(web), "%s", real);
	srv.seccomp = seccomp_prog_build();
	if (!srv.seccomp)
		fatal("no seccomp filter: refusing to run sandboxes without one");
	cgroup_host_init(&srv.cg, srv.instance, srv.rootless);
	srv.uids.fd = -1;
	if (srv.cfg.uid_base % UIDRANGE_SIZE)
		fatal("--uid-base %ld is not a multiple of %u", srv.cfg.uid_base, UIDRANGE_SIZE);
	if (!srv.rootless && uidrange_open(&srv.uids, (uint32_t)srv.cfg.uid_base, UIDRANGE_LOCK) < 0)
		fatal("uid ranges: %s: %s", UIDRANGE_LOCK, strerror(errno));
	log_event(NULL, "cgroups: %s, enforcing%s%s%s%s%s", srv.cg.mode,
		  srv.cg.enforced & CG_MEMORY ? " memory" : "",
		  srv.cg.enforced & CG_PIDS ? " pids" : "",
		  srv.cg.enforced & CG_CPU ? " cpu" : "",
		  srv.cg.enforced ? "" : " nothing",
		  srv.rootless ? " (rootless: user namespaces)" : "");

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	srv.cloner = cloner_start(&srv.cg);
	srv.signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (srv.signal_fd < 0)
		fatal("signalfd: %s", strerror(errno));

	lws_set_log_level(LLL_ERR, NULL);
	setup_mounts(web);
	memset(&info, 0, sizeof(info));
	/* front.c listens and hands connections to lws (why: see there). */
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.mounts = mounts;
	info.user = &srv;
	info.timeout_secs = 30;
	info.keepalive_timeout = 60;
	info.max_http_header_data = 8192;
	srv.ctx = lws_create_context(&info);
	if (!srv.ctx)
		fatal("cannot set up libwebsockets");
	srv.vh = lws_get_vhost_by_name(srv.ctx, "default");
	if (!srv.vh || ev_init(&srv) < 0 ||
	    ev_add(&srv, srv.signal_fd, EPOLLIN, on_signal, NULL) < 0)
		fatal("cannot set up the event loop");
	if (front_start(&srv, err, sizeof(err)) < 0)
		fatal("%s", err);
	if (srv.cfg.egress_hosts[0]) {
		char why[600];

		if (egress_check_hosts(srv.cfg.egress_hosts, why, sizeof(why)) < 0)
			fatal("--egress-hosts %s: %s", srv.cfg.egress_hosts, why);
	}
	egress_start(&srv, exe_dir);

	set_endpoint();
	if (single_start(&srv, err, sizeof(err)) < 0 || pool_start(&srv, err, sizeof(err)) < 0)
		fatal("%s", err);
	cpufair_start(&srv);
	log_event(NULL, "deskboxd listening on http://%s:%d/ (state %s, web %s)",
		  srv.cfg.listen_host, srv.cfg.listen_port, srv.cfg.state_dir, web);
	/* Said once at start, not only at each create that then fails. */
	if (srv.desktop_fd >= 0 && srv.cfg.desktop_session == SESSION_FULL &&
	    sbx_session_missing("", err, sizeof(err)))
		log_event(NULL, "notice: the default desktop session is full but this host lacks %s: "
			  "creates on the host root filesystem fail until they are installed "
			  "(scripts/deps.sh) or ask for {\"desktop\":{\"session\":\"bare\"}} "
			  "(or start with --desktop-session bare)", err);
	if (generated || isatty(2))
		log_event(NULL, "API token: %s", srv.token);
	else
		log_event(NULL, "API token: from %s", srv.cfg.token[0] ? "--token" :
			  getenv("DESKBOX_TOKEN") ? "DESKBOX_TOKEN" : "STATE_DIR/token");

	while (!srv.stopping)
		if (lws_service(srv.ctx, 0) < 0)
			break;

	ev_timer_cancel(&srv.drain.timer);
	cpufair_stop(&srv);
	sbx_destroy_all(&srv);
	single_stop(&srv);
	pool_stop(&srv);
	bus_destroy(&srv);
	mcp_destroy(&srv);
	adapt_bash_destroy_all(&srv);
	egress_stop(&srv);
	/* After every sandbox: their parent-death signal is this thread's. */
	cloner_stop(srv.cloner);
	cgroup_host_cleanup(&srv.cg);
	front_stop(&srv);
	lws_context_destroy(srv.ctx);
	ev_shutdown(&srv);
	seccomp_prog_free(srv.seccomp);
	keymap_free(&srv.keymap);
	uidrange_close(&srv.uids);
	log_event(NULL, "stopped");
	return srv.exit_code;
}
