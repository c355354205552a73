/*
 * bbsim's Bitbucket endpoints and the admin views of the model, driven in process
 * through sim_route() with the clock stopped and set by hand: the authentication
 * matrix (Basic, Bearer, the scoped token of BSERV-19635, a user who is not a
 * sysadmin), the JSON shape of /rest/zdu/state, /cluster and /nodes/{id}, the
 * transitions with their 409 and its empty body, OFFLINE entries after a node is
 * replaced, /status through the load balancer, the context path; then /_sim/state,
 * /_sim/history, /_sim/report, the model's faults and the operator's terminations.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/log.h"
#include "sim/model.h"
#include "sim/server.h"
#include "sim/sim.h"
#include "tests/simmodel.h"
#include "tests/suites_decl.h"

/* admin:admin-secret-test, admin:wrong, developer:developer-secret-test */
#define ADMIN_BASIC	"Basic YWRtaW46YWRtaW4tc2VjcmV0LXRlc3Q="
#define WRONG_BASIC	"Basic YWRtaW46d3Jvbmc="
#define DEV_BASIC	"Basic ZGV2ZWxvcGVyOmRldmVsb3Blci1zZWNyZXQtdGVzdA=="
#define T0		5000

static struct sim	 sim;
static struct sim_resp	 resp;
static json_t		*body;

/* A world of nodes without traffic, at T0 (so that every node is in service). */
static void
start_world(int nodes, const char *context)
{
	struct sim_options	 o;
	struct sim_params	 p;

	memset(&o, 0, sizeof(o));
	o.seed = 3;
	o.context = context;
	ck_assert_int_eq(sim_init(&sim, &o), 0);
	log_setlevel(LOG_WARNING);
	sim_params_defaults(&p);
	p.rate = 0;
	p.nodes = nodes;
	sim.model = test_model_new(&p);
	sim_clock_manual(&sim.clock, T0);
	memset(&resp, 0, sizeof(resp));
	body = NULL;
}

static void
setup(void)
{
	start_world(4, NULL);
}

static void
teardown(void)
{
	json_decref(body);
	sim_resp_free(&resp);
	sim_model_free(sim.model);
	sim_free(&sim);
}

/* One request through the router; its JSON body (if any) in body. */
static int
call(const char *method, const char *uri, const char *auth, const char *reqbody)
{
	struct sim_req	 req;

	json_decref(body);
	body = NULL;
	sim_resp_free(&resp);
	ck_assert_int_eq(sim_req_init(&req, method, uri), 0);
	if (auth != NULL)
		ck_assert_int_eq(sim_req_add_header(&req, "Authorization", auth), 0);
	if (reqbody != NULL)
		ck_assert_int_eq(sim_req_set_body(&req, reqbody, strlen(reqbody)), 0);
	sim_route(&sim, &req, &resp);
	sim_req_free(&req);
	if (resp.len > 0)
		body = json_loadb(resp.body, resp.len, 0, NULL);
	return resp.status;
}

static const char *
header(const char *name)
{
	for (size_t i = 0; i < resp.nhdr; i++)
		if (strcasecmp(resp.hdr[i].name, name) == 0)
			return resp.hdr[i].value;
	return NULL;
}

static void
advance(int64_t ms)
{
	sim_clock_manual(&sim.clock, sim.clock.last + ms);
}

static const char *
str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static json_int_t
counter(const char *group, const char *key, const char *sub)
{
	return json_integer_value(json_object_get(json_object_get(json_object_get(
	    sim.counters, group), key), sub));
}

/* ---- authentication ---- */

