/*
 * dev_pic.c — the 8259A programmable interrupt controller pair of a PC:
 * master at 0x20-0x21, slave at 0xa0-0xa1 cascaded on the master's IRQ2,
 * and the edge/level control registers (ELCR) at 0x4d0-0x4d1 as on the
 * PIIX south bridge.
 *
 * The machine drives ISA lines with vmm_pic_set_irq(), asks which vector
 * the pair would deliver with vmm_pic_pending() and acknowledges it with
 * vmm_pic_ack() when it injects the interrupt (the INTA cycle). Everything
 * here is plain state: no time, no output of its own.
 *
 * Follows the Intel 8259A datasheet: ICW1-ICW4 initialisation, OCW1 (mask),
 * OCW2 (EOI, specific EOI, the rotate commands, set priority), OCW3 (IRR/ISR
 * read select, poll, special mask mode), auto-EOI with optional rotation,
 * special fully nested mode on the master, and spurious IRQ7/IRQ15.
 */
#include <stdint.h>
#include "vmm/devices.h"

#define PIC_MASTER_BASE 0x20
#define PIC_SLAVE_BASE 0xa0
#define PIC_ELCR_BASE 0x4d0
#define PIC_CASCADE_LINE 2

/* PIIX: IRQ0, 1, 2 (master) and IRQ8, 13 (slave) are always edge triggered. */
#define PIC_ELCR_MASK_MASTER 0xf8
#define PIC_ELCR_MASK_SLAVE 0xde

enum pic_init_state {
	PIC_READY = 0,
	PIC_WANT_ICW2,
	PIC_WANT_ICW3,
	PIC_WANT_ICW4,
};

struct pic_chip {
	uint8_t irr;            /* requests: latched edges, or line levels in level mode */
	uint8_t isr;            /* in service */
	uint8_t imr;            /* masked lines */
	uint8_t lines;          /* current input levels, for edge detection */
	uint8_t elcr;           /* 1 = level triggered */
	uint8_t elcr_mask;      /* which ELCR bits exist */
	uint8_t vector_base;    /* ICW2 & 0xf8 */
	uint8_t icw3;
	uint8_t lowest_prio;    /* rotation: priority order starts at lowest_prio + 1 */
	uint8_t init_state;
	uint8_t icw4_wanted;
	uint8_t single;
	uint8_t auto_eoi;
	uint8_t rotate_auto_eoi;
	uint8_t fully_nested;   /* special fully nested mode (SFNM) */
	uint8_t read_isr;       /* OCW3 RR/RIS: read ISR instead of IRR */
	uint8_t poll;           /* OCW3 P: next read is a poll */
	uint8_t special_mask;   /* special mask mode */
};

struct pic_state {
	struct pic_chip chip[2];        /* 0 master, 1 slave */
};

/* Priority rank (0 = highest) of the highest-priority bit in mask, or 8. */
static unsigned pic_rank(const struct pic_chip *c, uint8_t mask)
{
	for (unsigned rank = 0; rank < 8; rank++)
		if (mask & (1u << ((rank + c->lowest_prio + 1) & 7)))
			return rank;
	return 8;
}

static unsigned pic_rank_line(const struct pic_chip *c, unsigned rank)
{
	return (rank + c->lowest_prio + 1) & 7;
}

/* The line this chip would raise INT for now, or -1. master says whether
 * SFNM applies (it only matters on the master, for the cascade line). */
static int pic_chip_request(const struct pic_chip *c, int master)
{
	unsigned want = pic_rank(c, c->irr & ~c->imr);
	uint8_t blocking = c->isr;

	if (want == 8)
		return -1;
	/* Special mask mode: a masked level in service does not block others. */
	if (c->special_mask)
		blocking &= ~c->imr;
	/* SFNM: a higher-priority slave request may nest inside the cascade. */
	if (c->fully_nested && master)
		blocking &= ~(1u << PIC_CASCADE_LINE);
	if (want < pic_rank(c, blocking))
		return (int)pic_rank_line(c, want);
	return -1;
}

