#!/bin/sh
# watch_bench.sh — write watchpoints on a replay of samples/race.elf with
# the real gdb, kept by write-protecting the watched page (debug/wp.c) on
# hosts whose debug registers miss data accesses in kernel mode:
#   - `watch -l race.threads[3].id` (a field written once, by
#     thread_create), then continue from the start to the end of the
#     recording (two continues: the write, then the end), against the
#     plain `rrvm replay` of the same recording;
#   - with that watchpoint, reverse-continue from the end back to before
#     the write, against the same plain replay;
#   - for scale, continue from the start to the end under gdb with no
#     watchpoint.
# Ratios are taken in one run (the plain replay is the median of three).
# Run by `make bench`; nothing passes or fails on a duration.
top_builddir=${top_builddir:-.}
top_srcdir=${top_srcdir:-.}
. "$top_srcdir/tests/bench/lib.sh"
RRVM=$top_builddir/cli/rrvm
K=$top_builddir/samples/race.elf
GDB=${GDB:-gdb}

bench_skip_unless watch_bench kvm
bench_skip_unless watch_bench gdb
bench_skip_unless watch_bench built "$RRVM" "$K"

T=$(mktemp -d "${TMPDIR:-/tmp}/watch_bench.XXXXXX") || exit 1
SOCK=$T/gdb.sock
trap 'rm -rf "$T"' EXIT INT TERM

bench_record_whole "$T/rec" "$K"
exits=$(sed -n 's/^exits: //p' "$T/rec/manifest")
[ -n "$exits" ] || { echo "watch_bench: could not record race.elf; skipped"; exit 0; }

for i in 1 2 3; do
	t0=$(now)
	"$RRVM" replay "$T/rec" >/dev/null 2>&1 </dev/null
	t1=$(now)
	awk "BEGIN { print $t1 - $t0 }"
done | median >"$T/plain"
plain=$(cat "$T/plain")

cat >"$T/nowatch.py" <<'PY'
import gdb, time
a = time.time()
gdb.execute("continue", to_string=True)
print("RESULT %.3f" % (time.time() - a))
PY
cat >"$T/watch.py" <<'PY'
import gdb, time
gdb.execute("watch -l race.threads[3].id", to_string=True)
a = time.time()
gdb.execute("continue", to_string=True)
hit = int(gdb.parse_and_eval("race.threads[3].id"))
gdb.execute("continue", to_string=True)
fwd = time.time() - a
a = time.time()
gdb.execute("reverse-continue", to_string=True)
rev = time.time() - a
back = int(gdb.parse_and_eval("race.threads[3].id"))
ok = hit == 3 and back == 0 and gdb.selected_frame().name() == "thread_create"
print("RESULT %.3f %.3f %s" % (fwd, rev, "ok" if ok else "WRONG-STOPS"))
PY
nowatch=$(gdb_serve "$K" "$T/rec" "$T/nowatch.py")
set -- $(gdb_serve "$K" "$T/rec" "$T/watch.py")
fwd=$1 rev=$2 okay=$3
echo "watch_bench: race.elf, $exits exits; plain replay $(printf %.3f "$plain") s (median of 3)"
echo "  continue start->end under gdb, no watchpoint: $nowatch s ($(awk "BEGIN { printf \"%.2f\", $nowatch / $plain }")x plain)"
echo "  watch -l race.threads[3].id, continue start->end: $fwd s ($(awk "BEGIN { printf \"%.2f\", $fwd / $plain }")x plain; target <= 5x)"
echo "  reverse-continue from the end to before the write: $rev s ($(awk "BEGIN { printf \"%.2f\", $rev / $plain }")x plain; target <= 5x)"
[ "$okay" = ok ] || echo "  (the stops were not the expected ones: $okay)"
