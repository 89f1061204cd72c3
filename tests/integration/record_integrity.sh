#!/bin/sh
# record_integrity.sh — a recording holds exactly what was recorded, or the
# recording is refused or reported incomplete; nothing rrvm opens can make
# it block (issue 14, items 1, 2, 4, 6, 7, 8):
# - manifest values (command line, kernel path) with newlines, backslashes,
#   control bytes, edge spaces round-trip and replay exactly; a format 1
#   manifest is still read, raw;
# - a command line of 3000 bytes replays exactly; one the manifest cannot
#   hold is refused at record time;
# - a FIFO in place of kernel, events.lz4 or manifest is refused (status 2,
#   naming the file) by replay, index and replay --gdb; a FIFO or a device
#   as the kernel by run and record, a directory as --serial-in;
# - two recorders on one directory, 30 times: one wins, the other is
#   refused at once, the winner replays;
# - a recording whose directory is removed mid-run ends with status 6, and
#   capture does not count such a run as a pass;
# - a full disk during the kernel copy says "No space left on device".
# Every command runs under `timeout`, so a regression fails instead of hanging.
set -u
. "$top_srcdir/tests/integration/lib.sh"
need_kvm

# same_replay NAME: replay $scratch/NAME, compare status and output with the
# recording's ($scratch/NAME.out, status in $rec_status).
same_replay() {
	timeout 120 "$RRVM" replay "$scratch/$1" >"$scratch/$1.rep" 2>"$scratch/$1.rep.err"
	rep=$?
	if [ "$rep" = "$rec_status" ] && cmp -s "$scratch/$1.out" "$scratch/$1.rep"; then
		return 0
	fi
	diag "$1: recorded status $rec_status, replayed $rep"
	diag "$(head -c 600 "$scratch/$1.rep.err")"
	return 1
}

record() {
	name=$1
	shift
	timeout 120 "$RRVM" record -q -o "$scratch/$name" "$@" >"$scratch/$name.out" \
		2>"$scratch/$name.err" </dev/null
	rec_status=$?
}

# ---- 1. manifest values round-trip --------------------------------------
record inject "$SAMPLES/hello.elf" -- "$(printf 'a\nmem: 134217728')"
is "$rec_status" 1 "a newline in an argument: recorded (status 1)"
is "$(grep -c '^mem:' "$scratch/inject/manifest")" 1 "the manifest has one mem line, no injected one"
check "and the replay is exact" same_replay inject

odd=$(printf ' lead\\x41 \\n tab\tctl\001del\177 \303\251 trail ')
record odd "$SAMPLES/hello.elf" -- "$odd"
check "backslashes, tabs, control bytes, UTF-8, edge spaces: the replay is exact" same_replay odd
has "$scratch/odd.out" "del" "(the guest printed the command line)"

weird="$scratch/ker nel
mem: 1
\\x.elf"
cp "$SAMPLES/hello.elf" "$weird"
record weirdpath "$weird" -- x
check "a kernel path with a newline and a backslash: the replay is exact" same_replay weirdpath
is "$(grep -c '^mem:' "$scratch/weirdpath/manifest")" 1 "and its manifest has one mem line"
weird_line=$(sed -n 's/^kernel: //p' "$scratch/weirdpath/manifest")
is "$weird_line" "$scratch/ker nel\\nmem: 1\\n\\\\x.elf" "the path is written escaped"

# Format 1 (values raw, a backslash is a backslash) is still read.
record v1 "$SAMPLES/hello.elf" -- 'x\ty'
sed -e 's/^rrvm-recording: .*/rrvm-recording: 1/' -e 's/\\\\/\\/g' "$scratch/v1/manifest" \
	>"$scratch/v1.manifest" && mv "$scratch/v1.manifest" "$scratch/v1/manifest"
