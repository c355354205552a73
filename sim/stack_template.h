/*
 * What the model knows of the Quick Start template: its parameters (defaults,
 * NoEcho), which resource property each one feeds (for change sets), and the
 * resources and outputs of the product stack and of the with-VPC root.
 */
#ifndef BB_SIM_STACK_TEMPLATE_H
#define BB_SIM_STACK_TEMPLATE_H

#include "sim/model.h"

struct sim_tparam {
	const char	*key;
	const char	*def;		/* the template's Default; NULL: none */
	int		 no_echo;
};

/* One property a parameter feeds (a parameter may feed several). */
struct sim_effect {
	const char	*param;		/* NULL: nested-template drift, asked by nobody */
	const char	*resource;
	const char	*attribute;	/* "Properties" or "Metadata" */
	const char	*property;	/* NULL for Metadata */
	const char	*recreation;	/* "Never", "Conditionally", "Always" */
};

extern const struct sim_tparam sim_tparams[];
extern const size_t sim_ntparams;
extern const struct sim_effect sim_effects[];
extern const size_t sim_neffects;
extern const struct sim_effect sim_drift[];
extern const size_t sim_ndrift;

const char *sim_resource_type(const char *logical_id);
void	sim_stack_template_params(struct sim_model *, struct sim_stack *);
void	sim_stack_template_resources(struct sim_model *, struct sim_stack *);

#endif
