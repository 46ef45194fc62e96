/*
 * netpolicy.c - egress policy entries, their matching and the non-public
 * address ranges (see netpolicy.h). Pure: every input is untrusted text.
 */
#include "netpolicy.h"

#include "fields.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int netpolicy_name_norm(const char *in, size_t len, char *out)
{
	size_t label = 0;

	if (len && in[len - 1] == '.')
		len--;
	if (len == 0 || len > NETPOLICY_MAX_NAME)
		return -1;
	for (size_t i = 0; i < len; i++) {
		char c = (char)tolower((unsigned char)in[i]);

		if (c == '.') {
			if (label == 0)
				return -1;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
			if (++label > 63)
				return -1;
		} else {
			return -1;
		}
		out[i] = c;
	}
	if (label == 0)
		return -1;
	out[len] = '\0';
	return 0;
}

int netpolicy_addr_parse(const char *s, struct netaddr *a)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, s, a->a) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a->a) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	return -1;
}

void netpolicy_addr_format(const struct netaddr *a, char *out, size_t cap)
{
	if (!inet_ntop(a->family == AF_INET ? AF_INET : AF_INET6, a->a, out, (socklen_t)cap))
		snprintf(out, cap, "?");
}

/* 1 if the first bits of x and y agree. */
static int prefix_eq(const uint8_t *x, const uint8_t *y, int bits)
{
	int bytes = bits / 8, rest = bits % 8;

	if (memcmp(x, y, (size_t)bytes))
		return 0;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));

		return (x[bytes] & mask) == (y[bytes] & mask);
	}
	return 1;
}

/* An IPv6 address that stands for an IPv4 one (mapped, NAT64, compatible
 * 6to4) gets judged as that IPv4 address: a sandbox must not reach
 * 127.0.0.1 as ::ffff:127.0.0.1. */
static int embedded_v4(const struct netaddr *a, struct netaddr *v4)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const uint8_t nat64[12] = { 0, 0x64, 0xff, 0x9b };
	static const uint8_t compat[12] = { 0 };

	if (a->family != AF_INET6)
		return 0;
	memset(v4, 0, sizeof(*v4));
	v4->family = AF_INET;
	if (!memcmp(a->a, mapped, 12) || !memcmp(a->a, nat64, 12) || !memcmp(a->a, compat, 12)) {
		memcpy(v4->a, a->a + 12, 4);
		return 1;
	}
	if (a->a[0] == 0x20 && a->a[1] == 0x02) {   /* 6to4: 2002:AABB:CCDD::/48 */
		memcpy(v4->a, a->a + 2, 4);
		return 1;
	}
	return 0;
}

struct range {
	int family;
	uint8_t net[16];
	int bits;
	const char *why;
};

static const struct range special[] = {
	{ AF_INET, { 0 }, 8, "a reserved address (0.0.0.0/8)" },
	{ AF_INET, { 10 }, 8, "a private address" },
	{ AF_INET, { 100, 64 }, 10, "a shared (CGNAT) address" },
	{ AF_INET, { 127 }, 8, "a loopback address" },
	{ AF_INET, { 169, 254 }, 16, "a link-local address (cloud metadata lives here)" },
	{ AF_INET, { 172, 16 }, 12, "a private address" },
	{ AF_INET, { 192, 0, 0 }, 24, "a reserved address (192.0.0.0/24)" },
	{ AF_INET, { 192, 0, 2 }, 24, "a documentation address" },
	{ AF_INET, { 192, 168 }, 16, "a private address" },
	{ AF_INET, { 198, 18 }, 15, "a benchmarking address" },
	{ AF_INET, { 198, 51, 100 }, 24, "a documentation address" },
	{ AF_INET, { 203, 0, 113 }, 24, "a documentation address" },
	{ AF_INET, { 224 }, 4, "a multicast address" },
	{ AF_INET, { 240 }, 4, "a reserved address (240.0.0.0/4)" },
	{ AF_INET6, { 0 }, 127, "an unspecified or loopback address" },
	{ AF_INET6, { 0xfc }, 7, "a private (unique local) address" },
	{ AF_INET6, { 0xfe, 0x80 }, 10, "a link-local address" },
	{ AF_INET6, { 0xfe, 0xc0 }, 10, "a site-local address" },
	{ AF_INET6, { 0xff }, 8, "a multicast address" },
	{ AF_INET6, { 0x20, 0x01, 0x0d, 0xb8 }, 32, "a documentation address" },
	{ AF_INET6, { 0x01, 0x00 }, 64, "a discard-only address" },
};

