/*
 * replay_fake.h — a scripted machine behind the replayer's seam, and a
 * small recorder for it, for tests/unit/replayer_test.c.
 *
 * The fake machine (struct fake) is a tiny deterministic guest: a loop of
 * 5 instructions at 0x1000, 0x1004, ...; every 23rd instruction is an OUT
 * (a synchronous exit) that writes a page and sometimes reads the clock
 * into rdx, every 997th a HLT (the recorder lets time pass to the timer); a timer raised by poll_devices; injection folds the vector
 * into rbx; serial input folds into rsi; hardware breakpoints fire before
 * the instruction at their address, again and again without progress, as
 * on the KVM of PLATFORM.md; single steps run one instruction. Every
 * operation that changes or reads the machine is noted, so two runs can
 * be compared operation by operation.
 *
 * The recorder drives the same fake the way vmm's live driver and
 * replay/recorder.c do (polls at exits and at kicks, with a fingerprint;
 * injections after polls, sometimes kicked right after injecting) and
 * writes a real event log, optionally leaving out an event or logging a
 * clock value other than the one the guest saw.
 * Header-only, everything static, like the other fakes here.
 */
#ifndef RRVM_TESTS_REPLAY_FAKE_H
#define RRVM_TESTS_REPLAY_FAKE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay/internal.h"

#define LOOP 5                  /* instructions in the guest's loop */
#define IO_EVERY 23             /* every 23rd instruction is an OUT */
#define HLT_EVERY 997           /* and every 997th a HLT */
#define NPAGES 8
#define VECTOR 0x20

/* ---- the fake machine ----------------------------------------------------- */

/* Everything that defines the guest's future: a snapshot is a copy. */
struct fake_cpu {
	uint64_t icount, rbx, rdx, rsi, exits, deadline;
	uint64_t mem[NPAGES], dirty;
	int pending;
	enum vmm_inject_mode mode;
	struct vmm_debug dbg;
};

struct op {
	int what;
	uint64_t a, b, c;
};

struct fake {
	struct fake_cpu cpu;
	uint64_t end_at;                /* instruction count of the isa-debug-exit */
	uint64_t flaw_at;               /* from this exit on, OUT values differ (0: never) */
	uint64_t miscount_at;           /* a bug: this OUT counts as two exits (0: never) */
	uint64_t budget;                /* record: kick after this many instructions */
	uint64_t (*clock)(void *ctx, enum vmm_clock_kind kind);
	void *clock_ctx;
	struct op *ops;                 /* every operation the replayer made */
	size_t nops, cap;
};

enum { OP_STEP = 1, OP_DEBUG, OP_MODE, OP_POLL, OP_SERIAL, OP_REGS, OP_FP, OP_HASH };

static void note(struct fake *f, int what, uint64_t a, uint64_t b, uint64_t c)
{
	if (f->nops == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 4096;
		f->ops = realloc(f->ops, f->cap * sizeof(*f->ops));
		if (!f->ops)
			abort();
	}
	f->ops[f->nops++] = (struct op){ what, a, b, c };
}

static uint64_t rip_of(const struct fake_cpu *c)
{
	return 0x1000 + 4 * (c->icount % LOOP);
}

static void fill_regs(const struct fake_cpu *c, struct vmm_regs *r)
{
	memset(r, 0, sizeof(*r));
	r->rax = c->icount;
	r->rbx = c->rbx;
	r->rdx = c->rdx;
	r->rsi = c->rsi;
	r->rip = rip_of(c);
	r->rflags = 0x202;
}

