/*
 * Scenario files (see scenario.h). Two passes over the file: the first reads only
 * [scenario] profile, so that the profile's defaults apply whatever line it is on
 * and every other key overrides them. Each key is a row of one table: section,
 * name, how to parse it, where it goes.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <ini.h>

#include "sim/model_int.h"
#include "sim/scenario.h"

enum kind { K_INT, K_U64, K_DURATION, K_DOUBLE, K_BOOL, K_STRING, K_FAULT, K_LAYOUT,
	K_PROCESSES, K_CLASS, K_EPOCH, K_PROFILE, K_HOOKS, K_HEALTH, K_LOAD };

struct key {
	const char	*section;
	const char	*name;
	enum kind	 kind;
	size_t		 off;
	size_t		 size;		/* K_STRING: buffer size */
};

#define P(f)		offsetof(struct sim_params, f)
#define S(f)		P(f), sizeof(((struct sim_params *)0)->f)

static const struct key keys[] = {
	{ "scenario", "profile", K_PROFILE, 0, 0 },
	{ "scenario", "seed", K_U64, P(seed), 0 },
	{ "scenario", "epoch", K_EPOCH, P(epoch), 0 },
	{ "cluster", "nodes", K_INT, P(nodes), 0 },
	{ "cluster", "version", K_STRING, S(version) },
	{ "cluster", "stack_name", K_STRING, S(stack_name) },
	{ "cluster", "region", K_STRING, S(region) },
	{ "cluster", "account", K_STRING, S(account) },
	{ "cluster", "layout", K_LAYOUT, P(nested), 0 },
	{ "cluster", "surge", K_INT, P(surge), 0 },
	{ "cluster", "new_instances_protected", K_BOOL, P(new_instances_protected), 0 },
	{ "cluster", "suspended", K_PROCESSES, P(suspended), 0 },
	{ "cluster", "lc_create_allowed", K_BOOL, P(lc_create_allowed), 0 },
	{ "cluster", "role_arn", K_STRING, S(role_arn) },
	{ "cluster", "standby", K_INT, P(standby), 0 },
	{ "cluster", "lifecycle_hooks", K_HOOKS, P(lifecycle_hooks), 0 },
	{ "cluster", "instance_refresh", K_BOOL, P(instance_refresh), 0 },
	{ "cluster", "health_check_type", K_HEALTH, P(health_check_elb), 0 },
	{ "cluster", "health_check_grace", K_DURATION, P(health_check_grace), 0 },
	{ "cluster", "db_master", K_STRING, S(db_master) },
	{ "timing", "ec2_pending", K_DURATION, P(ec2_pending), 0 },
	{ "timing", "node_boot", K_DURATION, P(node_boot), 0 },
	{ "timing", "ec2_shutdown", K_DURATION, P(ec2_shutdown), 0 },
	{ "timing", "health_interval", K_DURATION, P(health_interval), 0 },
	{ "timing", "healthy_threshold", K_INT, P(healthy_threshold), 0 },
	{ "timing", "unhealthy_threshold", K_INT, P(unhealthy_threshold), 0 },
	{ "timing", "drain_timeout", K_DURATION, P(drain_timeout), 0 },
	{ "timing", "stack_update", K_DURATION, P(stack_update), 0 },
	{ "timing", "changeset_create", K_DURATION, P(changeset_create), 0 },
	{ "timing", "asg_health_check", K_DURATION, P(asg_health_check), 0 },
	{ "timing", "consistency_lag", K_DURATION, P(consistency_lag), 0 },
	{ "timing", "stack_status_lag", K_DURATION, P(stack_status_lag), 0 },
	{ "timing", "finalize", K_DURATION, P(finalize), 0 },
	{ "timing", "unreachable", K_DURATION, P(unreachable), 0 },
	{ "timing", "blip_every", K_DURATION, P(blip_every), 0 },
	{ "traffic", "rate", K_DOUBLE, P(rate), 0 },
	{ "traffic", "users", K_INT, P(users), 0 },
	{ "traffic", "user_window", K_DURATION, P(user_window), 0 },
	{ "traffic", "short", K_CLASS, P(req[0]), 0 },
	{ "traffic", "medium", K_CLASS, P(req[1]), 0 },
	{ "traffic", "long", K_CLASS, P(req[2]), 0 },
	{ "faults", "node_error", K_FAULT, P(node_error), 0 },
	{ "faults", "node_error_p", K_DOUBLE, P(node_error_p), 0 },
	{ "faults", "node_stuck", K_FAULT, P(node_stuck), 0 },
	{ "faults", "node_stuck_p", K_DOUBLE, P(node_stuck_p), 0 },
	{ "faults", "fault_version", K_STRING, S(fault_version) },
	{ "faults", "stack_refuse", K_FAULT, P(stack_refuse), 0 },
	{ "faults", "rollback_fail", K_FAULT, P(rollback_fail), 0 },
	{ "faults", "launch_fail", K_FAULT, P(launch_fail), 0 },
	{ "faults", "fault_p", K_DOUBLE, P(fault_p), 0 },
	{ "faults", "nested_drift", K_BOOL, P(nested_drift), 0 },
	{ "faults", "finalize_fail", K_BOOL, P(finalize_fail), 0 },
	{ "faults", "cpu_load", K_LOAD, P(cpu_load), 0 },
	{ "throttle", "enabled", K_BOOL, P(throttle), 0 },
	{ "throttle", "bucket", K_DOUBLE, P(bucket), 0 },
	{ "throttle", "refill", K_DOUBLE, P(refill), 0 },
};

