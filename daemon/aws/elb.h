/*
 * The Classic Load Balancer calls of the upgrade (API 2012-06-01, Query protocol):
 * the health of every instance in one call, deregistration (drain) and
 * registration, the balancer's description and its connection-draining settings.
 * Request builders (pure), typed results with their parsers (pure, strict on
 * shape, bounded), and operations on the client.
 *
 * Draining looks like health: a deregistered instance stays "InService" with the
 * description "Instance deregistration currently in progress" until its draining
 * ends. The classification here counts it as draining, never as in service.
 */
#ifndef BB_AWS_ELB_H
#define BB_AWS_ELB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/aws/client.h"
#include "daemon/aws/parse_util.h"

#define AWS_ELB_MAX_INSTANCES	2000	/* of one answer */
#define AWS_ELB_MAX_IDS		1000	/* of one request */
#define AWS_ELB_MAX_LBS		400	/* one page */

/* What ELB's text says while an instance drains, and once it is gone. */
#define AWS_ELB_DRAINING_TEXT	"Instance deregistration currently in progress"
#define AWS_ELB_GONE_TEXT	"Instance is not currently registered"

struct aws_elb_id {
	char	 id[AWS_ID_MAX + 1];
};

struct aws_elb_ids {
	struct aws_elb_id	*items;
	size_t			 n;
};

bool	aws_elb_ids_has(const struct aws_elb_ids *, const char *id);
void	aws_elb_ids_free(struct aws_elb_ids *);

/* --- DescribeInstanceHealth ----------------------------------------------- */

enum aws_elb_health {
	AWS_ELB_IN_SERVICE,		/* InService, serving */
	AWS_ELB_DRAINING,		/* InService, deregistration in progress */
	AWS_ELB_OUT_OF_SERVICE,		/* OutOfService: unhealthy, or not registered */
	AWS_ELB_UNKNOWN			/* Unknown, or a state we do not know */
};

struct aws_elb_instance_health {
	char			 id[AWS_ID_MAX + 1];
	char			 state[AWS_ENUM_MAX + 1];	/* as sent */
	char			 reason_code[AWS_ENUM_MAX + 1];	/* ELB, Instance, N/A */
	char			 description[AWS_TEXT_MAX + 1];
	enum aws_elb_health	 health;
	bool			 registered;	/* false: ELB says it is not */
};

struct aws_elb_healths {
	struct aws_elb_instance_health	*items;
	size_t				 n;
};

enum aws_elb_health aws_elb_classify(const char *state, const char *description);
const char	*aws_elb_health_name(enum aws_elb_health);

/* ids NULL, n 0: every instance registered with lb (what the engine polls). */
int	aws_elb_describe_instance_health_query(struct aws_query *q, const char *lb,
	    const char *const *ids, size_t n);
int	aws_elb_parse_describe_instance_health(const xmlNode *result,
	    struct aws_elb_healths *out, char *err, size_t errlen);
void	aws_elb_healths_free(struct aws_elb_healths *);
/* The entry of id, or NULL: not listed, so not registered. */
const struct aws_elb_instance_health *aws_elb_health_find(
	    const struct aws_elb_healths *, const char *id);
typedef void	(*aws_elb_healths_cb)(const struct aws_result *,
		    const struct aws_elb_healths *, void *arg);
/* The whole load balancer in one call. */
struct aws_op	*aws_elb_describe_instance_health(struct aws_client *, const char *lb,
		    aws_elb_healths_cb, void *arg);

/* --- DeregisterInstancesFromLoadBalancer, RegisterInstancesWithLoadBalancer --- */

/* ids: 1 to AWS_ELB_MAX_IDS. */
int	aws_elb_deregister_instances_from_load_balancer_query(struct aws_query *q,
	    const char *lb, const char *const *ids, size_t n);
int	aws_elb_register_instances_with_load_balancer_query(struct aws_query *q,
	    const char *lb, const char *const *ids, size_t n);
/* Either answer: the instances registered with lb after the call. */
int	aws_elb_parse_instances(const xmlNode *result, struct aws_elb_ids *out,
	    char *err, size_t errlen);
typedef void	(*aws_elb_ids_cb)(const struct aws_result *, const struct aws_elb_ids *,
		    void *arg);
/* The callback gets the instances still registered (draining ones included). */
struct aws_op	*aws_elb_deregister_instances_from_load_balancer(struct aws_client *,
		    const char *lb, const char *const *ids, size_t n, aws_elb_ids_cb,
		    void *arg);
struct aws_op	*aws_elb_register_instances_with_load_balancer(struct aws_client *,
		    const char *lb, const char *const *ids, size_t n, aws_elb_ids_cb,
		    void *arg);

/* --- DescribeLoadBalancers, DescribeLoadBalancerAttributes ---------------- */

struct aws_elb_lb {
	char			 name[AWS_NAME_MAX + 1];
	char			 dns_name[AWS_NAME_MAX + 1];
	char			 scheme[AWS_ENUM_MAX + 1];
	int64_t			 created_ms;
	char			 hc_target[AWS_NAME_MAX + 1];	/* "HTTP:7990/status" */
	int			 hc_interval;	/* seconds; -1 if no health check */
	int			 hc_timeout;
	int			 hc_healthy;	/* thresholds */
	int			 hc_unhealthy;
	struct aws_elb_ids	 instances;	/* registered */
};

struct aws_elb_lbs {
	struct aws_elb_lb	*items;
	size_t			 n;
	char			 next[AWS_NEXT_MAX + 1];	/* NextMarker */
};

/* names: 1 to 20 (one page). */
int	aws_elb_describe_load_balancers_query(struct aws_query *q,
	    const char *const *names, size_t n);
int	aws_elb_parse_describe_load_balancers(const xmlNode *result,
	    struct aws_elb_lbs *out, char *err, size_t errlen);
void	aws_elb_lbs_free(struct aws_elb_lbs *);
typedef void	(*aws_elb_lbs_cb)(const struct aws_result *, const struct aws_elb_lbs *,
		    void *arg);
struct aws_op	*aws_elb_describe_load_balancers(struct aws_client *, const char *lb,
		    aws_elb_lbs_cb, void *arg);

struct aws_elb_attributes {
	bool	 draining;
	int	 draining_timeout;	/* seconds; -1 when draining is off */
	bool	 cross_zone;
	int	 idle_timeout;		/* seconds; -1 if absent */
};

int	aws_elb_describe_load_balancer_attributes_query(struct aws_query *q,
	    const char *lb);
int	aws_elb_parse_describe_load_balancer_attributes(const xmlNode *result,
	    struct aws_elb_attributes *out, char *err, size_t errlen);
typedef void	(*aws_elb_attributes_cb)(const struct aws_result *,
		    const struct aws_elb_attributes *, void *arg);
struct aws_op	*aws_elb_describe_load_balancer_attributes(struct aws_client *,
		    const char *lb, aws_elb_attributes_cb, void *arg);

#endif
