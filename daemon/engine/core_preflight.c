/*
 * Step 1 (preflight, also `bbctl plan`) and step 3's record of the originals.
 *
 * Preflight lists every refusal, not the first one: an operator fixing a cluster
 * before a maintenance window wants the whole list at once, each with what to do.
 * The record re-checks the same facts after upgrade mode is on, because the cluster
 * may have changed in between, and what it records cannot be read back later.
 */
#include <stdio.h>
#include <string.h>

#include "common/version.h"
#define ENGINE_CORE_INTERNAL
#include "daemon/engine/core.h"

static const struct {
	unsigned	 part;
	const char	*what;
} parts[] = {
	{ ENGINE_OBS_STACK, "the stack (DescribeStacks)" },
	{ ENGINE_OBS_ASG, "the ClusterNodeGroup group (DescribeAutoScalingGroups)" },
	{ ENGINE_OBS_ACTIVITIES, "its scaling activities" },
	{ ENGINE_OBS_EC2, "the instances' private IPs (DescribeInstances)" },
	{ ENGINE_OBS_ELB, "the load balancer's instance health" },
	{ ENGINE_OBS_ZDU, "Bitbucket's /rest/zdu/cluster" },
	{ ENGINE_OBS_IDENTITY, "the caller identity (sts:GetCallerIdentity)" },
};

static bool
update_ok(enum engine_stack_status s)
{
	return s == ENGINE_STACK_CREATE_COMPLETE || s == ENGINE_STACK_UPDATE_COMPLETE ||
	    s == ENGINE_STACK_UPDATE_ROLLBACK_COMPLETE;
}

static void
check_parts(const struct engine_obs *o, unsigned need, struct engine_problems *p)
{
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if ((need & parts[i].part) && !(o->have & parts[i].part))
			engine_problem(p, "could not read %s: check the endpoint, the network "
			    "and the credentials, then run the plan again", parts[i].what);
	if (o->denied)
		engine_problem(p, "access refused: %s; grant what docs/iam-policy.json lists "
		    "(and Bitbucket sysadmin for the ZDU account)", o->denied_what);
	if ((o->have & ENGINE_OBS_IDENTITY) && !o->identity_ok)
		engine_problem(p, "the AWS credentials do not work (GetCallerIdentity "
		    "failed): check the profile or the instance role");
}

static void
check_stack(const struct engine_obs *o, struct engine_problems *p)
{
	const struct engine_obs_stack *s = &o->stack;

	if (!update_ok(s->status))
		engine_problem(p, "the stack is %s; an update can only start from "
		    "CREATE_COMPLETE, UPDATE_COMPLETE or UPDATE_ROLLBACK_COMPLETE: wait for "
		    "the operation to end or repair the stack", s->status_name);
	if (s->nested && !update_ok(s->nested_status))
		engine_problem(p, "the nested stack BitbucketDCStack is %s; it must be "
		    "CREATE_COMPLETE, UPDATE_COMPLETE or UPDATE_ROLLBACK_COMPLETE",
		    s->nested_status_name);
	if (!s->has_version || !s->has_min || !s->has_max)
		engine_problem(p, "the stack lacks BitbucketVersion, ClusterNodeMin or "
		    "ClusterNodeMax: it is not the Bitbucket Data Center Quick Start stack");
	if (!s->has_node_group)
		engine_problem(p, "the stack has no ClusterNodeGroup (directly or in the "
		    "nested BitbucketDCStack)");
	if (s->standby)
		engine_problem(p, "the stack is in standby mode (DBMaster is set: min and "
		    "desired are 0): promote it before upgrading");
	if (s->fileserver[0] == '\0')
		engine_problem(p, "the NFS FileServer instance could not be identified; it "
		    "must be known so that it is never touched");
	else if (engine_obs_inst(o, s->fileserver) != NULL)
		engine_problem(p, "the FileServer %s is a member of ClusterNodeGroup: this "
		    "is not the Quick Start's layout", s->fileserver);
}

