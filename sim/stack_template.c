/*
 * The Quick Start template as data (see stack_template.h and quickstart-stack.md).
 * BitbucketVersion and the secrets live only in the launch configuration's cfn-init
 * metadata: changing them modifies the LC's Metadata, never replaces it. Instance
 * type and key pair are LC properties: changing them replaces the LC, which
 * accounts created after 2024-10-01 cannot do.
 */
#include <stdio.h>
#include <string.h>

#include "sim/model_int.h"
#include "sim/stack_template.h"

#define ASG_T	"AWS::AutoScaling::AutoScalingGroup"
#define LC_T	"AWS::AutoScaling::LaunchConfiguration"

const struct sim_tparam sim_tparams[] = {
	{ "BitbucketVersion", "7.21.0", 0 },
	{ "ClusterNodeMin", "1", 0 },
	{ "ClusterNodeMax", "2", 0 },
	{ "ClusterNodeInstanceType", "c5.xlarge", 0 },
	{ "FileServerInstanceType", "m5.large", 0 },
	{ "KeyName", NULL, 0 },
	{ "AccessCIDR", NULL, 0 },
	{ "HomeSize", "1000", 0 },
	{ "DBMultiAZ", "true", 0 },
	{ "DBMaster", "", 0 },
	{ "DBPassword", NULL, 1 },
	{ "DBMasterUserPassword", NULL, 1 },
	{ "BitbucketAdminPassword", NULL, 1 },
	{ "BitbucketLicenseKey", "", 1 },
	{ "ElasticSearchPassword", "", 1 },
};
const size_t sim_ntparams = nitems(sim_tparams);

/* The values the stack was created with (those not from the scenario). */
static const struct { const char *key, *value; } created_with[] = {
	{ "ClusterNodeInstanceType", "c5.xlarge" },
	{ "FileServerInstanceType", "m5.large" },
	{ "KeyName", "bitbucket-admin" },
	{ "AccessCIDR", "0.0.0.0/0" },
	{ "HomeSize", "1000" },
	{ "DBMultiAZ", "true" },
	{ "DBMaster", "" },
	{ "DBPassword", "db-Secret-1" },
	{ "DBMasterUserPassword", "master-Secret-2" },
	{ "BitbucketAdminPassword", "admin-Secret-3" },
	{ "BitbucketLicenseKey", "AAABLicenceKeyExample" },
	{ "ElasticSearchPassword", "" },
};

const struct sim_effect sim_effects[] = {
	{ "BitbucketVersion", "ClusterNodeLaunchConfig", "Metadata", NULL, "Never" },
	{ "BitbucketAdminPassword", "ClusterNodeLaunchConfig", "Metadata", NULL, "Never" },
	{ "BitbucketLicenseKey", "ClusterNodeLaunchConfig", "Metadata", NULL, "Never" },
	{ "ElasticSearchPassword", "ClusterNodeLaunchConfig", "Metadata", NULL, "Never" },
	{ "ClusterNodeMin", "ClusterNodeGroup", "Properties", "MinSize", "Never" },
	{ "ClusterNodeMin", "ClusterNodeGroup", "Properties", "DesiredCapacity", "Never" },
	{ "ClusterNodeMax", "ClusterNodeGroup", "Properties", "MaxSize", "Never" },
	{ "ClusterNodeInstanceType", "ClusterNodeLaunchConfig", "Properties",
	    "InstanceType", "Always" },
	{ "KeyName", "ClusterNodeLaunchConfig", "Properties", "KeyName", "Always" },
	{ "FileServerInstanceType", "FileServer", "Properties", "InstanceType", "Never" },
	{ "HomeSize", "FileServer", "Properties", "BlockDeviceMappings", "Always" },
	{ "AccessCIDR", "SecurityGroup", "Properties", "SecurityGroupIngress", "Never" },
	{ "DBMultiAZ", "DB", "Properties", "MultiAZ", "Never" },
	{ "DBMaster", "DB", "Properties", "SourceDBInstanceIdentifier", "Always" },
	{ "DBPassword", "DB", "Properties", "MasterUserPassword", "Never" },
	{ "DBMasterUserPassword", "DB", "Properties", "MasterUserPassword", "Never" },
};
const size_t sim_neffects = nitems(sim_effects);

/* What a changed nested template at its URL does to the product stack. */
const struct sim_effect sim_drift[] = {
	{ NULL, "SecurityGroup", "Properties", "SecurityGroupIngress", "Never" },
	{ NULL, "ClusterNodeLaunchConfig", "Properties", "UserData", "Always" },
};
const size_t sim_ndrift = nitems(sim_drift);

static const struct { const char *logical, *type; } types[] = {
	{ "ClusterNodeGroup", ASG_T },
	{ "ClusterNodeLaunchConfig", LC_T },
	{ "LoadBalancer", "AWS::ElasticLoadBalancing::LoadBalancer" },
	{ "FileServer", "AWS::EC2::Instance" },
	{ "SecurityGroup", "AWS::EC2::SecurityGroup" },
	{ "DB", "AWS::RDS::DBInstance" },
	{ "ClusterNodeRole", "AWS::IAM::Role" },
	{ "CPUAlarmHigh", "AWS::CloudWatch::Alarm" },
	{ "CPUAlarmLow", "AWS::CloudWatch::Alarm" },
	{ "VPCStack", "AWS::CloudFormation::Stack" },
	{ "BitbucketDCStack", "AWS::CloudFormation::Stack" },
};

