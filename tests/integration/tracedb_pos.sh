#!/bin/sh
# tracedb_pos.sh - the trace database's full positions (pos, EXITS[+STEPS])
# are the ones `rrvm replay --goto` reaches: indexes a chaos recording of
# samples/race.elf (timer interrupts at arbitrary instructions), takes
# interrupt rows from trace.db with the stock sqlite3 program and goes to
# each row's pos without gdb. An interrupt's pos is the state before the
# entry that injected it: there rip is the row's rip, and one raw unit
# later the guest stands at the first instruction of the vector's handler.
# Exit rows round-trip too (pos printed back the same, rip the row's, past
# it for an IN: the boundary holds the finished exit). Also:
# the interrupts' positions are strictly ordered, the events of one point
# share its pos, `rrvm query` shows pos, --no-steps and --max-steps give
# NULL pos with the reason in pos_note. TAP output; skipped without
# /dev/kvm or sqlite3.
set -u
. "$top_srcdir/tests/integration/lib.sh"
. "$top_srcdir/tests/integration/tracedb_lib.sh"
need_kvm
need_sqlite3
rec=$tmp/race

timeout 300 "$RRVM" record -q --chaos=5 -o "$rec" "$SAMPLES/race.elf" >"$tmp/rec.out" 2>&1
st=$?
check "record race.elf --chaos=5 (status $st: 1 passed, 7 the race hit)" \
	test "$st" = 1 -o "$st" = 7
timeout 900 "$RRVM" index --stats "$rec" >"$tmp/index.out" 2>"$tmp/index.err"
is "$?" 0 "index counts the raw units to every asynchronous point"
sed 's/^/# /' "$tmp/index.err"
is "$(q "$rec" "SELECT count(*) FROM interrupts WHERE pos IS NULL")" 0 \
	"every interrupt has its full position"
diag "$(q "$rec" "SELECT id, position, printf('%#x', rip), pos_note FROM interrupts
	WHERE pos IS NULL LIMIT 5")"
nasync=$(q "$rec" "SELECT count(*) FROM interrupts WHERE pos LIKE '%+%'")
check "some interrupts were injected at asynchronous points ($nasync)" test "$nasync" -gt 4
is "$(q "$rec" "SELECT count(*) FROM interrupts WHERE pos_note IS NOT NULL")" 0 "no pos_note"

# goto POS: prints "position P: rip R, state hash H" on stderr; sets
# g_pos, g_rip (empty when it failed).
goto() {
	g_pos= g_rip=
	timeout 300 "$RRVM" replay -q --goto "$1" "$rec" >/dev/null 2>"$tmp/goto.err" || return 1
	line=$(grep -E '^rrvm: position [0-9+]+: rip 0x[0-9a-f]+, state hash 0x[0-9a-f]{16}$' \
		"$tmp/goto.err")
	g_pos=$(echo "$line" | sed 's/^rrvm: position \([0-9+]*\):.*/\1/')
	g_rip=$(echo "$line" | sed 's/.* rip \(0x[0-9a-f]*\),.*/\1/')
}

# ---- interrupts at asynchronous points: first, last and three between ----
q "$rec" "WITH a AS (SELECT row_number() OVER (ORDER BY id) AS k, id FROM interrupts
	  WHERE pos LIKE '%+%')
	  SELECT i.pos, printf('%#x', i.rip), i.vector,
	         (SELECT printf('%#x', address) FROM symbols WHERE name = 'isr_stub_' || i.vector)
	  FROM a JOIN interrupts i USING (id)
	  WHERE k IN (1, $nasync, ($nasync + 3) / 4, ($nasync + 1) / 2, ($nasync * 3 + 3) / 4)
	  ORDER BY id" >"$tmp/async.txt"
