/*
 * snapshot_test.c — machine snapshots on real guests (needs /dev/kvm and
 * the sample kernels; skipped without them).
 *
 * Every sample is run under the deterministic driver (det_driver.h) and
 * snapshotted at several kinds of points: at an exit, right after HLT,
 * inside an interrupt handler (at its EOI), and with an interrupt injected
 * but not yet delivered. From each: run a window of exits, restore, check
 * the machine equals what was saved, run the window again, and require
 * the same exit count, registers, FPU, RAM, device state, driver state and
 * output. Then: incremental and full restores agree, rrvm's own writes and
 * restores reach the dirty trackers, bad restores are refused, MXCSR reads
 * 0x1f80 at reset, and a second machine on the thread leaves the first its
 * kicks.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/unit/tap.h"
#include "tests/unit/det_driver.h"
#include "vmm/internal.h"

#define MEM (32ull << 20)

enum kind { K_EXIT, K_HALT, K_HANDLER, K_INJECT, K_COUNT };
static const char *const kind_name[] = { "at an exit", "right after hlt", "inside the handler (EOI)",
					 "with an injection pending" };

struct sample {
	const char *name;
	const char *input;
	uint64_t at;            /* snapshots at the first point after this exit count */
	uint64_t window;        /* exits run from the snapshot (race and compute
				 * run long between exits: keep them short) */
	unsigned kinds;         /* which points it must reach */
};

#define ALL ((1u << K_COUNT) - 1)
static const struct sample samples[] = {
	{ "hello", NULL, 10, 3000, 1u << K_EXIT },
	{ "echo", "hello\nsnapshot world\nquit\n", 20, 3000, ALL },
	{ "ticks", NULL, 20, 3000, ALL },
	{ "race", NULL, 300, 120, ALL },
	{ "compute", NULL, 30, 120, ALL & ~(1u << K_HALT) },    /* it never halts */
	{ "paging", NULL, 200, 3000, 1u << K_EXIT },
	{ "ioheavy", NULL, 2000, 1500, ALL & ~(1u << K_HALT) },
};

static char top[4096];
static struct det d1, d2;

static int sample_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/samples/%s.elf", top, name);
	return access(buf, R_OK);
}

/* Everything that must agree between two runs. */
struct picture {
	uint64_t exits, hash, now;
	uint8_t fpu[512];
	uint64_t dev_hash;
	size_t out_len;
	uint64_t out_hash;      /* output from the snapshot's point on */
	enum det_end end;
	uint32_t exit_value;
};

static int picture(struct det *d, size_t out_from, struct picture *p)
{
	struct vmm *vm = d->vm;
	uint64_t h = 0;

	memset(p, 0, sizeof(*p));
	p->exits = vmm_exits(vm);
	if (vmm_state_hash(vm, &p->hash) || vmm_get_fpu(vm, p->fpu))
		return -1;
	for (unsigned i = 0; i < vmm_device_count; i++)
		h = vmm_hash(vm->m.dev_state[i], vmm_devices[i]->state_size, h);
	p->dev_hash = h;
	p->now = d->st.now;
	p->out_len = d->st.out_len;
	p->out_hash = vmm_hash(d->out + out_from, d->st.out_len - out_from, 0);
	p->end = d->st.end;
	p->exit_value = d->st.exit_value;
	return 0;
}

static bool same(const struct picture *a, const struct picture *b, const char *what)
{
	bool eq = a->exits == b->exits && a->hash == b->hash && a->now == b->now &&
		  memcmp(a->fpu, b->fpu, 512) == 0 && a->dev_hash == b->dev_hash &&
		  a->out_len == b->out_len && a->out_hash == b->out_hash && a->end == b->end &&
		  a->exit_value == b->exit_value;

	if (!eq)
		diag("%s: exits %llu/%llu hash %016llx/%016llx fpu %s dev %s out %zu/%zu %s end %s/%s",
		     what, (unsigned long long)a->exits, (unsigned long long)b->exits,
		     (unsigned long long)a->hash, (unsigned long long)b->hash,
		     memcmp(a->fpu, b->fpu, 512) ? "differs" : "same",
		     a->dev_hash != b->dev_hash ? "differs" : "same", a->out_len, b->out_len,
		     a->out_hash != b->out_hash ? "(bytes differ)" : "", det_end_name(a->end),
		     det_end_name(b->end));
	return eq;
}

