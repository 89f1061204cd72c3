/*
 * ioheavy.c - heavy port I/O, to produce recordings of a million exits
 * and more for the trace database benchmark (and annotations for its
 * tests).
 *
 * The work is ITERATIONS rounds of four port accesses, each one exit:
 * a byte to the POST port 0x80 (no device: the write is dropped), a byte
 * to the COM1 scratch register (0x3ff) and the read back of it, and a
 * 32-bit write to the unclaimed port 0x84. The scratch read must return
 * what was written; a mismatch prints "ioheavy: scratch mismatch" and
 * exits with value 1 (status 3). Meanwhile the PIT interrupts at 100 Hz
 * and the handler counts ticks, so the recording has timer interrupts
 * landing inside the loop.
 *
 * The rounds are split into IOHEAVY_PHASES phases; each phase begins by
 * writing the annotation "phase K begin" to the rrvm port 0xe8 (one outb
 * per byte, a newline ends it; QEMU ignores the port) and ends with a
 * serial line "ioheavy: phase K done". The last line is
 * "ioheavy: done, N port accesses, T ticks" and the exit value 0
 * (status 1).
 *
 * The command line may say "count=N" for N rounds (default 250000, about
 * a million exits: some 10 to 20 s on a host where an exit costs 10 us).
 */
#include "io.h"
#include "kernel.h"

#define IOHEAVY_DEFAULT_ROUNDS 250000u
#define IOHEAVY_PHASES 10u
#define IOHEAVY_TIMER_HZ 100
#define POST_PORT 0x80
#define SPARE_PORT 0x84
#define SCRATCH_PORT (COM1_BASE + 7)
#define RRVM_PORT 0xe8

struct ioheavy {
	volatile uint32_t ticks;
};

static struct ioheavy state;

static struct isr_frame *ioheavy_tick(struct isr_frame *frame, void *ctx)
{
	struct ioheavy *s = ctx;

	s->ticks++;
	return frame;
}

static void annotate_str(const char *text)
{
	for (; *text; text++)
		outb(RRVM_PORT, (uint8_t)*text);
}

/* "phase K begin", ended by the newline that makes it one annotation. */
static void annotate_phase(unsigned phase)
{
	char digits[10];
	int n = 0;

	annotate_str("phase ");
	do {
		digits[n++] = (char)('0' + phase % 10);
		phase /= 10;
	} while (phase);
	while (n > 0)
		outb(RRVM_PORT, (uint8_t)digits[--n]);
	annotate_str(" begin\n");
}

/* One round: four port accesses. Returns 0, or -1 on a scratch mismatch. */
static int io_round(uint32_t i)
{
	uint8_t v = (uint8_t)(i * 7 + 1);

	outb(POST_PORT, (uint8_t)i);
	outb(SCRATCH_PORT, v);
	if (inb(SCRATCH_PORT) != v)
		return -1;
	outl(SPARE_PORT, i);
	return 0;
}

void kmain(uint32_t magic, uint32_t info)
{
	uint32_t rounds = cmdline_uint(multiboot_cmdline(magic, info), "count=", 0);
	uint32_t per_phase, done = 0;

	if (!rounds)            /* count=0 is the default too */
		rounds = IOHEAVY_DEFAULT_ROUNDS;
	per_phase = rounds / IOHEAVY_PHASES;

	kernel_init();
	irq_register(PIT_IRQ, ioheavy_tick, &state);
	pit_start_periodic(IOHEAVY_TIMER_HZ);
	pic_unmask(PIT_IRQ);
	cpu_sti();
	kprintf("ioheavy: %u rounds of 4 port accesses in %u phases\n", rounds, IOHEAVY_PHASES);
	for (uint32_t phase = 1; phase <= IOHEAVY_PHASES; phase++) {
		uint32_t end = phase == IOHEAVY_PHASES ? rounds : done + per_phase;

		annotate_phase(phase);
		for (; done < end; done++) {
			if (io_round(done) < 0) {
				kprintf("ioheavy: scratch mismatch in round %u\n", done);
				kexit(1);
			}
		}
		kprintf("ioheavy: phase %u done\n", phase);
	}
	cpu_cli();
	kprintf("ioheavy: done, %u port accesses, %u ticks\n", rounds * 4, state.ticks);
	kexit(0);
}
