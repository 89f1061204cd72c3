/*
 * gdb_bp.c — gdb's breakpoints and watchpoints on the machine.
 *
 * Hardware breakpoints and watchpoints live in the four debug registers
 * (three on a replay, whose replayer keeps DR3 for finding interrupt
 * points); one more gets -ENOSPC, which the stub turns into E28. A
 * watchpoint that is not one aligned 1, 2, 4 or 8 byte unit takes as many
 * registers as it needs.
 *
 * Software breakpoints (Z0) on a live guest are int3 bytes planted in guest
 * memory at the physical address the breakpoint's virtual address maps to
 * when it is inserted (gdb inserts its breakpoints at each resume and
 * removes them at each stop, so mappings cannot drift far); one at an
 * address not mapped yet takes a debug register. On a replay Z0 always
 * takes a debug register: writing guest memory would make the replay
 * diverge.
 *
 * Where the debug registers do not catch data accesses (this project's
 * KVM backend emulates kernel-mode code and checks only instruction
 * breakpoints; gdb_probe.c finds out), a write watchpoint is kept in
 * software: the targets single-step and compare the watched bytes after
 * every instruction. Read and access watchpoints cannot be done that way
 * and are refused.
 *
 * Nor can this host trap debug events in guest user mode (PLATFORM.md;
 * cli_gdb.cpl3_traps says what the probe found). A breakpoint in a page
 * the kernel cannot execute (user page with CR4.SMEP) would never fire, so
 * it is refused with a message; one in a user page the kernel may run is
 * accepted with a warning.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/gdb_common.h"

#define DR6_BS (1ull << 14)
#define CR4_SMEP (1ull << 20)
#define INT3 0xcc

static bool is_watch(enum gdb_bp_type t)
{
	return t == GDB_WATCH_WRITE || t == GDB_WATCH_READ || t == GDB_WATCH_ACCESS;
}

/* Virtual to physical through the view (never physical mode: rip and the
 * debug registers are virtual). */
static int translate(struct cli_gdb *g, uint64_t va, uint64_t *pa)
{
	char why[128];

	return introspect_view_translate(g->view, va, pa, why, sizeof(why)) ? -EFAULT : 0;
}

static int read_phys(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	return vmm_read_phys(ctx, gpa, buf, len);
}

/* Refuse (with msg) an instruction breakpoint that only user mode can reach
 * on a host that cannot trap there; warn about one that mostly will be. */
static int check_user_mode(struct cli_gdb *g, uint64_t addr, char *msg, size_t msg_size)
{
	struct introspect_mem mem = { read_phys, g->vm };
	struct introspect_cpu cpu;
	struct introspect_walk w;
	struct vmm_sregs s;

	if (g->cpl3_traps || vmm_get_sregs(g->vm, &s))
		return 0;
	cpu = (struct introspect_cpu){ .cr0 = s.cr0, .cr3 = s.cr3, .cr4 = s.cr4, .efer = s.efer };
	/* Paging off: no user pages; an unmapped page cannot be judged yet. */
	if (introspect_translate(&cpu, &mem, addr, &w) || w.mode == INTROSPECT_PAGING_NONE ||
	    !(w.flags & INTROSPECT_F_U))
		return 0;
	if (s.cr4 & CR4_SMEP) {
		snprintf(msg, msg_size, "0x%" PRIx64 " is in a user-mode page (CR4.SMEP keeps the "
			 "kernel out): this host's KVM cannot trap breakpoints in guest user mode "
			 "(CPL3; see rrvm doctor)", addr);
		return -EOPNOTSUPP;
	}
	cli_msg("gdb: breakpoint at 0x%" PRIx64 " is in a user-accessible page: it fires only when "
		"the kernel runs it; this host cannot trap in guest user mode (CPL3)", addr);
	return 0;
}

/* ---- software breakpoints ------------------------------------------------- */

