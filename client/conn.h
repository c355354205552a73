/* bbctl's connection to the daemon: blocking varlink calls with a deadline. */
#ifndef BB_CONN_H
#define BB_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct conn;

/*
 * Connects to the daemon's socket. NULL with err filled in, and *connect_errno set to
 * connect(2)'s errno when the socket could not be reached (0 for other failures).
 */
struct conn *conn_open(const char *path, int timeout_ms, int *connect_errno,
	    char *err, size_t errlen);
void	 conn_close(struct conn *);
/* One call, one reply (the whole reply object: "parameters" or "error"). */
json_t	*conn_call(struct conn *, const char *method, json_t *params,
	    char *err, size_t errlen);

#endif
