/*
 * config.h - deskboxd's settings: defaults, command-line flags and the
 * optional config file (same keys as the flags, without the dashes).
 * Pure: the caller reads the file; nothing here touches the system.
 */
#ifndef DESKBOX_CONFIG_H
#define DESKBOX_CONFIG_H

#include <limits.h>
#include <stddef.h>

#include "sblimits.h"

struct config {
	char listen_host[64];
	int listen_port;
	char state_dir[PATH_MAX];   /* "" = default for root or rootless */
	char token[256];            /* "" = DESKBOX_TOKEN, else the saved one */
	char images_dir[PATH_MAX];  /* "" = <state_dir>/images */
	char web_dir[PATH_MAX];     /* "" = web/ next to the binary's tree */
	char config_file[PATH_MAX];
	int max_sandboxes;
	long timeout_s;             /* default sandbox lifetime, 0 = none */
	struct limits limits;       /* default limits */
	size_t max_output;          /* per stream, per exec */
	size_t max_body;            /* JSON request bodies */
	size_t max_file;            /* file uploads and downloads */
	size_t max_rpc_message;     /* one control-channel message */
	long exec_timeout_ms;       /* default exec timeout */
	int max_width, max_height;  /* largest desktop (Xvfb's screen size) */
	int desktop_session;        /* SESSION_FULL or SESSION_BARE: when unsaid */
	char egress_hosts[PATH_MAX]; /* "" or an /etc/hosts-format file (tests) */
	long uid_base;              /* root: first host id of sandboxes' ranges */
	long drain_grace_s;         /* SIGTERM: wait this long for sandboxes */
	char advertise_url[256];    /* a sandbox's `endpoint`; "" = from listen */
	int pool;                   /* booted desktops kept waiting (0 = none) */
	char pool_shapes[4096];     /* JSON: [{"size": N, "spec": {...}}, ...] */
	char single[4096];          /* single-sandbox mode: its create body */
	char activity_url[512];     /* single mode: keep-alive request target */
	char activity_id[254];      /* ... its X-Sandbox-ID (the sandbox's name) */
	char activity_namespace[64];/* ... its X-Sandbox-Namespace */
	long activity_interval_s;
	int log_debug;              /* --log-level debug */
};

void config_defaults(struct config *c);

/* Set one key ("listen", "memory-mb", ...) from its text value. Returns 0, or
 * -1 with a message in err. */
int config_set(struct config *c, const char *key, const char *value,
	       char *err, size_t errlen);

/* Apply a config file's text: "key = value" or "key value" lines, '#'
 * comments, blank lines. Returns 0, or -1 with "line N: ..." in err. */
int config_parse_file(struct config *c, const char *text, char *err, size_t errlen);

/* Apply flags (--key value or --key=value; --help, --version). Returns 0,
 * 1 when --help or --version was asked (message in err), -1 on error. */
int config_parse_args(struct config *c, int argc, char **argv, char *err,
		      size_t errlen);

/* The --config FILE given in argv, or NULL. */
const char *config_file_arg(int argc, char **argv);

extern const char config_usage[];

#endif
