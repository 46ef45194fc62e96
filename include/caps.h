/*
 * caps.h - the capabilities a sandbox keeps for its desktop agent's uid.
 *
 * As root, a sandbox's user namespace maps a whole id range, so the desktop
 * agent can run as a uid of its own (PROTO_AGENT_UID), apart from the user
 * (PROTO_USER_UID): user code then can neither signal it nor reach its
 * memory. That takes, in that namespace, CAP_SETUID/CAP_SETGID (to change
 * uid) and CAP_KILL (init must still end the agent's process tree, and the
 * agent its children, which are the user's). The namespace owns no other
 * namespace, so there they allow nothing but switching between the
 * sandbox's own ids and signalling the sandbox's own processes. init holds
 * them to start the agent; the agent holds them to start Xvfb, the window
 * manager and the apps as the user and to stop them; everything else drops
 * them before it runs any user code.
 *
 * Header-only (static inline): init is a static binary of its own, the
 * agent and deskboxd are others, and each needs these calls. Raw system
 * calls, no libcap: init links nothing but libc.
 */
#ifndef DESKBOX_CAPS_H
#define DESKBOX_CAPS_H

#include <linux/capability.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CAPS_AGENT ((1ULL << CAP_SETUID) | (1ULL << CAP_SETGID) | (1ULL << CAP_KILL))

/* Set permitted, effective and inheritable to mask (64 bits). 0 or -1. */
static inline int caps_set(uint64_t mask)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	d[0].permitted = d[0].effective = d[0].inheritable = (uint32_t)mask;
	d[1].permitted = d[1].effective = d[1].inheritable = (uint32_t)(mask >> 32);
	return (int)syscall(SYS_capset, &h, d);
}

/* Keep CAPS_AGENT across the next execve (they must be permitted and
 * inheritable already). 0 or -1. */
static inline int caps_ambient_agent(void)
{
	static const int caps[] = { CAP_SETUID, CAP_SETGID, CAP_KILL };

	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, caps[i], 0, 0) < 0)
			return -1;
	return 0;
}

/* No capability at all, none kept across execve: before user code runs.
 * 0 or -1. */
static inline int caps_drop_all(void)
{
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		return -1;
	return caps_set(0);
}

#endif
