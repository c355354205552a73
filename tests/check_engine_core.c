/*
 * The engine's decision core (daemon/engine/core.h), from plain structs.
 *
 * Three parts. A fake world: a few hundred lines that play the Quick Start stack, the
 * group, the Classic ELB and the ZDU cluster as reference/aws-behaviours.md describes
 * them, apply each action the core returns, and check I1-I4 on every step. The
 * simulations: whole upgrades (k = 1, 2, N, literal order) to DONE with I6 checked at
 * the end, a crash re-decided at every step, operator commands at every step. And one
 * test per row of the procedure and per failure branch, from a 4-node 7.9.0 cluster
 * built by hand and changed per test.
 *
 * To look inside: ENGINE_TRACE=1 prints every decision of the simulations,
 * ENGINE_AT=n starts the every-step command loops at step n, ENGINE_STEPS=1 counts
 * the steps they run (with CK_FORK=no and CK_RUN_CASE=... to narrow it down).
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENGINE_CORE_INTERNAL
#include "daemon/engine/core.h"
#include "tests/suites_decl.h"

#define FROM		"7.9.0"
#define TO		"7.9.4"
#define FILESERVER	"i-fs00000000"
#define W_INST_MAX	48
#define W_ZNODE_MAX	96
#define W_ACT_MAX	96
#define W_CS_MAX	8
#define W_EVENT_MAX	16

/* ------------------------------------------------------------------------- */
/* The fake world                                                             */
/* ------------------------------------------------------------------------- */

struct w_inst {
	char			 id[ENGINE_ID_MAX];
	char			 ip[ENGINE_IP_MAX];
	char			 version[ENGINE_VERSION_MAX];	/* what it boots */
	enum engine_lifecycle	 lc;
	bool			 healthy;
	bool			 protected;
	enum engine_elb		 elb;
	bool			 deregistered;	/* by a call */
	int			 timer;		/* ticks in its current state */
	int			 elb_timer;
	bool			 fail;		/* Bitbucket goes ERROR on it */
	bool			 original;
};

struct w_znode {
	char			 ip[ENGINE_IP_MAX];
	enum zdu_node_state	 state;
	char			 version[ENGINE_VERSION_MAX];
	int64_t			 tasks, users;
	bool			 snapshot;	/* there when upgrade mode was enabled */
	int			 timer;
};

struct w_act {
	char			 id[ENGINE_ACTIVITY_MAX];
	char			 inst[ENGINE_ID_MAX];
	bool			 terminate;
	enum engine_activity	 status;
};

struct w_cs {
	char			 name[ENGINE_TOKEN_MAX];
	enum engine_cs_status	 status;
	enum engine_cs_exec	 exec;
	char			 version[ENGINE_VERSION_MAX];
	int			 min, max;
	bool			 drift;
	char			 reason[128];
};

struct w_event {
	char			 token[ENGINE_TOKEN_MAX];
	enum engine_stack_event	 ev;
};

struct world {
	int			 n0, k;
	/* the stack */
	char			 version[ENGINE_VERSION_MAX];
	int			 smin, smax;
	enum engine_stack_status status;
	bool			 updating, lowering;
	char			 upd_token[ENGINE_TOKEN_MAX];
	char			 old_version[ENGINE_VERSION_MAX];
	int			 old_min, old_max, upd_timer;
	struct w_event		 ev[W_EVENT_MAX];
	int			 nev;
	struct w_cs		 cs[W_CS_MAX];
	int			 ncs;
	/* the group */
	int			 min, max, desired;
	unsigned		 suspended, suspended0;
	bool			 new_protected;
	struct w_inst		 inst[W_INST_MAX];
	int			 ninst;
	struct w_act		 act[W_ACT_MAX];
	int			 nact;
	int			 next_id, next_act;
	/* Bitbucket */
	bool			 upgrade_mode;
	char			 original[ENGINE_VERSION_MAX];
	struct w_znode		 z[W_ZNODE_MAX];
	int			 nz;
	uint64_t		 poll;
	/* faults */
	bool			 fail_next_launch;	/* the next node launched goes ERROR */
	bool			 drift;			/* change sets carry a foreign change */
	bool			 rollback_next;		/* the next stack update rolls back */
	bool			 aws_own;		/* AWS acts on its own (a rollback) */
	bool			 one_launch;		/* one instance per activity */
	/* the invariant report */
	bool			 started, approved;
	char			 violation[256];
	int			 terminations;
};

