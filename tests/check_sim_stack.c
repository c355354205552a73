/*
 * The model's CloudFormation stack: parameters and their validation (omitted keys
 * revert to defaults, NoEcho, UsePreviousValue), update timelines and events with
 * the caller's token, the group's counts and the launch configuration's metadata,
 * failures that roll back (launch-configuration refusal, activity in progress,
 * failed rollback), scale-in waits and hangs, change sets, the with-VPC layout and
 * nested-template drift, CancelUpdateStack, standby mode (DBMaster).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/model_int.h"
#include "tests/simmodel.h"
#include "tests/suites_decl.h"

static const char *const caps[] = { "CAPABILITY_IAM" };

static const struct sim_stack_event *
newest(struct sim_stack *st)
{
	return &st->ev[st->nev - 1];
}

static int
alive_members(struct sim_model *m)
{
	return sim_asg_alive(m);
}

START_TEST(stack_at_zero)
{
	struct sim_model *m = test_model();
	struct sim_stack *st = sim_stack_find(m, "bitbucket");

	ck_assert_ptr_nonnull(st);
	ck_assert_ptr_eq(sim_stack_find(m, st->id), st);
	ck_assert_ptr_eq(sim_stack_product(m), st);
	ck_assert_msg(strncmp(st->id, "arn:aws:cloudformation:us-east-1:123456789012:stack/"
	    "bitbucket/", 62) == 0, "%s", st->id);
	ck_assert_int_eq(st->status, SIM_CREATE_COMPLETE);
	ck_assert_str_eq(sim_stack_param(st, "BitbucketVersion"), "7.9.0");
	ck_assert_str_eq(sim_stack_param(st, "ClusterNodeMin"), "4");
	ck_assert_str_eq(sim_stack_param(st, "ClusterNodeMax"), "4");
	ck_assert(sim_stack_param_find(st, "DBPassword")->no_echo);
	ck_assert(sim_stack_param_find(st, "BitbucketLicenseKey")->no_echo);
	ck_assert(!sim_stack_param_find(st, "ClusterNodeMin")->no_echo);
	ck_assert_str_eq(sim_stack_resource(st, "ClusterNodeGroup")->physical_id, m->asg.name);
	ck_assert_str_eq(sim_stack_resource(st, "ClusterNodeGroup")->type,
	    "AWS::AutoScaling::AutoScalingGroup");
	ck_assert_str_eq(sim_stack_resource(st, "FileServer")->physical_id,
	    m->file_server->id);
	ck_assert_str_eq(sim_stack_resource(st, "ClusterNodeLaunchConfig")->physical_id,
	    m->asg.lc_name);
	ck_assert_str_eq(st->out[0].key, "ClusterNodeGroup");
	ck_assert_str_eq(st->out[0].value, m->asg.name);
	ck_assert_str_eq(newest(st)->logical_id, "bitbucket");
	ck_assert_str_eq(newest(st)->status, "CREATE_COMPLETE");
	ck_assert_msg(strncmp(newest(st)->token, "Console-CreateStack-", 20) == 0, "%s",
	    newest(st)->token);
	sim_model_free(m);
}
END_TEST

/* The seed's step 3: new version, one node more, through UpdateStack. */
START_TEST(update_timeline)
{
	struct sim_model *m = test_model();
	struct sim_stack *st = m->stack[0];
	struct sim_param_in in[SIM_PARAMS_MAX];
	struct sim_err e;
	size_t n = test_update_params(in, "7.9.4", "5", "5");
	int64_t t = 1000, q = m->p.stack_update / 4;
	const char *lc = sim_stack_resource(st, "ClusterNodeLaunchConfig")->physical_id;
	char lcname[SIM_NAME_MAX];

	strcpy(lcname, lc);
	ck_assert_int_eq(sim_stack_update(m, "bitbucket", in, n, caps, 1, "upg-1-step-4", t,
	    &e), 0);
	ck_assert_int_eq(st->status, SIM_UPDATE_IN_PROGRESS);
	ck_assert_str_eq(newest(st)->reason, "User Initiated");
	ck_assert_str_eq(newest(st)->token, "upg-1-step-4");
	/* DescribeStacks lags: the previous status for a moment. */
	ck_assert_int_eq(sim_stack_status_shown(st, t), SIM_CREATE_COMPLETE);
	ck_assert_int_eq(sim_stack_status_shown(st, t + m->p.stack_status_lag),
	    SIM_UPDATE_IN_PROGRESS);
	ck_assert_str_eq(sim_stack_param(st, "BitbucketVersion"), "7.9.4");
	ck_assert_str_eq(sim_stack_param(st, "DBPassword"), "db-Secret-1");
	ck_assert_str_eq(m->asg.lc_version, "7.9.0");
	sim_model_advance(m, t + q);
	ck_assert_str_eq(m->asg.lc_version, "7.9.4");
	ck_assert_str_eq(m->asg.lc_name, lcname);	/* metadata only: same LC */
	ck_assert_int_eq(m->asg.desired, 4);
	sim_model_advance(m, t + 2 * q);
	ck_assert_int_eq(m->asg.min, 5);
	ck_assert_int_eq(m->asg.max, 5);
	ck_assert_int_eq(m->asg.desired, 5);
	ck_assert_int_eq(alive_members(m), 5);		/* the surge is launching */
	ck_assert_str_eq(m->inst[m->ninst - 1]->node.version, "7.9.4");
	sim_model_advance(m, t + 3 * q);
	ck_assert_int_eq(st->status, SIM_UPDATE_COMPLETE_CLEANUP_IN_PROGRESS);
	sim_model_advance(m, t + 4 * q);
	ck_assert_int_eq(st->status, SIM_UPDATE_COMPLETE);
	ck_assert_str_eq(newest(st)->logical_id, "bitbucket");
	ck_assert_str_eq(newest(st)->status, "UPDATE_COMPLETE");
	ck_assert_str_eq(newest(st)->token, "upg-1-step-4");
	ck_assert_ptr_null(st->op);
	/* A new node on 7.9.4 without upgrade mode: Bitbucket refuses it. */
	sim_model_advance(m, t + 30000);
	ck_assert_int_eq(m->inst[m->ninst - 1]->node.state, SIM_NODE_ERROR);
	sim_model_free(m);
}
END_TEST