check "five asynchronous interrupt rows taken" test "$(wc -l <"$tmp/async.txt")" -ge 4
while IFS='|' read -r pos rip vector handler; do
	goto "$pos"
	is "$g_pos" "$pos" "goto $pos (vector $vector) gets there"
	is "$g_rip" "$rip" "at $pos rip is the row's ($rip): the point before the entry"
	e=${pos%+*} s=${pos#*+}
	goto "$e+$((s + 1))"
	is "$g_rip" "$handler" "one raw unit later ($e+$((s + 1))) the guest is at isr_stub_$vector"
done <"$tmp/async.txt"

# ---- interrupts injected at a boundary (after an exit or a HLT) ----------
q "$rec" "SELECT pos, printf('%#x', rip), vector,
	         (SELECT printf('%#x', address) FROM symbols WHERE name = 'isr_stub_' || vector)
	  FROM interrupts WHERE pos NOT LIKE '%+%' ORDER BY id LIMIT 2" >"$tmp/sync.txt"
while IFS='|' read -r pos rip vector handler; do
	goto "$pos"
	is "$g_pos" "$pos" "goto $pos (an injection at the boundary of the exit) gets there"
	is "$g_rip" "$rip" "at $pos rip is the row's ($rip)"
	goto "$pos+1"
	is "$g_rip" "$handler" "one raw unit later the guest is at isr_stub_$vector"
done <"$tmp/sync.txt"

# ---- exit rows round-trip --------------------------------------------------
q "$rec" "SELECT pos, printf('%#x', rip), kind FROM exits WHERE position IN
	  ((SELECT min(position) FROM exits WHERE kind = 'pio_out'),
	   (SELECT max(position) FROM exits WHERE kind = 'hlt'),
	   (SELECT max(position) FROM exits WHERE kind = 'pio_in'))" >"$tmp/exits.txt"
check "three exit rows taken" test "$(wc -l <"$tmp/exits.txt")" -eq 3
# An exit's boundary holds the finished exit. The row's rip is the one
# KVM reported at the exit: past an OUT already on this backend, at an IN
# (whose value KVM stores on the next entry), so there the boundary stands
# one instruction further, where the guest's disassembly (gdb) says.
while IFS='|' read -r pos rip kind; do
	goto "$pos"
	is "$g_pos" "$pos" "goto the pos of a $kind exit ($pos) prints it back"
	want=$rip
	if [ "$kind" = pio_in ] && [ "$g_rip" != "$rip" ]; then
		want=$(gdb -batch -nx "$rec/kernel" -ex "x/2i $rip" 2>/dev/null |
			sed -n '2s/^ *\(0x[0-9a-f]*\) .*/\1/p')
	fi
	is "$g_rip" "$want" "and stands at the row's rip ($rip) or, for an IN, just past it"
done <"$tmp/exits.txt"

# ---- order, events, output ----------------------------------------------
steps="CASE WHEN instr(pos, '+') THEN CAST(substr(pos, instr(pos, '+') + 1) AS INTEGER)
	ELSE 0 END"
is "$(q "$rec" "WITH p AS (SELECT id, position AS e, $steps AS s FROM interrupts),
	  l AS (SELECT e, s, lag(e) OVER (ORDER BY id) AS pe, lag(s) OVER (ORDER BY id) AS ps FROM p)
	  SELECT count(*) FROM l WHERE pe IS NOT NULL AND (e < pe OR (e = pe AND s <= ps))")" 0 \
	"interrupts come in strictly increasing positions"
is "$(q "$rec" "SELECT count(*) FROM interrupts WHERE position != CAST(pos AS INTEGER)")" 0 \
	"position is the EXITS of pos"
is "$(q "$rec" "SELECT count(*) FROM interrupts i WHERE NOT EXISTS (SELECT 1 FROM events e
	  WHERE e.type = 'inject' AND e.pos = i.pos)")" 0 "each injection's inject event has its pos"
is "$(q "$rec" "SELECT count(*) FROM events WHERE type = 'poll_async' AND (pos IS NULL OR
	  pos NOT IN (SELECT pos FROM clock_reads))")" 0 \
	"each asynchronous poll has its pos, and so does the clock it read"
first=$(head -1 "$tmp/async.txt" | cut -d'|' -f1)
"$RRVM" query "$rec" "SELECT position, pos, vector FROM interrupts WHERE pos = '$first'" \
	>"$tmp/query.out" 2>&1
contains "$tmp/query.out" "$first" "rrvm query shows pos"
"$RRVM" query "$rec" "SELECT pos FROM timeline WHERE source = 'interrupt' AND pos = '$first'" \
	>"$tmp/query.out" 2>&1
contains "$tmp/query.out" "$first" "the timeline view has pos"

# ---- not counted: NULL pos and the reason --------------------------------
"$RRVM" index -q --max-steps 50 "$rec" 2>"$tmp/max.err"
is "$?" 0 "index --max-steps 50"
is "$(q "$rec" "SELECT count(*) > 0 FROM interrupts WHERE pos IS NULL AND
	  pos_note LIKE 'not counted: more than 50 raw units%'")" 1 \
	"intervals past --max-steps: NULL pos, pos_note says why"
is "$(q "$rec" "SELECT count(*) FROM interrupts WHERE pos IS NULL AND pos_note IS NULL")" 0 \
	"never a NULL pos without a reason"
is "$(q "$rec" "SELECT count(*) FROM interrupts WHERE pos LIKE '%+%' AND
	  $steps > 50")" 0 "no counted pos past 50 units"
"$RRVM" index -q --no-steps "$rec" 2>"$tmp/nosteps.err"
is "$?" 0 "index --no-steps"
nnull=$(q "$rec" "SELECT count(*) FROM interrupts WHERE pos IS NULL AND
	  pos_note LIKE 'not counted: indexed with --no-steps%'")
check "--no-steps: the asynchronous ones have a NULL pos and say why ($nnull >= $nasync)" \
	test "$nnull" -ge "$nasync"
is "$(q "$rec" "SELECT count(*) FROM interrupts WHERE pos IS NULL AND pos_note IS NULL OR
	  pos LIKE '%+%'")" 0 "--no-steps: no counted pos, no NULL pos without its reason"
check "--no-steps: injections at a boundary still have theirs" \
	test "$(q "$rec" "SELECT count(*) FROM interrupts WHERE pos IS NOT NULL")" -gt 0
"$RRVM" index --max-steps -3 "$rec" >/dev/null 2>"$tmp/bad.err"
is "$?" 2 "--max-steps -3 is refused (status 2)"
contains "$tmp/bad.err" "'-3'" "naming the value"
tap_end
