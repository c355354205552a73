/*
 * bbsim's front door: requests signed with common/sigv4.h (the daemon's own signer)
 * and verified by sim_auth_verify(), then whole requests through sim_aws_handle(),
 * whose answers must be AWS's (code, status, message, envelope) for each outcome:
 * good, wrong secret, unknown key, stale or future date, temporary credentials
 * without their token, with another's, expired; then routing (InvalidAction, wrong
 * Version, STS's redirect), the wire's strictness, JSON 1.0, and the fault rules:
 * their parser (NULL, empty, hostile), each error in each envelope, network faults
 * marked for the server, counts, and what "*" reaches.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/log.h"
#include "common/sigv4.h"
#include "sim/auth.h"
#include "sim/faults.h"
#include "sim/server.h"
#include "sim/sim.h"
#include "sim/wire.h"
#include "tests/suites_decl.h"

#define SEED		7
#define AKID		"AKIDEXAMPLE"
#define SECRET		"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define GCI		"Action=GetCallerIdentity&Version=2011-06-15"
#define FORM_CT		"application/x-www-form-urlencoded; charset=utf-8"
#define T0		((time_t)1767225600)	/* 2026-01-01T00:00:00Z */

static struct sim	 sim;
static struct sim_req	 req;
static struct sim_resp	 resp;

static void
setup(void)
{
	struct sim_options	 o;

	memset(&o, 0, sizeof(o));
	o.seed = SEED;
	ck_assert_int_eq(sim_init(&sim, &o), 0);
	log_setlevel(LOG_WARNING);	/* each refusal is logged at info */
	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
}

static void
teardown(void)
{
	sim_req_free(&req);
	sim_resp_free(&resp);
	sim_free(&sim);
	sim_error_reset();
}

/* What a signed request is made of. */
struct how {
	const char	*method;	/* NULL: POST */
	const char	*query;		/* GET's parameters */
	const char	*body;		/* NULL: GCI for a POST */
	const char	*ctype;		/* NULL: the form type */
	const char	*service;	/* NULL: sts */
	const char	*region;	/* NULL: us-east-1 */
	const char	*akid;		/* NULL: AKID */
	const char	*secret;	/* NULL: SECRET */
	const char	*token;		/* signed and sent */
	const char	*target;	/* X-Amz-Target */
	time_t		 t;		/* 0: now */
};

static void
sign(struct sim_req *r, const struct how *w)
{
	const char		*method = w->method != NULL ? w->method : "POST";
	const char		*body = w->body != NULL ? w->body :
	    strcmp(method, "POST") == 0 ? GCI : "";
	struct sigv4_header	 h[3] = {
		{ "Host", "127.0.0.1:4566" },
		{ "Content-Type", w->ctype != NULL ? w->ctype : FORM_CT },
		{ "X-Amz-Target", w->target },
	};
	struct sigv4_request	 sr = { method, "/", w->query, h,
	    w->target != NULL ? 3 : 2, *body ? body : NULL, strlen(body) };
	struct sigv4_params	 p = { w->region != NULL ? w->region : "us-east-1",
	    w->service != NULL ? w->service : "sts", w->akid != NULL ? w->akid : AKID,
	    w->secret != NULL ? w->secret : SECRET, w->token,
	    w->t != 0 ? w->t : time(NULL), 0 };
	struct sigv4_signed	 out;
	char			 uri[1024];
	size_t			 i;

	ck_assert_int_eq(sigv4_sign(&sr, &p, &out), 0);
	snprintf(uri, sizeof(uri), "/%s%s", w->query != NULL ? "?" : "",
	    w->query != NULL ? w->query : "");
	ck_assert_int_eq(sim_req_init(r, method, uri), 0);
	for (i = 0; i < sr.nheaders; i++)
		ck_assert_int_eq(sim_req_add_header(r, h[i].name, h[i].value), 0);
	for (i = 0; i < out.nhdr; i++)
		ck_assert_int_eq(sim_req_add_header(r, out.hdr[i].name,
		    out.hdr[i].value), 0);
	ck_assert_int_eq(sim_req_set_body(r, body, strlen(body)), 0);
	sigv4_signed_free(&out);
}

static enum sim_auth_result
verify_at(const struct how *w, time_t now)
{
	struct sim_auth	 a;
	int		 rc;

	sim_req_free(&req);
	sign(&req, w);
	rc = sim_auth_verify(&sim.creds, &req, now, &a);
	ck_assert_int_eq(rc, a.result == SIM_AUTH_OK ? 0 : -1);
	return a.result;
}

/* The whole front door; the answer is left in resp. */
static void
call(const struct how *w)
{
	sim_req_free(&req);
	sim_resp_free(&resp);
	sign(&req, w);
	sim_aws_handle(&sim, &req, &resp);
}

static const char *
header(const char *name)
{
	size_t	 i;

	for (i = 0; i < resp.nhdr; i++)
		if (strcasecmp(resp.hdr[i].name, name) == 0)
			return resp.hdr[i].value;
	return NULL;
}

/* A Query error answer: status, code, message, namespace, and the request id twice. */
static void
assert_query_error(int status, const char *code, const char *message,
    const char *ns)
{
	char	 want[1024], id[64];

	ck_assert_int_eq(resp.status, status);
	ck_assert_ptr_nonnull(resp.body);
	ck_assert_str_eq(header("Content-Type"), "text/xml");
	snprintf(id, sizeof(id), "%s", header("x-amzn-RequestId"));
	snprintf(want, sizeof(want), "<ErrorResponse xmlns=\"%s\">\n  <Error>\n"
	    "    <Type>Sender</Type>\n    <Code>%s</Code>\n"
	    "    <Message>%s</Message>\n  </Error>\n  <RequestId>%s</RequestId>\n"
	    "</ErrorResponse>\n", ns, code, message, id);
	ck_assert_str_eq(resp.body, want);
}

static void
assert_ec2_error(int status, const char *code, const char *message)
{
	char	 want[1024];

	ck_assert_int_eq(resp.status, status);
	snprintf(want, sizeof(want), "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error>"
	    "</Errors><RequestID>%s</RequestID></Response>", code, message,
	    header("x-amzn-RequestId"));
	ck_assert_str_eq(resp.body, want);
	ck_assert_str_eq(header("Server"), "AmazonEC2");
}

static json_int_t
counter(const char *group, const char *key, const char *subkey)
{
	json_t	*o = json_object_get(json_object_get(sim.counters, group), key);

	if (subkey != NULL)
		o = json_object_get(o, subkey);
	return json_integer_value(o);
}

