#!/usr/bin/env python3
"""End to end: preflight refuses what would make the upgrade unsafe, and touches nothing.

For each refusal of behaviour 15 that bbsim can set up (an instance in Standby,
lifecycle hooks, an instance refresh, HealthCheckType ELB, the stack in standby mode
with DBMaster), `bbctl plan` must exit non-zero naming the problem, and `bbctl start`
must be refused the same way, with no destructive call reaching bbsim. A cluster with
none of them plans cleanly (so the checks are not refusing everything).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from upgrade_harness import TO, Scenario, daemon_calls, run_scenarios  # noqa: E402

CASES = [
    ("an instance in Standby", {"standby": 1}, "is not InService"),
    ("a lifecycle hook", {"lifecycle_hooks": "terminating"}, "lifecycle hook"),
    ("an instance refresh", {"instance_refresh": "true"}, "instance refresh"),
    ("HealthCheckType ELB", {"health_check_type": "ELB", "health_check_grace": "20s"},
     "HealthCheckType"),
    ("standby mode (DBMaster)", {"db_master": "arn:aws:rds:us-east-1:123456789012:db:p"},
     "standby mode"),
]


def refused(t, cluster_keys, words):
    with t.cluster(seed=31, scenario={"cluster": cluster_keys}) as c:
        plan = c.bbctl("plan", "prod", "--to", TO, human=True)
        t.check(plan.rc != 0, "plan exited %d" % plan.rc)
        t.check(words in plan.text(), "plan does not say '%s': %s" %
                (words, plan.text()[-600:]))
        start = c.bbctl("start", "prod", "--to", TO, "--yes", "--watch", human=True)
        t.check(start.rc != 0, "start exited %d" % start.rc)
        t.check(words in start.text(), "start does not say '%s': %s" %
                (words, start.text()[-600:]))
        calls = daemon_calls(c.history())
        t.check(not calls, "destructive calls made: %s" % [r["a"] for r in calls])


def clean(t):
    with t.cluster(seed=31) as c:
        plan = c.bbctl("plan", "prod", "--to", TO, human=True)
        t.check(plan.rc == 0, "plan of a healthy cluster exited %d: %s" %
                (plan.rc, plan.text()[-600:]))


SCENARIOS = [Scenario("no refusal on a healthy cluster", clean)] + [
    Scenario("refused: " + name, lambda t, k=keys, w=words: refused(t, k, w))
    for name, keys, words in CASES]

if __name__ == "__main__":
    sys.exit(run_scenarios(SCENARIOS, parallel=int(os.environ.get("BB_PARALLEL", "3"))))
