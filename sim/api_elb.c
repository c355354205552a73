/*
 * The Classic ELB's operations on the Quick Start's load balancer (see api.h): its
 * description and attributes, instance health as the model judges it (draining
 * included: "Instance deregistration currently in progress" while InService), and
 * the two writes that start or cancel a drain.
 *
 * Two views of "registered" on purpose: DescribeInstanceHealth keeps listing an
 * instance while it drains (that is how a client watches the drain end), while the
 * load balancer's instance list and the answers of (De)Register leave it out at once.
 */
#include <stdio.h>
#include <string.h>

#include "sim/api.h"
#include "sim/auth.h"
#include "sim/model.h"
#include "sim/sim.h"
#include "sim/wire.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define NAMES_MAX	20
#define INSTANCES_MAX	1000
#define ZONE_ID		"Z35SXDOTRQ7X7K"	/* the hosted zone of us-east-1's ELBs */

/* ---- reading ---- */

/* aws-errors.md 8 (a public CLI transcript; spinnaker/spinnaker#2699): S */
static int
check_lb(struct sim_aws_call *c, const struct sim_model *m, const char *name)
{
	if (strcmp(name, m->elb.name) == 0)
		return 0;
	return sim_call_fail(c, 400, "LoadBalancerNotFound", "There is no ACTIVE Load "
	    "Balancer named '%s'", name);
}

/* Instances.member.N.InstanceId, each required. */
static int
read_instances(struct sim_aws_call *c, const char **ids, size_t *n)
{
	char	 name[64];

	if (sim_api_list(c, "Instances", INSTANCES_MAX, n) == -1)
		return -1;
	for (size_t i = 0; i < *n; i++) {
		ids[i] = sim_form_item(c->form, "Instances", SIM_LIST_QUERY, i + 1,
		    "InstanceId");
		if (ids[i] == NULL) {
			sim_form_item_name(name, sizeof(name), "Instances",
			    SIM_LIST_QUERY, i + 1, "InstanceId");
			return sim_api_missing(c, name);
		}
	}
	return 0;
}

/* ---- writing ---- */

/* The instances the load balancer routes to or checks: registered, not draining. */
static void
write_registered(struct sim_xml *x, const struct sim_model *m)
{
	sim_xml_open(x, "Instances", NULL);
	for (size_t i = 0; i < m->ninst; i++) {
		if (!m->inst[i]->elb.registered || m->inst[i]->elb.draining)
			continue;
		sim_xml_open(x, "member", NULL);
		sim_xml_text(x, "InstanceId", m->inst[i]->id);
		sim_xml_close(x, "member");
	}
	sim_xml_close(x, "Instances");
}

static void
write_listener(struct sim_xml *x, const char *proto, int port, int to,
    const char *policy)
{
	sim_xml_open(x, "member", NULL);
	sim_xml_open(x, "Listener", NULL);
	sim_xml_text(x, "Protocol", proto);
	sim_xml_textf(x, "LoadBalancerPort", "%d", port);
	sim_xml_text(x, "InstanceProtocol", proto);
	sim_xml_textf(x, "InstancePort", "%d", to);
	sim_xml_close(x, "Listener");
	sim_xml_open(x, "PolicyNames", NULL);
	if (policy != NULL)
		sim_xml_text(x, "member", policy);
	sim_xml_close(x, "PolicyNames");
	sim_xml_close(x, "member");
}

/* The Quick Start's: HTTP 80 -> 7990 sticky on BITBUCKETSESSIONID, SSH 7999. */
static void
write_listeners(struct sim_xml *x)
{
	sim_xml_open(x, "ListenerDescriptions", NULL);
	write_listener(x, "HTTP", 80, 7990, "SessionStickiness");
	write_listener(x, "TCP", 7999, 7999, NULL);
	sim_xml_close(x, "ListenerDescriptions");
	sim_xml_open(x, "Policies", NULL);
	sim_xml_open(x, "AppCookieStickinessPolicies", NULL);
	sim_xml_open(x, "member", NULL);
	sim_xml_text(x, "PolicyName", "SessionStickiness");
	sim_xml_text(x, "CookieName", "BITBUCKETSESSIONID");
	sim_xml_close(x, "member");
	sim_xml_close(x, "AppCookieStickinessPolicies");
	sim_xml_empty(x, "LBCookieStickinessPolicies");
	sim_xml_empty(x, "OtherPolicies");
	sim_xml_close(x, "Policies");
	sim_xml_empty(x, "BackendServerDescriptions");
}

