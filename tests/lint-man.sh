#!/bin/sh
# Lints man pages with mandoc: any message at level "warning" or above fails.
# mandoc is a build dependency ("make deps" installs it), so its absence fails too.
#
# Usage: sh tests/lint-man.sh FILE...

prog=lint-man

[ $# -ge 1 ] || { echo "usage: sh tests/lint-man.sh FILE..." >&2; exit 2; }

if ! command -v mandoc >/dev/null 2>&1; then
	echo "$prog: mandoc not found: it is a build dependency (make deps installs it)" >&2
	exit 1
fi

fail=0
n=0
for f in "$@"; do
	n=$((n + 1))
	if [ ! -f "$f" ]; then
		echo "$prog: $f: no such file" >&2
		fail=1
		continue
	fi
	# -Tlint prints its messages on stdout; exit status 0 means none at this level.
	out=$(mandoc -Tlint -W warning "$f" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] || [ -n "$out" ]; then
		[ -n "$out" ] && printf '%s\n' "$out" >&2
		echo "$prog: $f: not clean (mandoc status $rc)" >&2
		fail=1
	fi
done

[ $fail -eq 0 ] && echo "$prog: $n page(s) OK"
exit $fail
