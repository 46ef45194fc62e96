/*
 * shotprep.c - the default screenshot prepared while idle. See shotprep.h.
 *
 * Owns nothing but its flag and the damage count it last prepared at; the
 * bytes live in the agent's last-shot cache. Loop thread only; the one
 * piece of work it does is the screenshot a request would have cost
 * anyway, done while idle and only while deskboxd asks.
 */
#include "shotprep.h"

#include <unistd.h>

#include "agent.h"
#include "input.h"
#include "log.h"
#include "methods.h"

void shotprep_keep(struct shotprep *sp, int keep)
{
	sp->keep = keep;
	sp->tried_any = 0;
}

/* Whether the screen changed since the last prepared screenshot. */
static int shotprep_stale(const struct agent *a)
{
	const struct shotprep *sp = &a->prep;

	return sp->keep && (!sp->tried_any || a->disp->damage != sp->tried);
}

int shotprep_timeout_ms(const struct agent *a)
{
	int64_t left;

	if (!shotprep_stale(a))
		return -1;
	left = a->disp->changed_ms + SHOTPREP_QUIET_MS - input_now_ms();
	return left < 0 ? 0 : (int)left;
}

void shotprep_run(struct agent *a)
{
	struct shotprep *sp = &a->prep;
	const char *code;
	json_t *result;
	char err[256];
	int fd;

	if (shotprep_timeout_ms(a) != 0)
		return;
	/* A screenshot whose reply nobody reads: methods_shot keeps its bytes. */
	if (methods_shot(a, NULL, &result, &fd, &code, err, sizeof err) < 0)
		agent_log("preparing a screenshot: %s", err);
	json_decref(result);
	if (fd >= 0)
		close(fd);
	sp->tried = a->disp->damage;
	sp->tried_any = 1;
}
