#!/bin/sh
# gdb_watch.sh — write watchpoints with the real gdb where this host's
# debug registers do not catch data accesses: kept by write-protecting the
# watched page (debug/wp.c), never by single-stepping (rrvm would say so):
#  1. on a live guest (rrvm run --gdb), watch -l fires forwards, at each
#     change, with gdb's Old value / New value;
#  2. on a replay, a watch on a field written once (race.threads[3].id, set
#     by thread_create) fires forwards from the start, after the write;
#     continue then reaches the end of the recording with the page still
#     protected, and the replay stays exact (final state matches, the
#     recorded exit status); reverse-continue from the end stops before
#     that write (at the store, the old value back), and again reaches the
#     start of the recording;
#  3. monitor goto both ways with the page protected (checkpoint restores),
#     then the replay runs on to its recorded end;
#  4. on a busy page (the balances), three stops, then removing the
#     watchpoint gives the page back: the replay goes on, same output.
# Nothing here measures time.
: "${top_builddir:=.}"
: "${top_srcdir:=.}"
. "$top_srcdir/tests/integration/gdb_lib.sh"
need_gdb "$RRVM" "$S/race.elf"

# ---- 1. live ------------------------------------------------------------------
start_rrvm run "$S/race.elf"
run_gdb "$S/race.elf" -ex 'watch -l race.bank.balance[0]' -ex 'continue' -ex 'continue' \
	-ex 'printf "PC %lx\n", $pc' -ex 'delete' -ex 'kill'
gcheck "live: the watchpoint fires at the initial store (0 -> 1000)" \
	sh -c "grep -q '^Old value = 0' '$T/gdb.out' && grep -q '^New value = 1000' '$T/gdb.out'"
gcheck "live: and again at a transfer that changes it" \
	sh -c "grep -q '^Old value = 1000' '$T/gdb.out' && grep -qE '^account_transfer(_fast)? \\(' '$T/gdb.out'"
gcheck "live: kept by write-protection, not by single-stepping" \
	sh -c "! grep -q 'single-stepping' '$T/rrvm.err'"

# ---- 2. replay: a field written once -------------------------------------------
record_race
PC='printf "PC %lx\n", $pc'
start_rrvm replay "$REC"
run_gdb "$S/race.elf" -ex 'set pagination off' -ex "$PC" -ex 'watch -l race.threads[3].id' \
	-ex 'continue' -ex 'printf "ID %d\n", race.threads[3].id' -ex 'bt 1' \
	-ex 'continue' -ex 'reverse-continue' -ex 'printf "ID %d\n", race.threads[3].id' \
	-ex 'x/i $pc' -ex 'bt 1' -ex 'reverse-continue' -ex "$PC" -ex 'detach'
gcheck "replay: forwards, the watchpoint fires at the one write (0 -> 3), after it" \
	sh -c "grep -q '^Old value = 0' '$T/gdb.out' && grep -q '^New value = 3' '$T/gdb.out' && [ \"\$(sed -n 's/^ID //p' '$T/gdb.out' | head -1)\" = 3 ]"
gcheck "replay: it fires in thread_create" gdb_re '^#0 .*thread_create'
gcheck "replay: continue reaches the end of the recording" \
	sh -c "[ \$(grep -c 'No more reverse-execution history' '$T/gdb.out') -ge 1 ]"
gcheck "replay: the end with the page protected is the recorded one (final state matches)" \
	err_has 'final state matches'
gcheck "replay: reverse-continue from the end stops before the write (3 -> 0, the store at pc)" \
	sh -c "grep -q '^Old value = 3' '$T/gdb.out' && grep -q '^New value = 0' '$T/gdb.out' && [ \"\$(sed -n 's/^ID //p' '$T/gdb.out' | tail -1)\" = 0 ] && grep -qE '^=> 0x[0-9a-f]+ <(kmain|thread_create)[+0-9]*>:[[:space:]]+mov' '$T/gdb.out'"
gcheck "replay: reverse-continue past it reaches the start of the recording" \
	sh -c "[ \$(grep -c 'No more reverse-execution history' '$T/gdb.out') -ge 2 ] && [ \$(sed -n 's/^PC //p' '$T/gdb.out' | sort -u | wc -l) = 1 ]"
gcheck "replay: kept by write-protection, not by single-stepping" \
	sh -c "! grep -q 'single-stepping' '$T/rrvm.err'"
gcheck "replay: after detach the replay runs to its end with the recorded status ($rec_status)" \
	[ "$RRVM_STATUS" = "$rec_status" ]

# ---- 3. goto both ways with the page protected, then on to the end ----------------
exits=$(sed -n 's/^exits: //p' "$REC/manifest")
start_rrvm replay "$REC"
run_gdb "$S/race.elf" -ex 'watch -l race.bank.balance[2]' -ex "monitor goto $((exits * 2 / 3))" \
	-ex "monitor goto $((exits / 3))" -ex 'monitor position' -ex 'delete' -ex 'continue'
gcheck "replay: monitor goto forwards and back with a watched page" \
	sh -c "grep -q '^at position $((exits * 2 / 3)) ' '$T/gdb.out' && grep -q '^replay: position $((exits / 3)) of $exits,' '$T/gdb.out'"
gcheck "replay: then on to the end with the recorded final state" err_has 'final state matches'

# ---- 4. a busy page, the watchpoint removed ---------------------------------------
start_rrvm replay "$REC"
run_gdb "$S/race.elf" -ex 'watch -l race.bank.balance[3]' -ex 'continue' -ex 'continue' \
	-ex 'continue' -ex 'delete' -ex 'continue'
gcheck "replay: three stops at race.bank.balance[3], then without it to the end" \
	sh -c "[ \$(grep -c '^Hardware watchpoint 1: -location race.bank.balance\\[3\\]' '$T/gdb.out') -ge 4 ] && grep -q 'final state matches' '$T/rrvm.err'"
gcheck "replay: the same output as the recording" cmp -s "$T/rrvm.out" "$T/rec.out"
tap_end
