#!/bin/sh
# gdb_monitor_interrupt.sh — Ctrl-C in the real gdb stops a long monitor
# command (issue 14, item 9). `monitor pt --limit 1048576` over the looping
# page tables of tests/guests/pagetables.elf would list a million ranges;
# once its first lines are in gdb's output the test sends gdb SIGINT (what
# Ctrl-C does). gdb prints "Quit" and goes on to its next command, a
# `monitor cr`, whose packet makes the stub stop the walk: the listing ends
# with an "interrupted" line, without its totals, and `monitor cr`, `x` and
# `kill` work after it. gdb sends nothing to the stub on Ctrl-C during a
# monitor command, so the last lines the stub sent before it noticed come
# with the next command's output; there are few (the stub keeps a small
# socket buffer while a command runs).
. "$top_srcdir/tests/integration/lib.sh"
need_kvm
. "$top_srcdir/tests/integration/gdb_lib.sh"
K=$top_builddir/tests/guests/pagetables.elf
need_gdb "$K"

start_rrvm run --timeout 300 "$K"
"$GDB" -batch -nx "$K" -ex "target remote $SOCK" -ex 'hbreak tables_loaded' -ex continue \
	-ex 'monitor pt --limit 1048576' -ex 'monitor cr' -ex 'x/2xw $pc' -ex kill \
	>"$T/gdb.out" 2>&1 </dev/null &
GDB_PID=$!
# The listing has begun: ranges of the looping tables are in gdb's output.
gcheck "monitor pt: the first ranges arrived" wait_for "$T/gdb.out" '^0000008000[0-9a-f]+-' 20
kill -INT "$GDB_PID"
gcheck "gdb says Quit on Ctrl-C" wait_for "$T/gdb.out" '^Quit'
i=0; while kill -0 "$GDB_PID" 2>/dev/null && [ $i -lt 3000 ]; do sleep 0.1; i=$((i + 1)); done
wait "$GDB_PID"
GDB_PID=
wait_rrvm

ranges=$(count_in "$T/gdb.out" '^[0-9a-f]{16}-[0-9a-f]{16} -> ')
gcheck "the listing was cut: $ranges of 1048576 ranges shown" [ "$ranges" -lt 1048576 ]
gcheck "it ends with a line saying it was interrupted" \
	gdb_re '^(\.\.\. interrupted after [0-9]+ of 1048576 ranges|pt: interrupted: .*)$'
gcheck "no totals for the cut listing" gdb_lacks '^mapped:'
# The commands after it run, in order.
gcheck "monitor cr after the interrupted command" \
	sh -c "grep -A1000000 -E 'interrupted' '$T/gdb.out' | grep -qE '^cr0=0x[0-9a-f]+ .*PG'"
gcheck "x after it reads the guest's memory" \
	sh -c "grep -A1000000 -E '^cr0=' '$T/gdb.out' | grep -qE '^0x1000f0 <tables_loaded>:[[:space:]]+0x'"
gcheck "kill after it" gdb_has '[Inferior 1 (Remote target) killed]'
gcheck "rrvm ends as gdb's kill makes it end: status 130 (got $RRVM_STATUS)" \
	sh -c "[ $RRVM_STATUS = 130 ] && grep -q 'gdb killed the guest' '$T/rrvm.err'"
gcheck "rrvm: no sanitizer report" sh -c "! grep -qE 'Sanitizer|runtime error:' '$T/rrvm.err'"
tap_end
