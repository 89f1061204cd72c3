/*
 * vmm.h — the machine: one KVM VM with one vCPU, guest RAM, a Multiboot
 * loader, the legacy PC devices, and the exit loop.
 *
 * Everything above vmm/ (the live driver's hooks, the recorder, the
 * replayer, the gdb target, introspection) sees the machine only through
 * this header. Interrupts are always injected from userspace by the
 * machine (no in-kernel irqchip): that is what makes recording possible.
 *
 * Positions: vmm counts the guest's synchronous exits (port I/O, MMIO,
 * HLT) since reset. Together with the state fingerprint
 * (vmm_fingerprint) this names every point of an execution; see DESIGN.md.
 */
#ifndef RRVM_VMM_H
#define RRVM_VMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vmm/device.h"

#define VMM_MUST_CHECK __attribute__((warn_unused_result))

/* A message for the user naming what is wrong: the file, the value. */
struct vmm_error {
	char msg[512];
};
void vmm_error_set(struct vmm_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The one clock. Everything in the machine that needs time asks this. */
struct vmm_clock {
	uint64_t (*now)(void *ctx, enum vmm_clock_kind kind);
	void *ctx;
};
/* The host's clocks: the only place in rrvm that reads host time for the
 * guest. Recording wraps this; replay replaces it. */
uint64_t vmm_clock_host(void *ctx, enum vmm_clock_kind kind);

/* Where guest output goes. ctx is passed back. */
struct vmm_output {
	void (*write)(void *ctx, enum vmm_output_stream stream, const uint8_t *buf, size_t len);
	void *ctx;
};

#define VMM_MEM_MIN (2ull << 20)        /* below this a kernel has no room */
#define VMM_MEM_MAX (16ull << 30)
#define VMM_MEM_DEFAULT (64ull << 20)

struct vmm_config {
	uint64_t mem_size;              /* bytes; 0 = VMM_MEM_DEFAULT */
	const char *kernel_path;
	const char *cmdline;            /* multiboot command line, may be NULL */
	bool trace_io;                  /* log accesses to unknown ports/MMIO on stderr */
	struct vmm_clock clock;         /* NULL now = host clock */
	struct vmm_output output;       /* NULL write = serial to stdout, debugcon to stderr */
};

struct vmm;

/* Create the VM, load the kernel and put the vCPU at the Multiboot entry.
 * On error returns -errno and fills err; nothing is left allocated. */
int vmm_create(const struct vmm_config *cfg, struct vmm **out, struct vmm_error *err) VMM_MUST_CHECK;
void vmm_destroy(struct vmm *vm);

/* Replace the clock after creation (the replayer does). */
void vmm_set_clock(struct vmm *vm, struct vmm_clock clock);

/* ---- running ----------------------------------------------------------- */

enum vmm_event_kind {
	VMM_EV_IO,              /* a port or MMIO exit was handled (counted)     */
	VMM_EV_HLT,             /* the guest executed HLT (counted)              */
	VMM_EV_IRQ_WINDOW,      /* the guest became interruptible (not counted:
				 * some backends report it late, at no fixed
				 * instruction) */
	VMM_EV_KICK,            /* KVM_RUN interrupted by the host (not counted) */
	VMM_EV_DEBUG,           /* breakpoint, watchpoint or single step         */
	VMM_EV_GUEST_EXIT,      /* the guest wrote isa-debug-exit (counted)      */
	VMM_EV_SHUTDOWN,        /* triple fault                                  */
	VMM_EV_ERROR,           /* KVM internal error or an exit rrvm can't handle */
};

struct vmm_event {
	enum vmm_event_kind kind;
	uint64_t exits;         /* synchronous exits so far, this one included */
	uint64_t rip;           /* where the exit happened */
	int injected;           /* vector injected on entry to this step, or -1 */
	union {
		struct {
			uint64_t addr;  /* port, or guest-physical address for MMIO */
			uint32_t size;
			bool write;
			bool mmio;
			uint64_t value; /* value written, or value returned to the guest */
		} io;
		struct {
			uint32_t exception;     /* 1 = #DB, 3 = #BP */
			uint64_t pc, dr6, dr7;
		} debug;
		uint32_t exit_value;    /* VMM_EV_GUEST_EXIT: the value written */
		struct {
			uint32_t reason;        /* KVM exit reason */
			uint32_t suberror;      /* for KVM_EXIT_INTERNAL_ERROR */
			char what[160];
		} error;
	} u;
};

/* Run the vCPU once: inject a pending interrupt if the guest can take one
 * (else ask for an interrupt window), KVM_RUN, handle the exit. Returns 0
 * and fills ev, or -errno on a host failure (message in err). */
int vmm_step(struct vmm *vm, struct vmm_event *ev, struct vmm_error *err) VMM_MUST_CHECK;

/* When vmm_step injects the PIC's pending interrupt. */
enum vmm_inject_mode {
	VMM_INJECT_LIVE,        /* whenever the guest can take it; else ask KVM
				 * for an interrupt-window exit */
	VMM_INJECT_NOW_ONLY,    /* whenever the guest can take it; no windows */
	VMM_INJECT_HOLD,        /* never (replay between logged points) */
};
void vmm_set_inject_mode(struct vmm *vm, enum vmm_inject_mode mode);
/* Would vmm_step inject an interrupt on its next entry? */
bool vmm_can_inject(const struct vmm *vm);
/* Is the vCPU at a point that a state fingerprint cannot name: interrupts
 * enabled but blocked, i.e. an injected interrupt not yet delivered or an
 * interrupt shadow (sti, mov ss)? A poll must not be placed there. */
bool vmm_interrupt_blocked(const struct vmm *vm);

/* Synchronous exits so far: the machine's position counter. */
uint64_t vmm_exits(const struct vmm *vm);

/* Ask a running vmm_step to return (VMM_EV_KICK) as soon as possible.
 * Async-signal-safe and callable from any thread. */
void vmm_kick(struct vmm *vm);
/* Arm the host timer that kicks the vCPU at monotonic time deadline_ns
 * (host clock; UINT64_MAX disarms). */
int vmm_kick_at(struct vmm *vm, uint64_t deadline_ns) VMM_MUST_CHECK;
/* True (once) if a kick was requested since the last call: the kick may
 * have landed while the vCPU was outside KVM_RUN. */
bool vmm_take_kick(struct vmm *vm);

/* ---- devices, time and input -------------------------------------------- */

/* Read the clock and let every timer device act on it (may raise IRQs).
 * This is the "poll" of the recording: it reads the clock exactly once. */
void vmm_poll_devices(struct vmm *vm);
/* The earliest device deadline, monotonic ns, or UINT64_MAX. No clock read. */
uint64_t vmm_next_deadline(const struct vmm *vm);
/* Serial input: room in the UART receive FIFO, and push bytes into it. */
size_t vmm_serial_rx_space(const struct vmm *vm);
size_t vmm_serial_rx_push(struct vmm *vm, const uint8_t *buf, size_t n);
/* A vector the PIC would deliver now, or -1. */
int vmm_irq_pending(const struct vmm *vm);
/* Whether the guest had interrupts enabled (RFLAGS.IF) at the last exit. */
bool vmm_guest_if(const struct vmm *vm);

/* ---- state --------------------------------------------------------------- */

struct vmm_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags;
};
struct vmm_segment {
	uint64_t base;
	uint32_t limit;
	uint16_t selector;
	uint8_t type, present, dpl, db, s, l, g, avl;
};
struct vmm_sregs {
	struct vmm_segment cs, ds, es, fs, gs, ss, tr, ldt;
	uint64_t gdt_base, idt_base;
	uint16_t gdt_limit, idt_limit;
	uint64_t cr0, cr2, cr3, cr4, cr8, efer, apic_base;
	uint64_t kernel_gs_base;        /* MSR_KERNEL_GS_BASE */
};

