/*
 * The decision core of the upgrade engine (DESIGN.md sections 3 and 4).
 *
 * engine_decide() is a pure function of the persisted upgrade (struct engine_upgrade:
 * the facts that cannot be re-read from AWS) and one observation (struct engine_obs:
 * what the clients just read). It performs no I/O, reads no clock, allocates nothing,
 * and gives the same answer for the same input, so that a restarted daemon that
 * observes again re-derives the same decision with the same idempotency token (I5).
 *
 * The persisted state changes only through the functions below: engine_apply() after
 * an action (or a halt) and the operator commands engine_cmd_*(). The effect shell
 * runs this loop (level-triggered; DESIGN.md section 4):
 *
 *	observe the parts d.need asks for (all of them the first time)
 *	switch (engine_decide(u, o, &d)) {
 *	case ENGINE_ACT:
 *		if (engine_act_is_call(d.act.kind)) {
 *			if (d.resolve == ENGINE_RESOLVE_NONE ||
 *			    d.resolve == ENGINE_RESOLVE_REISSUE) {
 *				if (engine_guard(u, o, &d) != ENGINE_ACT)
 *					-> HALT, below
 *				if (d.resolve == ENGINE_RESOLVE_NONE)
 *					engine_intent(u, &d);	commit u + journal intent
 *				perform d.act with d.act.token;	-> outcome
 *			} else
 *				outcome = d.resolve (decided by observation, no call)
 *		}
 *		engine_apply(u, &d, &outcome);	commit u + journal outcome
 *		decide again (bookkeeping needs no new observation)
 *	case ENGINE_WAIT:  timers; the deadline of d.progress (reset when it changes)
 *	case ENGINE_HALT:  engine_apply(u, &d, NULL), tell the operator, stop
 *	case ENGINE_DONE:  report
 *	}
 *
 * Transient failures of a call (throttling, ScalingActivityInProgress,
 * ResourceContention, 5xx) are outcome ENGINE_OUT_RETRY: nothing happened, the
 * shell backs off and decides again; they never halt. A call whose effect is
 * unknown (timeout, crash) leaves the intent open: the next decision resolves it by
 * observation before anything else.
 *
 * Never: treat a part of the observation that was not read as empty; act on an
 * instance outside ClusterNodeGroup; terminate an instance that the load balancer
 * still has registered; pick a new victim while an intent is unresolved.
 */
#ifndef BB_ENGINE_CORE_H
#define BB_ENGINE_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/zdu.h"

#define ENGINE_NODES_MAX	64	/* instances of the group in one observation */
#define ENGINE_ZNODES_MAX	128	/* ZDU nodes, OFFLINE ones included */
#define ENGINE_TRACKED_MAX	128	/* nodes one upgrade sees over its life */
#define ENGINE_ID_MAX		24	/* "i-" and 17 hex digits fit */
#define ENGINE_IP_MAX		46
#define ENGINE_VERSION_MAX	32
#define ENGINE_TOKEN_MAX	129	/* CloudFormation: 128 characters */
#define ENGINE_ACTIVITY_MAX	48	/* a UUID */
#define ENGINE_NAME_MAX		64
#define ENGINE_TEXT_MAX		512
#define ENGINE_MARKER_MAX	192
#define ENGINE_CHANGES_MAX	32
#define ENGINE_CHANGE_PROPS_MAX	8
#define ENGINE_ACTIVITIES_MAX	16
#define ENGINE_PROBLEMS_MAX	32
#define ENGINE_SURGE_MAX	ENGINE_NODES_MAX

/* --- what was asked and where it stands (persisted) ------------------------- */

enum engine_on_failure {
	ENGINE_ON_FAILURE_HALT,		/* default */
	ENGINE_ON_FAILURE_RETRY,	/* replace a failed node once more, then halt */
	ENGINE_ON_FAILURE_ROLLBACK,	/* roll back automatically */
};

enum engine_mode {
	ENGINE_MODE_FORWARD,
	ENGINE_MODE_ROLLBACK,		/* back to the original version */
	ENGINE_MODE_CANCEL,		/* only surge nodes ran <to>: remove them */
};

enum engine_state {
	ENGINE_STATE_RUNNING,
	ENGINE_STATE_PAUSED,
	ENGINE_STATE_HALTED,
	ENGINE_STATE_DONE,
	ENGINE_STATE_CANCELLED,
	ENGINE_STATE_ROLLED_BACK,
};

/*
 * The phases, in order. A reversal (rollback, cancel) goes back to SCALE_OUT and runs
 * the same phases towards the original version; each phase skips itself when it has
 * nothing to do.
 */
enum engine_phase {
	ENGINE_PH_PREFLIGHT,	/* every check of step 1, then POST /rest/zdu/start */
	ENGINE_PH_RECORD,	/* record the originals, counts, processes */
	ENGINE_PH_PROTECT,	/* protect the originals from scale-in */
	ENGINE_PH_SUSPEND,	/* AlarmNotification, AZRebalance, ScheduledActions */
	ENGINE_PH_SCALE_OUT,	/* stack change: version, counts + k */
	ENGINE_PH_SURGE,	/* the k surge nodes come up: the canary */
	ENGINE_PH_REPLACE,	/* replace nodes but the last k, least busy first */
	ENGINE_PH_RETIRE,	/* remove the last k without replacement */
	ENGINE_PH_FINALIZE,	/* two polls, then approve (reverse: cancel) */
	ENGINE_PH_STABILIZE,	/* wait for STABLE */
	ENGINE_PH_RESTORE,	/* check I6, resume processes, restore protection */
	ENGINE_PH_END,
};

