#!/usr/bin/env python3
"""End to end: real AWS clients against bbsim.

Starts $BB_BIN/bbsim (default build/) on a port of the kernel's choosing and talks to
it with the real aws CLI and with botocore: correct credentials succeed and parse;
a wrong secret and an unknown key fail with AWS's codes as the clients surface them;
hand-made requests signed with botocore's own SigV4Auth but with wire mistakes are
refused as AWS would (or, where AWS is lenient, as bbsim documents it is not);
botocore's instance metadata provider gets temporary credentials from bbsim's IMDS,
which then work, expire (ExpiredToken) and rotate; faults throttle and delay; the
admin API counts all of it; bbsim listens on 127.0.0.1 only and stops cleanly.

The parts that need the aws CLI or botocore are skipped, with a message, where they
are not installed; everything else always runs.
"""
import datetime
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import types
import unittest.mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simlib  # noqa: E402
from simlib import (AKID, BBSIM, FORM, HAVE_CLI, SECRET, Sim, check,  # noqa: E402
                    failures)

ACCOUNT = "123456789012"
STS_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
AWSFAULT_NS = "http://webservices.amazon.com/AWSFault/2005-15-09"
GCI = "Action=GetCallerIdentity&Version=2011-06-15"
BAD_QUERY = ("The AWS query string is malformed or does not adhere to AWS "
             "standards.")

try:
    import botocore.session
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from botocore.config import Config
    from botocore.exceptions import ClientError
    HAVE_BOTOCORE = True
except ImportError:
    HAVE_BOTOCORE = False


def clean_env(**extra):
    """The environment of a client that knows nothing but what we give it."""
    return simlib.clean_env(**dict({"AWS_MAX_ATTEMPTS": "1",
                                    "AWS_RETRY_MODE": "standard"}, **extra))


def aws_cli(sim, *args, akid=AKID, secret=SECRET, **env):
    keys = {} if akid is None else {"AWS_ACCESS_KEY_ID": akid,
                                    "AWS_SECRET_ACCESS_KEY": secret}
    return simlib.run_aws(sim, *args, env=clean_env(**keys, **env))


def frozen_clock(when):
    """botocore's signing clock stopped at when: newer botocore reads it through
    botocore.auth.get_current_datetime, older (Debian 12's 1.29) through
    datetime.datetime.utcnow in botocore.auth."""
    import botocore.auth
    if hasattr(botocore.auth, "get_current_datetime"):
        return unittest.mock.patch("botocore.auth.get_current_datetime",
                                   return_value=when)

    class Frozen(datetime.datetime):
        @classmethod
        def utcnow(cls):
            return when
    return unittest.mock.patch.object(botocore.auth, "datetime",
                                      types.SimpleNamespace(datetime=Frozen))


def signed(sim, service, body, creds=None, headers=None, method="POST", query=None,
           region="us-east-1", when=None):
    """A request signed by botocore's SigV4Auth (at time when, if given), sent as is."""
    creds = creds or Credentials(AKID, SECRET)
    url = sim.url + "/" + ("?" + query if query else "")
    h = {"Content-Type": FORM}
    h.update(headers or {})
    req = AWSRequest(method=method, url=url, data=body, headers=h)
    if when is None:
        SigV4Auth(creds, service, region).add_auth(req)
    else:
        with frozen_clock(when):
            SigV4Auth(creds, service, region).add_auth(req)
    p = req.prepare()
    path = "/" + ("?" + query if query else "")
    return sim.http(method, path, p.body, dict(p.headers))


