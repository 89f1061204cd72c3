/*
 * vmm.h — the machine: one KVM VM with one vCPU, guest RAM, a Multiboot
 * loader, the legacy PC devices, and the exit loop.
 *
 * Everything above vmm/ (the live driver's hooks, the recorder, the
 * replayer, the gdb target, introspection) sees the machine only through
 * this header. Interrupts are always injected from userspace by the
 * machine (no in-kernel irqchip): that is what makes recording possible.
 *
 * Positions: vmm counts the guest's synchronous exits (port I/O, MMIO, MSR,
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
/* The one error-setting helper of rrvm: format into msg (size bytes,
 * always terminated); nothing when msg is NULL. Each module's error struct
 * starts with its char msg[] (tracedb's too), so one macro per struct
 * passes it with its size; err may be NULL. */
void vmm_msg_set(char *msg, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define vmm_error_set(err, ...) vmm_msg_set((char *)(void *)(err), sizeof((err)->msg), __VA_ARGS__)

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
	VMM_EV_IO,              /* a port, MMIO or MSR exit was handled (counted) */
	VMM_EV_HLT,             /* the guest executed HLT (counted)              */
	VMM_EV_IRQ_WINDOW,      /* the guest became interruptible (not counted:
				 * some backends report it late, at no fixed
				 * instruction) */
	VMM_EV_KICK,            /* KVM_RUN interrupted by the host (not counted) */
	VMM_EV_DEBUG,           /* breakpoint, watchpoint or single step         */
	VMM_EV_GUEST_EXIT,      /* the guest wrote isa-debug-exit (counted)      */
	VMM_EV_WRITE,           /* the guest wrote a page protected with
				 * vmm_protect_pages; rrvm completed the write
				 * (not counted: a debugger's exit) */
	VMM_EV_SHUTDOWN,        /* triple fault                                  */
	VMM_EV_ERROR,           /* KVM internal error or an exit rrvm can't handle */
};