#define STS_NS		"https://sts.amazonaws.com/doc/2011-06-15/"
#define BAD_SIG		"The request signature we calculated does not match the " \
			"signature you provided. Check your AWS Secret Access Key and " \
			"signing method. Consult the service documentation for details."
#define BAD_TOKEN	"The security token included in the request is invalid."

/* ---- sim_auth_verify ---- */

START_TEST(verify_good)
{
	struct how	 w = { .t = T0 };
	struct sim_auth	 a;

	ck_assert_int_eq(verify_at(&w, T0), SIM_AUTH_OK);
	ck_assert_int_eq(sim_auth_verify(&sim.creds, &req, T0, &a), 0);
	ck_assert_ptr_eq(a.cred, &sim.creds.longterm);
	ck_assert_str_eq(a.a.service, "sts");
	ck_assert_str_eq(a.a.region, "us-east-1");
	/* Any region is accepted (and recorded by the front door). */
	w.region = "ap-southeast-2";
	ck_assert_int_eq(verify_at(&w, T0), SIM_AUTH_OK);
	/* 15 minutes either way is still on time. */
	w.region = NULL;
	ck_assert_int_eq(verify_at(&w, T0 + 900), SIM_AUTH_OK);
	ck_assert_int_eq(verify_at(&w, T0 - 900), SIM_AUTH_OK);
}
END_TEST

START_TEST(verify_failures)
{
	struct how	 w = { .t = T0 };

	w.secret = "wrong-secret";
	ck_assert_int_eq(verify_at(&w, T0), SIM_AUTH_BAD_SIGNATURE);
	w.secret = NULL;
	w.akid = "AKIDUNKNOWN";
	ck_assert_int_eq(verify_at(&w, T0), SIM_AUTH_UNKNOWN_KEY);
	w.akid = NULL;
	ck_assert_int_eq(verify_at(&w, T0 + 901), SIM_AUTH_SKEW_PAST);
	ck_assert_int_eq(verify_at(&w, T0 - 901), SIM_AUTH_SKEW_FUTURE);
	/* A long-term key with a session token. */
	w.token = "IQoJb3JpZ2luX2VjEBogus";
	ck_assert_int_eq(verify_at(&w, T0), SIM_AUTH_BAD_TOKEN);
}
END_TEST

START_TEST(verify_malformed)
{
	struct how	 w = { .t = T0 };
	struct sim_auth	 a;
	size_t		 i;

	ck_assert_int_eq(sim_req_init(&req, "POST", "/"), 0);
	ck_assert_int_eq(sim_auth_verify(&sim.creds, &req, T0, &a), -1);
	ck_assert_int_eq(a.result, SIM_AUTH_MISSING);
	sim_req_free(&req);
	sign(&req, &w);
	for (i = 0; i < req.nhdr; i++)
		if (strcasecmp(req.hdr[i].name, "X-Amz-Date") == 0)
			req.hdr[i].name[0] = 'Y';	/* no date any more */
	ck_assert_int_eq(sim_auth_verify(&sim.creds, &req, T0, &a), -1);
	ck_assert_int_eq(a.result, SIM_AUTH_INCOMPLETE);
	for (i = 0; i < req.nhdr; i++)
		if (strcasecmp(req.hdr[i].name, "Authorization") == 0)
			req.hdr[i].value[4] = 'X';	/* "AWS4X-HMAC..." */
	ck_assert_int_eq(sim_auth_verify(&sim.creds, &req, T0, &a), -1);
	ck_assert_int_eq(a.result, SIM_AUTH_INCOMPLETE);
}
END_TEST

/* The STS oracle's order: the token is judged before the signature. */
START_TEST(verify_temporary)
{
	const struct sim_cred	*c = sim_creds_current(&sim.creds, T0);
	struct how		 w = { .t = T0 + 10, .akid = c->akid,
	    .secret = c->secret, .token = c->token };

	ck_assert_str_eq(sim.creds.temp[0].akid, c->akid);
	ck_assert_int_eq(strncmp(c->akid, "ASIA", 4), 0);
	ck_assert_int_eq(verify_at(&w, T0 + 10), SIM_AUTH_OK);
	w.token = NULL;				/* missing token */
	ck_assert_int_eq(verify_at(&w, T0 + 10), SIM_AUTH_BAD_TOKEN);
	w.token = "IQoJb3JpZ2luX2VjEother";	/* another one */
	ck_assert_int_eq(verify_at(&w, T0 + 10), SIM_AUTH_BAD_TOKEN);
	w.secret = "wrong";			/* ... even with a bad signature */
	ck_assert_int_eq(verify_at(&w, T0 + 10), SIM_AUTH_BAD_TOKEN);
	w.token = c->token;			/* right token, bad signature */
	ck_assert_int_eq(verify_at(&w, T0 + 10), SIM_AUTH_BAD_SIGNATURE);
	w.secret = c->secret;
	w.t = c->expires;			/* expired */
	ck_assert_int_eq(verify_at(&w, c->expires), SIM_AUTH_EXPIRED);
	w.t = c->expires - 1;
	ck_assert_int_eq(verify_at(&w, c->expires - 1), SIM_AUTH_OK);
}
END_TEST

START_TEST(creds_rotation)
{
	const struct sim_cred	*a, *b;

	sim.creds.lifetime = 3600;
	a = sim_creds_current(&sim.creds, T0);
	ck_assert_int_eq(a->expires, T0 + 3600);
	/* The same credentials until five minutes before their end. */
	ck_assert_ptr_eq(sim_creds_current(&sim.creds, T0 + 3600 - 301), a);
	b = sim_creds_current(&sim.creds, T0 + 3600 - 300);
	ck_assert_ptr_ne(b, a);
	ck_assert_str_ne(b->akid, a->akid);
	ck_assert_ptr_eq(sim_creds_find(&sim.creds, a->akid), a);
	/* A new lifetime applies to the next credentials; short ones rotate at half-life. */
	sim.creds.lifetime = 10;
	ck_assert_ptr_eq(sim_creds_current(&sim.creds, T0 + 4000), b);
	sim_creds_expire_all(&sim.creds, T0 + 4000);
	a = sim_creds_current(&sim.creds, T0 + 4000);
	ck_assert_ptr_ne(a, b);
	ck_assert_int_eq(a->expires, T0 + 4010);
	ck_assert_ptr_eq(sim_creds_current(&sim.creds, T0 + 4004), a);
	ck_assert_ptr_ne(sim_creds_current(&sim.creds, T0 + 4005), a);
	sim_creds_expire_all(&sim.creds, T0 + 4006);
	ck_assert_int_le(sim.creds.temp[0].expires, T0 + 4006);
	ck_assert_ptr_null(sim_creds_find(&sim.creds, "ASIANOSUCHKEY"));
}
END_TEST