START_TEST(omitted_parameters_revert)
{
	struct sim_model *m = test_model();
	struct sim_param_in in[SIM_PARAMS_MAX];
	struct sim_param_in one = { "BitbucketVersion", "7.9.4", 0 };
	struct sim_err e;
	size_t n = test_update_params(in, "7.9.4", NULL, "5");

	/* Only the version: every key without a default is missing. */
	ck_assert_int_eq(sim_stack_update(m, "bitbucket", &one, 1, caps, 1, NULL, 0, &e), -1);
	ck_assert_str_eq(e.code, "ValidationError");
	ck_assert_str_eq(e.message, "Parameters: [KeyName, AccessCIDR, DBPassword, "
	    "DBMasterUserPassword, BitbucketAdminPassword] must have values");
	/* ClusterNodeMin left out: back to the template's default, 1. */
	in[1] = in[n - 1];
	n--;
	ck_assert_int_eq(sim_stack_update(m, "bitbucket", in, n, caps, 1, NULL, 0, &e), 0);
	ck_assert_str_eq(sim_stack_param(m->stack[0], "ClusterNodeMin"), "1");
	sim_model_free(m);
}
END_TEST

START_TEST(update_refusals)
{
	struct sim_model *m = test_model();
	struct sim_param_in in[SIM_PARAMS_MAX], bad = { "NotificationEmail", "x", 0 };
	struct sim_err e;
	size_t n = test_update_params(in, "7.9.4", "5", "5");
	char want[SIM_MSG_MAX];

	ck_assert_int_eq(sim_stack_update(m, "nope", in, n, caps, 1, NULL, 0, &e), -1);
	ck_assert_str_eq(e.message, "Stack [nope] does not exist");
	ck_assert_int_eq(sim_stack_update(m, "bitbucket", &bad, 1, caps, 1, NULL, 0, &e), -1);
	ck_assert_str_eq(e.message, "Parameters: [NotificationEmail] do not exist in the "
	    "template");
	in[3].value = "m5.large";	/* UsePreviousValue and a value */
	ck_assert_int_eq(sim_stack_update(m, "bitbucket", in, n, caps, 1, NULL, 0, &e), -1);
	ck_assert_str_eq(e.message, "Invalid input for parameter key "
	    "ClusterNodeInstanceType. Cannot specify usePreviousValue as true and non "
	    "empty value for a parameter");
	in[3].value = NULL;
	ck_assert_int_eq(sim_stack_update(m, "bitbucket", in, n, NULL, 0, NULL, 0, &e), -1);
	ck_assert_str_eq(e.code, "InsufficientCapabilitiesException");
	ck_assert_str_eq(e.message, "Requires capabilities : [CAPABILITY_IAM]");
	in[0].value = "10.0.0";
	ck_assert_int_eq(sim_stack_update(m, "bitbucket", in, n, caps, 1, NULL, 0, &e), -1);
	ck_assert_str_eq(e.message, "Parameter 'BitbucketVersion' must match pattern "
	    "([^1234]\\.\\d+\\.\\d+(-?.*))");
	in[0].value = "7.9.0";
	in[1].value = in[2].value = "4";
	ck_assert_int_eq(sim_stack_update(m, "bitbucket", in, n, caps, 1, NULL, 0, &e), -1);
	ck_assert_str_eq(e.message, "No updates are to be performed.");
	in[0].value = "7.9.4";
	ck_assert_int_eq(sim_stack_update(m, "bitbucket", in, n, caps, 1, "-bad", 0, &e), -1);
	ck_assert(strstr(e.message, "clientRequestToken") != NULL);
	ck_assert_int_eq(sim_stack_update(m, "bitbucket", in, n, caps, 1, "t1", 0, &e), 0);
	ck_assert_int_eq(sim_stack_update(m, "bitbucket", in, n, caps, 1, "t2", 10, &e), -1);
	snprintf(want, sizeof(want), "Stack:%s is in UPDATE_IN_PROGRESS state and can not "
	    "be updated.", m->stack[0]->id);
	ck_assert_str_eq(e.message, want);
	sim_model_advance(m, 60000);
	in[0].value = "7.9.5";
	ck_assert_int_eq(sim_stack_update(m, "bitbucket", in, n, caps, 1, "t1", 60000, &e),
	    -1);
	ck_assert_str_eq(e.code, "TokenAlreadyExistsException");
	sim_model_free(m);
}
END_TEST

/* Lowering the counts: the update waits for the scale-in, drain included. */
START_TEST(scale_in_update_waits)
{
	struct sim_model *m = test_model();
	struct sim_stack *st = m->stack[0];
	struct sim_param_in in[SIM_PARAMS_MAX];
	struct sim_err e;
	size_t n = test_update_params(in, NULL, "3", "3");
	int64_t q = m->p.stack_update / 4;

	ck_assert_int_eq(sim_stack_update(m, "bitbucket", in, n, caps, 1, "down", 0, &e), 0);
	sim_model_advance(m, 2 * q);
	ck_assert_int_eq(m->asg.desired, 3);
	ck_assert_int_eq(alive_members(m), 4);		/* one Terminating */
	sim_model_advance(m, 2 * q + m->p.ec2_shutdown - 1);
	ck_assert_int_eq(st->status, SIM_UPDATE_IN_PROGRESS);
	sim_model_advance(m, 2 * q + m->p.ec2_shutdown + 2 * q);
	ck_assert_int_eq(st->status, SIM_UPDATE_COMPLETE);
	ck_assert_int_eq(alive_members(m), 3);
	sim_model_free(m);
}
END_TEST

