/*
 * What the model's files share and the server does not need: the event queue, the
 * random streams, allocation, history records, and the hooks one part of the model
 * calls in another (an ELB drain ending lets an Auto Scaling termination go on).
 */
#ifndef BB_SIM_MODEL_INT_H
#define BB_SIM_MODEL_INT_H

#include <stdarg.h>

#include "sim/model.h"

#define nitems(a)	((sizeof(a)) / (sizeof((a)[0])))

/* ---- allocation: a simulator out of memory has no truthful state left to report ---- */

void	*sim_xcalloc(size_t n, size_t size);
void	*sim_xreallocarray(void *p, size_t n, size_t size);
/* Grows *arr (of *cap elements of size) to hold at least need. */
void	 sim_grow(void *arrp, size_t *cap, size_t need, size_t size);

/* ---- random streams (splitmix64: one independent stream per purpose) ---- */

void	 sim_rng_seed(struct sim_rng *, uint64_t seed, uint64_t stream);
uint64_t sim_rng_next(struct sim_rng *);
uint64_t sim_rng_below(struct sim_rng *, uint64_t n);	/* uniform in [0, n) */
double	 sim_rng_unit(struct sim_rng *);		/* uniform in [0, 1) */
void	 sim_rng_hex(struct sim_rng *, char *buf, size_t ndigits);
void	 sim_rng_alnum(struct sim_rng *, char *buf, size_t n);	/* upper case + digits */
void	 sim_rng_uuid(struct sim_rng *, char *buf, size_t len);

/* ---- scheduled transitions ---- */

enum sim_ev {
	SIM_EV_EC2_RUNNING,	/* obj: instance */
	SIM_EV_EC2_TERMINATED,	/* obj: instance */
	SIM_EV_NODE_READY,	/* obj: instance: boot over, ACTIVE or ERROR */
	SIM_EV_ELB_CHECK,	/* obj: instance; gen: elb.epoch */
	SIM_EV_ELB_DRAIN_END,	/* obj: instance; gen: elb.epoch */
	SIM_EV_ASG_NOTICE,	/* obj: instance: the health check sees it dead */
	SIM_EV_ASG_RECONCILE,
	SIM_EV_STACK_STEP,	/* obj: root stack; gen: operation serial */
	SIM_EV_CS_READY,	/* obj: change set */
	SIM_EV_ZDU_FINALIZED,
	SIM_EV_REQ_ARRIVE,
	SIM_EV_REQ_END,		/* obj: request slot; gen: slot generation */
	SIM_EV_BLIP,
};

struct sim_event {
	int64_t		 at;
	uint64_t	 seq;		/* ties break by order of scheduling */
	enum sim_ev	 kind;
	int		 obj;
	uint32_t	 gen;
};

struct sim_queue *sim_queue_new(void);
void	 sim_queue_free(struct sim_queue *);
void	 sim_schedule(struct sim_model *, int64_t at, enum sim_ev, int obj, uint32_t gen);
/* Pops the earliest event due at or before now into ev; 0 if there is none. */
int	 sim_queue_pop(struct sim_queue *, int64_t now, struct sim_event *ev);
int64_t	 sim_queue_peek(const struct sim_queue *);

/* ---- faults ---- */

enum {
	SIM_FAULT_BIT_ERROR = 1,
	SIM_FAULT_BIT_STUCK = 2,
	SIM_FAULT_BIT_REFUSE = 4,
	SIM_FAULT_BIT_ROLLBACK = 8,
	SIM_FAULT_BIT_LAUNCH = 16,
};

/* Whether a fault fires on this occasion (ONCE: the first eligible one only). */
int	 sim_fault_fires(struct sim_model *, enum sim_fault, double p, int bit);

/* ---- errors and history ---- */