/* ---- whole requests ---- */

START_TEST(aws_good)
{
	struct how	 w = { 0 };

	call(&w);
	ck_assert_int_eq(resp.status, 200);
	ck_assert_ptr_nonnull(strstr(resp.body,
	    "<Arn>arn:aws:iam::123456789012:user/bbsim</Arn>\n"));
	ck_assert_ptr_nonnull(strstr(resp.body, "<Account>123456789012</Account>"));
	ck_assert_int_eq(counter("api_calls", "sts", "GetCallerIdentity"), 1);
	ck_assert_int_eq(counter("regions", "us-east-1", NULL), 1);
	/* GET with the parameters in the query string, as AWS accepts too. */
	w.method = "GET";
	w.query = GCI;
	call(&w);
	ck_assert_int_eq(resp.status, 200);
	ck_assert_int_eq(counter("api_calls", "sts", "GetCallerIdentity"), 2);
}
END_TEST

START_TEST(aws_missing_auth)
{
	char	 id[SIM_REQID_LEN + 1], want[512];

	ck_assert_int_eq(sim_req_init(&req, "POST", "/"), 0);
	ck_assert_int_eq(sim_req_add_header(&req, "Content-Type", FORM_CT), 0);
	ck_assert_int_eq(sim_req_set_body(&req, GCI, strlen(GCI)), 0);
	sim_aws_handle(&sim, &req, &resp);
	/* aws-errors.md 1.3, with this run's first request id. */
	sim_reqid(SEED, 1, id);
	snprintf(want, sizeof(want),
	    "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
	    "  <Error>\n    <Type>Sender</Type>\n"
	    "    <Code>MissingAuthenticationToken</Code>\n"
	    "    <Message>Request is missing Authentication Token</Message>\n"
	    "  </Error>\n  <RequestId>%s</RequestId>\n</ErrorResponse>\n", id);
	ck_assert_int_eq(resp.status, 403);
	ck_assert_str_eq(resp.body, want);
	ck_assert_uint_eq(resp.len, 297);
	ck_assert_str_eq(header("x-amzn-RequestId"), id);
	ck_assert_int_eq(counter("auth_failures", "MissingAuthenticationToken", NULL),
	    1);
}
END_TEST

START_TEST(aws_auth_errors)
{
	const struct sim_cred	*c;
	struct how		 w = { .secret = "wrong" };

	call(&w);
	assert_query_error(403, "SignatureDoesNotMatch", BAD_SIG, STS_NS);
	w.secret = NULL;
	w.akid = "AKIDUNKNOWN";
	call(&w);
	assert_query_error(403, "InvalidClientTokenId", BAD_TOKEN, STS_NS);
	c = sim_creds_current(&sim.creds, time(NULL));
	w.akid = c->akid;
	w.secret = c->secret;
	call(&w);				/* no session token */
	assert_query_error(403, "InvalidClientTokenId", BAD_TOKEN, STS_NS);
	w.token = c->token;
	call(&w);
	ck_assert_int_eq(resp.status, 200);
	ck_assert_ptr_nonnull(strstr(resp.body,
	    ":assumed-role/bbsim-bastion/i-0"));
	sim_creds_expire_all(&sim.creds, time(NULL));
	call(&w);
	assert_query_error(403, "ExpiredToken",
	    "The security token included in the request is expired", STS_NS);
	ck_assert_int_eq(counter("auth_failures", "InvalidClientTokenId", NULL), 2);
	ck_assert_int_eq(counter("auth_failures", "ExpiredToken", NULL), 1);
}
END_TEST

/* "Signature expired: X is now earlier than Y (Z - 15 min.)", Y = Z - 15 min. */
START_TEST(aws_skew)
{
	struct how	 w = { .t = time(NULL) - 3600 };
	char		 x[17], y[17], z[17], want[17], msg[256];
	struct tm	 tm;
	time_t		 tz;

	call(&w);
	ck_assert_int_eq(resp.status, 403);
	ck_assert_ptr_nonnull(strstr(resp.body, "<Code>SignatureDoesNotMatch</Code>"));
	ck_assert_int_eq(sscanf(strstr(resp.body, "<Message>"),
	    "<Message>Signature expired: %16s is now earlier than %16s (%16s - 15 min.)",
	    x, y, z), 3);
	memset(&tm, 0, sizeof(tm));
	ck_assert_ptr_nonnull(strptime(z, "%Y%m%dT%H%M%SZ", &tm));
	tz = timegm(&tm) - 900;
	strftime(want, sizeof(want), "%Y%m%dT%H%M%SZ", gmtime_r(&tz, &tm));
	ck_assert_str_eq(y, want);
	snprintf(msg, sizeof(msg), "<Message>Signature expired: %s is now earlier "
	    "than %s (%s - 15 min.)</Message>", x, y, z);
	ck_assert_ptr_nonnull(strstr(resp.body, msg));
	w.t = time(NULL) + 3600;
	call(&w);
	ck_assert_int_eq(resp.status, 403);
	ck_assert_ptr_nonnull(strstr(resp.body, "<Message>Signature not yet current: "));
	ck_assert_ptr_nonnull(strstr(resp.body, " + 15 min.)</Message>"));
}
END_TEST

/* EC2 answers authentication failures in its own envelope, with its own codes. */
START_TEST(aws_ec2_auth)
{
	struct how	 w = { .service = "ec2",
	    .body = "Action=DescribeInstances&Version=2016-11-15" };

	w.akid = "AKIDUNKNOWN";
	call(&w);
	assert_ec2_error(401, "AuthFailure",
	    "AWS was not able to validate the provided access credentials");
	w.akid = NULL;
	w.secret = "wrong";
	call(&w);
	assert_ec2_error(403, "SignatureDoesNotMatch", BAD_SIG);
	w.secret = NULL;
	w.t = time(NULL) - 3600;
	call(&w);
	assert_ec2_error(400, "RequestExpired", "Request has expired.");
	sim_req_free(&req);
	sim_resp_free(&resp);
	ck_assert_int_eq(sim_req_init(&req, "POST", "/"), 0);
	ck_assert_int_eq(sim_req_add_header(&req, "Content-Type", FORM_CT), 0);
	ck_assert_int_eq(sim_req_set_body(&req, w.body, strlen(w.body)), 0);
	sim_aws_handle(&sim, &req, &resp);
	assert_ec2_error(400, "MissingParameter",
	    "The request must contain the parameter AWSAccessKeyId");
}
END_TEST

