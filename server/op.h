/*
 * op.h - operations: the one table that REST, the JSON-RPC channel, MCP and
 * the agent adapters all bind to, and the transport-neutral call object.
 *
 * A row names an operation ("desktop.screenshot"), says in one line what it
 * does, gives its parameters as a JSON Schema (the docs, MCP's tool list
 * and the unknown-field check all read it), its preconditions and scope as
 * flags, and its run function. op_dispatch does what every row needs, in
 * one place: authorization by scope, the unknown-field check, finding the
 * sandbox, the running/desktop preconditions; then run.
 *
 * An operation never writes to a transport. It answers through its call:
 * op_ok (a JSON result), op_ok_fd (bytes carried by an fd: images, file
 * bodies), op_ok_images (a JSON result whose image objects' bytes are in
 * fds: an actions batch's screenshots; each transport puts them in as
 * base64 itself, op_result_text or op_images_inline), op_fail (an error from common/operr.h); or it parks a job with
 * op_set_job and answers later. If the client goes away first, the job's
 * cancel hook runs and the job must not touch the call again. The transport
 * learns the outcome through the call's on_done hook, after which the
 * operation must not touch the call either.
 *
 * Loop thread only, like everything in deskboxd.
 */
#ifndef DESKBOX_OP_H
#define DESKBOX_OP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "agentproto.h"
#include "operr.h"
#include "req.h"
#include "srv.h"
#include "util.h"

struct sandbox;
struct op_call;

/* Row flags. */
#define OPF_PUBLIC   0x001  /* no token needed (health) */
#define OPF_SANDBOX  0x002  /* params.sandbox names an existing sandbox */
#define OPF_RUNNING  0x004  /*   ... that is running */
#define OPF_DESKTOP  0x008  /*   ... whose desktop is up */
#define OPF_VIEW     0x010  /* a view-only viewer token of that sandbox may call it */
#define OPF_CONTROL  0x020  /* a full-control viewer token may call it */
#define OPF_BIN_IN   0x040  /* takes a binary body (c->bin) */
#define OPF_BIN_OUT  0x080  /* may answer with bytes (op_ok_fd) */
#define OPF_CONN     0x100  /* needs a connection that takes notifications */
#define OPF_IMAGES   0x200  /* may answer with images in its result (op_ok_images) */

/* What a presented token may do. */
enum op_scope {
	OPS_NONE = 0,     /* no valid token */
	OPS_VIEW,         /* a view-only viewer token: one sandbox, watch only */
	OPS_CONTROL,      /* a full-control viewer token: one sandbox */
	OPS_FULL,         /* the API token */
};

struct op_auth {
	enum op_scope scope;
	char sandbox[ID_LEN + 1];   /* the viewer token's sandbox */
};

/*
 * A connection that outlives single calls and takes notifications (the
 * JSON-RPC WebSocket). Operations that stream (process output, events)
 * keep a pointer to it and register a hook: `drained` runs when the
 * client has caught up (its backlog fell below the low-water mark), and
 * `closed` when the connection ends (after which it must not be used).
 */
struct op_conn;

struct op_conn_hook {
	void (*drained)(struct op_conn_hook *h);
	void (*closed)(struct op_conn_hook *h);
	struct op_conn_hook *next;
};

struct op_conn {
	/* Queue the notification {method, params} (params stolen). 0, or -1
	 * when the connection is closing. */
	int (*notify)(struct op_conn *conn, const char *method, json_t *params);
	/* The same for a notification already encoded as JSON text (malloc'd,
	 * stolen): for bulk streams, which skip building and dumping a json_t.
	 * NULL when the transport takes json_t only. */
	int (*notify_text)(struct op_conn *conn, char *text, size_t len);
	/* Bytes queued to the client and not yet written. */
	size_t (*backlog)(const struct op_conn *conn);
	const struct op_auth *auth;
	struct op_conn_hook *hooks;
};

/* Backlog past which a streaming operation stops producing (pauses its
 * source) until its drained hook runs. */
#define OP_CONN_HIGH_WATER (1u << 20)

void op_conn_hook_add(struct op_conn *conn, struct op_conn_hook *h);
void op_conn_hook_del(struct op_conn *conn, struct op_conn_hook *h);

struct op {
	const char *name;
	const char *summary;
	const char *schema;          /* JSON Schema of params, as text */
	unsigned flags;
	void (*run)(struct op_call *c);
};

struct op_call {
	struct srv *srv;
	const struct op *op;
	struct op_auth auth;
	struct sandbox *sb;          /* set by dispatch for OPF_SANDBOX rows */
	json_t *params;              /* an object, owned; "sandbox" removed */
	const char *bin;             /* binary input (OPF_BIN_IN), borrowed */
	size_t bin_len;
	char host[256];              /* the Host the client used, or "" */
	struct op_conn *conn;        /* the client's connection, or NULL */

