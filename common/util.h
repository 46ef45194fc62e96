/*
 * util.h - small pure helpers shared by deskboxd, the agent and the tests:
 * ids and tokens, lexical path normalization, UTF-8 repair.
 */
#ifndef DESKBOX_UTIL_H
#define DESKBOX_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ID_BYTES 16                 /* 128 random bits */
#define ID_LEN (ID_BYTES * 2)       /* lowercase hex */

/* Hex-encode n bytes into out (2n+1 bytes with the NUL). */
void id_format(const uint8_t *bytes, size_t n, char *out);

/* The value of one hex digit (either case), or -1. */
int hex_digit(int c);

/* 1 if s is exactly ID_LEN lowercase hex digits. */
int id_valid(const char *s);

/* Compare a presented token with the real one in time that depends only on
 * the real token's length. 1 if equal. */
int token_equal(const char *presented, size_t plen, const char *real);

/*
 * Normalize path against base ("/home/user" for relative paths): collapse
 * "//", "." and ".." lexically (".." at the root stays at the root). out gets
 * an absolute path with no trailing '/'. Returns 0, or -1 if the input is
 * empty, has a NUL or control byte, or the result does not fit in cap.
 */
int path_normalize(const char *base, const char *in, char *out, size_t cap);

/*
 * Copy len bytes of src into dst (cap >= 3 * len + 1) replacing each invalid
 * UTF-8 sequence with U+FFFD. NUL bytes are valid UTF-8 and are kept, so use
 * the returned length (not strlen) for the output. dst is NUL-terminated.
 */
size_t utf8_repair(const char *src, size_t len, char *dst, size_t cap);

/*
 * The body of a JSON string (no quotes) for len bytes of src, as utf8_repair
 * then a JSON encoder would give it, in one pass: invalid UTF-8 becomes
 * U+FFFD; '"', '\\' and control characters are escaped (\n, \t, ... or
 * \u00XX). dst needs room for 6 * len + 1 bytes; it is NUL-terminated.
 * Returns the length written. For streaming output, where jansson's
 * per-character encoder was the cost.
 */
size_t json_escape_utf8(const char *src, size_t len, char *dst);

/* Base64 (RFC 4648, padded) of n bytes into out (4 * ((n + 2) / 3) + 1). */
size_t base64_encode(const uint8_t *in, size_t n, char *out);

/* Decode n characters of base64 (padding optional; no whitespace) into out
 * (room for n / 4 * 3 + 3 bytes). Returns the byte count, or -1 when in is
 * not base64. */
ssize_t base64_decode(const char *in, size_t n, uint8_t *out);

/*
 * Match a URL path against a route pattern whose '*' segments match any one
 * non-empty segment; the first '*' segment is copied to id (idlen bytes).
 * A '{name}' segment matches any non-empty one too (the caller reads it).
 * A query string ('?...') in path is ignored. Returns 1 on a match.
 */
int route_match(const char *pattern, const char *path, char *id, size_t idlen);

#endif
