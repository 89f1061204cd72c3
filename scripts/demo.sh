#!/bin/sh
# demo.sh — the flagship demo: install what is missing, build, boot the
# samples, then record the flaky `race` kernel until a run fails, replay the
# failure exactly, and debug it.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
build=${RRVM_BUILD:-$top/build}
RRVM_BUILD=$build sh "$top/scripts/setup.sh"
rrvm="$build/cli/rrvm"
samples="$build/samples"
work=${RRVM_DEMO_DIR:-$top/demo-output}
rm -rf "$work"
mkdir -p "$work"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; }

step "What this host's KVM can do"
show "rrvm doctor"
"$rrvm" doctor | sed -n '1,12p'

step "Boot the sample kernels"
show "rrvm run samples/hello.elf -- hello world"
"$rrvm" run "$samples/hello.elf" -- hello world || echo "(exit status $?)"
show "rrvm run samples/ticks.elf"
"$rrvm" run "$samples/ticks.elf" || echo "(exit status $?: isa-debug-exit value 42 -> (42 << 1) | 1)"
printf 'hello rrvm\nquit\n' > "$work/input.txt"
show "rrvm run --serial-in input.txt samples/echo.elf"
"$rrvm" run --serial-in "$work/input.txt" "$samples/echo.elf" || echo "(exit status $?)"

step "Record the flaky race kernel under chaos mode until a run fails"
show "rrvm capture --runs 30 --until-fail --chaos -o captures samples/race.elf"
if "$rrvm" capture --runs 30 --until-fail --chaos -o "$work/captures" "$samples/race.elf"; then
	echo "no failure in 30 runs (unlucky); the demo stops here"
	exit 0
fi
rec=$(ls -d "$work"/captures/run-* | tail -n 1)
echo "the failing run's recording: $rec"
sed -n 's/^\(result\|exit-status\|exits\|events\|chaos-seed\): /  \1: /p' "$rec/manifest"

step "Replay the failure: same output, same status, same final state"
show "rrvm replay -v $rec"
set +e
"$rrvm" replay -v "$rec" > "$work/replay.out"
status=$?
set -e
tail -n 3 "$work/replay.out"
if cmp -s "$work/replay.out" "$rec/serial.log"; then
	echo "replay output is identical to the recorded run's, exit status $status"
else
	echo "replay output DIFFERS from the recording" >&2
	exit 1
fi

step "Index the failing run and ask it where the timer preempted the unlocked update"
show "rrvm index $rec"
"$rrvm" index "$rec"
show "rrvm query $rec \"SELECT ... FROM interrupts WHERE symbol = 'account_transfer_fast'\""
"$rrvm" query "$rec" "SELECT position, vector, printf('%#x', rip) AS rip, symbol
                       FROM interrupts WHERE symbol = 'account_transfer_fast'
                       ORDER BY position"
show "rrvm query $rec 'SELECT * FROM io_per_port'"
"$rrvm" query "$rec" 'SELECT * FROM io_per_port'

step "Debug the failure in gdb, on the replay: watch the lost balance, run backwards to the racing store"
K=$(sed -n 's/^PANIC: account \([0-9]*\) .*/\1/p' "$rec/serial.log" | head -n 1)
grep '^PANIC: account' "$rec/serial.log" || true
sock="$work/gdb.sock"
show "rrvm replay --gdb=unix:gdb.sock $rec &"
"$rrvm" replay --gdb="unix:$sock" "$rec" > "$work/gdb-replay.out" 2>"$work/gdb-replay.err" &
replay_pid=$!
i=0
while [ ! -S "$sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
show "gdb samples/race.elf -ex 'target remote gdb.sock'"
show "(gdb) break bank_panic; continue; watch -l race.bank.balance[$K]"
show "(gdb) reverse-continue   # again and again, until a store in account_transfer_fast"
show "       whose from_balance/to_balance differs from the balance it overwrites"
show "(gdb) bt; stepi          # the unlocked path; the store wipes out another worker's update"
# The loop of reverse-continues is tests/integration/gdb_flagship.py.
RACE_K=$K timeout 600 gdb -batch -nx -q "$samples/race.elf" \
	-ex 'set pagination off' -ex 'set confirm off' \
	-ex "target remote $sock" -x "$top/tests/integration/gdb_flagship.py" \
	-ex 'info locals' -ex 'kill' 2>&1 |
	grep -v '^warning: \|^Remote debugging using\|^$\|^STOP \|^AFTER \|^WANT \|^INSN ' | tail -n 24 || true
wait "$replay_pid" 2>/dev/null || true
echo
echo "All of it is in $work: the recordings, their trace databases, the replay output."
