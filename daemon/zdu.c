/*
 * Parsing of Bitbucket's ZDU answers (see zdu.h). Input is from the network: every
 * field is checked for its type, strings are bounded, and a body that does not have the
 * shape of a Cluster is an error, never a half-filled struct.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "daemon/zdu.h"

#define ZDU_MAX_NODES	1024

static const char *cluster_states[] = {
	[ZDU_STABLE] = "STABLE",
	[ZDU_READY_TO_UPGRADE] = "READY_TO_UPGRADE",
	[ZDU_MIXED] = "MIXED",
	[ZDU_READY_TO_RUN_UPGRADE_TASKS] = "READY_TO_RUN_UPGRADE_TASKS",
	[ZDU_RUNNING_UPGRADE_TASKS] = "RUNNING_UPGRADE_TASKS",
	[ZDU_UPGRADE_TASKS_FAILED] = "UPGRADE_TASKS_FAILED",
	[ZDU_CLUSTER_UNKNOWN] = "UNKNOWN",
};

static const char *node_states[] = {
	[ZDU_NODE_UNREACHABLE] = "UNREACHABLE",
	[ZDU_NODE_STARTING] = "STARTING",
	[ZDU_NODE_ACTIVE] = "ACTIVE",
	[ZDU_NODE_DRAINING] = "DRAINING",
	[ZDU_NODE_TERMINATING] = "TERMINATING",
	[ZDU_NODE_OFFLINE] = "OFFLINE",
	[ZDU_NODE_ERROR] = "ERROR",
	[ZDU_NODE_UNKNOWN] = "UNKNOWN",
};

const char *
zdu_cluster_state_name(enum zdu_cluster_state s)
{
	return cluster_states[s];
}

const char *
zdu_node_state_name(enum zdu_node_state s)
{
	return node_states[s];
}

static int
lookup(const char *const *names, int n, const char *s, int unknown)
{
	for (int i = 0; i < n; i++)
		if (names[i] != NULL && i != unknown && strcmp(names[i], s) == 0)
			return i;
	return unknown;
}

/* A string field into a bounded buffer: absent or null gives "", too long is an error. */
static int
get_str(json_t *obj, const char *key, char *dst, size_t len, char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, key);

	dst[0] = '\0';
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) >= len) {
		snprintf(err, errlen, "field \"%s\" is not a string of at most %zu bytes",
		    key, len - 1);
		return -1;
	}
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int
get_int(json_t *obj, const char *key, int64_t *out, char *err, size_t errlen)
{
	json_t *v = json_object_get(obj, key);

	*out = ZDU_NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		snprintf(err, errlen, "field \"%s\" is not a non-negative integer", key);
		return -1;
	}
	*out = json_integer_value(v);
	return 0;
}

static int
parse_node(json_t *j, struct zdu_node *n, char *err, size_t errlen)
{
	char state[32];

	memset(n, 0, sizeof(*n));
	if (!json_is_object(j)) {
		snprintf(err, errlen, "a node is not an object");
		return -1;
	}
	if (get_str(j, "id", n->id, sizeof(n->id), err, errlen) == -1 ||
	    get_str(j, "name", n->name, sizeof(n->name), err, errlen) == -1 ||
	    get_str(j, "ipAddress", n->ip, sizeof(n->ip), err, errlen) == -1 ||
	    get_str(j, "version", n->version, sizeof(n->version), err, errlen) == -1 ||
	    get_str(j, "state", state, sizeof(state), err, errlen) == -1 ||
	    get_int(j, "tasksTotal", &n->tasks_total, err, errlen) == -1 ||
	    get_int(j, "activeUserCount", &n->active_users, err, errlen) == -1)
		return -1;
	if (n->ip[0] == '\0') {
		snprintf(err, errlen, "node \"%s\" has no ipAddress", n->id);
		return -1;
	}
	n->state = state[0] == '\0' ? ZDU_NODE_UNREACHABLE :
	    (enum zdu_node_state)lookup(node_states, ZDU_NODE_UNKNOWN + 1, state,
	    ZDU_NODE_UNKNOWN);
	n->local = json_is_true(json_object_get(j, "local"));
	return 0;
}

