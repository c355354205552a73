#!/usr/bin/env python3
"""End to end: bbsim's Bitbucket endpoints and its admin views, over HTTP.

Starts $BB_BIN/bbsim (default build/) on a port of the kernel's choosing, with
--speed so that nodes boot in a fraction of a second, and talks to it with
Python's http.client only: the authentication matrix (Basic, Bearer, the scoped
token, a user who is not a sysadmin), the shapes of /rest/zdu/state, /cluster and
/nodes/{id}, start -> READY_TO_UPGRADE, a second start -> 409 with an empty body,
cancel, /status, a node killed by the operator listed OFFLINE, the model's faults,
/_sim/state, /_sim/history and /_sim/report; then a second bbsim with a context
path and accounts of its own. Needs nothing but Python: it never skips.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simlib  # noqa: E402
from simlib import BBSIM, basic, check, failures, wait_for  # noqa: E402

SPEED = "20"
ADMIN = simlib.BB_ADMIN
DEVELOPER = basic("developer", "developer-secret-test")
TOKEN = "Bearer bbsim-sysadmin-token"
SCOPED = "Bearer bbsim-scoped-token"


class Sim(simlib.Sim):
    """A fast bbsim, asked as Bitbucket's clients ask: JSON, with credentials.

    http() takes an Authorization in place of simlib's headers, and admin() goes
    through it, so both differ from simlib.Sim's on purpose.
    """

    def __init__(self, *args):
        super().__init__("--speed", SPEED, *args)

    def http(self, method, path, auth=None, body=None):
        """(status, headers, raw body); the load balancer's 5xx are retried for GETs."""
        h = {"Accept": "application/json"}
        if auth:
            h["Authorization"] = auth
        for _ in range(50):
            out = super().http(method, path, body, h)
            if method != "GET" or out[0] not in (502, 503, 504) or path.endswith("status"):
                return out
            time.sleep(0.05)
        return out

    def json(self, method, path, auth=ADMIN, body=None, want=200):
        st, _, b = self.http(method, path, auth, body)
        check(st == want, "%s %s: %d, want %d: %s" % (method, path, st, want, b[:300]))
        return json.loads(b) if b else None

    def admin(self, path, body=None):
        return self.json("POST" if body is not None else "GET", "/_sim/" + path, None,
                         json.dumps(body) if body is not None else None)


NODE_KEYS = {"id", "name", "ipAddress", "state", "version", "buildNumber", "tasksTotal",
             "activeUserCount", "local", "portNumber", "links"}


def check_node(n, where):
    check(set(n) == NODE_KEYS, "%s: NodeInfo keys %s" % (where, sorted(n)))
    check(isinstance(n.get("tasksTotal"), int) and isinstance(n.get("activeUserCount"), int),
          "%s: counts are integers" % where)
    check(n.get("links", [{}])[0].get("href", "").endswith("/rest/zdu/nodes/" + n.get("id", "")),
          "%s: self link %s" % (where, n.get("links")))


def check_cluster(c, state, live, offline=0):
    check(c["state"] == state, "cluster state %s, want %s" % (c["state"], state))
    check(isinstance(c["upgradeModeEnabled"], bool), "upgradeModeEnabled is a boolean")
    nodes = c["nodes"]
    off = [n for n in nodes if n.get("state") == "OFFLINE"]
    on = [n for n in nodes if n.get("state") != "OFFLINE"]
    check(len(on) == live and len(off) == offline,
          "%d live and %d OFFLINE nodes, want %d and %d" % (len(on), len(off), live, offline))
    for n in off:
        check(set(n) == {"id", "name", "ipAddress", "state"}, "OFFLINE entry keys %s" % sorted(n))
    for n in on:
        check_node(n, "cluster")
    check(sum(1 for n in on if n["local"]) == 1, "exactly one local node")
    keys = [(n["name"], n["ipAddress"]) for n in nodes]
    check(keys == sorted(keys), "nodes sorted by name then address")
    return c


