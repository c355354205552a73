/*
 * The model behind bbsim: a simulated AWS region (the Quick Start's CloudFormation
 * stack, its ClusterNodeGroup, EC2 instances, the NFS FileServer, the Classic ELB)
 * and the Bitbucket cluster on it, with user traffic, faults, a history and the
 * invariant report of DESIGN.md section 3.
 *
 * No I/O, no clock: time is virtual, in milliseconds since the scenario began, and
 * is passed in. Every call that takes `now` first runs every transition scheduled up
 * to then (sim_model_advance), in time order, deterministically for a given seed.
 * The server (sim/server.c and friends) turns each AWS action or Bitbucket endpoint
 * into one call here and renders what it returns; errors come back in a struct
 * sim_err with the HTTP status, AWS code and the exact message AWS would send.
 *
 * Objects are reached through the public structs below. Instances, activities and
 * change sets are allocated one by one and never freed before sim_model_free(), so a
 * pointer to one stays valid for the model's life. Times are virtual milliseconds;
 * sim_time_format() renders them as AWS timestamps from params.epoch. A struct
 * sim_err argument must not be NULL.
 *
 * A handler per action, in short (every one first calls sim_api_call):
 *   DescribeStacks            sim_stack_find; sim_stack_status_shown; params (NoEcho
 *                             as "****"), out[], reason
 *   DescribeStackEvents       st->ev[] from the last (newest first)
 *   DescribeStackResource(s)  sim_stack_resource / st->res[]
 *   Create/Describe/Execute/DeleteChangeSet, UpdateStack   sim_changeset_*, sim_stack_update
 *   DescribeAutoScalingGroups m->asg; instances: sim_asg_listed, sim_asg_life_shown,
 *                             sim_asg_prot_shown, inst->unhealthy, inst->lc_name
 *   DescribeScalingActivities m->asg.act[] from the last; sim_activity_status_name
 *   TerminateInstanceInAutoScalingGroup, SetInstanceProtection, Suspend/ResumeProcesses
 *                             sim_asg_terminate, sim_asg_set_protection, sim_asg_suspend/resume
 *   DescribeInstances         m->inst[], sim_ec2_tags, sim_ec2_state_code/name
 *   TerminateInstances        sim_ec2_terminate
 *   DescribeInstanceHealth    sim_elb_health for each registered instance (or those named)
 *   (De)RegisterInstances...  sim_elb_deregister, sim_elb_register
 *   GetMetricStatistics, GetMetricData   sim_cpu_window (per minute, any window)
 *   DescribeAlarms            sim_alarms_update, then m->alarms.a[]
 *   CancelUpdateStack         sim_stack_cancel_update
 *   DescribeLifecycleHooks, DescribeInstanceRefreshes   m->p.lifecycle_hooks, m->asg.refresh
 *   /rest/zdu/cluster|state   sim_zdu_state, sim_zdu_nodes (the answering node: sim_elb_pick)
 *   /rest/zdu/start|cancel|approve|retryUpgrade   sim_zdu_start, ... (409: empty body)
 *   /status                   sim_node_status (through the LB: sim_elb_pick first)
 *   bbsim's own report        sim_report, sim_api_counts, sim_critical_path, m->traffic
 */
#ifndef BB_SIM_MODEL_H
#define BB_SIM_MODEL_H

#include <stddef.h>
#include <stdint.h>

#define SIM_VERSION_MAX		24
#define SIM_ID_MAX		48
#define SIM_NAME_MAX		128
#define SIM_ARN_MAX		256
#define SIM_MSG_MAX		512
#define SIM_TOKEN_MAX		129	/* ClientRequestToken: 128 characters + NUL */
#define SIM_NEVER		INT64_MAX

/* ---- errors ---- */

/* What a failed call answers: HTTP status, AWS error code ("" for Bitbucket), text. */
struct sim_err {
	int	 status;
	char	 code[64];
	char	 message[SIM_MSG_MAX];
};

/* ---- parameters (sim/params.c, sim/scenario.c) ---- */

enum sim_fault {
	SIM_FAULT_NEVER,
	SIM_FAULT_ONCE,		/* the first eligible occasion only */
	SIM_FAULT_ALWAYS,
	SIM_FAULT_RANDOM,	/* each occasion with the fault's probability */
};

/* A class of user requests: its share of the traffic and its duration range. */
struct sim_req_class {
	double		 share;
	int64_t		 min_ms;
	int64_t		 max_ms;
};
#define SIM_REQ_CLASSES	3	/* short, medium, long (longer than draining) */

