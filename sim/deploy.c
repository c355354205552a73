/*
 * The deployment as the Quick Start left it before the scenario begins: the NFS
 * FileServer, then the group growing one node at a time to N, all through the
 * model's own transitions (so the history and the ELB's health are what they would
 * be), ending at virtual time 0 with every node ACTIVE and InService.
 */
#include "sim/model_int.h"

#define MIN_MS	(60 * 1000LL)
#define DAY_MS	(24 * 60 * MIN_MS)

void
sim_deploy(struct sim_model *m)
{
	struct sim_asg *g = &m->asg;
	int n = m->p.nodes;

	m->now = -3 * DAY_MS;
	sim_rec(m, SIM_REC_PROTECTION, g->name, "new-instances", NULL, g->new_protected,
	    NULL);
	sim_rec(m, SIM_REC_PROCESSES, g->name, "initial", NULL, 0, NULL);
	m->file_server = sim_ec2_launch(m, 0, "");
	g->created = -2 * DAY_MS;
	for (int i = 0; i < n; i++) {
		sim_model_advance(m, -2 * DAY_MS + i * 7 * MIN_MS +
		    (int64_t)sim_rng_below(&m->rng_ids, 60000));
		sim_asg_capacity(m, n, n, i + 1);
		sim_asg_reconcile(m);
	}
	/* Processes the scenario says were suspended: after the nodes were launched. */
	sim_model_advance(m, -DAY_MS);
	for (int p = 0; p < SIM_NPROC; p++)
		if (m->p.suspended & (1u << p))
			g->suspended_at[p] = m->now;
	g->suspended = m->p.suspended;
	sim_rec(m, SIM_REC_PROCESSES, g->name, "initial", NULL, (long)g->suspended, NULL);
	sim_model_advance(m, 0);
}
