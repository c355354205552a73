/*
 * Bitbucket Data Center's side of bbsim: the rolling-upgrade API under
 * <context>/rest/zdu and the health endpoint <context>/status, as
 * reference/bitbucket-zdu.md describes them, reached through the simulated Classic
 * ELB: the load balancer picks the node that answers (that node is "local"), says
 * 503 itself when it has none in service, and 504 when the node it picked has died
 * since its last health check. Each endpoint is one model call; this file only
 * checks who is asking and renders what the model returns.
 *
 * Authentication, on /rest/zdu only (/status needs none): HTTP Basic as the sysadmin
 * or as a licensed user who is not one (403), Bearer with the sysadmin's token or
 * with a token whose scope stops short of sysadmin endpoints (valid, yet 403:
 * BSERV-19635). Missing or wrong credentials: 401 with WWW-Authenticate. A 409 has
 * an empty body, as Bitbucket's does. Secrets are compared in constant time and
 * never logged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "sim/faults.h"
#include "sim/model.h"
#include "sim/server.h"
#include "sim/sim.h"

#define ZDU		"/rest/zdu/"
#define CRED_MAX	512	/* decoded Basic credentials */
#define NODES_MAX	256

enum who {
	WHO_NONE,		/* no Authorization */
	WHO_BAD,		/* wrong credentials, or a scheme not taken */
	WHO_SYSADMIN,
	WHO_USER,		/* licensed, not a sysadmin */
	WHO_SCOPED,		/* a token whose scope does not reach /rest/zdu */
};

enum op { OP_STATE, OP_CLUSTER, OP_NODE, OP_START, OP_CANCEL, OP_APPROVE, OP_RETRY };

static const struct {
	const char	*path;		/* under /rest/zdu/ */
	const char	*method;
	const char	*action;	/* as counted */
	enum op		 op;
} ops[] = {
	{ "state", "GET", "GET /rest/zdu/state", OP_STATE },
	{ "cluster", "GET", "GET /rest/zdu/cluster", OP_CLUSTER },
	{ "nodes/", "GET", "GET /rest/zdu/nodes/{id}", OP_NODE },
	{ "start", "POST", "POST /rest/zdu/start", OP_START },
	{ "cancel", "POST", "POST /rest/zdu/cancel", OP_CANCEL },
	{ "approve", "POST", "POST /rest/zdu/approve", OP_APPROVE },
	{ "retryUpgrade", "POST", "POST /rest/zdu/retryUpgrade", OP_RETRY },
};

/* ---- answers ---- */

/* Bitbucket's error shape: {"errors": [{"context", "message", "exceptionName"}]}. */
static void
answer_error(struct sim_resp *resp, int status, const char *message,
    const char *exception)
{
	sim_resp_json(resp, status, json_pack("{s[{sn ss ss}]}", "errors", "context",
	    "message", message, "exceptionName", exception));
}

static void
unauthorized(struct sim_resp *resp, enum who who)
{
	if (who == WHO_NONE)
		answer_error(resp, 401, "You are not permitted to access this resource",
		    "com.atlassian.bitbucket.AuthorisationException");
	else
		answer_error(resp, 401, "Authentication failed. Please check your "
		    "credentials and try again.", "com.atlassian.bitbucket.auth."
		    "IncorrectPasswordAuthenticationException");
	sim_resp_header(resp, "WWW-Authenticate", "Basic realm=\"Atlassian Bitbucket\"");
}

static void
forbidden(struct sim_resp *resp)
{
	answer_error(resp, 403, "You are not permitted to access this resource",
	    "com.atlassian.bitbucket.AuthorisationException");
}

/* ---- who is asking ---- */

static int
b64(int c)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c != '\0' ? strchr(alphabet, c) : NULL;

	return p != NULL ? (int)(p - alphabet) : -1;
}

