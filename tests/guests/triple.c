/*
 * triple.c - a triple fault: an empty IDT (limit 0), then a general
 * protection fault (a non-canonical address). The #GP cannot be delivered,
 * nor the #DF that follows: the CPU shuts down, which rrvm reports as a
 * guest crash (status 4), and records and replays like any other ending.
 */
#include "hostile.h"

void kmain(uint32_t magic, uint32_t info)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) empty = { 0, 0 };

	kernel_init();
	kprintf("triple: faulting with an empty IDT\n");
	__asm__ volatile("lidt %0" : : "m"(empty));
	(void)*(volatile uint64_t *)0x8000000000000000ull;
	kprintf("triple: still alive?\n");
	kexit(1);
}