const char *netpolicy_special(const struct netaddr *a)
{
	struct netaddr v4;

	if (embedded_v4(a, &v4) && memcmp(v4.a, "\0\0\0\0", 4) && netpolicy_special(&v4))
		return netpolicy_special(&v4);
	for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++)
		if (special[i].family == a->family && prefix_eq(a->a, special[i].net, special[i].bits))
			return special[i].why;
	return NULL;
}

static int is_link_local(const struct netaddr *a)
{
	static const struct netaddr ll4 = { AF_INET, { 169, 254 } }, ll6 = { AF_INET6, { 0xfe, 0x80 } };
	struct netaddr v4;

	if (embedded_v4(a, &v4))
		a = &v4;
	return a->family == AF_INET ? prefix_eq(a->a, ll4.a, 16) : prefix_eq(a->a, ll6.a, 10);
}

/* Split "host:port" / "[v6]:port" / "v6"; host is copied into out. */
static int split_port(const char *entry, char *out, size_t cap, int *port, char *err, size_t errlen)
{
	const char *text = entry, *colon = NULL, *end = text + strlen(text);
	size_t hl;

	*port = 0;
	if (text[0] == '[') {
		const char *rb = strchr(text, ']');

		if (!rb)
			return fail(err, errlen, "'%s': a '[' without ']'", entry);
		if (rb[1] == ':')
			colon = rb + 1;
		else if (rb[1])
			return fail(err, errlen, "'%s': only :PORT may follow ']'", entry);
		text++;
		end = rb;
	} else {
		colon = strchr(text, ':');
		if (colon && strchr(colon + 1, ':'))
			colon = NULL;   /* a bare IPv6 address: no port */
		else if (colon)
			end = colon;
	}
	if (colon) {
		char *e;
		long p = strtol(colon + 1, &e, 10);

		if (!colon[1] || *e || p < 1 || p > 65535 || !isdigit((unsigned char)colon[1]))
			return fail(err, errlen, "'%s': the port must be from 1 to 65535", entry);
		*port = (int)p;
	}
	hl = (size_t)(end - text);
	if (hl == 0 || hl >= cap)
		return fail(err, errlen, "an entry needs a host, address or '*' (at most %zu bytes)", cap - 1);
	memcpy(out, text, hl);
	out[hl] = '\0';
	return 0;
}

