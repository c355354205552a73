/*
 * What Status and Plan answer: the upgrade as persisted plus the last observation
 * (the nodes table: each node's instance, address, version, role, step, load
 * balancer and Bitbucket state, CPU), and the plan of an upgrade not yet started.
 * Unknown stays null: a node the last observation did not see has no ELB state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/engine/shell.h"

static const char *
elb_name(enum engine_elb e)
{
	static const char *const t[] = { "unknown", "in_service", "draining", "unhealthy",
	    "not_registered" };

	return t[e];
}

static json_t *
iso(int64_t ms)
{
	char buf[32];
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms <= 0)
		return json_null();
	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

static json_t *
opt_str(const char *s)
{
	return s != NULL && s[0] != '\0' ? json_string(s) : json_null();
}

static const struct engine_obs_instance *
inst(const struct engine_obs *o, const char *id)
{
	if (o == NULL || !(o->have & ENGINE_OBS_ASG))
		return NULL;
	for (size_t i = 0; i < o->asg.ninst; i++)
		if (strcmp(o->asg.inst[i].id, id) == 0)
			return &o->asg.inst[i];
	return NULL;
}

static const struct engine_obs_znode *
znode(const struct engine_obs *o, const char *ip)
{
	if (o == NULL || !(o->have & ENGINE_OBS_ZDU) || ip == NULL || ip[0] == '\0')
		return NULL;
	for (size_t i = 0; i < o->zdu.nnodes; i++)
		if (o->zdu.nodes[i].state != ZDU_NODE_OFFLINE &&
		    strcmp(o->zdu.nodes[i].ip, ip) == 0)
			return &o->zdu.nodes[i];
	return NULL;
}

/* One row of the nodes table, from what was recorded and what was last seen. */
static json_t *
node_row(const char *id, const char *ip, const char *version, const char *role,
    const char *step, const char *purpose, const struct engine_obs *o)
{
	const struct engine_obs_instance *in = inst(o, id);
	const struct engine_obs_znode *z;

	if (in != NULL && in->ip[0] != '\0')
		ip = in->ip;
	z = znode(o, ip);
	if ((version == NULL || version[0] == '\0') && z != NULL)
		version = z->version;
	return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
	    "instance", id, "ip", opt_str(ip), "version", opt_str(version),
	    "role", opt_str(role), "step", opt_str(step), "purpose", opt_str(purpose),
	    "elb", in != NULL && (o->have & ENGINE_OBS_ELB) ?
	    json_string(elb_name(in->elb)) : json_null(),
	    "bitbucket", z != NULL ? json_string(zdu_node_state_name(z->state)) :
	    json_null(),
	    "cpu", in != NULL && in->has_cpu ? json_real(in->cpu) : json_null());
}

static json_t *
nodes_table(const struct engine_upgrade *u, const struct engine_obs *o)
{
	json_t *a = json_array();

	for (size_t i = 0; i < u->nnodes; i++) {
		const struct engine_node *n = &u->nodes[i];

		json_array_append_new(a, node_row(n->id, n->ip, n->role ==
		    ENGINE_ROLE_ORIGINAL ? n->version : "", engine_role_name(n->role),
		    engine_step_name(n->step), engine_purpose_name(n->purpose), o));
	}
	/* Before the record: the group as last seen. */
	for (size_t i = 0; u->nnodes == 0 && o != NULL && (o->have & ENGINE_OBS_ASG) &&
	    i < o->asg.ninst; i++)
		json_array_append_new(a, node_row(o->asg.inst[i].id, o->asg.inst[i].ip, "",
		    NULL, NULL, NULL, o));
	return a;
}

static int
to_replace(const struct engine_upgrade *u)
{
	if (u->n == 0)
		return 0;
	return u->literal_order ? u->n : u->n - u->surge;
}

json_t *
engine_status_json(const struct engine_upgrade *u, const struct engine_obs *o,
    int64_t created_at, int64_t finished_at, const struct shell_run *r)
{
	int64_t end = finished_at > 0 ? finished_at : engine_wall_ms();
	bool waiting = r != NULL && r->wait != ENGINE_WAIT_NONE &&
	    u->state == ENGINE_STATE_RUNNING;
	json_t *wait = json_null(), *halt = json_null();

	if (waiting)
		wait = json_pack("{s:s, s:s, s:o}", "kind", engine_wait_name(r->wait),
		    "marker", r->wait_marker, "deadline_s", r->budget.ms >= 0 &&
		    strcmp(r->budget.marker, r->wait_marker) == 0 ?
		    json_integer(r->budget.ms / 1000) : json_null());
	if (u->state == ENGINE_STATE_HALTED)
		halt = json_pack("{s:s, s:s}", "code", engine_halt_name(u->halt), "reason",
		    u->reason);
	return json_pack("{s:I, s:s, s:o, s:s, s:s, s:s, s:s, s:o, s:o, s:I,"
	    " s:{s:i, s:i, s:i, s:i, s:i, s:i, s:i}, s:o, s:o, s:b, s:o, s:o, s:o}",
	    "id", (json_int_t)u->id, "deployment", u->deployment,
	    "from", opt_str(u->from), "to", u->to,
	    "state", engine_state_name(u->state), "phase", engine_phase_name(u->phase),
	    "mode", engine_mode_name(u->mode),
	    "started", iso(created_at), "finished", iso(finished_at),
	    "elapsed_s", (json_int_t)((end - created_at) / 1000),
	    "progress", "replaced", u->replaced, "to_replace", to_replace(u),
	    "retired", u->retired, "nodes", u->n, "surge", u->surge,
	    "drains_clean", u->drains_clean, "drains_forced", u->drains_forced,
	    "wait", wait, "halt", halt, "pause_requested", u->pause_requested,
	    "reverse_requested", u->reverse_requested == ENGINE_MODE_FORWARD ?
	    json_null() : json_string(engine_mode_name(u->reverse_requested)),
	    "intent", u->intent_pending ? engine_action_json(&u->intent) : json_null(),
	    "nodes", nodes_table(u, o));
}

