/*
 * The daemon's AWS clients against the real bbsim process: every typed call of
 * daemon/aws/ once, signed with credentials from the environment (or from bbsim's
 * instance metadata service), sent to http://127.0.0.1:PORT, and its typed result
 * checked against the simulated truth of /_sim/state. Then what the pipeline does
 * when bbsim misbehaves on purpose (/_sim/faults: throttling storms, EC2's 503s,
 * held-back answers against the call's deadline), refuses the keys, or lets the
 * temporary credentials run out (/_sim/credentials).
 *
 * One bbsim per test, on a port the kernel picks; nothing leaves loopback. Every
 * callback is counted: each test ends with the clients freed, http_shutdown(), the
 * loop run to completion, uv_loop_close() == 0, no callback more than expected, and
 * bbsim stopped with SIGTERM (exit status 0).
 */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <uv.h>

#include "common/log.h"
#include "daemon/aws/autoscaling.h"
#include "daemon/aws/client.h"
#include "daemon/aws/cloudformation.h"
#include "daemon/aws/cloudwatch.h"
#include "daemon/aws/credentials.h"
#include "daemon/aws/ec2.h"
#include "daemon/aws/elb.h"
#include "daemon/aws/sts.h"
#include "daemon/http.h"
#include "tests/simproc.h"
#include "tests/testutil.h"
#include "tests/suites_decl.h"

#define REGION		"us-east-1"
#define ACCOUNT		"123456789012"
#define AKID		"AKIDEXAMPLE"
#define SECRET		"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SPEED		"20"		/* virtual time, times real time */
#define WAIT_MS		10000		/* one call, at most */
#define POLL_MS		50		/* between two reads of a changing world */
#define MAX_GOT		256
#define MAX_INST	32

extern char **environ;

static uv_loop_t loop;
static struct simproc sim;
static char *home;
static int cb_total, cb_expected;

/* Figures for people (retries, polls, timings): BB_TEST_VERBOSE=1 shows them. */
static void note(const char *, ...) __attribute__((format(printf, 1, 2)));

