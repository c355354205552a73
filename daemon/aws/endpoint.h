/*
 * Where the requests of one AWS service go: the default regional endpoint, or an
 * override, chosen in the AWS CLI's precedence (most specific first):
 *   1. the deployment's per-service endpoint (like a [services] section),
 *   2. the deployment's endpoint_url (like --endpoint-url),
 *   3. AWS_ENDPOINT_URL_<SERVICE> (serviceId upper-cased, spaces as '_'),
 *   4. AWS_ENDPOINT_URL,
 *   5. https://{endpoint-prefix}.{region}.amazonaws.com (".com.cn" in cn-* regions).
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true turns 3 and 4 off; what the operator wrote
 * in the configuration file always holds.
 *
 * Pure: no I/O, no logging; the environment is read through the caller's function,
 * so tests need not touch the process environment. It must never derive the region
 * or the signing name from a host: those come from the configuration and the
 * service table, whatever the URL says (127.0.0.1 names neither).
 */
#ifndef BB_AWS_ENDPOINT_H
#define BB_AWS_ENDPOINT_H

#include <stddef.h>

#include "daemon/aws/query.h"

#define AWS_ENDPOINT_URL_MAX	512
#define AWS_ENDPOINT_HOST_MAX	300	/* host[:port], as the Host header */
#define AWS_ENDPOINT_REGION_MAX	32

enum aws_endpoint_source {
	AWS_EP_CONFIG_SERVICE,		/* the deployment's endpoint for this service */
	AWS_EP_CONFIG_ALL,		/* the deployment's endpoint_url */
	AWS_EP_ENV_SERVICE,		/* AWS_ENDPOINT_URL_<SERVICE> */
	AWS_EP_ENV_ALL,			/* AWS_ENDPOINT_URL */
	AWS_EP_DEFAULT			/* AWS's regional endpoint */
};

/* A resolved endpoint: send "POST path" to url with "Host: host", signed as is. */
struct aws_endpoint {
	char			 url[AWS_ENDPOINT_URL_MAX + 1];	/* scheme://host[:port]path */
	char			 host[AWS_ENDPOINT_HOST_MAX + 1];	/* ":port" if not default */
	char			 path[AWS_ENDPOINT_URL_MAX + 1];	/* "/" unless the URL has one */
	int			 https;
	enum aws_endpoint_source source;
};

/* Looks up an environment variable; NULL if unset. */
typedef const char	*(*aws_getenv_fn)(const char *name, void *arg);

/* getenv(3) in the aws_getenv_fn shape. */
const char	*aws_endpoint_getenv(const char *name, void *arg);

/*
 * The endpoint of svc in region: svc_url and all_url are the deployment's overrides
 * (NULL or "" if none), env reads the environment (NULL: aws_endpoint_getenv). An
 * empty environment variable counts as unset. 0, or -1 with a reason in err if the
 * region is not [a-z0-9-] or the chosen URL is not one aws_endpoint_parse() takes
 * (the error names where the URL came from).
 */
int	aws_endpoint_resolve(enum aws_service svc, const char *region, const char *svc_url,
	    const char *all_url, aws_getenv_fn env, void *env_arg,
	    struct aws_endpoint *out, char *err, size_t errlen);

/*
 * Parses an endpoint URL: http or https (any case), a host name, IPv4 or [IPv6]
 * literal, an optional port 1-65535, an optional path; no user info, query or
 * fragment. 0 with out filled (source left alone), or -1 with err saying why.
 */
int	aws_endpoint_parse(const char *url, struct aws_endpoint *out, char *err,
	    size_t errlen);

const char	*aws_endpoint_source_name(enum aws_endpoint_source);

#endif
