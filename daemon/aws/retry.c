/*
 * Error classes and standard-mode retries (see retry.h). The code lists follow
 * botocore's retries/standard.py, its data/_retry.json, the service models'
 * modeled errors and the project's aws-errors.md reference; where they differ, the
 * comment says which one won and why. Never sleeps, never reads the clock.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon/aws/retry.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * botocore ThrottledRetryableChecker, verbatim. It includes LimitExceededException,
 * which CloudFormation also uses for an account quota: retrying that costs at most
 * two wasted calls, and matching the SDKs keeps bbsim's answers meaningful. Auto
 * Scaling's LimitExceeded (a quota) is deliberately not here.
 */
static const char *const throttle_codes[] = {
	"Throttling", "ThrottlingException", "ThrottledException",
	"RequestThrottledException", "TooManyRequestsException",
	"ProvisionedThroughputExceededException", "TransactionInProgressException",
	"RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException",
	"RequestThrottled", "SlowDown", "PriorRequestNotComplete",
	"EC2ThrottledException",
};

/*
 * botocore's transient codes, the internal-error codes other SDKs retry, STS's
 * IDPCommunicationError (botocore special-cases it), and two Auto Scaling answers
 * that mean "busy, try again": ResourceContention (500 anyway) and, by this
 * project's choice, ScalingActivityInProgress (400).
 */
static const char *const transient_codes[] = {
	"RequestTimeout", "RequestTimeoutException", "InternalError",
	"InternalFailure", "InternalServiceError", "ServiceUnavailable",
	"ServiceUnavailableException", "Unavailable", "IDPCommunicationError",
	"ResourceContention", "ScalingActivityInProgress",
};

/*
 * The request's timestamp was refused. AuthFailure is EC2's answer to both a skewed
 * clock and a bad key (aws-errors.md §9): retried once, then it stands.
 */
static const char *const skew_codes[] = {
	"RequestExpired", "RequestTimeTooSkewed", "RequestInTheFuture", "AuthFailure",
};

/* Codes whose message tells a skewed clock from a wrong signature. */
static const char *const signature_codes[] = {
	"SignatureDoesNotMatch", "InvalidSignatureException",
};

/* What AWS says about a signature made at the wrong time (Query services). */
static const char *const skew_messages[] = {
	"Signature expired", "Signature not yet current",
};

/* A session token past its expiry: fresh credentials fix it. */
static const char *const expired_codes[] = {
	"ExpiredToken", "ExpiredTokenException",
};

static const char *const auth_codes[] = {
	"AccessDenied", "AccessDeniedException", "UnauthorizedOperation",
	"InvalidClientTokenId", "InvalidAccessKeyId", "SignatureDoesNotMatch",
	"InvalidSignatureException", "IncompleteSignature",
	"MissingAuthenticationToken", "UnrecognizedClientException",
	"OptInRequired", "NotAuthorized",
};

/* Besides any code ending in "NotFound" or "NotFoundException". */
static const char *const notfound_codes[] = {
	"InvalidInstance",		/* ELB: "Could not find EC2 instance" */
	"InvalidTarget",		/* ELBv2 */
};

/* Besides any code ending in ".Malformed" and any other "Invalid..." code. */
static const char *const validation_codes[] = {
	"ValidationError", "MissingParameter", "MissingAction",
	"MalformedQueryString", "InsufficientCapabilitiesException",
	"TokenAlreadyExistsException", "AlreadyExistsException",
};

static int
in(const char *code, const char *const *list, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(code, list[i]) == 0)
			return 1;
	return 0;
}

static int
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t	 n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int
is_skew(const char *code, const char *message)
{
	size_t	 i;

	if (in(code, skew_codes, nitems(skew_codes)))
		return 1;
	if (message == NULL || !in(code, signature_codes, nitems(signature_codes)))
		return 0;
	for (i = 0; i < nitems(skew_messages); i++)
		if (starts_with(message, skew_messages[i]))
			return 1;
	return 0;
}

static int
is_not_found(const char *code)
{
	return in(code, notfound_codes, nitems(notfound_codes)) ||
	    ends_with(code, "NotFound") || ends_with(code, "NotFoundException");
}

/* Checked after the auth and not-found lists, which hold "Invalid..." codes too. */
static int
is_validation(const char *code)
{
	return in(code, validation_codes, nitems(validation_codes)) ||
	    ends_with(code, ".Malformed") || starts_with(code, "Invalid");
}

/* The class a code alone decides, or OTHER when it does not. */
static enum aws_errclass
by_code(const char *code, const char *message)
{
	if (in(code, throttle_codes, nitems(throttle_codes)))
		return AWS_ERRCLASS_THROTTLE;
	if (is_skew(code, message))
		return AWS_ERRCLASS_CLOCK_SKEW;
	if (in(code, expired_codes, nitems(expired_codes)))
		return AWS_ERRCLASS_EXPIRED_CREDENTIALS;
	if (in(code, auth_codes, nitems(auth_codes)))
		return AWS_ERRCLASS_AUTH;
	if (in(code, transient_codes, nitems(transient_codes)))
		return AWS_ERRCLASS_TRANSIENT;
	if (is_not_found(code))
		return AWS_ERRCLASS_NOT_FOUND;
	if (is_validation(code))
		return AWS_ERRCLASS_VALIDATION;
	return AWS_ERRCLASS_OTHER;
}

static enum aws_errclass
by_status(int status)
{
	switch (status) {
	case 429:	/* _retry.json too_many_requests */
	case 509:	/* _retry.json limit_exceeded */
		return AWS_ERRCLASS_THROTTLE;
	case 500:
	case 502:
	case 503:
	case 504:
		return AWS_ERRCLASS_TRANSIENT;
	case 401:
	case 403:
		return AWS_ERRCLASS_AUTH;
	default:
		return AWS_ERRCLASS_OTHER;
	}
}

