/*
 * desktopentry.c - Desktop Entry files (see desktopentry.h). Follows the
 * freedesktop.org Desktop Entry Specification 1.5: a file is lines of
 * "[Group]", "Key=Value", "Key[locale]=Value", '#' comments and blanks;
 * only the first group, [Desktop Entry], is read; string values undo the
 * escapes \s \n \t \r \\ (lists also \;); Exec then has its own quoting
 * (double quotes, inside which \" \` \$ \\ escape) and field codes.
 * Pure: no I/O, no globals.
 */
#include "desktopentry.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* The general escapes of a value (list: also "\;" kept as a marker the
 * splitter sees). Returns a malloc'd string or NULL (out of memory). In a
 * list, an escaped ';' becomes \x01 so the splitter can tell it apart. */
static char *unescape(const char *v, size_t n, int list)
{
	char *out = malloc(n + 1), *p = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (v[i] != '\\' || i + 1 == n) {
			*p++ = v[i];
			continue;
		}
		switch (v[++i]) {
		case 's': *p++ = ' '; break;
		case 'n': *p++ = '\n'; break;
		case 't': *p++ = '\t'; break;
		case 'r': *p++ = '\r'; break;
		case '\\': *p++ = '\\'; break;
		case ';':
			*p++ = list ? '\x01' : ';';
			break;
		default:
			/* Unknown escapes stay as written (Exec's own quoting
			 * reads \" \$ \` later). */
			*p++ = '\\';
			*p++ = v[i];
		}
	}
	*p = 0;
	return out;
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* "a;b;c;" into a NULL-terminated vector (empty items dropped, at most
 * DESKTOPENTRY_MAX_LIST kept). NULL: out of memory. */
static char **split_list(const char *v, size_t n)
{
	char *s = unescape(v, n, 1), **out = calloc(DESKTOPENTRY_MAX_LIST + 1, sizeof(char *));
	size_t k = 0;

	if (!s || !out) {
		free(s);
		free(out);
		return NULL;
	}
	for (char *item = s, *end; *item && k < DESKTOPENTRY_MAX_LIST; item = end) {
		end = item + strcspn(item, ";");
		if (*end)
			*end++ = 0;
		if (!*item)
			continue;
		for (char *c = item; *c; c++)
			if (*c == '\x01')
				*c = ';';
		if (!(out[k++] = strdup(item))) {
			free(s);
			strv_free(out);
			return NULL;
		}
	}
	free(s);
	return out;
}

static int is_true(const char *v, size_t n)
{
	return n == 4 && !memcmp(v, "true", 4);
}

/* One "Key=Value" line of [Desktop Entry]. Returns 0, -1 on out of memory. */
static int take(struct desktopentry *e, const char *key, size_t klen, const char *v, size_t n)
{
	static const struct {
		const char *key;
		size_t off;
	} strs[] = {
		{ "Type", offsetof(struct desktopentry, type) },
		{ "Name", offsetof(struct desktopentry, name) },
		{ "Exec", offsetof(struct desktopentry, exec) },
		{ "TryExec", offsetof(struct desktopentry, try_exec) },
		{ "Icon", offsetof(struct desktopentry, icon) },
		{ "StartupWMClass", offsetof(struct desktopentry, wm_class) },
	};
	char **slot;

	for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) {
		if (strlen(strs[i].key) != klen || memcmp(strs[i].key, key, klen))
			continue;
		slot = (char **)((char *)e + strs[i].off);
		free(*slot);   /* a repeated key: the last one wins */
		*slot = unescape(v, n, 0);
		return *slot ? 0 : -1;
	}
	if (klen == 10 && !memcmp(key, "Categories", 10)) {
		strv_free(e->categories);
		return (e->categories = split_list(v, n)) ? 0 : -1;
	}
	if (klen == 8 && !memcmp(key, "MimeType", 8)) {
		strv_free(e->mime);
		return (e->mime = split_list(v, n)) ? 0 : -1;
	}
	if (klen == 9 && !memcmp(key, "NoDisplay", 9))
		e->no_display = is_true(v, n);
	else if (klen == 6 && !memcmp(key, "Hidden", 6))
		e->hidden = is_true(v, n);
	else if (klen == 8 && !memcmp(key, "Terminal", 8))
		e->terminal = is_true(v, n);
	return 0;
}

static int trim_len(const char *s, size_t n)
{
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	return (int)n;
}

