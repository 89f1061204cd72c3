# cli: the rrvm program.
bin_PROGRAMS += cli/rrvm
cli_rrvm_SOURCES = cli/cli.h cli/guest.h cli/main.c cli/options.c cli/guest.c \
	cli/cmd_run.c cli/cmd_doctor.c cli/cmd_record.c cli/cmd_replay.c cli/record_run.c cli/cmd_capture.c \
	cli/cmd_index.c cli/cmd_query.c cli/cmd_shell.c
cli_rrvm_LDADD = debug/libdebug.a tracedb/libtracedb.a replay/libreplay.a gdbstub/libgdbstub.a introspect/libintrospect.a \
	vmm/libvmm.a $(LZ4_LIBS) $(SQLITE_LIBS) $(LIBEDIT_LIBS)
