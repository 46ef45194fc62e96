/*
 * uidrange.h - host uid/gid ranges for the sandboxes' user namespaces.
 */
#ifndef DESKBOX_UIDRANGE_H
#define DESKBOX_UIDRANGE_H

#include <stdint.h>
#include <sys/types.h>

/* Ids mapped into each sandbox: 0..65535 inside, so every uid a program may
 * expect (root's files, nobody = 65534, the user 1000) has a host id. */
#define UIDRANGE_SIZE 65536u
/* First host id handed out by default (--uid-base): above systemd's container range
 * (0x00080000..0x6FFFFFFF, used by nspawn --private-users=pick) and far from
 * real users (< 60000) and subordinate ids (podman's /etc/subuid starts at
 * 100000); the slots end below systemd's foreign range at 0x7FFE0000. */
#define UIDRANGE_BASE 0x70000000u
#define UIDRANGE_END  0x7FFE0000u
/* Host-wide: every deskboxd on the machine takes its slots here. */
#define UIDRANGE_LOCK "/run/deskbox/uidrange.lock"

struct uidrange {
	int fd;                 /* the lock file; byte i locked = host ids
				   i * UIDRANGE_SIZE.. taken, whatever base
				   each deskboxd was given */
	uint32_t base;          /* host id of our slot 0 */
	unsigned nslots;
	unsigned char *mine;    /* slots this process holds (OFD locks of one
				   file description do not conflict with each
				   other, so the kernel cannot tell us) */
	unsigned next;          /* where the next search starts */
};

/* Open the lock file at path for ranges from base (a multiple of
 * UIDRANGE_SIZE, at least UIDRANGE_SIZE) up to UIDRANGE_END. Returns 0, or
 * -1 with errno (EINVAL for a bad base; the caller says why). */
int uidrange_open(struct uidrange *u, uint32_t base, const char *path);
/* Take a free slot: its first host id in *host_id. Returns the slot, or -1
 * (all taken, errno EAGAIN; or the lock failed). Never blocks. */
int uidrange_take(struct uidrange *u, uint32_t *host_id);
/* Give slot back (no-op for -1). Only once every process that ran with its
 * ids is gone. */
void uidrange_give(struct uidrange *u, int slot);
void uidrange_close(struct uidrange *u);

#endif