struct parse {
	struct sim_params p;
	int		 profile_pass;
	int		 realistic;
	char		 msg[256];
};

int
sim_duration_parse(const char *s, int64_t *ms)
{
	static const struct { const char *unit; int64_t ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "min", 60000 }, { "h", 3600000 },
	};
	int64_t v = 0;
	int n = 0;

	while (isdigit((unsigned char)s[n])) {
		if (n == 12)
			return -1;
		v = v * 10 + (s[n++] - '0');
	}
	if (n == 0)
		return -1;
	if (s[n] == '\0' && v == 0)
		return *ms = 0, 0;
	for (size_t i = 0; i < nitems(units); i++)
		if (strcmp(s + n, units[i].unit) == 0)
			return *ms = v * units[i].ms, 0;
	return -1;
}

static int
parse_long(const char *s, long long lo, long long hi, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int
parse_double(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return (*s == '\0' || *end != '\0' || errno != 0 || *out != *out) ? -1 : 0;
}

static int
parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < nitems(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *out = 1, 0;
		if (strcasecmp(s, no[i]) == 0)
			return *out = 0, 0;
	}
	return -1;
}

static int
parse_fault(const char *s, enum sim_fault *out)
{
	static const char *const names[] = { "never", "once", "always", "random" };

	for (size_t i = 0; i < nitems(names); i++)
		if (strcmp(s, names[i]) == 0)
			return *out = (enum sim_fault)i, 0;
	return -1;
}

/* "AlarmNotification, AZRebalance": names separated by commas or blanks. */
static int
parse_processes(const char *s, unsigned *out)
{
	char buf[512], *tok, *save;
	unsigned set = 0;
	int p;

	sim_strlcpy(buf, s, sizeof(buf));
	for (tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		if ((p = sim_process_lookup(tok)) == -1)
			return -1;
		set |= 1u << p;
	}
	*out = set;
	return 0;
}

/* "terminating, launching", or "none". */
static int
parse_hooks(const char *s, unsigned *out)
{
	char buf[128], *tok, *save;
	unsigned set = 0, h;

	if (strcmp(s, "none") == 0)
		return *out = 0, 0;
	sim_strlcpy(buf, s, sizeof(buf));
	for (tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		if ((h = sim_hook_lookup(tok)) == 0)
			return -1;
		set |= h;
	}
	*out = set;
	return set != 0 ? 0 : -1;
}

/* "0.09 1s 3s": share, shortest, longest. */
static int
parse_class(const char *s, struct sim_req_class *c)
{
	char share[64], lo[64], hi[64], extra[2];

	if (sscanf(s, "%63s %63s %63s %1s", share, lo, hi, extra) != 3)
		return -1;
	if (parse_double(share, &c->share) == -1 ||
	    sim_duration_parse(lo, &c->min_ms) == -1 ||
	    sim_duration_parse(hi, &c->max_ms) == -1)
		return -1;
	return 0;
}

static int
parse_epoch(const char *s, int64_t *out)
{
	struct tm tm;
	long long v;
	const char *end;

	if (parse_long(s, 0, 4102444800LL, &v) == 0)
		return *out = v, 0;
	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm)) == NULL || *end != '\0')
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

static const char *
allowed(enum kind k)
{
	switch (k) {
	case K_INT:		return "an integer";
	case K_U64:		return "an unsigned integer";
	case K_DURATION:	return "a duration such as 500ms, 8s, 3min, 1h";
	case K_DOUBLE:		return "a number";
	case K_BOOL:		return "true or false";
	case K_STRING:		return "text, shorter than its limit";
	case K_FAULT:		return "never, once, always or random";
	case K_LAYOUT:		return "flat or nested";
	case K_PROCESSES:	return "Auto Scaling process names";
	case K_CLASS:		return "SHARE MIN MAX, e.g. 0.09 1s 3s";
	case K_EPOCH:		return "Unix seconds or YYYY-MM-DDTHH:MM:SSZ";
	case K_PROFILE:		return "fast or realistic";
	case K_HOOKS:		return "none, or launching and/or terminating";
	case K_HEALTH:		return "EC2 or ELB";
	case K_LOAD:		return "normal, high, low, or a multiplier 0 to 10";
	}
	return "?";
}

