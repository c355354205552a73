/*
 * The Classic ELB: instances registered at launch, health checks of /status every
 * interval (healthy after healthy_threshold passes in a row, unhealthy after
 * unhealthy_threshold failures), and connection draining on deregistration: the
 * instance keeps reporting InService ("Instance deregistration currently in
 * progress") until its requests end or the timeout cuts them, then OutOfService
 * ("Instance is not currently registered with the LoadBalancer"). A draining
 * instance gets no new requests.
 */
#include <stdio.h>
#include <string.h>

#include "sim/model_int.h"

void
sim_elb_init(struct sim_model *m)
{
	const char *ps = sim_stack_product(m)->name;
	char sfx[16];
	int prefix = 32 - 10 - 13;	/* "-LoadBala-" and 13 characters: 32 in all */

	sim_rng_alnum(&m->rng_ids, sfx, 13);
	snprintf(m->elb.name, sizeof(m->elb.name), "%.*s-LoadBala-%.13s", prefix, ps, sfx);
	snprintf(m->elb.dns, sizeof(m->elb.dns), "%s-%u.%.31s.elb.amazonaws.com", m->elb.name,
	    (unsigned)sim_rng_below(&m->rng_ids, 2000000000u), m->p.region);
	m->elb.created = m->now;
}

static void
schedule_check(struct sim_model *m, struct sim_instance *in)
{
	sim_schedule(m, m->now + m->p.health_interval, SIM_EV_ELB_CHECK, in->idx,
	    in->elb.epoch);
}

void
sim_elb_attach(struct sim_model *m, struct sim_instance *in)
{
	struct sim_elb_member *e = &in->elb;

	e->registered = 1;
	e->draining = 0;
	e->in_service = e->failed = 0;
	e->ok_run = e->fail_run = 0;
	e->epoch++;
	sim_rec(m, SIM_REC_ELB, in->id, "registered", NULL, 0, NULL);
	schedule_check(m, in);
}

int
sim_elb_routable(const struct sim_instance *in)
{
	return in->elb.registered && !in->elb.draining && in->elb.in_service;
}

void
sim_elb_on_check(struct sim_model *m, struct sim_instance *in, uint32_t epoch)
{
	struct sim_elb_member *e = &in->elb;
	int ok;

	if (epoch != e->epoch || !e->registered)
		return;
	ok = sim_node_serves(m, in);
	e->ok_run = ok ? e->ok_run + 1 : 0;
	e->fail_run = ok ? 0 : e->fail_run + 1;
	if (!e->in_service && e->fail_run >= m->p.unhealthy_threshold)
		e->failed = 1;
	if (!e->in_service && e->ok_run >= m->p.healthy_threshold) {
		e->in_service = 1;
		e->failed = 0;
		sim_rec(m, SIM_REC_ELB, in->id, "InService", NULL, 0, NULL);
	} else if (e->in_service && e->fail_run >= m->p.unhealthy_threshold) {
		e->in_service = 0;
		e->failed = 1;
		sim_rec(m, SIM_REC_ELB, in->id, "OutOfService", NULL, 0,
		    "failed %d health checks", e->fail_run);
	}
	/* A group with ELB health checks acts on this verdict (sim/asg.c). */
	if (!e->in_service && e->fail_run >= m->p.unhealthy_threshold)
		sim_asg_on_elb_unhealthy(m, in);
	schedule_check(m, in);
}

static void
end_drain(struct sim_model *m, struct sim_instance *in)
{
	struct sim_elb_member *e = &in->elb;
	int cut = in->inflight;

	if (cut > 0)
		sim_traffic_fail_all(m, in, SIM_FAIL_DRAIN_CUT);
	e->registered = e->draining = e->in_service = e->failed = 0;
	e->ok_run = e->fail_run = 0;
	e->epoch++;
	sim_rec(m, SIM_REC_DRAIN, in->id, cut ? "forced" : "clean", NULL, cut,
	    "%d request(s) cut", cut);
	sim_rec(m, SIM_REC_ELB, in->id, "deregistered", NULL, 0, NULL);
	sim_asg_on_elb_unhealthy(m, in);	/* OutOfService: not registered */
	sim_asg_on_drained(m, in);
}

