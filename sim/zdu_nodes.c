/*
 * The node list of /rest/zdu/cluster: every live node (null state and version while
 * it cannot be reached) and every snapshotted node that has left (OFFLINE, only id,
 * name and address), sorted by name then address as Bitbucket sorts them.
 */
#include <stdlib.h>
#include <string.h>

#include "sim/model_int.h"

#define HAZELCAST_PORT	5701

/* activeUserCount: requests started in the last whole user window, at most users. */
static int
node_users(const struct sim_model *m, const struct sim_instance *in, int64_t now)
{
	const struct sim_node *n = &in->node;
	int64_t w = m->p.user_window, age = now - n->window_start;
	int u;

	if (age >= 2 * w)
		u = 0;
	else if (age >= w)
		u = n->window_users;
	else
		u = n->last_window_users;
	return u < m->p.users ? u : m->p.users;
}

static void
view_live(struct sim_model *m, struct sim_instance *in, struct sim_node_view *v)
{
	int away = !sim_node_listed_reachable(m, in);

	memset(v, 0, sizeof(*v));
	v->inst = in;
	v->id = in->node.id;
	v->name = in->node.name;
	v->ip = in->ip;
	v->port = HAZELCAST_PORT;
	if (away)
		return;
	v->state = sim_node_state_name(in->node.state);
	v->version = in->node.version;
	sim_node_build_number(in->node.version, v->build, sizeof(v->build));
	v->has_counts = 1;
	v->tasks = in->inflight;
	v->users = node_users(m, in, m->now);
}

static void
view_offline(const struct sim_snap *s, struct sim_node_view *v)
{
	memset(v, 0, sizeof(*v));
	v->id = s->id;
	v->name = s->name;
	v->ip = s->ip;
	v->state = "OFFLINE";
	v->port = HAZELCAST_PORT;
}

static int
by_name_ip(const void *a, const void *b)
{
	const struct sim_node_view *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->ip, y->ip);
}

static int
has_live_node(const struct sim_model *m, const char *ip)
{
	for (size_t i = 0; i < m->ninst; i++)
		if (m->inst[i]->member && m->inst[i]->node.state != SIM_NODE_NONE &&
		    strcmp(m->inst[i]->ip, ip) == 0)
			return 1;
	return 0;
}

size_t
sim_zdu_nodes(struct sim_model *m, int64_t now, struct sim_node_view *out, size_t max)
{
	struct sim_node_view *all;
	size_t n = 0;

	sim_model_advance(m, now);
	all = sim_xcalloc(m->ninst + m->zdu.nsnap, sizeof(*all));
	for (size_t i = 0; i < m->ninst; i++)
		if (m->inst[i]->member && m->inst[i]->node.state != SIM_NODE_NONE)
			view_live(m, m->inst[i], &all[n++]);
	for (size_t i = 0; i < m->zdu.nsnap; i++)
		if (!has_live_node(m, m->zdu.snap[i].ip))
			view_offline(&m->zdu.snap[i], &all[n++]);
	qsort(all, n, sizeof(*all), by_name_ip);
	if (out != NULL && max > 0)
		memcpy(out, all, (n < max ? n : max) * sizeof(*all));
	free(all);
	return n;
}