enum engine_role {
	ENGINE_ROLE_ORIGINAL,
	ENGINE_ROLE_SURGE,
	ENGINE_ROLE_REPLACEMENT,
};

/* Where one node stands in its replacement or removal. */
enum engine_step {
	ENGINE_STEP_LIVE,		/* in the group, registered */
	ENGINE_STEP_DRAINING,		/* deregistered, the ELB still drains it */
	ENGINE_STEP_DRAINED,		/* not registered any more, still alive */
	ENGINE_STEP_TERMINATING,	/* TerminateInstanceInAutoScalingGroup done */
	ENGINE_STEP_AWAITING,		/* gone; its replacement is not ready yet */
	ENGINE_STEP_REPLACED,		/* gone and replaced */
	ENGINE_STEP_RETIRED,		/* removed without replacement */
	ENGINE_STEP_GONE,		/* a failed node removed, or forgotten */
};

enum engine_purpose {
	ENGINE_PURPOSE_NONE,
	ENGINE_PURPOSE_VICTIM,		/* being replaced */
	ENGINE_PURPOSE_LEAVER,		/* being removed without replacement */
	ENGINE_PURPOSE_RETRY,		/* a failed new node being replaced once more */
};

enum engine_drain {
	ENGINE_DRAIN_NONE,
	ENGINE_DRAIN_CLEAN,		/* draining ended before the ELB's timeout */
	ENGINE_DRAIN_FORCED,		/* the timeout cut what was still open */
};

enum engine_prot_req {
	ENGINE_PROT_NONE,		/* we did not ask */
	ENGINE_PROT_ON,
	ENGINE_PROT_OFF,
};

struct engine_node {
	char			 id[ENGINE_ID_MAX];
	char			 ip[ENGINE_IP_MAX];
	char			 version[ENGINE_VERSION_MAX];	/* originals: at record */
	enum engine_role	 role;
	bool			 was_protected;		/* originals: before we began */
	bool			 reverse_born;		/* adopted during a reversal */
	enum engine_step	 step;
	enum engine_purpose	 purpose;
	enum engine_drain	 drain;
	enum engine_prot_req	 prot_req;		/* last protection we asked for */
	int			 replaces;		/* index of the node it replaced, -1 */
	int			 replaced_by;		/* index of its replacement, -1 */
	int			 retries;		/* failures before it in its slot */
	char			 activity[ENGINE_ACTIVITY_MAX];	/* its termination */
};

/* Scaling processes, as a set. */
#define ENGINE_PROC_LAUNCH		0x001u
#define ENGINE_PROC_TERMINATE		0x002u
#define ENGINE_PROC_ADD_TO_LB		0x004u
#define ENGINE_PROC_ALARM		0x008u
#define ENGINE_PROC_AZ_REBALANCE	0x010u
#define ENGINE_PROC_HEALTH_CHECK	0x020u
#define ENGINE_PROC_REPLACE_UNHEALTHY	0x040u
#define ENGINE_PROC_SCHEDULED		0x080u
#define ENGINE_PROC_INSTANCE_REFRESH	0x100u
#define ENGINE_PROC_ALL			0x1ffu
/* What the upgrade suspends (behaviour 13): never Launch, Terminate, AddToLoadBalancer. */
#define ENGINE_PROC_OURS \
	(ENGINE_PROC_ALARM | ENGINE_PROC_AZ_REBALANCE | ENGINE_PROC_SCHEDULED)

enum engine_act_kind {
	ENGINE_ACT_NONE,
	/* Calls: guarded, journaled (intent, call, outcome). */
	ENGINE_ACT_ZDU_START,		/* POST /rest/zdu/start */
	ENGINE_ACT_ZDU_APPROVE,		/* POST /rest/zdu/approve */
	ENGINE_ACT_ZDU_CANCEL,		/* POST /rest/zdu/cancel */
	ENGINE_ACT_PROTECT,		/* SetInstanceProtection(targets, protect) */
	ENGINE_ACT_SUSPEND,		/* SuspendProcesses(processes) */
	ENGINE_ACT_RESUME,		/* ResumeProcesses(processes) */
	ENGINE_ACT_CREATE_CHANGESET,	/* CreateChangeSet(changeset, version, min, max) */
	ENGINE_ACT_EXECUTE_CHANGESET,	/* ExecuteChangeSet(changeset, token) */
	ENGINE_ACT_DELETE_CHANGESET,	/* DeleteChangeSet(changeset) */
	ENGINE_ACT_DEREGISTER,		/* DeregisterInstancesFromLoadBalancer(targets) */
	ENGINE_ACT_REGISTER,		/* RegisterInstancesWithLoadBalancer(targets) */
	ENGINE_ACT_TERMINATE,		/* TerminateInstanceInAutoScalingGroup(target, no decrement) */
	/* Bookkeeping: no call; the shell applies at once and decides again. */
	ENGINE_ACT_RECORD,		/* the originals, counts and processes */
	ENGINE_ACT_PHASE,		/* this phase is complete: go to d.next_phase */
	ENGINE_ACT_ADOPT,		/* new instances launched for us */
	ENGINE_ACT_DRAINED,		/* the load balancer released a node */
	ENGINE_ACT_GONE,		/* a terminated or scaled-in node left the group */
	ENGINE_ACT_REPLACED,		/* a victim's replacement is serving */
	ENGINE_ACT_LEAVERS,		/* the nodes to remove without replacement */
	ENGINE_ACT_STACK_DONE,		/* our stack change finished */
	ENGINE_ACT_SEEN,		/* a ZDU state seen, for "two consecutive polls" */
	ENGINE_ACT_NODE_FAILED,		/* a new node failed: retry it or roll back */
	ENGINE_ACT_PAUSE,		/* a safe point: pause takes effect */
	ENGINE_ACT_REVERSE,		/* a safe point: rollback or cancel takes effect */
	ENGINE_ACT_REBASE,		/* after a halt: accept what the operator changed */
	ENGINE_ACT_FINISH,		/* done, cancelled or rolled back */
};

