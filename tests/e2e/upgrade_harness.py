"""End-to-end upgrade scenarios: the real bbsim, bbupgraded and bbctl, wired together.

Not a test by itself (the e2e runner executes tests/e2e/test_*): the test files
import it. Standard library only.

    from upgrade_harness import Cluster, Scenario, run_scenarios

    def happy(t):
        with t.cluster(seed=3) as c:            # bbsim + bbupgraded in a temp dir
            w = c.start_watch("7.9.4")          # bbctl start prod --to 7.9.4 --yes --watch
            rc = w.wait(120)
            t.judge(c, rc=rc, outcome="approve", version="7.9.4")

    sys.exit(run_scenarios([Scenario("happy path", happy)], parallel=3))

Cluster (a context manager: everything it started is stopped, and its temporary
directory removed, on the way out, whatever happens; BB_KEEP=1 keeps the directory):

  - bbsim: `$BB_BIN/bbsim -p 0 --seed N --scenario FILE [--speed S] [--nodes N]`.
    The scenario file is always written (profile fast; [cluster] surge = the
    deployment's surge, so that bbsim's critical path and I2 judge the same k);
    scenario={"cluster": {"layout": "nested"}, "faults": {...}} adds keys.
  - bbupgraded: `$BB_BIN/bbupgraded -f -c CONF` with test AWS credentials in its
    environment; one deployment, `prod` by default, whose keys come from the
    arguments (surge, on_failure, order, poll_interval, stack_timeout, node_timeout).
  - paths, for tests that look inside: c.tmp, c.conf, c.state_dir, c.socket,
    c.password_file, c.scenario_file, c.daemon_log, c.sim_log; c.url (bbsim).
  - the daemon: c.bbctl(*args) (--json unless human=True; a Result with rc, out,
    err, json), c.status() (the upgrade, or None), c.events(), c.start(to),
    c.start_watch(to) and c.watch() (a Watch: wait(timeout) -> exit status, lines()),
    c.stop_daemon(sig), c.start_daemon(), c.restart_daemon(sig=SIGKILL): the same
    configuration and state directory, the log appended to.
  - bbsim's admin API: c.report(), c.state(), c.history(since), c.counters(),
    c.faults(rules=..., model=...), c.terminate(instance) (the operator's hand,
    POST /_sim/operator/terminate), c.admin(method, path, body) for the rest,
    c.nodes() (the group's instances not terminated, from /_sim/state), c.n (the
    node count at the start).
  - c.wait_for(predicate, timeout, what): the predicate's first true value, or
    Failure naming what was awaited (also if the daemon died meanwhile);
    c.wait_upgrade(states, timeout): the upgrade once its state is one of states.
  - on the way out: the exit statuses of bbsim and bbupgraded on SIGTERM (0), and
    any sanitizer report in their logs, become failures of the scenario.

What bbsim's history says: daemon_calls(history, actions) (the calls it performed),
drained_alive(c) (nodes alive but out of the load balancer), takeouts_below(history,
n) (deregistrations made with n or fewer nodes serving), Replay (who serves).

Scenario and run_scenarios: each scenario is a function of a Test (t), run in a
thread pool (a few at a time); t.check(cond, what), t.fail(what), t.note(text),
t.fig(name, value) for the line printed at the end, t.invariants(report, violated)
and t.judge(c, ...) for the checks every scenario makes (bbsim's invariants one by
one, the end version of each node, the outcome, bbctl's exit status). One line per
scenario; on failure, the failures and the tail of the daemon's log. A scenario
marked xfail="reason" is an expected failure: it runs, its failure is printed with
the reason and does not fail the file. BB_ONLY=text runs the scenarios whose name
holds text; BB_KEEP=1 keeps the temporary directories.
"""
import base64
import concurrent.futures
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

