#!/bin/sh
# The daemon's cost at rest: RSS and CPU time over an idle period (default 60 s).
# It must not poll: CPU time should stay at (or within a tick of) zero.
# Usage: tests/bench/idle.sh [BIN_DIR] [SECONDS]      (make bench-idle)
set -eu
bin=${1:-build}
secs=${2:-60}
tmp=$(mktemp -d /tmp/bbidle.XXXXXX)
trap 'kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT
cat > "$tmp/c.conf" <<CONF
[daemon]
socket = $tmp/control.sock
state_directory = $tmp/state
[deployment prod]
region = eu-west-1
stack = bitbucket-prod
bitbucket_url = https://bitbucket.example.com
token_file = /nonexistent
CONF
"$bin/bbupgraded" -f -c "$tmp/c.conf" 2>"$tmp/log" &
pid=$!
i=0
until "$bin/bbctl" --socket "$tmp/control.sock" ping >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 100 ] || { cat "$tmp/log"; exit 1; }; sleep 0.1
done
# utime + stime (fields 14 and 15 of /proc/PID/stat), in clock ticks.
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
t0=$(ticks)
sleep "$secs"
t1=$(ticks)
hz=$(getconf CLK_TCK)
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
wakeups=$(awk '/^voluntary_ctxt_switches/ {print $2}' "/proc/$pid/status")
echo "idle ${secs}s: cpu $(( (t1 - t0) * 1000 / hz )) ms, rss ${rss} KiB (peak ${hwm} KiB), voluntary context switches since start ${wakeups}"
