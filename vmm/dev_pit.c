/*
 * dev_pit.c — the 8254 programmable interval timer at 0x40-0x43 and the
 * PC's system control port B at 0x61 (channel 2 gate, speaker data,
 * channel 2 output and the DRAM refresh toggle).
 *
 * Counters are never stepped: a running channel remembers the monotonic
 * time its count started (and how many 1.193182 MHz input ticks it had
 * already counted before that, for gate pauses), and every read derives
 * the counter and OUT from the elapsed ticks and the mode. Channel 0's OUT
 * drives IRQ0; next_deadline() is the time of its next rising edge and
 * poll() turns that edge into an IRQ0 pulse.
 *
 * Timing follows the Intel 8254 datasheet, with the simplification that a
 * count is loaded into the counting element at the instant it is written
 * (the real chip takes one input clock). So in mode 0 the counter reads N
 * at the write, N - d after d ticks, and OUT rises at d = N; in modes 2
 * and 3 OUT rises every N ticks, first at d = N. BCD counting is refused:
 * the BCD bit is kept (the status byte shows it) but counting is binary.
 */
#include <stdint.h>
#include "vmm/devices.h"

#define PIT_HZ 1193182u
#define PIT_PORT_BASE 0x40
#define PIT_PORT_CONTROL 0x43
#define PIT_PORT_B 0x61
#define PIT_IRQ 0
#define PIT_NEVER UINT64_MAX
/* Port B bit 4 toggles with every DRAM refresh request: every 15.085 us. */
#define PIT_REFRESH_NS 15085u

enum pit_access { PIT_LATCH = 0, PIT_LO = 1, PIT_HI = 2, PIT_LOHI = 3 };

struct pit_channel {
	uint64_t start_ns;      /* when the running count started */
	uint64_t base_ticks;    /* ticks counted before start_ns (gate pauses) */
	int64_t origin;         /* total tick at which the current count began */
	uint64_t reload_tick;   /* modes 2/3: total tick at which next_count loads */
	uint32_t count;         /* count in effect, 1..65536 */
	uint32_t next_count;    /* written while counting, not loaded yet */
	uint16_t latch;         /* latched count */
	uint8_t mode;           /* 0-5 */
	uint8_t mode_bits;      /* the mode field as written (6, 7 alias 2, 3) */
	uint8_t access;         /* enum pit_access */
	uint8_t bcd;
	uint8_t gate;
	uint8_t armed;          /* a count was written after the control word */
	uint8_t running;        /* the input clock advances the counter */
	uint8_t triggered;      /* modes 1/5: a gate rising edge started it */
	uint8_t pending;        /* next_count waits for reload_tick or trigger */
	uint8_t reload_low;     /* mode 3: the pending count starts a low half */
	uint8_t write_hi_next;  /* lo/hi: the low byte has been written */
	uint8_t write_lo;
	uint8_t read_hi_next;   /* lo/hi: the low byte has been read */
	uint8_t latch_left;     /* bytes of the latched count still to read */
	uint8_t status_latched;
	uint8_t status;
};

struct pit_state {
	struct pit_channel ch[3];
	uint64_t irq_next_ns;   /* next IRQ0 edge not yet delivered */
	uint8_t port_b;         /* port 0x61 bits 0-3 as written */
};

/* Ticks counted so far (reads the clock only while running). */
static uint64_t pit_total(const struct pit_channel *c, struct vmm_dev_clock *clk)
{
	uint64_t now;

	if (!c->running)
		return c->base_ticks;
	now = vmm_dev_clock_now(clk);
	if (now <= c->start_ns)
		return c->base_ticks;
	return c->base_ticks + vmm_ns_to_ticks(now - c->start_ns, PIT_HZ);
}

/* The earliest time at which total ticks reach t, or PIT_NEVER. */
static uint64_t pit_tick_time(const struct pit_channel *c, uint64_t t)
{
	uint64_t ns;

	if (t <= c->base_ticks)
		return c->start_ns;
	ns = vmm_ticks_to_ns(t - c->base_ticks, PIT_HZ);
	return ns >= PIT_NEVER - c->start_ns ? PIT_NEVER : ns + c->start_ns;
}

static uint32_t pit_half(uint32_t count)
{
	return (count + 1) / 2;
}

/* Modes 2/3: a count written while counting loads at the end of the
 * current period (mode 2) or half-cycle (mode 3). Apply it once due. */
static void pit_sync(struct pit_channel *c, uint64_t total)
{
	if (!c->pending || (c->mode != 2 && c->mode != 3) || total < c->reload_tick)
		return;
	c->count = c->next_count;
	c->origin = (int64_t)c->reload_tick - (c->reload_low ? (int64_t)pit_half(c->count) : 0);
	c->pending = 0;
}

