/*
 * The CloudFormation calls of the upgrade (API 2010-05-15): reading the stack
 * (status, parameters, outputs, resources, events) and changing it only through
 * change sets. For each call: a request builder (pure), a typed result with its
 * parser (pure, strict on shape, bounded), and an operation on the client.
 *
 * Never: send back a value DescribeStacks showed as "****" (NoEcho), leave a
 * parameter out of a change set (an omitted parameter reverts to its template
 * default), pass a RoleARN (that needs iam:PassRole), or send a token that
 * CloudFormation would refuse after the fact.
 */
#ifndef BB_AWS_CLOUDFORMATION_H
#define BB_AWS_CLOUDFORMATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/aws/client.h"
#include "daemon/aws/parse_util.h"

#define AWS_CFN_VALUE_MAX	4096	/* a parameter or output value */
#define AWS_CFN_EVENT_ID_MAX	511
#define AWS_CFN_NOECHO		"****"	/* a NoEcho parameter's value, read back */

#define AWS_CFN_MAX_STACKS	100	/* one page */
#define AWS_CFN_MAX_PARAMS	200	/* CloudFormation's limit per template */
#define AWS_CFN_MAX_OUTPUTS	200
#define AWS_CFN_MAX_RESOURCES	500
#define AWS_CFN_MAX_EVENTS	2000	/* over all pages */
#define AWS_CFN_MAX_CHANGES	2500	/* over all pages */
#define AWS_CFN_MAX_DETAILS	256	/* of one resource change */

/* Capabilities, as a set. */
#define AWS_CFN_CAP_IAM		0x01u
#define AWS_CFN_CAP_NAMED_IAM	0x02u
#define AWS_CFN_CAP_AUTO_EXPAND	0x04u
#define AWS_CFN_CAP_UNKNOWN	0x80u	/* read only: one we do not know */

/* Scope of a resource change, as a set. */
#define AWS_CFN_SCOPE_PROPERTIES		0x01u
#define AWS_CFN_SCOPE_METADATA			0x02u
#define AWS_CFN_SCOPE_CREATION_POLICY		0x04u
#define AWS_CFN_SCOPE_UPDATE_POLICY		0x08u
#define AWS_CFN_SCOPE_DELETION_POLICY		0x10u
#define AWS_CFN_SCOPE_UPDATE_REPLACE_POLICY	0x20u
#define AWS_CFN_SCOPE_TAGS			0x40u
#define AWS_CFN_SCOPE_UNKNOWN			0x80u

/* The "CAPABILITY_*" name of one capability bit, or NULL. */
const char	*aws_cfn_capability_name(unsigned cap);

/* --- DescribeStacks ------------------------------------------------------- */

struct aws_cfn_param {
	char	 key[AWS_NAME_MAX + 1];
	char	 value[AWS_CFN_VALUE_MAX + 1];	/* AWS_CFN_NOECHO kept as such */
};

struct aws_cfn_output {
	char	 key[AWS_NAME_MAX + 1];
	char	 value[AWS_CFN_VALUE_MAX + 1];
	char	 export_name[AWS_NAME_MAX + 1];
};

struct aws_cfn_stack {
	char			 id[AWS_ARN_MAX + 1];
	char			 name[AWS_NAME_MAX + 1];
	char			 status[AWS_ENUM_MAX + 1];
	char			 reason[AWS_TEXT_MAX + 1];
	char			 role_arn[AWS_ARN_MAX + 1];	/* "": none */
	char			 parent_id[AWS_ARN_MAX + 1];	/* "" unless nested */
	char			 root_id[AWS_ARN_MAX + 1];
	int64_t			 created_ms;
	int64_t			 updated_ms;	/* 0 if never updated */
	bool			 disable_rollback;
	unsigned		 capabilities;
	struct aws_cfn_param	*params;
	size_t			 nparams;
	struct aws_cfn_output	*outputs;
	size_t			 noutputs;
};

struct aws_cfn_stacks {
	struct aws_cfn_stack	*items;
	size_t			 n;
	char			 next[AWS_NEXT_MAX + 1];
};

int	aws_cfn_describe_stacks_query(struct aws_query *q, const char *stack,
	    const char *next);
