/*
 * internal.h — declarations shared inside vmm/ only.
 *
 * struct vmm_machine is the part of the VM that needs no KVM: guest RAM,
 * the devices and the port dispatch table. Keeping it apart from the KVM
 * file descriptors lets the exit dispatcher and the loader be unit-tested
 * with fake exits and plain buffers.
 */
#ifndef RRVM_VMM_INTERNAL_H
#define RRVM_VMM_INTERNAL_H

#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <time.h>

#include "vmm/devices.h"
#include "vmm/vmm.h"

#define VMM_MAX_DEVICES 24
#define VMM_MAX_RANGES (VMM_MAX_DEVICES * VMM_DEVICE_MAX_RANGES)

/* One row of the machine's range table: which device's range r it is. */
struct vmm_range_row {
	uint8_t space;                  /* enum vmm_space */
	uint8_t dev;                    /* index in vmm_devices[] */
	uint8_t r;                      /* index in that device's ranges[] */
	uint64_t len;
};
#define VMM_PORT_NONE 0xff
#define VMM_CPU_MAX_MSRS 16

struct vmm_machine {
	uint8_t *ram;
	uint64_t ram_size;
	bool trace_io;

	struct vmm_clock clock;
	struct vmm_output output;
	struct vmm_bus bus;

	void *dev_state[VMM_MAX_DEVICES];       /* indexed like vmm_devices[] */
	struct vmm_range_row ranges[VMM_MAX_RANGES];
	unsigned nranges;
	int pic_index, uart_index, lapic_index, ioapic_index;
	/* Where the last acknowledged interrupt came from (enum
	 * vmm_irq_source, and the pin or IRQ), for the trace. */
	unsigned last_source, last_detail;

	bool exit_requested;            /* isa-debug-exit was written */
	uint32_t exit_value;

	/* vmm_mute_output_below: the machine's exit count (NULL: never mute). */
	const uint64_t *exit_count;
	uint64_t mute_below;
};

/* machine.c */
int vmm_machine_init(struct vmm_machine *m, uint8_t *ram, uint64_t ram_size,
		     const struct vmm_clock *clock, const struct vmm_output *output,
		     bool trace_io, struct vmm_error *err) VMM_MUST_CHECK;
void vmm_machine_fini(struct vmm_machine *m);
/* Give the devices that report it the machine's configuration (fw_cfg). */
void vmm_machine_configure(struct vmm_machine *m, uint64_t ram_size, const char *cmdline);
/* Handle the I/O, MMIO or MSR part of a KVM exit. Pure: touches only the
 * machine and the kvm_run buffer. Fills ev->kind/ev->u and returns true
 * when the exit was an I/O, MMIO or MSR exit it consumed. */
bool vmm_machine_dispatch(struct vmm_machine *m, struct kvm_run *run, struct vmm_event *ev);
void vmm_machine_poll(struct vmm_machine *m);
uint64_t vmm_machine_deadline(const struct vmm_machine *m);
/* The vector the CPU would take now (VMM_LAPIC_NMI for an NMI) or -1, and
 * its acknowledge. */
int vmm_machine_pending(const struct vmm_machine *m);
int vmm_machine_ack(struct vmm_machine *m);
/* One access through the range table (what dispatch does per item):
 * unclaimed ports and MMIO read as all ones and ignore writes, unclaimed
 * MSRs fault; --trace-io logs them. */
void vmm_machine_access(struct vmm_machine *m, struct vmm_io *io);
/* The device index that owns space:addr now, or -1. */
int vmm_machine_owner(const struct vmm_machine *m, unsigned space, uint64_t addr);

/* multiboot.c: the Multiboot v1 loader, on a plain RAM buffer. */
#define VMM_MB_MAX_SEGMENTS 16
#define VMM_MEM_BELOW_APIC 0xfec00000ull /* RAM must end below the APIC pages */
#define VMM_MB_INFO_SIZE 0x8000ull      /* the boot info area, after the kernel */
#define VMM_FW_AREA_BASE 0xe0000ull     /* firmware area: the ACPI tables */
#define VMM_FW_AREA_END 0x100000ull

struct vmm_mb_segment {
	uint64_t paddr, filesz, memsz, offset;
};
struct vmm_mb_image {
	uint32_t header_flags;
	uint64_t entry;                 /* physical */
	unsigned nseg;
	struct vmm_mb_segment seg[VMM_MB_MAX_SEGMENTS];
};
/* Validate a kernel image held in memory. path is only used in messages. */
int vmm_multiboot_parse(const uint8_t *file, size_t len, uint64_t ram_size, const char *path,
			struct vmm_mb_image *img, struct vmm_error *err) VMM_MUST_CHECK;
