/*
 * gdbstub.h — the GDB remote serial protocol server of rrvm.
 *
 * The stub knows the protocol and nothing about KVM: it reaches the machine
 * only through struct gdb_target, a table of callbacks that the VMM (live
 * guest) and the replayer (recording) implement. Registers travel as
 * struct gdb_x86_regs, which holds every register of the x86-64 target
 * description the stub sends to gdb (core, SSE, segment bases, system).
 *
 * Typical use:
 *     struct gdb_server *srv = gdb_server_create(&target, &opts);
 *     gdb_server_listen(srv, "127.0.0.1:1234");
 *     int end = gdb_server_serve(srv);      // GDB_SERVE_DETACHED, ...
 *     gdb_server_destroy(srv);
 *
 * Error replies the stub sends (uniform across packets):
 *     E22  bad parameter (malformed packet, bad hex, unknown register,
 *          overlong packet, target returned -EINVAL)
 *     E14  memory fault (target returned -EFAULT: address not mapped)
 *     E28  no space (target returned -ENOSPC: e.g. out of debug registers)
 *     E95  operation not supported by this target (-EOPNOTSUPP), e.g. bs/bc
 *          on a live guest
 *     E05  any other target failure (-EIO and the rest)
 *     E.text the same failure when the target gave a reason (last_error)
 *     ""   (empty reply) packet unknown to the stub, as the protocol asks.
 */
#ifndef RRVM_GDBSTUB_H
#define RRVM_GDBSTUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * All registers of the target description, in natural units. The stub
 * marshals them for g/G/p/P in description order, little-endian:
 * rax..r15, rip (64 bits), eflags, cs ss ds es fs gs (32 bits each),
 * st0-st7 (80 bits), fctrl..fop (32), xmm0-15 (128), mxcsr (32),
 * fs_base gs_base k_gs_base (64), cr0 cr2 cr3 cr4 cr8 efer (64).
 */
struct gdb_x86_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip;
	uint32_t eflags;
	uint32_t cs, ss, ds, es, fs, gs;
	uint8_t st[8][10];		/* x87 80-bit values, little-endian */
	uint32_t fctrl, fstat, ftag, fiseg, fioff, foseg, fooff, fop;
	uint8_t xmm[16][16];		/* little-endian 128-bit values */
	uint32_t mxcsr;
	uint64_t fs_base, gs_base, k_gs_base;
	uint64_t cr0, cr2, cr3, cr4, cr8, efer;
};

/* Number of registers in the description (p/P accept 0..GDB_X86_NREGS-1). */
#define GDB_X86_NREGS 66

/* Register numbers of a few registers, for p/P users and tests. */
enum {
	GDB_REG_RAX = 0,
	GDB_REG_RSP = 7,
	GDB_REG_RIP = 16,
	GDB_REG_EFLAGS = 17,
	GDB_REG_CS = 18,
	GDB_REG_ST0 = 24,
	GDB_REG_FCTRL = 32,
	GDB_REG_XMM0 = 40,
	GDB_REG_MXCSR = 56,
	GDB_REG_FS_BASE = 57,
	GDB_REG_GS_BASE = 58,
	GDB_REG_K_GS_BASE = 59,
	GDB_REG_CR0 = 60,
	GDB_REG_CR3 = 62,
	GDB_REG_EFER = 65,
};

/* What a Z/z packet asks for; values are the packet's type digit. */
enum gdb_bp_type {
	GDB_BP_SW = 0,
	GDB_BP_HW = 1,
	GDB_WATCH_WRITE = 2,
	GDB_WATCH_READ = 3,
	GDB_WATCH_ACCESS = 4,
};

enum gdb_resume {
	GDB_RESUME_CONTINUE,
	GDB_RESUME_STEP,
	GDB_RESUME_REVERSE_CONTINUE,
	GDB_RESUME_REVERSE_STEP,
};

/* Signal numbers in gdb's numbering (equal to Linux's for these). */
#define GDB_SIGINT 2
#define GDB_SIGTRAP 5

enum gdb_stop_kind {
	GDB_STOP_SIGNAL,	/* plain stop with .signal (step done, Ctrl-C) */
	GDB_STOP_SWBREAK,	/* software breakpoint hit (SIGTRAP) */
	GDB_STOP_HWBREAK,	/* hardware breakpoint hit (SIGTRAP) */
	GDB_STOP_WATCH,		/* write watchpoint hit at .addr */
	GDB_STOP_RWATCH,	/* read watchpoint hit at .addr */
	GDB_STOP_AWATCH,	/* access watchpoint hit at .addr */
	GDB_STOP_EXITED,	/* target exited with .status: W reply, serve ends */
	GDB_STOP_KILLED,	/* target died (crash) with .signal: X reply, serve ends */
	GDB_STOP_REPLAY_BEGIN,	/* reverse execution reached the recording's start */
	GDB_STOP_REPLAY_END,	/* forward replay reached the recording's end */
};

