#!/usr/bin/env python3
"""End to end: bbsim's fault rules, as real clients see them.

Starts $BB_BIN/bbsim (default build/) and sets rules through POST /_sim/faults:
AWS errors in their envelopes, byte for byte and as botocore and the aws CLI parse
them (ResourceContention is code ResourceContention with status 500); network
faults: a reset is a connection error for http.client and curl, a no_answer holds the
request (listed by GET /_sim/held) and then closes it without a response; "when":
"after" lets a destructive call take effect before its answer is lost (the instance
is Terminating for another client), "before" does not; "count" limits how often a
rule fires; Bitbucket's endpoints take rules of their own; every fault is counted,
and STS calls stay out of the report's api_calls. Invalid rules are refused with a
clear 400 and leave the table as it was.

The parts that need botocore or the aws CLI are skipped, with a message, where they
are not installed; the rest always runs.
"""
import http.client
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simlib  # noqa: E402
from simlib import AKID, BBSIM, FORM, HAVE_CLI, SECRET, check  # noqa: E402

BB_AUTH = {"Authorization": simlib.BB_ADMIN}
ASG_NS = "http://autoscaling.amazonaws.com/doc/2011-01-01/"
CONTENTION = ("You already have a pending update to an Amazon EC2 Auto Scaling "
              "resource (for example, an Auto Scaling group, instance, or load "
              "balancer).")
UNAVAILABLE = "The request has failed due to a temporary failure of the server."
TERMINATE = "TerminateInstanceInAutoScalingGroup"

try:
    import botocore.session
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.config import Config
    from botocore.credentials import Credentials
    from botocore.exceptions import ClientError
    HAVE_BOTOCORE = True
except ImportError:
    HAVE_BOTOCORE = False
HAVE_CURL = shutil.which("curl") is not None


class Sim(simlib.Sim):
    """bbsim with seed 7, which must not warn of the faults it is asked for."""

    def __init__(self, *args):
        super().__init__("--seed", "7", *args)

    def stop(self):
        err = super().stop()
        check("[warning]" not in err, "no warning for the faults asked for: %s" %
              [l for l in err.splitlines() if "[warning]" in l][:3])

    def rules(self, *rules):
        return self.admin("faults", {"rules": list(rules)})


def signed(sim, service, body):
    """A form request signed by botocore's SigV4Auth, sent as is."""
    req = AWSRequest(method="POST", url=sim.url + "/", data=body,
                     headers={"Content-Type": FORM})
    SigV4Auth(Credentials(AKID, SECRET), service, "us-east-1").add_auth(req)
    p = req.prepare()
    return sim.http("POST", "/", p.body, dict(p.headers))


def client(sim, service, read_timeout=10):
    cfg = Config(retries={"total_max_attempts": 1}, read_timeout=read_timeout,
                 connect_timeout=5)
    return botocore.session.get_session().create_client(
        service, region_name="us-east-1", endpoint_url=sim.url,
        aws_access_key_id=AKID, aws_secret_access_key=SECRET, config=cfg)


def client_error(fn, **kw):
    """(code, HTTP status, message) of the ClientError fn raises, or None."""
    try:
        fn(**kw)
    except ClientError as e:
        return (e.response["Error"]["Code"],
                e.response["ResponseMetadata"]["HTTPStatusCode"],
                e.response["Error"].get("Message"))
    return None


def counters(sim):
    return sim.admin("counters")


def rule_state(sim, i):
    return sim.admin("faults")["rules"][i]


def instances(asg):
    g = asg.describe_auto_scaling_groups()["AutoScalingGroups"][0]
    return {i["InstanceId"]: i["LifecycleState"] for i in g["Instances"]}


def wait_for(what, fn, timeout):
    """fn()'s first true value; after timeout, what it says then (no failure)."""
    return simlib.poll(fn, timeout, 0.1) or fn()


# ---- the rules' validation ----

