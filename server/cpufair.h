/*
 * cpufair.h - CPU-bound sandboxes yield to interactive neighbours.
 */
#ifndef DESKBOX_CPUFAIR_H
#define DESKBOX_CPUFAIR_H

#include <stdint.h>

struct srv;

/* A sandbox's state here (a field of struct sandbox). */
struct cpufair {
	long long usage_us, throttled;   /* last sample, -1 unknown */
	int sampled;                     /* there is a last sample */
	int low;                         /* its weight is lowered */
	int calm;                        /* samples in a row not CPU-bound */
};

/* Start the sampling timer (does nothing without a cpu controller). */
void cpufair_start(struct srv *srv);

/* Stop it, at shutdown. */
void cpufair_stop(struct srv *srv);

#endif