int	aws_cfn_parse_describe_stacks(const xmlNode *result, struct aws_cfn_stacks *out,
	    char *err, size_t errlen);
void	aws_cfn_stacks_free(struct aws_cfn_stacks *);
/* A parameter's value ("****" for NoEcho) or an output's value; NULL if none. */
const char *aws_cfn_stack_param(const struct aws_cfn_stack *, const char *key);
const char *aws_cfn_stack_output(const struct aws_cfn_stack *, const char *key);

typedef void	(*aws_cfn_stacks_cb)(const struct aws_result *,
		    const struct aws_cfn_stacks *, void *arg);
/* One stack by name or id (one page). */
struct aws_op	*aws_cfn_describe_stacks(struct aws_client *, const char *stack,
		    aws_cfn_stacks_cb, void *arg);

/* --- DescribeStackResource, DescribeStackResources ------------------------ */

struct aws_cfn_resource {
	char	 logical_id[AWS_NAME_MAX + 1];
	char	 physical_id[AWS_ARN_MAX + 1];	/* "" while being created */
	char	 type[AWS_NAME_MAX + 1];
	char	 status[AWS_ENUM_MAX + 1];
	char	 reason[AWS_TEXT_MAX + 1];
	char	 stack_name[AWS_NAME_MAX + 1];
	char	 stack_id[AWS_ARN_MAX + 1];
	int64_t	 updated_ms;
};

struct aws_cfn_resources {
	struct aws_cfn_resource	*items;
	size_t			 n;
};

int	aws_cfn_describe_stack_resource_query(struct aws_query *q, const char *stack,
	    const char *logical_id);
int	aws_cfn_parse_describe_stack_resource(const xmlNode *result,
	    struct aws_cfn_resource *out, char *err, size_t errlen);
typedef void	(*aws_cfn_resource_cb)(const struct aws_result *,
		    const struct aws_cfn_resource *, void *arg);
struct aws_op	*aws_cfn_describe_stack_resource(struct aws_client *, const char *stack,
		    const char *logical_id, aws_cfn_resource_cb, void *arg);

/* By stack or by physical id (exactly one); logical_id may be NULL. */
int	aws_cfn_describe_stack_resources_query(struct aws_query *q, const char *stack,
	    const char *logical_id, const char *physical_id);
int	aws_cfn_parse_describe_stack_resources(const xmlNode *result,
	    struct aws_cfn_resources *out, char *err, size_t errlen);
void	aws_cfn_resources_free(struct aws_cfn_resources *);
typedef void	(*aws_cfn_resources_cb)(const struct aws_result *,
		    const struct aws_cfn_resources *, void *arg);
struct aws_op	*aws_cfn_describe_stack_resources(struct aws_client *,
		    const char *stack, const char *logical_id, const char *physical_id,
		    aws_cfn_resources_cb, void *arg);

/* --- DescribeStackEvents -------------------------------------------------- */

struct aws_cfn_event {
	char	 id[AWS_CFN_EVENT_ID_MAX + 1];
	char	 logical_id[AWS_NAME_MAX + 1];	/* the stack's name: a stack event */
	char	 physical_id[AWS_ARN_MAX + 1];
	char	 type[AWS_NAME_MAX + 1];
	int64_t	 time_ms;
	char	 status[AWS_ENUM_MAX + 1];
	char	 reason[AWS_TEXT_MAX + 1];
	char	 token[AWS_QUERY_TOKEN_MAX + 1];	/* ClientRequestToken */
};

/* Why a walk through the events ended. */
enum aws_cfn_events_end {
	AWS_CFN_EVENTS_MORE,		/* not yet: another page is wanted */
	AWS_CFN_EVENTS_ALL,		/* the last page was read */
	AWS_CFN_EVENTS_SINCE,		/* an event older than since_ms */
	AWS_CFN_EVENTS_STOP_ID,		/* the event stop_id */
	AWS_CFN_EVENTS_MAX		/* max events taken: older ones not read */
};

struct aws_cfn_events {
	struct aws_cfn_event	*items;		/* newest first */
	size_t			 n;
	char			 next[AWS_NEXT_MAX + 1];
	enum aws_cfn_events_end	 end;
};

