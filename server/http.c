/*
 * http.c - the lws HTTP callback: routing, auth, body buffering, responses.
 *
 * Owns the per-connection `struct http_req` (lws per-session data) and the
 * response bytes in it. Runs on the event-loop thread only and never blocks:
 * responses are written from LWS_CALLBACK_HTTP_WRITEABLE in chunks, bodies of
 * files stream from their fd chunk by chunk.
 */
#include "http.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "rest.h"
#include "util.h"

#define CHUNK 65536

static const struct {
	enum lws_token_indexes tok;
	enum http_method m;
} methods[] = {
	{ WSI_TOKEN_GET_URI, HM_GET },
	{ WSI_TOKEN_POST_URI, HM_POST },
	{ WSI_TOKEN_PUT_URI, HM_PUT },
	{ WSI_TOKEN_DELETE_URI, HM_DELETE },
	{ WSI_TOKEN_PATCH_URI, HM_PATCH },
	{ WSI_TOKEN_OPTIONS_URI, HM_OPTIONS },
	{ WSI_TOKEN_HEAD_URI, HM_HEAD },
};

static void reset(struct http_req *r)
{
	if (r->call_live) {
		if (!r->call.done)
			op_cancel(&r->call);
		op_call_release(&r->call);
	}
	free(r->body);
	free(r->resp);
	if (r->stream_fd >= 0)
		close(r->stream_fd);
	if (r->ext && r->ext_free)
		r->ext_free(r->ext);
	memset(r, 0, sizeof(*r));
	r->stream_fd = -1;
}

void http_respond(struct http_req *r, int status, const char *ctype, char *body, size_t len)
{
	if (r->resp_ready) {
		free(body);
		return;
	}
	r->status = status;
	r->ctype = ctype;
	r->resp = body;
	r->resp_len = len;
	r->resp_off = 0;
	r->resp_ready = 1;
	lws_callback_on_writable(r->wsi);
}

void http_respond_json(struct http_req *r, int status, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(7));

	json_decref(j);
	if (!s) {
		http_error(r, OPERR_INTERNAL, "out of memory");
		return;
	}
	http_respond(r, status, "application/json", s, strlen(s));
}

void http_error(struct http_req *r, enum operr e, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* Messages quote client input; keep them valid UTF-8 for JSON. */
	char clean[sizeof(msg) * 3 + 1];

	utf8_repair(msg, strlen(msg), clean, sizeof(clean));
	http_respond_json(r, operr_http(e), json_pack("{s:{s:s,s:s}}", "error", "code", operr_code(e),
						      "message", clean));
}

void http_add_header(struct http_req *r, const char *name, const char *value)
{
	if (r->nxhdr >= (int)(sizeof(r->xhdr) / sizeof(r->xhdr[0])))
		return;
	snprintf(r->xhdr[r->nxhdr].name, sizeof(r->xhdr[0].name), "%s", name);
	snprintf(r->xhdr[r->nxhdr].value, sizeof(r->xhdr[0].value), "%s", value);
	r->nxhdr++;
}

void http_respond_fd(struct http_req *r, int status, const char *ctype, int fd, uint64_t len)
{
	if (r->resp_ready) {
		close(fd);
		return;
	}
	r->stream_fd = fd;
	r->stream_len = len;
	r->stream_off = 0;
	http_respond(r, status, ctype, NULL, 0);
}

