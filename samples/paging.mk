# samples/paging.elf: page tables mixing page sizes and permissions (introspection).
# Its own account of what it mapped goes to the debug console (port 0xe9);
# tests/integration/paging.sh compares it with rrvm's view of the tables.
noinst_DATA += samples/paging.elf
CLEANFILES += samples/paging.elf samples/paging.o samples/paging_account.o
EXTRA_DIST += samples/paging.c samples/paging_account.c samples/paging.h

paging_headers = $(sample_headers) $(srcdir)/samples/paging.h
samples/paging.o: $(srcdir)/samples/paging.c $(paging_headers)
	$(SAMPLE_COMPILE) $(srcdir)/samples/paging.c
samples/paging_account.o: $(srcdir)/samples/paging_account.c $(paging_headers)
	$(SAMPLE_COMPILE) $(srcdir)/samples/paging_account.c
samples/paging.elf: samples/paging.o samples/paging_account.o $(sample_lib_objs) $(srcdir)/samples/lib/kernel.ld
	$(SAMPLE_LINK) samples/paging.o samples/paging_account.o $(sample_lib_objs)
