/*
 * op_recording.c - the operations of a sandbox's screen recordings:
 * recordings.start, .stop, .list, .get (the MP4), .actions, .delete.
 *
 * deskboxd keeps the list (recording.c); the desktop agent encodes and
 * stores the files. A run checks what it can against the list, then makes
 * at most one agent call. Unlike the desktop family, a call is never
 * forgotten when the client leaves: the reply still moves the recording
 * on (started, stopped), only the answer goes nowhere. Replies always
 * come while the sandbox lives (desktop.c fails open calls when the
 * channel closes), so a job may hold the sandbox; it holds the
 * recording by id, which it looks up again. Loop thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentproto.h"
#include "desktop.h"
#include "op.h"
#include "recording.h"
#include "sandbox.h"

struct rjob;
typedef void (*rjob_fn)(struct rjob *j, struct recording *r, const json_t *result,
			const json_t *error, int fd);

struct rjob {
	struct sandbox *sb;
	struct op_call *c;            /* NULL once the client left */
	char rid[RECORDING_ID_LEN + 1];
	int64_t sent_us;
	rjob_fn fn;
};

static void rjob_cancel(void *ctx)
{
	struct rjob *j = ctx;

	j->c = NULL;
}

static void rjob_reply(void *ctx, json_t *reply, int *fds, int nfds)
{
	int fd = nfds > 0 ? fds[0] : -1;   /* record.open's rule: one at most */
	struct rjob *j = ctx;
	struct recording *r = recording_find(j->sb, j->rid);
	const json_t *result = reply ? json_object_get(reply, "result") : NULL;
	const json_t *error = reply ? json_object_get(reply, "error") : NULL;
	json_t *gone = NULL;

	if (j->c)
		op_clear_job(j->c);
	if (!reply)
		error = gone = json_pack("{s:s,s:s}", "code", "desktop_not_running", "message",
					 "the desktop went away before answering");
	else if (!error && !json_is_object(result))
		error = gone = json_pack("{s:s,s:s}", "code", "internal", "message",
					 "the desktop sent a malformed reply");
	j->fn(j, r, error ? NULL : result, error, fd);
	json_decref(gone);
	free(j);
}

/* Fail c (if still there) with the agent's error object. */
static void fail_with(struct op_call *c, const json_t *error)
{
	const char *code = json_string_value(json_object_get(error, "code"));
	const char *msg = json_string_value(json_object_get(error, "message"));

	if (c)
		op_fail(c, operr_from_code(code), "%.300s", msg ? msg : "the desktop failed");
}

/* Call the agent's method with params (stolen) about recording rid.
 * 0, or -1 with c failed (and not to be touched again). */
static int rcall(struct op_call *c, const char *method, const char *rid, json_t *params, rjob_fn fn)
{
	struct rjob *j = calloc(1, sizeof(*j));

	if (!j || !params) {
		free(j);
		json_decref(params);
		op_fail(c, OPERR_INTERNAL, "out of memory");
		return -1;
	}
	j->sb = c->sb;
	j->c = c;
	j->fn = fn;
	j->sent_us = srv_mono_us();
	snprintf(j->rid, sizeof(j->rid), "%s", rid);
	if (!desk_call(c->sb, method, params, -1, rjob_reply, j)) {
		free(j);
		op_fail(c, OPERR_DESKTOP_NOT_RUNNING, "cannot reach the desktop: %s", strerror(errno));
		return -1;
	}
	op_set_job(c, j, rjob_cancel);
	return 0;
}

/* The recording the call names, or NULL with c failed (404). */
static struct recording *named(struct op_call *c)
{
	const char *rid;
	struct recording *r;

	if (op_param_str(c, "recording", 1, &rid) < 0)
		return NULL;
	r = recording_find(c->sb, rid);
	if (!r)
		op_fail(c, OPERR_NOT_FOUND, "no recording %.64s in this sandbox", rid);
	return r;
}

/* The desktop must be up for what needs the agent (files, encoder). */
static int desktop_up(struct op_call *c)
{
	const char *name, *error;

	if (c->sb->state != SBX_RUNNING || !c->sb->desk || desk_state(c->sb, &name, &error) != DESK_READY) {
		op_fail(c, OPERR_DESKTOP_NOT_RUNNING, "the sandbox's desktop is not running");
		return -1;
	}
	return 0;
}

/* --- start --- */

static void started(struct rjob *j, struct recording *r, const json_t *result, const json_t *error,
		    int fd)
{
	if (fd >= 0)
		close(fd);
	if (!r)
		return fail_with(j->c, error);   /* cannot happen: STARTING is kept */
	if (r->state != REC_STARTING) {
		/* The desktop went away meanwhile; the recording says why. */
		if (j->c)
			op_fail(j->c, OPERR_DESKTOP_NOT_RUNNING, "%s", r->error);
		return;
	}
	if (error || recording_started(r, result, j->sent_us) < 0) {
		if (j->c) {
			if (error)
				fail_with(j->c, error);
			else
				op_fail(j->c, OPERR_INTERNAL, "the desktop sent a malformed reply");
		}
		recording_remove(j->sb, r);
		return;
	}
	if (j->c) {
		j->c->created = 1;
		op_ok(j->c, recording_json(r, NULL));
	}
}

