/*
 * The daemon's Bitbucket client against the real bbsim process: the ZDU API under
 * /rest/zdu and /status, through bbsim's load balancer, with HTTP Basic (admin and
 * its password) and Bearer (the administrator's token) read from secret files of
 * mode 0600, as bitbucket_new() requires. The cluster's nodes are matched to the
 * EC2 instances by their private addresses, read with the AWS client from the same
 * bbsim; the state guards (409 with an empty body), a token whose scope stops short
 * of the API (403, BSERV-19635) and a wrong password (401) are checked against
 * bbsim's counters and /_sim/state.
 *
 * One bbsim per test; nothing leaves loopback. Every test ends with the clients
 * freed, http_shutdown(), the loop run to completion, uv_loop_close() == 0, every
 * callback run exactly once, and bbsim stopped with SIGTERM (exit status 0).
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "common/config.h"
#include "common/log.h"
#include "daemon/aws/client.h"
#include "daemon/aws/ec2.h"
#include "daemon/bitbucket.h"
#include "daemon/http.h"
#include "tests/simproc.h"
#include "tests/testutil.h"
#include "tests/suites_decl.h"

#define REGION		"us-east-1"
#define AKID		"AKIDEXAMPLE"
#define SECRET		"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define ADMIN_PW	"admin-secret-test"
#define ADMIN_TOKEN	"bbsim-sysadmin-token"
#define SCOPED_TOKEN	"bbsim-scoped-token"
#define WAIT_MS		20000
#define MAX_NODES	16

extern char **environ;

static uv_loop_t loop;
static struct simproc sim;
static char *dir;
static int cb_total, cb_expected;

static void
run_until(const int *count, int n, int max_ms)
{
	int64_t end = simproc_now_ms() + max_ms;

	while (*count < n && simproc_now_ms() < end)
		uv_run(&loop, UV_RUN_ONCE);
	ck_assert_int_eq(*count, n);
}

/* ---- What a Bitbucket callback saw ---- */

struct bgot {
	int			 calls;
	enum bitbucket_op	 op;
	enum bitbucket_outcome	 outcome;
	bool			 ok, maybe_applied;
	long			 status;
	unsigned		 attempts;
	char			 message[1024];
	struct zdu_cluster	 cluster;	/* moved out of the result */
	struct zdu_state	 state;
	struct zdu_node		 node;
	enum zdu_health		 health;
};

#define MAX_BGOT	64
static struct bgot bgots[MAX_BGOT];
static size_t nbgots;

static struct bgot *
bgot_new(void)
{
	ck_assert_uint_lt(nbgots, MAX_BGOT);
	memset(&bgots[nbgots], 0, sizeof(bgots[0]));
	return &bgots[nbgots++];
}

static void
on_bb(struct bitbucket_result *r, void *arg)
{
	struct bgot *g = arg;

	g->calls++;
	cb_total++;
	g->op = r->op;
	g->outcome = r->outcome;
	g->ok = r->ok;
	g->maybe_applied = r->maybe_applied;
	g->status = r->status;
	g->attempts = r->attempts;
	ck_assert_ptr_nonnull(r->message);
	snprintf(g->message, sizeof(g->message), "%s", r->message);
	g->cluster = r->cluster;
	memset(&r->cluster, 0, sizeof(r->cluster));
	g->state = r->state;
	g->node = r->node;
	g->health = r->health;
}

static struct bgot *
bwait(const struct bitbucket_call *call, struct bgot *g)
{
	ck_assert_msg(call != NULL, "the call was not started");
	cb_expected++;
	run_until(&g->calls, 1, WAIT_MS);
	return g;
}

static void
bok(const struct bgot *g)
{
	ck_assert_msg(g->ok && g->outcome == BITBUCKET_OK, "%s: %s",
	    bitbucket_outcome_name(g->outcome), g->message);
	ck_assert_int_eq(g->attempts, 1);
}

/* ---- What AWS says about the instances ---- */

struct ec2_node {
	char	 id[AWS_ID_MAX + 1];
	char	 ip[AWS_ENUM_MAX + 1];
};

struct egot {
	int		 calls;
	enum aws_errclass ec;
	char		 detail[256];
	struct ec2_node	 in[MAX_NODES];
	size_t		 n;
};

