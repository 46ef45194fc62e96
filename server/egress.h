/*
 * egress.h - deskboxd's side of network egress: the deskbox-egress helper
 * process, each sandbox's proxy listeners and policy, its connection log and
 * counters, and the REST handlers for …/network. See docs/network.md.
 */
#ifndef DESKBOX_EGRESS_H
#define DESKBOX_EGRESS_H

#include <jansson.h>
#include <stdint.h>

#include "srv.h"

struct sandbox;

/* Where a sandbox's programs find the proxies (inside its own netns). */
#define EGRESS_HTTP_PORT 3128
#define EGRESS_SOCKS_PORT 1080

/* Read and parse an --egress-hosts file now, so a mistake stops the start
 * rather than the helper. Returns 0, or -1 with why in err. */
int egress_check_hosts(const char *path, char *err, size_t errlen);

/* Start the helper (exe_dir/deskbox-egress). Returns 0, or -1 (logged):
 * sandboxes then have no egress. */
int egress_start(struct srv *srv, const char *exe_dir);
/* Stop it (shutdown; waits for it to exit). */
void egress_stop(struct srv *srv);

/*
 * In the jail child, still privileged and in the sandbox's network
 * namespace: make the proxy listeners on 127.0.0.1 and send them to
 * deskboxd as PROTO_LISTENERS over chan, closing our copies so nothing in
 * the sandbox can accept on them. Returns 0, or -1 with errno.
 */
int egress_jail_listeners(int chan);

/* Egress state for a new sandbox, with the policy of its spec (JSON text
 * or NULL for none). Returns 0, or -1 (out of memory). */
int egress_sandbox_new(struct sandbox *sb, const char *policy);
/* PROTO_LISTENERS arrived: hand them to the helper. Takes the fds it uses
 * (sets them to -1). Only the first message of a starting sandbox counts. */
void egress_sandbox_listeners(struct sandbox *sb, int *fds, int nfds);
/* The sandbox stops: its connections are cut. Idempotent. */
void egress_sandbox_stop(struct sandbox *sb);
/* Free its state (after stop). */
void egress_sandbox_free(struct sandbox *sb);

/* The proxy variables every command in sb gets ("K=V", NULL-ended), or
 * NULL when sb has no proxies. */
const char *const *egress_env(const struct sandbox *sb);

/* The "network" member of the sandbox object: policy and counters. */
json_t *egress_json(const struct sandbox *sb);

/* Replace sb's policy (an untrusted object): its connections that the new
 * policy denies are cut. Returns 0; -1 with why in err when the policy is
 * wrong; -2 when it could not be handed to the helper. */
int egress_set_policy(struct sandbox *sb, const json_t *policy, char *err, size_t errlen);

/* {"records": [...] with seq > after, oldest first; "dropped": N}. */
json_t *egress_log_json(const struct sandbox *sb, uint64_t after);

#endif
