/*
 * maps.c — the list of all mappings of an address space, as coalesced ranges.
 *
 * A depth-first walk in index order, so ranges come out sorted by (canonical)
 * virtual address and a new page either extends the last range or starts the
 * next one: coalescing costs O(1) per page and no sort is needed. Each table
 * is fetched with one read_phys() call of the whole table.
 *
 * Guest tables are untrusted. The depth is fixed by the paging mode, so a
 * loop (an entry pointing back up the hierarchy, a recursive PML4 slot) cannot
 * make the walk endless, but it can make it exponential: 512 self-pointing
 * entries give 512^4 pages. Every table read is charged all its entries
 * against max_entries and the ranges are capped by max_ranges, so work and
 * memory stay bounded and the result says it was truncated. A caller that
 * shows only the first ranges (keep_ranges) stores only those and counts
 * the rest, so its memory does not depend on the guest's tables at all.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "introspect/internal.h"

#define TABLE_BYTES 4096

struct lister {
	const struct introspect_ptfmt *f;
	const struct introspect_cpu *cpu;
	const struct introspect_mem *mem;
	uint64_t first, last;           /* window, inclusive */
	uint64_t max_entries;
	size_t max_ranges;
	size_t keep_ranges;
	int ignore_ad;
	struct introspect_out *cancel;
	unsigned fetches;               /* tables read, for the cancel check */
	struct introspect_maplist *out;
	struct introspect_map cur;
	int have_cur;
	int stop;                       /* window passed, truncated or error */
	int err;
	uint8_t (*buf)[TABLE_BYTES];    /* one table buffer per level */
};

static void add_issue(struct lister *l, uint64_t va, int level, uint64_t gpa, uint64_t e,
		      enum introspect_fault fault, uint64_t rsvd)
{
	struct introspect_maplist *o = l->out;

	if (o->nissues < INTROSPECT_MAX_ISSUES) {
		struct introspect_map_issue *is = &o->issues[o->nissues];

		is->va = va;
		is->level = level;
		is->entry_gpa = gpa;
		is->entry = e;
		is->fault = fault;
		is->rsvd_bit = rsvd ? __builtin_ctzll(rsvd) : -1;
	}
	o->nissues++;
}

static void flush(struct lister *l)
{
	struct introspect_maplist *o = l->out;

	if (!l->have_cur)
		return;
	l->have_cur = 0;
	if (o->n + o->more == l->max_ranges) {
		o->truncated = INTROSPECT_TRUNC_RANGES;
		o->limit = l->max_ranges;
		o->trunc_va = l->cur.va;
		l->stop = 1;
		return;
	}
	if (l->keep_ranges && o->n == l->keep_ranges) {
		if (o->more++ == 0)
			o->more_va = l->cur.va;
		return;
	}
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 256;
		struct introspect_map *v = realloc(o->v, cap * sizeof(*v));

		if (!v) {
			l->err = -ENOMEM;
			l->stop = 1;
			return;
		}
		o->v = v;
		o->cap = cap;
	}
	o->v[o->n++] = l->cur;
}

static void emit(struct lister *l, uint64_t va, uint64_t pa, uint64_t page_size, uint64_t span,
		 unsigned flags)
{
	uint64_t size = span;

	if (va < l->first) {
		pa += l->first - va;
		size -= l->first - va;
		va = l->first;
	}
	if (va + (size - 1) > l->last)
		size = l->last - va + 1;
	if (l->ignore_ad)
		flags &= ~(unsigned)(INTROSPECT_F_A | INTROSPECT_F_D);
	if (l->have_cur && l->cur.va + l->cur.size == va && l->cur.pa + l->cur.size == pa &&
	    l->cur.page_size == page_size && l->cur.flags == flags) {
		l->cur.size += size;
	} else {
		flush(l);
		if (l->stop)
			return;         /* truncated: this page is not listed */
		l->cur = (struct introspect_map){ .va = va, .pa = pa, .size = size,
						  .page_size = page_size, .flags = flags };
		l->have_cur = 1;
	}
	l->out->pages++;
	l->out->bytes[introspect_pgsize_of(page_size)] += size;
}

/* Fetch the table for level into l->buf; returns entry count or 0. */
static unsigned fetch(struct lister *l, int level, uint64_t table, uint64_t va,
		      int plevel, uint64_t pgpa, uint64_t pentry)
{
	const struct introspect_ptfmt *f = l->f;
	unsigned n = 1u << introspect_pt_index_bits(f, level);
	size_t bytes = (size_t)n * (f->wide ? 8 : 4);

	if (l->out->entries + n > l->max_entries) {
		l->out->truncated = INTROSPECT_TRUNC_ENTRIES;
		l->out->limit = l->max_entries;
		l->out->trunc_va = va;
		l->stop = 1;
		return 0;
	}
	/* Asking costs a poll of gdb's socket: every 64 tables (32 K entries)
	 * answers a Ctrl-C within a fraction of a millisecond. */
	if (l->cancel && ++l->fetches % 64 == 0 && introspect_out_cancelled(l->cancel)) {
		l->out->truncated = INTROSPECT_TRUNC_CANCELLED;
		l->out->trunc_va = va;
		l->stop = 1;
		return 0;
	}
	l->out->entries += n;
	if (f->mode == INTROSPECT_PAGING_PAE && level == 3 && l->cpu->pdpte_valid) {
		memcpy(l->buf[level - 1], l->cpu->pdpte, sizeof(l->cpu->pdpte));
		return n;
	}
	if (l->mem->read_phys(l->mem->ctx, table, l->buf[level - 1], bytes) != 0) {
		add_issue(l, va, plevel, pgpa, pentry, INTROSPECT_FAULT_BAD_TABLE, 0);
		return 0;
	}
	return n;
}

