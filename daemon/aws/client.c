/*
 * One AWS call from query to outcome (see client.h). Each call is a small state
 * machine on one uv_timer_t, which serves in turn as the deadline (while waiting
 * for credentials or an answer), the backoff (between attempts) and the delivery
 * (the caller's callback always runs from the loop, never from aws_call() or
 * aws_call_cancel()).
 *
 * Must never: log a body, a header value or a key (the debug line per attempt says
 * action, attempt, status, code, class and time); sign with a clock it has not
 * corrected after AWS said it was off; retry past the call's deadline; retry what
 * aws_retry_next() says is final. Codes the client makes up itself, when AWS gave
 * none: "Cancelled", "DeadlineExceeded", "NoCredentials", "CredentialsUnavailable".
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "common/sigv4.h"
#include "daemon/aws/client.h"
#include "daemon/aws/credentials.h"
#include "daemon/aws/endpoint.h"
#include "daemon/http.h"

#define DEFAULT_DEADLINE_MS	120000
#define BACKSTOP_MS		500	/* curl's timeout after the call's deadline */
#define CONTENT_TYPE	"Content-Type: application/x-www-form-urlencoded; charset=utf-8"
#define ACTION_MAX	64
#define NHEADERS	(2 + SIGV4_MAX_ADDED)

enum call_state {
	CALL_CREDS,		/* waiting for credentials; the timer is the deadline */
	CALL_SENDING,		/* an attempt in flight; the timer is the deadline */
	CALL_BACKOFF,		/* the timer starts the next attempt */
	CALL_FINISHING,		/* outcome fixed; the timer delivers it */
	CALL_DELIVERING,	/* the caller's callback runs */
	CALL_CLOSING		/* the timer is closing; then the call is freed */
};

struct aws_client {
	uv_loop_t		*loop;
	struct aws_endpoint	 ep[AWS_SERVICE_COUNT];
	char			 region[AWS_ENDPOINT_REGION_MAX + 1];
	struct aws_creds	*creds;
	struct aws_retry_quota	 quota;
	aws_random_fn		 random;
	void			*random_arg;
	int64_t			(*now_ms)(void);
	int64_t			 offset_ms;	/* AWS's clock minus ours */
	struct aws_client_stats	 stats;
	struct aws_call		*calls;
	int			 freeing;
};

struct aws_call {
	struct aws_client	*client;
	struct aws_call		*next, **prevp;
	enum call_state		 state;
	aws_cb			 cb;
	void			*arg;
	enum aws_service	 svc;
	char			 action[ACTION_MAX + 1];
	char			*body;
	size_t			 body_len;
	struct aws_retry	 retry;
	uv_timer_t		 timer;
	uint64_t		 started, deadline;	/* uv_now() */
	uint32_t		 deadline_ms;
	struct http_call	*http;
	struct aws_creds_req	*creq;
	char			 akid[SIGV4_AKID_MAX + 1];	/* signed the attempt */
	int			 cancelled, timed_out, have_error;
	/* The outcome so far: the last attempt's. */
	enum aws_errclass	 errclass;
	struct aws_error	 error;
	char			 detail[256];
	xmlDoc			*doc;
	const xmlNode		*result;
};

static void	timer_cb(uv_timer_t *);
static void	attempt_start(struct aws_call *);

/* ---- Clocks ---- */

static int64_t
real_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") in ms since 1970; -1 if not. */
static int
http_date_ms(const char *s, int64_t *out)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char		 wday[4], mon[4], zone[4];
	const char	*m;
	struct tm	 tm;
	int		 year, n = -1;
	time_t		 t;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || sscanf(s, "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d %3s%n",
	    wday, &tm.tm_mday, mon, &year, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, zone,
	    &n) != 8 || n < 0 || s[n] != '\0' || strcmp(zone, "GMT") != 0)
		return -1;
	if ((m = strstr(months, mon)) == NULL || (m - months) % 3 != 0 ||
	    strlen(mon) != 3 || tm.tm_mday < 1 || tm.tm_mday > 31 || year < 1970 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	tm.tm_mon = (int)(m - months) / 3;
	tm.tm_year = year - 1900;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	*out = (int64_t)t * 1000;
	return 0;
}

/* AWS said our clock is off: learn by how much from its Date header. */
static void
learn_offset(struct aws_client *c, const char *date)
{
	int64_t	 theirs;

	if (http_date_ms(date, &theirs) == -1) {
		log_warnx("aws: AWS refused our clock but sent no usable Date header");
		return;
	}
	c->offset_ms = theirs - c->now_ms();
	log_info("aws: clock offset set to %+lld s from AWS's Date header",
	    (long long)((c->offset_ms + (c->offset_ms < 0 ? -500 : 500)) / 1000));
}

