#!/bin/sh
# gdb_abuse.sh — rrvm's gdb stub under abuse (issue 14): `rrvm run --gdb`
# on a Unix socket, the guest stopped before its first instruction, then
#  - SIGTERM while it waits for a client removes the socket file;
#  - a real gdb reads the registers and disconnects;
#  - gdb_abuse.py sends malformed packets, 1 MB packets, half packets
#    then disconnects, 50 rapid connect/disconnect cycles, and a burst of
#    non-blocking connects while it is connected (none may fail with
#    EAGAIN; each is refused at once with an E. reply);
#  - a second real gdb, while a first one is attached, is refused at once
#    with a clear message and the first one goes on;
#  - a real gdb afterwards sees the same registers as the first one;
#  - rrvm never crashes (no signal death, no sanitizer report).
. "$top_srcdir/tests/integration/lib.sh"
need_kvm
GDB=${GDB:-gdb}
if ! command -v "$GDB" >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
	echo "1..0 # SKIP gdb or python3 is not installed"
	exit 0
fi
K=$SAMPLES/hello.elf
SOCK=$scratch/gdb.sock
RRVM_PID=
trap '[ -n "$RRVM_PID" ] && kill "$RRVM_PID" 2>/dev/null; rm -rf "$scratch"' EXIT

# wait_for COND...: poll (up to 60 s) until the command succeeds.
wait_for() {
	i=0
	until "$@"; do
		i=$((i + 1))
		[ $i -ge 600 ] && return 1
		sleep 0.1
	done
}
start_rrvm() {
	rm -f "$SOCK"
	"$RRVM" run --timeout 300 --gdb="unix:$SOCK" "$K" >"$scratch/rrvm.out" 2>"$scratch/rrvm.err" </dev/null &
	RRVM_PID=$!
	wait_for test -S "$SOCK" || diag "rrvm did not listen on $SOCK"
}
# end_rrvm: wait for rrvm (60 s at most); its status in $status
end_rrvm() {
	wait_for sh -c "! kill -0 $RRVM_PID 2>/dev/null" || kill -9 "$RRVM_PID"
	wait "$RRVM_PID"
	status=$?
	RRVM_PID=
}
regs() {	# regs OUT: a real gdb reads registers, then disconnects
	timeout 120 "$GDB" -batch -nx "$K" -ex "target remote $SOCK" \
		-ex 'info registers rip rsp rax rbx eflags cs cr0 cr3 efer' -ex 'disconnect' \
		>"$1" 2>&1 </dev/null
	grep -E '^(rip|rsp|rax|rbx|eflags|cs|cr0|cr3|efer) ' "$1" >"$1.regs"
}

# 1. SIGTERM while rrvm waits for a client.
start_rrvm
kill -TERM "$RRVM_PID"
end_rrvm
is "$status" 130 "SIGTERM while waiting for gdb ends rrvm as interrupted (130)"
check "... and removes the socket file" test ! -e "$SOCK"

# 2. Registers before the abuse.
start_rrvm
regs "$scratch/before"
check "a real gdb reads the registers" test -s "$scratch/before.regs"

# 3. The hostile client.
timeout 300 python3 "$top_srcdir/tests/integration/gdb_abuse.py" "$SOCK" >"$scratch/abuse.out" 2>&1
grep -E '^(not )?ok - ' "$scratch/abuse.out" | while read -r line; do echo "$line"; done >"$scratch/abuse.tap"
while read -r line; do
	case $line in
	"ok - "*) ok "${line#ok - }" ;;
	*) not_ok "${line#not ok - }" ;;
	esac
done <"$scratch/abuse.tap"
if grep -q '^regs-after ' "$scratch/abuse.out"; then
	ok "the hostile client ran to its end"
else
	not_ok "the hostile client ran to its end"
	diag "$(tail -20 "$scratch/abuse.out")"
fi

# 4. A second real gdb while one is attached.
connected() { [ "$(grep -c 'client connected' "$scratch/rrvm.err")" -gt "$1" ]; }
before=$(grep -c 'client connected' "$scratch/rrvm.err")
timeout 120 "$GDB" -batch -nx "$K" -ex "target remote $SOCK" \
	-ex "shell i=0; while [ ! -e $scratch/go ] && [ \$i -lt 600 ]; do sleep 0.1; i=\$((i+1)); done" \
	-ex 'info registers rip' -ex 'disconnect' >"$scratch/first.out" 2>&1 </dev/null &
FIRST=$!
wait_for connected "$before"
timeout 60 "$GDB" -batch -nx "$K" -ex "target remote $SOCK" -ex 'info registers rip' \
	-ex 'disconnect' >"$scratch/second.out" 2>&1 </dev/null
has "$scratch/second.out" 'E\.rrvm: another gdb is already connected' \
	"a second gdb is refused with a clear message"
touch "$scratch/go"
wait "$FIRST"
has "$scratch/first.out" '^rip +0x' "the first gdb goes on after the refusal"

# 5. Registers after, then the end.
regs "$scratch/after"
if cmp -s "$scratch/before.regs" "$scratch/after.regs"; then
	ok "a real gdb after the abuse sees the same registers"
else
	not_ok "a real gdb after the abuse sees the same registers"
	diag "$(diff "$scratch/before.regs" "$scratch/after.regs")"
fi
kill -TERM "$RRVM_PID"
end_rrvm
is "$status" 130 "rrvm ends on SIGTERM as interrupted (130), not by a crash"
check "... and removes the socket file" test ! -e "$SOCK"
if grep -qE 'AddressSanitizer|runtime error|Segmentation' "$scratch/rrvm.err"; then
	not_ok "no sanitizer report or crash in rrvm's messages"
	diag "$(grep -E -A5 'AddressSanitizer|runtime error' "$scratch/rrvm.err" | head -30)"
else
	ok "no sanitizer report or crash in rrvm's messages"
fi
tap_end