int http_refuse_upgrade(struct lws *wsi, enum operr e, const char *fmt, ...)
{
	unsigned char buf[LWS_PRE + 2048], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf) - 1;
	char msg[512], clean[sizeof(msg) * 3 + 1], *body;
	const char *why = e == OPERR_UNAUTHORIZED ? "missing or wrong token" :
			  e == OPERR_FORBIDDEN ? "this token's scope does not include it" : NULL;
	va_list ap;
	json_t *j;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (why) {
		size_t n = strlen(msg);

		snprintf(msg + n, sizeof(msg) - n, ": %s", why);
	}
	utf8_repair(msg, strlen(msg), clean, sizeof(clean));
	j = json_pack("{s:{s:s,s:s}}", "error", "code", operr_code(e), "message", clean);
	body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (body && !lws_add_http_common_headers(wsi, (unsigned int)operr_http(e), "application/json",
						 (lws_filepos_t)strlen(body), &p, end) &&
	    !lws_add_http_header_by_name(wsi, (const unsigned char *)"connection:",
					 (const unsigned char *)"close", 5, &p, end) &&
	    !lws_finalize_http_header(wsi, &p, end) && (size_t)(end - p) > strlen(body)) {
		memcpy(p, body, strlen(body));
		p += strlen(body);
		/* lws writes the status line with the request's version, which
		 * it has not parsed yet for an upgrade: HTTP/1.0, and strict
		 * clients (python3-websockets) refuse a 1.0 answer to a 1.1
		 * upgrade. An upgrade is HTTP/1.1 by definition (RFC 6455). */
		if (p - start > 9 && !memcmp(start, "HTTP/1.0 ", 9))
			memcpy(start, "HTTP/1.1 ", 9);
		/* One write: headers and body; the connection closes after. */
		lws_write(wsi, start, (size_t)(p - start), LWS_WRITE_HTTP_FINAL);
	}
	free(body);
	return 1;
}

static enum http_method method_of(struct lws *wsi, char *uri, size_t cap)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (lws_hdr_total_length(wsi, methods[i].tok) > 0) {
			int n = lws_hdr_copy(wsi, uri, (int)cap, methods[i].tok);

			/* Too long, or a decoded %00 that would cut the path. */
			if (n < 0 || strlen(uri) != (size_t)n)
				uri[0] = '\0';
			return methods[i].m;
		}
	}
	uri[0] = '\0';
	return HM_OTHER;
}

static int64_t content_length(struct lws *wsi, int *chunked)
{
	char v[32];
	int n;

	*chunked = 0;
	n = lws_hdr_copy(wsi, v, sizeof(v), WSI_TOKEN_HTTP_TRANSFER_ENCODING);
	if (n > 0 && strcasestr(v, "chunked"))
		*chunked = 1;
	n = lws_hdr_copy(wsi, v, sizeof(v), WSI_TOKEN_HTTP_CONTENT_LENGTH);
	if (n <= 0)
		return 0;
	return strtoll(v, NULL, 10);
}

static void run_handler(struct http_req *r)
{
	r->handled = 1;
	if (r->body_over) {
		http_error(r, OPERR_TOO_LARGE, "the body is over the limit of %zu bytes",
			   r->body_limit);
		r->close_after = 1;
		return;
	}
	r->call_live = 1;
	rest_handle(r);
}

/* A new request: route it and check auth before any body arrives. */
static int on_request(struct http_req *r, struct lws *wsi, struct srv *srv)
{
	char id[64] = "";
	struct op_auth auth;
	enum operr rc;
	int chunked;
	int64_t clen;

	if (r->srv) {
		reset(r);
	} else {
		memset(r, 0, sizeof(*r));
		r->stream_fd = -1;
	}
	r->srv = srv;
	r->wsi = wsi;
	r->active = 1;
	r->method = method_of(wsi, r->path, sizeof(r->path));
	clen = content_length(wsi, &chunked);
	rc = rest_route(r->path, r->method, &r->route, id, sizeof(id));
	snprintf(r->id, sizeof(r->id), "%s", id);
	r->body_limit = r->route && rest_route_file_body(r->route) ? srv->cfg.max_file
								  : srv->cfg.max_body;
	if (r->path[0] == '\0')
		rc = OPERR_BAD_REQUEST;
	if (rc == OPERR_OK && r->route) {
		rest_auth(r, &auth);
		if (!rest_route_allowed(r->route, &auth, id[0] ? id : NULL))
			rc = auth.scope == OPS_NONE ? OPERR_UNAUTHORIZED : OPERR_FORBIDDEN;
	}
	if (rc == OPERR_OK && srv->stopping)
		rc = OPERR_UNAVAILABLE;
	if (rc == OPERR_OK && clen > (int64_t)r->body_limit)
		rc = OPERR_TOO_LARGE;
	if (rc != OPERR_OK) {
		/* Answer now, unread body or not, and close: reading a body we
		 * refuse would only let a client make us spend time on it. */
		r->handled = 1;
		r->close_after = clen > 0 || chunked;
		switch (rc) {
		case OPERR_UNAUTHORIZED:
			http_error(r, rc, "missing or wrong API token (Authorization: Bearer TOKEN)");
			break;
		case OPERR_FORBIDDEN:
			http_error(r, rc, "this token may not use %s", r->path);
			break;
		case OPERR_METHOD_NOT_ALLOWED:
			http_error(r, rc, "this route does not take that method");
			break;
		case OPERR_TOO_LARGE:
			http_error(r, rc, "the body is over the limit of %zu bytes", r->body_limit);
			break;
		case OPERR_BAD_REQUEST:
			http_error(r, rc, "the request path is too long or holds a NUL byte");
			break;
		case OPERR_UNAVAILABLE:
			http_error(r, rc, "the server is shutting down");
			break;
		default:
			http_error(r, OPERR_NOT_FOUND, "no such route: %s", r->path);
			break;
		}
		return 0;
	}
	if (clen > 0 || chunked) {
		/* The body follows in LWS_CALLBACK_HTTP_BODY. */
		if (clen > 0) {
			r->body = malloc((size_t)clen);
			if (!r->body) {
				http_error(r, OPERR_INTERNAL, "out of memory");
				r->close_after = 1;
				r->handled = 1;
				return 0;
			}
			r->body_cap = (size_t)clen;
		}
		return 0;
	}
	run_handler(r);
	return 0;
}