/*
 * Why resume returned. .signal is used by SIGNAL and KILLED (for the
 * breakpoint, watch and replay kinds the stub reports SIGTRAP whatever
 * .signal says); .addr is the data address of a watchpoint hit; .status
 * is the exit status of EXITED (0-255).
 */
struct gdb_stop {
	enum gdb_stop_kind kind;
	int signal;
	uint64_t addr;
	int status;
};

/* Sink for monitor output: text need not be NUL-terminated. */
typedef void (*gdb_output_fn)(void *out_ctx, const char *text, size_t len);

/*
 * For a monitor command, between pieces of a long job: true once its
 * output is no longer wanted, so the command should stop early (printing
 * one line that says so). out_ctx is the one monitor() was given. It never
 * blocks: it looks at what the client has sent. Wanted no more: a 0x03
 * (Ctrl-C) from the client, which then still waits for the command's end;
 * a new packet, which means the client gave up waiting (gdb does that on
 * Ctrl-C during a monitor command: it stops reading and sends nothing
 * until its next command); or the client went away. Once true, stays true.
 */
bool gdb_monitor_interrupted(void *out_ctx);

/*
 * For a monitor command about to run the target for long without output
 * (a replay's goto): with on, until it is turned off (or the command
 * returns), another thread watches the client, and what makes
 * gdb_monitor_interrupted true (0x03, a new packet, the client gone) also
 * calls target->interrupt() at once, from that thread. Output through
 * out() stays allowed (the watch pauses while it is sent). Once the
 * command no longer runs the target, turn it off: an interrupt may then
 * still be pending in the target, which should drop it.
 */
void gdb_monitor_watch(void *out_ctx, bool on);

/*
 * The machine seen by the stub. Every callback gets .ctx first. Unless
 * stated, callbacks are called from the thread running gdb_server_serve()
 * while the target is stopped, and return 0 or -errno.
 */
struct gdb_target_ops {
	int (*read_regs)(void *ctx, struct gdb_x86_regs *regs);
	int (*write_regs)(void *ctx, const struct gdb_x86_regs *regs);
	/*
	 * Guest-virtual memory. All or nothing: return 0 with every byte
	 * copied, or -EFAULT (nothing meaningful in buf) if any byte is not
	 * mapped. The stub never asks for a range that crosses a 4 KiB page
	 * boundary, and builds partial reads ("the first N bytes") itself.
	 */
	int (*read_mem)(void *ctx, uint64_t addr, void *buf, size_t len);
	int (*write_mem)(void *ctx, uint64_t addr, const void *buf, size_t len);
	/*
	 * Breakpoints and watchpoints. kind is the Z packet's kind: the
	 * instruction length for breakpoints (1 on x86), the watched length
	 * for watchpoints. Return 0, -ENOSPC (no free debug register),
	 * -EINVAL (bad address/length), -EOPNOTSUPP (type not available here);
	 * msg (msg_size bytes, may be left empty) can explain why, and the
	 * stub passes it to the log callback.
	 */
	int (*insert_bp)(void *ctx, enum gdb_bp_type type, uint64_t addr,
			 uint64_t kind, char *msg, size_t msg_size);
	int (*remove_bp)(void *ctx, enum gdb_bp_type type, uint64_t addr,
			 uint64_t kind, char *msg, size_t msg_size);
	/*
	 * Run until something stops the target and fill *stop. Reverse modes
	 * are only asked for when GDB_TARGET_CAN_REVERSE is set. Returning
	 * -errno means the target did not run; the stub sends an error reply.
	 */
	int (*resume)(void *ctx, enum gdb_resume how, struct gdb_stop *stop);
	/*
	 * Called from another thread (the stub's watcher) when gdb sends
	 * Ctrl-C or disconnects while resume() runs (or while a monitor
	 * command runs under gdb_monitor_watch): make that resume return
	 * soon with {GDB_STOP_SIGNAL, GDB_SIGINT}. Must be thread-safe and
	 * must not block. It can also arrive just before resume() starts
	 * (honour it then) or race with a resume that is already returning
	 * for another reason (the target may then keep it pending for the
	 * next resume or drop it; both are acceptable).
	 */
	void (*interrupt)(void *ctx);
	/*
	 * "monitor CMD" from gdb. Write any output through out(out_ctx, ...)
	 * (the stub forwards it to gdb's console as it comes); return 0, or
	 * -errno for a command that failed (the error is then reported after
	 * the output). NULL: gdb is told monitor commands are unsupported.
	 */
	int (*monitor)(void *ctx, const char *cmd, gdb_output_fn out, void *out_ctx);
	/* gdb's "kill": stop the guest for good. serve() then returns. */
	void (*kill)(void *ctx);
	/* gdb's "detach": let the guest run on. serve() then returns. */
	void (*detach)(void *ctx);
	/*
	 * Optional. gdb's "run" on `target extended-remote` (vRun): start the
	 * machine again from the beginning and fill *stop with where it
	 * waits (before its first instruction). With it the stub accepts
	 * extended mode ('!'): there kill (vKill, k) and the target's exit
	 * keep the connection, so that gdb can run again; serve() returns
	 * when that client goes.
	 */
	int (*restart)(void *ctx, struct gdb_stop *stop);
	/*
	 * Optional. Why the callback that just failed failed (one line), or
	 * NULL; the stub sends it as an "E.text" error reply, which gdb shows
	 * for register writes, "Z1" (as "E.Z1.text") and stop replies. The
	 * text is taken: the next call returns NULL unless another failure
	 * set one.
	 */
	const char *(*last_error)(void *ctx);
};