/* ---- Outcome and delivery ---- */

static const char *
service_name(enum aws_service svc)
{
	const struct aws_service_info	*si = aws_service_info(svc);

	return si != NULL ? si->id : "?";
}

static uint64_t
remaining(const struct aws_call *call)
{
	uint64_t	 now = uv_now(call->client->loop);

	return call->deadline > now ? call->deadline - now : 0;
}

static void	set_error(struct aws_call *, enum aws_errclass, const char *,
	    const char *, ...) __attribute__((format(printf, 4, 5)));

/* An outcome the client makes up (no AWS answer): class, code, detail. */
static void
set_error(struct aws_call *call, enum aws_errclass ec, const char *code,
    const char *fmt, ...)
{
	va_list	 ap;

	memset(&call->error, 0, sizeof(call->error));
	snprintf(call->error.code, sizeof(call->error.code), "%s", code);
	call->errclass = ec;
	call->have_error = 1;
	va_start(ap, fmt);
	vsnprintf(call->detail, sizeof(call->detail), fmt, ap);
	va_end(ap);
}

/* Fixes the outcome; the callback runs from the timer, on the next iteration. */
static void
finish(struct aws_call *call)
{
	call->state = CALL_FINISHING;
	uv_timer_start(&call->timer, timer_cb, 0, 0);
}

static void
finish_cancelled(struct aws_call *call)
{
	aws_xml_free(call->doc);
	call->doc = NULL;
	call->result = NULL;
	set_error(call, AWS_ERRCLASS_OTHER, "Cancelled", "cancelled");
	finish(call);
}

/* The deadline passed: the last attempt's error stands, if there was one. */
static void
finish_deadline(struct aws_call *call)
{
	size_t	 n;

	if (!call->have_error)
		set_error(call, AWS_ERRCLASS_TRANSIENT, "DeadlineExceeded",
		    "no answer within the deadline of %u ms", call->deadline_ms);
	else if ((n = strlen(call->detail)) < sizeof(call->detail))
		snprintf(call->detail + n, sizeof(call->detail) - n,
		    "%sdeadline of %u ms reached after %d attempts", n > 0 ? "; " : "",
		    call->deadline_ms, call->retry.attempts);
	finish(call);
}

static void
call_closed(uv_handle_t *h)
{
	struct aws_call		*call = h->data;
	struct aws_client	*c = call->client;

	*call->prevp = call->next;
	if (call->next != NULL)
		call->next->prevp = call->prevp;
	free(call->body);
	free(call);
	if (c->freeing && c->calls == NULL)
		free(c);
}

static void
deliver(struct aws_call *call)
{
	struct aws_client	*c = call->client;
	struct aws_result	 r;

	memset(&r, 0, sizeof(r));
	r.errclass = call->have_error ? call->errclass : AWS_ERRCLASS_OK;
	r.error = call->error;
	r.detail = call->detail;
	r.doc = call->doc;
	r.result = call->result;
	r.attempts = call->retry.attempts;
	r.elapsed_ms = uv_now(c->loop) - call->started;
	if (r.errclass != AWS_ERRCLASS_OK && !call->cancelled)
		c->stats.failed++;
	log_debug("aws: %s %s: %s after %d attempts, %llu ms%s%s",
	    service_name(call->svc), call->action,
	    aws_errclass_name(r.errclass), r.attempts,
	    (unsigned long long)r.elapsed_ms, r.detail[0] != '\0' ? ": " : "",
	    r.detail);
	call->state = CALL_DELIVERING;
	call->cb(&r, call->arg);
	aws_xml_free(call->doc);
	call->doc = NULL;
	call->state = CALL_CLOSING;
	uv_close((uv_handle_t *)&call->timer, call_closed);
}

/* ---- One attempt: sign and send ---- */

static void	http_done(const struct http_response *, void *);

/* "Name: value" lines of the signed request; the token's is zeroed after use. */
static size_t
build_headers(const struct aws_endpoint *ep, const struct sigv4_signed *sg,
    char *lines[NHEADERS])
{
	size_t	 n = 0;

	if (asprintf(&lines[n++], "Host: %s", ep->host) == -1 ||
	    (lines[n++] = strdup(CONTENT_TYPE)) == NULL)
		fatal("asprintf");
	for (size_t i = 0; i < sg->nhdr; i++)
		if (asprintf(&lines[n++], "%s: %s", sg->hdr[i].name,
		    sg->hdr[i].value) == -1)
			fatal("asprintf");
	return n;
}

