/*
 * The simulator's own control surface, under /_sim/ on the same loopback port: health,
 * counters, the fault rules and the requests they hold, the error texts, the
 * credentials' lifetime; the views of the simulated world (state, history, report)
 * and the operator's hand are in admin_state.c, admin_report.c and admin_faults.c.
 * Also the context's life cycle, its clock and the counters it keeps. No
 * authentication: bbsim listens on 127.0.0.1 only and holds nothing but test
 * credentials; no secret is ever shown here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "sim/auth.h"
#include "sim/faults.h"
#include "sim/model.h"
#include "sim/server.h"
#include "sim/sim.h"
#include "sim/wire.h"

#ifndef BB_VERSION
#define BB_VERSION	"0"
#endif

#define MAX_LIFETIME	(36 * 3600)
#define MAX_KEYS	256	/* per counter object: clients choose the names */

/* ---- the context ---- */

static int
region_ok(const char *r)
{
	size_t	 n = strlen(r);

	if (n == 0 || n > SIGV4_SCOPE_MAX)
		return 0;
	return strspn(r, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

/* "" or "/a/b": no trailing slash, no empty segment, nothing the other routes own. */
static int
context_set(struct sim *sim, const char *ctx)
{
	size_t	 n;

	if (ctx == NULL || strcmp(ctx, "/") == 0)
		ctx = "";
	n = strlen(ctx);
	if (n > 0 && ctx[n - 1] == '/')
		n--;
	if (n >= sizeof(sim->context) || (n > 0 && ctx[0] != '/'))
		return -1;
	if (strspn(ctx, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-._~/") < n)
		return -1;
	memcpy(sim->context, ctx, n);
	sim->context[n] = '\0';
	if (strstr(sim->context, "//") != NULL ||
	    strncmp(sim->context, "/_sim", 5) == 0 ||
	    strncmp(sim->context, "/latest", 7) == 0)
		return -1;
	return 0;
}

/* Bitbucket's secrets: given, or the documented test ones; never empty. */
static int
bitbucket_accounts(struct sim_options *o)
{
	if (o->bb_user == NULL)
		o->bb_user = SIM_BB_USER;
	if (o->bb_password == NULL)
		o->bb_password = SIM_BB_PASSWORD;
	if (o->bb_token == NULL)
		o->bb_token = SIM_BB_TOKEN;
	if (o->bb_scoped_token == NULL)
		o->bb_scoped_token = SIM_BB_SCOPED_TOKEN;
	if (*o->bb_user == '\0' || strchr(o->bb_user, ':') != NULL ||
	    *o->bb_password == '\0' || *o->bb_token == '\0' ||
	    *o->bb_scoped_token == '\0' ||
	    strcmp(o->bb_token, o->bb_scoped_token) == 0)
		return -1;
	return 0;
}

int
sim_init(struct sim *sim, const struct sim_options *opt)
{
	const char	*region = opt->region != NULL ? opt->region : SIM_DEFAULT_REGION;

	memset(sim, 0, sizeof(*sim));
	sim->opt = *opt;
	if (!region_ok(region) || opt->lifetime < 0 || opt->lifetime > MAX_LIFETIME)
		return -1;
	if (context_set(sim, opt->context) == -1 ||
	    bitbucket_accounts(&sim->opt) == -1 ||
	    sim_clock_init(&sim->clock, opt->speed > 0 ? opt->speed : 1) == -1)
		return -1;
	snprintf(sim->region, sizeof(sim->region), "%s", region);
	sim->started = time(NULL);
	sim->rng = opt->seed ^ 0xbb67ae8584caa73bULL;
	sim->imds.rng = opt->seed ^ 0x3c6ef372fe94f82bULL;
	if (sim_creds_init(&sim->creds, opt->seed, opt->akid, opt->secret) == -1)
		return -1;
	if (opt->lifetime > 0)
		sim->creds.lifetime = opt->lifetime;
	sim->counters = json_pack("{s{} s{} s{} s{} s{} s{}}", "api_calls",
	    "throttled", "auth_failures", "regions", "imds", "faults");
	if (sim->counters == NULL || sim_sts_init() == -1) {
		json_decref(sim->counters);
		return -1;
	}
	return 0;
}

int64_t
sim_tick(struct sim *sim)
{
	sim->now = sim_clock_read(&sim->clock);
	if (sim->model != NULL)
		sim_model_advance(sim->model, sim->now);
	return sim->now;
}

void
sim_free(struct sim *sim)
{
	json_decref(sim->counters);
	memset(sim, 0, sizeof(*sim));
}

void
sim_next_reqid(struct sim *sim, char out[SIM_REQID_LEN + 1])
{
	sim_reqid(sim->opt.seed, ++sim->nreq, out);
}

/* Names a client made up (actions, regions) share one entry beyond MAX_KEYS. */
static const char *
bounded(json_t *o, const char *key)
{
	if (json_object_get(o, key) != NULL || json_object_size(o) < MAX_KEYS)
		return key;
	return "(other)";
}

/* counters[group][key] += 1, or counters[group][key][subkey] += 1. */
void
sim_count(struct sim *sim, const char *group, const char *key, const char *subkey)
{
	json_t	*o = json_object_get(sim->counters, group), *inner, *n;

	if (o == NULL || key == NULL)
		return;
	key = bounded(o, key);
	if (subkey != NULL) {
		if ((inner = json_object_get(o, key)) == NULL &&
		    json_object_set_new(o, key, inner = json_object()) == -1)
			return;
		o = inner;
		key = bounded(o, subkey);
	}
	n = json_object_get(o, key);
	json_object_set_new(o, key, json_integer(n != NULL ?
	    json_integer_value(n) + 1 : 1));
}

/* ---- the API ---- */

/* The request's JSON body, or NULL with a 400 answered. */
json_t *
sim_admin_body(const struct sim_req *req, struct sim_resp *resp)
{
	json_error_t	 e;
	json_t		*j;
	char		 msg[256];

	j = json_loadb(req->body != NULL ? req->body : "", req->bodylen,
	    JSON_REJECT_DUPLICATES, &e);
	if (j == NULL || !json_is_object(j)) {
		snprintf(msg, sizeof(msg), "a JSON object is expected: %s",
		    j == NULL ? e.text : "not an object");
		json_decref(j);
		sim_resp_json_error(resp, 400, msg);
		return NULL;
	}
	return j;
}

static void
health(struct sim *sim, struct sim_resp *resp)
{
	sim_resp_json(resp, 200, json_pack("{ss ss sI si}", "status", "ok",
	    "version", BB_VERSION, "uptime_s",
	    (json_int_t)(time(NULL) - sim->started), "port",
	    (int)sim_server_port()));
}

static void
counters(struct sim *sim, const struct sim_req *req, struct sim_resp *resp)
{
	const char	*group;
	json_t		*c;

	/* Request ids go on counting: a run never repeats one. */
	if (strcmp(req->method, "DELETE") == 0)
		json_object_foreach(sim->counters, group, c)
			json_object_clear(c);
	if ((c = json_deep_copy(sim->counters)) != NULL)
		json_object_set_new(c, "aws_requests", json_integer((json_int_t)sim->nreq));
	sim_resp_json(resp, 200, c);
}

static json_t *
faults_json(struct sim *sim)
{
	json_t	*j = sim_faults_json(&sim->faults);

	if (j != NULL && sim->model != NULL)
		json_object_set_new(j, "model", sim_admin_model_faults_json(sim));
	return j;
}

/*
 * POST {"rules": [...], "model": {...}}: either part or both; a part sent replaces
 * what it names, and nothing changes unless all of it is valid.
 */
static int
faults_set(struct sim *sim, json_t *j, char *err, size_t errlen)
{
	struct sim_fault_table	 table = sim->faults;
	json_t			*rules = json_object_get(j, "rules");
	json_t			*model = json_object_get(j, "model"), *only;
	int			 rc;

	if (json_object_size(j) != (size_t)(rules != NULL) + (model != NULL) ||
	    json_object_size(j) == 0) {
		snprintf(err, errlen, "expected {\"rules\": [...], \"model\": {...}}");
		return -1;
	}
	if (rules != NULL) {
		if ((only = json_pack("{sO}", "rules", rules)) == NULL)
			return snprintf(err, errlen, "out of memory"), -1;
		rc = sim_faults_set(&table, only, err, errlen);
		json_decref(only);
		if (rc == -1)
			return -1;
	}
	if (model != NULL && (sim->model == NULL ||
	    sim_admin_model_faults(sim, model, err, errlen) == -1)) {
		if (sim->model == NULL)
			snprintf(err, errlen, "no simulated world to inject into");
		return -1;
	}
	sim->faults = table;
	return 0;
}

static void
faults(struct sim *sim, const struct sim_req *req, struct sim_resp *resp)
{
	json_t	*j;
	char	 err[256];

	if (strcmp(req->method, "POST") == 0) {
		if ((j = sim_admin_body(req, resp)) == NULL)
			return;
		if (faults_set(sim, j, err, sizeof(err)) == -1) {
			json_decref(j);
			sim_resp_json_error(resp, 400, err);
			return;
		}
		json_decref(j);
		log_info("admin: %zu fault rule(s) set", sim->faults.n);
	}
	sim_resp_json(resp, 200, faults_json(sim));
}

/* POST {"name": "text" | null, ...}: each text must take the original's "%s". */
static void
errors(const struct sim_req *req, struct sim_resp *resp)
{
	const char	*name;
	json_t		*j, *v;
	char		 msg[256];

	if (strcmp(req->method, "POST") == 0) {
		if ((j = sim_admin_body(req, resp)) == NULL)
			return;
		json_object_foreach(j, name, v) {
			if ((!json_is_string(v) && !json_is_null(v)) ||
			    sim_error_override(name, json_string_value(v)) == -1) {
				snprintf(msg, sizeof(msg), "%s: no such error, or its "
				    "text does not take the same %%s arguments", name);
				json_decref(j);
				sim_resp_json_error(resp, 400, msg);
				return;
			}
		}
		json_decref(j);
	}
	sim_resp_json(resp, 200, sim_error_catalogue());
}

static json_t *
credentials_json(const struct sim *sim, time_t now)
{
	const struct sim_creds	*cs = &sim->creds;
	json_t			*a = json_array();
	size_t			 i;

	for (i = 0; a != NULL && i < cs->ntemp; i++)
		json_array_append_new(a, json_pack("{ss sI sb}", "access_key_id",
		    cs->temp[i].akid, "expires_in_s",
		    (json_int_t)(cs->temp[i].expires - now), "expired",
		    now >= cs->temp[i].expires));
	return json_pack("{ss si ss so*}", "access_key_id", cs->longterm.akid,
	    "lifetime_s", cs->lifetime, "role", SIM_ROLE_NAME, "temporary", a);
}

/* POST {"lifetime": seconds, "expire": true}: shorter lives, or an end right now. */
static void
credentials(struct sim *sim, const struct sim_req *req, struct sim_resp *resp)
{
	json_t		*j;
	json_error_t	 e;
	json_int_t	 lifetime = sim->creds.lifetime;
	int		 expire = 0;
	time_t		 now = time(NULL);

	if (strcmp(req->method, "POST") == 0) {
		if ((j = sim_admin_body(req, resp)) == NULL)
			return;
		if (json_unpack_ex(j, &e, 0, "{s?I s?b !}", "lifetime", &lifetime,
		    "expire", &expire) == -1 || lifetime < 1 ||
		    lifetime > MAX_LIFETIME) {
			json_decref(j);
			sim_resp_json_error(resp, 400, "expected {\"lifetime\": 1.."
			    "129600, \"expire\": true|false}");
			return;
		}
		json_decref(j);
		sim->creds.lifetime = (int)lifetime;
		if (expire)
			sim_creds_expire_all(&sim->creds, now);
	}
	sim_resp_json(resp, 200, credentials_json(sim, now));
}

static int
allowed(const struct sim_req *req, struct sim_resp *resp, const char *methods)
{
	char	 m[16];

	snprintf(m, sizeof(m), " %s,", req->method);
	if (strstr(methods, m) != NULL)
		return 1;
	sim_resp_json_error(resp, 405, "method not allowed");
	return 0;
}

void
sim_admin_handle(struct sim *sim, const struct sim_req *req, struct sim_resp *resp)
{
	const char	*p = req->path + strlen("/_sim/");

	if (strcmp(p, "health") == 0 && allowed(req, resp, " GET,"))
		health(sim, resp);
	else if (strcmp(p, "counters") == 0 && allowed(req, resp, " GET, DELETE,"))
		counters(sim, req, resp);
	else if (strcmp(p, "faults") == 0 && allowed(req, resp, " GET, POST,"))
		faults(sim, req, resp);
	else if (strcmp(p, "held") == 0 && allowed(req, resp, " GET,"))
		sim_resp_json(resp, 200, sim_server_held_json());
	else if (strcmp(p, "errors") == 0 && allowed(req, resp, " GET, POST,"))
		errors(req, resp);
	else if (strcmp(p, "credentials") == 0 && allowed(req, resp, " GET, POST,"))
		credentials(sim, req, resp);
	else if (strcmp(p, "state") == 0 && allowed(req, resp, " GET,"))
		sim_admin_state(sim, req, resp);
	else if (strcmp(p, "history") == 0 && allowed(req, resp, " GET,"))
		sim_admin_history(sim, req, resp);
	else if (strcmp(p, "report") == 0 && allowed(req, resp, " GET,"))
		sim_admin_report(sim, req, resp);
	else if (strcmp(p, "operator/terminate") == 0 && allowed(req, resp, " POST,"))
		sim_admin_terminate(sim, req, resp);
	else if (resp->status == 0)
		sim_resp_json_error(resp, 404, "no such admin endpoint");
}
