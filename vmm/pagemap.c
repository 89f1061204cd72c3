/*
 * pagemap.c — the memory of a snapshot: which stored page (pagestore.c)
 * each guest frame holds.
 *
 * A flat map costs 4 bytes per frame per snapshot (64 KiB for 64 MiB of
 * RAM), more than the few pages a snapshot taken a moment after another
 * adds. So a map is a table of leaves of 512 frames, and a leaf is shared,
 * copy-on-write, by every map in which none of its frames changed: saving
 * after a few guest writes makes one new leaf per written 2 MiB region and
 * points at the previous map's other leaves, and a restore skips a leaf
 * shared by the machine's image and the target without looking at it.
 *
 * References: a map is held by the snapshots and machines that use it, a
 * leaf by the maps that point at it, and a page in the store by each slot
 * of each leaf that names it. A map holds its store for as long as it
 * lives.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/internal.h"

#define LEAF_FRAMES 512u

struct leaf {
	unsigned refs;
	uint32_t id[LEAF_FRAMES];       /* 0 past the end of RAM */
};

struct vmm_pagemap {
	unsigned refs;
	struct vmm_pagestore *ps;
	uint64_t frames;
	uint64_t nleaves;
	struct leaf *leaf[];
};

static void leaf_drop(struct vmm_pagestore *ps, struct leaf *l)
{
	if (!l)
		return;
	VMM_CHECK(NULL, l->refs > 0, "a page map leaf dropped with no reference left");
	if (--l->refs > 0)
		return;
	for (unsigned i = 0; i < LEAF_FRAMES; i++)
		vmm_pagestore_unref(ps, l->id[i]);
	free(l);
}

void vmm_pagemap_hold(struct vmm_pagemap *m)
{
	m->refs++;
}

void vmm_pagemap_drop(struct vmm_pagemap *m)
{
	if (!m)
		return;
	/* A drop too many frees a map a snapshot or the machine still uses. */
	VMM_CHECK(NULL, m->refs > 0, "a page map of %" PRIu64 " frames dropped with no holder left",
		  m->frames);
	if (--m->refs > 0)
		return;
	for (uint64_t i = 0; i < m->nleaves; i++)
		leaf_drop(m->ps, m->leaf[i]);
	vmm_pagestore_free(m->ps);
	free(m);
}

struct vmm_pagestore *vmm_pagemap_store(const struct vmm_pagemap *m)
{
	return m->ps;
}

/* Does the written-pages bitmap mark any frame of leaf i? */
static bool leaf_dirty(const uint64_t *dirty, uint64_t i)
{
	for (unsigned w = 0; w < LEAF_FRAMES / 64; w++)
		if (dirty[i * (LEAF_FRAMES / 64) + w])
			return true;
	return false;
}

static bool frame_dirty(const uint64_t *dirty, uint64_t f)
{
	return (dirty[f / 64] >> (f % 64)) & 1;
}

/* A new leaf for leaf i: the base's ids where given and clean, the
 * contents of RAM elsewhere. */
static int leaf_capture(struct vmm_pagestore *ps, const struct leaf *from, const uint8_t *ram,
			uint64_t first, uint64_t frames, const uint64_t *dirty, const uint64_t *absent,
			struct leaf **out, uint64_t *pages_read)
{
	static const uint8_t zero[VMM_PAGE_SIZE];
	struct leaf *l = calloc(1, sizeof(*l));

	*out = l;
	if (!l)
		return -ENOMEM;
	l->refs = 1;
	for (unsigned i = 0; i < LEAF_FRAMES && first + i < frames; i++) {
		uint64_t f = first + i;

		if (from && !frame_dirty(dirty, f)) {
			l->id[i] = from->id[i];
			vmm_pagestore_ref(ps, l->id[i]);
			continue;
		}
		(*pages_read)++;
		/* A frame the host never backed reads as zero: say so without
		 * faulting it in. */
		if (vmm_pagestore_put(ps, absent && frame_dirty(absent, f) ? zero : ram + f * VMM_PAGE_SIZE,
				      &l->id[i]))
			return -ENOMEM;         /* the caller drops the partial leaf */
	}
	return 0;
}

