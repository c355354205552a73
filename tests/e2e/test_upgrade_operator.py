#!/usr/bin/env python3
"""End to end: an operator acting during the upgrade, with the real binaries on bbsim.

Each scenario runs `bbctl start prod --to 7.9.4 --yes --watch` in the background and
acts with bbctl (or by hand, through bbsim's operator endpoint) at a chosen moment:

  - pause, then resume: the pause lands at a safe point (no stack operation, no node
    drained but alive, no termination in flight), nothing destructive happens while
    paused (bbsim's history over a few seconds), resume completes;
  - cancel before the first replacement: the surge node is removed, upgrade mode
    cancelled, the cluster back to 4 nodes on 7.9.0;
  - cancel after the first replacement: refused, pointing to rollback; the upgrade
    goes on and completes;
  - rollback mid-way: the cluster goes back to 7.9.0;
  - an operator terminating a live original from the EC2 console mid-upgrade: the
    daemon copes (or halts safely) and says what happened; what it did itself keeps
    the invariants (the operator's kill is judged as the operator's);
  - a second start, refused, naming the running upgrade.

Every scenario ends with bbsim's invariant report, the end version of every node
and bbctl's exit status.
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from upgrade_harness import (DESTRUCTIVE, FROM, TO, Failure, Scenario,  # noqa: E402
                             daemon_calls, drained_alive, run_scenarios,
                             takeouts_below)

SPEED = 4


def when(c, pred, what, timeout=90):
    """The upgrade's status once pred(status) holds."""
    def probe():
        u = c.status()
        if u and u["state"] not in ("running", "paused"):
            raise Failure("the upgrade is %s (%s) while waiting for %s" %
                          (u["state"], u.get("reason"), what))
        return u if u and pred(u) else None
    return c.wait_for(probe, timeout, what, step=0.05)


def replaced(k):
    return lambda u: u["phase"] == "replace" and u["progress"]["replaced"] >= k


def safe_point(t, c):
    """What a pause may never stop in: a stack operation, a node drained but alive,
    a termination under way."""
    s = c.state()
    t.check(not s["stack"]["operation_in_progress"], "paused during a stack operation")
    for i in c.nodes(s):
        t.check(i["lifecycle"] != "Terminating", "paused while %s terminates" % i["id"])
    bad = drained_alive(c)
    t.check(not bad, "paused with nodes drained but alive: %s" % bad)


def pause_resume(t):
    with t.cluster(seed=41, speed=SPEED) as c:
        w = c.start_watch(TO)
        when(c, replaced(1), "the first node replaced")
        r = c.bbctl("pause")
        t.check(r.rc == 0, "pause: %r" % r)
        u = c.wait_upgrade(("paused",), 60)
        t.check(u["phase"] in ("replace", "retire"), "paused in %s" % u["phase"])
        t.fig("paused", "in %s, %d replaced" % (u["phase"], u["progress"]["replaced"]))
        safe_point(t, c)
        again = c.bbctl("pause")
        t.check(again.rc == 0 and "already" in again.text(), "pause again: %r" % again)
        # Paused: a few seconds (of real time; more of bbsim's) without any change.
        h0 = len(c.history())
        calls0 = c.report()["api_calls"]["total"]
        time.sleep(3)
        h = c.history()[h0:]
        acts = daemon_calls(h, DESTRUCTIVE)
        t.check(not acts, "destructive calls while paused: %s" %
                [(r["a"], r["obj"]) for r in acts])
        moved = [r for r in h if r["kind"] in ("ec2", "elb", "lifecycle", "capacity",
                                               "protection", "processes", "stack")]
        t.check(not moved, "the world changed while paused: %s" %
                [(r["kind"], r["a"], r["obj"]) for r in moved[:5]])
        t.check(w.proc.poll() is None, "the watch ended while paused")
        t.fig("api while paused", c.report()["api_calls"]["total"] - calls0)
        r = c.bbctl("resume")
        t.check(r.rc == 0, "resume: %r" % r)
        rc = w.wait(150)
        t.judge(c, rc=rc, outcome="approve", version=TO)


