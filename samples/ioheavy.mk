# samples/ioheavy.elf: heavy port I/O, for trace database benchmarks
# (a million exits by default; "count=N" on the command line for N rounds
# of four port accesses) and annotations for the trace database tests.
noinst_DATA += samples/ioheavy.elf
CLEANFILES += samples/ioheavy.elf samples/ioheavy.o
EXTRA_DIST += samples/ioheavy.c

samples/ioheavy.o: $(srcdir)/samples/ioheavy.c $(sample_headers)
	$(SAMPLE_COMPILE) $(srcdir)/samples/ioheavy.c
samples/ioheavy.elf: samples/ioheavy.o $(sample_lib_objs) $(srcdir)/samples/lib/kernel.ld
	$(SAMPLE_LINK) samples/ioheavy.o $(sample_lib_objs)
