#!/usr/bin/env python3
"""End to end: the seed's rolling upgrade, done by hand, against bbsim.

A person follows "Upgrade a Bitbucket cluster on AWS without downtime"
(seed/000_3bdf52d2054b3380.txt) with the real aws CLI and HTTP calls to
Bitbucket's REST API, on bbsim's fast profile sped up with --speed:

  1. enable upgrade mode (POST /rest/zdu/start);
  2. find ClusterNodeGroup (describe-stack-resource) and note its instances;
  3. update the stack: current template, BitbucketVersion=7.9.4, ClusterNodeMin and
     ClusterNodeMax one higher, every other parameter as it was, CAPABILITY_IAM;
     wait for the new node to be ACTIVE in /rest/zdu/cluster;
  4-5. terminate the original nodes one by one from the EC2 console
     (ec2 terminate-instances), the least busy first, each time waiting for the
     replacement to be ACTIVE;
  6. finalize (POST /rest/zdu/approve);
  then scale down: the counts one lower, and terminate the least busy node.

It then reads /_sim/report and checks that the upgrade completed with every node
on 7.9.4, and what the person's way cost: requests failed by the console's
terminations (I7), and the extra termination and replacement caused by lowering
the counts before removing a node. The key figures are printed. Skipped (exit 0)
only when the aws CLI is not installed.
"""
import json
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simlib  # noqa: E402
from simlib import AKID, BBSIM, HAVE_CLI, SECRET, check, failures  # noqa: E402

SPEED = "8"		# virtual ms per real ms: the fast profile's upgrade in seconds
STACK = "bitbucket"
TARGET = "7.9.4"
ADMIN = simlib.BB_ADMIN
TIMEOUT = 90		# real seconds for any one wait


def fatal(what):
    failures.append(what)
    raise RuntimeError(what)


class Sim(simlib.Sim):
    """bbsim as a person's scripts see it: any failure ends the procedure."""

    def ask(self, method, path, auth=None):
        """(status, raw body), asking for JSON."""
        st, _, b = self.http(method, path, headers={
            "Accept": "application/json", **({"Authorization": auth} if auth else {})})
        return st, b

    def bitbucket(self, method, path):
        """As a person's script: the load balancer's own 5xx means "try again"."""
        for _ in range(100):
            st, b = self.ask(method, path, ADMIN)
            if st not in (502, 503, 504):
                break
            time.sleep(0.05)
        if st != 200:
            fatal("%s %s: %d %r" % (method, path, st, b[:200]))
        return json.loads(b)

    def admin(self, path):
        st, b = self.ask("GET", "/_sim/" + path)
        if st != 200:
            fatal("/_sim/%s: %d" % (path, st))
        return json.loads(b)

    def aws(self, *args):
        env = simlib.clean_env(AWS_ACCESS_KEY_ID=AKID, AWS_SECRET_ACCESS_KEY=SECRET,
                               AWS_RETRY_MODE="standard", AWS_MAX_ATTEMPTS="5")
        r = simlib.run_aws(self, "--output", "json", *args, env=env)
        if r.returncode != 0:
            fatal("aws %s: %s" % (" ".join(args[:2]), r.stderr.strip()))
        return json.loads(r.stdout) if r.stdout.strip() else {}


def wait_for(what, pred, step=0.05):
    v = simlib.poll(pred, TIMEOUT, step)
    if v is None:
        fatal("timed out waiting for " + what)
    return v


def active_on(sim, version):
    c = sim.bitbucket("GET", "/rest/zdu/cluster")
    return [n for n in c["nodes"] if n.get("state") == "ACTIVE" and
            n.get("version") == version]


def least_busy(sim, ips):
    """The seed's advice: fewest running tasks, then fewest users (Bitbucket's view)."""
    c = sim.bitbucket("GET", "/rest/zdu/cluster")
    live = [n for n in c["nodes"] if n.get("ipAddress") in ips and n.get("state") == "ACTIVE"]
    if not live:
        fatal("no live node among %s" % sorted(ips))
    return min(live, key=lambda n: (n["tasksTotal"], n["activeUserCount"]))["ipAddress"]


