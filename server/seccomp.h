/*
 * seccomp.h - the syscall filter every sandbox process runs under.
 * Built once at start with libseccomp and kept as a BPF program, so a
 * sandbox start only pays for one prctl.
 */
#ifndef DESKBOX_SECCOMP_H
#define DESKBOX_SECCOMP_H

#include <linux/filter.h>

/* Build the filter. Returns a program the caller frees with
 * seccomp_prog_free, or NULL (logged). */
struct sock_fprog *seccomp_prog_build(void);
void seccomp_prog_free(struct sock_fprog *p);

#endif
