#!/bin/sh
# gdb_reverse.sh — time travel on a replay (debug/timeline.c) with the
# real gdb, on a recording of samples/race.elf:
#  1. reverse-stepi at the start: "No more reverse-execution history";
#  2. N reverse-stepi then N stepi come back to the same registers ($pc,
#     $rsp and GPRs), N = 1 and 10;
#  3. reverse-continue to a breakpoint in the timer handler race_tick stops
#     at its last hit, then at the one before (race.ticks one less each
#     time), and past the first hit at the start of the recording;
#  4. monitor goto forwards and backwards, monitor checkpoints, then
#     continue to the end: the replay ends with the recorded final state and
#     exit status, and its serial output printed once;
#  5. Ctrl-C interrupts a reverse-continue;
#  6. a live guest is not offered reverse execution.
# No assertion measures time: each waits for what gdb or rrvm prints.
: "${top_builddir:=.}"
: "${top_srcdir:=.}"
. "$top_srcdir/tests/integration/gdb_lib.sh"
need_gdb "$RRVM" "$S/race.elf"

record_race

REGS='printf "REGS pc=%lx sp=%lx ax=%lx bx=%lx cx=%lx dx=%lx si=%lx di=%lx r8=%lx fl=%lx\n", $pc, $rsp, $rax, $rbx, $rcx, $rdx, $rsi, $rdi, $r8, $eflags'
TICKS='printf "TICKS %d\n", race.ticks'

# ---- 1, 2. reverse-stepi ----------------------------------------------------
start_rrvm replay "$REC"
run_gdb "$S/race.elf" -ex 'printf "START %lx\n", $pc' -ex 'reverse-stepi' \
	-ex 'printf "START %lx\n", $pc' \
	-ex 'break race_tick' -ex 'continue' -ex 'continue' -ex 'delete' -ex 'stepi 30' \
	-ex "$REGS" -ex 'reverse-stepi' -ex "$REGS" -ex 'stepi' -ex "$REGS" \
	-ex 'reverse-stepi 10' -ex "$REGS" -ex 'stepi 10' -ex "$REGS" -ex 'kill'
gcheck "reverse-stepi at the start: no more reverse-execution history" \
	sh -c "grep -q 'No more reverse-execution history' '$T/gdb.out' && [ \$(grep -c '^START ' '$T/gdb.out') = 2 ] && [ \$(sed -n 's/^START //p' '$T/gdb.out' | sort -u | wc -l) = 1 ]"
sed -n 's/^REGS //p' "$T/gdb.out" >"$T/regs"
r1=$(sed -n 1p "$T/regs") r2=$(sed -n 2p "$T/regs") r3=$(sed -n 3p "$T/regs")
r4=$(sed -n 4p "$T/regs") r5=$(sed -n 5p "$T/regs")
gcheck "five register dumps" [ "$(wc -l <"$T/regs")" -eq 5 ]
gcheck "reverse-stepi moved back (registers differ)" [ -n "$r1" ] && [ "$r1" != "$r2" ]
gcheck "1 reverse-stepi then 1 stepi: the same registers" [ -n "$r1" ] && [ "$r1" = "$r3" ]
gcheck "10 reverse-stepi moved back" [ -n "$r4" ] && [ "$r4" != "$r3" ]
gcheck "10 reverse-stepi then 10 stepi: the same registers" [ -n "$r3" ] && [ "$r3" = "$r5" ]
gcheck "gdb was offered reverse execution (no refusal)" gdb_lacks 'does not support this command'

# ---- 3. reverse-continue to a breakpoint in a loop --------------------------
start_rrvm replay "$REC"
run_gdb "$S/race.elf" -ex 'printf "BEGIN %lx\n", $pc' -ex 'break race_tick' -ex 'continue' \
	-ex 'continue' -ex 'continue' \
	-ex 'continue' -ex "$TICKS" -ex 'reverse-continue' -ex "$TICKS" -ex 'reverse-continue' \
	-ex "$TICKS" -ex 'reverse-continue' -ex "$TICKS" -ex 'reverse-continue' \
	-ex 'printf "BEGIN %lx\n", $pc' -ex 'kill'
sed -n 's/^TICKS //p' "$T/gdb.out" >"$T/ticks"
gcheck "reverse-continue: ticks 3, 2, 1, 0 (the last hit, then each one before)" \
	[ "$(tr '\n' ' ' <"$T/ticks")" = "3 2 1 0 " ]
gcheck "reverse-continue stops at the breakpoint each time" \
	[ "$(grep -c '^Breakpoint 1, race_tick' "$T/gdb.out")" -eq 7 ]
gcheck "reverse-continue past the first hit: no more reverse-execution history, at the start" \
	sh -c "grep -q 'No more reverse-execution history' '$T/gdb.out' && [ \$(grep -c '^BEGIN ' '$T/gdb.out') = 2 ] && [ \$(sed -n 's/^BEGIN //p' '$T/gdb.out' | sort -u | wc -l) = 1 ]"

