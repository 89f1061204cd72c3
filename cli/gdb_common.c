/*
 * gdb_common.c — the parts of rrvm's gdb targets that do not depend on
 * whether the guest is live or replayed: registers between vmm and the
 * stub's struct gdb_x86_regs, guest memory through the introspection view
 * (with our int3s hidden), the monitor commands, and listening/serving.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/gdb_common.h"
#include "cli/monitor_ptdiff.h"

int cli_gdb_init(struct cli_gdb *g, struct vmm *vm, const char *kernel_elf, unsigned hw_slots,
		 bool sw_in_memory, bool read_only)
{
	struct vmm_host_caps caps;
	struct vmm_error err = { "" };

	memset(g, 0, sizeof(*g));
	g->vm = vm;
	g->hw_slots = hw_slots > CLI_GDB_HW_SLOTS ? CLI_GDB_HW_SLOTS : hw_slots;
	g->sw_in_memory = sw_in_memory;
	g->read_only = read_only;
	/* Ask the host rather than assume: hardware KVM traps at CPL3 too. */
	g->cpl3_traps = vmm_probe_host(&caps, &err) == 0 && caps.debug_cpl3;
	g->data_traps = cli_gdb_probe_data_bp();
	g->view = introspect_view_new(vm, kernel_elf);
	return g->view ? 0 : -ENOMEM;
}

void cli_gdb_fini(struct cli_gdb *g)
{
	cli_gdb_remove_all(g);
	introspect_view_free(g->view);
	g->view = NULL;
}

void cli_gdb_stopped(struct cli_gdb *g)
{
	introspect_view_refresh(g->view);
}

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

static int read_state(struct cli_gdb *g, struct vmm_regs *r, struct vmm_sregs *s, uint8_t fx[512])
{
	int rc = vmm_get_regs(g->vm, r);

	if (!rc)
		rc = vmm_get_sregs(g->vm, s);
	if (!rc)
		rc = vmm_get_fpu(g->vm, fx);
	return rc < 0 ? rc : rc ? -EIO : 0;
}