struct sim_params {
	uint64_t	 seed;
	int64_t		 epoch;		/* Unix seconds of virtual time 0 */
#define SIM_EPOCH_PINNED	1735689600	/* 2025-01-01T00:00:00Z: repeatable tests */
	/* the deployment */
	int		 nodes;		/* N: ClusterNodeMin = Max = desired at start */
	char		 version[SIM_VERSION_MAX];	/* what every node runs at start */
	char		 stack_name[64];
	char		 region[32];
	char		 account[16];
	int		 nested;	/* with-VPC layout: product stack nested as BitbucketDCStack */
	int		 surge;		/* k, for the invariant report (I2) and the bound */
	int		 new_instances_protected;
	unsigned	 suspended;	/* processes already suspended at start (bit per enum sim_process) */
	int		 lc_create_allowed;	/* account created before 2024-10-01 */
	char		 role_arn[SIM_ARN_MAX];	/* the stack's service role, "" for none */
	/* what the daemon's preflight refuses (aws-behaviours.md 15); none by default */
	int		 standby;	/* original nodes in Standby at start */
	unsigned	 lifecycle_hooks;	/* SIM_HOOK_* */
	int		 instance_refresh;	/* one in progress at start */
	int		 health_check_elb;	/* HealthCheckType ELB, not EC2 */
	int64_t		 health_check_grace;	/* HealthCheckGracePeriod, ms */
	char		 db_master[160];	/* DBMaster: standby mode when set */
	/* timings, virtual ms */
	int64_t		 ec2_pending;	/* launch -> running */
	int64_t		 node_boot;	/* launch -> Bitbucket ACTIVE */
	int64_t		 ec2_shutdown;	/* shutting-down -> terminated (Bitbucket stops ~30 s) */
	int64_t		 health_interval;
	int		 healthy_threshold;
	int		 unhealthy_threshold;
	int64_t		 drain_timeout;
	int64_t		 stack_update;	/* an update that waits for nothing */
	int64_t		 changeset_create;
	int64_t		 asg_health_check;	/* until the group notices a killed member */
	int64_t		 consistency_lag;	/* Auto Scaling reads lag writes by this */
	int64_t		 stack_status_lag;	/* DescribeStacks shows the old status this long */
	int64_t		 finalize;	/* approve -> STABLE (0: at once) */
	int64_t		 unreachable;	/* how long a node blip lasts (null state/version) */
	int64_t		 blip_every;	/* mean time between node blips; 0: never */
	/* user traffic */
	double		 rate;		/* requests per second through the ELB; 0: none */
	int		 users;		/* distinct users, for activeUserCount */
	int64_t		 user_window;	/* activeUserCount counts users seen in this window */
	struct sim_req_class req[SIM_REQ_CLASSES];
	/* faults */
	enum sim_fault	 node_error;	/* a new node fails to start (ERROR) */
	double		 node_error_p;
	enum sim_fault	 node_stuck;	/* a new node stays STARTING */
	double		 node_stuck_p;
	char		 fault_version[SIM_VERSION_MAX];	/* "" = faults hit any new node */
	enum sim_fault	 stack_refuse;	/* updates touching the LC fail (LC refusal text) */
	enum sim_fault	 rollback_fail;	/* a rollback ends UPDATE_ROLLBACK_FAILED */
	enum sim_fault	 launch_fail;	/* a launch fails: InsufficientInstanceCapacity */
	double		 fault_p;	/* RANDOM's probability for the three above */
	int		 nested_drift;	/* nested template changed at its URL */
	int		 finalize_fail;	/* approve ends UPGRADE_TASKS_FAILED */
	double		 cpu_load;	/* the members' CPU times this (1: normal) */
	/* API throttling: token bucket per service */
	int		 throttle;
	double		 bucket;	/* capacity */
	double		 refill;	/* tokens per second */
};

/* The fast profile: a 4-node 7.9.0 cluster whose upgrade takes about a minute. */
void	sim_params_defaults(struct sim_params *);
/* AWS's magnitudes: boots of minutes, 60 s health checks, 300 s draining. */
void	sim_params_realistic(struct sim_params *);
/* 0 if the parameters make sense together; else -1 and why. */
int	sim_params_check(const struct sim_params *, char *why, size_t whylen);

/* ---- the model ---- */

struct sim_model;

/*
 * A model at virtual time 0: the stack CREATE_COMPLETE, the group at N InService
 * instances, each healthy in the ELB and ACTIVE in Bitbucket on params.version, the
 * FileServer, ZDU STABLE. NULL (and why) if the parameters are invalid.
 */
struct sim_model *sim_model_new(const struct sim_params *, char *why, size_t whylen);
void	sim_model_free(struct sim_model *);
/* Runs every scheduled transition up to now, in order. Time never goes back. */
void	sim_model_advance(struct sim_model *, int64_t now);
/* When the next transition is due (SIM_NEVER if none): a server may sleep until then. */
int64_t	sim_model_next_event(const struct sim_model *);
/* Virtual time as AWS writes it: "2025-01-01T00:00:05Z"; with_ms adds ".123". */
char	*sim_time_format(const struct sim_model *, int64_t t, int with_ms,
	    char *buf, size_t len);

/* ---- EC2 (sim/ec2.c) ---- */

enum sim_ec2_state {
	SIM_EC2_PENDING,
	SIM_EC2_RUNNING,
	SIM_EC2_SHUTTING_DOWN,
	SIM_EC2_TERMINATED,
};

/* Auto Scaling's LifecycleState of a member (SIM_LC_NONE: not in the group). */
enum sim_lifecycle {
	SIM_LC_NONE,
	SIM_LC_PENDING,
	SIM_LC_IN_SERVICE,
	SIM_LC_TERMINATING,
	SIM_LC_TERMINATED,
	SIM_LC_STANDBY,		/* out of the ELB, not counted in desired */
};

/* The instance's place in the Classic ELB. */
struct sim_elb_member {
	int		 registered;	/* listed by the ELB (draining included) */
	int		 in_service;	/* the health checks' verdict */
	int		 failed;	/* failed unhealthy_threshold checks since InService */
	int		 ok_run;	/* consecutive passed checks */
	int		 fail_run;	/* consecutive failed checks */
	int		 draining;
	int64_t		 drain_deadline;
	uint32_t	 epoch;		/* bumps on (de)registration: stale timers ignore */
};

