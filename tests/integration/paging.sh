#!/bin/sh
# paging.sh - rrvm's introspection end to end on a real guest: samples/
# paging.elf builds its own page tables in stages and prints its account of
# them on the debug console; tests/tools/ptview stops the guest at each
# stage and runs the view's commands. Checks, per stage: `pt` equals the
# guest's account; `translate` agrees with the guest's probes (mapped
# addresses, the guard page, the alias, unmapped levels); on a recording,
# `pt-diff` between stages equals the changes the guest says it made; idt,
# gdt, tss and cr name what the guest set up (symbols from its ELF); the
# shadow re-reads only changed tables; race.elf shows the runtime's
# identity map; under QEMU the guest gives the same account; and through
# the real gdb on `rrvm run --gdb`, monitor pt and translate and x/gx on
# virtual addresses (skipped while rrvm has no gdb stub). TAP; skipped
# without /dev/kvm.
set -u

: "${top_builddir:=.}"
. "${top_srcdir:-.}/tests/integration/wait.sh"
K=$top_builddir/samples/paging.elf
RACE=$top_builddir/samples/race.elf
PTV=$top_builddir/tests/tools/ptview
RRVM=$top_builddir/cli/rrvm

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "1..0 # SKIP /dev/kvm is not usable here"
	exit 0
fi
for f in "$K" "$RACE" "$PTV" "$RRVM"; do
	if [ ! -e "$f" ]; then
		echo "1..0 # SKIP $f not built"
		exit 0
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/paging.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }

# same EXPECTED ACTUAL: equal files, else the difference as TAP comments
same() {
	if [ -s "$1" ] && cmp -s "$1" "$2"; then
		return 0
	fi
	echo "# expected (guest) vs actual (rrvm):"
	diff -u "$1" "$2" | sed 's/^/# /'
	return 1
}

# has FILE PATTERN: a line matching the fixed string, else show the file
has() {
	grep -qF -- "$2" "$1" && return 0
	echo "# no line with: $2"
	sed 's/^/# | /' "$1"
	return 1
}

# The guest's account of stage N: the list, as `pt --no-ad` prints it.
acct_list() {
	awk -v a="paging: stage $2 account" -v c="paging: stage $2 changes" \
		-v e="paging: stage $2 end" \
		'$0 == a { f = 1; next } $0 == c || $0 == e { f = 0 } f { sub(/^map /, ""); print }' "$1"
}
# ... its changes since stage N-1, as pt-diff prints them.
acct_changes() {
	awk -v c="paging: stage $2 changes" -v e="paging: stage $2 end" \
		'$0 == c { f = 1; next } $0 == e { f = 0 } f { sub(/^diff /, ""); print }' "$1"
}
# ... its probes before stage N's account: "probe VA -> PA" or
# "probe VA not present at LEVEL".
acct_probes() {
	awk -v p="paging: stage $(($2 - 1)) end" -v a="paging: stage $2 account" -v n="$2" \
		'BEGIN { f = (n == 0) } $0 == p { f = 1; next } $0 == a { f = 0 } f && /^probe / { print }' "$1"
}
# ptview's output of command C at stage N (STAGE "end" for -E).
view_out() {
	awk -v s="$2" -v c="--- $3" '
		/^=== / { in_s = (s == "end") ? ($2 == "end") : ($2 == "stage" && $3 == s) }
		/^(---|===) / { f = 0 }
		in_s && $0 == c { f = 1; next }
		f { print }' "$1"
}
# The pt text without the part only rrvm knows (entries read).
no_entries() { sed 's/, [0-9]* entries read)$//'; }
sym() { nm "$K" | awk -v s="$1" '$3 == s { print $1 }' | sed 's/^0*//'; }

# ---- pass 1: lists and descriptor views at every stage ---------------------

"$PTV" -d "$tmp/acct" -c 'pt --no-ad' -c idt -c gdt -c tss -c cr -c shadow "$K" \
	>"$tmp/view" 2>"$tmp/serial"
