/*
 * The invariant report (DESIGN.md section 3, I1 to I7), judged from the history
 * alone: the records are replayed into a small state of their own (instances, ELB,
 * nodes, capacity, processes, protection, tokens) and every invariant is checked as
 * the replay goes, so that a mistake in a transition cannot vouch for itself. The
 * upgrade is the window from ZDU start to approve (or cancel); I1 and I2 hold inside
 * it, after each instant (records at one millisecond are one step); the others over
 * the whole history; I6 on the state the history ends in.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/model_int.h"

#define MAX_TOKENS	256

struct rinst {
	char		 id[24];
	int		 member, file_server;
	int		 ec2;		/* enum sim_ec2_state */
	int		 registered, in_service, draining;
	int		 active;	/* Bitbucket ACTIVE */
	char		 version[SIM_VERSION_MAX];
	int		 prot, prot0, original;
	int		 terminating;	/* lifecycle Terminating */
	int		 term_called;
	int		 out;		/* taken out of service, not yet gone */
	int64_t		 drain_from;	/* when its draining began */
};

struct replay {
	const struct sim_model *m;
	struct sim_report *rep;
	struct rinst	*in;
	size_t		 n;
	int		 min, max, desired, min0, max0, desired0;
	int		 min_peak;	/* the highest min during the upgrade */
	unsigned	 procs, procs0;
	int		 new_prot;
	int		 window, ended, approved, cancelled, stable;
	char		 root_status[48], root_version[SIM_VERSION_MAX];
	char		*tokens[MAX_TOKENS];
	size_t		 ntokens;
	char		 last_zdu_ok[16];	/* the last ZDU action that succeeded */
	int		 serving_prev, out_prev;
	long		 culprit1, culprit2;	/* what lowered serving, raised out */
	long		 last;			/* the record replayed last */
};

static struct rinst *
inst(struct replay *r, const char *id)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->in[i].id, id) == 0)
			return &r->in[i];
	return NULL;
}

static struct rinst *
inst_new(struct replay *r, const char *id)
{
	struct rinst *x = inst(r, id);

	if (x != NULL)
		return x;
	r->in = sim_xreallocarray(r->in, r->n + 1, sizeof(*r->in));
	x = &r->in[r->n++];
	memset(x, 0, sizeof(*x));
	sim_strlcpy(x->id, id, sizeof(x->id));
	x->prot = r->new_prot;
	return x;
}

static void __attribute__((format(printf, 4, 5)))
violate(struct replay *r, int which, long idx, const char *fmt, ...)
{
	struct sim_inv *v = &r->rep->inv[which];
	va_list ap;

	v->ok = 0;
	if (v->violations++ > 0)
		return;
	v->first = idx;
	v->first_t = idx >= 0 ? r->m->hist.rec[idx].t : r->m->now;
	va_start(ap, fmt);
	vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
}

static int
serving(const struct replay *r)
{
	int n = 0;

	for (size_t i = 0; i < r->n; i++) {
		const struct rinst *x = &r->in[i];

		n += x->member && x->ec2 == SIM_EC2_RUNNING && x->registered &&
		    x->in_service && !x->draining && x->active;
	}
	return n;
}

static int
out_of_service(const struct replay *r)
{
	int n = 0;

	for (size_t i = 0; i < r->n; i++)
		n += r->in[i].member && r->in[i].out && r->in[i].ec2 != SIM_EC2_TERMINATED;
	return n;
}

static int
terminations_in_flight(const struct replay *r)
{
	int n = 0;

	for (size_t i = 0; i < r->n; i++)
		n += r->in[i].term_called && r->in[i].ec2 != SIM_EC2_TERMINATED;
	return n;
}

static int
ec2_state(const char *s)
{
	static const char *const names[] = {
		"pending", "running", "shutting-down", "terminated",
	};

	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return 0;
}

/* ---- one handler per kind of record ---- */

static void
on_ec2(struct replay *r, const struct sim_record *rec, long idx)
{
	struct rinst *x = inst_new(r, rec->obj);

	x->member = (rec->n & 1) != 0;
	x->file_server = (rec->n & 2) != 0;
	x->ec2 = ec2_state(rec->a);
	if (x->ec2 != SIM_EC2_SHUTTING_DOWN)
		return;
	x->out = 1;
	if (x->registered)
		violate(r, 3, idx, "%s was shut down while %s in the load balancer", x->id,
		    x->draining ? "draining" : "registered");
}

