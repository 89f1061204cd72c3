/*
 * bp.c — gdb's breakpoints and watchpoints on the machine.
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
 * breakpoints; vmm_probe_host finds out), a write watchpoint is kept in
 * software: its pages are write-protected (wp.c), and where that cannot
 * be, the targets single-step and compare the watched bytes after every
 * instruction. Read and access watchpoints cannot be done either way and
 * are refused.
 *
 * Nor can this host trap debug events in guest user mode (PLATFORM.md;
 * debug.cpl3_traps says what the probe found). A breakpoint in a page
 * the kernel cannot execute (user page with CR4.SMEP) would never fire, so
 * it is refused with a message; one in a user page the kernel may run is
 * accepted with a warning.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "debug/internal.h"

#define CR4_SMEP (1ull << 20)
#define INT3 0xcc

static bool is_watch(enum gdb_bp_type t)
{
	return t == GDB_WATCH_WRITE || t == GDB_WATCH_READ || t == GDB_WATCH_ACCESS;
}

/* Virtual to physical through the view (never physical mode: rip and the
 * debug registers are virtual). */
static int translate(struct debug *d, uint64_t va, uint64_t *pa)
{
	char why[128];

	return introspect_view_translate(d->view, va, pa, why, sizeof(why)) ? -EFAULT : 0;
}

static int read_phys(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	return vmm_read_phys(ctx, gpa, buf, len);
}

/* Refuse (with msg) an instruction breakpoint that only user mode can reach
 * on a host that cannot trap there; warn about one that mostly will be. */
static int check_user_mode(struct debug *d, uint64_t addr, char *msg, size_t msg_size)
{
	struct introspect_mem mem = { read_phys, d->vm };
	struct introspect_cpu cpu;
	struct introspect_walk w;
	struct vmm_sregs s;

	if (d->cpl3_traps || vmm_get_sregs(d->vm, &s))
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
	debug_msg(d, "gdb: breakpoint at 0x%" PRIx64 " is in a user-accessible page: it fires only when "
		"the kernel runs it; this host cannot trap in guest user mode (CPL3)", addr);
	return 0;
}

/* ---- software breakpoints ------------------------------------------------- */

static struct debug_sw *find_sw(struct debug *d, uint64_t addr)
{
	for (unsigned i = 0; i < d->nsw; i++)
		if (d->sw[i].addr == addr)
			return &d->sw[i];
	return NULL;
}

/* Another of our int3s on the same byte (two virtual aliases)? */
static const struct debug_sw *same_byte(const struct debug *d, const struct debug_sw *sw)
{
	for (unsigned i = 0; i < d->nsw; i++)
		if (&d->sw[i] != sw && d->sw[i].gpa == sw->gpa)
			return &d->sw[i];
	return NULL;
}

static int insert_sw(struct debug *d, uint64_t addr, char *msg, size_t msg_size)
{
	static const uint8_t int3 = INT3;
	struct debug_sw *sw;
	const struct debug_sw *alias;
	char why[128] = "";
	int rc;

	if (find_sw(d, addr))
		return 0;
	if (d->nsw == DEBUG_MAX_SW) {
		snprintf(msg, msg_size, "%d software breakpoints are planted already", DEBUG_MAX_SW);
		return -ENOSPC;
	}
	sw = &d->sw[d->nsw];
	sw->addr = addr;
	if (d->phys)
		sw->gpa = addr;
	else if (introspect_view_translate(d->view, addr, &sw->gpa, why, sizeof(why))) {
		snprintf(msg, msg_size, "0x%" PRIx64 " is not mapped: %s", addr, why);
		return -EFAULT;
	}
	alias = same_byte(d, sw);
	if (alias) {
		sw->orig = alias->orig;
	} else {
		rc = vmm_read_phys(d->vm, sw->gpa, &sw->orig, 1);
		if (!rc)
			rc = vmm_write_phys(d->vm, sw->gpa, &int3, 1);
		if (rc) {
			snprintf(msg, msg_size, "physical address 0x%" PRIx64 " of 0x%" PRIx64
				 " is outside guest RAM", sw->gpa, addr);
			return -EFAULT;
		}
	}
	d->nsw++;
	return 0;
}

