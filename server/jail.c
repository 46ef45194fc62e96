/*
 * jail.c - the namespace jail of one sandbox.
 *
 * deskboxd (parent) clones a child into new namespaces, born in its cgroups
 * where it can be (v2: CLONE_INTO_CGROUP; v1: cloned by the cloner thread
 * from a spare, cloner.c), writes its maps and releases it; it moves the
 * child into any other cgroups while the child builds the jail, and
 * releases it again once that is done. The child builds the
 * jail in the order the trusted jails converge on and ends by exec'ing
 * deskbox-init by fd, so no deskboxd memory (the API token) lives on in the
 * sandbox:
 *
 *   private propagation → root on a tmpfs (nosuid, nodev) with
 *   read-only binds of /usr (host mode) or an overlay on an image → generated
 *   /etc → fresh /proc, read-only /sys, minimal /dev, devpts, /dev/shm (a
 *   directory of the root's tmpfs, so disk_mb bounds it) → pivot_root and
 *   detach the old root → root read-only (only /tmp, /home/user, /run and
 *   /dev/shm stay writable) → hostname, lo up → (in its cgroups) cgroup ns
 *   → setsid → fds: channel as 3,
 *   /dev/null as 0-2, nothing else → rlimits (after the fds: a lower nofile
 *   leaves no room to move high fds down) → user namespace → drop the
 *   capability bounding set → uid/gid 1000 (clears every capability; as
 *   root all but CAP_SETUID/CAP_SETGID/CAP_KILL of the user namespace, which init
 *   keeps to start the desktop agent as a uid of its own: include/caps.h)
 *   → PDEATHSIG → no_new_privs → seccomp → execveat(init).
 *
 * The user namespace. As root, every sandbox runs on a host id range of its
 * own (uidrange.c), so no two share a host uid or the kernel's per-user
 * limits. The child builds the jail as root, as before any namespace is
 * entered, then sets its effective uid to the range's first id and unshares
 * a user namespace: its owner, that uid, is what the kernel charges the
 * namespace's inotify instances and watches, mqueue bytes and processes to
 * at the host level (an owner of root would make every sandbox share root's
 * counts). A helper forked before that, still root, writes the maps (ids
 * 0..65535 inside = the range outside) and exits; only then does the child
 * become uid 1000. The namespace owns none of the others (pid, mount, net,
 * ipc, uts, cgroup stay the host's), so even its root could change nothing.
 * Rootless, the clone itself makes the user namespace and deskboxd maps
 * its one uid to 1000: all sandboxes share that uid and its limits.
 *
 * The parent side runs in the event loop and never waits on the child; the
 * child side runs only in the cloned process and reports failures as text on
 * a pipe before exiting.
 */
#include "jail.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <linux/securebits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/seccomp.h>

#include "caps.h"
#include "cloner.h"
#include "egress.h"
#include "keymap.h"
#include "keymapdir.h"
#include "log.h"
#include "proto.h"

/* Host /etc entries a desktop and a shell need, bound read-only when present. */
static const char *const host_etc[] = {
	"alternatives", "fonts", "X11", "xdg", "ld.so.cache", "ld.so.conf",
	"ld.so.conf.d", "localtime", "timezone", "ssl", "ca-certificates",
	"mime.types", "bash.bashrc", "profile", "profile.d", "inputrc",
	"terminfo", "python3", "python3.11", "os-release", "debian_version",
	"locale.alias", "locale.conf", "default", "gtk-3.0", "pulse",
	"vim", "magic", "magic.mime", "login.defs", "shells", "mailcap",
	"openbox", "dconf", "gai.conf", "host.conf", "machine-id",
	"firefox-esr",   /* Debian's browser defaults (firefox-esr.js) */
};

/* Host device nodes bound into the sandbox's /dev. */
static const char *const host_dev[] = {
	"null", "zero", "full", "random", "urandom", "tty",
};

struct child {
	const struct jail_spec *s;
	int errfd;
};

/* The user's ids as the child sees them while it builds the jail: host ids
 * as root (it is not in the user namespace yet), the mapped ones rootless. */
static uid_t owner_uid(const struct jail_spec *s)
{
	return s->nids > 1 ? (uid_t)(s->host_id + JAIL_UID) : JAIL_UID;
}

static gid_t owner_gid(const struct jail_spec *s)
{
	return s->nids > 1 ? (gid_t)(s->host_id + JAIL_GID) : JAIL_GID;
}

