/*
 * fields.h - strict request objects: every key of a JSON object must be one
 * the parser knows. Pure (no I/O, no globals): deskboxd's body parsers, the
 * desktop agent's action parser and the unit tests share it.
 *
 * Use: after loading an object and before reading its fields,
 *
 *	static const char *const known[] = { "width", "height", NULL };
 *	if (fields_check(obj, "desktop", known, err, errlen))
 *		return -1;   // err: "unknown field desktop.w (did you mean desktop.width?)"
 *
 * The path names where the object sits in the body ("" for the body itself,
 * "desktop", "actions[2]") so a client sees exactly which key was refused.
 */
#ifndef DESKBOX_FIELDS_H
#define DESKBOX_FIELDS_H

#include <stddef.h>

#include <jansson.h>

/*
 * 0 if obj is not an object or every key of it is in known (a NULL-terminated
 * list). Otherwise -1 and err gets "unknown field PATH.KEY" plus, when a known
 * name is close (a typo, a case slip, a prefix such as "timeout" for
 * "timeout_s"), " (did you mean PATH.NAME?)". Keys are reported in the
 * object's order, the first unknown one only.
 */
int fields_check(json_t *obj, const char *path, const char *const *known,
		 char *err, size_t errlen);

/* The name in known (NULL-terminated) closest to name, or NULL when none is
 * close enough to be a likely typo of it. */
const char *fields_closest(const char *name, const char *const *known);

/* Write "PATH.KEY" (or "KEY" when path is empty) into out; for building
 * nested paths and messages the same way fields_check does. */
void fields_path(char *out, size_t cap, const char *path, const char *key);

#endif
