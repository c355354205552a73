/*
 * AWS Query and EC2 protocol request bodies: an ordered list of (name, value) pairs,
 * "Action" and "Version" first, form-encoded with RFC 3986 percent-encoding. The
 * services' table is in common/aws_services.h.
 *
 * Pure: no I/O, no clock, no logging. It must never send a half-built request: any
 * failure (bad name, out of memory, a value that cannot be serialised) sticks to the
 * query and makes aws_query_encode() fail, so callers may add a run of parameters and
 * check once. It validates shapes only where AWS's answer to a bad value would come
 * too late (ClientRequestToken); everything else is AWS's to judge.
 */
#ifndef BB_AWS_QUERY_H
#define BB_AWS_QUERY_H

#include <stddef.h>
#include <time.h>

#include "common/aws_services.h"

#define AWS_QUERY_NAME_MAX	255		/* longest parameter name */
#define AWS_QUERY_VALUE_MAX	(1024 * 1024)	/* longest value, bytes */
#define AWS_QUERY_MAX_PARAMS	20000		/* GetMetricData: 500 queries x ~10 */
#define AWS_QUERY_TOKEN_MAX	128		/* ClientRequestToken */

struct aws_query_param {
	char	*name;		/* name and value share one allocation */
	char	*value;
};

struct aws_query {
	enum aws_service	 service;
	struct aws_query_param	*params;
	size_t			 nparams;
	size_t			 cap;
	int			 failed;		/* sticky: encode refuses */
	char			 key[AWS_QUERY_NAME_MAX + 1];	/* aws_query_key() */
};

/*
 * Starts a request for action ([A-Za-z0-9]+) on svc: Action and Version go first.
 * 0, or -1 (bad action or service, out of memory) with q still safe to free.
 */
int	aws_query_init(struct aws_query *q, enum aws_service svc, const char *action);
void	aws_query_free(struct aws_query *q);

/*
 * Formats a parameter name into q's scratch buffer and returns it, for the one add
 * that follows: aws_query_add(q, aws_query_key(q, "Parameters.member.%zu.ParameterKey",
 * i), k). NULL (and q fails) if the name is longer than AWS_QUERY_NAME_MAX; the adders
 * take NULL as a failure, so the call chain stays flat.
 */
const char *aws_query_key(struct aws_query *q, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * The adders: 0, or -1 and q fails. A name is [A-Za-z0-9._-], not Action or Version;
 * a value is any bytes up to AWS_QUERY_VALUE_MAX (the empty string is sent as "Name=").
 */
int	aws_query_add(struct aws_query *q, const char *name, const char *value);
int	aws_query_add_bool(struct aws_query *q, const char *name, int value);
int	aws_query_add_int(struct aws_query *q, const char *name, long long value);
/* ISO 8601 UTC, "%Y-%m-%dT%H:%M:%SZ"; t from 1970 to 9999. */
int	aws_query_add_time(struct aws_query *q, const char *name, time_t t);

/*
 * Query list Name.member.1..n (Query services only). Like botocore, an empty list is
 * sent as "Name=" rather than left out: omit the call to leave the list out.
 */
int	aws_query_add_list(struct aws_query *q, const char *name,
	    const char *const *values, size_t n);

/* EC2 flattened list Name.1..n (EC2 only); an empty list sends nothing, as botocore. */
int	aws_query_add_flat(struct aws_query *q, const char *name,
	    const char *const *values, size_t n);

/* EC2 Filter.<index>.Name=name, Filter.<index>.Value.1..n (index from 1; EC2 only). */
int	aws_query_add_filter(struct aws_query *q, size_t index, const char *name,
	    const char *const *values, size_t n);

/* The value of the first parameter called name, or NULL. */
const char *aws_query_get(const struct aws_query *q, const char *name);

/*
 * The body, application/x-www-form-urlencoded: name=value pairs joined by '&' in
 * insertion order, both percent-encoded per RFC 3986 (space as %20, as SigV4 does).
 * 0 with a malloc'ed NUL-terminated body in *out and its length in *len; -1 if q has
 * failed or memory ran out.
 */
int	aws_query_encode(const struct aws_query *q, char **out, size_t *len);

/*
 * A CloudFormation ClientRequestToken: 1..128 of [a-zA-Z0-9][-a-zA-Z0-9]* (model
 * pattern). 0 if token is one, -1 otherwise (NULL included). Checked before sending
 * because the token names one logical step across retries: a token AWS refuses would
 * surface only as a ValidationError after the fact.
 */
int	aws_query_check_token(const char *token);

#endif
