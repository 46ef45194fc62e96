/*
 * fuzz_fields.c - libFuzzer target for the unknown-field check every
 * operation's params and every body parser go through (common/fields.c).
 *
 * One input is a JSON object checked against a few real key lists (an
 * operation's schema names, exec's body, the action wrapper) at the top
 * level and at a nested path. Accepted means every key is known; a refusal
 * names an unknown key of the object, a suggestion is a known name, and
 * the message is valid UTF-8 (it goes into a JSON error body).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"
#include "../unit/utf8_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static const char *const exec_keys[] = { "cmd", "argv", "env", "cwd", "stdin", "timeout_ms", NULL };
static const char *const shot_keys[] = {
	"sandbox", "format", "quality", "width", "height", "region", "x", "y", "w", "h",
	"cursor", "if_none_match", "settle_ms", "timeout_ms", NULL,
};
static const char *const wrap_keys[] = { "actions", "scale_to", "format", "quality", "settle_ms",
					 "settle_timeout_ms", NULL };
static const char *const none[] = { NULL };

static int known_has(const char *const *known, const char *name)
{
	for (size_t i = 0; known[i]; i++)
		if (!strcmp(known[i], name))
			return 1;
	return 0;
}

static void check(json_t *obj, const char *path, const char *const *known)
{
	char err[256] = "";
	const char *key;
	json_t *v;
	int all_known = 1;

	json_object_foreach(obj, key, v) {
		const char *near = fields_closest(key, known);

		CHECK(!near || known_has(known, near));
		all_known &= known_has(known, key);
	}
	if (fields_check(obj, path, known, err, sizeof(err)) == 0) {
		CHECK(all_known || !json_is_object(obj));
		return;
	}
	CHECK(!all_known && !strncmp(err, "unknown field ", 14));
	CHECK(valid_utf8((const unsigned char *)err, strlen(err)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
	const char *const *lists[] = { exec_keys, shot_keys, wrap_keys, none };

	if (!j)
		return 0;
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		check(j, "", lists[i]);
		check(j, "actions[999].scale_to", lists[i]);
	}
	json_decref(j);
	return 0;
}
