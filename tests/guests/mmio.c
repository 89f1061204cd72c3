/*
 * mmio.c - touches guest-physical addresses all over the address space
 * beyond RAM: every 2 MiB window from the end of RAM to 4 GiB at a few
 * offsets (the PCI hole, the IOAPIC at 0xfec00000, the LAPIC at
 * 0xfee00000, the top of the 32-bit space), then powers of two and their
 * neighbours up to MAXPHYADDR. Each probe reads and writes 1, 2, 4 and 8
 * bytes through a 2 MiB page mapped at 1 GiB (the boot tables map only the
 * first 1 GiB). Unclaimed addresses may read as all-ones or zeros, devices
 * may answer: the values are ignored; rrvm must survive and replay exactly.
 */
#include "hostile.h"

#define WINDOW_VA 0x40000000ull         /* PDPT slot 1 of the boot tables */
#define PAGE_2M (2ull << 20)

static uint64_t pd[512] __attribute__((aligned(4096)));

static uint64_t *boot_pdpt(void)
{
	uint64_t cr3, *pml4;

	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	pml4 = (uint64_t *)(cr3 & ~0xfffull);
	return (uint64_t *)(pml4[0] & 0x000ffffffffff000ull);
}

static unsigned maxphyaddr(void)
{
	uint32_t a, b, c, d;

	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000000u));
	if (a < 0x80000008u)
		return 36;
	__asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0x80000008u));
	return a & 0xff;
}

static uint64_t probe(uint64_t gpa)
{
	volatile uint8_t *p;
	uint64_t sum = 0;

	pd[0] = (gpa & ~(PAGE_2M - 1)) | 0x83;  /* present, writable, 2 MiB */
	__asm__ volatile("invlpg (%0)" : : "r"(WINDOW_VA) : "memory");
	p = (volatile uint8_t *)(WINDOW_VA + (gpa & (PAGE_2M - 1)));
	sum += p[0];
	sum += *(volatile uint16_t *)(p + 2);
	sum += *(volatile uint32_t *)(p + 4);
	sum += *(volatile uint64_t *)(p + 8);
	p[0] = 0xa5;
	*(volatile uint16_t *)(p + 2) = 0x5a5a;
	*(volatile uint32_t *)(p + 4) = 0xdeadbeef;
	*(volatile uint64_t *)(p + 8) = 0x0123456789abcdefull;
	return sum;
}

void kmain(uint32_t magic, uint32_t info)
{
	const struct multiboot_info *mb = (const struct multiboot_info *)(uint64_t)info;
	uint64_t ram_end = ((uint64_t)mb->mem_upper << 10) + (1ull << 20), sum = 0, n = 0;
	unsigned maxphy = maxphyaddr();
	uint64_t *pdpt = boot_pdpt();

	kernel_init();
	kprintf("mmio: RAM ends at 0x%lx, MAXPHYADDR %u\n", (unsigned long)ram_end, maxphy);
	pdpt[1] = (uint64_t)pd | 0x3;
	for (uint64_t w = (ram_end + PAGE_2M - 1) & ~(PAGE_2M - 1); w < (4ull << 30); w += PAGE_2M) {
		sum += probe(w);
		n += 8;
		if ((w & 0x3fffffff) == 0x3fe00000 || w == 0xfec00000ull || w == 0xfee00000ull) {
			sum += probe(w + PAGE_2M - 0x1000);     /* the top page too */
			n += 8;
		}
	}
	sum += probe(0xfec00000ull) + probe(0xfee00000ull + 0x30) + probe(0xfffffff0ull);
	n += 24;
	for (unsigned bit = 32; bit < maxphy && bit < 52; bit++) {
		uint64_t a = 1ull << bit;

		sum += probe(a) + probe(a + 0x1000) + probe(a * 2 - 0x1000);
		n += 24;
	}
	kprintf("mmio: read sum %lx\n", (unsigned long)sum);
	hostile_done("mmio", n);
}
