#!/bin/sh
# hostile-guest memory benchmark (make bench): peak RSS (GNU time %M) of
# `rrvm run`, `record`, `replay` and `index` on each hostile guest of
# tests/guests, with 64 MiB of guest RAM; then `rrvm index` on recordings
# of samples/ioheavy.elf with ten times more exits, to show that the
# indexer's memory does not grow with the number of exits (issue 14).
#
# Environment: HOSTILE_BENCH_ROUNDS (ioheavy rounds of 4 exits for the
# large recording, default 500000; the small one has a tenth).
set -u
: "${top_srcdir:=.}"
: "${top_builddir:=.}"
RRVM=$top_builddir/cli/rrvm
G=$top_builddir/tests/guests
TIME=/usr/bin/time
rounds=${HOSTILE_BENCH_ROUNDS:-500000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/hostile_bench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

if [ ! -x "$TIME" ]; then
	echo "hostile bench: GNU time ($TIME) is not installed; nothing measured"
	exit 0
fi
echo "hostile guests: peak RSS in MB (guest RAM 64 MiB; host $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg))"
# rss CMD...: peak RSS in MB of one rrvm command, and its status
rss() {
	"$TIME" -f '%M' -o "$tmp/rss" "$RRVM" "$@" >/dev/null 2>"$tmp/err" </dev/null
	st=$?
	echo "$(($(tail -1 "$tmp/rss") / 1024))($st)"
}
printf '%-12s %10s %10s %10s %10s\n' guest run record replay index
for g in ports storm mmio pagetables triple spin flood; do
	t=""
	[ "$g" = spin ] && t="--timeout 2"
	r1=$(rss run $t "$G/$g.elf")
	r2=$(rss record $t -o "$tmp/$g" "$G/$g.elf")
	r3=$(rss replay "$tmp/$g")
	r4=$(rss index "$tmp/$g")
	printf '%-12s %10s %10s %10s %10s\n' "$g" "$r1" "$r2" "$r3" "$r4"
done
echo "(MB(status); status is the guest's: 1 done, 4 triple fault, 124 timeout)"

echo "rrvm index memory against the number of exits (samples/ioheavy.elf):"
for n in $((rounds / 10)) "$rounds"; do
	"$RRVM" record -q -o "$tmp/io$n" "$top_builddir/samples/ioheavy.elf" -- "count=$n" >/dev/null 2>&1
	exits=$(sed -n 's/^exits: //p' "$tmp/io$n/manifest")
	"$TIME" -f '%M %e' -o "$tmp/rss" "$RRVM" index "$tmp/io$n" >/dev/null 2>&1
	read -r kb secs <"$tmp/rss"
	echo "  $exits exits: peak RSS $((kb / 1024)) MB, $secs s, trace.db $(($(stat -c %s "$tmp/io$n/trace.db") / 1048576)) MB"
	rm -rf "$tmp/io$n"
done
