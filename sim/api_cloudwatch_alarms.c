/*
 * bbsim's CloudWatch DescribeAlarms (see api_cloudwatch_int.h): the alarms are the
 * model's (sim/alarms.c), not the metric's, and no composite alarm exists, so none
 * is ever listed and no alarm has children or parents.
 */
#include <stdio.h>
#include <string.h>

#include "sim/api.h"
#include "sim/api_cloudwatch_int.h"
#include "sim/auth.h"
#include "sim/model.h"
#include "sim/sim.h"

/* ---- DescribeAlarms ---- */

/*
 * The template's two alarms on the group's average CPU, in the state the model has
 * evaluated up to now (sim/alarms.c), with the scaling policies they run.
 */

/* The scaling policy the alarm triggers: its ARN as Auto Scaling writes it. */
static void
policy_arn(const struct sim_model *m, int i, char *buf, size_t len)
{
	char	 h[40], name[SIM_NAME_MAX + 64];

	sim_api_fake_id(h, sizeof(h), "", sim_alarm_defs[i].policy, 32);
	sim_alarm_policy_name(m, i, name, sizeof(name));
	snprintf(buf, len, "arn:aws:autoscaling:%.32s:%.12s:scalingPolicy:%.8s-%.4s-"
	    "%.4s-%.4s-%.12s:autoScalingGroupName/%.128s:policyName/%.192s", m->p.region,
	    m->p.account, h, h + 8, h + 12, h + 16, h + 20, m->asg.name, name);
}

static void
write_alarm_head(struct sim_cw_out *o, const struct sim_model *m, int i)
{
	char	 name[SIM_ARN_MAX], buf[SIM_ARN_MAX * 3];

	sim_alarm_name(m, i, name, sizeof(name));
	sim_cw_out_str(o, "AlarmName", name);
	snprintf(buf, sizeof(buf), "arn:aws:cloudwatch:%s:%s:alarm:%s", m->p.region,
	    m->p.account, name);
	sim_cw_out_str(o, "AlarmArn", buf);
	sim_cw_out_str(o, "AlarmDescription", sim_alarm_defs[i].description);
	sim_cw_out_time(o, m, "AlarmConfigurationUpdatedTimestamp", m->stack[0]->created);
	sim_cw_out_bool(o, "ActionsEnabled", 1);
	sim_cw_out_empty(o, "OKActions");
	sim_cw_out_open(o, "AlarmActions", 1);
	policy_arn(m, i, buf, sizeof(buf));
	sim_cw_out_str(o, NULL, buf);
	sim_cw_out_close(o, "AlarmActions");
	sim_cw_out_empty(o, "InsufficientDataActions");
}

static void
write_alarm(struct sim_cw_out *o, const struct sim_model *m, int i)
{
	const struct sim_alarm_def	*d = &sim_alarm_defs[i];
	const struct sim_alarm		*al = &m->alarms.a[i];

	sim_cw_out_open(o, NULL, 0);
	write_alarm_head(o, m, i);
	sim_cw_out_str(o, "StateValue", sim_alarm_state_name(al->state));
	sim_cw_out_str(o, "StateReason", al->reason);
	sim_cw_out_time(o, m, "StateUpdatedTimestamp", al->transitioned);
	sim_cw_out_str(o, "MetricName", SIM_CW_CPU);
	sim_cw_out_str(o, "Namespace", SIM_CW_NS_EC2);
	sim_cw_out_str(o, "Statistic", "Average");
	sim_cw_out_open(o, "Dimensions", 1);
	sim_cw_out_open(o, NULL, 0);
	sim_cw_out_str(o, "Name", "AutoScalingGroupName");
	sim_cw_out_str(o, "Value", m->asg.name);
	sim_cw_out_close(o, NULL);
	sim_cw_out_close(o, "Dimensions");
	sim_cw_out_int(o, "Period", 60);
	sim_cw_out_int(o, "EvaluationPeriods", d->periods);
	sim_cw_out_num(o, "Threshold", d->threshold);
	sim_cw_out_str(o, "ComparisonOperator", d->op);
	sim_cw_out_time(o, m, "StateTransitionedTimestamp", al->transitioned);
	sim_cw_out_close(o, NULL);
}

static int
alarm_selected(const struct sim_model *m, const struct sim_cw_alarms_req *r, int a)
{
	char	 name[SIM_ARN_MAX], arn[SIM_ARN_MAX * 3];
	size_t	 i;

	sim_alarm_name(m, a, name, sizeof(name));
	for (i = 0; i < r->nnames; i++)
		if (strcmp(r->names[i], name) == 0)
			break;
	if (r->nnames > 0 && i == r->nnames)
		return 0;
	if (r->prefix != NULL && strncmp(name, r->prefix, strlen(r->prefix)) != 0)
		return 0;
	if (r->state != NULL && strcmp(r->state,
	    sim_alarm_state_name(m->alarms.a[a].state)) != 0)
		return 0;
	policy_arn(m, a, arn, sizeof(arn));
	if (r->action_prefix != NULL && strncmp(arn, r->action_prefix,
	    strlen(r->action_prefix)) != 0)
		return 0;
	/* No composite alarm exists: none has children or parents. */
	return r->metric && r->children == NULL && r->parents == NULL;
}

static int
alarms_check(struct sim_aws_call *c, const struct sim_cw_alarms_req *r, size_t *from)
{
	*from = 0;
	if (r->state != NULL && strcmp(r->state, "OK") != 0 &&
	    strcmp(r->state, "ALARM") != 0 && strcmp(r->state, "INSUFFICIENT_DATA") != 0)
		return sim_api_invalid(c, "StateValue", r->state, "Member must satisfy "
		    "enum value set: [INSUFFICIENT_DATA, ALARM, OK]");
	if (r->nnames > 0 && r->prefix != NULL)
		return sim_call_fail(c, 400, "InvalidParameterCombination", "AlarmNames "
		    "and AlarmNamePrefix cannot be used together.");
	if (r->token != NULL && sim_api_token_read(r->token, from) == -1)
		return sim_call_fail(c, 400, "InvalidNextToken", "The service couldn't "
		    "process the token %s.", r->token);
	return 0;
}

static void
write_alarms(struct sim_cw_out *o, const struct sim_model *m, const struct sim_cw_alarms_req *r,
    size_t from)
{
	char	 tok[SIM_API_TOKEN_MAX];
	long	 n = 0;
	size_t	 i;

	if (r->composite)
		sim_cw_out_empty(o, "CompositeAlarms");
	sim_cw_out_open(o, "MetricAlarms", 1);
	for (i = from; i < SIM_NALARMS; i++) {
		if (!alarm_selected(m, r, (int)i))
			continue;
		if (n++ == r->max)
			break;
		write_alarm(o, m, (int)i);
	}
	sim_cw_out_close(o, "MetricAlarms");
	if (i < SIM_NALARMS) {
		sim_api_token(tok, sizeof(tok), i);
		sim_cw_out_str(o, "NextToken", tok);
	}
}

int
sim_cw_describe_alarms(struct sim_aws_call *c)
{
	struct sim_cw_alarms_req	 r;
	struct sim_model	*m;
	struct sim_cw_out		 o;
	size_t			 from;

	if ((m = sim_api_begin(c, SIM_SVC_CLOUDWATCH)) == NULL)
		return -1;
	if (sim_cw_read_alarms(c, &r) == -1 || alarms_check(c, &r, &from) == -1)
		return -1;
	sim_alarms_update(m, c->sim->now);
	sim_cw_out_begin(&o, c);
	write_alarms(&o, m, &r, from);
	return sim_cw_out_finish(&o, c);
}
