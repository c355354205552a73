/*
 * The model's faults, under POST /_sim/faults {"model": {...}}, and the operator's
 * hand, POST /_sim/operator/terminate: what a person does from the EC2 console,
 * which no client of the AWS API should be blamed for (it is not counted as an API
 * call of the run). Faults drawn at launch (node_error, node_stuck) hit nodes
 * launched after they are set; the others, the next occasion. A fault set to
 * "once" is armed again each time it is set. Also the CPU load that drives the
 * template's alarms, and what the daemon's preflight refuses (aws-behaviours.md
 * 15): Standby members, lifecycle hooks, an instance refresh, ELB health checks,
 * standby mode, new instances protected.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "sim/model.h"
#include "sim/model_int.h"	/* SIM_FAULT_BIT_*: re-arming a "once" fault */
#include "sim/server.h"
#include "sim/sim.h"

#define UNREACHABLE_MAX	(3600 * 1000)

static const char *const modes[] = { "never", "once", "always", "random" };

static const struct {
	const char	*name;
	size_t		 off;
	int		 bit;
} fault_keys[] = {
	{ "node_error", offsetof(struct sim_params, node_error), SIM_FAULT_BIT_ERROR },
	{ "node_stuck", offsetof(struct sim_params, node_stuck), SIM_FAULT_BIT_STUCK },
	{ "stack_refuse", offsetof(struct sim_params, stack_refuse),
	    SIM_FAULT_BIT_REFUSE },
	{ "rollback_fail", offsetof(struct sim_params, rollback_fail),
	    SIM_FAULT_BIT_ROLLBACK },
	{ "launch_fail", offsetof(struct sim_params, launch_fail), SIM_FAULT_BIT_LAUNCH },
};

static const struct {
	const char	*name;
	size_t		 off;
} prob_keys[] = {
	{ "node_error_p", offsetof(struct sim_params, node_error_p) },
	{ "node_stuck_p", offsetof(struct sim_params, node_stuck_p) },
	{ "fault_p", offsetof(struct sim_params, fault_p) },
};

/* What one POST asks for, applied only once all of it is valid. */
struct change {
	struct sim_params	 p;
	unsigned		 rearm;		/* SIM_FAULT_BIT_* */
	int			 refail;	/* finalize_fail armed again */
	struct sim_instance	*cut;		/* made unreachable ... */
	int64_t			 cut_ms;	/* ... this long */
	int			 load_set;	/* cpu_load given */
	int			 db_set;	/* db_master given */
	int			 refresh;	/* instance_refresh: -1 not given */
	int			 newprot;	/* new_instances_protected: -1 not given */
	struct sim_instance	*standby_in, *standby_out;
};

static int
set_mode(struct change *c, size_t k, json_t *v, char *err, size_t errlen)
{
	const char	*s = json_string_value(v);
	size_t		 i;

	for (i = 0; s != NULL && i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(s, modes[i]) != 0)
			continue;
		*(enum sim_fault *)((char *)&c->p + fault_keys[k].off) =
		    (enum sim_fault)i;
		if (i == SIM_FAULT_ONCE)
			c->rearm |= (unsigned)fault_keys[k].bit;
		return 0;
	}
	snprintf(err, errlen, "%s: never, once, always or random", fault_keys[k].name);
	return -1;
}

/* {"instance": id or private IP, "ms": how long}: the node stops answering. */
static int
set_unreachable(struct sim *sim, struct change *c, json_t *v, char *err, size_t errlen)
{
	struct sim_instance	*in = NULL;
	const char		*who = NULL;
	json_int_t		 ms = 0;

	if (json_unpack(v, "{ss sI !}", "instance", &who, "ms", &ms) == -1 ||
	    ms < 1 || ms > UNREACHABLE_MAX) {
		snprintf(err, errlen, "unreachable: {\"instance\": id or IP, \"ms\": 1.."
		    "%d}", UNREACHABLE_MAX);
		return -1;
	}
	if ((in = sim_ec2_find(sim->model, who)) == NULL)
		in = sim_ec2_find_ip(sim->model, who);
	if (in == NULL || !in->member || in->state != SIM_EC2_RUNNING) {
		snprintf(err, errlen, "unreachable: %.64s is not a running node", who);
		return -1;
	}
	c->cut = in;
	c->cut_ms = ms;
	return 0;
}

