#!/usr/bin/env python3
"""End to end: the upgrade when things go wrong, with the real binaries against bbsim.

Faults are injected into bbsim's world (its scenario file, or POST /_sim/faults),
then `bbctl start prod --to 7.9.4 --yes --watch` runs. Each scenario checks what the
daemon says (state, halt code and reason, events, bbctl's exit status) and what bbsim
saw (the invariants one by one, the stack, every node):

  - a change set with unexpected changes (the nested stack's template drifted):
    refused before any destructive stack change, with the difference named; then
    cancel returns the cluster to how it was;
  - a new node in ERROR once, on_failure = retry: replaced once more, completes;
  - a new node in ERROR always, on_failure = retry: halts; `bbctl rollback` takes
    the cluster back to 7.9.0 with I1-I7 intact;
  - the stack update rolled back (the launch configuration refused): halts with
    CloudFormation's reason; resume, once the cause is gone, completes;
  - a throttling storm (half the Auto Scaling, EC2 and ELB calls throttled):
    completes, the throttling only waited out;
  - a replacement stuck STARTING past node_timeout (15s): halts with the node's
    deadline, no node ever drained but alive; cancel is refused (an original is
    gone), rollback takes the cluster back to 7.9.0; the same with the surge node
    (the canary) stuck: no original touched, and cancel removes it.

While an upgrade is halted it has not ended, so bbsim's I6 ("the upgrade did not
finish") is expected violated then, and only then.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from upgrade_harness import (FROM, TO, Scenario, daemon_calls,  # noqa: E402
                             drained_alive, run_scenarios)

SPEED = 4
UNFINISHED = {"I6": "did not finish"}


def halted(t, c, w, code, reason_has=()):
    """The watch ends 1 on a halt with that code; the reason names reason_has."""
    rc = w.wait(150)
    t.check(rc == 1, "bbctl start --watch exited %s on a halt, expected 1" % rc)
    t.fig("rc", rc)
    u = c.wait_upgrade(("halted",), 30)
    h = u.get("halt") or {}
    t.check(h.get("code") == code, "halt code %s, expected %s (reason: %s)" %
            (h.get("code"), code, u.get("reason")))
    for words in reason_has:
        t.check(words in (u.get("reason") or ""), "the reason does not say %r: %s" %
                (words, u.get("reason")))
    t.fig("halt", h.get("code"))
    t.note("halted: %s" % (u.get("reason") or "")[:240])
    last = w.lines()[-1] if w.lines() else {}
    t.check((last.get("upgrade") or {}).get("state") == "halted",
            "the watch's last line is not the halted upgrade: %s" % str(last)[:300])
    return u


def no_live_drained(t, c):
    bad = drained_alive(c)
    t.check(not bad, "halted with nodes drained but alive: %s" % bad)


def drift(t):
    scen = {"cluster": {"layout": "nested"}, "faults": {"nested_drift": "true"}}
    with t.cluster(seed=21, speed=SPEED, scenario=scen) as c:
        w = c.start_watch(TO)
        u = halted(t, c, w, "change-set-refused", ("BitbucketDCStack",))
        h = c.history()
        stack = [r["a"] for r in daemon_calls(h, ("ExecuteChangeSet", "UpdateStack"))]
        t.check(not stack, "a stack change was executed: %s" % stack)
        taken = daemon_calls(h, ("DeregisterInstancesFromLoadBalancer",
                                 "TerminateInstanceInAutoScalingGroup"))
        t.check(not taken, "nodes were taken out: %s" % taken)
        s = c.state()
        t.check(s["stack"]["parameters"]["BitbucketVersion"] == FROM and
                s["asg"]["desired"] == c.n, "the stack or the group changed: %s %s" %
                (s["stack"]["parameters"]["BitbucketVersion"], s["asg"]))
        t.invariants(c.report(), UNFINISHED)
        # The operator gives up: nothing ran 7.9.4, so cancel undoes it all.
        r = c.bbctl("cancel")
        t.check(r.rc == 0, "cancel refused: %r" % r)
        rc = c.watch().wait(120)
        t.judge(c, rc=rc, outcome="cancel", version=FROM)
        t.check(c.status()["state"] == "cancelled", "the daemon says %s" %
                c.status()["state"])


def error_once_retry(t):
    scen = {"faults": {"node_error": "once", "fault_version": TO}}
    with t.cluster(seed=23, speed=SPEED, scenario=scen, on_failure="retry") as c:
        w = c.start_watch(TO)
        rc = w.wait(150)
        r = t.judge(c, rc=rc, outcome="approve", version=TO)
        inst = r["upgrade"]["instances"]
        # The failed node is one more launch and one more termination.
        t.check((inst["launched"], inst["terminated"]) == (5, 5),
                "launched %d, terminated %d: expected 5 and 5 (one retry)" %
                (inst["launched"], inst["terminated"]))
        said = [e["message"] for e in c.events() if "ERROR" in e["message"]]
        t.check(said, "no event names the node in ERROR")
        t.check("node_error" in c.admin("GET", "faults")["model"]["fired_once"],
                "the fault did not fire")


def error_always_rollback(t):
    scen = {"faults": {"node_error": "always", "fault_version": TO}}
    with t.cluster(seed=25, speed=SPEED, scenario=scen, on_failure="retry") as c:
        w = c.start_watch(TO)
        u = halted(t, c, w, "node-error", ("ERROR",))
        no_live_drained(t, c)
        t.invariants(c.report(), UNFINISHED)
        r = c.bbctl("rollback")
        t.check(r.rc == 0, "rollback refused: %r" % r)
        rc = c.watch().wait(150)
        t.judge(c, rc=rc, outcome="cancel", version=FROM)
        u = c.status()
        t.check(u["state"] == "rolled_back", "the daemon says %s" % u["state"])


def stack_refused(t):
    scen = {"faults": {"stack_refuse": "once"}}
    with t.cluster(seed=27, speed=SPEED, scenario=scen) as c:
        w = c.start_watch(TO)
        u = halted(t, c, w, "stack-rolled-back",
                   ("Launch Configuration creation operation is not available",))
        s = c.state()
        t.check(s["stack"]["status"] == "UPDATE_ROLLBACK_COMPLETE" and
                s["stack"]["parameters"]["BitbucketVersion"] == FROM,
                "the stack is %s on %s" % (s["stack"]["status"],
                                           s["stack"]["parameters"]["BitbucketVersion"]))
        taken = daemon_calls(c.history(), ("DeregisterInstancesFromLoadBalancer",
                                           "TerminateInstanceInAutoScalingGroup"))
        t.check(not taken, "nodes were taken out: %s" % taken)
        t.invariants(c.report(), UNFINISHED)
        # The fault fired once: the cause is gone, resume goes on.
        r = c.bbctl("resume")
        t.check(r.rc == 0, "resume refused: %r" % r)
        rc = c.watch().wait(150)
        t.judge(c, rc=rc, outcome="approve", version=TO)


def throttled(t):
    rules = [{"service": s, "action": "*", "error_rate": 0.5}
             for s in ("autoscaling", "ec2", "elasticloadbalancing")]
    with t.cluster(seed=29, speed=SPEED) as c:
        c.faults(rules=rules)
        w = c.start_watch(TO)
        rc = w.wait(240)
        r = t.judge(c, rc=rc, outcome="approve", version=TO)
        # The fault table's throttling happens at the front door, before the model
        # counts a call: bbsim's counters have it, per service and action.
        n = sum(sum(a.values()) for a in c.counters().get("throttled", {}).values())
        t.check(n > 50, "only %d calls throttled" % n)
        ev = c.events()
        t.check(not any(e.get("data", {}).get("kind") == "halt" for e in ev),
                "the upgrade halted on the way")
        warned = [e["message"] for e in ev if e["level"] != "info"]
        t.check(all("RequestLimitExceeded" in m or "Throttling" in m or
                    "Rate exceeded" in m for m in warned),
                "warnings other than throttling: %s" %
                [m for m in warned if "Rate exceeded" not in m and
                 "RequestLimitExceeded" not in m][:3])
        t.fig("warnings", len(warned))


def stuck(t):
    with t.cluster(seed=31, speed=SPEED, node_timeout="15s") as c:
        w = c.start_watch(TO)
        # The canary is up: the next node launched, the first replacement, sticks.
        c.wait_for(lambda: (c.status() or {}).get("phase") == "replace", 90,
                   "the replace phase")
        c.faults(model={"node_stuck": "once", "fault_version": TO})
        u = halted(t, c, w, "node-timeout", ("deadline",))
        no_live_drained(t, c)
        taken = daemon_calls(c.history(), ("TerminateInstanceInAutoScalingGroup",))
        t.check(len(taken) == 1, "%d originals terminated before the halt, expected "
                "the one whose replacement is stuck" % len(taken))
        stuck = [i for i in c.nodes() if i["node"] == "STARTING"]
        t.check(len(stuck) == 1 and stuck[0]["id"] in u["reason"],
                "the halt does not name the stuck node %s" % [i["id"] for i in stuck])
        t.invariants(c.report(), UNFINISHED)
        # An original is gone: cancel is refused, rollback takes the cluster back.
        r = c.bbctl("cancel")
        t.check(r.rc == 1 and "rollback" in r.text(), "cancel: %r" % r)
        r = c.bbctl("rollback")
        t.check(r.rc == 0, "rollback refused: %r" % r)
        rc = c.watch().wait(150)
        t.judge(c, rc=rc, outcome="cancel", version=FROM)


def canary_stuck(t):
    scen = {"faults": {"node_stuck": "once", "fault_version": TO}}
    with t.cluster(seed=33, speed=SPEED, scenario=scen, node_timeout="15s") as c:
        w = c.start_watch(TO)
        halted(t, c, w, "node-timeout", ("deadline", "no original was touched"))
        taken = daemon_calls(c.history(), ("DeregisterInstancesFromLoadBalancer",
                                           "TerminateInstanceInAutoScalingGroup"))
        t.check(not taken, "an original was taken out before the canary came up: %s"
                % [(r["a"], r["obj"]) for r in taken])
        no_live_drained(t, c)
        t.invariants(c.report(), UNFINISHED)
        # Only the surge node runs 7.9.4: cancel removes it.
        r = c.bbctl("cancel")
        t.check(r.rc == 0, "cancel refused: %r" % r)
        rc = c.watch().wait(150)
        t.judge(c, rc=rc, outcome="cancel", version=FROM)


SCENARIOS = [
    Scenario("throttling storm (half the calls, the whole upgrade)", throttled),
    Scenario("change set with unexpected changes (nested drift)", drift),
    Scenario("node ERROR once, on_failure = retry", error_once_retry),
    Scenario("node ERROR always, on_failure = retry, then rollback",
             error_always_rollback),
    Scenario("stack update rolled back, then resume", stack_refused),
    Scenario("replacement stuck STARTING (node_timeout 15s), then rollback", stuck),
    Scenario("surge node (the canary) stuck STARTING, then cancel", canary_stuck),
]

if __name__ == "__main__":
    sys.exit(run_scenarios(SCENARIOS, parallel=int(os.environ.get("BB_PARALLEL", "3"))))
