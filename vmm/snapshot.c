/*
 * snapshot.c — saving the whole machine and putting it back: the vCPU
 * (cpustate.c), the machine's own state, every device of the device table,
 * and guest RAM through the content-addressed page store (pagestore.c).
 * The contract is in vmm.h.
 *
 * Memory. A snapshot maps every guest frame to a page id. The machine
 * remembers the map of RAM's image at its last save or restore (its
 * "base", ids held) and a bitmap of pages written since (KVM's dirty log
 * drained into it, plus vmm_ram_written for rrvm's own writes). So a save
 * copies the base map and stores only the written pages, and a restore
 * rewrites only the frames that are written or whose id differs between
 * the base and the target: equal ids are equal contents, because ids are
 * content-addressed and held (never reused) while either map holds them.
 * Without a base in the same store everything is read (save) or compared
 * (restore), which is also what makes restoring into another machine work.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/internal.h"

struct vmm_snapshot {
	struct vmm_pagestore *ps;       /* held */
	uint64_t frames;
	uint32_t *map;                  /* page id per frame, each held */
	struct vmm_cpu_state cpu;
	/* struct vmm's and the machine's own state (see internal.h) */
	uint64_t exits;
	enum vmm_inject_mode inject_mode;
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

static void map_release(struct vmm_pagestore *ps, uint32_t *map, uint64_t frames)
{
	if (!map)
		return;
	for (uint64_t f = 0; f < frames; f++)
		vmm_pagestore_unref(ps, map[f]);
	free(map);
}

void vmm_snapshot_forget(struct vmm *vm)
{
	if (!vm->snap_base)
		return;
	map_release(vm->snap_store, vm->snap_base, frames_of(vm));
	vmm_pagestore_free(vm->snap_store);
	vm->snap_base = NULL;
	vm->snap_store = NULL;
}

/* The machine's image is now map (in ps): hold a copy as the base. */
static int set_base(struct vmm *vm, struct vmm_pagestore *ps, const uint32_t *map)
{
	uint64_t frames = frames_of(vm);
	uint32_t *copy = malloc(frames * sizeof(*copy));

	if (!copy)
		return -ENOMEM;
	for (uint64_t f = 0; f < frames; f++) {
		copy[f] = map[f];
		vmm_pagestore_ref(ps, map[f]);
	}
	vmm_snapshot_forget(vm);
	vmm_pagestore_hold(ps);
	vm->snap_store = ps;
	vm->snap_base = copy;
	memset(vm->snap_dirty, 0, vmm_dirty_words(vm) * sizeof(uint64_t));
	return 0;
}

static bool frame_dirty(const struct vmm *vm, uint64_t f)
{
	return (vm->snap_dirty[f / 64] >> (f % 64)) & 1;
}

static int save_memory(struct vmm *vm, struct vmm_snapshot *s, struct vmm_error *err)
{
	bool incremental = vm->snap_base && vm->snap_store == s->ps;
	struct vmm_pagestore_stats before, after;

	vmm_pagestore_stats(s->ps, &before);
	for (uint64_t f = 0; f < s->frames; f++) {
		if (incremental && !frame_dirty(vm, f)) {
			s->map[f] = vm->snap_base[f];
			vmm_pagestore_ref(s->ps, s->map[f]);
			continue;
		}
		s->info.pages_read++;
		if (vmm_pagestore_put(s->ps, vm->m.ram + f * VMM_PAGE_SIZE, &s->map[f])) {
			/* The frames not yet filled are 0, which holds nothing. */
			vmm_error_set(err, "out of memory storing guest page 0x%llx of a snapshot",
				      (unsigned long long)f);
			return -ENOMEM;
		}
	}
	vmm_pagestore_stats(s->ps, &after);
	s->info.pages_new = after.pages - before.pages;
	s->info.full = !incremental;
	return 0;
}

