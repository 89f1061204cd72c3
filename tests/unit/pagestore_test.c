/*
 * pagestore_test.c — the content-addressed page store (vmm/pagestore.c) on
 * plain buffers, no KVM: equal contents share one page, references count,
 * a page goes with its last reference and its id is reused, hash
 * collisions cannot merge different pages, the figures a checkpoint
 * policy evicts by (pages, bytes, references, dedup hits) stay exact over
 * a long random workload checked against a simple model, and unaligned
 * callers' pages work. Then the snapshot page maps built on it
 * (vmm/pagemap.c), on a plain RAM buffer: full and incremental captures,
 * leaves shared between maps, restores that rewrite only what differs, and
 * dropping maps in any order (as a bounded set of checkpoints evicts)
 * returning exactly the pages the dropped map held alone.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/tap.h"
#include "vmm/internal.h"

#define PAGE VMM_PAGE_SIZE

static void fill(uint8_t *p, uint32_t seed)
{
	for (size_t i = 0; i < PAGE; i += 4)
		memcpy(p + i, &(uint32_t){ seed * 2654435761u + (uint32_t)i }, 4);
}

static void test_basics(void)
{
	struct vmm_pagestore *ps;
	struct vmm_pagestore_stats st;
	static uint8_t a[PAGE], b[PAGE], z[PAGE];
	uint32_t ia, ia2, ib, iz, iz2;

	fill(a, 1);
	fill(b, 2);
	if (!ok(vmm_pagestore_new(&ps) == 0, "store created"))
		return;
	ok(vmm_pagestore_put(ps, a, &ia) == 0 && ia != 0, "page A stored");
	ok(vmm_pagestore_put(ps, b, &ib) == 0 && ib != ia, "page B gets another id");
	ok(vmm_pagestore_put(ps, a, &ia2) == 0 && ia2 == ia, "A again: the same id");
	ok(vmm_pagestore_put(ps, z, &iz) == 0 && vmm_pagestore_put(ps, z, &iz2) == 0 && iz == iz2,
	   "the zero page is held once");
	is_int(vmm_pagestore_refs(ps, ia), 2, "A has two references");
	ok(memcmp(vmm_pagestore_data(ps, ia), a, PAGE) == 0, "A's bytes come back");
	ok(memcmp(vmm_pagestore_data(ps, iz), z, PAGE) == 0, "zero page's bytes come back");
	vmm_pagestore_stats(ps, &st);
	is_int(st.pages, 3, "three distinct pages");
	is_int(st.refs, 5, "five references");
	is_int(st.puts, 5, "five puts");
	is_int(st.dedup_hits, 2, "two of them deduplicated");
	is_int(st.data_bytes, 3 * PAGE, "data bytes");
	ok(st.bytes > st.data_bytes, "bytes include the index (%llu)", (unsigned long long)st.bytes);

	vmm_pagestore_unref(ps, ia);
	ok(vmm_pagestore_data(ps, ia) != NULL, "A stays while referenced");
	vmm_pagestore_unref(ps, ia);
	ok(vmm_pagestore_data(ps, ia) == NULL && vmm_pagestore_refs(ps, ia) == 0,
	   "A goes with its last reference");
	vmm_pagestore_stats(ps, &st);
	is_int(st.pages, 2, "two pages left");
	vmm_pagestore_unref(ps, ia);
	vmm_pagestore_unref(ps, 0);
	vmm_pagestore_unref(ps, 123456);
	vmm_pagestore_ref(ps, 123456);
	vmm_pagestore_stats(ps, &st);
	is_int(st.refs, 3, "unref/ref of ids not held change nothing");
	ok(vmm_pagestore_put(ps, a, &ia2) == 0 && ia2 == ia, "the freed id is reused");
	ok(memcmp(vmm_pagestore_data(ps, ia2), a, PAGE) == 0, "with the new content");
	vmm_pagestore_unref(ps, iz);
	vmm_pagestore_unref(ps, iz);
	ok(vmm_pagestore_data(ps, iz) == NULL, "the zero page can go too");
	ok(vmm_pagestore_put(ps, z, &iz) == 0 && memcmp(vmm_pagestore_data(ps, iz), z, PAGE) == 0,
	   "and comes back");
	vmm_pagestore_free(ps);
}

/* Pages that differ in one byte, and an unaligned caller buffer. */
static void test_near_misses(void)
{
	struct vmm_pagestore *ps;
	static uint8_t buf[PAGE + 8];
	uint8_t *p = buf + 3;
	uint32_t ids[PAGE / 64];
	bool distinct = true;

	if (vmm_pagestore_new(&ps))
		return;
	memset(buf, 0, sizeof(buf));
	for (size_t i = 0; i < PAGE / 64; i++) {
		memset(p, 0, PAGE);
		p[i * 64] = 1;
		if (vmm_pagestore_put(ps, p, &ids[i]))
			distinct = false;
		for (size_t j = 0; j < i; j++)
			distinct &= ids[j] != ids[i];
	}
	ok(distinct, "pages one byte apart are different pages (unaligned buffer)");
	for (size_t i = 0; i < PAGE / 64 && distinct; i++) {
		const uint8_t *d = vmm_pagestore_data(ps, ids[i]);
		distinct = d[i * 64] == 1 && d[(i * 64 + 64) % PAGE] == 0;
	}
	ok(distinct, "each kept its own byte");
	vmm_pagestore_free(ps);
}

