/*
 * dev_uart.c — a 16550A UART as COM1 (0x3f8-0x3ff, IRQ4).
 *
 * Transmit is instantaneous: each byte written to THR goes straight to
 * bus->output(VMM_OUT_SERIAL) (or, in loopback mode, into the receive
 * FIFO), so THR and the shift register always read as empty. Receive
 * bytes come from the machine through vmm_uart_rx_push(), which takes no
 * more than the FIFO has room for; nothing is ever dropped on that path.
 *
 * Interrupts follow the PC16550D datasheet: IIR reports the highest
 * priority source (line status > received data or character timeout >
 * THR empty > modem status); the IRQ4 line is the chip's INTR gated by
 * MCR.OUT2, as the PC's bus buffer is. Two simplifications, both because
 * rrvm models no per-character timing: the receive character timeout
 * (IIR 0xC) is indicated at once whenever the FIFO holds fewer bytes than
 * the trigger level, and the line settings (divisor, LCR) only read back.
 */
#include <stdint.h>
#include "vmm/devices.h"

#define UART_BASE 0x3f8
#define UART_IRQ 4
#define UART_FIFO_SIZE 16

enum {
	UART_RBR_THR = 0, UART_IER = 1, UART_IIR_FCR = 2, UART_LCR = 3,
	UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7,
};

#define UART_IER_RDI 0x01       /* received data available */
#define UART_IER_THRI 0x02      /* THR empty */
#define UART_IER_RLSI 0x04      /* receiver line status */
#define UART_IER_MSI 0x08       /* modem status */

#define UART_IIR_NONE 0x01
#define UART_IIR_MSI 0x00
#define UART_IIR_THRI 0x02
#define UART_IIR_RDI 0x04
#define UART_IIR_RLSI 0x06
#define UART_IIR_TIMEOUT 0x0c
#define UART_IIR_FIFO 0xc0

#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLEAR_RX 0x02

#define UART_LCR_DLAB 0x80

#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08
#define UART_MCR_LOOP 0x10

#define UART_LSR_DR 0x01
#define UART_LSR_OE 0x02
#define UART_LSR_ERRORS 0x1e    /* OE, PE, FE, BI: cleared by reading LSR */
#define UART_LSR_THRE 0x20
#define UART_LSR_TEMT 0x40

#define UART_MSR_CTS 0x10
#define UART_MSR_DSR 0x20
#define UART_MSR_RI 0x40
#define UART_MSR_DCD 0x80
#define UART_MSR_TERI 0x04

struct uart_state {
	uint8_t fifo[UART_FIFO_SIZE];
	uint8_t rx_head;
	uint8_t rx_count;
	uint8_t rbr_last;       /* what RBR reads when empty */
	uint8_t ier, lcr, mcr, fcr, scr, dll, dlm;
	uint8_t lsr_errors;     /* OE, PE, FE, BI */
	uint8_t msr_delta;      /* DCTS, DDSR, TERI, DDCD */
	uint8_t thre_pending;   /* THR-empty interrupt not yet acknowledged */
	uint8_t irq_level;
};

static int uart_fifo_on(const struct uart_state *s)
{
	return s->fcr & UART_FCR_ENABLE;
}

static unsigned uart_rx_capacity(const struct uart_state *s)
{
	return uart_fifo_on(s) ? UART_FIFO_SIZE : 1;
}

static unsigned uart_trigger(const struct uart_state *s)
{
	static const uint8_t levels[4] = { 1, 4, 8, 14 };

	return levels[s->fcr >> 6];
}

/* Modem status inputs. Outside loopback, the other end is a terminal that
 * is always there: CTS, DSR and DCD asserted, no ring. In loopback they
 * are wired to the modem control outputs. */
static uint8_t uart_msr_lines(uint8_t mcr)
{
	if (!(mcr & UART_MCR_LOOP))
		return UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
	return (uint8_t)(((mcr & UART_MCR_RTS) ? UART_MSR_CTS : 0) |
			 ((mcr & UART_MCR_DTR) ? UART_MSR_DSR : 0) |
			 ((mcr & UART_MCR_OUT1) ? UART_MSR_RI : 0) |
			 ((mcr & UART_MCR_OUT2) ? UART_MSR_DCD : 0));
}

