/*
 * netpolicy.h - a sandbox's network egress policy: which destinations a
 * connection leaving the sandbox may reach, decided by name and by the
 * address actually connected to.
 *
 * Pure: no I/O, no globals. deskboxd validates policies with it (create,
 * PUT …/network), the egress helper decides with it, the unit tests and the
 * fuzz target call it directly. Everything handed to it is untrusted text.
 *
 * Entries (allow and deny alike), each optionally followed by :PORT (IPv6
 * literals then in brackets, "[2001:db8::1]:443"); without a port every port
 * matches:
 *   "example.com"       exactly that name (case-insensitive, trailing dot ok)
 *   "*.pypi.org"        any name below pypi.org (not pypi.org itself)
 *   "*"                 every public address, by any name or literal
 *   "203.0.113.7", "2001:db8::1"            one address
 *   "203.0.113.0/24", "2001:db8::/32"       a CIDR block
 *
 * Decision for a connection to HOST:PORT (see netpolicy_check_*):
 *   1. a deny entry matching the name, or later the address: denied;
 *   2. a name is resolved only if an allow entry matches it by name (or "*"),
 *      so unlisted names never leave the machine as DNS queries;
 *   3. the address connected to, after resolution: an allow IP/CIDR entry
 *      covering it allows it (the only way to reach a non-public address);
 *      else a non-public address (loopback, private, link-local with the
 *      cloud metadata endpoint, CGNAT, multicast, reserved, the host's own)
 *      is denied; else the name's allow entry (or "*") allows it.
 */
#ifndef DESKBOX_NETPOLICY_H
#define DESKBOX_NETPOLICY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define NETPOLICY_MAX_ENTRIES 256   /* per list */
#define NETPOLICY_MAX_TEXT 300      /* one entry as written */
#define NETPOLICY_MAX_NAME 253      /* a DNS name, without the trailing dot */
#define NETPOLICY_DEFAULT_CONNS 256
#define NETPOLICY_MAX_CONNS 4096

enum netpolicy_kind { NETPOLICY_ANY, NETPOLICY_NAME, NETPOLICY_WILDCARD, NETPOLICY_CIDR };

/* An address: family AF_INET (first 4 bytes used) or AF_INET6. */
struct netaddr {
	int family;
	uint8_t a[16];
};

struct netpolicy_entry {
	enum netpolicy_kind kind;
	int port;                            /* 0 = every port */
	char name[NETPOLICY_MAX_NAME + 1];   /* NAME: the name; WILDCARD: the suffix */
	struct netaddr addr;                 /* CIDR: the network */
	int prefix;                          /* CIDR: prefix length */
	char text[NETPOLICY_MAX_TEXT];       /* normalized text, names the rule */
};

struct netpolicy {
	struct netpolicy_entry *allow, *deny;
	size_t nallow, ndeny;
	long max_conns;                      /* concurrent connections */
	long bandwidth;                      /* bytes/s each way, 0 = no cap */
};

struct netpolicy_verdict {
	int allow;
	char rule[NETPOLICY_MAX_TEXT];       /* the entry that decided, or "" */
	const char *why;                     /* static text: why it was denied */
};

/* Parse one entry. Returns 0, or -1 with the reason in err. */
int netpolicy_entry_parse(const char *text, struct netpolicy_entry *e, char *err, size_t errlen);

/*
 * Parse {"allow": [...], "deny": [...], "max_connections": N,
 * "bandwidth_bytes_per_s": N} (every field optional; others are errors) into
 * p (free with netpolicy_free). Returns 0, or -1 with the reason in err
 * naming the field. NULL or JSON null: the empty policy (nothing allowed).
 */
int netpolicy_parse(const json_t *obj, struct netpolicy *p, char *err, size_t errlen);
void netpolicy_free(struct netpolicy *p);

/* The policy as the API shows it (normalized entries). New reference. */
json_t *netpolicy_json(const struct netpolicy *p);

/*
 * Normalize a host name into out (NETPOLICY_MAX_NAME + 1 bytes): lower
 * case, no trailing dot; labels of [a-z0-9_-], 1-63 bytes. Returns 0, or -1
 * if it is not a valid name.
 */
int netpolicy_name_norm(const char *in, size_t len, char *out);

/* Parse an IPv4 or IPv6 literal (no brackets). Returns 0 or -1. */
int netpolicy_addr_parse(const char *s, struct netaddr *a);
/* The text form of a into out (at least 46 bytes). */
void netpolicy_addr_format(const struct netaddr *a, char *out, size_t cap);

/* Why a is never reached through a name ("loopback", "private", ...), or
 * NULL for a public address. IPv4-mapped/NAT64 IPv6 are judged as IPv4. */
const char *netpolicy_special(const struct netaddr *a);

/*
 * First step for a host name (normalized): denied by a deny entry or by no
 * allow entry naming it (v->allow 0), or may be resolved (v->allow 1, v->rule
 * the name's allow entry).
 */
void netpolicy_check_name(const struct netpolicy *p, const char *name, int port,
			  struct netpolicy_verdict *v);

/*
 * Final step on the address to connect to. name is the normalized host name
 * it came from, or NULL for a literal. reachable: the address came from the
 * operator's --egress-hosts map for this name (then only link-local stays
 * special). own[nown]: the host's own addresses.
 */
void netpolicy_check_addr(const struct netpolicy *p, const char *name, int port,
			  const struct netaddr *a, int reachable,
			  const struct netaddr *own, size_t nown, struct netpolicy_verdict *v);

/* A name → addresses map in the /etc/hosts format (--egress-hosts). */
struct netpolicy_hosts {
	struct netpolicy_host {
		char name[NETPOLICY_MAX_NAME + 1];
		struct netaddr addr;
	} *v;
	size_t n;
};

/* Parse hosts text. Returns 0, or -1 with "line N: ..." in err. */
int netpolicy_hosts_parse(const char *text, struct netpolicy_hosts *h, char *err, size_t errlen);
void netpolicy_hosts_free(struct netpolicy_hosts *h);
/* Up to max addresses of name (normalized) into out; returns the count. */
size_t netpolicy_hosts_lookup(const struct netpolicy_hosts *h, const char *name,
			      struct netaddr *out, size_t max);

#endif
