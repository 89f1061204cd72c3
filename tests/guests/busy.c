/*
 * busy.c - a long stretch of guest code that makes no exit at all
 * (interrupts off, no I/O), between two lines of output, then the end of
 * the run (exit value 0, status 1). On a replay the units of that stretch
 * are positions EXITS+STEPS after one exit, about 1.5 million of them, so
 * a `monitor goto` deep into it single-steps for tens of seconds: the case
 * where gdb's Ctrl-C must stop the goto
 * (tests/integration/gdb_monitor_interrupt.sh). It records in seconds.
 */
#include "hostile.h"

#define BUSY_LOOPS 250000

/* Its own function, for a breakpoint at the start of the stretch. */
__attribute__((noinline)) static uint64_t busy_loop(void)
{
	volatile uint64_t n = 0;

	for (unsigned i = 0; i < BUSY_LOOPS; i++)
		n = n + i;
	return n;
}

void kmain(uint32_t magic, uint32_t info)
{
	uint64_t n;

	kernel_init();
	kprintf("busy: %u loops with interrupts off\n", BUSY_LOOPS);
	cpu_cli();
	n = busy_loop();
	kprintf("busy: done, sum %lu\n", (unsigned long)n);
	kexit(0);
}