static void
check_processes(const struct engine_obs_asg *a, struct engine_problems *p)
{
	static const unsigned vital[] = {
		ENGINE_PROC_LAUNCH, ENGINE_PROC_TERMINATE, ENGINE_PROC_ADD_TO_LB,
	};

	for (size_t i = 0; i < sizeof(vital) / sizeof(vital[0]); i++)
		if (a->suspended & vital[i])
			engine_problem(p, "the group's %s process is suspended: resume it "
			    "(aws autoscaling resume-processes --scaling-processes %s)",
			    engine_process_name(vital[i]), engine_process_name(vital[i]));
}

static int
in_service(const struct engine_obs_asg *a)
{
	int n = 0;

	for (size_t i = 0; i < a->ninst; i++)
		if (a->inst[i].lifecycle == ENGINE_LC_IN_SERVICE)
			n++;
	return n;
}

static void
check_group(const struct engine_obs *o, struct engine_problems *p)
{
	const struct engine_obs_asg *a = &o->asg;
	int n = in_service(a);

	if (!a->health_check_ec2)
		engine_problem(p, "the group's HealthCheckType is not EC2: a drained node "
		    "would be marked unhealthy and replaced; set it to EC2");
	if (a->lifecycle_hooks > 0)
		engine_problem(p, "the group has %d lifecycle hook(s): a Terminating:Wait "
		    "hook can hold a termination for an hour; remove them for the upgrade",
		    a->lifecycle_hooks);
	if (a->instance_refresh)
		engine_problem(p, "an instance refresh is active on the group: wait for it "
		    "or cancel it");
	check_processes(a, p);
	if (a->truncated)
		engine_problem(p, "the group has more than %d instances", ENGINE_NODES_MAX);
	if ((o->have & ENGINE_OBS_ACTIVITIES) && a->activity_in_progress)
		engine_problem(p, "a scaling activity is in progress: wait for it to end");
	if (a->desired != a->min || a->min != o->stack.min || n != a->desired)
		engine_problem(p, "desired (%d), min (%d), ClusterNodeMin (%d) and the "
		    "InService count (%d) must be equal: the stack update resets desired to "
		    "ClusterNodeMin, so the cluster must be at it", a->desired, a->min,
		    o->stack.min, n);
	if (a->max != o->stack.max)
		engine_problem(p, "the group's max (%d) differs from ClusterNodeMax (%d): "
		    "bring the stack and the group back in line", a->max, o->stack.max);
	if (n == 0)
		engine_problem(p, "the group has no InService instance");
}

static void
check_instance(const struct engine_obs *o, const struct engine_obs_instance *in,
    struct engine_problems *p)
{
	const struct engine_obs_znode *z;

	if (in->lifecycle != ENGINE_LC_IN_SERVICE) {
		engine_problem(p, "instance %s is not InService (Standby, Pending, "
		    "Terminating or Detaching): wait for it or return it to service", in->id);
		return;
	}
	if (!in->healthy)
		engine_problem(p, "instance %s is Unhealthy in the group", in->id);
	if (in->elb != ENGINE_ELB_IN_SERVICE)
		engine_problem(p, "instance %s is not healthy in the load balancer", in->id);
	if (in->ip[0] == '\0') {
		engine_problem(p, "instance %s has no private IP", in->id);
		return;
	}
	if ((z = engine_obs_znode(o, in->ip)) == NULL)
		engine_problem(p, "instance %s (%s) maps to no Bitbucket node (or to two: "
		    "a reused IP): check /rest/zdu/cluster", in->id, in->ip);
	else if (z->state != ZDU_NODE_ACTIVE)
		engine_problem(p, "the Bitbucket node on %s (%s) is %s, not ACTIVE", in->id,
		    in->ip, zdu_node_state_name(z->state));
}

/* Live Bitbucket nodes that are no instance of the group would stay behind. */
static void
check_strays(const struct engine_obs *o, struct engine_problems *p)
{
	for (size_t i = 0; i < o->zdu.nnodes; i++) {
		const struct engine_obs_znode *z = &o->zdu.nodes[i];
		bool found = false;

		if (z->state == ZDU_NODE_OFFLINE)
			continue;
		for (size_t j = 0; j < o->asg.ninst && !found; j++)
			found = strcmp(o->asg.inst[j].ip, z->ip) == 0;
		if (!found)
			engine_problem(p, "the Bitbucket node at %s is no instance of "
			    "ClusterNodeGroup: the upgrade could not replace it", z->ip);
	}
	if (o->zdu.truncated)
		engine_problem(p, "the ZDU cluster lists more than %d nodes",
		    ENGINE_ZNODES_MAX);
}

