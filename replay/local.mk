# replay: event log, recorder, replayer.
noinst_LIBRARIES += replay/libreplay.a
replay_libreplay_a_SOURCES =
include $(srcdir)/replay/eventlog.mk
