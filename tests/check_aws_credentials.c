/*
 * The credential chain: the pure parsers (shared INI files, the metadata JSON, the
 * container URL rule) on good, malformed and hostile input; then the chain on a real
 * loop against a libmicrohttpd loopback server that plays the EC2 instance metadata
 * service (IMDSv2 only: the token PUT is required and its TTL header checked) and a
 * container credentials endpoint. The environment is emptied of AWS_* and HOME
 * points to an empty directory before each test, so nothing of the machine leaks
 * in; every secret the tests plant contains "SECRET", and the log is captured to
 * show that none of them reaches it. Each test ends with uv_loop_close() == 0.
 */
#include <arpa/inet.h>
#include <check.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/aws/credentials.h"
#include "daemon/http.h"
#include "tests/testutil.h"
#include "tests/suites_decl.h"

#define FIXTURES	"tests/fixtures/aws/credentials"
#define ROLE		"bbupgraded-role"

extern char **environ;

static uv_loop_t loop;
static struct MHD_Daemon *mhd;
static int port;
static char *home;

/* ---- The server: IMDS and a container endpoint ---- */

enum imds_mode {
	IMDS_OK,
	IMDS_TOKEN_404,		/* no IMDSv2 */
	IMDS_TOKEN_SLOW,	/* the token PUT never answers in time */
	IMDS_NO_ROLE,		/* 404 on the role listing */
	IMDS_DOWN		/* 503 everywhere */
};

static atomic_int imds_mode;
static atomic_int token_hits, role_hits, creds_hits, container_hits, bad_requests;
static atomic_int token_gen;		/* bumping it makes issued tokens invalid */
static atomic_int creds_serial;		/* numbers the keys handed out */
static atomic_int container_status;	/* 0: answer 200 */
static atomic_llong fake_now;		/* the tests' wall clock, ms */
static atomic_llong lifetime_ms;	/* Expiration = clock + this */
static atomic_int use_real_clock;
static atomic_bool stopping;

static int64_t
real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t
test_now(void)
{
	return atomic_load(&use_real_clock) ? real_ms() : atomic_load(&fake_now);
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static enum MHD_Result
reply(struct MHD_Connection *conn, unsigned code, const char *body)
{
	struct MHD_Response *resp;
	enum MHD_Result rc;

	resp = MHD_create_response_from_buffer(strlen(body), (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	rc = MHD_queue_response(conn, code, resp);
	MHD_destroy_response(resp);
	return rc;
}

static void
current_token(char *buf, size_t len)
{
	snprintf(buf, len, "TOKEN-SECRET-%d", atomic_load(&token_gen));
}

/* The credentials JSON, numbered, expiring lifetime_ms after the test clock. */
static enum MHD_Result
reply_creds(struct MHD_Connection *conn, const char *prefix)
{
	int n = atomic_fetch_add(&creds_serial, 1) + 1;
	int64_t exp = test_now() + atomic_load(&lifetime_ms);
	time_t t = (time_t)(exp / 1000);
	char when[64], body[1024];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(body, sizeof(body), "{\n  \"Code\" : \"Success\",\n"
	    "  \"LastUpdated\" : \"2024-01-01T00:00:00Z\",\n  \"Type\" : \"AWS-HMAC\",\n"
	    "  \"AccessKeyId\" : \"ASIA%s%d\",\n"
	    "  \"SecretAccessKey\" : \"%s-SECRET-%d\",\n"
	    "  \"Token\" : \"%s-SESSION-SECRET-%d\",\n"
	    "  \"Expiration\" : \"%s.%03dZ\"\n}", prefix, n, prefix, n, prefix, n, when,
	    (int)(exp % 1000));
	return reply(conn, 200, body);
}

static int
token_ok(struct MHD_Connection *conn)
{
	const char *tok = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    "X-aws-ec2-metadata-token");
	char want[64];

	current_token(want, sizeof(want));
	return tok != NULL && strcmp(tok, want) == 0;
}

static enum MHD_Result
answer_token(struct MHD_Connection *conn, const char *method)
{
	const char *ttl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    "X-aws-ec2-metadata-token-ttl-seconds");
	char tok[64];

	atomic_fetch_add(&token_hits, 1);
	if (strcmp(method, "PUT") != 0)
		return reply(conn, 405, "");
	switch (atomic_load(&imds_mode)) {
	case IMDS_TOKEN_404:
		return reply(conn, 404, "");
	case IMDS_TOKEN_SLOW:
		for (int i = 0; i < 300 && !atomic_load(&stopping); i++)
			sleep_ms(10);
		break;
	case IMDS_DOWN:
		return reply(conn, 503, "");
	default:
		break;
	}
	if (ttl == NULL || strcmp(ttl, "21600") != 0) {
		atomic_fetch_add(&bad_requests, 1);
		return reply(conn, 400, "");
	}
	current_token(tok, sizeof(tok));
	return reply(conn, 200, tok);
}

/* GETs under /latest/meta-data/iam/security-credentials/ need the token. */
static enum MHD_Result
answer_imds_get(struct MHD_Connection *conn, const char *rest)
{
	if (!token_ok(conn))
		return reply(conn, 401, "");
	if (atomic_load(&imds_mode) == IMDS_DOWN)
		return reply(conn, 503, "");
	if (*rest == '\0') {
		atomic_fetch_add(&role_hits, 1);
		if (atomic_load(&imds_mode) == IMDS_NO_ROLE)
			return reply(conn, 404, "");
		return reply(conn, 200, ROLE);
	}
	atomic_fetch_add(&creds_hits, 1);
	if (strcmp(rest, ROLE) != 0)
		return reply(conn, 404, "");
	return reply_creds(conn, "IMDS");
}

static enum MHD_Result
answer_container(struct MHD_Connection *conn)
{
	const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    "Authorization");
	int status = atomic_load(&container_status);

	atomic_fetch_add(&container_hits, 1);
	if (auth == NULL || strncmp(auth, "AUTH-SECRET-", 12) != 0)
		return reply(conn, 401, "");
	if (status != 0)
		return reply(conn, (unsigned)status, "");
	return reply_creds(conn, "CONT");
}