def test_auth(sim):
    print("== authentication")
    matrix = [(None, 401), (basic("admin", "wrong"), 401), ("Basic !!!", 401),
              (ADMIN, 200), (DEVELOPER, 403), (TOKEN, 200), (SCOPED, 403),
              ("Bearer nope", 401), ("Digest x", 401)]
    for auth, want in matrix:
        st, h, b = sim.http("GET", "/rest/zdu/cluster", auth)
        check(st == want, "GET /rest/zdu/cluster as %s: %d, want %d" % (auth, st, want))
        if want == 401:
            check(h.get("www-authenticate") == 'Basic realm="Atlassian Bitbucket"',
                  "401 has WWW-Authenticate: %s" % h)
        if want != 200:
            check("errors" in json.loads(b), "refusal in Bitbucket's error shape: %s" % b)
            check(b"secret" not in b, "no secret in the answer")
    st, _, _ = sim.http("POST", "/rest/zdu/start", SCOPED)
    check(st == 403, "a scoped token cannot start an upgrade (%d)" % st)
    c = sim.admin("counters")
    check(c["auth_failures"]["bitbucket"] == {"401": 5, "403": 3},
          "Bitbucket refusals counted: %s" % c["auth_failures"].get("bitbucket"))
    check(c["api_calls"]["bitbucket"]["GET /rest/zdu/cluster"] == len(matrix),
          "Bitbucket calls counted: %s" % c["api_calls"].get("bitbucket"))


def test_shapes(sim):
    print("== /rest/zdu/state, /cluster, /nodes/{id}, /status")
    s = sim.json("GET", "/rest/zdu/state")
    check(set(s) == {"state", "buildInfo"} and s["state"] == "STABLE", "state: %s" % s)
    check_node(s["buildInfo"], "state")
    check(s["buildInfo"]["local"] is True, "the answering node is local")
    c = check_cluster(sim.json("GET", "/rest/zdu/cluster"), "STABLE", 4)
    check(c["originalVersion"] is None, "no original version while STABLE")
    check([l["rel"] for l in c["links"]] == ["self", "start"], "links: %s" % c["links"])
    n = sim.json("GET", "/rest/zdu/nodes/" + c["nodes"][0]["id"])
    check_node(n, "nodes/{id}")
    check(n["ipAddress"] == c["nodes"][0]["ipAddress"], "the node asked for")
    sim.json("GET", "/rest/zdu/nodes/nosuchnode", want=404)
    sim.json("GET", "/rest/zdu/nothing", want=404)
    st, h, _ = sim.http("GET", "/rest/zdu/approve", ADMIN)
    check(st == 405 and h.get("allow") == "POST", "GET of a POST endpoint: %d" % st)
    st, _, b = sim.http("GET", "/status")
    check(st == 200 and json.loads(b) == {"state": "RUNNING"}, "/status: %d %s" % (st, b))


def test_transitions(sim):
    print("== start, 409 with an empty body, cancel")
    c = check_cluster(sim.json("POST", "/rest/zdu/start"), "READY_TO_UPGRADE", 4)
    check(c["upgradeModeEnabled"] is True and c["originalVersion"] == "7.9.0",
          "upgrade mode on from 7.9.0: %s %s" % (c["upgradeModeEnabled"], c["originalVersion"]))
    check("cancel" in [l["rel"] for l in c["links"]], "cancel is offered")
    for action in ("start", "approve", "retryUpgrade"):
        st, h, b = sim.http("POST", "/rest/zdu/" + action, TOKEN)
        check(st == 409 and b == b"" and h.get("content-length") == "0",
              "%s while READY_TO_UPGRADE: 409 with no body (%d %r)" % (action, st, b))
    c = check_cluster(sim.json("POST", "/rest/zdu/cancel"), "STABLE", 4)
    check(c["upgradeModeEnabled"] is False, "upgrade mode off")
    st, _, b = sim.http("POST", "/rest/zdu/cancel", ADMIN)
    check(st == 409 and b == b"", "cancel while STABLE: 409")