/* ---- routing ---- */

START_TEST(aws_routing)
{
	struct how	 w = { .body = "Action=NoSuchAction&Version=2011-06-15" };

	call(&w);
	assert_query_error(400, "InvalidAction",
	    "Could not find operation NoSuchAction for version 2011-06-15",
	    SIM_NS_AWSFAULT);
	w.body = "Action=GetCallerIdentity";
	call(&w);
	assert_query_error(400, "InvalidAction", "Could not find operation "
	    "GetCallerIdentity for version NO_VERSION_SPECIFIED", SIM_NS_AWSFAULT);
	w.body = "Action=GetCallerIdentity&Version=2000-01-01";
	call(&w);
	assert_query_error(400, "InvalidAction", "Could not find operation "
	    "GetCallerIdentity for version 2000-01-01", SIM_NS_AWSFAULT);
	w.body = "Action=&Version=2011-06-15";
	call(&w);
	assert_query_error(400, "InvalidAction",
	    "Could not find operation  for version 2011-06-15", SIM_NS_AWSFAULT);
	/* An operation of another service, sent to STS. */
	w.body = "Action=DescribeStacks&Version=2010-05-15";
	call(&w);
	assert_query_error(400, "InvalidAction",
	    "Could not find operation DescribeStacks for version 2010-05-15",
	    SIM_NS_AWSFAULT);
	/* A service bbsim does not simulate. */
	w.service = "iam";
	w.body = "Action=ListUsers&Version=2010-05-08";
	call(&w);
	assert_query_error(400, "InvalidAction",
	    "Could not find operation ListUsers for version 2010-05-08",
	    SIM_NS_AWSFAULT);
	ck_assert_int_eq(counter("api_calls", "sts", "NoSuchAction"), 1);
}
END_TEST

/* STS sends a request without Action, or whose body is not a form, to its docs. */
START_TEST(aws_sts_redirect)
{
	struct how	 w = { .body = "Version=2011-06-15" };

	call(&w);
	ck_assert_int_eq(resp.status, 302);
	ck_assert_str_eq(header("Location"), "https://aws.amazon.com/iam");
	ck_assert_ptr_nonnull(header("x-amzn-RequestId"));
	w.body = GCI;
	w.ctype = "application/json";
	call(&w);
	ck_assert_int_eq(resp.status, 302);
	w.ctype = NULL;
	w.method = "GET";
	w.query = "Version=2011-06-15";
	call(&w);
	ck_assert_int_eq(resp.status, 302);
	ck_assert_str_eq(header("Location"),
	    "https://aws.amazon.com/iam?Version=2011-06-15");
}
END_TEST

/* Action names no simulation model will ever have, so that these hold once it lands. */
START_TEST(aws_ec2_routing)
{
	struct how	 w = { .service = "ec2",
	    .body = "Action=DescribeInstancez&Version=2016-11-15" };

	call(&w);
	assert_ec2_error(400, "InvalidAction",
	    "The action DescribeInstancez is not valid for this web service.");
	w.body = "Action=DescribeInstances&Version=2099-01-01";
	call(&w);
	assert_ec2_error(400, "NoSuchVersion",
	    "The requested version (2099-01-01) of service AmazonEC2 does not exist");
	w.body = "Action=DescribeInstances";
	call(&w);
	assert_ec2_error(400, "MissingParameter",
	    "The request must contain the parameter Version");
	w.body = "Version=2016-11-15";
	call(&w);
	assert_ec2_error(400, "MissingParameter",
	    "The request must contain the parameter Action");
}
END_TEST

/* ---- the wire ---- */

START_TEST(aws_wire_strict)
{
	struct how	 w = { .body = GCI "&Action=NoSuchAction" };

	call(&w);
	assert_query_error(400, "InvalidQueryParameter", "The AWS query string is "
	    "malformed or does not adhere to AWS standards.", STS_NS);
	w.body = GCI "&Unknown=value";
	call(&w);
	assert_query_error(400, "InvalidQueryParameter", "The AWS query string is "
	    "malformed or does not adhere to AWS standards.", STS_NS);
	w.body = GCI "&Bad=%zz";
	call(&w);
	assert_query_error(404, "MalformedQueryString",
	    "The query string contains a syntax error.", STS_NS);
	/* EC2 rejects what it does not know, naming it. */
	w.service = "ec2";
	w.body = "Action=DescribeInstances&Version=2016-11-15&Version=2016-11-15";
	call(&w);
	assert_ec2_error(400, "InvalidQueryParameter", "The AWS query string is "
	    "malformed or does not adhere to AWS standards.");
}
END_TEST

/* --lenient-wire: what real STS does (first value wins, unknown ignored). */
START_TEST(aws_wire_lenient)
{
	struct how	 w = { .body = GCI "&Action=NoSuchAction&Unknown=value" };

	sim.opt.lenient_wire = 1;
	call(&w);
	ck_assert_int_eq(resp.status, 200);
	w.body = "Action=NoSuchAction&" GCI;
	call(&w);
	assert_query_error(400, "InvalidAction",
	    "Could not find operation NoSuchAction for version 2011-06-15",
	    SIM_NS_AWSFAULT);
}
END_TEST

/* CloudWatch's JSON 1.0: no operation yet, so UnknownOperationException. */
START_TEST(aws_json)
{
	struct how	 w = { .service = "monitoring", .body = "{}",
	    .ctype = "application/x-amz-json-1.0",
	    .target = "GraniteServiceVersion20100801.ListDashboardz" };

	call(&w);
	ck_assert_int_eq(resp.status, 400);
	ck_assert_str_eq(resp.body, "{\"__type\":"
	    "\"com.amazon.coral.service#UnknownOperationException\"}");
	ck_assert_str_eq(header("Content-Type"), "application/x-amz-json-1.0");
	w.secret = "wrong";
	call(&w);
	ck_assert_int_eq(resp.status, 403);
	ck_assert_str_eq(header("x-amzn-query-error"), "SignatureDoesNotMatch;Sender");
	ck_assert_ptr_nonnull(strstr(resp.body, "\"__type\":\"com.amazon.coral."
	    "service#SignatureDoesNotMatch\""));
	w.secret = NULL;
	w.body = "not json";
	call(&w);
	ck_assert_int_eq(resp.status, 400);
	ck_assert_ptr_nonnull(strstr(resp.body, "SerializationException"));
	w.body = "{}";
	w.target = "OtherPrefix.GetMetricData";	/* a prefix it does not have */
	call(&w);
	ck_assert_ptr_nonnull(strstr(resp.body, "UnknownOperationException"));
}
END_TEST

