/*
 * tlpolicy_test.c — the timeline's eviction policy (debug/tlpolicy.c) and
 * what it does to the content-addressed page store under a memory bound,
 * without KVM:
 *   - the choice: never a kept checkpoint, duplicates first, far before
 *     near, -1 when all are kept;
 *   - a long replay with a checkpoint every 50 exits and room for 24: the
 *     count stays bounded, the gaps grow with the distance from where the
 *     user is (density falls with distance: O(log L)), the start stays;
 *   - the same on a RAM buffer whose checkpoints are page maps in one page
 *     store held under a byte bound: the store stays under it, the maps
 *     that are left restore to byte-identical RAM (hash recorded at the
 *     capture), and dropping them all empties the store (refcounts exact).
 */
#include <stdlib.h>
#include <string.h>

#include "debug/internal.h"
#include "tests/unit/tap.h"
#include "vmm/internal.h"

#define PAGE VMM_PAGE_SIZE

static void test_choice(void)
{
	uint64_t ex[] = { 0, 50, 100, 100, 150, 200 };
	bool keep[6] = { true, false, false, false, false, false };
	bool all[6] = { true, true, true, true, true, true };
	long v;

	v = debug_tl_victim(ex, keep, 6, 200);
	ok(v == 2 || v == 3, "a duplicate goes first (%ld)", v);
	keep[2] = keep[3] = true;
	v = debug_tl_victim(ex, keep, 6, 200);
	is_int(v, 1, "then the one farthest from here (exit 200)");
	v = debug_tl_victim(ex, keep, 6, 0);
	is_int(v, 5, "here at the start: the farthest is the last");
	is_int(debug_tl_victim(ex, all, 6, 100), -1, "all kept: none");
	is_int(debug_tl_victim(ex, keep, 0, 100), -1, "none at all: none");
}

/* Checkpoints every 50 exits up to L, at most cap of them kept. */
static size_t simulate(uint64_t L, size_t cap, uint64_t *ex)
{
	bool *keep = calloc(cap + 1, sizeof(*keep));
	size_t n = 0;

	for (uint64_t e = 0; e <= L; e += 50) {
		ex[n++] = e;
		while (n > cap) {
			for (size_t i = 0; i < n; i++)
				keep[i] = i == 0;
			long v = debug_tl_victim(ex, keep, n, e);

			if (v < 0)
				break;
			memmove(&ex[v], &ex[v + 1], (n - (size_t)v - 1) * sizeof(*ex));
			n--;
		}
	}
	free(keep);
	return n;
}

static void test_log_density(void)
{
	uint64_t ex[64];
	size_t n = simulate(200000, 24, ex);
	bool grow = true;

	is_int(n, 24, "200000 exits, room for 24: 24 kept");
	is_int(ex[0], 0, "the start is kept");
	is_int(ex[n - 1], 200000, "and the latest");
	/* Gaps, from here backwards, never shrink by more than the spacing's
	 * rounding: density falls with distance. */
	for (size_t i = n - 1; i >= 2; i--) {
		uint64_t near = ex[i] - ex[i - 1], far = ex[i - 1] - ex[i - 2];

		if (far + 50 < near / 2)
			grow = false;
	}
	ok(grow, "gaps grow with the distance from here");
	ok(ex[n - 1] - ex[n - 2] <= 200, "the nearest gap stays small (%llu exits)",
	   (unsigned long long)(ex[n - 1] - ex[n - 2]));
	ok(ex[2] - ex[1] >= 10000, "the farthest gaps are wide (%llu exits)",
	   (unsigned long long)(ex[2] - ex[1]));
}

#define FRAMES 64u
#define NCKPT 120

struct ck {
	struct vmm_pagemap *map;
	uint64_t exits, hash;
};

static void noted(void *ctx, uint64_t frame)
{
}

static uint64_t store_bytes(struct vmm_pagestore *ps)
{
	struct vmm_pagestore_stats st;

	vmm_pagestore_stats(ps, &st);
	return st.data_bytes;
}

