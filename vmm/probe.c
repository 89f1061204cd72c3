/*
 * probe.c — find out what this host's KVM can do, by asking
 * (KVM_CHECK_EXTENSION) and by running tiny probe guests, never by guessing
 * from module names. `rrvm doctor` prints the result; the recorder uses it
 * to decide whether polls that land in guest user mode must be deferred.
 *
 * Each probe is a fresh VM with 2 MiB of RAM, identity-mapped with one
 * 2 MiB user-accessible page, and a vCPU put straight into 64-bit mode at
 * the privilege level under test: a few bytes of code, then `out` to port
 * 0x80 so that the probe ends with an exit we recognise.
 *
 * The answers do not change while rrvm runs: vmm_host_can() runs only the
 * probe asked about, once per process, and keeps the answer (the debugger
 * asks two questions at every start; rrvm doctor asks everything).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/internal.h"

#define PROBE_RAM (2u << 20)
#define PROBE_CODE 0x10000u

enum probe_outcome { PROBE_DEBUG, PROBE_IO, PROBE_SHUTDOWN, PROBE_OTHER, PROBE_FAILED };

struct probe {
	int vm_fd, vcpu_fd;
	uint8_t *ram;
	struct kvm_run *run;
	size_t run_size;
};

static void probe_close(struct probe *p)
{
	if (p->run)
		munmap(p->run, p->run_size);
	if (p->ram)
		munmap(p->ram, PROBE_RAM);
	if (p->vcpu_fd >= 0)
		close(p->vcpu_fd);
	if (p->vm_fd >= 0)
		close(p->vm_fd);
}

static void seg64(struct kvm_segment *s, uint16_t sel, uint8_t type, unsigned dpl, bool code)
{
	*s = (struct kvm_segment){ .selector = sel, .type = type, .present = 1, .dpl = (uint8_t)dpl,
				   .s = 1, .l = code, .db = !code, .g = 1, .limit = 0xffffffff };
}

static int probe_open(int kvm_fd, struct probe *p, unsigned cpl, const uint8_t *code, size_t len)
{
	struct kvm_userspace_memory_region region = { 0 };
	struct kvm_sregs sregs;
	struct kvm_regs regs = { 0 };
	uint64_t *pt;
	int sz;

	memset(p, 0, sizeof(*p));
	p->vm_fd = p->vcpu_fd = -1;
	p->vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (p->vm_fd < 0)
		return -errno;
	p->ram = mmap(NULL, PROBE_RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p->ram == MAP_FAILED) {
		p->ram = NULL;
		return -errno;
	}
	region.memory_size = PROBE_RAM;
	region.userspace_addr = (uint64_t)(uintptr_t)p->ram;
	if (ioctl(p->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return -errno;
	ioctl(p->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000ul);
	p->vcpu_fd = ioctl(p->vm_fd, KVM_CREATE_VCPU, 0);
	if (p->vcpu_fd < 0)
		return -errno;
	sz = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz <= 0)
		return -EINVAL;
	p->run_size = (size_t)sz;
	p->run = mmap(NULL, p->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, p->vcpu_fd, 0);
	if (p->run == MAP_FAILED) {
		p->run = NULL;
		return -errno;
	}
	/* PML4 at 0x1000 -> PDPT at 0x2000 -> PD at 0x3000 -> one 2 MiB page. */
	pt = (uint64_t *)(p->ram + 0x1000);
	pt[0] = 0x2000 | 7;
	pt = (uint64_t *)(p->ram + 0x2000);
	pt[0] = 0x3000 | 7;
	pt = (uint64_t *)(p->ram + 0x3000);
	pt[0] = 0x0 | 0x87;
	memcpy(p->ram + PROBE_CODE, code, len);

	if (ioctl(p->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	seg64(&sregs.cs, (uint16_t)(cpl ? 0x1b : 0x08), 0xb, cpl, true);
	seg64(&sregs.ss, (uint16_t)(cpl ? 0x23 : 0x10), 0x3, cpl, false);
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss;
	sregs.tr = (struct kvm_segment){ .limit = 0x67, .type = 0xb, .present = 1 };
	sregs.cr3 = 0x1000;
	sregs.cr4 = 0x20;               /* PAE */
	sregs.cr0 = 0x80000011;         /* PG, ET, PE */
	sregs.efer = 0x500;             /* LME, LMA */
	sregs.idt.base = 0, sregs.idt.limit = 0;
	if (ioctl(p->vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	regs.rip = PROBE_CODE;
	regs.rsp = 0x8000;
	regs.rflags = 0x3002;           /* IOPL 3: `out` works at CPL3 too */
	if (ioctl(p->vcpu_fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

static enum probe_outcome probe_run(struct probe *p, uint64_t *pc)
{
	if (ioctl(p->vcpu_fd, KVM_RUN, 0) < 0)
		return PROBE_FAILED;
	switch (p->run->exit_reason) {
	case KVM_EXIT_DEBUG:
		*pc = p->run->debug.arch.pc;
		return PROBE_DEBUG;
	case KVM_EXIT_IO:
		return PROBE_IO;
	case KVM_EXIT_SHUTDOWN:
		return PROBE_SHUTDOWN;
	default:
		return PROBE_OTHER;
	}
}

static const char *outcome_name(enum probe_outcome o)
{
	static const char *const n[] = { "debug exit", "no trap (ran on to the port write)",
					 "triple fault (the #DB went to the guest)", "other exit",
					 "KVM_RUN failed" };
	return n[o];
}

/* Does single-step or a hardware breakpoint trap to us at this CPL? */
static bool probe_debug(int kvm_fd, unsigned cpl, bool hw, char *note, size_t notelen)
{
	static const uint8_t code[] = { 0x90, 0x90, 0x90, 0xe6, 0x80 }; /* nop x3; out %al,$0x80 */
	struct kvm_guest_debug dbg = { .control = KVM_GUESTDBG_ENABLE };
	struct probe p;
	enum probe_outcome o = PROBE_FAILED;
	uint64_t pc = 0, want = hw ? PROBE_CODE + 2 : PROBE_CODE + 1;
	bool ok = false;

	if (probe_open(kvm_fd, &p, cpl, code, sizeof(code)) == 0) {
		if (hw) {
			dbg.control |= KVM_GUESTDBG_USE_HW_BP;
			dbg.arch.debugreg[0] = PROBE_CODE + 2;
			dbg.arch.debugreg[7] = 0x0600 | 0x2;
		} else {
			dbg.control |= KVM_GUESTDBG_SINGLESTEP;
		}
		if (ioctl(p.vcpu_fd, KVM_SET_GUEST_DEBUG, &dbg) == 0) {
			o = probe_run(&p, &pc);
			ok = o == PROBE_DEBUG && pc == want;
		}
	}
	probe_close(&p);
	snprintf(note, notelen, "%s at CPL%u: %s%s", hw ? "hardware breakpoint" : "single-step",
		 cpl, outcome_name(o), o == PROBE_DEBUG && !ok ? " at an unexpected address" : "");
	return ok;
}

/* Does a write watchpoint in a debug register stop a kernel-mode guest?
 * (This project's backend emulates CPL0 code and checks only instruction
 * breakpoints: there it runs on to the port write.) */
static bool probe_data_bp(int kvm_fd, char *note, size_t notelen)
{
	/* mov %al, 0x10100 (absolute); out %al, $0x80 */
	static const uint8_t code[] = { 0x88, 0x04, 0x25, 0x00, 0x01, 0x01, 0x00, 0xe6, 0x80 };
	struct kvm_guest_debug dbg = { .control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP };
	struct probe p;
	enum probe_outcome o = PROBE_FAILED;
	uint64_t pc = 0;
	bool ok = false;

	if (probe_open(kvm_fd, &p, 0, code, sizeof(code)) == 0) {
		dbg.arch.debugreg[0] = PROBE_CODE + 0x100;
		dbg.arch.debugreg[7] = 0x0600 | 0x2 | (1u << 16);      /* G0, RW0 = write, 1 byte */
		if (ioctl(p.vcpu_fd, KVM_SET_GUEST_DEBUG, &dbg) == 0) {
			o = probe_run(&p, &pc);
			ok = o == PROBE_DEBUG && (p.run->debug.arch.dr6 & 1);
		}
	}
	probe_close(&p);
	snprintf(note, notelen, "write watchpoint at CPL0: %s", outcome_name(o));
	return ok;
}

/* Which of the CPUID.1:ECX bits the policy clears does the guest really
 * see cleared? Some backends ignore KVM_SET_CPUID2 for most leaves but
 * honour a few bits (PLATFORM.md), so each bit is looked at on its own.
 * The probe applies the policy as for a VM without userspace MSRs, which
 * clears x2APIC too, so that every bit the policy can change is probed. */
static bool probe_cpuid(int kvm_fd, struct vmm_host_caps *caps, char *note, size_t notelen)
{
	/* mov $1,%eax; xor %ecx,%ecx; cpuid; mov %ecx,%eax; out %eax,$0x80 */
	static const uint8_t code[] = { 0xb8, 0x01, 0, 0, 0, 0x31, 0xc9, 0x0f, 0xa2,
					0x89, 0xc8, 0xe7, 0x80 };
	static const struct { uint32_t bit; const char *name; } bits[] = {
		{ VMM_CPUID1_ECX_X2APIC, "x2APIC" },
		{ VMM_CPUID1_ECX_TSC_DEADLINE, "TSC-deadline" },
		{ VMM_CPUID1_ECX_RDRAND, "RDRAND" },
	};
	struct probe p;
	struct vmm v = { .kvm_fd = kvm_fd, .user_msr = false };
	struct vmm_error err;
	uint64_t pc;
	bool ok = false;

	caps->cpuid1_ecx_policy = VMM_CPUID1_ECX_X2APIC | VMM_CPUID1_ECX_TSC_DEADLINE |
				  VMM_CPUID1_ECX_RDRAND;
	if (probe_open(kvm_fd, &p, 0, code, sizeof(code)) == 0) {
		v.vcpu_fd = p.vcpu_fd;
		if (vmm_cpuid_apply(&v, &err) == 0 && probe_run(&p, &pc) == PROBE_IO &&
		    p.run->io.size == 4) {
			uint32_t ecx;
			size_t used;

			memcpy(&ecx, (uint8_t *)p.run + p.run->io.data_offset, 4);
			caps->cpuid1_ecx_honoured = caps->cpuid1_ecx_policy & ~ecx;
			ok = !(ecx & VMM_CPUID1_ECX_RDRAND);
			used = (size_t)snprintf(note, notelen, "CPUID.1:ECX seen by the guest = 0x%08x "
						"with those bits cleared by the policy:", ecx);
			for (unsigned i = 0; i < sizeof(bits) / sizeof(bits[0]) && used < notelen; i++)
				used += (size_t)snprintf(note + used, notelen - used, " %s %s%s",
							 bits[i].name, ecx & bits[i].bit ?
							 "still visible (ignored)" : "hidden (honoured)",
							 i + 1 < sizeof(bits) / sizeof(bits[0]) ? "," : "");
		} else {
			snprintf(note, notelen, "CPUID probe guest did not run");
		}
	}
	probe_close(&p);
	return ok;
}

static bool host_has_pmu(int kvm_fd)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 256 * sizeof(struct kvm_cpuid_entry2));
	bool pmu = false;

	if (!c)
		return false;
	c->nent = 256;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
		for (unsigned i = 0; i < c->nent; i++)
			if (c->entries[i].function == 0xa && (c->entries[i].eax & 0xff) != 0)
				pmu = true;
	}
	free(c);
	return pmu;
}

static void note_add(struct vmm_host_caps *caps, const char *line)
{
	size_t used = strlen(caps->notes);

	snprintf(caps->notes + used, sizeof(caps->notes) - used, "%s\n", line);
}

int vmm_probe_host(struct vmm_host_caps *caps, struct vmm_error *err)
{
	int fd = vmm_open_kvm(err);
	char note[200], cpuid_note[400];

	memset(caps, 0, sizeof(*caps));
	if (fd < 0)
		return fd;
	caps->api_version = ioctl(fd, KVM_GET_API_VERSION, 0);
#define CAP(c) (ioctl(fd, KVM_CHECK_EXTENSION, (c)) > 0)
	caps->sync_regs = CAP(KVM_CAP_SYNC_REGS);
	caps->immediate_exit = CAP(KVM_CAP_IMMEDIATE_EXIT);
	caps->set_guest_debug = CAP(KVM_CAP_SET_GUEST_DEBUG);
	caps->dirty_log = CAP(KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2) || CAP(KVM_CAP_DIRTY_LOG_RING) ||
			  true; /* the classic dirty log is part of the base API */
	caps->xsave = CAP(KVM_CAP_XSAVE);
	caps->readonly_mem = CAP(KVM_CAP_READONLY_MEM);
	caps->user_msr = CAP(KVM_CAP_X86_USER_SPACE_MSR);
	caps->msr_filter = CAP(KVM_CAP_X86_MSR_FILTER);
	caps->exit_hypercall = CAP(KVM_CAP_EXIT_HYPERCALL);
	caps->tsc_control = CAP(KVM_CAP_TSC_CONTROL);
	caps->irqchip_available = CAP(KVM_CAP_IRQCHIP);
	caps->nr_memslots = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
#undef CAP
	caps->debug_cpl0 = probe_debug(fd, 0, false, note, sizeof(note));
	note_add(caps, note);
	caps->debug_cpl0 = probe_debug(fd, 0, true, note, sizeof(note)) && caps->debug_cpl0;
	note_add(caps, note);
	caps->debug_cpl3 = probe_debug(fd, 3, false, note, sizeof(note));
	note_add(caps, note);
	caps->debug_cpl3 = probe_debug(fd, 3, true, note, sizeof(note)) && caps->debug_cpl3;
	note_add(caps, note);
	caps->data_bp_cpl0 = probe_data_bp(fd, note, sizeof(note));
	note_add(caps, note);
	caps->cpuid_policy = probe_cpuid(fd, caps, cpuid_note, sizeof(cpuid_note));
	note_add(caps, cpuid_note);
	caps->pmu = host_has_pmu(fd);
	close(fd);
	return 0;
}

/* The answers a debugger asks for, each probed on its first question. */
static pthread_mutex_t answers_lock = PTHREAD_MUTEX_INITIALIZER;
static int answers[VMM_HOST_QUESTIONS];         /* 0 not asked, 1 yes, -1 no */

bool vmm_host_can(enum vmm_host_question q)
{
	struct vmm_error err;
	char note[200];
	bool yes = false;
	int fd;

	if ((unsigned)q >= VMM_HOST_QUESTIONS)
		return false;
	pthread_mutex_lock(&answers_lock);
	if (answers[q]) {
		yes = answers[q] > 0;
		goto out;
	}
	fd = vmm_open_kvm(&err);
	if (fd >= 0) {
		switch (q) {
		case VMM_HOST_DEBUG_CPL3:
			yes = probe_debug(fd, 3, false, note, sizeof(note)) &&
			      probe_debug(fd, 3, true, note, sizeof(note));
			break;
		case VMM_HOST_DATA_BP_CPL0:
			yes = probe_data_bp(fd, note, sizeof(note));
			break;
		default:
			break;
		}
		close(fd);
	}
	answers[q] = yes ? 1 : -1;
out:
	pthread_mutex_unlock(&answers_lock);
	return yes;
}
