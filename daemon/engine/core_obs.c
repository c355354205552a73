/*
 * Questions the core asks of one observation: where an instance is, which Bitbucket
 * node it is (by private IP, ignoring OFFLINE entries), whether it serves, how busy it
 * is. Unknown stays unknown: a node the ELB or ZDU did not report is not serving, and
 * a node whose load was not read is not idle (behaviour 21).
 */
#include <string.h>

#define ENGINE_CORE_INTERNAL
#include "daemon/engine/core.h"

const struct engine_obs_instance *
engine_obs_inst(const struct engine_obs *o, const char *id)
{
	for (size_t i = 0; i < o->asg.ninst; i++)
		if (strcmp(o->asg.inst[i].id, id) == 0)
			return &o->asg.inst[i];
	return NULL;
}

/*
 * The live ZDU node with that IP. Two live entries with one IP (a reused address,
 * behaviour 23) answer nothing: guessing would let us drain the wrong node.
 */
const struct engine_obs_znode *
engine_obs_znode(const struct engine_obs *o, const char *ip)
{
	const struct engine_obs_znode *found = NULL;

	if (ip == NULL || ip[0] == '\0')
		return NULL;
	for (size_t i = 0; i < o->zdu.nnodes; i++) {
		const struct engine_obs_znode *z = &o->zdu.nodes[i];

		if (z->state == ZDU_NODE_OFFLINE || strcmp(z->ip, ip) != 0)
			continue;
		if (found != NULL)
			return NULL;
		found = z;
	}
	return found;
}

const struct engine_obs_activity *
engine_obs_activity_id(const struct engine_obs *o, const char *id)
{
	if (id == NULL || id[0] == '\0')
		return NULL;
	for (size_t i = 0; i < o->asg.nact; i++)
		if (strcmp(o->asg.act[i].id, id) == 0)
			return &o->asg.act[i];
	return NULL;
}

/* The newest termination activity naming that instance. */
const struct engine_obs_activity *
engine_obs_activity_for(const struct engine_obs *o, const char *instance)
{
	for (size_t i = 0; i < o->asg.nact; i++)
		if (o->asg.act[i].terminate &&
		    strcmp(o->asg.act[i].instance, instance) == 0)
			return &o->asg.act[i];
	return NULL;
}

const char *
engine_node_ip(const struct engine_obs *o, const struct engine_node *n)
{
	const struct engine_obs_instance *in = engine_obs_inst(o, n->id);

	if (in != NULL && in->ip[0] != '\0')
		return in->ip;
	return n->ip;
}

const struct engine_obs_znode *
engine_node_z(const struct engine_obs *o, const struct engine_node *n)
{
	return engine_obs_znode(o, engine_node_ip(o, n));
}

int
engine_node_index(const struct engine_upgrade *u, const char *id)
{
	for (size_t i = 0; i < u->nnodes; i++)
		if (strcmp(u->nodes[i].id, id) == 0)
			return (int)i;
	return -1;
}

/* A member of the group that is not on its way out. */
bool
engine_in_group(const struct engine_obs_instance *in)
{
	return in != NULL && in->lifecycle != ENGINE_LC_TERMINATING &&
	    in->lifecycle != ENGINE_LC_TERMINATED && in->lifecycle != ENGINE_LC_DETACHING;
}

/* I1's "serving": InService and healthy in the group and the ELB, and ACTIVE. */
bool
engine_serving(const struct engine_obs *o, const struct engine_node *n)
{
	const struct engine_obs_instance *in = engine_obs_inst(o, n->id);
	const struct engine_obs_znode *z;

	if (in == NULL || in->lifecycle != ENGINE_LC_IN_SERVICE || !in->healthy ||
	    in->elb != ENGINE_ELB_IN_SERVICE)
		return false;
	z = engine_node_z(o, n);
	return z != NULL && z->state == ZDU_NODE_ACTIVE;
}

bool
engine_ready_on(const struct engine_obs *o, const struct engine_node *n,
    const char *version)
{
	const struct engine_obs_znode *z = engine_node_z(o, n);

	return engine_serving(o, n) && z != NULL && strcmp(z->version, version) == 0;
}

/* 1 if the node runs version, 0 if not (or is in ERROR), -1 if not known yet. */
int
engine_node_on(const struct engine_obs *o, const struct engine_node *n,
    const char *version)
{
	const struct engine_obs_znode *z;

	if (n->role == ENGINE_ROLE_ORIGINAL)
		return strcmp(n->version, version) == 0;
	if ((z = engine_node_z(o, n)) == NULL)
		return -1;
	if (z->state == ZDU_NODE_ERROR)
		return 0;
	if (z->version[0] == '\0')
		return -1;
	return strcmp(z->version, version) == 0;
}