def test_validation(sim):
    print("== invalid rules: 400, a reason, the table unchanged")
    sim.rules({"service": "sts", "latency_ms": 5})
    bad = [
        ({"service": "ec2", "error": "ResourceContention"}, "autoscaling"),
        ({"service": "autoscaling", "error": "RequestLimitExceeded"}, "ec2"),
        ({"service": "autoscaling", "action": "DescribeAutoScalingGroups",
          "error": "ScalingActivityInProgress"}, "mutating"),
        ({"error": "Nope"}, "error \"Nope\""),
        ({"network": "drop"}, "no_answer or reset"),
        ({"network": "reset", "error": "InternalFailure"}, "exclude"),
        ({"error": "Throttling", "when": "after"}, "when must be before"),
        ({"when": "later"}, "before or after"),
        ({"error": "InternalFailure", "hold_ms": 5}, "hold_ms goes with"),
        ({"network": "no_answer", "hold_ms": 0}, "hold_ms must be"),
        ({"network": "reset", "count": 0}, "count must be"),
        ({"network": "reset", "count": "1"}, "integer"),
        ({"service": "sts", "latency_ms": 5, "count": 2}, "count limits a fault"),
        ({"service": "ecs"}, "service \"ecs\""),
        ({"service": "bitbucket", "error_rate": 1}, "bitbucket: error must be"),
        ({"service": "bitbucket", "action": "upgrade"}, "Bitbucket's are"),
        ({"service": "autoscaling", "action": "TerminateInstance"},
         "no such operation"),
        ({"service": "x" * 5000}, "service"),
        ({"error_rate": 1.5}, "error_rate"),
        ({"latency_ms": -1}, "latency_ms"),
        ({"servce": "sts"}, "servce"),
        ("reset", "JSON object"),
    ]
    for rule, words in bad:
        st, _, b = sim.http("POST", "/_sim/faults", json.dumps({"rules": [rule]}))
        err = json.loads(b).get("error", "") if st == 400 else b
        check(st == 400 and words in err and err.startswith("rules[0]: "),
              "%r refused with %r: %d %s" % (rule, words, st, err))
    for body in (b"", b"null", b"[]", b"{\"rules\": null}", b"{\"rules\": [null]}",
                 b"\xff\xfe", json.dumps({"rules": [{}] * 65}).encode()):
        st, _, b = sim.http("POST", "/_sim/faults", body)
        check(st == 400, "body %r refused: %d %s" % (body[:40], st, b[:100]))
    r = sim.admin("faults")["rules"]
    check(len(r) == 1 and r[0]["service"] == "sts" and r[0]["latency_ms"] == 5 and
          "error" not in r[0], "the table is as before: %s" % r)
    good = sim.rules({"service": "autoscaling", "action": TERMINATE,
                      "network": "no_answer", "when": "after", "count": 2})["rules"][0]
    check(good == {"service": "autoscaling", "action": TERMINATE, "error_rate": 1.0,
                   "latency_ms": 0, "fired": 0, "network": "no_answer",
                   "hold_ms": 600000, "when": "after", "count": 2, "remaining": 2},
          "a network rule's defaults: %s" % good)
    sim.rules()


# ---- AWS errors ----

