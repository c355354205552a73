#!/usr/bin/env python3
"""make bench-upgrade: the figures issue 5 asks for, from real runs on bbsim.

Two upgrades of the demo's cluster (4 Bitbucket 7.9.0 nodes to 7.9.4, surge 1, the
fast profile, poll_interval 500ms) with the real bbsim, bbupgraded and bbctl:

  1. undisturbed, three times (bbsim seeds 7, 8, 9): orchestration efficiency
     (bbsim's simulated upgrade time over its critical-path lower bound; the drains
     vary with the user traffic, which the bound leaves out), AWS API calls per
     renewed node and which ones, the daemon's peak RSS (VmHWM) over the upgrade;
  2. the daemon killed with SIGKILL just after its first termination's outcome is
     committed, then started again: time from exec to answering on its socket, to its
     first event (the open upgrade observed and decided on), to its next journalled
     action; the upgrade must still complete with I1-I7 intact.

Figures are printed, not asserted (machines are noisy); the exit status is non-zero
only if an upgrade fails or bbsim reports a broken invariant.
Usage: tests/bench/upgrade.py BIN_DIR
"""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

BIN = sys.argv[1] if len(sys.argv) > 1 else "build"
ENV = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDEXAMPLE",
           AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
           AWS_CONFIG_FILE="/dev/null", AWS_SHARED_CREDENTIALS_FILE="/dev/null",
           AWS_EC2_METADATA_DISABLED="true")