static void
free_headers(char *lines[NHEADERS], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		explicit_bzero(lines[i], strlen(lines[i]));
		free(lines[i]);
	}
}

static int
sign(struct aws_call *call, const struct aws_credentials *cr,
    struct sigv4_signed *sg)
{
	struct aws_client		*c = call->client;
	const struct aws_endpoint	*ep = &c->ep[call->svc];
	struct sigv4_header		 h[2] = {
		{ "Host", ep->host },
		{ "Content-Type", CONTENT_TYPE + sizeof("Content-Type: ") - 1 },
	};
	struct sigv4_request		 req = { "POST", ep->path, NULL, h, 2,
	    call->body, call->body_len };
	struct sigv4_params		 p;

	memset(&p, 0, sizeof(p));
	p.region = c->region;
	p.service = aws_service_info(call->svc)->signing;
	p.access_key_id = cr->access_key_id;
	p.secret_key = cr->secret_access_key;
	p.session_token = cr->session_token;
	/* Fresh on every attempt, on AWS's clock as far as we know it. */
	p.time = (time_t)((c->now_ms() + c->offset_ms) / 1000);
	return sigv4_sign(&req, &p, sg);
}

static void
send_attempt(struct aws_call *call, const struct aws_credentials *cr)
{
	struct aws_client	*c = call->client;
	struct sigv4_signed	 sg;
	struct http_req		 req;
	char			*lines[NHEADERS];
	uint64_t		 left = remaining(call);
	size_t			 n;

	if (sign(call, cr, &sg) == -1) {
		set_error(call, AWS_ERRCLASS_AUTH, "NoCredentials",
		    "cannot sign with the credentials from %s", cr->source);
		finish(call);
		return;
	}
	snprintf(call->akid, sizeof(call->akid), "%s", cr->access_key_id);
	n = build_headers(&c->ep[call->svc], &sg, lines);
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = c->ep[call->svc].url;
	req.headers = (const char *const *)lines;
	req.nheaders = n;
	req.body = call->body;
	req.body_len = call->body_len;
	/* The call's timer is the deadline; curl's own limits only back it up. */
	req.timeout_ms = (long)(left + BACKSTOP_MS < HTTP_TIMEOUT_MS ?
	    left + BACKSTOP_MS : HTTP_TIMEOUT_MS);
	req.connect_timeout_ms = (long)(left + BACKSTOP_MS < HTTP_CONNECT_TIMEOUT_MS ?
	    left + BACKSTOP_MS : HTTP_CONNECT_TIMEOUT_MS);
	call->http = http_request(&req, http_done, call);
	free_headers(lines, n);
	sigv4_signed_free(&sg);
	if (call->http == NULL) {
		set_error(call, AWS_ERRCLASS_OTHER, "", "the HTTP client is not running");
		finish(call);
		return;
	}
	c->stats.attempts++;
	call->state = CALL_SENDING;
	uv_timer_start(&call->timer, timer_cb, left, 0);
}

static void
creds_done(const struct aws_credentials *cr, const struct aws_creds_error *err,
    void *arg)
{
	struct aws_call	*call = arg;

	call->creq = NULL;
	if (call->cancelled)
		finish_cancelled(call);
	else if (call->timed_out)
		finish_deadline(call);
	else if (err != NULL) {
		set_error(call, err->transient ? AWS_ERRCLASS_TRANSIENT :
		    AWS_ERRCLASS_AUTH, err->transient ? "CredentialsUnavailable" :
		    "NoCredentials", "%s", err->message);
		finish(call);
	} else
		send_attempt(call, cr);
}

/* Credentials at hand are used at once; otherwise the call waits for them. */
static void
attempt_start(struct aws_call *call)
{
	struct aws_client		*c = call->client;
	const struct aws_credentials	*cr;
	uint64_t			 left = remaining(call);

	if (left == 0) {
		finish_deadline(call);
		return;
	}
	if ((cr = aws_creds_peek(c->creds)) != NULL) {
		send_attempt(call, cr);
		return;
	}
	call->state = CALL_CREDS;
	call->creq = aws_creds_get(c->creds, creds_done, call);
	uv_timer_start(&call->timer, timer_cb, left, 0);
}