START_TEST(scale_in_update_hangs_when_protected)
{
	struct sim_model *m = test_model();
	struct sim_param_in in[SIM_PARAMS_MAX];
	struct sim_err e;
	size_t n = test_update_params(in, NULL, "3", "3");
	const char *ids[4];
	int k = 0;

	for (size_t i = 0; i < m->ninst; i++)
		if (m->inst[i]->member)
			ids[k++] = m->inst[i]->id;
	ck_assert_int_eq(sim_asg_set_protection(m, ids, 4, 1, 0, &e), 0);
	ck_assert_int_eq(sim_stack_update(m, "bitbucket", in, n, caps, 1, "down", 0, &e), 0);
	sim_model_advance(m, 3600 * 1000);
	ck_assert_int_eq(m->stack[0]->status, SIM_UPDATE_IN_PROGRESS);
	ck_assert_int_eq(m->asg.desired, 3);
	ck_assert_int_eq(alive_members(m), 4);
	ck_assert(sim_asg_scale_in_blocked(m));
	sim_model_free(m);
}
END_TEST

static int
has_event(struct sim_stack *st, const char *logical, const char *status, const char *why)
{
	for (size_t i = 0; i < st->nev; i++)
		if (strcmp(st->ev[i].logical_id, logical) == 0 &&
		    strcmp(st->ev[i].status, status) == 0 &&
		    (why == NULL || strstr(st->ev[i].reason, why) != NULL))
			return 1;
	return 0;
}

/* Changing the instance type replaces the LC: refused on a new account. */
START_TEST(lc_replacement_refused_rolls_back)
{
	struct sim_model *m = test_model();
	struct sim_stack *st = m->stack[0];
	struct sim_param_in in[SIM_PARAMS_MAX];
	struct sim_err e;
	size_t n = test_update_params(in, "7.9.4", "5", "5");

	in[3].use_previous = 0;
	in[3].value = "c5.2xlarge";
	ck_assert_int_eq(sim_stack_update(m, "bitbucket", in, n, caps, 1, "big", 0, &e), 0);
	sim_model_advance(m, 60000);
	ck_assert_int_eq(st->status, SIM_UPDATE_ROLLBACK_COMPLETE);
	ck_assert(has_event(st, "ClusterNodeLaunchConfig", "UPDATE_FAILED", "The Launch "
	    "Configuration creation operation is not available in your account. Use "
	    "launch templates to create configuration templates for your Auto Scaling "
	    "groups."));
	ck_assert(has_event(st, "bitbucket", "UPDATE_ROLLBACK_IN_PROGRESS", "The following "
	    "resource(s) failed to update: [ClusterNodeLaunchConfig]. "));
	ck_assert_str_eq(newest(st)->status, "UPDATE_ROLLBACK_COMPLETE");
	ck_assert_str_eq(newest(st)->token, "big");
	ck_assert_str_eq(sim_stack_param(st, "BitbucketVersion"), "7.9.0");
	ck_assert_str_eq(sim_stack_param(st, "ClusterNodeInstanceType"), "c5.xlarge");
	ck_assert_str_eq(m->asg.lc_version, "7.9.0");
	ck_assert_int_eq(m->asg.desired, 4);
	sim_model_free(m);
}
END_TEST

static void
old_account(struct sim_params *p)
{
	p->lc_create_allowed = 1;
}

START_TEST(lc_replacement_allowed)
{
	struct sim_model *m = test_model_with(old_account);
	struct sim_param_in in[SIM_PARAMS_MAX];
	struct sim_err e;
	size_t n = test_update_params(in, NULL, NULL, NULL);
	char old[SIM_NAME_MAX];

	strcpy(old, m->asg.lc_name);
	in[3].use_previous = 0;
	in[3].value = "c5.2xlarge";
	ck_assert_int_eq(sim_stack_update(m, "bitbucket", in, n, caps, 1, NULL, 0, &e), 0);
	sim_model_advance(m, 60000);
	ck_assert_int_eq(m->stack[0]->status, SIM_UPDATE_COMPLETE);
	ck_assert_str_ne(m->asg.lc_name, old);
	ck_assert_str_eq(sim_stack_resource(m->stack[0], "ClusterNodeLaunchConfig")->physical_id,
	    m->asg.lc_name);
	sim_model_free(m);
}
END_TEST

static void
refuse_once(struct sim_params *p)
{
	p->stack_refuse = SIM_FAULT_ONCE;
}

START_TEST(refusal_fault_once)
{
	struct sim_model *m = test_model_with(refuse_once);
	struct sim_param_in in[SIM_PARAMS_MAX];
	struct sim_err e;
	size_t n = test_update_params(in, "7.9.4", "5", "5");

	ck_assert_int_eq(sim_stack_update(m, "bitbucket", in, n, caps, 1, "a", 0, &e), 0);
	sim_model_advance(m, 60000);
	ck_assert_int_eq(m->stack[0]->status, SIM_UPDATE_ROLLBACK_COMPLETE);
	ck_assert_int_eq(sim_stack_update(m, "bitbucket", in, n, caps, 1, "b", 60000, &e), 0);
	sim_model_advance(m, 120000);
	ck_assert_int_eq(m->stack[0]->status, SIM_UPDATE_COMPLETE);
	sim_model_free(m);
}
END_TEST

