/*
 * cpu.c — the vCPU: its Multiboot start state, one step of the exit loop,
 * interrupt injection, kicks, and access to registers and guest debug.
 *
 * vmm_step() is the only place that runs the guest. Before entering it
 * injects the machine's pending interrupt when the guest can take it and
 * otherwise asks KVM for an interrupt-window exit; doing this at every
 * entry, from state that replay reproduces, is what makes the injection
 * points of a replay land where the recording's did. (vmm_cpu_settle also
 * calls KVM_RUN, but only to finish an exit, never entering the guest.)
 */
#include "config.h"      /* _GNU_SOURCE: pthread_sigqueue */

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "vmm/internal.h"

#define MSR_APIC_BASE 0x1bu
#define MSR_KERNEL_GS_BASE 0xc0000102u

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

/* A real-time signal: each kick is queued with its machine, where a second
 * standard signal pending on the thread would be merged into the first and
 * one machine's kick lost. */
static int kick_signal(void)
{
	return SIGRTMIN + 3;
}

/* Every kick carries its machine in the signal's value (the kick timer's
 * sigev_value, or pthread_sigqueue's), so the handler needs no per-thread
 * "current machine": several machines may live on one thread (monitor
 * pt-diff replays a second one) and each keeps its kicks. Anything else
 * that sends this signal (kill from outside) is ignored. */
static void kick_handler(int sig, siginfo_t *si, void *uctx)
{
	struct vmm *vm;

	(void)sig;
	(void)uctx;
	if (si->si_code != SI_TIMER && !(si->si_code == SI_QUEUE && si->si_pid == getpid()))
		return;
	vm = si->si_value.sival_ptr;
	if (!vm)
		return;
	atomic_store(&vm->kick_requested, true);
	/* Covers the window between the driver's last check and KVM_RUN:
	 * KVM returns at once instead of running the guest. */
	vm->run->immediate_exit = 1;
}

int vmm_kick_init(struct vmm *vm, struct vmm_error *err)
{
	struct sigaction sa = { .sa_sigaction = kick_handler, .sa_flags = SA_SIGINFO };
	struct sigevent sev = { 0 };
	sigset_t set;

	sigemptyset(&sa.sa_mask);
	if (sigaction(kick_signal(), &sa, NULL) < 0) {
		vmm_error_set(err, "sigaction: %s", strerror(errno));
		return -errno;
	}
	sigemptyset(&set);
	sigaddset(&set, kick_signal());
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	vm->vcpu_thread = pthread_self();
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = kick_signal();
	sev.sigev_value.sival_ptr = vm;
	sev.sigev_notify_thread_id = (pid_t)syscall(SYS_gettid);
	if (timer_create(CLOCK_MONOTONIC, &sev, &vm->kick_timer) < 0) {
		vmm_error_set(err, "timer_create: %s", strerror(errno));
		return -errno;
	}
	vm->kick_timer_armed_valid = true;
	vm->kick_deadline = UINT64_MAX;
	return 0;
}

void vmm_kick_fini(struct vmm *vm)
{
	/* Deleting the timer also drops its signal if still pending. */
	if (vm->kick_timer_armed_valid)
		timer_delete(vm->kick_timer);
	vm->kick_timer_armed_valid = false;
}

void vmm_kick(struct vmm *vm)
{
	atomic_store(&vm->kick_requested, true);
	/* May fail (EAGAIN) when the queue of pending signals is full: the
	 * flag is set, and the signals already queued interrupt KVM_RUN. */
	(void)pthread_sigqueue(vm->vcpu_thread, kick_signal(), (union sigval){ .sival_ptr = vm });
}

int vmm_kick_at(struct vmm *vm, uint64_t deadline_ns)
{
	struct itimerspec its = { 0 };

	if (deadline_ns == vm->kick_deadline)
		return 0;
	vm->kick_deadline = deadline_ns;
	if (deadline_ns != UINT64_MAX) {
		/* 0 would disarm the timer; a deadline in the past fires at once. */
		if (deadline_ns == 0)
			deadline_ns = 1;
		its.it_value.tv_sec = (time_t)(deadline_ns / 1000000000u);
		its.it_value.tv_nsec = (long)(deadline_ns % 1000000000u);
	}
	if (timer_settime(vm->kick_timer, TIMER_ABSTIME, &its, NULL) < 0)
		return -errno;
	return 0;
}

