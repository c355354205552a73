/*
 * The simulator's parameters: two profiles (fast, for tests and the demo; realistic,
 * AWS's own magnitudes, for rehearsal) and the check that a set makes sense.
 * A scenario file (sim/scenario.c) starts from a profile and overrides keys.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/version.h"
#include "sim/model_int.h"

#define SEC	1000LL
#define MIN	(60 * SEC)

static void
common_defaults(struct sim_params *p)
{
	memset(p, 0, sizeof(*p));
	p->seed = 1;
	p->epoch = SIM_EPOCH_PINNED;
	p->nodes = 4;
	sim_strlcpy(p->version, "7.9.0", sizeof(p->version));
	sim_strlcpy(p->stack_name, "bitbucket", sizeof(p->stack_name));
	sim_strlcpy(p->region, "us-east-1", sizeof(p->region));
	sim_strlcpy(p->account, "123456789012", sizeof(p->account));
	p->surge = 1;
	p->healthy_threshold = 2;
	p->unhealthy_threshold = 2;
	p->rate = 20;
	p->users = 50;
	p->node_error_p = 0.1;
	p->node_stuck_p = 0.1;
	p->fault_p = 0.5;
	p->cpu_load = 1;
	p->throttle = 1;
	p->bucket = 100;
	p->refill = 20;
}

void
sim_params_defaults(struct sim_params *p)
{
	common_defaults(p);
	p->ec2_pending = 1 * SEC;
	p->node_boot = 8 * SEC;
	p->ec2_shutdown = 1 * SEC;
	p->health_interval = 2 * SEC;
	p->drain_timeout = 5 * SEC;
	p->stack_update = 3 * SEC;
	p->changeset_create = 1 * SEC;
	p->asg_health_check = 2 * SEC;
	p->consistency_lag = 500;
	p->stack_status_lag = 500;
	p->unreachable = 5 * SEC;
	p->user_window = 10 * SEC;
	p->req[0] = (struct sim_req_class){ 0.90, 50, 500 };
	p->req[1] = (struct sim_req_class){ 0.09, 1 * SEC, 3 * SEC };
	p->req[2] = (struct sim_req_class){ 0.01, 6 * SEC, 15 * SEC };
}

void
sim_params_realistic(struct sim_params *p)
{
	common_defaults(p);
	p->ec2_pending = 30 * SEC;
	p->node_boot = 8 * MIN;
	p->ec2_shutdown = 45 * SEC;
	p->health_interval = 60 * SEC;
	p->drain_timeout = 300 * SEC;
	p->stack_update = 3 * MIN;
	p->changeset_create = 15 * SEC;
	p->asg_health_check = 60 * SEC;
	p->consistency_lag = 5 * SEC;
	p->stack_status_lag = 10 * SEC;
	p->finalize = 30 * SEC;
	p->unreachable = 5 * SEC;
	p->user_window = 5 * MIN;
	p->req[0] = (struct sim_req_class){ 0.95, 100, 2 * SEC };
	p->req[1] = (struct sim_req_class){ 0.045, 5 * SEC, 60 * SEC };
	p->req[2] = (struct sim_req_class){ 0.005, 6 * MIN, 20 * MIN };
}

static int
valid_stack_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 60 || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
	    == n;
}

/* The template's AllowedPattern for BitbucketVersion, ([^1234]\.\d+\.\d+(-?.*)). */
static int
version_allowed(const char *s)
{
	struct bb_version v;

	return version_parse(s, &v) == 0 && v.major < 10 &&
	    !(v.major >= 1 && v.major <= 4);
}

static int
check_timings(const struct sim_params *p, char *why, size_t len)
{
	if (p->ec2_pending < 0 || p->ec2_shutdown < 0 || p->stack_update < 0 ||
	    p->changeset_create < 0 || p->asg_health_check < 0 || p->consistency_lag < 0 ||
	    p->stack_status_lag < 0 || p->finalize < 0 || p->unreachable < 0 ||
	    p->blip_every < 0)
		return snprintf(why, len, "durations cannot be negative"), -1;
	if (p->node_boot <= p->ec2_pending)
		return snprintf(why, len, "node_boot must be longer than ec2_pending"), -1;
	if (p->health_interval <= 0)
		return snprintf(why, len, "health_interval must be positive"), -1;
	if (p->healthy_threshold < 2 || p->healthy_threshold > 10 ||
	    p->unhealthy_threshold < 2 || p->unhealthy_threshold > 10)
		return snprintf(why, len, "health thresholds are 2 to 10, as on AWS"), -1;
	if (p->drain_timeout < 1 || p->drain_timeout > 3600 * SEC)
		return snprintf(why, len, "drain_timeout is 1 ms to 3600 s"), -1;
	return 0;
}