enum sim_node_state {
	SIM_NODE_NONE,		/* no Bitbucket process */
	SIM_NODE_STARTING,
	SIM_NODE_ACTIVE,
	SIM_NODE_DRAINING,	/* in Bitbucket's vocabulary; the model never enters it */
	SIM_NODE_TERMINATING,
	SIM_NODE_OFFLINE,	/* only in snapshot entries (struct sim_zdu) */
	SIM_NODE_ERROR,
};

/* The Bitbucket node on an instance (same life, keyed by the instance's IP). */
struct sim_node {
	enum sim_node_state state;
	char		 id[16];
	char		 name[40];
	char		 version[SIM_VERSION_MAX];
	int		 fails;		/* fault drawn at launch: will go ERROR */
	int		 stuck;		/* fault drawn at launch: stays STARTING */
	int64_t		 unreachable_until;
	int		 window_users;	/* requests started in the current user window */
	int		 last_window_users;
	int64_t		 window_start;
};

struct sim_instance {
	int		 idx;		/* position in model->inst */
	char		 id[24];	/* i- and 17 hex digits */
	char		 ip[16];	/* 10.0.x.y, never reused */
	char		 az[40];
	char		 type[16];
	int64_t		 launch_time;
	int64_t		 running_at;	/* entered running (SIM_NEVER: not yet) */
	int64_t		 stopped_at;	/* left it (SIM_NEVER: not yet) */
	enum sim_ec2_state state;
	int64_t		 state_time;
	char		 state_reason[96];	/* stateReason message, "" if none */
	int		 file_server;
	int		 member;	/* launched by ClusterNodeGroup */
	char		 lc_name[SIM_NAME_MAX];	/* the group's LC when launched */
	/* Auto Scaling: actual values, and the previous ones shown during the lag */
	enum sim_lifecycle life, life_prev;
	int64_t		 life_time;
	int		 unhealthy;
	int		 unhealthy_elb;	/* by the ELB health check, not EC2's */
	int		 elb_notice;	/* an ELB health verdict on its way to the group */
	int		 prot, prot_prev;
	int64_t		 prot_time;
	int		 term_requested;	/* a termination was asked for by an API call */
	struct sim_elb_member elb;
	struct sim_node	 node;
	int		 inflight;	/* user requests in progress (tasksTotal) */
};

struct sim_tag {
	const char	*key;
	char		 value[SIM_ARN_MAX];
};
#define SIM_TAGS_MAX	8

/* What TerminateInstances answers for each instance. */
struct sim_ec2_change {
	struct sim_instance *inst;
	enum sim_ec2_state prev, cur;
};

const char *sim_ec2_state_name(enum sim_ec2_state);	/* "pending", ... */
int	sim_ec2_state_code(enum sim_ec2_state);		/* 0, 16, 32, 48 */
struct sim_instance *sim_ec2_find(struct sim_model *, const char *id);
/* EC2's own syntax check of an instance id: "i-" and 8 or 17 lower-case hex digits. */
int	sim_ec2_id_valid(const char *id);
/* The live instance with that private IP, else the last one that had it, else NULL. */
struct sim_instance *sim_ec2_find_ip(struct sim_model *, const char *ip);
/* Tags as DescribeInstances shows them (quickstart-stack.md); returns their count. */
size_t	sim_ec2_tags(const struct sim_model *, const struct sim_instance *,
	    struct sim_tag *out, size_t max);
/*
 * EC2 TerminateInstances: kills at once (in-flight requests fail); a group member
 * is replaced once the group's health check notices. One unknown or malformed id
 * fails the whole call. out has room for n entries.
 */
int	sim_ec2_terminate(struct sim_model *, const char *const *ids, size_t n,
	    int64_t now, struct sim_ec2_change *out, struct sim_err *);
int	sim_ec2_terminate_by(struct sim_model *, const char *const *ids, size_t n,
	    int64_t now, const char *who, struct sim_ec2_change *, struct sim_err *);

/* ---- Auto Scaling (sim/asg.c, sim/asg_activity.c, sim/asg_policy.c) ---- */

enum sim_process {
	SIM_PROC_LAUNCH,
	SIM_PROC_TERMINATE,
	SIM_PROC_HEALTH_CHECK,
	SIM_PROC_REPLACE_UNHEALTHY,
	SIM_PROC_AZ_REBALANCE,
	SIM_PROC_ALARM_NOTIFICATION,
	SIM_PROC_SCHEDULED_ACTIONS,
	SIM_PROC_ADD_TO_LOAD_BALANCER,
	SIM_PROC_INSTANCE_REFRESH,
	SIM_NPROC
};

enum sim_activity_status {
	SIM_ACT_PRE_IN_SERVICE,
	SIM_ACT_IN_PROGRESS,
	SIM_ACT_WAITING_FOR_ELB_DRAINING,
	SIM_ACT_SUCCESSFUL,
	SIM_ACT_FAILED,
	SIM_ACT_CANCELLED,
};

struct sim_activity {
	char		 id[40];
	int		 launch;	/* else a termination */
	struct sim_instance *inst;	/* NULL for a launch that failed */
	enum sim_activity_status status;
	int64_t		 start;
	int64_t		 end;		/* SIM_NEVER while in progress */
	int		 progress;	/* 0..100 */
	char		 description[SIM_MSG_MAX + 64];
	char		 cause[SIM_MSG_MAX];
	char		 status_message[SIM_MSG_MAX];
};

