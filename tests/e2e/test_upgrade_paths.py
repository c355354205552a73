#!/usr/bin/env python3
"""End to end: the upgrade's paths, with the real bbupgraded and bbctl against bbsim.

Each scenario starts its own bbsim (the fast profile, sped up) and bbupgraded, runs
`bbctl start prod --to 7.9.4 --yes --watch`, and judges the run by bbsim's report
(I1-I7 one by one, the outcome, instances launched and terminated) and by its state
(every node ACTIVE on 7.9.4, the stack's BitbucketVersion), plus bbctl's exit
status: the happy path (surge 1), surge 2, surge N (blue/green), the literal order,
and the nested layout (the Quick Start's with-VPC stack). One line per scenario,
with the ratio to the critical-path lower bound, requests failed and API calls.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from upgrade_harness import TO, Scenario, run_scenarios  # noqa: E402

SPEED = 4


def forward(t, launched, terminated, more=None, **kw):
    """An upgrade to TO that must complete: launched/terminated are bbsim's counts;
    more(c, report, upgrade) checks what is particular to the scenario."""
    with t.cluster(speed=SPEED, **kw) as c:
        w = c.start_watch(TO)
        rc = w.wait(150)
        r = t.judge(c, rc=rc, outcome="approve", version=TO)
        inst = r["upgrade"]["instances"]
        t.check((inst["launched"], inst["terminated"]) == (launched, terminated),
                "instances launched %d, terminated %d: expected %d and %d" %
                (inst["launched"], inst["terminated"], launched, terminated))
        t.check(r["requests"]["failed_short"] == 0, "short requests failed: %s" %
                r["requests"])
        u = c.status()
        t.check(u["state"] == "done", "the daemon says %s" % u["state"])
        if more is not None:
            more(c, r, u)


def progress(t, u, replaced, retired, why=""):
    p = u["progress"]
    t.check((p["replaced"], p["retired"]) == (replaced, retired),
            "replaced %d, retired %d: expected %d and %d%s" %
            (p["replaced"], p["retired"], replaced, retired, why))


def happy(t):
    forward(t, 4, 4, seed=3, more=lambda c, r, u: progress(t, u, 3, 1))


def surge2(t):
    forward(t, 4, 4, seed=5, surge=2, more=lambda c, r, u: progress(t, u, 2, 2))


def surge2_untold(t):
    # bbsim's scenario says surge 1: it must judge I2 and the bound by the k the
    # daemon's scale-out shows (min 4 -> 6), not by its own configuration.
    def more(c, r, u):
        progress(t, u, 2, 2)
        t.check(r["critical_path"]["surge"] == 2, "bbsim's bound assumes surge %s" %
                r["critical_path"]["surge"])
    forward(t, 4, 4, seed=6, surge=2, scenario={"cluster": {"surge": 1}}, more=more)


def blue_green(t):
    forward(t, 4, 4, seed=7, surge=4, nodes=4,
            more=lambda c, r, u: progress(t, u, 0, 4, " (blue/green)"))


def literal(t):
    # Every original replaced, then k nodes removed: k more boots and terminations.
    forward(t, 5, 5, seed=9, order="literal",
            more=lambda c, r, u: progress(t, u, 4, 1, " (all 4 originals)"))


def nested(t):
    def more(c, r, u):
        progress(t, u, 3, 1)
        t.check(c.state()["stack"]["nested"] is not None, "the stack is not nested")
    forward(t, 4, 4, seed=11, scenario={"cluster": {"layout": "nested"}}, more=more)


SCENARIOS = [
    Scenario("happy path (surge 1)", happy),
    Scenario("surge 2", surge2),
    Scenario("surge 2, bbsim told surge 1", surge2_untold),
    Scenario("surge N = 4 (blue/green)", blue_green),
    Scenario("order = literal", literal),
    Scenario("nested layout (with VPC)", nested),
]

if __name__ == "__main__":
    sys.exit(run_scenarios(SCENARIOS, parallel=int(os.environ.get("BB_PARALLEL", "3"))))