/* The timer: deadline, backoff or delivery, by state. */
static void
timer_cb(uv_timer_t *t)
{
	struct aws_call	*call = t->data;

	switch (call->state) {
	case CALL_CREDS:
		call->timed_out = 1;
		aws_creds_cancel(call->creq);	/* creds_done() finishes */
		break;
	case CALL_SENDING:
		call->timed_out = 1;
		http_cancel(call->http);	/* http_done() finishes */
		break;
	case CALL_BACKOFF:
		attempt_start(call);
		break;
	case CALL_FINISHING:
		deliver(call);
		break;
	default:
		fatalx("aws: call timer in state %d", call->state);
	}
}

/* ---- Reading an answer ---- */

static enum aws_net
net_of(enum http_error e)
{
	switch (e) {
	case HTTP_ERR_NONE:
		return AWS_NET_OK;
	case HTTP_ERR_TIMEOUT:
		return AWS_NET_TIMEOUT;
	default:
		return AWS_NET_ERROR;
	}
}

/* A transport failure: retried when the network may do better next time. */
static enum aws_errclass
read_failure(struct aws_call *call, const struct http_response *r)
{
	enum aws_errclass	 ec;

	switch (r->error) {
	case HTTP_ERR_TIMEOUT:
	case HTTP_ERR_CONNECT:
	case HTTP_ERR_RESET:
	case HTTP_ERR_TLS:
	case HTTP_ERR_OTHER:
		ec = aws_classify(0, NULL, NULL, net_of(r->error));
		break;
	default:	/* policy, invalid, too large: sending again changes nothing */
		ec = AWS_ERRCLASS_OTHER;
		break;
	}
	set_error(call, ec, "", "%s: %s", http_error_name(r->error), r->message);
	return ec;
}

static enum aws_errclass
read_success(struct aws_call *call, const struct http_response *r)
{
	char	 why[128];

	if ((call->doc = aws_xml_parse(r->body, r->body_len, why, sizeof(why))) == NULL) {
		set_error(call, AWS_ERRCLASS_OTHER, "", "HTTP %ld with a body that is "
		    "not XML: %s", r->status, why);
		call->error.status = (int)r->status;
		return AWS_ERRCLASS_OTHER;
	}
	if ((call->result = aws_xml_result(call->doc, call->action)) == NULL) {
		aws_xml_free(call->doc);
		call->doc = NULL;
		set_error(call, AWS_ERRCLASS_OTHER, "", "HTTP %ld but not a %sResponse",
		    r->status, call->action);
		call->error.status = (int)r->status;
		return AWS_ERRCLASS_OTHER;
	}
	call->have_error = 0;
	call->detail[0] = '\0';
	memset(&call->error, 0, sizeof(call->error));
	call->error.status = (int)r->status;
	return AWS_ERRCLASS_OK;
}

static enum aws_errclass
read_error(struct aws_call *call, const struct http_response *r)
{
	struct aws_error	*e = &call->error;
	int			 parsed;

	parsed = aws_xml_error(r->body, r->body_len, (int)r->status, e) == 0;
	e->status = (int)r->status;
	if (e->request_id[0] == '\0' && r->amzn_request_id != NULL)
		snprintf(e->request_id, sizeof(e->request_id), "%s", r->amzn_request_id);
	call->errclass = aws_classify((int)r->status, parsed ? e->code : NULL,
	    parsed ? e->message : NULL, AWS_NET_OK);
	call->have_error = 1;
	if (r->status >= 300 && r->status < 400)
		snprintf(call->detail, sizeof(call->detail), "HTTP %ld: redirects are "
		    "not followed (is the endpoint right?)", r->status);
	else if (parsed)
		snprintf(call->detail, sizeof(call->detail), "HTTP %ld %s", r->status,
		    e->code);
	else
		snprintf(call->detail, sizeof(call->detail), "HTTP %ld without an AWS "
		    "error body", r->status);
	return call->errclass;
}

/* The class of one attempt's outcome; the call's outcome is set from it. */
static enum aws_errclass
read_answer(struct aws_call *call, const struct http_response *r)
{
	aws_xml_free(call->doc);
	call->doc = NULL;
	call->result = NULL;
	if (r->error != HTTP_ERR_NONE)
		return read_failure(call, r);
	if (r->status >= 200 && r->status <= 299)
		return read_success(call, r);
	return read_error(call, r);
}

/* ---- Deciding what comes next ---- */

static void
log_attempt(const struct aws_call *call, const struct http_response *r,
    enum aws_errclass ec, enum aws_retry_verdict v, uint32_t delay)
{
	char	 status[32], next[48];

