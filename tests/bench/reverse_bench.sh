#!/bin/sh
# reverse_bench.sh — time travel on a replay of samples/race.elf with the
# real gdb (debug/timeline.c):
#   - the forward replay under gdb (`monitor goto` to the last exit, which
#     takes the automatic checkpoints) against the plain `rrvm replay`;
#   - 100 consecutive reverse-stepi from the middle of the recording:
#     median and 95th percentile;
#   - reverse-continue to race_tick's previous hit, 5 times;
#   - what the checkpoints hold (monitor checkpoints).
# Times come from gdb's Python clock and the shell's around the plain
# replay, in the same run. Run by `make bench`.
top_builddir=${top_builddir:-.}
RRVM=$top_builddir/cli/rrvm
K=$top_builddir/samples/race.elf
GDB=${GDB:-gdb}

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "reverse_bench: /dev/kvm is not usable here; skipped"
	exit 0
fi
if ! command -v "$GDB" >/dev/null 2>&1 || ! "$GDB" -batch -ex 'python print(1)' >/dev/null 2>&1; then
	echo "reverse_bench: gdb with Python is not installed; skipped"
	exit 0
fi
[ -e "$RRVM" ] && [ -e "$K" ] || { echo "reverse_bench: not built; skipped"; exit 0; }

T=$(mktemp -d "${TMPDIR:-/tmp}/reverse_bench.XXXXXX") || exit 1
SOCK=$T/gdb.sock
trap 'rm -rf "$T"' EXIT INT TERM

"$RRVM" record -q -o "$T/rec" "$K" >/dev/null 2>&1 </dev/null
exits=$(sed -n 's/^exits: //p' "$T/rec/manifest")
[ -n "$exits" ] || { echo "reverse_bench: could not record race.elf; skipped"; exit 0; }

t0=$(date +%s.%N)
"$RRVM" replay "$T/rec" >/dev/null 2>&1 </dev/null
t1=$(date +%s.%N)
plain=$(awk "BEGIN { print $t1 - $t0 }")

cat >"$T/m.py" <<PY
import gdb, time
def t(cmd):
    a = time.time()
    gdb.execute(cmd, to_string=True)
    return time.time() - a
fwd = t("monitor goto $((exits - 1))")
t("monitor goto $((exits / 2))")
gdb.execute("maint flush register-cache", to_string=True)
s = sorted(t("reverse-stepi") for _ in range(100))
gdb.execute("break race_tick", to_string=True)
rc = sorted(t("reverse-continue") for _ in range(5))
ck = gdb.execute("monitor checkpoints", to_string=True).splitlines()
print("RESULT forward under gdb to exit $((exits - 1)): %.3f s" % fwd)
print("RESULT reverse-stepi x100 from exit $((exits / 2)): median %.1f ms, p95 %.1f ms, max %.1f ms"
      % (s[50] * 1000, s[94] * 1000, s[99] * 1000))
print("RESULT reverse-continue to race_tick's previous hit x5: median %.1f ms, max %.1f ms"
      % (rc[2] * 1000, rc[4] * 1000))
print("RESULT checkpoints: " + ck[0])
print("RESULT " + ck[-1])
PY
"$RRVM" replay --gdb="unix:$SOCK" "$T/rec" >/dev/null 2>"$T/rrvm.err" </dev/null &
pid=$!
i=0
while [ ! -S "$SOCK" ] && [ $i -lt 3000 ] && kill -0 $pid 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
"$GDB" -batch -nx "$K" -ex "target remote $SOCK" -ex "source $T/m.py" -ex kill 2>&1 |
	sed -n 's/^RESULT //p' >"$T/res"
wait $pid
echo "reverse_bench: race.elf, $exits exits; plain replay $(printf %.3f "$plain") s"
cat "$T/res"
