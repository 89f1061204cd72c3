/*
 * introspect_maps_test.c — the mapping list, its diff and the shadow cache,
 * on page tables in fake guest RAM: coalescing rules, totals, range
 * restriction, entries outside RAM or with reserved bits, recursive and
 * self-referencing tables (bounded work, truncation note), 1 GiB of 4K pages,
 * added/removed/changed diffs, and cache refills driven by dirty marks.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "introspect/testguest.h"
#include "tests/unit/tap.h"

#define RAM (8u << 20)
#define M4 INTROSPECT_PAGING_4LEVEL

static char text[1 << 16];

static const char *list_text(const struct introspect_maplist *l)
{
	struct introspect_out o;

	introspect_out_buffer(&o, text, sizeof(text));
	introspect_format_maplist(l, &o);
	return text;
}

/* A sink that keeps only whether the truncation note went by: the text of a
 * million ranges is too big to keep. */
static void note_sink(void *ctx, const char *s, size_t len)
{
	int *seen = ctx;

	if (strstr(s, "truncated: ") == s)
		*seen = 1;
	(void)len;
}

static int has_note(const struct introspect_maplist *l)
{
	struct introspect_out o;
	int seen = 0;

	introspect_out_callback(&o, note_sink, &seen);
	introspect_format_maplist(l, &o);
	return seen;
}

/* A cancel check that says yes from its Nth call on. */
struct canceller {
	int calls, at;
};