/* Interrupt identification, highest priority first. */
static uint8_t uart_iid(const struct uart_state *s)
{
	if ((s->ier & UART_IER_RLSI) && s->lsr_errors)
		return UART_IIR_RLSI;
	if ((s->ier & UART_IER_RDI) && s->rx_count) {
		if (uart_fifo_on(s) && s->rx_count < uart_trigger(s))
			return UART_IIR_TIMEOUT;
		return UART_IIR_RDI;
	}
	if ((s->ier & UART_IER_THRI) && s->thre_pending)
		return UART_IIR_THRI;
	if ((s->ier & UART_IER_MSI) && s->msr_delta)
		return UART_IIR_MSI;
	return UART_IIR_NONE;
}

/* IRQ4 is INTR through a buffer enabled by OUT2. In loopback the OUT2 pin
 * is forced inactive, so a PC sees no interrupts then. */
static void uart_update_irq(struct uart_state *s, const struct vmm_bus *bus)
{
	uint8_t level = uart_iid(s) != UART_IIR_NONE && (s->mcr & UART_MCR_OUT2) &&
			!(s->mcr & UART_MCR_LOOP);

	if (level != s->irq_level) {
		s->irq_level = level;
		bus->set_irq(bus->ctx, UART_IRQ, level);
	}
}

static void uart_clear_rx(struct uart_state *s)
{
	s->rx_head = 0;
	s->rx_count = 0;
}

/* One byte arrives at the receiver. A full FIFO loses the new byte; with
 * the FIFO off the new byte overwrites the unread one. Both set OE. */
static void uart_receive(struct uart_state *s, uint8_t b)
{
	if (s->rx_count >= uart_rx_capacity(s)) {
		s->lsr_errors |= UART_LSR_OE;
		if (!uart_fifo_on(s))
			s->fifo[s->rx_head] = b;
		return;
	}
	s->fifo[(s->rx_head + s->rx_count) % UART_FIFO_SIZE] = b;
	s->rx_count++;
}

static uint8_t uart_read_rbr(struct uart_state *s)
{
	if (s->rx_count) {
		s->rbr_last = s->fifo[s->rx_head];
		s->rx_head = (s->rx_head + 1) % UART_FIFO_SIZE;
		s->rx_count--;
	}
	return s->rbr_last;
}

static void uart_write_thr(struct uart_state *s, const struct vmm_bus *bus, uint8_t b)
{
	if (s->mcr & UART_MCR_LOOP)
		uart_receive(s, b);
	else
		bus->output(bus->ctx, VMM_OUT_SERIAL, &b, 1);
	/* Sent at once: THR is empty again, which is a new THRE event. */
	s->thre_pending = 1;
}

static void uart_write_ier(struct uart_state *s, uint8_t v)
{
	uint8_t changed = (s->ier ^ v) & UART_IER_THRI;

	s->ier = v & 0x0f;
	/* Enabling the THRE interrupt while THR is empty raises it again,
	 * even after an IIR read acknowledged it (Windows and Bochs rely on
	 * this; QEMU does the same). */
	if (changed)
		s->thre_pending = (s->ier & UART_IER_THRI) != 0;
}

static void uart_write_fcr(struct uart_state *s, uint8_t v)
{
	/* Turning the FIFOs on or off empties them. The other bits are only
	 * programmed while bit 0 is set. */
	if ((v ^ s->fcr) & UART_FCR_ENABLE)
		uart_clear_rx(s);
	if (!(v & UART_FCR_ENABLE)) {
		s->fcr = 0;
		return;
	}
	if (v & UART_FCR_CLEAR_RX)
		uart_clear_rx(s);
	/* Bit 2 clears the transmit FIFO, which is always empty here. */
	s->fcr = v & 0xc9;
}

static void uart_write_mcr(struct uart_state *s, uint8_t v)
{
	uint8_t before = uart_msr_lines(s->mcr), after, diff;

	s->mcr = v & 0x1f;
	after = uart_msr_lines(s->mcr);
	diff = before ^ after;
	if (diff & UART_MSR_CTS)
		s->msr_delta |= 0x01;
	if (diff & UART_MSR_DSR)
		s->msr_delta |= 0x02;
	if ((before & UART_MSR_RI) && !(after & UART_MSR_RI))
		s->msr_delta |= UART_MSR_TERI;
	if (diff & UART_MSR_DCD)
		s->msr_delta |= 0x08;
}

