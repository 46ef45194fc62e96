/*
 * desktop.h - a sandbox's desktop as deskboxd sees it: the desktop agent
 * process inside the jail (desktop/), its JSON channel, and calls to it.
 */
#ifndef DESKBOX_DESKTOP_H
#define DESKBOX_DESKTOP_H

#include <jansson.h>
#include <stdint.h>

#include "op.h"

struct sandbox;

enum desk_state { DESK_STARTING, DESK_READY, DESK_FAILED, DESK_RESTARTING };

/*
 * The reply to a call: the whole reply object ({"id","result"} or
 * {"id","error"}), and the files that came with it (nfds of them, at most
 * the method's rule allows, each checked as the rule says; the callback
 * owns them). reply is NULL when the desktop went away before answering.
 */
typedef void (*desk_cb)(void *ctx, json_t *reply, int *fds, int nfds);

/* Start the desktop of sb (after its init is up). When it is ready (or has
 * failed) sbx_desktop_ready / sbx_desktop_failed are called. Returns 0, or
 * -1 with a message in sb->error. */
int desk_start(struct sandbox *sb);

/* Forget the desktop (the sandbox is going): fail every pending call. */
void desk_destroy(struct sandbox *sb);

/* Kill the agent (and Xvfb, apps) and start it again; answer c when it is
 * ready. */
void desk_restart(struct sandbox *sb, struct op_call *c);

/* Call method with params (stolen; may be NULL) and fd (or -1; not closed)
 * passed beside it. Returns a call id (> 0) or 0 (errno: ENOTCONN when the
 * desktop is not ready, EMSGSIZE when the request is over
 * AGENTPROTO_MAX_REQUEST). Every call has a deadline: past it cb gets an
 * error reply with code "timeout". */
uint32_t desk_call(struct sandbox *sb, const char *method, json_t *params, int fd,
		   desk_cb cb, void *ctx);
/* Forget call id at once: its callback will not run. */
void desk_call_cancel(struct sandbox *sb, uint32_t id);

/* sb's desktop state, the name the API shows for it, and the reason it
 * failed ("" otherwise). sb must have a desktop. */
enum desk_state desk_state(const struct sandbox *sb, const char **name, const char **error);

/* The "desktop" member of the sandbox object (NULL if it has none). */
json_t *desk_json(const struct sandbox *sb);
/* Bytes of one full 32-bit frame of sb's screen (0 without a desktop). */
size_t desk_frame_bytes(const struct sandbox *sb);

/* DISPLAY and XAUTHORITY for commands, or NULL when there is no desktop. */
const char *const *desk_env(const struct sandbox *sb);

/* The desktop.*, display.*, clipboard.*, windows.* operation rows. */
extern const struct op op_desktop_rows[];

#endif