static void
note(const char *fmt, ...)
{
	va_list ap;

	if (getenv("BB_TEST_VERBOSE") == NULL)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- The loop ---- */

static void
run_until(const int *count, int n, int max_ms)
{
	int64_t end = simproc_now_ms() + max_ms;

	while (*count < n && simproc_now_ms() < end)
		uv_run(&loop, UV_RUN_ONCE);
	ck_assert_int_eq(*count, n);
}

static void
pause_fired(uv_timer_t *t)
{
	(*(int *)t->data)++;
}

static void
pause_closed(uv_handle_t *h)
{
	(*(int *)h->data)++;
}

/* Lets ms pass on the loop (calls in flight go on). */
static void
pause_ms(uint64_t ms)
{
	uv_timer_t t;
	int n = 0;

	uv_timer_init(&loop, &t);
	t.data = &n;
	uv_timer_start(&t, pause_fired, ms, 0);
	run_until(&n, 1, (int)ms + 5000);
	uv_close((uv_handle_t *)&t, pause_closed);
	run_until(&n, 2, 5000);
}

/* A 10 ms timer that keeps counting while the client works: the loop is not blocked. */
struct ticker {
	uv_timer_t	 t;
	int		 ticks;
	int		 closed;
};

static void
tick(uv_timer_t *t)
{
	((struct ticker *)t->data)->ticks++;
}

static void
ticker_closed(uv_handle_t *h)
{
	((struct ticker *)h->data)->closed = 1;
}

static void
ticker_start(struct ticker *tk)
{
	memset(tk, 0, sizeof(*tk));
	uv_timer_init(&loop, &tk->t);
	tk->t.data = tk;
	uv_timer_start(&tk->t, tick, 10, 10);
}

static void
ticker_stop(struct ticker *tk)
{
	uv_close((uv_handle_t *)&tk->t, ticker_closed);
	run_until(&tk->closed, 1, 5000);
}

/* ---- What each callback saw, copied out ---- */

struct got {
	int			 calls;
	enum aws_errclass	 ec;
	int			 status, attempts;
	uint64_t		 elapsed_ms;
	char			 code[AWS_ERR_CODE_MAX + 1];
	char			 message[AWS_ERR_MESSAGE_MAX + 1];
	char			 detail[512];
	void			*items;		/* the answer's list, copied */
	size_t			 n;
	enum aws_cfn_events_end	 end;
	struct aws_sts_identity	 id;
	struct aws_cfn_stack	 stack;		/* params and outputs copied */
	struct aws_cfn_resource	 res;
	struct aws_cfn_change_set_ref ref;
	struct aws_cfn_change_set cs;		/* changes copied, without details */
	struct aws_cfn_template	 tmpl;		/* params copied */
	struct aws_asg_group	 group;		/* instances, lbs, suspended copied */
	struct aws_asg_activity	 act;
	struct aws_elb_lb	 lb;		/* instances copied */
	struct aws_elb_attributes attrs;
};

static struct got *gots[MAX_GOT];
static size_t ngots;

static struct got *
got_new(void)
{
	struct got *g;

	ck_assert_uint_lt(ngots, MAX_GOT);
	ck_assert_ptr_nonnull(g = calloc(1, sizeof(*g)));
	gots[ngots++] = g;
	return g;
}

static void
gots_free(void)
{
	for (size_t i = 0; i < ngots; i++) {
		free(gots[i]->items);
		free(gots[i]->stack.params);
		free(gots[i]->stack.outputs);
		free(gots[i]->cs.changes);
		free(gots[i]->tmpl.params);
		free(gots[i]->group.instances);
		free(gots[i]->group.lbs);
		free(gots[i]->group.suspended);
		free(gots[i]->lb.instances.items);
		free(gots[i]);
	}
	ngots = 0;
}

static void *
dup_items(const void *p, size_t n, size_t size)
{
	void *q = calloc(n > 0 ? n : 1, size);

	ck_assert_ptr_nonnull(q);
	if (n > 0)
		memcpy(q, p, n * size);
	return q;
}

/* The part every callback shares; typed: whether the typed answer came. */
static void
got_result(struct got *g, const struct aws_result *r, bool typed)
{
	g->calls++;
	cb_total++;
	g->ec = r->errclass;
	g->status = r->error.status;
	g->attempts = r->attempts;
	g->elapsed_ms = r->elapsed_ms;
	snprintf(g->code, sizeof(g->code), "%s", r->error.code);
	snprintf(g->message, sizeof(g->message), "%s", r->error.message);
	snprintf(g->detail, sizeof(g->detail), "%s", r->detail != NULL ? r->detail : "");
	/* The typed callback's contract: a result exactly when the call succeeded. */
	ck_assert_int_eq(typed, r->errclass == AWS_ERRCLASS_OK);
}

static void
on_plain(const struct aws_result *r, void *arg)
{
	got_result(arg, r, r->errclass == AWS_ERRCLASS_OK);
}

static void
on_identity(const struct aws_result *r, const struct aws_sts_identity *id, void *arg)
{
	struct got *g = arg;

	got_result(g, r, id != NULL);
	if (id != NULL)
		g->id = *id;
}

static void
on_stacks(const struct aws_result *r, const struct aws_cfn_stacks *s, void *arg)
{
	struct got *g = arg;

	got_result(g, r, s != NULL);
	if (s == NULL || (g->n = s->n) == 0)
		return;
	g->stack = s->items[0];
	g->stack.params = dup_items(s->items[0].params, s->items[0].nparams,
	    sizeof(*s->items[0].params));
	g->stack.outputs = dup_items(s->items[0].outputs, s->items[0].noutputs,
	    sizeof(*s->items[0].outputs));
}

static void
on_resource(const struct aws_result *r, const struct aws_cfn_resource *res, void *arg)
{
	struct got *g = arg;

	got_result(g, r, res != NULL);
	if (res != NULL)
		g->res = *res;
}

static void
on_resources(const struct aws_result *r, const struct aws_cfn_resources *rs, void *arg)
{
	struct got *g = arg;

	got_result(g, r, rs != NULL);
	if (rs != NULL) {
		g->items = dup_items(rs->items, rs->n, sizeof(*rs->items));
		g->n = rs->n;
	}
}

static void
on_events(const struct aws_result *r, const struct aws_cfn_events *ev, void *arg)
{
	struct got *g = arg;

	got_result(g, r, ev != NULL);
	if (ev != NULL) {
		g->items = dup_items(ev->items, ev->n, sizeof(*ev->items));
		g->n = ev->n;
		g->end = ev->end;
	}
}

static void
on_template(const struct aws_result *r, const struct aws_cfn_template *t, void *arg)
{
	struct got *g = arg;

	got_result(g, r, t != NULL);
	if (t != NULL) {
		g->tmpl = *t;
		g->tmpl.params = dup_items(t->params, t->nparams, sizeof(*t->params));
	}
}

static void
on_change_set_ref(const struct aws_result *r, const struct aws_cfn_change_set_ref *ref,
    void *arg)
{
	struct got *g = arg;

	got_result(g, r, ref != NULL);
	if (ref != NULL)
		g->ref = *ref;
}

static void
on_change_set(const struct aws_result *r, const struct aws_cfn_change_set *cs,
    void *arg)
{
	struct got *g = arg;

	got_result(g, r, cs != NULL);
	if (cs == NULL)
		return;
	g->cs = *cs;
	g->cs.changes = dup_items(cs->changes, cs->nchanges, sizeof(*cs->changes));
	for (size_t i = 0; i < cs->nchanges; i++) {
		g->cs.changes[i].details = NULL;
		g->cs.changes[i].ndetails = 0;
	}
}

static void
on_groups(const struct aws_result *r, const struct aws_asg_groups *gs, void *arg)
{
	struct got *g = arg;
	const struct aws_asg_group *grp;

	got_result(g, r, gs != NULL);
	if (gs == NULL || (g->n = gs->n) == 0)
		return;
	grp = &gs->items[0];
	g->group = *grp;
	g->group.instances = dup_items(grp->instances, grp->ninstances,
	    sizeof(*grp->instances));
	g->group.lbs = dup_items(grp->lbs, grp->nlbs, sizeof(*grp->lbs));
	g->group.suspended = dup_items(grp->suspended, grp->nsuspended,
	    sizeof(*grp->suspended));
}

static void
on_asg_instances(const struct aws_result *r, const struct aws_asg_instances *in,
    void *arg)
{
	struct got *g = arg;

	got_result(g, r, in != NULL);
	if (in != NULL) {
		g->items = dup_items(in->items, in->n, sizeof(*in->items));
		g->n = in->n;
	}
}

static void
on_activities(const struct aws_result *r, const struct aws_asg_activities *a,
    void *arg)
{
	struct got *g = arg;

	got_result(g, r, a != NULL);
	if (a != NULL) {
		g->items = dup_items(a->items, a->n, sizeof(*a->items));
		g->n = a->n;
	}
}

static void
on_activity(const struct aws_result *r, const struct aws_asg_activity *a, void *arg)
{
	struct got *g = arg;

	got_result(g, r, a != NULL);
	if (a != NULL)
		g->act = *a;
}

static void
on_hooks(const struct aws_result *r, const struct aws_asg_hooks *h, void *arg)
{
	struct got *g = arg;

	got_result(g, r, h != NULL);
	if (h != NULL)
		g->n = h->n;
}

static void
on_refreshes(const struct aws_result *r, const struct aws_asg_refreshes *rf, void *arg)
{
	struct got *g = arg;

	got_result(g, r, rf != NULL);
	if (rf != NULL)
		g->n = rf->n;
}

/* EC2 instances, flattened: the tags that matter are copied as fields. */
struct ec2_seen {
	char	 id[AWS_ID_MAX + 1];
	char	 ip[AWS_ENUM_MAX + 1];
	char	 state[AWS_ENUM_MAX + 1];
	int	 state_code;
	char	 group[AWS_EC2_TAG_VALUE_MAX + 1];	/* aws:autoscaling:groupName */
	char	 logical[AWS_EC2_TAG_VALUE_MAX + 1];	/* aws:cloudformation:logical-id */
};

static void
on_ec2(const struct aws_result *r, const struct aws_ec2_instances *in, void *arg)
{
	struct got *g = arg;
	struct ec2_seen *s;
	const char *v;

	got_result(g, r, in != NULL);
	if (in == NULL)
		return;
	g->items = s = dup_items(NULL, 0, sizeof(*s) * (in->n > 0 ? in->n : 1));
	g->n = in->n;
	for (size_t i = 0; i < in->n; i++) {
		snprintf(s[i].id, sizeof(s[i].id), "%s", in->items[i].id);
		snprintf(s[i].ip, sizeof(s[i].ip), "%s", in->items[i].private_ip);
		snprintf(s[i].state, sizeof(s[i].state), "%s", in->items[i].state);
		s[i].state_code = in->items[i].state_code;
		v = aws_ec2_instance_tag(&in->items[i], "aws:autoscaling:groupName");
		snprintf(s[i].group, sizeof(s[i].group), "%s", v != NULL ? v : "");
		v = aws_ec2_instance_tag(&in->items[i], "aws:cloudformation:logical-id");
		snprintf(s[i].logical, sizeof(s[i].logical), "%s", v != NULL ? v : "");
	}
}

static void
on_cpus(const struct aws_result *r, const struct aws_cw_cpus *c, void *arg)
{
	struct got *g = arg;

	got_result(g, r, c != NULL);
	if (c != NULL) {
		g->items = dup_items(c->items, c->n, sizeof(*c->items));
		g->n = c->n;
	}
}

static void
on_alarms(const struct aws_result *r, const struct aws_cw_alarms *a, void *arg)
{
	struct got *g = arg;

	got_result(g, r, a != NULL);
	if (a != NULL) {
		g->items = dup_items(a->items, a->n, sizeof(*a->items));
		g->n = a->n;
	}
}

static void
on_healths(const struct aws_result *r, const struct aws_elb_healths *h, void *arg)
{
	struct got *g = arg;

	got_result(g, r, h != NULL);
	if (h != NULL) {
		g->items = dup_items(h->items, h->n, sizeof(*h->items));
		g->n = h->n;
	}
}

static void
on_elb_ids(const struct aws_result *r, const struct aws_elb_ids *ids, void *arg)
{
	struct got *g = arg;

	got_result(g, r, ids != NULL);
	if (ids != NULL) {
		g->items = dup_items(ids->items, ids->n, sizeof(*ids->items));
		g->n = ids->n;
	}
}

static void
on_lbs(const struct aws_result *r, const struct aws_elb_lbs *lbs, void *arg)
{
	struct got *g = arg;

	got_result(g, r, lbs != NULL);
	if (lbs == NULL || (g->n = lbs->n) == 0)
		return;
	g->lb = lbs->items[0];
	g->lb.instances.items = dup_items(lbs->items[0].instances.items,
	    lbs->items[0].instances.n, sizeof(*lbs->items[0].instances.items));
}

static void
on_attributes(const struct aws_result *r, const struct aws_elb_attributes *a,
    void *arg)
{
	struct got *g = arg;

	got_result(g, r, a != NULL);
	if (a != NULL)
		g->attrs = *a;
}

/* Runs the loop until g's one callback; op is what the call returned. */
static struct got *
await(const void *op, struct got *g)
{
	ck_assert_msg(op != NULL, "the operation was not started");
	cb_expected++;
	run_until(&g->calls, 1, WAIT_MS);
	return g;
}

static void
ok(const struct got *g, const char *what)
{
	ck_assert_msg(g->ec == AWS_ERRCLASS_OK, "%s: %s %s (HTTP %d): %s; %s", what,
	    aws_errclass_name(g->ec), g->code, g->status, g->message, g->detail);
}

/* ---- The simulated truth: /_sim/state ---- */

struct inst {
	char	 id[32], ip[32], ec2[24], lifecycle[32];
	bool	 member, file_server, registered, draining, prot;
	long	 inflight;
};

struct world {
	char		 stack[128], stack_id[512], stack_status[64];
	char		 asg[256], elb[256];
	int		 min, max, desired;
	json_t		*params;	/* the stack's, borrowed from j */
	json_t		*suspended;	/* the group's, borrowed from j */
	struct inst	 in[MAX_INST];
	size_t		 n;
	time_t		 vnow;		/* the world's clock, Unix seconds */
	json_t		*j;
};

static void
copy_str(char *dst, size_t len, json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	snprintf(dst, len, "%s", s != NULL ? s : "");
}

static void
world_free(struct world *w)
{
	json_decref(w->j);
	memset(w, 0, sizeof(*w));
}

static void
world_read(struct world *w)
{
	json_t *st, *asg, *arr, *x;
	struct tm tm;
	size_t i;

	memset(w, 0, sizeof(*w));
	ck_assert_ptr_nonnull(w->j = simproc_json(&sim, "GET", "/_sim/state", NULL));
	st = json_object_get(w->j, "stack");
	copy_str(w->stack, sizeof(w->stack), st, "name");
	copy_str(w->stack_id, sizeof(w->stack_id), st, "id");
	copy_str(w->stack_status, sizeof(w->stack_status), st, "status");
	w->params = json_object_get(st, "parameters");
	asg = json_object_get(w->j, "asg");
	copy_str(w->asg, sizeof(w->asg), asg, "name");
	w->min = (int)simproc_count(asg, "min", NULL);
	w->max = (int)simproc_count(asg, "max", NULL);
	w->desired = (int)simproc_count(asg, "desired", NULL);
	w->suspended = json_object_get(asg, "suspended");
	copy_str(w->elb, sizeof(w->elb), json_object_get(w->j, "elb"), "name");
	arr = json_object_get(w->j, "instances");
	json_array_foreach(arr, i, x) {
		struct inst *in = &w->in[w->n];

		ck_assert_uint_lt(w->n, MAX_INST);
		copy_str(in->id, sizeof(in->id), x, "id");
		copy_str(in->ip, sizeof(in->ip), x, "ip");
		copy_str(in->ec2, sizeof(in->ec2), x, "ec2");
		copy_str(in->lifecycle, sizeof(in->lifecycle), x, "lifecycle");
		in->member = json_is_true(json_object_get(x, "member"));
		in->file_server = json_is_true(json_object_get(x, "file_server"));
		in->prot = json_is_true(json_object_get(x, "protected"));
		in->inflight = (long)simproc_count(x, "inflight", NULL);
		in->registered = json_is_true(json_object_get(json_object_get(x, "elb"),
		    "registered"));
		in->draining = json_is_true(json_object_get(json_object_get(x, "elb"),
		    "draining"));
		w->n++;
	}
	memset(&tm, 0, sizeof(tm));
	ck_assert_ptr_nonnull(json_string_value(json_object_get(w->j, "time")));
	ck_assert_ptr_nonnull(strptime(json_string_value(json_object_get(w->j, "time")),
	    "%Y-%m-%dT%H:%M:%S", &tm));
	w->vnow = timegm(&tm);
	ck_assert_str_ne(w->stack, "");
	ck_assert_str_ne(w->asg, "");
}

static const struct inst *
world_inst(const struct world *w, const char *id)
{
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->in[i].id, id) == 0)
			return &w->in[i];
	return NULL;
}

/* The running members' ids, in the state's order; their number. */
static size_t
world_members(const struct world *w, const char **ids, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < w->n && n < max; i++)
		if (w->in[i].member && strcmp(w->in[i].ec2, "running") == 0 &&
		    strcmp(w->in[i].lifecycle, "InService") == 0)
			ids[n++] = w->in[i].id;
	return n;
}

static json_t *
counters(void)
{
	json_t *j = simproc_json(&sim, "GET", "/_sim/counters", NULL);

	ck_assert_ptr_nonnull(j);
	return j;
}

static void
post_admin(const char *path, const char *body)
{
	char *answer = NULL;
	int status = simproc_http(&sim, "POST", path, body, &answer);

	ck_assert_msg(status == 200, "POST %s %s: HTTP %d %s", path, body, status,
	    answer != NULL ? answer : "");
	free(answer);
}