int netpolicy_entry_parse(const char *text, struct netpolicy_entry *e, char *err, size_t errlen)
{
	char host[NETPOLICY_MAX_TEXT], port[16] = "";
	char *slash;

	memset(e, 0, sizeof(*e));
	if (strlen(text) >= NETPOLICY_MAX_TEXT)
		return fail(err, errlen, "an entry is at most %d bytes", NETPOLICY_MAX_TEXT - 1);
	if (split_port(text, host, sizeof(host), &e->port, err, errlen))
		return -1;
	if (e->port)
		snprintf(port, sizeof(port), ":%d", e->port);
	slash = strchr(host, '/');
	if (!strcmp(host, "*")) {
		e->kind = NETPOLICY_ANY;
		snprintf(e->text, sizeof(e->text), "*%s", port);
		return 0;
	}
	if (!strncmp(host, "*.", 2)) {
		if (netpolicy_name_norm(host + 2, strlen(host + 2), e->name))
			return fail(err, errlen, "'%s': not a valid wildcard (*.example.com)", text);
		e->kind = NETPOLICY_WILDCARD;
		snprintf(e->text, sizeof(e->text), "*.%s%s", e->name, port);
		return 0;
	}
	if (slash || netpolicy_addr_parse(host, &e->addr) == 0) {
		char a[64], net[80];
		long bits;
		int full;

		if (slash) {
			char *end;

			*slash = '\0';
			bits = strtol(slash + 1, &end, 10);
			if (!slash[1] || *end || !isdigit((unsigned char)slash[1]) ||
			    netpolicy_addr_parse(host, &e->addr))
				return fail(err, errlen, "'%s': not a valid CIDR block", text);
		} else {
			bits = e->addr.family == AF_INET ? 32 : 128;
		}
		full = e->addr.family == AF_INET ? 32 : 128;
		if (bits < 0 || bits > full)
			return fail(err, errlen, "'%s': the prefix length is out of range", text);
		e->kind = NETPOLICY_CIDR;
		e->prefix = (int)bits;
		/* Keep the network part only, so the text shows what matches. */
		for (int i = e->prefix; i < 128; i++)
			e->addr.a[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
		netpolicy_addr_format(&e->addr, a, sizeof(a));
		if (e->prefix == full)
			snprintf(net, sizeof(net), "%s", a);
		else
			snprintf(net, sizeof(net), "%s/%d", a, e->prefix);
		if (e->addr.family == AF_INET6 && e->port)
			snprintf(e->text, sizeof(e->text), "[%s]%s", net, port);
		else
			snprintf(e->text, sizeof(e->text), "%s%s", net, port);
		return 0;
	}
	if (netpolicy_name_norm(host, strlen(host), e->name))
		return fail(err, errlen, "'%s': not a host name, wildcard (*.example.com), IP, CIDR or '*'", text);
	e->kind = NETPOLICY_NAME;
	snprintf(e->text, sizeof(e->text), "%s%s", e->name, port);
	return 0;
}

static int parse_list(const json_t *arr, const char *what, struct netpolicy_entry **out,
		      size_t *n, char *err, size_t errlen)
{
	size_t i;
	const json_t *v;

	*out = NULL;
	*n = 0;
	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return fail(err, errlen, "network.%s must be an array of strings", what);
	if (json_array_size(arr) > NETPOLICY_MAX_ENTRIES)
		return fail(err, errlen, "network.%s has more than %d entries", what, NETPOLICY_MAX_ENTRIES);
	if (json_array_size(arr) == 0)
		return 0;
	*out = calloc(json_array_size(arr), sizeof(**out));
	if (!*out)
		return fail(err, errlen, "out of memory");
	json_array_foreach(arr, i, v) {
		char why[400];

		if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
			return fail(err, errlen, "network.%s[%zu] must be a string", what, i);
		if (netpolicy_entry_parse(json_string_value(v), &(*out)[i], why, sizeof(why)))
			return fail(err, errlen, "network.%s[%zu]: %s", what, i, why);
		(*n)++;
	}
	return 0;
}

int netpolicy_parse(const json_t *obj, struct netpolicy *p, char *err, size_t errlen)
{
	static const char *const known[] = { "allow", "deny", "max_connections",
					     "bandwidth_bytes_per_s", NULL };
	json_t *v;

	memset(p, 0, sizeof(*p));
	p->max_conns = NETPOLICY_DEFAULT_CONNS;
	if (!obj || json_is_null(obj))
		return 0;
	if (!json_is_object(obj))
		return fail(err, errlen, "network must be an object {\"allow\": [...], \"deny\": [...]}");
	if (fields_check((json_t *)obj, "network", known, err, errlen))
		goto fail;
	if (parse_list(json_object_get(obj, "allow"), "allow", &p->allow, &p->nallow, err, errlen) ||
	    parse_list(json_object_get(obj, "deny"), "deny", &p->deny, &p->ndeny, err, errlen))
		goto fail;
	v = json_object_get(obj, "max_connections");
	if (v && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > NETPOLICY_MAX_CONNS) {
			fail(err, errlen, "network.max_connections must be from 1 to %d", NETPOLICY_MAX_CONNS);
			goto fail;
		}
		p->max_conns = (long)json_integer_value(v);
	}
	v = json_object_get(obj, "bandwidth_bytes_per_s");
	if (v && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > (json_int_t)1 << 40) {
			fail(err, errlen, "network.bandwidth_bytes_per_s must be from 0 (no cap) to 2^40");
			goto fail;
		}
		p->bandwidth = (long)json_integer_value(v);
	}
	return 0;
