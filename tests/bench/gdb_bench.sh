#!/bin/sh
# gdb_bench.sh — how quickly the real gdb works against rrvm, on a live
# guest (rrvm run --gdb) and on a replay (rrvm replay --gdb) of
# samples/race.elf:
#   - from `target remote` to gdb's prompt (gdb reads the target
#     description, registers and memory around pc);
#   - one `stepi` round trip, over 200 of them from worker_main;
#   - on hosts whose debug registers do not catch data writes, a
#     watchpoint single-steps the guest: the whole replay under a
#     watchpoint on a word nobody writes, against the plain replay.
# Times come from gdb's own Python clock around the commands. Figures are
# best of 3 where cheap; the ratios are measured in the same run (the
# machines are shared and noisy). Run by `make bench`.

top_builddir=${top_builddir:-.}
RRVM=$top_builddir/cli/rrvm
K=$top_builddir/samples/race.elf
GDB=${GDB:-gdb}
. "$(dirname "$0")/lib.sh"

bench_skip_unless gdb_bench kvm
bench_skip_unless gdb_bench gdb
bench_skip_unless gdb_bench built "$RRVM" "$K"

T=$(mktemp -d "${TMPDIR:-/tmp}/gdb_bench.XXXXXX") || exit 1
SOCK=$T/gdb.sock
trap 'rm -rf "$T"' EXIT INT TERM

if "$RRVM" doctor 2>/dev/null | grep -q 'debug traps at CPL3 (user): *yes'; then
	backend="KVM with debug traps in guest user mode (hardware virtualization)"
else
	backend="KVM without debug traps in guest user mode (paravirtual backend, CPL0 emulated)"
fi
echo "gdb benchmark on samples/race.elf; backend: $backend"

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# start MODE [ARGS]: rrvm run or replay, listening on $SOCK.
start() {
	mode=$1; shift
	rm -f "$SOCK"
	if [ "$mode" = run ]; then
		"$RRVM" run -q --gdb="unix:$SOCK" "$@" "$K" >/dev/null 2>"$T/rrvm.err" </dev/null &
	else
		"$RRVM" replay -q --gdb="unix:$SOCK" "$@" "$T/rec" >/dev/null 2>"$T/rrvm.err" </dev/null &
	fi
	PID=$!
	i=0
	while [ ! -S "$SOCK" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
}

# session MODE: one gdb session; prints "connect_ms step_us".
session() {
	start "$1"
	timeout 300 "$GDB" -batch -nx "$K" -ex 'python import time; t0 = time.time()' \
		-ex "target remote $SOCK" \
		-ex 'python print("BENCH connect %.2f" % ((time.time() - t0) * 1e3))' \
		-ex 'break worker_main' -ex 'continue' -ex 'delete' \
		-ex 'python t1 = time.time()' -ex 'stepi 200' \
		-ex 'python print("BENCH step %.1f" % ((time.time() - t1) * 1e6 / 200))' \
		-ex 'kill' >"$T/gdb.out" 2>&1 </dev/null
	wait "$PID" 2>/dev/null
	c=$(sed -n 's/^BENCH connect //p' "$T/gdb.out")
	s=$(sed -n 's/^BENCH step //p' "$T/gdb.out")
	echo "${c:-?} ${s:-?}"
}

# best3 MODE: the smallest of three sessions, field by field.
best3() {
	for i in 1 2 3; do session "$1"; done | awk '
		$1 != "?" && (c == "" || $1 + 0 < c + 0) { c = $1 }
		$2 != "?" && (s == "" || $2 + 0 < s + 0) { s = $2 }
		END { print (c == "" ? "?" : c), (s == "" ? "?" : s) }'
}

# race.elf exits with status 1 or 7: both make a recording.
timeout 120 "$RRVM" record -q -o "$T/rec" "$K" >/dev/null 2>"$T/rec.err" </dev/null
if [ ! -f "$T/rec/manifest" ]; then
	echo "gdb_bench: could not record race.elf: $(head -c 200 "$T/rec.err")"
	exit 1
fi

set -- $(best3 run)
live_c=$1 live_s=$2
set -- $(best3 replay)
rep_c=$1 rep_s=$2
printf '  %-44s %10s %10s\n' "" "live" "replay"
printf '  %-44s %10s %10s\n' "target remote to the gdb prompt (ms)" "$live_c" "$rep_c"
printf '  %-44s %10s %10s\n' "stepi round trip (us, mean of 200)" "$live_s" "$rep_s"
awk -v a="$live_s" -v b="$rep_s" 'BEGIN { if (a > 0 && b > 0) printf "  stepi on a replay / on a live guest: %.2f\n", b / a }'

# A watchpoint over the whole replay, against the plain replay.
t0=$(now_ms)
"$RRVM" replay -q "$T/rec" >/dev/null 2>&1 </dev/null
plain=$(($(now_ms) - t0))
start replay
t0=$(now_ms)
timeout 600 "$GDB" -batch -nx "$K" -ex "target remote $SOCK" -ex 'watch race.threads[0].ops' \
	-ex 'continue' -ex 'detach' >"$T/gdb.out" 2>&1 </dev/null
wait "$PID" 2>/dev/null
watched=$(($(now_ms) - t0))
how="debug register"
grep -q 'single-stepping' "$T/rrvm.err" && how="single-stepping (the debug registers do not catch writes here)"
echo "  whole replay: plain ${plain} ms; under a watchpoint ${watched} ms ($how)"
awk -v a="$plain" -v b="$watched" 'BEGIN { if (a > 0) printf "  replay under a watchpoint / plain replay: %.1f\n", b / a }'
