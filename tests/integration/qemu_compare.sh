#!/bin/sh
# qemu_compare.sh — every deterministic sample boots under rrvm and under
# qemu-system-x86_64 -kernel (the reference Multiboot loader and devices)
# with byte-identical serial output and the same exit status, so scripts
# written for `qemu -kernel` work unchanged with `rrvm run`; apic.elf (local
# APIC, I/O APIC, fw_cfg, ACPI) against QEMU's userspace APIC.
set -u
. "$top_srcdir/tests/integration/lib.sh"
if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
	echo "1..0 # SKIP qemu-system-x86_64 not installed"
	exit 0
fi
need_kvm

# both NAME INPUT KERNEL [ARGS...]: run under QEMU and rrvm, compare.
both() {
	name=$1 input=$2 kernel=$3
	shift 3
	timeout 120 qemu-system-x86_64 -kernel "$kernel" ${1:+-append "$*"} -serial stdio \
		-display none -device isa-debug-exit,iobase=0xf4,iosize=0x04 -accel tcg \
		-no-reboot < "$input" > "$scratch/$name.qemu" 2>"$scratch/$name.qemu.err"
	qemu_status=$?
	timeout 120 "$RRVM" run "$kernel" ${1:+-- "$@"} < "$input" > "$scratch/$name.rrvm" \
		2>"$scratch/$name.rrvm.err"
	rrvm_status=$?
	is "$rrvm_status" "$qemu_status" "$name: rrvm and QEMU exit with the same status"
	if cmp -s "$scratch/$name.qemu" "$scratch/$name.rrvm"; then
		ok "$name: identical serial output"
	else
		not_ok "$name: identical serial output"
		diff "$scratch/$name.qemu" "$scratch/$name.rrvm" | head -10 | sed 's/^/# /'
	fi
}

: > "$scratch/none"
printf 'one\ntwo three\nquit\n' > "$scratch/lines"
both hello "$scratch/none" "$SAMPLES/hello.elf"
both hello-args "$scratch/none" "$SAMPLES/hello.elf" a b c
both echo "$scratch/lines" "$SAMPLES/echo.elf"
both ticks "$scratch/none" "$SAMPLES/ticks.elf"
both compute "$scratch/none" "$SAMPLES/compute.elf"
both crash "$scratch/none" "$SAMPLES/hello.elf" crash
has "$scratch/crash.rrvm" "^EXCEPTION 6 at rip=" "a guest exception prints the same report under rrvm"

timeout 120 "$RRVM" run "$SAMPLES/race.elf" < /dev/null > "$scratch/race.rrvm" 2>&1
case $? in
1) has "$scratch/race.rrvm" "^race: ok after" "race.elf passes with status 1 and says so" ;;
7) has "$scratch/race.rrvm" "^PANIC: " "race.elf fails with status 7 and a PANIC line" ;;
*) not_ok "race.elf ends with status 1 or 7" ;;
esac


# The PC platform sample (local APIC, I/O APIC, fw_cfg, ACPI) against
# QEMU's userspace APIC (-machine kernel-irqchip=off) with the same RAM
# size, since the sample prints it; once without arguments and once with.
apic_both() {
	name=$1
	shift
	timeout 120 qemu-system-x86_64 -kernel "$SAMPLES/apic.elf" ${1:+-append "$*"} -m 64 \
		-machine kernel-irqchip=off -serial stdio -display none \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 -accel tcg -no-reboot \
		< /dev/null > "$scratch/$name.qemu" 2>"$scratch/$name.qemu.err"
	qemu_status=$?
	timeout 120 "$RRVM" run --mem 64M "$SAMPLES/apic.elf" ${1:+-- "$@"} < /dev/null \
		> "$scratch/$name.rrvm" 2>"$scratch/$name.rrvm.err"
	rrvm_status=$?
	is "$rrvm_status" "$qemu_status" "$name: rrvm and QEMU exit with the same status"
	is "$rrvm_status" 67 "$name: every check of the sample passed"
	if cmp -s "$scratch/$name.qemu" "$scratch/$name.rrvm"; then
		ok "$name: identical serial output"
	else
		not_ok "$name: identical serial output"
		diff "$scratch/$name.qemu" "$scratch/$name.rrvm" | head -10 | sed 's/^/# /'
	fi
}
apic_both apic
apic_both apic-args fw cfg
has "$scratch/apic-args.rrvm" "^fw_cfg: command line ''$" "fw_cfg has no command line for a Multiboot kernel, as QEMU"

tap_end