def test_offline(sim):
    print("== a node killed by hand is listed OFFLINE; faults")
    c = sim.json("POST", "/rest/zdu/start")
    state = sim.admin("state")
    victim = next(i for i in state["instances"] if i["member"] and i["ec2"] == "running")
    sim.admin("faults", {"model": {"node_error": "never", "fault_version": ""}})
    r = sim.admin("operator/terminate", {"instance": victim["id"]})
    check(r["TerminatingInstances"][0]["CurrentState"]["Name"] == "shutting-down",
          "terminated from the console: %s" % r)

    def replaced():
        c = sim.json("GET", "/rest/zdu/cluster")
        live = [n for n in c["nodes"] if n.get("state") == "ACTIVE"]
        return c if len(live) == 4 and len(c["nodes"]) == 5 else None
    c = wait_for("the replacement", replaced)
    if c:
        check_cluster(c, "READY_TO_UPGRADE", 4, 1)
        off = [n for n in c["nodes"] if n["state"] == "OFFLINE"]
        check(off and off[0]["ipAddress"] == victim["ip"], "the victim is OFFLINE: %s" % off)
    check_cluster(sim.json("POST", "/rest/zdu/cancel"), "STABLE", 4)
    f = sim.admin("faults", {"model": {"node_stuck": "once", "node_stuck_p": 0.5}})
    check(f["model"]["node_stuck"] == "once" and f["model"]["node_stuck_p"] == 0.5 and
          f["rules"] == [], "model faults set: %s" % f)
    st, _, _ = sim.http("POST", "/_sim/faults", None, json.dumps({"model": {"nope": 1}}))
    check(st == 400, "an unknown fault is refused (%d)" % st)
    sim.admin("faults", {"model": {"node_stuck": "never"}})


def test_admin(sim):
    print("== /_sim/state, /_sim/history, /_sim/report")
    s = sim.admin("state")
    for k in ("time_ms", "stack", "asg", "instances", "elb", "zdu", "traffic"):
        check(k in s, "state has %s" % k)
    check(s["stack"]["parameters"]["BitbucketVersion"] == "7.9.0", "stack parameters")
    check(s["asg"]["counts"]["InService"] == 4, "ASG counts: %s" % s["asg"]["counts"])
    check(any(i["file_server"] for i in s["instances"]), "the FileServer is listed")
    st, h, b = sim.http("GET", "/_sim/history")
    lines = [json.loads(l) for l in b.decode().splitlines()]
    check(st == 200 and len(lines) > 10 and lines[0]["i"] == 0,
          "history: %d records" % len(lines))
    check(all(set(l) == {"i", "t", "kind", "obj", "a", "b", "n", "detail"} for l in lines),
          "history records' keys")
    st, _, b = sim.http("GET", "/_sim/history?since=%d" % (len(lines) - 2))
    check(len(b.decode().splitlines()) >= 2, "history since N")
    r = sim.admin("report")
    check(set(r) >= {"ok", "invariants", "upgrade", "critical_path", "requests",
                     "api_calls"}, "report keys: %s" % sorted(r))
    check([i["id"] for i in r["invariants"]] == ["I1", "I2", "I3", "I4", "I5", "I6", "I7"],
          "I1..I7 reported")
    for i in r["invariants"]:
        check(set(i) == {"id", "ok", "judged", "violations", "why", "first_event"},
              "invariant keys: %s" % sorted(i))
    check(r["upgrade"]["completed"] is True and r["upgrade"]["outcome"] == "cancel",
          "the cancelled upgrade is over: %s" % r["upgrade"])
    check(r["upgrade"]["instances"]["launched"] == 1, "one replacement launched")
    check(r["critical_path"]["total_ms"] > 0 and r["critical_path"]["nodes"] == 4,
          "critical path: %s" % r["critical_path"])
    check(r["requests"]["started"] > 0, "traffic flows: %s" % r["requests"])
    calls = {a["action"]: a["calls"] for a in r["api_calls"]["by_action"]}
    check(calls.get("POST /rest/zdu/start", 0) >= 3, "ZDU calls in the report: %s" % calls)
    # The start refused with 409 after one that worked is I5's to judge.
    check(not r["invariants"][4]["ok"], "a second start is judged (I5)")
    print("  report: ok=%s, requests %d started, %d failed, %d API calls" % (
        r["ok"], r["requests"]["started"], r["requests"]["failed"],
        r["api_calls"]["total"]))


