/*
 * The simulator's own control surface, under /_sim/ on the same loopback port: health,
 * counters, the fault table, the error texts, the credentials' lifetime, and the state
 * of the simulated world (a placeholder until the model lands). Also the context's
 * life cycle and the counters it keeps. No authentication: bbsim listens on 127.0.0.1
 * only and holds nothing but test credentials; no secret is ever shown here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "sim/auth.h"
#include "sim/server.h"
#include "sim/sim.h"
#include "sim/wire.h"

#ifndef BB_VERSION
#define BB_VERSION	"0"
#endif

#define MAX_LIFETIME	(36 * 3600)
#define MAX_KEYS	256	/* per counter object: clients choose the names */

/* ---- placeholders the model replaces ---- */

static void
bitbucket_pending(struct sim *sim, const struct sim_req *req, struct sim_resp *resp)
{
	(void)sim;
	(void)req;
	/* Bitbucket's own error shape. */
	sim_resp_json(resp, 501, json_pack("{s[{sn ss+ sn}]}", "errors", "context",
	    "message", "bbsim: the Bitbucket endpoints (/rest/zdu, /status) ",
	    "arrive with the simulation model", "exceptionName"));
}

static void
state_placeholder(struct sim *sim, const struct sim_req *req, struct sim_resp *resp)
{
	(void)req;
	sim_resp_json(resp, 200, json_pack("{sb ss sn s{sI sb ss* ss}}",
	    "placeholder", 1,
	    "note", "no simulated world yet: the stack, the Auto Scaling group, the "
	    "load balancer and the Bitbucket cluster arrive with the model",
	    "model",
	    "options", "seed", (json_int_t)sim->opt.seed, "realistic",
	    sim->opt.realistic, "scenario", sim->opt.scenario, "region",
	    sim->region));
}

/* ---- the context ---- */

static int
region_ok(const char *r)
{
	size_t	 n = strlen(r);

	if (n == 0 || n > SIGV4_SCOPE_MAX)
		return 0;
	return strspn(r, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

int
sim_init(struct sim *sim, const struct sim_options *opt)
{
	const char	*region = opt->region != NULL ? opt->region : SIM_DEFAULT_REGION;

	memset(sim, 0, sizeof(*sim));
	sim->opt = *opt;
	if (!region_ok(region) || opt->lifetime < 0 || opt->lifetime > MAX_LIFETIME)
		return -1;
	snprintf(sim->region, sizeof(sim->region), "%s", region);
	sim->started = time(NULL);
	sim->rng = opt->seed ^ 0xbb67ae8584caa73bULL;
	sim->imds.rng = opt->seed ^ 0x3c6ef372fe94f82bULL;
	if (sim_creds_init(&sim->creds, opt->seed, opt->akid, opt->secret) == -1)
		return -1;
	if (opt->lifetime > 0)
		sim->creds.lifetime = opt->lifetime;
	sim->counters = json_pack("{s{} s{} s{} s{} s{}}", "api_calls", "throttled",
	    "auth_failures", "regions", "imds");
	if (sim->counters == NULL || sim_sts_init() == -1) {
		json_decref(sim->counters);
		return -1;
	}
	sim->bitbucket = bitbucket_pending;
	sim->state = state_placeholder;
	return 0;
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
static json_t *
body_json(const struct sim_req *req, struct sim_resp *resp)
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

static void
faults(struct sim *sim, const struct sim_req *req, struct sim_resp *resp)
{
	json_t	*j;
	char	 err[256];

	if (strcmp(req->method, "POST") == 0) {
		if ((j = body_json(req, resp)) == NULL)
			return;
		if (sim_faults_set(&sim->faults, j, err, sizeof(err)) == -1) {
			json_decref(j);
			sim_resp_json_error(resp, 400, err);
			return;
		}
		json_decref(j);
		log_info("admin: %zu fault rule(s) set", sim->faults.n);
	}
	sim_resp_json(resp, 200, sim_faults_json(&sim->faults));
}

/* POST {"name": "text" | null, ...}: each text must take the original's "%s". */
static void
errors(const struct sim_req *req, struct sim_resp *resp)
{
	const char	*name;
	json_t		*j, *v;
	char		 msg[256];

	if (strcmp(req->method, "POST") == 0) {
		if ((j = body_json(req, resp)) == NULL)
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
		if ((j = body_json(req, resp)) == NULL)
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
	else if (strcmp(p, "errors") == 0 && allowed(req, resp, " GET, POST,"))
		errors(req, resp);
	else if (strcmp(p, "credentials") == 0 && allowed(req, resp, " GET, POST,"))
		credentials(sim, req, resp);
	else if (strcmp(p, "state") == 0 && allowed(req, resp, " GET,"))
		sim->state(sim, req, resp);
	else if (resp->status == 0)
		sim_resp_json_error(resp, 404, "no such admin endpoint");
}
