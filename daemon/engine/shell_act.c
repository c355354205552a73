/*
 * One call of the core's actions through the typed clients, with the decision's
 * token, and what its answer means for the journal: done, refused for now (retry),
 * refused for good (failed), a conflict, or unknown.
 *
 * Unknown is what a lost answer, a cut connection, a bare 5xx or a shutdown leave:
 * the call may have happened. The intent then stays open and the next decision
 * resolves it by observation (never by sending a termination again on a guess).
 * Only answers that say "nothing was done" (throttling, ScalingActivityInProgress,
 * ResourceContention, a 409) are retries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/log.h"
#include "daemon/aws/autoscaling.h"
#include "daemon/aws/cloudformation.h"
#include "daemon/aws/elb.h"
#include "daemon/bitbucket.h"
#include "daemon/engine/shell.h"

struct shell_act {
	struct shell		*sh;
	struct shell_dep	*dep;
	struct engine_action	 a;
	shell_act_cb		 cb;
	void			*arg;
	struct aws_op		*op;
	struct bitbucket_call	*bcall;
	bool			 cancelled;
	struct shell_act_result	 res;
	uv_timer_t		 timer;
};

static void
on_closed(uv_handle_t *h)
{
	struct shell_act *x = h->data;
	struct shell *sh = x->sh;

	free(x);
	engine_shell_unref(sh);
}

static void
deliver(struct shell_act *x)
{
	x->op = NULL;
	x->bcall = NULL;
	if (!x->cancelled)
		x->cb(&x->res, x->arg);
	uv_close((uv_handle_t *)&x->timer, on_closed);
}

/* A known outcome; detail NULL keeps what is there. */
static void
known(struct shell_act *x, enum engine_out k, const char *detail)
{
	x->res.known = true;
	x->res.out.kind = k;
	if (detail != NULL)
		engine_strlcpy(x->res.out.detail, detail, sizeof(x->res.out.detail));
}

static bool
busy_code(const char *code)
{
	return strcmp(code, "ScalingActivityInProgress") == 0 ||
	    strcmp(code, "ResourceContention") == 0 ||
	    strcmp(code, "ResourceInUse") == 0;
}

/* What AWS's refusal means for this action's journal row. */
static void
aws_outcome(struct shell_act *x, const struct aws_result *r)
{
	const char *code = r->error.code, *msg = r->error.message[0] ?
	    r->error.message : (r->detail ? r->detail : "");
	enum engine_act_kind k = x->a.kind;

	if (r->errclass == AWS_ERRCLASS_OK) {
		known(x, ENGINE_OUT_DONE, "");
		return;
	}
	engine_fmt(x->res.out.detail, sizeof(x->res.out.detail), "%s%s%s (%s)", code,
	    code[0] ? ": " : "", msg, aws_errclass_name(r->errclass));
	if (strcmp(code, "Cancelled") == 0) {
		x->res.cancelled = true;
		return;		/* unknown */
	}
	switch (r->errclass) {
	case AWS_ERRCLASS_THROTTLE:
		x->res.known = true;
		x->res.out.kind = ENGINE_OUT_RETRY;
		return;
	case AWS_ERRCLASS_TRANSIENT:
		if (busy_code(code)) {
			x->res.known = true;
			x->res.out.kind = ENGINE_OUT_RETRY;
		}
		return;		/* a bare 5xx or a lost answer: unknown */
	default:
		break;
	}
	if ((k == ENGINE_ACT_DELETE_CHANGESET && r->errclass == AWS_ERRCLASS_NOT_FOUND) ||
	    (k == ENGINE_ACT_CREATE_CHANGESET &&
	    strcmp(code, "AlreadyExistsException") == 0)) {
		x->res.known = true;
		x->res.out.kind = ENGINE_OUT_DONE;
		return;
	}
	/* Already executing (our earlier call went through): observation tells. */
	if (k == ENGINE_ACT_EXECUTE_CHANGESET && strcmp(code, "InvalidChangeSetStatus") == 0)
		return;
	x->res.known = true;
	x->res.out.kind = ENGINE_OUT_FAILED;
}

static void
on_plain(const struct aws_result *r, void *arg)
{
	struct shell_act *x = arg;

	aws_outcome(x, r);
	deliver(x);
}

static void
on_elb(const struct aws_result *r, const struct aws_elb_ids *ids, void *arg)
{
	on_plain(r, arg);
}

