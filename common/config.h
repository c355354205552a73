/*
 * The configuration file (INI, libinih): one [daemon] section and one
 * [deployment NAME] section per Bitbucket cluster. See bbupgraded.conf(5).
 * Loading never half-succeeds: on any error nothing is returned but the message.
 */
#ifndef BB_CONFIG_H
#define BB_CONFIG_H

#include <stddef.h>

#include "common/aws_services.h"

#define CONFIG_DEFAULT_PATH	"/etc/bbupgraded/bbupgraded.conf"

enum on_failure {
	ON_FAILURE_HALT,	/* "halt": stop safely and explain (default) */
	ON_FAILURE_RETRY,	/* "retry": replace a failed node once more, then halt */
	ON_FAILURE_ROLLBACK,	/* "rollback": roll back automatically */
};

enum order {
	ORDER_EFFICIENT,	/* "efficient": replace all but the last k, retire those (default) */
	ORDER_LITERAL,		/* "literal": the seed's order: replace all N, then remove k */
};

struct deployment {
	char		*name;			/* from [deployment NAME] */
	int		 line;			/* line of its section header */
	char		*region;		/* required, e.g. "eu-west-1" */
	char		*stack;			/* required: CloudFormation stack name */
	char		*bitbucket_url;		/* required: http(s)://host[:port][/context] */
	char		*bitbucket_user;	/* with password_file only */
	char		*token_file;		/* Bearer token; exclusive with password_file */
	char		*password_file;		/* Basic auth password */
	int		 surge;			/* extra nodes during the upgrade, 1..16; default 1 */
	enum on_failure	 on_failure;
	enum order	 order;
	char		*aws_profile;		/* NULL: the standard chain */
	char		*endpoint_url;		/* NULL or an override for every service */
	char		*endpoint[AWS_SERVICE_COUNT];	/* per-service overrides, NULL if none */
};

struct config {
	char		*path;
	/* [daemon] */
	char		*socket_path;		/* default /run/bbupgraded/control.sock */
	char		*state_dir;		/* default /var/lib/bbupgraded */
	int		 log_level;		/* LOG_ERR..LOG_DEBUG (syslog.h); default LOG_INFO */
	char		*control_group;		/* group allowed to mutate; NULL: root only */
	int		 max_clients;		/* default 64, 1..1024 */
	/* Durations in milliseconds. */
	int		 client_timeout_ms;	/* an idle client may stay; default 60 s */
	int		 poll_interval_ms;	/* between observations; default 10 s */
	int		 stack_timeout_ms;	/* one stack change; default 1 h */
	int		 node_timeout_ms;	/* one node to be replaced; default 30 min */
	struct deployment *deployments;
	size_t		 ndeployments;
};

/*
 * Loads and validates path into *cfg (zeroed first). Returns 0, or -1 with err holding
 * one line "FILE:LINE: [SECTION] KEY: problem; allowed: ...".
 */
int	 config_load(const char *path, struct config *cfg, char *err, size_t errlen);
void	 config_free(struct config *);
const struct deployment *config_deployment(const struct config *, const char *name);

#endif
