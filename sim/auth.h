/*
 * The AWS front door of bbsim: who may call (long-term and temporary credentials),
 * whether a request is authentic (SigV4, through common/sigv4.h, with AWS's own answers
 * to every failure), which operation it names (the credential scope's service, then
 * Action and Version, or X-Amz-Target for JSON 1.0); around each operation it
 * consults the fault rules (faults.h). Operations themselves live with their service
 * (sts.c, the model).
 */
#ifndef BB_SIM_AUTH_H
#define BB_SIM_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "common/sigv4.h"
#include "sim/server.h"
#include "sim/wire.h"

struct sim;
struct sim_req;
struct sim_resp;

#define SIM_ACCOUNT_ID		"123456789012"
#define SIM_DEFAULT_AKID	"AKIDEXAMPLE"
#define SIM_DEFAULT_SECRET	"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SIM_DEFAULT_REGION	"us-east-1"
#define SIM_ROLE_NAME		"bbsim-bastion"
#define SIM_USER_NAME		"bbsim"

#define SIM_SECRET_MAX		128
#define SIM_TOKEN_LEN		356	/* session tokens: long, as AWS's are */
#define SIM_MAX_TEMP		64	/* temporary credentials remembered */
#define SIM_DEFAULT_LIFETIME	3600	/* seconds a temporary credential lives */

/* ---- credentials ---- */

struct sim_cred {
	char	 akid[SIGV4_AKID_MAX + 1];
	char	 secret[SIM_SECRET_MAX + 1];
	char	 token[SIM_TOKEN_LEN + 1];	/* "" for a long-term key */
	time_t	 issued;
	time_t	 expires;			/* 0: never */
	char	 arn[160];
	char	 userid[96];
};

struct sim_creds {
	struct sim_cred	 longterm;
	struct sim_cred	 temp[SIM_MAX_TEMP];	/* a ring: the oldest goes */
	size_t		 ntemp, next;
	uint64_t	 rng;
	int		 lifetime;		/* of the next temporary ones */
	char		 instance_id[24];	/* the bastion the role belongs to */
	char		 role_id[24];		/* AROA..., the role's unique id */
};

/* Long-term keys akid/secret (NULL: AWS's documentation example pair). 0 or -1. */
int	sim_creds_init(struct sim_creds *, uint64_t seed, const char *akid,
	    const char *secret);
const struct sim_cred *sim_creds_find(const struct sim_creds *, const char *akid);
/*
 * The temporary credentials the instance profile has now: the current ones, or new
 * ones when they are gone or within min(300 s, lifetime / 2) of their end (IMDS makes
 * the next credentials available five minutes ahead).
 */
const struct sim_cred *sim_creds_current(struct sim_creds *, time_t now);
/* Ends every temporary credential now (for tests of ExpiredToken and refresh). */
void	sim_creds_expire_all(struct sim_creds *, time_t now);

/* ---- verification ---- */

enum sim_auth_result {
	SIM_AUTH_OK,
	SIM_AUTH_MISSING,	/* no Authorization header */
	SIM_AUTH_INCOMPLETE,	/* one that is not SigV4 as AWS writes it; no date */
	SIM_AUTH_SKEW_PAST,	/* X-Amz-Date more than 15 minutes ago */
	SIM_AUTH_SKEW_FUTURE,	/* or ahead */
	SIM_AUTH_UNKNOWN_KEY,
	SIM_AUTH_BAD_TOKEN,	/* session token absent, wrong, or on a long-term key */
	SIM_AUTH_EXPIRED,	/* temporary credentials past their expiration */
	SIM_AUTH_BAD_SIGNATURE
};

struct sim_auth {
	enum sim_auth_result	 result;
	struct sigv4_auth	 a;		/* the parsed Authorization */
	const struct sim_cred	*cred;		/* when the key is known */
	char			 amzdate[SIGV4_DATE_LEN + 1];
	char			 why[128];	/* for the log: never a secret */
};

/*
 * Checks req as AWS does, in AWS's order: header present and well formed, date within
 * 15 minutes of now, key known, session token (checked before the signature, as STS
 * does), expiration, signature. Returns 0 if authentic; -1 with a->result otherwise.
 */
int	sim_auth_verify(const struct sim_creds *, const struct sim_req *, time_t now,
	    struct sim_auth *a);

/* ---- services, operations, calls ---- */

enum sim_proto {
	SIM_PROTO_QUERY,
	SIM_PROTO_EC2,
	SIM_PROTO_JSON		/* AWS JSON 1.0 (CloudWatch also speaks it) */
};

struct sim_aws_call;
typedef int	(*sim_op_fn)(struct sim_aws_call *);

struct sim_op {
	const char	*action;
	sim_op_fn	 fn;
};

struct sim_aws_service {
	const char		*name;		/* SigV4 signing name */
	const char		*version;
	const char		*ns;		/* xmlns of its answers */
	enum sim_proto		 proto;		/* QUERY or EC2 */
	const char		*json_target;	/* X-Amz-Target prefix, or NULL */
	const char		*redirect;	/* a request without Action goes there */
	const struct sim_op	*ops;
	size_t			 nops;
};

/*
 * Gives a service its operations (the service must be one bbsim knows: cloudformation
 * 2010-05-15, autoscaling 2011-01-01, ec2 2016-11-15, monitoring 2010-08-01,
 * elasticloadbalancing 2012-06-01 and 2015-12-01, sts 2011-06-15). ops must outlive
 * the process. 0, or -1 for an unknown service.
 */
int	sim_aws_register(const char *name, const char *version,
	    const struct sim_op *ops, size_t nops);
const struct sim_aws_service *sim_aws_service(const char *name, const char *version);
/* Yes if any version of the service has it, or none has operations (unit tests). */
int	sim_aws_has_action(const char *service, const char *action);

/* One authenticated call, as an operation sees it. */
struct sim_aws_call {
	struct sim			*sim;
	const struct sim_aws_service	*svc;
	enum sim_proto			 proto;		/* of this request */
	const char			*action;
	struct sim_form			*form;		/* QUERY, EC2 */
	json_t				*json;		/* JSON: the body */
	const struct sim_cred		*who;
	const char			*region;	/* of the credential scope */
	const char			*reqid;
	time_t				 now;
	struct sim_resp			*resp;
};

/*
 * Operations read their parameters first, then call sim_call_params_done(), which
 * refuses the call if a parameter was never read (strict mode: see wire.c), then act.
 * Every helper returns 0, or -1 once the error answer is written (or out of memory).
 */
int	sim_call_params_done(struct sim_aws_call *);
/* The form's last failure (sim_form_list(), ...) answered as AWS would. */
int	sim_call_form_error(struct sim_aws_call *);
int	sim_call_error(struct sim_aws_call *, enum sim_wire_err,
	    const char *const *args, size_t nargs);
/* A service error of its own (ValidationError, ...): Sender, in the call's envelope. */
int	sim_call_fail(struct sim_aws_call *, int status, const char *code,
	    const char *fmt, ...) FMT(4, 5);
/* The document becomes the answer; for QUERY/EC2 calls. */
int	sim_call_xml(struct sim_aws_call *, struct sim_xml *);
int	sim_call_json(struct sim_aws_call *, json_t *);

/* Answers one AWS request (POST /, GET /?...) completely. */
void	sim_aws_handle(struct sim *, const struct sim_req *, struct sim_resp *);

#endif