check "ptview ran paging.elf to its end (status 1)" has "$tmp/view" "=== end guest-exit status 1 "
check "the guest's own checks passed (alias, split)" \
	sh -c "grep -q '^paging: alias check ok\$' '$tmp/acct' && ! grep -q FAILED '$tmp/acct'"
stages=$(grep -c '^paging: stage [0-9]* end$' "$tmp/acct")
check "the guest went through stages 0-3 ($stages)" [ "$stages" -ge 4 ]

for s in 0 1 2 3; do
	acct_list "$tmp/acct" $s >"$tmp/want.$s"
	view_out "$tmp/view" $s 'pt --no-ad' | no_entries >"$tmp/got.$s"
	check "stage $s: pt equals the guest's account ($(grep -c . "$tmp/want.$s") lines)" \
		same "$tmp/want.$s" "$tmp/got.$s"
done

# ---- pass 2: translate every address the guest probed ----------------------

cmds=$(awk '/^probe / { print $2 }' "$tmp/acct" | sort -u)
set --
for va in $cmds; do set -- "$@" -c "translate $va"; done
"$PTV" "$@" -c 'pt --raw 0x500000000' -c 'pt 0x400009abc' "$K" >"$tmp/view2" 2>/dev/null
for s in 0 1 2 3; do
	acct_probes "$tmp/acct" $s >"$tmp/probes.$s"
	bad=0
	while read -r _ va what rest; do
		out=$(view_out "$tmp/view2" $s "translate $va")
		if [ "$what" = "->" ]; then
			case "$out" in
			"$va -> $rest ("*) ;;
			*) bad=1; echo "# stage $s: translate $va: '$out', guest says -> $rest" ;;
			esac
		else
			[ "$out" = "$va: $what $rest" ] ||
				{ bad=1; echo "# stage $s: translate $va: '$out', guest says $what $rest"; }
		fi
	done <"$tmp/probes.$s"
	check "stage $s: translate agrees with the guest's $(grep -c . "$tmp/probes.$s") probes" \
		[ $bad = 0 -a -s "$tmp/probes.$s" ]
done
a=$(view_out "$tmp/view2" 1 "translate 0x500000123" | awk '{ print $3 }')
b=$(view_out "$tmp/view2" 1 "translate 0x500200123" | awk '{ print $3 }')
check "stage 1: the alias: two virtual pages, one physical page ($a)" [ -n "$a" -a "$a" = "$b" ]
check "stage 1: the guard page is not present at its PTE" \
	[ "$(view_out "$tmp/view2" 1 'translate 0x400008000')" = "0x400008000: not present at PTE" ]
view_out "$tmp/view2" 1 'pt --raw 0x500000000' >"$tmp/raw"
check "pt --raw: PML4E, PDPTE, PDE and PTE, then the page" \
	sh -c "grep -c '^  \(PML4E\|PDPTE\|PDE  \|PTE  \)\[' '$tmp/raw' | grep -qx 4 &&
	       grep -q '=> 0x500000000 -> 0x900000 ' '$tmp/raw'"
check "pt VA: the range holding VA, with its flags (stage 2: read-only user page)" \
	[ "$(view_out "$tmp/view2" 2 'pt 0x400009abc')" = \
	  "0000000400009000-0000000400009fff -> 0000000000809000      4K 4K r-- u" ]

# ---- descriptors and control registers (stage 1) ---------------------------

view_out "$tmp/view" 1 idt >"$tmp/idt"
check "idt: the page-fault gate (14) goes to isr_stub_14 at its ELF address" \
	has "$tmp/idt" " 14 #PF  int64   0x0008:0x$(sym isr_stub_14) dpl=0 <isr_stub_14>"
