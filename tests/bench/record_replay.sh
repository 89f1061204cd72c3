#!/bin/sh
# record_replay.sh — what recording and replay cost, as ratios measured in
# the same run (these machines are shared and noisy; never compare absolute
# times across runs). For ticks (idle, timer-driven), race (threads and
# locks) and compute (timer interrupts in a tight loop, the hard case
# without a branch counter), median of 5 runs each:
#   record/run     wall time of `rrvm record` over `rrvm run`
#   replay/record  wall time of `rrvm replay` over `rrvm record`
#   log B/s        events.lz4 bytes per second of recorded (guest wall) time
#   events/s       events per second of recorded time
#   bp hits        breakpoint hits replay needed per asynchronous interrupt
#                  point: mean and maximum
#   ioctls/hit     every ioctl of one replay (of the first recording, counted
#                  by strace -c, a separate run) over its breakpoint hits: on
#                  a search-bound replay the search's cost per hit (each
#                  vCPU ioctl costs ~7 us on the paravirtual backend)
set -u
: "${top_builddir:=.}"
RRVM=$top_builddir/cli/rrvm
S=$top_builddir/samples
RUNS=${RRVM_BENCH_RUNS:-5}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rrvm-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

if [ ! -w /dev/kvm ]; then
	echo "record_replay bench: SKIP (no usable /dev/kvm)"
	exit 0
fi
. "$(dirname "$0")/lib.sh"

backend=$("$RRVM" doctor 2>/dev/null | sed -n 's/^  debug traps at CPL3 (user): *//p')
echo "host: $(uname -r), KVM debug traps at CPL3: ${backend:-unknown} (no = paravirtual/emulated backend)"
printf '%-8s %10s %13s %10s %10s %10s %14s %11s\n' sample record/run replay/record "log B/s" events/s \
	"bp hits" "max bp hits" ioctls/hit
for name in ticks race compute; do
	: > "$tmp/run" ; : > "$tmp/rec" ; : > "$tmp/rep"; : > "$tmp/stats"
	for i in $(seq "$RUNS"); do
		t0=$(now); "$RRVM" run -q "$S/$name.elf" >/dev/null 2>&1 </dev/null; t1=$(now)
		echo "$t1 - $t0" | bc -l >> "$tmp/run"
		rm -rf "$tmp/r$i"
		t0=$(now); "$RRVM" record -q -o "$tmp/r$i" "$S/$name.elf" >/dev/null 2>&1 </dev/null; t1=$(now)
		rec=$(echo "$t1 - $t0" | bc -l)
		echo "$rec" >> "$tmp/rec"
		t0=$(now); "$RRVM" replay -v "$tmp/r$i" >/dev/null 2>"$tmp/err"; t1=$(now)
		rep=$(echo "$t1 - $t0" | bc -l)
		echo "$rep / $rec" | bc -l >> "$tmp/rep"
		bytes=$(wc -c < "$tmp/r$i/events.lz4")
		events=$(sed -n 's/^events: //p' "$tmp/r$i/manifest")
		sed -n 's/.*asynchronous points \([0-9]*\), breakpoint hits \([0-9]*\) (max \([0-9]*\).*/\1 \2 \3/p' \
			"$tmp/err" | while read -r pts hits max; do
			echo "$pts $hits $max $(echo "$bytes / $rec" | bc -l) $(echo "$events / $rec" | bc -l)"
		done >> "$tmp/stats"
	done
	per_hit=-
	if command -v strace >/dev/null 2>&1; then
		# rrvm replay exits with the guest's status: not a failure here.
		rm -f "$tmp/strace"
		strace -f -c -e trace=ioctl -o "$tmp/strace" "$RRVM" replay -v "$tmp/r1" \
			>/dev/null 2>"$tmp/err"
		ioctls=$(awk '$NF == "total" { print $4 }' "$tmp/strace")
		hits=$(sed -n 's/.*breakpoint hits \([0-9]*\) .*/\1/p' "$tmp/err")
		if [ -n "$ioctls" ] && [ "${hits:-0}" -gt 0 ]; then
			per_hit=$(echo "scale=2; $ioctls / $hits" | bc -l)
		fi
	fi
	run=$(median < "$tmp/run")
	rec=$(median < "$tmp/rec")
	rep=$(median < "$tmp/rep")
	awk -v name="$name" -v rr="$(echo "$rec / $run" | bc -l)" -v rp="$rep" -v ph="$per_hit" '
		{ pts += $1; hits += $2; if ($3 > max) max = $3; bps[NR] = $4; eps[NR] = $5 }
		END {
			n = asort_simple(bps); m = asort_simple(eps)
			printf "%-8s %10.2f %13.2f %10.0f %10.0f %10.1f %14d %11s\n", name, rr, rp,
				bps[int((NR + 1) / 2)], eps[int((NR + 1) / 2)], pts ? hits / pts : 0, max, ph
		}
		function asort_simple(a,   i, j, t) {
			for (i = 1; i <= NR; i++) for (j = i + 1; j <= NR; j++)
				if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
			return NR
		}' "$tmp/stats"
done
