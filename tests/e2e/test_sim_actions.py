#!/usr/bin/env python3
"""End to end: every AWS action bbsim simulates, through the real clients.

Starts $BB_BIN/bbsim (default build/) on a port of the kernel's choosing, with a
scenario whose virtual epoch is the wall clock (so CloudWatch windows in real time
hold the model's now), and calls each CloudFormation, Auto Scaling, EC2, CloudWatch
and Classic ELB action bbsim answers, once with the aws CLI and once with botocore:
every answer must parse, key fields must hold what the model says, and every XML
answer's elements must come in the order of botocore's model of the output shape
(botocore's parser does not care; AWS's answers and a stricter parser do). Refusals
must surface through the clients with AWS's code and words. CloudWatch is driven over
JSON 1.0 (what the clients speak by default) and over Query (a copy of botocore's
model that says "query", as aws-errors.md 10 describes).

Skips, with a message, when neither the aws CLI nor botocore is installed.
"""
import copy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simlib  # noqa: E402
from simlib import (AKID, BBSIM, HAVE_CLI, SECRET, check, failures,  # noqa: E402
                    wait_for)

STACK = "bitbucket"
CAPS = ["CAPABILITY_IAM"]

# Our own process talks to bbsim through botocore: nothing of the user's may leak in.
for k in [k for k in os.environ if k.startswith("AWS_")]:
    del os.environ[k]
os.environ.update(AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null",
                  AWS_EC2_METADATA_DISABLED="true")

try:
    import botocore
    import botocore.loaders
    import botocore.session
    from botocore.config import Config
    from botocore.exceptions import ClientError
    HAVE_BOTOCORE = True
except ImportError:
    HAVE_BOTOCORE = False


class Sim(simlib.Sim):
    """bbsim, whose stderr must hold no sanitizer's report."""

    def stop(self):
        err = super().stop()
        check("ERROR: AddressSanitizer" not in err and "runtime error" not in err,
              "bbsim's stderr is clean: %s" % err[-2000:])


# ---- the aws CLI ----

def cli(sim, *args, env=None):
    """(exit status, parsed JSON or None, stderr)."""
    e = dict(os.environ, AWS_ACCESS_KEY_ID=AKID, AWS_SECRET_ACCESS_KEY=SECRET,
             AWS_DEFAULT_REGION="us-east-1", AWS_MAX_ATTEMPTS="1", AWS_PAGER="")
    e.update(env or {})
    p = subprocess.run(["aws", "--endpoint-url", sim.url, "--output", "json"]
                       + list(args), env=e, capture_output=True, text=True, timeout=60)
    try:
        out = json.loads(p.stdout) if p.stdout.strip() else {}
    except ValueError:
        out = None
    return p.returncode, out, p.stderr


def cli_ok(sim, *args, env=None):
    rc, out, err = cli(sim, *args, env=env)
    check(rc == 0 and out is not None, "aws %s: rc %d %s" % (" ".join(args[:2]), rc,
                                                             err[-500:]))
    return out or {}


def cli_err(sim, code, message, *args):
    """The CLI prints AWS's code and message as it got them."""
    rc, _, err = cli(sim, *args)
    want = "(%s) when calling" % code
    check(rc != 0 and want in err and message in err,
          "aws %s: want %s %r, got rc %d: %s" % (" ".join(args[:2]), code, message,
                                                 rc, err.strip()[-400:]))


# ---- botocore, with every XML answer checked against the model's order ----

def wire_name(shape, name):
    return shape.serialization.get("name", name)


def check_order(shape, elem, where, ec2):
    """Each structure's children: known members, in the model's order; recursively."""
    tag = elem.tag.split("}")[-1]
    if shape.type_name == "structure":
        names = [wire_name(m, n) for n, m in shape.members.items()]
        last = -1
        for child in elem:
            ctag = child.tag.split("}")[-1]
            if not check(ctag in names, "%s: unknown element %s in %s" %
                         (where, ctag, tag)):
                continue
            i = names.index(ctag)
            check(i > last, "%s: %s comes after %s in %s, not before" %
                  (where, ctag, names[last], tag))
            last = i
            member = list(shape.members.values())[i]
            check_order(member, child, where, ec2)
    elif shape.type_name == "list":
        item = "item" if ec2 else shape.member.serialization.get("name", "member")
        for child in elem:
            ctag = child.tag.split("}")[-1]
            check(ctag == item, "%s: list %s holds %s, not %s" % (where, tag, ctag,
                                                                  item))
            check_order(shape.member, child, where, ec2)
    elif shape.type_name == "map":
        for entry in elem:
            check([c.tag.split("}")[-1] for c in entry] == ["key", "value"],
                  "%s: map %s entry" % (where, tag))


def botocore_version():
    return tuple(int(x) for x in botocore.__version__.split(".")[:2])


# The element order and names bbsim writes follow current models; older botocore
# (Debian 12 ships 1.29) has older ones: their answers still parse, unchecked.
MODELS_CURRENT = HAVE_BOTOCORE and botocore_version() >= (1, 34)


def order_hook(http_response=None, model=None, **kwargs):
    """after-call: every answer, refusals included (their envelopes are wire.c's)."""
    if model is None or model.output_shape is None or http_response.status_code != 200:
        return
    # resolved_protocol is newer botocore's name; Debian 12's 1.29 has protocol.
    sm = model.service_model
    protocol = getattr(sm, "resolved_protocol", None) or sm.protocol
    if protocol not in ("query", "ec2"):
        return
    root = ET.fromstring(http_response.content)
    where = model.name
    if protocol == "ec2":
        for child in root:
            if child.tag.split("}")[-1] == "requestId":
                root.remove(child)
                break
        check_order(model.output_shape, root, where, True)
        return
    wrapper = model.output_shape.serialization.get("resultWrapper")
    result = [c for c in root if c.tag.split("}")[-1] == wrapper]
    if check(len(result) == 1, "%s: one <%s> in the answer" % (where, wrapper)):
        check_order(model.output_shape, result[0], where, False)


def client(sim, service, data_path=None):
    session = botocore.session.Session()
    if data_path is not None:
        session.set_config_variable("data_path", data_path)
    c = session.create_client(service, region_name="us-east-1", endpoint_url=sim.url,
                              aws_access_key_id=AKID, aws_secret_access_key=SECRET,
                              config=Config(retries={"max_attempts": 1,
                                                     "mode": "standard"}))
    if MODELS_CURRENT:
        c.meta.events.register("after-call", order_hook)
    return c


def call(c, op, **kw):
    try:
        return getattr(c, op)(**kw)
    except ClientError as e:
        check(False, "%s: %s" % (op, e))
        return {}


def refused(c, op, code, message, status=400, **kw):
    try:
        getattr(c, op)(**kw)
        check(False, "%s: succeeded, want %s" % (op, code))
    except ClientError as e:
        err = e.response.get("Error", {})
        st = e.response["ResponseMetadata"]["HTTPStatusCode"]
        check(err.get("Code") == code and err.get("Message") == message and
              st == status, "%s: want %d %s %r, got %d %s %r" %
              (op, status, code, message, st, err.get("Code"), err.get("Message")))


def wait_until(what, fn, timeout=20):
    """The model moves in real time here: a look every quarter of a second."""
    return wait_for(what, fn, timeout, step=0.25)


# ---- the world ----