/* Run d until a point of this kind at or after exit count at. */
static bool run_to_point(struct det *d, enum kind k, uint64_t at)
{
	struct vmm_event ev;

	while (d->st.end == DET_RUNNING) {
		bool past = vmm_exits(d->vm) >= at;

		if (k == K_EXIT && past && !d->st.have_ev)
			return true;
		if (k == K_INJECT && past && !d->st.have_ev && vmm_can_inject(d->vm)) {
			/* A kick outside KVM_RUN: vmm_step injects, then KVM
			 * returns at once, before the guest took it. */
			vmm_kick(d->vm);
			if (det_step(d, &ev, false))
				return false;
			vmm_take_kick(d->vm);
			if (ev.kind == VMM_EV_KICK && ev.injected >= 0)
				return true;
			continue;
		}
		if (det_step(d, &ev, past && (k == K_HALT || k == K_HANDLER)))
			return false;
		if (!d->st.have_ev)
			continue;
		if ((k == K_HALT && ev.kind == VMM_EV_HLT) ||
		    (k == K_HANDLER && ev.kind == VMM_EV_IO && !ev.u.io.mmio && ev.u.io.write &&
		     ev.u.io.addr == 0x20 && ev.u.io.value == 0x20))
			return true;
		/* Not the point: handle it and go on. */
		if (det_step(d, &ev, false))
			return false;
	}
	return false;
}

static void round_trip(const struct sample *s, struct det *d, struct vmm_pagestore *ps, enum kind k,
		       uint64_t at)
{
	struct vmm_error err = { "" };
	struct vmm_snapshot *snap = NULL;
	struct det_state saved;
	struct picture p0, p1, pa, pb;
	struct vmm_restore_stats rs;
	struct vmm_snapshot_info info;
	bool reached = run_to_point(d, k, at);

	if (!ok(reached, "%s: reached a point %s (after exit %llu)", s->name, kind_name[k],
		(unsigned long long)at)) {
		diag("driver: %s %s", det_end_name(d->st.end), d->why);
		return;
	}
	if (k == K_INJECT)
		ok(vmm_interrupt_blocked(d->vm), "%s: the injected interrupt is pending in KVM", s->name);
	if (!ok(vmm_snapshot_save(d->vm, ps, &snap, &err) == 0, "%s: save %s", s->name, kind_name[k])) {
		diag("%s", err.msg);
		return;
	}
	vmm_snapshot_info(snap, &info);
	saved = d->st;
	if (picture(d, saved.out_len, &p0))
		goto fail;
	det_run(d, info.exits + s->window);
	if (picture(d, saved.out_len, &pa))
		goto fail;
	ok(pa.exits > p0.exits || pa.end != DET_RUNNING, "%s: the guest ran on (%llu exits, %s)",
	   s->name, (unsigned long long)(pa.exits - p0.exits), det_end_name(pa.end));
	if (!ok(vmm_snapshot_restore(d->vm, snap, &rs, &err) == 0, "%s: restore", s->name)) {
		diag("%s", err.msg);
		goto fail;
	}
	d->st = saved;
	if (picture(d, saved.out_len, &p1))
		goto fail;
	ok(same(&p0, &p1, "restored"), "%s: the restored machine is the saved one (%llu pages rewritten)",
	   s->name, (unsigned long long)rs.pages_written);
	det_run(d, info.exits + s->window);
	if (picture(d, saved.out_len, &pb))
		goto fail;
	ok(same(&pa, &pb, "second run"), "%s %s: the second run from the snapshot is the first (%llu exits, "
	   "%zu output bytes)", s->name, kind_name[k], (unsigned long long)(pb.exits - p0.exits),
	   pb.out_len - saved.out_len);
	vmm_snapshot_free(snap);
	return;
fail:
	ok(0, "%s: reading the machine's state", s->name);
	vmm_snapshot_free(snap);
}

static void test_sample(const struct sample *s)
{
	char kernel[4200];
	struct vmm_error err = { "" };
	struct vmm_pagestore *ps;

	if (sample_path(kernel, sizeof(kernel), s->name)) {
		ok(0, "%s: %s is missing", s->name, kernel);
		return;
	}
	if (vmm_pagestore_new(&ps)) {
		ok(0, "page store");
		return;
	}
	/* A fresh boot for each kind of point, all in one store. */
	for (enum kind k = 0; k < K_COUNT; k++) {
		if (!(s->kinds & (1u << k)))
			continue;
		if (det_create(&d1, kernel, MEM, s->input, &err)) {
			ok(0, "%s: boot: %s", s->name, err.msg);
			break;
		}
		round_trip(s, &d1, ps, k, s->at);
		vmm_destroy(d1.vm);
	}
	vmm_pagestore_free(ps);
}

