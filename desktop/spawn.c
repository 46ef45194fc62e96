/*
 * spawn.c - fork/exec with the child set up for life under the agent.
 *
 * The agent blocks SIGCHLD/SIGTERM/SIGINT (they arrive on a signalfd) and
 * ignores SIGPIPE; both would leak into children through exec, so the
 * child restores defaults before it runs anything. Owns no state.
 */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

/* Child side, after fork: only async-signal-safe calls. */
static void spawn_child(const char *path, char *const argv[], int keep_fd,
			int err_fd, int deathsig, pid_t parent)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigset_t none;

	sigemptyset(&none);
	for (int s = 1; s < NSIG; s++)
		sigaction(s, &dfl, NULL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (prctl(PR_SET_PDEATHSIG, deathsig) < 0 || getppid() != parent)
		_exit(127);
	setpgid(0, 0);
	if (keep_fd >= 0 && fcntl(keep_fd, F_SETFD, 0) < 0)
		_exit(127);
	if (err_fd >= 0 && dup2(err_fd, 2) < 0)
		_exit(127);
	execv(path, argv);
	_exit(127);
}

pid_t spawn_exec(const char *path, char *const argv[], int keep_fd, int err_fd,
		 int deathsig)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid == 0)
		spawn_child(path, argv, keep_fd, err_fd, deathsig, parent);
	if (pid > 0)
		setpgid(pid, pid);   /* both sides, so no race on the group */
	return pid;
}

void spawn_kill_group(pid_t pid, int sig)
{
	if (pid > 0 && kill(-pid, sig) < 0 && errno == ESRCH)
		kill(pid, sig);
}