static struct cli_gdb_sw *find_sw(struct cli_gdb *g, uint64_t addr)
{
	for (unsigned i = 0; i < g->nsw; i++)
		if (g->sw[i].addr == addr)
			return &g->sw[i];
	return NULL;
}

/* Another of our int3s on the same byte (two virtual aliases)? */
static const struct cli_gdb_sw *same_byte(const struct cli_gdb *g, const struct cli_gdb_sw *sw)
{
	for (unsigned i = 0; i < g->nsw; i++)
		if (&g->sw[i] != sw && g->sw[i].gpa == sw->gpa)
			return &g->sw[i];
	return NULL;
}

static int insert_sw(struct cli_gdb *g, uint64_t addr, char *msg, size_t msg_size)
{
	static const uint8_t int3 = INT3;
	struct cli_gdb_sw *sw;
	const struct cli_gdb_sw *alias;
	char why[128] = "";
	int rc;

	if (find_sw(g, addr))
		return 0;
	if (g->nsw == CLI_GDB_MAX_SW) {
		snprintf(msg, msg_size, "%d software breakpoints are planted already", CLI_GDB_MAX_SW);
		return -ENOSPC;
	}
	sw = &g->sw[g->nsw];
	sw->addr = addr;
	if (g->phys)
		sw->gpa = addr;
	else if (introspect_view_translate(g->view, addr, &sw->gpa, why, sizeof(why))) {
		snprintf(msg, msg_size, "0x%" PRIx64 " is not mapped: %s", addr, why);
		return -EFAULT;
	}
	alias = same_byte(g, sw);
	if (alias) {
		sw->orig = alias->orig;
	} else {
		rc = vmm_read_phys(g->vm, sw->gpa, &sw->orig, 1);
		if (!rc)
			rc = vmm_write_phys(g->vm, sw->gpa, &int3, 1);
		if (rc) {
			snprintf(msg, msg_size, "physical address 0x%" PRIx64 " of 0x%" PRIx64
				 " is outside guest RAM", sw->gpa, addr);
			return -EFAULT;
		}
	}
	g->nsw++;
	return 0;
}

static int remove_sw(struct cli_gdb *g, uint64_t addr)
{
	struct cli_gdb_sw *sw = find_sw(g, addr);
	int rc = 0;

	if (!sw)
		return 0;
	if (!same_byte(g, sw) && vmm_write_phys(g->vm, sw->gpa, &sw->orig, 1))
		rc = -EFAULT;
	*sw = g->sw[--g->nsw];
	return rc;
}

int cli_gdb_sw_lift(struct cli_gdb *g, uint64_t rip, bool lift)
{
	static const uint8_t int3 = INT3;
	uint64_t pa;

	if (!g->nsw || translate(g, rip, &pa))
		return 0;
	for (unsigned i = 0; i < g->nsw; i++)
		if (g->sw[i].gpa == pa &&
		    vmm_write_phys(g->vm, pa, lift ? &g->sw[i].orig : &int3, 1))
			return -EFAULT;
	return 0;
}

bool cli_gdb_sw_hit(struct cli_gdb *g, uint64_t rip)
{
	uint64_t pa;
	uint8_t byte;

	if (!g->nsw || translate(g, rip, &pa) || vmm_read_phys(g->vm, pa, &byte, 1) || byte != INT3)
		return false;
	for (unsigned i = 0; i < g->nsw; i++)
		if (g->sw[i].gpa == pa)
			return true;
	return false;
}

/* ---- debug registers ---------------------------------------------------- */

static unsigned free_slots(const struct cli_gdb *g)
{
	unsigned n = 0;

	for (unsigned i = 0; i < g->hw_slots; i++)
		n += !g->hw[i].used;
	return n;
}

/* Split [addr, addr+len) into aligned 1/2/4/8-byte units: their number
 * (at most max are stored), as the debug registers can only watch those. */
