/*
 * EC2's two operations (see api.h): DescribeInstances, how the daemon maps group
 * members to private IPs and launch times, and TerminateInstances, which the daemon
 * must never call (its IAM policy lacks it) but an operator following the console
 * procedure does: the model kills at once and lets the group notice later.
 *
 * EC2 speaks its own dialect: flattened lists (InstanceId.1, Filter.1.Value.1),
 * lowerCamel elements in <item>s, a 4-space indent, errors without <Type>.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "sim/api.h"
#include "sim/auth.h"
#include "sim/model.h"
#include "sim/sim.h"
#include "sim/wire.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))
#define IDS_MAX		1000
#define FILTERS_MAX	50
#define VALUES_MAX	200

/* ---- reading ---- */

static int
read_ids(struct sim_aws_call *c, const char **ids, size_t *n)
{
	if (sim_api_list(c, "InstanceId", IDS_MAX, n) == -1)
		return -1;
	for (size_t i = 0; i < *n; i++)
		ids[i] = sim_form_item(c->form, "InstanceId", SIM_LIST_EC2, i + 1, NULL);
	return 0;
}

/* aws-errors.md 8: Malformed first (ClusterLabs/cluster-glue#29), then NotFound. */
static int
check_ids(struct sim_aws_call *c, struct sim_model *m, const char **ids, size_t n)
{
	char	 list[SIM_MSG_MAX] = "";
	size_t	 missing = 0, len;

	for (size_t i = 0; i < n; i++)
		if (!sim_ec2_id_valid(ids[i]))
			return sim_call_fail(c, 400, "InvalidInstanceID.Malformed",
			    "Invalid id: \"%s\"", ids[i]);
	for (size_t i = 0; i < n; i++) {
		if (sim_ec2_find(m, ids[i]) != NULL)
			continue;
		len = strlen(list);
		snprintf(list + len, sizeof(list) - len, "%s%s", missing ? ", " : "",
		    ids[i]);
		missing++;
	}
	if (missing == 0)
		return 0;
	/* openaddresses/machine#445 (V), getmoto/moto#4903 for the plural (S). */
	return sim_call_fail(c, 400, "InvalidInstanceID.NotFound", "The instance ID%s "
	    "'%s' %s not exist", missing == 1 ? "" : "s", list, missing == 1 ? "does" :
	    "do");
}

static int
dry_run(struct sim_aws_call *c, int *dry)
{
	*dry = 0;
	return sim_api_bool(c, "DryRun", dry);
}

static int
dry_run_answer(struct sim_aws_call *c)
{
	return sim_call_fail(c, 412, "DryRunOperation",
	    "Request would have succeeded, but DryRun flag is set.");
}

struct filter {
	const char	*name;
	const char	*v[VALUES_MAX];
	size_t		 nv;
};

static int
read_filter(struct sim_aws_call *c, size_t i, struct filter *f)
{
	char	 name[64];

	f->name = sim_form_item(c->form, "Filter", SIM_LIST_EC2, i, "Name");
	sim_form_item_name(name, sizeof(name), "Filter", SIM_LIST_EC2, i, "Value");
	if (sim_api_list(c, name, VALUES_MAX, &f->nv) == -1)
		return -1;
	for (size_t k = 0; k < f->nv; k++)
		f->v[k] = sim_form_item(c->form, name, SIM_LIST_EC2, k + 1, NULL);
	if (f->name == NULL) {
		sim_form_item_name(name, sizeof(name), "Filter", SIM_LIST_EC2, i, "Name");
		return sim_api_missing(c, name);
	}
	return 0;
}

static int
read_filters(struct sim_aws_call *c, struct filter *f, size_t *n)
{
	if (sim_api_list(c, "Filter", FILTERS_MAX, n) == -1)
		return -1;
	for (size_t i = 0; i < *n; i++)
		if (read_filter(c, i + 1, &f[i]) == -1)
			return -1;
	return 0;
}

/* ---- filtering ---- */

/* EC2's values take * and ? as wildcards. */
static int
any_match(const struct filter *f, const char *s)
{
	for (size_t i = 0; i < f->nv; i++)
		if (fnmatch(f->v[i], s, 0) == 0)
			return 1;
	return 0;
}

static int
tag_match(const struct filter *f, const struct sim_tag *t, size_t nt)
{
	for (size_t i = 0; i < nt; i++) {
		if (strncmp(f->name, "tag:", 4) == 0 &&
		    strcmp(f->name + 4, t[i].key) == 0 && any_match(f, t[i].value))
			return 1;
		if (strcmp(f->name, "tag-key") == 0 && any_match(f, t[i].key))
			return 1;
		if (strcmp(f->name, "tag-value") == 0 && any_match(f, t[i].value))
			return 1;
	}
	return 0;
}

