# samples/lfsr.elf: timer interrupts in an exit-free loop with no counting
# register (issue 13): the replay's estimates fail, the search is plain.
sample_kernels += samples/lfsr.elf
CLEANFILES += samples/lfsr.o
EXTRA_DIST += samples/lfsr.c

samples/lfsr.o: $(srcdir)/samples/lfsr.c $(sample_headers)
	$(SAMPLE_COMPILE) $(srcdir)/samples/lfsr.c
samples/lfsr.elf: samples/lfsr.o $(sample_lib_objs) $(srcdir)/samples/lib/kernel.ld
	$(SAMPLE_LINK) samples/lfsr.o $(sample_lib_objs)
