# tests/fuzz: libFuzzer targets, built with clang by `make fuzz` (never part
# of `make all`: they need -fsanitize=fuzzer). Each target is compiled in one
# clang command from its own .c and the library sources it exercises, with
# ASan and UBSan. `make check` runs each for FUZZ_CHECK_RUNS executions over
# its corpus (tests/fuzz/run.sh; skipped, saying why, without clang's
# libFuzzer runtime); long runs are by hand, see tests/fuzz/README.md.
# The rules use GNU make functions (the source lists come from the
# libraries' own _SOURCES), which automake's portability check refuses, so
# they live in fuzz.gmk, read by make only.
FUZZ_CC = clang
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I$(top_srcdir) -I$(top_builddir) $(LZ4_CFLAGS)
-include $(top_srcdir)/tests/fuzz/fuzz.gmk

TESTS += tests/fuzz/run.sh
EXTRA_DIST += tests/fuzz/run.sh tests/fuzz/README.md tests/fuzz/manifest_fuzz.c \
	tests/fuzz/multiboot_fuzz.c tests/fuzz/devices_fuzz.c tests/fuzz/gdb_fuzz.c \
	tests/fuzz/pagetable_fuzz.c tests/fuzz/symbols_fuzz.c tests/fuzz/corpus \
	tests/fuzz/fuzz.gmk
