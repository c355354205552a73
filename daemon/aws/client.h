/*
 * One AWS API call on the event loop, from request to typed outcome:
 *   aws_query (built by a service module) -> endpoint of the service -> credentials ->
 *   SigV4 -> http_request() -> XML -> error class -> retry (standard mode, on a timer)
 *   -> the caller's callback, exactly once.
 * A client (struct aws_client) serves one deployment: its region, its endpoint
 * overrides, its credential chain and its retry quota. It never logs a secret and never
 * retries what must not be retried (validation and permission errors).
 */
#ifndef BB_AWS_CLIENT_H
#define BB_AWS_CLIENT_H

#include <stdint.h>

#include <libxml/tree.h>
#include <uv.h>

#include "daemon/aws/query.h"
#include "daemon/aws/retry.h"
#include "daemon/aws/xml.h"

struct deployment;
struct aws_client;
struct aws_call;

/* How the client is built; everything but the region has a default. */
struct aws_client_opts {
	const char	*region;
	const char	*profile;		/* NULL: AWS_PROFILE, then "default" */
	const char	*endpoint_url;		/* all services; NULL: environment, then AWS */
	const char	*endpoint[AWS_SERVICE_COUNT];	/* per service; NULL: as above */
	aws_random_fn	 random;		/* NULL: aws_retry_random (tests inject) */
	void		*random_arg;
	int64_t		(*now_ms)(void);	/* wall clock for signing; NULL: real */
};

/* The outcome of a call; valid only during the callback. */
struct aws_result {
	enum aws_errclass	 errclass;	/* AWS_ERRCLASS_OK on success */
	struct aws_error	 error;		/* when not OK: code, message, status, ids */
	const char		*detail;	/* for people: transport failure, retry verdict */
	const xmlDoc		*doc;		/* success: the whole answer */
	const xmlNode		*result;	/* success: <ActionResult>, or the EC2 root */
	int			 attempts;
	uint64_t		 elapsed_ms;
};

typedef void	(*aws_cb)(const struct aws_result *, void *arg);

struct aws_client *aws_client_new(uv_loop_t *, const struct aws_client_opts *,
	    char *err, size_t errlen);
/* Cancels every call (each callback runs once, cancelled); frees after they ran. */
void	aws_client_free(struct aws_client *);

/*
 * Sends q (taken: freed by the client) and calls cb once with the outcome. deadline_ms
 * bounds the whole call, retries included (0: the client's default, 120 s). Returns the
 * call for aws_call_cancel(), or NULL if nothing was started (cb then runs later with
 * AWS_ERRCLASS_OTHER and a detail saying why, e.g. q was invalid).
 */
struct aws_call *aws_call(struct aws_client *, struct aws_query *q, uint32_t deadline_ms,
	    aws_cb cb, void *arg);
/* The callback still runs once, with code "Cancelled"; see http.h for the rule. */
void	aws_call_cancel(struct aws_call *);

/* Counters for benchmarks and reports. */
struct aws_client_stats {
	uint64_t	 calls;		/* aws_call() */
	uint64_t	 attempts;	/* HTTP requests sent */
	uint64_t	 retries;
	uint64_t	 throttled;
	uint64_t	 failed;
};
void	aws_client_stats(const struct aws_client *, struct aws_client_stats *);

#endif