BIN = os.environ.get("BB_BIN", "build")
BBSIM = os.path.join(BIN, "bbsim")
BBUPGRADED = os.path.join(BIN, "bbupgraded")
BBCTL = os.path.join(BIN, "bbctl")
FROM = "7.9.0"
TO = "7.9.4"
PASSWORD = "admin-secret-test"
ADMIN = "Basic " + base64.b64encode(("admin:" + PASSWORD).encode()).decode()
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "AWS_EC2_METADATA_DISABLED": "true",
}
# What a sanitizer build writes when it finds something.
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "UndefinedBehaviorSanitizer")
TERMINAL = ("done", "halted", "cancelled", "rolled_back", "rolled-back")

_live = set()                   # clusters not yet cleaned up, for the signal handler
_live_lock = threading.Lock()


class Failure(Exception):
    """A scenario cannot go on: what was expected did not happen."""


class Result:
    """One bbctl run: exit status, output, and its JSON lines parsed."""

    def __init__(self, argv, rc, out, err):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err
        self.json = []
        for line in out.splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    self.json.append(json.loads(line))
                except ValueError:
                    pass

    @property
    def first(self):
        return self.json[0] if self.json else None

    def text(self):
        return (self.out + self.err).strip()

    def __repr__(self):
        return "bbctl %s -> %d: %s" % (" ".join(self.argv), self.rc, self.text()[:600])