static int remove_sw(struct debug *d, uint64_t addr)
{
	struct debug_sw *sw = find_sw(d, addr);
	int rc = 0;

	if (!sw)
		return 0;
	if (!same_byte(d, sw) && vmm_write_phys(d->vm, sw->gpa, &sw->orig, 1))
		rc = -EFAULT;
	*sw = d->sw[--d->nsw];
	return rc;
}

int debug_sw_lift(struct debug *d, uint64_t rip, bool lift)
{
	static const uint8_t int3 = INT3;
	uint64_t pa;

	if (!d->nsw || translate(d, rip, &pa))
		return 0;
	for (unsigned i = 0; i < d->nsw; i++)
		if (d->sw[i].gpa == pa &&
		    vmm_write_phys(d->vm, pa, lift ? &d->sw[i].orig : &int3, 1))
			return -EFAULT;
	return 0;
}

bool debug_sw_hit(struct debug *d, uint64_t rip)
{
	uint64_t pa;
	uint8_t byte;

	if (!d->nsw || translate(d, rip, &pa) || vmm_read_phys(d->vm, pa, &byte, 1) || byte != INT3)
		return false;
	for (unsigned i = 0; i < d->nsw; i++)
		if (d->sw[i].gpa == pa)
			return true;
	return false;
}

/* ---- debug registers ---------------------------------------------------- */

