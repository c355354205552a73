/*
 * GET /_sim/state and GET /_sim/history: the simulated world as it is now, and
 * every state change so far, for tests and for people watching a rehearsal. The
 * state shows the truth, not what AWS's eventually consistent reads would show
 * (those lag behind it). NoEcho parameters stay "****" here too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/model.h"
#include "sim/server.h"
#include "sim/sim.h"
#include "sim/wire.h"

#define HISTORY_MAX	(16 * 1024 * 1024)	/* bytes of one answer: page with since */

static json_t *
stack_json(const struct sim_stack *st)
{
	json_t	*params = json_object();
	size_t	 i;

	for (i = 0; params != NULL && i < st->nparams; i++)
		json_object_set_new(params, st->params[i].key, json_string(
		    st->params[i].no_echo ? "****" : st->params[i].value));
	return json_pack("{ss ss ss ss sb so so}", "name", st->name, "id", st->id,
	    "status", sim_stack_status_name(st->status), "reason", st->reason,
	    "operation_in_progress", st->op != NULL, "parameters", params,
	    "nested", st->child != NULL ? stack_json(st->child) : json_null());
}

static json_t *
processes_json(unsigned suspended)
{
	json_t	*a = json_array();
	int	 i;

	for (i = 0; a != NULL && i < SIM_NPROC; i++)
		if (suspended & (1u << i))
			json_array_append_new(a, json_string(sim_process_name(i)));
	return a;
}

/* The CPU alarms' states (evaluated up to now by the caller) and the load. */
static json_t *
alarms_json(const struct sim_model *m)
{
	json_t	*j = json_object();

	for (int i = 0; j != NULL && i < SIM_NALARMS; i++)
		json_object_set_new(j, sim_alarm_defs[i].logical, json_string(
		    sim_alarm_state_name(m->alarms.a[i].state)));
	if (j != NULL)
		json_object_set_new(j, "cpu_load", json_real(sim_cpu_load(m, m->now)));
	return j;
}

static json_t *
asg_json(const struct sim_model *m)
{
	const struct sim_asg	*g = &m->asg;
	int			 n[SIM_LC_STANDBY + 1] = { 0 };
	size_t			 i, busy = 0;

	for (i = 0; i < m->ninst; i++)
		if (m->inst[i]->member && m->inst[i]->life <= SIM_LC_STANDBY)
			n[m->inst[i]->life]++;
	for (i = 0; i < g->nact; i++)
		busy += g->act[i]->end == SIM_NEVER;
	return json_pack("{ss ss ss si si si s{si si si si} so si sb so}", "name",
	    g->name, "launch_configuration", g->lc_name, "launch_version",
	    g->lc_version, "min", g->min, "max", g->max, "desired", g->desired,
	    "counts", "Pending", n[SIM_LC_PENDING], "InService", n[SIM_LC_IN_SERVICE],
	    "Terminating", n[SIM_LC_TERMINATING], "Standby", n[SIM_LC_STANDBY],
	    "suspended", processes_json(g->suspended), "activities_in_progress",
	    (int)busy, "new_instances_protected", g->new_protected, "alarms",
	    alarms_json(m));
}

static json_t *
elb_member_json(const struct sim_model *m, const struct sim_instance *in)
{
	struct sim_elb_health	 h;

	sim_elb_health(m, in, &h);
	return json_pack("{sb sb ss ss}", "registered", in->elb.registered,
	    "draining", in->elb.draining, "state", h.state, "description",
	    h.description);
}

static json_t *
instance_json(const struct sim_model *m, const struct sim_instance *in)
{
	char	 launched[40];

	sim_time_format(m, in->launch_time, 0, launched, sizeof(launched));
	return json_pack("{ss ss ss ss sb sb ss* ss sb sb ss* ss* si so}",
	    "id", in->id, "ip", in->ip, "launched", launched,
	    "ec2", sim_ec2_state_name(in->state),
	    "member", in->member, "file_server", in->file_server,
	    "lifecycle", in->member ? sim_lifecycle_name(in->life) : NULL,
	    "health", in->unhealthy ? "Unhealthy" : "Healthy",
	    "protected", in->prot, "termination_requested", in->term_requested,
	    "node", sim_node_state_name(in->node.state),
	    "version", in->node.state != SIM_NODE_NONE ? in->node.version : NULL,
	    "inflight", in->inflight, "elb", elb_member_json(m, in));
}

