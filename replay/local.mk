# replay: event log, recorder, replayer.
noinst_LIBRARIES += replay/libreplay.a
replay_libreplay_a_SOURCES =
include $(srcdir)/replay/eventlog.mk
replay_libreplay_a_SOURCES += replay/replay.h replay/sha256.c replay/manifest.c \
	replay/fingerprint.c replay/recorder.c replay/internal.h replay/replayer.c \
	replay/lookahead.c replay/replaystate.c replay/replayopen.c \
	replay/stride.c replay/fastsearch.c \
	replay/position.c

check_PROGRAMS += tests/unit/replay_test
TESTS += tests/unit/replay_test
tests_unit_replay_test_LDADD = replay/libreplay.a vmm/libvmm.a $(LZ4_LIBS)
check_PROGRAMS += tests/unit/replayer_test
TESTS += tests/unit/replayer_test
tests_unit_replayer_test_SOURCES = tests/unit/replayer_test.c tests/unit/replay_fake.h \
	tests/unit/child_run.h
tests_unit_replayer_test_LDADD = replay/libreplay.a vmm/libvmm.a $(LZ4_LIBS)
TESTS += tests/integration/record_replay.sh
EXTRA_DIST += tests/integration/record_replay.sh
EXTRA_DIST += tests/data/v1-race/manifest tests/data/v1-race/kernel tests/data/v1-race/events.lz4
EXTRA_DIST += tests/data/log1-race/manifest tests/data/log1-race/kernel \
	tests/data/log1-race/events.lz4 tests/data/log1-race.out \
	tests/data/log2-race/manifest tests/data/log2-race/kernel \
	tests/data/log2-race/events.lz4 tests/data/log2-race.out

# Recording integrity (issue 14): the manifest's encoding, refusals of what
# a recording cannot hold, FIFOs, two recorders on one directory, full disks
# and SIGKILL at random points of record and index.
check_PROGRAMS += tests/unit/manifest_test
TESTS += tests/unit/manifest_test
tests_unit_manifest_test_LDADD = replay/libreplay.a vmm/libvmm.a $(LZ4_LIBS)
TESTS += tests/integration/record_integrity.sh tests/integration/record_faults.sh
EXTRA_DIST += tests/integration/record_integrity.sh tests/integration/record_faults.sh
bench_scripts += tests/bench/record_replay.sh
EXTRA_DIST += tests/bench/record_replay.sh tests/bench/lib.sh

# replaystate: the replayer's saved state checked on a real recording.
noinst_PROGRAMS += tests/tools/replaystate
tests_tools_replaystate_SOURCES = tests/tools/replaystate.c
tests_tools_replaystate_LDADD = replay/libreplay.a vmm/libvmm.a $(LZ4_LIBS)
# packed recordings: rrvm pack, rrvm replay FILE (format in FORMAT.md).
replay_libreplay_a_SOURCES += replay/pack.c