/* ---- faults ---- */

START_TEST(faults_table)
{
	const struct sim_fault_rule	*r;
	json_t				*j;
	char				 err[256];

	j = json_loads("{\"rules\":[{\"service\":\"*\",\"error_rate\":0.5},"
	    "{\"service\":\"sts\",\"latency_ms\":20},{\"service\":\"sts\","
	    "\"action\":\"GetCallerIdentity\",\"error_rate\":1}]}", 0, NULL);
	ck_assert_int_eq(sim_faults_set(&sim.faults, j, err, sizeof(err)), 0);
	json_decref(j);
	r = sim_faults_match(&sim.faults, "sts", "GetCallerIdentity");
	ck_assert_double_eq(r->error_rate, 1);
	r = sim_faults_match(&sim.faults, "sts", "AssumeRole");
	ck_assert_uint_eq(r->latency_ms, 20);
	r = sim_faults_match(&sim.faults, "ec2", "DescribeInstances");
	ck_assert_double_eq(r->error_rate, 0.5);
	/* Refused whole: the table is unchanged. */
	j = json_loads("{\"rules\":[{\"error_rate\":2}]}", 0, NULL);
	ck_assert_int_eq(sim_faults_set(&sim.faults, j, err, sizeof(err)), -1);
	json_decref(j);
	j = json_loads("{\"rules\":[{\"servce\":\"sts\"}]}", 0, NULL);
	ck_assert_int_eq(sim_faults_set(&sim.faults, j, err, sizeof(err)), -1);
	json_decref(j);
	j = json_loads("{\"rules\":{}}", 0, NULL);
	ck_assert_int_eq(sim_faults_set(&sim.faults, j, err, sizeof(err)), -1);
	json_decref(j);
	ck_assert_uint_eq(sim.faults.n, 3);
	j = sim_faults_json(&sim.faults);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "rules")), 3);
	json_decref(j);
}
END_TEST

START_TEST(faults_throttle)
{
	struct how	 w = { 0 };
	json_t		*j;
	char		 err[256];

	j = json_loads("{\"rules\":[{\"service\":\"sts\",\"error_rate\":1,"
	    "\"latency_ms\":250},{\"service\":\"ec2\",\"error_rate\":1}]}", 0, NULL);
	ck_assert_int_eq(sim_faults_set(&sim.faults, j, err, sizeof(err)), 0);
	json_decref(j);
	call(&w);
	assert_query_error(400, "Throttling", "Rate exceeded", STS_NS);
	ck_assert_uint_eq(resp.delay_ms, 250);
	w.service = "ec2";
	w.body = "Action=DescribeInstances&Version=2016-11-15";
	call(&w);
	assert_ec2_error(503, "RequestLimitExceeded", "Request limit exceeded.");
	ck_assert_int_eq(counter("throttled", "sts", "GetCallerIdentity"), 1);
	ck_assert_int_eq(counter("throttled", "ec2", "DescribeInstances"), 1);
	ck_assert_int_eq(counter("api_calls", "ec2", "DescribeInstances"), 1);
	/* Never before authentication. */
	w.secret = "wrong";
	call(&w);
	ck_assert_int_eq(resp.status, 403);
}
END_TEST

/* Sets the table from JSON text; what sim_faults_set() returns. */
static int
set_rules(const char *text, char *err, size_t errlen)
{
	json_t	*j = json_loads(text, 0, NULL);
	int	 rc;

	ck_assert_msg(j != NULL, "bad test JSON %s", text);
	rc = sim_faults_set(&sim.faults, j, err, errlen);
	json_decref(j);
	return rc;
}

static void
must_set(const char *rules)
{
	char	 err[256], text[2048];

	snprintf(text, sizeof(text), "{\"rules\":%s}", rules);
	ck_assert_msg(set_rules(text, err, sizeof(err)) == 0, "%s: %s", rules, err);
}

#define LONG64	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct {
	const char	*rules;
	const char	*why;		/* in the error, after "rules[0]: " */
} bad_rules[] = {
	{ "[1]", "a rule is a JSON object" },
	{ "[null]", "a rule is a JSON object" },
	{ "[[]]", "a rule is a JSON object" },
	{ "[{\"service\":\"\"}]", "service \"\"" },
	{ "[{\"service\":\"" LONG64 "\"}]", "service \"aaaa" },
	{ "[{\"service\":\"sts\",\"action\":\"\"}]", "action: a name" },
	{ "[{\"action\":\"" LONG64 "\"}]", "action: a name" },
	{ "[{\"service\":7}]", "Expected string" },
	{ "[{\"error\":null}]", "Expected string" },
	{ "[{\"service\":\"sts\",\"extra\":1}]", "extra" },
	{ "[{\"error\":\"ResourceContention\"}]", "service must be \"autoscaling\"" },
	{ "[{\"service\":\"ec2\",\"error\":\"ScalingActivityInProgress\"}]",
	    "service must be \"autoscaling\"" },
	{ "[{\"service\":\"sts\",\"error\":\"RequestLimitExceeded\"}]",
	    "service must be \"ec2\"" },
	{ "[{\"service\":\"autoscaling\",\"action\":\"DescribeAutoScalingGroups\","
	    "\"error\":\"ScalingActivityInProgress\"}]", "mutating calls" },
	{ "[{\"error\":\"throttling\"}]", "error \"throttling\"" },
	{ "[{\"service\":\"bitbucket\",\"error\":\"Throttling\"}]",
	    "bitbucket: error must be" },
	{ "[{\"service\":\"bitbucket\",\"error_rate\":0.5}]",
	    "bitbucket: error must be" },
	{ "[{\"service\":\"bitbucket\",\"action\":\"Start\"}]", "Bitbucket's are" },
	{ "[{\"network\":\"reset\",\"error\":\"Throttling\"}]", "exclude" },
	{ "[{\"network\":\"\"}]", "no_answer or reset" },
	{ "[{\"network\":\"none\"}]", "no_answer or reset" },
	{ "[{\"network\":\"no_answer\",\"hold_ms\":0}]", "hold_ms must be" },
	{ "[{\"network\":\"no_answer\",\"hold_ms\":3600001}]", "hold_ms must be" },
	{ "[{\"network\":\"reset\",\"hold_ms\":5}]", "hold_ms goes with" },
	{ "[{\"network\":\"reset\",\"count\":0}]", "count must be" },
	{ "[{\"network\":\"reset\",\"count\":-1}]", "count must be" },
	{ "[{\"network\":\"reset\",\"count\":1000001}]", "count must be" },
	{ "[{\"network\":\"reset\",\"count\":1.5}]", "Expected integer" },
	{ "[{\"latency_ms\":5,\"count\":1}]", "count limits a fault" },
	{ "[{\"network\":\"reset\",\"error_rate\":0,\"count\":1}]",
	    "count limits a fault" },
	{ "[{\"error\":\"Throttling\",\"when\":\"after\"}]", "when must be before" },
	{ "[{\"error_rate\":1,\"when\":\"after\"}]", "when must be before" },
	{ "[{\"error\":\"InternalFailure\",\"when\":\"AFTER\"}]", "before or after" },
	{ "[{\"error_rate\":-0.1}]", "error_rate must be" },
	{ "[{\"error_rate\":1.01}]", "error_rate must be" },
	{ "[{\"latency_ms\":60001}]", "latency_ms must be" },
	{ "[{\"latency_ms\":-1}]", "latency_ms must be" },
};

