/*
 * Steps 8-10: finalize (approve; in a reversal, cancel) once the cluster says the same
 * thing on two consecutive polls (behaviour 23: a node unreachable for a moment makes
 * the state flicker), wait for STABLE, then check the end state (I6) before resuming
 * the processes we suspended (behaviour 14: alarms in breach act at once) and
 * restoring everyone's scale-in protection.
 */
#include <stdio.h>
#include <string.h>

#define ENGINE_CORE_INTERNAL
#include "daemon/engine/core.h"

/* Every live node of the group ACTIVE on the version, and no other live ZDU node. */
static int
cluster_on(const struct engine_ctx *c, char *why, size_t len)
{
	const struct engine_upgrade *u = c->u;
	const struct engine_obs *o = c->o;
	int alive = 0;

	for (size_t i = 0; i < u->nnodes; i++) {
		const struct engine_node *n = &u->nodes[i];

		if (!engine_alive(n))
			continue;
		alive++;
		if (!engine_ready_on(o, n, c->want)) {
			const struct engine_obs_znode *z = engine_node_z(o, n);

			snprintf(why, len, "%s is not serving on %s (Bitbucket: %s)", n->id,
			    c->want, z == NULL ? "not listed" : zdu_node_state_name(z->state));
			return -1;
		}
	}
	if (alive != u->n) {
		snprintf(why, len, "%d nodes in the group, %d expected", alive, u->n);
		return -1;
	}
	for (size_t i = 0; i < o->zdu.nnodes; i++) {
		const struct engine_obs_znode *z = &o->zdu.nodes[i];

		if (z->state != ZDU_NODE_OFFLINE && (z->state != ZDU_NODE_ACTIVE ||
		    strcmp(z->version, c->want) != 0)) {
			snprintf(why, len, "the node at %s is %s on %s", z->ip,
			    zdu_node_state_name(z->state), z->version[0] ? z->version : "?");
			return -1;
		}
	}
	return 0;
}

/* The wait just written, or the halt when its deadline has passed. */
static int
zdu_deadline(struct engine_ctx *c)
{
	if (engine_deadline(c))
		return engine_halt(c, ENGINE_HALT_ZDU_STATE, "the cluster did not get ready "
		    "to %s before the deadline: %s. Look at Administration > Rolling "
		    "upgrades, then `bbctl resume`", engine_reversing(c->u) ? "cancel" :
		    "finalize", c->d->progress);
	return ENGINE_DECIDED;
}

int
engine_phase_finalize(struct engine_ctx *c)
{
	const struct engine_upgrade *u = c->u;
	const struct engine_obs_zdu *z = &c->o->zdu;
	bool back = engine_reversing(u);
	enum zdu_cluster_state want = back ? ZDU_READY_TO_UPGRADE :
	    ZDU_READY_TO_RUN_UPGRADE_TASKS;
	char why[200];

	if (back && !z->upgrade_mode && z->state == ZDU_STABLE)
		return ENGINE_NEXT;	/* upgrade mode was never on, or is off already */
	if (cluster_on(c, why, sizeof(why)) == -1) {
		engine_wait(c, ENGINE_WAIT_ZDU, "waiting for every node to be ACTIVE on "
		    "%s: %s", c->want, why);
		return zdu_deadline(c);
	}
	if (z->state != want) {
		engine_wait(c, ENGINE_WAIT_ZDU, "Bitbucket says %s; waiting for %s",
		    zdu_cluster_state_name(z->state), zdu_cluster_state_name(want));
		return zdu_deadline(c);
	}
	if (u->seen_valid && u->seen_state == want && z->poll == u->seen_poll + 1) {
		if (back)
			return engine_act(c, ENGINE_ACT_ZDU_CANCEL, "every node runs %s again "
			    "(READY_TO_UPGRADE on two polls): disable upgrade mode (POST "
			    "/rest/zdu/cancel)", u->from);
		return engine_act(c, ENGINE_ACT_ZDU_APPROVE, "every node runs %s "
		    "(READY_TO_RUN_UPGRADE_TASKS on two polls): finalize (POST "
		    "/rest/zdu/approve)", u->to);
	}
	if (u->seen_valid && u->seen_state == want && z->poll == u->seen_poll) {
		engine_wait(c, ENGINE_WAIT_CONFIRM, "%s seen; confirming on the next poll",
		    zdu_cluster_state_name(want));
		return ENGINE_DECIDED;
	}
	engine_act(c, ENGINE_ACT_SEEN, "%s at poll %llu", zdu_cluster_state_name(want),
	    (unsigned long long)z->poll);
	c->d->seen_state = want;
	c->d->seen_poll = z->poll;
	return ENGINE_DECIDED;
}

int
engine_phase_stabilize(struct engine_ctx *c)
{
	const struct engine_obs_zdu *z = &c->o->zdu;

	if (z->state == ZDU_STABLE && !z->upgrade_mode)
		return ENGINE_NEXT;
	if (z->state == ZDU_UPGRADE_TASKS_FAILED)
		return engine_halt(c, ENGINE_HALT_ZDU_STATE, "Bitbucket's finalization tasks "
		    "failed (UPGRADE_TASKS_FAILED): retry them (Administration > Rolling "
		    "upgrades, or POST /rest/zdu/retryUpgrade), then `bbctl resume`");
	engine_wait(c, ENGINE_WAIT_STABLE, "Bitbucket says %s; waiting for STABLE",
	    zdu_cluster_state_name(z->state));
	if (engine_deadline(c))
		return engine_halt(c, ENGINE_HALT_ZDU_STATE, "the cluster did not become "
		    "STABLE before the deadline (it is %s): look at Administration > Rolling "
		    "upgrades, then `bbctl resume`", zdu_cluster_state_name(z->state));
	return ENGINE_DECIDED;
}