has "$scratch/v1/manifest" '^cmdline: .*hello.elf x\\ty$' "(a format 1 manifest with a raw backslash)"
# (Its replay is refused by version: format 1 is rrvm 0.1's machine model.
# The raw reading itself is checked by tests/unit/manifest_test.)
timeout 120 "$RRVM" replay "$scratch/v1" >/dev/null 2>"$scratch/v1.err"
is "$?" 2 "a format 1 manifest is read, and its replay refused by version (status 2)"
has "$scratch/v1.err" "recording format 1, made by rrvm" "  naming the format and the rrvm that made it"

# ---- 2. no silent truncation ---------------------------------------------
long=$(head -c 3000 /dev/zero | tr '\0' 'x')
record long "$SAMPLES/hello.elf" -- "$long"
is "$rec_status" 1 "a 3000-byte command line is recorded"
check "and replays exactly (nothing cut)" same_replay long

huge=$(head -c 40000 /dev/zero | tr '\0' 'y')
record huge "$SAMPLES/hello.elf" -- "$huge"
is "$rec_status" 2 "a 40000-byte command line is refused at record time (status 2)"
has "$scratch/huge.err" "command line .*(too long|at most)" "with a message saying why"
check "and no recording is left" test ! -e "$scratch/huge"

# ---- 4. no blocking open of a FIFO or device -----------------------------
record good "$SAMPLES/hello.elf"
for f in kernel events.lz4 manifest; do
	d=$scratch/fifo-$f
	cp -r "$scratch/good" "$d" && rm "$d/$f" && mkfifo "$d/$f"
	for cmd in replay index replay-gdb; do
		case $cmd in
		replay-gdb) set -- replay --gdb="unix:$scratch/gdb.sock" ;;
		*) set -- "$cmd" ;;
		esac
		timeout 20 "$RRVM" "$@" "$d" >"$scratch/o" 2>"$scratch/e" </dev/null
		is "$?" 2 "$f is a FIFO: rrvm $* refuses it (status 2), no hang"
		has "$scratch/e" "$f: is a FIFO" "  and names the file"
	done
done
mkfifo "$scratch/kfifo"
for cmd in run record; do
	case $cmd in
	record) set -- record -o "$scratch/kf" ;;
	*) set -- "$cmd" ;;
	esac
	timeout 30 "$RRVM" "$@" "$scratch/kfifo" >"$scratch/o" 2>"$scratch/e" </dev/null
	is "$?" 2 "a FIFO as the kernel: rrvm $1 refuses it (status 2)"
	has "$scratch/e" "kfifo: is a FIFO" "  and names it"
done
check "record left no directory behind" test ! -e "$scratch/kf"
timeout 30 "$RRVM" run /dev/zero >"$scratch/o" 2>"$scratch/e" </dev/null
is "$?" 2 "a device as the kernel: refused (status 2)"
timeout 20 "$RRVM" record -o "$scratch/sd" --serial-in "$scratch" "$SAMPLES/echo.elf" \
	>"$scratch/o" 2>"$scratch/e" </dev/null
is "$?" 2 "a directory as --serial-in: refused (status 2), no guest waiting forever"
has "$scratch/e" "serial-in .*: is a directory" "  and says so"

# ---- 6. two recorders, one directory -------------------------------------
bad=0
i=0
while [ $i -lt 30 ]; do
	i=$((i + 1))
	d=$scratch/race$i
	"$RRVM" record -q -o "$d" "$SAMPLES/hello.elf" >"$d.o1" 2>"$d.e1" </dev/null &
	p1=$!
	"$RRVM" record -q -o "$d" "$SAMPLES/hello.elf" >"$d.o2" 2>"$d.e2" </dev/null &
	p2=$!
	wait $p1
	s1=$?
	wait $p2
	s2=$?
	timeout 60 "$RRVM" replay "$d" >"$d.rep" 2>"$d.rep.err"
	rs=$?
	# Exactly one recorded (hello.elf: status 1), the other was refused (2).
	case "$s1 $s2" in
	"1 2") loser=$d.e2 winner=$d.o1 ;;
	"2 1") loser=$d.e1 winner=$d.o2 ;;
	*) loser= winner= ;;
	esac
	if [ -z "$loser" ] || [ "$rs" != 1 ] || ! cmp -s "$winner" "$d.rep" ||
		! grep -qE "another rrvm is using this directory|not empty" "$loser"; then
		bad=$((bad + 1))
		diag "try $i: statuses $s1 $s2, replay $rs"
		diag "$(cat "$d.e1" "$d.e2" "$d.rep.err" | head -c 600)"
	fi