/* One action, fully specified; it is also what the journal's intent holds. */
struct engine_action {
	enum engine_act_kind	 kind;
	char			 token[ENGINE_TOKEN_MAX];	/* "" for bookkeeping */
	char			 targets[ENGINE_NODES_MAX][ENGINE_ID_MAX];
	size_t			 ntargets;
	bool			 protect;		/* PROTECT */
	unsigned		 processes;		/* SUSPEND, RESUME */
	char			 changeset[ENGINE_TOKEN_MAX];	/* *_CHANGESET */
	char			 version[ENGINE_VERSION_MAX];	/* CREATE_CHANGESET */
	int			 min, max;		/* ClusterNodeMin, ClusterNodeMax */
	enum engine_purpose	 purpose;		/* DEREGISTER, NODE_FAILED */
	char			 activity[ENGINE_ACTIVITY_MAX];	/* TERMINATE resolved */
};

enum engine_stack_step {
	ENGINE_SC_IDLE,
	ENGINE_SC_CREATED,		/* change set created, not yet verified */
	ENGINE_SC_EXECUTING,		/* executed with our token */
};

/* The stack change in flight, if any. */
struct engine_stack_change {
	enum engine_stack_step	 step;
	char			 changeset[ENGINE_TOKEN_MAX];
	char			 token[ENGINE_TOKEN_MAX];	/* ExecuteChangeSet's */
	char			 version[ENGINE_VERSION_MAX];
	int			 min, max;
};

enum engine_halt {
	ENGINE_HALT_NONE,
	ENGINE_HALT_PREFLIGHT,		/* refusals: see the problem list */
	ENGINE_HALT_CHANGED,		/* the cluster changed between preflight and record */
	ENGINE_HALT_CREDENTIALS,	/* credentials or permissions */
	ENGINE_HALT_FOREIGN,		/* someone else changed the group */
	ENGINE_HALT_STACK_ROLLED_BACK,
	ENGINE_HALT_STACK_ROLLBACK_FAILED,	/* needs ContinueUpdateRollback */
	ENGINE_HALT_STACK_FAILED,
	ENGINE_HALT_STACK_TIMEOUT,
	ENGINE_HALT_STACK_BUSY,
	ENGINE_HALT_CHANGESET_REFUSED,	/* unexpected changes: see the difference */
	ENGINE_HALT_CHANGESET_FAILED,
	ENGINE_HALT_SCALE_IN_BLOCKED,
	ENGINE_HALT_NODE_ERROR,
	ENGINE_HALT_NODE_TIMEOUT,	/* a new node made no progress before its deadline */
	ENGINE_HALT_LAUNCH_FAILED,
	ENGINE_HALT_DRAIN_STUCK,
	ENGINE_HALT_TERMINATE_FAILED,
	ENGINE_HALT_PROTECTION,
	ENGINE_HALT_PROCESSES,
	ENGINE_HALT_ZDU_STATE,
	ENGINE_HALT_CAPACITY,
	ENGINE_HALT_END_STATE,		/* I6 not met */
	ENGINE_HALT_CALL_FAILED,	/* a call was refused for good */
	ENGINE_HALT_INVARIANT,		/* engine_guard() refused an action */
	ENGINE_HALT_INTERNAL,		/* our own bug: a state that cannot happen */
};

struct engine_upgrade {
	int64_t			 id;
	char			 deployment[ENGINE_NAME_MAX];
	char			 from[ENGINE_VERSION_MAX];	/* "" until record */
	char			 to[ENGINE_VERSION_MAX];
	int			 surge;				/* k */
	enum engine_on_failure	 on_failure;
	bool			 literal_order;	/* replace all N, then remove k */

	enum engine_mode	 mode;
	enum engine_phase	 phase;
	enum engine_state	 state;
	enum engine_halt	 halt;
	char			 reason[ENGINE_TEXT_MAX];	/* why it halted */
	uint32_t		 seq;		/* decisions applied: the step in tokens */

	/* Recorded at ENGINE_PH_RECORD. */
	int			 n;			/* original node count */
	int			 orig_min, orig_max, orig_desired;
	unsigned		 suspended_before;	/* not ours: leave them alone */
	unsigned		 suspended_by_us;
	unsigned		 resumed;		/* ours, resumed again */
	bool			 new_protected;	/* NewInstancesProtectedFromScaleIn */
	struct engine_node	 nodes[ENGINE_TRACKED_MAX];
	size_t			 nnodes;

