/* bbctl's connection to the daemon: blocking varlink calls with a deadline. */
#ifndef BB_CONN_H
#define BB_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct conn;

/*
 * Connects to the daemon's socket. NULL with err filled in; *unreachable is set when the
 * daemon is simply not there (no socket, nobody listening, no permission on it).
 */
struct conn *conn_open(const char *path, int timeout_ms, bool *unreachable,
	    char *err, size_t errlen);
void	 conn_close(struct conn *);
/* One call, one reply (the whole reply object: "parameters" or "error"). */
json_t	*conn_call(struct conn *, const char *method, json_t *params,
	    char *err, size_t errlen);

#endif