bool vmm_take_kick(struct vmm *vm)
{
	vm->run->immediate_exit = 0;
	/* The timer has fired (or someone kicked): arm it afresh next time,
	 * even for the same deadline. */
	vm->kick_deadline = UINT64_MAX - 1;
	return atomic_exchange(&vm->kick_requested, false);
}

/*
 * MSRs the machine's devices serve: ask KVM to send us rdmsr/wrmsr of
 * IA32_APIC_BASE (an MSR filter; KVM would otherwise keep it to itself, and
 * the local APIC must know where its page is and whether x2APIC is on), and
 * of the MSRs it does not know or would refuse: without an in-kernel APIC
 * the x2APIC registers are refused (measured: reason INVAL). Unclaimed ones
 * still fault, from the machine.
 * Without KVM_CAP_X86_USER_SPACE_MSR, x2APIC is hidden from CPUID instead.
 */
int vmm_msr_setup(struct vmm *vm, struct vmm_error *err)
{
	static uint8_t deny[1];         /* bit clear: this MSR exits to us */
	struct kvm_enable_cap cap = { .cap = KVM_CAP_X86_USER_SPACE_MSR,
				      .args = { KVM_MSR_EXIT_REASON_FILTER | KVM_MSR_EXIT_REASON_UNKNOWN |
						KVM_MSR_EXIT_REASON_INVAL } };
	struct kvm_msr_filter filter = { .flags = KVM_MSR_FILTER_DEFAULT_ALLOW };

	vm->user_msr = false;
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_USER_SPACE_MSR) <= 0 ||
	    ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_X86_MSR_FILTER) <= 0)
		return 0;
	if (ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0) {
		vmm_error_set(err, "KVM_ENABLE_CAP(X86_USER_SPACE_MSR): %s", strerror(errno));
		return -errno;
	}
	filter.ranges[0] = (struct kvm_msr_filter_range){
		.flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE, .nmsrs = 1,
		.base = MSR_APIC_BASE, .bitmap = deny,
	};
	if (ioctl(vm->vm_fd, KVM_X86_SET_MSR_FILTER, &filter) < 0) {
		vmm_error_set(err, "KVM_X86_SET_MSR_FILTER: %s", strerror(errno));
		return -errno;
	}
	vm->user_msr = true;
	return 0;
}

static void flat_segment(struct kvm_segment *s, uint16_t sel, uint8_t type)
{
	*s = (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
	};
}

