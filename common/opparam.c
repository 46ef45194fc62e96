/*
 * opparam.c - typed members of an operation's params (pure). See
 * opparam.h.
 */
#include "opparam.h"

#include <stdio.h>

int opparam_str(const json_t *params, const char *name, int required, const char **out,
		char *err, size_t cap)
{
	const json_t *v = json_object_get(params, name);

	*out = NULL;
	if (!v || json_is_null(v)) {
		if (!required)
			return 0;
		snprintf(err, cap, "%s is required", name);
		return -1;
	}
	if (!json_is_string(v)) {
		snprintf(err, cap, "%s must be a string", name);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

int opparam_int(const json_t *params, const char *name, long min, long max, long *out,
		char *err, size_t cap)
{
	const json_t *v = json_object_get(params, name);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		snprintf(err, cap, "%s must be a whole number from %ld to %ld", name, min, max);
		return -1;
	}
	*out = (long)json_integer_value(v);
	return 0;
}

int opparam_bool(const json_t *params, const char *name, int *out, char *err, size_t cap)
{
	const json_t *v = json_object_get(params, name);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v)) {
		snprintf(err, cap, "%s must be true or false", name);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}