static int
set_value(struct parse *ps, const struct key *k, const char *v)
{
	char *f = (char *)&ps->p + k->off;
	long long n;

	switch (k->kind) {
	case K_INT:
		if (parse_long(v, INT_MIN, INT_MAX, &n) == -1)
			return -1;
		*(int *)f = (int)n;
		return 0;
	case K_U64:
		if (parse_long(v, 0, LLONG_MAX, &n) == -1)
			return -1;
		*(uint64_t *)f = (uint64_t)n;
		return 0;
	case K_DURATION:
		return sim_duration_parse(v, (int64_t *)f);
	case K_DOUBLE:
		return parse_double(v, (double *)f);
	case K_BOOL:
		return parse_bool(v, (int *)f);
	case K_STRING:
		if (strlen(v) >= k->size)
			return -1;
		sim_strlcpy(f, v, k->size);
		return 0;
	case K_FAULT:
		return parse_fault(v, (enum sim_fault *)f);
	case K_LAYOUT:
		if (strcmp(v, "flat") != 0 && strcmp(v, "nested") != 0)
			return -1;
		*(int *)f = strcmp(v, "nested") == 0;
		return 0;
	case K_PROCESSES:
		return parse_processes(v, (unsigned *)f);
	case K_CLASS:
		return parse_class(v, (struct sim_req_class *)f);
	case K_EPOCH:
		return parse_epoch(v, (int64_t *)f);
	case K_PROFILE:
		if (strcmp(v, "fast") != 0 && strcmp(v, "realistic") != 0)
			return -1;
		return 0;	/* applied by the first pass */
	case K_HOOKS:
		return parse_hooks(v, (unsigned *)f);
	case K_HEALTH:
		if (strcmp(v, "EC2") != 0 && strcmp(v, "ELB") != 0)
			return -1;
		*(int *)f = strcmp(v, "ELB") == 0;
		return 0;
	case K_LOAD:
		return sim_cpu_load_parse(v, (double *)f);
	}
	return -1;
}

static const struct key *
find_key(const char *section, const char *name, int *section_known)
{
	*section_known = 0;
	for (size_t i = 0; i < nitems(keys); i++) {
		if (strcmp(keys[i].section, section) != 0)
			continue;
		*section_known = 1;
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	}
	return NULL;
}

/* inih's callback: 0 stops the parse, and ini_parse then returns the line. */
static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *ps = user;
	const struct key *k;
	int known;

	if (ps->profile_pass) {
		if (strcmp(section, "scenario") == 0 && strcmp(name, "profile") == 0)
			ps->realistic = strcmp(value, "realistic") == 0;
		return 1;
	}
	if ((k = find_key(section, name, &known)) == NULL) {
		if (!known)
			snprintf(ps->msg, sizeof(ps->msg), "[%s] is not a section "
			    "(key %s)", section, name);
		else
			snprintf(ps->msg, sizeof(ps->msg), "[%s] %s: unknown key",
			    section, name);
		return 0;
	}
	if (set_value(ps, k, value) == -1) {
		snprintf(ps->msg, sizeof(ps->msg), "[%s] %s: '%.64s' is not allowed; "
		    "allowed: %s", section, name, value, allowed(k->kind));
		return 0;
	}
	return 1;
}

typedef int (*ini_runner)(const void *src, ini_handler, void *user);

static int
run_file(const void *src, ini_handler h, void *user)
{
	return ini_parse(src, h, user);
}

static int
run_string(const void *src, ini_handler h, void *user)
{
	return ini_parse_string(src, h, user);
}

static int
load(const char *name, const void *src, ini_runner run, struct sim_params *out,
    char *err, size_t errlen)
{
	struct parse ps;
	char why[256];
	int rc;

	memset(&ps, 0, sizeof(ps));
	ps.profile_pass = 1;
	if ((rc = run(src, handler, &ps)) < 0) {
		snprintf(err, errlen, "%s: cannot read: %s", name,
		    rc == -1 ? strerror(errno) : "out of memory");
		return -1;
	}
	if (ps.realistic)
		sim_params_realistic(&ps.p);
	else
		sim_params_defaults(&ps.p);
	ps.profile_pass = 0;
	if ((rc = run(src, handler, &ps)) != 0) {
		snprintf(err, errlen, "%s:%d: %s", name, rc,
		    ps.msg[0] ? ps.msg : "syntax error");
		return -1;
	}
	if (sim_params_check(&ps.p, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: %s", name, why);
		return -1;
	}
	*out = ps.p;
	return 0;
}

int
sim_scenario_load(const char *path, struct sim_params *out, char *err, size_t errlen)
{
	return load(path, path, run_file, out, err, errlen);
}

int
sim_scenario_load_string(const char *name, const char *text, struct sim_params *out,
    char *err, size_t errlen)
{
	return load(name, text, run_string, out, err, errlen);
}