int vmm_cpu_init(struct vmm *vm, uint32_t entry, uint32_t info_addr, struct vmm_error *err)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { 0 };

	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0) {
		vmm_error_set(err, "KVM_GET_SREGS: %s", strerror(errno));
		return -errno;
	}
	/* The Multiboot machine state: flat 4 GiB code and data segments,
	 * protected mode, paging off, interrupts off. */
	flat_segment(&sregs.cs, 0x10, 0xb);
	flat_segment(&sregs.ds, 0x18, 0x3);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.tr = (struct kvm_segment){ .limit = 0x67, .type = 0xb, .present = 1 };
	sregs.ldt = (struct kvm_segment){ .type = 0x2, .present = 1, .unusable = 1 };
	sregs.gdt.base = 0, sregs.gdt.limit = 0;
	sregs.idt.base = 0, sregs.idt.limit = 0;
	sregs.cr0 = 0x11;       /* PE, ET */
	sregs.cr2 = sregs.cr3 = sregs.cr4 = 0;
	sregs.efer = 0;
	vm->state_synced = false;
	if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &sregs) < 0) {
		vmm_error_set(err, "KVM_SET_SREGS: %s", strerror(errno));
		return -errno;
	}
	regs.rax = 0x2BADB002;
	regs.rbx = info_addr;
	regs.rip = entry;
	regs.rsp = 0x7ff0;      /* undefined by Multiboot; a harmless low stack */
	regs.rflags = 0x2;
	vm->regs_synced = vm->state_synced = false;
	if (ioctl(vm->vcpu_fd, KVM_SET_REGS, &regs) < 0) {
		vmm_error_set(err, "KVM_SET_REGS: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

/* Inject the machine's pending interrupt if the guest can take it now;
 * otherwise ask KVM to exit as soon as it can. An NMI (from the local
 * APIC) goes in through KVM_NMI whatever RFLAGS.IF says; KVM holds it while
 * an earlier NMI is being handled. Returns the vector injected (2 for an
 * NMI) or -1. This is the one injection point: the recorder logs what it
 * returns and the replayer checks it. */
static int inject_pending(struct vmm *vm, struct vmm_error *err, int *rc)
{
	struct kvm_run *run = vm->run;
	struct kvm_interrupt irq;
	int vec, pending = vmm_machine_pending(&vm->m);

	*rc = 0;
	if (vm->inject_mode == VMM_INJECT_HOLD || pending < 0) {
		run->request_interrupt_window = 0;
		return -1;
	}
	/* An injection changes the events KVM holds. */
	vm->state_synced = false;
	if (pending == VMM_LAPIC_NMI) {
		vmm_machine_ack(&vm->m);
		if (ioctl(vm->vcpu_fd, KVM_NMI) < 0) {
			*rc = -errno;
			vmm_error_set(err, "KVM_NMI: %s", strerror(errno));
			return -1;
		}
		return 2;
	}
	if (!run->ready_for_interrupt_injection || !run->if_flag) {
		run->request_interrupt_window = vm->inject_mode == VMM_INJECT_LIVE;
		return -1;
	}
	vec = vmm_machine_ack(&vm->m);
	irq.irq = (uint32_t)vec;
	if (ioctl(vm->vcpu_fd, KVM_INTERRUPT, &irq) < 0) {
		*rc = -errno;
		vmm_error_set(err, "KVM_INTERRUPT vector 0x%x: %s", vec, strerror(errno));
		return -1;
	}
	run->request_interrupt_window = vm->inject_mode == VMM_INJECT_LIVE &&
					vmm_machine_pending(&vm->m) >= 0;
	return vec;
}

/* CR8 is the local APIC's TPR (bits 7:4). Without an in-kernel APIC, KVM
 * takes CR8 from kvm_run on entry and leaves it there on exit. */
static void tpr_to_cr8(struct vmm *vm)
{
	if (vm->m.lapic_index >= 0)
		vm->run->cr8 = vmm_lapic_tpr(vm->m.dev_state[vm->m.lapic_index]) >> 4;
}

static void tpr_from_cr8(struct vmm *vm)
{
	void *lapic;

	if (vm->m.lapic_index < 0)
		return;
	lapic = vm->m.dev_state[vm->m.lapic_index];
	if (vm->run->cr8 != (uint64_t)(vmm_lapic_tpr(lapic) >> 4))
		vmm_lapic_set_tpr(lapic, (uint8_t)(vm->run->cr8 << 4));
}

int vmm_cpu_settle(struct vmm *vm, unsigned *ioctls, struct vmm_error *err)
{
	struct kvm_run *run = vm->run;
	uint8_t was = run->immediate_exit;
	uint8_t if_flag = run->if_flag, ready = run->ready_for_interrupt_injection;
	uint32_t reason = run->exit_reason;
	int rc, e;

	if (!vm->exit_unfinished)
		return 0;
	/* KVM finishes a port or MMIO exit (the value of an IN goes to RAX,
	 * an INS to memory, rip moves on) at the next KVM_RUN; until then
	 * its registers are not the guest's. With immediate_exit set,
	 * KVM_RUN finishes the exit and returns before entering the guest,
	 * as KVM's documentation prescribes before saving state. */
	run->immediate_exit = 1;
	(*ioctls)++;
	vm->dirty_clean = false;        /* an INS writes guest memory */
	vm->regs_synced = vm->state_synced = false;
	rc = ioctl(vm->vcpu_fd, KVM_RUN, 0);
	e = errno;
	/* Put back a kick that came meanwhile: its handler sets the flag
	 * before immediate_exit, so reading the flag after the store cannot
	 * miss one. */
	run->immediate_exit = was;
	if (atomic_load(&vm->kick_requested))
		run->immediate_exit = 1;
	/* What the exit said stays what the next vmm_step decides on: after
	 * an `sti; out` the finished OUT ends the interrupt shadow and KVM
	 * would now say "ready", so that a run with a snapshot in it would
	 * inject one entry earlier than the same run without. */
	run->if_flag = if_flag;
	run->ready_for_interrupt_injection = ready;
	run->exit_reason = reason;
	if (rc == 0 || (e != EINTR && e != EAGAIN)) {
		vmm_error_set(err, "KVM_RUN to finish the exit at exit count %llu: %s",
			      (unsigned long long)vm->exits, rc == 0 ? "the guest ran" : strerror(e));
		return rc == 0 ? -EIO : -e;
	}
	vm->exit_unfinished = false;
	return 0;
}

int vmm_finish_exit(struct vmm *vm, struct vmm_error *err)
{
	unsigned ioctls = 0;

	return vmm_cpu_settle(vm, &ioctls, err);
}

void vmm_set_inject_mode(struct vmm *vm, enum vmm_inject_mode mode)
{
	vm->inject_mode = mode;
}

bool vmm_interrupt_blocked(const struct vmm *vm)
{
	return vm->run->if_flag && !vm->run->ready_for_interrupt_injection;
}

enum vmm_halt vmm_halt_state(const struct vmm *vm)
{
	if (!vm->halted)
		return VMM_HALT_RUNNING;
	if (vmm_machine_pending(&vm->m) >= 0)
		return VMM_HALT_WAKE;
	return vm->run->if_flag ? VMM_HALT_WAIT : VMM_HALT_DEAD;
}

bool vmm_can_inject(const struct vmm *vm)
{
	int pending = vmm_machine_pending(&vm->m);

	return vm->inject_mode != VMM_INJECT_HOLD && pending >= 0 &&
	       (pending == VMM_LAPIC_NMI ||
		(vm->run->ready_for_interrupt_injection && vm->run->if_flag));
}

static uint64_t exit_rip(struct vmm *vm)
{
	struct kvm_regs regs;

	if (vm->sync_regs)
		return vm->run->s.regs.regs.rip;
	if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &regs) < 0)
		return 0;
	return regs.rip;
}

