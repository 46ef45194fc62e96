/*
 * op_admin.c - the server's own operations: readiness, metrics, drain.
 *
 * Rows of the operation table like any other (REST: GET /readyz, GET
 * /metrics, POST /v1/admin/drain). Loop thread; nothing here blocks (the
 * metrics text is built in memory and handed over in a sealed memfd).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "drain.h"
#include "metrics.h"
#include "op.h"
#include "single.h"

static void run_ready(struct op_call *c)
{
	char why[128];

	if (!single_ready(c->srv, why, sizeof(why)) || !drain_ready(c->srv, why, sizeof(why)))
		return op_fail(c, OPERR_UNAVAILABLE, "not ready: %s", why);
	op_ok(c, json_pack("{s:s,s:i,s:i}", "status", "ready", "sandboxes", c->srv->nsandboxes - c->srv->pool_size,
			   "max_sandboxes", c->srv->cfg.max_sandboxes));
}

static void run_metrics(struct op_call *c)
{
	size_t len = 0;
	char *text = metrics_render(c->srv, &len);
	int fd;

	if (!text)
		return op_fail(c, OPERR_INTERNAL, "out of memory");
	fd = memfd_create("deskbox-metrics", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0) {
		free(text);
		if (fd >= 0)
			close(fd);
		return op_fail(c, OPERR_INTERNAL, "cannot hold the metrics text");
	}
	free(text);
	op_ok_fd(c, "text/plain; version=0.0.4; charset=utf-8", fd, len, NULL);
}

static void run_drain(struct op_call *c)
{
	struct srv *srv = c->srv;

	drain_begin(srv, 0, "asked through the API");
	op_ok(c, json_pack("{s:b,s:i}", "draining", 1, "sandboxes", srv->nsandboxes - srv->pool_size));
}

#define NO_PARAMS "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}"

const struct op op_admin_rows[] = {
	{ "server.ready", "Readiness: 200 while the server can take a new sandbox (not draining, "
	  "under --max-sandboxes; in single-sandbox mode, once its desktop is up), else 503.",
	  NO_PARAMS, OPF_PUBLIC, run_ready },
	{ "server.metrics", "The server's metrics in the Prometheus text format.",
	  NO_PARAMS, OPF_PUBLIC | OPF_BIN_OUT, run_metrics },
	{ "server.drain", "Stop taking sandboxes (creates get 503 with Retry-After, /readyz fails) "
	  "and keep serving the ones held. SIGTERM does the same, then exits once they are gone "
	  "or --drain-grace has passed.",
	  NO_PARAMS, 0, run_drain },
	{ NULL, NULL, NULL, 0, NULL },
};