/* Fills err (if not NULL) and returns -1, so that callers can "return sim_fail(...)". */
int	 sim_fail(struct sim_err *, int status, const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
void	 sim_rec(struct sim_model *, enum sim_rec_kind, const char *obj, const char *a,
	    const char *b, long n, const char *fmt, ...)
	    __attribute__((format(printf, 7, 8)));
void	 sim_history_free(struct sim_history *);
/* Copies at most len - 1 bytes and always terminates. */
void	 sim_strlcpy(char *dst, const char *src, size_t len);

/* ---- hooks between the parts ---- */

/* BitbucketVersion's AllowedPattern in the template (the params use it too). */
int	 sim_version_allowed(const char *);

/* EC2 */
struct sim_instance *sim_ec2_launch(struct sim_model *, int member, const char *version);
void	 sim_ec2_on_running(struct sim_model *, struct sim_instance *);
void	 sim_ec2_on_terminated(struct sim_model *, struct sim_instance *);
/* Starts the OS shutdown of a live instance (an ASG termination after draining). */
void	 sim_ec2_shutdown(struct sim_model *, struct sim_instance *, const char *reason);

/* Auto Scaling */
void	 sim_asg_init(struct sim_model *);
void	 sim_asg_free(struct sim_asg *);
void	 sim_asg_reconcile(struct sim_model *);
void	 sim_asg_poke(struct sim_model *);	/* reconcile soon (after this transition) */
void	 sim_asg_on_notice(struct sim_model *, struct sim_instance *);
void	 sim_asg_on_running(struct sim_model *, struct sim_instance *);
void	 sim_asg_on_terminated(struct sim_model *, struct sim_instance *);
void	 sim_asg_on_drained(struct sim_model *, struct sim_instance *);
/* CloudFormation's UpdateAutoScalingGroup: 0, or -1 with the reason in err. */
int	 sim_asg_update_counts(struct sim_model *, int min, int max, struct sim_err *);
int	 sim_asg_alive(const struct sim_model *);	/* members not yet terminated */
/* The default termination policy's choice among unprotected in-service members. */
struct sim_instance *sim_asg_pick_victim(struct sim_model *);
struct sim_activity *sim_asg_activity_new(struct sim_model *, int launch,
	    struct sim_instance *, const char *cause);
void	 sim_asg_activity_set(struct sim_model *, struct sim_activity *,
	    enum sim_activity_status);
struct sim_activity *sim_asg_activity_of(const struct sim_model *,
	    const struct sim_instance *);
/* Starts an ASG termination: Terminating, drain, then the instance goes down. */
struct sim_activity *sim_asg_begin_termination(struct sim_model *, struct sim_instance *,
	    const char *cause);
int	 sim_asg_has_candidate(const struct sim_model *);	/* an unprotected victim */
void	 sim_asg_capacity(struct sim_model *, int min, int max, int desired);
/* Activity causes, in AWS's words. */
void	 sim_asg_cause_launch(struct sim_model *, int from, int to, char *, size_t);
void	 sim_asg_cause_scale_in(struct sim_model *, const struct sim_instance *, int from,
	    int to, char *, size_t);
/* elb: the ELB health check's verdict, not EC2's. */
void	 sim_asg_cause_health(struct sim_model *, int elb, char *, size_t);
/* The ELB now reports the member OutOfService: with ELB health checks, it will go. */
void	 sim_asg_on_elb_unhealthy(struct sim_model *, struct sim_instance *);
/* The scenario's starting state beyond the Quick Start's (Standby members). */
void	 sim_asg_prestate(struct sim_model *);
void	 sim_asg_set_life(struct sim_model *, struct sim_instance *, enum sim_lifecycle);

/* CloudWatch alarms: state and load from the start; evaluation, policies (ticks). */
void	 sim_alarms_init(struct sim_model *);
void	 sim_alarms_tick(struct sim_model *);
/* Minute ticks from the next boundary on (the load is not normal, or an alarm is on). */
void	 sim_alarms_arm(struct sim_model *);
void	 sim_asg_cause_user(struct sim_model *, const struct sim_instance *, int decrement,
	    char *, size_t);

/* The deployment as the Quick Start created it: FileServer, N nodes, healthy. */
void	 sim_deploy(struct sim_model *);

/* ELB */
void	 sim_elb_init(struct sim_model *);
void	 sim_elb_attach(struct sim_model *, struct sim_instance *);	/* launch */
/* Deregisters (draining if needed); the group's own terminations come through here. */
void	 sim_elb_remove(struct sim_model *, struct sim_instance *);
void	 sim_elb_on_check(struct sim_model *, struct sim_instance *, uint32_t epoch);
void	 sim_elb_on_drain_end(struct sim_model *, struct sim_instance *, uint32_t epoch);
void	 sim_elb_on_idle(struct sim_model *, struct sim_instance *);	/* inflight -> 0 */
int	 sim_elb_routable(const struct sim_instance *);

/* Bitbucket */
void	 sim_node_launch(struct sim_model *, struct sim_instance *, const char *version);
void	 sim_node_on_running(struct sim_model *, struct sim_instance *);
void	 sim_node_on_ready(struct sim_model *, struct sim_instance *);
void	 sim_node_set(struct sim_model *, struct sim_instance *, enum sim_node_state);
int	 sim_node_serves(const struct sim_model *, const struct sim_instance *);
int	 sim_node_listed_reachable(const struct sim_model *, const struct sim_instance *);
void	 sim_zdu_on_finalized(struct sim_model *);
void	 sim_node_on_blip(struct sim_model *);
int	 sim_zdu_may_join(const struct sim_model *, const char *version);


/* CloudFormation */
void	 sim_stack_init(struct sim_model *);
void	 sim_stack_link(struct sim_model *);	/* resources' physical ids, outputs */
void	 sim_stack_free(struct sim_stack *);
void	 sim_stack_on_step(struct sim_model *, struct sim_stack *, uint32_t serial);
void	 sim_stack_on_group_change(struct sim_model *);
void	 sim_stack_set_status(struct sim_model *, struct sim_stack *, enum sim_stack_status,
	    const char *reason, const char *token);
void	 sim_stack_event(struct sim_model *, struct sim_stack *, const char *logical_id,
	    const char *status, const char *reason, const char *token);
void	 sim_stack_event_at(struct sim_model *, struct sim_stack *, int64_t t,
	    const char *logical_id, const char *status, const char *reason,
	    const char *token);
struct sim_param *sim_stack_param_find(struct sim_stack *, const char *key);
/* Resolves parameters against the stack's template: 0, or -1 with AWS's error. */
int	 sim_stack_resolve(struct sim_stack *, const struct sim_param_in *, size_t n,
	    const char *const *caps, size_t ncaps, struct sim_param *out, size_t *nout,
	    struct sim_err *);
int	 sim_stack_busy(struct sim_stack *, struct sim_err *);
/* The checks before changing a stack: exists, root, token, not busy. */
int	 sim_stack_check_target(struct sim_model *, const char *name, const char *token,
	    struct sim_stack **, struct sim_err *);
/* Starts an update to params; cs: the change set executed, or NULL. */
void	 sim_stack_start_update(struct sim_model *, struct sim_stack *,
	    const struct sim_param *, size_t n, const char *token, struct sim_changeset *);
/* CancelUpdateStack of the update in progress (checked by the caller). */
void	 sim_stack_op_cancel(struct sim_model *, struct sim_stack *root,
	    const char *token);
/* Resource changes that going to params would make (drift included). */
size_t	 sim_stack_diff(struct sim_model *, struct sim_stack *, const struct sim_param *,
	    size_t n, struct sim_change *out, size_t max);
void	 sim_changeset_on_ready(struct sim_model *, struct sim_changeset *);
void	 sim_changeset_on_done(struct sim_model *, struct sim_changeset *, int ok);
void	 sim_changeset_obsolete(struct sim_model *, struct sim_stack *,
	    struct sim_changeset *except);

/* traffic */
void	 sim_traffic_init(struct sim_model *);
void	 sim_traffic_free(struct sim_model *);
void	 sim_traffic_on_arrive(struct sim_model *);
void	 sim_traffic_on_end(struct sim_model *, int slot, uint32_t gen);
/* Fails every request in flight on inst (killed, cut by draining). */
void	 sim_traffic_fail_all(struct sim_model *, struct sim_instance *,
	    enum sim_fail_reason);

/* API calls */
struct sim_api *sim_api_new(struct sim_model *);
void	 sim_api_free(struct sim_api *);
/* Records a destructive call in the history for the invariant report (I5). */
void	 sim_call(struct sim_model *, const char *action, const char *target,
	    const char *arg, const struct sim_err *);


#endif
