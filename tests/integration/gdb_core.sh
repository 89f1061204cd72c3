#!/bin/sh
# gdb_core.sh — the debugger core (debug/) as a kernel developer meets it,
# with the real gdb:
#  1. a write watchpoint on a live guest with a 1 kHz timer makes progress
#     (guest time runs with the stepped instructions, not host time);
#  2. on a replay, stepi and next never stop inside the interrupt handlers
#     the recording injected while they stepped;
#  3. a guest stopped (Ctrl-C) in hlt stays halted on continue until an
#     interrupt comes;
#  4. refusals come with their reason in gdb (register writes on a replay,
#     rwatch where the host cannot trap reads, one breakpoint too many);
#  5. monitor: unknown and failing commands do not abort a gdb script;
#     `monitor info registers`;
#  6. $mxcsr reads the guest's MXCSR;
#  7. `run` on target extended-remote starts the guest (live) or the replay
#     again from the beginning.
# No assertion measures time: each waits for what gdb or the guest prints.
: "${top_builddir:=.}"
: "${top_srcdir:=.}"
. "$top_srcdir/tests/integration/gdb_lib.sh"
need_gdb "$RRVM" "$S/race.elf" "$S/echo.elf"

# ---- 1. A write watchpoint on a live guest with a 1 kHz timer ------------
# It is kept by write-protecting its page here (no data breakpoints at
# CPL0: see rrvm doctor). The watch fires on the 50th operation of worker
# 1, with the timer running (ticks taken, other workers ran).
# KLINE: kmain's line that registers the timer handler.
KLINE=$(grep -n 'irq_register(PIT_IRQ' "$top_srcdir/samples/race.c" | cut -d: -f1)
start_rrvm run --timeout 900 "$S/race.elf"
run_gdb "$S/race.elf" -ex "tbreak race.c:$KLINE" -ex 'continue' \
	-ex 'watch -l race.threads[1].ops if race.threads[1].ops == 50' -ex 'continue' \
	-ex 'printf "ticks=%d other=%d\n", race.ticks, race.threads[2].ops' -ex 'kill'
gcheck "live watchpoint: stopped at kmain line $KLINE first" gdb_re '^Temporary breakpoint 1, kmain'
gcheck "live watchpoint with a 1 kHz timer: hits at the 50th operation (old 49, new 50)" \
	sh -c "grep -q '^Old value = 49' '$T/gdb.out' && grep -q '^New value = 50' '$T/gdb.out'"
ticks=$(sed -n 's/^ticks=\([0-9]*\) other=\([0-9]*\)$/\1/p' "$T/gdb.out")
other=$(sed -n 's/^ticks=\([0-9]*\) other=\([0-9]*\)$/\2/p' "$T/gdb.out")
gcheck "live watchpoint: timer ticks were taken meanwhile (ticks=$ticks) and another worker ran ($other)" \
	sh -c "[ '${ticks:-0}' -ge 1 ] && [ '${other:-0}' -ge 1 ]"

# ---- 2. Stepping a replay over the interrupts it injected -----------------
record_race
# stepi from worker_main until the timer's handler has run: the recording
# injected it at one of these steps; none of them may stop in a handler.
cat >"$T/stepi.gdb" <<'EOF'
hbreak worker_main
continue
delete
set $t0 = race.ticks
set $i = 0
while race.ticks == $t0 && $i < 30000
  stepi
  set $i = $i + 1
end
printf "stepped %d; ticks %d -> %d\n", $i, $t0, race.ticks
EOF
start_rrvm replay "$REC"
run_gdb "$S/race.elf" -x "$T/stepi.gdb" -ex 'kill'
gcheck "replay stepi: a timer interrupt came while stepping" gdb_re '^stepped [0-9]+; ticks [0-9]+ -> [0-9]+$'
gcheck "replay stepi: no step stopped in an interrupt handler" \
	gdb_lacks '(isr_|race_tick|irq_dispatch|isr_dispatch)'
# next through account_transfer until two timer ticks have passed.
cat >"$T/next.gdb" <<'EOF'
hbreak account_transfer
continue
delete
set $t0 = race.ticks
set $i = 0
while race.ticks < $t0 + 2 && $i < 3000
  next
  set $i = $i + 1
end
printf "nexts %d; ticks %d -> %d\n", $i, $t0, race.ticks
EOF
start_rrvm replay "$REC"
run_gdb "$S/race.elf" -x "$T/next.gdb" -ex 'kill'
gcheck "replay next: two timer ticks passed while stepping lines" \
	sh -c "grep -E '^nexts [0-9]+; ticks' '$T/gdb.out' | awk '{ exit !(\$6 >= \$4 + 2) }'"
