/*
 * pagestore.c — guest pages stored by content: the memory of machine
 * snapshots.
 *
 * Snapshots of one machine share most of their pages (and most pages of a
 * guest are zero), so each distinct 4 KiB content is held once, under a
 * small integer id, with a reference count. A snapshot is a map from guest
 * frame to id; taking one references the ids it shares with the previous
 * map and stores only the pages written since. Freeing a snapshot drops its
 * references and a page goes when its last reference does, which is what a
 * bounded set of checkpoints (time travel) evicts by.
 *
 * Ids index an entry array; a hash table (chained through the entries) finds
 * the id of a content. The 64-bit content hash only narrows the search:
 * two pages are the same page only when memcmp says so, so a hash
 * collision costs a comparison, never a wrong page. The store needs no
 * KVM and is unit-tested on plain buffers.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/internal.h"

#define PS_PAGE VMM_PAGE_SIZE
#define PS_NONE 0u              /* no id: ends chains and free lists */
#define PS_HASH_SEED 0x70616765u

struct ps_entry {
	uint64_t hash;
	uint8_t *data;          /* NULL while the entry is free */
	uint32_t refs;
	uint32_t next;          /* next id in the bucket, or in the free list */
};

struct vmm_pagestore {
	struct ps_entry *e;     /* e[0] is unused: id 0 means "no page" */
	uint32_t cap;           /* entries allocated (ids 1..cap-1) */
	uint32_t used;          /* highest id handed out + 1 */
	uint32_t free_head;     /* freed ids, reused first */
	uint32_t *bucket;       /* head id per hash bucket */
	uint32_t nbuckets;      /* a power of two */
	uint32_t zero_id;       /* the all-zero page, if stored */
	unsigned holders;       /* vmm_pagestore_new's caller, snapshots, machines */
	struct vmm_pagestore_stats st;
};

int vmm_pagestore_new(struct vmm_pagestore **out)
{
	struct vmm_pagestore *ps = calloc(1, sizeof(*ps));

	*out = NULL;
	if (!ps)
		return -ENOMEM;
	ps->nbuckets = 1024;
	ps->bucket = calloc(ps->nbuckets, sizeof(*ps->bucket));
	ps->cap = 1024;
	ps->e = calloc(ps->cap, sizeof(*ps->e));
	if (!ps->bucket || !ps->e) {
		free(ps->bucket);
		free(ps->e);
		free(ps);
		return -ENOMEM;
	}
	ps->used = 1;
	ps->holders = 1;
	*out = ps;
	return 0;
}

void vmm_pagestore_hold(struct vmm_pagestore *ps)
{
	ps->holders++;
}

void vmm_pagestore_free(struct vmm_pagestore *ps)
{
	if (!ps)
		return;
	/* A free too many would free the store under its snapshots. */
	VMM_CHECK(NULL, ps->holders > 0, "page store %p freed with no holder left", (void *)ps);
	if (--ps->holders > 0)
		return;
	for (uint32_t id = 1; id < ps->used; id++)
		free(ps->e[id].data);
	free(ps->e);
	free(ps->bucket);
	free(ps);
}

static bool page_is_zero(const uint8_t *p)
{
	uint64_t acc = 0;

	/* Independent ORs: far faster than hashing, and most pages of a
	 * guest are zero. (memcpy: the caller's page need not be aligned.) */
	for (size_t i = 0; i < PS_PAGE; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		acc |= w;
	}
	return acc == 0;
}

static size_t bucket_of(const struct vmm_pagestore *ps, uint64_t hash)
{
	return (size_t)(hash & (ps->nbuckets - 1));
}

/* Double the buckets when the chains get long (more pages than buckets). */
static int maybe_rehash(struct vmm_pagestore *ps)
{
	uint32_t n = ps->nbuckets * 2, *b;

	if (ps->st.pages < ps->nbuckets || n == 0)
		return 0;
	b = calloc(n, sizeof(*b));
	if (!b)
		return -ENOMEM;
	free(ps->bucket);
	ps->bucket = b;
	ps->nbuckets = n;
	for (uint32_t id = 1; id < ps->used; id++) {
		struct ps_entry *e = &ps->e[id];

		if (!e->data)
			continue;
		e->next = b[bucket_of(ps, e->hash)];
		b[bucket_of(ps, e->hash)] = id;
	}
	return 0;
}