	/* The group's counts as the upgrade left them, and before the last change. */
	int			 expect_min, expect_max, expect_desired;
	bool			 counts_settling;	/* just changed: AWS may lag */
	int			 prev_min, prev_max, prev_desired;

	struct engine_stack_change stack;
	bool			 intent_pending;	/* journal intent without outcome */
	struct engine_action	 intent;

	bool			 pause_requested;
	enum engine_mode	 reverse_requested;	/* FORWARD: none */
	bool			 rebase;		/* resumed after a halt */
	bool			 approved;		/* finalize done: no rollback */

	/* Two consecutive polls (behaviour 23): the state seen and the poll it was seen at. */
	bool			 seen_valid;
	enum zdu_cluster_state	 seen_state;
	uint64_t		 seen_poll;

	/* For the report. */
	int			 replaced, retired, drains_clean, drains_forced;
};

/*
 * How struct engine_upgrade maps onto schema/001_init.sql (names by the functions
 * engine_*_name() below, read back by engine_*_parse()):
 *
 *   upgrade	id, deployment, from_version (from, NULL while ""), to_version, surge,
 *		state (engine_state_name: the CHECK list), phase (engine_phase_name),
 *		reason, original_min/max/desired (orig_*); everything else in facts
 *		(JSON): mode, on_failure, literal_order, seq, halt, n, the process sets
 *		(as names), new_protected, expect_* / prev_* / counts_settling, stack,
 *		the open intent's parameters, pause_requested, reverse_requested, rebase,
 *		approved, seen_*, the counters. budget_ms stays the shell's.
 *   upgrade_node	one row per nodes[i], in index order: instance_id, private_ip,
 *		role, version, was_protected, state (engine_step_name), drain.
 *   journal	action (engine_act_name), target (targets joined by ","), token;
 *		outcome done (ENGINE_OUT_DONE), failed (FAILED), not_done (NOT_DONE,
 *		RETRY, CONFLICT); outcome_detail (the error, or the ActivityId).
 *
 * Proposed for a later migration (until then in the facts JSON): upgrade_node.ord
 * (the index, which replaces/replaced_by refer to), .purpose, .prot_req, .replaces,
 * .replaced_by (as instance ids), .retries, .activity_id, .reverse_born; and
 * journal.params (JSON: protect, processes, changeset, version, min, max, purpose),
 * so that an open intent can be sent again exactly after a restart.
 */

/* --- one observation ------------------------------------------------------- */

/* Which parts were read this time. A part not read is unknown, never empty. */
#define ENGINE_OBS_STACK	0x001u	/* DescribeStacks (and nested), FileServer */
#define ENGINE_OBS_EVENTS	0x002u	/* the terminal event of d.need_token */
#define ENGINE_OBS_CHANGESET	0x004u	/* DescribeChangeSet of d.need_changeset */
#define ENGINE_OBS_ASG		0x008u	/* the group, hooks, refreshes */
#define ENGINE_OBS_ACTIVITIES	0x010u	/* recent scaling activities */
#define ENGINE_OBS_EC2		0x020u	/* private IPs */
#define ENGINE_OBS_ELB		0x040u	/* DescribeInstanceHealth */
#define ENGINE_OBS_ZDU		0x080u	/* GET /rest/zdu/cluster */
#define ENGINE_OBS_CPU		0x100u	/* CloudWatch CPUUtilization */
#define ENGINE_OBS_ALARMS	0x200u	/* DescribeAlarms */
#define ENGINE_OBS_IDENTITY	0x400u	/* GetCallerIdentity and permission checks */

enum engine_stack_status {
	ENGINE_STACK_UNKNOWN,
	ENGINE_STACK_CREATE_COMPLETE,
	ENGINE_STACK_UPDATE_COMPLETE,
	ENGINE_STACK_UPDATE_ROLLBACK_COMPLETE,
	ENGINE_STACK_IN_PROGRESS,		/* any *_IN_PROGRESS but a rollback's */
	ENGINE_STACK_ROLLBACK_IN_PROGRESS,	/* UPDATE_ROLLBACK_*IN_PROGRESS */
	ENGINE_STACK_UPDATE_ROLLBACK_FAILED,
	ENGINE_STACK_UPDATE_FAILED,
	ENGINE_STACK_OTHER,			/* not a state to update from */
};

/* The stack-level terminal event carrying a given ClientRequestToken. */
enum engine_stack_event {
	ENGINE_EVENT_NONE,		/* not (yet) there */
	ENGINE_EVENT_COMPLETE,		/* UPDATE_COMPLETE */
	ENGINE_EVENT_ROLLED_BACK,	/* UPDATE_ROLLBACK_COMPLETE */
	ENGINE_EVENT_ROLLBACK_FAILED,	/* UPDATE_ROLLBACK_FAILED */
	ENGINE_EVENT_FAILED,		/* UPDATE_FAILED (rollback disabled) */
};

