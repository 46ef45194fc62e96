/*
 * shotprep.h - the default screenshot (whole screen, PNG) encoded ahead,
 * while deskboxd asks for it (a pool member waiting to be taken): whenever
 * the screen has settled after a change, the agent takes that screenshot
 * itself and drops the reply, which leaves the bytes in its last-shot
 * cache (agent.h), so the taker's first screenshot is answered from there
 * without a capture or an encode.
 */
#ifndef DESKTOP_SHOTPREP_H
#define DESKTOP_SHOTPREP_H

#include <stdint.h>

struct agent;

/* Quiet this long (ms) before the screenshot is prepared: a screen still
 * being drawn would be encoded for nothing. */
#define SHOTPREP_QUIET_MS 50

struct shotprep {
	int keep;                   /* prepare the default screenshot */
	uint64_t tried;             /* damage counter last prepared at */
	int tried_any;
};

/* Prepare from now on (keep) or no longer. */
void shotprep_keep(struct shotprep *sp, int keep);

/* Prepare the default screenshot if asked to keep one and the screen has
 * been quiet long enough since it changed. */
void shotprep_run(struct agent *a);

/* ms until shotprep_run has work, or -1. */
int shotprep_timeout_ms(const struct agent *a);

#endif
