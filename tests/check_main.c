/*
 * The one unit-test runner: every suite of tests/suites.h. Runs in check's fork mode
 * (CK_FORK=no to debug in one process). Exits non-zero if any test fails.
 * Usage: check_all [SUITE...]   (no argument: all suites)
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "tests/suites_decl.h"

static const struct {
	const char	*name;
	Suite		*(*make)(void);
} suites[] = {
#define SUITE(name)	{ #name, name##_suite },
#include "tests/suites.h"
#undef SUITE
};

static int
wanted(const char *name, int argc, char **argv)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	SRunner *sr = NULL;
	int failed;

	for (size_t i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		if (!wanted(suites[i].name, argc, argv))
			continue;
		if (sr == NULL)
			sr = srunner_create(suites[i].make());
		else
			srunner_add_suite(sr, suites[i].make());
	}
	if (sr == NULL)
		return 2;
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