struct engine_obs_stack {
	enum engine_stack_status status;
	char			 status_name[48];
	char			 status_reason[ENGINE_TEXT_MAX];
	bool			 nested;		/* with-VPC: BitbucketDCStack */
	enum engine_stack_status nested_status;
	char			 nested_status_name[48];
	bool			 has_version, has_min, has_max;
	char			 version[ENGINE_VERSION_MAX];	/* BitbucketVersion */
	int			 min, max;		/* ClusterNodeMin, ClusterNodeMax */
	bool			 has_node_group;	/* ClusterNodeGroup found */
	bool			 standby;		/* DBMaster set: min = desired = 0 */
	bool			 role_arn;		/* the stack has a service role */
	char			 fileserver[ENGINE_ID_MAX];	/* "" if not identified */
	/* ENGINE_OBS_EVENTS: for event_token (= the d.need_token asked for). */
	char			 event_token[ENGINE_TOKEN_MAX];
	enum engine_stack_event	 event;
	char			 event_reasons[ENGINE_TEXT_MAX];	/* failed resources */
};

enum engine_cs_status {
	ENGINE_CS_ABSENT,		/* ChangeSetNotFound */
	ENGINE_CS_PENDING,		/* CREATE_PENDING, CREATE_IN_PROGRESS */
	ENGINE_CS_COMPLETE,		/* CREATE_COMPLETE */
	ENGINE_CS_FAILED,
	ENGINE_CS_DELETING,		/* DELETE_* */
};

enum engine_cs_exec {
	ENGINE_CSX_UNAVAILABLE,
	ENGINE_CSX_AVAILABLE,
	ENGINE_CSX_IN_PROGRESS,
	ENGINE_CSX_COMPLETE,
	ENGINE_CSX_FAILED,
	ENGINE_CSX_OBSOLETE,
};

enum engine_change_action {
	ENGINE_CHANGE_ADD,
	ENGINE_CHANGE_MODIFY,
	ENGINE_CHANGE_REMOVE,
	ENGINE_CHANGE_IMPORT,
	ENGINE_CHANGE_DYNAMIC,
	ENGINE_CHANGE_OTHER,
};

enum engine_replacement {
	ENGINE_REPLACE_FALSE,
	ENGINE_REPLACE_TRUE,
	ENGINE_REPLACE_CONDITIONAL,
	ENGINE_REPLACE_ABSENT,		/* not given (Add, Remove) */
};

/* A ResourceChange's Scope, as a set. */
#define ENGINE_SCOPE_PROPERTIES		0x01u
#define ENGINE_SCOPE_METADATA		0x02u
#define ENGINE_SCOPE_CREATION_POLICY	0x04u
#define ENGINE_SCOPE_UPDATE_POLICY	0x08u
#define ENGINE_SCOPE_DELETION_POLICY	0x10u
#define ENGINE_SCOPE_TAGS		0x20u
#define ENGINE_SCOPE_OTHER		0x40u

/* One ResourceChange. Nested change sets are listed flat, with parent set. */
struct engine_change {
	char			 logical_id[96];
	char			 resource_type[64];
	enum engine_change_action action;
	enum engine_replacement	 replacement;
	unsigned		 scope;
	char			 props[ENGINE_CHANGE_PROPS_MAX][48];	/* Target.Name */
	size_t			 nprops;
	bool			 props_truncated;
	int			 parent;	/* index of its nested stack's entry, or -1 */
	bool			 nested_listed;	/* a nested stack whose changes follow */
};

struct engine_obs_changeset {
	char			 name[ENGINE_TOKEN_MAX];	/* d.need_changeset */
	enum engine_cs_status	 status;
	enum engine_cs_exec	 exec;
	char			 status_reason[ENGINE_TEXT_MAX];
	struct engine_change	 changes[ENGINE_CHANGES_MAX];
	size_t			 nchanges;
	bool			 truncated;	/* more changes than fit */
};

enum engine_lifecycle {
	ENGINE_LC_PENDING,		/* Pending, Pending:Wait, Pending:Proceed */
	ENGINE_LC_IN_SERVICE,
	ENGINE_LC_TERMINATING,		/* Terminating, Terminating:Wait|Proceed */
	ENGINE_LC_TERMINATED,
	ENGINE_LC_STANDBY,		/* EnteringStandby, Standby */
	ENGINE_LC_DETACHING,		/* Detaching, Detached */
	ENGINE_LC_OTHER,
};

/* The Classic ELB's view of one instance (behaviour 16). */
enum engine_elb {
	ENGINE_ELB_UNKNOWN,
	ENGINE_ELB_IN_SERVICE,
	ENGINE_ELB_DRAINING,		/* InService, "deregistration currently in progress" */
	ENGINE_ELB_UNHEALTHY,		/* registered, OutOfService (new, or failing checks) */
	ENGINE_ELB_NOT_REGISTERED,	/* "not currently registered" */
};

struct engine_obs_instance {
	char			 id[ENGINE_ID_MAX];
	enum engine_lifecycle	 lifecycle;
	bool			 healthy;	/* HealthStatus */
	bool			 protected;	/* ProtectedFromScaleIn */
	char			 ip[ENGINE_IP_MAX];	/* EC2; "" unknown */
	enum engine_elb		 elb;			/* ELB */
	bool			 drain_timed_out;	/* deregistered >= draining timeout ago */
	bool			 has_cpu;		/* CPU */
	double			 cpu;
};

enum engine_activity {
	ENGINE_ACTIVITY_IN_PROGRESS,	/* any status but the three terminal ones */
	ENGINE_ACTIVITY_SUCCESSFUL,
	ENGINE_ACTIVITY_FAILED,
	ENGINE_ACTIVITY_CANCELLED,
};