/* The group is busy when the update reaches it: the update fails, rolls back. */
START_TEST(activity_in_progress_fails_update)
{
	struct sim_model *m = test_model();
	struct sim_stack *st = m->stack[0];
	struct sim_param_in in[SIM_PARAMS_MAX];
	struct sim_activity *a;
	struct sim_err e;
	size_t n = test_update_params(in, "7.9.4", "5", "5");
	char want[SIM_MSG_MAX];
	int64_t q = m->p.stack_update / 4;

	ck_assert_int_eq(sim_stack_update(m, "bitbucket", in, n, caps, 1, "x", 0, &e), 0);
	/* Just before the group's turn, a termination starts (no drain, 1 s down). */
	ck_assert_int_eq(sim_asg_terminate(m, m->inst[1]->id, 0, 2 * q - 1, &a, &e), 0);
	sim_model_advance(m, 60000);
	snprintf(want, sizeof(want), "Scaling activity %s is in progress and blocks this "
	    "action.", a->id);
	ck_assert(has_event(st, "ClusterNodeGroup", "UPDATE_FAILED", want));
	ck_assert_int_eq(st->status, SIM_UPDATE_ROLLBACK_COMPLETE);
	ck_assert_str_eq(m->asg.lc_version, "7.9.0");	/* the metadata went back too */
	sim_model_free(m);
}
END_TEST

static void
rollback_fails(struct sim_params *p)
{
	p->stack_refuse = SIM_FAULT_ALWAYS;
	p->rollback_fail = SIM_FAULT_ALWAYS;
}

START_TEST(rollback_failed_blocks_updates)
{
	struct sim_model *m = test_model_with(rollback_fails);
	struct sim_param_in in[SIM_PARAMS_MAX];
	struct sim_err e;
	size_t n = test_update_params(in, "7.9.4", "5", "5");

	ck_assert_int_eq(sim_stack_update(m, "bitbucket", in, n, caps, 1, "a", 0, &e), 0);
	sim_model_advance(m, 60000);
	ck_assert_int_eq(m->stack[0]->status, SIM_UPDATE_ROLLBACK_FAILED);
	ck_assert_int_eq(sim_stack_update(m, "bitbucket", in, n, caps, 1, "b", 60000, &e), -1);
	ck_assert(strstr(e.message, "is in UPDATE_ROLLBACK_FAILED state and can not be "
	    "updated.") != NULL);
	sim_model_free(m);
}
END_TEST

static const struct sim_change *
change(const struct sim_changeset *cs, const char *logical)
{
	for (size_t i = 0; i < cs->nchanges; i++)
		if (strcmp(cs->changes[i].logical_id, logical) == 0)
			return &cs->changes[i];
	return NULL;
}

START_TEST(changeset_lifecycle)
{
	struct sim_model *m = test_model();
	struct sim_stack *st = m->stack[0];
	struct sim_param_in in[SIM_PARAMS_MAX];
	struct sim_changeset *cs, *d;
	const struct sim_change *c;
	struct sim_err e;
	size_t n = test_update_params(in, "7.9.4", "5", "5");
	int64_t t;

	ck_assert_int_eq(sim_changeset_create(m, "bitbucket", "upg-1-scale-out", in, n, caps,
	    1, 1, 0, &cs, &e), 0);
	ck_assert_int_eq(cs->status, SIM_CS_CREATE_PENDING);
	ck_assert_int_eq(sim_changeset_execute(m, "bitbucket", "upg-1-scale-out", "tok", 10,
	    &e), -1);
	ck_assert_str_eq(e.code, "InvalidChangeSetStatus");
	sim_model_advance(m, m->p.changeset_create);
	ck_assert_int_eq(sim_changeset_describe(m, "bitbucket", "upg-1-scale-out",
	    m->now, &d, &e), 0);
	ck_assert_ptr_eq(d, cs);
	ck_assert_str_eq(sim_cs_status_name(cs->status), "CREATE_COMPLETE");
	ck_assert_str_eq(sim_cs_exec_name(cs->exec), "AVAILABLE");
	ck_assert_uint_eq(cs->nchanges, 2);
	c = change(cs, "ClusterNodeGroup");
	ck_assert_str_eq(c->action, "Modify");
	ck_assert_str_eq(c->replacement, "False");
	ck_assert_str_eq(c->scope[0], "Properties");
	ck_assert_ptr_null(c->scope[1]);
	ck_assert_uint_eq(c->ndetail, 3);
	ck_assert_str_eq(c->physical_id, m->asg.name);
	c = change(cs, "ClusterNodeLaunchConfig");
	ck_assert_str_eq(c->replacement, "False");
	ck_assert_str_eq(c->scope[0], "Metadata");
	ck_assert_str_eq(c->detail[0].causing, "BitbucketVersion");
	/* Describe by ARN works without the stack. */
	ck_assert_ptr_eq(sim_changeset_find(m, NULL, cs->id), cs);
	t = m->now;
	ck_assert_int_eq(sim_changeset_execute(m, "bitbucket", "upg-1-scale-out",
	    "upg-1-step-4", t, &e), 0);
	ck_assert_int_eq(cs->exec, SIM_CS_EXECUTE_IN_PROGRESS);
	ck_assert_int_eq(sim_changeset_delete(m, "bitbucket", "upg-1-scale-out", t, &e), -1);
	sim_model_advance(m, t + m->p.stack_update);
	ck_assert_int_eq(st->status, SIM_UPDATE_COMPLETE);
	ck_assert_str_eq(newest(st)->token, "upg-1-step-4");
	ck_assert_int_eq(cs->exec, SIM_CS_EXECUTE_COMPLETE);
	ck_assert_int_eq(m->asg.desired, 5);
	ck_assert_int_eq(sim_changeset_execute(m, "bitbucket", "upg-1-scale-out", "again",
	    m->now, &e), -1);
	ck_assert_str_eq(e.code, "InvalidChangeSetStatus");
	ck_assert_int_eq(sim_changeset_delete(m, "bitbucket", "upg-1-scale-out", m->now,
	    &e), 0);
	ck_assert_int_eq(sim_changeset_describe(m, "bitbucket", "upg-1-scale-out", m->now,
	    &d, &e), -1);
	ck_assert_int_eq(e.status, 404);
	ck_assert_str_eq(e.code, "ChangeSetNotFound");
	ck_assert_str_eq(e.message, "ChangeSet [upg-1-scale-out] does not exist");
	sim_model_free(m);
}
END_TEST

