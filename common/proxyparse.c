/*
 * proxyparse.c - HTTP proxy request heads and SOCKS5 requests (see
 * proxyparse.h). Pure; strict where leniency would let a client make the
 * proxy and the origin disagree about a request (obsolete line folding, bare
 * CR, a NUL, an authority with userinfo).
 */
#include "proxyparse.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

__attribute__((format(printf, 3, 4)))
static enum proxyparse_result bad(struct proxyparse_http *h, int status, const char *fmt, ...)
{
	va_list ap;

	h->status = status;
	va_start(ap, fmt);
	vsnprintf(h->why, sizeof(h->why), fmt, ap);
	va_end(ap);
	return PROXYPARSE_ERROR;
}

/* host[:port] or [v6][:port] of length n into h; default port dport. */
static int authority(const char *s, size_t n, int dport, struct proxyparse_http *h)
{
	const char *hs = s, *he, *colon = NULL;
	size_t hl;

	if (memchr(s, '@', n))
		return -1;
	if (n && s[0] == '[') {
		const char *rb = memchr(s, ']', n);

		if (!rb)
			return -1;
		hs = s + 1;
		he = rb;
		if (rb + 1 < s + n) {
			if (rb[1] != ':')
				return -1;
			colon = rb + 1;
		}
	} else {
		colon = memchr(s, ':', n);
		he = colon ? colon : s + n;
	}
	hl = (size_t)(he - hs);
	if (hl == 0 || hl > PROXYPARSE_MAX_HOST)
		return -1;
	for (size_t i = 0; i < hl; i++)
		if (!isalnum((unsigned char)hs[i]) && !strchr(".-_:", hs[i]))
			return -1;
	memcpy(h->host, hs, hl);
	h->host[hl] = '\0';
	h->port = dport;
	if (colon) {
		long p = 0;
		size_t pl = (size_t)(s + n - colon - 1);

		if (pl == 0 || pl > 5)
			return -1;
		for (size_t i = 0; i < pl; i++) {
			if (!isdigit((unsigned char)colon[1 + i]))
				return -1;
			p = p * 10 + (colon[1 + i] - '0');
		}
		if (p < 1 || p > 65535)
			return -1;
		h->port = (int)p;
	}
	return 0;
}

/* Headers a proxy must not forward (hop-by-hop or meant for us), and Host,
 * which is rewritten from the URI so the origin sees what was checked. */
static int dropped_header(const char *line, size_t n)
{
	static const char *const names[] = {
		"proxy-connection", "proxy-authorization", "connection", "keep-alive",
		"host", "te", "upgrade", "proxy-authenticate",
	};
	const char *colon = memchr(line, ':', n);
	size_t nl = colon ? (size_t)(colon - line) : n;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == nl && !strncasecmp(line, names[i], nl))
			return 1;
	return 0;
}

static int append(char *out, size_t cap, size_t *pos, const char *s, size_t n)
{
	if (*pos + n > cap)
		return -1;
	memcpy(out + *pos, s, n);
	*pos += n;
	return 0;
}