/* 8-bit registers: a 2- or 4-byte access acts on the low byte; the upper
 * bytes of a read are zero. */
static uint32_t uart_pio_in(void *state, const struct vmm_bus *bus, uint16_t port, unsigned size)
{
	struct uart_state *s = state;
	uint8_t v, iid;

	switch (port - UART_BASE) {
	case UART_RBR_THR:
		v = (s->lcr & UART_LCR_DLAB) ? s->dll : uart_read_rbr(s);
		break;
	case UART_IER:
		v = (s->lcr & UART_LCR_DLAB) ? s->dlm : s->ier;
		break;
	case UART_IIR_FCR:
		iid = uart_iid(s);
		v = iid | (uart_fifo_on(s) ? UART_IIR_FIFO : 0);
		/* Reading IIR while it names THRE is that interrupt's acknowledge. */
		if (iid == UART_IIR_THRI)
			s->thre_pending = 0;
		break;
	case UART_LCR:
		v = s->lcr;
		break;
	case UART_MCR:
		v = s->mcr;
		break;
	case UART_LSR:
		v = (uint8_t)((s->rx_count ? UART_LSR_DR : 0) | s->lsr_errors | UART_LSR_THRE |
			      UART_LSR_TEMT);
		s->lsr_errors = 0;
		break;
	case UART_MSR:
		v = uart_msr_lines(s->mcr) | s->msr_delta;
		s->msr_delta = 0;
		break;
	case UART_SCR:
		v = s->scr;
		break;
	default:
		return size == 1 ? 0xff : size == 2 ? 0xffff : 0xffffffff;
	}
	uart_update_irq(s, bus);
	return v;
}

static void uart_pio_out(void *state, const struct vmm_bus *bus, uint16_t port, unsigned size,
			 uint32_t value)
{
	struct uart_state *s = state;
	uint8_t v = (uint8_t)value;

	switch (port - UART_BASE) {
	case UART_RBR_THR:
		if (s->lcr & UART_LCR_DLAB)
			s->dll = v;
		else
			uart_write_thr(s, bus, v);
		break;
	case UART_IER:
		if (s->lcr & UART_LCR_DLAB)
			s->dlm = v;
		else
			uart_write_ier(s, v);
		break;
	case UART_IIR_FCR:
		uart_write_fcr(s, v);
		break;
	case UART_LCR:
		s->lcr = v;
		break;
	case UART_MCR:
		uart_write_mcr(s, v);
		break;
	case UART_SCR:
		s->scr = v;
		break;
	default:
		break;  /* LSR and MSR: writes are factory test, ignored */
	}
	uart_update_irq(s, bus);
}

size_t vmm_uart_rx_space(const void *uart_state)
{
	const struct uart_state *s = uart_state;

	/* In loopback the receiver is disconnected from the outside. */
	if (s->mcr & UART_MCR_LOOP)
		return 0;
	return uart_rx_capacity(s) - s->rx_count;
}

size_t vmm_uart_rx_push(void *uart_state, const struct vmm_bus *bus, const uint8_t *buf, size_t n)
{
	struct uart_state *s = uart_state;
	size_t space = vmm_uart_rx_space(s), i;

	for (i = 0; i < n && i < space; i++)
		uart_receive(s, buf[i]);
	uart_update_irq(s, bus);
	return i;
}

/* Power-on state per the datasheet (IER, FCR, LCR, MCR zero; LSR THRE and
 * TEMT), divisor 12 (9600 baud) as a BIOS would leave it. */
static void uart_reset(void *state)
{
	struct uart_state *s = state;

	*s = (struct uart_state){ .dll = 12 };
}

VMM_PIO_ACCESS(uart_access, uart_pio_in, uart_pio_out)

const struct vmm_device vmm_dev_uart = {
	.name = "uart",
	.ranges = {
		{ VMM_SPACE_PIO, UART_BASE, 8 },
	},
	.state_size = sizeof(struct uart_state),
	.reset = uart_reset,
	.access = uart_access,
	.next_deadline = NULL,
	.poll = NULL,
};