done
is "$bad" 0 "30 tries of two recorders on one directory: one wins and replays, the other is refused"

# A failed start removes what it created, nothing else.
mkdir "$scratch/mine" && echo precious >"$scratch/mine/notes"
timeout 60 "$RRVM" record -q -o "$scratch/mine" "$SAMPLES/hello.elf" >/dev/null 2>"$scratch/e"
is "$?" 2 "a directory with someone's file in it is refused (status 2)"
check "  and the file is intact" grep -q precious "$scratch/mine/notes"
mkdir "$scratch/empty"
timeout 60 "$RRVM" record -q -o "$scratch/empty" "$scratch/no-such.elf" >/dev/null 2>"$scratch/e"
check "a failed start in an empty directory the user made leaves that directory" \
	test -d "$scratch/empty"
timeout 60 "$RRVM" record -q -o "$scratch/empty" "$SAMPLES/hello.elf" >/dev/null 2>"$scratch/e"
is "$?" 1 "  and it can be recorded into afterwards"

# ---- 7. an incomplete recording has its own status -------------------------
# echo.elf waits for serial input: remove the directory while it waits,
# then let it finish.
mkfifo "$scratch/in"
timeout 120 "$RRVM" record -q -o "$scratch/gone" --serial-in "$scratch/in" "$SAMPLES/echo.elf" \
	>"$scratch/gone.out" 2>"$scratch/gone.err" &
pid=$!
exec 9>"$scratch/in"
n=0
until grep -q ready "$scratch/gone.out" 2>/dev/null || [ $n -ge 600 ]; do
	n=$((n + 1))
	sleep 0.1
done
rm -rf "$scratch/gone"
printf 'quit\n' >&9
exec 9>&-
wait $pid
is "$?" 6 "the recording directory removed mid-run: status 6 (not the guest's 1)"
has "$scratch/gone.err" "incomplete" "  and says the recording is incomplete"

# ---- 8. a full disk names the real error -----------------------------------
mnt=$scratch/mnt
mkdir "$mnt"
if mount -t tmpfs -o size=16k rrvm-test "$mnt" 2>"$scratch/e"; then
	timeout 60 "$RRVM" record -q -o "$mnt/r" "$SAMPLES/hello.elf" >/dev/null 2>"$scratch/e"
	is "$?" 6 "no room for the kernel copy: status 6"
	has "$scratch/e" "kernel: No space left on device" "  and the message says ENOSPC"
	check "  not 'Success'" sh -c "! grep -q Success '$scratch/e'"
	check "  and nothing is left" test ! -e "$mnt/r"
	timeout 120 "$RRVM" capture --runs 2 -o "$mnt/cap" "$SAMPLES/hello.elf" \
		>"$scratch/cap.out" 2>"$scratch/cap.err"
	is "$?" 6 "capture on a full disk: status 6"
	cat "$scratch/cap.out" "$scratch/cap.err" >"$scratch/cap.all"
	has "$scratch/cap.all" "ERROR|No space left on device" "  the run is reported as an error"
	check "  not as a pass" sh -c "! grep -q ': pass' '$scratch/cap.out'"
	umount "$mnt"
else
	echo "# SKIP full-disk checks: cannot mount a tmpfs: $(cat "$scratch/e")"
	ok "# SKIP full-disk checks (no tmpfs mount)"
fi

tap_end
