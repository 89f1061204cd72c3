# samples/paging.elf: page tables mixing page sizes and permissions (introspection).
# Its own account of what it mapped goes to the debug console (port 0xe9);
# tests/integration/paging.sh compares it with rrvm's view of the tables.
noinst_DATA += samples/paging.elf
CLEANFILES += samples/paging.elf samples/paging.o
EXTRA_DIST += samples/paging.c

samples/paging.o: $(srcdir)/samples/paging.c $(sample_headers)
	$(SAMPLE_COMPILE) $(srcdir)/samples/paging.c
samples/paging.elf: samples/paging.o $(sample_lib_objs) $(srcdir)/samples/lib/kernel.ld
	$(SAMPLE_LINK) samples/paging.o $(sample_lib_objs)
