#!/bin/sh
# qemu_samples.sh - boots each sample guest kernel (samples/*.elf) under
# qemu-system-x86_64 -kernel, the reference Multiboot loader, and checks its
# serial output and isa-debug-exit status against what samples/README.md
# promises. It also checks the boot contract in the files themselves: the
# Multiboot header's address fields must describe exactly the ELF64 PT_LOAD
# segment and entry point, because QEMU loads by the header and rrvm by the
# program headers. TAP output; skipped when QEMU is not installed.
set -u

: "${top_builddir:=.}"
S=$top_builddir/samples

if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
	echo "1..0 # SKIP qemu-system-x86_64 not installed"
	exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/qemu_samples.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; }
# check DESC COMMAND...: one TAP line from a command's success
check() { d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }

# run_qemu KERNEL OUTFILE [QEMU ARGS...] < input; sets $status
run_qemu() {
	kernel=$1 out=$2
	shift 2
	timeout 60 qemu-system-x86_64 -kernel "$kernel" -serial stdio \
		-display none -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-accel tcg -no-reboot "$@" >"$out" 2>"$out.err"
	status=$?
}

# same_output EXPECTED ACTUAL: diff them, explaining a mismatch as TAP diag
same_output() {
	if cmp -s "$1" "$2"; then
		return 0
	fi
	diff -u "$1" "$2" | sed 's/^/# /'
	sed 's/^/# stderr: /' "$2.err" 2>/dev/null
	return 1
}

is_status() {
	[ "$status" = "$1" ] && return 0
	echo "# exit status $status, expected $1"
	return 1
}

# ---- boot contract of the files ---------------------------------------

# u32/u64 FILE OFFSET: little-endian unsigned integer at OFFSET
u32() { od -An -tu4 -j "$2" -N 4 "$1" | tr -d ' '; }
u64() { od -An -tu8 -j "$2" -N 8 "$1" | tr -d ' '; }
u16() { od -An -tu2 -j "$2" -N 2 "$1" | tr -d ' '; }
u8() { od -An -tu1 -j "$2" -N 1 "$1" | tr -d ' '; }

# contract KERNEL: prints what is wrong, returns 1 if anything is
contract() {
	f=$1
	if [ ! -f "$f" ]; then
		echo "# $f: missing (run make)"
		return 1
	fi
	# ELF64 (class 2), little-endian, EXEC (2), x86-64 (62).
	if [ "$(u32 "$f" 0)" != 1179403647 ] || [ "$(u8 "$f" 4)" != 2 ] ||
	   [ "$(u16 "$f" 16)" != 2 ] || [ "$(u16 "$f" 18)" != 62 ]; then
		echo "# $f: not an ELF64 x86-64 executable"
		return 1
	fi
	entry=$(u64 "$f" 24)
	phoff=$(u64 "$f" 32)
	phentsize=$(u16 "$f" 54)
	phnum=$(u16 "$f" 56)
	loads=0 i=0
	while [ "$i" -lt "$phnum" ]; do
		ph=$((phoff + i * phentsize))
		if [ "$(u32 "$f" "$ph")" = 1 ]; then
			loads=$((loads + 1))
			p_offset=$(u64 "$f" $((ph + 8)))
			p_vaddr=$(u64 "$f" $((ph + 16)))
			p_filesz=$(u64 "$f" $((ph + 32)))
			p_memsz=$(u64 "$f" $((ph + 40)))
		fi
		i=$((i + 1))
	done
	if [ "$loads" != 1 ]; then
		echo "# $f: $loads PT_LOAD segments, expected 1"
		return 1
	fi
	# The Multiboot header: magic at a 4-aligned offset in the first 8 KiB.
	mb=$(od -An -v -tu4 -N 8192 "$f" |
		awk '{ for (i = 1; i <= NF; i++) { if ($i == 464367618) { print (k * 4); exit } k++ } }')
	if [ -z "$mb" ]; then
		echo "# $f: no Multiboot header in the first 8 KiB"
		return 1
	fi
	flags=$(u32 "$f" $((mb + 4)))
	sum=$(( (464367618 + flags + $(u32 "$f" $((mb + 8)))) % 4294967296 ))
	header_addr=$(u32 "$f" $((mb + 12)))
	load_addr=$(u32 "$f" $((mb + 16)))
	load_end=$(u32 "$f" $((mb + 20)))
	bss_end=$(u32 "$f" $((mb + 24)))
	mb_entry=$(u32 "$f" $((mb + 28)))
	bad=0
	[ "$sum" = 0 ] || { echo "# $f: Multiboot checksum wrong"; bad=1; }
	[ $((flags & 0x10002)) = $((0x10002)) ] ||
		{ echo "# $f: flags $flags lack bit 1 or 16"; bad=1; }
	[ "$load_addr" = 1048576 ] && [ "$p_vaddr" = 1048576 ] ||
		{ echo "# $f: load_addr $load_addr, p_vaddr $p_vaddr, expected 1 MiB"; bad=1; }
	[ $((header_addr - load_addr)) = $((mb - p_offset)) ] ||
		{ echo "# $f: header_addr $header_addr does not match its file offset $mb"; bad=1; }
	[ "$load_end" = $((p_vaddr + p_filesz)) ] ||
		{ echo "# $f: load_end_addr $load_end != p_vaddr + p_filesz"; bad=1; }
	[ "$bss_end" = $((p_vaddr + p_memsz)) ] ||
		{ echo "# $f: bss_end_addr $bss_end != p_vaddr + p_memsz"; bad=1; }
	[ "$mb_entry" = "$entry" ] ||
		{ echo "# $f: entry_addr $mb_entry != e_entry $entry"; bad=1; }
	return $bad
}

