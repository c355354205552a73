/*
 * STS GetCallerIdentity (API 2011-06-15): who the daemon's credentials are, for
 * preflight (they work, and which account and role they name) and for the
 * operator's report. Needs no permission: it cannot be denied by a policy.
 */
#ifndef BB_AWS_STS_H
#define BB_AWS_STS_H

#include <stddef.h>

#include "daemon/aws/client.h"
#include "daemon/aws/parse_util.h"

struct aws_sts_identity {
	char	 account[AWS_ID_MAX + 1];	/* 12 digits */
	char	 arn[AWS_ARN_MAX + 1];
	char	 user_id[AWS_NAME_MAX + 1];
};

int	aws_sts_get_caller_identity_query(struct aws_query *q);
int	aws_sts_parse_get_caller_identity(const xmlNode *result,
	    struct aws_sts_identity *out, char *err, size_t errlen);
typedef void	(*aws_sts_identity_cb)(const struct aws_result *,
		    const struct aws_sts_identity *, void *arg);
struct aws_op	*aws_sts_get_caller_identity(struct aws_client *, aws_sts_identity_cb,
		    void *arg);

#endif
