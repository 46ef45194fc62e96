/*
 * adapt_sub.h - what the agent adapters (adapt_anthropic.c, adapt_openai.c)
 * share: running another operation of the table from inside one (a
 * sub-call, cancelled with its parent), and the size a model is told about
 * the screen.
 *
 * An adapter is a row like any other; its run function translates the
 * vendor's tool call into calls of other rows (desktop.actions, files.*,
 * process.*) and their outcomes back into the vendor's result. It never
 * reaches around the table. Loop thread only.
 */
#ifndef DESKBOX_ADAPT_SUB_H
#define DESKBOX_ADAPT_SUB_H

#include <jansson.h>

#include "op.h"

struct adapt_sub;

/* The sub-call finished (its outcome is in sub); parent is still owed an
 * answer unless the callback gave one. sub is freed when this returns. */
typedef void (*adapt_sub_fn)(struct op_call *parent, struct op_call *sub, void *arg);

/*
 * Run operation op_name with params (stolen; "sandbox" is set to the
 * parent's) and the parent's auth, on behalf of parent; done runs with its
 * outcome. While it runs it is the parent's job: a parent whose client
 * leaves cancels it, and then arg_free (if any) frees arg; otherwise done
 * owns arg. bin/bin_len: binary input, borrowed until done runs.
 */
void adapt_sub_start(struct op_call *parent, const char *op_name, json_t *params, const char *bin,
		     size_t bin_len, adapt_sub_fn done, void *arg, void (*arg_free)(void *arg));

/* The same, the sub-call speaking on conn (a connection that takes
 * notifications: process.spawn's output goes there). */
void adapt_sub_start_on(struct op_call *parent, struct op_conn *conn, const char *op_name, json_t *params,
			const char *bin, size_t bin_len, adapt_sub_fn done, void *arg,
			void (*arg_free)(void *arg));

/* The same for c's sandbox: the call's size (w x h), else the sandbox's
 * model_display, else the screen fitted. */
void adapt_sub_size(const struct op_call *c, int sw, int sh, long w, long h, int *mw, int *mh);

/* The screen size of the parent's sandbox, or -1 without a desktop. */
int adapt_sub_screen(struct op_call *c, int *w, int *h);

#endif