/* Where to stop reading back in time; the event that stops is not taken. */
struct aws_cfn_events_stop {
	int64_t		 since_ms;	/* older events end the walk; 0: none */
	const char	*stop_id;	/* NULL: none */
	size_t		 max;		/* 0 or over AWS_CFN_MAX_EVENTS: that */
};

int	aws_cfn_describe_stack_events_query(struct aws_query *q, const char *stack,
	    const char *next);
int	aws_cfn_parse_describe_stack_events(const xmlNode *result,
	    struct aws_cfn_events *out, char *err, size_t errlen);
/*
 * Moves the events of one page (newest first, as AWS sends them) into acc up to
 * stop (NULL: none), and empties page. 1 if the next page is wanted (token in
 * acc->next), 0 if the walk is over (acc->end says why), -1 if memory ran out.
 */
int	aws_cfn_events_take(struct aws_cfn_events *acc, struct aws_cfn_events *page,
	    const struct aws_cfn_events_stop *stop);
void	aws_cfn_events_free(struct aws_cfn_events *);
typedef void	(*aws_cfn_events_cb)(const struct aws_result *,
		    const struct aws_cfn_events *, void *arg);
struct aws_op	*aws_cfn_describe_stack_events(struct aws_client *, const char *stack,
		    const struct aws_cfn_events_stop *, aws_cfn_events_cb, void *arg);

/* --- CreateChangeSet ------------------------------------------------------ */

struct aws_cfn_param_in {
	const char	*key;
	const char	*value;		/* NULL: UsePreviousValue=true */
};

struct aws_cfn_change_set_in {
	const char			*stack;
	const char			*name;		/* [a-zA-Z][-a-zA-Z0-9]* */
	const char			*client_token;	/* ClientToken, or NULL */
	const struct aws_cfn_param_in	*params;	/* every one of the stack */
	size_t				 nparams;
	unsigned			 capabilities;	/* AWS_CFN_CAP_*, not UNKNOWN */
};

/*
 * An UPDATE change set on the previous template, nested stacks included. Refuses a
 * value of "****", a key twice, an empty key, a bad name or token.
 */
int	aws_cfn_create_change_set_query(struct aws_query *q,
	    const struct aws_cfn_change_set_in *in);
/*
 * The parameters of a change set on st: every parameter of st in its order, with
 * the value from changes where it has one, UsePreviousValue for the others. out
 * has room for outlen; its strings point into st and changes. -1 (err) if a
 * change names no parameter of st, carries "****" or no value, or out is too
 * small.
 */
int	aws_cfn_change_set_params(const struct aws_cfn_stack *st,
	    const struct aws_cfn_param_in *changes, size_t nchanges,
	    struct aws_cfn_param_in *out, size_t outlen, size_t *nout,
	    char *err, size_t errlen);

struct aws_cfn_change_set_ref {
	char	 id[AWS_ARN_MAX + 1];
	char	 stack_id[AWS_ARN_MAX + 1];
};

int	aws_cfn_parse_create_change_set(const xmlNode *result,
	    struct aws_cfn_change_set_ref *out, char *err, size_t errlen);
typedef void	(*aws_cfn_change_set_ref_cb)(const struct aws_result *,
		    const struct aws_cfn_change_set_ref *, void *arg);
struct aws_op	*aws_cfn_create_change_set(struct aws_client *,
		    const struct aws_cfn_change_set_in *, aws_cfn_change_set_ref_cb,
		    void *arg);

/* --- DescribeChangeSet ---------------------------------------------------- */

struct aws_cfn_change_detail {
	char	 attribute[AWS_ENUM_MAX + 1];	/* Target.Attribute: Properties, ... */
	char	 name[AWS_NAME_MAX + 1];	/* Target.Name: the property */
	char	 recreation[AWS_ENUM_MAX + 1];	/* Never, Conditionally, Always */
	char	 evaluation[AWS_ENUM_MAX + 1];	/* Static, Dynamic */
	char	 source[AWS_ENUM_MAX + 1];	/* ChangeSource */
	char	 causing_entity[AWS_ARN_MAX + 1];
};