#define GDB_TARGET_CAN_REVERSE 0x1u	/* advertise and accept bs/bc */

struct gdb_target {
	const struct gdb_target_ops *ops;
	void *ctx;
	unsigned flags;			/* GDB_TARGET_* */
	/*
	 * Host path of the guest kernel ELF, or NULL. When set, gdb is told
	 * it (qXfer:exec-file:read) and may read that one file, read-only,
	 * through the stub (vFile:open/pread/close), so it loads the kernel's
	 * symbols without a "file" command. No other host file is served.
	 */
	const char *exec_file;
};

enum gdb_log_level { GDB_LOG_INFO, GDB_LOG_WARN, GDB_LOG_ERROR };

/* Options; a zeroed struct (or NULL) means the defaults. */
struct gdb_server_options {
	/* Messages about connections, bad packets, refused breakpoints. */
	void (*log)(void *log_ctx, enum gdb_log_level level, const char *msg);
	void *log_ctx;
	/* Largest packet accepted and sent (PacketSize); 0 = 16384. Min 2048. */
	size_t packet_size;
};

/* Why gdb_server_serve() returned (values > 0; errors are -errno). */
enum gdb_serve_end {
	GDB_SERVE_DETACHED = 1,		/* D: the guest runs on */
	GDB_SERVE_KILLED,		/* k: target->kill was called */
	GDB_SERVE_EXITED,		/* the target reported EXITED or KILLED */
	GDB_SERVE_DISCONNECTED,		/* only from serve_fd: the client left */
};

struct gdb_server;

#define GDB_DEFAULT_ADDR "127.0.0.1:1234"

/*
 * Make a server for target (copied, exec_file too; ops and ctx must
 * outlive the server).
 * Returns NULL if out of memory or if target has a NULL read_regs,
 * read_mem or resume (errno says which: ENOMEM or EINVAL).
 */
struct gdb_server *gdb_server_create(const struct gdb_target *target,
				     const struct gdb_server_options *opts);

/*
 * Listen on addr: "HOST:PORT", ":PORT" or "PORT" (host 127.0.0.1),
 * "[IPV6]:PORT", "unix:PATH", or NULL for GDB_DEFAULT_ADDR. Port 0 picks
 * a free port (see gdb_server_port). A Unix socket is created with mode
 * 0600 from the start; an existing socket at PATH is replaced, any other
 * file there is refused (-EEXIST). A non-loopback address is allowed but
 * logged as a warning. Returns 0 or -errno (-EINVAL for a malformed addr).
 */
__attribute__((warn_unused_result))
int gdb_server_listen(struct gdb_server *srv, const char *addr);

/* The TCP port actually bound, or -EINVAL if not listening on TCP. */
int gdb_server_port(const struct gdb_server *srv);

/*
 * Serve gdb clients one at a time, each until it disconnects (the target
 * then stays stopped and the next client is awaited) or until it detaches,
 * kills, or the target exits. A client that connects while another is
 * served is refused at once: its first packet gets "E.rrvm: another gdb is
 * already connected ..." and the connection is closed. Returns enum
 * gdb_serve_end or -errno.
 */
__attribute__((warn_unused_result))
int gdb_server_serve(struct gdb_server *srv);

/*
 * Serve one already-connected client on fd (a socket; not closed here).
 * Same as one round of serve(), and may also return GDB_SERVE_DISCONNECTED.
 * One client at a time: calls on one server must not overlap.
 */
__attribute__((warn_unused_result))
int gdb_server_serve_fd(struct gdb_server *srv, int fd);

/*
 * For a signal handler that ends the process unless the target is running
 * (rrvm's SIGINT/SIGTERM/SIGHUP policy while gdb holds the guest): remove
 * the Unix socket file of every server whose target is not inside
 * resume() right now. Async-signal-safe; servers go on working (a TCP
 * server is not affected). A server is in the table from a successful
 * unix: listen until it is destroyed (up to 8 at once).
 */
void gdb_server_signal_unlink(void);

/* Close the listener (removing a Unix socket path), end the server's
 * Ctrl-C watcher thread and free everything. */
void gdb_server_destroy(struct gdb_server *srv);

#endif
