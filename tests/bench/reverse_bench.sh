#!/bin/sh
# reverse_bench.sh — time travel on a replay with the real gdb
# (debug/timeline.c), figures and ratios from one run:
#   - the forward replay under gdb (`monitor goto` to the last exit, which
#     takes the automatic checkpoints) against the plain `rrvm replay`;
#   - reverse-continue from the end of race.elf to the previous hit of a
#     breakpoint about 1 s of guest time back (worker_main: each worker's
#     start, near the beginning of its 0.96 s run), against the forward
#     replay of that same interval (continue from the hit to the end);
#   - 100 consecutive reverse-stepi from a point near the end (exit count
#     minus 100, about 0.9 s of guest time into the replay): median, 95th
#     percentile;
#   - reverse-continue to race_tick's previous hit, 5 times;
#   - checkpoint save (`monitor checkpoint`) and goto to a checkpoint (a
#     snapshot of here and a restore);
#   - checkpoint memory per second of guest time (the recording's host
#     time: the guest clock follows it while recording) on race.elf and
#     paging.elf, with content dedup (the page store's bytes) and without
#     (every page a checkpoint stored, kept apart), replayer and snapshot
#     state included in both.
# Times come from gdb's Python clock and the shell's around the plain
# replay. Run by `make bench`.
top_builddir=${top_builddir:-.}
top_srcdir=${top_srcdir:-.}
RRVM=$top_builddir/cli/rrvm
GDB=${GDB:-gdb}
. "$(dirname "$0")/lib.sh"

bench_skip_unless reverse_bench kvm
bench_skip_unless reverse_bench gdb
bench_skip_unless reverse_bench built "$RRVM" "$top_builddir/samples/race.elf"

T=$(mktemp -d "${TMPDIR:-/tmp}/reverse_bench.XXXXXX") || exit 1
SOCK=$T/gdb.sock
trap 'rm -rf "$T"' EXIT INT TERM

# record NAME: $T/NAME (the whole workload), its host seconds in $T/NAME.secs
record() { bench_record_whole "$T/$1" "$top_builddir/samples/$1.elf"; }

record race
exits=$(sed -n 's/^exits: //p' "$T/race/manifest")
[ -n "$exits" ] || { echo "reverse_bench: could not record race.elf; skipped"; exit 0; }

t0=$(now)
"$RRVM" replay "$T/race" >/dev/null 2>&1 </dev/null
t1=$(now)
plain=$(awk "BEGIN { print $t1 - $t0 }")

P=$((exits - 100))
cat >"$T/m.py" <<PY
import gdb, time
def t(cmd):
    a = time.time()
    gdb.execute(cmd, to_string=True)
    return time.time() - a
fwd = t("monitor goto $((exits - 1))")
gdb.execute("continue", to_string=True)               # the end
gdb.execute("break worker_main", to_string=True)
rc1 = t("reverse-continue")
where = gdb.execute("monitor position", to_string=True).split()[2]
gdb.execute("delete", to_string=True)
cont = t("continue")
print("RESULT reverse-continue from the end to worker_main's last hit (position %s, about 1 s "
      "of guest time back): %.3f s; forward continue over the same interval: %.3f s; ratio %.2f"
      % (where, rc1, cont, rc1 / cont))
t("monitor goto $P")
gdb.execute("maint flush register-cache", to_string=True)
s = sorted(t("reverse-stepi") for _ in range(100))
print("RESULT reverse-stepi x100 from exit $P: median %.1f ms, p95 %.1f ms, max %.1f ms"
      % (s[50] * 1000, s[94] * 1000, s[99] * 1000))
gdb.execute("break race_tick", to_string=True)
rc = sorted(t("reverse-continue") for _ in range(5))
print("RESULT reverse-continue to race_tick's previous hit x5: median %.1f ms, max %.1f ms"
      % (rc[2] * 1000, rc[4] * 1000))
gdb.execute("delete", to_string=True)
t("monitor goto $((exits / 3))")
sv = sorted(t("monitor checkpoint") for _ in range(5))
gt = sorted(t("monitor goto %d" % (50 * k)) for k in (1, 2, 3, 4, 5))
print("RESULT checkpoint save (monitor checkpoint) x5: median %.2f ms; goto to a checkpoint "
      "(a snapshot of here and a restore) x5: median %.2f ms" % (sv[2] * 1000, gt[2] * 1000))
print("RESULT forward under gdb to exit $((exits - 1)): %.3f s" % fwd)
PY
gdb_serve "$top_builddir/samples/race.elf" "$T/race" "$T/m.py" >"$T/res"

# Checkpoint memory of a whole replay, with and without dedup.
cat >"$T/mem.py" <<'PY'
import gdb, re
end = int(gdb.execute("monitor position", to_string=True).split()[4].rstrip(","))
gdb.execute("monitor goto %d" % (end - 1), to_string=True)
lines = gdb.execute("monitor checkpoints", to_string=True).splitlines()
n = int(lines[0].split()[0])
m = re.match(r"page store: (\d+) distinct pages, (\d+) bytes; (\d+) bytes of state; (\d+) of (\d+) pages offered", lines[-2])
pages, pbytes, state, hits, puts = map(int, m.groups())
print("RESULT %d %d %d %d %d %d" % (n, pages, pbytes, state, hits, puts))
PY
echo "reverse_bench: race.elf, $exits exits; plain replay $(printf %.3f "$plain") s"
cat "$T/res"
for k in race paging; do
	[ -d "$T/$k" ] || record $k
	r=$(gdb_serve "$top_builddir/samples/$k.elf" "$T/$k" "$T/mem.py")
	secs=$(cat "$T/$k.secs")
	echo "$r" | awk -v k=$k -v s="$secs" '{
		with = $3 + $4; without = $6 * 4096 + $4;
		printf "checkpoint memory, %s.elf (%d checkpoints, %.2f s of guest time): with dedup %.0f KiB (%.0f KiB/s), without %.0f KiB (%.0f KiB/s), %d of %d stored pages were duplicates\n",
		k, $1, s, with / 1024, with / 1024 / s, without / 1024, without / 1024 / s, $5, $6 }'
done
