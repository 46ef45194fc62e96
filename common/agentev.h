/*
 * agentev.h - the desktop agent's events that deskboxd relays to the bus
 * (screen.changed, screen.settled, window.*, clipboard.changed), checked.
 *
 * The agent runs inside the sandbox and its messages are hostile: an event
 * is relayed only if its name is one of these and every field has the
 * type, range and size include/agentproto.h allows; what is relayed is a
 * fresh object of those fields alone, never the object as sent. Pure: no
 * I/O, no globals.
 */
#ifndef DESKBOX_AGENTEV_H
#define DESKBOX_AGENTEV_H

#include <jansson.h>

/*
 * Check the agent's event msg named name. Returns 1 with *fields (a new
 * object: the event's checked fields) when it is a relayed event and well
 * formed; 0 when name is none of them (*fields NULL: not this module's);
 * -1 when it is one but malformed (*fields NULL: drop it).
 */
int agentev_check(const char *name, const json_t *msg, json_t **fields);

#endif
