/*
 * Names of the core's enums, as the database stores them (schema/001_init.sql: the
 * upgrade.state CHECK list, upgrade.phase, upgrade_node.role and .state, journal.action)
 * and as the operator reads them, and the translations of AWS's strings into the
 * observation's enums. A name read back that is not in a table is an error, never a
 * default.
 */
#include <string.h>

#define ENGINE_CORE_INTERNAL
#include "daemon/engine/core.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

static const char *const phases[] = {
	[ENGINE_PH_PREFLIGHT] = "preflight",
	[ENGINE_PH_RECORD] = "record",
	[ENGINE_PH_PROTECT] = "protect",
	[ENGINE_PH_SUSPEND] = "suspend",
	[ENGINE_PH_SCALE_OUT] = "scale-out",
	[ENGINE_PH_SURGE] = "surge",
	[ENGINE_PH_REPLACE] = "replace",
	[ENGINE_PH_RETIRE] = "retire",
	[ENGINE_PH_FINALIZE] = "finalize",
	[ENGINE_PH_STABILIZE] = "stabilize",
	[ENGINE_PH_RESTORE] = "restore",
	[ENGINE_PH_END] = "end",
};

static const char *const states[] = {
	[ENGINE_STATE_RUNNING] = "running",
	[ENGINE_STATE_PAUSED] = "paused",
	[ENGINE_STATE_HALTED] = "halted",
	[ENGINE_STATE_DONE] = "done",
	[ENGINE_STATE_CANCELLED] = "cancelled",
	[ENGINE_STATE_ROLLED_BACK] = "rolled_back",
};

static const char *const modes[] = {
	[ENGINE_MODE_FORWARD] = "forward",
	[ENGINE_MODE_ROLLBACK] = "rollback",
	[ENGINE_MODE_CANCEL] = "cancel",
};

static const char *const steps[] = {
	[ENGINE_STEP_LIVE] = "live",
	[ENGINE_STEP_DRAINING] = "draining",
	[ENGINE_STEP_DRAINED] = "drained",
	[ENGINE_STEP_TERMINATING] = "terminating",
	[ENGINE_STEP_AWAITING] = "awaiting-replacement",
	[ENGINE_STEP_REPLACED] = "replaced",
	[ENGINE_STEP_RETIRED] = "retired",
	[ENGINE_STEP_GONE] = "gone",
};

static const char *const roles[] = {
	[ENGINE_ROLE_ORIGINAL] = "original",
	[ENGINE_ROLE_SURGE] = "surge",
	[ENGINE_ROLE_REPLACEMENT] = "replacement",
};

static const char *const purposes[] = {
	[ENGINE_PURPOSE_NONE] = "none",
	[ENGINE_PURPOSE_VICTIM] = "victim",
	[ENGINE_PURPOSE_LEAVER] = "leaver",
	[ENGINE_PURPOSE_RETRY] = "retry",
};

static const char *const acts[] = {
	[ENGINE_ACT_NONE] = "none",
	[ENGINE_ACT_ZDU_START] = "zdu-start",
	[ENGINE_ACT_ZDU_APPROVE] = "zdu-approve",
	[ENGINE_ACT_ZDU_CANCEL] = "zdu-cancel",
	[ENGINE_ACT_PROTECT] = "set-protection",
	[ENGINE_ACT_SUSPEND] = "suspend-processes",
	[ENGINE_ACT_RESUME] = "resume-processes",
	[ENGINE_ACT_CREATE_CHANGESET] = "create-change-set",
	[ENGINE_ACT_EXECUTE_CHANGESET] = "execute-change-set",
	[ENGINE_ACT_DELETE_CHANGESET] = "delete-change-set",
	[ENGINE_ACT_DEREGISTER] = "deregister",
	[ENGINE_ACT_REGISTER] = "register",
	[ENGINE_ACT_TERMINATE] = "terminate",
	[ENGINE_ACT_RECORD] = "record",
	[ENGINE_ACT_PHASE] = "phase",
	[ENGINE_ACT_ADOPT] = "adopt",
	[ENGINE_ACT_DRAINED] = "drained",
	[ENGINE_ACT_GONE] = "gone",
	[ENGINE_ACT_REPLACED] = "replaced",
	[ENGINE_ACT_LEAVERS] = "leavers",
	[ENGINE_ACT_STACK_DONE] = "stack-done",
	[ENGINE_ACT_SEEN] = "seen",
	[ENGINE_ACT_NODE_FAILED] = "node-failed",
	[ENGINE_ACT_PAUSE] = "pause",
	[ENGINE_ACT_REVERSE] = "reverse",
	[ENGINE_ACT_REBASE] = "rebase",
	[ENGINE_ACT_FINISH] = "finish",
};

