#!/bin/sh
# hostile.sh — the hostile guests of tests/guests (issue 14): each one under
# `rrvm run`, `rrvm record` + `rrvm replay` (same status, same output: an
# exact replay) and `rrvm index`, with no crash (no signal death, no
# sanitizer report) and bounded memory (peak RSS below guest RAM plus
# HOSTILE_RSS_SLACK_MB, measured with GNU time when installed). Then the
# looping and out-of-RAM page tables of pagetables.elf are walked by
# `pt` through tests/tools/ptview and through the real gdb's `monitor pt`:
# a bounded listing with a "... N more ranges" line.
. "$top_srcdir/tests/integration/lib.sh"
need_kvm
G=$top_builddir/tests/guests
PTV=$top_builddir/tests/tools/ptview
TIME=/usr/bin/time
MEM_MB=64
# Guest RAM is mapped but only the pages the guest touches count; the
# slack covers rrvm itself, SQLite's bounded cache and sanitizer overhead.
SLACK_MB=${HOSTILE_RSS_SLACK_MB:-448}
[ -x "$TIME" ] || diag "GNU time ($TIME) is not installed: peak memory is not checked"
export ASAN_OPTIONS="exitcode=99${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="exitcode=98${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

# rrvm_t NAME ARGS...: rrvm with a time limit, peak RSS into $scratch/NAME.rss
rrvm_t() {
	name=$1; shift
	if [ -x "$TIME" ]; then
		timeout 300 "$TIME" -f '%M' -o "$scratch/$name.rss" "$RRVM" "$@" \
			>"$scratch/$name.out" 2>"$scratch/$name.err" </dev/null
	else
		timeout 300 "$RRVM" "$@" >"$scratch/$name.out" 2>"$scratch/$name.err" </dev/null
	fi
	status=$?
}
# sane NAME DESC: no crash report in NAME's messages, and peak RSS bounded
sane() {
	if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:|Segmentation fault|internal error in rrvm' \
		"$scratch/$1.err"; then
		not_ok "$2: no crash or sanitizer report"
		diag "$(grep -E -A8 'Sanitizer|runtime error' "$scratch/$1.err" | head -30)"
	else
		ok "$2: no crash or sanitizer report"
	fi
	[ -s "$scratch/$1.rss" ] || return 0
	kb=$(tail -1 "$scratch/$1.rss")
	if [ "$kb" -lt $(((MEM_MB + SLACK_MB) * 1024)) ]; then
		ok "$2: peak RSS $((kb / 1024)) MB < $MEM_MB MB guest RAM + $SLACK_MB MB"
	else
		not_ok "$2: peak RSS $((kb / 1024)) MB < $MEM_MB MB guest RAM + $SLACK_MB MB"
	fi
}

# guest NAME WANT [OPTIONS...]: run, record, replay, index one hostile guest.
# WANT is the expected status, or "any" (the guest's ending may vary but it
# must not be a crash of rrvm: status below 98, or 255, the sample runtime's
# exception path writing 0x7f to isa-debug-exit; a signal would be 128+N
# below 255 and a sanitizer report 98).
guest_status() { [ "$1" -lt 98 ] || [ "$1" = 255 ]; }
guest() {
	g=$1 want=$2; shift 2
	k=$G/$g.elf
	rrvm_t "$g.run" run --mem ${MEM_MB}M "$@" "$k"
	run_status=$status
	if [ "$want" = any ]; then
		check "$g: run ends with a guest status ($status)" guest_status "$status"
	else
		is "$status" "$want" "$g: run, status $want"
	fi
	sane "$g.run" "$g: run"
	rrvm_t "$g.rec" record -o "$scratch/$g.rec.d" --mem ${MEM_MB}M "$@" "$k"
	rec_status=$status
	if [ "$want" = any ]; then
		check "$g: record ends with a guest status ($status)" guest_status "$status"
	else
		is "$status" "$want" "$g: record, status $want"
	fi
	sane "$g.rec" "$g: record"
	rrvm_t "$g.rep" replay "$scratch/$g.rec.d"
	is "$status" "$rec_status" "$g: replay ends as the recording did ($rec_status)"
	if cmp -s "$scratch/$g.rec.out" "$scratch/$g.rep.out"; then
		ok "$g: replay prints the recording's output ($(wc -c <"$scratch/$g.rec.out") bytes)"
	else
		not_ok "$g: replay prints the recording's output"
		diag "$(tail -5 "$scratch/$g.rep.err")"
	fi
	sane "$g.rep" "$g: replay"
	rrvm_t "$g.idx" index "$scratch/$g.rec.d"
	is "$status" 0 "$g: index"
	sane "$g.idx" "$g: index"
	[ "$run_status" = "$rec_status" ] || diag "$g: run $run_status, record $rec_status"
}

guest ports 1
guest storm any
guest mmio 1
guest pagetables 1
guest triple 4
guest spin 124 --timeout 2
guest flood 1
has "$scratch/flood.rec.out" 'flood: done' "flood: the guest got through its flood"
# The 20000-byte annotation is cut to the port's 240 bytes, not split.
check "flood: index has every annotation, the long one cut to 240 bytes" sh -c \
	"'$RRVM' query --csv '$scratch/flood.rec.d' \
	 'select count(*) >= 1000, max(length(text)) from annotations' | grep -qx '1,240'"

# The walker over looping tables: bounded output, memory; the rest counted.
if [ -x "$TIME" ]; then
	timeout 300 "$TIME" -f '%M' -o "$scratch/ptv.rss" "$PTV" -c pt -s 1 "$G/pagetables.elf" \
		>"$scratch/ptv.out" 2>"$scratch/ptv.err"
else
	timeout 300 "$PTV" -c pt -s 1 "$G/pagetables.elf" >"$scratch/ptv.out" 2>"$scratch/ptv.err"
fi
lines=$(wc -l <"$scratch/ptv.out")
check "pt over looping tables: at most 300 lines ($lines)" test "$lines" -le 300
has "$scratch/ptv.out" '^\.\.\. [0-9]+ more ranges, the first at va 0x' \
	"pt: a '... N more ranges' line"
has "$scratch/ptv.out" '^\(the rest: pt 0x[0-9a-f]+ end; or pt --limit N\)' "pt: how to see the rest"
has "$scratch/ptv.out" 'points to a table outside guest RAM' "pt: tables outside RAM are named"
has "$scratch/ptv.out" '^truncated: ' "pt: the walk says it was cut"
if [ -s "$scratch/ptv.rss" ]; then
	kb=$(tail -1 "$scratch/ptv.rss")
	check "pt: peak RSS $((kb / 1024)) MB below 32 MB + guest RAM" test "$kb" -lt $(((32 + MEM_MB) * 1024))
fi
next=$(sed -n 's/^(the rest: pt \(0x[0-9a-f]*\) end.*/\1/p' "$scratch/ptv.out")
timeout 300 "$PTV" -c "pt --limit 5 $next end" -s 1 "$G/pagetables.elf" >"$scratch/ptv2.out" 2>&1
check "pt VA end --limit 5: the next ranges, from $next" \
	sh -c "grep -A1 '^[0-9]*-level paging' '$scratch/ptv2.out' | tail -1 | grep -q '^0*${next#0x}-'"

# The same through the real gdb: monitor pt at tables_loaded.
if command -v gdb >/dev/null 2>&1; then
	SOCK=$scratch/gdb.sock
	"$RRVM" run --timeout 300 --gdb="unix:$SOCK" "$G/pagetables.elf" >"$scratch/g.out" 2>"$scratch/g.err" </dev/null &
	pid=$!
	i=0
	while [ ! -S "$SOCK" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	timeout 300 gdb -batch -nx "$G/pagetables.elf" -ex "target remote $SOCK" \
		-ex 'hbreak tables_loaded' -ex continue -ex 'monitor pt' -ex kill \
		>"$scratch/gdb.out" 2>&1 </dev/null
	wait $pid
	lines=$(wc -l <"$scratch/gdb.out")
	check "gdb monitor pt over looping tables: at most 320 lines ($lines)" test "$lines" -le 320
	has "$scratch/gdb.out" '^\.\.\. [0-9]+ more ranges' "gdb monitor pt: a '... N more ranges' line"
else
	diag "gdb not installed: monitor pt through gdb not checked"
fi
tap_end