struct vmm_event {
	enum vmm_event_kind kind;
	uint64_t exits;         /* synchronous exits so far, this one included */
	uint64_t rip;           /* where the exit happened */
	int injected;           /* vector injected on entry to this step, or -1 */
	/* Where the injected interrupt came from: enum vmm_irq_source, and
	 * the I/O APIC pin or LINT number it arrived on (else 0). */
	uint8_t injected_source, injected_detail;
	union {
		struct {
			uint64_t addr;  /* port, or guest-physical address for MMIO */
			uint32_t size;
			bool write;
			bool mmio;
			bool msr;       /* rdmsr/wrmsr served from userspace (addr = MSR) */
			uint64_t value; /* value written, or value returned to the guest */
		} io;
		struct {
			uint32_t exception;     /* 1 = #DB, 3 = #BP */
			uint64_t pc, dr6, dr7;
		} debug;
		struct {
			uint64_t gpa;   /* VMM_EV_WRITE: where, and how many bytes */
			uint32_t len;
			bool is_write;  /* false: a read KVM passed on (served from RAM) */
		} write;
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

/*
 * Finish the port or MMIO exit KVM left unfinished (an IN's value into RAX,
 * rip past the instruction), as the next entry would, without running the
 * guest. The state after an exit is the finished one wherever rrvm stops
 * to look at it (snapshots, a replay stopped by position): a step from an
 * unfinished exit would only finish it, so positions counted in steps
 * would depend on whether someone had looked. No-op when nothing is
 * unfinished.
 */
int vmm_finish_exit(struct vmm *vm, struct vmm_error *err) VMM_MUST_CHECK;

/* When vmm_step injects the PIC's pending interrupt. */
enum vmm_inject_mode {
	VMM_INJECT_LIVE,        /* whenever the guest can take it; else ask KVM
				 * for an interrupt-window exit */
	VMM_INJECT_NOW_ONLY,    /* whenever the guest can take it; no windows */
	VMM_INJECT_HOLD,        /* never (replay between logged points) */
};
void vmm_set_inject_mode(struct vmm *vm, enum vmm_inject_mode mode);
/*
 * The halt rule, the one place that says when a halted guest wakes: after
 * a HLT exit the vCPU is halted until its next entry. It wakes when an
 * interrupt is pending (the entry delivers it); with none pending it
 * waits, for good if interrupts are off (the guest is done: exit status
 * 0). Entering a halted vCPU without an interrupt would run on after the
 * HLT as if one had come, so every driver (the live one, the debugger's
 * steps) waits while this says WAIT, also after a debugger stopped it.
 */
enum vmm_halt {
	VMM_HALT_RUNNING,       /* not halted */
	VMM_HALT_WAKE,          /* halted, an interrupt is pending: enter to take it */
	VMM_HALT_WAIT,          /* halted, interrupts on, nothing pending yet */
	VMM_HALT_DEAD,          /* halted with interrupts off and nothing pending */
};
enum vmm_halt vmm_halt_state(const struct vmm *vm);
/* Would vmm_step inject an interrupt on its next entry? */
bool vmm_can_inject(const struct vmm *vm);
/* Is the vCPU at a point that a state fingerprint cannot name: interrupts
 * enabled but blocked, i.e. an injected interrupt not yet delivered or an
 * interrupt shadow (sti, mov ss)? A poll must not be placed there. */
bool vmm_interrupt_blocked(const struct vmm *vm);

/* Synchronous exits so far: the machine's position counter. */
uint64_t vmm_exits(const struct vmm *vm);
/* Drop the guest's output (serial, debug console) made while vmm_exits()
 * is below `exits` (by the first `exits` exits and the polls between
 * them): a debugger that goes back and replays again (debug/timeline.c)
 * so does not print it twice. 0 (the default): nothing dropped. */
void vmm_mute_output_below(struct vmm *vm, uint64_t exits);
/* The value last set (0: nothing muted), to put back after a stretch of
 * guest execution that is muted for its own reasons (replay/fastsearch.c). */
uint64_t vmm_muted_below(const struct vmm *vm);

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
/* A vector the machine would deliver now (the local APIC's, else the
 * 8259's through LINT0), or -1; 2 for an NMI. */
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
/* The same but kernel_gs_base (left 0): no MSR read, so right after an
 * exit no vCPU ioctl at all (synced registers). For page walks. */
int vmm_get_sregs_nomsr(struct vmm *vm, struct vmm_sregs *s) VMM_MUST_CHECK;
int vmm_set_sregs(struct vmm *vm, const struct vmm_sregs *s) VMM_MUST_CHECK;
/* The x87/SSE state, 512 bytes in FXSAVE layout, MXCSR included (read
 * from the XSAVE area: KVM_GET_FPU never fills MXCSR). The host-specific
 * bytes (MXCSR_MASK, the unused tail) are zero, so images compare across
 * hosts. */
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
 * registered with vmm_dirty_track() (acc may be NULL). Users clear their
 * own bitmaps. */
int vmm_dirty_collect(struct vmm *vm, uint64_t *acc) VMM_MUST_CHECK;
/* Register a bitmap that every collect updates. At most
 * VMM_DIRTY_TRACKERS. rrvm's own writes (vmm_write_phys: the loader, gdb
 * memory writes, planted int3s) and snapshot restores mark the pages they
 * change in every registered bitmap at once; an unregistered acc passed
 * to vmm_dirty_collect sees only the guest's writes. */
#define VMM_DIRTY_TRACKERS 4
int vmm_dirty_track(struct vmm *vm, uint64_t *bitmap) VMM_MUST_CHECK;
void vmm_dirty_untrack(struct vmm *vm, uint64_t *bitmap);
size_t vmm_dirty_words(const struct vmm *vm);

/*
 * Write-protected pages, for a debugger's write watchpoints where the debug
 * registers do not catch data accesses (protect.c): make exactly these
 * guest-physical frames (at most VMM_PROTECT_MAX; n = 0: none) read-only
 * to the guest. A guest write to one then ends vmm_step with VMM_EV_WRITE
 * after rrvm has written the bytes to RAM and marked the page as written
 * (snapshots, dirty trackers); it is not a synchronous exit and does not
 * change the guest's execution. -EOPNOTSUPP without read-only memory
 * slots (KVM_CAP_READONLY_MEM), -EFAULT for a frame outside RAM; on
 * failure no page is protected.
 */
#define VMM_PROTECT_MAX 16
int vmm_protect_pages(struct vmm *vm, const uint64_t *frames, unsigned n,
		      struct vmm_error *err) VMM_MUST_CHECK;
bool vmm_can_protect(struct vmm *vm);
/* The frames protected now (into frames, if not NULL), and their number. */
unsigned vmm_protected_pages(const struct vmm *vm, uint64_t *frames);
bool vmm_protected(const struct vmm *vm, uint64_t gpa);
/* How to find the page an interrupt frame goes to (guest-virtual rsp to
 * physical, through the guest's page tables: the debugger's view). Without
 * it, every protected page is writable during an entry that delivers an
 * interrupt (the CPU's push of the frame cannot be trapped). */
void vmm_protect_set_translate(struct vmm *vm, int (*translate)(void *ctx, uint64_t va, uint64_t *pa),
			       void *ctx);

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
/*
 * The interrupt-aware single step, for every debugger of the machine (the
 * gdb core on a live guest, the replayer on a replay): an entry that
 * injects an interrupt must not be single-stepped, because KVM would leave
 * RFLAGS.TF in the interrupt frame (the guest takes #DB after its iretq,
 * and a replay diverges). Instead it runs to a breakpoint at the handler
 * (from introspect_view_handler), the step's end. This turns d's single
 * step into that breakpoint, in a free slot other than `reserved` (-1:
 * none), else the first other slot (no instruction runs before it fires,
 * so the borrowed breakpoint misses nothing). Returns the slot.
 */
int vmm_debug_step_to_handler(struct vmm_debug *d, uint64_t handler, int reserved);
/* After a debug exit: was it the handler breakpoint of that slot (-1:
 * none)? Then report it as the finished single step it stands for
 * (DR6.BS instead of the slot's bit). */
void vmm_debug_step_done(struct vmm_event *ev, int slot);

/* A digest of the final guest state: registers, segment and control
 * registers, and all of guest RAM. */
int vmm_state_hash(struct vmm *vm, uint64_t *hash) VMM_MUST_CHECK;
/* A hash of every device's state (PIC, PIT, UART, LAPIC...): not part of
 * the recorded final hash, so that recordings keep verifying, but what
 * `monitor hash` shows next to it, so that a point reached backwards can be
 * compared with the same point reached forwards. */
uint64_t vmm_devices_hash(const struct vmm *vm);

/* A fast 64-bit hash for fingerprints and state digests (not
 * cryptographic: it detects accidents, not adversaries). */
uint64_t vmm_hash(const void *data, size_t len, uint64_t seed);

/* Print the machine's position (exit count, halt, injection mode, pending
 * interrupt) and the vCPU's general, segment and control registers, for
 * crash reports and failed checks. Never fails: what cannot be read (a bad
 * vCPU fd, a failing ioctl) is printed as unavailable, with the reason. */
void vmm_dump_regs(struct vmm *vm, FILE *f);

/* ---- internal invariants (check.c) -----------------------------------------
 * VMM_CHECK(vm, cond, fmt, ...): cond is something only a bug in rrvm can
 * make false. If it is, print one line
 *   rrvm: internal error at FILE:LINE in FUNC: COND: <message>
 * to stderr, then the machine's state (vmm_dump_regs; vm may be NULL: then
 * it says there is no machine), and abort(). Always on: not <assert.h>,
 * not affected by NDEBUG. Bad input (a damaged recording, a hostile guest,
 * a malformed packet) is never a check: it gets an error return. The
 * message gives the values involved. The condition is evaluated once; the
 * arguments only when it fails. */
#define VMM_CHECK(vm, cond, ...)                                                        \
	do {                                                                            \
		if (__builtin_expect(!(cond), 0))                                       \
			vmm_check_fail((vm), NULL, NULL, __FILE__, __LINE__, __func__, #cond, \
				       __VA_ARGS__);                                    \
	} while (0)
/* The failure behind VMM_CHECK. extra (may be NULL) prints more context
 * after the machine's state, e.g. the replay's position (REPLAY_CHECK). */
void vmm_check_fail(struct vmm *vm, void (*extra)(void *ctx, FILE *f), void *ctx,
		    const char *file, int line, const char *func, const char *cond,
		    const char *fmt, ...)
	__attribute__((noreturn, cold, format(printf, 8, 9)));

/* The file name of the kernel the machine booted, and its Multiboot entry. */
const char *vmm_kernel_path(const struct vmm *vm);

/* ---- snapshots ------------------------------------------------------------
 * A snapshot is the machine at one moment, complete enough that restoring
 * it and running on gives the same future as the original did from there
 * (same guest state at the same exit count, same device output), given
 * the same clock values and input: the clock and input are the driver's,
 * not the machine's, and a driver that restores puts them back too (the
 * replayer its log position; `rrvm run`'s host clock simply moves on).
 *
 * Saved: the vCPU (general, segment, control and debug registers, the
 * XSAVE area with MXCSR, XCR0, the MSRs of a 64-bit kernel, pending
 * events: an injected but undelivered interrupt, exception, NMI, the
 * interrupt shadow), what the last exit said about interruptibility, the
 * exit count, the inject mode, the guest's isa-debug-exit request, every
 * device's state (the device table, state_size bytes each), and guest RAM.
 * Not saved: the guest TSC (host time; guests must not depend on it),
 * breakpoints and single-step (vmm_set_debug: the debugger's, not the
 * guest's), kick requests and timers, the clock and output callbacks.
 *
 * Memory is incremental and shared: pages live in a content-addressed
 * store (struct vmm_pagestore), and a save reads only the pages written
 * since the machine's previous save or restore (KVM's dirty log for guest
 * writes, vmm_write_phys for rrvm's own), so the first save reads all of
 * RAM and later ones a few pages. A restore rewrites only the pages that
 * differ, and marks each page it rewrites in every registered dirty
 * tracker (vmm_dirty_track), after first draining KVM's log into them: a
 * tracker so sees every page whose content changed, by the guest or by the
 * restore. A tracker that must hold exactly "pages the guest wrote since
 * X" (the replayer's fingerprint window) saves its bitmap with its own
 * state and puts it back after the restore.
 *
 * Restoring into another machine works when its RAM size is the same.
 * After a failed restore the machine is in an undefined state: restore
 * again or destroy it.
 */
#define VMM_PAGE_SIZE 4096u

/* Pages by content: each distinct 4 KiB content held once, by id, with a
 * reference count. No KVM inside; tested on plain buffers. */
struct vmm_pagestore;
struct vmm_pagestore_stats {
	uint64_t pages;         /* distinct pages held */
	uint64_t data_bytes;    /* pages * VMM_PAGE_SIZE */
	uint64_t bytes;         /* all the store holds: pages and index */
	uint64_t refs;          /* references held (snapshot frames and machines) */
	uint64_t puts;          /* pages offered so far */
	uint64_t dedup_hits;    /* of those, contents already held */
};
int vmm_pagestore_new(struct vmm_pagestore **out) VMM_MUST_CHECK;
/* Drop the caller's hold. The store goes when its snapshots and the
 * machines based on it are gone too, so the order of frees is free. */
void vmm_pagestore_free(struct vmm_pagestore *ps);
/* Hold a page with this content: *id names it, with one reference taken.
 * Equal contents get equal ids. -ENOMEM leaves the store as it was. */
int vmm_pagestore_put(struct vmm_pagestore *ps, const void *page, uint32_t *id) VMM_MUST_CHECK;
void vmm_pagestore_ref(struct vmm_pagestore *ps, uint32_t id);
/* Drop a reference; the page goes with its last. */
void vmm_pagestore_unref(struct vmm_pagestore *ps, uint32_t id);
/* The page's bytes, or NULL for an id not held. */
const uint8_t *vmm_pagestore_data(const struct vmm_pagestore *ps, uint32_t id);
uint32_t vmm_pagestore_refs(const struct vmm_pagestore *ps, uint32_t id);
void vmm_pagestore_stats(const struct vmm_pagestore *ps, struct vmm_pagestore_stats *st);

struct vmm_snapshot;
struct vmm_snapshot_info {
	uint64_t exits;         /* the machine's position when saved */
	uint64_t frames;        /* guest RAM pages it maps */
	uint64_t pages_read;    /* frames this save stored (written since the
				 * previous save/restore; all when full, though
				 * frames the host never backed are known zero
				 * and not touched) */
	uint64_t pages_new;     /* of those, contents the store did not hold */
	uint64_t pages_unique;  /* pages no one else references now: freeing the
				 * snapshot returns pages_unique * VMM_PAGE_SIZE
				 * of the store (counted when asked; UINT64_MAX
				 * if that ran out of memory) */
	uint64_t state_bytes;   /* bytes of its own beside the pages: vCPU,
				 * devices, and the parts of its page map no
				 * other snapshot or machine shares (maps share
				 * unchanged 2 MiB regions) */
	unsigned ioctls;        /* KVM calls the save made */
	bool full;              /* no earlier image to build on */
};
struct vmm_restore_stats {
	uint64_t pages_compared;        /* pages that might differ */
	uint64_t pages_written;         /* of those, pages that did */
	unsigned ioctls;
};
/* Save the machine into a new snapshot whose pages go to ps. The vCPU
 * must not be running (call it from the vCPU thread between steps). */
int vmm_snapshot_save(struct vmm *vm, struct vmm_pagestore *ps, struct vmm_snapshot **out,
		      struct vmm_error *err) VMM_MUST_CHECK;
/* Put the machine back to s (see above). stats may be NULL. */
int vmm_snapshot_restore(struct vmm *vm, const struct vmm_snapshot *s,
			 struct vmm_restore_stats *stats, struct vmm_error *err) VMM_MUST_CHECK;
void vmm_snapshot_free(struct vmm_snapshot *s);
/* The store holding the machine's last saved or restored image, or NULL:
 * a user that saves a snapshot of its own into it shares the pages and
 * reads only what was written since (a save into another store reads
 * all of RAM). The caller does not hold a reference. */
struct vmm_pagestore *vmm_snapshot_store(const struct vmm *vm);
void vmm_snapshot_info(const struct vmm_snapshot *s, struct vmm_snapshot_info *info);

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
	/* Optional. The guest halted and the driver is about to sleep until
	 * host monotonic time wake_ns at the latest (UINT64_MAX: until input
	 * or a signal comes). Nothing enters the guest before it returns. */
	void (*idle)(void *ctx, uint64_t wake_ns);
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
/*
 * A debugger's hold on guest time: hold freezes the live clock where it
 * is; advance moves the frozen clock forward (by the guest's progress
 * while the debugger steps it); release lets it run with host time again
 * from the value reached, so the time the guest spent stopped in the
 * debugger never reaches it. vmm_live_run must not be called while held.
 */
void vmm_live_clock_hold(struct vmm_live *l);
void vmm_live_clock_advance(struct vmm_live *l, uint64_t ns);
void vmm_live_clock_release(struct vmm_live *l);
/* Run until the guest stops or something needs the caller. Can be called
 * again after VMM_STOP_DEBUG / VMM_STOP_REQUESTED to go on. */
int vmm_live_run(struct vmm_live *l, struct vmm_live_result *res, struct vmm_error *err) VMM_MUST_CHECK;
/* A halted guest (vmm_halt_state WAIT): wait as vmm_live_run would (host
 * time, serial input, polls) until an interrupt can wake it, without
 * entering the guest. 0 then; 1 with res->reason when something else
 * ended the wait (VMM_STOP_REQUESTED, TIMEOUT, HOOK, HALTED). */
int vmm_live_wait_halted(struct vmm_live *l, struct vmm_live_result *res) VMM_MUST_CHECK;
/* Make a running vmm_live_run return VMM_STOP_REQUESTED. Async-signal-safe,
 * any thread. */
void vmm_live_request_stop(struct vmm_live *l);

/* ---- capabilities (rrvm doctor) ----------------------------------------- */

/* CPUID.1:ECX bits the CPUID policy may clear. */
#define VMM_CPUID1_ECX_X2APIC (1u << 21)
#define VMM_CPUID1_ECX_TSC_DEADLINE (1u << 24)
#define VMM_CPUID1_ECX_RDRAND (1u << 30)

struct vmm_host_caps {
	int api_version;
	bool sync_regs, immediate_exit, set_guest_debug, dirty_log, xsave, readonly_mem;
	bool user_msr, msr_filter, exit_hypercall, tsc_control, irqchip_available;
	int nr_memslots;
	/* Found by running probe guests: */
	bool debug_cpl0;        /* single-step / hw breakpoint trap at CPL0 */
	bool debug_cpl3;        /* ... and at CPL3 */
	bool data_bp_cpl0;      /* a write watchpoint (debug register) traps at CPL0 */
	bool cpuid_policy;      /* KVM_SET_CPUID2 took effect (RDRAND hidden) */
	/* The CPUID.1:ECX bits the policy clears, each probed: which of them
	 * the guest really sees cleared (mask of VMM_CPUID1_ECX_*). */
	uint32_t cpuid1_ecx_policy, cpuid1_ecx_honoured;
	bool pmu;               /* architectural performance counters */
	char notes[1024];       /* what the probes saw, for the report */
};
/* Probe this host. -errno with err filled when /dev/kvm can't be used. */
int vmm_probe_host(struct vmm_host_caps *caps, struct vmm_error *err) VMM_MUST_CHECK;
/* One question about this host, answered by its probe guest the first time
 * it is asked in this process and kept (false when /dev/kvm cannot be
 * used). Thread-safe. */
enum vmm_host_question {
	VMM_HOST_DEBUG_CPL3,            /* vmm_host_caps.debug_cpl3 */
	VMM_HOST_DATA_BP_CPL0,          /* vmm_host_caps.data_bp_cpl0 */
	VMM_HOST_QUESTIONS
};
bool vmm_host_can(enum vmm_host_question q);

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