static const char *const halts[] = {
	[ENGINE_HALT_NONE] = "none",
	[ENGINE_HALT_PREFLIGHT] = "preflight",
	[ENGINE_HALT_CHANGED] = "changed-since-preflight",
	[ENGINE_HALT_CREDENTIALS] = "credentials",
	[ENGINE_HALT_FOREIGN] = "foreign-change",
	[ENGINE_HALT_STACK_ROLLED_BACK] = "stack-rolled-back",
	[ENGINE_HALT_STACK_ROLLBACK_FAILED] = "stack-rollback-failed",
	[ENGINE_HALT_STACK_FAILED] = "stack-failed",
	[ENGINE_HALT_STACK_TIMEOUT] = "stack-timeout",
	[ENGINE_HALT_STACK_BUSY] = "stack-busy",
	[ENGINE_HALT_CHANGESET_REFUSED] = "change-set-refused",
	[ENGINE_HALT_CHANGESET_FAILED] = "change-set-failed",
	[ENGINE_HALT_SCALE_IN_BLOCKED] = "scale-in-blocked",
	[ENGINE_HALT_NODE_ERROR] = "node-error",
	[ENGINE_HALT_NODE_TIMEOUT] = "node-timeout",
	[ENGINE_HALT_LAUNCH_FAILED] = "launch-failed",
	[ENGINE_HALT_DRAIN_STUCK] = "drain-stuck",
	[ENGINE_HALT_TERMINATE_FAILED] = "terminate-failed",
	[ENGINE_HALT_PROTECTION] = "protection",
	[ENGINE_HALT_PROCESSES] = "processes",
	[ENGINE_HALT_ZDU_STATE] = "zdu-state",
	[ENGINE_HALT_CAPACITY] = "capacity",
	[ENGINE_HALT_END_STATE] = "end-state",
	[ENGINE_HALT_CALL_FAILED] = "call-failed",
	[ENGINE_HALT_INVARIANT] = "invariant",
	[ENGINE_HALT_INTERNAL] = "internal",
};

static const char *const waits[] = {
	[ENGINE_WAIT_NONE] = "none",
	[ENGINE_WAIT_OBSERVE] = "observe",
	[ENGINE_WAIT_BACKOFF] = "backoff",
	[ENGINE_WAIT_PAUSED] = "paused",
	[ENGINE_WAIT_INTENT] = "intent",
	[ENGINE_WAIT_VISIBLE] = "visible",
	[ENGINE_WAIT_ZDU] = "zdu",
	[ENGINE_WAIT_CONFIRM] = "confirm",
	[ENGINE_WAIT_PROTECTION] = "protection",
	[ENGINE_WAIT_PROCESSES] = "processes",
	[ENGINE_WAIT_STACK_IDLE] = "stack-idle",
	[ENGINE_WAIT_CHANGESET] = "change-set",
	[ENGINE_WAIT_STACK_UPDATE] = "stack-update",
	[ENGINE_WAIT_COUNTS] = "counts",
	[ENGINE_WAIT_LAUNCH] = "launch",
	[ENGINE_WAIT_NODE_READY] = "node-ready",
	[ENGINE_WAIT_SETTLE] = "settle",
	[ENGINE_WAIT_CAPACITY] = "capacity",
	[ENGINE_WAIT_DRAIN] = "drain",
	[ENGINE_WAIT_TERMINATION] = "termination",
	[ENGINE_WAIT_SCALE_IN] = "scale-in",
	[ENGINE_WAIT_STABLE] = "stable",
};

