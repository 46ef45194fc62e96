/*
 * recording.c - the recordings registry and action logs (see recording.h).
 *
 * Owns each sandbox's list of recordings (sb->recordings) and their action
 * logs. Everything the agent says about a recording (t0, sizes, counts,
 * errors) is range-checked before it is kept. A log entry holds a summary
 * of the call's params, never its payload: strings are cut, nesting and
 * lists are bounded, and fields that carry file contents, environments or
 * secrets are replaced by their size. Loop thread only.
 */
#include "recording.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "sandbox.h"
#include "util.h"

struct recording_action {
	int64_t at_us;            /* monotonic, the call's start */
	int64_t dur_us;           /* -1 while unanswered */
	const struct op_call *call;   /* identity only, never followed */
	const char *op;           /* the row's name (static) */
	json_t *params;           /* summary */
	enum operr err;
};

#define SUM_STR 160      /* bytes of a string kept */
#define SUM_ITEMS 32     /* array items / object members kept */
#define SUM_DEPTH 4
#define SUM_NODES 64     /* values in one summary, all levels */
/* What one recording's log may hold, summaries counted roughly (their
 * strings plus a little per value): past it, entries are dropped. */
#define LOG_BYTES (4u << 20)

/* Params whose values are payloads or secrets: logged as their size. */
static int secret_key(const char *k)
{
	static const char *const keys[] = { "content", "data", "body", "env", "stdin", "token",
					    "password", "secret", "api_key", "authorization", NULL };

	for (int i = 0; keys[i]; i++)
		if (!strcasecmp(k, keys[i]))
			return 1;
	return 0;
}

/* s cut to at most SUM_STR bytes, at a character boundary. */
static json_t *sum_string(const char *s, size_t len)
{
	size_t n = len;

	if (n <= SUM_STR)
		return json_stringn(s, n);
	n = SUM_STR;
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	json_t *cut = json_stringn(s, n);
	char note[48];

	snprintf(note, sizeof(note), "… (%zu bytes)", len);
	if (cut) {
		char *both = malloc(n + sizeof(note));

		if (both) {
			memcpy(both, s, n);
			snprintf(both + n, sizeof(note), "%s", note);
			json_decref(cut);
			cut = json_string(both);
			free(both);
		}
	}
	return cut;
}

/* *left values may still be summarized; *bytes grows by what is kept. */
static json_t *summarize(const json_t *v, int depth, int *left, size_t *bytes)
{
	json_t *out;

	--*left;
	*bytes += 16;
	switch (json_typeof(v)) {
	case JSON_STRING:
		*bytes += json_string_length(v) < SUM_STR ? json_string_length(v) : SUM_STR + 32;
		return sum_string(json_string_value(v), json_string_length(v));
	case JSON_ARRAY: {
		size_t i;
		json_t *x;

		if (depth >= SUM_DEPTH)
			return json_pack("{s:I}", "items", (json_int_t)json_array_size(v));
		out = json_array();
		json_array_foreach(v, i, x) {
			if (i == SUM_ITEMS || *left <= 0) {
				json_array_append_new(out, json_pack("{s:I}", "more",
								     (json_int_t)(json_array_size(v) - i)));
				break;
			}
			json_array_append_new(out, summarize(x, depth + 1, left, bytes));
		}
		return out;
	}
	case JSON_OBJECT: {
		const char *k;
		json_t *x;
		size_t n = 0;

		if (depth >= SUM_DEPTH)
			return json_pack("{s:I}", "members", (json_int_t)json_object_size(v));
		out = json_object();
		json_object_foreach((json_t *)v, k, x) {
			if (n++ == SUM_ITEMS || *left <= 0)
				break;
			if (strlen(k) > 64)
				continue;
			*bytes += strlen(k);
			if (secret_key(k)) {
				char *text = json_dumps(x, JSON_COMPACT | JSON_ENCODE_ANY);
				char what[48];

				snprintf(what, sizeof(what), "<%zu bytes>", text ? strlen(text) : 0);
				free(text);
				json_object_set_new(out, k, json_string(what));
			} else {
				json_object_set_new(out, k, summarize(x, depth + 1, left, bytes));
			}
		}
		return out;
	}
	default:
		return json_deep_copy(v);
	}
}

static const char *const state_names[] = {
	[REC_STARTING] = "starting", [REC_RECORDING] = "recording", [REC_STOPPING] = "stopping",
	[REC_STOPPED] = "stopped", [REC_FAILED] = "failed",
};

struct recording *recording_new(struct sandbox *sb)
{
	struct recording *r;
	uint8_t rnd[8];
	size_t n = 0;

