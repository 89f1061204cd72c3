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
#
# Then `monitor goto` and `monitor pt-diff` on a replay, which run the
# replay for long without output: on a recording of tests/guests/busy.elf,
# a goto 1.2 million units into its exit-free loop (tens of seconds of
# single steps), interrupted by gdb's Ctrl-C once it has said where it is
# going. gdb sends nothing at once; after three 2-second timeouts it says
# Quit and sends its next command, whose packet interrupts the replay: the
# goto says where it stopped (the state there is that position's: a goto
# to it on a fresh replay gives the same state hash), and `monitor
# position` and `stepi` go on from there. A pt-diff interrupted the same way on its way to the first
# position goes back to where the replay was, and prints no diff.
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

# ---- goto and pt-diff on a replay --------------------------------------------
B=$top_builddir/tests/guests/busy.elf
REC=$T/busy.rec
"$RRVM" record -q -o "$REC" "$B" >"$T/rec.out" 2>"$T/rec.err" </dev/null
check "busy.elf recorded (status 1: exit value 0)" [ $? = 1 ]
# Where the loop starts, as goto takes it: $busy_e+$busy_s.
cat >"$T/pos.py" <<'PY'
import re
m = re.search(r'position (\d+)(?:\+(\d+))? of', gdb.execute('monitor position', to_string=True))
gdb.set_convenience_variable('busy_e', int(m.group(1)))
gdb.set_convenience_variable('busy_s', int(m.group(2) or 0))
PY
start_rrvm replay "$REC"
"$GDB" -batch -nx "$B" -ex "target remote $SOCK" -ex 'hbreak busy_loop' -ex continue \
	-ex "source $T/pos.py" -ex 'eval "monitor goto %d+%d", $busy_e, $busy_s + 1200000' \
	-ex 'monitor position' -ex 'monitor hash' -ex stepi -ex 'monitor position' \
	-ex 'eval "monitor pt-diff %d+%d %d", $busy_e, $busy_s + 1200000, $busy_e' \
	-ex 'monitor position' -ex kill >"$T/gdb.out" 2>&1 </dev/null &
GDB_PID=$!
gcheck "goto: it says where it goes" wait_for "$T/gdb.out" '^going to position [0-9]+\+[0-9]+: '
kill -INT "$GDB_PID"
gcheck "goto: gdb's next command interrupts it" wait_for "$T/gdb.out" '^interrupted on the way to position '
gcheck "pt-diff: it says where it goes first" wait_for "$T/gdb.out" '^going to position [0-9]+\+[0-9]+: ' 2
kill -INT "$GDB_PID"
i=0; while kill -0 "$GDB_PID" 2>/dev/null && [ $i -lt 3000 ]; do sleep 0.1; i=$((i + 1)); done
wait "$GDB_PID"
GDB_PID=
wait_rrvm

to=$(sed -n 's/^going to position \([0-9+]*\): .*/\1/p' "$T/gdb.out" | head -1)
e=${to%+*}
at=$(sed -n "s/^interrupted on the way to position $to: the replay stays at position $e+\([0-9]*\)\$/\1/p" "$T/gdb.out")
gcheck "goto $to: interrupted at a position of the loop before it (${at:-none})" \
	sh -c "[ -n '$at' ] && [ '$at' -lt '${to#*+}' ]"
gcheck "monitor position after it: the same position" gdb_re "^replay: position $e\\+$at of "
next=$((${at:-0} + 1))
gcheck "stepi goes on from there: position $e+$next" gdb_re "^replay: position $e\\+$next of "
gcheck "pt-diff interrupted on its way: back at position $e+$next" \
	gdb_has "pt-diff: interrupted; the replay is back at position $e+$next"
gcheck "... and it printed no diff" gdb_lacks '^(from|to): position '
gcheck "monitor position after it: still $e+$next" \
	sh -c "[ \$(grep -cE '^replay: position $e\\+$next of ' '$T/gdb.out') = 2 ]"
gcheck "kill after them" gdb_has '[Inferior 1 (Remote target) killed]'
gcheck "rrvm ends as gdb's kill makes it end (130, got $RRVM_STATUS)" [ "$RRVM_STATUS" = 130 ]
gcheck "rrvm: no sanitizer report" sh -c "! grep -qE 'Sanitizer|runtime error:' '$T/rrvm.err'"
# The position the interrupted goto reported is the state there: a goto
# to it on a fresh replay gives the same state hash.
hash1=$(sed -n 's/^state hash \(0x[0-9a-f]*\),.*/\1/p' "$T/gdb.out" | head -1)
start_rrvm replay "$REC"
run_gdb "$B" -ex "monitor goto $e+${at:-0}" -ex 'monitor hash' -ex kill
gcheck "a goto to $e+$at on a fresh replay: the same state ($hash1)" \
	sh -c "[ -n '$hash1' ] && grep -q '^state hash $hash1,' '$T/gdb.out'"
tap_end