START_TEST(auth_matrix)
{
	static const struct {
		const char	*auth;
		int		 status;
	} cases[] = {
		{ NULL, 401 },
		{ WRONG_BASIC, 401 },
		{ "Basic !!!!", 401 },
		{ "Basic YWRtaW4=", 401 },		/* "admin": no colon */
		{ "Basic", 401 },
		{ ADMIN_BASIC, 200 },
		{ "basic  YWRtaW46YWRtaW4tc2VjcmV0LXRlc3Q=", 200 },
		{ DEV_BASIC, 403 },
		{ "Bearer " SIM_BB_TOKEN, 200 },
		{ "Bearer " SIM_BB_SCOPED_TOKEN, 403 },
		{ "Bearer nope", 401 },
		{ "Bearer ", 401 },
		{ "Digest username=\"admin\"", 401 },
	};
	int	 n401 = 0, n403 = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_msg(call("GET", "/rest/zdu/cluster", cases[i].auth, NULL) ==
		    cases[i].status, "%s: %d", cases[i].auth ? cases[i].auth : "(none)",
		    resp.status);
		n401 += cases[i].status == 401;
		n403 += cases[i].status == 403;
		if (cases[i].status == 401)
			ck_assert_str_eq(header("WWW-Authenticate"),
			    "Basic realm=\"Atlassian Bitbucket\"");
		if (cases[i].status != 200) {
			ck_assert_ptr_nonnull(json_object_get(body, "errors"));
			ck_assert_ptr_null(strstr(resp.body, "secret"));
		}
	}
	ck_assert_int_eq(counter("auth_failures", "bitbucket", "401"), n401);
	ck_assert_int_eq(counter("auth_failures", "bitbucket", "403"), n403);
	ck_assert_int_eq(counter("api_calls", "bitbucket", "GET /rest/zdu/cluster"),
	    (json_int_t)(sizeof(cases) / sizeof(cases[0])));
	/* /status needs nothing; POSTs are refused like GETs. */
	ck_assert_int_eq(call("GET", "/status", NULL, NULL), 200);
	ck_assert_int_eq(call("POST", "/rest/zdu/start", NULL, NULL), 401);
	ck_assert_int_eq(call("POST", "/rest/zdu/start", "Bearer " SIM_BB_SCOPED_TOKEN,
	    NULL), 403);
	ck_assert_int_eq(sim_zdu_state(sim.model), SIM_ZDU_STABLE);
}
END_TEST

START_TEST(auth_configured)
{
	struct sim_options	 o;

	teardown();
	memset(&o, 0, sizeof(o));
	o.bb_user = "ops";
	o.bb_password = "pw";
	o.bb_token = "tok";
	ck_assert_int_eq(sim_init(&sim, &o), 0);
	sim.model = NULL;
	ck_assert_str_eq(sim.opt.bb_scoped_token, SIM_BB_SCOPED_TOKEN);
	sim_free(&sim);
	o.bb_scoped_token = "tok";	/* the same token cannot be both */
	ck_assert_int_eq(sim_init(&sim, &o), -1);
	o.bb_scoped_token = NULL;
	o.bb_user = "a:b";
	ck_assert_int_eq(sim_init(&sim, &o), -1);
	o.bb_user = "ops";
	o.context = "bitbucket";	/* must start with '/' */
	ck_assert_int_eq(sim_init(&sim, &o), -1);
	o.context = "/_sim";
	ck_assert_int_eq(sim_init(&sim, &o), -1);
	o.context = "/bb//x";
	ck_assert_int_eq(sim_init(&sim, &o), -1);
	o.speed = 1e9;
	o.context = NULL;
	ck_assert_int_eq(sim_init(&sim, &o), -1);
	start_world(2, NULL);
}
END_TEST

/* ---- shapes ---- */

static void
check_node(const json_t *n, int full)
{
	const char	*keys_full[] = { "id", "name", "ipAddress", "state", "version",
	    "buildNumber", "tasksTotal", "activeUserCount", "local", "portNumber",
	    "links" };
	const json_t	*links;
	char		 want[128];

	ck_assert(json_is_object(n));
	if (!full) {
		ck_assert_int_eq(json_object_size(n), 4);
		ck_assert_str_eq(str(n, "state"), "OFFLINE");
		ck_assert_ptr_nonnull(str(n, "id"));
		ck_assert_ptr_nonnull(str(n, "name"));
		ck_assert_ptr_nonnull(str(n, "ipAddress"));
		return;
	}
	ck_assert_int_eq(json_object_size(n), 11);
	for (size_t i = 0; i < sizeof(keys_full) / sizeof(keys_full[0]); i++)
		ck_assert_msg(json_object_get(n, keys_full[i]) != NULL, "%s",
		    keys_full[i]);
	ck_assert(json_is_integer(json_object_get(n, "tasksTotal")));
	ck_assert(json_is_integer(json_object_get(n, "activeUserCount")));
	ck_assert(json_is_boolean(json_object_get(n, "local")));
	ck_assert_int_eq(json_integer_value(json_object_get(n, "portNumber")), 5701);
	links = json_object_get(n, "links");
	ck_assert_int_eq(json_array_size(links), 1);
	ck_assert_str_eq(str(json_array_get(links, 0), "rel"), "self");
	snprintf(want, sizeof(want), "/rest/zdu/nodes/%s", str(n, "id"));
	ck_assert_ptr_nonnull(strstr(str(json_array_get(links, 0), "href"), want));
}

