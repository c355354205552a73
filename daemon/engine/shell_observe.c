/*
 * One observation: the parts the core asked for, read in parallel (one operation per
 * part, a count of those outstanding, one continuation when the last is back), then
 * merged into struct engine_obs. Three waves: what the stack is made of (once per
 * daemon run), everything that depends only on that, then the CPU of the instances
 * the group listed.
 *
 * A part is in o->have only when every answer it is made of came back well: a part
 * not read is unknown, never empty. How a failure counts: throttling and 5xx are
 * transient (a wait, not a halt), refused credentials are o->denied, anything else
 * is a failure of that part, told in the result's errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/config.h"
#include "common/log.h"
#include "daemon/aws/autoscaling.h"
#include "daemon/aws/cloudformation.h"
#include "daemon/aws/cloudwatch.h"
#include "daemon/aws/ec2.h"
#include "daemon/aws/elb.h"
#include "daemon/aws/sts.h"
#include "daemon/bitbucket.h"
#include "daemon/engine/shell.h"
#include "daemon/engine/shell_observe.h"

static void	wave_topology(struct shell_obs *);
static void	wave_main(struct shell_obs *);
static void	wave_cpu(struct shell_obs *);
static void	finish(struct shell_obs *);

static void
on_begin(uv_timer_t *t)
{
	struct shell_obs *ob = t->data;

	if (!ob->cancelled)
		wave_topology(ob);
	engine_obs_slot_done(ob, NULL);
}

struct shell_obs *
engine_observe(struct shell *sh, struct shell_dep *dep, unsigned want,
    const char *token, const char *changeset, int64_t since_ms, uint64_t zdu_poll,
    shell_obs_cb cb, void *arg)
{
	struct shell_obs *ob;

	if ((ob = calloc(1, sizeof(*ob))) == NULL ||
	    (ob->r.o = calloc(1, sizeof(*ob->r.o))) == NULL) {
		free(ob);
		return NULL;
	}
	ob->sh = sh;
	ob->dep = dep;
	ob->want = want;
	engine_strlcpy(ob->token, token ? token : "", sizeof(ob->token));
	engine_strlcpy(ob->changeset, changeset ? changeset : "", sizeof(ob->changeset));
	ob->stop.since_ms = since_ms;
	ob->stop.max = 1000;
	ob->poll = zdu_poll;
	ob->cb = cb;
	ob->arg = arg;
	if ((ob->want & ENGINE_OBS_EVENTS) && ob->token[0] == '\0')
		ob->want &= ~ENGINE_OBS_EVENTS;
	if ((ob->want & ENGINE_OBS_CHANGESET) && ob->changeset[0] == '\0')
		ob->want &= ~ENGINE_OBS_CHANGESET;
	engine_shell_ref(sh);
	/* Everything starts from the loop, so that cb never runs inside this call. */
	uv_timer_init(sh->loop, &ob->timer);
	ob->timer.data = ob;
	ob->pending = 1;
	uv_timer_start(&ob->timer, on_begin, 0, 0);
	return ob;
}

const struct shell_obs_result *
engine_obs_result(const struct shell_obs *ob)
{
	return &ob->r;
}

struct engine_obs *
engine_obs_take(struct shell_obs *ob)
{
	struct engine_obs *o = ob->r.o;

	ob->r.o = NULL;
	return o;
}

void
engine_observe_cancel(struct shell_obs *ob)
{
	if (ob == NULL || ob->cancelled)
		return;
	ob->cancelled = true;
	for (size_t i = 0; i < SHELL_OPS_MAX; i++)
		if (ob->slots[i].op != NULL)
			aws_op_cancel(ob->slots[i].op);
	if (ob->zcall != NULL)
		bitbucket_abort(ob->zcall);
}

static void
on_closed(uv_handle_t *h)
{
	struct shell_obs *ob = h->data;
	struct shell *sh = ob->sh;

	free(ob->r.o);
	free(ob);
	engine_shell_unref(sh);
}

static void
free_obs(struct shell_obs *ob)
{
	uv_close((uv_handle_t *)&ob->timer, on_closed);
}

struct obs_slot *
engine_obs_slot(struct shell_obs *ob, unsigned part)
{
	for (size_t i = 0; i < SHELL_OPS_MAX; i++) {
		struct obs_slot *s = &ob->slots[i];

		if (s->used)
			continue;
		memset(s, 0, sizeof(*s));
		s->used = true;
		s->ob = ob;
		s->part = part;
		ob->pending++;
		return s;
	}
	fatalx("engine: more than %d calls in one observation", SHELL_OPS_MAX);
}

