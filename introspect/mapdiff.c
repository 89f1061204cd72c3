/*
 * mapdiff.c — what changed between two mapping lists.
 *
 * Both lists are sorted and non-overlapping, so one merge-style sweep cuts
 * the address space at every range boundary of either list; each piece is
 * then in neither, old only (removed), new only (added) or both (changed if
 * the physical target, flags or page size differ). Pieces of one kind that
 * continue each other (virtually, and physically on both sides) are merged,
 * so remapping a 2M region in 4K pages shows as one line, not 512.
 * Inclusive ends are used throughout so a range ending at 2^64 needs no
 * special case.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "introspect/internal.h"

static int check_sorted(const struct introspect_maplist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct introspect_map *m = &l->v[i];

		if (m->size == 0 || m->va + (m->size - 1) < m->va)
			return -EINVAL;
		if (i && l->v[i - 1].va + (l->v[i - 1].size - 1) >= m->va)
			return -EINVAL;
	}
	return 0;
}

static struct introspect_map piece(const struct introspect_map *m, uint64_t va, uint64_t size)
{
	struct introspect_map p = *m;

	p.pa = m->pa + (va - m->va);
	p.va = va;
	p.size = size;
	return p;
}

static int continues(const struct introspect_map *prev, const struct introspect_map *next)
{
	return prev->va + prev->size == next->va && prev->pa + prev->size == next->pa &&
	       prev->flags == next->flags && prev->page_size == next->page_size;
}

static int add(struct introspect_diff *d, enum introspect_diff_kind kind, uint64_t va, uint64_t size,
	       const struct introspect_map *a, const struct introspect_map *b)
{
	struct introspect_diff_entry e = { .kind = kind, .va = va, .size = size };

	if (a)
		e.before = piece(a, va, size);
	if (b)
		e.after = piece(b, va, size);
	if (d->n) {
		struct introspect_diff_entry *p = &d->v[d->n - 1];

		if (p->kind == kind && p->va + p->size == va &&
		    (!a || continues(&p->before, &e.before)) &&
		    (!b || continues(&p->after, &e.after))) {
			p->size += size;
			if (a)
				p->before.size += size;
			if (b)
				p->after.size += size;
			return 0;
		}
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct introspect_diff_entry *v = realloc(d->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n++] = e;
	return 0;
}

void introspect_diff_free(struct introspect_diff *d)
{
	free(d->v);
	memset(d, 0, sizeof(*d));
}

int introspect_diff(const struct introspect_maplist *a, const struct introspect_maplist *b,
		    struct introspect_diff *out)
{
	size_t i = 0, j = 0;
	uint64_t x = 0;
	int rc;

	introspect_diff_free(out);
	if (check_sorted(a) < 0 || check_sorted(b) < 0)
		return -EINVAL;
	while (i < a->n || j < b->n) {
		const struct introspect_map *A = i < a->n ? &a->v[i] : NULL;
		const struct introspect_map *B = j < b->n ? &b->v[j] : NULL;
		uint64_t a_lo = A ? (A->va > x ? A->va : x) : UINT64_MAX;
		uint64_t b_lo = B ? (B->va > x ? B->va : x) : UINT64_MAX;
		uint64_t a_last = A ? A->va + (A->size - 1) : UINT64_MAX;
		uint64_t b_last = B ? B->va + (B->size - 1) : UINT64_MAX;
		uint64_t last;
		int in_a, in_b;

		x = a_lo < b_lo ? a_lo : b_lo;
		in_a = A && A->va <= x;
		in_b = B && B->va <= x;
		/* The piece ends where either list's coverage next changes. */
		last = in_a ? a_last : (A ? A->va - 1 : UINT64_MAX);
		if (in_b ? b_last < last : (B && B->va - 1 < last))
			last = in_b ? b_last : B->va - 1;

		rc = 0;
		if (in_a && in_b) {
			if (A->pa + (x - A->va) != B->pa + (x - B->va) || A->flags != B->flags ||
			    A->page_size != B->page_size)
				rc = add(out, INTROSPECT_DIFF_CHANGED, x, last - x + 1, A, B);
		} else if (in_a) {
			rc = add(out, INTROSPECT_DIFF_REMOVED, x, last - x + 1, A, NULL);
		} else {
			rc = add(out, INTROSPECT_DIFF_ADDED, x, last - x + 1, NULL, B);
		}
		if (rc < 0) {
			introspect_diff_free(out);
			return rc;
		}
		if (in_a && a_last == last)
			i++;
		if (in_b && b_last == last)
			j++;
		if (last == UINT64_MAX)
			break;
		x = last + 1;
	}
	return 0;
}

void introspect_format_diff(const struct introspect_diff *d, struct introspect_out *o)
{
	size_t count[3] = { 0, 0, 0 };

	for (size_t i = 0; i < d->n; i++)
		count[d->v[i].kind]++;
	introspect_printf(o, "%zu added, %zu removed, %zu changed\n", count[INTROSPECT_DIFF_ADDED],
			  count[INTROSPECT_DIFF_REMOVED], count[INTROSPECT_DIFF_CHANGED]);
	for (size_t i = 0; i < d->n; i++) {
		const struct introspect_diff_entry *e = &d->v[i];
		char fa[64], fb[64];

		switch (e->kind) {
		case INTROSPECT_DIFF_ADDED:
			introspect_printf(o, "+ ");
			introspect_format_map(&e->after, o);
			break;
		case INTROSPECT_DIFF_REMOVED:
			introspect_printf(o, "- ");
			introspect_format_map(&e->before, o);
			break;
		case INTROSPECT_DIFF_CHANGED:
			introspect_flags_str(e->before.flags, fa, sizeof(fa));
			introspect_flags_str(e->after.flags, fb, sizeof(fb));
			introspect_printf(o, "~ %016llx-%016llx: %016llx %s %s => %016llx %s %s\n",
					  (unsigned long long)e->va,
					  (unsigned long long)(e->va + (e->size - 1)),
					  (unsigned long long)e->before.pa,
					  introspect_pgsize_name(e->before.page_size), fa,
					  (unsigned long long)e->after.pa,
					  introspect_pgsize_name(e->after.page_size), fb);
			break;
		}
	}
}