/* Every node complete, sorted by name then address, exactly one local. */
static void
check_cluster(const char *state, int live, int offline)
{
	const json_t	*nodes = json_object_get(body, "nodes"), *n, *prev = NULL;
	int		 local = 0, off = 0;
	size_t		 i;

	ck_assert_str_eq(str(body, "state"), state);
	ck_assert(json_is_boolean(json_object_get(body, "upgradeModeEnabled")));
	ck_assert_ptr_nonnull(json_object_get(body, "originalVersion"));
	ck_assert_int_eq(json_array_size(nodes), (size_t)(live + offline));
	json_array_foreach(nodes, i, n) {
		off += strcmp(str(n, "state"), "OFFLINE") == 0;
		check_node(n, strcmp(str(n, "state"), "OFFLINE") != 0);
		local += json_is_true(json_object_get(n, "local"));
		if (prev != NULL)
			ck_assert_int_le(strcmp(str(prev, "name"), str(n, "name")), 0);
		prev = n;
	}
	ck_assert_int_eq(off, offline);
	ck_assert_int_eq(local, 1);
}

static int
has_link(const char *rel)
{
	const json_t	*l;
	size_t		 i;

	json_array_foreach(json_object_get(body, "links"), i, l)
		if (strcmp(str(l, "rel"), rel) == 0)
			return 1;
	return 0;
}

START_TEST(cluster_shape)
{
	ck_assert_int_eq(call("GET", "/rest/zdu/cluster", ADMIN_BASIC, NULL), 200);
	ck_assert_str_eq(header("Content-Type"), "application/json");
	check_cluster("STABLE", 4, 0);
	ck_assert(json_is_false(json_object_get(body, "upgradeModeEnabled")));
	ck_assert(json_is_null(json_object_get(body, "originalVersion")));
	ck_assert(has_link("self") && has_link("start") && !has_link("cancel"));
	ck_assert_str_eq(str(json_array_get(json_object_get(body, "nodes"), 0),
	    "version"), "7.9.0");
	ck_assert_str_eq(str(json_array_get(json_object_get(body, "nodes"), 0),
	    "buildNumber"), "7009000");
}
END_TEST

START_TEST(state_and_node)
{
	char	 uri[128], id[32];

	ck_assert_int_eq(call("GET", "/rest/zdu/state", ADMIN_BASIC, NULL), 200);
	ck_assert_str_eq(str(body, "state"), "STABLE");
	ck_assert_int_eq(json_object_size(body), 2);
	check_node(json_object_get(body, "buildInfo"), 1);
	ck_assert(json_is_true(json_object_get(json_object_get(body, "buildInfo"),
	    "local")));
	snprintf(id, sizeof(id), "%s", str(json_object_get(body, "buildInfo"), "id"));
	/* The load balancer goes round: the next request is answered by another. */
	ck_assert_int_eq(call("GET", "/rest/zdu/state", ADMIN_BASIC, NULL), 200);
	ck_assert_str_ne(str(json_object_get(body, "buildInfo"), "id"), id);
	snprintf(uri, sizeof(uri), "/rest/zdu/nodes/%s", id);
	ck_assert_int_eq(call("GET", uri, ADMIN_BASIC, NULL), 200);
	check_node(body, 1);
	ck_assert_str_eq(str(body, "id"), id);
	ck_assert_int_eq(call("GET", "/rest/zdu/nodes/nosuch", ADMIN_BASIC, NULL), 404);
	ck_assert_ptr_nonnull(json_object_get(body, "errors"));
	ck_assert_int_eq(call("GET", "/rest/zdu/nodes/", ADMIN_BASIC, NULL), 404);
	ck_assert_int_eq(call("GET", "/rest/zdu/nope", ADMIN_BASIC, NULL), 404);
	ck_assert_int_eq(call("GET", "/rest/zdu/start", ADMIN_BASIC, NULL), 405);
	ck_assert_str_eq(header("Allow"), "POST");
	ck_assert_int_eq(call("POST", "/rest/zdu/cluster", ADMIN_BASIC, NULL), 405);
}
END_TEST

