/*
 * The EC2 call of the upgrade (API 2016-11-15, EC2 protocol): DescribeInstances,
 * for the private address (the key to Bitbucket's node list), the launch time, the
 * state and the tags of the group's instances. A request builder (pure), a typed
 * result with its parser (pure, strict on shape, bounded), and an operation that
 * follows every page. Never describes every instance of the account: ids or
 * filters are required.
 */
#ifndef BB_AWS_EC2_H
#define BB_AWS_EC2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/aws/client.h"
#include "daemon/aws/parse_util.h"

#define AWS_EC2_MAX_IDS		1000	/* InstanceId.N of one call */
#define AWS_EC2_MAX_FILTERS	50
#define AWS_EC2_MAX_VALUES	200	/* of one filter */
#define AWS_EC2_MAX_INSTANCES	5000	/* over all pages */
#define AWS_EC2_MAX_TAGS	100	/* of one instance (50 ours, and AWS's) */
#define AWS_EC2_TAG_KEY_MAX	128
#define AWS_EC2_TAG_VALUE_MAX	256

/* instanceState.code, its low byte (the high byte is AWS's internal use). */
#define AWS_EC2_PENDING		0
#define AWS_EC2_RUNNING		16
#define AWS_EC2_SHUTTING_DOWN	32
#define AWS_EC2_TERMINATED	48
#define AWS_EC2_STOPPING	64
#define AWS_EC2_STOPPED		80

struct aws_ec2_filter {
	const char		*name;		/* "instance-state-name", "tag:Key" */
	const char *const	*values;
	size_t			 nvalues;
};

struct aws_ec2_describe_in {
	const char *const		*ids;
	size_t				 nids;
	const struct aws_ec2_filter	*filters;
	size_t				 nfilters;
	int				 max_results;	/* 5-1000, not with ids */
};

struct aws_ec2_tag {
	char	 key[AWS_EC2_TAG_KEY_MAX + 1];
	char	 value[AWS_EC2_TAG_VALUE_MAX + 1];
};

struct aws_ec2_instance {
	char			 id[AWS_ID_MAX + 1];
	char			 private_ip[AWS_ENUM_MAX + 1];	/* "" once terminated */
	int64_t			 launch_ms;
	char			 state[AWS_ENUM_MAX + 1];	/* running, ... */
	int			 state_code;	/* AWS_EC2_RUNNING, ... */
	char			 zone[AWS_ID_MAX + 1];
	struct aws_ec2_tag	*tags;
	size_t			 ntags;
};

struct aws_ec2_instances {
	struct aws_ec2_instance	*items;
	size_t			 n;
	char			 next[AWS_NEXT_MAX + 1];
};

int	aws_ec2_describe_instances_query(struct aws_query *q,
	    const struct aws_ec2_describe_in *in, const char *next);
int	aws_ec2_parse_describe_instances(const xmlNode *result,
	    struct aws_ec2_instances *out, char *err, size_t errlen);
/*
 * Moves one page into acc and empties page: 1 if the next page is wanted
 * (acc->next), 0 if that was the last, -1 if over AWS_EC2_MAX_INSTANCES in all
 * or out of memory (instances are never dropped silently).
 */
int	aws_ec2_instances_take(struct aws_ec2_instances *acc,
	    struct aws_ec2_instances *page);
void	aws_ec2_instances_free(struct aws_ec2_instances *);
/* A tag's value, or NULL. */
const char *aws_ec2_instance_tag(const struct aws_ec2_instance *, const char *key);
/* The instance with that id in list, or NULL. */
const struct aws_ec2_instance *aws_ec2_instance_find(const struct aws_ec2_instances *,
	    const char *id);

typedef void	(*aws_ec2_instances_cb)(const struct aws_result *,
		    const struct aws_ec2_instances *, void *arg);
/* Every page. */
struct aws_op	*aws_ec2_describe_instances(struct aws_client *,
		    const struct aws_ec2_describe_in *, aws_ec2_instances_cb,
		    void *arg);

#endif
