/*
 * Scenario files: an INI file (libinih) that picks a profile and overrides any
 * parameter, with the seed that makes the run repeatable. See bbsim(1).
 *
 *   [scenario]  profile = fast|realistic, seed, epoch (Unix seconds or ISO-8601 UTC)
 *   [cluster]   nodes, version, stack_name, region, account, layout = flat|nested,
 *               surge, new_instances_protected, suspended (process list),
 *               lc_create_allowed, role_arn, and what preflight refuses:
 *               standby (members in Standby), lifecycle_hooks = none|launching,
 *               terminating, instance_refresh, health_check_type = EC2|ELB,
 *               health_check_grace, db_master (standby mode)
 *   [timing]    ec2_pending, node_boot, ec2_shutdown, health_interval,
 *               healthy_threshold, unhealthy_threshold, drain_timeout, stack_update,
 *               changeset_create, asg_health_check, consistency_lag,
 *               stack_status_lag, finalize, unreachable, blip_every
 *   [traffic]   rate, users, user_window, short|medium|long = SHARE MIN MAX
 *   [faults]    node_error|node_stuck = never|once|always|random, node_error_p,
 *               node_stuck_p, fault_version, stack_refuse, rollback_fail,
 *               launch_fail, fault_p (RANDOM's probability for those three),
 *               nested_drift, finalize_fail, cpu_load = normal|high|low|0..10
 *   [throttle]  enabled, bucket, refill
 *
 * Durations carry a unit: 500ms, 8s, 3min, 1h. Unknown sections and keys are
 * errors; every error names the file, the line and the key.
 */
#ifndef BB_SIM_SCENARIO_H
#define BB_SIM_SCENARIO_H

#include <stddef.h>

#include "sim/model.h"

/* 0 and the parameters, or -1 and a message in err; *out is untouched on error. */
int	sim_scenario_load(const char *path, struct sim_params *out, char *err,
	    size_t errlen);
/* The same from text in memory; name is what messages call it. */
int	sim_scenario_load_string(const char *name, const char *text,
	    struct sim_params *out, char *err, size_t errlen);
/* Parses a duration with its unit into milliseconds: 0, or -1 if malformed. */
int	sim_duration_parse(const char *, int64_t *ms);

#endif