/* Lifecycle hooks the group may have (the Quick Start's has none). */
enum {
	SIM_HOOK_LAUNCHING = 1,
	SIM_HOOK_TERMINATING = 2,
	SIM_HOOK_ALL = 3,
};

/* An instance refresh: only ever listed, it replaces nothing. */
struct sim_refresh {
	char		 id[40];	/* "" if there never was one */
	int64_t		 start;
	int64_t		 end;		/* SIM_NEVER while InProgress */
	int		 instances;	/* InstancesToUpdate */
};

struct sim_asg {
	char		 name[SIM_NAME_MAX];
	char		 arn[SIM_ARN_MAX];
	char		 lc_name[SIM_NAME_MAX];
	char		 lc_version[SIM_VERSION_MAX];	/* BitbucketVersion in the LC metadata */
	int		 min, max, desired;
	int		 new_protected;
	unsigned	 suspended;	/* bit per enum sim_process */
	int64_t		 suspended_at[SIM_NPROC];
	int64_t		 created;
	struct sim_activity **act;	/* oldest first */
	size_t		 nact, actcap;
	int		 desired_from;	/* the last capacity change: from */
	int64_t		 desired_at;	/* and when (SIM_NEVER: none) */
	int		 desired_alarm;	/* the alarm whose policy made it, -1: a user */
	int		 reconcile_pending;
	int		 prestate;	/* the scenario's Standby, refresh: 1 scheduled, 2 done */
	struct sim_refresh refresh;	/* the latest instance refresh */
	unsigned	 nrefresh;	/* refreshes started */
};

const char *sim_process_name(enum sim_process);
int	sim_process_lookup(const char *name);		/* -1 if unknown */
const char *sim_activity_status_name(enum sim_activity_status);
/* LifecycleState / ProtectedFromScaleIn as Describe* shows them (eventual consistency). */
enum sim_lifecycle sim_asg_life_shown(const struct sim_model *, const struct sim_instance *,
	    int64_t now);
const char *sim_lifecycle_name(enum sim_lifecycle);
int	sim_asg_prot_shown(const struct sim_model *, const struct sim_instance *, int64_t now);
/* Whether DescribeAutoScalingGroups lists the instance now. */
int	sim_asg_listed(const struct sim_model *, const struct sim_instance *, int64_t now);
/* The activity that makes mutating calls fail with ScalingActivityInProgress, or NULL. */
struct sim_activity *sim_asg_busy(const struct sim_model *);
struct sim_activity *sim_asg_activity_find(const struct sim_model *, const char *id);
/* True while desired < members but every candidate is protected from scale-in. */
int	sim_asg_scale_in_blocked(const struct sim_model *);
/* TerminateInstanceInAutoScalingGroup. *act: the activity (on success). */
int	sim_asg_terminate(struct sim_model *, const char *id, int decrement, int64_t now,
	    struct sim_activity **act, struct sim_err *);
/* "launching"/"terminating" -> SIM_HOOK_*, 0 if unknown; the hook's transition. */
unsigned sim_hook_lookup(const char *name);
const char *sim_hook_name(unsigned hook);
const char *sim_hook_transition(unsigned hook);
/*
 * Enter (or leave) Standby, as EnterStandby without decrementing desired (the group
 * launches a replacement) and ExitStandby (desired + 1). The check alone first: 0,
 * or -1 with why; then the change, which cannot fail.
 */
int	sim_asg_standby_check(const struct sim_model *, const struct sim_instance *,
	    int enter, struct sim_err *);
void	sim_asg_standby(struct sim_model *, struct sim_instance *, int enter);
/* Starts an instance refresh (listed InProgress) or cancels the one in progress. */
void	sim_asg_set_refresh(struct sim_model *, int active);
void	sim_asg_set_new_protected(struct sim_model *, int protect);
/* SetInstanceProtection: all or nothing. */
int	sim_asg_set_protection(struct sim_model *, const char *const *ids, size_t n,
	    int protect, int64_t now, struct sim_err *);
/* Suspend/ResumeProcesses; n == 0 means every process. */
int	sim_asg_suspend(struct sim_model *, const char *const *names, size_t n, int64_t now,
	    struct sim_err *);
int	sim_asg_resume(struct sim_model *, const char *const *names, size_t n, int64_t now,
	    struct sim_err *);

/* ---- CloudWatch: CPU history (sim/cpu_history.c) and the alarms (sim/alarms.c) ---- */

#define SIM_MINUTE	(60 * 1000LL)

/*
 * CPUUtilization samples: one a minute for each group member while it runs (detailed
 * monitoring, the launch configuration's default), one every five for the
 * FileServer; a sample is published once its minute is over. Each is a seeded
 * function of (seed, instance, minute) times the load in force when that minute
 * began, so nothing is stored and any window can be answered at any time.
 */
struct sim_cpu_stats {
	long		 n;		/* SampleCount */
	double		 sum, min, max;
	double		*v;		/* if not NULL: the samples, the first vmax */
	size_t		 vmax;
};

/* Samples of in (NULL: every group member) starting in [from, to), published by now. */
void	sim_cpu_window(const struct sim_model *, const struct sim_instance *,
	    int64_t from, int64_t to, int64_t now, struct sim_cpu_stats *);