enum aws_errclass
aws_classify(int status, const char *code, const char *message, enum aws_net net)
{
	enum aws_errclass	 c;

	if (net != AWS_NET_OK)
		return AWS_ERRCLASS_TRANSIENT;
	if (code == NULL || code[0] == '\0')
		return status >= 200 && status <= 299 ? AWS_ERRCLASS_OK :
		    by_status(status);
	if ((c = by_code(code, message)) != AWS_ERRCLASS_OTHER)
		return c;
	/* An unknown code: the status may still say "retry"; it never says "fine". */
	return by_status(status);
}

const char *
aws_errclass_name(enum aws_errclass c)
{
	static const char *const names[] = {
		[AWS_ERRCLASS_OK] = "ok",
		[AWS_ERRCLASS_THROTTLE] = "throttle",
		[AWS_ERRCLASS_TRANSIENT] = "transient",
		[AWS_ERRCLASS_CLOCK_SKEW] = "clock-skew",
		[AWS_ERRCLASS_EXPIRED_CREDENTIALS] = "expired-credentials",
		[AWS_ERRCLASS_AUTH] = "auth",
		[AWS_ERRCLASS_VALIDATION] = "validation",
		[AWS_ERRCLASS_NOT_FOUND] = "not-found",
		[AWS_ERRCLASS_OTHER] = "other",
	};

	if ((unsigned)c >= nitems(names))
		return "?";
	return names[c];
}

void
aws_retry_quota_init(struct aws_retry_quota *q)
{
	q->available = q->max = AWS_RETRY_QUOTA;
}

static int
quota_take(struct aws_retry_quota *q, int amount)
{
	if (q->available < amount)
		return -1;
	q->available -= amount;
	return 0;
}

static void
quota_give(struct aws_retry_quota *q, int amount)
{
	q->available = q->max - q->available < amount ? q->max :
	    q->available + amount;
}

double
aws_retry_random(void *arg)
{
	(void)arg;
	/* 24 random bits: exact in a double, and never 1.0. */
	return (double)(arc4random() >> 8) / (double)(1u << 24);
}

void
aws_retry_begin(struct aws_retry *r, struct aws_retry_quota *quota,
    aws_random_fn rng, void *rng_arg)
{
	memset(r, 0, sizeof(*r));
	r->quota = quota;
	r->rng = rng != NULL ? rng : aws_retry_random;
	r->rng_arg = rng_arg;
	r->max_attempts = AWS_RETRY_MAX_ATTEMPTS;
}

uint32_t
aws_retry_backoff_ms(int attempt, double rnd)
{
	int	 cap_s;

	if (!(rnd >= 0.0))		/* NaN too */
		rnd = 0.0;
	if (rnd > 1.0)
		rnd = 1.0;
	/* 2^(attempt-1) passes 20 at attempt 6: stop doubling before it overflows. */
	if (attempt < 1)
		attempt = 1;
	cap_s = attempt > 5 ? 20 : 1 << (attempt - 1);
	if (cap_s > AWS_RETRY_MAX_BACKOFF_MS / 1000)
		cap_s = AWS_RETRY_MAX_BACKOFF_MS / 1000;
	return (uint32_t)(rnd * cap_s * 1000.0);
}

/* Whether c may be retried now, marking a once-per-call retry as used. */
static int
may_retry(struct aws_retry *r, enum aws_errclass c)
{
	switch (c) {
	case AWS_ERRCLASS_THROTTLE:
	case AWS_ERRCLASS_TRANSIENT:
		return 1;
	case AWS_ERRCLASS_CLOCK_SKEW:
		return !r->skew_retried;
	case AWS_ERRCLASS_EXPIRED_CREDENTIALS:
		return !r->creds_retried;
	default:
		return 0;
	}
}

enum aws_retry_verdict
aws_retry_next(struct aws_retry *r, enum aws_errclass c, enum aws_net net,
    uint32_t *delay_ms)
{
	int	 cost;

	*delay_ms = 0;
	r->attempts++;
	if (c == AWS_ERRCLASS_OK) {
		quota_give(r->quota, r->held > 0 ? r->held :
		    AWS_RETRY_NO_RETRY_REFUND);
		return AWS_RETRY_DONE;
	}
	if (!may_retry(r, c))
		return AWS_RETRY_FAIL;
	if (r->attempts >= r->max_attempts)
		return AWS_RETRY_EXHAUSTED;
	cost = net == AWS_NET_TIMEOUT ? AWS_RETRY_TIMEOUT_COST : AWS_RETRY_COST;
	if (quota_take(r->quota, cost) == -1)
		return AWS_RETRY_NO_QUOTA;
	r->held = cost;
	if (c == AWS_ERRCLASS_CLOCK_SKEW)
		r->skew_retried = 1;
	else if (c == AWS_ERRCLASS_EXPIRED_CREDENTIALS)
		r->creds_retried = 1;
	else
		*delay_ms = aws_retry_backoff_ms(r->attempts, r->rng(r->rng_arg));
	return AWS_RETRY_AGAIN;
}

const char *
aws_retry_verdict_name(enum aws_retry_verdict v)
{
	static const char *const names[] = {
		[AWS_RETRY_DONE] = "done",
		[AWS_RETRY_AGAIN] = "again",
		[AWS_RETRY_FAIL] = "fail",
		[AWS_RETRY_EXHAUSTED] = "exhausted",
		[AWS_RETRY_NO_QUOTA] = "no-quota",
	};

	if ((unsigned)v >= nitems(names))
		return "?";
	return names[v];
}
