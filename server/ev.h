/*
 * ev.h - watching plain fds (sandbox channels, exec pipes, pidfds, the
 * signalfd) from the lws loop, and timers.
 *
 * All watched fds sit in one epoll set, and that epoll fd is adopted into
 * lws as one raw-file connection: lws wakes us when any of them is ready and
 * we dispatch. This keeps fd lifetimes entirely ours (lws never closes them)
 * and needs no second loop.
 */
#ifndef DESKBOX_EV_H
#define DESKBOX_EV_H

#include <stdint.h>

#include "srv.h"

/* Called with the epoll events (EPOLLIN, EPOLLHUP, ...). */
typedef void (*ev_cb)(void *ctx, uint32_t events);

int ev_init(struct srv *srv);
void ev_shutdown(struct srv *srv);

/* Watch fd for events (level-triggered). Returns 0, or -1 with errno. */
int ev_add(struct srv *srv, int fd, uint32_t events, ev_cb cb, void *ctx);
/* Change the events watched for fd. Returns 0, or -1 with errno. */
int ev_mod(struct srv *srv, int fd, uint32_t events);
/* Stop watching fd; its callback is not called again, even later in the
 * same dispatch round. Does not close fd. */
void ev_del(struct srv *srv, int fd);

/* Called by the lws protocol callback when the epoll fd is readable. */
void ev_dispatch(struct srv *srv);

/* The lws protocol that carries the epoll fd. */
int ev_lws_callback(struct lws *wsi, enum lws_callback_reasons reason,
		    void *user, void *in, size_t len);

/* Run cb(sul) after ms milliseconds (replacing any earlier schedule of sul). */
void ev_timer(struct srv *srv, lws_sorted_usec_list_t *sul, sul_cb_t cb, int64_t ms);
void ev_timer_cancel(lws_sorted_usec_list_t *sul);

#endif
