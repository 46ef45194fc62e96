/*
 * init.c - deskbox-init, PID 1 of every sandbox.
 *
 * deskboxd builds the jail (namespaces, root, limits, seccomp) and execs this
 * static binary by fd as the sandbox user, with the private channel on fd 3.
 * It owns nothing but a table of running commands. Its loop waits on the
 * channel and a signalfd: it reaps every orphan of the sandbox, spawns what
 * deskboxd asks for, reports exits, kills process trees and opens files as
 * the sandbox user (so the kernel, not deskboxd, resolves paths inside the
 * sandbox's root).
 *
 * With an id range of its own (deskboxd as root) init holds CAP_SETUID,
 * CAP_SETGID and CAP_KILL of the sandbox's user namespace and nothing else:
 * the desktop agent's shim takes uid PROTO_AGENT_UID and passes them on to
 * it; every other shim drops them before anything runs (include/caps.h).
 *
 * Each command runs under a small "shim" child: it is a child subreaper in
 * its own session, so every process the command starts, even one that
 * double-forks or calls setsid, stays below it and dies with it on a kill.
 *
 * It must never block on anything the sandbox controls: files are opened
 * O_NONBLOCK (a FIFO cannot hang it) and only regular files are handed out.
 * Nor may a path lead it out of the jail's root: /proc/<pid>/exe, fd/N,
 * cwd and root are magic links that can name files the root does not
 * contain (/proc/1/exe is the host's deskbox-init), so user paths are opened
 * with openat2 and RESOLVE_NO_MAGICLINKS.
 */
#include "caps.h"
#include "proto.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define CHAN_FD 3
#define MAX_CMDS 4096
#define MAX_STRINGS 8192
#define HOME "/home/user"

struct cmd {
	uint32_t id;
	pid_t pid;  /* the shim; 0 = free slot */
};

static struct cmd cmds[MAX_CMDS];
static char msgbuf[PROTO_MAX_MSG];

static void reply(uint32_t type, uint32_t id, int32_t arg, const int *fds, int nfds)
{
	/* A full socket would mean deskboxd stopped reading: it is gone or
	 * stuck, and then the sandbox dies with it anyway. */
	proto_send(CHAN_FD, type, id, arg, NULL, 0, fds, nfds);
}

static void close_all(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Every disposition to its default: once, when init starts (what
 * deskboxd ignored, SIGPIPE, would otherwise reach every command through
 * exec). init installs no handler after that, so a command only needs
 * unblock_signals: 64 fewer system calls on every spawn. */
static void default_signals(void)
{
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
}

static void unblock_signals(void)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Shim: SIGKILL every descendant until none is left. All of them are its
 * children or reparent to it, since it is a subreaper. */
static void shim_kill_tree(void)
{
	char path[64], buf[4096];

	for (int round = 0; round < 10000; round++) {
		int fd, any = 0;
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			break;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			for (char *p = buf, *end; *p; p = end) {
				long pid = strtol(p, &end, 10);

				if (end == p)
					break;
				if (pid > 1) {
					kill(-(pid_t)pid, SIGKILL);
					kill((pid_t)pid, SIGKILL);
					any = 1;
				}
			}
		}
		while (waitpid(-1, NULL, WNOHANG) > 0)
			any = 1;
		if (!any && n <= 0)
			break;
		if (!any)
			usleep(1000);
	}
}

static void shim_exit(int status)
{
	if (WIFEXITED(status))
		_exit(WEXITSTATUS(status));
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		sigset_t one;

		/* Die of the same signal so init reports it as such; it may be
		 * one we (or init before us) blocked. */
		signal(sig, SIG_DFL);
		sigemptyset(&one);
		sigaddset(&one, sig);
		sigprocmask(SIG_UNBLOCK, &one, NULL);
		kill(getpid(), sig);
		_exit(128 + sig);
	}
	_exit(125);
}

/* Close every fd of ours but 0-2 and keep[]: the channel, the signalfd and
 * other commands' pty masters are not the shim's business. close_range over
 * the gaps between the kept fds; no /proc walk per command. */
