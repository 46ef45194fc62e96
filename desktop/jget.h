/*
 * jget.h - typed, bounds-checked reads of untrusted JSON fields (pure).
 *
 * Every request field the agent reads goes through one of these, so each
 * has the same checks and the same error wording ("quality must be an
 * integer from 1 to 100"). No I/O, no globals.
 */
#ifndef DESKTOP_JGET_H
#define DESKTOP_JGET_H

#include <jansson.h>
#include <stddef.h>

/*
 * A number as an integer in [lo, hi]: JSON integers, or reals rounded to
 * the nearest integer (models sometimes write 512.0). Returns 0, or -1 with
 * err naming `what`.
 */
int jget_number(const json_t *v, const char *what, long lo, long hi,
		long *out, char *err, size_t errlen);

/* Optional member `key` of obj as above; *out = dflt when absent or null. */
int jget_int(const json_t *obj, const char *key, long lo, long hi, long dflt,
	     long *out, char *err, size_t errlen);

/* Optional real member (seconds, say) in [lo, hi]; dflt when absent. */
int jget_real(const json_t *obj, const char *key, double lo, double hi,
	      double dflt, double *out, char *err, size_t errlen);

/* Optional boolean member; dflt when absent or null. */
int jget_bool(const json_t *obj, const char *key, int dflt, int *out,
	      char *err, size_t errlen);

/* Optional string member; *out = NULL when absent or null (borrowed from
 * obj), *len its byte length. required makes absence an error. */
int jget_string(const json_t *obj, const char *key, int required,
		const char **out, size_t *len, char *err, size_t errlen);

/* A 2-element [x, y] array of numbers in [0, max]. */
int jget_point(const json_t *v, const char *what, long *x, long *y,
	       char *err, size_t errlen);

#endif
