/*
 * agentproto.h - the channel between deskboxd and a sandbox's desktop
 * agent (desktop/): limits and method names, one definition both sides
 * include, so neither can accept what the other refuses.
 *
 * One AF_UNIX SOCK_SEQPACKET socket per desktop; a datagram is one JSON
 * object, file descriptors (sealed memfds, sockets) travel beside it.
 *
 *   request  {"id": N, "method": M, "params": {...}}
 *            or {"id": N, "method": M, "body_fd": true} with a memfd that
 *            holds the whole request object, when it is over
 *            AGENTPROTO_MAX_INLINE (up to AGENTPROTO_MAX_REQUEST)
 *   reply    {"id": N, "result": {...}} or {"id": N, "error": {"code",
 *            "message"[, "index"]}}, or {"id": N, "body_fd": true} with a
 *            memfd holding that object (up to AGENTPROTO_MAX_REPLY, for
 *            the methods whose rule allows one)
 *   event    {"event": E, ...}
 *
 * An actions reply is always inline: each image its batch took (a
 * screenshot, zoom or wait action, the settle_ms screen) is a sealed memfd
 * of its own beside the datagram, at most AGENTPROTO_MAX_IMAGES of them,
 * and the JSON names it by its place among them: "image": {"media_type",
 * "fd": K}. deskboxd never parses the image bytes; the faces encode them.
 *
 * deskboxd treats everything the agent sends as hostile: it reads a memfd
 * body only for an id it is waiting for, of a method whose replies may
 * come as one, within that method's cap; a file beside a reply only for
 * methods that answer with one, and only sealed (F_SEAL_WRITE, _GROW and
 * _SHRINK), so the size checked once holds while it is streamed.
 */
#ifndef DESKBOX_AGENTPROTO_H
#define DESKBOX_AGENTPROTO_H

/* Largest datagram either side sends (the socket buffers are sized for it). */
#define AGENTPROTO_MAX_MSG     (160 * 1024)
/* Largest message sent inline; bigger ones go as a memfd body. */
#define AGENTPROTO_MAX_INLINE  (120 * 1024)
/* Largest request (a memfd body): deskboxd refuses bigger with 413. */
#define AGENTPROTO_MAX_REQUEST (16 << 20)
/* Largest reply body deskboxd reads; the methods whose replies are
 * smaller have their own caps, and the rest answer inline
 * (common/agentmsg.c has the table). */
#define AGENTPROTO_MAX_REPLY   (64 << 20)
/* Actions in one batch, and images it may take: its screenshot, zoom and
 * wait actions, and the settle_ms screen (a sealed memfd each); the bytes
 * of all of one reply's images together (base64 in a client's answer:
 * 64 MiB). */
#define AGENTPROTO_MAX_ACTIONS       1000
#define AGENTPROTO_MAX_ACTION_IMAGES 16
#define AGENTPROTO_MAX_IMAGES        (AGENTPROTO_MAX_ACTION_IMAGES + 1)
#define AGENTPROTO_MAX_IMAGE_BYTES   (48 << 20)
/* clipboard.get: the agent reads at most 16 MiB of text; escaped as JSON. */
#define AGENTPROTO_MAX_REPLY_CLIPBOARD (40 << 20)
/* windows: apps choose how many windows and how long their titles. */
#define AGENTPROTO_MAX_REPLY_WINDOWS   (8 << 20)

/* The full session's D-Bus session bus: an abstract socket, so private to
 * the sandbox's network namespace. deskboxd puts it in the environment of
 * the sandbox's commands, the agent in its apps'. */
#define AGENTPROTO_SESSION_BUS "unix:abstract=deskbox-session-bus"

/* How long deskboxd waits for an answer (ms), by method. */
#define AGENTPROTO_DEADLINE_MS         30000
#define AGENTPROTO_DEADLINE_ACTIONS_MS (15 * 60 * 1000)
/* apps.launch and open wait up to AGENTPROTO_MAX_LAUNCH_MS for a window
 * (a browser's cold start on a loaded machine takes tens of seconds). */
#define AGENTPROTO_MAX_LAUNCH_MS       120000
#define AGENTPROTO_DEADLINE_LAUNCH_MS  (AGENTPROTO_MAX_LAUNCH_MS + 10000)