/* Ticks into the current count, after applying a due reload. */
static uint64_t pit_elapsed(struct pit_channel *c, struct vmm_dev_clock *clk)
{
	uint64_t total = pit_total(c, clk);

	pit_sync(c, total);
	return (uint64_t)((int64_t)total - c->origin);
}

static int pit_out(const struct pit_channel *c, uint64_t d)
{
	if (!c->armed)
		return c->mode != 0;
	switch (c->mode) {
	case 0:
		return d >= c->count;
	case 1:
		return !c->triggered || d >= c->count;
	case 2:
		/* Count 1 is illegal in mode 2; OUT then never goes low. */
		return !c->gate || c->count == 1 || d % c->count != c->count - 1;
	case 3:
		return !c->gate || d % c->count < pit_half(c->count);
	case 4:
		return d != c->count;
	default:
		return !c->triggered || d != c->count;
	}
}

static uint16_t pit_counter(const struct pit_channel *c, uint64_t d)
{
	uint32_t n = c->count, p;

	if (!c->armed || ((c->mode == 1 || c->mode == 5) && !c->triggered))
		return (uint16_t)n;
	switch (c->mode) {
	case 2:
		return (uint16_t)(n - d % n);
	case 3:
		/* Decrements by two; an odd count reloads as count - 1 and its
		 * high half lasts one tick longer than its low half. */
		p = (uint32_t)(d % n);
		if (p >= pit_half(n))
			p -= pit_half(n);
		return (uint16_t)((n & ~1u) - 2 * p);
	default:
		return (uint16_t)(n - (uint16_t)d);
	}
}

static uint8_t pit_status(const struct pit_channel *c, uint64_t d)
{
	int null_count = !c->armed || c->pending ||
			 ((c->mode == 1 || c->mode == 5) && !c->triggered);

	return (uint8_t)(pit_out(c, d) << 7 | null_count << 6 | c->access << 4 |
			 c->mode_bits << 1 | c->bcd);
}

/* First rising edge of OUT after total tick `after`, for an origin and
 * count of modes 2/3 (edges at origin + k * count). */
static uint64_t pit_periodic_rise(int64_t origin, uint32_t count, uint64_t after)
{
	int64_t k = vmm_floor_div((int64_t)after - origin, count) + 1;

	return (uint64_t)(origin + k * (int64_t)count);
}

/* First rising edge of OUT strictly after total tick `now`, or PIT_NEVER. */
static uint64_t pit_next_rise(const struct pit_channel *c, uint64_t now)
{
	uint64_t d = (uint64_t)((int64_t)now - c->origin), r, edge;
	int64_t o;

	if (!c->armed || !c->running)
		return PIT_NEVER;
	switch (c->mode) {
	case 0:
	case 1:
		edge = c->count;        /* OUT rises when the count expires */
		break;
	case 4:
	case 5:
		edge = c->count + 1;    /* end of the one-tick low strobe */
		break;
	default:
		r = pit_periodic_rise(c->origin, c->count, now);
		if (!c->pending || r <= c->reload_tick)
			return r;
		o = (int64_t)c->reload_tick - (c->reload_low ? (int64_t)pit_half(c->next_count) : 0);
		return pit_periodic_rise(o, c->next_count, c->reload_tick - 1);
	}
	return d < edge ? (uint64_t)c->origin + edge : PIT_NEVER;
}

static void pit_schedule_irq(struct pit_state *s, struct vmm_dev_clock *clk)
{
	struct pit_channel *c = &s->ch[0];
	uint64_t total, rise;

	if (!c->armed || !c->running) {
		s->irq_next_ns = PIT_NEVER;
		return;
	}
	total = pit_total(c, clk);
	pit_sync(c, total);
	rise = pit_next_rise(c, total);
	s->irq_next_ns = rise == PIT_NEVER ? PIT_NEVER : pit_tick_time(c, rise);
}

static void pit_start(struct pit_channel *c, uint32_t count, struct vmm_dev_clock *clk)
{
	c->count = count;
	c->pending = 0;
	c->armed = 1;
	c->base_ticks = 0;
	c->origin = 0;
	c->running = c->gate;
	if (c->running)
		c->start_ns = vmm_dev_clock_now(clk);
}

