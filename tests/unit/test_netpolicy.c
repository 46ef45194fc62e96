/*
 * test_netpolicy.c - cmocka tests of common/netpolicy.c: entry syntax and
 * normalization, deny over allow, names resolved only when listed, the
 * non-public ranges judged on the address connected to (DNS rebinding,
 * IPv4-mapped IPv6), the host's own addresses, and the --egress-hosts map.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "netpolicy.h"

/* Parse a policy from JSON text; fails the test if it does not parse. */
static void policy(struct netpolicy *p, const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	char err[512] = "";

	assert_non_null(j);
	if (netpolicy_parse(j, p, err, sizeof(err)))
		fail_msg("policy %s: %s", text, err);
	json_decref(j);
}

static void refused(const char *text, const char *want)
{
	json_error_t je;
	json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	struct netpolicy p;
	char err[512] = "";

	assert_non_null(j);
	assert_int_equal(netpolicy_parse(j, &p, err, sizeof(err)), -1);
	if (!strstr(err, want))
		fail_msg("%s: '%s' does not say '%s'", text, err, want);
	json_decref(j);
}

static void entry_text(const char *in, const char *want)
{
	struct netpolicy_entry e;
	char err[512] = "";

	if (netpolicy_entry_parse(in, &e, err, sizeof(err)))
		fail_msg("entry %s: %s", in, err);
	assert_string_equal(e.text, want);
}

static void test_entries_normalize(void **state)
{
	entry_text("Example.COM.", "example.com");
	entry_text("example.com:443", "example.com:443");
	entry_text("*.PyPI.org", "*.pypi.org");
	entry_text("*", "*");
	entry_text("*:443", "*:443");
	entry_text("203.0.113.7", "203.0.113.7");
	entry_text("10.1.2.3/8", "10.0.0.0/8");
	entry_text("10.1.2.3/8:22", "10.0.0.0/8:22");
	entry_text("2001:db8::1", "2001:db8::1");
	entry_text("[2001:db8::1]:443", "[2001:db8::1]:443");
	entry_text("[2001:db8:ffff::/32]:443", "[2001:db8::/32]:443");
	entry_text("2001:DB8::/32", "2001:db8::/32");
	entry_text("0.0.0.0/0", "0.0.0.0/0");
}

static void test_bad_entries(void **state)
{
	refused("{\"allow\": [\"exa mple.com\"]}", "network.allow[0]");
	refused("{\"allow\": [\"ok.com\", \"a..b\"]}", "network.allow[1]");
	refused("{\"allow\": [\"a.com:0\"]}", "port must be from 1 to 65535");
	refused("{\"allow\": [\"a.com:65536\"]}", "port");
	refused("{\"allow\": [\"a.com:+1\"]}", "port");
	refused("{\"allow\": [\"a.com:\"]}", "port");
	refused("{\"deny\": [\"10.0.0.0/33\"]}", "prefix length");
	refused("{\"deny\": [\"10.0.0.0/\"]}", "CIDR");
	refused("{\"deny\": [\"::1/129\"]}", "prefix length");
	refused("{\"allow\": [\"*.\"]}", "wildcard");
	refused("{\"allow\": [\"**.a.com\"]}", "network.allow[0]");
	refused("{\"allow\": [\"a*.com\"]}", "network.allow[0]");
	refused("{\"allow\": [\"[::1\"]}", "without ']'");
	refused("{\"allow\": [\"[::1]x\"]}", "only :PORT");
	refused("{\"allow\": [\"\"]}", "needs a host");
	refused("{\"allow\": [\"a\\u0000b.com\"]}", "must be a string");
	refused("{\"allow\": [1]}", "network.allow[0] must be a string");
	refused("{\"allow\": \"a.com\"}", "network.allow must be an array");
	refused("{\"alow\": []}", "did you mean network.allow");
	refused("{\"max_connections\": 0}", "max_connections");
	refused("{\"max_connections\": 100000}", "max_connections");
	refused("{\"bandwidth_bytes_per_s\": -1}", "bandwidth_bytes_per_s");
	refused("[]", "network must be an object");
	{
		/* 64-byte labels and over-long names are not names */
		char text[400];

		snprintf(text, sizeof(text), "{\"allow\": [\"%064d.com\"]}", 0);
		refused(text, "network.allow[0]");
	}
}