static json_t *
instances_json(const struct sim_model *m)
{
	json_t	*a = json_array();
	size_t	 i;

	for (i = 0; a != NULL && i < m->ninst; i++)
		json_array_append_new(a, instance_json(m, m->inst[i]));
	return a;
}

static json_t *
elb_json(const struct sim_model *m)
{
	size_t	 i;
	int	 registered = 0, in_service = 0, draining = 0;

	for (i = 0; i < m->ninst; i++) {
		registered += m->inst[i]->elb.registered;
		draining += m->inst[i]->elb.draining;
		in_service += m->inst[i]->elb.registered && !m->inst[i]->elb.draining &&
		    m->inst[i]->elb.in_service;
	}
	return json_pack("{ss ss si si si}", "name", m->elb.name, "dns", m->elb.dns,
	    "registered", registered, "in_service", in_service, "draining", draining);
}

void
sim_admin_state(struct sim *sim, const struct sim_req *req, struct sim_resp *resp)
{
	const struct sim_model	*m = sim->model;
	char			 now[40];

	(void)req;
	if (m == NULL) {
		sim_resp_json_error(resp, 503, "no simulated world");
		return;
	}
	sim_alarms_update(sim->model, sim->now);
	sim_time_format(m, sim->now, 1, now, sizeof(now));
	sim_resp_json(resp, 200, json_pack("{sI ss sf sI so so so so so so sI}",
	    "time_ms", (json_int_t)sim->now, "time", now, "speed", sim->clock.speed,
	    "seed", (json_int_t)m->p.seed,
	    "stack", stack_json(m->stack[0]), "asg", asg_json(m),
	    "instances", instances_json(m), "elb", elb_json(m),
	    "zdu", sim_bitbucket_cluster_json(sim, NULL),
	    "traffic", sim_admin_traffic_json(m),
	    "history_records", (json_int_t)m->hist.n));
}

json_t *
sim_admin_record_json(const struct sim_model *m, size_t i)
{
	const struct sim_record	*r = &m->hist.rec[i];

	return json_pack("{sI sI ss ss ss ss sI ss}", "i", (json_int_t)i,
	    "t", (json_int_t)r->t, "kind", sim_rec_kind_name(r->kind), "obj", r->obj,
	    "a", r->a, "b", r->b, "n", (json_int_t)r->n, "detail", r->detail);
}

/* ?since=N: records from index N on. 0, or -1 if the query is not that. */
static int
since(const struct sim_req *req, size_t *from)
{
	char	*end;

	*from = 0;
	if (req->query == NULL || *req->query == '\0')
		return 0;
	if (strncmp(req->query, "since=", 6) != 0 || req->query[6] < '0' ||
	    req->query[6] > '9')
		return -1;
	*from = (size_t)strtoull(req->query + 6, &end, 10);
	return *end == '\0' ? 0 : -1;
}

/* JSON lines, one record each, oldest first. */
void
sim_admin_history(struct sim *sim, const struct sim_req *req, struct sim_resp *resp)
{
	const struct sim_model	*m = sim->model;
	struct sim_buf		 b;
	json_t			*j;
	char			*line, next[24];
	size_t			 i;

	if (m == NULL) {
		sim_resp_json_error(resp, 503, "no simulated world");
		return;
	}
	if (since(req, &i) == -1) {
		sim_resp_json_error(resp, 400, "the query may only be since=N");
		return;
	}
	memset(&b, 0, sizeof(b));
	for (; i < m->hist.n && b.len < HISTORY_MAX; i++) {
		j = sim_admin_record_json(m, i);
		if (j == NULL || (line = json_dumps(j, JSON_COMPACT)) == NULL) {
			json_decref(j);
			b.err = 1;
			break;
		}
		json_decref(j);
		sim_buf_puts(&b, line);
		sim_buf_puts(&b, "\n");
		free(line);
	}
	if (b.err) {
		sim_buf_free(&b);
		return;		/* the router answers 500 */
	}
	snprintf(next, sizeof(next), "%zu", i);
	if (sim_resp_take(resp, 200, "application/x-ndjson", b.s != NULL ? b.s :
	    strdup(""), b.len) == 0)
		sim_resp_header(resp, "X-Next-Since", next);
}
