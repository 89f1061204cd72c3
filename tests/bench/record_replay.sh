#!/bin/sh
# record_replay.sh — what recording and replay cost, as ratios measured in
# the same run (these machines are shared and noisy; never compare absolute
# times across runs). For ticks (idle, timer-driven), race (threads and
# locks), compute (timer interrupts in a tight counting loop, the hard case
# without a branch counter), lfsr (timer interrupts in a loop whose
# registers do not count: the fast search has no estimate), paging (page
# tables, few interrupts) and ioheavy (exits rather than interrupts: 20,000
# rounds of 4 port exits, RRVM_BENCH_IO_ROUNDS), median of 5 runs each;
# every replay is run twice on the same recording, with the fast search
# (replay/fastsearch.c) and with the plain one (RRVM_PLAIN_SEARCH=1),
# interleaved, so that "before" and "after" come from the same run:
#   record/run     wall time of `rrvm record` over `rrvm run`
#   replay/record  wall time of `rrvm replay` over `rrvm record` (fast)
#   plain/record   the same with the plain search (before issue 13)
#   log B/s        events.lz4 bytes per second of recorded (guest wall) time
#   hits/pt        breakpoint hits per asynchronous interrupt point, fast
#                  and plain (mean)
#   ioctls/hit     every ioctl of one replay (of the first recording, counted
#                  by perf's syscall tracepoint, else strace, in a separate
#                  run) over its breakpoint hits, fast and plain (each vCPU
#                  ioctl costs ~7 us on the paravirtual backend)
#   ioctls/pt      the same per asynchronous point, fast and plain
#   ioctls/exit    the same per synchronous exit: of a recording (another
#                  one, made while counting), of the fast and the plain replay
#   rollbacks/pt   snapshot restores per point (overshoots, wrong counters)
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

# stats FILE: "points hits rollbacks exits" from a `replay -v` message
stats() {
	p=$(sed -n 's/.*asynchronous points \([0-9]*\), breakpoint hits \([0-9]*\) .*rollbacks \([0-9]*\).*/\1 \2 \3/p' "$1")
	echo "${p:-0 0 0} $(sed -n 's/.*replayed [0-9]* events[^0-9]*\([0-9]*\) exits.*/\1/p' "$1" | head -n 1)"
}
# count CMD...: the ioctls CMD makes. perf's tracepoint counter when it
# works: strace stops the process at every call, which makes each ioctl
# several times slower and so changes what the fast search does (twice the
# hits per point on race.elf); else strace.
count() {
	rm -f "$tmp/count"
	if [ "$counter" = perf ]; then
		perf stat -x, -o "$tmp/count" -e syscalls:sys_enter_ioctl "$@" >/dev/null 2>"$tmp/err"
		sed -n 's/^\([0-9]*\),.*sys_enter_ioctl.*/\1/p' "$tmp/count"
	else
		strace -f -c -e trace=ioctl -o "$tmp/count" "$@" >/dev/null 2>"$tmp/err"
		awk '$NF == "total" { print $4 }' "$tmp/count"
	fi
}
# ioctls DIR [env]: "ioctls points hits rollbacks exits" of one replay
ioctls() {
	# rrvm replay exits with the guest's status: not a failure here.
	n=$(count env "$@" "$RRVM" replay -v "$dir")
	echo "${n:-0} $(stats "$tmp/err")"
}
counter=
if perf stat -x, -o /dev/null -e syscalls:sys_enter_ioctl true >/dev/null 2>&1; then
	counter=perf
elif command -v strace >/dev/null 2>&1; then
	counter=strace
fi
ratio() { if [ "${2:-0}" -gt 0 ] 2>/dev/null; then echo "scale=2; $1 / $2" | bc -l; else echo -; fi; }

backend=$("$RRVM" doctor 2>/dev/null | sed -n 's/^  debug traps at CPL3 (user): *//p')
echo "host: $(uname -r), KVM debug traps at CPL3: ${backend:-unknown} (no = paravirtual/emulated backend)"
printf '%-8s %10s %13s %12s %8s %13s %13s %15s %18s %12s\n' sample record/run replay/record \
	plain/record "log B/s" "hits/pt f/p" "ioctls/hit f/p" "ioctls/pt f/p" "ioctls/exit r/f/p" \
	rollbacks/pt