/* ---- transitions ---- */

static void
is_409(void)
{
	ck_assert_int_eq(resp.status, 409);
	ck_assert_uint_eq(resp.len, 0);
	ck_assert_ptr_null(header("Content-Type"));
}

START_TEST(transitions)
{
	ck_assert_int_eq(call("POST", "/rest/zdu/start", ADMIN_BASIC, NULL), 200);
	check_cluster("READY_TO_UPGRADE", 4, 0);
	ck_assert(json_is_true(json_object_get(body, "upgradeModeEnabled")));
	ck_assert_str_eq(str(body, "originalVersion"), "7.9.0");
	ck_assert(has_link("cancel") && !has_link("start"));
	call("POST", "/rest/zdu/start", ADMIN_BASIC, NULL);
	is_409();
	call("POST", "/rest/zdu/approve", ADMIN_BASIC, NULL);
	is_409();
	call("POST", "/rest/zdu/retryUpgrade", "Bearer " SIM_BB_TOKEN, NULL);
	is_409();
	ck_assert_int_eq(call("POST", "/rest/zdu/cancel", ADMIN_BASIC, NULL), 200);
	check_cluster("STABLE", 4, 0);
	ck_assert(json_is_null(json_object_get(body, "originalVersion")));
	call("POST", "/rest/zdu/cancel", ADMIN_BASIC, NULL);
	is_409();
	ck_assert_int_eq(counter("api_calls", "bitbucket", "POST /rest/zdu/start"), 2);
}
END_TEST

/* The operator kills an original; its replacement is a new node (a new address). */
START_TEST(offline_after_replacement)
{
	char	 kill[128], gone[16];

	ck_assert_int_eq(call("POST", "/rest/zdu/start", ADMIN_BASIC, NULL), 200);
	snprintf(gone, sizeof(gone), "%s", str(json_array_get(json_object_get(body,
	    "nodes"), 0), "ipAddress"));
	snprintf(kill, sizeof(kill), "{\"instance\": \"%s\"}",
	    sim_ec2_find_ip(sim.model, gone)->id);
	ck_assert_int_eq(call("POST", "/_sim/operator/terminate", NULL, kill), 200);
	ck_assert_str_eq(str(json_object_get(json_array_get(json_object_get(body,
	    "TerminatingInstances"), 0), "CurrentState"), "Name"), "shutting-down");
	advance(60000);
	ck_assert_int_eq(call("GET", "/rest/zdu/cluster", ADMIN_BASIC, NULL), 200);
	check_cluster("READY_TO_UPGRADE", 4, 1);
	ck_assert_int_eq(call("POST", "/rest/zdu/cancel", ADMIN_BASIC, NULL), 200);
	check_cluster("STABLE", 4, 0);
	/* Not an instance; then one that is gone. */
	ck_assert_int_eq(call("POST", "/_sim/operator/terminate", NULL,
	    "{\"instance\": \"i-00000000000000000\"}"), 400);
	ck_assert_str_eq(str(body, "code"), "InvalidInstanceID.NotFound");
	ck_assert_int_eq(call("POST", "/_sim/operator/terminate", NULL, "{}"), 400);
	ck_assert_int_eq(call("GET", "/_sim/operator/terminate", NULL, NULL), 405);
}
END_TEST

