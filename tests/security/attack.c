/*
 * attack.c - attacks on the jail, run inside a sandbox as its user by
 * test_escape.py (compiled on the host, uploaded through the files API).
 *
 *   attack sys          every syscall the seccomp filter denies, and clone
 *                       with each namespace flag, clone3, TIOCSTI/TIOCLINUX
 *   attack proc PID     /proc/PID's memory, fds, environment and magic links
 *   attack fdbomb       open files until the limit
 *
 * Each attack prints one line "NAME OUTCOME": OUTCOME is the errno name of
 * the failure, "ok" if the call worked, or "ok:DETAIL". The test holds the
 * table of expected outcomes; this program judges nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <dirent.h>

static const char *ename(int e)
{
	static char buf[16];
	const char *n = strerrorname_np(e);

	if (n)
		return n;
	snprintf(buf, sizeof buf, "E%d", e);
	return buf;
}

static void report(const char *name, long r, int e)
{
	if (r < 0)
		printf("%s %s\n", name, ename(e));
	else
		printf("%s ok\n", name);
	fflush(stdout);
}

/* expr's errno is read after expr: not as an argument beside it, whose
 * order of evaluation C leaves open. */
#define TRY(name, expr) do { long r_; errno = 0; r_ = (long)(expr); report(name, r_, errno); } while (0)

struct sc {
	const char *name;
	long nr;
	long a[6];
};

#define CLONE_SC(flag) { "clone_" #flag, SYS_clone, { flag | SIGCHLD, 0, 0, 0, 0, 0 } }

static const struct sc calls[] = {
	{ "mount", SYS_mount, { 0, 0, 0, 0, 0, 0 } },
	{ "umount2", SYS_umount2, { 0, 0 } },
	{ "pivot_root", SYS_pivot_root, { 0, 0 } },
	{ "chroot", SYS_chroot, { 0 } },
	{ "setns", SYS_setns, { -1, 0 } },
	{ "unshare", SYS_unshare, { CLONE_NEWUSER } },
	{ "fsopen", SYS_fsopen, { 0, 0 } },
	{ "fsconfig", SYS_fsconfig, { -1, 0, 0, 0, 0 } },
	{ "fsmount", SYS_fsmount, { -1, 0, 0 } },
	{ "fspick", SYS_fspick, { -1, 0, 0 } },
	{ "move_mount", SYS_move_mount, { -1, 0, -1, 0, 0 } },
	{ "open_tree", SYS_open_tree, { -1, 0, 0 } },
	{ "mount_setattr", SYS_mount_setattr, { -1, 0, 0, 0, 0 } },
	{ "ptrace", SYS_ptrace, { 0 /* PTRACE_TRACEME */ } },
	{ "process_vm_readv", SYS_process_vm_readv, { 1, 0, 0, 0, 0, 0 } },
	{ "process_vm_writev", SYS_process_vm_writev, { 1, 0, 0, 0, 0, 0 } },
	{ "process_madvise", SYS_process_madvise, { -1, 0, 0, 0, 0 } },
	{ "pidfd_getfd", SYS_pidfd_getfd, { -1, 0, 0 } },
	{ "kcmp", SYS_kcmp, { 1, 1, 0, 0, 0 } },
	{ "bpf", SYS_bpf, { 0, 0, 0 } },
	{ "kexec_load", SYS_kexec_load, { 0, 0, 0, 0 } },
	{ "kexec_file_load", SYS_kexec_file_load, { -1, -1, 0, 0, 0 } },
	{ "keyctl", SYS_keyctl, { 0, -3 } },
	{ "add_key", SYS_add_key, { 0, 0, 0, 0, 0 } },
	{ "request_key", SYS_request_key, { 0, 0, 0, 0 } },
	{ "perf_event_open", SYS_perf_event_open, { 0, 0, -1, -1, 0 } },
	{ "userfaultfd", SYS_userfaultfd, { 1 } },
	{ "open_by_handle_at", SYS_open_by_handle_at, { -1, 0, 0 } },
	{ "name_to_handle_at", SYS_name_to_handle_at, { -1, 0, 0, 0, 0 } },
	{ "init_module", SYS_init_module, { 0, 0, 0 } },
	{ "finit_module", SYS_finit_module, { -1, 0, 0 } },
	{ "delete_module", SYS_delete_module, { 0, 0 } },
	{ "reboot", SYS_reboot, { 0, 0, 0, 0 } },
	{ "swapon", SYS_swapon, { 0, 0 } },
	{ "swapoff", SYS_swapoff, { 0 } },
	{ "acct", SYS_acct, { 0 } },
	{ "quotactl", SYS_quotactl, { 0, 0, 0, 0 } },
	{ "quotactl_fd", SYS_quotactl_fd, { -1, 0, 0, 0 } },
	{ "syslog", SYS_syslog, { 3, 0, 0 } },
	{ "iopl", SYS_iopl, { 3 } },
	{ "ioperm", SYS_ioperm, { 0, 1, 1 } },
	{ "lookup_dcookie", SYS_lookup_dcookie, { 0, 0, 0 } },
	{ "vhangup", SYS_vhangup, { 0 } },
	{ "settimeofday", SYS_settimeofday, { 0, 0 } },
	{ "clock_settime", SYS_clock_settime, { 0, 0 } },
	{ "clock_adjtime", SYS_clock_adjtime, { 0, 0 } },
	{ "adjtimex", SYS_adjtimex, { 0 } },
	{ "nfsservctl", SYS_nfsservctl, { 0, 0, 0 } },
	{ "fanotify_init", SYS_fanotify_init, { 0, 0 } },
	{ "io_uring_setup", SYS_io_uring_setup, { 1, 0 } },
	{ "io_uring_enter", SYS_io_uring_enter, { -1, 0, 0, 0, 0, 0 } },
	{ "io_uring_register", SYS_io_uring_register, { -1, 0, 0, 0 } },
	{ "uselib", SYS_uselib, { 0 } },
	CLONE_SC(CLONE_NEWUSER), CLONE_SC(CLONE_NEWNS), CLONE_SC(CLONE_NEWNET),
	CLONE_SC(CLONE_NEWPID), CLONE_SC(CLONE_NEWIPC), CLONE_SC(CLONE_NEWUTS),
	CLONE_SC(CLONE_NEWCGROUP),
};

