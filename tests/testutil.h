/* Helpers shared by the unit suites. */
#ifndef BB_TESTUTIL_H
#define BB_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A fresh temporary directory (left behind on failure, for inspection). */
static inline char *
test_tmpdir(void)
{
	char tmpl[] = "/tmp/bbtest.XXXXXX";
	char *d = mkdtemp(tmpl);

	return d ? strdup(d) : NULL;
}

static inline void
test_rmtree(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

#endif