static int f_step(void *m, struct vmm_event *ev, struct vmm_error *err)
{
	struct fake *f = m;
	struct fake_cpu *c = &f->cpu;

	(void)err;
	memset(ev, 0, sizeof(*ev));
	ev->injected = -1;
	if (c->mode != VMM_INJECT_HOLD && c->pending >= 0) {
		ev->injected = c->pending;
		c->rbx = c->rbx * 31 + (uint64_t)c->pending + c->icount;
		c->pending = -1;
	}
	for (;;) {
		uint64_t rip = rip_of(c);

		for (int i = 0; i < 4; i++)
			if (c->dbg.hw[i].enabled && c->dbg.hw[i].addr == rip) {
				ev->kind = VMM_EV_DEBUG;
				ev->u.debug.pc = rip;
				ev->u.debug.dr6 = 1ull << i;
				goto out;
			}
		c->icount++;
		if (c->icount == f->end_at) {
			c->exits++;
			ev->kind = VMM_EV_GUEST_EXIT;
			ev->u.exit_value = 3;
			goto out;
		}
		if (c->icount % HLT_EVERY == 0) {
			c->exits++;
			ev->kind = VMM_EV_HLT;
			goto out;
		}
		if (c->icount % IO_EVERY == 0) {
			c->exits++;
			if (f->miscount_at && c->exits == f->miscount_at)
				c->exits++;
			if (c->exits % 3 == 0)
				c->rdx ^= f->clock(f->clock_ctx, VMM_CLOCK_MONOTONIC);
			if (c->exits % 7 == 0)
				c->rdx += f->clock(f->clock_ctx, VMM_CLOCK_REALTIME);
			c->mem[c->exits % NPAGES] = c->icount ^ c->rdx;
			c->dirty |= 1ull << (c->exits % NPAGES);
			ev->kind = VMM_EV_IO;
			ev->u.io.addr = 0x80;
			ev->u.io.size = 1;
			ev->u.io.write = true;
			ev->u.io.value = (c->icount ^ c->rbx ^ c->rsi) & 0xff;
			if (f->flaw_at && c->exits >= f->flaw_at)
				ev->u.io.value ^= 1;
			goto out;
		}
		if (c->dbg.single_step) {
			ev->kind = VMM_EV_DEBUG;
			ev->u.debug.pc = rip_of(c);
			ev->u.debug.dr6 = 1ull << 14;
			goto out;
		}
		if (f->budget && --f->budget == 0) {
			ev->kind = VMM_EV_KICK;
			goto out;
		}
	}
out:
	ev->exits = c->exits;
	ev->rip = rip_of(c);
	note(f, OP_STEP, ev->kind, ev->exits, ev->rip ^ (uint64_t)ev->injected << 32);
	return 0;
}

static uint64_t f_exits(void *m)
{
	return ((struct fake *)m)->cpu.exits;
}

static void f_set_inject_mode(void *m, enum vmm_inject_mode mode)
{
	struct fake *f = m;

	if (f->cpu.mode != mode)
		note(f, OP_MODE, mode, 0, 0);
	f->cpu.mode = mode;
}

static bool f_can_inject(void *m)
{
	struct fake *f = m;

	return f->cpu.mode != VMM_INJECT_HOLD && f->cpu.pending >= 0;
}

static int f_irq_pending(void *m)
{
	return ((struct fake *)m)->cpu.pending;
}

static bool f_guest_if(void *m)
{
	(void)m;
	return true;
}

static int f_set_debug(void *m, const struct vmm_debug *d)
{
	struct fake *f = m;

	if (memcmp(&f->cpu.dbg, d, sizeof(*d)) == 0)
		return 0;       /* changes nothing: not an operation worth comparing */
	f->cpu.dbg = *d;
	note(f, OP_DEBUG, d->single_step, d->hw[3].enabled ? d->hw[3].addr : 0,
	     d->hw[0].enabled ? d->hw[0].addr : 0);
	return 0;
}

static int f_get_regs(void *m, struct vmm_regs *r)
{
	struct fake *f = m;

	fill_regs(&f->cpu, r);
	note(f, OP_REGS, r->rip, r->rax, 0);
	return 0;
}

static int f_dirty_collect(void *m, uint64_t *acc)
{
	struct fake *f = m;

	acc[0] |= f->cpu.dirty;
	f->cpu.dirty = 0;
	return 0;
}

static int f_fp_rest(void *m, const uint64_t *dirty, size_t words, uint64_t *pages, uint32_t max,
		     uint32_t *npages, uint64_t *hash)
{
	struct fake *f = m;
	uint64_t h = 0x72657374;
	uint32_t n = 0;

	(void)words;
	for (unsigned p = 0; p < NPAGES; p++)
		if (dirty[0] & (1ull << p)) {
			if (n == max)
				return -E2BIG;
			pages[n++] = p;
			h = vmm_hash(&f->cpu.mem[p], sizeof(uint64_t), vmm_hash(&p, sizeof(p), h));
		}
	*npages = n;
	*hash = h;
	note(f, OP_FP, n, h, 0);
	return 0;
}