static unsigned free_slots(const struct debug *d)
{
	unsigned n = 0;

	for (unsigned i = 0; i < d->hw_slots; i++)
		n += !d->hw[i].used;
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

static const char *slots_note(const struct debug *d)
{
	return d->hw_slots < DEBUG_HW_SLOTS ? " (a replay leaves gdb 3 of the 4: the replayer "
						"uses one to find interrupt points)" : "";
}

static int insert_hw(struct debug *d, enum gdb_bp_type type, uint64_t addr, uint64_t len,
		     char *msg, size_t msg_size)
{
	uint64_t ua[DEBUG_HW_SLOTS];
	unsigned ul[DEBUG_HW_SLOTS], n, j = 0;

	if (d->phys) {
		snprintf(msg, msg_size, "debug registers take virtual addresses: 'monitor phys off' "
			 "first");
		return -EINVAL;
	}
	for (unsigned i = 0; i < d->hw_slots; i++)
		if (d->hw[i].used && d->hw[i].type == type && d->hw[i].z_addr == addr &&
		    d->hw[i].z_len == len)
			return 0;       /* already there */
	if (len == 0 || len > 64) {
		snprintf(msg, msg_size, "cannot watch %" PRIu64 " bytes at 0x%" PRIx64
			 " with debug registers", len, addr);
		return -EINVAL;
	}
	n = is_watch(type) ? split(addr, len, ua, ul, DEBUG_HW_SLOTS) : 1;
	if (!is_watch(type))
		ua[0] = addr, ul[0] = 1;
	if (n > free_slots(d)) {
		if (n == 1)
			snprintf(msg, msg_size, "all %u debug registers are in use%s", d->hw_slots,
				 slots_note(d));
		else
			snprintf(msg, msg_size, "watching %" PRIu64 " bytes at 0x%" PRIx64 " needs %u "
				 "debug registers, %u are free%s", len, addr, n, free_slots(d),
				 slots_note(d));
		return -ENOSPC;
	}
	for (unsigned i = 0; i < d->hw_slots && j < n; i++) {
		if (d->hw[i].used)
			continue;
		d->hw[i] = (struct debug_hw){ true, type, ua[j], ul[j], addr, len };
		j++;
	}
	return 0;
}

static void remove_hw(struct debug *d, enum gdb_bp_type type, uint64_t addr, uint64_t len)
{
	for (unsigned i = 0; i < d->hw_slots; i++)
		if (d->hw[i].used && d->hw[i].type == type && d->hw[i].z_addr == addr &&
		    (!is_watch(type) || d->hw[i].z_len == len))
			d->hw[i].used = false;
}

/* ---- watchpoints by single-stepping ---------------------------------------- */

/* The watched bytes now: by the physical pages it protects, or through the
 * page tables as they are now (a stepped one). */
static bool soft_now(struct debug *d, const struct debug_soft *w, uint8_t *buf)
{
	if (w->wp)
		return debug_wp_read(d, w, buf) == 0;
	return introspect_view_read(d->view, w->addr, buf, w->len, w->phys) == 0;
}

static void soft_read(struct debug *d, struct debug_soft *w)
{
	w->mapped = soft_now(d, w, w->old);
}

/*
 * A watchpoint this host cannot keep: a read or access watchpoint where the
 * debug registers do not catch data accesses, one more than the registers
 * (or the stepping emulation) hold, an impossible length. gdb 13 shows no
 * reason for a refused Z2-Z4 (only "You may have requested too many
 * hardware breakpoints/watchpoints", at continue), but it shows an E.text
 * reply to a resume: so the watchpoint is taken with its reason, and every
 * resume is refused with that reason while it is set (debug_refusal).
 * Only when this list is full is the Z packet itself refused.
 */
static int refuse_later(struct debug *d, enum gdb_bp_type type, uint64_t addr, uint64_t len,
			const char *why)
{
	struct debug_refused *f = NULL;

	for (unsigned i = 0; i < DEBUG_REFUSED_MAX; i++) {
		if (d->refused[i].used && d->refused[i].type == type && d->refused[i].addr == addr &&
		    d->refused[i].len == len)
			return 0;
		if (!d->refused[i].used && !f)
			f = &d->refused[i];
	}
	if (!f)
		return -ENOSPC;
	*f = (struct debug_refused){ true, type, addr, len, "" };
	snprintf(f->why, sizeof(f->why), "%s", why);
	return 0;
}

bool debug_refusal(struct debug *d)
{
	static const char *const names[] = { "watch", "rwatch", "awatch" };

	for (unsigned i = 0; i < DEBUG_REFUSED_MAX; i++) {
		const struct debug_refused *f = &d->refused[i];

		if (!f->used)
			continue;
		snprintf(d->why, sizeof(d->why), "%s at 0x%" PRIx64 " cannot be kept: %s; delete it "
			 "to go on", names[f->type - GDB_WATCH_WRITE], f->addr, f->why);
		debug_msg(d, "gdb: %s", d->why);
		return true;
	}
	return false;
}

static int insert_soft(struct debug *d, enum gdb_bp_type type, uint64_t addr, uint64_t len,
		       char *msg, size_t msg_size)
{
	struct debug_soft *w = NULL;
	char why[300];

	if (type != GDB_WATCH_WRITE) {
		snprintf(msg, msg_size, "this host's KVM does not stop on data breakpoints in guest "
			 "kernel mode (rrvm doctor), and only write watchpoints can be emulated (by "
			 "single-stepping)");
		return -EOPNOTSUPP;
	}
	if (len == 0 || len > DEBUG_SOFT_WATCH_MAX) {
		snprintf(msg, msg_size, "cannot watch %" PRIu64 " bytes at 0x%" PRIx64 " (at most %d)",
			 len, addr, DEBUG_SOFT_WATCH_MAX);
		return -EINVAL;
	}
	for (unsigned i = 0; i < DEBUG_SOFT_WATCHES; i++) {
		if (d->soft[i].used && d->soft[i].addr == addr && d->soft[i].len == len)
			return 0;
		if (!d->soft[i].used && !w)
			w = &d->soft[i];
	}
	if (!w) {
		snprintf(msg, msg_size, "%d watchpoints are set already", DEBUG_SOFT_WATCHES);
		return -ENOSPC;
	}
	*w = (struct debug_soft){ .used = true, .phys = d->phys, .addr = addr, .len = len };
	/* Write-protect its pages (wp.c); where that cannot be, single-step. */
	if (debug_wp_keep(d, w, why, sizeof(why)) == 0)
		return 0;
	soft_read(d, w);
	debug_msg(d, "gdb: this host's KVM does not stop on data breakpoints in guest kernel mode, "
		  "and the watched page cannot be write-protected (%s): the write watchpoint at 0x%"
		  PRIx64 " works by single-stepping the guest and comparing (slow)", why, addr);
	return 0;
}

bool debug_soft_watching(const struct debug *d)
{
	for (unsigned i = 0; i < DEBUG_SOFT_WATCHES; i++)
		if (d->soft[i].used && !d->soft[i].wp)
			return true;
	return false;
}

void debug_soft_snapshot(struct debug *d)
{
	for (unsigned i = 0; i < DEBUG_SOFT_WATCHES; i++)
		if (d->soft[i].used)
			soft_read(d, &d->soft[i]);
}

bool debug_soft_check(struct debug *d, struct gdb_stop *stop)
{
	uint8_t now[DEBUG_SOFT_WATCH_MAX];

	for (unsigned i = 0; i < DEBUG_SOFT_WATCHES; i++) {
		struct debug_soft *w = &d->soft[i];
		bool mapped;

		if (!w->used)
			continue;
		mapped = soft_now(d, w, now);
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

int debug_insert_bp(struct debug *d, enum gdb_bp_type type, uint64_t addr, uint64_t kind,
		      char *msg, size_t msg_size)
{
	int rc;

	switch (type) {
	case GDB_BP_SW:
	case GDB_BP_HW:
		rc = d->phys ? 0 : check_user_mode(d, addr, msg, msg_size);
		if (rc)
			return rc;
		if (type == GDB_BP_SW && d->sw_in_memory) {
			uint64_t pa;

			/* Not mapped yet (a higher-half kernel before it turns
			 * paging on): no byte to plant an int3 in, but a debug
			 * register watches the virtual address all the same. */
			if (d->phys || translate(d, addr, &pa) == 0 || free_slots(d) == 0)
				return insert_sw(d, addr, msg, msg_size);
			debug_msg(d, "gdb: 0x%" PRIx64 " is not mapped yet: breakpoint set in a debug "
				"register", addr);
		}
		return insert_hw(d, type, addr, 1, msg, msg_size);
	case GDB_WATCH_WRITE:
	case GDB_WATCH_READ:
	case GDB_WATCH_ACCESS:
		if (!d->data_traps)
			rc = insert_soft(d, type, addr, kind, msg, msg_size);
		else
			rc = insert_hw(d, type, addr, kind, msg, msg_size);
		if (rc && msg[0] && refuse_later(d, type, addr, kind, msg) == 0)
			return 0;       /* refused at the next resume, with msg */
		return rc;
	}
	snprintf(msg, msg_size, "unknown breakpoint type %d", (int)type);
	return -EINVAL;
}

int debug_remove_bp(struct debug *d, enum gdb_bp_type type, uint64_t addr, uint64_t kind,
		      char *msg, size_t msg_size)
{
	if (type == GDB_BP_SW && d->sw_in_memory && find_sw(d, addr)) {
		int rc = remove_sw(d, addr);
		if (rc)
			snprintf(msg, msg_size, "could not restore the byte under the int3 at 0x%"
				 PRIx64, addr);
		return rc;
	}
	if (type > GDB_WATCH_ACCESS) {
		snprintf(msg, msg_size, "unknown breakpoint type %d", (int)type);
		return -EINVAL;
	}
	for (unsigned i = 0; i < DEBUG_SOFT_WATCHES; i++)
		if (is_watch(type) && d->soft[i].used && d->soft[i].addr == addr &&
		    d->soft[i].len == kind)
			d->soft[i].used = false;
	if (debug_wp_sync(d, msg, msg_size))
		return -EIO;    /* the page stays protected: harmless, and said */
	for (unsigned i = 0; i < DEBUG_REFUSED_MAX; i++)
		if (d->refused[i].used && d->refused[i].type == type && d->refused[i].addr == addr &&
		    d->refused[i].len == kind)
			d->refused[i].used = false;
	remove_hw(d, type, addr, is_watch(type) ? kind : 1);
	return 0;
}

void debug_remove_all(struct debug *d)
{
	while (d->nsw > 0)
		if (remove_sw(d, d->sw[d->nsw - 1].addr))
			debug_msg(d, "gdb: could not restore the byte under the int3 at 0x%" PRIx64,
				d->sw[d->nsw].addr);
	for (unsigned i = 0; i < DEBUG_HW_SLOTS; i++)
		d->hw[i].used = false;
	for (unsigned i = 0; i < DEBUG_SOFT_WATCHES; i++)
		d->soft[i].used = false;
	for (unsigned i = 0; i < DEBUG_REFUSED_MAX; i++)
		d->refused[i].used = false;
	if (d->vm && debug_wp_sync(d, d->why, sizeof(d->why)))
		debug_msg(d, "gdb: %s", d->why);
}

void debug_regs_for(const struct debug *d, uint64_t skip_at, bool single_step,
		    struct vmm_debug *dbg)
{
	memset(dbg, 0, sizeof(*dbg));
	dbg->single_step = single_step;
	dbg->sw_breakpoints = d->sw_in_memory && d->nsw > 0;
	for (unsigned i = 0; i < d->hw_slots; i++) {
		const struct debug_hw *h = &d->hw[i];

		if (!h->used || (!is_watch(h->type) && h->addr == skip_at))
			continue;
		dbg->hw[i].enabled = true;
		dbg->hw[i].addr = h->addr;
		dbg->hw[i].len = h->len;
		dbg->hw[i].type = h->type == GDB_WATCH_WRITE ? 1 : is_watch(h->type) ? 3 : 0;
	}
}

/*
 * This backend reports the single step over an iretq one instruction
 * late, after the first instruction it returns to (measured: a step from
 * isr_common's iretq stopped at race_thread_start+2, not +0): that
 * instruction, perhaps a write a watchpoint looks for, would be inside
 * the iretq's step. So the step over an iretq also has an instruction
 * breakpoint at the address it returns to (the rip of the frame at rsp),
 * in a debug register gdb left free, which stops it there. The live
 * guest's steps and the replay's take it alike (measured live too: the
 * same +2).
 */
bool debug_insn_is_iretq(const uint8_t *insn, size_t len)
{
	/* REX.W + IRET: the 64-bit form, the only one these guests use. */
	return len >= 2 && insn[0] == 0x48 && insn[1] == 0xcf;
}

void debug_step_stops_after_iretq(struct debug *d, const struct vmm_regs *r,
				  const uint8_t insn[2], struct vmm_debug *dbg)
{
	uint64_t ret;

	if (!debug_insn_is_iretq(insn, 2) || debug_read_mem_virt(d, r->rsp, &ret, 8))
		return;
	for (unsigned i = 0; i < d->hw_slots; i++)
		if (!dbg->hw[i].enabled) {
			dbg->hw[i].enabled = true;
			dbg->hw[i].addr = ret;
			dbg->hw[i].type = 0;
			dbg->hw[i].len = 1;
			return;
		}
}

bool debug_bp_at(struct debug *d, uint64_t rip)
{
	for (unsigned i = 0; i < d->hw_slots; i++)
		if (d->hw[i].used && !is_watch(d->hw[i].type) && d->hw[i].addr == rip)
			return true;
	return debug_sw_hit(d, rip);
}

bool debug_explain(struct debug *d, const struct vmm_event *ev, bool stepping,
			   struct gdb_stop *stop)
{
	uint64_t dr6 = ev->u.debug.dr6;
	bool exec_hit = false, swtype = false;

	if (ev->u.debug.exception == 3) {
		/* #BP intercepted (hardware KVM): ours if we planted it. */
		if (!debug_sw_hit(d, ev->u.debug.pc))
			return false;
		*stop = (struct gdb_stop){ .kind = GDB_STOP_SWBREAK, .signal = GDB_SIGTRAP };
		return true;
	}
	for (unsigned i = 0; i < d->hw_slots; i++) {
		const struct debug_hw *h = &d->hw[i];

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
	if (stepping && (dr6 & DEBUG_DR6_BS)) {
		*stop = (struct gdb_stop){ .kind = GDB_STOP_SIGNAL, .signal = GDB_SIGTRAP };
		return true;
	}
	return false;
}