/* Standard base64 with its padding; -1 if malformed or longer than max - 1. */
static int
b64_decode(const char *in, char *out, size_t max)
{
	size_t	 len = strlen(in), n = 0, i;
	int	 v[4], k;

	if (len == 0 || len % 4 != 0 || len / 4 * 3 >= max)
		return -1;
	for (i = 0; i < len; i += 4) {
		for (k = 0; k < 4; k++)
			v[k] = b64(in[i + k]);
		if (v[0] < 0 || v[1] < 0 || (v[2] < 0 && (in[i + 2] != '=' ||
		    in[i + 3] != '=')) || (v[3] < 0 && in[i + 3] != '=') ||
		    (in[i + 3] == '=' && i + 4 != len))
			return -1;
		out[n++] = (char)(v[0] << 2 | v[1] >> 4);
		if (v[2] >= 0)
			out[n++] = (char)((v[1] & 15) << 4 | v[2] >> 2);
		if (v[3] >= 0)
			out[n++] = (char)((v[2] & 3) << 6 | v[3]);
	}
	out[n] = '\0';
	return (int)n;
}

/* Whether given (n bytes) is want, in a time independent of where they differ. */
static int
secret_eq(const char *given, size_t n, const char *want)
{
	size_t		 m = strlen(want), i;
	unsigned char	 d = n != m;

	for (i = 0; i < n && m > 0; i++)
		d |= (unsigned char)(given[i] ^ want[i % m]);
	return d == 0;
}

static enum who
basic(const struct sim *sim, const char *b64text)
{
	char		 cred[CRED_MAX];
	const char	*colon;
	size_t		 ulen;
	int		 n;
	enum who	 who = WHO_BAD;

	if ((n = b64_decode(b64text, cred, sizeof(cred))) == -1 ||
	    memchr(cred, '\0', (size_t)n) != NULL || (colon = strchr(cred, ':')) == NULL)
		return WHO_BAD;
	ulen = (size_t)(colon - cred);
	if (secret_eq(cred, ulen, sim->opt.bb_user) &&
	    secret_eq(colon + 1, strlen(colon + 1), sim->opt.bb_password))
		who = WHO_SYSADMIN;
	else if (secret_eq(cred, ulen, SIM_BB_PLAIN_USER) &&
	    secret_eq(colon + 1, strlen(colon + 1), SIM_BB_PLAIN_PASSWORD))
		who = WHO_USER;
	explicit_bzero(cred, sizeof(cred));
	return who;
}

static enum who
authenticate(const struct sim *sim, const struct sim_req *req)
{
	const char	*h = sim_req_header(req, "Authorization");

	if (h == NULL)
		return WHO_NONE;
	if (strncasecmp(h, "Basic ", 6) == 0)
		return basic(sim, h + 6 + strspn(h + 6, " "));
	if (strncasecmp(h, "Bearer ", 7) != 0)
		return WHO_BAD;
	h += 7 + strspn(h + 7, " ");
	if (secret_eq(h, strlen(h), sim->opt.bb_token))
		return WHO_SYSADMIN;
	if (secret_eq(h, strlen(h), sim->opt.bb_scoped_token))
		return WHO_SCOPED;
	return WHO_BAD;
}

/* 0 if the caller may use /rest/zdu; else -1 with the refusal answered and counted. */
static int
authorise(struct sim *sim, const struct sim_req *req, struct sim_resp *resp)
{
	enum who	 who = authenticate(sim, req);

	switch (who) {
	case WHO_SYSADMIN:
		return 0;
	case WHO_USER:
	case WHO_SCOPED:
		forbidden(resp);
		sim_count(sim, "auth_failures", "bitbucket", "403");
		return -1;
	default:
		unauthorized(resp, who);
		sim_count(sim, "auth_failures", "bitbucket", "401");
		return -1;
	}
}

/* ---- JSON ---- */

static void
base_url(const struct sim *sim, char *buf, size_t len)
{
	snprintf(buf, len, "http://127.0.0.1:%u%s", (unsigned)sim_server_port(),
	    sim->context);
}

