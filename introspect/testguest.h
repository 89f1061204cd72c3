/*
 * testguest.h — a fake guest for the introspect unit tests and benchmark:
 * "guest RAM" in a plain buffer, a read_phys() accessor over it that fails
 * with -EFAULT outside it (and counts calls), and a helper that builds page
 * tables of any paging mode in that RAM. Test-only code; not part of the
 * library.
 */
#ifndef RRVM_INTROSPECT_TESTGUEST_H
#define RRVM_INTROSPECT_TESTGUEST_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "introspect/introspect.h"

#define TG_P   0x1ull
#define TG_RW  0x2ull
#define TG_US  0x4ull
#define TG_PWT 0x8ull
#define TG_PCD 0x10ull
#define TG_A   0x20ull
#define TG_D   0x40ull
#define TG_PS  0x80ull
#define TG_G   0x100ull
#define TG_XD  (1ull << 63)

struct tg {
	uint8_t *ram;
	uint64_t size;
	uint64_t next;          /* next free table page */
	uint64_t reads;         /* read_phys calls */
};

static int tg_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct tg *g = ctx;

	g->reads++;
	if (gpa > g->size || len > g->size - gpa)
		return -EFAULT;
	memcpy(buf, g->ram + gpa, len);
	return 0;
}

static inline void tg_init(struct tg *g, uint64_t size)
{
	g->ram = calloc(1, size);
	if (!g->ram) {
		perror("tg_init");
		abort();
	}
	g->size = size;
	g->next = 0x100000;
	g->reads = 0;
}

static inline void tg_free(struct tg *g)
{
	free(g->ram);
	g->ram = NULL;
}

static inline struct introspect_mem tg_mem(struct tg *g)
{
	struct introspect_mem m = { tg_read, g };

	return m;
}

static inline uint64_t tg_alloc(struct tg *g)
{
	uint64_t p = g->next;

	if (p + 4096 > g->size) {
		fprintf(stderr, "testguest: out of table pages\n");
		abort();
	}
	g->next += 4096;
	memset(g->ram + p, 0, 4096);
	return p;
}

static inline uint64_t tg_r64(struct tg *g, uint64_t gpa) { uint64_t v; memcpy(&v, g->ram + gpa, 8); return v; }
static inline uint32_t tg_r32(struct tg *g, uint64_t gpa) { uint32_t v; memcpy(&v, g->ram + gpa, 4); return v; }
static inline void tg_w64(struct tg *g, uint64_t gpa, uint64_t v) { memcpy(g->ram + gpa, &v, 8); }
static inline void tg_w32(struct tg *g, uint64_t gpa, uint32_t v) { memcpy(g->ram + gpa, &v, 4); }

static inline int tg_levels(enum introspect_paging m)
{
	return m == INTROSPECT_PAGING_32 ? 2 : m == INTROSPECT_PAGING_PAE ? 3
	     : m == INTROSPECT_PAGING_4LEVEL ? 4 : 5;
}

static inline uint64_t tg_index(enum introspect_paging m, int level, uint64_t va)
{
	if (m == INTROSPECT_PAGING_32)
		return (va >> (level == 2 ? 22 : 12)) & 1023;
	if (m == INTROSPECT_PAGING_PAE && level == 3)
		return (va >> 30) & 3;
	return (va >> (12 + 9 * (level - 1))) & 511;
}

/*
 * gpa of the entry for va at level, creating missing tables above it with
 * tflags (PAE PDPTEs get P only). The entry itself is left as it is.
 */
static inline uint64_t tg_entry(struct tg *g, enum introspect_paging m, uint64_t root, uint64_t va,
				int level)
{
	int wide = m != INTROSPECT_PAGING_32;
	uint64_t table = root, tflags = TG_P | TG_RW | TG_US;

	for (int l = tg_levels(m); l > level; l--) {
		uint64_t egpa = table + tg_index(m, l, va) * (wide ? 8 : 4);
		uint64_t e = wide ? tg_r64(g, egpa) : tg_r32(g, egpa);

		if (!(e & TG_P)) {
			e = tg_alloc(g) | ((m == INTROSPECT_PAGING_PAE && l == 3) ? TG_P : tflags);
			if (wide)
				tg_w64(g, egpa, e);
			else
				tg_w32(g, egpa, (uint32_t)e);
		}
		table = e & (wide ? 0x000ffffffffff000ull : 0xfffff000ull);
	}
	return table + tg_index(m, level, va) * (wide ? 8 : 4);
}

/* Map the page at va (size given by level: 1 = 4K, 2 = 2M/4M, 3 = 1G) to pa
 * with the leaf flags (P and, above level 1, PS added). Returns the entry's gpa. */
static inline uint64_t tg_map(struct tg *g, enum introspect_paging m, uint64_t root, uint64_t va,
			      uint64_t pa, int level, uint64_t flags)
{
	uint64_t egpa = tg_entry(g, m, root, va, level);
	uint64_t e = pa | flags | TG_P | (level > 1 ? TG_PS : 0);

	if (m == INTROSPECT_PAGING_32)
		tg_w32(g, egpa, (uint32_t)e);
	else
		tg_w64(g, egpa, e);
	return egpa;
}

/* Control registers for a mode with CR3 = root. */
static inline struct introspect_cpu tg_cpu(enum introspect_paging m, uint64_t root, int nxe)
{
	struct introspect_cpu c = { 0 };

	c.cr3 = root;
	c.efer = nxe ? (1ull << 11) : 0;
	if (m == INTROSPECT_PAGING_NONE)
		return c;
	c.cr0 = 0x80000011ull;
	if (m == INTROSPECT_PAGING_32) {
		c.cr4 = 1u << 4;        /* PSE */
		return c;
	}
	c.cr4 = 1u << 5;                /* PAE */
	if (m == INTROSPECT_PAGING_PAE)
		return c;
	c.efer |= (1ull << 8) | (1ull << 10);
	if (m == INTROSPECT_PAGING_5LEVEL)
		c.cr4 |= 1u << 12;
	return c;
}

#endif
