/*
 * The invariants I1-I5 (DESIGN.md section 3), checked on the call about to be made
 * against the observation it was decided on. engine_decide() already runs it on its
 * own answers; the shell runs it again right before the call. A violation is a bug or
 * a world that changed between decision and call: either way nothing is done and the
 * upgrade halts with the invariant named.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ENGINE_CORE_INTERNAL
#include "daemon/engine/core.h"

#define WHY_MAX	256

static int	violation(char *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static int
violation(char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, WHY_MAX, fmt, ap);
	va_end(ap);
	return -1;
}

/* I5: one open intent at most, and the token this step derives. */
static int
check_i5(const struct engine_upgrade *u, const struct engine_decision *d, char *why)
{
	char token[ENGINE_TOKEN_MAX];

	if (!engine_token_valid(d->act.token))
		return violation(why, "I5: token \"%s\" is not a valid idempotency token",
		    d->act.token);
	if (u->intent_pending) {
		if (d->resolve != ENGINE_RESOLVE_REISSUE ||
		    strcmp(u->intent.token, d->act.token) != 0 ||
		    u->intent.kind != d->act.kind)
			return violation(why, "I5: intent %s is still open; no other call may "
			    "start", u->intent.token);
		return 0;
	}
	engine_token(u, d->act.kind, token, sizeof(token));
	if (d->resolve != ENGINE_RESOLVE_NONE || strcmp(token, d->act.token) != 0)
		return violation(why, "I5: token %s is not this step's", d->act.token);
	return 0;
}

/* I3: only tracked members of ClusterNodeGroup, never the FileServer. */
static int
check_i3(const struct engine_upgrade *u, const struct engine_obs *o,
    const struct engine_action *a, char *why)
{
	if (a->ntargets == 0)
		return violation(why, "I3: %s names no instance", engine_act_name(a->kind));
	for (size_t i = 0; i < a->ntargets; i++) {
		const char *id = a->targets[i];

		if (o->stack.fileserver[0] != '\0' && strcmp(id, o->stack.fileserver) == 0)
			return violation(why, "I3: %s is the NFS FileServer", id);
		if (engine_obs_inst(o, id) == NULL)
			return violation(why, "I3: %s is not a member of ClusterNodeGroup",
			    id);
		if (engine_node_index(u, id) < 0)
			return violation(why, "I3: %s is not a node of this upgrade", id);
	}
	return 0;
}

/* I1 and I2 for taking nodes out of the load balancer. */
static int
check_deregister(const struct engine_ctx *c, char *why)
{
	const struct engine_upgrade *u = c->u;
	const struct engine_action *a = &c->d->act;
	int out = engine_out_of_service(u), serving = engine_serving_count(c);

	for (size_t i = 0; i < a->ntargets; i++) {
		const struct engine_node *n = &u->nodes[engine_node_index(u, a->targets[i])];

		if (n->step == ENGINE_STEP_LIVE)
			out++;
		if (engine_alive(n) && engine_serving(c->o, n))
			serving--;
	}
	if (out > u->surge)
		return violation(why, "I2: %s would put more than k=%d nodes out of service",
		    a->targets[0], u->surge);
	if (serving < u->n)
		return violation(why, "I1: taking %s out would leave fewer than %d nodes "
		    "serving", a->targets[0], u->n);
	return 0;
}

/* I4 and I2 for a termination. */
static int
check_terminate(const struct engine_ctx *c, char *why)
{
	const struct engine_upgrade *u = c->u;
	const char *id = c->d->act.targets[0];
	int idx = engine_node_index(u, id);
	const struct engine_obs_instance *in = engine_obs_inst(c->o, id);

	if (c->d->act.ntargets != 1)
		return violation(why, "I2: one termination call at a time, not %zu",
		    c->d->act.ntargets);
	if (in->elb != ENGINE_ELB_NOT_REGISTERED || u->nodes[idx].step != ENGINE_STEP_DRAINED)
		return violation(why, "I4: %s is still registered or draining in the load "
		    "balancer", id);
	if (engine_termination_in_flight(c, idx))
		return violation(why, "I2: a termination is already in flight; %s must "
		    "wait", id);
	return 0;
}