/* The instance's value for a filter on one of its attributes, or NULL. */
static const char *
attribute(const struct filter *f, const struct sim_instance *in, char *buf, size_t len)
{
	if (strcmp(f->name, "instance-id") == 0)
		return in->id;
	if (strcmp(f->name, "instance-state-name") == 0)
		return sim_ec2_state_name(in->state);
	if (strcmp(f->name, "instance-state-code") == 0) {
		snprintf(buf, len, "%d", sim_ec2_state_code(in->state));
		return buf;
	}
	if (strcmp(f->name, "private-ip-address") == 0)
		return in->ip;
	if (strcmp(f->name, "availability-zone") == 0)
		return in->az;
	if (strcmp(f->name, "instance-type") == 0)
		return in->type;
	return NULL;
}

static int
is_tag_filter(const char *name)
{
	return strncmp(name, "tag:", 4) == 0 || strcmp(name, "tag-key") == 0 ||
	    strcmp(name, "tag-value") == 0;
}

/* The filters of DescribeInstances' many that bbsim knows (see attribute()). */
static int
is_known_filter(const char *name)
{
	static const char *const names[] = {
		"instance-id", "instance-state-name", "instance-state-code",
		"private-ip-address", "availability-zone", "instance-type",
	};

	for (size_t i = 0; i < NITEMS(names); i++)
		if (strcmp(name, names[i]) == 0)
			return 1;
	return is_tag_filter(name);
}

static int
check_filters(struct sim_aws_call *c, const struct filter *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!is_known_filter(f[i].name))
			return sim_call_fail(c, 400, "InvalidParameterValue",
			    "The filter '%s' is invalid", f[i].name);
		/* U: AWS's words for a filter without a value. */
		if (f[i].nv == 0)
			return sim_call_fail(c, 400, "InvalidParameterValue",
			    "The filter '%s' requires a value", f[i].name);
	}
	return 0;
}

static int
selected(const struct sim_model *m, const struct sim_instance *in,
    const char *const *ids, size_t nids, const struct filter *f, size_t nf)
{
	struct sim_tag	 t[SIM_TAGS_MAX];
	size_t		 nt = sim_ec2_tags(m, in, t, SIM_TAGS_MAX), k;
	const char	*v;
	char		 buf[16];

	for (k = 0; k < nids; k++)
		if (strcmp(ids[k], in->id) == 0)
			break;
	if (nids > 0 && k == nids)
		return 0;
	if (nt > SIM_TAGS_MAX)
		nt = SIM_TAGS_MAX;
	for (size_t i = 0; i < nf; i++) {
		if (is_tag_filter(f[i].name)) {
			if (!tag_match(&f[i], t, nt))
				return 0;
		} else if ((v = attribute(&f[i], in, buf, sizeof(buf))) == NULL ||
		    !any_match(&f[i], v))
			return 0;
	}
	return 1;
}

/* ---- writing ---- */

static void
write_state(struct sim_xml *x, const char *element, enum sim_ec2_state s)
{
	sim_xml_open(x, element, NULL);
	sim_xml_textf(x, "code", "%d", sim_ec2_state_code(s));
	sim_xml_text(x, "name", sim_ec2_state_name(s));
	sim_xml_close(x, element);
}

static void
write_tags(struct sim_xml *x, const struct sim_model *m, const struct sim_instance *in)
{
	struct sim_tag	 t[SIM_TAGS_MAX];
	size_t		 n = sim_ec2_tags(m, in, t, SIM_TAGS_MAX);

	sim_xml_open(x, "tagSet", NULL);
	for (size_t i = 0; i < n && i < SIM_TAGS_MAX; i++) {
		sim_xml_open(x, "item", NULL);
		sim_xml_text(x, "key", t[i].key);
		sim_xml_text(x, "value", t[i].value);
		sim_xml_close(x, "item");
	}
	sim_xml_close(x, "tagSet");
}

/* "Client.UserInitiatedShutdown: User initiated shutdown": the code, then all of it. */
static void
write_state_reason(struct sim_xml *x, const struct sim_instance *in)
{
	size_t	 k = strcspn(in->state_reason, ":");

	if (in->state_reason[0] == '\0')
		return;
	sim_xml_open(x, "stateReason", NULL);
	sim_xml_textf(x, "code", "%.*s", (int)k, in->state_reason);
	sim_xml_text(x, "message", in->state_reason);
	sim_xml_close(x, "stateReason");
}

