/*
 * dev_lapic.c — the local APIC of the one vCPU, in userspace: the xAPIC
 * register page (MMIO at the base IA32_APIC_BASE names, 0xfee00000 after
 * reset), the IA32_APIC_BASE MSR itself, and the x2APIC registers as MSRs
 * 0x800-0x8ff once the guest turns x2APIC mode on.
 *
 * What a uniprocessor kernel uses: ID, version, TPR/PPR, EOI, LDR/DFR, SVR
 * (software enable), ISR/TMR/IRR, ESR, the ICR (fixed, lowest-priority and
 * NMI delivery to itself; INIT and STARTUP have no other CPU to go to),
 * the LVT entries (timer, thermal, performance, LINT0, LINT1, error) and
 * the timer in one-shot and periodic modes. TSC-deadline mode is hidden
 * from CPUID (its deadline is the unrecordable TSC); a guest that selects
 * it anyway gets a one-shot timer, and a --trace-io line.
 *
 * The timer counts a 1 GHz bus clock through the divide configuration (as
 * QEMU's does), and is derived from the one clock like the PIT: the time
 * the count was loaded is kept, never a running counter. next_deadline()
 * is its next expiry; poll() raises the interrupt. The machine asks
 * vmm_lapic_pending() for the vector to inject and vmm_lapic_ack() moves
 * it from IRR to ISR (the INTA cycle). Everything is plain data.
 *
 * Bad guests get what hardware does: writes to read-only registers are
 * ignored (x2APIC: #GP), vectors below 16 set the ESR's illegal-vector
 * bits and are not delivered, reserved delivery modes are dropped; each
 * with a --trace-io line.
 */
#include <string.h>

#include "vmm/devices.h"

#define LAPIC_DEFAULT_BASE 0xfee00000ull
#define LAPIC_BASE_BSP (1ull << 8)
#define LAPIC_BASE_EXTD (1ull << 10)
#define LAPIC_BASE_EN (1ull << 11)
#define LAPIC_BASE_ADDR_MASK 0x0000fffffffff000ull
#define LAPIC_NOWHERE (1ull << 63)      /* a base no access ever matches */
#define LAPIC_VERSION 0x00050014u       /* version 0x14, 6 LVT entries (QEMU's) */
#define LAPIC_NEVER UINT64_MAX
#define LAPIC_MSR_BASE 0x1b
#define LAPIC_X2_MSR 0x800

/* Register offsets in the xAPIC page (x2APIC MSR = 0x800 + offset / 16). */
enum {
	R_ID = 0x20, R_VERSION = 0x30, R_TPR = 0x80, R_APR = 0x90, R_PPR = 0xa0, R_EOI = 0xb0,
	R_RRD = 0xc0, R_LDR = 0xd0, R_DFR = 0xe0, R_SVR = 0xf0, R_ISR = 0x100, R_TMR = 0x180,
	R_IRR = 0x200, R_ESR = 0x280, R_LVT_CMCI = 0x2f0, R_ICR = 0x300, R_ICR2 = 0x310,
	R_LVT_TIMER = 0x320, R_LVT_THERMAL = 0x330, R_LVT_PERF = 0x340, R_LVT_LINT0 = 0x350,
	R_LVT_LINT1 = 0x360, R_LVT_ERROR = 0x370, R_TIMER_INITIAL = 0x380,
	R_TIMER_CURRENT = 0x390, R_TIMER_DIVIDE = 0x3e0, R_SELF_IPI = 0x3f0,
};

enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR, LVT_COUNT };

#define LVT_MASKED (1u << 16)
#define SVR_ENABLE (1u << 8)
#define ESR_SEND_ILLEGAL (1u << 5)
#define ESR_RECV_ILLEGAL (1u << 6)
#define ESR_ILLEGAL_REG (1u << 7)
#define TIMER_PERIODIC 1u
#define TIMER_TSC_DEADLINE 2u

struct lapic_state {
	uint64_t apic_base;             /* IA32_APIC_BASE as the guest sees it */
	uint32_t id;                    /* APIC ID (0) */
	uint32_t tpr, ldr, dfr, svr;
	uint32_t esr, esr_pending;      /* ESR as read; errors since the last ESR write */
	uint32_t icr_lo, icr_hi;
	uint32_t lvt[LVT_COUNT];
	uint32_t irr[8], isr[8], tmr[8];
	uint8_t src[256], detail[256];  /* who raised each vector now in IRR */
	uint32_t timer_initial, timer_divide;
	uint64_t timer_start_ns;        /* when the count was (re)loaded */
	uint64_t timer_next_ns;         /* next expiry not yet delivered */
	uint8_t nmi_pending;
	uint8_t last_src, last_detail;  /* the source of the last acknowledged vector */
};