/* I6, as far as the observation tells; processes and protection come next. */
static void
end_state(const struct engine_ctx *c, struct engine_problems *p)
{
	const struct engine_upgrade *u = c->u;
	const struct engine_obs *o = c->o;
	char why[200];

	if (strcmp(o->stack.version, c->want) != 0 || o->stack.min != u->orig_min ||
	    o->stack.max != u->orig_max)
		engine_problem(p, "the stack says BitbucketVersion=%s ClusterNodeMin=%d "
		    "ClusterNodeMax=%d; expected %s %d %d", o->stack.version, o->stack.min,
		    o->stack.max, c->want, u->orig_min, u->orig_max);
	if (o->asg.min != u->orig_min || o->asg.max != u->orig_max ||
	    o->asg.desired != u->orig_desired)
		engine_problem(p, "the group's min/max/desired are %d/%d/%d; expected "
		    "%d/%d/%d", o->asg.min, o->asg.max, o->asg.desired, u->orig_min,
		    u->orig_max, u->orig_desired);
	if (cluster_on(c, why, sizeof(why)) == -1)
		engine_problem(p, "%s", why);
	if (o->zdu.state != ZDU_STABLE || o->zdu.upgrade_mode)
		engine_problem(p, "Bitbucket says %s", zdu_cluster_state_name(o->zdu.state));
}

static int
resume(struct engine_ctx *c)
{
	const struct engine_upgrade *u = c->u;
	unsigned still = u->suspended_by_us & c->o->asg.suspended;
	char alarms[96] = "";

	if (still == 0)
		return ENGINE_NEXT;
	if ((still & ~u->resumed) == 0) {
		engine_wait(c, ENGINE_WAIT_PROCESSES, "waiting for AWS to show the resumed "
		    "processes");
		if (engine_deadline(c))
			return engine_halt(c, ENGINE_HALT_PROCESSES, "the resumed processes "
			    "still show as suspended: resume them by hand, then `bbctl resume`");
		return ENGINE_DECIDED;
	}
	if (c->o->have & ENGINE_OBS_ALARMS)
		snprintf(alarms, sizeof(alarms), "; %d alarm(s) in ALARM state act at once",
		    c->o->alarms_in_alarm);
	engine_act(c, ENGINE_ACT_RESUME, "resume exactly the processes the upgrade "
	    "suspended%s", alarms);
	c->d->act.processes = still & ~u->resumed;
	return ENGINE_DECIDED;
}

/* Everyone's protection as before: originals as recorded, new nodes as born. */
static int
restore_protection(struct engine_ctx *c)
{
	const struct engine_upgrade *u = c->u;
	int on[ENGINE_TRACKED_MAX], off[ENGINE_TRACKED_MAX], r;
	size_t non = 0, noff = 0;

	for (size_t i = 0; i < u->nnodes; i++) {
		const struct engine_node *n = &u->nodes[i];
		bool want = n->role == ENGINE_ROLE_ORIGINAL ? n->was_protected :
		    u->new_protected;

		if (!engine_alive(n))
			continue;
		if (want)
			on[non++] = (int)i;
		else
			off[noff++] = (int)i;
	}
	if ((r = engine_protection_ask(c, on, non, true, "as before the upgrade")) !=
	    ENGINE_NEXT || (r = engine_protection_ask(c, off, noff, false, "as before "
	    "the upgrade")) != ENGINE_NEXT || (r = engine_protection(c, on, non, true,
	    "as before the upgrade")) != ENGINE_NEXT)
		return r;
	return engine_protection(c, off, noff, false, "as before the upgrade");
}

static int
finish(struct engine_ctx *c)
{
	const struct engine_upgrade *u = c->u;
	struct engine_decision *d = c->d;

	switch (u->mode) {
	case ENGINE_MODE_FORWARD:
		d->final = ENGINE_STATE_DONE;
		break;
	case ENGINE_MODE_ROLLBACK:
		d->final = ENGINE_STATE_ROLLED_BACK;
		break;
	case ENGINE_MODE_CANCEL:
		d->final = ENGINE_STATE_CANCELLED;
		break;
	}
	engine_act(c, ENGINE_ACT_FINISH, "%s: %d node(s) on %s; %d replaced, %d removed "
	    "without replacement; drains %d clean, %d forced",
	    engine_state_name(d->final), u->n, c->want, u->replaced, u->retired,
	    u->drains_clean, u->drains_forced);
	return ENGINE_DECIDED;
}

int
engine_phase_restore(struct engine_ctx *c)
{
	char list[ENGINE_TEXT_MAX];
	int r;

	end_state(c, &c->d->problems);
	if (c->d->problems.n > 0) {
		engine_problems_join(&c->d->problems, list, sizeof(list));
		engine_wait(c, ENGINE_WAIT_STABLE, "end state not reached: %s", list);
		if (engine_deadline(c))
			return engine_halt(c, ENGINE_HALT_END_STATE, "the end state is not what "
			    "it should be (I6): %s. The processes the upgrade suspended are "
			    "still suspended; fix this, then `bbctl resume`", list);
		return ENGINE_DECIDED;
	}
	if ((r = resume(c)) != ENGINE_NEXT || (r = restore_protection(c)) != ENGINE_NEXT)
		return r;
	return finish(c);
}