static unsigned split(uint64_t addr, uint64_t len, uint64_t *ua, unsigned *ul, unsigned max)
{
	unsigned n = 0;

	while (len > 0) {
		unsigned size = 8;

		while (size > 1 && ((addr & (size - 1)) || size > len))
			size /= 2;
		if (n < max)
			ua[n] = addr, ul[n] = size;
		n++;
		addr += size;
		len -= size;
	}
	return n;
}

static const char *slots_note(const struct cli_gdb *g)
{
	return g->hw_slots < CLI_GDB_HW_SLOTS ? " (a replay leaves gdb 3 of the 4: the replayer "
						"uses one to find interrupt points)" : "";
}

static int insert_hw(struct cli_gdb *g, enum gdb_bp_type type, uint64_t addr, uint64_t len,
		     char *msg, size_t msg_size)
{
	uint64_t ua[CLI_GDB_HW_SLOTS];
	unsigned ul[CLI_GDB_HW_SLOTS], n, j = 0;

	if (g->phys) {
		snprintf(msg, msg_size, "debug registers take virtual addresses: 'monitor phys off' "
			 "first");
		return -EINVAL;
	}
	for (unsigned i = 0; i < g->hw_slots; i++)
		if (g->hw[i].used && g->hw[i].type == type && g->hw[i].z_addr == addr &&
		    g->hw[i].z_len == len)
			return 0;       /* already there */
	if (len == 0 || len > 64) {
		snprintf(msg, msg_size, "cannot watch %" PRIu64 " bytes at 0x%" PRIx64
			 " with debug registers", len, addr);
		return -EINVAL;
	}
	n = is_watch(type) ? split(addr, len, ua, ul, CLI_GDB_HW_SLOTS) : 1;
	if (!is_watch(type))
		ua[0] = addr, ul[0] = 1;
	if (n > free_slots(g)) {
		if (n == 1)
			snprintf(msg, msg_size, "all %u debug registers are in use%s", g->hw_slots,
				 slots_note(g));
		else
			snprintf(msg, msg_size, "watching %" PRIu64 " bytes at 0x%" PRIx64 " needs %u "
				 "debug registers, %u are free%s", len, addr, n, free_slots(g),
				 slots_note(g));
		return -ENOSPC;
	}
	for (unsigned i = 0; i < g->hw_slots && j < n; i++) {
		if (g->hw[i].used)
			continue;
		g->hw[i] = (struct cli_gdb_hw){ true, type, ua[j], ul[j], addr, len };
		j++;
	}
	return 0;
}

static void remove_hw(struct cli_gdb *g, enum gdb_bp_type type, uint64_t addr, uint64_t len)
{
	for (unsigned i = 0; i < g->hw_slots; i++)
		if (g->hw[i].used && g->hw[i].type == type && g->hw[i].z_addr == addr &&
		    (!is_watch(type) || g->hw[i].z_len == len))
			g->hw[i].used = false;
}

/* ---- watchpoints by single-stepping ---------------------------------------- */

static void soft_read(struct cli_gdb *g, struct cli_gdb_soft *w)
{
	w->mapped = introspect_view_read(g->view, w->addr, w->old, w->len, w->phys) == 0;
}

static int insert_soft(struct cli_gdb *g, enum gdb_bp_type type, uint64_t addr, uint64_t len,
		       char *msg, size_t msg_size)
{
	struct cli_gdb_soft *w = NULL;

	if (type != GDB_WATCH_WRITE) {
		snprintf(msg, msg_size, "this host's KVM does not stop on data breakpoints in guest "
			 "kernel mode, and read or access watchpoints cannot be emulated (write "
			 "watchpoints are, by single-stepping)");
		return -EOPNOTSUPP;
	}
	if (len == 0 || len > CLI_GDB_SOFT_WATCH_MAX) {
		snprintf(msg, msg_size, "cannot watch %" PRIu64 " bytes at 0x%" PRIx64 " (at most %d)",
			 len, addr, CLI_GDB_SOFT_WATCH_MAX);
		return -EINVAL;
	}
	for (unsigned i = 0; i < CLI_GDB_SOFT_WATCHES; i++) {
		if (g->soft[i].used && g->soft[i].addr == addr && g->soft[i].len == len)
			return 0;
		if (!g->soft[i].used && !w)
			w = &g->soft[i];
	}
	if (!w) {
		snprintf(msg, msg_size, "%d watchpoints are set already", CLI_GDB_SOFT_WATCHES);
		return -ENOSPC;
	}
	*w = (struct cli_gdb_soft){ .used = true, .phys = g->phys, .addr = addr, .len = len };
	soft_read(g, w);
	if (!g->told_soft) {
		cli_msg("gdb: this host's KVM does not stop on data breakpoints in guest kernel mode: "
			"write watchpoints work by single-stepping the guest and comparing (slow)");
		g->told_soft = true;
	}
	return 0;
}

