/* Every check suite of the unit runner: add one line per tests/check_<module>.c. */
SUITE(version)
SUITE(config)
SUITE(varlink)
SUITE(store)
SUITE(control)