static void pic_chip_set_line(struct pic_chip *c, unsigned line, int level)
{
	uint8_t bit = (uint8_t)(1u << line);

	if (c->elcr & bit) {
		if (level)
			c->irr |= bit;
		else
			c->irr &= ~bit;
	} else if (level && !(c->lines & bit)) {
		/* Edge mode latches the rising edge; the request stays when the
		 * line drops again (a PIT pulse is raise-then-lower). */
		c->irr |= bit;
	}
	if (level)
		c->lines |= bit;
	else
		c->lines &= ~bit;
}

/* The slave's INT output is the master's IRQ2 input. Call after any change
 * to the slave. reedge forces a fresh edge: a real slave drops INT during
 * the INTA cycle and raises it again if more requests are waiting, which
 * matters when the slave uses auto-EOI. */
static void pic_update_cascade(struct pic_state *s, int reedge)
{
	int out = pic_chip_request(&s->chip[1], 0) >= 0;

	if (reedge)
		pic_chip_set_line(&s->chip[0], PIC_CASCADE_LINE, 0);
	pic_chip_set_line(&s->chip[0], PIC_CASCADE_LINE, out);
}

static void pic_chip_intack(struct pic_chip *c, unsigned line)
{
	uint8_t bit = (uint8_t)(1u << line);

	if (c->auto_eoi) {
		if (c->rotate_auto_eoi)
			c->lowest_prio = (uint8_t)line;
	} else {
		c->isr |= bit;
	}
	/* A level-triggered request stays until the device drops its line. */
	if (!(c->elcr & bit))
		c->irr &= ~bit;
}

static void pic_chip_reset(struct pic_chip *c, uint8_t elcr_mask, uint8_t base, uint8_t imr)
{
	*c = (struct pic_chip){
		.imr = imr,
		.elcr_mask = elcr_mask,
		.vector_base = base,
		.lowest_prio = 7,
	};
}

/*
 * Power-on state: initialised as a PC BIOS leaves the pair (master vectors
 * 0x08, slave 0x70, 8086 mode, edge triggered), but with every line masked
 * except the cascade. rrvm runs no BIOS; a guest that enabled interrupts
 * before programming the PIC would otherwise take IRQ0 on vector 8 (#DF).
 */
static void pic_reset(void *state)
{
	struct pic_state *s = state;

	pic_chip_reset(&s->chip[0], PIC_ELCR_MASK_MASTER, 0x08, 0xfb);
	pic_chip_reset(&s->chip[1], PIC_ELCR_MASK_SLAVE, 0x70, 0xff);
	s->chip[0].icw3 = 1u << PIC_CASCADE_LINE;
	s->chip[1].icw3 = PIC_CASCADE_LINE;
}

/* ICW1: restart initialisation. Per the datasheet the edge sense circuit
 * is reset (a line already high must fall and rise again to request), IMR
 * and ISR are cleared, IR7 gets the lowest priority, special mask mode is
 * cleared and reads select the IRR. LTIM (bit 3) is ignored: on a PC the
 * ELCR chooses level mode per line, as on the PIIX. */
static void pic_icw1(struct pic_chip *c, uint8_t v)
{
	c->irr = c->lines & c->elcr;
	c->isr = 0;
	c->imr = 0;
	c->lowest_prio = 7;
	c->special_mask = 0;
	c->read_isr = 0;
	c->poll = 0;
	c->icw4_wanted = v & 1;
	c->single = (v >> 1) & 1;
	/* Without ICW4 every ICW4 function is zero. */
	c->auto_eoi = 0;
	c->rotate_auto_eoi = 0;
	c->fully_nested = 0;
	c->init_state = PIC_WANT_ICW2;
}