static void test_too_many_entries(void **state)
{
	json_t *arr = json_array(), *obj;
	struct netpolicy p;
	char err[256];

	for (int i = 0; i <= NETPOLICY_MAX_ENTRIES; i++)
		json_array_append_new(arr, json_string("a.com"));
	obj = json_pack("{s:o}", "allow", arr);
	assert_int_equal(netpolicy_parse(obj, &p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more than 256"));
	json_decref(obj);
}

static void addr(struct netaddr *a, const char *s)
{
	assert_int_equal(netpolicy_addr_parse(s, a), 0);
}

/* The verdict for a connection to name (NULL: the literal) at address s. */
static int allowed(const struct netpolicy *p, const char *name, int port, const char *s,
		   int reachable, const char **why, char *rule)
{
	struct netpolicy_verdict v;
	struct netaddr a;

	if (name) {
		netpolicy_check_name(p, name, port, &v);
		if (!v.allow)
			goto out;
	}
	addr(&a, s);
	netpolicy_check_addr(p, name, port, &a, reachable, NULL, 0, &v);
out:
	if (why)
		*why = v.why;
	if (rule)
		strcpy(rule, v.rule);
	return v.allow;
}

static void test_names_and_wildcards(void **state)
{
	struct netpolicy p;
	const char *why;
	char rule[NETPOLICY_MAX_TEXT];

	policy(&p, "{\"allow\": [\"example.com\", \"*.pypi.org:443\"]}");
	assert_true(allowed(&p, "example.com", 80, "93.184.216.34", 0, NULL, rule));
	assert_string_equal(rule, "example.com");
	assert_true(allowed(&p, "files.pypi.org", 443, "151.101.0.223", 0, NULL, rule));
	assert_string_equal(rule, "*.pypi.org:443");
	assert_true(allowed(&p, "a.b.pypi.org", 443, "151.101.0.223", 0, NULL, NULL));
	/* the wildcard needs a label in front, and its port */
	assert_false(allowed(&p, "pypi.org", 443, "151.101.0.223", 0, &why, NULL));
	assert_string_equal(why, "not in the allow list");
	assert_false(allowed(&p, "files.pypi.org", 80, "151.101.0.223", 0, NULL, NULL));
	assert_false(allowed(&p, "xpypi.org", 443, "151.101.0.223", 0, NULL, NULL));
	assert_false(allowed(&p, "example.com.evil.net", 80, "1.2.3.4", 0, NULL, NULL));
	/* a listed name does not make its literal address listed */
	assert_false(allowed(&p, NULL, 80, "93.184.216.34", 0, NULL, NULL));
	netpolicy_free(&p);
}

static void test_deny_wins(void **state)
{
	struct netpolicy p;
	const char *why;
	char rule[NETPOLICY_MAX_TEXT];

	policy(&p, "{\"allow\": [\"*\"], \"deny\": [\"*.evil.net\", \"1.2.3.0/24\", \"*:25\"]}");
	assert_true(allowed(&p, "good.org", 443, "8.8.8.8", 0, NULL, rule));
	assert_string_equal(rule, "*");
	assert_false(allowed(&p, "x.evil.net", 443, "8.8.8.8", 0, &why, rule));
	assert_string_equal(rule, "*.evil.net");
	assert_string_equal(why, "denied by a deny entry");
	/* a name resolving into a denied block */
	assert_false(allowed(&p, "good.org", 443, "1.2.3.4", 0, NULL, rule));
	assert_string_equal(rule, "1.2.3.0/24");
	assert_false(allowed(&p, NULL, 443, "1.2.3.4", 0, NULL, NULL));
	/* "*:25" in deny: no mail by name or by address */
	assert_false(allowed(&p, "mx.good.org", 25, "8.8.8.8", 0, NULL, NULL));
	assert_false(allowed(&p, NULL, 25, "8.8.8.8", 0, NULL, NULL));
	netpolicy_free(&p);
	/* deny beats an explicit address allow too */
	policy(&p, "{\"allow\": [\"10.0.0.0/8\"], \"deny\": [\"10.9.0.0/16\"]}");
	assert_true(allowed(&p, NULL, 80, "10.1.0.1", 0, NULL, NULL));
	assert_false(allowed(&p, NULL, 80, "10.9.0.1", 0, NULL, NULL));
	netpolicy_free(&p);
}

static void test_empty_policy_allows_nothing(void **state)
{
	struct netpolicy p;
	const char *why;

	assert_int_equal(netpolicy_parse(NULL, &p, NULL, 0), 0);
	assert_false(allowed(&p, "example.com", 80, "93.184.216.34", 0, &why, NULL));
	assert_string_equal(why, "this sandbox has no network egress");
	assert_false(allowed(&p, NULL, 80, "93.184.216.34", 0, NULL, NULL));
	assert_int_equal(p.max_conns, NETPOLICY_DEFAULT_CONNS);
	netpolicy_free(&p);
}

static void test_special_addresses_need_an_address_entry(void **state)
{
	static const char *const never[] = {
		"127.0.0.1", "127.255.0.1", "10.0.0.1", "172.16.5.4", "172.31.255.255",
		"192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1",
		"255.255.255.255", "::1", "::", "fe80::1", "fd00::1", "fc00::1", "ff02::1",
		"::ffff:127.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a9fe:a9fe",
		"2002:7f00:1::1", "::127.0.0.1",
	};
	static const char *const public[] = { "8.8.8.8", "172.32.0.1", "2606:4700::1111",
					      "::ffff:8.8.8.8", "100.128.0.1" };
	struct netpolicy p;
	const char *why;

	policy(&p, "{\"allow\": [\"*\"]}");
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
		/* by name (a rebinding answer) and as a literal */
		if (allowed(&p, "rebind.example", 80, never[i], 0, &why, NULL))
			fail_msg("%s reached through a name", never[i]);
		assert_non_null(why);
		if (allowed(&p, NULL, 80, never[i], 0, NULL, NULL))
			fail_msg("%s reached as a literal under *", never[i]);
	}
	for (size_t i = 0; i < sizeof(public) / sizeof(public[0]); i++)
		if (!allowed(&p, "ok.example", 80, public[i], 0, NULL, NULL))
			fail_msg("public %s refused", public[i]);
	assert_false(allowed(&p, "x.example", 80, "169.254.169.254", 0, &why, NULL));
	assert_non_null(strstr(why, "link-local"));
	netpolicy_free(&p);

	/* an explicit address or block is the way in, by name or literal */
	policy(&p, "{\"allow\": [\"db.internal\", \"10.0.0.0/8:5432\", \"127.0.0.1\"]}");
	assert_true(allowed(&p, "db.internal", 5432, "10.1.2.3", 0, NULL, NULL));
	assert_false(allowed(&p, "db.internal", 22, "10.1.2.3", 0, NULL, NULL));
	assert_true(allowed(&p, NULL, 5432, "10.9.9.9", 0, NULL, NULL));
	assert_true(allowed(&p, NULL, 8080, "127.0.0.1", 0, NULL, NULL));
	assert_true(allowed(&p, NULL, 8080, "::ffff:127.0.0.1", 0, NULL, NULL));
	assert_false(allowed(&p, NULL, 8080, "127.0.0.2", 0, NULL, NULL));
	netpolicy_free(&p);
}

static void test_hosts_map_marks_reachable_but_not_link_local(void **state)
{
	struct netpolicy p;
	struct netpolicy_hosts h;
	struct netaddr out[4];
	char err[256];

	assert_int_equal(netpolicy_hosts_parse("# test\n127.0.0.1 a.test B.test\n\n"
					       "169.254.169.254 meta.test # cloud\n::1 a.test\n",
					       &h, err, sizeof(err)), 0);
	assert_int_equal(netpolicy_hosts_lookup(&h, "a.test", out, 4), 2);
	assert_int_equal(netpolicy_hosts_lookup(&h, "b.test", out, 4), 1);
	assert_int_equal(netpolicy_hosts_lookup(&h, "c.test", out, 4), 0);
	policy(&p, "{\"allow\": [\"*\"]}");
	assert_true(allowed(&p, "a.test", 80, "127.0.0.1", 1, NULL, NULL));
	assert_false(allowed(&p, "meta.test", 80, "169.254.169.254", 1, NULL, NULL));
	assert_false(allowed(&p, "a.test", 80, "127.0.0.1", 0, NULL, NULL));
	netpolicy_free(&p);
	netpolicy_hosts_free(&h);
	assert_int_equal(netpolicy_hosts_parse("localhost 127.0.0.1\n", &h, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 1"));
	assert_int_equal(netpolicy_hosts_parse("1.2.3.4 bad_name!\n", &h, err, sizeof(err)), -1);
}

static void test_own_addresses(void **state)
{
	struct netpolicy p;
	struct netpolicy_verdict v;
	struct netaddr own[1], a;

	policy(&p, "{\"allow\": [\"*\"]}");
	addr(&own[0], "198.51.100.200");
	addr(&own[0], "93.184.216.99");
	addr(&a, "93.184.216.99");
	netpolicy_check_addr(&p, "me.example", 80, &a, 0, own, 1, &v);
	assert_false(v.allow);
	assert_string_equal(v.why, "an address of the host itself");
	addr(&a, "93.184.216.98");
	netpolicy_check_addr(&p, "me.example", 80, &a, 0, own, 1, &v);
	assert_true(v.allow);
	netpolicy_free(&p);
}

static void test_json_round_trip(void **state)
{
	struct netpolicy p, q;
	json_t *j;
	char err[256];

	policy(&p, "{\"allow\": [\"A.com:80\", \"[::1]:22\"], \"deny\": [\"10.2.3.4/8\"],"
		   " \"max_connections\": 5, \"bandwidth_bytes_per_s\": 1000}");
	j = netpolicy_json(&p);
	assert_int_equal(netpolicy_parse(j, &q, err, sizeof(err)), 0);
	assert_int_equal(q.nallow, 2);
	assert_string_equal(q.allow[0].text, "a.com:80");
	assert_string_equal(q.allow[1].text, "[::1]:22");
	assert_string_equal(q.deny[0].text, "10.0.0.0/8");
	assert_int_equal(q.max_conns, 5);
	assert_int_equal(q.bandwidth, 1000);
	json_decref(j);
	netpolicy_free(&p);
	netpolicy_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entries_normalize),
		cmocka_unit_test(test_bad_entries),
		cmocka_unit_test(test_too_many_entries),
		cmocka_unit_test(test_names_and_wildcards),
		cmocka_unit_test(test_deny_wins),
		cmocka_unit_test(test_empty_policy_allows_nothing),
		cmocka_unit_test(test_special_addresses_need_an_address_entry),
		cmocka_unit_test(test_hosts_map_marks_reachable_but_not_link_local),
		cmocka_unit_test(test_own_addresses),
		cmocka_unit_test(test_json_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
