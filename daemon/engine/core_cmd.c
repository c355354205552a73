/*
 * The operator's commands (bbctl pause, resume, cancel, rollback) as pure functions
 * on the persisted upgrade. A command only records what was asked; engine_decide()
 * makes it take effect at the next safe point (never between a drain and the
 * replacement serving, never during a stack operation, never with a node drained but
 * alive). Each answer says why, and repeating a command is harmless.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define ENGINE_CORE_INTERNAL
#include "daemon/engine/core.h"

static enum engine_cmd	say(enum engine_cmd, char *, size_t, const char *, ...)
			    __attribute__((format(printf, 4, 5)));

static enum engine_cmd
say(enum engine_cmd r, char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (why != NULL && len > 0)
		vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return r;
}

static bool
finished(const struct engine_upgrade *u)
{
	return u->state == ENGINE_STATE_DONE || u->state == ENGINE_STATE_CANCELLED ||
	    u->state == ENGINE_STATE_ROLLED_BACK;
}

/* Running again after a halt: the next decision re-reads everything (engine_rebase). */
static void
run_again(struct engine_upgrade *u)
{
	if (u->state == ENGINE_STATE_HALTED) {
		u->halt = ENGINE_HALT_NONE;
		engine_strlcpy(u->reason, "", sizeof(u->reason));
		u->rebase = u->phase > ENGINE_PH_RECORD;
	}
	u->state = ENGINE_STATE_RUNNING;
}

enum engine_cmd
engine_cmd_pause(struct engine_upgrade *u, char *why, size_t len)
{
	if (finished(u))
		return say(ENGINE_CMD_REFUSED, why, len, "the upgrade is %s: there is "
		    "nothing to pause", engine_state_name(u->state));
	if (u->state == ENGINE_STATE_HALTED)
		return say(ENGINE_CMD_REFUSED, why, len, "the upgrade is halted: nothing "
		    "runs. `bbctl resume` after fixing the cause, or `bbctl rollback`");
	if (u->state == ENGINE_STATE_PAUSED)
		return say(ENGINE_CMD_ALREADY, why, len, "already paused");
	if (u->pause_requested)
		return say(ENGINE_CMD_ALREADY, why, len, "already pausing: it takes effect at "
		    "the next safe point");
	u->pause_requested = true;
	return say(ENGINE_CMD_ACCEPTED, why, len, "pausing at the next safe point (a node "
	    "being replaced is finished first; a stack operation cannot be paused)");
}

enum engine_cmd
engine_cmd_resume(struct engine_upgrade *u, char *why, size_t len)
{
	if (finished(u))
		return say(ENGINE_CMD_REFUSED, why, len, "the upgrade is %s: there is "
		    "nothing to resume", engine_state_name(u->state));
	if (u->state == ENGINE_STATE_RUNNING) {
		if (!u->pause_requested)
			return say(ENGINE_CMD_ALREADY, why, len, "already running");
		u->pause_requested = false;
		return say(ENGINE_CMD_ACCEPTED, why, len, "the pause is withdrawn");
	}
	if (u->state == ENGINE_STATE_HALTED) {
		run_again(u);
		return say(ENGINE_CMD_ACCEPTED, why, len, "resuming after the halt: the "
		    "daemon reads AWS and Bitbucket again and continues from there");
	}
	run_again(u);
	return say(ENGINE_CMD_ACCEPTED, why, len, "resumed in %s",
	    engine_phase_name(u->phase));
}

/* An original left, or is leaving for good: going back now means a rollback. */
static bool
original_replaced(const struct engine_upgrade *u)
{
	if (u->intent_pending && u->intent.kind == ENGINE_ACT_TERMINATE)
		return true;
	for (size_t i = 0; i < u->nnodes; i++) {
		const struct engine_node *n = &u->nodes[i];

		if (n->role != ENGINE_ROLE_ORIGINAL)
			continue;
		if (!engine_alive(n))
			return true;
		/* Its removal is under way: the counts are going, or have gone, down. */
		if (n->purpose == ENGINE_PURPOSE_LEAVER && n->step == ENGINE_STEP_DRAINED &&
		    engine_removal_committed(u))
			return true;
	}
	return false;
}

