/*
 * cpustate.c — the whole architectural state of the vCPU, read and put
 * back in one go, for machine snapshots; and the x87/SSE image with its
 * real MXCSR.
 *
 * "Whole" means everything that defines the vCPU's future under rrvm's
 * machine: general, segment, control and debug registers, the XSAVE area
 * (x87, SSE with MXCSR, AVX...) and XCR0, the MSRs a 64-bit kernel
 * programs, and the events KVM holds between instructions (an injected
 * interrupt not yet delivered, a pending exception or NMI, the interrupt
 * shadow of sti / mov ss). Not included, on purpose: the TSC (it runs on
 * host time and guests must not depend on it, DESIGN.md), the multiprocessor
 * state (without an in-kernel irqchip a vCPU is always runnable; HLT exits
 * to rrvm), and the debugger's KVM_SET_GUEST_DEBUG settings (the debugger's,
 * not the guest's).
 *
 * Every vCPU ioctl costs several microseconds on these hosts (PLATFORM.md),
 * so a save is exactly seven of them and a restore seven more; the MSR
 * list is asked of /dev/kvm once per machine.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/internal.h"

/* The MSRs a 64-bit kernel programs, kept when KVM_GET_MSR_INDEX_LIST
 * lists them (EFER and the FS/GS bases also travel in the segment
 * registers, so where KVM does not list FS_BASE/GS_BASE they are still
 * restored; TSC_AUX is listed only where the host has RDTSCP/RDPID). On
 * the development hosts 10 of these are listed. */
static const uint32_t wanted_msrs[] = {
	0x00000174, /* SYSENTER_CS */
	0x00000175, /* SYSENTER_ESP */
	0x00000176, /* SYSENTER_EIP */
	0x00000277, /* PAT */
	0xc0000081, /* STAR */
	0xc0000082, /* LSTAR */
	0xc0000083, /* CSTAR */
	0xc0000084, /* SFMASK */
	0xc0000100, /* FS_BASE */
	0xc0000101, /* GS_BASE */
	0xc0000102, /* KERNEL_GS_BASE */
	0xc0000103, /* TSC_AUX */
	0x000001a0, /* MISC_ENABLE */
};
_Static_assert(sizeof(wanted_msrs) / sizeof(wanted_msrs[0]) <= VMM_CPU_MAX_MSRS,
	       "room for every wanted MSR");

/* The wanted MSRs this host's KVM can save, asked of /dev/kvm once. */
static int learn_msrs(struct vmm *vm, struct vmm_error *err)
{
	union {
		struct kvm_msr_list hdr;
		uint8_t bytes[sizeof(struct kvm_msr_list) + 1024 * sizeof(uint32_t)];
	} list;

	if (vm->msrs_known)
		return 0;
	memset(&list, 0, sizeof(list));
	list.hdr.nmsrs = 1024;
	if (ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, &list) < 0) {
		int e = errno;
		vmm_error_set(err, "KVM_GET_MSR_INDEX_LIST: %s", strerror(e));
		return -e;
	}
	vm->nmsrs = 0;
	for (size_t w = 0; w < sizeof(wanted_msrs) / sizeof(wanted_msrs[0]); w++)
		for (uint32_t i = 0; i < list.hdr.nmsrs && i < 1024; i++)
			if (list.hdr.indices[i] == wanted_msrs[w]) {
				vm->msr_index[vm->nmsrs++] = wanted_msrs[w];
				break;
			}
	vm->msrs_known = true;
	return 0;
}

/* One vCPU ioctl, counted, with a message naming it on failure. */
static int vcpu_io(struct vmm *vm, unsigned long req, void *arg, const char *name, unsigned *count,
		   struct vmm_error *err)
{
	(*count)++;
	if (ioctl(vm->vcpu_fd, req, arg) < 0) {
		int e = errno;
		vmm_error_set(err, "%s: %s", name, strerror(e));
		return -e;
	}
	return 0;
}

static void msr_request(const struct vmm *vm, struct vmm_cpu_state *cs)
{
	memset(&cs->msrs, 0, sizeof(cs->msrs));
	cs->msrs.nmsrs = vm->nmsrs;
	for (unsigned i = 0; i < vm->nmsrs; i++)
		cs->msrs.entries[i].index = vm->msr_index[i];
}

int vmm_cpu_state_get(struct vmm *vm, struct vmm_cpu_state *cs, unsigned *ioctls,
		      struct vmm_error *err)
{
	int rc;

	rc = learn_msrs(vm, err);
	if (rc)
		return rc;
	msr_request(vm, cs);
	if ((rc = vcpu_io(vm, KVM_GET_REGS, &cs->regs, "KVM_GET_REGS", ioctls, err)) ||
	    (rc = vcpu_io(vm, KVM_GET_SREGS, &cs->sregs, "KVM_GET_SREGS", ioctls, err)) ||
	    (rc = vcpu_io(vm, KVM_GET_XSAVE, &cs->xsave, "KVM_GET_XSAVE", ioctls, err)) ||
	    (rc = vcpu_io(vm, KVM_GET_XCRS, &cs->xcrs, "KVM_GET_XCRS", ioctls, err)) ||
	    (rc = vcpu_io(vm, KVM_GET_DEBUGREGS, &cs->dregs, "KVM_GET_DEBUGREGS", ioctls, err)) ||
	    (rc = vcpu_io(vm, KVM_GET_VCPU_EVENTS, &cs->events, "KVM_GET_VCPU_EVENTS", ioctls, err)))
		return rc;
	(*ioctls)++;
	rc = ioctl(vm->vcpu_fd, KVM_GET_MSRS, &cs->msrs);
	if (rc != (int)vm->nmsrs) {
		vmm_error_set(err, "KVM_GET_MSRS: read %d of %u MSRs%s", rc < 0 ? 0 : rc, vm->nmsrs,
			      rc < 0 ? " (the call failed)" : "");
		return -EIO;
	}
	/* What the last exit said about interruptibility: vmm_step decides
	 * whether to inject from these, so they are state too. */
	cs->if_flag = vm->run->if_flag;
	cs->ready_for_injection = vm->run->ready_for_interrupt_injection;
	return 0;
}