/* tsc.elf lets the host's TSC steer it, so two runs differ by design
 * (README); a restore must still give back exactly the state saved. */
static void test_tsc(void)
{
	char kernel[4200];
	struct vmm_error err = { "" };
	struct vmm_pagestore *ps = NULL;
	struct vmm_snapshot *snap = NULL;
	struct picture p0, p1;
	struct det_state saved;

	if (sample_path(kernel, sizeof(kernel), "tsc") || det_create(&d1, kernel, MEM, NULL, &err)) {
		ok(0, "tsc: boot: %s", err.msg);
		return;
	}
	det_run(&d1, 30);
	saved = d1.st;
	ok(vmm_pagestore_new(&ps) == 0 && vmm_snapshot_save(d1.vm, ps, &snap, &err) == 0 &&
	   picture(&d1, saved.out_len, &p0) == 0, "tsc: saved at exit %llu",
	   (unsigned long long)vmm_exits(d1.vm));
	det_run(&d1, 300);
	ok(snap && vmm_snapshot_restore(d1.vm, snap, NULL, &err) == 0, "tsc: restored");
	d1.st = saved;
	ok(picture(&d1, saved.out_len, &p1) == 0 && same(&p0, &p1, "tsc"),
	   "tsc: the restored machine is the saved one");
	vmm_snapshot_free(snap);
	vmm_pagestore_free(ps);
	vmm_destroy(d1.vm);
}

/* Taking snapshots must not change the run: a checkpoint during replay
 * that moved an injection would make the replay diverge. The same guest
 * with and without a snapshot every `every` exits ends alike. */
static void test_no_perturbation(const char *name, const char *input, uint64_t every)
{
	char kernel[4200];
	struct vmm_error err = { "" };
	struct vmm_pagestore *ps = NULL;
	struct picture plain, snapped;
	unsigned taken = 0;
	bool good = true;

	if (sample_path(kernel, sizeof(kernel), name) || det_create(&d1, kernel, MEM, input, &err)) {
		ok(0, "%s: boot: %s", name, err.msg);
		return;
	}
	det_run(&d1, UINT64_MAX);
	good = picture(&d1, 0, &plain) == 0;
	vmm_destroy(d1.vm);
	if (det_create(&d1, kernel, MEM, input, &err) || vmm_pagestore_new(&ps)) {
		ok(0, "%s: boot: %s", name, err.msg);
		return;
	}
	while (good && d1.st.end == DET_RUNNING) {
		struct vmm_snapshot *snap;

		det_run(&d1, vmm_exits(d1.vm) + every);
		good = vmm_snapshot_save(d1.vm, ps, &snap, &err) == 0;
		vmm_snapshot_free(snap);
		taken++;
	}
	ok(good && picture(&d1, 0, &snapped) == 0 && same(&plain, &snapped, "perturbed"),
	   "%s: %u snapshots, one every %llu exits, leave the run as it was (%llu exits, %s)", name,
	   taken, (unsigned long long)every, (unsigned long long)plain.exits, det_end_name(plain.end));
	vmm_pagestore_free(ps);
	vmm_destroy(d1.vm);
}

/* `sti; out`: the OUT exit comes inside the STI shadow, so the guest
 * cannot take the pending interrupt at the next entry. Finishing the exit
 * for a save ends the shadow inside KVM; the decision vmm_step makes must
 * still be the one the exit gave, or a snapshot would move an injection. */
