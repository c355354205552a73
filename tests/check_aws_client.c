/*
 * The AWS call pipeline against a libmicrohttpd loopback server playing AWS: every
 * request's SigV4 signature is checked with common/sigv4.h (sigv4_parse_authorization
 * and sigv4_verify with the secret of the key it names), as are the region and the
 * signing name in its scope, the Host header with its port, the Content-Type and the
 * session token; any mismatch is counted and fails the test. Then it answers a
 * script: success, throttling, server errors, resets, slow answers, ExpiredToken,
 * refusals. The retry RNG is injected (0: no backoff) so storms run fast. Plus the
 * endpoint precedence table and URL parser (pure). Every test ends with the client
 * freed, http_shutdown() and uv_loop_close() == 0.
 */
#include <arpa/inet.h>
#include <check.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/sigv4.h"
#include "daemon/aws/client.h"
#include "daemon/aws/endpoint.h"
#include "daemon/http.h"
#include "tests/testutil.h"
#include "tests/suites_decl.h"

#define REGION		"eu-west-1"
#define ACCOUNT		"123456789012"

extern char **environ;

static uv_loop_t loop;
static struct MHD_Daemon *mhd;
static int port;
static char *home;

/* ---- The server: a scripted AWS that checks every signature ---- */

enum kind {
	K_OK,		/* GetCallerIdentity's answer */
	K_ERROR,	/* a Query error envelope: status, code, message */
	K_RAW,		/* status with a body that is not AWS's */
	K_RESET,	/* the connection closes without an answer */
	K_SLOW,		/* answers OK after delay_ms */
	K_REDIRECT,	/* 301 to elsewhere */
	K_EXPIRE_FIRST	/* ExpiredToken for the first container keys, else OK */
};

struct step {
	enum kind	 kind;
	int		 status;
	const char	*code, *message;
	int		 delay_ms;
};

#define MAX_STEPS	16
#define MAX_SEEN	64

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct step script[MAX_STEPS];
static int nsteps, next_step;
static int hits, sig_failures, container_hits;
static char why_failed[256];
static char seen_akid[MAX_SEEN][SIGV4_AKID_MAX + 1], seen_date[MAX_SEEN][SIGV4_DATE_LEN + 1];
static char seen_path[64], seen_body[512];
static const char *want_service = "sts";
static int skew_as_request_expired;
static atomic_bool stopping;

/* Sets the script; the last step repeats. */
static void
play(int n, const struct step *steps)
{
	pthread_mutex_lock(&mu);
	memcpy(script, steps, (size_t)n * sizeof(*steps));
	nsteps = n;
	next_step = 0;
	pthread_mutex_unlock(&mu);
}

static int
server_hits(void)
{
	int n;

	pthread_mutex_lock(&mu);
	n = hits;
	pthread_mutex_unlock(&mu);
	return n;
}