def update_stack(sim, changes):
    """Update Stack in the console: current template, the rest as it was."""
    stack = sim.aws("cloudformation", "describe-stacks", "--stack-name", STACK)["Stacks"][0]
    params = [{"ParameterKey": p["ParameterKey"], "ParameterValue": changes[p["ParameterKey"]]}
              if p["ParameterKey"] in changes else
              {"ParameterKey": p["ParameterKey"], "UsePreviousValue": True}
              for p in stack["Parameters"]]
    token = "Console-UpdateStack-" + str(uuid.uuid4())
    sim.aws("cloudformation", "update-stack", "--stack-name", STACK,
            "--use-previous-template", "--parameters", json.dumps(params),
            "--capabilities", "CAPABILITY_IAM", "--client-request-token", token)

    def finished():
        ev = sim.aws("cloudformation", "describe-stack-events", "--stack-name", STACK)
        for e in ev["StackEvents"]:
            if e["LogicalResourceId"] == STACK and e.get("ClientRequestToken") == token and \
                    e["ResourceStatus"] in ("UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE",
                                            "UPDATE_ROLLBACK_FAILED"):
                return e["ResourceStatus"]
        return None
    status = wait_for("the stack update " + token, finished, step=0.2)
    if status != "UPDATE_COMPLETE":
        fatal("the stack update ended %s" % status)


def instance_ips(sim, ids):
    r = sim.aws("ec2", "describe-instances", "--instance-ids", *ids)
    return {i["PrivateIpAddress"]: i["InstanceId"]
            for res in r["Reservations"] for i in res["Instances"]
            if i["State"]["Name"] not in ("shutting-down", "terminated")}


def group_instances(sim, group):
    g = sim.aws("autoscaling", "describe-auto-scaling-groups",
                "--auto-scaling-group-names", group)["AutoScalingGroups"][0]
    return [i["InstanceId"] for i in g["Instances"]]


def procedure(sim):
    print("== step 1: upgrade mode")
    c = sim.bitbucket("POST", "/rest/zdu/start")
    check(c["state"] == "READY_TO_UPGRADE", "upgrade mode: %s" % c["state"])
    original = c["originalVersion"]
    print("== step 2: the nodes of ClusterNodeGroup")
    group = sim.aws("cloudformation", "describe-stack-resource", "--stack-name", STACK,
                    "--logical-resource-id", "ClusterNodeGroup"
                    )["StackResourceDetail"]["PhysicalResourceId"]
    originals = instance_ips(sim, group_instances(sim, group))
    n = len(originals)
    print("   %s: %d instances on %s" % (group, n, original))
    print("== step 3: update the stack to %s with one node more" % TARGET)
    update_stack(sim, {"BitbucketVersion": TARGET, "ClusterNodeMin": str(n + 1),
                       "ClusterNodeMax": str(n + 1)})
    wait_for("the new node ACTIVE", lambda: len(active_on(sim, TARGET)) >= 1)
    print("== steps 4-5: terminate the originals from the EC2 console")
    left = dict(originals)
    for i in range(n):
        ip = least_busy(sim, left)
        print("   terminating %s (%s)" % (left[ip], ip))
        sim.aws("ec2", "terminate-instances", "--instance-ids", left.pop(ip))
        wait_for("replacement %d ACTIVE" % (i + 1),
                 lambda: len(active_on(sim, TARGET)) >= i + 2)
    print("== step 6: finalize")
    wait_for("READY_TO_RUN_UPGRADE_TASKS", lambda: sim.bitbucket(
        "GET", "/rest/zdu/cluster")["state"] == "READY_TO_RUN_UPGRADE_TASKS")
    sim.bitbucket("POST", "/rest/zdu/approve")
    wait_for("STABLE", lambda: sim.bitbucket("GET", "/rest/zdu/cluster")["state"] == "STABLE")
    print("== scale down: the counts one lower, then the least busy node")
    update_stack(sim, {"ClusterNodeMin": str(n), "ClusterNodeMax": str(n)})
    live = instance_ips(sim, group_instances(sim, group))
    ip = least_busy(sim, live)
    print("   terminating %s (%s)" % (live[ip], ip))
    sim.aws("ec2", "terminate-instances", "--instance-ids", live[ip])
    return n, original


