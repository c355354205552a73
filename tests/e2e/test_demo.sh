#!/bin/sh
# make demo, as CI runs it: the whole upgrade on bbsim must complete with I1-I7 intact.
set -u
log=$(mktemp /tmp/bbdemo-test.XXXXXX)
sh sim/demo.sh "${BB_BIN:-build}" >"$log" 2>&1
status=$?
if [ $status -eq 0 ]; then
	sed -n '/^== the upgrade took/,$p' "$log"
else
	tail -60 "$log"
fi
rm -f "$log"
exit $status