static enum MHD_Result
answer(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *data, size_t *size, void **con_cls)
{
	static const char creds[] = "/latest/meta-data/iam/security-credentials/";

	if (*con_cls == NULL) {
		*con_cls = conn;	/* headers now, the (empty) body next */
		return MHD_YES;
	}
	if (*size > 0) {	/* no request here has a body: drop it */
		*size = 0;
		return MHD_YES;
	}
	if (strcmp(url, "/latest/api/token") == 0)
		return answer_token(conn, method);
	if (strncmp(url, creds, sizeof(creds) - 1) == 0)
		return answer_imds_get(conn, url + sizeof(creds) - 1);
	if (strcmp(url, "/creds") == 0)
		return answer_container(conn);
	return reply(conn, 404, "");
}

/* ---- Fixture ---- */

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
		e = environ;	/* unsetenv() moves the entries */
	}
}

static void
setup(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	char url[64];

	clear_aws_env();
	ck_assert_ptr_nonnull(home = test_tmpdir());
	setenv("HOME", home, 1);
	/* Never the real metadata service: tests that want IMDS point it here. */
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	atomic_store(&imds_mode, IMDS_OK);
	atomic_store(&token_hits, 0);
	atomic_store(&role_hits, 0);
	atomic_store(&creds_hits, 0);
	atomic_store(&container_hits, 0);
	atomic_store(&bad_requests, 0);
	atomic_store(&token_gen, 1);
	atomic_store(&creds_serial, 0);
	atomic_store(&container_status, 0);
	atomic_store(&fake_now, (long long)1700000000 * 1000);
	atomic_store(&lifetime_ms, 6 * 3600 * 1000LL);
	atomic_store(&use_real_clock, 0);
	atomic_store(&stopping, false);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
	    MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL, 0, NULL, NULL, answer, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin, MHD_OPTION_END);
	ck_assert_ptr_nonnull(mhd);
	port = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_BIND_PORT)->port;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	setenv("BBTEST_IMDS", url, 1);
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

static void
use_imds(void)
{
	unsetenv("AWS_EC2_METADATA_DISABLED");
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", getenv("BBTEST_IMDS"), 1);
}

static void
use_files(void)
{
	setenv("AWS_SHARED_CREDENTIALS_FILE", FIXTURES "/credentials", 1);
	setenv("AWS_CONFIG_FILE", FIXTURES "/config", 1);
}

static void
use_container(const char *token)
{
	char url[96];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/creds", port);
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
	if (token != NULL)
		setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", token, 1);
}

static struct aws_creds *
creds_new(const char *profile)
{
	struct aws_creds_opts o = { .profile = profile, .now_ms = test_now,
	    .imds_timeout_ms = 300, .container_timeout_ms = 300,
	    .container_pause_ms = 10 };
	struct aws_creds *cr = aws_creds_new(&loop, &o);

	ck_assert_ptr_nonnull(cr);
	return cr;
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

/* The end of every test: the chain freed, nothing left on the loop. */
static void
loop_finish(struct aws_creds *cr)
{
	aws_creds_free(cr);
	http_shutdown();
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
}

/* What one callback saw, copied out. */
struct got {
	int	 calls;
	int	 ok, transient, cancelled;
	char	 akid[130], secret[130], token[130], source[AWS_CREDS_SOURCE_MAX];
	int64_t	 expiration_ms;
	char	 error[AWS_CREDS_ERROR_MAX];
};

static void
on_creds(const struct aws_credentials *c, const struct aws_creds_error *e, void *arg)
{
	struct got *g = arg;

	ck_assert((c == NULL) != (e == NULL));
	g->calls++;
	g->ok = c != NULL;
	if (c != NULL) {
		snprintf(g->akid, sizeof(g->akid), "%s", c->access_key_id);
		snprintf(g->secret, sizeof(g->secret), "%s", c->secret_access_key);
		snprintf(g->token, sizeof(g->token), "%s",
		    c->session_token != NULL ? c->session_token : "");
		snprintf(g->source, sizeof(g->source), "%s", c->source);
		g->expiration_ms = c->expiration_ms;
		g->error[0] = '\0';
	} else {
		g->transient = e->transient;
		g->cancelled = e->cancelled;
		snprintf(g->error, sizeof(g->error), "%s", e->message);
	}
}

/* Asks once and runs the loop until the answer. */
static void
get(struct aws_creds *cr, struct got *g)
{
	int before = g->calls;

	ck_assert_ptr_nonnull(aws_creds_get(cr, on_creds, g));
	ck_assert_int_eq(g->calls, before);	/* never from inside aws_creds_get() */
	run_until(&g->calls, before + 1, 5000);
}

static void
ck_contains(const char *hay, const char *needle)
{
	ck_assert_msg(strstr(hay, needle) != NULL, "\"%s\" not in \"%s\"", needle, hay);
}

/* ---- Pure: the INI files ---- */

static int
ini(const char *text, int config, const char *profile, struct aws_creds_ini_keys *k,
    char *err, size_t errlen)
{
	return aws_creds_ini_profile(text, strlen(text), config, profile, k, err, errlen);
}

START_TEST(ini_profiles)
{
	static const char creds[] =
	    "# comment\n; another\n\n[default]\naws_access_key_id = AKIDDEF\n"
	    "aws_secret_access_key = SECRET-def\n"
	    "[prod]\r\nAws_Access_Key_Id:AKIDPROD\r\n  \r\n"
	    "aws_secret_access_key=  SECRET-prod  \r\n"
	    "aws_security_token = LEGACY-SECRET\naws_session_token = SESSION-SECRET\n"
	    "[profile prod]\naws_access_key_id = WRONG\naws_secret_access_key = W\n"
	    "[empty]\n[last]\naws_access_key_id = AKIDLAST\naws_secret_access_key = S";
	static const char config[] =
	    "[default]\nregion = x\n[profile staging]\naws_access_key_id = AKIDSTG\n"
	    "aws_secret_access_key = SECRET-stg\ns3 =\n  addressing_style = path\n"
	    "[profile   \"two words\"]\naws_access_key_id = AKIDTWO\n"
	    "aws_secret_access_key = S2\n[staging]\naws_access_key_id = WRONG\n"
	    "[profile default]\naws_access_key_id = AKIDPDEF\naws_secret_access_key = S3\n";
	struct aws_creds_ini_keys k;
	char err[128];

	ck_assert_int_eq(ini(creds, 0, "default", &k, err, sizeof(err)), 1);
	ck_assert_str_eq(k.access_key_id, "AKIDDEF");
	ck_assert_str_eq(k.secret_access_key, "SECRET-def");
	ck_assert_ptr_null(k.session_token);
	aws_creds_ini_keys_free(&k);
	/* Keys in any case, ':' as delimiter, CRLF, blanks trimmed, new token wins. */
	ck_assert_int_eq(ini(creds, 0, "prod", &k, err, sizeof(err)), 1);
	ck_assert_str_eq(k.access_key_id, "AKIDPROD");
	ck_assert_str_eq(k.secret_access_key, "SECRET-prod");
	ck_assert_str_eq(k.session_token, "SESSION-SECRET");
	aws_creds_ini_keys_free(&k);
	ck_assert_int_eq(ini(creds, 0, "empty", &k, err, sizeof(err)), 1);
	ck_assert_ptr_null(k.access_key_id);
	ck_assert_int_eq(ini(creds, 0, "last", &k, err, sizeof(err)), 1);
	ck_assert_str_eq(k.secret_access_key, "S");
	aws_creds_ini_keys_free(&k);
	ck_assert_int_eq(ini(creds, 0, "missing", &k, err, sizeof(err)), 0);
	ck_assert_int_eq(ini(creds, 0, "profile", &k, err, sizeof(err)), 0);
	/* The config file: [profile x], [default] and [profile default] (later wins). */
	ck_assert_int_eq(ini(config, 1, "staging", &k, err, sizeof(err)), 1);
	ck_assert_str_eq(k.access_key_id, "AKIDSTG");
	aws_creds_ini_keys_free(&k);
	ck_assert_int_eq(ini(config, 1, "two words", &k, err, sizeof(err)), 1);
	ck_assert_str_eq(k.access_key_id, "AKIDTWO");
	aws_creds_ini_keys_free(&k);
	ck_assert_int_eq(ini(config, 1, "default", &k, err, sizeof(err)), 1);
	ck_assert_str_eq(k.access_key_id, "AKIDPDEF");
	aws_creds_ini_keys_free(&k);
	ck_assert_int_eq(ini("[profile x]\nrole_arn = arn\nsource_profile = y\n", 1, "x",
	    &k, err, sizeof(err)), 1);
	ck_assert_str_eq(k.unsupported, "role_arn");
	aws_creds_ini_keys_free(&k);
	ck_assert_int_eq(ini("", 0, "default", &k, err, sizeof(err)), 0);
	ck_assert_int_eq(aws_creds_ini_profile(NULL, 0, 0, "x", &k, err, sizeof(err)), -1);
	aws_creds_ini_keys_free(NULL);
}
END_TEST

START_TEST(ini_malformed)
{
	static const struct {
		const char	*text, *want;
	} t[] = {
		{ "aws_access_key_id = SECRET-1\n", "line 1: a key outside any section" },
		{ "[default]\nSECRET-2 no delimiter\n", "line 2: expected" },
		{ "[default]\n= SECRET-3\n", "line 2: a key name is empty" },
		{ "[default\nx = 1\n", "line 1: a section header" },
		{ "[]\n", "line 1: a section header" },
		{ "[default] SECRET-4\n", "line 1: unexpected text" },
		{ "[a]\n[b]\n[a]\n", "line 3: the section appears twice" },
		{ "[a]\nk = 1\nK = SECRET-5\n", "line 3: a key appears twice" },
		{ "[default]\n  x = SECRET-6\n", "line 2: an indented line" },
		{ "[default]\naws_secret_access_key =\n  SECRET-7\n",
		    "line 3: a credential value may not span lines" },
	};
	struct aws_creds_ini_keys k;
	char err[128];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ck_assert_msg(ini(t[i].text, 0, "default", &k, err, sizeof(err)) == -1,
		    "case %zu accepted", i);
		ck_assert_msg(strncmp(err, t[i].want, strlen(t[i].want)) == 0,
		    "case %zu: \"%s\"", i, err);
		ck_assert_msg(strstr(err, "SECRET") == NULL, "case %zu quotes: %s", i, err);
		ck_assert_ptr_null(k.access_key_id);
		ck_assert_ptr_null(k.secret_access_key);
	}
	/* A NUL byte: not a text file. */
	ck_assert_int_eq(aws_creds_ini_profile("[default]\0x", 11, 0, "default", &k, err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "NUL"));
	/* A continuation of someone else's setting, or in another profile, is fine. */
	ck_assert_int_eq(ini("[other]\naws_secret_access_key =\n  x\n[default]\n", 0,
	    "default", &k, err, sizeof(err)), 1);
}
END_TEST

