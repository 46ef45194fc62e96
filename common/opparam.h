/*
 * opparam.h - typed members of an operation's params, checked: the pure
 * core of op_param_* (server/op.c), shared with the pure parsers of
 * operation params (shotparams.c) so they refuse with the same words.
 * No I/O, no globals.
 */
#ifndef DESKBOX_OPPARAM_H
#define DESKBOX_OPPARAM_H

#include <stddef.h>

#include <jansson.h>

/* params[name] as a string (borrowed): 0 with *out (NULL when absent or
 * null and not required), or -1 with err. */
int opparam_str(const json_t *params, const char *name, int required, const char **out,
		char *err, size_t cap);

/* params[name] as a whole number in [min, max]: 0 with *out set (left
 * alone when absent or null), or -1 with err. */
int opparam_int(const json_t *params, const char *name, long min, long max, long *out,
		char *err, size_t cap);

/* params[name] as a boolean: 0 with *out set (left alone when absent or
 * null), or -1 with err. */
int opparam_bool(const json_t *params, const char *name, int *out, char *err, size_t cap);

#endif
