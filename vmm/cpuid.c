/*
 * cpuid.c — the CPUID the guest is given.
 *
 * Start from what KVM supports and hide every feature whose result rrvm
 * cannot record: the hardware random number instructions (RDRAND, RDSEED),
 * the TSC-deadline timer, RDPID and RDTSCP, the architectural PMU, and the
 * KVM paravirtual leaves (kvmclock and friends). Some backends accept
 * KVM_SET_CPUID2 and ignore it (PLATFORM.md); `rrvm doctor` checks with a
 * probe guest whether the policy took effect.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/internal.h"

#define MAX_ENTRIES 256

static void apply_policy(struct kvm_cpuid_entry2 *e)
{
	switch (e->function) {
	case 1:
		e->ecx &= ~(1u << 30);  /* RDRAND */
		e->ecx &= ~(1u << 24);  /* TSC-deadline timer */
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
		apply_policy(e);
		cpuid->entries[out++] = *e;
	}
	cpuid->nent = out;
	if (ioctl(vm->vcpu_fd, KVM_SET_CPUID2, cpuid) < 0) {
		rc = -errno;
		vmm_error_set(err, "KVM_SET_CPUID2: %s", strerror(-rc));
	}
out:
	free(cpuid);
	return rc;
}