/* ---- Pure: the metadata JSON ---- */

static int
json(const char *body, struct aws_creds_ini_keys *k, int64_t *exp, char *err,
    size_t errlen)
{
	return aws_creds_json(body, strlen(body), k, exp, err, errlen);
}

START_TEST(json_good)
{
	static const char imds[] = "{\n  \"Code\" : \"Success\",\n  \"LastUpdated\" : "
	    "\"2012-04-26T16:39:16Z\",\n  \"Type\" : \"AWS-HMAC\",\n  \"AccessKeyId\" : "
	    "\"ASIAIOSFODNN7EXAMPLE\",\n  \"SecretAccessKey\" : \"wJalrXUtnFEMI/K7MDENG/"
	    "bPxRfiCYEXAMPLEKEY\",\n  \"Token\" : \"token\\u0041\\/\\n\",\n  "
	    "\"Expiration\" : \"2017-05-17T15:09:54Z\"\n}";
	static const char container[] = "{\"RoleArn\":\"arn:aws:iam::1:role/r\","
	    "\"AccessKeyId\":\"ASIA1\",\"SecretAccessKey\":\"s\",\"Token\":\"t\","
	    "\"Expiration\":\"2017-05-17T15:09:54.250+01:00\",\"Nested\":{\"a\":[1,-2.5e3,"
	    "true,false,null,{}]},\"AccountId\":\"123456789012\"}";
	struct aws_creds_ini_keys k;
	int64_t exp;
	char err[128];

	ck_assert_int_eq(json(imds, &k, &exp, err, sizeof(err)), 0);
	ck_assert_str_eq(k.access_key_id, "ASIAIOSFODNN7EXAMPLE");
	ck_assert_str_eq(k.secret_access_key, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
	ck_assert_str_eq(k.session_token, "tokenA/\n");
	ck_assert_int_eq(exp, (int64_t)1495033794 * 1000);
	aws_creds_ini_keys_free(&k);
	ck_assert_int_eq(json(container, &k, &exp, err, sizeof(err)), 0);
	ck_assert_str_eq(k.access_key_id, "ASIA1");
	ck_assert_int_eq(exp, (int64_t)(1495033794 - 3600) * 1000 + 250);
	aws_creds_ini_keys_free(&k);
}
END_TEST

START_TEST(json_hostile)
{
	static const char ok_tail[] = "\"SecretAccessKey\":\"SECRET-J\",\"Token\":\"t\","
	    "\"Expiration\":\"2030-01-01T00:00:00Z\"";
	static const struct {
		const char	*body, *want;
	} t[] = {
		{ "", "not one JSON object" },
		{ "[]", "not one JSON object" },
		{ "\"SECRET-J\"", "not one JSON object" },
		{ "{", "not one JSON object" },
		{ "{\"AccessKeyId\":\"A\",", "not one JSON object" },
		{ "{} {}", "not one JSON object" },
		{ "{\"AccessKeyId\":\"A\"}x", "not one JSON object" },
		{ "{'AccessKeyId':'A'}", "not one JSON object" },
		{ "{\"AccessKeyId\":\"A\" \"x\":1}", "not one JSON object" },
		{ "{\"AccessKeyId\":1}", "AccessKeyId is not one string" },
		{ "{\"AccessKeyId\":\"A\",\"AccessKeyId\":\"B\"}",
		    "AccessKeyId is not one string" },
		{ "{\"AccessKeyId\":\"bad\\x\"}", "AccessKeyId is not one string" },
		{ "{\"AccessKeyId\":\"\\ud800\"}", "AccessKeyId is not one string" },
		{ "{\"AccessKeyId\":\"\\udc00x\"}", "AccessKeyId is not one string" },
		{ "{\"AccessKeyId\":\"\\u0000\"}", "AccessKeyId is not one string" },
		{ "{\"AccessKeyId\":\"\\u12\"}", "AccessKeyId is not one string" },
		{ "{\"AccessKeyId\":\"a\nb\"}", "AccessKeyId is not one string" },
		{ "{\"x\":01}", "not one JSON object" },
		{ "{\"x\":1.}", "not one JSON object" },
		{ "{\"x\":tru}", "not one JSON object" },
		{ "{\"x\":[1,]}", "not one JSON object" },
		{ "{\"x\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}", "not one JSON object" },
		{ "{\"SecretAccessKey\":\"SECRET-J\"}", "the answer has no AccessKeyId" },
		{ "{\"AccessKeyId\":\"\",\"SecretAccessKey\":\"SECRET-J\"}",
		    "the answer has no AccessKeyId" },
	};
	struct aws_creds_ini_keys k;
	char err[160], body[512];
	int64_t exp;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ck_assert_msg(json(t[i].body, &k, &exp, err, sizeof(err)) == -1,
		    "case %zu accepted", i);
		ck_assert_msg(strstr(err, t[i].want) != NULL, "case %zu: %s", i, err);
		ck_assert_ptr_null(k.access_key_id);
	}
	snprintf(body, sizeof(body), "{\"AccessKeyId\":\"A\",%s,\"Code\":\"Failure\"}",
	    ok_tail);
	ck_assert_int_eq(json(body, &k, &exp, err, sizeof(err)), -1);
	ck_contains(err, "Code is \"Failure\"");
	snprintf(body, sizeof(body), "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\","
	    "\"Token\":\"t\",\"Expiration\":\"tomorrow\"}");
	ck_assert_int_eq(json(body, &k, &exp, err, sizeof(err)), -1);
	ck_contains(err, "Expiration is not an ISO 8601 time");
	snprintf(body, sizeof(body), "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\","
	    "\"Expiration\":\"2030-01-01T00:00:00Z\"}");
	ck_assert_int_eq(json(body, &k, &exp, err, sizeof(err)), -1);
	ck_contains(err, "no Token");
	ck_assert_int_eq(aws_creds_json(NULL, 0, &k, &exp, err, sizeof(err)), -1);
	/* Truncated at every length: refused, never read past the end. */
	snprintf(body, sizeof(body), "{\"AccessKeyId\":\"A\\u00e9\",%s}", ok_tail);
	for (size_t n = 0; n < strlen(body); n++) {
		char *cut = malloc(n > 0 ? n : 1);

		memcpy(cut, body, n);
		ck_assert_int_eq(aws_creds_json(cut, n, &k, &exp, err, sizeof(err)), -1);
		free(cut);
	}
	ck_assert_int_eq(json(body, &k, &exp, err, sizeof(err)), 0);
	ck_assert_str_eq(k.access_key_id, "A\xc3\xa9");
	aws_creds_ini_keys_free(&k);
}
END_TEST

