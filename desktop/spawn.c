/*
 * spawn.c - fork/exec with the child set up for life under the agent.
 *
 * The agent blocks SIGCHLD/SIGTERM/SIGINT (they arrive on a signalfd) and
 * ignores SIGPIPE; both would leak into children through exec, so the
 * child restores defaults before it runs anything. When the agent runs as
 * a uid of its own (include/caps.h), every child becomes the sandbox's
 * user and drops the agent's capabilities before it execs: Xvfb, the
 * window manager and the apps are the user's, as they are rootless. Owns
 * no state.
 */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/fsuid.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "caps.h"
#include "proto.h"

int spawn_own_uid(void)
{
	return getuid() == PROTO_AGENT_UID;
}

int spawn_user_fs(int on)
{
	uid_t uid = on ? PROTO_USER_UID : getuid();

	if (!spawn_own_uid())
		return 0;
	setfsgid(on ? PROTO_USER_GID : getgid());
	setfsuid(uid);
	/* setfsuid answers the previous id, not errors: the check is that it took. */
	return (uid_t)setfsuid((uid_t)-1) == uid ? 0 : -1;
}

int spawn_as_user(void)
{
	if (!spawn_own_uid())
		return 0;
	if (setresgid(PROTO_USER_GID, PROTO_USER_GID, PROTO_USER_GID) < 0 ||
	    setresuid(PROTO_USER_UID, PROTO_USER_UID, PROTO_USER_UID) < 0)
		return -1;
	return caps_drop_all();
}

/* Child side, after fork: only async-signal-safe calls. */
static void spawn_child(const char *path, char *const argv[], int keep_fd,
			int err_fd, int out_too, int deathsig, pid_t parent)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigset_t none;

	sigemptyset(&none);
	for (int s = 1; s < NSIG; s++)
		sigaction(s, &dfl, NULL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* Before the parent-death signal: a credential change clears it. */
	if (spawn_as_user() < 0)
		_exit(127);
	if (prctl(PR_SET_PDEATHSIG, deathsig) < 0 || getppid() != parent)
		_exit(127);
	setpgid(0, 0);
	if (keep_fd >= 0 && fcntl(keep_fd, F_SETFD, 0) < 0)
		_exit(127);
	if (err_fd >= 0 && (dup2(err_fd, 2) < 0 || (out_too && dup2(err_fd, 1) < 0)))
		_exit(127);
	execv(path, argv);
	_exit(127);
}

static pid_t spawn_fork(const char *path, char *const argv[], int keep_fd, int err_fd,
			int out_too, int deathsig)
{
	pid_t parent = getpid();
	pid_t pid = fork();

	if (pid == 0)
		spawn_child(path, argv, keep_fd, err_fd, out_too, deathsig, parent);
	if (pid > 0)
		setpgid(pid, pid);   /* both sides, so no race on the group */
	return pid;
}

pid_t spawn_exec(const char *path, char *const argv[], int keep_fd, int err_fd,
		 int deathsig)
{
	return spawn_fork(path, argv, keep_fd, err_fd, 0, deathsig);
}

pid_t spawn_exec_logged(const char *path, char *const argv[], int keep_fd, int log_fd,
			int deathsig)
{
	return spawn_fork(path, argv, keep_fd, log_fd, 1, deathsig);
}

void spawn_kill_group(pid_t pid, int sig)
{
	if (pid > 0 && kill(-pid, sig) < 0 && errno == ESRCH)
		kill(pid, sig);
}
