/*
 * Parameters of an update or change set against the template, as CloudFormation
 * checks them: unknown keys, UsePreviousValue with a value, omitted keys (which
 * revert to the template's default, not to the previous value!), keys without a
 * default, the version's AllowedPattern, IAM capabilities, a busy stack. Then the
 * resource changes the new values make (sim_stack_diff), drift included.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/model_int.h"
#include "sim/stack_template.h"

static const struct sim_param_in *
given(const struct sim_param_in *in, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (in[i].key != NULL && strcmp(in[i].key, key) == 0)
			return &in[i];
	return NULL;
}

static int
in_template(const char *key)
{
	for (size_t i = 0; i < sim_ntparams; i++)
		if (strcmp(sim_tparams[i].key, key) == 0)
			return 1;
	return 0;
}

static void
append(char *list, size_t len, const char *item)
{
	size_t n = strlen(list);

	snprintf(list + n, len - n, "%s%s", n ? ", " : "", item);
}

/*
 * UsePreviousValue rules first (aws-api.md 2): on a key the stack's previous
 * template lacks (rackerlabs/ebs_snapper#57), and with a value (widdix/cfn-create-
 * or-update#15); then keys the template does not have.
 */
static int
check_inputs(const struct sim_stack *st, const struct sim_param_in *in, size_t n,
    struct sim_err *err)
{
	char unknown[SIM_MSG_MAX] = "";

	for (size_t i = 0; i < n; i++)
		if (in[i].use_previous && (in[i].value == NULL || in[i].value[0] == '\0') &&
		    (in[i].key == NULL || sim_stack_param(st, in[i].key) == NULL))
			return sim_fail(err, 400, "ValidationError", "Cannot specify "
			    "usePreviousValue as true for a parameter key not in the "
			    "previous template");
	for (size_t i = 0; i < n; i++)
		if (in[i].key == NULL || !in_template(in[i].key))
			append(unknown, sizeof(unknown), in[i].key ? in[i].key : "");
	if (unknown[0] != '\0')
		return sim_fail(err, 400, "ValidationError",
		    "Parameters: [%s] do not exist in the template", unknown);
	for (size_t i = 0; i < n; i++)
		if (in[i].use_previous && in[i].value != NULL && in[i].value[0] != '\0')
			return sim_fail(err, 400, "ValidationError", "Invalid input for "
			    "parameter key %s. Cannot specify usePreviousValue as true and "
			    "non empty value for a parameter", in[i].key);
	return 0;
}

static int
check_values(const struct sim_param *p, size_t n, struct sim_err *err)
{
	for (size_t i = 0; i < n; i++) {
		const char *k = p[i].key, *v = p[i].value;

		if (strcmp(k, "BitbucketVersion") == 0 && !sim_version_allowed(v))
			return sim_fail(err, 400, "ValidationError", "Parameter '%s' must "
			    "match pattern ([^1234]\\.\\d+\\.\\d+(-?.*))", k);
		if ((strcmp(k, "ClusterNodeMin") == 0 || strcmp(k, "ClusterNodeMax") == 0) &&
		    (v[0] == '\0' || strspn(v, "0123456789") != strlen(v) || strlen(v) > 4))
			return sim_fail(err, 400, "ValidationError",
			    "Parameter '%s' must be a number.", k);
	}
	return 0;
}

static int
check_caps(const char *const *caps, size_t ncaps, struct sim_err *err)
{
	for (size_t i = 0; i < ncaps; i++)
		if (strcmp(caps[i], "CAPABILITY_IAM") == 0 ||
		    strcmp(caps[i], "CAPABILITY_NAMED_IAM") == 0)
			return 0;
	return sim_fail(err, 400, "InsufficientCapabilitiesException",
	    "Requires capabilities : [CAPABILITY_IAM]");
}

int
sim_stack_resolve(struct sim_stack *st, const struct sim_param_in *in, size_t n,
    const char *const *caps, size_t ncaps, struct sim_param *out, size_t *nout,
    struct sim_err *err)
{
	char missing[SIM_MSG_MAX] = "";

	if (check_inputs(st, in, n, err) == -1)
		return -1;
	for (size_t i = 0; i < sim_ntparams; i++) {
		const struct sim_tparam *t = &sim_tparams[i];
		const struct sim_param_in *g = given(in, n, t->key);
		const char *v = t->def;

		if (g != NULL)
			v = g->use_previous ? sim_stack_param(st, t->key) : g->value;
		if (v == NULL)
			append(missing, sizeof(missing), t->key);
		sim_strlcpy(out[i].key, t->key, sizeof(out[i].key));
		sim_strlcpy(out[i].value, v ? v : "", sizeof(out[i].value));
		out[i].no_echo = t->no_echo;
	}
	*nout = sim_ntparams;
	if (missing[0] != '\0')
		return sim_fail(err, 400, "ValidationError",
		    "Parameters: [%s] must have values", missing);
	if (check_values(out, *nout, err) == -1)
		return -1;
	return check_caps(caps, ncaps, err);
}

int
sim_stack_busy(struct sim_stack *st, struct sim_err *err)
{
	if (st->op == NULL && (st->status == SIM_CREATE_COMPLETE ||
	    st->status == SIM_UPDATE_COMPLETE || st->status == SIM_UPDATE_ROLLBACK_COMPLETE))
		return 0;
	return sim_fail(err, 400, "ValidationError", "Stack:%s is in %s state and can not "
	    "be updated.", st->id, sim_stack_status_name(st->status));
}
