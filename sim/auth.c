/*
 * The AWS front door (see auth.h): credentials, SigV4 verification with AWS's answers
 * to each failure, routing to an operation by credential scope, Action and Version (or
 * X-Amz-Target), and striking with the fault rules (faults.c), which Bitbucket's front
 * door consults too. It must never let an unauthenticated request reach an operation
 * (nor a fault rule: rules see only authenticated, routed calls), and never put a
 * secret, a session token or a signature in a log.
 *
 * The order of the checks is AWS's where it is known (an STS wire oracle run against
 * real AWS, and aws-errors.md): authentication before routing; the session token
 * before the signature; Action/Version resolved after authentication.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "common/sigv4.h"
#include "sim/auth.h"
#include "sim/faults.h"
#include "sim/model.h"
#include "sim/server.h"
#include "sim/sim.h"
#include "sim/wire.h"

#define B32	"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
#define B64	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
#define HEX	"0123456789abcdef"
#define NO_VERSION	"NO_VERSION_SPECIFIED"	/* what STS prints for it */

/* ---- credentials ---- */

static int
akid_ok(const char *s)
{
	size_t	 n = strlen(s);

	if (n == 0 || n > SIGV4_AKID_MAX)
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		    (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

int
sim_creds_init(struct sim_creds *cs, uint64_t seed, const char *akid,
    const char *secret)
{
	struct sim_cred	*c = &cs->longterm;
	char		 id[18];

	memset(cs, 0, sizeof(*cs));
	cs->rng = seed ^ 0x6a09e667f3bcc908ULL;
	cs->lifetime = SIM_DEFAULT_LIFETIME;
	akid = akid != NULL ? akid : SIM_DEFAULT_AKID;
	secret = secret != NULL ? secret : SIM_DEFAULT_SECRET;
	if (!akid_ok(akid) || *secret == '\0' || strlen(secret) > SIM_SECRET_MAX)
		return -1;
	snprintf(c->akid, sizeof(c->akid), "%s", akid);
	snprintf(c->secret, sizeof(c->secret), "%s", secret);
	snprintf(c->arn, sizeof(c->arn), "arn:aws:iam::%s:user/%s", SIM_ACCOUNT_ID,
	    SIM_USER_NAME);
	sim_rand_chars(&cs->rng, B32, id, 17);
	snprintf(c->userid, sizeof(c->userid), "AIDA%s", id);
	memcpy(cs->instance_id, "i-0", 3);
	sim_rand_chars(&cs->rng, HEX, cs->instance_id + 3, 16);
	memcpy(cs->role_id, "AROA", 4);
	sim_rand_chars(&cs->rng, B32, cs->role_id + 4, 17);
	return 0;
}

const struct sim_cred *
sim_creds_find(const struct sim_creds *cs, const char *akid)
{
	size_t	 i;

	if (strcmp(cs->longterm.akid, akid) == 0)
		return &cs->longterm;
	for (i = 0; i < cs->ntemp; i++)
		if (strcmp(cs->temp[i].akid, akid) == 0)
			return &cs->temp[i];
	return NULL;
}

/* New temporary credentials of the instance profile, replacing the oldest. */
static const struct sim_cred *
mint(struct sim_creds *cs, time_t now)
{
	struct sim_cred	*c = &cs->temp[cs->next];

	cs->next = (cs->next + 1) % SIM_MAX_TEMP;
	if (cs->ntemp < SIM_MAX_TEMP)
		cs->ntemp++;
	memset(c, 0, sizeof(*c));
	memcpy(c->akid, "ASIA", 4);
	sim_rand_chars(&cs->rng, B32, c->akid + 4, 16);
	sim_rand_chars(&cs->rng, B64, c->secret, 40);
	/* Real tokens are long base64 blobs; this prefix is how they begin. */
	memcpy(c->token, "IQoJb3JpZ2luX2VjE", 17);
	sim_rand_chars(&cs->rng, B64, c->token + 17, SIM_TOKEN_LEN - 17);
	c->issued = now;
	c->expires = now + cs->lifetime;
	snprintf(c->arn, sizeof(c->arn), "arn:aws:sts::%s:assumed-role/%s/%s",
	    SIM_ACCOUNT_ID, SIM_ROLE_NAME, cs->instance_id);
	snprintf(c->userid, sizeof(c->userid), "%s:%s", cs->role_id, cs->instance_id);
	return c;
}

const struct sim_cred *
sim_creds_current(struct sim_creds *cs, time_t now)
{
	const struct sim_cred	*last;
	time_t			 ahead = cs->lifetime / 2;

	if (ahead > 300)
		ahead = 300;
	if (cs->ntemp > 0) {
		last = &cs->temp[(cs->next + SIM_MAX_TEMP - 1) % SIM_MAX_TEMP];
		if (last->expires - now > ahead)
			return last;
	}
	return mint(cs, now);
}

void
sim_creds_expire_all(struct sim_creds *cs, time_t now)
{
	size_t	 i;

	for (i = 0; i < cs->ntemp; i++)
		if (cs->temp[i].expires > now)
			cs->temp[i].expires = now;
}

/* ---- verification ---- */

static int
auth_fail(struct sim_auth *a, enum sim_auth_result r, const char *why)
{
	a->result = r;
	snprintf(a->why, sizeof(a->why), "%s", why);
	return -1;
}

/* Strictly "yyyymmddThhmmssZ", a real second of UTC. */
static int
amzdate_parse(const char *s, time_t *t)
{
	struct tm	 tm;
	char		 back[SIGV4_DATE_LEN + 1];
	const char	*end;

	if (strlen(s) != SIGV4_DATE_LEN)
		return -1;
	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y%m%dT%H%M%SZ", &tm)) == NULL || *end != '\0')
		return -1;
	*t = timegm(&tm);
	if (gmtime_r(t, &tm) == NULL ||
	    strftime(back, sizeof(back), "%Y%m%dT%H%M%SZ", &tm) == 0)
		return -1;
	return strcmp(back, s) == 0 ? 0 : -1;
}

/*
 * A temporary key needs its own session token; a long-term key must come without one.
 * STS answers both mistakes with InvalidClientTokenId, before looking at the signature.
 */
static int
token_ok(const struct sim_cred *c, const char *token)
{
	if (c->token[0] == '\0')
		return token == NULL;
	return token != NULL && strcmp(token, c->token) == 0;
}

static int
signature_ok(const struct sim_req *req, struct sim_auth *a, time_t now)
{
	struct sigv4_header	 h[SIM_MAX_HEADERS];
	struct sigv4_request	 r;
	size_t			 i;

	for (i = 0; i < req->nhdr; i++) {
		h[i].name = req->hdr[i].name;
		h[i].value = req->hdr[i].value;
	}
	memset(&r, 0, sizeof(r));
	r.method = req->method;
	r.path = req->path;
	r.query = req->query;
	r.headers = h;
	r.nheaders = req->nhdr;
	r.body = req->bodylen > 0 ? req->body : NULL;
	r.bodylen = req->bodylen;
	return sigv4_verify(&r, &a->a, a->cred->secret, now, a->why,
	    sizeof(a->why)) == 0;
}

int
sim_auth_verify(const struct sim_creds *cs, const struct sim_req *req, time_t now,
    struct sim_auth *a)
{
	const char	*authz, *date;
	time_t		 t;

	memset(a, 0, sizeof(*a));
	if ((authz = sim_req_header(req, "Authorization")) == NULL)
		return auth_fail(a, SIM_AUTH_MISSING, "no Authorization header");
	if (sigv4_parse_authorization(authz, &a->a) == -1)
		return auth_fail(a, SIM_AUTH_INCOMPLETE, "malformed Authorization");
	if ((date = sim_req_header(req, "X-Amz-Date")) == NULL ||
	    amzdate_parse(date, &t) == -1)
		return auth_fail(a, SIM_AUTH_INCOMPLETE, "no valid X-Amz-Date");
	snprintf(a->amzdate, sizeof(a->amzdate), "%s", date);
	if (difftime(now, t) > SIGV4_MAX_SKEW)
		return auth_fail(a, SIM_AUTH_SKEW_PAST, "X-Amz-Date too old");
	if (difftime(t, now) > SIGV4_MAX_SKEW)
		return auth_fail(a, SIM_AUTH_SKEW_FUTURE, "X-Amz-Date in the future");
	if ((a->cred = sim_creds_find(cs, a->a.access_key_id)) == NULL)
		return auth_fail(a, SIM_AUTH_UNKNOWN_KEY, "unknown access key");
	if (!token_ok(a->cred, sim_req_header(req, "X-Amz-Security-Token")))
		return auth_fail(a, SIM_AUTH_BAD_TOKEN, "session token absent or wrong");
	if (a->cred->expires != 0 && now >= a->cred->expires)
		return auth_fail(a, SIM_AUTH_EXPIRED, "temporary credentials expired");
	if (!signature_ok(req, a, now)) {
		a->result = SIM_AUTH_BAD_SIGNATURE;
		return -1;
	}
	a->result = SIM_AUTH_OK;
	return 0;
}

/* ---- services ---- */

static struct sim_aws_service services[] = {
	{ "cloudformation", "2010-05-15",
	    "http://cloudformation.amazonaws.com/doc/2010-05-15/", SIM_PROTO_QUERY,
	    NULL, NULL, NULL, 0 },
	{ "autoscaling", "2011-01-01",
	    "http://autoscaling.amazonaws.com/doc/2011-01-01/", SIM_PROTO_QUERY,
	    NULL, NULL, NULL, 0 },
	/* The model writes EC2's namespace without the final '/'; its answers have it. */
	{ "ec2", "2016-11-15", "http://ec2.amazonaws.com/doc/2016-11-15/",
	    SIM_PROTO_EC2, NULL, NULL, NULL, 0 },
	{ "monitoring", "2010-08-01",
	    "http://monitoring.amazonaws.com/doc/2010-08-01/", SIM_PROTO_QUERY,
	    "GraniteServiceVersion20100801", NULL, NULL, 0 },
	{ "elasticloadbalancing", "2012-06-01",
	    "http://elasticloadbalancing.amazonaws.com/doc/2012-06-01/",
	    SIM_PROTO_QUERY, NULL, NULL, NULL, 0 },
	{ "elasticloadbalancing", "2015-12-01",
	    "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/",
	    SIM_PROTO_QUERY, NULL, NULL, NULL, 0 },
	/* STS answers a request without an Action (or not a form) with this redirect. */
	{ "sts", "2011-06-15", "https://sts.amazonaws.com/doc/2011-06-15/",
	    SIM_PROTO_QUERY, NULL, "https://aws.amazon.com/iam", NULL, 0 },
};

#define NSERVICES	(sizeof(services) / sizeof(services[0]))

const struct sim_aws_service *
sim_aws_service(const char *name, const char *version)
{
	size_t	 i;

	for (i = 0; i < NSERVICES; i++)
		if ((name == NULL || strcmp(services[i].name, name) == 0) &&
		    (version == NULL || strcmp(services[i].version, version) == 0))
			return &services[i];
	return NULL;
}

int
sim_aws_register(const char *name, const char *version, const struct sim_op *ops,
    size_t nops)
{
	size_t	 i;

	for (i = 0; i < NSERVICES; i++)
		if (strcmp(services[i].name, name) == 0 &&
		    strcmp(services[i].version, version) == 0) {
			services[i].ops = ops;
			services[i].nops = nops;
			return 0;
		}
	return -1;
}

static const struct sim_op *
find_op(const struct sim_aws_service *svc, const char *action)
{
	size_t	 i;

	for (i = 0; i < svc->nops; i++)
		if (strcmp(svc->ops[i].action, action) == 0)
			return &svc->ops[i];
	return NULL;
}

/* Yes if any version of the service has it, or none has operations (unit tests). */
int
sim_aws_has_action(const char *service, const char *action)
{
	size_t	 i;
	int	 any = 0;

	for (i = 0; i < NSERVICES; i++) {
		if (strcmp(services[i].name, service) != 0)
			continue;
		if (find_op(&services[i], action) != NULL)
			return 1;
		any |= services[i].nops > 0;
	}
	return !any;
}

/* ---- answering in the right envelope ---- */

/* One request on its way through the front door. */
struct front {
	struct sim			*sim;
	const struct sim_req		*req;
	struct sim_resp			*resp;
	char				 reqid[SIM_REQID_LEN + 1];
	time_t				 now;
	enum sim_proto			 proto;
	const struct sim_aws_service	*svc;	/* before routing: a guess */
	struct sim_form			 form;
	int				 form_rc;	/* of parsing it */
	const char			*target;	/* X-Amz-Target */
	const char			*action;
	json_t				*json;
	struct sim_auth			 auth;
	struct sim_fault_hit		 hit;		/* drawn by admit() */
};

static int
envelope(struct sim_resp *r, enum sim_proto proto, const char *ns,
    const struct sim_wire_errdef *e, const char *msg, const char *reqid)
{
	int	 rc;

	if (proto == SIM_PROTO_EC2)
		rc = sim_wire_ec2_error(r, e->status, e->code, msg, reqid);
	else if (proto == SIM_PROTO_JSON)
		rc = sim_wire_json_error(r, e->status, e->type, e->code, e->receiver,
		    msg, reqid);
	else
		rc = sim_wire_query_error(r, e->status, ns != NULL ? ns :
		    SIM_NS_AWSFAULT, e->receiver, e->code, msg, reqid);
	return rc;
}

/* One of the catalogue's errors; InvalidAction comes in the AWSFault namespace. */
static int
answer_error(struct sim_resp *r, enum sim_proto proto,
    const struct sim_aws_service *svc, enum sim_wire_err e, const char *const *args,
    size_t nargs, const char *reqid)
{
	char		 msg[1024];
	const char	*ns = svc != NULL ? svc->ns : NULL;

	if (e == SIM_E_INVALID_ACTION || e == SIM_E_MISSING_ACTION)
		ns = SIM_NS_AWSFAULT;
	sim_error_format(e, args, nargs, msg, sizeof(msg));
	envelope(r, proto, ns, sim_error_get(e), msg, reqid);
	return -1;	/* the call failed, whether the answer could be written or not */
}

static int
front_error(struct front *f, enum sim_wire_err e, const char *const *args, size_t nargs)
{
	return answer_error(f->resp, f->proto, f->svc, e, args, nargs, f->reqid);
}

/* A form that failed to parse or to give a list, as AWS would refuse it. */
static int
form_error(struct sim_resp *r, enum sim_proto proto, const struct sim_aws_service *svc,
    const struct sim_form *form, const char *reqid)
{
	const char		*args[1] = { form->errparam };
	enum sim_wire_err	 e;
	int			 ec2 = proto == SIM_PROTO_EC2;

	switch (form->err) {
	case SIM_FORM_ESYNTAX:
		e = SIM_E_MALFORMED_QS;
		break;
	case SIM_FORM_ESHAPE:
	case SIM_FORM_EUNKNOWN:
		e = ec2 ? SIM_E_EC2_UNKNOWN_PARAM : SIM_E_QUERY_PARAM;
		break;
	case SIM_FORM_ENOMEM:
		e = SIM_E_INTERNAL;
		break;
	default:
		e = ec2 ? SIM_E_EC2_QUERY_PARAM : SIM_E_QUERY_PARAM;
		break;
	}
	log_info("aws %s: wire: %s parameter \"%s\"", reqid,
	    form->err == SIM_FORM_EDUP ? "repeated" :
	    form->err == SIM_FORM_ESHAPE ? "misshapen list" :
	    form->err == SIM_FORM_EUNKNOWN ? "unknown" : "malformed", form->errparam);
	return answer_error(r, proto, svc, e, args, 1, reqid);
}

/* ---- the front door, step by step ---- */

static int
is_form(const char *ctype)
{
	static const char	 form[] = "application/x-www-form-urlencoded";
	size_t			 n = sizeof(form) - 1;

	return ctype != NULL && strncasecmp(ctype, form, n) == 0 &&
	    (ctype[n] == '\0' || ctype[n] == ';' || ctype[n] == ' ');
}

/*
 * Reads the parameters (query string, then a form body) and guesses the service from
 * the credential scope, or else from Version, so that even a request refused before
 * routing gets its service's envelope. A POST that is not a form has no parameters
 * in its body: STS treats it as a request without Action.
 */
static void
front_init(struct front *f)
{
	struct sigv4_auth	 a;
	const struct sim_req	*req = f->req;
	const char		*name = NULL;

	sim_next_reqid(f->sim, f->reqid);
	sim_form_init(&f->form, f->sim->opt.lenient_wire ? SIM_FORM_FIRST_WINS : 0);
	f->target = sim_req_header(req, "X-Amz-Target");
	f->proto = f->target != NULL ? SIM_PROTO_JSON : SIM_PROTO_QUERY;
	if (f->target == NULL && req->query != NULL)
		f->form_rc = sim_form_parse(&f->form, req->query, strlen(req->query));
	if (f->target == NULL && f->form_rc == 0 && strcmp(req->method, "POST") == 0 &&
	    is_form(sim_req_header(req, "Content-Type")))
		f->form_rc = sim_form_parse(&f->form, req->body, req->bodylen);
	if (sigv4_parse_authorization(sim_req_header(req, "Authorization"), &a) == 0)
		name = a.service;
	if ((f->svc = sim_aws_service(name, sim_form_get(&f->form, "Version"))) == NULL &&
	    name != NULL)
		f->svc = sim_aws_service(name, NULL);
	if (f->svc != NULL && f->svc->proto == SIM_PROTO_EC2 && f->target == NULL)
		f->proto = SIM_PROTO_EC2;
}

static void
fmt_amzdate(time_t t, char *buf, size_t len)
{
	struct tm	 tm;

	if (gmtime_r(&t, &tm) == NULL || strftime(buf, len, "%Y%m%dT%H%M%SZ", &tm) == 0)
		snprintf(buf, len, "?");
}

static enum sim_wire_err
auth_error(enum sim_auth_result r, enum sim_proto p)
{
	static const enum sim_wire_err query[] = {
		[SIM_AUTH_MISSING] = SIM_E_MISSING_AUTH,
		[SIM_AUTH_INCOMPLETE] = SIM_E_INCOMPLETE_SIG,
		[SIM_AUTH_SKEW_PAST] = SIM_E_SIG_EXPIRED,
		[SIM_AUTH_SKEW_FUTURE] = SIM_E_SIG_NOT_YET,
		[SIM_AUTH_UNKNOWN_KEY] = SIM_E_BAD_KEY,
		[SIM_AUTH_BAD_TOKEN] = SIM_E_BAD_KEY,
		[SIM_AUTH_EXPIRED] = SIM_E_EXPIRED_TOKEN,
		[SIM_AUTH_BAD_SIGNATURE] = SIM_E_BAD_SIG,
	};
	/* aws-errors.md 8: EC2 has codes of its own for most of these. */
	static const enum sim_wire_err ec2[] = {
		[SIM_AUTH_MISSING] = SIM_E_EC2_MISSING_AUTH,
		[SIM_AUTH_INCOMPLETE] = SIM_E_INCOMPLETE_SIG,
		[SIM_AUTH_SKEW_PAST] = SIM_E_EC2_EXPIRED,
		[SIM_AUTH_SKEW_FUTURE] = SIM_E_EC2_AUTH_FAILURE,
		[SIM_AUTH_UNKNOWN_KEY] = SIM_E_EC2_AUTH_FAILURE,
		[SIM_AUTH_BAD_TOKEN] = SIM_E_EC2_AUTH_FAILURE,
		[SIM_AUTH_EXPIRED] = SIM_E_EC2_EXPIRED,
		[SIM_AUTH_BAD_SIGNATURE] = SIM_E_BAD_SIG,
	};

	BB_ASSERT(r > SIM_AUTH_OK && r <= SIM_AUTH_BAD_SIGNATURE);
	return p == SIM_PROTO_EC2 ? ec2[r] : query[r];
}

static int
authenticate(struct front *f)
{
	char			 bound[SIGV4_DATE_LEN + 1], now[SIGV4_DATE_LEN + 1];
	const char		*args[3] = { f->auth.amzdate, bound, now };
	enum sim_wire_err	 e;

	if (sim_auth_verify(&f->sim->creds, f->req, f->now, &f->auth) == 0) {
		sim_count(f->sim, "regions", f->auth.a.region, NULL);
		return 0;
	}
	e = auth_error(f->auth.result, f->proto);
	fmt_amzdate(f->now, now, sizeof(now));
	fmt_amzdate(f->now + (f->auth.result == SIM_AUTH_SKEW_FUTURE ?
	    SIGV4_MAX_SKEW : -SIGV4_MAX_SKEW), bound, sizeof(bound));
	sim_count(f->sim, "auth_failures", sim_error_get(e)->code, NULL);
	log_info("aws %s: %s: %s (key %s)", f->reqid, sim_error_get(e)->code,
	    f->auth.why, f->auth.a.access_key_id[0] ? f->auth.a.access_key_id : "-");
	return front_error(f, e, args, 3);
}

/* STS's answer to a request without Action: 302 to its documentation. */
static int
redirect(struct front *f)
{
	char	*loc;

	if (f->req->query != NULL && strcmp(f->req->method, "GET") == 0) {
		if (asprintf(&loc, "%s?%s", f->svc->redirect, f->req->query) == -1)
			return -1;
	} else if ((loc = strdup(f->svc->redirect)) == NULL)
		return -1;
	if (sim_resp_text(f->resp, 302, NULL, "") == 0 &&
	    sim_resp_header(f->resp, "Location", loc) == 0)
		sim_resp_header(f->resp, "x-amzn-RequestId", f->reqid);
	free(loc);
	return -1;
}

static int
route_form(struct front *f)
{
	const char	*version, *args[2];

	if (f->form_rc == -1)
		return form_error(f->resp, f->proto, f->svc, &f->form, f->reqid);
	f->action = sim_form_get(&f->form, "Action");
	version = sim_form_get(&f->form, "Version");
	if (f->action == NULL && f->svc->redirect != NULL)
		return redirect(f);
	if (f->action == NULL) {
		args[0] = "Action";
		return front_error(f, f->proto == SIM_PROTO_EC2 ?
		    SIM_E_EC2_MISSING_PARAM : SIM_E_MISSING_ACTION, args, 1);
	}
	args[0] = f->action;
	args[1] = version != NULL ? version : NO_VERSION;
	if (f->proto == SIM_PROTO_EC2 && version == NULL) {
		args[0] = "Version";
		return front_error(f, SIM_E_EC2_MISSING_PARAM, args, 1);
	}
	if (version != NULL &&
	    (f->svc = sim_aws_service(f->auth.a.service, version)) != NULL)
		return 0;
	f->svc = sim_aws_service(f->auth.a.service, NULL);
	if (f->proto == SIM_PROTO_EC2)
		return front_error(f, SIM_E_EC2_NO_VERSION, args + 1, 1);
	return front_error(f, SIM_E_INVALID_ACTION, args, 2);
}

/* JSON 1.0: X-Amz-Target "<prefix>.<Action>", the body a JSON object. */
static int
route_json(struct front *f)
{
	const char	*t = f->target;
	size_t		 n;

	if (f->svc->json_target == NULL ||
	    strncmp(t, f->svc->json_target, n = strlen(f->svc->json_target)) != 0 ||
	    t[n] != '.' || t[n + 1] == '\0')
		return front_error(f, SIM_E_JSON_UNKNOWN_OP, NULL, 0);
	f->action = t + n + 1;
	f->json = json_loadb(f->req->body != NULL ? f->req->body : "",
	    f->req->bodylen, JSON_REJECT_DUPLICATES, NULL);
	if (f->json == NULL || !json_is_object(f->json))
		return front_error(f, SIM_E_JSON_SERIALIZATION, NULL, 0);
	return 0;
}

static int
route(struct front *f)
{
	const char	*args[2];

	f->svc = sim_aws_service(f->auth.a.service, NULL);
	if (f->svc != NULL && f->proto != SIM_PROTO_JSON)
		f->proto = f->svc->proto;
	if (f->svc == NULL && f->proto == SIM_PROTO_JSON)
		return front_error(f, SIM_E_JSON_UNKNOWN_OP, NULL, 0);
	if (f->svc == NULL) {
		/* A service bbsim does not simulate: no operation of it exists here. */
		args[0] = sim_form_get(&f->form, "Action");
		args[1] = sim_form_get(&f->form, "Version");
		args[0] = args[0] != NULL ? args[0] : "";
		args[1] = args[1] != NULL ? args[1] : NO_VERSION;
		return front_error(f, SIM_E_INVALID_ACTION, args, 2);
	}
	return f->proto == SIM_PROTO_JSON ? route_json(f) : route_form(f);
}

/* The catalogue's entry for a rule's error, in this call's protocol. */
static enum sim_wire_err
fault_wire_err(enum sim_fault_error e, enum sim_proto p, const char *action)
{
	switch (e) {
	case SIM_FAULT_THROTTLING:
		return p == SIM_PROTO_EC2 ? SIM_E_EC2_THROTTLED :
		    p == SIM_PROTO_JSON ? SIM_E_JSON_THROTTLING : SIM_E_THROTTLING;
	case SIM_FAULT_REQUEST_LIMIT:
		return SIM_E_EC2_THROTTLED;
	case SIM_FAULT_CONTENTION:
		return SIM_E_RESOURCE_CONTENTION;
	case SIM_FAULT_SCALING:
		/* aws-errors.md 8: Terminate... words it its own way. */
		return strcmp(action, "TerminateInstanceInAutoScalingGroup") == 0 ?
		    SIM_E_ACTIVITY_IN_PROGRESS : SIM_E_SCALING_ACTIVITY;
	case SIM_FAULT_UNAVAILABLE:
		return SIM_E_SERVICE_UNAVAILABLE;
	default:
		return SIM_E_INTERNAL;
	}
}

/* The fired fault, in place of the operation's answer (applied) or of the call. */
static int
strike(struct front *f, int applied)
{
	char			 activity[SIM_REQID_LEN + 1] = "";
	const char		*args[1] = { activity };
	enum sim_wire_err	 e;
	int			 throttled;

	if (f->hit.network != SIM_NET_NONE) {
		sim_faults_network(&f->hit, f->resp, f->svc->name, f->action, applied);
		return -1;
	}
	e = fault_wire_err(f->hit.error, f->proto, f->action);
	throttled = f->hit.error == SIM_FAULT_THROTTLING ||
	    f->hit.error == SIM_FAULT_REQUEST_LIMIT;
	if (throttled)
		sim_count(f->sim, "throttled", f->svc->name, f->action);
	/* Refused before it ran: the report counts it all the same. */
	if (!applied && f->sim->model != NULL)
		sim_api_refused(f->sim->model, f->svc->name, f->action, f->sim->now,
		    throttled);
	/* The activity that blocks: made up, in the shape of AWS's ids. */
	if (f->hit.error == SIM_FAULT_SCALING)
		sim_reqid(sim_rand(&f->sim->rng), 1, activity);
	return front_error(f, e, args, 1);
}

/*
 * Counts the call, then draws its fault: 0 lets the operation run, -1 when the
 * fault takes its place. This tally is /_sim/counters' only: the report's
 * per-upgrade api_calls are the model's (sim_api_begin()), which STS never reaches,
 * on purpose: identity checks are not orchestration.
 */
static int
admit(struct front *f)
{
	sim_count(f->sim, "api_calls", f->svc->name, f->action);
	sim_faults_draw(f->sim, f->svc->name, f->action, f->resp, &f->hit);
	if (!f->hit.fire || f->hit.when == SIM_FAULT_AFTER)
		return 0;
	return strike(f, 0);
}

static void
invoke(struct front *f)
{
	const struct sim_op	*op = find_op(f->svc, f->action);
	const char		*args[2] = { f->action, f->svc->version };
	struct sim_aws_call		 c;

	if (op == NULL) {
		front_error(f, f->proto == SIM_PROTO_EC2 ? SIM_E_EC2_INVALID_ACTION :
		    f->proto == SIM_PROTO_JSON ? SIM_E_JSON_UNKNOWN_OP :
		    SIM_E_INVALID_ACTION, args, 2);
		return;
	}
	memset(&c, 0, sizeof(c));
	c.sim = f->sim;
	c.svc = f->svc;
	c.proto = f->proto;
	c.action = f->action;
	c.form = f->proto == SIM_PROTO_JSON ? NULL : &f->form;
	c.json = f->json;
	c.who = f->auth.cred;
	c.region = f->auth.a.region;
	c.reqid = f->reqid;
	c.now = f->now;
	c.resp = f->resp;
	if (op->fn(&c) == -1 && f->resp->status == 0)
		front_error(f, SIM_E_INTERNAL, NULL, 0);
}

void
sim_aws_handle(struct sim *sim, const struct sim_req *req, struct sim_resp *resp)
{
	struct front	 f;

	memset(&f, 0, sizeof(f));
	f.sim = sim;
	f.req = req;
	f.resp = resp;
	f.now = time(NULL);
	front_init(&f);
	if (authenticate(&f) == 0 && route(&f) == 0 && admit(&f) == 0) {
		invoke(&f);
		/* The operation ran: the fault hits its answer. */
		if (f.hit.fire)
			strike(&f, resp->status / 100 == 2);
	}
	/* Out of memory on the way; a network fault needs no answer. */
	if (resp->status == 0 && resp->fault.net == SIM_NET_NONE)
		sim_resp_text(resp, 500, "text/plain", "internal error\n");
	log_debug("aws %s: %s %s -> %d", f.reqid, f.svc != NULL ? f.svc->name : "?",
	    f.action != NULL ? f.action : "-", resp->status);
	json_decref(f.json);
	sim_form_free(&f.form);
}

/* ---- helpers of operations ---- */

int
sim_call_error(struct sim_aws_call *c, enum sim_wire_err e, const char *const *args,
    size_t nargs)
{
	return answer_error(c->resp, c->proto, c->svc, e, args, nargs, c->reqid);
}

int
sim_call_fail(struct sim_aws_call *c, int status, const char *code, const char *fmt, ...)
{
	struct sim_wire_errdef	 e = { "", code, status, 0, NULL, "", "" };
	va_list			 ap;
	char			*msg;
	int			 n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n == -1)
		return -1;
	envelope(c->resp, c->proto, c->svc->ns, &e, msg, c->reqid);
	free(msg);
	return -1;
}

int
sim_call_form_error(struct sim_aws_call *c)
{
	return form_error(c->resp, c->proto, c->svc, c->form, c->reqid);
}

int
sim_call_params_done(struct sim_aws_call *c)
{
	if (c->form == NULL || c->sim->opt.lenient_wire ||
	    sim_form_check_unused(c->form) == 0)
		return 0;
	return sim_call_form_error(c);
}

int
sim_call_xml(struct sim_aws_call *c, struct sim_xml *x)
{
	if (c->proto == SIM_PROTO_EC2)
		return sim_wire_ec2_ok(c->resp, x, c->reqid);
	return sim_wire_query_ok(c->resp, x, c->reqid);
}

int
sim_call_json(struct sim_aws_call *c, json_t *j)
{
	return sim_wire_json_ok(c->resp, j, c->reqid);
}