int vmm_snapshot_save(struct vmm *vm, struct vmm_pagestore *ps, struct vmm_snapshot **out,
		      struct vmm_error *err)
{
	struct vmm_snapshot *s;
	int rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s) {
		vmm_error_set(err, "out of memory for a snapshot");
		return -ENOMEM;
	}
	vmm_pagestore_hold(ps);
	s->ps = ps;
	s->frames = frames_of(vm);
	s->ndevices = vmm_device_count;
	s->dev_bytes = device_bytes();
	s->map = calloc(s->frames, sizeof(*s->map));
	s->dev = malloc(s->dev_bytes ? s->dev_bytes : 1);
	if (!s->map || !s->dev) {
		vmm_error_set(err, "out of memory for a snapshot of %llu pages",
			      (unsigned long long)s->frames);
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
	rc = save_memory(vm, s, err);
	if (rc)
		goto fail;
	rc = set_base(vm, ps, s->map);
	if (rc) {
		vmm_error_set(err, "out of memory for the machine's page map");
		goto fail;
	}
	s->exits = vm->exits;
	s->inject_mode = vm->inject_mode;
	s->exit_requested = vm->m.exit_requested;
	s->exit_value = vm->m.exit_value;
	for (unsigned i = 0, off = 0; i < vmm_device_count; off += vmm_devices[i]->state_size, i++)
		memcpy(s->dev + off, vm->m.dev_state[i], vmm_devices[i]->state_size);
	s->info.exits = s->exits;
	s->info.frames = s->frames;
	s->info.state_bytes = sizeof(*s) + s->frames * sizeof(*s->map) + s->dev_bytes;
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
	map_release(s->ps, s->map, s->frames);
	free(s->dev);
	vmm_pagestore_free(s->ps);
	free(s);
}

static int cmp_id(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

void vmm_snapshot_info(const struct vmm_snapshot *s, struct vmm_snapshot_info *info)
{
	uint32_t *ids = malloc(s->frames * sizeof(*ids));

	*info = s->info;
	info->pages_unique = 0;
	if (!ids) {
		info->pages_unique = UINT64_MAX;        /* unknown */
		return;
	}
	/* A page is this snapshot's alone when every reference to it is a
	 * frame of this map: count each id's frames in sorted order. */
	memcpy(ids, s->map, s->frames * sizeof(*ids));
	qsort(ids, s->frames, sizeof(*ids), cmp_id);
	for (uint64_t f = 0, run; f < s->frames; f += run) {
		for (run = 1; f + run < s->frames && ids[f + run] == ids[f]; run++)
			;
		info->pages_unique += vmm_pagestore_refs(s->ps, ids[f]) == run;
	}
	free(ids);
}

/* Rewrite the frames of RAM that differ from s, marking each for the
 * trackers; the base and the written-pages bitmap say which may differ. */
static void restore_memory(struct vmm *vm, const struct vmm_snapshot *s,
			   struct vmm_restore_stats *st)
{
	bool incremental = vm->snap_base && vm->snap_store == s->ps;

	for (uint64_t f = 0; f < s->frames; f++) {
		uint8_t *page = vm->m.ram + f * VMM_PAGE_SIZE;
		const uint8_t *want;

		if (incremental && !frame_dirty(vm, f) && vm->snap_base[f] == s->map[f])
			continue;
		st->pages_compared++;
		want = vmm_pagestore_data(s->ps, s->map[f]);
		if (memcmp(page, want, VMM_PAGE_SIZE) == 0)
			continue;
		memcpy(page, want, VMM_PAGE_SIZE);
		vmm_ram_written(vm, f * VMM_PAGE_SIZE, VMM_PAGE_SIZE);
		st->pages_written++;
	}
}

int vmm_snapshot_restore(struct vmm *vm, const struct vmm_snapshot *s,
			 struct vmm_restore_stats *stats, struct vmm_error *err)
{
	struct vmm_restore_stats local = { 0 };
	struct vmm_restore_stats *st = stats ? stats : &local;
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
	restore_memory(vm, s, st);
	rc = set_base(vm, s->ps, s->map);
	if (rc) {
		/* RAM is right; only the next save cannot be incremental. */
		vmm_snapshot_forget(vm);
		memset(vm->snap_dirty, 0xff, vmm_dirty_words(vm) * sizeof(uint64_t));
	}
	vm->exits = s->exits;
	vm->inject_mode = s->inject_mode;
	vm->m.exit_requested = s->exit_requested;
	vm->m.exit_value = s->exit_value;
	for (unsigned i = 0, off = 0; i < vmm_device_count; off += vmm_devices[i]->state_size, i++)
		memcpy(vm->m.dev_state[i], s->dev + off, vmm_devices[i]->state_size);
	return 0;
}
