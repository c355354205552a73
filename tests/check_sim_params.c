/*
 * bbsim's parameters and scenario files: the two profiles, the consistency check,
 * and the INI loader (profile first wherever it is written, every error naming the
 * file, the line and the key).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/model.h"
#include "sim/scenario.h"
#include "tests/suites_decl.h"
#include "tests/testutil.h"

static int
load(const char *text, struct sim_params *p, char *err, size_t len)
{
	return sim_scenario_load_string("test.ini", text, p, err, len);
}

START_TEST(fast_profile)
{
	struct sim_params p;
	char why[256];

	sim_params_defaults(&p);
	ck_assert_int_eq(sim_params_check(&p, why, sizeof(why)), 0);
	ck_assert_int_eq(p.nodes, 4);
	ck_assert_str_eq(p.version, "7.9.0");
	ck_assert_int_eq(p.node_boot, 8000);
	ck_assert_int_eq(p.health_interval, 2000);
	ck_assert_int_eq(p.healthy_threshold, 2);
	ck_assert_int_eq(p.drain_timeout, 5000);
	ck_assert_int_eq(p.stack_update, 3000);
	/* Some requests outlive the draining timeout: I7 has something to judge. */
	ck_assert_int_gt(p.req[2].max_ms, p.drain_timeout);
}
END_TEST

START_TEST(realistic_profile)
{
	struct sim_params p;
	char why[256];

	sim_params_realistic(&p);
	ck_assert_int_eq(sim_params_check(&p, why, sizeof(why)), 0);
	ck_assert_int_eq(p.node_boot, 8 * 60 * 1000);
	ck_assert_int_eq(p.health_interval, 60 * 1000);
	ck_assert_int_eq(p.healthy_threshold, 2);
	ck_assert_int_eq(p.drain_timeout, 300 * 1000);
	ck_assert_int_eq(p.stack_update, 3 * 60 * 1000);
	ck_assert_int_gt(p.req[2].min_ms, p.drain_timeout);
}
END_TEST

/* The fast profile's upgrade takes about a minute, by the model's own bound. */
START_TEST(fast_upgrade_about_a_minute)
{
	struct sim_params p;
	struct sim_cpath c;
	int64_t total;

	sim_params_defaults(&p);
	total = sim_critical_path(&p, p.nodes, 1, &c);
	ck_assert_int_ge(total, 40 * 1000);
	ck_assert_int_le(total, 80 * 1000);
	sim_params_realistic(&p);
	total = sim_critical_path(&p, p.nodes, 1, &c);
	ck_assert_int_ge(total, 40 * 60 * 1000);
}
END_TEST

START_TEST(check_refuses)
{
	struct sim_params p;
	char why[256];

#define REFUSED(stmt, word) do {						\
	sim_params_defaults(&p);						\
	stmt;									\
	ck_assert_int_eq(sim_params_check(&p, why, sizeof(why)), -1);		\
	ck_assert_msg(strstr(why, word) != NULL, "'%s' lacks '%s'", why, word);	\
} while (0)
	REFUSED(p.nodes = 0, "nodes");
	REFUSED(p.surge = 5, "surge");
	REFUSED(strcpy(p.version, "10.0.0"), "pattern");
	REFUSED(strcpy(p.version, "4.1.0"), "pattern");
	REFUSED(strcpy(p.version, "7.9"), "pattern");
	REFUSED(strcpy(p.stack_name, "9abc"), "stack_name");
	REFUSED(strcpy(p.account, "12345"), "account");
	REFUSED(p.health_interval = 0, "health_interval");
	REFUSED(p.node_boot = p.ec2_pending, "node_boot");
	REFUSED(p.healthy_threshold = 1, "threshold");
	REFUSED(p.drain_timeout = 0, "drain_timeout");
	REFUSED(p.req[0].share = 0.5, "add up");
	REFUSED(p.req[1].max_ms = 1, "class");
	REFUSED(p.rate = -1, "rate");
	REFUSED(p.node_error_p = 2, "probabilities");
	REFUSED(p.fault_p = -0.5, "probabilities");
	REFUSED(p.ec2_shutdown = -1, "negative");
	REFUSED(p.standby = 5, "standby");
	REFUSED(p.lifecycle_hooks = 4, "hook");
	REFUSED(p.health_check_grace = 1500, "health_check_grace");
	REFUSED(p.health_check_elb = 1, "cover node_boot");
	REFUSED(p.cpu_load = 11, "cpu_load");
	REFUSED(p.cpu_load = -0.5, "cpu_load");
#undef REFUSED
}
END_TEST