def test_aws_errors(sim):
    print("== AWS errors: envelopes, and what botocore and the CLI make of them")
    asg = client(sim, "autoscaling")
    ids = sorted(instances(asg))
    sim.rules({"service": "autoscaling", "error": "ResourceContention"},
              {"service": "ec2", "error": "ServiceUnavailable"},
              {"service": "monitoring", "error": "InternalFailure"})
    st, h, b = signed(sim, "autoscaling",
                      "Action=DescribeAutoScalingGroups&Version=2011-01-01")
    rid = h.get("x-amzn-requestid", "")
    want = ('<ErrorResponse xmlns="%s">\n  <Error>\n    <Type>Sender</Type>\n'
            '    <Code>ResourceContention</Code>\n    <Message>%s</Message>\n'
            '  </Error>\n  <RequestId>%s</RequestId>\n</ErrorResponse>\n'
            % (ASG_NS, CONTENTION, rid)).encode()
    check(st == 500 and b == want and h.get("content-type") == "text/xml",
          "ResourceContention, Query envelope: %d %s" % (st, b))
    st, h, b = signed(sim, "ec2", "Action=DescribeInstances&Version=2016-11-15")
    want = ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
            '<Code>ServiceUnavailable</Code><Message>%s</Message></Error></Errors>'
            '<RequestID>%s</RequestID></Response>'
            % (UNAVAILABLE, h.get("x-amzn-requestid"))).encode()
    check(st == 503 and b == want and h.get("server") == "AmazonEC2",
          "ServiceUnavailable, EC2 envelope: %d %s" % (st, b))
    e = client_error(asg.describe_auto_scaling_groups)
    check(e == ("ResourceContention", 500, CONTENTION),
          "botocore: ResourceContention, 500: %s" % (e,))
    e = client_error(client(sim, "ec2").describe_instances)
    check(e == ("ServiceUnavailable", 503, UNAVAILABLE), "botocore EC2: %s" % (e,))
    # botocore speaks JSON 1.0 to CloudWatch: the code comes in x-amzn-query-error.
    e = client_error(client(sim, "cloudwatch").describe_alarms)
    check(e is not None and e[:2] == ("InternalFailure", 500),
          "botocore CloudWatch (JSON 1.0): %s" % (e,))
    if HAVE_CLI:
        env = simlib.clean_env(AWS_ACCESS_KEY_ID=AKID, AWS_SECRET_ACCESS_KEY=SECRET,
                               AWS_MAX_ATTEMPTS="1")
        r = simlib.run_aws(sim, "autoscaling", "describe-auto-scaling-groups", env=env)
        check(r.returncode != 0 and "(ResourceContention)" in r.stderr and
              CONTENTION in r.stderr, "aws CLI sees ResourceContention: %s" % r.stderr)
    else:
        print("  skipped: aws CLI not installed (its ResourceContention check)")
    sim.rules({"service": "autoscaling", "action": TERMINATE,
               "error": "ScalingActivityInProgress"})
    e = client_error(asg.terminate_instance_in_auto_scaling_group, InstanceId=ids[0],
                     ShouldDecrementDesiredCapacity=False)
    check(e is not None and e[:2] == ("ScalingActivityInProgress", 400) and
          e[2].startswith("Activity ") and e[2].endswith(" is in progress."),
          "ScalingActivityInProgress in Terminate's words: %s" % (e,))
    check(instances(asg)[ids[0]] == "InService", "a refusal changes nothing")
    c = counters(sim)["faults"]
    check(c.get("autoscaling/DescribeAutoScalingGroups/ResourceContention", 0) >= 2 and
          c.get("ec2/DescribeInstances/ServiceUnavailable", 0) >= 2 and
          c.get("monitoring/DescribeAlarms/InternalFailure", 0) == 1 and
          c.get("autoscaling/%s/ScalingActivityInProgress" % TERMINATE) == 1,
          "faults counted: %s" % c)
    sim.rules()


def test_count(sim):
    print("== count: the rule fires that often, then is spent")
    sim.rules({"service": "sts", "error": "InternalFailure", "count": 1})
    gci = "Action=GetCallerIdentity&Version=2011-06-15"
    st1, _, b1 = signed(sim, "sts", gci)
    st2, _, _ = signed(sim, "sts", gci)
    check(st1 == 500 and b"<Code>InternalFailure</Code>" in b1 and
          b"<Type>Receiver</Type>" in b1, "first call: InternalFailure (%d %s)" %
          (st1, b1))
    check(st2 == 200, "second call: 200 (got %d)" % st2)
    r = rule_state(sim, 0)
    check(r["remaining"] == 0 and r["fired"] == 1 and r["count"] == 1,
          "spent rule shown: %s" % r)
    # Half the calls, drawn: a count of 3 still stops at 3.
    sim.rules({"service": "sts", "error": "InternalFailure", "error_rate": 0.5,
               "count": 3})
    codes = [signed(sim, "sts", gci)[0] for _ in range(40)]
    check(codes.count(500) == 3 and rule_state(sim, 0)["remaining"] == 0,
          "error_rate 0.5, count 3: %d failures" % codes.count(500))
    sim.rules()


def test_report_leaves_sts_out(sim):
    print("== STS calls are not orchestration: not in the report's api_calls")
    for _ in range(3):
        signed(sim, "sts", "Action=GetCallerIdentity&Version=2011-06-15")
    rep = sim.admin("report")
    svcs = {a["service"] for a in rep["api_calls"]["by_action"]}
    check("sts" not in svcs, "report api_calls: %s" % sorted(svcs))
    check(counters(sim)["api_calls"]["sts"]["GetCallerIdentity"] >= 3,
          "yet /_sim/counters counts them")


def test_report_counts_refused(sim):
    print("== calls a rule throttled before they ran are in the report's api_calls")

    def described():
        rep = sim.admin("report")["api_calls"]["by_action"]
        return next(((a["calls"], a["throttled"]) for a in rep
                     if a["action"] == "DescribeAutoScalingGroups"), (0, 0))
    calls0, throttled0 = described()
    sim.rules({"service": "autoscaling", "action": "DescribeAutoScalingGroups",
               "error": "Throttling", "count": 2})
    body = "Action=DescribeAutoScalingGroups&Version=2011-01-01"
    codes = [signed(sim, "autoscaling", body)[0] for _ in range(3)]
    sim.rules()
    calls, throttled = described()
    check(codes == [400, 400, 200], "two throttled, then answered: %s" % codes)
    check((calls - calls0, throttled - throttled0) == (3, 2),
          "report: %d calls, %d throttled (expected 3 and 2)" %
          (calls - calls0, throttled - throttled0))


