/*
 * UpdateStack with UsePreviousTemplate, as CloudFormation refuses or starts it.
 * Only root stacks are updated here: the daemon never updates the nested stack on
 * its own (that would leave the root's parameters behind).
 */
#include <string.h>

#include "sim/model_int.h"

/* ClientRequestToken's pattern: [a-zA-Z0-9][-a-zA-Z0-9]*, 1 to 128 characters. */
static int
token_valid(const char *t)
{
	size_t n = strlen(t);

	if (n == 0 || n > 128 || t[0] == '-')
		return 0;
	return strspn(t, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-") == n;
}

static int
token_used(const struct sim_stack *st, const char *token)
{
	for (size_t i = 0; i < st->nev; i++)
		if (strcmp(st->ev[i].token, token) == 0)
			return 1;
	return 0;
}

/* Stack found, a root, token well formed and new, stack not busy. */
int
sim_stack_check_target(struct sim_model *m, const char *name, const char *token,
    struct sim_stack **out, struct sim_err *err)
{
	struct sim_stack *st = sim_stack_find(m, name);

	if (st == NULL)
		return sim_fail(err, 400, "ValidationError", "Stack [%s] does not exist",
		    name);
	if (st->parent != NULL)
		return sim_fail(err, 400, "ValidationError", "Stack [%s] is a nested stack: "
		    "bbsim updates it through its root stack %s", name, st->parent->name);
	if (token != NULL && !token_valid(token))
		return sim_fail(err, 400, "ValidationError", "1 validation error detected: "
		    "Value '%.200s' at 'clientRequestToken' failed to satisfy constraint: "
		    "Member must satisfy regular expression pattern: [a-zA-Z0-9][-a-zA-Z0-9]*",
		    token);
	if (token != NULL && token_used(st, token))
		return sim_fail(err, 400, "TokenAlreadyExistsException",
		    "A client request token already exists.");
	if (sim_stack_busy(st, err) == -1)
		return -1;
	*out = st;
	return 0;
}

static int
same_params(const struct sim_stack *st, const struct sim_param *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *old = sim_stack_param(st, p[i].key);

		if (old == NULL || strcmp(old, p[i].value) != 0)
			return 0;
	}
	return 1;
}

static int
update(struct sim_model *m, const char *name, const struct sim_param_in *in, size_t n,
    const char *const *caps, size_t ncaps, const char *token, struct sim_err *err)
{
	struct sim_param p[SIM_PARAMS_MAX];
	struct sim_change ch[SIM_CHANGES_MAX];
	struct sim_stack *st;
	size_t np;

	if (sim_stack_check_target(m, name, token, &st, err) == -1)
		return -1;
	if (sim_stack_resolve(st, in, n, caps, ncaps, p, &np, err) == -1)
		return -1;
	if (same_params(st, p, np) && sim_stack_diff(m, sim_stack_product(m), p, np, ch,
	    SIM_CHANGES_MAX) == 0)
		return sim_fail(err, 400, "ValidationError", "No updates are to be performed.");
	sim_stack_start_update(m, st, p, np, token, NULL);
	return 0;
}

int
sim_stack_update(struct sim_model *m, const char *name, const struct sim_param_in *in,
    size_t n, const char *const *caps, size_t ncaps, const char *token, int64_t now,
    struct sim_err *err)
{
	int rc;

	sim_model_advance(m, now);
	rc = update(m, name, in, n, caps, ncaps, token, err);
	sim_call(m, "UpdateStack", name, token, rc == -1 ? err : NULL);
	return rc;
}

/*
 * CancelUpdateStack: only a root stack whose update is UPDATE_IN_PROGRESS (the true
 * status, not the one DescribeStacks may still show). The token, if given, must be
 * new, and the rollback's events carry it.
 */
static int
cancel(struct sim_model *m, const char *name, const char *token, struct sim_err *err)
{
	struct sim_stack *st = sim_stack_find(m, name);

	if (st == NULL)
		return sim_fail(err, 400, "ValidationError", "Stack with id %s does not "
		    "exist", name);
	if (token != NULL && !token_valid(token))
		return sim_fail(err, 400, "ValidationError", "1 validation error detected: "
		    "Value '%.200s' at 'clientRequestToken' failed to satisfy constraint: "
		    "Member must satisfy regular expression pattern: [a-zA-Z0-9][-a-zA-Z0-9]*",
		    token);
	if (st->parent != NULL)
		return sim_fail(err, 400, "ValidationError", "Stack [%s] is a nested stack: "
		    "bbsim cancels its update through its root stack %s", name,
		    st->parent->name);
	if (token != NULL && token_used(st, token))
		return sim_fail(err, 400, "TokenAlreadyExistsException",
		    "A client request token already exists.");
	if (st->status != SIM_UPDATE_IN_PROGRESS || st->op == NULL)
		return sim_fail(err, 400, "ValidationError", "CancelUpdateStack cannot be "
		    "called from current stack status");
	sim_stack_op_cancel(m, st, token);
	return 0;
}

int
sim_stack_cancel_update(struct sim_model *m, const char *name, const char *token,
    int64_t now, struct sim_err *err)
{
	int rc;

	sim_model_advance(m, now);
	rc = cancel(m, name, token, err);
	sim_call(m, "CancelUpdateStack", name, token, rc == -1 ? err : NULL);
	return rc;
}