static void error_event(struct vmm_event *ev, struct kvm_run *run, const char *what)
{
	ev->kind = VMM_EV_ERROR;
	ev->u.error.reason = run->exit_reason;
	if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
		ev->u.error.suberror = run->internal.suberror;
	snprintf(ev->u.error.what, sizeof(ev->u.error.what), "%s", what);
}

int vmm_step(struct vmm *vm, struct vmm_event *ev, struct vmm_error *err)
{
	struct kvm_run *run = vm->run;
	int rc;

	memset(ev, 0, sizeof(*ev));
	ev->injected = inject_pending(vm, err, &rc);
	if (rc)
		return rc;
	if (ev->injected >= 0) {
		ev->injected_source = (uint8_t)vm->m.last_source;
		ev->injected_detail = (uint8_t)vm->m.last_detail;
	}
	rc = vmm_protect_before_entry(vm, ev->injected >= 0);
	if (rc) {
		vmm_error_set(err, "KVM_SET_USER_MEMORY_REGION (the page of an interrupt frame): %s",
			      strerror(-rc));
		return rc;
	}
	vm->halted = false;             /* entering the guest ends a halt */
	if (vm->sync_regs)
		run->kvm_valid_regs = KVM_SYNC_X86_REGS;
	if (vm->sync_state && vm->debug_on)
		run->kvm_valid_regs |= KVM_SYNC_X86_SREGS | KVM_SYNC_X86_EVENTS;
	tpr_to_cr8(vm);
	vm->exit_unfinished = false;    /* this KVM_RUN finishes it */
	vm->regs_synced = vm->state_synced = false;
	vm->dirty_clean = false;
	rc = ioctl(vm->vcpu_fd, KVM_RUN, 0);
	{
		int e = errno, prc = vmm_protect_after_entry(vm, rc < 0);

		errno = e;
		if (prc) {
			vmm_error_set(err, "KVM_SET_USER_MEMORY_REGION (write-protecting again): %s",
				      strerror(-prc));
			return prc;
		}
	}
	tpr_from_cr8(vm);
	/* Only a KVM_RUN that returned is known to have stored them. */
	vm->regs_synced = vm->sync_regs && rc >= 0;
	vm->state_synced = vm->regs_synced && (run->kvm_valid_regs & KVM_SYNC_X86_SREGS);
	if (rc < 0) {
		if (errno == EINTR || errno == EAGAIN) {
			ev->kind = VMM_EV_KICK;
			ev->exits = vm->exits;
			ev->rip = exit_rip(vm);
			return 0;
		}
		rc = -errno;
		vmm_error_set(err, "KVM_RUN: %s", strerror(errno));
		return rc;
	}
	ev->rip = exit_rip(vm);
	/* A write to a page a debugger protected: not the guest's exit. KVM
	 * finishes the instruction at the next KVM_RUN, as for MMIO. */
	if (vmm_protect_exit(vm, run, ev)) {
		vm->exit_unfinished = true;
		ev->exits = vm->exits;
		return 0;
	}
	if (vmm_machine_dispatch(&vm->m, run, ev)) {
		vm->exit_unfinished = true;
		ev->exits = ++vm->exits;
		return 0;
	}
	switch (run->exit_reason) {
	case KVM_EXIT_HLT:
		ev->kind = VMM_EV_HLT;
		ev->exits = ++vm->exits;
		vm->halted = true;
		return 0;
	case KVM_EXIT_SET_TPR:
		/* The guest lowered CR8 (a TPR write that KVM hands to us so
		 * that a masked interrupt can go in): counted like the x2APIC
		 * TPR write it is. */
		ev->kind = VMM_EV_IO;
		ev->u.io.addr = 0x808;
		ev->u.io.size = 8;
		ev->u.io.write = true;
		ev->u.io.msr = true;
		ev->u.io.value = run->cr8 << 4;
		ev->exits = ++vm->exits;
		return 0;
	case KVM_EXIT_IRQ_WINDOW_OPEN:
		ev->kind = VMM_EV_IRQ_WINDOW;
		break;
	case KVM_EXIT_INTR:
		ev->kind = VMM_EV_KICK;
		break;
	case KVM_EXIT_DEBUG:
		ev->kind = VMM_EV_DEBUG;
		ev->u.debug.exception = run->debug.arch.exception;
		ev->u.debug.pc = run->debug.arch.pc;
		ev->u.debug.dr6 = run->debug.arch.dr6;
		ev->u.debug.dr7 = run->debug.arch.dr7;
		break;
	case KVM_EXIT_SHUTDOWN:
		ev->kind = VMM_EV_SHUTDOWN;
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		error_event(ev, run, run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION
			    ? "KVM internal error: instruction emulation failed"
			    : "KVM internal error");
		break;
	case KVM_EXIT_FAIL_ENTRY:
		error_event(ev, run, "KVM could not enter the guest (invalid vCPU state)");
		break;
	default: {
		char what[64];
		snprintf(what, sizeof(what), "unexpected KVM exit reason %u", run->exit_reason);
		error_event(ev, run, what);
		break;
	}
	}
	ev->exits = vm->exits;
	return 0;
}