/* After an operation was asked for: if it did not start, its callback never runs. */
void
engine_obs_started(struct shell_obs *ob, struct obs_slot *s, struct aws_op *op,
    const char *what)
{
	if ((s->op = op) != NULL)
		return;
	engine_obs_error(ob, s->part, what, "not started (out of memory?)");
	engine_obs_slot_done(ob, s);
}

/* One operation is back; the last one of a wave starts the next. */
void
engine_obs_slot_done(struct shell_obs *ob, struct obs_slot *s)
{
	if (s != NULL) {
		s->used = false;
		s->op = NULL;
	}
	if (--ob->pending > 0)
		return;
	if (ob->cancelled) {
		free_obs(ob);
		return;
	}
	ob->pending = 1;	/* holds the wave open while it starts its calls */
	switch (ob->wave++) {
	case 0:
		wave_main(ob);
		break;
	case 1:
		wave_cpu(ob);
		break;
	default:
		finish(ob);
		return;
	}
	engine_obs_slot_done(ob, NULL);
}

void
engine_obs_error(struct shell_obs *ob, unsigned part, const char *what,
    const char *why)
{
	size_t off = strlen(ob->r.errors);

	ob->r.failed |= part;
	if (off + 8 < sizeof(ob->r.errors))
		engine_fmt(ob->r.errors + off, sizeof(ob->r.errors) - off, "%s%s: %s",
		    off ? "; " : "", what, why);
}

/* Sorts a failed AWS answer: transient, access refused, or a failure of the part. */
void
engine_obs_aws_error(struct shell_obs *ob, unsigned part, const char *what,
    const struct aws_result *r)
{
	struct engine_obs *o = ob->r.o;
	char why[600];

	engine_fmt(why, sizeof(why), "%s%s%s%s%s", r->error.code, r->error.code[0] ?
	    ": " : "", r->error.message, r->detail && r->detail[0] ? "; " : "",
	    r->detail ? r->detail : "");
	switch (r->errclass) {
	case AWS_ERRCLASS_THROTTLE:
	case AWS_ERRCLASS_TRANSIENT:
		o->transient = true;
		engine_obs_error(ob, 0, what, why);
		return;
	case AWS_ERRCLASS_AUTH:
	case AWS_ERRCLASS_EXPIRED_CREDENTIALS:
	case AWS_ERRCLASS_CLOCK_SKEW:
		if (!o->denied)
			engine_fmt(o->denied_what, sizeof(o->denied_what), "%s: %s", what, why);
		o->denied = true;
		engine_obs_error(ob, 0, what, why);
		return;
	default:
		if (strcmp(r->error.code, "Cancelled") == 0) {
			o->transient = true;
			engine_obs_error(ob, 0, what, why);
			return;
		}
		engine_obs_error(ob, part, what, why);
	}
}

/* --- wave 0: what the stack is made of ------------------------------------------ */

static void	on_resources(const struct aws_result *, const struct aws_cfn_resources *,
		    void *);

static bool
needs_topology(unsigned want)
{
	return (want & (ENGINE_OBS_STACK | ENGINE_OBS_ASG | ENGINE_OBS_ACTIVITIES |
	    ENGINE_OBS_EC2 | ENGINE_OBS_ELB | ENGINE_OBS_CPU | ENGINE_OBS_ALARMS)) != 0;
}

static void
wave_topology(struct shell_obs *ob)
{
	struct obs_slot *s;

	if (ob->dep->topo.ok || !needs_topology(ob->want))
		return;
	memset(&ob->topo, 0, sizeof(ob->topo));
	ob->topo.drain_timeout_s = -1;
	s = engine_obs_slot(ob, ENGINE_OBS_STACK);
	engine_obs_started(ob, s, aws_cfn_describe_stack_resources(ob->dep->aws,
	    ob->dep->cfg->stack, NULL, NULL, on_resources, s), "DescribeStackResources");
}

static void
on_attributes(const struct aws_result *r, const struct aws_elb_attributes *a,
    void *arg)
{
	struct obs_slot *s = arg;
	struct shell_obs *ob = s->ob;

	if (ob->cancelled)
		;
	else if (a == NULL)
		engine_obs_aws_error(ob, ENGINE_OBS_STACK,
		    "DescribeLoadBalancerAttributes", r);
	else {
		ob->topo.drain_timeout_s = a->draining ? a->draining_timeout : 0;
		ob->topo.ok = true;
		ob->dep->topo = ob->topo;
	}
	engine_obs_slot_done(ob, s);
}