IO_ROUNDS=${RRVM_BENCH_IO_ROUNDS:-20000}
for name in ticks race compute lfsr paging ioheavy; do
	args=
	[ "$name" = ioheavy ] && args="count=$IO_ROUNDS"
	: > "$tmp/run" ; : > "$tmp/rec" ; : > "$tmp/rep"; : > "$tmp/plain"; : > "$tmp/stats"
	: > "$tmp/pstats"; : > "$tmp/bps"
	for i in $(seq "$RUNS"); do
		t0=$(now); "$RRVM" run -q "$S/$name.elf" ${args:+-- $args} >/dev/null 2>&1 </dev/null; t1=$(now)
		echo "$t1 - $t0" | bc -l >> "$tmp/run"
		rm -rf "$tmp/r$i"
		t0=$(now); "$RRVM" record -q -o "$tmp/r$i" "$S/$name.elf" ${args:+-- $args} >/dev/null 2>&1 \
			</dev/null; t1=$(now)
		rec=$(echo "$t1 - $t0" | bc -l)
		echo "$rec" >> "$tmp/rec"
		t0=$(now); "$RRVM" replay -v "$tmp/r$i" >/dev/null 2>"$tmp/err"; t1=$(now)
		echo "($t1 - $t0) / $rec" | bc -l >> "$tmp/rep"
		stats "$tmp/err" >> "$tmp/stats"
		t0=$(now); RRVM_PLAIN_SEARCH=1 "$RRVM" replay -v "$tmp/r$i" >/dev/null 2>"$tmp/err"
		t1=$(now)
		echo "($t1 - $t0) / $rec" | bc -l >> "$tmp/plain"
		stats "$tmp/err" >> "$tmp/pstats"
		echo "$(wc -c < "$tmp/r$i/events.lz4") / $rec" | bc -l >> "$tmp/bps"
	done
	hf=$(awk '{ p += $1; h += $2 } END { if (p) printf "%.1f", h / p; else print "-" }' "$tmp/stats")
	hp=$(awk '{ p += $1; h += $2 } END { if (p) printf "%.1f", h / p; else print "-" }' "$tmp/pstats")
	rb=$(awk '{ p += $1; r += $3 } END { if (p) printf "%.2f", r / p; else print "-" }' "$tmp/stats")
	ihf=- ihp=- ipf=- ipp=- ier=- ief=- iep=-
	if [ -n "$counter" ]; then
		dir=$tmp/r1
		set -- $(ioctls RRVM_BENCH=1)
		ihf=$(ratio "${1:-0}" "${3:-0}"); ipf=$(ratio "${1:-0}" "${2:-0}")
		ief=$(ratio "${1:-0}" "${5:-0}")
		set -- $(ioctls RRVM_PLAIN_SEARCH=1)
		ihp=$(ratio "${1:-0}" "${3:-0}"); ipp=$(ratio "${1:-0}" "${2:-0}")
		iep=$(ratio "${1:-0}" "${5:-0}")
		rm -rf "$tmp/rc"
		n=$(count "$RRVM" record -q -o "$tmp/rc" "$S/$name.elf" ${args:+-- $args})
		ier=$(ratio "${n:-0}" "$(sed -n 's/^exits: //p' "$tmp/rc/manifest" 2>/dev/null)")
	fi
	run=$(median < "$tmp/run")
	rec=$(median < "$tmp/rec")
	printf '%-8s %10.2f %13.2f %12.2f %8.0f %13s %13s %15s %18s %12s\n' "$name" \
		"$(echo "$rec / $run" | bc -l)" "$(median < "$tmp/rep")" "$(median < "$tmp/plain")" \
		"$(median < "$tmp/bps")" "$hf/$hp" "$ihf/$ihp" "$ipf/$ipp" "$ier/$ief/$iep" "$rb"
done
