/*
 * Bitbucket's rolling-upgrade (ZDU) state: the upgrade-mode flag, the original
 * version, the nodes snapshotted when upgrade mode was enabled (listed OFFLINE once
 * they leave, until approve or cancel), finalization. The cluster state is never
 * stored: it is recomputed on every read by the six rules of bitbucket-zdu.md.
 */
#include <stdlib.h>
#include <string.h>

#include "common/version.h"
#include "sim/model_int.h"

const char *
sim_zdu_state_name(enum sim_zdu_state s)
{
	static const char *const names[] = {
		"STABLE", "READY_TO_UPGRADE", "MIXED", "READY_TO_RUN_UPGRADE_TASKS",
		"RUNNING_UPGRADE_TASKS", "UPGRADE_TASKS_FAILED",
	};

	return (size_t)s < nitems(names) ? names[s] : "?";
}

static int
live(const struct sim_instance *in)
{
	return in->member && in->node.state != SIM_NODE_NONE;
}

static int
unreachable(const struct sim_model *m, const struct sim_instance *in)
{
	return !sim_node_listed_reachable(m, in);
}

/* A node's version as /cluster shows it: NULL while it cannot be reached. */
static const char *
shown_version(const struct sim_model *m, const struct sim_instance *in)
{
	return unreachable(m, in) ? NULL : in->node.version;
}

static int
same(const char *a, const char *b)
{
	return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}

/* Rules 3 to 6, with upgrade mode on. */
static enum sim_zdu_state
upgrade_mode_state(const struct sim_model *m)
{
	const char *first = NULL, *v;
	int any = 0;

	for (size_t i = 0; i < m->ninst; i++) {
		const struct sim_instance *in = m->inst[i];

		if (!live(in))
			continue;
		if (!unreachable(m, in) && in->node.state == SIM_NODE_ERROR)
			return SIM_ZDU_MIXED;				/* rule 3 */
		v = shown_version(m, in);
		if (any && !same(first, v))
			return SIM_ZDU_MIXED;				/* rule 4 */
		first = v;
		any = 1;
	}
	if (!any || same(first, m->zdu.original_version))
		return SIM_ZDU_READY_TO_UPGRADE;			/* rule 5 */
	return SIM_ZDU_READY_TO_RUN_UPGRADE_TASKS;			/* rule 6 */
}

enum sim_zdu_state
sim_zdu_state(const struct sim_model *m)
{
	if (m->zdu.finalizing)
		return SIM_ZDU_RUNNING_UPGRADE_TASKS;			/* rule 1 */
	if (!m->zdu.upgrade_mode)					/* rule 2 */
		return m->zdu.tasks_failed ? SIM_ZDU_UPGRADE_TASKS_FAILED : SIM_ZDU_STABLE;
	return upgrade_mode_state(m);
}

/*
 * Whether a node on version may join now. In upgrade mode: the original
 * major.minor, patch at least the original's. Otherwise: the version the ACTIVE
 * nodes run (any, if there is none).
 */
int
sim_zdu_may_join(const struct sim_model *m, const char *version)
{
	struct bb_version v, o;

	if (m->zdu.upgrade_mode) {
		if (version_parse(version, &v) == -1 ||
		    version_parse(m->zdu.original_version, &o) == -1)
			return 0;
		return v.major == o.major && v.minor == o.minor && version_cmp(&v, &o) >= 0;
	}
	for (size_t i = 0; i < m->ninst; i++) {
		const struct sim_instance *in = m->inst[i];

		if (live(in) && in->node.state == SIM_NODE_ACTIVE &&
		    strcmp(in->node.version, version) != 0)
			return 0;
	}
	return 1;
}

static void
take_snapshot(struct sim_model *m)
{
	struct sim_zdu *z = &m->zdu;

	free(z->snap);
	z->snap = sim_xcalloc(m->ninst, sizeof(*z->snap));
	z->nsnap = 0;
	for (size_t i = 0; i < m->ninst; i++) {
		struct sim_instance *in = m->inst[i];
		struct sim_snap *s;

		if (!live(in))
			continue;
		s = &z->snap[z->nsnap++];
		sim_strlcpy(s->id, in->node.id, sizeof(s->id));
		sim_strlcpy(s->name, in->node.name, sizeof(s->name));
		sim_strlcpy(s->ip, in->ip, sizeof(s->ip));
	}
}

