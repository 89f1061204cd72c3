#!/bin/sh
# record_replay.sh — recordings replay exactly, and damaged or divergent ones
# are caught: 20 chaos recordings of race.elf (passing and failing runs),
# ticks.elf, echo.elf with serial input and compute.elf replay with the same
# serial output, exit status and final-state hash; the log is a standard
# LZ4 frame; apic.elf (local APIC timer, I/O APIC, fw_cfg, PM timer) replays
# under chaos, in xAPIC and x2APIC mode; a flipped byte, an edited clock value, a kernel that is not the
# recorded one, a guest that reads the TSC and a recorder killed mid-run are
# each reported as what they are, and so is damage after the END event;
# the replayer's saved state restores, in new logs and in a version-1 one;
# 30 more short chaos recordings of compute.elf and lfsr.elf replay
# exactly with the fast search, and a recording with event log
# version 1 (tests/data/log1-race) still replays.
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
# The fast search (replay/fastsearch.c) on many recordings: 30 short chaos
# runs of compute.elf (with the 20 of race.elf above, 50 chaos
# recordings), lfsr.elf (no counting register: plain hits), and one
# recording replayed both ways.
fast=0
for seed in $(seq 101 130); do
	check "compute.elf rounds=2 --chaos=$seed replays exactly" \
		record_and_replay "compute-s$seed" --chaos="$seed" "$SAMPLES/compute.elf" -- rounds=2
	n=$(sed -n 's/.*fast searches \([0-9]*\),.*/\1/p' "$scratch/compute-s$seed.rep.err")
	fast=$((fast + ${n:-0}))
done
check "the compute replays searched points the fast way ($fast points)" test "$fast" -gt 0
check "lfsr.elf (no counting register) replays exactly" \
	record_and_replay lfsr "$SAMPLES/lfsr.elf" -- rounds=2
RRVM_PLAIN_SEARCH=1 "$RRVM" replay -v "$scratch/compute-s101" >"$scratch/plain.out" \
	2>"$scratch/plain.err"
check "the plain search replays the same recording to the same output" \
	cmp -s "$scratch/plain.out" "$scratch/compute-s101.rep"
check "and the same final state" sh -c "test \"\$(sed -n 's/^rrvm: final state hash //p' \
	'$scratch/plain.err')\" = \"\$(sed -n 's/^state-hash: //p' '$scratch/compute-s101/manifest')\""
has "$scratch/plain.err" "fast searches 0," "with no fast search"
# A recording by rrvm before the fast search (event log version 1: no
# registers logged at the points) replays, with the plain search.
cp -r "$top_srcdir/tests/data/log1-race" "$scratch/log1"
run_rrvm "$scratch/o" "$scratch/e" replay -v "$scratch/log1"
is "$status" 1 "a recording with event log version 1 replays (status 1)"
check "to the recorded output" cmp -s "$scratch/o" "$top_srcdir/tests/data/log1-race.out"
has "$scratch/e" "final state matches" "and the recorded final state"
has "$scratch/e" "fast searches 0," "searching with plain hits (no registers logged)"
# And one of version 2 (registers logged at the points: POLL_REGS), as
# recorded by the rrvm that added the fast search's loop cache: it
# replays with the fast search.
cp -r "$top_srcdir/tests/data/log2-race" "$scratch/log2"
run_rrvm "$scratch/o" "$scratch/e" replay -v "$scratch/log2"
is "$status" 1 "a recording with event log version 2 replays (status 1)"
check "to the recorded output" cmp -s "$scratch/o" "$top_srcdir/tests/data/log2-race.out"
has "$scratch/e" "final state matches" "and the recorded final state"
has "$scratch/e" "fast searches [1-9]" "searching the fast way"

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
has "$scratch/ticks/manifest" "^event-log-version: 2$" "the manifest names the log version"
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

# Damage after the END event (issue 14): a frame that lost its end mark
# and content checksum is truncated (5); a wrong content checksum or
# bytes after the frame are corrupt (2). rrvm index agrees: a truncated
# log is indexed and marked so, a corrupt one is refused.
size=$(wc -c < "$scratch/ticks/events.lz4")
for damage in cut8 badsum junk; do
	rm -rf "$scratch/$damage"
	cp -r "$scratch/ticks" "$scratch/$damage"
	rm -f "$scratch/$damage/trace.db"
	f=$scratch/$damage/events.lz4
	case $damage in
	cut8) truncate -s $((size - 8)) "$f" ;;
	badsum) last=$(od -An -tu1 -j $((size - 1)) -N1 "$f" | tr -d ' ')
		printf "$(printf '\\%03o' $(((last + 1) % 256)))" |
			dd of="$f" bs=1 seek=$((size - 1)) conv=notrunc 2>/dev/null ;;
	junk) printf 'junk' >> "$f" ;;
	esac
