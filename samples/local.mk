# samples: freestanding 64-bit guest kernels (Multiboot v1 ELF64 at 1 MiB),
# built with $(SAMPLE_CC) and their own flags, never with AM_CFLAGS: the host
# code may be built with sanitizers, which a guest kernel cannot link.
# Explicit rules only (automake -Wportability rejects %-pattern rules).
# No -no-pie at link time: -static already links a non-PIE ET_EXEC with gcc
# and clang, and clang rejects -no-pie next to -static under -Werror;
# tests/integration/qemu_samples.sh checks the ELF type.

SAMPLE_KERNEL_FLAGS = -m64 -ffreestanding -fno-pie -mno-red-zone \
	-mgeneral-regs-only -mno-popcnt -fno-stack-protector \
	-fno-omit-frame-pointer -fno-asynchronous-unwind-tables \
	-fcf-protection=none -O2 -g -std=gnu11 -Wall -Wextra -Werror \
	-Wno-unused-parameter -I$(srcdir)/samples/lib
SAMPLE_LINK_FLAGS = -m64 -static -nostdlib \
	-T $(srcdir)/samples/lib/kernel.ld -Wl,-z,max-page-size=0x1000 \
	-Wl,--build-id=none -Wl,--no-warn-rwx-segments

sample_headers = $(srcdir)/samples/lib/io.h $(srcdir)/samples/lib/kernel.h
sample_lib_objs = samples/lib/boot.o samples/lib/isr.o samples/lib/kernel.o \
	samples/lib/serial.o samples/lib/kprintf.o samples/lib/string.o \
	samples/lib/idt.o samples/lib/pic.o samples/lib/pit.o
sample_kernels = samples/hello.elf samples/echo.elf samples/ticks.elf \
	samples/race.elf samples/tsc.elf samples/compute.elf

noinst_DATA += $(sample_kernels)
CLEANFILES += $(sample_kernels) $(sample_lib_objs) samples/hello.o \
	samples/echo.o samples/ticks.o samples/race.o samples/tsc.o samples/compute.o
EXTRA_DIST += samples/README.md samples/lib/kernel.ld \
	samples/lib/io.h samples/lib/kernel.h \
	samples/lib/boot.S samples/lib/isr.S samples/lib/kernel.c \
	samples/lib/serial.c samples/lib/kprintf.c samples/lib/string.c \
	samples/lib/idt.c samples/lib/pic.c samples/lib/pit.c \
	samples/hello.c samples/echo.c samples/ticks.c samples/race.c \
	samples/tsc.c samples/compute.c

SAMPLE_COMPILE = $(AM_V_GEN)$(MKDIR_P) samples/lib && \
	$(SAMPLE_CC) $(SAMPLE_KERNEL_FLAGS) -c -o $@
SAMPLE_LINK = $(AM_V_GEN)$(SAMPLE_CC) $(SAMPLE_KERNEL_FLAGS) $(SAMPLE_LINK_FLAGS) -o $@

samples/lib/boot.o: $(srcdir)/samples/lib/boot.S
	$(SAMPLE_COMPILE) $(srcdir)/samples/lib/boot.S
samples/lib/isr.o: $(srcdir)/samples/lib/isr.S
	$(SAMPLE_COMPILE) $(srcdir)/samples/lib/isr.S
samples/lib/kernel.o: $(srcdir)/samples/lib/kernel.c $(sample_headers)
	$(SAMPLE_COMPILE) $(srcdir)/samples/lib/kernel.c
samples/lib/serial.o: $(srcdir)/samples/lib/serial.c $(sample_headers)
	$(SAMPLE_COMPILE) $(srcdir)/samples/lib/serial.c
samples/lib/kprintf.o: $(srcdir)/samples/lib/kprintf.c $(sample_headers)
	$(SAMPLE_COMPILE) $(srcdir)/samples/lib/kprintf.c