/* The start of the CloudWatch minute (a UTC minute) that holds t. */
int64_t	sim_cpu_minute(const struct sim_model *, int64_t t);
/* The start of the period of g ms, counted from UTC's midnight, that holds t. */
int64_t	sim_cpu_grid_floor(const struct sim_model *, int64_t t, int64_t g);
/* The load multiplier in force at t. */
double	sim_cpu_load(const struct sim_model *, int64_t t);
/* A new load from now on (a fault): "normal" 1, "high" 1.5, "low" 0.5, or 0..10. */
void	sim_cpu_set_load(struct sim_model *, double load);
int	sim_cpu_load_parse(const char *, double *);

enum sim_alarm_state {
	SIM_ALARM_OK,
	SIM_ALARM_ALARM,
	SIM_ALARM_INSUFFICIENT_DATA,
};

/* The template's two alarms on the group's average CPU, and the policies they run. */
enum { SIM_ALARM_HIGH, SIM_ALARM_LOW, SIM_NALARMS };

struct sim_alarm_def {
	const char	*logical;	/* "CPUAlarmHigh" */
	const char	*description;
	const char	*op;		/* ComparisonOperator */
	const char	*policy;	/* the scaling policy's logical id */
	double		 threshold;
	int		 periods;	/* of 60 s, all of them breaching */
	int		 adjust;	/* the policy's ScalingAdjustment */
	const char	*relation;	/* "greater", "less": for StateReason */
};
#define SIM_ALARM_COOLDOWN	(600 * 1000LL)	/* both policies' Cooldown */
#define SIM_ALARM_RECENT	5

extern const struct sim_alarm_def sim_alarm_defs[SIM_NALARMS];

struct sim_alarm {
	enum sim_alarm_state state;
	int64_t		 transitioned;	/* the last change of state */
	char		 reason[SIM_MSG_MAX];
	int		 run;		/* consecutive breaching datapoints */
	int		 missing;	/* consecutive minutes without one */
};

#define SIM_CPU_SEGS	64

struct sim_alarms {
	struct sim_alarm a[SIM_NALARMS];
	int64_t		 next_eval;	/* the next minute boundary to evaluate */
	int64_t		 tick_at;	/* the evaluation scheduled (SIM_NEVER: none) */
	int64_t		 cooldown_until;
	double		 recent[SIM_ALARM_RECENT];	/* group averages, newest first */
	int64_t		 recent_t[SIM_ALARM_RECENT];
	size_t		 nrecent;
	struct {
		int64_t	 from;
		double	 load;
	}		 seg[SIM_CPU_SEGS];	/* the load over time, oldest first */
	size_t		 nseg;
};

const char *sim_alarm_state_name(enum sim_alarm_state);
/* The alarm's and its policy's names, as CloudFormation named them. */
void	sim_alarm_name(const struct sim_model *, int alarm, char *buf, size_t len);
void	sim_alarm_policy_name(const struct sim_model *, int alarm, char *buf,
	    size_t len);
/* Evaluates the alarms up to now (DescribeAlarms reads m->alarms afterwards). */
void	sim_alarms_update(struct sim_model *, int64_t now);

/* ---- Classic ELB (sim/elb.c) ---- */

struct sim_elb {
	char		 name[33];
	char		 dns[SIM_NAME_MAX];
	int64_t		 created;
};

/* One row of DescribeInstanceHealth. */
struct sim_elb_health {
	const char	*state;		/* "InService", "OutOfService" */
	const char	*reason_code;	/* "N/A", "Instance", "ELB" */
	const char	*description;
};

/*
 * The instance a request through the load balancer reaches (round robin over those
 * it has in service, draining excluded), or NULL: the ELB answers 503 itself. It
 * may be a node that died since its last health check: then nothing answers.
 */
struct sim_instance *sim_elb_pick(struct sim_model *);
/* DescribeInstanceHealth for one instance (registered or not). */
void	sim_elb_health(const struct sim_model *, const struct sim_instance *,
	    struct sim_elb_health *);
/* Deregister: draining starts; the answer lists instances still registered. */
int	sim_elb_deregister(struct sim_model *, const char *const *ids, size_t n,
	    int64_t now, struct sim_err *);
int	sim_elb_register(struct sim_model *, const char *const *ids, size_t n,
	    int64_t now, struct sim_err *);

/* ---- Bitbucket nodes and the ZDU cluster (sim/nodes.c, sim/zdu.c) ---- */

enum sim_zdu_state {
	SIM_ZDU_STABLE,
	SIM_ZDU_READY_TO_UPGRADE,
	SIM_ZDU_MIXED,
	SIM_ZDU_READY_TO_RUN_UPGRADE_TASKS,
	SIM_ZDU_RUNNING_UPGRADE_TASKS,
	SIM_ZDU_UPGRADE_TASKS_FAILED,
};

/* A node as upgrade mode remembers it (to list it OFFLINE once it has gone). */
struct sim_snap {
	char		 id[16];
	char		 name[40];
	char		 ip[16];
};

struct sim_zdu {
	int		 upgrade_mode;
	char		 original_version[SIM_VERSION_MAX];	/* "" when none */
	struct sim_snap	*snap;
	size_t		 nsnap;
	int		 finalizing;	/* finalization tasks running */
	int64_t		 finalize_end;
	int		 tasks_failed;
	int		 fail_used;	/* finalize_fail happens once */
};

