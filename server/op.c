/*
 * op.c - the operation table, dispatch and the call object (see op.h).
 *
 * Owns the flat table (built once from the family files' rows) and each
 * row's parsed schema, kept for the life of the process: the unknown-field
 * check reads the schema's "properties", so what the docs say a call takes
 * is exactly what it accepts. Loop thread only.
 */
#include "op.h"
#include "opparam.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "desktop.h"
#include "fields.h"
#include "metrics.h"
#include "recording.h"
#include "req.h"
#include "sandbox.h"

/* The families, each a NULL-name-terminated array (op_*.c). */
extern const struct op op_sandbox_rows[];
extern const struct op op_process_rows[];
extern const struct op op_files_rows[];
extern const struct op op_desktop_rows[];
extern const struct op op_recording_rows[];
extern const struct op op_network_rows[];
extern const struct op op_events_rows[];
extern const struct op op_proc_rows[];
extern const struct op adapt_anthropic_rows[];
extern const struct op adapt_openai_rows[];
extern const struct op op_admin_rows[];

#define OP_MAX 96

static const struct op *op_flat[OP_MAX + 1];
static json_t *op_schemas[OP_MAX];
static const char **op_known[OP_MAX];   /* the schema's property names */
static int op_n = -1;

/* The names of schema's "properties", NULL-terminated (for fields_check). */
static const char **op_known_of(const json_t *schema)
{
	const json_t *props = json_object_get(schema, "properties");
	const char **v = calloc(json_object_size(props) + 1, sizeof(*v));
	const char *key;
	json_t *val;
	size_t n = 0;

	if (!v)
		return NULL;
	json_object_foreach((json_t *)props, key, val)
		v[n++] = key;
	return v;
}

static void op_build(void)
{
	const struct op *const fams[] = { op_sandbox_rows, op_process_rows, op_proc_rows,
					  op_files_rows, op_desktop_rows, op_recording_rows, op_events_rows,
					  op_network_rows, op_admin_rows,
					  adapt_anthropic_rows, adapt_openai_rows };

	op_n = 0;
	for (size_t f = 0; f < sizeof(fams) / sizeof(fams[0]); f++)
		for (const struct op *o = fams[f]; o->name && op_n < OP_MAX; o++) {
			op_schemas[op_n] = json_loads(o->schema, 0, NULL);
			op_known[op_n] = op_known_of(op_schemas[op_n]);
			op_flat[op_n++] = o;
		}
	op_flat[op_n] = NULL;
}

const struct op *const *op_table(void)
{
	if (op_n < 0)
		op_build();
	return op_flat;
}

const struct op *op_find(const char *name)
{
	const struct op *const *t = op_table();

	for (int i = 0; name && t[i]; i++)
		if (!strcmp(t[i]->name, name))
			return t[i];
	return NULL;
}

static int op_index(const struct op *op)
{
	const struct op *const *t = op_table();

	for (int i = 0; t[i]; i++)
		if (t[i] == op)
			return i;
	return -1;
}

const json_t *op_schema(const struct op *op)
{
	int i = op_index(op);

	return i < 0 ? NULL : op_schemas[i];
}

void op_call_init(struct op_call *c, struct srv *srv, const struct op *op,
		  const struct op_auth *auth, json_t *params, const char *host)
{
	memset(c, 0, sizeof(*c));
	c->srv = srv;
	c->op = op;
	if (auth)
		c->auth = *auth;
	c->params = params ? params : json_object();
	c->index = -1;
	c->out_fd = -1;
	c->start_us = srv_mono_us();
	snprintf(c->host, sizeof(c->host), "%s", host ? host : "");
}

void op_call_release(struct op_call *c)
{
	json_decref(c->params);
	json_decref(c->result);
	c->params = c->result = NULL;
	if (c->out_fd >= 0)
		close(c->out_fd);
	c->out_fd = -1;
	for (int i = 0; i < c->nimgs; i++)
		close(c->imgs[i].fd);
	c->nimgs = 0;
}

static void op_finish(struct op_call *c)
{
	if (c->op && c->srv)
		metrics_op_done(c->srv, c->op, c->err,
				(double)(srv_mono_us() - c->start_us) / 1e6);
	recording_note_done(c);
	c->done = 1;
	c->job = NULL;
	c->job_cancel = NULL;
	if (c->on_done)
		c->on_done(c);
}

void op_ok(struct op_call *c, json_t *result)
{
	if (c->done) {
		json_decref(result);
		return;
	}
	c->err = OPERR_OK;
	c->result = result ? result : json_object();
	op_finish(c);
}