static void on_body(struct http_req *r, const char *in, size_t len)
{
	if (r->handled || r->body_over)
		return;
	if (r->body_len + len > r->body_limit) {
		r->body_over = 1;
		return;
	}
	if (r->body_len + len > r->body_cap) {
		size_t cap = r->body_cap ? r->body_cap * 2 : 65536;
		char *nb;

		while (cap < r->body_len + len)
			cap *= 2;
		nb = realloc(r->body, cap);
		if (!nb) {
			r->body_over = 1;
			return;
		}
		r->body = nb;
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, in, len);
	r->body_len += len;
}

static int write_headers(struct http_req *r)
{
	unsigned char buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start,
		*end = buf + sizeof(buf) - 1;
	uint64_t len = r->stream_fd >= 0 ? r->stream_len : r->resp_len;

	if (lws_add_http_common_headers(r->wsi, (unsigned int)r->status, r->ctype,
					(lws_filepos_t)len, &p, end) ||
	    lws_add_http_header_by_name(r->wsi, (const unsigned char *)"cache-control:",
					(const unsigned char *)"no-store", 8, &p, end))
		return -1;
	if (r->etag[0] &&
	    lws_add_http_header_by_name(r->wsi, (const unsigned char *)"etag:",
					(const unsigned char *)r->etag, (int)strlen(r->etag), &p, end))
		return -1;
	for (int i = 0; i < r->nxhdr; i++)
		if (lws_add_http_header_by_name(r->wsi, (const unsigned char *)r->xhdr[i].name,
						(const unsigned char *)r->xhdr[i].value,
						(int)strlen(r->xhdr[i].value), &p, end))
			return -1;
	/* A 503 (shutting down, draining, not ready) is temporary: another
	 * server behind the same name may take the call now. */
	if (r->status == 503 &&
	    lws_add_http_header_by_name(r->wsi, (const unsigned char *)"retry-after:",
					(const unsigned char *)"1", 1, &p, end))
		return -1;
	if (r->close_after &&
	    lws_add_http_header_by_name(r->wsi, (const unsigned char *)"connection:",
					(const unsigned char *)"close", 5, &p, end))
		return -1;
	if (lws_finalize_write_http_header(r->wsi, start, &p, end))
		return -1;
	r->headers_sent = 1;
	return 0;
}