def xml_error(body, status, st, hdrs, code, message, ns):
    """A Query error, as aws-errors.md 1.1 lays it out, with its request id twice."""
    rid = hdrs.get("x-amzn-requestid", "")
    want = ('<ErrorResponse xmlns="%s">\n  <Error>\n    <Type>Sender</Type>\n'
            '    <Code>%s</Code>\n    <Message>%s</Message>\n  </Error>\n'
            '  <RequestId>%s</RequestId>\n</ErrorResponse>\n' % (ns, code, message, rid))
    return (check(st == status, "%s: status %d, want %d" % (code, st, status)) and
            check(len(rid) == 36, "%s: x-amzn-RequestId %r" % (code, rid)) and
            check(hdrs.get("content-type") == "text/xml",
                  "%s: content-type %r" % (code, hdrs.get("content-type"))) and
            check(body.decode() == want, "%s: body\n%s\nwant\n%s" % (code, body.decode(), want)))


def test_server_basics(sim):
    print("== server: routes, limits, loopback only")
    st, h, b = sim.http("GET", "/_sim/health")
    check(st == 200 and json.loads(b)["status"] == "ok", "health")
    check(json.loads(b)["port"] == sim.port, "health names the port")
    st, _, _ = sim.http("GET", "/nowhere")
    check(st == 404, "unknown path is 404")
    st, _, b = sim.http("GET", "/status")
    check(st == 200 and json.loads(b)["state"] == "RUNNING", "/status through the LB")
    st, _, _ = sim.http("GET", "/rest/zdu/cluster")
    check(st == 401, "/rest/zdu needs credentials (401)")
    st, _, _ = sim.http("DELETE", "/")
    check(st == 405, "DELETE / is 405")
    st, _, b = sim.http("GET", "/_sim/state")
    check(st == 200 and "placeholder" not in json.loads(b), "state is the model's")
    # A body announced over 1 MiB is refused before it is read.
    with socket.create_connection(("127.0.0.1", sim.port), timeout=10) as so:
        so.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\n"
                   b"Content-Length: %d\r\n\r\n" % (FORM.encode(), 1024 * 1024 + 1))
        line = so.makefile("rb").readline()
    check(line.startswith(b"HTTP/1.1 413 "), "a body over 1 MiB is 413: %r" % line)
    # One under the limit is read and answered (here: no credentials).
    st, _, _ = sim.http("POST", "/", b"x" * (1024 * 1024), {"Content-Type": FORM})
    check(st == 403, "a body of 1 MiB is read (got %d)" % st)
    st, _, _ = sim.http("POST", "/_sim/faults", b"{not json")
    check(st == 400, "admin rejects bad JSON")
    # /proc/net/tcp: the listening socket is 127.0.0.1 (0100007F), nothing else.
    listening = []
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                for line in f.readlines()[1:]:
                    local, state = line.split()[1], line.split()[3]
                    if state == "0A" and int(local.split(":")[1], 16) == sim.port:
                        listening.append(local.split(":")[0])
        except OSError:
            pass
    check(listening == ["0100007F"], "listens on 127.0.0.1 only: %s" % listening)


def test_imds_raw(sim):
    print("== IMDSv2 without a client")
    st, _, _ = sim.http("GET", "/latest/meta-data/iam/security-credentials/")
    check(st == 401, "no token: 401 (got %d)" % st)
    for ttl, want in (("0", 400), ("21601", 400), ("x", 400), (None, 400), ("1", 200),
                      ("21600", 200)):
        h = {} if ttl is None else {"X-aws-ec2-metadata-token-ttl-seconds": ttl}
        st, hd, tok = sim.http("PUT", "/latest/api/token", headers=h)
        check(st == want, "token ttl %s: %d, want %d" % (ttl, st, want))
    check(hd.get("x-aws-ec2-metadata-token-ttl-seconds") == "21600", "ttl echoed")
    st, _, _ = sim.http("PUT", "/latest/api/token",
                        headers={"X-aws-ec2-metadata-token-ttl-seconds": "60",
                                 "X-Forwarded-For": "10.0.0.1"})
    check(st == 403, "a proxied token request is refused")
    h = {"X-aws-ec2-metadata-token": tok.decode()}
    st, _, role = sim.http("GET", "/latest/meta-data/iam/security-credentials/", headers=h)
    check(st == 200 and role == b"bbsim-bastion", "role name: %r" % role)
    st, _, b = sim.http("GET", "/latest/meta-data/iam/security-credentials/bbsim-bastion",
                        headers=h)
    c = json.loads(b)
    check(st == 200 and c["Code"] == "Success" and c["Type"] == "AWS-HMAC" and
          c["AccessKeyId"].startswith("ASIA") and c["Expiration"].endswith("Z"),
          "credentials document: %s" % b[:120])
    st, _, _ = sim.http("GET", "/latest/meta-data/iam/security-credentials/other",
                        headers=h)
    check(st == 404, "unknown role: 404")
    st, _, az = sim.http("GET", "/latest/meta-data/placement/availability-zone/", headers=h)
    check(az == b"us-east-1a", "availability zone %r" % az)
    st, _, _ = sim.http("GET", "/latest/meta-data/iam/security-credentials/",
                        headers={"X-aws-ec2-metadata-token": "AQAEAforged"})
    check(st == 401, "a forged token: 401")
    return c