START_TEST(changeset_refusals)
{
	struct sim_model *m = test_model();
	struct sim_param_in in[SIM_PARAMS_MAX];
	struct sim_changeset *cs;
	struct sim_err e;
	size_t n = test_update_params(in, NULL, NULL, NULL);

	ck_assert_int_eq(sim_changeset_create(m, "bitbucket", "same", in, n, caps, 1, 1, 0,
	    &cs, &e), 0);
	sim_model_advance(m, m->p.changeset_create);
	ck_assert_int_eq(cs->status, SIM_CS_FAILED);
	ck_assert_int_eq(cs->exec, SIM_CS_UNAVAILABLE);
	ck_assert_str_eq(cs->reason, "The submitted information didn't contain changes. "
	    "Submit different information to create a change set.");
	ck_assert_int_eq(sim_changeset_create(m, "bitbucket", "same", in, n, caps, 1, 1,
	    m->now, &cs, &e), -1);
	ck_assert_str_eq(e.code, "AlreadyExistsException");
	ck_assert_int_eq(sim_changeset_create(m, "bitbucket", "1bad", in, n, caps, 1, 1,
	    m->now, &cs, &e), -1);
	ck_assert_str_eq(e.code, "ValidationError");
	n = test_update_params(in, "7.9.4", NULL, NULL);
	ck_assert_int_eq(sim_stack_update(m, "bitbucket", in, n, caps, 1, NULL, m->now, &e),
	    0);
	ck_assert_int_eq(sim_changeset_create(m, "bitbucket", "busy", in, n, caps, 1, 1,
	    m->now, &cs, &e), -1);
	ck_assert(strstr(e.message, "UPDATE_IN_PROGRESS state and can not be updated") !=
	    NULL);
	sim_model_free(m);
}
END_TEST

static void
nested(struct sim_params *p)
{
	p->nested = 1;
}

static void
nested_drift(struct sim_params *p)
{
	p->nested = 1;
	p->nested_drift = 1;
}

START_TEST(with_vpc_layout)
{
	struct sim_model *m = test_model_with(nested);
	struct sim_stack *root = m->stack[0], *ps = sim_stack_product(m);
	struct sim_param_in in[SIM_PARAMS_MAX];
	struct sim_changeset *cs, *flat;
	const struct sim_change *c;
	struct sim_err e;
	size_t n = test_update_params(in, "7.9.4", "5", "5");

	ck_assert_ptr_ne(root, ps);
	ck_assert_ptr_eq(root->child, ps);
	ck_assert_ptr_null(sim_stack_resource(root, "ClusterNodeGroup"));
	ck_assert_str_eq(sim_stack_resource(root, "BitbucketDCStack")->physical_id, ps->id);
	ck_assert_str_eq(sim_stack_resource(ps, "ClusterNodeGroup")->physical_id,
	    m->asg.name);
	ck_assert_str_eq(root->out[0].value, m->asg.name);	/* re-exported */
	ck_assert_int_eq(sim_changeset_create(m, root->name, "n1", in, n, caps, 1, 1, 0,
	    &cs, &e), 0);
	ck_assert_int_eq(sim_changeset_create(m, root->name, "n2", in, n, caps, 1, 0, 0,
	    &flat, &e), 0);
	sim_model_advance(m, m->p.changeset_create);
	ck_assert_uint_eq(cs->nchanges, 1);
	c = &cs->changes[0];
	ck_assert_str_eq(c->logical_id, "BitbucketDCStack");
	ck_assert_str_eq(c->replacement, "False");
	ck_assert_ptr_nonnull(c->nested);
	ck_assert_ptr_eq(c->nested->stack, ps);
	ck_assert_int_eq(c->nested->status, SIM_CS_CREATE_COMPLETE);
	ck_assert_uint_eq(c->nested->nchanges, 2);
	ck_assert_ptr_null(flat->changes[0].nested);
	/* Executing the root updates both, each with its own stack-level events. */
	ck_assert_int_eq(sim_changeset_execute(m, root->name, "n1", "tok-n", m->now, &e), 0);
	ck_assert_int_eq(flat->exec, SIM_CS_OBSOLETE);
	sim_model_advance(m, m->now + m->p.stack_update);
	ck_assert_int_eq(root->status, SIM_UPDATE_COMPLETE);
	ck_assert_int_eq(ps->status, SIM_UPDATE_COMPLETE);
	ck_assert_str_eq(newest(root)->logical_id, root->name);
	ck_assert_str_eq(newest(root)->token, "tok-n");
	ck_assert(has_event(ps, ps->name, "UPDATE_COMPLETE", NULL));
	ck_assert(has_event(root, "BitbucketDCStack", "UPDATE_COMPLETE", NULL));
	ck_assert_int_eq(m->asg.desired, 5);
	ck_assert_str_eq(m->asg.lc_version, "7.9.4");
	ck_assert_str_eq(sim_stack_param(ps, "BitbucketVersion"), "7.9.4");
	/* The nested stack is not updated on its own. */
	ck_assert_int_eq(sim_stack_update(m, ps->name, in, n, caps, 1, NULL, m->now, &e), -1);
	sim_model_free(m);
}
END_TEST

