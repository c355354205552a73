/*
 * User traffic through the load balancer: requests arrive at params.rate (Poisson),
 * each of a duration drawn from its class (short, medium, long: some longer than
 * the draining timeout), and go round robin to instances the ELB has in service
 * and not draining. The ELB routes by its own view: a request sent to a node that
 * died since its last health check fails. Every failure is recorded with its reason
 * and planned duration, which is what I7 judges.
 */
#include <math.h>
#include <stdlib.h>

#include "sim/model_int.h"

struct sim_request {
	int		 inst;		/* index in model->inst, -1 when the slot is free */
	int64_t		 dur;
	uint32_t	 gen;
};

struct sim_req_pool {
	struct sim_request *r;
	size_t		 n, cap;
	int		*freel;
	size_t		 nfree, freecap;
	double		 next_at;	/* the next arrival, in fractional ms */
};

const char *
sim_fail_reason_name(enum sim_fail_reason r)
{
	static const char *const names[] = { "node died", "draining cut", "no node" };

	return (size_t)r < nitems(names) ? names[r] : "?";
}

static void
schedule_arrival(struct sim_model *m)
{
	struct sim_req_pool *p = m->req;
	double gap = -log(1 - sim_rng_unit(&m->rng_traffic)) * 1000.0 / m->p.rate;

	p->next_at += gap;
	sim_schedule(m, (int64_t)ceil(p->next_at), SIM_EV_REQ_ARRIVE, -1, 0);
}

void
sim_traffic_init(struct sim_model *m)
{
	m->req = sim_xcalloc(1, sizeof(*m->req));
	m->req->next_at = (double)m->now;
	if (m->p.rate > 0)
		schedule_arrival(m);
}

void
sim_traffic_free(struct sim_model *m)
{
	if (m->req == NULL)
		return;
	free(m->req->r);
	free(m->req->freel);
	free(m->req);
	m->req = NULL;
}

static int64_t
draw_duration(struct sim_model *m)
{
	double u = sim_rng_unit(&m->rng_traffic), acc = 0;
	const struct sim_req_class *c = &m->p.req[SIM_REQ_CLASSES - 1];

	for (int i = 0; i < SIM_REQ_CLASSES; i++) {
		acc += m->p.req[i].share;
		if (u < acc) {
			c = &m->p.req[i];
			break;
		}
	}
	return c->min_ms + (int64_t)sim_rng_below(&m->rng_traffic,
	    (uint64_t)(c->max_ms - c->min_ms + 1));
}

static void
failed(struct sim_model *m, struct sim_instance *in, enum sim_fail_reason why,
    int64_t dur)
{
	m->traffic.failed[why]++;
	if (dur < m->p.drain_timeout)
		m->traffic.failed_short++;
	sim_rec(m, SIM_REC_REQUEST, in ? in->id : "-", sim_fail_reason_name(why), NULL,
	    (long)dur, NULL);
}

static void
count_user(struct sim_model *m, struct sim_node *n)
{
	int64_t w = m->p.user_window, age = m->now - n->window_start;

	if (age >= w) {
		n->last_window_users = age >= 2 * w ? 0 : n->window_users;
		n->window_users = 0;
		n->window_start = m->now - age % w;
	}
	n->window_users++;
}

static int
take_slot(struct sim_req_pool *p)
{
	if (p->nfree > 0)
		return p->freel[--p->nfree];
	sim_grow(&p->r, &p->cap, p->n + 1, sizeof(*p->r));
	return (int)p->n++;
}

static void
free_slot(struct sim_req_pool *p, int slot)
{
	p->r[slot].inst = -1;
	p->r[slot].gen++;
	sim_grow(&p->freel, &p->freecap, p->nfree + 1, sizeof(*p->freel));
	p->freel[p->nfree++] = slot;
}

void
sim_traffic_on_arrive(struct sim_model *m)
{
	struct sim_instance *in = sim_elb_pick(m);
	int64_t dur = draw_duration(m);
	struct sim_request *r;
	int slot;

	schedule_arrival(m);
	m->traffic.started++;
	if (in == NULL || !sim_node_serves(m, in)) {
		failed(m, in, in == NULL ? SIM_FAIL_NO_NODE : SIM_FAIL_NODE_DIED, dur);
		return;
	}
	slot = take_slot(m->req);
	r = &m->req->r[slot];
	r->inst = in->idx;
	r->dur = dur;
	in->inflight++;
	m->traffic.inflight++;
	count_user(m, &in->node);
	sim_schedule(m, m->now + dur, SIM_EV_REQ_END, slot, r->gen);
}

void
sim_traffic_on_end(struct sim_model *m, int slot, uint32_t gen)
{
	struct sim_request *r = &m->req->r[slot];
	struct sim_instance *in;

	if (r->gen != gen || r->inst < 0)
		return;
	in = m->inst[r->inst];
	free_slot(m->req, slot);
	in->inflight--;
	m->traffic.inflight--;
	m->traffic.served++;
	if (in->inflight == 0)
		sim_elb_on_idle(m, in);
}

void
sim_traffic_fail_all(struct sim_model *m, struct sim_instance *in,
    enum sim_fail_reason why)
{
	struct sim_req_pool *p = m->req;

	if (p == NULL || in->inflight == 0)
		return;
	for (size_t i = 0; i < p->n; i++) {
		if (p->r[i].inst != in->idx)
			continue;
		failed(m, in, why, p->r[i].dur);
		free_slot(p, (int)i);
		m->traffic.inflight--;
	}
	in->inflight = 0;
}
