#!/bin/sh
# gdb_live.sh — the real gdb against `rrvm run --gdb` on the samples: a
# breakpoint in the right function with the right backtrace, registers
# (segments, system registers; cr3 equal to what `monitor regs` says),
# x/i, a global, stepi and next, a hardware breakpoint, a watchpoint that
# stops at the writing instruction, the 5th hardware breakpoint refused,
# int3s hidden from memory reads, memory and register access, monitor
# commands, Ctrl-C, detach (the guest finishes with its normal status),
# kill, the guest's exit while attached, a stepi over iretq. Each case
# starts rrvm on a Unix socket in a temporary directory and one gdb in
# batch mode.

: "${top_builddir:=.}"
: "${top_srcdir:=.}"
. "$top_srcdir/tests/integration/gdb_lib.sh"
need_gdb "$RRVM" "$S/race.elf" "$S/hello.elf" "$S/ticks.elf" "$S/echo.elf"

# live_rrvm KERNEL [ARGS...]: rrvm run --gdb on $SOCK (a 300 s guest
# timeout), waiting until it listens.
live_rrvm() { k=$1; shift; start_rrvm run --timeout 300 "$@" "$k"; }

# 1. A software breakpoint on a kernel function, backtrace, registers,
#    x/i, a global, stepi and next; then kill.
live_rrvm "$S/race.elf"
run_gdb "$S/race.elf" -ex 'break account_transfer' -ex 'continue' -ex 'bt' \
	-ex 'info registers' -ex 'info registers cr3' -ex 'monitor regs' -ex 'x/8i $pc' \
	-ex 'p race.bank.lock.locked' -ex 'p sizeof(race.bank.balance)' \
	-ex 'stepi' -ex 'p $pc' -ex 'next' -ex 'next' -ex 'next' -ex 'info symbol $pc' -ex 'kill'
gcheck "stopped before the first instruction, at _start" gdb_has '_start () at'
gcheck "breakpoint hit in account_transfer" gdb_re '^Breakpoint 1, account_transfer \(b=.*from=[0-9]+, to=[0-9]+, amount=[0-9]+\)'
gcheck "backtrace: account_transfer <- worker_main <- race_thread_start" \
	sh -c "grep -qE '^#1 .* in worker_main \(t=' '$T/gdb.out' && grep -qE '^#2 .* in race_thread_start \(\)' '$T/gdb.out'"
missing=
for r in rip eflags cs ss ds es fs gs fs_base gs_base cr0 cr2 cr3 cr4 efer; do
	grep -qE "^$r +0x" "$T/gdb.out" || missing="$missing $r"
done
gcheck "info registers shows the segment and system registers (missing:${missing:-none})" [ -z "$missing" ]
g_cr3=$(sed -n 's/^cr3  *\(0x[0-9a-f]*\) .*/\1/p' "$T/gdb.out" | head -1)
m_cr3=$(sed -n 's/^cr3=\(0x[0-9a-f]*\) .*/\1/p' "$T/gdb.out" | head -1)
gcheck "info registers cr3 ($g_cr3) equals monitor regs ($m_cr3)" \
	sh -c "[ -n '$g_cr3' ] && [ '$g_cr3' = '$m_cr3' ] && [ '$g_cr3' != 0x0 ]"
gcheck "monitor regs decodes cr0, efer and the paging mode" \
	sh -c "grep -q '^cr0=0x80000011 PE ET PG' '$T/gdb.out' && grep -q '^efer=0x[0-9a-f]* .*LME' '$T/gdb.out' && grep -q '^paging: 4-level' '$T/gdb.out'"
gcheck "x/8i \$pc disassembles account_transfer" \
	sh -c "[ \$(grep -c '<account_transfer+[0-9]*>:' '$T/gdb.out') -ge 7 ]"
gcheck "a global read (the bank lock, the balance array's size)" \
	sh -c "grep -qE '^\\\$1 = [01]\$' '$T/gdb.out' && grep -q '^\$2 = 64\$' '$T/gdb.out'"
gcheck "stepi moved to the next instruction" gdb_re '^\$3 = \(void \(\*\)\(\)\) 0x[0-9a-f]+ <account_transfer\+[1-9][0-9]*>'
gcheck "next went on through the source lines of account_transfer" \
	sh -c "grep -qE '^[0-9]+	+if \\(b->balance\\[from\\] >= amount\\)' '$T/gdb.out' && grep -q 'account_transfer + [0-9]* in section .text' '$T/gdb.out'"
gcheck "kill: gdb reports it" gdb_has '[Inferior 1 (Remote target) killed]'
gcheck "kill: rrvm says so and exits 130 (got $RRVM_STATUS)" sh -c "[ $RRVM_STATUS = 130 ] && grep -q 'gdb killed the guest' '$T/rrvm.err'"
gcheck "no complaints from gdb" sh -c "! grep -iE 'warning|error|remote failure|protocol' '$T/gdb.out'"