static bool
finalized(const struct engine_upgrade *u)
{
	return u->approved || (u->intent_pending && u->intent.kind == ENGINE_ACT_ZDU_APPROVE) ||
	    (u->mode == ENGINE_MODE_FORWARD && u->phase >= ENGINE_PH_STABILIZE);
}

static enum engine_cmd
reverse(struct engine_upgrade *u, enum engine_mode m, char *why, size_t len)
{
	u->reverse_requested = m;
	u->pause_requested = false;
	run_again(u);
	if (m == ENGINE_MODE_CANCEL)
		return say(ENGINE_CMD_ACCEPTED, why, len, "cancelling at the next safe point: "
		    "the surge nodes are removed without replacement, then upgrade mode is "
		    "disabled");
	return say(ENGINE_CMD_ACCEPTED, why, len, "rolling back to %s at the next safe "
	    "point: the stack goes back to %s, the nodes on %s are replaced, then upgrade "
	    "mode is disabled", u->from[0] ? u->from : "the original version",
	    u->from[0] ? u->from : "it", u->to);
}

enum engine_cmd
engine_cmd_cancel(struct engine_upgrade *u, char *why, size_t len)
{
	if (finished(u))
		return say(ENGINE_CMD_REFUSED, why, len, "the upgrade is %s: there is "
		    "nothing to cancel", engine_state_name(u->state));
	if (u->mode == ENGINE_MODE_CANCEL || u->reverse_requested == ENGINE_MODE_CANCEL)
		return say(ENGINE_CMD_ALREADY, why, len, "already cancelling");
	if (u->mode == ENGINE_MODE_ROLLBACK ||
	    u->reverse_requested == ENGINE_MODE_ROLLBACK)
		return say(ENGINE_CMD_REFUSED, why, len, "a rollback is in progress; it also "
		    "ends with upgrade mode disabled");
	if (finalized(u))
		return say(ENGINE_CMD_REFUSED, why, len, "the upgrade was finalized (POST "
		    "/rest/zdu/approve): every node runs %s and upgrade mode is off; there "
		    "is nothing left to cancel", u->to);
	if (original_replaced(u))
		return say(ENGINE_CMD_REFUSED, why, len, "an original node has already been "
		    "replaced, so cancelling now means rolling back: use `bbctl rollback`");
	return reverse(u, ENGINE_MODE_CANCEL, why, len);
}

enum engine_cmd
engine_cmd_rollback(struct engine_upgrade *u, char *why, size_t len)
{
	if (finished(u))
		return say(ENGINE_CMD_REFUSED, why, len, "the upgrade is %s: there is "
		    "nothing to roll back", engine_state_name(u->state));
	if (u->mode == ENGINE_MODE_ROLLBACK ||
	    u->reverse_requested == ENGINE_MODE_ROLLBACK)
		return say(ENGINE_CMD_ALREADY, why, len, "already rolling back");
	if (u->mode == ENGINE_MODE_CANCEL || u->reverse_requested == ENGINE_MODE_CANCEL)
		return say(ENGINE_CMD_REFUSED, why, len, "a cancel is in progress; it already "
		    "returns every node to %s", u->from);
	if (finalized(u))
		return say(ENGINE_CMD_REFUSED, why, len, "the upgrade was finalized (POST "
		    "/rest/zdu/approve): upgrade mode is off and the cluster runs %s, so a "
		    "rolling rollback is no longer possible; going back now needs a "
		    "full-downtime downgrade (restore the database and shared home from "
		    "backup)", u->to);
	return reverse(u, ENGINE_MODE_ROLLBACK, why, len);
}
