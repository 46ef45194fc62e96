/*
 * b64enc.h - standard base64 (RFC 4648, with padding) for images inlined in
 * action results (pure).
 */
#ifndef DESKTOP_B64ENC_H
#define DESKTOP_B64ENC_H

#include <stddef.h>
#include <stdint.h>

/* Characters b64enc writes for n bytes, without the NUL. */
size_t b64enc_len(size_t n);

/* Encode n bytes of in into out (b64enc_len(n) + 1 bytes, NUL-terminated). */
void b64enc(const uint8_t *in, size_t n, char *out);

#endif