/* A running member by id or private IP, for a fault aimed at one node. */
static struct sim_instance *
node_of(struct sim *sim, json_t *v)
{
	struct sim_instance	*in;
	const char		*who = json_string_value(v);

	if (who == NULL)
		return NULL;
	if ((in = sim_ec2_find(sim->model, who)) == NULL)
		in = sim_ec2_find_ip(sim->model, who);
	return in != NULL && in->member && in->state == SIM_EC2_RUNNING ? in : NULL;
}

/* "standby" (enter) or "exit_standby": {"standby": "i-..." or an IP}. */
static int
set_standby(struct sim *sim, struct change *c, const char *key, json_t *v, char *err,
    size_t errlen)
{
	struct sim_instance	*in = node_of(sim, v);
	struct sim_err		 e;
	int			 enter = strcmp(key, "standby") == 0;

	if (in == NULL) {
		snprintf(err, errlen, "%s: an id or address of a running member", key);
		return -1;
	}
	if (sim_asg_standby_check(sim->model, in, enter, &e) == -1) {
		snprintf(err, errlen, "%s: %s", key, e.message);
		return -1;
	}
	*(enter ? &c->standby_in : &c->standby_out) = in;
	return 0;
}

/* ["launching", "terminating"], or [] for none. */
static int
set_hooks(struct change *c, json_t *v, char *err, size_t errlen)
{
	unsigned	 h, set = 0;
	size_t		 i;
	json_t		*x;

	if (!json_is_array(v))
		goto bad;
	json_array_foreach(v, i, x) {
		if (!json_is_string(x) || (h = sim_hook_lookup(json_string_value(x))) == 0)
			goto bad;
		set |= h;
	}
	c->p.lifecycle_hooks = set;
	return 0;
bad:
	snprintf(err, errlen, "lifecycle_hooks: a list of \"launching\" and "
	    "\"terminating\"");
	return -1;
}

static int
set_load(struct change *c, json_t *v, char *err, size_t errlen)
{
	double	 load = json_number_value(v);

	if ((json_is_string(v) && sim_cpu_load_parse(json_string_value(v), &load) == -1) ||
	    (!json_is_string(v) && !json_is_number(v)) || !(load >= 0 && load <= 10)) {
		snprintf(err, errlen, "cpu_load: normal, high, low or a multiplier 0 to 10");
		return -1;
	}
	c->p.cpu_load = load;
	c->load_set = 1;
	return 0;
}

/* The group's and stack's settings: 0 set, -1 refused, 1 not one of them. */
static int
set_config(struct change *c, const char *key, json_t *v)
{
	const char	*s = json_string_value(v);

	if (strcmp(key, "instance_refresh") == 0 && json_is_boolean(v))
		c->p.instance_refresh = c->refresh = json_is_true(v);
	else if (strcmp(key, "new_instances_protected") == 0 && json_is_boolean(v))
		c->newprot = json_is_true(v);
	else if (strcmp(key, "health_check_type") == 0 && s != NULL &&
	    (strcmp(s, "EC2") == 0 || strcmp(s, "ELB") == 0))
		c->p.health_check_elb = strcmp(s, "ELB") == 0;
	else if (strcmp(key, "health_check_grace") == 0 && json_is_integer(v) &&
	    json_integer_value(v) >= 0 && json_integer_value(v) <= 86400)
		c->p.health_check_grace = (int64_t)json_integer_value(v) * 1000;
	else if (strcmp(key, "db_master") == 0 && s != NULL &&
	    strlen(s) < sizeof(c->p.db_master)) {
		snprintf(c->p.db_master, sizeof(c->p.db_master), "%s", s);
		c->db_set = 1;
	} else
		return 1;
	return 0;
}

