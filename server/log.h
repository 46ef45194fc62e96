/*
 * log.h - one line per event on stderr: time, sandbox id (or "-"), message.
 */
#ifndef DESKBOX_LOG_H
#define DESKBOX_LOG_H

__attribute__((format(printf, 2, 3)))
void log_event(const char *sandbox_id, const char *fmt, ...);

#endif