# 2. A hardware breakpoint, a watchpoint on a global, too many hardware
#    breakpoints.
live_rrvm "$S/race.elf"
run_gdb "$S/race.elf" -ex 'hbreak account_transfer_fast' -ex 'continue' -ex 'bt 2' -ex 'delete' \
	-ex 'watch race.ticks' -ex 'continue' -ex 'p $pc' -ex 'bt 1' -ex 'continue' -ex 'delete' \
	-ex 'hbreak *0x100001' -ex 'hbreak *0x100002' -ex 'hbreak *0x100003' -ex 'hbreak *0x100004' \
	-ex 'hbreak *0x100005' -ex 'continue' -ex 'kill'
gcheck "hardware breakpoint hit in account_transfer_fast, called from worker_main" \
	sh -c "grep -qE '^Breakpoint 1, account_transfer_fast \(' '$T/gdb.out' && grep -qE '^#1 .* in worker_main' '$T/gdb.out'"
gcheck "watchpoint stops on the write with old and new value" \
	sh -c "grep -q '^Hardware watchpoint 2: race.ticks' '$T/gdb.out' && grep -qE '^Old value = [0-9]+' '$T/gdb.out' && grep -qE '^New value = [0-9]+' '$T/gdb.out'"
# race_tick is the only code that writes race.ticks: the stop is right
# after its increment (the statement after `r->ticks++`).
gcheck "the watchpoint stop is at the writing instruction, in race_tick" \
	sh -c "grep -qE '^\\\$1 = .* <race_tick\\+[0-9]+>' '$T/gdb.out' && grep -qE '^#0 +race_tick \\(' '$T/gdb.out'"
gcheck "the second continue stops at the next write" \
	sh -c "[ \$(grep -c '^Old value = ' '$T/gdb.out') -eq 2 ]"
gcheck "5th hardware breakpoint refused at insert time, with the reason" gdb_has 'Cannot insert hardware breakpoint 7:Remote failure reply: all 4 debug registers are in use'
gcheck "rrvm names the reason" err_has 'all 4 debug registers are in use'

# 3. int3s are hidden from memory reads; memory and register access;
#    monitor commands.
live_rrvm "$S/race.elf"
addr=$("$GDB" -batch -nx "$S/race.elf" -ex 'p/x &account_transfer' 2>/dev/null | sed -n 's/.* = 0x\([0-9a-f]*\)$/\1/p')
run_gdb "$S/race.elf" -ex 'break worker_main' -ex 'continue' -ex "maint packet m$addr,1" \
	-ex "maint packet Z0,$addr,1" -ex "maint packet m$addr,1" -ex "maint packet z0,$addr,1" \
	-ex 'x/2xg 0x40000000000' -ex 'set var race.bank.balance[0] = 4242' -ex 'p race.bank.balance[0]' \
	-ex 'set $rax = 0x1234' -ex 'p/x $rax' -ex 'set $cs = 0x33' \
	-ex 'monitor help' -ex 'monitor position' -ex "monitor translate 0x$addr" \
	-ex 'monitor no-such-command' -ex 'kill'
orig=$(sed -n 's/^received: "\([0-9a-f]*\)"$/\1/p' "$T/gdb.out" | sed -n 1p)
hidden=$(sed -n 's/^received: "\([0-9a-f]*\)"$/\1/p' "$T/gdb.out" | sed -n 2p)
gcheck "the planted int3 is hidden from reads (byte $orig before, $hidden with Z0)" \
	sh -c "[ -n '$orig' ] && [ '$orig' = '$hidden' ] && [ '$orig' != cc ] && [ \$(grep -c '^received: \"OK\"' '$T/gdb.out') -eq 2 ]"
gcheck "unmapped memory: cannot access (E14)" gdb_has 'Cannot access memory at address 0x40000000000'
gcheck "memory write read back" gdb_has '= 4242'
gcheck "register write read back" gdb_has '= 0x1234'
gcheck "selector write refused with a reason" \
	sh -c "grep -q 'Could not write register \"cs\"' '$T/gdb.out' && grep -q 'segment selectors cannot be written' '$T/rrvm.err'"
gcheck "monitor help lists the commands" \
	sh -c "grep -q '^regs ' '$T/gdb.out' && grep -q '^phys ' '$T/gdb.out' && grep -q '^position ' '$T/gdb.out' && grep -q 'translate' '$T/gdb.out'"
gcheck "monitor position" gdb_re '^live guest: [0-9]+ synchronous exits since reset'
gcheck "monitor translate (identity map)" gdb_re "0x$addr -> 0x$addr"
gcheck "unknown monitor command: an error" gdb_has "unknown monitor command 'no-such-command'"