gcheck "replay next: no stop inside an interrupt handler" \
	gdb_lacks '(isr_|race_tick|irq_dispatch|isr_dispatch)'

# ---- 3. Ctrl-C in hlt, then continue: halted until an interrupt ----------
# echo.elf sleeps in sti;hlt until a byte arrives. gdb stops at that hlt,
# continues (the guest halts), and is interrupted with Ctrl-C there; then
# it continues to a breakpoint right after the hlt. The serial input is a
# FIFO the test writes only once rrvm says gdb continued from the halt.
HLT=$("$GDB" -batch -nx "$S/echo.elf" -ex 'disassemble kmain' 2>/dev/null |
	sed -n 's/^ *\(0x[0-9a-f]*\) <+[0-9]*>:[[:space:]]*hlt.*/\1/p' | head -1)
gcheck "found the hlt in echo.elf's kmain ($HLT)" [ -n "$HLT" ]
FIFO=$T/serial.in
mkfifo "$FIFO"
exec 3<>"$FIFO"
start_rrvm run -v --timeout 300 --serial-in "$FIFO" "$S/echo.elf"
cat >"$T/halt.gdb" <<EOF
tbreak *$HLT
continue
continue
printf "halted at %p, received %d\\n", \$pc, rx.head
x/i \$pc - 1
break *\$pc
continue
printf "woke: received %d\\n", rx.head
EOF
"$GDB" -batch -nx "$S/echo.elf" -ex "target remote $SOCK" -x "$T/halt.gdb" -ex 'kill' \
	>"$T/gdb.out" 2>&1 </dev/null &
GDB_PID=$!
# The second continue executes the hlt: the guest halts, gdb waits; Ctrl-C.
wait_for "$T/rrvm.err" 'gdb: continue from' 2
kill -INT "$GDB_PID"
wait_for "$T/gdb.out" '^halted at'
# gdb goes on from the halt (rrvm -v says "(halted)": gdb first steps off
# its breakpoint at pc, which waits too); only then input.
wait_for "$T/rrvm.err" 'gdb: (continue|step) from .*[(]halted[)]'
printf 'hi\n' >&3
wait_for "$T/gdb.out" '^woke: received'
i=0; while kill -0 "$GDB_PID" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
wait "$GDB_PID"
GDB_PID=
exec 3>&-
wait_rrvm
gcheck "Ctrl-C stopped the guest halted in hlt, nothing received" \
	sh -c "grep -q '^halted at .*, received 0' '$T/gdb.out' && grep -qE ':[[:space:]]+hlt' '$T/gdb.out'"
gcheck "going on from the halt: rrvm says the guest is halted" err_has '(halted)'
gcheck "the guest woke only with the serial interrupt: breakpoint after hlt, bytes received" \
	sh -c "grep -q '^Breakpoint 2, ' '$T/gdb.out' && grep -qE '^woke: received [1-9]' '$T/gdb.out'"

# ---- 4. Refusals explained in gdb ---------------------------------------
start_rrvm replay "$REC"
run_gdb "$S/race.elf" -ex 'set $rax = 1' -ex 'hbreak *0x100001' -ex 'hbreak *0x100002' \
	-ex 'hbreak *0x100003' -ex 'hbreak *0x100004' -ex 'continue' -ex 'delete' \
	-ex 'rwatch race.ticks' -ex 'continue' -ex 'delete' -ex 'p 40+2' -ex 'kill'
gcheck "register write on a replay: gdb shows why it is refused" \
	gdb_has "remote failure reply 'E.register writes are refused on a replay"
gcheck "4th hardware breakpoint on a replay: refused at insert time with the reason" \
	gdb_has 'Cannot insert hardware breakpoint 4:Remote failure reply: all 3 debug registers are in use'
if "$RRVM" doctor 2>/dev/null | grep -q 'data breakpoints at CPL0: *no'; then
	gcheck "rwatch where reads cannot be trapped: gdb shows why" \
		gdb_has 'Remote failure reply: E.rwatch at'
else
	ok "# SKIP this host traps data breakpoints: rwatch works"
