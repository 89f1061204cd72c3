#!/bin/sh
# run.sh — `rrvm run`, `rrvm doctor` and the GNU conventions of the program,
# against the real binary and the sample kernels: output, exit statuses
# (QEMU's isa-debug-exit rule), serial input, timer interrupts, every kind
# of bad input (a one-line message and status 2), guest crashes (status 4
# with a register dump).
set -u
. "$top_srcdir/tests/integration/lib.sh"

# Usage and version need no KVM.
run_rrvm "$scratch/o" "$scratch/e" --help
is "$status" 0 "rrvm --help exits 0"
has "$scratch/o" "^Usage: rrvm COMMAND" "--help prints the usage on stdout"
has "$scratch/o" "record" "--help lists the commands"
run_rrvm "$scratch/o" "$scratch/e" --version
is "$status" 0 "rrvm --version exits 0"
has "$scratch/o" "^rrvm [0-9]+\.[0-9]+" "--version prints the version"
run_rrvm "$scratch/o" "$scratch/e" run --help
is "$status" 0 "rrvm run --help exits 0"
has "$scratch/o" "^Usage: rrvm run" "run --help describes run"
has "$scratch/o" "--serial-in" "run --help lists the options"
run_rrvm "$scratch/o" "$scratch/e" frobnicate
is "$status" 2 "an unknown command is a usage error"
has "$scratch/e" "Try 'rrvm --help'" "and points to --help"
run_rrvm "$scratch/o" "$scratch/e" run --bogus x.elf
is "$status" 2 "an unknown option is a usage error"
run_rrvm "$scratch/o" "$scratch/e" run
is "$status" 2 "a missing kernel is a usage error"
has "$scratch/e" "missing KERNEL" "which says what is missing"

# Bad kernels are refused before KVM is touched, so these run everywhere.
bad() { # KIND PATTERN DESC
	"$MKKERNEL" "$1" "$scratch/$1.elf"
	run_rrvm "$scratch/o" "$scratch/e" run "$scratch/$1.elf"
	if [ "$status" = 2 ] && grep -qE -- "$2" "$scratch/e" && [ "$(wc -l < "$scratch/e")" -eq 1 ] &&
		grep -q "$1.elf" "$scratch/e"; then
		ok "$3: status 2, one line naming the file"
	else
		not_ok "$3"
		diag "status $status, stderr: $(cat "$scratch/e")"
	fi
}
run_rrvm "$scratch/o" "$scratch/e" run "$scratch/missing.elf"
is "$status" 2 "a missing kernel file: status 2"
has "$scratch/e" "missing.elf: No such file" "the message names the file"
printf 'not a kernel\n' > "$scratch/text.elf"
run_rrvm "$scratch/o" "$scratch/e" run "$scratch/text.elf"
is "$status" 2 "a text file: status 2"
has "$scratch/e" "text.elf: no Multiboot header.*not ELF" "the message says it is neither"
bad nomb "no Multiboot header" "an ELF without a Multiboot header"
bad badsum "bad checksum" "a Multiboot header with a bad checksum"
bad overlap "overlaps an earlier segment" "overlapping segments"
bad outside-file "outside the .*file" "a segment outside the file"
bad outside-ram "does not fit in guest RAM" "a segment outside guest RAM"
bad over-firmware "overlaps the firmware area" "a segment over the firmware area (ACPI tables)"
"$MKKERNEL" low "$scratch/low.elf"
run_rrvm "$scratch/o" "$scratch/e" run "$scratch/low.elf"
is "$status" 11 "a kernel linked at 0x8000 boots (its Multiboot info goes after it, as QEMU's)"
has "$scratch/o" "^ok" "and prints"
"$MKKERNEL" good "$scratch/good.elf"
run_rrvm "$scratch/o" "$scratch/e" run --mem 1M "$scratch/good.elf"
is "$status" 2 "--mem too small: status 2"
has "$scratch/e" "between" "the message gives the range"
run_rrvm "$scratch/o" "$scratch/e" run --mem 5G "$scratch/good.elf"
is "$status" 2 "--mem 5G: status 2 (RAM would cover the APIC pages)"
has "$scratch/e" "would cover the I/O APIC and local APIC" "the message says why"
run_rrvm "$scratch/o" "$scratch/e" run --mem 99999G "$scratch/good.elf"
is "$status" 2 "--mem absurd: status 2"
run_rrvm "$scratch/o" "$scratch/e" run --mem lots "$scratch/good.elf"
is "$status" 2 "--mem not a size: status 2"
run_rrvm "$scratch/o" "$scratch/e" run --timeout -1 "$scratch/good.elf"
is "$status" 2 "--timeout negative: status 2"

