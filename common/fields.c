/*
 * fields.c - unknown-key checks for request objects (see fields.h). Pure: the
 * keys are untrusted and arbitrarily long, so distances are computed over a
 * bounded prefix and nothing here allocates.
 */
#include "fields.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Names we compare are short; a key longer than this is no typo of one. */
#define FIELDS_MAXLEN 64

void fields_path(char *out, size_t cap, const char *path, const char *key)
{
	if (!cap)
		return;
	if (path && path[0])
		snprintf(out, cap, "%s.%s", path, key);
	else
		snprintf(out, cap, "%s", key);
}

/* Optimal-string-alignment distance (Levenshtein plus adjacent swaps, the
 * usual typo), case-insensitive. Both strings are at most FIELDS_MAXLEN. */
static size_t fields_distance(const char *a, size_t la, const char *b, size_t lb)
{
	unsigned char d[FIELDS_MAXLEN + 1][FIELDS_MAXLEN + 1];

	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
			int best = d[i - 1][j - 1] + (ca != cb);

			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = (unsigned char)best;
		}
	}
	return d[la][lb];
}

const char *fields_closest(const char *name, const char *const *known)
{
	size_t ln = strlen(name), best_d = (size_t)-1;
	const char *best = NULL;

	if (ln == 0 || ln > FIELDS_MAXLEN || !known)
		return NULL;
	for (size_t i = 0; known[i]; i++) {
		size_t lk = strlen(known[i]), d;

		if (lk > FIELDS_MAXLEN)
			continue;
		/* "timeout" for "timeout_s", "w" for "width": a client that
		 * abbreviates or truncates means the longer name. A prefix
		 * counts as distance 1 so a real typo of another name of the
		 * same closeness is not preferred over it arbitrarily. */
		if (lk > ln && !strncasecmp(known[i], name, ln))
			d = 1;
		/* "cwdir" for "cwd", "apps_list" for "apps": a known name
		 * with something added. */
		else if (ln > lk && lk >= 3 && !strncasecmp(known[i], name, lk))
			d = 1;
		else if (!strcasecmp(known[i], name))
			d = 1;   /* "WM" for "wm" */
		/* Otherwise one or two letters are too short to tell a typo
		 * from another name ("z" is not "x"). */
		else if (ln < 3)
			continue;
		else
			d = fields_distance(name, ln, known[i], lk);
		/* Up to a third of the longer word may differ (at least one
		 * edit), so "appz" finds "apps" but "foo" finds nothing. */
		size_t longer = ln > lk ? ln : lk, limit = longer / 3 ? longer / 3 : 1;

		if (d <= limit && d < best_d) {
			best_d = d;
			best = known[i];
		}
	}
	return best;
}

int fields_check(json_t *obj, const char *path, const char *const *known,
		 char *err, size_t errlen)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return 0;
	json_object_foreach(obj, key, v) {
		size_t i;
		char at[160], hint[160];
		const char *near;

		for (i = 0; known && known[i]; i++)
			if (!strcmp(key, known[i]))
				break;
		if (known && known[i])
			continue;
		/* Keys may hold anything, NULs and escapes included: show a
		 * bounded, printable form of them. */
		char shown[FIELDS_MAXLEN + 4];
		size_t n = 0;

		for (const char *p = key; *p && n < FIELDS_MAXLEN; p++)
			shown[n++] = (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p;
		if (key[n]) {
			/* Cut at a character boundary: the message goes into
			 * JSON, which must stay valid UTF-8. */
			while (n > 0 && ((unsigned char)key[n] & 0xc0) == 0x80)
				n--;
			memcpy(shown + n, "...", 3);
			n += 3;
		}
		shown[n] = '\0';
		fields_path(at, sizeof(at), path, shown);
		near = fields_closest(key, known);
		if (near) {
			fields_path(hint, sizeof(hint), path, near);
			snprintf(err, errlen, "unknown field %s (did you mean %s?)", at, hint);
		} else {
			snprintf(err, errlen, "unknown field %s", at);
		}
		return -1;
	}
	return 0;
}
