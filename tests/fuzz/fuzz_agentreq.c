/*
 * fuzz_agentreq.c - libFuzzer target for what the desktop agent parses of
 * deskboxd's requests: one input is one channel message (a datagram, or a
 * body_fd memfd's bytes), loaded as desktop/chan.c loads it and handed to
 * the pure parsers each method of desktop/methods.c uses (actparse,
 * shot_parse, jget), with the same bounds. deskboxd is trusted more than
 * the agent, but a request carries a client's fields, so nothing here may
 * crash, and the whole of loading and parsing may hold at most
 * MEM_PER_BYTE bytes of heap per input byte (plus MEM_BASE).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actparse.h"
#include "agentproto.h"
#include "jget.h"
#include "memcount.h"
#include "shot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)
#define MEM_PER_BYTE 128
#define MEM_BASE (64 * 1024)

/* Returns the parser's verdict; err is set when it is -1. */
static int agentreq_params(const char *method, const json_t *params, char *err, size_t cap)
{
	struct shot_req shot;
	long v;
	int b;

	if (!strcmp(method, AGENT_M_ACTIONS)) {
		struct act_list l;
		struct act_error e;

		if (jget_int(params, "settle_ms", 1, AGENTPROTO_MAX_QUIET_MS, 0, &v, err, cap) < 0 ||
		    jget_int(params, "settle_timeout_ms", 0, AGENTPROTO_MAX_WAIT_MS, 0, &v, err, cap) < 0)
			return -1;
		if (actparse(params, &l, &e) < 0) {
			snprintf(err, cap, "%s", e.msg);
			return -1;
		}
		actparse_free(&l);
		return 0;
	}
	if (!strcmp(method, AGENT_M_SCREENSHOT))
		return shot_parse(params, 1920, 1080, &shot, err, cap);
	if (!strcmp(method, AGENT_M_WAIT_SETTLED)) {
		const json_t *s = json_object_get(params, "screenshot");

		if (jget_int(params, "quiet_ms", 1, AGENTPROTO_MAX_QUIET_MS, 150, &v, err, cap) < 0 ||
		    jget_int(params, "timeout_ms", 0, AGENTPROTO_MAX_WAIT_MS, 3000, &v, err, cap) < 0)
			return -1;
		return json_is_object(s) ? shot_parse(s, 1920, 1080, &shot, err, cap) : 0;
	}
	if (!strcmp(method, AGENT_M_EVENTS_WATCH))
		return jget_bool(params, "screen", 0, &b, err, cap) < 0 ||
		       jget_bool(params, "windows", 0, &b, err, cap) < 0 ||
		       jget_bool(params, "clipboard", 0, &b, err, cap) < 0 ||
		       jget_int(params, "min_interval_ms", 0, AGENTPROTO_MAX_INTERVAL_MS, 50, &v, err, cap) < 0 ||
		       jget_int(params, "quiet_ms", 1, AGENTPROTO_MAX_QUIET_MS, 150, &v, err, cap) < 0 ? -1 : 0;
	if (!strcmp(method, AGENT_M_DISPLAY_SET))
		return jget_int(params, "width", 1, 16384, 0, &v, err, cap) < 0 ||
		       jget_int(params, "height", 1, 16384, 0, &v, err, cap) < 0 ? -1 : 0;
	if (!strcmp(method, AGENT_M_CLIPBOARD_SET)) {
		const char *t;
		size_t len;

		if (jget_string(params, "text", 1, &t, &len, err, cap) < 0)
			return -1;
		CHECK(t && strlen(t) <= len);
		return 0;
	}
	if (!strcmp(method, AGENT_M_VNC_ATTACH))
		return jget_bool(params, "view_only", 0, &b, err, cap);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *msg;
	const char *method;
	char err[320];
	long long peak;

	if (size > AGENTPROTO_MAX_REQUEST)
		return 0;
	memcount_start();
	msg = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	method = json_string_value(json_object_get(msg, "method"));
	if (json_is_object(msg) && method) {
		const json_t *params = json_object_get(msg, "params");

		err[0] = '\0';
		if (json_is_object(params) || !params)
			CHECK(agentreq_params(method, params, err, sizeof(err)) == 0 || err[0]);
	}
	peak = memcount_stop();
	CHECK(peak <= (long long)(MEM_PER_BYTE * size + MEM_BASE));
	json_decref(msg);
	return 0;
}
