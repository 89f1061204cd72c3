/*
 * regs.c — registers and memory for gdb, the same on a live guest and a
 * replay: vmm's registers to and from the stub's struct gdb_x86_regs, and
 * guest memory through the introspection view (one address translation in
 * rrvm), with the int3s we planted hidden from reads.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "debug/internal.h"

/* ---- registers ------------------------------------------------------------ */

static void regs_to_gdb(struct gdb_x86_regs *x, const struct vmm_regs *r,
			const struct vmm_sregs *s, const uint8_t fx[512])
{
	uint16_t fcw, fsw, fop;
	uint64_t fip, fdp;
	uint8_t abridged = fx[4];

	memset(x, 0, sizeof(*x));
	x->rax = r->rax, x->rbx = r->rbx, x->rcx = r->rcx, x->rdx = r->rdx;
	x->rsi = r->rsi, x->rdi = r->rdi, x->rbp = r->rbp, x->rsp = r->rsp;
	x->r8 = r->r8, x->r9 = r->r9, x->r10 = r->r10, x->r11 = r->r11;
	x->r12 = r->r12, x->r13 = r->r13, x->r14 = r->r14, x->r15 = r->r15;
	x->rip = r->rip;
	x->eflags = (uint32_t)r->rflags;
	x->cs = s->cs.selector, x->ss = s->ss.selector, x->ds = s->ds.selector;
	x->es = s->es.selector, x->fs = s->fs.selector, x->gs = s->gs.selector;
	for (int i = 0; i < 8; i++)
		memcpy(x->st[i], fx + 32 + 16 * i, 10);
	memcpy(&fcw, fx + 0, 2);
	memcpy(&fsw, fx + 2, 2);
	memcpy(&fop, fx + 6, 2);
	memcpy(&fip, fx + 8, 8);
	memcpy(&fdp, fx + 16, 8);
	x->fctrl = fcw, x->fstat = fsw, x->fop = fop & 0x7ff;
	/* FXSAVE keeps one "not empty" bit per register; gdb shows the full
	 * two-bit tag word, where "empty" is 3. Non-empty shows as valid. */
	x->ftag = 0;
	for (int i = 0; i < 8; i++)
		if (!(abridged & (1u << i)))
			x->ftag |= 3u << (2 * i);
	x->fioff = (uint32_t)fip, x->fiseg = (uint32_t)(fip >> 32);
	x->fooff = (uint32_t)fdp, x->foseg = (uint32_t)(fdp >> 32);
	memcpy(x->xmm, fx + 160, sizeof(x->xmm));
	memcpy(&x->mxcsr, fx + 24, 4);
	x->fs_base = s->fs.base, x->gs_base = s->gs.base, x->k_gs_base = s->kernel_gs_base;
	x->cr0 = s->cr0, x->cr2 = s->cr2, x->cr3 = s->cr3, x->cr4 = s->cr4, x->cr8 = s->cr8;
	x->efer = s->efer;
}

static int read_state(struct debug *d, struct vmm_regs *r, struct vmm_sregs *s, uint8_t fx[512])
{
	int rc = vmm_get_regs(d->vm, r);

	if (!rc)
		rc = vmm_get_sregs(d->vm, s);
	if (!rc)
		rc = vmm_get_fpu(d->vm, fx);
	return rc < 0 ? rc : rc ? -EIO : 0;
}

int debug_read_regs(struct debug *d, struct gdb_x86_regs *regs)
{
	struct vmm_regs r;
	struct vmm_sregs s;
	uint8_t fx[512];
	int rc = read_state(d, &r, &s, fx);

	if (rc)
		return rc;
	regs_to_gdb(regs, &r, &s, fx);
	return 0;
}

/* The x87/SSE part of the register set, from st0 to mxcsr. */
static bool fpu_differs(const struct gdb_x86_regs *a, const struct gdb_x86_regs *b)
{
	size_t from = offsetof(struct gdb_x86_regs, st);
	size_t to = offsetof(struct gdb_x86_regs, mxcsr) + sizeof(a->mxcsr);

	return memcmp((const char *)a + from, (const char *)b + from, to - from) != 0;
}