/* One entry of /rest/zdu/cluster. NULL strings are JSON null. */
struct sim_node_view {
	const char	*id;
	const char	*name;
	const char	*ip;
	const char	*state;
	const char	*version;
	int		 has_counts;	/* tasksTotal/activeUserCount known */
	int		 tasks;
	int		 users;
	char		 build[16];	/* "" when unknown */
	int		 port;
	struct sim_instance *inst;	/* NULL for an OFFLINE snapshot entry */
};

const char *sim_node_state_name(enum sim_node_state);
const char *sim_zdu_state_name(enum sim_zdu_state);
/* The cluster state by the six rules of bitbucket-zdu.md. */
enum sim_zdu_state sim_zdu_state(const struct sim_model *);
/* Every node to list, sorted by name then IP; returns the count (may exceed max). */
size_t	sim_zdu_nodes(struct sim_model *, int64_t now, struct sim_node_view *out,
	    size_t max);
/* Guards as Bitbucket's: -1 with err->status 409 (empty body) when illegal. */
int	sim_zdu_start(struct sim_model *, int64_t now, struct sim_err *);
int	sim_zdu_cancel(struct sim_model *, int64_t now, struct sim_err *);
int	sim_zdu_approve(struct sim_model *, int64_t now, struct sim_err *);
int	sim_zdu_retry(struct sim_model *, int64_t now, struct sim_err *);
/* GET /status on one node: 0 with the HTTP status and state, -1 if it does not answer. */
int	sim_node_status(struct sim_model *, const struct sim_instance *, int64_t now,
	    int *http, const char **state);
/* Fault: the node cannot be reached for params.unreachable. */
void	sim_node_blip(struct sim_model *, struct sim_instance *, int64_t now);
/* "7.9.4" -> "7009004" */
void	sim_node_build_number(const char *version, char *buf, size_t len);

/* ---- CloudFormation (sim/stack.c, sim/stack_update.c, sim/changeset.c) ---- */

enum sim_stack_status {
	SIM_CREATE_COMPLETE,
	SIM_UPDATE_IN_PROGRESS,
	SIM_UPDATE_COMPLETE_CLEANUP_IN_PROGRESS,
	SIM_UPDATE_COMPLETE,
	SIM_UPDATE_ROLLBACK_IN_PROGRESS,
	SIM_UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS,
	SIM_UPDATE_ROLLBACK_COMPLETE,
	SIM_UPDATE_ROLLBACK_FAILED,
};

struct sim_param {
	char		 key[48];
	char		 value[160];
	int		 no_echo;	/* DescribeStacks shows "****" */
};
#define SIM_PARAMS_MAX	24

/* A parameter as an update or change set passes it. */
struct sim_param_in {
	const char	*key;
	const char	*value;		/* NULL with use_previous */
	int		 use_previous;
};

struct sim_stack_event {
	char		 event_id[SIM_ID_MAX];
	char		 logical_id[64];
	char		 physical_id[SIM_ARN_MAX];
	char		 type[48];
	int64_t		 time;
	char		 status[48];
	char		 reason[SIM_MSG_MAX];
	char		 token[SIM_TOKEN_MAX];
};

struct sim_stack_resource {
	char		 logical_id[64];
	char		 physical_id[SIM_ARN_MAX];
	char		 type[48];
	char		 status[48];
	int64_t		 updated;
};
#define SIM_RESOURCES_MAX	16

struct sim_output {
	const char	*key;
	char		 value[SIM_ARN_MAX];
	const char	*description;
};

struct sim_stack_op;	/* an update in progress (sim/stack_update.c) */

struct sim_stack {
	int		 idx;		/* position in model->stack */
	char		 name[SIM_NAME_MAX];
	char		 id[SIM_ARN_MAX];
	struct sim_stack *parent;	/* NULL for a root stack */
	struct sim_stack *child;	/* the nested product stack, or NULL */
	enum sim_stack_status status;
	enum sim_stack_status status_prev;	/* shown until status_shown_at */
	int64_t		 status_shown_at;
	char		 reason[SIM_MSG_MAX];
	int64_t		 created;
	int64_t		 updated;	/* SIM_NEVER: never updated */
	struct sim_param params[SIM_PARAMS_MAX];
	size_t		 nparams;
	struct sim_stack_resource res[SIM_RESOURCES_MAX];
	size_t		 nres;
	struct sim_output out[4];
	size_t		 nout;
	struct sim_stack_event *ev;	/* oldest first; DescribeStackEvents reads backwards */
	size_t		 nev, evcap;
	struct sim_stack_op *op;	/* root stacks only; NULL when idle */
};

/* One detail of a resource change (what made it change). */
struct sim_change_detail {
	const char	*attribute;	/* "Properties", "Metadata" */
	const char	*name;		/* "MinSize", ... (NULL for Metadata) */
	const char	*recreation;	/* "Never", "Always", "Conditionally" */
	const char	*causing;	/* the parameter, or NULL */
};
#define SIM_DETAILS_MAX	4

struct sim_change {
	const char	*action;	/* "Modify" */
	const char	*logical_id;
	char		 physical_id[SIM_ARN_MAX];
	const char	*type;
	const char	*replacement;	/* "False", "True", "Conditional" */
	const char	*scope[2];	/* NULL-terminated when shorter */
	struct sim_change_detail detail[SIM_DETAILS_MAX];
	size_t		 ndetail;
	struct sim_changeset *nested;	/* for an AWS::CloudFormation::Stack change */
};
#define SIM_CHANGES_MAX	8