int vmm_get_regs(struct vmm *vm, struct vmm_regs *r) VMM_MUST_CHECK;
int vmm_set_regs(struct vmm *vm, const struct vmm_regs *r) VMM_MUST_CHECK;
int vmm_get_sregs(struct vmm *vm, struct vmm_sregs *s) VMM_MUST_CHECK;
int vmm_set_sregs(struct vmm *vm, const struct vmm_sregs *s) VMM_MUST_CHECK;
/* The x87/SSE state as KVM_GET_FPU returns it (512 bytes, FXSAVE layout). */
int vmm_get_fpu(struct vmm *vm, uint8_t fxsave[512]) VMM_MUST_CHECK;

/* Current privilege level of the vCPU (0-3). */
int vmm_cpl(struct vmm *vm) VMM_MUST_CHECK;

/* Guest-physical memory. Returns -EFAULT if any byte is outside RAM. */
int vmm_read_phys(struct vmm *vm, uint64_t gpa, void *buf, size_t len) VMM_MUST_CHECK;
int vmm_write_phys(struct vmm *vm, uint64_t gpa, const void *buf, size_t len) VMM_MUST_CHECK;
uint64_t vmm_mem_size(const struct vmm *vm);
/* Direct pointer to guest RAM (mem_size bytes) for hashing and checkpoints. */
const uint8_t *vmm_ram(const struct vmm *vm);