static void test_shadow_decision(void)
{
	static const uint8_t code[] = { 0xfb, 0xe6, 0x80, 0xeb, 0xfb };     /* sti; out %al,$0x80; jmp */
	char kernel[4200];
	struct vmm_error err = { "" };
	struct vmm_pagestore *ps = NULL;
	struct vmm_snapshot *snap = NULL;
	struct vmm_regs r;
	struct vmm_event ev;
	const struct vmm_device *pic;
	void *pic_state;
	bool before, after;
	static const uint8_t init[][2] = { { 0x20, 0x11 }, { 0x21, 0x20 }, { 0x21, 0x04 }, { 0x21, 0x01 },
					   { 0x21, 0xfe } };

	if (sample_path(kernel, sizeof(kernel), "hello") || det_create(&d1, kernel, MEM, NULL, &err)) {
		ok(0, "hello: boot: %s", err.msg);
		return;
	}
	pic = vmm_devices[d1.vm->m.pic_index];
	pic_state = d1.vm->m.dev_state[d1.vm->m.pic_index];
	for (size_t i = 0; i < sizeof(init) / sizeof(init[0]); i++) {
		struct vmm_io io = { .space = VMM_SPACE_PIO, .write = true, .size = 1,
				     .addr = init[i][0], .value = init[i][1] };
		pic->access(pic_state, &d1.vm->m.bus, &io);
	}
	ok(vmm_write_phys(d1.vm, 0x300000, code, sizeof(code)) == 0 && vmm_get_regs(d1.vm, &r) == 0,
	   "code planted");
	r.rip = 0x300000;
	r.rflags = 0x2;
	ok(vmm_set_regs(d1.vm, &r) == 0, "rip at it, interrupts off");
	vmm_set_inject_mode(d1.vm, VMM_INJECT_HOLD);
	ok(vmm_step(d1.vm, &ev, &err) == 0 && ev.kind == VMM_EV_IO && ev.u.io.addr == 0x80,
	   "the OUT exits");
	vmm_pic_set_irq(pic_state, 0, 1);
	vmm_set_inject_mode(d1.vm, VMM_INJECT_NOW_ONLY);
	ok(vmm_irq_pending(d1.vm) == 0x20, "IRQ 0 pending at the PIC");
	before = vmm_can_inject(d1.vm);
	diag("at the OUT exit after sti: can inject %d, blocked %d", before,
	     vmm_interrupt_blocked(d1.vm));
	ok(vmm_pagestore_new(&ps) == 0 && vmm_snapshot_save(d1.vm, ps, &snap, &err) == 0, "saved");
	after = vmm_can_inject(d1.vm);
	ok(before == after, "the save left the injection decision as the exit gave it (%d)", after);
	ok(vmm_snapshot_restore(d1.vm, snap, NULL, &err) == 0 && vmm_can_inject(d1.vm) == before,
	   "and so does a restore");
	vmm_snapshot_free(snap);
	vmm_pagestore_free(ps);
	vmm_destroy(d1.vm);
}

/* Snapshots S1 (incremental on S0) restored into the same machine (only
 * the frames that differ) and into a fresh one (everything compared), and
 * a full snapshot of the same moment in its own store: all the same. */