static void
on_resources(const struct aws_result *r, const struct aws_cfn_resources *rs, void *arg)
{
	struct obs_slot *s = arg;
	struct shell_obs *ob = s->ob;
	struct obs_slot *next;
	bool nested;

	if (ob->cancelled || rs == NULL) {
		if (!ob->cancelled)
			engine_obs_aws_error(ob, ENGINE_OBS_STACK, "DescribeStackResources",
			    r);
		engine_obs_slot_done(ob, s);
		return;
	}
	engine_tr_topology(&ob->topo, rs, &nested);
	next = engine_obs_slot(ob, ENGINE_OBS_STACK);
	if (nested && !ob->topo.nested) {
		ob->topo.nested = true;
		engine_obs_started(ob, next, aws_cfn_describe_stack_resources(ob->dep->aws,
		    ob->topo.child, NULL, NULL, on_resources, next),
		    "DescribeStackResources (BitbucketDCStack)");
	} else if (ob->topo.lb[0] != '\0') {
		engine_obs_started(ob, next, aws_elb_describe_load_balancer_attributes(
		    ob->dep->aws, ob->topo.lb, on_attributes, next),
		    "DescribeLoadBalancerAttributes");
	} else {
		engine_obs_error(ob, ENGINE_OBS_ELB, "the stack", "it has no LoadBalancer");
		ob->topo.ok = true;
		ob->dep->topo = ob->topo;
		engine_obs_slot_done(ob, next);
	}
	engine_obs_slot_done(ob, s);
}

/* --- wave 1 ------------------------------------------------------------------- */

static void
wave_main(struct shell_obs *ob)
{
	unsigned w = ob->want;
	bool topo = ob->dep->topo.ok;

	if (w & ENGINE_OBS_ZDU)
		engine_obs_zdu(ob);
	if (w & ENGINE_OBS_IDENTITY)
		engine_obs_identity(ob);
	if (w & ENGINE_OBS_EVENTS)
		engine_obs_events(ob);
	if (w & ENGINE_OBS_CHANGESET)
		engine_obs_changeset(ob);
	if (!topo) {
		if (needs_topology(w) && (ob->r.failed & ENGINE_OBS_STACK) == 0 &&
		    !ob->r.o->denied && !ob->r.o->transient)
			engine_obs_error(ob, ENGINE_OBS_STACK, "the stack",
			    "its resources could not be read");
		return;
	}
	if (w & ENGINE_OBS_STACK)
		engine_obs_stack(ob);
	if (w & (ENGINE_OBS_ASG | ENGINE_OBS_EC2 | ENGINE_OBS_ELB | ENGINE_OBS_CPU))
		engine_obs_group(ob);
	if (w & ENGINE_OBS_ACTIVITIES)
		engine_obs_activities(ob);
	if (w & ENGINE_OBS_EC2)
		engine_obs_ec2(ob);
	if (w & ENGINE_OBS_ELB)
		engine_obs_elb(ob);
	if (w & ENGINE_OBS_ALARMS)
		engine_obs_alarms(ob);
}

/* --- wave 2: CPU of the instances the group listed ------------------------------ */

static void
cpu_remember(struct shell_cpu *m, const struct aws_cw_cpus *c)
{
	m->n = 0;
	for (size_t i = 0; i < c->n && m->n < ENGINE_NODES_MAX; i++, m->n++) {
		engine_strlcpy(m->id[m->n], c->items[i].instance_id, ENGINE_ID_MAX);
		m->has[m->n] = c->items[i].has_data;
		m->cpu[m->n] = c->items[i].average;
	}
	m->at = engine_mono_ms();
}

/* The remembered figures, if recent enough; instances new since then have none yet. */
static bool
cpu_recall(const struct shell_cpu *m, struct engine_obs *o)
{
	if (m->at == 0 || engine_mono_ms() - m->at >= SHELL_CPU_REFRESH_MS)
		return false;
	for (size_t j = 0; j < o->asg.ninst; j++) {
		struct engine_obs_instance *in = &o->asg.inst[j];

		in->has_cpu = false;
		for (size_t i = 0; i < m->n; i++)
			if (strcmp(in->id, m->id[i]) == 0) {
				in->has_cpu = m->has[i];
				in->cpu = m->has[i] ? m->cpu[i] : 0;
			}
	}
	return true;
}

