/*
 * The journal's open intent, resolved by observation before anything else
 * (DESIGN.md section 4): did the call happen? If the observation shows its effect, the
 * intent is done; if it shows that nothing happened and the call is safe to send again
 * (its token or its nature makes a repeat harmless), it is sent again under the same
 * journal row; a termination is never sent again on a guess (behaviour 12: the group's
 * own view lags), only once no activity for it has shown within the window in which
 * AWS shows one.
 */
#include <stdio.h>
#include <string.h>

#define ENGINE_CORE_INTERNAL
#include "daemon/engine/core.h"

static int
resolved(struct engine_ctx *c, enum engine_resolve r, const char *how)
{
	struct engine_decision *d = c->d;

	d->verdict = ENGINE_ACT;
	d->act = c->u->intent;
	d->resolve = r;
	snprintf(d->message, sizeof(d->message), "%s %s: %s",
	    r == ENGINE_RESOLVE_REISSUE ? "sending again" : "resolved",
	    engine_act_name(d->act.kind), how);
	return ENGINE_DECIDED;
}

static bool
all_targets(const struct engine_ctx *c, bool (*test)(const struct engine_ctx *,
    const struct engine_obs_instance *))
{
	const struct engine_action *a = &c->u->intent;

	for (size_t i = 0; i < a->ntargets; i++)
		if (!test(c, engine_obs_inst(c->o, a->targets[i])))
			return false;
	return true;
}

static bool
protected_as_asked(const struct engine_ctx *c, const struct engine_obs_instance *in)
{
	return in == NULL || in->protected == c->u->intent.protect;
}

static bool
deregistered(const struct engine_ctx *c, const struct engine_obs_instance *in)
{
	return in == NULL || in->elb == ENGINE_ELB_DRAINING ||
	    in->elb == ENGINE_ELB_NOT_REGISTERED;
}

static bool
registered(const struct engine_ctx *c, const struct engine_obs_instance *in)
{
	return in == NULL || in->elb == ENGINE_ELB_IN_SERVICE ||
	    in->elb == ENGINE_ELB_UNHEALTHY;
}

static int
level(struct engine_ctx *c, bool done, const char *what)
{
	return resolved(c, done ? ENGINE_RESOLVE_DONE : ENGINE_RESOLVE_REISSUE, what);
}

/*
 * Protection and processes show with a lag (behaviour 10): an effect not shown yet
 * may still come. Sent again only once the window for it to show has passed, so that
 * a call that did happen before a crash is not made twice (I5).
 */
static int
lagging(struct engine_ctx *c, bool done, const char *what)
{
	if (done)
		return resolved(c, ENGINE_RESOLVE_DONE, what);
	engine_wait(c, ENGINE_WAIT_VISIBLE, "resolving %s %s: not shown yet, and AWS shows "
	    "it with a lag", engine_act_name(c->u->intent.kind), c->u->intent.token);
	if (engine_deadline(c))
		return resolved(c, ENGINE_RESOLVE_REISSUE, "it never showed");
	return ENGINE_DECIDED;
}

static int
zdu_post(struct engine_ctx *c, bool done, bool again)
{
	if (done)
		return resolved(c, ENGINE_RESOLVE_DONE, "Bitbucket shows its effect");
	if (again)
		return resolved(c, ENGINE_RESOLVE_REISSUE, "Bitbucket does not show it");
	return resolved(c, ENGINE_RESOLVE_NOT_DONE, "Bitbucket is no longer in a state "
	    "that allows it");
}

