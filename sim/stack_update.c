/*
 * A stack update as CloudFormation runs it, in quarters of params.stack_update:
 *
 *   UPDATE_IN_PROGRESS -> launch configuration (metadata: same LC, new version for
 *   instances launched from now on; properties: a new LC, refused on accounts that
 *   cannot create one) -> ClusterNodeGroup (min, max, desired = min; fails while a
 *   scaling activity runs; when desired drops, waits until the group has scaled in,
 *   for ever if every candidate is protected) -> UPDATE_COMPLETE_CLEANUP_IN_PROGRESS
 *   -> UPDATE_COMPLETE.
 *
 * A failure, or CancelUpdateStack while the stack is UPDATE_IN_PROGRESS, rolls back
 * what was applied: UPDATE_ROLLBACK_IN_PROGRESS -> UPDATE_ROLLBACK_COMPLETE_CLEANUP_
 * IN_PROGRESS -> UPDATE_ROLLBACK_COMPLETE (or UPDATE_ROLLBACK_FAILED by fault); the
 * rollback waits for a scaling activity in progress before it puts the group's
 * counts back. Every event carries the operation's token (a cancel's own from then
 * on); in the with-VPC layout the nested stack moves with its root.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/model_int.h"

enum phase { P_LC, P_ASG, P_ASG_WAIT, P_CLEANUP, P_DONE, P_RB_REVERT, P_RB_DONE };

enum { CH_LC_META = 1, CH_LC_REPLACE = 2, CH_GROUP = 4, CH_OTHER = 8 };

struct sim_stack_op {
	uint32_t	 serial;
	enum phase	 phase;
	char		 token[SIM_TOKEN_MAX];
	struct sim_param old[SIM_PARAMS_MAX];
	size_t		 nold;
	struct sim_change ch[SIM_CHANGES_MAX];
	size_t		 nch;
	unsigned	 changes;	/* CH_* */
	unsigned	 applied;	/* CH_* done, to undo on rollback */
	char		 old_lc[SIM_NAME_MAX];
	char		 old_version[SIM_VERSION_MAX];
	char		 failed[64];	/* the resource that failed */
	struct sim_changeset *cs;
};

static const char LC_REFUSAL[] = "Resource handler returned message: \"The Launch "
    "Configuration creation operation is not available in your account. Use launch "
    "templates to create configuration templates for your Auto Scaling groups. "
    "(Service: AutoScaling, Status Code: 400, Request ID: %s)\" (RequestToken: %s, "
    "HandlerErrorCode: GeneralServiceException)";

static struct sim_stack *
product(struct sim_stack *root)
{
	return root->child ? root->child : root;
}

static void
next(struct sim_model *m, struct sim_stack *root, enum phase p, int64_t delay)
{
	root->op->phase = p;
	sim_schedule(m, m->now + delay, SIM_EV_STACK_STEP, root->idx, root->op->serial);
}

static int64_t
quarter(const struct sim_model *m)
{
	return m->p.stack_update / 4;
}

/* A status change of the root and, in the with-VPC layout, of the nested stack. */
static void
both(struct sim_model *m, struct sim_stack *root, enum sim_stack_status s,
    const char *reason)
{
	if (root->child != NULL)
		sim_stack_set_status(m, root->child, s, reason, root->op->token);
	sim_stack_set_status(m, root, s, reason, root->op->token);
}

static void
res_event(struct sim_model *m, struct sim_stack *root, const char *logical,
    const char *status, const char *reason)
{
	sim_stack_event(m, product(root), logical, status, reason, root->op->token);
}

static unsigned
classify(const struct sim_change *c, size_t n)
{
	unsigned mask = 0;

	for (size_t i = 0; i < n; i++) {
		if (strcmp(c[i].logical_id, "ClusterNodeGroup") == 0)
			mask |= CH_GROUP;
		else if (strcmp(c[i].logical_id, "ClusterNodeLaunchConfig") != 0)
			mask |= CH_OTHER;
		else if (strcmp(c[i].replacement, "True") == 0)
			mask |= CH_LC_REPLACE;
		else
			mask |= CH_LC_META;
	}
	return mask;
}

static void
set_params(struct sim_stack *root, const struct sim_param *p, size_t n)
{
	memcpy(root->params, p, n * sizeof(*p));
	root->nparams = n;
	if (root->child != NULL) {
		memcpy(root->child->params, p, n * sizeof(*p));
		root->child->nparams = n;
	}
}

