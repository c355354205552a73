/*
 * The effect shell's own interface, shared by engine.c and shell_*.c (not by the rest
 * of the daemon, which sees engine.h only). The shell observes, asks the core
 * (core.h), performs, persists and tells; the core decides.
 *
 * Lifetimes (STYLE.md 7): one struct shell per engine_init(); engine_shutdown() marks
 * it stopping, cancels every call and closes its handles, and the struct is freed when
 * the last callback that holds a reference (sh->refs) has run. A callback that finds
 * its shell stopping does nothing but release what it holds: the store, the config
 * and the callers' callbacks may be gone by then.
 */
#ifndef BB_ENGINE_SHELL_H
#define BB_ENGINE_SHELL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "daemon/aws/parse_util.h"
#include "daemon/engine/core.h"
#include "daemon/engine/engine.h"

struct config;
struct deployment;
struct store;
struct aws_client;
struct bitbucket;
struct bitbucket_call;
struct aws_op;

#define SHELL_ALARMS_MAX	8
#define SHELL_OPS_MAX		24	/* calls of one observation in flight */
#define SHELL_ERR_MAX		1024
#define SHELL_STEPS_MAX		64	/* bookkeeping decisions on one observation */
#define SHELL_CPU_WINDOW_S	600
/* CloudWatch has a CPU figure a minute at best: reading it more often buys nothing. */
#define SHELL_CPU_REFRESH_MS	60000
/* Not a part of the core's: the group's hooks and refreshes, read for preflight. */
#define SHELL_OBS_EXTRAS	0x10000u

/* What the stack is made of: read once per daemon run, it does not change. */
struct shell_topology {
	bool		 ok;
	bool		 nested;
	char		 child[AWS_ARN_MAX + 1];	/* BitbucketDCStack's id */
	char		 asg[AWS_NAME_MAX + 1];
	char		 lb[AWS_NAME_MAX + 1];
	char		 fileserver[ENGINE_ID_MAX];
	char		 alarms[SHELL_ALARMS_MAX][AWS_NAME_MAX + 1];
	size_t		 nalarms;
	int		 drain_timeout_s;	/* -1: unknown */
};

/* The last CPU figures read, reused for SHELL_CPU_REFRESH_MS. */
struct shell_cpu {
	uint64_t	 at;			/* engine_mono_ms(); 0: never read */
	size_t		 n;
	char		 id[ENGINE_NODES_MAX][ENGINE_ID_MAX];
	bool		 has[ENGINE_NODES_MAX];
	double		 cpu[ENGINE_NODES_MAX];
};

/*
 * The private IPs of the group's instances (an instance keeps its IP for life):
 * DescribeInstances is skipped while every instance of the last listing has one.
 */
struct shell_ips {
	bool		 complete;
	size_t		 n;
	char		 id[ENGINE_NODES_MAX][ENGINE_ID_MAX];
	char		 ip[ENGINE_NODES_MAX][ENGINE_IP_MAX];
};

/* One [deployment]: its clients, made when first needed, and its topology. */
struct shell_dep {
	const struct deployment	*cfg;
	struct aws_client	*aws;
	struct bitbucket	*bb;
	struct shell_topology	 topo;
	struct shell_cpu	 cpu;
	struct shell_ips	 ips;
};

struct shell_run;
struct shell_plan;

struct shell {
	uv_loop_t		*loop;
	const struct config	*cfg;
	struct store		*store;
	struct shell_dep	*deps;
	size_t			 ndeps;
	struct shell_run	*run;		/* the unfinished upgrade, or NULL */
	struct engine_watch	*watches;	/* a list */
	struct shell_plan	*plans;		/* a list */
	uv_timer_t		 pump;		/* delivers events to watchers */
	bool			 pump_armed;
	int			 refs;
	bool			 stopping;
};

/* --- shell_deps.c: clients per deployment ------------------------------------ */

