/*
 * snapshot.c — saving the whole machine and putting it back: the vCPU
 * (cpustate.c), the machine's own state, every device of the device table,
 * and guest RAM through the content-addressed page store (pagestore.c).
 * The contract is in vmm.h.
 *
 * Memory. A snapshot holds a page map (pagemap.c) into the
 * content-addressed store (pagestore.c). The machine keeps the map of
 * RAM's image at its last save or restore (its "base") and a bitmap of the
 * pages written since (KVM's dirty log drained into it, plus
 * vmm_ram_written for rrvm's own writes). So a save stores only the
 * written pages and shares the rest of the base's map, and a restore
 * rewrites only the frames that are written or whose page differs between
 * the base and the target. Without a base in the same store everything is
 * read (save) or compared (restore), which also makes restoring into
 * another machine work.
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/internal.h"

struct vmm_snapshot {
	struct vmm_pagemap *map;        /* held */
	uint64_t frames;
	struct vmm_cpu_state cpu;
	/* struct vmm's and the machine's own state (see internal.h) */
	uint64_t exits;
	enum vmm_inject_mode inject_mode;
	bool halted;                    /* stopped at a HLT exit (vmm_halt_state) */
	bool exit_requested;
	uint32_t exit_value;
	/* every device of vmm_devices[], state_size bytes each, in order */
	unsigned ndevices;
	size_t dev_bytes;
	uint8_t *dev;
	struct vmm_snapshot_info info;
};

static uint64_t frames_of(const struct vmm *vm)
{
	return vm->m.ram_size / VMM_PAGE_SIZE;
}

static size_t device_bytes(void)
{
	size_t n = 0;

	for (unsigned i = 0; i < vmm_device_count; i++)
		n += vmm_devices[i]->state_size;
	return n;
}

/* Frames of RAM the host has never backed (neither present nor swapped
 * out, /proc/self/pagemap): the private anonymous mapping kvm.c makes
 * reads them as zero. A full save or restore then skips them instead of
 * faulting every page of a mostly empty guest in (about 60 ms for 64 MiB
 * here). NULL when the kernel does not tell: then everything is read,
 * which is never wrong. */
static uint64_t *absent_frames(const struct vmm *vm)
{
	uint64_t frames = frames_of(vm), *absent, *entries;
	off_t at = (off_t)((uintptr_t)vm->m.ram / VMM_PAGE_SIZE * sizeof(uint64_t));
	size_t len = frames * sizeof(uint64_t), got = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	absent = calloc(vmm_dirty_words(vm), sizeof(uint64_t));
	entries = malloc(len);
	while (absent && entries && got < len) {
		ssize_t n = pread(fd, (uint8_t *)entries + got, len - got, at + (off_t)got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!absent || !entries || got < len) {
		free(absent);
		free(entries);
		return NULL;
	}
	for (uint64_t f = 0; f < frames; f++)
		if (!(entries[f] >> 62))        /* bit 63 present, bit 62 swapped */
			absent[f / 64] |= 1ull << (f % 64);
	free(entries);
	return absent;
}

void vmm_snapshot_forget(struct vmm *vm)
{
	vmm_pagemap_drop(vm->snap_base);
	vm->snap_base = NULL;
}

/* RAM's image is now map, and nothing is written since. */
static void set_base(struct vmm *vm, struct vmm_pagemap *map)
{
	vmm_pagemap_hold(map);
	vmm_snapshot_forget(vm);
	vm->snap_base = map;
	memset(vm->snap_dirty, 0, vmm_dirty_words(vm) * sizeof(uint64_t));
}

struct vmm_pagestore *vmm_snapshot_store(const struct vmm *vm)
{
	return vm->snap_base ? vmm_pagemap_store(vm->snap_base) : NULL;
}

int vmm_snapshot_save(struct vmm *vm, struct vmm_pagestore *ps, struct vmm_snapshot **out,
		      struct vmm_error *err)
{
	struct vmm_pagestore_stats before, after;
	struct vmm_snapshot *s;
	uint64_t *absent;
	int rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s) {
		vmm_error_set(err, "out of memory for a snapshot");
		return -ENOMEM;
	}
	s->frames = frames_of(vm);
	s->ndevices = vmm_device_count;
	s->dev_bytes = device_bytes();
	s->dev = malloc(s->dev_bytes ? s->dev_bytes : 1);
	if (!s->dev) {
		vmm_error_set(err, "out of memory for a snapshot");
		rc = -ENOMEM;
		goto fail;
	}
	rc = vmm_cpu_settle(vm, &s->info.ioctls, err);
	if (rc)
		goto fail;
	rc = vmm_cpu_state_get(vm, &s->cpu, &s->info.ioctls, err);
	if (rc)
		goto fail;
	/* Bring KVM's log of guest writes into the bitmap the save reads. */
	s->info.ioctls++;
	rc = vmm_dirty_collect(vm, NULL);
	if (rc) {
		vmm_error_set(err, "KVM_GET_DIRTY_LOG: %s", strerror(-rc));
		goto fail;
	}
	s->info.full = !vm->snap_base || vmm_pagemap_store(vm->snap_base) != ps;
	absent = s->info.full ? absent_frames(vm) : NULL;
	vmm_pagestore_stats(ps, &before);
	rc = vmm_pagemap_capture(ps, vm->snap_base, vm->m.ram, s->frames, vm->snap_dirty, absent,
				 &s->map, &s->info.pages_read);
	free(absent);
	if (rc) {
		vmm_error_set(err, "out of memory storing the %llu MiB of guest RAM of a snapshot",
			      (unsigned long long)(vm->m.ram_size >> 20));
		goto fail;
	}
	vmm_pagestore_stats(ps, &after);
	/* Each frame is read at most once, and only frames read are new. */
	VMM_CHECK(vm, s->info.pages_read <= s->frames && after.pages - before.pages <= s->info.pages_read,
		  "a save read %" PRIu64 " of %" PRIu64 " frames and added %" PRIu64 " pages",
		  s->info.pages_read, s->frames, after.pages - before.pages);
	s->info.pages_new = after.pages - before.pages;
	set_base(vm, s->map);
	s->exits = vm->exits;
	s->inject_mode = vm->inject_mode;
	s->halted = vm->halted;
	s->exit_requested = vm->m.exit_requested;
	s->exit_value = vm->m.exit_value;
	for (unsigned i = 0, off = 0; i < vmm_device_count; off += vmm_devices[i]->state_size, i++)
		memcpy(s->dev + off, vm->m.dev_state[i], vmm_devices[i]->state_size);
	s->info.exits = s->exits;
	s->info.frames = s->frames;
	*out = s;
	return 0;
fail:
	vmm_snapshot_free(s);
	return rc;
}