int cli_gdb_read_regs(struct cli_gdb *g, struct gdb_x86_regs *regs)
{
	struct vmm_regs r;
	struct vmm_sregs s;
	uint8_t fx[512];
	int rc = read_state(g, &r, &s, fx);

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

int cli_gdb_write_regs(struct cli_gdb *g, const struct gdb_x86_regs *x)
{
	struct gdb_x86_regs cur;
	struct vmm_regs r;
	struct vmm_sregs s;
	uint8_t fx[512];
	int rc;

	if (g->read_only) {
		cli_msg("gdb: register writes are refused on a replay: the replay would no longer "
			"be the recorded execution");
		return -EOPNOTSUPP;
	}
	rc = read_state(g, &r, &s, fx);
	if (rc)
		return rc;
	regs_to_gdb(&cur, &r, &s, fx);
	if (x->cs != cur.cs || x->ss != cur.ss || x->ds != cur.ds || x->es != cur.es ||
	    x->fs != cur.fs || x->gs != cur.gs) {
		cli_msg("gdb: segment selectors cannot be written (a selector needs its descriptor "
			"loaded by the guest)");
		return -EINVAL;
	}
	if (fpu_differs(x, &cur) || x->k_gs_base != cur.k_gs_base) {
		cli_msg("gdb: x87, SSE and k_gs_base registers cannot be written here");
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
		rc = vmm_set_sregs(g->vm, &s);
		if (rc) {
			cli_msg("gdb: KVM refused the system registers (cr0=0x%" PRIx64 " cr4=0x%"
				PRIx64 " efer=0x%" PRIx64 "): %s", s.cr0, s.cr4, s.efer, strerror(-rc));
			return -EINVAL;
		}
		cli_gdb_stopped(g);     /* cr3 may have moved the page tables */
	}
	rc = vmm_set_regs(g->vm, &r);
	return rc < 0 ? rc : rc ? -EIO : 0;
}

/* ---- memory -------------------------------------------------------------- */

/* Where the byte at addr is in guest-physical memory, or -EFAULT. */
static int to_gpa(struct cli_gdb *g, uint64_t addr, uint64_t *gpa)
{
	char why[128];

	if (g->phys) {
		*gpa = addr;
		return 0;
	}
	return introspect_view_translate(g->view, addr, gpa, why, sizeof(why)) ? -EFAULT : 0;
}

/*
 * Call fn for each of our int3s inside [addr, addr+len), with its offset in
 * the range. The stub never asks for more than one page, but a range that
 * crosses pages is translated page by page all the same.
 */
static void each_sw_in(struct cli_gdb *g, uint64_t addr, size_t len,
		       void (*fn)(struct cli_gdb *g, struct cli_gdb_sw *sw, size_t off, void *ctx),
		       void *ctx)
{
	size_t done = 0;

	while (g->nsw && done < len) {
		uint64_t at = addr + done, gpa;
		size_t n = 4096 - (size_t)(at & 4095);

		if (n > len - done)
			n = len - done;
		if (to_gpa(g, at, &gpa) == 0)
			for (unsigned i = 0; i < g->nsw; i++)
				if (g->sw[i].gpa >= gpa && g->sw[i].gpa < gpa + n)
					fn(g, &g->sw[i], done + (size_t)(g->sw[i].gpa - gpa), ctx);
		done += n;
	}
}

static void hide_one(struct cli_gdb *g, struct cli_gdb_sw *sw, size_t off, void *buf)
{
	((uint8_t *)buf)[off] = sw->orig;
}

int cli_gdb_read_mem(struct cli_gdb *g, uint64_t addr, void *buf, size_t len)
{
	int rc = introspect_view_read(g->view, addr, buf, len, g->phys);

	if (rc)
		return -EFAULT;
	each_sw_in(g, addr, len, hide_one, buf);
	return 0;
}

int cli_gdb_read_mem_virt(struct cli_gdb *g, uint64_t addr, void *buf, size_t len)
{
	bool phys = g->phys;
	int rc;

	g->phys = false;
	rc = cli_gdb_read_mem(g, addr, buf, len);
	g->phys = phys;
	return rc;
}

/* gdb wrote over one of our int3s: that is the new original byte, and the
 * int3 goes back on top of it. */
static void keep_one(struct cli_gdb *g, struct cli_gdb_sw *sw, size_t off, void *buf)
{
	static const uint8_t int3 = 0xcc;

	sw->orig = ((const uint8_t *)buf)[off];
	if (vmm_write_phys(g->vm, sw->gpa, &int3, 1))
		cli_msg("gdb: could not put back the breakpoint at 0x%" PRIx64, sw->addr);
}

int cli_gdb_write_mem(struct cli_gdb *g, uint64_t addr, const void *buf, size_t len)
{
	if (g->read_only) {
		cli_msg("gdb: memory writes are refused on a replay: the replay would no longer be "
			"the recorded execution");
		return -EOPNOTSUPP;
	}
	if (introspect_view_write(g->view, addr, buf, len, g->phys))
		return -EFAULT;
	each_sw_in(g, addr, len, keep_one, (void *)buf);
	return 0;
}

/* ---- interrupt handlers ------------------------------------------------------- */

int cli_gdb_handler_of(struct cli_gdb *g, int vector, uint64_t *addr)
{
	struct introspect_gate gate;
	struct vmm_sregs s;
	uint8_t b[16];
	bool lm;
	unsigned size;

	if (vector < 0 || vector > 255 || vmm_get_sregs(g->vm, &s))
		return -ENOENT;
	if (!(s.cr0 & 1)) {
		uint16_t ivt[2];        /* real mode: offset, segment */

		if (introspect_view_read(g->view, s.idt_base + 4u * (unsigned)vector, ivt, 4, 1))
			return -EFAULT;
		*addr = ((uint64_t)ivt[1] << 4) + ivt[0];
		return 0;
	}
	lm = (s.efer & (1u << 10)) != 0;        /* EFER.LMA */
	size = lm ? 16 : 8;
	if ((unsigned)vector * size + size - 1 > s.idt_limit)
		return -ENOENT;
	if (introspect_view_read(g->view, s.idt_base + (uint64_t)vector * size, b, size, 0))
		return -EFAULT;
	if (introspect_decode_gate(b, size, lm, &gate) < 0 || !gate.p)
		return -ENOENT;
	*addr = gate.offset;
	return 0;
}

/* ---- monitor ---------------------------------------------------------------- */

struct mon_sink {
	gdb_output_fn out;
	void *ctx;
};

static void mon_write(void *ctx, const char *s, size_t len)
{
	struct mon_sink *m = ctx;

	m->out(m->ctx, s, len);
}

static void print_rflags(struct introspect_out *o, uint64_t f)
{
	static const struct { unsigned bit; const char *name; } bits[] = {
		{ 0, "CF" }, { 2, "PF" }, { 4, "AF" }, { 6, "ZF" }, { 7, "SF" }, { 8, "TF" },
		{ 9, "IF" }, { 10, "DF" }, { 11, "OF" }, { 14, "NT" }, { 16, "RF" }, { 17, "VM" },
		{ 18, "AC" }, { 19, "VIF" }, { 20, "VIP" }, { 21, "ID" },
	};

	introspect_printf(o, "rflags=0x%" PRIx64, f);
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		if (f & (1ull << bits[i].bit))
			introspect_printf(o, " %s", bits[i].name);
	introspect_printf(o, " IOPL=%u\n", (unsigned)(f >> 12) & 3);
}

static void print_seg(struct introspect_out *o, const char *name, const struct vmm_segment *s)
{
	introspect_printf(o, "%-4s sel=0x%04x base=0x%016" PRIx64 " limit=0x%08" PRIx32
			  " type=0x%x s=%u dpl=%u p=%u l=%u db=%u g=%u\n", name, s->selector, s->base,
			  s->limit, s->type, s->s, s->dpl, s->present, s->l, s->db, s->g);
}

static int monitor_regs(struct cli_gdb *g, struct introspect_out *o)
{
	struct vmm_regs r;
	struct vmm_sregs s;
	struct introspect_cpu cpu = { 0 };
	int rc = vmm_get_regs(g->vm, &r);

	if (!rc)
		rc = vmm_get_sregs(g->vm, &s);
	if (rc) {
		introspect_printf(o, "cannot read the vCPU registers: %s\n", strerror(-rc));
		return rc < 0 ? rc : -EIO;
	}
	cpu = (struct introspect_cpu){ .cr0 = s.cr0, .cr3 = s.cr3, .cr4 = s.cr4, .efer = s.efer };
	introspect_printf(o, "rip=0x%016" PRIx64 " cpl=%u\n", r.rip,
			  (s.cr0 & 1) ? s.cs.selector & 3u : 0u);
	print_rflags(o, r.rflags);
	print_seg(o, "cs", &s.cs), print_seg(o, "ss", &s.ss), print_seg(o, "ds", &s.ds);
	print_seg(o, "es", &s.es), print_seg(o, "fs", &s.fs), print_seg(o, "gs", &s.gs);
	print_seg(o, "tr", &s.tr), print_seg(o, "ldt", &s.ldt);
	introspect_printf(o, "gdtr base=0x%016" PRIx64 " limit=0x%04x\n", s.gdt_base, s.gdt_limit);
	introspect_printf(o, "idtr base=0x%016" PRIx64 " limit=0x%04x\n", s.idt_base, s.idt_limit);
	introspect_format_reg(INTROSPECT_CR0, s.cr0, s.cr4, o);
	introspect_printf(o, "cr2=0x%" PRIx64 "\n", s.cr2);
	introspect_format_reg(INTROSPECT_CR3, s.cr3, s.cr4, o);
	introspect_format_reg(INTROSPECT_CR4, s.cr4, s.cr4, o);
	introspect_printf(o, "cr8=0x%" PRIx64 "\n", s.cr8);
	introspect_format_reg(INTROSPECT_EFER, s.efer, s.cr4, o);
	introspect_printf(o, "fs_base=0x%" PRIx64 " gs_base=0x%" PRIx64 " k_gs_base=0x%" PRIx64 "\n",
			  s.fs.base, s.gs.base, s.kernel_gs_base);
	introspect_printf(o, "apic_base=0x%" PRIx64 "\n", s.apic_base);
	introspect_printf(o, "paging: %s\n", introspect_paging_name(introspect_paging_mode(&cpu)));
	return 0;
}

/* The word at *p (skipping blanks), advancing *p past it; length in *len. */
static const char *word(const char **p, size_t *len)
{
	const char *s = *p;

	while (*s == ' ' || *s == '\t')
		s++;
	*len = strcspn(s, " \t");
	*p = s + *len;
	return s;
}

static bool is_word(const char *w, size_t len, const char *name)
{
	return len == strlen(name) && strncmp(w, name, len) == 0;
}

static int monitor_translate(struct cli_gdb *g, const char *arg, struct introspect_out *o)
{
	char *end, why[256] = "";
	uint64_t va, pa;

	while (*arg == ' ' || *arg == '\t')
		arg++;
	errno = 0;
	va = strtoull(arg, &end, 0);
	if (end == arg || *end || errno) {
		introspect_printf(o, "usage: monitor translate VA (a number, e.g. 0x100000)\n");
		return -EINVAL;
	}
	if (introspect_view_translate(g->view, va, &pa, why, sizeof(why))) {
		introspect_printf(o, "0x%" PRIx64 ": %s\n", va, why[0] ? why : "not mapped");
		return -EFAULT;
	}
	introspect_printf(o, "0x%" PRIx64 " -> 0x%" PRIx64 "\n", va, pa);
	return 0;
}

static const char monitor_help[] =
	"help                 this list\n"
	"regs                 every vCPU register, system registers decoded\n"
	"phys [on|off]        memory accesses take physical (on) or virtual (off) addresses\n"
	"position             where the guest is: exit count (and replay events)\n";

int cli_gdb_monitor(struct cli_gdb *g, const char *cmd, gdb_output_fn out, void *out_ctx)
{
	struct mon_sink sink = { out, out_ctx };
	struct introspect_out o;
	const char *p = cmd, *w, *arg;
	size_t n, an;

	introspect_out_callback(&o, mon_write, &sink);
	w = word(&p, &n);
	if (n == 0 || is_word(w, n, "help")) {
		introspect_printf(&o, "%s%s%s", monitor_help, introspect_view_help(),
				  g->recording_dir ? CLI_MONITOR_PTDIFF_HELP : "");
		return 0;
	}
	if (is_word(w, n, "pt-diff")) {
		if (!g->recording_dir) {
			introspect_printf(&o, "pt-diff compares two positions of a recording: "
					  "use it under rrvm replay --gdb\n");
			return -EOPNOTSUPP;
		}
		return cli_monitor_ptdiff(g->recording_dir, p, &o);
	}
	if (is_word(w, n, "regs"))
		return monitor_regs(g, &o);
	if (is_word(w, n, "phys")) {
		arg = word(&p, &an);
		if (an && (is_word(arg, an, "on") || is_word(arg, an, "off"))) {
			g->phys = is_word(arg, an, "on");
		} else if (an) {
			introspect_printf(&o, "usage: monitor phys [on|off]\n");
			return -EINVAL;
		}
		introspect_printf(&o, "memory accesses use %s addresses\n",
				  g->phys ? "guest-physical" : "guest-virtual");
		return 0;
	}
	if (is_word(w, n, "position")) {
		if (g->position)
			g->position(g->position_ctx, &o);
		return 0;
	}
	if (introspect_view_command(g->view, cmd, &o))
		return 0;
	if (is_word(w, n, "translate"))
		return monitor_translate(g, p, &o);
	introspect_printf(&o, "unknown monitor command '%.*s'; 'monitor help' lists them\n",
			  (int)n, w);
	return -EINVAL;
}

/* ---- serving ---------------------------------------------------------------- */

static void log_msg(void *ctx, enum gdb_log_level level, const char *msg)
{
	const bool *quiet = ctx;

	if (!*quiet || level != GDB_LOG_INFO)
		cli_msg("%s", msg);
}

/* Tell the user how to connect (the stub has said where it listens). */
static void announce(struct gdb_server *srv, const char *addr, const struct gdb_target *t)
{
	const char *colon = strrchr(addr, ':');
	const char *file = t->exec_file ? t->exec_file : "KERNEL";
	int port = gdb_server_port(srv);
	char where[600];

	if (strncmp(addr, "unix:", 5) == 0 || port < 0)
		snprintf(where, sizeof(where), "%s", strncmp(addr, "unix:", 5) ? addr : addr + 5);
	else if (!colon || colon == addr)
		snprintf(where, sizeof(where), "127.0.0.1:%d", port);
	else
		snprintf(where, sizeof(where), "%.*s:%d", (int)(colon - addr), addr, port);
	cli_msg("gdb: the guest waits before its first instruction; connect with: gdb %s -ex "
		"'target remote %s'", file, where);
}

int cli_gdb_serve(const struct gdb_target *t, const char *addr, bool quiet, bool *bad_addr)
{
	struct gdb_server_options so = { .log = log_msg, .log_ctx = &quiet };
	struct gdb_server *srv = gdb_server_create(t, &so);
	int rc;

	*bad_addr = false;
	if (!srv) {
		cli_msg("gdb: cannot create the server: %s", strerror(errno));
		return -errno;
	}
	rc = gdb_server_listen(srv, addr);
	if (rc) {
		cli_msg("gdb: cannot listen on %s: %s", addr, strerror(-rc));
		gdb_server_destroy(srv);
		*bad_addr = true;
		return rc;
	}
	if (!quiet)
		announce(srv, addr, t);
	rc = gdb_server_serve(srv);
	if (rc < 0)
		cli_msg("gdb: serving on %s failed: %s", addr, strerror(-rc));
	gdb_server_destroy(srv);
	return rc;
}