/* --- the plan ------------------------------------------------------------------- */

static bool
serving(const struct engine_obs *o, const struct engine_obs_instance *in)
{
	const struct engine_obs_znode *z = znode(o, in->ip);

	return in->lifecycle == ENGINE_LC_IN_SERVICE && in->healthy &&
	    in->elb == ENGINE_ELB_IN_SERVICE && z != NULL && z->state == ZDU_NODE_ACTIVE;
}

static int
cmp_known(int64_t a, int64_t b)
{
	if ((a == ZDU_NULL) != (b == ZDU_NULL))
		return a == ZDU_NULL ? 1 : -1;
	return (a > b) - (a < b);
}

/*
 * The core's "least busy first" (behaviour 22) as it would choose now: a node that
 * does not serve first, then tasksTotal, activeUserCount, CPU, each known before
 * unknown, the id last. The core re-reads the load before each choice, so this is the
 * order at the time of the plan.
 */
static int
cmp_busy(const struct engine_obs *o, const struct engine_obs_instance *a,
    const struct engine_obs_instance *b)
{
	const struct engine_obs_znode *za = znode(o, a->ip), *zb = znode(o, b->ip);
	bool sa = serving(o, a), sb = serving(o, b);
	int r;

	if (sa != sb)
		return sa ? 1 : -1;
	if ((r = cmp_known(za ? za->tasks : ZDU_NULL, zb ? zb->tasks : ZDU_NULL)) != 0 ||
	    (r = cmp_known(za ? za->users : ZDU_NULL, zb ? zb->users : ZDU_NULL)) != 0)
		return r;
	if (a->has_cpu != b->has_cpu)
		return a->has_cpu ? -1 : 1;
	if (a->has_cpu && a->cpu != b->cpu)
		return a->cpu < b->cpu ? -1 : 1;
	return strcmp(a->id, b->id);
}

static json_t *
plan_order(const struct engine_obs *o, int surge)
{
	const struct engine_obs_instance *v[ENGINE_NODES_MAX];
	json_t *a = json_array();
	size_t n = 0;

	for (size_t i = 0; i < o->asg.ninst; i++)
		if (o->asg.inst[i].lifecycle == ENGINE_LC_IN_SERVICE)
			v[n++] = &o->asg.inst[i];
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && cmp_busy(o, v[j], v[j - 1]) < 0; j--) {
			const struct engine_obs_instance *t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:o, s:s}", "instance", v[i]->id,
		    "ip", opt_str(v[i]->ip), "action", (int)(n - i) <= surge ? "retire" :
		    "replace"));
	return a;
}

static json_t *
plan_nodes(const struct engine_obs *o)
{
	json_t *a = json_array();

	for (size_t i = 0; (o->have & ENGINE_OBS_ASG) && i < o->asg.ninst; i++) {
		const struct engine_obs_instance *in = &o->asg.inst[i];
		const struct engine_obs_znode *z = znode(o, in->ip);
		json_t *row = node_row(in->id, in->ip, "", NULL, NULL, NULL, o);

		json_object_set_new(row, "lifecycle", json_string(in->lifecycle ==
		    ENGINE_LC_IN_SERVICE ? "InService" : "other"));
		json_object_set_new(row, "protected", json_boolean(in->protected));
		json_object_set_new(row, "tasks", z != NULL && z->tasks != ZDU_NULL ?
		    json_integer(z->tasks) : json_null());
		json_object_set_new(row, "users", z != NULL && z->users != ZDU_NULL ?
		    json_integer(z->users) : json_null());
		json_array_append_new(a, row);
	}
	return a;
}

json_t *
engine_plan_json(const struct engine_obs *o, const char *to, int surge,
    const struct engine_problems *p)
{
	json_t *problems = json_array();
	int n = 0;

	for (size_t i = 0; i < p->n; i++)
		json_array_append_new(problems, json_string(p->p[i].text));
	for (size_t i = 0; (o->have & ENGINE_OBS_ASG) && i < o->asg.ninst; i++)
		n += o->asg.inst[i].lifecycle == ENGINE_LC_IN_SERVICE;
	return json_pack("{s:s, s:o, s:i, s:b, s:o, s:o, s:o,"
	    " s:{s:i, s:i, s:i, s:i, s:i}}",
	    "target", to, "stack_version", o->have & ENGINE_OBS_STACK &&
	    o->stack.has_version ? json_string(o->stack.version) : json_null(),
	    "surge", surge, "ok", p->n == 0, "problems", problems,
	    "nodes", plan_nodes(o),
	    "order", (o->have & ENGINE_OBS_ASG) ? plan_order(o, surge) : json_array(),
	    "estimate", "stack_changes", 2, "boots", n,
	    "drains", n, "terminations", n > surge ? n - surge : 0,
	    "removals", surge);
}