static void
on_cpu(const struct aws_result *r, const struct aws_cw_cpus *c, void *arg)
{
	struct obs_slot *s = arg;
	struct shell_obs *ob = s->ob;

	if (ob->cancelled)
		;
	else if (c == NULL)
		engine_obs_aws_error(ob, ENGINE_OBS_CPU, "GetMetricData", r);
	else {
		engine_tr_cpu(ob->r.o, c);
		cpu_remember(&ob->dep->cpu, c);
		ob->ok |= ENGINE_OBS_CPU;
	}
	engine_obs_slot_done(ob, s);
}

static void
wave_cpu(struct shell_obs *ob)
{
	const struct engine_obs_asg *a = &ob->r.o->asg;
	const char *ids[ENGINE_NODES_MAX];
	struct obs_slot *s;
	time_t now = time(NULL);

	if (!(ob->want & ENGINE_OBS_CPU) || !(ob->ok & ENGINE_OBS_ASG))
		return;
	if (a->ninst == 0 || cpu_recall(&ob->dep->cpu, ob->r.o)) {
		ob->ok |= ENGINE_OBS_CPU;
		return;
	}
	for (size_t i = 0; i < a->ninst; i++)
		ids[i] = a->inst[i].id;
	s = engine_obs_slot(ob, ENGINE_OBS_CPU);
	engine_obs_started(ob, s, aws_cw_get_cpu(ob->dep->aws, ids, a->ninst,
	    now - SHELL_CPU_WINDOW_S, now, on_cpu, s), "GetMetricData");
}

/* --- the end: merge, and tell ------------------------------------------------- */

/* The IP of an instance: as DescribeInstances said now, or as remembered. */
static void
merge_ip(struct shell_obs *ob, const struct shell_ips *old,
    struct engine_obs_instance *in)
{
	for (size_t j = 0; j < ob->nec2; j++)
		if (strcmp(ob->ec2[j].id, in->id) == 0)
			engine_strlcpy(in->ip, ob->ec2[j].ip, sizeof(in->ip));
	for (size_t j = 0; in->ip[0] == '\0' && j < old->n; j++)
		if (strcmp(old->id[j], in->id) == 0)
			engine_strlcpy(in->ip, old->ip[j], sizeof(in->ip));
}

static void
merge_instances(struct shell_obs *ob)
{
	struct engine_obs_asg *a = &ob->r.o->asg;
	struct shell_ips *ips = &ob->dep->ips, old = *ips;

	ips->n = 0;
	ips->complete = true;
	for (size_t i = 0; i < a->ninst; i++) {
		struct engine_obs_instance *in = &a->inst[i];

		merge_ip(ob, &old, in);
		ips->complete = ips->complete && in->ip[0] != '\0';
		if (in->ip[0] != '\0' && ips->n < ENGINE_NODES_MAX) {
			engine_strlcpy(ips->id[ips->n], in->id, ENGINE_ID_MAX);
			engine_strlcpy(ips->ip[ips->n++], in->ip, ENGINE_IP_MAX);
		}
		/* Not listed by DescribeInstanceHealth: not registered. */
		in->elb = ENGINE_ELB_NOT_REGISTERED;
		for (size_t j = 0; j < ob->nelb; j++)
			if (strcmp(ob->elb[j].id, in->id) == 0)
				in->elb = ob->elb[j].elb;
	}
}

static void
finish(struct shell_obs *ob)
{
	struct engine_obs *o = ob->r.o;
	unsigned ok = ob->ok, have = 0;

	if ((ok & ENGINE_OBS_ASG) && (ok & (ENGINE_OBS_EC2 | ENGINE_OBS_ELB)))
		merge_instances(ob);
	have = ok & (ENGINE_OBS_EVENTS | ENGINE_OBS_ACTIVITIES | ENGINE_OBS_ZDU |
	    ENGINE_OBS_IDENTITY | ENGINE_OBS_ALARMS | ENGINE_OBS_CHANGESET);
	if ((ok & ENGINE_OBS_STACK) && ob->dep->topo.ok)
		have |= ENGINE_OBS_STACK;
	if ((ok & ENGINE_OBS_ASG) && (ob->want & ENGINE_OBS_ASG) &&
	    (!(ob->want & SHELL_OBS_EXTRAS) || ob->extras_ok == 2))
		have |= ENGINE_OBS_ASG;
	if (ok & ENGINE_OBS_ASG)
		have |= ok & (ENGINE_OBS_EC2 | ENGINE_OBS_ELB | ENGINE_OBS_CPU);
	o->have = have & ob->want & ~ob->r.failed;
	ob->cb(ob, ob->arg);
	free_obs(ob);
}
