/*
 * cpuid.c — the CPUID the guest is given.
 *
 * Start from what KVM supports and hide every feature whose result rrvm
 * cannot record: the hardware random number instructions (RDRAND, RDSEED),
 * the TSC-deadline timer, RDPID and RDTSCP, the architectural PMU, and the
 * KVM paravirtual leaves (kvmclock and friends); and x2APIC when the
 * userspace local APIC cannot get its MSRs (no KVM_CAP_X86_USER_SPACE_MSR).
 * Some backends take only some of these bits (PLATFORM.md): `rrvm doctor`
 * runs a probe guest and says, bit by bit, which the host honours.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/internal.h"

#define MAX_ENTRIES 256

static void apply_policy(struct kvm_cpuid_entry2 *e, bool x2apic)
{
	switch (e->function) {
	case 1:
		e->ecx &= ~VMM_CPUID1_ECX_RDRAND;
		e->ecx &= ~VMM_CPUID1_ECX_TSC_DEADLINE;
		/* x2APIC stays only where rrvm's APIC can serve its MSRs. */
		if (!x2apic)
			e->ecx &= ~VMM_CPUID1_ECX_X2APIC;
		break;
	case 7:
		if (e->index == 0) {
			e->ebx &= ~(1u << 18);  /* RDSEED */
			e->ecx &= ~(1u << 22);  /* RDPID */
		}
		break;
	case 0xa:
		/* No PMU: nothing to record it with, and no host counters. */
		e->eax = e->ebx = e->ecx = e->edx = 0;
		break;
	case 0x80000001:
		e->edx &= ~(1u << 27);  /* RDTSCP */
		break;
	default:
		break;
	}
}

/* Machine-check banks as QEMU configures them (MCE_BANKS_DEF, MCE_CAP_DEF:
 * 10 banks, MCG_CTL_P and MCG_SER_P where the host supports them); KVM's
 * default without this call is the host's 32 banks. */
#define MCE_BANKS 10u
#define MCG_CTL_P (1ull << 8)
#define MCG_SER_P (1ull << 24)

static int setup_mce(struct vmm *vm, struct vmm_error *err)
{
	uint64_t supported = 0, cap;
	int banks = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MCE);

	/* KVM_CAP_MCE is the host's bank count; the capability bits are
	 * masked by what the host supports, as QEMU does (on the development
	 * hosts that is none: 10 banks and nothing else). */
	if (banks <= 0)
		return 0;
	if (ioctl(vm->kvm_fd, KVM_X86_GET_MCE_CAP_SUPPORTED, &supported) < 0)
		supported = 0;
	cap = (unsigned)banks < MCE_BANKS ? (unsigned)banks : MCE_BANKS;
	cap |= supported & (MCG_CTL_P | MCG_SER_P);
	if (ioctl(vm->vcpu_fd, KVM_X86_SETUP_MCE, &cap) < 0) {
		vmm_error_set(err, "KVM_X86_SETUP_MCE 0x%llx: %s", (unsigned long long)cap,
			      strerror(errno));
		return -errno;
	}
	return 0;
}

int vmm_cpuid_apply(struct vmm *vm, struct vmm_error *err)
{
	struct kvm_cpuid2 *cpuid;
	unsigned out = 0;
	int rc = 0;

	cpuid = calloc(1, sizeof(*cpuid) + MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2));
	if (!cpuid) {
		vmm_error_set(err, "out of memory for CPUID");
		return -ENOMEM;
	}
	cpuid->nent = MAX_ENTRIES;
	if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid) < 0) {
		rc = -errno;
		vmm_error_set(err, "KVM_GET_SUPPORTED_CPUID: %s", strerror(-rc));
		goto out;
	}
	for (unsigned i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		/* Drop the hypervisor leaves: a guest that finds no KVM
		 * signature will not look for kvmclock. */
		if (e->function >= 0x40000000 && e->function <= 0x400000ff)
			continue;
		apply_policy(e, vm->user_msr);
		cpuid->entries[out++] = *e;
	}
	cpuid->nent = out;
	if (ioctl(vm->vcpu_fd, KVM_SET_CPUID2, cpuid) < 0) {
		rc = -errno;
		vmm_error_set(err, "KVM_SET_CPUID2: %s", strerror(-rc));
		goto out;
	}
	rc = setup_mce(vm, err);
out:
	free(cpuid);
	return rc;
}
