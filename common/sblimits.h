/*
 * sblimits.h - resource limits of one sandbox, as requested and as defaulted,
 * and the kinds of desktop session (shared by the config and create bodies).
 */
#ifndef DESKBOX_SBLIMITS_H
#define DESKBOX_SBLIMITS_H

struct limits {
	long memory_mb;  /* memory (and memory+swap) limit */
	long pids;       /* most tasks at once */
	double cpu;      /* cores of CPU time per period */
	long disk_mb;    /* the writable tmpfs holding /tmp and /home/user */
	long nofile;     /* RLIMIT_NOFILE of every process */
};

#define LIMITS_DEFAULT { 1024, 512, 1.0, 1024, 1024 }

/* A desktop's session: full (panel, wallpaper, default apps) or bare (the
 * window manager and the given apps); unsaid takes the server's default. */
enum session { SESSION_UNSAID = 0, SESSION_FULL, SESSION_BARE };

#endif