void
sim_stack_start_update(struct sim_model *m, struct sim_stack *root,
    const struct sim_param *p, size_t n, const char *token, struct sim_changeset *cs)
{
	struct sim_stack_op *op = sim_xcalloc(1, sizeof(*op));

	root->op = op;
	op->serial = ++m->serial;
	op->cs = cs;
	sim_strlcpy(op->token, token ? token : "", sizeof(op->token));
	memcpy(op->old, root->params, root->nparams * sizeof(*op->old));
	op->nold = root->nparams;
	op->nch = sim_stack_diff(m, product(root), p, n, op->ch, SIM_CHANGES_MAX);
	op->changes = classify(op->ch, op->nch);
	sim_strlcpy(op->old_lc, m->asg.lc_name, sizeof(op->old_lc));
	sim_strlcpy(op->old_version, m->asg.lc_version, sizeof(op->old_version));
	/* DescribeStacks keeps showing the previous status for a moment. */
	root->status_prev = root->status;
	root->status_shown_at = m->now + m->p.stack_status_lag;
	set_params(root, p, n);
	sim_changeset_obsolete(m, root, cs);
	sim_stack_set_status(m, root, SIM_UPDATE_IN_PROGRESS, "User Initiated", op->token);
	if (root->child != NULL) {
		sim_stack_event(m, root, "BitbucketDCStack", "UPDATE_IN_PROGRESS", NULL,
		    op->token);
		sim_stack_set_status(m, root->child, SIM_UPDATE_IN_PROGRESS, NULL, op->token);
	}
	next(m, root, P_LC, quarter(m));
}

static void
finish(struct sim_model *m, struct sim_stack *root, int ok)
{
	struct sim_stack_op *op = root->op;

	root->updated = m->now;
	if (root->child != NULL)
		root->child->updated = m->now;
	if (op->cs != NULL)
		sim_changeset_on_done(m, op->cs, ok);
	free(op);
	root->op = NULL;
}

static void
fail(struct sim_model *m, struct sim_stack *root, const char *logical, const char *reason)
{
	char why[SIM_MSG_MAX], embedded[SIM_MSG_MAX];

	res_event(m, root, logical, "UPDATE_FAILED", reason);
	sim_strlcpy(root->op->failed, logical, sizeof(root->op->failed));
	snprintf(why, sizeof(why), "The following resource(s) failed to update: [%s]. ",
	    logical);
	if (root->child == NULL) {
		sim_stack_set_status(m, root, SIM_UPDATE_ROLLBACK_IN_PROGRESS, why,
		    root->op->token);
	} else {
		sim_stack_set_status(m, root->child, SIM_UPDATE_ROLLBACK_IN_PROGRESS, why,
		    root->op->token);
		snprintf(embedded, sizeof(embedded), "Embedded stack %s was not "
		    "successfully updated. Currently in UPDATE_ROLLBACK_IN_PROGRESS with "
		    "reason: The following resource(s) failed to update: [%s].",
		    root->child->id, logical);
		sim_stack_event(m, root, "BitbucketDCStack", "UPDATE_FAILED", embedded,
		    root->op->token);
		sim_stack_set_status(m, root, SIM_UPDATE_ROLLBACK_IN_PROGRESS, "The following "
		    "resource(s) failed to update: [BitbucketDCStack]. ", root->op->token);
	}
	next(m, root, P_RB_REVERT, quarter(m));
}

static void
set_lc(struct sim_model *m, struct sim_stack *root, const char *name, const char *version)
{
	struct sim_stack_resource *r = (struct sim_stack_resource *)
	    sim_stack_resource(product(root), "ClusterNodeLaunchConfig");

	sim_strlcpy(m->asg.lc_name, name, sizeof(m->asg.lc_name));
	sim_strlcpy(m->asg.lc_version, version, sizeof(m->asg.lc_version));
	if (r != NULL)
		sim_strlcpy(r->physical_id, name, sizeof(r->physical_id));
}

static int
lc_refused(struct sim_model *m, struct sim_stack *root, char *why, size_t len)
{
	char rid[40], tok[40];

	if (!((root->op->changes & CH_LC_REPLACE) && !m->p.lc_create_allowed) &&
	    !sim_fault_fires(m, m->p.stack_refuse, m->p.fault_p, SIM_FAULT_BIT_REFUSE))
		return 0;
	sim_rng_uuid(&m->rng_ids, rid, sizeof(rid));
	sim_rng_uuid(&m->rng_ids, tok, sizeof(tok));
	snprintf(why, len, LC_REFUSAL, rid, tok);
	return 1;
}