START_TEST(nested_drift_shows_and_fails)
{
	struct sim_model *m = test_model_with(nested_drift);
	struct sim_stack *root = m->stack[0], *ps = sim_stack_product(m);
	struct sim_param_in in[SIM_PARAMS_MAX];
	struct sim_changeset *cs, *sub;
	const struct sim_change *c;
	struct sim_err e;
	size_t n = test_update_params(in, "7.9.4", "5", "5");

	ck_assert_int_eq(sim_changeset_create(m, root->name, "d", in, n, caps, 1, 1, 0, &cs,
	    &e), 0);
	sim_model_advance(m, m->p.changeset_create);
	sub = cs->changes[0].nested;
	ck_assert_ptr_nonnull(sub);
	ck_assert_uint_eq(sub->nchanges, 3);
	c = change(sub, "SecurityGroup");
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_null(c->detail[0].causing);	/* nobody asked for it */
	c = change(sub, "ClusterNodeLaunchConfig");
	ck_assert_str_eq(c->replacement, "True");
	ck_assert_str_eq(c->scope[0], "Metadata");
	ck_assert_str_eq(c->scope[1], "Properties");
	/* Executed anyway: the LC would be replaced, which this account cannot do. */
	ck_assert_int_eq(sim_changeset_execute(m, root->name, "d", "drift", m->now, &e), 0);
	sim_model_advance(m, m->now + 60000);
	ck_assert_int_eq(root->status, SIM_UPDATE_ROLLBACK_COMPLETE);
	ck_assert_int_eq(ps->status, SIM_UPDATE_ROLLBACK_COMPLETE);
	ck_assert(has_event(root, "BitbucketDCStack", "UPDATE_FAILED", "Embedded stack"));
	ck_assert(has_event(root, root->name, "UPDATE_ROLLBACK_IN_PROGRESS",
	    "[BitbucketDCStack]"));
	ck_assert_int_eq(cs->exec, SIM_CS_EXECUTE_FAILED);
	/* Even the same parameters change something: the template moved. */
	n = test_update_params(in, NULL, NULL, NULL);
	ck_assert_int_eq(sim_stack_update(m, root->name, in, n, caps, 1, NULL, m->now, &e),
	    0);
	sim_model_free(m);
}
END_TEST

/* What a careless or hostile client may send: refused with a message, never a crash. */
START_TEST(hostile_inputs)
{
	struct sim_model *m = test_model();
	struct sim_param_in in[SIM_PARAMS_MAX], nokey = { NULL, "x", 0 };
	struct sim_changeset *cs;
	struct sim_err e;
	char big[4096];
	size_t n = test_update_params(in, "7.9.4", "5", "5");

	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(sim_stack_update(m, big, in, n, caps, 1, NULL, 0, &e), -1);
	ck_assert_str_eq(e.code, "ValidationError");
	ck_assert_int_eq(sim_stack_update(m, "bitbucket", in, n, caps, 1, big, 0, &e), -1);
	ck_assert(strstr(e.message, "clientRequestToken") != NULL);
	ck_assert_int_eq(sim_stack_update(m, "bitbucket", &nokey, 1, caps, 1, NULL, 0, &e),
	    -1);
	ck_assert_str_eq(e.code, "ValidationError");
	in[0].value = big;
	ck_assert_int_eq(sim_stack_update(m, "bitbucket", in, n, caps, 1, NULL, 0, &e), -1);
	in[0].value = "7.9.4";
	in[1].value = "-1";
	ck_assert_int_eq(sim_stack_update(m, "bitbucket", in, n, caps, 1, NULL, 0, &e), -1);
	ck_assert_str_eq(e.message, "Parameter 'ClusterNodeMin' must be a number.");
	in[1].value = "5";
	ck_assert_int_eq(sim_changeset_create(m, "bitbucket", big, in, n, caps, 1, 1, 0, &cs,
	    &e), -1);
	ck_assert_int_eq(sim_changeset_describe(m, big, big, 0, &cs, &e), -1);
	ck_assert_int_eq(sim_changeset_execute(m, NULL, "", NULL, 0, &e), -1);
	ck_assert_int_eq(sim_changeset_delete(m, "bitbucket", "\x01", 0, &e), -1);
	ck_assert_int_eq(m->stack[0]->status, SIM_CREATE_COMPLETE);
	sim_model_free(m);
}
END_TEST

/* The newest event of a resource (or the stack), NULL if none. */
static const struct sim_stack_event *
last_event(struct sim_stack *st, const char *logical)
{
	for (size_t i = st->nev; i-- > 0;)
		if (strcmp(st->ev[i].logical_id, logical) == 0)
			return &st->ev[i];
	return NULL;
}

/* Cancelled while the group scales out: everything back, under the cancel's token. */
START_TEST(cancel_update_rolls_back)
{
	struct sim_model *m = test_model();
	struct sim_stack *st = m->stack[0];
	struct sim_param_in in[SIM_PARAMS_MAX];
	struct sim_err e;
	size_t n = test_update_params(in, "7.9.4", "5", "5");
	int64_t q = m->p.stack_update / 4, t;
	const struct sim_stack_event *ev;

	ck_assert_int_eq(sim_stack_update(m, "bitbucket", in, n, caps, 1, "upg-1", 0, &e),
	    0);
	t = 2 * q + 1;
	sim_model_advance(m, t);
	ck_assert_int_eq(m->asg.desired, 5);		/* the surge is launching */
	ck_assert_str_eq(m->asg.lc_version, "7.9.4");
	ck_assert_int_eq(sim_stack_cancel_update(m, "bitbucket", "cancel-1", t, &e), 0);
	ck_assert_int_eq(st->status, SIM_UPDATE_ROLLBACK_IN_PROGRESS);
	ev = newest(st);
	ck_assert_str_eq(ev->logical_id, "bitbucket");
	ck_assert_str_eq(ev->reason, "User Initiated");
	ck_assert_str_eq(ev->token, "cancel-1");
	/* The group's update had completed: nothing was in progress to fail. */
	ck_assert(!has_event(st, "ClusterNodeGroup", "UPDATE_FAILED", NULL));
	/* Once: a second cancel finds the stack rolling back. */
	ck_assert_int_eq(sim_stack_cancel_update(m, "bitbucket", NULL, t, &e), -1);
	ck_assert_str_eq(e.code, "ValidationError");
	ck_assert_str_eq(e.message, "CancelUpdateStack cannot be called from current "
	    "stack status");
	sim_model_advance(m, t + 10 * m->p.stack_update);
	ck_assert_int_eq(st->status, SIM_UPDATE_ROLLBACK_COMPLETE);
	ck_assert_ptr_null(st->op);
	ck_assert_str_eq(newest(st)->status, "UPDATE_ROLLBACK_COMPLETE");
	ck_assert_str_eq(newest(st)->token, "cancel-1");
	ck_assert_str_eq(last_event(st, "ClusterNodeGroup")->status, "UPDATE_COMPLETE");
	ck_assert_str_eq(last_event(st, "ClusterNodeGroup")->token, "cancel-1");
	ck_assert_str_eq(last_event(st, "ClusterNodeLaunchConfig")->token, "cancel-1");
	ck_assert_str_eq(sim_stack_param(st, "BitbucketVersion"), "7.9.0");
	ck_assert_str_eq(sim_stack_param(st, "ClusterNodeMin"), "4");
	ck_assert_str_eq(m->asg.lc_version, "7.9.0");
	ck_assert_int_eq(m->asg.min, 4);
	ck_assert_int_eq(m->asg.max, 4);
	ck_assert_int_eq(m->asg.desired, 4);
	sim_model_advance(m, m->now + 60000);
	ck_assert_int_eq(alive_members(m), 4);		/* scaled back in */
	/* A rolled-back stack can be updated again. */
	ck_assert_int_eq(sim_stack_update(m, "bitbucket", in, n, caps, 1, "upg-2", m->now,
	    &e), 0);
	sim_model_free(m);
}
END_TEST