struct engine_obs_activity {
	char			 id[ENGINE_ACTIVITY_MAX];
	char			 instance[ENGINE_ID_MAX];	/* "" if none named */
	bool			 terminate;		/* a termination, else a launch */
	enum engine_activity	 status;
	char			 message[256];		/* StatusMessage */
};

struct engine_obs_asg {
	int			 min, max, desired;
	bool			 health_check_ec2;	/* HealthCheckType */
	int			 lifecycle_hooks;
	bool			 instance_refresh;	/* one is active */
	unsigned		 suspended;		/* ENGINE_PROC_* */
	bool			 new_protected;		/* NewInstancesProtectedFromScaleIn */
	struct engine_obs_instance inst[ENGINE_NODES_MAX];
	size_t			 ninst;
	bool			 truncated;
	/* ENGINE_OBS_ACTIVITIES: the recent ones, newest first. */
	bool			 activity_in_progress;
	struct engine_obs_activity act[ENGINE_ACTIVITIES_MAX];
	size_t			 nact;
};

struct engine_obs_znode {
	char			 ip[ENGINE_IP_MAX];
	enum zdu_node_state	 state;
	char			 version[ENGINE_VERSION_MAX];	/* "" when null */
	int64_t			 tasks;		/* ZDU_NULL when null */
	int64_t			 users;		/* ZDU_NULL when null */
};

struct engine_obs_zdu {
	enum zdu_cluster_state	 state;
	char			 state_name[40];
	bool			 upgrade_mode;
	struct engine_obs_znode	 nodes[ENGINE_ZNODES_MAX];
	size_t			 nnodes;
	bool			 truncated;
	uint64_t		 poll;		/* the shell's count of /cluster reads */
};

struct engine_obs {
	unsigned		 have;		/* ENGINE_OBS_* read this time */
	struct engine_obs_stack	 stack;
	struct engine_obs_changeset cs;
	struct engine_obs_asg	 asg;
	struct engine_obs_zdu	 zdu;
	int			 alarms_in_alarm;	/* ENGINE_OBS_ALARMS */
	bool			 identity_ok;		/* ENGINE_OBS_IDENTITY */
	/* From the shell. */
	bool			 denied;	/* AccessDenied, 401, 403, expired credentials */
	char			 denied_what[256];
	bool			 transient;	/* throttled or 5xx: backing off */
	bool			 deadline_passed;	/* for the wait named below */
	char			 deadline_marker[ENGINE_MARKER_MAX];	/* "": any */
};

/* --- the decision ------------------------------------------------------------ */

enum engine_verdict {
	ENGINE_ACT,
	ENGINE_WAIT,
	ENGINE_HALT,
	ENGINE_DONE,
};

/* How an ACT relates to the journal. */
enum engine_resolve {
	ENGINE_RESOLVE_NONE,		/* a new action: guard, intent, call */
	ENGINE_RESOLVE_REISSUE,		/* the open intent, not performed: call again */
	ENGINE_RESOLVE_DONE,		/* the open intent happened: commit, no call */
	ENGINE_RESOLVE_NOT_DONE,	/* the open intent did not happen: commit, no call */
};

enum engine_wait {
	ENGINE_WAIT_NONE,
	ENGINE_WAIT_OBSERVE,		/* a part needed was not read */
	ENGINE_WAIT_BACKOFF,		/* throttling, 5xx: not a failure */
	ENGINE_WAIT_PAUSED,
	ENGINE_WAIT_INTENT,		/* resolving an open intent by observation */
	ENGINE_WAIT_ZDU,		/* a ZDU state */
	ENGINE_WAIT_CONFIRM,		/* the same state on the next poll */
	ENGINE_WAIT_PROTECTION,		/* scale-in protection to become visible */
	ENGINE_WAIT_PROCESSES,		/* suspended processes to become visible */
	ENGINE_WAIT_STACK_IDLE,		/* stack busy or a scaling activity running */
	ENGINE_WAIT_CHANGESET,
	ENGINE_WAIT_STACK_UPDATE,	/* our token's terminal event */
	ENGINE_WAIT_COUNTS,		/* the group to show the new counts */
	ENGINE_WAIT_LAUNCH,		/* new instances to appear */
	ENGINE_WAIT_NODE_READY,		/* healthy in the ELB and ACTIVE on the version */
	ENGINE_WAIT_SETTLE,		/* every node to report its version */
	ENGINE_WAIT_CAPACITY,		/* enough nodes serving to take one out */
	ENGINE_WAIT_DRAIN,
	ENGINE_WAIT_TERMINATION,
	ENGINE_WAIT_SCALE_IN,
	ENGINE_WAIT_STABLE,
	ENGINE_WAIT_VISIBLE,		/* an open intent's effect, shown with a lag */
};

struct engine_problem {
	char			 text[256];
};

struct engine_problems {
	size_t			 n;
	bool			 truncated;
	struct engine_problem	 p[ENGINE_PROBLEMS_MAX];
};

/* One node's facts, as RECORD and ADOPT carry them. */
struct engine_fact {
	char			 id[ENGINE_ID_MAX];
	char			 ip[ENGINE_IP_MAX];
	char			 version[ENGINE_VERSION_MAX];
	bool			 protected;
	int			 replaces;	/* ADOPT: the slot it fills, -1 */
};

struct engine_record {
	char			 from[ENGINE_VERSION_MAX];
	int			 n, min, max, desired;
	unsigned		 suspended;
	bool			 new_protected;
};

