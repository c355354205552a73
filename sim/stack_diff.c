/*
 * The resource changes an update to new parameter values makes in the product
 * stack, as a change set describes them: one entry per resource, its scope
 * (Properties, Metadata), whether it is replaced, and what caused each detail.
 * In the with-VPC layout with drift, the nested template re-read from its URL adds
 * changes nobody asked for.
 */
#include <string.h>

#include "sim/model_int.h"
#include "sim/stack_template.h"

static const char *
replacement_of(const char *recreation)
{
	if (strcmp(recreation, "Always") == 0)
		return "True";
	if (strcmp(recreation, "Conditionally") == 0)
		return "Conditional";
	return "False";
}

static int
rank(const char *replacement)
{
	return strcmp(replacement, "True") == 0 ? 2 :
	    strcmp(replacement, "Conditional") == 0 ? 1 : 0;
}

static struct sim_change *
change_for(struct sim_model *m, struct sim_change *out, size_t *n, size_t max,
    const char *logical)
{
	const struct sim_stack_resource *r;
	struct sim_change *c;

	for (size_t i = 0; i < *n && i < max; i++)
		if (strcmp(out[i].logical_id, logical) == 0)
			return &out[i];
	if (*n >= max)
		return NULL;
	c = &out[(*n)++];
	memset(c, 0, sizeof(*c));
	c->action = "Modify";
	c->logical_id = logical;
	c->type = sim_resource_type(logical);
	c->replacement = "False";
	if ((r = sim_stack_resource(sim_stack_product(m), logical)) != NULL)
		sim_strlcpy(c->physical_id, r->physical_id, sizeof(c->physical_id));
	return c;
}

static void
add_effect(struct sim_model *m, struct sim_change *out, size_t *n, size_t max,
    const struct sim_effect *e)
{
	struct sim_change *c = change_for(m, out, n, max, e->resource);
	const char *rep = replacement_of(e->recreation);
	struct sim_change_detail *d;

	if (c == NULL)
		return;
	if (c->scope[0] == NULL || strcmp(c->scope[0], e->attribute) != 0) {
		if (c->scope[0] == NULL)
			c->scope[0] = e->attribute;
		else if (c->scope[1] == NULL)
			c->scope[1] = e->attribute;
	}
	if (rank(rep) > rank(c->replacement))
		c->replacement = rep;
	if (c->ndetail >= SIM_DETAILS_MAX)
		return;
	d = &c->detail[c->ndetail++];
	d->attribute = e->attribute;
	d->name = e->property;
	d->recreation = e->recreation;
	d->causing = e->param;
}

size_t
sim_stack_diff(struct sim_model *m, struct sim_stack *st, const struct sim_param *np,
    size_t nparams, struct sim_change *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < sim_neffects; i++) {
		const struct sim_effect *e = &sim_effects[i];
		const char *old = sim_stack_param(st, e->param);

		for (size_t j = 0; j < nparams; j++)
			if (strcmp(np[j].key, e->param) == 0 &&
			    (old == NULL || strcmp(old, np[j].value) != 0))
				add_effect(m, out, &n, max, e);
	}
	if (m->p.nested && m->p.nested_drift)
		for (size_t i = 0; i < sim_ndrift; i++)
			add_effect(m, out, &n, max, &sim_drift[i]);
	return n;
}