static int cancel_at(void *ctx)
{
	struct canceller *k = ctx;

	return ++k->calls >= k->at;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_coalesce(void)
{
	struct tg g;
	struct introspect_mem m;
	struct introspect_cpu c;
	struct introspect_maplist l = { 0 };
	struct introspect_list_opts opts = { 0 };
	uint64_t root;

	tg_init(&g, RAM);
	m = tg_mem(&g);
	root = tg_alloc(&g);
	c = tg_cpu(M4, root, 1);
	/* 16 pages contiguous both ways: one range. */
	for (int i = 0; i < 16; i++)
		tg_map(&g, M4, root, 0x400000 + i * 4096, 0x800000 + i * 4096, 1, TG_RW);
	is_int(introspect_list(&c, &m, NULL, &l), 0, "list 4-level");
	is_int(l.n, 1, "16 contiguous 4K pages: one range");
	ok(l.n == 1 && l.v[0].va == 0x400000 && l.v[0].pa == 0x800000 && l.v[0].size == 0x10000 &&
	   l.v[0].page_size == 4096 && l.v[0].flags == INTROSPECT_F_W, "range fields");
	is_int(l.bytes[INTROSPECT_PG_4K], 0x10000, "4K total");
	is_int(l.pages, 16, "16 pages counted");

	/* Physical discontinuity, then flag change, then a virtual gap. */
	tg_map(&g, M4, root, 0x400000 + 5 * 4096, 0x900000, 1, TG_RW);
	tg_map(&g, M4, root, 0x400000 + 9 * 4096, 0x800000 + 9 * 4096, 1, 0);
	tg_w64(&g, tg_entry(&g, M4, root, 0x400000 + 12 * 4096, 1), 0);
	is_int(introspect_list(&c, &m, NULL, &l), 0, "relist");
	is_int(l.n, 6, "split at phys jump, back, flag change, after it, and hole: 6 ranges");
	ok(l.n == 6 && l.v[1].va == 0x405000 && l.v[1].size == 0x1000 && l.v[1].pa == 0x900000,
	   "phys-discontiguous page is its own range");
	ok(l.n == 6 && l.v[3].va == 0x409000 && l.v[3].flags == 0, "read-only page is its own range");
	ok(l.n == 6 && l.v[4].size == 0x2000 && l.v[5].va == 0x40d000, "hole splits ranges");

	/* Page size differs: a 2M page right after 4K pages that continue it. */
	tg_map(&g, M4, root, 0x600000, 0xa00000, 2, TG_RW);
	for (int i = 0; i < 512; i++)
		tg_map(&g, M4, root, 0x400000 + i * 4096, 0x800000 + i * 4096, 1, TG_RW);
	is_int(introspect_list(&c, &m, NULL, &l), 0, "list 4K run + 2M page");
	is_int(l.n, 2, "same flags and contiguous, but page size differs: 2 ranges");
	is_int(l.bytes[INTROSPECT_PG_2M], 2u << 20, "2M total");
	is_int(l.bytes[INTROSPECT_PG_4K], 2u << 20, "4K total 2M");
	ok(strstr(list_text(&l), "4-level paging, 2 ranges") && strstr(text, "2M in 4K pages") &&
	   strstr(text, "total 4M"), "text header and totals");
	printf("# %.*s\n", (int)strcspn(text + strcspn(text, "\n") + 1, "\n"), text + strcspn(text, "\n") + 1);

	/* A/D differences split ranges unless ignored. */
	tg_map(&g, M4, root, 0x400000 + 7 * 4096, 0x800000 + 7 * 4096, 1, TG_RW | TG_A | TG_D);
	is_int(introspect_list(&c, &m, NULL, &l), 0, "list with one dirty page");
	is_int(l.n, 4, "A/D kept: dirty page splits the run");
	opts.ignore_ad = 1;
	is_int(introspect_list(&c, &m, &opts, &l), 0, "list ignoring A/D");
	is_int(l.n, 2, "A/D ignored: run coalesced again");
	opts.ignore_ad = 0;

	/* Window: starts inside a 2M page; clipped. */
	opts.va_start = 0x700000;
	opts.va_end = 0x800000;
	is_int(introspect_list(&c, &m, &opts, &l), 0, "list window");
	ok(l.n == 1 && l.v[0].va == 0x700000 && l.v[0].pa == 0xb00000 && l.v[0].size == 0x100000 &&
	   l.v[0].page_size == 2u << 20, "window clips the 2M page (va, pa, size)");
	opts.va_start = 0x401000;
	opts.va_end = 0x403000;
	is_int(introspect_list(&c, &m, &opts, &l), 0, "list small window");
	ok(l.n == 1 && l.v[0].va == 0x401000 && l.v[0].size == 0x2000, "window of two 4K pages");
	opts.va_start = 0x500000;
	opts.va_end = 0x400000;
	is_int(introspect_list(&c, &m, &opts, &l), -EINVAL, "inverted window: -EINVAL");
	introspect_maplist_free(&l);
	tg_free(&g);
}

static void test_modes_and_issues(void)
{
	struct tg g;
	struct introspect_mem m;
	struct introspect_cpu c;
	struct introspect_maplist l = { 0 };
	uint64_t root, e;

	tg_init(&g, RAM);
	m = tg_mem(&g);

	c = tg_cpu(INTROSPECT_PAGING_NONE, 0, 0);
	is_int(introspect_list(&c, &m, NULL, &l), 0, "list without paging");
	ok(l.n == 1 && l.v[0].va == 0 && l.v[0].size == 1ull << 32 && l.v[0].page_size == 0,
	   "paging off: one 4G identity range");

	root = tg_alloc(&g);
	c = tg_cpu(INTROSPECT_PAGING_32, root, 0);
	tg_map(&g, INTROSPECT_PAGING_32, root, 0xc0000000, 0x0, 2, TG_RW | TG_G);
	tg_map(&g, INTROSPECT_PAGING_32, root, 0xc0400000, 0x400000, 2, TG_RW | TG_G);
	tg_map(&g, INTROSPECT_PAGING_32, root, 0xb8000, 0xb8000, 1, TG_RW);
	is_int(introspect_list(&c, &m, NULL, &l), 0, "list 32-bit");
	ok(l.n == 2 && l.v[1].va == 0xc0000000 && l.v[1].size == 8u << 20 &&
	   l.v[1].page_size == 4u << 20, "32-bit: two 4M pages coalesce");
	is_int(l.bytes[INTROSPECT_PG_4M], 8u << 20, "4M total");
	ok(strstr(list_text(&l), "000b8000-000b8fff -> 000b8000") != NULL, "32-bit text uses 8 digits");

	root = tg_alloc(&g);
	c = tg_cpu(INTROSPECT_PAGING_PAE, root, 1);
	tg_map(&g, INTROSPECT_PAGING_PAE, root, 0x00000000, 0x0, 2, TG_RW);
	tg_map(&g, INTROSPECT_PAGING_PAE, root, 0xc0000000, 0x0, 2, TG_RW | TG_XD);
	tg_map(&g, INTROSPECT_PAGING_PAE, root, 0xffe00000, 0x200000, 2, TG_RW | TG_XD);
	is_int(introspect_list(&c, &m, NULL, &l), 0, "list PAE");
	ok(l.n == 3 && l.v[1].flags == (INTROSPECT_F_W | INTROSPECT_F_NX) && l.v[2].va == 0xffe00000,
	   "PAE: 3 ranges, NX flag, top of 4G");

	root = tg_alloc(&g);
	c = tg_cpu(INTROSPECT_PAGING_5LEVEL, root, 1);
	tg_map(&g, INTROSPECT_PAGING_5LEVEL, root, 0x1000, 0x1000, 1, TG_RW);
	tg_map(&g, INTROSPECT_PAGING_5LEVEL, root, 0x0080000000000000ull, 0x40000000, 3, TG_RW);
	tg_map(&g, INTROSPECT_PAGING_5LEVEL, root, 0xff00000000001000ull, 0x2000, 1, 0);
	is_int(introspect_list(&c, &m, NULL, &l), 0, "list 5-level");
	ok(l.n == 3 && l.v[1].va == 0x0080000000000000ull && l.v[1].page_size == 1u << 30 &&
	   l.v[2].va == 0xff00000000001000ull && l.v[2].pa == 0x2000, "5-level: 57-bit VAs, sign-extended");

	/* Long mode: a table outside RAM and a reserved entry are skipped. */
	root = tg_alloc(&g);
	c = tg_cpu(M4, root, 0);
	tg_map(&g, M4, root, 0x1000, 0x1000, 1, TG_RW);
	tg_map(&g, M4, root, 0x200000, 0x400000, 2, TG_RW | TG_XD);   /* XD without NXE */
	e = tg_entry(&g, M4, root, 0x8000000000ull, 4);
	tg_w64(&g, e, 0x7fff0000ull | TG_P | TG_RW);
	tg_map(&g, M4, root, 0xffff800000000000ull, 0x0, 3, TG_RW);
	is_int(introspect_list(&c, &m, NULL, &l), 0, "list with bad entries");
	is_int(l.n, 2, "good mappings listed around bad ones");
	is_int(l.nissues, 2, "two issues");
	ok(l.issues[0].fault == INTROSPECT_FAULT_RESERVED && l.issues[0].rsvd_bit == 63 &&
	   l.issues[0].va == 0x200000 && l.issues[0].level == 2, "reserved XD reported with its va");
	ok(l.issues[1].fault == INTROSPECT_FAULT_BAD_TABLE && l.issues[1].level == 4 &&
	   l.issues[1].entry_gpa == e, "table outside RAM reported with the pointing entry");
	ok(strstr(list_text(&l), "reserved bit 63 set") && strstr(text, "outside guest RAM"),
	   "issues in text");
	ok(l.v[1].va == 0xffff800000000000ull && l.v[1].page_size == 1u << 30, "upper half sorted last");
	c.cr3 = 0x10000000;
	is_int(introspect_list(&c, &m, NULL, &l), 0, "CR3 outside RAM: listed, empty");
	ok(l.n == 0 && l.nissues == 1 && strstr(list_text(&l), "CR3"), "CR3 outside RAM reported");
	c.cr0 = 0x80000000;
	is_int(introspect_list(&c, &m, NULL, &l), -EINVAL, "invalid mode: -EINVAL");
	introspect_maplist_free(&l);
	tg_free(&g);
}

static void test_hostile(void)
{
	struct tg g;
	struct introspect_mem m;
	struct introspect_cpu c;
	struct introspect_maplist l = { 0 };
	struct introspect_walk w;
	struct introspect_list_opts opts = { 0 };
	uint64_t root, rva;
	double t;

	tg_init(&g, RAM);
	m = tg_mem(&g);
	root = tg_alloc(&g);
	c = tg_cpu(M4, root, 1);
	/* A recursive slot, as many kernels keep: PML4[510] = PML4. */
	tg_map(&g, M4, root, 0x400000, 0x400000, 2, TG_RW);
	tg_map(&g, M4, root, 0xffffffff80000000ull, 0x0, 2, TG_RW);
	tg_w64(&g, root + 510 * 8, root | TG_P | TG_RW);
	rva = 0xffff000000000000ull | 510ull << 39 | 510ull << 30 | 510ull << 21 | 510ull << 12;
	is_int(introspect_translate(&c, &m, rva, &w), 0, "recursive address translates");
	is_int(w.pa, root, "510/510/510/510 maps the PML4 itself");
	is_int(introspect_list(&c, &m, NULL, &l), 0, "list with a recursive slot");
	is_int(l.truncated, INTROSPECT_TRUNC_NONE, "recursive slot: finite, no truncation");
	{
		int found = 0;

		for (size_t i = 0; i < l.n; i++)
			if (l.v[i].va <= rva && rva - l.v[i].va < l.v[i].size &&
			    l.v[i].pa + (rva - l.v[i].va) == root)
				found = 1;
		ok(found, "list contains the self-map of the PML4");
	}
	diag("recursive slot: %zu ranges, %llu entries", l.n, (unsigned long long)l.entries);

	/* Every entry points at its own table: 512^4 pages if followed. */
	for (int i = 0; i < 512; i++)
		tg_w64(&g, root + i * 8, root | TG_P | TG_RW);
	t = now();
	is_int(introspect_list(&c, &m, NULL, &l), 0, "all-self table: list returns");
	t = now() - t;
	ok(l.truncated != INTROSPECT_TRUNC_NONE, "all-self table: truncated");
	ok(l.entries <= INTROSPECT_DEFAULT_MAX_ENTRIES && l.n <= INTROSPECT_DEFAULT_MAX_RANGES,
	   "all-self table: within the budgets");
	ok(has_note(&l), "truncation note in the text");
	diag("all-self table: %.3f s, %zu ranges, %llu entries, truncated (%s)", t, l.n,
	     (unsigned long long)l.entries, l.truncated == INTROSPECT_TRUNC_RANGES ? "ranges" : "entries");
	opts.max_entries = 4096;
	is_int(introspect_list(&c, &m, &opts, &l), 0, "all-self with small entry budget");
	ok(l.truncated == INTROSPECT_TRUNC_ENTRIES && l.entries <= 4096 && l.limit == 4096,
	   "entry budget respected and named");
	ok(has_note(&l), "truncation note for the entry budget");
	{
		struct introspect_out o;
		char tail[256];

		/* Only the last lines matter: format into a small buffer is not
		 * enough, so re-list with a budget that keeps the text short. */
		opts.max_entries = 600;
		is_int(introspect_list(&c, &m, &opts, &l), 0, "all-self, budget 600");
		introspect_out_buffer(&o, text, sizeof(text));
		introspect_format_maplist(&l, &o);
		ok(!introspect_out_truncated(&o) && strstr(text, "truncated: page tables map more than 600 entries"),
		   "note names the limit");
		snprintf(tail, sizeof(tail), "%s", strstr(text, "truncated:") ? strstr(text, "truncated:") : "");
		diag("%.*s", (int)strcspn(tail, "\n"), tail);
	}
	opts.max_entries = 0;
	opts.max_ranges = 1000;
	is_int(introspect_list(&c, &m, &opts, &l), 0, "all-self with small range budget");
	ok(l.truncated == INTROSPECT_TRUNC_RANGES && l.n == 1000, "range budget respected");

	/* Showing only the first ranges keeps only those (issue 14, item 9):
	 * the rest are counted, memory does not follow the guest's tables. */
	opts.max_ranges = 0;
	opts.keep_ranges = 10;
	is_int(introspect_list(&c, &m, &opts, &l), 0, "all-self, keep 10 ranges");
	ok(l.n == 10 && l.cap <= 256, "only 10 ranges stored (cap %zu)", l.cap);
	ok(l.more + l.n == INTROSPECT_DEFAULT_MAX_RANGES && l.truncated == INTROSPECT_TRUNC_RANGES,
	   "the others counted up to the range budget (%llu more)", (unsigned long long)l.more);
	ok(l.more_va > l.v[9].va, "the first unlisted range is after the last listed one");
	list_text(&l);
	ok(strstr(text, "... 1048566 more ranges, the first at va 0x") != NULL &&
	   strstr(text, "4-level paging, 1048576 ranges\n") == text,
	   "the text says how many more and where they start");
	{
		int lines = 0;

		for (const char *p = text; *p; p++)
			lines += *p == '\n';
		ok(lines < 30, "and stays short (%d lines)", lines);
	}
	opts.keep_ranges = 0;

	/* gdb's Ctrl-C: a cancelled walk ends early and says where. */
	{
		struct canceller k = { 0, 3 };
		struct introspect_out o;

		introspect_out_buffer(&o, text, sizeof(text));
		introspect_out_cancel(&o, cancel_at, &k);
		opts.cancel = &o;
		opts.keep_ranges = 10;          /* a short text */
		is_int(introspect_list(&c, &m, &opts, &l), 0, "all-self, cancelled: list returns");
		ok(l.truncated == INTROSPECT_TRUNC_CANCELLED && k.calls == 3,
		   "the walk stopped at the third check (%d checks)", k.calls);
		ok(l.entries <= 3 * 64 * 512, "after at most 3 x 64 tables (%llu entries)",
		   (unsigned long long)l.entries);
		list_text(&l);
		ok(strstr(text, "interrupted: the walk stopped at va 0x") != NULL,
		   "the text says the walk was interrupted");
		opts.cancel = NULL;
		opts.keep_ranges = 0;

		/* A listing cancelled while it prints ends with a line saying so. */
		opts.max_ranges = 1000;
		is_int(introspect_list(&c, &m, &opts, &l), 0, "all-self, 1000 ranges");
		k.calls = 0;
		k.at = 2;
		introspect_out_buffer(&o, text, sizeof(text));
		introspect_out_cancel(&o, cancel_at, &k);
		introspect_format_maplist(&l, &o);
		ok(strstr(text, "... interrupted after 127 of 1000 ranges\n") != NULL &&
		   strstr(text, "mapped:") == NULL, "the listing stops at the second check");
		ok(introspect_out_cancelled(&o) && k.calls == 2, "and the answer sticks");
		opts.max_ranges = 0;
	}

	/* 32-bit: all 1024 PDEs point at the page directory. */
	c = tg_cpu(INTROSPECT_PAGING_32, root, 0);
	for (int i = 0; i < 1024; i++)
		tg_w32(&g, root + i * 4, (uint32_t)root | TG_P | TG_RW);
	opts.max_ranges = 0;
	is_int(introspect_list(&c, &m, &opts, &l), 0, "32-bit all-self: list returns");
	ok(l.n > 0 && l.pages == 1024 * 1024, "32-bit all-self: 1M pages (finite)");
	introspect_maplist_free(&l);
	tg_free(&g);
}

static void test_big(void)
{
	struct tg g;
	struct introspect_mem m;
	struct introspect_cpu c;
	struct introspect_maplist l = { 0 };
	uint64_t root, va = 0xffff888000000000ull;
	double t;

	tg_init(&g, RAM);
	m = tg_mem(&g);
	root = tg_alloc(&g);
	c = tg_cpu(M4, root, 1);
	for (uint64_t i = 0; i < 262144; i++)
		tg_map(&g, M4, root, va + i * 4096, 0x100000000ull + i * 4096, 1, TG_RW | TG_XD);
	t = now();
	is_int(introspect_list(&c, &m, NULL, &l), 0, "list 1 GiB of 4K pages");
	t = now() - t;
	ok(l.n == 1 && l.v[0].size == 1u << 30 && l.pages == 262144, "1 GiB contiguous: one range");
	diag("1 GiB in 4K pages listed in %.4f s (%llu read_phys calls)", t, (unsigned long long)g.reads);
	/* Reverse the physical order: every page its own range. */
	for (uint64_t i = 0; i < 262144; i++)
		tg_map(&g, M4, root, va + i * 4096, 0x100000000ull + (262143 - i) * 4096, 1, TG_RW);
	t = now();
	is_int(introspect_list(&c, &m, NULL, &l), 0, "list 1 GiB scattered");
	t = now() - t;
	is_int(l.n, 262144, "scattered: one range per page");
	diag("1 GiB scattered listed in %.4f s", t);
	introspect_maplist_free(&l);
	tg_free(&g);
}

static void test_diff(void)
{
	struct tg g;
	struct introspect_mem m;
	struct introspect_cpu c;
	struct introspect_maplist a = { 0 }, b = { 0 };
	struct introspect_diff d = { 0 };
	struct introspect_out o;
	uint64_t root;

	tg_init(&g, RAM);
	m = tg_mem(&g);
	root = tg_alloc(&g);
	c = tg_cpu(M4, root, 1);
	for (int i = 0; i < 64; i++)
		tg_map(&g, M4, root, 0x400000 + i * 4096, 0x800000 + i * 4096, 1, TG_RW);
	tg_map(&g, M4, root, 0xffffffff80000000ull, 0, 2, TG_RW | TG_G);
	is_int(introspect_list(&c, &m, NULL, &a), 0, "list before");
	is_int(introspect_diff(&a, &a, &d), 0, "diff with itself");
	is_int(d.n, 0, "no changes against itself");

	/* Remove 2 pages, remap 3 elsewhere, make 1 read-only, add a 2M page. */
	tg_w64(&g, tg_entry(&g, M4, root, 0x410000, 1), 0);
	tg_w64(&g, tg_entry(&g, M4, root, 0x411000, 1), 0);
	for (int i = 0; i < 3; i++)
		tg_map(&g, M4, root, 0x420000 + i * 4096, 0x2000000 + i * 4096, 1, TG_RW);
	tg_map(&g, M4, root, 0x430000, 0x830000, 1, 0);
	tg_map(&g, M4, root, 0x40000000, 0x40000000, 2, TG_RW);
	is_int(introspect_list(&c, &m, NULL, &b), 0, "list after");
	is_int(introspect_diff(&a, &b, &d), 0, "diff");
	is_int(d.n, 4, "removed, changed target, changed flags, added");
	ok(d.n == 4 && d.v[0].kind == INTROSPECT_DIFF_REMOVED && d.v[0].va == 0x410000 &&
	   d.v[0].size == 0x2000 && d.v[0].before.pa == 0x810000, "removed range (merged 2 pages)");
	ok(d.n == 4 && d.v[1].kind == INTROSPECT_DIFF_CHANGED && d.v[1].va == 0x420000 &&
	   d.v[1].size == 0x3000 && d.v[1].before.pa == 0x820000 && d.v[1].after.pa == 0x2000000,
	   "changed target (merged 3 pages)");
	ok(d.n == 4 && d.v[2].kind == INTROSPECT_DIFF_CHANGED && d.v[2].va == 0x430000 &&
	   d.v[2].before.flags == INTROSPECT_F_W && d.v[2].after.flags == 0, "changed flags");
	ok(d.n == 4 && d.v[3].kind == INTROSPECT_DIFF_ADDED && d.v[3].va == 0x40000000 &&
	   d.v[3].after.page_size == 2u << 20, "added 2M page");
	introspect_out_buffer(&o, text, sizeof(text));
	introspect_format_diff(&d, &o);
	ok(strstr(text, "1 added, 1 removed, 2 changed") && strstr(text, "\n- 0000000000410000-0000000000411fff") &&
	   strstr(text, "\n+ 0000000040000000-00000000401fffff") &&
	   strstr(text, "\n~ 0000000000430000-0000000000430fff: 0000000000830000 4K rwx s => 0000000000830000 4K r-x s"),
	   "diff text");
	printf("# %.*s\n", (int)strcspn(strstr(text, "\n~") + 1, "\n"), strstr(text, "\n~") + 1);
	is_int(introspect_diff(&b, &a, &d), 0, "reverse diff");
	ok(d.n == 4 && d.v[0].kind == INTROSPECT_DIFF_ADDED && d.v[3].kind == INTROSPECT_DIFF_REMOVED,
	   "reverse diff swaps added and removed");

	/* Overlap with a different split: one 2M page vs 512 4K pages. */
	{
		struct introspect_map big = { 0x200000, 0x200000, 0x200000, 0x200000, INTROSPECT_F_W };
		struct introspect_map small[2] = {
			{ 0x200000, 0x200000, 0x100000, 4096, INTROSPECT_F_W },
			{ 0x300000, 0x300000, 0x100000, 4096, INTROSPECT_F_W },
		};
		struct introspect_maplist x = { .v = &big, .n = 1 }, y = { .v = small, .n = 2 };
		struct introspect_map bad[2] = { small[0], small[0] };
		struct introspect_maplist z = { .v = bad, .n = 2 };

		is_int(introspect_diff(&x, &y, &d), 0, "diff 2M vs 4K split");
		ok(d.n == 1 && d.v[0].kind == INTROSPECT_DIFF_CHANGED && d.v[0].size == 0x200000,
		   "page-size change on the same target is one changed range");
		is_int(introspect_diff(&x, &z, &d), -EINVAL, "overlapping input: -EINVAL");
	}
	introspect_diff_free(&d);
	introspect_maplist_free(&a);
	introspect_maplist_free(&b);
	tg_free(&g);
}

static void test_shadow(void)
{
	struct tg g;
	struct introspect_mem m, sm;
	struct introspect_cpu c;
	struct introspect_maplist a = { 0 }, b = { 0 };
	struct introspect_shadow *s;
	struct introspect_shadow_stats st;
	struct introspect_walk w;
	uint64_t root, pte, bitmap[1];

	tg_init(&g, RAM);
	m = tg_mem(&g);
	root = tg_alloc(&g);
	c = tg_cpu(M4, root, 1);
	for (int i = 0; i < 1024; i++)
		tg_map(&g, M4, root, 0x400000 + i * 4096, 0x800000 + i * 4096, 1, TG_RW);
	is_int(introspect_shadow_new(&m, 0, &s), -EINVAL, "shadow of 0 pages refused");
	is_int(introspect_shadow_new(&m, 64, &s), 0, "shadow created");
	introspect_shadow_mem(s, &sm);
	is_int(introspect_list(&c, &sm, NULL, &a), 0, "list through the shadow");
	introspect_shadow_stats(s, &st);
	is_int(st.fills, 5, "first list reads 5 table pages (PML4, PDPT, PD, 2 PTs)");
	is_int(st.pages, 5, "5 pages cached");
	g.reads = 0;
	is_int(introspect_list(&c, &sm, NULL, &b), 0, "relist through the shadow");
	introspect_shadow_stats(s, &st);
	is_int(g.reads, 0, "relist reads nothing from guest memory");
	is_int(st.fills, 5, "no new fills");
	ok(b.n == a.n && b.n == 1, "same result");

	/* A change that is not marked dirty is not seen (that is the contract). */
	pte = tg_entry(&g, M4, root, 0x400000, 1);
	tg_w64(&g, pte, 0);
	is_int(introspect_list(&c, &sm, NULL, &b), 0, "relist after unmarked change");
	is_int(b.n, 1, "unmarked change not seen: stale copy used");
	introspect_shadow_mark_dirty(s, pte);
	g.reads = 0;
	is_int(introspect_list(&c, &sm, NULL, &b), 0, "relist after mark_dirty");
	is_int(g.reads, 1, "only the dirty table page is re-read");
	ok(b.n == 1 && b.v[0].va == 0x401000, "change seen after marking dirty");
	is_int(introspect_translate(&c, &sm, 0x400000, &w), -ENOENT, "translate through shadow sees it");

	/* Dirty bitmap in KVM layout. */
	tg_map(&g, M4, root, 0x400000, 0x800000, 1, TG_RW);
	memset(bitmap, 0, sizeof(bitmap));
	bitmap[0] = 1ull << ((pte - 0x100000) / 4096);
	introspect_shadow_mark_dirty_bitmap(s, 0x100000, bitmap, 64);
	is_int(introspect_list(&c, &sm, NULL, &b), 0, "relist after dirty bitmap");
	ok(b.n == 1 && b.v[0].va == 0x400000, "bitmap-marked page refreshed");

	/* Reads outside RAM fail through the shadow as they do without it. */
	{
		uint8_t buf[16];

		ok(sm.read_phys(sm.ctx, RAM - 8, buf, 16) == -EFAULT, "read past RAM: -EFAULT");
		ok(sm.read_phys(sm.ctx, UINT64_MAX - 4, buf, 16) == -EFAULT, "wrapping read: -EFAULT");
	}
	introspect_shadow_invalidate(s);
	g.reads = 0;
	is_int(introspect_list(&c, &sm, NULL, &b), 0, "relist after invalidate");
	is_int(g.reads, 5, "invalidate: all 5 tables re-read");
	introspect_shadow_free(s);

	/* A full shadow passes reads through and stays correct. */
	is_int(introspect_shadow_new(&m, 2, &s), 0, "tiny shadow");
	introspect_shadow_mem(s, &sm);
	is_int(introspect_list(&c, &sm, NULL, &b), 0, "list through a full shadow");
	introspect_shadow_stats(s, &st);
	ok(b.n == 1 && b.v[0].size == 1024 * 4096 && st.pages == 2 && st.uncached == 3,
	   "full shadow: 2 cached, 3 passed through, same result");
	introspect_shadow_free(s);
	introspect_maplist_free(&a);
	introspect_maplist_free(&b);
	tg_free(&g);
}

int main(void)
{
	test_coalesce();
	test_modes_and_issues();
	test_hostile();
	test_big();
	test_diff();
	test_shadow();
	return tap_done();
}