/* Each refused with its reason; the table stays as it was. */
START_TEST(faults_parse_hostile)
{
	char	 err[256], text[2048];

	must_set("[{\"service\":\"sts\",\"latency_ms\":9}]");
	snprintf(text, sizeof(text), "{\"rules\":%s}", bad_rules[_i].rules);
	memset(err, 'x', sizeof(err));
	ck_assert_int_eq(set_rules(text, err, sizeof(err)), -1);
	ck_assert_msg(strncmp(err, "rules[0]: ", 10) == 0 &&
	    strstr(err, bad_rules[_i].why) != NULL, "%s: got \"%s\", want \"%s\"",
	    bad_rules[_i].rules, err, bad_rules[_i].why);
	ck_assert_uint_eq(sim.faults.n, 1);
	ck_assert_uint_eq(sim.faults.f[0].latency_ms, 9);
	/* A short buffer gets a truncated reason, still a string. */
	ck_assert_int_eq(set_rules(text, err, 6), -1);
	ck_assert_uint_eq(strlen(err), 5);
}
END_TEST

START_TEST(faults_parse_shapes)
{
	char		 err[64], many[64 * 3 + 32];
	json_t		*j;
	size_t		 i;

	ck_assert_int_eq(sim_faults_set(&sim.faults, NULL, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "expected {\"rules\": [...]}");
	ck_assert_int_eq(set_rules("{}", err, sizeof(err)), -1);
	ck_assert_int_eq(set_rules("[]", err, sizeof(err)), -1);
	ck_assert_int_eq(set_rules("{\"rules\":null}", err, sizeof(err)), -1);
	ck_assert_int_eq(set_rules("{\"rules\":[],\"x\":1}", err, sizeof(err)), -1);
	snprintf(many, sizeof(many), "{\"rules\":[");
	for (i = 0; i <= SIM_MAX_FAULTS; i++)
		strcat(many, i == 0 ? "{}" : ",{}");
	strcat(many, "]}");
	ck_assert_int_eq(set_rules(many, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "at most 64 rules");
	/* The second rule is bad: its index is named, the first is not kept. */
	ck_assert_int_eq(set_rules("{\"rules\":[{\"network\":\"reset\"},"
	    "{\"network\":\"rst\"}]}", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "rules[1]: network \"rst\": no_answer or reset");
	ck_assert_uint_eq(sim.faults.n, 0);
	ck_assert_int_eq(set_rules("{\"rules\":[]}", err, sizeof(err)), 0);
	/* Defaults: a named fault fires always, before; a bare rule never fires. */
	must_set("[{\"network\":\"no_answer\"},{\"service\":\"sts\"},"
	    "{\"service\":\"ec2\",\"error\":\"RequestLimitExceeded\",\"count\":3}]");
	ck_assert_double_eq(sim.faults.f[0].error_rate, 1);
	ck_assert_uint_eq(sim.faults.f[0].hold_ms, SIM_HOLD_DEFAULT_MS);
	ck_assert_int_eq(sim.faults.f[0].when, SIM_FAULT_BEFORE);
	ck_assert_int_eq(sim.faults.f[0].remaining, -1);
	ck_assert_double_eq(sim.faults.f[1].error_rate, 0);
	ck_assert_int_eq(sim.faults.f[2].remaining, 3);
	j = sim_faults_json(&sim.faults);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(
	    json_object_get(j, "rules"), 0), "network")), "no_answer");
	ck_assert_ptr_null(json_object_get(json_array_get(json_object_get(j, "rules"),
	    1), "error"));
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(
	    json_object_get(j, "rules"), 2), "remaining")), 3);
	json_decref(j);
}
END_TEST

#define ASG_NS		"http://autoscaling.amazonaws.com/doc/2011-01-01/"
#define CONTENTION	"You already have a pending update to an Amazon EC2 Auto Scaling " \
			"resource (for example, an Auto Scaling group, instance, or load " \
			"balancer)."
#define UNAVAILABLE	"The request has failed due to a temporary failure of the server."

