/*
 * STS, the one operation clients use to ask "who am I": GetCallerIdentity. It is how
 * the daemon's preflight and the aws CLI check that credentials work, so its answer is
 * AWS's to the byte (element order Arn, UserId, Account, as real STS sends them).
 */
#include <stddef.h>

#include "sim/auth.h"
#include "sim/sim.h"
#include "sim/wire.h"

static int
get_caller_identity(struct sim_aws_call *c)
{
	struct sim_xml	 x;

	if (sim_call_params_done(c) == -1)
		return -1;
	sim_xml_init(&x, SIM_XML_QUERY_INDENT);
	sim_xml_query_begin(&x, "GetCallerIdentity", c->svc->ns, 1);
	sim_xml_text(&x, "Arn", c->who->arn);
	sim_xml_text(&x, "UserId", c->who->userid);
	sim_xml_text(&x, "Account", SIM_ACCOUNT_ID);
	sim_xml_query_end(&x, "GetCallerIdentity", c->reqid, 1);
	return sim_call_xml(c, &x);
}

static const struct sim_op sts_ops[] = {
	{ "GetCallerIdentity", get_caller_identity },
};

int
sim_sts_init(void)
{
	return sim_aws_register("sts", "2011-06-15", sts_ops,
	    sizeof(sts_ops) / sizeof(sts_ops[0]));
}
