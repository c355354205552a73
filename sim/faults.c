/*
 * The fault rules (see faults.h): parsing and checking a table sent to /_sim/faults,
 * matching a request to its most specific rule, drawing whether it fires, and how a
 * front door without AWS envelopes (Bitbucket) strikes. The AWS front door (auth.c)
 * consults the same table for every authenticated, routed call; it never sees an
 * unauthenticated one. A rule must never be accepted that could not fire (a typo in
 * a name), nor send an error AWS or Bitbucket never sends for that call.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/log.h"
#include "common/sigv4.h"
#include "sim/auth.h"
#include "sim/faults.h"
#include "sim/server.h"
#include "sim/sim.h"
#include "sim/wire.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * The errors a rule may send and where each exists. service: the one AWS service
 * that sends it (NULL: any; Throttling becomes each protocol's own throttling).
 * bitbucket: Bitbucket's endpoints may send it. after: it may come once the
 * operation ran (a server failing with the work done); the others are refusals,
 * which AWS sends before it acts.
 */
static const struct {
	const char	*name;
	const char	*service;
	int		 bitbucket;
	int		 after;
} fault_errors[] = {
	[SIM_FAULT_THROTTLING] = { "Throttling", NULL, 0, 0 },
	[SIM_FAULT_REQUEST_LIMIT] = { "RequestLimitExceeded", "ec2", 0, 0 },
	[SIM_FAULT_CONTENTION] = { "ResourceContention", "autoscaling", 0, 0 },
	[SIM_FAULT_SCALING] = { "ScalingActivityInProgress", "autoscaling", 0, 0 },
	[SIM_FAULT_UNAVAILABLE] = { "ServiceUnavailable", NULL, 1, 1 },
	[SIM_FAULT_INTERNAL] = { "InternalFailure", NULL, 1, 1 },
};

static const char *const net_names[] = {
	[SIM_NET_NONE] = "none",
	[SIM_NET_NO_ANSWER] = "no_answer",
	[SIM_NET_RESET] = "reset",
};

/* Bitbucket's endpoints as rules name them (bitbucket_api.c's dispatch). */
static const char *const bitbucket_actions[] = {
	"state", "cluster", "nodes", "start", "cancel", "approve", "retryUpgrade",
	"status",
};

/* A rule's fields as sent, before they are checked against each other. */
struct rule_in {
	const char	*service, *action, *error, *network, *when;
	double		 rate;
	json_int_t	 latency, hold, count;
	int		 has_rate, has_hold, has_count;
};

static int
rule_fail(char *err, size_t errlen, const char *fmt, ...) FMT(3, 4);

static int
rule_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int
rule_unpack(const json_t *j, struct rule_in *in, char *err, size_t errlen)
{
	json_error_t	 je;

	memset(in, 0, sizeof(*in));
	in->service = in->action = "*";
	in->hold = SIM_HOLD_DEFAULT_MS;
	if (!json_is_object(j))
		return rule_fail(err, errlen, "a rule is a JSON object");
	if (json_unpack_ex((json_t *)j, &je, 0,
	    "{s?s s?s s?F s?I s?s s?s s?s s?I s?I !}", "service", &in->service,
	    "action", &in->action, "error_rate", &in->rate, "latency_ms",
	    &in->latency, "error", &in->error, "network", &in->network, "when",
	    &in->when, "hold_ms", &in->hold, "count", &in->count) == -1)
		return rule_fail(err, errlen, "%s", je.text);
	in->has_rate = json_object_get(j, "error_rate") != NULL;
	in->has_hold = json_object_get(j, "hold_ms") != NULL;
	in->has_count = json_object_get(j, "count") != NULL;
	return 0;
}

