/*
 * paging.c - a guest that builds its own 4-level page tables, for testing
 * rrvm's introspection (`monitor pt`, `translate`, `pt-diff`) against the
 * guest's own account of what it mapped.
 *
 * After the runtime's boot (1 GiB identity map in 2 MiB pages) it goes
 * through stages:
 *   0  the boot tables, as boot.S built them;
 *   1  its own tables: 4K, 2M and 1G pages, user and supervisor, read-only,
 *      NX, global, PWT/PCD, an unmapped guard page between two user ranges
 *      and an alias (two virtual pages, one physical page); CR3 switched;
 *   2  changes: a page unmapped, one made read-only, the alias retargeted,
 *      a 2M page added, a 2M page split into 4K pages with one read-only;
 *   3  the whole user region torn down (one PDPT entry cleared);
 *   4  only with "big" on the command line: 1 GiB mapped in 4K pages
 *      (262144 PTEs) at 0x8000000000, for benchmarks.
 * At each stage it prints on the debug console (port 0xe9) its account:
 * the mapping list in the exact format of rrvm's `pt` with A/D ignored
 * ("map" lines), the totals line without rrvm's "entries read" count, the
 * differences from the previous stage in the format of `pt-diff`, and
 * "probe" lines giving the translation of chosen addresses. The account is
 * computed from the guest's list of intended mappings, not by reading its
 * page tables, so a test comparing it with rrvm's walk of the tables checks
 * both. Then it annotates "stage N" on the rrvm port 0xe8 and calls the
 * non-inlined paging_stage_reached(N): places for a test to stop.
 *
 * It also loads a TSS (RSP0 and IST1 stacks, symbols paging_rsp0_stack and
 * paging_ist1_stack) and points the #DF gate at IST1, so `monitor tss`,
 * `gdt` and `idt` have something to show. 1G pages need CPUID pdpe1gb;
 * without it the direct map uses 2M pages and the account says so. Without
 * NX (EFER.NXE clear) no XD bits are set and the account shows none. Ends
 * with isa-debug-exit value 0 (status 1); a failed self-check exits 0x7e.
 */
#include <stdbool.h>

#include "io.h"
#include "kernel.h"
#include "paging.h"

/* Page-table pages come from here; it is identity-mapped in every stage. */
#define POOL_BASE 0x400000ull
#define POOL_END 0x800000ull

/* The layout (virtual addresses) the stages use. */
#define VA_USER 0x400000000ull          /* 16 GiB: user text, data, stack */
#define VA_GUARD (VA_USER + 0x8000)
#define VA_ALIAS_A 0x500000000ull
#define VA_ALIAS_B 0x500200000ull
#define VA_MMIO 0x600000000ull
#define VA_DATA2M 0x700000000ull
#define VA_NEW2M 0x700400000ull
#define VA_BIG 0x8000000000ull          /* PML4 slot 1 */
#define VA_DIRECT 0xffff888000000000ull
#define VA_TEXT 0xffffffff80000000ull

#define RRVM_PORT 0xe8
#define MSR_EFER 0xc0000080u
#define EFER_NXE (1u << 11)

struct paging {
	uint64_t *pml4;
	uint64_t pool_next;
	uint64_t nx;                    /* PTE_NX when EFER.NXE is set, else 0 */
	bool gb_pages;
	struct account now;             /* what is mapped, as intended */
	struct account prev;            /* the previous stage, coalesced */
	struct account cur;             /* this stage, coalesced */
};

/* The TSS and its stacks (named for tests: RSP0 and IST1 point at the tops). */
struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iopb;
} __attribute__((packed));

uint8_t paging_rsp0_stack[4096] __attribute__((aligned(16)));
uint8_t paging_ist1_stack[4096] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));
static uint64_t gdt[5] __attribute__((aligned(16)));

/* ---- page tables ------------------------------------------------------- */

/* A page from the pool, not cleared (for tables written in full). */
static uint64_t *alloc_page(struct paging *pg)
{
	uint64_t *t = (uint64_t *)(uintptr_t)pg->pool_next;

	if (pg->pool_next >= POOL_END)
		paging_fail("page-table pool exhausted at", pg->pool_next);
	pg->pool_next += PG_4K;
	return t;
}

static uint64_t *alloc_table(struct paging *pg)
{
	uint64_t *t = alloc_page(pg);

	memset(t, 0, PG_4K);
	return t;
}

static unsigned pt_index(uint64_t va, int level)
{
	return (unsigned)(va >> (12 + 9 * (level - 1))) & 511;
}

/* The entry for va at level (1 = PTE .. 4 = PML4E), creating the tables
 * above it. Upper levels allow everything; the leaf decides. */
