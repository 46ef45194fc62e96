/*
 * cli_net.c - HTTP/1.1 and WebSocket client for the deskbox CLI (see
 * cli_net.h). Blocking sockets, one request per connection; no globals.
 */
#include "cli_net.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

int cli_net_parse_url(const char *s, struct cli_net_url *u, char *err, size_t cap)
{
	const char *h, *end, *colon;
	size_t n;

	if (strncmp(s, "http://", 7)) {
		snprintf(err, cap, "the URL must start with http:// (got %s)", s);
		return -1;
	}
	h = s + 7;
	end = h + strcspn(h, "/");
	if (*h == '[') {
		const char *rb = memchr(h, ']', (size_t)(end - h));

		if (!rb)
			goto bad;
		n = (size_t)(rb - h - 1);
		if (n >= sizeof(u->host))
			goto bad;
		memcpy(u->host, h + 1, n);
		u->host[n] = '\0';
		colon = rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		n = (size_t)((colon ? colon : end) - h);
		if (!n || n >= sizeof(u->host))
			goto bad;
		memcpy(u->host, h, n);
		u->host[n] = '\0';
	}
	if (colon) {
		n = (size_t)(end - colon - 1);
		if (!n || n >= sizeof(u->port) || strspn(colon + 1, "0123456789") < n)
			goto bad;
		memcpy(u->port, colon + 1, n);
		u->port[n] = '\0';
	} else {
		snprintf(u->port, sizeof(u->port), "80");
	}
	return 0;
bad:
	snprintf(err, cap, "cannot read the URL %s", s);
	return -1;
}

