/*
 * compute.c - a compute-bound guest with a fast timer: the PIT at 1 kHz
 * interrupts a tight arithmetic loop that makes no exits at all. That is
 * the hard case for replay without a branch counter: every timer interrupt
 * lands at an arbitrary instruction of the loop, and replay has to find
 * the same instance of it (benchmarks measure how long that takes).
 * The command line may say "rounds=N" (default 6) for a shorter run.
 */
#include "kernel.h"

#define COMPUTE_ROUNDS 6
#define COMPUTE_STEPS 20000

static volatile uint64_t ticks;

static struct isr_frame *tick(struct isr_frame *frame, void *ctx)
{
	(void)ctx;
	ticks++;
	return frame;
}

__attribute__((noinline)) static uint64_t mix(uint64_t h, unsigned steps)
{
	for (unsigned i = 0; i < steps; i++) {
		h ^= h >> 29;
		h *= 0xbf58476d1ce4e5b9ull;
		h += i;
	}
	return h;
}

void kmain(uint32_t magic, uint32_t info)
{
	unsigned rounds = cmdline_uint(multiboot_cmdline(magic, info), "rounds=", COMPUTE_ROUNDS);
	uint64_t h = 0x1234;

	kernel_init();
	irq_register(0, tick, 0);
	pit_start_periodic(1000);
	pic_unmask(0);
	__asm__ volatile("sti");
	for (unsigned r = 0; r < rounds; r++) {
		h = mix(h, COMPUTE_STEPS);
		kprintf("compute: round %u hash %lx\n", r, (unsigned long)h);
	}
	__asm__ volatile("cli");
	/* How many ticks it took depends on the machine: not printed, so the
	 * output is the same everywhere (QEMU's TCG runs this in no time). */
	kprintf("compute: done\n");
	kexit(0);
}
