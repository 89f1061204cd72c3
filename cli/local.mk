# cli: the rrvm program.
bin_PROGRAMS += cli/rrvm
cli_rrvm_SOURCES = cli/cli.h cli/guest.h cli/main.c cli/options.c cli/guest.c \
	cli/cmd_run.c cli/cmd_doctor.c cli/cmd_record.c cli/cmd_replay.c cli/record_run.c cli/cmd_capture.c \
	cli/cmd_index.c cli/cmd_query.c cli/cmd_shell.c \
	cli/index_units.c
cli_rrvm_LDADD = debug/libdebug.a tracedb/libtracedb.a replay/libreplay.a gdbstub/libgdbstub.a introspect/libintrospect.a \
	vmm/libvmm.a $(LZ4_LIBS) $(SQLITE_LIBS) $(LIBEDIT_LIBS)
# capture --jobs, report.html, summary, JSON; rrvm report; rrvm pack.
cli_rrvm_SOURCES += cli/capture.h cli/capture_jobs.c cli/capture_out.c cli/outfile.c \
	cli/cmd_report.c cli/cmd_pack.c
TESTS += tests/integration/capture.sh tests/integration/report.sh
EXTRA_DIST += tests/integration/capture.sh tests/integration/report.sh
CLEANFILES += tests/integration/report-race.png tests/integration/report-ioheavy.png
bench_scripts += tests/bench/capture.sh
EXTRA_DIST += tests/bench/capture.sh
