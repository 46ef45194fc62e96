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

/* Signal the process group led by pid (if pid > 0). */
void spawn_kill_group(pid_t pid, int sig);

#endif