/* A long random workload over a small set of contents, with a model:
 * refs per content; the store must agree on ids, refs, pages, bytes. */
static void test_random_model(void)
{
	enum { CONTENTS = 300, OPS = 60000 };
	struct vmm_pagestore *ps;
	struct vmm_pagestore_stats st;
	static uint8_t page[PAGE];
	static uint32_t refs[CONTENTS], id_of[CONTENTS];
	uint64_t rng = 12345, total_refs = 0, puts = 0, hits = 0;
	bool good = true;

	if (vmm_pagestore_new(&ps))
		return;
	for (int op = 0; op < OPS && good; op++) {
		uint32_t c, id;

		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		c = (uint32_t)(rng >> 33) % CONTENTS;
		if ((rng >> 20) % 3 != 0 || refs[c] == 0) {
			fill(page, c == 0 ? 0 : c);
			if (c == 0)
				memset(page, 0, PAGE);
			if (vmm_pagestore_put(ps, page, &id)) {
				good = false;
				break;
			}
			puts++;
			if (refs[c]) {
				hits++;
				good &= id == id_of[c];
			}
			id_of[c] = id;
			refs[c]++;
			total_refs++;
		} else {
			vmm_pagestore_unref(ps, id_of[c]);
			refs[c]--;
			total_refs--;
		}
	}
	ok(good, "ids stay stable for held contents over %d operations", OPS);
	{
		uint64_t held = 0;

		for (int c = 0; c < CONTENTS; c++) {
			held += refs[c] > 0;
			if (refs[c])
				good &= vmm_pagestore_refs(ps, id_of[c]) == refs[c];
		}
		vmm_pagestore_stats(ps, &st);
		ok(good, "every content's reference count matches the model");
		is_int(st.pages, held, "pages held match the model");
		is_int(st.refs, total_refs, "references match the model");
		is_int(st.data_bytes, held * PAGE, "bytes match");
		is_int(st.puts, puts, "puts counted");
		is_int(st.dedup_hits, hits, "dedup hits counted");
	}
	/* Drop everything: an empty store. */
	for (int c = 0; c < CONTENTS; c++)
		while (refs[c]--)
			vmm_pagestore_unref(ps, id_of[c]);
	vmm_pagestore_stats(ps, &st);
	ok(st.pages == 0 && st.refs == 0 && st.data_bytes == 0, "all released: nothing held");
	vmm_pagestore_free(ps);
}

/* Many distinct pages: the index grows (rehash) and still finds them. */
static void test_growth(void)
{
	enum { N = 5000 };
	struct vmm_pagestore *ps;
	static uint8_t page[PAGE];
	static uint32_t ids[N];
	bool good = true;

	if (vmm_pagestore_new(&ps))
		return;
	for (uint32_t i = 0; i < N && good; i++) {
		fill(page, i + 1000);
		good = vmm_pagestore_put(ps, page, &ids[i]) == 0;
	}
	for (uint32_t i = 0; i < N && good; i++) {
		uint32_t again;

		fill(page, i + 1000);
		good = vmm_pagestore_put(ps, page, &again) == 0 && again == ids[i] &&
		       vmm_pagestore_refs(ps, again) == 2;
	}
	ok(good, "%d distinct pages stored and found again after the index grew", N);
	vmm_pagestore_free(ps);
}