START_TEST(container_url_rule)
{
	static const struct {
		const char	*url;
		int		 ok;
	} t[] = {
		{ "https://example.com/creds", 1 },
		{ "HTTPS://anything:8443/x", 1 },
		{ "http://127.0.0.1:8080/creds", 1 },
		{ "http://127.1.2.3/", 1 },
		{ "http://localhost/x", 1 },
		{ "http://LOCALHOST:80/x", 1 },
		{ "http://[::1]:51679/x", 1 },
		{ "http://169.254.170.2/v2/credentials/x", 1 },
		{ "http://169.254.170.23/v1/credentials", 1 },
		{ "http://[fd00:ec2::23]/v1/credentials", 1 },
		{ "http://169.254.169.254/", 0 },
		{ "http://192.0.2.1/", 0 },
		{ "http://example.com/", 0 },
		{ "http://localhost.example.com/", 0 },
		{ "http://127.0.0.1@192.0.2.1/", 0 },
		{ "http://[fd00:ec2::24]/", 0 },
		{ "ftp://127.0.0.1/", 0 },
		{ "127.0.0.1/creds", 0 },
		{ "http:///x", 0 },
		{ "", 0 },
		{ NULL, 0 },
	};
	char why[256];

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_msg((aws_creds_container_url_ok(t[i].url, why, sizeof(why)) == 0)
		    == t[i].ok, "%s", t[i].url != NULL ? t[i].url : "NULL");
}
END_TEST

/* ---- The chain: environment and files ---- */

