/*
 * wp.c — write watchpoints kept by write-protecting the watched pages.
 *
 * This host's debug registers do not catch data accesses in guest kernel
 * mode (PLATFORM.md), and single-stepping every instruction to compare the
 * watched bytes costs about 75 times a plain run. So a write watchpoint
 * takes the guest-physical pages it covers (translated through the guest's
 * page tables when gdb inserts it: gdb's `watch -l`, the location) and
 * has the machine make them read-only to the guest (vmm_protect_pages).
 * Only writes to those pages leave the guest now; vmm completes each
 * (VMM_EV_WRITE, never a counted exit, so a replay stays the recorded one
 * and positions do not move) and the targets compare the watched bytes:
 * changed, a watch stop after the writing instruction, as gdb expects of a
 * write watchpoint; unchanged (another variable of the page, or the same
 * value stored again), the guest goes on. Single-stepping remains for
 * what cannot be protected (no read-only memory slots, a page outside RAM,
 * too many pages), with the reason said once.
 *
 * Which pages are protected follows the table at every insert, remove and
 * resume (vmm_protect_pages does nothing when the set is unchanged); the
 * last watchpoint removed gives RAM back its one memory slot. Snapshots
 * and restores read and write RAM from the host side and are not affected.
 *
 * Not every write to a page is an instruction's: the CPU pushes an
 * interrupt frame while it delivers the interrupt, and a read-only page
 * there cannot be completed by rrvm (the delivery faults, the guest
 * triple-faults). So vmm lifts the protection of the page the frame goes
 * to (found through the guest's page tables, debug_wp_translate) for the
 * entry that delivers it, up to its exit: a watched value on that page
 * that the handler changes meanwhile is reported at the next write to a
 * protected page, late. Watching a variable next to a stack is the case.
 *
 * A write to a protected page ends a single step: KVM has done the
 * instruction when it exits, and its completion of the MMIO exit does not
 * deliver the single-step trap (KVM's "FIXME: return into emulator if
 * single-stepping"), so waiting for the step would run one instruction
 * more. A `rep movs/stos` exits once per element; a stop between two
 * elements is inside the instruction.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "debug/internal.h"

bool debug_wp_watching(const struct debug *d)
{
	for (unsigned i = 0; i < DEBUG_SOFT_WATCHES; i++)
		if (d->soft[i].used && d->soft[i].wp)
			return true;
	return false;
}

/* The frames every protected watchpoint covers. */
static unsigned frames_of(const struct debug *d, uint64_t *f)
{
	unsigned n = 0;

	for (unsigned i = 0; i < DEBUG_SOFT_WATCHES; i++) {
		const struct debug_soft *w = &d->soft[i];

		if (!w->used || !w->wp)
			continue;
		f[n++] = w->pa[0] / VMM_PAGE_SIZE;
		if (w->split < w->len)
			f[n++] = w->pa[1] / VMM_PAGE_SIZE;
	}
	return n;
}

int debug_wp_sync(struct debug *d, char *why, size_t why_size)
{
	uint64_t f[2 * DEBUG_SOFT_WATCHES];
	struct vmm_error err = { "" };
	unsigned n = frames_of(d, f);
	int rc = vmm_protect_pages(d->vm, f, n, &err);

	if (rc && why)
		snprintf(why, why_size, "%s", err.msg);
	return rc;
}

int debug_wp_read(struct debug *d, const struct debug_soft *w, uint8_t *buf)
{
	int rc = vmm_read_phys(d->vm, w->pa[0], buf, w->split);

	if (!rc && w->split < w->len)
		rc = vmm_read_phys(d->vm, w->pa[1], buf + w->split, w->len - w->split);
	return rc;
}

int debug_wp_keep(struct debug *d, struct debug_soft *w, char *why, size_t why_size)
{
	uint64_t end = w->addr + w->len - 1;
	uint64_t in_first = VMM_PAGE_SIZE - (w->addr % VMM_PAGE_SIZE);
	char tw[128] = "";
	int rc;

	if (!vmm_can_protect(d->vm)) {
		snprintf(why, why_size, "this host's KVM has no read-only memory slots");
		return -EOPNOTSUPP;
	}
	w->split = in_first < w->len ? in_first : w->len;
	if (w->phys) {
		w->pa[0] = w->addr;
		w->pa[1] = w->addr + w->split;
	} else if (introspect_view_translate(d->view, w->addr, &w->pa[0], tw, sizeof(tw)) ||
		   (w->split < w->len &&
		    introspect_view_translate(d->view, end - (end % VMM_PAGE_SIZE), &w->pa[1], tw,
					      sizeof(tw)))) {
		snprintf(why, why_size, "0x%" PRIx64 " is not mapped now (%s)", w->addr, tw);
		return -EFAULT;
	}
	w->wp = true;
	rc = debug_wp_sync(d, why, why_size);
	if (rc) {
		w->wp = false;
		if (debug_wp_sync(d, NULL, 0))
			debug_msg(d, "gdb: could not put back the write-protected pages");
		return rc;
	}
	w->mapped = debug_wp_read(d, w, w->old) == 0;
	return 0;
}

bool debug_wp_event(const struct vmm_event *ev)
{
	return ev->kind == VMM_EV_WRITE;
}

int debug_wp_translate(void *ctx, uint64_t va, uint64_t *pa)
{
	struct debug *d = ctx;

	return introspect_view_translate(d->view, va, pa, NULL, 0);
}
