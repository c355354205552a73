/*
 * Classic Load Balancer (see elb.h). The builders emit parameters in botocore's
 * order for the same call; the parsers take what the model names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/aws/elb.h"

#define MAX_LB_NAMES	20

static const char *const health_names[] = {
	[AWS_ELB_IN_SERVICE] = "in-service",
	[AWS_ELB_DRAINING] = "draining",
	[AWS_ELB_OUT_OF_SERVICE] = "out-of-service",
	[AWS_ELB_UNKNOWN] = "unknown",
};

static bool
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool
aws_elb_ids_has(const struct aws_elb_ids *ids, const char *id)
{
	size_t	 i;

	for (i = 0; i < ids->n; i++)
		if (strcmp(ids->items[i].id, id) == 0)
			return true;
	return false;
}

void
aws_elb_ids_free(struct aws_elb_ids *ids)
{
	free(ids->items);
	memset(ids, 0, sizeof(*ids));
}

/* The list Instances/member/InstanceId at from into out. */
static int
parse_ids(const xmlNode *from, struct aws_elb_ids *out, char *err, size_t errlen)
{
	const xmlNode	*list, *m;
	size_t		 i = 0;

	memset(out, 0, sizeof(*out));
	if (aws_get_list(from, "Instances", AWS_OPT, AWS_XML_MEMBER,
	    AWS_ELB_MAX_INSTANCES, &list, &out->n, err, errlen) == -1)
		return -1;
	if ((out->items = aws_alloc_array(out->n, sizeof(*out->items))) == NULL) {
		out->n = 0;
		return aws_perr(err, errlen, "out of memory");
	}
	AWS_XML_FOREACH(m, list, AWS_XML_MEMBER) {
		if (aws_get_str(m, "InstanceId", AWS_REQ, out->items[i].id,
		    sizeof(out->items[i].id), err, errlen) == -1) {
			aws_elb_ids_free(out);
			return aws_perr_in(err, errlen, "Instances member %zu", i + 1);
		}
		i++;
	}
	return 0;
}

/* Instances.member.N.InstanceId for n ids, each there. */
static int
add_ids(struct aws_query *q, const char *const *ids, size_t n)
{
	size_t	 i;

	if (n > AWS_ELB_MAX_IDS || (n > 0 && ids == NULL))
		return aws_refuse(q);
	for (i = 0; i < n; i++)
		if (!aws_given(ids[i]))
			return aws_refuse(q);
	for (i = 0; i < n; i++)
		aws_query_add(q, aws_query_key(q, "Instances.member.%zu.InstanceId",
		    i + 1), ids[i]);
	return aws_built(q);
}

/* --- DescribeInstanceHealth ----------------------------------------------- */

enum aws_elb_health
aws_elb_classify(const char *state, const char *description)
{
	if (strcmp(state, "InService") == 0)
		return starts_with(description, AWS_ELB_DRAINING_TEXT) ?
		    AWS_ELB_DRAINING : AWS_ELB_IN_SERVICE;
	if (strcmp(state, "OutOfService") == 0)
		return AWS_ELB_OUT_OF_SERVICE;
	return AWS_ELB_UNKNOWN;
}

const char *
aws_elb_health_name(enum aws_elb_health h)
{
	if ((unsigned)h >= sizeof(health_names) / sizeof(health_names[0]))
		return "invalid";
	return health_names[h];
}

int
aws_elb_describe_instance_health_query(struct aws_query *q, const char *lb,
    const char *const *ids, size_t n)
{
	if (aws_query_init(q, AWS_ELB, "DescribeInstanceHealth") == -1)
		return -1;
	if (!aws_given(lb))
		return aws_refuse(q);
	aws_query_add(q, "LoadBalancerName", lb);
	return add_ids(q, ids, n);
}