static int
set_other(struct sim *sim, struct change *c, const char *key, json_t *v, char *err,
    size_t errlen)
{
	if (set_config(c, key, v) == 0)
		return 0;
	if (strcmp(key, "cpu_load") == 0)
		return set_load(c, v, err, errlen);
	if (strcmp(key, "lifecycle_hooks") == 0)
		return set_hooks(c, v, err, errlen);
	if (strcmp(key, "standby") == 0 || strcmp(key, "exit_standby") == 0)
		return set_standby(sim, c, key, v, err, errlen);
	if (strcmp(key, "fault_version") == 0 && json_is_string(v) &&
	    strlen(json_string_value(v)) < sizeof(c->p.fault_version)) {
		snprintf(c->p.fault_version, sizeof(c->p.fault_version), "%s",
		    json_string_value(v));
		return 0;
	}
	if (strcmp(key, "nested_drift") == 0 && json_is_boolean(v)) {
		c->p.nested_drift = json_is_true(v);
		return 0;
	}
	if (strcmp(key, "finalize_fail") == 0 && json_is_boolean(v)) {
		c->p.finalize_fail = c->refail = json_is_true(v);
		return 0;
	}
	if (strcmp(key, "unreachable") == 0)
		return set_unreachable(sim, c, v, err, errlen);
	snprintf(err, errlen, "%.64s: not a model fault, or not of its type", key);
	return -1;
}

static int
set_one(struct sim *sim, struct change *c, const char *key, json_t *v, char *err,
    size_t errlen)
{
	size_t	 k;

	for (k = 0; k < sizeof(fault_keys) / sizeof(fault_keys[0]); k++)
		if (strcmp(key, fault_keys[k].name) == 0)
			return set_mode(c, k, v, err, errlen);
	for (k = 0; k < sizeof(prob_keys) / sizeof(prob_keys[0]); k++) {
		if (strcmp(key, prob_keys[k].name) != 0)
			continue;
		if (!json_is_number(v)) {
			snprintf(err, errlen, "%s: a probability, 0 to 1", key);
			return -1;
		}
		*(double *)((char *)&c->p + prob_keys[k].off) = json_number_value(v);
		return 0;
	}
	return set_other(sim, c, key, v, err, errlen);
}

/* What takes a transition of the model, not only a parameter. */
static void
apply_model(struct sim_model *m, const struct change *c)
{
	if (c->load_set)
		sim_cpu_set_load(m, c->p.cpu_load);
	if (c->refresh != -1)
		sim_asg_set_refresh(m, c->refresh);
	if (c->newprot != -1)
		sim_asg_set_new_protected(m, c->newprot);
	if (c->db_set)
		sim_stack_set_db_master(m, c->p.db_master);
	if (c->standby_in != NULL)
		sim_asg_standby(m, c->standby_in, 1);
	if (c->standby_out != NULL)
		sim_asg_standby(m, c->standby_out, 0);
}

int
sim_admin_model_faults(struct sim *sim, json_t *j, char *err, size_t errlen)
{
	struct sim_model	*m = sim->model;
	struct change		 c;
	const char		*key;
	json_t			*v;
	int64_t			 saved;

	memset(&c, 0, sizeof(c));
	c.p = m->p;
	c.refresh = c.newprot = -1;
	if (!json_is_object(j))
		return snprintf(err, errlen, "model: an object"), -1;
	json_object_foreach(j, key, v)
		if (set_one(sim, &c, key, v, err, errlen) == -1)
			return -1;
	if (sim_params_check(&c.p, err, errlen) == -1)
		return -1;
	sim_model_advance(m, sim->now);
	m->p = c.p;
	apply_model(m, &c);
	m->faults_used &= ~(int)c.rearm;
	if (c.refail)
		m->zdu.fail_used = 0;
	if (c.cut != NULL) {
		/* The model cuts a node off for params.unreachable: this once, longer. */
		saved = m->p.unreachable;
		m->p.unreachable = c.cut_ms;
		sim_node_blip(m, c.cut, sim->now);
		m->p.unreachable = saved;
	}
	return 0;
}

