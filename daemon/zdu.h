/*
 * Bitbucket's rolling-upgrade (ZDU) REST API: the types of its answers and their
 * parsing (see reference: /rest/zdu/cluster, /rest/zdu/state, /status). Parsing is
 * tolerant where Bitbucket is loose (nulls while a node is unreachable, absent optional
 * fields) and strict where a wrong guess would be dangerous (unknown cluster states are
 * reported as such, never mapped to a known one).
 */
#ifndef BB_ZDU_H
#define BB_ZDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum zdu_cluster_state {
	ZDU_STABLE,
	ZDU_READY_TO_UPGRADE,
	ZDU_MIXED,
	ZDU_READY_TO_RUN_UPGRADE_TASKS,
	ZDU_RUNNING_UPGRADE_TASKS,
	ZDU_UPGRADE_TASKS_FAILED,
	ZDU_CLUSTER_UNKNOWN,		/* a state this daemon does not know */
};

enum zdu_node_state {
	ZDU_NODE_UNREACHABLE,		/* "state": null */
	ZDU_NODE_STARTING,
	ZDU_NODE_ACTIVE,
	ZDU_NODE_DRAINING,
	ZDU_NODE_TERMINATING,
	ZDU_NODE_OFFLINE,
	ZDU_NODE_ERROR,
	ZDU_NODE_UNKNOWN,
};

#define ZDU_NULL	(-1)		/* an integer field that was null or absent */

struct zdu_node {
	char			 id[64];
	char			 name[128];
	char			 ip[64];	/* the key to the EC2 instance */
	enum zdu_node_state	 state;
	char			 version[32];	/* "" while unreachable */
	int64_t			 tasks_total;	/* or ZDU_NULL */
	int64_t			 active_users;	/* or ZDU_NULL */
	bool			 local;
};

struct zdu_cluster {
	bool			 upgrade_mode;
	enum zdu_cluster_state	 state;
	char			 state_name[40];	/* as received, for messages */
	char			 original_version[32];	/* "" if null or absent */
	struct zdu_node		*nodes;
	size_t			 nnodes;
};

/* GET /state: the cluster state and the node that answered (any node, behind the LB). */
struct zdu_state {
	enum zdu_cluster_state	 state;
	char			 state_name[40];	/* as received, for messages */
	struct zdu_node		 node;		/* buildInfo, if has_node */
	bool			 has_node;
};

/* Health of one node or of the load balancer's answer: GET /status. */
enum zdu_health {
	ZDU_HEALTH_RUNNING,		/* 200 {"state":"RUNNING"}: the only healthy answer */
	ZDU_HEALTH_STARTING,
	ZDU_HEALTH_OTHER,		/* FIRST_RUN, MAINTENANCE, ... */
	ZDU_HEALTH_DOWN,		/* no usable answer */
};

/* Parses a Cluster object (GET /cluster, POST /start|/cancel|/approve). -1 with err. */
int	zdu_parse_cluster(const char *body, size_t len, struct zdu_cluster *,
	    char *err, size_t errlen);
void	zdu_cluster_free(struct zdu_cluster *);
/* Parses a NodeInfo (GET /nodes/{id}) and a ClusterStateResponse (GET /state). */
int	zdu_parse_node(const char *body, size_t len, struct zdu_node *,
	    char *err, size_t errlen);
int	zdu_parse_state(const char *body, size_t len, struct zdu_state *,
	    char *err, size_t errlen);
enum zdu_health zdu_parse_health(int http_status, const char *body, size_t len);

const char *zdu_cluster_state_name(enum zdu_cluster_state);
const char *zdu_node_state_name(enum zdu_node_state);
/* The node with that IP among the live (not OFFLINE) nodes, or NULL. */
const struct zdu_node *zdu_node_by_ip(const struct zdu_cluster *, const char *ip);

#endif
