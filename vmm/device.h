/*
 * device.h — the contract between the machine and its emulated devices.
 *
 * A device is a plain-data state struct plus a table of functions
 * (struct vmm_device). The machine allocates state_size bytes for it, calls
 * reset(), routes every access that falls in one of the ranges it lists
 * (port I/O, MMIO or MSR: one range table, one handler, as kvmtool's
 * iotrap registration) to access(), and calls poll() when the device's
 * next_deadline() has passed. Because the state is plain data (no
 * pointers, no file descriptors), saving and restoring a device for a
 * checkpoint is a copy of state_size bytes; a range the guest can move (the
 * local APIC's page) is found through range_base() from that state, so a
 * restored state moves it back.
 *
 * A device never reads host time or host input by itself: time comes from
 * bus->clock_ns() (the one clock, which the recorder logs and the replayer
 * feeds back) or the now_ns argument of poll(); bytes from outside arrive
 * through the device's own push function called by the machine. That is what
 * makes a machine built of these devices replayable.
 *
 * Adding a device: write vmm/dev_NAME.c defining a `const struct vmm_device
 * vmm_dev_NAME`, declare it in vmm/devices.h and add it to the table in
 * vmm/devices.c (a file and a table row).
 */
#ifndef RRVM_VMM_DEVICE_H
#define RRVM_VMM_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum vmm_clock_kind {
	VMM_CLOCK_MONOTONIC,    /* ns since an arbitrary start, never goes back */
	VMM_CLOCK_REALTIME,     /* ns since the Unix epoch (for the RTC)        */
};

enum vmm_output_stream {
	VMM_OUT_SERIAL,         /* COM1 transmit: the user's stdout            */
	VMM_OUT_DEBUGCON,       /* port 0xe9 debug console                      */
	VMM_OUT_ANNOTATION,     /* one finished annotation from port 0xe8       */
};

/* Local APIC delivery modes (ICR, LVT and I/O APIC redirection bits 8-10). */
enum vmm_apic_dm {
	VMM_APIC_DM_FIXED = 0, VMM_APIC_DM_LOWEST = 1, VMM_APIC_DM_SMI = 2,
	VMM_APIC_DM_NMI = 4, VMM_APIC_DM_INIT = 5, VMM_APIC_DM_STARTUP = 6,
	VMM_APIC_DM_EXTINT = 7,
};

/* Where an injected interrupt came from (the trace database's source). */
enum vmm_irq_source {
	VMM_IRQ_SRC_NONE = 0,
	VMM_IRQ_SRC_PIC,        /* the 8259 pair through LINT0 (ExtINT); detail = IRQ */
	VMM_IRQ_SRC_IOAPIC,     /* an I/O APIC pin; detail = pin */
	VMM_IRQ_SRC_LAPIC_TIMER,
	VMM_IRQ_SRC_SELF_IPI,   /* ICR or x2APIC SELF_IPI to this CPU */
	VMM_IRQ_SRC_LINT,       /* LVT LINT0/LINT1 in fixed mode; detail = 0/1 */
	VMM_IRQ_SRC_APIC_ERROR, /* LVT error */
	VMM_IRQ_SRC_NMI,        /* an NMI (vector 2), from the ICR or an LVT */
};

/* An interrupt message on the APIC bus (I/O APIC redirection entry or ICR). */
struct vmm_apic_msg {
	uint8_t vector;
	uint8_t mode;           /* enum vmm_apic_dm */
	uint8_t level;          /* trigger: 1 level, 0 edge */
	uint8_t logical;        /* destination mode: 1 logical, 0 physical */
	uint32_t dest;          /* APIC ID (physical) or logical mask */
	uint8_t src;            /* enum vmm_irq_source, for the trace */
	uint8_t detail;         /* I/O APIC pin, PIC IRQ, LINT number */
};

/* What a device may ask of the machine. All calls come from the vCPU thread. */
struct vmm_bus {
	void *ctx;
	/* Drive ISA interrupt line irq (0-15) to level (0 or 1). An edge-triggered
	 * device raises then lowers the line to make one interrupt. */
	void (*set_irq)(void *ctx, unsigned irq, int level);
	/* The current time. The only source of time a device may use. */
	uint64_t (*clock_ns)(void *ctx, enum vmm_clock_kind kind);
	/* Bytes the guest sent to the outside world. */
	void (*output)(void *ctx, enum vmm_output_stream stream, const uint8_t *buf, size_t len);
	/* The guest asked to end the run (isa-debug-exit): value as written. */
	void (*guest_exit)(void *ctx, uint32_t value);
	/* An interrupt message for the local APIC (from the I/O APIC). */
	void (*apic_message)(void *ctx, const struct vmm_apic_msg *msg);
	/* The local APIC got an EOI for a level-triggered vector: tell the
	 * I/O APIC (its remote-IRR bits). */
	void (*apic_eoi)(void *ctx, uint8_t vector);
	/* --trace-io is on: devices say what a guest did wrong on stderr. */
	bool trace_io;
};

#define VMM_DEVICE_MAX_RANGES 3

enum vmm_space {
	VMM_SPACE_NONE = 0,     /* ends a device's range list */
	VMM_SPACE_PIO,          /* I/O ports */
	VMM_SPACE_MMIO,         /* guest-physical addresses outside RAM */
	VMM_SPACE_MSR,          /* model-specific registers (rdmsr/wrmsr) */
};

struct vmm_range {
	uint8_t space;          /* enum vmm_space */
	uint64_t base;
	uint64_t len;           /* ports, bytes or MSR numbers */
};

/* One access, as the handler sees it. */
struct vmm_io {
	uint8_t space;          /* enum vmm_space */
	bool write;
	uint8_t size;           /* bytes: 1, 2, 4 (8 for MMIO and MSRs) */
	bool fault;             /* out, MSRs only: the access raises #GP */
	uint64_t addr;          /* absolute port, guest-physical address, MSR */
	uint64_t value;         /* in: the value written; out: the value read */
};

struct vmm_device {
	const char *name;
	struct vmm_range ranges[VMM_DEVICE_MAX_RANGES];
	size_t state_size;
	/* Power-on state. Must fully initialise the state bytes. */
	void (*reset)(void *state);
	/* An access inside one of the ranges: fill io->value on a read. */
	void (*access)(void *state, const struct vmm_bus *bus, struct vmm_io *io);
	/* Optional: where range r is now, for a range the guest can move
	 * (NULL: ranges[r].base, fixed). */
	uint64_t (*range_base)(const void *state, unsigned r);
	/* Optional (NULL for devices without timers). The earliest monotonic
	 * time at which poll() has something to do, or UINT64_MAX for never. */
	uint64_t (*next_deadline)(const void *state);
	/* Optional. Let the device act on the passage of time up to now_ns
	 * (monotonic), e.g. a timer raising its interrupt line. */
	void (*poll)(void *state, const struct vmm_bus *bus, uint64_t now_ns);
};

/* For a port-only device written as an in and an out function: the one
 * access handler that calls them. */
#define VMM_PIO_ACCESS(name, in, out)                                                  \
	static void name(void *state, const struct vmm_bus *bus, struct vmm_io *io)    \
	{                                                                              \
		if (io->write)                                                         \
			out(state, bus, (uint16_t)io->addr, io->size, (uint32_t)io->value); \
		else                                                                   \
			io->value = in(state, bus, (uint16_t)io->addr, io->size);       \
	}

#endif
