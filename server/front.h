/*
 * front.h - deskboxd's listening socket: it accepts each connection, reads
 * its first request line, answers a URL libwebsockets would refuse without
 * a status with our JSON 400, and hands every other connection, with the
 * bytes read, to libwebsockets.
 */
#ifndef DESKBOX_FRONT_H
#define DESKBOX_FRONT_H

#include <stddef.h>

#include "srv.h"

/* Bind and listen on cfg.listen_host:listen_port and start accepting.
 * Returns 0, or -1 with err. */
int front_start(struct srv *srv, char *err, size_t errlen);

/* Close the listening socket and every connection not yet handed on. */
void front_stop(struct srv *srv);

#endif