# ---- network faults ----

def test_reset(sim):
    print("== reset: the connection is aborted (RST), no answer")
    sim.rules({"service": "bitbucket", "action": "status", "network": "reset"})
    try:
        st = sim.http("GET", "/status")[0]
        check(False, "a reset, not an answer (%d)" % st)
    except ConnectionResetError as e:
        check(e.errno == 104 or isinstance(e, http.client.RemoteDisconnected),
              "http.client: connection reset (%r)" % e)
    if HAVE_CURL:
        r = subprocess.run(["curl", "-sS", sim.url + "/status"], capture_output=True,
                           text=True, timeout=30)
        check(r.returncode in (52, 56), "curl: reset or empty reply (%d %s)" %
              (r.returncode, r.stderr))
    else:
        print("  skipped: curl not installed (its reset check)")
    if HAVE_BOTOCORE:
        sim.rules({"service": "sts", "network": "reset"})
        try:
            signed(sim, "sts", "Action=GetCallerIdentity&Version=2011-06-15")
            check(False, "AWS call reset")
        except ConnectionError:
            pass
    check(sim.http("GET", "/_sim/health")[0] == 200, "bbsim serves on")
    c = counters(sim)["faults"]
    check(c.get("bitbucket/status/reset", 0) >= 1, "resets counted: %s" % c)
    sim.rules()


def test_no_answer_dropped(sim):
    print("== no_answer: held for hold_ms, listed, then closed without a response")
    sim.rules({"service": "bitbucket", "action": "state", "network": "no_answer",
               "hold_ms": 1500})
    t0 = time.monotonic()
    child = subprocess.Popen([sys.executable, "-c", (
        "import http.client, sys\n"
        "c = http.client.HTTPConnection('127.0.0.1', %d, timeout=30)\n"
        "c.request('GET', '/rest/zdu/state', headers=%r)\n"
        "try:\n    c.getresponse()\nexcept http.client.RemoteDisconnected:\n"
        "    sys.exit(3)\n" % (sim.port, BB_AUTH))])
    held = wait_for("held", lambda: sim.admin("held"), 5)
    check(len(held) == 1 and held[0]["service"] == "bitbucket" and
          held[0]["action"] == "state" and held[0]["applied"] is False and
          held[0]["status"] == 0 and 0 <= held[0]["held_ms"] < 1500,
          "listed while held: %s" % held)
    check(sim.http("GET", "/_sim/health", timeout=2)[0] == 200,
          "others are served meanwhile")
    rc = child.wait(timeout=20)
    check(rc == 3 and time.monotonic() - t0 >= 1.4,
          "the client got no response, after hold_ms (rc %s, %.2f s)" %
          (rc, time.monotonic() - t0))
    check(sim.admin("held") == [], "no longer held")
    sim.rules()


TERMINATE_CHILD = """
import sys, botocore.session
from botocore.config import Config
cfg = Config(retries={"total_max_attempts": 1}, read_timeout=300)
asg = botocore.session.get_session().create_client(
    "autoscaling", region_name="us-east-1", endpoint_url=sys.argv[1],
    aws_access_key_id=%r, aws_secret_access_key=%r, config=cfg)
asg.terminate_instance_in_auto_scaling_group(InstanceId=sys.argv[2],
                                             ShouldDecrementDesiredCapacity=False)
print("answered")
""" % (AKID, SECRET)


