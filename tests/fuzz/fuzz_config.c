/*
 * fuzz_config.c - libFuzzer target for deskboxd's settings
 * (common/config.c): the config file's text and the command line.
 *
 * The input is applied as a config file, then split at NULs into an argv
 * and applied as flags. Whatever is accepted leaves every string
 * terminated within its field and every number within the key's range;
 * every refusal says why.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)
#define MAX_ARGS 32
#define TERMINATED(f) CHECK(memchr(c->f, 0, sizeof(c->f)))

static void check_config(const struct config *c)
{
	TERMINATED(listen_host);
	TERMINATED(state_dir);
	TERMINATED(token);
	TERMINATED(images_dir);
	TERMINATED(web_dir);
	TERMINATED(config_file);
	TERMINATED(egress_hosts);
	TERMINATED(advertise_url);
	TERMINATED(pool_shapes);
	TERMINATED(single);
	TERMINATED(activity_url);
	TERMINATED(activity_id);
	TERMINATED(activity_namespace);
	CHECK(c->listen_port >= 0 && c->listen_port <= 65535);
	CHECK(c->max_sandboxes >= 1 && c->max_sandboxes <= 100000);
	CHECK(c->limits.memory_mb >= 16 && c->limits.pids >= 8 && c->limits.cpu >= 0.01);
	CHECK(c->limits.disk_mb >= 1 && c->limits.nofile >= 16);
	CHECK(c->max_width >= 64 && c->max_width <= 16384);
	CHECK(c->max_height >= 64 && c->max_height <= 16384);
	CHECK(c->max_body >= 1024 && c->exec_timeout_ms >= 1);
	CHECK(c->pool >= 0 && c->pool <= 10000);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *argv[MAX_ARGS + 2], err[8192];
	struct config *c = malloc(sizeof(*c));
	int argc = 1, r;

	CHECK(text && c);
	memcpy(text, data, size);
	text[size] = '\0';
	config_defaults(c);
	err[0] = '\0';
	if (config_parse_file(c, text, err, sizeof(err)) == 0)
		check_config(c);
	else
		CHECK(!strncmp(err, "line ", 5));
	/* The same bytes as arguments, NUL-separated. */
	argv[0] = "deskboxd";
	for (size_t off = 0; off < size && argc <= MAX_ARGS; off += strlen(text + off) + 1)
		argv[argc++] = text + off;
	argv[argc] = NULL;
	config_file_arg(argc, argv);
	config_defaults(c);
	err[0] = '\0';
	r = config_parse_args(c, argc, argv, err, sizeof(err));
	if (r == 0)
		check_config(c);
	else
		CHECK(err[0]);
	free(c);
	free(text);
	return 0;
}
