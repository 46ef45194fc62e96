/*
 * config.c - deskboxd settings (see config.h). Every key is a row of one
 * table; flags and the config file both go through config_set.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char config_usage[] =
	"usage: deskboxd [options]\n"
	"  --listen ADDR:PORT     where to serve HTTP (default 127.0.0.1:8080)\n"
	"  --state-dir DIR        state (default /var/lib/deskbox; rootless:\n"
	"                         $XDG_STATE_HOME/deskbox or ~/.local/state/deskbox)\n"
	"  --token TOKEN          API token (else $DESKBOX_TOKEN, else generated\n"
	"                         once and kept in STATE_DIR/token)\n"
	"  --config FILE          read 'key = value' lines with these option names\n"
	"  --max-sandboxes N      most sandboxes at once (default 64)\n"
	"  --timeout S            default sandbox lifetime in s, 0 = none (3600)\n"
	"  --memory-mb N          default memory limit (1024)\n"
	"  --pids N               default task limit (512)\n"
	"  --cpu CORES            default CPU limit (1.0)\n"
	"  --disk-mb N            default /tmp + /home size (1024)\n"
	"  --nofile N             default open-file limit (1024)\n"
	"  --exec-timeout-ms N    default exec timeout (60000)\n"
	"  --max-output BYTES     exec output kept per stream (1048576)\n"
	"  --max-body BYTES       largest JSON request body (8388608)\n"
	"  --max-file BYTES       largest file upload or download (268435456)\n"
	"  --max-rpc-message BYTES  largest control-channel message (16777216)\n"
	"  --uid-base N           as root, first host uid of the sandboxes' id\n"
	"                         ranges, a multiple of 65536 (1879048192)\n"
	"  --max-width N, --max-height N  largest desktop (1920x1080)\n"
	"  --desktop-session full|bare  a desktop's session when a create names\n"
	"                         none (full: panel, wallpaper, default apps)\n"
	"  --images DIR           root filesystem images (STATE_DIR/images)\n"
	"  --web DIR              the browser UI to serve at /\n"
	"  --list-ops             print the operation table (JSON) and exit\n"
	"  --egress-hosts FILE    for tests and private deployments: names (in the\n"
	"                         /etc/hosts format) the egress proxy maps to these\n"
	"                         addresses, reachable even if private (not\n"
	"                         link-local); off by default\n"
	"  --drain-grace S        SIGTERM: refuse creates, wait up to S s for the\n"
	"                         sandboxes, then destroy them (30)\n"
	"  --advertise-url URL    this server in a sandbox's endpoint (http://LISTEN)\n"
	"  --pool N               keep N desktops ({}) booted for creates to take\n"
	"  --pool-shapes JSON     more pools: [{\"size\": N, \"spec\": {create body}}]\n"
	"  --single JSON          boot one sandbox from this create body; serve only it\n"
	"  --activity-url URL     --single: GET URL while its desktop is watched, every\n"
	"                         --activity-interval S (60), as --activity-id NAME\n"
	"                         in --activity-namespace NS (agent-sandbox's router)\n"
	"  --log-level LEVEL      info, or debug: also each create's timeline (info)\n"
	"  --help, --version\n";

enum kind { K_STR, K_URL, K_LISTEN, K_SESSION, K_INT, K_LONG, K_SIZE, K_DOUBLE, K_LEVEL };

struct key {
	const char *name;
	enum kind kind;
	size_t off;
	size_t cap;      /* K_STR: buffer size */
	double min, max; /* numeric range */
};