/* A new count arrives in the count register; raw 0 means 65536. */
static void pit_load(struct pit_channel *c, uint32_t raw, struct vmm_dev_clock *clk)
{
	uint32_t n = raw ? raw : 65536;
	uint64_t total, p;

	switch (c->mode) {
	case 2:
	case 3:
		if (!c->armed || !c->running) {
			pit_start(c, n, clk);
			break;
		}
		total = pit_total(c, clk);
		pit_sync(c, total);
		p = (uint64_t)((int64_t)total - c->origin) % c->count;
		if (c->mode == 3 && p < pit_half(c->count)) {
			c->reload_tick = total - p + pit_half(c->count);
			c->reload_low = 1;
		} else {
			c->reload_tick = total - p + c->count;
			c->reload_low = 0;
		}
		c->next_count = n;
		c->pending = 1;
		break;
	case 1:
	case 5:
		/* Loaded by the next gate trigger. */
		if (c->armed && c->triggered) {
			c->next_count = n;
			c->pending = 1;
		} else {
			c->count = n;
			c->armed = 1;
			c->running = 0;
			c->triggered = 0;
			c->base_ticks = 0;
			c->origin = 0;
		}
		break;
	default: /* 0 and 4 restart at once with the new count */
		pit_start(c, n, clk);
		break;
	}
}

static void pit_set_gate(struct pit_channel *c, int gate, struct vmm_dev_clock *clk)
{
	if (c->gate == gate)
		return;
	c->gate = (uint8_t)gate;
	if (!c->armed)
		return;
	switch (c->mode) {
	case 0:
	case 4:
		/* Gate low suspends counting; high resumes where it stopped. */
		if (gate) {
			c->start_ns = vmm_dev_clock_now(clk);
			c->running = 1;
		} else {
			c->base_ticks = pit_total(c, clk);
			c->running = 0;
		}
		break;
	case 2:
	case 3:
		/* Gate low stops and forces OUT high; rising reloads. */
		if (gate) {
			if (c->pending)
				c->count = c->next_count;
			pit_start(c, c->count, clk);
		} else {
			c->base_ticks = pit_total(c, clk);
			pit_sync(c, c->base_ticks);
			c->running = 0;
		}
		break;
	default:
		/* Modes 1/5: a rising edge (re)triggers with the count register. */
		if (gate) {
			if (c->pending)
				c->count = c->next_count;
			pit_start(c, c->count, clk);
			c->triggered = 1;
		}
		break;
	}
}

static void pit_latch_count(struct pit_channel *c, struct vmm_dev_clock *clk)
{
	/* A second latch before the first is read is ignored. */
	if (c->latch_left)
		return;
	c->latch = pit_counter(c, pit_elapsed(c, clk));
	c->latch_left = c->access == PIT_LOHI ? 2 : 1;
}

static void pit_control(struct pit_state *s, uint8_t v, struct vmm_dev_clock *clk)
{
	unsigned sc = v >> 6, access = (v >> 4) & 3;
	struct pit_channel *c;

	if (sc == 3) {
		/* Read-back: bit 5 clear latches counts, bit 4 clear latches
		 * status, bits 1-3 select channels 0-2. */
		for (unsigned i = 0; i < 3; i++) {
			c = &s->ch[i];
			if (!(v & (2u << i)))
				continue;
			if (!(v & 0x20))
				pit_latch_count(c, clk);
			if (!(v & 0x10) && !c->status_latched) {
				c->status = pit_status(c, pit_elapsed(c, clk));
				c->status_latched = 1;
			}
		}
		return;
	}
	c = &s->ch[sc];
	if (access == PIT_LATCH) {
		pit_latch_count(c, clk);
		return;
	}
	c->access = (uint8_t)access;
	c->mode_bits = (v >> 1) & 7;
	c->mode = c->mode_bits > 5 ? c->mode_bits - 4 : c->mode_bits;
	c->bcd = v & 1;
	c->armed = 0;
	c->running = 0;
	c->triggered = 0;
	c->pending = 0;
	c->base_ticks = 0;
	c->origin = 0;
	c->write_hi_next = 0;
	c->read_hi_next = 0;
	c->latch_left = 0;
	c->status_latched = 0;
	if (sc == 0)
		s->irq_next_ns = PIT_NEVER;
}

static void pit_write_counter(struct pit_state *s, unsigned i, uint8_t v, struct vmm_dev_clock *clk)
{
	struct pit_channel *c = &s->ch[i];

	switch (c->access) {
	case PIT_LO:
		pit_load(c, v, clk);
		break;
	case PIT_HI:
		pit_load(c, (uint32_t)v << 8, clk);
		break;
	default:
		if (!c->write_hi_next) {
			c->write_lo = v;
			c->write_hi_next = 1;
			/* Mode 0: the first byte stops counting and OUT goes low. */
			if (c->mode == 0) {
				c->armed = 0;
				c->running = 0;
			}
			break;
		}
		c->write_hi_next = 0;
		pit_load(c, c->write_lo | (uint32_t)v << 8, clk);
		break;
	}
	if (i == 0)
		pit_schedule_irq(s, clk);
}