/* The load and the preflight refusals, as a POST would set them. */
static void
config_json(const struct sim_model *m, json_t *j)
{
	const struct sim_params	*p = &m->p;
	json_t			*hooks = json_array(), *standby = json_array();

	for (unsigned h = 1; hooks != NULL && h <= SIM_HOOK_ALL; h <<= 1)
		if (p->lifecycle_hooks & h)
			json_array_append_new(hooks, json_string(sim_hook_name(h)));
	for (size_t i = 0; standby != NULL && i < m->ninst; i++)
		if (m->inst[i]->member && m->inst[i]->life == SIM_LC_STANDBY)
			json_array_append_new(standby, json_string(m->inst[i]->id));
	json_object_set_new(j, "cpu_load", json_real(p->cpu_load));
	json_object_set_new(j, "lifecycle_hooks", hooks);
	json_object_set_new(j, "standby", standby);
	json_object_set_new(j, "instance_refresh", json_boolean(
	    m->asg.refresh.id[0] != '\0' && m->asg.refresh.end == SIM_NEVER));
	json_object_set_new(j, "health_check_type", json_string(p->health_check_elb ?
	    "ELB" : "EC2"));
	json_object_set_new(j, "health_check_grace", json_integer(
	    (json_int_t)(p->health_check_grace / 1000)));
	json_object_set_new(j, "db_master", json_string(p->db_master));
	json_object_set_new(j, "new_instances_protected", json_boolean(
	    m->asg.new_protected));
}

json_t *
sim_admin_model_faults_json(struct sim *sim)
{
	const struct sim_params	*p = &sim->model->p;
	json_t			*j = json_object(), *fired = json_array();
	size_t			 k;

	for (k = 0; j != NULL && k < sizeof(fault_keys) / sizeof(fault_keys[0]); k++) {
		json_object_set_new(j, fault_keys[k].name, json_string(modes[
		    *(const enum sim_fault *)((const char *)p + fault_keys[k].off)]));
		if (sim->model->faults_used & fault_keys[k].bit)
			json_array_append_new(fired, json_string(fault_keys[k].name));
	}
	for (k = 0; j != NULL && k < sizeof(prob_keys) / sizeof(prob_keys[0]); k++)
		json_object_set_new(j, prob_keys[k].name, json_real(
		    *(const double *)((const char *)p + prob_keys[k].off)));
	if (j != NULL) {
		json_object_set_new(j, "fault_version", json_string(p->fault_version));
		json_object_set_new(j, "nested_drift", json_boolean(p->nested_drift));
		json_object_set_new(j, "finalize_fail", json_boolean(p->finalize_fail));
		json_object_set(j, "fired_once", fired);
		config_json(sim->model, j);
	}
	json_decref(fired);
	return j;
}

/* ---- the operator ---- */

static json_t *
ec2_state(enum sim_ec2_state s)
{
	return json_pack("{si ss}", "Code", sim_ec2_state_code(s), "Name",
	    sim_ec2_state_name(s));
}

/* POST {"instance": "i-..."}: EC2 TerminateInstances, as from the console. */
void
sim_admin_terminate(struct sim *sim, const struct sim_req *req, struct sim_resp *resp)
{
	struct sim_ec2_change	 out[1];
	struct sim_err		 e;
	const char		*id = NULL;
	json_t			*j;

	if (sim->model == NULL) {
		sim_resp_json_error(resp, 503, "no simulated world");
		return;
	}
	if ((j = sim_admin_body(req, resp)) == NULL)
		return;
	if (json_unpack(j, "{ss !}", "instance", &id) == -1) {
		json_decref(j);
		sim_resp_json_error(resp, 400, "expected {\"instance\": \"i-...\"}");
		return;
	}
	memset(&e, 0, sizeof(e));
	/* The console calls TerminateInstances too: recorded as the operator's. */
	if (sim_ec2_terminate_by(sim->model, &id, 1, sim->now, "operator", out,
	    &e) == -1) {
		sim_resp_json(resp, e.status, json_pack("{ss ss}", "error", e.message,
		    "code", e.code));
		json_decref(j);
		return;
	}
	log_info("admin: the operator terminated %s", out[0].inst->id);
	sim_resp_json(resp, 200, json_pack("{s[{ss so so}]}", "TerminatingInstances",
	    "InstanceId", out[0].inst->id, "PreviousState", ec2_state(out[0].prev),
	    "CurrentState", ec2_state(out[0].cur)));
	json_decref(j);
}