samples/lib/string.o: $(srcdir)/samples/lib/string.c $(sample_headers)
	$(SAMPLE_COMPILE) $(srcdir)/samples/lib/string.c
samples/lib/idt.o: $(srcdir)/samples/lib/idt.c $(sample_headers)
	$(SAMPLE_COMPILE) $(srcdir)/samples/lib/idt.c
samples/lib/pic.o: $(srcdir)/samples/lib/pic.c $(sample_headers)
	$(SAMPLE_COMPILE) $(srcdir)/samples/lib/pic.c
samples/lib/pit.o: $(srcdir)/samples/lib/pit.c $(sample_headers)
	$(SAMPLE_COMPILE) $(srcdir)/samples/lib/pit.c

samples/hello.o: $(srcdir)/samples/hello.c $(sample_headers)
	$(SAMPLE_COMPILE) $(srcdir)/samples/hello.c
samples/echo.o: $(srcdir)/samples/echo.c $(sample_headers)
	$(SAMPLE_COMPILE) $(srcdir)/samples/echo.c
samples/ticks.o: $(srcdir)/samples/ticks.c $(sample_headers)
	$(SAMPLE_COMPILE) $(srcdir)/samples/ticks.c
samples/race.o: $(srcdir)/samples/race.c $(sample_headers)
	$(SAMPLE_COMPILE) $(srcdir)/samples/race.c
samples/tsc.o: $(srcdir)/samples/tsc.c $(sample_headers)
	$(SAMPLE_COMPILE) $(srcdir)/samples/tsc.c
samples/compute.o: $(srcdir)/samples/compute.c $(sample_headers)
	$(SAMPLE_COMPILE) $(srcdir)/samples/compute.c

samples/hello.elf: samples/hello.o $(sample_lib_objs) $(srcdir)/samples/lib/kernel.ld
	$(SAMPLE_LINK) samples/hello.o $(sample_lib_objs)
samples/echo.elf: samples/echo.o $(sample_lib_objs) $(srcdir)/samples/lib/kernel.ld
	$(SAMPLE_LINK) samples/echo.o $(sample_lib_objs)
samples/ticks.elf: samples/ticks.o $(sample_lib_objs) $(srcdir)/samples/lib/kernel.ld
	$(SAMPLE_LINK) samples/ticks.o $(sample_lib_objs)
samples/race.elf: samples/race.o $(sample_lib_objs) $(srcdir)/samples/lib/kernel.ld
	$(SAMPLE_LINK) samples/race.o $(sample_lib_objs)
samples/tsc.elf: samples/tsc.o $(sample_lib_objs) $(srcdir)/samples/lib/kernel.ld
	$(SAMPLE_LINK) samples/tsc.o $(sample_lib_objs)
samples/compute.elf: samples/compute.o $(sample_lib_objs) $(srcdir)/samples/lib/kernel.ld
	$(SAMPLE_LINK) samples/compute.o $(sample_lib_objs)

TESTS += tests/integration/qemu_samples.sh
EXTRA_DIST += tests/integration/qemu_samples.sh

# The PC platform sample (issue 12): local APIC, I/O APIC, fw_cfg, ACPI.
sample_kernels += samples/apic.elf
CLEANFILES += samples/apic.o
EXTRA_DIST += samples/apic.c tests/bench/apic_timer.sh
bench_scripts += tests/bench/apic_timer.sh
samples/apic.o: $(srcdir)/samples/apic.c $(sample_headers)
	$(SAMPLE_COMPILE) $(srcdir)/samples/apic.c
samples/apic.elf: samples/apic.o $(sample_lib_objs) $(srcdir)/samples/lib/kernel.ld
	$(SAMPLE_LINK) samples/apic.o $(sample_lib_objs)

# Samples added by other parts of rrvm keep their rules in fragments.
include $(srcdir)/samples/paging.mk
include $(srcdir)/samples/ioheavy.mk
include $(srcdir)/samples/lfsr.mk