void op_fail(struct op_call *c, enum operr e, const char *fmt, ...)
{
	va_list ap;

	if (c->done)
		return;
	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
	va_end(ap);
	c->err = e == OPERR_OK ? OPERR_INTERNAL : e;
	op_finish(c);
}

void op_ok_fd(struct op_call *c, const char *media_type, int fd, uint64_t len, json_t *meta)
{
	if (c->done) {
		close(fd);
		json_decref(meta);
		return;
	}
	c->out_fd = fd;
	c->out_len = len;
	c->media_type = media_type;
	op_ok(c, meta);
}

void op_ok_images(struct op_call *c, json_t *result, const int *fds, const uint64_t *lens,
		  json_t *const *objs, int n)
{
	if (c->done || n < 0 || n > AGENTPROTO_MAX_IMAGES) {
		for (int i = 0; i < n; i++)
			close(fds[i]);
		json_decref(result);
		if (!c->done)
			op_fail(c, OPERR_INTERNAL, "too many images");
		return;
	}
	for (int i = 0; i < n; i++)
		c->imgs[i] = (struct op_image){ fds[i], lens[i], objs[i] };
	c->nimgs = n;
	op_ok(c, result);
}

/* Read a chunk this size (a multiple of 3, so its base64 joins up). */
#define OP_B64_CHUNK (3 * 21846)

/* The base64 of im's bytes into out (room for 4 * ceil(len / 3)). */
static int op_encode_image(const struct op_image *im, uint8_t *buf, char *out)
{
	uint64_t off = 0;

	while (off < im->len) {
		size_t want = im->len - off < OP_B64_CHUNK ? (size_t)(im->len - off) : OP_B64_CHUNK;
		ssize_t n = pread(im->fd, buf, want, (off_t)off);

		if (n != (ssize_t)want)
			return -1;
		out += base64_encode(buf, want, out);
		off += want;
	}
	return 0;
}

static uint64_t op_b64_len(uint64_t len)
{
	return 4 * ((len + 2) / 3);
}

int op_images_inline(struct op_call *c)
{
	uint8_t *buf = malloc(OP_B64_CHUNK);
	int rc = buf ? 0 : -1;

	for (int i = 0; i < c->nimgs && rc == 0; i++) {
		struct op_image *im = &c->imgs[i];
		char *b64 = malloc(op_b64_len(im->len) + 1);

		if (!b64 || op_encode_image(im, buf, b64) < 0 ||
		    json_object_set_new(im->obj, "data", json_stringn_nocheck(b64, op_b64_len(im->len))) < 0)
			rc = -1;
		free(b64);
	}
	free(buf);
	for (int i = 0; i < c->nimgs; i++)
		close(c->imgs[i].fd);
	c->nimgs = 0;
	return rc;
}

/*
 * Each image's "data" is first a marker, "\u0001" and its index (no other
 * string in an actions result has a control character: agentmsg_actions
 * rebuilds them); the dump is then copied with each marker's place filled
 * by the base64 of that image, read from its fd in chunks.
 */