static int net_connect(const struct cli_net_url *u, char *err, size_t cap)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *a;
	int fd = -1, rc = getaddrinfo(u->host, u->port, &hints, &res);

	if (rc) {
		snprintf(err, cap, "cannot resolve %s: %s", u->host, gai_strerror(rc));
		return -1;
	}
	for (a = res; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd >= 0) {
		/* A frame's header and payload go in separate writes: without this,
		 * Nagle holds the payload for the server's delayed ACK (~40 ms). */
		int one = 1;

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	if (fd < 0)
		snprintf(err, cap, "cannot connect to %s:%s: %s", u->host, u->port, strerror(errno));
	return fd;
}

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, void *p, size_t n)
{
	char *c = p;

	while (n) {
		ssize_t r = read(fd, c, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

/* The value of header name (lowercase, no colon) in the head, into out. */
static void header_value(const char *head, const char *name, char *out, size_t cap)
{
	const char *p = head;
	size_t n = strlen(name);

	out[0] = '\0';
	while ((p = strstr(p, "\r\n"))) {
		p += 2;
		if (!strncasecmp(p, name, n) && p[n] == ':') {
			const char *v = p + n + 1, *e;

			v += strspn(v, " \t");
			e = strstr(v, "\r\n");
			snprintf(out, cap, "%.*s", (int)(e ? e - v : (long)strlen(v)), v);
			return;
		}
	}
}

static int send_head(int fd, const struct cli_net_url *u, const char *token, const char *method,
		     const char *path, const char *hdrs, size_t len, int has_body)
{
	char *head;
	int n, rc;

	n = asprintf(&head, "%s %s HTTP/1.1\r\nHost: %s:%s\r\n%s%s%s%sConnection: close\r\n",
		     method, path, u->host, u->port, token ? "Authorization: Bearer " : "",
		     token ? token : "", token ? "\r\n" : "", hdrs ? hdrs : "");
	if (n < 0)
		return -1;
	rc = write_all(fd, head, (size_t)n);
	free(head);
	if (rc == 0 && has_body) {
		char cl[64];

		n = snprintf(cl, sizeof(cl), "Content-Length: %zu\r\n", len);
		rc = write_all(fd, cl, (size_t)n);
	}
	return rc ? -1 : write_all(fd, "\r\n", 2);
}

int cli_net_http(const struct cli_net_url *u, const char *token, const char *method, const char *path,
		 const char *hdrs, const char *body, size_t len, struct cli_net_resp *out, char *err,
		 size_t cap)
{
	int fd = net_connect(u, err, cap);
	size_t used = 0, room = 65536;
	char *buf, *sep;

	memset(out, 0, sizeof(*out));
	if (fd < 0)
		return -1;
	if (send_head(fd, u, token, method, path, hdrs, len, body != NULL) < 0 ||
	    (body && write_all(fd, body, len) < 0)) {
		snprintf(err, cap, "cannot send the request: %s", strerror(errno));
		close(fd);
		return -1;
	}
	buf = malloc(room + 1);
	for (;;) {
		ssize_t r;

		if (!buf)
			break;
		if (used == room) {
			char *nb = realloc(buf, room * 2 + 1);

			if (!nb)
				break;
			buf = nb;
			room *= 2;
		}
		r = read(fd, buf + used, room - used);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		used += (size_t)r;
	}
	close(fd);
	if (!buf) {
		snprintf(err, cap, "out of memory");
		return -1;
	}
	buf[used] = '\0';
	sep = strstr(buf, "\r\n\r\n");
	if (!sep || sscanf(buf, "HTTP/1.%*d %d", &out->status) != 1) {
		snprintf(err, cap, "the server sent no HTTP answer");
		free(buf);
		return -1;
	}
	*sep = '\0';
	header_value(buf, "content-type", out->ctype, sizeof(out->ctype));
	header_value(buf, "mcp-session-id", out->session, sizeof(out->session));
	out->len = used - (size_t)(sep + 4 - buf);
	out->body = malloc(out->len + 1);
	if (out->body) {
		memcpy(out->body, sep + 4, out->len);
		out->body[out->len] = '\0';
	}
	free(buf);
	return out->body ? 0 : -1;
}

int cli_net_ws_open(const struct cli_net_url *u, const char *token, const char *path, const char *proto,
		    char *err, size_t cap)
{
	uint8_t rnd[16];
	char key[32], hdrs[256], head[4096];
	size_t used = 0;
	int fd, status = 0;

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -1;
	key[base64_encode(rnd, sizeof(rnd), key)] = '\0';
	fd = net_connect(u, err, cap);
	if (fd < 0)
		return -1;
	snprintf(hdrs, sizeof(hdrs), "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
		 "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Protocol: %s\r\n", key, proto);
	/* send_head says Connection: close; an upgrade needs Upgrade. */
	{
		char *req;
		int n = asprintf(&req, "GET %s HTTP/1.1\r\nHost: %s:%s\r\nAuthorization: Bearer %s\r\n%s"
				 "Connection: Upgrade\r\n\r\n", path, u->host, u->port, token ? token : "", hdrs);

		if (n < 0 || write_all(fd, req, (size_t)n) < 0) {
			if (n >= 0)
				free(req);
			snprintf(err, cap, "cannot send the upgrade");
			close(fd);
			return -1;
		}
		free(req);
	}
	/* The head, byte by byte: what follows it is the first frame. */
	while (used + 1 < sizeof(head)) {
		if (read_all(fd, head + used, 1) < 0)
			break;
		used++;
		if (used >= 4 && !memcmp(head + used - 4, "\r\n\r\n", 4))
			break;
	}
	head[used] = '\0';
	if (sscanf(head, "HTTP/1.%*d %d", &status) != 1 || status != 101) {
		snprintf(err, cap, "%d", status ? status : -1);
		close(fd);
		return -1;
	}
	return fd;
}

int cli_net_ws_send(int fd, int opcode, const char *data, size_t len)
{
	uint8_t hdr[14], mask[4];
	size_t n = 0;
	char *masked;
	int rc;

	if (getrandom(mask, sizeof(mask), 0) != sizeof(mask))
		return -1;
	hdr[n++] = (uint8_t)(0x80 | opcode);
	if (len < 126) {
		hdr[n++] = (uint8_t)(0x80 | len);
	} else if (len < 65536) {
		hdr[n++] = 0x80 | 126;
		hdr[n++] = (uint8_t)(len >> 8);
		hdr[n++] = (uint8_t)len;
	} else {
		hdr[n++] = 0x80 | 127;
		for (int i = 7; i >= 0; i--)
			hdr[n++] = (uint8_t)((uint64_t)len >> (8 * i));
	}
	memcpy(hdr + n, mask, 4);
	n += 4;
	masked = malloc(len ? len : 1);
	if (!masked)
		return -1;
	for (size_t i = 0; i < len; i++)
		masked[i] = (char)(data[i] ^ mask[i & 3]);
	rc = write_all(fd, hdr, n) < 0 || write_all(fd, masked, len) < 0 ? -1 : 0;
	free(masked);
	return rc;
}

int cli_net_ws_recv(int fd, char **data, size_t *len)
{
	char *msg = NULL;
	size_t used = 0;
	int opcode = 0;

	for (;;) {
		uint8_t h[2], ext[8];
		uint64_t n;
		int op, fin;
		char *frame, *nm;

		if (read_all(fd, h, 2) < 0)
			goto fail;
		fin = h[0] & 0x80;
		op = h[0] & 0x0f;
		n = h[1] & 0x7f;
		if (n == 126) {
			if (read_all(fd, ext, 2) < 0)
				goto fail;
			n = (uint64_t)ext[0] << 8 | ext[1];
		} else if (n == 127) {
			if (read_all(fd, ext, 8) < 0)
				goto fail;
			n = 0;
			for (int i = 0; i < 8; i++)
				n = n << 8 | ext[i];
		}
		if (n > (1u << 30) || (h[1] & 0x80))
			goto fail;   /* servers never mask */
		frame = malloc(n + 1);
		if (!frame || read_all(fd, frame, n) < 0) {
			free(frame);
			goto fail;
		}
		if (op == 8) {   /* close */
			free(frame);
			free(msg);
			return 0;
		}
		if (op == 9) {   /* ping */
			cli_net_ws_send(fd, 10, frame, n);
			free(frame);
			continue;
		}
		if (op == 10) {
			free(frame);
			continue;
		}
		if (op)
			opcode = op;
		nm = realloc(msg, used + n + 1);
		if (!nm) {
			free(frame);
			goto fail;
		}
		msg = nm;
		memcpy(msg + used, frame, n);
		used += n;
		msg[used] = '\0';
		free(frame);
		if (fin) {
			*data = msg;
			*len = used;
			return opcode;
		}
	}
fail:
	free(msg);
	return -1;
}

void cli_net_escape(const char *s, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s && o + 4 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~/", c)) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}