	for (r = sb->recordings; r; r = r->next)
		n++;
	if (n >= RECORDING_MAX_PER_SANDBOX || getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	memcpy(r->id, "rec_", 4);
	id_format(rnd, sizeof(rnd), r->id + 4);
	r->state = REC_STARTING;
	r->started_wall_us = srv_wall_us();
	/* Newest last, so a list reads in the order they were made. */
	struct recording **pp = &sb->recordings;

	while (*pp)
		pp = &(*pp)->next;
	*pp = r;
	return r;
}

struct recording *recording_find(struct sandbox *sb, const char *id)
{
	if (!id || strlen(id) != RECORDING_ID_LEN || strncmp(id, "rec_", 4) ||
	    strspn(id + 4, "0123456789abcdef") != RECORDING_ID_LEN - 4)
		return NULL;
	for (struct recording *r = sb->recordings; r; r = r->next)
		if (!strcmp(r->id, id))
			return r;
	return NULL;
}

struct recording *recording_active(struct sandbox *sb)
{
	for (struct recording *r = sb->recordings; r; r = r->next)
		if (r->state == REC_STARTING || r->state == REC_RECORDING || r->state == REC_STOPPING)
			return r;
	return NULL;
}

static int int_in(const json_t *o, const char *k, int64_t lo, int64_t hi, int64_t *out)
{
	const json_t *v = json_object_get(o, k);

	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return -1;
	*out = json_integer_value(v);
	return 0;
}

int recording_started(struct recording *r, const json_t *result, int64_t sent_us)
{
	int64_t now = srv_mono_us(), t0, w, h;

	if (int_in(result, "width", 2, 16384, &w) < 0 || int_in(result, "height", 2, 16384, &h) < 0)
		return -1;
	/* The agent's clock is ours (CLOCK_MONOTONIC), but its word is not
	 * trusted: a t0 outside the request's span becomes the middle of it. */
	if (int_in(result, "t0_us", sent_us, now, &t0) < 0)
		t0 = sent_us + (now - sent_us) / 2;
	r->t0_us = t0;
	r->width = (int)w;
	r->height = (int)h;
	r->state = REC_RECORDING;
	return 0;
}

void recording_ended(struct recording *r, const json_t *msg)
{
	const char *state = json_string_value(json_object_get(msg, "state"));
	const char *err = json_string_value(json_object_get(msg, "error"));
	int64_t v, max_ms = (int64_t)r->max_duration_s * 1000;

	if (r->state == REC_STOPPED || r->state == REC_FAILED)
		return;
	if (int_in(msg, "bytes", 0, INT64_C(1) << 44, &v) == 0)
		r->bytes = (uint64_t)v;
	if (int_in(msg, "frames", 0, INT64_C(1) << 32, &v) == 0)
		r->frames = (uint64_t)v;
	if (int_in(msg, "dropped", 0, INT64_C(1) << 32, &v) == 0)
		r->dropped = (uint64_t)v;
	if (int_in(msg, "duration_ms", 0, max_ms + 60000, &v) < 0)
		v = r->t0_us ? (srv_mono_us() - r->t0_us) / 1000 : 0;
	if (v > max_ms)
		v = max_ms;
	r->end_us = r->t0_us + v * 1000;
	if (state && !strcmp(state, "stopped")) {
		r->state = REC_STOPPED;
	} else {
		r->state = REC_FAILED;
		snprintf(r->error, sizeof(r->error), "the recording failed: %.200s",
			 err ? err : "the desktop gave no reason");
	}
}

void recording_fail(struct recording *r, const char *why)
{
	if (r->state == REC_STOPPED || r->state == REC_FAILED)
		return;
	r->state = REC_FAILED;
	if (r->t0_us && !r->end_us)
		r->end_us = srv_mono_us();
	snprintf(r->error, sizeof(r->error), "%s", why);
}

void recording_agent_event(struct sandbox *sb, const json_t *msg)
{
	struct recording *r = recording_find(sb, json_string_value(json_object_get(msg, "id")));

	if (r && (r->state == REC_RECORDING || r->state == REC_STOPPING))
		recording_ended(r, msg);
}

void recording_desktop_lost(struct sandbox *sb)
{
	for (struct recording *r = sb->recordings; r; r = r->next)
		if (r->state == REC_RECORDING || r->state == REC_STOPPING)
			recording_fail(r, "the desktop stopped while recording");
}

static void recording_free(struct recording *r)
{
	for (size_t i = 0; i < r->nacts; i++)
		json_decref(r->acts[i].params);
	free(r->acts);
	free(r);
}

void recording_remove(struct sandbox *sb, struct recording *r)
{
	for (struct recording **pp = &sb->recordings; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			recording_free(r);
			return;
		}
}

void recording_free_all(struct sandbox *sb)
{
	while (sb->recordings) {
		struct recording *r = sb->recordings;

		sb->recordings = r->next;
		recording_free(r);
	}
}

json_t *recording_json(const struct recording *r, const json_t *live)
{
	char started[40];
	int64_t dur = 0, v;
	json_t *o;

	sbx_iso_time(r->started_wall_us, started, sizeof(started));
	if (r->t0_us)
		dur = ((r->end_us ? r->end_us : srv_mono_us()) - r->t0_us) / 1000;
	if (dur > (int64_t)r->max_duration_s * 1000)
		dur = (int64_t)r->max_duration_s * 1000;
	o = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:i,s:i,s:i,s:s,s:I}", "id", r->id, "state",
		      state_names[r->state], "started", started, "duration_ms", (json_int_t)dur,
		      "bytes", (json_int_t)r->bytes, "frames", (json_int_t)r->frames, "dropped",
		      (json_int_t)r->dropped, "fps", r->fps,
		      "width", r->width, "height", r->height, "quality", r->quality, "max_duration_s",
		      (json_int_t)r->max_duration_s);
	if (o && live) {
		if (int_in(live, "bytes", 0, INT64_C(1) << 44, &v) == 0)
			json_object_set_new(o, "bytes", json_integer(v));
		if (int_in(live, "frames", 0, INT64_C(1) << 32, &v) == 0)
			json_object_set_new(o, "frames", json_integer(v));
		if (int_in(live, "dropped", 0, INT64_C(1) << 32, &v) == 0)
			json_object_set_new(o, "dropped", json_integer(v));
	}
	if (o && r->error[0])
		json_object_set_new(o, "error", json_string(r->error));
	return o;
}