START_TEST(durations)
{
	int64_t ms;

	ck_assert_int_eq(sim_duration_parse("500ms", &ms), 0);
	ck_assert_int_eq(ms, 500);
	ck_assert_int_eq(sim_duration_parse("8s", &ms), 0);
	ck_assert_int_eq(ms, 8000);
	ck_assert_int_eq(sim_duration_parse("3min", &ms), 0);
	ck_assert_int_eq(ms, 180000);
	ck_assert_int_eq(sim_duration_parse("1h", &ms), 0);
	ck_assert_int_eq(ms, 3600000);
	ck_assert_int_eq(sim_duration_parse("0", &ms), 0);
	ck_assert_int_eq(ms, 0);
	ck_assert_int_eq(sim_duration_parse("8", &ms), -1);	/* a unit is required */
	ck_assert_int_eq(sim_duration_parse("", &ms), -1);
	ck_assert_int_eq(sim_duration_parse("s", &ms), -1);
	ck_assert_int_eq(sim_duration_parse("-1s", &ms), -1);
	ck_assert_int_eq(sim_duration_parse("1.5s", &ms), -1);
	ck_assert_int_eq(sim_duration_parse("8 s", &ms), -1);
	ck_assert_int_eq(sim_duration_parse("8sec", &ms), -1);
	ck_assert_int_eq(sim_duration_parse("9999999999999s", &ms), -1);
}
END_TEST

