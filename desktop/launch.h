/*
 * launch.h - applications by name: the installed ones (their .desktop
 * files), starting one with a URI or arguments and answering once its
 * first window maps, and opening a URL or file with the default
 * application for its type.
 */
#ifndef DESKTOP_LAUNCH_H
#define DESKTOP_LAUNCH_H

#include <jansson.h>
#include "agentproto.h"
#include <sys/types.h>

struct agent;
struct launch;

/* Longest and default wait for a launched app's first window (ms);
 * deskboxd's call deadline for these methods is above the longest. */
#define LAUNCH_MAX_WAIT_MS     AGENTPROTO_MAX_LAUNCH_MS
#define LAUNCH_DEFAULT_WAIT_MS 30000

struct launch *launch_create(struct agent *a);
/* Pending launches are answered with an error; the apps keep running. */
void launch_destroy(struct launch *l);

/* {"apps": [{id, name, categories, exec, terminal}]}, or NULL with err. */
json_t *launch_list(struct launch *l, char *err, size_t errlen);

/*
 * Start params.app (with params.uri / params.args) and answer request id
 * later, once its first window maps, on a timeout, or when it ends first.
 * Returns 0 (the reply is deferred), or -1 with *code and err (answer now).
 */
int launch_start(struct launch *l, json_t *id, const json_t *params,
		 const char **code, char *err, size_t errlen);

/* The same for params.target: a URL or an absolute path, opened with the
 * default application for its type. */
int launch_open(struct launch *l, json_t *id, const json_t *params,
		const char **code, char *err, size_t errlen);

/* Answer the launches whose window mapped or whose time is up. */
void launch_run(struct launch *l);
/* ms until launch_run has something to check (-1: nothing pending). */
int launch_timeout_ms(struct launch *l);

/*
 * Whether a window manager is due or still starting: 1 until it manages
 * (its _NET_CLIENT_LIST is set). An app that maps its window before then
 * can be lost: openbox takes the map request while it starts up and drops
 * it, and the window stays unmapped and unmanaged. So apps (the create's
 * own, apps.launch, open) start after it, and no window is answered
 * before it.
 */
int launch_wm_settling(struct agent *a);
/* A reaped child: 1 when it was a launched app (its status is kept). */
int launch_reaped(struct launch *l, pid_t pid, int status);

#endif