json_t *recording_actions_json(const struct recording *r)
{
	json_t *list = json_array();

	for (size_t i = 0; i < r->nacts; i++) {
		const struct recording_action *a = &r->acts[i];
		json_t *e = json_pack("{s:I,s:s,s:O}", "offset_ms", (json_int_t)((a->at_us - r->t0_us) / 1000),
				      "op", a->op, "params", a->params);

		json_object_set_new(e, "status", a->dur_us < 0 ? json_null() :
				    json_string(a->err == OPERR_OK ? "ok" : operr_code(a->err)));
		json_object_set_new(e, "duration_ms", a->dur_us < 0 ? json_null() :
				    json_integer(a->dur_us / 1000));
		json_array_append_new(list, e);
	}
	return json_pack("{s:s,s:o,s:I}", "recording", r->id, "actions", list, "dropped",
			 (json_int_t)r->dropped_acts);
}

static void log_into(struct recording *r, const struct op_call *c)
{
	struct recording_action *a;
	int left = SUM_NODES;
	size_t bytes = sizeof(*a);

	if (r->nacts == RECORDING_MAX_ACTIONS) {
		r->dropped_acts++;
		return;
	}
	if (r->nacts == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct recording_action *n = realloc(r->acts, cap * sizeof(*n));

		if (!n) {
			r->dropped_acts++;
			return;
		}
		r->acts = n;
		r->cap = cap;
	}
	a = &r->acts[r->nacts];
	a->params = summarize(c->params, 0, &left, &bytes);
	if (!a->params || r->log_bytes + bytes > LOG_BYTES) {
		json_decref(a->params);
		r->dropped_acts++;
		return;
	}
	r->log_bytes += bytes;
	a->at_us = c->start_us;
	a->dur_us = -1;
	a->call = c;
	a->op = c->op->name;
	a->err = OPERR_OK;
	r->nacts++;
}

void recording_note_call(struct op_call *c)
{
	int logged = 0;

	if (!c->sb || !strncmp(c->op->name, "recordings.", 11))
		return;
	for (struct recording *r = c->sb->recordings; r; r = r->next)
		if (r->state == REC_RECORDING) {
			log_into(r, c);
			logged = 1;
		}
	if (logged)
		snprintf(c->logged_sb, sizeof(c->logged_sb), "%s", c->sb->id);
}

void recording_note_done(struct op_call *c)
{
	struct sandbox *sb;

	if (!c->logged_sb[0])
		return;
	/* The sandbox may be gone by now (its own delete): find it again. */
	sb = sbx_find(c->srv, c->logged_sb);
	c->logged_sb[0] = '\0';
	for (struct recording *r = sb ? sb->recordings : NULL; r; r = r->next)
		for (size_t i = r->nacts; i-- > 0;) {
			struct recording_action *a = &r->acts[i];

			if (a->call == c && a->at_us == c->start_us && a->dur_us < 0) {
				a->dur_us = srv_mono_us() - c->start_us;
				a->err = c->err;
				break;
			}
			if (a->at_us < c->start_us)
				break;
		}
}