static void
step_lc(struct sim_model *m, struct sim_stack *root)
{
	struct sim_stack_op *op = root->op;
	char why[SIM_MSG_MAX], name[SIM_NAME_MAX], sfx[16];

	if (op->changes & (CH_LC_META | CH_LC_REPLACE)) {
		res_event(m, root, "ClusterNodeLaunchConfig", "UPDATE_IN_PROGRESS", NULL);
		if (lc_refused(m, root, why, sizeof(why))) {
			fail(m, root, "ClusterNodeLaunchConfig", why);
			return;
		}
		sim_strlcpy(name, m->asg.lc_name, sizeof(name));
		if (op->changes & CH_LC_REPLACE) {
			res_event(m, root, "ClusterNodeLaunchConfig", "UPDATE_IN_PROGRESS",
			    "Requested update requires the creation of a new physical "
			    "resource; hence creating one.");
			sim_rng_alnum(&m->rng_ids, sfx, 12);
			snprintf(name, sizeof(name), "%.90s-ClusterNodeLaunchConfig-%.12s",
			    product(root)->name, sfx);
		}
		set_lc(m, root, name, sim_stack_param(root, "BitbucketVersion"));
		op->applied |= op->changes & (CH_LC_META | CH_LC_REPLACE);
		res_event(m, root, "ClusterNodeLaunchConfig", "UPDATE_COMPLETE", NULL);
	}
	for (size_t i = 0; i < op->nch; i++) {
		const char *id = op->ch[i].logical_id;

		if (strcmp(id, "ClusterNodeLaunchConfig") == 0 ||
		    strcmp(id, "ClusterNodeGroup") == 0)
			continue;
		res_event(m, root, id, "UPDATE_IN_PROGRESS", NULL);
		res_event(m, root, id, "UPDATE_COMPLETE", NULL);
	}
	next(m, root, P_ASG, quarter(m));
}

static int
param_int(struct sim_stack *st, const char *key)
{
	const char *v = sim_stack_param(st, key);

	return v ? atoi(v) : 0;
}

static void
check_wait(struct sim_model *m, struct sim_stack *root)
{
	if (sim_asg_alive(m) > m->asg.desired)
		return;		/* scaling in; hangs while every candidate is protected */
	res_event(m, root, "ClusterNodeGroup", "UPDATE_COMPLETE", NULL);
	next(m, root, P_CLEANUP, quarter(m));
}

static void
step_asg(struct sim_model *m, struct sim_stack *root)
{
	struct sim_stack_op *op = root->op;
	struct sim_err err;

	if (!(op->changes & (CH_GROUP | CH_LC_REPLACE))) {
		next(m, root, P_CLEANUP, quarter(m));
		return;
	}
	res_event(m, root, "ClusterNodeGroup", "UPDATE_IN_PROGRESS", NULL);
	if (op->changes & CH_GROUP) {
		if (sim_asg_update_counts(m, param_int(root, "ClusterNodeMin"),
		    param_int(root, "ClusterNodeMax"), &err) == -1) {
			fail(m, root, "ClusterNodeGroup", err.message);
			return;
		}
		op->applied |= CH_GROUP;
	}
	op->phase = P_ASG_WAIT;
	check_wait(m, root);
}

void
sim_stack_on_group_change(struct sim_model *m)
{
	struct sim_stack *root = m->stack[0];

	if (root->op != NULL && root->op->phase == P_ASG_WAIT)
		check_wait(m, root);
}

static void
step_cleanup(struct sim_model *m, struct sim_stack *root)
{
	const char *token = root->op->token;

	if (root->child != NULL) {
		sim_stack_set_status(m, root->child, SIM_UPDATE_COMPLETE_CLEANUP_IN_PROGRESS,
		    NULL, token);
		sim_stack_set_status(m, root->child, SIM_UPDATE_COMPLETE, NULL, token);
		sim_stack_event(m, root, "BitbucketDCStack", "UPDATE_COMPLETE", NULL, token);
	}
	sim_stack_set_status(m, root, SIM_UPDATE_COMPLETE_CLEANUP_IN_PROGRESS, NULL, token);
	next(m, root, P_DONE, quarter(m));
}

