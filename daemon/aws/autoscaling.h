/*
 * The Auto Scaling calls of the upgrade (API 2011-01-01): reading the group, its
 * instances, activities, lifecycle hooks and instance refreshes; terminating one
 * instance; protecting instances from scale-in; suspending and resuming processes.
 * For each call: a request builder (pure), a typed result with its parser (pure,
 * strict on shape, bounded), and an operation on the client.
 *
 * Never: send SuspendProcesses or ResumeProcesses without an explicit list (an
 * empty one means every process), or more than 50 instances in one
 * SetInstanceProtection.
 */
#ifndef BB_AWS_AUTOSCALING_H
#define BB_AWS_AUTOSCALING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/aws/client.h"
#include "daemon/aws/parse_util.h"

#define AWS_ASG_MAX_GROUPS	100	/* one page (MaxRecords <= 100) */
#define AWS_ASG_MAX_INSTANCES	2000	/* of a group, or of one answer */
#define AWS_ASG_MAX_NAMES	64	/* load balancers, processes of a group */
#define AWS_ASG_MAX_HOOKS	50
#define AWS_ASG_MAX_REFRESHES	100
#define AWS_ASG_MAX_ACTIVITIES	1000	/* over all pages */
#define AWS_ASG_PROTECT_CHUNK	50	/* SetInstanceProtection: ids per call */
#define AWS_ASG_PROTECT_MAX	(AWS_ASG_PROTECT_CHUNK * 20)

/* The scaling processes AWS knows; a name not here is refused by the builders. */
extern const char *const aws_asg_processes[];
extern const size_t aws_asg_nprocesses;

struct aws_asg_instance {
	char	 id[AWS_ID_MAX + 1];
	char	 group[AWS_NAME_MAX + 1];	/* "" unless the answer says */
	char	 zone[AWS_ID_MAX + 1];
	char	 lifecycle[AWS_ENUM_MAX + 1];	/* InService, Terminating:Wait, ... */
	/* "Healthy"/"Unhealthy" from DescribeAutoScalingGroups, but "HEALTHY"/"UNHEALTHY"
	 * from DescribeAutoScalingInstances (AWS's own inconsistency): compare ignoring case. */
	char	 health[AWS_ENUM_MAX + 1];
	char	 launch_config[AWS_NAME_MAX + 1];
	bool	 protected_from_scale_in;
};

struct aws_asg_suspended {
	char	 name[AWS_NAME_MAX + 1];
	char	 reason[AWS_NAME_MAX + 1];
};

struct aws_asg_lb_name {
	char	 name[AWS_NAME_MAX + 1];
};

/* --- DescribeAutoScalingGroups -------------------------------------------- */

struct aws_asg_group {
	char			 name[AWS_NAME_MAX + 1];
	char			 arn[AWS_ARN_MAX + 1];
	char			 launch_config[AWS_NAME_MAX + 1];
	int			 min;
	int			 max;
	int			 desired;
	char			 health_check_type[AWS_ENUM_MAX + 1];	/* EC2, ELB */
	int			 health_check_grace;	/* seconds, 0 if absent */
	char			 status[AWS_NAME_MAX + 1];	/* "" unless deleting */
	bool			 new_instances_protected;
	int64_t			 created_ms;
	struct aws_asg_lb_name	*lbs;		/* classic load balancers */
	size_t			 nlbs;
	size_t			 ntarget_groups;	/* ELBv2: not what we drive */
	struct aws_asg_instance	*instances;
	size_t			 ninstances;
	struct aws_asg_suspended *suspended;
	size_t			 nsuspended;
};

struct aws_asg_groups {
	struct aws_asg_group	*items;
	size_t			 n;
	char			 next[AWS_NEXT_MAX + 1];
};

/* names: 1 to AWS_ASG_MAX_GROUPS groups; max_records 0: AWS's default. */
int	aws_asg_describe_auto_scaling_groups_query(struct aws_query *q,
	    const char *const *names, size_t n, int max_records, const char *next);
int	aws_asg_parse_describe_auto_scaling_groups(const xmlNode *result,
	    struct aws_asg_groups *out, char *err, size_t errlen);
