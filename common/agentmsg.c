/*
 * agentmsg.c - the rules and checked fields of the agent's replies and
 * non-bus events (pure). See agentmsg.h.
 */
#include "agentmsg.h"

#include <limits.h>
#include <string.h>
#include <fcntl.h>

#include "agentproto.h"

static const struct agentmsg_rule agentmsg_rules[] = {
	/* images go as their own memfd; the JSON stays small */
	{ AGENT_M_SCREENSHOT, 0, 1, 1, 0 },
	{ AGENT_M_WAIT_SETTLED, 0, 1, 1, 0 },
	/* inline (1000 results of a few fields fit a datagram), its images
	 * as memfds beside it: the faces encode them, nobody parses them */
	{ AGENT_M_ACTIONS, 0, 1, AGENTPROTO_MAX_IMAGES, AGENTPROTO_MAX_IMAGE_BYTES },
	/* 16 MiB of text, escaped */
	{ AGENT_M_CLIPBOARD_GET, AGENTPROTO_MAX_REPLY_CLIPBOARD, 0, 0, 0 },
	/* apps choose their windows' number and titles */
	{ AGENT_M_WINDOWS, AGENTPROTO_MAX_REPLY_WINDOWS, 0, 0, 0 },
	{ AGENT_M_WINDOW_OP, 0, 0, 0, 0 },
	{ AGENT_M_DISPLAY_GET, 0, 0, 0, 0 },
	{ AGENT_M_DISPLAY_SET, 0, 0, 0, 0 },
	{ AGENT_M_CLIPBOARD_SET, 0, 0, 0, 0 },
	{ AGENT_M_VNC_ATTACH, 0, 0, 0, 0 },
	{ AGENT_M_VNC_STATS, 0, 0, 0, 0 },
	{ AGENT_M_EVENTS_WATCH, 0, 0, 0, 0 },
	/* an MP4 in the sandbox's disk, streamed with its length checked */
	{ AGENT_M_RECORD_OPEN, 0, AGENTMSG_FD_FILE, 1, 0 },
};

const struct agentmsg_rule *agentmsg_rule(const char *method)
{
	static const struct agentmsg_rule inline_only = { "", 0, 0, 0, 0 };

	for (size_t i = 0; method && i < sizeof(agentmsg_rules) / sizeof(agentmsg_rules[0]); i++)
		if (!strcmp(agentmsg_rules[i].method, method))
			return &agentmsg_rules[i];
	return &inline_only;
}

int agentmsg_sealed(int seals)
{
	int need = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;

	return seals >= 0 && (seals & need) == need;
}

json_t *agentmsg_apps(const json_t *in)
{
	json_t *out = json_array(), *a;
	size_t i;

	if (!out || !json_is_array(in) || json_array_size(in) > 64)
		goto bad;
	json_array_foreach(in, i, a) {
		json_t *cmd = json_object_get(a, "command"), *pid = json_object_get(a, "pid");
		json_t *code = json_object_get(a, "exit_code"), *sig = json_object_get(a, "signal");
		json_t *tail = json_object_get(a, "stderr_tail");
		const char *st = json_string_value(json_object_get(a, "state"));

		if (!json_is_string(cmd) || json_string_length(cmd) > 65536 || !json_is_integer(pid) ||
		    !st || (strcmp(st, "running") && strcmp(st, "exited")) ||
		    !(json_is_null(code) || json_is_integer(code)) ||
		    !(json_is_null(sig) || json_is_integer(sig)) ||
		    !json_is_string(tail) || json_string_length(tail) > 4096)
			goto bad;
		/* Copies, not references: nothing of the agent's object stays. */
		if (json_array_append_new(out, json_pack("{s:s%,s:I,s:s,s:o,s:o,s:s%}",
							 "command", json_string_value(cmd),
							 json_string_length(cmd), "pid",
							 json_integer_value(pid), "state", st,
							 "exit_code", json_is_null(code) ? json_null() :
							 json_integer(json_integer_value(code)),
							 "signal", json_is_null(sig) ? json_null() :
							 json_integer(json_integer_value(sig)),
							 "stderr_tail", json_string_value(tail),
							 json_string_length(tail))) < 0)
			goto bad;
	}
	return out;
bad:
	json_decref(out);
	return NULL;
}

int agentmsg_display(const json_t *display, int *width, int *height)
{
	const json_t *w = json_object_get(display, "width"), *h = json_object_get(display, "height");

	if (!json_is_integer(w) || !json_is_integer(h) || json_integer_value(w) < 1 ||
	    json_integer_value(w) > 16384 || json_integer_value(h) < 1 || json_integer_value(h) > 16384)
		return -1;
	*width = (int)json_integer_value(w);
	*height = (int)json_integer_value(h);
	return 0;
}