/* The model's timings, in the seconds AWS counts in (AWS wants timeout < interval). */
static void
write_health_check(struct sim_xml *x, const struct sim_model *m)
{
	long	 interval = (long)((m->p.health_interval + 999) / 1000);
	long	 timeout = interval > 30 ? 29 : interval > 1 ? interval - 1 : 1;

	sim_xml_open(x, "HealthCheck", NULL);
	sim_xml_text(x, "Target", "HTTP:7990/status");
	sim_xml_textf(x, "Interval", "%ld", interval);
	sim_xml_textf(x, "Timeout", "%ld", timeout);
	sim_xml_textf(x, "UnhealthyThreshold", "%d", m->p.unhealthy_threshold);
	sim_xml_textf(x, "HealthyThreshold", "%d", m->p.healthy_threshold);
	sim_xml_close(x, "HealthCheck");
}

static void
write_network(struct sim_xml *x, const struct sim_model *m)
{
	const struct sim_stack		*ps = m->stack[m->nstacks - 1];
	const struct sim_stack_resource	*sg = sim_stack_resource(ps, "SecurityGroup");
	char				 id[40];

	sim_xml_open(x, "AvailabilityZones", NULL);
	sim_xml_textf(x, "member", "%sa", m->p.region);
	sim_xml_close(x, "AvailabilityZones");
	sim_xml_open(x, "Subnets", NULL);
	sim_api_fake_id(id, sizeof(id), "subnet-0", m->stack[0]->id, 16);
	sim_xml_text(x, "member", id);
	sim_xml_close(x, "Subnets");
	sim_api_fake_id(id, sizeof(id), "vpc-0", m->stack[0]->id, 16);
	sim_xml_text(x, "VPCId", id);
	write_registered(x, m);
	write_health_check(x, m);
	sim_xml_open(x, "SourceSecurityGroup", NULL);
	sim_xml_text(x, "OwnerAlias", m->p.account);
	sim_xml_textf(x, "GroupName", "%s-SecurityGroup", ps->name);
	sim_xml_close(x, "SourceSecurityGroup");
	sim_xml_open(x, "SecurityGroups", NULL);
	if (sg != NULL)
		sim_xml_text(x, "member", sg->physical_id);
	sim_xml_close(x, "SecurityGroups");
}

static void
write_lb(struct sim_xml *x, const struct sim_model *m)
{
	char	 t[SIM_API_TIME_MAX];

	sim_xml_open(x, "member", NULL);
	sim_xml_text(x, "LoadBalancerName", m->elb.name);
	sim_xml_text(x, "DNSName", m->elb.dns);
	sim_xml_text(x, "CanonicalHostedZoneName", m->elb.dns);
	sim_xml_text(x, "CanonicalHostedZoneNameID", ZONE_ID);
	write_listeners(x);
	write_network(x, m);
	sim_xml_text(x, "CreatedTime", sim_api_time(m, m->elb.created, t));
	sim_xml_text(x, "Scheme", "internet-facing");
	sim_xml_close(x, "member");
}

/* ---- operations ---- */