START_TEST(scenario_overrides_profile)
{
	struct sim_params p;
	char err[512];
	const char *text =
	    "; a rehearsal with a slow boot\n"
	    "[cluster]\nnodes = 6\nversion = 8.9.2\nlayout = nested\n"
	    "suspended = AlarmNotification, AZRebalance\n"
	    "[timing]\nnode_boot = 10min\n"
	    "[traffic]\nlong = 0.01 6min 8min\nshort = 0.95 100ms 2s\nmedium = 0.04 5s 60s\n"
	    "[scenario]\nseed = 42\nepoch = 2024-06-01T12:00:00Z\nprofile = realistic\n"
	    "[faults]\nnode_error = once\nfault_version = 8.9.3\nlaunch_fail = random\n"
	    "fault_p = 0.25\nnested_drift = yes\n";

	ck_assert_msg(load(text, &p, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(p.nodes, 6);
	ck_assert_str_eq(p.version, "8.9.2");
	ck_assert_int_eq(p.nested, 1);
	ck_assert_uint_eq(p.suspended, (1u << SIM_PROC_ALARM_NOTIFICATION) |
	    (1u << SIM_PROC_AZ_REBALANCE));
	ck_assert_int_eq(p.node_boot, 600000);
	ck_assert_int_eq(p.health_interval, 60000);	/* the realistic profile's */
	ck_assert_uint_eq(p.seed, 42);
	ck_assert_int_eq(p.epoch, 1717243200);
	ck_assert_int_eq(p.req[2].min_ms, 360000);
	ck_assert_int_eq(p.node_error, SIM_FAULT_ONCE);
	ck_assert_str_eq(p.fault_version, "8.9.3");
	ck_assert_int_eq(p.launch_fail, SIM_FAULT_RANDOM);
	ck_assert_double_eq(p.fault_p, 0.25);
	ck_assert_int_eq(p.nested_drift, 1);
}
END_TEST

/* What preflight refuses, and the CPU load, as scenario keys. */
START_TEST(scenario_refusal_keys)
{
	struct sim_params p;
	char err[512];
	const char *text =
	    "[cluster]\nstandby = 2\nlifecycle_hooks = terminating, launching\n"
	    "instance_refresh = true\nhealth_check_type = ELB\n"
	    "health_check_grace = 5min\ndb_master = arn:aws:rds:us-east-1:1:db:p\n"
	    "[faults]\ncpu_load = high\n";

	ck_assert_msg(load(text, &p, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(p.standby, 2);
	ck_assert_uint_eq(p.lifecycle_hooks, SIM_HOOK_LAUNCHING | SIM_HOOK_TERMINATING);
	ck_assert_int_eq(p.instance_refresh, 1);
	ck_assert_int_eq(p.health_check_elb, 1);
	ck_assert_int_eq(p.health_check_grace, 300000);
	ck_assert_str_eq(p.db_master, "arn:aws:rds:us-east-1:1:db:p");
	ck_assert_double_eq(p.cpu_load, 1.5);
	ck_assert_msg(load("[cluster]\nlifecycle_hooks = none\nhealth_check_type = EC2\n"
	    "[faults]\ncpu_load = 0.25\n", &p, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(p.lifecycle_hooks, 0);
	ck_assert_int_eq(p.health_check_elb, 0);
	ck_assert_double_eq(p.cpu_load, 0.25);
}
END_TEST

START_TEST(scenario_empty_is_fast_profile)
{
	struct sim_params p, d;
	char err[256];

	ck_assert_int_eq(load("", &p, err, sizeof(err)), 0);
	sim_params_defaults(&d);
	ck_assert_int_eq(memcmp(&p, &d, sizeof(p)), 0);
}
END_TEST

static void
refused(const char *text, const char *want)
{
	struct sim_params p;
	char err[512];

	sim_params_defaults(&p);
	p.nodes = 77;
	ck_assert_int_eq(load(text, &p, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, want) != NULL, "'%s' lacks '%s'", err, want);
	ck_assert_int_eq(p.nodes, 77);		/* untouched on error */
}

START_TEST(scenario_errors_name_file_line_key)
{
	refused("[cluster]\nnodes = 4\nnodez = 5\n", "test.ini:3: [cluster] nodez: unknown key");
	refused("[clusters]\nnodes = 4\n", "test.ini:2: [clusters] is not a section");
	refused("[cluster]\nnodes = four\n", "test.ini:2: [cluster] nodes: 'four' is not "
	    "allowed; allowed: an integer");
	refused("[timing]\nnode_boot = 8\n", "node_boot: '8' is not allowed; allowed: a "
	    "duration");
	refused("[faults]\nnode_error = sometimes\n", "never, once, always or random");
	refused("[cluster]\nsuspended = AlarmNotification, Nap\n", "suspended");
	refused("[cluster]\nlayout = stacked\n", "flat or nested");
	refused("[scenario]\nprofile = slow\n", "fast or realistic");
	refused("[scenario]\nepoch = yesterday\n", "epoch");
	refused("[traffic]\nshort = 0.9 1s\n", "SHARE MIN MAX");
	refused("[cluster]\nnodes = 0\n", "test.ini: nodes is 1 to 64");
	refused("[cluster\nnodes = 4\n", "test.ini:1:");
	refused("nodes = 4\n", "test.ini:1: [] is not a section");
	refused("[cluster]\nversion = 7.9.0.1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16\n",
	    "version");
	refused("[cluster]\nstack_name = \xc3\xa9t\xc3\xa9\n", "stack_name");
	refused("[cluster]\nhealth_check_type = elb\n", "allowed: EC2 or ELB");
	refused("[cluster]\nlifecycle_hooks = terminating, waiting\n", "launching and/or "
	    "terminating");
	refused("[cluster]\nlifecycle_hooks = \n", "lifecycle_hooks");
	refused("[cluster]\nstandby = 5\n", "standby is 0 to nodes");
	refused("[cluster]\nhealth_check_type = ELB\n", "cover node_boot");
	refused("[faults]\ncpu_load = extreme\n", "normal, high, low");
}
END_TEST

START_TEST(scenario_file)
{
	struct sim_params p;
	char err[512], path[256], *dir = test_tmpdir();
	FILE *f;

	ck_assert_ptr_nonnull(dir);
	snprintf(path, sizeof(path), "%s/s.ini", dir);
	ck_assert_int_eq(sim_scenario_load(path, &p, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "cannot read") != NULL, "%s", err);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("[cluster]\nnodes = 3\n\n[throttle]\nenabled = off\nbogus = 1\n", f);
	fclose(f);
	ck_assert_int_eq(sim_scenario_load(path, &p, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "s.ini:6: [throttle] bogus: unknown key") != NULL, "%s",
	    err);
	f = fopen(path, "w");
	fputs("[cluster]\nnodes = 3\n[throttle]\nenabled = off\n", f);
	fclose(f);
	ck_assert_msg(sim_scenario_load(path, &p, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(p.nodes, 3);
	ck_assert_int_eq(p.throttle, 0);
	test_rmtree(dir);
	free(dir);
}
END_TEST

Suite *
sim_params_suite(void)
{
	Suite *s = suite_create("sim_params");
	TCase *tc = tcase_create("params");

	tcase_add_test(tc, fast_profile);
	tcase_add_test(tc, realistic_profile);
	tcase_add_test(tc, fast_upgrade_about_a_minute);
	tcase_add_test(tc, check_refuses);
	tcase_add_test(tc, durations);
	tcase_add_test(tc, scenario_overrides_profile);
	tcase_add_test(tc, scenario_refusal_keys);
	tcase_add_test(tc, scenario_empty_is_fast_profile);
	tcase_add_test(tc, scenario_errors_name_file_line_key);
	tcase_add_test(tc, scenario_file);
	suite_add_tcase(s, tc);
	return s;
}
