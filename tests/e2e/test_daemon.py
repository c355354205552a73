#!/usr/bin/env python3
"""End to end: the real bbupgraded and bbctl on a temporary directory.

Starts the daemon as systemd would (NOTIFY_SOCKET, WATCHDOG_USEC, and once with socket
activation), talks to it with bbctl and with raw varlink messages, throws hostile input
at it, and requires it to answer typed errors or close that one connection, to keep
serving others, to keep its memory bounded, and to stop cleanly on SIGTERM.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import simlib  # noqa: E402
from simlib import BIN, check, failures  # noqa: E402

DAEMON = os.path.join(BIN, "bbupgraded")
BBCTL = os.path.join(BIN, "bbctl")
IDL = "schema/io.bbupgraded.varlink"


class Daemon:
    """One bbupgraded in a temporary directory, with a notify socket of our own."""

    def __init__(self, tmp, listen_sock=None, journal=False):
        self.tmp = tmp
        self.sock = os.path.join(tmp, "control.sock")
        self.conf = os.path.join(tmp, "bbupgraded.conf")
        with open(self.conf, "w") as f:
            f.write("[daemon]\nsocket = %s\nstate_directory = %s/state\n"
                    "client_timeout = 2\nmax_clients = 64\n\n"
                    "[deployment prod]\nregion = eu-west-1\nstack = bitbucket-prod\n"
                    "bitbucket_url = https://bitbucket.example.com\n"
                    "token_file = /nonexistent/token\n" % (self.sock, tmp))
        self.notify_path = os.path.join(tmp, "notify.sock")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        env = dict(os.environ, NOTIFY_SOCKET=self.notify_path, WATCHDOG_USEC="400000",
                   # Sanitizer builds: a small quarantine, so RSS reflects live memory.
                   ASAN_OPTIONS="quarantine_size_mb=4")
        self.log = open(os.path.join(tmp, "daemon.log"), "w+")
        if journal:
            # What systemd sets when stderr is connected to the journal.
            st = os.fstat(self.log.fileno())
            env["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
        argv = [DAEMON, "-f", "-c", self.conf]
        if listen_sock is not None:
            # LISTEN_PID must be the daemon's own pid: exec from a shell that knows it.
            os.set_inheritable(listen_sock.fileno(), True)
            fd = listen_sock.fileno()
            argv = ["sh", "-c", 'exec 3<&%d; LISTEN_PID=$$ LISTEN_FDS=1 exec "$@"' % fd,
                    "sh"] + argv
            self.proc = subprocess.Popen(argv, env=env, stderr=self.log,
                                         pass_fds=(fd,))
        else:
            self.proc = subprocess.Popen(argv, env=env, stderr=self.log)
        self.notes = []
        self.reader = threading.Thread(target=self._read_notify, daemon=True)
        self.reader.start()

    def _read_notify(self):
        """Reads notifications as systemd does, all the time."""
        self.notify.settimeout(0.2)
        while self.notify.fileno() != -1:
            try:
                self.notes.append(self.notify.recv(4096).decode())
            except socket.timeout:
                continue
            except OSError:
                return

    def wait_notify(self, what, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            if any(what in n for n in self.notes):
                return True
            time.sleep(0.05)
        return False

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return -1

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.wait_notify("STOPPING=1", 1)
        self.notify.close()
        self.log.seek(0)
        return rc, self.log.read()


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    return s


def recv_msg(s):
    buf = b""
    while not buf.endswith(b"\0"):
        chunk = s.recv(65536)
        if not chunk:
            return None
        buf += chunk
    return json.loads(buf[:-1])


def call(path, method, params=None):
    s = connect(path)
    msg = {"method": method}
    if params is not None:
        msg["parameters"] = params
    s.sendall(json.dumps(msg).encode() + b"\0")
    r = recv_msg(s)
    s.close()
    return r


def raw(path, data, expect_reply=True):
    """Sends raw bytes; returns the reply (or None if the daemon closed on us)."""
    s = connect(path)
    try:
        s.sendall(data)
        return recv_msg(s) if expect_reply else None
    except (BrokenPipeError, ConnectionResetError):
        return None
    finally:
        s.close()


def closed_by_peer(s, timeout):
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True


def bbctl(sock, *args):
    p = subprocess.run([BBCTL, "--socket", sock] + list(args), capture_output=True,
                       text=True, timeout=30, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def serving(d):
    r = call(d.sock, "io.bbupgraded.Status")
    return d.alive() and r is not None and "error" not in r


def test_check_config(tmp):
    good = os.path.join(tmp, "good.conf")
    with open(good, "w") as f:
        f.write("[daemon]\nsocket = %s/x.sock\n\n[deployment a]\nregion = eu-west-1\n"
                "stack = s\nbitbucket_url = https://b.example.com\n"
                "token_file = /t\n" % tmp)
    p = subprocess.run([DAEMON, "--check-config", "-c", good], capture_output=True,
                       text=True)
    check(p.returncode == 0 and "configuration OK: 1 deployment" in p.stdout,
          "--check-config accepts a good file: %r" % (p.stdout + p.stderr))
    bad = os.path.join(tmp, "bad.conf")
    with open(bad, "w") as f:
        f.write("[daemon]\n\nsockett = /x\n")
    p = subprocess.run([DAEMON, "--check-config", "-c", bad], capture_output=True,
                       text=True)
    check(p.returncode == 78 and "bad.conf:3" in p.stderr and "sockett" in p.stderr,
          "--check-config names file, line and key: %r" % p.stderr)
    p = subprocess.run([DAEMON, "--bogus"], capture_output=True, text=True)
    check(p.returncode == 2 and "usage" in p.stderr, "unknown option: usage, exit 2")


def test_clients(d):
    rc, out, err = bbctl(d.sock, "status")
    check(rc == 0 and "deployments:" in out and "prod" in out and "none yet" in out,
          "bbctl status: %r %r" % (out, err))
    rc, out, _ = bbctl(d.sock, "--json", "status")
    st = json.loads(out)
    check(rc == 0 and st["upgrade"] is None and st["pid"] == d.proc.pid
          and st["deployments"][0]["name"] == "prod", "bbctl --json status")
    rc, out, _ = bbctl(d.sock, "version")
    check(rc == 0 and "bbctl 0." in out and "bbupgraded 0." in out, "bbctl version")
    rc, out, _ = bbctl(d.sock, "ping")
    check(rc == 0 and "answered in" in out, "bbctl ping")
    rc, out, _ = bbctl(d.sock, "status", "--help")
    check(rc == 0 and "usage: bbctl" in out, "bbctl status --help")
    rc, _, err = bbctl(d.sock, "frobnicate")
    check(rc == 2 and "unknown command" in err, "bbctl unknown command: exit 2")
    rc, out, _ = bbctl(d.sock, "completion", "bash")
    p = subprocess.run(["bash", "-n"], input=out, text=True, capture_output=True)
    check(rc == 0 and p.returncode == 0 and "status version ping" in out,
          "bash completion from the command table")
    rc, _, err = bbctl(d.sock, "status", "extra")
    check(rc == 2, "bbctl status extra: exit 2")
    check(os.stat(d.sock).st_mode & 0o777 == 0o660, "socket mode 0660")
    if os.geteuid() == 0 and shutil.which("setpriv"):
        p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            BBCTL, "--socket", d.sock, "status"], capture_output=True,
                           text=True, timeout=30)
        check(p.returncode == 3 and "usermod" in p.stderr,
              "a user without access is told how to get it: %r" % p.stderr)
    rc, _, err = bbctl(os.path.join(d.tmp, "nope.sock"), "status")
    check(rc == 3 and "systemctl start bbupgraded" in err,
          "no daemon: exit 3 with how to start it: %r" % err)


def test_introspection(d):
    r = call(d.sock, "org.varlink.service.GetInfo")
    p = r["parameters"]
    check(p["product"] == "bbupgraded" and "io.bbupgraded" in p["interfaces"]
          and "org.varlink.service" in p["interfaces"], "GetInfo")
    r = call(d.sock, "org.varlink.service.GetInterfaceDescription",
             {"interface": "io.bbupgraded"})
    with open(IDL) as f:
        check(r["parameters"]["description"] == f.read(),
              "GetInterfaceDescription returns the schema file verbatim")
    r = call(d.sock, "org.varlink.service.GetInterfaceDescription",
             {"interface": "org.example.nope"})
    check(r["error"] == "org.varlink.service.InterfaceNotFound", "InterfaceNotFound")


def test_hostile(d):
    cases = [
        ("1 MiB message", b"{" + b" " * (1 << 20) + b"}\0", "io.bbupgraded.InvalidRequest"),
        ("invalid JSON", b"{nope\0", "io.bbupgraded.InvalidRequest"),
        ("10 000 nested arrays", b'{"a":' + b"[" * 10000 + b"]" * 10000 + b"}\0",
         "io.bbupgraded.InvalidRequest"),
        ("duplicate keys", b'{"method":"io.bbupgraded.Status","method":"x"}\0',
         "io.bbupgraded.InvalidRequest"),
        ("invalid UTF-8", b'{"method":"io.bbupgraded.St\xff\xfeatus"}\0',
         "io.bbupgraded.InvalidRequest"),
        ("not an object", b"[1,2,3]\0", "io.bbupgraded.InvalidRequest"),
        ("unknown method", b'{"method":"io.bbupgraded.Reboot"}\0',
         "org.varlink.service.MethodNotFound"),
        ("unknown interface", b'{"method":"com.evil.Do"}\0',
         "org.varlink.service.InterfaceNotFound"),
        ("wrong parameter type",
         b'{"method":"org.varlink.service.GetInterfaceDescription",'
         b'"parameters":{"interface":["io.bbupgraded"]}}\0',
         "org.varlink.service.InvalidParameter"),
        ("unknown parameter", b'{"method":"io.bbupgraded.Status","parameters":{"x":1}}\0',
         "org.varlink.service.InvalidParameter"),
        ("method not a string", b'{"method":7}\0', "io.bbupgraded.InvalidRequest"),
        ("NUL inside a string", b'{"method":"io.bbup\0', "io.bbupgraded.InvalidRequest"),
    ]
    for name, data, want in cases:
        r = raw(d.sock, data)
        got = r.get("error") if r else "closed"
        # A typed error, or (for the oversized message) the error then a close.
        # An oversized message cannot be skipped: a typed error or a close will do.
        check(got == want or (got == "closed" and name == "1 MiB message"),
              "%s: expected %s, got %s" % (name, want, got))
        check(serving(d), "still serving after %s" % name)

    # A missing NUL, and half a message then silence: no reply, closed at client_timeout.
    for name, data in (("missing NUL", b'{"method":"io.bbupgraded.Status"}'),
                       ("half a message", b'{"method":"io.bbupg')):
        s = connect(d.sock)
        s.sendall(data)
        t0 = time.time()
        check(closed_by_peer(s, 6), "%s: connection closed by the idle timeout" % name)
        check(time.time() - t0 < 5, "%s: closed within the timeout" % name)
        s.close()
        check(serving(d), "still serving after %s" % name)


def test_many_connections(d):
    conns = []
    end = time.time() + 20
    while len(conns) < 200 and time.time() < end:
        try:
            conns.append(connect(d.sock))
        except (BlockingIOError, socket.timeout):
            time.sleep(0.01)    # the listen backlog is full: the daemon is accepting
    check(len(conns) == 200, "200 connections made (%d)" % len(conns))
    time.sleep(0.5)
    answered = refused = 0
    for s in conns:
        try:
            s.sendall(b'{"method":"org.varlink.service.GetInfo"}\0')
            if recv_msg(s) is not None:
                answered += 1
            else:
                refused += 1
        except (OSError, ValueError):
            refused += 1
    print("  200 connections: %d answered, %d closed (max_clients = 64)"
          % (answered, refused))
    check(answered == 64 and refused == len(conns) - 64,
          "exactly max_clients connections served")
    for s in conns:
        s.close()
    time.sleep(0.3)
    check(serving(d), "serving again once the crowd has left")


def test_never_reads(d):
    s = connect(d.sock)
    s.setblocking(False)
    msg = (b'{"method":"org.varlink.service.GetInterfaceDescription",'
           b'"parameters":{"interface":"io.bbupgraded"}}\0') * 100
    sent, closed, end = 0, False, time.time() + 20
    while time.time() < end and not closed:
        try:
            sent += s.send(msg)
        except BlockingIOError:
            time.sleep(0.01)
        except (BrokenPipeError, ConnectionResetError):
            closed = True
    print("  a client that never reads: dropped after %d KiB of calls" % (sent // 1024))
    check(closed, "a client that never reads is dropped")
    s.close()
    check(serving(d), "still serving after the client that never reads")


def test_single_instance(d, tmp):
    p = subprocess.run([DAEMON, "-f", "-c", d.conf], capture_output=True, text=True,
                       timeout=10)
    check(p.returncode == 1 and "another bbupgraded" in p.stderr,
          "a second daemon on the same state directory refuses: %r" % p.stderr)
    other = os.path.join(tmp, "other.conf")
    with open(other, "w") as f:
        f.write("[daemon]\nsocket = %s\nstate_directory = %s/state2\n" % (d.sock, tmp))
    p = subprocess.run([DAEMON, "-f", "-c", other], capture_output=True, text=True,
                       timeout=10)
    check(p.returncode == 1 and "answers on" in p.stderr,
          "a second daemon does not take over a live socket: %r" % p.stderr)
    check(serving(d), "the first daemon still serves")



def call_more(path, method, params=None):
    """A call with "more": every reply up to the one without "continues"."""
    s = connect(path)
    msg = {"method": method, "more": True}
    if params is not None:
        msg["parameters"] = params
    s.sendall(json.dumps(msg).encode() + b"\0")
    replies, buf = [], b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
        while b"\0" in buf:
            m, buf = buf.split(b"\0", 1)
            replies.append(json.loads(m))
        if replies and not replies[-1].get("continues"):
            break
    s.close()
    return replies


def test_upgrade_protocol(d):
    """The upgrade methods' checks, none of which needs AWS."""
    r = call(d.sock, "io.bbupgraded.Start", {"deployment": "nope", "version": "7.9.4"})
    check(r.get("error") == "io.bbupgraded.NoSuchDeployment"
          and r["parameters"].get("deployment") == "nope",
          "Start of an unknown deployment: NoSuchDeployment: %r" % r)
    rc, _, err = bbctl(d.sock, "start", "nope", "--to", "7.9.4", "--yes")
    check(rc == 1 and "no deployment named nope" in err,
          "bbctl start nope: exit 1 with the daemon's reason: %r" % err)
    for method in ("io.bbupgraded.Start", "io.bbupgraded.Plan"):
        for bad in ("7.9", "latest", "7.9.4.1", ""):
            r = call(d.sock, method, {"deployment": "prod", "version": bad})
            check(r.get("error") == "org.varlink.service.InvalidParameter"
                  and r["parameters"].get("parameter") == "version",
                  "%s with version %r: InvalidParameter version: %r" % (method, bad, r))
    # bbctl checks the version itself: a usage error, exit 2, before any call.
    rc, _, err = bbctl(d.sock, "start", "prod", "--to", "7.9", "--yes")
    check(rc == 2 and "not a Bitbucket version" in err,
          "bbctl start --to 7.9: exit 2: %r" % err)
    rc, _, err = bbctl(d.sock, "plan", "prod")
    check(rc == 2 and "--to" in err, "bbctl plan without --to: exit 2: %r" % err)
    # Without a terminal and without --yes, start refuses (stdin is /dev/null here).
    rc, out, err = bbctl(d.sock, "start", "prod", "--to", "7.9.4")
    check(rc == 2 and "no terminal" in err and "--yes" in err and out == "",
          "bbctl start without a terminal and without --yes is refused: %r" % err)

    r = call(d.sock, "io.bbupgraded.Watch")
    check(r.get("error") == "org.varlink.service.ExpectedMore",
          "Watch without more: ExpectedMore: %r" % r)
    replies = call_more(d.sock, "io.bbupgraded.Watch")
    check(len(replies) == 1 and replies[0].get("error") == "io.bbupgraded.NoUpgrade",
          "Watch with more and no upgrade: NoUpgrade: %r" % replies)
    rc, _, err = bbctl(d.sock, "watch")
    check(rc == 1 and "no upgrade" in err, "bbctl watch with no upgrade: exit 1: %r" % err)

    r = call(d.sock, "io.bbupgraded.History")
    check(r.get("parameters") == {"upgrades": []}, "History is empty: %r" % r)
    rc, out, _ = bbctl(d.sock, "history")
    check(rc == 0 and "no upgrades yet" in out, "bbctl history: %r" % out)
    rc, out, _ = bbctl(d.sock, "--json", "history")
    check(rc == 0 and json.loads(out) == {"upgrades": []}, "bbctl --json history")
    r = call(d.sock, "io.bbupgraded.History", {"limit": 0})
    check(r.get("error") == "org.varlink.service.InvalidParameter", "History limit 0")

    r = call(d.sock, "io.bbupgraded.Events", {"id": 42})
    check(r.get("error") == "io.bbupgraded.NoSuchUpgrade"
          and r["parameters"].get("id") == "42", "Events of an unknown upgrade: %r" % r)
    rc, _, err = bbctl(d.sock, "events", "42")
    check(rc == 1 and "no upgrade number 42" in err, "bbctl events 42: %r" % err)
    rc, _, err = bbctl(d.sock, "events")
    check(rc == 1 and "no upgrade yet" in err, "bbctl events with none: %r" % err)
    rc, _, err = bbctl(d.sock, "events", "x")
    check(rc == 2, "bbctl events x: exit 2")
    rc, out, _ = bbctl(d.sock, "completion", "bash")
    check("start) COMPREPLY=($(compgen -W '--help --to --yes --watch'" in out,
          "completion offers each command's options from the table")
    rc, out, _ = bbctl(d.sock, "start", "--help")
    check(rc == 0 and "--yes" in out and "--to VERSION" in out, "bbctl start --help")