static void test_full_vs_incremental(void)
{
	char kernel[4200];
	struct vmm_error err = { "" };
	struct vmm_pagestore *ps = NULL, *ps_full = NULL;
	struct vmm_snapshot *s0 = NULL, *s1 = NULL, *s1_full = NULL, *s2 = NULL;
	struct vmm_snapshot_info i0, i1, i1f;
	struct vmm_restore_stats rs_inc, rs_fresh, rs_full;
	struct picture p1, q;
	struct det_state st1;

	if (sample_path(kernel, sizeof(kernel), "race") || det_create(&d1, kernel, MEM, NULL, &err) ||
	    det_create(&d2, kernel, MEM, NULL, &err)) {
		ok(0, "race: boot: %s", err.msg);
		return;
	}
	if (vmm_pagestore_new(&ps) || vmm_pagestore_new(&ps_full))
		goto out;
	/* race.elf ends after about 620 exits under this driver. */
	det_run(&d1, 200);
	if (!ok(vmm_snapshot_save(d1.vm, ps, &s0, &err) == 0, "S0 saved"))
		goto out;
	det_run(&d1, 350);
	ok(vmm_snapshot_save(d1.vm, ps, &s1, &err) == 0 &&
	   vmm_snapshot_save(d1.vm, ps_full, &s1_full, &err) == 0, "S1 saved, incremental and full");
	st1 = d1.st;
	ok(picture(&d1, 0, &p1) == 0, "S1 pictured");
	det_run(&d1, 500);
	ok(d1.st.end == DET_RUNNING, "the guest still runs at S2");
	ok(vmm_snapshot_save(d1.vm, ps, &s2, &err) == 0, "S2 saved");
	if (!s1 || !s1_full || !s2)
		goto out;
	vmm_snapshot_info(s0, &i0);
	vmm_snapshot_info(s1, &i1);
	vmm_snapshot_info(s1_full, &i1f);
	ok(i0.full && !i1.full && i1f.full, "S0 full, S1 incremental, S1' full");
	ok(i1.pages_read < i1f.pages_read, "the incremental save read fewer pages (%llu of %llu)",
	   (unsigned long long)i1.pages_read, (unsigned long long)i1f.pages_read);
	ok(i1f.pages_read == i1f.frames, "the full save read every page");
	diag("S1: %llu pages read, %llu new, %u ioctls; full: %llu read, %llu new",
	     (unsigned long long)i1.pages_read, (unsigned long long)i1.pages_new, i1.ioctls,
	     (unsigned long long)i1f.pages_read, (unsigned long long)i1f.pages_new);

	ok(vmm_snapshot_restore(d1.vm, s1, &rs_inc, &err) == 0, "S1 restored over S2 (incremental)");
	d1.st = st1;
	ok(picture(&d1, 0, &q) == 0 && same(&p1, &q, "incremental"), "incremental restore gives S1");
	ok(rs_inc.pages_compared > 0 && rs_inc.pages_compared < i1.frames,
	   "it compared only the pages that may differ (%llu, %llu rewritten)",
	   (unsigned long long)rs_inc.pages_compared, (unsigned long long)rs_inc.pages_written);

	ok(vmm_snapshot_restore(d2.vm, s1, &rs_fresh, &err) == 0, "S1 restored into a fresh machine");
	d2.st = st1;
	memcpy(d2.out, d1.out, st1.out_len);
	ok(picture(&d2, 0, &q) == 0 && same(&p1, &q, "fresh"), "a fresh machine restored from S1 is S1");
	is_int(rs_fresh.pages_compared, i1.frames, "every page compared without a base");

	det_run(&d2, 450);
	ok(vmm_snapshot_restore(d2.vm, s1_full, &rs_full, &err) == 0, "full S1' restored");
	d2.st = st1;
	ok(picture(&d2, 0, &q) == 0 && same(&p1, &q, "full"), "the full snapshot restores S1 too");

	/* Both machines from S1 run on alike. */
	det_run(&d1, 450);
	det_run(&d2, 450);
	{
		struct picture a, b;
		ok(picture(&d1, 0, &a) == 0 && picture(&d2, 0, &b) == 0 && same(&a, &b, "two machines"),
		   "two machines restored from S1 run on alike");
	}
	ok(vmm_snapshot_restore(d1.vm, s0, NULL, &err) == 0, "S0 restored after all that");
	{
		struct vmm_pagestore_stats before, after;
		struct vmm_snapshot_info in;

		/* The machine is based on S0 now: S2's pages that nobody else
		 * holds are what freeing it returns, exactly. */
		vmm_snapshot_info(s2, &in);
		vmm_pagestore_stats(ps, &before);
		vmm_snapshot_free(s2);
		s2 = NULL;
		vmm_pagestore_stats(ps, &after);
		ok(in.pages_unique > 0 && before.pages - after.pages == in.pages_unique,
		   "freeing S2 returned its %llu unique pages", (unsigned long long)in.pages_unique);
		vmm_snapshot_info(s0, &in);
		is_int(in.pages_unique, 0, "S0 has no unique page: the machine's image is S0");
	}
out:
	vmm_snapshot_free(s0);
	vmm_snapshot_free(s1);
	vmm_snapshot_free(s1_full);
	vmm_snapshot_free(s2);
	/* The stores go with their last holder: free them before the machines. */
	vmm_pagestore_free(ps);
	vmm_pagestore_free(ps_full);
	vmm_destroy(d1.vm);
	vmm_destroy(d2.vm);
}

static bool bit(const uint64_t *b, uint64_t page)
{
	return (b[page / 64] >> (page % 64)) & 1;
}

/* rrvm's own writes and restores reach every tracker; an incremental save
 * picks up a vmm_write_phys page; a restore drains KVM's log first. */
