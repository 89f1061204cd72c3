# cli: the rrvm program.
bin_PROGRAMS += cli/rrvm
cli_rrvm_SOURCES = cli/main.c
cli_rrvm_LDADD = vmm/libvmm.a $(LZ4_LIBS) $(SQLITE_LIBS) $(LIBEDIT_LIBS)