int vmm_debug_step_to_handler(struct vmm_debug *d, uint64_t handler, int reserved)
{
	int k = -1;

	for (int i = 0; i < 4 && k < 0; i++)
		if (i != reserved && !d->hw[i].enabled)
			k = i;
	for (int i = 0; i < 4 && k < 0; i++)
		if (i != reserved)
			k = i;
	d->single_step = false;
	d->hw[k].enabled = true;
	d->hw[k].addr = handler;
	d->hw[k].type = 0;
	d->hw[k].len = 1;
	return k;
}

void vmm_debug_step_done(struct vmm_event *ev, int slot)
{
	if (slot >= 0 && ev->kind == VMM_EV_DEBUG && (ev->u.debug.dr6 & (1ull << slot)))
		ev->u.debug.dr6 = (ev->u.debug.dr6 & ~(1ull << slot)) | (1ull << 14);   /* BS */
}

/* From the synced kvm_run when the last KVM_RUN stored them: every vCPU
 * ioctl costs about 7 µs on the paravirtual backend (PLATFORM.md), and the
 * replayer reads registers at every breakpoint hit. */
int vmm_get_regs(struct vmm *vm, struct vmm_regs *r)
{
	struct kvm_regs k;

	if (vm->regs_synced)
		k = vm->run->s.regs.regs;
	else if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &k) < 0)
		return -errno;
	*r = (struct vmm_regs){
		k.rax, k.rbx, k.rcx, k.rdx, k.rsi, k.rdi, k.rbp, k.rsp,
		k.r8, k.r9, k.r10, k.r11, k.r12, k.r13, k.r14, k.r15, k.rip, k.rflags,
	};
	return 0;
}