static void run_start(struct op_call *c)
{
	const char *quality = "medium";
	long fps = 10, maxd = 600;
	struct sandbox *sb = c->sb;
	struct recording *r;

	if (op_param_int(c, "fps", 1, 60, &fps) < 0 ||
	    op_param_int(c, "max_duration_s", 1, 86400, &maxd) < 0 ||
	    op_param_str(c, "quality", 0, &quality) < 0)
		return;
	if (!quality)
		quality = "medium";
	if (strcmp(quality, "low") && strcmp(quality, "medium") && strcmp(quality, "high"))
		return op_fail(c, OPERR_BAD_REQUEST, "quality must be low, medium or high");
	r = recording_active(c->sb);
	if (r)
		return op_fail(c, OPERR_BUSY, "recording %s is %s: one runs at a time per sandbox",
			       r->id, r->state == REC_STOPPING ? "stopping" : "running");
	r = recording_new(c->sb);
	if (!r)
		return op_fail(c, OPERR_TOO_BUSY, "this sandbox keeps %d recordings already: delete some",
			       RECORDING_MAX_PER_SANDBOX);
	r->fps = (int)fps;
	r->max_duration_s = maxd;
	snprintf(r->quality, sizeof(r->quality), "%s", quality);
	if (rcall(c, AGENT_M_RECORD_START, r->id,
		  json_pack("{s:s,s:i,s:I,s:s}", "id", r->id, "fps", (int)fps, "max_duration_s",
			    (json_int_t)maxd, "quality", quality),
		  started) < 0)
		recording_remove(sb, r);
}

/* --- stop --- */

static void stopped(struct rjob *j, struct recording *r, const json_t *result, const json_t *error,
		    int fd)
{
	const char *code = json_string_value(json_object_get(error, "code"));

	if (fd >= 0)
		close(fd);
	if (!r) {
		if (j->c)
			op_fail(j->c, OPERR_NOT_FOUND, "the recording was deleted");
		return;
	}
	if (result)
		recording_ended(r, result);
	else if (code && !strcmp(code, "desktop_not_running"))
		recording_fail(r, "the desktop stopped while recording");
	else if (!(code && !strcmp(code, "timeout")) && r->state == REC_STOPPING)
		/* The agent has no such recording running: it ended on its
		 * own and its record.ended went missing, or never started. */
		recording_fail(r, "the desktop lost the recording");
	if (!j->c)
		return;
	if (error && !(r->state == REC_STOPPED || r->state == REC_FAILED))
		return fail_with(j->c, error);
	op_ok(j->c, recording_json(r, NULL));
}

static void run_stop(struct op_call *c)
{
	struct recording *r = named(c);

	if (!r)
		return;
	switch (r->state) {
	case REC_STARTING:
		return op_fail(c, OPERR_BUSY, "recording %s is still starting", r->id);
	case REC_STOPPED:
	case REC_FAILED:
		return op_ok(c, recording_json(r, NULL));
	case REC_RECORDING:
	case REC_STOPPING:
		break;
	}
	if (desktop_up(c) < 0)
		return;
	r->state = REC_STOPPING;
	if (rcall(c, AGENT_M_RECORD_STOP, r->id, json_pack("{s:s}", "id", r->id), stopped) < 0)
		r->state = REC_RECORDING;
}

/* --- list --- */

static void listed(struct rjob *j, struct recording *active, const json_t *result,
		   const json_t *error, int fd)
{
	json_t *list = json_array();

	if (fd >= 0)
		close(fd);
	if (!j->c) {
		json_decref(list);
		return;
	}
	for (struct recording *r = j->sb->recordings; r; r = r->next)
		json_array_append_new(list, recording_json(r, r == active ? result : NULL));
	op_ok(j->c, json_pack("{s:o}", "recordings", list));
}

static void run_list(struct op_call *c)
{
	struct recording *active = recording_active(c->sb);
	struct rjob j = { .sb = c->sb, .c = c };

	/* The running one's size so far is the agent's to say. */
	if (active && active->state == REC_RECORDING && c->sb->state == SBX_RUNNING && c->sb->desk) {
		const char *name, *error;

		if (desk_state(c->sb, &name, &error) == DESK_READY) {
			rcall(c, AGENT_M_RECORD_STATUS, active->id, json_pack("{s:s}", "id", active->id),
			      listed);
			return;
		}
	}
	listed(&j, NULL, NULL, NULL, -1);
}

/* --- get (the file), actions, delete --- */

