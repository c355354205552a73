/*
 * The simulator's shared context: its options, the credentials it accepts, the
 * instance metadata tokens it issued, the faults it injects, the counters it keeps,
 * the virtual clock and the simulated world. There is one, created by main() (or by
 * a test), and every handler gets it. All of it is touched from the server's single
 * thread only, so nothing here is locked.
 *
 * Time: sim_route() calls sim_tick() before any handler runs, so a handler finds the
 * request's virtual time in sim->now, with the model already run up to it, and
 * passes sim->now to every model call.
 */
#ifndef BB_SIM_SIM_H
#define BB_SIM_SIM_H

#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "sim/auth.h"
#include "sim/clock.h"
#include "sim/faults.h"
#include "sim/server.h"
#include "sim/wire.h"

#define SIM_IMDS_TOKEN_LEN	56
#define SIM_IMDS_MAX_TOKENS	64
#define SIM_IMDS_MAX_TTL	21600	/* seconds: EC2's limit for a token */

/* Bitbucket's accounts and tokens (test secrets: bbsim holds nothing else). */
#define SIM_BB_USER		"admin"
#define SIM_BB_PASSWORD		"admin-secret-test"
#define SIM_BB_TOKEN		"bbsim-sysadmin-token"
#define SIM_BB_SCOPED_TOKEN	"bbsim-scoped-token"	/* valid; not for /rest/zdu */
#define SIM_BB_PLAIN_USER	"developer"		/* licensed, not a sysadmin */
#define SIM_BB_PLAIN_PASSWORD	"developer-secret-test"
#define SIM_CONTEXT_MAX		64

struct sim_imds_token {
	char	 token[SIM_IMDS_TOKEN_LEN + 1];
	time_t	 expires;
};

struct sim_imds {
	struct sim_imds_token	 tok[SIM_IMDS_MAX_TOKENS];	/* a ring */
	size_t			 next;
	uint64_t		 rng;
};

struct sim_options {
	uint64_t	 seed;
	const char	*scenario;	/* file, or NULL: read by the model */
	int		 realistic;	/* realistic durations instead of seconds */
	int		 lenient_wire;	/* AWS's tolerance of duplicates and extras */
	const char	*akid;		/* NULL: SIM_DEFAULT_AKID */
	const char	*secret;	/* NULL: SIM_DEFAULT_SECRET */
	const char	*region;	/* NULL: SIM_DEFAULT_REGION */
	int		 lifetime;	/* of temporary credentials; 0: default */
	double		 speed;		/* virtual ms per real ms; 0: 1 */
	const char	*context;	/* Bitbucket's context path; NULL: none */
	const char	*bb_user;	/* NULL: SIM_BB_USER, and so on */
	const char	*bb_password;
	const char	*bb_token;
	const char	*bb_scoped_token;
};

struct sim_model;
struct sim_instance;

struct sim {
	struct sim_options	 opt;
	char			 region[SIGV4_SCOPE_MAX + 1];
	time_t			 started;
	uint64_t		 rng;		/* fault draws */
	uint64_t		 nreq;		/* request ids handed out */
	struct sim_creds	 creds;
	struct sim_imds		 imds;
	struct sim_fault_table	 faults;
	json_t			*counters;
	char			 context[SIM_CONTEXT_MAX];	/* "" or "/a/b" */
	struct sim_clock	 clock;
	int64_t			 now;		/* the request's virtual ms */
	struct sim_model	*model;		/* the world; its owner frees it */
};

/* admin.c: the context's life, its counters and the /_sim/ API. */
int	sim_init(struct sim *, const struct sim_options *);
void	sim_free(struct sim *);
void	sim_next_reqid(struct sim *, char out[SIM_REQID_LEN + 1]);
void	sim_count(struct sim *, const char *group, const char *key,
	    const char *subkey);
void	sim_admin_handle(struct sim *, const struct sim_req *, struct sim_resp *);
/* The request's JSON object, or NULL with a 400 answered. */
json_t	*sim_admin_body(const struct sim_req *, struct sim_resp *);
/* Reads the clock into sim->now and runs the model up to it; returns sim->now. */
int64_t	sim_tick(struct sim *);

/* admin_state.c, admin_report.c, admin_faults.c: the /_sim/ views of the model. */
void	sim_admin_state(struct sim *, const struct sim_req *, struct sim_resp *);
void	sim_admin_history(struct sim *, const struct sim_req *, struct sim_resp *);
void	sim_admin_report(struct sim *, const struct sim_req *, struct sim_resp *);
json_t	*sim_admin_report_json(struct sim *);
json_t	*sim_admin_record_json(const struct sim_model *, size_t i);
json_t	*sim_admin_traffic_json(const struct sim_model *);
/* The model's faults: {"node_error": "once", ...}. 0, or -1 with why. */
int	sim_admin_model_faults(struct sim *, json_t *, char *err, size_t errlen);
json_t	*sim_admin_model_faults_json(struct sim *);
void	sim_admin_terminate(struct sim *, const struct sim_req *, struct sim_resp *);

/* bitbucket_api.c: /rest/zdu/... and /status; path is the request's past the context. */
void	sim_bitbucket_handle(struct sim *, const struct sim_req *, const char *path,
	    struct sim_resp *);
/* /rest/zdu/cluster's answer, with local as the answering node (NULL: none). */
json_t	*sim_bitbucket_cluster_json(struct sim *, const struct sim_instance *local);
/* The part of path past the context path, if it is a Bitbucket one; else NULL. */
const char *sim_bitbucket_path(const struct sim *, const char *path);

/* imds.c: the instance metadata service, IMDSv2 only. */
void	sim_imds_handle(struct sim *, const struct sim_req *, struct sim_resp *);

/* sts.c */
int	sim_sts_init(void);

#endif