	/* Outcome, read by the transport in on_done. */
	int done;
	enum operr err;
	char msg[1024];
	int index;                   /* failing action of a batch, or -1 */
	json_t *result;              /* owned until the transport takes it */
	int out_fd;                  /* op_ok_fd: owned until taken, or -1 */
	uint64_t out_len;
	const char *media_type;      /* of out_fd: a string constant */
	struct op_image {            /* op_ok_images: owned until released */
		int fd;              /* a sealed memfd */
		uint64_t len;
		json_t *obj;         /* its {"media_type"} object in result */
	} imgs[AGENTPROTO_MAX_IMAGES];
	int nimgs;
	char etag[128];              /* a validator to send back, or "" */
	int not_modified;            /* with etag: the client's copy is current */
	int created;                 /* the answer made something new */

	int64_t start_us;            /* monotonic, for the latency metrics */
	char logged_sb[ID_LEN + 1];  /* in that sandbox's recordings' action logs, or "" */

	/* Parked work. */
	void *job;
	void (*job_cancel)(void *job);

	/* The transport. */
	void (*on_done)(struct op_call *c);
	void *tctx;
};

/* The table: rows in a fixed order, NULL-terminated. */
const struct op *const *op_table(void);
/* The row named name, or NULL. */
const struct op *op_find(const char *name);
/* The row's parsed params schema (NULL if its text is not JSON, which a
 * unit test rules out). */
const json_t *op_schema(const struct op *op);

/* The table as JSON, for the docs: [{name, summary, params, flags, rest}],
 * rest_of giving each row's REST form (may be NULL). */
json_t *op_describe_all(const char *(*rest_of)(const struct op *, char *, size_t));

/* Ready c for a new call (host may be NULL). params is stolen (NULL = {}). */
void op_call_init(struct op_call *c, struct srv *srv, const struct op *op,
		  const struct op_auth *auth, json_t *params, const char *host);
/* Free what the outcome holds that the transport did not take. */
void op_call_release(struct op_call *c);

/* Check the preconditions and run c's operation; it answers now or later.
 * Runs on_done exactly once (unless the client leaves first: op_cancel). */
void op_dispatch(struct op_call *c);

/* The client is gone: cancel the parked job (if any). on_done will not run. */
void op_cancel(struct op_call *c);

/* Answers. Each ends the call (on_done runs); later ones are ignored. */
void op_ok(struct op_call *c, json_t *result);                 /* result stolen */
__attribute__((format(printf, 3, 4)))
void op_fail(struct op_call *c, enum operr e, const char *fmt, ...);
/* Bytes from fd (ownership moves in), len of them, with meta (stolen; may
 * be NULL) describing them. */
void op_ok_fd(struct op_call *c, const char *media_type, int fd, uint64_t len, json_t *meta);

/* result (stolen) whose image objects objs[i] (borrowed, inside result)
 * stand for the bytes of fds[i] (ownership moves in; sealed, lens[i]
 * bytes each), n of them (at most AGENTPROTO_MAX_IMAGES). */
void op_ok_images(struct op_call *c, json_t *result, const int *fds, const uint64_t *lens,
		  json_t *const *objs, int n);
/* Put the bytes of c's images into their objects as "data" (base64) and
 * close the fds: for faces that answer in JSON (MCP, the adapters, and
 * RPC when base64 is asked for or in a batch; else it streams the fds).
 * Returns 0, or -1 when an image cannot be read. */
int op_images_inline(struct op_call *c);
/* c's result as JSON text (malloc'd, *len bytes) with each image's bytes
 * encoded straight from its fd into "data" (base64): the JSON library
 * never holds them. NULL when out of memory or an image cannot be read. */
char *op_result_text(struct op_call *c, size_t *len);

/* Park work that answers later; cancel runs if the client leaves first. */
void op_set_job(struct op_call *c, void *job, void (*cancel)(void *job));
void op_clear_job(struct op_call *c);

/*
 * What token presented opens: the API token (OPS_FULL), a live viewer
 * token of some sandbox (OPS_VIEW / OPS_CONTROL with that sandbox), or
 * nothing. Constant time in the token's content.
 */
void op_authenticate(struct srv *srv, const char *token, size_t len, struct op_auth *out);

/* Whether auth may call op on sandbox id (NULL: no sandbox). */
int op_allowed(const struct op *op, const struct op_auth *auth, const char *id);

/* The refusal op_allowed means: OPERR_OK when allowed, else
 * OPERR_UNAUTHORIZED or OPERR_FORBIDDEN with the message in msg. For
 * bindings that must refuse before they take anything more of a request
 * (the JSON-RPC channel's binary input). */
enum operr op_refusal(const struct op *op, const struct op_auth *auth, const char *id,
		      char *msg, size_t cap);

/* params as JSON text, for the req.c parsers (they take a body). NULL
 * with c failed; free the text. */
char *op_params_dump(struct op_call *c, size_t *len);
/* Fail c for a req.c parse result (an enum req_result); 0 when it was OK. */
int op_req_result(struct op_call *c, enum req_result res, const char *err);

/* Parameter helpers for run functions: the value, or -1 with c failed. */
int op_param_str(struct op_call *c, const char *name, int required, const char **out);
int op_param_int(struct op_call *c, const char *name, long min, long max, long *out);
int op_param_bool(struct op_call *c, const char *name, int *out);

#endif