static void
on_terminate(const struct aws_result *r, const struct aws_asg_activity *a, void *arg)
{
	struct shell_act *x = arg;

	aws_outcome(x, r);
	if (a != NULL)
		engine_strlcpy(x->res.out.activity, a->id, sizeof(x->res.out.activity));
	deliver(x);
}

static void
on_bitbucket(struct bitbucket_result *r, void *arg)
{
	struct shell_act *x = arg;

	engine_strlcpy(x->res.out.detail, r->message, sizeof(x->res.out.detail));
	if (r->ok)
		known(x, ENGINE_OUT_DONE, "");
	else if (r->outcome == BITBUCKET_CANCELLED)
		x->res.cancelled = true;
	else if (r->outcome == BITBUCKET_CONFLICT) {
		x->res.known = true;
		x->res.out.kind = ENGINE_OUT_CONFLICT;
	} else if (r->maybe_applied)
		;	/* unknown: /rest/zdu/cluster tells */
	else if (r->outcome == BITBUCKET_SERVER || r->outcome == BITBUCKET_NETWORK) {
		x->res.known = true;
		x->res.out.kind = ENGINE_OUT_RETRY;
	} else {
		x->res.known = true;
		x->res.out.kind = ENGINE_OUT_FAILED;
	}
	deliver(x);
}

static void
on_created(const struct aws_result *r, const struct aws_cfn_change_set_ref *ref,
    void *arg)
{
	on_plain(r, arg);
}

/* CreateChangeSet needs every parameter of the stack as it is now. */
static void
on_stack(const struct aws_result *r, const struct aws_cfn_stacks *st, void *arg)
{
	struct shell_act *x = arg;
	struct aws_cfn_param_in changes[3], params[AWS_CFN_MAX_PARAMS];
	struct aws_cfn_change_set_in in;
	char min[16], max[16], err[256], why[300];
	size_t n;

	x->op = NULL;
	if (st == NULL || st->n == 0 || x->cancelled) {
		if (st != NULL && !x->cancelled)
			known(x, ENGINE_OUT_FAILED, "DescribeStacks: the stack does not "
			    "exist");
		else if (!x->cancelled) {
			aws_outcome(x, r);
			/* Nothing was changed yet: whatever DescribeStacks said is a retry. */
			if (!x->res.known || x->res.out.kind != ENGINE_OUT_FAILED) {
				x->res.known = true;
				x->res.out.kind = ENGINE_OUT_RETRY;
			}
		}
		deliver(x);
		return;
	}
	snprintf(min, sizeof(min), "%d", x->a.min);
	snprintf(max, sizeof(max), "%d", x->a.max);
	changes[0] = (struct aws_cfn_param_in){ "BitbucketVersion", x->a.version };
	changes[1] = (struct aws_cfn_param_in){ "ClusterNodeMin", min };
	changes[2] = (struct aws_cfn_param_in){ "ClusterNodeMax", max };
	if (aws_cfn_change_set_params(&st->items[0], changes, 3, params,
	    AWS_CFN_MAX_PARAMS, &n, err, sizeof(err)) == -1) {
		engine_fmt(why, sizeof(why), "the change set's parameters: %s", err);
		known(x, ENGINE_OUT_FAILED, why);
		deliver(x);
		return;
	}
	memset(&in, 0, sizeof(in));
	in.stack = x->dep->cfg->stack;
	/*
	 * The change set's name is the decision's token: a second create of the same
	 * decision is refused as AlreadyExists, which is what ClientToken would give
	 * (and bbsim does not take ClientToken).
	 */
	in.name = x->a.changeset;
	in.params = params;
	in.nparams = n;
	in.capabilities = st->items[0].capabilities & ~AWS_CFN_CAP_UNKNOWN;
	if ((x->op = aws_cfn_create_change_set(x->dep->aws, &in, on_created, x)) ==
	    NULL) {
		known(x, ENGINE_OUT_RETRY, "CreateChangeSet could not be sent");
		deliver(x);
	}
}

static struct aws_op *
protect(struct shell_act *x)
{
	const char *ids[ENGINE_NODES_MAX];

	for (size_t i = 0; i < x->a.ntargets; i++)
		ids[i] = x->a.targets[i];
	return aws_asg_set_instance_protection(x->dep->aws, x->dep->topo.asg, ids,
	    x->a.ntargets, x->a.protect, on_plain, x);
}