bool cli_gdb_soft_watching(const struct cli_gdb *g)
{
	for (unsigned i = 0; i < CLI_GDB_SOFT_WATCHES; i++)
		if (g->soft[i].used)
			return true;
	return false;
}

void cli_gdb_soft_snapshot(struct cli_gdb *g)
{
	for (unsigned i = 0; i < CLI_GDB_SOFT_WATCHES; i++)
		if (g->soft[i].used)
			soft_read(g, &g->soft[i]);
}

bool cli_gdb_soft_check(struct cli_gdb *g, struct gdb_stop *stop)
{
	uint8_t now[CLI_GDB_SOFT_WATCH_MAX];

	for (unsigned i = 0; i < CLI_GDB_SOFT_WATCHES; i++) {
		struct cli_gdb_soft *w = &g->soft[i];
		bool mapped;

		if (!w->used)
			continue;
		mapped = introspect_view_read(g->view, w->addr, now, w->len, w->phys) == 0;
		if (mapped == w->mapped && (!mapped || memcmp(now, w->old, w->len) == 0))
			continue;
		w->mapped = mapped;
		memcpy(w->old, now, w->len);
		*stop = (struct gdb_stop){ .kind = GDB_STOP_WATCH, .signal = GDB_SIGTRAP,
					   .addr = w->addr };
		return true;
	}
	return false;
}

int cli_gdb_insert_bp(struct cli_gdb *g, enum gdb_bp_type type, uint64_t addr, uint64_t kind,
		      char *msg, size_t msg_size)
{
	int rc;

	switch (type) {
	case GDB_BP_SW:
	case GDB_BP_HW:
		rc = g->phys ? 0 : check_user_mode(g, addr, msg, msg_size);
		if (rc)
			return rc;
		if (type == GDB_BP_SW && g->sw_in_memory) {
			uint64_t pa;

			/* Not mapped yet (a higher-half kernel before it turns
			 * paging on): no byte to plant an int3 in, but a debug
			 * register watches the virtual address all the same. */
			if (g->phys || translate(g, addr, &pa) == 0 || free_slots(g) == 0)
				return insert_sw(g, addr, msg, msg_size);
			cli_msg("gdb: 0x%" PRIx64 " is not mapped yet: breakpoint set in a debug "
				"register", addr);
		}
		return insert_hw(g, type, addr, 1, msg, msg_size);
	case GDB_WATCH_WRITE:
	case GDB_WATCH_READ:
	case GDB_WATCH_ACCESS:
		if (!g->data_traps)
			return insert_soft(g, type, addr, kind, msg, msg_size);
		return insert_hw(g, type, addr, kind, msg, msg_size);
	}
	snprintf(msg, msg_size, "unknown breakpoint type %d", (int)type);
	return -EINVAL;
}

