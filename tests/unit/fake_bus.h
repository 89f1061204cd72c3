/*
 * fake_bus.h — a struct vmm_bus for the device unit tests.
 *
 * It serves a clock the test sets by hand, counts clock reads (devices must
 * read the clock at most once per port access), records every set_irq call
 * (and flags calls that do not change the line, which the devices promise
 * not to make), collects output bytes per stream and guest_exit values.
 * Header-only so each test program can include it; everything is static.
 */
#ifndef RRVM_TESTS_FAKE_BUS_H
#define RRVM_TESTS_FAKE_BUS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "vmm/device.h"

#define FAKE_MAX_EDGES 4096
#define FAKE_MAX_OUT 4096
#define FAKE_MAX_EXITS 64

struct fake_edge {
	unsigned irq;
	int level;
	uint64_t mono;          /* the fake monotonic clock when it happened */
};

struct fake_bus {
	struct vmm_bus bus;
	uint64_t mono;          /* what clock_ns(MONOTONIC) returns */
	uint64_t real;          /* what clock_ns(REALTIME) returns */
	unsigned clock_reads;   /* total */
	unsigned mono_reads, real_reads;
	int level[16];          /* current line levels as driven by the device */
	unsigned redundant_irq; /* set_irq calls that did not change the line */
	unsigned bad_irq;       /* set_irq with irq > 15 or level not 0/1 */
	struct fake_edge edges[FAKE_MAX_EDGES];
	unsigned nedges;
	uint8_t out[3][FAKE_MAX_OUT];  /* serial, debugcon, annotations */
	size_t nout[3];
	unsigned annotations;           /* calls on the annotation stream */
	uint32_t exits[FAKE_MAX_EXITS];
	unsigned nexits;
};

static void fake_set_irq(void *ctx, unsigned irq, int level)
{
	struct fake_bus *f = ctx;

	if (irq > 15 || (level != 0 && level != 1)) {
		f->bad_irq++;
		return;
	}
	if (f->level[irq] == level)
		f->redundant_irq++;
	f->level[irq] = level;
	if (f->nedges < FAKE_MAX_EDGES)
		f->edges[f->nedges++] = (struct fake_edge){ irq, level, f->mono };
}

static uint64_t fake_clock_ns(void *ctx, enum vmm_clock_kind kind)
{
	struct fake_bus *f = ctx;

	f->clock_reads++;
	if (kind == VMM_CLOCK_REALTIME) {
		f->real_reads++;
		return f->real;
	}
	f->mono_reads++;
	return f->mono;
}

static void fake_output(void *ctx, enum vmm_output_stream stream, const uint8_t *buf, size_t len)
{
	struct fake_bus *f = ctx;
	unsigned s = stream == VMM_OUT_DEBUGCON ? 1 : stream == VMM_OUT_ANNOTATION ? 2 : 0;

	if (stream == VMM_OUT_ANNOTATION)
		f->annotations++;

	for (size_t i = 0; i < len && f->nout[s] < FAKE_MAX_OUT; i++)
		f->out[s][f->nout[s]++] = buf[i];
}

static void fake_guest_exit(void *ctx, uint32_t value)
{
	struct fake_bus *f = ctx;

	if (f->nexits < FAKE_MAX_EXITS)
		f->exits[f->nexits++] = value;
}

static inline void fake_bus_init(struct fake_bus *f)
{
	memset(f, 0, sizeof(*f));
	f->bus.ctx = f;
	f->bus.set_irq = fake_set_irq;
	f->bus.clock_ns = fake_clock_ns;
	f->bus.output = fake_output;
	f->bus.guest_exit = fake_guest_exit;
}

/* Number of rising edges (set_irq(irq, 1)) recorded so far on irq. */
static inline unsigned fake_rises(const struct fake_bus *f, unsigned irq)
{
	unsigned n = 0;

	for (unsigned i = 0; i < f->nedges; i++)
		if (f->edges[i].irq == irq && f->edges[i].level == 1)
			n++;
	return n;
}

/* A device instance: its state buffer, allocated state_size bytes. */
struct fake_dev {
	const struct vmm_device *dev;
	void *state;
};

static inline void fake_dev_init(struct fake_dev *d, const struct vmm_device *dev)
{
	d->dev = dev;
	d->state = calloc(1, dev->state_size);
	if (!d->state)
		abort();
	/* Garbage first, so a reset() that forgets a field shows up. */
	memset(d->state, 0xa5, dev->state_size);
	dev->reset(d->state);
}

static inline void fake_dev_free(struct fake_dev *d)
{
	free(d->state);
	d->state = NULL;
}

/* One access through the device's handler; returns the value read. */
static inline uint64_t fake_access(struct fake_dev *d, struct fake_bus *f, unsigned space, bool write,
				   uint64_t addr, unsigned size, uint64_t value)
{
	struct vmm_io io = { .space = (uint8_t)space, .write = write, .size = (uint8_t)size,
			     .addr = addr, .value = write ? value : 0 };

	d->dev->access(d->state, &f->bus, &io);
	return io.value;
}

static inline uint32_t fake_in(struct fake_dev *d, struct fake_bus *f, uint16_t port, unsigned size)
{
	return (uint32_t)fake_access(d, f, VMM_SPACE_PIO, false, port, size, 0);
}

static inline void fake_out(struct fake_dev *d, struct fake_bus *f, uint16_t port, unsigned size,
			    uint32_t value)
{
	fake_access(d, f, VMM_SPACE_PIO, true, port, size, value);
}

static inline uint32_t fake_mmio_read(struct fake_dev *d, struct fake_bus *f, uint64_t addr)
{
	return (uint32_t)fake_access(d, f, VMM_SPACE_MMIO, false, addr, 4, 0);
}

static inline void fake_mmio_write(struct fake_dev *d, struct fake_bus *f, uint64_t addr, uint32_t v)
{
	fake_access(d, f, VMM_SPACE_MMIO, true, addr, 4, v);
}

static inline uint8_t fake_inb(struct fake_dev *d, struct fake_bus *f, uint16_t port)
{
	return (uint8_t)fake_in(d, f, port, 1);
}

static inline void fake_outb(struct fake_dev *d, struct fake_bus *f, uint16_t port, uint8_t value)
{
	fake_out(d, f, port, 1, value);
}

/* A small deterministic PRNG (xorshift64*) for the fuzz loops. */
static inline uint64_t fake_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

#endif
