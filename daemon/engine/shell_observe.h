/*
 * The insides of one observation, shared by shell_observe.c (the waves) and
 * shell_obs_parts.c (one operation per part). See shell_observe.c.
 */
#ifndef BB_ENGINE_SHELL_OBSERVE_H
#define BB_ENGINE_SHELL_OBSERVE_H

#include "daemon/aws/cloudformation.h"
#include "daemon/engine/shell.h"


struct obs_slot {
	bool			 used;
	struct shell_obs	*ob;
	struct aws_op		*op;
	unsigned		 part;
	int			 parent;	/* a nested change set: its entry */
};

struct shell_obs {
	struct shell		*sh;
	struct shell_dep	*dep;
	struct shell_obs_result	 r;
	unsigned		 want;
	unsigned		 ok;		/* parts whose answers came back well */
	int			 extras_ok;	/* hooks and refreshes: 2 when both */
	bool			 root_ok, nested_ok;
	char			 token[ENGINE_TOKEN_MAX];
	char			 changeset[ENGINE_TOKEN_MAX];
	struct aws_cfn_events_stop stop;
	uint64_t		 poll;
	int			 pending;	/* operations (and the wave itself) */
	int			 wave;
	bool			 cancelled;
	struct shell_topology	 topo;		/* being read */
	struct obs_slot		 slots[SHELL_OPS_MAX];
	struct bitbucket_call	*zcall;
	uv_timer_t		 timer;		/* starts the first wave */
	shell_obs_cb		 cb;
	void			*arg;
	/* EC2 and ELB, until the group's instances are known. */
	struct {
		char		 id[ENGINE_ID_MAX];
		char		 ip[ENGINE_IP_MAX];
	}			 ec2[ENGINE_NODES_MAX * 2];
	size_t			 nec2;
	struct {
		char		 id[ENGINE_ID_MAX];
		enum engine_elb	 elb;
	}			 elb[ENGINE_NODES_MAX * 2];
	size_t			 nelb;
};

struct obs_slot *engine_obs_slot(struct shell_obs *, unsigned part);
void	engine_obs_started(struct shell_obs *, struct obs_slot *, struct aws_op *,
	    const char *what);
void	engine_obs_slot_done(struct shell_obs *, struct obs_slot *);
void	engine_obs_error(struct shell_obs *, unsigned part, const char *what,
	    const char *why);
void	engine_obs_aws_error(struct shell_obs *, unsigned part, const char *what,
	    const struct aws_result *);

/* One part each (shell_obs_parts.c). */
void	engine_obs_zdu(struct shell_obs *);
void	engine_obs_identity(struct shell_obs *);
void	engine_obs_events(struct shell_obs *);
void	engine_obs_changeset(struct shell_obs *);
void	engine_obs_stack(struct shell_obs *);
void	engine_obs_group(struct shell_obs *);
void	engine_obs_activities(struct shell_obs *);
void	engine_obs_ec2(struct shell_obs *);
void	engine_obs_elb(struct shell_obs *);
void	engine_obs_alarms(struct shell_obs *);

#endif
