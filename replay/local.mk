# replay: event log, recorder, replayer.
noinst_LIBRARIES += replay/libreplay.a
replay_libreplay_a_SOURCES =
include $(srcdir)/replay/eventlog.mk
replay_libreplay_a_SOURCES += replay/replay.h replay/sha256.c replay/manifest.c \
	replay/fingerprint.c replay/recorder.c replay/replayer.c

check_PROGRAMS += tests/unit/replay_test
TESTS += tests/unit/replay_test
tests_unit_replay_test_LDADD = replay/libreplay.a vmm/libvmm.a $(LZ4_LIBS)
TESTS += tests/integration/record_replay.sh
EXTRA_DIST += tests/integration/record_replay.sh
bench_scripts += tests/bench/record_replay.sh
EXTRA_DIST += tests/bench/record_replay.sh
# packed recordings: rrvm pack, rrvm replay FILE (format in FORMAT.md).
replay_libreplay_a_SOURCES += replay/pack.c
