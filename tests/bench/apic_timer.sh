#!/bin/sh
# apic_timer.sh — replay speed of a guest driven by the LAPIC timer against
# the same guest driven by the PIT (through the 8259), measured in the same
# run: samples/apic.elf spin=lapic and spin=pit do the same work (compute.elf's
# tight loop without exits) under a 1 kHz timer of either kind. Median of
# RRVM_BENCH_RUNS runs (default 5) of each:
#   replay/record  wall time of `rrvm replay` over `rrvm record`
#   async points   asynchronous interrupt points per recording
#   bp hits        breakpoint hits per asynchronous point (mean)
# and the ratio of the two timers' replay times (lapic/pit).
set -u
: "${top_builddir:=.}"
RRVM=$top_builddir/cli/rrvm
S=$top_builddir/samples
RUNS=${RRVM_BENCH_RUNS:-5}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rrvm-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

if [ ! -w /dev/kvm ]; then
	echo "apic_timer bench: SKIP (no usable /dev/kvm)"
	exit 0
fi
. "$(dirname "$0")/lib.sh"

backend=$("$RRVM" doctor 2>/dev/null | sed -n 's/^  debug traps at CPL3 (user): *//p')
echo "host: $(uname -r), KVM debug traps at CPL3: ${backend:-unknown} (no = paravirtual/emulated backend)"
printf '%-6s %10s %13s %13s %10s\n' timer "replay s" replay/record "async points" "bp hits"
for timer in pit lapic; do
	: > "$tmp/rep" ; : > "$tmp/ratio"; : > "$tmp/pts"; : > "$tmp/hits"
	for i in $(seq "$RUNS"); do
		rm -rf "$tmp/r$i"
		t0=$(now); "$RRVM" record -q -o "$tmp/r$i" "$S/apic.elf" -- spin=$timer >/dev/null 2>&1 </dev/null
		status=$?; t1=$(now)
		if [ "$status" != 67 ]; then
			echo "apic_timer bench: recording spin=$timer failed (status $status)" >&2
			exit 1
		fi
		rec=$(echo "$t1 - $t0" | bc -l)
		t0=$(now); "$RRVM" replay -v "$tmp/r$i" >/dev/null 2>"$tmp/err"; t1=$(now)
		rep=$(echo "$t1 - $t0" | bc -l)
		echo "$rep" >> "$tmp/rep"
		echo "$rep / $rec" | bc -l >> "$tmp/ratio"
		sed -n 's/.*asynchronous points \([0-9]*\), breakpoint hits \([0-9]*\).*/\1 \2/p' "$tmp/err" |
			while read -r pts hits; do
				echo "$pts" >> "$tmp/pts"
				if [ "$pts" -gt 0 ]; then echo "$hits / $pts" | bc -l; else echo 0; fi >> "$tmp/hits"
			done
	done
	rep=$(median < "$tmp/rep")
	eval "rep_$timer=\$rep"
	printf '%-6s %10.2f %13.2f %13d %10.1f\n' "$timer" "$rep" "$(median < "$tmp/ratio")" \
		"$(median < "$tmp/pts")" "$(median < "$tmp/hits")"
done
printf 'replay time, LAPIC timer over PIT: %.2f\n' "$(echo "$rep_lapic / $rep_pit" | bc -l)"
