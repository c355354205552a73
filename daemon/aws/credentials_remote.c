/*
 * The chain's remote sources (see credentials.h, steps 3 and 4): container
 * credentials, with the rule botocore applies to AWS_CONTAINER_CREDENTIALS_FULL_URI,
 * and EC2 instance metadata, IMDSv2 only (token, role, the role's credentials). Each
 * request is a step of the resolution's state machine, driven by http.h callbacks,
 * and the chain ends in aws_creds_finish_ok() or aws_creds_finish_err(). Must never
 * log a token: the header lines that carry one are zeroed once the request is made.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "daemon/aws/credentials.h"
#include "daemon/aws/credentials_int.h"
#include "daemon/http.h"

#define TOKEN_REUSE_S	(21600 - 300)	/* an IMDS token is reused until near its TTL */
#define META_MAX	(64 * 1024)	/* metadata and container answers */
#define ROLE_MAX	128
#define IMDS_CREDS	"/latest/meta-data/iam/security-credentials/"

/* ---- The container URL rule (botocore ContainerMetadataFetcher) ---- */

static int
container_host_ok(const char *host)
{
	struct in6_addr	 a6, e6;
	struct in_addr	 a4;

	if (strcasecmp(host, "localhost") == 0 || strcmp(host, "169.254.170.2") == 0 ||
	    strcmp(host, "169.254.170.23") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) != 1)
		return 0;
	inet_pton(AF_INET6, "fd00:ec2::23", &e6);
	return IN6_IS_ADDR_LOOPBACK(&a6) || memcmp(&a6, &e6, sizeof(e6)) == 0;
}

int
aws_creds_container_url_ok(const char *url, char *why, size_t whylen)
{
	const char	*h, *close;
	char		 host[64];
	size_t		 n;

	if (url == NULL || *url == '\0')
		return say(why, whylen, "no URL");
	if (strncasecmp(url, "https://", 8) == 0)
		return 0;
	if (strncasecmp(url, "http://", 7) != 0)
		return say(why, whylen, "not an http:// or https:// URL");
	h = url + 7;
	n = strcspn(h, "/?#");
	if (memchr(h, '@', n) != NULL)
		return say(why, whylen, "user information in the URL");
	if (*h == '[' && (close = memchr(h, ']', n)) != NULL) {
		h++;
		n = (size_t)(close - h);
	} else
		n = strcspn(h, ":/?#");
	if (n == 0 || n >= sizeof(host))
		return say(why, whylen, "no valid host");
	memcpy(host, h, n);
	host[n] = '\0';
	if (container_host_ok(host))
		return 0;
	return say(why, whylen, "plain http is allowed only to a loopback address, "
	    "localhost, 169.254.170.2, 169.254.170.23 or [fd00:ec2::23]");
}

/* ---- Remote sources: the container endpoint and instance metadata ---- */

static void	http_done(const struct http_response *, void *);

static int
fetch(struct aws_creds *cr, const char *method, const char *url,
    const char *const *hdrs, size_t nhdrs, uint32_t timeout_ms)
{
	struct http_req	 req;

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = url;
	req.headers = hdrs;
	req.nheaders = nhdrs;
	req.connect_timeout_ms = timeout_ms;
	req.timeout_ms = timeout_ms;
	req.max_response = META_MAX;
	cr->stats.http_requests++;
	cr->http = http_request(&req, http_done, cr);
	return cr->http != NULL ? 0 : -1;
}

/* No answer, or a server error: another attempt may do better. */
static int
retryable(const struct http_response *r)
{
	switch (r->error) {
	case HTTP_ERR_NONE:
		return r->status >= 500;
	case HTTP_ERR_TIMEOUT:
	case HTTP_ERR_CONNECT:
	case HTTP_ERR_RESET:
	case HTTP_ERR_OTHER:
		return 1;
	default:
		return 0;
	}
}

static const char *
describe(const struct http_response *r, char *buf, size_t len)
{
	if (r->error == HTTP_ERR_NONE)
		snprintf(buf, len, "HTTP %ld", r->status);
	else
		snprintf(buf, len, "%s (%s)", http_error_name(r->error), r->message);
	return buf;
}

static int
answered(const struct http_response *r, long status)
{
	return r->error == HTTP_ERR_NONE && r->status == status;
}

/* "Name: value" for a header carrying a secret: zero it with secret_free(). */
static char *
secret_header(const char *name, const char *value)
{
	char	*h;

	if (asprintf(&h, "%s: %s", name, value) == -1)
		fatal("asprintf");
	return h;
}

/* Container: AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, else _TOKEN; *hdr NULL if none. */
static int
container_auth(char **hdr, char *err, size_t errlen)
{
	const char	*file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char	*tok = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	char		*buf = NULL;
	size_t		 len;

	*hdr = NULL;
	if (file != NULL) {
		if (aws_creds_file_read(file, &buf, &len, err, errlen) != 1) {
			if (buf == NULL && err[0] == '\0')
				snprintf(err, errlen, "%s: no such file", file);
			return -1;
		}
		/* Files written by hand end with a newline; the header must not. */
		while (len > 0 && strchr(" \t\r\n", buf[len - 1]) != NULL)
			buf[--len] = '\0';
		tok = buf;
	}
	if (tok != NULL && strpbrk(tok, "\r\n") == NULL)
		*hdr = secret_header("Authorization", tok);
	else if (tok != NULL)
		snprintf(err, errlen, "the authorization token is not a legal header value");
	secret_free(buf);
	return tok != NULL && *hdr == NULL ? -1 : 0;
}