static uint64_t *pt_entry(struct paging *pg, uint64_t va, int level)
{
	uint64_t *table = pg->pml4;

	for (int l = 4; l > level; l--) {
		uint64_t *e = &table[pt_index(va, l)];

		if (!(*e & PTE_P))
			*e = (uint64_t)(uintptr_t)alloc_table(pg) | PTE_P | PTE_W | PTE_U;
		else if (*e & PTE_PS)
			paging_fail("a large page is in the way at va", va);
		table = (uint64_t *)(uintptr_t)(*e & PTE_ADDR);
	}
	return &table[pt_index(va, level)];
}

static int level_of(uint64_t pgsize)
{
	return pgsize == PG_1G ? 3 : pgsize == PG_2M ? 2 : 1;
}

static void pt_map(struct paging *pg, uint64_t va, uint64_t pa, uint64_t size, uint64_t pgsize,
		   uint64_t flags)
{
	for (uint64_t off = 0; off < size; off += pgsize)
		*pt_entry(pg, va + off, level_of(pgsize)) =
			(pa + off) | flags | PTE_P | (pgsize > PG_4K ? PTE_PS : 0);
}

static void pt_clear(struct paging *pg, uint64_t va, uint64_t size, int level)
{
	uint64_t step = 1ull << (12 + 9 * (level - 1));

	for (uint64_t off = 0; off < size; off += step)
		*pt_entry(pg, va + off, level) = 0;
}

static void load_cr3(uint64_t cr3)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
}

/* ---- stages -------------------------------------------------------------- */

/* Both the tables and the account, so that they can only differ through a
 * bug in one of them. */
static void map(struct paging *pg, uint64_t va, uint64_t pa, uint64_t size, uint64_t pgsize,
		uint64_t flags)
{
	flags &= ~PTE_NX | pg->nx;
	pt_map(pg, va, pa, size, pgsize, flags);
	acct_add(&pg->now, va, pa, size, pgsize, flags);
}

static void unmap(struct paging *pg, uint64_t va, uint64_t size, int level)
{
	pt_clear(pg, va, size, level);
	acct_remove(&pg->now, va, size);
}

static void probe(struct paging *pg, uint64_t va, const char *unmapped_at)
{
	const struct region *r = acct_find(&pg->now, va);

	dcon_puts("probe 0x");
	dcon_hex(va, 1);
	if (r) {
		dcon_puts(" -> 0x");
		dcon_hex(r->pa + (va - r->va), 1);
	} else {
		dcon_puts(" not present at ");
		dcon_puts(unmapped_at);
	}
	dcon_puts("\n");
}

__attribute__((noinline)) void paging_stage_reached(int stage)
{
	__asm__ volatile("" : : "r"(stage) : "memory");
}

static void stage_end(struct paging *pg, int stage)
{
	struct account *cur = &pg->cur;
	char note[] = "stage 0\n";

	acct_coalesce(&pg->now, cur);
	dcon_puts("paging: stage ");
	dcon_dec((uint64_t)stage);
	dcon_puts(" account\n");
	acct_print_list(cur);
	if (stage > 0) {
		dcon_puts("paging: stage ");
		dcon_dec((uint64_t)stage);
		dcon_puts(" changes\n");
		acct_print_diff(&pg->prev, cur);
	}
	pg->prev = *cur;
	dcon_puts("paging: stage ");
	dcon_dec((uint64_t)stage);
	dcon_puts(" end\n");
	kprintf("paging: stage %d: %u ranges\n", stage, cur->n);
	note[6] = (char)('0' + stage);
	for (const char *s = note; *s; s++)
		outb(RRVM_PORT, (uint8_t)*s);
	paging_stage_reached(stage);
}

static void stage0_boot_tables(struct paging *pg)
{
	/* boot.S: PML4[0] -> PDPT[0] -> 512 PDEs of 2M, present + writable. */
	acct_add(&pg->now, 0, 0, PG_1G, PG_2M, PTE_W);
	probe(pg, 0x100000, NULL);
	stage_end(pg, 0);
}