int desktopentry_parse(const char *buf, size_t len, struct desktopentry *out,
		       char *err, size_t errlen)
{
	int in_entry = 0, seen_group = 0, lineno = 0;
	size_t pos = 0;

	memset(out, 0, sizeof *out);
	if (len > DESKTOPENTRY_MAX_FILE)
		return fail(err, errlen, "larger than %d bytes", DESKTOPENTRY_MAX_FILE);
	while (pos < len) {
		const char *line = buf + pos, *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		const char *eq;
		size_t klen, vstart;

		pos += n + (nl ? 1 : 0);
		lineno++;
		if (memchr(line, 0, n)) {
			fail(err, errlen, "line %d has a NUL byte", lineno);
			goto bad;
		}
		n = (size_t)trim_len(line, n);
		while (n && (*line == ' ' || *line == '\t')) {
			line++;
			n--;
		}
		if (n == 0 || line[0] == '#')
			continue;
		if (line[0] == '[') {
			if (line[n - 1] != ']') {
				fail(err, errlen, "line %d: a group header without ']'", lineno);
				goto bad;
			}
			if (in_entry)
				break;   /* [Desktop Action ...] and the like: not ours */
			in_entry = n == 15 && !memcmp(line, "[Desktop Entry]", 15);
			if (!in_entry && !seen_group) {
				fail(err, errlen, "the first group is not [Desktop Entry]");
				goto bad;
			}
			seen_group = 1;
			continue;
		}
		if (!seen_group) {
			fail(err, errlen, "line %d: a key before [Desktop Entry]", lineno);
			goto bad;
		}
		eq = memchr(line, '=', n);
		if (!eq) {
			fail(err, errlen, "line %d is neither a group, a key nor a comment", lineno);
			goto bad;
		}
		klen = (size_t)trim_len(line, (size_t)(eq - line));
		vstart = (size_t)(eq - line) + 1;
		while (vstart < n && (line[vstart] == ' ' || line[vstart] == '\t'))
			vstart++;
		if (klen == 0) {
			fail(err, errlen, "line %d has an empty key", lineno);
			goto bad;
		}
		if (n - vstart > DESKTOPENTRY_MAX_VALUE) {
			fail(err, errlen, "line %d: a value over %d bytes", lineno, DESKTOPENTRY_MAX_VALUE);
			goto bad;
		}
		/* Localized keys (Name[de]) are skipped: the unlocalized one is
		 * what an API caller reads. */
		if (in_entry && !memchr(line, '[', klen) &&
		    take(out, line, klen, line + vstart, n - vstart) < 0) {
			fail(err, errlen, "out of memory");
			goto bad;
		}
	}
	if (!seen_group) {
		fail(err, errlen, "no [Desktop Entry] group");
		goto bad;
	}
	if ((!out->categories && !(out->categories = calloc(1, sizeof(char *)))) ||
	    (!out->mime && !(out->mime = calloc(1, sizeof(char *))))) {
		fail(err, errlen, "out of memory");
		goto bad;
	}
	return 0;
bad:
	desktopentry_free(out);
	return -1;
}

void desktopentry_free(struct desktopentry *e)
{
	free(e->type);
	free(e->name);
	free(e->exec);
	free(e->try_exec);
	free(e->icon);
	free(e->wm_class);
	strv_free(e->categories);
	strv_free(e->mime);
	memset(e, 0, sizeof *e);
}

int desktopentry_listed(const struct desktopentry *e)
{
	return e->type && !strcmp(e->type, "Application") && e->exec && *e->exec &&
	       e->name && !e->hidden;
}

int desktopentry_handles(const struct desktopentry *e, const char *mime)
{
	for (size_t i = 0; e->mime && e->mime[i]; i++)
		if (!strcasecmp(e->mime[i], mime))
			return 1;
	return 0;
}

/* A growing argv. */
struct vec {
	char **v;
	size_t n, cap;
};

static int vec_push(struct vec *v, char *s)
{
	if (!s)
		return -1;
	if (v->n + 2 > v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 8;
		char **nv = realloc(v->v, cap * sizeof(char *));

		if (!nv) {
			free(s);
			return -1;
		}
		v->v = nv;
		v->cap = cap;
	}
	v->v[v->n++] = s;
	v->v[v->n] = NULL;
	return 0;
}

char *desktopentry_file_path(const char *uri)
{
	const char *p;
	char *out, *o;

	if (strncasecmp(uri, "file://", 7))
		return NULL;
	p = uri + 7;
	/* file://localhost/x and file:///x; any other host is not ours. */
	if (!strncasecmp(p, "localhost/", 10))
		p += 9;
	if (*p != '/')
		return NULL;
	out = o = malloc(strlen(p) + 1);
	if (!out)
		return NULL;
	for (; *p; p++) {
		if (*p == '%' && hex_digit(p[1]) >= 0 && hex_digit(p[2]) >= 0) {
			int c = hex_digit(p[1]) * 16 + hex_digit(p[2]);

			if (c == 0) {
				free(out);
				return NULL;
			}
			*o++ = (char)c;
			p += 2;
		} else {
			*o++ = *p;
		}
	}
	*o = 0;
	return out;
}

/* Expand the field codes of one unquoted argument into v. *used is set
 * when the argument took the uri. */