def settled(sim, n):
    """Every node the group has is ACTIVE on the target and in service, and no more."""
    s = sim.admin("state")
    live = [i for i in s["instances"] if i["member"] and i["ec2"] != "terminated"]
    return (len(live) == n and s["elb"]["in_service"] == n and
            all(i["node"] == "ACTIVE" and i["version"] == TARGET for i in live) and
            s["zdu"]["state"] == "STABLE" and not s["stack"]["operation_in_progress"])


def judge(sim, n, original):
    s = sim.admin("state")
    r = sim.admin("report")
    up = r["upgrade"]
    inv = {i["id"]: i for i in r["invariants"]}
    check(up and up["completed"] and up["outcome"] == "approve", "completed: %s" % up)
    check(up["from"] == original and up["to"] == TARGET, "%s -> %s" % (up["from"], up["to"]))
    check(s["stack"]["parameters"]["BitbucketVersion"] == TARGET, "stack on the target")
    check((s["asg"]["min"], s["asg"]["max"], s["asg"]["desired"]) == (n, n, n),
          "the group is back to %d: %s" % (n, s["asg"]))
    check(inv["I6"]["ok"], "the end state is the promised one (I6): %s" % inv["I6"]["why"])
    # What the console's way cost: killed nodes fail their requests...
    check(r["requests"]["failed"] > 0, "requests failed: %s" % r["requests"])
    check(not inv["I7"]["ok"], "I7 is violated by the console terminations")
    check(not inv["I4"]["ok"], "I4: instances killed while registered in the ELB")
    # ... and lowering the counts first costs one termination and one boot more.
    check(up["instances"]["launched"] == n + 2 and up["instances"]["terminated"] == n + 2,
          "launched %d, terminated %d: want %d each (N + surge + the scale-down's "
          "replacement)" % (up["instances"]["launched"], up["instances"]["terminated"],
                            n + 2))
    cp = r["critical_path"]
    print("== report")
    print("   upgrade %s -> %s: %.1f s virtual; lower bound %.1f s; ratio %.2f" % (
        up["from"], up["to"], up["wall_ms"] / 1000, cp["total_ms"] / 1000,
        up["ratio_to_bound"] or 0))
    print("   instances launched %d, terminated %d (minimum %d); drains clean %d, "
          "forced %d" % (up["instances"]["launched"], up["instances"]["terminated"],
                         up["instances"]["minimum"], up["drains"]["clean"],
                         up["drains"]["forced"]))
    print("   requests: %d started, %d served, %d failed %s, %d shorter than the "
          "draining timeout" % (r["requests"]["started"], r["requests"]["served"],
                                r["requests"]["failed"], r["requests"]["failed_by_reason"],
                                r["requests"]["failed_short"]))
    for i in r["invariants"]:
        print("   %s %s%s" % (i["id"], "ok" if i["ok"] else "VIOLATED (%d)" % i["violations"],
                             "" if i["ok"] else ": " + (i["why"] or "")))
    print("   API calls: %d (%d throttled)" % (r["api_calls"]["total"],
                                              r["api_calls"]["throttled"]))


def main():
    if not HAVE_CLI:
        print("skipped: aws CLI not installed")
        sys.exit(0)
    simlib.require_built(BBSIM)
    t0 = time.monotonic()
    sim = Sim("--speed", SPEED, "--seed", "11")
    try:
        n, original = procedure(sim)
        wait_for("the cluster to settle", lambda: settled(sim, n), step=0.1)
        judge(sim, n, original)
    except RuntimeError as e:
        print("  FAIL:", e)
    finally:
        sim.stop()
    took = time.monotonic() - t0
    check(took < 120, "the manual upgrade took %.1f s" % took)
    print("%s: %d failure(s) in %.1f s" % (os.path.basename(sys.argv[0]), len(failures), took))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