def test_cli(sim):
    print("== aws CLI")
    r = aws_cli(sim, "sts", "get-caller-identity", "--output", "json")
    if check(r.returncode == 0, "get-caller-identity: %s" % r.stderr):
        out = json.loads(r.stdout)
        check(out["Account"] == ACCOUNT, "Account %s" % out)
        check(out["Arn"] == "arn:aws:iam::%s:user/bbsim" % ACCOUNT, "Arn %s" % out)
        check(out["UserId"].startswith("AIDA"), "UserId %s" % out)
    r = aws_cli(sim, "sts", "get-caller-identity", secret="wrong-secret")
    check(r.returncode != 0 and "(SignatureDoesNotMatch)" in r.stderr,
          "wrong secret: %s" % r.stderr)
    r = aws_cli(sim, "sts", "get-caller-identity", akid="AKIDUNKNOWN")
    check(r.returncode != 0 and "(InvalidClientTokenId)" in r.stderr and
          "The security token included in the request is invalid." in r.stderr,
          "unknown key: %s" % r.stderr)
    r = aws_cli(sim, "sts", "get-session-token")
    check(r.returncode != 0 and "(InvalidAction)" in r.stderr and
          "Could not find operation GetSessionToken for version 2011-06-15" in r.stderr,
          "unsupported action: %s" % r.stderr)
    r = aws_cli(sim, "sts", "get-caller-identity", "--region", "eu-west-3")
    check(r.returncode == 0, "any region: %s" % r.stderr)


def test_cli_imds(sim):
    print("== aws CLI with credentials from bbsim's IMDS")
    r = aws_cli(sim, "sts", "get-caller-identity", "--output", "json", akid=None,
                AWS_EC2_METADATA_DISABLED="false",
                AWS_EC2_METADATA_SERVICE_ENDPOINT=sim.url + "/")
    if check(r.returncode == 0, "IMDS credentials in the CLI: %s" % r.stderr):
        arn = json.loads(r.stdout)["Arn"]
        check(arn.startswith("arn:aws:sts::%s:assumed-role/bbsim-bastion/i-0" % ACCOUNT),
              "assumed-role Arn %s" % arn)