static void test_dirty(void)
{
	char kernel[4200];
	struct vmm_error err = { "" };
	struct vmm_pagestore *ps = NULL;
	struct vmm_snapshot *a = NULL, *b = NULL;
	uint64_t *t1, *t2;
	size_t words;
	uint8_t buf[8] = "rrvm!!!!", back[8];
	struct vmm_restore_stats rs;
	const uint64_t gpa = 0x1ff0000;        /* far from anything the guest uses */

	if (sample_path(kernel, sizeof(kernel), "ticks") || det_create(&d1, kernel, MEM, NULL, &err)) {
		ok(0, "ticks: boot: %s", err.msg);
		return;
	}
	words = vmm_dirty_words(d1.vm);
	t1 = calloc(words, 8);
	t2 = calloc(words, 8);
	if (!t1 || !t2 || vmm_pagestore_new(&ps))
		goto out;
	ok(vmm_dirty_track(d1.vm, t1) == 0 && vmm_dirty_track(d1.vm, t2) == 0, "two trackers");
	det_run(&d1, 50);
	ok(vmm_snapshot_save(d1.vm, ps, &a, &err) == 0, "A saved");
	memset(t1, 0, words * 8);
	memset(t2, 0, words * 8);
	ok(vmm_write_phys(d1.vm, gpa, buf, sizeof(buf)) == 0, "rrvm writes guest RAM");
	ok(bit(t1, gpa / 4096) && bit(t2, gpa / 4096), "the write is marked in both trackers");
	ok(vmm_snapshot_save(d1.vm, ps, &b, &err) == 0, "B saved (incremental)");
	ok(vmm_snapshot_restore(d1.vm, a, &rs, &err) == 0, "A restored");
	ok(vmm_read_phys(d1.vm, gpa, back, 8) == 0 && memcmp(back, buf, 8) != 0, "the write is undone");
	memset(t1, 0, words * 8);
	memset(t2, 0, words * 8);
	ok(vmm_snapshot_restore(d1.vm, b, &rs, &err) == 0, "B restored");
	ok(vmm_read_phys(d1.vm, gpa, back, 8) == 0 && memcmp(back, buf, 8) == 0,
	   "B has rrvm's write: the incremental save saw it");
	ok(bit(t1, gpa / 4096) && bit(t2, gpa / 4096), "the restore marked the page it rewrote");
	is_int(rs.pages_written, 1, "only that page was rewritten");

	/* Guest writes after a save and before a restore: drained into the
	 * trackers by the restore, so nothing is left in KVM's log to be
	 * taken later for writes after it. */
	det_run(&d1, 400);
	memset(t1, 0, words * 8);
	ok(vmm_snapshot_restore(d1.vm, b, &rs, &err) == 0, "B restored after the guest ran");
	{
		uint64_t marked = 0, rest = 0;

		for (size_t w = 0; w < words; w++)
			marked += (uint64_t)__builtin_popcountll(t1[w]);
		memset(t1, 0, words * 8);
		ok(vmm_dirty_collect(d1.vm, NULL) == 0, "collect");
		for (size_t w = 0; w < words; w++)
			rest += (uint64_t)__builtin_popcountll(t1[w]);
		ok(marked >= rs.pages_written && marked > 0, "the tracker saw the pages (%llu marked)",
		   (unsigned long long)marked);
		is_int(rest, 0, "KVM's log was drained by the restore");
	}
	vmm_dirty_untrack(d1.vm, t1);
	vmm_dirty_untrack(d1.vm, t2);
out:
	vmm_snapshot_free(a);
	vmm_snapshot_free(b);
	vmm_pagestore_free(ps);
	free(t1);
	free(t2);
	vmm_destroy(d1.vm);
}

static void test_refusals(void)
{
	char kernel[4200];
	struct vmm_error err = { "" };
	struct vmm_pagestore *ps = NULL;
	struct vmm_snapshot *s = NULL;

	if (sample_path(kernel, sizeof(kernel), "hello") || det_create(&d1, kernel, MEM, NULL, &err) ||
	    det_create(&d2, kernel, 2 * MEM, NULL, &err)) {
		ok(0, "hello: boot: %s", err.msg);
		return;
	}
	if (vmm_pagestore_new(&ps) == 0 && vmm_snapshot_save(d1.vm, ps, &s, &err) == 0) {
		ok(vmm_snapshot_restore(d2.vm, s, NULL, &err) == -EINVAL,
		   "a snapshot of a 32 MiB machine is refused by a 64 MiB one");
		ok(strstr(err.msg, "32 MiB") && strstr(err.msg, "64 MiB"), "the message says why: %s",
		   err.msg);
	} else {
		ok(0, "save: %s", err.msg);
	}
	vmm_snapshot_free(s);
	vmm_pagestore_free(ps);
	vmm_destroy(d1.vm);
	vmm_destroy(d2.vm);
}