int vmm_set_regs(struct vmm *vm, const struct vmm_regs *r)
{
	struct kvm_regs k = {
		.rax = r->rax, .rbx = r->rbx, .rcx = r->rcx, .rdx = r->rdx,
		.rsi = r->rsi, .rdi = r->rdi, .rsp = r->rsp, .rbp = r->rbp,
		.r8 = r->r8, .r9 = r->r9, .r10 = r->r10, .r11 = r->r11,
		.r12 = r->r12, .r13 = r->r13, .r14 = r->r14, .r15 = r->r15,
		.rip = r->rip, .rflags = r->rflags,
	};

	vm->regs_synced = vm->state_synced = false;
	if (ioctl(vm->vcpu_fd, KVM_SET_REGS, &k) < 0)
		return -errno;
	return 0;
}

static void seg_from_kvm(struct vmm_segment *d, const struct kvm_segment *s)
{
	*d = (struct vmm_segment){ s->base, s->limit, s->selector, s->type, s->present,
				   s->dpl, s->db, s->s, s->l, s->g, s->avl };
}

static void seg_to_kvm(struct kvm_segment *d, const struct vmm_segment *s)
{
	d->base = s->base, d->limit = s->limit, d->selector = s->selector, d->type = s->type;
	d->present = s->present, d->dpl = s->dpl, d->db = s->db, d->s = s->s, d->l = s->l;
	d->g = s->g, d->avl = s->avl;
}

static int get_msr(struct vmm *vm, uint32_t index, uint64_t *value)
{
	/* struct kvm_msrs ends in a flexible array: give it room for one. */
	union {
		struct kvm_msrs hdr;
		uint8_t bytes[sizeof(struct kvm_msrs) + sizeof(struct kvm_msr_entry)];
	} m;

	memset(&m, 0, sizeof(m));
	m.hdr.nmsrs = 1;
	m.hdr.entries[0].index = index;
	if (ioctl(vm->vcpu_fd, KVM_GET_MSRS, &m) != 1)
		return -EIO;
	*value = m.hdr.entries[0].data;
	return 0;
}

/* KVM_GET_SREGS, or the copy KVM synced into the run area at the exit. */
static int get_kvm_sregs(struct vmm *vm, struct kvm_sregs *k)
{
	if (vm->state_synced) {
		*k = vm->run->s.regs.sregs;
		return 0;
	}
	return ioctl(vm->vcpu_fd, KVM_GET_SREGS, k) < 0 ? -errno : 0;
}

int vmm_get_sregs(struct vmm *vm, struct vmm_sregs *s)
{
	int rc = vmm_get_sregs_nomsr(vm, s);

	if (rc)
		return rc;
	if (get_msr(vm, MSR_KERNEL_GS_BASE, &s->kernel_gs_base) < 0)
		s->kernel_gs_base = 0;
	return 0;
}