def wait_for(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    raise RuntimeError("timed out waiting for " + what)


class Run:
    """bbsim and bbupgraded in a temporary directory; close() kills both."""

    def __init__(self, seed=7):
        self.tmp = tempfile.TemporaryDirectory(prefix="bbbench.")
        d = self.tmp.name
        self.sock, self.db = d + "/control.sock", d + "/state/state.db"
        self.sim = subprocess.Popen([BIN + "/bbsim", "-p", "0", "--seed", str(seed)],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                    text=True)
        line = self.sim.stdout.readline()
        self.url = line.split()[-1]
        with open(d + "/bitbucket.password", "w") as f:
            f.write("admin-secret-test\n")
        os.chmod(d + "/bitbucket.password", 0o600)
        self.conf = d + "/bbupgraded.conf"
        with open(self.conf, "w") as f:
            f.write(f"[daemon]\nsocket = {self.sock}\nstate_directory = {d}/state\n"
                    "poll_interval = 500ms\n\n[deployment demo]\nregion = us-east-1\n"
                    f"stack = bitbucket\nbitbucket_url = {self.url}\n"
                    f"bitbucket_user = admin\npassword_file = {d}/bitbucket.password\n"
                    f"endpoint_url = {self.url}\n")
        self.daemon = None
        self.start_daemon()

    def start_daemon(self):
        t0 = time.monotonic()
        self.daemon = subprocess.Popen([BIN + "/bbupgraded", "-f", "-c", self.conf],
                                       env=ENV, stderr=subprocess.DEVNULL)
        wait_for(lambda: self.bbctl("ping").returncode == 0, 10, "the daemon")
        return time.monotonic() - t0

    def bbctl(self, *args):
        return subprocess.run([BIN + "/bbctl", "--socket", self.sock, "--json"] +
                              list(args), capture_output=True, text=True)

    def sim_get(self, path):
        return json.load(urllib.request.urlopen(self.url + path, timeout=10))

    def query(self, sql, *args):
        with sqlite3.connect("file:%s?mode=ro" % self.db, uri=True) as c:
            return c.execute(sql, args).fetchall()

    def memory_kib(self):
        """VmHWM (peak), and now: RssAnon (the daemon's own) and RssFile (code)."""
        with open("/proc/%d/status" % self.daemon.pid) as f:
            kv = dict(line.split(":", 1) for line in f if ":" in line)
        return [int(kv[k].split()[0]) for k in ("VmHWM", "RssAnon", "RssFile")]

    def finished(self):
        st = json.loads(self.bbctl("status").stdout or "{}")
        up = st.get("upgrade") or {}
        return up.get("state") in ("done", "halted", "failed", "rolled_back",
                                   "cancelled") and up.get("state")

    def close(self):
        for p in (self.daemon, self.sim):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
        self.tmp.cleanup()


def verdict(run):
    r = run.sim_get("/_sim/report")
    u = r.get("upgrade") or {}
    bad = [i["id"] for i in r["invariants"] if not i["ok"]]
    return r, u, bad


def undisturbed(seed):
    run = Run(seed)
    try:
        t0 = time.monotonic()
        if run.bbctl("start", "demo", "--to", "7.9.4", "--yes").returncode != 0:
            raise RuntimeError("bbctl start failed")
        state = wait_for(run.finished, 300, "the upgrade")
        wall = time.monotonic() - t0
        peak, anon, code = run.memory_kib()
        r, u, bad = verdict(run)
        total = r["api_calls"]["total"]
        calls = {c["action"]: c["calls"] for c in r["api_calls"]["by_action"]}
        renewed = u["instances"]["terminated"]
        bound, drains = r["critical_path"]["total_ms"], u["drains"]["ms"]
        print("undisturbed upgrade (seed %d): %s in %.1f s; bbsim: %.1f s simulated, "
              "lower bound %.1f s, efficiency ratio %.2f (target <= 1.10); the drains "
              "took %.1f s (traffic's, outside the bound): ratio to bound + drains "
              "%.2f" % (seed, state, wall, u["wall_ms"] / 1e3, bound / 1e3,
                        u.get("ratio_to_bound") or 0, drains / 1e3,
                        u["wall_ms"] / (bound + drains)))
        print("  AWS+Bitbucket API calls: %d, %.1f per renewed node (%d renewed)" %
              (total, total / max(renewed, 1), renewed))
        top = sorted(calls.items(), key=lambda kv: -kv[1])[:8]
        print("  most called: " + ", ".join("%s %d" % kv for kv in top))
        print("  daemon peak RSS (VmHWM): %d KiB (target <= 16384); at the end %d KiB "
              "anonymous (heap, stacks) + %d KiB of shared library code and data" %
              (peak, anon, code))
        print("  user requests: %d served, %d failed; invariants %s" % (
              r["requests"]["served"], r["requests"]["failed"],
              "I1-I7 ok" if not bad else "BROKEN: " + " ".join(bad)))
        return (u.get("ratio_to_bound") or 0) if state == "done" and not bad else None
    finally:
        run.close()


def restarted():
    run = Run()
    try:
        if run.bbctl("start", "demo", "--to", "7.9.4", "--yes").returncode != 0:
            raise RuntimeError("bbctl start failed")
        wait_for(lambda: run.query("SELECT 1 FROM journal WHERE action = 'terminate' "
                 "AND outcome IS NOT NULL"), 120, "the first termination")
        run.daemon.send_signal(signal.SIGKILL)
        run.daemon.wait()
        last_event = run.query("SELECT max(id) FROM event")[0][0]
        last_intent = run.query("SELECT max(id) FROM journal")[0][0]
        t0 = time.monotonic()
        ready = run.start_daemon()
        wait_for(lambda: run.query("SELECT 1 FROM event WHERE id > ?", last_event),
                 60, "an event after the restart")
        first_event = time.monotonic() - t0
        wait_for(lambda: run.query("SELECT 1 FROM journal WHERE id > ?", last_intent),
                 120, "an action after the restart")
        first_action = time.monotonic() - t0
        state = wait_for(run.finished, 300, "the upgrade")
        r, u, bad = verdict(run)
        print("restart mid-upgrade (SIGKILL after the first termination's outcome): "
              "socket answering after %.0f ms, first event after %.0f ms, next "
              "journalled action after %.0f ms (that one waits for the world: the "
              "replacement to boot); the upgrade %s, invariants %s" % (
              ready * 1e3, first_event * 1e3, first_action * 1e3, state,
              "I1-I7 ok" if not bad else "BROKEN: " + " ".join(bad)))
        return state == "done" and not bad
    finally:
        run.close()


if __name__ == "__main__":
    ratios = [undisturbed(seed) for seed in (7, 8, 9)]
    ok = None not in ratios
    if ok:
        print("efficiency ratio: median %.2f of %s" % (sorted(ratios)[1],
              ", ".join("%.2f" % r for r in ratios)))
    ok = restarted() and ok
    sys.exit(0 if ok else 1)
