/*
 * ev.c - fd watching through one epoll set inside the lws loop (see ev.h).
 *
 * Owns the epoll fd and a table of watches. A deleted watch is only marked
 * dead and freed after the dispatch round, so a callback may delete any
 * watch (its own included) safely.
 */
#include "ev.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

struct watch {
	int fd;
	int dead;
	ev_cb cb;
	void *ctx;
	struct watch *next;
};

struct ev {
	int epfd;
	struct watch *live;      /* all live watches, for lookup by fd */
	struct watch *graveyard; /* dead ones, freed after a round */
	int dispatching;
};

int64_t srv_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t srv_wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int ev_init(struct srv *srv)
{
	lws_sock_file_fd_type u;
	struct ev *ev = calloc(1, sizeof(*ev));

	if (!ev)
		return -1;
	ev->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (ev->epfd < 0) {
		free(ev);
		return -1;
	}
	srv->ev = ev;
	/* lws owns (and will close) a dup; ours stays ours. */
	u.filefd = dup(ev->epfd);
	if (u.filefd < 0 ||
	    !lws_adopt_descriptor_vhost(srv->vh, LWS_ADOPT_RAW_FILE_DESC, u, "deskbox-ev", NULL)) {
		log_event(NULL, "cannot add the fd watcher to the event loop");
		return -1;
	}
	return 0;
}

static void free_list(struct watch *w)
{
	while (w) {
		struct watch *n = w->next;

		free(w);
		w = n;
	}
}

void ev_shutdown(struct srv *srv)
{
	if (!srv->ev)
		return;
	close(srv->ev->epfd);
	free_list(srv->ev->live);
	free_list(srv->ev->graveyard);
	free(srv->ev);
	srv->ev = NULL;
}

int ev_add(struct srv *srv, int fd, uint32_t events, ev_cb cb, void *ctx)
{
	struct watch *w = calloc(1, sizeof(*w));
	struct epoll_event e = { .events = events };

	if (!w)
		return -1;
	w->fd = fd;
	w->cb = cb;
	w->ctx = ctx;
	e.data.ptr = w;
	if (epoll_ctl(srv->ev->epfd, EPOLL_CTL_ADD, fd, &e) < 0) {
		int saved = errno;

		free(w);
		errno = saved;
		return -1;
	}
	w->next = srv->ev->live;
	srv->ev->live = w;
	return 0;
}

int ev_mod(struct srv *srv, int fd, uint32_t events)
{
	for (struct watch *w = srv->ev->live; w; w = w->next) {
		if (w->fd == fd) {
			struct epoll_event e = { .events = events, .data.ptr = w };

			return epoll_ctl(srv->ev->epfd, EPOLL_CTL_MOD, fd, &e);
		}
	}
	errno = ENOENT;
	return -1;
}

void ev_del(struct srv *srv, int fd)
{
	struct watch **pp = &srv->ev->live;

	while (*pp && (*pp)->fd != fd)
		pp = &(*pp)->next;
	if (!*pp)
		return;
	struct watch *w = *pp;

	*pp = w->next;
	epoll_ctl(srv->ev->epfd, EPOLL_CTL_DEL, fd, NULL);
	w->dead = 1;
	w->next = srv->ev->graveyard;
	srv->ev->graveyard = w;
	if (!srv->ev->dispatching) {
		free_list(srv->ev->graveyard);
		srv->ev->graveyard = NULL;
	}
}

void ev_dispatch(struct srv *srv)
{
	struct epoll_event evs[64];
	int n = epoll_wait(srv->ev->epfd, evs, 64, 0);

	srv->ev->dispatching = 1;
	for (int i = 0; i < n; i++) {
		struct watch *w = evs[i].data.ptr;

		if (!w->dead)
			w->cb(w->ctx, evs[i].events);
	}
	srv->ev->dispatching = 0;
	free_list(srv->ev->graveyard);
	srv->ev->graveyard = NULL;
}

int ev_lws_callback(struct lws *wsi, enum lws_callback_reasons reason,
		    void *user, void *in, size_t len)
{
	struct srv *srv = srv_of(wsi);

	switch (reason) {
	case LWS_CALLBACK_RAW_RX_FILE:
		ev_dispatch(srv);
		break;
	case LWS_CALLBACK_RAW_CLOSE_FILE:
		if (!srv->stopping)
			log_event(NULL, "the fd watcher left the event loop");
		break;
	default:
		break;
	}
	return 0;
}

void ev_timer(struct srv *srv, lws_sorted_usec_list_t *sul, sul_cb_t cb, int64_t ms)
{
	lws_sul_schedule(srv->ctx, 0, sul, cb, ms * 1000);
}

void ev_timer_cancel(lws_sorted_usec_list_t *sul)
{
	lws_sul_cancel(sul);
}
