/*
 * snapshot_bench.c — machine snapshot figures for `make bench`: save and
 * restore time, ioctls and bytes, full and incremental, median of 5 runs,
 * and what the content-addressed page store saves.
 *
 * Usage: snapshot_bench KERNEL FIRST_EXIT GAP [MEM_MIB]
 * Boots KERNEL under the deterministic driver (tests/unit/det_driver.h),
 * and in each of 5 runs: a full save at exit FIRST_EXIT; GAP exits later an
 * incremental save; GAP exits later a restore of that one (incremental:
 * only pages written since are compared), a restore of the first
 * (incremental across two snapshots), and a restore into a fresh machine
 * (full: every page compared). Then checkpoints every GAP exits until the
 * guest ends, to show what dedup keeps. Ratios are to one vCPU ioctl
 * (KVM_GET_REGS) timed in the same run, because this host is shared and
 * its speed varies.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/unit/det_driver.h"

#define RUNS 5
#define MAX_CHECKPOINTS 400

static struct det d, fresh;

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct figures {
	double full_save, inc_save, inc_restore, far_restore, full_restore, ioctl;
	double full_read, inc_read, inc_new, inc_restore_pages, far_restore_pages;
	double full_restore_pages, save_ioctls, restore_ioctls;
};

/* The median over the runs of one field of struct figures. */
static double med(const struct figures *f, size_t field)
{
	double v[RUNS];

	for (int r = 0; r < RUNS; r++)
		memcpy(&v[r], (const char *)&f[r] + field, sizeof(double));
	qsort(v, RUNS, sizeof(*v), cmp_double);
	return v[RUNS / 2];
}

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "snapshot_bench: %s: %s\n", what, msg);
	exit(1);
}

static double time_ioctl(struct vmm *vm)
{
	struct vmm_regs r;
	double t = now_us();

	for (int i = 0; i < 200; i++)
		if (vmm_get_regs(vm, &r))
			die("KVM_GET_REGS", "failed");
	return (now_us() - t) / 200;
}

static void one_run(const char *kernel, uint64_t mem, uint64_t first, uint64_t gap, struct figures *f)
{
	struct vmm_error err = { "" };
	struct vmm_pagestore *ps;
	struct vmm_snapshot *s0, *s1;
	struct vmm_snapshot_info i0, i1;
	struct vmm_restore_stats rs;
	double t;

	if (det_create(&d, kernel, mem, NULL, &err) || det_create(&fresh, kernel, mem, NULL, &err))
		die(kernel, err.msg);
	if (vmm_pagestore_new(&ps))
		die("page store", "out of memory");
	f->ioctl = time_ioctl(d.vm);
	det_run(&d, first);
	t = now_us();
	if (vmm_snapshot_save(d.vm, ps, &s0, &err))
		die("full save", err.msg);
	f->full_save = now_us() - t;
	det_run(&d, first + gap);
	t = now_us();
	if (vmm_snapshot_save(d.vm, ps, &s1, &err))
		die("incremental save", err.msg);
	f->inc_save = now_us() - t;
	det_run(&d, first + 2 * gap);
	if (d.st.end != DET_RUNNING)
		die(kernel, "the guest ended before the last point: choose smaller exit counts");
	t = now_us();
	if (vmm_snapshot_restore(d.vm, s1, &rs, &err))
		die("incremental restore", err.msg);
	f->inc_restore = now_us() - t;
	f->inc_restore_pages = (double)rs.pages_compared;
	f->restore_ioctls = rs.ioctls;
	t = now_us();
	if (vmm_snapshot_restore(d.vm, s0, &rs, &err))
		die("restore of the first snapshot", err.msg);
	f->far_restore = now_us() - t;
	f->far_restore_pages = (double)rs.pages_compared;
	t = now_us();
	if (vmm_snapshot_restore(fresh.vm, s1, &rs, &err))
		die("full restore", err.msg);
	f->full_restore = now_us() - t;
	f->full_restore_pages = (double)rs.pages_compared;
	vmm_snapshot_info(s0, &i0);
	vmm_snapshot_info(s1, &i1);
	f->full_read = (double)i0.pages_read;
	f->inc_read = (double)i1.pages_read;
	f->inc_new = (double)i1.pages_new;
	f->save_ioctls = i1.ioctls;
	vmm_snapshot_free(s0);
	vmm_snapshot_free(s1);
	vmm_pagestore_free(ps);
	vmm_destroy(d.vm);
	vmm_destroy(fresh.vm);
}

/* Checkpoints every gap exits from boot to the end: what the store holds
 * against a plain copy of each page read (incremental, no dedup) and a
 * full copy of RAM per checkpoint. */
