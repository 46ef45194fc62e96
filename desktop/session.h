/*
 * session.h - what the desktop is dressed in beyond the window manager.
 *
 * "full": a wallpaper (hsetroot), a panel with a launcher, a taskbar and a
 * clock (tint2), and the home directory's settings that make the default
 * apps quiet (the browser's profile without first-run pages, prompts,
 * update checks or telemetry, its proxy from the environment; the default
 * application for each type). The heavy apps start only when launched.
 * "bare": nothing beyond the window manager. Both: Xft.dpi.
 */
#ifndef DESKTOP_SESSION_H
#define DESKTOP_SESSION_H

#include <sys/types.h>

struct agent;

/* The panel's background colour: what session_start waits to see drawn. */
#define SESSION_PANEL_RGB     0x1f2430
#define SESSION_PANEL_HEIGHT  30
/* The wallpaper's colours, top and bottom (a vertical gradient). */
#define SESSION_WALL_TOP      "#2e5a88"
#define SESSION_WALL_BOTTOM   "#14283e"

/* The default application (desktop file id) for a MIME type, or NULL. */
const char *session_default_app(const char *mime);

/*
 * Dress the desktop. With full, wait (bounded) for the window manager,
 * draw the wallpaper, start the panel and wait until it is drawn, so the
 * first screenshot has it. Returns the panel's pid, or -1 when there is
 * none (bare, or it could not start: logged, the desktop still works).
 * Must run after the window manager started, before the loop serves.
 */
pid_t session_start(struct agent *a, int full, int dpi);

#endif