# No permission on /dev/kvm: as an unprivileged user, when we can be one.
if [ -e /dev/kvm ] && [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
	! setpriv --reuid=65534 --regid=65534 --clear-groups test -w /dev/kvm; then
	cp "$scratch/good.elf" "$scratch/nobody.elf"
	chmod 755 "$scratch"
	chmod 644 "$scratch/nobody.elf"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$RRVM" run "$scratch/nobody.elf" \
		>"$scratch/o" 2>"$scratch/e"
	status=$?
	is "$status" 2 "no permission on /dev/kvm: status 2"
	has "$scratch/e" "/dev/kvm: permission denied.*kvm group" "the message says how to fix it"
else
	ok "# SKIP no permission test (not root, no setpriv, or nobody can use /dev/kvm)"
fi

if [ ! -e /dev/kvm ] || [ ! -w /dev/kvm ]; then
	ok "# SKIP no usable /dev/kvm: guest runs not tested"
	tap_end
	exit $?
fi

run_rrvm "$scratch/o" "$scratch/e" run "$scratch/good.elf"
is "$status" 11 "a minimal kernel's isa-debug-exit value 5 gives status 11"
has "$scratch/o" "^ok$" "its serial output reaches stdout"

run_rrvm "$scratch/o" "$scratch/e" run "$SAMPLES/hello.elf" -- a b c
is "$status" 1 "hello.elf exits with QEMU's status for value 0"
printf 'Hello from rrvm!\ncmdline: %s a b c\n' "$SAMPLES/hello.elf" > "$scratch/want"
check "hello.elf greets and shows its command line" cmp -s "$scratch/o" "$scratch/want"
[ -s "$scratch/e" ] && not_ok "hello.elf: rrvm prints nothing on stderr" ||
	ok "hello.elf: rrvm prints nothing on stderr"

printf 'first line\nSecond Line\nquit\n' > "$scratch/in.txt"
run_rrvm "$scratch/o" "$scratch/e" run --mem 128M --serial-in "$scratch/in.txt" "$SAMPLES/echo.elf"
is "$status" 5 "echo.elf with --serial-in: status (2 lines << 1) | 1"
has "$scratch/o" "^echo: FIRST LINE$" "the guest's answer to line 1"
has "$scratch/o" "^echo: SECOND LINE$" "the guest's answer to line 2"
has "$scratch/o" "^bye: 2 lines$" "it saw quit"
timeout 60 "$RRVM" run "$SAMPLES/echo.elf" < "$scratch/in.txt" > "$scratch/o" 2>"$scratch/e"
is "$?" 5 "echo.elf reads standard input by default"

run_rrvm "$scratch/o" "$scratch/e" run "$SAMPLES/ticks.elf"
is "$status" 85 "ticks.elf exits with the code it chose (0x2a -> 85)"
has "$scratch/o" "^tick 50$" "it counted 50 timer interrupts"
has "$scratch/o" "^latch ok$" "the PIT latch read was in range"

run_rrvm "$scratch/o" "$scratch/e" run --timeout 0.5 "$SAMPLES/echo.elf"
is "$status" 124 "--timeout stops a waiting guest with status 124"
has "$scratch/e" "timeout" "and says so"

"$MKKERNEL" triple "$scratch/triple.elf"
run_rrvm "$scratch/o" "$scratch/e" run "$scratch/triple.elf"
is "$status" 4 "a triple-faulting guest: status 4"
has "$scratch/e" "triple fault" "the message says triple fault"
has "$scratch/e" "rip=0000000000100010" "and dumps the registers"
"$MKKERNEL" int3 "$scratch/int3.elf"
run_rrvm "$scratch/o" "$scratch/e" run "$scratch/int3.elf"
is "$status" 4 "an int3 with no IDT (internal error or triple fault): status 4"
has "$scratch/e" "rip=" "with a register dump"

run_rrvm "$scratch/o" "$scratch/e" doctor
is "$status" 0 "rrvm doctor runs"
has "$scratch/o" "KVM API version: +12" "reports the API version"
has "$scratch/o" "debug traps at CPL0 \(kernel\): (yes|no)" "reports kernel-mode debug traps"
has "$scratch/o" "debug traps at CPL3 \(user\): +(yes|no)" "reports user-mode debug traps"
has "$scratch/o" "single-step at CPL3: " "from a probe guest"
has "$scratch/o" "dirty page log: +(yes|no)" "reports dirty logging"
has "$scratch/o" "performance counters \(PMU\): +(yes|no)" "reports the PMU"
has "$scratch/o" "in-kernel irqchip" "reports the interrupt controller"
has "$scratch/o" "What this means" "and what it means for recording"

tap_end
