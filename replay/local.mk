# replay: event log, recorder, replayer.
noinst_LIBRARIES += replay/libreplay.a
replay_libreplay_a_SOURCES =
include $(srcdir)/replay/eventlog.mk
replay_libreplay_a_SOURCES += replay/replay.h replay/sha256.c replay/manifest.c \
	replay/fingerprint.c replay/recorder.c replay/replayer.c