static void walk(struct lister *l, int level, uint64_t table, uint64_t va_base,
		 unsigned w, unsigned u, unsigned nx, int plevel, uint64_t pgpa, uint64_t pentry)
{
	const struct introspect_ptfmt *f = l->f;
	unsigned shift = introspect_pt_shift(f, level);
	uint64_t span = 1ull << shift;
	unsigned n = fetch(l, level, table, va_base, plevel, pgpa, pentry);
	const uint8_t *tb = l->buf[level - 1];

	for (unsigned i = 0; i < n && !l->stop; i++) {
		uint64_t va = introspect_canon(f, va_base | ((uint64_t)i << shift));
		uint64_t e, egpa = table + (uint64_t)i * (f->wide ? 8 : 4);
		struct introspect_ent ent;

		if (va + (span - 1) < l->first)
			continue;
		if (va > l->last) {
			l->stop = 1;
			break;
		}
		if (f->wide) {
			memcpy(&e, tb + 8 * i, 8);
		} else {
			uint32_t e32;

			memcpy(&e32, tb + 4 * i, 4);
			e = e32;
		}
		introspect_pt_decode(f, level, e, &ent);
		switch (ent.kind) {
		case ENT_NOT_PRESENT:
			break;
		case ENT_RESERVED:
			add_issue(l, va, level, egpa, e, INTROSPECT_FAULT_RESERVED, ent.rsvd);
			break;
		case ENT_TABLE:
			walk(l, level - 1, ent.addr, va, w & ent.w, u & ent.u, nx | ent.nx,
			     level, egpa, e);
			break;
		case ENT_LEAF:
			emit(l, va, ent.addr, ent.page_size, span,
			     ent.leaf_flags | ((w & ent.w) ? INTROSPECT_F_W : 0) |
			     ((u & ent.u) ? INTROSPECT_F_U : 0) | ((nx | ent.nx) ? INTROSPECT_F_NX : 0));
			break;
		}
	}
}

