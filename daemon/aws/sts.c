/* STS GetCallerIdentity (see sts.h). */
#include <stdlib.h>
#include <string.h>

#include "daemon/aws/sts.h"

int
aws_sts_get_caller_identity_query(struct aws_query *q)
{
	if (aws_query_init(q, AWS_STS, "GetCallerIdentity") == -1)
		return -1;
	return aws_built(q);
}

int
aws_sts_parse_get_caller_identity(const xmlNode *result,
    struct aws_sts_identity *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	return aws_get_str(result, "Account", AWS_REQ, out->account,
	    sizeof(out->account), err, errlen) == -1 ||
	    aws_get_str(result, "Arn", AWS_REQ, out->arn, sizeof(out->arn), err,
	    errlen) == -1 ||
	    aws_get_str(result, "UserId", AWS_REQ, out->user_id,
	    sizeof(out->user_id), err, errlen) == -1 ? -1 : 0;
}

AWS_OP_TYPED(identity, struct aws_sts_identity, aws_sts_identity_cb,
    aws_sts_parse_get_caller_identity, aws_no_release)

struct aws_op *
aws_sts_get_caller_identity(struct aws_client *client, aws_sts_identity_cb cb,
    void *arg)
{
	struct aws_query	 q;
	int			 built;

	built = aws_sts_get_caller_identity_query(&q);
	return identity_run(client, &q, built, cb, arg);
}