#define AGENT_M_SCREENSHOT     "screenshot"
#define AGENT_M_SHOT_PREPARE   "screenshot.prepare"
#define AGENT_M_ACTIONS        "actions"
#define AGENT_M_DISPLAY_GET    "display.get"
#define AGENT_M_DISPLAY_SET    "display.set"
#define AGENT_M_CLIPBOARD_GET  "clipboard.get"
#define AGENT_M_CLIPBOARD_SET  "clipboard.set"
#define AGENT_M_WINDOWS        "windows"
/* {window, op: activate|move|resize|minimize|maximize|restore|close, x, y,
 * width, height, force}: answered once the change shows (or after
 * AGENTPROTO_WINDOW_WAIT_MS with "applied": false). */
#define AGENT_M_WINDOW_OP      "window.op"
#define AGENTPROTO_WINDOW_WAIT_MS 2000
#define AGENT_M_VNC_ATTACH     "vnc.attach"
#define AGENT_M_VNC_STATS      "vnc.stats"
#define AGENT_M_EVENTS_WATCH   "events.watch"
#define AGENT_M_WAIT_SETTLED   "wait.settled"
/* Screen recordings (desktop/record.h): start {id, fps, quality,
 * max_duration_s} -> {t0_us, width, height}; stop {id} -> (once the file
 * is final) {state, bytes, frames, dropped, duration_ms[, error]};
 * status {id} -> the same while it runs; open {id} -> {size} + a
 * read-only fd of the MP4; delete {id} -> {ok}. */
#define AGENT_M_RECORD_START   "record.start"
#define AGENT_M_RECORD_STOP    "record.stop"
#define AGENT_M_RECORD_STATUS  "record.status"
#define AGENT_M_RECORD_OPEN    "record.open"
#define AGENT_M_RECORD_DELETE  "record.delete"
/* A recording ended, by record.stop or on its own (max_duration_s, a
 * write error): {id, state: "stopped"|"failed", bytes, frames, dropped,
 * duration_ms[, error]}. Sent whether or not anything is watched. */
#define AGENT_E_RECORD_ENDED   "record.ended"
/* Longest recording id either side accepts ([a-z0-9_]). */
#define AGENTPROTO_MAX_RECORD_ID 64
#define AGENT_M_APPS_LIST      "apps.list"
#define AGENT_M_APPS_LAUNCH    "apps.launch"
#define AGENT_M_OPEN           "open"

/*
 * Events the agent sends while deskboxd watches (events.watch {screen,
 * min_interval_ms, quiet_ms, windows, clipboard}); named as the bus topics
 * they become, with the topics' fields:
 *   screen.changed    {rects: [[x,y,w,h]...], frame}
 *   screen.settled    {frame, quiet_ms}
 *   window.opened     {window, title, pid}
 *   window.closed     {window}
 *   window.focused    {window, title}
 *   window.changed    {window, x, y, width, height, state: {minimized,
 *                     maximized, fullscreen, above}}
 *   clipboard.changed {}
 */
#define AGENT_E_SCREEN_CHANGED    "screen.changed"
#define AGENT_E_SCREEN_SETTLED    "screen.settled"
#define AGENT_E_WINDOW_OPENED     "window.opened"
#define AGENT_E_WINDOW_CLOSED     "window.closed"
#define AGENT_E_WINDOW_FOCUSED    "window.focused"
#define AGENT_E_WINDOW_CHANGED    "window.changed"
#define AGENT_E_CLIPBOARD_CHANGED "clipboard.changed"

/* Most rectangles in one screen.changed (more: their bounding box). */
#define AGENTPROTO_MAX_RECTS   32
/* Longest window title in an event, in bytes (longer: cut at a character). */
#define AGENTPROTO_MAX_TITLE   512
/* Bounds of the settle parameters (ms): quiet period, wait.settled's
 * timeout (kept under the call deadline), events' min interval. */
#define AGENTPROTO_MAX_QUIET_MS    10000
#define AGENTPROTO_MAX_WAIT_MS     20000
#define AGENTPROTO_MAX_INTERVAL_MS 10000

#endif
