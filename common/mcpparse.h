/*
 * mcpparse.h - the pure part of the MCP endpoint (server/mcp.c): one POST's
 * body and headers read as a JSON-RPC message of the session era
 * (2025-11-25 and before) or of the stateless era (2026-07-28, whose
 * mirrored headers must match the body), the Origin and Accept rules, and a
 * tool call's arguments mapped onto its operation's params. Header values
 * come in as strings, so unit tests and a fuzz target call these directly.
 * No I/O, no globals, no sessions (server/mcp.c owns those).
 */
#ifndef DESKBOX_MCPPARSE_H
#define DESKBOX_MCPPARSE_H

#include <stddef.h>

#include <jansson.h>

#define MCPPARSE_MODERN        "2026-07-28"
#define MCPPARSE_LEGACY_LATEST "2025-11-25"

/* MCP's own JSON-RPC errors (2026-07-28 basic/index "Error Codes"). */
#define MCPPARSE_HEADER_MISMATCH     -32020
#define MCPPARSE_UNSUPPORTED_VERSION -32022

/* The request headers the message is read with. A header's length is -1
 * when absent, -2 when longer than the server reads (its value is then ""). */
struct mcpparse_hdrs {
	const char *version;  /* MCP-Protocol-Version, "" when absent */
	int has_sid;          /* an Mcp-Session-Id came */
	const char *method;   /* Mcp-Method */
	int method_n;
	const char *name;     /* Mcp-Name */
	int name_n;
};

/* A refusal: the HTTP status, the JSON-RPC code, the id to echo (borrowed
 * from the message, or NULL), data (owned, or NULL) and the message. */
struct mcpparse_err {
	int status;
	int code;
	json_t *id;
	json_t *data;
	char msg[512];
};

/* What an accepted message asks (borrowed from msg, which is owned). */
struct mcpparse_msg {
	json_t *msg;
	const char *method;
	json_t *id;           /* NULL for a notification */
	json_t *params;       /* NULL when absent, else an object */
	int initialize;       /* the session era's initialize */
	int session;          /* the session era: the server looks up the id */
	int modern;           /* the stateless era, its headers checked */
};

/*
 * Read one POST's body: a JSON object that is a request or a notification
 * (no batches, no responses), then the era its headers and body speak.
 * Returns 0 with *out filled (json_decref(out->msg) after), or -1 with *e
 * filled (json_decref(e->data) unless passed on) and out->msg owned if not
 * NULL (it holds e->id).
 */
int mcpparse_message(const char *body, size_t len, const struct mcpparse_hdrs *h, struct mcpparse_msg *out,
		     struct mcpparse_err *e);

/* A session-era message's MCP-Protocol-Version (may be ""): 0 when it is a
 * session revision or absent, else -1 with *e filled. */
int mcpparse_session_version(const char *version, json_t *id, struct mcpparse_err *e);

/* Whether v is a session-era revision we speak. */
int mcpparse_is_legacy(const char *v);
/* The session revision initialize answers for a wanted one (may be NULL). */
const char *mcpparse_initialize_version(const char *want);

/* Mcp-Name's value, decoded from the =?base64?...?= sentinel form, into out.
 * Returns 0, or -1 when malformed. */
int mcpparse_name_value(const char *v, char *out, size_t cap);

/* Whether a request with this Origin (NULL or "" when none) may reach us,
 * addressed with this Host: a loopback origin, or the same origin when we
 * are addressed by IP (a name could be rebound). */
int mcpparse_origin_ok(const char *origin, const char *host);

/* Whether an Accept header (NULL or "" when none) takes JSON answers. */
int mcpparse_accepts_json(const char *accept);

/* How a tool's arguments and answer map onto its operation. */
enum mcpparse_shape {
	MCPPARSE_JSON,        /* arguments are params; the result is JSON */
	MCPPARSE_IMAGE,       /* the answer's bytes are an image */
	MCPPARSE_ACTION,      /* one computer action: its fields form actions[0] */
	MCPPARSE_FILE,        /* the answer's bytes are a file: text, or a blob */
	MCPPARSE_WRITE,       /* "content" (text or base64) is the body */
};

/* Whether key is one of drop's names (" a b ", may be NULL). */
int mcpparse_dropped(const char *drop, const char *key);

/*
 * A tool's arguments (an object, or NULL) as its operation's params: the
 * operation's properties (props) pass through, sandbox_id becomes sandbox,
 * the rest of an action's fields form actions[0], a write's content is
 * decoded into *bin (malloc'd). Returns 0 with *params (owned) and *bin,
 * *bin_len set, or -1 with err set and nothing held.
 */
int mcpparse_args(enum mcpparse_shape shape, const char *drop, const json_t *props, const json_t *args,
		  json_t **params, char **bin, size_t *bin_len, char *err, size_t cap);

#endif