/* "User initiated (2025-01-01 00:00:05 GMT)" once the instance is going down. */
static void
write_transition(struct sim_xml *x, const struct sim_model *m,
    const struct sim_instance *in)
{
	char	 t[SIM_API_TIME_MAX];

	if (in->state_reason[0] == '\0') {
		sim_xml_empty(x, "reason");
		return;
	}
	sim_time_format(m, in->state_time, 0, t, sizeof(t));
	t[10] = ' ';
	t[19] = '\0';
	sim_xml_textf(x, "reason", "User initiated (%s GMT)", t);
}

static void
write_placement(struct sim_xml *x, const struct sim_instance *in)
{
	sim_xml_open(x, "placement", NULL);
	sim_xml_empty(x, "groupName");
	sim_xml_text(x, "tenancy", "default");
	sim_xml_text(x, "availabilityZone", in->az);
	sim_xml_close(x, "placement");
}

/* A terminated instance has lost its network interface: no address, no subnet. */
static void
write_network(struct sim_xml *x, const struct sim_model *m, const struct sim_instance *in)
{
	char	 id[40];

	if (in->state == SIM_EC2_TERMINATED)
		return;
	sim_api_fake_id(id, sizeof(id), "subnet-0", m->stack[0]->id, 16);
	sim_xml_text(x, "subnetId", id);
	sim_api_fake_id(id, sizeof(id), "vpc-0", m->stack[0]->id, 16);
	sim_xml_text(x, "vpcId", id);
	sim_xml_text(x, "privateIpAddress", in->ip);
}

/* "ip-10-0-1-2.ec2.internal"; "" once terminated. */
static void
write_dns(struct sim_xml *x, const struct sim_model *m, const struct sim_instance *in)
{
	char		 dns[96] = "";
	unsigned	 a, b, c, d;

	if (in->state != SIM_EC2_TERMINATED &&
	    sscanf(in->ip, "%u.%u.%u.%u", &a, &b, &c, &d) == 4)
		snprintf(dns, sizeof(dns), "ip-%u-%u-%u-%u.%s", a, b, c, d,
		    strcmp(m->p.region, "us-east-1") == 0 ? "ec2.internal" :
		    "compute.internal");
	sim_xml_text(x, "privateDnsName", dns);
}

static void
write_instance(struct sim_xml *x, const struct sim_model *m, const struct sim_instance *in)
{
	const char	*key = sim_stack_param(m->stack[m->nstacks - 1], "KeyName");
	char		 t[SIM_API_TIME_MAX], ami[40];

	sim_xml_open(x, "item", NULL);
	write_state_reason(x, in);
	write_tags(x, m, in);
	sim_xml_text(x, "instanceId", in->id);
	sim_api_fake_id(ami, sizeof(ami), "ami-0", m->stack[0]->id, 17);
	sim_xml_text(x, "imageId", ami);
	write_state(x, "instanceState", in->state);
	write_dns(x, m, in);
	sim_xml_empty(x, "dnsName");
	write_transition(x, m, in);
	sim_xml_text(x, "keyName", key != NULL ? key : "");
	sim_xml_text(x, "amiLaunchIndex", "0");
	sim_xml_text(x, "instanceType", in->type);
	sim_xml_text(x, "launchTime", sim_api_time(m, in->launch_time, t));
	write_placement(x, in);
	sim_xml_open(x, "monitoring", NULL);
	sim_xml_text(x, "state", in->member ? "enabled" : "disabled");
	sim_xml_close(x, "monitoring");
	write_network(x, m, in);
	sim_xml_close(x, "item");
}

/* One reservation per instance: the group launches them one at a time. */
static void
write_reservation(struct sim_xml *x, const struct sim_model *m,
    const struct sim_instance *in)
{
	char	 rid[40];

	sim_xml_open(x, "item", NULL);
	sim_api_fake_id(rid, sizeof(rid), "r-0", in->id, 16);
	sim_xml_text(x, "reservationId", rid);
	sim_xml_text(x, "ownerId", m->p.account);
	sim_xml_empty(x, "groupSet");
	sim_xml_open(x, "instancesSet", NULL);
	write_instance(x, m, in);
	sim_xml_close(x, "instancesSet");
	sim_xml_close(x, "item");
}

/* ---- DescribeInstances ---- */

struct query {
	const char	*ids[IDS_MAX];
	size_t		 nids;
	struct filter	 f[FILTERS_MAX];
	size_t		 nf;
	long		 max;
	size_t		 from;
	int		 dry;
};