static void
container_send(struct aws_creds *cr)
{
	const char	*h[2] = { "Accept: application/json", NULL };
	char		*auth, err[AWS_CREDS_ERROR_MAX / 2] = "";
	int		 rc;

	if (container_auth(&auth, err, sizeof(err)) == -1) {
		aws_creds_finish_err(cr, 0, "container credentials: %s", err);
		return;
	}
	h[1] = auth;
	cr->step = STEP_CONTAINER;
	rc = fetch(cr, "GET", cr->url, h, auth != NULL ? 2 : 1,
	    cr->o.container_timeout_ms);
	secret_free(auth);
	if (rc == -1)
		aws_creds_finish_err(cr, 0, "container credentials: the HTTP client is not running");
}

static void
pause_cb(uv_timer_t *t)
{
	container_send(t->data);
}

static void
container_done(struct aws_creds *cr, const struct http_response *r)
{
	struct aws_creds_ini_keys	 k;
	int64_t				 exp;
	char				 why[160];

	if (answered(r, 200)) {
		if (aws_creds_json(r->body, r->body_len, &k, &exp, why, sizeof(why)) == 0)
			aws_creds_finish_ok(cr, &k, exp, "container credentials endpoint");
		else
			aws_creds_finish_err(cr, 0, "container credentials: %s", why);
		return;
	}
	/* botocore tries again after any failure, a second apart. */
	if ((r->error == HTTP_ERR_NONE || retryable(r)) &&
	    cr->attempt < cr->o.container_attempts) {
		cr->attempt++;
		uv_timer_start(&cr->pause, pause_cb, cr->o.container_pause_ms, 0);
		return;
	}
	aws_creds_finish_err(cr, retryable(r), "container credentials: %s, after %d attempts",
	    describe(r, why, sizeof(why)), cr->attempt);
}