def test_botocore(sim):
    print("== botocore clients")
    s = botocore.session.get_session()
    cfg = Config(retries={"max_attempts": 1, "mode": "standard"})

    def client(service, secret=SECRET, akid=AKID, token=None):
        return s.create_client(service, region_name="us-east-1", endpoint_url=sim.url,
                               aws_access_key_id=akid, aws_secret_access_key=secret,
                               aws_session_token=token, config=cfg)

    out = client("sts").get_caller_identity()
    check(out["Account"] == ACCOUNT and len(out["ResponseMetadata"]["RequestId"]) == 36,
          "botocore parses GetCallerIdentity: %s" % out)
    for kw, code in (({"secret": "x"}, "SignatureDoesNotMatch"),
                     ({"akid": "AKIDUNKNOWN"}, "InvalidClientTokenId")):
        try:
            client("sts", **kw).get_caller_identity()
            check(False, "%s expected" % code)
        except ClientError as e:
            check(e.response["Error"]["Code"] == code and
                  e.response["Error"]["Type"] == "Sender" and
                  e.response["ResponseMetadata"]["HTTPStatusCode"] == 403,
                  "botocore %s: %s" % (code, e.response))
    # CloudWatch goes in JSON 1.0 with current botocore (bbsim answers in JSON), in
    # Query with older ones such as Debian 12's 1.29 (bbsim answers in XML).
    # (Dashboards are nothing the daemon uses: no model will simulate them.)
    sm = client("cloudwatch").meta.service_model
    json10 = (getattr(sm, "resolved_protocol", None) or sm.protocol) == "json"
    unknown = "UnknownOperationException" if json10 else "InvalidAction"
    for kw, code, status in (({}, unknown, 400),
                             ({"secret": "x"}, "SignatureDoesNotMatch", 403)):
        try:
            client("cloudwatch", **kw).list_dashboards()
            check(False, "cloudwatch: %s expected" % code)
        except ClientError as e:
            check(e.response["Error"]["Code"] == code and
                  e.response["ResponseMetadata"]["HTTPStatusCode"] == status,
                  "cloudwatch JSON %s: %s" % (code, e.response))
    return client


def test_wire(sim):
    print("== raw requests signed by botocore's SigV4Auth")
    st, h, b = signed(sim, "sts", GCI)
    check(st == 200 and b"<GetCallerIdentityResult>" in b, "signed raw request works")
    check(h.get("x-amzn-requestid", "") in b.decode(), "request id in header and body")
    st, _, b = signed(sim, "sts", "", method="GET", query=GCI)
    check(st == 200, "GET / with the parameters in the query")
    st, h, b = signed(sim, "sts", "Action=GetCallerIdentity&Version=2011-06-16")
    xml_error(b, 400, st, h, "InvalidAction",
              "Could not find operation GetCallerIdentity for version 2011-06-16",
              AWSFAULT_NS)
    st, h, b = signed(sim, "sts", "Action=GetCallerIdentity")
    xml_error(b, 400, st, h, "InvalidAction", "Could not find operation "
              "GetCallerIdentity for version NO_VERSION_SPECIFIED", AWSFAULT_NS)
    # A Query list in EC2's shape is an unknown parameter; AWS ignores those,
    # bbsim refuses them so that a serializer bug cannot hide (see bbsim(1)).
    st, h, b = signed(sim, "sts", GCI + "&PolicyArns.1.arn=x")
    xml_error(b, 400, st, h, "InvalidQueryParameter", BAD_QUERY, STS_NS)
    st, h, b = signed(sim, "sts", GCI + "&Action=GetCallerIdentity")
    xml_error(b, 400, st, h, "InvalidQueryParameter", BAD_QUERY, STS_NS)
    st, h, b = signed(sim, "sts", GCI + "&X=%E2%82")
    xml_error(b, 404, st, h, "MalformedQueryString",
              "The query string contains a syntax error.", STS_NS)
    # A JSON body where STS expects a form: real STS redirects it to its docs.
    st, h, _ = signed(sim, "sts", '{"Action": "GetCallerIdentity"}',
                      headers={"Content-Type": "application/json"})
    check(st == 302 and h.get("location") == "https://aws.amazon.com/iam",
          "not a form: redirect (%d %s)" % (st, h.get("location")))
    # EC2's envelope: declaration, one line, RequestID. (A misspelt action, which
    # no simulation model will ever have.)
    st, h, b = signed(sim, "ec2", "Action=DescribeInstancez&Version=2016-11-15")
    want = ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>'
            'InvalidAction</Code><Message>The action DescribeInstancez is not valid '
            'for this web service.</Message></Error></Errors><RequestID>%s</RequestID>'
            '</Response>' % h.get("x-amzn-requestid"))
    check(st == 400 and b.decode() == want and h.get("server") == "AmazonEC2" and
          h.get("content-type") == "text/xml;charset=UTF-8" and
          h.get("transfer-encoding") == "chunked", "EC2 envelope: %d %s %s" % (st, h, b))
    st, h, b = signed(sim, "sts", GCI, when=datetime.datetime(2020, 1, 1))
    check(st == 403 and b"<Message>Signature expired: 20200101T000000Z is now earlier "
          b"than " in b and b" - 15 min.)</Message>" in b, "stale date: %s" % b)


