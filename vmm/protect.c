/*
 * protect.c — guest pages write-protected for a debugger's watchpoints.
 *
 * On hosts whose debug registers do not catch data accesses in guest
 * kernel mode (PLATFORM.md), a write watchpoint is kept by making the
 * watched guest-physical pages read-only to the guest: guest RAM, one
 * memory slot normally, is split into slots around them, the protected
 * ones KVM_MEM_READONLY. A guest write to such a page then leaves KVM as
 * an MMIO write exit (measured on the paravirtual backend at CPL0: plain
 * stores, immediates, push, xchg, lock xadd/cmpxchg, movnti, and rep
 * movs/stos one element per exit), with rip already past the
 * instruction. vmm_step completes the write itself (the bytes go into
 * guest RAM and the page is marked written for the snapshots and every
 * dirty tracker, as KVM's log would have) and reports it as
 * VMM_EV_WRITE, which is not a synchronous exit: it is not counted and
 * never reaches the recording's checksum, so a replay with protected pages
 * is the same replay. Reads of a protected page are served by KVM from
 * RAM as before.
 *
 * Changing the layout first drains KVM's dirty log of the old slots (a
 * slot's log goes with it), then deletes them and creates the new ones.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/internal.h"

static int set_slot(struct vmm *vm, unsigned id, const struct vmm_slot *s, bool remove)
{
	struct kvm_userspace_memory_region region = {
		.slot = id,
		.flags = s->ro ? KVM_MEM_READONLY : KVM_MEM_LOG_DIRTY_PAGES,
		.guest_phys_addr = s->first * VMM_PAGE_SIZE,
		.memory_size = remove ? 0 : s->frames * VMM_PAGE_SIZE,
		.userspace_addr = (uint64_t)(uintptr_t)(vm->m.ram + s->first * VMM_PAGE_SIZE),
	};

	vm->dirty_clean = false;
	return ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0 ? -errno : 0;
}

/* The slots for RAM with these (sorted, distinct) frames protected. */
static unsigned layout(uint64_t ram_frames, const uint64_t *f, unsigned n, struct vmm_slot *out)
{
	unsigned k = 0;
	uint64_t at = 0;

	for (unsigned i = 0; i < n;) {
		unsigned j = i + 1;

		while (j < n && f[j] == f[j - 1] + 1)
			j++;
		if (f[i] > at)
			out[k++] = (struct vmm_slot){ at, f[i] - at, false };
		out[k++] = (struct vmm_slot){ f[i], f[j - 1] + 1 - f[i], true };
		at = f[j - 1] + 1;
		i = j;
	}
	if (at < ram_frames)
		out[k++] = (struct vmm_slot){ at, ram_frames - at, false };
	return k;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int apply(struct vmm *vm, const struct vmm_slot *slots, unsigned n);

#define LIFT_NONE UINT64_MAX
#define LIFT_ALL (UINT64_MAX - 1)

/* Make the slots match protected[] less the frame `lifted` (or LIFT_NONE,
 * LIFT_ALL), after draining the old slots' dirty logs into the trackers. */
static int relayout(struct vmm *vm, uint64_t lifted)
{
	uint64_t f[VMM_PROTECT_MAX];
	struct vmm_slot slots[VMM_SLOTS_MAX];
	unsigned n = 0;
	int rc = vmm_dirty_collect(vm, NULL);

	if (rc)
		return rc;
	for (unsigned i = 0; i < vm->nprotected; i++)
		if (lifted == LIFT_NONE || (lifted != LIFT_ALL && vm->protected[i] != lifted))
			f[n++] = vm->protected[i];
	return apply(vm, slots, layout(vm->m.ram_size / VMM_PAGE_SIZE, f, n, slots));
}

static int apply(struct vmm *vm, const struct vmm_slot *slots, unsigned n)
{
	int rc = 0;

	for (unsigned i = 0; i < vm->nslots; i++) {
		rc = set_slot(vm, i, &vm->slots[i], true);
		if (rc)
			return rc;
	}
	vm->nslots = 0;
	for (unsigned i = 0; i < n; i++) {
		rc = set_slot(vm, i, &slots[i], false);
		if (rc)
			break;
		vm->slots[vm->nslots++] = slots[i];
	}
	return rc;
}

bool vmm_can_protect(struct vmm *vm)
{
	return ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) > 0;
}