/* A typo in a name would make a rule that never fires: refuse it instead. */
static int
rule_names(const struct rule_in *in, char *err, size_t errlen)
{
	size_t	 i;

	if (strcmp(in->service, "*") != 0 && strcmp(in->service, "bitbucket") != 0 &&
	    (strlen(in->service) > SIGV4_SCOPE_MAX ||
	    sim_aws_service(in->service, NULL) == NULL))
		return rule_fail(err, errlen, "service \"%.40s\": \"*\", \"bitbucket\" "
		    "or an AWS service bbsim simulates (cloudformation, autoscaling, "
		    "ec2, monitoring, elasticloadbalancing, sts)", in->service);
	if (*in->action == '\0' ||
	    strlen(in->action) >= sizeof(((struct sim_fault_rule *)NULL)->action))
		return rule_fail(err, errlen, "action: a name of 1 to 63 bytes, or *");
	if (strcmp(in->action, "*") == 0 || strcmp(in->service, "*") == 0)
		return 0;
	if (strcmp(in->service, "bitbucket") != 0) {
		if (sim_aws_has_action(in->service, in->action))
			return 0;
		return rule_fail(err, errlen, "action \"%s\": %s has no such operation "
		    "in bbsim", in->action, in->service);
	}
	for (i = 0; i < NELEM(bitbucket_actions); i++)
		if (strcmp(in->action, bitbucket_actions[i]) == 0)
			return 0;
	return rule_fail(err, errlen, "action \"%s\": Bitbucket's are state, cluster, "
	    "nodes, start, cancel, approve, retryUpgrade and status", in->action);
}

/* Which fault, and when: the names parsed. */
static int
rule_kind(const struct rule_in *in, struct sim_fault_rule *r, char *err,
    size_t errlen)
{
	size_t	 i;

	if (in->error != NULL && in->network != NULL)
		return rule_fail(err, errlen, "error and network exclude each other");
	r->named = in->error != NULL || in->network != NULL;
	for (i = 0; in->error != NULL && i < NELEM(fault_errors); i++)
		if (strcmp(in->error, fault_errors[i].name) == 0)
			break;
	if (i == NELEM(fault_errors))
		return rule_fail(err, errlen, "error \"%.40s\": Throttling, "
		    "RequestLimitExceeded, ResourceContention, ScalingActivityInProgress, "
		    "ServiceUnavailable or InternalFailure", in->error);
	r->error = in->error != NULL ? (enum sim_fault_error)i : SIM_FAULT_THROTTLING;
	for (i = SIM_NET_NO_ANSWER; in->network != NULL && i < NELEM(net_names); i++)
		if (strcmp(in->network, net_names[i]) == 0)
			break;
	if (i == NELEM(net_names))
		return rule_fail(err, errlen, "network \"%.40s\": no_answer or reset",
		    in->network);
	r->network = in->network != NULL ? (enum sim_net)i : SIM_NET_NONE;
	if (in->when != NULL && strcmp(in->when, "before") != 0 &&
	    strcmp(in->when, "after") != 0)
		return rule_fail(err, errlen, "when: before or after");
	r->when = in->when != NULL && strcmp(in->when, "after") == 0 ?
	    SIM_FAULT_AFTER : SIM_FAULT_BEFORE;
	return 0;
}

/* The numbers; error_rate defaults to 1 once a fault is named, else 0 (latency). */
static int
rule_limits(const struct rule_in *in, struct sim_fault_rule *r, char *err,
    size_t errlen)
{
	if (in->has_rate && !(in->rate >= 0 && in->rate <= 1))
		return rule_fail(err, errlen, "error_rate must be in [0, 1]");
	if (in->latency < 0 || in->latency > SIM_MAX_DELAY_MS)
		return rule_fail(err, errlen, "latency_ms must be in [0, %d]",
		    SIM_MAX_DELAY_MS);
	if (in->has_hold && r->network != SIM_NET_NO_ANSWER)
		return rule_fail(err, errlen, "hold_ms goes with network no_answer");
	if (in->hold < 1 || in->hold > SIM_HOLD_MAX_MS)
		return rule_fail(err, errlen, "hold_ms must be in [1, %d]",
		    SIM_HOLD_MAX_MS);
	r->error_rate = in->has_rate ? in->rate : r->named ? 1 : 0;
	if (in->has_count && (in->count < 1 || in->count > SIM_FAULT_COUNT_MAX))
		return rule_fail(err, errlen, "count must be in [1, %d]",
		    SIM_FAULT_COUNT_MAX);
	if (in->has_count && r->error_rate <= 0)
		return rule_fail(err, errlen, "count limits a fault: name an error or "
		    "a network fault, or give error_rate > 0");
	r->latency_ms = (unsigned)in->latency;
	r->hold_ms = (unsigned)in->hold;
	r->count = r->remaining = in->has_count ? (long)in->count : -1;
	return 0;
}