static void pic_ocw2(struct pic_chip *c, uint8_t v)
{
	unsigned cmd = v >> 5, line = v & 7, rank;

	switch (cmd) {
	case 0: /* rotate in auto-EOI mode: clear */
		c->rotate_auto_eoi = 0;
		break;
	case 4: /* rotate in auto-EOI mode: set */
		c->rotate_auto_eoi = 1;
		break;
	case 1: /* non-specific EOI */
	case 5: /* rotate on non-specific EOI */
		rank = pic_rank(c, c->isr);
		if (rank == 8)
			break;
		line = pic_rank_line(c, rank);
		c->isr &= ~(1u << line);
		if (cmd == 5)
			c->lowest_prio = (uint8_t)line;
		break;
	case 3: /* specific EOI */
		c->isr &= ~(1u << line);
		break;
	case 7: /* rotate on specific EOI */
		c->isr &= ~(1u << line);
		c->lowest_prio = (uint8_t)line;
		break;
	case 6: /* set priority: line becomes the lowest */
		c->lowest_prio = (uint8_t)line;
		break;
	default: /* 2: no operation */
		break;
	}
}

static void pic_ocw3(struct pic_chip *c, uint8_t v)
{
	if (v & 0x04)
		c->poll = 1;
	if (v & 0x02)
		c->read_isr = v & 1;
	if (v & 0x40)
		c->special_mask = (v >> 5) & 1;
}

static void pic_chip_write(struct pic_chip *c, unsigned a0, uint8_t v)
{
	if (a0 == 0) {
		if (v & 0x10)
			pic_icw1(c, v);
		else if (v & 0x08)
			pic_ocw3(c, v);
		else
			pic_ocw2(c, v);
		return;
	}
	switch (c->init_state) {
	case PIC_WANT_ICW2:
		/* 8086 mode: T7-T3 of the vector; A10-A8 (ICW2 low bits) are
		 * meaningful only in MCS-80/85 mode, which we do not emulate. */
		c->vector_base = v & 0xf8;
		if (!c->single)
			c->init_state = PIC_WANT_ICW3;
		else
			c->init_state = c->icw4_wanted ? PIC_WANT_ICW4 : PIC_READY;
		break;
	case PIC_WANT_ICW3:
		c->icw3 = v;
		c->init_state = c->icw4_wanted ? PIC_WANT_ICW4 : PIC_READY;
		break;
	case PIC_WANT_ICW4:
		/* uPM (bit 0) and buffered mode (bits 2-3) change nothing visible
		 * to software on a PC; we always deliver 8086-style vectors. */
		c->auto_eoi = (v >> 1) & 1;
		c->fully_nested = (v >> 4) & 1;
		c->init_state = PIC_READY;
		break;
	default:
		c->imr = v;
		break;
	}
}

/* The poll command: the read acts as an interrupt acknowledge and returns
 * 0x80 | line, or 0 when nothing is requesting. */
static uint8_t pic_poll_read(struct pic_state *s, unsigned which)
{
	struct pic_chip *c = &s->chip[which];
	int line = pic_chip_request(c, which == 0);

	c->poll = 0;
	if (line < 0)
		return 0;
	pic_chip_intack(c, (unsigned)line);
	return (uint8_t)(0x80 | line);
}

static uint8_t pic_chip_read(struct pic_state *s, unsigned which, unsigned a0)
{
	struct pic_chip *c = &s->chip[which];

	if (c->poll)
		return pic_poll_read(s, which);
	if (a0)
		return c->imr;
	return c->read_isr ? c->isr : c->irr;
}

/* 8-bit registers: a 2- or 4-byte access is treated as an access to the
 * low byte; the upper bytes of a read are zero. */
static uint32_t pic_pio_in(void *state, const struct vmm_bus *bus, uint16_t port, unsigned size)
{
	struct pic_state *s = state;
	uint8_t v;

	switch (port) {
	case PIC_MASTER_BASE:
	case PIC_MASTER_BASE + 1:
		v = pic_chip_read(s, 0, port & 1);
		break;
	case PIC_SLAVE_BASE:
	case PIC_SLAVE_BASE + 1:
		v = pic_chip_read(s, 1, port & 1);
		pic_update_cascade(s, 0);
		break;
	case PIC_ELCR_BASE:
	case PIC_ELCR_BASE + 1:
		v = s->chip[port - PIC_ELCR_BASE].elcr;
		break;
	default:
		return size == 1 ? 0xff : size == 2 ? 0xffff : 0xffffffff;
	}
	return v;
}

