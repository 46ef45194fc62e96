/*
 * fuzz_netpolicy.c - libFuzzer target for common/netpolicy.c.
 *
 * The input is split at the first NUL: the head is a policy (JSON), the
 * rest a host name, a port and an address to judge, or hosts-file text.
 * Whatever parses must survive a JSON round trip unchanged, and a verdict
 * must never allow a non-public address that no address entry covers.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "netpolicy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static void judge(const struct netpolicy *p, const char *tail, size_t tl)
{
	char name[NETPOLICY_MAX_NAME + 1];
	struct netpolicy_verdict v;
	struct netaddr a;
	int port;

	if (tl < 19)
		return;
	port = ((uint8_t)tail[0] << 8 | (uint8_t)tail[1]) % 65536;
	memset(&a, 0, sizeof(a));
	a.family = tail[2] & 1 ? AF_INET6 : AF_INET;
	memcpy(a.a, tail + 3, 16);
	if (a.family == AF_INET)
		memset(a.a + 4, 0, 12);
	if (netpolicy_name_norm(tail + 19, tl - 19, name) == 0) {
		netpolicy_check_name(p, name, port, &v);
		CHECK(!v.allow || v.rule[0]);
		if (!v.allow)
			return;
	} else {
		name[0] = '\0';
	}
	netpolicy_check_addr(p, name[0] ? name : NULL, port, &a, tail[2] & 2, NULL, 0, &v);
	if (v.allow && netpolicy_special(&a) && !(tail[2] & 2)) {
		/* only an address entry may have allowed it */
		int covered = 0;

		for (size_t i = 0; i < p->nallow; i++)
			covered |= p->allow[i].kind == NETPOLICY_CIDR && !strcmp(p->allow[i].text, v.rule);
		CHECK(covered);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nul = memchr(data, 0, size);
	size_t hl = nul ? (size_t)(nul - (const char *)data) : size;
	json_t *j = json_loadb((const char *)data, hl, JSON_DECODE_ANY, NULL);
	struct netpolicy p, q;
	struct netpolicy_hosts h;
	char err[512], *text;

	if (j && netpolicy_parse(j, &p, err, sizeof(err)) == 0) {
		json_t *out = netpolicy_json(&p);

		CHECK(out && netpolicy_parse(out, &q, err, sizeof(err)) == 0);
		CHECK(q.nallow == p.nallow && q.ndeny == p.ndeny);
		for (size_t i = 0; i < p.nallow; i++)
			CHECK(!strcmp(p.allow[i].text, q.allow[i].text));
		json_decref(out);
		netpolicy_free(&q);
		if (nul)
			judge(&p, nul + 1, size - hl - 1);
		netpolicy_free(&p);
	} else if (j) {
		CHECK(err[0]);
	}
	json_decref(j);
	text = malloc(size + 1);
	if (text) {
		memcpy(text, data, size);
		text[size] = '\0';
		if (netpolicy_hosts_parse(text, &h, err, sizeof(err)) == 0)
			netpolicy_hosts_free(&h);
		free(text);
	}
	return 0;
}