/* Refuses what AWS or Bitbucket never send; a network fault can hit anything. */
static int
rule_fits(const struct rule_in *in, const struct sim_fault_rule *r, char *err,
    size_t errlen)
{
	const char	*name = fault_errors[r->error].name;
	const char	*only = fault_errors[r->error].service;

	if (r->network != SIM_NET_NONE || r->error_rate <= 0)
		return 0;
	if (strcmp(in->service, "bitbucket") == 0) {
		if (fault_errors[r->error].bitbucket)
			return 0;
		return rule_fail(err, errlen, "bitbucket: error must be "
		    "ServiceUnavailable or InternalFailure, or use a network fault");
	}
	if (only != NULL && strcmp(in->service, only) != 0)
		return rule_fail(err, errlen, "%s is %s's alone: service must be \"%s\"",
		    name, only, only);
	if (r->error == SIM_FAULT_SCALING && strncmp(in->action, "Describe", 8) == 0)
		return rule_fail(err, errlen, "%s answers mutating calls, not %s", name,
		    in->action);
	if (r->when == SIM_FAULT_AFTER && !fault_errors[r->error].after)
		return rule_fail(err, errlen, "%s refuses a call before it acts: when "
		    "must be before (ServiceUnavailable, InternalFailure and network "
		    "faults may come after)", name);
	return 0;
}

static int
fault_parse(const json_t *j, struct sim_fault_rule *out, char *err, size_t errlen)
{
	struct rule_in	 in;

	memset(out, 0, sizeof(*out));
	if (rule_unpack(j, &in, err, errlen) == -1 ||
	    rule_names(&in, err, errlen) == -1 ||
	    rule_kind(&in, out, err, errlen) == -1 ||
	    rule_limits(&in, out, err, errlen) == -1 ||
	    rule_fits(&in, out, err, errlen) == -1)
		return -1;
	snprintf(out->service, sizeof(out->service), "%s", in.service);
	snprintf(out->action, sizeof(out->action), "%s", in.action);
	return 0;
}

int
sim_faults_set(struct sim_fault_table *fs, const json_t *j, char *err, size_t errlen)
{
	struct sim_fault_table	 n;
	const json_t		*rules = json_object_get(j, "rules");
	char			 why[200];
	size_t			 i;

	memset(&n, 0, sizeof(n));
	if (!json_is_object(j) || json_object_size(j) != 1 || !json_is_array(rules)) {
		snprintf(err, errlen, "expected {\"rules\": [...]}");
		return -1;
	}
	if (json_array_size(rules) > SIM_MAX_FAULTS) {
		snprintf(err, errlen, "at most %d rules", SIM_MAX_FAULTS);
		return -1;
	}
	for (i = 0; i < json_array_size(rules); i++)
		if (fault_parse(json_array_get(rules, i), &n.f[n.n++], why,
		    sizeof(why)) == -1) {
			snprintf(err, errlen, "rules[%zu]: %s", i, why);
			return -1;
		}
	*fs = n;
	return 0;
}