static void close_others(const int *keep, int nkeep)
{
	int k[PROTO_MAX_FDS];
	unsigned lo = 3;

	for (int i = 0; i < nkeep; i++) {
		int j = i;

		while (j > 0 && k[j - 1] > keep[i]) {
			k[j] = k[j - 1];
			j--;
		}
		k[j] = keep[i];
	}
	for (int i = 0; i < nkeep; i++) {
		if (k[i] < (int)lo)
			continue;
		if ((unsigned)k[i] > lo)
			syscall(SYS_close_range, lo, (unsigned)k[i] - 1, 0);
		lo = (unsigned)k[i] + 1;
	}
	syscall(SYS_close_range, lo, ~0U, 0);
}

static void __attribute__((noreturn)) exec_command(struct proto_spawn *sp, int execfd)
{
	if (chdir(sp->cwd) < 0) {
		dprintf(2, "deskbox: cannot enter %s: %s\n", sp->cwd, strerror(errno));
		_exit(127);
	}
	/* execvpe searches the caller's own PATH (getenv), not envp's: the
	 * command's environment becomes ours first, so its PATH is the one. */
	environ = sp->envp;
	if (execfd >= 0)
		syscall(SYS_execveat, execfd, "", sp->argv, sp->envp, AT_EMPTY_PATH);
	else
		execvpe(sp->argv[0], sp->argv, sp->envp);
	dprintf(2, "deskbox: %s: %s\n", sp->argv[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/* The command's side of the shim's vfork: set up its stdio, group and
 * terminal, then exec. Runs on the shim's memory: nothing here may return
 * or change what the shim reads afterwards. */
static void __attribute__((noreturn)) command_main(struct proto_spawn *sp, const int *fds,
						   int execfd, int pty, int extra, int agent)
{
	int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);

	/* init may be shielded from the OOM killer; commands are not. */
	if (fd >= 0) {
		if (write(fd, "0", 1) < 0) {
			/* not fatal: the score stays as inherited */
		}
		close(fd);
	}
	unblock_signals();
	for (int i = 0; i < 3; i++)
		if (dup2(fds[i], i) < 0)
			_exit(126);
	/* A terminal session: its own session, the pty its terminal.
	 * Otherwise its own process group, which forwarded signals
	 * reach as a terminal's would. */
	if (pty && (setsid() < 0 || ioctl(0, TIOCSCTTY, 0) < 0))
		_exit(126);
	if (!pty && setpgid(0, 0) < 0)
		_exit(126);
	if (extra >= 0) {
		if (dup3(extra, 3, 0) < 0)
			_exit(126);
	}
	/* Credentials are the task's own, not the memory it borrows. */
	if (agent && caps_ambient_agent() < 0)
		_exit(126);
	if (execfd >= 0) {
		int e = fcntl(execfd, F_DUPFD_CLOEXEC, 4);

		if (e < 0)
			_exit(126);
		execfd = e;
		/* Everything else goes; the exec fd is CLOEXEC itself. */
		syscall(SYS_close_range, extra >= 0 ? 4 : 3, (unsigned)e - 1, 0);
		syscall(SYS_close_range, (unsigned)e + 1, ~0U, 0);
	} else {
		syscall(SYS_close_range, extra >= 0 ? 4 : 3, ~0U, 0);
	}
	exec_command(sp, execfd);
}

/* Runs in the forked shim; never returns. fds: stdin, stdout, stderr,
 * then the exec fd and the extra fd when the flags say so. */
static void shim_main(struct proto_spawn *sp, int *fds, int nfds, int flags)
{
	int execfd = (flags & PROTO_SPAWN_EXECFD) ? fds[3] : -1;
	int pty = flags & PROTO_SPAWN_PTY;
	int extra = (flags & PROTO_SPAWN_EXTRAFD) ? fds[nfds - 1] : -1;
	sigset_t set;
	pid_t child;

	close_others(fds, nfds);
	/* The desktop agent gets a uid of its own and keeps the capabilities
	 * init holds (a sandbox with its own id range only); everything else
	 * runs with none. */
	if (flags & PROTO_SPAWN_AGENT) {
		if (setresuid(PROTO_AGENT_UID, PROTO_AGENT_UID, PROTO_AGENT_UID) < 0)
			_exit(126);
	} else if (caps_drop_all() < 0) {
		_exit(126);
	}
	setsid();
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	/* Signals PROTO_SIGNAL asks to pass on to the command's group. */
	for (int s = 1; s < NSIG; s++)
		if (PROTO_SIGNAL_OK(s))
			sigaddset(&set, s);
	sigaddset(&set, SIGRTMIN);   /* init's "kill the tree" */
	sigprocmask(SIG_BLOCK, &set, NULL);

	/* vfork: the child borrows our memory until it execs, so no page
	 * tables are copied and neither side takes copy-on-write faults (the
	 * biggest share of the spawn's cost on this hardware). It touches only
	 * its own stack frame, fds and per-task state before execve or
	 * _exit; environ, the one shared write, is nothing the shim reads. */
	child = vfork();
	if (child == 0)
		command_main(sp, fds, execfd, pty, extra, flags & PROTO_SPAWN_AGENT);
	close_all(fds, nfds);
	if (child < 0)
		_exit(126);

	for (;;) {
		siginfo_t si;
		int status;

		if (sigwaitinfo(&set, &si) < 0)
			continue;
		if (si.si_signo != SIGCHLD && si.si_signo != SIGRTMIN) {
			/* PROTO_SIGNAL: the command's group gets it. */
			kill(-child, si.si_signo);
			continue;
		}
		if (si.si_signo == SIGRTMIN) {
			shim_kill_tree();
			/* Report what happened to the command: killed. */
			kill(getpid(), SIGKILL);
			_exit(128 + SIGKILL);
		}
		/* Reap every child that is done; report when the command is. */
		for (;;) {
			pid_t p = waitpid(-1, &status, WNOHANG);

			if (p <= 0)
				break;
			if (p == child)
				shim_exit(status);
		}
	}
}

static struct cmd *cmd_find(uint32_t id)
{
	for (int i = 0; i < MAX_CMDS; i++)
		if (cmds[i].pid && cmds[i].id == id)
			return &cmds[i];
	return NULL;
}

/* A new pty of the sandbox's devpts: returns the master and puts the slave
 * (opened without becoming our terminal) in fds[0..2], or -1 with errno. */
static int open_pty(int *fds)
{
	char name[64];
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), slave;
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };

	if (master < 0)
		return -1;
	if (grantpt(master) < 0 || unlockpt(master) < 0 ||
	    ptsname_r(master, name, sizeof(name)) != 0)
		goto fail;
	slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		goto fail;
	ioctl(master, TIOCSWINSZ, &ws);
	fds[0] = fds[1] = fds[2] = slave;
	return master;
fail:
	close(master);
	return -1;
}

