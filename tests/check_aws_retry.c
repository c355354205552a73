/*
 * Error classes and standard-mode retries: the codes of aws-errors.md and botocore's
 * retry lists, each error body of tests/fixtures/aws/errors classified end to end
 * (parsed by aws_xml_error(), then aws_classify()), the backoff's bounds over many
 * draws of a fixed generator, the retry quota draining and refilling, and the
 * errors that must never be retried.
 */
#include <check.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/aws/retry.h"
#include "daemon/aws/xml.h"
#include "tests/suites_decl.h"

#define FIXTURES	"tests/fixtures/aws/errors"
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define OK		AWS_ERRCLASS_OK
#define THROTTLE	AWS_ERRCLASS_THROTTLE
#define TRANSIENT	AWS_ERRCLASS_TRANSIENT
#define SKEW		AWS_ERRCLASS_CLOCK_SKEW
#define EXPIRED		AWS_ERRCLASS_EXPIRED_CREDENTIALS
#define AUTH		AWS_ERRCLASS_AUTH
#define VALIDATION	AWS_ERRCLASS_VALIDATION
#define NOT_FOUND	AWS_ERRCLASS_NOT_FOUND
#define OTHER		AWS_ERRCLASS_OTHER

static const struct {
	int			 status;
	const char		*code;
	const char		*message;
	enum aws_net		 net;
	enum aws_errclass	 want;
} table[] = {
	/* aws-errors.md §8, row by row */
	{ 400, "ValidationError", "Stack with id foo does not exist", 0, VALIDATION },
	{ 400, "ValidationError", "No updates are to be performed.", 0, VALIDATION },
	{ 400, "ValidationError", "Stack:arn:aws:cloudformation:us-east-1:1:stack/a/b "
	    "is in UPDATE_IN_PROGRESS state and can not be updated.", 0, VALIDATION },
	{ 400, "InsufficientCapabilitiesException", NULL, 0, VALIDATION },
	{ 400, "TokenAlreadyExistsException", NULL, 0, VALIDATION },
	{ 400, "Throttling", "Rate exceeded", 0, THROTTLE },
	{ 400, "ScalingActivityInProgress", NULL, 0, TRANSIENT },
	{ 500, "ResourceContention", NULL, 0, TRANSIENT },
	{ 403, "AccessDenied", NULL, 0, AUTH },
	{ 400, "InvalidInstanceID.NotFound", NULL, 0, NOT_FOUND },
	{ 400, "InvalidInstanceID.Malformed", NULL, 0, VALIDATION },
	{ 503, "RequestLimitExceeded", "Request limit exceeded.", 0, THROTTLE },
	{ 401, "AuthFailure", NULL, 0, SKEW },
	{ 403, "UnauthorizedOperation", NULL, 0, AUTH },
	{ 400, "RequestExpired", "Request has expired.", 0, SKEW },
	{ 403, "SignatureDoesNotMatch", "The request signature we calculated does not "
	    "match the signature you provided.", 0, AUTH },
	{ 403, "SignatureDoesNotMatch", "Signature expired: 20220127T001427Z is now "
	    "earlier than 20220127T014428Z (20220127T015928Z - 15 min.)", 0, SKEW },
	{ 403, "SignatureDoesNotMatch", "Signature not yet current: 20220127T031427Z is "
	    "still later than 20220127T030428Z (20220127T025928Z + 15 min.)", 0, SKEW },
	{ 403, "SignatureDoesNotMatch", NULL, 0, AUTH },
	{ 400, "InvalidSignatureException", "Signature expired: x", 0, SKEW },
	{ 400, "LoadBalancerNotFound", NULL, 0, NOT_FOUND },
	{ 400, "InvalidInstance", NULL, 0, NOT_FOUND },
	{ 400, "MissingParameter", NULL, 0, VALIDATION },
	{ 400, "InvalidParameterValue", NULL, 0, VALIDATION },
	{ 400, "InvalidParameterCombination", NULL, 0, VALIDATION },
	{ 403, "InvalidClientTokenId", NULL, 0, AUTH },
	{ 403, "ExpiredToken", NULL, 0, EXPIRED },
	{ 400, "IncompleteSignature", NULL, 0, AUTH },
	{ 403, "MissingAuthenticationToken", NULL, 0, AUTH },
	/* the rest of the models and botocore's lists */
	{ 400, "ExpiredTokenException", NULL, 0, EXPIRED },
	{ 400, "RequestTimeTooSkewed", NULL, 0, SKEW },
	{ 400, "RequestInTheFuture", NULL, 0, SKEW },
	{ 400, "ResourceInUse", NULL, 0, OTHER },
	{ 400, "LimitExceeded", NULL, 0, OTHER },	/* ASG quota, not throttling */
	{ 400, "LimitExceededException", NULL, 0, THROTTLE },	/* botocore's list */
	{ 429, "ConcurrentResourcesLimitExceeded", NULL, 0, THROTTLE },
	{ 404, "ChangeSetNotFound", NULL, 0, NOT_FOUND },
	{ 404, "StackNotFoundException", NULL, 0, NOT_FOUND },
	{ 400, "ActiveInstanceRefreshNotFound", NULL, 0, NOT_FOUND },
	{ 400, "InvalidTarget", NULL, 0, NOT_FOUND },
	{ 400, "InvalidAMIID.NotFound", NULL, 0, NOT_FOUND },
	{ 400, "InvalidNextToken", NULL, 0, VALIDATION },
	{ 400, "InvalidChangeSetStatus", NULL, 0, VALIDATION },
	{ 400, "OptInRequired", NULL, 0, AUTH },
	{ 409, "OperationInProgressException", NULL, 0, OTHER },
	{ 400, "RequestTimeout", NULL, 0, TRANSIENT },
	{ 408, "RequestTimeoutException", NULL, 0, TRANSIENT },
	{ 400, "PriorRequestNotComplete", NULL, 0, THROTTLE },
	{ 500, "InternalServiceError", NULL, 0, TRANSIENT },
	{ 500, "InternalFailure", NULL, 0, TRANSIENT },
	{ 500, "InternalError", NULL, 0, TRANSIENT },
	{ 503, "ServiceUnavailable", NULL, 0, TRANSIENT },
	{ 500, "ServiceLinkedRoleFailure", NULL, 0, TRANSIENT },	/* by status */
	{ 400, "IDPCommunicationError", NULL, 0, TRANSIENT },
	{ 400, "SlowDown", NULL, 0, THROTTLE },
	{ 503, "SlowDown", NULL, 0, THROTTLE },
	/* status alone */
	{ 200, NULL, NULL, 0, OK },
	{ 200, "", NULL, 0, OK },
	{ 204, NULL, NULL, 0, OK },
	{ 200, "Throttling", NULL, 0, THROTTLE },
	{ 200, "SomethingNew", NULL, 0, OTHER },	/* a code is never fine */
	{ 500, NULL, NULL, 0, TRANSIENT },
	{ 502, NULL, NULL, 0, TRANSIENT },
	{ 503, NULL, NULL, 0, TRANSIENT },
	{ 504, NULL, NULL, 0, TRANSIENT },
	{ 501, NULL, NULL, 0, OTHER },
	{ 505, NULL, NULL, 0, OTHER },
	{ 429, NULL, NULL, 0, THROTTLE },
	{ 509, NULL, NULL, 0, THROTTLE },
	{ 401, NULL, NULL, 0, AUTH },
	{ 403, NULL, NULL, 0, AUTH },
	{ 404, NULL, NULL, 0, OTHER },	/* a wrong endpoint is not a missing resource */
	{ 400, NULL, NULL, 0, OTHER },
	{ 302, NULL, NULL, 0, OTHER },
	{ 0, NULL, NULL, 0, OTHER },
	{ 503, "SomethingNew", NULL, 0, TRANSIENT },
	{ 400, "SomethingNew", NULL, 0, OTHER },
	{ 403, "SomethingNew", NULL, 0, AUTH },
	/* the transport decides first */
	{ 0, NULL, NULL, AWS_NET_ERROR, TRANSIENT },
	{ 0, NULL, NULL, AWS_NET_TIMEOUT, TRANSIENT },
	{ 400, "ValidationError", NULL, AWS_NET_ERROR, TRANSIENT },
	{ 200, NULL, NULL, AWS_NET_TIMEOUT, TRANSIENT },
};