def cancel_early(t):
    with t.cluster(seed=43, speed=SPEED) as c:
        w = c.start_watch(TO)
        when(c, lambda u: u["phase"] == "surge", "the surge phase")
        r = c.bbctl("cancel")
        t.check(r.rc == 0, "cancel: %r" % r)
        rc = w.wait(150)
        rep = t.judge(c, rc=rc, outcome="cancel", version=FROM)
        u = c.status()
        t.check(u["state"] == "cancelled", "the daemon says %s" % u["state"])
        inst = rep["upgrade"]["instances"]
        t.check((inst["launched"], inst["terminated"]) == (1, 1), "launched %d, "
                "terminated %d: expected the surge node only" % (inst["launched"],
                                                                  inst["terminated"]))
        s = c.state()
        t.check(s["zdu"]["state"] == "STABLE" and not s["zdu"]["upgradeModeEnabled"],
                "upgrade mode: %s %s" % (s["zdu"]["state"], s["zdu"]["upgradeModeEnabled"]))
        t.check((s["asg"]["min"], s["asg"]["max"], s["asg"]["desired"]) == (c.n,) * 3,
                "the group's counts: %s" % s["asg"])


def cancel_late(t):
    with t.cluster(seed=45, speed=SPEED) as c:
        w = c.start_watch(TO)
        when(c, replaced(1), "the first node replaced")
        r = c.bbctl("cancel")
        t.check(r.rc == 1 and "NotAllowed" in r.out and "rollback" in r.text(),
                "cancel after a replacement: %r" % r)
        t.note("refused: %s" % ((r.first or {}).get("parameters") or r.text())
               .__str__()[:160])
        rc = w.wait(150)
        t.judge(c, rc=rc, outcome="approve", version=TO)


def rollback(t):
    with t.cluster(seed=47, speed=SPEED) as c:
        w = c.start_watch(TO)
        when(c, replaced(2), "two nodes replaced")
        r = c.bbctl("rollback")
        t.check(r.rc == 0, "rollback: %r" % r)
        rc = w.wait(150)
        t.judge(c, rc=rc, outcome="cancel", version=FROM)
        u = c.status()
        t.check(u["state"] == "rolled_back", "the daemon says %s" % u["state"])


def operator_judged(t, c, victim, halted=False):
    """The operator's kill is the operator's: the victim killed while registered (I4),
    its requests failed (I7), one node fewer serving (I1), one more out of service
    (I2). The first violation of each must be the victim's; the daemon itself never
    acted on it afterwards, nor took a node out with too few serving. I3 and I5 hold;
    I6 too once the upgrade is over (while halted: "did not finish"). Returns the
    invariants violated by the operator, with their reasons."""
    h = c.history()
    kill = [i for i, r in enumerate(h) if r["kind"] == "call" and
            r["a"] == "TerminateInstances" and r["obj"] == victim and
            r.get("b") == "operator"]
    after = [r for r in daemon_calls(h[kill[0] + 1:] if kill else h)
             if r["obj"] == victim]
    t.check(kill, "bbsim did not record the operator's termination")
    t.check(not after, "the daemon acted on the terminated %s: %s" %
            (victim, [r["a"] for r in after]))
    bad = takeouts_below(h, c.n)
    t.check(not bad, "the daemon took a node out with too few serving: %s" % bad)
    died = [r for r in h if r["kind"] == "request" and r["obj"] != victim and
            r["a"] != "draining cut"]
    t.check(not died, "requests failed elsewhere: %s" % died[:3])
    ops = {}
    for i in c.report()["invariants"]:
        if i["ok"] or (halted and i["id"] == "I6" and "did not finish" in i["why"]):
            continue
        ops[i["id"]] = i["why"]
        first = i["first_event"] or {}
        t.check(i["id"] in ("I1", "I2", "I4", "I7") and
                (victim in (i["why"] or "") or first.get("obj") == victim),
                "%s violated, not by the operator's kill: %s (first event %s)" %
                (i["id"], i["why"], first))
    return ops


