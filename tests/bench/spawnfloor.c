/*
 * spawnfloor.c - the floor for running a command: this host's own
 * fork + exec of /bin/sh -c true, waited for, n times. Prints one line per
 * run: the wall time in microseconds. Used by bench_rpc.py, compiled there.
 *
 *   spawnfloor N
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 100;

	for (int i = 0; i < n; i++) {
		double t0 = now_us();
		pid_t pid = fork();
		int st;

		if (pid < 0)
			return 1;
		if (pid == 0) {
			execl("/bin/sh", "sh", "-c", "true", (char *)NULL);
			_exit(127);
		}
		if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			return 1;
		printf("%.1f\n", now_us() - t0);
	}
	return 0;
}