/* One node: killed, the ELB still sends to it (504), then knows (503). */
START_TEST(status_through_the_elb)
{
	char	 kill[128];

	teardown();
	start_world(1, NULL);
	ck_assert_int_eq(call("GET", "/status", NULL, NULL), 200);
	ck_assert_str_eq(str(body, "state"), "RUNNING");
	ck_assert_int_eq(call("HEAD", "/status", NULL, NULL), 200);
	ck_assert_int_eq(call("POST", "/status", NULL, NULL), 405);
	snprintf(kill, sizeof(kill), "{\"instance\": \"%s\"}", sim.model->inst[1]->id);
	ck_assert(sim.model->inst[1]->member);
	ck_assert_int_eq(call("POST", "/_sim/operator/terminate", NULL, kill), 200);
	ck_assert_int_eq(call("GET", "/status", NULL, NULL), 504);
	ck_assert_int_eq(call("GET", "/rest/zdu/cluster", ADMIN_BASIC, NULL), 504);
	advance(sim.model->p.health_interval * (sim.model->p.unhealthy_threshold + 1));
	ck_assert_int_eq(call("GET", "/status", NULL, NULL), 503);
	ck_assert_uint_eq(resp.len, 0);
	ck_assert_int_eq(call("GET", "/rest/zdu/state", ADMIN_BASIC, NULL), 503);
	/* The replacement boots, passes its checks, and the cluster answers again. */
	advance(60000);
	ck_assert_int_eq(call("GET", "/status", NULL, NULL), 200);
	ck_assert_int_eq(call("GET", "/rest/zdu/cluster", ADMIN_BASIC, NULL), 200);
	check_cluster("STABLE", 1, 0);
}
END_TEST

START_TEST(context_path)
{
	teardown();
	start_world(2, "/bitbucket/");
	ck_assert_str_eq(sim.context, "/bitbucket");
	ck_assert_int_eq(call("GET", "/rest/zdu/cluster", ADMIN_BASIC, NULL), 404);
	ck_assert_int_eq(call("GET", "/status", NULL, NULL), 404);
	ck_assert_int_eq(call("GET", "/bitbucket/status", NULL, NULL), 200);
	ck_assert_int_eq(call("GET", "/bitbucket/rest/zdu/cluster", ADMIN_BASIC, NULL),
	    200);
	ck_assert_ptr_nonnull(strstr(str(json_array_get(json_object_get(body, "links"),
	    0), "href"), "/bitbucket/rest/zdu/cluster"));
	ck_assert_int_eq(call("GET", "/bitbucketx/status", NULL, NULL), 404);
	ck_assert_int_eq(call("GET", "/_sim/health", NULL, NULL), 200);
}
END_TEST

/* ---- the admin views ---- */

START_TEST(admin_state)
{
	const json_t	*inst, *i0;

	ck_assert_int_eq(call("GET", "/_sim/state", NULL, NULL), 200);
	ck_assert_int_eq(json_integer_value(json_object_get(body, "time_ms")), T0);
	ck_assert_str_eq(str(json_object_get(body, "stack"), "status"),
	    "CREATE_COMPLETE");
	ck_assert_str_eq(str(json_object_get(json_object_get(body, "stack"),
	    "parameters"), "BitbucketVersion"), "7.9.0");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(
	    json_object_get(body, "asg"), "counts"), "InService")), 4);
	inst = json_object_get(body, "instances");
	ck_assert_int_eq(json_array_size(inst), 5);	/* and the FileServer */
	i0 = json_array_get(inst, 1);
	ck_assert_ptr_nonnull(str(i0, "ip"));
	ck_assert_str_eq(str(i0, "lifecycle"), "InService");
	ck_assert_str_eq(str(i0, "health"), "Healthy");
	ck_assert(json_is_boolean(json_object_get(i0, "protected")));
	ck_assert_str_eq(str(i0, "version"), "7.9.0");
	ck_assert_str_eq(str(json_object_get(i0, "elb"), "state"), "InService");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(body, "elb"),
	    "in_service")), 4);
	ck_assert_str_eq(str(json_object_get(body, "zdu"), "state"), "STABLE");
	ck_assert_ptr_nonnull(json_object_get(json_object_get(body, "traffic"),
	    "served"));
	ck_assert_int_eq(call("POST", "/_sim/state", NULL, "{}"), 405);
}
END_TEST