check "idt: the double-fault gate (8) runs on IST1" has "$tmp/idt" "  8 #DF  int64   0x0008:0x$(sym isr_stub_8) ist=1 dpl=0 <isr_stub_8>"
check "idt: all 48 gates present and symbolised" \
	sh -c "[ \$(grep -c '<isr_stub_[0-9]*>\$' '$tmp/idt') = 48 ] && grep -q '^48 of 256 gates present\$' '$tmp/idt'"
view_out "$tmp/view" 1 gdt >"$tmp/gdt"
check "gdt: 64-bit code at 0x08, the busy TSS at 0x18, TR loaded" \
	sh -c "grep -q '^0x0008 code64 .* L ' '$tmp/gdt' && grep -q '^0x0018 tss64-busy  base=0x$(sym tss) limit=0x67 ' '$tmp/gdt' &&
	       grep -q 'tr=0x18 ' '$tmp/gdt'"
view_out "$tmp/view" 1 tss >"$tmp/tss"
rsp0=$(printf '%x' $((0x$(sym paging_rsp0_stack) + 4096)))
ist1=$(printf '%x' $((0x$(sym paging_ist1_stack) + 4096)))
check "tss: RSP0 is the top of paging_rsp0_stack" has "$tmp/tss" "rsp0=0x$rsp0 <paging_rsp0_stack+0x1000>"
check "tss: IST1 is the top of paging_ist1_stack" has "$tmp/tss" "ist1=0x$ist1 <paging_ist1_stack+0x1000>"
view_out "$tmp/view" 1 cr >"$tmp/cr"
check "cr: 4-level paging, LME/LMA, CR3 at the guest's first table (0x400000)" \
	sh -c "grep -q '^paging: 4-level' '$tmp/cr' && grep -q '^efer=.* LME LMA' '$tmp/cr' &&
	       grep -q '^cr3=0x400000 base=0x400000' '$tmp/cr' && grep -q '^cr0=0x.* PE .*PG' '$tmp/cr'"
view_out "$tmp/view" 0 cr >"$tmp/cr0"
check "cr at stage 0: CR3 is boot.S's boot_pml4" has "$tmp/cr0" "cr3=0x$(sym boot_pml4) "
fills() { view_out "$tmp/view" "$1" shadow | sed -n 's/.* \([0-9]*\) page fills.*/\1/p'; }
cached=$(view_out "$tmp/view" 3 shadow | sed -n 's/^shadow: \([0-9]*\) page-table pages cached.*/\1/p')
f2=$(fills 2) f3=$(fills 3)
check "shadow: stage 3 re-read $((f3 - f2)) changed table page(s) of $cached cached" \
	[ -n "$f2" -a -n "$f3" -a "$((f3 - f2))" -ge 1 -a "$((f3 - f2))" -lt "$cached" ]

# ---- pt-diff on a recording --------------------------------------------------

"$RRVM" record -q -o "$tmp/rec" "$K" >/dev/null 2>"$tmp/rec.err"
check "rrvm record paging.elf (status 1)" [ $? = 1 ]
"$PTV" --stages "$tmp/rec" >"$tmp/stages" 2>"$tmp/stages.err"
sed -n 's/^=== stage \([0-9]*\) exits \([0-9]*\)$/stage \1 exits \2/p' "$tmp/view" >"$tmp/live_stages"
check "the recording's stage positions equal the live run's" \
	sh -c "grep '^stage' '$tmp/stages' | cmp -s - '$tmp/live_stages'"
pos() { awk -v s="$1" '$1 == "stage" && $2 == s { print $4 }' "$tmp/stages"; }
for s in 1 2 3; do
	acct_changes "$tmp/acct" $s >"$tmp/dwant.$s"
	"$PTV" --ptdiff "$tmp/rec" "$(pos $((s - 1))) $(pos $s)" >"$tmp/dout.$s"
	sed -n '/^(accessed\/dirty bits ignored/,$p' "$tmp/dout.$s" | sed '1d;/^rc=/d' >"$tmp/dgot.$s"
	check "pt-diff stage $((s - 1)) -> $s equals the guest's changes ($(head -1 "$tmp/dwant.$s"))" \
		sh -c "grep -qx 'rc=0' '$tmp/dout.$s' && cmp -s '$tmp/dwant.$s' '$tmp/dgot.$s' ||
		       { diff -u '$tmp/dwant.$s' '$tmp/dgot.$s' | sed 's/^/# /'; false; }"
