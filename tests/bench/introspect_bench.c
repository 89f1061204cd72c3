/*
 * introspect_bench.c — how fast the introspection layer is on a guest that
 * maps 1 GiB in 4K pages (262144 PTEs) in fake guest RAM: translations per
 * second, time to list and to diff the mappings, and what the shadow cache
 * saves when re-listing. Prints figures only; no timed assertions (the
 * machines are shared and noisy), so the ratios measured in the same run are
 * the numbers to compare.
 */
#include <stdio.h>
#include <time.h>

#include "introspect/testguest.h"

#define RAM (8u << 20)
#define NPAGES 262144u
#define VA0 0xffff888000000000ull
#define M4 INTROSPECT_PAGING_4LEVEL

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Best of reps: the least disturbed run. */
static double time_list(const struct introspect_cpu *c, const struct introspect_mem *m,
			struct introspect_maplist *l, int reps)
{
	double best = 1e9;

	for (int i = 0; i < reps; i++) {
		double t = now();

		if (introspect_list(c, m, NULL, l) != 0) {
			fprintf(stderr, "introspect_bench: list failed\n");
			return -1;
		}
		t = now() - t;
		if (t < best)
			best = t;
	}
	return best;
}

int main(void)
{
	struct tg g;
	struct introspect_mem m, sm;
	struct introspect_cpu c;
	struct introspect_maplist a = { 0 }, b = { 0 };
	struct introspect_diff d = { 0 };
	struct introspect_walk w;
	struct introspect_shadow *s;
	uint64_t root, x = 88172645463325252ull, sum = 0, pte;
	unsigned ntr = 2000000;
	double t, t_list, t_warm, t_cold, t_dirty, t_scat, t_diff;

	tg_init(&g, RAM);
	m = tg_mem(&g);
	root = tg_alloc(&g);
	c = tg_cpu(M4, root, 1);
	for (uint64_t i = 0; i < NPAGES; i++)
		tg_map(&g, M4, root, VA0 + i * 4096, 0x100000000ull + i * 4096, 1, TG_RW | TG_XD);

	t = now();
	for (unsigned i = 0; i < ntr; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (introspect_translate(&c, &m, VA0 + (x % ((uint64_t)NPAGES * 4096)), &w) == 0)
			sum += w.pa;
	}
	t = now() - t;
	printf("translate, 4K pages, 4-level: %.2f M translations/s (%.0f ns each; checksum %llx)\n",
	       ntr / t / 1e6, t / ntr * 1e9, (unsigned long long)(sum & 0xffff));

	t_list = time_list(&c, &m, &a, 5);
	printf("list 1 GiB in 4K pages (%u PTEs -> %zu range): %.2f ms\n", NPAGES, a.n, t_list * 1e3);

	if (introspect_shadow_new(&m, 4096, &s) != 0)
		return 1;
	introspect_shadow_mem(s, &sm);
	t = now();
	if (introspect_list(&c, &sm, NULL, &b) != 0)
		return 1;
	t_cold = now() - t;
	t_warm = time_list(&c, &sm, &b, 5);
	pte = tg_entry(&g, M4, root, VA0 + 12345 * 4096ull, 1);
	t_dirty = 1e9;
	for (int i = 0; i < 5; i++) {
		introspect_shadow_mark_dirty(s, pte);
		t = now();
		if (introspect_list(&c, &sm, NULL, &b) != 0)
			return 1;
		t = now() - t;
		if (t < t_dirty)
			t_dirty = t;
	}
	printf("list through shadow: cold %.2f ms, warm %.2f ms, 1 dirty table %.2f ms "
	       "(warm/direct %.2f)\n", t_cold * 1e3, t_warm * 1e3, t_dirty * 1e3, t_warm / t_list);
	introspect_shadow_free(s);

	/* One changed page in the middle, then diff the two lists. */
	tg_map(&g, M4, root, VA0 + 12345 * 4096ull, 0x5000, 1, TG_RW);
	if (introspect_list(&c, &m, NULL, &b) != 0)
		return 1;
	t = now();
	if (introspect_diff(&a, &b, &d) != 0)
		return 1;
	t_diff = now() - t;
	printf("diff of two 1 GiB lists, 1 page changed: %.3f ms, %zu entries\n", t_diff * 1e3, d.n);

	for (uint64_t i = 0; i < NPAGES; i++)
		tg_map(&g, M4, root, VA0 + i * 4096, 0x100000000ull + (NPAGES - 1 - i) * 4096, 1, TG_RW);
	t_scat = time_list(&c, &m, &a, 3);
	printf("list 1 GiB in 4K pages, physically scattered (%zu ranges): %.2f ms (%.2fx contiguous)\n",
	       a.n, t_scat * 1e3, t_scat / t_list);

	introspect_diff_free(&d);
	introspect_maplist_free(&a);
	introspect_maplist_free(&b);
	tg_free(&g);
	return 0;
}