static void on_spawn(struct proto_hdr *h, ssize_t len, int *fds, int nfds)
{
	static char *argv[MAX_STRINGS + 1], *envp[MAX_STRINGS + 1];
	struct proto_spawn sp;
	struct cmd *slot = NULL;
	int pty = h->arg & PROTO_SPAWN_PTY, master = -1;
	int want = (pty ? 0 : 3) + !!(h->arg & PROTO_SPAWN_EXECFD) + !!(h->arg & PROTO_SPAWN_EXTRAFD);
	pid_t pid;

	if (pty && (h->arg & (PROTO_SPAWN_EXECFD | PROTO_SPAWN_EXTRAFD | PROTO_SPAWN_AGENT)))
		want = -1;
	if (nfds != want ||
	    proto_unpack_spawn(msgbuf, (size_t)len, &sp, argv, envp, MAX_STRINGS)) {
		reply(PROTO_SPAWN_FAIL, h->id, EINVAL, NULL, 0);
		goto out;
	}
	for (int i = 0; i < MAX_CMDS && !slot; i++)
		if (!cmds[i].pid)
			slot = &cmds[i];
	if (!slot) {
		reply(PROTO_SPAWN_FAIL, h->id, EAGAIN, NULL, 0);
		goto out;
	}
	if (pty) {
		master = open_pty(fds);
		if (master < 0) {
			reply(PROTO_SPAWN_FAIL, h->id, errno, NULL, 0);
			goto out;
		}
		nfds = 3;
	}
	pid = fork();
	if (pid == 0)
		shim_main(&sp, fds, nfds, h->arg);
	if (pid < 0) {
		reply(PROTO_SPAWN_FAIL, h->id, errno, NULL, 0);
		goto out;
	}
	slot->id = h->id;
	slot->pid = pid;
	if (!(h->arg & PROTO_SPAWN_QUIET) || master >= 0)
		reply(PROTO_SPAWNED, h->id, pid, master >= 0 ? &master : NULL, master >= 0);
out:
	if (pty && nfds == 3) {
		/* fds[0..2] are three copies of the one slave fd */
		close(fds[0]);
		nfds = 0;
	}
	if (master >= 0)
		close(master);
	close_all(fds, nfds);
}