int cli_gdb_remove_bp(struct cli_gdb *g, enum gdb_bp_type type, uint64_t addr, uint64_t kind,
		      char *msg, size_t msg_size)
{
	if (type == GDB_BP_SW && g->sw_in_memory && find_sw(g, addr)) {
		int rc = remove_sw(g, addr);
		if (rc)
			snprintf(msg, msg_size, "could not restore the byte under the int3 at 0x%"
				 PRIx64, addr);
		return rc;
	}
	if (type > GDB_WATCH_ACCESS) {
		snprintf(msg, msg_size, "unknown breakpoint type %d", (int)type);
		return -EINVAL;
	}
	for (unsigned i = 0; i < CLI_GDB_SOFT_WATCHES; i++)
		if (is_watch(type) && g->soft[i].used && g->soft[i].addr == addr &&
		    g->soft[i].len == kind)
			g->soft[i].used = false;
	remove_hw(g, type, addr, is_watch(type) ? kind : 1);
	return 0;
}

void cli_gdb_remove_all(struct cli_gdb *g)
{
	while (g->nsw > 0)
		if (remove_sw(g, g->sw[g->nsw - 1].addr))
			cli_msg("gdb: could not restore the byte under the int3 at 0x%" PRIx64,
				g->sw[g->nsw].addr);
	for (unsigned i = 0; i < CLI_GDB_HW_SLOTS; i++)
		g->hw[i].used = false;
	for (unsigned i = 0; i < CLI_GDB_SOFT_WATCHES; i++)
		g->soft[i].used = false;
}

void cli_gdb_debug(const struct cli_gdb *g, uint64_t skip_at, bool single_step,
		   struct vmm_debug *d)
{
	memset(d, 0, sizeof(*d));
	d->single_step = single_step;
	d->sw_breakpoints = g->sw_in_memory && g->nsw > 0;
	for (unsigned i = 0; i < g->hw_slots; i++) {
		const struct cli_gdb_hw *h = &g->hw[i];

		if (!h->used || (!is_watch(h->type) && h->addr == skip_at))
			continue;
		d->hw[i].enabled = true;
		d->hw[i].addr = h->addr;
		d->hw[i].len = h->len;
		d->hw[i].type = h->type == GDB_WATCH_WRITE ? 1 : is_watch(h->type) ? 3 : 0;
	}
}

bool cli_gdb_bp_at(struct cli_gdb *g, uint64_t rip)
{
	for (unsigned i = 0; i < g->hw_slots; i++)
		if (g->hw[i].used && !is_watch(g->hw[i].type) && g->hw[i].addr == rip)
			return true;
	return cli_gdb_sw_hit(g, rip);
}

bool cli_gdb_explain_debug(struct cli_gdb *g, const struct vmm_event *ev, bool stepping,
			   struct gdb_stop *stop)
{
	uint64_t dr6 = ev->u.debug.dr6;
	bool exec_hit = false, swtype = false;

	if (ev->u.debug.exception == 3) {
		/* #BP intercepted (hardware KVM): ours if we planted it. */
		if (!cli_gdb_sw_hit(g, ev->u.debug.pc))
			return false;
		*stop = (struct gdb_stop){ .kind = GDB_STOP_SWBREAK, .signal = GDB_SIGTRAP };
		return true;
	}
	for (unsigned i = 0; i < g->hw_slots; i++) {
		const struct cli_gdb_hw *h = &g->hw[i];

		if (!h->used || !(dr6 & (1ull << i)))
			continue;
		if (is_watch(h->type)) {
			/* Report the watchpoint gdb asked for, whichever unit of it fired. */
			*stop = (struct gdb_stop){
				.kind = h->type == GDB_WATCH_WRITE ? GDB_STOP_WATCH
					: h->type == GDB_WATCH_READ ? GDB_STOP_RWATCH : GDB_STOP_AWATCH,
				.signal = GDB_SIGTRAP, .addr = h->addr,
			};
			return true;
		}
		exec_hit = true;
		swtype = h->type == GDB_BP_SW;
	}
	if (exec_hit) {
		*stop = (struct gdb_stop){ .kind = swtype ? GDB_STOP_SWBREAK : GDB_STOP_HWBREAK,
					   .signal = GDB_SIGTRAP };
		return true;
	}
	if (stepping && (dr6 & DR6_BS)) {
		*stop = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP };
		return true;
	}
	return false;
}