static void
on_elb(struct replay *r, const struct sim_record *rec)
{
	struct rinst *x = inst_new(r, rec->obj);

	if (strcmp(rec->a, "registered") == 0) {
		x->registered = 1;
		x->draining = x->in_service = x->out = 0;
	} else if (strcmp(rec->a, "InService") == 0)
		x->in_service = 1;
	else if (strcmp(rec->a, "OutOfService") == 0)
		x->in_service = 0;
	else if (strcmp(rec->a, "draining") == 0) {
		x->draining = x->out = 1;
		x->drain_from = rec->t;
	}
	else if (strcmp(rec->a, "deregistered") == 0)
		x->registered = x->draining = x->in_service = 0;
}

static void
on_node(struct replay *r, const struct sim_record *rec)
{
	struct rinst *x = inst_new(r, rec->obj);

	if (strcmp(rec->a, "unreachable") == 0)
		return;		/* the ELB's checks decide whether that matters */
	x->active = strcmp(rec->a, "ACTIVE") == 0;
	sim_strlcpy(x->version, strcmp(rec->a, "gone") == 0 ? "" : rec->b,
	    sizeof(x->version));
}

static void
on_state(struct replay *r, const struct sim_record *rec)
{
	struct rinst *x;

	switch (rec->kind) {
	case SIM_REC_LIFECYCLE:
		if ((x = inst(r, rec->obj)) != NULL && rec->b[0] == '\0') {
			x->terminating = strcmp(rec->a, "Terminating") == 0;
			x->out |= x->terminating;
		}
		break;
	case SIM_REC_PROTECTION:
		if (strcmp(rec->a, "new-instances") == 0)
			r->new_prot = (int)rec->n;
		else if ((x = inst(r, rec->obj)) != NULL)
			x->prot = (int)rec->n;
		break;
	case SIM_REC_CAPACITY:
		sscanf(rec->a, "min=%d max=%d", &r->min, &r->max);
		r->desired = (int)rec->n;
		if (r->window && r->min > r->min_peak)
			r->min_peak = r->min;
		break;
	case SIM_REC_PROCESSES:
		r->procs = (unsigned)rec->n;
		break;
	case SIM_REC_STACK:
		if (rec->n == 0) {	/* the root stack */
			sim_strlcpy(r->root_status, rec->a, sizeof(r->root_status));
			sim_strlcpy(r->root_version, rec->b, sizeof(r->root_version));
		}
		break;
	case SIM_REC_DRAIN:
		/* Time the traffic holds the upgrade, which the bound leaves out. */
		if ((x = inst(r, rec->obj)) != NULL && x->draining)
			r->rep->drain_ms += rec->t - x->drain_from;
		if (strcmp(rec->a, "clean") == 0)
			r->rep->drains_clean++;
		else
			r->rep->drains_forced++;
		break;
	default:
		break;
	}
}

static void
on_zdu_start(struct replay *r)
{
	r->window = 1;
	r->ended = r->approved = r->cancelled = r->stable = 0;
	r->min0 = r->min_peak = r->min;
	r->max0 = r->max;
	r->desired0 = r->desired;
	r->procs0 = r->procs;
	for (size_t i = 0; i < r->n; i++) {
		r->in[i].original = r->in[i].member && r->in[i].ec2 != SIM_EC2_TERMINATED;
		r->in[i].prot0 = r->in[i].prot;
	}
	r->serving_prev = serving(r);
	r->out_prev = out_of_service(r);
}

static void
on_zdu(struct replay *r, const struct sim_record *rec)
{
	struct sim_report *rep = r->rep;

	if (strcmp(rec->a, "start") == 0) {
		on_zdu_start(r);
		rep->upgrade_start = rec->t;
		rep->upgrade_end = -1;
		rep->original_n = r->desired;
		sim_strlcpy(rep->from, rec->b, sizeof(rep->from));
		rep->to[0] = '\0';
	} else if (strcmp(rec->a, "approve") == 0 || strcmp(rec->a, "cancel") == 0) {
		r->window = 0;
		r->ended = 1;
		r->approved = rec->a[0] == 'a';
		r->cancelled = !r->approved;
		rep->upgrade_end = rec->t;
	} else
		r->stable = strcmp(rec->a, "STABLE") == 0;
}