/* setresuid(2) and friends by system call, not through libc: deskboxd has
 * two threads (cloner.c) and the child is a raw clone3 of one of them, so
 * libc's copy of its thread list still names the other, and its wrappers
 * (which apply the change to every thread of the process) wait for that
 * thread forever. The system call changes the calling thread, here the
 * child's only one. */
static int set_ids(long nr, long a, long b, long c)
{
	return (int)syscall(nr, a, b, c);
}

__attribute__((noreturn, format(printf, 3, 4)))
static void die(struct child *c, int e, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if (e && n < (int)sizeof(msg))
		n += snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", strerror(e));
	if (n > (int)sizeof(msg) - 1)
		n = (int)sizeof(msg) - 1;
	if (write(c->errfd, msg, (size_t)n) < 0) {
		/* the parent will see the exit status alone */
	}
	_exit(1);
}

static void write_text(struct child *c, const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		die(c, errno, "write %s", path);
	close(fd);
}

static void mkdir_or_die(struct child *c, const char *path, mode_t mode)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		die(c, errno, "mkdir %s", path);
	/* mkdir honours the umask; a sticky /tmp needs the mode exactly. */
	if (chmod(path, mode) < 0)
		die(c, errno, "chmod %s", path);
}

static void write_bytes(struct child *c, const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		die(c, errno, "write %s", path);
	close(fd);
}

/* Bind src at dst read-only (dst must exist). */
static void bind_ro(struct child *c, const char *src, const char *dst)
{
	if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0)
		die(c, errno, "bind %s", src);
	if (mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
		die(c, errno, "remount %s read-only", dst);
}