/* Copy the segments into ram, build the Multiboot info with the memory map
 * and cmdline; *info_addr receives its guest-physical address: the first
 * page after the kernel's highest byte, as QEMU places it (never over a
 * segment, nor over the firmware area). */
int vmm_multiboot_load(const struct vmm_mb_image *img, const uint8_t *file, uint8_t *ram,
		       uint64_t ram_size, const char *cmdline, uint32_t *info_addr,
		       struct vmm_error *err) VMM_MUST_CHECK;

/* acpi.c: the ACPI tables a PC's firmware leaves in the firmware area
 * (RSDP, RSDT, XSDT, FADT with the PM timer, FACS, DSDT, MADT). */
int vmm_acpi_build(uint8_t *ram, uint64_t ram_size, struct vmm_error *err) VMM_MUST_CHECK;
/* Where the ACPI PM registers are (dev_acpipm.c) and the RSDP. */
#define VMM_ACPI_PM_BASE 0x600
#define VMM_ACPI_SCI_IRQ 9
#define VMM_ACPI_RSDP 0xf0000ull

/* One memory slot of guest RAM: frames [first, first + frames). */
struct vmm_slot {
	uint64_t first, frames;
	bool ro;                        /* write-protected (KVM_MEM_READONLY) */
};
#define VMM_SLOTS_MAX (2 * VMM_PROTECT_MAX + 1)

struct vmm {
	struct vmm_machine m;
	int kvm_fd, vm_fd, vcpu_fd;
	struct kvm_run *run;
	size_t run_size;
	char *kernel_path;
	uint64_t exits;
	enum vmm_inject_mode inject_mode;
	bool halted;                    /* HLT exit, no entry since (vmm_halt_state) */
	bool sync_regs;
	/* run->s.regs holds the registers as KVM_GET_REGS would read them:
	 * set by a KVM_RUN that returned, cleared by anything that writes
	 * them (KVM_SET_REGS) and before the next entry. */
	bool regs_synced;
	/* The same for the segment and control registers (KVM_SYNC_X86_SREGS,
	 * when KVM offers it): vmm_cpl and vmm_get_sregs read them from there,
	 * saving a KVM_GET_SREGS per raw unit of a stepped replay. Cleared by
	 * KVM_SET_SREGS, a state restore and before the next entry. */
	bool sync_sregs, sregs_synced;
	bool user_msr;                  /* rdmsr/wrmsr of device MSRs come to us */
	bool exit_unfinished;           /* a port/MMIO exit KVM finishes at the next KVM_RUN */
	timer_t kick_timer;
	bool kick_timer_armed_valid;
	uint64_t kick_deadline;
	atomic_bool kick_requested;
	pthread_t vcpu_thread;
	uint64_t *dirty_bitmap;         /* scratch for KVM_GET_DIRTY_LOG */
	/* Guest RAM's memory slots (slot i is slots[i]) and the pages
	 * write-protected for a debugger (protect.c), sorted. */
	struct vmm_slot slots[VMM_SLOTS_MAX];
	unsigned nslots;
	uint64_t protected[VMM_PROTECT_MAX];
	unsigned nprotected;
	bool wp_lifted;                 /* a page is writable for this entry */
	bool wp_redeliver;              /* that entry was cut short: lift again */
	int (*wp_translate)(void *ctx, uint64_t va, uint64_t *pa);
	void *wp_translate_ctx;
	uint64_t *dirty_trackers[VMM_DIRTY_TRACKERS];

	/* Snapshots (snapshot.c). Fields above that define the guest's
	 * future (exits, inject_mode, the machine's exit request and device
	 * states) are saved there: a new such field must be added to
	 * struct vmm_snapshot too. */
	uint64_t *snap_dirty;           /* pages written since the last save or restore */
	struct vmm_pagemap *snap_base;  /* RAM's image at the last save or restore
					 * (held), or NULL */
	uint32_t msr_index[VMM_CPU_MAX_MSRS];   /* cpustate.c: MSRs to save */
	unsigned nmsrs;
	bool msrs_known;
};

/* protect.c: an MMIO exit at a write-protected page? Then complete it on
 * guest RAM, fill ev (VMM_EV_WRITE) and return true. */