/* Returns 1 when the whole body has been written. */
static int write_body_chunk(struct http_req *r)
{
	unsigned char buf[LWS_PRE + CHUNK];
	size_t n;

	if (r->stream_fd >= 0) {
		uint64_t left = r->stream_len - r->stream_off;
		ssize_t got;

		if (left == 0)
			return 1;
		n = left < CHUNK ? (size_t)left : CHUNK;
		got = pread(r->stream_fd, buf + LWS_PRE, n, (off_t)r->stream_off);
		if (got <= 0)
			return -1; /* the file shrank: we promised a length, so drop */
		n = (size_t)got;
		r->stream_off += n;
		left -= n;
		if (lws_write(r->wsi, buf + LWS_PRE, n, left ? LWS_WRITE_HTTP : LWS_WRITE_HTTP_FINAL) < (int)n)
			return -1;
		return left == 0;
	}
	if (r->resp_off >= r->resp_len)
		return 1;
	n = r->resp_len - r->resp_off;
	if (n > CHUNK)
		n = CHUNK;
	memcpy(buf + LWS_PRE, r->resp + r->resp_off, n);
	r->resp_off += n;
	if (lws_write(r->wsi, buf + LWS_PRE, n,
		      r->resp_off == r->resp_len ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) < (int)n)
		return -1;
	return r->resp_off == r->resp_len;
}

/*
 * Write the next piece of the answer. Returns 0 when more is to come (a
 * writeable callback is asked for), 1 when the transaction is over and
 * handed back to lws (which may free or reuse r at once: do not touch it
 * again), -1 to close the connection.
 */
static int write_step(struct http_req *r)
{
	struct lws *wsi = r->wsi;
	int done;

	if (!r->active || !r->resp_ready)
		return 1;
	if (!r->headers_sent) {
		if (write_headers(r))
			return -1;
		if ((r->stream_fd >= 0 ? r->stream_len : r->resp_len) > 0 &&
		    r->method != HM_HEAD && r->status != 204 && r->status != 304) {
			lws_callback_on_writable(wsi);
			return 0;
		}
		done = 1;
	} else {
		done = write_body_chunk(r);
		if (done < 0)
			return -1;
		if (!done) {
			lws_callback_on_writable(wsi);
			return 0;
		}
	}
	if (r->close_after)
		return -1;
	reset(r);
	r->srv = srv_of(wsi);
	return lws_http_transaction_completed(wsi) ? -1 : 1;
}

static int on_writeable(struct http_req *r)
{
	return write_step(r) < 0 ? -1 : 0;
}

/*
 * An answer ready while lws is still in the request's own callback goes out
 * at once, headers and body, and the transaction completes there: waiting
 * for a writeable callback instead stalls pipelined requests (lws does not
 * offer POLLOUT while it holds unparsed input of the next request).
 */
static int flush_now(struct http_req *r)
{
	struct lws *wsi = r->wsi;

	for (;;) {
		int rc = write_step(r);

		if (rc != 0)
			return rc < 0 ? -1 : 0;
		if (lws_partial_buffered(wsi))
			return 0;  /* the socket is full: the rest in WRITEABLE */
	}
}

int http_lws_callback(struct lws *wsi, enum lws_callback_reasons reason,
		      void *user, void *in, size_t len)
{
	struct http_req *r = user;
	struct srv *srv = srv_of(wsi);

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		if (on_request(r, wsi, srv))
			return -1;
		return r->resp_ready ? flush_now(r) : 0;
	case LWS_CALLBACK_HTTP_BODY:
		on_body(r, in, len);
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (!r->handled)
			run_handler(r);
		/* The answer may take a while (exec): no lws timeout applies. */
		lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
		return r->resp_ready ? flush_now(r) : 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return on_writeable(r);
	case LWS_CALLBACK_CLOSED_HTTP:
		if (r && r->srv)
			reset(r);
		return 0;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
		char uri[1024];
		int view_only, n = lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI);
		enum operr e;

		/* Refuse the upgrade unless the token opens this sandbox, with
		 * an HTTP status and the JSON error a client can read. */
		if (n < 0 || strlen(uri) != (size_t)n)
			return http_refuse_upgrade(wsi, OPERR_BAD_REQUEST, "the path holds a NUL byte");
		if (srv->stopping)
			return http_refuse_upgrade(wsi, OPERR_UNAVAILABLE, "the server is shutting down");
		e = ws_authorize(srv, wsi, uri, &view_only);
		return e == OPERR_OK ? 0 : http_refuse_upgrade(wsi, e, "cannot open %s", uri);
	}
	case LWS_CALLBACK_ESTABLISHED:
	case LWS_CALLBACK_RECEIVE:
	case LWS_CALLBACK_SERVER_WRITEABLE:
	case LWS_CALLBACK_CLOSED:
		return ws_callback(wsi, reason, r, in, len);
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}