enum sim_cs_status {
	SIM_CS_CREATE_PENDING,
	SIM_CS_CREATE_IN_PROGRESS,
	SIM_CS_CREATE_COMPLETE,
	SIM_CS_FAILED,
	SIM_CS_DELETED,		/* gone: not found any more */
};

enum sim_cs_exec {
	SIM_CS_UNAVAILABLE,
	SIM_CS_AVAILABLE,
	SIM_CS_EXECUTE_IN_PROGRESS,
	SIM_CS_EXECUTE_COMPLETE,
	SIM_CS_EXECUTE_FAILED,
	SIM_CS_OBSOLETE,
};

struct sim_changeset {
	char		 name[SIM_NAME_MAX];
	char		 id[SIM_ARN_MAX];
	struct sim_stack *stack;
	struct sim_changeset *parent;	/* the root change set of a nested one */
	enum sim_cs_status status;
	enum sim_cs_exec exec;
	char		 reason[SIM_MSG_MAX];
	int64_t		 created;
	int64_t		 ready_at;	/* CREATE_COMPLETE from then */
	int		 include_nested;
	struct sim_param params[SIM_PARAMS_MAX];	/* resolved values */
	size_t		 nparams;
	struct sim_change changes[SIM_CHANGES_MAX];
	size_t		 nchanges;
};

const char *sim_stack_status_name(enum sim_stack_status);
const char *sim_cs_status_name(enum sim_cs_status);
const char *sim_cs_exec_name(enum sim_cs_exec);
/* By name or ARN; NULL if none (the server answers "Stack with id X does not exist"). */
struct sim_stack *sim_stack_find(struct sim_model *, const char *name_or_id);
/* The stack holding ClusterNodeGroup (the nested one in the with-VPC layout). */
struct sim_stack *sim_stack_product(struct sim_model *);
/* The status DescribeStacks shows now (it lags just after an update call). */
enum sim_stack_status sim_stack_status_shown(const struct sim_stack *, int64_t now);
const char *sim_stack_param(const struct sim_stack *, const char *key);
const struct sim_stack_resource *sim_stack_resource(const struct sim_stack *,
	    const char *logical_id);
/* UpdateStack with UsePreviousTemplate. caps: the Capabilities sent. */
int	sim_stack_update(struct sim_model *, const char *stack, const struct sim_param_in *,
	    size_t nparams, const char *const *caps, size_t ncaps, const char *token,
	    int64_t now, struct sim_err *);
/*
 * CancelUpdateStack: an update in progress rolls back (UPDATE_ROLLBACK_IN_PROGRESS,
 * then UPDATE_ROLLBACK_COMPLETE), its events carrying token (the update's if NULL).
 */
int	sim_stack_cancel_update(struct sim_model *, const char *stack, const char *token,
	    int64_t now, struct sim_err *);
/* Sets DBMaster on the stack (and the nested one): standby mode when not empty. */
void	sim_stack_set_db_master(struct sim_model *, const char *value);
int	sim_changeset_create(struct sim_model *, const char *stack, const char *name,
	    const struct sim_param_in *, size_t nparams, const char *const *caps,
	    size_t ncaps, int include_nested, int64_t now, struct sim_changeset **,
	    struct sim_err *);
/* By ARN, or by name with the stack (name or ARN); NULL if none. */
struct sim_changeset *sim_changeset_find(struct sim_model *, const char *stack,
	    const char *name_or_id);
int	sim_changeset_describe(struct sim_model *, const char *stack, const char *name,
	    int64_t now, struct sim_changeset **, struct sim_err *);
int	sim_changeset_execute(struct sim_model *, const char *stack, const char *name,
	    const char *token, int64_t now, struct sim_err *);
int	sim_changeset_delete(struct sim_model *, const char *stack, const char *name,
	    int64_t now, struct sim_err *);

/* ---- user traffic (sim/traffic.c) ---- */

enum sim_fail_reason {
	SIM_FAIL_NODE_DIED,	/* the instance was killed or the node went down under it */
	SIM_FAIL_DRAIN_CUT,	/* still open when the draining timeout expired */
	SIM_FAIL_NO_NODE,	/* no instance in service behind the ELB */
	SIM_NFAIL
};

struct sim_traffic_stats {
	uint64_t	 started;
	uint64_t	 served;
	uint64_t	 failed[SIM_NFAIL];
	uint64_t	 failed_short;	/* failed, and shorter than the draining timeout (I7) */
	uint64_t	 inflight;
};

const char *sim_fail_reason_name(enum sim_fail_reason);

/* ---- history, invariants, API calls, critical path (sim/history.c, ...) ---- */

enum sim_rec_kind {
	SIM_REC_EC2,		/* a: state; n: 1 member, 2 FileServer; b: private IP */
	SIM_REC_LIFECYCLE,	/* a: LifecycleState */
	SIM_REC_PROTECTION,	/* n: 0/1 */
	SIM_REC_CAPACITY,	/* n: desired; a: "min=M max=X" */
	SIM_REC_PROCESSES,	/* n: suspended bit mask */
	SIM_REC_ACTIVITY,	/* obj: activity id; a: status; b: instance */
	SIM_REC_ELB,		/* a: registered, InService, OutOfService, draining, deregistered */
	SIM_REC_DRAIN,		/* a: clean or forced; n: requests cut */
	SIM_REC_NODE,		/* a: node state; b: version */
	SIM_REC_ZDU,		/* a: start, cancel, approve, retry, STABLE, FAILED; b: version */
	SIM_REC_STACK,		/* obj: stack; a: status; b: BitbucketVersion */
	SIM_REC_CALL,		/* a: action; obj: target; n: HTTP status of the answer */
	SIM_REC_REQUEST,	/* a: fail reason; obj: instance or "-"; n: planned duration */
	SIM_REC_ALARM,		/* obj: alarm or policy; a: state or "policy"; n: desired */
};

