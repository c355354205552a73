/*
 * Endpoint resolution (see endpoint.h). The URL parser is deliberately narrow: what
 * it accepts is exactly what the HTTP client will connect to and what the signer
 * will put in the Host header, so the two can never disagree about a port.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon/aws/endpoint.h"

#define ENV_ALL		"AWS_ENDPOINT_URL"
#define ENV_IGNORE	"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"

const char *
aws_endpoint_getenv(const char *name, void *arg)
{
	(void)arg;
	return getenv(name);
}

const char *
aws_endpoint_source_name(enum aws_endpoint_source s)
{
	switch (s) {
	case AWS_EP_CONFIG_SERVICE:
		return "deployment service endpoint";
	case AWS_EP_CONFIG_ALL:
		return "deployment endpoint_url";
	case AWS_EP_ENV_SERVICE:
		return "AWS_ENDPOINT_URL_<SERVICE>";
	case AWS_EP_ENV_ALL:
		return "AWS_ENDPOINT_URL";
	case AWS_EP_DEFAULT:
		return "default";
	}
	return "?";
}

static int
host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

/* RFC 3986 pchar and '/', with '%' only as the start of an escape. */
static int
path_ok(const char *p)
{
	static const char extra[] = "-._~!$&'()*+,;=:@/";

	for (; *p != '\0'; p++) {
		if (*p == '%') {
			if (strchr("0123456789abcdefABCDEF", p[1]) == NULL || p[1] == '\0' ||
			    strchr("0123456789abcdefABCDEF", p[2]) == NULL || p[2] == '\0')
				return 0;
			p += 2;
		} else if (!host_char(*p) && strchr(extra, *p) == NULL)
			return 0;
	}
	return 1;
}

/* Length of the host at s: a name, an IPv4 or a bracketed IPv6 literal; 0 if bad. */
static size_t
host_len(const char *s)
{
	size_t	 n;

	if (*s == '[') {
		n = 1 + strspn(s + 1, "0123456789abcdefABCDEF:.");
		return s[n] == ']' && n > 2 ? n + 1 : 0;
	}
	for (n = 0; host_char(s[n]); n++)
		;
	return n;
}

/* The port at s (after ':'): digits only, 1..65535; its length in *len. -1 if bad. */
static long
port_parse(const char *s, size_t *len)
{
	long	 port = 0;
	size_t	 n;

	for (n = 0; s[n] >= '0' && s[n] <= '9'; n++) {
		port = port * 10 + (s[n] - '0');
		if (port > 65535)
			return -1;
	}
	*len = n;
	return n == 0 || port == 0 ? -1 : port;
}

static int
fail(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s", why);
	return -1;
}

/* The part after "scheme://": host[:port][path]. */
static int
parse_authority(const char *a, int https, struct aws_endpoint *out, char *err,
    size_t errlen)
{
	size_t	 hn, pn = 0;
	long	 port = -1;
	const char *path;

	if ((hn = host_len(a)) == 0)
		return fail(err, errlen, "no valid host name or address");
	path = a + hn;
	if (*path == ':') {
		if ((port = port_parse(path + 1, &pn)) == -1)
			return fail(err, errlen, "the port is not a number from 1 to 65535");
		path += 1 + pn;
	}
	if (*path == '@')
		return fail(err, errlen, "user information in the URL is not allowed");
	if (*path != '\0' && *path != '/')
		return fail(err, errlen, "unexpected characters after the host");
	if (strpbrk(path, "?#") != NULL)
		return fail(err, errlen, "a query or fragment is not allowed");
	if (!path_ok(path))
		return fail(err, errlen, "the path has characters that need escaping");
	if (port == -1 || port == (https ? 443 : 80))
		snprintf(out->host, sizeof(out->host), "%.*s", (int)hn, a);
	else if ((size_t)snprintf(out->host, sizeof(out->host), "%.*s:%ld", (int)hn, a,
	    port) >= sizeof(out->host))
		return fail(err, errlen, "the host name is too long");
	snprintf(out->path, sizeof(out->path), "%s", *path == '\0' ? "/" : path);
	return 0;
}