int vmm_protect_pages(struct vmm *vm, const uint64_t *frames, unsigned n, struct vmm_error *err)
{
	uint64_t ram_frames = vm->m.ram_size / VMM_PAGE_SIZE, f[VMM_PROTECT_MAX];
	struct vmm_slot slots[VMM_SLOTS_MAX], whole = { 0, ram_frames, false };
	unsigned nf = 0, ns;
	int rc, max;

	if (n > VMM_PROTECT_MAX) {
		vmm_error_set(err, "%u pages to write-protect, at most %d", n, VMM_PROTECT_MAX);
		return -ENOSPC;
	}
	for (unsigned i = 0; i < n; i++) {
		if (frames[i] >= ram_frames) {
			vmm_error_set(err, "guest-physical page 0x%llx is outside guest RAM (%llu MiB)",
				      (unsigned long long)(frames[i] * VMM_PAGE_SIZE),
				      (unsigned long long)(vm->m.ram_size >> 20));
			return -EFAULT;
		}
		f[nf++] = frames[i];
	}
	qsort(f, nf, sizeof(f[0]), cmp_u64);
	for (unsigned i = 1; i < nf; i++)
		if (f[i] == f[i - 1])
			memmove(&f[i], &f[i + 1], (--nf - i) * sizeof(f[0])), i--;
	if (nf == vm->nprotected && memcmp(f, vm->protected, nf * sizeof(f[0])) == 0)
		return 0;
	if (nf && !vmm_can_protect(vm)) {
		vmm_error_set(err, "this host's KVM has no read-only memory slots "
			      "(KVM_CAP_READONLY_MEM)");
		return -EOPNOTSUPP;
	}
	ns = layout(ram_frames, f, nf, slots);
	max = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	if (max > 0 && ns > (unsigned)max) {
		vmm_error_set(err, "write-protecting %u pages needs %u memory slots, this host's "
			      "KVM has %d", nf, ns, max);
		return -ENOSPC;
	}
	/* The old slots' dirty logs go with them: into the trackers first. */
	rc = vmm_dirty_collect(vm, NULL);
	if (rc) {
		vmm_error_set(err, "KVM_GET_DIRTY_LOG: %s", strerror(-rc));
		return rc;
	}
	rc = apply(vm, slots, ns);
	if (rc) {
		vmm_error_set(err, "KVM_SET_USER_MEMORY_REGION (write-protecting %u pages): %s", nf,
			      strerror(-rc));
		/* Back to plain RAM: the guest must not lose memory. */
		if (apply(vm, &whole, 1))
			vmm_error_set(err, "KVM_SET_USER_MEMORY_REGION: guest RAM could not be put "
				      "back: %s", strerror(-rc));
		vm->nprotected = 0;
		return rc;
	}
	memcpy(vm->protected, f, nf * sizeof(f[0]));
	vm->nprotected = nf;
	return 0;
}

unsigned vmm_protected_pages(const struct vmm *vm, uint64_t *frames)
{
	if (frames)
		memcpy(frames, vm->protected, vm->nprotected * sizeof(frames[0]));
	return vm->nprotected;
}

bool vmm_protected(const struct vmm *vm, uint64_t gpa)
{
	uint64_t f = gpa / VMM_PAGE_SIZE;

	for (unsigned i = 0; i < vm->nprotected; i++)
		if (vm->protected[i] == f)
			return true;
	return false;
}

/* An MMIO exit at a protected page: complete it on guest RAM. */
bool vmm_protect_exit(struct vmm *vm, struct kvm_run *run, struct vmm_event *ev)
{
	uint64_t gpa = run->mmio.phys_addr;
	uint32_t len = run->mmio.len <= 8 ? run->mmio.len : 8;

	if (run->exit_reason != KVM_EXIT_MMIO || !vm->nprotected || !vmm_protected(vm, gpa) ||
	    gpa + len > vm->m.ram_size)
		return false;
	ev->kind = VMM_EV_WRITE;
	ev->u.write.gpa = gpa;
	ev->u.write.len = len;
	ev->u.write.is_write = run->mmio.is_write;
	if (run->mmio.is_write) {
		memcpy(vm->m.ram + gpa, run->mmio.data, len);
		vmm_ram_written(vm, gpa, len);
	} else {
		memcpy(run->mmio.data, vm->m.ram + gpa, len);
	}
	return true;
}

void vmm_protect_set_translate(struct vmm *vm, int (*translate)(void *ctx, uint64_t va, uint64_t *pa),
			       void *ctx)
{
	vm->wp_translate = translate;
	vm->wp_translate_ctx = ctx;
}

/*
 * An entry that delivers an interrupt or NMI: the CPU pushes the frame
 * below rsp (a 64-bit kernel at CPL0 without IST stacks, as the guests
 * rrvm runs), and a read-only page there makes the delivery fail in a way
 * KVM cannot hand to userspace (a fault, then a triple fault). So that
 * page (each protected page, without a translator) is writable for this
 * one entry, until its exit. A watched value the handler changes there
 * meanwhile is seen at the next write to a protected page.
 */
int vmm_protect_before_entry(struct vmm *vm, bool delivers)
{
	uint64_t lifted = LIFT_ALL, pa, top;
	struct vmm_regs r;
	int rc;

	if (!vm->nprotected || !(delivers || vm->wp_redeliver))
		return 0;
	if (vm->wp_translate) {
		rc = vmm_get_regs(vm, &r);
		if (rc)
			return rc;
		/* The frame: up to 48 bytes below rsp aligned to 16. */
		lifted = LIFT_NONE;
		top = r.rsp & ~15ull;
		for (uint64_t va = top - 48; va < top; va += 40)   /* its two ends */
			if (vm->wp_translate(vm->wp_translate_ctx, va, &pa) == 0 && vmm_protected(vm, pa)) {
				lifted = pa / VMM_PAGE_SIZE;
				break;
			}
		if (lifted == LIFT_NONE)
			return 0;
	}
	vm->wp_lifted = true;
	return relayout(vm, lifted);
}

int vmm_protect_after_entry(struct vmm *vm, bool kicked)
{
	/* Cut short before delivery: KVM delivers at the next entry. */
	vm->wp_redeliver = kicked && vm->wp_lifted;
	if (!vm->wp_lifted)
		return 0;
	vm->wp_lifted = false;
	return relayout(vm, LIFT_NONE);
}
