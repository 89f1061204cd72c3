#!/bin/sh
# gdb_exit_boundary.sh — the point right after an exit is one state: the
# exit finished (an IN's value in RAX, rip past the IN: vmm_finish_exit),
# whether the replay ran to it or restored a checkpoint taken there. On a
# race.elf recording, for port-IN exits E from its trace database (real
# sqlite3):
#  1. `rrvm replay --goto E` stands past the IN: rip is the exit's rip + 1
#     (race.elf's IN is `in (%dx),%al`) and gdb there reads the value in al;
#  2. E+3 reached by running forward from the start and E+3 reached from a
#     checkpoint taken at E are the same state (registers, state hash);
#  3. where the recording injected an interrupt right after an IN (the
#     trace database's interrupt rows at such a boundary), stepi from the
#     boundary runs the handler and steps past it, and reverse-stepi comes
#     back to the boundary, not to the point after the handler returned
#     (the same registers and state hash).
# Each wait is for what gdb or rrvm prints.
: "${top_builddir:=.}"
: "${top_srcdir:=.}"
. "$top_srcdir/tests/integration/gdb_lib.sh"
need_gdb "$RRVM" "$S/race.elf"
command -v sqlite3 >/dev/null 2>&1 || { echo "1..0 # SKIP sqlite3 is not installed"; exit 0; }

record_race
timeout 300 "$RRVM" index "$REC" >/dev/null 2>"$T/index.err"
# Three IN exits (position, rip, value) spread over the recording; not at
# a multiple of 50, where the forward replay takes a checkpoint itself.
sqlite3 -separator ' ' "$REC/trace.db" \
	"SELECT position, rip, value FROM exits WHERE kind = 'pio_in' AND position % 50 != 0
	 AND position % 50 != 49 ORDER BY position" >"$T/ins" 2>>"$T/index.err"
n=$(wc -l <"$T/ins")
gcheck "the trace database lists port-IN exits ($n)" [ "$n" -ge 3 ]
sed -n "1p;$(( (n + 1) / 2 ))p;${n}p" "$T/ins" >"$T/picked"

while read -r e rip value; do
	timeout 300 "$RRVM" replay --goto "$e" "$REC" >/dev/null 2>"$T/goto.err" </dev/null
	got=$(sed -n "s/^rrvm: position $e: rip \(0x[0-9a-f]*\),.*/\1/p" "$T/goto.err")
	gcheck "--goto $e (an IN at rip $(printf 0x%x "$rip")): rip is past it ($got)" \
		[ "$got" = "$(printf 0x%x $((rip + 1)))" ]
done <"$T/picked"

cat >"$T/st.py" <<'PY'
import gdb
def st(tag):
    gdb.execute('maint flush register-cache', to_string=True)   # monitor goto moved it
    r = gdb.execute('printf "%lx %lx %lx %lx %lx\\n", $pc, $rsp, $rax, $rdx, $eflags', to_string=True).strip()
    h = gdb.execute('monitor hash', to_string=True).strip().replace('\n', ' ')
    print("ST %s %s %s" % (tag, r, h))
PY
# Interrupts injected right after an IN exit (at its boundary, no +STEPS).
sqlite3 "$REC/trace.db" "SELECT i.pos FROM interrupts i JOIN exits e ON e.position = i.position
	WHERE i.pos NOT LIKE '%+%' AND e.kind = 'pio_in' ORDER BY i.id LIMIT 3" >"$T/injin"
{
	echo "source $T/st.py"
	cat "$T/picked" | while read -r e rip value; do
		echo "monitor goto $e"
		echo "python st('AT-$e-$value')"
		echo "monitor goto 0"
		echo "monitor goto $e+3"
		echo "python st('FWD-$e')"
		echo "monitor goto $e"
		echo "monitor checkpoint"
		echo "monitor goto $((e + 20))"
		echo "monitor goto $e+3"
		echo "python st('CKPT-$e')"
		echo "monitor goto 0"
	done
	while read -r p; do
		echo "monitor goto $p"
		echo "python st('RS0-$p')"
		echo "stepi"
		echo "reverse-stepi"
		echo "python st('RS1-$p')"
	done <"$T/injin"
	echo "kill"
} >"$T/cmds"
start_rrvm replay "$REC"
run_gdb "$S/race.elf" -x "$T/cmds"
al_is() { [ -n "$1" ] && [ $((0x$1 & 0xff)) = "$2" ]; }
while read -r e rip value; do
	al=$(sed -n "s/^ST AT-$e-$value [0-9a-f]* [0-9a-f]* \([0-9a-f]*\) .*/\1/p" "$T/gdb.out")
	gcheck "at $e, gdb reads the IN's value $value in al (rax ${al:-?})" \
		al_is "$al" "$value"
	fwd=$(sed -n "s/^ST FWD-$e //p" "$T/gdb.out")
	ck=$(sed -n "s/^ST CKPT-$e //p" "$T/gdb.out")
	gcheck "$e+3 forward and from a checkpoint at $e: the same state ($fwd)" \
		[ "${fwd:-none}" = "${ck:-missing}" ]
done <"$T/picked"
n_in=$(wc -l <"$T/injin")
[ "$n_in" -gt 0 ] || diag "no interrupt was injected right after an IN in this recording"
while read -r p; do
	a=$(sed -n "s/^ST RS0-$p //p" "$T/gdb.out")
	b=$(sed -n "s/^ST RS1-$p //p" "$T/gdb.out")
	gcheck "an interrupt injected right after an IN ($p): stepi, reverse-stepi, back at $p ($a)" \
		[ "${a:-none}" = "${b:-missing}" ]
done <"$T/injin"
tap_end
