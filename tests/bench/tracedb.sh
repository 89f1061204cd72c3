#!/bin/sh
# tracedb benchmark (make bench): rows per second inserted and bytes per
# row, for the insertion layer alone (synthetic rows) and for `rrvm index`
# on a recording of each sample; index time against plain replay time of
# the same recording (same run, so the ratio survives a noisy machine);
# then the time of each README example query on a recording of about a
# million exits (samples/ioheavy.elf), recorded once and reused.
#
# Environment: TRACEDB_BENCH_ROUNDS (ioheavy rounds of 4 exits, default
# 250000), TRACEDB_BENCH_KEEP=DIR (keep and reuse the recordings in DIR).
set -u
: "${top_srcdir:=.}"
: "${top_builddir:=.}"
RRVM=$top_builddir/cli/rrvm
S=$top_builddir/samples
rounds=${TRACEDB_BENCH_ROUNDS:-250000}

. "$(dirname "$0")/lib.sh"
elapsed() { echo "$1 $2" | awk '{ printf "%.3f", $2 - $1 }'; }

echo "tracedb benchmark on $(uname -r), KVM modules: $(ls /sys/module 2>/dev/null | grep kvm | tr '\n' ' ')"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"

echo "-- insertion layer alone (no KVM): best of 3"
for i in 1 2 3; do "$top_builddir/tests/bench/tracedb_bench" 1000000; done >"${TMPDIR:-/tmp}/tracedb_bench.$$" 2>&1
best=$(grep 'inserting:' "${TMPDIR:-/tmp}/tracedb_bench.$$" |
	awk '{ for (i = 1; i <= NF; i++) if ($(i + 1) == "rows/s" && $(i + 2) == "wall,") print $i }' | sort -n | tail -1)
sed -n '1,5p' "${TMPDIR:-/tmp}/tracedb_bench.$$"
echo "best of 3, wall clock: $best rows/s inserted (target 500000: $(
	[ "${best:-0}" -ge 500000 ] && echo met || echo NOT met))"
rm -f "${TMPDIR:-/tmp}/tracedb_bench.$$"

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ] || [ ! -x "$RRVM" ]; then
	echo "-- no usable /dev/kvm or no rrvm: recordings skipped"
	exit 0
fi
if [ -n "${TRACEDB_BENCH_KEEP:-}" ]; then
	dir=$TRACEDB_BENCH_KEEP
	mkdir -p "$dir"
else
	dir=$(mktemp -d "${TMPDIR:-/tmp}/tracedb_bench.XXXXXX") || exit 1
	trap 'rm -rf "$dir"' EXIT INT TERM
fi
printf 'hello\nworld\nquit\n' >"$dir/input"

