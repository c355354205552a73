/*
 * What an AWS failure means, and whether to try again: error classes from (HTTP
 * status, error code, message, transport failure), and the SDKs' "standard" retry
 * mode (botocore retries/standard.py and quota.py): 3 attempts, full-jitter
 * exponential backoff capped at 20 s, a shared retry quota of 500.
 *
 * Pure: no I/O, no clock, no sleeping, no logging; the random source can be
 * injected (tests draw from a fixed one). It must never retry what retrying cannot fix (validation, permissions,
 * a missing resource), and never retry without limit: every retry is bounded by the
 * attempt count and paid for from the quota. Long waits (a busy stack, a scaling
 * activity that outlives the retries) are the engine's polls, not retries.
 */
#ifndef BB_AWS_RETRY_H
#define BB_AWS_RETRY_H

#include <stdint.h>

enum aws_errclass {
	AWS_ERRCLASS_OK,
	AWS_ERRCLASS_THROTTLE,		/* slow down, then retry */
	AWS_ERRCLASS_TRANSIENT,		/* 5xx, network, busy resource: retry */
	AWS_ERRCLASS_CLOCK_SKEW,	/* fix the clock offset, retry once */
	AWS_ERRCLASS_EXPIRED_CREDENTIALS,	/* refresh credentials, retry once */
	AWS_ERRCLASS_AUTH,		/* keys or permissions: an operator's job */
	AWS_ERRCLASS_VALIDATION,	/* AWS refused the request as asked */
	AWS_ERRCLASS_NOT_FOUND,		/* the named resource does not exist */
	AWS_ERRCLASS_OTHER
};

/* How the exchange failed below HTTP, if it did. */
enum aws_net {
	AWS_NET_OK,			/* a response came (any status) */
	AWS_NET_ERROR,			/* connect, DNS, TLS, reset, short read */
	AWS_NET_TIMEOUT			/* connect or read timeout */
};

/*
 * The class of one attempt's outcome. status: HTTP status (ignored unless net is
 * AWS_NET_OK); code and message: from the error body (aws_xml_error()), NULL or ""
 * if none. By code first, then by status: 2xx without a code is OK; 429 and 509
 * throttle; 500, 502, 503, 504 are transient; 401 and 403 are AUTH; anything else
 * unknown is OTHER (a bare 404 too: a wrong endpoint must not look like a deleted
 * resource).
 */
enum aws_errclass aws_classify(int status, const char *code, const char *message,
	    enum aws_net net);
const char	*aws_errclass_name(enum aws_errclass);

#define AWS_RETRY_MAX_ATTEMPTS		3	/* in all, the first included */
#define AWS_RETRY_MAX_BACKOFF_MS	20000
#define AWS_RETRY_QUOTA			500
#define AWS_RETRY_COST			5
#define AWS_RETRY_TIMEOUT_COST		10
#define AWS_RETRY_NO_RETRY_REFUND	1

/* The retry quota (token bucket); one per client, shared by its calls. */
struct aws_retry_quota {
	int	available;
	int	max;
};

void	aws_retry_quota_init(struct aws_retry_quota *);

/* A uniform random number in [0, 1); values outside are clamped. */
typedef double	(*aws_random_fn)(void *arg);

/* The default source (arc4random): for callers that do not inject their own. */
double	aws_retry_random(void *arg);

/* The retry state of one logical call, across its attempts. */
struct aws_retry {
	struct aws_retry_quota	*quota;
	aws_random_fn		 rng;
	void			*rng_arg;
	int			 max_attempts;
	int			 attempts;	/* outcomes reported so far */
	int			 held;		/* quota the last retry took, 0 if none */
	int			 skew_retried;
	int			 creds_retried;
};

/* Before the first attempt; rng NULL means aws_retry_random(). */
void	aws_retry_begin(struct aws_retry *r, struct aws_retry_quota *quota,
	    aws_random_fn rng, void *rng_arg);

enum aws_retry_verdict {
	AWS_RETRY_DONE,		/* success; the quota got its refund */
	AWS_RETRY_AGAIN,	/* send again (re-signed) after *delay_ms */
	AWS_RETRY_FAIL,		/* not retryable: report the error */
	AWS_RETRY_EXHAUSTED,	/* retryable, but that was the last attempt */
	AWS_RETRY_NO_QUOTA	/* retryable, but the quota is spent */
};

/*
 * Reports an attempt's class (and its transport failure, which sets the quota
 * cost) and says what to do next. On success refunds the quota: what the last retry
 * took, or AWS_RETRY_NO_RETRY_REFUND if none. A retry takes AWS_RETRY_COST
 * (AWS_RETRY_TIMEOUT_COST after a timeout). THROTTLE and TRANSIENT retry with
 * backoff; CLOCK_SKEW and EXPIRED_CREDENTIALS once each per call, without delay, as
 * their fix (a corrected clock offset, refreshed credentials) is the caller's before
 * it re-signs; a second one is final (AuthFailure, counted as skew, is also what a
 * bad key gets). The rest never retry.
 */
enum aws_retry_verdict aws_retry_next(struct aws_retry *r, enum aws_errclass c,
	    enum aws_net net, uint32_t *delay_ms);
const char	*aws_retry_verdict_name(enum aws_retry_verdict);

/*
 * Full-jitter backoff after failed attempt number attempt (1 for the first):
 * rnd * min(2^(attempt-1), 20) seconds, in milliseconds, so the first retry waits
 * under 1 s and none waits over 20 s.
 */
uint32_t aws_retry_backoff_ms(int attempt, double rnd);

#endif
