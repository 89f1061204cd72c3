/*
 * paging_account.c - samples/paging.elf's account of its own mappings: the
 * list of what it meant to map, kept beside the page tables but never read
 * from them, and printed on the debug console (port 0xe9) in the exact
 * text of rrvm's `pt --no-ad` and `pt-diff`, so that a test can compare
 * rrvm's walk of the real tables with the guest's intent line by line.
 * The diff is computed here independently of rrvm's: cut the address space
 * at every range boundary of either list, classify each piece, merge
 * pieces of one kind that continue each other.
 */
#include "io.h"
#include "kernel.h"
#include "paging.h"

#define DEBUGCON 0xe9

/* ---- output on the debug console -------------------------------------- */

void dcon_puts(const char *s)
{
	while (*s)
		outb(DEBUGCON, (uint8_t)*s++);
}

void dcon_hex(uint64_t v, int width)
{
	char b[17];
	int n = 0;

	do {
		b[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v && n < 16);
	while (n < width && n < 16)
		b[n++] = '0';
	while (n)
		outb(DEBUGCON, (uint8_t)b[--n]);
}

void dcon_dec(uint64_t v)
{
	char b[21];
	int n = 0;

	do {
		b[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		outb(DEBUGCON, (uint8_t)b[--n]);
}

/* Right-justified in width (rrvm's "%7s"). */
static void dpad(const char *s, int width)
{
	for (int n = (int)strlen(s); n < width; n++)
		outb(DEBUGCON, ' ');
	dcon_puts(s);
}

/* Sizes exactly as rrvm prints them: largest unit that divides evenly. */
static void size_str(uint64_t n, char *buf)
{
	static const char units[] = "KMGTPE";
	char tmp[24];
	int u = -1, k = 0, i = 0;

	while (n && n % 1024 == 0 && u < 5) {
		n /= 1024;
		u++;
	}
	do {
		tmp[k++] = (char)('0' + n % 10);
		n /= 10;
	} while (n);
	while (k)
		buf[i++] = tmp[--k];
	buf[i++] = u < 0 ? 'B' : units[u];
	buf[i] = '\0';
}

static const char *pgsize_name(uint64_t pgsize)
{
	return pgsize == PG_1G ? "1G" : pgsize == PG_2M ? "2M" : "4K";
}

/* "rw- u G PWT PCD", the order rrvm uses. */
static void dflags(uint64_t f)
{
	outb(DEBUGCON, 'r');
	outb(DEBUGCON, f & PTE_W ? 'w' : '-');
	outb(DEBUGCON, f & PTE_NX ? '-' : 'x');
	outb(DEBUGCON, ' ');
	outb(DEBUGCON, f & PTE_U ? 'u' : 's');
	if (f & PTE_G)
		dcon_puts(" G");
	if (f & PTE_PWT)
		dcon_puts(" PWT");
	if (f & PTE_PCD)
		dcon_puts(" PCD");
}

void paging_fail(const char *what, uint64_t value)
{
	kprintf("paging: FAILED: %s 0x%lx\n", what, (unsigned long)value);
	dcon_puts("paging: FAILED: ");
	dcon_puts(what);
	dcon_puts("\n");
	kexit(0x7e);
}

/* ---- the account: what the guest means to have mapped ------------------ */

void acct_add(struct account *a, uint64_t va, uint64_t pa, uint64_t size,
		     uint64_t pgsize, uint64_t flags)
{
	if (a->n == MAX_REGIONS)
		paging_fail("too many regions at va", va);
	a->r[a->n++] = (struct region){ va, pa, size, pgsize, flags };
}

void acct_remove(struct account *a, uint64_t va, uint64_t size)
{
	struct account out = { .n = 0 };

	for (unsigned i = 0; i < a->n; i++) {
		struct region r = a->r[i];
		uint64_t end = r.va + r.size;

		if (end <= va || r.va >= va + size) {
			acct_add(&out, r.va, r.pa, r.size, r.pgsize, r.flags);
			continue;
		}
		if (r.va < va)
			acct_add(&out, r.va, r.pa, va - r.va, r.pgsize, r.flags);
		if (end > va + size)
			acct_add(&out, va + size, r.pa + (va + size - r.va), end - (va + size),
				 r.pgsize, r.flags);
	}
	*a = out;
}

const struct region *acct_find(const struct account *a, uint64_t va)
{
	for (unsigned i = 0; i < a->n; i++)
		if (va >= a->r[i].va && va - a->r[i].va < a->r[i].size)
			return &a->r[i];
	return NULL;
}

/* Sorted by va, runs contiguous in va and pa with one page size and the
 * same flags merged: how rrvm coalesces. */
void acct_coalesce(const struct account *in, struct account *out)
{
	struct account s = *in;

	for (unsigned i = 1; i < s.n; i++)
		for (unsigned j = i; j > 0 && s.r[j - 1].va > s.r[j].va; j--) {
			struct region t = s.r[j];

			s.r[j] = s.r[j - 1];
			s.r[j - 1] = t;
		}
	out->n = 0;
	for (unsigned i = 0; i < s.n; i++) {
		struct region *p = out->n ? &out->r[out->n - 1] : NULL;
		const struct region *r = &s.r[i];

		if (p && p->va + p->size == r->va && p->pa + p->size == r->pa &&
		    p->pgsize == r->pgsize && p->flags == r->flags)
			p->size += r->size;
		else
			acct_add(out, r->va, r->pa, r->size, r->pgsize, r->flags);
	}
}

static void print_range(const struct region *r)
{
	char sz[24];

	dcon_hex(r->va, 16);
	outb(DEBUGCON, '-');
	dcon_hex(r->va + r->size - 1, 16);
	dcon_puts(" -> ");
	dcon_hex(r->pa, 16);
	outb(DEBUGCON, ' ');
	size_str(r->size, sz);
	dpad(sz, 7);
	outb(DEBUGCON, ' ');
	dcon_puts(pgsize_name(r->pgsize));
	outb(DEBUGCON, ' ');
	dflags(r->flags);
	dcon_puts("\n");
}

void acct_print_list(const struct account *c)
{
	static const uint64_t sizes[] = { PG_4K, PG_2M, PG_1G };
	uint64_t total = 0, pages = 0;
	char sz[24];

	dcon_puts("4-level paging, ");
	dcon_dec(c->n);
	dcon_puts(c->n == 1 ? " range\n" : " ranges\n");
	for (unsigned i = 0; i < c->n; i++) {
		dcon_puts("map ");
		print_range(&c->r[i]);
		pages += c->r[i].size / c->r[i].pgsize;
	}
	dcon_puts("mapped:");
	for (unsigned k = 0; k < 3; k++) {
		uint64_t bytes = 0;

		for (unsigned i = 0; i < c->n; i++)
			if (c->r[i].pgsize == sizes[k])
				bytes += c->r[i].size;
		if (!bytes)
			continue;
		total += bytes;
		size_str(bytes, sz);
		dcon_puts(" ");
		dcon_puts(sz);
		dcon_puts(" in ");
		dcon_puts(pgsize_name(sizes[k]));
		dcon_puts(" pages,");
	}
	size_str(total, sz);
	dcon_puts(" total ");
	dcon_puts(sz);
	dcon_puts(" (");
	dcon_dec(pages);
	dcon_puts(" pages\n");
}

/* ---- the differences between two stages, as rrvm's pt-diff shows them --- */

enum { D_ADDED, D_REMOVED, D_CHANGED };

struct piece {
	int kind;
	uint64_t va, size;
	struct region before, after;
};

static bool continues(const struct region *p, uint64_t psize, const struct region *n)
{
	return p->pa + psize == n->pa && p->pgsize == n->pgsize && p->flags == n->flags;
}

static void print_piece(const struct piece *p)
{
	if (p->kind == D_ADDED || p->kind == D_REMOVED) {
		struct region r = p->kind == D_ADDED ? p->after : p->before;

		r.va = p->va;
		r.size = p->size;
		dcon_puts(p->kind == D_ADDED ? "diff + " : "diff - ");
		print_range(&r);
		return;
	}
	dcon_puts("diff ~ ");
	dcon_hex(p->va, 16);
	outb(DEBUGCON, '-');
	dcon_hex(p->va + p->size - 1, 16);
	dcon_puts(": ");
	dcon_hex(p->before.pa, 16);
	outb(DEBUGCON, ' ');
	dcon_puts(pgsize_name(p->before.pgsize));
	outb(DEBUGCON, ' ');
	dflags(p->before.flags);
	dcon_puts(" => ");
	dcon_hex(p->after.pa, 16);
	outb(DEBUGCON, ' ');
	dcon_puts(pgsize_name(p->after.pgsize));
	outb(DEBUGCON, ' ');
	dflags(p->after.flags);
	dcon_puts("\n");
}

/*
 * Cut the address space at every range boundary of either list; classify
 * each piece; merge pieces of one kind that continue each other. The
 * pieces are collected first because the header line counts them.
 */
void acct_print_diff(const struct account *a, const struct account *b)
{
	static struct piece out[2 * MAX_REGIONS * 2];
	uint64_t cut[4 * MAX_REGIONS];
	unsigned ncut = 0, nout = 0, count[3] = { 0, 0, 0 };

	for (unsigned i = 0; i < a->n; i++) {
		cut[ncut++] = a->r[i].va;
		cut[ncut++] = a->r[i].va + a->r[i].size;
	}
	for (unsigned i = 0; i < b->n; i++) {
		cut[ncut++] = b->r[i].va;
		cut[ncut++] = b->r[i].va + b->r[i].size;
	}
	for (unsigned i = 1; i < ncut; i++)
		for (unsigned j = i; j > 0 && cut[j - 1] > cut[j]; j--) {
			uint64_t t = cut[j];

			cut[j] = cut[j - 1];
			cut[j - 1] = t;
		}
	for (unsigned i = 0; i + 1 < ncut; i++) {
		uint64_t x = cut[i], size = cut[i + 1] - cut[i];
		const struct region *ra = acct_find(a, x), *rb = acct_find(b, x);
		struct piece p = { .va = x, .size = size };

		if (!size || (!ra && !rb))
			continue;
		if (ra) {
			p.before = *ra;
			p.before.pa = ra->pa + (x - ra->va);
		}
		if (rb) {
			p.after = *rb;
			p.after.pa = rb->pa + (x - rb->va);
		}
		if (ra && rb) {
			if (p.before.pa == p.after.pa && ra->pgsize == rb->pgsize &&
			    ra->flags == rb->flags)
				continue;
			p.kind = D_CHANGED;
		} else {
			p.kind = ra ? D_REMOVED : D_ADDED;
		}
		if (nout) {
			struct piece *q = &out[nout - 1];

			if (q->kind == p.kind && q->va + q->size == p.va &&
			    (!ra || continues(&q->before, q->size, &p.before)) &&
			    (!rb || continues(&q->after, q->size, &p.after))) {
				q->size += p.size;
				continue;
			}
		}
		out[nout++] = p;
	}
	for (unsigned i = 0; i < nout; i++)
		count[out[i].kind]++;
	dcon_dec(count[D_ADDED]);
	dcon_puts(" added, ");
	dcon_dec(count[D_REMOVED]);
	dcon_puts(" removed, ");
	dcon_dec(count[D_CHANGED]);
	dcon_puts(" changed\n");
	for (unsigned i = 0; i < nout; i++)
		print_piece(&out[i]);
}
