#!/bin/sh
# gdb_protocol.sh — the real gdb against the gdb stub serving a fake target
# (tests/tools/gdbfake): connecting without warnings, the x86-64 target
# description (cr3, efer, fs_base...), memory, breakpoints and watchpoints,
# stepi, monitor commands, Ctrl-C, detach, kill, target exit, reverse
# execution, a Unix socket, and loading the kernel ELF through the stub.
# Each case starts its own gdbfake and one gdb in batch mode, then checks
# gdb's output and what gdbfake says the target saw.

top_builddir=${top_builddir:-.}
. "${top_srcdir:-.}/tests/integration/wait.sh"
FAKE=$top_builddir/tests/tools/gdbfake
GDB=${GDB:-gdb}

if ! command -v "$GDB" >/dev/null 2>&1; then
	echo "1..0 # SKIP gdb is not installed"
	exit 0
fi
if [ ! -x "$FAKE" ]; then
	echo "1..0 # SKIP $FAKE not built"
	exit 0
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/gdb_protocol.XXXXXX") || exit 1
FAKE_PID=
GDB_PID=
cleanup() {
	[ -n "$GDB_PID" ] && kill "$GDB_PID" 2>/dev/null
	[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

n=0
failed=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() {
	n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"
	for f in "$T/gdb.out" "$T/fake.err" "$T/fake.out"; do
		[ -f "$f" ] && sed "s|^|#   $(basename "$f"): |" "$f" | head -60
	done
}
skip() { n=$((n + 1)); echo "ok $n # SKIP $1"; }
check() {	# check DESCRIPTION COMMAND...: pass if the command succeeds
	desc=$1; shift
	if "$@"; then pass "$desc"; else fail "$desc"; fi
}
has() { grep -qF -- "$1" "$2"; }		# has TEXT FILE
gdb_has() { has "$1" "$T/gdb.out"; }
fake_has() { has "$1" "$T/fake.out"; }

# gdb's own warnings about where symbols come from are not about the stub;
# everything else that looks like a complaint is.
complaints() {
	grep -iE 'warning|error|protocol error|remote failure|not supported|unknown|malformed|connection closed|invalid' "$T/gdb.out" |
		grep -vF -e 'No executable has been specified' -e 'determining executable automatically' \
			 -e "$1"
}
quiet() { [ -z "$(complaints "${1:-@@none@@}")" ]; }

# start_fake ARGS...: run gdbfake, set ADDR to what gdb should connect to.
start_fake() {
	rm -f "$T/fake.out" "$T/fake.err"
	"$FAKE" "$@" >"$T/fake.out" 2>"$T/fake.err" &
	FAKE_PID=$!
	if wait_until 120 fake_listening; then
		return 0
	fi
	echo "# gdbfake did not start"
	return 1
}
# fake_listening: gdbfake said where it listens; sets ADDR
fake_listening() {
	if has LISTENING "$T/fake.out" 2>/dev/null; then
		ADDR=$SOCK
		return 0
	fi
	port=$(sed -n 's/^PORT //p' "$T/fake.out" 2>/dev/null)
	[ -n "$port" ] && ADDR=127.0.0.1:$port
}

# wait_fake: wait (up to 120 s) for gdbfake to end after gdb left.
wait_fake() {
	if ! wait_until 120 eval '! alive "$FAKE_PID"'; then
		kill "$FAKE_PID"
		echo "# gdbfake still running after gdb ended; killed"
	fi
	wait "$FAKE_PID" 2>/dev/null
	FAKE_PID=
}

# run_gdb PRE ARGS...: gdb in batch mode runs the command PRE (if not
# empty), connects to $ADDR, then takes ARGS (-ex ...); then gdbfake ends.
run_gdb() {
	pre=${1:-echo}; shift
	timeout 60 "$GDB" -batch -nx -ex 'set architecture i386:x86-64' -ex "$pre" \
		-ex "target remote $ADDR" "$@" >"$T/gdb.out" 2>&1 </dev/null
	wait_fake
}

# A tiny "kernel" ELF matching the fake machine: NOPs at 0x100000.
ELF=$T/fake.elf
cat >"$T/fake.S" <<'EOF'
	.text
	.globl _start
_start:
	.fill 0x20, 1, 0x90
	.globl counter_pc
counter_pc:
	.fill 0x20, 1, 0x90
EOF
if ! ${CC:-cc} -g -nostdlib -static -no-pie -Wl,-Ttext=0x100000 -Wl,--build-id=none \
	-o "$ELF" "$T/fake.S" >"$T/cc.out" 2>&1; then
	ELF=
fi
SOCK=$T/gdb.sock

# 1. Connect as the brief says (no executable) and read every kind of register.
start_fake || exit 1
run_gdb "" -ex 'info registers' -ex 'info registers cr3' -ex 'p $efer' -ex 'x/8i $pc' \
	-ex 'p/x $fs_base' -ex 'p/x $gs_base' -ex 'p/x $k_gs_base' -ex 'p $cr0' -ex 'p $xmm0' \
	-ex 'p $st0' -ex 'p/x $mxcsr'
check "connects and reads registers without complaints" quiet
check "info registers shows rip" gdb_has 'rip            0x100000'
check "info registers cr3" sh -c "grep -q '^cr3  *0x1000 ' '$T/gdb.out'"
check "efer decoded as flags" gdb_has '$1 = [ LME LMA ]'
check "x/8i \$pc disassembles eight instructions" sh -c "[ \$(grep -c ':	nop' '$T/gdb.out') -eq 8 ]"
check "fs_base/gs_base/k_gs_base" sh -c "grep -q '0x7f0000001000' '$T/gdb.out' && grep -q '0xffff888000000000' '$T/gdb.out' && grep -q '0x7f0000002000' '$T/gdb.out'"
check "cr0 decoded as flags" gdb_has '[ PE ET PG ]'
check "xmm0 as vec128, st0 as i387_ext" sh -c "grep -q 'v4_float' '$T/gdb.out' && grep -q '^\$[0-9]* = 0$' '$T/gdb.out'"
check "mxcsr" gdb_has '= 0x1f80'
check "session ended with a detach" fake_has 'END detached'

# 2. With the kernel ELF named by the stub and a local sysroot: no warning at all.
if [ -n "$ELF" ]; then
	start_fake --exec "$ELF"
	run_gdb "set sysroot /" -ex 'info registers' -ex 'info symbol $pc'
	check "kernel ELF found via qXfer:exec-file: not a single warning" \
		sh -c "! grep -qi warning '$T/gdb.out'"
	check "symbols loaded from the ELF" gdb_has '_start in section .text'
else
	skip "no C compiler to build the fake kernel ELF"
	skip "no C compiler to build the fake kernel ELF"
fi

# 3. Default sysroot: gdb reads the ELF through the stub (vFile).
if [ -n "$ELF" ]; then
	start_fake --exec "$ELF"
	run_gdb "" -ex 'break counter_pc' -ex 'continue' -ex 'p $pc'
	check "ELF read through the stub" gdb_has "Reading symbols from target:$ELF"
	check "breakpoint by symbol" gdb_has 'Breakpoint 1, 0x0000000000100020 in counter_pc ()'
	check "no complaints besides gdb's advice on file transfers" quiet 'File transfers from remote targets can be slow'
else
	skip "no C compiler"; skip "no C compiler"; skip "no C compiler"
fi

# 4. Memory and register writes.
start_fake
run_gdb "" -ex 'x/4xb 0x100100' -ex 'set {long}0x100200 = 0x1122334455667788' \
	-ex 'x/gx 0x100200' -ex 'x/xb 0x0' -ex 'set $rax = 42' -ex 'p $rax' \
	-ex 'set $cr3 = 0x5000' -ex 'p/x $cr3' -ex 'x/2xb 0x10fffe' \
	-ex 'set $efer = (long)0xd01' -ex 'p $efer'
check "memory read" gdb_has '0x100100:	0x90	0x90	0x90	0x90'
check "memory write read back" gdb_has '0x100200:	0x1122334455667788'
check "unmapped memory refused" gdb_has 'Cannot access memory at address 0x0'
check "register write (rax)" gdb_has '= 42'
check "register write (cr3)" gdb_has '= 0x5000'
check "last bytes of mapped memory" gdb_has '0x10fffe:	0x90	0x90'
check "register write (efer, a flags type)" gdb_has '[ SCE LME LMA NXE ]'
check "no complaints in memory and register access" quiet 'Cannot access memory at address 0x0'

# 5. Breakpoints, a hardware breakpoint, a watchpoint, stepi.
start_fake
run_gdb "" -ex 'break *0x100010' -ex 'continue' -ex 'hbreak *0x100018' -ex 'continue' \
	-ex 'watch *(long *)0x108000' -ex 'continue' -ex 'delete' -ex 'stepi' -ex 'stepi' -ex 'p $pc'
check "software breakpoint stop" gdb_has 'Breakpoint 1, 0x0000000000100010 in'
check "hardware breakpoint stop" gdb_has 'Breakpoint 2, 0x0000000000100018 in'
check "hardware watchpoint fires with old and new value" \
	sh -c "grep -q 'Hardware watchpoint 3' '$T/gdb.out' && grep -q 'New value = 1' '$T/gdb.out'"
check "stepi twice" gdb_has '(void (*)()) 0x100023'
check "no complaints during run control" quiet

# 6. Too many hardware breakpoints: gdb reports it cannot insert the 5th,
#    with the target's reason (E.Z1.text).
start_fake
run_gdb "" -ex 'hbreak *0x100001' -ex 'hbreak *0x100002' -ex 'hbreak *0x100003' \
	-ex 'hbreak *0x100004' -ex 'hbreak *0x100005' -ex 'continue'
check "5th hardware breakpoint refused, with the reason" \
	gdb_has 'Cannot insert hardware breakpoint 5:Remote failure reply: all 4 debug registers are in use'

check "target's reason logged by the stub" has 'all 4 debug registers are in use' "$T/fake.err"

# 7. Monitor commands.
start_fake
run_gdb "" -ex 'monitor hello world' -ex 'monitor fail'
check "monitor output" gdb_has 'echo: hello world'
check "failing monitor command shows its output" gdb_has 'fail: as requested'
check "target saw both commands" fake_has 'monitors 2'

# 8. Ctrl-C while the target runs forever.
# gdb runs without timeout(1) here: timeout would pass the SIGINT on to
# its process group as well, and a second SIGINT makes gdb give up on the
# target ("not responding to interrupt requests").
start_fake --run-forever
"$GDB" -batch -nx -ex 'set architecture i386:x86-64' -ex "target remote $ADDR" \
	-ex 'continue' -ex 'p $pc' >"$T/gdb.out" 2>&1 </dev/null &
GDB_PID=$!
wait_until 120 has 'resume continue' "$T/fake.err"
kill -INT "$GDB_PID"
wait_until 300 eval '! alive "$GDB_PID"'
kill "$GDB_PID" 2>/dev/null
wait "$GDB_PID"
GDB_PID=
wait_fake
check "Ctrl-C stops the target" gdb_has 'Program received signal SIGINT, Interrupt.'
check "the stub interrupted the target once" fake_has 'interrupts 1 '
check "gdb went on after the stop" gdb_has '$1 = (void (*)()) 0x'

# 9. Explicit detach, and kill.
start_fake
run_gdb "" -ex 'detach'
check "detach" sh -c "grep -q 'detached' '$T/gdb.out' && grep -q 'END detached' '$T/fake.out'"
start_fake
run_gdb "" -ex 'kill'
check "kill reaches the target" sh -c "grep -q 'END killed' '$T/fake.out' && grep -q 'kills 1 ' '$T/fake.out'"
check "gdb reports the kill" gdb_has 'killed'

# 10. The target exits.
start_fake --step-limit 10 --exit-status 3
run_gdb "" -ex 'continue'
check "exit code reported" gdb_has 'exited with code 03'
check "stub ended with the target" fake_has 'END exited'

# 11. Reverse execution on a target that can.
start_fake --reverse
run_gdb "" -ex 'stepi' -ex 'stepi' -ex 'stepi' -ex 'reverse-stepi' -ex 'p $pc' -ex 'reverse-continue' -ex 'p $pc'
check "reverse-stepi" gdb_has '$1 = (void (*)()) 0x100002'
check "reverse-continue to the start of the recording" \
	sh -c "grep -q 'No more reverse-execution history' '$T/gdb.out' && grep -q '^\$2 = (void (\*)()) 0x100000' '$T/gdb.out'"
start_fake
run_gdb "" -ex 'reverse-stepi'
check "live target: reverse refused by gdb" gdb_has 'Target remote does not support this command.'

# 12. A Unix socket, created 0600.
start_fake "unix:$SOCK"
mode=$(stat -c %a "$SOCK" 2>/dev/null)
run_gdb "" -ex 'x/2xb 0x100000' -ex 'kill'
check "unix socket has mode 600 (got $mode)" [ "$mode" = 600 ]
check "gdb over the unix socket" sh -c "grep -q '0x100000:	0x90	0x90' '$T/gdb.out' && grep -q 'END killed' '$T/fake.out'"
check "socket removed at exit" [ ! -e "$SOCK" ]

echo "1..$n"
[ $failed -eq 0 ]
