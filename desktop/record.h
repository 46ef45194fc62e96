/*
 * record.h - screen recordings: the agent's damage-driven capture
 * encoded to an MP4 (H.264, yuv420p, moov at the front) by a thread of
 * its own.
 *
 * The loop grabs a frame only when the screen changed (the damage
 * counter, the cursor's shape or position) and at most fps times a
 * second, on a grid of 1/fps from the recording's start; the frame's
 * timestamp is its slot on that grid, so an idle screen writes nothing
 * and costs nothing. The grab (one XShmGetImage plus a copy) is all the
 * loop does; converting and encoding happen on the encoder thread, fed
 * through a queue of RECORD_SLOTS frames. When the queue is full the
 * frame is dropped, never waited for: screenshots and input never wait
 * on the encoder.
 *
 * One recording runs at a time. Files live in
 * $XDG_RUNTIME_DIR/deskbox-recordings (the sandbox's writable space, so
 * its disk limit bounds them) as ID.mp4.part while written and ID.mp4
 * once finalized. Loop thread only, except where the encoder thread is
 * named.
 */
#ifndef DESKTOP_RECORD_H
#define DESKTOP_RECORD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct agent;
struct record;

/* The recordings of agent a. NULL when out of memory. */
struct record *record_create(struct agent *a);

/* Stop the running recording (its file is finalized, not answered
 * for), wait for the encoder and free. */
void record_destroy(struct record *r);

/*
 * record.start {id, fps, quality, max_duration_s}: start recording.
 * Returns the result {t0_us, width, height}, or NULL with *code and err.
 */
json_t *record_start(struct record *r, const json_t *params, const char **code,
		     char *err, size_t errlen);

/*
 * record.stop {id}: stop the running recording; the reply to id comes
 * once the file is finalized (record_run sends it). Returns 0 (deferred;
 * id is kept), or -1 with *code and err.
 */
int record_stop(struct record *r, json_t *id, const json_t *params, const char **code,
		char *err, size_t errlen);

/* record.status {id}: {state, bytes, frames, dropped, duration_ms}. NULL
 * with *code and err. */
json_t *record_status(struct record *r, const json_t *params, const char **code,
		      char *err, size_t errlen);

/* record.open {id}: a read-only descriptor of the finalized file in *fd
 * and the result {size}. NULL with *code and err. */
json_t *record_open(struct record *r, const json_t *params, int *fd, const char **code,
		    char *err, size_t errlen);

/* record.delete {id}: remove its files. {ok}, or NULL with *code and err. */
json_t *record_delete(struct record *r, const json_t *params, const char **code,
		      char *err, size_t errlen);

/* Grab a frame if one is due, stop at max_duration_s, and finish a
 * recording whose encoder is done. Called on every loop turn. */
void record_run(struct record *r);

/* The poll timeout the recording needs (ms), or -1 for none. */
int record_timeout_ms(const struct record *r);

/* The descriptor the encoder thread signals when it failed or is done
 * (record_run reads it), or -1. */
int record_pollfd(const struct record *r);

#endif
