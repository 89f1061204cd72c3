/*
 * syncregs_test.c — vmm_get_regs reads the registers KVM stored in the
 * synced kvm_run (KVM_CAP_SYNC_REGS) instead of issuing KVM_GET_REGS, which
 * the replayer does at every breakpoint hit. The copy must be exactly what
 * KVM_GET_REGS says, and never stale: not after vmm_set_regs, not after a
 * snapshot restore. While guest debug is on (the replayer's searches),
 * the segment registers and the events come from kvm_run too, for the
 * fingerprint and the snapshots: the same checks for them. And
 * vmm_dirty_collect skips KVM_GET_DIRTY_LOG when the guest has not run
 * since the last: it must still see every write. Needs /dev/kvm and the
 * hello sample (else SKIP).
 */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tests/unit/tap.h"
#include "tests/unit/det_driver.h"
#include "vmm/internal.h"

#define MEM (32ull << 20)
#define CODE 0x300000ull

/* KVM_GET_REGS itself, to hold the synced copy against. */
static bool same_as_kvm(struct vmm *vm, const char *what)
{
	struct vmm_regs r;
	struct kvm_regs k;

	if (vmm_get_regs(vm, &r) || ioctl(vm->vcpu_fd, KVM_GET_REGS, &k) < 0) {
		ok(0, "%s: registers read", what);
		return false;
	}
	const struct vmm_regs want = {
		k.rax, k.rbx, k.rcx, k.rdx, k.rsi, k.rdi, k.rbp, k.rsp,
		k.r8, k.r9, k.r10, k.r11, k.r12, k.r13, k.r14, k.r15, k.rip, k.rflags,
	};
	return ok(memcmp(&r, &want, sizeof(r)) == 0, "%s: vmm_get_regs equals KVM_GET_REGS "
		  "(rip 0x%llx rbx 0x%llx)", what, (unsigned long long)k.rip,
		  (unsigned long long)k.rbx);
}

/* KVM_GET_SREGS, KVM_GET_VCPU_EVENTS and the rest against
 * vmm_cpu_state_get and vmm_get_sregs. */
static void state_same_as_kvm(struct vmm *vm, const char *what)
{
	struct vmm_cpu_state synced, read;
	struct vmm_error err = { "" };
	struct vmm_sregs s;
	struct kvm_sregs k;
	unsigned n1 = 0, n2 = 0;
	unsigned saved = (vm->regs_synced ? 1 : 0) + (vm->state_synced ? 2 : 0);

	if (vmm_cpu_state_get(vm, &synced, &n1, &err) || vmm_get_sregs(vm, &s)) {
		ok(0, "%s: state read: %s", what, err.msg);
		return;
	}
	vm->state_synced = vm->regs_synced = false;     /* every part by its ioctl */
	if (vmm_cpu_state_get(vm, &read, &n2, &err) || ioctl(vm->vcpu_fd, KVM_GET_SREGS, &k) < 0) {
		ok(0, "%s: state read by ioctls: %s", what, err.msg);
		return;
	}
	ok(memcmp(&synced.sregs, &read.sregs, sizeof(read.sregs)) == 0 &&
	   memcmp(&synced.events, &read.events, sizeof(read.events)) == 0 &&
	   memcmp(&synced.regs, &read.regs, sizeof(read.regs)) == 0,
	   "%s: the snapshot's registers, segment registers and events equal the ioctls' "
	   "(%u ioctls instead of %u)", what, n1, n2);
	ok(s.cr0 == k.cr0 && s.cr3 == k.cr3 && s.cr4 == k.cr4 && s.efer == k.efer &&
	   s.cs.selector == k.cs.selector && s.tr.base == k.tr.base && s.gdt_base == k.gdt.base,
	   "%s: vmm_get_sregs equals KVM_GET_SREGS (cr3 0x%llx)", what, (unsigned long long)k.cr3);
	ok(n1 + saved == n2, "%s: %u ioctls saved (%s synced)", what, saved,
	   saved > 1 ? "the registers, the segment registers and the events"
		     : saved ? "the registers" : "nothing");
}