int debug_write_regs(struct debug *d, const struct gdb_x86_regs *x, char *why, size_t why_size)
{
	struct gdb_x86_regs cur;
	struct vmm_regs r;
	struct vmm_sregs s;
	uint8_t fx[512];
	int rc;

	if (d->read_only) {
		snprintf(why, why_size, "register writes are refused on a replay: the replay would "
			 "no longer be the recorded execution");
		return -EOPNOTSUPP;
	}
	rc = read_state(d, &r, &s, fx);
	if (rc)
		return rc;
	regs_to_gdb(&cur, &r, &s, fx);
	if (x->cs != cur.cs || x->ss != cur.ss || x->ds != cur.ds || x->es != cur.es ||
	    x->fs != cur.fs || x->gs != cur.gs) {
		snprintf(why, why_size, "segment selectors cannot be written (a selector needs its "
			 "descriptor loaded by the guest)");
		return -EINVAL;
	}
	if (fpu_differs(x, &cur) || x->k_gs_base != cur.k_gs_base) {
		snprintf(why, why_size, "x87, SSE and k_gs_base registers cannot be written here");
		return -EOPNOTSUPP;
	}
	r = (struct vmm_regs){
		x->rax, x->rbx, x->rcx, x->rdx, x->rsi, x->rdi, x->rbp, x->rsp,
		x->r8, x->r9, x->r10, x->r11, x->r12, x->r13, x->r14, x->r15,
		x->rip, (r.rflags & ~0xffffffffull) | x->eflags,
	};
	if (x->fs_base != cur.fs_base || x->gs_base != cur.gs_base || x->cr0 != cur.cr0 ||
	    x->cr2 != cur.cr2 || x->cr3 != cur.cr3 || x->cr4 != cur.cr4 || x->cr8 != cur.cr8 ||
	    x->efer != cur.efer) {
		s.fs.base = x->fs_base, s.gs.base = x->gs_base;
		s.cr0 = x->cr0, s.cr2 = x->cr2, s.cr3 = x->cr3, s.cr4 = x->cr4, s.cr8 = x->cr8;
		s.efer = x->efer;
		rc = vmm_set_sregs(d->vm, &s);
		if (rc) {
			snprintf(why, why_size, "KVM refused the system registers (cr0=0x%" PRIx64
				 " cr4=0x%" PRIx64 " efer=0x%" PRIx64 "): %s", s.cr0, s.cr4, s.efer,
				 strerror(-rc));
			return -EINVAL;
		}
		debug_stopped(d);     /* cr3 may have moved the page tables */
	}
	rc = vmm_set_regs(d->vm, &r);
	return rc < 0 ? rc : rc ? -EIO : 0;
}

/* ---- memory -------------------------------------------------------------- */

/* Where the byte at addr is in guest-physical memory, or -EFAULT. */
static int to_gpa(struct debug *d, uint64_t addr, uint64_t *gpa)
{
	char why[128];

	if (d->phys) {
		*gpa = addr;
		return 0;
	}
	return introspect_view_translate(d->view, addr, gpa, why, sizeof(why)) ? -EFAULT : 0;
}

/*
 * Call fn for each of our int3s inside [addr, addr+len), with its offset in
 * the range. The stub never asks for more than one page, but a range that
 * crosses pages is translated page by page all the same.
 */
static void each_sw_in(struct debug *d, uint64_t addr, size_t len,
		       void (*fn)(struct debug *d, struct debug_sw *sw, size_t off, void *ctx),
		       void *ctx)
{
	size_t done = 0;

	while (d->nsw && done < len) {
		uint64_t at = addr + done, gpa;
		size_t n = 4096 - (size_t)(at & 4095);

		if (n > len - done)
			n = len - done;
		if (to_gpa(d, at, &gpa) == 0)
			for (unsigned i = 0; i < d->nsw; i++)
				if (d->sw[i].gpa >= gpa && d->sw[i].gpa < gpa + n)
					fn(d, &d->sw[i], done + (size_t)(d->sw[i].gpa - gpa), ctx);
		done += n;
	}
}

static void hide_one(struct debug *d, struct debug_sw *sw, size_t off, void *buf)
{
	((uint8_t *)buf)[off] = sw->orig;
}

int debug_read_mem(struct debug *d, uint64_t addr, void *buf, size_t len)
{
	int rc = introspect_view_read(d->view, addr, buf, len, d->phys);

	if (rc)
		return -EFAULT;
	each_sw_in(d, addr, len, hide_one, buf);
	return 0;
}

int debug_read_mem_virt(struct debug *d, uint64_t addr, void *buf, size_t len)
{
	bool phys = d->phys;
	int rc;

	d->phys = false;
	rc = debug_read_mem(d, addr, buf, len);
	d->phys = phys;
	return rc;
}

/* gdb wrote over one of our int3s: that is the new original byte, and the
 * int3 goes back on top of it. */
static void keep_one(struct debug *d, struct debug_sw *sw, size_t off, void *buf)
{
	static const uint8_t int3 = 0xcc;

	sw->orig = ((const uint8_t *)buf)[off];
	if (vmm_write_phys(d->vm, sw->gpa, &int3, 1))
		debug_msg(d, "gdb: could not put back the breakpoint at 0x%" PRIx64, sw->addr);
}

int debug_write_mem(struct debug *d, uint64_t addr, const void *buf, size_t len)
{
	if (d->read_only) {
		snprintf(d->why, sizeof(d->why), "memory writes are refused on a replay: the replay "
			 "would no longer be the recorded execution");
		debug_msg(d, "gdb: %s", d->why);
		return -EOPNOTSUPP;
	}
	if (introspect_view_write(d->view, addr, buf, len, d->phys))
		return -EFAULT;
	each_sw_in(d, addr, len, keep_one, (void *)buf);
	return 0;
}


bool debug_at_hlt(struct debug *d, uint64_t rip)
{
	uint8_t op = 0;

	return debug_read_mem_virt(d, rip, &op, 1) == 0 && op == DEBUG_HLT;
}