/* I1, I2, I4 for a stack change that lowers the counts: who could scale-in pick? */
static int
check_removal(const struct engine_ctx *c, char *why)
{
	const struct engine_upgrade *u = c->u;
	const struct engine_obs *o = c->o;
	int candidates = 0, serving = engine_serving_count(c);

	if (c->d->act.min >= o->asg.desired)
		return 0;
	for (size_t i = 0; i < o->asg.ninst; i++) {
		const struct engine_obs_instance *in = &o->asg.inst[i];
		int idx = engine_node_index(u, in->id);

		if (!engine_in_group(in) || in->protected)
			continue;
		candidates++;
		if (idx < 0 || u->nodes[idx].purpose != ENGINE_PURPOSE_LEAVER)
			return violation(why, "I3: scale-in could pick %s, which is not a node "
			    "to remove", in->id);
		/* A leaver we deregistered may still drain: scale-in waits for it (18). */
		if (in->elb != ENGINE_ELB_NOT_REGISTERED &&
		    !(in->elb == ENGINE_ELB_DRAINING &&
		    u->nodes[idx].step == ENGINE_STEP_DRAINING))
			return violation(why, "I4: scale-in could pick %s while the load "
			    "balancer still serves through it", in->id);
		if (engine_serving(o, &u->nodes[idx]))
			serving--;
	}
	if (candidates > u->surge)
		return violation(why, "I2: scale-in: more than k=%d nodes would leave at "
		    "once", u->surge);
	if (serving < u->n)
		return violation(why, "I1: scale-in would leave fewer than %d nodes "
		    "serving", u->n);
	return 0;
}

static int
check_zdu(const struct engine_obs *o, enum zdu_cluster_state want, char *why)
{
	if (o->zdu.state != want)
		return violation(why, "I6: Bitbucket is %s; never leave upgrade mode but "
		    "from the right state", zdu_cluster_state_name(o->zdu.state));
	for (size_t i = 0; i < o->zdu.nnodes; i++)
		if (o->zdu.nodes[i].state == ZDU_NODE_ERROR)
			return violation(why, "I6: the node at %s is in ERROR",
			    o->zdu.nodes[i].ip);
	return 0;
}

static int
check_kind(const struct engine_ctx *c, char *why)
{
	const struct engine_upgrade *u = c->u;
	const struct engine_action *a = &c->d->act;

	switch (a->kind) {
	case ENGINE_ACT_DEREGISTER:
		return check_i3(u, c->o, a, why) == -1 ? -1 : check_deregister(c, why);
	case ENGINE_ACT_TERMINATE:
		return check_i3(u, c->o, a, why) == -1 ? -1 : check_terminate(c, why);
	case ENGINE_ACT_REGISTER:
	case ENGINE_ACT_PROTECT:
		return check_i3(u, c->o, a, why);
	case ENGINE_ACT_EXECUTE_CHANGESET:
		return check_removal(c, why);
	case ENGINE_ACT_SUSPEND:
		if (a->processes == 0 || (a->processes & ~ENGINE_PROC_OURS) != 0)
			return violation(why, "behaviour 13: suspend only AlarmNotification, "
			    "AZRebalance, ScheduledActions, never an empty list (all) nor "
			    "Launch, Terminate, AddToLoadBalancer");
		return 0;
	case ENGINE_ACT_RESUME:
		if (a->processes == 0 || (a->processes & ~u->suspended_by_us) != 0)
			return violation(why, "behaviour 13: resume only what the upgrade "
			    "suspended");
		return 0;
	case ENGINE_ACT_ZDU_APPROVE:
		return check_zdu(c->o, ZDU_READY_TO_RUN_UPGRADE_TASKS, why);
	case ENGINE_ACT_ZDU_CANCEL:
		return check_zdu(c->o, ZDU_READY_TO_UPGRADE, why);
	default:
		return 0;
	}
}

enum engine_verdict
engine_guard(const struct engine_upgrade *u, const struct engine_obs *o,
    struct engine_decision *d)
{
	struct engine_ctx c = { u, o, d, NULL };
	char why[WHY_MAX], act[ENGINE_TEXT_MAX];

	if (d->verdict != ENGINE_ACT || !engine_act_is_call(d->act.kind))
		return d->verdict;
	if (check_i5(u, d, why) == 0 && check_kind(&c, why) == 0)
		return ENGINE_ACT;
	engine_strlcpy(act, d->message, sizeof(act));
	engine_halt(&c, ENGINE_HALT_INVARIANT, "refused to %s: %s. Nothing was done; the "
	    "upgrade stopped so that a person can look (`bbctl resume` decides again from "
	    "a fresh observation)", act, why);
	return ENGINE_HALT;
}
