/*
 * shadow.c — rrvm's shadow of guest page-table pages.
 *
 * Listing a guest's mappings reads every page-table page; at a stop that
 * follows another stop, most of those pages have not changed. The shadow
 * keeps a copy of each page read through it (open-addressing hash table
 * keyed by guest page number) and re-reads a page only when the caller has
 * marked it dirty, normally from KVM's dirty log. A stale page keeps its slot
 * and buffer and is refreshed in place, so steady-state re-listing allocates
 * nothing. Once max_pages are cached, reads of further pages go straight to
 * the backing memory: the cache never grows past what the caller allowed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "introspect/introspect.h"

#define PAGE 4096u

struct slot {
	uint64_t pfn;
	uint8_t *data;          /* NULL: slot free */
	int stale;
};

struct introspect_shadow {
	struct introspect_mem backing;
	size_t max_pages;
	size_t mask;            /* slots - 1 */
	struct slot *slots;
	struct introspect_shadow_stats st;
};

static size_t hash(uint64_t pfn, size_t mask)
{
	return (size_t)((pfn * 0x9E3779B97F4A7C15ull) >> 32) & mask;
}

static struct slot *find(struct introspect_shadow *s, uint64_t pfn, int *found)
{
	size_t i = hash(pfn, s->mask);

	/* At most half the slots are used, so this ends at a free slot. */
	while (s->slots[i].data) {
		if (s->slots[i].pfn == pfn) {
			*found = 1;
			return &s->slots[i];
		}
		i = (i + 1) & s->mask;
	}
	*found = 0;
	return &s->slots[i];
}

int introspect_shadow_new(const struct introspect_mem *backing, size_t max_pages,
			  struct introspect_shadow **out)
{
	struct introspect_shadow *s;
	size_t n = 16;

	*out = NULL;
	if (!backing || !backing->read_phys || max_pages == 0 || max_pages > ((size_t)1 << 30))
		return -EINVAL;
	while (n < 2 * max_pages)
		n *= 2;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->slots = calloc(n, sizeof(*s->slots));
	if (!s->slots) {
		free(s);
		return -ENOMEM;
	}
	s->backing = *backing;
	s->max_pages = max_pages;
	s->mask = n - 1;
	*out = s;
	return 0;
}

void introspect_shadow_free(struct introspect_shadow *s)
{
	if (!s)
		return;
	for (size_t i = 0; i <= s->mask; i++)
		free(s->slots[i].data);
	free(s->slots);
	free(s);
}

/* Read within one page. */
static int read_chunk(struct introspect_shadow *s, uint64_t gpa, uint8_t *buf, size_t len)
{
	uint64_t pfn = gpa / PAGE;
	size_t off = (size_t)(gpa % PAGE);
	int found;
	struct slot *sl = find(s, pfn, &found);

	if (found && !sl->stale) {
		s->st.hits++;
		memcpy(buf, sl->data + off, len);
		return 0;
	}
	if (found) {
		if (s->backing.read_phys(s->backing.ctx, pfn * PAGE, sl->data, PAGE) == 0) {
			sl->stale = 0;
			s->st.fills++;
			memcpy(buf, sl->data + off, len);
			return 0;
		}
	} else if (s->st.pages < s->max_pages) {
		uint8_t *page = malloc(PAGE);

		if (page && s->backing.read_phys(s->backing.ctx, pfn * PAGE, page, PAGE) == 0) {
			sl->pfn = pfn;
			sl->data = page;
			sl->stale = 0;
			s->st.pages++;
			s->st.fills++;
			memcpy(buf, page + off, len);
			return 0;
		}
		free(page);
	}
	/* Full, out of memory, or the whole page is not readable: behave
	 * exactly like the backing accessor for this piece. */
	s->st.uncached++;
	return s->backing.read_phys(s->backing.ctx, gpa, buf, len);
}

static int shadow_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct introspect_shadow *s = ctx;
	uint8_t *p = buf;

	if (len && gpa + (len - 1) < gpa)
		return -EFAULT;
	while (len) {
		size_t n = PAGE - (size_t)(gpa % PAGE);
		int rc;

		if (n > len)
			n = len;
		rc = read_chunk(s, gpa, p, n);
		if (rc)
			return rc;
		gpa += n;
		p += n;
		len -= n;
	}
	return 0;
}

void introspect_shadow_mem(struct introspect_shadow *s, struct introspect_mem *out)
{
	out->read_phys = shadow_read;
	out->ctx = s;
}

void introspect_shadow_mark_dirty(struct introspect_shadow *s, uint64_t gpa)
{
	int found;
	struct slot *sl = find(s, gpa / PAGE, &found);

	if (found)
		sl->stale = 1;
}

void introspect_shadow_mark_dirty_bitmap(struct introspect_shadow *s, uint64_t base_gpa,
					 const uint64_t *bitmap, size_t npages)
{
	for (size_t w = 0; w * 64 < npages; w++) {
		uint64_t bits = bitmap[w];

		if (npages - w * 64 < 64)
			bits &= (1ull << (npages - w * 64)) - 1;
		while (bits) {
			unsigned b = (unsigned)__builtin_ctzll(bits);

			bits &= bits - 1;
			introspect_shadow_mark_dirty(s, base_gpa + ((uint64_t)w * 64 + b) * PAGE);
		}
	}
}

void introspect_shadow_invalidate(struct introspect_shadow *s)
{
	for (size_t i = 0; i <= s->mask; i++)
		s->slots[i].stale = 1;
}

void introspect_shadow_stats(const struct introspect_shadow *s, struct introspect_shadow_stats *out)
{
	*out = s->st;
}