static void on_kill(struct proto_hdr *h)
{
	struct cmd *c = cmd_find(h->id);

	if (c)
		kill(c->pid, SIGRTMIN);
}

/* Pass a signal on to a command's process group (through its shim, which
 * knows the group). */
static void on_signal(struct proto_hdr *h)
{
	struct cmd *c = cmd_find(h->id);

	if (c && PROTO_SIGNAL_OK(h->arg))
		kill(c->pid, h->arg);
}

/* mkdir -p for the parents of path, as the sandbox user. */
/* Does fd's file have a path within our root that names that very file
 * (not only a magic link into somewhere else)? */
static int reachable(int fd)
{
	char link[64], real[PATH_MAX];
	struct stat a, b;
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, real, sizeof(real) - 1);
	if (n <= 0 || real[0] != '/')
		return 0;
	real[n] = '\0';
	return fstat(fd, &a) == 0 && stat(real, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* open(2) of a user path that refuses magic links (ELOOP). Without openat2
 * (Linux < 5.6) the path is first resolved to an O_PATH fd, where nothing
 * is created or opened for real, and used only if reachable(): the file, or
 * the directory a new file goes in. Returns an fd, or -1 with errno. */
static int open_user(const char *path, int flags, mode_t mode)
{
	struct open_how how;
	char dir[PATH_MAX], self[64];
	const char *base = NULL;
	int fd, pfd;

	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)flags;
	how.mode = (flags & O_CREAT) ? mode : 0;
	how.resolve = RESOLVE_NO_MAGICLINKS;
	fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
	if (fd >= 0 || errno != ENOSYS)
		return fd;
	if (flags & O_CREAT) {
		base = strrchr(path, '/');
		if (!base || (size_t)(base - path) >= sizeof(dir)) {
			errno = EINVAL;
			return -1;
		}
		memcpy(dir, path, (size_t)(base - path));
		dir[base - path] = '\0';
		pfd = open(dir[0] ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	} else {
		pfd = open(path, O_PATH | O_CLOEXEC);
	}
	if (pfd < 0)
		return -1;
	if (!reachable(pfd)) {
		close(pfd);
		errno = ELOOP;
		return -1;
	}
	snprintf(self, sizeof(self), "/proc/self/fd/%d", pfd);
	fd = (flags & O_CREAT) ? openat(pfd, base + 1, flags | O_NOFOLLOW, mode) : open(self, flags);
	close(pfd);
	return fd;
}

static int make_parents(char *path)
{
	for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			int e = errno;

			*p = '/';
			return -e;
		}
		*p = '/';
	}
	return 0;
}

/* The absolute path an OPEN or COMMIT payload names (relative ones are
 * taken from the home directory). Returns 0, or an errno. */
static int payload_path(ssize_t len, uint32_t *word, char *path, size_t cap)
{
	const char *p;

	if (proto_unpack_open(msgbuf, (size_t)len, word, &p))
		return EINVAL;
	if (snprintf(path, cap, "%s%s%s", p[0] == '/' ? "" : HOME, p[0] == '/' ? "" : "/", p) >= (int)cap)
		return ENAMETOOLONG;
	return 0;
}

/* The temporary file of upload id, beside path. Returns 0, or an errno. */
static int upload_name(char *tmp, size_t cap, const char *path, uint32_t id)
{
	return snprintf(tmp, cap, "%s.deskbox-upload-%u", path, id) >= (int)cap ? ENAMETOOLONG : 0;
}

/* Open for writing: a new file beside path, so that the old one stays as it
 * was until the upload is whole. An existing path must be a regular file the
 * user may write. */