/* Pages written by the guest (KVM's dirty log, one bit per 4 KiB page,
 * vmm_dirty_words() 64-bit words). KVM clears its log when read, so that
 * several users (the replayer's fingerprints, introspection's shadow) can
 * share it, each keeps its own bitmap: vmm_dirty_collect() reads what KVM
 * logged since the last read and ORs it into acc and into every bitmap
 * registered with vmm_dirty_track(). Users clear their own bitmaps. */
int vmm_dirty_collect(struct vmm *vm, uint64_t *acc) VMM_MUST_CHECK;
/* Register (or with NULL unregister) a bitmap that every collect updates.
 * At most VMM_DIRTY_TRACKERS. */
#define VMM_DIRTY_TRACKERS 4
int vmm_dirty_track(struct vmm *vm, uint64_t *bitmap) VMM_MUST_CHECK;
void vmm_dirty_untrack(struct vmm *vm, uint64_t *bitmap);
size_t vmm_dirty_words(const struct vmm *vm);

/* Guest debug (KVM_SET_GUEST_DEBUG): up to 4 hardware breakpoints or
 * watchpoints and single-step. type: 0 exec, 1 write, 3 read/write;
 * len 1, 2, 4, 8. */
struct vmm_debug {
	bool single_step;
	bool sw_breakpoints;    /* intercept #BP (int3) */
	struct {
		bool enabled;
		uint64_t addr;
		unsigned type, len;
	} hw[4];
};
int vmm_set_debug(struct vmm *vm, const struct vmm_debug *dbg) VMM_MUST_CHECK;

/* A digest of the final guest state: registers, segment and control
 * registers, and all of guest RAM. */
int vmm_state_hash(struct vmm *vm, uint64_t *hash) VMM_MUST_CHECK;

/* A fast 64-bit hash for fingerprints and state digests (not
 * cryptographic: it detects accidents, not adversaries). */
uint64_t vmm_hash(const void *data, size_t len, uint64_t seed);

/* Print the vCPU registers, for crash reports and assertions. */
void vmm_dump_regs(struct vmm *vm, FILE *f);

/* The file name of the kernel the machine booted, and its Multiboot entry. */
const char *vmm_kernel_path(const struct vmm *vm);

/* ---- the live driver --------------------------------------------------------
 * Runs a guest against the host's time and input: arms the kick timer for
 * the next device deadline, polls the devices when it has passed, sleeps
 * while the guest halts, feeds serial input. `rrvm run` uses it as is; the
 * recorder uses it through the hooks (every point where something from
 * outside enters the guest passes through before_poll and serial_in, and
 * every clock read through the machine's clock). */

struct vmm_live_hooks {
	void *ctx;
	/* The machine is about to poll its devices: right after synchronous
	 * exit vmm_exits(vm) (async false), or at a kick in the middle of
	 * guest code (async true). Nonzero stops the run (VMM_STOP_HOOK). */
	int (*before_poll)(void *ctx, struct vmm *vm, bool async);
	/* Bytes just moved into the UART's receive FIFO at this poll. */
	int (*serial_in)(void *ctx, const uint8_t *buf, size_t n);
	/* Every step of the exit loop. */
	int (*on_event)(void *ctx, struct vmm *vm, const struct vmm_event *ev);
};