static void test_bounded_store(void)
{
	uint8_t *ram = calloc(FRAMES, PAGE);
	/* bitmaps are read a page-map leaf (512 frames) at a time */
	uint64_t dirty[(FRAMES + 511) / 512 * 8] = { 0 }, ex[NCKPT];
	bool keep[NCKPT];
	struct ck ck[NCKPT];
	struct vmm_pagestore *ps;
	struct vmm_pagestore_stats st;
	struct vmm_pagemap *base = NULL;
	uint64_t limit = 160 * PAGE, read, cmp, wr, evicted = 0;
	size_t n = 0;
	bool same = true;
	uint32_t seed = 1;

	if (!ram || vmm_pagestore_new(&ps)) {
		ok(0, "memory for the store test");
		free(ram);
		return;
	}
	for (uint64_t e = 0; e < NCKPT * 50; e += 50) {
		/* The guest writes a few pages per interval, some the same
		 * content again (dedup), then the timeline checkpoints. */
		for (int w = 0; w < 6; w++) {
			uint32_t f;

			seed = seed * 1103515245u + 12345u;
			f = (seed >> 8) % FRAMES;
			memset(ram + (size_t)f * PAGE, (int)(w & 1 ? 0xaa : seed >> 24), PAGE);
			memcpy(ram + (size_t)f * PAGE, &e, sizeof(e));
			dirty[f / 64] |= 1ull << (f % 64);
		}
		read = 0;
		if (vmm_pagemap_capture(ps, base, ram, FRAMES, dirty, NULL, &ck[n].map, &read)) {
			ok(0, "capture at exit %llu", (unsigned long long)e);
			break;
		}
		memset(dirty, 0, sizeof(dirty));
		if (base)
			vmm_pagemap_drop(base);
		base = ck[n].map;
		vmm_pagemap_hold(base);
		ck[n].exits = e;
		ck[n].hash = vmm_hash(ram, (size_t)FRAMES * PAGE, 7);
		n++;
		while (store_bytes(ps) > limit) {
			long v;

			for (size_t i = 0; i < n; i++) {
				ex[i] = ck[i].exits;
				keep[i] = i == 0;
			}
			v = debug_tl_victim(ex, keep, n, e);
			if (v < 0)
				break;
			vmm_pagemap_drop(ck[v].map);
			memmove(&ck[v], &ck[v + 1], (n - (size_t)v - 1) * sizeof(*ck));
			n--;
			evicted++;
		}
	}
	ok(evicted > 0 && n < NCKPT / 2 && n > 4, "checkpoints were given up (%llu), %zu kept",
	   (unsigned long long)evicted, n);
	ok(store_bytes(ps) <= limit, "the store is under its bound (%llu of %llu bytes)",
	   (unsigned long long)store_bytes(ps), (unsigned long long)limit);
	is_int(ck[0].exits, 0, "the start is kept");
	/* Restore each kept checkpoint in turn from wherever RAM is. */
	for (size_t i = n; i-- > 0;) {
		vmm_pagemap_apply(ck[i].map, base, ram, dirty, NULL, noted, NULL, &cmp, &wr);
		vmm_pagemap_drop(base);
		base = ck[i].map;
		vmm_pagemap_hold(base);
		if (vmm_hash(ram, (size_t)FRAMES * PAGE, 7) != ck[i].hash) {
			same = false;
			diag("checkpoint at exit %llu restored differently",
			     (unsigned long long)ck[i].exits);
		}
	}
	ok(same, "every kept checkpoint restores byte-identical RAM (%zu)", n);
	for (size_t i = 0; i < n; i++)
		vmm_pagemap_drop(ck[i].map);
	vmm_pagemap_drop(base);
	vmm_pagestore_stats(ps, &st);
	ok(st.pages == 0 && st.refs == 0, "all dropped: the store is empty (pages %llu, refs %llu)",
	   (unsigned long long)st.pages, (unsigned long long)st.refs);
	ok(st.dedup_hits > 0, "equal pages were stored once (%llu hits)",
	   (unsigned long long)st.dedup_hits);
	vmm_pagestore_free(ps);
	free(ram);
}

int main(void)
{
	test_choice();
	test_log_density();
	test_bounded_store();
	return tap_done();
}
