/*
 * seccomp.c - the sandbox syscall filter (see seccomp.h).
 *
 * A deny list over the default-allow policy that container runtimes use:
 * what lets a process reconfigure the kernel, reach outside its namespaces,
 * inject input into a terminal or inspect another process fails with EPERM.
 * ioctl requests are matched on their low 32 bits, since the kernel ignores
 * the high ones (TIOCSTI | 1 << 32 is a known bypass of a full compare).
 * Other syscall ABIs (i386, x32) kill the process.
 */
#include "seccomp.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"

static const char *const denied[] = {
	"mount", "umount2", "pivot_root", "chroot", "setns", "unshare",
	"fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree",
	"mount_setattr", "ptrace", "process_vm_readv", "process_vm_writev",
	"process_madvise", "pidfd_getfd", "kcmp",
	"bpf", "kexec_load", "kexec_file_load", "keyctl", "add_key",
	"request_key", "perf_event_open", "userfaultfd", "open_by_handle_at",
	"name_to_handle_at", "init_module", "finit_module", "delete_module",
	"reboot", "swapon", "swapoff", "acct", "quotactl", "quotactl_fd",
	"syslog", "iopl", "ioperm", "lookup_dcookie", "vhangup", "settimeofday",
	"clock_settime", "clock_adjtime", "adjtimex", "nfsservctl",
	"fanotify_init", "io_uring_setup", "io_uring_enter", "io_uring_register",
	"uselib",
};

static const unsigned long ns_flags[] = {
	CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWPID, CLONE_NEWIPC,
	CLONE_NEWUTS, CLONE_NEWCGROUP,
};

struct sock_fprog *seccomp_prog_build(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	struct sock_fprog *prog = NULL;
	int fd = -1;
	off_t size;

	if (!ctx)
		return NULL;
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS))
		goto fail;
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		int nr = seccomp_syscall_resolve_name(denied[i]);

		if (nr == __NR_SCMP_ERROR)
			continue;
		if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0))
			goto fail;
	}
	/* New namespaces (CLONE_NEWUSER first of all) only through clone();
	 * clone3 hides its flags in memory, so it answers ENOSYS and libc
	 * falls back to clone. */
	for (size_t i = 0; i < sizeof(ns_flags) / sizeof(ns_flags[0]); i++)
		if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i])))
			goto fail;
	if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0))
		goto fail;
	if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
			     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCSTI)) ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
			     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, TIOCLINUX)))
		goto fail;

	fd = memfd_create("seccomp", MFD_CLOEXEC);
	if (fd < 0 || seccomp_export_bpf(ctx, fd))
		goto fail;
	size = lseek(fd, 0, SEEK_END);
	if (size <= 0 || size % (off_t)sizeof(struct sock_filter))
		goto fail;
	prog = calloc(1, sizeof(*prog));
	if (!prog || !(prog->filter = malloc((size_t)size)))
		goto fail;
	if (pread(fd, prog->filter, (size_t)size, 0) != size)
		goto fail;
	prog->len = (unsigned short)(size / (off_t)sizeof(struct sock_filter));
	close(fd);
	seccomp_release(ctx);
	return prog;
fail:
	log_event(NULL, "cannot build the seccomp filter");
	if (fd >= 0)
		close(fd);
	seccomp_prog_free(prog);
	seccomp_release(ctx);
	return NULL;
}

void seccomp_prog_free(struct sock_fprog *p)
{
	if (!p)
		return;
	free(p->filter);
	free(p);
}