static int
read_query(struct sim_aws_call *c, struct query *q)
{
	const char	*token, *maxr;

	q->max = 0;
	q->from = 0;
	maxr = sim_form_get(c->form, "MaxResults");
	if (read_ids(c, q->ids, &q->nids) == -1 || read_filters(c, q->f, &q->nf) == -1 ||
	    dry_run(c, &q->dry) == -1 || sim_api_int(c, "MaxResults", 5, 1000,
	    &q->max) == -1)
		return -1;
	token = sim_form_get(c->form, "NextToken");
	if (sim_call_params_done(c) == -1)
		return -1;
	/* The model's documentation: not both in one call. */
	if (maxr != NULL && q->nids > 0)
		return sim_call_fail(c, 400, "InvalidParameterCombination", "The "
		    "parameter instancesSet cannot be used with the parameter maxResults");
	if (token != NULL && sim_api_token_read(token, &q->from) == -1)
		return sim_call_fail(c, 400, "InvalidPaginationToken", "The specified "
		    "pagination token is not valid or is expired.");
	return 0;
}

/* Instances from position from; the next position, or 0 at the end. */
static size_t
write_selected(struct sim_xml *x, const struct sim_model *m, const struct query *q)
{
	long	 n = 0;

	for (size_t i = q->from; i < m->ninst; i++) {
		if (!selected(m, m->inst[i], q->ids, q->nids, q->f, q->nf))
			continue;
		if (q->max > 0 && n++ == q->max)
			return i;
		write_reservation(x, m, m->inst[i]);
	}
	return 0;
}

static int
describe_instances(struct sim_aws_call *c)
{
	static struct query	 q;	/* large; handlers run one at a time */
	struct sim_model	*m;
	struct sim_xml		 x, page;
	char			 tok[SIM_API_TOKEN_MAX];
	size_t			 next;

	if ((m = sim_api_begin(c, SIM_SVC_EC2)) == NULL)
		return -1;
	if (read_query(c, &q) == -1 || check_ids(c, m, q.ids, q.nids) == -1 ||
	    check_filters(c, q.f, q.nf) == -1)
		return -1;
	if (q.dry)
		return dry_run_answer(c);
	/* The model's order puts nextToken before reservationSet: write the page first. */
	sim_xml_init(&page, SIM_XML_EC2_INDENT);
	page.depth = 1;
	sim_xml_open(&page, "reservationSet", NULL);
	next = write_selected(&page, m, &q);
	sim_xml_close(&page, "reservationSet");
	sim_xml_init(&x, SIM_XML_EC2_INDENT);
	sim_xml_ec2_begin(&x, "DescribeInstances", c->svc->ns, c->reqid);
	if (next != 0) {
		sim_api_token(tok, sizeof(tok), next);
		sim_xml_text(&x, "nextToken", tok);
	}
	sim_buf_add(&x.b, page.b.s != NULL ? page.b.s : "", page.b.len);
	x.b.err |= page.b.err;
	sim_xml_free(&page);
	sim_xml_ec2_end(&x, "DescribeInstances");
	return sim_call_xml(c, &x);
}

/* ---- TerminateInstances ---- */

static int
terminate_instances(struct sim_aws_call *c)
{
	static const char		*ids[IDS_MAX];
	static struct sim_ec2_change	 out[IDS_MAX];
	struct sim_model		*m;
	struct sim_err			 err;
	struct sim_xml			 x;
	size_t				 n;
	int				 dry;

	if ((m = sim_api_begin(c, SIM_SVC_EC2)) == NULL)
		return -1;
	if (read_ids(c, ids, &n) == -1 || dry_run(c, &dry) == -1 ||
	    sim_call_params_done(c) == -1)
		return -1;
	if (n == 0)
		return sim_api_missing(c, "InstanceId");
	if (dry)
		return dry_run_answer(c);
	if (sim_ec2_terminate(m, ids, n, c->sim->now, out, &err) == -1)
		return sim_api_fail(c, &err);
	sim_xml_init(&x, SIM_XML_EC2_INDENT);
	sim_xml_ec2_begin(&x, "TerminateInstances", c->svc->ns, c->reqid);
	sim_xml_open(&x, "instancesSet", NULL);
	for (size_t i = 0; i < n; i++) {
		sim_xml_open(&x, "item", NULL);
		sim_xml_text(&x, "instanceId", out[i].inst->id);
		write_state(&x, "currentState", out[i].cur);
		write_state(&x, "previousState", out[i].prev);
		sim_xml_close(&x, "item");
	}
	sim_xml_close(&x, "instancesSet");
	sim_xml_ec2_end(&x, "TerminateInstances");
	return sim_call_xml(c, &x);
}

static const struct sim_op ec2_ops[] = {
	{ "DescribeInstances", describe_instances },
	{ "TerminateInstances", terminate_instances },
};

int
sim_api_ec2_init(void)
{
	return sim_aws_register("ec2", "2016-11-15", ec2_ops, NITEMS(ec2_ops));
}
