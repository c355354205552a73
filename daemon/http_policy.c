/*
 * What the HTTP client (http.c) may send where, and what its trace may show: the
 * URL policy (https anywhere; plain http only to loopback and the link-local
 * credential services, checked again on the address curl connects to) and the
 * redaction of credential headers and presigned-URL parameters in trace lines. All
 * pure. Must never let a URL through that http.c's connect-time check could not
 * hold to, nor let any byte of a credential's value into a redacted line.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "common/log.h"
#include "daemon/http.h"
#include "daemon/http_int.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* Link-local credential services, plain http by design: EC2 instance metadata, ECS
 * container credentials, EKS Pod Identity. */
static const char *const metadata_v4[] = { "169.254.169.254", "169.254.170.2",
    "169.254.170.23" };
static const char *const metadata_v6[] = { "fd00:ec2::254", "fd00:ec2::23" };
#define REDACTED	"<redacted>"

static const char *const secret_headers[] = {
	"Authorization", "Proxy-Authorization", "X-Amz-Security-Token",
	"X-aws-ec2-metadata-token", "Cookie", "Set-Cookie"
};
/* A presigned URL carries its credentials in the query string. */
static const char *const secret_params[] = {
	"X-Amz-Security-Token", "X-Amz-Signature", "X-Amz-Credential"
};

/* ---- Redaction (pure) ---- */

struct outbuf {
	char	*p;
	size_t	 left;		/* including the NUL */
	bool	 cut;
};

static void
out_put(struct outbuf *o, const char *s, size_t n)
{
	if (n >= o->left) {
		n = o->left - 1;
		o->cut = true;
	}
	memcpy(o->p, s, n);
	o->p += n;
	o->left -= n;
	*o->p = '\0';
}

/* Length of "Name:" if line is a credential header (any case, blanks before ':'). */
static size_t
secret_header(const char *line, size_t len)
{
	for (size_t i = 0; i < nitems(secret_headers); i++) {
		size_t n = strlen(secret_headers[i]), j = n;

		if (len < n || strncasecmp(line, secret_headers[i], n) != 0)
			continue;
		while (j < len && (line[j] == ' ' || line[j] == '\t'))
			j++;
		if (j < len && line[j] == ':')
			return j + 1;
	}
	return 0;
}

/* Length of "name=" if s starts a credential query parameter. */
static size_t
secret_param(const char *s, size_t len)
{
	for (size_t i = 0; i < nitems(secret_params); i++) {
		size_t n = strlen(secret_params[i]);

		if (len > n && strncasecmp(s, secret_params[i], n) == 0 && s[n] == '=')
			return n + 1;
	}
	return 0;
}

/* Copies line[0..len) with the values of credential query parameters redacted. */
static void
redact_params(struct outbuf *o, const char *line, size_t len)
{
	size_t i = 0, from = 0, n;

	while (i < len) {
		if ((line[i] != '?' && line[i] != '&') ||
		    (n = secret_param(line + i + 1, len - i - 1)) == 0) {
			i++;
			continue;
		}
		out_put(o, line + from, i + 1 + n - from);
		out_put(o, REDACTED, strlen(REDACTED));
		i += 1 + n;
		while (i < len && strchr("& #", line[i]) == NULL)
			i++;
		from = i;
	}
	out_put(o, line + from, len - from);
}

int
http_redact_header(const char *line, char *out, size_t outsz)
{
	struct outbuf o = { out, outsz, false };
	size_t len, n;

	if (out == NULL || outsz == 0)
		return -1;
	*out = '\0';
	if (line == NULL)
		return -1;
	len = strcspn(line, "\r\n");
	if (len > 0 && (line[0] == ' ' || line[0] == '\t')) {
		/* A folded continuation: it may continue a credential header. */
		out_put(&o, " " REDACTED, strlen(" " REDACTED));
	} else if ((n = secret_header(line, len)) > 0) {
		out_put(&o, line, n);
		out_put(&o, " " REDACTED, strlen(" " REDACTED));
	} else
		redact_params(&o, line, len);
	return o.cut ? -1 : 0;
}

/* ---- URL and address policy (pure) ---- */

static enum http_plain
addr_kind(int family, const void *addr)
{
	const struct in6_addr *a6 = addr;
	const struct in_addr *a4 = addr;
	struct in6_addr m6;
	struct in_addr m4;

	if (family == AF_INET) {
		if ((ntohl(a4->s_addr) >> 24) == 127)
			return HTTP_PLAIN_LOOPBACK;
		for (size_t i = 0; i < nitems(metadata_v4); i++)
			if (inet_pton(AF_INET, metadata_v4[i], &m4) == 1 &&
			    a4->s_addr == m4.s_addr)
				return HTTP_PLAIN_METADATA;
		return HTTP_PLAIN_NO;
	}
	if (family != AF_INET6)
		return HTTP_PLAIN_NO;
	if (IN6_IS_ADDR_LOOPBACK(a6) || (IN6_IS_ADDR_V4MAPPED(a6) && a6->s6_addr[12] == 127))
		return HTTP_PLAIN_LOOPBACK;
	for (size_t i = 0; i < nitems(metadata_v6); i++)
		if (inet_pton(AF_INET6, metadata_v6[i], &m6) == 1 &&
		    memcmp(a6, &m6, sizeof(m6)) == 0)
			return HTTP_PLAIN_METADATA;
	return HTTP_PLAIN_NO;
}