done
run_rrvm "$scratch/o" "$scratch/e" replay "$scratch/cut8"
is "$status" 5 "events.lz4 cut by 8 bytes (no end mark): replay status 5"
has "$scratch/e" "truncated after its end record" "and says the log is truncated after END"
run_rrvm "$scratch/o" "$scratch/e" index "$scratch/cut8"
is "$status" 0 "rrvm index indexes it"
has "$scratch/e" "truncated" "and says it is truncated"
check "trace.db marks it truncated" sh -c "'$RRVM' query --csv '$scratch/cut8' \
	\"SELECT value FROM recording WHERE key = 'indexed-stop'\" | grep -qx truncated"
for damage in badsum junk; do
	run_rrvm "$scratch/o" "$scratch/e" replay "$scratch/$damage"
	is "$status" 2 "events.lz4 with $damage: replay status 2"
	has "$scratch/e" "damaged after its end record" "and says the log is damaged after END"
	run_rrvm "$scratch/o" "$scratch/e" index "$scratch/$damage"
	is "$status" 2 "rrvm index refuses it (status 2)"
	check "and writes no trace.db" test ! -e "$scratch/$damage/trace.db"
done

# The replayer's state saved at an exit count equals a second replay's
# there, and a replay given it (its log reader sought to the saved
# position) ends as the recording did. (Logs of linked blocks, as rrvm
# 0.1.0 wrote, are sought in tests/unit/eventlog_seek_test.)
n=$(sed -n 's/^exits: //p' "$scratch/race-1/manifest")
check "replayer state saved and restored at exits $((n / 3)) and $((2 * n / 3)) of race-1" \
	sh -c "'$top_builddir/tests/tools/replaystate' '$scratch/race-1' $((n / 3)) $((2 * n / 3)) \
	>'$scratch/state.out' 2>&1"
diag "$(cat "$scratch/state.out")"
# A recording of format 1 (tests/data/v1-race, made by rrvm 0.1.0) was made
# on the older machine model: refused by version, not replayed to a
# divergence.
run_rrvm "$scratch/o" "$scratch/e" replay -v "$top_srcdir/tests/data/v1-race"
is "$status" 2 "a format-1 recording (rrvm 0.1.0's machine) is refused with status 2"
has "$scratch/e" "recording format 1, made by rrvm 0.1.0 on an older machine model" \
	"and the message names the format, the rrvm that made it and why"

# A clock value changed consistently (re-encoded): the replay diverges.
# The edit is one the device model cannot absorb, whatever the host's speed
# was: every clock read before the first injected timer interrupt is given
# the value of the first one, so guest time stands still until then and no
# PIT deadline is reached. (Moving only the last read back was absorbed on a
# loaded host: a read before it was already past the deadline, with the
# interrupt pending while the guest had interrupts off.)
"$LOGTOOL" dump "$scratch/ticks/events.lz4" > "$scratch/ticks.txt"
awk '$1 == "inject" { inj = 1 }
     $1 == "clock" && $2 == "kind=monotonic" && !inj { if (first == "") first = $3; else $3 = first }
     { print }' "$scratch/ticks.txt" > "$scratch/ticks-edited.txt"
check "the clock reads before the first timer interrupt are moved back in the text form" \
	sh -c "test \$(diff '$scratch/ticks.txt' '$scratch/ticks-edited.txt' | grep -c '^>') -ge 1"
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

# A recorder killed with SIGKILL leaves a replayable prefix. echo.elf
# waits for serial input as long as the FIFO stays open, so it is certainly
# still running when it is killed. Two lines are sent, the second after the
# first was echoed; the kill comes once the second line is in the log file
# (lz4 decodes the blocks flushed so far), so the log covers everything up
# to the first echo: a replay ends where its log ends, and the events
# around the second line's arrival come after the first echo.
mkfifo "$scratch/killed.in"
exec 3<>"$scratch/killed.in"
"$RRVM" record -q --timeout 600 --serial-in "$scratch/killed.in" -o "$scratch/killed" \
	"$SAMPLES/echo.elf" > "$scratch/killed.out" 2>/dev/null &
