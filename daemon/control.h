/*
 * The control socket: varlink over a Unix stream socket. It parses, validates and
 * authorises requests and turns them into calls and typed replies; it never performs an
 * upgrade step itself (STYLE.md 2).
 */
#ifndef BB_CONTROL_H
#define BB_CONTROL_H

#include <stdbool.h>

#include <jansson.h>
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

/*
 * A call that its handler answers later, or more than once (Plan, Watch).
 *
 * A handler of methods.c that cannot answer at once calls ctl_call_keep() and returns
 * NULL instead of a reply. From then on it answers with ctl_call_send(): a reply with
 * "continues": true keeps the call open (only when the caller asked for "more"); any
 * other reply, or an error, ends it. While a call is kept the connection is not idle
 * (no client_timeout) and further calls on it wait, so that replies stay in order.
 *
 * Lifetime: a call ends either by its final reply (it is freed inside ctl_call_send()
 * and gone never runs) or because the client went away (disconnected, dropped for not
 * reading, daemon stopping). In that case sends fail (-1) from that moment, and gone
 * runs once, later, from the loop (never from inside ctl_call_send() or an engine
 * callback), after which the call is freed: gone must forget it (and unsubscribe from
 * whatever feeds it).
 */
struct ctl_call;
typedef void	(*ctl_gone_cb)(void *arg);

void	ctl_call_keep(struct ctl_call *, ctl_gone_cb gone, void *arg);
/*
 * Sends msg (a reply or an error object, borrowed). 0 if queued; -1 if the client has
 * gone or was dropped by this send (the call still ends if msg was final).
 */
int	ctl_call_send(struct ctl_call *, json_t *msg);
/* The caller asked for several replies ("more": true). */
bool	ctl_call_more(const struct ctl_call *);

#endif
