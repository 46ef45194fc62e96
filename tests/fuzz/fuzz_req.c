/*
 * fuzz_req.c - libFuzzer target for the REST body parsers (common/req.c).
 *
 * One input is one request body, fed to each of req_parse_create,
 * req_parse_exec and req_parse_timeout. Whatever a parser accepts is checked
 * against the ranges the server relies on; every rejection must say why.
 * Build and run with tests/fuzz/run.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static void check_env(const struct req_env *env)
{
	CHECK(env->n <= REQ_MAX_ENV);
	for (size_t i = 0; i < env->n; i++) {
		const char *eq = strchr(env->v[i], '=');

		CHECK(eq && eq != env->v[i]);
	}
	CHECK(!env->v || !env->v[env->n]);
}

static void check_create(const struct req_create *c)
{
	size_t n = strlen(c->rootfs);

	CHECK(c->timeout_s >= 0 && c->timeout_s <= 365L * 86400);
	CHECK(c->limits.memory_mb >= 16 && c->limits.memory_mb <= 1L << 22);
	CHECK(c->limits.pids >= 8 && c->limits.pids <= 1L << 22);
	CHECK(c->limits.cpu >= 0.01 && c->limits.cpu <= 4096);
	CHECK(c->limits.disk_mb >= 1 && c->limits.disk_mb <= 1L << 24);
	CHECK(c->limits.nofile >= 16 && c->limits.nofile <= 1L << 20);
	CHECK(n > 0 && n < sizeof(c->rootfs) && c->rootfs[0] != '.' && !strchr(c->rootfs, '/'));
	CHECK(c->desktop >= -1 && c->desktop <= 1);
	CHECK(c->width >= 64 && c->width <= 16384 && c->height >= 64 && c->height <= 16384);
	for (size_t i = 0; c->apps && c->apps[i]; i++)
		CHECK(i < 64);
	check_env(&c->env);
}

static void check_exec(const struct req_exec *x)
{
	CHECK(x->argv && x->argv[0] && x->argv[0][0]);
	CHECK(x->timeout_ms >= 1 && x->timeout_ms <= 86400000);
	CHECK(!x->cwd || (x->cwd[0] && strlen(x->cwd) < 4096));
	/* JSON strings here never hold a NUL, so stdin is a C string too. */
	CHECK(!x->stdin_data || strlen(x->stdin_data) == x->stdin_len);
	check_env(&x->env);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct limits defaults = LIMITS_DEFAULT;
	const char *body = (const char *)data;
	struct req_create c;
	struct req_exec x;
	char err[256];
	long t = -7;

	err[0] = '\0';
	if (req_parse_create(body, size, &defaults, 3600, &c, err, sizeof(err)) == REQ_OK) {
		check_create(&c);
		req_create_free(&c);
	} else {
		CHECK(err[0] && !c.env.v && !c.apps);
	}
	err[0] = '\0';
	if (req_parse_exec(body, size, 60000, &x, err, sizeof(err)) == REQ_OK) {
		check_exec(&x);
		req_exec_free(&x);
	} else {
		CHECK(err[0] && !x.argv && !x.env.v && !x.cwd && !x.stdin_data);
	}
	err[0] = '\0';
	if (req_parse_timeout(body, size, &t, err, sizeof(err)) == REQ_OK)
		CHECK(t >= 0 && t <= 365L * 86400);
	else
		CHECK(err[0] && t == -7);
	return 0;
}