/* A free entry id, growing the array when none is left. */
static int take_id(struct vmm_pagestore *ps, uint32_t *id)
{
	if (ps->free_head != PS_NONE) {
		*id = ps->free_head;
		ps->free_head = ps->e[*id].next;
		return 0;
	}
	if (ps->used == ps->cap) {
		struct ps_entry *e;
		uint32_t cap = ps->cap * 2;

		if (cap <= ps->cap)
			return -ENOSPC;         /* 2^32 distinct pages: 16 TiB */
		e = realloc(ps->e, (size_t)cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		memset(e + ps->cap, 0, (size_t)(cap - ps->cap) * sizeof(*e));
		ps->e = e;
		ps->cap = cap;
	}
	*id = ps->used++;
	return 0;
}

int vmm_pagestore_put(struct vmm_pagestore *ps, const void *page, uint32_t *id)
{
	bool zero = page_is_zero(page);
	uint64_t hash;
	uint32_t i;
	uint8_t *copy;
	int rc;

	ps->st.puts++;
	if (zero && ps->zero_id != PS_NONE) {
		*id = ps->zero_id;
		ps->e[*id].refs++;
		ps->st.refs++;
		ps->st.dedup_hits++;
		return 0;
	}
	hash = vmm_hash(page, PS_PAGE, PS_HASH_SEED);
	for (i = ps->bucket[bucket_of(ps, hash)]; i != PS_NONE; i = ps->e[i].next) {
		if (ps->e[i].hash == hash && memcmp(ps->e[i].data, page, PS_PAGE) == 0) {
			ps->e[i].refs++;
			ps->st.refs++;
			ps->st.dedup_hits++;
			*id = i;
			return 0;
		}
	}
	copy = malloc(PS_PAGE);
	if (!copy)
		return -ENOMEM;
	rc = take_id(ps, &i);
	if (rc) {
		free(copy);
		return rc;
	}
	memcpy(copy, page, PS_PAGE);
	ps->e[i] = (struct ps_entry){ .hash = hash, .data = copy, .refs = 1,
				      .next = ps->bucket[bucket_of(ps, hash)] };
	ps->bucket[bucket_of(ps, hash)] = i;
	if (zero)
		ps->zero_id = i;
	ps->st.pages++;
	ps->st.refs++;
	*id = i;
	/* A failed rehash leaves longer chains, nothing wrong. */
	(void)maybe_rehash(ps);
	return 0;
}

static struct ps_entry *live_entry(const struct vmm_pagestore *ps, uint32_t id)
{
	if (id == PS_NONE || id >= ps->used || !ps->e[id].data)
		return NULL;
	return &ps->e[id];
}

void vmm_pagestore_ref(struct vmm_pagestore *ps, uint32_t id)
{
	struct ps_entry *e = live_entry(ps, id);

	if (e) {
		e->refs++;
		ps->st.refs++;
	}
}

void vmm_pagestore_unref(struct vmm_pagestore *ps, uint32_t id)
{
	struct ps_entry *e = live_entry(ps, id);
	uint32_t *link;

	if (!e)
		return;
	/* A held page has a reference, and the store counts it: a drop
	 * below zero would free a page that maps still name. */
	VMM_CHECK(NULL, e->refs > 0 && ps->st.refs >= e->refs, "page %" PRIu32 " has %" PRIu32
		  " references, the store counts %" PRIu64 " in all", id, e->refs, ps->st.refs);
	ps->st.refs--;
	if (--e->refs > 0)
		return;
	for (link = &ps->bucket[bucket_of(ps, e->hash)]; *link != id; link = &ps->e[*link].next)
		VMM_CHECK(NULL, *link != PS_NONE, "page %" PRIu32 " is not in its hash bucket %zu",
			  id, bucket_of(ps, e->hash));
	*link = e->next;
	free(e->data);
	*e = (struct ps_entry){ .next = ps->free_head };
	ps->free_head = id;
	if (ps->zero_id == id)
		ps->zero_id = PS_NONE;
	ps->st.pages--;
}

const uint8_t *vmm_pagestore_data(const struct vmm_pagestore *ps, uint32_t id)
{
	const struct ps_entry *e = live_entry(ps, id);

	return e ? e->data : NULL;
}

uint32_t vmm_pagestore_refs(const struct vmm_pagestore *ps, uint32_t id)
{
	const struct ps_entry *e = live_entry(ps, id);

	return e ? e->refs : 0;
}

void vmm_pagestore_stats(const struct vmm_pagestore *ps, struct vmm_pagestore_stats *st)
{
	*st = ps->st;
	st->data_bytes = ps->st.pages * PS_PAGE;
	st->bytes = st->data_bytes + (uint64_t)ps->cap * sizeof(struct ps_entry) +
		    (uint64_t)ps->nbuckets * sizeof(uint32_t) + sizeof(*ps);
}