START_TEST(env_beats_files_beats_imds)
{
	struct aws_creds *cr;
	struct got g = { 0 };

	use_files();
	use_imds();
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "ENV-SECRET", 1);
	cr = creds_new(NULL);
	get(cr, &g);
	ck_assert(g.ok);
	ck_assert_str_eq(g.akid, "AKIDENV");
	ck_assert_str_eq(g.secret, "ENV-SECRET");
	ck_assert_str_eq(g.token, "");
	ck_assert_str_eq(g.source, "environment");
	ck_assert_int_eq(g.expiration_ms, 0);
	aws_creds_free(cr);
	/* Without the environment: the file's default profile. */
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	cr = creds_new(NULL);
	get(cr, &g);
	ck_assert_str_eq(g.akid, "AKIDFILEDEFAULT");
	ck_assert_str_eq(g.source, "shared credentials file " FIXTURES
	    "/credentials profile default");
	aws_creds_free(cr);
	ck_assert_int_eq(atomic_load(&token_hits), 0);
	/* Without keys in the files: instance metadata. */
	setenv("AWS_SHARED_CREDENTIALS_FILE", FIXTURES "/none", 1);
	setenv("AWS_CONFIG_FILE", FIXTURES "/none", 1);
	cr = creds_new(NULL);
	get(cr, &g);
	ck_assert_msg(g.ok, "%s", g.error);
	ck_assert_str_eq(g.akid, "ASIAIMDS1");
	ck_assert_str_eq(g.source, "instance metadata role " ROLE);
	ck_assert_int_eq(atomic_load(&token_hits), 1);
	loop_finish(cr);
}
END_TEST

START_TEST(env_tokens_and_partial)
{
	struct aws_creds *cr = creds_new(NULL);
	struct got g = { 0 };

	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "ENV-SECRET", 1);
	setenv("AWS_SECURITY_TOKEN", "LEGACY-SESSION-SECRET", 1);
	get(cr, &g);
	ck_assert_str_eq(g.token, "LEGACY-SESSION-SECRET");
	/* AWS_SESSION_TOKEN wins over the legacy name (after a re-read). */
	setenv("AWS_SESSION_TOKEN", "ENV-SESSION-SECRET", 1);
	ck_assert_int_eq(aws_creds_invalidate(cr, "AKIDENV"), 1);
	get(cr, &g);
	ck_assert_str_eq(g.token, "ENV-SESSION-SECRET");
	/* Half a key pair is an error, not a fall-through. */
	use_files();
	unsetenv("AWS_SECRET_ACCESS_KEY");
	ck_assert_int_eq(aws_creds_invalidate(cr, "AKIDENV"), 1);
	get(cr, &g);
	ck_assert(!g.ok);
	ck_contains(g.error, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
	ck_assert(!g.transient);
	loop_finish(cr);
}
END_TEST

START_TEST(profiles)
{
	struct aws_creds *cr;
	struct got g = { 0 };

	use_files();
	/* Named explicitly: the environment's keys are not used (botocore). */
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "ENV-SECRET", 1);
	cr = creds_new("prod");
	get(cr, &g);
	ck_assert_str_eq(g.akid, "AKIDFILEPROD");
	ck_assert_str_eq(g.secret, "FILE-SECRET-prod");
	ck_assert_str_eq(g.token, "FILE-SESSION-SECRET-prod");
	ck_assert_str_eq(g.source, "shared credentials file " FIXTURES
	    "/credentials profile prod");
	aws_creds_free(cr);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	/* From the environment; AWS_DEFAULT_PROFILE is looked at first. */
	setenv("AWS_PROFILE", "prod", 1);
	setenv("AWS_DEFAULT_PROFILE", "staging", 1);
	cr = creds_new(NULL);
	get(cr, &g);
	ck_assert_str_eq(g.akid, "AKIDCONFIGSTAGING");
	ck_assert_str_eq(g.token, "CONFIG-SESSION-SECRET-staging");
	ck_assert_str_eq(g.source, "config file " FIXTURES "/config profile staging");
	aws_creds_free(cr);
	unsetenv("AWS_DEFAULT_PROFILE");
	unsetenv("AWS_PROFILE");
	/* A section without keys in the credentials file: the config file's. */
	cr = creds_new("nokeys");
	get(cr, &g);
	ck_assert_str_eq(g.akid, "AKIDCONFIGNOKEYS");
	aws_creds_free(cr);
	cr = creds_new("with space");
	get(cr, &g);
	ck_assert_str_eq(g.akid, "AKIDCONFIGSPACE");
	loop_finish(cr);
}
END_TEST

START_TEST(profile_errors)
{
	struct aws_creds *cr;
	struct got g = { 0 };

	use_files();
	use_imds();
	cr = creds_new("missing");
	get(cr, &g);
	ck_assert(!g.ok);
	ck_contains(g.error, "profile \"missing\" not found in " FIXTURES
	    "/credentials or " FIXTURES "/config");
	ck_assert_int_eq(atomic_load(&token_hits), 0);	/* an error, not a fall-through */
	aws_creds_free(cr);
	cr = creds_new("partial");
	get(cr, &g);
	ck_contains(g.error, "profile \"partial\" has aws_access_key_id but no "
	    "aws_secret_access_key");
	aws_creds_free(cr);
	cr = creds_new("assumer");
	get(cr, &g);
	ck_contains(g.error, "profile \"assumer\" uses role_arn");
	aws_creds_free(cr);
	/* Malformed files: the file and the line, never the line itself. */
	setenv("AWS_SHARED_CREDENTIALS_FILE", FIXTURES "/malformed", 1);
	cr = creds_new(NULL);
	get(cr, &g);
	ck_assert_str_eq(g.error, FIXTURES "/malformed: line 3: expected \"key = value\"");
	aws_creds_free(cr);
	setenv("AWS_SHARED_CREDENTIALS_FILE", FIXTURES "/duplicate", 1);
	cr = creds_new(NULL);
	get(cr, &g);
	ck_assert_str_eq(g.error, FIXTURES "/duplicate: line 5: the section appears twice");
	aws_creds_free(cr);
	/* A directory where the file should be counts as no file (botocore). */
	setenv("AWS_SHARED_CREDENTIALS_FILE", FIXTURES, 1);
	setenv("AWS_CONFIG_FILE", FIXTURES, 1);
	unsetenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	setenv("AWS_EC2_METADATA_DISABLED", "TRUE", 1);
	cr = creds_new(NULL);
	get(cr, &g);
	ck_assert(!g.ok);
	ck_contains(g.error, "no AWS credentials found (environment: not set; profile "
	    "default: not found in");
	ck_contains(g.error, "container: not configured; instance metadata: disabled by "
	    "AWS_EC2_METADATA_DISABLED");
	ck_assert_int_eq(atomic_load(&token_hits), 0);
	loop_finish(cr);
}
END_TEST