static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned status, const char *body,
    const char *h, const char *v)
{
	struct MHD_Response *resp;
	enum MHD_Result rc;

	resp = MHD_create_response_from_buffer(strlen(body), (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(resp, "Content-Type", "text/xml");
	MHD_add_response_header(resp, "x-amzn-RequestId", "req-0001");
	if (h != NULL)
		MHD_add_response_header(resp, h, v);
	rc = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result
reply_error(struct MHD_Connection *conn, unsigned status, const char *code,
    const char *message, const char *h, const char *v)
{
	char body[1024];

	snprintf(body, sizeof(body), "<ErrorResponse xmlns=\"https://sts.amazonaws.com/"
	    "doc/2011-06-15/\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>%s</Code>\n"
	    "    <Message>%s</Message>\n  </Error>\n  <RequestId>err-%s</RequestId>\n"
	    "</ErrorResponse>\n", code, message, code);
	return reply(conn, status, body, h, v);
}

static enum MHD_Result
reply_ok(struct MHD_Connection *conn)
{
	return reply(conn, 200, "<GetCallerIdentityResponse xmlns=\"https://sts."
	    "amazonaws.com/doc/2011-06-15/\">\n  <GetCallerIdentityResult>\n"
	    "    <Arn>arn:aws:iam::" ACCOUNT ":user/bbupgraded</Arn>\n"
	    "    <UserId>AIDAEXAMPLE</UserId>\n    <Account>" ACCOUNT "</Account>\n"
	    "  </GetCallerIdentityResult>\n  <ResponseMetadata>\n"
	    "    <RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId>\n"
	    "  </ResponseMetadata>\n</GetCallerIdentityResponse>\n", NULL, NULL);
}

/* The container endpoint: ASIACONT<n> keys, numbered. */
static enum MHD_Result
reply_container(struct MHD_Connection *conn)
{
	char body[512];
	int n;

	pthread_mutex_lock(&mu);
	n = ++container_hits;
	pthread_mutex_unlock(&mu);
	snprintf(body, sizeof(body), "{\"AccessKeyId\":\"ASIACONT%d\",\"SecretAccessKey\":"
	    "\"CONT-SECRET-%d\",\"Token\":\"CONT-SESSION-SECRET-%d\",\"Expiration\":"
	    "\"2099-01-01T00:00:00Z\"}", n, n, n);
	return reply(conn, 200, body, NULL, NULL);
}

/* The secret and session token of a key the tests hand out. */
static int
secrets_of(const char *akid, char *secret, char *token, size_t len)
{
	int n;

	if (strcmp(akid, "AKIDENV") == 0) {
		snprintf(secret, len, "ENV-SECRET");
		snprintf(token, len, "ENV-SESSION-SECRET");
		return 0;
	}
	if (sscanf(akid, "ASIACONT%d", &n) == 1) {
		snprintf(secret, len, "CONT-SECRET-%d", n);
		snprintf(token, len, "CONT-SESSION-SECRET-%d", n);
		return 0;
	}
	return -1;
}

struct hdrs {
	struct sigv4_header	 h[32];
	size_t			 n;
};

static enum MHD_Result
collect(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct hdrs *hs = cls;

	if (hs->n < 32) {
		hs->h[hs->n].name = key;
		hs->h[hs->n++].value = value;
	}
	return MHD_YES;
}

static const char *
hdr(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

static int
fail_sig(const char *why)
{
	pthread_mutex_lock(&mu);
	sig_failures++;
	snprintf(why_failed, sizeof(why_failed), "%s", why);
	pthread_mutex_unlock(&mu);
	return -1;
}

/*
 * Everything a signed request must get right; 0, or -1 (counted). *skewed is set
 * when only the time is wrong: AWS answers that one with its own error.
 */
static int
verify(struct MHD_Connection *conn, const char *path, const char *body, size_t len,
    struct sigv4_auth *auth, int *skewed)
{
	struct hdrs hs = { .n = 0 };
	struct sigv4_request req = { "POST", path, NULL, NULL, 0, body, len };
	char secret[64], token[64], host[64], why[256];
	const char *date = hdr(conn, "X-Amz-Date"), *tok = hdr(conn, "X-Amz-Security-Token");
	struct tm tm;

	*skewed = 0;
	if (sigv4_parse_authorization(hdr(conn, "Authorization"), auth) == -1)
		return fail_sig("Authorization does not parse");
	if (strcmp(auth->region, REGION) != 0 || strcmp(auth->service, want_service) != 0)
		return fail_sig("wrong region or service in the scope");
	snprintf(host, sizeof(host), "127.0.0.1:%d", port);
	if (hdr(conn, "Host") == NULL || strcmp(hdr(conn, "Host"), host) != 0)
		return fail_sig("Host without the port");
	if (hdr(conn, "Content-Type") == NULL || strcmp(hdr(conn, "Content-Type"),
	    "application/x-www-form-urlencoded; charset=utf-8") != 0)
		return fail_sig("wrong Content-Type");
	if (strcmp(auth->signed_headers, "content-type;host;x-amz-date;"
	    "x-amz-security-token") != 0)
		return fail_sig("wrong SignedHeaders");
	if (secrets_of(auth->access_key_id, secret, token, sizeof(secret)) == -1 ||
	    tok == NULL || strcmp(tok, token) != 0)
		return fail_sig("unknown key or wrong session token");
	memset(&tm, 0, sizeof(tm));
	if (date == NULL || strptime(date, "%Y%m%dT%H%M%SZ", &tm) == NULL)
		return fail_sig("no X-Amz-Date");
	if (llabs((long long)(timegm(&tm) - time(NULL))) > SIGV4_MAX_SKEW) {
		*skewed = 1;
		return -1;
	}
	MHD_get_connection_values(conn, MHD_HEADER_KIND, collect, &hs);
	req.headers = hs.h;
	req.nheaders = hs.n;
	if (sigv4_verify(&req, auth, secret, time(NULL), why, sizeof(why)) == -1)
		return fail_sig(why);
	return 0;
}

static enum MHD_Result
reply_skew(struct MHD_Connection *conn)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (skew_as_request_expired)
		return reply_error(conn, 400, "RequestExpired", "Request has expired.",
		    "Date", date);
	return reply_error(conn, 403, "SignatureDoesNotMatch", "Signature expired: "
	    "20220127T001427Z is now earlier than 20220127T014428Z (20220127T015928Z - "
	    "15 min.)", "Date", date);
}

static enum MHD_Result
play_step(struct MHD_Connection *conn, const struct step *st, const char *akid)
{
	switch (st->kind) {
	case K_OK:
		return reply_ok(conn);
	case K_ERROR:
		return reply_error(conn, (unsigned)st->status, st->code, st->message,
		    NULL, NULL);
	case K_RAW:
		return reply(conn, (unsigned)st->status, "<html>bad gateway</html>",
		    NULL, NULL);
	case K_RESET:
		return MHD_NO;
	case K_SLOW:
		for (int i = 0; i < st->delay_ms / 10 && !atomic_load(&stopping); i++)
			usleep(10000);
		return reply_ok(conn);
	case K_REDIRECT:
		return reply(conn, 301, "moved", "Location", "https://example.com/");
	case K_EXPIRE_FIRST:
		if (strcmp(akid, "ASIACONT1") == 0)
			return reply_error(conn, 403, "ExpiredToken", "The security token "
			    "included in the request is expired", NULL, NULL);
		return reply_ok(conn);
	}
	return MHD_NO;
}

struct upload {
	char	 data[4096];
	size_t	 len;
};

static enum MHD_Result
route(struct MHD_Connection *conn, const char *url, const struct upload *u)
{
	struct sigv4_auth auth;
	struct step st;
	int skewed, n;

	if (strcmp(url, "/creds") == 0)
		return reply_container(conn);
	if (verify(conn, url, u->data, u->len, &auth, &skewed) == -1)
		return skewed ? reply_skew(conn) : reply_error(conn, 403,
		    "SignatureDoesNotMatch", "The request signature we calculated does "
		    "not match the signature you provided.", NULL, NULL);
	pthread_mutex_lock(&mu);
	n = hits++;
	if (n < MAX_SEEN) {
		snprintf(seen_akid[n], sizeof(seen_akid[n]), "%s", auth.access_key_id);
		snprintf(seen_date[n], sizeof(seen_date[n]), "%s", hdr(conn, "X-Amz-Date"));
	}
	snprintf(seen_path, sizeof(seen_path), "%s", url);
	snprintf(seen_body, sizeof(seen_body), "%.*s", (int)u->len, u->data);
	st = script[next_step < nsteps - 1 ? next_step++ : nsteps - 1];
	pthread_mutex_unlock(&mu);
	return play_step(conn, &st, auth.access_key_id);
}

static enum MHD_Result
answer(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *data, size_t *size, void **con_cls)
{
	struct upload *u = *con_cls;

	if (u == NULL) {
		*con_cls = calloc(1, sizeof(*u));
		return MHD_YES;
	}
	if (*size > 0) {
		if (u->len + *size < sizeof(u->data)) {
			memcpy(u->data + u->len, data, *size);
			u->len += *size;
		}
		*size = 0;
		return MHD_YES;
	}
	return route(conn, url, u);
}

static void
completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	free(*con_cls);
	*con_cls = NULL;
}

/* ---- Fixture ---- */

static double rng_value;

static double
rng(void *arg)
{
	return rng_value;
}

static int64_t
real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A clock an hour slow: AWS refuses it until the offset is learnt. */
static int64_t
slow_clock(void)
{
	return real_ms() - 3600 * 1000;
}

/* A clock that moves two seconds per reading: each attempt signs anew. */
static int64_t
racing_clock(void)
{
	static int64_t ticks;

	return real_ms() + 2000 * ++ticks;
}

static void
clear_aws_env(void)
{
	char **e, *name;

	for (e = environ; *e != NULL;) {
		if (strncmp(*e, "AWS_", 4) != 0) {
			e++;
			continue;
		}
		name = strndup(*e, strcspn(*e, "="));
		unsetenv(name);
		free(name);
		e = environ;
	}
}

static void
setup(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	clear_aws_env();
	ck_assert_ptr_nonnull(home = test_tmpdir());
	setenv("HOME", home, 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "ENV-SECRET", 1);
	setenv("AWS_SESSION_TOKEN", "ENV-SESSION-SECRET", 1);
	hits = sig_failures = container_hits = 0;
	why_failed[0] = '\0';
	want_service = "sts";
	skew_as_request_expired = 0;
	rng_value = 0.0;
	atomic_store(&stopping, false);
	play(1, (struct step[]){ { K_OK, 0, NULL, NULL, 0 } });
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL, 0, NULL, NULL, answer, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
	ck_assert_ptr_nonnull(mhd);
	port = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_BIND_PORT)->port;
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(http_init(&loop), 0);
}

static void
teardown(void)
{
	atomic_store(&stopping, true);
	MHD_stop_daemon(mhd);
	test_rmtree(home);
	free(home);
}

static char *
server_url(const char *path)
{
	static char buf[4][96];
	static unsigned n;
	char *b = buf[n++ % 4];

	snprintf(b, sizeof(buf[0]), "http://127.0.0.1:%d%s", port, path);
	return b;
}

static struct aws_client *
client_with(int64_t (*now_ms)(void))
{
	struct aws_client_opts o = { .region = REGION, .endpoint_url = server_url(""),
	    .random = rng, .now_ms = now_ms };
	struct aws_client *c;
	char err[256];

	c = aws_client_new(&loop, &o, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	return c;
}

static struct aws_client *
client(void)
{
	return client_with(NULL);
}

static uint64_t
mono_ms(void)
{
	return uv_hrtime() / 1000000;
}

static void
run_until(const int *count, int n, int max_ms)
{
	uint64_t end = mono_ms() + (uint64_t)max_ms;

	while (*count < n && mono_ms() < end)
		uv_run(&loop, UV_RUN_ONCE);
	ck_assert_int_eq(*count, n);
}

/* The end of every test: nothing left of us on the loop, every signature good. */
static void
loop_finish(struct aws_client *c)
{
	aws_client_free(c);
	http_shutdown();
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	ck_assert_msg(sig_failures == 0, "%d bad signatures: %s", sig_failures,
	    why_failed);
}

/* What one callback saw, copied out. */
struct res {
	int			 calls;
	enum aws_errclass	 errclass;
	int			 status, attempts;
	char			 code[AWS_ERR_CODE_MAX + 1], message[AWS_ERR_MESSAGE_MAX + 1];
	char			 reqid[AWS_ERR_REQID_MAX + 1];
	char			 detail[512], account[32];
	uint64_t		 elapsed_ms;
};

static void
on_result(const struct aws_result *r, void *arg)
{
	struct res *s = arg;
	const char *acct;

	s->calls++;
	s->errclass = r->errclass;
	s->status = r->error.status;
	s->attempts = r->attempts;
	snprintf(s->code, sizeof(s->code), "%s", r->error.code);
	snprintf(s->message, sizeof(s->message), "%s", r->error.message);
	snprintf(s->reqid, sizeof(s->reqid), "%s", r->error.request_id);
	ck_assert_ptr_nonnull(r->detail);
	snprintf(s->detail, sizeof(s->detail), "%s", r->detail);
	s->elapsed_ms = r->elapsed_ms;
	s->account[0] = '\0';
	if (r->errclass == AWS_ERRCLASS_OK) {
		ck_assert_ptr_nonnull(r->doc);
		ck_assert_ptr_nonnull(r->result);
		acct = aws_xml_text(r->result, "Account");
		snprintf(s->account, sizeof(s->account), "%s", acct != NULL ? acct : "");
	} else {
		ck_assert_ptr_null(r->doc);
		ck_assert_ptr_null(r->result);
	}
}

static struct aws_query *
query(void)
{
	static struct aws_query q;

	ck_assert_int_eq(aws_query_init(&q, AWS_STS, "GetCallerIdentity"), 0);
	return &q;
}

static struct aws_call *
start(struct aws_client *c, uint32_t deadline_ms, struct res *r)
{
	struct aws_call *call = aws_call(c, query(), deadline_ms, on_result, r);
	int before = r->calls;

	ck_assert_ptr_nonnull(call);
	ck_assert_int_eq(r->calls, before);	/* never from inside aws_call() */
	return call;
}

/* One call, run to its end. */
static void
call_once(struct aws_client *c, uint32_t deadline_ms, struct res *r)
{
	int before = r->calls;

	start(c, deadline_ms, r);
	run_until(&r->calls, before + 1, 10000);
}

static void
ck_contains(const char *hay, const char *needle)
{
	ck_assert_msg(strstr(hay, needle) != NULL, "\"%s\" not in \"%.3000s\"", needle,
	    hay);
}

#define STEP_OK		{ K_OK, 0, NULL, NULL, 0 }
#define STEP_ERR(s, c)	{ K_ERROR, s, c, "message of " c, 0 }
#define THROTTLED	STEP_ERR(400, "Throttling")

/* ---- Calls ---- */

START_TEST(success_signed)
{
	struct aws_client *c = client();
	struct aws_client_stats st;
	struct res r = { 0 };
	struct aws_query *q = query();

	ck_assert_int_eq(aws_query_add(q, "Note", "a b&c"), 0);
	ck_assert_ptr_nonnull(aws_call(c, q, 0, on_result, &r));
	run_until(&r.calls, 1, 5000);
	ck_assert_msg(r.errclass == AWS_ERRCLASS_OK, "%s: %s", r.code, r.detail);
	ck_assert_str_eq(r.account, ACCOUNT);
	ck_assert_int_eq(r.status, 200);
	ck_assert_int_eq(r.attempts, 1);
	ck_assert_str_eq(r.detail, "");
	ck_assert_str_eq(seen_path, "/");
	ck_assert_str_eq(seen_body, "Action=GetCallerIdentity&Version=2011-06-15&"
	    "Note=a%20b%26c");
	ck_assert_str_eq(seen_akid[0], "AKIDENV");
	aws_client_stats(c, &st);
	ck_assert_int_eq(st.calls, 1);
	ck_assert_int_eq(st.attempts, 1);
	ck_assert_int_eq(st.retries, 0);
	ck_assert_int_eq(st.failed, 0);
	loop_finish(c);
}
END_TEST

/* A per-service endpoint with a path: signed with that path, scope from the table. */
START_TEST(service_endpoint_with_path)
{
	struct aws_client_opts o = { .region = REGION, .random = rng };
	struct aws_client *c;
	struct res r = { 0 };
	struct aws_query q;
	char err[256];

	o.endpoint_url = "https://unused.example.com";
	o.endpoint[AWS_CLOUDFORMATION] = server_url("/cfn/");
	ck_assert_ptr_nonnull(c = aws_client_new(&loop, &o, err, sizeof(err)));
	want_service = "cloudformation";
	ck_assert_int_eq(aws_query_init(&q, AWS_CLOUDFORMATION, "DescribeStacks"), 0);
	ck_assert_ptr_nonnull(aws_call(c, &q, 0, on_result, &r));
	run_until(&r.calls, 1, 5000);
	/* The server answered GetCallerIdentity: not a DescribeStacksResponse. */
	ck_assert_int_eq(r.errclass, AWS_ERRCLASS_OTHER);
	ck_contains(r.detail, "not a DescribeStacksResponse");
	ck_assert_int_eq(r.attempts, 1);
	ck_assert_str_eq(seen_path, "/cfn/");
	ck_assert_int_eq(server_hits(), 1);
	loop_finish(c);
}
END_TEST

START_TEST(throttling_retried)
{
	struct aws_client *c = client_with(racing_clock);
	struct aws_client_stats st;
	struct res r = { 0 };

	play(3, (struct step[]){ THROTTLED, THROTTLED, STEP_OK });
	call_once(c, 0, &r);
	ck_assert_msg(r.errclass == AWS_ERRCLASS_OK, "%s", r.detail);
	ck_assert_int_eq(r.attempts, 3);
	ck_assert_int_eq(server_hits(), 3);
	/* Each attempt was signed anew, with the clock of its own moment. */
	ck_assert_str_ne(seen_date[0], seen_date[1]);
	ck_assert_str_ne(seen_date[1], seen_date[2]);
	aws_client_stats(c, &st);
	ck_assert_int_eq(st.attempts, 3);
	ck_assert_int_eq(st.retries, 2);
	ck_assert_int_eq(st.throttled, 2);
	ck_assert_int_eq(st.failed, 0);
	loop_finish(c);
}
END_TEST

START_TEST(throttling_exhausted)
{
	struct aws_client *c = client();
	struct aws_client_stats st;
	struct res r = { 0 };

	play(1, (struct step[]){ THROTTLED });
	call_once(c, 0, &r);
	ck_assert_int_eq(r.errclass, AWS_ERRCLASS_THROTTLE);
	ck_assert_str_eq(r.code, "Throttling");
	ck_assert_str_eq(r.message, "message of Throttling");
	ck_assert_str_eq(r.reqid, "err-Throttling");
	ck_assert_int_eq(r.status, 400);
	ck_assert_int_eq(r.attempts, 3);
	ck_contains(r.detail, "no attempts left");
	ck_assert_int_eq(server_hits(), 3);
	aws_client_stats(c, &st);
	ck_assert_int_eq(st.failed, 1);
	ck_assert_int_eq(st.throttled, 3);
	loop_finish(c);
}
END_TEST

/* 500 retries of cost 5 spend the quota of 500: the next retry is refused. */
START_TEST(retry_quota)
{
	struct aws_client *c = client();
	struct res r = { 0 };
	struct aws_client *other;

	play(1, (struct step[]){ THROTTLED });
	for (int i = 0; i < 50; i++) {
		call_once(c, 0, &r);
		ck_assert_int_eq(r.attempts, 3);
	}
	call_once(c, 0, &r);
	ck_assert_int_eq(r.errclass, AWS_ERRCLASS_THROTTLE);
	ck_assert_int_eq(r.attempts, 1);
	ck_contains(r.detail, "retry quota is spent");
	ck_assert_int_eq(server_hits(), 151);
	/* One quota per client: another client still retries. */
	other = client();
	call_once(other, 0, &r);
	ck_assert_int_eq(r.attempts, 3);
	aws_client_free(other);
	loop_finish(c);
}
END_TEST

START_TEST(server_errors_retried)
{
	struct aws_client *c = client();
	struct res r = { 0 };

	play(3, (struct step[]){ { K_RAW, 500, NULL, NULL, 0 },
	    STEP_ERR(503, "ServiceUnavailable"), STEP_OK });
	call_once(c, 0, &r);
	ck_assert_msg(r.errclass == AWS_ERRCLASS_OK, "%s", r.detail);
	ck_assert_int_eq(r.attempts, 3);
	/* Auto Scaling's ResourceContention (500, modeled Sender): transient too. */
	play(2, (struct step[]){ STEP_ERR(500, "ResourceContention"), STEP_OK });
	call_once(c, 0, &r);
	ck_assert(r.errclass == AWS_ERRCLASS_OK);
	ck_assert_int_eq(r.attempts, 2);
	/* A 502 from a proxy, three times: the status decides, the detail says so. */
	play(1, (struct step[]){ { K_RAW, 502, NULL, NULL, 0 } });
	call_once(c, 0, &r);
	ck_assert_int_eq(r.errclass, AWS_ERRCLASS_TRANSIENT);
	ck_assert_str_eq(r.code, "");
	ck_assert_int_eq(r.status, 502);
	ck_assert_str_eq(r.reqid, "req-0001");	/* from x-amzn-RequestId */
	ck_contains(r.detail, "HTTP 502 without an AWS error body; no attempts left");
	loop_finish(c);
}
END_TEST

START_TEST(connection_reset_retried)
{
	struct aws_client *c = client();
	struct res r = { 0 };

	play(2, (struct step[]){ { K_RESET, 0, NULL, NULL, 0 }, STEP_OK });
	call_once(c, 0, &r);
	ck_assert_msg(r.errclass == AWS_ERRCLASS_OK, "%s", r.detail);
	ck_assert_int_eq(r.attempts, 2);
	play(1, (struct step[]){ { K_RESET, 0, NULL, NULL, 0 } });
	call_once(c, 0, &r);
	ck_assert_int_eq(r.errclass, AWS_ERRCLASS_TRANSIENT);
	ck_assert_int_eq(r.attempts, 3);
	ck_contains(r.detail, "reset");
	loop_finish(c);
}
END_TEST

START_TEST(deadline)
{
	struct aws_client *c = client();
	struct res r = { 0 };

	/* An answer slower than the deadline: cut at the deadline, not curl's. */
	play(1, (struct step[]){ { K_SLOW, 0, NULL, NULL, 3000 } });
	call_once(c, 300, &r);
	ck_assert_int_eq(r.errclass, AWS_ERRCLASS_TRANSIENT);
	ck_assert_str_eq(r.code, "DeadlineExceeded");
	ck_assert_uint_ge(r.elapsed_ms, 290);
	ck_assert_uint_lt(r.elapsed_ms, 1000);
	/* A backoff that would pass the deadline is not waited for. */
	rng_value = 0.99;
	play(1, (struct step[]){ THROTTLED });
	call_once(c, 500, &r);
	ck_assert_int_eq(r.errclass, AWS_ERRCLASS_THROTTLE);
	ck_assert_str_eq(r.code, "Throttling");
	ck_assert_int_eq(r.attempts, 1);
	ck_contains(r.detail, "deadline of 500 ms reached after 1 attempts");
	ck_assert_uint_lt(r.elapsed_ms, 400);
	/* Throttled with backoff until the deadline: never longer than it. */
	rng_value = 0.3;
	call_once(c, 700, &r);
	ck_assert_int_eq(r.errclass, AWS_ERRCLASS_THROTTLE);
	ck_assert_int_eq(r.attempts, 2);	/* 300 ms, then 600 would pass it */
	ck_assert_uint_lt(r.elapsed_ms, 700);
	loop_finish(c);
}
END_TEST

/* Three calls meet ExpiredToken with the same keys: one refresh, each retried once. */
START_TEST(expired_token_refreshed)
{
	struct aws_client *c;
	struct aws_client_stats st;
	struct res r[3] = { { 0 } };
	int n1 = 0, n2 = 0;

	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", server_url("/creds"), 1);
	c = client();
	play(1, (struct step[]){ { K_EXPIRE_FIRST, 0, NULL, NULL, 0 } });
	for (int i = 0; i < 3; i++)
		start(c, 0, &r[i]);
	for (int i = 0; i < 3; i++)
		run_until(&r[i].calls, 1, 5000);
	for (int i = 0; i < 3; i++) {
		ck_assert_msg(r[i].errclass == AWS_ERRCLASS_OK, "%s", r[i].detail);
		ck_assert_int_eq(r[i].attempts, 2);
	}
	ck_assert_int_eq(container_hits, 2);
	ck_assert_int_eq(server_hits(), 6);
	/* Three attempts with the first keys, three with the second (any order). */
	for (int i = 0; i < 6; i++)
		n1 += strcmp(seen_akid[i], "ASIACONT1") == 0;
	ck_assert_int_eq(n1, 3);
	for (int i = 0; i < 6; i++)
		n2 += strcmp(seen_akid[i], "ASIACONT2") == 0;
	ck_assert_int_eq(n2, 3);
	aws_client_stats(c, &st);
	ck_assert_int_eq(st.retries, 3);
	loop_finish(c);
}
END_TEST

/* ExpiredToken again with fresh keys: retried once only, then it stands. */
START_TEST(expired_token_twice_fails)
{
	struct aws_client *c = client();
	struct res r = { 0 };

	play(1, (struct step[]){ STEP_ERR(403, "ExpiredToken") });
	call_once(c, 0, &r);
	ck_assert_int_eq(r.errclass, AWS_ERRCLASS_EXPIRED_CREDENTIALS);
	ck_assert_int_eq(r.attempts, 2);
	loop_finish(c);
}
END_TEST

START_TEST(clock_skew_learnt)
{
	struct aws_client *c = client_with(slow_clock);
	struct res r = { 0 };

	call_once(c, 0, &r);
	ck_assert_msg(r.errclass == AWS_ERRCLASS_OK, "%s: %s", r.code, r.detail);
	ck_assert_int_eq(r.attempts, 2);
	ck_assert_int_eq(server_hits(), 1);	/* the refused one is not counted */
	/* The offset stays: the next call is right the first time. */
	call_once(c, 0, &r);
	ck_assert_int_eq(r.attempts, 1);
	aws_client_free(c);
	/* EC2's way of saying it. */
	skew_as_request_expired = 1;
	c = client_with(slow_clock);
	call_once(c, 0, &r);
	ck_assert_msg(r.errclass == AWS_ERRCLASS_OK, "%s: %s", r.code, r.detail);
	ck_assert_int_eq(r.attempts, 2);
	loop_finish(c);
}
END_TEST

START_TEST(not_retried)
{
	struct aws_client *c = client();
	struct res r = { 0 };

	play(1, (struct step[]){ STEP_ERR(400, "ValidationError") });
	call_once(c, 0, &r);
	ck_assert_int_eq(r.errclass, AWS_ERRCLASS_VALIDATION);
	ck_assert_str_eq(r.code, "ValidationError");
	ck_assert_str_eq(r.message, "message of ValidationError");
	ck_assert_int_eq(r.attempts, 1);
	play(1, (struct step[]){ STEP_ERR(403, "AccessDenied") });
	call_once(c, 0, &r);
	ck_assert_int_eq(r.errclass, AWS_ERRCLASS_AUTH);
	ck_assert_int_eq(r.attempts, 1);
	play(1, (struct step[]){ { K_REDIRECT, 0, NULL, NULL, 0 } });
	call_once(c, 0, &r);
	ck_assert_int_eq(r.errclass, AWS_ERRCLASS_OTHER);
	ck_assert_int_eq(r.status, 301);
	ck_assert_int_eq(r.attempts, 1);
	ck_contains(r.detail, "redirects are not followed");
	ck_assert_int_eq(server_hits(), 3);
	loop_finish(c);
}
END_TEST

/* ---- Cancellation and lifetime ---- */

START_TEST(cancel_mid_backoff)
{
	struct aws_client *c = client();
	struct aws_client_stats st;
	struct aws_call *call;
	struct res r = { 0 };
	uint64_t end;
	int before;

	rng_value = 0.5;	/* 500 ms before the second attempt */
	play(2, (struct step[]){ THROTTLED, STEP_OK });
	call = start(c, 0, &r);
	end = mono_ms() + 3000;
	do {
		uv_run(&loop, UV_RUN_ONCE);
		aws_client_stats(c, &st);
	} while (st.retries == 0 && mono_ms() < end);
	ck_assert_int_eq(st.retries, 1);	/* in the backoff now */
	aws_call_cancel(call);
	aws_call_cancel(call);			/* twice: still one callback */
	ck_assert_int_eq(r.calls, 0);
	run_until(&r.calls, 1, 1000);
	ck_assert_str_eq(r.code, "Cancelled");
	ck_assert_uint_lt(r.elapsed_ms, 400);
	ck_assert_int_eq(server_hits(), 1);
	/* Cancelled before the loop ran, and while in flight. */
	call = start(c, 0, &r);
	aws_call_cancel(call);
	ck_assert_int_eq(r.calls, 1);
	run_until(&r.calls, 2, 1000);
	ck_assert_str_eq(r.code, "Cancelled");
	play(1, (struct step[]){ { K_SLOW, 0, NULL, NULL, 2000 } });
	before = server_hits();
	call = start(c, 0, &r);
	end = mono_ms() + 3000;
	while (server_hits() == before && mono_ms() < end)
		uv_run(&loop, UV_RUN_NOWAIT);
	ck_assert_int_eq(server_hits(), before + 1);
	aws_call_cancel(call);
	run_until(&r.calls, 3, 1000);
	ck_assert_str_eq(r.code, "Cancelled");
	aws_client_stats(c, &st);
	ck_assert_int_eq(st.failed, 0);		/* cancelled is not failed */
	/* Let the backoff's 500 ms pass: nothing else arrives. */
	end = mono_ms() + 600;
	while (mono_ms() < end)
		uv_run(&loop, UV_RUN_NOWAIT);
	ck_assert_int_eq(r.calls, 3);
	loop_finish(c);
}
END_TEST

static void
tick(uv_timer_t *t)
{
	(*(int *)t->data)++;
}

/* The loop keeps running its other timers while calls back off. */
START_TEST(loop_responsive)
{
	struct aws_client *c = client();
	struct res r[4] = { { 0 } };
	uv_timer_t timer;
	int ticks = 0;
	uint64_t t0;

	rng_value = 0.25;	/* 250 ms, then 500 ms */
	play(9, (struct step[]){ THROTTLED, THROTTLED, THROTTLED, THROTTLED, THROTTLED,
	    THROTTLED, THROTTLED, THROTTLED, STEP_OK });
	uv_timer_init(&loop, &timer);
	timer.data = &ticks;
	uv_timer_start(&timer, tick, 10, 10);
	t0 = mono_ms();
	for (int i = 0; i < 4; i++)
		start(c, 0, &r[i]);
	for (int i = 0; i < 4; i++)
		run_until(&r[i].calls, 1, 5000);
	for (int i = 0; i < 4; i++) {
		ck_assert(r[i].errclass == AWS_ERRCLASS_OK);
		ck_assert_int_eq(r[i].attempts, 3);
	}
	ck_assert_uint_ge(mono_ms() - t0, 700);
	ck_assert_msg(ticks >= (int)(mono_ms() - t0) / 10 / 2, "%d ticks in %llu ms",
	    ticks, (unsigned long long)(mono_ms() - t0));
	uv_close((uv_handle_t *)&timer, NULL);
	loop_finish(c);
}
END_TEST

struct again {
	struct res		 r;
	struct aws_client	*c;
	struct res		 again;
};

static void
on_result_again(const struct aws_result *r, void *arg)
{
	struct again *x = arg;

	on_result(r, &x->r);
	/* From a callback of a client being freed: refused, but still called once. */
	ck_assert_ptr_null(aws_call(x->c, query(), 0, on_result, &x->again));
}

START_TEST(client_free_cancels)
{
	struct aws_client *c = client();
	struct again x = { .c = c };
	struct res r[2] = { { 0 } };
	uint64_t end = mono_ms() + 3000;

	play(1, (struct step[]){ { K_SLOW, 0, NULL, NULL, 2000 } });
	start(c, 0, &r[0]);
	start(c, 0, &r[1]);
	ck_assert_ptr_nonnull(aws_call(c, query(), 0, on_result_again, &x));
	while (server_hits() < 3 && mono_ms() < end)
		uv_run(&loop, UV_RUN_NOWAIT);
	aws_client_free(c);
	ck_assert_int_eq(r[0].calls, 0);
	run_until(&r[0].calls, 1, 1000);
	run_until(&r[1].calls, 1, 1000);
	run_until(&x.r.calls, 1, 1000);
	run_until(&x.again.calls, 1, 1000);
	ck_assert_str_eq(r[0].code, "Cancelled");
	ck_assert_str_eq(x.r.code, "Cancelled");
	ck_assert_str_eq(x.again.code, "Cancelled");
	loop_finish(NULL);
}
END_TEST

START_TEST(invalid_query)
{
	struct aws_client *c = client();
	struct aws_query *q = query();
	struct res r = { 0 };

	ck_assert_int_eq(aws_query_add(q, "bad name!", "x"), -1);
	ck_assert_ptr_null(aws_call(c, q, 0, on_result, &r));
	ck_assert_int_eq(r.calls, 0);
	run_until(&r.calls, 1, 1000);
	ck_assert_int_eq(r.errclass, AWS_ERRCLASS_OTHER);
	ck_contains(r.detail, "the query is invalid");
	ck_assert_ptr_null(aws_call(c, NULL, 0, on_result, &r));
	run_until(&r.calls, 2, 1000);
	ck_contains(r.detail, "no query");
	ck_assert_ptr_null(aws_call(NULL, query(), 0, on_result, &r));
	ck_assert_int_eq(server_hits(), 0);
	loop_finish(c);
}
END_TEST

START_TEST(no_credentials)
{
	struct aws_client *c;
	struct res r = { 0 };

	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_ACCESS_KEY_ID");
	c = client();
	call_once(c, 0, &r);
	ck_assert_int_eq(r.errclass, AWS_ERRCLASS_AUTH);
	ck_assert_str_eq(r.code, "NoCredentials");
	ck_contains(r.detail, "no AWS credentials found");
	ck_assert_int_eq(r.attempts, 0);
	ck_assert_int_eq(server_hits(), 0);
	loop_finish(c);
}
END_TEST

START_TEST(client_new_refuses)
{
	struct aws_client_opts o = { .region = REGION };
	char err[256];

	ck_assert_ptr_null(aws_client_new(&loop, NULL, err, sizeof(err)));
	ck_assert_str_eq(err, "no region");
	o.region = "EU-WEST-1";
	ck_assert_ptr_null(aws_client_new(&loop, &o, err, sizeof(err)));
	ck_contains(err, "not a valid region name");
	o.region = REGION;
	o.endpoint_url = "http://192.0.2.1:4566";
	ck_assert_ptr_null(aws_client_new(&loop, &o, err, sizeof(err)));
	ck_contains(err, "CloudFormation endpoint http://192.0.2.1:4566/ (from deployment "
	    "endpoint_url): plain HTTP");
	o.endpoint_url = NULL;
	o.endpoint[AWS_EC2] = "http://user@127.0.0.1/";
	ck_assert_ptr_null(aws_client_new(&loop, &o, err, sizeof(err)));
	ck_assert_str_eq(err, "EC2 endpoint from deployment service endpoint: user "
	    "information in the URL is not allowed");
	loop_finish(NULL);
}
END_TEST

/* ---- The log: what happened, never a secret ---- */

/* Out of line: inlined, GCC 12 takes the result for a pointer to its local. */
static __attribute__((noinline)) char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(getdelim(&buf, &len, '\0', f) >= 0, 1);
	fclose(f);
	return buf;
}

START_TEST(log_no_secrets)
{
	struct aws_client *c;
	struct aws_query *q;
	struct res r = { 0 };
	char path[512], *trace, *p;
	int saved, offset;

	snprintf(path, sizeof(path), "%s/log", home);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	ck_assert_ptr_nonnull(freopen(path, "w", stderr));
	log_setlevel(LOG_DEBUG);
	c = client_with(slow_clock);
	play(2, (struct step[]){ THROTTLED, STEP_OK });
	q = query();
	ck_assert_int_eq(aws_query_add(q, "Password", "BODY-SECRET"), 0);
	ck_assert_ptr_nonnull(aws_call(c, q, 0, on_result, &r));
	run_until(&r.calls, 1, 5000);
	log_setlevel(LOG_INFO);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	ck_assert(r.errclass == AWS_ERRCLASS_OK);
	ck_assert_int_eq(r.attempts, 3);
	ck_contains(seen_body, "BODY-SECRET");	/* it was sent */
	trace = slurp(path);
	ck_assert_msg(strstr(trace, "SECRET") == NULL, "a secret in the log: %.200s",
	    strstr(trace, "SECRET"));
	ck_contains(trace, "aws: STS GetCallerIdentity attempt 1: HTTP 403 "
	    "SignatureDoesNotMatch (clock-skew)");
	/* The Date header has whole seconds: the offset is right to a second. */
	offset = 0;
	if ((p = strstr(trace, "clock offset set to +")) != NULL &&
	    sscanf(p, "clock offset set to +%d s", &offset) != 1)
		offset = 0;
	ck_assert_int_ge(offset, 3598);
	ck_assert_int_le(offset, 3601);
	ck_contains(trace, "attempt 2: HTTP 400 Throttling (throttle)");
	ck_contains(trace, "attempt 3: HTTP 200 - (ok)");
	ck_contains(trace, "Authorization: <redacted>");
	free(trace);
	loop_finish(c);
}
END_TEST

/* ---- Endpoints (pure) ---- */

/* The environment of a case: "NAME=value" strings. */
static const char *
table_env(const char *name, void *arg)
{
	const char *const *e = arg;
	size_t n = strlen(name);

	for (; *e != NULL; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

START_TEST(endpoint_precedence)
{
	static const char *const both[] = { "AWS_ENDPOINT_URL=http://127.0.0.1:1000",
	    "AWS_ENDPOINT_URL_STS=http://127.0.0.1:2000",
	    "AWS_ENDPOINT_URL_AUTO_SCALING=http://127.0.0.1:3000",
	    "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2=http://127.0.0.1:4000", NULL };
	static const char *const all[] = { "AWS_ENDPOINT_URL=http://localhost:4566",
	    "AWS_ENDPOINT_URL_CLOUDFORMATION=", NULL };
	static const char *const ignored[] = { "AWS_ENDPOINT_URL=http://127.0.0.1:1000",
	    "AWS_ENDPOINT_URL_STS=http://127.0.0.1:2000",
	    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=TRUE", NULL };
	static const char *const none[] = { NULL };
	static const struct {
		enum aws_service		 svc;
		const char			*region, *svc_url, *all_url;
		const char *const		*env;
		const char			*url, *host;
		enum aws_endpoint_source	 src;
	} t[] = {
		{ AWS_STS, "eu-west-1", NULL, NULL, none,
		    "https://sts.eu-west-1.amazonaws.com/", "sts.eu-west-1.amazonaws.com",
		    AWS_EP_DEFAULT },
		{ AWS_CLOUDWATCH, "cn-north-1", NULL, NULL, none,
		    "https://monitoring.cn-north-1.amazonaws.com.cn/",
		    "monitoring.cn-north-1.amazonaws.com.cn", AWS_EP_DEFAULT },
		{ AWS_ELBV2, "us-east-1", "", "", none,
		    "https://elasticloadbalancing.us-east-1.amazonaws.com/",
		    "elasticloadbalancing.us-east-1.amazonaws.com", AWS_EP_DEFAULT },
		{ AWS_CLOUDFORMATION, "eu-west-1", NULL, NULL, all,
		    "http://localhost:4566/", "localhost:4566", AWS_EP_ENV_ALL },
		{ AWS_STS, "eu-west-1", NULL, NULL, both,
		    "http://127.0.0.1:2000/", "127.0.0.1:2000", AWS_EP_ENV_SERVICE },
		{ AWS_AUTOSCALING, "eu-west-1", NULL, NULL, both,
		    "http://127.0.0.1:3000/", "127.0.0.1:3000", AWS_EP_ENV_SERVICE },
		{ AWS_ELB, "eu-west-1", NULL, NULL, both,
		    "http://127.0.0.1:1000/", "127.0.0.1:1000", AWS_EP_ENV_ALL },
		{ AWS_ELBV2, "eu-west-1", NULL, NULL, both,
		    "http://127.0.0.1:4000/", "127.0.0.1:4000", AWS_EP_ENV_SERVICE },
		{ AWS_STS, "eu-west-1", NULL, "http://127.0.0.1:5000", both,
		    "http://127.0.0.1:5000/", "127.0.0.1:5000", AWS_EP_CONFIG_ALL },
		{ AWS_STS, "eu-west-1", "https://sts.example.com:8443/x", "http://127.0.0.1:5000",
		    both, "https://sts.example.com:8443/x", "sts.example.com:8443",
		    AWS_EP_CONFIG_SERVICE },
		{ AWS_STS, "eu-west-1", NULL, NULL, ignored,
		    "https://sts.eu-west-1.amazonaws.com/", "sts.eu-west-1.amazonaws.com",
		    AWS_EP_DEFAULT },
		{ AWS_STS, "eu-west-1", NULL, "http://127.0.0.1:5000", ignored,
		    "http://127.0.0.1:5000/", "127.0.0.1:5000", AWS_EP_CONFIG_ALL },
	};
	struct aws_endpoint ep;
	char err[256];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ck_assert_msg(aws_endpoint_resolve(t[i].svc, t[i].region, t[i].svc_url,
		    t[i].all_url, table_env, (void *)t[i].env, &ep, err, sizeof(err)) == 0,
		    "case %zu: %s", i, err);
		ck_assert_msg(strcmp(ep.url, t[i].url) == 0, "case %zu: %s", i, ep.url);
		ck_assert_msg(strcmp(ep.host, t[i].host) == 0, "case %zu: %s", i, ep.host);
		ck_assert_msg(ep.source == t[i].src, "case %zu: %s", i,
		    aws_endpoint_source_name(ep.source));
	}
	/* A bad URL names where it came from. */
	static const char *const bad[] = { "AWS_ENDPOINT_URL_STS=ftp://x", NULL };
	ck_assert_int_eq(aws_endpoint_resolve(AWS_STS, "eu-west-1", NULL, NULL, table_env,
	    (void *)bad, &ep, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "STS endpoint from AWS_ENDPOINT_URL_STS: not an http:// or "
	    "https:// URL");
	ck_assert_int_eq(aws_endpoint_resolve(AWS_STS, NULL, NULL, NULL, table_env,
	    (void *)none, &ep, err, sizeof(err)), -1);
	ck_assert_int_eq(aws_endpoint_resolve(AWS_SERVICE_COUNT, "eu-west-1", NULL, NULL,
	    table_env, (void *)none, &ep, err, sizeof(err)), -1);
	ck_assert_int_eq(aws_endpoint_resolve(AWS_STS, "eu-west-1.evil.com/x", NULL, NULL,
	    table_env, (void *)none, &ep, err, sizeof(err)), -1);
}
END_TEST

START_TEST(endpoint_parse)
{
	static const struct {
		const char	*in, *url, *host, *path;
	} ok[] = {
		{ "http://127.0.0.1:4566", "http://127.0.0.1:4566/", "127.0.0.1:4566", "/" },
		{ "HTTP://Host:80", "http://Host:80/", "Host", "/" },
		{ "https://example.com:443/", "https://example.com:443/", "example.com",
		    "/" },
		{ "https://example.com:80/", "https://example.com:80/", "example.com:80",
		    "/" },
		{ "http://[::1]:8080/base/", "http://[::1]:8080/base/", "[::1]:8080",
		    "/base/" },
		{ "https://localstack_main/a%2Fb", "https://localstack_main/a%2Fb",
		    "localstack_main", "/a%2Fb" },
	};
	static const char *const bad[] = { "", "ftp://x", "http://", "http://:80",
	    "http://user@host", "http://user:pw@host/", "http://h:0", "http://h:65536",
	    "http://h:", "http://h:8x", "http://h?x=1", "http://h/#f", "http://h/a b",
	    "http://h/%zz", "http://[::1", "http://h\r\n", "//h/", "h:80" };
	struct aws_endpoint ep;
	char err[128];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ck_assert_msg(aws_endpoint_parse(ok[i].in, &ep, err, sizeof(err)) == 0,
		    "%s: %s", ok[i].in, err);
		ck_assert_str_eq(ep.url, ok[i].url);
		ck_assert_str_eq(ep.host, ok[i].host);
		ck_assert_str_eq(ep.path, ok[i].path);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(aws_endpoint_parse(bad[i], &ep, err, sizeof(err)) == -1,
		    "accepted %s", bad[i]);
	ck_assert_int_eq(aws_endpoint_parse(NULL, &ep, err, sizeof(err)), -1);
}
END_TEST

Suite *
aws_client_suite(void)
{
	Suite *s = suite_create("aws_client");
	TCase *pure = tcase_create("pure");
	TCase *calls = tcase_create("calls");
	TCase *retries = tcase_create("retries");
	TCase *life = tcase_create("lifetime");

	tcase_add_test(pure, endpoint_precedence);
	tcase_add_test(pure, endpoint_parse);
	suite_add_tcase(s, pure);

	tcase_add_checked_fixture(calls, setup, teardown);
	tcase_add_test(calls, success_signed);
	tcase_add_test(calls, service_endpoint_with_path);
	tcase_add_test(calls, not_retried);
	tcase_add_test(calls, invalid_query);
	tcase_add_test(calls, no_credentials);
	tcase_add_test(calls, client_new_refuses);
	tcase_add_test(calls, log_no_secrets);
	tcase_set_timeout(calls, 20);
	suite_add_tcase(s, calls);

	tcase_add_checked_fixture(retries, setup, teardown);
	tcase_add_test(retries, throttling_retried);
	tcase_add_test(retries, throttling_exhausted);
	tcase_add_test(retries, retry_quota);
	tcase_add_test(retries, server_errors_retried);
	tcase_add_test(retries, connection_reset_retried);
	tcase_add_test(retries, deadline);
	tcase_add_test(retries, expired_token_refreshed);
	tcase_add_test(retries, expired_token_twice_fails);
	tcase_add_test(retries, clock_skew_learnt);
	tcase_set_timeout(retries, 30);
	suite_add_tcase(s, retries);

	tcase_add_checked_fixture(life, setup, teardown);
	tcase_add_test(life, cancel_mid_backoff);
	tcase_add_test(life, loop_responsive);
	tcase_add_test(life, client_free_cancels);
	tcase_set_timeout(life, 20);
	suite_add_tcase(s, life);
	return s;
}
