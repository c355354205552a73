/*
 * bbsim's fault rules, set through /_sim/faults and consulted by each front door
 * (auth.c for AWS, bitbucket_api.c) around an operation: which calls they hit, with
 * what latency, error or network fault, before or after the operation runs, and how
 * many times. A rule never reaches an unauthenticated or unrouted request.
 */
#ifndef BB_SIM_FAULTS_H
#define BB_SIM_FAULTS_H

#include <stddef.h>

#include <jansson.h>

#include "common/sigv4.h"
#include "sim/server.h"

struct sim;
struct sim_resp;

#define SIM_MAX_FAULTS		64
#define SIM_FAULT_COUNT_MAX	1000000

/* The AWS errors a rule may send (fault_errors[] in faults.c names them). */
enum sim_fault_error {
	SIM_FAULT_THROTTLING,		/* RequestLimitExceeded on EC2 */
	SIM_FAULT_REQUEST_LIMIT,	/* EC2 only */
	SIM_FAULT_CONTENTION,		/* ResourceContention: Auto Scaling only */
	SIM_FAULT_SCALING,		/* ScalingActivityInProgress: ditto */
	SIM_FAULT_UNAVAILABLE,		/* ServiceUnavailable */
	SIM_FAULT_INTERNAL		/* InternalFailure */
};

enum sim_fault_when {
	SIM_FAULT_BEFORE,		/* the operation does not run */
	SIM_FAULT_AFTER			/* it runs, then its answer is lost */
};

struct sim_fault_rule {
	char			 service[SIGV4_SCOPE_MAX + 1];	/* "*": any AWS one */
	char			 action[64];			/* "*": any */
	double			 error_rate;	/* 0..1: how often the fault fires */
	unsigned		 latency_ms;
	int			 named;		/* "error" or "network" was given */
	enum sim_fault_error	 error;
	enum sim_net		 network;	/* instead of an error */
	enum sim_fault_when	 when;
	unsigned		 hold_ms;	/* no_answer */
	long			 count;		/* firings allowed; -1: no limit */
	long			 remaining;	/* of them; 0: spent, matches nothing */
	unsigned long		 fired;
};

struct sim_fault_table {
	struct sim_fault_rule	 f[SIM_MAX_FAULTS];
	size_t			 n;
};

/* The fault drawn for one request, copied out of its rule. */
struct sim_fault_hit {
	int			 fire;		/* 0: none (latency may still apply) */
	enum sim_fault_error	 error;
	enum sim_net		 network;
	enum sim_fault_when	 when;
	unsigned		 hold_ms;
};

/*
 * Replaces the table from {"rules":[{service, action, error_rate, latency_ms,
 * error, network, when, hold_ms, count}]} (docs/bbsim.1 says what each means);
 * nothing changes unless every rule is valid. 0, or -1 with why in err.
 */
int	sim_faults_set(struct sim_fault_table *, const json_t *, char *err,
	    size_t errlen);
json_t	*sim_faults_json(const struct sim_fault_table *);
/* The most specific live rule for service/action, or NULL. */
const struct sim_fault_rule *sim_faults_match(const struct sim_fault_table *,
	    const char *service, const char *action);
/*
 * Consults the table for one request: the matching rule's latency goes into
 * resp->delay_ms, then its fault is drawn (from sim->rng), spent from its count and
 * counted in /_sim/counters (faults: "service/action/kind"). hit->fire says whether
 * the front door must now answer with hit->error, or let hit->network happen,
 * before (SIM_FAULT_BEFORE) or after its operation.
 */
void	sim_faults_draw(struct sim *, const char *service, const char *action,
	    struct sim_resp *, struct sim_fault_hit *hit);
/* Lets the server drop or reset the connection instead of answering. */
void	sim_faults_network(const struct sim_fault_hit *, struct sim_resp *,
	    const char *service, const char *action, int applied);
/*
 * A fired fault of a front door without AWS envelopes (Bitbucket): the network
 * fault, or 503 with an empty body (as a proxy says it), or 500.
 */
void	sim_faults_strike_http(const struct sim_fault_hit *, struct sim_resp *,
	    const char *service, const char *action, int applied);

#endif
