/*
 * recording.h - a sandbox's screen recordings as deskboxd knows them, and
 * the action log that goes beside each.
 *
 * The desktop agent encodes and stores the video (desktop/record.h);
 * deskboxd owns the list: ids (made here, so nothing the agent says names
 * anything), state, timing, and the log of every operation called on the
 * sandbox while a recording runs, each placed at its offset into the video.
 * Offsets are exact because both sides use the one monotonic clock: the
 * agent reports the video's start (t0) on it, deskboxd stamps calls on it.
 */
#ifndef DESKBOX_RECORDING_H
#define DESKBOX_RECORDING_H

#include <jansson.h>
#include <stdint.h>

#include "op.h"

struct sandbox;

#define RECORDING_ID_LEN 20           /* "rec_" + 16 lowercase hex */
#define RECORDING_MAX_PER_SANDBOX 16  /* kept (running or not) at once */
#define RECORDING_MAX_ACTIONS 10000   /* log entries per recording */

enum recording_state {
	REC_STARTING,    /* record.start sent, no answer yet */
	REC_RECORDING,
	REC_STOPPING,    /* record.stop sent: the file is being finalized */
	REC_STOPPED,     /* the MP4 is ready */
	REC_FAILED,
};

struct recording_action;

struct recording {
	struct recording *next;
	char id[RECORDING_ID_LEN + 1];
	enum recording_state state;
	char error[256];
	int64_t started_wall_us;      /* when it was asked for */
	int64_t t0_us, end_us;        /* monotonic: the video's start, its end (0: running) */
	int fps, width, height;
	long max_duration_s;
	char quality[8];
	uint64_t bytes, frames, dropped;
	struct recording_action *acts;
	size_t nacts, cap, dropped_acts;
	size_t log_bytes;             /* the log's size, roughly */
};

/* A new recording of sb (state STARTING) with a fresh id. NULL when sb
 * keeps RECORDING_MAX_PER_SANDBOX already or memory ran out. */
struct recording *recording_new(struct sandbox *sb);

/* The recording of sb named id (any string: checked here), or NULL. */
struct recording *recording_find(struct sandbox *sb, const char *id);

/* The one that is starting, running or stopping, or NULL. */
struct recording *recording_active(struct sandbox *sb);

/* The agent's answer to record.start: t0_us (checked against the span
 * [sent_us, now] the request took, else its middle), size. 0, or -1 when
 * the result is malformed. */
int recording_started(struct recording *r, const json_t *result, int64_t sent_us);

/* The agent's final word on a recording ({state, bytes, frames, dropped,
 * duration_ms[, error]}: a record.stop reply or a record.ended event),
 * checked field by field. */
void recording_ended(struct recording *r, const json_t *msg);

/* Fail r (the desktop went away, the agent refused) with why. */
void recording_fail(struct recording *r, const char *why);

/* The record.ended event of sb's agent: ends the recording it names. */
void recording_agent_event(struct sandbox *sb, const json_t *msg);

/* The desktop stopped (restart, crash): running recordings fail. */
void recording_desktop_lost(struct sandbox *sb);

/* Forget r (unlink from sb and free). */
void recording_remove(struct sandbox *sb, struct recording *r);

/* Free all of sb's recordings (the sandbox is going). */
void recording_free_all(struct sandbox *sb);

/* The API object {id, state, started, duration_ms, bytes, frames, dropped, fps,
 * width, height, quality, max_duration_s[, error]}. live (may be NULL)
 * is the agent's record.status of a running one. */
json_t *recording_json(const struct recording *r, const json_t *live);

/* {recording, actions: [{offset_ms, op, params, status, duration_ms}],
 * dropped}. */
json_t *recording_actions_json(const struct recording *r);

/* The action log's two ends, called by op.c for every operation on a
 * sandbox: when it starts (logged into each running recording) and when
 * it is answered (its status and duration filled in). */
void recording_note_call(struct op_call *c);
void recording_note_done(struct op_call *c);

#endif