static void
on_ec2(const struct aws_result *r, const struct aws_ec2_instances *in, void *arg)
{
	struct egot *g = arg;

	g->calls++;
	cb_total++;
	g->ec = r->errclass;
	snprintf(g->detail, sizeof(g->detail), "%s %s", r->error.code,
	    r->detail != NULL ? r->detail : "");
	ck_assert_int_eq(in != NULL, r->errclass == AWS_ERRCLASS_OK);
	for (size_t i = 0; in != NULL && i < in->n; i++) {
		ck_assert_uint_lt(g->n, MAX_NODES);
		snprintf(g->in[g->n].id, sizeof(g->in[0].id), "%s", in->items[i].id);
		snprintf(g->in[g->n].ip, sizeof(g->in[0].ip), "%s",
		    in->items[i].private_ip);
		g->n++;
	}
}

/* ---- Fixture ---- */

static void
setup(void)
{
	char **e, *name;

	log_setlevel(LOG_WARNING);
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
	ck_assert_ptr_nonnull(dir = test_tmpdir());
	setenv("HOME", dir, 1);
	setenv("AWS_CONFIG_FILE", "/dev/null", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	setenv("AWS_ACCESS_KEY_ID", AKID, 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
	cb_total = cb_expected = 0;
	nbgots = 0;
	memset(&sim, 0, sizeof(sim));
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(http_init(&loop), 0);
}

static void
teardown(void)
{
	if (sim.pid > 0)
		simproc_stop(&sim);
	for (size_t i = 0; i < nbgots; i++)
		zdu_cluster_free(&bgots[i].cluster);
	test_rmtree(dir);
	free(dir);
}

static void
sim_up(void)
{
	static const char *const args[] = { "--speed", "20", NULL };
	char err[512];

	ck_assert_msg(simproc_start(&sim, args, err, sizeof(err)) == 0, "%s", err);
}

/* A secret file of mode 0600 in the test's directory; its path (static). */
static const char *
secret_file(const char *name, const char *content)
{
	static char paths[4][512];
	static unsigned k;
	char *path = paths[k++ % 4];
	int fd;

	snprintf(path, sizeof(paths[0]), "%s/%s", dir, name);
	ck_assert_int_ne(fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600),
	    -1);
	ck_assert_int_eq(fchmod(fd, 0600), 0);
	ck_assert_int_eq(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	ck_assert_int_eq(close(fd), 0);
	return path;
}

/* user NULL: a Bearer token in the file; else Basic as user. */
static struct bitbucket *
bb_client(const char *user, const char *file)
{
	struct deployment d;
	struct bitbucket *bb;
	char err[1024];

	memset(&d, 0, sizeof(d));
	d.name = (char *)"itest";
	d.region = (char *)REGION;
	d.stack = (char *)"bitbucket";
	d.bitbucket_url = sim.url;
	d.surge = 1;
	if (user != NULL) {
		d.bitbucket_user = (char *)user;
		d.password_file = (char *)file;
	} else
		d.token_file = (char *)file;
	bb = bitbucket_new(&loop, &d, err, sizeof(err));
	ck_assert_msg(bb != NULL, "%s", err);
	return bb;
}

static struct bitbucket *
bb_admin(void)
{
	return bb_client("admin", secret_file("admin.pw", ADMIN_PW "\n"));
}

static struct bitbucket *
bb_token(void)
{
	return bb_client(NULL, secret_file("admin.token", ADMIN_TOKEN "\n"));
}

static void
finish(struct bitbucket **bbs, size_t n, struct aws_client *aws)
{
	for (size_t i = 0; i < n; i++)
		bitbucket_free(bbs[i]);
	aws_client_free(aws);
	http_shutdown();
	uv_run(&loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&loop), 0);
	ck_assert_int_eq(cb_total, cb_expected);
	ck_assert_int_eq(simproc_stop(&sim), 0);
}

static json_t *
sim_get(const char *path)
{
	json_t *j = simproc_json(&sim, "GET", path, NULL);

	ck_assert_ptr_nonnull(j);
	return j;
}

static const char *
zdu_truth(json_t *state)
{
	return json_string_value(json_object_get(json_object_get(state, "zdu"),
	    "state"));
}

static long long
bitbucket_count(const char *group, const char *key)
{
	json_t *j = sim_get("/_sim/counters");
	long long n = simproc_count(j, group, "bitbucket", key, NULL);

	json_decref(j);
	return n;
}

/* ---- Tests ---- */

START_TEST(zdu_cluster_matches_ec2)
{
	struct aws_client_opts o = { .region = REGION };
	struct aws_ec2_describe_in in;
	struct aws_ec2_filter f;
	const char *group[1];
	struct bitbucket *bbs[2];
	struct aws_client *aws;
	struct bgot *g, *tok;
	struct egot eg = { 0 };
	const struct zdu_node *nd;
	json_t *st;
	char err[256];
	size_t locals = 0;

	sim_up();
	st = sim_get("/_sim/state");
	bbs[0] = bb_admin();
	bbs[1] = bb_token();

	/* GET /rest/zdu/cluster as admin, with Basic. */
	g = bgot_new();
	bwait(bitbucket_get_cluster(bbs[0], on_bb, g), g);
	bok(g);
	ck_assert_int_eq(g->op, BITBUCKET_OP_CLUSTER);
	ck_assert_int_eq(g->status, 200);
	ck_assert_int_eq(g->cluster.state, ZDU_STABLE);
	ck_assert_str_eq(g->cluster.state_name, "STABLE");
	ck_assert(!g->cluster.upgrade_mode);
	ck_assert_str_eq(g->cluster.original_version, "");
	ck_assert_uint_eq(g->cluster.nnodes, 4);
	ck_assert_uint_eq(g->cluster.nnodes, json_array_size(json_object_get(
	    json_object_get(st, "zdu"), "nodes")));
	for (size_t i = 0; i < g->cluster.nnodes; i++) {
		nd = &g->cluster.nodes[i];
		ck_assert_int_eq(nd->state, ZDU_NODE_ACTIVE);
		ck_assert_str_eq(nd->version, "7.9.0");
		locals += nd->local;
	}
	ck_assert_uint_eq(locals, 1);	/* the node the load balancer picked */

	/* The nodes are the group's instances, by private address. */
	o.endpoint_url = sim.url;
	aws = aws_client_new(&loop, &o, err, sizeof(err));
	ck_assert_msg(aws != NULL, "%s", err);
	group[0] = json_string_value(json_object_get(json_object_get(st, "asg"),
	    "name"));
	ck_assert_ptr_nonnull(group[0]);
	f = (struct aws_ec2_filter){ "tag:aws:autoscaling:groupName", group, 1 };
	memset(&in, 0, sizeof(in));
	in.filters = &f;
	in.nfilters = 1;
	ck_assert_ptr_nonnull(aws_ec2_describe_instances(aws, &in, on_ec2, &eg));
	cb_expected++;
	run_until(&eg.calls, 1, WAIT_MS);
	ck_assert_msg(eg.ec == AWS_ERRCLASS_OK, "%s", eg.detail);
	ck_assert_uint_eq(eg.n, g->cluster.nnodes);
	for (size_t i = 0; i < eg.n; i++) {
		nd = zdu_node_by_ip(&g->cluster, eg.in[i].ip);
		ck_assert_msg(nd != NULL, "%s (%s) is no node", eg.in[i].id, eg.in[i].ip);
	}
	for (size_t i = 0; i < g->cluster.nnodes; i++) {
		bool found = false;

		for (size_t k = 0; k < eg.n; k++)
			found |= strcmp(eg.in[k].ip, g->cluster.nodes[i].ip) == 0;
		ck_assert_msg(found, "node %s has no instance", g->cluster.nodes[i].ip);
	}

	/* The same cluster with the administrator's token. */
	tok = bgot_new();
	bwait(bitbucket_get_cluster(bbs[1], on_bb, tok), tok);
	bok(tok);
	ck_assert_uint_eq(tok->cluster.nnodes, g->cluster.nnodes);
	for (size_t i = 0; i < g->cluster.nnodes; i++) {
		ck_assert_str_eq(tok->cluster.nodes[i].id, g->cluster.nodes[i].id);
		ck_assert_str_eq(tok->cluster.nodes[i].ip, g->cluster.nodes[i].ip);
	}

	/* GET /state, GET /nodes/{id}, GET /status. */
	g = bgot_new();
	bwait(bitbucket_get_state(bbs[1], on_bb, g), g);
	bok(g);
	ck_assert_int_eq(g->state.state, ZDU_STABLE);
	ck_assert(g->state.has_node);
	ck_assert_ptr_nonnull(zdu_node_by_ip(&tok->cluster, g->state.node.ip));
	g = bgot_new();
	bwait(bitbucket_get_node(bbs[0], tok->cluster.nodes[0].id, on_bb, g), g);
	bok(g);
	ck_assert_str_eq(g->node.id, tok->cluster.nodes[0].id);
	ck_assert_str_eq(g->node.ip, tok->cluster.nodes[0].ip);
	g = bgot_new();
	bwait(bitbucket_get_health(bbs[0], on_bb, g), g);
	bok(g);
	ck_assert_int_eq(g->status, 200);
	ck_assert_int_eq(g->health, ZDU_HEALTH_RUNNING);
	ck_assert_int_eq(bitbucket_count("api_calls", "GET /rest/zdu/cluster"), 2);
	ck_assert_int_eq(bitbucket_count("auth_failures", "401"), 0);
	json_decref(st);
	finish(bbs, 2, aws);
}
END_TEST

START_TEST(zdu_start_cancel)
{
	struct bitbucket *bbs[2];
	struct bgot *g;
	json_t *st;

	sim_up();
	bbs[0] = bb_admin();
	bbs[1] = bb_token();

	/* STABLE -> READY_TO_UPGRADE. */
	g = bgot_new();
	bwait(bitbucket_post_start(bbs[0], on_bb, g), g);
	bok(g);
	ck_assert_int_eq(g->op, BITBUCKET_OP_START);
	ck_assert_int_eq(g->cluster.state, ZDU_READY_TO_UPGRADE);
	ck_assert(g->cluster.upgrade_mode);
	ck_assert_str_eq(g->cluster.original_version, "7.9.0");
	ck_assert(!g->maybe_applied);
	st = sim_get("/_sim/state");
	ck_assert_str_eq(zdu_truth(st), "READY_TO_UPGRADE");
	json_decref(st);

	/* Again: 409 with an empty body, and nothing changed. */
	g = bgot_new();
	bwait(bitbucket_post_start(bbs[0], on_bb, g), g);
	ck_assert_int_eq(g->outcome, BITBUCKET_CONFLICT);
	ck_assert(!g->ok);
	ck_assert_int_eq(g->status, 409);
	ck_assert_int_eq(g->attempts, 1);
	ck_assert(!g->maybe_applied);
	ck_assert_msg(strstr(g->message, "only from STABLE") != NULL, "%s", g->message);
	ck_assert_uint_eq(g->cluster.nnodes, 0);

	/* The token's view agrees. */
	g = bgot_new();
	bwait(bitbucket_get_cluster(bbs[1], on_bb, g), g);
	bok(g);
	ck_assert_int_eq(g->cluster.state, ZDU_READY_TO_UPGRADE);

	/* READY_TO_UPGRADE -> STABLE. */
	g = bgot_new();
	bwait(bitbucket_post_cancel(bbs[1], on_bb, g), g);
	bok(g);
	ck_assert_int_eq(g->op, BITBUCKET_OP_CANCEL);
	ck_assert_int_eq(g->cluster.state, ZDU_STABLE);
	ck_assert(!g->cluster.upgrade_mode);
	st = sim_get("/_sim/state");
	ck_assert_str_eq(zdu_truth(st), "STABLE");
	json_decref(st);

	/* Cancel from STABLE is a conflict too. */
	g = bgot_new();
	bwait(bitbucket_post_cancel(bbs[0], on_bb, g), g);
	ck_assert_int_eq(g->outcome, BITBUCKET_CONFLICT);
	ck_assert_msg(strstr(g->message, "only from READY_TO_UPGRADE") != NULL, "%s",
	    g->message);

	g = bgot_new();
	bwait(bitbucket_get_health(bbs[0], on_bb, g), g);
	bok(g);
	ck_assert_int_eq(g->health, ZDU_HEALTH_RUNNING);
	ck_assert_int_eq(bitbucket_count("api_calls", "POST /rest/zdu/start"), 2);
	ck_assert_int_eq(bitbucket_count("api_calls", "POST /rest/zdu/cancel"), 2);
	finish(bbs, 2, NULL);
}
END_TEST

START_TEST(zdu_scoped_token_forbidden)
{
	struct bitbucket *bb;
	struct bgot *g;
	json_t *st;

	sim_up();
	bb = bb_client(NULL, secret_file("scoped.token", SCOPED_TOKEN "\n"));
	g = bgot_new();
	bwait(bitbucket_get_cluster(bb, on_bb, g), g);
	ck_assert_int_eq(g->outcome, BITBUCKET_FORBIDDEN);
	ck_assert_int_eq(g->status, 403);
	ck_assert_int_eq(g->attempts, 1);
	/* The caveat: a sysadmin's token may still not reach this API. */
	ck_assert_msg(strstr(g->message, "BSERV-19635") != NULL, "%s", g->message);
	ck_assert_msg(strstr(g->message, "personal access token") != NULL, "%s",
	    g->message);
	ck_assert_msg(strstr(g->message, "Bitbucket says") != NULL, "%s", g->message);
	ck_assert_ptr_null(strstr(g->message, SCOPED_TOKEN));

	/* A refused POST changed nothing, and says so. */
	g = bgot_new();
	bwait(bitbucket_post_start(bb, on_bb, g), g);
	ck_assert_int_eq(g->outcome, BITBUCKET_FORBIDDEN);
	ck_assert(!g->maybe_applied);
	st = sim_get("/_sim/state");
	ck_assert_str_eq(zdu_truth(st), "STABLE");
	json_decref(st);

	/* /status needs no credentials at all. */
	g = bgot_new();
	bwait(bitbucket_get_health(bb, on_bb, g), g);
	bok(g);
	ck_assert_int_eq(bitbucket_count("auth_failures", "403"), 2);
	finish(&bb, 1, NULL);
}
END_TEST

START_TEST(zdu_wrong_password)
{
	struct bitbucket *bbs[2];
	const char *pwfile;
	struct bgot *g;

	sim_up();
	pwfile = secret_file("wrong.pw", "not-the-admin-secret\n");
	bbs[0] = bb_client("admin", pwfile);
	g = bgot_new();
	bwait(bitbucket_get_cluster(bbs[0], on_bb, g), g);
	ck_assert_int_eq(g->outcome, BITBUCKET_UNAUTHORIZED);
	ck_assert_int_eq(g->status, 401);
	ck_assert_int_eq(g->attempts, 1);	/* a 401 is not retried */
	ck_assert_msg(strstr(g->message, "user \"admin\"") != NULL, "%s", g->message);
	ck_assert_msg(strstr(g->message, pwfile) != NULL, "%s", g->message);
	ck_assert_ptr_null(strstr(g->message, "not-the-admin-secret"));

	/* A licensed user who is no system administrator: 403, not 401. */
	bbs[1] = bb_client("developer", secret_file("developer.pw",
	    "developer-secret-test"));
	g = bgot_new();
	bwait(bitbucket_get_state(bbs[1], on_bb, g), g);
	ck_assert_int_eq(g->outcome, BITBUCKET_FORBIDDEN);
	ck_assert_int_eq(g->status, 403);
	ck_assert_msg(strstr(g->message, "System administrator permission") != NULL,
	    "%s", g->message);
	ck_assert_int_eq(bitbucket_count("auth_failures", "401"), 1);
	ck_assert_int_eq(bitbucket_count("auth_failures", "403"), 1);
	finish(bbs, 2, NULL);
}
END_TEST

Suite *
integration_bitbucket_suite(void)
{
	Suite *s = suite_create("integration_bitbucket");
	TCase *tc = tcase_create("zdu");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, zdu_cluster_matches_ec2);
	tcase_add_test(tc, zdu_start_cancel);
	tcase_add_test(tc, zdu_scoped_token_forbidden);
	tcase_add_test(tc, zdu_wrong_password);
	tcase_set_timeout(tc, 40);
	suite_add_tcase(s, tc);
	return s;
}
