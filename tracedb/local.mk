# tracedb: the trace database (schema and insertion layer, the indexer that
# replays a recording into DIR/trace.db, and the query layer).
noinst_LIBRARIES += tracedb/libtracedb.a
tracedb_libtracedb_a_SOURCES = tracedb/tracedb.h tracedb/internal.h \
	tracedb/schema.c tracedb/writer.c tracedb/observe.c tracedb/indexer.c \
	tracedb/query.c

tracedb_test_libs = tracedb/libtracedb.a replay/libreplay.a introspect/libintrospect.a \
	vmm/libvmm.a $(LZ4_LIBS) $(SQLITE_LIBS)

check_PROGRAMS += tests/unit/tracedb_writer_test tests/unit/tracedb_query_test \
	tests/unit/tracedb_observe_test tests/unit/tracedb_memory_test
TESTS += tests/unit/tracedb_writer_test tests/unit/tracedb_query_test \
	tests/unit/tracedb_observe_test tests/unit/tracedb_memory_test
tests_unit_tracedb_writer_test_LDADD = $(tracedb_test_libs)
tests_unit_tracedb_query_test_LDADD = $(tracedb_test_libs)
tests_unit_tracedb_observe_test_LDADD = $(tracedb_test_libs)
tests_unit_tracedb_memory_test_LDADD = $(tracedb_test_libs)

TESTS += tests/integration/tracedb.sh tests/integration/tracedb_robust.sh \
	tests/integration/tracedb_pos.sh
EXTRA_DIST += tests/integration/tracedb.sh tests/integration/tracedb_robust.sh \
	tests/integration/tracedb_pos.sh \
	tests/integration/tracedb_lib.sh

noinst_PROGRAMS += tests/bench/tracedb_bench
tests_bench_tracedb_bench_LDADD = $(tracedb_test_libs)
bench_scripts += tests/bench/tracedb.sh
EXTRA_DIST += tests/bench/tracedb.sh

# report.html of a recording (rrvm report, rrvm capture).
tracedb_libtracedb_a_SOURCES += tracedb/report.c tracedb/report_svg.c
check_PROGRAMS += tests/unit/tracedb_report_test
TESTS += tests/unit/tracedb_report_test
tests_unit_tracedb_report_test_LDADD = $(tracedb_test_libs)