	if (r->error != HTTP_ERR_NONE)
		snprintf(status, sizeof(status), "%s", http_error_name(r->error));
	else
		snprintf(status, sizeof(status), "HTTP %ld", r->status);
	if (v == AWS_RETRY_AGAIN)
		snprintf(next, sizeof(next), "again in %u ms", delay);
	else
		snprintf(next, sizeof(next), "%s", aws_retry_verdict_name(v));
	log_debug("aws: %s %s attempt %d: %s %s (%s), %llu ms: %s",
	    service_name(call->svc), call->action, call->retry.attempts, status,
	    call->error.code[0] != '\0' ? call->error.code : "-",
	    aws_errclass_name(ec), (unsigned long long)r->elapsed_ms, next);
}

/* AGAIN: fix what the class says needs fixing, then wait for the backoff. */
static void
retry_later(struct aws_call *call, const struct http_response *r,
    enum aws_errclass ec, uint32_t delay)
{
	struct aws_client	*c = call->client;

	if (ec == AWS_ERRCLASS_EXPIRED_CREDENTIALS)
		aws_creds_invalidate(c->creds, call->akid);
	else if (ec == AWS_ERRCLASS_CLOCK_SKEW)
		learn_offset(c, r->date);
	/* Never wait past the deadline only to give up then. */
	if ((uint64_t)delay >= remaining(call)) {
		finish_deadline(call);
		return;
	}
	c->stats.retries++;
	call->state = CALL_BACKOFF;
	uv_timer_start(&call->timer, timer_cb, delay, 0);
}

static const char *
verdict_detail(enum aws_retry_verdict v)
{
	switch (v) {
	case AWS_RETRY_EXHAUSTED:
		return "; no attempts left";
	case AWS_RETRY_NO_QUOTA:
		return "; not retried: the client's retry quota is spent";
	default:
		return "";
	}
}

static void
http_done(const struct http_response *r, void *arg)
{
	struct aws_call		*call = arg;
	enum aws_retry_verdict	 v;
	enum aws_errclass	 ec;
	uint32_t		 delay;
	size_t			 n;

	call->http = NULL;
	uv_timer_stop(&call->timer);
	if (call->cancelled || r->error == HTTP_ERR_CANCELLED) {
		if (call->cancelled || !call->timed_out)
			finish_cancelled(call);
		else
			finish_deadline(call);
		return;
	}
	ec = read_answer(call, r);
	if (ec == AWS_ERRCLASS_THROTTLE)
		call->client->stats.throttled++;
	v = aws_retry_next(&call->retry, ec, net_of(r->error), &delay);
	log_attempt(call, r, ec, v, delay);
	if (v == AWS_RETRY_AGAIN) {
		retry_later(call, r, ec, delay);
		return;
	}
	/*
	 * EC2 answers AuthFailure to a skewed clock and to a bad key alike: once the
	 * clock was corrected and it still comes, the key is what is wrong.
	 */
	if (ec == AWS_ERRCLASS_CLOCK_SKEW && call->retry.skew_retried &&
	    strcmp(call->error.code, "AuthFailure") == 0)
		call->errclass = AWS_ERRCLASS_AUTH;
	if ((n = strlen(call->detail)) < sizeof(call->detail))
		snprintf(call->detail + n, sizeof(call->detail) - n, "%s",
		    verdict_detail(v));
	finish(call);
}

/* ---- The client and its calls ---- */

static int
endpoints_resolve(struct aws_client *c, const struct aws_client_opts *o, char *err,
    size_t errlen)
{
	char	 why[256];

	for (int svc = 0; svc < AWS_SERVICE_COUNT; svc++) {
		if (aws_endpoint_resolve(svc, o->region, o->endpoint[svc],
		    o->endpoint_url, NULL, NULL, &c->ep[svc], err, errlen) == -1)
			return -1;
		/* http.h would refuse it on every call: say so once, now. */
		if (http_url_policy(c->ep[svc].url, why, sizeof(why)) != HTTP_ERR_NONE) {
			snprintf(err, errlen, "%s endpoint %s (from %s): %s",
			    service_name(svc), c->ep[svc].url,
			    aws_endpoint_source_name(c->ep[svc].source), why);
			return -1;
		}
		if (c->ep[svc].source != AWS_EP_DEFAULT)
			log_info("aws: %s endpoint %s (from %s)", service_name(svc),
			    c->ep[svc].url, aws_endpoint_source_name(c->ep[svc].source));
	}
	return 0;
}

