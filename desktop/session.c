/*
 * session.c - the full desktop session (see session.h): wallpaper, panel,
 * and the settings files the default apps read.
 *
 * Runs once per agent start, before the loop serves anything, so it may
 * wait, always with a bound: the window manager owning WM_S0 (the panel's
 * strut and the taskbar need it), the panel's first paint, hsetroot (which
 * runs meanwhile) ending.
 * The settings are written into the sandbox user's home (the agent runs as
 * that user): the browser's preferences every start (they carry the proxy
 * of this sandbox), the default-application list only when there is none
 * (the user's own choice stays). The panel's configuration is a sealed
 * memfd, never a file. Owns nothing after it returns but the panel's pid,
 * which main.c keeps and kills. No global state.
 */
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <X11/Xatom.h>
#include <X11/Xutil.h>

#include "agent.h"
#include "agentproto.h"
#include "log.h"
#include "spawn.h"

#define WM_WAIT_MS    3000
#define WALL_WAIT_MS  2000
#define PANEL_WAIT_MS 5000

/* The default application of each type (desktop file ids), written to
 * ~/.config/mimeapps.list and used by "open". */
static const struct {
	const char *mime, *app;
} session_defaults[] = {
	{ "x-scheme-handler/http", "firefox-esr" },
	{ "x-scheme-handler/https", "firefox-esr" },
	{ "text/html", "firefox-esr" },
	{ "application/xhtml+xml", "firefox-esr" },
	{ "image/svg+xml", "firefox-esr" },
	{ "application/pdf", "mupdf" },
	{ "application/epub+zip", "mupdf" },
	{ "application/oxps", "mupdf" },
	{ "image/png", "firefox-esr" },
	{ "image/jpeg", "firefox-esr" },
	{ "image/gif", "firefox-esr" },
	{ "image/webp", "firefox-esr" },
	{ "text/plain", "org.xfce.mousepad" },
	{ "text/markdown", "org.xfce.mousepad" },
	{ "text/csv", "org.xfce.mousepad" },
	{ "application/json", "org.xfce.mousepad" },
	{ "application/xml", "org.xfce.mousepad" },
	{ "text/x-csrc", "org.xfce.mousepad" },
	{ "text/x-chdr", "org.xfce.mousepad" },
	{ "text/x-python", "org.xfce.mousepad" },
	{ "application/x-shellscript", "org.xfce.mousepad" },
	{ "inode/directory", "pcmanfm" },
};

/* The panel's launcher, in order (those installed). */
static const char *const session_launcher[] = {
	"firefox-esr", "debian-xterm", "org.xfce.mousepad", "pcmanfm", NULL,
};

/* Browser preferences: no first-run or welcome pages, no default-browser
 * prompt, no update checks, no telemetry or studies, no crash-restore
 * prompt, no background network chatter; the proxy follows below. */
