/*
 * EC2: instances with ids, private IPs (unique, never reused), launch times, tags
 * and states pending -> running -> shutting-down -> terminated; the NFS FileServer is
 * one of them, outside the group. TerminateInstances kills at once: the in-flight
 * requests fail, and the group only learns of it through its health check.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sim/model_int.h"

const char *
sim_ec2_state_name(enum sim_ec2_state s)
{
	static const char *const names[] = {
		"pending", "running", "shutting-down", "terminated",
	};

	return (size_t)s < nitems(names) ? names[s] : "?";
}

int
sim_ec2_state_code(enum sim_ec2_state s)
{
	return 16 * (int)s;
}

/* A private address in 10.0.0.0/16 that no instance ever had (AWS reserves .0-.3). */
static void
new_ip(struct sim_model *m, char *buf, size_t len)
{
	for (;;) {
		unsigned x = (unsigned)sim_rng_below(&m->rng_ids, 256);
		unsigned y = 4 + (unsigned)sim_rng_below(&m->rng_ids, 251);
		size_t i;

		snprintf(buf, len, "10.0.%u.%u", x, y);
		for (i = 0; i < m->ninst; i++)
			if (strcmp(m->inst[i]->ip, buf) == 0)
				break;
		if (i == m->ninst)
			return;
	}
}

static void
new_id(struct sim_model *m, char *buf, size_t len)
{
	char hex[17];

	sim_rng_hex(&m->rng_ids, hex, 16);
	snprintf(buf, len, "i-0%s", hex);
}

static void
set_state(struct sim_model *m, struct sim_instance *in, enum sim_ec2_state s)
{
	in->state = s;
	in->state_time = m->now;
	/* CloudWatch's samples cover the time it ran (sim/cpu_history.c). */
	if (s == SIM_EC2_RUNNING)
		in->running_at = m->now;
	else if (s == SIM_EC2_SHUTTING_DOWN || s == SIM_EC2_TERMINATED)
		if (in->stopped_at == SIM_NEVER)
			in->stopped_at = m->now;
	sim_rec(m, SIM_REC_EC2, in->id, sim_ec2_state_name(s), in->ip,
	    (in->member ? 1 : 0) | (in->file_server ? 2 : 0), "%s%s",
	    in->file_server ? "FileServer " : "", sim_ec2_state_name(s));
}

struct sim_instance *
sim_ec2_launch(struct sim_model *m, int member, const char *version)
{
	struct sim_instance *in = sim_xcalloc(1, sizeof(*in));

	new_id(m, in->id, sizeof(in->id));
	new_ip(m, in->ip, sizeof(in->ip));	/* before it joins the list it checks */
	sim_grow(&m->inst, &m->instcap, m->ninst + 1, sizeof(*m->inst));
	in->idx = (int)m->ninst;
	m->inst[m->ninst++] = in;
	snprintf(in->az, sizeof(in->az), "%sa", m->p.region);
	sim_strlcpy(in->type, member ? "c5.xlarge" : "m5.large", sizeof(in->type));
	in->launch_time = m->now;
	in->running_at = in->stopped_at = SIM_NEVER;
	in->member = member;
	in->file_server = !member;
	if (member)
		sim_strlcpy(in->lc_name, m->asg.lc_name, sizeof(in->lc_name));
	set_state(m, in, SIM_EC2_PENDING);
	sim_schedule(m, m->now + m->p.ec2_pending, SIM_EV_EC2_RUNNING, in->idx, 0);
	if (member)
		sim_node_launch(m, in, version);
	return in;
}

void
sim_ec2_on_running(struct sim_model *m, struct sim_instance *in)
{
	if (in->state != SIM_EC2_PENDING)
		return;
	set_state(m, in, SIM_EC2_RUNNING);
	if (in->member) {
		sim_node_on_running(m, in);
		sim_asg_on_running(m, in);
	}
}

/* The instance starts going down: Bitbucket stops, its requests are lost. */
static void
go_down(struct sim_model *m, struct sim_instance *in, const char *reason)
{
	set_state(m, in, SIM_EC2_SHUTTING_DOWN);
	sim_strlcpy(in->state_reason, reason, sizeof(in->state_reason));
	sim_traffic_fail_all(m, in, SIM_FAIL_NODE_DIED);
	if (in->node.state != SIM_NODE_NONE)
		sim_node_set(m, in, SIM_NODE_TERMINATING);
	sim_schedule(m, m->now + m->p.ec2_shutdown, SIM_EV_EC2_TERMINATED, in->idx, 0);
}

void
sim_ec2_shutdown(struct sim_model *m, struct sim_instance *in, const char *reason)
{
	if (in->state == SIM_EC2_PENDING || in->state == SIM_EC2_RUNNING)
		go_down(m, in, reason);
}

void
sim_ec2_on_terminated(struct sim_model *m, struct sim_instance *in)
{
	if (in->state != SIM_EC2_SHUTTING_DOWN)
		return;
	set_state(m, in, SIM_EC2_TERMINATED);
	if (in->node.state != SIM_NODE_NONE)
		sim_node_set(m, in, SIM_NODE_NONE);
	if (in->member)
		sim_asg_on_terminated(m, in);
}

