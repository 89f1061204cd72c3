# debug: the debugger core behind gdb (debug/debug.h): one gdb target for a
# live machine and a replay, breakpoints and watchpoints, interrupt-aware
# stepping, monitor commands. cli links it; it uses gdbstub, replay,
# introspect and vmm.
noinst_LIBRARIES += debug/libdebug.a
debug_libdebug_a_SOURCES = \
	debug/debug.h debug/internal.h \
	debug/target.c debug/regs.c debug/bp.c debug/monitor.c debug/ptdiff.c \
	debug/live.c debug/replay.c debug/timeline.c debug/rstep.c debug/rcont.c \
	debug/wp.c debug/tlpolicy.c debug/units.c

# The interrupt-aware step's breakpoint swap (vmm), without KVM.
check_PROGRAMS += tests/unit/debug_step_test
TESTS += tests/unit/debug_step_test
tests_unit_debug_step_test_LDADD = vmm/libvmm.a

# Integration tests against the real gdb, and the gdb benchmark.
TESTS += tests/integration/gdb_live.sh tests/integration/gdb_replay.sh tests/integration/gdb_reverse.sh \
	tests/integration/gdb_timeline.sh
# A recording where the old, searched reverse-stepi landed elsewhere.
EXTRA_DIST += tests/data/rstep-race/manifest tests/data/rstep-race/kernel \
	tests/data/rstep-race/events.lz4
EXTRA_DIST += tests/integration/gdb_live.sh tests/integration/gdb_replay.sh tests/integration/gdb_reverse.sh \
	tests/integration/gdb_timeline.sh

bench_scripts += tests/bench/gdb_bench.sh tests/bench/reverse_bench.sh
EXTRA_DIST += tests/bench/gdb_bench.sh tests/bench/reverse_bench.sh

# The debugger core as a kernel developer meets it (gdb_lib.sh: helpers).
TESTS += tests/integration/gdb_core.sh
EXTRA_DIST += tests/integration/gdb_core.sh tests/integration/gdb_lib.sh

# Write watchpoints kept by write-protected pages (debug/wp.c), and the
# flagship story: watch -l a lost balance, reverse-continue to the racing
# store (the story's loop is gdb_flagship.py, a gdb Python script).
TESTS += tests/integration/gdb_flagship.sh tests/integration/gdb_watch.sh \
	tests/integration/gdb_exit_boundary.sh
bench_scripts += tests/bench/watch_bench.sh
EXTRA_DIST += tests/bench/watch_bench.sh
EXTRA_DIST += tests/integration/gdb_flagship.sh tests/integration/gdb_flagship.py \
	tests/integration/gdb_watch.sh tests/integration/gdb_exit_boundary.sh

# The timeline's eviction policy and the page store under a memory bound,
# without KVM.
check_PROGRAMS += tests/unit/tlpolicy_test
TESTS += tests/unit/tlpolicy_test
tests_unit_tlpolicy_test_LDADD = debug/libdebug.a vmm/libvmm.a
