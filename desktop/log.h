/*
 * log.h - the agent's log: one line per event on stderr, which deskboxd
 * reads and logs with the sandbox id. Each line is one write(2).
 */
#ifndef DESKTOP_LOG_H
#define DESKTOP_LOG_H

__attribute__((format(printf, 1, 2)))
void agent_log(const char *fmt, ...);

#endif