/* Puts back what the update had applied; 0, or -1 if that failed. */
static int
revert(struct sim_model *m, struct sim_stack *root, char *why, size_t len)
{
	struct sim_stack_op *op = root->op;
	struct sim_err err;

	set_params(root, op->old, op->nold);
	if (op->applied & (CH_LC_META | CH_LC_REPLACE)) {
		res_event(m, root, "ClusterNodeLaunchConfig", "UPDATE_IN_PROGRESS", NULL);
		set_lc(m, root, op->old_lc, op->old_version);
		res_event(m, root, "ClusterNodeLaunchConfig", "UPDATE_COMPLETE", NULL);
	}
	if (op->applied & CH_GROUP) {
		res_event(m, root, "ClusterNodeGroup", "UPDATE_IN_PROGRESS", NULL);
		/* The old counts come back; the group then scales in by its own choice. */
		if (sim_asg_update_counts(m, param_int(root, "ClusterNodeMin"),
		    param_int(root, "ClusterNodeMax"), &err) == -1) {
			res_event(m, root, "ClusterNodeGroup", "UPDATE_FAILED", err.message);
			snprintf(why, len, "The following resource(s) failed to update: "
			    "[ClusterNodeGroup]. ");
			return -1;
		}
		res_event(m, root, "ClusterNodeGroup", "UPDATE_COMPLETE", NULL);
	}
	return 0;
}

static void
step_rb_revert(struct sim_model *m, struct sim_stack *root)
{
	char why[SIM_MSG_MAX];

	/* CloudFormation waits for the group's activity rather than fail on it. */
	if ((root->op->applied & CH_GROUP) && sim_asg_busy(m) != NULL) {
		next(m, root, P_RB_REVERT, quarter(m));
		return;
	}
	if (sim_fault_fires(m, m->p.rollback_fail, m->p.fault_p, SIM_FAULT_BIT_ROLLBACK)) {
		snprintf(why, sizeof(why), "The following resource(s) failed to update: "
		    "[%s]. ", root->op->failed);
		both(m, root, SIM_UPDATE_ROLLBACK_FAILED, why);
		finish(m, root, 0);
		return;
	}
	if (revert(m, root, why, sizeof(why)) == -1) {
		both(m, root, SIM_UPDATE_ROLLBACK_FAILED, why);
		finish(m, root, 0);
		return;
	}
	both(m, root, SIM_UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS, NULL);
	next(m, root, P_RB_DONE, quarter(m));
}

static void
step_rb_done(struct sim_model *m, struct sim_stack *root)
{
	if (root->child != NULL) {
		sim_stack_set_status(m, root->child, SIM_UPDATE_ROLLBACK_COMPLETE, NULL,
		    root->op->token);
		sim_stack_event(m, root, "BitbucketDCStack", "UPDATE_COMPLETE", NULL,
		    root->op->token);
	}
	sim_stack_set_status(m, root, SIM_UPDATE_ROLLBACK_COMPLETE, NULL, root->op->token);
	finish(m, root, 0);
}

/* The stack-level events of a cancel; the resource in progress fails first. */
static void
cancel_events(struct sim_model *m, struct sim_stack *root, const char *busy)
{
	static const char cancelled[] = "Resource update cancelled";
	const char *token = root->op->token;

	if (busy != NULL)
		res_event(m, root, busy, "UPDATE_FAILED", cancelled);
	if (root->child != NULL) {
		sim_stack_set_status(m, root->child, SIM_UPDATE_ROLLBACK_IN_PROGRESS,
		    cancelled, token);
		sim_stack_event(m, root, "BitbucketDCStack", "UPDATE_FAILED", cancelled,
		    token);
	}
	sim_stack_set_status(m, root, SIM_UPDATE_ROLLBACK_IN_PROGRESS, "User Initiated",
	    token);
}

void
sim_stack_op_cancel(struct sim_model *m, struct sim_stack *root, const char *token)
{
	struct sim_stack_op *op = root->op;
	const char *busy = op->phase == P_ASG_WAIT ? "ClusterNodeGroup" : NULL;

	if (token != NULL)
		sim_strlcpy(op->token, token, sizeof(op->token));
	op->serial = ++m->serial;	/* the step already scheduled no longer applies */
	sim_strlcpy(op->failed, busy != NULL ? busy : "ClusterNodeLaunchConfig",
	    sizeof(op->failed));
	cancel_events(m, root, busy);
	next(m, root, P_RB_REVERT, quarter(m));
}

void
sim_stack_on_step(struct sim_model *m, struct sim_stack *root, uint32_t serial)
{
	if (root->op == NULL || root->op->serial != serial)
		return;
	switch (root->op->phase) {
	case P_LC:
		step_lc(m, root);
		break;
	case P_ASG:
		step_asg(m, root);
		break;
	case P_ASG_WAIT:
		check_wait(m, root);
		break;
	case P_CLEANUP:
		step_cleanup(m, root);
		break;
	case P_DONE:
		sim_stack_set_status(m, root, SIM_UPDATE_COMPLETE, NULL, root->op->token);
		finish(m, root, 1);
		break;
	case P_RB_REVERT:
		step_rb_revert(m, root);
		break;
	case P_RB_DONE:
		step_rb_done(m, root);
		break;
	}
}
