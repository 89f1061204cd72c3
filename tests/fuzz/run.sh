#!/bin/sh
# run.sh — make check's short run of every libFuzzer target: builds them
# (make fuzz, clang) and runs each for FUZZ_CHECK_RUNS executions over its
# corpus in tests/fuzz/corpus/NAME, so that a crash on a corpus file or
# soon after shows up as a failure. Skipped, saying why, when clang or its
# libFuzzer runtime is missing. Long runs: tests/fuzz/README.md.
. "$top_srcdir/tests/integration/lib.sh"

runs=${FUZZ_CHECK_RUNS:-2000}
cc=${FUZZ_CC:-clang}
probe=$scratch/probe.c
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }' >"$probe"
if ! command -v "$cc" >/dev/null 2>&1; then
	echo "1..0 # SKIP $cc not found: install clang (scripts/setup.sh) to fuzz"
	exit 0
fi
if ! "$cc" -fsanitize=fuzzer,address -o "$scratch/probe" "$probe" >"$scratch/probe.err" 2>&1; then
	echo "1..0 # SKIP $cc cannot link -fsanitize=fuzzer (no libFuzzer runtime: install libclang-rt-dev / clang)"
	exit 0
fi

if ${MAKE:-make} -s -C "$top_builddir" fuzz >"$scratch/build.log" 2>&1; then
	ok "make fuzz builds every target"
else
	not_ok "make fuzz builds every target"
	sed 's/^/# /' "$scratch/build.log" | tail -40
	tap_end
	exit 1
fi

for t in eventlog manifest multiboot gdb pagetable symbols devices; do
	bin=$top_builddir/tests/fuzz/${t}_fuzz
	corpus=$top_srcdir/tests/fuzz/corpus/$t
	mkdir -p "$scratch/$t"
	# New inputs go to the scratch directory, never into the source corpus.
	if "$bin" -runs="$runs" -seed=1 -max_len=65536 -timeout=60 -rss_limit_mb=2048 \
		-artifact_prefix="$top_builddir/tests/fuzz/$t-" \
		"$scratch/$t" "$corpus" >"$scratch/$t.log" 2>&1; then
		ok "$t: $runs executions over $(ls "$corpus" 2>/dev/null | wc -l) corpus files, no crash"
	else
		not_ok "$t: $runs executions over its corpus, no crash"
		grep -v '^#\|^INFO\|NEW\|REDUCE\|pulse' "$scratch/$t.log" | tail -40 | sed 's/^/# /'
	fi
done
tap_end
