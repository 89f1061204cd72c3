# cli/gdb.mk — rrvm's gdb targets (`run --gdb`, `replay --gdb`), their
# integration tests against the real gdb, and the gdb benchmark.
cli_rrvm_SOURCES += cli/gdb_common.h cli/gdb_common.c cli/gdb_bp.c cli/gdb_probe.c \
	cli/gdb_live.c cli/gdb_replay.c

TESTS += tests/integration/gdb_live.sh tests/integration/gdb_replay.sh
EXTRA_DIST += tests/integration/gdb_live.sh tests/integration/gdb_replay.sh

bench_scripts += tests/bench/gdb_bench.sh
EXTRA_DIST += tests/bench/gdb_bench.sh
