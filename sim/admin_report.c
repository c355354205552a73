/*
 * GET /_sim/report: how a run went, judged by the model from its history alone
 * (sim_report): each invariant I1-I7 with its first violation, the user requests
 * served and failed, the API calls made, the instances launched and terminated,
 * and the critical-path lower bound of the upgrade, to which the upgrade's duration
 * is compared once it has completed. Durations are virtual milliseconds.
 *
 * The upgrade "settles" at the last change of the world after it started (requests,
 * calls and network blips aside): for the seed's procedure that is after the
 * scale-down that follows the approve, so that every way of upgrading is timed to
 * the same end state.
 */
#include <stdio.h>
#include <string.h>

#include "sim/model.h"
#include "sim/server.h"
#include "sim/sim.h"

static const char *
service_name(enum sim_service s)
{
	static const char *const names[] = {
		"cloudformation", "autoscaling", "ec2", "elasticloadbalancing",
		"monitoring", "sts", "bitbucket",
	};

	return (size_t)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

json_t *
sim_admin_traffic_json(const struct sim_model *m)
{
	const struct sim_traffic_stats	*t = &m->traffic;
	json_t				*failed = json_object();
	uint64_t			 total = 0;
	int				 i;

	for (i = 0; failed != NULL && i < SIM_NFAIL; i++) {
		json_object_set_new(failed, sim_fail_reason_name(i),
		    json_integer((json_int_t)t->failed[i]));
		total += t->failed[i];
	}
	return json_pack("{sI sI sI so sI sI}", "started", (json_int_t)t->started,
	    "served", (json_int_t)t->served, "failed", (json_int_t)total,
	    "failed_by_reason", failed, "failed_short", (json_int_t)t->failed_short,
	    "inflight", (json_int_t)t->inflight);
}

static json_t *
invariant_json(const struct sim_model *m, const struct sim_inv *v)
{
	return json_pack("{ss sb sb sI ss? so}", "id", v->id, "ok", v->ok,
	    "judged", v->judged, "violations", (json_int_t)v->violations,
	    "why", v->ok ? NULL : v->why, "first_event", v->first >= 0 ?
	    sim_admin_record_json(m, (size_t)v->first) : json_null());
}

static json_t *
calls_json(const struct sim_model *m)
{
	const struct sim_call_count	*c;
	json_t				*a = json_array();
	size_t				 n, i;
	json_int_t			 calls = 0, throttled = 0;

	c = sim_api_counts(m, &n);
	for (i = 0; a != NULL && i < n; i++) {
		json_array_append_new(a, json_pack("{ss ss sI sI}", "service",
		    service_name(c[i].svc), "action", c[i].action, "calls",
		    (json_int_t)c[i].calls, "throttled", (json_int_t)c[i].throttled));
		calls += (json_int_t)c[i].calls;
		throttled += (json_int_t)c[i].throttled;
	}
	return json_pack("{sI sI so}", "total", calls, "throttled", throttled,
	    "by_action", a);
}

static json_t *
cpath_json(const struct sim_cpath *c, int n, int k)
{
	return json_pack("{si si sI sI sI sI si sI sI sI sI}", "nodes", n, "surge", k,
	    "stack_change_ms", (json_int_t)c->stack_change, "boot_ms",
	    (json_int_t)c->boot, "surge_ms", (json_int_t)c->surge, "replace_ms",
	    (json_int_t)c->replace, "rounds", c->rounds, "drain_ms",
	    (json_int_t)c->drain, "retire_ms", (json_int_t)c->retire, "finalize_ms",
	    (json_int_t)c->finalize, "total_ms", (json_int_t)c->total);
}

/* What the history says since t: member launches, terminations, the last change. */
struct since {
	int		 launched;
	int		 terminated;
	int64_t		 settled;
	const char	*ended;		/* "approve", "cancel" or NULL */
};

static void
scan(const struct sim_model *m, int64_t t, struct since *s)
{
	const struct sim_record	*r;
	size_t			 i;

	memset(s, 0, sizeof(*s));
	s->settled = t;
	for (i = 0; i < m->hist.n; i++) {
		r = &m->hist.rec[i];
		if (r->t < t || r->kind == SIM_REC_REQUEST || r->kind == SIM_REC_CALL ||
		    (r->kind == SIM_REC_NODE && strcmp(r->a, "unreachable") == 0))
			continue;
		s->settled = r->t;
		if (r->kind == SIM_REC_EC2 && (r->n & 1) && strcmp(r->a, "pending") == 0)
			s->launched++;
		if (r->kind == SIM_REC_EC2 && (r->n & 1) &&
		    strcmp(r->a, "shutting-down") == 0)
			s->terminated++;
		if (r->kind == SIM_REC_ZDU && (strcmp(r->a, "approve") == 0 ||
		    strcmp(r->a, "cancel") == 0))
			s->ended = strcmp(r->a, "approve") == 0 ? "approve" : "cancel";
	}
}

/* Over once ZDU is STABLE again after approve or cancel and no stack update runs. */
static json_t *
upgrade_json(struct sim *sim, const struct sim_report *rep, const struct sim_cpath *c)
{
	const struct sim_model	*m = sim->model;
	struct since		 s;
	int			 done;
	int64_t			 wall;

	if (rep->upgrade_start < 0)
		return json_null();
	scan(m, rep->upgrade_start, &s);
	done = rep->upgrade_end >= 0 && s.ended != NULL &&
	    sim_zdu_state(m) == SIM_ZDU_STABLE && m->stack[0]->op == NULL;
	wall = (done ? s.settled : sim->now) - rep->upgrade_start;
	return json_pack("{sb ss? ss ss? si sI sI so? so? so? s{si si si} s{si si sI sI}}",
	    "completed", done, "outcome", s.ended, "from", rep->from,
	    "to", rep->to[0] != '\0' ? rep->to : NULL, "original_nodes",
	    rep->original_n, "started_ms", (json_int_t)rep->upgrade_start,
	    "wall_ms", (json_int_t)wall,
	    "ended_ms", rep->upgrade_end >= 0 ? json_integer(rep->upgrade_end) : NULL,
	    "settled_ms", done ? json_integer(s.settled) : NULL,
	    /* The bound is the forward upgrade's: a cancel or rollback has none. */
	    "ratio_to_bound", done && c->total > 0 && strcmp(s.ended, "approve") == 0 ?
	    json_real((double)wall / (double)c->total) : NULL,
	    "instances", "launched", s.launched, "terminated", s.terminated,
	    "minimum", rep->original_n,
	    "drains", "clean", rep->drains_clean, "forced", rep->drains_forced,
	    "ms", (json_int_t)rep->drain_ms,
	    "requests_cut_long", (json_int_t)rep->requests_cut_long);
}

json_t *
sim_admin_report_json(struct sim *sim)
{
	struct sim_model	*m = sim->model;
	struct sim_report	 rep;
	struct sim_cpath	 c;
	json_t			*inv = json_array();
	int			 i, n, k;

	sim_report(m, sim->now, &rep);
	for (i = 0; inv != NULL && i < 7; i++)
		json_array_append_new(inv, invariant_json(m, &rep.inv[i]));
	n = rep.upgrade_start >= 0 && rep.original_n > 0 ? rep.original_n : m->p.nodes;
	k = rep.surge;		/* the upgrade's own, once its scale-out shows it */
	sim_critical_path(&m->p, n, k, &c);
	return json_pack("{sI sb so so so so so sI}", "time_ms", (json_int_t)sim->now,
	    "ok", rep.ok, "invariants", inv, "upgrade", upgrade_json(sim, &rep, &c),
	    "critical_path", cpath_json(&c, n, k), "requests",
	    sim_admin_traffic_json(m), "api_calls", calls_json(m), "history_records",
	    (json_int_t)m->hist.n);
}

void
sim_admin_report(struct sim *sim, const struct sim_req *req, struct sim_resp *resp)
{
	(void)req;
	if (sim->model == NULL) {
		sim_resp_json_error(resp, 503, "no simulated world");
		return;
	}
	sim_resp_json(resp, 200, sim_admin_report_json(sim));
}