static json_t *
zdu_link(const struct sim *sim, const char *rel, const char *what)
{
	char	 base[128], href[256];

	base_url(sim, base, sizeof(base));
	snprintf(href, sizeof(href), "%s/rest/zdu/%s", base, what);
	return json_pack("{ss ss}", "rel", rel, "href", href);
}

static json_t *
count_or_null(const struct sim_node_view *v, int n)
{
	return v->has_counts ? json_integer(n) : json_null();
}

/* NodeInfo; a snapshotted node that has left has only id, name, address, OFFLINE. */
static json_t *
node_json(const struct sim *sim, const struct sim_node_view *v,
    const struct sim_instance *local)
{
	char	 self[64];

	if (v->inst == NULL)
		return json_pack("{ss ss ss ss}", "id", v->id, "name", v->name,
		    "ipAddress", v->ip, "state", v->state);
	snprintf(self, sizeof(self), "nodes/%s", v->id);
	return json_pack("{ss ss ss ss? ss? ss? so so sb si s[o]}", "id", v->id,
	    "name", v->name, "ipAddress", v->ip, "state", v->state, "version",
	    v->version, "buildNumber", v->build[0] != '\0' ? v->build : NULL,
	    "tasksTotal", count_or_null(v, v->tasks), "activeUserCount",
	    count_or_null(v, v->users), "local", v->inst == local, "portNumber",
	    v->port, "links", zdu_link(sim, "self", self));
}

/* Every node, sorted as Bitbucket sorts them; *n is their count. Free the result. */
static struct sim_node_view *
views(struct sim *sim, size_t *n)
{
	struct sim_node_view	*v;

	*n = sim_zdu_nodes(sim->model, sim->now, NULL, 0);
	if ((v = calloc(*n + 1, sizeof(*v))) == NULL)
		return NULL;
	*n = sim_zdu_nodes(sim->model, sim->now, v, *n);
	return v;
}

static json_t *
cluster_links(const struct sim *sim, enum sim_zdu_state s)
{
	static const char *const next[] = {
		[SIM_ZDU_STABLE] = "start",
		[SIM_ZDU_READY_TO_UPGRADE] = "cancel",
		[SIM_ZDU_READY_TO_RUN_UPGRADE_TASKS] = "approve",
		[SIM_ZDU_UPGRADE_TASKS_FAILED] = "retryUpgrade",
		[SIM_ZDU_MIXED] = NULL,
		[SIM_ZDU_RUNNING_UPGRADE_TASKS] = NULL,
	};
	json_t	*a = json_pack("[o]", zdu_link(sim, "self", "cluster"));

	if (a != NULL && (size_t)s < sizeof(next) / sizeof(next[0]) && next[s] != NULL)
		json_array_append_new(a, zdu_link(sim, next[s], next[s]));
	return a;
}

json_t *
sim_bitbucket_cluster_json(struct sim *sim, const struct sim_instance *local)
{
	const struct sim_model	*m = sim->model;
	enum sim_zdu_state	 s = sim_zdu_state(m);
	struct sim_node_view	*v;
	json_t			*nodes = json_array();
	size_t			 n, i;

	if (nodes == NULL || (v = views(sim, &n)) == NULL) {
		json_decref(nodes);
		return NULL;
	}
	for (i = 0; i < n; i++)
		json_array_append_new(nodes, node_json(sim, &v[i], local));
	free(v);
	return json_pack("{sb ss ss? sb so so}", "upgradeModeEnabled",
	    m->zdu.upgrade_mode, "state", sim_zdu_state_name(s), "originalVersion",
	    m->zdu.original_version[0] != '\0' ? m->zdu.original_version : NULL,
	    "hasFinalizationTasks", m->p.finalize > 0 || m->p.finalize_fail,
	    "nodes", nodes, "links", cluster_links(sim, s));
}

/* ---- endpoints ---- */

