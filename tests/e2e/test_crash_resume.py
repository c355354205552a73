#!/usr/bin/env python3
"""End to end: kill -9 the daemon at every journal boundary, and at random moments.

Every destructive step goes through the journal: intent committed -> call -> outcome
committed. A crash can fall in three places, and each scenario here puts one there
for every destructive step of an upgrade (the first occurrence of each call: ZDU
start and approve, scale-in protection, suspend and resume, the change set's creation
and execution, deregistration, termination), then restarts the
daemon on the same state and lets it go on:

  - after the intent: bbsim holds the call unanswered and does not perform it (a
    fault rule: network no_answer, when before); the daemon is killed while it waits;
  - after the call: bbsim performs the call, then holds the answer (when after);
    the daemon is killed without knowing that it happened;
  - after the outcome: the daemon is killed as soon as the journal holds the outcome.

A fourth scenario kills it at random moments (seeded). Each run must complete with
every node on 7.9.4, bbsim's invariants I1-I7 intact (I5 catches any destructive call
made twice: a token used again, a termination of a terminating instance, protection
set to what it already was, a ZDU call repeated), and the daemon's destructive calls
bbsim performed exactly as many as an upgrade of this cluster needs.
"""
import os
import random
import signal
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from upgrade_harness import TO, Scenario, daemon_calls, run_scenarios  # noqa: E402

SPEED = 4
# (service, action) as bbsim's fault rules name them, and how many occurrences to hit.
STEPS = [("bitbucket", "start", 1), ("autoscaling", "SetInstanceProtection", 1),
         ("autoscaling", "SuspendProcesses", 1), ("cloudformation", "CreateChangeSet", 1),
         ("cloudformation", "ExecuteChangeSet", 1),
         ("elasticloadbalancing", "DeregisterInstancesFromLoadBalancer", 1),
         ("autoscaling", "TerminateInstanceInAutoScalingGroup", 1),
         ("bitbucket", "approve", 1), ("autoscaling", "ResumeProcesses", 1)]
# The journal's names of the same steps (daemon/engine/core_names.c).
JOURNAL = ("zdu-start", "set-protection", "suspend-processes", "create-change-set",
           "execute-change-set", "deregister", "terminate", "zdu-approve",
           "resume-processes")


def crash(c, t, why):
    c.restart_daemon(signal.SIGKILL)
    t.note(why)
    t.kills += 1


def exact_calls(t, c, n, k):
    """What bbsim performed for the daemon: each decision's call once, no more."""
    calls = {}
    for r in daemon_calls(c.history()):
        calls[r["a"]] = calls.get(r["a"], 0) + 1
    want = {"TerminateInstanceInAutoScalingGroup": n - k, "ExecuteChangeSet": 2,
            "DeregisterInstancesFromLoadBalancer": n, "SuspendProcesses": 1,
            "ResumeProcesses": 1, "zdu/start": 1, "zdu/approve": 1}
    for a, w in want.items():
        t.check(calls.get(a, 0) == w, "%s performed %d times, expected %d" %
                (a, calls.get(a, 0), w))
    t.check("TerminateInstances" not in calls, "the daemon called TerminateInstances")


def finish(t, c, timeout=240):
    c.wait_upgrade(("done", "halted"), timeout)
    t.judge(c, outcome="approve", version=TO)
    exact_calls(t, c, c.n, c.surge)
    t.fig("kills", t.kills)


def held_boundary(t, when):
    """Kill while bbsim holds each destructive call (when: before or after it acts)."""
    t.kills = 0
    with t.cluster(seed=21 if when == "before" else 23, speed=SPEED) as c:
        c.faults(rules=[{"service": s, "action": a, "network": "no_answer",
                         "when": when, "count": k, "hold_ms": 3000}
                        for s, a, k in STEPS])
        c.start(TO)
        hit = set()
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            u = c.status()
            if u and u["state"] in ("done", "halted"):
                break
            for h in c.admin("GET", "held"):
                key = (h["service"], h["action"], h.get("applied"))
                if when == "after" and not h.get("applied"):
                    continue        # performed yet? wait for it, then kill
                crash(c, t, "killed holding %s/%s (applied: %s)" % key)
                hit.add(key[:2])
                # bbsim lets go of a held call once it sees its client gone.
                c.wait_for(lambda: not [x for x in c.admin("GET", "held") if
                                        (x["service"], x["action"]) == key[:2]],
                           10, "the held call to be dropped")
                break
            time.sleep(0.02)
        missing = [s + "/" + a for s, a, _ in STEPS if (s, a) not in hit]
        t.check(not missing, "no crash at: %s" % ", ".join(missing))
        finish(t, c)


def after_outcome(t):
    """Kill as soon as the journal holds the outcome of each kind of step."""
    t.kills = 0
    with t.cluster(seed=25, speed=SPEED) as c:
        db = os.path.join(c.state_dir, "state.db")
        c.start(TO)
        todo = set(JOURNAL)
        deadline = time.monotonic() + 240
        while todo and time.monotonic() < deadline:
            with sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5) as q:
                done = {a for (a,) in q.execute("SELECT DISTINCT action FROM journal "
                                                "WHERE outcome IS NOT NULL")}
            fresh = todo & done
            if fresh:
                crash(c, t, "killed after the outcome of " + ", ".join(sorted(fresh)))
                todo -= fresh
            time.sleep(0.02)
        t.check(not todo, "no crash after: %s" % ", ".join(sorted(todo)))
        finish(t, c)


def random_moments(t):
    t.kills = 0
    rng = random.Random(27)
    with t.cluster(seed=27, speed=SPEED) as c:
        c.start(TO)
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            time.sleep(rng.uniform(0.3, 3.0))
            u = c.status()
            if u and u["state"] in ("done", "halted"):
                break
            crash(c, t, "killed at random in phase %s" % (u or {}).get("phase"))
        finish(t, c)


SCENARIOS = [
    Scenario("kill -9 after each intent (call held, not performed)",
             lambda t: held_boundary(t, "before")),
    Scenario("kill -9 after each call (performed, answer held)",
             lambda t: held_boundary(t, "after")),
    Scenario("kill -9 after each outcome commit", after_outcome),
    Scenario("kill -9 at random moments", random_moments),
]

if __name__ == "__main__":
    sys.exit(run_scenarios(SCENARIOS, parallel=int(os.environ.get("BB_PARALLEL", "4"))))