/* Make the mount point for host path src at dst: a dir or an empty file. */
static int make_mountpoint(const char *src, const char *dst, struct stat *st)
{
	int fd;

	if (stat(src, st) < 0)
		return -1;
	if (S_ISDIR(st->st_mode))
		return mkdir(dst, 0755) < 0 && errno != EEXIST ? -1 : 0;
	fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

/* /bin, /lib, /lib64, /sbin: the same symlink as on the host, or a bind. */
static void link_top(struct child *c, const char *name)
{
	char src[64], target[256];
	struct stat st;
	ssize_t n;

	snprintf(src, sizeof(src), "/%s", name);
	if (lstat(src, &st) < 0)
		return;
	if (S_ISLNK(st.st_mode)) {
		n = readlink(src, target, sizeof(target) - 1);
		if (n <= 0)
			return;
		target[n] = '\0';
		if (symlink(target, name) < 0)
			die(c, errno, "symlink %s", name);
	} else if (S_ISDIR(st.st_mode)) {
		mkdir_or_die(c, name, 0755);
		bind_ro(c, src, name);
	}
}

static void build_etc(struct child *c)
{
	char text[1024], src[PATH_MAX], dst[PATH_MAX];
	struct stat st;

	mkdir_or_die(c, "etc", 0755);
	write_text(c, "etc/passwd",
		   "root:x:0:0:root:/root:/usr/sbin/nologin\n"
		   "deskbox:x:999:1000:deskbox desktop agent:/nonexistent:/usr/sbin/nologin\n"
		   "user:x:1000:1000:deskbox user:/home/user:/bin/bash\n"
		   "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n", 0644);
	write_text(c, "etc/group",
		   "root:x:0:\ntty:x:5:\naudio:x:29:user\nvideo:x:44:user\n"
		   "user:x:1000:\nnogroup:x:65534:\n", 0644);
	snprintf(text, sizeof(text), "127.0.0.1 localhost %s\n::1 localhost ip6-localhost\n",
		 c->s->id);
	write_text(c, "etc/hosts", text, 0644);
	snprintf(text, sizeof(text), "%s\n", c->s->id);
	write_text(c, "etc/hostname", text, 0644);
	write_text(c, "etc/nsswitch.conf",
		   "passwd: files\ngroup: files\nshadow: files\nhosts: files\n"
		   "networks: files\nprotocols: files\nservices: files\n", 0644);
	write_text(c, "etc/resolv.conf", "", 0644);
	/* Debian's /usr/bin/chromium sources every file in /etc/chromium.d and exits
	 * when the glob matches nothing. Chromium's own sandbox needs new
	 * namespaces, which the jail's seccomp filter refuses (the jail is
	 * the sandbox here); /dev/shm is small; there is no keyring. */
	mkdir_or_die(c, "etc/chromium.d", 0755);
	write_text(c, "etc/chromium.d/deskbox",
		   "export CHROMIUM_FLAGS=\"$CHROMIUM_FLAGS --no-sandbox --disable-dev-shm-usage"
		   " --no-first-run --password-store=basic\"\n", 0644);
	for (size_t i = 0; i < sizeof(host_etc) / sizeof(host_etc[0]); i++) {
		snprintf(src, sizeof(src), "/etc/%s", host_etc[i]);
		snprintf(dst, sizeof(dst), "etc/%s", host_etc[i]);
		if (make_mountpoint(src, dst, &st) == 0)
			bind_ro(c, src, dst);
	}
}

static void build_dev(struct child *c)
{
	char dst[64], src[64], opts[96];

	mkdir_or_die(c, "dev", 0755);
	if (mount("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "size=1m,mode=0755") < 0)
		die(c, errno, "mount /dev");
	for (size_t i = 0; i < sizeof(host_dev) / sizeof(host_dev[0]); i++) {
		int fd;

		snprintf(src, sizeof(src), "/dev/%s", host_dev[i]);
		snprintf(dst, sizeof(dst), "dev/%s", host_dev[i]);
		fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
		if (fd < 0)
			die(c, errno, "create %s", dst);
		close(fd);
		if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
			die(c, errno, "bind %s", src);
	}
	mkdir_or_die(c, "dev/pts", 0755);
	/* Terminals belong to group tty (5) as seen inside. */
	if (c->s->nids > 1)
		snprintf(opts, sizeof(opts), "newinstance,ptmxmode=0666,mode=0620,gid=%u",
			 c->s->host_id + 5);
	else
		snprintf(opts, sizeof(opts), "newinstance,ptmxmode=0666,mode=0620");
	if (mount("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		  opts) < 0)
		die(c, errno, "mount devpts");
	if (symlink("pts/ptmx", "dev/ptmx") < 0)
		die(c, errno, "symlink /dev/ptmx");
	/* Shared memory is files like any other: on the root's tmpfs, within
	 * disk_mb and charged with /tmp and the home, not a tmpfs of its own
	 * that only the memory limit bounds. */
	mkdir_or_die(c, "dev/shm", 01777);
	if (mount("run/shm", "dev/shm", NULL, MS_BIND, NULL) < 0 ||
	    mount(NULL, "dev/shm", NULL, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV, NULL) < 0)
		die(c, errno, "bind /dev/shm");
	if (symlink("/proc/self/fd", "dev/fd") < 0 ||
	    symlink("/proc/self/fd/0", "dev/stdin") < 0 ||
	    symlink("/proc/self/fd/1", "dev/stdout") < 0 ||
	    symlink("/proc/self/fd/2", "dev/stderr") < 0)
		die(c, errno, "symlink /dev/fd");
	if (mount(NULL, "dev", NULL, MS_REMOUNT | MS_NOSUID | MS_NOEXEC | MS_RDONLY,
		  "size=1m,mode=0755") < 0)
		die(c, errno, "remount /dev read-only");
}

/* Writable places: their own mounts so the root can go read-only. */
static void build_writable(struct child *c)
{
	static const char *const dirs[] = { "tmp", "home/user", "run" };

	mkdir_or_die(c, "tmp", 01777);
	mkdir_or_die(c, "home", 0755);
	mkdir_or_die(c, "home/user", 0755);
	mkdir_or_die(c, "run", 0755);
	mkdir_or_die(c, "run/user", 0755);
	mkdir_or_die(c, "run/user/1000", 0700);
	mkdir_or_die(c, "run/shm", 01777);
	mkdir_or_die(c, "var", 0755);
	if (symlink("/tmp", "var/tmp") < 0 && errno != EEXIST)
		die(c, errno, "symlink /var/tmp");
	/* The host's font cache, read-only (host rootfs only: an image has
	 * its own). Without it the first fontconfig client of every sandbox,
	 * the window manager, spends about a second of CPU scanning fonts. */
	if (!c->s->image_dir) {
		struct stat st;

		mkdir_or_die(c, "var/cache", 0755);
		if (make_mountpoint("/var/cache/fontconfig", "var/cache/fontconfig", &st) == 0)
			bind_ro(c, "/var/cache/fontconfig", "var/cache/fontconfig");
	}
	if (chown("home/user", owner_uid(c->s), owner_gid(c->s)) < 0 ||
	    chown("run/user/1000", owner_uid(c->s), owner_gid(c->s)) < 0)
		die(c, errno, "chown home");
	/* The desktop agent's own place, where it has a uid of its own. */
	if (c->s->nids > 1) {
		mkdir_or_die(c, "run/deskbox", 0750);
		if (chown("run/deskbox", c->s->host_id + PROTO_AGENT_UID,
			  c->s->host_id + PROTO_USER_GID) < 0)
			die(c, errno, "chown /run/deskbox");
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (mount(dirs[i], dirs[i], NULL, MS_BIND, NULL) < 0 ||
		    mount(NULL, dirs[i], NULL, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV, NULL) < 0)
			die(c, errno, "bind /%s", dirs[i]);
}

/*
 * The precompiled keymap (keymap.c, desktop/xkbstub.c): its text and .xkm
 * written into this sandbox's own root, which goes read-only with it, the
 * real xkbcomp beside them, and the stand-in over /usr/bin/xkbcomp. A copy
 * per sandbox, not a bind of one host file: nothing here is shared, so no
 * sandbox can change what another's Xvfb loads.
 */
static void build_keymap(struct child *c)
{
	const struct keymap *km = c->s->keymap;
	struct stat st;

	mkdir_or_die(c, "var/lib", 0755);
	mkdir_or_die(c, "var/lib/deskbox", 0755);
	mkdir_or_die(c, KEYMAP_DIR + 1, 0755);   /* paths relative to the new root */
	write_text(c, (KEYMAP_DIR "/" KEYMAP_TEXT) + 1, km->text, 0644);
	write_bytes(c, (KEYMAP_DIR "/" KEYMAP_XKM) + 1, km->xkm, km->xkm_len);
	if (make_mountpoint(KEYMAP_XKBCOMP, (KEYMAP_DIR "/" KEYMAP_REAL) + 1, &st) < 0)
		die(c, errno, "create " KEYMAP_DIR "/" KEYMAP_REAL);
	bind_ro(c, KEYMAP_XKBCOMP, (KEYMAP_DIR "/" KEYMAP_REAL) + 1);
	bind_ro(c, km->stub, KEYMAP_XKBCOMP + 1);
}

static void build_root(struct child *c)
{
	const struct jail_spec *s = c->s;
	char opts[64];

	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		die(c, errno, "make mounts private");
	snprintf(opts, sizeof(opts), "size=%ldm,mode=0755", s->limits->disk_mb);
	if (mount("tmpfs", s->mnt_dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
		die(c, errno, "mount root tmpfs");
	if (chdir(s->mnt_dir) < 0)
		die(c, errno, "enter root");
	if (s->image_dir) {
		char ov[PATH_MAX + 64];

		mkdir_or_die(c, "upper", 0755);
		mkdir_or_die(c, "work", 0755);
		mkdir_or_die(c, "root", 0755);
		snprintf(ov, sizeof(ov), "lowerdir=%s,upperdir=%s/upper,workdir=%s/work",
			 s->image_dir, s->mnt_dir, s->mnt_dir);
		if (mount("overlay", "root", "overlay", MS_NOSUID | MS_NODEV, ov) < 0)
			die(c, errno, "mount overlay on image %s", s->image_dir);
		if (chdir("root") < 0)
			die(c, errno, "enter image root");
	} else {
		static const char *const tops[] = { "bin", "sbin", "lib", "lib32", "lib64", "libx32" };

		mkdir_or_die(c, "usr", 0755);
		bind_ro(c, "/usr", "usr");
		for (size_t i = 0; i < sizeof(tops) / sizeof(tops[0]); i++)
			link_top(c, tops[i]);
		build_etc(c);
	}
	build_writable(c);
	if (s->keymap && !s->image_dir)
		build_keymap(c);
	mkdir_or_die(c, "proc", 0555);
	if (mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		die(c, errno, "mount /proc");
	mkdir_or_die(c, "sys", 0555);
	/* sysfs shows the sandbox's own network devices; read-only, optional. */
	if (mount("sysfs", "sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		log_event(s->id, "no /sys in the sandbox: %s", strerror(errno));
	build_dev(c);

	if (syscall(SYS_pivot_root, ".", ".") < 0)
		die(c, errno, "pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		die(c, errno, "detach the old root");
	if (chdir("/") < 0)
		die(c, errno, "chdir /");
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
		die(c, errno, "remount / read-only");
}

static void lo_up(struct child *c)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0)
		die(c, errno, "socket");
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		die(c, errno, "get lo flags");
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		die(c, errno, "bring lo up");
	close(s);
}

static void set_limits(struct child *c)
{
	struct rlimit nofile = { (rlim_t)c->s->limits->nofile, (rlim_t)c->s->limits->nofile };
	struct rlimit core = { 0, 0 };

	if (setrlimit(RLIMIT_NOFILE, &nofile) < 0 || setrlimit(RLIMIT_CORE, &core) < 0)
		die(c, errno, "setrlimit");
}

/* Channel to 3, init binary to 4, the error pipe to 5; /dev/null on 0-2;
 * close the rest. */
static void arrange_fds(struct child *c)
{
	int chan = fcntl(c->s->chan_fd, F_DUPFD, 100);
	int init = fcntl(c->s->init_fd, F_DUPFD_CLOEXEC, 100);
	int errfd = fcntl(c->errfd, F_DUPFD_CLOEXEC, 100);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (chan < 0 || init < 0 || errfd < 0 || null < 0)
		die(c, errno, "arrange fds");
	c->errfd = errfd;
	if (dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
	    dup2(chan, 3) < 0 || dup3(init, 4, O_CLOEXEC) < 0 || dup3(errfd, 5, O_CLOEXEC) < 0)
		die(c, errno, "dup fds");
	c->errfd = 5;
	syscall(SYS_close_range, 6, ~0U, 0);
}

/* As root, with an id range of its own: CAPS_AGENT become
 * inheritable (capset refuses that once the bounding set is empty), and
 * uid 0 of the namespace gains nothing by exec (NOROOT, locked). KEEP_CAPS
 * carries the permitted set across the change to the user's uid below. */
static void keep_id_caps(struct child *c)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) < 0)
		die(c, errno, "capget");
	d[0].inheritable = (uint32_t)CAPS_AGENT;
	d[1].inheritable = (uint32_t)(CAPS_AGENT >> 32);
	if (syscall(SYS_capset, &h, d) < 0)
		die(c, errno, "capset inheritable");
	if (prctl(PR_SET_SECUREBITS, SECBIT_KEEP_CAPS | SECBIT_NOROOT | SECBIT_NOROOT_LOCKED) < 0)
		die(c, errno, "PR_SET_SECUREBITS");
}

static void drop_privileges(struct child *c)
{
	int last = CAP_LAST_CAP, agent_ids = c->s->nids > 1;
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");

	if (f) {
		if (fscanf(f, "%d", &last) != 1)
			last = CAP_LAST_CAP;
		fclose(f);
	}
	if (agent_ids)
		keep_id_caps(c);
	for (int cap = 0; cap <= last; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			die(c, errno, "drop capability %d", cap);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		die(c, errno, "clear ambient capabilities");
	if (c->s->nids > 1 && set_ids(SYS_setgroups, 0, 0, 0) < 0)
		die(c, errno, "setgroups");
	if (set_ids(SYS_setresgid, JAIL_GID, JAIL_GID, JAIL_GID) < 0)
		die(c, errno, "setresgid");
	/* From uid 0 to non-zero without keep-caps: every capability goes.
	 * With it (agent_ids) the permitted set stays, and is cut down to
	 * CAPS_AGENT at once; ambient, so init has them after
	 * exec. init gives them to the desktop agent alone (caps.h). */
	if (set_ids(SYS_setresuid, JAIL_UID, JAIL_UID, JAIL_UID) < 0)
		die(c, errno, "setresuid");
	if (agent_ids && (caps_set(CAPS_AGENT) < 0 || caps_ambient_agent() < 0))
		die(c, errno, "keep the desktop agent's capabilities");
	/* Credential changes clear the parent-death signal: set it after. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		die(c, errno, "PR_SET_PDEATHSIG");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		die(c, errno, "PR_SET_NO_NEW_PRIVS");
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, c->s->seccomp) < 0)
		die(c, errno, "seccomp");
}

static int write_map(pid_t pid, const char *file, const char *text);

/* As root: move into a user namespace owned by the range's first host id,
 * with ids 0..nids-1 mapped to the range (see the top of the file). */
static void enter_userns(struct child *c)
{
	char map[64];
	int go[2], st;
	pid_t h;
	char b;

	if (pipe2(go, O_CLOEXEC) < 0)
		die(c, errno, "pipe");
	h = fork();
	if (h < 0)
		die(c, errno, "fork the map writer");
	if (h == 0) {
		/* Still root outside: map the parent's new namespace. */
		close(go[1]);
		if (read(go[0], &b, 1) != 1)
			_exit(1);
		snprintf(map, sizeof(map), "0 %u %u\n", c->s->host_id, c->s->nids);
		_exit(write_map(getppid(), "uid_map", map) || write_map(getppid(), "gid_map", map));
	}
	close(go[0]);
	/* Keep our capabilities across the uid change: hosts that forbid
	 * unprivileged user namespaces (Debian's unprivileged_userns_clone=0,
	 * Ubuntu's AppArmor restriction) still let CAP_SYS_ADMIN make one. */
	if (prctl(PR_SET_SECUREBITS, SECBIT_NO_SETUID_FIXUP) < 0)
		die(c, errno, "PR_SET_SECUREBITS");
	if (set_ids(SYS_setresuid, (long)(uid_t)-1, (long)c->s->host_id, (long)(uid_t)-1) < 0)
		die(c, errno, "take the range's owner id");
	if (unshare(CLONE_NEWUSER) < 0)
		die(c, errno, "user namespace");
	/* The usual rule again, or uid 1000 would keep every capability. */
	if (prctl(PR_SET_SECUREBITS, 0) < 0)
		die(c, errno, "PR_SET_SECUREBITS");
	if (write(go[1], "x", 1) != 1)
		die(c, errno, "start the map writer");
	close(go[1]);
	if (waitpid(h, &st, 0) != h || !WIFEXITED(st) || WEXITSTATUS(st))
		die(c, 0, "user namespace maps not written");
}

__attribute__((noreturn))
static void child_main(const struct jail_spec *s, int release, int errfd)
{
	struct child c = { s, errfd };
	char *argv[] = { "deskbox-init", NULL };
	char *envp[] = { NULL };
	sigset_t none;
	char b;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	/* Wait until the parent has set our maps; EOF = it died. */
	if (read(release, &b, 1) != 1)
		_exit(1);
	build_root(&c);
	if (sethostname(s->id, strlen(s->id)) < 0)
		die(&c, errno, "sethostname");
	lo_up(&c);
	/* Egress proxies: listeners in this netns, held only by deskboxd. */
	if (s->egress && egress_jail_listeners(s->chan_fd) < 0)
		die(&c, errno, "egress proxy listeners");
	/* Meanwhile the parent moved us into our cgroups: wait for that
	 * before anything of the sandbox's own runs (nothing has forked
	 * yet; the jail's few pages stay charged where they were made). */
	if (read(release, &b, 1) != 1)
		_exit(1);
	close(release);
	if (unshare(CLONE_NEWCGROUP) < 0)
		die(&c, errno, "cgroup namespace");
	if (setsid() < 0)
		die(&c, errno, "setsid");
	arrange_fds(&c);
	set_limits(&c);
	if (s->nids > 1)
		enter_userns(&c);
	drop_privileges(&c);
	syscall(SYS_execveat, 4, "", argv, envp, AT_EMPTY_PATH);
	die(&c, errno, "exec deskbox-init");
}

static int write_map(pid_t pid, const char *file, const char *text)
{
	char path[64];
	int fd, r = 0;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		r = -1;
	close(fd);
	return r;
}

/* What the child side needs from jail_spawn's frame (a copy of it lives on
 * in the child). */
struct child_start {
	const struct jail_spec *s;
	int release[2], errp[2], cgfd;
};

__attribute__((noreturn))
static void child_start(void *p)
{
	struct child_start *a = p;

	close(a->release[1]);
	close(a->errp[0]);
	if (a->cgfd >= 0)
		close(a->cgfd);
	child_main(a->s, a->release[0], a->errp[1]);
}

/* clone3 on the cloner thread, once (*cl, then NULL: its child is born in
 * the sandbox's cgroup v1 directories, *v1_done), or on ours. */
static pid_t clone_init(struct cloner **cl, struct clone_args *ca, struct child_start *a,
			int *v1_done)
{
	pid_t pid;

	if (*cl) {
		pid = cloner_clone(*cl, ca, child_start, a);
		*cl = NULL;
		*v1_done = pid >= 0;
		return pid;
	}
	pid = (pid_t)syscall(SYS_clone3, ca, sizeof(*ca));
	if (pid == 0)
		child_start(a);
	return pid;
}

int jail_spawn(const struct jail_spec *s, struct jail_proc *out, char *err, size_t errlen)
{
	struct child_start a = { s, { -1, -1 }, { -1, -1 }, -1 };
	int *release = a.release, *errp = a.errp, pidfd = -1, cgfd, v1_done = 0;
	struct cloner *cl = s->cloner;
	struct clone_args ca;
	pid_t pid;

	if (pipe2(release, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		cloner_release(s->cloner);
		goto fail;
	}
	memset(&ca, 0, sizeof(ca));
	ca.flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC |
		   CLONE_NEWUTS | CLONE_PIDFD | (s->nids == 1 ? CLONE_NEWUSER : 0);
	ca.pidfd = (uint64_t)(uintptr_t)&pidfd;
	ca.exit_signal = SIGCHLD;
	/* Born in its cgroup v2 cgroup, the child needs no move there: a
	 * move (a cgroup.procs write) takes cgroup_threadgroup_rwsem for
	 * writing, and the first after a quiet spell waits for an RCU grace
	 * period (10-14 ms here) on deskboxd's loop; the clone takes it for
	 * reading only. A kernel or delegation that refuses it gets the
	 * move. cgroup v1 hierarchies ignore it: there the cloner's spare
	 * (cloner.c) does the same, else they still take their move. */
	cgfd = cgroup_clone_fd(s->cg, s->id);
	a.cgfd = cgfd;
	if (cgfd >= 0) {
		ca.flags |= CLONE_INTO_CGROUP;
		ca.cgroup = (uint64_t)cgfd;
		pid = clone_init(&cl, &ca, &a, &v1_done);
		if (pid < 0) {
			log_event(s->id, "clone into the cgroup: %s; moving it instead",
				  strerror(errno));
			ca.flags &= ~(uint64_t)CLONE_INTO_CGROUP;
			ca.cgroup = 0;
			close(cgfd);
			cgfd = a.cgfd = -1;
		}
	}
	if (cgfd < 0)
		pid = clone_init(&cl, &ca, &a, &v1_done);
	if (pid < 0) {
		snprintf(err, errlen, "clone: %s", strerror(errno));
		goto fail;
	}
	if (cgfd >= 0)
		close(cgfd);
	close(release[0]);
	close(errp[1]);
	release[0] = errp[1] = -1;
	if (s->nids == 1) {
		char map[64];

		snprintf(map, sizeof(map), "%d %u 1\n", JAIL_UID, s->host_id);
		if (write_map(pid, "setgroups", "deny") ||
		    write_map(pid, "uid_map", map) ||
		    (snprintf(map, sizeof(map), "%d %d 1\n", JAIL_GID, (int)getegid()),
		     write_map(pid, "gid_map", map))) {
			snprintf(err, errlen, "user namespace maps: %s", strerror(errno));
			goto kill;
		}
	} else {
		/* Keep the OOM killer on the commands, not on the sandbox's init
		 * (the init resets the score of what it spawns). */
		write_map(pid, "oom_score_adj", "-1000");
	}
	/* Two releases: the child builds its jail while we attach it to its
	 * cgroups. On cgroup v1 the first move after a quiet spell waits for
	 * an RCU grace period (cgroup_threadgroup_rwsem taken for writing:
	 * 10-14 ms here, most of the `clone` step of a create's timeline);
	 * the jail build, ~5 ms, now runs during it instead of after it. */
	if (write(release[1], "x", 1) != 1) {
		snprintf(err, errlen, "release: %s", strerror(errno));
		goto kill;
	}
	if (cgroup_attach(s->cg, s->id, pid, cgfd >= 0, v1_done) < 0) {
		snprintf(err, errlen, "cannot attach to the sandbox's cgroups");
		goto kill;
	}
	if (write(release[1], "x", 1) != 1) {
		snprintf(err, errlen, "release: %s", strerror(errno));
		goto kill;
	}
	close(release[1]);
	out->pid = pid;
	out->pidfd = pidfd;
	out->errfd = errp[0];
	return 0;
kill:
	kill(pid, SIGKILL);
	/* Reaped by the caller's pidfd handling would need the pidfd: do it here,
	 * it is immediate after SIGKILL of a child that has not run yet. */
	waitpid(pid, NULL, 0);
fail:
	for (int i = 0; i < 2; i++) {
		if (release[i] >= 0)
			close(release[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	if (pidfd >= 0)
		close(pidfd);
	return -1;
}
