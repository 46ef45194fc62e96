/*
 * op_network.c - operations on a sandbox's network egress: read and
 * replace its policy, read its connection log (docs/network.md).
 *
 * Rows only: the work is egress.c's. Loop thread only.
 */
#include <string.h>

#include "egress.h"
#include "op.h"
#include "sandbox.h"

static void run_get(struct op_call *c)
{
	op_ok(c, egress_json(c->sb));
}

static void run_set(struct op_call *c)
{
	char err[512];
	int r = egress_set_policy(c->sb, c->params, err, sizeof(err));

	if (r == -1)
		return op_fail(c, OPERR_BAD_REQUEST, "%s", err);
	if (r < 0)
		return op_fail(c, OPERR_INTERNAL, "%s", err);
	op_ok(c, egress_json(c->sb));
}

static void run_log(struct op_call *c)
{
	long after = 0;

	if (op_param_int(c, "after", 0, 1L << 62, &after) < 0)
		return;
	op_ok(c, egress_log_json(c->sb, (uint64_t)after));
}

#define SANDBOX_PARAM "\"sandbox\":{\"type\":\"string\",\"description\":\"the sandbox's id\"}"
#define ENTRIES(what) "{\"type\":\"array\",\"maxItems\":256,\"items\":{\"type\":\"string\"}," \
	"\"description\":\"" what ": host names, *.wildcards, IPs, CIDRs or *, each with an " \
	"optional :port\"}"

const struct op op_network_rows[] = {
	{ "network.get", "The sandbox's egress policy, and counters of its connections.",
	  "{\"type\":\"object\",\"required\":[\"sandbox\"],\"additionalProperties\":false,"
	  "\"properties\":{" SANDBOX_PARAM "}}",
	  OPF_SANDBOX, run_get },
	{ "network.set", "Replace the sandbox's egress policy; open connections it denies are cut.",
	  "{\"type\":\"object\",\"required\":[\"sandbox\"],\"additionalProperties\":false,"
	  "\"properties\":{" SANDBOX_PARAM ",\"allow\":" ENTRIES("allowed destinations") ","
	  "\"deny\":" ENTRIES("denied destinations (deny wins)") ","
	  "\"max_connections\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":4096,\"default\":256},"
	  "\"bandwidth_bytes_per_s\":{\"type\":\"integer\",\"minimum\":0,"
	  "\"description\":\"each way, for the whole sandbox; 0 = no cap\"}}}",
	  OPF_SANDBOX | OPF_RUNNING, run_set },
	{ "network.log", "The sandbox's recent connections (the last 1000): host, port, address, "
	  "verdict and rule, bytes each way, duration.",
	  "{\"type\":\"object\",\"required\":[\"sandbox\"],\"additionalProperties\":false,"
	  "\"properties\":{" SANDBOX_PARAM ",\"after\":{\"type\":\"integer\",\"minimum\":0,"
	  "\"description\":\"only records with a larger seq\"}}}",
	  OPF_SANDBOX, run_log },
	{ NULL, NULL, NULL, 0, NULL },
};