class World:
    """The names bbsim's model made up, as the clients find them."""

    def __init__(self, sim):
        self.sim = sim
        self.cfn = client(sim, "cloudformation")
        self.asg = client(sim, "autoscaling")
        self.ec2 = client(sim, "ec2")
        self.cw = client(sim, "cloudwatch")
        self.elb = client(sim, "elb")
        stack = call(self.cfn, "describe_stacks", StackName=STACK)["Stacks"][0]
        self.stack_id = stack["StackId"]
        self.keys = [p["ParameterKey"] for p in stack["Parameters"]]
        self.group = {o["OutputKey"]: o["OutputValue"]
                      for o in stack["Outputs"]}["ClusterNodeGroup"]
        g = call(self.asg, "describe_auto_scaling_groups",
                 AutoScalingGroupNames=[self.group])["AutoScalingGroups"][0]
        self.members = [i["InstanceId"] for i in g["Instances"]]
        self.lb = g["LoadBalancerNames"][0]

    def params(self, **given):
        """Every key: those given with values, the others UsePreviousValue."""
        return [{"ParameterKey": k, "ParameterValue": given[k]} if k in given else
                {"ParameterKey": k, "UsePreviousValue": True} for k in self.keys]

    def cli_params(self, **given):
        return ["ParameterKey=%s,ParameterValue=%s" % (k, given[k]) if k in given
                else "ParameterKey=%s,UsePreviousValue=true" % k for k in self.keys]

    def settled(self, token):
        """The stack-level terminal event carrying our token (aws-behaviours 4)."""
        def done():
            ev = call(self.cfn, "describe_stack_events", StackName=STACK)
            for e in ev.get("StackEvents", []):
                if (e["LogicalResourceId"] == STACK and
                        e.get("ClientRequestToken") == token and
                        e["ResourceStatus"].endswith("_COMPLETE")):
                    return e["ResourceStatus"]
            return None
        return wait_until("the update %s" % token, done)


# ---- CloudFormation ----

def test_cfn_reads(w):
    print("== CloudFormation: reads")
    s = w.sim
    out = cli_ok(s, "cloudformation", "describe-stacks", "--stack-name", STACK)
    st = out["Stacks"][0]
    pv = {p["ParameterKey"]: p.get("ParameterValue") for p in st["Parameters"]}
    check(pv["DBPassword"] == "****" and pv["BitbucketLicenseKey"] == "****",
          "NoEcho parameters are ****: %s" % pv)
    check(st["Capabilities"] == CAPS and "RoleARN" not in st,
          "capabilities, no RoleARN: %s" % st)
    check(st["StackStatus"] == "CREATE_COMPLETE", "status %s" % st["StackStatus"])
    check(any(o["OutputKey"] == "ClusterNodeGroup" and o["OutputValue"] == w.group
              for o in st["Outputs"]), "output ClusterNodeGroup")
    cli_err(s, "ValidationError", "Stack with id nope does not exist",
            "cloudformation", "describe-stacks", "--stack-name", "nope")
    r = call(w.cfn, "describe_stack_resource", StackName=STACK,
             LogicalResourceId="ClusterNodeGroup")["StackResourceDetail"]
    check(r["PhysicalResourceId"] == w.group, "ClusterNodeGroup's physical id")
    out = cli_ok(s, "cloudformation", "describe-stack-resource", "--stack-name", STACK,
                 "--logical-resource-id", "LoadBalancer")
    check(out["StackResourceDetail"]["PhysicalResourceId"] == w.lb, "the ELB's name")
    refused(w.cfn, "describe_stack_resource", "ValidationError",
            "Resource Nope does not exist for stack %s" % STACK, StackName=STACK,
            LogicalResourceId="Nope")
    res = call(w.cfn, "describe_stack_resources", StackName=STACK)["StackResources"]
    out = cli_ok(s, "cloudformation", "describe-stack-resources", "--physical-"
                 "resource-id", w.group)
    check(len(out["StackResources"]) == len(res) > 5, "resources by stack and by id")
    ts = call(w.cfn, "get_template_summary", StackName=STACK)
    out = cli_ok(s, "cloudformation", "get-template-summary", "--stack-name", STACK)
    check(ts["Capabilities"] == CAPS == out["Capabilities"] and
          "AWS::IAM::Role" in ts["CapabilitiesReason"], "template capabilities")
    check(all(p["NoEcho"] for p in out["Parameters"] if p["ParameterKey"] ==
              "DBPassword"), "NoEcho in the summary")
    ev = call(w.cfn, "describe_stack_events", StackName=STACK)["StackEvents"]
    out = cli_ok(s, "cloudformation", "describe-stack-events", "--stack-name", STACK)
    check(len(ev) == len(out["StackEvents"]) > 10 and
          ev[0]["Timestamp"] >= ev[-1]["Timestamp"] and
          ev[0]["ResourceStatus"] == "CREATE_COMPLETE", "events newest first")
    check(all(e.get("ClientRequestToken", "").startswith("Console-CreateStack-")
              for e in ev), "creation events carry the console's token")
    cli_err(s, "ValidationError", "CancelUpdateStack cannot be called from current "
            "stack status", "cloudformation", "cancel-update-stack", "--stack-name",
            STACK)


def test_cfn_update_refusals(w):
    print("== CloudFormation: UpdateStack refusals")
    base = dict(StackName=STACK, UsePreviousTemplate=True)
    refused(w.cfn, "update_stack", "InsufficientCapabilitiesException",
            "Requires capabilities : [CAPABILITY_IAM]",
            Parameters=w.params(BitbucketVersion="7.9.1"), **base)
    refused(w.cfn, "update_stack", "ValidationError", "1 validation error detected: "
            "Value '-bad' at 'clientRequestToken' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [a-zA-Z0-9][-a-zA-Z0-9]*",
            Parameters=w.params(BitbucketVersion="7.9.1"), Capabilities=CAPS,
            ClientRequestToken="-bad", **base)
    p = w.params(BitbucketVersion="7.9.1")
    p[w.keys.index("DBPassword")]["ParameterValue"] = "guess"
    refused(w.cfn, "update_stack", "ValidationError", "Invalid input for parameter "
            "key DBPassword. Cannot specify usePreviousValue as true and non empty "
            "value for a parameter", Parameters=p, Capabilities=CAPS, **base)
    refused(w.cfn, "update_stack", "ValidationError", "Cannot specify usePreviousValue "
            "as true for a parameter key not in the previous template",
            Parameters=w.params() + [{"ParameterKey": "Nope",
                                      "UsePreviousValue": True}],
            Capabilities=CAPS, **base)
    refused(w.cfn, "update_stack", "ValidationError", "No updates are to be "
            "performed.", Parameters=w.params(), Capabilities=CAPS, **base)