static int
check_traffic(const struct sim_params *p, char *why, size_t len)
{
	double sum = 0;

	if (!(p->rate >= 0 && p->rate <= 10000))
		return snprintf(why, len, "rate is 0 to 10000 requests per second"), -1;
	if (p->users < 1 || p->user_window <= 0)
		return snprintf(why, len, "users and user_window must be positive"), -1;
	for (int i = 0; i < SIM_REQ_CLASSES; i++) {
		const struct sim_req_class *c = &p->req[i];

		if (!(c->share >= 0 && c->share <= 1) || c->min_ms < 1 || c->max_ms < c->min_ms)
			return snprintf(why, len, "request class %d: share 0..1 and "
			    "1 <= min <= max", i + 1), -1;
		sum += c->share;
	}
	if (fabs(sum - 1) > 1e-6)
		return snprintf(why, len, "request shares must add up to 1 (not %g)", sum), -1;
	return 0;
}

/* The preflight refusals a scenario may set up (aws-behaviours.md 15). */
static int
check_refusals(const struct sim_params *p, char *why, size_t len)
{
	if (p->standby < 0 || p->standby > p->nodes)
		return snprintf(why, len, "standby is 0 to nodes"), -1;
	if (p->lifecycle_hooks & ~(unsigned)SIM_HOOK_ALL)
		return snprintf(why, len, "unknown lifecycle hook"), -1;
	if (p->health_check_grace < 0 || p->health_check_grace > 86400 * SEC ||
	    p->health_check_grace % SEC != 0)
		return snprintf(why, len, "health_check_grace is whole seconds, 0 to "
		    "86400"), -1;
	/* Else every new node would be replaced before it could boot, for ever. */
	if (p->health_check_elb && p->health_check_grace < p->node_boot)
		return snprintf(why, len, "with health_check_type ELB, "
		    "health_check_grace must cover node_boot"), -1;
	if (!(p->cpu_load >= 0 && p->cpu_load <= 10))
		return snprintf(why, len, "cpu_load is 0 to 10 (1: normal)"), -1;
	return 0;
}

int
sim_params_check(const struct sim_params *p, char *why, size_t len)
{
	if (p->nodes < 1 || p->nodes > 64)
		return snprintf(why, len, "nodes is 1 to 64"), -1;
	if (p->surge < 1 || p->surge > p->nodes)
		return snprintf(why, len, "surge is 1 to nodes"), -1;
	if (!version_allowed(p->version))
		return snprintf(why, len, "version '%s' does not match the template's "
		    "pattern ([^1234]\\.\\d+\\.\\d+(-?.*))", p->version), -1;
	if (p->fault_version[0] != '\0' && !version_allowed(p->fault_version))
		return snprintf(why, len, "fault_version '%s' is not a version",
		    p->fault_version), -1;
	if (!valid_stack_name(p->stack_name))
		return snprintf(why, len, "stack_name must be a letter then letters, "
		    "digits or '-', 60 at most"), -1;
	if (p->region[0] == '\0' || strlen(p->account) != 12 ||
	    strspn(p->account, "0123456789") != 12)
		return snprintf(why, len, "region is required; account is 12 digits"), -1;
	if (check_timings(p, why, len) == -1 || check_traffic(p, why, len) == -1)
		return -1;
	if (!(p->node_error_p >= 0 && p->node_error_p <= 1) ||
	    !(p->node_stuck_p >= 0 && p->node_stuck_p <= 1) ||
	    !(p->fault_p >= 0 && p->fault_p <= 1))
		return snprintf(why, len, "probabilities are 0 to 1"), -1;
	if (!(p->bucket >= 1) || !(p->refill > 0))
		return snprintf(why, len, "throttling needs bucket >= 1 and refill > 0"), -1;
	if (p->suspended >= (1u << SIM_NPROC))
		return snprintf(why, len, "unknown process suspended"), -1;
	return check_refusals(p, why, len);
}

int
sim_version_allowed(const char *s)
{
	return version_allowed(s);
}