class Watch:
    """`bbctl start --watch` or `bbctl watch` in the background."""

    def __init__(self, cluster, argv):
        self.cluster = cluster
        self.argv = argv
        self.path = os.path.join(cluster.tmp, "watch%d.out" % len(cluster._watches))
        self._out = open(self.path, "w")
        self.proc = subprocess.Popen([BBCTL, "--socket", cluster.socket, "--json"] + argv,
                                     stdout=self._out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        cluster._watches.append(self)

    def wait(self, timeout):
        """The exit status; Failure if it has not ended within timeout seconds."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Failure("bbctl %s still running after %ds" % (" ".join(self.argv),
                                                                 timeout))

    def lines(self):
        with open(self.path) as f:
            return Result(self.argv, self.proc.returncode, f.read(), "").json

    def text(self):
        with open(self.path) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()


def _stop(proc, sig=signal.SIGTERM, timeout=15):
    """Stops one process we started: sig, then SIGKILL. Its exit status."""
    if proc is None:
        return None
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return "hung"
    return proc.returncode


def _ini(sections):
    out = []
    for name, keys in sections.items():
        out.append("[%s]" % name)
        out.extend("%s = %s" % (k, v) for k, v in keys.items() if v is not None)
        out.append("")
    return "\n".join(out)


class Cluster:
    """bbsim and bbupgraded in a temporary directory (see the module's docstring)."""

    def __init__(self, seed=1, speed=4, nodes=None, surge=1, on_failure=None, order=None,
                 scenario=None, poll_interval="250ms", stack_timeout="2m",
                 node_timeout="2m", deployment="prod", label="cluster"):
        self.seed, self.speed, self.n, self.surge = seed, speed, nodes, surge
        self.on_failure, self.order = on_failure, order
        self.scenario = scenario or {}
        self.poll_interval, self.stack_timeout = poll_interval, stack_timeout
        self.node_timeout, self.deployment, self.label = node_timeout, deployment, label
        self.sim = self.daemon = None
        self._watches = []
        self.problems = []      # what cleanup found wrong (exit statuses, sanitizers)
        self.tmp = None

    # ---- life cycle ----

    def __enter__(self):
        self.tmp = tempfile.mkdtemp(prefix="bbe2e-")
        with _live_lock:
            _live.add(self)
        try:
            self.conf = os.path.join(self.tmp, "bbupgraded.conf")
            self.state_dir = os.path.join(self.tmp, "state")
            self.socket = os.path.join(self.tmp, "control.sock")
            self.password_file = os.path.join(self.tmp, "bitbucket.password")
            self.scenario_file = os.path.join(self.tmp, "scenario.ini")
            self.daemon_log = os.path.join(self.tmp, "daemon.log")
            self.sim_log = os.path.join(self.tmp, "sim.log")
            self._start_sim()
            self._write_config()
            self.start_daemon()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False

    def cleanup(self):
        """Stops everything started here and removes the directory; idempotent."""
        for w in self._watches:
            w.stop()
        if self.daemon is not None:
            rc = _stop(self.daemon)
            if rc != 0:
                self.problems.append("bbupgraded exited %s on SIGTERM" % rc)
            self.daemon = None
        if self.sim is not None:
            rc = _stop(self.sim)
            if rc != 0:
                self.problems.append("bbsim exited %s on SIGTERM" % rc)
            self.sim = None
        if self.tmp is not None:
            for log in (self.daemon_log, self.sim_log):
                text = _read(log)
                for mark in SANITIZER_MARKS:
                    if mark in text:
                        i = text.index(mark)
                        self.problems.append("%s: %s" % (os.path.basename(log),
                                                         text[max(0, i - 200):i + 1500]))
                        break
            self.daemon_tail = _tail(self.daemon_log, 40)
            if os.environ.get("BB_KEEP"):
                print("  (kept %s)" % self.tmp)
            else:
                shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
        with _live_lock:
            _live.discard(self)

    def _start_sim(self):
        scen = {"scenario": {"profile": "fast"}, "cluster": {"surge": self.surge}}
        for sec, keys in self.scenario.items():
            scen.setdefault(sec, {}).update(keys)
        with open(self.scenario_file, "w") as f:
            f.write(_ini(scen))
        argv = [BBSIM, "-p", "0", "--seed", str(self.seed), "--scenario",
                self.scenario_file, "--speed", str(self.speed)]
        if self.n is not None:
            argv += ["--nodes", str(self.n)]
        out = os.path.join(self.tmp, "sim.out")
        with open(out, "w") as so, open(self.sim_log, "w") as se:
            self.sim = subprocess.Popen(argv, stdout=so, stderr=se,
                                        stdin=subprocess.DEVNULL)
        prefix = "bbsim listening on http://127.0.0.1:"
        t0 = time.monotonic()
        while True:
            line = _read(out).split("\n")[0]
            if line.startswith(prefix) and "\n" in _read(out):
                self.port = int(line[len(prefix):].strip())
                break
            if self.sim.poll() is not None or time.monotonic() - t0 > 15:
                raise Failure("bbsim did not start: %s" % _tail(self.sim_log, 10))
            time.sleep(0.05)
        self.url = "http://127.0.0.1:%d" % self.port
        self.n = self.state()["asg"]["desired"]

    def _write_config(self):
        with open(self.password_file, "w") as f:
            f.write(PASSWORD + "\n")
        os.chmod(self.password_file, 0o600)
        dep = {"region": "us-east-1", "stack": "bitbucket", "bitbucket_url": self.url,
               "bitbucket_user": "admin", "password_file": self.password_file,
               "endpoint_url": self.url, "surge": self.surge,
               "on_failure": self.on_failure, "order": self.order}
        with open(self.conf, "w") as f:
            f.write(_ini({"daemon": {"socket": self.socket, "state_directory":
                                     self.state_dir, "poll_interval": self.poll_interval,
                                     "stack_timeout": self.stack_timeout,
                                     "node_timeout": self.node_timeout,
                                     "log_level": "info"},
                          "deployment " + self.deployment: dep}))

    def start_daemon(self):
        """Starts bbupgraded on the same configuration and state; waits for its socket."""
        if self.daemon is not None and self.daemon.poll() is None:
            raise Failure("the daemon is already running")
        # Only the test credentials: no profile, region or endpoint of the caller's.
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ENV)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        with open(self.daemon_log, "a") as log:
            self.daemon = subprocess.Popen([BBUPGRADED, "-f", "-c", self.conf], env=env,
                                           stdout=log, stderr=log,
                                           stdin=subprocess.DEVNULL)
        t0 = time.monotonic()
        while self.bbctl("ping", timeout=5).rc != 0:
            if self.daemon.poll() is not None or time.monotonic() - t0 > 20:
                raise Failure("bbupgraded did not start: %s" % _tail(self.daemon_log, 20))
            time.sleep(0.05)

    def stop_daemon(self, sig=signal.SIGTERM):
        """Stops bbupgraded (SIGKILL: as a crash); its exit status."""
        rc = _stop(self.daemon, sig)
        self.daemon = None
        return rc

    def restart_daemon(self, sig=signal.SIGKILL):
        """A crash (SIGKILL) or a clean stop (SIGTERM), then a start on the same state."""
        rc = self.stop_daemon(sig)
        self.start_daemon()
        return rc

    # ---- bbctl ----

    def bbctl(self, *args, timeout=30, human=False):
        """bbctl --json ARGS (or, human=True, as a person reads it): a Result."""
        argv = [str(a) for a in args]
        try:
            p = subprocess.run([BBCTL, "--socket", self.socket] +
                               ([] if human else ["--json"]) + argv,
                               capture_output=True, text=True, timeout=timeout,
                               stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise Failure("bbctl %s took more than %ds" % (" ".join(argv), timeout))
        return Result(argv, p.returncode, p.stdout, p.stderr)

    def start(self, to=TO, deployment=None):
        return self.bbctl("start", deployment or self.deployment, "--to", to, "--yes",
                          timeout=120)

    def start_watch(self, to=TO, deployment=None):
        return Watch(self, ["start", deployment or self.deployment, "--to", to, "--yes",
                            "--watch"])

    def watch(self, *args):
        return Watch(self, ["watch"] + [str(a) for a in args])

    def status(self):
        """The current (or last) upgrade as `bbctl status` shows it, or None."""
        r = self.bbctl("status")
        if r.rc != 0 or not r.json:
            raise Failure("bbctl status: %r" % r)
        return r.json[0].get("upgrade")

    def events(self, *args):
        r = self.bbctl("events", *args)
        if r.rc != 0:
            raise Failure("bbctl events: %r" % r)
        return [e.get("event", e) for e in r.json]

    def wait_upgrade(self, states=TERMINAL, timeout=120):
        return self.wait_for(lambda: (lambda u: u if u and u["state"] in states
                                      else None)(self.status()), timeout,
                             "the upgrade to be %s" % "/".join(states))

    # ---- bbsim ----

    def http(self, method, path, body=None, auth=None, timeout=30):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = {"Accept": "application/json"}
        if auth:
            headers["Authorization"] = auth
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            c.request(method, path, body=data, headers=headers)
            r = c.getresponse()
            return r.status, r.read(), dict(r.getheaders())
        finally:
            c.close()

    def admin(self, method, path, body=None):
        st, b, _ = self.http(method, "/_sim/" + path, body)
        if st != 200:
            raise Failure("%s /_sim/%s: %d %s" % (method, path, st, b[:300]))
        return json.loads(b)

    def report(self):
        return self.admin("GET", "report")

    def state(self):
        return self.admin("GET", "state")

    def counters(self):
        return self.admin("GET", "counters")

    def faults(self, rules=None, model=None):
        body = {}
        if rules is not None:
            body["rules"] = rules
        if model is not None:
            body["model"] = model
        return self.admin("POST", "faults", body)

    def terminate(self, instance):
        """An operator terminates an instance from the EC2 console."""
        return self.admin("POST", "operator/terminate", {"instance": instance})

    def history(self, since=0):
        out = []
        while True:
            st, b, h = self.http("GET", "/_sim/history?since=%d" % since)
            if st != 200:
                raise Failure("/_sim/history: %d" % st)
            out.extend(json.loads(l) for l in b.decode().splitlines() if l.strip())
            nxt = h.get("X-Next-Since")
            if not nxt or int(nxt) <= since:
                return out
            since = int(nxt)

    def nodes(self, state=None):
        """The group's instances that are not terminated, from /_sim/state."""
        s = state or self.state()
        return [i for i in s["instances"] if i["member"] and i["ec2"] != "terminated"]

    def zdu(self):
        st, b, _ = self.http("GET", "/rest/zdu/cluster", auth=ADMIN)
        return json.loads(b) if st == 200 else None

    # ---- waiting ----

    def wait_for(self, pred, timeout, what, step=0.1):
        t0 = time.monotonic()
        last = None
        while True:
            last = pred()
            if last:
                return last
            if time.monotonic() - t0 > timeout:
                raise Failure("timed out (%ds) waiting for %s" % (timeout, what))
            if self.daemon is not None and self.daemon.poll() is not None:
                raise Failure("bbupgraded died (%s) while waiting for %s" %
                              (self.daemon.returncode, what))
            time.sleep(step)


def _read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def _tail(path, n):
    return "\n".join(_read(path).splitlines()[-n:])


# ---- what the history says -------------------------------------------------

class Replay:
    """A small replay of bbsim's history: who serves, at each record (as I1 counts)."""

    def __init__(self):
        self.inst = {}

    def apply(self, r):
        x = self.inst.setdefault(r["obj"], {"member": False, "ec2": "", "reg": False,
                                            "insvc": False, "drain": False,
                                            "active": False})
        k, a = r["kind"], r["a"]
        if k == "ec2":
            x["member"] = bool(r["n"] & 1)
            x["ec2"] = a
        elif k == "elb":
            if a == "registered":
                x.update(reg=True, insvc=False, drain=False)
            elif a == "InService":
                x["insvc"] = True
            elif a == "OutOfService":
                x["insvc"] = False
            elif a == "draining":
                x["drain"] = True
            elif a == "deregistered":
                x.update(reg=False, insvc=False, drain=False)
        elif k == "node" and a != "unreachable":
            x["active"] = a == "ACTIVE"

    def serving(self):
        return sum(1 for x in self.inst.values() if x["member"] and x["ec2"] == "running"
                   and x["reg"] and x["insvc"] and not x["drain"] and x["active"])

    def serving_ids(self):
        return [i for i, x in self.inst.items() if x["member"] and x["ec2"] == "running"
                and x["reg"] and x["insvc"] and not x["drain"] and x["active"]]


DESTRUCTIVE = ("DeregisterInstancesFromLoadBalancer", "TerminateInstanceInAutoScalingGroup",
               "TerminateInstances", "ExecuteChangeSet", "UpdateStack",
               "SetInstanceProtection", "SuspendProcesses", "ResumeProcesses",
               "zdu/start", "zdu/approve", "zdu/cancel", "SetDesiredCapacity",
               "UpdateAutoScalingGroup", "RegisterInstancesWithLoadBalancer")


def daemon_calls(history, actions=DESTRUCTIVE):
    """The calls bbsim recorded (answered 200), of those actions."""
    return [r for r in history if r["kind"] == "call" and r["a"] in actions and
            r["n"] == 200 and r.get("b") != "operator"]


def drained_alive(c):
    """The group's instances alive but out of the load balancer (drained, or still
    draining): what a halt or a pause must never leave behind. A new instance not yet
    InService is not one."""
    return ["%s (%s, %s, %s)" % (i["id"], i["node"], i["lifecycle"],
                                 "draining" if i["elb"]["draining"] else "deregistered")
            for i in c.nodes() if i["ec2"] == "running" and i["lifecycle"] == "InService"
            and (not i["elb"]["registered"] or i["elb"]["draining"])]


def takeouts_below(history, n):
    """The daemon's deregistrations made when fewer than n+1 nodes served: I1 by its
    own hand (the operator's terminations are not calls, and do not count)."""
    rp, bad = Replay(), []
    for r in history:
        if r["kind"] == "call" and r["a"] == "DeregisterInstancesFromLoadBalancer" and \
                r["n"] == 200 and rp.serving() <= n:
            bad.append("%s at %d ms with %d serving" % (r["obj"], r["t"], rp.serving()))
        rp.apply(r)
    return bad


# ---- scenarios -------------------------------------------------------------

class Scenario:
    def __init__(self, name, fn, xfail=None):
        self.name, self.fn, self.xfail = name, fn, xfail


class Test:
    """What one scenario checks and reports."""

    def __init__(self, name):
        self.name = name
        self.failures = []
        self.notes = []
        self.figs = {}
        self.clusters = []

    def cluster(self, **kw):
        c = Cluster(label=self.name, **kw)
        self.clusters.append(c)
        return c

    def check(self, cond, what):
        if not cond:
            self.failures.append(what)
        return cond

    def fail(self, what):
        self.failures.append(what)
        raise Failure(what)

    def note(self, what):
        self.notes.append(what)

    def fig(self, name, value):
        self.figs[name] = value

    # -- the checks every scenario makes --

    def invariants(self, report, violated=None):
        """Each of I1-I7 holds, except those named in violated: {id: words of its why}."""
        violated = violated or {}
        inv = {i["id"]: i for i in report["invariants"]}
        for k in ("I1", "I2", "I3", "I4", "I5", "I6", "I7"):
            i = inv.get(k)
            if not self.check(i is not None, "%s missing from the report" % k):
                continue
            if k in violated:
                self.check(not i["ok"] and violated[k] in (i["why"] or ""),
                           "%s: expected violated (%s), got %s: %s" %
                           (k, violated[k], "ok" if i["ok"] else "violated", i["why"]))
            else:
                self.check(i["ok"], "%s violated (%d): %s; first event %s" %
                           (k, i["violations"], i["why"], json.dumps(i["first_event"])))
        if not violated:
            self.check(report["ok"], "bbsim's report is not ok")
        return inv

    def figures(self, report, counters=None):
        """The key figures of a run, from bbsim's report (and counters)."""
        u = report.get("upgrade") or {}
        q = report["requests"]
        if u.get("ratio_to_bound") is not None:
            self.fig("ratio", "%.2f" % u["ratio_to_bound"])
        if u:
            self.fig("virtual", "%.1fs" % (u["wall_ms"] / 1000))
            self.fig("launched/terminated", "%d/%d" % (u["instances"]["launched"],
                                                       u["instances"]["terminated"]))
        self.fig("requests", "%d served, %d failed (%d short)" %
                 (q["served"], q["failed"], q["failed_short"]))
        # Throttled by the token bucket (the report) or by the fault table, at the
        # front door, before the model counts a call (the counters).
        throttled = report["api_calls"]["throttled"]
        if counters is not None:
            throttled = max(throttled, sum(sum(a.values()) for a in
                                           counters.get("throttled", {}).values()))
        self.fig("api", "%d (%d throttled)" % (report["api_calls"]["total"], throttled))

    def judge(self, c, rc=None, want_rc=None, outcome=None, version=None, nodes=None,
              violated=None, settle=60):
        """The end of an upgrade, by bbsim: the report, every node, the exit status.

        outcome: "approve" (completed), "cancel" (cancelled or rolled back: version
        is then the original), None (not finished: halted); version: every live node
        ACTIVE on it, and the stack's BitbucketVersion; nodes: how many (default N).
        """
        if rc is not None:
            want = want_rc if want_rc is not None else (0 if outcome == "approve" else 1)
            self.check(rc == want, "bbctl exited %s, expected %s" % (rc, want))
            prev = self.figs.get("rc")
            self.fig("rc", rc if prev is None else "%s then %s" % (prev, rc))
        if outcome is not None:
            # bbsim's "completed": STABLE after approve/cancel and no stack update.
            try:
                c.wait_for(lambda: (c.report().get("upgrade") or {}).get("completed"),
                           settle, "bbsim to see the upgrade completed")
            except Failure as e:
                self.check(False, str(e))
        r = c.report()
        s = c.state()
        u = r.get("upgrade") or {}
        self.figures(r, c.counters())
        if outcome is not None:
            self.check(u.get("outcome") == outcome, "bbsim's outcome %s, expected %s" %
                       (u.get("outcome"), outcome))
            self.fig("outcome", u.get("outcome"))
        if version is not None:
            live = c.nodes(s)
            n = nodes if nodes is not None else c.n
            self.check(len(live) == n, "%d nodes at the end, expected %d" % (len(live), n))
            for i in live:
                self.check(i["node"] == "ACTIVE" and i["version"] == version,
                           "%s is %s on %s, expected ACTIVE on %s" %
                           (i["id"], i["node"], i["version"], version))
            self.check(s["stack"]["parameters"].get("BitbucketVersion") == version,
                       "the stack's BitbucketVersion is %s, expected %s" %
                       (s["stack"]["parameters"].get("BitbucketVersion"), version))
            self.fig("end", "%d x %s" % (len(live), version))
        self.invariants(r, violated)
        return r


_lock = threading.Lock()     # one scenario's lines at a time


def _run_one(sc):
    t = Test(sc.name)
    t0 = time.monotonic()
    crash = None
    try:
        sc.fn(t)
    except Failure as e:
        t.failures.append(str(e))
    except Exception:       # a bug of the test itself: show it
        crash = traceback.format_exc()
        t.failures.append("exception: " + crash.strip().splitlines()[-1])
    finally:
        for c in t.clusters:
            c.cleanup()
            for p in c.problems:
                t.failures.append(p)
    took = time.monotonic() - t0
    figs = ", ".join("%s %s" % (k, v) for k, v in t.figs.items())
    with _lock:
        if not t.failures:
            tag = "ok   " if not sc.xfail else "XPASS"
        else:
            tag = "FAIL " if not sc.xfail else "XFAIL"
        print("%s %s (%.1fs real): %s" % (tag, sc.name, took, figs or "-"))
        for n in t.notes:
            print("        note: %s" % n)
        if t.failures:
            if sc.xfail:
                print("        expected failure: %s" % sc.xfail)
            for f in t.failures:
                print("        - %s" % f)
            if crash:
                print(crash)
            if not sc.xfail:
                for c in t.clusters:
                    tail = getattr(c, "daemon_tail", "")
                    if tail:
                        print("        daemon log (last lines):")
                        print("\n".join("          " + l for l in tail.splitlines()))
        sys.stdout.flush()
    # An expected failure that passes is news, not a failure.
    return bool(t.failures) and not sc.xfail


def _cleanup_all(*_):
    with _live_lock:
        live = list(_live)
    for c in live:
        c.cleanup()
    os._exit(130)


def run_scenarios(scenarios, parallel=3):
    """Runs the scenarios, parallel at a time; the exit status of the test file."""
    for b in (BBSIM, BBUPGRADED, BBCTL):
        if not os.access(b, os.X_OK):
            print("%s not built (BB_BIN=%s)" % (b, BIN))
            return 1
    signal.signal(signal.SIGINT, _cleanup_all)
    signal.signal(signal.SIGTERM, _cleanup_all)
    only = os.environ.get("BB_ONLY")
    if only:
        scenarios = [s for s in scenarios if only in s.name]
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=parallel) as ex:
        failed = sum(ex.map(_run_one, scenarios))
    print("%s: %d scenario(s), %d failed, %.1fs" % (os.path.basename(sys.argv[0]),
                                                    len(scenarios), failed,
                                                    time.monotonic() - t0))
    return 1 if failed else 0
