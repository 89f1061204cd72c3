/*
 * storm.c - random access sequences on the UART, the PIC pair, the PIT and
 * the RTC: 8000 port accesses chosen by a fixed-seed generator (port,
 * direction, size, value), with short windows of interrupts enabled in
 * between, so that whatever the random programming makes the devices raise
 * is delivered and recorded. An interrupt on a vector without a handler
 * ends the run through the sample runtime's exception path (exit value
 * 0x7f); that is as good an ending as any. rrvm must survive and replay
 * the run exactly.
 */
#include "hostile.h"

static const uint16_t ports[] = {
	0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff,         /* COM1 */
	0x20, 0x21, 0xa0, 0xa1,                                         /* PIC pair */
	0x40, 0x41, 0x42, 0x43, 0x61,                                   /* PIT, port B */
	0x70, 0x71,                                                     /* RTC */
};

#define STORM_ACCESSES 8000u

static struct isr_frame *any_irq(struct isr_frame *frame, void *ctx)
{
	(*(volatile uint64_t *)ctx)++;
	return frame;
}

void kmain(uint32_t magic, uint32_t info)
{
	static volatile uint64_t irqs;
	uint64_t seed = 0x5eed1234abcdull, n = 0;

	kernel_init();
	for (unsigned irq = 0; irq < 16; irq++)
		irq_register(irq, any_irq, (void *)&irqs);
	for (uint32_t i = 0; i < STORM_ACCESSES; i++) {
		uint64_t r = hostile_rand(&seed);
		uint16_t port = ports[r % (sizeof(ports) / sizeof(ports[0]))];
		uint32_t v = (uint32_t)(r >> 32);

		switch ((r >> 8) % 6) {
		case 0: outb(port, (uint8_t)v); break;
		case 1: outw(port, (uint16_t)v); break;
		case 2: outl(port, v); break;
		case 3: (void)inw(port); break;
		case 4: (void)inl(port); break;
		default: (void)inb(port); break;
		}
		n++;
		if (i % 64 == 63) {
			/* A short window for whatever is pending. */
			cpu_sti();
			__asm__ volatile("nop; nop; nop; nop");
			cpu_cli();
		}
	}
	kernel_init();
	kprintf("storm: %lu interrupts\n", (unsigned long)irqs);
	hostile_done("storm", n);
}