struct vmm_live_options {
	int serial_in_fd;               /* -1 for none */
	uint64_t timeout_ns;            /* 0 for none */
	/* How long a due timer interrupt may wait for a synchronous exit before
	 * the vCPU is kicked (0: kick at once). Delaying keeps most injection
	 * points at exits, which replay finds for free. */
	uint64_t poll_latency_ns;
	bool chaos;                     /* perturb timer delivery (rr's chaos mode) */
	uint64_t chaos_seed;
	/* Defer polls that land in guest user mode to the next kernel-mode or
	 * synchronous point (hosts that cannot trap debug events at CPL3). */
	bool defer_cpl3;
};

enum vmm_stop_reason {
	VMM_STOP_GUEST_EXIT,    /* isa-debug-exit; exit_value is the value written */
	VMM_STOP_HALTED,        /* HLT with interrupts off and nothing pending */
	VMM_STOP_SHUTDOWN,      /* triple fault */
	VMM_STOP_ERROR,         /* internal error / unknown exit (ev says which) */
	VMM_STOP_TIMEOUT,
	VMM_STOP_DEBUG,         /* breakpoint, watchpoint or single-step exit */
	VMM_STOP_REQUESTED,     /* vmm_live_request_stop() */
	VMM_STOP_HOOK,          /* a hook returned nonzero (hook_rc) */
};
const char *vmm_stop_reason_name(enum vmm_stop_reason r);

struct vmm_live_result {
	enum vmm_stop_reason reason;
	uint32_t exit_value;
	int hook_rc;
	struct vmm_event ev;    /* the last event */
};

/* rrvm's exit status for a stop (DESIGN.md): (V << 1) | 1 for
 * isa-debug-exit, 0 halted, 124 timeout, 4 crash. */
int vmm_exit_status(enum vmm_stop_reason r, uint32_t exit_value);

struct vmm_live;
int vmm_live_create(struct vmm *vm, const struct vmm_live_options *opts,
		    const struct vmm_live_hooks *hooks, struct vmm_live **out,
		    struct vmm_error *err) VMM_MUST_CHECK;
void vmm_live_destroy(struct vmm_live *l);
/* The live clock (host time, moved forward by chaos mode): install it with
 * vmm_set_clock(vm, (struct vmm_clock){ vmm_live_clock, live }) or wrap it. */
uint64_t vmm_live_clock(void *live, enum vmm_clock_kind kind);
/* Run until the guest stops or something needs the caller. Can be called
 * again after VMM_STOP_DEBUG / VMM_STOP_REQUESTED to go on. */
int vmm_live_run(struct vmm_live *l, struct vmm_live_result *res, struct vmm_error *err) VMM_MUST_CHECK;
/* Make a running vmm_live_run return VMM_STOP_REQUESTED. Async-signal-safe,
 * any thread. */
void vmm_live_request_stop(struct vmm_live *l);

/* ---- capabilities (rrvm doctor) ----------------------------------------- */

struct vmm_host_caps {
	int api_version;
	bool sync_regs, immediate_exit, set_guest_debug, dirty_log, xsave, readonly_mem;
	bool user_msr, msr_filter, exit_hypercall, tsc_control, irqchip_available;
	int nr_memslots;
	/* Found by running probe guests: */
	bool debug_cpl0;        /* single-step / hw breakpoint trap at CPL0 */
	bool debug_cpl3;        /* ... and at CPL3 */
	bool cpuid_policy;      /* KVM_SET_CPUID2 took effect (RDRAND hidden) */
	bool pmu;               /* architectural performance counters */
	char notes[1024];       /* what the probes saw, for the report */
};
/* Probe this host. -errno with err filled when /dev/kvm can't be used. */
int vmm_probe_host(struct vmm_host_caps *caps, struct vmm_error *err) VMM_MUST_CHECK;

/* Open a file that must be a regular file (flags as for open(2)): a FIFO,
 * a device or a directory is refused at once, never blocked on. The fd, or
 * -errno with the path and what it is in err. */
int vmm_open_regular(const char *path, int flags, struct vmm_error *err) VMM_MUST_CHECK;
/* Read a whole regular file (at most VMM_MEM_MAX bytes) into a malloc'd
 * buffer the caller frees; -errno with the path in err otherwise. */
int vmm_read_file(const char *path, uint8_t **data, size_t *len, struct vmm_error *err) VMM_MUST_CHECK;

/* Open /dev/kvm with a message that says how to fix it when that fails. */
int vmm_open_kvm(struct vmm_error *err) VMM_MUST_CHECK;

#endif