#define RAM_FRAMES 2100u           /* 4 leaves of 512 and a partial fifth */

static void mark(uint64_t *dirty, uint64_t f)
{
	dirty[f / 64] |= 1ull << (f % 64);
}

static void noted(void *ctx, uint64_t frame)
{
	mark(ctx, frame);
}

static void test_pagemaps(void)
{
	uint8_t *ram = calloc(RAM_FRAMES, PAGE), *copy = malloc((size_t)RAM_FRAMES * PAGE);
	uint64_t dirty[(RAM_FRAMES + 511) / 512 * 8] = { 0 }, seen[sizeof(dirty) / 8] = { 0 };
	struct vmm_pagestore *ps;
	struct vmm_pagestore_stats st, st2;
	struct vmm_pagemap *m[8] = { 0 };
	uint64_t read = 0, compared = 0, written = 0, own_pages, own_bytes;
	static const uint64_t changed[] = { 600, 601, 1023 };  /* all in leaf 1 */

	if (!ram || !copy || vmm_pagestore_new(&ps)) {
		ok(0, "memory for the page map tests");
		return;
	}
	for (uint32_t f = 0; f < RAM_FRAMES; f += 7)
		fill(ram + (size_t)f * PAGE, f + 1);
	ok(vmm_pagemap_capture(ps, NULL, ram, RAM_FRAMES, dirty, NULL, &m[0], &read) == 0,
	   "full capture of a %u-frame RAM", RAM_FRAMES);
	is_int(read, RAM_FRAMES, "it read every frame");
	vmm_pagestore_stats(ps, &st);
	is_int(st.pages, (RAM_FRAMES + 6) / 7 + 1, "distinct pages: the filled ones and one zero page");
	memcpy(copy, ram, (size_t)RAM_FRAMES * PAGE);

	for (size_t i = 0; i < 3; i++) {
		fill(ram + changed[i] * PAGE, 100000 + (uint32_t)i);
		mark(dirty, changed[i]);
	}
	read = 0;
	ok(vmm_pagemap_capture(ps, m[0], ram, RAM_FRAMES, dirty, NULL, &m[1], &read) == 0,
	   "incremental capture after three writes");
	is_int(read, 3, "it read the three written frames only");
	ok(vmm_pagemap_own(m[1], &own_pages, &own_bytes) == 0 && own_pages == 3,
	   "the new map alone holds the three new pages");
	ok(own_bytes < 2 * sizeof(uint32_t) * 512 + 200, "and one leaf of its own (%llu bytes)",
	   (unsigned long long)own_bytes);

	/* RAM is m[1]'s image: back to m[0] rewrites the three frames only. */
	memset(dirty, 0, sizeof(dirty));
	vmm_pagemap_apply(m[0], m[1], ram, dirty, NULL, noted, seen, &compared, &written);
	ok(compared == 3 && written == 3, "restoring m0 over m1 compared and wrote 3 frames (%llu, %llu)",
	   (unsigned long long)compared, (unsigned long long)written);
	ok(memcmp(ram, copy, (size_t)RAM_FRAMES * PAGE) == 0, "RAM is m0's image again");
	ok((seen[600 / 64] >> (600 % 64) & 1) && (seen[1023 / 64] >> (1023 % 64) & 1),
	   "each rewritten frame was reported");

	/* A write outside the maps' knowledge (dirty) is undone too. */
	ram[5 * PAGE + 9] ^= 0x55;
	mark(dirty, 5);
	compared = written = 0;
	vmm_pagemap_apply(m[0], m[0], ram, dirty, NULL, noted, seen, &compared, &written);
	ok(compared == 1 && written == 1 && memcmp(ram, copy, (size_t)RAM_FRAMES * PAGE) == 0,
	   "a dirty frame is compared and rewritten even when the maps agree");

	/* Without a base every frame is compared; only differing ones written. */
	memset(dirty, 0, sizeof(dirty));
	compared = written = 0;
	vmm_pagemap_apply(m[1], NULL, ram, dirty, NULL, noted, seen, &compared, &written);
	ok(compared == RAM_FRAMES && written == 3, "with no base: all compared, 3 written");

	/* Frames known absent (never backed by the host) are taken as zero
	 * without being read: a frame with bytes but marked absent shows it. */
	{
		uint64_t absent[sizeof(dirty) / 8] = { 0 };
		struct vmm_pagemap *z = NULL;

		memcpy(ram, copy, (size_t)RAM_FRAMES * PAGE);  /* RAM is m0's image */
		mark(absent, 7);
		read = 0;
		ok(vmm_pagemap_capture(ps, NULL, ram, RAM_FRAMES, dirty, absent, &z, &read) == 0 &&
		   read == RAM_FRAMES, "full capture with an absent frame");
		compared = written = 0;
		memset(dirty, 0, sizeof(dirty));
		vmm_pagemap_apply(z, m[0], ram, dirty, NULL, noted, seen, &compared, &written);
		ok(compared == 1 && written == 1 && ram[7 * PAGE] == 0 && ram[7 * PAGE + 100] == 0,
		   "the absent frame was stored as zero, not read (applying that map zeroes it)");
		compared = written = 0;
		vmm_pagemap_apply(m[0], z, ram, dirty, NULL, noted, seen, &compared, &written);
		ok(written == 1 && memcmp(ram, copy, (size_t)RAM_FRAMES * PAGE) == 0, "and m0 puts it back");
		fill(ram + 9 * PAGE, 77);           /* frame 9 is zero in m0 */
		compared = written = 0;
		mark(absent, 9);
		mark(dirty, 9);
		vmm_pagemap_apply(m[0], m[0], ram, dirty, absent, noted, seen, &compared, &written);
		ok(compared == 1 && written == 0, "an absent frame that should be zero is left alone");
		memset(ram + 9 * PAGE, 0, PAGE);
		vmm_pagemap_drop(z);
	}

	/* A chain of checkpoints from m1's image, then evictions in arbitrary
	 * order: each drop frees exactly what own() said. */
	memset(dirty, 0, sizeof(dirty));
	vmm_pagemap_apply(m[1], NULL, ram, dirty, NULL, noted, seen, &compared, &written);
	for (int k = 2; k < 8; k++) {
		uint64_t f = (uint64_t)(k * 293) % RAM_FRAMES;

		fill(ram + f * PAGE, 200000 + (uint32_t)k);
		memset(dirty, 0, sizeof(dirty));
		mark(dirty, f);
		read = 0;
		if (vmm_pagemap_capture(ps, m[k - 1], ram, RAM_FRAMES, dirty, NULL, &m[k], &read) || read != 1)
			break;
	}
	ok(m[7] != NULL, "six more checkpoints, one page each");
	{
		static const int order[] = { 3, 1, 6, 0, 7, 2, 5, 4 };
		bool exact = true;

		for (size_t i = 0; i < 8; i++) {
			uint64_t pages, bytes;

			vmm_pagestore_stats(ps, &st);
			if (vmm_pagemap_own(m[order[i]], &pages, &bytes))
				exact = false;
			vmm_pagemap_drop(m[order[i]]);
			m[order[i]] = NULL;
			vmm_pagestore_stats(ps, &st2);
			if (st.pages - st2.pages != pages) {
				exact = false;
				diag("dropping map %d freed %llu pages, own() said %llu", order[i],
				     (unsigned long long)(st.pages - st2.pages), (unsigned long long)pages);
			}
		}
		ok(exact, "evicting checkpoints in any order frees exactly what each held alone");
	}
	vmm_pagestore_stats(ps, &st);
	ok(st.pages == 0 && st.refs == 0, "all maps dropped: the store is empty");
	vmm_pagestore_free(ps);
	free(ram);
	free(copy);
}

int main(void)
{
	test_basics();
	test_near_misses();
	test_random_model();
	test_growth();
	test_pagemaps();
	return tap_done();
}