void
sim_elb_remove(struct sim_model *m, struct sim_instance *in)
{
	struct sim_elb_member *e = &in->elb;

	if (!e->registered || e->draining)
		return;
	e->draining = 1;
	e->drain_deadline = m->now + m->p.drain_timeout;
	sim_rec(m, SIM_REC_ELB, in->id, "draining", NULL, in->inflight, NULL);
	if (in->inflight == 0) {
		end_drain(m, in);
		return;
	}
	sim_schedule(m, e->drain_deadline, SIM_EV_ELB_DRAIN_END, in->idx, e->epoch);
}

void
sim_elb_on_idle(struct sim_model *m, struct sim_instance *in)
{
	if (in->elb.draining && in->inflight == 0)
		end_drain(m, in);
}

void
sim_elb_on_drain_end(struct sim_model *m, struct sim_instance *in, uint32_t epoch)
{
	if (epoch == in->elb.epoch && in->elb.draining)
		end_drain(m, in);
}

/* The ELB's pick for a request: round robin over what it believes is in service. */
struct sim_instance *
sim_elb_pick(struct sim_model *m)
{
	size_t n = 0, k;

	for (size_t i = 0; i < m->ninst; i++)
		if (sim_elb_routable(m->inst[i]))
			n++;
	if (n == 0)
		return NULL;
	k = m->rr++ % n;
	for (size_t i = 0; i < m->ninst; i++)
		if (sim_elb_routable(m->inst[i]) && k-- == 0)
			return m->inst[i];
	return NULL;
}

void
sim_elb_health(const struct sim_model *m, const struct sim_instance *in,
    struct sim_elb_health *h)
{
	const struct sim_elb_member *e = &in->elb;

	h->state = "OutOfService";
	h->reason_code = "Instance";
	if (!e->registered) {
		h->reason_code = "N/A";
		h->description = "Instance is not currently registered with the LoadBalancer";
	} else if (e->draining) {
		h->state = "InService";
		h->reason_code = "N/A";
		h->description = "Instance deregistration currently in progress";
	} else if (e->in_service) {
		h->state = "InService";
		h->reason_code = "N/A";
		h->description = "N/A";
	} else if (in->state == SIM_EC2_TERMINATED || in->state == SIM_EC2_SHUTTING_DOWN)
		h->description = in->state == SIM_EC2_TERMINATED ?
		    "Instance is in terminated state." :
		    "Instance is in shutting-down state.";
	else if (e->failed)
		h->description = "Instance has failed at least the UnhealthyThreshold "
		    "number of health checks consecutively.";
	else {
		h->reason_code = "ELB";
		h->description = "Instance registration is still in progress.";
	}
}

static int
check_ids(struct sim_model *m, const char *action, const char *const *ids, size_t n,
    int need_alive, struct sim_err *err)
{
	struct sim_instance *in;

	for (size_t i = 0; i < n; i++) {
		in = sim_ec2_find(m, ids[i]);
		if (in != NULL && !(need_alive && in->state == SIM_EC2_TERMINATED))
			continue;
		sim_fail(err, 400, "InvalidInstance", "Could not find EC2 instance %s.",
		    ids[i]);
		sim_call(m, action, ids[i], NULL, err);
		return -1;
	}
	return 0;
}

int
sim_elb_deregister(struct sim_model *m, const char *const *ids, size_t n, int64_t now,
    struct sim_err *err)
{
	static const char action[] = "DeregisterInstancesFromLoadBalancer";

	sim_model_advance(m, now);
	if (check_ids(m, action, ids, n, 0, err) == -1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct sim_instance *in = sim_ec2_find(m, ids[i]);

		sim_call(m, action, in->id, NULL, NULL);
		sim_elb_remove(m, in);
	}
	return 0;
}

int
sim_elb_register(struct sim_model *m, const char *const *ids, size_t n, int64_t now,
    struct sim_err *err)
{
	static const char action[] = "RegisterInstancesWithLoadBalancer";

	sim_model_advance(m, now);
	if (check_ids(m, action, ids, n, 1, err) == -1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct sim_instance *in = sim_ec2_find(m, ids[i]);

		sim_call(m, action, in->id, NULL, NULL);
		if (in->elb.draining) {
			/* Registering again ends the drain: the instance keeps its health. */
			in->elb.draining = 0;
			in->elb.epoch++;
			sim_rec(m, SIM_REC_ELB, in->id, "registered", NULL, 0,
			    "drain cancelled");
			if (in->elb.in_service)
				sim_rec(m, SIM_REC_ELB, in->id, "InService", NULL, 0, NULL);
			schedule_check(m, in);
		} else if (!in->elb.registered)
			sim_elb_attach(m, in);
	}
	return 0;
}