fail:
	netpolicy_free(p);
	return -1;
}

void netpolicy_free(struct netpolicy *p)
{
	free(p->allow);
	free(p->deny);
	p->allow = p->deny = NULL;
	p->nallow = p->ndeny = 0;
}

json_t *netpolicy_json(const struct netpolicy *p)
{
	json_t *allow = json_array(), *deny = json_array();

	for (size_t i = 0; i < p->nallow; i++)
		json_array_append_new(allow, json_string(p->allow[i].text));
	for (size_t i = 0; i < p->ndeny; i++)
		json_array_append_new(deny, json_string(p->deny[i].text));
	return json_pack("{s:o,s:o,s:I,s:I}", "allow", allow, "deny", deny,
			 "max_connections", (json_int_t)p->max_conns,
			 "bandwidth_bytes_per_s", (json_int_t)p->bandwidth);
}

static int port_ok(const struct netpolicy_entry *e, int port)
{
	return e->port == 0 || e->port == port;
}

/* Does e match the name (by name; CIDR entries never match a name)? */
static int match_name(const struct netpolicy_entry *e, const char *name)
{
	size_t nl, sl;

	switch (e->kind) {
	case NETPOLICY_ANY:
		return 1;
	case NETPOLICY_NAME:
		return !strcmp(e->name, name);
	case NETPOLICY_WILDCARD:
		nl = strlen(name);
		sl = strlen(e->name);
		return nl > sl + 1 && name[nl - sl - 1] == '.' && !strcmp(name + nl - sl, e->name);
	default:
		return 0;
	}
}

static int match_addr(const struct netpolicy_entry *e, const struct netaddr *a)
{
	struct netaddr v4;

	if (e->kind != NETPOLICY_CIDR)
		return 0;
	if (a->family != e->addr.family) {
		/* ::ffff:10.0.0.1 is covered by 10.0.0.0/8 */
		if (e->addr.family != AF_INET || !embedded_v4(a, &v4))
			return 0;
		a = &v4;
	}
	return prefix_eq(a->a, e->addr.a, e->prefix);
}

static void verdict(struct netpolicy_verdict *v, int allow, const struct netpolicy_entry *e,
		    const char *why)
{
	v->allow = allow;
	snprintf(v->rule, sizeof(v->rule), "%s", e ? e->text : "");
	v->why = why;
}

void netpolicy_check_name(const struct netpolicy *p, const char *name, int port,
			  struct netpolicy_verdict *v)
{
	for (size_t i = 0; i < p->ndeny; i++)
		if (p->deny[i].kind != NETPOLICY_CIDR && port_ok(&p->deny[i], port) &&
		    match_name(&p->deny[i], name)) {
			verdict(v, 0, &p->deny[i], "denied by a deny entry");
			return;
		}
	for (size_t i = 0; i < p->nallow; i++)
		if (port_ok(&p->allow[i], port) && match_name(&p->allow[i], name)) {
			verdict(v, 1, &p->allow[i], NULL);
			return;
		}
	verdict(v, 0, NULL, p->nallow ? "not in the allow list" : "this sandbox has no network egress");
}

