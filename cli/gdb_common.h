/*
 * gdb_common.h — rrvm's two gdb targets and what they share.
 *
 * `rrvm run --gdb` serves a live guest (gdb_live.c) and `rrvm replay --gdb`
 * a recording (gdb_replay.c). Both are struct gdb_target implementations
 * for the protocol layer in gdbstub/, built on the parts declared here:
 *   gdb_common.c  registers marshalled between vmm and the stub, guest
 *                 memory through the introspection view (one address
 *                 translation in rrvm), monitor commands, serving;
 *   gdb_bp.c      the breakpoint table: software breakpoints (int3 planted
 *                 in guest memory and hidden from reads) and the debug
 *                 registers, and which of them a debug exit reports.
 *
 * On this project's KVM backend int3 at CPL0 is not emulated: it ends in
 * a KVM internal error at the int3's address, which cli_gdb_sw_hit()
 * recognises as the breakpoint; on hardware KVM the #BP debug exit
 * (KVM_GUESTDBG_USE_SW_BP) is used. A replay never writes guest memory:
 * there, Z0 takes a debug register like Z1.
 */
#ifndef RRVM_CLI_GDB_COMMON_H
#define RRVM_CLI_GDB_COMMON_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "cli/cli.h"
#include "gdbstub/gdbstub.h"
#include "introspect/view.h"
#include "replay/replay.h"
#include "vmm/vmm.h"

/* ---- the commands' entry points ---------------------------------------- */

/*
 * `rrvm run --gdb`: listen on o->gdb, wait for gdb with the guest stopped
 * before its first instruction, serve it. Returns 0 with *res saying how
 * the guest ended — while attached, or after a detach let it run to its
 * end; gdb's kill gives VMM_STOP_REQUESTED — or an exit status (> 0)
 * after printing why rrvm cannot go on.
 */
int cli_gdb_live(struct vmm *vm, struct vmm_live *live, const struct cli_guest_opts *o,
		 struct vmm_live_result *res);

/*
 * `rrvm replay --gdb`: the same on a recording, forward only. Returns 0
 * with *res the replay's result (a detach replays on to the end; gdb's
 * kill gives REPLAY_STOP_INTERRUPTED), or an exit status (> 0).
 */
int cli_gdb_replay(struct replay *r, const char *dir, const char *addr, bool quiet,
		   bool verbose, struct replay_result *res);

/* ---- shared state --------------------------------------------------------- */

#define CLI_GDB_HW_SLOTS 4      /* x86 debug registers DR0-DR3 */
#define CLI_GDB_MAX_SW 256      /* software breakpoints planted at once */

/* One debug register. A watchpoint wider than one register allows (or
 * unaligned) takes several; they share the Z packet's addr/len. */
struct cli_gdb_hw {
	bool used;
	enum gdb_bp_type type;  /* GDB_BP_SW: a Z0 served by a debug register */
	uint64_t addr;          /* what the debug register watches */
	unsigned len;
	uint64_t z_addr, z_len; /* the Z packet this register serves */
};

/* A write watchpoint kept by single-stepping and comparing, on hosts whose
 * debug registers do not catch data accesses (see gdb_probe.c). */
#define CLI_GDB_SOFT_WATCHES 4
#define CLI_GDB_SOFT_WATCH_MAX 256
struct cli_gdb_soft {
	bool used;
	bool phys;              /* addr is guest-physical */
	bool mapped;            /* old[] holds the bytes (else they were unmapped) */
	uint64_t addr, len;
	uint8_t old[CLI_GDB_SOFT_WATCH_MAX];
};

/* One planted int3. */
struct cli_gdb_sw {
	uint64_t addr;          /* as gdb gave it (virtual, or physical in phys mode) */
	uint64_t gpa;           /* where the int3 byte is */
	uint8_t orig;           /* the byte it replaced */
};

struct cli_gdb {
	struct vmm *vm;
	struct introspect_view *view;
	bool phys;              /* monitor phys on: m/M/X/Z0 take physical addresses */
	bool read_only;         /* a replay: refuse register and memory writes */
	bool sw_in_memory;      /* Z0 plants int3 (live); else it takes a debug register */
	bool verbose;           /* say on stderr each time gdb lets the guest run on */
	bool cpl3_traps;        /* the host intercepts debug events in guest user mode */
	bool data_traps;        /* debug registers catch data accesses in kernel mode */
	bool told_soft;         /* the user was told watchpoints single-step */
	unsigned hw_slots;      /* debug registers gdb may use: 4 live, 3 on a replay */
	struct cli_gdb_hw hw[CLI_GDB_HW_SLOTS];
	struct cli_gdb_sw sw[CLI_GDB_MAX_SW];
	unsigned nsw;
	struct cli_gdb_soft soft[CLI_GDB_SOFT_WATCHES];
	/* The recording a replay target replays (monitor pt-diff), or NULL. */
	const char *recording_dir;
	/* `monitor position` text, from the target. */
	void (*position)(void *ctx, struct introspect_out *out);
	void *position_ctx;
	/* Set while the guest runs for gdb: a SIGINT to rrvm then stops it. */
	atomic_bool running;
};

/* Fill g for vm (zeroing it first). kernel_elf (may be NULL) gives the view
 * its symbols. Probes the host for CPL3 debug traps. -ENOMEM or 0. */
