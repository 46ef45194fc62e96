/*
 * proxyparse.h - what a program in a sandbox sends to its egress proxy: an
 * HTTP/1.x request head (CONNECT host:port, or an absolute-URI request for
 * plain HTTP) and the SOCKS5 greeting and CONNECT request.
 *
 * Pure: no I/O, no globals; the egress helper, the unit tests and the fuzz
 * target call it. Every byte is untrusted and every size is bounded: a head
 * longer than PROXYPARSE_MAX_HEAD is an error, not a bigger buffer.
 */
#ifndef DESKBOX_PROXYPARSE_H
#define DESKBOX_PROXYPARSE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROXYPARSE_MAX_HEAD 16384   /* request line + headers */
#define PROXYPARSE_MAX_HOST 255

enum proxyparse_result {
	PROXYPARSE_MORE = 0,   /* incomplete: read more (if the bound allows) */
	PROXYPARSE_OK = 1,
	PROXYPARSE_ERROR = -1, /* answer with the status/reply code given, close */
};

struct proxyparse_http {
	int connect;                         /* 1: CONNECT; 0: plain request */
	char host[PROXYPARSE_MAX_HOST + 1];  /* name or literal, no brackets */
	int port;
	size_t head_len;                     /* bytes of buf the head took */
	int status;                          /* on error: 400, 405, 431 */
	char why[128];                       /* on error: what was wrong */
};

/*
 * Parse the request head at the start of buf (len bytes). On OK fills h; for
 * a plain request, the head to send to the origin (origin-form request line,
 * Host from the URI, proxy and hop-by-hop headers dropped, Connection:
 * close) goes into out (cap bytes, at least PROXYPARSE_MAX_HEAD + 64) and
 * *out_len. MORE while no blank line has come and len < PROXYPARSE_MAX_HEAD.
 */
enum proxyparse_result proxyparse_http(const char *buf, size_t len, struct proxyparse_http *h,
				       char *out, size_t cap, size_t *out_len);

/* SOCKS5 reply codes (RFC 1928). */
#define PROXYPARSE_SOCKS_OK 0
#define PROXYPARSE_SOCKS_FAIL 1
#define PROXYPARSE_SOCKS_NOT_ALLOWED 2
#define PROXYPARSE_SOCKS_HOST_UNREACHABLE 4
#define PROXYPARSE_SOCKS_REFUSED 5
#define PROXYPARSE_SOCKS_CMD_UNSUPPORTED 7
#define PROXYPARSE_SOCKS_ATYP_UNSUPPORTED 8

/* The greeting: VER 5, NMETHODS, METHODS. OK with *used bytes and *noauth
 * set if "no authentication" (0) was offered; ERROR if it is not SOCKS5. */
enum proxyparse_result proxyparse_socks_greeting(const uint8_t *buf, size_t len, size_t *used,
						 int *noauth);

struct proxyparse_socks {
	char host[PROXYPARSE_MAX_HOST + 1];  /* domain name as sent, or literal */
	int port;
	int is_name;                          /* ATYP 3 */
	size_t used;
	int reply;                            /* on error: the reply code */
};

/* The request: VER 5, CMD 1 (CONNECT), RSV, ATYP, address, port. */
enum proxyparse_result proxyparse_socks_request(const uint8_t *buf, size_t len,
						struct proxyparse_socks *s);

#endif
