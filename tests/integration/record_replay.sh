#!/bin/sh
# record_replay.sh — recordings replay exactly, and damaged or divergent ones
# are caught: 20 chaos recordings of race.elf (passing and failing runs),
# ticks.elf, echo.elf with serial input and compute.elf replay with the same
# serial output, exit status and final-state hash; the log is a standard
# LZ4 frame; a flipped byte, an edited clock value, a kernel that is not the
# recorded one, a guest that reads the TSC and a recorder killed mid-run are
# each reported as what they are.
set -u
. "$top_srcdir/tests/integration/lib.sh"
need_kvm

# record_and_replay NAME RECORD-ARGS...: record into $scratch/NAME, replay it
# and compare output, status and the final-state hash.
record_and_replay() {
	name=$1
	shift
	dir=$scratch/$name
	timeout 120 "$RRVM" record -q -o "$dir" "$@" >"$dir.out" 2>"$dir.rec.err" </dev/null
	rec_status=$?
	timeout 300 "$RRVM" replay -v "$dir" >"$dir.rep" 2>"$dir.rep.err"
	rep_status=$?
	want_hash=$(sed -n 's/^state-hash: //p' "$dir/manifest" 2>/dev/null)
	got_hash=$(sed -n 's/^rrvm: final state hash //p' "$dir.rep.err")
	if [ "$rec_status" = "$rep_status" ] && cmp -s "$dir.out" "$dir.rep" &&
		[ -n "$want_hash" ] && [ "$want_hash" = "$got_hash" ]; then
		return 0
	fi
	diag "$name: recorded status $rec_status, replayed $rep_status; hashes $want_hash / $got_hash"
	diag "$(cat "$dir.rec.err" "$dir.rep.err" | head -5)"
	cmp "$dir.out" "$dir.rep" 2>&1 | sed 's/^/# /'
	return 1
}

passes=0 fails=0 seed=0
while [ "$seed" -lt 20 ] || { [ "$seed" -lt 40 ] && { [ "$passes" = 0 ] || [ "$fails" = 0 ]; }; }; do
	seed=$((seed + 1))
	check "race.elf --chaos=$seed replays exactly" \
		record_and_replay "race-$seed" --chaos="$seed" "$SAMPLES/race.elf"
	case $rec_status in
	1) passes=$((passes + 1)) ;;
	7) fails=$((fails + 1)) ;;
	*) diag "race.elf seed $seed: unexpected status $rec_status" ;;
	esac
done
diag "race.elf under chaos: $fails of $seed runs failed"
check "both passing ($passes) and failing ($fails) race runs were replayed" \
	test "$passes" -gt 0 -a "$fails" -gt 0
check "a failing run's replay shows the same PANIC" \
	sh -c "grep -l PANIC '$scratch'/race-*.rep | head -1 | grep -q ."

check "ticks.elf replays exactly" record_and_replay ticks "$SAMPLES/ticks.elf"
is "$rec_status" 85 "ticks.elf recorded with its own status"
printf 'alpha\nbeta gamma\nquit\n' > "$scratch/in.txt"
check "echo.elf with --serial-in replays exactly, without the input file" \
	record_and_replay echo --serial-in "$scratch/in.txt" "$SAMPLES/echo.elf"
has "$scratch/echo.rep" "^echo: BETA GAMMA$" "the replay echoes the recorded input"
check "compute.elf (timer interrupts in a tight loop) replays exactly" \
	record_and_replay compute "$SAMPLES/compute.elf"
has "$scratch/compute.rep.err" "asynchronous points [1-9]" "it needed asynchronous interrupt points"
check "a recording replays the same twice" \
	sh -c "'$RRVM' replay '$scratch/race-1' 2>/dev/null | cmp -s - '$scratch/race-1.out'"

# The log is a standard LZ4 frame.
if command -v lz4 >/dev/null; then
	check "lz4 -t accepts events.lz4" lz4 -qt "$scratch/ticks/events.lz4"
	lz4 -qdc "$scratch/ticks/events.lz4" > "$scratch/ticks.raw" 2>/dev/null
	check "lz4 -d gives the event stream (RRVMEVT header)" \
		sh -c "head -c 8 '$scratch/ticks.raw' | grep -q RRVMEVT"
else
	ok "# SKIP lz4 not installed"
fi
has "$scratch/ticks/manifest" "^event-log-version: 1$" "the manifest names the log version"
has "$scratch/ticks/manifest" "^kernel-sha256: [0-9a-f]{64}$" "and the kernel digest"
has "$scratch/race-1/manifest" "^chaos-seed: 1$" "and the chaos seed"
check "the recording holds a copy of the kernel" cmp -s "$scratch/ticks/kernel" "$SAMPLES/ticks.elf"

