# replay event log: encoding, LZ4 frame file, tests.
replay_libreplay_a_SOURCES += \
	replay/eventlog.h \
	replay/eventlog_codec.h \
	replay/eventlog.c \
	replay/eventtext.c \
	replay/logwriter.c \
	replay/logreader.c
EXTRA_DIST += replay/FORMAT.md tests/fuzz/eventlog_fuzz.c

# logtool: dump a log as text, build a log from text (tests and debugging).
noinst_PROGRAMS += tests/tools/logtool
tests_tools_logtool_SOURCES = tests/tools/logtool.c
tests_tools_logtool_LDADD = replay/libreplay.a $(LZ4_LIBS)

check_PROGRAMS += tests/unit/eventlog_test
TESTS += tests/unit/eventlog_test
tests_unit_eventlog_test_SOURCES = tests/unit/eventlog_test.c
tests_unit_eventlog_test_LDADD = replay/libreplay.a $(LZ4_LIBS)
check_PROGRAMS += tests/unit/eventlog_seek_test
TESTS += tests/unit/eventlog_seek_test
tests_unit_eventlog_seek_test_SOURCES = tests/unit/eventlog_seek_test.c
tests_unit_eventlog_seek_test_LDADD = replay/libreplay.a $(LZ4_LIBS)

# libFuzzer target for the reader: built by `make fuzz` (tests/fuzz/local.mk).
eventlog_fuzz_sources = $(srcdir)/tests/fuzz/eventlog_fuzz.c $(srcdir)/replay/eventlog.c \
	$(srcdir)/replay/eventtext.c $(srcdir)/replay/logwriter.c $(srcdir)/replay/logreader.c
tests/fuzz/eventlog_fuzz: $(eventlog_fuzz_sources) $(srcdir)/replay/eventlog.h $(srcdir)/replay/eventlog_codec.h
	@mkdir -p tests/fuzz
	$(FUZZ_CC) $(FUZZ_CFLAGS) \
		-o $@ $(eventlog_fuzz_sources) $(LZ4_LIBS)
CLEANFILES += tests/fuzz/eventlog_fuzz