done
"$PTV" --ptdiff "$tmp/rec" "$(pos 2) $(pos 1)" >"$tmp/drev"
check "pt-diff backwards shows the stage 1 -> 2 changes undone" \
	sh -c "grep -q '^+ 0000000400005000-0000000400005fff -> 0000000000805000 ' '$tmp/drev' &&
	       grep -q '^- 0000000700400000-00000007005fffff ' '$tmp/drev'"
"$PTV" --ptdiff "$tmp/rec" "1 999999999" >"$tmp/dend"
check "pt-diff past the end of the recording: an error naming the end" \
	sh -c "grep -q 'position 999999999 is past the end of the recording (it ends at exit ' '$tmp/dend' &&
	       grep -qx 'rc=-34' '$tmp/dend'"
"$PTV" --ptdiff "$tmp/rec" "1 two" >"$tmp/dbad"
check "pt-diff with a bad position: usage error" \
	sh -c "grep -q \"bad position 'two'\" '$tmp/dbad' && grep -qx 'rc=-22' '$tmp/dbad'"
"$PTV" --ptdiff "$tmp/no-such-recording" "1 2" >"$tmp/dnone"
check "pt-diff on a missing recording: an error naming it" \
	sh -c "grep -q 'no-such-recording' '$tmp/dnone' && grep -qx 'rc=-2' '$tmp/dnone'"

# ---- race.elf: the runtime's own identity map --------------------------------

"$PTV" -t 60 -E -s 999 -c 'pt --no-ad' -c 'translate account_transfer_fast' "$RACE" >"$tmp/race" 2>/dev/null
view_out "$tmp/race" end 'pt --no-ad' | no_entries >"$tmp/race_pt"
printf '%s\n' "4-level paging, 1 range" \
	"0000000000000000-000000003fffffff -> 0000000000000000      1G 2M rwx s" \
	"mapped: 1G in 2M pages, total 1G (512 pages" >"$tmp/race_want"
check "race.elf: pt shows boot.S's 1 GiB identity map in 2M pages" same "$tmp/race_want" "$tmp/race_pt"
addr=$(nm "$RACE" | awk '$3 == "account_transfer_fast" { print $1 }' | sed 's/^0*//')
check "race.elf: translate SYMBOL is the identity" \
	has "$tmp/race" "0x$addr -> 0x$addr (2M page 0x0 at 0x0, rwx s"

# ---- the same views through the real gdb (rrvm run --gdb) -------------------

gdb_views() {
	sock=$tmp/gdb.sock
	"$RRVM" run -q --timeout 120 --gdb="unix:$sock" "$K" >/dev/null 2>"$tmp/gdb.rrvm" &
	rpid=$!
	wait_until 120 sh -c "[ -S '$sock' ] || ! kill -0 $rpid 2>/dev/null"
	# -ex, not a command file: gdb stops a file at its first error, and
	# reading the guard page is meant to fail.
	set -- -ex "set pagination off" -ex "set confirm off" -ex "target remote $sock" \
		-ex "break paging_stage_reached"
	for s in 0 1 2 3; do
		set -- "$@" -ex continue -ex 'printf "=== stage %d\n", stage' \
			-ex "monitor pt --no-ad" \
			-ex 'echo --- translate\n' -ex "monitor translate 0x400008000" \
			-ex 'echo --- x alias\n' -ex "x/gx 0x500200000" \
			-ex 'echo --- x guard\n' -ex "x/gx 0x400008000" -ex 'echo --- end\n'
	done
	timeout 120 gdb -q -batch -nx "$@" -ex kill "$K" >"$tmp/gdb.out" 2>&1
	kill $rpid 2>/dev/null
	wait $rpid 2>/dev/null
}
# gdb_part STAGE MARK: gdb's output at STAGE after "--- MARK" (or the
# monitor pt output with MARK "pt") up to the next marker.
gdb_part() {
	awk -v s="=== stage $1" -v m="$2" '
		/^=== stage / { in_s = ($0 == s); f = in_s && m == "pt"; next }
		/^--- / { f = in_s && $0 == "--- " m; next }
		f { print }' "$tmp/gdb.out"
}

