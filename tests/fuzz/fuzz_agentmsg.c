/*
 * fuzz_agentmsg.c - libFuzzer target for what deskboxd parses of a
 * desktop agent's messages (common/agentev.c, common/agentmsg.c, as
 * server/desktop.c and op_desktop.c use them). The agent is hostile: one
 * input is one datagram it sends, loaded as desktop.c loads it.
 *
 * An event goes through the bus-event check and, by name, the apps report
 * and display-size checks; a reply's result through the etag, settle and
 * actions checks (the last with every count of files beside it). Whatever
 * passes is a fresh object of the documented fields, in their ranges,
 * each file named by exactly one image; the reply rules give every method
 * a cap within the protocol's.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agentev.h"
#include "agentmsg.h"
#include "agentproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static void event(const char *name, json_t *msg)
{
	json_t *fields = (json_t *)1, *apps;
	int r = agentev_check(name, msg, &fields), w = -1, h = -1;

	CHECK(r >= -1 && r <= 1 && (r == 1) == (fields != NULL));
	if (r == 1) {
		CHECK(json_is_object(fields) && fields != msg && json_object_size(fields) <= 4);
		json_decref(fields);
	}
	apps = agentmsg_apps(json_object_get(msg, "apps"));
	if (apps) {
		size_t i;
		json_t *a;

		CHECK(json_is_array(apps) && json_array_size(apps) <= 64);
		json_array_foreach(apps, i, a)
			CHECK(json_object_size(a) == 6 && json_string_length(json_object_get(a, "stderr_tail")) <= 4096);
		json_decref(apps);
	}
	if (agentmsg_display(!strcmp(name, "ready") ? json_object_get(msg, "display") : msg, &w, &h) == 0)
		CHECK(w >= 1 && w <= 16384 && h >= 1 && h <= 16384);
}

static void reply(json_t *msg)
{
	json_t *result = json_object_get(msg, "result"), *out = json_object();
	const char *etag = json_string_value(json_object_get(result, "etag"));
	const struct agentmsg_rule *rule;
	static const char *const methods[] = {
		AGENT_M_SCREENSHOT, AGENT_M_ACTIONS, AGENT_M_DISPLAY_GET, AGENT_M_DISPLAY_SET,
		AGENT_M_CLIPBOARD_GET, AGENT_M_CLIPBOARD_SET, AGENT_M_WINDOWS, AGENT_M_VNC_ATTACH,
		AGENT_M_VNC_STATS, AGENT_M_EVENTS_WATCH, AGENT_M_WAIT_SETTLED,
	};

	CHECK(out);
	if (agentmsg_etag_ok(etag))
		CHECK(strlen(etag) < 100 && !strpbrk(etag, "\r\n\" ,"));
	if (agentmsg_settle(result, out) == 0) {
		json_int_t ms = json_integer_value(json_object_get(out, "waited_ms"));

		CHECK(json_object_size(out) == 2 && ms >= 0 && ms <= 10 * AGENTPROTO_MAX_WAIT_MS);
	}
	json_decref(out);
	for (int n = 0; n <= AGENTPROTO_MAX_IMAGES + 1; n++) {
		json_t *images[AGENTPROTO_MAX_IMAGES + 1];

		out = agentmsg_actions(result, n, images);
		if (!out)
			continue;
		CHECK(n <= AGENTPROTO_MAX_IMAGES && out != result && json_is_object(out) &&
		      json_array_size(json_object_get(out, "results")) <= AGENTPROTO_MAX_ACTIONS);
		for (int k = 0; k < n; k++) {
			const char *mt = json_string_value(json_object_get(images[k], "media_type"));

			CHECK(mt && (!strcmp(mt, "image/png") || !strcmp(mt, "image/jpeg")) &&
			      json_object_size(images[k]) == 1);
			for (int j = 0; j < k; j++)
				CHECK(images[j] != images[k]);
		}
		json_decref(out);
	}
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		rule = agentmsg_rule(methods[i]);
		CHECK(rule && rule->max_body <= AGENTPROTO_MAX_REPLY && !strcmp(rule->method, methods[i]));
		CHECK(rule->max_fds >= 0 && rule->max_fds <= AGENTPROTO_MAX_IMAGES && (rule->fd || !rule->max_fds));
	}
	rule = agentmsg_rule(json_string_value(json_object_get(msg, "method")));
	CHECK(rule && rule->max_body <= AGENTPROTO_MAX_REPLY);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *msg;
	const char *name;

	if (size > AGENTPROTO_MAX_MSG)
		return 0;
	msg = json_loadb((const char *)data, size, 0, NULL);
	if (!json_is_object(msg)) {
		json_decref(msg);
		return 0;
	}
	name = json_string_value(json_object_get(msg, "event"));
	if (name)
		event(name, msg);
	else
		reply(msg);
	json_decref(msg);
	return 0;
}