/* GET /rest/zdu/nodes/{id} (id NULL: the answering node's, for /state). */
static json_t *
find_node(struct sim *sim, const char *id, const struct sim_instance *local)
{
	struct sim_node_view	*v;
	json_t			*j = NULL;
	size_t			 n, i;

	if ((v = views(sim, &n)) == NULL)
		return NULL;
	for (i = 0; i < n && j == NULL; i++)
		if (id != NULL ? strcmp(v[i].id, id) == 0 : v[i].inst == local)
			j = node_json(sim, &v[i], local);
	free(v);
	return j;
}

static void
transition(struct sim *sim, enum op op, const struct sim_instance *local,
    struct sim_resp *resp)
{
	struct sim_model	*m = sim->model;
	struct sim_err		 e;
	int			 rc;

	memset(&e, 0, sizeof(e));
	if (op == OP_START)
		rc = sim_zdu_start(m, sim->now, &e);
	else if (op == OP_CANCEL)
		rc = sim_zdu_cancel(m, sim->now, &e);
	else if (op == OP_APPROVE)
		rc = sim_zdu_approve(m, sim->now, &e);
	else
		rc = sim_zdu_retry(m, sim->now, &e);
	if (rc == 0)
		sim_resp_json(resp, 200, sim_bitbucket_cluster_json(sim, local));
	else if (e.status == 409)
		sim_resp_text(resp, 409, NULL, "");	/* Bitbucket's: no body at all */
	else
		answer_error(resp, e.status != 0 ? e.status : 500, e.message,
		    "com.atlassian.bitbucket.ServiceException");
}

static void
zdu(struct sim *sim, enum op op, const char *rest, const struct sim_instance *local,
    struct sim_resp *resp)
{
	const struct sim_model	*m = sim->model;
	json_t			*j;

	switch (op) {
	case OP_STATE:
		if ((j = find_node(sim, NULL, local)) == NULL)
			answer_error(resp, 500, "No local node",
			    "java.lang.IllegalStateException");
		else
			sim_resp_json(resp, 200, json_pack("{ss so}", "state",
			    sim_zdu_state_name(sim_zdu_state(m)), "buildInfo", j));
		break;
	case OP_CLUSTER:
		sim_resp_json(resp, 200, sim_bitbucket_cluster_json(sim, local));
		break;
	case OP_NODE:
		if (*rest == '\0' || strchr(rest, '/') != NULL ||
		    (j = find_node(sim, rest, local)) == NULL)
			answer_error(resp, 404, "No node with that id is in the cluster",
			    "com.atlassian.bitbucket.NoSuchEntityException");
		else
			sim_resp_json(resp, 200, j);
		break;
	default:
		transition(sim, op, local, resp);
		break;
	}
}

/*
 * What the load balancer does with a request: NULL with 503 when it has no node in
 * service, NULL with 504 when the node it chose does not answer; else that node.
 */
static struct sim_instance *
balance(struct sim *sim, struct sim_resp *resp)
{
	struct sim_instance	*in = sim_elb_pick(sim->model);

	if (in == NULL)
		sim_resp_text(resp, 503, NULL, "");
	else if (!(in->state == SIM_EC2_RUNNING && in->node.state == SIM_NODE_ACTIVE &&
	    sim->now >= in->node.unreachable_until)) {
		sim_resp_text(resp, 504, NULL, "");
		in = NULL;
	}
	return in;
}

static void
count(struct sim *sim, const char *action)
{
	struct sim_err	 e;

	sim_count(sim, "api_calls", "bitbucket", action);
	(void)sim_api_call(sim->model, SIM_SVC_BITBUCKET, action, sim->now, &e);
}

