/*
 * agentmsg.c - the rules and checked fields of the agent's replies and
 * non-bus events (pure). See agentmsg.h.
 */
#include "agentmsg.h"

#include <string.h>
#include <fcntl.h>

#include "agentproto.h"

static const struct agentmsg_rule agentmsg_rules[] = {
	/* images go as their own memfd; the JSON stays small */
	{ AGENT_M_SCREENSHOT, 0, 1 },
	{ AGENT_M_WAIT_SETTLED, 0, 1 },
	/* results carry base64 images */
	{ AGENT_M_ACTIONS, AGENTPROTO_MAX_REPLY, 0 },
	/* 16 MiB of text, escaped */
	{ AGENT_M_CLIPBOARD_GET, AGENTPROTO_MAX_REPLY_CLIPBOARD, 0 },
	/* apps choose their windows' number and titles */
	{ AGENT_M_WINDOWS, AGENTPROTO_MAX_REPLY_WINDOWS, 0 },
	{ AGENT_M_WINDOW_OP, 0, 0 },
	{ AGENT_M_DISPLAY_GET, 0, 0 },
	{ AGENT_M_DISPLAY_SET, 0, 0 },
	{ AGENT_M_CLIPBOARD_SET, 0, 0 },
	{ AGENT_M_VNC_ATTACH, 0, 0 },
	{ AGENT_M_VNC_STATS, 0, 0 },
	{ AGENT_M_EVENTS_WATCH, 0, 0 },
	/* an MP4 in the sandbox's disk, streamed with its length checked */
	{ AGENT_M_RECORD_OPEN, 0, AGENTMSG_FD_FILE },
};

const struct agentmsg_rule *agentmsg_rule(const char *method)
{
	static const struct agentmsg_rule inline_only = { "", 0, 0 };

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