static bool step_io(struct vmm *vm)
{
	struct vmm_error err = { "" };
	struct vmm_event ev;

	if (vmm_step(vm, &ev, &err) == 0 && ev.kind == VMM_EV_IO && ev.u.io.addr == 0x80)
		return true;
	diag("the step was no OUT to port 0x80: kind %d, rip 0x%llx %s", ev.kind,
	     (unsigned long long)ev.rip, err.msg);
	return false;
}

int main(void)
{
	/* inc %rbx; out %al,$0x80; jmp back to the inc */
	static const uint8_t code[] = { 0x48, 0xff, 0xc3, 0xe6, 0x80, 0xeb, 0xf9 };
	const char *t = getenv("top_builddir");
	char kernel[4200];
	struct vmm_error err = { "" };
	struct vmm_pagestore *ps = NULL;
	struct vmm_snapshot *snap = NULL, *snap2 = NULL;
	struct det d;
	struct vmm_regs r;

	snprintf(kernel, sizeof(kernel), "%s/samples/hello.elf", t ? t : ".");
	if (access("/dev/kvm", R_OK | W_OK) != 0 || access(kernel, R_OK) != 0) {
		printf("1..0 # SKIP needs /dev/kvm and %s\n", kernel);
		return 0;
	}
	if (det_create(&d, kernel, MEM, NULL, &err)) {
		ok(0, "hello: boot: %s", err.msg);
		return tap_done();
	}
	ok(vmm_write_phys(d.vm, CODE, code, sizeof(code)) == 0 && vmm_get_regs(d.vm, &r) == 0,
	   "code planted");
	r.rip = CODE;
	r.rflags = 0x2;
	r.rbx = 0x1000;
	ok(vmm_set_regs(d.vm, &r) == 0, "rip at it, rbx 0x1000, interrupts off");
	vmm_set_inject_mode(d.vm, VMM_INJECT_HOLD);
	ok(!d.vm->regs_synced && vmm_get_regs(d.vm, &r) == 0 && r.rbx == 0x1000 && r.rip == CODE,
	   "before any entry: read by KVM_GET_REGS, the values set");

	ok(step_io(d.vm), "the OUT exits");
	if (d.vm->sync_regs)
		ok(d.vm->regs_synced, "after KVM_RUN the registers come from kvm_run");
	else
		ok(1, "# SKIP no KVM_CAP_SYNC_REGS here: every read is a KVM_GET_REGS");
	same_as_kvm(d.vm, "after the first OUT");
	ok(vmm_get_regs(d.vm, &r) == 0 && r.rbx == 0x1001, "rbx incremented once");

	r.rbx = 0x5500;
	ok(vmm_set_regs(d.vm, &r) == 0 && vmm_get_regs(d.vm, &r) == 0 && r.rbx == 0x5500,
	   "vmm_set_regs is seen at once, not the stale synced copy");
	ok(step_io(d.vm) && vmm_get_regs(d.vm, &r) == 0 && r.rbx == 0x5501,
	   "and the guest ran on from it");
	same_as_kvm(d.vm, "after the second OUT");

	ok(vmm_pagestore_new(&ps) == 0 && vmm_snapshot_save(d.vm, ps, &snap, &err) == 0,
	   "snapshot saved at rbx 0x5501: %s", err.msg);
	ok(step_io(d.vm) && step_io(d.vm) && vmm_get_regs(d.vm, &r) == 0 && r.rbx == 0x5503,
	   "two more OUTs: rbx 0x5503");
	ok(vmm_snapshot_restore(d.vm, snap, NULL, &err) == 0, "restored: %s", err.msg);
	ok(vmm_get_regs(d.vm, &r) == 0 && r.rbx == 0x5501,
	   "after the restore the saved registers, not the synced ones");
	same_as_kvm(d.vm, "after the restore");
	ok(step_io(d.vm) && vmm_get_regs(d.vm, &r) == 0 && r.rbx == 0x5502,
	   "and the guest runs on from the saved state");
	state_same_as_kvm(d.vm, "guest debug off");

	/* A breakpoint the loop never reaches: guest debug on, as while the
	 * replayer searches. */
	struct vmm_debug dbg = { 0 };
	struct vmm_sregs sr;

	dbg.hw[3].enabled = true;
	dbg.hw[3].addr = CODE + 0x800;
	dbg.hw[3].len = 1;
	ok(vmm_set_debug(d.vm, &dbg) == 0 && step_io(d.vm), "guest debug on, the OUT exits");
	ok(d.vm->state_synced == d.vm->sync_state, "the segment registers and events synced%s",
	   d.vm->sync_state ? "" : " (# SKIP: this KVM cannot)");
	state_same_as_kvm(d.vm, "guest debug on");
	ok(step_io(d.vm) && vmm_get_sregs(d.vm, &sr) == 0, "one more OUT");
	sr.cr2 = 0xc2c2000;
	ok(vmm_set_sregs(d.vm, &sr) == 0 && !d.vm->state_synced && vmm_get_sregs(d.vm, &sr) == 0 &&
	   sr.cr2 == 0xc2c2000, "vmm_set_sregs is seen at once, not the stale synced copy");
	ok(step_io(d.vm) && vmm_get_sregs(d.vm, &sr) == 0 && sr.cr2 == 0xc2c2000,
	   "and the next exit syncs the value set");
	state_same_as_kvm(d.vm, "after vmm_set_sregs and an exit");
	ok(vmm_snapshot_save(d.vm, ps, &snap2, &err) == 0 && step_io(d.vm) &&
	   vmm_snapshot_restore(d.vm, snap2, NULL, &err) == 0 && !d.vm->state_synced,
	   "a restore is not taken for synced: %s", err.msg);
	state_same_as_kvm(d.vm, "after a restore");
	dbg.hw[3].enabled = false;
	ok(vmm_set_debug(d.vm, &dbg) == 0 && step_io(d.vm) && !d.vm->state_synced,
	   "guest debug off: no more syncing of the segment registers");

	/* mov %rbx,(%rsi); out %al,$0x80; jmp back to the mov */
	static const uint8_t store[] = { 0x48, 0x89, 0x1e, 0xe6, 0x80, 0xeb, 0xf9 };
	uint64_t *acc = calloc(vmm_dirty_words(d.vm), sizeof(uint64_t));
	uint64_t page = 0x280000 / 4096;

	ok(acc && vmm_write_phys(d.vm, CODE + 0x100, store, sizeof(store)) == 0 &&
	   vmm_get_regs(d.vm, &r) == 0, "a storing loop planted");
	r.rip = CODE + 0x100;
	r.rsi = 0x280000;
	ok(vmm_set_regs(d.vm, &r) == 0 && vmm_dirty_collect(d.vm, acc) == 0 && d.vm->dirty_clean,
	   "dirty log read: clean until the guest runs");
	memset(acc, 0, vmm_dirty_words(d.vm) * sizeof(uint64_t));
	ok(vmm_dirty_collect(d.vm, acc) == 0 && !(acc[page / 64] & (1ull << (page % 64))),
	   "read again without an entry: nothing written");
	ok(step_io(d.vm) && !d.vm->dirty_clean && vmm_dirty_collect(d.vm, acc) == 0 &&
	   (acc[page / 64] & (1ull << (page % 64))), "after an entry the store is seen");
	free(acc);
	vmm_snapshot_free(snap2);
	vmm_snapshot_free(snap);
	vmm_pagestore_free(ps);
	vmm_destroy(d.vm);
	return tap_done();
}