enum proxyparse_result proxyparse_http(const char *buf, size_t len, struct proxyparse_http *h,
				       char *out, size_t cap, size_t *out_len)
{
	const char *end = NULL, *p, *sp1, *sp2, *eol, *target;
	size_t scan = len < PROXYPARSE_MAX_HEAD ? len : PROXYPARSE_MAX_HEAD, tl, pos = 0;
	char hostline[PROXYPARSE_MAX_HOST + 32];

	memset(h, 0, sizeof(*h));
	*out_len = 0;
	/* The blank line ends the head; LF alone is accepted as a line end. */
	for (size_t i = 0; i < scan; i++) {
		if (buf[i] == '\0')
			return bad(h, 400, "a NUL byte in the request head");
		if (buf[i] == '\n' && ((i >= 1 && buf[i - 1] == '\n') ||
				       (i >= 2 && buf[i - 1] == '\r' && buf[i - 2] == '\n'))) {
			end = buf + i + 1;
			break;
		}
	}
	if (!end)
		return len >= PROXYPARSE_MAX_HEAD ?
			bad(h, 431, "the request head is longer than %d bytes", PROXYPARSE_MAX_HEAD) :
			PROXYPARSE_MORE;
	h->head_len = (size_t)(end - buf);
	eol = memchr(buf, '\n', h->head_len);
	sp1 = memchr(buf, ' ', (size_t)(eol - buf));
	if (!sp1 || sp1 == buf)
		return bad(h, 400, "a malformed request line");
	for (p = buf; p < sp1; p++)
		if (*p < 'A' || *p > 'Z')
			return bad(h, 400, "a malformed method");
	target = sp1 + 1;
	sp2 = memchr(target, ' ', (size_t)(eol - target));
	if (!sp2 || sp2 == target)
		return bad(h, 400, "a malformed request line");
	tl = (size_t)(sp2 - target);
	{
		size_t vl = (size_t)(eol - sp2 - 1) - (eol[-1] == '\r');

		if (vl != 8 || strncmp(sp2 + 1, "HTTP/1.", 7) || (sp2[8] != '0' && sp2[8] != '1'))
			return bad(h, 400, "not an HTTP/1.x request");
	}
	/* Bare CR, obsolete folding: refuse rather than guess. */
	for (p = eol + 1; p < end; ) {
		const char *le = memchr(p, '\n', (size_t)(end - p));
		size_t ll = (size_t)(le - p) - (le > p && le[-1] == '\r');

		if (ll && (p[0] == ' ' || p[0] == '\t'))
			return bad(h, 400, "folded header lines are not accepted");
		if (memchr(p, '\r', ll))
			return bad(h, 400, "a bare CR in a header");
		if (ll && !memchr(p, ':', ll))
			return bad(h, 400, "a header line without ':'");
		p = le + 1;
	}
	if ((size_t)(sp1 - buf) == 7 && !strncmp(buf, "CONNECT", 7)) {
		h->connect = 1;
		if (authority(target, tl, 0, h) || h->port == 0)
			return bad(h, 400, "CONNECT needs host:port");
		return PROXYPARSE_OK;
	}
	if (tl >= 8 && !strncasecmp(target, "https://", 8))
		return bad(h, 400, "use CONNECT for https:// URLs");
	if (tl < 7 || strncasecmp(target, "http://", 7))
		return bad(h, 400, "a proxy request needs an absolute http:// URI or CONNECT");
	{
		const char *auth = target + 7, *path = auth;
		size_t al;

		while (path < sp2 && *path != '/' && *path != '?')
			path++;
		al = (size_t)(path - auth);
		if (authority(auth, al, 80, h))
			return bad(h, 400, "a malformed host in the URI");
		if (append(out, cap, &pos, buf, (size_t)(sp1 - buf) + 1) ||
		    (path == sp2 ? append(out, cap, &pos, "/", 1) : 0) ||
		    (path < sp2 && *path == '?' ? append(out, cap, &pos, "/", 1) : 0) ||
		    append(out, cap, &pos, path, (size_t)(sp2 - path)) ||
		    append(out, cap, &pos, sp2, 9) || append(out, cap, &pos, "\r\n", 2))
			return bad(h, 431, "the request head is too long");
		if (strchr(h->host, ':'))
			snprintf(hostline, sizeof(hostline), "Host: [%s]", h->host);
		else
			snprintf(hostline, sizeof(hostline), "Host: %s", h->host);
		if (h->port != 80)
			snprintf(hostline + strlen(hostline), sizeof(hostline) - strlen(hostline), ":%d", h->port);
		if (append(out, cap, &pos, hostline, strlen(hostline)) || append(out, cap, &pos, "\r\n", 2))
			return bad(h, 431, "the request head is too long");
		for (p = eol + 1; p < end; ) {
			const char *le = memchr(p, '\n', (size_t)(end - p));
			size_t ll = (size_t)(le - p) - (le > p && le[-1] == '\r');

			if (ll && !dropped_header(p, ll) &&
			    (append(out, cap, &pos, p, ll) || append(out, cap, &pos, "\r\n", 2)))
				return bad(h, 431, "the request head is too long");
			p = le + 1;
		}
		if (append(out, cap, &pos, "Connection: close\r\n\r\n", 21))
			return bad(h, 431, "the request head is too long");
	}
	*out_len = pos;
	return PROXYPARSE_OK;
}

enum proxyparse_result proxyparse_socks_greeting(const uint8_t *buf, size_t len, size_t *used,
						 int *noauth)
{
	*noauth = 0;
	*used = 0;
	if (len < 2)
		return len && buf[0] != 5 ? PROXYPARSE_ERROR : PROXYPARSE_MORE;
	if (buf[0] != 5 || buf[1] == 0)
		return PROXYPARSE_ERROR;
	if (len < 2 + (size_t)buf[1])
		return PROXYPARSE_MORE;
	for (size_t i = 0; i < buf[1]; i++)
		if (buf[2 + i] == 0)
			*noauth = 1;
	*used = 2 + (size_t)buf[1];
	return PROXYPARSE_OK;
}

enum proxyparse_result proxyparse_socks_request(const uint8_t *buf, size_t len,
						struct proxyparse_socks *s)
{
	size_t alen;

	memset(s, 0, sizeof(*s));
	s->reply = PROXYPARSE_SOCKS_FAIL;
	if (len >= 1 && buf[0] != 5)
		return PROXYPARSE_ERROR;
	if (len >= 2 && buf[1] != 1) {
		s->reply = PROXYPARSE_SOCKS_CMD_UNSUPPORTED;  /* BIND, UDP ASSOCIATE */
		return PROXYPARSE_ERROR;
	}
	if (len >= 3 && buf[2] != 0)
		return PROXYPARSE_ERROR;
	if (len < 5)
		return PROXYPARSE_MORE;
	switch (buf[3]) {
	case 1:
		alen = 4;
		break;
	case 4:
		alen = 16;
		break;
	case 3:
		alen = 1 + (size_t)buf[4];
		if (buf[4] == 0)
			return PROXYPARSE_ERROR;
		break;
	default:
		s->reply = PROXYPARSE_SOCKS_ATYP_UNSUPPORTED;
		return PROXYPARSE_ERROR;
	}
	if (len < 4 + alen + 2)
		return PROXYPARSE_MORE;
	if (buf[3] == 3) {
		for (size_t i = 0; i < buf[4]; i++)
			if (!buf[5 + i])
				return PROXYPARSE_ERROR;
		memcpy(s->host, buf + 5, buf[4]);
		s->host[buf[4]] = '\0';
		s->is_name = 1;
	} else if (!inet_ntop(buf[3] == 1 ? AF_INET : AF_INET6, buf + 4, s->host, sizeof(s->host))) {
		return PROXYPARSE_ERROR;
	}
	s->port = (buf[4 + alen] << 8) | buf[4 + alen + 1];
	if (s->port == 0)
		return PROXYPARSE_ERROR;
	s->used = 4 + alen + 2;
	s->reply = PROXYPARSE_SOCKS_OK;
	return PROXYPARSE_OK;
}