pid=$!
wait_until 120 grep -q '^ready:' "$scratch/killed.out"
printf 'first line\n' >&3
wait_until 120 grep -q '^echo: FIRST LINE' "$scratch/killed.out"
printf 'second line\n' >&3
check "the guest echoed both lines and the log holds the second while the recorder runs" \
	wait_until 120 sh -c "grep -q '^echo: SECOND LINE' '$scratch/killed.out' &&
		lz4 -dc '$scratch/killed/events.lz4' 2>/dev/null | grep -aq 'second line'"
check "the recorder is still running when it is killed" kill -9 "$pid"
wait "$pid" 2>/dev/null
exec 3>&-
has "$scratch/killed/manifest" "^result: running$" "a killed recorder's manifest says it did not finish"
run_rrvm "$scratch/killed.rep" "$scratch/e" replay "$scratch/killed"
is "$status" 5 "its recording replays up to where the log ends (status 5)"
has "$scratch/e" "truncated" "and says it is truncated"
check "the replayed output is a prefix of what the recorder printed" \
	sh -c "head -c \$(wc -c < '$scratch/killed.rep') '$scratch/killed.out' | cmp -s - '$scratch/killed.rep'"
check "and not empty" test -s "$scratch/killed.rep"
check "and holds the echo of the first line, which the log covers" grep -q '^echo: FIRST LINE' "$scratch/killed.rep"

# The PC platform (issue 12): LAPIC timer, self-IPI, I/O APIC routing,
# fw_cfg and the ACPI PM timer, recorded under chaos with several seeds;
# and the same through the x2APIC MSRs where the host lets rrvm serve them.
for seed in 1 2 3 4; do
	check "apic.elf --chaos=$seed replays exactly" \
		record_and_replay "apic-$seed" --chaos="$seed" "$SAMPLES/apic.elf" -- arg$seed
	is "$rec_status" 67 "apic.elf seed $seed: recorded with status 67 (all checks passed)"
done
# A bad guest: the APIC page moved, a reserved ICR delivery mode, vector 5
# from the ICR and from the I/O APIC, TSC-deadline mode, a read-only I/O
# APIC register. Hardware's answers, a --trace-io line each, and exact replay.
check "apic.elf bad (a broken kernel's APIC use) replays exactly" \
	record_and_replay apic-bad --trace-io --chaos=5 "$SAMPLES/apic.elf" -- bad
is "$rec_status" 67 "apic.elf bad: no crash, the checks after it still pass"
has "$scratch/apic-bad.out" "^bad: APIC page moved to 0xfed00000: version 0x14 there, 0xffffffff at the old page$" \
	"a moved APIC page answers at its new base only"
has "$scratch/apic-bad.out" "^bad: ICR vector 5: ESR 0x20$" "ICR vector 5: ESR send-illegal-vector"
has "$scratch/apic-bad.out" "^bad: I/O APIC pin 4 to vector 5: ESR 0x40$" "I/O APIC vector 5: ESR receive-illegal-vector"
has "$scratch/apic-bad.rec.err" "lapic: the guest moved the APIC page from 0xfee00000 to 0xfed00000" \
	"--trace-io: the move"
has "$scratch/apic-bad.rec.err" "lapic: reserved delivery mode 3 in ICR" "--trace-io: the reserved delivery mode"
has "$scratch/apic-bad.rec.err" "ioapic: pin 4 redirected to vector 0x5, below 16" "--trace-io: the I/O APIC redirection"
has "$scratch/apic-bad.rec.err" "TSC-deadline mode, which CPUID does not offer" "--trace-io: TSC-deadline mode"
has "$scratch/apic-bad.rec.err" "fw_cfg: selector 0x7abc names no item" "--trace-io: the garbage fw_cfg selector"
if "$RRVM" doctor 2>/dev/null | grep -q "^x2APIC for guests: *offered"; then
	check "apic.elf in x2APIC mode (MSRs) replays exactly" \
		record_and_replay apic-x2 --chaos=9 "$SAMPLES/apic.elf" -- x2apic
	is "$rec_status" 67 "apic.elf x2APIC: all checks passed"
else
	ok "# SKIP x2APIC not offered on this host (rrvm doctor)"
	ok "# SKIP x2APIC not offered on this host (rrvm doctor)"
fi

tap_end