def test_unprivileged(d):
    """Mutating methods from a caller that is neither root nor in control_group."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        print("  skipped: unprivileged callers need root and setpriv")
        return
    # Let uid 65534 reach the socket, so that the daemon (not the file system) decides.
    os.chmod(d.tmp, 0o755)
    os.chmod(d.sock, 0o666)
    try:
        def nobody(*args):
            return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534",
                                   "--clear-groups", BBCTL, "--socket", d.sock]
                                  + list(args), capture_output=True, text=True,
                                  timeout=30, stdin=subprocess.DEVNULL)
        for args in (["start", "prod", "--to", "7.9.4", "--yes"], ["pause"], ["resume"],
                     ["cancel"], ["rollback"]):
            p = nobody(*args)
            check(p.returncode == 1 and "permission denied" in p.stderr
                  and "control_group" in p.stderr,
                  "bbctl %s as nobody: PermissionDenied, exit 1: %r"
                  % (args[0], p.stderr))
        p = nobody("--json", "pause")
        check(p.returncode == 1 and json.loads(p.stdout).get("error")
              == "org.varlink.service.PermissionDenied", "--json pause as nobody")
        for args in (["status"], ["history"], ["plan", "prod", "--to", "x"]):
            p = nobody(*args)
            check(p.returncode in (0, 2), "bbctl %s as nobody is allowed" % args[0])
        check("may not call io.bbupgraded.Pause" in open(d.log.name).read(),
              "the daemon logs the refused call")
    finally:
        os.chmod(d.sock, 0o660)
        os.chmod(d.tmp, 0o700)


def test_finished_upgrades(d):
    """History, Events and Watch of upgrades in the store (written here as the engine
    would have), through the real daemon and bbctl."""
    import sqlite3
    db = sqlite3.connect(os.path.join(d.tmp, "state", "state.db"), timeout=10)
    db.execute("INSERT INTO upgrade (id, deployment, from_version, to_version, surge, "
               "state, phase, created_at, updated_at, finished_at) VALUES (1, 'prod', "
               "'7.9.3', '7.9.4', 1, 'done', 'end', 1764450000000, 1764450000000, "
               "1764450600000)")
    db.execute("INSERT INTO upgrade (id, deployment, from_version, to_version, surge, "
               "state, phase, reason, created_at, updated_at, finished_at) VALUES (2, "
               "'prod', '7.9.4', '7.9.5', 1, 'halted', 'surge', 'surge node i-9 in ERROR', "
               "1764460000000, 1764460000000, 1764460600000)")
    for i in range(1, 2501):
        db.execute("INSERT INTO event (upgrade_id, at, level, phase, node, message) "
                   "VALUES (1, ?, 'info', 'replace', 'i-1', ?)",
                   (1764450000000 + i, "step %d" % i))
    db.execute("INSERT INTO event (upgrade_id, at, level, phase, message, data) VALUES "
               "(2, 1764460000001, 'error', 'surge', 'surge node failed', '{\"k\":1}')")
    db.commit()
    db.close()
    rc, out, _ = bbctl(d.sock, "history")
    lines = out.splitlines()
    check(rc == 0 and len(lines) == 3 and lines[1].split()[:5]
          == ["2", "prod", "7.9.4", "7.9.5", "halted"], "bbctl history: %r" % lines)
    rc, out, _ = bbctl(d.sock, "--json", "events", "1")
    evs = [json.loads(l) for l in out.splitlines()]
    check(rc == 0 and len(evs) == 2500 and evs[0]["message"] == "step 1"
          and evs[-1]["message"] == "step 2500", "bbctl events pages through 2500 events")
    rc, out, _ = bbctl(d.sock, "events", "1", "--since", "2490", "--limit", "3")
    check(rc == 0 and len(out.splitlines()) == 3 and "step 2491" in out,
          "bbctl events --since --limit: %r" % out)
    r = call(d.sock, "io.bbupgraded.Events", {"id": 1, "limit": 1000})
    check(len(r["parameters"]["events"]) == 1000 and r["parameters"]["next"] == 1000,
          "Events pages: next")
    # Watch of upgrades that have ended: the status, the events, the final state.
    replies = call_more(d.sock, "io.bbupgraded.Watch", {"id": 2})
    check(replies and replies[0].get("continues") and "upgrade" in replies[0]["parameters"]
          and not replies[-1].get("continues")
          and replies[-1]["parameters"]["upgrade"]["state"] == "halted"
          and any(r["parameters"].get("event", {}).get("message") == "surge node failed"
                  for r in replies[1:-1]),
          "Watch of a halted upgrade: %r" % replies[:3])
    rc, out, err = bbctl(d.sock, "watch", "2")
    check(rc == 1 and "halted" in out and "surge node i-9 in ERROR" in out
          and "surge node failed" in out, "bbctl watch 2 (halted): exit 1: %r" % out)
    rc, out, _ = bbctl(d.sock, "--json", "watch", "1", "--since", "2499")
    objs = [json.loads(l) for l in out.splitlines()]
    check(rc == 0 and "upgrade" in objs[0] and objs[-1]["upgrade"]["state"] == "done"
          and [o["event"]["message"] for o in objs if "event" in o] == ["step 2500"],
          "bbctl --json watch 1 --since 2499: NDJSON, exit 0: %r" % objs[1:3])
    rc, out, _ = bbctl(d.sock, "status")
    check(rc == 0 and "upgrade #2" in out and "halted" in out, "status shows the last")

def main():
    with tempfile.TemporaryDirectory(prefix="bbe2e.") as tmp:
        test_check_config(tmp)
        d = Daemon(tmp)
        try:
            check(d.wait_notify("READY=1"), "READY=1 sent")
            check(d.wait_notify("WATCHDOG=1"), "WATCHDOG=1 sent from the loop")
            test_clients(d)
            test_introspection(d)
            rss = [d.rss_kib()]
            for _ in range(3):
                test_hostile(d)
                test_many_connections(d)
                test_never_reads(d)
                rss.append(d.rss_kib())
            print("  RSS (KiB) before hostile input, then after each of 3 rounds:", rss)
            check(rss[3] - rss[0] < 16 * 1024, "memory stays bounded")
            check(rss[3] - rss[2] < 2 * 1024, "memory does not grow round after round")
            test_upgrade_protocol(d)
            test_unprivileged(d)
            test_finished_upgrades(d)
            test_single_instance(d, tmp)
        finally:
            rc, log = d.stop()
            if failures:
                print(log)
        check(rc == 0, "exit status 0 after SIGTERM (got %s)" % rc)
        check(any("STOPPING=1" in n for n in d.notes) or d.wait_notify("STOPPING=1", 1),
              "STOPPING=1 sent")
        check(not os.path.exists(d.sock), "socket removed at exit")
        check("ready" in log and "stopped" in log, "log shows start and stop")

    with tempfile.TemporaryDirectory(prefix="bbe2e.") as tmp:
        lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        lsock.bind(os.path.join(tmp, "control.sock"))
        lsock.listen(16)
        d = Daemon(tmp, listen_sock=lsock, journal=True)
        lsock.close()
        try:
            check(d.wait_notify("READY=1"), "socket activation: READY=1")
            check(serving(d), "socket activation: serves on the passed socket")
        finally:
            rc, log = d.stop()
        check("socket activation" in log, "socket activation: logged as such")
        lines = log.splitlines()
        check(lines and all(l.startswith("<") for l in lines) and
              any(l.startswith("<6>") for l in lines),
              "under the journal, lines carry <N> priorities: %r" % lines[:3])
        check(os.path.exists(os.path.join(tmp, "control.sock")),
              "socket activation: the passed socket is not unlinked")
        check(rc == 0, "socket activation: clean stop")

    simlib.exit_report("all end-to-end checks passed")


if __name__ == "__main__":
    main()
