/*
 * The simulator's shared context: its options, the credentials it accepts, the
 * instance metadata tokens it issued, the faults it injects and the counters it keeps.
 * There is one, created by main() (or by a test), and every handler gets it. All of it
 * is touched from the server's single thread only, so nothing here is locked.
 */
#ifndef BB_SIM_SIM_H
#define BB_SIM_SIM_H

#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "sim/auth.h"
#include "sim/server.h"
#include "sim/wire.h"

#define SIM_IMDS_TOKEN_LEN	56
#define SIM_IMDS_MAX_TOKENS	64
#define SIM_IMDS_MAX_TTL	21600	/* seconds: EC2's limit for a token */

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
};

typedef void	(*sim_handler)(struct sim *, const struct sim_req *,
		    struct sim_resp *);

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
	sim_handler		 bitbucket;	/* /rest/zdu/..., /status */
	sim_handler		 state;		/* GET /_sim/state */
	void			*model;		/* the world; its owner frees it */
};

/* admin.c: the context's life, its counters and the /_sim/ API. */
int	sim_init(struct sim *, const struct sim_options *);
void	sim_free(struct sim *);
void	sim_next_reqid(struct sim *, char out[SIM_REQID_LEN + 1]);
void	sim_count(struct sim *, const char *group, const char *key,
	    const char *subkey);
void	sim_admin_handle(struct sim *, const struct sim_req *, struct sim_resp *);

/* imds.c: the instance metadata service, IMDSv2 only. */
void	sim_imds_handle(struct sim *, const struct sim_req *, struct sim_resp *);

/* sts.c */
int	sim_sts_init(void);

#endif
