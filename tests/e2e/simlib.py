"""What the end-to-end tests of bbsim and the daemon share (not a test itself).

The binaries' directory ($BB_BIN, default build/), one tally of failed checks with
check(), one bbsim process (started on a port of the kernel's choosing, stopped with
a signal and required to exit 0) with plain HTTP to it and its admin API, the
environment of an aws CLI that knows nothing of the user's, and polling helpers.
Standard library only: each test decides for itself whether botocore or the aws CLI
is there, and skips what needs them when they are not.
"""
import base64
import http.client
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time

BIN = os.environ.get("BB_BIN", "build")
BBSIM = os.path.join(BIN, "bbsim")

# bbsim's long-term keys (AWS's documentation example) and its Bitbucket sysadmin.
AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
FORM = "application/x-www-form-urlencoded; charset=utf-8"
HAVE_CLI = shutil.which("aws") is not None

# Every check of the test that runs, whichever module made it.
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("  FAIL:", what)
    return cond


def basic(user, password):
    return "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()


BB_ADMIN = basic("admin", "admin-secret-test")


def require_built(path):
    """A test cannot run without the binary it tests: exit, failing, if it is not built."""
    if not os.access(path, os.X_OK):
        sys.exit("%s not built" % path)


def exit_report(ok_text):
    """The test's last word: how many checks failed (exit 1), else ok_text."""
    if failures:
        print("%d failure(s)" % len(failures))
        sys.exit(1)
    print(ok_text)


def poll(fn, timeout, step):
    """fn()'s first true value, asked every step seconds; None after timeout."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = fn()
        if v:
            return v
        time.sleep(step)
    return None


def wait_for(what, pred, timeout=30, step=0.05):
    """As poll(), but running out of time is a failed check."""
    v = poll(pred, timeout, step)
    check(v is not None, "timed out waiting for " + what)
    return v


class Sim:
    """One bbsim; its port is read from the line it prints when ready."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([BBSIM, "-p", "0"] + list(args),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        ready, _, _ = select.select([self.proc.stdout], [], [], 10)
        line = self.proc.stdout.readline().decode() if ready else ""
        prefix = "bbsim listening on http://127.0.0.1:"
        if not line.startswith(prefix):
            self.proc.kill()
            sys.exit("bbsim did not start: %r %s" % (line, self.proc.stderr.read()))
        self.port = int(line[len(prefix):])
        self.url = "http://127.0.0.1:%d" % self.port

    def stop(self, sig=signal.SIGTERM):
        """Sends sig; bbsim must exit 0 within 10 s. Returns its stderr."""
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = "hung"
        err = self.proc.stderr.read().decode(errors="replace")
        check(rc == 0, "bbsim exits 0 on %s (got %s): %s" % (sig.name, rc, err[-2000:]))
        return err

    def http(self, method, path, body=None, headers=None, timeout=10):
        """(status, headers with lower-case names, raw body), on a new connection."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            c.close()

    def admin(self, path, body=None, status=200):
        """/_sim/<path>: GET, or POST of body as JSON; the answer, parsed."""
        st, _, b = self.http("POST" if body is not None else "GET", "/_sim/" + path,
                             json.dumps(body) if body is not None else None)
        check(st == status, "admin %s: %d %s" % (path, st, b[:300]))
        return json.loads(b)


def clean_env(**extra):
    """The environment of an AWS client that knows nothing but what we give it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null",
               AWS_EC2_METADATA_DISABLED="true", AWS_PAGER="")
    env.update(extra)
    return env


def run_aws(sim, *args, env):
    """The aws CLI against sim in us-east-1: its CompletedProcess, output as text."""
    return subprocess.run(["aws", "--endpoint-url", sim.url, "--region", "us-east-1"]
                          + list(args), env=env, capture_output=True, text=True,
                          timeout=60)
