/*
 * pagetables.c - loads page tables that point outside RAM and at
 * themselves, for the page-table walker (`monitor pt`, ptview) to walk:
 *  - PML4[0] keeps the boot identity map (the kernel must keep running);
 *  - PML4[1..255] point at the PML4 itself (a recursive, looping table:
 *    every level reads the PML4 again, and its entries become 4 KiB leaves
 *    on the last level);
 *  - PML4[256..300] point at tables beyond RAM and beyond 4 GiB;
 *  - PML4[301] points at a PDPT whose 512 entries all point at the PML4;
 *  - PML4[302] has reserved bits set.
 * It then calls tables_loaded() (a breakpoint for gdb), writes the
 * annotation "stage 1" (tests/tools/ptview stops there and runs its
 * commands), touches one address through the loop so that
 * the CPU walks it too, and ends. A walker that follows every path would
 * list 255 * 512^3 pages; it must stay bounded in time, memory and output.
 */
#include "hostile.h"

static uint64_t pml4[512] __attribute__((aligned(4096)));

/* Called with the hostile tables loaded: a place for gdb's breakpoint. */
__attribute__((noinline)) void tables_loaded(void)
{
	__asm__ volatile("" ::: "memory");
}
static uint64_t loop_pdpt[512] __attribute__((aligned(4096)));

void kmain(uint32_t magic, uint32_t info)
{
	uint64_t cr3, *boot;
	volatile uint64_t *through;

	kernel_init();
	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	boot = (uint64_t *)(cr3 & ~0xfffull);
	pml4[0] = boot[0];
	for (int i = 1; i < 256; i++)
		pml4[i] = (uint64_t)pml4 | 0x3;
	for (int i = 256; i <= 300; i++)
		pml4[i] = ((0x100000000ull + (uint64_t)i * 0x10000000ull) & ~0xfffull) | 0x3;
	for (int i = 0; i < 512; i++)
		loop_pdpt[i] = (uint64_t)pml4 | 0x3;
	pml4[301] = (uint64_t)loop_pdpt | 0x3;
	pml4[302] = (uint64_t)pml4 | 0x3 | (1ull << 51);
	__asm__ volatile("mov %0, %%cr3" : : "r"((uint64_t)pml4) : "memory");
	tables_loaded();
	hostile_annotate("stage 1");
	/* VA with PML4, PDPT, PD and PT index 1: the CPU walks the loop to the
	 * PML4 page itself, mapped as a 4 KiB page. */
	through = (volatile uint64_t *)((1ull << 39) | (1ull << 30) | (1ull << 21) | (1ull << 12));
	kprintf("pagetables: through the loop: %lx (pml4[0] %lx)\n", (unsigned long)through[1],
		(unsigned long)pml4[1]);
	__asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
	hostile_done("pagetables", 1);
}