struct aws_client *
aws_client_new(uv_loop_t *loop, const struct aws_client_opts *o, char *err,
    size_t errlen)
{
	struct aws_creds_opts	 co;
	struct aws_client	*c;

	if (o == NULL || o->region == NULL) {
		snprintf(err, errlen, "no region");
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->loop = loop;
	c->now_ms = o->now_ms != NULL ? o->now_ms : real_now_ms;
	c->random = o->random;
	c->random_arg = o->random_arg;
	aws_retry_quota_init(&c->quota);
	if (endpoints_resolve(c, o, err, errlen) == -1) {
		free(c);
		return NULL;
	}
	snprintf(c->region, sizeof(c->region), "%s", o->region);
	/* Expiration is checked on the real clock: o->now_ms is the signing clock. */
	memset(&co, 0, sizeof(co));
	co.profile = o->profile;
	if ((c->creds = aws_creds_new(loop, &co)) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(c);
		return NULL;
	}
	return c;
}

void
aws_client_free(struct aws_client *c)
{
	struct aws_call	*call, *next;

	if (c == NULL || c->freeing)
		return;
	c->freeing = 1;
	for (call = c->calls; call != NULL; call = next) {
		next = call->next;
		aws_call_cancel(call);
	}
	aws_creds_free(c->creds);
	c->creds = NULL;
	if (c->calls == NULL)
		free(c);
}

/* Takes q's contents: the body is built once and re-signed on every attempt. */
static int
call_prepare(struct aws_call *call, struct aws_query *q)
{
	const char	*action;

	if (q == NULL) {
		set_error(call, AWS_ERRCLASS_OTHER, "", "no query");
		return -1;
	}
	call->svc = q->service;
	action = aws_query_get(q, "Action");
	snprintf(call->action, sizeof(call->action), "%s", action != NULL ? action : "?");
	if (aws_service_info(q->service) == NULL || action == NULL ||
	    aws_query_encode(q, &call->body, &call->body_len) == -1) {
		call->svc = 0;
		set_error(call, AWS_ERRCLASS_OTHER, "", "the query is invalid "
		    "(a parameter failed to add, or memory ran out)");
		aws_query_free(q);
		return -1;
	}
	aws_query_free(q);
	return 0;
}

static struct aws_call *
call_new(struct aws_client *c, uint32_t deadline_ms, aws_cb cb, void *arg)
{
	struct aws_call	*call;

	if ((call = calloc(1, sizeof(*call))) == NULL)
		fatal("calloc");
	call->client = c;
	call->cb = cb;
	call->arg = arg;
	call->deadline_ms = deadline_ms != 0 ? deadline_ms : DEFAULT_DEADLINE_MS;
	call->started = uv_now(c->loop);
	call->deadline = call->started + call->deadline_ms;
	uv_timer_init(c->loop, &call->timer);
	call->timer.data = call;
	call->next = c->calls;
	if (call->next != NULL)
		call->next->prevp = &call->next;
	call->prevp = &c->calls;
	c->calls = call;
	aws_retry_begin(&call->retry, &c->quota, c->random, c->random_arg);
	return call;
}

struct aws_call *
aws_call(struct aws_client *c, struct aws_query *q, uint32_t deadline_ms, aws_cb cb,
    void *arg)
{
	struct aws_call	*call;

	if (c == NULL || cb == NULL) {
		aws_query_free(q);
		return NULL;
	}
	c->stats.calls++;
	call = call_new(c, deadline_ms, cb, arg);
	if (call_prepare(call, q) == -1) {
		finish(call);
		return NULL;
	}
	if (c->freeing) {
		finish_cancelled(call);
		return NULL;
	}
	attempt_start(call);
	return call;
}

void
aws_call_cancel(struct aws_call *call)
{
	if (call == NULL || call->cancelled)
		return;
	switch (call->state) {
	case CALL_CREDS:
		call->cancelled = 1;
		aws_creds_cancel(call->creq);
		break;
	case CALL_SENDING:
		call->cancelled = 1;
		http_cancel(call->http);
		break;
	case CALL_BACKOFF:
	case CALL_FINISHING:
		/* As http.h: once cancelled, the outcome is "cancelled", come what may. */
		call->cancelled = 1;
		finish_cancelled(call);
		break;
	default:	/* its callback runs or has run */
		break;
	}
}

void
aws_client_stats(const struct aws_client *c, struct aws_client_stats *st)
{
	*st = c->stats;
}
