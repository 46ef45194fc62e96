/*
 * req.h - parsing of REST request bodies into plain structs. Pure: the body
 * is untrusted bytes, the result owns its strings (free with the _free
 * function). Every rejection says which field and why.
 */
#ifndef DESKBOX_REQ_H
#define DESKBOX_REQ_H

#include <stddef.h>

#include "sblimits.h"

enum req_result { REQ_OK = 0, REQ_BAD_JSON, REQ_BAD_FIELD };

#define REQ_MAX_ENV 1024
#define REQ_MAX_ARGV 4096

/* "K=V" strings, NULL-terminated. */
struct req_env {
	char **v;
	size_t n;
};

struct req_create {
	long timeout_s;
	struct limits limits;
	struct req_env env;
	char rootfs[64];     /* "host" or an image name */
	int desktop;         /* 1 = boot a desktop, 0 = none, -1 = not said */
	int width, height;   /* requested desktop size */
	int gl;
	int wm;              /* 1 = a window manager (default), 0 = none */
	enum session session;/* SESSION_UNSAID until the server fills its default */
	int dpi;             /* the desktop's DPI (96) */
	int model_w, model_h;/* the screen size agents' models are told (the
				adapters scale to it), or 0 x 0: fitted */
	char **apps;         /* NULL-terminated commands, or NULL */
	int vnc_port;        /* raw VNC port: -1 none, 0 any free one, or N */
	char *network;       /* egress policy, normalized JSON (netpolicy.h), or NULL */
};

struct req_exec {
	char **argv;         /* NULL-terminated; from argv or {"/bin/sh","-c",cmd} */
	struct req_env env;
	char *cwd;           /* NULL = /home/user */
	char *stdin_data;
	size_t stdin_len;
	long timeout_ms;
};

/* Parse POST /v1/sandboxes. defaults fill what the body leaves out. */
enum req_result req_parse_create(const char *body, size_t len,
				 const struct limits *defaults, long default_timeout_s,
				 struct req_create *out, char *err, size_t errlen);
void req_create_free(struct req_create *r);

enum req_result req_parse_exec(const char *body, size_t len, long default_timeout_ms,
			       struct req_exec *out, char *err, size_t errlen);
void req_exec_free(struct req_exec *r);

/* {"timeout_s": N} with 0 <= N <= a year. */
enum req_result req_parse_timeout(const char *body, size_t len, long *timeout_s,
				  char *err, size_t errlen);

/* Validate one environment variable name (non-empty, no '=' or NUL). */
int req_env_name_ok(const char *name);

#endif
