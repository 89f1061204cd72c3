/*
 * pagetable_fuzz.c — libFuzzer target for the page-table walker over
 * random guest memory.
 *
 * The first 64 bytes of the input are the CPU (CR0, CR3, CR4, EFER, PAE
 * PDPTEs, MAXPHYADDR, list window); the rest is guest physical memory from
 * address 0 (reads beyond it fail with -EFAULT, as for memory outside guest
 * RAM). A selector byte forces one of the paging modes most of the time,
 * so that the walk gets past the mode check, and CR3 is folded into the
 * memory so that the tables are the fuzzer's bytes. Every walk, listing,
 * formatting and diff must finish, stay inside the budgets, and keep its
 * promises: ranges sorted and non-overlapping, translate agreeing with the
 * list on where a listed address maps; a flag bit cancels the output (as
 * gdb's Ctrl-C does) at a check the input picks. Built by `make fuzz`.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "introspect/introspect.h"

struct guest {
	const uint8_t *mem;
	size_t size;
};

static int read_phys(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	const struct guest *g = ctx;

	if (gpa > g->size || len > g->size - gpa)
		return -EFAULT;
	memcpy(buf, g->mem + gpa, len);
	return 0;
}

static void discard(void *ctx, const char *s, size_t len)
{
	(void)ctx, (void)s, (void)len;
}

/* A cancel check (gdb's Ctrl-C) that says yes from its Nth call on. */
static int cancel_at(void *ctx)
{
	unsigned *left = ctx;

	return *left == 0 || --*left == 0;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static void check_sorted(const struct introspect_maplist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].size == 0)
			abort();
		if (i && l->v[i - 1].va + (l->v[i - 1].size - 1) >= l->v[i].va)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct { uint64_t cr0, cr4, efer; } modes[] = {
		{ 0x80000011, 0x20, 0x500 },            /* 4-level, NXE */
		{ 0x80000011, 0x1020, 0x500 },          /* 5-level */
		{ 0x80000011, 0x20, 0x800 },            /* PAE */
		{ 0x80000011, 0x10, 0 },                /* 32-bit, PSE */
		{ 0x80000011, 0x0, 0 },                 /* 32-bit */
		{ 0x11, 0, 0 },                         /* paging off */
	};
	struct introspect_maplist a = { 0 }, b = { 0 };
	struct introspect_list_opts opts = { 0 };
	struct introspect_diff d = { 0 };
	struct introspect_cpu cpu = { 0 };
	struct introspect_walk w;
	struct introspect_out o;
	struct guest g;
	struct introspect_mem mem = { read_phys, &g };
	unsigned sel, cancel_left;

	if (size < 64)
		return 0;
	g.mem = data + 64;
	g.size = size - 64;
	sel = data[0];
	cpu.cr0 = rd64(data + 8);
	cpu.cr3 = rd64(data + 16);
	cpu.cr4 = rd64(data + 24);
	cpu.efer = rd64(data + 32);
	if (sel % 8 < 6) {
		cpu.cr0 = modes[sel % 8].cr0;
		cpu.cr4 = modes[sel % 8].cr4 | (cpu.cr4 & 0x80);        /* PGE from input */
		cpu.efer = modes[sel % 8].efer;
		if (g.size)
			cpu.cr3 = (cpu.cr3 % g.size) & ~0xfffull;
	}
	cpu.maxphyaddr = data[1];
	cpu.pdpte_valid = data[2] & 1;
	for (int i = 0; i < 4; i++)
		cpu.pdpte[i] = rd64(data + 40) ^ ((uint64_t)i << 12);
	introspect_out_callback(&o, discard, NULL);

	/* A few single walks, at addresses from the input. */
	for (size_t i = 0; i + 8 <= g.size && i < 64; i += 8) {
		uint64_t va = rd64(g.mem + i);

		if (introspect_translate(&cpu, &mem, va, &w) == 0 && w.fault != INTROSPECT_FAULT_NONE)
			abort();
		if (w.nsteps > INTROSPECT_MAX_LEVELS)
			abort();
		introspect_format_walk(&w, &o);
		introspect_format_translation(&w, &o);
	}
	introspect_format_cpu(&cpu, &o);

	/* Five 512-entry tables: a full 4-level walk with a sibling, while a
	 * loop costs little (the budget's own behaviour is unit-tested). */
	opts.max_entries = 5 * 512;
	opts.max_ranges = 64;
	if (data[3] & 1) {
		opts.va_start = rd64(data + 48);
		opts.va_end = rd64(data + 56);
	}
	/* Sometimes a Ctrl-C, at the walk's or the listing's Nth check. */
	if (data[3] & 4) {
		cancel_left = data[4];
		introspect_out_cancel(&o, cancel_at, &cancel_left);
		opts.cancel = &o;
	}
	if (introspect_list(&cpu, &mem, &opts, &a) == 0) {
		check_sorted(&a);
		if (a.entries > opts.max_entries || a.n > opts.max_ranges ||
		    (a.truncated == INTROSPECT_TRUNC_CANCELLED && !introspect_out_cancelled(&o)))
			abort();
		/* The list and the walker agree on every listed range's start. */
		for (size_t i = 0; i < a.n && i < 16; i++) {
			if (introspect_translate(&cpu, &mem, a.v[i].va, &w) != 0 || w.pa != a.v[i].pa)
				abort();
		}
		introspect_format_maplist(&a, &o);
		opts.ignore_ad = 1;
		if ((data[3] & 2) && introspect_list(&cpu, &mem, &opts, &b) == 0) {
			check_sorted(&b);
			if (introspect_diff(&a, &b, &d) == 0)
				introspect_format_diff(&d, &o);
		}
	}
	introspect_diff_free(&d);
	introspect_maplist_free(&a);
	introspect_maplist_free(&b);
	return 0;
}
