/*
 * spin.c - interrupts off, the timer running, and a loop that never makes
 * an exit: only --timeout ends it (status 124), for a plain run, a
 * recording and its replay alike.
 */
#include "hostile.h"

void kmain(uint32_t magic, uint32_t info)
{
	kernel_init();
	pit_start_periodic(1000);
	pic_unmask(PIT_IRQ);
	kprintf("spin: spinning with interrupts off\n");
	cpu_cli();
	for (;;)
		__asm__ volatile("" ::: "memory");
}