void	aws_asg_groups_free(struct aws_asg_groups *);
/* Whether process is among group's suspended processes. */
bool	aws_asg_group_suspended(const struct aws_asg_group *, const char *process);
typedef void	(*aws_asg_groups_cb)(const struct aws_result *,
		    const struct aws_asg_groups *, void *arg);
/* One group by name (one page: an empty list if it does not exist). */
struct aws_op	*aws_asg_describe_auto_scaling_groups(struct aws_client *,
		    const char *name, aws_asg_groups_cb, void *arg);

/* --- DescribeAutoScalingInstances ----------------------------------------- */

struct aws_asg_instances {
	struct aws_asg_instance	*items;
	size_t			 n;
	char			 next[AWS_NEXT_MAX + 1];
};

/* ids: 1 to 50 instances. */
int	aws_asg_describe_auto_scaling_instances_query(struct aws_query *q,
	    const char *const *ids, size_t n);
int	aws_asg_parse_describe_auto_scaling_instances(const xmlNode *result,
	    struct aws_asg_instances *out, char *err, size_t errlen);
void	aws_asg_instances_free(struct aws_asg_instances *);
typedef void	(*aws_asg_instances_cb)(const struct aws_result *,
		    const struct aws_asg_instances *, void *arg);
struct aws_op	*aws_asg_describe_auto_scaling_instances(struct aws_client *,
		    const char *const *ids, size_t n, aws_asg_instances_cb, void *arg);

/* --- DescribeScalingActivities, TerminateInstanceInAutoScalingGroup ------- */

struct aws_asg_activity {
	char	 id[AWS_NAME_MAX + 1];
	char	 group[AWS_NAME_MAX + 1];
	char	 status[AWS_ENUM_MAX + 1];	/* StatusCode: InProgress, ... */
	char	 status_message[AWS_TEXT_MAX + 1];
	char	 description[AWS_TEXT_MAX + 1];
	char	 cause[AWS_TEXT_MAX + 1];
	int	 progress;			/* -1 if absent */
	int64_t	 start_ms;
	int64_t	 end_ms;			/* 0 while not ended */
};

struct aws_asg_activities {
	struct aws_asg_activity	*items;		/* newest first */
	size_t			 n;
	char			 next[AWS_NEXT_MAX + 1];
	bool			 truncated;	/* more were there: max reached */
};

/* Successful, Failed or Cancelled: the activity is over. */
bool	aws_asg_activity_done(const struct aws_asg_activity *);

/* By ids (group may be NULL) or the group's latest; max_records 0: AWS's default. */
int	aws_asg_describe_scaling_activities_query(struct aws_query *q,
	    const char *group, const char *const *ids, size_t nids, int max_records,
	    const char *next);
int	aws_asg_parse_describe_scaling_activities(const xmlNode *result,
	    struct aws_asg_activities *out, char *err, size_t errlen);
/*
 * Moves one page into acc, at most max activities in all (0 or over
 * AWS_ASG_MAX_ACTIVITIES: that), and empties page. 1 if the next page is wanted
 * (acc->next), 0 if done, -1 if memory ran out.
 */
int	aws_asg_activities_take(struct aws_asg_activities *acc,
	    struct aws_asg_activities *page, size_t max);
void	aws_asg_activities_free(struct aws_asg_activities *);
typedef void	(*aws_asg_activities_cb)(const struct aws_result *,
		    const struct aws_asg_activities *, void *arg);
/* Follows the pages until max activities (as aws_asg_activities_take()). */
struct aws_op	*aws_asg_describe_scaling_activities(struct aws_client *,
		    const char *group, const char *const *ids, size_t nids, size_t max,
		    aws_asg_activities_cb, void *arg);

int	aws_asg_terminate_instance_in_auto_scaling_group_query(struct aws_query *q,
	    const char *id, bool decrement);
/* The Activity of the answer. */
int	aws_asg_parse_terminate_instance_in_auto_scaling_group(const xmlNode *result,
	    struct aws_asg_activity *out, char *err, size_t errlen);
