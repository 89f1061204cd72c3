#!/bin/sh
# introspect view benchmark on a live guest: samples/paging.elf with "big"
# maps 1 GiB in 4K pages (262144 PTEs) at 0x8000000000 and stops at stage 4;
# ptview then times translations through the view (what gdb's memory
# accesses cost) and a full `pt` with a cold and a warm shadow. Figures only;
# compare them with the fake-RAM figures of introspect.sh in the same run.
# Needs /dev/kvm (skipped without it). Run by `make bench`.
b=${top_builddir:-.}
. "$(dirname "$0")/lib.sh"
bench_skip_unless introspect_view kvm
bench_skip_unless introspect_view built "$b/tests/tools/ptview" "$b/samples/paging.elf"
echo "introspect view (live guest, paging.elf big: 1 GiB in 4K pages)"
"$b/tests/tools/ptview" -s 4 -b 0x8000000000:0x40000000 -c 'pt 0x8000000000' \
	"$b/samples/paging.elf" big 2>/dev/null | grep -v '^=== \|^--- '