static json_t *
rule_json(const struct sim_fault_rule *r)
{
	json_t	*o;
	int	 rc = 0;

	o = json_pack("{ss ss sf si sI}", "service", r->service, "action", r->action,
	    "error_rate", r->error_rate, "latency_ms", (int)r->latency_ms, "fired",
	    (json_int_t)r->fired);
	if (o == NULL)
		return NULL;
	if (r->network != SIM_NET_NONE)
		rc |= json_object_set_new(o, "network",
		    json_string(net_names[r->network]));
	else if (r->named || r->error_rate > 0)
		rc |= json_object_set_new(o, "error",
		    json_string(fault_errors[r->error].name));
	if (r->network == SIM_NET_NO_ANSWER)
		rc |= json_object_set_new(o, "hold_ms", json_integer(r->hold_ms));
	if (r->network != SIM_NET_NONE || r->named || r->error_rate > 0)
		rc |= json_object_set_new(o, "when", json_string(
		    r->when == SIM_FAULT_AFTER ? "after" : "before"));
	if (r->count >= 0) {
		rc |= json_object_set_new(o, "count", json_integer(r->count));
		rc |= json_object_set_new(o, "remaining", json_integer(r->remaining));
	}
	if (rc != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

json_t *
sim_faults_json(const struct sim_fault_table *fs)
{
	json_t	*a = json_array(), *o;
	size_t	 i;

	for (i = 0; a != NULL && i < fs->n; i++) {
		if ((o = rule_json(&fs->f[i])) == NULL ||
		    json_array_append_new(a, o) == -1) {
			json_decref(a);
			return NULL;
		}
	}
	return a != NULL ? json_pack("{so}", "rules", a) : NULL;
}

/*
 * The most specific live rule, or -1. "*" as a service stands for the AWS ones
 * only: a rule must name "bitbucket" to reach Bitbucket, so the throttling rules
 * of before never hit it.
 */
static int
match_index(const struct sim_fault_table *fs, const char *service, const char *action)
{
	int	 best = -1, score, top = -1, s_exact, a_exact;
	size_t	 i;

	for (i = 0; i < fs->n && i < SIM_MAX_FAULTS; i++) {
		const struct sim_fault_rule	*r = &fs->f[i];

		s_exact = strcmp(r->service, service) == 0;
		a_exact = strcmp(r->action, action) == 0;
		if (r->remaining == 0 ||
		    (!s_exact && (strcmp(r->service, "*") != 0 ||
		    strcmp(service, "bitbucket") == 0)) ||
		    (!a_exact && strcmp(r->action, "*") != 0))
			continue;
		if ((score = 2 * s_exact + a_exact) > top) {
			top = score;
			best = (int)i;
		}
	}
	return best;
}

const struct sim_fault_rule *
sim_faults_match(const struct sim_fault_table *fs, const char *service,
    const char *action)
{
	int	 i = match_index(fs, service, action);

	return i >= 0 ? &fs->f[i] : NULL;
}

void
sim_faults_draw(struct sim *sim, const char *service, const char *action,
    struct sim_resp *resp, struct sim_fault_hit *hit)
{
	struct sim_fault_rule	*r;
	char			 key[160];
	int			 i;

	memset(hit, 0, sizeof(*hit));
	if ((i = match_index(&sim->faults, service, action)) == -1)
		return;
	r = &sim->faults.f[i];
	resp->delay_ms = r->latency_ms;
	/* No draw unless it may fire, so the seed gives the runs of before. */
	if (r->error_rate <= 0 || sim_rand_unit(&sim->rng) >= r->error_rate)
		return;
	if (r->remaining > 0)
		r->remaining--;
	r->fired++;
	hit->fire = 1;
	hit->error = r->error;
	hit->network = r->network;
	hit->when = r->when;
	hit->hold_ms = r->hold_ms;
	snprintf(key, sizeof(key), "%s/%s/%s", service, action,
	    r->network != SIM_NET_NONE ? net_names[r->network] :
	    fault_errors[r->error].name);
	sim_count(sim, "faults", key, NULL);
}

void
sim_faults_network(const struct sim_fault_hit *hit, struct sim_resp *resp,
    const char *service, const char *action, int applied)
{
	struct sim_resp_fault	*f = &resp->fault;

	BB_ASSERT(hit->network == SIM_NET_NO_ANSWER || hit->network == SIM_NET_RESET);
	f->net = hit->network;
	f->hold_ms = hit->hold_ms;
	f->applied = applied;
	f->status = resp->status;
	snprintf(f->service, sizeof(f->service), "%s", service);
	snprintf(f->action, sizeof(f->action), "%s", action);
	log_info("fault: %s %s: %s, %s", service, action, net_names[hit->network],
	    applied ? "after the operation ran" : "the operation did not run");
}

void
sim_faults_strike_http(const struct sim_fault_hit *hit, struct sim_resp *resp,
    const char *service, const char *action, int applied)
{
	if (hit->network != SIM_NET_NONE)
		sim_faults_network(hit, resp, service, action, applied);
	else if (hit->error == SIM_FAULT_UNAVAILABLE)
		sim_resp_text(resp, 503, NULL, "");	/* as the ELB's own 503 */
	else
		sim_resp_json(resp, 500, json_pack("{s[{sn ss sn}]}", "errors",
		    "context", "message", "bbsim: injected internal failure",
		    "exceptionName"));
}