def held_terminate(sim, instance):
    """Starts a client's TerminateInstance...; returns it and what /_sim/held says."""
    child = subprocess.Popen([sys.executable, "-c", TERMINATE_CHILD, sim.url, instance],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    held = wait_for("held", lambda: sim.admin("held"), 10)
    return child, held


def test_no_answer_terminate(sim):
    print("== no_answer after TerminateInstance...: done, unanswered; before: not done")
    asg = client(sim, "autoscaling")
    ids = sorted(instances(asg))
    sim.rules({"service": "autoscaling", "action": TERMINATE, "network": "no_answer",
               "when": "after", "count": 1})
    child, held = held_terminate(sim, ids[0])
    check(len(held) == 1 and held[0]["service"] == "autoscaling" and
          held[0]["action"] == TERMINATE and held[0]["applied"] is True and
          held[0]["status"] == 200, "held, applied: %s" % held)
    child.kill()        # kill -9: the client never learns what happened
    child.wait()
    check(child.stdout.read() == b"", "the client got no answer")
    state = wait_for("terminating", lambda: instances(asg).get(ids[0]) == "Terminating"
                     and "Terminating", 5)
    check(state == "Terminating", "another client sees %s Terminating (%s)" %
          (ids[0], instances(asg)))
    check(wait_for("released", lambda: sim.admin("held") == [], 3),
          "the killed client's connection is let go: %s" % sim.admin("held"))
    check(rule_state(sim, 0)["remaining"] == 0, "count 1: spent")

    sim.rules({"service": "autoscaling", "action": TERMINATE, "network": "no_answer"})
    child, held = held_terminate(sim, ids[1])
    check(len(held) == 1 and held[0]["applied"] is False and held[0]["status"] == 0,
          "held before the operation: %s" % held)
    time.sleep(1.5)
    sim.rules()
    check(instances(asg).get(ids[1]) == "InService",
          "before: %s still InService (%s)" % (ids[1], instances(asg)))
    child.kill()
    child.wait()
    c = counters(sim)["faults"]
    check(c.get("autoscaling/%s/no_answer" % TERMINATE) == 2,
          "no_answer counted: %s" % c)


# ---- Bitbucket ----

def test_bitbucket(sim):
    print("== Bitbucket: 503 as a proxy, 500, after, and \"*\" leaves it alone")
    sim.rules({"service": "bitbucket", "action": "status",
               "error": "ServiceUnavailable"},
              {"service": "bitbucket", "action": "cluster",
               "error": "InternalFailure"},
              {"service": "*", "error": "InternalFailure", "latency_ms": 0})
    st, _, b = sim.http("GET", "/status")
    check(st == 503 and b == b"", "status: 503, empty (%d %r)" % (st, b))
    st, h, b = sim.http("GET", "/rest/zdu/cluster", headers=BB_AUTH)
    check(st == 500 and h.get("content-type") == "application/json" and
          "errors" in json.loads(b), "cluster: 500 (%d %s)" % (st, b))
    st, _, b = sim.http("GET", "/rest/zdu/state", headers=BB_AUTH)
    check(st == 200, "\"*\" rules do not reach Bitbucket (%d %s)" % (st, b))
    sim.rules({"service": "bitbucket", "action": "start", "network": "no_answer",
               "when": "after", "hold_ms": 300})
    try:
        sim.http("POST", "/rest/zdu/start", headers=BB_AUTH)
        check(False, "start answered")
    except http.client.RemoteDisconnected:
        pass
    st, _, b = sim.http("GET", "/rest/zdu/cluster", headers=BB_AUTH)
    check(st == 200 and json.loads(b)["state"] == "READY_TO_UPGRADE",
          "the unanswered start took effect: %s" % b[:200])
    sim.rules({"service": "bitbucket", "action": "cancel", "error": "InternalFailure",
               "when": "after"})
    st, _, _ = sim.http("POST", "/rest/zdu/cancel", headers=BB_AUTH)
    st2, _, b = sim.http("GET", "/rest/zdu/cluster", headers=BB_AUTH)
    check(st == 500 and json.loads(b)["state"] == "STABLE",
          "cancel failed after it ran (%d, %s)" % (st, json.loads(b)["state"]))
    c = counters(sim)
    check(c["faults"].get("bitbucket/status/ServiceUnavailable") == 1 and
          c["faults"].get("bitbucket/start/no_answer") == 1,
          "Bitbucket faults counted: %s" % c["faults"])
    check(c["api_calls"]["bitbucket"].get("GET /status", 0) >= 1,
          "a faulted call is still a call: %s" % c["api_calls"]["bitbucket"])
    sim.rules()


def main():
    simlib.require_built(BBSIM)
    sim = Sim()
    try:
        test_validation(sim)
        test_reset(sim)
        test_no_answer_dropped(sim)
        test_bitbucket(sim)
        if HAVE_BOTOCORE:
            test_aws_errors(sim)
            test_count(sim)
            test_report_leaves_sts_out(sim)
            test_report_counts_refused(sim)
            test_no_answer_terminate(sim)
        else:
            print("skipped: botocore not installed (the AWS checks)")
    finally:
        sim.stop()
    simlib.exit_report("all fault checks passed")


if __name__ == "__main__":
    main()