static void opened(struct rjob *j, struct recording *r, const json_t *result, const json_t *error,
		   int fd)
{
	struct stat st;
	uint64_t limit;

	if (!j->c || error || !r) {
		if (fd >= 0)
			close(fd);
		if (error)
			fail_with(j->c, error);
		else if (j->c)
			op_fail(j->c, OPERR_NOT_FOUND, "the recording was deleted");
		return;
	}
	/* The descriptor is the sandbox's: only a regular file no larger
	 * than its disk is served (a short one ends the response early). */
	limit = (uint64_t)j->sb->spec.limits.disk_mb << 20;
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > limit ||
	    st.st_size == 0) {
		if (fd >= 0)
			close(fd);
		return op_fail(j->c, OPERR_INTERNAL, "the desktop sent no usable file for %s", r->id);
	}
	op_ok_fd(j->c, "video/mp4", fd, (uint64_t)st.st_size,
		 json_pack("{s:s,s:I}", "recording", r->id, "size", (json_int_t)st.st_size));
}

static void run_get(struct op_call *c)
{
	struct recording *r = named(c);

	if (!r)
		return;
	if (r->state != REC_STOPPED)
		return op_fail(c, r->state == REC_FAILED ? OPERR_NOT_FOUND : OPERR_BUSY,
			       "recording %s is %s%s%s", r->id,
			       r->state == REC_FAILED ? "failed" : "not finished: stop it first",
			       r->error[0] ? ": " : "", r->error);
	if (desktop_up(c) < 0)
		return;
	rcall(c, AGENT_M_RECORD_OPEN, r->id, json_pack("{s:s}", "id", r->id), opened);
}

static void run_actions(struct op_call *c)
{
	struct recording *r = named(c);

	if (r)
		op_ok(c, recording_actions_json(r));
}

static void deleted(struct rjob *j, struct recording *r, const json_t *result, const json_t *error,
		    int fd)
{
	if (fd >= 0)
		close(fd);
	if (r && r->state != REC_STARTING && r->state != REC_RECORDING && r->state != REC_STOPPING)
		recording_remove(j->sb, r);
	if (!j->c)
		return;
	if (error)
		return fail_with(j->c, error);
	op_ok(j->c, NULL);
}

static void run_delete(struct op_call *c)
{
	struct recording *r = named(c);
	const char *name, *error;

	if (!r)
		return;
	if (r->state == REC_STARTING || r->state == REC_RECORDING || r->state == REC_STOPPING)
		return op_fail(c, OPERR_BUSY, "recording %s is %s: stop it first", r->id,
			       r->state == REC_STOPPING ? "stopping" : "running");
	/* Without a desktop its file cannot be reached (it goes with the
	 * sandbox): forgetting it is all there is to do. */
	if (c->sb->state != SBX_RUNNING || !c->sb->desk ||
	    desk_state(c->sb, &name, &error) != DESK_READY) {
		recording_remove(c->sb, r);
		return op_ok(c, NULL);
	}
	rcall(c, AGENT_M_RECORD_DELETE, r->id, json_pack("{s:s}", "id", r->id), deleted);
}

#define SB "\"sandbox\":{\"type\":\"string\"}"
#define RID "\"recording\":{\"type\":\"string\",\"description\":\"the recording's id (rec_…)\"}"
#define ONE_REC "{\"type\":\"object\",\"required\":[\"sandbox\",\"recording\"],\"additionalProperties\":false," \
	"\"properties\":{" SB "," RID "}}"

const struct op op_recording_rows[] = {
	{ "recordings.start", "Start recording the desktop to an MP4 (H.264); the sandbox's actions "
	  "are logged beside it. One at a time per sandbox.",
	  "{\"type\":\"object\",\"required\":[\"sandbox\"],\"additionalProperties\":false,\"properties\":{" SB ","
	  "\"fps\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":60,\"default\":10},"
	  "\"max_duration_s\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":86400,\"default\":600,"
	  "\"description\":\"stops by itself after this long\"},"
	  "\"quality\":{\"enum\":[\"low\",\"medium\",\"high\"],\"default\":\"medium\"}}}",
	  OPF_SANDBOX | OPF_DESKTOP | OPF_CONTROL, run_start },
	{ "recordings.stop", "Stop a recording; answers once its MP4 is finalized.", ONE_REC,
	  OPF_SANDBOX | OPF_CONTROL, run_stop },
	{ "recordings.list", "The sandbox's recordings: id, state, started, duration, bytes, fps, size.",
	  "{\"type\":\"object\",\"required\":[\"sandbox\"],\"additionalProperties\":false,"
	  "\"properties\":{" SB "}}",
	  OPF_SANDBOX | OPF_VIEW, run_list },
	{ "recordings.get", "A stopped recording's MP4 (H.264, yuv420p, index at the front).", ONE_REC,
	  OPF_SANDBOX | OPF_VIEW | OPF_BIN_OUT, run_get },
	{ "recordings.actions", "The operations called on the sandbox while the recording ran, each with "
	  "its offset into the video.", ONE_REC, OPF_SANDBOX | OPF_VIEW, run_actions },
	{ "recordings.delete", "Delete a recording and its file.", ONE_REC,
	  OPF_SANDBOX | OPF_CONTROL, run_delete },
	{ NULL, NULL, NULL, 0, NULL },
};