int vmm_cpu_state_set(struct vmm *vm, const struct vmm_cpu_state *cs, unsigned *ioctls,
		      struct vmm_error *err)
{
	struct vmm_cpu_state *c = (struct vmm_cpu_state *)cs; /* the ioctls take non-const */
	struct kvm_vcpu_events ev = cs->events;
	int rc;

	/* QEMU's order: XSAVE before the XCRs it depends on, the control
	 * registers before the MSRs, the events last but for the debug
	 * registers. */
	vm->regs_synced = vm->sregs_synced = false;
	if ((rc = vcpu_io(vm, KVM_SET_REGS, &c->regs, "KVM_SET_REGS", ioctls, err)) ||
	    (rc = vcpu_io(vm, KVM_SET_XSAVE, &c->xsave, "KVM_SET_XSAVE", ioctls, err)) ||
	    (rc = vcpu_io(vm, KVM_SET_XCRS, &c->xcrs, "KVM_SET_XCRS", ioctls, err)) ||
	    (rc = vcpu_io(vm, KVM_SET_SREGS, &c->sregs, "KVM_SET_SREGS", ioctls, err)))
		return rc;
	(*ioctls)++;
	rc = ioctl(vm->vcpu_fd, KVM_SET_MSRS, &c->msrs);
	if (rc != (int)cs->msrs.nmsrs) {
		if (rc >= 0 && rc < (int)cs->msrs.nmsrs)
			vmm_error_set(err, "KVM_SET_MSRS: MSR 0x%x refused the value 0x%llx",
				      cs->msrs.entries[rc].index,
				      (unsigned long long)cs->msrs.entries[rc].data);
		else
			vmm_error_set(err, "KVM_SET_MSRS: %s", strerror(errno));
		return -EIO;
	}
	/* A SIPI vector means nothing to a single vCPU machine, and the other
	 * fields' valid bits come from KVM_GET_VCPU_EVENTS as they were. */
	ev.flags &= ~(uint32_t)KVM_VCPUEVENT_VALID_SIPI_VECTOR;
	if ((rc = vcpu_io(vm, KVM_SET_VCPU_EVENTS, &ev, "KVM_SET_VCPU_EVENTS", ioctls, err)) ||
	    (rc = vcpu_io(vm, KVM_SET_DEBUGREGS, &c->dregs, "KVM_SET_DEBUGREGS", ioctls, err)))
		return rc;
	vm->run->if_flag = cs->if_flag;
	vm->run->ready_for_interrupt_injection = cs->ready_for_injection;
	return 0;
}

/* Hosts without KVM_CAP_XSAVE (older than Linux 2.6.36): the image from
 * KVM_GET_FPU, whose MXCSR field such a KVM may leave zero. */
static int fpu_image(struct vmm *vm, uint8_t fxsave[512])
{
	struct kvm_fpu f;

	if (ioctl(vm->vcpu_fd, KVM_GET_FPU, &f) < 0)
		return -errno;
	memset(fxsave, 0, 512);
	memcpy(fxsave + 0, &f.fcw, 2);
	memcpy(fxsave + 2, &f.fsw, 2);
	fxsave[4] = f.ftwx;
	memcpy(fxsave + 6, &f.last_opcode, 2);
	memcpy(fxsave + 8, &f.last_ip, 8);
	memcpy(fxsave + 16, &f.last_dp, 8);
	memcpy(fxsave + 24, &f.mxcsr, 4);
	for (int i = 0; i < 8; i++)
		memcpy(fxsave + 32 + 16 * i, f.fpr[i], 16);
	memcpy(fxsave + 160, f.xmm, 256);
	return 0;
}

int vmm_get_fpu(struct vmm *vm, uint8_t fxsave[512])
{
	struct kvm_xsave xs;

	if (ioctl(vm->vcpu_fd, KVM_GET_XSAVE, &xs) < 0)
		return errno == EINVAL || errno == ENOTTY ? fpu_image(vm, fxsave) : -errno;
	vmm_fxsave_image(&xs, fxsave);
	return 0;
}

void vmm_fxsave_image(const struct kvm_xsave *xs, uint8_t fxsave[512])
{
	/* The XSAVE area starts with the FXSAVE image (KVM_GET_FPU never fills
	 * MXCSR; this does). Keep only the architectural state: MXCSR_MASK is
	 * a property of the host CPU and bytes 416-511 are unused, and a
	 * fingerprint must not change with the host a recording replays on. */
	memcpy(fxsave, xs->region, 512);
	fxsave[5] = 0;
	memset(fxsave + 28, 0, 4);
	memset(fxsave + 416, 0, 512 - 416);
}