/* The one version the group's nodes run into from: -1 if they differ or none answers. */
static int
common_version(const struct engine_obs *o, char *from, size_t len)
{
	engine_strlcpy(from, "", len);
	for (size_t i = 0; i < o->asg.ninst; i++) {
		const struct engine_obs_znode *z = engine_obs_znode(o, o->asg.inst[i].ip);

		if (z == NULL)
			continue;
		if (from[0] == '\0')
			engine_strlcpy(from, z->version, len);
		else if (strcmp(from, z->version) != 0)
			return -1;
	}
	return from[0] == '\0' ? -1 : 0;
}

static void
check_versions(const struct engine_obs *o, const struct engine_target *t,
    struct engine_problems *p)
{
	struct bb_version vf, vt;
	char from[ENGINE_VERSION_MAX], why[256];

	if (version_parse(t->version, &vt) == -1) {
		engine_problem(p, "the target \"%s\" is not a Bitbucket version such as "
		    "7.9.4", t->version);
		return;
	}
	if (common_version(o, from, sizeof(from)) == -1) {
		engine_problem(p, "the nodes do not all run one version: finish or undo "
		    "the earlier upgrade first");
		return;
	}
	if (version_parse(from, &vf) == -1)
		engine_problem(p, "the nodes report version \"%s\", which is not a version",
		    from);
	else if (version_rolling_ok(&vf, &vt, why, sizeof(why)) == -1)
		engine_problem(p, "%s", why);
	if (o->stack.has_version && strcmp(o->stack.version, from) != 0)
		engine_problem(p, "the stack's BitbucketVersion is %s but the nodes run %s: "
		    "new nodes would not match; bring the stack in line first",
		    o->stack.version, from);
}

static void
check_zdu(const struct engine_obs *o, enum zdu_cluster_state want,
    struct engine_problems *p)
{
	if (o->zdu.state != want)
		engine_problem(p, "Bitbucket's rolling-upgrade state is %s, not %s%s",
		    o->zdu.state_name[0] ? o->zdu.state_name :
		    zdu_cluster_state_name(o->zdu.state), zdu_cluster_state_name(want),
		    want == ZDU_STABLE ? ": finish or cancel the upgrade in progress" : "");
}

static void
check_surge(const struct engine_obs *o, const struct engine_target *t,
    struct engine_problems *p)
{
	int n = in_service(&o->asg);

	if (t->surge < 1 || t->surge > n)
		engine_problem(p, "surge %d is out of range: 1 to the node count (%d; "
		    "surge = node count is a blue/green switch)", t->surge, n);
	else if (n + t->surge > ENGINE_NODES_MAX)
		engine_problem(p, "%d nodes and a surge of %d exceed %d", n, t->surge,
		    ENGINE_NODES_MAX);
}

static void
check_cluster(const struct engine_obs *o, const struct engine_target *t,
    enum zdu_cluster_state zstate, struct engine_problems *p)
{
	if (o->have & ENGINE_OBS_STACK)
		check_stack(o, p);
	if ((o->have & ENGINE_OBS_ASG) && (o->have & ENGINE_OBS_STACK))
		check_group(o, p);
	if ((o->have & ENGINE_OBS_ASG) && (o->have & ENGINE_OBS_EC2) &&
	    (o->have & ENGINE_OBS_ELB) && (o->have & ENGINE_OBS_ZDU)) {
		for (size_t i = 0; i < o->asg.ninst; i++)
			check_instance(o, &o->asg.inst[i], p);
		check_strays(o, p);
		check_versions(o, t, p);
		check_surge(o, t, p);
	}
	if (o->have & ENGINE_OBS_ZDU)
		check_zdu(o, zstate, p);
}