START_TEST(classify_table)
{
	enum aws_errclass	 got;

	got = aws_classify(table[_i].status, table[_i].code, table[_i].message,
	    table[_i].net);
	ck_assert_msg(got == table[_i].want, "%d %s \"%s\" net %d: %s, want %s",
	    table[_i].status, table[_i].code ? table[_i].code : "(null)",
	    table[_i].message ? table[_i].message : "", table[_i].net,
	    aws_errclass_name(got), aws_errclass_name(table[_i].want));
}
END_TEST

/* botocore's ThrottledRetryableChecker list, whatever the status. */
START_TEST(throttle_codes)
{
	static const char *const codes[] = {
		"Throttling", "ThrottlingException", "ThrottledException",
		"RequestThrottledException", "TooManyRequestsException",
		"ProvisionedThroughputExceededException",
		"TransactionInProgressException", "RequestLimitExceeded",
		"BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
		"SlowDown", "PriorRequestNotComplete", "EC2ThrottledException",
	};
	static const int	 statuses[] = { 400, 429, 500, 503 };
	size_t			 i, j;

	for (i = 0; i < nitems(codes); i++)
		for (j = 0; j < nitems(statuses); j++)
			ck_assert_msg(aws_classify(statuses[j], codes[i], NULL,
			    AWS_NET_OK) == THROTTLE, "%s", codes[i]);
}
END_TEST

