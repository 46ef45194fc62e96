/*
 * uidrange.c - host uid/gid ranges for the sandboxes' user namespaces.
 *
 * As root, every sandbox gets UIDRANGE_SIZE host ids of its own (like podman
 * --userns=auto or Kubernetes hostUsers: false), so the kernel's per-user
 * limits (RLIMIT_NPROC, inotify instances and watches, mqueue bytes, pipe
 * pages) count each sandbox apart.
 *
 * Slots are shared by every deskboxd on the host through one lock file:
 * host ids i * 65536.. are taken while someone holds an open-file-
 * description lock on byte i (absolute, so servers given different
 * --uid-base values still see each other's ranges). The kernel drops a process's locks when it dies, so a crashed deskboxd
 * leaves nothing that keeps a later one from reusing its slots, and there is
 * no state on disk to clean. Runs on the event-loop thread; never blocks
 * (F_OFD_SETLK, not SETLKW).
 */
#include "uidrange.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int lock_byte(int fd, unsigned slot, short type)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = (off_t)slot;
	fl.l_len = 1;
	return fcntl(fd, F_OFD_SETLK, &fl);
}

/* The lock byte of our slot: the range's absolute number on the host. */
static unsigned lock_index(const struct uidrange *u, unsigned slot)
{
	return u->base / UIDRANGE_SIZE + slot;
}

int uidrange_open(struct uidrange *u, uint32_t base, const char *path)
{
	char dir[256];
	char *slash;

	memset(u, 0, sizeof(*u));
	u->fd = -1;
	if (base < 65536 || base >= UIDRANGE_END || base % UIDRANGE_SIZE) {
		errno = EINVAL;
		return -1;
	}
	u->base = base;
	u->nslots = (UIDRANGE_END - base) / UIDRANGE_SIZE;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -1;
	}
	u->fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (u->fd < 0)
		return -1;
	u->mine = calloc(u->nslots, 1);
	if (!u->mine) {
		close(u->fd);
		u->fd = -1;
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

int uidrange_take(struct uidrange *u, uint32_t *host_id)
{
	for (unsigned i = 0; i < u->nslots; i++) {
		unsigned slot = (u->next + i) % u->nslots;

		if (u->mine[slot])
			continue;
		if (lock_byte(u->fd, lock_index(u, slot), F_WRLCK) < 0) {
			if (errno == EAGAIN || errno == EACCES)
				continue;        /* another deskboxd has it */
			return -1;
		}
		u->mine[slot] = 1;
		/* Round robin: a slot just given back is the last one reused. */
		u->next = (slot + 1) % u->nslots;
		*host_id = u->base + slot * UIDRANGE_SIZE;
		return (int)slot;
	}
	errno = EAGAIN;
	return -1;
}

void uidrange_give(struct uidrange *u, int slot)
{
	if (slot < 0 || (unsigned)slot >= u->nslots || !u->mine[slot])
		return;
	lock_byte(u->fd, lock_index(u, (unsigned)slot), F_UNLCK);
	u->mine[slot] = 0;
}

void uidrange_close(struct uidrange *u)
{
	if (u->fd >= 0)
		close(u->fd);     /* drops every lock we hold */
	free(u->mine);
	u->mine = NULL;
	u->fd = -1;
}