int
engine_preflight(const struct engine_obs *o, const struct engine_target *t,
    struct engine_problems *p)
{
	memset(p, 0, sizeof(*p));
	check_parts(o, ENGINE_OBS_STACK | ENGINE_OBS_ASG | ENGINE_OBS_ACTIVITIES |
	    ENGINE_OBS_EC2 | ENGINE_OBS_ELB | ENGINE_OBS_ZDU | ENGINE_OBS_IDENTITY, p);
	check_cluster(o, t, ZDU_STABLE, p);
	return p->n == 0 ? 0 : -1;
}

int
engine_phase_preflight(struct engine_ctx *c)
{
	struct engine_target t = { c->u->to, c->u->surge };
	struct engine_decision *d = c->d;
	char list[ENGINE_TEXT_MAX];

	if (engine_preflight(c->o, &t, &d->problems) == -1) {
		engine_problems_join(&d->problems, list, sizeof(list));
		return engine_halt(c, ENGINE_HALT_PREFLIGHT, "preflight refused the upgrade "
		    "to %s (%zu problem(s)): %s", c->u->to, d->problems.n, list);
	}
	return engine_act(c, ENGINE_ACT_ZDU_START, "preflight passed; enable upgrade mode "
	    "(POST /rest/zdu/start)");
}

static void
record_nodes(struct engine_ctx *c)
{
	const struct engine_obs *o = c->o;
	struct engine_decision *d = c->d;

	for (size_t i = 0; i < o->asg.ninst && d->nfacts < ENGINE_NODES_MAX; i++) {
		const struct engine_obs_instance *in = &o->asg.inst[i];
		const struct engine_obs_znode *z = engine_obs_znode(o, in->ip);
		struct engine_fact *f = &d->facts[d->nfacts++];

		engine_strlcpy(f->id, in->id, sizeof(f->id));
		engine_strlcpy(f->ip, in->ip, sizeof(f->ip));
		engine_strlcpy(f->version, z ? z->version : "", sizeof(f->version));
		f->protected = in->protected;
		f->replaces = -1;
	}
}

/* Step 3, first half: what cannot be read back once nodes start to change. */
int
engine_phase_record(struct engine_ctx *c)
{
	const struct engine_obs *o = c->o;
	struct engine_target t = { c->u->to, c->u->surge };
	struct engine_decision *d = c->d;
	struct engine_record *r = &d->record;
	char list[ENGINE_TEXT_MAX];

	if (!o->zdu.upgrade_mode || o->zdu.state != ZDU_READY_TO_UPGRADE) {
		engine_wait(c, ENGINE_WAIT_ZDU, "waiting for upgrade mode (READY_TO_UPGRADE); "
		    "Bitbucket says %s", zdu_cluster_state_name(o->zdu.state));
		if (engine_deadline(c))
			return engine_halt(c, ENGINE_HALT_ZDU_STATE, "upgrade mode was enabled "
			    "but the cluster never reached READY_TO_UPGRADE (it is %s): look at "
			    "Administration > Rolling upgrades, then `bbctl cancel`",
			    zdu_cluster_state_name(o->zdu.state));
		return ENGINE_DECIDED;
	}
	check_cluster(o, &t, ZDU_READY_TO_UPGRADE, &d->problems);
	if (d->problems.n > 0) {
		engine_problems_join(&d->problems, list, sizeof(list));
		return engine_halt(c, ENGINE_HALT_CHANGED, "the cluster changed after "
		    "preflight: %s. Nothing was changed but upgrade mode: fix this and "
		    "`bbctl resume`, or `bbctl cancel`", list);
	}
	engine_act(c, ENGINE_ACT_RECORD, "recorded %zu original nodes, counts %d/%d/%d%s",
	    o->asg.ninst, o->asg.min, o->asg.max, o->asg.desired, o->stack.role_arn ?
	    "; the stack has a service role (RoleARN)" : "; the stack has no service role: "
	    "CloudFormation acts on the group with the daemon's credentials");
	common_version(o, r->from, sizeof(r->from));
	r->n = in_service(&o->asg);
	r->min = o->asg.min;
	r->max = o->asg.max;
	r->desired = o->asg.desired;
	r->suspended = o->asg.suspended;
	r->new_protected = o->asg.new_protected;
	record_nodes(c);
	return ENGINE_DECIDED;
}
