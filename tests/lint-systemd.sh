#!/bin/sh
# Lints the systemd files of bbupgraded in DIR (normally systemd/), offline: it needs
# systemd-analyze but no running systemd, and changes nothing on the host.
#
#   1. systemd-analyze verify on bbupgraded.service and bbupgraded.socket: no complaint;
#   2. systemd-analyze security on the service: overall exposure at most $max_exposure;
#   3. sysusers.d and tmpfiles.d files (*.sysusers, *.tmpfiles), if present: they parse.
#
# Usage: sh tests/lint-systemd.sh DIR

usage="usage: sh tests/lint-systemd.sh DIR"
max_exposure=2.0
prog=lint-systemd

[ $# -eq 1 ] || { echo "$usage" >&2; exit 2; }
dir=$1

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "$prog: systemd-analyze not found, skipped"
	exit 0
fi

# Stable, untranslated output to parse; "." as the decimal point for awk.
LC_ALL=C
export LC_ALL
SYSTEMD_PAGER=
SYSTEMD_COLORS=0
export SYSTEMD_PAGER SYSTEMD_COLORS

for u in bbupgraded.service bbupgraded.socket; do
	[ -f "$dir/$u" ] || { echo "$prog: $dir/$u: missing" >&2; exit 1; }
done
absdir=$(cd "$dir" && pwd) || exit 1

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lint-systemd.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' 0
trap 'exit 1' HUP INT TERM
mkdir "$tmp/units" "$tmp/sbin" "$tmp/root" || exit 1

# verify checks that ExecStart= names an executable: give it one in place of @SBINDIR@.
# The socket unit keeps its name, so that it still belongs to the service.
printf '#!/bin/sh\nexit 0\n' > "$tmp/sbin/bbupgraded" && chmod 755 "$tmp/sbin/bbupgraded" &&
sed "s|@SBINDIR@|$tmp/sbin|g" "$dir/bbupgraded.service" > "$tmp/units/bbupgraded.service" &&
cp "$dir/bbupgraded.socket" "$tmp/units/bbupgraded.socket" || exit 1
if grep -n '@[A-Z_]*@' "$tmp/units/bbupgraded.service" "$tmp/units/bbupgraded.socket"; then
	echo "$prog: placeholder left that make install does not replace" >&2
	exit 1
fi

fail=0

# Prints the output file $1 and sets fail=1 if it has a line about our files ($2: a
# fixed string they all contain). Other lines are the host's own units, pulled in as
# dependencies (multi-user.target, sockets.target, network-online.target...): shown,
# but not ours to fix.
judge() {
	[ -s "$1" ] || return 0
	while IFS= read -r line; do
		case $line in
		*"$2"*|*"$tmp"*)
			echo "$prog: $line" >&2
			fail=1 ;;
		*)	echo "$prog: (host, ignored) $line" >&2 ;;
		esac
	done < "$1"
}

# 1. verify. --man=no: the man pages are not installed here (tests/lint-man.sh checks
# them). --generators=no: generators need a booted system and only add host noise.
# --recursive-errors=no: the exit status then reflects our two units only, not the
# host's units they depend on.
systemd-analyze verify --no-pager --man=no --generators=no --recursive-errors=no \
    "$tmp/units/bbupgraded.service" "$tmp/units/bbupgraded.socket" \
    > "$tmp/verify.out" 2>&1
rc=$?
judge "$tmp/verify.out" bbupgraded
if [ $rc -ne 0 ]; then
	echo "$prog: systemd-analyze verify exited with status $rc" >&2
	fail=1
fi

# 2. security. The "Overall exposure level" line is on stdout; the table above it
# names each setting that still counts against the service.
systemd-analyze security --no-pager --offline=true \
    "$tmp/units/bbupgraded.service" > "$tmp/security.out" 2> "$tmp/security.err"
rc=$?
judge "$tmp/security.err" bbupgraded
exposure=$(sed -n 's/.*Overall exposure level for [^:]*: *\([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p' \
    "$tmp/security.out")
if [ $rc -ne 0 ] || [ -z "$exposure" ]; then
	cat "$tmp/security.out" >&2
	echo "$prog: systemd-analyze security failed (status $rc)" >&2
	fail=1
elif awk -v e="$exposure" -v m="$max_exposure" 'BEGIN { exit !(e + 0 <= m + 0) }'; then
	echo "$prog: bbupgraded.service exposure $exposure (limit $max_exposure)"
else
	# The settings that count against it ("✗" in a UTF-8 locale, "-" in ours).
	grep -e '^- ' -e '^✗ ' "$tmp/security.out" >&2
	echo "$prog: bbupgraded.service exposure $exposure, above $max_exposure" >&2
	fail=1
fi

# 3. sysusers.d: a dry run against an empty root creates nothing, and reports every
# line it cannot parse.
for f in "$absdir"/*.sysusers; do
	[ -e "$f" ] || continue
	if ! command -v systemd-sysusers >/dev/null 2>&1; then
		echo "$prog: systemd-sysusers not found, $f not checked"
		continue
	fi
	systemd-sysusers --dry-run --root="$tmp/root" "$f" > "$tmp/sysusers.out" 2>&1
	rc=$?
	# Its "Creating user..." / "Would write..." lines are the plan, not complaints.
	grep -v '^Creating \|^Would ' "$tmp/sysusers.out" > "$tmp/sysusers.err"
	judge "$tmp/sysusers.err" "$f"
	[ $rc -eq 0 ] || { echo "$prog: $f: systemd-sysusers exited with status $rc" >&2; fail=1; }
done

# 4. tmpfiles.d: systemd-tmpfiles 252 has no --dry-run. Every line is still parsed and
# checked, but a --prefix that matches none of them means nothing is created and no user
# or group is looked up (bbupgraded need not exist on this host).
for f in "$absdir"/*.tmpfiles; do
	[ -e "$f" ] || continue
	if ! command -v systemd-tmpfiles >/dev/null 2>&1; then
		echo "$prog: systemd-tmpfiles not found, $f not checked"
		continue
	fi
	systemd-tmpfiles --root="$tmp/root" --create --prefix=/lint-systemd-parse-only \
	    "$f" > "$tmp/tmpfiles.out" 2>&1
	rc=$?
	judge "$tmp/tmpfiles.out" "$f"
	[ $rc -eq 0 ] || { echo "$prog: $f: systemd-tmpfiles exited with status $rc" >&2; fail=1; }
done

[ $fail -eq 0 ] && echo "$prog: OK"
exit $fail