static void pic_write_elcr(struct pic_chip *c, uint8_t v)
{
	c->elcr = v & c->elcr_mask;
	/* Level lines request while high; switching to edge keeps a latched
	 * request (it was a valid request when it was taken). */
	c->irr = (uint8_t)((c->irr & ~c->elcr) | (c->lines & c->elcr));
}

static void pic_pio_out(void *state, const struct vmm_bus *bus, uint16_t port, unsigned size,
			uint32_t value)
{
	struct pic_state *s = state;
	uint8_t v = (uint8_t)value;

	switch (port) {
	case PIC_MASTER_BASE:
	case PIC_MASTER_BASE + 1:
		pic_chip_write(&s->chip[0], port & 1, v);
		/* ICW1 on the master resets its edge sense, the cascade too. */
		pic_update_cascade(s, 0);
		break;
	case PIC_SLAVE_BASE:
	case PIC_SLAVE_BASE + 1:
		pic_chip_write(&s->chip[1], port & 1, v);
		pic_update_cascade(s, 0);
		break;
	case PIC_ELCR_BASE:
		pic_write_elcr(&s->chip[0], v);
		break;
	case PIC_ELCR_BASE + 1:
		pic_write_elcr(&s->chip[1], v);
		pic_update_cascade(s, 0);
		break;
	default:
		break;
	}
}

void vmm_pic_set_irq(void *pic_state, unsigned irq, int level)
{
	struct pic_state *s = pic_state;

	if (irq > 15)
		return;
	/* On an AT the ISA bus IRQ2 pin is wired to the slave's IR1 (IRQ9);
	 * the master's IR2 is taken by the cascade. */
	if (irq == PIC_CASCADE_LINE)
		irq = 9;
	if (irq < 8) {
		pic_chip_set_line(&s->chip[0], irq, level != 0);
	} else {
		pic_chip_set_line(&s->chip[1], irq - 8, level != 0);
		pic_update_cascade(s, 0);
	}
}

/* What an INTA cycle would return: the vector, and the lines the master
 * and slave would acknowledge (-1 for none). When the master's request went
 * away before the acknowledge it answers with its IR7 vector without setting
 * ISR; when the master took the cascade but the slave's request went away,
 * the slave answers with its IR7 (IRQ15). */
static int pic_inta_peek(const struct pic_state *s, int *mline, int *sline)
{
	const struct pic_chip *m = &s->chip[0], *sl = &s->chip[1];

	*mline = pic_chip_request(m, 1);
	*sline = -1;
	if (*mline < 0)
		return m->vector_base + 7;
	if (*mline != PIC_CASCADE_LINE || m->single)
		return m->vector_base + *mline;
	*sline = pic_chip_request(sl, 0);
	if (*sline < 0)
		return sl->vector_base + 7;
	return sl->vector_base + *sline;
}

int vmm_pic_pending(const void *pic_state)
{
	int mline, sline;
	int vector = pic_inta_peek(pic_state, &mline, &sline);

	return mline < 0 ? -1 : vector;
}

int vmm_pic_ack(void *pic_state)
{
	struct pic_state *s = pic_state;
	int mline, sline;
	int vector = pic_inta_peek(s, &mline, &sline);

	if (mline < 0)
		return vector;
	if (sline >= 0)
		pic_chip_intack(&s->chip[1], (unsigned)sline);
	pic_chip_intack(&s->chip[0], (unsigned)mline);
	if (mline == PIC_CASCADE_LINE)
		pic_update_cascade(s, 1);
	return vector;
}

VMM_PIO_ACCESS(pic_access, pic_pio_in, pic_pio_out)

const struct vmm_device vmm_dev_pic = {
	.name = "pic",
	.ranges = {
		{ VMM_SPACE_PIO, PIC_MASTER_BASE, 2 },
		{ VMM_SPACE_PIO, PIC_SLAVE_BASE, 2 },
		{ VMM_SPACE_PIO, PIC_ELCR_BASE, 2 },
	},
	.state_size = sizeof(struct pic_state),
	.reset = pic_reset,
	.access = pic_access,
	.next_deadline = NULL,
	.poll = NULL,
};