int agentmsg_etag_ok(const char *e)
{
	size_t n = e ? strlen(e) : 0;

	return n > 0 && n < 100 &&
	       strspn(e, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:") == n;
}

/* An integer member within lo..hi into out (absent: left out). */
static int copy_int(const json_t *in, const char *key, json_int_t lo, json_int_t hi, json_t *out)
{
	const json_t *v = json_object_get(in, key);

	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return -1;
	return json_object_set_new(out, key, json_integer(json_integer_value(v)));
}

/* An image {media_type, fd} naming one of nfds files not named before. */
static int copy_image(const json_t *in, int nfds, json_t **images, json_t *out)
{
	const json_t *img = json_object_get(in, "image"), *k = json_object_get(img, "fd");
	const char *mt = json_string_value(json_object_get(img, "media_type"));
	json_t *copy;

	if (!img)
		return 0;
	if (!json_is_object(img) || json_object_size(img) != 2 || !mt || !json_is_integer(k) ||
	    json_integer_value(k) < 0 || json_integer_value(k) >= nfds ||
	    images[json_integer_value(k)] || (strcmp(mt, "image/png") && strcmp(mt, "image/jpeg")))
		return -1;
	copy = json_pack("{s:s}", "media_type", strcmp(mt, "image/png") ? "image/jpeg" : "image/png");
	if (!copy || json_object_set_new(out, "image", copy) < 0)
		return -1;
	images[json_integer_value(k)] = copy;
	return 0;
}

/* Each key of in is one of keys (NULL-terminated). */
static int only_keys(const json_t *in, const char *const *keys)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)in, key, v) {
		const char *const *k = keys;

		while (*k && strcmp(*k, key))
			k++;
		if (!*k)
			return -1;
	}
	return 0;
}

/* One result of the batch. */
static json_t *action_result(const json_t *in, int nfds, json_t **images)
{
	static const char *const keys[] = { "ok", "x", "y", "window", "width", "height", "image", NULL };
	json_t *out = json_pack("{s:b}", "ok", 1);

	if (!out || !json_is_object(in) || only_keys(in, keys) < 0 ||
	    !json_is_true(json_object_get(in, "ok")) ||
	    copy_int(in, "x", -(1 << 20), 1 << 20, out) < 0 ||
	    copy_int(in, "y", -(1 << 20), 1 << 20, out) < 0 ||
	    copy_int(in, "window", 0, 0xffffffffLL, out) < 0 ||
	    copy_int(in, "width", 1, 16384, out) < 0 || copy_int(in, "height", 1, 16384, out) < 0 ||
	    copy_image(in, nfds, images, out) < 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* The settled screen of a batch with settle_ms. */
static json_t *action_settled(const json_t *in, int nfds, json_t **images)
{
	static const char *const keys[] = { "settled", "waited_ms", "frame", "width", "height", "image",
					    "error", NULL };
	const json_t *settled = json_object_get(in, "settled"), *err = json_object_get(in, "error");
	json_t *out = json_object();

	if (!out || !json_is_object(in) || only_keys(in, keys) < 0 || !json_is_boolean(settled) ||
	    json_object_set_new(out, "settled", json_boolean(json_is_true(settled))) < 0 ||
	    copy_int(in, "waited_ms", 0, 10 * AGENTPROTO_MAX_WAIT_MS, out) < 0 ||
	    copy_int(in, "frame", 0, LLONG_MAX, out) < 0 ||
	    copy_int(in, "width", 1, 16384, out) < 0 || copy_int(in, "height", 1, 16384, out) < 0 ||
	    copy_image(in, nfds, images, out) < 0 || (err && !json_is_string(err)))
		goto bad;
	if (err) {
		/* Printable text only: the message is the agent's. */
		char text[256];
		size_t n = json_string_length(err) < sizeof(text) - 1 ? json_string_length(err) : sizeof(text) - 1;

		memcpy(text, json_string_value(err), n);
		text[n] = '\0';
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)text[i] < 0x20 || (unsigned char)text[i] >= 0x7f)
				text[i] = '?';
		json_object_set_new(out, "error", json_string(text));
	}
	return out;
bad:
	json_decref(out);
	return NULL;
}

json_t *agentmsg_actions(const json_t *result, int nfds, json_t **images)
{
	static const char *const keys[] = { "results", "settled", NULL };
	const json_t *results = json_object_get(result, "results"), *one;
	const json_t *settled = json_object_get(result, "settled");
	json_t *out = json_pack("{s:[]}", "results"), *copy;
	size_t i;

	if (nfds < 0 || nfds > AGENTPROTO_MAX_IMAGES)
		goto bad;
	for (int k = 0; k < nfds; k++)
		images[k] = NULL;
	if (!out || !json_is_object(result) || only_keys(result, keys) < 0 || !json_is_array(results) ||
	    json_array_size(results) > AGENTPROTO_MAX_ACTIONS)
		goto bad;
	json_array_foreach(results, i, one) {
		copy = action_result(one, nfds, images);
		if (!copy || json_array_append_new(json_object_get(out, "results"), copy) < 0)
			goto bad;
	}
	if (settled) {
		copy = action_settled(settled, nfds, images);
		if (!copy || json_object_set_new(out, "settled", copy) < 0)
			goto bad;
	}
	for (int k = 0; k < nfds; k++)
		if (!images[k])
			goto bad;
	return out;
bad:
	json_decref(out);
	return NULL;
}

int agentmsg_settle(const json_t *result, json_t *out)
{
	const json_t *settled = json_object_get(result, "settled");
	const json_t *waited = json_object_get(result, "waited_ms");

	if (!json_is_boolean(settled) || !json_is_integer(waited) || json_integer_value(waited) < 0 ||
	    json_integer_value(waited) > 10 * AGENTPROTO_MAX_WAIT_MS)
		return -1;
	json_object_set_new(out, "settled", json_boolean(json_is_true(settled)));
	json_object_set_new(out, "waited_ms", json_integer(json_integer_value(waited)));
	return 0;
}