START_TEST(admin_history)
{
	json_t		*j;
	size_t		 lines = 0, n = sim.model->hist.n;
	char		*p, *nl, uri[64];

	ck_assert_int_eq(call("GET", "/_sim/history", NULL, NULL), 200);
	ck_assert_str_eq(header("Content-Type"), "application/x-ndjson");
	for (p = resp.body; (nl = memchr(p, '\n', resp.len - (size_t)(p - resp.body)))
	    != NULL; p = nl + 1) {
		j = json_loadb(p, (size_t)(nl - p), 0, NULL);
		ck_assert_ptr_nonnull(j);
		ck_assert_int_eq(json_integer_value(json_object_get(j, "i")), lines);
		ck_assert_ptr_nonnull(json_object_get(j, "kind"));
		json_decref(j);
		lines++;
	}
	ck_assert_uint_eq(lines, n);
	snprintf(uri, sizeof(uri), "/_sim/history?since=%zu", n - 1);
	ck_assert_int_eq(call("GET", uri, NULL, NULL), 200);
	ck_assert_int_eq(json_integer_value(json_object_get(body, "i")), n - 1);
	snprintf(uri, sizeof(uri), "%zu", n);
	ck_assert_str_eq(header("X-Next-Since"), uri);
	ck_assert_int_eq(call("GET", "/_sim/history?since=99999999", NULL, NULL), 200);
	ck_assert_uint_eq(resp.len, 0);
	ck_assert_int_eq(call("GET", "/_sim/history?since=x", NULL, NULL), 400);
	ck_assert_int_eq(call("GET", "/_sim/history?until=1", NULL, NULL), 400);
}
END_TEST

START_TEST(admin_report)
{
	const json_t	*inv, *cp, *calls;

	ck_assert_int_eq(call("GET", "/_sim/report", NULL, NULL), 200);
	inv = json_object_get(body, "invariants");
	ck_assert_int_eq(json_array_size(inv), 7);
	ck_assert_str_eq(str(json_array_get(inv, 0), "id"), "I1");
	ck_assert_str_eq(str(json_array_get(inv, 6), "id"), "I7");
	ck_assert(json_is_false(json_object_get(json_array_get(inv, 0), "judged")));
	ck_assert(json_is_null(json_object_get(body, "upgrade")));
	cp = json_object_get(body, "critical_path");
	ck_assert_int_gt(json_integer_value(json_object_get(cp, "total_ms")), 0);
	ck_assert_int_eq(json_integer_value(json_object_get(cp, "nodes")), 4);
	/* An upgrade begun, not finished: judged, not completed, no ratio. */
	call("POST", "/rest/zdu/start", ADMIN_BASIC, NULL);
	ck_assert_int_eq(call("GET", "/_sim/report", NULL, NULL), 200);
	ck_assert(json_is_false(json_object_get(json_object_get(body, "upgrade"),
	    "completed")));
	ck_assert(json_is_null(json_object_get(json_object_get(body, "upgrade"),
	    "ratio_to_bound")));
	ck_assert(json_is_false(json_object_get(body, "ok")));	/* I6: unfinished */
	calls = json_object_get(json_object_get(body, "api_calls"), "by_action");
	ck_assert_int_ge(json_array_size(calls), 1);
	ck_assert_str_eq(str(json_array_get(calls, 0), "service"), "bitbucket");
	ck_assert_ptr_nonnull(json_object_get(json_object_get(body, "requests"),
	    "failed_by_reason"));
}
END_TEST