static void checkpoints(const char *kernel, uint64_t mem, uint64_t gap)
{
	static struct vmm_snapshot *cp[MAX_CHECKPOINTS];
	struct vmm_error err = { "" };
	struct vmm_pagestore *ps;
	struct vmm_pagestore_stats st;
	uint64_t read = 0, n = 0, state = 0;
	double t = 0;

	if (det_create(&d, kernel, mem, NULL, &err) || vmm_pagestore_new(&ps))
		die(kernel, err.msg);
	while (d.st.end == DET_RUNNING && n < MAX_CHECKPOINTS) {
		struct vmm_snapshot_info in;
		double t0 = now_us();

		if (vmm_snapshot_save(d.vm, ps, &cp[n], &err))
			die("checkpoint", err.msg);
		t += now_us() - t0;
		vmm_snapshot_info(cp[n], &in);
		read += in.pages_read;
		state += in.state_bytes;
		n++;
		det_run(&d, vmm_exits(d.vm) + gap);
	}
	vmm_pagestore_stats(ps, &st);
	printf("  %llu checkpoints, one every %llu exits to exit %llu (%.1f ms of saves):\n",
	       (unsigned long long)n, (unsigned long long)gap, (unsigned long long)vmm_exits(d.vm),
	       t / 1e3);
	printf("    page store: %llu distinct pages, %.1f KiB (index included); %llu pages offered, "
	       "%llu found already held (%.1f%%)\n", (unsigned long long)st.pages, st.bytes / 1024.0,
	       (unsigned long long)st.puts, (unsigned long long)st.dedup_hits,
	       st.puts ? 100.0 * st.dedup_hits / st.puts : 0.0);
	printf("    vs incremental without dedup (the first in full): %.1f KiB (x%.1f); vs a full copy each: %.1f MiB "
	       "(x%.0f); page maps and vCPU/device state: %.1f KiB\n", read * 4.0,
	       read * 4096.0 / st.bytes, n * mem / 1048576.0, (double)n * mem / st.bytes,
	       state / 1024.0);
	for (uint64_t i = 0; i < n; i++)
		vmm_snapshot_free(cp[i]);
	vmm_pagestore_free(ps);
	vmm_destroy(d.vm);
}

int main(int argc, char **argv)
{
	struct figures f[RUNS];
	uint64_t first, gap, mem = 64ull << 20;
	const char *kernel;

	if (argc < 4) {
		fprintf(stderr, "usage: snapshot_bench KERNEL FIRST_EXIT GAP [MEM_MIB]\n");
		return 2;
	}
	kernel = argv[1];
	first = strtoull(argv[2], NULL, 0);
	gap = strtoull(argv[3], NULL, 0);
	if (argc > 4)
		mem = strtoull(argv[4], NULL, 0) << 20;
	for (int r = 0; r < RUNS; r++)
		one_run(kernel, mem, first, gap, &f[r]);
#define MED(field) med(f, offsetof(struct figures, field))
	{
		double io = MED(ioctl);

		printf("%s, %llu MiB, snapshots at exits %llu, %llu, %llu (median of %d runs; one vCPU "
		       "ioctl = %.1f us)\n", kernel, (unsigned long long)(mem >> 20),
		       (unsigned long long)first, (unsigned long long)(first + gap),
		       (unsigned long long)(first + 2 * gap), RUNS, io);
		printf("  full save          %8.0f us  = %6.0f ioctls  (%.0f pages read, %.0f ioctls)\n",
		       MED(full_save), MED(full_save) / io, MED(full_read), MED(save_ioctls));
		printf("  incremental save   %8.0f us  = %6.0f ioctls  (%.0f pages read, %.0f new, "
		       "%.0f KiB stored)\n", MED(inc_save), MED(inc_save) / io, MED(inc_read),
		       MED(inc_new), MED(inc_new) * 4);
		printf("  incremental restore%8.0f us  = %6.0f ioctls  (%.0f pages compared, %.0f ioctls)\n",
		       MED(inc_restore), MED(inc_restore) / io, MED(inc_restore_pages),
		       MED(restore_ioctls));
		printf("  restore 2 back     %8.0f us  = %6.0f ioctls  (%.0f pages compared)\n",
		       MED(far_restore), MED(far_restore) / io, MED(far_restore_pages));
		printf("  full restore       %8.0f us  = %6.0f ioctls  (%.0f pages compared: a fresh "
		       "machine)\n", MED(full_restore), MED(full_restore) / io, MED(full_restore_pages));
		printf("  ratios: full/incremental save x%.1f, full/incremental restore x%.1f\n",
		       MED(full_save) / MED(inc_save), MED(full_restore) / MED(inc_restore));
	}
	checkpoints(kernel, mem, gap);
	return 0;
}