int cli_gdb_init(struct cli_gdb *g, struct vmm *vm, const char *kernel_elf, unsigned hw_slots,
		 bool sw_in_memory, bool read_only) VMM_MUST_CHECK;
/* Remove planted int3s, free the view. */
void cli_gdb_fini(struct cli_gdb *g);
/* The guest stopped: let the view pick up page-table changes. */
void cli_gdb_stopped(struct cli_gdb *g);

/* ---- gdb_common.c: registers, memory, monitor, serving ------------------- */

int cli_gdb_read_regs(struct cli_gdb *g, struct gdb_x86_regs *regs);
/* GPRs, rip, rflags, fs_base, gs_base and cr0/2/3/4/8/efer can change;
 * a changed selector, k_gs_base or x87/SSE register is refused (-EINVAL
 * or -EOPNOTSUPP) and nothing is written. */
int cli_gdb_write_regs(struct cli_gdb *g, const struct gdb_x86_regs *regs);
/* Guest-virtual (physical with g->phys) memory; int3s we planted read as
 * the bytes they replaced, and writes over them update those bytes. */
int cli_gdb_read_mem(struct cli_gdb *g, uint64_t addr, void *buf, size_t len);
int cli_gdb_write_mem(struct cli_gdb *g, uint64_t addr, const void *buf, size_t len);
/* The same read at a virtual address whatever monitor phys says (code at rip). */
int cli_gdb_read_mem_virt(struct cli_gdb *g, uint64_t addr, void *buf, size_t len);
/* help, regs, phys on|off, position, pt-diff (on a recording), then the
 * introspection commands of introspect_view_command (pt, translate, idt,
 * gdt, tss, cr). */
int cli_gdb_monitor(struct cli_gdb *g, const char *cmd, gdb_output_fn out, void *out_ctx);

/* Where the guest's handler for interrupt vector starts (IDT or real-mode
 * IVT through the current page tables): 0, or -EFAULT/-ENOENT. */
int cli_gdb_handler_of(struct cli_gdb *g, int vector, uint64_t *addr);

/* Listen on addr and serve gdb: what ended the session (enum
 * gdb_serve_end), or -errno after a message; *bad_addr is set when addr
 * could not be listened on (a usage error). */
int cli_gdb_serve(const struct gdb_target *t, const char *addr, bool quiet, bool *bad_addr);

/* gdb's signal numbers for a guest that crashed. */
#define CLI_GDB_SIGILL 4
#define CLI_GDB_SIGABRT 6
#define CLI_GDB_SIGSEGV 11

/* ---- gdb_probe.c ----------------------------------------------------------- */

/* Does a write watchpoint in a debug register stop a kernel-mode guest on
 * this host? Runs a tiny probe guest (in a thread of its own). */
bool cli_gdb_probe_data_bp(void);

/* ---- gdb_bp.c: breakpoints, watchpoints, debug exits ---------------------- */

int cli_gdb_insert_bp(struct cli_gdb *g, enum gdb_bp_type type, uint64_t addr, uint64_t kind,
		      char *msg, size_t msg_size);
int cli_gdb_remove_bp(struct cli_gdb *g, enum gdb_bp_type type, uint64_t addr, uint64_t kind,
		      char *msg, size_t msg_size);
/* Remove every breakpoint and watchpoint (detach). */
void cli_gdb_remove_all(struct cli_gdb *g);

/* Debug registers for the table. Instruction breakpoints at skip_at are
 * left out (to step over them: KVM reports a hardware breakpoint again at
 * once when the vCPU resumes on it); UINT64_MAX skips nothing. The replay
 * target passes this to replay_set_debug, the live one to vmm_set_debug. */
void cli_gdb_debug(const struct cli_gdb *g, uint64_t skip_at, bool single_step,
		   struct vmm_debug *d);
/* A breakpoint (hardware, or a planted int3) at rip? */
bool cli_gdb_bp_at(struct cli_gdb *g, uint64_t rip);
/* Put back (lift = true) or re-plant the original bytes under our int3s
 * at rip, to single-step over them. */
int cli_gdb_sw_lift(struct cli_gdb *g, uint64_t rip, bool lift) VMM_MUST_CHECK;
/* Did the guest stop on one of our int3s: an internal-error exit (this
 * backend) or a #BP debug exit (hardware KVM) at rip where we planted one? */
bool cli_gdb_sw_hit(struct cli_gdb *g, uint64_t rip);
/*
 * Which of our debug registers a debug exit reports (DR6): fills *stop
 * with a watchpoint (and its address), a breakpoint, or a finished single
 * step (stepping) and returns true; false if it is none of ours.
 */
/*
 * Watchpoints by single-stepping (when !data_traps): is there any; take
 * the watched values (at each resume: gdb may have written memory); after
 * a step, did one change (fills *stop with the watchpoint)?
 */
bool cli_gdb_soft_watching(const struct cli_gdb *g);
void cli_gdb_soft_snapshot(struct cli_gdb *g);
bool cli_gdb_soft_check(struct cli_gdb *g, struct gdb_stop *stop);
bool cli_gdb_explain_debug(struct cli_gdb *g, const struct vmm_event *ev, bool stepping,
			   struct gdb_stop *stop);

#endif