# ---- 4. goto both ways, then on to the end -----------------------------------
fwd=$((exits * 2 / 3)) back=$((exits / 4))
start_rrvm replay "$REC"
run_gdb "$S/race.elf" -ex "monitor goto $fwd" -ex 'monitor position' -ex "monitor goto $back" \
	-ex 'monitor position' -ex 'monitor checkpoints' -ex "monitor goto $((exits + 1))" \
	-ex 'monitor goto x' -ex 'continue' -ex 'detach'
gcheck "monitor goto forwards" gdb_re "^at position $fwd "
gcheck "monitor goto backwards" gdb_re "^replay: position $back of $exits,"
gcheck "monitor checkpoints lists the start and automatic ones, and the memory bound" \
	sh -c "grep -qE '^  position 0 rip' '$T/gdb.out' && grep -qE '^  position [1-9][0-9]* rip' '$T/gdb.out' && grep -q '^page store: ' '$T/gdb.out' && grep -qE '^memory: [0-9]+ of 536870912 bytes' '$T/gdb.out'"
gcheck "goto past the end: a clear message" gdb_has "position $((exits + 1)) is past the end of the recording (it ends at exit $exits)"
gcheck "goto with a bad position: a message naming it" gdb_has "'x' is not a position"
gcheck "continue after goto: the end, with the recorded final state" \
	err_has 'final state matches'
gcheck "continue after goto: the recorded exit status ($RRVM_STATUS, recorded $rec_status)" \
	[ "$RRVM_STATUS" = "$rec_status" ]
gcheck "goto back and forth: the guest's serial output printed once, as recorded" \
	cmp -s "$T/rec.out" "$T/rrvm.out"

# ---- 4b. From the end of the recording back, and forwards to it again ------
start_rrvm replay "$REC"
run_gdb "$S/race.elf" -ex 'continue' -ex "$REGS" -ex 'reverse-stepi' -ex "$REGS" -ex 'stepi' \
	-ex "$REGS" -ex 'break race_tick' -ex 'reverse-continue' -ex 'monitor goto 0' \
	-ex 'delete' -ex 'continue' -ex 'detach'
sed -n 's/^REGS //p' "$T/gdb.out" >"$T/regs"
r1=$(sed -n 1p "$T/regs") r2=$(sed -n 2p "$T/regs") r3=$(sed -n 3p "$T/regs")
gcheck "at the end: reverse-stepi moves back, stepi comes back to the end's registers" \
	sh -c "[ -n '$r1' ] && [ '$r1' != '$r2' ] && [ '$r1' = '$r3' ]"
gcheck "at the end: reverse-continue stops at race_tick" gdb_re '^Breakpoint 1, race_tick'
gcheck "goto 0 from there and continue: the recorded end again (status $RRVM_STATUS)" \
	sh -c "[ \$(grep -c 'final state matches' '$T/rrvm.err') -ge 2 ] && [ '$RRVM_STATUS' = '$rec_status' ] && cmp -s '$T/rec.out' '$T/rrvm.out'"

# ---- 5. Ctrl-C interrupts a reverse-continue -------------------------------
# A watchpoint on a word nobody writes (kmain's thread never counts
# operations) keeps the reverse-continue running long where watchpoints
# single-step; rrvm -v says when it replays (a continue from a checkpoint).
start_rrvm replay -v "$REC"
"$GDB" -batch -nx "$S/race.elf" -ex "target remote $SOCK" -ex "monitor goto $((exits - 1))" \
	-ex 'printf "GOTO done\n"' -ex 'watch race.threads[0].ops' -ex 'reverse-continue' \
	-ex 'printf "AFTER %lx\n", $pc' -ex 'delete' -ex 'detach' >"$T/gdb.out" 2>&1 </dev/null &
GDB_PID=$!
wait_for "$T/rrvm.err" 'gdb: continue from' 1
kill -INT "$GDB_PID"
i=0
while kill -0 "$GDB_PID" 2>/dev/null && [ $i -lt 3000 ]; do sleep 0.1; i=$((i + 1)); done
kill "$GDB_PID" 2>/dev/null
wait "$GDB_PID"
GDB_PID=
wait_rrvm
if gdb_has 'No more reverse-execution history'; then
	ok "# SKIP the reverse-continue reached the start before Ctrl-C"
else
	gcheck "Ctrl-C stops a reverse-continue" gdb_has 'Program received signal SIGINT'
	gcheck "after Ctrl-C gdb reads the registers and detaches" \
		sh -c "grep -q '^AFTER ' '$T/gdb.out' && grep -q 'detached' '$T/gdb.out'"
fi

# ---- 6. not on a live guest --------------------------------------------------
start_rrvm run --timeout 900 "$S/race.elf"
run_gdb "$S/race.elf" -ex 'reverse-stepi' -ex 'kill'
gcheck "a live guest: reverse execution is not offered" \
	gdb_has 'Target remote does not support this command.'

tap_end
