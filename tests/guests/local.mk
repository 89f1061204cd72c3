# tests/guests: hostile guest kernels (issue 14), built like the samples
# (samples/local.mk: $(SAMPLE_CC), the sample runtime), run by
# tests/integration/hostile.sh in make check and tests/bench/hostile.sh.
hostile_guests = tests/guests/ports.elf tests/guests/storm.elf \
	tests/guests/mmio.elf tests/guests/pagetables.elf tests/guests/triple.elf \
	tests/guests/spin.elf tests/guests/flood.elf tests/guests/busy.elf
hostile_headers = $(sample_headers) $(srcdir)/tests/guests/hostile.h
HOSTILE_COMPILE = $(AM_V_GEN)$(MKDIR_P) tests/guests && \
	$(SAMPLE_CC) $(SAMPLE_KERNEL_FLAGS) -c -o $@

noinst_DATA += $(hostile_guests)
CLEANFILES += $(hostile_guests) tests/guests/ports.o tests/guests/storm.o \
	tests/guests/mmio.o tests/guests/pagetables.o tests/guests/triple.o \
	tests/guests/spin.o tests/guests/flood.o tests/guests/busy.o
EXTRA_DIST += tests/guests/hostile.h tests/guests/ports.c tests/guests/storm.c \
	tests/guests/mmio.c tests/guests/pagetables.c tests/guests/triple.c \
	tests/guests/spin.c tests/guests/flood.c tests/guests/busy.c

tests/guests/ports.o: $(srcdir)/tests/guests/ports.c $(hostile_headers)
	$(HOSTILE_COMPILE) $(srcdir)/tests/guests/ports.c
tests/guests/storm.o: $(srcdir)/tests/guests/storm.c $(hostile_headers)
	$(HOSTILE_COMPILE) $(srcdir)/tests/guests/storm.c
tests/guests/mmio.o: $(srcdir)/tests/guests/mmio.c $(hostile_headers)
	$(HOSTILE_COMPILE) $(srcdir)/tests/guests/mmio.c
tests/guests/pagetables.o: $(srcdir)/tests/guests/pagetables.c $(hostile_headers)
	$(HOSTILE_COMPILE) $(srcdir)/tests/guests/pagetables.c
tests/guests/triple.o: $(srcdir)/tests/guests/triple.c $(hostile_headers)
	$(HOSTILE_COMPILE) $(srcdir)/tests/guests/triple.c
tests/guests/spin.o: $(srcdir)/tests/guests/spin.c $(hostile_headers)
	$(HOSTILE_COMPILE) $(srcdir)/tests/guests/spin.c
tests/guests/flood.o: $(srcdir)/tests/guests/flood.c $(hostile_headers)
	$(HOSTILE_COMPILE) $(srcdir)/tests/guests/flood.c
tests/guests/busy.o: $(srcdir)/tests/guests/busy.c $(hostile_headers)
	$(HOSTILE_COMPILE) $(srcdir)/tests/guests/busy.c

tests/guests/ports.elf: tests/guests/ports.o $(sample_lib_objs) $(srcdir)/samples/lib/kernel.ld
	$(SAMPLE_LINK) tests/guests/ports.o $(sample_lib_objs)
tests/guests/storm.elf: tests/guests/storm.o $(sample_lib_objs) $(srcdir)/samples/lib/kernel.ld
	$(SAMPLE_LINK) tests/guests/storm.o $(sample_lib_objs)
tests/guests/mmio.elf: tests/guests/mmio.o $(sample_lib_objs) $(srcdir)/samples/lib/kernel.ld
	$(SAMPLE_LINK) tests/guests/mmio.o $(sample_lib_objs)
tests/guests/pagetables.elf: tests/guests/pagetables.o $(sample_lib_objs) $(srcdir)/samples/lib/kernel.ld
	$(SAMPLE_LINK) tests/guests/pagetables.o $(sample_lib_objs)
tests/guests/triple.elf: tests/guests/triple.o $(sample_lib_objs) $(srcdir)/samples/lib/kernel.ld
	$(SAMPLE_LINK) tests/guests/triple.o $(sample_lib_objs)
tests/guests/spin.elf: tests/guests/spin.o $(sample_lib_objs) $(srcdir)/samples/lib/kernel.ld
	$(SAMPLE_LINK) tests/guests/spin.o $(sample_lib_objs)
tests/guests/flood.elf: tests/guests/flood.o $(sample_lib_objs) $(srcdir)/samples/lib/kernel.ld
	$(SAMPLE_LINK) tests/guests/flood.o $(sample_lib_objs)
tests/guests/busy.elf: tests/guests/busy.o $(sample_lib_objs) $(srcdir)/samples/lib/kernel.ld
	$(SAMPLE_LINK) tests/guests/busy.o $(sample_lib_objs)

TESTS += tests/integration/hostile.sh
EXTRA_DIST += tests/integration/hostile.sh
bench_scripts += tests/bench/hostile.sh
EXTRA_DIST += tests/bench/hostile.sh
