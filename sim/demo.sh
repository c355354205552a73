#!/bin/sh
# make demo: the rolling upgrade of a simulated 4-node Bitbucket 7.9.0 cluster to 7.9.4,
# with the real bbsim, bbupgraded and bbctl in a temporary directory, then bbsim's
# verdict: wall time against the critical-path lower bound, nodes replaced, user
# requests served and failed, and the invariants I1-I7.
# Usage: sim/demo.sh BIN_DIR
set -eu
bin=${1:-build}
tmp=$(mktemp -d /tmp/bbdemo.XXXXXX)
simpid= daemonpid=
cleanup() {
	[ -n "$daemonpid" ] && kill "$daemonpid" 2>/dev/null && wait "$daemonpid" 2>/dev/null
	[ -n "$simpid" ] && kill "$simpid" 2>/dev/null && wait "$simpid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

"$bin/bbsim" -p 0 --seed 7 >"$tmp/sim.out" 2>"$tmp/sim.log" &
simpid=$!
i=0
until port=$(sed -n 's|^bbsim listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$tmp/sim.out") &&
    [ -n "$port" ]; do
	i=$((i + 1)); [ $i -lt 100 ] || { cat "$tmp/sim.log"; exit 1; }; sleep 0.1
done
url="http://127.0.0.1:$port"

printf 'admin-secret-test\n' >"$tmp/bitbucket.password"
chmod 600 "$tmp/bitbucket.password"
cat >"$tmp/bbupgraded.conf" <<CONF
[daemon]
socket = $tmp/control.sock
state_directory = $tmp/state
poll_interval = 500ms

[deployment demo]
region = us-east-1
stack = bitbucket
bitbucket_url = $url
bitbucket_user = admin
password_file = $tmp/bitbucket.password
endpoint_url = $url
CONF

export AWS_ACCESS_KEY_ID=AKIDEXAMPLE
export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_EC2_METADATA_DISABLED=true
"$bin/bbupgraded" -f -c "$tmp/bbupgraded.conf" 2>"$tmp/daemon.log" &
daemonpid=$!
i=0
until "$bin/bbctl" --socket "$tmp/control.sock" ping >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 100 ] || { cat "$tmp/daemon.log"; exit 1; }; sleep 0.1
done

echo "== bbsim: 4 Bitbucket 7.9.0 nodes behind a load balancer, at $url"
start=$(date +%s)
status=0
"$bin/bbctl" --socket "$tmp/control.sock" start demo --to 7.9.4 --yes --watch || status=$?
echo "== the upgrade took $(( $(date +%s) - start )) s; bbsim's report:"
python3 - "$url" <<'PY' || status=$?
import json, sys, urllib.request
r = json.load(urllib.request.urlopen(sys.argv[1] + "/_sim/report"))
u, c, q = r["upgrade"] or {}, r["critical_path"], r["requests"]
if u:
    print("  %s -> %s: %s, %.1f s of simulated time; lower bound %.1f s; ratio %.2f"
          % (u["from"], u["to"], u.get("outcome") or "not finished", u["wall_ms"] / 1e3,
             c["total_ms"] / 1e3, u.get("ratio_to_bound") or 0))
    print("  instances launched %d, terminated %d; drains clean %d, forced %d, "
          "%.1f s in all" % (u["instances"]["launched"], u["instances"]["terminated"],
             u["drains"]["clean"], u["drains"]["forced"], u["drains"]["ms"] / 1e3))
print("  user requests: %d served, %d failed %s" % (q["served"], q["failed"],
      {k: v for k, v in q["failed_by_reason"].items() if v}))
print("  API calls: %d (%d throttled)" % (r["api_calls"]["total"],
      r["api_calls"]["throttled"]))
for i in r["invariants"]:
    print("  %s %s%s" % (i["id"], "ok" if i["ok"] else "VIOLATED",
          "" if i["ok"] else ": " + str(i["why"])))
sys.exit(0 if r["ok"] and u.get("completed") else 1)
PY
[ $status -eq 0 ] || { echo "== the daemon's log:"; tail -20 "$tmp/daemon.log"; }
exit $status