/* The update hangs on a scale-in every candidate blocks (aws-behaviours 9): cancel. */
START_TEST(cancel_hung_scale_in)
{
	struct sim_model *m = test_model();
	struct sim_stack *st = m->stack[0];
	struct sim_param_in in[SIM_PARAMS_MAX];
	struct sim_err e;
	size_t n = test_update_params(in, NULL, "3", "3");
	const char *ids[4];
	int k = 0;

	for (size_t i = 0; i < m->ninst; i++)
		if (m->inst[i]->member)
			ids[k++] = m->inst[i]->id;
	ck_assert_int_eq(sim_asg_set_protection(m, ids, 4, 1, 0, &e), 0);
	ck_assert_int_eq(sim_stack_update(m, "bitbucket", in, n, caps, 1, "down", 0, &e), 0);
	sim_model_advance(m, 600 * 1000);
	ck_assert_int_eq(st->status, SIM_UPDATE_IN_PROGRESS);
	ck_assert_int_eq(sim_stack_cancel_update(m, "bitbucket", "undo-down", m->now, &e),
	    0);
	ck_assert(has_event(st, "ClusterNodeGroup", "UPDATE_FAILED",
	    "Resource update cancelled"));
	ck_assert_str_eq(last_event(st, "ClusterNodeGroup")->token, "undo-down");
	ck_assert_str_eq(newest(st)->status, "UPDATE_ROLLBACK_IN_PROGRESS");
	ck_assert_str_eq(newest(st)->reason, "User Initiated");
	sim_model_advance(m, m->now + 2 * m->p.stack_update);
	ck_assert_int_eq(st->status, SIM_UPDATE_ROLLBACK_COMPLETE);
	ck_assert_int_eq(m->asg.desired, 4);
	ck_assert_int_eq(m->asg.min, 4);
	ck_assert(!sim_asg_scale_in_blocked(m));
	ck_assert_int_eq(alive_members(m), 4);
	sim_model_free(m);
}
END_TEST

START_TEST(cancel_update_refusals)
{
	struct sim_model *m = test_model();
	struct sim_param_in in[SIM_PARAMS_MAX];
	struct sim_err e;
	size_t n = test_update_params(in, "7.9.4", "5", "5");

	ck_assert_int_eq(sim_stack_cancel_update(m, "bitbucket", NULL, 0, &e), -1);
	ck_assert_str_eq(e.code, "ValidationError");
	ck_assert_str_eq(e.message, "CancelUpdateStack cannot be called from current "
	    "stack status");
	ck_assert_int_eq(sim_stack_cancel_update(m, "nope", NULL, 0, &e), -1);
	ck_assert_str_eq(e.message, "Stack with id nope does not exist");
	ck_assert_int_eq(sim_stack_update(m, "bitbucket", in, n, caps, 1, "upg-1", 0, &e),
	    0);
	ck_assert_int_eq(sim_stack_cancel_update(m, "bitbucket", "-x", 1, &e), -1);
	ck_assert(strstr(e.message, "clientRequestToken") != NULL);
	ck_assert_int_eq(sim_stack_cancel_update(m, "bitbucket", "upg-1", 1, &e), -1);
	ck_assert_str_eq(e.code, "TokenAlreadyExistsException");
	ck_assert_int_eq(m->stack[0]->status, SIM_UPDATE_IN_PROGRESS);
	/* Finished: too late to cancel. */
	sim_model_advance(m, 2 * m->p.stack_update);
	ck_assert_int_eq(m->stack[0]->status, SIM_UPDATE_COMPLETE);
	ck_assert_int_eq(sim_stack_cancel_update(m, "bitbucket", NULL, m->now, &e), -1);
	ck_assert_str_eq(e.message, "CancelUpdateStack cannot be called from current "
	    "stack status");
	sim_model_free(m);
}
END_TEST