# 4. monitor phys: samples/paging.elf maps 0x500200000 (virtual) to a frame
#    in RAM; as a physical address it is far outside the guest's RAM.
if [ -e "$S/paging.elf" ]; then
	live_rrvm "$S/paging.elf"
	run_gdb "$S/paging.elf" -ex 'break paging_stage_reached' -ex 'continue' -ex 'continue' \
		-ex 'p stage' -ex 'x/gx 0x500200000' -ex 'monitor phys on' -ex 'x/gx 0x500200000' \
		-ex 'x/gx 0x1000' -ex 'monitor phys off' -ex 'x/gx 0x500200000' -ex 'kill'
	gcheck "virtual read through the guest's page tables" \
		sh -c "[ \$(grep -c '^0x500200000:	0x' '$T/gdb.out') -eq 2 ]"
	gcheck "monitor phys on: the same number is a physical address, outside RAM" \
		sh -c "grep -q 'memory accesses use guest-physical addresses' '$T/gdb.out' && grep -q 'Cannot access memory at address 0x500200000' '$T/gdb.out' && grep -q '^0x1000:	0x' '$T/gdb.out'"
else
	skip_check "samples/paging.elf not built"
	skip_check "samples/paging.elf not built"
fi

# 5. Ctrl-C stops a guest that waits for input (echo.elf, halted in hlt).
#    gdb runs without timeout(1), which would pass the SIGINT on.
live_rrvm "$S/echo.elf" -v
"$GDB" -batch -nx "$S/echo.elf" -ex "target remote $SOCK" -ex 'continue' -ex 'p $pc' \
	-ex 'bt 1' -ex 'kill' >"$T/gdb.out" 2>&1 </dev/null &
GDB_PID=$!
# Interrupt once the guest runs and has printed its prompt (it then waits
# in hlt for input that never comes).
wait_for "$T/rrvm.err" 'gdb: continue from'
wait_for "$T/rrvm.out" '^ready:'
kill -INT "$GDB_PID"
wait_until 300 eval '! alive "$GDB_PID"'
kill "$GDB_PID" 2>/dev/null
wait "$GDB_PID"
GDB_PID=
wait_rrvm
gcheck "Ctrl-C stops the running guest" gdb_has 'Program received signal SIGINT, Interrupt.'
gcheck "gdb goes on after the stop" gdb_re '^\$1 = \(void \(\*\)\(\)\) 0x'
gcheck "echo had printed its prompt before" grep -qF 'ready:' "$T/rrvm.out"

# 6. detach: the guest runs on to its normal end (ticks.elf: status 85).
live_rrvm "$S/ticks.elf"
run_gdb "$S/ticks.elf" -ex 'break ticks_irq' -ex 'continue' -ex 'bt 1' -ex 'stepi' -ex 'detach'
gcheck "breakpoint in the timer interrupt handler" gdb_re '^Breakpoint 1, ticks_irq \('
gcheck "detach" gdb_has '[Inferior 1 (Remote target) detached]'
gcheck "after detach the guest finished normally (status $RRVM_STATUS, want 85)" \
	sh -c "[ $RRVM_STATUS = 85 ] && grep -q '^latch ok' '$T/rrvm.out' && grep -q '^tick 50' '$T/rrvm.out'"

# 7. The guest exits while gdb is attached.
live_rrvm "$S/hello.elf"
run_gdb "$S/hello.elf" -ex 'continue'
gcheck "gdb sees the exit code" gdb_has '[Inferior 1 (Remote target) exited with code 01]'
gcheck "rrvm exits with the guest's status (got $RRVM_STATUS)" \
	sh -c "[ $RRVM_STATUS = 1 ] && grep -q 'Hello from rrvm!' '$T/rrvm.out'"

# 8. TCP: an explicit port, and where rrvm says it listens.
rm -f "$T/rrvm.err"
"$RRVM" run --timeout 300 --gdb=127.0.0.1:0 "$S/hello.elf" >"$T/rrvm.out" 2>"$T/rrvm.err" </dev/null &
RRVM_PID=$!
wait_for "$T/rrvm.err" "target remote 127\.0\.0\.1:"
port=$(sed -n "s/.*target remote 127\.0\.0\.1:\([0-9]*\)'\$/\1/p" "$T/rrvm.err")
timeout 300 "$GDB" -batch -nx "$S/hello.elf" -ex "target remote 127.0.0.1:$port" -ex 'info symbol $pc' \
	-ex 'continue' >"$T/gdb.out" 2>&1 </dev/null
wait_rrvm
gcheck "TCP port 0: rrvm says which port it got ($port); gdb connects there" \
	sh -c "[ -n '$port' ] && grep -q '_start in section .text' '$T/gdb.out' && [ $RRVM_STATUS = 1 ]"

# 9. A bad address is a usage error (status 2), with a message naming it.
"$RRVM" run --gdb=nohost:notaport "$S/hello.elf" >"$T/rrvm.out" 2>"$T/rrvm.err" </dev/null
st=$?
gcheck "bad --gdb address: status 2 (got $st) and a message naming it" \
	sh -c "[ $st = 2 ] && grep -q \"nohost:notaport\" '$T/rrvm.err'"

# 10. A stepi over iretq stops at the address it returns to (the frame's
#     rip): this backend reports that step one instruction late.
iretq_step_args "$S/race.elf"
live_rrvm "$S/race.elf"
eval run_gdb "$S/race.elf" "$IRETQ_ARGS"
iretq_step_check

tap_end