void vmm_snapshot_free(struct vmm_snapshot *s)
{
	if (!s)
		return;
	vmm_pagemap_drop(s->map);
	free(s->dev);
	free(s);
}

void vmm_snapshot_info(const struct vmm_snapshot *s, struct vmm_snapshot_info *info)
{
	uint64_t map_bytes = 0;

	*info = s->info;
	if (vmm_pagemap_own(s->map, &info->pages_unique, &map_bytes))
		info->pages_unique = UINT64_MAX;        /* unknown: out of memory */
	info->state_bytes = sizeof(*s) + s->dev_bytes + map_bytes;
}

static void mark_written(void *ctx, uint64_t frame)
{
	vmm_ram_written(ctx, frame * VMM_PAGE_SIZE, VMM_PAGE_SIZE);
}

int vmm_snapshot_restore(struct vmm *vm, const struct vmm_snapshot *s,
			 struct vmm_restore_stats *stats, struct vmm_error *err)
{
	struct vmm_restore_stats local = { 0 };
	struct vmm_restore_stats *st = stats ? stats : &local;
	uint64_t *absent;
	int rc;

	memset(st, 0, sizeof(*st));
	if (s->frames != frames_of(vm)) {
		vmm_error_set(err, "the snapshot is of a machine with %llu MiB of RAM, this one has "
			      "%llu MiB", (unsigned long long)(s->frames * VMM_PAGE_SIZE >> 20),
			      (unsigned long long)(vm->m.ram_size >> 20));
		return -EINVAL;
	}
	if (s->ndevices != vmm_device_count || s->dev_bytes != device_bytes()) {
		vmm_error_set(err, "the snapshot's devices (%u, %zu bytes of state) are not this "
			      "machine's (%u, %zu bytes)", s->ndevices, s->dev_bytes,
			      vmm_device_count, device_bytes());
		return -EINVAL;
	}
	/* An unfinished exit would be finished on top of the restored state
	 * (an IN's value written over RAX): finish it now. Then guest writes
	 * not yet collected go to the trackers, before the pages change
	 * under them, and not after as writes of the target's. */
	rc = vmm_cpu_settle(vm, &st->ioctls, err);
	if (rc)
		return rc;
	st->ioctls++;
	rc = vmm_dirty_collect(vm, NULL);
	if (rc) {
		vmm_error_set(err, "KVM_GET_DIRTY_LOG: %s", strerror(-rc));
		return rc;
	}
	rc = vmm_cpu_state_set(vm, &s->cpu, &st->ioctls, err);
	if (rc)
		return rc;
	absent = !vm->snap_base || vmm_pagemap_store(vm->snap_base) != vmm_pagemap_store(s->map)
		 ? absent_frames(vm) : NULL;
	vmm_pagemap_apply(s->map, vm->snap_base, vm->m.ram, vm->snap_dirty, absent, mark_written, vm,
			  &st->pages_compared, &st->pages_written);
	free(absent);
	set_base(vm, s->map);
	vm->exits = s->exits;
	vm->inject_mode = s->inject_mode;
	vm->halted = s->halted;
	vm->m.exit_requested = s->exit_requested;
	vm->m.exit_value = s->exit_value;
	for (unsigned i = 0, off = 0; i < vmm_device_count; off += vmm_devices[i]->state_size, i++)
		memcpy(vm->m.dev_state[i], s->dev + off, vmm_devices[i]->state_size);
	return 0;
}