struct sim_instance *
sim_ec2_find(struct sim_model *m, const char *id)
{
	for (size_t i = 0; i < m->ninst; i++)
		if (strcmp(m->inst[i]->id, id) == 0)
			return m->inst[i];
	return NULL;
}

struct sim_instance *
sim_ec2_find_ip(struct sim_model *m, const char *ip)
{
	struct sim_instance *last = NULL;

	for (size_t i = 0; i < m->ninst; i++) {
		if (strcmp(m->inst[i]->ip, ip) != 0)
			continue;
		if (m->inst[i]->state != SIM_EC2_TERMINATED)
			return m->inst[i];
		last = m->inst[i];
	}
	return last;
}

/* EC2's own syntax check: "i-" and 8 or 17 lower-case hex digits. */
int
sim_ec2_id_valid(const char *id)
{
	size_t n;

	if (id == NULL || strncmp(id, "i-", 2) != 0)
		return 0;
	n = strlen(id + 2);
	return (n == 8 || n == 17) && strspn(id + 2, "0123456789abcdef") == n;
}

static void
tag(struct sim_tag *out, size_t max, size_t *n, const char *key, const char *value)
{
	if (*n < max) {
		out[*n].key = key;
		sim_strlcpy(out[*n].value, value, sizeof(out[*n].value));
	}
	(*n)++;
}

size_t
sim_ec2_tags(const struct sim_model *m, const struct sim_instance *in,
    struct sim_tag *out, size_t max)
{
	const struct sim_stack *root = m->stack[0];
	const struct sim_stack *ps = m->stack[m->nstacks - 1];
	char name[SIM_NAME_MAX + 32];
	size_t n = 0;

	snprintf(name, sizeof(name), "%s %s", root->name,
	    in->member ? "Bitbucket Node" : "Bitbucket NFS Server");
	tag(out, max, &n, "Name", name);
	if (in->member) {
		tag(out, max, &n, "Cluster", root->name);
		tag(out, max, &n, "aws:autoscaling:groupName", m->asg.name);
	}
	tag(out, max, &n, "aws:cloudformation:stack-name", ps->name);
	tag(out, max, &n, "aws:cloudformation:stack-id", ps->id);
	tag(out, max, &n, "aws:cloudformation:logical-id",
	    in->member ? "ClusterNodeGroup" : "FileServer");
	return n;
}

/* "The instance ID 'a' does not exist" / "The instance IDs 'a, b' do not exist" */
static int
not_found(struct sim_model *m, const char *const *ids, size_t n, struct sim_err *err)
{
	char list[SIM_MSG_MAX] = "";
	size_t missing = 0, len;

	for (size_t i = 0; i < n; i++) {
		if (sim_ec2_find(m, ids[i]) != NULL)
			continue;
		len = strlen(list);
		snprintf(list + len, sizeof(list) - len, "%s%s", missing ? ", " : "", ids[i]);
		missing++;
	}
	if (missing == 0)
		return 0;
	return sim_fail(err, 400, "InvalidInstanceID.NotFound",
	    "The instance ID%s '%s' %s not exist",
	    missing == 1 ? "" : "s", list, missing == 1 ? "does" : "do");
}

static void
ec2_kill(struct sim_model *m, struct sim_instance *in)
{
	in->term_requested = 1;
	if (in->state != SIM_EC2_PENDING && in->state != SIM_EC2_RUNNING)
		return;
	go_down(m, in, "Client.UserInitiatedShutdown: User initiated shutdown");
	/* The group does not know yet: it finds out at its next health check. */
	if (in->member && (in->life == SIM_LC_PENDING || in->life == SIM_LC_IN_SERVICE))
		sim_schedule(m, m->now + m->p.asg_health_check, SIM_EV_ASG_NOTICE,
		    in->idx, 0);
}

int
sim_ec2_terminate(struct sim_model *m, const char *const *ids, size_t n, int64_t now,
    struct sim_ec2_change *out, struct sim_err *err)
{
	return sim_ec2_terminate_by(m, ids, n, now, NULL, out, err);
}

/* who: NULL for an API client, or a name the history records (the operator's hand). */
int
sim_ec2_terminate_by(struct sim_model *m, const char *const *ids, size_t n, int64_t now,
    const char *who, struct sim_ec2_change *out, struct sim_err *err)
{
	sim_model_advance(m, now);
	for (size_t i = 0; i < n; i++)
		if (!sim_ec2_id_valid(ids[i])) {
			sim_fail(err, 400, "InvalidInstanceID.Malformed", "Invalid id: \"%s\"",
			    ids[i]);
			sim_call(m, "TerminateInstances", ids[i], NULL, err);
			return -1;
		}
	if (not_found(m, ids, n, err) == -1) {
		sim_call(m, "TerminateInstances", ids[0], NULL, err);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		struct sim_instance *in = sim_ec2_find(m, ids[i]);

		sim_call(m, "TerminateInstances", in->id, who, NULL);
		out[i].inst = in;
		out[i].prev = in->state;
		ec2_kill(m, in);
		out[i].cur = in->state;
	}
	return 0;
}
