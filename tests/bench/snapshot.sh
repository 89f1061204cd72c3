#!/bin/sh
# Machine snapshot benchmark: save and restore time, ioctls and bytes, full
# and incremental, median of 5, and page-store dedup, on race.elf and
# paging.elf (needs /dev/kvm). Run by `make bench`.
bin="${top_builddir:-.}/tests/bench/snapshot_bench"
samples="${top_builddir:-.}/samples"
if [ ! -x "$bin" ]; then
	echo "snapshot.sh: $bin not built (run make first)" >&2
	exit 1
fi
if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "snapshot.sh: SKIP: needs /dev/kvm"
	exit 0
fi
echo "machine snapshots (deterministic driver: 20 us of guest time per exit)"
# race.elf ends after about 620 exits under this driver, paging.elf after
# about 7100: the points are spread over each run.
nice "$bin" "$samples/race.elf" 150 150 || exit 1
nice "$bin" "$samples/paging.elf" 1500 2000 || exit 1