static const uint32_t lvt_valid[LVT_COUNT] = {
	[LVT_TIMER] = 0x710ff, [LVT_THERMAL] = 0x117ff, [LVT_PERF] = 0x117ff,
	[LVT_LINT0] = 0x1a7ff, [LVT_LINT1] = 0x1a7ff, [LVT_ERROR] = 0x100ff,
};

static bool x2apic(const struct lapic_state *s)
{
	return (s->apic_base & LAPIC_BASE_EXTD) != 0;
}

static bool sw_enabled(const struct lapic_state *s)
{
	return (s->svr & SVR_ENABLE) != 0;
}

static int bit_test(const uint32_t *v, unsigned n)
{
	return (v[n / 32] >> (n % 32)) & 1;
}

static void bit_set(uint32_t *v, unsigned n, int on)
{
	if (on)
		v[n / 32] |= 1u << (n % 32);
	else
		v[n / 32] &= ~(1u << (n % 32));
}

/* Highest vector set in a 256-bit register, or -1. */
static int highest(const uint32_t *v)
{
	for (int w = 7; w >= 0; w--)
		if (v[w])
			return w * 32 + 31 - __builtin_clz(v[w]);
	return -1;
}

static uint32_t ppr(const struct lapic_state *s)
{
	int isrv = highest(s->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;

	return (s->tpr & 0xf0) >= isr_class ? s->tpr & 0xff : isr_class;
}

static void accept(struct lapic_state *s, const struct vmm_bus *bus, uint8_t vector, int level,
		   unsigned src, unsigned detail);

static void error(struct lapic_state *s, const struct vmm_bus *bus, uint32_t bits)
{
	uint32_t lvt = s->lvt[LVT_ERROR];

	s->esr_pending |= bits;
	if (!(lvt & LVT_MASKED) && (lvt & 0xff) >= 16)
		accept(s, bus, (uint8_t)lvt, 0, VMM_IRQ_SRC_APIC_ERROR, 0);
}

/* A fixed interrupt arrives: into IRR (TMR says how it was triggered). */
static void accept(struct lapic_state *s, const struct vmm_bus *bus, uint8_t vector, int level,
		   unsigned src, unsigned detail)
{
	if (vector < 16) {
		vmm_dev_trace(bus, "lapic", "received vector 0x%x refused: vectors below 16 are "
			      "illegal (ESR bit 6)", vector);
		error(s, bus, ESR_RECV_ILLEGAL);
		return;
	}
	bit_set(s->irr, vector, 1);
	bit_set(s->tmr, vector, level);
	s->src[vector] = (uint8_t)src;
	s->detail[vector] = (uint8_t)detail;
}

/* Deliver through an LVT entry (timer, error, LINTn): fixed or NMI. */
static void lvt_fire(struct lapic_state *s, const struct vmm_bus *bus, unsigned n, unsigned src)
{
	uint32_t lvt = s->lvt[n];
	unsigned dm = (lvt >> 8) & 7;

	if (lvt & LVT_MASKED)
		return;
	if (n != LVT_TIMER && n != LVT_ERROR && dm == VMM_APIC_DM_NMI) {
		s->nmi_pending = 1;
		return;
	}
	accept(s, bus, (uint8_t)lvt, 0, src, n == LVT_LINT1);
}

/* ---- the timer -------------------------------------------------------------- */

static unsigned timer_shift(const struct lapic_state *s)
{
	unsigned v = s->timer_divide;

	return (((v & 3) | ((v >> 1) & 4)) + 1) & 7;
}

static uint64_t timer_period(const struct lapic_state *s)
{
	return (uint64_t)s->timer_initial << timer_shift(s);
}

static bool timer_periodic(const struct lapic_state *s)
{
	return ((s->lvt[LVT_TIMER] >> 17) & 3) == TIMER_PERIODIC;
}

/* The first expiry after now (periodic), from the load time. */
static uint64_t timer_after(const struct lapic_state *s, uint64_t now)
{
	uint64_t p = timer_period(s);

	if (p == 0)
		return LAPIC_NEVER;
	if (now < s->timer_start_ns + p)
		return s->timer_start_ns + p;
	return s->timer_start_ns + ((now - s->timer_start_ns) / p + 1) * p;
}

static uint32_t timer_current(const struct lapic_state *s, uint64_t now)
{
	uint64_t ticks;

	if (s->timer_initial == 0)
		return 0;
	ticks = now > s->timer_start_ns ? (now - s->timer_start_ns) >> timer_shift(s) : 0;
	if (timer_periodic(s))
		return s->timer_initial - (uint32_t)(ticks % s->timer_initial);
	return ticks >= s->timer_initial ? 0 : s->timer_initial - (uint32_t)ticks;
}

static uint64_t now_ns(const struct vmm_bus *bus)
{
	return bus->clock_ns(bus->ctx, VMM_CLOCK_MONOTONIC);
}

static void timer_load(struct lapic_state *s, const struct vmm_bus *bus, uint32_t count)
{
	s->timer_initial = count;
	if (count == 0) {
		s->timer_next_ns = LAPIC_NEVER;         /* writing 0 stops the timer */
		return;
	}
	s->timer_start_ns = now_ns(bus);
	s->timer_next_ns = s->timer_start_ns + timer_period(s);
}

/* The divide configuration or the mode changed while counting: keep the
 * count where it is and go on at the new rate or in the new mode. */
static void timer_rebase(struct lapic_state *s, const struct vmm_bus *bus, uint32_t new_divide,
			 uint32_t new_lvt)
{
	uint64_t now;
	uint32_t cur;
	bool was_running = s->timer_initial && (timer_periodic(s) || s->timer_next_ns != LAPIC_NEVER);

	if (!was_running) {
		s->timer_divide = new_divide;
		s->lvt[LVT_TIMER] = new_lvt;
		return;
	}
	now = now_ns(bus);
	cur = timer_current(s, now);
	s->timer_divide = new_divide;
	s->lvt[LVT_TIMER] = new_lvt;
	if (cur == 0)
		cur = s->timer_initial;
	s->timer_start_ns = now - ((uint64_t)(s->timer_initial - cur) << timer_shift(s));
	s->timer_next_ns = timer_after(s, now);
}

static uint64_t lapic_next_deadline(const void *state)
{
	const struct lapic_state *s = state;

	return s->timer_next_ns;
}

/* Deliver the timer interrupt if it expired. Periods missed while the vCPU
 * thread was late are coalesced into one, as for the PIT. */
static void lapic_poll(void *state, const struct vmm_bus *bus, uint64_t now)
{
	struct lapic_state *s = state;

	if (now < s->timer_next_ns)
		return;
	lvt_fire(s, bus, LVT_TIMER, VMM_IRQ_SRC_LAPIC_TIMER);
	s->timer_next_ns = timer_periodic(s) ? timer_after(s, now) : LAPIC_NEVER;
}

/* ---- the ICR ------------------------------------------------------------------ */

static bool to_me(const struct lapic_state *s, uint32_t dest, bool logical)
{
	if (x2apic(s))
		/* 0xff: the I/O APIC's 8-bit broadcast still reaches every CPU. */
		return logical ? ((dest >> 16) == (s->ldr >> 16) && (dest & s->ldr & 0xffff))
			       : (dest == s->id || dest == 0xffffffffu || dest == 0xff);
	if (!logical)
		return dest == (s->id & 0xff) || dest == 0xff;
	if ((s->dfr >> 28) == 0xf)                      /* flat model */
		return (dest & (s->ldr >> 24)) != 0;
	return (dest >> 4) == (s->ldr >> 28) && (dest & (s->ldr >> 24) & 0xf);  /* cluster */
}

static void icr_send(struct lapic_state *s, const struct vmm_bus *bus)
{
	uint8_t vector = (uint8_t)s->icr_lo;
	unsigned dm = (s->icr_lo >> 8) & 7, shorthand = (s->icr_lo >> 18) & 3;
	bool logical = (s->icr_lo >> 11) & 1, assert = (s->icr_lo >> 14) & 1;
	uint32_t dest = x2apic(s) ? s->icr_hi : s->icr_hi >> 24;
	bool self = shorthand == 1 || shorthand == 2 || (shorthand == 0 && to_me(s, dest, logical));

	switch (dm) {
	case VMM_APIC_DM_FIXED:
	case VMM_APIC_DM_LOWEST:
		if (vector < 16) {
			vmm_dev_trace(bus, "lapic", "ICR vector 0x%x refused: vectors below 16 are "
				      "illegal (ESR bit 5)", vector);
			error(s, bus, ESR_SEND_ILLEGAL);
			return;
		}
		if (self)
			accept(s, bus, vector, 0, VMM_IRQ_SRC_SELF_IPI, 0);
		return;
	case VMM_APIC_DM_NMI:
		if (self)
			s->nmi_pending = 1;
		return;
	case VMM_APIC_DM_INIT:
		/* The level-deassert INIT of the MP start-up sequence does
		 * nothing; an INIT to this CPU would reset it, which rrvm does
		 * not model. Other CPUs do not exist. */
		if (self && assert)
			vmm_dev_trace(bus, "lapic", "INIT to self ignored (ICR 0x%x): rrvm does not "
				      "reset the vCPU", s->icr_lo);
		return;
	case VMM_APIC_DM_STARTUP:
		return;                 /* no application processors to start */
	default:
		vmm_dev_trace(bus, "lapic", "reserved delivery mode %u in ICR 0x%x: not delivered",
			      dm, s->icr_lo);
		return;
	}
}

/* ---- registers ----------------------------------------------------------------- */

static void eoi(struct lapic_state *s, const struct vmm_bus *bus)
{
	int v = highest(s->isr);

	if (v < 0)
		return;
	bit_set(s->isr, (unsigned)v, 0);
	if (bit_test(s->tmr, (unsigned)v) && bus->apic_eoi)
		bus->apic_eoi(bus->ctx, (uint8_t)v);
}

static bool read_reg(struct lapic_state *s, const struct vmm_bus *bus, unsigned reg, uint64_t *out)
{
	uint64_t v = 0;

	switch (reg) {
	case R_ID: v = x2apic(s) ? s->id : s->id << 24; break;
	case R_VERSION: v = LAPIC_VERSION; break;
	case R_TPR: v = s->tpr; break;
	case R_APR: v = 0; break;
	case R_PPR: v = ppr(s); break;
	case R_LDR: v = s->ldr; break;
	case R_DFR: if (x2apic(s)) return false; v = s->dfr; break;
	case R_SVR: v = s->svr; break;
	case R_ESR: v = s->esr; break;
	case R_ICR: v = s->icr_lo & ~(1u << 12);        /* delivery is instant: never busy */
		if (x2apic(s))
			v |= (uint64_t)s->icr_hi << 32;
		break;
	case R_ICR2: if (x2apic(s)) return false; v = s->icr_hi; break;
	case R_LVT_TIMER: case R_LVT_THERMAL: case R_LVT_PERF: case R_LVT_LINT0:
	case R_LVT_LINT1: case R_LVT_ERROR:
		v = s->lvt[(reg - R_LVT_TIMER) >> 4];
		break;
	case R_TIMER_INITIAL: v = s->timer_initial; break;
	case R_TIMER_CURRENT: v = timer_current(s, now_ns(bus)); break;
	case R_TIMER_DIVIDE: v = s->timer_divide; break;
	default:
		if (reg >= R_ISR && reg < R_ISR + 0x80)
			v = s->isr[(reg - R_ISR) >> 4];
		else if (reg >= R_TMR && reg < R_TMR + 0x80)
			v = s->tmr[(reg - R_TMR) >> 4];
		else if (reg >= R_IRR && reg < R_IRR + 0x80)
			v = s->irr[(reg - R_IRR) >> 4];
		else
			return false;   /* reserved, or write-only (EOI, SELF_IPI) */
		break;
	}
	*out = v;
	return true;
}

static bool read_only(unsigned reg)
{
	return reg == R_VERSION || reg == R_APR || reg == R_PPR || reg == R_RRD ||
	       reg == R_TIMER_CURRENT || (reg >= R_ISR && reg < R_IRR + 0x80);
}

static void write_lvt(struct lapic_state *s, const struct vmm_bus *bus, unsigned n, uint32_t v)
{
	v &= lvt_valid[n];
	if (!sw_enabled(s))
		v |= LVT_MASKED;        /* software-disabled: the masks stay set */
	if (n == LVT_TIMER) {
		if (((v >> 17) & 3) == TIMER_TSC_DEADLINE) {
			vmm_dev_trace(bus, "lapic", "LVT timer 0x%x selects TSC-deadline mode, which "
				      "CPUID does not offer: one-shot instead", v);
			v &= ~(3u << 17);
		}
		if ((v ^ s->lvt[LVT_TIMER]) & (3u << 17))
			timer_rebase(s, bus, s->timer_divide, v);
		else
			s->lvt[LVT_TIMER] = v;
		return;
	}
	if ((n == LVT_LINT0 || n == LVT_LINT1) && (((v >> 8) & 7) == 3 || ((v >> 8) & 7) == 6))
		vmm_dev_trace(bus, "lapic", "LVT %s 0x%x: reserved delivery mode",
			      n == LVT_LINT0 ? "LINT0" : "LINT1", v);
	s->lvt[n] = v;
}

/* x2apic says whether this came in as an MSR (read-only writes fault). */
static bool write_reg(struct lapic_state *s, const struct vmm_bus *bus, unsigned reg, uint64_t v64,
		      bool x2)
{
	uint32_t v = (uint32_t)v64;

	switch (reg) {
	case R_ID:
		if (x2)
			return false;
		s->id = v >> 24;        /* writable in xAPIC mode, as on P6 and QEMU */
		return true;
	case R_TPR: s->tpr = v & 0xff; return true;
	case R_EOI:
		if (x2 && v64)
			return false;
		eoi(s, bus);
		return true;
	case R_LDR:
		if (x2)
			return false;
		s->ldr = v & 0xff000000u;
		return true;
	case R_DFR:
		if (x2)
			return false;
		s->dfr = v | 0x0fffffffu;
		return true;
	case R_SVR:
		s->svr = v & 0x3ff;     /* no EOI-broadcast suppression (version bit 24) */
		if (!sw_enabled(s))
			for (unsigned n = 0; n < LVT_COUNT; n++)
				s->lvt[n] |= LVT_MASKED;
		return true;
	case R_ESR:
		if (x2 && v64)
			return false;
		s->esr = s->esr_pending;        /* a write latches the errors since the last */
		s->esr_pending = 0;
		return true;
	case R_ICR:
		/* Vector, delivery and destination mode, level, trigger,
		 * shorthand; delivery status (bit 12) is the APIC's. */
		if (x2)
			s->icr_hi = (uint32_t)(v64 >> 32);
		s->icr_lo = v & 0xccfff;
		icr_send(s, bus);
		return true;
	case R_ICR2:
		if (x2)
			return false;
		s->icr_hi = v & 0xff000000u;
		return true;
	case R_LVT_CMCI:
		return !x2;             /* no CMCI: MCG_CAP says so; ignored */
	case R_LVT_TIMER: case R_LVT_THERMAL: case R_LVT_PERF: case R_LVT_LINT0:
	case R_LVT_LINT1: case R_LVT_ERROR:
		write_lvt(s, bus, (reg - R_LVT_TIMER) >> 4, v);
		return true;
	case R_TIMER_INITIAL:
		timer_load(s, bus, v);
		return true;
	case R_TIMER_DIVIDE:
		timer_rebase(s, bus, v & 0xb, s->lvt[LVT_TIMER]);
		return true;
	case R_SELF_IPI:
		if (!x2)
			break;
		if ((v & 0xff) < 16) {
			vmm_dev_trace(bus, "lapic", "SELF_IPI vector 0x%x refused: vectors below 16 "
				      "are illegal (ESR bit 5)", v & 0xff);
			error(s, bus, ESR_SEND_ILLEGAL);
		} else {
			accept(s, bus, (uint8_t)v, 0, VMM_IRQ_SRC_SELF_IPI, 0);
		}
		return true;
	default:
		break;
	}
	if (read_only(reg)) {
		vmm_dev_trace(bus, "lapic", "write 0x%x to read-only register 0x%x %s", v, reg,
			      x2 ? "(#GP)" : "ignored");
		return !x2;
	}
	vmm_dev_trace(bus, "lapic", "write 0x%x to reserved register 0x%x %s", v, reg,
		      x2 ? "(#GP)" : "ignored (ESR bit 7)");
	if (!x2)
		error(s, bus, ESR_ILLEGAL_REG);
	return !x2;
}

/* ---- the IA32_APIC_BASE MSR ---------------------------------------------------- */

static void reset_registers(struct lapic_state *s)
{
	uint64_t base = s->apic_base;

	memset(s, 0, sizeof(*s));
	s->apic_base = base;
	s->dfr = 0xffffffffu;
	s->svr = 0xff;
	for (unsigned n = 0; n < LVT_COUNT; n++)
		s->lvt[n] = LVT_MASKED;
	/* LINT0 as the firmware leaves it on the BSP: ExtINT from the 8259
	 * (virtual wire), so PIC-only kernels work without touching the APIC. */
	s->lvt[LVT_LINT0] = VMM_APIC_DM_EXTINT << 8;
	s->timer_next_ns = LAPIC_NEVER;
}

static bool write_apic_base(struct lapic_state *s, const struct vmm_bus *bus, uint64_t v)
{
	bool en = v & LAPIC_BASE_EN, extd = v & LAPIC_BASE_EXTD;
	bool was_en = s->apic_base & LAPIC_BASE_EN, was_extd = x2apic(s);

	/* SDM 10.12.5: reserved bits, x2APIC without the enable bit, and
	 * x2APIC back to xAPIC without disabling first all #GP. */
	if ((v & ~(LAPIC_BASE_ADDR_MASK | LAPIC_BASE_BSP | LAPIC_BASE_EXTD | LAPIC_BASE_EN)) ||
	    (extd && !en) || (was_extd && en && !extd)) {
		vmm_dev_trace(bus, "lapic", "wrmsr IA32_APIC_BASE 0x%llx refused (#GP), it stays "
			      "0x%llx", (unsigned long long)v, (unsigned long long)s->apic_base);
		return false;
	}
	v = (v & ~LAPIC_BASE_BSP) | LAPIC_BASE_BSP;
	if ((v ^ s->apic_base) & LAPIC_BASE_ADDR_MASK)
		vmm_dev_trace(bus, "lapic", "the guest moved the APIC page from 0x%llx to 0x%llx",
			      (unsigned long long)(s->apic_base & LAPIC_BASE_ADDR_MASK),
			      (unsigned long long)(v & LAPIC_BASE_ADDR_MASK));
	s->apic_base = v;
	if (was_en && !en)
		reset_registers(s);     /* globally disabled: back to power-on */
	if (extd && !was_extd)
		s->ldr = ((s->id >> 4) << 16) | (1u << (s->id & 0xf));
	return true;
}

static void lapic_reset(void *state)
{
	struct lapic_state *s = state;

	s->apic_base = LAPIC_DEFAULT_BASE | LAPIC_BASE_EN | LAPIC_BASE_BSP;
	reset_registers(s);
}

static uint64_t lapic_range_base(const void *state, unsigned r)
{
	const struct lapic_state *s = state;

	if (r != 0)
		return r == 1 ? LAPIC_MSR_BASE : LAPIC_X2_MSR;
	/* The page answers only while the APIC is on and in xAPIC mode. */
	if (!(s->apic_base & LAPIC_BASE_EN) || x2apic(s))
		return LAPIC_NOWHERE;
	return s->apic_base & LAPIC_BASE_ADDR_MASK;
}

static void lapic_access(void *state, const struct vmm_bus *bus, struct vmm_io *io)
{
	struct lapic_state *s = state;

	if (io->space == VMM_SPACE_MMIO) {
		unsigned off = (unsigned)(io->addr & 0xfff), reg = off & 0xff0, sub = off & 0xf;
		uint64_t v = 0;

		if (off >= 0x400) {
			/* Past the last register: nothing there. */
			if (io->write)
				vmm_dev_trace(bus, "lapic", "write 0x%llx at offset 0x%x: no register",
					      (unsigned long long)io->value, off);
			io->value = 0;
			return;
		}
		if (io->write) {
			/* Registers are 32 bits at 16-byte steps; other writes
			 * are undefined on hardware and dropped here. */
			if (sub != 0 || io->size != 4)
				vmm_dev_trace(bus, "lapic", "%u-byte write at offset 0x%x ignored: "
					      "registers take aligned 32-bit writes", io->size, off);
			else
				write_reg(s, bus, reg, io->value, false);
			return;
		}
		if (reg == R_TIMER_CURRENT && sub >= 4) {
			io->value = 0;          /* no clock read for the unused bytes */
			return;
		}
		if (!read_reg(s, bus, reg, &v))
			v = 0;
		if (reg == R_ICR)
			v = (uint32_t)v;
		io->value = sub < 4 ? v >> (8 * sub) : 0;
		if (io->size < 8)
			io->value &= (1ull << (8 * io->size)) - 1;
		return;
	}
	if (io->addr == LAPIC_MSR_BASE) {
		if (io->write)
			io->fault = !write_apic_base(s, bus, io->value);
		else
			io->value = s->apic_base;
		return;
	}
	/* x2APIC registers: only in x2APIC mode, else #GP as on hardware. */
	if (!x2apic(s)) {
		io->fault = true;
		return;
	}
	{
		unsigned reg = (unsigned)(io->addr - LAPIC_X2_MSR) << 4;

		if (io->write)
			io->fault = !write_reg(s, bus, reg, io->value, true);
		else
			io->fault = !read_reg(s, bus, reg, &io->value);
	}
}

/* ---- the interrupt path --------------------------------------------------------- */

void vmm_lapic_message(void *lapic_state, const struct vmm_bus *bus, const struct vmm_apic_msg *m)
{
	struct lapic_state *s = lapic_state;

	if (!(s->apic_base & LAPIC_BASE_EN) || !to_me(s, m->dest, m->logical))
		return;
	switch (m->mode) {
	case VMM_APIC_DM_FIXED:
	case VMM_APIC_DM_LOWEST:
		accept(s, bus, m->vector, m->level, m->src, m->detail);
		break;
	case VMM_APIC_DM_NMI:
		s->nmi_pending = 1;
		break;
	default:
		vmm_dev_trace(bus, "lapic", "message with delivery mode %u for vector 0x%x not "
			      "delivered", m->mode, m->vector);
		break;
	}
}

int vmm_lapic_pending(const void *lapic_state)
{
	const struct lapic_state *s = lapic_state;
	int v;

	if (s->nmi_pending)
		return VMM_LAPIC_NMI;
	if (!(s->apic_base & LAPIC_BASE_EN) || !sw_enabled(s))
		return -1;
	v = highest(s->irr);
	if (v < 0 || ((unsigned)v & 0xf0) <= (ppr(s) & 0xf0))
		return -1;
	return v;
}

int vmm_lapic_ack(void *lapic_state)
{
	struct lapic_state *s = lapic_state;
	int v = vmm_lapic_pending(s);

	if (v == VMM_LAPIC_NMI) {
		s->nmi_pending = 0;
		s->last_src = VMM_IRQ_SRC_NMI;
		s->last_detail = 0;
		return v;
	}
	if (v < 0)
		return -1;
	bit_set(s->irr, (unsigned)v, 0);
	bit_set(s->isr, (unsigned)v, 1);
	s->last_src = s->src[v];
	s->last_detail = s->detail[v];
	return v;
}

bool vmm_lapic_accepts_pic(const void *lapic_state)
{
	const struct lapic_state *s = lapic_state;

	/* QEMU's rule (apic_accept_pic_intr): a globally disabled APIC passes
	 * INTR straight through; otherwise LINT0 must be unmasked. */
	return !(s->apic_base & LAPIC_BASE_EN) || !(s->lvt[LVT_LINT0] & LVT_MASKED);
}

unsigned vmm_lapic_last_source(const void *lapic_state, unsigned *detail)
{
	const struct lapic_state *s = lapic_state;

	*detail = s->last_detail;
	return s->last_src;
}

uint8_t vmm_lapic_tpr(const void *lapic_state)
{
	return (uint8_t)((const struct lapic_state *)lapic_state)->tpr;
}

void vmm_lapic_set_tpr(void *lapic_state, uint8_t tpr)
{
	((struct lapic_state *)lapic_state)->tpr = tpr;
}

const struct vmm_device vmm_dev_lapic = {
	.name = "lapic",
	.ranges = {
		{ VMM_SPACE_MMIO, LAPIC_DEFAULT_BASE, 0x1000 },
		{ VMM_SPACE_MSR, LAPIC_MSR_BASE, 1 },
		{ VMM_SPACE_MSR, LAPIC_X2_MSR, 0x100 },
	},
	.state_size = sizeof(struct lapic_state),
	.reset = lapic_reset,
	.access = lapic_access,
	.range_base = lapic_range_base,
	.next_deadline = lapic_next_deadline,
	.poll = lapic_poll,
};