char *op_result_text(struct op_call *c, size_t *len)
{
	static const char mark[] = "\"\\u0001";
	char *text, *out = NULL, *o;
	const char *p, *m;
	uint8_t *buf = NULL;
	uint64_t total;

	for (int i = 0; i < c->nimgs; i++) {
		char s[8];

		snprintf(s, sizeof(s), "\x01%d", i);
		json_object_set_new(c->imgs[i].obj, "data", json_string(s));
	}
	text = json_dumps(c->result ? c->result : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
	if (!text)
		return NULL;
	total = strlen(text);
	for (int i = 0; i < c->nimgs; i++)
		total += op_b64_len(c->imgs[i].len);
	out = malloc(total + 1);
	buf = malloc(OP_B64_CHUNK);
	if (!out || !buf)
		goto fail;
	for (p = text, o = out; (m = strstr(p, mark)); ) {
		char *end;
		long k = strtol(m + sizeof(mark) - 1, &end, 10);

		if (end == m + sizeof(mark) - 1 || *end != '"' || k < 0 || k >= c->nimgs)
			goto fail;
		memcpy(o, p, (size_t)(m + 1 - p));
		o += m + 1 - p;
		if (op_encode_image(&c->imgs[k], buf, o) < 0)
			goto fail;
		o += op_b64_len(c->imgs[k].len);
		p = end;
	}
	memcpy(o, p, strlen(p) + 1);
	*len = (size_t)(o - out) + strlen(p);
	free(text);
	free(buf);
	return out;
fail:
	free(text);
	free(buf);
	free(out);
	return NULL;
}

void op_set_job(struct op_call *c, void *job, void (*cancel)(void *job))
{
	c->job = job;
	c->job_cancel = cancel;
}

void op_clear_job(struct op_call *c)
{
	c->job = NULL;
	c->job_cancel = NULL;
}

void op_cancel(struct op_call *c)
{
	void *job = c->job;
	void (*cancel)(void *) = c->job_cancel;

	c->job = NULL;
	c->job_cancel = NULL;
	c->done = 1;
	c->on_done = NULL;
	if (job && cancel)
		cancel(job);
}

void op_authenticate(struct srv *srv, const char *token, size_t len, struct op_auth *out)
{
	memset(out, 0, sizeof(*out));
	if (!token || !len)
		return;
	if (token_equal(token, len, srv->token)) {
		out->scope = OPS_FULL;
		return;
	}
	for (struct sandbox *sb = srv->sandboxes; sb; sb = sb->next) {
		int view_only;

		if (len == ID_LEN && sbx_viewer_check(sb, token, &view_only) == 0) {
			out->scope = view_only ? OPS_VIEW : OPS_CONTROL;
			memcpy(out->sandbox, sb->id, sizeof(out->sandbox));
			return;
		}
	}
}

int op_allowed(const struct op *op, const struct op_auth *auth, const char *id)
{
	if (op->flags & OPF_PUBLIC || auth->scope == OPS_FULL)
		return 1;
	if (auth->scope == OPS_NONE || !id || strcmp(id, auth->sandbox))
		return 0;
	if (auth->scope == OPS_CONTROL)
		return (op->flags & (OPF_VIEW | OPF_CONTROL)) != 0;
	return (op->flags & OPF_VIEW) != 0;
}

enum operr op_refusal(const struct op *op, const struct op_auth *auth, const char *id,
		      char *msg, size_t cap)
{
	if (op_allowed(op, auth, id))
		return OPERR_OK;
	if (auth->scope == OPS_NONE) {
		snprintf(msg, cap, "missing or wrong API token (Authorization: Bearer TOKEN)");
		return OPERR_UNAUTHORIZED;
	}
	snprintf(msg, cap, "this token may not call %s%s%.64s", op->name, id ? " on sandbox " : "",
		 id ? id : "");
	return OPERR_FORBIDDEN;
}

/* Every key of params must be a property of the schema. */
static int op_check_fields(struct op_call *c)
{
	static const char *const none[] = { NULL };
	int i = op_index(c->op);
	char err[512];

	if (fields_check(c->params, "", i >= 0 && op_known[i] ? op_known[i] : none, err,
			 sizeof(err)) < 0) {
		op_fail(c, OPERR_BAD_REQUEST, "%s", err);
		return -1;
	}
	return 0;
}

static int op_preconditions(struct op_call *c)
{
	struct sandbox *sb = c->sb;
	const char *name, *error;

	if ((c->op->flags & (OPF_RUNNING | OPF_DESKTOP)) && sb->state != SBX_RUNNING) {
		op_fail(c, OPERR_SANDBOX_NOT_RUNNING, "the sandbox is %s%s%s",
			sb->state == SBX_FAILED ? "failed" : "stopping", sb->error[0] ? ": " : "",
			sb->error);
		return -1;
	}
	if (!(c->op->flags & OPF_DESKTOP))
		return 0;
	if (!sb->desk) {
		op_fail(c, OPERR_NO_DESKTOP, "this sandbox was created without a desktop");
		return -1;
	}
	if (desk_state(sb, &name, &error) != DESK_READY) {
		op_fail(c, OPERR_DESKTOP_NOT_RUNNING, "the desktop is %s%s%s (restart it: desktop.restart)",
			name, error[0] ? ": " : "", error);
		return -1;
	}
	return 0;
}

void op_dispatch(struct op_call *c)
{
	const struct op *op = c->op;
	const char *id = NULL;
	enum operr e;
	char msg[160];
	json_t *idj;

	if (!json_is_object(c->params))
		return op_fail(c, OPERR_BAD_REQUEST, "params must be an object");
	idj = json_object_get(c->params, "sandbox");
	if (op->flags & OPF_SANDBOX) {
		id = json_string_value(idj);
		if (!id)
			return op_fail(c, OPERR_BAD_REQUEST, "sandbox (the sandbox's id) is required");
	}
	if ((e = op_refusal(op, &c->auth, id, msg, sizeof(msg))) != OPERR_OK)
		return op_fail(c, e, "%s", msg);
	if (id) {
		c->sb = id_valid(id) ? sbx_find(c->srv, id) : NULL;
		if (!c->sb || c->sb->state == SBX_STARTING)
			return op_fail(c, OPERR_NOT_FOUND, "no sandbox with id %.64s", id);
		json_object_del(c->params, "sandbox");
	}
	if (op_check_fields(c) < 0)
		return;
	if (c->sb && op_preconditions(c) < 0)
		return;
	if ((op->flags & OPF_CONN) && !c->conn)
		return op_fail(c, OPERR_BAD_REQUEST, "%s works on the control channel only (GET /v1/rpc)",
			       op->name);
	/* Every call that reaches a sandbox goes into its running
	 * recordings' action logs, whatever face it came through. */
	recording_note_call(c);
	op->run(c);
}

int op_param_str(struct op_call *c, const char *name, int required, const char **out)
{
	char err[256];

	if (opparam_str(c->params, name, required, out, err, sizeof(err)) < 0) {
		op_fail(c, OPERR_BAD_REQUEST, "%s", err);
		return -1;
	}
	return 0;
}

int op_param_int(struct op_call *c, const char *name, long min, long max, long *out)
{
	char err[256];

	if (opparam_int(c->params, name, min, max, out, err, sizeof(err)) < 0) {
		op_fail(c, OPERR_BAD_REQUEST, "%s", err);
		return -1;
	}
	return 0;
}

int op_param_bool(struct op_call *c, const char *name, int *out)
{
	char err[256];

	if (opparam_bool(c->params, name, out, err, sizeof(err)) < 0) {
		op_fail(c, OPERR_BAD_REQUEST, "%s", err);
		return -1;
	}
	return 0;
}

/* The words of a row's flags, for the docs. */
static json_t *op_flag_words(unsigned f)
{
	static const struct {
		unsigned bit;
		const char *word;
	} words[] = {
		{ OPF_PUBLIC, "public" }, { OPF_SANDBOX, "sandbox" }, { OPF_RUNNING, "running" },
		{ OPF_DESKTOP, "desktop" }, { OPF_VIEW, "view_token" }, { OPF_CONTROL, "control_token" },
		{ OPF_BIN_IN, "binary_in" }, { OPF_BIN_OUT, "binary_out" }, { OPF_CONN, "channel_only" },
		{ OPF_IMAGES, "images_out" },
	};
	json_t *a = json_array();

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (f & words[i].bit)
			json_array_append_new(a, json_string(words[i].word));
	return a;
}

json_t *op_describe_all(const char *(*rest_of)(const struct op *, char *, size_t))
{
	const struct op *const *t = op_table();
	json_t *all = json_array();

	for (int i = 0; t[i]; i++) {
		char buf[256];
		const char *rest = rest_of ? rest_of(t[i], buf, sizeof(buf)) : NULL;
		const json_t *schema = op_schema(t[i]);

		json_array_append_new(all, json_pack("{s:s,s:s,s:O,s:o,s:o}", "name", t[i]->name,
						     "summary", t[i]->summary, "params",
						     schema ? schema : json_null(), "flags",
						     op_flag_words(t[i]->flags), "rest",
						     rest ? json_string(rest) : json_null()));
	}
	return all;
}

void op_conn_hook_add(struct op_conn *conn, struct op_conn_hook *h)
{
	h->next = conn->hooks;
	conn->hooks = h;
}

void op_conn_hook_del(struct op_conn *conn, struct op_conn_hook *h)
{
	for (struct op_conn_hook **pp = &conn->hooks; *pp; pp = &(*pp)->next)
		if (*pp == h) {
			*pp = h->next;
			return;
		}
}

char *op_params_dump(struct op_call *c, size_t *len)
{
	char *s = json_dumps(c->params, JSON_COMPACT);

	*len = s ? strlen(s) : 0;
	if (!s)
		op_fail(c, OPERR_INTERNAL, "out of memory");
	return s;
}

int op_req_result(struct op_call *c, enum req_result res, const char *err)
{
	if (res == REQ_OK)
		return 0;
	op_fail(c, res == REQ_BAD_JSON ? OPERR_BAD_JSON : OPERR_BAD_REQUEST, "%s", err);
	return -1;
}
