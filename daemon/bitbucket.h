/*
 * The daemon's Bitbucket client: one per [deployment], for the rolling-upgrade (ZDU)
 * API under <bitbucket_url>/rest/zdu and the health endpoint <bitbucket_url>/status,
 * both through the load balancer. Built on http.h; every call is asynchronous.
 *
 * Authentication is read once, by bitbucket_new(), from the deployment's token_file
 * (a Bearer token) or password_file (HTTP Basic with bitbucket_user). The secret
 * file is refused when it is missing, not a regular file, empty, larger than
 * BITBUCKET_SECRET_MAX, holds a control character (after one trailing newline is
 * removed), can be read or written by everyone, written by its group, or belongs to
 * a user other than root and the daemon's. Refused, not warned about: by the time a
 * warning is read the secret has been exposed, and systemd credentials (mode 0400)
 * never trip these rules. The Authorization header is built once and kept in
 * memory only; it is zeroed when the client is freed, never logged, never stored.
 * /status is called without it: it needs no authentication.
 *
 * Retries: a POST (start, cancel, approve) is never repeated here: it may have taken
 * effect even when its answer was lost, and the engine must read /cluster before it
 * decides again (result.maybe_applied says when that is so). A GET of /rest/zdu is
 * retried once, after retry_delay_ms, on a transport failure or a 5xx (the load
 * balancer meets nodes that come and go during a roll), but only within the call's
 * one timeout: the callback never runs later than timeout_ms after the call began,
 * whatever the retries. GET /status is never retried: it measures health.
 *
 * Callbacks and lifetimes (as http.h):
 *  - Each bitbucket_*() call returns a handle, or NULL when nothing was started (the
 *    HTTP client is not initialised, the client is being freed, cb is NULL); with a
 *    handle, cb then runs exactly once, from the loop, never from inside the call,
 *    bitbucket_abort() or bitbucket_free().
 *  - bitbucket_abort() before the callback: cb still runs once, later, with
 *    BITBUCKET_CANCELLED. The handle is valid until cb returns; aborting a call
 *    whose callback is running does nothing.
 *  - The result is valid during cb only. To keep the cluster, move it out:
 *    `mine = r->cluster; memset(&r->cluster, 0, sizeof(r->cluster));`.
 *  - bitbucket_free() aborts every call of the client; the memory is released after
 *    the last of their callbacks (run the loop). http_shutdown() cancels calls too.
 *
 * Logging: one debug line per HTTP attempt (method, path, status, elapsed), nothing
 * else; what to report is the caller's choice, with result.message.
 */
#ifndef BB_BITBUCKET_H
#define BB_BITBUCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/config.h"
#include "daemon/zdu.h"

#define BITBUCKET_TIMEOUT_MS		15000	/* each call, retries included */
#define BITBUCKET_RETRY_DELAY_MS	500
#define BITBUCKET_SECRET_MAX		4096	/* bytes of a secret file */

enum bitbucket_outcome {
	BITBUCKET_OK,
	BITBUCKET_CONFLICT,	/* 409: not allowed in the cluster's current state */
	BITBUCKET_UNAUTHORIZED,	/* 401: credentials rejected */
	BITBUCKET_FORBIDDEN,	/* 403: not a system administrator, or a token's scope */
	BITBUCKET_NOT_FOUND,	/* 404: no such node, or no ZDU API at that URL */
	BITBUCKET_SERVER,	/* 5xx from Bitbucket or the load balancer */
	BITBUCKET_NETWORK,	/* no HTTP answer: connect, reset, timeout, TLS */
	BITBUCKET_BAD_ANSWER,	/* 3xx, another 4xx, or a body of the wrong shape */
	BITBUCKET_CANCELLED,	/* bitbucket_abort(), bitbucket_free(), http_shutdown() */
	BITBUCKET_OUTCOME_COUNT
};

enum bitbucket_op {
	BITBUCKET_OP_CLUSTER,	/* GET /rest/zdu/cluster */
	BITBUCKET_OP_STATE,	/* GET /rest/zdu/state */
	BITBUCKET_OP_NODE,	/* GET /rest/zdu/nodes/{id} */
	BITBUCKET_OP_START,	/* POST /rest/zdu/start */
	BITBUCKET_OP_CANCEL,	/* POST /rest/zdu/cancel */
	BITBUCKET_OP_APPROVE,	/* POST /rest/zdu/approve */
	BITBUCKET_OP_HEALTH,	/* GET /status */
	BITBUCKET_OP_COUNT
};

struct bitbucket_result {
	enum bitbucket_op	 op;
	enum bitbucket_outcome	 outcome;
	bool			 ok;		/* outcome == BITBUCKET_OK */
	/*
	 * A POST that did not succeed but may have changed the cluster (its answer was
	 * lost, cut, unreadable, or a 5xx): read /cluster before deciding again.
	 */
	bool			 maybe_applied;
	long			 status;	/* HTTP status of the last answer; 0: none */
	unsigned		 attempts;	/* HTTP requests made: 0, 1 or 2 */
	uint64_t		 elapsed_ms;	/* since the call began */
	const char		*message;	/* what happened and what to do; never NULL */
	/* Filled when ok, by op: */
	struct zdu_cluster	 cluster;	/* CLUSTER, START, CANCEL, APPROVE */
	struct zdu_state	 state;		/* STATE */
	struct zdu_node		 node;		/* NODE */
	enum zdu_health		 health;	/* HEALTH, always: ZDU_HEALTH_DOWN if !ok */
};

typedef void	(*bitbucket_cb)(struct bitbucket_result *, void *arg);

struct bitbucket;
struct bitbucket_call;

/* Reads the secret now. NULL with one line in err (which never holds the secret). */
struct bitbucket *bitbucket_new(uv_loop_t *, const struct deployment *,
		    char *err, size_t errlen);
void		 bitbucket_free(struct bitbucket *);
/* For calls started later; 0 keeps the default. */
void		 bitbucket_set_timeouts(struct bitbucket *, unsigned timeout_ms,
		    unsigned retry_delay_ms);

struct bitbucket_call *bitbucket_get_cluster(struct bitbucket *, bitbucket_cb, void *);
struct bitbucket_call *bitbucket_get_state(struct bitbucket *, bitbucket_cb, void *);
/* An id that is not [A-Za-z0-9._-]{1,63} completes as BITBUCKET_BAD_ANSWER. */
struct bitbucket_call *bitbucket_get_node(struct bitbucket *, const char *id,
		    bitbucket_cb, void *);
struct bitbucket_call *bitbucket_post_start(struct bitbucket *, bitbucket_cb, void *);
struct bitbucket_call *bitbucket_post_cancel(struct bitbucket *, bitbucket_cb, void *);
struct bitbucket_call *bitbucket_post_approve(struct bitbucket *, bitbucket_cb, void *);
struct bitbucket_call *bitbucket_get_health(struct bitbucket *, bitbucket_cb, void *);
void		 bitbucket_abort(struct bitbucket_call *);

const char	*bitbucket_outcome_name(enum bitbucket_outcome);
const char	*bitbucket_op_name(enum bitbucket_op);

#endif
