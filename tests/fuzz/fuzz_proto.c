/*
 * fuzz_proto.c - libFuzzer target for the channel payload decoders
 * (common/proto.c). The sandbox side of the channel is hostile: one input is
 * one payload, decoded as SPAWN and as OPEN. What decodes must point inside
 * the input and pack back to the very same bytes. Build and run with
 * tests/fuzz/run.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)
#define MAX_STRINGS 64

static int inside(const char *p, const char *buf, size_t len)
{
	return p >= buf && p < buf + len;
}

static void spawn(const char *buf, size_t len)
{
	char *argv[MAX_STRINGS + 1], *envp[MAX_STRINGS + 1], *again;
	struct proto_spawn sp;

	if (proto_unpack_spawn(buf, len, &sp, argv, envp, MAX_STRINGS))
		return;
	CHECK(sp.argc >= 1 && sp.argc <= MAX_STRINGS && sp.envc <= MAX_STRINGS);
	CHECK(!sp.argv[sp.argc] && !sp.envp[sp.envc]);
	for (size_t i = 0; i < sp.argc; i++)
		CHECK(inside(sp.argv[i], buf, len));
	for (size_t i = 0; i < sp.envc; i++)
		CHECK(inside(sp.envp[i], buf, len));
	CHECK(inside(sp.cwd, buf, len));
	again = malloc(len);
	CHECK(again);
	CHECK(proto_pack_spawn(again, len, sp.argv, sp.envp, sp.cwd) == (ssize_t)len);
	CHECK(!memcmp(again, buf, len));
	free(again);
}

static void open_(const char *buf, size_t len)
{
	const char *path;
	uint32_t mode;
	char *again;

	if (proto_unpack_open(buf, len, &mode, &path))
		return;
	CHECK(inside(path, buf, len) && path[0]);
	again = malloc(len);
	CHECK(again);
	CHECK(proto_pack_open(again, len, mode, path) == (ssize_t)len);
	CHECK(!memcmp(again, buf, len));
	free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	spawn((const char *)data, size);
	open_((const char *)data, size);
	return 0;
}