static void test_mxcsr(void)
{
	char kernel[4200];
	struct vmm_error err = { "" };
	uint8_t fx[512];
	uint32_t mxcsr = 0;

	if (sample_path(kernel, sizeof(kernel), "hello") || det_create(&d1, kernel, MEM, NULL, &err)) {
		ok(0, "hello: boot: %s", err.msg);
		return;
	}
	ok(vmm_get_fpu(d1.vm, fx) == 0, "FPU image read");
	memcpy(&mxcsr, fx + 24, 4);
	is_int(mxcsr, 0x1f80, "MXCSR is 0x1f80 at reset");
	is_int(fx[0] | fx[1] << 8, 0x37f, "FCW is 0x37f at reset");
	vmm_destroy(d1.vm);
}

/* Every part of the vCPU state is saved and put back: set each to an odd
 * value through KVM, save, clobber, restore, read back. */
struct cpu_parts {
	uint64_t msr[5];        /* LSTAR, STAR, SFMASK, KERNEL_GS_BASE, PAT */
	uint64_t dr0, dr7;
	uint32_t mxcsr;
	uint8_t shadow, nmi_pending;
};
static const uint32_t part_msrs[5] = { 0xc0000082, 0xc0000081, 0xc0000084, 0xc0000102, 0x277 };