/* ~/.aws/credentials by default, with HOME expanded. */
START_TEST(default_paths)
{
	char path[256], cmd[2048];
	struct aws_creds *cr;
	struct got g = { 0 };

	snprintf(path, sizeof(path), "%s/.aws", home);
	ck_assert_int_lt(snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && cp " FIXTURES
	    "/credentials '%s'/ && cp " FIXTURES "/config '%s'/", path, path, path),
	    (int)sizeof(cmd));
	ck_assert_int_eq(system(cmd), 0);
	cr = creds_new("staging");
	get(cr, &g);
	ck_assert_str_eq(g.akid, "AKIDCONFIGSTAGING");
	snprintf(path, sizeof(path), "config file %s/.aws/config profile staging", home);
	ck_assert_str_eq(g.source, path);
	aws_creds_free(cr);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials", 1);
	cr = creds_new(NULL);
	get(cr, &g);
	ck_assert_str_eq(g.akid, "AKIDFILEDEFAULT");
	loop_finish(cr);
}
END_TEST

/* ---- The chain: instance metadata ---- */

START_TEST(imds_flow)
{
	struct aws_creds *cr;
	struct got g = { 0 }, g2 = { 0 };
	struct aws_creds_stats st;

	use_imds();
	cr = creds_new(NULL);
	get(cr, &g);
	ck_assert_msg(g.ok, "%s", g.error);
	ck_assert_str_eq(g.akid, "ASIAIMDS1");
	ck_assert_str_eq(g.secret, "IMDS-SECRET-1");
	ck_assert_str_eq(g.token, "IMDS-SESSION-SECRET-1");
	ck_assert_int_eq(g.expiration_ms, atomic_load(&fake_now) +
	    atomic_load(&lifetime_ms));
	ck_assert_int_eq(atomic_load(&token_hits), 1);
	ck_assert_int_eq(atomic_load(&role_hits), 1);
	ck_assert_int_eq(atomic_load(&creds_hits), 1);
	ck_assert_int_eq(atomic_load(&bad_requests), 0);
	/* Cached: no more requests; peek gives the same without waiting. */
	get(cr, &g2);
	ck_assert_str_eq(g2.akid, "ASIAIMDS1");
	ck_assert_ptr_nonnull(aws_creds_peek(cr));
	ck_assert_str_eq(aws_creds_peek(cr)->access_key_id, "ASIAIMDS1");
	aws_creds_stats(cr, &st);
	ck_assert_int_eq(st.resolutions, 1);
	ck_assert_int_eq(st.http_requests, 3);
	/* The token is reused; a token IMDS no longer honours is replaced once. */
	atomic_fetch_add(&token_gen, 1);
	ck_assert_int_eq(aws_creds_invalidate(cr, "ASIAIMDS1"), 1);
	get(cr, &g);
	ck_assert_msg(g.ok, "%s", g.error);
	ck_assert_str_eq(g.akid, "ASIAIMDS2");
	ck_assert_int_eq(atomic_load(&token_hits), 2);
	ck_assert_int_eq(atomic_load(&role_hits), 2);	/* one 401, then one good */
	loop_finish(cr);
}
END_TEST

START_TEST(imds_failures)
{
	struct aws_creds *cr;
	struct got g = { 0 };
	uint64_t t0;

	use_imds();
	atomic_store(&imds_mode, IMDS_TOKEN_404);
	cr = creds_new(NULL);
	get(cr, &g);
	ck_assert(!g.ok);
	ck_contains(g.error, "instance metadata: PUT /latest/api/token answered HTTP 404: "
	    "IMDSv2 is not available (IMDSv1 is never used)");
	ck_assert_int_eq(atomic_load(&token_hits), 1);		/* not retried */
	ck_assert_int_eq(atomic_load(&role_hits), 0);		/* no IMDSv1 */
	aws_creds_free(cr);
	/* No answer in time: two attempts of the configured timeout, then a clean error. */
	atomic_store(&imds_mode, IMDS_TOKEN_SLOW);
	atomic_store(&token_hits, 0);
	cr = creds_new(NULL);
	t0 = mono_ms();
	get(cr, &g);
	ck_assert(!g.ok);
	ck_contains(g.error, "instance metadata: PUT /latest/api/token: timeout");
	ck_assert_uint_lt(mono_ms() - t0, 2000);
	ck_assert(!g.transient);	/* it never worked: an operator's problem */
	aws_creds_free(cr);
	atomic_store(&imds_mode, IMDS_NO_ROLE);
	cr = creds_new(NULL);
	get(cr, &g);
	ck_contains(g.error, "no IAM role is attached to this instance");
	aws_creds_free(cr);
	/* Nothing listening at all. */
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1", 1);
	cr = creds_new(NULL);
	get(cr, &g);
	ck_contains(g.error, "PUT /latest/api/token: connect");
	loop_finish(cr);
}
END_TEST

START_TEST(imds_expired_refused)
{
	struct aws_creds *cr;
	struct got g = { 0 };

	use_imds();
	atomic_store(&lifetime_ms, -1000);
	cr = creds_new(NULL);
	get(cr, &g);
	ck_assert(!g.ok);
	ck_contains(g.error, "credentials from instance metadata role " ROLE
	    ": they have expired already");
	loop_finish(cr);
}
END_TEST

/* ---- The chain: container credentials ---- */

START_TEST(container_flow)
{
	struct aws_creds *cr;
	struct got g = { 0 };

	use_imds();
	use_container("AUTH-SECRET-env");
	cr = creds_new(NULL);
	get(cr, &g);
	ck_assert_msg(g.ok, "%s", g.error);
	ck_assert_str_eq(g.akid, "ASIACONT1");
	ck_assert_str_eq(g.source, "container credentials endpoint");
	ck_assert_int_eq(atomic_load(&container_hits), 1);
	ck_assert_int_eq(atomic_load(&token_hits), 0);	/* before IMDS */
	aws_creds_free(cr);
	/* The token file wins over the variable; its newline is not sent. */
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong", 1);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", FIXTURES "/container-token", 1);
	cr = creds_new(NULL);
	get(cr, &g);
	ck_assert_msg(g.ok, "%s", g.error);
	ck_assert_str_eq(g.akid, "ASIACONT2");
	loop_finish(cr);
}
END_TEST