static int
describe_load_balancers(struct sim_aws_call *c)
{
	struct sim_model	*m;
	struct sim_xml		 x;
	const char		*names[NAMES_MAX], *marker;
	size_t			 n, from = 0;
	long			 size = 400;

	if ((m = sim_api_begin(c, SIM_SVC_ELB)) == NULL)
		return -1;
	if (sim_api_list(c, "LoadBalancerNames", NAMES_MAX, &n) == -1)
		return -1;
	for (size_t i = 0; i < n; i++)
		names[i] = sim_form_item(c->form, "LoadBalancerNames", SIM_LIST_QUERY,
		    i + 1, NULL);
	marker = sim_form_get(c->form, "Marker");
	if (sim_api_int(c, "PageSize", 1, 400, &size) == -1 ||
	    sim_call_params_done(c) == -1)
		return -1;
	if (marker != NULL && sim_api_token_read(marker, &from) == -1)
		return sim_api_invalid(c, "Marker", marker, "Member must be a marker "
		    "this load balancer service returned");
	for (size_t i = 0; i < n; i++)
		if (check_lb(c, m, names[i]) == -1)
			return -1;
	sim_xml_init(&x, SIM_XML_QUERY_INDENT);
	sim_xml_query_begin(&x, "DescribeLoadBalancers", c->svc->ns, 1);
	sim_xml_open(&x, "LoadBalancerDescriptions", NULL);
	if (from == 0)
		write_lb(&x, m);
	sim_xml_close(&x, "LoadBalancerDescriptions");
	sim_xml_query_end(&x, "DescribeLoadBalancers", c->reqid, 1);
	return sim_call_xml(c, &x);
}

static void
write_health(struct sim_xml *x, const struct sim_model *m, const struct sim_instance *in)
{
	struct sim_elb_health	 h;

	sim_elb_health(m, in, &h);
	sim_xml_open(x, "member", NULL);
	sim_xml_text(x, "InstanceId", in->id);
	sim_xml_text(x, "State", h.state);
	sim_xml_text(x, "ReasonCode", h.reason_code);
	sim_xml_text(x, "Description", h.description);
	sim_xml_close(x, "member");
}

/* aws-errors.md 8 (boto/boto#2274): V; the InstanceDeregistered waiter reads it. */
static int
check_known(struct sim_aws_call *c, struct sim_model *m, const char **ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (sim_ec2_find(m, ids[i]) == NULL)
			return sim_call_fail(c, 400, "InvalidInstance", "Could not find "
			    "EC2 instance %s.", ids[i]);
	return 0;
}

static int
describe_instance_health(struct sim_aws_call *c)
{
	static const char	*ids[INSTANCES_MAX];
	struct sim_model	*m;
	struct sim_xml		 x;
	const char		*name;
	size_t			 n;

	if ((m = sim_api_begin(c, SIM_SVC_ELB)) == NULL)
		return -1;
	if ((name = sim_api_need(c, "LoadBalancerName")) == NULL ||
	    read_instances(c, ids, &n) == -1 || sim_call_params_done(c) == -1 ||
	    check_lb(c, m, name) == -1 || check_known(c, m, ids, n) == -1)
		return -1;
	sim_xml_init(&x, SIM_XML_QUERY_INDENT);
	sim_xml_query_begin(&x, "DescribeInstanceHealth", c->svc->ns, 1);
	sim_xml_open(&x, "InstanceStates", NULL);
	for (size_t i = 0; i < n; i++)
		write_health(&x, m, sim_ec2_find(m, ids[i]));
	for (size_t i = 0; n == 0 && i < m->ninst; i++)
		if (m->inst[i]->elb.registered)
			write_health(&x, m, m->inst[i]);
	sim_xml_close(&x, "InstanceStates");
	sim_xml_query_end(&x, "DescribeInstanceHealth", c->reqid, 1);
	return sim_call_xml(c, &x);
}