static void	imds_fail(struct aws_creds *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

static void
imds_fail(struct aws_creds *cr, int remote, const char *fmt, ...)
{
	char	 why[AWS_CREDS_ERROR_MAX / 2];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	aws_creds_finish_err(cr, remote, "no AWS credentials found (%s; instance metadata: %s)",
	    cr->trail, why);
}

/* Sends the request of cr->step (again). */
static void
imds_send(struct aws_creds *cr)
{
	const char	*h[1];
	char		*hdr, *url;
	int		 rc;

	if (cr->step == STEP_IMDS_TOKEN) {
		h[0] = "X-aws-ec2-metadata-token-ttl-seconds: " AWS_CREDS_IMDS_TTL;
		if (asprintf(&url, "%s/latest/api/token", cr->url) == -1)
			fatal("asprintf");
		rc = fetch(cr, "PUT", url, h, 1, cr->o.imds_timeout_ms);
		free(url);
	} else {
		if (asprintf(&url, "%s%s%s", cr->url, IMDS_CREDS,
		    cr->step == STEP_IMDS_CREDS ? cr->role : "") == -1)
			fatal("asprintf");
		h[0] = hdr = secret_header("X-aws-ec2-metadata-token", cr->token);
		rc = fetch(cr, "GET", url, h, 1, cr->o.imds_timeout_ms);
		secret_free(hdr);
		free(url);
	}
	if (rc == -1)
		imds_fail(cr, 0, "the HTTP client is not running");
}

static void
imds_step(struct aws_creds *cr, enum step step)
{
	cr->step = step;
	cr->attempt = 1;
	imds_send(cr);
}

static int
imds_again(struct aws_creds *cr, const struct http_response *r)
{
	if (!retryable(r) || cr->attempt >= cr->o.imds_attempts)
		return 0;
	cr->attempt++;
	imds_send(cr);
	return 1;
}

/* A 401 on a GET: the token expired (or IMDS restarted); one new token. */
static int
imds_token_refused(struct aws_creds *cr, const struct http_response *r)
{
	if (!answered(r, 401) || cr->token_retried)
		return 0;
	cr->token_retried = 1;
	secret_free(cr->token);
	cr->token = NULL;
	imds_step(cr, STEP_IMDS_TOKEN);
	return 1;
}

static void
token_done(struct aws_creds *cr, const struct http_response *r)
{
	char	 why[160];
	size_t	 n = r->body_len;

	if (answered(r, 200)) {
		if (n == 0 || n > 4096 || strspn(r->body, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789+/=_-") != n) {
			imds_fail(cr, 0, "the token answer is not a token");
			return;
		}
		secret_free(cr->token);
		cr->token = secret_dup(r->body, n);
		cr->token_at = uv_now(cr->loop);
		imds_step(cr, STEP_IMDS_ROLE);
	} else if (imds_again(cr, r))
		return;
	else if (answered(r, 403) || answered(r, 404) || answered(r, 405))
		imds_fail(cr, 0, "PUT /latest/api/token answered HTTP %ld: IMDSv2 is "
		    "not available (IMDSv1 is never used)", r->status);
	else
		imds_fail(cr, retryable(r), "PUT /latest/api/token: %s",
		    describe(r, why, sizeof(why)));
}

static void
role_done(struct aws_creds *cr, const struct http_response *r)
{
	char	 why[160];
	size_t	 n;

	if (answered(r, 200)) {
		/* One role per instance profile: the first line. */
		n = strcspn(r->body, "\r\n");
		if (n == 0 || n > ROLE_MAX || strspn(r->body, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789+=,.@_-") < n) {
			imds_fail(cr, 0, "the role listing is not a role name");
			return;
		}
		free(cr->role);
		if ((cr->role = strndup(r->body, n)) == NULL)
			fatal("strndup");
		imds_step(cr, STEP_IMDS_CREDS);
	} else if (imds_token_refused(cr, r) || imds_again(cr, r))
		return;
	else if (answered(r, 404))
		imds_fail(cr, 0, "no IAM role is attached to this instance (HTTP 404)");
	else
		imds_fail(cr, retryable(r), "GET %s: %s", IMDS_CREDS,
		    describe(r, why, sizeof(why)));
}

static void
imds_creds_done(struct aws_creds *cr, const struct http_response *r)
{
	struct aws_creds_ini_keys	 k;
	int64_t				 exp;
	char				 why[160], src[AWS_CREDS_SOURCE_MAX];

	if (answered(r, 200)) {
		snprintf(src, sizeof(src), "instance metadata role %s", cr->role);
		if (aws_creds_json(r->body, r->body_len, &k, &exp, why, sizeof(why)) == 0)
			aws_creds_finish_ok(cr, &k, exp, src);
		else
			imds_fail(cr, 0, "role %s: %s", cr->role, why);
	} else if (imds_token_refused(cr, r) || imds_again(cr, r))
		return;
	else
		imds_fail(cr, retryable(r), "GET the credentials of role %s: %s",
		    cr->role, describe(r, why, sizeof(why)));
}

static void
http_done(const struct http_response *r, void *arg)
{
	struct aws_creds	*cr = arg;

	cr->http = NULL;
	if (cr->freeing) {
		aws_creds_kick(cr);
		return;
	}
	switch (cr->step) {
	case STEP_CONTAINER:
		container_done(cr, r);
		break;
	case STEP_IMDS_TOKEN:
		token_done(cr, r);
		break;
	case STEP_IMDS_ROLE:
		role_done(cr, r);
		break;
	case STEP_IMDS_CREDS:
		imds_creds_done(cr, r);
		break;
	default:
		fatalx("aws: credentials: an answer in step %d", cr->step);
	}
}

static void
imds_start(struct aws_creds *cr)
{
	const char	*ep = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	size_t		 n;

	if ((cr->url = strdup(ep != NULL ? ep : AWS_CREDS_IMDS_URL)) == NULL)
		fatal("strdup");
	n = strlen(cr->url);
	while (n > 0 && cr->url[n - 1] == '/')
		cr->url[--n] = '\0';
	if (cr->token != NULL &&
	    uv_now(cr->loop) - cr->token_at < (uint64_t)TOKEN_REUSE_S * 1000)
		imds_step(cr, STEP_IMDS_ROLE);
	else
		imds_step(cr, STEP_IMDS_TOKEN);
}

/* 1 with *url if container credentials are configured, 0 if not, -1 with err. */
static int
container_url(char **url, char *err, size_t errlen)
{
	const char	*rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char	*full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	char		 why[160];

	if (rel != NULL) {
		if (asprintf(url, "%s%s", AWS_CREDS_CONTAINER_URL, rel) == -1)
			fatal("asprintf");
		return 1;
	}
	if (full == NULL)
		return 0;
	if (aws_creds_container_url_ok(full, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "AWS_CONTAINER_CREDENTIALS_FULL_URI: %s", why);
		return -1;
	}
	if ((*url = strdup(full)) == NULL)
		fatal("strdup");
	return 1;
}

static int
imds_disabled(void)
{
	const char	*v = env("AWS_EC2_METADATA_DISABLED");

	return v != NULL && strcasecmp(v, "true") == 0;
}

/*
 * The rest of the chain once the local sources found nothing: container
 * credentials when configured (their failure is final), else instance metadata.
 */
void
aws_creds_remote_begin(struct aws_creds *cr)
{
	char	 err[AWS_CREDS_ERROR_MAX - 64] = "";
	int	 rc;

	if ((rc = container_url(&cr->url, err, sizeof(err))) == 1) {
		cr->attempt = 1;
		container_send(cr);
	} else if (rc == -1)
		aws_creds_finish_err(cr, 0, "%s", err);
	else {
		aws_creds_trail_add(cr, "container: not configured");
		if (imds_disabled())
			imds_fail(cr, 0, "disabled by AWS_EC2_METADATA_DISABLED");
		else
			imds_start(cr);
	}
}