static int
parse_health(const xmlNode *m, struct aws_elb_instance_health *h, char *err,
    size_t errlen)
{
	if (aws_get_str(m, "InstanceId", AWS_REQ, h->id, sizeof(h->id), err,
	    errlen) == -1 ||
	    aws_get_str(m, "State", AWS_REQ, h->state, sizeof(h->state), err,
	    errlen) == -1 ||
	    aws_get_str(m, "ReasonCode", AWS_OPT, h->reason_code,
	    sizeof(h->reason_code), err, errlen) == -1)
		return -1;
	aws_get_text(m, "Description", h->description, sizeof(h->description));
	h->health = aws_elb_classify(h->state, h->description);
	h->registered = !(h->health == AWS_ELB_OUT_OF_SERVICE &&
	    starts_with(h->description, AWS_ELB_GONE_TEXT));
	return 0;
}

int
aws_elb_parse_describe_instance_health(const xmlNode *result,
    struct aws_elb_healths *out, char *err, size_t errlen)
{
	const xmlNode	*list, *m;
	size_t		 i = 0;

	memset(out, 0, sizeof(*out));
	if (aws_get_list(result, "InstanceStates", AWS_OPT, AWS_XML_MEMBER,
	    AWS_ELB_MAX_INSTANCES, &list, &out->n, err, errlen) == -1)
		return -1;
	if ((out->items = aws_alloc_array(out->n, sizeof(*out->items))) == NULL) {
		out->n = 0;
		return aws_perr(err, errlen, "out of memory");
	}
	AWS_XML_FOREACH(m, list, AWS_XML_MEMBER) {
		if (parse_health(m, &out->items[i++], err, errlen) == -1) {
			aws_elb_healths_free(out);
			return aws_perr_in(err, errlen, "InstanceStates member %zu", i);
		}
	}
	return 0;
}

void
aws_elb_healths_free(struct aws_elb_healths *hs)
{
	free(hs->items);
	memset(hs, 0, sizeof(*hs));
}

const struct aws_elb_instance_health *
aws_elb_health_find(const struct aws_elb_healths *hs, const char *id)
{
	size_t	 i;

	for (i = 0; i < hs->n; i++)
		if (strcmp(hs->items[i].id, id) == 0)
			return &hs->items[i];
	return NULL;
}

AWS_OP_TYPED(health, struct aws_elb_healths, aws_elb_healths_cb,
    aws_elb_parse_describe_instance_health, aws_elb_healths_free)

struct aws_op *
aws_elb_describe_instance_health(struct aws_client *client, const char *lb,
    aws_elb_healths_cb cb, void *arg)
{
	struct aws_query	 q;
	int			 built;

	built = aws_elb_describe_instance_health_query(&q, lb, NULL, 0);
	return health_run(client, &q, built, cb, arg);
}

/* --- DeregisterInstancesFromLoadBalancer, RegisterInstancesWithLoadBalancer --- */

static int
instances_query(struct aws_query *q, const char *action, const char *lb,
    const char *const *ids, size_t n)
{
	if (aws_query_init(q, AWS_ELB, action) == -1)
		return -1;
	if (!aws_given(lb) || n == 0)
		return aws_refuse(q);
	aws_query_add(q, "LoadBalancerName", lb);
	return add_ids(q, ids, n);
}

int
aws_elb_deregister_instances_from_load_balancer_query(struct aws_query *q,
    const char *lb, const char *const *ids, size_t n)
{
	return instances_query(q, "DeregisterInstancesFromLoadBalancer", lb, ids,
	    n);
}

int
aws_elb_register_instances_with_load_balancer_query(struct aws_query *q,
    const char *lb, const char *const *ids, size_t n)
{
	return instances_query(q, "RegisterInstancesWithLoadBalancer", lb, ids, n);
}

int
aws_elb_parse_instances(const xmlNode *result, struct aws_elb_ids *out, char *err,
    size_t errlen)
{
	return parse_ids(result, out, err, errlen);
}