int vmm_pagemap_capture(struct vmm_pagestore *ps, struct vmm_pagemap *base, const uint8_t *ram,
			uint64_t frames, const uint64_t *dirty, const uint64_t *absent,
			struct vmm_pagemap **out, uint64_t *pages_read)
{
	uint64_t nleaves = (frames + LEAF_FRAMES - 1) / LEAF_FRAMES;
	struct vmm_pagemap *m = calloc(1, sizeof(*m) + nleaves * sizeof(m->leaf[0]));
	int rc = 0;

	*out = NULL;
	if (!m)
		return -ENOMEM;
	if (base && (base->ps != ps || base->frames != frames))
		base = NULL;
	vmm_pagestore_hold(ps);
	m->refs = 1;
	m->ps = ps;
	m->frames = frames;
	m->nleaves = nleaves;
	for (uint64_t i = 0; i < nleaves && !rc; i++) {
		if (base && !leaf_dirty(dirty, i)) {
			m->leaf[i] = base->leaf[i];
			m->leaf[i]->refs++;
			continue;
		}
		rc = leaf_capture(ps, base ? base->leaf[i] : NULL, ram, i * LEAF_FRAMES, frames, dirty,
				  absent, &m->leaf[i], pages_read);
	}
	if (rc) {
		vmm_pagemap_drop(m);
		return rc;
	}
	*out = m;
	return 0;
}

void vmm_pagemap_apply(const struct vmm_pagemap *target, const struct vmm_pagemap *base, uint8_t *ram,
		       const uint64_t *dirty, const uint64_t *absent,
		       void (*written)(void *ctx, uint64_t frame), void *ctx, uint64_t *compared,
		       uint64_t *nwritten)
{
	static const uint8_t zero[VMM_PAGE_SIZE];

	if (base && (base->ps != target->ps || base->frames != target->frames))
		base = NULL;
	for (uint64_t i = 0; i < target->nleaves; i++) {
		const struct leaf *t = target->leaf[i], *b = base ? base->leaf[i] : NULL;

		if (b == t && !leaf_dirty(dirty, i))
			continue;
		for (unsigned j = 0; j < LEAF_FRAMES && i * LEAF_FRAMES + j < target->frames; j++) {
			uint64_t f = i * LEAF_FRAMES + j;
			uint8_t *page = ram + f * VMM_PAGE_SIZE;
			const uint8_t *want;

			/* Equal ids are equal contents: ids are held, never
			 * reused, while a map names them. */
			if (b && b->id[j] == t->id[j] && !frame_dirty(dirty, f))
				continue;
			(*compared)++;
			want = vmm_pagestore_data(target->ps, t->id[j]);
			if (memcmp(absent && frame_dirty(absent, f) ? zero : page, want, VMM_PAGE_SIZE) == 0)
				continue;
			memcpy(page, want, VMM_PAGE_SIZE);
			written(ctx, f);
			(*nwritten)++;
		}
	}
}

static int cmp_id(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int vmm_pagemap_own(const struct vmm_pagemap *m, uint64_t *pages, uint64_t *bytes)
{
	uint32_t *ids;
	uint64_t n = 0;

	*pages = 0;
	*bytes = 0;
	if (m->refs > 1)
		return 0;               /* shared whole: freeing one holder frees nothing */
	*bytes = sizeof(*m) + m->nleaves * sizeof(m->leaf[0]);
	ids = malloc(m->nleaves * LEAF_FRAMES * sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	/* A page is this map's alone when every reference to it is a slot of
	 * a leaf only this map holds. */
	for (uint64_t i = 0; i < m->nleaves; i++) {
		if (m->leaf[i]->refs > 1)
			continue;
		*bytes += sizeof(struct leaf);
		for (unsigned j = 0; j < LEAF_FRAMES; j++)
			if (m->leaf[i]->id[j])
				ids[n++] = m->leaf[i]->id[j];
	}
	qsort(ids, n, sizeof(*ids), cmp_id);
	for (uint64_t f = 0, run; f < n; f += run) {
		for (run = 1; f + run < n && ids[f + run] == ids[f]; run++)
			;
		*pages += vmm_pagestore_refs(m->ps, ids[f]) == run;
	}
	free(ids);
	return 0;
}