/* Each error in its service's envelope, with AWS's status, code and words. */
START_TEST(faults_errors)
{
	struct how	 w = { .service = "autoscaling",
	    .body = "Action=DescribeAutoScalingGroups&Version=2011-01-01" };

	must_set("[{\"service\":\"autoscaling\",\"error\":\"ResourceContention\"},"
	    "{\"service\":\"autoscaling\",\"action\":\"SetDesiredCapacity\","
	    "\"error\":\"ScalingActivityInProgress\"},"
	    "{\"service\":\"autoscaling\",\"action\":"
	    "\"TerminateInstanceInAutoScalingGroup\","
	    "\"error\":\"ScalingActivityInProgress\"},"
	    "{\"service\":\"ec2\",\"error\":\"ServiceUnavailable\"},"
	    "{\"service\":\"monitoring\",\"error\":\"InternalFailure\"},"
	    "{\"service\":\"sts\",\"error\":\"ServiceUnavailable\"}]");
	call(&w);
	assert_query_error(500, "ResourceContention", CONTENTION, ASG_NS);
	w.body = "Action=SetDesiredCapacity&Version=2011-01-01";
	call(&w);
	ck_assert_int_eq(resp.status, 400);
	ck_assert_ptr_nonnull(strstr(resp.body, "<Message>Scaling activity "));
	ck_assert_ptr_nonnull(strstr(resp.body,
	    " is in progress and blocks this action.</Message>"));
	w.body = "Action=TerminateInstanceInAutoScalingGroup&Version=2011-01-01";
	call(&w);
	ck_assert_ptr_nonnull(strstr(resp.body, "<Message>Activity "));
	ck_assert_ptr_nonnull(strstr(resp.body, " is in progress.</Message>"));
	w.service = "ec2";
	w.body = "Action=DescribeInstances&Version=2016-11-15";
	call(&w);
	assert_ec2_error(503, "ServiceUnavailable", UNAVAILABLE);
	w.service = NULL;
	w.body = NULL;
	call(&w);
	ck_assert_int_eq(resp.status, 503);
	ck_assert_ptr_nonnull(strstr(resp.body, "<Type>Receiver</Type>\n"
	    "    <Code>ServiceUnavailable</Code>"));
	ck_assert_int_eq(counter("faults", "autoscaling/DescribeAutoScalingGroups/"
	    "ResourceContention", NULL), 1);
	ck_assert_int_eq(counter("throttled", "autoscaling",
	    "DescribeAutoScalingGroups"), 0);
}
END_TEST

START_TEST(faults_errors_json)
{
	struct how	 w = { .service = "monitoring", .body = "{}",
	    .ctype = "application/x-amz-json-1.0",
	    .target = "GraniteServiceVersion20100801.DescribeAlarms" };

	must_set("[{\"service\":\"monitoring\",\"error\":\"InternalFailure\"}]");
	call(&w);
	ck_assert_int_eq(resp.status, 500);
	ck_assert_str_eq(header("x-amzn-query-error"), "InternalFailure;Receiver");
	ck_assert_str_eq(resp.body, "{\"__type\":\"com.amazon.coral.service#"
	    "InternalFailure\",\"message\":\"The request processing has failed "
	    "because of an unknown error, exception or failure.\"}");
	must_set("[{\"service\":\"monitoring\",\"error\":\"Throttling\"}]");
	call(&w);
	ck_assert_int_eq(resp.status, 400);
	ck_assert_ptr_nonnull(strstr(resp.body, "ThrottlingException"));
	ck_assert_int_eq(counter("throttled", "monitoring", "DescribeAlarms"), 1);
}
END_TEST

/* Network faults: marked on the response for the server, before or after. */
START_TEST(faults_network)
{
	struct how	 w = { 0 };
	uint64_t	 rng;

	must_set("[{\"service\":\"sts\",\"network\":\"no_answer\",\"hold_ms\":5000}]");
	sim_req_free(&req);
	sim_resp_free(&resp);
	sign(&req, &w);
	sim_route(&sim, &req, &resp);
	ck_assert_int_eq(resp.fault.net, SIM_NET_NO_ANSWER);
	ck_assert_int_eq(resp.status, 0);	/* no 500 stands in for it */
	ck_assert_uint_eq(resp.fault.hold_ms, 5000);
	ck_assert_int_eq(resp.fault.applied, 0);
	ck_assert_str_eq(resp.fault.service, "sts");
	ck_assert_str_eq(resp.fault.action, "GetCallerIdentity");
	must_set("[{\"service\":\"sts\",\"network\":\"reset\",\"when\":\"after\","
	    "\"latency_ms\":20}]");
	call(&w);
	ck_assert_int_eq(resp.fault.net, SIM_NET_RESET);
	ck_assert_int_eq(resp.fault.applied, 1);
	ck_assert_int_eq(resp.fault.status, 200);
	ck_assert_int_eq(resp.status, 200);	/* made, never sent */
	ck_assert_uint_eq(resp.delay_ms, 20);
	ck_assert_int_eq(counter("faults", "sts/GetCallerIdentity/no_answer", NULL), 1);
	ck_assert_int_eq(counter("faults", "sts/GetCallerIdentity/reset", NULL), 1);
	/* Never before authentication. */
	w.secret = "wrong";
	call(&w);
	ck_assert_int_eq(resp.status, 403);
	ck_assert_int_eq(resp.fault.net, SIM_NET_NONE);
	/* A rule that cannot fire draws nothing: the seed's runs stay the same. */
	w.secret = NULL;
	must_set("[{\"service\":\"sts\",\"latency_ms\":3}]");
	rng = sim.rng;
	call(&w);
	ck_assert_uint_eq(sim.rng, rng);
	ck_assert_int_eq(resp.fault.net, SIM_NET_NONE);
}
END_TEST

/* A count spends the rule; the next most specific one takes over. */
START_TEST(faults_count)
{
	struct how	 w = { 0 };
	json_t		*j, *r0;

	must_set("[{\"service\":\"sts\",\"error\":\"InternalFailure\",\"count\":2},"
	    "{\"service\":\"*\",\"latency_ms\":7}]");
	call(&w);
	ck_assert_int_eq(resp.status, 500);
	call(&w);
	ck_assert_int_eq(resp.status, 500);
	call(&w);
	ck_assert_int_eq(resp.status, 200);
	ck_assert_uint_eq(resp.delay_ms, 7);
	ck_assert_ptr_eq(sim_faults_match(&sim.faults, "sts", "GetCallerIdentity"),
	    &sim.faults.f[1]);
	j = sim_faults_json(&sim.faults);
	r0 = json_array_get(json_object_get(j, "rules"), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(r0, "remaining")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(r0, "count")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(r0, "fired")), 2);
	json_decref(j);
	ck_assert_int_eq(counter("faults", "sts/GetCallerIdentity/InternalFailure",
	    NULL), 2);
}
END_TEST

/* "*" is any AWS service: Bitbucket is only hit by rules that name it. */
START_TEST(faults_bitbucket_match)
{
	const struct sim_fault_rule	*r;

	must_set("[{\"error\":\"InternalFailure\"},{\"service\":\"bitbucket\","
	    "\"action\":\"status\",\"latency_ms\":3},{\"service\":\"bitbucket\","
	    "\"action\":\"nodes\",\"error\":\"ServiceUnavailable\"}]");
	ck_assert_ptr_null(sim_faults_match(&sim.faults, "bitbucket", "cluster"));
	r = sim_faults_match(&sim.faults, "bitbucket", "status");
	ck_assert_uint_eq(r->latency_ms, 3);
	ck_assert_ptr_eq(sim_faults_match(&sim.faults, "ec2", "DescribeInstances"),
	    &sim.faults.f[0]);
	ck_assert_int_eq(sim_faults_match(&sim.faults, "bitbucket", "nodes")->error,
	    SIM_FAULT_UNAVAILABLE);
}
END_TEST

