/*
 * The model fixture of the sim suites (tests/check_sim_*.c): a simulated world built
 * from parameters a suite has adjusted, the test failing with the model's own reason
 * when it refuses them, so that no suite goes on with a NULL model.
 */
#ifndef BB_TESTS_SIMMODEL_H
#define BB_TESTS_SIMMODEL_H

#include <check.h>
#include <stddef.h>

#include "sim/model.h"

/* The model of p; the test fails if p is refused. */
static inline struct sim_model *
test_model_new(const struct sim_params *p)
{
	struct sim_model *m;
	char why[256];

	m = sim_model_new(p, why, sizeof(why));
	ck_assert_msg(m != NULL, "%s", why);
	return m;
}

/* The default parameters without traffic (rate 0), then tweak's changes (if any). */
static inline struct sim_model *
test_model_with(void (*tweak)(struct sim_params *))
{
	struct sim_params p;

	sim_params_defaults(&p);
	p.rate = 0;
	if (tweak != NULL)
		tweak(&p);
	return test_model_new(&p);
}

static inline struct sim_model *
test_model(void)
{
	return test_model_with(NULL);
}

/* The i-th member of the group, oldest first, terminated ones included. */
static inline struct sim_instance *
test_member(struct sim_model *m, int i)
{
	int want = i;

	for (size_t k = 0; k < m->ninst; k++)
		if (m->inst[k]->member && i-- == 0)
			return m->inst[k];
	ck_abort_msg("no member %d", want);
	return NULL;
}

/*
 * An update's parameters: every template key, the first three (BitbucketVersion,
 * ClusterNodeMin, ClusterNodeMax) with the value given, the others and those given
 * NULL as UsePreviousValue. in has room for SIM_PARAMS_MAX; returns how many.
 */
static inline size_t
test_update_params(struct sim_param_in *in, const char *version, const char *min,
    const char *max)
{
	static const char *const keys[] = {
		"BitbucketVersion", "ClusterNodeMin", "ClusterNodeMax",
		"ClusterNodeInstanceType", "FileServerInstanceType", "KeyName",
		"AccessCIDR", "HomeSize", "DBMultiAZ", "DBMaster", "DBPassword",
		"DBMasterUserPassword", "BitbucketAdminPassword", "BitbucketLicenseKey",
		"ElasticSearchPassword",
	};
	const char *vals[3] = { version, min, max };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		in[i].key = keys[i];
		in[i].value = i < 3 ? vals[i] : NULL;
		in[i].use_previous = i >= 3 || vals[i] == NULL;
	}
	return sizeof(keys) / sizeof(keys[0]);
}

#endif