struct sim_record {
	int64_t		 t;
	enum sim_rec_kind kind;
	char		 obj[SIM_ARN_MAX];
	char		 a[64];
	char		 b[64];
	long		 n;
	char		 detail[160];
};

struct sim_history {
	struct sim_record *rec;
	size_t		 n, cap;
};

const char *sim_rec_kind_name(enum sim_rec_kind);

/* One invariant of DESIGN.md section 3, judged from the history alone. */
struct sim_inv {
	const char	*id;		/* "I1".."I7" */
	int		 ok;
	int		 judged;	/* 0: nothing to judge (no upgrade in the history) */
	size_t		 violations;
	long		 first;		/* index of the first violating record, -1 if none */
	int64_t		 first_t;
	char		 why[256];	/* the first violation, in words */
};

struct sim_report {
	struct sim_inv	 inv[7];
	int		 ok;		/* every invariant holds */
	int64_t		 upgrade_start;	/* ZDU start; -1 if none */
	int64_t		 upgrade_end;	/* approve or cancel; -1 if none */
	int		 original_n;
	int		 surge;		/* k: what the scale-out added to min */
	char		 from[SIM_VERSION_MAX], to[SIM_VERSION_MAX];
	int		 drains_clean, drains_forced;
	int64_t		 drain_ms;	/* their durations, summed */
	uint64_t	 requests_cut_long;	/* longer than the timeout, cut: reported */
};

/* Judges the whole history up to now (judging an unfinished run ends it there). */
void	sim_report(struct sim_model *, int64_t now, struct sim_report *);

/* AWS services, for throttling and counters. */
enum sim_service {
	SIM_SVC_CLOUDFORMATION,
	SIM_SVC_AUTOSCALING,
	SIM_SVC_EC2,
	SIM_SVC_ELB,
	SIM_SVC_CLOUDWATCH,
	SIM_SVC_STS,
	SIM_SVC_BITBUCKET,
	SIM_NSVC
};

struct sim_call_count {
	char		 action[48];
	enum sim_service svc;
	uint64_t	 calls;
	uint64_t	 throttled;
};

/*
 * Counts one call of an action (the server calls this first, for every request) and
 * applies throttling: -1 with AWS's throttling error when the service's bucket is
 * empty. Bitbucket calls are counted, never throttled.
 */
int	sim_api_call(struct sim_model *, enum sim_service, const char *action, int64_t now,
	    struct sim_err *);
/* A call a fault rule refused before it ran: counted, as throttled if it was. */
void	sim_api_refused(struct sim_model *, const char *service, const char *action,
	    int64_t now, int throttled);
const struct sim_call_count *sim_api_counts(const struct sim_model *, size_t *n);

/* The critical-path lower bound (DESIGN.md section 3), term by term. */
struct sim_cpath {
	int64_t		 stack_change;	/* change set + update, nothing to wait for */
	int64_t		 boot;		/* launch -> healthy in the ELB and ACTIVE */
	int64_t		 surge;		/* scale-out update until the surge serves */
	int64_t		 replace;	/* one round: drain + shutdown + boot */
	int		 rounds;	/* ceil((N - k) / k) */
	int64_t		 drain;		/* the drain term (0: connections may end at once) */
	int64_t		 retire;	/* drain + the scale-in update */
	int64_t		 finalize;
	int64_t		 total;
};

int64_t	sim_critical_path(const struct sim_params *, int n, int k, struct sim_cpath *);

/* ---- the whole model ---- */

struct sim_rng {
	uint64_t	 s;
};

struct sim_queue;	/* scheduled transitions (sim/model_queue.c) */
struct sim_req_pool;	/* requests in flight (sim/traffic.c) */
struct sim_api;		/* call counters and buckets (sim/api_calls.c) */

struct sim_model {
	struct sim_params p;
	int64_t		 now;
	struct sim_rng	 rng_ids;	/* ids, names, addresses */
	struct sim_rng	 rng_faults;
	struct sim_rng	 rng_traffic;
	struct sim_rng	 rng_policy;	/* the termination policy's last resort */
	struct sim_queue *q;
	struct sim_instance **inst;	/* every instance ever, oldest first */
	size_t		 ninst, instcap;
	struct sim_instance *file_server;
	struct sim_asg	 asg;
	struct sim_alarms alarms;
	struct sim_elb	 elb;
	struct sim_zdu	 zdu;
	struct sim_stack *stack[2];	/* [0] the root; [1] the nested product stack */
	size_t		 nstacks;
	struct sim_changeset **cs;
	size_t		 ncs, cscap;
	struct sim_req_pool *req;
	struct sim_traffic_stats traffic;
	struct sim_history hist;
	struct sim_api	*api;
	int		 faults_used;	/* SIM_FAULT_ONCE faults that have fired (bits) */
	uint32_t	 serial;	/* stack operations started */
	unsigned	 rr;		/* the ELB's round robin */
};

#endif