for k in hello echo ticks race; do
	check "$k.elf: ELF64 PT_LOAD and Multiboot header agree" contract "$S/$k.elf"
done

# ---- hello ------------------------------------------------------------

run_qemu "$S/hello.elf" "$tmp/hello.out" -append "a b c" </dev/null
# QEMU passes "KERNEL-PATH ARGS" as the Multiboot command line, as GRUB does.
printf 'Hello from rrvm!\ncmdline: %s a b c\n' "$S/hello.elf" >"$tmp/hello.exp"
check "hello: greeting and command line" same_output "$tmp/hello.exp" "$tmp/hello.out"
check "hello: exit status 1 (value 0)" is_status 1

# Crash path: ud2 must reach the exception handler, which names the rip.
run_qemu "$S/hello.elf" "$tmp/crash.out" -append "crash" </dev/null
ud2=$(nm "$S/hello.elf" 2>/dev/null | awk '$3 == "hello_crash_ud2" { print $1 }' |
	sed 's/^0*//')
line=$(grep EXCEPTION "$tmp/crash.out")
check "hello crash: '$line' names vector 6 at hello_crash_ud2 (0x$ud2)" \
	[ -n "$ud2" ] && [ "$line" = "EXCEPTION 6 at rip=0x$ud2 err=0x0" ]
check "hello crash: exit status 255 (value 0x7f)" is_status 255

# ---- echo -------------------------------------------------------------

printf 'hello\nabc Def\r\nMixed Case 123\n\nquit\nnot read\n' >"$tmp/echo.in"
run_qemu "$S/echo.elf" "$tmp/echo.out" <"$tmp/echo.in"
cat >"$tmp/echo.exp" <<'END'
ready: type lines, "quit" ends
echo: HELLO
echo: ABC DEF
echo: MIXED CASE 123
bye: 3 lines
END
check "echo: upper-cased lines, quit" same_output "$tmp/echo.exp" "$tmp/echo.out"
check "echo: exit status 7 (value 3)" is_status 7

# Ctrl-D ends it too, and a partial last line still counts.
printf 'one\ntwo\nthree\004' >"$tmp/eot.in"
run_qemu "$S/echo.elf" "$tmp/eot.out" <"$tmp/eot.in"
printf 'ready: type lines, "quit" ends\necho: ONE\necho: TWO\necho: THREE\nbye: 3 lines\n' >"$tmp/eot.exp"
check "echo: 0x04 ends input" same_output "$tmp/eot.exp" "$tmp/eot.out"
check "echo: exit status 7 after 0x04" is_status 7

# Many lines at once: nothing may be lost while echoing.
i=1
while [ $i -le 120 ]; do
	echo "line $i of a longer input that keeps the uart busy while the guest echoes"
	i=$((i + 1))
done >"$tmp/many.in"
echo quit >>"$tmp/many.in"
run_qemu "$S/echo.elf" "$tmp/many.out" <"$tmp/many.in"
{
	echo 'ready: type lines, "quit" ends'
	sed '$d' "$tmp/many.in" | tr 'a-z' 'A-Z' | sed 's/^/echo: /'
	echo 'bye: 120 lines'
} >"$tmp/many.exp"
check "echo: 120 lines in a burst, none lost" same_output "$tmp/many.exp" "$tmp/many.out"
check "echo: exit status 241 (value 120)" is_status 241

# ---- ticks ------------------------------------------------------------

run_qemu "$S/ticks.elf" "$tmp/ticks.out" </dev/null
cat >"$tmp/ticks.exp" <<'END'
ticks: PIT channel 0 at 100 Hz, divisor 11932
tick 10
tick 20
tick 30
tick 40
tick 50
latch ok
END
check "ticks: 50 timer interrupts and a latched count" same_output "$tmp/ticks.exp" "$tmp/ticks.out"
check "ticks: exit status 85 (value 0x2a)" is_status 85

# ---- race -------------------------------------------------------------

run_qemu "$S/race.elf" "$tmp/race.out" </dev/null
sed 's/^/# /' "$tmp/race.out"
case $status in
1) check "race: status 1 with 'race: ok'" grep -q '^race: ok after [0-9]* operations$' "$tmp/race.out" ;;
7) check "race: status 7 with a PANIC line" grep -q '^PANIC: ' "$tmp/race.out" ;;
*) not_ok "race: exit status $status, expected 1 (ok) or 7 (panic)" ;;
esac

echo "1..$n"