AWS_OP_TYPED(ids, struct aws_elb_ids, aws_elb_ids_cb, aws_elb_parse_instances,
    aws_elb_ids_free)

struct aws_op *
aws_elb_deregister_instances_from_load_balancer(struct aws_client *client,
    const char *lb, const char *const *ids, size_t n, aws_elb_ids_cb cb, void *arg)
{
	struct aws_query	 q;
	int			 built;

	built = aws_elb_deregister_instances_from_load_balancer_query(&q, lb, ids,
	    n);
	return ids_run(client, &q, built, cb, arg);
}

struct aws_op *
aws_elb_register_instances_with_load_balancer(struct aws_client *client,
    const char *lb, const char *const *ids, size_t n, aws_elb_ids_cb cb, void *arg)
{
	struct aws_query	 q;
	int			 built;

	built = aws_elb_register_instances_with_load_balancer_query(&q, lb, ids,
	    n);
	return ids_run(client, &q, built, cb, arg);
}

/* --- DescribeLoadBalancers, DescribeLoadBalancerAttributes ---------------- */

int
aws_elb_describe_load_balancers_query(struct aws_query *q,
    const char *const *names, size_t n)
{
	size_t	 i;

	if (aws_query_init(q, AWS_ELB, "DescribeLoadBalancers") == -1)
		return -1;
	/* No names would describe every load balancer of the account. */
	if (n == 0 || n > MAX_LB_NAMES || names == NULL)
		return aws_refuse(q);
	for (i = 0; i < n; i++)
		if (!aws_given(names[i]))
			return aws_refuse(q);
	aws_query_add_list(q, "LoadBalancerNames", names, n);
	return aws_built(q);
}

static int
parse_health_check(const xmlNode *m, struct aws_elb_lb *lb, char *err,
    size_t errlen)
{
	const xmlNode	*hc;

	lb->hc_interval = lb->hc_timeout = lb->hc_healthy = lb->hc_unhealthy = -1;
	if ((hc = aws_xml_find(m, "HealthCheck")) == NULL)
		return 0;
	if (aws_get_str(hc, "Target", AWS_REQ, lb->hc_target,
	    sizeof(lb->hc_target), err, errlen) == -1 ||
	    aws_get_int(hc, "Interval", AWS_REQ, &lb->hc_interval, err,
	    errlen) == -1 ||
	    aws_get_int(hc, "Timeout", AWS_REQ, &lb->hc_timeout, err, errlen) == -1 ||
	    aws_get_int(hc, "HealthyThreshold", AWS_REQ, &lb->hc_healthy, err,
	    errlen) == -1 ||
	    aws_get_int(hc, "UnhealthyThreshold", AWS_REQ, &lb->hc_unhealthy, err,
	    errlen) == -1)
		return aws_perr_in(err, errlen, "HealthCheck");
	return 0;
}

static int
parse_lb(const xmlNode *m, struct aws_elb_lb *lb, char *err, size_t errlen)
{
	return aws_get_str(m, "LoadBalancerName", AWS_REQ, lb->name,
	    sizeof(lb->name), err, errlen) == -1 ||
	    aws_get_str(m, "DNSName", AWS_OPT, lb->dns_name, sizeof(lb->dns_name),
	    err, errlen) == -1 ||
	    aws_get_str(m, "Scheme", AWS_OPT, lb->scheme, sizeof(lb->scheme), err,
	    errlen) == -1 ||
	    aws_get_time(m, "CreatedTime", AWS_OPT, &lb->created_ms, err,
	    errlen) == -1 ||
	    parse_health_check(m, lb, err, errlen) == -1 ||
	    parse_ids(m, &lb->instances, err, errlen) == -1 ? -1 : 0;
}

int
aws_elb_parse_describe_load_balancers(const xmlNode *result,
    struct aws_elb_lbs *out, char *err, size_t errlen)
{
	const xmlNode	*list, *m;
	size_t		 i = 0;

