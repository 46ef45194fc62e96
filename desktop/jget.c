/*
 * jget.c - bounds-checked JSON field reads (pure). See jget.h.
 */
#include "jget.h"

#include <math.h>
#include <stdio.h>

int jget_number(const json_t *v, const char *what, long lo, long hi,
		long *out, char *err, size_t errlen)
{
	double d;

	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);

		if (i < lo || i > hi)
			goto range;
		*out = (long)i;
		return 0;
	}
	if (!json_is_real(v)) {
		snprintf(err, errlen, "%s must be a number", what);
		return -1;
	}
	d = round(json_real_value(v));
	if (!(d >= (double)lo && d <= (double)hi))
		goto range;
	*out = (long)d;
	return 0;
range:
	snprintf(err, errlen, "%s must be from %ld to %ld", what, lo, hi);
	return -1;
}

int jget_int(const json_t *obj, const char *key, long lo, long hi, long dflt,
	     long *out, char *err, size_t errlen)
{
	const json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v)) {
		*out = dflt;
		return 0;
	}
	return jget_number(v, key, lo, hi, out, err, errlen);
}

int jget_real(const json_t *obj, const char *key, double lo, double hi,
	      double dflt, double *out, char *err, size_t errlen)
{
	const json_t *v = json_object_get(obj, key);
	double d;

	if (!v || json_is_null(v)) {
		*out = dflt;
		return 0;
	}
	if (!json_is_number(v)) {
		snprintf(err, errlen, "%s must be a number", key);
		return -1;
	}
	d = json_number_value(v);
	if (!(d >= lo && d <= hi)) {
		snprintf(err, errlen, "%s must be from %g to %g", key, lo, hi);
		return -1;
	}
	*out = d;
	return 0;
}

int jget_bool(const json_t *obj, const char *key, int dflt, int *out,
	      char *err, size_t errlen)
{
	const json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v)) {
		*out = dflt;
		return 0;
	}
	if (!json_is_boolean(v)) {
		snprintf(err, errlen, "%s must be true or false", key);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

int jget_string(const json_t *obj, const char *key, int required,
		const char **out, size_t *len, char *err, size_t errlen)
{
	const json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (len)
		*len = 0;
	if (!v || json_is_null(v)) {
		if (!required)
			return 0;
		snprintf(err, errlen, "%s is required", key);
		return -1;
	}
	if (!json_is_string(v)) {
		snprintf(err, errlen, "%s must be a string", key);
		return -1;
	}
	*out = json_string_value(v);
	if (len)
		*len = json_string_length(v);
	return 0;
}

int jget_point(const json_t *v, const char *what, long *x, long *y,
	       char *err, size_t errlen)
{
	if (!json_is_array(v) || json_array_size(v) != 2) {
		snprintf(err, errlen, "%s must be [x, y]", what);
		return -1;
	}
	if (jget_number(json_array_get(v, 0), what, 0, 1L << 20, x, err, errlen) < 0 ||
	    jget_number(json_array_get(v, 1), what, 0, 1L << 20, y, err, errlen) < 0)
		return -1;
	return 0;
}