static const char *const processes[] = {
	"Launch", "Terminate", "AddToLoadBalancer", "AlarmNotification", "AZRebalance",
	"HealthCheck", "ReplaceUnhealthy", "ScheduledActions", "InstanceRefresh",
};

static const char *
name(const char *const *t, size_t n, int v)
{
	if (v < 0 || (size_t)v >= n || t[v] == NULL)
		return "?";
	return t[v];
}

static int
parse(const char *const *t, size_t n, const char *s)
{
	if (s == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (t[i] != NULL && strcmp(t[i], s) == 0)
			return (int)i;
	return -1;
}

#define NAME_PARSE(type, fn, table)						\
const char *									\
engine_##fn##_name(enum type v)							\
{										\
	return name(table, nitems(table), (int)v);				\
}										\
int										\
engine_##fn##_parse(const char *s, enum type *out)				\
{										\
	int v = parse(table, nitems(table), s);					\
										\
	if (v == -1)								\
		return -1;							\
	*out = (enum type)v;							\
	return 0;								\
}

NAME_PARSE(engine_phase, phase, phases)
NAME_PARSE(engine_state, state, states)
NAME_PARSE(engine_mode, mode, modes)
NAME_PARSE(engine_step, step, steps)
NAME_PARSE(engine_role, role, roles)
NAME_PARSE(engine_act_kind, act, acts)

const char *
engine_purpose_name(enum engine_purpose v)
{
	return name(purposes, nitems(purposes), (int)v);
}

const char *
engine_halt_name(enum engine_halt v)
{
	return name(halts, nitems(halts), (int)v);
}

const char *
engine_wait_name(enum engine_wait v)
{
	return name(waits, nitems(waits), (int)v);
}

const char *
engine_process_name(unsigned proc)
{
	for (size_t i = 0; i < nitems(processes); i++)
		if (proc == 1u << i)
			return processes[i];
	return "?";
}

/* "AlarmNotification AZRebalance" for a set; "none" if empty. */
void
engine_process_list(unsigned set, char *buf, size_t len)
{
	size_t off = 0;

	engine_strlcpy(buf, "none", len);
	for (size_t i = 0; i < nitems(processes) && off + 1 < len; i++) {
		size_t n = strlen(processes[i]);

		if ((set & (1u << i)) == 0 || off + n + 2 > len)
			continue;
		if (off > 0)
			buf[off++] = ' ';
		memcpy(buf + off, processes[i], n + 1);
		off += n;
	}
}

unsigned
engine_process_parse(const char *s)
{
	int v = parse(processes, nitems(processes), s);

	return v == -1 ? 0 : 1u << v;
}

static bool
prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

static bool
suffix(const char *s, const char *x)
{
	size_t n = strlen(s), m = strlen(x);

	return n >= m && strcmp(s + n - m, x) == 0;
}

enum engine_stack_status
engine_stack_status_parse(const char *s)
{
	if (s == NULL || s[0] == '\0')
		return ENGINE_STACK_UNKNOWN;
	if (strcmp(s, "CREATE_COMPLETE") == 0)
		return ENGINE_STACK_CREATE_COMPLETE;
	if (strcmp(s, "UPDATE_COMPLETE") == 0)
		return ENGINE_STACK_UPDATE_COMPLETE;
	if (strcmp(s, "UPDATE_ROLLBACK_COMPLETE") == 0)
		return ENGINE_STACK_UPDATE_ROLLBACK_COMPLETE;
	if (strcmp(s, "UPDATE_ROLLBACK_FAILED") == 0)
		return ENGINE_STACK_UPDATE_ROLLBACK_FAILED;
	if (strcmp(s, "UPDATE_FAILED") == 0)
		return ENGINE_STACK_UPDATE_FAILED;
	if (prefix(s, "UPDATE_ROLLBACK_") && suffix(s, "IN_PROGRESS"))
		return ENGINE_STACK_ROLLBACK_IN_PROGRESS;
	if (suffix(s, "_IN_PROGRESS"))
		return ENGINE_STACK_IN_PROGRESS;
	return ENGINE_STACK_OTHER;
}

enum engine_lifecycle
engine_lifecycle_parse(const char *s)
{
	if (s == NULL)
		return ENGINE_LC_OTHER;
	if (strcmp(s, "InService") == 0)
		return ENGINE_LC_IN_SERVICE;
	if (prefix(s, "Pending"))
		return ENGINE_LC_PENDING;
	if (strcmp(s, "Terminated") == 0)
		return ENGINE_LC_TERMINATED;
	if (prefix(s, "Terminating"))
		return ENGINE_LC_TERMINATING;
	if (strcmp(s, "Standby") == 0 || strcmp(s, "EnteringStandby") == 0)
		return ENGINE_LC_STANDBY;
	if (strcmp(s, "Detaching") == 0 || strcmp(s, "Detached") == 0)
		return ENGINE_LC_DETACHING;
	return ENGINE_LC_OTHER;
}

/* Behaviour 16: a draining instance says InService; only the description tells. */
enum engine_elb
engine_elb_parse(const char *state, const char *description)
{
	const char *desc = description ? description : "";

	if (state == NULL)
		return ENGINE_ELB_UNKNOWN;
	if (strcmp(state, "InService") == 0)
		return strstr(desc, "deregistration currently in progress") != NULL ?
		    ENGINE_ELB_DRAINING : ENGINE_ELB_IN_SERVICE;
	if (strcmp(state, "OutOfService") == 0)
		return strstr(desc, "not currently registered") != NULL ?
		    ENGINE_ELB_NOT_REGISTERED : ENGINE_ELB_UNHEALTHY;
	return ENGINE_ELB_UNKNOWN;
}

enum engine_activity
engine_activity_parse(const char *s)
{
	if (s != NULL && strcmp(s, "Successful") == 0)
		return ENGINE_ACTIVITY_SUCCESSFUL;
	if (s != NULL && strcmp(s, "Failed") == 0)
		return ENGINE_ACTIVITY_FAILED;
	if (s != NULL && strcmp(s, "Cancelled") == 0)
		return ENGINE_ACTIVITY_CANCELLED;
	return ENGINE_ACTIVITY_IN_PROGRESS;
}

enum engine_cs_status
engine_cs_status_parse(const char *s)
{
	if (s == NULL || s[0] == '\0')
		return ENGINE_CS_ABSENT;
	if (strcmp(s, "CREATE_COMPLETE") == 0)
		return ENGINE_CS_COMPLETE;
	if (strcmp(s, "FAILED") == 0)
		return ENGINE_CS_FAILED;
	if (prefix(s, "DELETE_"))
		return ENGINE_CS_DELETING;
	return ENGINE_CS_PENDING;
}

enum engine_cs_exec
engine_cs_exec_parse(const char *s)
{
	static const char *const t[] = {
		[ENGINE_CSX_UNAVAILABLE] = "UNAVAILABLE",
		[ENGINE_CSX_AVAILABLE] = "AVAILABLE",
		[ENGINE_CSX_IN_PROGRESS] = "EXECUTE_IN_PROGRESS",
		[ENGINE_CSX_COMPLETE] = "EXECUTE_COMPLETE",
		[ENGINE_CSX_FAILED] = "EXECUTE_FAILED",
		[ENGINE_CSX_OBSOLETE] = "OBSOLETE",
	};
	int v = parse(t, nitems(t), s);

	return v == -1 ? ENGINE_CSX_UNAVAILABLE : (enum engine_cs_exec)v;
}