bool vmm_protect_exit(struct vmm *vm, struct kvm_run *run, struct vmm_event *ev);
/* Around an entry that delivers an interrupt (see protect.c). */
int vmm_protect_before_entry(struct vmm *vm, bool delivers) VMM_MUST_CHECK;
int vmm_protect_after_entry(struct vmm *vm, bool kicked) VMM_MUST_CHECK;

/* kvm.c: rrvm itself wrote guest RAM [gpa, gpa+len): mark the pages for the
 * snapshots and every dirty tracker, as KVM's log does for guest writes. */
void vmm_ram_written(struct vmm *vm, uint64_t gpa, uint64_t len);

/* cpustate.c: the vCPU's whole state (see there for what "whole" is). */
struct vmm_cpu_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xsave xsave;
	struct kvm_xcrs xcrs;
	struct kvm_debugregs dregs;
	struct kvm_vcpu_events events;
	struct {                        /* laid out as struct kvm_msrs */
		uint32_t nmsrs, pad;
		struct kvm_msr_entry entries[VMM_CPU_MAX_MSRS];
	} msrs;
	uint8_t if_flag, ready_for_injection;   /* kvm_run's, from the last exit */
};
/* Each adds the vCPU ioctls it made to *ioctls. */
int vmm_cpu_state_get(struct vmm *vm, struct vmm_cpu_state *cs, unsigned *ioctls,
		      struct vmm_error *err) VMM_MUST_CHECK;
int vmm_cpu_state_set(struct vmm *vm, const struct vmm_cpu_state *cs, unsigned *ioctls,
		      struct vmm_error *err) VMM_MUST_CHECK;
/* The FXSAVE image (512 bytes) of an XSAVE area, host-specific bytes zeroed. */
void vmm_fxsave_image(const struct kvm_xsave *xs, uint8_t fxsave[512]);

/* pagestore.c: one more holder of the store (freed with the last). */
void vmm_pagestore_hold(struct vmm_pagestore *ps);

/* pagemap.c: frame -> page id maps, in leaves shared copy-on-write. */
struct vmm_pagemap;
/* Map RAM into ps: frames marked in dirty (or all, without a usable base:
 * NULL, or of another store or size) are read and stored, the others taken
 * from base. Frames marked in absent (may be NULL) are known to be zero
 * and are not read. Adds the frames read to *pages_read. */
int vmm_pagemap_capture(struct vmm_pagestore *ps, struct vmm_pagemap *base, const uint8_t *ram,
			uint64_t frames, const uint64_t *dirty, const uint64_t *absent,
			struct vmm_pagemap **out, uint64_t *pages_read) VMM_MUST_CHECK;
void vmm_pagemap_hold(struct vmm_pagemap *m);
void vmm_pagemap_drop(struct vmm_pagemap *m);
struct vmm_pagestore *vmm_pagemap_store(const struct vmm_pagemap *m);
/* Make RAM, whose image is base apart from the frames marked in dirty,
 * equal to target: rewrite the frames that differ, calling written() for
 * each (frames marked in absent, which may be NULL, are known zero).
 * Counts the frames compared and written. */
void vmm_pagemap_apply(const struct vmm_pagemap *target, const struct vmm_pagemap *base, uint8_t *ram,
		       const uint64_t *dirty, const uint64_t *absent,
		       void (*written)(void *ctx, uint64_t frame), void *ctx, uint64_t *compared,
		       uint64_t *nwritten);
/* What dropping the map's last holder would free: pages and map bytes
 * held by it alone (0 when the map itself is shared). */
int vmm_pagemap_own(const struct vmm_pagemap *m, uint64_t *pages, uint64_t *bytes) VMM_MUST_CHECK;
/* snapshot.c: drop the machine's base image (vmm_destroy). */
void vmm_snapshot_forget(struct vmm *vm);

/* cpu.c */
int vmm_cpu_init(struct vmm *vm, uint32_t entry, uint32_t info_addr, struct vmm_error *err) VMM_MUST_CHECK;
int vmm_kick_init(struct vmm *vm, struct vmm_error *err) VMM_MUST_CHECK;
int vmm_msr_setup(struct vmm *vm, struct vmm_error *err) VMM_MUST_CHECK;
void vmm_kick_fini(struct vmm *vm);
/* Finish the last exit if KVM has not yet (see cpu.c): after this the
 * vCPU's registers and memory are the guest's. Counts its ioctl. */
int vmm_cpu_settle(struct vmm *vm, unsigned *ioctls, struct vmm_error *err) VMM_MUST_CHECK;
/* cpuid.c */
int vmm_cpuid_apply(struct vmm *vm, struct vmm_error *err) VMM_MUST_CHECK;

#endif