# A flipped byte is caught by the LZ4 checksums.
cp -r "$scratch/race-1" "$scratch/flip"
size=$(wc -c < "$scratch/flip/events.lz4")
at=$((size / 2))
byte=$(od -An -tu1 -j "$at" -N1 "$scratch/flip/events.lz4" | tr -d ' ')
printf "$(printf '\\%03o' $(((byte + 1) % 256)))" |
	dd of="$scratch/flip/events.lz4" bs=1 seek="$at" conv=notrunc 2>/dev/null
run_rrvm "$scratch/o" "$scratch/e" replay "$scratch/flip"
is "$status" 2 "a flipped byte in events.lz4: refused with status 2"
has "$scratch/e" "events.lz4 is damaged|events.lz4: .*(checksum|corrupt)" "the message says the log is damaged"

# A clock value changed consistently (re-encoded): the replay diverges.
"$LOGTOOL" dump "$scratch/ticks/events.lz4" > "$scratch/ticks.txt"
awk '/^clock kind=monotonic/ { n++; if (n == 3) { split($3, v, "="); $3 = sprintf("value=%.0f", v[2] - 9000000) } } { print }' \
	"$scratch/ticks.txt" > "$scratch/ticks-edited.txt"
check "one clock value moved back 9 ms in the text form" \
	sh -c "test \$(diff '$scratch/ticks.txt' '$scratch/ticks-edited.txt' | grep -c '^>') -eq 1"
cp -r "$scratch/ticks" "$scratch/clock"
check "logtool re-encoded the edited log" \
	"$LOGTOOL" build "$scratch/ticks-edited.txt" "$scratch/clock/events.lz4"
run_rrvm "$scratch/o" "$scratch/e" replay "$scratch/clock"
is "$status" 3 "an edited clock value: the replay diverges (status 3)"
has "$scratch/e" "diverged at exit [0-9]+ \(rip 0x[0-9a-f]+ in [a-z_]+" "the message names the exit count, rip and function"

# The kernel is not the recorded one.
cp -r "$scratch/ticks" "$scratch/swap"
cp "$SAMPLES/hello.elf" "$scratch/swap/kernel"
run_rrvm "$scratch/o" "$scratch/e" replay "$scratch/swap"
is "$status" 2 "a swapped kernel: refused with status 2"
has "$scratch/e" "does not match the recording: SHA-256" "because its digest differs"

# A guest that reads the TSC cannot be replayed; that must be detected.
record_and_replay tsc "$SAMPLES/tsc.elf"
is "$rep_status" 3 "tsc.elf (reads RDTSC) diverges on replay: status 3"
has "$scratch/tsc.rep.err" "diverged at exit" "and says where"

# Not a recording; a manifest from the future.
mkdir "$scratch/empty"
run_rrvm "$scratch/o" "$scratch/e" replay "$scratch/empty"
is "$status" 2 "an empty directory: status 2"
has "$scratch/e" "is this an rrvm recording" "the message says it is not a recording"
cp -r "$scratch/ticks" "$scratch/future"
sed -i 's/^rrvm-recording: [0-9]*$/rrvm-recording: 9/' "$scratch/future/manifest"
run_rrvm "$scratch/o" "$scratch/e" replay "$scratch/future"
is "$status" 2 "a recording format from the future: status 2"
has "$scratch/e" "version '9' is not supported" "refused by version"

# record refuses to overwrite a recording.
run_rrvm "$scratch/o" "$scratch/e" record -o "$scratch/ticks" "$SAMPLES/hello.elf"
is "$status" 2 "record -o an existing recording: status 2"
has "$scratch/e" "holds a recording" "and nothing is overwritten"
check "the old recording is intact" cmp -s "$scratch/ticks/kernel" "$SAMPLES/ticks.elf"

# A recorder killed with SIGKILL leaves a replayable prefix.
"$RRVM" record -q -o "$scratch/killed" "$SAMPLES/compute.elf" > "$scratch/killed.out" 2>/dev/null &
pid=$!
sleep 0.7
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
has "$scratch/killed/manifest" "^result: running$" "a killed recorder's manifest says it did not finish"
run_rrvm "$scratch/killed.rep" "$scratch/e" replay "$scratch/killed"
is "$status" 5 "its recording replays up to where the log ends (status 5)"
has "$scratch/e" "truncated" "and says it is truncated"
check "the replayed output is a prefix of what the recorder printed" \
	sh -c "head -c \$(wc -c < '$scratch/killed.rep') '$scratch/killed.out' | cmp -s - '$scratch/killed.rep'"
check "and not empty" test -s "$scratch/killed.rep"

tap_end
