/*
 * The control socket: varlink over a Unix stream socket. It parses, validates and
 * authorises requests and turns them into calls and typed replies; it never performs an
 * upgrade step itself (STYLE.md 2).
 */
#ifndef BB_CONTROL_H
#define BB_CONTROL_H

#include <uv.h>

struct config;
struct store;

#define CTL_MAX_QUEUE	(1024 * 1024)	/* bytes of replies a client may leave unread */

/*
 * Listens on listen_fd (socket activation) or, if it is -1, on cfg->socket_path, which
 * it refuses to take over while another daemon answers there. -1 with a log line on error.
 */
int	ctl_init(uv_loop_t *, const struct config *, struct store *, int listen_fd);
/* Closes every connection and the listener; the loop must run to finish closing. */
void	ctl_shutdown(void);
/* Connections open now (for tests and Status). */
int	ctl_nclients(void);

#endif