void introspect_maplist_free(struct introspect_maplist *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int introspect_list(const struct introspect_cpu *cpu, const struct introspect_mem *mem,
		    const struct introspect_list_opts *opts, struct introspect_maplist *out)
{
	static const struct introspect_list_opts defaults;
	struct introspect_ptfmt f;
	struct lister l;

	if (!opts)
		opts = &defaults;
	introspect_maplist_free(out);
	if (introspect_ptfmt_init(cpu, &f) < 0) {
		out->mode = INTROSPECT_PAGING_INVALID;
		return -EINVAL;
	}
	out->mode = f.mode;
	if (opts->va_end && opts->va_end <= opts->va_start)
		return -EINVAL;
	memset(&l, 0, sizeof(l));
	l.f = &f;
	l.cpu = cpu;
	l.mem = mem;
	l.out = out;
	l.first = opts->va_start;
	l.last = opts->va_end ? opts->va_end - 1 : UINT64_MAX;
	l.max_entries = opts->max_entries ? opts->max_entries : INTROSPECT_DEFAULT_MAX_ENTRIES;
	l.max_ranges = opts->max_ranges ? opts->max_ranges : INTROSPECT_DEFAULT_MAX_RANGES;
	l.keep_ranges = opts->keep_ranges;
	l.ignore_ad = opts->ignore_ad;
	l.cancel = opts->cancel;

	if (f.mode == INTROSPECT_PAGING_NONE) {
		/* Linear addresses are 32 bits wide without paging. */
		if (l.first <= 0xffffffffull)
			emit(&l, 0, 0, 0, 1ull << 32, INTROSPECT_F_W | INTROSPECT_F_U);
		flush(&l);
		return l.err;
	}
	if (f.va_bits == 32 && l.last > 0xffffffffull)
		l.last = 0xffffffffull;
	if (l.first > l.last)
		return 0;
	l.buf = malloc((size_t)f.levels * TABLE_BYTES);
	if (!l.buf)
		return -ENOMEM;
	walk(&l, f.levels, f.root, 0, 1, 1, 0, f.levels + 1, INTROSPECT_NO_GPA, cpu->cr3);
	if (!l.err)
		flush(&l);
	free(l.buf);
	if (l.err)
		introspect_maplist_free(out);
	return l.err;
}

/* Sizes are multiples of 4K (or the 4G identity map): print them exactly. */
static void fmt_size(uint64_t n, char *buf, size_t len)
{
	struct introspect_out o;
	static const char units[] = "KMGTPE";
	int u = -1;

	while (n && n % 1024 == 0 && u < 5) {
		n /= 1024;
		u++;
	}
	introspect_out_buffer(&o, buf, len);
	if (u < 0)
		introspect_printf(&o, "%lluB", (unsigned long long)n);
	else
		introspect_printf(&o, "%llu%c", (unsigned long long)n, units[u]);
}

static void format_map(const struct introspect_map *m, int width, struct introspect_out *o)
{
	char fl[64], sz[24];

	introspect_flags_str(m->flags, fl, sizeof(fl));
	fmt_size(m->size, sz, sizeof(sz));
	introspect_printf(o, "%0*llx-%0*llx -> %0*llx %7s %-2s %s\n", width,
			  (unsigned long long)m->va, width,
			  (unsigned long long)(m->va + (m->size - 1)), width,
			  (unsigned long long)m->pa, sz, introspect_pgsize_name(m->page_size), fl);
}

void introspect_format_map(const struct introspect_map *m, struct introspect_out *o)
{
	format_map(m, 16, o);
}

void introspect_format_maplist(const struct introspect_maplist *l, struct introspect_out *o)
{
	static const char *const pg[INTROSPECT_PG_COUNT] = { "4K", "2M", "4M", "1G", "identity" };
	int width = (l->mode == INTROSPECT_PAGING_4LEVEL || l->mode == INTROSPECT_PAGING_5LEVEL) ? 16 : 8;
	uint64_t total = 0;
	char sz[24];

	introspect_printf(o, "%s paging, %llu range%s\n", introspect_paging_name(l->mode),
			  (unsigned long long)(l->n + l->more), l->n + l->more == 1 ? "" : "s");
	for (size_t i = 0; i < l->n; i++) {
		/* One check per 64 lines: each is a poll of gdb's socket. */
		if (i % 64 == 63 && introspect_out_cancelled(o)) {
			introspect_printf(o, "... interrupted after %zu of %zu ranges\n", i, l->n);
			return;
		}
		format_map(&l->v[i], width, o);
	}
	if (l->more)
		introspect_printf(o, "... %llu more range%s, the first at va 0x%llx\n",
				  (unsigned long long)l->more, l->more == 1 ? "" : "s",
				  (unsigned long long)l->more_va);
	introspect_printf(o, "mapped:");
	for (int i = 0; i < INTROSPECT_PG_COUNT; i++) {
		if (!l->bytes[i])
			continue;
		total += l->bytes[i];
		fmt_size(l->bytes[i], sz, sizeof(sz));
		introspect_printf(o, " %s in %s pages,", sz, pg[i]);
	}
	fmt_size(total, sz, sizeof(sz));
	introspect_printf(o, " total %s (%llu pages, %llu entries read)\n", total ? sz : "0",
			  (unsigned long long)l->pages, (unsigned long long)l->entries);
	for (size_t i = 0; i < l->nissues && i < INTROSPECT_MAX_ISSUES; i++) {
		const struct introspect_map_issue *is = &l->issues[i];
		const char *lvl = introspect_level_name(is->level);

		if (is->entry_gpa == INTROSPECT_NO_GPA)
			lvl = "CR3";
		introspect_printf(o, "skipped va 0x%llx: %s 0x%llx", (unsigned long long)is->va, lvl,
				  (unsigned long long)is->entry);
		if (is->entry_gpa != INTROSPECT_NO_GPA)
			introspect_printf(o, " at 0x%llx", (unsigned long long)is->entry_gpa);
		if (is->fault == INTROSPECT_FAULT_RESERVED)
			introspect_printf(o, ": reserved bit %d set\n", is->rsvd_bit);
		else
			introspect_printf(o, ": points to a table outside guest RAM\n");
	}
	if (l->nissues > INTROSPECT_MAX_ISSUES)
		introspect_printf(o, "... and %zu more skipped entries\n",
				  l->nissues - INTROSPECT_MAX_ISSUES);
	if (l->truncated == INTROSPECT_TRUNC_ENTRIES)
		introspect_printf(o, "truncated: page tables map more than %llu entries "
				  "(looping or recursive tables?); stopped at va 0x%llx\n",
				  (unsigned long long)l->limit, (unsigned long long)l->trunc_va);
	else if (l->truncated == INTROSPECT_TRUNC_RANGES)
		introspect_printf(o, "truncated: more than %llu ranges; stopped at va 0x%llx\n",
				  (unsigned long long)l->limit, (unsigned long long)l->trunc_va);
	else if (l->truncated == INTROSPECT_TRUNC_CANCELLED)
		introspect_printf(o, "interrupted: the walk stopped at va 0x%llx\n",
				  (unsigned long long)l->trunc_va);
}
