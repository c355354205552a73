/* Declares every suite of suites.h, so that each check_<module>.c is checked against it. */
#ifndef BB_SUITES_DECL_H
#define BB_SUITES_DECL_H

#include <check.h>

#define SUITE(name)	Suite *name##_suite(void);
#include "tests/suites.h"
#undef SUITE

#endif