static int
terminate(struct engine_ctx *c)
{
	const char *id = c->u->intent.targets[0];
	const struct engine_obs_activity *a = engine_obs_activity_for(c->o, id);
	const struct engine_obs_instance *in = engine_obs_inst(c->o, id);

	if (a != NULL) {
		resolved(c, ENGINE_RESOLVE_DONE, "its activity exists");
		engine_strlcpy(c->d->act.activity, a->id, sizeof(c->d->act.activity));
		return ENGINE_DECIDED;
	}
	if (in == NULL || !engine_in_group(in))
		return resolved(c, ENGINE_RESOLVE_DONE, "the instance is leaving the group");
	/* The activity is the record (12); it shows within the window, if it exists. */
	engine_wait(c, ENGINE_WAIT_VISIBLE, "resolving the termination of %s: no activity "
	    "seen yet", id);
	if (engine_deadline(c))
		return resolved(c, ENGINE_RESOLVE_NOT_DONE, "no activity appeared in time: "
		    "the call never reached AWS");
	return ENGINE_DECIDED;
}

static int
changeset(struct engine_ctx *c)
{
	const struct engine_action *a = &c->u->intent;
	const struct engine_obs *o = c->o;
	bool seen = strcmp(o->cs.name, a->changeset) == 0;

	if (!seen)
		return engine_wait(c, ENGINE_WAIT_OBSERVE, "reading change set %s",
		    a->changeset);
	switch (a->kind) {
	case ENGINE_ACT_CREATE_CHANGESET:
		return level(c, o->cs.status != ENGINE_CS_ABSENT, "the change set exists");
	case ENGINE_ACT_DELETE_CHANGESET:
		return level(c, o->cs.status == ENGINE_CS_ABSENT, "the change set is gone");
	default:
		break;
	}
	if (strcmp(o->stack.event_token, a->token) == 0 &&
	    o->stack.event != ENGINE_EVENT_NONE)
		return resolved(c, ENGINE_RESOLVE_DONE, "the stack events carry our token");
	if (o->cs.exec == ENGINE_CSX_IN_PROGRESS || o->cs.exec == ENGINE_CSX_COMPLETE ||
	    o->cs.exec == ENGINE_CSX_FAILED)
		return resolved(c, ENGINE_RESOLVE_DONE, "the change set was executed");
	if (o->cs.exec == ENGINE_CSX_AVAILABLE)
		return resolved(c, ENGINE_RESOLVE_REISSUE, "the change set is still "
		    "available (CloudFormation deduplicates by our token)");
	return engine_wait(c, ENGINE_WAIT_INTENT, "resolving the execution of %s",
	    a->changeset);
}

int
engine_resolve_intent(struct engine_ctx *c)
{
	const struct engine_action *a = &c->u->intent;
	const struct engine_obs *o = c->o;
	const struct engine_obs_zdu *z = &o->zdu;

	switch (a->kind) {
	case ENGINE_ACT_ZDU_START:
		return zdu_post(c, z->upgrade_mode || z->state != ZDU_STABLE, true);
	case ENGINE_ACT_ZDU_APPROVE:
		return zdu_post(c, !z->upgrade_mode,
		    z->state == ZDU_READY_TO_RUN_UPGRADE_TASKS);
	case ENGINE_ACT_ZDU_CANCEL:
		return zdu_post(c, !z->upgrade_mode, z->state == ZDU_READY_TO_UPGRADE);
	case ENGINE_ACT_PROTECT:
		return lagging(c, all_targets(c, protected_as_asked), "protection as asked");
	case ENGINE_ACT_SUSPEND:
		return lagging(c, (o->asg.suspended & a->processes) == a->processes,
		    "the processes show as suspended");
	case ENGINE_ACT_RESUME:
		return lagging(c, (o->asg.suspended & a->processes) == 0,
		    "the processes show as resumed");
	case ENGINE_ACT_DEREGISTER:
		return level(c, all_targets(c, deregistered), "the load balancer lets go");
	case ENGINE_ACT_REGISTER:
		return level(c, all_targets(c, registered), "the load balancer has them");
	case ENGINE_ACT_TERMINATE:
		return terminate(c);
	case ENGINE_ACT_CREATE_CHANGESET:
	case ENGINE_ACT_EXECUTE_CHANGESET:
	case ENGINE_ACT_DELETE_CHANGESET:
		return changeset(c);
	default:
		return engine_halt(c, ENGINE_HALT_INTERNAL, "open intent of kind %s",
		    engine_act_name(a->kind));
	}
}