struct shell_dep *engine_dep_find(struct shell *, const char *name);
/* Makes the clients if needed: 0, or -1 with err (a missing secret, say). */
int	engine_dep_clients(struct shell *, struct shell_dep *, char *err, size_t len);
void	engine_dep_free_all(struct shell *);
void	engine_shell_ref(struct shell *);
void	engine_shell_unref(struct shell *);
int64_t	engine_wall_ms(void);
uint64_t engine_mono_ms(void);
/* snprintf that may cut (messages quote AWS's texts, which can be long). */
void	engine_fmt(char *buf, size_t len, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	engine_strlcpy(char *dst, const char *src, size_t len);	/* core.c */

/* --- shell_observe.c: one observation, in parallel --------------------------- */

struct shell_obs;
typedef void	(*shell_obs_cb)(struct shell_obs *, void *arg);

/* What went wrong while observing, for the events and the plan. */
struct shell_obs_result {
	struct engine_obs	*o;		/* what was read (o->have) */
	unsigned		 failed;	/* parts refused for good */
	char			 errors[SHELL_ERR_MAX];	/* "; "-joined */
};

/*
 * Reads the parts in want (ENGINE_OBS_*) of dep's deployment; cb runs once, from the
 * loop, with the result (valid during cb; the observation is freed after it).
 * token/changeset: d.need_token and d.need_changeset; since_ms: the wall time the
 * stack events are read back to. NULL if nothing could start (cb then never runs).
 */
struct shell_obs *engine_observe(struct shell *, struct shell_dep *, unsigned want,
	    const char *token, const char *changeset, int64_t since_ms, uint64_t zdu_poll,
	    shell_obs_cb, void *arg);
const struct shell_obs_result *engine_obs_result(const struct shell_obs *);
/* Takes the observation out of the result (the caller frees it). */
struct engine_obs *engine_obs_take(struct shell_obs *);
void	engine_observe_cancel(struct shell_obs *);

/* Translations (shell_obs_aws.c, shell_obs_cfn.c), each into its part of o. */
struct aws_cfn_stack;
struct aws_cfn_resources;
struct aws_cfn_events;
struct aws_cfn_change_set;
struct aws_asg_group;
struct aws_asg_activities;
struct aws_elb_healths;
struct aws_ec2_instances;
struct aws_cw_cpus;
struct aws_cw_alarms;
struct zdu_cluster;

void	engine_tr_stack(struct engine_obs *, const struct aws_cfn_stack *);
void	engine_tr_topology(struct shell_topology *, const struct aws_cfn_resources *,
	    bool *nested);
void	engine_tr_events(struct engine_obs *, const struct aws_cfn_events *,
	    const char *stack_name, const char *stack_id, const char *token);
void	engine_tr_changeset(struct engine_obs *, const struct aws_cfn_change_set *,
	    int parent);
void	engine_tr_group(struct engine_obs *, const struct aws_asg_group *);
void	engine_tr_activities(struct engine_obs *, const struct aws_asg_activities *);
void	engine_tr_cpu(struct engine_obs *, const struct aws_cw_cpus *);
void	engine_tr_zdu(struct engine_obs *, const struct zdu_cluster *, uint64_t poll);
int	engine_tr_alarms(const struct aws_cw_alarms *);

/* --- shell_act.c: one call ----------------------------------------------------- */

/*
 * The outcome of a call: known (out filled), or unknown (the call may or may not
 * have happened: the intent stays open and the next decision resolves it).
 */
struct shell_act_result {
	bool			 known;
	struct engine_outcome	 out;
	bool			 cancelled;
};

typedef void	(*shell_act_cb)(const struct shell_act_result *, void *arg);
struct shell_act;
/* Performs a with a->token through dep's clients; cb runs once, from the loop. */
struct shell_act *engine_act_start(struct shell *, struct shell_dep *,
	    const struct engine_action *, shell_act_cb, void *arg);
void	engine_act_cancel(struct shell_act *);

/* --- shell_persist.c: struct engine_upgrade <-> the store ---------------------- */

struct shell_budget {
	char		 marker[ENGINE_MARKER_MAX];
	int64_t		 ms;		/* -1: none */
};

int	engine_persist_save(struct store *, const struct engine_upgrade *,
	    const struct shell_budget *, bool finished);
/* 1 loaded, 0 no such upgrade, -1 unreadable (err says why). */
int	engine_persist_load(struct store *, int64_t id, struct engine_upgrade *,
	    struct shell_budget *, int64_t *created_at, int64_t *finished_at,
	    char *err, size_t len);
json_t	*engine_action_json(const struct engine_action *);
void	engine_targets_join(const struct engine_action *, char *buf, size_t len);
bool	engine_finished(const struct engine_upgrade *);

/* --- shell_journal.c: events, told to the watchers ------------------------------ */

enum shell_level { SHELL_INFO, SHELL_WARNING, SHELL_ERROR };

/*
 * Appends an event (in the caller's transaction, if one is open) and wakes the
 * watchers. data is taken (may be NULL); kind goes into data.kind. Its id, or -1.
 */
int64_t	engine_event(struct shell *, const struct engine_upgrade *, enum shell_level,
	    const char *kind, const char *node, json_t *data, const char *fmt, ...)
	    __attribute__((format(printf, 7, 8)));
/* Commits u (and its budget) with an event, as one transaction. 0 or -1. */
int	engine_commit(struct shell *, struct shell_run *, enum shell_level,
	    const char *kind, const char *node, json_t *data, const char *message);
/* The journal intent of d (u already has it) with u and an event, one transaction. */
int	engine_commit_intent(struct shell *, struct shell_run *,
	    const struct engine_decision *);
/* The outcome of d (u already advanced by engine_apply) with u and an event. */
int	engine_commit_outcome(struct shell *, struct shell_run *,
	    const struct engine_decision *, const struct engine_outcome *, bool resolved);

/* --- shell_watch.c ---------------------------------------------------------------- */

struct store_event;
void	engine_watch_kick(struct shell *);
json_t	*engine_event_json(const struct store_event *);
void	engine_watch_free_all(struct shell *);

/* --- shell_loop.c: the running upgrade ----------------------------------------- */

enum shell_run_state {
	SHELL_RUN_IDLE,		/* nothing in flight, no timer */
	SHELL_RUN_WAITING,	/* the poll timer is armed */
	SHELL_RUN_OBSERVING,
	SHELL_RUN_ACTING,
	SHELL_RUN_STOPPED,	/* halted, paused or finished: woken by a command */
};

struct shell_run {
	struct shell		*sh;
	struct shell_dep	*dep;
	struct engine_upgrade	 u;
	struct shell_budget	 budget;
	uint64_t		 budget_t0;	/* mono ms the budget was last charged */
	enum engine_wait	 wait;		/* the last wait told */
	char			 wait_marker[ENGINE_MARKER_MAX];
	int64_t			 created_at;
	int64_t			 finished_at;	/* wall ms; 0 while unfinished */
	uint64_t		 started_mono;
	struct engine_obs	*obs;		/* the last observation */
	struct engine_decision	 d;
	unsigned		 need;		/* d.need of the last decision */
	char			 need_token[ENGINE_TOKEN_MAX];
	char			 need_changeset[ENGINE_TOKEN_MAX];
	uint64_t		 zdu_poll;
	int			 failures;	/* observations in a row that failed */
	char			 last_error[SHELL_ERR_MAX];
	bool			 kick;		/* a command came while busy */
	enum shell_run_state	 state;
	uv_timer_t		 timer;
	bool			 timer_open;
	struct shell_obs	*obs_op;
	struct shell_act	*act_op;
	/* Deregistration times (wall ms) of the nodes, for drain_timed_out. */
	int64_t			 dereg_at[ENGINE_TRACKED_MAX];
};

/* Loads and resumes upgrade id; 0 or -1. */
int	engine_run_resume(struct shell *, int64_t id);
/* Starts the loop of a run made by engine_start(). */
struct shell_run *engine_run_new(struct shell *, struct shell_dep *);
void	engine_run_go(struct shell_run *);
/* A command changed u: persist it and wake the loop. */
void	engine_run_wake(struct shell_run *);
/* Cancels what is in flight and closes the timer; frees the run later. */
void	engine_run_stop(struct shell_run *);
/* Test hook: the poll interval in ms instead of [daemon] poll_interval (0: config). */
void	engine_set_poll_ms(unsigned);
unsigned engine_poll_ms(const struct shell *);

/* --- shell_plan.c ----------------------------------------------------------------- */

int	engine_plan_start(struct shell *, const char *deployment, const char *to,
	    engine_plan_cb, void *arg);
void	engine_plan_cancel_all(struct shell *);

/* The engine of this daemon run (engine.c); NULL before init and after shutdown. */
extern struct shell *engine_shell;

/* --- shell_status.c --------------------------------------------------------------- */

json_t	*engine_status_json(const struct engine_upgrade *, const struct engine_obs *,
	    int64_t created_at, int64_t finished_at, const struct shell_run *);
json_t	*engine_plan_json(const struct engine_obs *, const char *to, int surge,
	    const struct engine_problems *);

#endif
