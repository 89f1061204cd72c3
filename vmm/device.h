/*
 * device.h — the contract between the machine and its emulated devices.
 *
 * A device is a plain-data state struct plus a table of functions
 * (struct vmm_device). The machine allocates state_size bytes for it, calls
 * reset(), routes the port ranges it lists to pio_in/pio_out, and calls
 * poll() when the device's next_deadline() has passed. Because the state is
 * plain data (no pointers, no file descriptors), saving and restoring a
 * device for a checkpoint is a copy of state_size bytes.
 *
 * A device never reads host time or host input by itself: time comes from
 * bus->clock_ns() (the one clock, which the recorder logs and the replayer
 * feeds back) or the now_ns argument of poll(); bytes from outside arrive
 * through the device's own push function called by the machine. That is what
 * makes a machine built of these devices replayable.
 *
 * Adding a device: write vmm/dev_NAME.c defining a `const struct vmm_device
 * vmm_dev_NAME`, declare it in vmm/devices.h and add it to the table in
 * vmm/devices.c.
 */
#ifndef RRVM_VMM_DEVICE_H
#define RRVM_VMM_DEVICE_H

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
};

#define VMM_DEVICE_MAX_RANGES 3

struct vmm_port_range {
	uint16_t base;
	uint16_t count;         /* 0 ends the list */
};

struct vmm_device {
	const char *name;
	struct vmm_port_range ports[VMM_DEVICE_MAX_RANGES];
	size_t state_size;
	/* Power-on state. Must fully initialise the state bytes. */
	void (*reset)(void *state);
	/* Port access of size 1, 2 or 4 bytes at port (absolute port number). */
	uint32_t (*pio_in)(void *state, const struct vmm_bus *bus, uint16_t port, unsigned size);
	void (*pio_out)(void *state, const struct vmm_bus *bus, uint16_t port, unsigned size,
			uint32_t value);
	/* Optional (NULL for devices without timers). The earliest monotonic
	 * time at which poll() has something to do, or UINT64_MAX for never. */
	uint64_t (*next_deadline)(const void *state);
	/* Optional. Let the device act on the passage of time up to now_ns
	 * (monotonic), e.g. a timer raising its interrupt line. */
	void (*poll)(void *state, const struct vmm_bus *bus, uint64_t now_ns);
};

#endif
