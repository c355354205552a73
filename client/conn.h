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
/* The deadline of each later call, in milliseconds. */
void	 conn_set_timeout(struct conn *, int timeout_ms);
/* One call, one reply (the whole reply object: "parameters" or "error"). */
json_t	*conn_call(struct conn *, const char *method, json_t *params,
	    char *err, size_t errlen);

/*
 * Streaming (Watch): conn_send() sends a call with "more": true, then conn_next()
 * returns each reply in turn until one without "continues". params is stolen by both
 * conn_call() and conn_send().
 */
int	 conn_send(struct conn *, const char *method, json_t *params, bool more,
	    char *err, size_t errlen);
/*
 * The next reply, waiting at most wait_ms (-1: for ever). NULL with *timed_out true
 * when nothing came in time (the connection stays usable), or false on an error
 * (err says which; the connection is then unusable).
 */
json_t	*conn_next(struct conn *, int wait_ms, bool *timed_out, char *err, size_t errlen);

#endif
