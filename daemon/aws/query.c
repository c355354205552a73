/*
 * Query/EC2 request bodies (see query.h). Never sends anything and never logs: a
 * value may be a secret-bearing parameter, so nothing here prints one. A failed add
 * poisons the query rather than leaving a request with a parameter silently missing
 * (an omitted CloudFormation parameter reverts to its template default).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sigv4.h"
#include "daemon/aws/query.h"

#define ACTION_MAX	64

static int
is_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static int
valid_name(const char *name)
{
	size_t	 i;

	if (name == NULL || name[0] == '\0')
		return 0;
	for (i = 0; name[i] != '\0'; i++) {
		if (i >= AWS_QUERY_NAME_MAX)
			return 0;
		if (!is_alnum((unsigned char)name[i]) && name[i] != '.' &&
		    name[i] != '_' && name[i] != '-')
			return 0;
	}
	return 1;
}

static int
fail(struct aws_query *q)
{
	q->failed = 1;
	return -1;
}

static int
grow(struct aws_query *q)
{
	struct aws_query_param	*p;
	size_t			 ncap;

	if (q->nparams >= AWS_QUERY_MAX_PARAMS)
		return -1;
	if (q->nparams < q->cap)
		return 0;
	ncap = q->cap == 0 ? 16 : q->cap * 2;
	if ((p = reallocarray(q->params, ncap, sizeof(*p))) == NULL)
		return -1;
	q->params = p;
	q->cap = ncap;
	return 0;
}

/* Appends without the reserved-name check: init uses it for Action and Version. */
static int
append(struct aws_query *q, const char *name, const char *value)
{
	struct aws_query_param	*p;
	size_t			 nlen, vlen;
	char			*buf;

	if (q->failed || name == NULL || value == NULL || !valid_name(name))
		return fail(q);
	nlen = strlen(name);
	vlen = strnlen(value, AWS_QUERY_VALUE_MAX + 1);
	if (vlen > AWS_QUERY_VALUE_MAX || grow(q) == -1)
		return fail(q);
	if ((buf = malloc(nlen + 1 + vlen + 1)) == NULL)
		return fail(q);
	memcpy(buf, name, nlen + 1);
	memcpy(buf + nlen + 1, value, vlen + 1);
	p = &q->params[q->nparams++];
	p->name = buf;
	p->value = buf + nlen + 1;
	return 0;
}

int
aws_query_init(struct aws_query *q, enum aws_service svc, const char *action)
{
	const struct aws_service_info	*si;
	size_t				 i;

	memset(q, 0, sizeof(*q));
	q->service = svc;
	if ((si = aws_service_info(svc)) == NULL || action == NULL ||
	    action[0] == '\0')
		return fail(q);
	for (i = 0; action[i] != '\0'; i++)
		if (i >= ACTION_MAX || !is_alnum((unsigned char)action[i]))
			return fail(q);
	if (append(q, "Action", action) == -1 ||
	    append(q, "Version", si->version) == -1)
		return -1;
	return 0;
}

void
aws_query_free(struct aws_query *q)
{
	size_t	 i;

	if (q == NULL)
		return;
	for (i = 0; i < q->nparams; i++)
		free(q->params[i].name);
	free(q->params);
	q->params = NULL;
	q->nparams = q->cap = 0;
}

const char *
aws_query_key(struct aws_query *q, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(q->key, sizeof(q->key), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(q->key)) {
		q->key[0] = '\0';
		fail(q);
		return NULL;
	}
	return q->key;
}

int
aws_query_add(struct aws_query *q, const char *name, const char *value)
{
	/* Set by init, once: a second Version would be the caller's bug. */
	if (name != NULL && (strcmp(name, "Action") == 0 ||
	    strcmp(name, "Version") == 0))
		return fail(q);
	return append(q, name, value);
}

int
aws_query_add_bool(struct aws_query *q, const char *name, int value)
{
	return aws_query_add(q, name, value ? "true" : "false");
}

int
aws_query_add_int(struct aws_query *q, const char *name, long long value)
{
	char	 buf[32];

	snprintf(buf, sizeof(buf), "%lld", value);
	return aws_query_add(q, name, buf);
}