#define F(m) offsetof(struct config, m)
static const struct key keys[] = {
	{ "listen", K_LISTEN, 0, 0, 0, 0 },
	{ "state-dir", K_STR, F(state_dir), sizeof(((struct config *)0)->state_dir), 0, 0 },
	{ "token", K_STR, F(token), sizeof(((struct config *)0)->token), 0, 0 },
	{ "images", K_STR, F(images_dir), sizeof(((struct config *)0)->images_dir), 0, 0 },
	{ "web", K_STR, F(web_dir), sizeof(((struct config *)0)->web_dir), 0, 0 },
	{ "config", K_STR, F(config_file), sizeof(((struct config *)0)->config_file), 0, 0 },
	{ "egress-hosts", K_STR, F(egress_hosts), sizeof(((struct config *)0)->egress_hosts), 0, 0 },
	{ "max-sandboxes", K_INT, F(max_sandboxes), 0, 1, 100000 },
	{ "timeout", K_LONG, F(timeout_s), 0, 0, 365L * 86400 },
	{ "memory-mb", K_LONG, F(limits.memory_mb), 0, 16, 1 << 22 },
	{ "pids", K_LONG, F(limits.pids), 0, 8, 1 << 22 },
	{ "cpu", K_DOUBLE, F(limits.cpu), 0, 0.01, 4096 },
	{ "disk-mb", K_LONG, F(limits.disk_mb), 0, 1, 1 << 24 },
	{ "nofile", K_LONG, F(limits.nofile), 0, 16, 1 << 20 },
	{ "exec-timeout-ms", K_LONG, F(exec_timeout_ms), 0, 1, 86400000 },
	{ "max-width", K_INT, F(max_width), 0, 64, 16384 },
	{ "max-height", K_INT, F(max_height), 0, 64, 16384 },
	{ "desktop-session", K_SESSION, F(desktop_session), 0, 0, 0 },
	{ "max-output", K_SIZE, F(max_output), 0, 0, 1UL << 30 },
	{ "max-body", K_SIZE, F(max_body), 0, 1024, 1UL << 30 },
	{ "max-file", K_SIZE, F(max_file), 0, 0, 1UL << 34 },
	{ "max-rpc-message", K_SIZE, F(max_rpc_message), 0, 1024, 1UL << 32 },
	/* multiples of 65536 below systemd's foreign range (uidrange.h) */
	{ "uid-base", K_LONG, F(uid_base), 0, 65536, 0x7FFE0000L - 65536 },
	{ "drain-grace", K_LONG, F(drain_grace_s), 0, 0, 86400 },
	{ "advertise-url", K_URL, F(advertise_url), sizeof(((struct config *)0)->advertise_url), 0, 0 },
	{ "pool", K_INT, F(pool), 0, 0, 10000 },
	{ "pool-shapes", K_STR, F(pool_shapes), sizeof(((struct config *)0)->pool_shapes), 0, 0 },
	{ "single", K_STR, F(single), sizeof(((struct config *)0)->single), 0, 0 },
	{ "activity-url", K_URL, F(activity_url), sizeof(((struct config *)0)->activity_url), 0, 0 },
	{ "activity-id", K_STR, F(activity_id), sizeof(((struct config *)0)->activity_id), 0, 0 },
	{ "activity-namespace", K_STR, F(activity_namespace),
	  sizeof(((struct config *)0)->activity_namespace), 0, 0 },
	{ "activity-interval", K_LONG, F(activity_interval_s), 0, 1, 86400 },
	{ "log-level", K_LEVEL, F(log_debug), 0, 0, 0 },
};
#undef F

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->listen_host, sizeof(c->listen_host), "127.0.0.1");
	c->listen_port = 8080;
	c->max_sandboxes = 64;
	c->uid_base = 0x70000000L;
	c->timeout_s = 3600;
	c->limits = (struct limits)LIMITS_DEFAULT;
	c->max_output = 1 << 20;
	c->max_body = 8 << 20;
	c->max_file = 256UL << 20;
	c->max_rpc_message = 16 << 20;
	c->exec_timeout_ms = 60000;
	c->max_width = 1920;
	c->max_height = 1080;
	c->desktop_session = SESSION_FULL;
	c->drain_grace_s = 30;
	c->activity_interval_s = 60;
}

/* http://HOST[:PORT][/PATH]: what a client can be sent to as is, so no
 * spaces or controls (it goes into JSON and HTTP headers). */
static int url_ok(const char *v)
{
	const char *rest;

	if (!strncmp(v, "http://", 7))
		rest = v + 7;
	else if (!strncmp(v, "https://", 8))
		rest = v + 8;
	else
		return 0;
	if (!*rest || *rest == '/' || *rest == ':')
		return 0;
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '"' || *p == '\\')
			return 0;
	return 1;
}

static int set_listen(struct config *c, const char *v, char *err, size_t errlen)
{
	const char *colon = strrchr(v, ':');
	char *end;
	long port;
	size_t hl;

	if (!colon) {
		snprintf(err, errlen, "listen: want ADDR:PORT, got '%s'", v);
		return -1;
	}
	hl = (size_t)(colon - v);
	if (hl == 0) {
		snprintf(err, errlen, "listen: give an address too, e.g. 0.0.0.0:%s", colon + 1);
		return -1;
	}
	if (hl >= sizeof(c->listen_host)) {
		snprintf(err, errlen, "listen: address too long");
		return -1;
	}
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port < 0 || port > 65535) {
		snprintf(err, errlen, "listen: bad port in '%s'", v);
		return -1;
	}
	/* "[::1]:8080" -> "::1" */
	if (hl >= 2 && v[0] == '[' && v[hl - 1] == ']') {
		memcpy(c->listen_host, v + 1, hl - 2);
		c->listen_host[hl - 2] = '\0';
	} else {
		memcpy(c->listen_host, v, hl);
		c->listen_host[hl] = '\0';
	}
	c->listen_port = (int)port;
	return 0;
}