static int
parse_nodes(json_t *arr, struct zdu_cluster *c, char *err, size_t errlen)
{
	size_t i;
	json_t *v;

	if (!json_is_array(arr)) {
		snprintf(err, errlen, "\"nodes\" is not an array");
		return -1;
	}
	if (json_array_size(arr) > ZDU_MAX_NODES) {
		snprintf(err, errlen, "more than %d nodes", ZDU_MAX_NODES);
		return -1;
	}
	c->nodes = calloc(json_array_size(arr) + 1, sizeof(*c->nodes));
	if (c->nodes == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	json_array_foreach(arr, i, v) {
		if (parse_node(v, &c->nodes[i], err, errlen) == -1)
			return -1;
		c->nnodes++;
	}
	return 0;
}

int
zdu_parse_cluster(const char *body, size_t len, struct zdu_cluster *c,
    char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *j, *mode;
	int rc = -1;

	memset(c, 0, sizeof(*c));
	if ((j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		snprintf(err, errlen, "not JSON: %s", jerr.text);
		return -1;
	}
	mode = json_object_get(j, "upgradeModeEnabled");
	if (!json_is_object(j) || !json_is_boolean(mode)) {
		snprintf(err, errlen, "not a ZDU cluster (no boolean upgradeModeEnabled)");
		goto out;
	}
	c->upgrade_mode = json_is_true(mode);
	if (get_str(j, "state", c->state_name, sizeof(c->state_name), err, errlen) == -1 ||
	    get_str(j, "originalVersion", c->original_version,
	    sizeof(c->original_version), err, errlen) == -1 ||
	    parse_nodes(json_object_get(j, "nodes"), c, err, errlen) == -1)
		goto out;
	c->state = (enum zdu_cluster_state)lookup(cluster_states, ZDU_CLUSTER_UNKNOWN + 1,
	    c->state_name, ZDU_CLUSTER_UNKNOWN);
	rc = 0;
out:
	json_decref(j);
	if (rc == -1)
		zdu_cluster_free(c);
	return rc;
}

static json_t *
load(const char *body, size_t len, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *j;

	if ((j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL)
		snprintf(err, errlen, "not JSON: %s", jerr.text);
	return j;
}

int
zdu_parse_node(const char *body, size_t len, struct zdu_node *n, char *err,
    size_t errlen)
{
	json_t *j;
	int rc;

	memset(n, 0, sizeof(*n));
	if ((j = load(body, len, err, errlen)) == NULL)
		return -1;
	rc = parse_node(j, n, err, errlen);
	json_decref(j);
	if (rc == -1)
		memset(n, 0, sizeof(*n));
	return rc;
}

/* buildInfo is optional: a node without a local node answers 500, not a null. */
int
zdu_parse_state(const char *body, size_t len, struct zdu_state *s, char *err,
    size_t errlen)
{
	json_t *j, *b;
	int rc = -1;

	memset(s, 0, sizeof(*s));
	if ((j = load(body, len, err, errlen)) == NULL)
		return -1;
	if (!json_is_object(j) || !json_is_string(json_object_get(j, "state"))) {
		snprintf(err, errlen, "not a ZDU state (no string \"state\")");
		goto out;
	}
	if (get_str(j, "state", s->state_name, sizeof(s->state_name), err, errlen) == -1)
		goto out;
	s->state = (enum zdu_cluster_state)lookup(cluster_states, ZDU_CLUSTER_UNKNOWN + 1,
	    s->state_name, ZDU_CLUSTER_UNKNOWN);
	b = json_object_get(j, "buildInfo");
	if (b != NULL && !json_is_null(b)) {
		if (parse_node(b, &s->node, err, errlen) == -1)
			goto out;
		s->has_node = true;
	}
	rc = 0;
out:
	json_decref(j);
	if (rc == -1)
		memset(s, 0, sizeof(*s));
	return rc;
}

void
zdu_cluster_free(struct zdu_cluster *c)
{
	free(c->nodes);
	c->nodes = NULL;
	c->nnodes = 0;
}

enum zdu_health
zdu_parse_health(int http_status, const char *body, size_t len)
{
	const char *s;
	json_t *j;
	enum zdu_health h = ZDU_HEALTH_DOWN;

	if (body == NULL || (j = json_loadb(body, len, 0, NULL)) == NULL)
		return ZDU_HEALTH_DOWN;
	if ((s = json_string_value(json_object_get(j, "state"))) != NULL) {
		if (strcmp(s, "RUNNING") == 0)
			h = http_status == 200 ? ZDU_HEALTH_RUNNING : ZDU_HEALTH_DOWN;
		else if (strcmp(s, "STARTING") == 0)
			h = ZDU_HEALTH_STARTING;
		else
			h = ZDU_HEALTH_OTHER;
	}
	json_decref(j);
	return h;
}

const struct zdu_node *
zdu_node_by_ip(const struct zdu_cluster *c, const char *ip)
{
	for (size_t i = 0; i < c->nnodes; i++)
		if (c->nodes[i].state != ZDU_NODE_OFFLINE && strcmp(c->nodes[i].ip, ip) == 0)
			return &c->nodes[i];
	return NULL;
}