def test_cfn_update(w):
    print("== CloudFormation: UpdateStack")
    out = cli_ok(w.sim, "cloudformation", "update-stack", "--stack-name", STACK,
                 "--use-previous-template", "--capabilities", "CAPABILITY_IAM",
                 "--client-request-token", "bbdc-upg-1-step1", "--parameters",
                 *w.cli_params(BitbucketVersion="7.9.1"))
    check(out.get("StackId") == w.stack_id, "UpdateStack answers the stack id")
    refused(w.cfn, "update_stack", "ValidationError", "Stack:%s is in "
            "UPDATE_IN_PROGRESS state and can not be updated." % w.stack_id,
            StackName=STACK, UsePreviousTemplate=True, Capabilities=CAPS,
            Parameters=w.params(BitbucketVersion="7.9.2"))
    check(w.settled("bbdc-upg-1-step1") == "UPDATE_COMPLETE", "the update completes")
    st = call(w.cfn, "describe_stacks", StackName=STACK)["Stacks"][0]
    pv = {p["ParameterKey"]: p.get("ParameterValue") for p in st["Parameters"]}
    check(pv["BitbucketVersion"] == "7.9.1" and pv["DBPassword"] == "****",
          "new version, secrets kept: %s" % pv)
    ev = call(w.cfn, "describe_stack_events", StackName=STACK)["StackEvents"]
    ours = [e for e in ev if e.get("ClientRequestToken") == "bbdc-upg-1-step1"]
    check(len(ours) >= 4 and ours[-1]["ResourceStatus"] == "UPDATE_IN_PROGRESS",
          "the update's events carry its token: %d" % len(ours))
    refused(w.cfn, "update_stack", "TokenAlreadyExistsException", "A client request "
            "token already exists.", StackName=STACK, UsePreviousTemplate=True,
            Capabilities=CAPS, ClientRequestToken="bbdc-upg-1-step1",
            Parameters=w.params(BitbucketVersion="7.9.2"))


def test_cfn_change_sets(w):
    print("== CloudFormation: change sets")
    s = w.sim
    many = dict(BitbucketVersion="7.9.2", FileServerInstanceType="m5.xlarge",
                AccessCIDR="10.0.0.0/8", DBMultiAZ="false")
    cs = call(w.cfn, "create_change_set", StackName=STACK, ChangeSetName="look",
              UsePreviousTemplate=True, Capabilities=CAPS, IncludeNestedStacks=True,
              Parameters=w.params(**many))
    check(cs.get("StackId") == w.stack_id and ":changeSet/look/" in cs.get("Id", ""),
          "CreateChangeSet: %s" % cs)
    wait_until("the change set", lambda: call(w.cfn, "describe_change_set",
                                              ChangeSetName=cs["Id"])
               .get("Status") == "CREATE_COMPLETE")
    changes, token, pages = [], None, 0
    while True:
        kw = {"NextToken": token} if token else {}
        d = call(w.cfn, "describe_change_set", StackName=STACK, ChangeSetName="look",
                 **kw)
        changes += d.get("Changes", [])
        pages += 1
        token = d.get("NextToken")
        if not token or pages > 5:
            break
    check(pages == 2 and len(changes) == 4, "changes in pages: %d %d" %
          (pages, len(changes)))
    lc = [c["ResourceChange"] for c in changes if c["ResourceChange"]
          ["LogicalResourceId"] == "ClusterNodeLaunchConfig"]
    check(len(lc) == 1 and lc[0]["Replacement"] == "False" and lc[0]["Scope"] ==
          ["Metadata"] and lc[0]["Details"][0]["CausingEntity"] == "BitbucketVersion"
          and changes[0]["Type"] == "Resource", "the LC's change: %s" % lc)
    out = cli_ok(s, "cloudformation", "describe-change-set", "--stack-name", STACK,
                 "--change-set-name", "look")
    check(out.get("ExecutionStatus") == "AVAILABLE" and
          out.get("IncludeNestedStacks") is True, "CLI DescribeChangeSet: %s" %
          {k: out.get(k) for k in ("Status", "ExecutionStatus")})
    cli_ok(s, "cloudformation", "delete-change-set", "--stack-name", STACK,
           "--change-set-name", "look")
    refused(w.cfn, "describe_change_set", "ChangeSetNotFound",
            "ChangeSet [look] does not exist", status=404, StackName=STACK,
            ChangeSetName="look")
    call(w.cfn, "create_change_set", StackName=STACK, ChangeSetName="go",
         UsePreviousTemplate=True, Capabilities=CAPS, Parameters=w.params(
             BitbucketVersion="7.9.2"))
    cli_ok(s, "cloudformation", "create-change-set", "--stack-name", STACK,
           "--change-set-name", "spare", "--use-previous-template", "--capabilities",
           "CAPABILITY_IAM", "--parameters", *w.cli_params(BitbucketVersion="7.9.3"))
    wait_until("the change set", lambda: call(w.cfn, "describe_change_set",
                                              StackName=STACK, ChangeSetName="go")
               .get("ExecutionStatus") == "AVAILABLE")
    cli_ok(s, "cloudformation", "execute-change-set", "--stack-name", STACK,
           "--change-set-name", "go", "--client-request-token", "bbdc-upg-1-step2")
    check(w.settled("bbdc-upg-1-step2") == "UPDATE_COMPLETE", "the change set runs")
    d = call(w.cfn, "describe_change_set", StackName=STACK, ChangeSetName="spare")
    check(d.get("ExecutionStatus") == "OBSOLETE", "the other one is obsolete")
    call(w.cfn, "delete_change_set", StackName=STACK, ChangeSetName="spare")
    refused(w.cfn, "execute_change_set", "ChangeSetNotFound",
            "ChangeSet [spare] does not exist", status=404, StackName=STACK,
            ChangeSetName="spare")
    refused(w.cfn, "cancel_update_stack", "ValidationError", "CancelUpdateStack "
            "cannot be called from current stack status", StackName=STACK)
    # The same two writes through botocore.
    call(w.cfn, "create_change_set", StackName=STACK, ChangeSetName="go2",
         UsePreviousTemplate=True, Capabilities=CAPS, Parameters=w.params(
             BitbucketVersion="7.9.3"))
    wait_until("the change set", lambda: call(w.cfn, "describe_change_set",
                                              StackName=STACK, ChangeSetName="go2")
               .get("ExecutionStatus") == "AVAILABLE")
    call(w.cfn, "execute_change_set", StackName=STACK, ChangeSetName="go2",
         ClientRequestToken="bbdc-upg-1-step3")
    check(w.settled("bbdc-upg-1-step3") == "UPDATE_COMPLETE", "botocore's change set")
    r = call(w.cfn, "update_stack", StackName=STACK, UsePreviousTemplate=True,
             Capabilities=CAPS, ClientRequestToken="bbdc-upg-1-step4",
             Parameters=w.params(BitbucketVersion="7.9.4"))
    check(r.get("StackId") == w.stack_id, "botocore's UpdateStack")
    check(w.settled("bbdc-upg-1-step4") == "UPDATE_COMPLETE", "botocore's update")


def stack_events(cfn, token):
    ev = call(cfn, "describe_stack_events", StackName=STACK).get("StackEvents", [])
    return [e for e in ev if e.get("ClientRequestToken") == token]


def group_of(w):
    return call(w.asg, "describe_auto_scaling_groups",
                AutoScalingGroupNames=[w.group])["AutoScalingGroups"][0]


