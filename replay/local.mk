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

# Recording integrity (issue 14): the manifest's encoding, refusals of what
# a recording cannot hold, FIFOs, two recorders on one directory, full disks
# and SIGKILL at random points of record and index.
check_PROGRAMS += tests/unit/manifest_test
TESTS += tests/unit/manifest_test
tests_unit_manifest_test_LDADD = replay/libreplay.a vmm/libvmm.a $(LZ4_LIBS)
TESTS += tests/integration/record_integrity.sh tests/integration/record_faults.sh
EXTRA_DIST += tests/integration/record_integrity.sh tests/integration/record_faults.sh
bench_scripts += tests/bench/record_replay.sh
EXTRA_DIST += tests/bench/record_replay.sh