if ! command -v gdb >/dev/null 2>&1; then
	ok "# SKIP gdb not installed"
else
	gdb_views
	if ! grep -q '^=== stage 0$' "$tmp/gdb.out"; then
		ok "# SKIP rrvm run --gdb did not stop at paging_stage_reached: $(head -c 200 "$tmp/gdb.rrvm" | tr '\n' ' ')"
	else
		bad=0
		for s in 0 1 2 3; do
			gdb_part $s pt | no_entries >"$tmp/gdb_pt.$s"
			cmp -s "$tmp/want.$s" "$tmp/gdb_pt.$s" ||
				{ bad=1; diff -u "$tmp/want.$s" "$tmp/gdb_pt.$s" | sed 's/^/# /'; }
		done
		check "gdb: monitor pt at each breakpoint on paging_stage_reached equals the guest's account" [ $bad = 0 ]
		check "gdb: monitor translate names the guard page's PTE (stage 1)" \
			[ "$(gdb_part 1 translate)" = "0x400008000: not present at PTE" ]
		check "gdb: x/gx through the alias reads what the guest wrote through its twin" \
			sh -c "printf '%s\n' \"$(gdb_part 1 'x alias')\" | grep -q '^0x500200000:[[:space:]]*0x05ca1ab1e0ddba11\$'"
		check "gdb: x/gx on the guard page: cannot access memory" \
			sh -c "printf '%s\n' \"$(gdb_part 1 'x guard')\" | grep -q 'Cannot access memory at address 0x400008000'"
		check "gdb: after stage 2 retargets the alias, x/gx reads the other frame" \
			sh -c "printf '%s\n' \"$(gdb_part 2 'x alias')\" | grep -q '^0x500200000:[[:space:]]*0x0*\$'"
	fi
fi

# ---- the same account under QEMU --------------------------------------------

if command -v qemu-system-x86_64 >/dev/null 2>&1; then
	qemu() {
		f=$1
		shift
		timeout 60 qemu-system-x86_64 -kernel "$K" -debugcon "file:$f" -serial null \
			-display none -device isa-debug-exit,iobase=0xf4,iosize=0x04 -accel tcg "$@"
	}
	qemu "$tmp/q_acct" >/dev/null 2>&1
	check "QEMU: paging.elf exits with status 1" [ $? = 1 ]
	if [ "$(grep '1G pages' "$tmp/q_acct")" = "$(grep '1G pages' "$tmp/acct")" ]; then
		check "QEMU: the guest's account is the same as under rrvm" same "$tmp/acct" "$tmp/q_acct"
	else
		ok "# SKIP QEMU's CPU and rrvm's differ in 1G-page support: accounts differ by design"
	fi
	qemu "$tmp/q_max" -cpu max >/dev/null 2>&1
	check "QEMU -cpu max: 1G pages used for the direct map" \
		sh -c "grep -q '^paging: 1G pages available' '$tmp/q_max' &&
		       grep -q '^map ffff888000000000-ffff88803fffffff -> 0000000000000000      1G 1G ' '$tmp/q_max'"
else
	ok "# SKIP qemu-system-x86_64 not installed"
	ok "# SKIP qemu-system-x86_64 not installed"
fi

echo "1..$n"
