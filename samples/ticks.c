/*
 * ticks.c - the periodic timer path: PIT channel 0 in mode 2 at 100 Hz on
 * IRQ 0. The IRQ handler counts interrupts; the main loop sleeps with
 * sti;hlt and prints "tick 10", "tick 20" ... "tick 50" (about half a
 * second). It also latches channel 0 once (command 0x00, then low and high
 * byte from port 0x40) and checks that the count lies in 1..divisor, as
 * a mode-2 counter always does ("latch ok"). Then it exits through
 * isa-debug-exit with value 0x2a (status 85). A bad latch value prints
 * "latch bad: ..." and exits with value 0x2b (status 87).
 */
#include "io.h"
#include "kernel.h"

#define TICKS_HZ 100
#define TICKS_STEP 10
#define TICKS_LAST 50
#define TICKS_EXIT_OK 0x2a
#define TICKS_EXIT_BAD_LATCH 0x2b

struct ticks_state {
	volatile uint32_t count;
};

static struct ticks_state ticks;

static struct isr_frame *ticks_irq(struct isr_frame *frame, void *ctx)
{
	struct ticks_state *t = ctx;

	t->count++;
	return frame;
}

void kmain(uint32_t magic, uint32_t info)
{
	uint32_t next = TICKS_STEP;
	uint16_t div, latch;

	kernel_init();
	irq_register(PIT_IRQ, ticks_irq, &ticks);
	div = pit_start_periodic(TICKS_HZ);
	pic_unmask(PIT_IRQ);
	kprintf("ticks: PIT channel 0 at %u Hz, divisor %u\n", TICKS_HZ,
		(unsigned)div);

	while (next <= TICKS_LAST) {
		cpu_cli();
		while (ticks.count < next) {
			cpu_sti_hlt();
			cpu_cli();
		}
		cpu_sti();
		kprintf("tick %u\n", next);
		next += TICKS_STEP;
	}

	latch = pit_latch_read();
	if (latch < 1 || latch > div) {
		kprintf("latch bad: %u not in 1..%u\n", (unsigned)latch,
			(unsigned)div);
		kexit(TICKS_EXIT_BAD_LATCH);
	}
	kprintf("latch ok\n");
	kexit(TICKS_EXIT_OK);
}