START_TEST(admin_faults)
{
	const json_t	*model;
	char		 cut[128];

	ck_assert_int_eq(call("POST", "/_sim/faults", NULL,
	    "{\"model\": {\"node_error\": \"once\", \"stack_refuse\": \"random\","
	    " \"fault_p\": 0.25, \"finalize_fail\": true,"
	    " \"fault_version\": \"7.9.4\"}}"),
	    200);
	model = json_object_get(body, "model");
	ck_assert_str_eq(str(model, "node_error"), "once");
	ck_assert_str_eq(str(model, "stack_refuse"), "random");
	ck_assert_str_eq(str(model, "fault_version"), "7.9.4");
	ck_assert(json_is_array(json_object_get(body, "rules")));
	ck_assert_int_eq(sim.model->p.node_error, SIM_FAULT_ONCE);
	ck_assert(sim.model->p.fault_p == 0.25);
	/* All or nothing: one bad key and nothing changes. */
	ck_assert_int_eq(call("POST", "/_sim/faults", NULL, "{\"model\": {\"node_stuck\":"
	    " \"always\", \"node_error_p\": 2}}"), 400);
	ck_assert_int_eq(sim.model->p.node_stuck, SIM_FAULT_NEVER);
	ck_assert_int_eq(call("POST", "/_sim/faults", NULL,
	    "{\"model\": {\"bogus\": 1}}"), 400);
	ck_assert_int_eq(call("POST", "/_sim/faults", NULL,
	    "{\"model\": {\"node_error\": \"sometimes\"}}"), 400);
	ck_assert_int_eq(call("POST", "/_sim/faults", NULL,
	    "{\"rules\": [], \"other\": 1}"), 400);
	ck_assert_int_eq(call("POST", "/_sim/faults", NULL, "{\"rules\": [{\"service\":"
	    " \"sts\", \"error_rate\": 1}], \"model\": {\"launch_fail\": 3}}"), 400);
	ck_assert_uint_eq(sim.faults.n, 0);
	/* A node that stops answering fails its health checks. */
	snprintf(cut, sizeof(cut), "{\"model\": {\"unreachable\": {\"instance\": \"%s\","
	    " \"ms\": 20000}}}", sim.model->inst[1]->ip);
	ck_assert_int_eq(call("POST", "/_sim/faults", NULL, cut), 200);
	advance(3 * sim.model->p.health_interval);
	ck_assert_int_eq(call("GET", "/_sim/state", NULL, NULL), 200);
	ck_assert_int_eq(sim.model->inst[1]->elb.in_service, 0);
	ck_assert_str_eq(str(json_object_get(json_array_get(json_object_get(body,
	    "instances"), 1), "elb"), "state"), "OutOfService");
	ck_assert_int_eq(call("POST", "/_sim/faults", NULL,
	    "{\"model\": {\"unreachable\": {\"instance\": \"10.9.9.9\", \"ms\": 1}}}"),
	    400);
}
END_TEST

START_TEST(clock_speed)
{
	struct sim_clock	 c;
	int64_t			 a, b;

	ck_assert_int_eq(sim_clock_init(&c, 0), -1);
	ck_assert_int_eq(sim_clock_init(&c, -1), -1);
	ck_assert_int_eq(sim_clock_init(&c, 2000), -1);
	ck_assert_int_eq(sim_clock_init(&c, 100), 0);
	a = sim_clock_read(&c);
	usleep(20000);
	b = sim_clock_read(&c);
	ck_assert_int_ge(b - a, 1500);		/* 20 ms at 100x: 2 s */
	ck_assert_int_lt(b - a, 60000);
	sim_clock_manual(&c, 5);		/* never back */
	ck_assert_int_eq(sim_clock_read(&c), b);
	sim_clock_manual(&c, b + 10);
	ck_assert_int_eq(sim_clock_read(&c), b + 10);
}
END_TEST

Suite *
sim_bitbucket_suite(void)
{
	Suite	*s = suite_create("sim_bitbucket");
	TCase	*tc = tcase_create("bitbucket");
	TCase	*adm = tcase_create("admin");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, auth_matrix);
	tcase_add_test(tc, auth_configured);
	tcase_add_test(tc, cluster_shape);
	tcase_add_test(tc, state_and_node);
	tcase_add_test(tc, transitions);
	tcase_add_test(tc, offline_after_replacement);
	tcase_add_test(tc, status_through_the_elb);
	tcase_add_test(tc, context_path);
	tcase_add_test(tc, clock_speed);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(adm, setup, teardown);
	tcase_add_test(adm, admin_state);
	tcase_add_test(adm, admin_history);
	tcase_add_test(adm, admin_report);
	tcase_add_test(adm, admin_faults);
	suite_add_tcase(s, adm);
	return s;
}
