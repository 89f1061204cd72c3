#!/bin/sh
# introspect view benchmark on a live guest: samples/paging.elf with "big"
# maps 1 GiB in 4K pages (262144 PTEs) at 0x8000000000 and stops at stage 4;
# ptview then times translations through the view (what gdb's memory
# accesses cost) and a full `pt` with a cold and a warm shadow. Figures only;
# compare them with the fake-RAM figures of introspect.sh in the same run.
# Needs /dev/kvm (skipped without it). Run by `make bench`.
b=${top_builddir:-.}
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "introspect_view.sh: SKIP, /dev/kvm is not usable here"
	exit 0
fi
for f in "$b/tests/tools/ptview" "$b/samples/paging.elf"; do
	if [ ! -e "$f" ]; then
		echo "introspect_view.sh: $f not built (run make first)" >&2
		exit 1
	fi
done
echo "introspect view (live guest, paging.elf big: 1 GiB in 4K pages)"
"$b/tests/tools/ptview" -s 4 -b 0x8000000000:0x40000000 -c 'pt 0x8000000000' \
	"$b/samples/paging.elf" big 2>/dev/null | grep -v '^=== \|^--- '