static void
wv(struct world *w, const char *fmt, ...)
{
	va_list ap;

	if (w->violation[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(w->violation, sizeof(w->violation), fmt, ap);
	va_end(ap);
}

static struct w_inst *
w_find(struct world *w, const char *id)
{
	for (int i = 0; i < w->ninst; i++)
		if (strcmp(w->inst[i].id, id) == 0)
			return &w->inst[i];
	return NULL;
}

static struct w_znode *
w_znode(struct world *w, const char *ip)
{
	for (int i = 0; i < w->nz; i++)
		if (strcmp(w->z[i].ip, ip) == 0 && w->z[i].state != ZDU_NODE_OFFLINE)
			return &w->z[i];
	return NULL;
}

static void
w_add_act(struct world *w, const char *inst, bool terminate, char *id, size_t len)
{
	struct w_act *a = &w->act[w->nact++ % W_ACT_MAX];

	if (w->nact > W_ACT_MAX)
		w->nact = W_ACT_MAX;
	snprintf(a->id, sizeof(a->id), "act-%04d", w->next_act++);
	engine_strlcpy(a->inst, inst, sizeof(a->inst));
	a->terminate = terminate;
	a->status = ENGINE_ACTIVITY_IN_PROGRESS;
	if (id != NULL)
		snprintf(id, len, "%s", a->id);
}

static struct w_act *
w_act_for(struct world *w, const char *inst, bool terminate)
{
	for (int i = w->nact - 1; i >= 0; i--)
		if (w->act[i].terminate == terminate && strcmp(w->act[i].inst, inst) == 0)
			return &w->act[i];
	return NULL;
}

/* Busy figures by instance number: i-0002 is the least busy original. */
static void
w_load(int num, int64_t *tasks, int64_t *users)
{
	static const int64_t t[] = { 5, 1, 1, 9, 3, 2 }, us[] = { 12, 3, 7, 0, 4, 8 };

	*tasks = t[(num - 1) % 6];
	*users = us[(num - 1) % 6];
}

static struct w_inst *
w_launch(struct world *w, bool original)
{
	struct w_inst *in = &w->inst[w->ninst++];
	int num = ++w->next_id;

	ck_assert_int_le(w->ninst, W_INST_MAX);
	memset(in, 0, sizeof(*in));
	snprintf(in->id, sizeof(in->id), "i-%04d", num);
	snprintf(in->ip, sizeof(in->ip), "10.0.%d.%d", num / 250, num % 250);
	engine_strlcpy(in->version, w->version, sizeof(in->version));
	in->lc = original ? ENGINE_LC_IN_SERVICE : ENGINE_LC_PENDING;
	in->healthy = true;
	in->protected = w->new_protected;
	in->elb = original ? ENGINE_ELB_IN_SERVICE : ENGINE_ELB_UNHEALTHY;
	in->original = original;
	in->fail = w->fail_next_launch && !original;
	if (in->fail)
		w->fail_next_launch = false;
	if (original) {
		struct w_znode *z = &w->z[w->nz++];

		memset(z, 0, sizeof(*z));
		engine_strlcpy(z->ip, in->ip, sizeof(z->ip));
		engine_strlcpy(z->version, in->version, sizeof(z->version));
		z->state = ZDU_NODE_ACTIVE;
		w_load(num, &z->tasks, &z->users);
	} else
		w_add_act(w, in->id, false, NULL, 0);
	return in;
}

static void
world_init(struct world *w, int n, int k)
{
	memset(w, 0, sizeof(*w));
	w->n0 = n;
	w->k = k;
	snprintf(w->version, sizeof(w->version), FROM);
	w->smin = w->min = w->desired = n;
	w->smax = w->max = 2 * n;
	w->status = ENGINE_STACK_UPDATE_COMPLETE;
	for (int i = 0; i < n; i++)
		w_launch(w, true);
}

static enum zdu_cluster_state
w_state(const struct world *w)
{
	const char *v = NULL;

	if (!w->upgrade_mode)
		return ZDU_STABLE;
	for (int i = 0; i < w->nz; i++)
		if (w->z[i].state == ZDU_NODE_ERROR)
			return ZDU_MIXED;
	for (int i = 0; i < w->nz; i++) {
		if (w->z[i].state == ZDU_NODE_OFFLINE)
			continue;
		if (v == NULL)
			v = w->z[i].version;
		else if (strcmp(v, w->z[i].version) != 0)
			return ZDU_MIXED;
	}
	if (v == NULL || strcmp(v, w->original) == 0)
		return ZDU_READY_TO_UPGRADE;
	return ZDU_READY_TO_RUN_UPGRADE_TASKS;
}

static const char *
stack_name(enum engine_stack_status s)
{
	switch (s) {
	case ENGINE_STACK_UPDATE_COMPLETE:
		return "UPDATE_COMPLETE";
	case ENGINE_STACK_IN_PROGRESS:
		return "UPDATE_IN_PROGRESS";
	case ENGINE_STACK_UPDATE_ROLLBACK_COMPLETE:
		return "UPDATE_ROLLBACK_COMPLETE";
	case ENGINE_STACK_UPDATE_ROLLBACK_FAILED:
		return "UPDATE_ROLLBACK_FAILED";
	default:
		return "OTHER";
	}
}

static void
observe_stack(const struct world *w, const struct engine_decision *last,
    struct engine_obs *o)
{
	struct engine_obs_stack *s = &o->stack;

	s->status = w->status;
	engine_strlcpy(s->status_name, stack_name(w->status), sizeof(s->status_name));
	s->has_version = s->has_min = s->has_max = s->has_node_group = true;
	engine_strlcpy(s->version, w->version, sizeof(s->version));
	s->min = w->smin;
	s->max = w->smax;
	snprintf(s->fileserver, sizeof(s->fileserver), FILESERVER);
	engine_strlcpy(s->event_token, last->need_token, sizeof(s->event_token));
	for (int i = 0; i < w->nev; i++)
		if (strcmp(w->ev[i].token, last->need_token) == 0) {
			s->event = w->ev[i].ev;
			if (s->event != ENGINE_EVENT_COMPLETE)
				snprintf(s->event_reasons, sizeof(s->event_reasons),
				    "ClusterNodeGroup: simulated failure");
		}
}

static void
observe_changeset(const struct world *w, const struct engine_decision *last,
    struct engine_obs *o)
{
	struct engine_obs_changeset *cs = &o->cs;

	engine_strlcpy(cs->name, last->need_changeset, sizeof(cs->name));
	cs->status = ENGINE_CS_ABSENT;
	for (int i = 0; i < w->ncs; i++) {
		const struct w_cs *c = &w->cs[i];
		struct engine_change *ch;

		if (strcmp(c->name, last->need_changeset) != 0)
			continue;
		cs->status = c->status;
		cs->exec = c->exec;
		engine_strlcpy(cs->status_reason, c->reason, sizeof(cs->status_reason));
		if (c->status != ENGINE_CS_COMPLETE)
			continue;
		if (c->min != w->smin || c->max != w->smax) {
			ch = &cs->changes[cs->nchanges++];
			snprintf(ch->logical_id, sizeof(ch->logical_id), "ClusterNodeGroup");
			snprintf(ch->resource_type, sizeof(ch->resource_type),
			    "AWS::AutoScaling::AutoScalingGroup");
			ch->action = ENGINE_CHANGE_MODIFY;
			ch->scope = ENGINE_SCOPE_PROPERTIES;
			ch->parent = -1;
			snprintf(ch->props[0], sizeof(ch->props[0]), "MinSize");
			snprintf(ch->props[1], sizeof(ch->props[1]), "MaxSize");
			snprintf(ch->props[2], sizeof(ch->props[2]), "DesiredCapacity");
			ch->nprops = 3;
		}
		if (strcmp(c->version, w->version) != 0) {
			ch = &cs->changes[cs->nchanges++];
			snprintf(ch->logical_id, sizeof(ch->logical_id), "ClusterNodeLaunchConfig");
			snprintf(ch->resource_type, sizeof(ch->resource_type),
			    "AWS::AutoScaling::LaunchConfiguration");
			ch->action = ENGINE_CHANGE_MODIFY;
			ch->scope = ENGINE_SCOPE_METADATA;
			ch->parent = -1;
		}
		if (c->drift) {
			ch = &cs->changes[cs->nchanges++];
			snprintf(ch->logical_id, sizeof(ch->logical_id), "LoadBalancer");
			snprintf(ch->resource_type, sizeof(ch->resource_type),
			    "AWS::ElasticLoadBalancing::LoadBalancer");
			ch->action = ENGINE_CHANGE_MODIFY;
			ch->scope = ENGINE_SCOPE_PROPERTIES;
			ch->parent = -1;
			snprintf(ch->props[0], sizeof(ch->props[0]), "Listeners");
			ch->nprops = 1;
		}
	}
}

static void
observe_group(const struct world *w, struct engine_obs *o)
{
	struct engine_obs_asg *a = &o->asg;

	a->min = w->min;
	a->max = w->max;
	a->desired = w->desired;
	a->health_check_ec2 = true;
	a->suspended = w->suspended;
	a->new_protected = w->new_protected;
	for (int i = 0; i < w->ninst; i++) {
		const struct w_inst *in = &w->inst[i];
		struct engine_obs_instance *oi = &a->inst[a->ninst++];

		engine_strlcpy(oi->id, in->id, sizeof(oi->id));
		engine_strlcpy(oi->ip, in->ip, sizeof(oi->ip));
		oi->lifecycle = in->lc;
		oi->healthy = in->healthy;
		oi->protected = in->protected;
		oi->elb = in->elb;
		oi->has_cpu = true;
		oi->cpu = 10.0 + (double)(i % 5);
	}
	for (int i = w->nact - 1; i >= 0 && a->nact < ENGINE_ACTIVITIES_MAX; i--) {
		struct engine_obs_activity *oa = &a->act[a->nact++];

		engine_strlcpy(oa->id, w->act[i].id, sizeof(oa->id));
		engine_strlcpy(oa->instance, w->act[i].inst, sizeof(oa->instance));
		oa->terminate = w->act[i].terminate;
		oa->status = w->act[i].status;
	}
	for (int i = 0; i < w->nact; i++)
		if (w->act[i].status == ENGINE_ACTIVITY_IN_PROGRESS)
			a->activity_in_progress = true;
}

static void
observe_zdu(const struct world *w, struct engine_obs *o)
{
	struct engine_obs_zdu *z = &o->zdu;

	z->state = w_state(w);
	snprintf(z->state_name, sizeof(z->state_name), "%s",
	    zdu_cluster_state_name(z->state));
	z->upgrade_mode = w->upgrade_mode;
	z->poll = w->poll;
	for (int i = 0; i < w->nz; i++) {
		struct engine_obs_znode *n = &z->nodes[z->nnodes++];

		engine_strlcpy(n->ip, w->z[i].ip, sizeof(n->ip));
		n->state = w->z[i].state;
		engine_strlcpy(n->version, w->z[i].version, sizeof(n->version));
		n->tasks = w->z[i].tasks;
		n->users = w->z[i].users;
	}
}

/* Every part, as a shell would read them; the change set and events the core asked. */
static void
world_observe(const struct world *w, const struct engine_decision *last,
    struct engine_obs *o)
{
	memset(o, 0, sizeof(*o));
	o->have = ENGINE_OBS_STACK | ENGINE_OBS_ASG | ENGINE_OBS_ACTIVITIES |
	    ENGINE_OBS_EC2 | ENGINE_OBS_ELB | ENGINE_OBS_ZDU | ENGINE_OBS_CPU |
	    ENGINE_OBS_ALARMS | ENGINE_OBS_IDENTITY;
	if (last->need_changeset[0] != '\0')
		o->have |= ENGINE_OBS_CHANGESET;
	if (last->need_token[0] != '\0')
		o->have |= ENGINE_OBS_EVENTS;
	o->identity_ok = true;
	observe_stack(w, last, o);
	observe_changeset(w, last, o);
	observe_group(w, o);
	observe_zdu(w, o);
}

static int
w_serving(struct world *w)
{
	int n = 0;

	for (int i = 0; i < w->ninst; i++) {
		struct w_inst *in = &w->inst[i];
		struct w_znode *z = w_znode(w, in->ip);

		if (in->lc == ENGINE_LC_IN_SERVICE && in->healthy &&
		    in->elb == ENGINE_ELB_IN_SERVICE && z != NULL &&
		    z->state == ZDU_NODE_ACTIVE)
			n++;
	}
	return n;
}

/* I1 and I2, independently of the core's own accounting. */
static void
w_check(struct world *w)
{
	int out = 0;

	if (!w->started)
		return;
	if (w_serving(w) < w->n0)
		wv(w, "I1: %d nodes serving, fewer than %d", w_serving(w), w->n0);
	for (int i = 0; i < w->ninst; i++) {
		struct w_inst *in = &w->inst[i];

		if (in->lc == ENGINE_LC_TERMINATING || (in->deregistered &&
		    in->lc != ENGINE_LC_TERMINATED))
			out++;
	}
	if (out > w->k)
		wv(w, "I2: %d nodes out of service, more than k=%d", out, w->k);
}

static void
w_leave_zdu(struct world *w, const char *ip)
{
	for (int i = 0; i < w->nz; i++) {
		if (strcmp(w->z[i].ip, ip) != 0 || w->z[i].state == ZDU_NODE_OFFLINE)
			continue;
		if (w->z[i].snapshot && w->upgrade_mode) {
			w->z[i].state = ZDU_NODE_OFFLINE;
			continue;
		}
		w->z[i] = w->z[--w->nz];
		i--;
	}
}

static void
w_terminate(struct world *w, struct w_inst *in, char *act, size_t len)
{
	if (in->elb != ENGINE_ELB_NOT_REGISTERED && !w->aws_own)
		wv(w, "I4: %s terminated while registered with the load balancer", in->id);
	in->lc = ENGINE_LC_TERMINATING;
	in->timer = 0;
	w_add_act(w, in->id, true, act, len);
	w->terminations++;
}

static int
w_live(const struct world *w)
{
	int n = 0;

	for (int i = 0; i < w->ninst; i++)
		if (w->inst[i].lc == ENGINE_LC_PENDING || w->inst[i].lc == ENGINE_LC_IN_SERVICE)
			n++;
	return n;
}

static bool
w_busy(const struct world *w)
{
	for (int i = 0; i < w->nact; i++)
		if (w->act[i].status == ENGINE_ACTIVITY_IN_PROGRESS)
			return true;
	return false;
}

/* The group reaches desired: launch what is missing, scale in the unprotected. */
static void
w_capacity(struct world *w)
{
	int live = w_live(w);

	if (w_busy(w))
		return;
	while (live < w->desired && !(w->suspended & ENGINE_PROC_LAUNCH)) {
		w_launch(w, false);
		live++;
		if (w->one_launch)
			break;
	}
	while (live > w->desired) {
		struct w_inst *pick = NULL;

		for (int i = 0; i < w->ninst && pick == NULL; i++)
			if (w->inst[i].lc == ENGINE_LC_IN_SERVICE && !w->inst[i].protected)
				pick = &w->inst[i];
		if (pick == NULL)
			return;		/* scale-in blocked by protection */
		w_terminate(w, pick, NULL, 0);
		w->terminations--;
		live--;
	}
}

static void
w_tick_inst(struct world *w, struct w_inst *in)
{
	struct w_znode *z;
	struct w_act *a;

	in->timer++;
	if (in->elb == ENGINE_ELB_DRAINING && ++in->elb_timer >= 1)
		in->elb = ENGINE_ELB_NOT_REGISTERED;
	switch (in->lc) {
	case ENGINE_LC_PENDING:
		in->lc = ENGINE_LC_IN_SERVICE;
		if ((a = w_act_for(w, in->id, false)) != NULL)
			a->status = ENGINE_ACTIVITY_SUCCESSFUL;
		z = &w->z[w->nz++];
		memset(z, 0, sizeof(*z));
		engine_strlcpy(z->ip, in->ip, sizeof(z->ip));
		engine_strlcpy(z->version, in->version, sizeof(z->version));
		z->state = ZDU_NODE_STARTING;
		w_load(atoi(in->id + 2), &z->tasks, &z->users);
		z->tasks %= 3;
		break;
	case ENGINE_LC_IN_SERVICE:
		if ((z = w_znode(w, in->ip)) == NULL)
			break;
		if (z->state == ZDU_NODE_STARTING)
			z->state = in->fail ? ZDU_NODE_ERROR : ZDU_NODE_ACTIVE;
		else if (z->state == ZDU_NODE_ACTIVE && in->elb == ENGINE_ELB_UNHEALTHY)
			in->elb = ENGINE_ELB_IN_SERVICE;
		break;
	case ENGINE_LC_TERMINATING:
		if (in->elb == ENGINE_ELB_DRAINING)
			break;		/* WaitingForELBConnectionDraining */
		in->lc = ENGINE_LC_TERMINATED;
		w_leave_zdu(w, in->ip);
		if ((a = w_act_for(w, in->id, true)) != NULL)
			a->status = ENGINE_ACTIVITY_SUCCESSFUL;
		break;
	default:
		break;
	}
}

static void
w_add_event(struct world *w, const char *token, enum engine_stack_event ev)
{
	struct w_event *e = &w->ev[w->nev++ % W_EVENT_MAX];

	if (w->nev > W_EVENT_MAX)
		w->nev = W_EVENT_MAX;
	engine_strlcpy(e->token, token, sizeof(e->token));
	e->ev = ev;
}

static void
w_tick_stack(struct world *w)
{
	if (!w->updating)
		return;
	if (w->status == ENGINE_STACK_ROLLBACK_IN_PROGRESS) {
		engine_strlcpy(w->version, w->old_version, sizeof(w->version));
		w->smin = w->min = w->desired = w->old_min;
		w->smax = w->max = w->old_max;
		w->status = ENGINE_STACK_UPDATE_ROLLBACK_COMPLETE;
		w->updating = false;
		w_add_event(w, w->upd_token, ENGINE_EVENT_ROLLED_BACK);
		w->aws_own = true;	/* the group scales in by its own choice (6) */
		w_capacity(w);
		w->aws_own = false;
		return;
	}
	if (w->rollback_next) {
		w->rollback_next = false;
		w->status = ENGINE_STACK_ROLLBACK_IN_PROGRESS;
		return;
	}
	/* Lowering the counts: CloudFormation waits for the scale-in (9). */
	if (w->lowering && w_live(w) > w->desired)
		return;
	w->status = ENGINE_STACK_UPDATE_COMPLETE;
	w->updating = false;
	w_add_event(w, w->upd_token, ENGINE_EVENT_COMPLETE);
}

/* Time passes: one poll interval. */
static void
world_tick(struct world *w)
{
	int n = w->ninst;

	for (int i = 0; i < w->ncs; i++)
		if (w->cs[i].status == ENGINE_CS_PENDING) {
			bool same = strcmp(w->cs[i].version, w->version) == 0 &&
			    w->cs[i].min == w->smin && w->cs[i].max == w->smax;

			w->cs[i].status = same ? ENGINE_CS_FAILED : ENGINE_CS_COMPLETE;
			w->cs[i].exec = same ? ENGINE_CSX_UNAVAILABLE : ENGINE_CSX_AVAILABLE;
			if (same)
				snprintf(w->cs[i].reason, sizeof(w->cs[i].reason), "The "
				    "submitted information didn't contain changes.");
		}
	for (int i = 0; i < n; i++)
		w_tick_inst(w, &w->inst[i]);
	for (int i = 0; i < w->ninst; i++)
		if (w->inst[i].lc == ENGINE_LC_TERMINATED && w->inst[i].timer > 1) {
			w->inst[i] = w->inst[--w->ninst];
			i--;
		} else if (w->inst[i].lc == ENGINE_LC_TERMINATED)
			w->inst[i].timer++;
	w_capacity(w);
	w_tick_stack(w);
	w->poll++;
	w_check(w);
}

static struct w_cs *
w_cs(struct world *w, const char *name)
{
	for (int i = 0; i < w->ncs; i++)
		if (strcmp(w->cs[i].name, name) == 0)
			return &w->cs[i];
	return NULL;
}

static void
w_execute(struct world *w, struct w_cs *cs, const char *token)
{
	engine_strlcpy(w->old_version, w->version, sizeof(w->old_version));
	w->old_min = w->smin;
	w->old_max = w->smax;
	engine_strlcpy(w->version, cs->version, sizeof(w->version));
	w->lowering = cs->min < w->smin;
	w->smin = w->min = w->desired = cs->min;
	w->smax = w->max = cs->max;
	w->status = ENGINE_STACK_IN_PROGRESS;
	w->updating = true;
	engine_strlcpy(w->upd_token, token, sizeof(w->upd_token));
	cs->exec = ENGINE_CSX_COMPLETE;
	w_capacity(w);
}

static enum engine_out
w_zdu(struct world *w, enum engine_act_kind k)
{
	enum zdu_cluster_state s = w_state(w);

	if (k == ENGINE_ACT_ZDU_START) {
		if (s != ZDU_STABLE)
			return ENGINE_OUT_CONFLICT;
		w->upgrade_mode = true;
		w->started = true;
		engine_strlcpy(w->original, w->z[0].version, sizeof(w->original));
		for (int i = 0; i < w->nz; i++)
			w->z[i].snapshot = true;
		return ENGINE_OUT_DONE;
	}
	if (s != (k == ENGINE_ACT_ZDU_APPROVE ? ZDU_READY_TO_RUN_UPGRADE_TASKS :
	    ZDU_READY_TO_UPGRADE))
		return ENGINE_OUT_CONFLICT;
	w->approved = k == ENGINE_ACT_ZDU_APPROVE;
	w->upgrade_mode = false;
	w->started = false;
	for (int i = 0; i < w->nz; i++) {
		w->z[i].snapshot = false;
		if (w->z[i].state == ZDU_NODE_OFFLINE) {
			w->z[i] = w->z[--w->nz];
			i--;
		}
	}
	return ENGINE_OUT_DONE;
}

static void
w_targets(struct world *w, const struct engine_action *a)
{
	for (size_t i = 0; i < a->ntargets; i++) {
		if (strcmp(a->targets[i], FILESERVER) == 0)
			wv(w, "I3: %s acted on the FileServer", engine_act_name(a->kind));
		else if (w_find(w, a->targets[i]) == NULL)
			wv(w, "I3: %s on %s, not a member", engine_act_name(a->kind),
			    a->targets[i]);
	}
}

static void
w_changeset(struct world *w, const struct engine_action *a, struct engine_outcome *out)
{
	struct w_cs *cs = w_cs(w, a->changeset);

	switch (a->kind) {
	case ENGINE_ACT_CREATE_CHANGESET:
		ck_assert_ptr_null(cs);
		cs = &w->cs[w->ncs++ % W_CS_MAX];
		if (w->ncs > W_CS_MAX)
			w->ncs = W_CS_MAX;
		memset(cs, 0, sizeof(*cs));
		engine_strlcpy(cs->name, a->changeset, sizeof(cs->name));
		engine_strlcpy(cs->version, a->version, sizeof(cs->version));
		cs->min = a->min;
		cs->max = a->max;
		cs->status = ENGINE_CS_PENDING;
		cs->drift = w->drift;
		break;
	case ENGINE_ACT_EXECUTE_CHANGESET:
		ck_assert_ptr_nonnull(cs);
		if (w->updating || cs->exec != ENGINE_CSX_AVAILABLE)
			out->kind = ENGINE_OUT_FAILED;
		else
			w_execute(w, cs, a->token);
		break;
	default:
		if (cs != NULL)
			*cs = w->cs[--w->ncs];
		break;
	}
}

/* The effect of one call; out is what the shell would commit. */
static void
world_perform(struct world *w, const struct engine_action *a, struct engine_outcome *out)
{
	struct w_inst *in;

	memset(out, 0, sizeof(*out));
	out->kind = ENGINE_OUT_DONE;
	w_targets(w, a);
	switch (a->kind) {
	case ENGINE_ACT_ZDU_START:
	case ENGINE_ACT_ZDU_APPROVE:
	case ENGINE_ACT_ZDU_CANCEL:
		out->kind = w_zdu(w, a->kind);
		break;
	case ENGINE_ACT_PROTECT:
		for (size_t i = 0; i < a->ntargets; i++)
			if ((in = w_find(w, a->targets[i])) != NULL)
				in->protected = a->protect;
		break;
	case ENGINE_ACT_SUSPEND:
		if (a->processes == 0 || (a->processes & (ENGINE_PROC_LAUNCH |
		    ENGINE_PROC_TERMINATE | ENGINE_PROC_ADD_TO_LB)))
			wv(w, "behaviour 13: suspended %#x", a->processes);
		w->suspended |= a->processes;
		break;
	case ENGINE_ACT_RESUME:
		w->suspended &= ~a->processes;
		break;
	case ENGINE_ACT_DEREGISTER:
		for (size_t i = 0; i < a->ntargets; i++)
			if ((in = w_find(w, a->targets[i])) != NULL) {
				if (in->elb != ENGINE_ELB_NOT_REGISTERED)
					in->elb = ENGINE_ELB_DRAINING;
				in->deregistered = true;
				in->elb_timer = 0;
			}
		break;
	case ENGINE_ACT_REGISTER:
		for (size_t i = 0; i < a->ntargets; i++)
			if ((in = w_find(w, a->targets[i])) != NULL) {
				in->elb = ENGINE_ELB_UNHEALTHY;
				in->deregistered = false;
			}
		break;
	case ENGINE_ACT_TERMINATE:
		if ((in = w_find(w, a->targets[0])) == NULL ||
		    in->lc != ENGINE_LC_IN_SERVICE) {
			out->kind = ENGINE_OUT_FAILED;
			break;
		}
		for (int i = 0; i < w->ninst; i++)
			if (w->inst[i].lc == ENGINE_LC_TERMINATING)
				wv(w, "I2: a second termination while %s terminates",
				    w->inst[i].id);
		w_terminate(w, in, out->activity, sizeof(out->activity));
		break;
	default:
		w_changeset(w, a, out);
		break;
	}
	w_check(w);
}

/* I6 on the world, for the mode the upgrade ended in. */
static void
world_check_end(struct world *w, const char *version)
{
	ck_assert_msg(w->violation[0] == '\0', "%s", w->violation);
	ck_assert_str_eq(w->version, version);
	ck_assert_int_eq(w->smin, w->n0);
	ck_assert_int_eq(w->smax, 2 * w->n0);
	ck_assert_int_eq(w->min, w->n0);
	ck_assert_int_eq(w->max, 2 * w->n0);
	ck_assert_int_eq(w->desired, w->n0);
	ck_assert_int_eq(w_live(w), w->n0);
	ck_assert_int_eq(w_serving(w), w->n0);
	ck_assert_int_eq(w_state(w), ZDU_STABLE);
	ck_assert_uint_eq(w->suspended, w->suspended0);
	for (int i = 0; i < w->ninst; i++) {
		struct w_inst *in = &w->inst[i];
		struct w_znode *z = w_znode(w, in->ip);

		if (in->lc == ENGINE_LC_TERMINATED)
			continue;
		ck_assert_ptr_nonnull(z);
		ck_assert_str_eq(z->version, version);
		ck_assert_msg(in->protected == (in->original ? false : w->new_protected),
		    "%s: protection not restored", in->id);
	}
}

/* ------------------------------------------------------------------------- */
/* The simulation driver: the shell's loop over the fake world                */
/* ------------------------------------------------------------------------- */

#define SIM_STEPS	4000

struct sim {
	struct world		 w;
	struct engine_upgrade	 u;
	struct engine_decision	 d;
	struct engine_obs	 o;
	int			 steps;
	bool			 crash_checks;
	bool			 halt_ok;	/* a halt ends the run instead of failing it */
	int			 calls[ENGINE_ACT_FINISH + 1];
};

static struct sim *
sim_new(int n, int k, bool literal, enum engine_on_failure policy)
{
	struct sim *s = calloc(1, sizeof(*s));

	ck_assert_ptr_nonnull(s);
	world_init(&s->w, n, k);
	ck_assert_int_eq(engine_upgrade_init(&s->u, 42, "prod", TO, k, policy, literal), 0);
	return s;
}

/* What a restarted shell does: read everything, then what the core asks for. */
static enum engine_verdict
decide_fresh(const struct world *w, const struct engine_upgrade *u,
    struct engine_obs *o, struct engine_decision *d)
{
	enum engine_verdict v;

	memset(d, 0, sizeof(*d));
	world_observe(w, d, o);
	v = engine_decide(u, o, d);
	if (v == ENGINE_WAIT && d->wait == ENGINE_WAIT_OBSERVE) {
		world_observe(w, d, o);
		v = engine_decide(u, o, d);
	}
	return v;
}

/* The effects AWS shows with a lag (behaviour 10). */
static bool
lags(enum engine_act_kind k)
{
	return k == ENGINE_ACT_PROTECT || k == ENGINE_ACT_SUSPEND || k == ENGINE_ACT_RESUME;
}

/*
 * A crash at this step, three ways: before the intent (the same action with the same
 * token), after the intent but before the call (the same call again, or for a
 * termination a wait), after the call but before the outcome (resolved as done, with
 * the same resulting state as the normal path).
 */
static void
crash_checks(struct sim *s, const struct world *w, const struct engine_upgrade *after)
{
	struct sim *c = calloc(1, sizeof(*c));
	struct engine_upgrade *u2 = &c->u;
	struct engine_outcome out;

	ck_assert_ptr_nonnull(c);
	ck_assert_msg(decide_fresh(w, &s->u, &c->o, &c->d) == ENGINE_ACT,
	    "step %d: re-decided: %s", s->steps, c->d.message);
	ck_assert_msg(memcmp(&c->d.act, &s->d.act, sizeof(c->d.act)) == 0,
	    "step %d: re-decided %s %s, was %s %s", s->steps,
	    engine_act_name(c->d.act.kind), c->d.act.token,
	    engine_act_name(s->d.act.kind), s->d.act.token);

	*u2 = s->u;
	engine_intent(u2, &s->d);
	decide_fresh(w, u2, &c->o, &c->d);
	if (lags(s->d.act.kind)) {
		/* Not shown yet may mean not shown yet: sent again after the window. */
		ck_assert_msg(c->d.verdict == ENGINE_WAIT && c->d.wait == ENGINE_WAIT_VISIBLE,
		    "step %d: open %s sent again at once", s->steps,
		    engine_act_name(s->d.act.kind));
		c->o.deadline_passed = true;
		engine_strlcpy(c->o.deadline_marker, c->d.progress,
		    sizeof(c->o.deadline_marker));
		memset(&c->d, 0, sizeof(c->d));
		engine_decide(u2, &c->o, &c->d);
	}
	if (s->d.act.kind == ENGINE_ACT_TERMINATE)
		ck_assert_msg(c->d.verdict == ENGINE_WAIT && c->d.wait == ENGINE_WAIT_VISIBLE,
		    "step %d: open termination not waited for", s->steps);
	else {
		ck_assert_int_eq(c->d.verdict, ENGINE_ACT);
		ck_assert_int_eq(c->d.resolve, ENGINE_RESOLVE_REISSUE);
		ck_assert_str_eq(c->d.act.token, s->d.act.token);
		ck_assert_int_eq(engine_guard(u2, &c->o, &c->d), ENGINE_ACT);
	}

	c->w = *w;
	world_perform(&c->w, &s->d.act, &out);
	decide_fresh(&c->w, u2, &c->o, &c->d);
	ck_assert_msg(c->d.verdict == ENGINE_ACT && c->d.resolve == ENGINE_RESOLVE_DONE,
	    "step %d: %s performed but not resolved as done (%s)", s->steps,
	    engine_act_name(s->d.act.kind), c->d.message);
	engine_apply(u2, &c->d, NULL);
	ck_assert_msg(memcmp(u2, after, sizeof(*u2)) == 0, "step %d: resolving %s "
	    "gives another state than its outcome", s->steps,
	    engine_act_name(s->d.act.kind));
	free(c);
}

static void
sim_call(struct sim *s)
{
	struct engine_upgrade before = s->u;
	struct world *wb = NULL;
	struct engine_outcome out;

	ck_assert_msg(s->d.resolve == ENGINE_RESOLVE_NONE, "step %d: %s", s->steps,
	    s->d.message);
	ck_assert_msg(engine_guard(&s->u, &s->o, &s->d) == ENGINE_ACT, "step %d: %s",
	    s->steps, s->d.message);
	ck_assert_msg(engine_token_valid(s->d.act.token), "%s", s->d.act.token);
	if (s->crash_checks) {
		wb = malloc(sizeof(*wb));
		ck_assert_ptr_nonnull(wb);
		*wb = s->w;
	}
	engine_intent(&s->u, &s->d);
	world_perform(&s->w, &s->d.act, &out);
	engine_apply(&s->u, &s->d, &out);
	s->calls[s->d.act.kind]++;
	if (s->crash_checks && out.kind == ENGINE_OUT_DONE) {
		struct engine_upgrade *after = malloc(sizeof(*after));

		ck_assert_ptr_nonnull(after);
		*after = s->u;
		s->u = before;
		crash_checks(s, wb, after);
		s->u = *after;
		free(after);
	}
	free(wb);
}

static long	total_steps;	/* for the curious: ENGINE_STEPS=1 prints them */

/* A bookkeeping decision, re-derived by a restarted shell: the same. */
static void
same_after_restart(struct sim *s)
{
	struct engine_decision *d = malloc(sizeof(*d));
	struct engine_obs *o = malloc(sizeof(*o));

	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(decide_fresh(&s->w, &s->u, o, d), ENGINE_ACT);
	ck_assert_msg(memcmp(&d->act, &s->d.act, sizeof(d->act)) == 0 &&
	    d->next_phase == s->d.next_phase && d->nfacts == s->d.nfacts,
	    "step %d: re-decided %s, was %s", s->steps, engine_act_name(d->act.kind),
	    engine_act_name(s->d.act.kind));
	free(d);
	free(o);
}

/* One decision and its effect, as the shell's loop does it. */
static enum engine_verdict
sim_step(struct sim *s)
{
	enum engine_verdict v;

	world_observe(&s->w, &s->d, &s->o);
	v = engine_decide(&s->u, &s->o, &s->d);
	if (getenv("ENGINE_TRACE") != NULL)
		fprintf(stderr, "%4d %-9s %-5s %-18s %s\n", s->steps,
		    engine_phase_name(s->u.phase), v == ENGINE_ACT ? "ACT" : v ==
		    ENGINE_WAIT ? "wait" : v == ENGINE_HALT ? "HALT" : "done",
		    v == ENGINE_ACT ? engine_act_name(s->d.act.kind) : v == ENGINE_WAIT ?
		    engine_wait_name(s->d.wait) : "", s->d.message);
	switch (v) {
	case ENGINE_ACT:
		if (engine_act_is_call(s->d.act.kind))
			sim_call(s);
		else {
			if (s->crash_checks)
				same_after_restart(s);
			engine_apply(&s->u, &s->d, NULL);
		}
		break;
	case ENGINE_WAIT:
		if (s->d.wait != ENGINE_WAIT_OBSERVE)
			world_tick(&s->w);
		break;
	case ENGINE_HALT:
		ck_assert_msg(s->halt_ok, "step %d: halted: %s", s->steps, s->d.message);
		engine_apply(&s->u, &s->d, NULL);
		break;
	case ENGINE_DONE:
		break;
	}
	ck_assert_msg(s->w.violation[0] == '\0', "step %d (%s): %s", s->steps,
	    s->d.message, s->w.violation);
	s->steps++;
	total_steps++;
	return v;
}

static enum engine_verdict
sim_run(struct sim *s, int max)
{
	enum engine_verdict v = ENGINE_WAIT;

	while (s->steps < max) {
		v = sim_step(s);
		if (v == ENGINE_DONE || v == ENGINE_HALT)
			break;
	}
	return v;
}

static void
sim_done(struct sim *s, enum engine_state final, const char *version)
{
	ck_assert_msg(sim_run(s, SIM_STEPS) == ENGINE_DONE, "not done after %d steps "
	    "(%d calls): %s", s->steps, s->calls[ENGINE_ACT_ZDU_START], s->d.message);
	ck_assert_int_eq(s->u.state, final);
	world_check_end(&s->w, version);
}

/* ------------------------------------------------------------------------- */
/* Simulations                                                                */
/* ------------------------------------------------------------------------- */

static const struct {
	int	 n, k;
	bool	 literal;
	bool	 new_protected;
	unsigned suspended;
} happy[] = {
	{ 4, 1, false, false, 0 },
	{ 4, 2, false, false, 0 },
	{ 4, 4, false, false, 0 },		/* blue/green */
	{ 4, 1, true, false, 0 },		/* the seed's literal order */
	{ 4, 2, true, false, 0 },
	{ 3, 1, false, true, ENGINE_PROC_AZ_REBALANCE },
	{ 6, 2, false, false, ENGINE_PROC_SCHEDULED },
};

START_TEST(sim_happy_path)
{
	struct sim *s = sim_new(happy[_i].n, happy[_i].k, happy[_i].literal,
	    ENGINE_ON_FAILURE_HALT);
	int n = happy[_i].n, k = happy[_i].k;

	s->w.new_protected = happy[_i].new_protected;
	s->w.suspended = s->w.suspended0 = happy[_i].suspended;
	s->crash_checks = true;
	sim_done(s, ENGINE_STATE_DONE, TO);
	ck_assert_int_eq(s->u.replaced, happy[_i].literal ? n : n - k);
	ck_assert_int_eq(s->u.retired, k);
	ck_assert_int_eq(s->w.terminations, happy[_i].literal ? n : n - k);
	ck_assert_int_eq(s->u.drains_clean, (happy[_i].literal ? n : n - k) + k);
	ck_assert_int_eq(s->calls[ENGINE_ACT_EXECUTE_CHANGESET], 2);
	ck_assert_int_eq(s->calls[ENGINE_ACT_ZDU_START], 1);
	ck_assert_int_eq(s->calls[ENGINE_ACT_ZDU_APPROVE], 1);
	ck_assert_int_eq(s->calls[ENGINE_ACT_SUSPEND], 1);
	ck_assert_int_eq(s->calls[ENGINE_ACT_RESUME], 1);
	free(s);
}
END_TEST

/* Runs until the upgrade reaches the phase (and, if rep >= 0, that many replacements). */
static void
sim_until(struct sim *s, enum engine_phase ph, int rep)
{
	while (s->steps < SIM_STEPS && (s->u.phase < ph || (rep >= 0 &&
	    s->u.replaced < rep)) && s->u.state == ENGINE_STATE_RUNNING)
		sim_step(s);
	ck_assert_int_eq(s->u.state, ENGINE_STATE_RUNNING);
}

static int
originals_serving(struct world *w)
{
	int n = 0;

	for (int i = 0; i < w->ninst; i++)
		if (w->inst[i].original && w->inst[i].lc == ENGINE_LC_IN_SERVICE &&
		    w->inst[i].elb == ENGINE_ELB_IN_SERVICE)
			n++;
	return n;
}

/* The surge node is the canary: it fails, and what happens is the policy's. */
START_TEST(sim_canary_fails)
{
	static const enum engine_on_failure policy[] = { ENGINE_ON_FAILURE_HALT,
	    ENGINE_ON_FAILURE_RETRY, ENGINE_ON_FAILURE_ROLLBACK };
	struct sim *s = sim_new(4, 1, false, policy[_i]);
	char why[256];

	s->halt_ok = true;
	s->crash_checks = true;
	s->crash_checks = true;
	sim_until(s, ENGINE_PH_SCALE_OUT, -1);
	s->w.fail_next_launch = true;
	switch (policy[_i]) {
	case ENGINE_ON_FAILURE_HALT:
		ck_assert_int_eq(sim_run(s, SIM_STEPS), ENGINE_HALT);
		ck_assert_int_eq(s->u.halt, ENGINE_HALT_NODE_ERROR);
		ck_assert_int_eq(s->u.phase, ENGINE_PH_SURGE);
		ck_assert_ptr_nonnull(strstr(s->u.reason, "canary"));
		ck_assert_int_eq(originals_serving(&s->w), 4);
		ck_assert_int_eq(s->w.terminations, 0);
		/* The operator cancels from the halt: the failed surge goes. */
		ck_assert_int_eq(engine_cmd_cancel(&s->u, why, sizeof(why)),
		    ENGINE_CMD_ACCEPTED);
		s->halt_ok = false;
		sim_done(s, ENGINE_STATE_CANCELLED, FROM);
		break;
	case ENGINE_ON_FAILURE_RETRY:
		sim_done(s, ENGINE_STATE_DONE, TO);
		ck_assert_int_eq(s->w.terminations, 4);	/* the failed surge, 3 originals */
		break;
	case ENGINE_ON_FAILURE_ROLLBACK:
		sim_done(s, ENGINE_STATE_ROLLED_BACK, FROM);
		ck_assert_int_eq(s->u.replaced, 0);
		ck_assert_int_eq(s->w.terminations, 0);	/* the surge left by scale-in */
		break;
	}
	free(s);
}
END_TEST

/* A replacement in ERROR after one original was replaced. */
START_TEST(sim_replacement_fails)
{
	static const enum engine_on_failure policy[] = { ENGINE_ON_FAILURE_HALT,
	    ENGINE_ON_FAILURE_RETRY, ENGINE_ON_FAILURE_ROLLBACK };
	struct sim *s = sim_new(4, 1, false, policy[_i]);
	char why[256];

	s->halt_ok = true;
	s->crash_checks = true;
	s->crash_checks = true;
	sim_until(s, ENGINE_PH_REPLACE, 1);
	s->w.fail_next_launch = true;
	switch (policy[_i]) {
	case ENGINE_ON_FAILURE_HALT:
		ck_assert_int_eq(sim_run(s, SIM_STEPS), ENGINE_HALT);
		ck_assert_int_eq(s->u.halt, ENGINE_HALT_NODE_ERROR);
		ck_assert_int_eq(s->u.replaced, 1);
		/* The operator rolls back from the halt: the failed node goes too. */
		ck_assert_int_eq(engine_cmd_rollback(&s->u, why, sizeof(why)),
		    ENGINE_CMD_ACCEPTED);
		s->halt_ok = false;
		sim_done(s, ENGINE_STATE_ROLLED_BACK, FROM);
		break;
	case ENGINE_ON_FAILURE_RETRY:
		sim_done(s, ENGINE_STATE_DONE, TO);
		ck_assert_int_eq(s->w.terminations, 4);
		break;
	case ENGINE_ON_FAILURE_ROLLBACK:
		sim_done(s, ENGINE_STATE_ROLLED_BACK, FROM);
		break;
	}
	free(s);
}
END_TEST

/* The same node fails again after its retry: halt, whatever the policy says. */
START_TEST(sim_retry_once_then_halt)
{
	struct sim *s = sim_new(4, 1, false, ENGINE_ON_FAILURE_RETRY);

	s->halt_ok = true;
	sim_until(s, ENGINE_PH_REPLACE, 1);
	s->w.fail_next_launch = true;
	while (s->steps < SIM_STEPS && s->calls[ENGINE_ACT_TERMINATE] < 3)
		sim_step(s);
	s->w.fail_next_launch = true;	/* the retry's instance fails too */
	ck_assert_int_eq(sim_run(s, SIM_STEPS), ENGINE_HALT);
	ck_assert_int_eq(s->u.halt, ENGINE_HALT_NODE_ERROR);
	ck_assert_ptr_nonnull(strstr(s->u.reason, "already replaced once"));
	free(s);
}
END_TEST

/* The scale-out rolls back: halt with the reasons; resume tries again and finishes. */
START_TEST(sim_stack_rolls_back)
{
	struct sim *s = sim_new(4, 1, false, ENGINE_ON_FAILURE_HALT);
	char why[256];

	s->halt_ok = true;
	sim_until(s, ENGINE_PH_SCALE_OUT, -1);
	s->w.rollback_next = true;
	ck_assert_int_eq(sim_run(s, SIM_STEPS), ENGINE_HALT);
	ck_assert_int_eq(s->u.halt, ENGINE_HALT_STACK_ROLLED_BACK);
	ck_assert_ptr_nonnull(strstr(s->u.reason, "simulated failure"));
	ck_assert_int_eq(s->u.stack.step, ENGINE_SC_IDLE);
	ck_assert_int_eq(engine_cmd_resume(&s->u, why, sizeof(why)), ENGINE_CMD_ACCEPTED);
	s->halt_ok = false;
	sim_done(s, ENGINE_STATE_DONE, TO);
	free(s);
}
END_TEST

/* A change set that would change the load balancer: deleted, halt, stack untouched. */
START_TEST(sim_changeset_drift)
{
	struct sim *s = sim_new(4, 1, false, ENGINE_ON_FAILURE_HALT);

	s->halt_ok = true;
	s->w.drift = true;
	ck_assert_int_eq(sim_run(s, SIM_STEPS), ENGINE_HALT);
	ck_assert_int_eq(s->u.halt, ENGINE_HALT_CHANGESET_REFUSED);
	ck_assert_ptr_nonnull(strstr(s->u.reason, "LoadBalancer"));
	ck_assert_int_eq(s->w.ncs, 0);
	ck_assert_str_eq(s->w.version, FROM);
	ck_assert_int_eq(s->w.smin, 4);
	ck_assert_int_eq(s->calls[ENGINE_ACT_DELETE_CHANGESET], 1);
	ck_assert_int_eq(s->calls[ENGINE_ACT_EXECUTE_CHANGESET], 0);
	free(s);
}
END_TEST

/* Someone raises desired, or terminates an original: halt. */
START_TEST(sim_foreign_changes)
{
	struct sim *s = sim_new(4, 1, false, ENGINE_ON_FAILURE_HALT);

	s->halt_ok = true;
	sim_until(s, ENGINE_PH_REPLACE, -1);
	if (_i == 0)
		s->w.desired++;
	else
		s->w.inst[3].lc = ENGINE_LC_TERMINATING;
	ck_assert_int_eq(sim_run(s, SIM_STEPS), ENGINE_HALT);
	ck_assert_int_eq(s->u.halt, ENGINE_HALT_FOREIGN);
	free(s);
}
END_TEST

static const struct {
	int	 n, k;
	bool	 literal;
	bool	 one_launch;
} cmd_cfg[] = {
	{ 4, 1, false, false },
	{ 4, 2, false, false },
	{ 4, 1, true, false },
	{ 3, 3, false, false },
	{ 4, 2, false, true },		/* the surge arrives one instance at a time */
};

/* A reference run: how many steps the happy path takes for this configuration. */
static int
reference_steps(int cfg)
{
	struct sim *s = sim_new(cmd_cfg[cfg].n, cmd_cfg[cfg].k, cmd_cfg[cfg].literal,
	    ENGINE_ON_FAILURE_HALT);
	int steps;

	s->w.one_launch = cmd_cfg[cfg].one_launch;
	sim_done(s, ENGINE_STATE_DONE, TO);
	steps = s->steps;
	free(s);
	return steps;
}


/* ENGINE_AT=n starts the every-step loops at step n, to debug one. */
static int
first_step(void)
{
	const char *at = getenv("ENGINE_AT");

	return at != NULL ? atoi(at) : 0;
}

static struct sim *
sim_at(int cfg, int step)
{
	struct sim *s = sim_new(cmd_cfg[cfg].n, cmd_cfg[cfg].k, cmd_cfg[cfg].literal,
	    ENGINE_ON_FAILURE_HALT);

	s->w.one_launch = cmd_cfg[cfg].one_launch;
	while (s->steps < step && s->u.state == ENGINE_STATE_RUNNING)
		sim_step(s);
	s->crash_checks = true;		/* from the command on */
	return s;
}

static bool
drained_alive(const struct world *w)
{
	for (int i = 0; i < w->ninst; i++)
		if (w->inst[i].deregistered && w->inst[i].lc == ENGINE_LC_IN_SERVICE)
			return true;
	return false;
}

/* Pause at every step: it takes effect at a safe point only, then resumes to DONE. */
START_TEST(sim_pause_every_step)
{
	int total = reference_steps(_i);
	char why[256];

	for (int at = first_step(); at < total; at++) {
		struct sim *s = sim_at(_i, at);
		enum engine_cmd r = engine_cmd_pause(&s->u, why, sizeof(why));

		if (s->u.state == ENGINE_STATE_DONE) {
			ck_assert_int_eq(r, ENGINE_CMD_REFUSED);
			free(s);
			continue;
		}
		ck_assert_int_eq(r, ENGINE_CMD_ACCEPTED);
		ck_assert_int_eq(engine_cmd_pause(&s->u, why, sizeof(why)), ENGINE_CMD_ALREADY);
		while (s->steps < SIM_STEPS && s->u.state == ENGINE_STATE_RUNNING)
			sim_step(s);
		ck_assert_int_eq(s->u.state, ENGINE_STATE_PAUSED);
		ck_assert_msg(engine_safe_point(&s->u), "paused at step %d, not safe", at);
		ck_assert_msg(!drained_alive(&s->w), "paused with a node drained but alive");
		ck_assert_msg(!s->w.updating, "paused during a stack operation");
		for (int i = 0; i < 3; i++) {
			ck_assert_int_eq(sim_step(s), ENGINE_WAIT);
			ck_assert_int_eq(s->d.wait, ENGINE_WAIT_PAUSED);
		}
		ck_assert_int_eq(engine_cmd_resume(&s->u, why, sizeof(why)),
		    ENGINE_CMD_ACCEPTED);
		ck_assert_int_eq(engine_cmd_resume(&s->u, why, sizeof(why)), ENGINE_CMD_ALREADY);
		sim_done(s, ENGINE_STATE_DONE, TO);
		free(s);
	}
	if (getenv("ENGINE_STEPS") != NULL)
		fprintf(stderr, "pause, configuration %d: %d starting points, %ld steps\n",
		    _i, total, total_steps);
}
END_TEST

static bool
original_left(const struct world *w)
{
	int n = 0;

	for (int i = 0; i < w->ninst; i++)
		if (w->inst[i].original && w->inst[i].lc == ENGINE_LC_IN_SERVICE)
			n++;
	return n < w->n0 || (w->updating && w->lowering);
}

/*
 * Cancel at every step: accepted while only surge nodes run <to> (a drained original
 * is registered again), then the surge goes and upgrade mode is off; refused once an
 * original left, with a pointer to rollback, and after finalize.
 */
START_TEST(sim_cancel_every_step)
{
	int total = reference_steps(_i);
	char why[256];

	for (int at = first_step(); at < total; at++) {
		struct sim *s = sim_at(_i, at);
		bool refuse = s->u.state == ENGINE_STATE_DONE || s->w.approved ||
		    original_left(&s->w);
		enum engine_cmd r = engine_cmd_cancel(&s->u, why, sizeof(why));

		ck_assert_msg(r == (refuse ? ENGINE_CMD_REFUSED : ENGINE_CMD_ACCEPTED),
		    "cancel at step %d: %s", at, why);
		if (r == ENGINE_CMD_ACCEPTED) {
			ck_assert_int_eq(engine_cmd_cancel(&s->u, why, sizeof(why)),
			    ENGINE_CMD_ALREADY);
			ck_assert_int_eq(engine_cmd_rollback(&s->u, why, sizeof(why)),
			    ENGINE_CMD_REFUSED);
			sim_done(s, ENGINE_STATE_CANCELLED, FROM);
			ck_assert_int_eq(s->u.replaced, 0);
		} else if (s->u.state != ENGINE_STATE_DONE) {
			if (!s->w.approved)
				ck_assert_ptr_nonnull(strstr(why, "rollback"));
			sim_done(s, ENGINE_STATE_DONE, TO);
		}
		free(s);
	}
}
END_TEST

/* Rollback at every step: back to the original version, or refused after finalize. */
START_TEST(sim_rollback_every_step)
{
	int total = reference_steps(_i);
	char why[256];

	for (int at = first_step(); at < total; at++) {
		struct sim *s = sim_at(_i, at);
		bool refuse = s->u.state == ENGINE_STATE_DONE || s->w.approved;
		bool early = s->u.phase == ENGINE_PH_PREFLIGHT;
		enum engine_cmd r = engine_cmd_rollback(&s->u, why, sizeof(why));

		ck_assert_msg(r == (refuse ? ENGINE_CMD_REFUSED : ENGINE_CMD_ACCEPTED),
		    "rollback at step %d: %s", at, why);
		if (r == ENGINE_CMD_ACCEPTED) {
			ck_assert_int_eq(engine_cmd_rollback(&s->u, why, sizeof(why)),
			    ENGINE_CMD_ALREADY);
			sim_done(s, early ? ENGINE_STATE_CANCELLED : ENGINE_STATE_ROLLED_BACK,
			    FROM);
		} else if (s->u.state != ENGINE_STATE_DONE) {
			ck_assert_ptr_nonnull(strstr(why, "finalized"));
			sim_done(s, ENGINE_STATE_DONE, TO);
		}
		free(s);
	}
}
END_TEST

/* Crash checks through a rollback and a cancel too. */
START_TEST(sim_reverse_crash_checks)
{
	struct sim *s = sim_new(4, 1, false, ENGINE_ON_FAILURE_HALT);
	char why[256];

	s->crash_checks = true;
	sim_until(s, ENGINE_PH_REPLACE, 2);
	ck_assert_int_eq(engine_cmd_rollback(&s->u, why, sizeof(why)), ENGINE_CMD_ACCEPTED);
	sim_done(s, ENGINE_STATE_ROLLED_BACK, FROM);
	free(s);
	s = sim_new(4, 2, false, ENGINE_ON_FAILURE_HALT);
	s->crash_checks = true;
	sim_until(s, ENGINE_PH_SURGE, -1);
	ck_assert_int_eq(engine_cmd_cancel(&s->u, why, sizeof(why)), ENGINE_CMD_ACCEPTED);
	sim_done(s, ENGINE_STATE_CANCELLED, FROM);
	free(s);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Builders: a 4-node 7.9.0 cluster, by hand                                  */
/* ------------------------------------------------------------------------- */

#define ALL_PARTS	(ENGINE_OBS_STACK | ENGINE_OBS_ASG | ENGINE_OBS_ACTIVITIES | \
			 ENGINE_OBS_EC2 | ENGINE_OBS_ELB | ENGINE_OBS_ZDU | ENGINE_OBS_CPU | \
			 ENGINE_OBS_IDENTITY)

static struct engine_obs_instance *
oi(struct engine_obs *o, int num)
{
	char id[ENGINE_ID_MAX];

	snprintf(id, sizeof(id), "i-%04d", num);
	for (size_t i = 0; i < o->asg.ninst; i++)
		if (strcmp(o->asg.inst[i].id, id) == 0)
			return &o->asg.inst[i];
	ck_abort_msg("no instance %s", id);
	return NULL;
}

static struct engine_obs_znode *
oz(struct engine_obs *o, int num)
{
	char ip[ENGINE_IP_MAX];

	snprintf(ip, sizeof(ip), "10.0.0.%d", num);
	for (size_t i = 0; i < o->zdu.nnodes; i++)
		if (strcmp(o->zdu.nodes[i].ip, ip) == 0)
			return &o->zdu.nodes[i];
	ck_abort_msg("no node %s", ip);
	return NULL;
}

/* Instance i-000<num> at 10.0.0.<num>, serving on version. */
static void
add_node(struct engine_obs *o, int num, const char *version)
{
	struct engine_obs_instance *in = &o->asg.inst[o->asg.ninst++];
	struct engine_obs_znode *z = &o->zdu.nodes[o->zdu.nnodes++];

	memset(in, 0, sizeof(*in));
	memset(z, 0, sizeof(*z));
	snprintf(in->id, sizeof(in->id), "i-%04d", num);
	snprintf(in->ip, sizeof(in->ip), "10.0.0.%d", num);
	in->lifecycle = ENGINE_LC_IN_SERVICE;
	in->healthy = true;
	in->elb = ENGINE_ELB_IN_SERVICE;
	in->has_cpu = true;
	in->cpu = 10.0 * num;
	engine_strlcpy(z->ip, in->ip, sizeof(z->ip));
	z->state = ZDU_NODE_ACTIVE;
	engine_strlcpy(z->version, version, sizeof(z->version));
	w_load(num, &z->tasks, &z->users);
}

static void
obs_base(struct engine_obs *o)
{
	memset(o, 0, sizeof(*o));
	o->have = ALL_PARTS;
	o->identity_ok = true;
	o->stack.status = ENGINE_STACK_UPDATE_COMPLETE;
	engine_strlcpy(o->stack.status_name, "UPDATE_COMPLETE", sizeof(o->stack.status_name));
	o->stack.has_version = o->stack.has_min = o->stack.has_max = true;
	o->stack.has_node_group = true;
	engine_strlcpy(o->stack.version, FROM, sizeof(o->stack.version));
	o->stack.min = 4;
	o->stack.max = 8;
	engine_strlcpy(o->stack.fileserver, FILESERVER, sizeof(o->stack.fileserver));
	o->asg.min = o->asg.desired = 4;
	o->asg.max = 8;
	o->asg.health_check_ec2 = true;
	o->zdu.state = ZDU_STABLE;
	engine_strlcpy(o->zdu.state_name, "STABLE", sizeof(o->zdu.state_name));
	for (int i = 1; i <= 4; i++)
		add_node(o, i, FROM);
}

/* The same cluster once the upgrade has recorded it, protected it, suspended, and
 * (from SURGE on) scaled out by k surge nodes on 7.9.4. */
static void
obs_at(struct engine_obs *o, enum engine_phase ph, int k)
{
	obs_base(o);
	o->zdu.upgrade_mode = true;
	o->zdu.state = ZDU_READY_TO_UPGRADE;
	for (int i = 1; i <= 4; i++)
		oi(o, i)->protected = ph > ENGINE_PH_PROTECT;
	if (ph > ENGINE_PH_SUSPEND)
		o->asg.suspended = ENGINE_PROC_OURS;
	if (ph <= ENGINE_PH_SCALE_OUT)
		return;
	engine_strlcpy(o->stack.version, TO, sizeof(o->stack.version));
	o->stack.min = o->asg.min = o->asg.desired = 4 + k;
	o->stack.max = o->asg.max = 8 + k;
	for (int i = 0; i < k; i++)
		add_node(o, 5 + i, TO);
	o->zdu.state = ZDU_MIXED;
}

static void
node_init(struct engine_node *n, int num, enum engine_role role, const char *version)
{
	memset(n, 0, sizeof(*n));
	snprintf(n->id, sizeof(n->id), "i-%04d", num);
	snprintf(n->ip, sizeof(n->ip), "10.0.0.%d", num);
	engine_strlcpy(n->version, version, sizeof(n->version));
	n->role = role;
	n->replaces = n->replaced_by = -1;
}

/* The persisted upgrade matching obs_at(ph, k). */
static void
up_at(struct engine_upgrade *u, enum engine_phase ph, int k)
{
	ck_assert_int_eq(engine_upgrade_init(u, 7, "prod", TO, k, ENGINE_ON_FAILURE_HALT,
	    false), 0);
	engine_strlcpy(u->from, FROM, sizeof(u->from));
	u->n = 4;
	u->orig_min = u->expect_min = u->prev_min = 4;
	u->orig_max = u->expect_max = u->prev_max = 8;
	u->orig_desired = u->expect_desired = u->prev_desired = 4;
	for (int i = 1; i <= 4; i++)
		node_init(&u->nodes[u->nnodes++], i, ENGINE_ROLE_ORIGINAL, FROM);
	if (ph > ENGINE_PH_SUSPEND)
		u->suspended_by_us = ENGINE_PROC_OURS;
	if (ph > ENGINE_PH_SCALE_OUT) {
		u->expect_min = u->expect_desired = 4 + k;
		u->expect_max = 8 + k;
		for (int i = 0; i < k; i++)
			node_init(&u->nodes[u->nnodes++], 5 + i, ENGINE_ROLE_SURGE, "");
	}
	u->seq = 20;
	u->phase = ph;
}

static struct engine_node *
un(struct engine_upgrade *u, int num)
{
	char id[ENGINE_ID_MAX];
	int i;

	snprintf(id, sizeof(id), "i-%04d", num);
	ck_assert_int_ge(i = engine_node_index(u, id), 0);
	return &u->nodes[i];
}

struct fixture {
	struct engine_upgrade	 u;
	struct engine_obs	 o;
	struct engine_decision	 d;
};

static struct fixture *
fx(enum engine_phase ph, int k)
{
	struct fixture *f = calloc(1, sizeof(*f));

	ck_assert_ptr_nonnull(f);
	up_at(&f->u, ph, k);
	obs_at(&f->o, ph, k);
	return f;
}

static enum engine_verdict
decide(struct fixture *f)
{
	return engine_decide(&f->u, &f->o, &f->d);
}

static void
expect_act(struct fixture *f, enum engine_act_kind k)
{
	ck_assert_msg(decide(f) == ENGINE_ACT && f->d.act.kind == k, "expected %s, got "
	    "verdict %d %s: %s", engine_act_name(k), f->d.verdict,
	    engine_act_name(f->d.act.kind), f->d.message);
}

static void
expect_wait(struct fixture *f, enum engine_wait w)
{
	ck_assert_msg(decide(f) == ENGINE_WAIT && f->d.wait == w, "expected wait %s, got "
	    "%d %s: %s", engine_wait_name(w), f->d.verdict, engine_wait_name(f->d.wait),
	    f->d.message);
}

static void
expect_halt(struct fixture *f, enum engine_halt h, const char *words)
{
	ck_assert_msg(decide(f) == ENGINE_HALT && f->d.halt_code == h, "expected halt %s, "
	    "got %d %s: %s", engine_halt_name(h), f->d.verdict,
	    engine_halt_name(f->d.halt_code), f->d.message);
	if (words != NULL)
		ck_assert_msg(strstr(f->d.message, words) != NULL, "'%s' lacks '%s'",
		    f->d.message, words);
}

static void
expect_target(const struct engine_decision *d, size_t i, int num)
{
	char id[ENGINE_ID_MAX];

	snprintf(id, sizeof(id), "i-%04d", num);
	ck_assert_uint_gt(d->act.ntargets, i);
	ck_assert_str_eq(d->act.targets[i], id);
}

/* Applies the ACT just decided as done, and decides again. */
static void
apply_done(struct fixture *f)
{
	struct engine_outcome out = { .kind = ENGINE_OUT_DONE };

	engine_intent(&f->u, &f->d);
	engine_apply(&f->u, &f->d, &out);
}

/* ------------------------------------------------------------------------- */
/* Step 1: preflight                                                          */
/* ------------------------------------------------------------------------- */

START_TEST(preflight_passes_and_starts)
{
	struct fixture *f = fx(ENGINE_PH_PREFLIGHT, 1);

	engine_upgrade_init(&f->u, 7, "prod", TO, 1, ENGINE_ON_FAILURE_HALT, false);
	obs_base(&f->o);
	expect_act(f, ENGINE_ACT_ZDU_START);
	ck_assert_str_eq(f->d.act.token, "bbup-7-0-start");
	ck_assert_int_eq(engine_guard(&f->u, &f->o, &f->d), ENGINE_ACT);
	apply_done(f);
	ck_assert_int_eq(f->u.phase, ENGINE_PH_RECORD);
	ck_assert_uint_eq(f->u.seq, 1);
	free(f);
}
END_TEST

static void
pf_status(struct engine_obs *o)
{
	o->stack.status = ENGINE_STACK_IN_PROGRESS;
	engine_strlcpy(o->stack.status_name, "UPDATE_IN_PROGRESS", sizeof(o->stack.status_name));
}
static void pf_nested(struct engine_obs *o) { o->stack.nested = true;
	o->stack.nested_status = ENGINE_STACK_UPDATE_ROLLBACK_FAILED; }
static void pf_params(struct engine_obs *o) { o->stack.has_max = false; }
static void pf_group(struct engine_obs *o) { o->stack.has_node_group = false; }
static void pf_standby(struct engine_obs *o) { o->stack.standby = true; }
static void pf_fileserver(struct engine_obs *o) { o->stack.fileserver[0] = '\0'; }
static void pf_hc(struct engine_obs *o) { o->asg.health_check_ec2 = false; }
static void pf_hooks(struct engine_obs *o) { o->asg.lifecycle_hooks = 1; }
static void pf_refresh(struct engine_obs *o) { o->asg.instance_refresh = true; }
static void pf_standby_inst(struct engine_obs *o) { oi(o, 2)->lifecycle = ENGINE_LC_STANDBY; }
static void pf_launch(struct engine_obs *o) { o->asg.suspended = ENGINE_PROC_LAUNCH; }
static void pf_terminate(struct engine_obs *o) { o->asg.suspended = ENGINE_PROC_TERMINATE; }
static void pf_addlb(struct engine_obs *o) { o->asg.suspended = ENGINE_PROC_ADD_TO_LB; }
static void pf_activity(struct engine_obs *o) { o->asg.activity_in_progress = true; }
static void pf_desired(struct engine_obs *o) { o->asg.desired = 5; }
static void pf_max(struct engine_obs *o) { o->asg.max = 9; }
static void pf_zdu(struct engine_obs *o) { o->zdu.state = ZDU_MIXED;
	engine_strlcpy(o->zdu.state_name, "MIXED", sizeof(o->zdu.state_name)); }
static void pf_elb(struct engine_obs *o) { oi(o, 3)->elb = ENGINE_ELB_UNHEALTHY; }
static void pf_active(struct engine_obs *o) { oz(o, 3)->state = ZDU_NODE_STARTING; }
static void pf_unmapped(struct engine_obs *o) { engine_strlcpy(oi(o, 4)->ip, "10.9.9.9",
	sizeof(oi(o, 4)->ip)); }
static void pf_reused(struct engine_obs *o) { struct engine_obs_znode *z =
	&o->zdu.nodes[o->zdu.nnodes++]; *z = *oz(o, 2); }
static void pf_stray(struct engine_obs *o) { struct engine_obs_znode *z =
	&o->zdu.nodes[o->zdu.nnodes++]; *z = *oz(o, 2);
	engine_strlcpy(z->ip, "10.0.0.99", sizeof(z->ip)); }
static void pf_version(struct engine_obs *o) { engine_strlcpy(o->stack.version, "7.9.1",
	sizeof(o->stack.version)); }
static void pf_mixed(struct engine_obs *o) { engine_strlcpy(oz(o, 1)->version, "7.9.1",
	sizeof(oz(o, 1)->version)); }
static void pf_identity(struct engine_obs *o) { o->identity_ok = false; }
static void pf_unread(struct engine_obs *o) { o->have &= ~ENGINE_OBS_ELB; }
static void pf_denied(struct engine_obs *o) { o->denied = true; engine_strlcpy(
	o->denied_what, "autoscaling:SetInstanceProtection", sizeof(o->denied_what)); }

static const struct {
	void		(*change)(struct engine_obs *);
	const char	*target;
	const char	*words;
} refusals[] = {
	{ pf_status, TO, "UPDATE_IN_PROGRESS" },
	{ pf_nested, TO, "nested stack" },
	{ pf_params, TO, "lacks" },
	{ pf_group, TO, "no ClusterNodeGroup" },
	{ pf_standby, TO, "standby" },
	{ pf_fileserver, TO, "FileServer" },
	{ pf_hc, TO, "HealthCheckType" },
	{ pf_hooks, TO, "lifecycle hook" },
	{ pf_refresh, TO, "instance refresh" },
	{ pf_standby_inst, TO, "not InService" },
	{ pf_launch, TO, "Launch process" },
	{ pf_terminate, TO, "Terminate process" },
	{ pf_addlb, TO, "AddToLoadBalancer" },
	{ pf_activity, TO, "scaling activity" },
	{ pf_desired, TO, "must be equal" },
	{ pf_max, TO, "ClusterNodeMax" },
	{ pf_zdu, TO, "not STABLE" },
	{ pf_elb, TO, "not healthy in the load balancer" },
	{ pf_active, TO, "not ACTIVE" },
	{ pf_unmapped, TO, "maps to no Bitbucket node" },
	{ pf_reused, TO, "reused IP" },
	{ pf_stray, TO, "no instance of ClusterNodeGroup" },
	{ pf_version, TO, "BitbucketVersion is 7.9.1" },
	{ pf_mixed, TO, "one version" },
	{ pf_identity, TO, "GetCallerIdentity" },
	{ pf_unread, TO, "could not read" },
	{ pf_denied, TO, "SetInstanceProtection" },
	{ NULL, "7.10.0", "feature version" },
	{ NULL, "7.9.0", "already on" },
	{ NULL, "7.8.9", "older" },
	{ NULL, "seven", "not a Bitbucket version" },
};

/* Each refusal of step 1 and behaviour 15, alone: refused, saying what and what to do. */
START_TEST(preflight_refusal)
{
	struct engine_target t = { refusals[_i].target, 1 };
	struct engine_problems p;
	struct engine_obs *o = calloc(1, sizeof(*o));
	bool found = false;

	obs_base(o);
	if (refusals[_i].change != NULL)
		refusals[_i].change(o);
	ck_assert_int_eq(engine_preflight(o, &t, &p), -1);
	for (size_t i = 0; i < p.n; i++)
		found = found || strstr(p.p[i].text, refusals[_i].words) != NULL;
	ck_assert_msg(found, "no problem says '%s' (first: %s)", refusals[_i].words,
	    p.n ? p.p[0].text : "none");
	free(o);
}
END_TEST

/* All refusals at once: the list has every one of them, not only the first. */
START_TEST(preflight_lists_every_refusal)
{
	struct fixture *f = fx(ENGINE_PH_PREFLIGHT, 1);
	struct engine_target t = { TO, 1 };
	struct engine_problems p;

	engine_upgrade_init(&f->u, 7, "prod", TO, 1, ENGINE_ON_FAILURE_HALT, false);
	obs_base(&f->o);
	pf_hc(&f->o);
	pf_hooks(&f->o);
	pf_refresh(&f->o);
	pf_launch(&f->o);
	pf_zdu(&f->o);
	pf_standby(&f->o);
	ck_assert_int_eq(engine_preflight(&f->o, &t, &p), -1);
	ck_assert_uint_eq(p.n, 6);
	expect_halt(f, ENGINE_HALT_PREFLIGHT, "6 problem(s)");
	ck_assert_uint_eq(f->d.problems.n, 6);
	obs_base(&f->o);
	ck_assert_int_eq(engine_preflight(&f->o, &t, &p), 0);
	t.surge = 5;
	ck_assert_int_eq(engine_preflight(&f->o, &t, &p), -1);
	ck_assert_ptr_nonnull(strstr(p.p[0].text, "surge 5"));
	free(f);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Steps 2-4: upgrade mode, record, protect, suspend, scale out               */
/* ------------------------------------------------------------------------- */

START_TEST(start_intent_resolved)
{
	struct fixture *f = fx(ENGINE_PH_PREFLIGHT, 1);

	engine_upgrade_init(&f->u, 7, "prod", TO, 1, ENGINE_ON_FAILURE_HALT, false);
	obs_base(&f->o);
	expect_act(f, ENGINE_ACT_ZDU_START);
	engine_intent(&f->u, &f->d);
	expect_act(f, ENGINE_ACT_ZDU_START);		/* no effect seen: again */
	ck_assert_int_eq(f->d.resolve, ENGINE_RESOLVE_REISSUE);
	ck_assert_str_eq(f->d.act.token, "bbup-7-0-start");
	f->o.zdu.upgrade_mode = true;
	f->o.zdu.state = ZDU_READY_TO_UPGRADE;
	expect_act(f, ENGINE_ACT_ZDU_START);		/* the effect is there: done */
	ck_assert_int_eq(f->d.resolve, ENGINE_RESOLVE_DONE);
	engine_apply(&f->u, &f->d, NULL);
	ck_assert(!f->u.intent_pending);
	ck_assert_int_eq(f->u.phase, ENGINE_PH_RECORD);
	free(f);
}
END_TEST

START_TEST(record_originals)
{
	struct fixture *f = fx(ENGINE_PH_RECORD, 1);

	engine_upgrade_init(&f->u, 7, "prod", TO, 1, ENGINE_ON_FAILURE_HALT, false);
	f->u.phase = ENGINE_PH_RECORD;
	f->o.zdu.state = ZDU_STABLE;
	f->o.zdu.upgrade_mode = false;
	expect_wait(f, ENGINE_WAIT_ZDU);		/* upgrade mode not visible yet */
	f->o.zdu.state = ZDU_READY_TO_UPGRADE;
	f->o.zdu.upgrade_mode = true;
	f->o.asg.suspended = ENGINE_PROC_AZ_REBALANCE;
	f->o.asg.new_protected = true;
	oi(&f->o, 3)->protected = true;
	expect_act(f, ENGINE_ACT_RECORD);
	ck_assert_uint_eq(f->d.nfacts, 4);
	ck_assert_str_eq(f->d.record.from, FROM);
	engine_apply(&f->u, &f->d, NULL);
	ck_assert_int_eq(f->u.phase, ENGINE_PH_PROTECT);
	ck_assert_int_eq(f->u.n, 4);
	ck_assert_int_eq(f->u.orig_max, 8);
	ck_assert_uint_eq(f->u.suspended_before, ENGINE_PROC_AZ_REBALANCE);
	ck_assert(f->u.new_protected);
	ck_assert(un(&f->u, 3)->was_protected);
	ck_assert(!un(&f->u, 2)->was_protected);
	ck_assert_str_eq(un(&f->u, 2)->ip, "10.0.0.2");
	free(f);
}
END_TEST

START_TEST(record_refuses_changed_cluster)
{
	struct fixture *f = fx(ENGINE_PH_RECORD, 1);

	f->u.nnodes = 0;
	oi(&f->o, 2)->elb = ENGINE_ELB_UNHEALTHY;
	expect_halt(f, ENGINE_HALT_CHANGED, "changed after preflight");
	free(f);
}
END_TEST

START_TEST(protect_originals)
{
	struct fixture *f = fx(ENGINE_PH_PROTECT, 1);

	expect_act(f, ENGINE_ACT_PROTECT);
	ck_assert(f->d.act.protect);
	ck_assert_uint_eq(f->d.act.ntargets, 4);
	apply_done(f);
	/* Asked, not visible yet (10): the scale-out waits for it, not this step. */
	expect_act(f, ENGINE_ACT_PHASE);
	ck_assert_int_eq(f->d.next_phase, ENGINE_PH_SUSPEND);
	free(f);
}
END_TEST

static struct fixture *fx_created(void);

/* The protection and the suspension asked for earlier must show before executing. */
START_TEST(scale_out_waits_for_setup_shown)
{
	struct fixture *f = fx_created();

	for (int i = 1; i <= 4; i++) {
		oi(&f->o, i)->protected = false;
		un(&f->u, i)->prot_req = ENGINE_PROT_ON;
	}
	expect_wait(f, ENGINE_WAIT_PROTECTION);
	f->o.deadline_passed = true;
	expect_halt(f, ENGINE_HALT_PROTECTION, "never showed");
	f->o.deadline_passed = false;
	for (int i = 1; i <= 4; i++)
		oi(&f->o, i)->protected = true;
	f->u.suspended_by_us = ENGINE_PROC_OURS;
	f->o.asg.suspended = ENGINE_PROC_ALARM;
	expect_wait(f, ENGINE_WAIT_PROCESSES);
	f->o.asg.suspended = ENGINE_PROC_OURS;
	expect_act(f, ENGINE_ACT_EXECUTE_CHANGESET);
	free(f);
}
END_TEST

START_TEST(suspend_exactly_ours)
{
	struct fixture *f = fx(ENGINE_PH_SUSPEND, 1);

	f->u.suspended_before = ENGINE_PROC_AZ_REBALANCE;
	f->o.asg.suspended = ENGINE_PROC_AZ_REBALANCE;
	expect_act(f, ENGINE_ACT_SUSPEND);
	ck_assert_uint_eq(f->d.act.processes, ENGINE_PROC_ALARM | ENGINE_PROC_SCHEDULED);
	apply_done(f);
	ck_assert_uint_eq(f->u.suspended_by_us, ENGINE_PROC_ALARM | ENGINE_PROC_SCHEDULED);
	expect_act(f, ENGINE_ACT_PHASE);	/* shown or not: the scale-out waits */
	/* The guard never lets Launch, Terminate or an empty list (all) through. */
	f->u.suspended_by_us = 0;
	f->u.intent_pending = false;
	f->o.asg.suspended = 0;
	expect_act(f, ENGINE_ACT_SUSPEND);
	f->d.act.processes |= ENGINE_PROC_LAUNCH;
	ck_assert_int_eq(engine_guard(&f->u, &f->o, &f->d), ENGINE_HALT);
	expect_act(f, ENGINE_ACT_SUSPEND);
	f->d.act.processes = 0;
	ck_assert_int_eq(engine_guard(&f->u, &f->o, &f->d), ENGINE_HALT);
	free(f);
}
END_TEST

START_TEST(scale_out_change_set)
{
	struct fixture *f = fx(ENGINE_PH_SCALE_OUT, 2);

	f->o.asg.activity_in_progress = true;
	expect_wait(f, ENGINE_WAIT_STACK_IDLE);		/* 11: no activity before a change */
	f->o.asg.activity_in_progress = false;
	pf_status(&f->o);
	expect_wait(f, ENGINE_WAIT_STACK_IDLE);
	f->o.deadline_passed = true;
	expect_halt(f, ENGINE_HALT_STACK_BUSY, "UPDATE_IN_PROGRESS");
	f->o.deadline_passed = false;
	f->o.stack.status = ENGINE_STACK_UPDATE_ROLLBACK_COMPLETE;
	expect_act(f, ENGINE_ACT_CREATE_CHANGESET);
	ck_assert_str_eq(f->d.act.version, TO);
	ck_assert_int_eq(f->d.act.min, 6);
	ck_assert_int_eq(f->d.act.max, 10);
	ck_assert_str_eq(f->d.act.token, "bbup-7-20-cs");
	ck_assert_str_eq(f->d.act.changeset, f->d.act.token);
	apply_done(f);
	ck_assert_int_eq(f->u.stack.step, ENGINE_SC_CREATED);
	expect_wait(f, ENGINE_WAIT_OBSERVE);		/* the change set is not read yet */
	ck_assert(f->d.need & ENGINE_OBS_CHANGESET);
	ck_assert_str_eq(f->d.need_changeset, "bbup-7-20-cs");
	free(f);
}
END_TEST

/* A change set as AWS describes a version and count change. */
static void
cs_good(struct engine_obs *o, const char *name)
{
	struct engine_obs_changeset *cs = &o->cs;
	struct engine_change *ch;

	o->have |= ENGINE_OBS_CHANGESET;
	memset(cs, 0, sizeof(*cs));
	engine_strlcpy(cs->name, name, sizeof(cs->name));
	cs->status = ENGINE_CS_COMPLETE;
	cs->exec = ENGINE_CSX_AVAILABLE;
	ch = &cs->changes[cs->nchanges++];
	engine_strlcpy(ch->logical_id, "ClusterNodeGroup", sizeof(ch->logical_id));
	engine_strlcpy(ch->resource_type, "AWS::AutoScaling::AutoScalingGroup",
	    sizeof(ch->resource_type));
	ch->action = ENGINE_CHANGE_MODIFY;
	ch->scope = ENGINE_SCOPE_PROPERTIES;
	ch->parent = -1;
	engine_strlcpy(ch->props[0], "MinSize", sizeof(ch->props[0]));
	engine_strlcpy(ch->props[1], "MaxSize", sizeof(ch->props[1]));
	engine_strlcpy(ch->props[2], "DesiredCapacity", sizeof(ch->props[2]));
	ch->nprops = 3;
	ch = &cs->changes[cs->nchanges++];
	engine_strlcpy(ch->logical_id, "ClusterNodeLaunchConfig", sizeof(ch->logical_id));
	engine_strlcpy(ch->resource_type, "AWS::AutoScaling::LaunchConfiguration",
	    sizeof(ch->resource_type));
	ch->action = ENGINE_CHANGE_MODIFY;
	ch->scope = ENGINE_SCOPE_METADATA;
	ch->parent = -1;
}

static struct fixture *
fx_created(void)
{
	struct fixture *f = fx(ENGINE_PH_SCALE_OUT, 1);

	f->u.stack.step = ENGINE_SC_CREATED;
	engine_strlcpy(f->u.stack.changeset, "bbup-7-19-cs", sizeof(f->u.stack.changeset));
	engine_strlcpy(f->u.stack.version, TO, sizeof(f->u.stack.version));
	f->u.stack.min = 5;
	f->u.stack.max = 9;
	cs_good(&f->o, "bbup-7-19-cs");
	return f;
}

START_TEST(changeset_verified_then_executed)
{
	struct fixture *f = fx_created();

	f->o.cs.status = ENGINE_CS_PENDING;
	expect_wait(f, ENGINE_WAIT_CHANGESET);
	f->o.cs.status = ENGINE_CS_COMPLETE;
	expect_act(f, ENGINE_ACT_EXECUTE_CHANGESET);
	ck_assert_str_eq(f->d.act.changeset, "bbup-7-19-cs");
	ck_assert_str_eq(f->d.act.token, "bbup-7-20-exec");
	apply_done(f);
	ck_assert_int_eq(f->u.stack.step, ENGINE_SC_EXECUTING);
	ck_assert_str_eq(f->u.stack.token, "bbup-7-20-exec");
	expect_wait(f, ENGINE_WAIT_OBSERVE);
	ck_assert_str_eq(f->d.need_token, "bbup-7-20-exec");
	free(f);
}
END_TEST

/* Behaviour 5: a change set touching anything else is deleted and the upgrade halts. */
START_TEST(changeset_unexpected_refused)
{
	struct fixture *f = fx_created();
	struct engine_change *ch = &f->o.cs.changes[f->o.cs.nchanges++];

	engine_strlcpy(ch->logical_id, "LoadBalancer", sizeof(ch->logical_id));
	engine_strlcpy(ch->resource_type, "AWS::ElasticLoadBalancing::LoadBalancer",
	    sizeof(ch->resource_type));
	ch->action = ENGINE_CHANGE_MODIFY;
	ch->scope = ENGINE_SCOPE_PROPERTIES;
	ch->parent = -1;
	expect_act(f, ENGINE_ACT_DELETE_CHANGESET);
	ck_assert(f->d.halt_after);
	ck_assert_ptr_nonnull(strstr(f->d.message, "LoadBalancer"));
	apply_done(f);
	ck_assert_int_eq(f->u.state, ENGINE_STATE_HALTED);
	ck_assert_int_eq(f->u.halt, ENGINE_HALT_CHANGESET_REFUSED);
	ck_assert_int_eq(f->u.stack.step, ENGINE_SC_IDLE);
	expect_halt(f, ENGINE_HALT_CHANGESET_REFUSED, "LoadBalancer");
	free(f);
}
END_TEST

START_TEST(changeset_empty_or_failed)
{
	struct fixture *f = fx_created();

	f->o.cs.status = ENGINE_CS_FAILED;
	engine_strlcpy(f->o.cs.status_reason, "The submitted information didn't contain "
	    "changes.", sizeof(f->o.cs.status_reason));
	engine_strlcpy(f->o.stack.version, TO, sizeof(f->o.stack.version));
	f->o.stack.min = 5;
	f->o.stack.max = 9;
	expect_act(f, ENGINE_ACT_DELETE_CHANGESET);	/* already there: harmless */
	ck_assert(!f->d.halt_after);
	f->o.stack.min = 4;
	expect_act(f, ENGINE_ACT_DELETE_CHANGESET);	/* no change, yet not there */
	ck_assert(f->d.halt_after);
	engine_strlcpy(f->o.cs.status_reason, "Parameter BitbucketVersion failed to "
	    "satisfy constraint", sizeof(f->o.cs.status_reason));
	expect_act(f, ENGINE_ACT_DELETE_CHANGESET);
	ck_assert_int_eq(f->d.halt_code, ENGINE_HALT_CHANGESET_FAILED);
	ck_assert_ptr_nonnull(strstr(f->d.message, "failed to satisfy"));
	free(f);
}
END_TEST

static void
ch_add(struct engine_obs_changeset *cs, const char *id, const char *type,
    enum engine_change_action a, unsigned scope, enum engine_replacement r, int parent)
{
	struct engine_change *ch = &cs->changes[cs->nchanges++];

	memset(ch, 0, sizeof(*ch));
	engine_strlcpy(ch->logical_id, id, sizeof(ch->logical_id));
	engine_strlcpy(ch->resource_type, type, sizeof(ch->resource_type));
	ch->action = a;
	ch->scope = scope;
	ch->replacement = r;
	ch->parent = parent;
}

#define ASG	"AWS::AutoScaling::AutoScalingGroup"
#define LC	"AWS::AutoScaling::LaunchConfiguration"
#define EC2	"AWS::EC2::Instance"
#define STK	"AWS::CloudFormation::Stack"
#define MOD	ENGINE_CHANGE_MODIFY
#define PROP	ENGINE_SCOPE_PROPERTIES
#define META	ENGINE_SCOPE_METADATA
#define RF	ENGINE_REPLACE_FALSE

/* engine_changeset_ok(), one case per rule; ok or the word the difference names. */
START_TEST(changeset_rules)
{
	struct engine_obs *o = calloc(1, sizeof(*o));
	struct engine_obs_changeset *cs = &o->cs;
	struct engine_problems p;
	int r;

	ck_assert_ptr_nonnull(o);
	cs_good(o, "x");
	switch (_i) {
	case 0:		/* the version and the counts: fine */
		break;
	case 1:		/* FileServer metadata: fine */
		ch_add(cs, "FileServer", EC2, MOD, META, RF, -1);
		break;
	case 2:		/* with-VPC: the same inside BitbucketDCStack: fine */
		memset(cs->changes, 0, sizeof(cs->changes));
		cs->nchanges = 0;
		ch_add(cs, "BitbucketDCStack", STK, MOD, PROP, RF, -1);
		cs->changes[0].nested_listed = true;
		ch_add(cs, "ClusterNodeLaunchConfig", LC, MOD, META, RF, 0);
		break;
	case 3:		/* a nested stack whose changes were not read */
		ch_add(cs, "BitbucketDCStack", STK, MOD, PROP, RF, -1);
		break;
	case 4:		/* the group's launch configuration name */
		engine_strlcpy(cs->changes[0].props[3], "LaunchConfigurationName",
		    sizeof(cs->changes[0].props[3]));
		cs->changes[0].nprops = 4;
		break;
	case 5:		/* a replacement */
		cs->changes[1].replacement = ENGINE_REPLACE_CONDITIONAL;
		break;
	case 6:		/* the launch configuration's properties */
		cs->changes[1].scope |= PROP;
		break;
	case 7:		/* removing something */
		ch_add(cs, "CPUAlarmHigh", "AWS::CloudWatch::Alarm", ENGINE_CHANGE_REMOVE, 0,
		    ENGINE_REPLACE_ABSENT, -1);
		break;
	case 8:		/* more changes than read */
		cs->truncated = true;
		break;
	case 9:		/* drift inside the nested stack */
		ch_add(cs, "BitbucketDCStack", STK, MOD, PROP, RF, -1);
		cs->changes[2].nested_listed = true;
		ch_add(cs, "SecurityGroup", "AWS::EC2::SecurityGroup", MOD, PROP, RF, 2);
		break;
	case 10:	/* an entry under something that is no nested stack */
		ch_add(cs, "Thing", LC, MOD, META, RF, 0);
		break;
	case 11:	/* the group's tags */
		cs->changes[0].scope |= ENGINE_SCOPE_TAGS;
		break;
	}
	r = engine_changeset_ok(cs->changes, cs->nchanges, cs->truncated, &p);
	ck_assert_msg(r == (_i <= 2 ? 0 : -1), "case %d: %s", _i, p.n ? p.p[0].text : "ok");
	free(o);
}
END_TEST

START_TEST(stack_change_finished_by_token_event)
{
	struct fixture *f = fx(ENGINE_PH_SCALE_OUT, 1);

	f->u.stack.step = ENGINE_SC_EXECUTING;
	engine_strlcpy(f->u.stack.token, "bbup-7-19-exec", sizeof(f->u.stack.token));
	engine_strlcpy(f->u.stack.version, TO, sizeof(f->u.stack.version));
	f->u.stack.min = 5;
	f->u.stack.max = 9;
	f->o.have |= ENGINE_OBS_EVENTS;
	engine_strlcpy(f->o.stack.event_token, "bbup-7-19-exec",
	    sizeof(f->o.stack.event_token));
	/* DescribeStacks still says UPDATE_COMPLETE (4): not the end. */
	expect_wait(f, ENGINE_WAIT_STACK_UPDATE);
	f->o.stack.event = ENGINE_EVENT_COMPLETE;
	expect_act(f, ENGINE_ACT_STACK_DONE);
	engine_apply(&f->u, &f->d, NULL);
	ck_assert_int_eq(f->u.expect_min, 5);
	ck_assert_int_eq(f->u.expect_desired, 5);
	ck_assert_int_eq(f->u.stack.step, ENGINE_SC_IDLE);
	/* The group may show the new counts a little later. */
	expect_wait(f, ENGINE_WAIT_COUNTS);
	free(f);
}
END_TEST

static struct fixture *
fx_executing(enum engine_stack_event ev)
{
	struct fixture *f = fx(ENGINE_PH_SCALE_OUT, 1);

	f->u.stack.step = ENGINE_SC_EXECUTING;
	engine_strlcpy(f->u.stack.token, "bbup-7-19-exec", sizeof(f->u.stack.token));
	f->o.have |= ENGINE_OBS_EVENTS;
	engine_strlcpy(f->o.stack.event_token, "bbup-7-19-exec",
	    sizeof(f->o.stack.event_token));
	f->o.stack.event = ev;
	engine_strlcpy(f->o.stack.event_reasons, "ClusterNodeLaunchConfig: Resource "
	    "creation cancelled", sizeof(f->o.stack.event_reasons));
	return f;
}

START_TEST(stack_rolled_back_halts_with_reasons)
{
	struct fixture *f = fx_executing(ENGINE_EVENT_ROLLED_BACK);

	expect_halt(f, ENGINE_HALT_STACK_ROLLED_BACK, "Resource creation cancelled");
	engine_apply(&f->u, &f->d, NULL);
	ck_assert_int_eq(f->u.state, ENGINE_STATE_HALTED);
	ck_assert_int_eq(f->u.stack.step, ENGINE_SC_IDLE);
	free(f);
}
END_TEST

START_TEST(stack_rollback_failed_names_continue)
{
	struct fixture *f = fx_executing(ENGINE_EVENT_ROLLBACK_FAILED);

	expect_halt(f, ENGINE_HALT_STACK_ROLLBACK_FAILED, "ContinueUpdateRollback");
	free(f);
	f = fx(ENGINE_PH_REPLACE, 1);		/* seen on the stack, in any phase */
	f->o.stack.status = ENGINE_STACK_UPDATE_ROLLBACK_FAILED;
	expect_halt(f, ENGINE_HALT_STACK_ROLLBACK_FAILED, "ContinueUpdateRollback");
	free(f);
}
END_TEST

START_TEST(stack_update_deadline)
{
	struct fixture *f = fx_executing(ENGINE_EVENT_NONE);

	f->o.deadline_passed = true;
	expect_halt(f, ENGINE_HALT_STACK_TIMEOUT, "CancelUpdateStack");
	free(f);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Steps 5-6: the surge and the replacements                                  */
/* ------------------------------------------------------------------------- */

START_TEST(surge_waits_for_canary)
{
	struct fixture *f = fx(ENGINE_PH_SURGE, 1);

	oi(&f->o, 5)->elb = ENGINE_ELB_UNHEALTHY;
	oz(&f->o, 5)->state = ZDU_NODE_STARTING;
	expect_wait(f, ENGINE_WAIT_NODE_READY);
	f->o.deadline_passed = true;
	expect_halt(f, ENGINE_HALT_NODE_TIMEOUT, "canary");
	ck_assert_ptr_nonnull(strstr(f->d.message, "no original was touched"));
	f->o.deadline_passed = false;
	oi(&f->o, 5)->elb = ENGINE_ELB_IN_SERVICE;
	oz(&f->o, 5)->state = ZDU_NODE_ACTIVE;
	expect_act(f, ENGINE_ACT_PHASE);
	ck_assert_int_eq(f->d.next_phase, ENGINE_PH_REPLACE);
	free(f);
}
END_TEST

START_TEST(surge_never_launched)
{
	struct fixture *f = fx(ENGINE_PH_SURGE, 1);
	struct engine_obs_activity *a = &f->o.asg.act[f->o.asg.nact++];

	f->o.asg.ninst = 4;
	f->u.nnodes = 4;
	a->status = ENGINE_ACTIVITY_FAILED;
	engine_strlcpy(a->message, "InsufficientInstanceCapacity", sizeof(a->message));
	expect_wait(f, ENGINE_WAIT_NODE_READY);
	f->o.deadline_passed = true;
	expect_halt(f, ENGINE_HALT_LAUNCH_FAILED, "InsufficientInstanceCapacity");
	free(f);
}
END_TEST

/* Least busy first: tasks, then users, then CPU; unknown after known; not serving first. */
START_TEST(replace_least_busy_first)
{
	static const struct {
		int64_t	 tasks[4], users[4];
		double	 cpu[4];
		bool	 no_cpu[4];
		bool	 unhealthy[4];
		int	 victim;
	} rows[] = {
		{ { 5, 1, 2, 9 }, { 0, 9, 0, 0 }, { 1, 99, 1, 1 }, { 0 }, { 0 }, 2 },
		{ { 1, 1, 1, 1 }, { 4, 3, 5, 6 }, { 1, 99, 1, 1 }, { 0 }, { 0 }, 2 },
		{ { 1, 1, 1, 1 }, { 3, 3, 3, 3 }, { 40, 30, 20, 50 }, { 0 }, { 0 }, 3 },
		{ { ZDU_NULL, 7, 8, 9 }, { 0, 0, 0, 0 }, { 1, 1, 1, 1 }, { 0 }, { 0 }, 2 },
		{ { 1, 1, 1, 1 }, { ZDU_NULL, 3, 3, 3 }, { 1, 9, 5, 7 }, { 0 }, { 0 }, 3 },
		{ { 1, 1, 1, 1 }, { 3, 3, 3, 3 }, { 1, 9, 5, 7 }, { 1, 0, 0, 0 }, { 0 }, 3 },
		{ { 0, 0, 0, 9 }, { 0, 0, 0, 9 }, { 1, 1, 1, 1 }, { 0 }, { 0, 0, 0, 1 }, 4 },
		{ { 1, 1, 1, 1 }, { 3, 3, 3, 3 }, { 5, 5, 5, 5 }, { 0 }, { 0 }, 1 },
	};

	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct fixture *f = fx(ENGINE_PH_REPLACE, 1);

		for (int i = 0; i < 4; i++) {
			oz(&f->o, i + 1)->tasks = rows[r].tasks[i];
			oz(&f->o, i + 1)->users = rows[r].users[i];
			oi(&f->o, i + 1)->cpu = rows[r].cpu[i];
			oi(&f->o, i + 1)->has_cpu = !rows[r].no_cpu[i];
			if (rows[r].unhealthy[i])
				oi(&f->o, i + 1)->elb = ENGINE_ELB_UNHEALTHY;
		}
		expect_act(f, ENGINE_ACT_DEREGISTER);
		ck_assert_int_eq(f->d.act.purpose, ENGINE_PURPOSE_VICTIM);
		ck_assert_msg(strcmp(f->d.act.targets[0], (char[]){ 'i', '-', '0', '0', '0',
		    (char)('0' + rows[r].victim), 0 }) == 0, "row %zu: %s", r,
		    f->d.act.targets[0]);
		free(f);
	}
}
END_TEST

/* I1: only when N nodes stay serving; the deadline halts. */
START_TEST(replace_waits_for_capacity)
{
	struct fixture *f = fx(ENGINE_PH_REPLACE, 1);

	oi(&f->o, 5)->elb = ENGINE_ELB_UNHEALTHY;	/* the surge flaps */
	for (int i = 1; i <= 4; i++)
		oz(&f->o, i)->tasks = i;		/* all serving: none is free to take */
	expect_wait(f, ENGINE_WAIT_CAPACITY);
	f->o.deadline_passed = true;
	expect_halt(f, ENGINE_HALT_CAPACITY, "I1");
	free(f);
}
END_TEST

/* Up to k out of service at once; the last k originals are left to retire. */
START_TEST(replace_up_to_k_at_once)
{
	struct fixture *f = fx(ENGINE_PH_REPLACE, 2);

	expect_act(f, ENGINE_ACT_DEREGISTER);
	expect_target(&f->d, 0, 2);
	apply_done(f);
	oi(&f->o, 2)->elb = ENGINE_ELB_DRAINING;
	expect_act(f, ENGINE_ACT_DEREGISTER);		/* a second slot */
	expect_target(&f->d, 0, 3);
	apply_done(f);
	oi(&f->o, 3)->elb = ENGINE_ELB_DRAINING;
	expect_wait(f, ENGINE_WAIT_DRAIN);		/* k = 2 in flight: no third */
	ck_assert_ptr_nonnull(strstr(f->d.progress, "i-0002: draining; i-0003: draining"));
	free(f);
}
END_TEST

static struct fixture *
fx_victim(enum engine_step step)
{
	struct fixture *f = fx(ENGINE_PH_REPLACE, 1);
	struct engine_node *v = un(&f->u, 2);

	v->purpose = ENGINE_PURPOSE_VICTIM;
	v->step = step;
	oi(&f->o, 2)->elb = step == ENGINE_STEP_DRAINING ? ENGINE_ELB_DRAINING :
	    ENGINE_ELB_NOT_REGISTERED;
	return f;
}

START_TEST(replace_drain_then_terminate)
{
	struct fixture *f = fx_victim(ENGINE_STEP_DRAINING);

	expect_wait(f, ENGINE_WAIT_DRAIN);
	f->o.deadline_passed = true;
	/* Never drained but alive across a failed step (19): registered, then halt. */
	expect_act(f, ENGINE_ACT_REGISTER);
	expect_target(&f->d, 0, 2);
	ck_assert(f->d.halt_after);
	ck_assert_int_eq(f->d.halt_code, ENGINE_HALT_DRAIN_STUCK);
	ck_assert_ptr_nonnull(strstr(f->d.message, "registered again before halting"));
	f->o.deadline_passed = false;
	oi(&f->o, 2)->elb = ENGINE_ELB_NOT_REGISTERED;
	oi(&f->o, 2)->drain_timed_out = true;
	expect_act(f, ENGINE_ACT_DRAINED);
	ck_assert_int_eq(f->d.drain, ENGINE_DRAIN_FORCED);
	engine_apply(&f->u, &f->d, NULL);
	ck_assert_int_eq(f->u.drains_forced, 1);
	f->o.asg.activity_in_progress = true;		/* 11: one activity at a time */
	expect_wait(f, ENGINE_WAIT_TERMINATION);
	f->o.asg.activity_in_progress = false;
	expect_act(f, ENGINE_ACT_TERMINATE);
	expect_target(&f->d, 0, 2);
	ck_assert_str_eq(f->d.act.token, "bbup-7-21-term");
	free(f);
}
END_TEST

START_TEST(replace_one_termination_at_a_time)
{
	struct fixture *f = fx(ENGINE_PH_REPLACE, 2);

	un(&f->u, 2)->purpose = un(&f->u, 3)->purpose = ENGINE_PURPOSE_VICTIM;
	un(&f->u, 2)->step = ENGINE_STEP_TERMINATING;
	un(&f->u, 3)->step = ENGINE_STEP_DRAINED;
	oi(&f->o, 2)->lifecycle = ENGINE_LC_TERMINATING;
	oi(&f->o, 2)->elb = oi(&f->o, 3)->elb = ENGINE_ELB_NOT_REGISTERED;
	expect_wait(f, ENGINE_WAIT_TERMINATION);
	ck_assert_ptr_nonnull(strstr(f->d.progress, "one termination at a time"));
	free(f);
}
END_TEST

START_TEST(replace_termination_followed_by_activity)
{
	struct fixture *f = fx_victim(ENGINE_STEP_TERMINATING);
	struct engine_obs_activity *a = &f->o.asg.act[f->o.asg.nact++];

	engine_strlcpy(un(&f->u, 2)->activity, "act-1", sizeof(un(&f->u, 2)->activity));
	engine_strlcpy(a->id, "act-1", sizeof(a->id));
	engine_strlcpy(a->instance, "i-0002", sizeof(a->instance));
	a->terminate = true;
	/* The group still says InService (12): never terminate again, wait. */
	expect_wait(f, ENGINE_WAIT_TERMINATION);
	a->status = ENGINE_ACTIVITY_FAILED;
	engine_strlcpy(a->message, "instance in Terminating:Wait", sizeof(a->message));
	expect_halt(f, ENGINE_HALT_TERMINATE_FAILED, "Terminating:Wait");
	a->status = ENGINE_ACTIVITY_SUCCESSFUL;
	oi(&f->o, 2)->lifecycle = ENGINE_LC_TERMINATED;
	expect_act(f, ENGINE_ACT_GONE);
	engine_apply(&f->u, &f->d, NULL);
	ck_assert_int_eq(un(&f->u, 2)->step, ENGINE_STEP_AWAITING);
	free(f);
}
END_TEST

/* The replacement: adopted, tied to its victim, ready on <to>: the victim is replaced. */
START_TEST(replace_replacement_adopted_and_ready)
{
	struct fixture *f = fx_victim(ENGINE_STEP_AWAITING);

	f->o.asg.ninst = 5;
	f->o.asg.inst[1] = f->o.asg.inst[4];		/* i-0002 gone, i-0005 kept */
	f->o.asg.ninst = 4;
	add_node(&f->o, 6, TO);
	oi(&f->o, 6)->lifecycle = ENGINE_LC_PENDING;
	oi(&f->o, 6)->elb = ENGINE_ELB_UNHEALTHY;
	oz(&f->o, 6)->state = ZDU_NODE_STARTING;
	expect_act(f, ENGINE_ACT_ADOPT);
	expect_target(&f->d, 0, 6);
	engine_apply(&f->u, &f->d, NULL);
	ck_assert_int_eq(un(&f->u, 6)->role, ENGINE_ROLE_REPLACEMENT);
	ck_assert_int_eq(un(&f->u, 2)->replaced_by, engine_node_index(&f->u, "i-0006"));
	expect_wait(f, ENGINE_WAIT_NODE_READY);
	ck_assert_ptr_nonnull(strstr(f->d.progress, "launching"));
	oi(&f->o, 6)->lifecycle = ENGINE_LC_IN_SERVICE;
	expect_wait(f, ENGINE_WAIT_NODE_READY);
	ck_assert_ptr_nonnull(strstr(f->d.progress, "not yet healthy"));
	oi(&f->o, 6)->elb = ENGINE_ELB_IN_SERVICE;
	oz(&f->o, 6)->state = ZDU_NODE_ACTIVE;
	expect_act(f, ENGINE_ACT_REPLACED);
	engine_apply(&f->u, &f->d, NULL);
	ck_assert_int_eq(f->u.replaced, 1);
	/* Running the wrong version is no replacement. */
	un(&f->u, 2)->step = ENGINE_STEP_AWAITING;
	engine_strlcpy(oz(&f->o, 6)->version, "7.9.3", sizeof(oz(&f->o, 6)->version));
	expect_halt(f, ENGINE_HALT_NODE_ERROR, "runs 7.9.3");
	free(f);
}
END_TEST

/* A replacement in ERROR: halt, retry once, or roll back, as configured. */
START_TEST(replace_node_error_policy)
{
	struct fixture *f = fx_victim(ENGINE_STEP_AWAITING);
	struct engine_node *r;

	f->o.asg.inst[1] = f->o.asg.inst[4];
	f->o.asg.ninst = 4;
	add_node(&f->o, 6, TO);
	node_init(&f->u.nodes[f->u.nnodes], 6, ENGINE_ROLE_REPLACEMENT, "");
	f->u.nodes[f->u.nnodes].replaces = 1;
	un(&f->u, 2)->replaced_by = (int)f->u.nnodes++;
	oz(&f->o, 6)->state = ZDU_NODE_ERROR;
	f->u.on_failure = (enum engine_on_failure)_i;
	switch (f->u.on_failure) {
	case ENGINE_ON_FAILURE_HALT:
		expect_halt(f, ENGINE_HALT_NODE_ERROR, "HomeLockFailedException");
		break;
	case ENGINE_ON_FAILURE_RETRY:
		expect_act(f, ENGINE_ACT_NODE_FAILED);
		engine_apply(&f->u, &f->d, NULL);
		r = un(&f->u, 6);
		ck_assert_int_eq(r->purpose, ENGINE_PURPOSE_RETRY);
		ck_assert_int_eq(un(&f->u, 2)->retries, 1);
		ck_assert_int_eq(un(&f->u, 2)->replaced_by, -1);
		expect_act(f, ENGINE_ACT_DEREGISTER);	/* out of the LB, then replaced */
		expect_target(&f->d, 0, 6);
		ck_assert_int_eq(f->d.act.purpose, ENGINE_PURPOSE_RETRY);
		break;
	case ENGINE_ON_FAILURE_ROLLBACK:
		expect_act(f, ENGINE_ACT_NODE_FAILED);
		engine_apply(&f->u, &f->d, NULL);
		ck_assert_int_eq(f->u.reverse_requested, ENGINE_MODE_ROLLBACK);
		ck_assert_int_eq(un(&f->u, 2)->step, ENGINE_STEP_REPLACED);
		expect_act(f, ENGINE_ACT_REVERSE);
		break;
	}
	free(f);
}
END_TEST

START_TEST(original_in_error_halts)
{
	struct fixture *f = fx(ENGINE_PH_REPLACE, 1);

	f->u.on_failure = ENGINE_ON_FAILURE_RETRY;
	oz(&f->o, 3)->state = ZDU_NODE_ERROR;
	expect_halt(f, ENGINE_HALT_NODE_ERROR, "never touched it");
	free(f);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Step 7: retire the last k without replacement                              */
/* ------------------------------------------------------------------------- */

/* After the loop: originals 1-3 replaced by 6-8, original 4 left, surge 5. */
static struct fixture *
fx_retire(bool literal)
{
	struct fixture *f = fx(ENGINE_PH_RETIRE, 1);

	f->u.literal_order = literal;
	for (int i = 1; i <= (literal ? 4 : 3); i++) {
		struct engine_node *n = &f->u.nodes[f->u.nnodes];

		un(&f->u, i)->step = ENGINE_STEP_REPLACED;
		un(&f->u, i)->purpose = ENGINE_PURPOSE_VICTIM;
		node_init(n, 5 + i, ENGINE_ROLE_REPLACEMENT, "");
		n->replaces = i - 1;
		un(&f->u, i)->replaced_by = (int)f->u.nnodes++;
	}
	f->o.asg.ninst = 0;
	f->o.zdu.nnodes = 0;
	if (!literal)
		add_node(&f->o, 4, FROM);
	for (int i = 5; i <= (literal ? 9 : 8); i++)
		add_node(&f->o, i, TO);
	if (!literal)
		oi(&f->o, 4)->protected = true;
	return f;
}

START_TEST(retire_last_originals)
{
	struct fixture *f = fx_retire(false);

	expect_act(f, ENGINE_ACT_LEAVERS);
	ck_assert_uint_eq(f->d.act.ntargets, 1);
	expect_target(&f->d, 0, 4);
	engine_apply(&f->u, &f->d, NULL);
	expect_act(f, ENGINE_ACT_DEREGISTER);		/* the drain first */
	ck_assert_int_eq(f->d.act.purpose, ENGINE_PURPOSE_LEAVER);
	apply_done(f);
	oi(&f->o, 4)->elb = ENGINE_ELB_DRAINING;
	expect_act(f, ENGINE_ACT_PROTECT);		/* the survivors, meanwhile */
	ck_assert(f->d.act.protect);
	ck_assert_uint_eq(f->d.act.ntargets, 4);
	apply_done(f);
	/* Then the leaver loses it, before AWS shows the first: one wait for both. */
	expect_act(f, ENGINE_ACT_PROTECT);
	ck_assert(!f->d.act.protect);
	expect_target(&f->d, 0, 4);
	apply_done(f);
	expect_wait(f, ENGINE_WAIT_PROTECTION);
	for (int i = 5; i <= 8; i++)
		oi(&f->o, i)->protected = true;
	expect_wait(f, ENGINE_WAIT_PROTECTION);
	oi(&f->o, 4)->protected = false;
	/* The counts go down while it drains: scale-in waits for the drain (18). */
	expect_act(f, ENGINE_ACT_CREATE_CHANGESET);
	ck_assert_str_eq(f->d.act.version, TO);
	ck_assert_int_eq(f->d.act.min, 4);
	ck_assert_int_eq(f->d.act.max, 8);
	apply_done(f);
	cs_good(&f->o, f->u.stack.changeset);
	f->o.cs.nchanges = 1;
	expect_act(f, ENGINE_ACT_EXECUTE_CHANGESET);
	ck_assert_int_eq(engine_guard(&f->u, &f->o, &f->d), ENGINE_ACT);
	/* Still in service, not draining: the guard refuses (I4). */
	oi(&f->o, 4)->elb = ENGINE_ELB_IN_SERVICE;
	ck_assert_int_eq(engine_guard(&f->u, &f->o, &f->d), ENGINE_HALT);
	ck_assert_ptr_nonnull(strstr(f->d.message, "I4"));
	/* The drain's end is recorded whenever it comes, even during the change. */
	oi(&f->o, 4)->elb = ENGINE_ELB_NOT_REGISTERED;
	expect_act(f, ENGINE_ACT_DRAINED);
	engine_apply(&f->u, &f->d, NULL);
	ck_assert_int_eq(un(&f->u, 4)->step, ENGINE_STEP_DRAINED);
	free(f);
}
END_TEST

/* A draining leaver may go by scale-in once the counts go down, not before. */
START_TEST(retire_draining_leaver_gone_early)
{
	struct fixture *f = fx_retire(false);

	un(&f->u, 4)->purpose = ENGINE_PURPOSE_LEAVER;
	un(&f->u, 4)->step = ENGINE_STEP_DRAINING;
	oi(&f->o, 4)->elb = ENGINE_ELB_DRAINING;
	oi(&f->o, 4)->lifecycle = ENGINE_LC_TERMINATING;
	expect_halt(f, ENGINE_HALT_FOREIGN, "i-0004");
	f->u.stack.step = ENGINE_SC_EXECUTING;		/* the counts are going down */
	ck_assert_int_ne(decide(f), ENGINE_HALT);
	free(f);
}
END_TEST

START_TEST(retire_confirms_exactly_the_leavers)
{
	struct fixture *f = fx_retire(false);

	un(&f->u, 4)->purpose = ENGINE_PURPOSE_LEAVER;
	un(&f->u, 4)->step = ENGINE_STEP_DRAINED;
	for (int i = 5; i <= 8; i++)
		oi(&f->o, i)->protected = true;
	oi(&f->o, 4)->protected = false;
	oi(&f->o, 4)->elb = ENGINE_ELB_NOT_REGISTERED;
	engine_strlcpy(f->o.stack.version, TO, sizeof(f->o.stack.version));
	f->o.stack.min = f->o.asg.min = 4;
	f->o.stack.max = f->o.asg.max = 8;
	f->o.asg.desired = 4;
	f->u.expect_min = f->u.expect_desired = 4;
	f->u.expect_max = 8;
	expect_wait(f, ENGINE_WAIT_SCALE_IN);		/* still InService */
	f->o.deadline_passed = true;
	expect_halt(f, ENGINE_HALT_SCALE_IN_BLOCKED, "blocked");
	f->o.deadline_passed = false;
	oi(&f->o, 4)->lifecycle = ENGINE_LC_TERMINATING;
	expect_wait(f, ENGINE_WAIT_SCALE_IN);
	oi(&f->o, 4)->lifecycle = ENGINE_LC_TERMINATED;
	expect_wait(f, ENGINE_WAIT_SCALE_IN);		/* Bitbucket still lists it */
	oz(&f->o, 4)->state = ZDU_NODE_OFFLINE;
	expect_act(f, ENGINE_ACT_GONE);
	engine_apply(&f->u, &f->d, NULL);
	ck_assert_int_eq(un(&f->u, 4)->step, ENGINE_STEP_RETIRED);
	expect_act(f, ENGINE_ACT_PHASE);
	ck_assert_int_eq(f->d.next_phase, ENGINE_PH_FINALIZE);
	/* A survivor going instead is someone else's doing. */
	un(&f->u, 4)->step = ENGINE_STEP_DRAINED;
	oi(&f->o, 6)->lifecycle = ENGINE_LC_TERMINATING;
	expect_halt(f, ENGINE_HALT_FOREIGN, "i-0006");
	free(f);
}
END_TEST

/* Literal order: all N replaced, then the k least busy removed. */
START_TEST(retire_literal_least_busy)
{
	struct fixture *f = fx_retire(true);

	for (int i = 5; i <= 9; i++)
		oz(&f->o, i)->tasks = 10 - i;		/* i-0009 the least busy */
	expect_act(f, ENGINE_ACT_LEAVERS);
	expect_target(&f->d, 0, 9);
	free(f);
}
END_TEST

/* Scale-in blocked while the stack update hangs (9). */
START_TEST(retire_scale_in_blocked)
{
	struct fixture *f = fx_retire(false);

	un(&f->u, 4)->purpose = ENGINE_PURPOSE_LEAVER;
	un(&f->u, 4)->step = ENGINE_STEP_DRAINED;
	oi(&f->o, 4)->elb = ENGINE_ELB_NOT_REGISTERED;
	for (int i = 5; i <= 8; i++)
		oi(&f->o, i)->protected = true;
	oi(&f->o, 4)->protected = false;
	f->u.stack.step = ENGINE_SC_EXECUTING;
	engine_strlcpy(f->u.stack.token, "bbup-7-19-exec", sizeof(f->u.stack.token));
	f->u.stack.min = 4;
	f->u.stack.max = 8;
	f->o.have |= ENGINE_OBS_EVENTS;
	engine_strlcpy(f->o.stack.event_token, "bbup-7-19-exec",
	    sizeof(f->o.stack.event_token));
	f->o.asg.min = f->o.asg.desired = 4;
	f->o.asg.max = 8;
	expect_wait(f, ENGINE_WAIT_STACK_UPDATE);	/* the update hangs */
	f->o.deadline_passed = true;
	expect_halt(f, ENGINE_HALT_SCALE_IN_BLOCKED, "scale-in blocked by protection");
	/* A leaver protected again meanwhile: its protection is cleared, not a halt. */
	f->o.deadline_passed = false;
	oi(&f->o, 4)->protected = true;
	expect_act(f, ENGINE_ACT_PROTECT);
	ck_assert(!f->d.act.protect);
	free(f);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Steps 8-10: finalize, stable, restore                                      */
/* ------------------------------------------------------------------------- */

static struct fixture *
fx_final(void)
{
	struct fixture *f = fx(ENGINE_PH_FINALIZE, 1);

	for (int i = 1; i <= 4; i++) {
		un(&f->u, i)->step = ENGINE_STEP_REPLACED;
		if (i < 4)
			node_init(&f->u.nodes[f->u.nnodes++], 5 + i, ENGINE_ROLE_REPLACEMENT, "");
	}
	f->u.expect_min = f->u.expect_desired = 4;
	f->u.expect_max = 8;
	f->o.asg.ninst = 0;
	f->o.zdu.nnodes = 0;
	for (int i = 5; i <= 8; i++)
		add_node(&f->o, i, TO);
	for (int i = 1; i <= 4; i++) {
		struct engine_obs_znode *z = &f->o.zdu.nodes[f->o.zdu.nnodes++];

		snprintf(z->ip, sizeof(z->ip), "10.0.0.%d", i);
		z->state = ZDU_NODE_OFFLINE;		/* the snapshot's originals */
	}
	engine_strlcpy(f->o.stack.version, TO, sizeof(f->o.stack.version));
	f->o.stack.min = f->o.asg.min = f->o.asg.desired = 4;
	f->o.stack.max = f->o.asg.max = 8;
	f->o.zdu.state = ZDU_READY_TO_RUN_UPGRADE_TASKS;
	f->o.zdu.poll = 10;
	return f;
}

/* Behaviour 23: the same state on two consecutive polls, then approve. */
START_TEST(finalize_two_polls)
{
	struct fixture *f = fx_final();

	expect_act(f, ENGINE_ACT_SEEN);
	engine_apply(&f->u, &f->d, NULL);
	expect_wait(f, ENGINE_WAIT_CONFIRM);		/* the same poll again: not two */
	f->o.zdu.poll = 11;
	f->o.zdu.state = ZDU_MIXED;			/* a node unreachable for a moment */
	oz(&f->o, 6)->state = ZDU_NODE_UNREACHABLE;
	oz(&f->o, 6)->version[0] = '\0';
	expect_wait(f, ENGINE_WAIT_ZDU);
	f->o.zdu.poll = 12;
	f->o.zdu.state = ZDU_READY_TO_RUN_UPGRADE_TASKS;
	oz(&f->o, 6)->state = ZDU_NODE_ACTIVE;
	engine_strlcpy(oz(&f->o, 6)->version, TO, sizeof(oz(&f->o, 6)->version));
	expect_act(f, ENGINE_ACT_SEEN);			/* not consecutive: again */
	engine_apply(&f->u, &f->d, NULL);
	f->o.zdu.poll = 13;
	expect_act(f, ENGINE_ACT_ZDU_APPROVE);
	apply_done(f);
	ck_assert(f->u.approved);
	ck_assert_int_eq(f->u.phase, ENGINE_PH_STABILIZE);
	free(f);
}
END_TEST

/* Never finalize with a node in ERROR, nor with a node not on <to>. */
START_TEST(finalize_never_with_error)
{
	struct fixture *f = fx_final();

	oz(&f->o, 7)->state = ZDU_NODE_ERROR;
	f->u.on_failure = ENGINE_ON_FAILURE_RETRY;
	un(&f->u, 7)->purpose = ENGINE_PURPOSE_RETRY;	/* its policy is elsewhere */
	expect_wait(f, ENGINE_WAIT_ZDU);
	f->o.deadline_passed = true;
	expect_halt(f, ENGINE_HALT_ZDU_STATE, "ERROR");
	free(f);
	f = fx_final();
	f->u.seen_valid = true;
	f->u.seen_state = ZDU_READY_TO_RUN_UPGRADE_TASKS;
	f->u.seen_poll = 9;
	expect_act(f, ENGINE_ACT_ZDU_APPROVE);
	oz(&f->o, 7)->state = ZDU_NODE_ERROR;		/* between decision and call */
	ck_assert_int_eq(engine_guard(&f->u, &f->o, &f->d), ENGINE_HALT);
	ck_assert_int_eq(f->d.halt_code, ENGINE_HALT_INVARIANT);
	free(f);
}
END_TEST

START_TEST(stabilize_then_restore)
{
	struct fixture *f = fx_final();

	f->u.phase = ENGINE_PH_STABILIZE;
	f->u.approved = true;
	f->o.zdu.state = ZDU_RUNNING_UPGRADE_TASKS;
	expect_wait(f, ENGINE_WAIT_STABLE);
	f->o.zdu.state = ZDU_UPGRADE_TASKS_FAILED;
	expect_halt(f, ENGINE_HALT_ZDU_STATE, "retryUpgrade");
	f->o.zdu.state = ZDU_STABLE;
	f->o.zdu.upgrade_mode = false;
	expect_act(f, ENGINE_ACT_PHASE);
	ck_assert_int_eq(f->d.next_phase, ENGINE_PH_RESTORE);
	free(f);
}
END_TEST

/* I6 first; then exactly what we suspended resumed, protection as it was. */
START_TEST(restore_end_state)
{
	struct fixture *f = fx_final();

	f->u.phase = ENGINE_PH_RESTORE;
	f->u.suspended_before = ENGINE_PROC_AZ_REBALANCE;
	f->u.suspended_by_us = ENGINE_PROC_ALARM | ENGINE_PROC_SCHEDULED;
	f->u.new_protected = true;
	f->o.zdu.state = ZDU_STABLE;
	f->o.zdu.upgrade_mode = false;
	f->o.asg.suspended = ENGINE_PROC_OURS;
	f->o.have |= ENGINE_OBS_ALARMS;
	f->o.alarms_in_alarm = 1;
	f->o.asg.max = f->o.stack.max = 9;		/* not as before: no resume yet */
	f->u.expect_max = 9;
	expect_wait(f, ENGINE_WAIT_STABLE);
	f->o.deadline_passed = true;
	expect_halt(f, ENGINE_HALT_END_STATE, "min/max/desired");
	f->o.deadline_passed = false;
	f->o.asg.max = f->o.stack.max = 8;
	f->u.expect_max = 8;
	expect_act(f, ENGINE_ACT_RESUME);
	ck_assert_uint_eq(f->d.act.processes, ENGINE_PROC_ALARM | ENGINE_PROC_SCHEDULED);
	ck_assert_ptr_nonnull(strstr(f->d.message, "1 alarm(s)"));
	apply_done(f);
	f->o.asg.suspended = ENGINE_PROC_AZ_REBALANCE;
	expect_act(f, ENGINE_ACT_PROTECT);		/* new nodes are born protected */
	ck_assert(f->d.act.protect);
	ck_assert_uint_eq(f->d.act.ntargets, 4);
	for (int i = 5; i <= 8; i++)
		oi(&f->o, i)->protected = true;
	expect_act(f, ENGINE_ACT_FINISH);
	ck_assert_int_eq(f->d.final, ENGINE_STATE_DONE);
	engine_apply(&f->u, &f->d, NULL);
	ck_assert(decide(f) == ENGINE_DONE);
	free(f);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Failure branches that hold in any phase                                    */
/* ------------------------------------------------------------------------- */

START_TEST(credentials_refused_halts)
{
	struct fixture *f = fx(ENGINE_PH_REPLACE, 1);

	pf_denied(&f->o);
	expect_halt(f, ENGINE_HALT_CREDENTIALS, "SetInstanceProtection");
	free(f);
}
END_TEST

/* A part not read is never empty: it is waited for (throttling is not a failure). */
START_TEST(unread_part_is_waited_for)
{
	static const unsigned parts[] = { ENGINE_OBS_STACK, ENGINE_OBS_ASG,
	    ENGINE_OBS_ACTIVITIES, ENGINE_OBS_EC2, ENGINE_OBS_ELB, ENGINE_OBS_ZDU };

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		struct fixture *f = fx(ENGINE_PH_REPLACE, 1);

		f->o.have &= ~parts[i];
		expect_wait(f, ENGINE_WAIT_OBSERVE);
		ck_assert(f->d.need & parts[i]);
		f->o.transient = true;
		expect_wait(f, ENGINE_WAIT_BACKOFF);
		free(f);
	}
}
END_TEST

START_TEST(foreign_counts_halt)
{
	struct fixture *f = fx(ENGINE_PH_REPLACE, 1);

	f->o.asg.desired = 6;
	expect_halt(f, ENGINE_HALT_FOREIGN, "someone else");
	free(f);
}
END_TEST

START_TEST(foreign_instance_appears_halts)
{
	struct fixture *f = fx(ENGINE_PH_REPLACE, 1);

	add_node(&f->o, 9, TO);			/* desired still 5, six instances */
	expect_halt(f, ENGINE_HALT_FOREIGN, "i-0009 appeared");
	free(f);
}
END_TEST

START_TEST(foreign_instance_vanishes_halts)
{
	struct fixture *f = fx(ENGINE_PH_SURGE, 1);

	f->o.asg.inst[2] = f->o.asg.inst[--f->o.asg.ninst];
	expect_halt(f, ENGINE_HALT_FOREIGN, "i-0003 (original) is no longer in the group");
	free(f);
}
END_TEST

START_TEST(terminate_intent_resolved)
{
	struct fixture *f = fx_victim(ENGINE_STEP_DRAINED);
	struct engine_obs_activity *a;

	expect_act(f, ENGINE_ACT_TERMINATE);
	engine_intent(&f->u, &f->d);
	expect_wait(f, ENGINE_WAIT_VISIBLE);		/* never re-sent on a guess */
	f->o.deadline_passed = true;
	expect_act(f, ENGINE_ACT_TERMINATE);
	ck_assert_int_eq(f->d.resolve, ENGINE_RESOLVE_NOT_DONE);
	f->o.deadline_passed = false;
	a = &f->o.asg.act[f->o.asg.nact++];
	engine_strlcpy(a->id, "act-77", sizeof(a->id));
	engine_strlcpy(a->instance, "i-0002", sizeof(a->instance));
	a->terminate = true;
	expect_act(f, ENGINE_ACT_TERMINATE);
	ck_assert_int_eq(f->d.resolve, ENGINE_RESOLVE_DONE);
	engine_apply(&f->u, &f->d, NULL);
	ck_assert_int_eq(un(&f->u, 2)->step, ENGINE_STEP_TERMINATING);
	ck_assert_str_eq(un(&f->u, 2)->activity, "act-77");
	free(f);
}
END_TEST

/* Throttling and ScalingActivityInProgress: nothing happened, decide again; no halt. */
START_TEST(transient_outcome_is_not_a_failure)
{
	struct fixture *f = fx_victim(ENGINE_STEP_DRAINED);
	struct engine_outcome out = { .kind = ENGINE_OUT_RETRY };
	char token[ENGINE_TOKEN_MAX];

	expect_act(f, ENGINE_ACT_TERMINATE);
	engine_strlcpy(token, f->d.act.token, sizeof(token));
	engine_intent(&f->u, &f->d);
	engine_apply(&f->u, &f->d, &out);
	ck_assert(!f->u.intent_pending);
	ck_assert_int_eq(f->u.state, ENGINE_STATE_RUNNING);
	ck_assert_int_eq(un(&f->u, 2)->step, ENGINE_STEP_DRAINED);
	expect_act(f, ENGINE_ACT_TERMINATE);
	ck_assert_str_ne(f->d.act.token, token);	/* a new journal row */
	out.kind = ENGINE_OUT_FAILED;
	engine_strlcpy(out.detail, "ValidationError: no such instance", sizeof(out.detail));
	engine_intent(&f->u, &f->d);
	engine_apply(&f->u, &f->d, &out);
	ck_assert_int_eq(f->u.state, ENGINE_STATE_HALTED);
	ck_assert_ptr_nonnull(strstr(f->u.reason, "ValidationError"));
	free(f);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* The guard: I1-I5 right before a call                                       */
/* ------------------------------------------------------------------------- */

START_TEST(guard_invariants)
{
	struct fixture *f = fx(ENGINE_PH_REPLACE, 1);
	const char *word = NULL;

	expect_act(f, ENGINE_ACT_DEREGISTER);
	ck_assert_int_eq(engine_guard(&f->u, &f->o, &f->d), ENGINE_ACT);
	switch (_i) {
	case 0:		/* I1: a node flaps between decision and call */
		oi(&f->o, 5)->elb = ENGINE_ELB_UNHEALTHY;
		word = "I1";
		break;
	case 1:		/* I2: another node already out */
		un(&f->u, 1)->step = ENGINE_STEP_DRAINING;
		word = "I2";
		break;
	case 2:		/* I3: the FileServer */
		engine_strlcpy(f->d.act.targets[0], FILESERVER, ENGINE_ID_MAX);
		word = "FileServer";
		break;
	case 3:		/* I3: not a member of the group */
		engine_strlcpy(f->d.act.targets[0], "i-9999", ENGINE_ID_MAX);
		word = "I3";
		break;
	case 4:		/* I5: another intent is open */
		f->u.intent_pending = true;
		f->u.intent.kind = ENGINE_ACT_PROTECT;
		word = "I5";
		break;
	case 5:		/* I5: a token of another step */
		f->u.seq++;
		word = "I5";
		break;
	case 6:		/* I5: an invalid token */
		engine_strlcpy(f->d.act.token, "-bad_token", sizeof(f->d.act.token));
		word = "I5";
		break;
	}
	ck_assert_int_eq(engine_guard(&f->u, &f->o, &f->d), ENGINE_HALT);
	ck_assert_int_eq(f->d.halt_code, ENGINE_HALT_INVARIANT);
	ck_assert_msg(strstr(f->d.message, word) != NULL, "%s", f->d.message);
	free(f);
}
END_TEST

/* I4: never terminate a node the load balancer has registered or draining. */
START_TEST(guard_terminate_registered)
{
	struct fixture *f = fx_victim(ENGINE_STEP_DRAINED);

	expect_act(f, ENGINE_ACT_TERMINATE);
	oi(&f->o, 2)->elb = ENGINE_ELB_DRAINING;
	ck_assert_int_eq(engine_guard(&f->u, &f->o, &f->d), ENGINE_HALT);
	ck_assert_ptr_nonnull(strstr(f->d.message, "I4"));
	expect_wait(f, ENGINE_WAIT_DRAIN);		/* decided on: not yet */
	free(f);
}
END_TEST

/* A removal could let scale-in pick a node that is not a drained leaver. */
START_TEST(guard_removal_candidates)
{
	struct fixture *f = fx_retire(false);

	un(&f->u, 4)->purpose = ENGINE_PURPOSE_LEAVER;
	un(&f->u, 4)->step = ENGINE_STEP_DRAINED;
	oi(&f->o, 4)->elb = ENGINE_ELB_NOT_REGISTERED;
	f->u.stack.step = ENGINE_SC_CREATED;
	engine_strlcpy(f->u.stack.changeset, "bbup-7-19-cs", sizeof(f->u.stack.changeset));
	engine_strlcpy(f->u.stack.version, TO, sizeof(f->u.stack.version));
	f->u.stack.min = 4;
	f->u.stack.max = 8;
	cs_good(&f->o, "bbup-7-19-cs");
	f->o.cs.nchanges = 1;
	for (int i = 5; i <= 8; i++)
		oi(&f->o, i)->protected = true;
	oi(&f->o, 4)->protected = false;
	expect_act(f, ENGINE_ACT_EXECUTE_CHANGESET);
	oi(&f->o, 7)->protected = false;		/* a survivor lost its protection */
	ck_assert_int_eq(engine_guard(&f->u, &f->o, &f->d), ENGINE_HALT);
	ck_assert_ptr_nonnull(strstr(f->d.message, "i-0007"));
	oi(&f->o, 7)->protected = true;
	expect_act(f, ENGINE_ACT_EXECUTE_CHANGESET);
	oi(&f->o, 4)->elb = ENGINE_ELB_DRAINING;	/* the leaver registered again */
	ck_assert_int_eq(engine_guard(&f->u, &f->o, &f->d), ENGINE_HALT);
	ck_assert_ptr_nonnull(strstr(f->d.message, "I4"));
	expect_wait(f, ENGINE_WAIT_DRAIN);		/* and decided on: not yet */
	free(f);
}
END_TEST

START_TEST(tokens)
{
	struct engine_upgrade *u = calloc(1, sizeof(*u));
	char t[ENGINE_TOKEN_MAX + 1], t2[ENGINE_TOKEN_MAX];

	engine_upgrade_init(u, 9223372036854775807LL, "prod", TO, 1, ENGINE_ON_FAILURE_HALT,
	    false);
	u->seq = 4294967295u;
	engine_token(u, ENGINE_ACT_EXECUTE_CHANGESET, t, sizeof(t));
	ck_assert_str_eq(t, "bbup-9223372036854775807-4294967295-exec");
	ck_assert(engine_token_valid(t));
	engine_token(u, ENGINE_ACT_CREATE_CHANGESET, t2, sizeof(t2));
	ck_assert_str_ne(t, t2);
	engine_token(u, ENGINE_ACT_RECORD, t, sizeof(t));
	ck_assert_str_eq(t, "");
	ck_assert(!engine_token_valid(""));
	ck_assert(!engine_token_valid("-a"));
	ck_assert(!engine_token_valid("a_b"));
	memset(t, 'a', 129);
	t[129] = '\0';
	ck_assert(!engine_token_valid(t));
	t[128] = '\0';
	ck_assert(engine_token_valid(t));
	free(u);
}
END_TEST

/* ------------------------------------------------------------------------- */
/* Operator commands                                                          */
/* ------------------------------------------------------------------------- */

START_TEST(commands_state_table)
{
	struct fixture *f = fx(ENGINE_PH_REPLACE, 1);
	char why[256];

	/* Pause during a replacement: later, at a safe point. */
	un(&f->u, 2)->purpose = ENGINE_PURPOSE_VICTIM;
	un(&f->u, 2)->step = ENGINE_STEP_DRAINED;
	oi(&f->o, 2)->elb = ENGINE_ELB_NOT_REGISTERED;
	ck_assert_int_eq(engine_cmd_pause(&f->u, why, sizeof(why)), ENGINE_CMD_ACCEPTED);
	expect_act(f, ENGINE_ACT_TERMINATE);		/* the drained node is finished */
	ck_assert_int_eq(engine_cmd_resume(&f->u, why, sizeof(why)), ENGINE_CMD_ACCEPTED);
	ck_assert_ptr_nonnull(strstr(why, "withdrawn"));
	/* Cancel with a drained original: it is registered again. */
	ck_assert_int_eq(engine_cmd_cancel(&f->u, why, sizeof(why)), ENGINE_CMD_ACCEPTED);
	expect_act(f, ENGINE_ACT_REGISTER);
	expect_target(&f->d, 0, 2);
	apply_done(f);
	expect_act(f, ENGINE_ACT_REVERSE);
	ck_assert_int_eq(f->d.mode, ENGINE_MODE_CANCEL);
	/* Once an original is replaced, cancel means rollback. */
	f->u.reverse_requested = ENGINE_MODE_FORWARD;
	un(&f->u, 1)->step = ENGINE_STEP_REPLACED;
	ck_assert_int_eq(engine_cmd_cancel(&f->u, why, sizeof(why)), ENGINE_CMD_REFUSED);
	ck_assert_ptr_nonnull(strstr(why, "bbctl rollback"));
	ck_assert_int_eq(engine_cmd_rollback(&f->u, why, sizeof(why)), ENGINE_CMD_ACCEPTED);
	/* After finalize: no rollback, and the reason. */
	f->u.reverse_requested = ENGINE_MODE_FORWARD;
	f->u.approved = true;
	ck_assert_int_eq(engine_cmd_rollback(&f->u, why, sizeof(why)), ENGINE_CMD_REFUSED);
	ck_assert_ptr_nonnull(strstr(why, "finalized"));
	/* Halted: pause refused, resume runs again and re-baselines. */
	f->u.state = ENGINE_STATE_HALTED;
	ck_assert_int_eq(engine_cmd_pause(&f->u, why, sizeof(why)), ENGINE_CMD_REFUSED);
	ck_assert_int_eq(engine_cmd_resume(&f->u, why, sizeof(why)), ENGINE_CMD_ACCEPTED);
	ck_assert(f->u.rebase);
	f->u.state = ENGINE_STATE_DONE;
	ck_assert_int_eq(engine_cmd_resume(&f->u, why, sizeof(why)), ENGINE_CMD_REFUSED);
	ck_assert_int_eq(engine_cmd_cancel(&f->u, why, sizeof(why)), ENGINE_CMD_REFUSED);
	free(f);
}
END_TEST

/* Pause never lands between a drain and the replacement serving. */
START_TEST(pause_safe_points)
{
	struct fixture *f = fx_victim(ENGINE_STEP_AWAITING);
	char why[256];

	f->o.asg.inst[1] = f->o.asg.inst[4];
	f->o.asg.ninst = 4;
	ck_assert_int_eq(engine_cmd_pause(&f->u, why, sizeof(why)), ENGINE_CMD_ACCEPTED);
	expect_wait(f, ENGINE_WAIT_LAUNCH);		/* not yet: a victim in flight */
	un(&f->u, 2)->step = ENGINE_STEP_REPLACED;
	expect_act(f, ENGINE_ACT_PAUSE);
	engine_apply(&f->u, &f->d, NULL);
	ck_assert_int_eq(f->u.state, ENGINE_STATE_PAUSED);
	expect_wait(f, ENGINE_WAIT_PAUSED);
	/* Nor during a stack operation. */
	f->u.state = ENGINE_STATE_RUNNING;
	f->u.pause_requested = true;
	f->u.stack.step = ENGINE_SC_EXECUTING;
	ck_assert(!engine_safe_point(&f->u));
	free(f);
}
END_TEST

START_TEST(names_round_trip)
{
	enum engine_phase ph;
	enum engine_state st;
	enum engine_step sp;
	enum engine_act_kind k;
	char list[128];

	for (int i = ENGINE_PH_PREFLIGHT; i <= ENGINE_PH_END; i++) {
		ck_assert_int_eq(engine_phase_parse(engine_phase_name(i), &ph), 0);
		ck_assert_int_eq(ph, i);
	}
	for (int i = ENGINE_STATE_RUNNING; i <= ENGINE_STATE_ROLLED_BACK; i++) {
		ck_assert_int_eq(engine_state_parse(engine_state_name(i), &st), 0);
		ck_assert_int_eq(st, i);
	}
	for (int i = ENGINE_STEP_LIVE; i <= ENGINE_STEP_GONE; i++) {
		ck_assert_int_eq(engine_step_parse(engine_step_name(i), &sp), 0);
		ck_assert_int_eq(sp, i);
	}
	for (int i = ENGINE_ACT_NONE; i <= ENGINE_ACT_FINISH; i++) {
		ck_assert_int_eq(engine_act_parse(engine_act_name(i), &k), 0);
		ck_assert_int_eq(k, i);
	}
	ck_assert_int_eq(engine_state_parse("failed", &st), -1);
	ck_assert_str_eq(engine_state_name(ENGINE_STATE_ROLLED_BACK), "rolled_back");
	engine_process_list(ENGINE_PROC_OURS, list, sizeof(list));
	ck_assert_str_eq(list, "AlarmNotification AZRebalance ScheduledActions");
	ck_assert_uint_eq(engine_process_parse("AZRebalance"), ENGINE_PROC_AZ_REBALANCE);
	ck_assert_int_eq(engine_elb_parse("InService", "Instance deregistration currently "
	    "in progress."), ENGINE_ELB_DRAINING);
	ck_assert_int_eq(engine_elb_parse("OutOfService", "Instance is not currently "
	    "registered with the LoadBalancer."), ENGINE_ELB_NOT_REGISTERED);
	ck_assert_int_eq(engine_elb_parse("OutOfService", "Instance has failed at least the "
	    "UnhealthyThreshold"), ENGINE_ELB_UNHEALTHY);
	ck_assert_int_eq(engine_stack_status_parse("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_"
	    "PROGRESS"), ENGINE_STACK_ROLLBACK_IN_PROGRESS);
	ck_assert_int_eq(engine_stack_status_parse("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"),
	    ENGINE_STACK_IN_PROGRESS);
	ck_assert_int_eq(engine_lifecycle_parse("Terminating:Wait"), ENGINE_LC_TERMINATING);
	ck_assert_int_eq(engine_activity_parse("WaitingForELBConnectionDraining"),
	    ENGINE_ACTIVITY_IN_PROGRESS);
}
END_TEST

/* A replacement that makes no progress before its deadline: the policy, like ERROR. */
START_TEST(replace_no_progress_policy)
{
	struct fixture *f = fx_victim(ENGINE_STEP_AWAITING);

	f->o.asg.inst[1] = f->o.asg.inst[4];
	f->o.asg.ninst = 4;
	add_node(&f->o, 6, TO);
	oi(&f->o, 6)->elb = ENGINE_ELB_UNHEALTHY;
	oz(&f->o, 6)->state = ZDU_NODE_STARTING;
	node_init(&f->u.nodes[f->u.nnodes], 6, ENGINE_ROLE_REPLACEMENT, "");
	f->u.nodes[f->u.nnodes].replaces = 1;
	un(&f->u, 2)->replaced_by = (int)f->u.nnodes++;
	expect_wait(f, ENGINE_WAIT_NODE_READY);
	f->o.deadline_passed = true;
	engine_strlcpy(f->o.deadline_marker, "something else", sizeof(f->o.deadline_marker));
	expect_wait(f, ENGINE_WAIT_NODE_READY);		/* another wait's deadline */
	engine_strlcpy(f->o.deadline_marker, f->d.progress, sizeof(f->o.deadline_marker));
	expect_halt(f, ENGINE_HALT_NODE_TIMEOUT, "no progress");
	f->u.on_failure = ENGINE_ON_FAILURE_RETRY;
	expect_act(f, ENGINE_ACT_NODE_FAILED);
	ck_assert_int_eq(f->d.act.purpose, ENGINE_PURPOSE_RETRY);
	expect_target(&f->d, 0, 6);
	free(f);
}
END_TEST

/* Cancel while the scale-out's change set waits to be executed: deleted, not run. */
START_TEST(cancel_abandons_unexecuted_change_set)
{
	struct fixture *f = fx_created();
	char why[256];

	ck_assert_int_eq(engine_cmd_cancel(&f->u, why, sizeof(why)), ENGINE_CMD_ACCEPTED);
	expect_act(f, ENGINE_ACT_DELETE_CHANGESET);
	ck_assert(!f->d.halt_after);
	apply_done(f);
	ck_assert_int_eq(f->u.stack.step, ENGINE_SC_IDLE);
	f->o.have &= ~ENGINE_OBS_CHANGESET;
	expect_act(f, ENGINE_ACT_REVERSE);
	engine_apply(&f->u, &f->d, NULL);
	ck_assert_int_eq(f->u.mode, ENGINE_MODE_CANCEL);
	ck_assert_int_eq(f->u.phase, ENGINE_PH_SCALE_OUT);
	expect_act(f, ENGINE_ACT_PHASE);		/* nothing on <to>: no re-surge */
	free(f);
}
END_TEST

/* A node born during a rollback in ERROR: the rollback halts, it does not recurse. */
START_TEST(reverse_node_error_halts)
{
	struct fixture *f = fx(ENGINE_PH_REPLACE, 1);

	f->u.mode = ENGINE_MODE_ROLLBACK;
	f->u.on_failure = ENGINE_ON_FAILURE_ROLLBACK;
	un(&f->u, 5)->reverse_born = true;
	oz(&f->o, 5)->state = ZDU_NODE_ERROR;
	expect_halt(f, ENGINE_HALT_NODE_ERROR, "is in ERROR");
	free(f);
}
END_TEST

/* Resumed after a halt: the nodes AWS removed are forgotten, counts re-read. */
START_TEST(resume_after_halt_rebases)
{
	struct fixture *f = fx(ENGINE_PH_SURGE, 1);
	char why[256];

	f->u.state = ENGINE_STATE_HALTED;
	f->o.asg.ninst = 4;				/* the surge node scaled in */
	f->o.zdu.nnodes = 4;
	f->o.asg.min = f->o.asg.desired = f->o.stack.min = 4;
	f->o.asg.max = f->o.stack.max = 8;
	expect_halt(f, ENGINE_HALT_NONE, NULL);
	ck_assert_int_eq(engine_cmd_resume(&f->u, why, sizeof(why)), ENGINE_CMD_ACCEPTED);
	expect_act(f, ENGINE_ACT_REBASE);
	expect_target(&f->d, 0, 5);
	engine_apply(&f->u, &f->d, NULL);
	ck_assert_int_eq(un(&f->u, 5)->step, ENGINE_STEP_GONE);
	ck_assert_int_eq(f->u.expect_desired, 4);
	ck_assert(!f->u.rebase);
	expect_act(f, ENGINE_ACT_PHASE);		/* the stack rolled back: again */
	ck_assert_int_eq(f->d.next_phase, ENGINE_PH_SCALE_OUT);
	free(f);
}
END_TEST

/* A halt with a node drained but alive registers it again first (19). */
START_TEST(halt_registers_drained_first)
{
	struct fixture *f = fx_victim(ENGINE_STEP_DRAINED);

	f->o.asg.desired = 7;				/* someone else */
	expect_act(f, ENGINE_ACT_REGISTER);
	ck_assert(f->d.halt_after);
	ck_assert_int_eq(engine_guard(&f->u, &f->o, &f->d), ENGINE_ACT);
	apply_done(f);
	ck_assert_int_eq(f->u.state, ENGINE_STATE_HALTED);
	ck_assert_int_eq(f->u.halt, ENGINE_HALT_FOREIGN);
	ck_assert_int_eq(un(&f->u, 2)->step, ENGINE_STEP_LIVE);
	ck_assert_int_eq(un(&f->u, 2)->purpose, ENGINE_PURPOSE_NONE);
	expect_halt(f, ENGINE_HALT_FOREIGN, "someone else");
	free(f);
}
END_TEST

Suite *
engine_core_suite(void)
{
	Suite *s = suite_create("engine_core");
	TCase *tc;

	tc = tcase_create("procedure");
	tcase_add_test(tc, preflight_passes_and_starts);
	tcase_add_loop_test(tc, preflight_refusal, 0, sizeof(refusals) / sizeof(refusals[0]));
	tcase_add_test(tc, preflight_lists_every_refusal);
	tcase_add_test(tc, start_intent_resolved);
	tcase_add_test(tc, record_originals);
	tcase_add_test(tc, record_refuses_changed_cluster);
	tcase_add_test(tc, protect_originals);
	tcase_add_test(tc, scale_out_waits_for_setup_shown);
	tcase_add_test(tc, suspend_exactly_ours);
	tcase_add_test(tc, scale_out_change_set);
	tcase_add_test(tc, changeset_verified_then_executed);
	tcase_add_test(tc, changeset_unexpected_refused);
	tcase_add_test(tc, changeset_empty_or_failed);
	tcase_add_loop_test(tc, changeset_rules, 0, 12);
	tcase_add_test(tc, stack_change_finished_by_token_event);
	tcase_add_test(tc, surge_waits_for_canary);
	tcase_add_test(tc, surge_never_launched);
	tcase_add_test(tc, replace_least_busy_first);
	tcase_add_test(tc, replace_waits_for_capacity);
	tcase_add_test(tc, replace_up_to_k_at_once);
	tcase_add_test(tc, replace_drain_then_terminate);
	tcase_add_test(tc, replace_one_termination_at_a_time);
	tcase_add_test(tc, replace_termination_followed_by_activity);
	tcase_add_test(tc, replace_replacement_adopted_and_ready);
	tcase_add_test(tc, retire_last_originals);
	tcase_add_test(tc, retire_draining_leaver_gone_early);
	tcase_add_test(tc, retire_confirms_exactly_the_leavers);
	tcase_add_test(tc, retire_literal_least_busy);
	tcase_add_test(tc, finalize_two_polls);
	tcase_add_test(tc, stabilize_then_restore);
	tcase_add_test(tc, restore_end_state);
	tcase_add_test(tc, tokens);
	tcase_add_test(tc, names_round_trip);
	suite_add_tcase(s, tc);

	tc = tcase_create("failures");
	tcase_add_test(tc, stack_rolled_back_halts_with_reasons);
	tcase_add_test(tc, stack_rollback_failed_names_continue);
	tcase_add_test(tc, stack_update_deadline);
	tcase_add_test(tc, retire_scale_in_blocked);
	tcase_add_loop_test(tc, replace_node_error_policy, 0, 3);
	tcase_add_test(tc, original_in_error_halts);
	tcase_add_test(tc, replace_no_progress_policy);
	tcase_add_test(tc, cancel_abandons_unexecuted_change_set);
	tcase_add_test(tc, reverse_node_error_halts);
	tcase_add_test(tc, resume_after_halt_rebases);
	tcase_add_test(tc, finalize_never_with_error);
	tcase_add_test(tc, credentials_refused_halts);
	tcase_add_test(tc, unread_part_is_waited_for);
	tcase_add_test(tc, foreign_counts_halt);
	tcase_add_test(tc, halt_registers_drained_first);
	tcase_add_test(tc, foreign_instance_appears_halts);
	tcase_add_test(tc, foreign_instance_vanishes_halts);
	tcase_add_test(tc, terminate_intent_resolved);
	tcase_add_test(tc, transient_outcome_is_not_a_failure);
	tcase_add_loop_test(tc, guard_invariants, 0, 7);
	tcase_add_test(tc, guard_terminate_registered);
	tcase_add_test(tc, guard_removal_candidates);
	tcase_add_test(tc, commands_state_table);
	tcase_add_test(tc, pause_safe_points);
	suite_add_tcase(s, tc);

	tc = tcase_create("simulation");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, sim_happy_path, 0, sizeof(happy) / sizeof(happy[0]));
	tcase_add_loop_test(tc, sim_canary_fails, 0, 3);
	tcase_add_loop_test(tc, sim_replacement_fails, 0, 3);
	tcase_add_test(tc, sim_retry_once_then_halt);
	tcase_add_test(tc, sim_stack_rolls_back);
	tcase_add_test(tc, sim_changeset_drift);
	tcase_add_loop_test(tc, sim_foreign_changes, 0, 2);
	tcase_add_test(tc, sim_reverse_crash_checks);
	suite_add_tcase(s, tc);

	tc = tcase_create("commands");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, sim_pause_every_step, 0, sizeof(cmd_cfg) / sizeof(cmd_cfg[0]));
	tcase_add_loop_test(tc, sim_cancel_every_step, 0, sizeof(cmd_cfg) / sizeof(cmd_cfg[0]));
	tcase_add_loop_test(tc, sim_rollback_every_step, 0,
	    sizeof(cmd_cfg) / sizeof(cmd_cfg[0]));
	suite_add_tcase(s, tc);
	return s;
}