static struct aws_op *
processes(struct shell_act *x)
{
	const char *names[16];
	size_t n = 0;

	for (unsigned bit = 1; bit <= ENGINE_PROC_ALL && n < 16; bit <<= 1)
		if (x->a.processes & bit)
			names[n++] = engine_process_name(bit);
	if (x->a.kind == ENGINE_ACT_SUSPEND)
		return aws_asg_suspend_processes(x->dep->aws, x->dep->topo.asg, names, n,
		    on_plain, x);
	return aws_asg_resume_processes(x->dep->aws, x->dep->topo.asg, names, n,
	    on_plain, x);
}

static struct aws_op *
balancer(struct shell_act *x)
{
	const char *ids[ENGINE_NODES_MAX];

	for (size_t i = 0; i < x->a.ntargets; i++)
		ids[i] = x->a.targets[i];
	if (x->a.kind == ENGINE_ACT_DEREGISTER)
		return aws_elb_deregister_instances_from_load_balancer(x->dep->aws,
		    x->dep->topo.lb, ids, x->a.ntargets, on_elb, x);
	return aws_elb_register_instances_with_load_balancer(x->dep->aws,
	    x->dep->topo.lb, ids, x->a.ntargets, on_elb, x);
}

static struct bitbucket_call *
zdu(struct shell_act *x)
{
	switch (x->a.kind) {
	case ENGINE_ACT_ZDU_START:
		return bitbucket_post_start(x->dep->bb, on_bitbucket, x);
	case ENGINE_ACT_ZDU_APPROVE:
		return bitbucket_post_approve(x->dep->bb, on_bitbucket, x);
	default:
		return bitbucket_post_cancel(x->dep->bb, on_bitbucket, x);
	}
}

static struct aws_op *
aws_call_of(struct shell_act *x)
{
	const struct engine_action *a = &x->a;
	struct aws_client *c = x->dep->aws;
	const char *stack = x->dep->cfg->stack;

	switch (a->kind) {
	case ENGINE_ACT_PROTECT:
		return protect(x);
	case ENGINE_ACT_SUSPEND:
	case ENGINE_ACT_RESUME:
		return processes(x);
	case ENGINE_ACT_CREATE_CHANGESET:
		return aws_cfn_describe_stacks(c, stack, on_stack, x);
	case ENGINE_ACT_EXECUTE_CHANGESET:
		return aws_cfn_execute_change_set(c, a->changeset, stack, a->token, on_plain,
		    x);
	case ENGINE_ACT_DELETE_CHANGESET:
		return aws_cfn_delete_change_set(c, a->changeset, stack, on_plain, x);
	case ENGINE_ACT_DEREGISTER:
	case ENGINE_ACT_REGISTER:
		return balancer(x);
	case ENGINE_ACT_TERMINATE:
		return aws_asg_terminate_instance_in_auto_scaling_group(c, a->targets[0],
		    false, on_terminate, x);
	default:
		return NULL;
	}
}

static bool
is_zdu(enum engine_act_kind k)
{
	return k == ENGINE_ACT_ZDU_START || k == ENGINE_ACT_ZDU_APPROVE ||
	    k == ENGINE_ACT_ZDU_CANCEL;
}

static void
on_begin(uv_timer_t *t)
{
	struct shell_act *x = t->data;
	bool started;

	if (x->cancelled) {
		deliver(x);
		return;
	}
	if (is_zdu(x->a.kind))
		started = (x->bcall = zdu(x)) != NULL;
	else
		started = (x->op = aws_call_of(x)) != NULL;
	if (!started) {
		/* Nothing was sent: it did not happen. */
		known(x, ENGINE_OUT_RETRY, "the call could not be sent");
		deliver(x);
	}
}

struct shell_act *
engine_act_start(struct shell *sh, struct shell_dep *dep, const struct engine_action *a,
    shell_act_cb cb, void *arg)
{
	struct shell_act *x;

	if (!engine_act_is_call(a->kind) || (x = calloc(1, sizeof(*x))) == NULL)
		return NULL;
	x->sh = sh;
	x->dep = dep;
	x->a = *a;
	x->cb = cb;
	x->arg = arg;
	engine_shell_ref(sh);
	uv_timer_init(sh->loop, &x->timer);
	x->timer.data = x;
	uv_timer_start(&x->timer, on_begin, 0, 0);
	return x;
}

/* The callback does not run; the call is cancelled and the memory freed later. */
void
engine_act_cancel(struct shell_act *x)
{
	if (x == NULL || x->cancelled)
		return;
	x->cancelled = true;
	if (x->op != NULL)
		aws_op_cancel(x->op);
	if (x->bcall != NULL)
		bitbucket_abort(x->bcall);
}
