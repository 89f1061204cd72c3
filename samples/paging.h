/*
 * paging.h - what samples/paging.c and paging_account.c share: page-table
 * bits, the guest's list of intended mappings (its "account") and the
 * debug-console output that prints it in the formats of rrvm's `pt` and
 * `pt-diff`.
 */
#ifndef SAMPLES_PAGING_H
#define SAMPLES_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#define PTE_P   0x1ull
#define PTE_W   0x2ull
#define PTE_U   0x4ull
#define PTE_PWT 0x8ull
#define PTE_PCD 0x10ull
#define PTE_PS  0x80ull
#define PTE_G   0x100ull
#define PTE_NX  (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

#define PG_4K 0x1000ull
#define PG_2M 0x200000ull
#define PG_1G 0x40000000ull

#define MAX_REGIONS 48

/* One intended mapping; flags are PTE bits among W, U, NX, G, PWT, PCD. */
struct region {
	uint64_t va, pa, size, pgsize, flags;
};

struct account {
	struct region r[MAX_REGIONS];
	unsigned n;
};

/* Debug console (port 0xe9) output. */
void dcon_puts(const char *s);
void dcon_hex(uint64_t v, int width);           /* at least width digits */
void dcon_dec(uint64_t v);
/* Say what failed on COM1 and the debug console, exit with value 0x7e. */
void paging_fail(const char *what, uint64_t value) __attribute__((noreturn));

void acct_add(struct account *a, uint64_t va, uint64_t pa, uint64_t size, uint64_t pgsize,
	      uint64_t flags);
/* Forget [va, va+size): regions overlapping it keep their other parts. */
void acct_remove(struct account *a, uint64_t va, uint64_t size);
const struct region *acct_find(const struct account *a, uint64_t va);
/* Sorted by va, with runs merged as rrvm coalesces them. */
void acct_coalesce(const struct account *in, struct account *out);
/* A coalesced account as `pt --no-ad` prints it ("map " before each range,
 * the totals line without rrvm's "entries read"). */
void acct_print_list(const struct account *c);
/* The changes from a to b (both coalesced) as `pt-diff` prints them
 * ("diff " before each change). */
void acct_print_diff(const struct account *a, const struct account *b);

#endif
