/*
 * req.c - REST request bodies to structs (see req.h). jansson parses; every
 * field is type- and range-checked here so the server never sees a bad value.
 */
#include "req.h"
#include "fields.h"

#include "netpolicy.h"
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum req_result fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return REQ_BAD_FIELD;
}

/* Load a JSON object; anything else is bad_json. */
static json_t *load_object(const char *body, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root;

	if (len == 0) {
		/* An empty body means "all defaults". */
		return json_object();
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		snprintf(err, errlen, "invalid JSON at line %d column %d: %s",
			 je.line, je.column, je.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		snprintf(err, errlen, "the body must be a JSON object");
		json_decref(root);
		return NULL;
	}
	return root;
}

/* An integer field in [min, max]; absent leaves *out. */
static int get_long(json_t *obj, const char *key, long min, long max, long *out,
		    const char *ctx, char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, key);
	json_int_t n = 0;
	int whole = 0;

	if (!v || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		n = json_integer_value(v);
		whole = 1;
	} else if (json_is_real(v)) {
		/* Clamp to just outside [min, max] before converting: converting
		 * a double beyond json_int_t's range (1e300) is undefined. */
		double d = json_real_value(v);

		if (d < (double)min - 1)
			d = (double)min - 1;
		else if (d > (double)max + 1)
			d = (double)max + 1;
		n = (json_int_t)d;
		whole = (double)n == d;
	}
	if (!whole) {
		fail(err, errlen, "%s%s must be a whole number", ctx, key);
		return -1;
	}
	if (n < min || n > max) {
		fail(err, errlen, "%s%s must be from %ld to %ld", ctx, key, min, max);
		return -1;
	}
	*out = (long)n;
	return 0;
}

static int parse_limits(json_t *obj, struct limits *l, char *err, size_t errlen)
{
	json_t *cpu;

	if (!obj || json_is_null(obj))
		return 0;
	if (!json_is_object(obj)) {
		fail(err, errlen, "limits must be an object");
		return -1;
	}
	static const char *const known[] = { "memory_mb", "pids", "cpu", "disk_mb", "nofile", NULL };

	if (fields_check(obj, "limits", known, err, errlen) < 0)
		return -1;
	if (get_long(obj, "memory_mb", 16, 1L << 22, &l->memory_mb, "limits.", err, errlen) ||
	    get_long(obj, "pids", 8, 1L << 22, &l->pids, "limits.", err, errlen) ||
	    get_long(obj, "disk_mb", 1, 1L << 24, &l->disk_mb, "limits.", err, errlen) ||
	    get_long(obj, "nofile", 16, 1L << 20, &l->nofile, "limits.", err, errlen))
		return -1;
	cpu = json_object_get(obj, "cpu");
	if (cpu && !json_is_null(cpu)) {
		double c = json_number_value(cpu);

		if (!json_is_number(cpu) || !(c >= 0.01 && c <= 4096)) {
			fail(err, errlen, "limits.cpu must be a number of cores from 0.01 to 4096");
			return -1;
		}
		l->cpu = c;
	}
	return 0;
}

int req_env_name_ok(const char *name)
{
	return name[0] != '\0' && !strchr(name, '=') && strlen(name) < 1024;
}

static int parse_env(json_t *obj, struct req_env *env, char *err, size_t errlen)
{
	const char *key;
	json_t *v;
	size_t n = 0;

	env->v = NULL;
	env->n = 0;
	if (!obj || json_is_null(obj))
		return 0;
	if (!json_is_object(obj)) {
		fail(err, errlen, "env must be an object of strings");
		return -1;
	}
	if (json_object_size(obj) > REQ_MAX_ENV) {
		fail(err, errlen, "env has more than %d variables", REQ_MAX_ENV);
		return -1;
	}
	env->v = calloc(json_object_size(obj) + 1, sizeof(char *));
	if (!env->v) {
		fail(err, errlen, "out of memory");
		return -1;
	}
	json_object_foreach(obj, key, v) {
		if (!json_is_string(v)) {
			fail(err, errlen, "env.%s must be a string", key);
			return -1;
		}
		if (!req_env_name_ok(key)) {
			fail(err, errlen, "env has an invalid name '%s'", key);
			return -1;
		}
		if (asprintf(&env->v[n], "%s=%s", key, json_string_value(v)) < 0) {
			env->v[n] = NULL;
			fail(err, errlen, "out of memory");
			return -1;
		}
		env->n = ++n;
	}
	return 0;
}

