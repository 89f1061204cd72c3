/*
 * syncregs_test.c — vmm_get_regs reads the registers KVM stored in the
 * synced kvm_run (KVM_CAP_SYNC_REGS) instead of issuing KVM_GET_REGS, which
 * the replayer does at every breakpoint hit. The copy must be exactly what
 * KVM_GET_REGS says, and never stale: not after vmm_set_regs, not after a
 * snapshot restore. Needs /dev/kvm and the hello sample (else SKIP).
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

static bool step_io(struct vmm *vm)
{
	struct vmm_error err = { "" };
	struct vmm_event ev;

	return vmm_step(vm, &ev, &err) == 0 && ev.kind == VMM_EV_IO && ev.u.io.addr == 0x80;
}

int main(void)
{
	/* inc %rbx; out %al,$0x80; jmp back to the inc */
	static const uint8_t code[] = { 0x48, 0xff, 0xc3, 0xe6, 0x80, 0xeb, 0xf9 };
	const char *t = getenv("top_builddir");
	char kernel[4200];
	struct vmm_error err = { "" };
	struct vmm_pagestore *ps = NULL;
	struct vmm_snapshot *snap = NULL;
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
	vmm_snapshot_free(snap);
	vmm_pagestore_free(ps);
	vmm_destroy(d.vm);
	return tap_done();
}
