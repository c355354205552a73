/*
 * API calls: a counter per action (what the run report shows as "API calls made"),
 * a token bucket per AWS service (AWS throttles per account and API family: the
 * daemon shares it with every other tool), and the record of each destructive call
 * in the history, which the invariant report reads (I3, I5).
 */
#include <stdlib.h>
#include <string.h>

#include "sim/model_int.h"

struct sim_api {
	struct sim_call_count *c;
	size_t		 n, cap;
	double		 tokens[SIM_NSVC];
	int64_t		 refilled[SIM_NSVC];
};

struct sim_api *
sim_api_new(struct sim_model *m)
{
	struct sim_api *a = sim_xcalloc(1, sizeof(*a));

	for (int i = 0; i < SIM_NSVC; i++) {
		a->tokens[i] = m->p.bucket;
		a->refilled[i] = 0;
	}
	return a;
}

void
sim_api_free(struct sim_api *a)
{
	if (a == NULL)
		return;
	free(a->c);
	free(a);
}

static struct sim_call_count *
counter(struct sim_api *a, enum sim_service svc, const char *action)
{
	struct sim_call_count *c;

	for (size_t i = 0; i < a->n; i++)
		if (a->c[i].svc == svc && strcmp(a->c[i].action, action) == 0)
			return &a->c[i];
	sim_grow(&a->c, &a->cap, a->n + 1, sizeof(*a->c));
	c = &a->c[a->n++];
	memset(c, 0, sizeof(*c));
	sim_strlcpy(c->action, action, sizeof(c->action));
	c->svc = svc;
	return c;
}

/* Takes a token from the service's bucket; 0 if there was none. */
static int
take_token(struct sim_model *m, enum sim_service svc)
{
	struct sim_api *a = m->api;
	double t = a->tokens[svc] + (double)(m->now - a->refilled[svc]) * m->p.refill / 1000;

	a->tokens[svc] = t < m->p.bucket ? t : m->p.bucket;
	a->refilled[svc] = m->now;
	if (a->tokens[svc] < 1)
		return 0;
	a->tokens[svc] -= 1;
	return 1;
}

int
sim_api_call(struct sim_model *m, enum sim_service svc, const char *action, int64_t now,
    struct sim_err *err)
{
	struct sim_call_count *c;

	sim_model_advance(m, now);
	c = counter(m->api, svc, action);
	c->calls++;
	if (!m->p.throttle || svc == SIM_SVC_BITBUCKET || svc == SIM_SVC_STS ||
	    take_token(m, svc))
		return 0;
	c->throttled++;
	if (svc == SIM_SVC_EC2)
		return sim_fail(err, 503, "RequestLimitExceeded", "Request limit exceeded.");
	return sim_fail(err, 400, "Throttling", "Rate exceeded");
}

void
sim_api_refused(struct sim_model *m, const char *service, const char *action,
    int64_t now, int throttled)
{
	static const struct { const char *name; enum sim_service svc; } names[] = {
		{ "cloudformation", SIM_SVC_CLOUDFORMATION },
		{ "autoscaling", SIM_SVC_AUTOSCALING }, { "ec2", SIM_SVC_EC2 },
		{ "elasticloadbalancing", SIM_SVC_ELB },
		{ "monitoring", SIM_SVC_CLOUDWATCH },
	};	/* not STS: identity checks are not orchestration */
	struct sim_call_count *c;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(names[i].name, service) != 0)
			continue;
		sim_model_advance(m, now);
		c = counter(m->api, names[i].svc, action);
		c->calls++;
		c->throttled += throttled != 0;
		return;
	}
}

const struct sim_call_count *
sim_api_counts(const struct sim_model *m, size_t *n)
{
	*n = m->api->n;
	return m->api->c;
}

void
sim_call(struct sim_model *m, const char *action, const char *target, const char *arg,
    const struct sim_err *err)
{
	sim_rec(m, SIM_REC_CALL, target, action, arg, err ? err->status : 200, "%s%s",
	    err ? err->code : "", err ? "" : "ok");
}