static void f_poll_devices(void *m)
{
	struct fake *f = m;
	uint64_t now = f->clock(f->clock_ctx, VMM_CLOCK_MONOTONIC);

	if (now >= f->cpu.deadline) {
		f->cpu.pending = VECTOR;
		f->cpu.deadline = now + 40000;
	}
	note(f, OP_POLL, now, (uint64_t)f->cpu.pending, 0);
}

static size_t f_serial_rx_push(void *m, const uint8_t *buf, size_t n)
{
	struct fake *f = m;

	for (size_t i = 0; i < n; i++)
		f->cpu.rsi = f->cpu.rsi * 131 + buf[i];
	note(f, OP_SERIAL, n, f->cpu.rsi, 0);
	return n;
}

static int f_state_hash(void *m, uint64_t *hash)
{
	struct fake *f = m;
	struct vmm_regs r;

	fill_regs(&f->cpu, &r);
	*hash = vmm_hash(f->cpu.mem, sizeof(f->cpu.mem), vmm_hash(&r, sizeof(r), 1));
	note(f, OP_HASH, *hash, 0, 0);
	return 0;
}

static void f_kick(void *m)
{
	(void)m;
}

static bool f_take_kick(void *m)
{
	(void)m;
	return false;
}

static const struct replay_machine_ops fake_ops = {
	.step = f_step, .exits = f_exits, .set_inject_mode = f_set_inject_mode,
	.can_inject = f_can_inject, .irq_pending = f_irq_pending, .guest_if = f_guest_if,
	.set_debug = f_set_debug, .get_regs = f_get_regs, .dirty_collect = f_dirty_collect,
	.fp_rest = f_fp_rest, .poll_devices = f_poll_devices, .serial_rx_push = f_serial_rx_push,
	.state_hash = f_state_hash, .kick = f_kick, .take_kick = f_take_kick,
};

static void fake_init(struct fake *f, uint64_t end_at)
{
	memset(f, 0, sizeof(*f));
	f->cpu.pending = -1;
	f->cpu.deadline = 50000;
	f->end_at = end_at;
}

/* ---- the recorder's side -------------------------------------------------- */

