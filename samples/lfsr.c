/*
 * lfsr.c - timer interrupts in a long exit-free loop whose registers do
 * not count: a xorshift generator run until its low bits hit a value.
 * No register moves by a constant step from one pass to the next (no loop
 * counter, no pointer), so the replayer cannot tell from the registers
 * how far a recorded interrupt point is (replay/stride.c) and must find
 * every point with plain breakpoint hits: the case where its estimates
 * fail. The replay must still be exact, and as fast as a plain search.
 *
 * Prints one line per round (the generator's state) and `lfsr: done`,
 * exits with value 0 (status 1); the same output under QEMU. The command
 * line may say "rounds=N" (default 8) for a shorter or longer run.
 */
#include "kernel.h"

#define LFSR_ROUNDS 8
#define LFSR_STOP_MASK 0xfffull  /* about 4096 passes per round */

static volatile uint64_t ticks;

static struct isr_frame *tick(struct isr_frame *frame, void *ctx)
{
	(void)ctx;
	ticks++;
	return frame;
}

/* xorshift64 until the low 12 bits equal stop: the pass count depends on
 * the state only, and nothing in the loop counts the passes. */
__attribute__((noinline)) static uint64_t scramble(uint64_t x, uint64_t stop)
{
	do {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	} while ((x & LFSR_STOP_MASK) != stop);
	return x;
}

void kmain(uint32_t magic, uint32_t info)
{
	unsigned rounds = cmdline_uint(multiboot_cmdline(magic, info), "rounds=", LFSR_ROUNDS);
	uint64_t x = 0x9e3779b97f4a7c15ull;

	kernel_init();
	irq_register(0, tick, 0);
	pit_start_periodic(1000);
	pic_unmask(0);
	__asm__ volatile("sti");
	for (unsigned r = 0; r < rounds; r++) {
		x = scramble(x, r * 0x111u & LFSR_STOP_MASK);
		kprintf("lfsr: round %u state %lx\n", r, (unsigned long)x);
	}
	__asm__ volatile("cli");
	kprintf("lfsr: done\n");
	kexit(0);
}