/* ---- Fixture ---- */

static void
clear_aws_env(void)
{
	char **e, *name;

	for (e = environ; *e != NULL;) {
		if (strncmp(*e, "AWS_", 4) != 0) {
			e++;
			continue;
		}
		name = strndup(*e, strcspn(*e, "="));
		unsetenv(name);
		free(name);
		e = environ;
	}
}

/* Long-term keys in the environment; no shared files, no instance metadata. */
static void
env_keys(const char *akid, const char *secret)
{
	setenv("AWS_ACCESS_KEY_ID", akid, 1);
	setenv("AWS_SECRET_ACCESS_KEY", secret, 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

/* No keys anywhere: the chain ends at bbsim's instance metadata service. */
static void
env_imds(void)
{
	char url[96];

	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_EC2_METADATA_DISABLED");
	snprintf(url, sizeof(url), "%s/", sim.url);
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
}

static void
setup(void)
{
	log_setlevel(LOG_WARNING);
	clear_aws_env();
	ck_assert_ptr_nonnull(home = test_tmpdir());
	setenv("HOME", home, 1);
	setenv("AWS_CONFIG_FILE", "/dev/null", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
	env_keys(AKID, SECRET);
	cb_total = cb_expected = 0;
	memset(&sim, 0, sizeof(sim));
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(http_init(&loop), 0);
}

static void
teardown(void)
{
	if (sim.pid > 0)
		simproc_stop(&sim);
	gots_free();
	test_rmtree(home);
	free(home);
}

/* Starts this test's bbsim with args (NULL-terminated) after -p 0. */
static void
sim_up(const char *const *args)
{
	char err[512];

	ck_assert_msg(simproc_start(&sim, args, err, sizeof(err)) == 0, "%s", err);
}

static struct aws_client *
client_rng(aws_random_fn rng)
{
	struct aws_client_opts o = { .region = REGION, .endpoint_url = sim.url,
	    .random = rng };
	struct aws_client *c;
	char err[256];

	c = aws_client_new(&loop, &o, err, sizeof(err));
	ck_assert_msg(c != NULL, "%s", err);
	return c;
}

static struct aws_client *
client(void)
{
	return client_rng(NULL);
}

/* The end of every test: nothing of ours left on the loop, bbsim gone cleanly. */
static void
finish(struct aws_client **cs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		aws_client_free(cs[i]);
	http_shutdown();
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	ck_assert_int_eq(cb_total, cb_expected);
	ck_assert_int_eq(simproc_stop(&sim), 0);
}

static void
finish1(struct aws_client *c)
{
	finish(&c, 1);
}

/* ---- STS ---- */

START_TEST(sts_caller_identity)
{
	struct aws_client *c;
	struct got *g;
	json_t *cnt;

	sim_up((const char *[]){ "--speed", SPEED, NULL });
	c = client();
	g = got_new();
	await(aws_sts_get_caller_identity(c, on_identity, g), g);
	ok(g, "GetCallerIdentity");
	ck_assert_int_eq(g->attempts, 1);
	ck_assert_str_eq(g->id.account, ACCOUNT);
	ck_assert_str_eq(g->id.arn, "arn:aws:iam::" ACCOUNT ":user/bbsim");
	ck_assert_str_ne(g->id.user_id, "");
	/* bbsim saw it signed for our region, and no refusal. */
	cnt = counters();
	ck_assert_int_eq(simproc_count(cnt, "api_calls", "sts", "GetCallerIdentity",
	    NULL), 1);
	ck_assert_int_eq(simproc_count(cnt, "regions", REGION, NULL), 1);
	ck_assert_int_eq(json_object_size(json_object_get(cnt, "auth_failures")), 0);
	json_decref(cnt);
	finish1(c);
}
END_TEST

/* ---- CloudFormation ---- */

static const struct aws_cfn_resource *
resource_find(const struct got *g, const char *logical)
{
	const struct aws_cfn_resource *r = g->items;

	for (size_t i = 0; i < g->n; i++)
		if (strcmp(r[i].logical_id, logical) == 0)
			return &r[i];
	return NULL;
}

START_TEST(cfn_describe)
{
	struct aws_cfn_events_stop stop = { .max = 100 };
	const struct aws_cfn_resource *r;
	const struct aws_cfn_event *ev;
	struct aws_client *c;
	struct world w;
	struct got *g;
	const char *key, *truth;
	json_t *v;
	size_t nres, nev;
	bool created = false;

	sim_up((const char *[]){ "--speed", SPEED, NULL });
	world_read(&w);
	c = client();

	/* DescribeStacks: status, id and every parameter as the world has them. */
	g = got_new();
	await(aws_cfn_describe_stacks(c, w.stack, on_stacks, g), g);
	ok(g, "DescribeStacks");
	ck_assert_uint_eq(g->n, 1);
	ck_assert_str_eq(g->stack.name, w.stack);
	ck_assert_str_eq(g->stack.id, w.stack_id);
	ck_assert_str_eq(g->stack.status, w.stack_status);
	ck_assert_uint_eq(g->stack.nparams, json_object_size(w.params));
	json_object_foreach(w.params, key, v) {
		truth = json_string_value(v);
		ck_assert_msg(aws_cfn_stack_param(&g->stack, key) != NULL, "no %s", key);
		ck_assert_str_eq(aws_cfn_stack_param(&g->stack, key), truth);
	}

	/* DescribeStackResource ClusterNodeGroup: the group's physical name. */
	g = got_new();
	await(aws_cfn_describe_stack_resource(c, w.stack, "ClusterNodeGroup",
	    on_resource, g), g);
	ok(g, "DescribeStackResource");
	ck_assert_str_eq(g->res.physical_id, w.asg);
	ck_assert_str_eq(g->res.type, "AWS::AutoScaling::AutoScalingGroup");
	ck_assert_str_eq(g->res.stack_name, w.stack);

	/* DescribeStackResources: the group and the load balancer among them. */
	g = got_new();
	await(aws_cfn_describe_stack_resources(c, w.stack, NULL, NULL, on_resources, g),
	    g);
	ok(g, "DescribeStackResources");
	ck_assert_ptr_nonnull(r = resource_find(g, "ClusterNodeGroup"));
	ck_assert_str_eq(r->physical_id, w.asg);
	ck_assert_ptr_nonnull(r = resource_find(g, "LoadBalancer"));
	ck_assert_str_eq(r->physical_id, w.elb);
	for (size_t i = 0; i < g->n; i++)
		ck_assert_str_eq(((struct aws_cfn_resource *)g->items)[i].stack_id,
		    w.stack_id);
	nres = g->n;

	/* DescribeStackEvents: newest first, the stack's own CREATE_COMPLETE there. */
	g = got_new();
	await(aws_cfn_describe_stack_events(c, w.stack, &stop, on_events, g), g);
	ok(g, "DescribeStackEvents");
	ck_assert_uint_ge(g->n, 1);
	ev = g->items;
	for (size_t i = 0; i < g->n; i++) {
		if (i > 0)
			ck_assert_int_le(ev[i].time_ms, ev[i - 1].time_ms);
		if (strcmp(ev[i].logical_id, w.stack) == 0 &&
		    strcmp(ev[i].status, "CREATE_COMPLETE") == 0)
			created = true;
	}
	ck_assert_msg(created, "no stack CREATE_COMPLETE among %zu events", g->n);
	nev = g->n;

	/* GetTemplateSummary: every parameter declared; NoEcho ones read as "****". */
	g = got_new();
	await(aws_cfn_get_template_summary(c, w.stack, on_template, g), g);
	ok(g, "GetTemplateSummary");
	ck_assert_uint_eq(g->tmpl.nparams, json_object_size(w.params));
	for (size_t i = 0; i < g->tmpl.nparams; i++) {
		v = json_object_get(w.params, g->tmpl.params[i].key);
		ck_assert_msg(v != NULL, "%s not in the stack", g->tmpl.params[i].key);
		ck_assert_int_eq(g->tmpl.params[i].no_echo,
		    strcmp(json_string_value(v), AWS_CFN_NOECHO) == 0);
	}
	ck_assert_int_eq(g->tmpl.capabilities & AWS_CFN_CAP_UNKNOWN, 0);
	note("cfn_describe: %zu parameters, %zu resources, %zu events, capabilities "
	    "0x%x", g->tmpl.nparams, nres, nev, g->tmpl.capabilities);
	world_free(&w);
	finish1(c);
}
END_TEST

/* The stack once DescribeStacks shows it: for aws_cfn_change_set_params(). */
static struct got *
describe_stack(struct aws_client *c, const char *stack)
{
	struct got *g = got_new();

	await(aws_cfn_describe_stacks(c, stack, on_stacks, g), g);
	ok(g, "DescribeStacks");
	ck_assert_uint_eq(g->n, 1);
	return g;
}

/* Creates change set name and waits until CloudFormation has computed it. */
static struct got *
change_set_ready(struct aws_client *c, const struct aws_cfn_stack *st,
    const char *name, const struct aws_cfn_param_in *chg, size_t nchg, unsigned caps)
{
	struct aws_cfn_param_in params[AWS_CFN_MAX_PARAMS];
	struct aws_cfn_change_set_in in;
	struct got *g;
	char err[256];
	size_t n;
	int64_t end = simproc_now_ms() + 15000;
	int polls = 0;

	ck_assert_msg(aws_cfn_change_set_params(st, chg, nchg, params,
	    AWS_CFN_MAX_PARAMS, &n, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(n, st->nparams);
	for (size_t i = 0; i < n; i++) {
		bool changed = false;

		for (size_t k = 0; k < nchg; k++)
			changed |= strcmp(params[i].key, chg[k].key) == 0;
		/* What we do not change goes as UsePreviousValue, NoEcho ones too. */
		ck_assert_int_eq(params[i].value != NULL, changed);
	}
	memset(&in, 0, sizeof(in));
	in.stack = st->name;
	in.name = name;
	in.params = params;
	in.nparams = n;
	in.capabilities = caps;
	g = got_new();
	await(aws_cfn_create_change_set(c, &in, on_change_set_ref, g), g);
	ok(g, "CreateChangeSet");
	ck_assert_msg(strstr(g->ref.id, ":changeSet/") != NULL, "%s", g->ref.id);
	ck_assert_str_eq(g->ref.stack_id, st->id);
	for (;;) {
		g = got_new();
		await(aws_cfn_describe_change_set(c, name, st->name, on_change_set, g), g);
		ok(g, "DescribeChangeSet");
		polls++;
		if (strcmp(g->cs.status, "CREATE_COMPLETE") == 0)
			break;
		ck_assert_msg(strcmp(g->cs.status, "CREATE_PENDING") == 0 ||
		    strcmp(g->cs.status, "CREATE_IN_PROGRESS") == 0, "%s: %s",
		    g->cs.status, g->cs.status_reason);
		ck_assert_msg(simproc_now_ms() < end, "change set still %s", g->cs.status);
		pause_ms(POLL_MS);
	}
	ck_assert_str_eq(g->cs.name, name);
	ck_assert_str_eq(g->cs.execution_status, "AVAILABLE");
	note("change set %s: CREATE_COMPLETE after %d DescribeChangeSet, %zu changes",
	    name, polls, g->cs.nchanges);
	for (size_t i = 0; i < g->cs.nchanges; i++)
		note("  %s %s (%s), replacement %s", g->cs.changes[i].action,
		    g->cs.changes[i].logical_id, g->cs.changes[i].resource_type,
		    g->cs.changes[i].replacement);
	return g;
}

START_TEST(cfn_change_set_update)
{
	static const struct aws_cfn_param_in chg[] = {
		{ "BitbucketVersion", "7.21.0" },
		{ "ClusterNodeMin", "4" },
		{ "ClusterNodeMax", "5" },
	};
	static const struct aws_cfn_param_in chg2[] = { { "ClusterNodeMax", "6" } };
	struct aws_cfn_events_stop stop = { .max = 200 };
	const struct aws_cfn_event *ev, *done = NULL;
	struct aws_client *c;
	struct world w;
	struct got *g, *st, *tmpl, *cs;
	bool group_changes = false;
	int64_t end;
	int polls = 0;

	sim_up((const char *[]){ "--speed", SPEED, NULL });
	world_read(&w);
	c = client();
	tmpl = got_new();
	await(aws_cfn_get_template_summary(c, w.stack, on_template, tmpl), tmpl);
	ok(tmpl, "GetTemplateSummary");
	st = describe_stack(c, w.stack);

	cs = change_set_ready(c, &st->stack, "bbtest-upgrade", chg, 3,
	    tmpl->tmpl.capabilities);
	ck_assert_uint_ge(cs->cs.nchanges, 1);
	for (size_t i = 0; i < cs->cs.nchanges; i++)
		if (strcmp(cs->cs.changes[i].logical_id, "ClusterNodeGroup") == 0) {
			group_changes = true;
			ck_assert_str_eq(cs->cs.changes[i].action, "Modify");
		}
	ck_assert(group_changes);

	/* ExecuteChangeSet with a token; the stack's terminal event carries it. */
	g = got_new();
	await(aws_cfn_execute_change_set(c, "bbtest-upgrade", w.stack,
	    "bbtest-exec-0001", on_plain, g), g);
	ok(g, "ExecuteChangeSet");
	end = simproc_now_ms() + 20000;
	while (done == NULL) {
		ck_assert_msg(simproc_now_ms() < end, "no terminal stack event after %d "
		    "polls", polls);
		if (polls++ > 0)
			pause_ms(POLL_MS);
		g = got_new();
		await(aws_cfn_describe_stack_events(c, w.stack, &stop, on_events, g), g);
		ok(g, "DescribeStackEvents");
		ev = g->items;
		for (size_t i = 0; i < g->n && done == NULL; i++)
			if (strcmp(ev[i].logical_id, w.stack) == 0 &&
			    strcmp(ev[i].token, "bbtest-exec-0001") == 0 &&
			    (strstr(ev[i].status, "_COMPLETE") != NULL ||
			    strstr(ev[i].status, "_FAILED") != NULL) &&
			    strstr(ev[i].status, "CLEANUP") == NULL)
				done = &ev[i];
	}
	ck_assert_str_eq(done->status, "UPDATE_COMPLETE");
	note("cfn_change_set_update: %s with token %s after %d DescribeStackEvents",
	    done->status, done->token, polls);
	world_free(&w);
	world_read(&w);
	ck_assert_str_eq(w.stack_status, "UPDATE_COMPLETE");
	ck_assert_str_eq(json_string_value(json_object_get(w.params, "BitbucketVersion")),
	    "7.21.0");
	ck_assert_str_eq(json_string_value(json_object_get(w.params, "ClusterNodeMax")),
	    "5");
	ck_assert_int_eq(w.max, 5);
	ck_assert_int_eq(w.min, 4);
	ck_assert_int_eq(w.desired, 4);

	/* Another change set, deleted instead: then there is no such change set. */
	st = describe_stack(c, w.stack);
	change_set_ready(c, &st->stack, "bbtest-discard", chg2, 1,
	    tmpl->tmpl.capabilities);
	g = got_new();
	await(aws_cfn_delete_change_set(c, "bbtest-discard", w.stack, on_plain, g), g);
	ok(g, "DeleteChangeSet");
	g = got_new();
	await(aws_cfn_describe_change_set(c, "bbtest-discard", w.stack, on_change_set,
	    g), g);
	ck_assert_int_eq(g->ec, AWS_ERRCLASS_NOT_FOUND);
	ck_assert_str_eq(g->code, "ChangeSetNotFound");
	ck_assert_int_eq(g->attempts, 1);
	world_free(&w);
	world_read(&w);
	ck_assert_str_eq(json_string_value(json_object_get(w.params, "ClusterNodeMax")),
	    "5");
	world_free(&w);
	finish1(c);
}
END_TEST

/* ---- Auto Scaling ---- */

static struct got *
describe_group(struct aws_client *c, const char *name)
{
	struct got *g = got_new();

	await(aws_asg_describe_auto_scaling_groups(c, name, on_groups, g), g);
	ok(g, "DescribeAutoScalingGroups");
	ck_assert_uint_eq(g->n, 1);
	return g;
}

START_TEST(asg_describe)
{
	const struct aws_asg_instance *ai;
	const char *ids[MAX_INST];
	struct aws_client *c;
	struct world w;
	struct got *g;
	size_t n;

	sim_up((const char *[]){ "--speed", SPEED, NULL });
	world_read(&w);
	n = world_members(&w, ids, MAX_INST);
	ck_assert_uint_eq(n, 4);
	c = client();

	g = describe_group(c, w.asg);
	ck_assert_str_eq(g->group.name, w.asg);
	ck_assert_int_eq(g->group.min, w.min);
	ck_assert_int_eq(g->group.max, w.max);
	ck_assert_int_eq(g->group.desired, w.desired);
	ck_assert_uint_eq(g->group.nlbs, 1);
	ck_assert_str_eq(g->group.lbs[0].name, w.elb);
	ck_assert_uint_eq(g->group.ninstances, n);
	for (size_t i = 0; i < n; i++) {
		bool found = false;

		for (size_t k = 0; k < g->group.ninstances; k++)
			found |= strcmp(g->group.instances[k].id, ids[i]) == 0;
		ck_assert_msg(found, "%s not in the group", ids[i]);
	}
	for (size_t k = 0; k < g->group.ninstances; k++)
		ck_assert_str_eq(g->group.instances[k].health, "Healthy");
	ck_assert_uint_eq(g->group.nsuspended, json_array_size(w.suspended));

	g = got_new();
	await(aws_asg_describe_auto_scaling_instances(c, ids, n, on_asg_instances, g), g);
	ok(g, "DescribeAutoScalingInstances");
	ck_assert_uint_eq(g->n, n);
	ai = g->items;
	for (size_t i = 0; i < g->n; i++) {
		const struct inst *t = world_inst(&w, ai[i].id);

		ck_assert_ptr_nonnull(t);
		ck_assert_str_eq(ai[i].group, w.asg);
		ck_assert_str_eq(ai[i].lifecycle, t->lifecycle);
		/* AWS's own quirk: this call spells it in capitals, the group does not. */
		ck_assert_str_eq(ai[i].health, "HEALTHY");
		ck_assert_int_eq(ai[i].protected_from_scale_in, t->prot);
	}

	/* The Quick Start's group has neither hooks nor instance refreshes. */
	g = got_new();
	await(aws_asg_describe_lifecycle_hooks(c, w.asg, on_hooks, g), g);
	ok(g, "DescribeLifecycleHooks");
	ck_assert_uint_eq(g->n, 0);
	g = got_new();
	await(aws_asg_describe_instance_refreshes(c, w.asg, on_refreshes, g), g);
	ok(g, "DescribeInstanceRefreshes");
	ck_assert_uint_eq(g->n, 0);
	world_free(&w);
	finish1(c);
}
END_TEST

static bool
json_has_string(json_t *arr, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return true;
	return false;
}

START_TEST(asg_processes_protection)
{
	static const char *const procs[] = { "AZRebalance", "AlarmNotification",
	    "ScheduledActions" };
	const char *ids[MAX_INST];
	struct aws_client *c;
	struct world w;
	struct got *g;
	int64_t end;

	sim_up((const char *[]){ "--speed", SPEED, NULL });
	world_read(&w);
	ck_assert_uint_eq(world_members(&w, ids, MAX_INST), 4);
	ck_assert_uint_eq(json_array_size(w.suspended), 0);
	c = client();

	g = got_new();
	await(aws_asg_suspend_processes(c, w.asg, procs, 3, on_plain, g), g);
	ok(g, "SuspendProcesses");
	world_free(&w);
	world_read(&w);
	ck_assert_uint_eq(json_array_size(w.suspended), 3);
	for (size_t i = 0; i < 3; i++)
		ck_assert(json_has_string(w.suspended, procs[i]));
	/* Reads lag the truth: poll until the group shows them. */
	end = simproc_now_ms() + 5000;
	while ((g = describe_group(c, w.asg))->group.nsuspended != 3)
		ck_assert_msg(simproc_now_ms() < end, "still %zu suspended",
		    g->group.nsuspended);
	for (size_t i = 0; i < 3; i++)
		ck_assert(aws_asg_group_suspended(&g->group, procs[i]));
	ck_assert(!aws_asg_group_suspended(&g->group, "Launch"));

	/* Resume only two: the explicit list is honoured, not "all". */
	g = got_new();
	await(aws_asg_resume_processes(c, w.asg, procs, 2, on_plain, g), g);
	ok(g, "ResumeProcesses");
	world_free(&w);
	world_read(&w);
	ck_assert_uint_eq(json_array_size(w.suspended), 1);
	ck_assert(json_has_string(w.suspended, "ScheduledActions"));
	g = got_new();
	await(aws_asg_resume_processes(c, w.asg, procs + 2, 1, on_plain, g), g);
	ok(g, "ResumeProcesses");

	/* Protection from scale-in, on two instances, then off again. */
	g = got_new();
	await(aws_asg_set_instance_protection(c, w.asg, ids, 2, true, on_plain, g), g);
	ok(g, "SetInstanceProtection");
	world_free(&w);
	world_read(&w);
	ck_assert_uint_eq(json_array_size(w.suspended), 0);
	ck_assert(world_inst(&w, ids[0])->prot);
	ck_assert(world_inst(&w, ids[1])->prot);
	ck_assert(!world_inst(&w, ids[2])->prot);
	g = got_new();
	await(aws_asg_set_instance_protection(c, w.asg, ids, 2, false, on_plain, g), g);
	ok(g, "SetInstanceProtection");
	world_free(&w);
	world_read(&w);
	ck_assert(!world_inst(&w, ids[0])->prot);
	ck_assert(!world_inst(&w, ids[1])->prot);
	world_free(&w);
	finish1(c);
}
END_TEST

START_TEST(asg_terminate)
{
	const char *ids[MAX_INST];
	const struct aws_asg_activity *a;
	struct aws_client *c;
	struct world w;
	struct got *g;
	char act_id[AWS_NAME_MAX + 1], victim[32];
	const char *act_ids[1] = { act_id };
	int64_t end;
	int polls = 0;

	sim_up((const char *[]){ "--speed", SPEED, NULL });
	world_read(&w);
	ck_assert_uint_eq(world_members(&w, ids, MAX_INST), 4);
	ck_assert_int_eq(w.desired, w.min);
	snprintf(victim, sizeof(victim), "%s", ids[0]);
	c = client();

	/* Without decrement: an activity, followed until it has succeeded. */
	g = got_new();
	await(aws_asg_terminate_instance_in_auto_scaling_group(c, victim, false,
	    on_activity, g), g);
	ok(g, "TerminateInstanceInAutoScalingGroup");
	ck_assert_str_ne(g->act.id, "");
	ck_assert_msg(strstr(g->act.description, victim) != NULL, "%s",
	    g->act.description);
	ck_assert(!aws_asg_activity_done(&g->act));
	snprintf(act_id, sizeof(act_id), "%s", g->act.id);
	end = simproc_now_ms() + 20000;
	for (;;) {
		g = got_new();
		await(aws_asg_describe_scaling_activities(c, w.asg, act_ids, 1, 0,
		    on_activities, g), g);
		ok(g, "DescribeScalingActivities");
		ck_assert_uint_eq(g->n, 1);
		a = g->items;
		ck_assert_str_eq(a->id, act_id);
		polls++;
		if (aws_asg_activity_done(a))
			break;
		ck_assert_msg(simproc_now_ms() < end, "activity still %s", a->status);
		pause_ms(POLL_MS);
	}
	ck_assert_str_eq(a->status, "Successful");
	ck_assert_int_gt(a->end_ms, 0);
	note("asg_terminate: \"%s\" Successful after %d DescribeScalingActivities "
	    "(%lld virtual ms)", a->description, polls,
	    (long long)(a->end_ms - a->start_ms));
	world_free(&w);
	world_read(&w);
	ck_assert_str_ne(world_inst(&w, victim)->ec2, "running");

	/* With decrement while desired == min: AWS's refusal, not retried. */
	ck_assert_int_eq(w.desired, w.min);
	g = got_new();
	await(aws_asg_terminate_instance_in_auto_scaling_group(c, ids[1], true,
	    on_activity, g), g);
	ck_assert_int_eq(g->ec, AWS_ERRCLASS_VALIDATION);
	ck_assert_int_eq(g->status, 400);
	ck_assert_int_eq(g->attempts, 1);
	ck_assert_str_eq(g->code, "ValidationError");
	ck_assert_str_eq(g->message, "Currently, desiredSize equals minSize (4). "
	    "Terminating instance without replacement will violate group's min size "
	    "constraint. Either set shouldDecrementDesiredCapacity flag to false or "
	    "lower group's min size.");
	world_free(&w);
	world_read(&w);
	ck_assert_str_eq(world_inst(&w, ids[1])->ec2, "running");
	world_free(&w);
	finish1(c);
}
END_TEST

/* ---- EC2 ---- */

START_TEST(ec2_describe_instances)
{
	struct aws_ec2_describe_in in;
	struct aws_ec2_filter f[2];
	const char *ids[MAX_INST], *all[MAX_INST];
	const char *running[] = { "running" }, *group[1];
	const struct ec2_seen *s;
	struct aws_client *c;
	struct world w;
	struct got *g;
	size_t n, nall = 0;

	sim_up((const char *[]){ "--speed", SPEED, NULL });
	world_read(&w);
	n = world_members(&w, ids, MAX_INST);
	for (size_t i = 0; i < w.n; i++)
		all[nall++] = w.in[i].id;
	c = client();

	/* By ids: every instance of the world, the file server too. */
	memset(&in, 0, sizeof(in));
	in.ids = all;
	in.nids = nall;
	g = got_new();
	await(aws_ec2_describe_instances(c, &in, on_ec2, g), g);
	ok(g, "DescribeInstances");
	ck_assert_uint_eq(g->n, nall);
	s = g->items;
	for (size_t i = 0; i < g->n; i++) {
		const struct inst *t = world_inst(&w, s[i].id);

		ck_assert_ptr_nonnull(t);
		ck_assert_str_eq(s[i].ip, t->ip);
		ck_assert_str_eq(s[i].state, t->ec2);
		ck_assert_int_eq(s[i].state_code, AWS_EC2_RUNNING);
		ck_assert_str_eq(s[i].group, t->member ? w.asg : "");
		ck_assert_str_eq(s[i].logical, t->member ? "ClusterNodeGroup" :
		    "FileServer");
	}

	/* By tag: exactly the group's running members. */
	group[0] = w.asg;
	f[0] = (struct aws_ec2_filter){ "tag:aws:autoscaling:groupName", group, 1 };
	f[1] = (struct aws_ec2_filter){ "instance-state-name", running, 1 };
	memset(&in, 0, sizeof(in));
	in.filters = f;
	in.nfilters = 2;
	g = got_new();
	await(aws_ec2_describe_instances(c, &in, on_ec2, g), g);
	ok(g, "DescribeInstances");
	ck_assert_uint_eq(g->n, n);
	s = g->items;
	for (size_t i = 0; i < g->n; i++) {
		const struct inst *t = world_inst(&w, s[i].id);

		ck_assert_ptr_nonnull(t);
		ck_assert(t->member);
		ck_assert_str_eq(s[i].ip, t->ip);
	}
	world_free(&w);
	finish1(c);
}
END_TEST

/* ---- CloudWatch ---- */

START_TEST(cloudwatch_cpu_alarms)
{
	const char *all[MAX_INST], *names[2];
	const struct aws_cw_cpu *cpu;
	const struct aws_cw_alarm *al;
	const struct aws_cfn_resource *r;
	struct aws_client *c;
	struct world w;
	struct got *g, *res;
	size_t nall = 0, with_data = 0;

	sim_up((const char *[]){ "--speed", SPEED, NULL });
	world_read(&w);
	for (size_t i = 0; i < w.n; i++)
		all[nall++] = w.in[i].id;
	c = client();

	/* The world's clock is virtual: a window around its now has its past minutes. */
	g = got_new();
	await(aws_cw_get_cpu(c, all, nall, w.vnow - 300, w.vnow + 300, on_cpus, g), g);
	ok(g, "GetMetricData");
	ck_assert_uint_eq(g->n, nall);
	cpu = g->items;
	for (size_t i = 0; i < g->n; i++) {
		ck_assert_str_eq(cpu[i].instance_id, all[i]);
		if (cpu[i].has_data) {
			with_data++;
			ck_assert_uint_ge(cpu[i].npoints, 1);
			ck_assert(cpu[i].average >= 0 && cpu[i].average <= 100);
			/* On the world's clock, inside the window asked for. */
			/* StartTime rounds down to the minute (CloudWatch's rule). */
			ck_assert_int_ge(cpu[i].latest_ms, (int64_t)((w.vnow - 300) / 60 *
			    60) * 1000);
			ck_assert_int_lt(cpu[i].latest_ms, (int64_t)(w.vnow + 300) * 1000);
		} else
			ck_assert_uint_eq(cpu[i].npoints, 0);
	}
	ck_assert_uint_ge(with_data, 4);
	note("cloudwatch: %zu of %zu instances with data", with_data, nall);
	/* A window before any instance ran: no data, never 0 %. */
	g = got_new();
	await(aws_cw_get_cpu(c, all, nall, w.vnow - 4 * 86400, w.vnow - 4 * 86400 + 3600,
	    on_cpus, g), g);
	ok(g, "GetMetricData");
	ck_assert_uint_eq(g->n, nall);
	cpu = g->items;
	for (size_t i = 0; i < g->n; i++)
		ck_assert(!cpu[i].has_data);

	/* DescribeAlarms: the template's two CPU alarms, by their physical names. */
	res = got_new();
	await(aws_cfn_describe_stack_resources(c, w.stack, NULL, NULL, on_resources, res),
	    res);
	ok(res, "DescribeStackResources");
	ck_assert_ptr_nonnull(r = resource_find(res, "CPUAlarmHigh"));
	names[0] = r->physical_id;
	ck_assert_ptr_nonnull(r = resource_find(res, "CPUAlarmLow"));
	names[1] = r->physical_id;
	g = got_new();
	await(aws_cw_describe_alarms(c, names, 2, on_alarms, g), g);
	ok(g, "DescribeAlarms");
	ck_assert_uint_eq(g->n, 2);
	al = g->items;
	for (size_t i = 0; i < 2; i++) {
		ck_assert(strcmp(al[i].name, names[0]) == 0 ||
		    strcmp(al[i].name, names[1]) == 0);
		ck_assert_str_eq(al[i].state, "OK");
		ck_assert(al[i].actions_enabled);
	}
	world_free(&w);
	finish1(c);
}
END_TEST

/* ---- Classic ELB ---- */

/* Long user requests, so that a deregistered node has some to drain. */
static const char elb_scenario[] =
    "[timing]\n"
    "drain_timeout = 4s\n"
    "[traffic]\n"
    "rate = 20\n"
    "short = 0 50ms 100ms\n"
    "medium = 0 1s 2s\n"
    "long = 1 60s 90s\n";

static const struct aws_elb_instance_health *
health_of(struct aws_client *c, const char *lb, const char *id, struct got **gp)
{
	struct got *g = got_new();

	await(aws_elb_describe_instance_health(c, lb, on_healths, g), g);
	ok(g, "DescribeInstanceHealth");
	*gp = g;
	for (size_t i = 0; i < g->n; i++)
		if (strcmp(((struct aws_elb_instance_health *)g->items)[i].id, id) == 0)
			return &((struct aws_elb_instance_health *)g->items)[i];
	return NULL;
}

START_TEST(elb_drain_register)
{
	const struct aws_elb_instance_health *h;
	const char *ids[MAX_INST], *one[1];
	struct aws_client *c;
	struct world w;
	struct got *g;
	char path[512], victim[32];
	FILE *f;
	size_t n, busiest = 0;
	int64_t end;
	bool all_busy = false;

	snprintf(path, sizeof(path), "%s/elb.ini", home);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs(elb_scenario, f);
	ck_assert_int_eq(fclose(f), 0);
	sim_up((const char *[]){ "--scenario", path, "--speed", SPEED, NULL });
	/* Until every node has requests in flight. */
	end = simproc_now_ms() + 10000;
	while (!all_busy) {
		ck_assert(simproc_now_ms() < end);
		world_read(&w);
		n = world_members(&w, ids, MAX_INST);
		all_busy = n == 4;
		for (size_t i = 0; i < n; i++)
			all_busy &= world_inst(&w, ids[i])->inflight > 0;
		if (!all_busy) {
			world_free(&w);
			pause_ms(POLL_MS);
		}
	}
	for (size_t i = 1; i < n; i++)
		if (world_inst(&w, ids[i])->inflight > world_inst(&w, ids[busiest])->inflight)
			busiest = i;
	snprintf(victim, sizeof(victim), "%s", ids[busiest]);
	one[0] = victim;
	c = client();

	g = got_new();
	await(aws_elb_describe_load_balancers(c, w.elb, on_lbs, g), g);
	ok(g, "DescribeLoadBalancers");
	ck_assert_uint_eq(g->n, 1);
	ck_assert_str_eq(g->lb.name, w.elb);
	ck_assert_str_eq(g->lb.hc_target, "HTTP:7990/status");
	ck_assert_uint_eq(g->lb.instances.n, n);
	for (size_t i = 0; i < n; i++)
		ck_assert(aws_elb_ids_has(&g->lb.instances, ids[i]));

	g = got_new();
	await(aws_elb_describe_load_balancer_attributes(c, w.elb, on_attributes, g), g);
	ok(g, "DescribeLoadBalancerAttributes");
	ck_assert(g->attrs.draining);
	ck_assert_int_gt(g->attrs.draining_timeout, 0);

	ck_assert_ptr_nonnull(h = health_of(c, w.elb, victim, &g));
	ck_assert_uint_eq(g->n, n);
	ck_assert_int_eq(h->health, AWS_ELB_IN_SERVICE);

	/* Deregistered: gone from the answer's list, draining, then out of service. */
	g = got_new();
	await(aws_elb_deregister_instances_from_load_balancer(c, w.elb, one, 1,
	    on_elb_ids, g), g);
	ok(g, "DeregisterInstancesFromLoadBalancer");
	ck_assert_uint_eq(g->n, n - 1);
	ck_assert(!aws_elb_ids_has(&(struct aws_elb_ids){ g->items, g->n }, victim));
	ck_assert_ptr_nonnull(h = health_of(c, w.elb, victim, &g));
	ck_assert_msg(h->health == AWS_ELB_DRAINING, "%s: %s", h->state, h->description);
	ck_assert_str_eq(h->state, "InService");
	ck_assert_str_eq(h->description, AWS_ELB_DRAINING_TEXT);
	world_free(&w);
	world_read(&w);
	ck_assert(world_inst(&w, victim)->draining);
	end = simproc_now_ms() + 10000;
	while ((h = health_of(c, w.elb, victim, &g)) != NULL &&
	    h->health == AWS_ELB_DRAINING) {
		ck_assert_msg(simproc_now_ms() < end, "still draining");
		pause_ms(POLL_MS);
	}
	note("elb: %s drained (%ld requests in flight when deregistered): %s",
	    victim, world_inst(&w, victim)->inflight, h == NULL ? "no longer listed" :
	    h->description);
	/* Listing every registered instance, ELB leaves the gone one out. */
	ck_assert_msg(h == NULL || h->health == AWS_ELB_OUT_OF_SERVICE, "%s: %s",
	    h->state, h->description);
	ck_assert_uint_eq(g->n, n - 1);
	world_free(&w);
	world_read(&w);
	ck_assert(!world_inst(&w, victim)->registered);

	/* Registered again: listed at once, in service after its health checks. */
	g = got_new();
	await(aws_elb_register_instances_with_load_balancer(c, w.elb, one, 1,
	    on_elb_ids, g), g);
	ok(g, "RegisterInstancesWithLoadBalancer");
	ck_assert(aws_elb_ids_has(&(struct aws_elb_ids){ g->items, g->n }, victim));
	end = simproc_now_ms() + 10000;
	while ((h = health_of(c, w.elb, victim, &g)) == NULL ||
	    h->health != AWS_ELB_IN_SERVICE) {
		ck_assert_msg(simproc_now_ms() < end, "not in service again");
		pause_ms(POLL_MS);
	}
	world_free(&w);
	world_read(&w);
	ck_assert(world_inst(&w, victim)->registered);
	world_free(&w);
	finish1(c);
}
END_TEST

/* ---- Faults ---- */

static double
rng_quarter(void *arg)
{
	return 0.25;
}

START_TEST(throttle_exhausted)
{
	struct aws_client_stats st;
	struct ticker tk;
	struct aws_client *c;
	struct world w;
	struct got *g;
	json_t *cnt;

	sim_up((const char *[]){ "--speed", SPEED, NULL });
	world_read(&w);
	post_admin("/_sim/faults", "{\"rules\": [{\"service\": \"autoscaling\", "
	    "\"action\": \"DescribeAutoScalingGroups\", \"error_rate\": 1.0}]}");
	/* Full jitter drawn at 0.25: backoffs of 250 ms, then 500 ms. */
	c = client_rng(rng_quarter);
	ticker_start(&tk);
	g = got_new();
	await(aws_asg_describe_auto_scaling_groups(c, w.asg, on_groups, g), g);
	ticker_stop(&tk);
	ck_assert_int_eq(g->ec, AWS_ERRCLASS_THROTTLE);
	ck_assert_int_eq(g->attempts, AWS_RETRY_MAX_ATTEMPTS);
	ck_assert_int_eq(g->status, 400);
	ck_assert_str_eq(g->code, "Throttling");
	ck_assert_str_eq(g->message, "Rate exceeded");
	ck_assert_msg(strstr(g->detail, "no attempts left") != NULL, "%s", g->detail);
	ck_assert_uint_ge(g->elapsed_ms, 750);
	ck_assert_uint_lt(g->elapsed_ms, 5000);
	/* The loop went on meanwhile: the 10 ms timer kept firing. */
	ck_assert_msg(tk.ticks >= (int)(g->elapsed_ms / 20), "%d ticks in %llu ms",
	    tk.ticks, (unsigned long long)g->elapsed_ms);
	note("throttle_exhausted: %d attempts in %llu ms, %d ticks of 10 ms meanwhile",
	    g->attempts, (unsigned long long)g->elapsed_ms, tk.ticks);
	aws_client_stats(c, &st);
	ck_assert_uint_eq(st.calls, 1);
	ck_assert_uint_eq(st.attempts, 3);
	ck_assert_uint_eq(st.retries, 2);
	ck_assert_uint_eq(st.throttled, 3);
	ck_assert_uint_eq(st.failed, 1);
	cnt = counters();
	ck_assert_int_eq(simproc_count(cnt, "api_calls", "autoscaling",
	    "DescribeAutoScalingGroups", NULL), 3);
	ck_assert_int_eq(simproc_count(cnt, "throttled", "autoscaling",
	    "DescribeAutoScalingGroups", NULL), 3);
	json_decref(cnt);

	/* The rule names one action: the others of the service go through. */
	g = got_new();
	await(aws_asg_describe_lifecycle_hooks(c, w.asg, on_hooks, g), g);
	ok(g, "DescribeLifecycleHooks");
	ck_assert_int_eq(g->attempts, 1);
	world_free(&w);
	finish1(c);
}
END_TEST

#define STORM	20

START_TEST(throttle_storm)
{
	struct aws_client_stats st;
	struct ticker tk;
	struct aws_client *c;
	struct world w;
	struct got *g[STORM], *other;
	json_t *cnt;
	int done = 0, ok_calls = 0, throttled_calls = 0, attempts = 0;
	uint64_t longest = 0;

	sim_up((const char *[]){ "--speed", SPEED, NULL });
	world_read(&w);
	post_admin("/_sim/faults", "{\"rules\": [{\"service\": \"autoscaling\", "
	    "\"action\": \"DescribeAutoScalingGroups\", \"error_rate\": 0.6}]}");
	c = client();		/* the real jitter */
	ticker_start(&tk);
	for (int i = 0; i < STORM; i++) {
		g[i] = got_new();
		ck_assert_ptr_nonnull(aws_asg_describe_auto_scaling_groups(c, w.asg,
		    on_groups, g[i]));
		cb_expected++;
	}
	/* Another service meanwhile, untouched by the storm. */
	other = got_new();
	await(aws_cfn_describe_stacks(c, w.stack, on_stacks, other), other);
	ok(other, "DescribeStacks");
	ck_assert_int_eq(other->attempts, 1);
	for (int64_t end = simproc_now_ms() + 15000; done < STORM &&
	    simproc_now_ms() < end;) {
		uv_run(&loop, UV_RUN_ONCE);
		done = 0;
		for (int i = 0; i < STORM; i++)
			done += g[i]->calls;
	}
	ticker_stop(&tk);
	ck_assert_int_eq(done, STORM);
	for (int i = 0; i < STORM; i++) {
		ck_assert_int_eq(g[i]->calls, 1);
		attempts += g[i]->attempts;
		if (g[i]->elapsed_ms > longest)
			longest = g[i]->elapsed_ms;
		if (g[i]->ec == AWS_ERRCLASS_OK) {
			ok_calls++;
			ck_assert_int_ge(g[i]->attempts, 1);
			ck_assert_int_le(g[i]->attempts, 3);
			ck_assert_str_eq(g[i]->group.name, w.asg);
		} else {
			throttled_calls++;
			ck_assert_int_eq(g[i]->ec, AWS_ERRCLASS_THROTTLE);
			ck_assert_int_eq(g[i]->attempts, 3);
			ck_assert_str_eq(g[i]->code, "Throttling");
		}
	}
	ck_assert_int_eq(ok_calls + throttled_calls, STORM);
	ck_assert_msg(tk.ticks >= (int)(longest / 20), "%d ticks in %llu ms", tk.ticks,
	    (unsigned long long)longest);
	aws_client_stats(c, &st);
	ck_assert_uint_eq(st.calls, STORM + 1);
	ck_assert_uint_eq(st.attempts, (uint64_t)attempts + 1);
	ck_assert_uint_eq(st.retries, (uint64_t)(attempts - STORM));
	ck_assert_uint_eq(st.failed, (uint64_t)throttled_calls);
	cnt = counters();
	/* bbsim counts what it throttled; the client, what it was refused. */
	ck_assert_int_eq(simproc_count(cnt, "api_calls", "autoscaling",
	    "DescribeAutoScalingGroups", NULL), attempts);
	ck_assert_int_eq(simproc_count(cnt, "throttled", "autoscaling",
	    "DescribeAutoScalingGroups", NULL), (long long)st.throttled);
	ck_assert_int_eq(st.throttled, attempts - ok_calls);
	json_decref(cnt);
	note("throttle_storm: %d calls, %d attempts, %llu retries, %d ok, "
	    "%d throttled after 3 attempts, longest %llu ms, %d ticks of 10 ms", STORM,
	    attempts, (unsigned long long)st.retries, ok_calls, throttled_calls,
	    (unsigned long long)longest, tk.ticks);
	world_free(&w);
	finish1(c);
}
END_TEST

START_TEST(ec2_503_throttled)
{
	const char *ids[MAX_INST];
	struct aws_ec2_describe_in in;
	struct aws_query q;
	struct aws_client *c;
	struct world w;
	struct got *g;
	size_t n;

	sim_up((const char *[]){ "--speed", SPEED, NULL });
	world_read(&w);
	n = world_members(&w, ids, MAX_INST);
	post_admin("/_sim/faults", "{\"rules\": [{\"service\": \"ec2\", "
	    "\"error_rate\": 1.0}]}");
	c = client_rng(rng_quarter);
	memset(&in, 0, sizeof(in));
	in.ids = ids;
	in.nids = n;
	g = got_new();
	await(aws_ec2_describe_instances(c, &in, on_ec2, g), g);
	/* EC2 throttles with a 503 of its own code: slowed down, retried, given up. */
	ck_assert_int_eq(g->ec, AWS_ERRCLASS_THROTTLE);
	ck_assert_int_eq(g->status, 503);
	ck_assert_str_eq(g->code, "RequestLimitExceeded");
	ck_assert_str_eq(g->message, "Request limit exceeded.");
	ck_assert_int_eq(g->attempts, 3);
	note("ec2_503_throttled: 3 attempts in %llu ms", (unsigned long long)g->elapsed_ms);
	/*
	 * Within a 400 ms deadline: the second backoff (500 ms) would outlast it, so the
	 * call ends at once with the last answer, rather than sleep only to give up.
	 */
	ck_assert_int_eq(aws_ec2_describe_instances_query(&q, &in, NULL), 0);
	g = got_new();
	await(aws_call(c, &q, 400, on_plain, g), g);
	ck_assert_int_eq(g->ec, AWS_ERRCLASS_THROTTLE);
	ck_assert_str_eq(g->code, "RequestLimitExceeded");
	ck_assert_int_eq(g->attempts, 2);
	ck_assert_msg(strstr(g->detail, "deadline of 400 ms reached after 2 attempts") !=
	    NULL, "%s", g->detail);
	ck_assert_uint_ge(g->elapsed_ms, 250);
	ck_assert_uint_lt(g->elapsed_ms, 400);
	note("ec2_503_throttled: deadline 400 ms: %d attempts, %llu ms: %s", g->attempts,
	    (unsigned long long)g->elapsed_ms, g->detail);
	/* The storm over, the same call goes through. */
	post_admin("/_sim/faults", "{\"rules\": []}");
	g = got_new();
	await(aws_ec2_describe_instances(c, &in, on_ec2, g), g);
	ok(g, "DescribeInstances");
	ck_assert_int_eq(g->attempts, 1);
	ck_assert_uint_eq(g->n, n);
	world_free(&w);
	finish1(c);
}
END_TEST

START_TEST(latency_deadline)
{
	struct aws_query q;
	struct ticker tk;
	struct aws_client *c;
	struct got *g;
	json_t *cnt;

	sim_up((const char *[]){ "--speed", SPEED, NULL });
	post_admin("/_sim/faults", "{\"rules\": [{\"service\": \"sts\", "
	    "\"latency_ms\": 1500}]}");
	c = client();
	ticker_start(&tk);
	/* bbsim holds the answer 1.5 s: a 400 ms deadline ends the call first. */
	ck_assert_int_eq(aws_sts_get_caller_identity_query(&q), 0);
	g = got_new();
	await(aws_call(c, &q, 400, on_plain, g), g);
	ck_assert_int_eq(g->ec, AWS_ERRCLASS_TRANSIENT);
	ck_assert_str_eq(g->code, "DeadlineExceeded");
	ck_assert_msg(strstr(g->detail, "400 ms") != NULL, "%s", g->detail);
	ck_assert_uint_ge(g->elapsed_ms, 390);
	ck_assert_uint_lt(g->elapsed_ms, 1400);
	ck_assert_int_eq(g->attempts, 0);	/* the one attempt never answered */
	note("latency_deadline: %s after %llu ms: %s", g->code,
	    (unsigned long long)g->elapsed_ms, g->detail);
	/* Within its deadline, the slow answer is a success. */
	ck_assert_int_eq(aws_sts_get_caller_identity_query(&q), 0);
	g = got_new();
	await(aws_call(c, &q, 5000, on_plain, g), g);
	ticker_stop(&tk);
	ok(g, "GetCallerIdentity");
	ck_assert_int_eq(g->attempts, 1);
	ck_assert_uint_ge(g->elapsed_ms, 1450);
	ck_assert_msg(tk.ticks >= 90, "%d ticks", tk.ticks);
	cnt = counters();
	ck_assert_int_eq(simproc_count(cnt, "api_calls", "sts", "GetCallerIdentity",
	    NULL), 2);
	json_decref(cnt);
	finish1(c);
}
END_TEST

START_TEST(auth_refused)
{
	struct aws_client *cs[3];
	struct aws_ec2_describe_in in;
	const char *ids[1] = { "i-0123456789abcdef0" };
	struct got *g;
	json_t *cnt;

	sim_up((const char *[]){ "--speed", SPEED, NULL });
	/* The right key with a wrong secret: the signature does not match. */
	env_keys(AKID, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYWRONGKEY");
	cs[0] = client();
	g = got_new();
	await(aws_sts_get_caller_identity(cs[0], on_identity, g), g);
	ck_assert_int_eq(g->ec, AWS_ERRCLASS_AUTH);
	ck_assert_int_eq(g->status, 403);
	ck_assert_str_eq(g->code, "SignatureDoesNotMatch");
	ck_assert_int_eq(g->attempts, 1);
	ck_assert_ptr_null(strstr(g->detail, "WRONGKEY"));

	/* A key bbsim does not know. */
	env_keys("AKIDUNKNOWN0000000000", SECRET);
	cs[1] = client();
	g = got_new();
	await(aws_asg_describe_lifecycle_hooks(cs[1], "any", on_hooks, g), g);
	ck_assert_int_eq(g->ec, AWS_ERRCLASS_AUTH);
	ck_assert_int_eq(g->status, 403);
	ck_assert_str_eq(g->code, "InvalidClientTokenId");
	ck_assert_str_eq(g->message, "The security token included in the request is "
	    "invalid.");
	ck_assert_int_eq(g->attempts, 1);

	/* EC2 says AuthFailure for it: taken for clock skew once, then for what it is. */
	cs[2] = client();
	memset(&in, 0, sizeof(in));
	in.ids = ids;
	in.nids = 1;
	g = got_new();
	await(aws_ec2_describe_instances(cs[2], &in, on_ec2, g), g);
	ck_assert_str_eq(g->code, "AuthFailure");
	ck_assert_int_eq(g->status, 401);
	ck_assert_int_eq(g->ec, AWS_ERRCLASS_AUTH);
	ck_assert_int_eq(g->attempts, 2);
	note("auth_refused: EC2 AuthFailure for an unknown key: %s after %d attempts",
	    aws_errclass_name(g->ec), g->attempts);

	cnt = counters();
	ck_assert_int_eq(simproc_count(cnt, "auth_failures", "SignatureDoesNotMatch",
	    NULL), 1);
	ck_assert_int_eq(simproc_count(cnt, "auth_failures", "InvalidClientTokenId",
	    NULL), 1);
	ck_assert_int_eq(simproc_count(cnt, "auth_failures", "AuthFailure", NULL),
	    g->attempts);
	json_decref(cnt);
	finish(cs, 3);
}
END_TEST

/* ---- Credentials from bbsim's instance metadata ---- */

static size_t
temporary_keys(void)
{
	json_t *j = simproc_json(&sim, "GET", "/_sim/credentials", NULL);
	size_t n;

	ck_assert_ptr_nonnull(j);
	n = json_array_size(json_object_get(j, "temporary"));
	json_decref(j);
	return n;
}

START_TEST(imds_credentials)
{
	struct aws_client *c;
	struct world w;
	struct got *g;
	json_t *cnt;

	sim_up((const char *[]){ "--speed", SPEED, NULL });
	world_read(&w);
	env_imds();
	c = client();
	g = got_new();
	await(aws_sts_get_caller_identity(c, on_identity, g), g);
	ok(g, "GetCallerIdentity");
	ck_assert_int_eq(g->attempts, 1);
	ck_assert_str_eq(g->id.account, ACCOUNT);
	ck_assert_msg(strncmp(g->id.arn, "arn:aws:sts::" ACCOUNT
	    ":assumed-role/bbsim-bastion/", 48) == 0, "%s", g->id.arn);
	/* The same keys serve the next call: no second trip to the metadata service. */
	g = got_new();
	await(aws_asg_describe_auto_scaling_groups(c, w.asg, on_groups, g), g);
	ok(g, "DescribeAutoScalingGroups");
	cnt = counters();
	ck_assert_int_eq(simproc_count(cnt, "imds", "token", NULL), 1);
	ck_assert_int_eq(simproc_count(cnt, "imds", "credentials", NULL), 1);
	ck_assert_int_eq(simproc_count(cnt, "imds", "unauthorized", NULL), 0);
	ck_assert_int_eq(json_object_size(json_object_get(cnt, "auth_failures")), 0);
	json_decref(cnt);
	ck_assert_uint_eq(temporary_keys(), 1);
	world_free(&w);
	finish1(c);
}
END_TEST

#define SHORT_CALLS	10

/* Credentials that live 2 s, far inside the client's 5 min window: each call waits. */
START_TEST(imds_short_lifetime)
{
	struct aws_client *c;
	struct got *g;
	json_t *cnt;
	long long fetched;
	size_t keys;

	sim_up((const char *[]){ "--speed", SPEED, NULL });
	post_admin("/_sim/credentials", "{\"lifetime\": 2}");
	env_imds();
	c = client();
	for (int i = 0; i < SHORT_CALLS; i++) {
		if (i > 0)
			pause_ms(300);
		g = got_new();
		await(aws_sts_get_caller_identity(c, on_identity, g), g);
		ok(g, "GetCallerIdentity");
		/* Never an expired key sent: no ExpiredToken, no retry. */
		ck_assert_int_eq(g->attempts, 1);
	}
	cnt = counters();
	fetched = simproc_count(cnt, "imds", "credentials", NULL);
	ck_assert_int_ge(fetched, SHORT_CALLS);
	ck_assert_int_eq(json_object_size(json_object_get(cnt, "auth_failures")), 0);
	ck_assert_int_eq(simproc_count(cnt, "imds", "token", NULL), 1);
	json_decref(cnt);
	keys = temporary_keys();
	ck_assert_uint_ge(keys, 2);
	note("imds_short_lifetime: %d calls over ~%d ms, %lld credential fetches, %zu "
	    "temporary keys issued", SHORT_CALLS, 300 * (SHORT_CALLS - 1), fetched, keys);
	finish1(c);
}
END_TEST

/*
 * The refresh ahead of expiry, on the credentials module itself with windows scaled
 * to a 4 s lifetime (the client's are 15 and 5 minutes): the keys are replaced in
 * the background while they still serve, and peek never comes back empty.
 */
struct creds_wait {
	int	 calls;
	char	 akid[128];
	int	 failed;
};

static void
on_creds(const struct aws_credentials *cr, const struct aws_creds_error *err,
    void *arg)
{
	struct creds_wait *cw = arg;

	cw->calls++;
	cb_total++;
	cw->failed = err != NULL;
	if (cr != NULL)
		snprintf(cw->akid, sizeof(cw->akid), "%s", cr->access_key_id);
}

START_TEST(imds_background_refresh)
{
	struct aws_creds_opts o = { .advisory_ms = 1500, .mandatory_ms = 500 };
	const struct aws_credentials *cur;
	struct aws_creds_stats st;
	struct creds_wait cw = { 0 };
	struct aws_creds *cr;
	char first[128];
	int64_t end, changed_at = 0;
	int peeks = 0;

	sim_up((const char *[]){ "--speed", SPEED, NULL });
	post_admin("/_sim/credentials", "{\"lifetime\": 4}");
	env_imds();
	ck_assert_ptr_nonnull(cr = aws_creds_new(&loop, &o));
	ck_assert_ptr_nonnull(aws_creds_get(cr, on_creds, &cw));
	cb_expected++;
	run_until(&cw.calls, 1, WAIT_MS);
	ck_assert_int_eq(cw.failed, 0);
	ck_assert_msg(strncmp(cw.akid, "ASIA", 4) == 0, "%s", cw.akid);
	snprintf(first, sizeof(first), "%s", cw.akid);
	end = simproc_now_ms() + 6000;
	while (simproc_now_ms() < end && (changed_at == 0 ||
	    simproc_now_ms() < changed_at + 300)) {
		cur = aws_creds_peek(cr);
		ck_assert_msg(cur != NULL, "no usable credentials after %d peeks", peeks);
		ck_assert_int_gt(cur->expiration_ms, 0);
		peeks++;
		if (changed_at == 0 && strcmp(cur->access_key_id, first) != 0)
			changed_at = simproc_now_ms();
		pause_ms(50);
	}
	ck_assert_msg(changed_at != 0, "the credentials were never refreshed");
	note("imds_background_refresh: new keys %lld ms after the first, %d peeks, "
	    "never without usable keys", (long long)(changed_at - (end - 6000)), peeks);
	aws_creds_stats(cr, &st);
	ck_assert_uint_eq(st.resolutions, 2);
	ck_assert_uint_eq(st.background, 1);
	ck_assert_uint_eq(st.failures, 0);
	ck_assert_uint_eq(temporary_keys(), 2);
	aws_creds_free(cr);
	finish(NULL, 0);
}
END_TEST

START_TEST(imds_expired_token)
{
	struct aws_client_stats st;
	struct aws_client *c;
	struct got *g;
	json_t *cnt;

	sim_up((const char *[]){ "--speed", SPEED, NULL });
	env_imds();
	c = client();
	g = got_new();
	await(aws_sts_get_caller_identity(c, on_identity, g), g);
	ok(g, "GetCallerIdentity");
	ck_assert_int_eq(g->attempts, 1);
	/* bbsim ends them early: the cached keys look good for an hour more. */
	post_admin("/_sim/credentials", "{\"expire\": true}");
	g = got_new();
	await(aws_sts_get_caller_identity(c, on_identity, g), g);
	ok(g, "GetCallerIdentity");
	ck_assert_int_eq(g->attempts, 2);	/* ExpiredToken, new keys, success */
	note("imds_expired_token: %d attempts, %llu ms", g->attempts,
	    (unsigned long long)g->elapsed_ms);
	aws_client_stats(c, &st);
	ck_assert_uint_eq(st.calls, 2);
	ck_assert_uint_eq(st.attempts, 3);
	ck_assert_uint_eq(st.retries, 1);
	ck_assert_uint_eq(st.failed, 0);
	cnt = counters();
	ck_assert_int_eq(simproc_count(cnt, "auth_failures", "ExpiredToken", NULL), 1);
	ck_assert_int_eq(simproc_count(cnt, "imds", "credentials", NULL), 2);
	json_decref(cnt);
	ck_assert_uint_eq(temporary_keys(), 2);
	finish1(c);
}
END_TEST

Suite *
integration_aws_suite(void)
{
	Suite *s = suite_create("integration_aws");
	TCase *calls = tcase_create("calls");
	TCase *faults = tcase_create("faults");
	TCase *creds = tcase_create("credentials");

	tcase_add_checked_fixture(calls, setup, teardown);
	tcase_add_test(calls, sts_caller_identity);
	tcase_add_test(calls, cfn_describe);
	tcase_add_test(calls, cfn_change_set_update);
	tcase_add_test(calls, asg_describe);
	tcase_add_test(calls, asg_processes_protection);
	tcase_add_test(calls, asg_terminate);
	tcase_add_test(calls, ec2_describe_instances);
	tcase_add_test(calls, cloudwatch_cpu_alarms);
	tcase_add_test(calls, elb_drain_register);
	tcase_set_timeout(calls, 40);
	suite_add_tcase(s, calls);

	tcase_add_checked_fixture(faults, setup, teardown);
	tcase_add_test(faults, throttle_exhausted);
	tcase_add_test(faults, throttle_storm);
	tcase_add_test(faults, ec2_503_throttled);
	tcase_add_test(faults, latency_deadline);
	tcase_add_test(faults, auth_refused);
	tcase_set_timeout(faults, 40);
	suite_add_tcase(s, faults);

	tcase_add_checked_fixture(creds, setup, teardown);
	tcase_add_test(creds, imds_credentials);
	tcase_add_test(creds, imds_short_lifetime);
	tcase_add_test(creds, imds_background_refresh);
	tcase_add_test(creds, imds_expired_token);
	tcase_set_timeout(creds, 40);
	suite_add_tcase(s, creds);
	return s;
}
