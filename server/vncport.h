/*
 * vncport.h - a sandbox's optional raw VNC port on 127.0.0.1, with a VNC
 * password, for native viewers.
 */
#ifndef DESKBOX_VNCPORT_H
#define DESKBOX_VNCPORT_H

#include <jansson.h>

struct sandbox;
struct vnc_port;

/* Listen on 127.0.0.1:port (0 = any free one). Returns NULL on failure
 * (logged). */
struct vnc_port *vncport_open(struct sandbox *sb, int port);
/* Close the port and drop its viewers. NULL is fine. */
void vncport_close(struct vnc_port *vp);
/* {"host","port","password"} */
json_t *vncport_json(const struct vnc_port *vp);

#endif