static const char session_userjs[] =
	"// Written by deskbox at every desktop start; edits are lost.\n"
	"user_pref(\"browser.shell.checkDefaultBrowser\", false);\n"
	"user_pref(\"browser.aboutwelcome.enabled\", false);\n"
	"user_pref(\"browser.startup.homepage_override.mstone\", \"ignore\");\n"
	"user_pref(\"startup.homepage_welcome_url\", \"\");\n"
	"user_pref(\"startup.homepage_welcome_url.additional\", \"\");\n"
	"user_pref(\"startup.homepage_override_url\", \"\");\n"
	"user_pref(\"browser.startup.firstrunSkipsHomepage\", true);\n"
	"user_pref(\"trailhead.firstrun.didSeeAboutWelcome\", true);\n"
	"user_pref(\"browser.rights.3.shown\", true);\n"
	"user_pref(\"browser.termsofuse.prefMigrationCheck\", true);\n"
	"user_pref(\"datareporting.policy.dataSubmissionEnabled\", false);\n"
	"user_pref(\"datareporting.policy.dataSubmissionPolicyBypassNotification\", true);\n"
	"user_pref(\"datareporting.healthreport.uploadEnabled\", false);\n"
	"user_pref(\"toolkit.telemetry.enabled\", false);\n"
	"user_pref(\"toolkit.telemetry.unified\", false);\n"
	"user_pref(\"toolkit.telemetry.archive.enabled\", false);\n"
	"user_pref(\"app.update.auto\", false);\n"
	"user_pref(\"app.update.enabled\", false);\n"
	"user_pref(\"app.normandy.enabled\", false);\n"
	"user_pref(\"app.shield.optoutstudies.enabled\", false);\n"
	"user_pref(\"extensions.update.enabled\", false);\n"
	"user_pref(\"extensions.getAddons.cache.enabled\", false);\n"
	"user_pref(\"browser.discovery.enabled\", false);\n"
	"user_pref(\"browser.newtabpage.activity-stream.feeds.telemetry\", false);\n"
	"user_pref(\"browser.newtabpage.activity-stream.telemetry\", false);\n"
	"user_pref(\"browser.newtabpage.activity-stream.feeds.topsites\", false);\n"
	"user_pref(\"browser.newtabpage.activity-stream.showSponsored\", false);\n"
	"user_pref(\"browser.ping-centre.telemetry\", false);\n"
	"user_pref(\"browser.safebrowsing.malware.enabled\", false);\n"
	"user_pref(\"browser.safebrowsing.phishing.enabled\", false);\n"
	"user_pref(\"browser.safebrowsing.downloads.enabled\", false);\n"
	"user_pref(\"network.captive-portal-service.enabled\", false);\n"
	"user_pref(\"network.connectivity-service.enabled\", false);\n"
	"user_pref(\"extensions.blocklist.enabled\", false);\n"
	"user_pref(\"browser.region.update.enabled\", false);\n"
	"user_pref(\"browser.region.network.url\", \"\");\n"
	"user_pref(\"browser.search.update\", false);\n"
	"user_pref(\"browser.topsites.contile.enabled\", false);\n"
	"user_pref(\"messaging-system.rsexperimentloader.enabled\", false);\n"
	"user_pref(\"media.gmp-manager.url\", \"\");\n"
	/* What still went out with the above (seen in the egress log of
	 * test_session's http test): Glean's pings to incoming.telemetry
	 * (a negative test port drops every ping unsent), remote settings
	 * and their attachments CDN, and the push service's WebSocket. */
	"user_pref(\"telemetry.fog.test.localhost_port\", -1);\n"
	"user_pref(\"toolkit.telemetry.server\", \"data:,\");\n"
	"user_pref(\"toolkit.telemetry.shutdownPingSender.enabled\", false);\n"
	"user_pref(\"toolkit.telemetry.firstShutdownPing.enabled\", false);\n"
	"user_pref(\"toolkit.telemetry.newProfilePing.enabled\", false);\n"
	"user_pref(\"toolkit.telemetry.updatePing.enabled\", false);\n"
	"user_pref(\"toolkit.telemetry.bhrPing.enabled\", false);\n"
	"user_pref(\"datareporting.usage.uploadEnabled\", false);\n"
	"user_pref(\"services.settings.server\", \"data:,\");\n"
	"user_pref(\"dom.push.enabled\", false);\n"
	"user_pref(\"dom.push.connection.enabled\", false);\n"
	"user_pref(\"dom.push.serverURL\", \"\");\n"
	"user_pref(\"browser.urlbar.quicksuggest.enabled\", false);\n"
	"user_pref(\"browser.urlbar.suggest.quicksuggest.sponsored\", false);\n"
	"user_pref(\"browser.urlbar.suggest.quicksuggest.nonsponsored\", false);\n"
	"user_pref(\"security.remote_settings.crlite_filters.enabled\", false);\n"
	"user_pref(\"security.remote_settings.intermediates.enabled\", false);\n"
	"user_pref(\"browser.translations.enable\", false);\n"
	"user_pref(\"browser.ml.enable\", false);\n"
	"user_pref(\"browser.newtabpage.activity-stream.discoverystream.enabled\", false);\n"
	"user_pref(\"browser.newtabpage.activity-stream.feeds.section.topstories\", false);\n"
	"user_pref(\"browser.newtabpage.activity-stream.newtabWallpapers.enabled\", false);\n"
	"user_pref(\"browser.newtabpage.activity-stream.newtabWallpapers.v2.enabled\", false);\n"
	"user_pref(\"browser.newtabpage.activity-stream.feeds.weatherfeed\", false);\n"
	"user_pref(\"browser.newtabpage.activity-stream.showWeather\", false);\n"
	"user_pref(\"extensions.systemAddon.update.enabled\", false);\n"
	"user_pref(\"browser.contentblocking.report.lockwise.enabled\", false);\n"
	"user_pref(\"media.gmp-gmpopenh264.enabled\", false);\n"
	"user_pref(\"network.prefetch-next\", false);\n"
	"user_pref(\"network.dns.disablePrefetch\", true);\n"
	"user_pref(\"browser.sessionstore.resume_from_crash\", false);\n"
	"user_pref(\"browser.tabs.warnOnClose\", false);\n"
	"user_pref(\"browser.warnOnQuit\", false);\n"
	"user_pref(\"browser.download.panel.shown\", true);\n"
	"user_pref(\"privacy.sanitize.pending\", \"[]\");\n"
	"user_pref(\"signon.rememberSignons\", false);\n"
	"user_pref(\"sidebar.revamp\", false);\n"
	/* Memory: one desktop holds a few tabs. Fewer content processes and
	 * none started ahead of need; site isolation (fission) stays on, and
	 * every content process runs under Firefox's seccomp sandbox. */
	"user_pref(\"dom.ipc.processCount\", 2);\n"
	"user_pref(\"dom.ipc.processPrelaunch.enabled\", false);\n"
	"user_pref(\"browser.newtabpage.preload\", false);\n"
	"user_pref(\"browser.startup.preXulSkeletonUI\", false);\n";