/* A controlling terminal of our own, then TIOCSTI (plain and with high
 * bits the kernel ignores) and TIOCLINUX on it. */
static void tty_attacks(void)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY), s;
	char c = 'x';

	if (m < 0 || grantpt(m) || unlockpt(m) || setsid() < 0 ||
	    (s = open(ptsname(m), O_RDWR)) < 0 || ioctl(s, TIOCSCTTY, 0) < 0) {
		printf("tty_setup %s\n", ename(errno));
		return;
	}
	TRY("ioctl_TIOCSTI", syscall(SYS_ioctl, s, (unsigned long)TIOCSTI, &c));
	TRY("ioctl_TIOCSTI_highbits", syscall(SYS_ioctl, s, (unsigned long)TIOCSTI | (1UL << 32), &c));
	c = 0;
	TRY("ioctl_TIOCLINUX", syscall(SYS_ioctl, s, (unsigned long)TIOCLINUX, &c));
}

static void sys_attacks(void)
{
	struct clone_args { uint64_t f[11]; } ca = { { CLONE_NEWUSER, 0, 0, 0, SIGCHLD } };

	for (size_t i = 0; i < sizeof calls / sizeof *calls; i++) {
		const struct sc *c = &calls[i];
		long r;

		errno = 0;
		r = syscall(c->nr, c->a[0], c->a[1], c->a[2], c->a[3], c->a[4], c->a[5]);
		if (r == 0 && c->nr == SYS_clone)
			_exit(0);                /* a child: the clone worked */
		if (r > 0 && c->nr == SYS_clone)
			waitpid((pid_t)r, NULL, 0);
		report(c->name, r, errno);
	}
	errno = 0;
	{
		long r = syscall(SYS_clone3, &ca, sizeof ca);

		if (r == 0)
			_exit(0);
		report("clone3", r, errno);
	}
	fflush(stdout);
	if (fork() == 0) {              /* setsid needs a non-leader */
		tty_attacks();
		fflush(stdout);
		_exit(0);
	}
	wait(NULL);
}

static void proc_attacks(const char *pid)
{
	static const char *const files[] = { "mem", "environ", "maps", "auxv", "stack",
					     "syscall", "pagemap", "exe", "root/", "cwd/" };
	char path[128], buf[64];
	int fd;
	DIR *d;

	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		snprintf(path, sizeof path, "/proc/%s/%s", pid, files[i]);
		snprintf(buf, sizeof buf, "read_%.*s", (int)strcspn(files[i], "/"), files[i]);
		fd = open(path, O_RDONLY);
		if (fd >= 0) {
			char b[16];
			ssize_t n = read(fd, b, sizeof b);

			close(fd);
			/* an empty read is no leak */
			printf("%s %s\n", buf, n > 0 ? "ok" : n == 0 ? "empty" : ename(errno));
		} else {
			report(buf, -1, errno);
		}
	}
	snprintf(path, sizeof path, "/proc/%s/mem", pid);
	fd = open(path, O_RDWR);
	report("write_mem", fd, errno);
	if (fd >= 0)
		close(fd);
	snprintf(path, sizeof path, "/proc/%s/fd", pid);
	d = opendir(path);
	report("list_fd", d ? 0 : -1, errno);
	if (d)
		closedir(d);
	snprintf(path, sizeof path, "/proc/%s/fd/3", pid);
	fd = open(path, O_RDWR);
	report("open_fd3", fd, errno);
	if (fd >= 0)
		close(fd);
	TRY("ptrace_attach", syscall(SYS_ptrace, 16 /* PTRACE_ATTACH */, atol(pid), 0, 0));
	{
		char b[8];
		struct iovec l = { b, sizeof b }, r = { (void *)0x400000, sizeof b };

		TRY("process_vm_readv", syscall(SYS_process_vm_readv, atol(pid), &l, 1, &r, 1, 0));
	}
	snprintf(path, sizeof path, "/proc/%s/oom_score_adj", pid);
	fd = open(path, O_WRONLY);
	if (fd >= 0) {
		TRY("write_oom_score_adj", write(fd, "1000", 4) == 4 ? 0 : -1);
		close(fd);
	} else {
		report("write_oom_score_adj", fd, errno);
	}
}

static void fd_bomb(void)
{
	long n = 0;

	while (open("/dev/null", O_RDONLY) >= 0)
		n++;
	printf("fdbomb %s:%ld\n", ename(errno), n);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && !strcmp(argv[1], "sys"))
		sys_attacks();
	else if (argc == 3 && !strcmp(argv[1], "proc"))
		proc_attacks(argv[2]);
	else if (argc == 2 && !strcmp(argv[1], "fdbomb"))
		fd_bomb();
	else
		return 2;
	return 0;
}