def operator_kill(t):
    with t.cluster(seed=49, speed=SPEED) as c:
        w = c.start_watch(TO)
        # Mid-replacement (surge 1: no other victim is chosen until this one is
        # replaced), an original the daemon is not touching.
        busy = ("draining", "drained", "terminating", "awaiting")
        u = when(c, lambda u: replaced(1)(u) and any(
            n["purpose"] == "victim" and n["step"] in busy for n in u["nodes"]),
            "the second replacement under way")
        live = [n for n in u["nodes"] if n["role"] == "original" and n["step"] == "live"
                and n["purpose"] == "none"]
        if not live:
            t.fail("no live original left to terminate: %s" % u["nodes"])
        victim = live[0]["instance"]
        c.terminate(victim)
        t.note("the operator terminated %s in phase %s" % (victim, u["phase"]))
        rc = w.wait(150)
        u = c.status()
        said = [e["message"] for e in c.events() if victim in e["message"]]
        t.check(said, "no event names %s" % victim)
        t.fig("daemon", u["state"])
        if u["state"] == "halted":
            # Halting is coping: it says what happened, and resume goes on.
            t.check(rc == 1, "bbctl exited %s on a halt" % rc)
            t.fig("rc", rc)
            t.check(victim in (u.get("reason") or ""), "the halt does not name %s: %s"
                    % (victim, u.get("reason")))
            t.note("halted: %s" % (u.get("reason") or "")[:200])
            bad = drained_alive(c)
            t.check(not bad, "halted with nodes drained but alive: %s" % bad)
            operator_judged(t, c, victim, halted=True)
            r = c.bbctl("resume")
            t.check(r.rc == 0, "resume: %r" % r)
            rc = c.watch().wait(150)
        ops = operator_judged(t, c, victim)
        t.note("the operator's doing, as bbsim judges it: %s" % ops)
        t.judge(c, rc=rc, outcome="approve", version=TO,
                violated={k: "" for k in ops})


def second_start(t):
    with t.cluster(seed=51, speed=SPEED) as c:
        w = c.start_watch(TO)
        u = when(c, lambda u: u["phase"] not in ("preflight",), "the upgrade running")
        r = c.start(TO)
        err = r.first or {}
        t.check(r.rc == 1 and err.get("error") == "io.bbupgraded.UpgradeInProgress" and
                (err.get("parameters") or {}).get("id") == u["id"],
                "a second start: %r" % r)
        human = c.bbctl("start", c.deployment, "--to", TO, "--yes", human=True)
        t.check(human.rc == 1 and ("#%d" % u["id"]) in human.err,
                "a second start does not name upgrade #%d: %r" % (u["id"], human))
        t.note("refused: %s" % " / ".join(human.err.strip().splitlines()))
        rc = w.wait(150)
        t.judge(c, rc=rc, outcome="approve", version=TO)
        hist = c.bbctl("history")
        t.check(len((hist.first or {}).get("upgrades", [])) == 1,
                "history: %s" % hist.out[:300])


SCENARIOS = [
    Scenario("pause, then resume", pause_resume),
    Scenario("cancel before the first replacement", cancel_early),
    Scenario("cancel after the first replacement (refused)", cancel_late),
    Scenario("rollback mid-way", rollback),
    Scenario("an operator terminates a node mid-upgrade", operator_kill),
    Scenario("a second start, refused", second_start),
]

if __name__ == "__main__":
    sys.exit(run_scenarios(SCENARIOS, parallel=int(os.environ.get("BB_PARALLEL", "3"))))