static void stage1_own_tables(struct paging *pg)
{
	volatile uint64_t *a = (volatile uint64_t *)VA_ALIAS_A;
	volatile uint64_t *b = (volatile uint64_t *)VA_ALIAS_B;
	uint64_t ro = PTE_NX | PTE_G;

	pg->pml4 = alloc_table(pg);
	pg->now.n = 0;
	/* Low memory without the null page: the kernel, its stacks, the IDT. */
	map(pg, 0x1000, 0x1000, PG_2M - 0x1000, PG_4K, PTE_W | PTE_G);
	/* The page-table pool, so that the tables can still be edited. */
	map(pg, POOL_BASE, POOL_BASE, POOL_END - POOL_BASE, PG_2M, PTE_W | PTE_NX);
	/* User text, data, a guard page, user stack. */
	map(pg, VA_USER, 0x800000, 0x4000, PG_4K, PTE_U);
	map(pg, VA_USER + 0x4000, 0x804000, 0x4000, PG_4K, PTE_U | PTE_W | PTE_NX);
	map(pg, VA_GUARD + 0x1000, 0x809000, 0x4000, PG_4K, PTE_U | PTE_W | PTE_NX);
	/* Two virtual pages, one physical page. */
	map(pg, VA_ALIAS_A, 0x900000, PG_4K, PG_4K, PTE_W | PTE_NX);
	map(pg, VA_ALIAS_B, 0x900000, PG_4K, PG_4K, PTE_NX);
	map(pg, VA_MMIO, 0xa00000, PG_4K, PG_4K, PTE_W | PTE_NX | PTE_PWT | PTE_PCD);
	map(pg, VA_DATA2M, 0xc00000, PG_2M, PG_2M, PTE_W | PTE_NX);
	/* A direct map of the first GiB, as Linux has one. */
	if (pg->gb_pages)
		map(pg, VA_DIRECT, 0, PG_1G, PG_1G, PTE_W | PTE_NX | PTE_G);
	else
		map(pg, VA_DIRECT, 0, PG_1G, PG_2M, PTE_W | PTE_NX | PTE_G);
	/* A higher-half view of the kernel image: text, then read-only data. */
	map(pg, VA_TEXT, 0x100000, 0x10000, PG_4K, PTE_G);
	map(pg, VA_TEXT + 0x10000, 0x110000, 0x8000, PG_4K, ro);

	load_cr3((uint64_t)(uintptr_t)pg->pml4);
	*a = 0x5ca1ab1e0ddba11ull;
	if (*b != 0x5ca1ab1e0ddba11ull)
		paging_fail("the alias does not show the write, read", *b);
	/* Touch user data so that rrvm sees accessed and dirty bits. */
	*(volatile uint64_t *)(VA_USER + 0x4000) = 1;
	/* Stage 2 splits this 2M page: the marker must survive the split. */
	*(volatile uint64_t *)(VA_DATA2M + 0x3008) = 0x2d2d2d2dull;
	dcon_puts(pg->gb_pages ? "paging: 1G pages available\n"
			   : "paging: no 1G pages (CPUID pdpe1gb clear): direct map in 2M pages\n");
	dcon_puts(pg->nx ? "paging: NX in use\n" : "paging: no NX (EFER.NXE clear): no XD bits\n");
	dcon_puts("paging: alias check ok\n");
	probe(pg, VA_ALIAS_A + 0x123, NULL);
	probe(pg, VA_ALIAS_B + 0x123, NULL);
	probe(pg, VA_GUARD, "PTE");
	probe(pg, 0, "PTE");
	probe(pg, VA_DIRECT + 0x1234567, NULL);
	probe(pg, VA_DATA2M + 0x3008, NULL);
	stage_end(pg, 1);
}

static void stage2_changes(struct paging *pg)
{
	const struct region *r;
	uint64_t pa;

	unmap(pg, VA_USER + 0x5000, PG_4K, 1);
	/* mprotect: the lowest user stack page becomes read-only. */
	unmap(pg, VA_GUARD + 0x1000, PG_4K, 1);
	map(pg, VA_GUARD + 0x1000, 0x809000, PG_4K, PG_4K, PTE_U | PTE_NX);
	/* The alias's second view now shows the next physical page. */
	unmap(pg, VA_ALIAS_B, PG_4K, 1);
	map(pg, VA_ALIAS_B, 0x901000, PG_4K, PG_4K, PTE_NX);
	map(pg, VA_NEW2M, 0x1000000, PG_2M, PG_2M, PTE_W | PTE_NX);
	/* Split a 2M page into 4K pages, one of them read-only. */
	r = acct_find(&pg->now, VA_DATA2M);
	pa = r ? r->pa : 0;
	unmap(pg, VA_DATA2M, PG_2M, 2);
	map(pg, VA_DATA2M, pa, 0x3000, PG_4K, PTE_W | PTE_NX);
	map(pg, VA_DATA2M + 0x3000, pa + 0x3000, PG_4K, PG_4K, PTE_NX);
	map(pg, VA_DATA2M + 0x4000, pa + 0x4000, PG_2M - 0x4000, PG_4K, PTE_W | PTE_NX);
	/* No global page changed: reloading CR3 flushes everything else. */
	load_cr3((uint64_t)(uintptr_t)pg->pml4);
	if (*(volatile uint64_t *)(VA_DATA2M + 0x3008) != 0x2d2d2d2dull)
		paging_fail("the split page lost its contents, read", *(volatile uint64_t *)(VA_DATA2M + 0x3008));
	probe(pg, VA_ALIAS_B + 0x123, NULL);
	probe(pg, VA_USER + 0x5000, "PTE");
	probe(pg, VA_DATA2M + 0x3008, NULL);
	probe(pg, VA_NEW2M + 0x1000, NULL);
	stage_end(pg, 2);
}