int config_set(struct config *c, const char *key, const char *value,
	       char *err, size_t errlen)
{
	const struct key *k = NULL;
	char *p = (char *)c, *end;
	double d;

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(keys[i].name, key))
			k = &keys[i];
	if (!k) {
		snprintf(err, errlen, "unknown option '%s'", key);
		return -1;
	}
	switch (k->kind) {
	case K_LISTEN:
		return set_listen(c, value, err, errlen);
	case K_SESSION:
		if (strcmp(value, "full") && strcmp(value, "bare")) {
			snprintf(err, errlen, "%s: want full or bare, got '%s'", key, value);
			return -1;
		}
		c->desktop_session = strcmp(value, "full") ? SESSION_BARE : SESSION_FULL;
		return 0;
	case K_LEVEL:
		if (strcmp(value, "info") && strcmp(value, "debug")) {
			snprintf(err, errlen, "%s: want info or debug, got '%s'", key, value);
			return -1;
		}
		*(int *)(p + k->off) = !strcmp(value, "debug");
		return 0;
	case K_URL:
		if (value[0] && !url_ok(value)) {
			snprintf(err, errlen, "%s: want http://HOST[:PORT][/PATH], got '%s'", key, value);
			return -1;
		}
		/* fall through */
	case K_STR:
		if (strlen(value) >= k->cap) {
			snprintf(err, errlen, "%s: value too long", key);
			return -1;
		}
		strcpy(p + k->off, value);
		return 0;
	default:
		break;
	}
	errno = 0;
	d = strtod(value, &end);
	if (errno || end == value || *end || d != d || d < k->min || d > k->max ||
	    (k->kind != K_DOUBLE && d != (double)(long long)d)) {
		snprintf(err, errlen, "%s: want a %s from %g to %g, got '%s'", key,
			 k->kind == K_DOUBLE ? "number" : "whole number", k->min,
			 k->max, value);
		return -1;
	}
	switch (k->kind) {
	case K_INT:
		*(int *)(p + k->off) = (int)d;
		break;
	case K_LONG:
		*(long *)(p + k->off) = (long)d;
		break;
	case K_SIZE:
		*(size_t *)(p + k->off) = (size_t)d;
		break;
	default:
		*(double *)(p + k->off) = d;
		break;
	}
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

int config_parse_file(struct config *c, const char *text, char *err, size_t errlen)
{
	char line[PATH_MAX + 64], sub[PATH_MAX + 64];
	int lineno = 0;

	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t n = nl ? (size_t)(nl - text) : strlen(text);
		char *k, *v, *sep;

		lineno++;
		if (n >= sizeof(line)) {
			snprintf(err, errlen, "line %d: too long", lineno);
			return -1;
		}
		memcpy(line, text, n);
		line[n] = '\0';
		text += n + (nl ? 1 : 0);
		k = trim(line);
		if (*k == '#' || *k == '\0')
			continue;
		sep = k + strcspn(k, "= \t");
		v = sep;
		if (*v) {
			*v++ = '\0';
			v = trim(v);
			if (*v == '=')
				v = trim(v + 1);
		}
		if (config_set(c, trim(k), v, sub, sizeof(sub))) {
			snprintf(err, errlen, "line %d: %s", lineno, sub);
			return -1;
		}
	}
	return 0;
}

const char *config_file_arg(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc)
			return argv[i + 1];
		if (!strncmp(argv[i], "--config=", 9))
			return argv[i] + 9;
	}
	return NULL;
}

int config_parse_args(struct config *c, int argc, char **argv, char *err,
		      size_t errlen)
{
	for (int i = 1; i < argc; i++) {
		char key[64];
		const char *a = argv[i], *v, *eq;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			snprintf(err, errlen, "%s", config_usage);
			return 1;
		}
		if (!strcmp(a, "--version")) {
			snprintf(err, errlen, "deskboxd 0.1\n");
			return 1;
		}
		if (strncmp(a, "--", 2)) {
			snprintf(err, errlen, "unexpected argument '%s'", a);
			return -1;
		}
		a += 2;
		eq = strchr(a, '=');
		if (eq) {
			v = eq + 1;
		} else if (i + 1 < argc) {
			v = argv[++i];
		} else {
			snprintf(err, errlen, "--%s needs a value", a);
			return -1;
		}
		if ((eq ? (size_t)(eq - a) : strlen(a)) >= sizeof(key)) {
			snprintf(err, errlen, "unknown option '--%s'", a);
			return -1;
		}
		snprintf(key, sizeof(key), "%.*s", (int)(eq ? eq - a : (int)strlen(a)), a);
		if (config_set(c, key, v, err, errlen))
			return -1;
	}
	return 0;
}