def test_context():
    print("== a context path and accounts of its own")
    sim = Sim("--context", "/bitbucket", "--bitbucket-user", "ops",
              "--bitbucket-password", "pw", "--bitbucket-token", "tok",
              "--nodes", "2", "--bitbucket-version", "8.9.1")
    try:
        st, _, _ = sim.http("GET", "/rest/zdu/cluster", basic("ops", "pw"))
        check(st == 404, "no Bitbucket outside the context path (%d)" % st)
        c = sim.json("GET", "/bitbucket/rest/zdu/cluster", basic("ops", "pw"))
        check_cluster(c, "STABLE", 2)
        check(c["links"][0]["href"].endswith("/bitbucket/rest/zdu/cluster"),
              "links under the context path: %s" % c["links"])
        check(c["nodes"][0]["version"] == "8.9.1", "--bitbucket-version")
        sim.json("GET", "/bitbucket/rest/zdu/cluster", "Bearer tok")
        sim.json("GET", "/bitbucket/rest/zdu/cluster", ADMIN, want=401)
        st, _, _ = sim.http("GET", "/bitbucket/status")
        check(st == 200, "/bitbucket/status (%d)" % st)
    finally:
        err = sim.stop()
    check("2 nodes on Bitbucket 8.9.1" in err, "the scenario summary on stderr")
    check("pw" not in err.split() and "tok" not in err.split(), "no secret logged")
    print("== a scenario file")
    with tempfile.NamedTemporaryFile("w", suffix=".ini") as f:
        f.write("[scenario]\nprofile = fast\nseed = 9\n[cluster]\nnodes = 3\n"
                "[timing]\nnode_boot = 4s\n")
        f.flush()
        sim = Sim("--scenario", f.name)
        try:
            s = sim.admin("state")
            check(s["seed"] == 9 and s["asg"]["desired"] == 3, "the scenario is played")
        finally:
            err = sim.stop()
        check("3 nodes on Bitbucket 7.9.0" in err and "node boot 4s" in err,
              "its summary: %s" % err[:400])
        f.seek(0)
        f.write("[cluster]\nnodez = 3\n")
        f.truncate()
        f.flush()
        p = subprocess.run([BBSIM, "--scenario", f.name], capture_output=True,
                           timeout=10)
        check(p.returncode == 2 and b"nodez" in p.stderr,
              "a bad scenario is refused, the key named: %s" % p.stderr)
    p = subprocess.run([BBSIM, "--speed", "0"], capture_output=True, timeout=10)
    check(p.returncode == 2, "--speed 0 is a usage error (%d)" % p.returncode)
    p = subprocess.run([BBSIM, "--realistic", "--scenario", "/dev/null"],
                       capture_output=True, timeout=10)
    check(p.returncode == 2, "--realistic with --scenario is a usage error")


def main():
    simlib.require_built(BBSIM)
    t0 = time.monotonic()
    sim = Sim("--seed", "5")
    try:
        test_auth(sim)
        test_shapes(sim)
        test_transitions(sim)
        test_offline(sim)
        test_admin(sim)
    finally:
        sim.stop()
    test_context()
    print("%s: %d failure(s) in %.1f s" % (os.path.basename(sys.argv[0]), len(failures),
                                            time.monotonic() - t0))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