/* Deregister (draining starts) or register (a drain is cancelled, or a launch). */
static int
change_registration(struct sim_aws_call *c, int add)
{
	static const char	*ids[INSTANCES_MAX];
	struct sim_model	*m;
	struct sim_err		 err;
	struct sim_xml		 x;
	const char		*name;
	size_t			 n;
	int			 rc;

	if ((m = sim_api_begin(c, SIM_SVC_ELB)) == NULL)
		return -1;
	if ((name = sim_api_need(c, "LoadBalancerName")) == NULL ||
	    read_instances(c, ids, &n) == -1)
		return -1;
	if (n == 0)
		return sim_api_missing(c, "Instances");
	if (sim_call_params_done(c) == -1 || check_lb(c, m, name) == -1)
		return -1;
	rc = add ? sim_elb_register(m, ids, n, c->sim->now, &err) :
	    sim_elb_deregister(m, ids, n, c->sim->now, &err);
	if (rc == -1)
		return sim_api_fail(c, &err);
	sim_xml_init(&x, SIM_XML_QUERY_INDENT);
	sim_xml_query_begin(&x, c->action, c->svc->ns, 1);
	write_registered(&x, m);
	sim_xml_query_end(&x, c->action, c->reqid, 1);
	return sim_call_xml(c, &x);
}

static int
deregister_instances(struct sim_aws_call *c)
{
	return change_registration(c, 0);
}

static int
register_instances(struct sim_aws_call *c)
{
	return change_registration(c, 1);
}

/* The template's: cross-zone, draining for the model's timeout, idle 3600 s. */
static void
write_attributes(struct sim_xml *x, const struct sim_model *m)
{
	sim_xml_open(x, "LoadBalancerAttributes", NULL);
	sim_xml_open(x, "CrossZoneLoadBalancing", NULL);
	sim_xml_text(x, "Enabled", "true");
	sim_xml_close(x, "CrossZoneLoadBalancing");
	sim_xml_open(x, "AccessLog", NULL);
	sim_xml_text(x, "Enabled", "false");
	sim_xml_close(x, "AccessLog");
	sim_xml_open(x, "ConnectionDraining", NULL);
	sim_xml_text(x, "Enabled", "true");
	sim_xml_textf(x, "Timeout", "%ld", (long)((m->p.drain_timeout + 999) / 1000));
	sim_xml_close(x, "ConnectionDraining");
	sim_xml_open(x, "ConnectionSettings", NULL);
	sim_xml_text(x, "IdleTimeout", "3600");
	sim_xml_close(x, "ConnectionSettings");
	sim_xml_open(x, "AdditionalAttributes", NULL);
	sim_xml_open(x, "member", NULL);
	sim_xml_text(x, "Key", "elb.http.desyncmitigationmode");
	sim_xml_text(x, "Value", "defensive");
	sim_xml_close(x, "member");
	sim_xml_close(x, "AdditionalAttributes");
	sim_xml_close(x, "LoadBalancerAttributes");
}

static int
describe_attributes(struct sim_aws_call *c)
{
	struct sim_model	*m;
	struct sim_xml		 x;
	const char		*name;

	if ((m = sim_api_begin(c, SIM_SVC_ELB)) == NULL)
		return -1;
	if ((name = sim_api_need(c, "LoadBalancerName")) == NULL ||
	    sim_call_params_done(c) == -1 || check_lb(c, m, name) == -1)
		return -1;
	sim_xml_init(&x, SIM_XML_QUERY_INDENT);
	sim_xml_query_begin(&x, "DescribeLoadBalancerAttributes", c->svc->ns, 1);
	write_attributes(&x, m);
	sim_xml_query_end(&x, "DescribeLoadBalancerAttributes", c->reqid, 1);
	return sim_call_xml(c, &x);
}

static const struct sim_op elb_ops[] = {
	{ "DeregisterInstancesFromLoadBalancer", deregister_instances },
	{ "DescribeInstanceHealth", describe_instance_health },
	{ "DescribeLoadBalancerAttributes", describe_attributes },
	{ "DescribeLoadBalancers", describe_load_balancers },
	{ "RegisterInstancesWithLoadBalancer", register_instances },
};

int
sim_api_elb_init(void)
{
	return sim_aws_register("elasticloadbalancing", "2012-06-01", elb_ops,
	    NITEMS(elb_ops));
}
