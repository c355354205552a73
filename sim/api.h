/*
 * The AWS operations bbsim answers beyond STS: CloudFormation, Auto Scaling, EC2,
 * CloudWatch (Query and JSON 1.0) and the Classic ELB, one file per service
 * (sim/api_<service>.c; CloudWatch's is split in api_cloudwatch*.c, which share
 * api_cloudwatch_int.h). Each operation is a thin handler: it reads its parameters
 * strictly, calls the model once at the request's virtual time (sim->now, already
 * ticked by sim_route), and writes AWS's answer, element names and order as in
 * botocore's model of the output shape, or the model's error in the call's envelope.
 * Handlers never decide what the world does: that is the model's (sim/model.h).
 *
 * The helpers below are what every api_*.c shares; they are defined in
 * api_cloudformation.c. Each returns 0, or -1 once AWS's error answer is written.
 */
#ifndef BB_SIM_API_H
#define BB_SIM_API_H

#include <stddef.h>
#include <stdint.h>

#include "sim/auth.h"
#include "sim/model.h"
#include "sim/wire.h"

struct sim;

/* Gives every service above its operations; called once at start-up. */
void	sim_api_aws_register(struct sim *);

/* Each service's table, for sim_api_aws_register(). 0, or -1. */
int	sim_api_cfn_init(void);
int	sim_api_asg_init(void);
int	sim_api_ec2_init(void);
int	sim_api_cw_init(void);
int	sim_api_elb_init(void);

#define SIM_API_TIME_MAX	32	/* "2025-01-01T00:00:00.000Z" */
#define SIM_API_TOKEN_MAX	48

/*
 * Every handler's first step: the simulated world, with this call counted (and
 * perhaps throttled) by sim_api_call(). NULL once the error is answered.
 */
struct sim_model *sim_api_begin(struct sim_aws_call *, enum sim_service);
/* The model's refusal, in the call's envelope. */
int	sim_api_fail(struct sim_aws_call *, const struct sim_err *);
/* A required parameter was not sent: each service's own words for it. */
int	sim_api_missing(struct sim_aws_call *, const char *name);
/* The value of a required parameter, or NULL once sim_api_missing() answered. */
const char *sim_api_need(struct sim_aws_call *, const char *name);
/* A parameter out of its model's constraint (Coral's text on Query services). */
int	sim_api_invalid(struct sim_aws_call *, const char *name, const char *value,
	    const char *constraint);
/* Optional boolean ("true"/"false"); *out is left alone when absent. */
int	sim_api_bool(struct sim_aws_call *, const char *name, int *out);
/* Optional integer in [min, max]; *out is left alone when absent. */
int	sim_api_int(struct sim_aws_call *, const char *name, long min, long max,
	    long *out);
/* The number of items of a list in the protocol's shape, at most max. */
int	sim_api_list(struct sim_aws_call *, const char *name, size_t max, size_t *n);

/*
 * Pagination: an opaque token naming a position in a list that only grows (events,
 * activities, instances), so that a page boundary stays put while the world moves.
 */
void	sim_api_token(char *buf, size_t len, size_t pos);
int	sim_api_token_read(const char *token, size_t *pos);

/* AWS's timestamp of virtual time t: with milliseconds, as CFN, ASG, EC2 write them. */
const char *sim_api_time(const struct sim_model *, int64_t t,
	    char buf[SIM_API_TIME_MAX]);
/*
 * An id the model has no notion of (subnet, VPC, AMI): prefix and ndigits of hex
 * derived from prefix and seed alone, so that every service names the same subnet
 * the same way (seed: the root stack's id).
 */
void	sim_api_fake_id(char *buf, size_t len, const char *prefix, const char *seed,
	    size_t ndigits);

#endif
