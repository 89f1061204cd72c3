#!/bin/sh
# run-tests.sh — install what is missing, build, and run every test twice:
# once in a plain build and once under AddressSanitizer + UBSan. Ends with
# one line "N passed, N failed, N skipped" over both runs; exits non-zero if
# anything failed.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
pass=0 fail=0 skip=0 status=0

run_suite() { # name build-dir configure-flags
	name=$1
	echo "== $name: building in $2" >&2
	if ! RRVM_BUILD=$2 RRVM_CONFIGURE_FLAGS=$3 sh "$top/scripts/setup.sh"; then
		echo "== $name: BUILD FAILED" >&2
		fail=$((fail + 1))
		status=1
		return
	fi
	echo "== $name: make check" >&2
	(cd "$2" && make -s -j"$(nproc)" check) || status=1
	log="$2/test-suite.log"
	if [ -f "$log" ]; then
		p=$(sed -n 's/^# PASS: *//p' "$log")
		f=$(sed -n 's/^# FAIL: *//p' "$log")
		e=$(sed -n 's/^# ERROR: *//p' "$log")
		x=$(sed -n 's/^# XPASS: *//p' "$log")
		s=$(sed -n 's/^# SKIP: *//p' "$log")
		pass=$((pass + ${p:-0}))
		fail=$((fail + ${f:-0} + ${e:-0} + ${x:-0}))
		skip=$((skip + ${s:-0}))
		echo "== $name: ${p:-0} passed, $(( ${f:-0} + ${e:-0} + ${x:-0} )) failed, ${s:-0} skipped" >&2
		grep -E '^(FAIL|ERROR|XPASS):' "$log" >&2 || true
	else
		fail=$((fail + 1))
		status=1
	fi
}

run_suite plain "$top/build" ""
run_suite sanitizers "$top/build-sanitizers" "--enable-sanitizers"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ] && [ "$status" -eq 0 ]