static void stage3_teardown(struct paging *pg)
{
	unmap(pg, VA_USER, PG_1G, 3);
	load_cr3((uint64_t)(uintptr_t)pg->pml4);
	probe(pg, VA_USER, "PDPTE");
	probe(pg, VA_GUARD + 0x1000, "PDPTE");
	stage_end(pg, 3);
}

/* 1 GiB of 4K pages (262144 PTEs), linked in only once they are all written. */
static void stage4_big(struct paging *pg)
{
	uint64_t *pdpt = alloc_table(pg), *pd = alloc_table(pg);
	uint64_t flags = PTE_P | PTE_W | pg->nx;

	for (unsigned i = 0; i < 512; i++) {
		uint64_t *pt = alloc_page(pg);
		uint64_t pa = (uint64_t)i * PG_2M;

		for (unsigned j = 0; j < 512; j++)
			pt[j] = (pa + (uint64_t)j * PG_4K) | flags;
		pd[i] = (uint64_t)(uintptr_t)pt | PTE_P | PTE_W | PTE_U;
	}
	pdpt[0] = (uint64_t)(uintptr_t)pd | PTE_P | PTE_W | PTE_U;
	pg->pml4[pt_index(VA_BIG, 4)] = (uint64_t)(uintptr_t)pdpt | PTE_P | PTE_W | PTE_U;
	acct_add(&pg->now, VA_BIG, 0, PG_1G, PG_4K, PTE_W | pg->nx);
	load_cr3((uint64_t)(uintptr_t)pg->pml4);
	probe(pg, VA_BIG + 0x2345678, NULL);
	stage_end(pg, 4);
}

/* ---- CPU features, TSS ----------------------------------------------------- */

static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

static uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static void probe_cpu(struct paging *pg)
{
	uint32_t a, b, c, d;

	cpuid(0x80000000u, &a, &b, &c, &d);
	pg->gb_pages = false;
	if (a >= 0x80000001u) {
		cpuid(0x80000001u, &a, &b, &c, &d);
		pg->gb_pages = (d >> 26) & 1;
	}
	pg->nx = (rdmsr(MSR_EFER) & EFER_NXE) ? PTE_NX : 0;
}

/* The boot GDT's code and data descriptors at the same selectors, plus a
 * 64-bit TSS at 0x18; the #DF gate switches to IST1. */
static void load_tss(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) ptr;
	uint64_t base = (uint64_t)(uintptr_t)&tss;
	uint64_t limit = sizeof(tss) - 1;
	uint8_t *gate;

	tss.rsp[0] = (uint64_t)(uintptr_t)(paging_rsp0_stack + sizeof(paging_rsp0_stack));
	tss.ist[0] = (uint64_t)(uintptr_t)(paging_ist1_stack + sizeof(paging_ist1_stack));
	tss.iopb = sizeof(tss);
	gdt[0] = 0;
	gdt[1] = 0x00af9b000000ffffull;
	gdt[2] = 0x00cf93000000ffffull;
	gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
		 ((limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56);
	gdt[4] = base >> 32;
	ptr.limit = sizeof(gdt) - 1;
	ptr.base = (uint64_t)(uintptr_t)gdt;
	__asm__ volatile("lgdt %0" : : "m"(ptr) : "memory");
	__asm__ volatile("ltr %w0" : : "r"(0x18) : "memory");
	__asm__ volatile("sidt %0" : "=m"(ptr) : : "memory");
	gate = (uint8_t *)(uintptr_t)ptr.base + 8 * 16;        /* vector 8, #DF */
	gate[4] = 1;
}

void kmain(uint32_t magic, uint32_t info)
{
	static struct paging pg;
	bool big;

	kernel_init();
	big = cmdline_has(multiboot_cmdline(magic, info), "big");
	kprintf("paging: page tables of my own, stages on the debug console\n");
	probe_cpu(&pg);
	load_tss();
	pg.pool_next = POOL_BASE;
	stage0_boot_tables(&pg);
	stage1_own_tables(&pg);
	stage2_changes(&pg);
	stage3_teardown(&pg);
	if (big)
		stage4_big(&pg);
	dcon_puts("paging: done\n");
	kprintf("paging: done\n");
	kexit(0);
}