enum http_plain
http_sockaddr_kind(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return addr_kind(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr);
	if (sa->sa_family == AF_INET6)
		return addr_kind(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr);
	return HTTP_PLAIN_NO;
}

/* Where plain http to host (as curl's URL parser gives it) may go. */
static enum http_plain
host_kind(const char *host)
{
	struct in6_addr a6;
	struct in_addr a4;
	char buf[INET6_ADDRSTRLEN];
	size_t n = strlen(host);

	if (strcasecmp(host, "localhost") == 0)
		return HTTP_PLAIN_LOOPBACK;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return addr_kind(AF_INET, &a4);
	if (n < 3 || n - 2 >= sizeof(buf) || host[0] != '[' || host[n - 1] != ']')
		return HTTP_PLAIN_NO;
	memcpy(buf, host + 1, n - 2);
	buf[n - 2] = '\0';
	if (inet_pton(AF_INET6, buf, &a6) != 1)
		return HTTP_PLAIN_NO;
	return addr_kind(AF_INET6, &a6);
}

static enum http_error
scheme_check(CURLU *u, const char *scheme, enum http_plain *plain, char *why,
    size_t whylen)
{
	char *host = NULL, *zone = NULL;
	enum http_error e = HTTP_ERR_NONE;

	*plain = HTTP_PLAIN_NO;
	if (strcmp(scheme, "https") == 0)
		return HTTP_ERR_NONE;
	if (strcmp(scheme, "http") != 0) {
		snprintf(why, whylen, "%s:// URLs are refused: only https (and http to "
		    "loopback) are allowed", scheme);
		return HTTP_ERR_POLICY;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		snprintf(why, whylen, "bad URL: no host");
		return HTTP_ERR_INVALID;
	}
	/* A zone id would let a literal mean an interface other than loopback. */
	if (curl_url_get(u, CURLUPART_ZONEID, &zone, 0) == CURLUE_OK ||
	    (*plain = host_kind(host)) == HTTP_PLAIN_NO) {
		*plain = HTTP_PLAIN_NO;
		snprintf(why, whylen, "plain HTTP to %.100s refused: plain HTTP is only "
		    "allowed to loopback (127.0.0.0/8, ::1, localhost) and the instance "
		    "metadata service; use https://", host);
		e = HTTP_ERR_POLICY;
	}
	curl_free(zone);
	curl_free(host);
	return e;
}

/* Parses and checks url; on success *up is what curl will use, unchanged. */
enum http_error
http_url_check(const char *url, CURLU **up, enum http_plain *plain, char *why,
    size_t whylen)
{
	enum http_error e;
	char *scheme = NULL;
	CURLUcode rc;
	CURLU *u;

	*up = NULL;
	*plain = HTTP_PLAIN_NO;
	if (url == NULL || *url == '\0') {
		snprintf(why, whylen, "no URL");
		return HTTP_ERR_INVALID;
	}
	if ((u = curl_url()) == NULL)
		fatal("curl_url");
	if ((rc = curl_url_set(u, CURLUPART_URL, url, 0)) != CURLUE_OK ||
	    (rc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0)) != CURLUE_OK) {
		snprintf(why, whylen, "bad URL: %s", curl_url_strerror(rc));
		e = HTTP_ERR_INVALID;
	} else
		e = scheme_check(u, scheme, plain, why, whylen);
	curl_free(scheme);
	if (e == HTTP_ERR_NONE)
		*up = u;
	else
		curl_url_cleanup(u);
	return e;
}

enum http_error
http_url_policy(const char *url, char *why, size_t whylen)
{
	enum http_error e;
	enum http_plain plain;
	CURLU *u;

	if ((e = http_url_check(url, &u, &plain, why, whylen)) == HTTP_ERR_NONE)
		snprintf(why, whylen, "allowed");
	curl_url_cleanup(u);
	return e;
}

bool
http_plain_peer_allowed(const char *url, const struct sockaddr *peer)
{
	enum http_plain plain;
	char why[256];
	CURLU *u;

	if (http_url_check(url, &u, &plain, why, sizeof(why)) != HTTP_ERR_NONE)
		return false;
	curl_url_cleanup(u);
	return plain != HTTP_PLAIN_NO && peer != NULL && http_sockaddr_kind(peer) == plain;
}
