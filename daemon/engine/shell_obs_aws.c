/*
 * Auto Scaling, CloudWatch and Bitbucket answers as the core's observation. What is
 * not in an answer stays unknown: an instance without CPU datapoints has no CPU (not
 * 0 %), a ZDU node whose version is null has version "".
 */
#include <stdio.h>
#include <string.h>

#include "daemon/aws/autoscaling.h"
#include "daemon/aws/cloudwatch.h"
#include "daemon/engine/shell.h"
#include "daemon/zdu.h"

void
engine_tr_group(struct engine_obs *o, const struct aws_asg_group *g)
{
	struct engine_obs_asg *a = &o->asg;

	a->min = g->min;
	a->max = g->max;
	a->desired = g->desired;
	a->health_check_ec2 = strcmp(g->health_check_type, "EC2") == 0;
	a->new_protected = g->new_instances_protected;
	a->suspended = 0;
	for (size_t i = 0; i < g->nsuspended; i++)
		a->suspended |= engine_process_parse(g->suspended[i].name);
	a->ninst = 0;
	a->truncated = false;
	for (size_t i = 0; i < g->ninstances; i++) {
		const struct aws_asg_instance *in = &g->instances[i];
		struct engine_obs_instance *e;

		if (a->ninst == ENGINE_NODES_MAX || strlen(in->id) >= ENGINE_ID_MAX) {
			a->truncated = true;
			continue;
		}
		e = &a->inst[a->ninst++];
		memset(e, 0, sizeof(*e));
		engine_strlcpy(e->id, in->id, sizeof(e->id));
		e->lifecycle = engine_lifecycle_parse(in->lifecycle);
		e->healthy = strcmp(in->health, "Healthy") == 0;
		e->protected = in->protected_from_scale_in;
		e->elb = ENGINE_ELB_UNKNOWN;
	}
}

/* "Terminating EC2 instance: i-0123..." or "Launching a new EC2 instance: i-...". */
static void
activity_instance(const char *description, char *id, size_t len)
{
	const char *p = strstr(description, "EC2 instance: ");
	size_t n;

	engine_strlcpy(id, "", len);
	if (p == NULL)
		return;
	p += strlen("EC2 instance: ");
	n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789-");
	if (n > 0 && n < len) {
		memcpy(id, p, n);
		id[n] = '\0';
	}
}

void
engine_tr_activities(struct engine_obs *o, const struct aws_asg_activities *acts)
{
	struct engine_obs_asg *a = &o->asg;

	a->nact = 0;
	a->activity_in_progress = false;
	for (size_t i = 0; i < acts->n; i++) {
		const struct aws_asg_activity *s = &acts->items[i];
		struct engine_obs_activity *e;

		if (!aws_asg_activity_done(s))
			a->activity_in_progress = true;
		if (a->nact == ENGINE_ACTIVITIES_MAX)
			continue;
		e = &a->act[a->nact++];
		memset(e, 0, sizeof(*e));
		engine_strlcpy(e->id, s->id, sizeof(e->id));
		activity_instance(s->description, e->instance, sizeof(e->instance));
		e->terminate = strncmp(s->description, "Terminating", 11) == 0;
		e->status = engine_activity_parse(s->status);
		engine_strlcpy(e->message, s->status_message[0] ? s->status_message :
		    s->description, sizeof(e->message));
	}
}

void
engine_tr_cpu(struct engine_obs *o, const struct aws_cw_cpus *c)
{
	for (size_t i = 0; i < c->n; i++) {
		for (size_t j = 0; j < o->asg.ninst; j++) {
			struct engine_obs_instance *in = &o->asg.inst[j];

			if (strcmp(in->id, c->items[i].instance_id) != 0)
				continue;
			in->has_cpu = c->items[i].has_data;
			in->cpu = c->items[i].has_data ? c->items[i].average : 0;
		}
	}
}

void
engine_tr_zdu(struct engine_obs *o, const struct zdu_cluster *c, uint64_t poll)
{
	struct engine_obs_zdu *z = &o->zdu;

	z->state = c->state;
	engine_strlcpy(z->state_name, c->state_name, sizeof(z->state_name));
	z->upgrade_mode = c->upgrade_mode;
	z->poll = poll;
	z->nnodes = 0;
	z->truncated = false;
	for (size_t i = 0; i < c->nnodes; i++) {
		const struct zdu_node *n = &c->nodes[i];
		struct engine_obs_znode *e;

		if (z->nnodes == ENGINE_ZNODES_MAX) {
			z->truncated = true;
			break;
		}
		e = &z->nodes[z->nnodes++];
		engine_strlcpy(e->ip, n->ip, sizeof(e->ip));
		e->state = n->state;
		engine_strlcpy(e->version, n->version, sizeof(e->version));
		e->tasks = n->tasks_total;
		e->users = n->active_users;
	}
}

int
engine_tr_alarms(const struct aws_cw_alarms *a)
{
	int n = 0;

	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->items[i].state, "ALARM") == 0)
			n++;
	return n;
}