static int is_own(const struct netaddr *a, const struct netaddr *own, size_t nown)
{
	for (size_t i = 0; i < nown; i++)
		if (own[i].family == a->family &&
		    !memcmp(own[i].a, a->a, a->family == AF_INET ? 4 : 16))
			return 1;
	return 0;
}

void netpolicy_check_addr(const struct netpolicy *p, const char *name, int port,
			  const struct netaddr *a, int reachable,
			  const struct netaddr *own, size_t nown, struct netpolicy_verdict *v)
{
	const char *why;

	for (size_t i = 0; i < p->ndeny; i++)
		if (port_ok(&p->deny[i], port) &&
		    (match_addr(&p->deny[i], a) || (name && match_name(&p->deny[i], name)) ||
		     (!name && p->deny[i].kind == NETPOLICY_ANY))) {
			verdict(v, 0, &p->deny[i], "denied by a deny entry");
			return;
		}
	for (size_t i = 0; i < p->nallow; i++)
		if (port_ok(&p->allow[i], port) && match_addr(&p->allow[i], a)) {
			verdict(v, 1, &p->allow[i], NULL);
			return;
		}
	why = netpolicy_special(a);
	if (reachable && !is_link_local(a))
		why = NULL;
	if (!why && !reachable && is_own(a, own, nown))
		why = "an address of the host itself";
	if (why) {
		verdict(v, 0, NULL, why);
		return;
	}
	for (size_t i = 0; i < p->nallow; i++)
		if (port_ok(&p->allow[i], port) &&
		    (name ? match_name(&p->allow[i], name) : p->allow[i].kind == NETPOLICY_ANY)) {
			verdict(v, 1, &p->allow[i], NULL);
			return;
		}
	verdict(v, 0, NULL, p->nallow ? "not in the allow list" : "this sandbox has no network egress");
}

int netpolicy_hosts_parse(const char *text, struct netpolicy_hosts *h, char *err, size_t errlen)
{
	int lineno = 0;

	memset(h, 0, sizeof(*h));
	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t n = nl ? (size_t)(nl - text) : strlen(text);
		char line[1024], *save = NULL, *tok;
		struct netaddr a;

		lineno++;
		if (n >= sizeof(line)) {
			fail(err, errlen, "line %d: longer than %zu bytes", lineno, sizeof(line) - 1);
			goto fail;
		}
		memcpy(line, text, n);
		line[n] = '\0';
		text += n + (nl ? 1 : 0);
		line[strcspn(line, "#")] = '\0';
		tok = strtok_r(line, " \t\r", &save);
		if (!tok)
			continue;
		if (netpolicy_addr_parse(tok, &a)) {
			fail(err, errlen, "line %d: '%s' is not an IP address", lineno, tok);
			goto fail;
		}
		while ((tok = strtok_r(NULL, " \t\r", &save))) {
			struct netpolicy_host *nv;

			if (h->n >= 65536) {
				fail(err, errlen, "line %d: more than 65536 names", lineno);
				goto fail;
			}
			nv = realloc(h->v, (h->n + 1) * sizeof(*h->v));
			if (!nv) {
				fail(err, errlen, "out of memory");
				goto fail;
			}
			h->v = nv;
			if (netpolicy_name_norm(tok, strlen(tok), h->v[h->n].name)) {
				fail(err, errlen, "line %d: '%s' is not a host name", lineno, tok);
				goto fail;
			}
			h->v[h->n++].addr = a;
		}
	}
	return 0;
fail:
	netpolicy_hosts_free(h);
	return -1;
}

void netpolicy_hosts_free(struct netpolicy_hosts *h)
{
	free(h->v);
	h->v = NULL;
	h->n = 0;
}

size_t netpolicy_hosts_lookup(const struct netpolicy_hosts *h, const char *name,
			      struct netaddr *out, size_t max)
{
	size_t k = 0;

	for (size_t i = 0; i < h->n && k < max; i++)
		if (!strcmp(h->v[i].name, name))
			out[k++] = h->v[i].addr;
	return k;
}