static void env_free(struct req_env *env)
{
	for (size_t i = 0; env->v && i < env->n; i++)
		free(env->v[i]);
	free(env->v);
	env->v = NULL;
	env->n = 0;
}

/* A JSON array of non-empty strings into a NULL-terminated vector. */
static char **strings(json_t *arr, size_t max, int allow_empty, const char *what,
		      char *err, size_t errlen)
{
	size_t n = json_array_size(arr);
	char **v;

	if (!json_is_array(arr) || n == 0 || n > max) {
		fail(err, errlen, "%s must be an array of 1 to %zu strings", what, max);
		return NULL;
	}
	v = calloc(n + 1, sizeof(char *));
	if (!v) {
		fail(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *s = json_array_get(arr, i);

		const char *why = !json_is_string(s) ? "must be a string" :
				  !allow_empty && json_string_length(s) == 0 ? "must not be empty" : NULL;

		if (why || !(v[i] = strdup(json_string_value(s)))) {
			fail(err, errlen, "%s[%zu] %s", what, i, why ? why : "cannot be copied: out of memory");
			for (size_t j = 0; j < i; j++)
				free(v[j]);
			free(v);
			return NULL;
		}
	}
	return v;
}

static void strings_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static int parse_desktop(json_t *root, struct req_create *out, char *err, size_t errlen)
{
	json_t *d = json_object_get(root, "desktop"), *apps = json_object_get(root, "apps");
	long w = out->width, h = out->height;

	if (d && json_is_false(d)) {
		out->desktop = 0;
	} else if (d && json_is_true(d)) {
		out->desktop = 1;
	} else if (d && json_is_object(d)) {
		static const char *const known[] = { "width", "height", "gl", "session", "dpi", NULL };
		json_t *session = json_object_get(d, "session");
		const char *ss = json_string_value(session);
		long dpi = out->dpi;

		if (fields_check(d, "desktop", known, err, errlen) < 0)
			return -1;
		out->desktop = 1;
		if (get_long(d, "width", 64, 16384, &w, "desktop.", err, errlen) ||
		    get_long(d, "height", 64, 16384, &h, "desktop.", err, errlen) ||
		    get_long(d, "dpi", 24, 960, &dpi, "desktop.", err, errlen))
			return -1;
		out->dpi = (int)dpi;
		if (session && !json_is_null(session)) {
			if (!ss || (strcmp(ss, "full") && strcmp(ss, "bare"))) {
				fail(err, errlen, "desktop.session must be \"full\" or \"bare\"");
				return -1;
			}
			out->session = strcmp(ss, "full") ? SESSION_BARE : SESSION_FULL;
		}
		out->width = (int)w;
		out->height = (int)h;
	} else if (d && !json_is_true(d) && !json_is_null(d)) {
		fail(err, errlen, "desktop must be false, true or {\"width\":W,\"height\":H}");
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		json_t *gl = json_object_get(i ? (json_is_object(d) ? d : NULL) : root, "gl");

		if (gl && !json_is_boolean(gl) && !json_is_null(gl)) {
			fail(err, errlen, "%sgl must be true or false", i ? "desktop." : "");
			return -1;
		}
		if (json_is_true(gl))
			out->gl = 1;
	}
	json_t *vnc = json_object_get(root, "vnc");

	if (vnc && !json_is_null(vnc) && !json_is_false(vnc)) {
		json_t *port = json_object_get(vnc, "port");
		const char *ps = json_string_value(port);

		static const char *const known[] = { "port", NULL };

		if (json_is_object(vnc) && fields_check(vnc, "vnc", known, err, errlen) < 0)
			return -1;
		if (!json_is_object(vnc) ||
		    !((ps && !strcmp(ps, "auto")) ||
		      (json_is_integer(port) && json_integer_value(port) >= 1024 &&
		       json_integer_value(port) <= 65535))) {
			fail(err, errlen, "vnc must be {\"port\": \"auto\"} or {\"port\": 1024..65535}");
			return -1;
		}
		out->vnc_port = ps ? 0 : (int)json_integer_value(port);
	}
	if (apps && !json_is_null(apps)) {
		out->apps = strings(apps, 64, 0, "apps", err, errlen);
		if (!out->apps)
			return -1;
	}
	json_t *wm = json_object_get(root, "wm");

	if (wm && !json_is_boolean(wm) && !json_is_null(wm)) {
		fail(err, errlen, "wm must be true or false");
		return -1;
	}
	if (json_is_false(wm))
		out->wm = 0;
	/* "wm": false asks for nothing on the screen: a bare session, unless
	 * a full one is asked for, which cannot be without its window manager. */
	if (!out->wm && out->session == SESSION_FULL) {
		fail(err, errlen, "a full desktop session needs its window manager: "
		     "give \"desktop\": {\"session\": \"bare\"} with \"wm\": false");
		return -1;
	}
	if (!out->wm)
		out->session = SESSION_BARE;
	return 0;
}

/* "model_display": {"width", "height"}, what the agent adapters tell the
 * model the screen is (coordinates and screenshots are scaled to it). */
static int parse_model_display(json_t *m, struct req_create *out, char *err, size_t errlen)
{
	static const char *const known[] = { "width", "height", NULL };
	long w = 0, h = 0;

	if (!m || json_is_null(m))
		return 0;
	if (!json_is_object(m) || !json_object_get(m, "width") || !json_object_get(m, "height")) {
		fail(err, errlen, "model_display must be {\"width\": W, \"height\": H}");
		return -1;
	}
	if (fields_check(m, "model_display", known, err, errlen) < 0 ||
	    get_long(m, "width", 64, 16384, &w, "model_display.", err, errlen) ||
	    get_long(m, "height", 64, 16384, &h, "model_display.", err, errlen))
		return -1;
	out->model_w = (int)w;
	out->model_h = (int)h;
	return 0;
}

/* "network": validated here, kept as normalized JSON for egress.c. */
static int parse_network(json_t *net, struct req_create *out, char *err, size_t errlen)
{
	struct netpolicy p;
	json_t *j;

	if (!net || json_is_null(net))
		return 0;
	if (netpolicy_parse(net, &p, err, errlen))
		return -1;
	j = netpolicy_json(&p);
	netpolicy_free(&p);
	out->network = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!out->network) {
		fail(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

enum req_result req_parse_create(const char *body, size_t len,
				 const struct limits *defaults, long default_timeout_s,
				 struct req_create *out, char *err, size_t errlen)
{
	json_t *root, *rootfs;
	enum req_result r = REQ_BAD_FIELD;

	memset(out, 0, sizeof(*out));
	out->timeout_s = default_timeout_s;
	out->limits = *defaults;
	out->desktop = -1;
	out->vnc_port = -1;
	out->width = 1280;
	out->height = 800;
	out->wm = 1;
	out->dpi = 96;
	snprintf(out->rootfs, sizeof(out->rootfs), "host");
	root = load_object(body, len, err, errlen);
	if (!root)
		return REQ_BAD_JSON;
	static const char *const known[] = {
		"timeout_s", "limits", "env", "rootfs", "desktop", "apps", "gl", "vnc", "wm",
		"network", "model_display", NULL,
	};

	if (fields_check(root, "", known, err, errlen) < 0)
		goto done;
	if (get_long(root, "timeout_s", 0, 365L * 86400, &out->timeout_s, "", err, errlen) ||
	    parse_limits(json_object_get(root, "limits"), &out->limits, err, errlen) ||
	    parse_env(json_object_get(root, "env"), &out->env, err, errlen) ||
	    parse_desktop(root, out, err, errlen))
		goto done;
	if (parse_network(json_object_get(root, "network"), out, err, errlen) ||
	    parse_model_display(json_object_get(root, "model_display"), out, err, errlen))
		goto done;
	rootfs = json_object_get(root, "rootfs");
	if (rootfs && !json_is_null(rootfs)) {
		const char *s = json_string_value(rootfs);
		size_t n = s ? strlen(s) : 0;

		if (!s || n == 0 || n >= sizeof(out->rootfs) ||
		    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n ||
		    s[0] == '.') {
			fail(err, errlen, "rootfs must be \"host\" or an image name ([A-Za-z0-9._-], not starting with '.')");
			goto done;
		}
		memcpy(out->rootfs, s, n + 1);
	}
	r = REQ_OK;
done:
	json_decref(root);
	if (r != REQ_OK)
		req_create_free(out);
	return r;
}

void req_create_free(struct req_create *r)
{
	env_free(&r->env);
	strings_free(r->apps);
	r->apps = NULL;
	free(r->network);
	r->network = NULL;
}

enum req_result req_parse_exec(const char *body, size_t len, long default_timeout_ms,
			       struct req_exec *out, char *err, size_t errlen)
{
	json_t *root, *cmd, *argv, *cwd, *in;
	enum req_result r = REQ_BAD_FIELD;

	memset(out, 0, sizeof(*out));
	out->timeout_ms = default_timeout_ms;
	if (len == 0) {
		snprintf(err, errlen, "the body must be a JSON object with cmd or argv");
		return REQ_BAD_JSON;
	}
	root = load_object(body, len, err, errlen);
	if (!root)
		return REQ_BAD_JSON;
	static const char *const known[] = { "cmd", "argv", "env", "cwd", "stdin", "timeout_ms", NULL };

	if (fields_check(root, "", known, err, errlen) < 0)
		goto done;
	cmd = json_object_get(root, "cmd");
	argv = json_object_get(root, "argv");
	if ((cmd && !json_is_null(cmd)) == (argv && !json_is_null(argv))) {
		fail(err, errlen, "give exactly one of cmd (a shell string) or argv (an array of strings)");
		goto done;
	}
	if (cmd && !json_is_null(cmd)) {
		if (!json_is_string(cmd)) {
			fail(err, errlen, "cmd must be a string");
			goto done;
		}
		out->argv = calloc(4, sizeof(char *));
		if (!out->argv || !(out->argv[0] = strdup("/bin/sh")) ||
		    !(out->argv[1] = strdup("-c")) ||
		    !(out->argv[2] = strdup(json_string_value(cmd)))) {
			fail(err, errlen, "out of memory");
			goto done;
		}
	} else {
		out->argv = strings(argv, REQ_MAX_ARGV, 1, "argv", err, errlen);
		if (!out->argv)
			goto done;
		if (out->argv[0][0] == '\0') {
			fail(err, errlen, "argv[0] must not be empty");
			goto done;
		}
	}
	if (parse_env(json_object_get(root, "env"), &out->env, err, errlen) ||
	    get_long(root, "timeout_ms", 1, 86400000L, &out->timeout_ms, "", err, errlen))
		goto done;
	cwd = json_object_get(root, "cwd");
	if (cwd && !json_is_null(cwd)) {
		if (!json_is_string(cwd) || json_string_length(cwd) == 0 ||
		    json_string_length(cwd) >= 4096) {
			fail(err, errlen, "cwd must be a non-empty path");
			goto done;
		}
		out->cwd = strdup(json_string_value(cwd));
		if (!out->cwd) {
			fail(err, errlen, "out of memory");
			goto done;
		}
	}
	in = json_object_get(root, "stdin");
	if (in && !json_is_null(in)) {
		if (!json_is_string(in)) {
			fail(err, errlen, "stdin must be a string");
			goto done;
		}
		out->stdin_len = json_string_length(in);
		out->stdin_data = malloc(out->stdin_len + 1);
		if (!out->stdin_data) {
			fail(err, errlen, "out of memory");
			goto done;
		}
		memcpy(out->stdin_data, json_string_value(in), out->stdin_len + 1);
	}
	r = REQ_OK;
done:
	json_decref(root);
	if (r != REQ_OK)
		req_exec_free(out);
	return r;
}

void req_exec_free(struct req_exec *r)
{
	strings_free(r->argv);
	r->argv = NULL;
	env_free(&r->env);
	free(r->cwd);
	free(r->stdin_data);
	r->cwd = r->stdin_data = NULL;
}

enum req_result req_parse_timeout(const char *body, size_t len, long *timeout_s,
				  char *err, size_t errlen)
{
	json_t *root = load_object(body, len, err, errlen), *v;
	long t = -1;
	enum req_result r = REQ_BAD_FIELD;

	if (!root)
		return REQ_BAD_JSON;
	static const char *const known[] = { "timeout_s", NULL };

	if (fields_check(root, "", known, err, errlen) < 0)
		goto done;
	v = json_object_get(root, "timeout_s");
	if (!v || json_is_null(v)) {
		fail(err, errlen, "timeout_s is required");
		goto done;
	}
	if (get_long(root, "timeout_s", 0, 365L * 86400, &t, "", err, errlen))
		goto done;
	*timeout_s = t;
	r = REQ_OK;
done:
	json_decref(root);
	return r;
}