/* With-VPC, cancelled before anything applied, no token: the update's token. */
START_TEST(cancel_nested_without_token)
{
	struct sim_model *m = test_model_with(nested);
	struct sim_stack *root = m->stack[0], *ps = sim_stack_product(m);
	struct sim_param_in in[SIM_PARAMS_MAX];
	struct sim_err e;
	size_t n = test_update_params(in, "7.9.4", "5", "5");

	ck_assert_int_eq(sim_stack_update(m, root->name, in, n, caps, 1, "upg-n", 0, &e),
	    0);
	ck_assert_int_eq(sim_stack_cancel_update(m, ps->name, NULL, 1, &e), -1);
	ck_assert_str_eq(e.code, "ValidationError");
	ck_assert_int_eq(sim_stack_cancel_update(m, root->id, NULL, 1, &e), 0);
	ck_assert_int_eq(ps->status, SIM_UPDATE_ROLLBACK_IN_PROGRESS);
	ck_assert(has_event(root, "BitbucketDCStack", "UPDATE_FAILED",
	    "Resource update cancelled"));
	ck_assert_str_eq(newest(root)->reason, "User Initiated");
	sim_model_advance(m, 10 * m->p.stack_update);
	ck_assert_int_eq(root->status, SIM_UPDATE_ROLLBACK_COMPLETE);
	ck_assert_int_eq(ps->status, SIM_UPDATE_ROLLBACK_COMPLETE);
	ck_assert_str_eq(newest(root)->token, "upg-n");
	ck_assert_str_eq(m->asg.lc_version, "7.9.0");
	ck_assert_int_eq(m->asg.desired, 4);
	ck_assert_str_eq(sim_stack_param(ps, "BitbucketVersion"), "7.9.0");
	sim_model_free(m);
}
END_TEST

/* UsePreviousValue: not on a key the stack lacks, not with a value (aws-api.md 2). */
START_TEST(use_previous_value_rules)
{
	struct sim_model *m = test_model();
	struct sim_stack *st = m->stack[0];
	struct sim_param_in in[SIM_PARAMS_MAX + 1];
	struct sim_changeset *cs;
	struct sim_err e;
	size_t n = test_update_params(in, "7.9.4", "5", "5");
	static const char lacks[] = "Cannot specify usePreviousValue as true for a "
	    "parameter key not in the previous template";

	in[n] = (struct sim_param_in){ "Nope", NULL, 1 };
	ck_assert_int_eq(sim_stack_update(m, "bitbucket", in, n + 1, caps, 1, NULL, 0, &e),
	    -1);
	ck_assert_str_eq(e.message, lacks);
	in[n].value = "x";
	ck_assert_int_eq(sim_stack_update(m, "bitbucket", in, n + 1, caps, 1, NULL, 0, &e),
	    -1);
	ck_assert_str_eq(e.message, "Parameters: [Nope] do not exist in the template");
	/* A key of the template the stack was created without (an older template). */
	ck_assert_str_eq(st->params[st->nparams - 1].key, "ElasticSearchPassword");
	st->nparams--;
	ck_assert_int_eq(sim_stack_update(m, "bitbucket", in, n, caps, 1, NULL, 0, &e), -1);
	ck_assert_str_eq(e.message, lacks);
	ck_assert_int_eq(sim_changeset_create(m, "bitbucket", "c1", in, n, caps, 1, 1, 0,
	    &cs, &e), -1);
	ck_assert_str_eq(e.message, lacks);
	in[n - 1].use_previous = 0;
	in[n - 1].value = "";
	ck_assert_int_eq(sim_stack_update(m, "bitbucket", in, n, caps, 1, NULL, 0, &e), 0);
	sim_model_free(m);
}
END_TEST

static void
standby_mode(struct sim_params *p)
{
	strcpy(p->db_master, "arn:aws:rds:us-east-1:123456789012:db:primary");
}

/* Standby mode: DBMaster set, from the scenario or later as a fault. */
START_TEST(db_master_marks_standby_mode)
{
	struct sim_model *m = test_model_with(standby_mode), *n = test_model_with(nested);

	ck_assert_str_eq(sim_stack_param(m->stack[0], "DBMaster"),
	    "arn:aws:rds:us-east-1:123456789012:db:primary");
	ck_assert_str_eq(sim_stack_param(n->stack[1], "DBMaster"), "");
	sim_model_advance(n, 1000);
	sim_stack_set_db_master(n, "db-primary");
	ck_assert_str_eq(sim_stack_param(n->stack[0], "DBMaster"), "db-primary");
	ck_assert_str_eq(sim_stack_param(n->stack[1], "DBMaster"), "db-primary");
	ck_assert_str_eq(n->p.db_master, "db-primary");
	sim_model_free(m);
	sim_model_free(n);
}
END_TEST

Suite *
sim_stack_suite(void)
{
	Suite *s = suite_create("sim_stack");
	TCase *tc = tcase_create("stack");

	tcase_add_test(tc, stack_at_zero);
	tcase_add_test(tc, update_timeline);
	tcase_add_test(tc, omitted_parameters_revert);
	tcase_add_test(tc, update_refusals);
	tcase_add_test(tc, scale_in_update_waits);
	tcase_add_test(tc, scale_in_update_hangs_when_protected);
	tcase_add_test(tc, lc_replacement_refused_rolls_back);
	tcase_add_test(tc, lc_replacement_allowed);
	tcase_add_test(tc, refusal_fault_once);
	tcase_add_test(tc, activity_in_progress_fails_update);
	tcase_add_test(tc, rollback_failed_blocks_updates);
	tcase_add_test(tc, changeset_lifecycle);
	tcase_add_test(tc, changeset_refusals);
	tcase_add_test(tc, with_vpc_layout);
	tcase_add_test(tc, nested_drift_shows_and_fails);
	tcase_add_test(tc, hostile_inputs);
	tcase_add_test(tc, cancel_update_rolls_back);
	tcase_add_test(tc, cancel_hung_scale_in);
	tcase_add_test(tc, cancel_update_refusals);
	tcase_add_test(tc, cancel_nested_without_token);
	tcase_add_test(tc, use_previous_value_rules);
	tcase_add_test(tc, db_master_marks_standby_mode);
	suite_add_tcase(s, tc);
	return s;
}