int vmm_get_sregs_nomsr(struct vmm *vm, struct vmm_sregs *s)
{
	struct kvm_sregs k;
	int rc = get_kvm_sregs(vm, &k);

	if (rc)
		return rc;
	memset(s, 0, sizeof(*s));
	seg_from_kvm(&s->cs, &k.cs), seg_from_kvm(&s->ds, &k.ds), seg_from_kvm(&s->es, &k.es);
	seg_from_kvm(&s->fs, &k.fs), seg_from_kvm(&s->gs, &k.gs), seg_from_kvm(&s->ss, &k.ss);
	seg_from_kvm(&s->tr, &k.tr), seg_from_kvm(&s->ldt, &k.ldt);
	s->gdt_base = k.gdt.base, s->gdt_limit = k.gdt.limit;
	s->idt_base = k.idt.base, s->idt_limit = k.idt.limit;
	s->cr0 = k.cr0, s->cr2 = k.cr2, s->cr3 = k.cr3, s->cr4 = k.cr4, s->cr8 = k.cr8;
	s->efer = k.efer, s->apic_base = k.apic_base;
	return 0;
}

int vmm_set_sregs(struct vmm *vm, const struct vmm_sregs *s)
{
	struct kvm_sregs k;

	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &k) < 0)
		return -errno;
	seg_to_kvm(&k.cs, &s->cs), seg_to_kvm(&k.ds, &s->ds), seg_to_kvm(&k.es, &s->es);
	seg_to_kvm(&k.fs, &s->fs), seg_to_kvm(&k.gs, &s->gs), seg_to_kvm(&k.ss, &s->ss);
	seg_to_kvm(&k.tr, &s->tr), seg_to_kvm(&k.ldt, &s->ldt);
	k.gdt.base = s->gdt_base, k.gdt.limit = s->gdt_limit;
	k.idt.base = s->idt_base, k.idt.limit = s->idt_limit;
	k.cr0 = s->cr0, k.cr2 = s->cr2, k.cr3 = s->cr3, k.cr4 = s->cr4, k.cr8 = s->cr8;
	k.efer = s->efer;
	vm->state_synced = false;
	if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &k) < 0)
		return -errno;
	return 0;
}

int vmm_cpl(struct vmm *vm)
{
	struct kvm_sregs k;
	int rc = get_kvm_sregs(vm, &k);

	if (rc)
		return rc;
	if (!(k.cr0 & 1))
		return 0;       /* real mode */
	return k.cs.selector & 3;
}

int vmm_set_debug(struct vmm *vm, const struct vmm_debug *dbg)
{
	struct kvm_guest_debug g = { 0 };
	static const uint8_t len_code[9] = { 0, 0, 1, 0, 3, 0, 0, 0, 2 };
	bool any_hw = false;

	g.control = KVM_GUESTDBG_ENABLE;
	if (dbg->single_step)
		g.control |= KVM_GUESTDBG_SINGLESTEP;
	if (dbg->sw_breakpoints)
		g.control |= KVM_GUESTDBG_USE_SW_BP;
	g.arch.debugreg[7] = 0x0600;    /* GE and the reserved bit 10 */
	for (int i = 0; i < 4; i++) {
		unsigned type = dbg->hw[i].type, len = dbg->hw[i].len;

		if (!dbg->hw[i].enabled)
			continue;
		if ((type != 0 && type != 1 && type != 3) || len > 8 || (len & (len - 1)) || len == 0)
			return -EINVAL;
		if (type == 0)
			len = 1;    /* instruction breakpoints have length 1 */
		any_hw = true;
		g.arch.debugreg[i] = dbg->hw[i].addr;
		g.arch.debugreg[7] |= (2ull << (i * 2)) | ((uint64_t)type << (16 + i * 4)) |
				      ((uint64_t)len_code[len] << (18 + i * 4));
	}
	if (any_hw)
		g.control |= KVM_GUESTDBG_USE_HW_BP;
	if (!any_hw && !dbg->single_step && !dbg->sw_breakpoints)
		g.control = 0;
	if (ioctl(vm->vcpu_fd, KVM_SET_GUEST_DEBUG, &g) < 0)
		return -errno;
	vm->debug_on = g.control != 0;
	return 0;
}