/* Every error body of aws-errors.md, from bytes to class. */
static const struct {
	const char		*file;
	int			 status;
	enum aws_errclass	 want;
} bodies[] = {
	{ "cfn-ValidationError.xml", 400, VALIDATION },
	{ "sts-MissingAuthenticationToken.xml", 403, AUTH },
	{ "ec2-InvalidInstanceID.NotFound.xml", 400, NOT_FOUND },
	{ "ec2-InvalidAMIID.NotFound.xml", 400, NOT_FOUND },
	{ "asg-ResourceInUse.xml", 400, OTHER },
	{ "cfn-ValidationError-no-updates.xml", 400, VALIDATION },
	{ "cfn-ValidationError-no-updates-preprocess.xml", 400, VALIDATION },
	{ "cfn-ValidationError-busy.xml", 400, VALIDATION },
	{ "cfn-ValidationError-use-previous-value.xml", 400, VALIDATION },
	{ "cfn-ValidationError-no-resource.xml", 400, VALIDATION },
	{ "cfn-InsufficientCapabilitiesException.xml", 400, VALIDATION },
	{ "cfn-TokenAlreadyExistsException.xml", 400, VALIDATION },
	{ "cfn-Throttling.xml", 400, THROTTLE },
	{ "cfn-InvalidClientTokenId.xml", 403, AUTH },
	{ "cfn-ExpiredToken.xml", 403, EXPIRED },
	{ "cfn-SignatureDoesNotMatch.xml", 403, AUTH },
	{ "cfn-SignatureDoesNotMatch-expired.xml", 403, SKEW },
	{ "cfn-IncompleteSignature.xml", 400, AUTH },
	{ "asg-ScalingActivityInProgress.xml", 400, TRANSIENT },
	{ "asg-ScalingActivityInProgress-blocks.xml", 400, TRANSIENT },
	{ "asg-ResourceContention.xml", 500, TRANSIENT },
	{ "asg-ValidationError-no-managed-instance.xml", 400, VALIDATION },
	{ "asg-ValidationError-min-size.xml", 400, VALIDATION },
	{ "asg-ValidationError-group-not-found.xml", 400, VALIDATION },
	{ "asg-AccessDenied.xml", 403, AUTH },
	{ "ec2-InvalidInstanceID.NotFound-several.xml", 400, NOT_FOUND },
	{ "ec2-InvalidInstanceID.Malformed.xml", 400, VALIDATION },
	{ "ec2-RequestLimitExceeded.xml", 503, THROTTLE },
	{ "ec2-AuthFailure.xml", 401, SKEW },
	{ "ec2-UnauthorizedOperation.xml", 403, AUTH },
	{ "ec2-UnauthorizedOperation-encoded.xml", 403, AUTH },
	{ "ec2-RequestExpired.xml", 400, SKEW },
	{ "ec2-SignatureDoesNotMatch.xml", 403, AUTH },
	{ "elb-LoadBalancerNotFound.xml", 400, NOT_FOUND },
	{ "elb-InvalidInstance.xml", 400, NOT_FOUND },
	{ "cw-MissingParameter.xml", 400, VALIDATION },
	{ "cw-InvalidParameterValue.xml", 400, VALIDATION },
	{ "cw-InvalidParameterCombination.xml", 400, VALIDATION },
	{ "cw-InternalServiceError.xml", 500, TRANSIENT },
};