struct engine_decision {
	enum engine_verdict	 verdict;
	enum engine_phase	 phase;		/* the phase decided in */
	/* ENGINE_ACT */
	struct engine_action	 act;
	enum engine_resolve	 resolve;
	enum engine_phase	 next_phase;	/* PHASE */
	bool			 halt_after;	/* DELETE_CHANGESET of a refused change */
	enum engine_halt	 halt_code;	/* with halt_after */
	enum engine_drain	 drain;		/* DRAINED */
	enum engine_mode	 mode;		/* REVERSE */
	enum engine_state	 final;		/* FINISH */
	struct engine_record	 record;	/* RECORD */
	struct engine_fact	 facts[ENGINE_NODES_MAX];	/* RECORD, ADOPT */
	size_t			 nfacts;
	enum zdu_cluster_state	 seen_state;	/* SEEN */
	uint64_t		 seen_poll;
	/* ENGINE_WAIT */
	enum engine_wait	 wait;
	char			 progress[ENGINE_MARKER_MAX];
	/* ENGINE_HALT: also halt_code */
	struct engine_problems	 problems;
	/* What the next observation must read. */
	unsigned		 need;
	char			 need_token[ENGINE_TOKEN_MAX];
	char			 need_changeset[ENGINE_TOKEN_MAX];
	/* A sentence for the operator and the event log, for every verdict. */
	char			 message[2 * ENGINE_TEXT_MAX];
};

enum engine_out {
	ENGINE_OUT_DONE,		/* performed (or, resolving: it had happened) */
	ENGINE_OUT_NOT_DONE,		/* resolved: it had not happened */
	ENGINE_OUT_RETRY,		/* refused for now (throttling, activity in progress) */
	ENGINE_OUT_CONFLICT,		/* 409: the state moved; observe again */
	ENGINE_OUT_FAILED,		/* refused for good: halt */
};

struct engine_outcome {
	enum engine_out		 kind;
	char			 activity[ENGINE_ACTIVITY_MAX];	/* TERMINATE's ActivityId */
	char			 detail[ENGINE_TEXT_MAX];	/* the error, verbatim */
};

/* --- the functions ----------------------------------------------------------- */

/* A new upgrade in ENGINE_PH_PREFLIGHT. 0, or -1 if a value is out of range. */
int	engine_upgrade_init(struct engine_upgrade *, int64_t id, const char *deployment,
	    const char *to, int surge, enum engine_on_failure, bool literal_order);

enum engine_verdict engine_decide(const struct engine_upgrade *,
	    const struct engine_obs *, struct engine_decision *);

/*
 * Right before a call: ENGINE_ACT if I1-I5 hold for it, else ENGINE_HALT with d
 * rewritten into the halt (code ENGINE_HALT_INVARIANT, naming the invariant).
 */
enum engine_verdict engine_guard(const struct engine_upgrade *,
	    const struct engine_obs *, struct engine_decision *);

/* Records the journal intent of a call in u (before performing it). */
void	engine_intent(struct engine_upgrade *, const struct engine_decision *);
/* Advances u after an ACT's outcome or a HALT; outcome NULL means done. */
void	engine_apply(struct engine_upgrade *, const struct engine_decision *,
	    const struct engine_outcome *);
bool	engine_act_is_call(enum engine_act_kind);

struct engine_target {
	const char		*version;	/* <to> */
	int			 surge;		/* k */
};

/* Every refusal of step 1 and behaviour 15: 0 if none, else -1 with the list. */
int	engine_preflight(const struct engine_obs *, const struct engine_target *,
	    struct engine_problems *);

/*
 * The verification of a change set (behaviour 5): 0 if it changes only the group's
 * MinSize/MaxSize/DesiredCapacity and the launch configuration's or FileServer's
 * metadata, with no replacement, nested stacks included; else -1 with the difference.
 */
int	engine_changeset_ok(const struct engine_change *, size_t n, bool truncated,
	    struct engine_problems *);

/* Operator commands: pure functions on the persisted state. */
enum engine_cmd {
	ENGINE_CMD_ACCEPTED,
	ENGINE_CMD_ALREADY,		/* accepted, nothing to change (idempotent) */
	ENGINE_CMD_REFUSED,
};

enum engine_cmd engine_cmd_pause(struct engine_upgrade *, char *why, size_t len);
enum engine_cmd engine_cmd_resume(struct engine_upgrade *, char *why, size_t len);
enum engine_cmd engine_cmd_cancel(struct engine_upgrade *, char *why, size_t len);
enum engine_cmd engine_cmd_rollback(struct engine_upgrade *, char *why, size_t len);

/* The idempotency token of the action of that kind at step seq (I5). */
void	engine_token(const struct engine_upgrade *, enum engine_act_kind, char *buf,
	    size_t len);
bool	engine_token_valid(const char *);

