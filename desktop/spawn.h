/*
 * spawn.h - start the agent's children (Xvfb, --app commands) the same
 * way: own process group, default signal state, a parent-death signal, and
 * no inherited descriptors but stdio and the one it is given.
 */
#ifndef DESKTOP_SPAWN_H
#define DESKTOP_SPAWN_H

#include <sys/types.h>

/*
 * fork and execv(path, argv) in a new process group. keep_fd (or -1)
 * stays open in the child; everything else the agent holds is CLOEXEC.
 * err_fd (or -1) becomes the child's stderr. deathsig is sent to the
 * child when the agent dies. Returns the pid, or -1 with errno.
 */
pid_t spawn_exec(const char *path, char *const argv[], int keep_fd, int err_fd,
		 int deathsig);

/* Does the agent run as a uid of its own (PROTO_AGENT_UID, inside a
 * sandbox with its own id range)? Not when run by hand on a host. */
int spawn_own_uid(void);

/*
 * Files the agent writes for the user (the X cookie, the browser's
 * profile, app logs in the user's home) are made with the user's file
 * system ids when the agent runs as a uid of its own: on=1 switches to
 * them, on=0 back. A no-op otherwise. 0, or -1 when the switch did not take.
 */
int spawn_user_fs(int on);

/*
 * In a child about to exec user code: become the sandbox's user, with no
 * capability, if the agent runs as a uid of its own (a no-op otherwise).
 * 0, or -1 with errno.
 */
int spawn_as_user(void);

/* spawn_exec for a child whose stdout and stderr both go to log_fd (or,
 * when it is -1, stay the agent's). */
pid_t spawn_exec_logged(const char *path, char *const argv[], int keep_fd, int log_fd,
			int deathsig);

/* Signal the process group led by pid (if pid > 0). */
void spawn_kill_group(pid_t pid, int sig);

#endif
