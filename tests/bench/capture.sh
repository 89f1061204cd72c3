#!/bin/sh
# capture.sh — what `rrvm capture` and `rrvm report` cost, measured in the
# same run (these machines are shared and noisy: read the ratios):
#   - capture throughput on race.elf under chaos, runs per second with
#     --jobs 1 and --jobs 2 (no --until-fail, so both do the same number of
#     runs; --no-report so that indexing is not counted), and their ratio;
#     alternated, median of RRVM_BENCH_ROUNDS (default 3) each;
#   - report generation on a recording of about a million exits
#     (samples/ioheavy.elf, indexed once): the time of `rrvm report`
#     against `rrvm index` of the same recording, the page's size and its
#     number of marks (lanes past 3000 items are grouped).
# Environment: RRVM_BENCH_RUNS (runs per capture, default 12),
# CAPTURE_BENCH_ROUNDS (ioheavy rounds of 4 exits, default 250000).
set -u
: "${top_builddir:=.}"
RRVM=$top_builddir/cli/rrvm
S=$top_builddir/samples
RUNS=${RRVM_BENCH_RUNS:-12}
ROUNDS=${RRVM_BENCH_ROUNDS:-3}
IO_ROUNDS=${CAPTURE_BENCH_ROUNDS:-250000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rrvm-capture-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

if [ ! -w /dev/kvm ]; then
	echo "capture bench: SKIP (no usable /dev/kvm)"
	exit 0
fi
. "$(dirname "$0")/lib.sh"
elapsed() { echo "$1 $2" | awk '{ printf "%.3f", $2 - $1 }'; }

echo "host: $(uname -r), $(nproc) CPUs, load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "-- capture throughput: race.elf --chaos, $RUNS runs per capture, median of $ROUNDS"
: >"$tmp/j1"
: >"$tmp/j2"
r=0
while [ "$r" -lt "$ROUNDS" ]; do
	r=$((r + 1))
	for j in 1 2; do
		rm -rf "$tmp/out"
		t0=$(now)
		"$RRVM" capture --runs "$RUNS" --jobs "$j" --chaos="$r" --no-report -o "$tmp/out" \
			"$S/race.elf" >"$tmp/cap.out" 2>&1
		t1=$(now)
		s=$(elapsed "$t0" "$t1")
		echo "$RUNS $s" | awk '{ printf "%.3f\n", $1 / $2 }' >>"$tmp/j$j"
		echo "  round $r --jobs $j: $s s, $(tail -1 "$tmp/cap.out")"
	done
done
j1=$(median <"$tmp/j1")
j2=$(median <"$tmp/j2")
echo "runs/s --jobs 1: $j1   --jobs 2: $j2   ratio jobs2/jobs1: $(echo "$j1 $j2" |
	awk '{ printf "%.2f", ($1 > 0 ? $2 / $1 : 0) }')"

echo "-- report of a million-exit recording (ioheavy.elf count=$IO_ROUNDS)"
rec=$tmp/ioheavy
"$RRVM" record -q -o "$rec" "$S/ioheavy.elf" -- "count=$IO_ROUNDS" >/dev/null 2>&1
t0=$(now)
"$RRVM" index -q "$rec" >/dev/null 2>&1
t1=$(now)
"$RRVM" report -q "$rec" >/dev/null 2>&1
t2=$(now)
"$RRVM" report -q -o "$tmp/again.html" "$rec" >/dev/null 2>&1
t3=$(now)
idx=$(elapsed "$t0" "$t1")
rep=$(elapsed "$t1" "$t2")
rep2=$(elapsed "$t2" "$t3")
echo "exits: $(sed -n 's/^exits: //p' "$rec/manifest"), index: $idx s, report: $rep s (again: $rep2 s)," \
	"report/index: $(echo "$idx $rep" | awk '{ printf "%.3f", ($1 > 0 ? $2 / $1 : 0) }')"
echo "report.html: $(wc -c <"$rec/report.html") bytes, $(grep -o 'class="mk' "$rec/report.html" | wc -l) marks"
