/*
 * fuzz_desktopentry.c - libFuzzer target for common/desktopentry.c.
 *
 * One input is a .desktop file a sandbox user could write: parsed, and when
 * accepted its Exec line turned into an argv with a URI and arguments, and
 * its name checked as a MIME target. What comes back must be within the
 * module's bounds: lists of at most DESKTOPENTRY_MAX_LIST, values of at most
 * DESKTOPENTRY_MAX_VALUE, an argv whose first word is not empty-vector.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "desktopentry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const args[] = {"--a", "b c", NULL};
	struct desktopentry e;
	char err[256], **argv, *target;
	size_t n = 0;

	if (desktopentry_parse((const char *)data, size, &e, err, sizeof err) < 0) {
		CHECK(err[0]);
		goto target;
	}
	CHECK(e.categories && e.mime);
	while (e.categories[n])
		n++;
	CHECK(n <= DESKTOPENTRY_MAX_LIST);
	CHECK(!e.exec || strlen(e.exec) <= DESKTOPENTRY_MAX_VALUE);
	argv = desktopentry_argv(&e, "file:///home/user/a%20b.pdf", args, "/x.desktop", err, sizeof err);
	if (argv) {
		CHECK(argv[0]);
		desktopentry_argv_free(argv);
	} else {
		CHECK(err[0]);
	}
	desktopentry_free(&e);
target:
	/* The same bytes as an open target. */
	target = malloc(size + 1);
	if (!target)
		return 0;
	memcpy(target, data, size);
	target[size] = 0;
	CHECK(desktopentry_mime_of(target, 0) != NULL);
	free(desktopentry_file_path(target));
	(void)desktopentry_id_ok(target);
	free(target);
	return 0;
}