/* Names as persisted (schema/001_init.sql) and shown; parsers for what is read back. */
const char *engine_phase_name(enum engine_phase);
int	engine_phase_parse(const char *, enum engine_phase *);
const char *engine_state_name(enum engine_state);
int	engine_state_parse(const char *, enum engine_state *);
const char *engine_mode_name(enum engine_mode);
int	engine_mode_parse(const char *, enum engine_mode *);
const char *engine_step_name(enum engine_step);
int	engine_step_parse(const char *, enum engine_step *);
const char *engine_role_name(enum engine_role);
int	engine_role_parse(const char *, enum engine_role *);
const char *engine_purpose_name(enum engine_purpose);
const char *engine_act_name(enum engine_act_kind);
int	engine_act_parse(const char *, enum engine_act_kind *);
const char *engine_halt_name(enum engine_halt);
const char *engine_wait_name(enum engine_wait);
const char *engine_process_name(unsigned proc);		/* one ENGINE_PROC_* bit */
unsigned engine_process_parse(const char *);		/* 0 if unknown */
void	engine_process_list(unsigned set, char *buf, size_t len);	/* names, spaced */
/* The shell's translations of AWS's strings. */
enum engine_stack_status engine_stack_status_parse(const char *);
enum engine_lifecycle engine_lifecycle_parse(const char *);
enum engine_elb engine_elb_parse(const char *state, const char *description);
enum engine_activity engine_activity_parse(const char *status_code);
enum engine_cs_status engine_cs_status_parse(const char *);
enum engine_cs_exec engine_cs_exec_parse(const char *);

#ifdef ENGINE_CORE_INTERNAL
/*
 * Shared by the core's own files (core*.c), not part of the interface: the context
 * of one decision and the helpers over the observation.
 */
struct engine_ctx {
	const struct engine_upgrade	*u;
	const struct engine_obs		*o;
	struct engine_decision		*d;
	const char			*want;	/* the version this mode moves to */
};

/* Results of a phase handler: a verdict was written into d, or the phase is over. */
#define ENGINE_DECIDED	1
#define ENGINE_NEXT	0

int	engine_act(struct engine_ctx *, enum engine_act_kind, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	engine_wait(struct engine_ctx *, enum engine_wait, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	engine_halt(struct engine_ctx *, enum engine_halt, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
bool	engine_deadline(const struct engine_ctx *);
int	engine_next_phase(struct engine_ctx *, enum engine_phase);
void	engine_add_target(struct engine_action *, const char *id);
void	engine_problem(struct engine_problems *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	engine_problems_join(const struct engine_problems *, char *buf, size_t len);
void	engine_strlcpy(char *dst, const char *src, size_t len);

const struct engine_obs_instance *engine_obs_inst(const struct engine_obs *,
	    const char *id);
const struct engine_obs_znode *engine_obs_znode(const struct engine_obs *,
	    const char *ip);
const struct engine_obs_activity *engine_obs_activity_id(const struct engine_obs *,
	    const char *id);
const struct engine_obs_activity *engine_obs_activity_for(const struct engine_obs *,
	    const char *instance);
const char *engine_node_ip(const struct engine_obs *, const struct engine_node *);
const struct engine_obs_znode *engine_node_z(const struct engine_obs *,
	    const struct engine_node *);
int	engine_node_index(const struct engine_upgrade *, const char *id);
bool	engine_in_group(const struct engine_obs_instance *);
bool	engine_serving(const struct engine_obs *, const struct engine_node *);
bool	engine_ready_on(const struct engine_obs *, const struct engine_node *,
	    const char *version);
int	engine_node_on(const struct engine_obs *, const struct engine_node *,
	    const char *version);
int	engine_serving_count(const struct engine_ctx *);
int	engine_out_of_service(const struct engine_upgrade *);
bool	engine_alive(const struct engine_node *);
bool	engine_termination_in_flight(const struct engine_ctx *, int except);
size_t	engine_least_busy(const struct engine_ctx *, int *idx, size_t n);
bool	engine_safe_point(const struct engine_upgrade *);
bool	engine_reversing(const struct engine_upgrade *);

int	engine_stack_change(struct engine_ctx *, const char *version, int min, int max,
	    bool removal);
int	engine_stack_failed(struct engine_ctx *);
int	engine_protection(struct engine_ctx *, const int *idx, size_t n, bool on,
	    const char *why);
int	engine_protection_ask(struct engine_ctx *, const int *idx, size_t n, bool on,
	    const char *why);
int	engine_settle(struct engine_ctx *);
bool	engine_stack_planned(const struct engine_ctx *);
int	engine_stack_as_planned(struct engine_ctx *);
void	engine_count_off(const struct engine_ctx *, int *off, int *excess);
int	engine_watch_group(struct engine_ctx *);
int	engine_rebase(struct engine_ctx *);
int	engine_phase_setup(struct engine_ctx *);
int	engine_phase_preflight(struct engine_ctx *);
int	engine_phase_record(struct engine_ctx *);
int	engine_phase_surge(struct engine_ctx *);
int	engine_phase_replace(struct engine_ctx *);
int	engine_progress_victims(struct engine_ctx *);
int	engine_node_failure(struct engine_ctx *, int idx, enum engine_halt,
	    const char *what);
int	engine_phase_retire(struct engine_ctx *);
bool	engine_removal_committed(const struct engine_upgrade *);
int	engine_phase_finalize(struct engine_ctx *);
int	engine_phase_stabilize(struct engine_ctx *);
int	engine_phase_restore(struct engine_ctx *);
int	engine_resolve_intent(struct engine_ctx *);
void	engine_apply_call(struct engine_upgrade *, const struct engine_decision *,
	    const char *activity);
void	engine_apply_local(struct engine_upgrade *, const struct engine_decision *);
#endif

#endif