/* In the group as far as the upgrade knows: not terminated by us. */
bool
engine_alive(const struct engine_node *n)
{
	return n->step == ENGINE_STEP_LIVE || n->step == ENGINE_STEP_DRAINING ||
	    n->step == ENGINE_STEP_DRAINED;
}

int
engine_serving_count(const struct engine_ctx *c)
{
	int n = 0;

	for (size_t i = 0; i < c->u->nnodes; i++)
		if (engine_alive(&c->u->nodes[i]) && engine_serving(c->o, &c->u->nodes[i]))
			n++;
	return n;
}

/* I2's "out of service": draining, drained but alive, or terminating. */
int
engine_out_of_service(const struct engine_upgrade *u)
{
	int n = 0;

	for (size_t i = 0; i < u->nnodes; i++) {
		enum engine_step s = u->nodes[i].step;

		if (s == ENGINE_STEP_DRAINING || s == ENGINE_STEP_DRAINED ||
		    s == ENGINE_STEP_TERMINATING)
			n++;
	}
	return n;
}

/* A termination under way, ours (but except) or the group's own. */
bool
engine_termination_in_flight(const struct engine_ctx *c, int except)
{
	for (size_t i = 0; i < c->u->nnodes; i++)
		if ((int)i != except && c->u->nodes[i].step == ENGINE_STEP_TERMINATING)
			return true;
	for (size_t i = 0; i < c->o->asg.ninst; i++)
		if (c->o->asg.inst[i].lifecycle == ENGINE_LC_TERMINATING)
			return true;
	return false;
}

static int
cmp_known(int64_t a, int64_t b)
{
	if ((a == ZDU_NULL) != (b == ZDU_NULL))
		return a == ZDU_NULL ? 1 : -1;	/* unknown sorts after known */
	return (a > b) - (a < b);
}

static int
cmp_cpu(const struct engine_obs_instance *a, const struct engine_obs_instance *b)
{
	bool ha = a != NULL && a->has_cpu, hb = b != NULL && b->has_cpu;

	if (ha != hb)
		return ha ? -1 : 1;
	if (!ha)
		return 0;
	return (a->cpu > b->cpu) - (a->cpu < b->cpu);
}

/*
 * Least busy first (behaviour 22): a node that does not serve costs nothing to take
 * out, then tasksTotal, activeUserCount, CPU, each known before unknown; the instance
 * id last, so that the order never depends on how AWS listed them.
 */
static int
cmp_busy(const struct engine_ctx *c, const struct engine_node *a,
    const struct engine_node *b)
{
	const struct engine_obs_znode *za = engine_node_z(c->o, a);
	const struct engine_obs_znode *zb = engine_node_z(c->o, b);
	bool sa = engine_serving(c->o, a), sb = engine_serving(c->o, b);
	int r;

	if (sa != sb)
		return sa ? 1 : -1;
	if ((r = cmp_known(za ? za->tasks : ZDU_NULL, zb ? zb->tasks : ZDU_NULL)) != 0)
		return r;
	if ((r = cmp_known(za ? za->users : ZDU_NULL, zb ? zb->users : ZDU_NULL)) != 0)
		return r;
	if ((r = cmp_cpu(engine_obs_inst(c->o, a->id), engine_obs_inst(c->o, b->id))) != 0)
		return r;
	return strcmp(a->id, b->id);
}

/* Sorts idx (indices into u->nodes) least busy first; insertion sort, n is small. */
size_t
engine_least_busy(const struct engine_ctx *c, int *idx, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		int v = idx[i];
		size_t j = i;

		while (j > 0 && cmp_busy(c, &c->u->nodes[v], &c->u->nodes[idx[j - 1]]) < 0) {
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = v;
	}
	return n;
}

bool
engine_reversing(const struct engine_upgrade *u)
{
	return u->mode != ENGINE_MODE_FORWARD;
}

/*
 * Nothing half done: no open intent, no stack operation, no node drained but alive
 * or between its termination and its replacement serving (DESIGN.md, pause).
 */
bool
engine_safe_point(const struct engine_upgrade *u)
{
	if (u->intent_pending || u->stack.step != ENGINE_SC_IDLE ||
	    u->phase == ENGINE_PH_RECORD)
		return false;
	for (size_t i = 0; i < u->nnodes; i++) {
		const struct engine_node *n = &u->nodes[i];

		if (n->step == ENGINE_STEP_DRAINING || n->step == ENGINE_STEP_DRAINED ||
		    n->step == ENGINE_STEP_TERMINATING)
			return false;
		if (n->step == ENGINE_STEP_AWAITING && n->purpose == ENGINE_PURPOSE_VICTIM)
			return false;
	}
	return true;
}