static int expand(struct vec *v, const char *arg, const struct desktopentry *e,
		  const char *uri, const char *location, int *used)
{
	size_t n = strlen(arg), cap = n + 1;
	char *out, *o;

	/* A code that is the whole argument may expand to nothing. */
	if (n == 2 && arg[0] == '%' && strchr("fFuU", arg[1])) {
		char *path;

		if (!uri)
			return 0;
		*used = 1;
		path = (arg[1] == 'f' || arg[1] == 'F') ? desktopentry_file_path(uri) : NULL;
		return vec_push(v, path ? path : strdup(uri));
	}
	if (n == 2 && arg[0] == '%' && arg[1] == 'i') {
		if (!e->icon || !*e->icon)
			return 0;
		return vec_push(v, strdup("--icon")) || vec_push(v, strdup(e->icon)) ? -1 : 0;
	}
	if (uri)
		cap += strlen(uri);
	cap += (e->name ? strlen(e->name) : 0) + (location ? strlen(location) : 0);
	if (e->icon)
		cap += strlen(e->icon);
	out = o = malloc(cap);
	if (!out)
		return -1;
	for (size_t i = 0; i < n; i++) {
		const char *put = NULL;

		if (arg[i] != '%' || i + 1 == n) {
			*o++ = arg[i];
			continue;
		}
		switch (arg[++i]) {
		case '%': put = "%"; break;
		case 'u': case 'U': case 'f': case 'F':
			/* Inside a longer argument (--url=%u): the uri as is. */
			if (uri && !*used) {
				put = uri;
				*used = 1;
			}
			break;
		case 'c': put = e->name; break;
		case 'k': put = location; break;
		default: break;   /* deprecated (%d %n %m ...) and unknown: dropped */
		}
		if (put) {
			size_t k = strlen(put);

			memcpy(o, put, k);
			o += k;
		}
	}
	*o = 0;
	return vec_push(v, out);
}

char **desktopentry_argv(const struct desktopentry *e, const char *uri,
			 const char *const *args, const char *location,
			 char *err, size_t errlen)
{
	struct vec v = {0};
	const char *p = e->exec;
	char *word = NULL;
	int used = 0;

	if (!p || !*p) {
		fail(err, errlen, "the entry has no Exec line");
		return NULL;
	}
	word = malloc(strlen(p) + 1);
	if (!word)
		goto oom;
	while (*p) {
		char *w = word;
		int quoted = 0, any_quote = 0;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		for (; *p && (quoted || (*p != ' ' && *p != '\t')); p++) {
			if (*p == '"') {
				quoted = !quoted;
				any_quote = 1;
			} else if (quoted && *p == '\\' && p[1] && strchr("\"`$\\", p[1])) {
				*w++ = *++p;
			} else {
				*w++ = *p;
			}
		}
		if (quoted) {
			fail(err, errlen, "the Exec line has an unclosed quote");
			goto bad;
		}
		*w = 0;
		/* Field codes are not expanded inside quotes (the spec forbids
		 * them there; a quoted "%" is literal). */
		if (any_quote ? vec_push(&v, strdup(word)) : expand(&v, word, e, uri, location, &used))
			goto oom;
	}
	if (v.n == 0) {
		fail(err, errlen, "the Exec line has no program");
		goto bad;
	}
	if (uri && !used && vec_push(&v, strdup(uri)))
		goto oom;
	for (size_t i = 0; args && args[i]; i++)
		if (vec_push(&v, strdup(args[i])))
			goto oom;
	free(word);
	return v.v;
oom:
	fail(err, errlen, "out of memory");
bad:
	free(word);
	strv_free(v.v);
	return NULL;
}

void desktopentry_argv_free(char **argv)
{
	strv_free(argv);
}

int desktopentry_id_ok(const char *id)
{
	size_t n = strlen(id);

	return n > 0 && n <= DESKTOPENTRY_MAX_ID && id[0] != '.' &&
	       strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

const char *desktopentry_mime_of(const char *target, int is_dir)
{
	static const struct {
		const char *ext, *mime;
	} exts[] = {
		{ "pdf", "application/pdf" },
		{ "html", "text/html" }, { "htm", "text/html" }, { "xhtml", "application/xhtml+xml" },
		{ "txt", "text/plain" }, { "md", "text/markdown" }, { "log", "text/plain" },
		{ "csv", "text/csv" }, { "json", "application/json" }, { "xml", "application/xml" },
		{ "c", "text/x-csrc" }, { "h", "text/x-chdr" }, { "py", "text/x-python" },
		{ "sh", "application/x-shellscript" }, { "conf", "text/plain" }, { "ini", "text/plain" },
		{ "png", "image/png" }, { "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" },
		{ "gif", "image/gif" }, { "svg", "image/svg+xml" }, { "webp", "image/webp" },
		{ "epub", "application/epub+zip" }, { "xps", "application/oxps" },
	};
	const char *slash, *dot;
	char *path = NULL;

	if (!strncasecmp(target, "http://", 7))
		return "x-scheme-handler/http";
	if (!strncasecmp(target, "https://", 8))
		return "x-scheme-handler/https";
	if (is_dir)
		return "inode/directory";
	if (!strncasecmp(target, "file://", 7) && (path = desktopentry_file_path(target)))
		target = path;
	slash = strrchr(target, '/');
	dot = strrchr(slash ? slash : target, '.');
	for (size_t i = 0; dot && dot[1] && i < sizeof exts / sizeof *exts; i++) {
		if (!strcasecmp(dot + 1, exts[i].ext)) {
			free(path);
			return exts[i].mime;
		}
	}
	free(path);
	return "application/octet-stream";
}
