/*
 * serial.c - polled output on COM1 (16550 at 0x3f8). Output never uses the
 * transmit interrupt: waiting on LSR.THRE keeps every sample's output
 * ordered and independent of interrupt timing, which matters when rrvm
 * compares a replay's serial output with the recording's.
 *
 * Input may already wait in the UART when serial_init() runs: a VMM can
 * feed it from power-on (QEMU holds one byte in RBR while the FIFOs are
 * off and delivers the next only after RBR is read). Turning the FIFOs on
 * resets them and would throw that byte away, and reading it out first
 * lets the next byte arrive just before the reset. So when LSR.DR is set
 * we leave the FIFOs off (16450 mode: one byte per read, nothing lost).
 */
#include "io.h"
#include "kernel.h"

void serial_init(void)
{
	outb(COM1_BASE + UART_IER, 0x00);      /* no interrupts yet */
	outb(COM1_BASE + UART_LCR, 0x80);      /* DLAB on */
	outb(COM1_BASE + 0, 0x01);             /* divisor 1: 115200 baud */
	outb(COM1_BASE + 1, 0x00);
	outb(COM1_BASE + UART_LCR, 0x03);      /* DLAB off, 8N1 */
	if (!(inb(COM1_BASE + UART_LSR) & UART_LSR_DR))
		outb(COM1_BASE + UART_FCR, 0x07); /* enable, clear FIFOs */
	/* OUT2 gates the UART's IRQ line on a PC; without it no IRQ 4. */
	outb(COM1_BASE + UART_MCR, 0x0b);      /* DTR | RTS | OUT2 */
}

void serial_putc(char c)
{
	while (!(inb(COM1_BASE + UART_LSR) & UART_LSR_THRE))
		cpu_pause();
	outb(COM1_BASE + UART_THR, (uint8_t)c);
}

void serial_puts(const char *s)
{
	while (*s)
		serial_putc(*s++);
}