const char *
sim_resource_type(const char *logical_id)
{
	for (size_t i = 0; i < nitems(types); i++)
		if (strcmp(types[i].logical, logical_id) == 0)
			return types[i].type;
	return "AWS::CloudFormation::CustomResource";
}

static const char *
initial_value(struct sim_model *m, const char *key, char *buf, size_t len)
{
	if (strcmp(key, "BitbucketVersion") == 0)
		return m->p.version;
	if (strcmp(key, "DBMaster") == 0)
		return m->p.db_master;	/* set: a standby cluster (aws-behaviours.md 15) */
	if (strcmp(key, "ClusterNodeMin") == 0 || strcmp(key, "ClusterNodeMax") == 0) {
		snprintf(buf, len, "%d", m->p.nodes);
		return buf;
	}
	for (size_t i = 0; i < nitems(created_with); i++)
		if (strcmp(created_with[i].key, key) == 0)
			return created_with[i].value;
	return "";
}

void
sim_stack_template_params(struct sim_model *m, struct sim_stack *st)
{
	char buf[16];

	st->nparams = sim_ntparams;
	for (size_t i = 0; i < sim_ntparams; i++) {
		struct sim_param *p = &st->params[i];

		sim_strlcpy(p->key, sim_tparams[i].key, sizeof(p->key));
		sim_strlcpy(p->value, initial_value(m, p->key, buf, sizeof(buf)),
		    sizeof(p->value));
		p->no_echo = sim_tparams[i].no_echo;
	}
}

static void
add_res(struct sim_stack *st, const char *logical, const char *physical)
{
	struct sim_stack_resource *r = &st->res[st->nres++];

	sim_strlcpy(r->logical_id, logical, sizeof(r->logical_id));
	sim_strlcpy(r->physical_id, physical, sizeof(r->physical_id));
	sim_strlcpy(r->type, sim_resource_type(logical), sizeof(r->type));
	sim_strlcpy(r->status, "CREATE_COMPLETE", sizeof(r->status));
	r->updated = st->created;
}

static void
add_named(struct sim_model *m, struct sim_stack *st, const char *logical)
{
	char buf[SIM_ARN_MAX], sfx[16];

	sim_rng_alnum(&m->rng_ids, sfx, 12);
	snprintf(buf, sizeof(buf), "%s-%s-%s", st->name, logical, sfx);
	add_res(st, logical, buf);
}

static void
product_resources(struct sim_model *m, struct sim_stack *st)
{
	char buf[SIM_ARN_MAX], hex[17];

	add_res(st, "ClusterNodeGroup", m->asg.name);
	add_res(st, "ClusterNodeLaunchConfig", m->asg.lc_name);
	add_res(st, "LoadBalancer", m->elb.name);
	add_res(st, "FileServer", m->file_server->id);
	sim_rng_hex(&m->rng_ids, hex, 16);
	snprintf(buf, sizeof(buf), "sg-0%s", hex);
	add_res(st, "SecurityGroup", buf);
	sim_rng_hex(&m->rng_ids, hex, 12);
	snprintf(buf, sizeof(buf), "db%s", hex);
	add_res(st, "DB", buf);
	add_named(m, st, "ClusterNodeRole");
	add_named(m, st, "CPUAlarmHigh");
	add_named(m, st, "CPUAlarmLow");
}

static void
add_output(struct sim_stack *st, const char *key, const char *value, const char *desc)
{
	struct sim_output *o = &st->out[st->nout++];

	o->key = key;
	sim_strlcpy(o->value, value, sizeof(o->value));
	o->description = desc;
}

/* The events of the stack's creation, three days before the scenario begins. */
static void
creation_events(struct sim_model *m, struct sim_stack *st)
{
	char token[SIM_TOKEN_MAX], uuid[40];
	int64_t t = st->created;

	sim_rng_uuid(&m->rng_ids, uuid, sizeof(uuid));
	snprintf(token, sizeof(token), "Console-CreateStack-%s", uuid);
	sim_stack_event_at(m, st, t, st->name, "CREATE_IN_PROGRESS", "User Initiated",
	    token);
	for (size_t i = 0; i < st->nres; i++) {
		t += 1000;
		sim_stack_event_at(m, st, t, st->res[i].logical_id, "CREATE_IN_PROGRESS",
		    NULL, token);
		t += 60 * 1000;
		sim_stack_event_at(m, st, t, st->res[i].logical_id, "CREATE_COMPLETE", NULL,
		    token);
	}
	sim_stack_event_at(m, st, t + 1000, st->name, "CREATE_COMPLETE", NULL, token);
}

void
sim_stack_template_resources(struct sim_model *m, struct sim_stack *st)
{
	char buf[SIM_ARN_MAX], sfx[16], uuid[40];

	if (st->child != NULL) {
		sim_rng_alnum(&m->rng_ids, sfx, 12);
		sim_rng_uuid(&m->rng_ids, uuid, sizeof(uuid));
		snprintf(buf, sizeof(buf), "arn:aws:cloudformation:%.20s:%.12s:stack/"
		    "%.100s-VPCStack-%.12s/%.36s", m->p.region, m->p.account, st->name, sfx, uuid);
		add_res(st, "VPCStack", buf);
		add_res(st, "BitbucketDCStack", st->child->id);
	} else
		product_resources(m, st);
	add_output(st, "ClusterNodeGroup", m->asg.name, "The name of the auto scaling group");
	snprintf(buf, sizeof(buf), "http://%s", m->elb.dns);
	add_output(st, "ServiceURL", buf, "The URL to access this Atlassian service");
	add_output(st, "LoadBalancerURL", buf, "The Load Balancer URL");
	creation_events(m, st);
}