static int open_upload(char *path, uint32_t id, uint32_t mode, int *e)
{
	char tmp[PATH_MAX];
	struct stat st;
	int fd;

	*e = -make_parents(path);
	if (*e)
		return -1;
	if (stat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode)) {
			*e = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
			return -1;
		}
		if (access(path, W_OK) < 0) {
			*e = errno;
			return -1;
		}
	} else if (errno != ENOENT) {
		*e = errno;
		return -1;
	}
	if ((*e = upload_name(tmp, sizeof(tmp), path, id)))
		return -1;
	fd = open_user(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 07777);
	if (fd < 0)
		*e = errno;
	return fd;
}

/* Open for reading: only regular files, opened O_NONBLOCK, since a FIFO,
 * device or socket could stall or feed deskboxd without end. */
static int open_read(const char *path, int *e)
{
	struct stat st;
	int fd = open_user(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0);

	if (fd < 0) {
		*e = errno;
		return -1;
	}
	if (fstat(fd, &st) < 0)
		*e = errno;
	else if (!S_ISREG(st.st_mode))
		*e = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
	else
		*e = 0;
	if (*e) {
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

static void on_open(struct proto_hdr *h, ssize_t len)
{
	char path[PATH_MAX];
	uint32_t mode;
	int fd = -1, e = payload_path(len, &mode, path, sizeof(path));

	if (!e)
		fd = (h->arg & PROTO_OPEN_WRITE) ? open_upload(path, h->id, mode, &e)
						 : open_read(path, &e);
	if (fd < 0) {
		reply(PROTO_OPENED, h->id, e, NULL, 0);
		return;
	}
	reply(PROTO_OPENED, h->id, 0, &fd, 1);
	close(fd);
}

/* An upload ended: its file takes the path's place, or goes. */
static void on_commit(struct proto_hdr *h, ssize_t len)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	uint32_t id;
	int e = payload_path(len, &id, path, sizeof(path));

	if (!e)
		e = upload_name(tmp, sizeof(tmp), path, id);
	if (!e && (h->arg ? rename(tmp, path) : unlink(tmp)) < 0)
		e = errno;
	if (e && h->arg)
		unlink(tmp);
	reply(PROTO_COMMITTED, h->id, e, NULL, 0);
}

/* Returns -1 when the channel is gone: deskboxd died or dropped us. */
static int on_channel(void)
{
	struct proto_hdr h;
	int fds[PROTO_MAX_FDS], nfds;
	ssize_t len = proto_recv(CHAN_FD, &h, msgbuf, sizeof(msgbuf), fds, &nfds);

	if (len < 0)
		return errno == EAGAIN || errno == EBADMSG ? 0 : -1;
	if (len == 0 && h.type == 0)
		return -1;
	switch (h.type) {
	case PROTO_SPAWN:
		on_spawn(&h, len, fds, nfds);
		return 0;
	case PROTO_KILL:
		on_kill(&h);
		break;
	case PROTO_SIGNAL:
		on_signal(&h);
		break;
	case PROTO_OPEN:
		on_open(&h, len);
		break;
	case PROTO_COMMIT:
		on_commit(&h, len);
		break;
	default:
		break;
	}
	close_all(fds, nfds);
	return 0;
}

static void on_children(void)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 0; i < MAX_CMDS; i++) {
			if (cmds[i].pid == pid) {
				reply(PROTO_EXITED, cmds[i].id, status, NULL, 0);
				cmds[i].pid = 0;
				break;
			}
		}
	}
}

int main(void)
{
	struct signalfd_siginfo si;
	struct pollfd pfd[2];
	sigset_t set;
	int sfd;

	/* Same uid as the commands: keep them out of our memory and fds. */
	prctl(PR_SET_DUMPABLE, 0);
	/* CAPS_AGENT (with an id range of its own) stay with init and go only
	 * to the desktop agent, on purpose (shim_main): no exec of ours
	 * carries them by default. */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	default_signals();
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		return 1;
	reply(PROTO_READY, 0, (int32_t)getpid(), NULL, 0);

	pfd[0] = (struct pollfd){ .fd = CHAN_FD, .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	for (;;) {
		if (poll(pfd, 2, -1) < 0)
			continue;
		if (pfd[1].revents & POLLIN) {
			while (read(sfd, &si, sizeof(si)) == sizeof(si))
				;
			on_children();
		}
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
			if (on_channel() < 0)
				return 0;
	}
}