struct aws_cfn_change {
	char			 type[AWS_ENUM_MAX + 1];	/* "Resource", or? */
	char			 action[AWS_ENUM_MAX + 1];	/* Add, Modify, ... */
	char			 logical_id[AWS_NAME_MAX + 1];
	char			 physical_id[AWS_ARN_MAX + 1];
	char			 resource_type[AWS_NAME_MAX + 1];
	char			 replacement[AWS_ENUM_MAX + 1];	/* True, False, ... */
	unsigned		 scope;		/* AWS_CFN_SCOPE_* */
	char			 nested_id[AWS_ARN_MAX + 1];	/* nested change set */
	struct aws_cfn_change_detail *details;
	size_t			 ndetails;
};

struct aws_cfn_change_set {
	char			 id[AWS_ARN_MAX + 1];
	char			 name[AWS_NAME_MAX + 1];
	char			 stack_id[AWS_ARN_MAX + 1];
	char			 stack_name[AWS_NAME_MAX + 1];
	char			 status[AWS_ENUM_MAX + 1];
	char			 execution_status[AWS_ENUM_MAX + 1];
	char			 status_reason[AWS_TEXT_MAX + 1];
	struct aws_cfn_change	*changes;
	size_t			 nchanges;
	char			 next[AWS_NEXT_MAX + 1];
};

int	aws_cfn_describe_change_set_query(struct aws_query *q, const char *name,
	    const char *stack, const char *next);
int	aws_cfn_parse_describe_change_set(const xmlNode *result,
	    struct aws_cfn_change_set *out, char *err, size_t errlen);
/*
 * Moves one page into acc (its changes appended, the rest replaced) and empties
 * page: 1 if the next page is wanted (acc->next), 0 if that was the last, -1 if
 * over AWS_CFN_MAX_CHANGES or out of memory.
 */
int	aws_cfn_change_set_take(struct aws_cfn_change_set *acc,
	    struct aws_cfn_change_set *page);
void	aws_cfn_change_set_free(struct aws_cfn_change_set *);
typedef void	(*aws_cfn_change_set_cb)(const struct aws_result *,
		    const struct aws_cfn_change_set *, void *arg);
/* Every page. */
struct aws_op	*aws_cfn_describe_change_set(struct aws_client *, const char *name,
		    const char *stack, aws_cfn_change_set_cb, void *arg);

/* --- ExecuteChangeSet, DeleteChangeSet, CancelUpdateStack ----------------- */

/* token is required: the stack's events will carry it. */
int	aws_cfn_execute_change_set_query(struct aws_query *q, const char *name,
	    const char *stack, const char *token);
struct aws_op	*aws_cfn_execute_change_set(struct aws_client *, const char *name,
		    const char *stack, const char *token, aws_cb, void *arg);
int	aws_cfn_delete_change_set_query(struct aws_query *q, const char *name,
	    const char *stack);
struct aws_op	*aws_cfn_delete_change_set(struct aws_client *, const char *name,
		    const char *stack, aws_cb, void *arg);
/* token may be NULL. */
int	aws_cfn_cancel_update_stack_query(struct aws_query *q, const char *stack,
	    const char *token);
struct aws_op	*aws_cfn_cancel_update_stack(struct aws_client *, const char *stack,
		    const char *token, aws_cb, void *arg);

/* --- GetTemplateSummary --------------------------------------------------- */

struct aws_cfn_param_decl {
	char	 key[AWS_NAME_MAX + 1];
	char	 type[AWS_NAME_MAX + 1];
	bool	 no_echo;
};

struct aws_cfn_template {
	unsigned			 capabilities;
	char				 capabilities_reason[AWS_TEXT_MAX + 1];
	struct aws_cfn_param_decl	*params;
	size_t				 nparams;
};

int	aws_cfn_get_template_summary_query(struct aws_query *q, const char *stack);
int	aws_cfn_parse_get_template_summary(const xmlNode *result,
	    struct aws_cfn_template *out, char *err, size_t errlen);
void	aws_cfn_template_free(struct aws_cfn_template *);
typedef void	(*aws_cfn_template_cb)(const struct aws_result *,
		    const struct aws_cfn_template *, void *arg);
struct aws_op	*aws_cfn_get_template_summary(struct aws_client *, const char *stack,
		    aws_cfn_template_cb, void *arg);

#endif
