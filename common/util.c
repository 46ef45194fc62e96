/*
 * util.c - ids, token comparison, path normalization, UTF-8 repair, base64.
 * Pure functions; see util.h for contracts.
 */
#include "util.h"

#include <string.h>

void id_format(const uint8_t *bytes, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[bytes[i] >> 4];
		out[2 * i + 1] = hex[bytes[i] & 15];
	}
	out[2 * n] = '\0';
}

int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int id_valid(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");

	return n == ID_LEN && s[n] == '\0';
}

int token_equal(const char *presented, size_t plen, const char *real)
{
	size_t rlen = strlen(real);
	unsigned char diff = plen != rlen;

	for (size_t i = 0; i < rlen; i++)
		diff |= (unsigned char)(real[i] ^ (i < plen ? presented[i] : 0));
	return rlen > 0 && diff == 0;
}

int path_normalize(const char *base, const char *in, char *out, size_t cap)
{
	size_t o = 0;
	const char *parts[2] = { in[0] == '/' ? "" : base, in };

	if (in[0] == '\0' || cap < 2)
		return -1;
	for (const char *c = in; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return -1;
	out[0] = '\0';
	for (int k = 0; k < 2; k++) {
		const char *p = parts[k];

		while (*p) {
			size_t n;

			while (*p == '/')
				p++;
			n = strcspn(p, "/");
			if (n == 0)
				break;
			if (n == 1 && p[0] == '.') {
				/* stay */
			} else if (n == 2 && p[0] == '.' && p[1] == '.') {
				while (o > 0 && out[o - 1] != '/')
					o--;
				if (o > 0)
					o--;
				out[o] = '\0';
			} else {
				if (o + 1 + n + 1 > cap)
					return -1;
				out[o++] = '/';
				memcpy(out + o, p, n);
				o += n;
				out[o] = '\0';
			}
			p += n;
		}
	}
	if (o == 0) {
		out[0] = '/';
		out[1] = '\0';
	}
	return 0;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned min, cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * One step over s[*i..len): copies the valid sequence there to dst, or writes
 * U+FFFD for the one byte that starts none (resynchronising at the next).
 * Advances *i; returns the bytes written (1 to 4). The one place that decides
 * what is valid, so utf8_repair and json_escape_utf8 always agree.
 */
static size_t utf8_copy_one(const unsigned char *s, size_t len, size_t *i,
			    char *dst)
{
	size_t n = utf8_seq(s + *i, len - *i);

	if (n == 0) {
		memcpy(dst, "\xef\xbf\xbd", 3);
		(*i)++;
		return 3;
	}
	memcpy(dst, s + *i, n);
	*i += n;
	return n;
}

size_t utf8_repair(const char *src, size_t len, char *dst, size_t cap)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0;

	while (i < len && o + 4 <= cap)
		o += utf8_copy_one(s, len, &i, dst + o);
	dst[o] = '\0';
	return o;
}

size_t json_escape_utf8(const char *src, size_t len, char *dst)
{
	static const char hex[] = "0123456789ABCDEF";   /* as jansson writes */
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, o = 0;

	while (i < len) {
		unsigned c = s[i];

		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			dst[o++] = (char)c;
			i++;
		} else if (c < 0x80) {
			dst[o++] = '\\';
			switch (c) {
			case '"': dst[o++] = '"'; break;
			case '\\': dst[o++] = '\\'; break;
			case '\n': dst[o++] = 'n'; break;
			case '\t': dst[o++] = 't'; break;
			case '\r': dst[o++] = 'r'; break;
			case '\b': dst[o++] = 'b'; break;
			case '\f': dst[o++] = 'f'; break;
			default:
				memcpy(dst + o, "u00", 3);
				dst[o + 3] = hex[c >> 4];
				dst[o + 4] = hex[c & 15];
				o += 5;
			}
			i++;
		} else {
			o += utf8_copy_one(s, len, &i, dst + o);
		}
	}
	dst[o] = '\0';
	return o;
}

size_t base64_encode(const uint8_t *in, size_t n, char *out)
{
	static const char t[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0, i = 0;

	for (; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = t[v >> 18];
		out[o++] = t[(v >> 12) & 63];
		out[o++] = t[(v >> 6) & 63];
		out[o++] = t[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);

		out[o++] = t[v >> 18];
		out[o++] = t[(v >> 12) & 63];
		out[o++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

int route_match(const char *pattern, const char *path, char *id, size_t idlen)
{
	const char *p = pattern, *u = path;
	int got_id = 0;

	while (*p && *u && *u != '?') {
		if (*p == '{') {
			/* A named segment: any non-empty one. */
			size_t n = strcspn(u, "/?"), k = strcspn(p, "}");

			if (n == 0 || p[k] != '}')
				return 0;
			u += n;
			p += k + 1;
			continue;
		}
		if (*p == '*') {
			size_t n = strcspn(u, "/?");

			if (n == 0)
				return 0;
			if (!got_id && id) {
				if (n >= idlen)
					return 0;
				memcpy(id, u, n);
				id[n] = '\0';
				got_id = 1;
			}
			u += n;
			p++;
			continue;
		}
		if (*p != *u)
			return 0;
		p++;
		u++;
	}
	/* A trailing '/' on the path is forgiven. */
	if (*u == '/' && (u[1] == '\0' || u[1] == '?'))
		u++;
	return *p == '\0' && (*u == '\0' || *u == '?');
}

ssize_t base64_decode(const char *in, size_t n, uint8_t *out)
{
	uint32_t v = 0;
	size_t o = 0, bits = 0, pad = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)in[i];
		int d;

		if (ch >= 'A' && ch <= 'Z')
			d = ch - 'A';
		else if (ch >= 'a' && ch <= 'z')
			d = ch - 'a' + 26;
		else if (ch >= '0' && ch <= '9')
			d = ch - '0' + 52;
		else if (ch == '+')
			d = 62;
		else if (ch == '/')
			d = 63;
		else if (ch == '=' && i + 2 >= n && n % 4 == 0) {
			pad++;
			continue;
		} else
			return -1;
		if (pad)
			return -1;   /* data after padding */
		v = v << 6 | (uint32_t)d;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(v >> bits);
		}
	}
	/* Leftover bits must be zero padding of a valid length. */
	if (bits >= 6 || (v & ((1u << bits) - 1)) || (pad && (n % 4 || (n / 4 * 3 - pad) != o)))
		return -1;
	return (ssize_t)o;
}