START_TEST(container_failures)
{
	struct aws_creds *cr;
	struct got g = { 0 };

	use_imds();
	use_container("AUTH-SECRET-env");
	atomic_store(&container_status, 500);
	cr = creds_new(NULL);
	get(cr, &g);
	ck_assert(!g.ok);
	ck_assert_str_eq(g.error, "container credentials: HTTP 500, after 3 attempts");
	ck_assert_int_eq(atomic_load(&container_hits), 3);
	ck_assert_int_eq(atomic_load(&token_hits), 0);	/* final, as in botocore */
	aws_creds_free(cr);
	/* Not an allowed host: refused before any request. */
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://192.0.2.1/creds", 1);
	cr = creds_new(NULL);
	get(cr, &g);
	ck_contains(g.error, "AWS_CONTAINER_CREDENTIALS_FULL_URI: plain http is allowed "
	    "only to");
	aws_creds_free(cr);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "AUTH-SECRET\r\nX-Injected: 1", 1);
	use_container(NULL);
	cr = creds_new(NULL);
	get(cr, &g);
	ck_contains(g.error, "not a legal header value");
	ck_assert(strstr(g.error, "SECRET") == NULL);
	/*
	 * The relative URI goes to 169.254.170.2: not reachable from a test (no traffic
	 * leaves loopback here); http.h's policy table allows it (check_http.c).
	 */
	loop_finish(cr);
}
END_TEST

/* ---- Refresh, invalidation, cancellation ---- */

static const char *
peek_akid(struct aws_creds *cr)
{
	const struct aws_credentials *c = aws_creds_peek(cr);

	return c != NULL ? c->access_key_id : "";
}

/* Runs the loop until the cache holds akid (or max_ms pass). */
static void
run_until_cached(struct aws_creds *cr, const char *akid, int max_ms)
{
	uint64_t end = mono_ms() + (uint64_t)max_ms;

	while (strcmp(peek_akid(cr), akid) != 0 && mono_ms() < end)
		uv_run(&loop, UV_RUN_NOWAIT);
	ck_assert_str_eq(peek_akid(cr), akid);
}

/* With the default windows (15 and 5 minutes) on the tests' clock. */
START_TEST(refresh_windows)
{
	struct aws_creds *cr;
	struct aws_creds_stats st;
	struct got g = { 0 };
	const int64_t min = 60 * 1000;

	use_imds();
	atomic_store(&lifetime_ms, 60 * min);
	cr = creds_new(NULL);
	get(cr, &g);
	ck_assert_str_eq(g.akid, "ASIAIMDS1");
	/* 14 minutes left: still handed out, refreshed in the background. */
	atomic_fetch_add(&fake_now, 46 * min);
	ck_assert_str_eq(peek_akid(cr), "ASIAIMDS1");
	run_until_cached(cr, "ASIAIMDS2", 3000);
	aws_creds_stats(cr, &st);
	ck_assert_int_eq(st.resolutions, 2);
	ck_assert_int_eq(st.background, 1);
	/* 4 minutes left: callers wait for a fresh set. */
	atomic_fetch_add(&fake_now, 56 * min);
	ck_assert_ptr_null(aws_creds_peek(cr));
	get(cr, &g);
	ck_assert_str_eq(g.akid, "ASIAIMDS3");
	/* The refresh fails with 3 minutes left: the current set serves meanwhile. */
	atomic_fetch_add(&fake_now, 57 * min);
	atomic_store(&imds_mode, IMDS_DOWN);
	get(cr, &g);
	ck_assert(g.ok);
	ck_assert_str_eq(g.akid, "ASIAIMDS3");
	/* Expired: never handed out; the failure is transient (IMDS worked before). */
	atomic_fetch_add(&fake_now, 4 * min);
	ck_assert_ptr_null(aws_creds_peek(cr));
	get(cr, &g);
	ck_assert(!g.ok);
	ck_assert(g.transient);
	ck_contains(g.error, "HTTP 503");
	aws_creds_stats(cr, &st);
	ck_assert_int_eq(st.failures, 2);
	loop_finish(cr);
}
END_TEST

/* Real time: credentials that expire a few seconds ahead, small windows. */
START_TEST(refresh_real_clock)
{
	struct aws_creds_opts o = { .advisory_ms = 3000, .mandatory_ms = 2000,
	    .imds_timeout_ms = 500 };
	struct aws_creds *cr;
	struct got g = { 0 };
	uint64_t end;

	use_imds();
	atomic_store(&use_real_clock, 1);
	atomic_store(&lifetime_ms, 4000);
	ck_assert_ptr_nonnull(cr = aws_creds_new(&loop, &o));
	get(cr, &g);
	ck_assert_str_eq(g.akid, "ASIAIMDS1");
	/* Into the advisory window: the next peek refreshes in the background. */
	end = mono_ms() + 3000;
	while (strcmp(peek_akid(cr), "ASIAIMDS2") != 0 && mono_ms() < end)
		uv_run(&loop, UV_RUN_NOWAIT);
	ck_assert_str_eq(peek_akid(cr), "ASIAIMDS2");
	ck_assert_int_gt(aws_creds_peek(cr)->expiration_ms, real_ms() + 2000);
	/* Into the mandatory window: peek refuses, get waits for a fresh set. */
	end = mono_ms() + 3000;
	while (aws_creds_peek(cr) != NULL && mono_ms() < end)
		uv_run(&loop, UV_RUN_NOWAIT);
	ck_assert_ptr_null(aws_creds_peek(cr));
	get(cr, &g);
	ck_assert_str_eq(g.akid, "ASIAIMDS3");
	ck_assert_int_gt(g.expiration_ms, real_ms());
	loop_finish(cr);
}
END_TEST

START_TEST(invalidate_once)
{
	struct aws_creds *cr;
	struct got g1 = { 0 }, g2 = { 0 };
	struct aws_creds_stats st;

	use_imds();
	cr = creds_new(NULL);
	get(cr, &g1);
	ck_assert_int_eq(aws_creds_invalidate(cr, "ASIAOTHER"), 0);
	ck_assert_int_eq(aws_creds_invalidate(cr, NULL), 0);
	ck_assert_int_eq(aws_creds_invalidate(NULL, "ASIAIMDS1"), 0);
	ck_assert_int_eq(aws_creds_invalidate(cr, "ASIAIMDS1"), 1);
	/* Many calls saw ExpiredToken with the same keys: one refresh. */
	ck_assert_int_eq(aws_creds_invalidate(cr, "ASIAIMDS1"), 0);
	ck_assert_ptr_null(aws_creds_peek(cr));
	ck_assert_ptr_nonnull(aws_creds_get(cr, on_creds, &g1));
	ck_assert_ptr_nonnull(aws_creds_get(cr, on_creds, &g2));
	run_until(&g2.calls, 1, 3000);
	run_until(&g1.calls, 2, 3000);
	ck_assert_str_eq(g1.akid, "ASIAIMDS2");
	ck_assert_str_eq(g2.akid, "ASIAIMDS2");
	ck_assert_int_eq(atomic_load(&creds_hits), 2);
	aws_creds_stats(cr, &st);
	ck_assert_int_eq(st.invalidations, 1);
	ck_assert_int_eq(st.resolutions, 2);
	loop_finish(cr);
}
END_TEST