int
aws_endpoint_parse(const char *url, struct aws_endpoint *out, char *err, size_t errlen)
{
	const char	*a;
	int		 https;

	if (url == NULL || *url == '\0')
		return fail(err, errlen, "empty URL");
	if (strlen(url) > AWS_ENDPOINT_URL_MAX)
		return fail(err, errlen, "URL too long");
	if (strncasecmp(url, "https://", 8) == 0) {
		https = 1;
		a = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		https = 0;
		a = url + 7;
	} else
		return fail(err, errlen, "not an http:// or https:// URL");
	if (parse_authority(a, https, out, err, errlen) == -1)
		return -1;
	out->https = https;
	/* The scheme in lower case; host and port exactly as written. */
	if ((size_t)snprintf(out->url, sizeof(out->url), "%s://%.*s%s",
	    https ? "https" : "http", (int)strcspn(a, "/"), a, out->path) >=
	    sizeof(out->url))
		return fail(err, errlen, "URL too long");
	return 0;
}

static int
region_ok(const char *r)
{
	size_t	 n;

	if (r == NULL || (n = strlen(r)) == 0 || n > AWS_ENDPOINT_REGION_MAX)
		return 0;
	return strspn(r, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

static const char *
env_value(aws_getenv_fn env, void *arg, const char *name)
{
	const char	*v = env(name, arg);

	return v != NULL && *v != '\0' ? v : NULL;
}

/* The override for svc, most specific first, or NULL for AWS's own endpoint. */
static const char *
choose(const struct aws_service_info *si, const char *svc_url, const char *all_url,
    aws_getenv_fn env, void *arg, enum aws_endpoint_source *src)
{
	const char	*v;
	char		 name[96];

	*src = AWS_EP_CONFIG_SERVICE;
	if (svc_url != NULL && *svc_url != '\0')
		return svc_url;
	*src = AWS_EP_CONFIG_ALL;
	if (all_url != NULL && *all_url != '\0')
		return all_url;
	/* The switch covers the environment only, as in the SDKs' precedence table. */
	v = env_value(env, arg, ENV_IGNORE);
	if (v == NULL || strcasecmp(v, "true") != 0) {
		snprintf(name, sizeof(name), "%s_%s", ENV_ALL, si->env);
		*src = AWS_EP_ENV_SERVICE;
		if ((v = env_value(env, arg, name)) != NULL)
			return v;
		*src = AWS_EP_ENV_ALL;
		if ((v = env_value(env, arg, ENV_ALL)) != NULL)
			return v;
	}
	*src = AWS_EP_DEFAULT;
	return NULL;
}

int
aws_endpoint_resolve(enum aws_service svc, const char *region, const char *svc_url,
    const char *all_url, aws_getenv_fn env, void *env_arg, struct aws_endpoint *out,
    char *err, size_t errlen)
{
	const struct aws_service_info	*si;
	enum aws_endpoint_source	 src;
	const char			*url;
	char				 buf[AWS_ENDPOINT_URL_MAX + 1], why[128];

	memset(out, 0, sizeof(*out));
	if ((si = aws_service_info(svc)) == NULL)
		return fail(err, errlen, "unknown service");
	if (!region_ok(region)) {
		snprintf(err, errlen, "region \"%.40s\" is not a valid region name",
		    region != NULL ? region : "");
		return -1;
	}
	if ((url = choose(si, svc_url, all_url, env != NULL ? env : aws_endpoint_getenv,
	    env_arg, &src)) == NULL) {
		/* China's partition has its own DNS suffix (endpoints.json). */
		snprintf(buf, sizeof(buf), "https://%s.%s.amazonaws.com%s", si->endpoint,
		    region, strncmp(region, "cn-", 3) == 0 ? ".cn" : "");
		url = buf;
	}
	if (aws_endpoint_parse(url, out, why, sizeof(why)) == -1) {
		if (src == AWS_EP_ENV_SERVICE)
			snprintf(err, errlen, "%s endpoint from %s_%s: %s", si->id,
			    ENV_ALL, si->env, why);
		else
			snprintf(err, errlen, "%s endpoint from %s: %s", si->id,
			    aws_endpoint_source_name(src), why);
		return -1;
	}
	out->source = src;
	return 0;
}