# index_sample S REC [--no-steps]: record samples/S.elf into REC unless it
# is there (echo with serial input, ioheavy with $rounds rounds), time a
# plain replay of it, then (with --no-steps) an index that counts no raw
# units, then an index with --stats. Sets replay_s, nosteps_s (0 without
# --no-steps), index_s and the stats line that get NAME reads; returns 1,
# saying why, when the index failed.
index_sample() {
	if [ ! -f "$2/manifest" ]; then
		rm -rf "$2"
		case $1 in
		echo) "$RRVM" record -q --serial-in "$dir/input" -o "$2" "$S/echo.elf" >/dev/null 2>&1 ;;
		ioheavy) "$RRVM" record -q -o "$2" "$S/ioheavy.elf" -- "count=$rounds" >/dev/null 2>&1 ;;
		*) "$RRVM" record -q -o "$2" "$S/$1.elf" >/dev/null 2>&1 ;;
		esac
	fi
	t0=$(now)
	"$RRVM" replay -q "$2" >/dev/null 2>&1
	t1=$(now)
	[ "${3:-}" = --no-steps ] && "$RRVM" index -q --no-steps "$2" >/dev/null 2>&1
	t2=$(now)
	"$RRVM" index -q --stats "$2" 2>"$dir/stats" >/dev/null
	t3=$(now)
	line=$(grep '^stats:' "$dir/stats")
	if [ -z "$line" ]; then
		echo "$1: index failed: $(cat "$dir/stats")"
		return 1
	fi
	replay_s=$(elapsed "$t0" "$t1")
	nosteps_s=$(elapsed "$t1" "$t2")
	index_s=$(elapsed "$t2" "$t3")
}
get() { echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
# ratio A B: B / A, two decimals (0 when A is 0)
ratio() { echo "$1 $2" | awk '{ printf "%.2f", ($1 > 0 ? $2 / $1 : 0) }'; }

echo "-- rrvm index on a recording of each sample"
printf '%-9s %9s %9s %12s %11s %12s %9s %9s %7s\n' sample exits rows "insert r/s" "bytes/row" "overall r/s" replay_s index_s ratio
for s in hello echo ticks race ioheavy; do
	index_sample "$s" "$dir/$s" || continue
	printf '%-9s %9s %9s %12s %11s %12s %9s %9s %7s\n' "$s" "$(get exits)" "$(get rows)" \
		"$(get insert_rows_per_s)" "$(get bytes_per_row)" "$(get overall_rows_per_s)" \
		"$replay_s" "$index_s" "$(ratio "$replay_s" "$index_s")"
done
echo "(insert r/s: rows / time spent inside the insertion layer during the index;"
echo " overall r/s: rows / whole index time, replay included; ratio: index time / replay time)"

# Full positions (pos): rrvm index counts the raw units from the last exit
# to each asynchronous point by single-stepping; --no-steps does not.
echo "-- the cost of counting positions (rrvm index against rrvm index --no-steps)"
printf '%-9s %9s %9s %11s %10s %12s %9s %9s\n' sample exits replay_s nosteps_s counted_s units points ratio
for s in ticks race compute paging; do
	index_sample "$s" "$dir/pos-$s" --no-steps || continue
	printf '%-9s %9s %9s %11s %10s %12s %9s %9s\n' "$s" "$(get exits)" "$replay_s" \
		"$nosteps_s" "$index_s" "$(get units)" "$(get unit_intervals)" \
		"$(ratio "$nosteps_s" "$index_s")"
done
echo "(points: boundaries counted from; ratio: counted index time / --no-steps index time)"

rec=$dir/ioheavy
[ -f "$rec/trace.db" ] || exit 0
echo "-- README example queries on the ioheavy recording ($(sqlite3 -readonly "$rec/trace.db" \
	'SELECT count(*) FROM exits' 2>/dev/null || echo '?') exits): best of 3"
awk '
	/<!-- tracedb:begin -->/ { on = 1 }
	/<!-- tracedb:end -->/ { on = 0 }
	on && /^```sql/ { k++; f = out "/q" k ".sql"; printf "" > f; inq = 1; next }
	inq && /^```/ { inq = 0; close(f); next }
	inq { print >> f }
' out="$dir" "$top_srcdir/README.md"
for f in "$dir"/q*.sql "views"; do
	if [ "$f" = views ]; then
		set -- "SELECT * FROM io_per_port" "SELECT * FROM interrupts_per_symbol" "SELECT * FROM last_events"
	else
		set -- "$(cat "$f")"
	fi
	for sql in "$@"; do
		best=
		for i in 1 2 3; do
			t0=$(now)
			"$RRVM" query --csv "$rec" "$sql" >"$dir/out.csv"
			t1=$(now)
			e=$(elapsed "$t0" "$t1")
			best=$(echo "${best:-$e} $e" | awk '{ print ($2 < $1) ? $2 : $1 }')
		done
		rows=$(($(wc -l <"$dir/out.csv") - 1))
		[ "$rows" -lt 0 ] && rows=0
		printf '%8.1f ms %7d rows  %s\n' "$(echo "$best" | awk '{ print $1 * 1000 }')" "$rows" \
			"$(echo "$sql" | tr '\n' ' ' | tr -s ' ' | cut -c1-90)"
	done
done
echo "(times include starting rrvm and opening the database; README query 1 needs a PANIC line,"
echo " which ioheavy does not print, so on this recording it only looks for one)"