static uint8_t pit_read_counter(struct pit_channel *c, struct vmm_dev_clock *clk)
{
	uint16_t v;

	if (c->status_latched) {
		c->status_latched = 0;
		return c->status;
	}
	if (c->latch_left) {
		if (c->access == PIT_LOHI && c->latch_left == 2) {
			c->latch_left = 1;
			return (uint8_t)c->latch;
		}
		c->latch_left = 0;
		return (uint8_t)(c->access == PIT_LO ? c->latch : c->latch >> 8);
	}
	v = pit_counter(c, pit_elapsed(c, clk));
	switch (c->access) {
	case PIT_LO:
		return (uint8_t)v;
	case PIT_HI:
		return (uint8_t)(v >> 8);
	default:
		c->read_hi_next ^= 1;
		return (uint8_t)(c->read_hi_next ? v : v >> 8);
	}
}

static uint8_t pit_read_port_b(struct pit_state *s, struct vmm_dev_clock *clk)
{
	struct pit_channel *c2 = &s->ch[2];
	uint64_t now = vmm_dev_clock_now(clk);
	int out2 = pit_out(c2, pit_elapsed(c2, clk));
	int refresh = (int)((now / PIT_REFRESH_NS) & 1);

	/* Bits 6-7 report parity and I/O channel errors: never. */
	return (uint8_t)((s->port_b & 0x0f) | refresh << 4 | out2 << 5);
}

/* 8-bit ports: a 2- or 4-byte access acts on the low byte; the upper
 * bytes of a read are zero. The control port is write-only. */
static uint32_t pit_pio_in(void *state, const struct vmm_bus *bus, uint16_t port, unsigned size)
{
	struct pit_state *s = state;
	struct vmm_dev_clock clk = { .bus = bus };

	if (port >= PIT_PORT_BASE && port < PIT_PORT_CONTROL)
		return pit_read_counter(&s->ch[port - PIT_PORT_BASE], &clk);
	if (port == PIT_PORT_B)
		return pit_read_port_b(s, &clk);
	return size == 1 ? 0xff : size == 2 ? 0xffff : 0xffffffff;
}

static void pit_pio_out(void *state, const struct vmm_bus *bus, uint16_t port, unsigned size,
			uint32_t value)
{
	struct pit_state *s = state;
	struct vmm_dev_clock clk = { .bus = bus };
	uint8_t v = (uint8_t)value;

	if (port >= PIT_PORT_BASE && port < PIT_PORT_CONTROL) {
		pit_write_counter(s, port - PIT_PORT_BASE, v, &clk);
	} else if (port == PIT_PORT_CONTROL) {
		pit_control(s, v, &clk);
	} else if (port == PIT_PORT_B) {
		s->port_b = v & 0x0f;
		pit_set_gate(&s->ch[2], v & 1, &clk);
	}
}

/*
 * Power-on state: no BIOS has run, so every channel has a control word
 * (mode 3, lo/hi, binary) but no count: nothing counts and IRQ0 stays
 * quiet until the guest programs channel 0. Gates 0 and 1 are tied high;
 * channel 2's follows port 0x61 bit 0, initially low.
 */
static void pit_reset(void *state)
{
	struct pit_state *s = state;

	*s = (struct pit_state){ .irq_next_ns = PIT_NEVER };
	for (unsigned i = 0; i < 3; i++) {
		s->ch[i].mode = 3;
		s->ch[i].mode_bits = 3;
		s->ch[i].access = PIT_LOHI;
		s->ch[i].count = 65536;
		s->ch[i].gate = i != 2;
	}
}

static uint64_t pit_next_deadline(const void *state)
{
	const struct pit_state *s = state;

	return s->irq_next_ns;
}

/* Deliver one IRQ0 pulse if channel 0's OUT rose since the last delivered
 * edge. Several periods missed (the vCPU thread was late) are coalesced
 * into one pulse, as an edge-triggered 8259 would also latch only one;
 * the next deadline is the first edge after now. */
static void pit_poll(void *state, const struct vmm_bus *bus, uint64_t now_ns)
{
	struct pit_state *s = state;
	struct vmm_dev_clock clk = { .bus = bus, .ns = now_ns, .have = 1 };

	if (now_ns < s->irq_next_ns)
		return;
	bus->set_irq(bus->ctx, PIT_IRQ, 1);
	bus->set_irq(bus->ctx, PIT_IRQ, 0);
	pit_schedule_irq(s, &clk);
}

VMM_PIO_ACCESS(pit_access, pit_pio_in, pit_pio_out)

const struct vmm_device vmm_dev_pit = {
	.name = "pit",
	.ranges = {
		{ VMM_SPACE_PIO, PIT_PORT_BASE, 4 },
		{ VMM_SPACE_PIO, PIT_PORT_B, 1 },
	},
	.state_size = sizeof(struct pit_state),
	.reset = pit_reset,
	.access = pit_access,
	.next_deadline = pit_next_deadline,
	.poll = pit_poll,
};