START_TEST(classify_bodies)
{
	struct aws_error	 e;
	char			 path[256];
	char			*body;
	FILE			*f;
	long			 n;

	snprintf(path, sizeof(path), "%s/%s", FIXTURES, bodies[_i].file);
	ck_assert_msg((f = fopen(path, "rb")) != NULL, "missing %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	ck_assert_int_ge(n = ftell(f), 1);
	rewind(f);
	ck_assert_ptr_nonnull(body = malloc((size_t)n));
	ck_assert_uint_eq(fread(body, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	ck_assert_int_eq(aws_xml_error(body, (size_t)n, bodies[_i].status, &e), 0);
	ck_assert_msg(aws_classify(e.status, e.code, e.message, AWS_NET_OK) ==
	    bodies[_i].want, "%s: %s", bodies[_i].file,
	    aws_errclass_name(aws_classify(e.status, e.code, e.message, AWS_NET_OK)));
	free(body);
}
END_TEST

/* Not an AWS answer at all (a proxy's 502 page): the status decides. */
START_TEST(classify_unparsed)
{
	static const char	 page[] = "<html><body>502 Bad Gateway</body></html>";
	struct aws_error	 e;

	ck_assert_int_eq(aws_xml_error(page, sizeof(page) - 1, 502, &e), -1);
	ck_assert_int_eq(aws_classify(e.status, e.code, e.message, AWS_NET_OK),
	    TRANSIENT);
	ck_assert_int_eq(aws_xml_error(page, sizeof(page) - 1, 404, &e), -1);
	ck_assert_int_eq(aws_classify(e.status, e.code, e.message, AWS_NET_OK), OTHER);
}
END_TEST

/* --- backoff ----------------------------------------------------------------- */

/* A fixed generator (64-bit LCG, top 53 bits): the same draws every run. */
struct lcg {
	uint64_t	 state;
	unsigned	 calls;
};

static double
lcg_next(void *arg)
{
	struct lcg	*g = arg;

	g->calls++;
	g->state = g->state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(g->state >> 11) / 9007199254740992.0;
}

/* A generator that always says the same. */
struct fixed {
	double		 value;
	unsigned	 calls;
};

static double
fixed_next(void *arg)
{
	struct fixed	*f = arg;

	f->calls++;
	return f->value;
}

START_TEST(backoff_bounds)
{
	static const uint32_t	 caps[] = { 1000, 2000, 4000, 8000, 16000, 20000,
	    20000, 20000, 20000, 20000 };
	struct lcg		 g = { 42, 0 };
	uint32_t		 d, max, prev_max = 0;
	double			 sum;
	int			 attempt, i;
	const int		 draws = 100000;

	for (attempt = 1; attempt <= (int)nitems(caps); attempt++) {
		max = 0;
		sum = 0;
		for (i = 0; i < draws; i++) {
			d = aws_retry_backoff_ms(attempt, lcg_next(&g));
			ck_assert_uint_le(d, caps[attempt - 1]);
			ck_assert_uint_le(d, AWS_RETRY_MAX_BACKOFF_MS);
			if (d > max)
				max = d;
			sum += d;
		}
		/* full jitter: reaches near the cap, averages half of it */
		ck_assert_uint_ge(max, caps[attempt - 1] * 99 / 100);
		ck_assert_msg(fabs(sum / draws - caps[attempt - 1] / 2.0) <
		    caps[attempt - 1] * 0.01, "attempt %d mean %.1f", attempt,
		    sum / draws);
		ck_assert_uint_ge(max, prev_max);	/* grows, then holds at 20 s */
		prev_max = max;
	}
}
END_TEST

START_TEST(backoff_edges)
{
	ck_assert_uint_eq(aws_retry_backoff_ms(1, 0.0), 0);
	ck_assert_uint_eq(aws_retry_backoff_ms(1, 0.5), 500);
	ck_assert_uint_eq(aws_retry_backoff_ms(2, 0.5), 1000);
	ck_assert_uint_eq(aws_retry_backoff_ms(3, 0.5), 2000);
	ck_assert_uint_lt(aws_retry_backoff_ms(1, 0.9999999), 1000);
	ck_assert_uint_eq(aws_retry_backoff_ms(1, 1.0), 1000);
	ck_assert_uint_eq(aws_retry_backoff_ms(1, 7.0), 1000);
	ck_assert_uint_eq(aws_retry_backoff_ms(1, -1.0), 0);
	ck_assert_uint_eq(aws_retry_backoff_ms(1, NAN), 0);
	ck_assert_uint_eq(aws_retry_backoff_ms(1, INFINITY), 1000);
	ck_assert_uint_eq(aws_retry_backoff_ms(0, 1.0), 1000);
	ck_assert_uint_eq(aws_retry_backoff_ms(-5, 1.0), 1000);
	ck_assert_uint_eq(aws_retry_backoff_ms(5, 1.0), 16000);
	ck_assert_uint_eq(aws_retry_backoff_ms(6, 1.0), 20000);
	ck_assert_uint_eq(aws_retry_backoff_ms(31, 1.0), 20000);
	ck_assert_uint_eq(aws_retry_backoff_ms(INT_MAX, 1.0), 20000);
}
END_TEST

START_TEST(default_random)
{
	struct aws_retry_quota	 q;
	struct aws_retry	 r;
	double			 v, lo = 1, hi = 0;
	uint32_t		 d;
	int			 i;

	for (i = 0; i < 10000; i++) {
		v = aws_retry_random(NULL);
		ck_assert(v >= 0.0 && v < 1.0);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	ck_assert(lo < 0.01 && hi > 0.99);
	aws_retry_quota_init(&q);
	aws_retry_begin(&r, &q, NULL, NULL);
	ck_assert_int_eq(aws_retry_next(&r, THROTTLE, AWS_NET_OK, &d), AWS_RETRY_AGAIN);
	ck_assert_uint_lt(d, 1000);
}
END_TEST

/* --- the retry loop and its quota ---------------------------------------------- */

START_TEST(standard_mode)
{
	struct aws_retry_quota	 q;
	struct aws_retry	 r;
	struct fixed		 f = { 0.5, 0 };
	uint32_t		 d;

	aws_retry_quota_init(&q);
	ck_assert_int_eq(q.available, AWS_RETRY_QUOTA);
	aws_retry_begin(&r, &q, fixed_next, &f);
	ck_assert_int_eq(r.max_attempts, 3);
	ck_assert_int_eq(aws_retry_next(&r, THROTTLE, AWS_NET_OK, &d), AWS_RETRY_AGAIN);
	ck_assert_uint_eq(d, 500);
	ck_assert_int_eq(q.available, 495);
	ck_assert_int_eq(aws_retry_next(&r, TRANSIENT, AWS_NET_OK, &d), AWS_RETRY_AGAIN);
	ck_assert_uint_eq(d, 1000);
	ck_assert_int_eq(q.available, 490);
	d = 77;
	ck_assert_int_eq(aws_retry_next(&r, THROTTLE, AWS_NET_OK, &d),
	    AWS_RETRY_EXHAUSTED);
	ck_assert_uint_eq(d, 0);
	ck_assert_int_eq(q.available, 490);	/* the last failure costs nothing */
	ck_assert_uint_eq(f.calls, 2);
	ck_assert_int_eq(r.attempts, 3);

	/* Success after retries gives back what the last retry took. */
	aws_retry_begin(&r, &q, fixed_next, &f);
	ck_assert_int_eq(aws_retry_next(&r, TRANSIENT, AWS_NET_OK, &d), AWS_RETRY_AGAIN);
	ck_assert_int_eq(q.available, 485);
	ck_assert_int_eq(aws_retry_next(&r, OK, AWS_NET_OK, &d), AWS_RETRY_DONE);
	ck_assert_int_eq(q.available, 490);

	/* Success at once gives back one. */
	aws_retry_begin(&r, &q, fixed_next, &f);
	ck_assert_int_eq(aws_retry_next(&r, OK, AWS_NET_OK, &d), AWS_RETRY_DONE);
	ck_assert_uint_eq(d, 0);
	ck_assert_int_eq(q.available, 491);
}
END_TEST

START_TEST(timeouts_cost_more)
{
	struct aws_retry_quota	 q;
	struct aws_retry	 r;
	struct fixed		 f = { 0.0, 0 };
	uint32_t		 d;

	aws_retry_quota_init(&q);
	aws_retry_begin(&r, &q, fixed_next, &f);
	ck_assert_int_eq(aws_retry_next(&r, TRANSIENT, AWS_NET_TIMEOUT, &d),
	    AWS_RETRY_AGAIN);
	ck_assert_int_eq(q.available, 490);
	ck_assert_int_eq(aws_retry_next(&r, TRANSIENT, AWS_NET_ERROR, &d),
	    AWS_RETRY_AGAIN);
	ck_assert_int_eq(q.available, 485);
	/* Like botocore: the refund is the last acquisition only. */
	ck_assert_int_eq(aws_retry_next(&r, OK, AWS_NET_OK, &d), AWS_RETRY_DONE);
	ck_assert_int_eq(q.available, 490);

	aws_retry_begin(&r, &q, fixed_next, &f);
	ck_assert_int_eq(aws_retry_next(&r, TRANSIENT, AWS_NET_TIMEOUT, &d),
	    AWS_RETRY_AGAIN);
	ck_assert_int_eq(q.available, 480);
	ck_assert_int_eq(aws_retry_next(&r, OK, AWS_NET_OK, &d), AWS_RETRY_DONE);
	ck_assert_int_eq(q.available, 490);
}
END_TEST

START_TEST(quota_exhaustion_and_refill)
{
	struct aws_retry_quota	 q;
	struct aws_retry	 r;
	struct lcg		 g = { 7, 0 };
	uint32_t		 d;
	int			 retries = 0, i;

	/* A storm: every call throttled until the bucket is empty. */
	aws_retry_quota_init(&q);
	for (;;) {
		aws_retry_begin(&r, &q, lcg_next, &g);
		if (aws_retry_next(&r, THROTTLE, AWS_NET_OK, &d) != AWS_RETRY_AGAIN)
			break;
		retries++;
		ck_assert_int_ge(q.available, 0);
	}
	ck_assert_int_eq(retries, AWS_RETRY_QUOTA / AWS_RETRY_COST);
	ck_assert_int_eq(q.available, 0);
	ck_assert_int_eq(aws_retry_next(&r, THROTTLE, AWS_NET_OK, &d), AWS_RETRY_NO_QUOTA);

	/* Circuit open: a retryable error is reported at once. */
	aws_retry_begin(&r, &q, lcg_next, &g);
	ck_assert_int_eq(aws_retry_next(&r, TRANSIENT, AWS_NET_OK, &d),
	    AWS_RETRY_NO_QUOTA);
	ck_assert_uint_eq(d, 0);

	/* Each first-time success puts one token back; five make a retry. */
	for (i = 0; i < AWS_RETRY_COST; i++) {
		aws_retry_begin(&r, &q, lcg_next, &g);
		ck_assert_int_eq(aws_retry_next(&r, OK, AWS_NET_OK, &d), AWS_RETRY_DONE);
	}
	ck_assert_int_eq(q.available, AWS_RETRY_COST);
	aws_retry_begin(&r, &q, lcg_next, &g);
	ck_assert_int_eq(aws_retry_next(&r, TRANSIENT, AWS_NET_TIMEOUT, &d),
	    AWS_RETRY_NO_QUOTA);	/* a timeout needs 10 */
	ck_assert_int_eq(aws_retry_next(&r, TRANSIENT, AWS_NET_OK, &d), AWS_RETRY_AGAIN);
	ck_assert_int_eq(q.available, 0);
	ck_assert_int_eq(aws_retry_next(&r, OK, AWS_NET_OK, &d), AWS_RETRY_DONE);
	ck_assert_int_eq(q.available, AWS_RETRY_COST);

	/* Refunds never overfill. */
	q.available = q.max - 2;
	aws_retry_begin(&r, &q, lcg_next, &g);
	ck_assert_int_eq(aws_retry_next(&r, TRANSIENT, AWS_NET_OK, &d), AWS_RETRY_AGAIN);
	q.available = q.max - 1;
	ck_assert_int_eq(aws_retry_next(&r, OK, AWS_NET_OK, &d), AWS_RETRY_DONE);
	ck_assert_int_eq(q.available, q.max);
	for (i = 0; i < 10; i++) {
		aws_retry_begin(&r, &q, lcg_next, &g);
		aws_retry_next(&r, OK, AWS_NET_OK, &d);
	}
	ck_assert_int_eq(q.available, AWS_RETRY_QUOTA);
}
END_TEST

START_TEST(never_retried)
{
	static const enum aws_errclass	 classes[] = { AUTH, VALIDATION, NOT_FOUND, OTHER };
	struct aws_retry_quota		 q;
	struct aws_retry		 r;
	struct lcg			 g = { 1, 0 };
	uint32_t			 d;
	size_t				 i;

	aws_retry_quota_init(&q);
	for (i = 0; i < nitems(classes); i++) {
		aws_retry_begin(&r, &q, lcg_next, &g);
		d = 99;
		ck_assert_int_eq(aws_retry_next(&r, classes[i], AWS_NET_OK, &d),
		    AWS_RETRY_FAIL);
		ck_assert_uint_eq(d, 0);
		/* Not after a retryable error either. */
		aws_retry_begin(&r, &q, lcg_next, &g);
		ck_assert_int_eq(aws_retry_next(&r, THROTTLE, AWS_NET_OK, &d),
		    AWS_RETRY_AGAIN);
		ck_assert_int_eq(aws_retry_next(&r, classes[i], AWS_NET_OK, &d),
		    AWS_RETRY_FAIL);
	}
	ck_assert_int_eq(q.available, AWS_RETRY_QUOTA - 4 * AWS_RETRY_COST);
	ck_assert_uint_eq(g.calls, 4);	/* only the throttles drew a delay */

	/* And by what AWS said, end to end. */
	aws_retry_begin(&r, &q, lcg_next, &g);
	ck_assert_int_eq(aws_retry_next(&r, aws_classify(400, "ValidationError",
	    "No updates are to be performed.", AWS_NET_OK), AWS_NET_OK, &d),
	    AWS_RETRY_FAIL);
	aws_retry_begin(&r, &q, lcg_next, &g);
	ck_assert_int_eq(aws_retry_next(&r, aws_classify(403, "AccessDenied", NULL,
	    AWS_NET_OK), AWS_NET_OK, &d), AWS_RETRY_FAIL);
	aws_retry_begin(&r, &q, lcg_next, &g);
	ck_assert_int_eq(aws_retry_next(&r, aws_classify(403, "InvalidClientTokenId",
	    NULL, AWS_NET_OK), AWS_NET_OK, &d), AWS_RETRY_FAIL);
}
END_TEST

START_TEST(once_only_retries)
{
	struct aws_retry_quota	 q;
	struct aws_retry	 r;
	struct fixed		 f = { 0.75, 0 };
	uint32_t		 d;

	aws_retry_quota_init(&q);

	/* Skew: one immediate retry (the clock offset is the fix), then final. */
	aws_retry_begin(&r, &q, fixed_next, &f);
	d = 99;
	ck_assert_int_eq(aws_retry_next(&r, SKEW, AWS_NET_OK, &d), AWS_RETRY_AGAIN);
	ck_assert_uint_eq(d, 0);
	ck_assert_int_eq(q.available, 495);
	ck_assert_int_eq(aws_retry_next(&r, SKEW, AWS_NET_OK, &d), AWS_RETRY_FAIL);
	ck_assert_uint_eq(f.calls, 0);

	/* Expired credentials: the same, after a refresh. */
	aws_retry_begin(&r, &q, fixed_next, &f);
	ck_assert_int_eq(aws_retry_next(&r, EXPIRED, AWS_NET_OK, &d), AWS_RETRY_AGAIN);
	ck_assert_uint_eq(d, 0);
	ck_assert_int_eq(aws_retry_next(&r, EXPIRED, AWS_NET_OK, &d), AWS_RETRY_FAIL);

	/* Each kind once per call; a throttle after a skew still backs off. */
	aws_retry_begin(&r, &q, fixed_next, &f);
	ck_assert_int_eq(aws_retry_next(&r, SKEW, AWS_NET_OK, &d), AWS_RETRY_AGAIN);
	ck_assert_int_eq(aws_retry_next(&r, THROTTLE, AWS_NET_OK, &d), AWS_RETRY_AGAIN);
	ck_assert_uint_eq(d, 1500);	/* 0.75 * 2 s: the second attempt failed */
	ck_assert_int_eq(aws_retry_next(&r, EXPIRED, AWS_NET_OK, &d),
	    AWS_RETRY_EXHAUSTED);

	aws_retry_begin(&r, &q, fixed_next, &f);
	ck_assert_int_eq(aws_retry_next(&r, SKEW, AWS_NET_OK, &d), AWS_RETRY_AGAIN);
	ck_assert_int_eq(aws_retry_next(&r, EXPIRED, AWS_NET_OK, &d), AWS_RETRY_AGAIN);
	ck_assert_int_eq(aws_retry_next(&r, OK, AWS_NET_OK, &d), AWS_RETRY_DONE);

	/* A fresh call gets its own once-only retries. */
	aws_retry_begin(&r, &q, fixed_next, &f);
	ck_assert_int_eq(aws_retry_next(&r, SKEW, AWS_NET_OK, &d), AWS_RETRY_AGAIN);
}
END_TEST

START_TEST(max_attempts_adjustable)
{
	struct aws_retry_quota	 q;
	struct aws_retry	 r;
	struct fixed		 f = { 0.5, 0 };
	uint32_t		 d;
	int			 i;

	aws_retry_quota_init(&q);
	aws_retry_begin(&r, &q, fixed_next, &f);
	r.max_attempts = 1;
	ck_assert_int_eq(aws_retry_next(&r, THROTTLE, AWS_NET_OK, &d),
	    AWS_RETRY_EXHAUSTED);
	ck_assert_int_eq(q.available, AWS_RETRY_QUOTA);

	aws_retry_begin(&r, &q, fixed_next, &f);
	r.max_attempts = 10;
	for (i = 1; i < 10; i++) {
		ck_assert_int_eq(aws_retry_next(&r, TRANSIENT, AWS_NET_OK, &d),
		    AWS_RETRY_AGAIN);
		ck_assert_uint_eq(d, aws_retry_backoff_ms(i, 0.5));
		ck_assert_uint_le(d, 10000);
	}
	ck_assert_int_eq(aws_retry_next(&r, TRANSIENT, AWS_NET_OK, &d),
	    AWS_RETRY_EXHAUSTED);
}
END_TEST

START_TEST(names)
{
	ck_assert_str_eq(aws_errclass_name(OK), "ok");
	ck_assert_str_eq(aws_errclass_name(THROTTLE), "throttle");
	ck_assert_str_eq(aws_errclass_name(TRANSIENT), "transient");
	ck_assert_str_eq(aws_errclass_name(SKEW), "clock-skew");
	ck_assert_str_eq(aws_errclass_name(EXPIRED), "expired-credentials");
	ck_assert_str_eq(aws_errclass_name(AUTH), "auth");
	ck_assert_str_eq(aws_errclass_name(VALIDATION), "validation");
	ck_assert_str_eq(aws_errclass_name(NOT_FOUND), "not-found");
	ck_assert_str_eq(aws_errclass_name(OTHER), "other");
	ck_assert_str_eq(aws_errclass_name((enum aws_errclass)99), "?");
	ck_assert_str_eq(aws_retry_verdict_name(AWS_RETRY_DONE), "done");
	ck_assert_str_eq(aws_retry_verdict_name(AWS_RETRY_AGAIN), "again");
	ck_assert_str_eq(aws_retry_verdict_name(AWS_RETRY_FAIL), "fail");
	ck_assert_str_eq(aws_retry_verdict_name(AWS_RETRY_EXHAUSTED), "exhausted");
	ck_assert_str_eq(aws_retry_verdict_name(AWS_RETRY_NO_QUOTA), "no-quota");
	ck_assert_str_eq(aws_retry_verdict_name((enum aws_retry_verdict)-1), "?");
}
END_TEST

Suite *
aws_retry_suite(void)
{
	Suite	*s = suite_create("aws_retry");
	TCase	*tc;

	tc = tcase_create("classify");
	tcase_add_loop_test(tc, classify_table, 0, (int)nitems(table));
	tcase_add_test(tc, throttle_codes);
	tcase_add_loop_test(tc, classify_bodies, 0, (int)nitems(bodies));
	tcase_add_test(tc, classify_unparsed);
	tcase_add_test(tc, names);
	suite_add_tcase(s, tc);

	tc = tcase_create("backoff");
	tcase_add_test(tc, backoff_bounds);
	tcase_add_test(tc, backoff_edges);
	tcase_add_test(tc, default_random);
	suite_add_tcase(s, tc);

	tc = tcase_create("retry");
	tcase_add_test(tc, standard_mode);
	tcase_add_test(tc, timeouts_cost_more);
	tcase_add_test(tc, quota_exhaustion_and_refill);
	tcase_add_test(tc, never_retried);
	tcase_add_test(tc, once_only_retries);
	tcase_add_test(tc, max_attempts_adjustable);
	suite_add_tcase(s, tc);
	return s;
}
