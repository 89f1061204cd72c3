/*
 * view.h — introspection of a live machine: the bridge between the
 * buffer-based introspection library (introspect.h) and a running vmm.
 *
 * A view reads the vCPU's control registers and guest RAM through vmm's
 * state interface, keeps a shadow of the page-table pages (refreshed from
 * the dirty log at every stop, so unchanged tables are not re-read), loads
 * the guest kernel's ELF symbols, and runs the introspection monitor
 * commands that gdb's `monitor` (and later the shell) exposes:
 *   pt [--limit N] [VA [VA_END]], pt --raw VA, translate VA, idt, gdt, tss, cr
 * (and shadow, the cache's statistics; see introspect_view_help()).
 * It also gives gdb its guest-virtual memory access, so that there is one
 * address translation in rrvm.
 */
#ifndef RRVM_INTROSPECT_VIEW_H
#define RRVM_INTROSPECT_VIEW_H

#include <stddef.h>
#include <stdint.h>

#include "introspect/introspect.h"
#include "vmm/vmm.h"

struct introspect_view;

/* kernel_elf may be NULL (no symbols). NULL on out of memory. */
struct introspect_view *introspect_view_new(struct vmm *vm, const char *kernel_elf);
void introspect_view_free(struct introspect_view *v);

/* The guest has stopped: pick up page-table pages it wrote since the last
 * refresh. Cheap when nothing changed. */
void introspect_view_refresh(struct introspect_view *v);
/* Forget every cached page-table page: for when guest RAM changed behind
 * the guest's back (a checkpoint restored, another writer than this view)
 * or when the caller must not read the shared dirty log (it would take
 * the bits from a user that has not registered with vmm_dirty_track). */
void introspect_view_invalidate(struct introspect_view *v);

/* `pt` lists at most this many ranges unless told otherwise (--limit N),
 * then says how many more there are and how to see them. */
#define INTROSPECT_VIEW_PT_LIMIT 256
#define INTROSPECT_VIEW_PT_LIMIT_STR "256"

/* Run one monitor command line. Returns 1 when it was an introspection
 * command (output written, errors included, as text for the user), 0 when
 * the command is not one of these (nothing written). */
int introspect_view_command(struct introspect_view *v, const char *cmd, struct introspect_out *out);
/* Help lines for `monitor help`, one per command, each ending in '\n'. */
const char *introspect_view_help(void);

/* Guest-virtual memory through the current page tables; with phys set,
 * addresses are guest-physical. All or nothing: -EFAULT if any byte is
 * unmapped or outside RAM. */
int introspect_view_read(struct introspect_view *v, uint64_t addr, void *buf, size_t len, int phys);
int introspect_view_write(struct introspect_view *v, uint64_t addr, const void *buf, size_t len,
			  int phys);
/* Translate one address: 0 and *pa, or -EFAULT with a reason in why. */
int introspect_view_translate(struct introspect_view *v, uint64_t va, uint64_t *pa, char *why,
			      size_t whylen);
/* Which handler interrupt vector goes to: where it starts, from the IDT
 * (through the current page tables) or, in real mode, the IVT. 0, or
 * -EFAULT (the table is not mapped) / -ENOENT (no such gate, not present).
 * The one lookup rrvm has: the debugger's interrupt-aware steps and the
 * replayer's (replay_set_handler_lookup) use it. */
int introspect_view_handler(struct introspect_view *v, int vector, uint64_t *addr);
/* The kernel's symbols, or NULL. */
const struct introspect_symtab *introspect_view_symbols(const struct introspect_view *v);

#endif