/* GET /status through the load balancer: the node's answer, or the ELB's 503. */
static void
status(struct sim *sim, const struct sim_req *req, struct sim_resp *resp)
{
	struct sim_instance	*in;
	const char		*state;
	int			 http;

	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
		answer_error(resp, 405, "Method not allowed", "MethodNotAllowed");
		sim_resp_header(resp, "Allow", "GET, HEAD");
		return;
	}
	count(sim, "GET /status");
	if ((in = sim_elb_pick(sim->model)) == NULL)
		sim_resp_text(resp, 503, NULL, "");
	else if (sim_node_status(sim->model, in, sim->now, &http, &state) == -1)
		sim_resp_text(resp, 504, NULL, "");
	else
		sim_resp_json(resp, http, json_pack("{ss}", "state", state));
}

/* The endpoint of a path: an index in ops[] (NOPS: none, or /status). */
#define NOPS	(sizeof(ops) / sizeof(ops[0]))

static size_t
endpoint(const char *path)
{
	const char	*rest;
	size_t		 i, n;

	if (strncmp(path, ZDU, strlen(ZDU)) != 0)
		return NOPS;
	rest = path + strlen(ZDU);
	for (i = 0; i < NOPS; i++) {
		n = strlen(ops[i].path);
		if (ops[i].op == OP_NODE ? strncmp(rest, ops[i].path, n) == 0 :
		    strcmp(rest, ops[i].path) == 0)
			break;
	}
	return i;
}

static void
dispatch(struct sim *sim, const struct sim_req *req, const char *path, size_t i,
    struct sim_resp *resp)
{
	struct sim_instance	*local;

	if (strcmp(path, "/status") == 0) {
		status(sim, req, resp);
		return;
	}
	count(sim, i < NOPS ? ops[i].action : "(unknown)");
	if ((local = balance(sim, resp)) == NULL)
		return;
	if (i == NOPS)
		answer_error(resp, 404, "Not found",
		    "com.sun.jersey.api.NotFoundException");
	else if (strcmp(req->method, ops[i].method) != 0) {
		answer_error(resp, 405, "Method not allowed", "MethodNotAllowed");
		sim_resp_header(resp, "Allow", ops[i].method);
	} else if (authorise(sim, req, resp) == 0)
		zdu(sim, ops[i].op, path + strlen(ZDU) + strlen(ops[i].path), local,
		    resp);
}

/*
 * The fault rules (faults.h) name an endpoint as "status" or its path under /rest/zdu
 * ("cluster", "nodes", "start"...). A fault before the endpoint runs leaves it
 * undone, and only /_sim/counters tallies the call, as the AWS front door does.
 */
void
sim_bitbucket_handle(struct sim *sim, const struct sim_req *req, const char *path,
    struct sim_resp *resp)
{
	struct sim_fault_hit	 hit;
	size_t			 i = endpoint(path);
	char			 name[32] = "";

	if (sim->model == NULL) {
		sim_resp_text(resp, 503, NULL, "");
		return;
	}
	if (i < NOPS)
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(ops[i].path, "/"),
		    ops[i].path);
	else if (strcmp(path, "/status") == 0)
		snprintf(name, sizeof(name), "status");
	memset(&hit, 0, sizeof(hit));
	if (*name != '\0')
		sim_faults_draw(sim, "bitbucket", name, resp, &hit);
	if (hit.fire && hit.when == SIM_FAULT_BEFORE) {
		sim_count(sim, "api_calls", "bitbucket", i < NOPS ? ops[i].action :
		    "GET /status");
		sim_faults_strike_http(&hit, resp, "bitbucket", name, 0);
		return;
	}
	dispatch(sim, req, path, i, resp);
	if (hit.fire)
		sim_faults_strike_http(&hit, resp, "bitbucket", name,
		    resp->status / 100 == 2);
	log_debug("bitbucket: %s %s -> %d", req->method, path, resp->status);
}

const char *
sim_bitbucket_path(const struct sim *sim, const char *path)
{
	size_t	 n = strlen(sim->context);

	if (strncmp(path, sim->context, n) != 0)
		return NULL;
	path += n;
	if (strncmp(path, ZDU, strlen(ZDU)) == 0 || strcmp(path, "/status") == 0)
		return path;
	return NULL;
}