def test_imds_botocore(sim):
    print("== botocore's InstanceMetadataProvider against bbsim's IMDS")
    code = r"""
import json, botocore.session
from botocore.config import Config
s = botocore.session.get_session()
c = s.get_credentials()
f = c.get_frozen_credentials()
out = {"method": c.method, "akid": f.access_key, "token": bool(f.token)}
sts = s.create_client("sts", region_name="us-east-1", endpoint_url=%r,
                      config=Config(retries={"max_attempts": 1}))
out["arn"] = sts.get_caller_identity()["Arn"]
print(json.dumps(out))
""" % sim.url
    env = clean_env(AWS_EC2_METADATA_DISABLED="false",
                    AWS_EC2_METADATA_SERVICE_ENDPOINT=sim.url + "/")
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                       text=True, timeout=60)
    if check(r.returncode == 0, "botocore from IMDS: %s" % r.stderr[-2000:]):
        out = json.loads(r.stdout)
        check(out["method"] == "iam-role" and out["akid"].startswith("ASIA") and
              out["token"], "provider: %s" % out)
        check(":assumed-role/bbsim-bastion/" in out["arn"], "arn %s" % out["arn"])


def test_expiry(sim, client):
    print("== temporary credentials expire, then rotate")
    sim.admin("credentials", {"lifetime": 2, "expire": True})
    c = imds_creds(sim)
    creds = Credentials(c["AccessKeyId"], c["SecretAccessKey"], c["Token"])
    st, _, _ = signed(sim, "sts", GCI, creds=creds)
    check(st == 200, "fresh temporary credentials work (%d)" % st)
    st, h, b = signed(sim, "sts", GCI, creds=Credentials(c["AccessKeyId"],
                                                         c["SecretAccessKey"]))
    xml_error(b, 403, st, h, "InvalidClientTokenId",
              "The security token included in the request is invalid.", STS_NS)
    time.sleep(2.2)
    st, h, b = signed(sim, "sts", GCI, creds=creds)
    xml_error(b, 403, st, h, "ExpiredToken",
              "The security token included in the request is expired", STS_NS)
    try:
        client("sts", akid=c["AccessKeyId"], secret=c["SecretAccessKey"],
               token=c["Token"]).get_caller_identity()
        check(False, "ExpiredToken expected from botocore")
    except ClientError as e:
        check(e.response["Error"]["Code"] == "ExpiredToken", "botocore: %s" % e.response)
    c2 = imds_creds(sim)
    check(c2["AccessKeyId"] != c["AccessKeyId"], "IMDS hands out new credentials")
    st, _, _ = signed(sim, "sts", GCI, creds=Credentials(
        c2["AccessKeyId"], c2["SecretAccessKey"], c2["Token"]))
    check(st == 200, "the new credentials work (%d)" % st)
    sim.admin("credentials", {"lifetime": 3600, "expire": True})