struct rec {
	struct fake f;
	struct replay_log_writer *w;
	uint64_t seed, checksum, dirty;
	uint64_t drop_event;            /* leave out event number N (1-based; 0: none) */
	uint64_t bump_clock;            /* add 1 to the Nth clock value logged */
	uint64_t idle;                  /* clock time spent halted */
	uint64_t nevents, nclocks, async_points, kicked_injections, halts;
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static void log_ev(struct rec *rc, const struct replay_event *ev)
{
	if (++rc->nevents == rc->drop_event)
		return;
	if (replay_log_append(rc->w, ev))
		abort();
}

static uint64_t rec_clock(void *ctx, enum vmm_clock_kind kind)
{
	struct rec *rc = ctx;
	struct replay_event ev = { .type = REPLAY_EV_CLOCK };

	ev.clock.kind = (uint8_t)kind;
	ev.clock.value = rc->f.cpu.icount * 1000 + rc->idle + rnd(&rc->seed) % 700 +
			 (kind == VMM_CLOCK_REALTIME ? 1700000000000000000ull : 0);
	log_ev(rc, &ev);
	if (++rc->nclocks == rc->bump_clock)
		return ev.clock.value + 1;      /* the guest saw another value */
	return ev.clock.value;
}

static void rec_poll(struct rec *rc, bool async)
{
	struct replay_event ev;
	uint64_t pages[NPAGES];

	(void)fake_ops.dirty_collect(&rc->f, &rc->dirty);
	if (!async) {
		ev = (struct replay_event){ .type = REPLAY_EV_POLL_SYNC };
		ev.poll_sync.exits = rc->f.cpu.exits;
	} else {
		struct vmm_regs r;
		uint32_t n;

		fill_regs(&rc->f.cpu, &r);
		/* The registers in clear before the point, as rrvm's recorder
		 * logs them (the lookahead folds them into the point). */
		ev = (struct replay_event){ .type = REPLAY_EV_POLL_REGS };
		replay_stride_regs(&r, ev.poll_regs.gpr);
		log_ev(rc, &ev);
		ev = (struct replay_event){ .type = REPLAY_EV_POLL_ASYNC };
		(void)fake_ops.fp_rest(&rc->f, &rc->dirty, 1, pages, NPAGES, &n,
				       &ev.poll_async.mem_hash);
		ev.poll_async.exits = rc->f.cpu.exits;
		ev.poll_async.rip = r.rip;
		ev.poll_async.regs_hash = replay_fp_regs(&r);
		ev.poll_async.npages = n;
		ev.poll_async.pages = pages;
		rc->async_points++;
	}
	rc->dirty = 0;
	log_ev(rc, &ev);
	fake_ops.poll_devices(&rc->f);
	if (rnd(&rc->seed) % 5 == 0) {
		static const uint8_t in[] = "ls -l\n";
		struct replay_event s = { .type = REPLAY_EV_SERIAL_IN };

		s.serial_in.len = sizeof(in) - 1;
		s.serial_in.data = in;
		log_ev(rc, &s);
		fake_ops.serial_rx_push(&rc->f, in, sizeof(in) - 1);
	}
}

/* Record a run of end_at instructions into path. close_log 0 leaves the
 * frame open (a recorder killed after its last flush). */
static int record(const char *path, uint64_t end_at, uint64_t seed, struct rec *rc, int close_log)
{
	struct vmm_event ev;
	struct vmm_error err;

	fake_init(&rc->f, end_at);
	rc->f.clock = rec_clock;
	rc->f.clock_ctx = rc;
	rc->f.cpu.mode = VMM_INJECT_NOW_ONLY;
	rc->seed = seed | 1;
	rc->w = replay_log_writer_create();
	if (!rc->w || replay_log_writer_open(rc->w, path))
		return -1;
	for (;;) {
		if (rnd(&rc->seed) % 3 == 0)
			rc->f.budget = 1 + rnd(&rc->seed) % 40;
		(void)fake_ops.step(&rc->f, &ev, &err);
		if (ev.injected >= 0) {
			struct replay_event e = { .type = REPLAY_EV_INJECT };
			e.inject.exits = replay_inject_exits(&ev);
			e.inject.vector = (uint8_t)ev.injected;
			log_ev(rc, &e);
			if (ev.kind == VMM_EV_KICK)
				rc->kicked_injections++;
		}
		if (replay_event_is_sync(&ev)) {
			rc->checksum = replay_checksum_add(rc->checksum, &ev);
			if (ev.exits % REPLAY_CHECKSUM_EVERY == 0) {
				struct replay_event e = { .type = REPLAY_EV_CHECKSUM };
				e.checksum.exits = ev.exits;
				e.checksum.sum = rc->checksum;
				log_ev(rc, &e);
			}
		}
		if (ev.kind == VMM_EV_GUEST_EXIT) {
			struct replay_event e = { .type = REPLAY_EV_END };
			uint64_t h;

			(void)fake_ops.state_hash(&rc->f, &h);
			e.end.exits = ev.exits;
			e.end.reason = VMM_STOP_GUEST_EXIT;
			e.end.status = ev.u.exit_value;
			e.end.state_hash = h;
			log_ev(rc, &e);
			break;
		}
		if (ev.kind == VMM_EV_HLT && rc->f.cpu.pending < 0) {
			/* Halted: the live driver waits for the timer, then polls. */
			uint64_t now = rc->f.cpu.icount * 1000 + rc->idle;

			if (rc->f.cpu.deadline > now)
				rc->idle += rc->f.cpu.deadline - now;
			rc->halts++;
			rec_poll(rc, false);
		} else if (ev.kind == VMM_EV_KICK)
			rec_poll(rc, true);
		else if (rnd(&rc->seed) % 3 == 0)
			rec_poll(rc, false);
		if (rc->nevents % 50 == 0 && replay_log_flush(rc->w))
			return -1;
	}
	if (close_log ? replay_log_close(rc->w) : replay_log_flush(rc->w))
		return -1;
	replay_log_writer_free(rc->w);
	free(rc->f.ops);
	return 0;
}

#endif