static int cpu_parts_io(struct vmm *vm, struct cpu_parts *p, bool set)
{
	struct {
		uint32_t nmsrs, pad;
		struct kvm_msr_entry e[5];
	} m = { .nmsrs = 5 };
	struct kvm_debugregs dr;
	struct kvm_xsave xs;
	struct kvm_vcpu_events ev;

	for (int i = 0; i < 5; i++)
		m.e[i] = (struct kvm_msr_entry){ .index = part_msrs[i], .data = p->msr[i] };
	if (ioctl(vm->vcpu_fd, set ? KVM_SET_MSRS : KVM_GET_MSRS, &m) != 5 ||
	    ioctl(vm->vcpu_fd, KVM_GET_DEBUGREGS, &dr) < 0 || ioctl(vm->vcpu_fd, KVM_GET_XSAVE, &xs) < 0 ||
	    ioctl(vm->vcpu_fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return -1;
	if (!set) {
		for (int i = 0; i < 5; i++)
			p->msr[i] = m.e[i].data;
		p->dr0 = dr.db[0];
		p->dr7 = dr.dr7;
		memcpy(&p->mxcsr, (uint8_t *)xs.region + 24, 4);
		p->shadow = ev.interrupt.shadow;
		p->nmi_pending = ev.nmi.pending;
		return 0;
	}
	dr.db[0] = p->dr0;
	dr.dr7 = p->dr7;
	memcpy((uint8_t *)xs.region + 24, &p->mxcsr, 4);
	/* XSTATE_BV: SSE state present, else MXCSR is taken as its default. */
	((uint8_t *)xs.region)[512] |= 2;
	ev.interrupt.shadow = p->shadow;
	ev.nmi.pending = p->nmi_pending;
	ev.flags = KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_NMI_PENDING;
	if (ioctl(vm->vcpu_fd, KVM_SET_DEBUGREGS, &dr) < 0 || ioctl(vm->vcpu_fd, KVM_SET_XSAVE, &xs) < 0 ||
	    ioctl(vm->vcpu_fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
		return -1;
	return 0;
}

static void test_cpu_parts(void)
{
	char kernel[4200];
	struct vmm_error err = { "" };
	struct vmm_pagestore *ps = NULL;
	struct vmm_snapshot *s = NULL;
	struct cpu_parts want = {
		{ 0xffffffff81000000ull, 0x0023001000000000ull, 0x47700, 0xffff888000001000ull,
		  0x0007040600070406ull },
		0x123458, 0x401, 0x1f80 | 0x6000, 1, 1,
	}, other = { { 0x1000, 0, 0, 0, 0x0606060606060606ull }, 0, 0x400, 0x1f80, 0, 0 }, got;

	if (sample_path(kernel, sizeof(kernel), "hello") || det_create(&d1, kernel, MEM, NULL, &err)) {
		ok(0, "hello: boot: %s", err.msg);
		return;
	}
	ok(cpu_parts_io(d1.vm, &want, true) == 0, "MSRs, DR0/DR7, MXCSR, interrupt shadow, NMI set");
	ok(vmm_pagestore_new(&ps) == 0 && vmm_snapshot_save(d1.vm, ps, &s, &err) == 0, "saved");
	ok(cpu_parts_io(d1.vm, &other, true) == 0, "all clobbered");
	ok(s && vmm_snapshot_restore(d1.vm, s, NULL, &err) == 0, "restored");
	memset(&got, 0, sizeof(got));
	ok(cpu_parts_io(d1.vm, &got, false) == 0, "read back");
	for (int i = 0; i < 5; i++)
		is_int(got.msr[i], want.msr[i], "MSR 0x%x comes back", part_msrs[i]);
	is_int(got.dr0, want.dr0, "DR0 comes back");
	is_int(got.dr7 & 0xff, want.dr7 & 0xff, "DR7's enables come back");
	is_int(got.mxcsr, want.mxcsr, "MXCSR comes back");
	is_int(got.shadow, 1, "the interrupt shadow comes back");
	is_int(got.nmi_pending, 1, "the pending NMI comes back");
	{
		uint8_t fx[512];
		uint32_t mx;

		ok(vmm_get_fpu(d1.vm, fx) == 0, "FPU image");
		memcpy(&mx, fx + 24, 4);
		is_int(mx, want.mxcsr, "vmm_get_fpu shows the restored MXCSR");
	}
	diag("MSRs this host's KVM saves: %u", d1.vm->nmsrs);
	vmm_snapshot_free(s);
	vmm_pagestore_free(ps);
	vmm_destroy(d1.vm);
}

static bool step_is_kick(struct vmm *vm)
{
	struct vmm_event ev;
	struct vmm_error err = { "" };

	return vmm_step(vm, &ev, &err) == 0 && ev.kind == VMM_EV_KICK && vmm_take_kick(vm);
}

/* Two machines on one thread; the second destroyed: the first still gets
 * its kicks, sent outside KVM_RUN and from its timer. */
static void test_two_machines_kick(void)
{
	char kernel[4200];
	struct vmm_error err = { "" };
	bool kicked = false;

	if (sample_path(kernel, sizeof(kernel), "hello") || det_create(&d1, kernel, MEM, NULL, &err) ||
	    det_create(&d2, kernel, MEM, NULL, &err)) {
		ok(0, "hello: boot: %s", err.msg);
		return;
	}
	vmm_destroy(d2.vm);
	d2.vm = NULL;
	vmm_kick(d1.vm);
	ok(step_is_kick(d1.vm), "a kick outside KVM_RUN makes the first machine's next step return");
	/* The timer's kick: wait for the signal (no sleep: it is due at once)
	 * by stepping; each step either runs to an exit or sees the kick. */
	ok(vmm_kick_at(d1.vm, 1) == 0, "kick timer armed in the past");
	for (int i = 0; i < 1000 && !kicked; i++) {
		struct vmm_event ev;

		if (vmm_step(d1.vm, &ev, &err))
			break;
		kicked = ev.kind == VMM_EV_KICK && vmm_take_kick(d1.vm);
		if (ev.kind == VMM_EV_GUEST_EXIT || ev.kind == VMM_EV_ERROR)
			break;
	}
	ok(kicked, "the first machine's timer kick arrives");
	vmm_destroy(d1.vm);
}

int main(void)
{
	const char *t = getenv("top_builddir");
	char kernel[4200];

	snprintf(top, sizeof(top), "%s", t ? t : ".");
	if (access("/dev/kvm", R_OK | W_OK) != 0 || sample_path(kernel, sizeof(kernel), "hello")) {
		printf("1..0 # SKIP needs /dev/kvm and %s\n", kernel);
		return 0;
	}
	test_mxcsr();
	test_cpu_parts();
	test_two_machines_kick();
	test_refusals();
	test_dirty();
	test_full_vs_incremental();
	test_shadow_decision();
	test_no_perturbation("ticks", NULL, 1);
	test_no_perturbation("echo", "one\ntwo\nquit\n", 1);
	test_no_perturbation("race", NULL, 5);
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
		test_sample(&samples[i]);
	test_tsc();
	return tap_done();
}