static int
is(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

/* A stack change's token, once: a second use is the same decision made twice. */
static int
token_seen(struct replay *r, const char *token)
{
	for (size_t i = 0; i < r->ntokens; i++)
		if (strcmp(r->tokens[i], token) == 0)
			return 1;
	if (r->ntokens < MAX_TOKENS)
		r->tokens[r->ntokens++] = strdup(token);
	return 0;
}

static void
on_zdu_call(struct replay *r, const struct sim_record *rec, long idx)
{
	const char *what = rec->a + strlen("zdu/");

	if (rec->n == 200) {
		sim_strlcpy(r->last_zdu_ok, what, sizeof(r->last_zdu_ok));
		return;
	}
	/* Refused because it had already been done: start twice, approve twice... */
	if (rec->n == 409 && strcmp(r->last_zdu_ok, what) == 0)
		violate(r, 4, idx, "%s called again after it had succeeded", rec->a);
}

static void
on_destructive(struct replay *r, const struct sim_record *rec, long idx)
{
	struct rinst *x = inst(r, rec->obj);
	int terminate = is(rec->a, "TerminateInstanceInAutoScalingGroup") ||
	    is(rec->a, "TerminateInstances");

	if (x == NULL || !x->member) {
		violate(r, 2, idx, "%s on %s, which is not in ClusterNodeGroup%s", rec->a,
		    rec->obj, x != NULL && x->file_server ? " (the NFS FileServer)" : "");
		return;
	}
	if (terminate) {
		if (x->term_called)
			violate(r, 4, idx, "%s on %s, already being terminated", rec->a, x->id);
		x->term_called = 1;
		x->out = 1;
		if (r->window && terminations_in_flight(r) > 1)
			violate(r, 1, idx, "%s on %s while another termination is in flight",
			    rec->a, x->id);
	} else if (!x->registered || x->draining)
		violate(r, 4, idx, "%s on %s, already %s", rec->a, x->id,
		    x->draining ? "draining" : "deregistered");
}

static void
on_call(struct replay *r, const struct sim_record *rec, long idx)
{
	struct rinst *x;

	if (strncmp(rec->a, "zdu/", 4) == 0) {
		on_zdu_call(r, rec, idx);
		return;
	}
	if (rec->n != 200)
		return;
	if (is(rec->a, "TerminateInstanceInAutoScalingGroup") ||
	    is(rec->a, "TerminateInstances") ||
	    is(rec->a, "DeregisterInstancesFromLoadBalancer"))
		on_destructive(r, rec, idx);
	else if (is(rec->a, "SetInstanceProtection")) {
		if ((x = inst(r, rec->obj)) != NULL && x->prot == is(rec->b, "true"))
			violate(r, 4, idx, "SetInstanceProtection on %s to %s, which it "
			    "already was", x->id, rec->b);
	} else if ((is(rec->a, "UpdateStack") || is(rec->a, "ExecuteChangeSet")) &&
	    rec->b[0] != '\0' && token_seen(r, rec->b))
		violate(r, 4, idx, "%s with token %s, used before", rec->a, rec->b);
}

static void
on_request(struct replay *r, const struct sim_record *rec, long idx)
{
	if (rec->n >= r->m->p.drain_timeout) {
		r->rep->requests_cut_long++;
		return;
	}
	violate(r, 6, idx, "a %ld ms request failed (%s on %s)", rec->n, rec->a, rec->obj);
}

static void
apply(struct replay *r, const struct sim_record *rec, long idx)
{
	switch (rec->kind) {
	case SIM_REC_EC2:
		on_ec2(r, rec, idx);
		break;
	case SIM_REC_ELB:
		on_elb(r, rec);
		break;
	case SIM_REC_NODE:
		on_node(r, rec);
		break;
	case SIM_REC_ZDU:
		on_zdu(r, rec);
		break;
	case SIM_REC_CALL:
		on_call(r, rec, idx);
		break;
	case SIM_REC_REQUEST:
		on_request(r, rec, idx);
		break;
	default:
		on_state(r, rec);
		break;
	}
}

/* Notes which record lowered the serving count or raised the out-of-service one. */
static void
track(struct replay *r, long idx)
{
	int s, o;

	if (!r->window)
		return;
	s = serving(r);
	o = out_of_service(r);
	if (s < r->serving_prev)
		r->culprit1 = idx;
	if (o > r->out_prev)
		r->culprit2 = idx;
	r->serving_prev = s;
	r->out_prev = o;
}

/*
 * The surge k that I2 allows: what the upgrade's scale-out added to min, as the
 * daemon's configuration is not bbsim's to know; the scenario's until then.
 */
static int
surge(const struct replay *r)
{
	return r->min_peak > r->min0 ? r->min_peak - r->min0 : r->m->p.surge;
}

/* I1 and I2 after each instant of the upgrade. */
static void
end_of_step(struct replay *r)
{
	int s, o, k = surge(r);

	if (!r->window)
		return;
	s = serving(r);
	o = out_of_service(r);
	if (s < r->rep->original_n)
		violate(r, 0, r->culprit1 >= 0 ? r->culprit1 : r->last, "%d node(s) serving, fewer than the %d the upgrade "
		    "started with", s, r->rep->original_n);
	if (o > k)
		violate(r, 1, r->culprit2 >= 0 ? r->culprit2 : r->last, "%d node(s) out of service at once (surge %d)", o,
		    k);
}

/* The version the upgrade went to: the root stack's first other version. */
static void
note_target(struct replay *r)
{
	if (r->window && r->rep->to[0] == '\0' && r->root_version[0] != '\0' &&
	    strcmp(r->root_version, r->rep->from) != 0)
		sim_strlcpy(r->rep->to, r->root_version, sizeof(r->rep->to));
}

/* I6's checks of the live nodes: count, version, ACTIVE, protection as before. */
static void
check_nodes(struct replay *r, const char *want)
{
	int live = 0;

	for (size_t i = 0; i < r->n; i++) {
		const struct rinst *x = &r->in[i];

		if (!x->member || x->ec2 == SIM_EC2_TERMINATED)
			continue;
		live++;
		if (!x->active || strcmp(x->version, want) != 0) {
			violate(r, 5, -1, "%s is %s on %s, not ACTIVE on %s", x->id,
			    x->active ? "ACTIVE" : "not ACTIVE", x->version, want);
			return;
		}
		if (x->prot != (x->original ? x->prot0 : r->new_prot)) {
			violate(r, 5, -1, "%s is%s protected from scale-in, unlike before",
			    x->id, x->prot ? "" : " not");
			return;
		}
	}
	if (live != r->desired0)
		violate(r, 5, -1, "%d nodes at the end, %d before", live, r->desired0);
}

/* I6: the state the history ends in is the one the upgrade promised. */
static void
check_end(struct replay *r)
{
	const char *want = r->cancelled ? r->rep->from : r->rep->to;

	if (!r->ended)
		violate(r, 5, -1, "the upgrade did not finish: no approve or cancel");
	else if (!r->stable)
		violate(r, 5, -1, "the cluster is not STABLE");
	else if (want[0] == '\0')
		violate(r, 5, -1, "approved, but the stack never named a new version");
	else if (strcmp(r->root_version, want) != 0 ||
	    (strcmp(r->root_status, "UPDATE_COMPLETE") != 0 &&
	    strcmp(r->root_status, "CREATE_COMPLETE") != 0))
		violate(r, 5, -1, "the stack is %s with BitbucketVersion=%s, not "
		    "UPDATE_COMPLETE with %s", r->root_status, r->root_version, want);
	else if (r->min != r->min0 || r->max != r->max0 || r->desired != r->desired0)
		violate(r, 5, -1, "the group is at min/max/desired %d/%d/%d, was %d/%d/%d",
		    r->min, r->max, r->desired, r->min0, r->max0, r->desired0);
	else if (r->procs != r->procs0)
		violate(r, 5, -1, "suspended processes 0x%x, were 0x%x", r->procs, r->procs0);
	else
		check_nodes(r, want);
}

void
sim_report(struct sim_model *m, int64_t now, struct sim_report *rep)
{
	static const char *const ids[7] = { "I1", "I2", "I3", "I4", "I5", "I6", "I7" };
	const struct sim_history *h = &m->hist;
	struct replay r;

	sim_model_advance(m, now);
	memset(rep, 0, sizeof(*rep));
	for (int i = 0; i < 7; i++)
		rep->inv[i] = (struct sim_inv){ .id = ids[i], .ok = 1, .judged = 1,
		    .first = -1, .first_t = -1 };
	rep->upgrade_start = rep->upgrade_end = -1;
	memset(&r, 0, sizeof(r));
	r.m = m;
	r.rep = rep;
	r.culprit1 = r.culprit2 = -1;
	for (size_t i = 0; i < h->n; i++) {
		if (i > 0 && h->rec[i].t != h->rec[i - 1].t)
			end_of_step(&r);
		r.last = (long)i;
		apply(&r, &h->rec[i], (long)i);
		note_target(&r);
		track(&r, (long)i);
	}
	end_of_step(&r);
	rep->surge = surge(&r);
	if (rep->upgrade_start < 0)
		rep->inv[0].judged = rep->inv[1].judged = rep->inv[5].judged = 0;
	else
		check_end(&r);
	rep->ok = 1;
	for (int i = 0; i < 7; i++)
		rep->ok &= rep->inv[i].ok;
	for (size_t i = 0; i < r.ntokens; i++)
		free(r.tokens[i]);
	free(r.in);
}
