/*
 * echo.c - interrupt-driven serial input. The UART's receive interrupt
 * (IER bit 0, PIC IRQ 4) feeds a ring buffer; the main loop sleeps with
 * sti;hlt, collects bytes into lines and answers each line with
 * "echo: <LINE IN UPPER CASE>". A line "quit" or a 0x04 byte (Ctrl-D) ends
 * it: it prints "bye: N lines" and exits through isa-debug-exit with value
 * N, the number of lines echoed ("quit" not counted), so status (N<<1)|1.
 *
 * A line ends at '\r' or '\n' ("\r\n" counts once: empty lines are not
 * echoed or counted). Lines longer than LINE_MAX - 1 bytes are cut.
 *
 * No byte may be lost when input arrives faster than we echo: the IRQ
 * handler drains the UART while LSR.DR is set. If the ring fills up, the
 * handler leaves the rest in the UART and turns the receive interrupt off;
 * the main loop turns it back on once it has made room, so the UART (and
 * behind it the VMM's input queue) holds the bytes meanwhile.
 */
#include <stdbool.h>

#include "io.h"
#include "kernel.h"

#define RING_SIZE 1024 /* power of two */
#define LINE_MAX 256
#define CTRL_D 0x04

struct echo_rx {
	volatile uint8_t buf[RING_SIZE];
	volatile uint32_t head; /* written by the IRQ handler only */
	volatile uint32_t tail; /* written by the main loop only */
	volatile bool rx_irq_off;
};

static struct echo_rx rx;

static struct isr_frame *echo_uart_irq(struct isr_frame *frame, void *ctx)
{
	struct echo_rx *r = ctx;

	(void)inb(COM1_BASE + UART_IIR); /* acknowledge */
	while (inb(COM1_BASE + UART_LSR) & UART_LSR_DR) {
		if (r->head - r->tail == RING_SIZE) {
			/* Full: let the UART hold the rest (back-pressure). */
			outb(COM1_BASE + UART_IER, 0);
			r->rx_irq_off = true;
			break;
		}
		r->buf[r->head % RING_SIZE] = inb(COM1_BASE + UART_RBR);
		r->head++;
	}
	return frame;
}

/* Next received byte; sleeps until one arrives. */
static uint8_t echo_getc(struct echo_rx *r)
{
	uint8_t c;

	cpu_cli();
	while (r->head == r->tail) {
		cpu_sti_hlt();
		cpu_cli();
	}
	c = r->buf[r->tail % RING_SIZE];
	r->tail++;
	if (r->rx_irq_off) {
		/* Room again: re-enabling raises IRQ 4 if bytes are waiting. */
		r->rx_irq_off = false;
		outb(COM1_BASE + UART_IER, UART_IER_RDI);
	}
	cpu_sti();
	return c;
}

static void echo_line(char *line, unsigned len)
{
	unsigned i;

	for (i = 0; i < len; i++)
		if (line[i] >= 'a' && line[i] <= 'z')
			line[i] = (char)(line[i] - 'a' + 'A');
	line[len] = '\0';
	kprintf("echo: %s\n", line);
}

void kmain(uint32_t magic, uint32_t info)
{
	char line[LINE_MAX];
	unsigned len = 0, lines = 0;
	bool eof = false;

	kernel_init();
	irq_register(COM1_IRQ, echo_uart_irq, &rx);
	/*
	 * Bytes that arrived before this point wait in the UART; enabling the
	 * receive interrupt with data ready raises IRQ 4 at once. Unmask the
	 * PIC first so that this edge meets an open line (IF is still clear,
	 * so it waits in the PIC until the first sti).
	 */
	pic_unmask(COM1_IRQ);
	outb(COM1_BASE + UART_IER, UART_IER_RDI);
	kprintf("ready: type lines, \"quit\" ends\n");

	while (!eof) {
		uint8_t c = echo_getc(&rx);

		if (c == CTRL_D) {
			eof = true;
		} else if (c == '\r' || c == '\n') {
			if (len == 0)
				continue;
			line[len] = '\0';
			if (len == 4 && !strncmp(line, "quit", 4))
				break;
			echo_line(line, len);
			lines++;
			len = 0;
		} else if (len < LINE_MAX - 1) {
			line[len++] = (char)c;
		}
	}
	/* A partial line before Ctrl-D is still a line. */
	if (eof && len > 0) {
		echo_line(line, len);
		lines++;
	}
	kprintf("bye: %u lines\n", lines);
	kexit(lines);
}