int
aws_query_add_time(struct aws_query *q, const char *name, time_t t)
{
	struct tm	 tm;
	char		 buf[32];

	if (t < 0 || gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999)
		return fail(q);
	if (strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return fail(q);
	return aws_query_add(q, name, buf);
}

/*
 * A list's base name, copied out: it may be q->key itself (from aws_query_key()),
 * which formatting the member names is about to overwrite.
 */
static int
copy_name(struct aws_query *q, char base[AWS_QUERY_NAME_MAX + 1], const char *name)
{
	if (q->failed || !valid_name(name))
		return -1;
	memcpy(base, name, strlen(name) + 1);
	return 0;
}

static int
is_protocol(struct aws_query *q, enum aws_protocol proto)
{
	const struct aws_service_info	*si = aws_service_info(q->service);

	return si != NULL && si->protocol == proto;
}

int
aws_query_add_list(struct aws_query *q, const char *name,
    const char *const *values, size_t n)
{
	char	 base[AWS_QUERY_NAME_MAX + 1];
	size_t	 i;

	if (!is_protocol(q, AWS_PROTO_QUERY) || copy_name(q, base, name) == -1 ||
	    (n > 0 && values == NULL))
		return fail(q);
	if (n == 0)
		return aws_query_add(q, base, "");
	for (i = 0; i < n; i++)
		if (aws_query_add(q, aws_query_key(q, "%s.member.%zu", base, i + 1),
		    values[i]) == -1)
			return -1;
	return 0;
}

int
aws_query_add_flat(struct aws_query *q, const char *name,
    const char *const *values, size_t n)
{
	char	 base[AWS_QUERY_NAME_MAX + 1];
	size_t	 i;

	if (!is_protocol(q, AWS_PROTO_EC2) || copy_name(q, base, name) == -1 ||
	    (n > 0 && values == NULL))
		return fail(q);
	for (i = 0; i < n; i++)
		if (aws_query_add(q, aws_query_key(q, "%s.%zu", base, i + 1),
		    values[i]) == -1)
			return -1;
	return 0;
}

int
aws_query_add_filter(struct aws_query *q, size_t index, const char *name,
    const char *const *values, size_t n)
{
	if (index == 0 || !is_protocol(q, AWS_PROTO_EC2))
		return fail(q);
	if (aws_query_add(q, aws_query_key(q, "Filter.%zu.Name", index), name) == -1)
		return -1;
	/* "Filter.N.Value" is at most 28 bytes: the key always fits. */
	return aws_query_add_flat(q, aws_query_key(q, "Filter.%zu.Value", index),
	    values, n);
}

const char *
aws_query_get(const struct aws_query *q, const char *name)
{
	size_t	 i;

	for (i = 0; i < q->nparams; i++)
		if (strcmp(q->params[i].name, name) == 0)
			return q->params[i].value;
	return NULL;
}

static size_t
encoded_len(const char *s)
{
	return sigv4_uri_encode(s, strlen(s), NULL, 0, 0);
}

/* Encodes s at out, which has room (measured by encoded_len()); returns the end. */
static char *
encode_at(char *out, const char *s)
{
	size_t	 n = encoded_len(s);

	sigv4_uri_encode(s, strlen(s), out, n + 1, 0);
	return out + n;
}

int
aws_query_encode(const struct aws_query *q, char **out, size_t *len)
{
	size_t	 i, total = 0, part;
	char	*buf, *p;

	*out = NULL;
	*len = 0;
	if (q->failed || q->nparams < 2)
		return -1;
	/* Each part is bounded (name and value limits), so only the sum can overflow. */
	for (i = 0; i < q->nparams; i++) {
		part = encoded_len(q->params[i].name) + 1 +
		    encoded_len(q->params[i].value) + 1;
		if (total > SIZE_MAX - part)
			return -1;
		total += part;
	}
	if ((buf = malloc(total)) == NULL)
		return -1;
	p = buf;
	for (i = 0; i < q->nparams; i++) {
		if (i > 0)
			*p++ = '&';
		p = encode_at(p, q->params[i].name);
		*p++ = '=';
		p = encode_at(p, q->params[i].value);
	}
	*p = '\0';
	*out = buf;
	*len = (size_t)(p - buf);
	return 0;
}

int
aws_query_check_token(const char *token)
{
	size_t	 i;

	if (token == NULL || !is_alnum((unsigned char)token[0]))
		return -1;
	for (i = 1; token[i] != '\0'; i++)
		if (i >= AWS_QUERY_TOKEN_MAX ||
		    (!is_alnum((unsigned char)token[i]) && token[i] != '-'))
			return -1;
	return 0;
}