def test_cfn_cancel(w):
    """CancelUpdateStack of an update in progress: rolled back under its token."""
    print("== CloudFormation: CancelUpdateStack")
    before = {p["ParameterKey"]: p.get("ParameterValue") for p in call(
        w.cfn, "describe_stacks", StackName=STACK)["Stacks"][0]["Parameters"]}
    call(w.cfn, "update_stack", StackName=STACK, UsePreviousTemplate=True,
         Capabilities=CAPS, ClientRequestToken="bbdc-upg-1-step5",
         Parameters=w.params(BitbucketVersion="7.9.5", ClusterNodeMax="5"))
    refused(w.cfn, "cancel_update_stack", "TokenAlreadyExistsException",
            "A client request token already exists.", StackName=STACK,
            ClientRequestToken="bbdc-upg-1-step5")
    call(w.cfn, "cancel_update_stack", StackName=STACK,
         ClientRequestToken="bbdc-cancel-1")
    check(w.settled("bbdc-cancel-1") == "UPDATE_ROLLBACK_COMPLETE",
          "the cancelled update rolls back")
    ev = stack_events(w.cfn, "bbdc-cancel-1")
    stack_level = [(e["ResourceStatus"], e.get("ResourceStatusReason")) for e in ev
                   if e["LogicalResourceId"] == STACK]
    check(stack_level[-1] == ("UPDATE_ROLLBACK_IN_PROGRESS", "User Initiated") and
          stack_level[0][0] == "UPDATE_ROLLBACK_COMPLETE",
          "the rollback's stack-level events: %s" % stack_level)
    st = call(w.cfn, "describe_stacks", StackName=STACK)["Stacks"][0]
    pv = {p["ParameterKey"]: p.get("ParameterValue") for p in st["Parameters"]}
    grp = group_of(w)
    check(st["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE" and
          pv["BitbucketVersion"] == before["BitbucketVersion"] and
          pv["ClusterNodeMax"] == "4" and
          grp["MaxSize"] == 4 and grp["MinSize"] == grp["DesiredCapacity"] == 4,
          "the previous values are back: %s %s" % (pv["BitbucketVersion"],
                                                   grp["MaxSize"]))
    refused(w.cfn, "cancel_update_stack", "ValidationError", "CancelUpdateStack "
            "cannot be called from current stack status", StackName=STACK)


# ---- Auto Scaling ----

def test_asg(w):
    print("== Auto Scaling")
    s, g = w.sim, w.group
    out = cli_ok(s, "autoscaling", "describe-auto-scaling-groups",
                 "--auto-scaling-group-names", g)
    grp = out["AutoScalingGroups"][0]
    check(grp["MinSize"] == grp["DesiredCapacity"] == len(grp["Instances"]) == 4 and
          grp["HealthCheckType"] == "EC2" and grp["LoadBalancerNames"] == [w.lb] and
          all(i["LifecycleState"] == "InService" for i in grp["Instances"]),
          "the group: %s" % {k: grp[k] for k in ("MinSize", "DesiredCapacity")})
    page = call(w.asg, "describe_auto_scaling_instances", MaxRecords=3)
    check(len(page["AutoScalingInstances"]) == 3 and "NextToken" in page,
          "instances, first page")
    rest = call(w.asg, "describe_auto_scaling_instances", MaxRecords=3,
                NextToken=page.get("NextToken", ""))
    check(len(rest["AutoScalingInstances"]) == 1, "instances, second page")
    out = cli_ok(s, "autoscaling", "describe-auto-scaling-instances",
                 "--instance-ids", w.members[0])
    check(out["AutoScalingInstances"][0]["HealthStatus"] == "HEALTHY",
          "HealthStatus, upper case: %s" % out)
    for op, key in (("describe-lifecycle-hooks", "LifecycleHooks"),
                    ("describe-instance-refreshes", "InstanceRefreshes")):
        out = cli_ok(s, "autoscaling", op, "--auto-scaling-group-name", g)
        check(out.get(key) == [], "%s: empty" % op)
    check(call(w.asg, "describe_lifecycle_hooks", AutoScalingGroupName=g)
          ["LifecycleHooks"] == [], "no lifecycle hooks")
    check(call(w.asg, "describe_instance_refreshes", AutoScalingGroupName=g)
          ["InstanceRefreshes"] == [], "no instance refreshes")
    refused(w.asg, "describe_lifecycle_hooks", "ValidationError",
            "AutoScalingGroup name not found - null", AutoScalingGroupName="nope")
    cli_ok(s, "autoscaling", "suspend-processes", "--auto-scaling-group-name", g,
           "--scaling-processes", "AlarmNotification", "AZRebalance",
           "ScheduledActions")
    grp = call(w.asg, "describe_auto_scaling_groups")["AutoScalingGroups"][0]
    check(sorted(p["ProcessName"] for p in grp["SuspendedProcesses"]) ==
          ["AZRebalance", "AlarmNotification", "ScheduledActions"],
          "three processes suspended")
    call(w.asg, "resume_processes", AutoScalingGroupName=g,
         ScalingProcesses=["AZRebalance"])
    call(w.asg, "suspend_processes", AutoScalingGroupName=g)
    grp = call(w.asg, "describe_auto_scaling_groups")["AutoScalingGroups"][0]
    check(len(grp["SuspendedProcesses"]) == 9, "no list: every process suspended")
    cli_ok(s, "autoscaling", "resume-processes", "--auto-scaling-group-name", g)
    grp = call(w.asg, "describe_auto_scaling_groups")["AutoScalingGroups"][0]
    check(grp["SuspendedProcesses"] == [], "no list: every process resumed")
    refused(w.asg, "suspend_processes", "ValidationError", "Process 'Nope' is not a "
            "valid scaling process", AutoScalingGroupName=g, ScalingProcesses=["Nope"])


def test_asg_terminate(w):
    print("== Auto Scaling: protection, termination, activities")
    s, g, m = w.sim, w.group, w.members
    cli_ok(s, "autoscaling", "set-instance-protection", "--auto-scaling-group-name", g,
           "--instance-ids", m[1], m[2], "--protected-from-scale-in")
    call(w.asg, "set_instance_protection", AutoScalingGroupName=g,
         InstanceIds=[m[3]], ProtectedFromScaleIn=True)
    time.sleep(0.6)		# the fast profile's consistency lag
    grp = call(w.asg, "describe_auto_scaling_groups")["AutoScalingGroups"][0]
    prot = {i["InstanceId"]: i["ProtectedFromScaleIn"] for i in grp["Instances"]}
    check(prot == {m[0]: False, m[1]: True, m[2]: True, m[3]: True},
          "protection shown: %s" % prot)
    msg = ("Currently, desiredSize equals minSize (4). Terminating instance without "
           "replacement will violate group's min size constraint. Either set "
           "shouldDecrementDesiredCapacity flag to false or lower group's min size.")
    refused(w.asg, "terminate_instance_in_auto_scaling_group", "ValidationError", msg,
            InstanceId=m[0], ShouldDecrementDesiredCapacity=True)
    cli_err(s, "ValidationError", msg, "autoscaling",
            "terminate-instance-in-auto-scaling-group", "--instance-id", m[0],
            "--should-decrement-desired-capacity")
    out = cli_ok(s, "autoscaling", "terminate-instance-in-auto-scaling-group",
                 "--instance-id", m[0], "--no-should-decrement-desired-capacity")
    act = out.get("Activity", {})
    check(act.get("Description") == "Terminating EC2 instance: %s" % m[0] and
          act.get("StatusCode") in ("InProgress", "WaitingForELBConnectionDraining"),
          "the termination's activity: %s" % act)
    refused(w.asg, "terminate_instance_in_auto_scaling_group",
            "ScalingActivityInProgress", "Activity %s is in progress." %
            act.get("ActivityId"), InstanceId=m[1], ShouldDecrementDesiredCapacity=False)
    refused(w.asg, "set_instance_protection", "ValidationError", "The instance %s is "
            "not in InService or EnteringStandby or Standby." % m[0],
            AutoScalingGroupName=g, InstanceIds=[m[0]], ProtectedFromScaleIn=True)
    cli_err(s, "ValidationError", "Instance Id not found - No managed instance found "
            "for instance ID: i-0123456789abcdef0", "autoscaling",
            "terminate-instance-in-auto-scaling-group", "--instance-id",
            "i-0123456789abcdef0", "--no-should-decrement-desired-capacity")
    one = call(w.asg, "describe_scaling_activities", AutoScalingGroupName=g,
               MaxRecords=1)
    check(len(one.get("Activities", [])) == 1 and "NextToken" in one and
          one["Activities"][0]["ActivityId"] == act.get("ActivityId"),
          "activities newest first, paged")
    nxt = call(w.asg, "describe_scaling_activities", AutoScalingGroupName=g,
               MaxRecords=1, NextToken=one.get("NextToken", ""))
    check(nxt.get("Activities", [{}])[0].get("StatusCode") == "Successful",
          "the next page: an older launch")
    out = cli_ok(s, "autoscaling", "describe-scaling-activities", "--activity-ids",
                 act.get("ActivityId", "x"))
    check([a["ActivityId"] for a in out["Activities"]] == [act.get("ActivityId")],
          "by ActivityIds")


# ---- EC2 ----

def test_ec2(w):
    print("== EC2")
    s, m = w.sim, w.members
    out = cli_ok(s, "ec2", "describe-instances", "--filters",
                 "Name=tag:aws:cloudformation:logical-id,Values=ClusterNodeGroup",
                 "Name=instance-state-name,Values=running,pending")
    insts = [i for r in out["Reservations"] for i in r["Instances"]]
    check({i["InstanceId"] for i in insts} >= set(m[1:]) and
          all(i["PrivateIpAddress"].startswith("10.0.") and i["State"]["Code"] in
              (0, 16) for i in insts), "members by tag and state: %d" % len(insts))
    nfs = call(w.ec2, "describe_instances", Filters=[
        {"Name": "tag:Name", "Values": ["* NFS Server"]}])["Reservations"]
    check(len(nfs) == 1, "the FileServer by its Name tag")
    r = call(w.ec2, "describe_instances", InstanceIds=[m[1]])["Reservations"]
    i = r[0]["Instances"][0] if r else {}
    tags = {t["Key"]: t["Value"] for t in i.get("Tags", [])}
    check(i.get("InstanceId") == m[1] and tags.get("Cluster") == STACK and
          tags.get("aws:autoscaling:groupName") == w.group and
          i["Placement"]["AvailabilityZone"] == "us-east-1a" and
          i["LaunchTime"].year >= 2020, "one instance, its tags: %s" % tags)
    check_pages(w)
    refused(w.ec2, "describe_instances", "InvalidInstanceID.Malformed",
            "Invalid id: \"ma1\"", InstanceIds=["ma1"])
    cli_err(s, "InvalidInstanceID.NotFound", "The instance ID 'i-0123456789abcdef0' "
            "does not exist", "ec2", "describe-instances", "--instance-ids",
            "i-0123456789abcdef0")
    refused(w.ec2, "describe_instances", "InvalidInstanceID.NotFound", "The instance "
            "IDs 'i-0123456789abcdef0, i-0123456789abcdef1' do not exist",
            InstanceIds=["i-0123456789abcdef0", "i-0123456789abcdef1"])


def instance_ids(w):
    return {r["Instances"][0]["InstanceId"] for r in
            call(w.ec2, "describe_instances").get("Reservations", [])}


def check_pages(w):
    """MaxResults pages: each at most that long, together every instance once."""
    every = instance_ids(w)
    seen, kw, pages = [], {}, 0
    while pages < 10:
        page = call(w.ec2, "describe_instances", MaxResults=5, **kw)
        check(len(page.get("Reservations", [])) <= 5, "pages of 5 at most")
        seen += [r["Instances"][0]["InstanceId"] for r in page["Reservations"]]
        pages += 1
        if "NextToken" not in page:
            break
        kw = {"NextToken": page["NextToken"]}
    check(sorted(seen) == sorted(every) and pages == (len(every) + 4) // 5,
          "%d instances in %d pages of 5" % (len(every), pages))
    return pages


def test_ec2_terminate(w):
    print("== EC2: TerminateInstances")
    out = cli_ok(w.sim, "ec2", "terminate-instances", "--instance-ids", w.members[3])
    ch = out.get("TerminatingInstances", [{}])[0]
    check(ch.get("CurrentState") == {"Code": 32, "Name": "shutting-down"} and
          ch.get("PreviousState") == {"Code": 16, "Name": "running"},
          "state change: %s" % ch)
    ch = call(w.ec2, "terminate_instances", InstanceIds=[w.members[3]])
    ch = ch.get("TerminatingInstances", [{}])[0]
    check(ch.get("PreviousState", {}).get("Name") in ("shutting-down", "terminated"),
          "terminating again succeeds: %s" % ch)
    refused(w.ec2, "terminate_instances", "InvalidInstanceID.NotFound", "The instance "
            "ID 'i-0123456789abcdef0' does not exist",
            InstanceIds=["i-0123456789abcdef0"])
    # The group replaces what it lost: more instances than one page holds.
    wait_until("a replacement", lambda: len(instance_ids(w)) > 5)
    check(check_pages(w) == 2, "a second page")


def test_asg_terminate_botocore(w):
    print("== Auto Scaling: TerminateInstanceInAutoScalingGroup through botocore")
    terminal = ("Successful", "Failed", "Cancelled")
    wait_until("the group at rest", lambda: all(
        a["StatusCode"] in terminal for a in call(
            w.asg, "describe_scaling_activities",
            AutoScalingGroupName=w.group).get("Activities", [])), timeout=25)
    r = call(w.asg, "terminate_instance_in_auto_scaling_group",
             InstanceId=w.members[1], ShouldDecrementDesiredCapacity=False)
    act = r.get("Activity", {})
    check(act.get("AutoScalingGroupName") == w.group and
          act.get("Description") == "Terminating EC2 instance: %s" % w.members[1] and
          "taken out of service in response to a user request" in act.get("Cause", ""),
          "botocore's termination: %s" % act)


# ---- CloudWatch ----

def query_model_dir(tmp):
    """A copy of botocore's CloudWatch model that speaks Query (aws-errors.md 10)."""
    # Through botocore's loader: pip's botocore keeps its models gzipped, Debian's not.
    model = botocore.loaders.Loader().load_service_model("cloudwatch", "service-2",
                                                           "2010-08-01")
    model = copy.deepcopy(model)
    model["metadata"]["protocol"] = "query"
    model["metadata"]["protocols"] = ["query"]
    d = os.path.join(tmp, "cloudwatch", "2010-08-01")
    os.makedirs(d)
    with open(os.path.join(d, "service-2.json"), "w") as f:
        json.dump(model, f)
    return tmp


def metric_query(qid, instance, stat="Average", period=60, dim="InstanceId"):
    return {"Id": qid, "MetricStat": {"Metric": {
        "Namespace": "AWS/EC2", "MetricName": "CPUUtilization",
        "Dimensions": [{"Name": dim, "Value": instance}]},
        "Period": period, "Stat": stat}}


def stats(cw, start, end, period, statistics, dim, value, **kw):
    return call(cw, "get_metric_statistics", Namespace="AWS/EC2",
                MetricName="CPUUtilization", StartTime=start, EndTime=end,
                Period=period, Statistics=statistics,
                Dimensions=[{"Name": dim, "Value": value}], **kw).get("Datapoints", [])


def test_cloudwatch_history(w, cw, label):
    """A minute per member while it ran, over any window, in UTC minutes."""
    m = w.members
    now = int(time.time())
    start, end = now - 900, now - 120		# entirely past: a stable answer
    dp = stats(cw, start, end, 60, ["Average", "Maximum", "SampleCount"],
               "InstanceId", m[2], ExtendedStatistics=["p99"])
    ts = sorted(d["Timestamp"].timestamp() for d in dp)
    check(12 <= len(dp) <= 14 and all(t % 60 == 0 for t in ts) and
          ts == [ts[0] + 60 * i for i in range(len(ts))] and
          ts[0] >= start - 60 and ts[-1] < end,
          "%s: one datapoint a minute, on UTC minutes: %s" % (label, ts))
    check(all(40 < d["Average"] < 60 and d["Maximum"] == d["Average"] and
              d["SampleCount"] == 1 and d["Unit"] == "Percent" and
              d["ExtendedStatistics"]["p99"] == d["Average"] for d in dp),
          "%s: one sample each, in the alarms' OK band: %s" % (label, dp[:2]))
    check([d["Timestamp"] for d in dp] != sorted(d["Timestamp"] for d in dp),
          "%s: datapoints not in chronological order, as AWS warns" % label)
    grp = stats(cw, start, end, 300, ["Average", "SampleCount", "Minimum",
                                      "Maximum"], "AutoScalingGroupName", w.group)
    check(len(grp) >= 2 and all(d["SampleCount"] >= 4 and d["Minimum"] <=
                                d["Average"] <= d["Maximum"] for d in grp),
          "%s: the group's five-minute datapoints: %s" % (label, grp[:1]))
    check(stats(cw, now - 4 * 86400, now - 4 * 86400 + 3600, 60, ["Average"],
                "AutoScalingGroupName", w.group) == [],
          "%s: nothing before the instances ran (never 0 %%)" % label)
    d = call(cw, "get_metric_data", StartTime=start, EndTime=end, MetricDataQueries=[
        metric_query("cpu2", m[2]), metric_query("gone", "i-0123456789abcdef0")])
    res = {r["Id"]: r for r in d.get("MetricDataResults", [])}
    got = [t.timestamp() for t in res.get("cpu2", {}).get("Timestamps", [])]
    check(got == sorted(ts, reverse=True) and len(res["cpu2"]["Values"]) == len(ts)
          and res.get("gone", {}).get("Values") == [] and
          all(r["StatusCode"] == "Complete" for r in res.values()),
          "%s: GetMetricData, newest first: %s" % (label, got))
    page = call(cw, "get_metric_data", StartTime=start, EndTime=end, MaxDatapoints=5,
                ScanBy="TimestampAscending",
                MetricDataQueries=[metric_query("cpu2", m[2])])
    first = page.get("MetricDataResults", [{}])[0]
    rest = call(cw, "get_metric_data", StartTime=start, EndTime=end, MaxDatapoints=5,
                ScanBy="TimestampAscending", NextToken=page.get("NextToken", "x"),
                MetricDataQueries=[metric_query("cpu2", m[2])])
    second = rest.get("MetricDataResults", [{}])[0]
    check(first.get("StatusCode") == "PartialData" and
          [t.timestamp() for t in first.get("Timestamps", [])] == ts[:5] and
          [t.timestamp() for t in second.get("Timestamps", [])] == ts[5:10],
          "%s: MaxDatapoints pages: %s %s" % (label, first.get("StatusCode"),
                                                 second.get("StatusCode")))


def test_cloudwatch(w, cw, label, cli_env):
    print("== CloudWatch over %s" % label)
    s, m = w.sim, w.members
    now = int(time.time())
    start, end = now - 600, now + 120
    test_cloudwatch_history(w, cw, label)
    al = call(cw, "describe_alarms").get("MetricAlarms", [])
    check(sorted(a["AlarmName"].split("-")[1] for a in al) == ["CPUAlarmHigh",
                                                              "CPUAlarmLow"] and
          all(a["StateValue"] == "OK" and a["Dimensions"][0]["Value"] == w.group
              for a in al), "%s: the template's alarms" % label)
    refused(cw, "get_metric_statistics", "InvalidParameterValue", "The parameter "
            "StartTime must not equal parameter EndTime.", Namespace="AWS/EC2",
            MetricName="CPUUtilization", StartTime=start, EndTime=start, Period=60,
            Statistics=["Average"])
    refused(cw, "get_metric_statistics", "InvalidParameterValue", "The parameter "
            "Period must be a multiple of 60.", Namespace="AWS/EC2",
            MetricName="CPUUtilization", StartTime=start, EndTime=end, Period=90,
            Statistics=["Average"])
    refused(cw, "get_metric_statistics", "InvalidParameterCombination", "You have "
            "requested up to 2880 datapoints, which exceeds the limit of 1440. You may "
            "reduce the datapoints requested by increasing Period, or decreasing the "
            "time range.", Namespace="AWS/EC2", MetricName="CPUUtilization",
            StartTime=now - 2 * 86400, EndTime=now, Period=60, Statistics=["Average"])
    if not HAVE_CLI:
        return
    out = cli_ok(s, "cloudwatch", "describe-alarms", "--state-value", "OK",
                 env=cli_env)
    check(len(out.get("MetricAlarms", [])) == 2, "%s: CLI DescribeAlarms" % label)
    if cli_env:
        return		# the CLI's JSON runs below do the other two
    out = cli_ok(s, "cloudwatch", "get-metric-statistics", "--namespace", "AWS/EC2",
                 "--metric-name", "CPUUtilization", "--dimensions",
                 "Name=InstanceId,Value=%s" % m[2], "--start-time", str(start),
                 "--end-time", str(end), "--period", "60", "--statistics", "Average")
    check(9 <= len(out.get("Datapoints", [])) <= 11, "CLI GetMetricStatistics: %d" %
          len(out.get("Datapoints", [])))
    out = cli_ok(s, "cloudwatch", "get-metric-data", "--start-time", str(start),
                 "--end-time", str(end), "--metric-data-queries",
                 json.dumps([metric_query("cpu1", m[1], "Maximum")]))
    r = out.get("MetricDataResults", [{}])[0]
    check(r.get("StatusCode") == "Complete" and len(r.get("Values", [])) >= 9,
          "CLI GetMetricData: %s" % r.get("StatusCode"))


# ---- the Classic ELB ----

def test_elb(w):
    print("== Classic ELB")
    s, lb, m = w.sim, w.lb, w.members
    out = cli_ok(s, "elb", "describe-load-balancers", "--load-balancer-names", lb)
    d = out["LoadBalancerDescriptions"][0]
    check(d["HealthCheck"]["Target"] == "HTTP:7990/status" and
          {i["InstanceId"] for i in d["Instances"]} >= set(m[1:3]),
          "the load balancer: %s" % d["HealthCheck"])
    cli_err(s, "LoadBalancerNotFound", "There is no ACTIVE Load Balancer named 'nope'",
            "elb", "describe-load-balancers", "--load-balancer-names", "nope")
    a = call(w.elb, "describe_load_balancer_attributes", LoadBalancerName=lb)
    out = cli_ok(s, "elb", "describe-load-balancer-attributes",
                 "--load-balancer-name", lb)
    for attrs in (a.get("LoadBalancerAttributes", {}),
                  out.get("LoadBalancerAttributes", {})):
        check(attrs.get("ConnectionDraining") == {"Enabled": True, "Timeout": 5} and
              attrs.get("ConnectionSettings") == {"IdleTimeout": 3600} and
              attrs.get("CrossZoneLoadBalancing") == {"Enabled": True},
              "attributes: %s" % attrs)
    h = cli_ok(s, "elb", "describe-instance-health", "--load-balancer-name", lb)
    states = {x["InstanceId"]: x for x in h.get("InstanceStates", [])}
    check(states.get(m[1], {}).get("State") == "InService" and
          states[m[1]]["ReasonCode"] == "N/A", "health of all: %s" % states.get(m[1]))
    out = cli_ok(s, "elb", "deregister-instances-from-load-balancer",
                 "--load-balancer-name", lb, "--instances", m[2])
    left = {i["InstanceId"] for i in out.get("Instances", [])}
    check(m[2] not in left and m[1] in left, "still registered: %s" % left)
    h = call(w.elb, "describe_instance_health", LoadBalancerName=lb,
             Instances=[{"InstanceId": m[2]}])["InstanceStates"][0]
    check((h["State"], h["Description"]) in (
        ("InService", "Instance deregistration currently in progress"),
        ("OutOfService", "Instance is not currently registered with the "
         "LoadBalancer")), "draining or drained: %s" % h)
    gone = wait_until("the drain", lambda: call(
        w.elb, "describe_instance_health", LoadBalancerName=lb,
        Instances=[{"InstanceId": m[2]}])["InstanceStates"][0]["State"] ==
        "OutOfService", timeout=10)
    check(gone, "drained within the timeout")
    r = call(w.elb, "register_instances_with_load_balancer", LoadBalancerName=lb,
             Instances=[{"InstanceId": m[2]}])
    check(m[2] in {i["InstanceId"] for i in r.get("Instances", [])}, "registered again")
    cli_ok(s, "elb", "register-instances-with-load-balancer", "--load-balancer-name",
           lb, "--instances", m[2])
    call(w.elb, "deregister_instances_from_load_balancer", LoadBalancerName=lb,
         Instances=[{"InstanceId": m[1]}])
    call(w.elb, "register_instances_with_load_balancer", LoadBalancerName=lb,
         Instances=[{"InstanceId": m[1]}])
    call(w.elb, "describe_load_balancers")
    refused(w.elb, "describe_instance_health", "InvalidInstance", "Could not find EC2 "
            "instance i-0123456789abcdef0.", LoadBalancerName=lb,
            Instances=[{"InstanceId": "i-0123456789abcdef0"}])


# ---- what preflight refuses, and the CPU alarms acting (a second bbsim) ----

REFUSALS_INI = """[scenario]
profile = fast
seed = 11
epoch = %d
[cluster]
standby = 1
lifecycle_hooks = terminating
instance_refresh = true
health_check_type = ELB
health_check_grace = 20s
db_master = arn:aws:rds:us-east-1:123456789012:db:bitbucket-primary
[timing]
stack_update = 8s
[faults]
cpu_load = high
[throttle]
enabled = false
"""


def model_faults(sim, body):
    """POST /_sim/faults {"model": body}: (status, answer)."""
    req = urllib.request.Request(sim.url + "/_sim/faults", method="POST",
                                 data=json.dumps({"model": body}).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def get_faults(sim):
    with urllib.request.urlopen(sim.url + "/_sim/faults", timeout=10) as r:
        return json.loads(r.read())["model"]


def check_scenario_refusals(w):
    """Each refusal of aws-behaviours.md 15, set up by the scenario's keys."""
    g = group_of(w)
    life = {i["InstanceId"]: i["LifecycleState"] for i in g["Instances"]}
    standby = [i for i, l in life.items() if l == "Standby"]
    check(g["HealthCheckType"] == "ELB" and g["HealthCheckGracePeriod"] == 20 and
          len(standby) == 1 and list(life.values()).count("InService") == 4 and
          g["DesiredCapacity"] == 4, "the group: %s %s" % (g["HealthCheckType"], life))
    asi = call(w.asg, "describe_auto_scaling_instances", InstanceIds=standby)
    check([i["LifecycleState"] for i in asi.get("AutoScalingInstances", [])] ==
          ["Standby"], "DescribeAutoScalingInstances: Standby")
    h = call(w.elb, "describe_instance_health", LoadBalancerName=w.lb,
             Instances=[{"InstanceId": standby[0]}])["InstanceStates"][0]
    check(h["State"] == "OutOfService", "a Standby member is out of the ELB: %s" % h)
    hooks = call(w.asg, "describe_lifecycle_hooks", AutoScalingGroupName=w.group)
    hk = hooks.get("LifecycleHooks", [])
    check(len(hk) == 1 and hk[0]["LifecycleTransition"] ==
          "autoscaling:EC2_INSTANCE_TERMINATING" and hk[0]["HeartbeatTimeout"] == 3600
          and hk[0]["DefaultResult"] == "CONTINUE", "the lifecycle hook: %s" % hk)
    rf = call(w.asg, "describe_instance_refreshes", AutoScalingGroupName=w.group)
    rf = rf.get("InstanceRefreshes", [])
    check(len(rf) == 1 and rf[0]["Status"] == "InProgress" and
          rf[0]["InstancesToUpdate"] == 4, "the instance refresh: %s" % rf)
    st = call(w.cfn, "describe_stacks", StackName=STACK)["Stacks"][0]
    pv = {p["ParameterKey"]: p.get("ParameterValue") for p in st["Parameters"]}
    check(pv["DBMaster"] == "arn:aws:rds:us-east-1:123456789012:db:bitbucket-primary",
          "standby mode: DBMaster %s" % pv["DBMaster"])
    if HAVE_CLI:
        out = cli_ok(w.sim, "autoscaling", "describe-lifecycle-hooks",
                     "--auto-scaling-group-name", w.group)
        check(out.get("LifecycleHooks", [{}])[0].get("LifecycleHookName") ==
              "terminating-hook", "CLI DescribeLifecycleHooks")
    return standby[0]


def check_alarm_acts(w):
    """Under load, in ALARM; inert while suspended; on resume, +1 at once."""
    al = call(w.cw, "describe_alarms", StateValue="ALARM").get("MetricAlarms", [])
    check(len(al) == 1 and "CPUAlarmHigh" in al[0]["AlarmName"] and
          al[0]["StateReason"].startswith("Threshold Crossed: 5 out of the last 5 "
                                          "datapoints ["),
          "CPUAlarmHigh in ALARM: %s" % [(a["AlarmName"], a["StateReason"])
                                         for a in al])
    call(w.asg, "suspend_processes", AutoScalingGroupName=w.group,
         ScalingProcesses=["AlarmNotification"])
    call(w.cfn, "update_stack", StackName=STACK, UsePreviousTemplate=True,
         Capabilities=CAPS, ClientRequestToken="sim2-max-5",
         Parameters=w.params(ClusterNodeMax="5"))
    check(w.settled("sim2-max-5") == "UPDATE_COMPLETE", "max raised to 5")
    time.sleep(1.5)
    g = group_of(w)
    check(g["MaxSize"] == 5 and g["DesiredCapacity"] == 4,
          "suspended: the alarm does nothing (%d)" % g["DesiredCapacity"])
    call(w.asg, "resume_processes", AutoScalingGroupName=w.group,
         ScalingProcesses=["AlarmNotification"])
    g = group_of(w)
    act = call(w.asg, "describe_scaling_activities", AutoScalingGroupName=w.group,
               MaxRecords=1).get("Activities", [{}])[0]
    cause = act.get("Cause", "")
    check(g["DesiredCapacity"] == 5 and "a monitor alarm " in cause and
          "CPUAlarmHigh" in cause and " in state ALARM triggered policy " in cause and
          "ClusterNodeScaleUpPolicy" in cause and
          "changing the desired capacity from 4 to 5." in cause,
          "resumed: the policy acts at once: %d %r" % (g["DesiredCapacity"], cause))


def check_cli_cancel(w):
    if not HAVE_CLI:
        return
    call(w.cfn, "update_stack", StackName=STACK, UsePreviousTemplate=True,
         Capabilities=CAPS, ClientRequestToken="sim2-version",
         Parameters=w.params(BitbucketVersion="7.9.1"))
    cli_ok(w.sim, "cloudformation", "cancel-update-stack", "--stack-name", STACK,
           "--client-request-token", "sim2-cancel-1")
    check(w.settled("sim2-cancel-1") == "UPDATE_ROLLBACK_COMPLETE",
          "CLI cancel-update-stack rolls back")
    cli_err(w.sim, "ValidationError", "CancelUpdateStack cannot be called from current "
            "stack status", "cloudformation", "cancel-update-stack", "--stack-name",
            STACK)


def check_runtime_faults(w, standby):
    """The same refusals as model faults, off and on again, all or nothing."""
    s = w.sim
    st, _ = model_faults(s, {"lifecycle_hooks": [], "instance_refresh": False,
                             "health_check_type": "EC2", "health_check_grace": 0,
                             "db_master": "", "new_instances_protected": True,
                             "cpu_load": "normal"})
    g = group_of(w)
    rf = call(w.asg, "describe_instance_refreshes",
              AutoScalingGroupName=w.group)["InstanceRefreshes"]
    pv = {p["ParameterKey"]: p.get("ParameterValue") for p in call(
        w.cfn, "describe_stacks", StackName=STACK)["Stacks"][0]["Parameters"]}
    check(st == 200 and g["HealthCheckType"] == "EC2" and
          g["HealthCheckGracePeriod"] == 0 and g["NewInstancesProtectedFromScaleIn"]
          and call(w.asg, "describe_lifecycle_hooks", AutoScalingGroupName=w.group)
          ["LifecycleHooks"] == [] and rf[0]["Status"] == "Cancelled" and
          "EndTime" in rf[0] and pv["DBMaster"] == "", "faults off: %d %s" %
          (st, rf))
    st, _ = model_faults(s, {"lifecycle_hooks": ["launching", "terminating"],
                             "instance_refresh": True, "cpu_load": 2})
    hk = call(w.asg, "describe_lifecycle_hooks", AutoScalingGroupName=w.group)
    rf2 = call(w.asg, "describe_instance_refreshes",
               AutoScalingGroupName=w.group)["InstanceRefreshes"]
    check(st == 200 and len(hk["LifecycleHooks"]) == 2 and
          rf2[0]["Status"] == "InProgress" and
          rf2[0]["InstanceRefreshId"] != rf[0]["InstanceRefreshId"],
          "faults on again: %s" % rf2)
    st, ans = model_faults(s, {"exit_standby": standby})
    check(st == 400 and "above the group's max size (5)" in ans.get("error", ""),
          "ExitStandby beyond max is refused: %d %s" % (st, ans))
    member = [i["InstanceId"] for i in group_of(w)["Instances"]
              if i["LifecycleState"] == "InService"][0]
    st, _ = model_faults(s, {"standby": member})
    time.sleep(0.6)		# the fast profile's consistency lag
    life = {i["InstanceId"]: i["LifecycleState"] for i in group_of(w)["Instances"]}
    faults = get_faults(s)
    check(st == 200 and life[member] == "Standby" and
          sorted(faults["standby"]) == sorted([standby, member]) and
          faults["lifecycle_hooks"] == ["launching", "terminating"] and
          faults["cpu_load"] == 2 and faults["instance_refresh"] is True,
          "a member sent to Standby: %s %s" % (life.get(member), faults))
    for bad, word in (({"cpu_load": "extreme"}, "cpu_load"),
                      ({"health_check_type": "ELB"}, "cover node_boot"),
                      ({"lifecycle_hooks": ["waiting"]}, "lifecycle_hooks"),
                      ({"standby": "i-0123456789abcdef0"}, "standby"),
                      ({"lifecycle_hooks": [], "cpu_load": -1}, "cpu_load")):
        st, ans = model_faults(s, bad)
        check(st == 400 and word in ans.get("error", ""), "refused %s: %d %s" %
              (bad, st, ans))
    check(get_faults(s)["lifecycle_hooks"] == ["launching", "terminating"],
          "a refused POST changes nothing")


def test_refusals_and_alarms(tmp):
    print("== What preflight refuses; the CPU alarms acting")
    path = os.path.join(tmp, "refusals.ini")
    with open(path, "w") as f:
        f.write(REFUSALS_INI % int(time.time()))
    sim = Sim("--scenario", path)
    try:
        w = World(sim)
        standby = check_scenario_refusals(w)
        check_cli_cancel(w)
        check_alarm_acts(w)
        check_runtime_faults(w, standby)
    finally:
        sim.stop()


def scenario(tmp):
    path = os.path.join(tmp, "e2e.ini")
    with open(path, "w") as f:
        f.write("[scenario]\nprofile = fast\nseed = 7\nepoch = %d\n"
                "[throttle]\nenabled = false\n" % int(time.time()))
    return path


def main():
    simlib.require_built(BBSIM)
    if not HAVE_BOTOCORE:
        print("skipped: botocore is not installed")
        return
    if not HAVE_CLI:
        print("note: the aws CLI is not installed: botocore only")
    if not MODELS_CURRENT:
        print("note: botocore %s predates the models bbsim follows: element order "
              "and names not checked" % botocore.__version__)
    t0 = time.monotonic()
    tmp = tempfile.mkdtemp(prefix="bbsim-e2e.")
    sim = Sim("--scenario", scenario(tmp))
    try:
        w = World(sim)
        qdir = query_model_dir(os.path.join(tmp, "models"))
        if HAVE_CLI:
            test_cfn_reads(w)
        test_cfn_update_refusals(w)
        if HAVE_CLI:
            test_cfn_update(w)
            test_cfn_change_sets(w)
        test_cfn_cancel(w)
        if HAVE_CLI:
            test_asg(w)
            test_asg_terminate(w)
            test_ec2(w)
        test_cloudwatch(w, w.cw, "JSON 1.0", None)
        test_cloudwatch(w, client(sim, "cloudwatch", data_path=qdir), "Query",
                        {"AWS_DATA_PATH": qdir})
        if HAVE_CLI:
            test_elb(w)
            test_ec2_terminate(w)
            test_asg_terminate_botocore(w)
    finally:
        sim.stop()
    try:
        test_refusals_and_alarms(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%s in %.1f s" % ("FAILED (%d)" % len(failures) if failures else "ok",
                            time.monotonic() - t0))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