fi
gcheck "the session goes on after the refusals" gdb_has '$1 = 42'
# One watchpoint more than the host keeps: the reason at the continue.
start_rrvm run "$S/race.elf"
run_gdb "$S/race.elf" -ex 'watch -l race.threads[0].ops' -ex 'watch -l race.threads[1].ops' \
	-ex 'watch -l race.threads[2].ops' -ex 'watch -l race.threads[3].ops' \
	-ex 'watch -l race.ticks' -ex 'continue' -ex 'delete 5' -ex 'info watchpoints' -ex 'kill'
gcheck "one watchpoint too many: gdb shows why at continue" \
	gdb_re 'Remote failure reply: E\.watch at 0x[0-9a-f]+ cannot be kept: .*(watchpoints are set already|debug registers).*delete it'

# ---- 5. monitor: errors do not abort a script; info registers --------------
start_rrvm run "$S/race.elf"
run_gdb "$S/race.elf" -ex 'monitor frobnicate' -ex 'monitor phys sideways' \
	-ex 'monitor info registers' -ex 'monitor pt-diff 1 2' -ex 'p 6*7' -ex 'kill'
gcheck "monitor with an unknown command: one line and the help hint" \
	gdb_has "unknown monitor command 'frobnicate'; 'monitor help' lists them"
gcheck "monitor with a failing command: its reason, once, no generic line after it" \
	sh -c "grep -q '^usage: monitor phys \\[on|off\\]' '$T/gdb.out' && ! grep -q 'monitor phys failed' '$T/gdb.out'"
gcheck "monitor info registers answers (as monitor regs)" gdb_re '^rip=0x[0-9a-f]+ cpl=0'
gcheck "monitor pt-diff on a live guest: says where it works" gdb_has 'only on a recording'
gcheck "no 'Protocol error with Rcmd': the script went on" \
	sh -c "! grep -q 'Protocol error' '$T/gdb.out' && grep -q '^\\\$1 = 42' '$T/gdb.out'"

# ---- 6. $mxcsr is the guest's (KVM_GET_FPU never fills it) ----------------
# At the first instruction the guest has not touched SSE: MXCSR is its reset
# value 0x1f80, live and on a replay.
start_rrvm run "$S/race.elf"
run_gdb "$S/race.elf" -ex 'p/x $mxcsr' -ex 'kill'
gcheck "live: p \$mxcsr at reset reads 0x1f80" gdb_re '^\$1 = 0x1f80$'
start_rrvm replay "$REC"
run_gdb "$S/race.elf" -ex 'p/x $mxcsr' -ex 'kill'
gcheck "replay: p \$mxcsr at reset reads 0x1f80" gdb_re '^\$1 = 0x1f80$'

# ---- 7. run on target extended-remote ------------------------------------
start_rrvm run --timeout 300 "$S/race.elf"
run_gdb_ext() {
	k=$1; shift
	timeout 600 "$GDB" -batch -nx "$k" -ex "target extended-remote $SOCK" "$@" \
		>"$T/gdb.out" 2>&1 </dev/null
	wait_rrvm
}
run_gdb_ext "$S/race.elf" -ex 'break worker_main' -ex 'continue' -ex 'delete' \
	-ex "break race.c:$KLINE" -ex 'continue' -ex 'printf "before run: ticks=%d\n", race.ticks' \
	-ex 'run' -ex 'printf "after run: ticks=%d\n", race.ticks' -ex 'kill'
gcheck "live run: the guest booted again and stopped at its start (kmain line $KLINE)" \
	sh -c "[ \$(grep -c '^Breakpoint 2, kmain' '$T/gdb.out') -eq 1 ] && grep -q '^after run: ticks=0' '$T/gdb.out'"
gcheck "live run: it had run before (ticks taken)" gdb_re '^before run: ticks=[1-9]'
gcheck "live run: rrvm says so and serves on" err_has 'the guest was booted again'

start_rrvm replay "$REC"
run_gdb_ext "$S/race.elf" -ex 'hbreak account_transfer' -ex 'continue' -ex 'continue' \
	-ex 'monitor position' -ex 'run' -ex 'continue' -ex 'monitor position' -ex 'kill'
pos=$(grep '^replay: position' "$T/gdb.out")
gcheck "replay run: back to the start, the same stop at the same position" \
	sh -c "[ \$(grep -c '^replay: position' '$T/gdb.out') -eq 2 ] && [ \$(grep '^replay: position' '$T/gdb.out' | sort -u | wc -l) -eq 1 ]"
gcheck "replay run: rrvm says so" err_has 'the replay starts again from the beginning'
diag "$pos"

tap_end
