/*
 * internal.h — declarations shared by the introspect/ sources only: the
 * per-mode description of page-table formats and the decoder of one entry,
 * used by both the single-address walk (paging.c) and the mapping list
 * (maps.c) so that the two can never disagree about an entry.
 */
#ifndef RRVM_INTROSPECT_INTERNAL_H
#define RRVM_INTROSPECT_INTERNAL_H

#include "introspect/introspect.h"

#define PTE_P    (1ull << 0)
#define PTE_RW   (1ull << 1)
#define PTE_US   (1ull << 2)
#define PTE_PWT  (1ull << 3)
#define PTE_PCD  (1ull << 4)
#define PTE_A    (1ull << 5)
#define PTE_D    (1ull << 6)
#define PTE_PS   (1ull << 7)    /* PAT in a 4K PTE */
#define PTE_G    (1ull << 8)
#define PTE_LPAT (1ull << 12)   /* PAT in a 2M/4M/1G entry */
#define PTE_XD   (1ull << 63)

#define BITS(hi, lo) ((~0ull >> (63 - (hi))) & ~((1ull << (lo)) - 1))

/* How one paging mode lays out its tables. */
struct introspect_ptfmt {
	enum introspect_paging mode;
	int levels;             /* number of the top level */
	int wide;               /* 8-byte entries */
	int nxe;
	int pse;                /* 32-bit paging: CR4.PSE */
	unsigned maxphy;        /* MAXPHYADDR in use */
	unsigned va_bits;       /* 32, 48 or 57 */
	uint64_t root;          /* gpa of the top table (PAE: of the PDPT) */
	uint64_t hi_rsvd;       /* reserved high bits of every 8-byte entry */
};

enum introspect_entkind { ENT_NOT_PRESENT, ENT_RESERVED, ENT_TABLE, ENT_LEAF };

struct introspect_ent {
	enum introspect_entkind kind;
	uint64_t addr;          /* next table, or the page base */
	uint64_t page_size;     /* leaf */
	uint64_t rsvd;          /* reserved bits set */
	unsigned w, u, nx;      /* this level's permission bits */
	unsigned leaf_flags;    /* INTROSPECT_F_{G,PWT,PCD,PAT,A,D} of a leaf */
};

/* 0, or -EINVAL for INTROSPECT_PAGING_INVALID. NONE is accepted. */
int introspect_ptfmt_init(const struct introspect_cpu *cpu, struct introspect_ptfmt *f);
void introspect_pt_decode(const struct introspect_ptfmt *f, int level, uint64_t e,
			  struct introspect_ent *out);

/* VA bits consumed below this level, and the table index width there. */
static inline unsigned introspect_pt_shift(const struct introspect_ptfmt *f, int level)
{
	if (f->mode == INTROSPECT_PAGING_32)
		return level == 2 ? 22 : 12;
	return 12 + 9 * (unsigned)(level - 1);
}

static inline unsigned introspect_pt_index_bits(const struct introspect_ptfmt *f, int level)
{
	if (f->mode == INTROSPECT_PAGING_32)
		return 10;
	if (f->mode == INTROSPECT_PAGING_PAE && level == 3)
		return 2;
	return 9;
}

/* Sign-extend a linear address from va_bits (no-op for 32-bit modes). */
static inline uint64_t introspect_canon(const struct introspect_ptfmt *f, uint64_t va)
{
	if (f->va_bits >= 64 || f->va_bits <= 32)
		return va;
	unsigned sh = 64 - f->va_bits;
	return (uint64_t)((int64_t)(va << sh) >> sh);
}

enum introspect_pgsize introspect_pgsize_of(uint64_t page_size);
const char *introspect_pgsize_name(uint64_t page_size);

#endif