static void
cancel_other(const struct aws_credentials *c, const struct aws_creds_error *e,
    void *arg)
{
	struct aws_creds_req **other = arg;

	aws_creds_cancel(*other);	/* a request delivered in the same batch */
}

START_TEST(cancel_and_free)
{
	struct aws_creds *cr;
	struct aws_creds_req *r1, *r2, *r3;
	struct got g1 = { 0 }, g2 = { 0 }, g3 = { 0 };

	use_imds();
	atomic_store(&imds_mode, IMDS_TOKEN_SLOW);
	cr = creds_new(NULL);
	r1 = aws_creds_get(cr, on_creds, &g1);
	r2 = aws_creds_get(cr, on_creds, &g2);
	ck_assert_ptr_nonnull(r1);
	ck_assert_ptr_nonnull(r2);
	aws_creds_cancel(r1);
	ck_assert_int_eq(g1.calls, 0);		/* later, from the loop */
	run_until(&g1.calls, 1, 1000);
	ck_assert(g1.cancelled);
	ck_assert_int_eq(g2.calls, 0);		/* still waiting for IMDS */
	/* Freeing cancels the rest; every callback once. */
	aws_creds_free(cr);
	aws_creds_free(cr);			/* twice: harmless before it is gone */
	run_until(&g2.calls, 1, 1000);
	ck_assert(g2.cancelled);
	ck_assert_ptr_null(aws_creds_get(NULL, on_creds, &g3));
	ck_assert_int_eq(g1.calls, 1);
	/* A cached answer cancelled before delivery: cancelled all the same. */
	atomic_store(&imds_mode, IMDS_OK);
	cr = creds_new(NULL);
	get(cr, &g3);
	r3 = aws_creds_get(cr, on_creds, &g3);
	aws_creds_cancel(r3);
	run_until(&g3.calls, 2, 1000);
	ck_assert(g3.cancelled);
	/* Cancelling from a callback one that is in the same batch. */
	r1 = aws_creds_get(cr, cancel_other, &r2);
	r2 = aws_creds_get(cr, on_creds, &g2);
	run_until(&g2.calls, 2, 1000);
	ck_assert(g2.cancelled);
	(void)r1;
	loop_finish(cr);
}
END_TEST

/* ---- Secrets never reach the log ---- */

static char *
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

START_TEST(no_secret_in_logs)
{
	char path[512], *trace;
	struct aws_creds *cr;
	struct got g = { 0 };
	int saved;

	snprintf(path, sizeof(path), "%s/log", home);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	ck_assert_ptr_nonnull(freopen(path, "w", stderr));
	log_setlevel(LOG_DEBUG);
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "ENV-SECRET", 1);
	setenv("AWS_SESSION_TOKEN", "ENV-SESSION-SECRET", 1);
	cr = creds_new(NULL);
	get(cr, &g);
	aws_creds_free(cr);
	use_files();
	cr = creds_new("prod");
	get(cr, &g);
	aws_creds_free(cr);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	setenv("AWS_SHARED_CREDENTIALS_FILE", FIXTURES "/malformed", 1);
	cr = creds_new(NULL);
	get(cr, &g);
	ck_assert(!g.ok);
	aws_creds_free(cr);
	setenv("AWS_SHARED_CREDENTIALS_FILE", FIXTURES "/none", 1);
	use_container("AUTH-SECRET-log");
	cr = creds_new(NULL);
	get(cr, &g);
	aws_creds_free(cr);
	unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	use_imds();
	cr = creds_new(NULL);
	get(cr, &g);
	ck_assert_int_eq(aws_creds_invalidate(cr, g.akid), 1);
	get(cr, &g);
	ck_assert(g.ok);
	log_setlevel(LOG_INFO);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	trace = slurp(path);
	ck_assert_msg(strstr(trace, "SECRET") == NULL, "a secret in the log:\n%s", trace);
	ck_contains(trace, "credentials from environment");
	ck_contains(trace, "credentials from shared credentials file " FIXTURES
	    "/credentials profile prod");
	ck_contains(trace, "malformed: line 3");
	ck_contains(trace, "credentials from container credentials endpoint, valid until");
	ck_contains(trace, "credentials from instance metadata role " ROLE);
	ck_contains(trace, "X-aws-ec2-metadata-token: <redacted>");	/* it was traced */
	free(trace);
	loop_finish(cr);
}
END_TEST

Suite *
aws_credentials_suite(void)
{
	Suite *s = suite_create("aws_credentials");
	TCase *pure = tcase_create("pure");
	TCase *chain = tcase_create("chain");
	TCase *remote = tcase_create("remote");
	TCase *life = tcase_create("lifetime");

	tcase_add_test(pure, ini_profiles);
	tcase_add_test(pure, ini_malformed);
	tcase_add_test(pure, json_good);
	tcase_add_test(pure, json_hostile);
	tcase_add_test(pure, container_url_rule);
	suite_add_tcase(s, pure);

	tcase_add_checked_fixture(chain, setup, teardown);
	tcase_add_test(chain, env_beats_files_beats_imds);
	tcase_add_test(chain, env_tokens_and_partial);
	tcase_add_test(chain, profiles);
	tcase_add_test(chain, profile_errors);
	tcase_add_test(chain, default_paths);
	tcase_set_timeout(chain, 20);
	suite_add_tcase(s, chain);

	tcase_add_checked_fixture(remote, setup, teardown);
	tcase_add_test(remote, imds_flow);
	tcase_add_test(remote, imds_failures);
	tcase_add_test(remote, imds_expired_refused);
	tcase_add_test(remote, container_flow);
	tcase_add_test(remote, container_failures);
	tcase_set_timeout(remote, 20);
	suite_add_tcase(s, remote);

	tcase_add_checked_fixture(life, setup, teardown);
	tcase_add_test(life, refresh_windows);
	tcase_add_test(life, refresh_real_clock);
	tcase_add_test(life, invalidate_once);
	tcase_add_test(life, cancel_and_free);
	tcase_add_test(life, no_secret_in_logs);
	tcase_set_timeout(life, 20);
	suite_add_tcase(s, life);
	return s;
}