def imds_creds(sim):
    _, _, tok = sim.http("PUT", "/latest/api/token",
                         headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"})
    _, _, b = sim.http("GET", "/latest/meta-data/iam/security-credentials/bbsim-bastion",
                       headers={"X-aws-ec2-metadata-token": tok.decode()})
    return json.loads(b)


def test_faults(sim):
    print("== faults: throttling and latency")
    sim.admin("faults", {"rules": [
        {"service": "sts", "action": "GetCallerIdentity", "error_rate": 1},
        {"service": "ec2", "error_rate": 1}]})
    st, h, b = signed(sim, "sts", GCI)
    xml_error(b, 400, st, h, "Throttling", "Rate exceeded", STS_NS)
    st, h, b = signed(sim, "ec2", "Action=DescribeInstances&Version=2016-11-15")
    check(st == 503 and b"<Code>RequestLimitExceeded</Code><Message>Request limit "
          b"exceeded.</Message>" in b, "EC2 throttled: %d %s" % (st, b))
    if HAVE_CLI:
        r = aws_cli(sim, "sts", "get-caller-identity")
        check(r.returncode != 0 and "(Throttling)" in r.stderr and "Rate exceeded" in
              r.stderr, "CLI sees Throttling: %s" % r.stderr)
    sim.admin("faults", {"rules": [{"service": "sts", "latency_ms": 400}]})
    t0 = time.monotonic()
    result = {}
    th = threading.Thread(target=lambda: result.update(r=signed(sim, "sts", GCI)))
    th.start()
    time.sleep(0.1)
    t1 = time.monotonic()
    st, _, _ = sim.http("GET", "/_sim/health")
    check(st == 200 and time.monotonic() - t1 < 0.3,
          "others are served while an answer is held back")
    th.join()
    check(result["r"][0] == 200 and time.monotonic() - t0 >= 0.4,
          "the call took its latency (%.2f s)" % (time.monotonic() - t0))
    sim.admin("faults", {"rules": []})


def test_counters(sim):
    print("== counters")
    c = sim.admin("counters")
    check(c["api_calls"]["sts"]["GetCallerIdentity"] >= 3, "calls counted: %s" % c)
    check(c["throttled"]["sts"]["GetCallerIdentity"] >= 1, "throttles counted")
    check(c["auth_failures"].get("SignatureDoesNotMatch", 0) >= 1, "bad signatures")
    check(c["auth_failures"].get("InvalidClientTokenId", 0) >= 1, "unknown keys")
    check(c["imds"].get("credentials", 0) >= 1, "IMDS counted")
    check(c["aws_requests"] >= 5, "requests counted")
    errs = sim.admin("errors")
    check(any(e["code"] == "InvalidAction" and e["evidence"] for e in errs),
          "error catalogue lists its evidence")


def test_determinism():
    print("== the same seed gives the same request ids")
    ids = []
    for _ in range(2):
        s = Sim("--seed", "42")
        ids.append([s.http("POST", "/", GCI, {"Content-Type": FORM})[1]
                    .get("x-amzn-requestid") for _ in range(3)])
        s.stop(signal.SIGINT)
    check(ids[0] == ids[1] and len(set(ids[0])) == 3, "request ids %s" % ids)


def main():
    simlib.require_built(BBSIM)
    t0 = time.monotonic()
    sim = Sim("--seed", "1")
    try:
        test_server_basics(sim)
        test_imds_raw(sim)
        if HAVE_CLI:
            test_cli(sim)
            test_cli_imds(sim)
        else:
            print("skipped: aws CLI not installed (the aws CLI checks)")
        if HAVE_BOTOCORE:
            client = test_botocore(sim)
            test_wire(sim)
            test_imds_botocore(sim)
            test_expiry(sim, client)
            test_faults(sim)
            test_counters(sim)
        else:
            print("skipped: botocore not installed (the signed-request checks)")
    finally:
        err = sim.stop()
    check("Traceback" not in err and "ERROR: AddressSanitizer" not in err,
          "bbsim's stderr is clean")
    test_determinism()
    print("%s in %.1f s" % ("FAILED (%d)" % len(failures) if failures else "ok",
                            time.monotonic() - t0))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