typedef void	(*aws_asg_activity_cb)(const struct aws_result *,
		    const struct aws_asg_activity *, void *arg);
struct aws_op	*aws_asg_terminate_instance_in_auto_scaling_group(struct aws_client *,
		    const char *id, bool decrement, aws_asg_activity_cb, void *arg);

/* --- DescribeLifecycleHooks, DescribeInstanceRefreshes -------------------- */

struct aws_asg_hook {
	char	 name[AWS_NAME_MAX + 1];
	char	 transition[AWS_NAME_MAX + 1];	/* ...:EC2_INSTANCE_TERMINATING */
	char	 default_result[AWS_ENUM_MAX + 1];
	int	 heartbeat_timeout;		/* seconds, -1 if absent */
	int	 global_timeout;
};

struct aws_asg_hooks {
	struct aws_asg_hook	*items;
	size_t			 n;
};

int	aws_asg_describe_lifecycle_hooks_query(struct aws_query *q, const char *group);
int	aws_asg_parse_describe_lifecycle_hooks(const xmlNode *result,
	    struct aws_asg_hooks *out, char *err, size_t errlen);
void	aws_asg_hooks_free(struct aws_asg_hooks *);
typedef void	(*aws_asg_hooks_cb)(const struct aws_result *,
		    const struct aws_asg_hooks *, void *arg);
struct aws_op	*aws_asg_describe_lifecycle_hooks(struct aws_client *,
		    const char *group, aws_asg_hooks_cb, void *arg);

struct aws_asg_refresh {
	char	 id[AWS_NAME_MAX + 1];
	char	 status[AWS_ENUM_MAX + 1];	/* Pending, InProgress, ... */
	char	 reason[AWS_TEXT_MAX + 1];
	int	 percent;			/* -1 if absent */
	int64_t	 start_ms;
	int64_t	 end_ms;
};

struct aws_asg_refreshes {
	struct aws_asg_refresh	*items;		/* newest first */
	size_t			 n;
	char			 next[AWS_NEXT_MAX + 1];
};

/* Pending, InProgress, Cancelling, RollbackInProgress or Baking: still running. */
bool	aws_asg_refresh_active(const struct aws_asg_refresh *);

int	aws_asg_describe_instance_refreshes_query(struct aws_query *q,
	    const char *group);
int	aws_asg_parse_describe_instance_refreshes(const xmlNode *result,
	    struct aws_asg_refreshes *out, char *err, size_t errlen);
void	aws_asg_refreshes_free(struct aws_asg_refreshes *);
typedef void	(*aws_asg_refreshes_cb)(const struct aws_result *,
		    const struct aws_asg_refreshes *, void *arg);
/* One page: the latest refreshes, which is where an active one would be. */
struct aws_op	*aws_asg_describe_instance_refreshes(struct aws_client *,
		    const char *group, aws_asg_refreshes_cb, void *arg);

/* --- SetInstanceProtection, SuspendProcesses, ResumeProcesses ------------- */

/* 1 to AWS_ASG_PROTECT_CHUNK instances. */
int	aws_asg_set_instance_protection_query(struct aws_query *q, const char *group,
	    const char *const *ids, size_t n, bool protect);
/* Any number up to AWS_ASG_PROTECT_MAX, in calls of 50, one after the other. */
struct aws_op	*aws_asg_set_instance_protection(struct aws_client *,
		    const char *group, const char *const *ids, size_t n, bool protect,
		    aws_cb, void *arg);

/* procs: 1 or more names of aws_asg_processes, never none. */
int	aws_asg_suspend_processes_query(struct aws_query *q, const char *group,
	    const char *const *procs, size_t n);
int	aws_asg_resume_processes_query(struct aws_query *q, const char *group,
	    const char *const *procs, size_t n);
struct aws_op	*aws_asg_suspend_processes(struct aws_client *, const char *group,
		    const char *const *procs, size_t n, aws_cb, void *arg);
struct aws_op	*aws_asg_resume_processes(struct aws_client *, const char *group,
		    const char *const *procs, size_t n, aws_cb, void *arg);

#endif