static void
leave_upgrade_mode(struct sim_model *m)
{
	struct sim_zdu *z = &m->zdu;

	z->upgrade_mode = 0;
	z->original_version[0] = '\0';
	free(z->snap);
	z->snap = NULL;
	z->nsnap = 0;
}

/* Bitbucket answers an illegal transition with 409 and an empty body. */
static int
guard(struct sim_model *m, const char *action, enum sim_zdu_state need,
    struct sim_err *err)
{
	if (sim_zdu_state(m) == need)
		return 0;
	sim_fail(err, 409, "", "%s", "");
	sim_call(m, action, "cluster", NULL, err);
	return -1;
}

/* The version upgrade mode saves: the one the ACTIVE nodes run. */
static const char *
cluster_version(const struct sim_model *m)
{
	for (size_t i = 0; i < m->ninst; i++)
		if (live(m->inst[i]) && m->inst[i]->node.state == SIM_NODE_ACTIVE)
			return m->inst[i]->node.version;
	return m->p.version;
}

int
sim_zdu_start(struct sim_model *m, int64_t now, struct sim_err *err)
{
	struct sim_zdu *z = &m->zdu;

	sim_model_advance(m, now);
	if (guard(m, "zdu/start", SIM_ZDU_STABLE, err) == -1)
		return -1;
	sim_call(m, "zdu/start", "cluster", NULL, NULL);
	z->upgrade_mode = 1;
	sim_strlcpy(z->original_version, cluster_version(m), sizeof(z->original_version));
	take_snapshot(m);
	sim_rec(m, SIM_REC_ZDU, "cluster", "start", z->original_version, (long)z->nsnap,
	    "upgrade mode on, %zu nodes", z->nsnap);
	return 0;
}

int
sim_zdu_cancel(struct sim_model *m, int64_t now, struct sim_err *err)
{
	sim_model_advance(m, now);
	if (guard(m, "zdu/cancel", SIM_ZDU_READY_TO_UPGRADE, err) == -1)
		return -1;
	sim_call(m, "zdu/cancel", "cluster", NULL, NULL);
	sim_rec(m, SIM_REC_ZDU, "cluster", "cancel", m->zdu.original_version, 0, NULL);
	leave_upgrade_mode(m);
	sim_rec(m, SIM_REC_ZDU, "cluster", "STABLE", NULL, 0, NULL);
	return 0;
}

static void
finalize(struct sim_model *m)
{
	struct sim_zdu *z = &m->zdu;

	if (m->p.finalize == 0 && !(m->p.finalize_fail && !z->fail_used)) {
		sim_rec(m, SIM_REC_ZDU, "cluster", "STABLE", NULL, 0, NULL);
		return;
	}
	z->finalizing = 1;
	z->finalize_end = m->now + m->p.finalize;
	sim_rec(m, SIM_REC_ZDU, "cluster", "RUNNING_UPGRADE_TASKS", NULL, 0, NULL);
	sim_schedule(m, z->finalize_end, SIM_EV_ZDU_FINALIZED, -1, 0);
}

int
sim_zdu_approve(struct sim_model *m, int64_t now, struct sim_err *err)
{
	sim_model_advance(m, now);
	if (guard(m, "zdu/approve", SIM_ZDU_READY_TO_RUN_UPGRADE_TASKS, err) == -1)
		return -1;
	sim_call(m, "zdu/approve", "cluster", NULL, NULL);
	sim_rec(m, SIM_REC_ZDU, "cluster", "approve", cluster_version(m), 0, NULL);
	leave_upgrade_mode(m);
	finalize(m);
	return 0;
}

int
sim_zdu_retry(struct sim_model *m, int64_t now, struct sim_err *err)
{
	sim_model_advance(m, now);
	if (guard(m, "zdu/retryUpgrade", SIM_ZDU_UPGRADE_TASKS_FAILED, err) == -1)
		return -1;
	sim_call(m, "zdu/retryUpgrade", "cluster", NULL, NULL);
	m->zdu.tasks_failed = 0;
	finalize(m);
	return 0;
}

void
sim_zdu_on_finalized(struct sim_model *m)
{
	struct sim_zdu *z = &m->zdu;

	z->finalizing = 0;
	if (m->p.finalize_fail && !z->fail_used) {
		z->fail_used = 1;
		z->tasks_failed = 1;
		sim_rec(m, SIM_REC_ZDU, "cluster", "UPGRADE_TASKS_FAILED", NULL, 0, NULL);
	} else
		sim_rec(m, SIM_REC_ZDU, "cluster", "STABLE", NULL, 0, NULL);
}