	memset(out, 0, sizeof(*out));
	if (aws_get_list(result, "LoadBalancerDescriptions", AWS_OPT,
	    AWS_XML_MEMBER, AWS_ELB_MAX_LBS, &list, &out->n, err, errlen) == -1 ||
	    aws_get_str(result, "NextMarker", AWS_OPT, out->next, sizeof(out->next),
	    err, errlen) == -1)
		return -1;
	if ((out->items = aws_alloc_array(out->n, sizeof(*out->items))) == NULL) {
		out->n = 0;
		return aws_perr(err, errlen, "out of memory");
	}
	AWS_XML_FOREACH(m, list, AWS_XML_MEMBER) {
		if (parse_lb(m, &out->items[i++], err, errlen) == -1) {
			aws_elb_lbs_free(out);
			return aws_perr_in(err, errlen,
			    "LoadBalancerDescriptions member %zu", i);
		}
	}
	return 0;
}

void
aws_elb_lbs_free(struct aws_elb_lbs *lbs)
{
	size_t	 i;

	for (i = 0; i < lbs->n && lbs->items != NULL; i++)
		aws_elb_ids_free(&lbs->items[i].instances);
	free(lbs->items);
	memset(lbs, 0, sizeof(*lbs));
}

AWS_OP_TYPED(lbs, struct aws_elb_lbs, aws_elb_lbs_cb,
    aws_elb_parse_describe_load_balancers, aws_elb_lbs_free)

struct aws_op *
aws_elb_describe_load_balancers(struct aws_client *client, const char *lb,
    aws_elb_lbs_cb cb, void *arg)
{
	struct aws_query	 q;
	int			 built;

	built = aws_elb_describe_load_balancers_query(&q, &lb, 1);
	return lbs_run(client, &q, built, cb, arg);
}

int
aws_elb_describe_load_balancer_attributes_query(struct aws_query *q,
    const char *lb)
{
	if (aws_query_init(q, AWS_ELB, "DescribeLoadBalancerAttributes") == -1)
		return -1;
	if (!aws_given(lb))
		return aws_refuse(q);
	aws_query_add(q, "LoadBalancerName", lb);
	return aws_built(q);
}

int
aws_elb_parse_describe_load_balancer_attributes(const xmlNode *result,
    struct aws_elb_attributes *out, char *err, size_t errlen)
{
	const xmlNode	*a;

	memset(out, 0, sizeof(*out));
	out->draining_timeout = out->idle_timeout = -1;
	if ((a = aws_xml_find(result, "LoadBalancerAttributes")) == NULL)
		return aws_perr(err, errlen, "missing LoadBalancerAttributes");
	if (aws_get_bool(a, "ConnectionDraining/Enabled", AWS_REQ, &out->draining,
	    err, errlen) == -1 ||
	    aws_get_int(a, "ConnectionDraining/Timeout", out->draining,
	    &out->draining_timeout, err, errlen) == -1 ||
	    aws_get_bool(a, "CrossZoneLoadBalancing/Enabled", AWS_OPT,
	    &out->cross_zone, err, errlen) == -1 ||
	    aws_get_int(a, "ConnectionSettings/IdleTimeout", AWS_OPT,
	    &out->idle_timeout, err, errlen) == -1)
		return aws_perr_in(err, errlen, "LoadBalancerAttributes");
	if (!out->draining)
		out->draining_timeout = -1;
	return 0;
}

AWS_OP_TYPED(attributes, struct aws_elb_attributes, aws_elb_attributes_cb,
    aws_elb_parse_describe_load_balancer_attributes, aws_no_release)

struct aws_op *
aws_elb_describe_load_balancer_attributes(struct aws_client *client,
    const char *lb, aws_elb_attributes_cb cb, void *arg)
{
	struct aws_query	 q;
	int			 built;

	built = aws_elb_describe_load_balancer_attributes_query(&q, lb);
	return attributes_run(client, &q, built, cb, arg);
}