const char *session_default_app(const char *mime)
{
	for (size_t i = 0; i < sizeof session_defaults / sizeof *session_defaults; i++)
		if (!strcasecmp(session_defaults[i].mime, mime))
			return session_defaults[i].app;
	return NULL;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap(void)
{
	struct timespec ts = {0, 5 * 1000 * 1000};

	nanosleep(&ts, NULL);
}

/* Write a whole file (0644), creating its directories. Returns 0 or -1. */
static int session_write(const char *path, const char *text, size_t len, int replace)
{
	char dir[512];
	int fd, r = -1;

	snprintf(dir, sizeof dir, "%s", path);
	for (char *s = strchr(dir + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = 0;
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (replace ? O_TRUNC : O_EXCL), 0644);
	if (fd < 0)
		return replace || errno != EEXIST ? -1 : 0;
	if (write(fd, text, len) == (ssize_t)len)
		r = 0;
	close(fd);
	return r;
}

/* "http://host:port[/]" into host and port; 0, or -1 when it is not that. */
static int session_proxy(const char *url, char *host, size_t hostlen, int *port)
{
	const char *h, *colon;
	char *end;
	long p;
	size_t n;

	if (!url || !(h = strstr(url, "://")))
		return -1;
	h += 3;
	colon = strrchr(h, ':');
	if (!colon)
		return -1;
	n = (size_t)(colon - h);
	p = strtol(colon + 1, &end, 10);
	if (n == 0 || n >= hostlen || p < 1 || p > 65535 || (*end && strcmp(end, "/")) ||
	    strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-[]:") < n)
		return -1;
	memcpy(host, h, n);
	host[n] = 0;
	*port = (int)p;
	return 0;
}

/*
 * The browser's profile: profiles.ini naming one profile (the sandbox's
 * environment carries MOZ_LEGACY_PROFILES=1, so Firefox takes it rather
 * than making a profile per install), and its user.js. The proxy comes
 * from HTTP(S)_PROXY as deskboxd sets it when an egress policy applies;
 * without one the browser goes direct (to nothing but the sandbox's lo).
 */
static void session_browser_profile(const char *home)
{
	static const char ini[] =
		"[General]\nStartWithLastProfile=1\nVersion=2\n\n"
		"[Profile0]\nName=deskbox\nIsRelative=1\nPath=deskbox.default\nDefault=1\n";
	char path[512], host[256], proxy[1024];
	size_t n = sizeof session_userjs - 1;
	char *js = malloc(n + sizeof proxy);
	int port;

	if (!js)
		return;
	memcpy(js, session_userjs, n);
	if (session_proxy(getenv("HTTP_PROXY"), host, sizeof host, &port) == 0)
		snprintf(proxy, sizeof proxy,
			 "user_pref(\"network.proxy.type\", 1);\n"
			 "user_pref(\"network.proxy.http\", \"%s\");\n"
			 "user_pref(\"network.proxy.http_port\", %d);\n"
			 "user_pref(\"network.proxy.ssl\", \"%s\");\n"
			 "user_pref(\"network.proxy.ssl_port\", %d);\n"
			 "user_pref(\"network.proxy.no_proxies_on\", \"localhost, 127.0.0.1, ::1\");\n",
			 host, port, host, port);
	else
		snprintf(proxy, sizeof proxy, "user_pref(\"network.proxy.type\", 0);\n");
	memcpy(js + n, proxy, strlen(proxy));
	n += strlen(proxy);
	snprintf(path, sizeof path, "%s/.mozilla/firefox/profiles.ini", home);
	if (session_write(path, ini, sizeof ini - 1, 0) < 0)
		agent_log("browser profile: %s: %s", path, strerror(errno));
	snprintf(path, sizeof path, "%s/.mozilla/firefox/deskbox.default/user.js", home);
	if (session_write(path, js, n, 1) < 0)
		agent_log("browser profile: %s: %s", path, strerror(errno));
	free(js);
}

static void session_mimeapps(const char *home)
{
	char path[512], text[4096];
	size_t n = (size_t)snprintf(text, sizeof text, "[Default Applications]\n");

	for (size_t i = 0; i < sizeof session_defaults / sizeof *session_defaults; i++)
		n += (size_t)snprintf(text + n, sizeof text - n, "%s=%s.desktop\n",
				      session_defaults[i].mime, session_defaults[i].app);
	snprintf(path, sizeof path, "%s/.config/mimeapps.list", home);
	if (session_write(path, text, n, 0) < 0)
		agent_log("default applications: %s: %s", path, strerror(errno));
}

/* Xft.dpi for the toolkits (Xvfb's own -dpi sets the screen's size in mm). */
static void session_dpi(struct agent *a, int dpi)
{
	char res[64];
	int n = snprintf(res, sizeof res, "Xft.dpi:\t%d\n", dpi);

	XChangeProperty(a->disp->dpy, a->disp->root, XA_RESOURCE_MANAGER, XA_STRING, 8,
			PropModeReplace, (unsigned char *)res, n);
	XFlush(a->disp->dpy);
}

static int session_wm_up(struct agent *a)
{
	Atom sel = XInternAtom(a->disp->dpy, "WM_S0", False);
	int64_t until = now_ms() + WM_WAIT_MS;

	while (XGetSelectionOwner(a->disp->dpy, sel) == None) {
		if (now_ms() >= until)
			return 0;
		nap();
	}
	return 1;
}

/* Wait (bounded) for a short command to end; killed past wait_ms. */
static void session_reap(pid_t pid, const char *what, int wait_ms)
{
	int64_t until = now_ms() + wait_ms;
	int st;

	if (pid < 0)
		return;
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (now_ms() >= until) {
			agent_log("%s: still running after %d ms: killed", what, wait_ms);
			spawn_kill_group(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return;
		}
		nap();
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		agent_log("%s: ended with status 0x%x", what, st);
}

/* tint2's configuration: one panel along the bottom, launcher, taskbar,
 * clock. Solid colours only (no pseudo-transparency to recompute). */
static int session_panel_config(void)
{
	char text[4096], path[256];
	size_t n;
	int fd;

	n = (size_t)snprintf(text, sizeof text,
		"rounded = 0\nborder_width = 0\nbackground_color = #%06x 100\nborder_color = #000000 0\n\n"
		"rounded = 2\nborder_width = 0\nbackground_color = #3b4a63 100\nborder_color = #000000 0\n\n"
		"panel_items = LTC\npanel_monitor = all\npanel_position = bottom center horizontal\n"
		"panel_size = 100%% %d\npanel_margin = 0 0\npanel_padding = 4 0 4\n"
		"panel_background_id = 1\npanel_layer = top\nstrut_policy = follow_size\n"
		"panel_dock = 0\nwm_menu = 0\nautohide = 0\ndisable_transparency = 1\n"
		"mouse_effects = 0\n"
		"taskbar_mode = single_desktop\ntaskbar_padding = 4 3 4\ntaskbar_background_id = 0\n"
		"taskbar_name = 0\ntask_text = 1\ntask_icon = 1\ntask_centered = 0\n"
		"task_maximum_size = 200 24\ntask_padding = 6 2 4\ntask_font = sans 9\n"
		"task_font_color = #d8dee9 100\ntask_background_id = 0\n"
		"task_active_background_id = 2\ntask_active_font_color = #ffffff 100\n"
		"urgent_nb_of_blink = 0\n"
		"launcher_padding = 4 3 6\nlauncher_background_id = 0\nlauncher_icon_size = 22\n"
		"launcher_icon_theme = hicolor\nlauncher_tooltip = 1\nstartup_notifications = 0\n",
		SESSION_PANEL_RGB, SESSION_PANEL_HEIGHT);
	for (int i = 0; session_launcher[i]; i++) {
		snprintf(path, sizeof path, "/usr/share/applications/%s.desktop", session_launcher[i]);
		if (access(path, R_OK) == 0)
			n += (size_t)snprintf(text + n, sizeof text - n, "launcher_item_app = %s\n", path);
	}
	n += (size_t)snprintf(text + n, sizeof text - n,
		"time1_format = %%H:%%M\ntime1_font = sans bold 10\nclock_font_color = #eceff4 100\n"
		"clock_padding = 10 0\nclock_background_id = 0\nclock_lclick_command = \n"
		"tooltip = 0\n");
	fd = memfd_create("tint2rc", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0 || n >= sizeof text || write(fd, text, n) != (ssize_t)n ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* The screen's pixel at x, y as 0xRRGGBB. */
static unsigned long session_pixel(struct agent *a, int x, int y)
{
	XImage *im = XGetImage(a->disp->dpy, a->disp->root, x, y, 1, 1, AllPlanes, ZPixmap);
	unsigned long p;

	if (!im)
		return ~0UL;
	p = XGetPixel(im, 0, 0) & 0xffffff;
	XDestroyImage(im);
	return p;
}

static pid_t session_panel(struct agent *a)
{
	char path[64], *argv[] = {"tint2", "-c", path, NULL};
	int64_t until;
	pid_t pid;
	int fd = session_panel_config(), st, quiet;

	if (fd < 0) {
		agent_log("panel config: %s", strerror(errno));
		return -1;
	}
	/* The child keeps fd at the same number: /proc/self/fd/N is it. */
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	/* tint2 tells every icon it looks up: not for deskboxd's log. */
	quiet = open("/dev/null", O_WRONLY | O_CLOEXEC);
	pid = spawn_exec_logged("/usr/bin/tint2", argv, fd, quiet, SIGTERM);
	close(fd);
	if (quiet >= 0)
		close(quiet);
	if (pid < 0) {
		agent_log("panel: %s", strerror(errno));
		return -1;
	}
	/* Drawn: its background at the bottom right, below the clock's text
	 * (the wallpaper there is another colour). */
	until = now_ms() + PANEL_WAIT_MS;
	while (session_pixel(a, a->disp->width - 2, a->disp->height - 2) != SESSION_PANEL_RGB) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			agent_log("panel: tint2 ended with status 0x%x", st);
			return -1;
		}
		if (now_ms() >= until) {
			agent_log("panel: not drawn after %d ms; going on", PANEL_WAIT_MS);
			break;
		}
		nap();
	}
	return pid;
}

/* The session bus (see AGENTPROTO_SESSION_BUS); its pid or -1. */
static pid_t session_bus(void)
{
	char *argv[] = {"dbus-daemon", "--session", "--nofork", "--nopidfile",
			"--address=" AGENTPROTO_SESSION_BUS, NULL};
	int quiet = open("/dev/null", O_WRONLY | O_CLOEXEC);
	pid_t pid;

	if (setenv("DBUS_SESSION_BUS_ADDRESS", AGENTPROTO_SESSION_BUS, 1) < 0)
		return -1;
	pid = spawn_exec_logged("/usr/bin/dbus-daemon", argv, -1, quiet, SIGTERM);
	if (quiet >= 0)
		close(quiet);
	if (pid < 0)
		agent_log("session bus: %s", strerror(errno));
	return pid;
}

pid_t session_start(struct agent *a, int full, int dpi)
{
	const char *home = getenv("HOME");
	char *wall[] = {"/usr/bin/hsetroot", "-add", SESSION_WALL_TOP, "-add", SESSION_WALL_BOTTOM,
			"-gradient", "0", NULL};
	pid_t wall_pid, panel;

	/* A bare desktop at the default 96 keeps the root free of resources
	 * (with RESOURCE_MANAGER set, Xlib clients skip ~/.Xdefaults). */
	if (full || dpi != 96)
		session_dpi(a, dpi);
	if (!full)
		return -1;
	a->bus = session_bus();
	/* Release builds of Firefox read services.settings.server (the
	 * profile points it nowhere) only with this set: otherwise remote
	 * settings sync from Mozilla's servers at every start. */
	if (setenv("MOZ_REMOTE_SETTINGS_DEVTOOLS", "1", 1) < 0)
		agent_log("session: setenv: %s", strerror(errno));
	/* The user's files, made as the user (the agent may be a uid of its own). */
	if (home && *home && spawn_user_fs(1) == 0) {
		session_browser_profile(home);
		session_mimeapps(home);
	}
	spawn_user_fs(0);
	/* The wallpaper draws while the window manager starts; the panel
	 * waits for the manager (tint2 without one retries a second later). */
	wall_pid = spawn_exec(wall[0], wall, -1, -1, SIGTERM);
	if (wall_pid < 0)
		agent_log("wallpaper: %s", strerror(errno));
	if (a->wm >= 0 && !session_wm_up(a))
		agent_log("session: the window manager did not start in %d ms", WM_WAIT_MS);
	panel = session_panel(a);
	session_reap(wall_pid, "hsetroot", WALL_WAIT_MS);
	return panel;
}