/* ---- the other routes, and the counters' bound ---- */

static int
route(const char *method, const char *uri, const char *hname, const char *hvalue,
    const char *body)
{
	sim_req_free(&req);
	sim_resp_free(&resp);
	ck_assert_int_eq(sim_req_init(&req, method, uri), 0);
	if (hname != NULL)
		ck_assert_int_eq(sim_req_add_header(&req, hname, hvalue), 0);
	if (body != NULL)
		ck_assert_int_eq(sim_req_set_body(&req, body, strlen(body)), 0);
	sim_route(&sim, &req, &resp);
	return resp.status;
}

START_TEST(routes)
{
	char	 token[SIM_IMDS_TOKEN_LEN + 1];

	ck_assert_int_eq(route("DELETE", "/", NULL, NULL, NULL), 405);
	ck_assert_str_eq(header("Allow"), "GET, POST");
	ck_assert_int_eq(route("GET", "/nowhere", NULL, NULL, NULL), 404);
	/* No model in this test: the Bitbucket side has nothing to answer with. */
	ck_assert_int_eq(route("GET", "/status", NULL, NULL, NULL), 503);
	ck_assert_int_eq(route("GET", "/rest/zdu/cluster", NULL, NULL, NULL), 503);
	ck_assert_int_eq(route("GET", "/_sim/health", NULL, NULL, NULL), 200);
	ck_assert_int_eq(route("PUT", "/_sim/health", NULL, NULL, NULL), 405);
	ck_assert_int_eq(route("GET", "/_sim/nothing", NULL, NULL, NULL), 404);
	ck_assert_int_eq(route("POST", "/_sim/faults", NULL, NULL, "{nope"), 400);
	ck_assert_int_eq(route("POST", "/_sim/faults", NULL, NULL,
	    "{\"rules\": [{\"network\": \"rst\"}]}"), 400);
	ck_assert_ptr_nonnull(strstr(resp.body, "rules[0]: network"));
	/* No server in this test: nothing is held. */
	ck_assert_int_eq(route("GET", "/_sim/held", NULL, NULL, NULL), 200);
	ck_assert_str_eq(resp.body, "[]\n");
	ck_assert_int_eq(route("POST", "/_sim/held", NULL, NULL, "{}"), 405);
	ck_assert_int_eq(route("POST", "/_sim/errors", NULL, NULL,
	    "{\"invalid-action\": \"one %s\"}"), 400);
	ck_assert_int_eq(route("POST", "/_sim/credentials", NULL, NULL,
	    "{\"lifetime\": 0}"), 400);
	ck_assert_int_eq(route("GET", "/_sim/state", NULL, NULL, NULL), 503);
	ck_assert_int_eq(route("GET", "/latest/meta-data/", NULL, NULL, NULL), 401);
	ck_assert_int_eq(route("GET", "/latest/api/token", NULL, NULL, NULL), 405);
	ck_assert_int_eq(route("PUT", "/latest/api/token",
	    "X-aws-ec2-metadata-token-ttl-seconds", "21601", NULL), 400);
	ck_assert_int_eq(route("PUT", "/latest/api/token",
	    "X-aws-ec2-metadata-token-ttl-seconds", "5", NULL), 200);
	ck_assert_uint_eq(resp.len, SIM_IMDS_TOKEN_LEN);
	snprintf(token, sizeof(token), "%s", resp.body);
	ck_assert_int_eq(route("GET", "/latest/meta-data/iam/security-credentials/",
	    "X-aws-ec2-metadata-token", token, NULL), 200);
	ck_assert_str_eq(resp.body, "bbsim-bastion");
	ck_assert_int_eq(route("GET", "/latest/meta-data/iam/security-credentials"
	    "-extended/bbsim-bastion", "X-aws-ec2-metadata-token", token, NULL), 200);
	ck_assert_ptr_nonnull(strstr(resp.body, "\"AccountId\" : \"123456789012\""));
	ck_assert_int_eq(route("POST", "/latest/meta-data/", "X-aws-ec2-metadata-token",
	    token, NULL), 405);
}
END_TEST

START_TEST(counters_bounded)
{
	char	 action[32];
	int	 i;

	for (i = 0; i < 1000; i++) {
		snprintf(action, sizeof(action), "Made%d", i);
		sim_count(&sim, "api_calls", "sts", action);
	}
	ck_assert_uint_le(json_object_size(json_object_get(json_object_get(
	    sim.counters, "api_calls"), "sts")), 257);
	ck_assert_int_eq(counter("api_calls", "sts", "(other)"), 1000 - 256);
	ck_assert_int_eq(counter("api_calls", "sts", "Made0"), 1);
}
END_TEST

Suite *
sim_auth_suite(void)
{
	Suite	*s = suite_create("sim_auth");
	TCase	*t;

	t = tcase_create("verify");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, verify_good);
	tcase_add_test(t, verify_failures);
	tcase_add_test(t, verify_malformed);
	tcase_add_test(t, verify_temporary);
	tcase_add_test(t, creds_rotation);
	suite_add_tcase(s, t);
	t = tcase_create("front door");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, aws_good);
	tcase_add_test(t, aws_missing_auth);
	tcase_add_test(t, aws_auth_errors);
	tcase_add_test(t, aws_skew);
	tcase_add_test(t, aws_ec2_auth);
	tcase_add_test(t, aws_routing);
	tcase_add_test(t, aws_sts_redirect);
	tcase_add_test(t, aws_ec2_routing);
	tcase_add_test(t, aws_wire_strict);
	tcase_add_test(t, aws_wire_lenient);
	tcase_add_test(t, aws_json);
	tcase_add_test(t, faults_table);
	tcase_add_test(t, faults_throttle);
	tcase_add_loop_test(t, faults_parse_hostile, 0,
	    sizeof(bad_rules) / sizeof(bad_rules[0]));
	tcase_add_test(t, faults_parse_shapes);
	tcase_add_test(t, faults_errors);
	tcase_add_test(t, faults_errors_json);
	tcase_add_test(t, faults_network);
	tcase_add_test(t, faults_count);
	tcase_add_test(t, faults_bitbucket_match);
	tcase_add_test(t, routes);
	tcase_add_test(t, counters_bounded);
	suite_add_tcase(s, t);
	return s;
}
